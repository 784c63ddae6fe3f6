"""EC2 Describe filters applied as EC2 applies them, on moto's answer.

moto 5.2.5 ignores some filters (DescribeNatGateways: tag:<key>, tag-key, tag-value and any unknown
name; DescribeTags: tag:<key> and unknown names; DescribeAvailabilityZones: wildcards, unknown names)
and mishandles others (`[` in a value is a character class, not a literal; an ENI group-id filter
with several values; an unknown name answers HTTP 500). Issue 13: eksnet read another stack's NAT
gateways as its own.

So for the calls in KINDS localcloud takes the filters it evaluates out of the request, lets moto
answer the rest, and keeps only the items of moto's answer that pass them. Semantics, from the
EC2 API reference:

- Filter (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Filter.html): several filters
  are joined with AND, the values of one filter with OR; names and values are case-sensitive.
- Wildcards (the Filter type of the EC2 SDK reference): `*` matches zero or more characters, `?`
  exactly one, a backslash escapes (`\\*amazon\\?\\\\` is the literal `*amazon?\\`); all else is literal.
- `tag:<key>`: a tag with that key and one of the values; `tag-key`: a tag with that key, whatever
  its value (e.g. API_DescribeNatGateways.html, "Filter.N"); `tag-value`: a tag with that value.
- The filter names of a call are those its page documents: API_DescribeVpcs, _DescribeSubnets,
  _DescribeInternetGateways, _DescribeAddresses, _DescribeNatGateways, _DescribeRouteTables,
  _DescribeSecurityGroups, _DescribeSecurityGroupRules, _DescribeNetworkInterfaces,
  _DescribeInstances, _DescribeTags, _DescribeAvailabilityZones under
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/ (the same text ships in botocore's ec2
  model). Any other name is refused as EC2 refuses it: InvalidParameterValue "The filter 'x' is
  invalid". Accepted besides, so that localcloud does not refuse what EC2 may take (older pages of the
  reference list most of them): `tag-value` wherever tags exist, `tag-key` for security group rules, `domain`
  for addresses, the subnet aliases `cidr`, `cidrBlock`, `availabilityZone`, `defaultForAz`, and
  `group-id`/`group-name` for instances.
- DescribeTags `tag:<key>` ("to find resources with the tag") keeps the tags of the resources
  that carry that key=value.

A documented name without a field here goes to moto unchanged. DescribeInstanceTypes is left to
moto (it filters and refuses unknown names like EC2). The NAT `state` filter stays ec2.py's (it
rewrites the states first).
"""
import functools
import re
import xml.etree.ElementTree as ET

from localcloud.awserrors import AwsError, Response

ET.register_namespace("", "http://ec2.amazonaws.com/doc/2016-11-15")
FILTER_KEY = re.compile(r"^Filter\.(\d+)\.(Name|Value\.(\d+))$")


# --- values ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1024)
def pattern(value: str) -> re.Pattern:
    """An EC2 filter value as a regex: * and ? are wildcards, backslash escapes, the rest is literal."""
    out, i = [], 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            out.append(re.escape(value[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def matches(values, found) -> bool:
    """One filter: any of the item's values matches any of the filter's values (OR)."""
    pats = [pattern(v) for v in values]
    return any(p.fullmatch(f) for p in pats for f in found)


# --- XML ---------------------------------------------------------------------------------------
def local(el) -> str:
    return el.tag.split("}")[-1]


def walk(el, path: str) -> list:
    """Texts at `path` ("a/item/b"): each step takes every child of that name."""
    return [n.text or "" for n in walk_nodes(el, path)]


def walk_nodes(el, path: str) -> list:
    nodes = [el]
    for step in path.split("/"):
        nodes = [c for n in nodes for c in n if local(c) == step]
    return nodes


def tags_of(item) -> list:
    return [(first(t, "key"), first(t, "value")) for t in walk_nodes(item, "tagSet/item")]


def first(el, name: str) -> str:
    vals = walk(el, name)
    return vals[0] if vals else ""


# --- kinds -------------------------------------------------------------------------------------
class Kind:
    """One Describe call: where its items are, its documented filter names, the ones evaluated here."""

    def __init__(self, items: str, documented: str, fields: dict, tags=True, extra: str = ""):
        self.items = items          # path of the item elements under the response root
        self.names = set(documented.split()) | set(extra.split())
        self.fields = fields        # name -> path(s) under the item ("../x": under its parent)
        self.tags = tags            # tag:<key> / tag-key / tag-value apply

    def valid(self, name: str) -> bool:
        return name in self.names or (self.tags and name.startswith("tag:") and len(name) > 4)

    def evaluated(self, name: str) -> bool:
        return name in self.fields or (self.tags and (name.startswith("tag:") or name in ("tag-key", "tag-value")))

    def values(self, name: str, item, parent, ctx) -> list:
        if self.tags and name.startswith("tag:"):
            return [v for k, v in tags_of(item) if k == name[4:]]
        if self.tags and name == "tag-key":
            return [k for k, _ in tags_of(item)]
        if self.tags and name == "tag-value":
            return [v for _, v in tags_of(item)]
        f = self.fields[name]
        paths = f if isinstance(f, tuple) else (f,)
        return [v for p in paths for v in (walk(parent, p[3:]) if p.startswith("../") else walk(item, p))]

    def context(self, items) -> dict:
        return {}

    def keep(self, filters, item, parent, ctx) -> bool:
        return all(matches(vals, self.values(name, item, parent, ctx)) for name, vals in filters)


class TagsKind(Kind):
    """DescribeTags: the items are tags; `tag:K` keeps the tags of resources carrying K=V."""

    def evaluated(self, name):
        return name in self.fields or name.startswith("tag:")

    def context(self, items):
        by_resource = {}
        for _, it in items:
            by_resource.setdefault(first(it, "resourceId"), []).append((first(it, "key"), first(it, "value")))
        return {"tags": by_resource}

    def values(self, name, item, parent, ctx):
        if name.startswith("tag:"):
            return [v for k, v in ctx["tags"].get(first(item, "resourceId"), []) if k == name[4:]]
        return Kind.values(self, name, item, parent, ctx)


KINDS = {
    "DescribeVpcs": Kind(
        "vpcSet/item",
        "cidr cidr-block-association.cidr-block cidr-block-association.association-id cidr-block-association.state "
        "dhcp-options-id ipv6-cidr-block-association.ipv6-cidr-block ipv6-cidr-block-association.ipv6-pool "
        "ipv6-cidr-block-association.association-id ipv6-cidr-block-association.state is-default owner-id state "
        "tag-key vpc-id",
        {"vpc-id": "vpcId", "state": "state", "cidr": "cidrBlock", "owner-id": "ownerId", "is-default": "isDefault",
         "dhcp-options-id": "dhcpOptionsId",
         "cidr-block-association.cidr-block": "cidrBlockAssociationSet/item/cidrBlock",
         "cidr-block-association.association-id": "cidrBlockAssociationSet/item/associationId",
         "cidr-block-association.state": "cidrBlockAssociationSet/item/cidrBlockState/state",
         "ipv6-cidr-block-association.ipv6-cidr-block": "ipv6CidrBlockAssociationSet/item/ipv6CidrBlock",
         "ipv6-cidr-block-association.association-id": "ipv6CidrBlockAssociationSet/item/associationId",
         "ipv6-cidr-block-association.state": "ipv6CidrBlockAssociationSet/item/ipv6CidrBlockState/state"},
        extra="tag-value"),
    "DescribeSubnets": Kind(
        "subnetSet/item",
        "availability-zone availability-zone-id available-ip-address-count cidr-block customer-owned-ipv4-pool "
        "default-for-az enable-dns64 enable-lni-at-device-index ipv6-cidr-block-association.ipv6-cidr-block "
        "ipv6-cidr-block-association.association-id ipv6-cidr-block-association.state ipv6-native "
        "map-customer-owned-ip-on-launch map-public-ip-on-launch outpost-arn owner-id "
        "private-dns-name-options-on-launch.hostname-type "
        "private-dns-name-options-on-launch.enable-resource-name-dns-a-record "
        "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record state subnet-arn subnet-id "
        "tag-key vpc-id",
        {"subnet-id": "subnetId", "vpc-id": "vpcId", "state": "state", "owner-id": "ownerId",
         "subnet-arn": "subnetArn", "cidr-block": "cidrBlock", "cidr": "cidrBlock", "cidrBlock": "cidrBlock",
         "availability-zone": "availabilityZone", "availabilityZone": "availabilityZone",
         "availability-zone-id": "availabilityZoneId", "available-ip-address-count": "availableIpAddressCount",
         "default-for-az": "defaultForAz", "defaultForAz": "defaultForAz",
         "map-public-ip-on-launch": "mapPublicIpOnLaunch", "ipv6-native": "ipv6Native",
         "ipv6-cidr-block-association.ipv6-cidr-block": "ipv6CidrBlockAssociationSet/item/ipv6CidrBlock",
         "ipv6-cidr-block-association.association-id": "ipv6CidrBlockAssociationSet/item/associationId",
         "ipv6-cidr-block-association.state": "ipv6CidrBlockAssociationSet/item/ipv6CidrBlockState/state",
         "private-dns-name-options-on-launch.hostname-type": "privateDnsNameOptionsOnLaunch/hostnameType"},
        extra="tag-value cidr cidrBlock availabilityZone defaultForAz"),
    "DescribeInternetGateways": Kind(
        "internetGatewaySet/item",
        "attachment.state attachment.vpc-id internet-gateway-id owner-id tag-key",
        {"internet-gateway-id": "internetGatewayId", "owner-id": "ownerId",
         "attachment.vpc-id": "attachmentSet/item/vpcId", "attachment.state": "attachmentSet/item/state"},
        extra="tag-value"),
    "DescribeAddresses": Kind(
        "addressesSet/item",
        "allocation-id association-id instance-id network-border-group network-interface-id "
        "network-interface-owner-id private-ip-address public-ip tag-key",
        {"allocation-id": "allocationId", "association-id": "associationId", "domain": "domain",
         "instance-id": "instanceId", "network-interface-id": "networkInterfaceId",
         "network-interface-owner-id": "networkInterfaceOwnerId", "private-ip-address": "privateIpAddress",
         "public-ip": "publicIp"},
        extra="tag-value domain"),
    "DescribeNatGateways": Kind(
        "natGatewaySet/item",
        "nat-gateway-id state subnet-id tag-key vpc-id",
        {"nat-gateway-id": "natGatewayId", "subnet-id": "subnetId", "vpc-id": "vpcId"},
        extra="tag-value"),
    "DescribeRouteTables": Kind(
        "routeTableSet/item",
        "association.gateway-id association.route-table-association-id association.route-table-id "
        "association.subnet-id association.main owner-id route-table-id route.destination-cidr-block "
        "route.destination-ipv6-cidr-block route.destination-prefix-list-id route.egress-only-internet-gateway-id "
        "route.gateway-id route.instance-id route.nat-gateway-id route.transit-gateway-id route.origin "
        "route.state route.vpc-peering-connection-id tag-key vpc-id",
        {"route-table-id": "routeTableId", "vpc-id": "vpcId", "owner-id": "ownerId",
         "association.gateway-id": "associationSet/item/gatewayId",
         "association.route-table-association-id": "associationSet/item/routeTableAssociationId",
         "association.route-table-id": "associationSet/item/routeTableId",
         "association.subnet-id": "associationSet/item/subnetId",
         "association.main": "associationSet/item/main",
         "route.destination-cidr-block": "routeSet/item/destinationCidrBlock",
         "route.destination-ipv6-cidr-block": "routeSet/item/destinationIpv6CidrBlock",
         "route.destination-prefix-list-id": "routeSet/item/destinationPrefixListId",
         "route.egress-only-internet-gateway-id": "routeSet/item/egressOnlyInternetGatewayId",
         "route.gateway-id": "routeSet/item/gatewayId", "route.instance-id": "routeSet/item/instanceId",
         "route.nat-gateway-id": "routeSet/item/natGatewayId",
         "route.transit-gateway-id": "routeSet/item/transitGatewayId",
         "route.origin": "routeSet/item/origin", "route.state": "routeSet/item/state",
         "route.vpc-peering-connection-id": "routeSet/item/vpcPeeringConnectionId"},
        extra="tag-value"),
    "DescribeSecurityGroups": Kind(
        "securityGroupInfo/item",
        " ".join(f"{p}ip-permission.{f}" for p in ("", "egress.") for f in
                 ("cidr", "from-port", "group-id", "group-name", "ipv6-cidr", "prefix-list-id", "protocol",
                  "to-port", "user-id"))
        + " description group-id group-name owner-id tag-key vpc-id",
        {"group-id": "groupId", "group-name": "groupName", "description": "groupDescription", "vpc-id": "vpcId",
         "owner-id": "ownerId",
         **{f"{p}ip-permission.{f}": f"{el}/item/{path}"
            for p, el in (("", "ipPermissions"), ("egress.", "ipPermissionsEgress"))
            for f, path in (("cidr", "ipRanges/item/cidrIp"), ("from-port", "fromPort"),
                            ("group-id", "groups/item/groupId"), ("group-name", "groups/item/groupName"),
                            ("ipv6-cidr", "ipv6Ranges/item/cidrIpv6"),
                            ("prefix-list-id", "prefixListIds/item/prefixListId"), ("protocol", "ipProtocol"),
                            ("to-port", "toPort"), ("user-id", "groups/item/userId"))}},
        extra="tag-value"),
    "DescribeSecurityGroupRules": Kind(
        "securityGroupRuleSet/item",
        "group-id security-group-rule-id",
        {"group-id": "groupId", "security-group-rule-id": "securityGroupRuleId"},
        extra="tag-key tag-value"),
    "DescribeNetworkInterfaces": Kind(
        "networkInterfaceSet/item",
        "association.allocation-id association.association-id addresses.association.owner-id "
        "addresses.association.public-ip addresses.primary addresses.private-ip-address association.ip-owner-id "
        "association.public-ip association.public-dns-name attachment.attach-time attachment.attachment-id "
        "attachment.delete-on-termination attachment.device-index attachment.instance-id "
        "attachment.instance-owner-id attachment.status availability-zone availability-zone-id description "
        "group-id ipv6-addresses.ipv6-address interface-type mac-address network-interface-id operator.managed "
        "operator.principal owner-id private-dns-name private-ip-address requester-id requester-managed "
        "source-dest-check status subnet-id tag-key vpc-id",
        {"network-interface-id": "networkInterfaceId", "subnet-id": "subnetId", "vpc-id": "vpcId",
         "group-id": "groupSet/item/groupId", "status": "status", "description": "description",
         "availability-zone": "availabilityZone", "interface-type": "interfaceType", "mac-address": "macAddress",
         "owner-id": "ownerId", "requester-id": "requesterId", "requester-managed": "requesterManaged",
         "source-dest-check": "sourceDestCheck", "private-dns-name": "privateDnsName",
         "private-ip-address": ("privateIpAddress", "privateIpAddressesSet/item/privateIpAddress"),
         "addresses.private-ip-address": "privateIpAddressesSet/item/privateIpAddress",
         "addresses.primary": "privateIpAddressesSet/item/primary",
         "ipv6-addresses.ipv6-address": "ipv6AddressesSet/item/ipv6Address",
         "association.public-ip": "association/publicIp", "association.allocation-id": "association/allocationId",
         "association.association-id": "association/associationId",
         "attachment.instance-id": "attachment/instanceId", "attachment.attachment-id": "attachment/attachmentId",
         "attachment.status": "attachment/status", "attachment.device-index": "attachment/deviceIndex",
         "attachment.delete-on-termination": "attachment/deleteOnTermination"},
        extra="tag-value"),
    "DescribeInstances": Kind(
        "reservationSet/item/instancesSet/item",
        # the reference lists 136 names; those below are evaluated here, the others go to moto
        "affinity architecture availability-zone availability-zone-id block-device-mapping.attach-time "
        "block-device-mapping.delete-on-termination block-device-mapping.device-name block-device-mapping.status "
        "block-device-mapping.volume-id boot-mode capacity-reservation-id client-token current-instance-boot-mode "
        "dns-name ebs-optimized ena-support enclave-options.enabled hibernation-options.configured host-id "
        "hypervisor iam-instance-profile.arn iam-instance-profile.id image-id instance-id instance-lifecycle "
        "instance-state-code instance-state-name instance-type instance.group-id instance.group-name ip-address "
        "ipv6-address kernel-id key-name launch-index launch-time maintenance-options.auto-recovery "
        "metadata-options.http-endpoint metadata-options.http-protocol-ipv4 metadata-options.http-protocol-ipv6 "
        "metadata-options.http-put-response-hop-limit metadata-options.http-tokens "
        "metadata-options.instance-metadata-tags metadata-options.state monitoring-state "
        + " ".join("network-interface." + n for n in (
            "addresses.association.allocation-id addresses.association.association-id "
            "addresses.association.carrier-ip addresses.association.customer-owned-ip "
            "addresses.association.ip-owner-id addresses.association.public-dns-name addresses.association.public-ip "
            "addresses.primary addresses.private-dns-name addresses.private-ip-address association.allocation-id "
            "association.association-id association.carrier-ip association.customer-owned-ip association.ip-owner-id "
            "association.public-dns-name association.public-ip attachment.attach-time attachment.attachment-id "
            "attachment.delete-on-termination attachment.device-index attachment.instance-id "
            "attachment.instance-owner-id attachment.network-card-index attachment.status availability-zone "
            "deny-all-igw-traffic description group-id group-name ipv4-prefixes.ipv4-prefix ipv6-address "
            "ipv6-addresses.ipv6-address ipv6-addresses.is-primary-ipv6 ipv6-native ipv6-prefixes.ipv6-prefix "
            "mac-address network-interface-id operator.managed operator.principal outpost-arn owner-id "
            "private-dns-name private-ip-address public-dns-name requester-id requester-managed status "
            "source-dest-check subnet-id tag-key tag-value vpc-id").split())
        + " network-performance-options.bandwidth-weighting operator.managed operator.principal outpost-arn "
        "owner-id placement-group-name placement-partition-number platform platform-details private-dns-name "
        "private-dns-name-options.enable-resource-name-dns-a-record "
        "private-dns-name-options.enable-resource-name-dns-aaaa-record private-dns-name-options.hostname-type "
        "private-ip-address product-code product-code.type ramdisk-id reason requester-id reservation-id "
        "root-device-name root-device-type source-dest-check spot-instance-request-id state-reason-code "
        "state-reason-message subnet-id tag-key tenancy tpm-support usage-operation usage-operation-update-time "
        "virtualization-type vpc-id",
        {"instance-id": "instanceId", "image-id": "imageId", "instance-type": "instanceType",
         "instance-state-name": "instanceState/name", "instance-state-code": "instanceState/code",
         "subnet-id": "subnetId", "vpc-id": "vpcId", "availability-zone": "placement/availabilityZone",
         "tenancy": "placement/tenancy", "placement-group-name": "placement/groupName",
         "private-ip-address": "privateIpAddress", "ip-address": "ipAddress", "private-dns-name": "privateDnsName",
         "dns-name": "dnsName", "key-name": "keyName", "architecture": "architecture", "client-token": "clientToken",
         "launch-index": "amiLaunchIndex", "monitoring-state": "monitoring/state", "hypervisor": "hypervisor",
         "root-device-type": "rootDeviceType", "root-device-name": "rootDeviceName",
         "virtualization-type": "virtualizationType", "source-dest-check": "sourceDestCheck",
         "ebs-optimized": "ebsOptimized", "reason": "reason", "state-reason-code": "stateReason/code",
         "iam-instance-profile.arn": "iamInstanceProfile/arn",
         "block-device-mapping.device-name": "blockDeviceMapping/item/deviceName",
         "block-device-mapping.volume-id": "blockDeviceMapping/item/ebs/volumeId",
         "block-device-mapping.status": "blockDeviceMapping/item/ebs/status",
         "reservation-id": "../reservationId", "owner-id": "../ownerId",
         **{n: ("groupSet/item/" + f, "networkInterfaceSet/item/groupSet/item/" + f)
            for n, f in (("instance.group-id", "groupId"), ("group-id", "groupId"),
                         ("instance.group-name", "groupName"), ("group-name", "groupName"))},
         **{"network-interface." + n: "networkInterfaceSet/item/" + p for n, p in (
             ("network-interface-id", "networkInterfaceId"), ("subnet-id", "subnetId"), ("vpc-id", "vpcId"),
             ("group-id", "groupSet/item/groupId"), ("group-name", "groupSet/item/groupName"),
             ("private-ip-address", "privateIpAddress"), ("status", "status"), ("description", "description"),
             ("mac-address", "macAddress"), ("attachment.status", "attachment/status"),
             ("attachment.attachment-id", "attachment/attachmentId"),
             ("attachment.device-index", "attachment/deviceIndex"))}},
        extra="tag-value group-id group-name"),
    "DescribeTags": TagsKind(
        "tagSet/item",
        "key resource-id resource-type value",
        {"key": "key", "value": "value", "resource-id": "resourceId", "resource-type": "resourceType"},
        tags=True),
    "DescribeAvailabilityZones": Kind(
        "availabilityZoneInfo/item",
        "group-long-name group-name message opt-in-status parent-zone-id parent-zone-name region-name state "
        "zone-id zone-name zone-type",
        # moto's answer has these; group-name, opt-in-status, ... go to moto
        {"zone-name": "zoneName", "zone-id": "zoneId", "region-name": "regionName", "state": "zoneState",
         "zone-type": "zoneType", "message": "messageSet/item/message"},
        tags=False),
}


# --- request / response ------------------------------------------------------------------------
def split(params: dict):
    """-> (params without Filter.*, [(name, [values])] in request order)"""
    rest, found = {}, {}
    for k, v in params.items():
        m = FILTER_KEY.match(k)
        if not m:
            rest[k] = v
            continue
        f = found.setdefault(int(m.group(1)), {"name": None, "values": {}})
        if m.group(2) == "Name":
            f["name"] = v
        else:
            f["values"][int(m.group(3))] = v
    return rest, [(f["name"] or "", [f["values"][i] for i in sorted(f["values"])]) for _, f in sorted(found.items())]


def join(params: dict, filters) -> dict:
    out = dict(params)
    for i, (name, values) in enumerate(filters, 1):
        out[f"Filter.{i}.Name"] = name
        for j, v in enumerate(values, 1):
            out[f"Filter.{i}.Value.{j}"] = v
    return out


def apply(root, kind: Kind, filters) -> None:
    """Removes (in place) the items of a Describe answer that do not pass every filter."""
    *parent_path, _ = kind.items.split("/")
    lists = walk_nodes(root, "/".join(parent_path))
    items = [(lst, it) for lst in lists for it in list(lst) if local(it) == "item"]
    ctx = kind.context(items)
    owners = {}
    if kind.items.startswith("reservationSet/"):  # instances: their reservation is the parent for "../"
        owners = {id(lst): r for r in walk_nodes(root, "reservationSet/item") for lst in r
                  if local(lst) == "instancesSet"}
    for lst, it in items:
        if not kind.keep(filters, it, owners.get(id(lst), lst), ctx):
            lst.remove(it)
    if owners:  # a reservation left without instances is not listed
        for rs in walk_nodes(root, "reservationSet"):
            for r in list(rs):
                if all(len(lst) == 0 for lst in r if local(lst) == "instancesSet"):
                    rs.remove(r)


def wrap(forward):
    """`forward` (request -> moto's response) with EC2's filtering for the calls in KINDS."""
    def filtered(req) -> Response:
        kind = KINDS.get(req.params.get("Action", ""))
        if kind is None:
            return forward(req)
        rest, filters = split(req.params)
        for name, _ in filters:
            if not kind.valid(name):
                raise AwsError("InvalidParameterValue", f"The filter '{name}' is invalid", 400)
        ours = [(n, v) for n, v in filters if kind.evaluated(n)]
        if not ours:
            return forward(req)
        resp = forward(req.with_params(join(rest, [(n, v) for n, v in filters if not kind.evaluated(n)])))
        if resp.status != 200:
            return resp
        root = ET.fromstring(resp.body)
        apply(root, kind, ours)
        return Response(200, ET.tostring(root, encoding="utf-8", xml_declaration=True), resp.headers)
    return filtered
