"""The data plane: nodes, pods, pod addresses (VPC CNI) and pod ENIs (security groups for pods)."""
import ipaddress
import json
import time

import pytest

from dataplane_helpers import (KUBECTL, Kube, custom_network, deployment, eks_cluster, enis, nodegroup, tags)

NS = "test-namespace"
SGP = {"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
       "metadata": {"name": "my-security-group-policy", "namespace": NS},
       "spec": {"podSelector": {"matchLabels": {"role": "test-role"}}, "securityGroups": {"groupIds": []}}}


def in_net(ip, cidr):
    return ipaddress.ip_address(ip) in ipaddress.ip_network(cidr)


def policy(net):
    p = json.loads(json.dumps(SGP))
    p["spec"]["securityGroups"]["groupIds"] = [net["pod_sg"]]
    return p


def test_nodes_join_as_ec2_instances_and_node_objects(cloud):
    net = custom_network(cloud)
    c = eks_cluster(cloud, net)
    ng = nodegroup(cloud, net, desired=3)
    assert ng["status"] == "ACTIVE"
    kube = Kube(cloud)
    ec2 = cloud.client("ec2")
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:eks:nodegroup-name", "Values": ["ng"]},
                                                   {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    instances = {i["PrivateIpAddress"]: i for r in reservations for i in r["Instances"]}
    assert len(instances) == 3
    nodes = kube.nodes()
    assert len(nodes) == 3
    zones = sorted(n["metadata"]["labels"]["topology.kubernetes.io/zone"] for n in nodes)
    assert zones == [f"{cloud.region}a", f"{cloud.region}a", f"{cloud.region}b"]  # round-robin over the subnets
    for node in nodes:
        labels = node["metadata"]["labels"]
        ip = next(a["address"] for a in node["status"]["addresses"] if a["type"] == "InternalIP")
        instance = instances[ip]
        assert tags(instance)["eks:cluster-name"] == "demo" and tags(instance)["kubernetes.io/cluster/demo"] == "owned"
        assert instance["InstanceType"] == "c5.large" and instance["SubnetId"] in net["subnets"]
        assert labels["eks.amazonaws.com/nodegroup"] == "ng"
        assert labels["node.kubernetes.io/instance-type"] == "c5.large"
        assert labels["kubernetes.io/hostname"] == node["metadata"]["name"] == \
            f"ip-{ip.replace('.', '-')}.{cloud.region}.compute.internal"
        assert labels["topology.kubernetes.io/zone"] == instance["Placement"]["AvailabilityZone"]
        assert labels["vpc.amazonaws.com/has-trunk-attached"] == "true"
        assert {x["type"]: x["status"] for x in node["status"]["conditions"]}["Ready"] == "True"
        assert node["status"]["allocatable"]["pods"] == "29"
        assert node["status"]["allocatable"]["vpc.amazonaws.com/pod-eni"] == "9"
        assert node["spec"]["providerID"] == f"aws:///{instance['Placement']['AvailabilityZone']}/{instance['InstanceId']}"
    # a trunk ENI per node, in the ENIConfig (intra) subnet of its zone, attached to it
    trunks = [e for e in enis(cloud, **{"vpc-id": net["vpc"]}) if e["InterfaceType"] == "trunk"]
    assert sorted(t["Attachment"]["InstanceId"] for t in trunks) == sorted(i["InstanceId"] for i in instances.values())
    assert all(t["SubnetId"] in net["intra"] and t["Description"] == "aws-k8s-trunk-eni" for t in trunks)
    assert all(tags(t)["kubernetes.io/cluster/demo"] == "owned" for t in trunks)
    # DaemonSet pods on every node, with the node's address (hostNetwork)
    for ds in ("aws-node", "kube-proxy"):
        pods = kube.pods("kube-system", f"k8s-app={ds}")
        assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(n["metadata"]["name"] for n in nodes)
        assert all(p["status"]["phase"] == "Running" and p["status"]["podIP"] == p["status"]["hostIP"] for p in pods)
        assert all(p["metadata"]["ownerReferences"][0]["kind"] == "DaemonSet" for p in pods)
        status = kube.get(f"/apis/apps/v1/namespaces/kube-system/daemonsets/{ds}")["status"]
        assert status["desiredNumberScheduled"] == status["numberReady"] == 3
    # coredns: through a ReplicaSet, addresses from the intra subnets (custom networking)
    coredns = kube.pods("kube-system", "k8s-app=kube-dns")
    assert len(coredns) == 2 and all(p["status"]["phase"] == "Running" for p in coredns)
    assert all(any(in_net(p["status"]["podIP"], f"100.64.{i}.0/24") for i in (1, 2)) for p in coredns)
    rs = coredns[0]["metadata"]["ownerReferences"][0]
    assert rs["kind"] == "ReplicaSet" and rs["controller"] is True and rs["name"].startswith("coredns-")
    owner = kube.get(f"/apis/apps/v1/namespaces/kube-system/replicasets/{rs['name']}")["metadata"]["ownerReferences"][0]
    assert owner["kind"] == "Deployment" and owner["name"] == "coredns"
    deploy = kube.get("/apis/apps/v1/namespaces/kube-system/deployments/coredns")
    assert deploy["status"]["availableReplicas"] == 2 and deploy["status"]["observedGeneration"] == deploy["metadata"]["generation"]
    assert c["status"] == "ACTIVE"
    # a settled cluster: a write that changes nothing makes the data plane write nothing either
    time.sleep(1.1)  # timestamps have a one-second grain: a new second must not change statuses
    before = kube.get("/api/v1/namespaces")["metadata"]["resourceVersion"]
    kube.namespace("default")
    assert kube.get("/api/v1/namespaces")["metadata"]["resourceVersion"] == before


def test_security_groups_for_pods_with_custom_networking(cloud, tmp_path):
    net = custom_network(cloud)
    eks_cluster(cloud, net)
    nodegroup(cloud, net, desired=2)
    kube = Kube(cloud)
    kube.namespace(NS)
    # a pod created before the policy: no branch ENI, an address of its node's ENIConfig subnet
    early = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "early", "namespace": NS,
                                                              "labels": {"role": "test-role"}},
             "spec": {"containers": [{"name": "c", "image": "busybox"}]}}
    kube.apply(early)
    kube.apply(policy(net))
    kube.apply(deployment("nginx", NS, 2, {"role": "test-role"}))
    pods = kube.pods(NS, "app=nginx")
    assert len(pods) == 2
    subnets = {s["SubnetId"]: s for s in cloud.client("ec2").describe_subnets(SubnetIds=net["intra"])["Subnets"]}
    for pod in pods:
        assert pod["status"]["phase"] == "Running"
        assert pod["spec"]["containers"][0]["resources"]["limits"]["vpc.amazonaws.com/pod-eni"] == "1"
        annotation = json.loads(pod["metadata"]["annotations"]["vpc.amazonaws.com/pod-eni"])
        assert len(annotation) == 1
        eni_id, ip = annotation[0]["eniId"], annotation[0]["privateIp"]
        assert pod["status"]["podIP"] == ip and ip.startswith("100.64.")
        assert annotation[0]["vlanId"] >= 1 and annotation[0]["ifAddress"]
        eni = enis(cloud, **{"network-interface-id": eni_id})[0]
        assert eni["InterfaceType"] == "branch" and eni["Description"] == "aws-k8s-branch-eni"
        assert eni["Status"] == "in-use" and eni["PrivateIpAddress"] == ip
        assert [g["GroupId"] for g in eni["Groups"]] == [net["pod_sg"]]
        assert eni["SubnetId"] in net["intra"] and annotation[0]["subnetCidr"] == subnets[eni["SubnetId"]]["CidrBlock"]
        node = kube.get(f"/api/v1/nodes/{pod['spec']['nodeName']}")
        assert subnets[eni["SubnetId"]]["AvailabilityZone"] == node["metadata"]["labels"]["topology.kubernetes.io/zone"]
        t = tags(eni)
        assert t["kubernetes.io/cluster/demo"] == "owned" and t["vpcresources.k8s.aws/trunk-eni-id"].startswith("eni-")
        assert t["vpcresources.k8s.aws/vlan-id"] == str(annotation[0]["vlanId"])
        reasons = [e["reason"] for e in kube.events(NS, pod["metadata"]["name"])]
        assert "SecurityGroupRequested" in reasons and "ResourceAllocated" in reasons
    assert pods[0]["spec"]["nodeName"] != pods[1]["spec"]["nodeName"]  # spread over the two nodes
    early = kube.get(f"/api/v1/namespaces/{NS}/pods/early")
    assert "annotations" not in early["metadata"] and "resources" not in early["spec"]["containers"][0]
    assert early["status"]["phase"] == "Running" and early["status"]["podIP"].startswith("100.64.")
    status = kube.get(f"/apis/apps/v1/namespaces/{NS}/deployments/nginx")
    assert status["status"]["availableReplicas"] == status["status"]["readyReplicas"] == 2
    assert status["status"]["updatedReplicas"] == 2
    assert status["status"]["observedGeneration"] == status["metadata"]["generation"]
    assert {c["type"]: c["status"] for c in status["status"]["conditions"]} == {"Available": "True", "Progressing": "True"}
    if KUBECTL:
        wide = kube.kubectl(tmp_path, "get", "pods", "-A", "-o", "wide").splitlines()
        assert wide[0].split()[:8] == ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
        row = next(line.split() for line in wide if line.split()[1] == pods[0]["metadata"]["name"])
        assert row[2:4] == ["1/1", "Running"] and row[6] == pods[0]["status"]["podIP"]
        assert row[7] == pods[0]["spec"]["nodeName"]
    # deleting the deployment deletes its pods (garbage collector) and their branch ENIs
    branch_ids = [json.loads(p["metadata"]["annotations"]["vpc.amazonaws.com/pod-eni"])[0]["eniId"] for p in pods]
    kube.delete(f"/apis/apps/v1/namespaces/{NS}/deployments/nginx")
    assert kube.pods(NS, "app=nginx") == []
    assert kube.items(f"/apis/apps/v1/namespaces/{NS}/replicasets") == []
    assert [e for e in enis(cloud, **{"vpc-id": net["vpc"]}) if e["NetworkInterfaceId"] in branch_ids] == []


def test_without_custom_networking_pods_get_node_subnet_addresses(cloud):
    net = custom_network(cloud)
    eks_cluster(cloud, net, custom=False, pod_eni=False)
    ec2 = cloud.client("ec2")
    before = {s["SubnetId"]: s["AvailableIpAddressCount"]
              for s in ec2.describe_subnets(SubnetIds=net["subnets"])["Subnets"]}
    nodegroup(cloud, net, desired=2)
    kube = Kube(cloud)
    kube.namespace(NS)
    kube.apply(deployment("web", NS, 4, {}))
    pods = kube.pods(NS, "app=web")
    assert len(pods) == 4 and all(p["status"]["phase"] == "Running" for p in pods)
    for pod in pods:
        node = kube.get(f"/api/v1/nodes/{pod['spec']['nodeName']}")
        assert "vpc.amazonaws.com/has-trunk-attached" not in node["metadata"]["labels"]
        node_ip = pod["status"]["hostIP"]
        assert in_net(pod["status"]["podIP"], "10.0.0.0/16") and pod["status"]["podIP"] != node_ip
        # the address is a secondary address of the node's primary ENI
        owner = enis(cloud, **{"addresses.private-ip-address": node_ip})
        instance_enis = enis(cloud, **{"attachment.instance-id": owner[0]["Attachment"]["InstanceId"]})
        addresses = {a["PrivateIpAddress"] for e in instance_enis for a in e["PrivateIpAddresses"]}
        assert pod["status"]["podIP"] in addresses
    assert not [e for e in enis(cloud, **{"vpc-id": net["vpc"]}) if e["InterfaceType"] in ("trunk", "branch")]
    after = {s["SubnetId"]: s["AvailableIpAddressCount"]
             for s in ec2.describe_subnets(SubnetIds=net["subnets"])["Subnets"]}
    # two nodes (one address each) + coredns (2) + web (4) pod addresses, all in the node subnets
    assert sum(before.values()) - sum(after.values()) == 2 + 2 + 4
    # scaling the deployment down gives the addresses back
    kube.apply(deployment("web", NS, 1, {}))
    assert len(kube.pods(NS, "app=web")) == 1
    again = {s["SubnetId"]: s["AvailableIpAddressCount"]
             for s in ec2.describe_subnets(SubnetIds=net["subnets"])["Subnets"]}
    assert sum(again.values()) == sum(after.values()) + 3


def test_pods_beyond_the_address_limit_stay_container_creating(cloud):
    net = custom_network(cloud)
    eks_cluster(cloud, net)
    nodegroup(cloud, net, desired=1)  # c5.large, custom networking + trunk: 1 ENI x 9 addresses
    kube = Kube(cloud)
    kube.namespace(NS)
    kube.apply(deployment("web", NS, 10, {}))  # + 2 coredns = 12 pods for 9 addresses
    pods = kube.pods(NS, "app=web")
    stuck = [p for p in pods if p["status"]["phase"] == "Pending"]
    assert len(pods) == 10 and len(stuck) == 3
    for pod in stuck:
        assert pod["spec"]["nodeName"] and "podIP" not in pod["status"]
        assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
        events = kube.events(NS, pod["metadata"]["name"])
        failed = [e for e in events if e["reason"] == "FailedCreatePodSandBox"]
        assert failed and "failed to assign an IP address to container" in failed[0]["message"]
        assert failed[0]["type"] == "Warning" and failed[0]["source"]["component"] == "kubelet"
    deploy = kube.get(f"/apis/apps/v1/namespaces/{NS}/deployments/web")["status"]
    assert deploy["readyReplicas"] == 7 and deploy["unavailableReplicas"] == 3
    ec2 = cloud.client("ec2")
    intra = ec2.describe_subnets(SubnetIds=net["intra"])["Subnets"]
    used = sum(251 - s["AvailableIpAddressCount"] for s in intra)
    assert used == 1 + 1 + 9  # trunk + pod ENI (primary) + 9 pod addresses
    # fewer replicas free addresses: the stuck pods go (newest unready first) and all run
    kube.apply(deployment("web", NS, 7, {}))
    pods = kube.pods(NS, "app=web")
    assert len(pods) == 7 and all(p["status"]["phase"] == "Running" for p in pods)


def test_custom_networking_without_eniconfig_leaves_pods_without_address(cloud):
    net = custom_network(cloud)
    eks_cluster(cloud, net, eni_configs=False, pod_eni=False)
    nodegroup(cloud, net, desired=1)
    kube = Kube(cloud)
    coredns = kube.pods("kube-system", "k8s-app=kube-dns")
    assert [p["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] for p in coredns] == \
        ["ContainerCreating", "ContainerCreating"]
    # the ENIConfig arrives: ipamd retries and the pods get addresses in its subnet
    node = kube.nodes()[0]
    zone = node["metadata"]["labels"]["topology.kubernetes.io/zone"]
    subnet = net["intra"][0] if zone.endswith("a") else net["intra"][1]
    kube.apply({"apiVersion": "crd.k8s.amazonaws.com/v1alpha1", "kind": "ENIConfig", "metadata": {"name": zone},
                "spec": {"subnet": subnet}})
    coredns = kube.pods("kube-system", "k8s-app=kube-dns")
    assert all(p["status"]["phase"] == "Running" and p["status"]["podIP"].startswith("100.64.") for p in coredns)
    pod_eni = [e for e in enis(cloud, **{"subnet-id": subnet}) if e["Description"].startswith("aws-K8S-")]
    assert len(pod_eni) == 1 and tags(pod_eni[0])["node.k8s.amazonaws.com/instance_id"]
    # ENIConfig without security groups: the primary ENI's (the cluster security group)
    assert [g["GroupName"] for g in pod_eni[0]["Groups"]][0].startswith("eks-cluster-sg-demo-")


def test_a_node_keeps_the_custom_networking_mode_it_joined_with(cloud):
    net = custom_network(cloud)
    c = eks_cluster(cloud, net, custom=False, pod_eni=False)
    nodegroup(cloud, net, desired=1)
    kube = Kube(cloud)
    eks = cloud.client("eks")
    config = json.dumps(__import__("dataplane_helpers").cni_config(
        cloud, net, c["resourcesVpcConfig"]["clusterSecurityGroupId"], pod_eni=False))
    eks.update_addon(clusterName="demo", addonName="vpc-cni", configurationValues=config)
    kube.namespace(NS)
    kube.apply(deployment("web", NS, 1, {}))
    pod = kube.pods(NS, "app=web")[0]
    assert in_net(pod["status"]["podIP"], "10.0.0.0/16")  # the old node: its own subnet still
    # a version update replaces the nodes; the new ones join with custom networking
    eks.update_cluster_version(name="demo", version="1.32")
    eks.describe_cluster(name="demo")
    eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng", version="1.32")
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE"
    pod = kube.pods(NS, "app=web")[0]
    assert pod["status"]["phase"] == "Running" and pod["status"]["podIP"].startswith("100.64.")
    assert len(kube.nodes()) == 1


@pytest.mark.parametrize("leave_behind", [False, True])
def test_scale_down_and_deletion_remove_nodes_instances_and_enis(cloud, leave_behind):
    net = custom_network(cloud)
    eks_cluster(cloud, net)
    nodegroup(cloud, net, desired=2)
    kube = Kube(cloud)
    kube.namespace(NS)
    kube.apply(policy(net))
    kube.apply(deployment("nginx", NS, 2, {"role": "test-role"}))
    ec2, eks = cloud.client("ec2"), cloud.client("eks")
    if leave_behind:
        cloud.control("POST", "faults", {"service": "vpc-resource-controller", "operation": "DeleteNetworkInterface",
                                         "error": "UnauthorizedOperation"})

    def running():
        return [i["InstanceId"] for r in ec2.describe_instances(Filters=[
            {"Name": "tag:eks:nodegroup-name", "Values": ["ng"]},
            {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"] for i in r["Instances"]]

    assert len(running()) == 2
    eks.update_nodegroup_config(clusterName="demo", nodegroupName="ng",
                                scalingConfig={"minSize": 0, "maxSize": 5, "desiredSize": 1})
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE"
    assert len(kube.nodes()) == 1 and len(running()) == 1
    survivor = running()[0]
    attached = {e["Attachment"]["InstanceId"] for e in enis(cloud, **{"vpc-id": net["vpc"]}) if e.get("Attachment")}
    gone = [i for i in attached if i != survivor]
    assert all(ec2.describe_instances(InstanceIds=[i])["Reservations"][0]["Instances"][0]["State"]["Name"]
               == "terminated" for i in gone)
    assert len([e for e in enis(cloud, **{"vpc-id": net["vpc"]}) if e["InterfaceType"] == "trunk"]) == 1
    # the pods of the removed node come back on the remaining one
    pods = kube.pods(NS, "app=nginx")
    assert len(pods) == 2 and all(p["status"]["phase"] == "Running" for p in pods)
    assert {p["spec"]["nodeName"] for p in pods} == {kube.nodes()[0]["metadata"]["name"]}
    branches = [e for e in enis(cloud, **{"vpc-id": net["vpc"]}) if e["InterfaceType"] == "branch"]
    assert len(branches) == (3 if leave_behind else 2)  # one left behind by the removed node
    eks.delete_nodegroup(clusterName="demo", nodegroupName="ng")
    assert eks.list_nodegroups(clusterName="demo")["nodegroups"] == []
    assert kube.nodes() == [] and running() == []
    assert all(p["status"]["phase"] == "Pending" for p in kube.pods(NS))
    left = [e for e in enis(cloud, **{"vpc-id": net["vpc"]})
            if e["Description"].startswith(("aws-k8s-", "aws-K8S-"))]
    if not leave_behind:
        assert left == []
        for subnet in net["intra"]:
            ec2.delete_subnet(SubnetId=subnet)
        return
    assert {e["Description"] for e in left} == {"aws-k8s-branch-eni"} and len(left) == 3
    assert all(e["Status"] == "available" and e["InterfaceType"] == "branch" for e in left)
    assert all(tags(e)["kubernetes.io/cluster/demo"] == "owned" for e in left)
    faults = cloud.control("GET", "faults")
    assert faults[0]["fired"] == 3
    subnet = left[0]["SubnetId"]
    with pytest.raises(Exception) as e:
        ec2.delete_subnet(SubnetId=subnet)
    assert "DependencyViolation" in str(e.value)
