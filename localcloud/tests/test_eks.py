"""EKS surface served by localcloud: clusters, add-ons, access entries, updates, states."""
import json
import time

import botocore.exceptions
import pytest

from conftest import Cloud, create_cluster, make_network

SEED_CONFIG = {
    "env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
            "ENABLE_POD_ENI": "true", "AWS_VPC_K8S_CNI_EXTERNALSNAT": "false"},
    "init": {"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}},
    "eniConfig": {"create": True, "region": "us-west-2",
                  "subnets": {"us-west-2a": {"id": "subnet-1", "securityGroups": ["sg-1"]}}},
}


def error(fn, **kw):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        fn(**kw)
    return e.value.response


def test_cluster_wiring_security_group_and_endpoint(cloud):
    net = make_network(cloud)
    eks, ec2 = cloud.client("eks"), cloud.client("ec2")
    created = create_cluster(cloud, net, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    assert created["status"] == "CREATING" and "endpoint" not in created
    c = eks.describe_cluster(name="demo")["cluster"]
    assert c["status"] == "ACTIVE"
    assert c["resourcesVpcConfig"]["vpcId"] == net["vpc"]
    assert c["accessConfig"]["authenticationMode"] == "API_AND_CONFIG_MAP"
    assert c["endpoint"].startswith("https://127.0.0.1:") and c["certificateAuthority"]["data"]
    sg_id = c["resourcesVpcConfig"]["clusterSecurityGroupId"]
    sg = ec2.describe_security_groups(GroupIds=[sg_id])["SecurityGroups"][0]
    tags = {t["Key"]: t["Value"] for t in sg["Tags"]}
    assert sg["VpcId"] == net["vpc"] and sg["GroupName"].startswith("eks-cluster-sg-demo-")
    assert tags["aws:eks:cluster-name"] == "demo" and tags["kubernetes.io/cluster/demo"] == "owned"
    # the control plane's ENIs hold the subnets, as on AWS
    err = error(ec2.delete_subnet, SubnetId=net["subnets"][0])
    assert err["Error"]["Code"] == "DependencyViolation"
    eks.delete_cluster(name="demo")
    assert error(eks.describe_cluster, name="demo")["Error"]["Code"] == "ResourceNotFoundException"
    assert not ec2.describe_security_groups(Filters=[{"Name": "group-id", "Values": [sg_id]}])["SecurityGroups"]
    ec2.delete_subnet(SubnetId=net["subnets"][0])


def test_cluster_needs_two_azs_and_existing_role(cloud):
    net = make_network(cloud)
    eks = cloud.client("eks")
    err = error(eks.create_cluster, name="x", roleArn=net["role"], resourcesVpcConfig={"subnetIds": net["subnets"][:1]})
    assert err["Error"]["Code"] == "InvalidParameterException"
    err = error(eks.create_cluster, name="x", roleArn="arn:aws:iam::123456789012:role/missing",
                resourcesVpcConfig={"subnetIds": net["subnets"]})
    assert err["Error"]["Code"] == "InvalidParameterException"


def test_addon_configuration_validated_like_eks(cloud):
    net = make_network(cloud)
    eks = cloud.client("eks")
    create_cluster(cloud, net)
    eks.describe_cluster(name="demo")
    err = error(eks.create_addon, clusterName="demo", addonName="vpc-cni",
                configurationValues=json.dumps({"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}}))
    assert err["Error"]["Code"] == "InvalidParameterException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "$.env.DISABLE_TCP_EARLY_DEMUX" in err["Error"]["Message"]
    err = error(eks.create_addon, clusterName="demo", addonName="vpc-cni",
                configurationValues=json.dumps({"Env": {"ENABLE_POD_ENI": "true"}}))
    assert err["Error"]["Code"] == "InvalidParameterException"
    err = error(eks.create_addon, clusterName="demo", addonName="vpc-cni",
                configurationValues=json.dumps({"env": {"ENABLE_POD_ENI": True}}))
    assert err["Error"]["Code"] == "InvalidParameterException"
    a = eks.create_addon(clusterName="demo", addonName="vpc-cni", resolveConflicts="OVERWRITE",
                         configurationValues=json.dumps(SEED_CONFIG), tags={"team": "net"})["addon"]
    assert a["status"] == "CREATING"
    a = eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]
    assert a["status"] == "ACTIVE" and json.loads(a["configurationValues"]) == SEED_CONFIG
    assert a["tags"] == {"team": "net"}
    assert error(eks.create_addon, clusterName="demo", addonName="vpc-cni")["Error"]["Code"] == "ResourceInUseException"
    eks.create_addon(clusterName="demo", addonName="kube-proxy", clientRequestToken="t-1")
    again = eks.create_addon(clusterName="demo", addonName="kube-proxy", clientRequestToken="t-1")["addon"]
    assert again["addonName"] == "kube-proxy"  # same token: the retried request gets the same add-on
    schema = eks.describe_addon_configuration(addonName="vpc-cni", addonVersion=a["addonVersion"])
    assert "eniConfig" in json.loads(schema["configurationSchema"])["definitions"]["VpcCni"]["properties"]
    u = eks.update_addon(clusterName="demo", addonName="vpc-cni",
                         configurationValues=json.dumps({"env": {"ENABLE_POD_ENI": "true"}}))["update"]
    assert eks.describe_update(name="demo", updateId=u["id"], addonName="vpc-cni")["update"]["status"] == "Successful"
    assert eks.list_updates(name="demo", addonName="vpc-cni")["updateIds"] == [u["id"]]


def test_delete_cluster_refused_while_addons_or_nodegroups_exist(cloud):
    net = make_network(cloud)
    eks, ec2, iam = cloud.client("eks"), cloud.client("ec2"), cloud.client("iam")
    create_cluster(cloud, net)
    eks.describe_cluster(name="demo")
    eks.create_addon(clusterName="demo", addonName="coredns")
    node_role = iam.create_role(RoleName="node-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    ng = eks.create_nodegroup(clusterName="demo", nodegroupName="ng", nodeRole=node_role, subnets=net["subnets"],
                              scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1},
                              instanceTypes=["c5.large"])["nodegroup"]
    assert ng["status"] == "CREATING"
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE"
    nodes = ec2.describe_instances(Filters=[{"Name": "tag:eks:nodegroup-name", "Values": ["ng"]}])["Reservations"]
    assert len(nodes) == 1
    err = error(eks.delete_cluster, name="demo")
    assert err["Error"]["Code"] == "ResourceInUseException" and err["ResponseMetadata"]["HTTPStatusCode"] == 409
    eks.delete_nodegroup(clusterName="demo", nodegroupName="ng")
    assert eks.list_nodegroups(clusterName="demo")["nodegroups"] == []
    assert error(eks.delete_cluster, name="demo")["Error"]["Code"] == "ResourceInUseException"
    assert eks.delete_addon(clusterName="demo", addonName="coredns")["addon"]["status"] == "DELETING"
    assert eks.list_addons(clusterName="demo")["addons"] == []
    assert eks.delete_cluster(name="demo")["cluster"]["status"] == "DELETING"


def test_access_entries_and_policies(cloud):
    net = make_network(cloud)
    eks = cloud.client("eks")
    create_cluster(cloud, net, accessConfig={"authenticationMode": "API",
                                             "bootstrapClusterCreatorAdminPermissions": False})
    eks.describe_cluster(name="demo")
    principal = "arn:aws:iam::123456789012:role/admins"
    e = eks.create_access_entry(clusterName="demo", principalArn=principal, tags={"a": "b"})["accessEntry"]
    assert e["principalArn"] == principal and e["type"] == "STANDARD"
    assert error(eks.create_access_entry, clusterName="demo", principalArn=principal)["Error"]["Code"] == \
        "ResourceInUseException"
    policy = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    eks.associate_access_policy(clusterName="demo", principalArn=principal, policyArn=policy,
                                accessScope={"type": "cluster"})
    listed = eks.list_associated_access_policies(clusterName="demo", principalArn=principal)
    assert [p["policyArn"] for p in listed["associatedAccessPolicies"]] == [policy]
    assert eks.list_access_entries(clusterName="demo")["accessEntries"] == [principal]
    assert eks.describe_access_entry(clusterName="demo", principalArn=principal)["accessEntry"]["tags"] == {"a": "b"}
    eks.disassociate_access_policy(clusterName="demo", principalArn=principal, policyArn=policy)
    eks.delete_access_entry(clusterName="demo", principalArn=principal)
    assert eks.list_access_entries(clusterName="demo")["accessEntries"] == []


def test_the_creator_gets_an_entry_for_its_iam_principal(cloud):
    net = make_network(cloud)
    eks = cloud.client("eks")
    create_cluster(cloud, net, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    creator = "arn:aws:iam::123456789012:user/moto"  # STS answers arn:aws:sts::…:user/moto
    assert eks.list_access_entries(clusterName="demo")["accessEntries"] == [creator]
    assert eks.describe_access_entry(clusterName="demo", principalArn=creator)["accessEntry"]["tags"] == {}
    assert error(eks.create_access_entry, clusterName="demo", principalArn=creator)["Error"]["Code"] == \
        "ResourceInUseException"


def test_cluster_updates(cloud):
    net = make_network(cloud)
    eks = cloud.client("eks")
    create_cluster(cloud, net)
    eks.describe_cluster(name="demo")
    u = eks.update_cluster_version(name="demo", version="1.32")["update"]
    assert u["type"] == "VersionUpdate" and u["status"] == "InProgress"
    time.sleep(0.3)
    assert eks.describe_update(name="demo", updateId=u["id"])["update"]["status"] == "Successful"
    assert eks.describe_cluster(name="demo")["cluster"]["version"] == "1.32"
    assert error(eks.update_cluster_version, name="demo", version="1.34")["Error"]["Code"] == \
        "InvalidParameterException"
    u2 = eks.update_cluster_config(name="demo", resourcesVpcConfig={"endpointPrivateAccess": True})["update"]
    time.sleep(0.3)
    c = eks.describe_cluster(name="demo")["cluster"]
    assert c["resourcesVpcConfig"]["endpointPrivateAccess"] is True
    assert error(eks.update_cluster_config, name="demo", resourcesVpcConfig={"endpointPrivateAccess": True}
                 )["Error"]["Code"] == "InvalidParameterException"
    assert sorted(eks.list_updates(name="demo")["updateIds"]) == sorted([u["id"], u2["id"]])


def test_realistic_profile_cluster_creating_then_active(tmp_path):
    cloud = Cloud(tmp_path, "--profile", "realistic", "--scale", "180", "--config", '{"strict": false}')  # CREATING 3 s, DELETING 1.7 s
    try:
        net = make_network(cloud)
        eks = cloud.client("eks")
        t0 = time.monotonic()
        create_cluster(cloud, net)
        seen = []
        while time.monotonic() - t0 < 10:
            s = eks.describe_cluster(name="demo")["cluster"]["status"]
            seen.append((round(time.monotonic() - t0, 2), s))
            if s == "ACTIVE":
                break
            time.sleep(0.25)
        creating = [t for t, s in seen if s == "CREATING"]
        assert creating and max(creating) >= 2.5, seen
        assert seen[-1][1] == "ACTIVE" and seen[-1][0] < 4.5, seen
        eks.delete_cluster(name="demo")
        assert eks.describe_cluster(name="demo")["cluster"]["status"] == "DELETING"
        time.sleep(2.2)
        assert "demo" not in eks.list_clusters()["clusters"]
        describes = [e for e in cloud.log() if e["operation"] == "DescribeCluster"]
        assert len(describes) == len(seen) + 1
    finally:
        cloud.down()


def test_cluster_subnets_change_in_place_within_the_creation_zones(cloud):
    """EKS user guide, network-reqs: subnets change with UpdateClusterConfig; new ones must be
    in the AZs given at creation."""
    ec2, eks, iam = cloud.client("ec2"), cloud.client("eks"), cloud.client("iam")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]

    def sub(cidr, az):
        return ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=az)["Subnet"]["SubnetId"]
    a, b, a2, c = sub("10.0.1.0/24", "us-west-2a"), sub("10.0.2.0/24", "us-west-2b"), sub("10.0.3.0/24", "us-west-2a"), \
        sub("10.0.4.0/24", "us-west-2c")
    role = iam.create_role(RoleName="subnets-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks.create_cluster(name="subnets", roleArn=role, resourcesVpcConfig={"subnetIds": [a, b]})
    eks.describe_cluster(name="subnets")
    refused = error(eks.update_cluster_config, name="subnets", resourcesVpcConfig={"subnetIds": [b, c]})
    assert refused["Error"]["Code"] == "InvalidParameterException", refused
    update = eks.update_cluster_config(name="subnets", resourcesVpcConfig={"subnetIds": [a2, b]})["update"]
    assert update["type"] == "VpcConfigUpdate"
    for _ in range(3):
        eks.describe_cluster(name="subnets")
    assert sorted(eks.describe_cluster(name="subnets")["cluster"]["resourcesVpcConfig"]["subnetIds"]) == sorted([a2, b])
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "description", "Values": ["Amazon EKS subnets"]}])["NetworkInterfaces"]
    assert enis and {e["SubnetId"] for e in enis} <= {a2, b}, "control-plane ENIs left the old subnet"
    ec2.delete_subnet(SubnetId=a)


def test_an_upgrade_goes_one_minor_version_at_a_time_nodes_following(cloud):
    net = make_network(cloud)
    eks, iam = cloud.client("eks"), cloud.client("iam")
    create_cluster(cloud, net)  # 1.31
    eks.describe_cluster(name="demo")
    node_role = iam.create_role(RoleName="node-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks.create_nodegroup(clusterName="demo", nodegroupName="ng", nodeRole=node_role, subnets=net["subnets"],
                         scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1}, instanceTypes=["c5.large"])
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["version"] == "1.31"

    for bad in ("1.33", "1.30"):  # a skip and a downgrade, in EKS's words
        err = error(eks.update_cluster_version, name="demo", version=bad)["Error"]
        assert (err["Code"], err["Message"]) == ("InvalidParameterException",
                                                 f"Unsupported Kubernetes minor version update from 1.31 to {bad}")
    # Nodes are never newer than their control plane.
    err = error(eks.update_nodegroup_version, clusterName="demo", nodegroupName="ng", version="1.32")["Error"]
    assert err["Code"] == "InvalidParameterException" and "cannot be newer" in err["Message"]

    u = eks.update_cluster_version(name="demo", version="1.32")["update"]
    assert eks.describe_update(name="demo", updateId=u["id"])["update"]["status"] == "Successful"
    # The next minor version waits for the nodes.
    err = error(eks.update_cluster_version, name="demo", version="1.33")["Error"]
    assert err["Message"] == "Nodegroups ng must be updated to match cluster version 1.32 before updating cluster version"
    u = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng", version="1.32")["update"]
    assert u["type"] == "VersionUpdate"
    assert eks.describe_update(name="demo", updateId=u["id"], nodegroupName="ng")["update"]["status"] == "Successful"
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["version"] == "1.32"
    eks.update_cluster_version(name="demo", version="1.33")
    assert eks.describe_cluster(name="demo")["cluster"]["version"] == "1.33"


def test_addon_versions_per_kubernetes_version_with_defaults(cloud):
    eks = cloud.client("eks")

    def table(addon, k8s):
        found = eks.describe_addon_versions(addonName=addon, kubernetesVersion=k8s)["addons"][0]["addonVersions"]
        rows = [(v["addonVersion"], [c["defaultVersion"] for c in v["compatibilities"] if c["clusterVersion"] == k8s])
                for v in found]
        return [v for v, _ in rows], [v for v, d in rows if d == [True]]

    # vpc-cni: one build serves many Kubernetes versions; the default moves up with them.
    assert table("vpc-cni", "1.32")[1] == ["v1.19.2-eksbuild.1"]
    assert table("vpc-cni", "1.34") == (["v1.20.0-eksbuild.1", "v1.19.6-eksbuild.1", "v1.19.2-eksbuild.1"],
                                        ["v1.20.0-eksbuild.1"])
    # kube-proxy is built per Kubernetes minor: a 1.33 build is not offered for 1.34.
    versions, default = table("kube-proxy", "1.34")
    assert default == ["v1.34.3-eksbuild.2"] and all(v.startswith("v1.34.") for v in versions)
    # One default per Kubernetes version.
    for addon in ("vpc-cni", "coredns", "kube-proxy"):
        for k8s in ("1.32", "1.33", "1.34"):
            assert len(table(addon, k8s)[1]) == 1, (addon, k8s)


def test_update_addon_to_the_default_of_the_new_version(cloud):
    net = make_network(cloud)
    eks = cloud.client("eks")
    create_cluster(cloud, net)  # 1.31
    eks.describe_cluster(name="demo")
    eks.create_addon(clusterName="demo", addonName="kube-proxy")
    assert eks.describe_addon(clusterName="demo", addonName="kube-proxy")["addon"]["addonVersion"] == "v1.31.3-eksbuild.2"
    eks.update_cluster_version(name="demo", version="1.32")
    # A version made for another Kubernetes version is refused; the new one's is taken.
    err = error(eks.update_addon, clusterName="demo", addonName="kube-proxy", addonVersion="v1.34.3-eksbuild.2")["Error"]
    assert err["Code"] == "InvalidParameterException"
    u = eks.update_addon(clusterName="demo", addonName="kube-proxy", addonVersion="v1.32.3-eksbuild.2")["update"]
    assert eks.describe_update(name="demo", updateId=u["id"], addonName="kube-proxy")["update"]["status"] == "Successful"
    assert eks.describe_addon(clusterName="demo", addonName="kube-proxy")["addon"]["addonVersion"] == "v1.32.3-eksbuild.2"


def test_ami_releases_are_published_in_ssm_and_nodegroups_move_to_them(cloud):
    """EKS publishes the newest AMI release per Kubernetes version as a public SSM parameter; a
    nodegroup moves to a newer one with UpdateNodegroupVersion releaseVersion (ami_releases.py)."""
    net = make_network(cloud)
    eks, iam, ssm = cloud.client("eks"), cloud.client("iam"), cloud.client("ssm")
    create_cluster(cloud, net)  # 1.31
    eks.describe_cluster(name="demo")
    name = "/aws/service/eks/optimized-ami/1.31/amazon-linux-2023/x86_64/standard/recommended/release_version"
    first = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    assert first.startswith("1.31.") and len(first.split("-")[1]) == 8, first
    doc = json.loads(ssm.get_parameter(Name=name.rsplit("/", 1)[0])["Parameter"]["Value"])
    assert doc["release_version"] == first and doc["image_id"].startswith("ami-")
    assert error(ssm.get_parameter, Name="/aws/service/eks/optimized-ami/1.31/nothing/recommended")["Error"]["Code"] == "ParameterNotFound"

    node_role = iam.create_role(RoleName="node-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    eks.create_nodegroup(clusterName="demo", nodegroupName="ng", nodeRole=node_role, subnets=net["subnets"],
                         scalingConfig={"minSize": 1, "maxSize": 2, "desiredSize": 1}, instanceTypes=["c5.large"])
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["releaseVersion"] == first

    newer = cloud.control("POST", "ami-releases", {"kubernetes": "1.31"})["release"]
    assert newer != first and ssm.get_parameter(Name=name)["Parameter"]["Value"] == newer
    # A release of another Kubernetes version, in EKS's words (eksctl-io/eksctl#7976).
    err = error(eks.update_nodegroup_version, clusterName="demo", nodegroupName="ng", releaseVersion="1.32.0-20250101")["Error"]
    assert err["Message"] == "Requested release version 1.32.0-20250101 is not valid for kubernetes version 1.31.", err
    u = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng", releaseVersion=newer)["update"]
    assert {"type": "ReleaseVersion", "value": newer} in u["params"]
    assert eks.describe_update(name="demo", updateId=u["id"], nodegroupName="ng")["update"]["status"] == "Successful"
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["releaseVersion"] == newer
    # No way back to an older release.
    err = error(eks.update_nodegroup_version, clusterName="demo", nodegroupName="ng", releaseVersion=first)["Error"]
    assert err["Code"] == "InvalidParameterException" and "rolled back" in err["Message"], err


def test_upgrade_insights_error_for_the_next_version_warning_beyond(cloud):
    """ListInsights / DescribeInsight: one "Deprecated APIs removed in Kubernetes vX" check per
    version ahead; a finding is ERROR for N+1 and WARNING further (view-cluster-insights)."""
    net = make_network(cloud)
    eks = cloud.client("eks")
    create_cluster(cloud, net)  # 1.31
    eks.describe_cluster(name="demo")
    listed = eks.list_insights(clusterName="demo")["insights"]
    assert [(i["name"], i["kubernetesVersion"], i["insightStatus"]["status"]) for i in listed] == [
        ("Deprecated APIs removed in Kubernetes v1.32", "1.32", "PASSING"),
        ("Deprecated APIs removed in Kubernetes v1.33", "1.33", "PASSING")]
    for version in ("1.32", "1.33"):
        cloud.control("POST", "insights", {"cluster": "demo", "kubernetesVersion": version,
                                           "usage": "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas"})
    found = eks.list_insights(clusterName="demo", filter={"statuses": ["ERROR", "WARNING"]})["insights"]
    assert {i["kubernetesVersion"]: i["insightStatus"]["status"] for i in found} == {"1.32": "ERROR", "1.33": "WARNING"}
    only = eks.list_insights(clusterName="demo", filter={"kubernetesVersions": ["1.32"], "categories": ["UPGRADE_READINESS"]})
    [summary] = only["insights"]
    insight = eks.describe_insight(clusterName="demo", id=summary["id"])["insight"]
    assert insight["recommendation"] and insight["categorySpecificSummary"]["deprecationDetails"][0]["usage"].endswith("flowschemas")
    assert error(eks.describe_insight, clusterName="demo", id="nope")["Error"]["Code"] == "ResourceNotFoundException"
