"""Small pages with NextToken, stricter than AWS, so the client's paging is exercised.

Tokens are stateless: base64 of {offset, fingerprint of the other parameters}.
"""
import base64
import hashlib
import json
import xml.etree.ElementTree as ET

from localcloud.awserrors import AwsError

# EC2 Describe* operations that take MaxResults/NextToken, and the XML list element.
# (DescribeAddresses / DescribeAvailabilityZones are not paginated by AWS: left whole.)
EC2_LISTS = {
    "DescribeVpcs": "vpcSet",
    "DescribeSubnets": "subnetSet",
    "DescribeRouteTables": "routeTableSet",
    "DescribeNatGateways": "natGatewaySet",
    "DescribeInternetGateways": "internetGatewaySet",
    "DescribeSecurityGroups": "securityGroupInfo",
    "DescribeSecurityGroupRules": "securityGroupRuleSet",
    "DescribeNetworkInterfaces": "networkInterfaceSet",
    "DescribeInstanceTypes": "instanceTypeSet",
    "DescribeInstances": "reservationSet",
    "DescribeTags": "tagSet",
    "DescribeLaunchTemplates": "launchTemplates",
}

# moto answers with this default namespace; keep it unprefixed when re-serialising
ET.register_namespace("", "http://ec2.amazonaws.com/doc/2016-11-15")


def fingerprint(params: dict) -> str:
    rest = {k: v for k, v in sorted(params.items()) if k.lower() not in ("nexttoken", "maxresults")}
    return hashlib.sha1(json.dumps(rest, sort_keys=True, default=str).encode()).hexdigest()[:10]


def encode_token(offset: int, fp: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "f": fp}).encode()).decode().rstrip("=")


def decode_token(token: str | None, fp: str, service: str) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["f"] != fp:
            raise ValueError("parameters changed")
        return int(data["o"])
    except Exception:
        code = "InvalidParameterValue" if service == "ec2" else "InvalidParameterException"
        raise AwsError(code, f"Invalid value '{token}' for nextToken", 400)


def page_limit(page_size: int, max_results) -> int:
    """Effective page length (0 = unlimited)."""
    limits = [n for n in (page_size, int(max_results) if max_results not in (None, "") else 0) if n and n > 0]
    return min(limits) if limits else 0


def page(items: list, params: dict, page_size: int, service: str,
         max_key: str = "maxResults", token_key: str = "nextToken"):
    """Return (items of this page, next token or None)."""
    fp = fingerprint(params)
    start = decode_token(params.get(token_key), fp, service)
    limit = page_limit(page_size, params.get(max_key))
    if not limit:
        return items[start:], None
    end = start + limit
    return items[start:end], (encode_token(end, fp) if end < len(items) else None)


def ec2_list_element(root: ET.Element, operation: str):
    name = EC2_LISTS[operation]
    for child in root:
        if child.tag.split("}")[-1] == name:
            return child
    return None


def paginate_ec2(root: ET.Element, operation: str, params: dict, page_size: int) -> None:
    """Cut the list of an EC2 Describe response (in place) and add <nextToken>."""
    lst = ec2_list_element(root, operation)
    if lst is None:
        return
    items = list(lst)
    kept, token = page(items, params, page_size, "ec2", "MaxResults", "NextToken")
    for it in items:
        lst.remove(it)
    for it in kept:
        lst.append(it)
    for child in list(root):
        if child.tag.endswith("nextToken"):
            root.remove(child)
    if token:
        ns = root.tag[1:].split("}")[0] if root.tag.startswith("{") else None
        el = ET.SubElement(root, f"{{{ns}}}nextToken" if ns else "nextToken")
        el.text = token
