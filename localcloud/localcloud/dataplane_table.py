"""Server-side printing of the kinds the data plane runs, with the columns kube-apiserver's
printers (pkg/printers/internalversion/printers.go) give them, so that `kubectl get pods -A -o
wide` shows READY, STATUS, RESTARTS, AGE, IP, NODE … as on a real cluster. Columns with
priority 1 appear only with `-o wide`.

kube_table.table() asks `TABLES` for a (columns, row function) pair by (group, plural).
"""

from __future__ import annotations

import datetime

from .kube_table import human_age


def _col(name: str, kind: str = "string", priority: int = 0, fmt: str = "") -> dict:
    return {"name": name, "type": kind, "format": fmt, "description": name, "priority": priority}


def _age(obj: dict) -> str:
    return human_age((obj.get("metadata") or {}).get("creationTimestamp"))


def pod_status_reason(pod: dict) -> str:
    """kubectl's STATUS column (printPod): the phase, refined by container states."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Pending"
    inits = status.get("initContainerStatuses") or []
    for i, c in enumerate(inits):
        state = c.get("state") or {}
        if (state.get("terminated") or {}).get("exitCode") == 0:
            continue
        if state.get("waiting") and state["waiting"].get("reason") not in (None, "PodInitializing"):
            return "Init:" + state["waiting"]["reason"]
        return f"Init:{i}/{len((pod.get('spec') or {}).get('initContainers') or [])}"
    for c in reversed(status.get("containerStatuses") or []):
        state = c.get("state") or {}
        if (state.get("waiting") or {}).get("reason"):
            reason = state["waiting"]["reason"]
        elif (state.get("terminated") or {}).get("reason"):
            reason = state["terminated"]["reason"]
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        reason = "Terminating"
    return reason


def _pod_row(pod: dict) -> list:
    status = pod.get("status") or {}
    containers = (pod.get("spec") or {}).get("containers") or []
    ready = len([c for c in status.get("containerStatuses") or [] if c.get("ready")])
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
    gates = (pod.get("spec") or {}).get("readinessGates") or []
    return [pod["metadata"]["name"], f"{ready}/{len(containers)}", pod_status_reason(pod), str(restarts), _age(pod),
            status.get("podIP") or "<none>", (pod.get("spec") or {}).get("nodeName") or "<none>",
            status.get("nominatedNodeName") or "<none>", f"{len(gates)}/{len(gates)}" if gates else "<none>"]


def _node_row(node: dict) -> list:
    status, meta = node.get("status") or {}, node["metadata"]
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    state = "Ready" if ready and ready.get("status") == "True" else "NotReady" if ready else "Unknown"
    if (node.get("spec") or {}).get("unschedulable"):
        state += ",SchedulingDisabled"
    roles = sorted(k.split("/", 1)[1] for k in meta.get("labels") or {} if k.startswith("node-role.kubernetes.io/"))
    addresses = {a.get("type"): a.get("address") for a in status.get("addresses") or []}
    info = status.get("nodeInfo") or {}
    return [meta["name"], state, ",".join(roles) or "<none>", _age(node), info.get("kubeletVersion", ""),
            addresses.get("InternalIP") or "<none>", addresses.get("ExternalIP") or "<none>", info.get("osImage", ""),
            info.get("kernelVersion", ""), info.get("containerRuntimeVersion", "")]


def _event_row(event: dict) -> list:
    involved = event.get("involvedObject") or {}
    last = event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp")
    return [event["metadata"]["name"], human_age(last), event.get("type", ""), event.get("reason", ""),
            f"{(involved.get('kind') or '').lower()}/{involved.get('name', '')}", event.get("message", "")]


def _images(obj: dict) -> tuple[str, str]:
    containers = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    return ",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers)


def _rs_row(rs: dict) -> list:
    status = rs.get("status") or {}
    names, images = _images(rs)
    selector = ",".join(f"{k}={v}" for k, v in (((rs.get("spec") or {}).get("selector") or {})
                                                  .get("matchLabels") or {}).items())
    return [rs["metadata"]["name"], (rs.get("spec") or {}).get("replicas", 1), status.get("replicas", 0),
            status.get("readyReplicas", 0), _age(rs), names, images, selector]


def _job_row(job: dict) -> list:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    done = any(c.get("type") == "Complete" and c.get("status") == "True" for c in status.get("conditions") or [])
    failed = any(c.get("type") == "Failed" and c.get("status") == "True" for c in status.get("conditions") or [])
    duration = ""
    if status.get("startTime"):
        fmt = "%Y-%m-%dT%H:%M:%SZ"
        start = datetime.datetime.strptime(status["startTime"], fmt)
        end = datetime.datetime.strptime(status["completionTime"], fmt) if status.get("completionTime") else \
            datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        duration = f"{max(0, int((end - start).total_seconds()))}s"
    names, images = _images(job)
    return [job["metadata"]["name"], "Complete" if done else "Failed" if failed else "Running",
            f"{status.get('succeeded', 0)}/{spec.get('completions', 1)}", duration, _age(job), names, images]


TABLES = {
    ("", "pods"): ([_col("Name", fmt="name"), _col("Ready"), _col("Status"), _col("Restarts"), _col("Age"),
                    _col("IP", priority=1), _col("Node", priority=1), _col("Nominated Node", priority=1),
                    _col("Readiness Gates", priority=1)], _pod_row),
    ("", "nodes"): ([_col("Name", fmt="name"), _col("Status"), _col("Roles"), _col("Age"), _col("Version"),
                     _col("Internal-IP", priority=1), _col("External-IP", priority=1), _col("OS-Image", priority=1),
                     _col("Kernel-Version", priority=1), _col("Container-Runtime", priority=1)], _node_row),
    ("", "events"): ([_col("Name", fmt="name", priority=1), _col("Last Seen"), _col("Type"), _col("Reason"),
                      _col("Object"), _col("Message")], _event_row),
    ("apps", "replicasets"): ([_col("Name", fmt="name"), _col("Desired", "integer"), _col("Current", "integer"),
                               _col("Ready", "integer"), _col("Age"), _col("Containers", priority=1),
                               _col("Images", priority=1), _col("Selector", priority=1)], _rs_row),
    ("batch", "jobs"): ([_col("Name", fmt="name"), _col("Status"), _col("Completions"), _col("Duration"),
                         _col("Age"), _col("Containers", priority=1), _col("Images", priority=1)], _job_row),
}
