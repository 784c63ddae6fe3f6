"""API throttling as AWS applies it (throttle.py): token buckets per account, region and family."""
import json

import botocore.exceptions
import pytest

from conftest import Cloud
from localcloud.throttle import DEFAULT_RATES, Throttle, family


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_a_bucket_admits_its_size_then_refills_at_its_rate():
    clock = Clock()
    t = Throttle({"ec2-describe": [3, 2]}, clock=clock)
    assert [t.admit("a", "us-west-2", "ec2", "DescribeVpcs") for _ in range(4)] == [True, True, True, False]
    clock.now += 0.5  # one token back (2 per second)
    assert t.admit("a", "us-west-2", "ec2", "DescribeSubnets")
    assert not t.admit("a", "us-west-2", "ec2", "DescribeSubnets")
    clock.now += 60  # never more than the bucket holds
    assert sum(t.admit("a", "us-west-2", "ec2", "DescribeVpcs") for _ in range(10)) == 3
    assert t.throttled == 1 + 1 + 7


def test_families_accounts_and_regions_have_buckets_of_their_own():
    clock = Clock()
    t = Throttle({"ec2-describe": [1, 0.001], "ec2-mutating": [1, 0.001], "eks-describe": [1, 0.001]}, clock=clock)
    assert t.admit("a", "us-west-2", "ec2", "DescribeVpcs")
    assert not t.admit("a", "us-west-2", "ec2", "DescribeVpcs")
    assert t.admit("a", "us-west-2", "ec2", "CreateVpc")  # mutating: another bucket
    assert t.admit("a", "eu-west-1", "ec2", "DescribeVpcs")  # another region
    assert t.admit("b", "us-west-2", "ec2", "DescribeVpcs")  # another account
    assert t.admit("a", "us-west-2", "eks", "DescribeCluster")
    assert not t.admit("a", "us-west-2", "eks", "ListNodegroups")  # List* reads share EKS's read bucket
    # IAM, STS, S3 are not throttled here
    assert all(t.admit("a", "us-west-2", "iam", "ListRoles") for _ in range(50))


def test_the_scale_speeds_the_refill_up_as_it_speeds_aws_time_up():
    clock = Clock()
    t = Throttle({"ec2-mutating": [1, 5]}, scale=60, clock=clock)
    assert t.admit("a", "r", "ec2", "CreateSubnet")
    assert not t.admit("a", "r", "ec2", "CreateSubnet")
    clock.now += 1 / 250  # 5 tokens per AWS second, 60 AWS seconds per second: over one token
    assert t.admit("a", "r", "ec2", "CreateSubnet")


def test_the_documented_ec2_rates_are_the_defaults():
    # EC2 developer guide, Request throttling: non-mutating 100 refilled by 20/s, mutating 200 by 5/s
    assert DEFAULT_RATES["ec2-describe"] == (100.0, 20.0)
    assert DEFAULT_RATES["ec2-mutating"] == (200.0, 5.0)
    assert family("ec2", "DescribeNatGateways") == "ec2-describe"
    assert family("ec2", "DeleteSubnet") == "ec2-mutating"
    assert family("eks", "ListAddons") == "eks-describe"
    assert family("eks", "CreateNodegroup") == "eks-mutating"
    assert family("iam", "ListRoles") is None


def test_the_default_instance_does_not_throttle(cloud):
    assert cloud.control("GET", "throttle") == {"throttle": None}
    ec2 = cloud.client("ec2")
    for _ in range(120):  # more than EC2's bucket of 100
        ec2.describe_vpcs()


@pytest.fixture(scope="module")
def throttled(tmp_path_factory):
    rates = {"ec2-describe": [3, 0.001], "eks-describe": [2, 0.001]}
    c = Cloud(tmp_path_factory.mktemp("lc"), "--throttle-rates", json.dumps(rates))
    yield c
    c.down()


def test_a_throttled_call_gets_each_services_own_error(throttled):
    ec2 = throttled.client("ec2")
    before = len(throttled.log())
    for _ in range(3):
        ec2.describe_vpcs()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        ec2.describe_subnets()
    assert e.value.response["Error"]["Code"] == "RequestLimitExceeded"
    ec2.create_vpc(CidrBlock="10.7.0.0/16")  # mutating calls have their own bucket
    throttled.client("ec2", region="eu-west-1").describe_vpcs()  # and so has every region

    eks = throttled.client("eks")
    eks.list_clusters()
    eks.list_clusters()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        eks.describe_cluster(name="nope")
    assert e.value.response["Error"]["Code"] == "ThrottlingException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429

    log = throttled.log()[before:]
    refused = [(r["service"], r["operation"]) for r in log if r.get("throttled")]
    assert refused == [("ec2", "DescribeSubnets"), ("eks", "DescribeCluster")]
    state = throttled.control("GET", "throttle")
    assert state["throttled"] == 2 and state["rates"]["ec2-describe"] == [3.0, 0.001]
    assert state["rates"]["ec2-mutating"] == [200.0, 5.0]
