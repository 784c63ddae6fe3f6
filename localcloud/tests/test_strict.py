"""Strict (AWS as it is) vs lenient (today's default) behaviours; see localcloud/strict.py and
docs/aws-behaviour.md. Each test runs the same calls with the switch off and on."""
import json
import time

import botocore.exceptions
import pytest

from conftest import Cloud


def code(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"]


def config(cloud, **kw):
    return cloud.control("POST", "config", kw)


# --- switches ------------------------------------------------------------------------------

def test_defaults_are_lenient_and_strict_turns_all_on(cloud):
    c = cloud.control("GET", "config")
    assert c["strict"] is False
    assert not any(c[k] for k in ("ec2_consistency", "addon_degraded", "update_lag", "token_expiry_scaled",
                                  "k8s_versions", "tag_rules", "auth_mode_rules", "token_signature"))
    assert c["token_local_sts"] and c["addon_schema"]
    c = config(cloud, strict=True)
    assert c["strict"] is True and c["ec2_consistency"] and c["tag_rules"] and c["token_signature"]
    c = config(cloud, tag_rules=False)
    assert c["strict"] is False and c["ec2_consistency"] and not c["tag_rules"]
    with pytest.raises(Exception):
        config(cloud, no_such_switch=True)
    with pytest.raises(Exception):
        config(cloud, ec2_consistency_calls=-1)
    cloud.control("POST", "reset")  # back to the start-up settings
    assert cloud.control("GET", "config")["strict"] is False


def test_strict_flag_at_start(tmp_path):
    c = Cloud(tmp_path, "--strict", "--config", '{"ec2_consistency_calls": 1}')
    try:
        got = c.control("GET", "config")
        assert got["strict"] is True and got["ec2_consistency_calls"] == 1
        assert json.loads(c.script("config").stdout)["strict"] is True
        assert json.loads(c.script("config", '{"tag_rules": false}').stdout)["tag_rules"] is False
        c.control("POST", "reset")
        assert c.control("GET", "config")["strict"] is True  # reset returns to the start-up settings
    finally:
        c.down()


# --- 1. EC2 eventual consistency -------------------------------------------------------------

def test_ec2_new_ids_not_found_for_a_few_calls(cloud):
    ec2 = cloud.client("ec2")
    # lenient: visible at once
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})

    config(cloud, ec2_consistency=True, ec2_consistency_calls=2)
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "fresh"}]}])["Vpc"]["VpcId"]
    assert code(ec2.modify_vpc_attribute, VpcId=vpc, EnableDnsHostnames={"Value": True}) == "InvalidVpcID.NotFound"
    # a listing by tag leaves it out (and counts), it never raises
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["fresh"]}])["Vpcs"] == []
    assert ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["VpcId"] == vpc

    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    assert code(ec2.modify_subnet_attribute, SubnetId=subnet, MapPublicIpOnLaunch={"Value": True}) == \
        "InvalidSubnetID.NotFound"
    assert code(ec2.describe_subnets, SubnetIds=[subnet]) == "InvalidSubnetID.NotFound"
    ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    assert code(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=vpc) == \
        "InvalidInternetGatewayID.NotFound"
    assert code(ec2.create_tags, Resources=[igw], Tags=[{"Key": "a", "Value": "b"}]) == \
        "InvalidInternetGatewayID.NotFound"
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)

    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    assert code(ec2.create_route, RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw) == \
        "InvalidRouteTableID.NotFound"
    assert code(ec2.associate_route_table, RouteTableId=rtb, SubnetId=subnet) == "InvalidRouteTableID.NotFound"
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)

    sg = ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
    rule = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    assert code(ec2.authorize_security_group_ingress, GroupId=sg, IpPermissions=rule) == "InvalidGroup.NotFound"
    assert code(ec2.authorize_security_group_egress, GroupId=sg, IpPermissions=rule) == "InvalidGroup.NotFound"
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=rule)

    alloc = ec2.allocate_address(Domain="vpc")["AllocationId"]
    assert code(ec2.describe_addresses, AllocationIds=[alloc]) == "InvalidAllocationID.NotFound"
    assert alloc not in [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]]
    assert ec2.describe_addresses(AllocationIds=[alloc])["Addresses"][0]["AllocationId"] == alloc


def test_ec2_window_in_seconds_and_cidr_association_state(cloud):
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assoc = ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.64.0.0/16")["CidrBlockAssociation"]
    states = [a["CidrBlockState"]["State"] for a in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["CidrBlockAssociationSet"]]
    assert states == ["associated", "associated"]  # lenient: at once

    config(cloud, ec2_consistency=True, ec2_consistency_calls=0, ec2_consistency_seconds=0.6)
    sg = ec2.create_security_group(GroupName="g", Description="d", VpcId=vpc)["GroupId"]
    for _ in range(3):
        assert code(ec2.describe_security_groups, GroupIds=[sg]) == "InvalidGroup.NotFound"
    time.sleep(0.7)
    assert ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["GroupId"] == sg

    config(cloud, ec2_consistency_calls=1, ec2_consistency_seconds=0)
    assoc = ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="100.65.0.0/16")["CidrBlockAssociation"]
    assert assoc["CidrBlockState"]["State"] == "associating"

    def state():
        v = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]
        return {a["AssociationId"]: a["CidrBlockState"]["State"] for a in v["CidrBlockAssociationSet"]}
    assert state()[assoc["AssociationId"]] == "associating"
    assert state()[assoc["AssociationId"]] == "associated"


# --- 5. tags ---------------------------------------------------------------------------------

def test_ec2_tag_rules(cloud):
    ec2 = cloud.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    bad = [{"Key": "aws:owner", "Value": "x"}, {"Key": "k" * 129, "Value": "x"}, {"Key": "k", "Value": "v" * 257}]
    for tag in bad:  # lenient: moto takes them
        ec2.create_tags(Resources=[vpc], Tags=[tag])
    config(cloud, tag_rules=True)
    for tag in bad:
        assert code(ec2.create_tags, Resources=[vpc], Tags=[tag]) == "InvalidParameterValue"
    assert code(ec2.create_subnet, VpcId=vpc, CidrBlock="10.0.9.0/24", TagSpecifications=[
        {"ResourceType": "subnet", "Tags": [{"Key": "AWS:x", "Value": "y"}]}]) == "InvalidParameterValue"
    # EC2 allows any character, and the limits themselves
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "k" * 128, "Value": "v" * 256}, {"Key": "a,b;c", "Value": "#!"}])
