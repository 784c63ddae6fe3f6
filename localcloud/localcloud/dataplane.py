"""A data plane for an EKS cluster's Kubernetes double: nodes, pods, pod addresses, pod ENIs.

eks.py attaches one `DataPlane` per cluster (`attach`) and tells it about nodegroups
(`sync_nodegroup` when a nodegroup becomes ACTIVE or finishes an update, `remove_nodegroup`
when it is gone, `detach` with the cluster). The data plane then plays, deterministically and
at once, the parts of EKS that run on and for the nodes:

  * managed nodegroup nodes: EC2 instances in moto (round-robin over the nodegroup's subnets /
    zones, tagged eks:cluster-name, eks:nodegroup-name, kubernetes.io/cluster/<name>=owned) and
    Node objects (Ready, labels as EKS sets them, InternalIP = the instance's primary address,
    allocatable from the instance type as the EKS AMI computes it); scaling adds/removes nodes,
    a version update replaces them, nodegroup deletion removes all (with their ENIs);
  * kube-controller-manager / kube-scheduler: dataplane_workloads.py, dataplane_sched.py;
  * the VPC CNI on each node: dataplane_cni.py (pod addresses from ENIs, custom networking);
  * the VPC resource controller: dataplane_sgp.py (trunk and branch ENIs, security groups for
    pods);
  * kubelet: pod status (Running with podIP/hostIP, or ContainerCreating with the CNI's
    FailedCreatePodSandBox event, or Pending with the scheduler's FailedScheduling event).

It runs as a reconcile step after every write to the cluster's store (the KubeApi verbs are
wrapped), after nodegroup transitions and when the vpc-cni add-on changes aws-node. Each pass
lists the objects, acts on differences only and repeats until a pass writes nothing. Workload
status that the double used to fake (kube_api.simulate_controller) comes from here: a
Deployment is available only when its pods run.

Sources for the behaviour modelled are cited in each module. Everything is deterministic: names
are hashes of uids, addresses are taken from the top of the subnet down, ties go by name.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import threading
import traceback
from dataclasses import dataclass, field

from . import dataplane_cni as cni
from . import dataplane_sched as sched
from . import dataplane_sgp as sgp
from . import dataplane_workloads as workloads
from .dataplane_sched import TERMINAL, choose, qos_class
from .kube_api import ApiError, now_rfc3339

MAX_PASSES = 64  # a pass that writes is followed by another; OrderedReady StatefulSets need one per pod
CONTAINER_RUNTIME = "containerd://1.7.27"
KERNEL = "6.1.134-152.225.amzn2023.x86_64"
OS_IMAGE = "Amazon Linux 2023.7.20250512"
KINDS = {  # Pass.objs key -> (apiVersion, kind)
    "nodes": ("v1", "Node"), "pods": ("v1", "Pod"), "serviceaccounts": ("v1", "ServiceAccount"),
    "deployments": ("apps/v1", "Deployment"), "replicasets": ("apps/v1", "ReplicaSet"),
    "statefulsets": ("apps/v1", "StatefulSet"), "daemonsets": ("apps/v1", "DaemonSet"), "jobs": ("batch/v1", "Job"),
    "eniconfigs": ("crd.k8s.amazonaws.com/v1alpha1", "ENIConfig"),
    "policies": ("vpcresources.k8s.aws/v1beta1", "SecurityGroupPolicy"),
}


# ---------------------------------------------------------------- hooks for eks.py


def attach(cluster, clients, profile, faults=None):
    """Give the cluster's Kubernetes double a data plane (after its KubeCluster started)."""
    if getattr(cluster, "kube", None) is None:
        return None
    dp = DataPlane(cluster.name, cluster.region, cluster.kube.api, clients,
                   profile.transition("branch_eni.cooldown"), faults)
    cluster.dataplane = dp
    dp.reconcile()
    return dp


def sync_nodegroup(cluster, nodegroup) -> None:
    dp = getattr(cluster, "dataplane", None)
    if dp is not None:
        dp.sync_nodegroup(cluster, nodegroup)


def eviction_blocked(cluster, nodegroup) -> list[str]:
    """Nodes of `nodegroup` a drain cannot empty: they hold a pod whose PodDisruptionBudget
    allows no disruption (see DataPlane.eviction_blocked)."""
    dp = getattr(cluster, "dataplane", None)
    return dp.eviction_blocked(nodegroup) if dp is not None else []


def _budget(value, expected: int) -> int:
    """An IntOrString of a PodDisruptionBudget: a count, or a percentage of the expected pods
    rounded up (Kubernetes disruption controller, getExpectedScale / GetScaledValueFromIntOrPercent)."""
    if isinstance(value, str) and value.endswith("%"):
        return -(-int(value[:-1]) * expected // 100)
    return int(value)


def disruptions_allowed(spec: dict, expected: int, healthy: int) -> int:
    """PodDisruptionBudget status.disruptionsAllowed: healthy pods minus the healthy pods the
    budget wants (minAvailable, or expected - maxUnavailable), never below 0
    (https://kubernetes.io/docs/tasks/run-application/configure-pdb/)."""
    if spec.get("maxUnavailable") is not None:
        wanted = expected - _budget(spec["maxUnavailable"], expected)
    elif spec.get("minAvailable") is not None:
        wanted = _budget(spec["minAvailable"], expected)
    else:
        wanted = expected  # an empty budget: nothing may go (minAvailable 100% by default)
    return max(healthy - wanted, 0)


def remove_nodegroup(cluster, nodegroup) -> None:
    dp = getattr(cluster, "dataplane", None)
    if dp is not None:
        dp.remove_nodegroup(nodegroup)


def detach(cluster) -> None:
    dp = getattr(cluster, "dataplane", None)
    if dp is not None:
        dp.close()
        cluster.dataplane = None


# ---------------------------------------------------------------- state


@dataclass
class NodeRec:
    name: str
    nodegroup: str
    instance_id: str
    instance_type: str
    ip: str
    zone: str
    version: str
    capacity_type: str
    cni: cni.CniNode
    labels: dict = field(default_factory=dict)  # the nodegroup's labels
    taints: list = field(default_factory=list)  # the nodegroup's taints
    created: str = ""
    applied_labels: set = field(default_factory=set)
    applied_taints: list = field(default_factory=list)


@dataclass
class PodNet:
    node: str
    kind: str  # "host" | "ip" | "branch"
    ip: str
    eni_id: str = ""
    branch: sgp.Branch | None = None


class Pass:
    """One reconcile pass: the listed objects plus the write helpers the controllers use."""

    def __init__(self, dp: "DataPlane"):
        self.dp = dp
        self.now = now_rfc3339()
        self.objs = {key: dp.list(*kind) for key, kind in KINDS.items()}
        self.seq = dp.seq

    def create(self, obj: dict, manager: str = workloads.MANAGER) -> dict | None:
        return self.dp.create(obj, manager)

    def create_pod(self, pod: dict) -> None:
        self.dp.create_pod(pod, self.objs)

    def merge(self, obj: dict, patch: dict, manager: str = workloads.MANAGER) -> None:
        self.dp.merge(obj, patch, manager)

    def delete(self, obj: dict) -> None:
        self.dp.delete(obj)

    def set_status(self, obj: dict, status: dict, manager: str = workloads.MANAGER) -> None:
        self.dp.set_status(obj, status, manager)

    def unique_name(self, owner: dict, prefix: str) -> str:
        taken = {p["metadata"]["name"] for p in self.objs["pods"]}
        uid = owner["metadata"]["uid"]
        while True:
            self.dp.counters[uid] = self.dp.counters.get(uid, 0) + 1
            name = prefix + workloads.safe_hash(f"{uid}/{self.dp.counters[uid]}", 5)
            if name not in taken:
                return name


class DataPlane:
    def __init__(self, cluster_name: str, region: str, api, clients, cooldown_s: float = 0.0, faults=None):
        self.cluster_name = cluster_name
        self.region = region
        self.api = api
        self.ec2 = cni.Ec2(clients, region)
        self.pod_enis = sgp.PodEniController(self.ec2, cluster_name, cooldown_s, faults, lambda: api.closed)
        self.lock = threading.RLock()
        self._local = threading.local()
        self.nodes: dict[str, NodeRec] = {}
        self.pods: dict[str, PodNet] = {}  # pod uid -> its network
        self.seen: set[str] = set()  # pod uids past admission (the SGP webhook)
        self.seq: dict[str, int] = {}  # pod uid -> creation order (ReplicaSet scale-down)
        self._next_seq = 0
        self.counters: dict[str, int] = {}
        self.events: dict[str, str] = {}  # event name -> message sent
        self.closed = False
        api.node_count = None  # kube_api.simulate_controller leaves workload status to us
        for verb in ("create", "replace", "patch", "delete", "delete_collection", "_finalize_namespace"):
            setattr(api, verb, self._after(getattr(api, verb)))

    # -- store access (writes go through the wrapped verbs; nested calls do not reconcile)

    def _after(self, fn):
        def wrapped(*args, **kwargs):
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            try:
                return fn(*args, **kwargs)
            finally:
                self._local.depth = depth
                if depth == 0:
                    self.reconcile()
        return wrapped

    def _rt(self, api_version: str, kind: str):
        try:
            return self.api.resource_type(api_version, kind)
        except ApiError:
            return None

    def list(self, api_version: str, kind: str) -> list[dict]:
        rt = self._rt(api_version, kind)
        return self.api.list(rt, None)["items"] if rt else []

    def get(self, api_version: str, kind: str, namespace: str | None, name: str) -> dict | None:
        rt = self._rt(api_version, kind)
        try:
            return self.api.get(rt, namespace, name) if rt else None
        except ApiError:
            return None

    def create(self, obj: dict, manager: str) -> dict | None:
        rt = self._rt(obj["apiVersion"], obj["kind"])
        try:
            return self.api.create(rt, obj["metadata"].get("namespace"), obj, manager)
        except ApiError as e:
            if e.code != 409:
                print(f"localcloud dataplane: create {obj['kind']} {obj['metadata'].get('name')}: {e.message}", flush=True)
            return None

    def merge(self, obj: dict, patch: dict, manager: str) -> dict | None:
        rt = self._rt(obj["apiVersion"], obj["kind"])
        try:
            return self.api.patch(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"],
                                  "application/merge-patch+json", patch, manager)[0]
        except ApiError:
            return None

    def delete(self, obj: dict) -> None:
        rt = self._rt(obj["apiVersion"], obj["kind"])
        try:
            self.api.delete(rt, obj["metadata"].get("namespace"), obj["metadata"]["name"])
        except ApiError:
            pass

    def set_status(self, obj: dict, status: dict, manager: str) -> None:
        if obj.get("status") == status:
            return
        rt = self._rt(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        body = {"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                "metadata": {"name": meta["name"], **({"namespace": meta["namespace"]} if meta.get("namespace") else {})},
                "status": status}
        try:
            self.api.replace(rt, meta.get("namespace"), meta["name"], body, manager, subresource="status")
        except ApiError:
            pass

    def event(self, obj: dict, reason: str, message: str, type_: str = "Normal", component: str = "kubelet",
              host: str | None = None) -> None:
        meta = obj["metadata"]
        name = f"{meta['name']}.{hashlib.sha256((meta['uid'] + reason).encode()).hexdigest()[:16]}"
        if self.events.get(name) == message:
            return
        now = now_rfc3339()
        old = self.get("v1", "Event", meta["namespace"], name) if name in self.events else None
        self.events[name] = message
        if old is not None:
            self.merge(old, {"message": message, "count": old.get("count", 1) + 1, "lastTimestamp": now}, component)
            return
        source = {"component": component, **({"host": host} if host else {})}
        self.create({"apiVersion": "v1", "kind": "Event",
                     "metadata": {"name": name, "namespace": meta["namespace"]},
                     "involvedObject": {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"],
                                        "namespace": meta["namespace"], "uid": meta["uid"]},
                     "reason": reason, "message": message, "type": type_, "source": source, "count": 1,
                     "firstTimestamp": now, "lastTimestamp": now, "reportingComponent": component,
                     "reportingInstance": host or ""}, component)

    # -- reconcile

    @contextlib.contextmanager
    def _quiet(self, what: str):
        """Holds the lock; writes made meanwhile do not start a reconcile; errors are logged."""
        with self.lock:
            depth = getattr(self._local, "depth", 0)
            self._local.depth = depth + 1
            try:
                yield
            except Exception:
                print(f"localcloud dataplane: {what} failed:\n" + traceback.format_exc(), flush=True)
            finally:
                self._local.depth = depth

    def reconcile(self) -> None:
        if self.closed or self.api.closed:
            return
        with self._quiet("reconcile"):
            for _ in range(MAX_PASSES):
                before = self.api.rv
                self._pass()
                if self.api.rv == before:
                    break

    def _pass(self) -> None:
        cx = Pass(self)
        env = cni.aws_node_env(next((d for d in cx.objs["daemonsets"] if d["metadata"]["name"] == "aws-node"
                                     and d["metadata"]["namespace"] == "kube-system"), None))
        eni_configs = {e["metadata"]["name"]: e for e in cx.objs["eniconfigs"]}
        self._sync_nodes(cx, env, eni_configs)
        self._forget_gone_pods(cx)
        self._admit(cx)
        for step in (workloads.collect_garbage, workloads.deployments, workloads.replicasets,
                     workloads.statefulsets, workloads.daemonsets, workloads.jobs):
            step(cx)
            cx.objs["pods"] = self.list("v1", "Pod")
            cx.objs["replicasets"] = self.list("apps/v1", "ReplicaSet")
        self._schedule(cx)
        self._run_pods(cx, env, eni_configs)
        cx.objs["pods"] = self.list("v1", "Pod")
        workloads.statuses(cx)

    # -- nodes

    def _node_status(self, rec: NodeRec, trunk: bool, previous: dict | None) -> dict:
        lim = self.ec2.limits(rec.instance_type)
        max_pods = min(lim["max_enis"] * (lim["ipv4_per_eni"] - 1) + 2, 110 if lim["vcpus"] < 30 else 250)
        # kube-reserved as the EKS AMI computes it: cpu 6% of the first core, 1% of the second,
        # 0.5% of cores 3-4, 0.25% beyond; memory 255Mi + 11Mi per pod; eviction at 100Mi.
        cores = lim["vcpus"]
        reserved_m = 60 + (10 if cores > 1 else 0) + 5 * max(0, min(cores, 4) - 2) + 2.5 * max(0, cores - 4)
        memory_ki = lim["memory_mib"] * 1024
        allocatable_ki = memory_ki - (255 + 11 * max_pods + 100) * 1024
        capacity = {"cpu": str(cores), "ephemeral-storage": "20959212Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0",
                    "memory": f"{memory_ki}Ki", "pods": str(max_pods)}
        allocatable = {**capacity, "cpu": f"{int(cores * 1000 - reserved_m)}m", "ephemeral-storage": "18242267924",
                       "memory": f"{allocatable_ki}Ki"}
        if trunk:
            capacity[sgp.RESOURCE] = allocatable[sgp.RESOURCE] = str(sgp.branch_interfaces(rec.instance_type))
        ready = {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status"}
        wanted = [
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
             "message": "kubelet has sufficient memory available"},
            {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
             "message": "kubelet has no disk pressure"},
            {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
             "message": "kubelet has sufficient PID available"},
            ready,
        ]
        dns = f"ip-{rec.ip.replace('.', '-')}.{self.region}.compute.internal"
        return {
            "addresses": [{"type": "InternalIP", "address": rec.ip}, {"type": "InternalDNS", "address": dns},
                          {"type": "Hostname", "address": dns}],
            "allocatable": allocatable, "capacity": capacity,
            "conditions": workloads.conditions(previous, wanted, rec.created, ("lastHeartbeatTime", "lastTransitionTime")),
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {"architecture": "amd64", "bootID": _uuidish(rec.instance_id + "boot"),
                         "containerRuntimeVersion": CONTAINER_RUNTIME, "kernelVersion": KERNEL,
                         "kubeProxyVersion": f"v{rec.version}.0-eks-localcloud",
                         "kubeletVersion": f"v{rec.version}.0-eks-localcloud",
                         "machineID": hashlib.md5(rec.instance_id.encode()).hexdigest(), "operatingSystem": "linux",
                         "osImage": OS_IMAGE, "systemUUID": _uuidish(rec.instance_id)},
        }

    def _labels(self, rec: NodeRec, trunk: bool) -> dict:
        labels = {
            "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/instance-type": rec.instance_type,
            "beta.kubernetes.io/os": "linux", "eks.amazonaws.com/capacityType": rec.capacity_type,
            "eks.amazonaws.com/nodegroup": rec.nodegroup, "eks.amazonaws.com/nodegroup-image": "ami-12c6146b",
            "failure-domain.beta.kubernetes.io/region": self.region, "failure-domain.beta.kubernetes.io/zone": rec.zone,
            "k8s.io/cloud-provider-aws": hashlib.md5(self.cluster_name.encode()).hexdigest(),
            "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": rec.name, "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": rec.instance_type, "topology.kubernetes.io/region": self.region,
            "topology.kubernetes.io/zone": rec.zone, **rec.labels,
        }
        if trunk:
            labels[sgp.TRUNK_LABEL] = "true"
        return labels

    def _sync_nodes(self, cx: Pass, env: dict, eni_configs: dict) -> None:
        existing = {n["metadata"]["name"]: n for n in cx.objs["nodes"]}
        pod_eni = cni.truthy(env.get("ENABLE_POD_ENI"))
        for rec in sorted(self.nodes.values(), key=lambda r: r.name):
            obj = existing.get(rec.name)
            if obj is None:
                rec.applied_labels, rec.applied_taints = set(), list(rec.taints)
                obj = self.create({"apiVersion": "v1", "kind": "Node",
                                   "metadata": {"name": rec.name, "labels": self._labels(rec, False), "annotations": {
                                       "alpha.kubernetes.io/provided-node-ip": rec.ip, "node.alpha.kubernetes.io/ttl": "0",
                                       "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
                                   "spec": {"providerID": f"aws:///{rec.zone}/{rec.instance_id}",
                                            **({"taints": rec.taints} if rec.taints else {})}}, "kubelet")
                if obj is None:
                    continue
            if pod_eni:  # ipamd asks for a trunk; the resource controller attaches it
                self.pod_enis.ensure_trunk(rec.cni, obj, eni_configs, rec.instance_type)
            trunk = rec.cni.trunk_eni_id is not None
            # labels and taints this data plane set (kubelet, EKS): theirs kept current, others' left alone
            labels = self._labels(rec, trunk)
            current = obj["metadata"].get("labels") or {}
            patch = {k: v for k, v in labels.items() if current.get(k) != v}
            patch.update({k: None for k in rec.applied_labels - set(labels) if k in current})
            rec.applied_labels = set(labels)
            body = {}
            if patch:
                body["metadata"] = {"labels": patch}
            if rec.taints != rec.applied_taints:
                others = [t for t in (obj.get("spec") or {}).get("taints") or [] if t not in rec.applied_taints]
                body["spec"] = {"taints": (others + rec.taints) or None}
                rec.applied_taints = list(rec.taints)
            if body:
                obj = self.merge(obj, body, "kubelet") or obj
            self.set_status(obj, self._node_status(rec, trunk, obj.get("status")), "kubelet")
        for name, obj in existing.items():
            if name not in self.nodes and (obj["metadata"].get("labels") or {}).get("eks.amazonaws.com/nodegroup"):
                self.delete(obj)  # a managed node whose instance is gone
        cx.objs["nodes"] = self.list("v1", "Node")

    def sync_nodegroup(self, cluster, ng) -> None:
        """The nodegroup's nodes as its scaling config, version, labels and taints say."""
        with self._quiet("nodegroup sync"):
            self._sync_nodegroup(cluster, ng)
        self.reconcile()

    def _sync_nodegroup(self, cluster, ng) -> None:
        env = cni.aws_node_env(self.get("apps/v1", "DaemonSet", "kube-system", "aws-node"))
        taints = [{"key": t["key"], **({"value": t["value"]} if t.get("value") else {}),
                   "effect": {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute",
                              "PREFER_NO_SCHEDULE": "PreferNoSchedule"}.get(t.get("effect"), t.get("effect"))}
                  for t in ng.taints or []]
        known = {r.instance_id for r in self.nodes.values()}
        for iid in list(ng.instance_ids):
            if iid not in known:
                self._join(ng, self.ec2.instance(iid), env)
        mine = [r for r in self.nodes.values() if r.nodegroup == ng.name]
        for rec in mine:
            rec.labels, rec.taints = dict(ng.labels or {}), taints
        fresh = [r for r in mine if r.version == ng.version]
        stale = [r for r in mine if r.version != ng.version]
        desired = int((ng.scaling or {}).get("desiredSize", 0))
        subnets = list(ng.body.get("subnets") or [])
        zones = {s: (self.ec2.subnet(s) or {}).get("AvailabilityZone") for s in subnets}
        while len(fresh) < desired and subnets:
            per_zone = {s: len([r for r in fresh if r.cni.subnet_id == s]) for s in subnets}
            subnet = min(subnets, key=lambda s: (per_zone[s], subnets.index(s)))
            iid = self._run_instance(cluster, ng, subnet)
            if iid is None:
                break
            ng.instance_ids.append(iid)
            fresh.append(self._join(ng, self.ec2.instance(iid), env))
        for rec in stale:
            self._remove_node(rec, ng)
        while len(fresh) > desired:
            # scale-in: from the zone with the most nodes, the newest node first
            counts = {z: len([r for r in fresh if r.zone == z]) for z in zones.values()}
            victim = max(fresh, key=lambda r: (counts.get(r.zone, 0), r.created, r.name))
            fresh.remove(victim)
            self._remove_node(victim, ng)

    def _run_instance(self, cluster, ng, subnet: str) -> str | None:
        try:  # as eks.py launches a nodegroup's first nodes
            r = self.ec2.client.run_instances(
                ImageId="ami-12c6146b", MinCount=1, MaxCount=1, SubnetId=subnet,
                InstanceType=(ng.body.get("instanceTypes") or ["t3.medium"])[0], SecurityGroupIds=[cluster.sg_id],
                TagSpecifications=[{"ResourceType": "instance", "Tags": [
                    {"Key": "eks:cluster-name", "Value": cluster.name},
                    {"Key": "eks:nodegroup-name", "Value": ng.name},
                    {"Key": "kubernetes.io/cluster/" + cluster.name, "Value": "owned"}]}])
            return r["Instances"][0]["InstanceId"]
        except Exception as e:
            print(f"localcloud dataplane: could not launch a node for {ng.name}: {e!r}", flush=True)
            return None

    def _join(self, ng, instance: dict, env: dict) -> NodeRec:
        ip = instance["PrivateIpAddress"]
        rec = NodeRec(name=f"ip-{ip.replace('.', '-')}.{self.region}.compute.internal", nodegroup=ng.name,
                      instance_id=instance["InstanceId"], instance_type=instance["InstanceType"], ip=ip,
                      zone=instance["Placement"]["AvailabilityZone"], version=ng.version,
                      capacity_type=ng.body.get("capacityType", "ON_DEMAND"), cni=cni.join(self.ec2, instance, env),
                      labels=dict(ng.labels or {}), created=now_rfc3339())
        self.nodes[rec.name] = rec
        return rec

    def _remove_node(self, rec: NodeRec, ng=None, terminate: bool = True) -> None:
        """Drain (pods deleted; their controllers recreate them elsewhere), then the node's
        branch ENIs, trunk and secondary ENIs, the Node object and the instance."""
        branches = []
        for pod in self.list("v1", "Pod"):
            if (pod.get("spec") or {}).get("nodeName") == rec.name:
                net = self.pods.pop(pod["metadata"]["uid"], None)
                if net is not None and net.branch is not None:
                    branches.append(net.branch)
                self.delete(pod)
        for uid, net in list(self.pods.items()):
            if net.node == rec.name:
                self.pods.pop(uid)
                if net.branch is not None:
                    branches.append(net.branch)
        self.pod_enis.remove_node(rec.cni, branches)
        for eni in rec.cni.enis:
            if not eni.primary:
                self.ec2.delete_eni(eni.id)
        rec.cni.enis = [e for e in rec.cni.enis if e.primary]
        node = self.get("v1", "Node", None, rec.name)
        if node is not None:
            self.delete(node)
        if terminate:
            try:
                self.ec2.client.terminate_instances(InstanceIds=[rec.instance_id])
            except Exception:
                pass
            if ng is not None and rec.instance_id in ng.instance_ids:
                ng.instance_ids.remove(rec.instance_id)
        self.nodes.pop(rec.name, None)

    def eviction_blocked(self, ng) -> list[str]:
        """Nodes of `ng` holding a pod that a PodDisruptionBudget does not let go: a managed node
        update drains each old node through the eviction API, which honours the budgets; "If the
        Pods don't leave the node within 15 minutes and there's no force flag, the upgrade phase
        fails with a PodEvictionFailure error" (EKS user guide, managed-node-update-behavior:
        "Aggressive PDB is defined on the Pod")."""
        nodes = {r.name for r in self.nodes.values() if r.nodegroup == ng.name}
        pods = [p for p in self.list("v1", "Pod") if workloads.active(p)]
        blocked = set()
        for pdb in self.list("policy/v1", "PodDisruptionBudget"):
            ns, spec = pdb["metadata"].get("namespace"), pdb.get("spec") or {}
            matching = [p for p in pods if p["metadata"].get("namespace") == ns
                        and sched.selector_matches(spec.get("selector") or {}, p["metadata"].get("labels") or {})]
            healthy = sum(1 for p in matching if workloads.ready(p))
            if disruptions_allowed(spec, len(matching), healthy) < 1:
                blocked |= {(p.get("spec") or {}).get("nodeName") for p in matching} & nodes
        return sorted(blocked)

    def remove_nodegroup(self, ng) -> None:
        with self._quiet("nodegroup removal"):
            for rec in [r for r in self.nodes.values() if r.nodegroup == ng.name]:
                self._remove_node(rec, ng, terminate=False)  # eks.py terminates ng.instance_ids
        self.reconcile()

    def close(self) -> None:
        with self._quiet("close"):
            for rec in list(self.nodes.values()):
                self._remove_node(rec, terminate=False)
            self.pod_enis.close()
            self.closed = True

    # -- pods

    def _forget_gone_pods(self, cx: Pass) -> None:
        live = {p["metadata"]["uid"]: p for p in cx.objs["pods"]}
        for uid, net in list(self.pods.items()):
            pod = live.get(uid)
            if pod is not None and (pod.get("status") or {}).get("phase") not in TERMINAL:
                continue
            if pod is None:
                self.pods.pop(uid)
            if net.kind == "ip" and net.node in self.nodes:
                cni.release(self.ec2, self.nodes[net.node].cni, uid)
                net.kind = "released"
            elif net.kind == "branch" and net.branch is not None:
                self.pod_enis.release(net.branch)
                net.branch, net.kind = None, "released"
        self.seen &= set(live)
        for uid in [u for u in self.seq if u not in live]:
            del self.seq[uid]

    def _sequence(self, uid: str) -> None:
        if uid not in self.seq:
            self._next_seq += 1
            self.seq[uid] = self._next_seq

    def _admit(self, cx: Pass) -> None:
        """Admission for pods created by others (kubectl, eksnet): the SGP webhook's mutation."""
        for pod in cx.objs["pods"]:
            uid = pod["metadata"]["uid"]
            if uid in self.seen:
                continue
            self.seen.add(uid)
            self._sequence(uid)
            if (pod.get("spec") or {}).get("hostNetwork") or sgp.wants_branch(pod):
                continue
            if sgp.matching_groups(pod, cx.objs["policies"], self._service_accounts(cx)):
                patched = copy.deepcopy(pod)
                sgp.mutate(patched)
                self.merge(pod, {"spec": {"containers": patched["spec"]["containers"]}}, "vpc-resource-controller")

    @staticmethod
    def _service_accounts(cx: Pass) -> dict:
        return {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in cx.objs["serviceaccounts"]}

    def create_pod(self, pod: dict, objs: dict) -> None:
        """A controller's pod, through admission: the SGP webhook mutates it on create."""
        if not (pod.get("spec") or {}).get("hostNetwork") and \
                sgp.matching_groups(pod, objs["policies"], {(s["metadata"]["namespace"], s["metadata"]["name"]): s
                                                            for s in objs["serviceaccounts"]}):
            sgp.mutate(pod)
        created = self.create(pod, workloads.MANAGER)
        if created is not None:
            uid = created["metadata"]["uid"]
            self.seen.add(uid)
            self._sequence(uid)
            objs["pods"].append(created)

    def _schedule(self, cx: Pass) -> None:
        nodes = [n for n in cx.objs["nodes"] if _node_ready(n)]
        bound: dict[str, list[dict]] = {}
        for pod in cx.objs["pods"]:
            node = (pod.get("spec") or {}).get("nodeName")
            if node and workloads.active(pod):
                bound.setdefault(node, []).append(pod)
        pending = [p for p in cx.objs["pods"] if not (p.get("spec") or {}).get("nodeName") and workloads.active(p)]
        for pod in sorted(pending, key=lambda p: (self.seq.get(p["metadata"]["uid"], 0), p["metadata"]["name"])):
            if (pod.get("spec") or {}).get("schedulerName", "default-scheduler") != "default-scheduler":
                continue
            node, message = choose(pod, nodes, bound) if nodes else (None, "no nodes available to schedule pods")
            meta = pod["metadata"]
            if node is None:
                status = {"phase": "Pending", "qosClass": qos_class(pod), "conditions": workloads.conditions(
                    pod.get("status"), [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                         "reason": "Unschedulable", "message": message}], cx.now, ("lastTransitionTime",))}
                self.set_status(pod, status, "kube-scheduler")
                self.event(pod, "FailedScheduling", message, "Warning", "default-scheduler")
                continue
            name = node["metadata"]["name"]
            self.merge(pod, {"spec": {"nodeName": name}}, "kube-scheduler")
            bound.setdefault(name, []).append(pod)
            self.event(pod, "Scheduled", f"Successfully assigned {meta['namespace']}/{meta['name']} to {name}",
                       "Normal", "default-scheduler")
        cx.objs["pods"] = self.list("v1", "Pod")

    def _run_pods(self, cx: Pass, env: dict, eni_configs: dict) -> None:
        """kubelet + CNI: a sandbox (an address) for every bound pod, then its status."""
        policies, accounts = cx.objs["policies"], self._service_accounts(cx)
        nodes = {n["metadata"]["name"]: n for n in cx.objs["nodes"]}
        for pod in cx.objs["pods"]:
            meta, spec = pod["metadata"], pod.get("spec") or {}
            rec = self.nodes.get(spec.get("nodeName") or "")
            if rec is None or (not workloads.active(pod) and meta["uid"] not in self.pods):
                continue
            net = self.pods.get(meta["uid"])
            failure = None
            if net is None:
                try:
                    net = self._sandbox(pod, rec, nodes.get(rec.name) or {}, env, eni_configs, policies, accounts)
                except (cni.NoAddress, sgp.BranchFailed) as e:
                    failure = e
            if failure is not None:
                if isinstance(failure, sgp.BranchFailed):
                    self.event(pod, "BranchAllocationFailed", f"failed to allocate branch ENI to pod: {failure}",
                               "Warning", "vpc-resource-controller")
                self.event(pod, "FailedCreatePodSandBox",
                           "Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network "
                           f'for sandbox "{_hex(meta["uid"] + "sandbox")}": plugin type="aws-cni" name="aws-cni" '
                           f"failed (add): {cni.FAILED_TO_ASSIGN}", "Warning", "kubelet", rec.name)
                self.set_status(pod, self._pod_status(pod, rec, None, cx.now), "kubelet")
                continue
            self.pods[meta["uid"]] = net
            succeeded = (pod.get("status") or {}).get("phase") == "Succeeded"
            if _completes(pod) and not succeeded:
                # a Job's pod runs to completion at once; kubelet tears the sandbox down and the
                # CNI / the resource controller free its address / branch ENI
                succeeded = True
                if net.kind == "ip":
                    cni.release(self.ec2, rec.cni, meta["uid"])
                elif net.branch is not None:
                    self.pod_enis.release(net.branch)
                    net.branch = None
                net.kind = "released"
            self.set_status(pod, self._pod_status(pod, rec, net, cx.now, succeeded=succeeded), "kubelet")

    def _sandbox(self, pod, rec: NodeRec, node_obj: dict, env, eni_configs, policies, accounts) -> PodNet:
        meta = pod["metadata"]
        if (pod.get("spec") or {}).get("hostNetwork"):
            return PodNet(rec.name, "host", rec.ip)
        if sgp.wants_branch(pod):
            groups = sgp.matching_groups(pod, policies, accounts)
            if groups:
                self.event(pod, "SecurityGroupRequested", f"Pod will get the following Security Groups {groups}",
                           "Normal", "vpc-resource-controller")
            else:
                self.event(pod, "SecurityGroupRequested", "Pod will get the instance security group as the pod didn't "
                           "match any Security Group from SecurityGroupPolicy", "Warning", "vpc-resource-controller")
            used = {n.branch.vlan for n in self.pods.values() if n.branch is not None and n.node == rec.name}
            branch = self.pod_enis.create_branch(rec.cni, node_obj, eni_configs, groups, used)
            self.merge(pod, {"metadata": {"annotations": {sgp.ANNOTATION: branch.annotation()}}},
                       "vpc-resource-controller")
            self.event(pod, "ResourceAllocated", f"Allocated {branch.annotation()} to the pod", "Normal",
                       "vpc-resource-controller")
            return PodNet(rec.name, "branch", branch.ip, branch.eni_id, branch)
        ip, eni_id = cni.allocate(self.ec2, rec.cni, node_obj, meta["uid"], eni_configs, env)
        return PodNet(rec.name, "ip", ip, eni_id)

    def _pod_status(self, pod: dict, rec: NodeRec, net: PodNet | None, now: str, succeeded: bool = False) -> dict:
        prev = pod.get("status") or {}
        spec = pod.get("spec") or {}
        running = net is not None and not succeeded
        start = prev.get("startTime") or now
        previous = {(False, c["name"]): c for c in prev.get("containerStatuses") or []}
        previous.update({(True, c["name"]): c for c in prev.get("initContainerStatuses") or []})

        def container(c, init=False):
            old = (previous.get((init, c["name"])) or {}).get("state") or {}
            started_at = (old.get("running") or old.get("terminated") or {}).get("startedAt") or now
            finished_at = (old.get("terminated") or {}).get("finishedAt") or now
            s = {"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False,
                 "started": False, "restartCount": 0, "lastState": {}}
            if net is None:
                s["state"] = {"waiting": {"reason": "PodInitializing" if init or spec.get("initContainers")
                                          else "ContainerCreating"}}
                return s
            image = c.get("image", "")
            s["imageID"] = image.split(":")[0] + "@sha256:" + hashlib.sha256(image.encode()).hexdigest()
            s["containerID"] = "containerd://" + _hex(pod["metadata"]["uid"] + c["name"], 64)
            if init or succeeded:
                s["state"] = {"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": started_at,
                                             "finishedAt": finished_at, "containerID": s["containerID"]}}
            else:
                s.update(ready=True, started=True, state={"running": {"startedAt": started_at}})
            return s

        ready = running
        names = [c["name"] for c in spec.get("containers") or []]
        wanted = [
            {"type": "PodReadyToStartContainers", "status": "True" if net is not None else "False"},
            {"type": "Initialized", "status": "True" if net is not None or not spec.get("initContainers") else "False"},
            {"type": "Ready", "status": "True" if ready else "False",
             **({} if ready else {"reason": "PodCompleted" if succeeded else "ContainersNotReady",
                                  "message": "" if succeeded else f"containers with unready status: [{' '.join(names)}]"})},
            {"type": "ContainersReady", "status": "True" if ready else "False",
             **({} if ready else {"reason": "PodCompleted" if succeeded else "ContainersNotReady",
                                  "message": "" if succeeded else f"containers with unready status: [{' '.join(names)}]"})},
            {"type": "PodScheduled", "status": "True"},
        ]
        for c in wanted:
            c["lastProbeTime"] = None
            if "message" in c and not c["message"]:
                del c["message"]
        status = {
            "phase": "Succeeded" if succeeded else "Running" if running else "Pending",
            "conditions": workloads.conditions(prev, wanted, now, ("lastTransitionTime",)),
            "hostIP": rec.ip, "hostIPs": [{"ip": rec.ip}],
            "startTime": start, "qosClass": qos_class(pod),
            "containerStatuses": [container(c) for c in spec.get("containers") or []],
        }
        if spec.get("initContainers"):
            status["initContainerStatuses"] = [container(c, init=True) for c in spec["initContainers"]]
        if net is not None:
            status["podIP"], status["podIPs"] = net.ip, [{"ip": net.ip}]
        elif prev.get("podIP"):
            status["podIP"], status["podIPs"] = prev["podIP"], prev.get("podIPs")
        return status


def _completes(pod: dict) -> bool:
    return any(r.get("kind") == "Job" and r.get("controller") for r in pod["metadata"].get("ownerReferences") or [])


def _node_ready(node: dict) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (node.get("status") or {}).get("conditions") or [])


def _hex(text: str, n: int = 64) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def _uuidish(text: str) -> str:
    h = hashlib.md5(text.encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
