"""Security groups for pods: what the VPC resource controller (and its pod webhook) does.

Modelled on https://github.com/aws/amazon-vpc-resource-controller-k8s (read at b8d4251, April
2026; paths below are in that repository) and the EKS user guide pages "Assign
security groups to individual Pods" (https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html),
"Configure the Amazon VPC CNI plugin for Kubernetes for security groups for Amazon EKS Pods"
(security-groups-pods-deployment.html) and "Use a security group policy for an Amazon EKS Pod"
(sg-pods-example-deployment.html):

  * Webhook (webhooks/core/pod_webhook.go): on pod CREATE only, a pod that is not hostNetwork
    and matches a SecurityGroupPolicy of its namespace gets `vpc.amazonaws.com/pod-eni: "1"` in
    the limits and requests of its first container. Pods created before the policy keep running
    without (the user guide: redeploy them). Matching (pkg/utils/helper.go,
    filterPodSecurityGroups): a policy needs a podSelector or a serviceAccountSelector and a
    non-empty securityGroups.groupIds; every selector it has must match (the pod's labels, the
    labels of the pod's ServiceAccount); the groups of all matching policies are joined.
  * Trunk (pkg/provider/branch/trunk/trunk.go, InitTrunk): with ENABLE_POD_ENI=true on a node
    whose instance type supports trunking (pkg/aws/vpc/limits.go) and with a free ENI slot, one
    ENI of InterfaceType "trunk", description "aws-k8s-trunk-eni", in the node's current subnet
    (the ENIConfig's under custom networking) with its security groups, attached to the
    instance; the node gets `vpc.amazonaws.com/has-trunk-attached=true` (amazon-vpc-cni-k8s
    README, ENABLE_POD_ENI) and allocatable `vpc.amazonaws.com/pod-eni` = the type's branch limit.
  * Branch (CreateAndAssociateBranchENIs, pkg/aws/ec2/api/helper.go): per pod, an ENI with
    description "aws-k8s-branch-eni" in the same current subnet, with the matching policies'
    groups (the node's when none match any more), tagged vpcresources.k8s.aws/vlan-id,
    vpcresources.k8s.aws/trunk-eni-id, node.k8s.amazonaws.com/instance_id,
    eks:eni:owner=eks-vpc-resource-controller and kubernetes.io/cluster/<cluster>=owned
    (pkg/config/type.go); VLAN ids 1..121 per trunk. The pod is annotated
    `vpc.amazonaws.com/pod-eni` with the JSON of ENIDetails
    ([{"eniId","ifAddress","privateIp","ipv6Addr","vlanId","subnetCidr","subnetV6Cidr","associationID"}]);
    its IP is the branch ENI's. Events SecurityGroupRequested and ResourceAllocated
    (pkg/provider/branch/provider.go).
  * Deletion: a deleted pod's branch ENI is deleted after the cool-down (60 s,
    pkg/provider/branch/cooldown; the profile's `branch_eni.cooldown`, 0 in profile none); a
    node that goes away takes its trunk and all its branch ENIs with it (DeleteAllBranchENIs).

Leave-behind switch (what makes real destroys stall on DependencyViolation): a fault rule with
`"service": "vpc-resource-controller", "operation": "DeleteNetworkInterface"` (any error code;
`times`/`nth`/`probability` as usual) makes the controller fail that deletion and give up (its
MaxDeleteRetries): the branch ENI stays in EC2, detached (status available), with its tags.

moto stores no trunk associations and ignores InterfaceType at create, so the type and the
"in-use" status of branch ENIs are set on moto's model (dataplane_cni.Ec2.set_model).
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass

from .dataplane_cni import CniNode, Ec2, pod_subnet
from .dataplane_sched import selector_matches

RESOURCE = "vpc.amazonaws.com/pod-eni"
ANNOTATION = "vpc.amazonaws.com/pod-eni"
TRUNK_LABEL = "vpc.amazonaws.com/has-trunk-attached"
TRUNK_DESCRIPTION = "aws-k8s-trunk-eni"
BRANCH_DESCRIPTION = "aws-k8s-branch-eni"
FAULT_SERVICE, FAULT_OPERATION = "vpc-resource-controller", "DeleteNetworkInterface"
MAX_VLANS = 121

# Branch ENIs per instance type, from the controller's limits table (pkg/aws/vpc/limits.go,
# BranchInterface). Types not listed: burstable (t*) and pre-Nitro families none; other
# families by size, as the table has them for c5/m5/r5/m6i.
BRANCH_INTERFACES = {
    "c5.large": 9, "c5.xlarge": 18, "c5.2xlarge": 38, "c5.4xlarge": 54, "c5.9xlarge": 54,
    "m5.large": 9, "m5.xlarge": 18, "m5.2xlarge": 38, "m5.4xlarge": 54,
    "r5.large": 9, "r5.xlarge": 18, "r5.2xlarge": 38, "c6i.large": 9, "m6i.large": 9, "m6i.xlarge": 18,
}
_BY_SIZE = {"large": 9, "xlarge": 18, "2xlarge": 38}


def branch_interfaces(instance_type: str) -> int:
    if instance_type in BRANCH_INTERFACES:
        return BRANCH_INTERFACES[instance_type]
    family, _, size = instance_type.partition(".")
    m = re.match(r"^[a-z]+(\d+)", family)
    if family.startswith("t") or not m or int(m.group(1)) < 5:
        return 0
    return _BY_SIZE.get(size, 54 if size.endswith("xlarge") else 0)


# ---------------------------------------------------------------- webhook


def matching_groups(pod: dict, policies: list[dict], service_accounts: dict[tuple[str, str], dict]) -> list[str]:
    meta = pod["metadata"]
    sa_name = (pod.get("spec") or {}).get("serviceAccountName") or "default"
    sa_labels = ((service_accounts.get((meta.get("namespace", ""), sa_name)) or {}).get("metadata") or {}).get("labels")
    groups: list[str] = []
    for p in policies:
        if p["metadata"].get("namespace") != meta.get("namespace"):
            continue
        spec = p.get("spec") or {}
        ids = (spec.get("securityGroups") or {}).get("groupIds") or []
        has_pod, has_sa = spec.get("podSelector") is not None, spec.get("serviceAccountSelector") is not None
        if (not has_pod and not has_sa) or not ids:
            continue
        if has_pod and not selector_matches(spec["podSelector"], meta.get("labels")):
            continue
        if has_sa and not selector_matches(spec["serviceAccountSelector"], sa_labels):
            continue
        groups += [g for g in ids if g not in groups]
    return groups


def mutate(pod: dict) -> None:
    """The webhook's change: the first container asks for one branch ENI."""
    containers = (pod.get("spec") or {}).get("containers") or []
    if not containers:
        return
    res = containers[0].setdefault("resources", {})
    res.setdefault("limits", {})[RESOURCE] = "1"
    res.setdefault("requests", {})[RESOURCE] = "1"


def wants_branch(pod: dict) -> bool:
    for c in (pod.get("spec") or {}).get("containers") or []:
        res = c.get("resources") or {}
        if RESOURCE in (res.get("limits") or {}) or RESOURCE in (res.get("requests") or {}):
            return True
    return False


# ---------------------------------------------------------------- controller


@dataclass
class Branch:
    eni_id: str
    ip: str
    mac: str
    vlan: int
    subnet_cidr: str
    groups: list[str]
    trunk_eni_id: str

    def annotation(self) -> str:
        # Go's json.Marshal of []ENIDetails: field order of the struct, compact.
        return json.dumps([{"eniId": self.eni_id, "ifAddress": self.mac, "privateIp": self.ip, "ipv6Addr": "",
                            "vlanId": self.vlan, "subnetCidr": self.subnet_cidr, "subnetV6Cidr": "",
                            "associationID": "trunk-assoc-" + self.eni_id.split("-", 1)[-1][:17]}],
                          separators=(",", ":"))


class BranchFailed(Exception):
    pass


class PodEniController:
    def __init__(self, ec2: Ec2, cluster_name: str, cooldown_s: float, faults=None, stopped=lambda: False):
        self.ec2 = ec2
        self.cluster_name = cluster_name
        self.cooldown_s = cooldown_s
        self.faults = faults
        self.stopped = stopped  # the cluster's double is gone (localcloud reset): timers do nothing
        self.lock = threading.Lock()
        self.cooling: dict[str, threading.Timer] = {}  # branch ENI id -> its pending deletion
        self.left_behind: list[str] = []
        self.closed = False

    def _tags(self, node: CniNode) -> dict[str, str]:
        return {"node.k8s.amazonaws.com/instance_id": node.instance_id,
                "eks:eni:owner": "eks-vpc-resource-controller",
                f"kubernetes.io/cluster/{self.cluster_name}": "owned"}

    def ensure_trunk(self, node: CniNode, node_obj: dict, eni_configs: dict[str, dict], instance_type: str) -> bool:
        if node.trunk_eni_id:
            return True
        if branch_interfaces(instance_type) == 0 or node.attached() >= node.max_enis:
            return False  # not a trunking type / "No slot available for a trunk ENI to be attached."
        subnet, groups = pod_subnet(node, node_obj, eni_configs) or (node.subnet_id, node.security_groups)
        eni = self.ec2.create_eni(subnet, groups, TRUNK_DESCRIPTION, self._tags(node), interface_type="trunk")
        if eni is None:
            return False
        index = node.next_device_index
        node.next_device_index += 1
        self.ec2.attach(eni["NetworkInterfaceId"], node.instance_id, index)
        node.trunk_eni_id = eni["NetworkInterfaceId"]
        return True

    def create_branch(self, node: CniNode, node_obj: dict, eni_configs: dict[str, dict], groups: list[str],
                      used_vlans: set[int]) -> Branch:
        if not node.trunk_eni_id:
            raise BranchFailed(f"trunk not found for node {node_obj['metadata']['name']}")
        vlan = next((v for v in range(1, MAX_VLANS + 1) if v not in used_vlans), None)
        if vlan is None:
            raise BranchFailed("assigning vlan id, no free vlan id on the trunk")
        subnet_id, node_groups = pod_subnet(node, node_obj, eni_configs) or (node.subnet_id, node.security_groups)
        groups = groups or node_groups
        tags = {"vpcresources.k8s.aws/vlan-id": str(vlan), "vpcresources.k8s.aws/trunk-eni-id": node.trunk_eni_id,
                **self._tags(node)}
        eni = self.ec2.create_eni(subnet_id, groups, BRANCH_DESCRIPTION, tags, interface_type="branch")
        if eni is None:
            raise BranchFailed(f"creating network interface, no free address in {subnet_id}")
        self.ec2.set_model(eni["NetworkInterfaceId"], status="in-use")
        cidr = (self.ec2.subnet(subnet_id) or {}).get("CidrBlock", "")
        return Branch(eni["NetworkInterfaceId"], eni["PrivateIpAddress"], eni.get("MacAddress", ""), vlan, cidr,
                      list(groups), node.trunk_eni_id)

    # -- deletion

    def _delete(self, eni_id: str) -> None:
        with self.lock:
            self.cooling.pop(eni_id, None)
        rule = self.faults.match(FAULT_SERVICE, FAULT_OPERATION, exact_service=True) if self.faults else None
        if rule is not None:
            # The controller's DeleteNetworkInterface fails and it gives up: the ENI stays.
            self.ec2.set_model(eni_id, status="available")
            self.left_behind.append(eni_id)
            print(f"localcloud dataplane: left branch ENI {eni_id} behind ({rule.get('error')})", flush=True)
            return
        self.ec2.delete_eni(eni_id)

    def release(self, branch: Branch) -> None:
        """The pod is gone: delete its branch ENI after the cool-down."""
        if self.cooldown_s <= 0 or self.closed:
            self._delete(branch.eni_id)
            return
        timer = threading.Timer(self.cooldown_s, self._cooled, (branch.eni_id,))
        timer.daemon = True
        with self.lock:
            self.cooling[branch.eni_id] = timer
        timer.start()

    def _cooled(self, eni_id: str) -> None:
        if not self.closed and not self.stopped():
            self._delete(eni_id)

    def remove_node(self, node: CniNode, branches: list[Branch]) -> None:
        """The node is gone: its branch ENIs (also those cooling down) and its trunk go too."""
        for b in branches:
            self._delete(b.eni_id)
        with self.lock:
            cooling = list(self.cooling.items())
        for eni_id, timer in cooling:
            if node.trunk_eni_id and self._trunk_of(eni_id) == node.trunk_eni_id:
                timer.cancel()
                self._delete(eni_id)
        if node.trunk_eni_id:
            self.ec2.delete_eni(node.trunk_eni_id)
            node.trunk_eni_id = None

    def _trunk_of(self, eni_id: str) -> str | None:
        try:
            eni = self.ec2.client.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
        except Exception:
            return None
        return {t["Key"]: t["Value"] for t in eni.get("TagSet") or []}.get("vpcresources.k8s.aws/trunk-eni-id")

    def close(self) -> None:
        """The cluster is gone: what is still cooling down is deleted now."""
        self.closed = True
        with self.lock:
            cooling = list(self.cooling.items())
        for eni_id, timer in cooling:
            timer.cancel()
            self._delete(eni_id)
