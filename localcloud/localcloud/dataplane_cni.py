"""What the Amazon VPC CNI (aws-node / ipamd) does for pod addresses, on moto's EC2.

Modelled on https://github.com/aws/amazon-vpc-cni-k8s (read at b521883, August 2026: pkg/ipamd,
pkg/awsutils, pkg/eniconfig, cmd/routed-eni-cni-plugin) and the EKS user
guide pages "Amazon VPC CNI" and "Customize the secondary network interface in Amazon EKS nodes"
(https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html):

  * A pod (not hostNetwork, no branch ENI) gets a secondary private IPv4 address of one of its
    node's ENIs, assigned in EC2 (AssignPrivateIpAddresses), so the subnet's
    AvailableIpAddressCount really goes down; the address is unassigned when the pod is gone.
  * An ENI gives `Ipv4AddressesPerInterface - 1` pod addresses (its primary address is the
    ENI's own); a node attaches at most `MaximumNetworkInterfaces` ENIs (DescribeInstanceTypes).
  * Without custom networking the primary ENI (the node's subnet and security groups) serves
    pods first, then new ENIs in the node's subnet with the primary ENI's security groups.
  * With AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true the primary ENI serves no pods; every pod ENI
    is created in the subnet of the node's ENIConfig, with the ENIConfig's security groups (the
    primary ENI's when it lists none). The ENIConfig is named by the node's label
    ENI_CONFIG_LABEL_DEF (default k8s.amazonaws.com/eniConfig), else the annotation
    ENI_CONFIG_ANNOTATION_DEF, else "default" (pkg/eniconfig/eniconfig.go). ipamd reads these
    when it starts, so a node keeps the mode it joined with; the user guide says to replace
    nodes after turning custom networking on.
  * A trunk ENI (security groups for pods) takes one of the node's ENI slots.
  * Secondary ENIs: description "aws-K8S-<instance id>", tags node.k8s.amazonaws.com/instance_id,
    node.k8s.amazonaws.com/createdAt, and cluster.k8s.amazonaws.com/name when CLUSTER_NAME is
    set (pkg/awsutils/awsutils.go, buildENITags), plus ADDITIONAL_ENI_TAGS.
  * When no address can be had, the CNI plugin fails the sandbox with
    "add cmd: failed to assign an IP address to container" (cmd/routed-eni-cni-plugin/cni.go).

Not modelled: warm pools (WARM_ENI_TARGET, WARM_IP_TARGET, MINIMUM_IP_TARGET: addresses are
taken one per pod, on demand, and ENIs stay attached until the node goes), prefix delegation,
IPv6, multiple network cards, SNAT, leaked-ENI cleanup.

Addresses are chosen deterministically from the top of the subnet down (moto hands instance
addresses out from the bottom up), skipping every address an ENI in the subnet already holds.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from dataclasses import dataclass, field

ACCOUNT = "123456789012"  # moto's default account (eks.py uses the same)
FAILED_TO_ASSIGN = "add cmd: failed to assign an IP address to container"
DEFAULT_ENI_CONFIG_DEF = "k8s.amazonaws.com/eniConfig"

# DescribeInstanceTypes answers for types moto does not know: a c5.large.
FALLBACK_LIMITS = {"max_enis": 3, "ipv4_per_eni": 10, "vcpus": 2, "memory_mib": 4096}


class NoAddress(Exception):
    """ipamd could not give the pod an address (the reason goes to the log, not the event)."""


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


@dataclass
class PodEni:
    id: str
    subnet_id: str
    cidr: str
    device_index: int
    primary: bool = False
    pod_ips: dict[str, str] = field(default_factory=dict)  # address -> pod uid


@dataclass
class CniNode:
    """What ipamd knows about its node."""
    instance_id: str
    subnet_id: str
    subnet_cidr: str
    primary_eni_id: str
    security_groups: list[str]
    max_enis: int
    ipv4_per_eni: int
    custom_networking: bool
    eni_config_label_def: str
    eni_config_annotation_def: str
    enis: list[PodEni] = field(default_factory=list)
    trunk_eni_id: str | None = None
    next_device_index: int = 1

    def attached(self) -> int:
        return 1 + len([e for e in self.enis if not e.primary]) + (1 if self.trunk_eni_id else 0)

    def eni_config_name(self, node: dict) -> str:
        meta = node.get("metadata") or {}
        labels, annotations = meta.get("labels") or {}, meta.get("annotations") or {}
        if "vpc.amazonaws.com/externalEniConfig" in labels:
            return labels["vpc.amazonaws.com/externalEniConfig"]
        if self.eni_config_annotation_def in annotations:
            return annotations[self.eni_config_annotation_def]
        return labels.get(self.eni_config_label_def, "default")


def aws_node_env(daemonset: dict | None) -> dict[str, str]:
    """The aws-node container's env (literal values only) of the aws-node DaemonSet."""
    if not daemonset:
        return {}
    for c in ((daemonset.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []:
        if c.get("name") == "aws-node":
            return {e["name"]: str(e.get("value", "")) for e in c.get("env") or [] if "value" in e}
    return {}


def _moto_eni(region: str, eni_id: str):
    from moto.ec2.models import ec2_backends  # the in-process moto that serves the EC2 API
    return ec2_backends[ACCOUNT][region].get_network_interface(eni_id)


class Ec2:
    """The EC2 calls ipamd and the VPC resource controller make, sent straight to moto."""

    def __init__(self, clients, region: str):
        self.client = clients.ec2(region)
        self.region = region
        self._subnets: dict[str, dict] = {}
        self._limits: dict[str, dict] = {}

    # -- reads

    def subnet(self, subnet_id: str) -> dict | None:
        if subnet_id not in self._subnets:
            try:
                self._subnets[subnet_id] = self.client.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]
            except Exception:
                return None
        return self._subnets[subnet_id]

    def instance(self, instance_id: str) -> dict:
        return self.client.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]

    def limits(self, instance_type: str) -> dict:
        if instance_type not in self._limits:
            try:
                t = self.client.describe_instance_types(InstanceTypes=[instance_type])["InstanceTypes"][0]
                self._limits[instance_type] = {
                    "max_enis": t["NetworkInfo"]["MaximumNetworkInterfaces"],
                    "ipv4_per_eni": t["NetworkInfo"]["Ipv4AddressesPerInterface"],
                    "vcpus": t["VCpuInfo"]["DefaultVCpus"],
                    "memory_mib": t["MemoryInfo"]["SizeInMiB"],
                }
            except Exception:
                self._limits[instance_type] = dict(FALLBACK_LIMITS)
        return self._limits[instance_type]

    def free_ip(self, subnet_id: str) -> str | None:
        subnet = self.subnet(subnet_id)
        if subnet is None:
            return None
        used = set()
        for eni in self.client.describe_network_interfaces(
                Filters=[{"Name": "subnet-id", "Values": [subnet_id]}])["NetworkInterfaces"]:
            used |= {a["PrivateIpAddress"] for a in eni.get("PrivateIpAddresses") or []}
            if eni.get("PrivateIpAddress"):
                used.add(eni["PrivateIpAddress"])
        net = ipaddress.ip_network(subnet["CidrBlock"])
        first, last = int(net.network_address) + 4, int(net.broadcast_address) - 1  # AWS reserves 5
        for n in range(last, first - 1, -1):
            ip = str(ipaddress.ip_address(n))
            if ip not in used:
                return ip
        return None

    # -- writes

    def create_eni(self, subnet_id: str, groups: list[str], description: str, tags: dict[str, str],
                   interface_type: str | None = None) -> dict | None:
        ip = self.free_ip(subnet_id)
        if ip is None:
            return None
        kw = {"SubnetId": subnet_id, "Description": description, "PrivateIpAddress": ip,
              "TagSpecifications": [{"ResourceType": "network-interface",
                                     "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]}
        if groups:
            kw["Groups"] = list(groups)
        eni = self.client.create_network_interface(**kw)["NetworkInterface"]
        if interface_type:
            self.set_model(eni["NetworkInterfaceId"], interface_type=interface_type)
            eni["InterfaceType"] = interface_type
        return eni

    def set_model(self, eni_id: str, **attrs) -> None:
        """moto 5.2.5 ignores CreateNetworkInterface's InterfaceType (every ENI is "interface")
        and has no trunk associations; its model's attributes are set directly so that
        DescribeNetworkInterfaces answers InterfaceType trunk/branch and a branch's status."""
        try:
            eni = _moto_eni(self.region, eni_id)
            for k, v in attrs.items():
                setattr(eni, k, v)
        except Exception as e:  # moto internals moved: the ENI stays a plain "interface"
            print(f"localcloud dataplane: cannot set {attrs} on {eni_id}: {e!r}", flush=True)

    def attach(self, eni_id: str, instance_id: str, device_index: int) -> None:
        self.client.attach_network_interface(NetworkInterfaceId=eni_id, InstanceId=instance_id,
                                             DeviceIndex=device_index)

    def assign_ip(self, eni_id: str, subnet_id: str) -> str | None:
        ip = self.free_ip(subnet_id)
        if ip is not None:
            self.client.assign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=[ip])
        return ip

    def unassign_ip(self, eni_id: str, ip: str) -> None:
        try:
            self.client.unassign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=[ip])
        except Exception:
            pass

    def delete_eni(self, eni_id: str) -> None:
        try:
            eni = self.client.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
        except Exception:
            return  # already gone
        try:
            attachment = (eni.get("Attachment") or {}).get("AttachmentId")
            if attachment:
                self.client.detach_network_interface(AttachmentId=attachment, Force=True)
            self.client.delete_network_interface(NetworkInterfaceId=eni_id)
        except Exception as e:
            print(f"localcloud dataplane: could not delete {eni_id}: {e!r}", flush=True)


def _eni_tags(node: CniNode, env: dict[str, str]) -> dict[str, str]:
    tags = {"node.k8s.amazonaws.com/instance_id": node.instance_id,
            "node.k8s.amazonaws.com/createdAt": datetime.datetime.now(datetime.timezone.utc)
            .strftime("%Y-%m-%dT%H:%M:%SZ")}
    if env.get("CLUSTER_NAME"):
        tags["cluster.k8s.amazonaws.com/name"] = env["CLUSTER_NAME"]
        tags["eks:eni:owner"] = "amazon-vpc-cni"
    try:
        extra = json.loads(env.get("ADDITIONAL_ENI_TAGS") or "{}")
        if isinstance(extra, dict):
            tags.update({str(k): str(v) for k, v in extra.items()})
    except ValueError:
        pass
    return tags


def pod_subnet(node: CniNode, node_obj: dict, eni_configs: dict[str, dict]) -> tuple[str, list[str]] | None:
    """(subnet, security groups) of new pod ENIs (and of the trunk / branch ENIs, which the
    resource controller puts in the same "current" subnet); None: custom networking without
    the node's ENIConfig (ipamd: "eniconfig: eniconfig is not available")."""
    if not node.custom_networking:
        return node.subnet_id, node.security_groups
    eni_config = eni_configs.get(node.eni_config_name(node_obj))
    if eni_config is None or not (eni_config.get("spec") or {}).get("subnet"):
        return None
    spec = eni_config["spec"]
    return spec["subnet"], list(spec.get("securityGroups") or []) or node.security_groups


def allocate(ec2: Ec2, node: CniNode, node_obj: dict, uid: str, eni_configs: dict[str, dict],
             env: dict[str, str]) -> tuple[str, str]:
    """(address, ENI id) for pod `uid`, or NoAddress."""
    for eni in node.enis:
        if len(eni.pod_ips) < node.ipv4_per_eni - 1:
            ip = ec2.assign_ip(eni.id, eni.subnet_id)
            if ip is not None:
                eni.pod_ips[ip] = uid
                return ip, eni.id
    if node.attached() >= node.max_enis:
        raise NoAddress(f"all {node.max_enis} ENIs of {node.instance_id} are in use")
    where = pod_subnet(node, node_obj, eni_configs)
    if where is None:
        raise NoAddress(f"no ENIConfig {node.eni_config_name(node_obj)!r} for {node.instance_id}")
    subnet_id, groups = where
    subnet = ec2.subnet(subnet_id)
    if subnet is None:
        raise NoAddress(f"subnet {subnet_id} does not exist")
    created = ec2.create_eni(subnet_id, groups, f"aws-K8S-{node.instance_id}", _eni_tags(node, env))
    if created is None:
        raise NoAddress(f"subnet {subnet_id} has no free address")
    index = node.next_device_index
    node.next_device_index += 1
    ec2.attach(created["NetworkInterfaceId"], node.instance_id, index)
    eni = PodEni(created["NetworkInterfaceId"], subnet_id, subnet["CidrBlock"], index)
    node.enis.append(eni)
    return allocate(ec2, node, node_obj, uid, eni_configs, env)


def release(ec2: Ec2, node: CniNode, uid: str) -> None:
    for eni in node.enis:
        for ip, owner in list(eni.pod_ips.items()):
            if owner == uid:
                del eni.pod_ips[ip]
                ec2.unassign_ip(eni.id, ip)


def join(ec2: Ec2, instance: dict, env: dict[str, str]) -> CniNode:
    """ipamd starting on a new node: reads its env once (the node keeps this mode)."""
    limits = ec2.limits(instance["InstanceType"])
    primary = next((n for n in instance.get("NetworkInterfaces") or []
                    if (n.get("Attachment") or {}).get("DeviceIndex", 0) == 0), None) or {}
    subnet = ec2.subnet(instance["SubnetId"]) or {"CidrBlock": ""}
    node = CniNode(
        instance_id=instance["InstanceId"], subnet_id=instance["SubnetId"], subnet_cidr=subnet["CidrBlock"],
        primary_eni_id=primary.get("NetworkInterfaceId", ""),
        security_groups=[g["GroupId"] for g in primary.get("Groups") or instance.get("SecurityGroups") or []],
        max_enis=limits["max_enis"], ipv4_per_eni=limits["ipv4_per_eni"],
        custom_networking=truthy(env.get("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG")),
        eni_config_label_def=env.get("ENI_CONFIG_LABEL_DEF") or DEFAULT_ENI_CONFIG_DEF,
        eni_config_annotation_def=env.get("ENI_CONFIG_ANNOTATION_DEF") or DEFAULT_ENI_CONFIG_DEF,
        next_device_index=1 + len([n for n in instance.get("NetworkInterfaces") or []
                                   if (n.get("Attachment") or {}).get("DeviceIndex", 0) > 0]),
    )
    if not node.custom_networking and node.primary_eni_id:
        node.enis.append(PodEni(node.primary_eni_id, node.subnet_id, node.subnet_cidr, 0, primary=True))
    return node
