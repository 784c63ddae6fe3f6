"""The AWS Price List Query API: GetProducts (JSON 1.1, `X-Amz-Target:
AWSPriceListService.GetProducts`) for the products an EKS stack bills, from a small price table
(fixtures/prices.json).

Sources:
- Shapes: https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html
  (ServiceCode, Filters[{Type, Field, Value}], FormatVersion "aws_v1", NextToken, MaxResults 1-100;
  the answer: FormatVersion, PriceList = a list of JSON *strings*, NextToken) and the Filter types
  TERM_MATCH | EQUALS | CONTAINS | ANY_OF | NONE_OF (aws-sdk-pricing's FilterType, ANY_OF/NONE_OF
  take comma-separated values). A price list document: {"product": {"productFamily",
  "attributes", "sku"}, "serviceCode", "terms": {"OnDemand": {"SKU.TERM": {"priceDimensions":
  {"SKU.TERM.RATE": {"unit", "pricePerUnit": {"USD"}, ...}}}}}, "version", "publicationDate"}.
- Errors: "InvalidParameterException: Input Parameters are invalid. serviceCode cannot be null or
  empty" (aws/aws-sdk#51), "InvalidParameterException: ServiceCode can only contain a-z, A-Z, 0-9"
  (cloud-barista/cb-spider#1055); NotFoundException, AccessDeniedException,
  InvalidNextTokenException, ExpiredNextTokenException are the API's modelled errors. A denied
  caller is a fault rule: {"service": "pricing", "operation": "GetProducts", "error":
  "AccessDeniedException"}.
- Attributes as price-list consumers filter on them: infracost internal/resources/aws
  eks_cluster.go (AmazonEKS, productFamily Compute, usagetype AmazonEKS-Hours:perCluster),
  nat_gateway.go (AmazonEC2, productFamily "NAT Gateway", usagetype NatGateway-Hours /
  NatGateway-Bytes), instance.go (productFamily "Compute Instance", instanceType, tenancy Shared,
  operatingSystem Linux, preInstalledSw NA, licenseModel "No License required", capacitystatus
  Used), ebs_volume.go (productFamily Storage, volumeApiName gp3); billed usage types
  `APN2-AmazonEKS-Hours:extendedSupport` (a surcharge on top of perCluster, operation
  ExtendedSupport), `USE1-PublicIPv4:InUseAddress` under service code AmazonVPC,
  `APN2-EBS:VolumeUsage.gp3`, `APN2-NatGateway-Hours` (cost reports quoted in public repos).
  us-east-1's EC2 usage types carry no region prefix (`BoxUsage:t3.medium`, `NatGateway-Hours`).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re

from localcloud.awserrors import AwsError, Response

TARGET_PREFIX = "AWSPriceListService."
FILTER_TYPES = ("TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF")
PUBLICATION = "2026-11-01T00:00:00Z"
VERSION = "20261101000000"


def _sku(*parts: str) -> str:
    return hashlib.sha1("|".join(parts).encode()).hexdigest()[:16].upper()


def _doc(service: str, family: str | None, attrs: dict, unit: str, usd: str, description: str) -> dict:
    sku = _sku(service, json.dumps(attrs, sort_keys=True))
    term = f"{sku}.JRTCKXETXF"
    product = {"attributes": {"servicecode": service, **attrs}, "sku": sku}
    if family is not None:
        product["productFamily"] = family
    return {
        "product": product,
        "serviceCode": service,
        "terms": {"OnDemand": {term: {
            "priceDimensions": {f"{term}.6YS6EN2CT7": {
                "unit": unit, "endRange": "Inf", "description": description, "appliesTo": [],
                "rateCode": f"{term}.6YS6EN2CT7", "beginRange": "0", "pricePerUnit": {"USD": usd}}},
            "sku": sku, "effectiveDate": PUBLICATION, "offerTermCode": "JRTCKXETXF", "termAttributes": {}}}},
        "version": VERSION,
        "publicationDate": PUBLICATION,
    }


def _scaled(price: str, factor: float) -> str:
    return f"{float(price) * factor:.4f}"


def catalogue(table: dict) -> dict[str, list[dict]]:
    """Every product document of the table, by service code."""
    out: dict[str, list[dict]] = {"AmazonEKS": [], "AmazonEC2": [], "AmazonVPC": []}
    for region, r in table["regions"].items():
        base = {"regionCode": region, "location": r["location"], "locationType": "AWS Region"}
        p, e = r["prefix"], r["ec2_prefix"]
        out["AmazonEKS"] += [
            _doc("AmazonEKS", "Compute", {**base, "usagetype": f"{p}-AmazonEKS-Hours:perCluster", "operation": "CreateOperation"},
                 "Hrs", r["eks_cluster_hour"], f"Amazon EKS cluster usage in {r['location']}"),
            _doc("AmazonEKS", "Compute", {**base, "usagetype": f"{p}-AmazonEKS-Hours:extendedSupport", "operation": "ExtendedSupport"},
                 "Hrs", r["eks_extended_hour"], f"Amazon EKS extended support in {r['location']}"),
        ]
        out["AmazonVPC"] += [
            _doc("AmazonVPC", "VPC Public IPv4 Address", {**base, "usagetype": f"{p}-PublicIPv4:InUseAddress", "operation": ""},
                 "Hrs", r["ipv4_hour"], "In-use public IPv4 address per hour"),
            _doc("AmazonVPC", "VPC Public IPv4 Address", {**base, "usagetype": f"{p}-PublicIPv4:IdleAddress", "operation": ""},
                 "Hrs", r["ipv4_hour"], "Idle public IPv4 address per hour"),
        ]
        ec2 = out["AmazonEC2"]
        ec2 += [
            _doc("AmazonEC2", "NAT Gateway", {**base, "usagetype": f"{e}NatGateway-Hours", "operation": "NatGateway"},
                 "Hrs", r["nat_hour"], "NAT gateway hour"),
            _doc("AmazonEC2", "NAT Gateway", {**base, "usagetype": f"{e}NatGateway-Bytes", "operation": "NatGateway"},
                 "GB", r["nat_hour"], "NAT gateway data processed per GB"),
            _doc("AmazonEC2", "Storage", {**base, "usagetype": f"{e}EBS:VolumeUsage.gp3", "volumeApiName": "gp3",
                                          "volumeType": "General Purpose", "storageMedia": "SSD-backed"},
                 "GB-Mo", r["gp3_gb_month"], "gp3 storage per GB-month"),
            _doc("AmazonEC2", "Storage", {**base, "usagetype": f"{e}EBS:VolumeUsage.gp2", "volumeApiName": "gp2",
                                          "volumeType": "General Purpose", "storageMedia": "SSD-backed"},
                 "GB-Mo", _scaled(r["gp3_gb_month"], 1.25), "gp2 storage per GB-month"),
        ]
        for itype, hour in r["instances"].items():
            # The priced row and the rows a sloppy filter would also match (AWS lists each
            # instance type many times): reserved capacity, other tenancies, OS and software.
            variants = [
                ("Shared", "Linux", "NA", "Used", hour),
                ("Shared", "Linux", "NA", "UnusedCapacityReservation", hour),
                ("Shared", "Linux", "NA", "AllocatedCapacityReservation", "0.0000"),
                ("Dedicated", "Linux", "NA", "Used", _scaled(hour, 1.1)),
                ("Shared", "Windows", "NA", "Used", _scaled(hour, 1.8)),
                ("Shared", "Linux", "SQL Std", "Used", _scaled(hour, 4.0)),
            ]
            for tenancy, os_name, sw, capacity, usd in variants:
                usage = f"{e}{'Dedicated' if tenancy == 'Dedicated' else 'Box'}Usage:{itype}"
                ec2.append(_doc("AmazonEC2", "Compute Instance", {
                    **base, "instanceType": itype, "tenancy": tenancy, "operatingSystem": os_name,
                    "preInstalledSw": sw, "capacitystatus": capacity, "licenseModel": "No License required",
                    "usagetype": usage, "operation": "RunInstances"}, "Hrs", usd,
                    f"${usd} per On Demand {os_name} {itype} Instance Hour"))
    return out


def _field(doc: dict, name: str) -> str | None:
    product = doc["product"]
    if name.lower() == "productfamily":
        return product.get("productFamily")
    if name.lower() == "sku":
        return product["sku"]
    if name.lower() == "servicecode":
        return doc["serviceCode"]
    return product["attributes"].get(name)


def _matches(doc: dict, f: dict) -> bool:
    value, want, kind = _field(doc, f["Field"]), f["Value"], f["Type"]
    if kind == "NONE_OF":
        return value is None or value not in [v.strip() for v in want.split(",")]
    if value is None:
        return False
    if kind in ("TERM_MATCH", "EQUALS"):
        return value == want
    if kind == "CONTAINS":
        return want in value
    return value in [v.strip() for v in want.split(",")]  # ANY_OF


def _invalid(message: str):
    raise AwsError("InvalidParameterException", message, 400)


class Pricing:
    def __init__(self, path: str | None = None):
        path = path or os.path.join(os.path.dirname(__file__), "fixtures", "prices.json")
        with open(path) as f:
            self.products = catalogue(json.load(f))

    @staticmethod
    def operation_name(req) -> str:
        target = req.headers.get("x-amz-target", "")
        return target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else f"{req.method} {req.path}"

    def handle(self, req, operation: str) -> Response:
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            raise AwsError("SerializationException", "the request body is not JSON", 400) from None
        if operation != "GetProducts":
            raise AwsError("UnknownOperationException", f"localcloud serves GetProducts only, not {operation}", 400)
        return self.get_products(body)

    def get_products(self, body: dict) -> Response:
        code = body.get("ServiceCode")
        if not code:
            _invalid("Input Parameters are invalid. serviceCode cannot be null or empty")
        if not re.fullmatch(r"[A-Za-z0-9]+", code):
            _invalid("ServiceCode can only contain a-z, A-Z, 0-9")
        if body.get("FormatVersion", "aws_v1") != "aws_v1":
            _invalid(f"Input Parameters are invalid. FormatVersion {body['FormatVersion']} is not supported, use aws_v1")
        size = body.get("MaxResults", 100)
        if not isinstance(size, int) or not 1 <= size <= 100:
            _invalid("Input Parameters are invalid. MaxResults must be between 1 and 100")
        filters = body.get("Filters") or []
        for f in filters:
            if f.get("Type") not in FILTER_TYPES:
                _invalid(f"Input Parameters are invalid. Filter type {f.get('Type')} is not one of {', '.join(FILTER_TYPES)}")
            if not f.get("Field") or f.get("Value") is None:
                _invalid("Input Parameters are invalid. A filter needs a Field and a Value")
        if code not in self.products:
            raise AwsError("NotFoundException", f"The requested resource was not found: service code {code}", 400)
        found = [d for d in self.products[code] if all(_matches(d, f) for f in filters)]
        start = 0
        if body.get("NextToken"):
            try:
                token = json.loads(base64.b64decode(body["NextToken"]))
                start, same = int(token["start"]), token["query"] == _query_key(code, filters)
            except (ValueError, KeyError, TypeError):
                raise AwsError("InvalidNextTokenException", "The pagination token is invalid. Try again without a pagination token.", 400) from None
            if not same:
                raise AwsError("InvalidNextTokenException", "The pagination token belongs to another query.", 400)
        page = found[start:start + size]
        out = {"FormatVersion": "aws_v1", "PriceList": [json.dumps(d) for d in page]}
        if start + size < len(found):
            out["NextToken"] = base64.b64encode(json.dumps({"start": start + size, "query": _query_key(code, filters)}).encode()).decode()
        return Response(200, json.dumps(out).encode(), {"Content-Type": "application/x-amz-json-1.1"})


def _query_key(code: str, filters: list) -> str:
    return _sku(code, json.dumps(filters, sort_keys=True))
