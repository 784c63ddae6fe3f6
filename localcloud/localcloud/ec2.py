"""EC2 additions in front of moto: ordering rules, NAT lifecycle, pagination."""
import re
import xml.etree.ElementTree as ET

from localcloud import pagination
from localcloud import ec2_filters
from localcloud.awserrors import AwsError, Response
from localcloud.ec2_rules import Ec2Rules
from localcloud.ec2_strict import Ec2Strict
from localcloud.strict import Settings
from localcloud.nat import NatTracker

FILTER_KEY = re.compile(r"^Filter\.(\d+)\.(Name|Value\.(\d+))$")


def split_filters(params: dict):
    """-> (params without Filter.*, [(name, [values])])"""
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
    return rest, [(f["name"], [f["values"][i] for i in sorted(f["values"])]) for _, f in sorted(found.items())]


def join_filters(params: dict, filters) -> dict:
    out = dict(params)
    for i, (name, values) in enumerate(filters, 1):
        out[f"Filter.{i}.Name"] = name
        for j, v in enumerate(values, 1):
            out[f"Filter.{i}.Value.{j}"] = v
    return out


def partition(region: str) -> str:
    """The partition of a region, by its documented prefixes (AWS General Reference, ARN format:
    aws, aws-cn for cn-*, aws-us-gov for us-gov-*, aws-iso* for the isolated regions)."""
    for prefix, name in (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"), ("us-isob-", "aws-iso-b"), ("us-iso-", "aws-iso")):
        if (region or "").startswith(prefix):
            return name
    return "aws"


def child(el, name):
    for c in el:
        if c.tag.split("}")[-1] == name:
            return c
    return None


def to_xml(root) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


class Ec2:
    def __init__(self, clients, profile, settings=None):
        self.clients = clients
        self.nats = NatTracker(clients, profile)
        self.rules = Ec2Rules(clients, self.nats)
        self.strict = Ec2Strict(settings or Settings())

    def tick(self):
        self.nats.tick()

    def handle(self, req, operation: str, forward, page_size: int) -> Response:
        forward = ec2_filters.wrap(forward)  # Describe filters as EC2 applies them
        self.nats.tick()
        self.rules.check(operation, req.params, req.region)
        forward = self.strict.wrap(operation, req, forward)  # strict switches: NotFound window, tags
        if operation == "CreateNatGateway":
            return self.create_nat(req, forward)
        if operation == "DeleteNatGateway":
            resp = forward(req)
            if resp.status == 200:
                self.nats.deleting(req.params.get("NatGatewayId"), req.region)
            return resp
        if operation == "DeleteSubnet":
            return self.delete_subnet(req, forward)
        if operation in pagination.EC2_LISTS:
            return self.describe(req, operation, forward, page_size)
        if operation == "DescribeRegions":
            return self.describe_regions(req, forward)
        return forward(req)

    def describe_regions(self, req, forward) -> Response:
        """DescribeRegions "Describes the Regions that are enabled for your account, or all
        Regions" (EC2 API reference): an account lives in one partition (aws, aws-cn,
        aws-us-gov), so it never sees another partition's regions, whatever AllRegions says.
        moto lists every partition's; keep the caller's."""
        resp = forward(req)
        if resp.status != 200:
            return resp
        root = ET.fromstring(resp.body)
        regions = child(root, "regionInfo")
        for item in list(regions if regions is not None else []):
            if partition(child(item, "regionName").text) != partition(req.region):
                regions.remove(item)
        return Response(200, to_xml(root), resp.headers)

    def delete_subnet(self, req, forward) -> Response:
        """EC2 removes a subnet's route table association with the subnet (moto keeps it, and the
        route table can then never be deleted: DependencyViolation)."""
        subnet = req.params.get("SubnetId")
        resp = forward(req)
        if resp.status == 200 and subnet:
            ec2 = self.clients.ec2(req.region)
            tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])["RouteTables"]
            for t in tables:
                for a in t.get("Associations", []):
                    if a.get("SubnetId") == subnet:
                        ec2.disassociate_route_table(AssociationId=a["RouteTableAssociationId"])
        return resp

    def create_nat(self, req, forward) -> Response:
        token = req.params.get("ClientToken")
        fp = self.nats.params_fingerprint(req.params)
        if token and (req.region, token) in self.nats.tokens:
            nat_id, old_fp = self.nats.tokens[(req.region, token)]
            if old_fp != fp:
                raise AwsError("IdempotentParameterMismatch",
                               "Client token already used with different parameters.")
            return self._nat_as_create_response(req, nat_id, token, forward)
        resp = forward(req)
        if resp.status != 200:
            return resp
        root = ET.fromstring(resp.body)
        nat = child(root, "natGateway")
        nat_id = child(nat, "natGatewayId").text
        self.nats.created(req.region, nat_id, req.account())
        if token:
            self.nats.tokens[(req.region, token)] = (nat_id, fp)
            ET.SubElement(root, root.tag.replace("CreateNatGatewayResponse", "clientToken")).text = token
        st = child(nat, "state")
        if st is not None:
            st.text = "pending"
        return Response(200, to_xml(root), resp.headers)

    def _nat_as_create_response(self, req, nat_id, token, forward) -> Response:
        d = forward(req.with_params({"Action": "DescribeNatGateways", "Version": req.params.get("Version", "2016-11-15"),
                                     "NatGatewayId.1": nat_id}))
        root = ET.fromstring(d.body)
        ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
        item = child(child(root, "natGatewaySet"), "item")
        out = ET.Element(f"{ns}CreateNatGatewayResponse")
        rid = child(root, "requestId")
        if rid is not None:
            out.append(rid)
        ET.SubElement(out, f"{ns}clientToken").text = token
        item.tag = f"{ns}natGateway"
        st = child(item, "state")
        st.text = self.nats.state(nat_id, st.text)
        out.append(item)
        return Response(200, to_xml(out), d.headers)

    def describe(self, req, operation, forward, page_size) -> Response:
        params = {k: v for k, v in req.params.items() if k not in ("MaxResults", "NextToken")}
        state_filter = None
        if operation == "DescribeNatGateways":
            rest, filters = split_filters(params)
            state_filter = next((vals for name, vals in filters if name == "state"), None)
            params = join_filters(rest, [(n, v) for n, v in filters if n != "state"])
        resp = forward(req.with_params(params))
        if resp.status != 200:
            return resp
        root = ET.fromstring(resp.body)
        if operation == "DescribeNatGateways":
            lst = child(root, "natGatewaySet")
            for item in list(lst if lst is not None else []):
                st = child(item, "state")
                st.text = self.nats.state(child(item, "natGatewayId").text, st.text)
                if state_filter is not None and st.text not in state_filter:
                    lst.remove(item)
        pagination.paginate_ec2(root, operation, req.params, page_size)
        return Response(200, to_xml(root), resp.headers)
