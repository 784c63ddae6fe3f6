"""Building blocks of the data plane tests: the reference network, an EKS cluster with the
vpc-cni add-on, nodegroups, and a small client for the cluster's Kubernetes double."""
import base64
import json
import os
import shutil
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import botocore.session
import yaml

from conftest import create_cluster, make_network

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from localcloud import eks_token  # noqa: E402

KUBECTL = shutil.which("kubectl")


def custom_network(cloud):
    """make_network + the 100.64.0.0/16 secondary range with an intra subnet per AZ and a pod group."""
    net = make_network(cloud)
    ec2 = cloud.client("ec2")
    ec2.associate_vpc_cidr_block(VpcId=net["vpc"], CidrBlock="100.64.0.0/16")
    r = cloud.region
    net["intra"] = [ec2.create_subnet(VpcId=net["vpc"], CidrBlock=f"100.64.{i}.0/24", AvailabilityZone=f"{r}{az}")
                    ["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    net["pod_sg"] = ec2.create_security_group(GroupName="pods", Description="pods", VpcId=net["vpc"])["GroupId"]
    net["node_role"] = cloud.client("iam").create_role(RoleName="node-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    return net


def cni_config(cloud, net, cluster_sg, custom=True, pod_eni=True, eni_configs=True):
    env = {"ENABLE_POD_ENI": "true" if pod_eni else "false"}
    config = {"env": env}
    if custom:
        env.update({"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true", "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"})
        if eni_configs:
            config["eniConfig"] = {"create": True, "region": cloud.region, "subnets": {
                f"{cloud.region}{az}": {"id": subnet, "securityGroups": [cluster_sg]}
                for az, subnet in zip("ab", net["intra"])}}
    return config


def eks_cluster(cloud, net, name="demo", **cni):
    """An ACTIVE cluster whose vpc-cni add-on has the given configuration; returns its description."""
    eks = cloud.client("eks")
    create_cluster(cloud, net, name=name)
    c = eks.describe_cluster(name=name)["cluster"]
    config = cni_config(cloud, net, c["resourcesVpcConfig"]["clusterSecurityGroupId"], **cni)
    eks.create_addon(clusterName=name, addonName="vpc-cni", configurationValues=json.dumps(config))
    return c


def nodegroup(cloud, net, cluster="demo", name="ng", desired=2, instance_type="c5.large", **extra):
    eks = cloud.client("eks")
    eks.create_nodegroup(clusterName=cluster, nodegroupName=name, nodeRole=net["node_role"], subnets=net["subnets"],
                         scalingConfig={"minSize": 0, "maxSize": 5, "desiredSize": desired},
                         instanceTypes=[instance_type], **extra)
    return eks.describe_nodegroup(clusterName=cluster, nodegroupName=name)["nodegroup"]


def enis(cloud, **filters):
    flt = [{"Name": k, "Values": [v]} for k, v in filters.items()]
    found = []
    kw = {"Filters": flt} if flt else {}
    while True:
        page = cloud.client("ec2").describe_network_interfaces(**kw)
        found += page["NetworkInterfaces"]
        if not page.get("NextToken"):
            return found
        kw["NextToken"] = page["NextToken"]


def tags(obj):
    return {t["Key"]: t["Value"] for t in obj.get("TagSet") or obj.get("Tags") or []}


def deployment(name, namespace, replicas, labels, **spec):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name, **labels}},
                                  "spec": {"containers": [{"name": name, "image": "public.ecr.aws/nginx/nginx:1.27",
                                                           "ports": [{"containerPort": 80}]}], **spec}}}}


class Kube:
    """The cluster's Kubernetes double over HTTPS, with an EKS token (as kubectl would)."""

    def __init__(self, cloud, cluster="demo"):
        c = cloud.client("eks").describe_cluster(name=cluster)["cluster"]
        self.endpoint = c["endpoint"]
        self.ca = base64.b64decode(c["certificateAuthority"]["data"]).decode()
        self.context = ssl.create_default_context(cadata=self.ca)
        session = botocore.session.get_session()
        session.set_credentials("testing", "testing")
        self.token = eks_token.token(cluster, cloud.region, session)
        self.cloud = cloud

    def request(self, method, path, body=None, content_type="application/json"):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": content_type, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=30) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: {e.code} {e.read()[:500]!r}")

    def apply(self, obj):
        group_version = obj["apiVersion"]
        plural = obj["kind"].lower() + ("es" if obj["kind"].endswith("s") else "s")
        if obj["kind"] == "SecurityGroupPolicy":
            plural = "securitygrouppolicies"
        base = f"/api/{group_version}" if "/" not in group_version else f"/apis/{group_version}"
        ns = obj["metadata"].get("namespace")
        path = f"{base}/namespaces/{ns}/{plural}/{obj['metadata']['name']}" if ns else f"{base}/{plural}/{obj['metadata']['name']}"
        return self.request("PATCH", path + "?fieldManager=test&force=true", obj, "application/apply-patch+yaml")

    def get(self, path):
        return self.request("GET", path)

    def items(self, path):
        return self.get(path)["items"]

    def pods(self, namespace=None, selector=None):
        path = f"/api/v1/namespaces/{namespace}/pods" if namespace else "/api/v1/pods"
        if selector:
            path += "?labelSelector=" + urllib.request.quote(selector)
        return self.items(path)

    def nodes(self):
        return self.items("/api/v1/nodes")

    def events(self, namespace, name):
        return [e for e in self.items(f"/api/v1/namespaces/{namespace}/events")
                if e["involvedObject"]["name"] == name]

    def namespace(self, name):
        self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def delete(self, path):
        return self.request("DELETE", path)

    def kubectl(self, tmp_path, *args):
        config = {"apiVersion": "v1", "kind": "Config",
                  "clusters": [{"name": "c", "cluster": {"server": self.endpoint,
                                                         "certificate-authority-data": base64.b64encode(self.ca.encode()).decode()}}],
                  "users": [{"name": "u", "user": {"token": self.token}}],
                  "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}], "current-context": "c"}
        path = os.path.join(str(tmp_path), "kubeconfig")
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "AWS_"))}
        env["HOME"] = str(tmp_path)
        out = subprocess.run([KUBECTL, "--kubeconfig", path, "--request-timeout", "20s", *args],
                             capture_output=True, text=True, env=env, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout


def wait_for(fn, timeout=10.0, interval=0.1):
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value or time.time() > deadline:
            return value
        time.sleep(interval)
