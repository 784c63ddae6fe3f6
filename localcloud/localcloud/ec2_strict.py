"""EC2 as it is rather than "on a good day": eventual consistency (switch `ec2_consistency`) and
tag rules (switch `tag_rules`, see tag_rules.py).

Eventual consistency. Source: EC2 API guide, "Eventual consistency in the Amazon EC2 API"
(https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html): "if you run a
command to modify or describe the resource that you just created, its ID might not have
propagated throughout the system, and you will get an error responding that the resource does
not exist" (its example: InvalidGroup.NotFound right after CreateSecurityGroup). Clients retry:
hashicorp/terraform-provider-aws internal/service/ec2/wait.go waits `propagationTimeout = 2 *
time.Minute` on these NotFound codes after every create.

Model, kept simple: for a window after CreateVpc, CreateSubnet, CreateInternetGateway,
CreateRouteTable, CreateSecurityGroup and AllocateAddress, the new id does not exist yet for
the EC2 API:
- any call naming it in a parameter (ModifyVpcAttribute VpcId, AttachInternetGateway
  InternetGatewayId, CreateRoute RouteTableId, AssociateRouteTable, Authorize* GroupId,
  CreateTags ResourceId.N, DescribeVpcs VpcId.N, DescribeAddresses AllocationId.N, ...) answers
  the resource's NotFound code;
- Describe* listings (any filter, id or tag) leave the object out, as a filter never raises
  NotFound on AWS; so a lookup by tags does not see it either.
The window is `ec2_consistency_calls` calls that did not see the id (refused or left out) and/or
`ec2_consistency_seconds` wall-clock seconds; both 0 = no window.
AssociateVpcCidrBlock: the answer says `associating` (as AWS's and moto's do), and DescribeVpcs
keeps showing `associating` for the same window (lenient: `associated` at once).
In-process calls localcloud makes to moto (EKS's own checks) are not affected.
"""
from __future__ import annotations

import threading
import time
import xml.etree.ElementTree as ET

from localcloud import tag_rules
from localcloud.awserrors import AwsError, Response

# create action -> (element holding the new id, kind)
CREATES = {
    "CreateVpc": ("vpcId", "vpc"),
    "CreateSubnet": ("subnetId", "subnet"),
    "CreateInternetGateway": ("internetGatewayId", "igw"),
    "CreateRouteTable": ("routeTableId", "rtb"),
    "CreateSecurityGroup": ("groupId", "sg"),
    "AllocateAddress": ("allocationId", "eip"),
}
# kind -> EC2 error code and message (AWS's wording)
NOT_FOUND = {
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{}' does not exist"),
    "subnet": ("InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist"),
    "igw": ("InvalidInternetGatewayID.NotFound", "The internetGateway ID '{}' does not exist"),
    "rtb": ("InvalidRouteTableID.NotFound", "The routeTable ID '{}' does not exist"),
    "sg": ("InvalidGroup.NotFound", "The security group '{}' does not exist"),
    "eip": ("InvalidAllocationID.NotFound", "The allocation ID '{}' does not exist"),
}
# Describe action -> (list element, id element of an item)
LISTS = {
    "DescribeVpcs": ("vpcSet", "vpcId"),
    "DescribeSubnets": ("subnetSet", "subnetId"),
    "DescribeInternetGateways": ("internetGatewaySet", "internetGatewayId"),
    "DescribeRouteTables": ("routeTableSet", "routeTableId"),
    "DescribeSecurityGroups": ("securityGroupInfo", "groupId"),
    "DescribeAddresses": ("addressesSet", "allocationId"),
}


def _local(tag: str) -> str:
    return tag.split("}")[-1]


def _child(el, name):
    if el is None:
        return None
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _first(root, name):
    for el in root.iter():
        if _local(el.tag) == name:
            return el
    return None


def _names_ids(key: str) -> bool:
    """Parameters that may name a resource id (not filters, not tag keys/values, not text)."""
    if key.startswith("Filter.") or key in ("Action", "Version", "Description", "GroupDescription"):
        return False
    return "Tag" not in key or key.startswith("ResourceId")


class Window:
    def __init__(self, calls: int, seconds: float):
        self.left = calls
        self.until = time.time() + seconds

    def open(self) -> bool:
        return self.left > 0 or time.time() < self.until


class Ec2Strict:
    def __init__(self, settings):
        self.settings = settings
        self._lock = threading.Lock()
        self.hidden: dict[str, tuple[str, Window]] = {}   # id -> (kind, window)
        self.cidrs: dict[str, Window] = {}                # association id -> window

    def reset(self):
        with self._lock:
            self.hidden.clear()
            self.cidrs.clear()

    def wrap(self, operation: str, req, forward):
        """Check the call now (may raise), and return `forward` wrapped so that answers are
        recorded (new ids) and rewritten (listings, CIDR states) before anything else sees them."""
        if self.settings.on("tag_rules"):
            tag_rules.check_ec2(req.params)
        if not self.settings.on("ec2_consistency"):
            return forward
        self._refuse_unseen(req.params)

        def wrapped(r) -> Response:
            resp = forward(r)
            if resp.status == 200:
                resp = self._after(r.params.get("Action", operation), resp)
            return resp
        return wrapped

    # --- the window ---------------------------------------------------------------
    def _new_window(self) -> Window | None:
        calls, seconds = self.settings["ec2_consistency_calls"], self.settings["ec2_consistency_seconds"]
        return Window(calls, seconds) if calls or seconds else None

    def _unseen(self, table: dict, key: str) -> bool:
        """True if `key` is still inside its window; counts this call against it."""
        entry = table.get(key)
        if entry is None:
            return False
        window = entry[1] if isinstance(entry, tuple) else entry
        if not window.open():
            del table[key]
            return False
        window.left = max(window.left - 1, 0)
        return True

    def _refuse_unseen(self, params: dict):
        with self._lock:
            if not self.hidden:
                return
            for key, value in params.items():
                if _names_ids(key) and value in self.hidden:
                    kind = self.hidden[value][0]
                    if self._unseen(self.hidden, value):
                        code, message = NOT_FOUND[kind]
                        raise AwsError(code, message.format(value))

    def _after(self, action: str, resp: Response) -> Response:
        try:
            root = ET.fromstring(resp.body)
        except ET.ParseError:
            return resp
        changed = False
        with self._lock:
            if action in CREATES:
                field, kind = CREATES[action]
                el = _first(root, field)
                window = self._new_window()
                if el is not None and el.text and window:
                    self.hidden[el.text] = (kind, window)
            elif action == "AssociateVpcCidrBlock":
                assoc = _child(root, "cidrBlockAssociation")
                aid = _child(assoc, "associationId")
                window = self._new_window()
                if aid is not None and window:
                    self.cidrs[aid.text] = window
                    changed |= self._set_cidr_state(assoc, "associating")
            elif action in LISTS:
                set_name, id_field = LISTS[action]
                items = _child(root, set_name)
                for item in list(items if items is not None else []):
                    el = _child(item, id_field)
                    if el is not None and self._unseen(self.hidden, el.text):
                        items.remove(item)
                        changed = True
                    elif action == "DescribeVpcs" and self.cidrs:
                        assocs = _child(item, "cidrBlockAssociationSet")
                        for a in (list(assocs) if assocs is not None else []):
                            aid = _child(a, "associationId")
                            if aid is not None and self._unseen(self.cidrs, aid.text):
                                changed |= self._set_cidr_state(a, "associating")
        if not changed:
            return resp
        return Response(resp.status, ET.tostring(root, encoding="utf-8", xml_declaration=True), resp.headers)

    @staticmethod
    def _set_cidr_state(assoc, state: str) -> bool:
        st = _child(_child(assoc, "cidrBlockState"), "state")
        if st is None:
            return False
        st.text = state
        return True
