"""Strict (AWS as it is) vs lenient (today's default) behaviours; see localcloud/strict.py and
docs/aws-behaviour.md. Each test runs the same calls with the switch off and on."""
import base64
import datetime
import json
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from unittest import mock

import botocore.exceptions
import botocore.session
import pytest

from conftest import Cloud, make_network
from localcloud import eks_token
from localcloud.strict import Settings


CALENDAR_DAY = "2026-06-01"  # offered then: 1.30, 1.31, 1.32 (extended), 1.33, 1.34, 1.35 (standard)


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


@pytest.fixture(scope="module")
def strict_cloud(tmp_path_factory):
    """A private instance started strict, on the realistic profile's clock (scaled 600x)."""
    c = Cloud(tmp_path_factory.mktemp("strict"), "--profile", "realistic", "--scale", "600", "--strict",
              "--config", json.dumps({"k8s_calendar_date": CALENDAR_DAY, "ec2_consistency": False}))
    c._net = None
    yield c
    c.down()


def test_strict_flag_at_start(strict_cloud):
    c = strict_cloud
    got = c.control("GET", "config")
    assert got["tag_rules"] is True and got["ec2_consistency"] is False and got["k8s_calendar_date"] == CALENDAR_DAY
    assert json.loads(c.script("config").stdout)["token_signature"] is True
    assert json.loads(c.script("config", '{"tag_rules": false}').stdout)["tag_rules"] is False
    c.control("POST", "reset")
    assert c.control("GET", "config")["tag_rules"] is True  # reset returns to the start-up settings


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


# --- EKS helpers -----------------------------------------------------------------------------

def eks_cluster(cloud, name="demo", version="1.33", **extra):
    net = make_network(cloud) if not cloud.__dict__.get("_net") else cloud._net
    cloud._net = net
    eks = cloud.client("eks")
    eks.create_cluster(name=name, roleArn=net["role"], version=version,
                       resourcesVpcConfig={"subnetIds": net["subnets"]}, **extra)
    return wait_cluster(cloud, name)


def wait_cluster(cloud, name, timeout=10.0):
    eks, t0 = cloud.client("eks"), time.monotonic()
    while True:
        c = eks.describe_cluster(name=name)["cluster"]
        if c["status"] == "ACTIVE" or time.monotonic() - t0 > timeout:
            return c
        time.sleep(0.05)


def node_group(cloud, cluster="demo", name="ng", **extra):
    eks = cloud.client("eks")
    role = cloud.client("iam").create_role(RoleName=f"node-{cluster}-{name}", AssumeRolePolicyDocument="{}")
    return eks.create_nodegroup(clusterName=cluster, nodegroupName=name, nodeRole=role["Role"]["Arn"],
                                subnets=cloud._net["subnets"], instanceTypes=["t3.medium"],
                                scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1}, **extra)["nodegroup"]


@pytest.fixture
def eks_cloud(cloud):
    cloud._net = None
    return cloud


def message(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    return e.value.response["Error"]["Code"], e.value.response["Error"]["Message"]


# --- 2. add-ons pass through DEGRADED; updates start after their id is answered ---------------

def test_addons_degraded(eks_cloud):
    cloud, eks = eks_cloud, eks_cloud.client("eks")
    eks_cluster(cloud)
    eks.create_addon(clusterName="demo", addonName="coredns")
    a = eks.describe_addon(clusterName="demo", addonName="coredns")["addon"]
    assert a["status"] == "ACTIVE" and a["health"]["issues"] == []  # lenient: no nodes, still ACTIVE
    eks.delete_addon(clusterName="demo", addonName="coredns")

    config(cloud, addon_degraded=True, addon_degraded_calls=2)
    eks.create_addon(clusterName="demo", addonName="coredns")
    for _ in range(3):
        a = eks.describe_addon(clusterName="demo", addonName="coredns")["addon"]
        assert a["status"] == "DEGRADED"
        assert a["health"]["issues"][0]["code"] == "InsufficientNumberOfReplicas"
    node_group(cloud)
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE"
    a = eks.describe_addon(clusterName="demo", addonName="coredns")["addon"]
    assert a["status"] == "ACTIVE" and a["health"]["issues"] == []

    eks.create_addon(clusterName="demo", addonName="vpc-cni")
    seen = [eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]["status"] for _ in range(3)]
    assert seen == ["DEGRADED", "DEGRADED", "ACTIVE"]
    u = eks.update_addon(clusterName="demo", addonName="vpc-cni", addonVersion="v1.19.6-eksbuild.1")["update"]
    seen = [eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]["status"] for _ in range(3)]
    assert seen == ["DEGRADED", "DEGRADED", "ACTIVE"]
    assert eks.describe_update(name="demo", updateId=u["id"], addonName="vpc-cni")["update"]["status"] == "Successful"


def test_update_answers_its_id_before_it_starts(eks_cloud):
    cloud, eks = eks_cloud, eks_cloud.client("eks")
    eks_cluster(cloud)
    logging = {"clusterLogging": [{"types": ["api"], "enabled": True}]}
    u = eks.update_cluster_config(name="demo", logging=logging)["update"]
    c = eks.describe_cluster(name="demo")["cluster"]  # lenient: done at once (profile none)
    assert c["status"] == "ACTIVE" and c["logging"] == logging

    config(cloud, update_lag=True, update_lag_calls=1)
    logging = {"clusterLogging": [{"types": ["audit"], "enabled": True}]}
    u = eks.update_cluster_config(name="demo", logging=logging)["update"]
    assert u["status"] == "InProgress"
    c = eks.describe_cluster(name="demo")["cluster"]
    assert c["status"] == "ACTIVE" and c["logging"] != logging  # not started: the old state
    assert eks.describe_update(name="demo", updateId=u["id"])["update"]["status"] == "Successful"
    assert eks.describe_cluster(name="demo")["cluster"]["logging"] == logging

    node_group(cloud)
    eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")
    config(cloud, update_lag_calls=2)  # every EKS call on the cluster counts, DescribeUpdate too
    u = eks.update_nodegroup_config(clusterName="demo", nodegroupName="ng",
                                    scalingConfig={"minSize": 1, "maxSize": 3, "desiredSize": 2})["update"]
    assert eks.describe_update(name="demo", updateId=u["id"], nodegroupName="ng")["update"]["status"] == "InProgress"
    ng = eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]
    assert ng["status"] == "ACTIVE" and ng["scalingConfig"]["desiredSize"] == 1
    assert eks.describe_update(name="demo", updateId=u["id"], nodegroupName="ng")["update"]["status"] == "Successful"

    config(cloud, update_lag_calls=1)
    eks.create_addon(clusterName="demo", addonName="kube-proxy")
    eks.describe_addon(clusterName="demo", addonName="kube-proxy")
    u = eks.update_addon(clusterName="demo", addonName="kube-proxy", addonVersion="v1.33.0-eksbuild.1")["update"]
    a = eks.describe_addon(clusterName="demo", addonName="kube-proxy")["addon"]
    assert a["status"] == "ACTIVE" and a["addonVersion"] == "v1.33.3-eksbuild.2"
    assert eks.describe_update(name="demo", updateId=u["id"], addonName="kube-proxy")["update"]["status"] == \
        "Successful"
    assert eks.describe_addon(clusterName="demo", addonName="kube-proxy")["addon"]["addonVersion"] == \
        "v1.33.0-eksbuild.1"


# --- 4. Kubernetes versions age --------------------------------------------------------------

def versions(eks, **kw):
    out, token = [], None
    while True:
        page = eks.describe_cluster_versions(**kw, **({"nextToken": token} if token else {}))
        out += page["clusterVersions"]
        token = page.get("nextToken")
        if not token:
            return out


def test_describe_cluster_versions(cloud):
    eks = cloud.client("eks")
    config(cloud, k8s_calendar_date=CALENDAR_DAY)
    vs = versions(eks)
    got = {v["clusterVersion"]: v["versionStatus"] for v in vs}
    assert got == {"1.35": "STANDARD_SUPPORT", "1.34": "STANDARD_SUPPORT", "1.33": "STANDARD_SUPPORT",
                   "1.32": "EXTENDED_SUPPORT", "1.31": "EXTENDED_SUPPORT", "1.30": "EXTENDED_SUPPORT"}
    assert [v["clusterVersion"] for v in vs if v["defaultVersion"]] == ["1.35"]
    v133 = next(v for v in vs if v["clusterVersion"] == "1.33")
    assert v133["endOfStandardSupportDate"].date().isoformat() == "2026-07-29"
    assert v133["endOfExtendedSupportDate"].date().isoformat() == "2027-07-29"
    assert v133["status"] == "standard-support" and v133["clusterType"] == "eks"
    every = versions(eks, includeAll=True)
    assert {v["clusterVersion"]: v["versionStatus"] for v in every}["1.29"] == "UNSUPPORTED"
    assert [v["clusterVersion"] for v in eks.describe_cluster_versions(clusterVersions=["1.31"])["clusterVersions"]] \
        == ["1.31"]
    ext = eks.describe_cluster_versions(versionStatus="EXTENDED_SUPPORT")["clusterVersions"]
    assert sorted(v["clusterVersion"] for v in ext) == ["1.30", "1.31", "1.32"]
    assert [v["clusterVersion"] for v in eks.describe_cluster_versions(defaultOnly=True)["clusterVersions"]] == ["1.35"]


def test_versions_not_offered_are_refused(eks_cloud):
    cloud, eks = eks_cloud, eks_cloud.client("eks")
    config(cloud, k8s_calendar_date=CALENDAR_DAY)
    eks_cluster(cloud, name="old", version="1.29")  # lenient: any version localcloud knows
    config(cloud, k8s_versions=True)
    assert message(eks.create_cluster, name="older", roleArn=cloud._net["role"], version="1.29",
                   resourcesVpcConfig={"subnetIds": cloud._net["subnets"]}) == \
        ("InvalidParameterException", "unsupported Kubernetes version 1.29")
    eks.update_cluster_version(name="old", version="1.30")  # 1.30 is offered (extended support)
    c = eks_cluster(cloud, name="new", version="1.34")
    assert c["version"] == "1.34"
    eks.update_cluster_version(name="new", version="1.35")
    config(cloud, k8s_calendar_date="2028-04-01")  # 1.35 past its extended support
    assert message(eks.create_cluster, name="x", roleArn=cloud._net["role"], version="1.35",
                   resourcesVpcConfig={"subnetIds": cloud._net["subnets"]})[1] == "unsupported Kubernetes version 1.35"


def test_al2_nodegroups_refused_from_133(eks_cloud):
    cloud, eks = eks_cloud, eks_cloud.client("eks")
    eks_cluster(cloud, name="demo", version="1.33")
    eks_cluster(cloud, name="c132", version="1.32")
    node_group(cloud, "demo", "al2", amiType="AL2_x86_64")  # lenient: accepted
    config(cloud, k8s_versions=True, k8s_calendar_date=CALENDAR_DAY)
    for ami in ("AL2_x86_64", "AL2_ARM_64", "AL2_x86_64_GPU"):
        assert message(node_group, cloud=cloud, cluster="demo", name="n-" + ami.lower().replace("_", "-"),
                       amiType=ami) == ("InvalidParameterException",
                                        f"AMI Type {ami} is only supported for kubernetes versions 1.32 or earlier")
    node_group(cloud, "c132", "al2", amiType="AL2_x86_64")
    node_group(cloud, "demo", "al2023", amiType="AL2023_x86_64_STANDARD")


# --- 5. tags (EKS) ---------------------------------------------------------------------------

def test_eks_tag_rules(eks_cloud):
    cloud, eks = eks_cloud, eks_cloud.client("eks")
    c = eks_cluster(cloud, tags={"aws:team": "x", "a,b": "c"})  # lenient: taken
    config(cloud, tag_rules=True)
    for tags in ({"aws:team": "x"}, {"AWS:x": "y"}, {"k" * 129: "v"}, {"k": "v" * 257}, {"a,b": "c"}, {"k": "v;w"}):
        assert code(eks.tag_resource, resourceArn=c["arn"], tags=tags) == "BadRequestException"
        assert code(eks.create_cluster, name="t", roleArn=cloud._net["role"], version="1.33", tags=tags,
                    resourcesVpcConfig={"subnetIds": cloud._net["subnets"]}) == "InvalidParameterException"
    eks.tag_resource(resourceArn=c["arn"], tags={"k" * 128: "v" * 256, "Name": "a b+-=._:/@", "ünï": "çødé"})


# --- 6. authentication mode moves one way ----------------------------------------------------

def test_authentication_mode_one_way(eks_cloud):
    cloud, eks = eks_cloud, eks_cloud.client("eks")
    eks_cluster(cloud, name="lenient")
    eks.update_cluster_config(name="lenient", accessConfig={"authenticationMode": "API"})  # today: skipping is fine
    wait_cluster(cloud, "lenient")
    assert code(eks.update_cluster_config, name="lenient", accessConfig={"authenticationMode": "CONFIG_MAP"}) == \
        "InvalidParameterException"  # backwards was refused already
    config(cloud, auth_mode_rules=True)
    eks_cluster(cloud, name="strict")
    assert message(eks.update_cluster_config, name="strict", accessConfig={"authenticationMode": "API"}) == \
        ("InvalidParameterException", "Unsupported authentication mode update from CONFIG_MAP to API")
    assert message(eks.update_cluster_config, name="strict", accessConfig={"authenticationMode": "CONFIG_MAP"})[1] == \
        "Unsupported authentication mode update from CONFIG_MAP to CONFIG_MAP"
    eks.update_cluster_config(name="strict", accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    assert wait_cluster(cloud, "strict")["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert message(eks.update_cluster_config, name="strict", accessConfig={"authenticationMode": "CONFIG_MAP"})[1] == \
        "Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP"
    eks.update_cluster_config(name="strict", accessConfig={"authenticationMode": "API"})
    assert wait_cluster(cloud, "strict")["accessConfig"]["authenticationMode"] == "API"
    assert message(eks.create_cluster, name="cm", roleArn=cloud._net["role"], version="1.33",
                   resourcesVpcConfig={"subnetIds": cloud._net["subnets"]},
                   accessConfig={"authenticationMode": "CONFIG_MAP",
                                 "bootstrapClusterCreatorAdminPermissions": False})[1] == \
        "bootstrapClusterCreatorAdminPermissions must be true if cluster authentication mode is set to CONFIG_MAP"


# --- 8. vpc-cni configurationValues: eniConfig.subnets needs an entry -------------------------

def test_vpc_cni_custom_networking_needs_subnets(eks_cloud):
    cloud, eks = eks_cloud, eks_cloud.client("eks")
    eks_cluster(cloud)
    empty = json.dumps({"env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"},
                        "eniConfig": {"create": True, "region": "us-west-2", "subnets": {}}})
    assert message(eks.create_addon, clusterName="demo", addonName="vpc-cni", configurationValues=empty) == \
        ("InvalidParameterException", "ConfigurationValue provided in request is not supported: Json schema "
         "validation failed with error: [$.eniConfig.subnets: should have a minimum of 1 properties]")
    config(cloud, strict=True)
    assert code(eks.create_addon, clusterName="demo", addonName="vpc-cni", configurationValues=empty) == \
        "InvalidParameterException"
    config(cloud, addon_schema=False)  # the only way to get it through
    eks.create_addon(clusterName="demo", addonName="vpc-cni", configurationValues=empty)


# --- 3 and 7. EKS tokens: expiry, tokens presigned for localcloud's endpoint, signatures ------

def mint(cluster, akid="testing", secret="testing", endpoint=None, age=None, region="us-west-2"):
    session = botocore.session.Session()
    session.set_credentials(akid, secret)
    if age is None:
        return eks_token.token(cluster, region, session, endpoint)
    at = datetime.datetime.now(datetime.timezone.utc) - age
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        return eks_token.token(cluster, region, session, endpoint)


def kube_get(cluster, token, path="/api/v1/namespaces"):
    ctx = ssl.create_default_context(cadata=base64.b64decode(cluster["certificateAuthority"]["data"]).decode())
    req = urllib.request.Request(cluster["endpoint"] + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def test_token_expiry(eks_cloud):
    c = eks_cluster(eks_cloud)
    minutes = datetime.timedelta(minutes=1)
    assert kube_get(c, mint("demo")) == 200
    assert kube_get(c, mint("demo", age=10 * minutes)) == 200
    assert kube_get(c, mint("demo", age=16 * minutes)) == 401   # 15 minutes, always (aws-iam-authenticator)
    config(eks_cloud, token_lifetime_seconds=60)
    assert kube_get(c, mint("demo", age=2 * minutes)) == 401
    assert kube_get(c, mint("demo")) == 200
    config(eks_cloud, token_lifetime_seconds=None, token_expiry_scaled=True)
    assert kube_get(c, mint("demo", age=10 * minutes)) == 200  # --scale 1: still 15 minutes
    assert Settings(overrides={"token_expiry_scaled": True}).token_lifetime(60) == 15.0
    assert Settings().token_lifetime(60) == 900.0


def test_tokens_for_localcloud_endpoint_and_signatures(eks_cloud):
    cloud = eks_cloud
    c = eks_cluster(cloud)
    local = mint("demo", endpoint=cloud.endpoint)  # what `aws eks get-token` makes with AWS_ENDPOINT_URL set
    assert base64.urlsafe_b64decode(local[11:] + "==").decode().startswith(cloud.endpoint + "/?")
    assert kube_get(c, local) == 200
    assert kube_get(c, mint("demo", endpoint="http://127.0.0.1:1")) == 401  # another endpoint: never
    config(cloud, token_local_sts=False)
    assert kube_get(c, local) == 401
    config(cloud, token_local_sts=True)

    wrong_secret, other_cluster = mint("demo", secret="nope"), mint("other")
    assert kube_get(c, wrong_secret) == 200 and kube_get(c, other_cluster) == 200  # lenient: not checked
    config(cloud, token_signature=True)
    assert kube_get(c, mint("demo")) == 200 and kube_get(c, local) == 200
    assert kube_get(c, wrong_secret) == 401
    assert kube_get(c, other_cluster) == 401  # the signed x-k8s-aws-id names another cluster
    assert kube_get(c, mint("demo", akid="AKIAUNKNOWN000000000")) == 401
    iam = cloud.client("iam")
    iam.create_user(UserName="dev")
    key = iam.create_access_key(UserName="dev")["AccessKey"]
    assert kube_get(c, mint("demo", key["AccessKeyId"], key["SecretAccessKey"])) == 200
    secret = key["SecretAccessKey"]
    assert kube_get(c, mint("demo", key["AccessKeyId"], secret[:-1] + ("A" if secret[-1] != "A" else "B"))) == 401


def test_empty_body_hash_signatures_are_accepted():
    """aws-sigv4 (eksnet's src/token.rs) signs the empty body's hash, botocore UNSIGNED-PAYLOAD."""
    from localcloud import token_signature
    url = urllib.parse.urlsplit("https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15")
    params = {"Action": "GetCallerIdentity", "Version": "2011-06-15", "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
              "X-Amz-Credential": "testing/20260601/us-west-2/sts/aws4_request", "X-Amz-Date": "20260601T000000Z",
              "X-Amz-Expires": "60", "X-Amz-SignedHeaders": "host;x-k8s-aws-id"}
    headers = {"host": url.netloc, "x-k8s-aws-id": "demo"}
    unsigned, empty = token_signature.expected_signatures(url, params, headers, "testing")
    for sig in (unsigned, empty):
        assert token_signature.valid(url, {**params, "X-Amz-Signature": sig}, "demo", "testing")
    assert not token_signature.valid(url, {**params, "X-Amz-Signature": empty}, "other", "testing")


# --- the profile clock: updates and tokens under --profile realistic --scale ------------------

def test_strict_on_the_profile_clock(strict_cloud):
    cloud = strict_cloud
    eks = cloud.client("eks")
    c = eks_cluster(cloud, version="1.33")  # CREATING 0.9 s
    assert c["status"] == "ACTIVE"
    # tokens live 900 s / 600 = 1.5 s
    assert kube_get(c, mint("demo")) == 200
    assert kube_get(c, mint("demo", age=datetime.timedelta(seconds=3))) == 401
    # an update: its id first, then UPDATING (180 s / 600 = 0.3 s), then Successful
    u = eks.update_cluster_config(name="demo", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]})
    u = u["update"]
    seen = [eks.describe_cluster(name="demo")["cluster"]["status"]]
    t0 = time.monotonic()
    while seen[-1] != "ACTIVE" or len(seen) < 2:
        assert time.monotonic() - t0 < 5, seen
        time.sleep(0.05)
        seen.append(eks.describe_cluster(name="demo")["cluster"]["status"])
    assert seen[0] == "ACTIVE" and "UPDATING" in seen, seen
    assert eks.describe_update(name="demo", updateId=u["id"])["update"]["status"] == "Successful"
