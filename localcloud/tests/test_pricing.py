"""pricing:GetProducts: AWS's unhappy paths first, then filters and the answer's shape."""
import json

import botocore.exceptions
import pytest


def pricing(cloud):
    return cloud.client("pricing", region="us-east-1")


def term(field, value, kind="TERM_MATCH"):
    return {"Type": kind, "Field": field, "Value": value}


def usd(doc):
    (term_,) = doc["terms"]["OnDemand"].values()
    (dim,) = term_["priceDimensions"].values()
    return dim["pricePerUnit"]["USD"], dim["unit"]


def error(call):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call()
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


def test_refusals_as_aws_words_them(cloud):
    p = pricing(cloud)
    assert error(lambda: p.get_products(ServiceCode="Amazon EC2")) == (
        "InvalidParameterException", "ServiceCode can only contain a-z, A-Z, 0-9")
    code, message = error(lambda: p.get_products(ServiceCode="AmazonNoSuchThing"))
    assert code == "NotFoundException" and "AmazonNoSuchThing" in message
    code, _ = error(lambda: p.get_products(ServiceCode="AmazonEC2", FormatVersion="aws_v2"))
    assert code == "InvalidParameterException"
    code, _ = error(lambda: p.get_products(ServiceCode="AmazonEC2", NextToken="not-a-token"))
    assert code == "InvalidNextTokenException"


def test_access_denied_and_faults_are_rules(cloud):
    p = pricing(cloud)
    cloud.control("POST", "faults", {"service": "pricing", "operation": "GetProducts", "error": "AccessDeniedException",
                                     "message": "User is not authorized to perform: pricing:GetProducts", "times": 1})
    code, message = error(lambda: p.get_products(ServiceCode="AmazonEKS"))
    assert code == "AccessDeniedException" and "pricing:GetProducts" in message
    assert p.get_products(ServiceCode="AmazonEKS")["PriceList"]  # the rule fired once
    logged = [e for e in cloud.log() if e["service"] == "pricing"][-2:]
    assert [(e["operation"], e["status"]) for e in logged] == [("GetProducts", 400), ("GetProducts", 200)]


def test_one_instance_row_needs_every_attribute_an_on_demand_price_depends_on(cloud):
    p = pricing(cloud)
    wanted = [term("regionCode", "ap-southeast-2"), term("instanceType", "c5.large")]
    loose = p.get_products(ServiceCode="AmazonEC2", Filters=wanted)["PriceList"]
    assert len(loose) > 1, "a filter on region and type alone matches reserved, dedicated, Windows rows too"
    exact = wanted + [term("operatingSystem", "Linux"), term("tenancy", "Shared"), term("preInstalledSw", "NA"),
                      term("capacitystatus", "Used")]
    out = p.get_products(ServiceCode="AmazonEC2", Filters=exact, FormatVersion="aws_v1")
    assert out["FormatVersion"] == "aws_v1" and "NextToken" not in out
    assert all(isinstance(d, str) for d in out["PriceList"]), "PriceList holds JSON strings"
    (doc,) = [json.loads(d) for d in out["PriceList"]]
    assert doc["product"]["productFamily"] == "Compute Instance"
    assert doc["product"]["attributes"]["usagetype"] == "APS2-BoxUsage:c5.large"
    assert usd(doc) == ("0.111", "Hrs")


def test_eks_nat_ipv4_and_gp3_rows(cloud):
    p = pricing(cloud)
    eks = [json.loads(d) for d in p.get_products(ServiceCode="AmazonEKS", Filters=[term("regionCode", "eu-central-1")])["PriceList"]]
    rates = {d["product"]["attributes"]["usagetype"]: usd(d)[0] for d in eks}
    assert rates == {"EUC1-AmazonEKS-Hours:perCluster": "0.10", "EUC1-AmazonEKS-Hours:extendedSupport": "0.50"}
    nat = p.get_products(ServiceCode="AmazonEC2", Filters=[term("regionCode", "us-east-1"), term("productFamily", "NAT Gateway"),
                                                            term("usagetype", "NatGateway-Hours")])["PriceList"]
    assert [usd(json.loads(d)) for d in nat] == [("0.045", "Hrs")]
    ipv4 = p.get_products(ServiceCode="AmazonVPC", Filters=[term("regionCode", "us-west-2"),
                                                             term("usagetype", "PublicIPv4:InUseAddress", "CONTAINS")])["PriceList"]
    assert [usd(json.loads(d)) for d in ipv4] == [("0.005", "Hrs")]
    gp3 = p.get_products(ServiceCode="AmazonEC2", Filters=[term("regionCode", "us-west-2"), term("volumeApiName", "gp3"),
                                                            term("productFamily", "Storage")])["PriceList"]
    assert [usd(json.loads(d)) for d in gp3] == [("0.08", "GB-Mo")]


def test_any_of_none_of_and_pages(cloud):
    p = pricing(cloud)
    base = [term("regionCode", "us-west-2"), term("operatingSystem", "Linux"), term("tenancy", "Shared"),
            term("preInstalledSw", "NA"), term("capacitystatus", "Used")]
    two = p.get_products(ServiceCode="AmazonEC2", Filters=base + [term("instanceType", "m5.large, c5.large", "ANY_OF")])["PriceList"]
    assert sorted(json.loads(d)["product"]["attributes"]["instanceType"] for d in two) == ["c5.large", "m5.large"]
    rest = p.get_products(ServiceCode="AmazonEC2", Filters=base + [term("instanceType", "m5.large,c5.large", "NONE_OF")])["PriceList"]
    assert len(rest) == 4 and not any('"c5.large"' in d for d in rest)
    first = p.get_products(ServiceCode="AmazonEC2", Filters=base, MaxResults=4)
    assert len(first["PriceList"]) == 4 and first["NextToken"]
    second = p.get_products(ServiceCode="AmazonEC2", Filters=base, MaxResults=4, NextToken=first["NextToken"])
    assert len(second["PriceList"]) == 2 and "NextToken" not in second
    code, _ = error(lambda: p.get_products(ServiceCode="AmazonEKS", NextToken=first["NextToken"]))
    assert code == "InvalidNextTokenException"
