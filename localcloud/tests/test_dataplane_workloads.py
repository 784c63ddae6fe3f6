"""The data plane's controllers and scheduler: StatefulSets, Jobs, DaemonSets, selectors, taints,
hostNetwork, serviceAccountSelector, and the branch ENI cool-down."""
import os
import sys
import time

from dataplane_helpers import KUBECTL, Kube, custom_network, deployment, eks_cluster, enis, nodegroup

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from localcloud import dataplane_sgp  # noqa: E402
from localcloud.faults import FaultRules  # noqa: E402

NS = "apps"
IMAGE = "public.ecr.aws/docker/library/busybox:1.36"


def container(name="c"):
    return {"name": name, "image": IMAGE}


def setup(cloud, **cni):
    net = custom_network(cloud)
    eks_cluster(cloud, net, **cni)
    nodegroup(cloud, net, desired=2, labels={"team": "blue"})
    kube = Kube(cloud)
    kube.namespace(NS)
    return net, kube


def test_statefulset_job_and_daemonset(cloud):
    net, kube = setup(cloud, pod_eni=False)
    kube.apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": NS},
                "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                         "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [container()]}}}})
    pods = kube.pods(NS, "app=db")
    assert sorted(p["metadata"]["name"] for p in pods) == ["db-0", "db-1", "db-2"]
    assert all(p["status"]["phase"] == "Running" and p["spec"]["hostname"] == p["metadata"]["name"] for p in pods)
    assert all(p["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"] == p["metadata"]["name"] for p in pods)
    sts = kube.get(f"/apis/apps/v1/namespaces/{NS}/statefulsets/db")["status"]
    assert sts["readyReplicas"] == sts["replicas"] == 3 and sts["currentRevision"] == sts["updateRevision"]
    kube.apply({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": NS},
                "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                         "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [container()]}}}})
    assert [p["metadata"]["name"] for p in kube.pods(NS, "app=db")] == ["db-0"]

    ec2 = cloud.client("ec2")
    free = sum(s["AvailableIpAddressCount"] for s in ec2.describe_subnets(SubnetIds=net["intra"])["Subnets"])
    kube.apply({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "once", "namespace": NS},
                "spec": {"completions": 3, "parallelism": 2,
                         "template": {"spec": {"restartPolicy": "Never", "containers": [container()]}}}})
    job = kube.get(f"/apis/batch/v1/namespaces/{NS}/jobs/once")["status"]
    assert job["succeeded"] == 3 and "active" not in job and job["completionTime"]
    assert {c["type"] for c in job["conditions"]} == {"SuccessCriteriaMet", "Complete"}
    pods = kube.pods(NS, "job-name=once")
    assert len(pods) == 3 and all(p["status"]["phase"] == "Succeeded" for p in pods)
    assert all(p["status"]["containerStatuses"][0]["state"]["terminated"]["reason"] == "Completed" for p in pods)
    # finished pods gave their addresses back
    assert sum(s["AvailableIpAddressCount"] for s in ec2.describe_subnets(SubnetIds=net["intra"])["Subnets"]) == free

    kube.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": NS},
                "spec": {"selector": {"matchLabels": {"app": "agent"}},
                         "template": {"metadata": {"labels": {"app": "agent"}},
                                      "spec": {"nodeSelector": {"team": "blue"}, "containers": [container()]}}}})
    agents = kube.pods(NS, "app=agent")
    assert sorted(p["spec"]["nodeName"] for p in agents) == sorted(n["metadata"]["name"] for n in kube.nodes())
    assert all(p["status"]["podIP"].startswith("100.64.") for p in agents)
    status = kube.get(f"/apis/apps/v1/namespaces/{NS}/daemonsets/agent")["status"]
    assert status["desiredNumberScheduled"] == status["numberReady"] == 2
    # the nodegroup's labels change on its nodes (the DaemonSet follows); others' taints stay
    node = kube.nodes()[0]["metadata"]["name"]
    mine = {"key": "mine", "value": "x", "effect": "PreferNoSchedule"}
    kube.request("PATCH", f"/api/v1/nodes/{node}", {"spec": {"taints": [mine]}}, "application/merge-patch+json")
    eks = cloud.client("eks")
    eks.update_nodegroup_config(clusterName="demo", nodegroupName="ng",
                                labels={"addOrUpdateLabels": {"tier": "web"}, "removeLabels": ["team"]})
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["status"] == "ACTIVE"
    labels = [n["metadata"]["labels"] for n in kube.nodes()]
    assert all(lab["tier"] == "web" and "team" not in lab for lab in labels)
    assert kube.pods(NS, "app=agent") == []
    assert kube.get(f"/api/v1/nodes/{node}")["spec"]["taints"] == [mine]
    # a template change rolls the DaemonSet's pods
    kube.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": NS},
                "spec": {"selector": {"matchLabels": {"app": "agent"}},
                         "template": {"metadata": {"labels": {"app": "agent"}},
                                      "spec": {"nodeSelector": {"tier": "web"}, "containers": [container(), container("d")]}}}})
    agents2 = kube.pods(NS, "app=agent")
    assert len(agents2) == 2 and {p["metadata"]["labels"]["pod-template-generation"] for p in agents2} == {"2"}
    kube.apply({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": NS},
                "spec": {"selector": {"matchLabels": {"app": "agent"}},
                         "template": {"metadata": {"labels": {"app": "agent"}},
                                      "spec": {"nodeSelector": {"team": "red"}, "containers": [container()]}}}})
    assert kube.pods(NS, "app=agent") == []
    assert kube.get(f"/apis/apps/v1/namespaces/{NS}/daemonsets/agent")["status"]["desiredNumberScheduled"] == 0


def test_scheduler_selectors_taints_and_host_network(cloud, tmp_path):
    net, kube = setup(cloud, pod_eni=False)
    nodegroup(cloud, net, name="gpu", desired=1,
              taints=[{"key": "dedicated", "value": "gpu", "effect": "NO_SCHEDULE"}])
    nodes = kube.nodes()
    gpu = [n["metadata"]["name"] for n in nodes if n["metadata"]["labels"]["eks.amazonaws.com/nodegroup"] == "gpu"]
    assert len(nodes) == 3 and len(gpu) == 1
    assert kube.get(f"/api/v1/nodes/{gpu[0]}")["spec"]["taints"] == [
        {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    kube.apply(deployment("plain", NS, 4, {}))
    assert all(p["spec"]["nodeName"] not in gpu for p in kube.pods(NS, "app=plain"))
    kube.apply(deployment("tolerant", NS, 1, {}, nodeSelector={"eks.amazonaws.com/nodegroup": "gpu"},
                          tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]))
    assert [p["spec"]["nodeName"] for p in kube.pods(NS, "app=tolerant")] == gpu
    # a pod no node fits stays Pending, with the scheduler's reason
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "nowhere", "namespace": NS},
                "spec": {"nodeSelector": {"team": "green"}, "containers": [container()]}})
    pod = kube.get(f"/api/v1/namespaces/{NS}/pods/nowhere")
    assert pod["status"]["phase"] == "Pending" and "nodeName" not in pod["spec"]
    scheduled = next(c for c in pod["status"]["conditions"] if c["type"] == "PodScheduled")
    assert scheduled["status"] == "False" and scheduled["reason"] == "Unschedulable"
    event = next(e for e in kube.events(NS, "nowhere") if e["reason"] == "FailedScheduling")
    assert event["message"].startswith("0/3 nodes are available:")
    assert "2 node(s) didn't match Pod's node affinity/selector" in event["message"]
    assert "1 node(s) had untolerated taint {dedicated: gpu}" in event["message"]
    # a bigger cpu request than any node has
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "huge", "namespace": NS},
                "spec": {"containers": [{**container(), "resources": {"requests": {"cpu": "8"}}}]}})
    assert "Insufficient cpu" in next(e for e in kube.events(NS, "huge") if e["reason"] == "FailedScheduling")["message"]
    # hostNetwork: the node's address
    kube.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "host", "namespace": NS},
                "spec": {"hostNetwork": True, "containers": [container()]}})
    host = kube.get(f"/api/v1/namespaces/{NS}/pods/host")
    assert host["status"]["podIP"] == host["status"]["hostIP"] and host["status"]["phase"] == "Running"
    # deleting a pod frees its address at once
    ec2 = cloud.client("ec2")
    free = sum(s["AvailableIpAddressCount"] for s in ec2.describe_subnets(SubnetIds=net["intra"])["Subnets"])
    kube.delete(f"/apis/apps/v1/namespaces/{NS}/deployments/plain")
    after = sum(s["AvailableIpAddressCount"] for s in ec2.describe_subnets(SubnetIds=net["intra"])["Subnets"])
    assert after == free + 4
    if KUBECTL:
        out = kube.kubectl(tmp_path, "get", "nodes", "-o", "wide").splitlines()
        assert out[0].split()[:7] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION", "INTERNAL-IP", "EXTERNAL-IP"]
        assert all(line.split()[1] == "Ready" for line in out[1:]) and len(out) == 4
        pending = kube.kubectl(tmp_path, "get", "pods", "-n", NS, "nowhere", "--no-headers").split()
        assert pending[2] == "Pending"


def test_service_account_selector_and_namespace_deletion(cloud):
    net, kube = setup(cloud)
    kube.apply({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "payments", "namespace": NS, "labels": {"tier": "secure"}}})
    kube.apply({"apiVersion": "vpcresources.k8s.aws/v1beta1", "kind": "SecurityGroupPolicy",
                "metadata": {"name": "by-sa", "namespace": NS},
                "spec": {"serviceAccountSelector": {"matchExpressions": [
                    {"key": "tier", "operator": "In", "values": ["secure"]}]},
                         "securityGroups": {"groupIds": [net["pod_sg"]]}}})
    kube.apply(deployment("pay", NS, 1, {}, serviceAccountName="payments"))
    kube.apply(deployment("other", NS, 1, {}))
    pay, other = kube.pods(NS, "app=pay")[0], kube.pods(NS, "app=other")[0]
    assert "vpc.amazonaws.com/pod-eni" in pay["metadata"]["annotations"]
    assert "annotations" not in other["metadata"]
    branches = [e for e in enis(cloud, **{"vpc-id": net["vpc"]}) if e["InterfaceType"] == "branch"]
    assert [b["PrivateIpAddress"] for b in branches] == [pay["status"]["podIP"]]
    # the namespace goes (after its finalizer delay): its pods and their branch ENI with it
    kube.delete(f"/api/v1/namespaces/{NS}")
    deadline = time.time() + 10
    while time.time() < deadline and kube.pods(NS):
        time.sleep(0.1)
    assert kube.pods(NS) == []
    assert [e for e in enis(cloud, **{"vpc-id": net["vpc"]}) if e["InterfaceType"] == "branch"] == []


class FakeEc2:
    def __init__(self):
        self.deleted, self.models = [], {}

    def delete_eni(self, eni_id):
        self.deleted.append(eni_id)

    def set_model(self, eni_id, **attrs):
        self.models.setdefault(eni_id, {}).update(attrs)


def branch(eni_id):
    return dataplane_sgp.Branch(eni_id, "100.64.1.250", "02:00:00:00:00:01", 1, "100.64.1.0/24", ["sg-1"], "eni-trunk")


def test_branch_enis_cool_down_and_can_be_left_behind():
    ec2 = FakeEc2()
    controller = dataplane_sgp.PodEniController(ec2, "demo", cooldown_s=0.3)
    controller.release(branch("eni-1"))
    assert ec2.deleted == []  # cooling down
    time.sleep(0.6)
    assert ec2.deleted == ["eni-1"]
    controller.release(branch("eni-2"))
    controller.close()  # the cluster goes: what cools down goes now
    assert ec2.deleted == ["eni-1", "eni-2"]

    faults = FaultRules()
    faults.add({"error": "Throttling"})  # catch-all rules do not reach the controller
    faults.add({"service": "vpc-resource-controller", "operation": "DeleteNetworkInterface",
                "error": "UnauthorizedOperation", "times": 1})
    ec2 = FakeEc2()
    controller = dataplane_sgp.PodEniController(ec2, "demo", cooldown_s=0, faults=faults)
    controller.release(branch("eni-3"))
    controller.release(branch("eni-4"))
    assert ec2.deleted == ["eni-4"] and controller.left_behind == ["eni-3"]
    assert ec2.models["eni-3"] == {"status": "available"}
    assert [r["fired"] for r in faults.list()] == [0, 1]


def test_branch_limits_follow_the_controller_table():
    assert dataplane_sgp.branch_interfaces("c5.large") == 9
    assert dataplane_sgp.branch_interfaces("m5.2xlarge") == 38
    assert dataplane_sgp.branch_interfaces("t3.large") == 0
    assert dataplane_sgp.branch_interfaces("m4.large") == 0
    assert dataplane_sgp.branch_interfaces("c7i.xlarge") == 18


def test_a_node_update_a_budget_blocks_fails_unless_forced(cloud):
    """EKS user guide, managed-node-update-behavior: the old nodes are drained; a pod whose
    PodDisruptionBudget allows no disruption does not leave, and without the force flag the
    update fails with PodEvictionFailure (ErrorDetail as DescribeUpdate shows it); with
    `force` the pods are deleted and the update goes through."""
    net, kube = setup(cloud, pod_eni=False)
    eks = cloud.client("eks")
    kube.apply(deployment("web", NS, 2, {"app": "web"}))
    assert len(kube.pods(NS, "app=web")) == 2
    budget = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web", "namespace": NS},
              "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}}
    kube.apply(budget)
    eks.update_cluster_version(name="demo", version="1.32")
    eks.describe_cluster(name="demo")

    u = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng", version="1.32")["update"]
    done = eks.describe_update(name="demo", updateId=u["id"], nodegroupName="ng")["update"]
    assert done["status"] == "Failed", done
    [error] = done["errors"]
    assert error["errorCode"] == "PodEvictionFailure"
    assert error["errorMessage"] == "Reached max retries while trying to evict pods from nodes in node group ng"
    web_nodes = {p["spec"]["nodeName"] for p in kube.pods(NS, "app=web")}
    assert set(error["resourceIds"]) == web_nodes
    ng = eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]
    assert (ng["version"], ng["status"]) == ("1.31", "ACTIVE"), "nothing of a failed update is applied"

    u = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng", version="1.32", force=True)["update"]
    assert {"type": "Force", "value": "true"} in u["params"]
    assert eks.describe_update(name="demo", updateId=u["id"], nodegroupName="ng")["update"]["status"] == "Successful"
    assert eks.describe_nodegroup(clusterName="demo", nodegroupName="ng")["nodegroup"]["version"] == "1.32"

    # A budget that lets one pod go does not block the drain.
    kube.apply({**budget, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "web"}}}})
    eks.update_cluster_version(name="demo", version="1.33")
    eks.describe_cluster(name="demo")
    u = eks.update_nodegroup_version(clusterName="demo", nodegroupName="ng", version="1.33")["update"]
    assert eks.describe_update(name="demo", updateId=u["id"], nodegroupName="ng")["update"]["status"] == "Successful"


def test_an_injected_update_failure_ends_the_update_failed(cloud):
    """A fault rule for service `eks-update`: the update is accepted, then ends Failed with the
    rule's error; nothing of it is applied, and the next update goes through."""
    net, kube = setup(cloud, pod_eni=False)
    eks = cloud.client("eks")
    cloud.control("POST", "faults", {"service": "eks-update", "operation": "UpdateAddon", "error": "ConfigurationConflict",
                                     "message": "Conflicts found when trying to apply", "times": 1})
    before = eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]["addonVersion"]
    u = eks.update_addon(clusterName="demo", addonName="vpc-cni", addonVersion="v1.19.6-eksbuild.1")["update"]
    done = eks.describe_update(name="demo", updateId=u["id"], addonName="vpc-cni")["update"]
    assert done["status"] == "Failed" and done["errors"] == [
        {"errorCode": "ConfigurationConflict", "errorMessage": "Conflicts found when trying to apply", "resourceIds": ["vpc-cni"]}]
    a = eks.describe_addon(clusterName="demo", addonName="vpc-cni")["addon"]
    assert (a["addonVersion"], a["status"]) == (before, "ACTIVE")
    u = eks.update_addon(clusterName="demo", addonName="vpc-cni", addonVersion="v1.19.6-eksbuild.1")["update"]
    assert eks.describe_update(name="demo", updateId=u["id"], addonName="vpc-cni")["update"]["status"] == "Successful"
