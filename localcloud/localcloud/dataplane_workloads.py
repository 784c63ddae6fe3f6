"""The kube-controller-manager's part of the data plane: workload controllers and their status.

Deployments (through ReplicaSets named <deployment>-<pod-template-hash>), ReplicaSets,
StatefulSets (<name>-<ordinal>, OrderedReady: the next pod only once the previous ones are
ready), DaemonSets (one pod per eligible node), Jobs (pods run to completion at once) and the
garbage collector (dependents of a deleted owner go; pods bound to a node that no longer
exists go, as PodGC does). Owner references, labels (pod-template-hash,
controller-revision-hash, pod-template-generation, job-name/controller-uid …) and status fields
follow what Kubernetes 1.32 sets. Changes roll out at once: a new template replaces all the old
pods in one go (no maxSurge/maxUnavailable pacing, no minReadySeconds, no progress deadline).

Every function takes the reconcile context `cx` (dataplane.Pass): its listed objects, its
store and its pod factory. Writes happen only when something differs, so a pass over a
settled cluster writes nothing.
"""

from __future__ import annotations

import copy
import hashlib
import json

from .dataplane_sched import TERMINAL, node_selected, untolerated

SAFE = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand.SafeEncodeString
MANAGER = "kube-controller-manager"
DS_TOLERATIONS = [  # what the DaemonSet controller adds to its pods (pkg/controller/daemon/util)
    {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"},
    {"key": "node.kubernetes.io/disk-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/memory-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/pid-pressure", "operator": "Exists", "effect": "NoSchedule"},
    {"key": "node.kubernetes.io/unschedulable", "operator": "Exists", "effect": "NoSchedule"},
]


def safe_hash(text: str, n: int) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(SAFE[b % len(SAFE)] for b in digest[:n])


def template_hash(template: dict) -> str:
    return safe_hash(json.dumps(template or {}, sort_keys=True), 10)


def owner_ref(obj: dict) -> dict:
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": obj["metadata"]["name"],
            "uid": obj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}


def controller_of(obj: dict) -> dict | None:
    return next((r for r in obj["metadata"].get("ownerReferences") or [] if r.get("controller")), None)


def owned_by(objs: list[dict], owner: dict) -> list[dict]:
    uid = owner["metadata"]["uid"]
    return [o for o in objs if (controller_of(o) or {}).get("uid") == uid]


def active(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") not in TERMINAL and not pod["metadata"].get("deletionTimestamp")


def ready(pod: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _replicas(obj: dict) -> int:
    value = (obj.get("spec") or {}).get("replicas")
    return 1 if value is None else int(value)


def _generation(obj: dict) -> int:
    return obj["metadata"].get("generation", 1)


def _nonzero(status: dict, keep: tuple[str, ...] = ()) -> dict:
    """Status ints are omitempty in the Go types, except those listed in `keep`."""
    return {k: v for k, v in status.items() if k in keep or v not in (0, None, [], {})}


def conditions(previous: dict | None, wanted: list[dict], now: str, stamps=("lastUpdateTime", "lastTransitionTime")) -> list[dict]:
    """Conditions keeping their timestamps while type, status and reason stay the same."""
    before = {c.get("type"): c for c in (previous or {}).get("conditions") or []}
    out = []
    for c in wanted:
        old = before.get(c["type"])
        same = old and old.get("status") == c["status"] and old.get("reason") == c.get("reason")
        out.append({**c, **{k: (old.get(k, now) if same else now) for k in stamps}})
    return out


# ---------------------------------------------------------------- garbage collection


def collect_garbage(cx) -> None:
    owners = {o["metadata"]["uid"] for kind in ("deployments", "replicasets", "statefulsets", "daemonsets", "jobs")
              for o in cx.objs[kind]}
    known_kinds = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"}
    for kind in ("replicasets", "pods"):
        for obj in cx.objs[kind]:
            refs = obj["metadata"].get("ownerReferences") or []
            if refs and all(r.get("kind") in known_kinds and r.get("uid") not in owners for r in refs):
                cx.delete(obj)
    node_names = {n["metadata"]["name"] for n in cx.objs["nodes"]}
    for pod in cx.objs["pods"]:
        bound = (pod.get("spec") or {}).get("nodeName")
        if bound and bound not in node_names:
            cx.delete(pod)


# ---------------------------------------------------------------- controllers


def deployments(cx) -> None:
    for d in cx.objs["deployments"]:
        spec = d.get("spec") or {}
        if spec.get("paused"):
            continue
        h = template_hash(spec.get("template"))
        owned = owned_by(cx.objs["replicasets"], d)
        current = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == h), None)
        want = _replicas(d)
        if current is None:
            revision = 1 + max([int((rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision", 0))
                                for rs in owned] or [0])
            template = copy.deepcopy(spec.get("template") or {})
            tmeta = template.setdefault("metadata", {})
            tmeta["labels"] = {**(tmeta.get("labels") or {}), "pod-template-hash": h}
            selector = copy.deepcopy(spec.get("selector") or {"matchLabels": dict(tmeta["labels"])})
            selector["matchLabels"] = {**(selector.get("matchLabels") or {}), "pod-template-hash": h}
            cx.create({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": f"{d['metadata']['name']}-{h}", "namespace": d["metadata"]["namespace"],
                             "labels": dict(tmeta["labels"]), "ownerReferences": [owner_ref(d)],
                             "annotations": {"deployment.kubernetes.io/desired-replicas": str(want),
                                             "deployment.kubernetes.io/max-replicas": str(want + max(1, want // 4)),
                                             "deployment.kubernetes.io/revision": str(revision)}},
                "spec": {"replicas": want, "selector": selector, "template": template},
            })
        elif _replicas(current) != want:
            cx.merge(current, {"spec": {"replicas": want},
                               "metadata": {"annotations": {"deployment.kubernetes.io/desired-replicas": str(want)}}})
        for old in owned:
            if old is not current and _replicas(old) != 0:
                cx.merge(old, {"spec": {"replicas": 0}})


def _pod_from_template(owner: dict, template: dict, name: str, labels: dict, node_name: str | None = None,
                       extra_spec: dict | None = None) -> dict:
    template = copy.deepcopy(template or {})
    tmeta = template.get("metadata") or {}
    spec = template.get("spec") or {}
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("serviceAccountName", spec.get("serviceAccount") or "default")
    spec.setdefault("serviceAccount", spec["serviceAccountName"])
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("enableServiceLinks", True)
    spec.setdefault("securityContext", {})
    spec.setdefault("priority", 0)
    tolerations = spec.setdefault("tolerations", [])
    for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
        if not any(t.get("key") == key and t.get("effect") == "NoExecute" for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300})
    for c in spec.get("containers") or []:
        c.setdefault("imagePullPolicy", "Always" if c.get("image", "").endswith(":latest") or ":" not in
                     c.get("image", "").rsplit("/", 1)[-1] else "IfNotPresent")
        c.setdefault("resources", {})
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
    spec.update(extra_spec or {})
    if node_name:
        spec["nodeName"] = node_name
    meta = {"name": name, "namespace": owner["metadata"]["namespace"],
            "labels": {**(tmeta.get("labels") or {}), **labels}, "ownerReferences": [owner_ref(owner)]}
    if tmeta.get("annotations"):
        meta["annotations"] = dict(tmeta["annotations"])
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _scale_down_order(pod: dict, seq: dict[str, int]):
    """ReplicaSet victims first: unscheduled, not running, not ready, then the newest."""
    status = pod.get("status") or {}
    return (bool((pod.get("spec") or {}).get("nodeName")), status.get("phase") == "Running", ready(pod),
            -seq.get(pod["metadata"]["uid"], 0))


def replicasets(cx) -> None:
    for rs in cx.objs["replicasets"]:
        pods = [p for p in owned_by(cx.objs["pods"], rs) if active(p)]
        want = _replicas(rs)
        for _ in range(want - len(pods)):
            name = cx.unique_name(rs, rs["metadata"]["name"] + "-")
            cx.create_pod(_pod_from_template(rs, rs["spec"].get("template"), name, {}))
        if len(pods) > want:
            for victim in sorted(pods, key=lambda p: _scale_down_order(p, cx.seq))[: len(pods) - want]:
                cx.delete(victim)


def statefulsets(cx) -> None:
    for sts in cx.objs["statefulsets"]:
        spec = sts.get("spec") or {}
        name = sts["metadata"]["name"]
        revision = f"{name}-{template_hash(spec.get('template'))}"
        pods = {p["metadata"]["name"]: p for p in owned_by(cx.objs["pods"], sts) if active(p)}
        want = _replicas(sts)
        parallel = spec.get("podManagementPolicy") == "Parallel"
        on_delete = (spec.get("updateStrategy") or {}).get("type") == "OnDelete"
        for i in range(want):
            pod = pods.get(f"{name}-{i}")
            if pod is None:
                if not parallel and not all(f"{name}-{j}" in pods and ready(pods[f"{name}-{j}"]) for j in range(i)):
                    break  # OrderedReady: one pod per pass, once all before it are ready
                labels = {"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": f"{name}-{i}",
                          "apps.kubernetes.io/pod-index": str(i)}
                extra = {"hostname": f"{name}-{i}"}
                if spec.get("serviceName"):
                    extra["subdomain"] = spec["serviceName"]
                cx.create_pod(_pod_from_template(sts, spec.get("template"), f"{name}-{i}", labels, extra_spec=extra))
            elif not on_delete and (pod["metadata"].get("labels") or {}).get("controller-revision-hash") != revision:
                cx.delete(pod)
        for pod_name, pod in sorted(pods.items(), key=lambda kv: -int(kv[0].rsplit("-", 1)[-1])):
            if int(pod_name.rsplit("-", 1)[-1]) >= want:
                cx.delete(pod)


def daemonset_nodes(ds: dict, nodes: list[dict]) -> list[dict]:
    tspec = copy.deepcopy(((ds.get("spec") or {}).get("template") or {}).get("spec") or {})
    tspec["tolerations"] = list(tspec.get("tolerations") or []) + DS_TOLERATIONS
    return [n for n in nodes if node_selected(tspec, n) and untolerated(tspec, n) is None]


def daemonsets(cx) -> None:
    for ds in cx.objs["daemonsets"]:
        generation = str(_generation(ds))
        eligible = {n["metadata"]["name"] for n in daemonset_nodes(ds, cx.objs["nodes"])}
        pods = [p for p in owned_by(cx.objs["pods"], ds) if active(p)]
        covered = set()
        for pod in pods:
            node = (pod.get("spec") or {}).get("nodeName")
            if node not in eligible or node in covered or \
                    (pod["metadata"].get("labels") or {}).get("pod-template-generation") != generation:
                cx.delete(pod)
            else:
                covered.add(node)
        template = (ds.get("spec") or {}).get("template") or {}
        for node in sorted(eligible - covered):
            labels = {"controller-revision-hash": template_hash(template), "pod-template-generation": generation}
            affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}}
            name = ds["metadata"]["name"] + "-" + safe_hash(f"{ds['metadata']['uid']}/{node}/{generation}", 5)
            pod = _pod_from_template(ds, template, name, labels, node_name=node, extra_spec={"affinity": affinity})
            pod["spec"]["tolerations"] += [t for t in DS_TOLERATIONS if t not in pod["spec"]["tolerations"]]
            cx.create_pod(pod)


def jobs(cx) -> None:
    for job in cx.objs["jobs"]:
        spec = job.get("spec") or {}
        if spec.get("suspend"):
            continue
        completions = spec.get("completions")
        completions = 1 if completions is None else int(completions)
        parallelism = int(spec.get("parallelism", 1))
        pods = owned_by(cx.objs["pods"], job)
        succeeded = len([p for p in pods if (p.get("status") or {}).get("phase") == "Succeeded"])
        running = len([p for p in pods if active(p)])
        uid, name = job["metadata"]["uid"], job["metadata"]["name"]
        labels = {"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": name,
                  "controller-uid": uid, "job-name": name}
        for _ in range(max(0, min(parallelism - running, completions - succeeded - running))):
            template = copy.deepcopy(spec.get("template") or {})
            template.setdefault("spec", {}).setdefault("restartPolicy", "Never")
            cx.create_pod(_pod_from_template(job, template, cx.unique_name(job, name + "-"), labels))


# ---------------------------------------------------------------- status


def _max_unavailable(d: dict, want: int) -> int:
    value = (((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return int(want * int(value[:-1]) / 100)
    return int(value)


def statuses(cx) -> None:
    now = cx.now
    pods = cx.objs["pods"]
    for rs in cx.objs["replicasets"]:
        mine = [p for p in owned_by(pods, rs) if active(p)]
        n_ready = len([p for p in mine if ready(p)])
        cx.set_status(rs, _nonzero({"replicas": len(mine), "fullyLabeledReplicas": len(mine), "readyReplicas": n_ready,
                                    "availableReplicas": n_ready, "observedGeneration": _generation(rs)},
                                   keep=("replicas",)))
    for d in cx.objs["deployments"]:
        want = _replicas(d)
        h = template_hash((d.get("spec") or {}).get("template"))
        owned = owned_by(cx.objs["replicasets"], d)
        mine = [p for rs in owned for p in owned_by(pods, rs) if active(p)]
        updated = [p for p in mine if (p["metadata"].get("labels") or {}).get("pod-template-hash") == h]
        n_ready = len([p for p in mine if ready(p)])
        current = next((rs for rs in owned if (rs["metadata"].get("labels") or {}).get("pod-template-hash") == h), None)
        rs_name = current["metadata"]["name"] if current else f"{d['metadata']['name']}-{h}"
        available = n_ready >= want - _max_unavailable(d, want)
        done = len(updated) == want == len(mine) and n_ready >= want
        wanted = [
            {"type": "Available", "status": "True" if available else "False",
             "reason": "MinimumReplicasAvailable" if available else "MinimumReplicasUnavailable",
             "message": "Deployment has minimum availability." if available else
             "Deployment does not have minimum availability."},
            {"type": "Progressing", "status": "True",
             "reason": "NewReplicaSetAvailable" if done else "ReplicaSetUpdated",
             "message": f'ReplicaSet "{rs_name}" has successfully progressed.' if done else
             f'ReplicaSet "{rs_name}" is progressing.'},
        ]
        status = _nonzero({"observedGeneration": _generation(d), "replicas": len(mine), "updatedReplicas": len(updated),
                           "readyReplicas": n_ready, "availableReplicas": n_ready,
                           "unavailableReplicas": max(want - n_ready, 0)})
        status["conditions"] = conditions(d.get("status"), wanted, now)
        cx.set_status(d, status)
    for sts in cx.objs["statefulsets"]:
        name = sts["metadata"]["name"]
        revision = f"{name}-{template_hash((sts.get('spec') or {}).get('template'))}"
        mine = [p for p in owned_by(pods, sts) if active(p)]
        n_ready = len([p for p in mine if ready(p)])
        current = len([p for p in mine if (p["metadata"].get("labels") or {}).get("controller-revision-hash") == revision])
        cx.set_status(sts, _nonzero({"observedGeneration": _generation(sts), "replicas": len(mine), "readyReplicas": n_ready,
                                     "currentReplicas": current, "updatedReplicas": current, "availableReplicas": n_ready,
                                     "currentRevision": revision, "updateRevision": revision, "collisionCount": 0},
                                    keep=("replicas", "collisionCount")))
    for ds in cx.objs["daemonsets"]:
        generation = str(_generation(ds))
        eligible = {n["metadata"]["name"] for n in daemonset_nodes(ds, cx.objs["nodes"])}
        mine = [p for p in owned_by(pods, ds) if active(p)]
        scheduled = {p["spec"].get("nodeName") for p in mine if p["spec"].get("nodeName") in eligible}
        n_ready = len({p["spec"].get("nodeName") for p in mine if ready(p)})
        updated = len([p for p in mine if (p["metadata"].get("labels") or {}).get("pod-template-generation") == generation])
        cx.set_status(ds, _nonzero({"observedGeneration": _generation(ds), "currentNumberScheduled": len(scheduled),
                                    "desiredNumberScheduled": len(eligible), "numberMisscheduled": 0,
                                    "numberReady": n_ready, "numberAvailable": n_ready, "updatedNumberScheduled": updated,
                                    "numberUnavailable": max(len(eligible) - n_ready, 0)},
                                   keep=("currentNumberScheduled", "desiredNumberScheduled", "numberMisscheduled",
                                         "numberReady", "observedGeneration")))
    for job in cx.objs["jobs"]:
        spec = job.get("spec") or {}
        completions = 1 if spec.get("completions") is None else int(spec["completions"])
        mine = owned_by(pods, job)
        succeeded = len([p for p in mine if (p.get("status") or {}).get("phase") == "Succeeded"])
        running = [p for p in mine if active(p)]
        prev = job.get("status") or {}
        status = _nonzero({"active": len(running), "succeeded": succeeded})
        status.update({"ready": len([p for p in running if ready(p)]), "terminating": 0, "uncountedTerminatedPods": {}})
        if mine or prev.get("startTime"):
            status["startTime"] = prev.get("startTime") or now
        if succeeded >= completions:
            status["completionTime"] = prev.get("completionTime") or now
            status["conditions"] = conditions(prev, [
                {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached",
                 "message": "Reached expected number of succeeded pods"},
                {"type": "Complete", "status": "True", "reason": "CompletionsReached",
                 "message": "Reached expected number of succeeded pods"},
            ], now, stamps=("lastProbeTime", "lastTransitionTime"))
        cx.set_status(job, status)
