"""The Kubernetes API double, driven by the real kubectl with an EKS token exec plugin.

Each test gets a fresh cluster (its own CA, port and store) whose tokens are checked against a
private moto server standing in for STS.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import shutil
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from unittest import mock

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
LOCALCLOUD_DIR = os.path.dirname(HERE)
sys.path.insert(0, LOCALCLOUD_DIR)

from localcloud import eks_token  # noqa: E402
from localcloud.kube import KubeCluster  # noqa: E402

REGION = "ap-southeast-2"
KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: test-namespace
---
apiVersion: vpcresources.k8s.aws/v1beta1
kind: SecurityGroupPolicy
metadata:
  name: my-security-group-policy
  namespace: test-namespace
spec:
  podSelector:
    matchLabels:
      role: test-role
  securityGroups:
    groupIds:
      - sg-0123456789abcdef0
---
apiVersion: crd.k8s.amazonaws.com/v1alpha1
kind: ENIConfig
metadata:
  name: ap-southeast-2a
spec:
  subnet: subnet-0aaaaaaaaaaaaaaaa
  securityGroups:
    - sg-0nodenodenodenode
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  namespace: test-namespace
  labels:
    app: nginx
spec:
  replicas: 2
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
        role: test-role
    spec:
      containers:
        - name: nginx
          image: public.ecr.aws/nginx/nginx:1.27
          ports:
            - containerPort: 80
"""

SEED_ADDON_CONFIG = {
    "env": {
        "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
        "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
        "ENABLE_POD_ENI": "true",
        "AWS_VPC_K8S_CNI_EXTERNALSNAT": "true",
    },
    "init": {"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}},
    "eniConfig": {
        "create": True,
        "region": REGION,
        "subnets": {
            "ap-southeast-2a": {"id": "subnet-0a", "securityGroups": ["sg-0node"]},
            "ap-southeast-2b": {"id": "subnet-0b", "securityGroups": ["sg-0node"]},
        },
    },
}


@pytest.fixture(autouse=True)
def fake_aws_credentials():
    """For tokens minted inside the tests (presigning needs credentials, never a network)."""
    with mock.patch.dict(os.environ, {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"}):
        yield


@pytest.fixture(scope="module")
def sts():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


class Kube:
    """A running cluster plus a kubectl wired to it the way `aws eks update-kubeconfig` would."""

    def __init__(self, cluster: KubeCluster, directory: str, sts_endpoint: str):
        self.cluster = cluster
        self.dir = directory
        self.sts = sts_endpoint
        self.log: list[tuple] = []
        self.kubeconfig = self.write_kubeconfig("kubeconfig", self.exec_user())

    def exec_user(self) -> dict:
        return {
            "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": sys.executable,
                "args": ["-m", "localcloud.eks_token", "--cluster", self.cluster.name, "--region", REGION],
                "interactiveMode": "Never",
                "env": [
                    {"name": "PYTHONPATH", "value": LOCALCLOUD_DIR},
                    {"name": "AWS_ACCESS_KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
                    {"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                    {"name": "AWS_ENDPOINT_URL", "value": self.sts},
                ],
            }
        }

    def write_kubeconfig(self, filename: str, user: dict) -> str:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "eks", "cluster": {
                "server": self.cluster.endpoint,
                "certificate-authority-data": self.cluster.ca_data,
            }}],
            "users": [{"name": "eks", "user": user}],
            "contexts": [{"name": "eks", "context": {"cluster": "eks", "user": "eks"}}],
            "current-context": "eks",
        }
        path = os.path.join(self.dir, filename)
        with open(path, "w") as f:
            yaml.safe_dump(config, f)
        return path

    def kubectl(self, *args: str, kubeconfig: str | None = None, input: str | None = None,
                check: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBECONFIG", "AWS_"))}
        env["HOME"] = self.dir
        result = subprocess.run(
            [KUBECTL, "--kubeconfig", kubeconfig or self.kubeconfig, "--cache-dir", os.path.join(self.dir, "cache"),
             "--request-timeout", "20s", *args],
            input=input, capture_output=True, text=True, env=env, timeout=60,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
        return result

    def json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def token(self) -> str:
        return eks_token.token(self.cluster.name, REGION)

    def http(self, method: str, path: str, body=None, token: str | None = "auto", content_type: str = "application/json",
             accept: str = "application/json"):
        """(status, parsed body) of one raw request; token=None sends no Authorization header."""
        context = ssl.create_default_context(cadata=self.cluster.ca_pem.decode())
        headers = {"Accept": accept, "Content-Type": content_type}
        if token == "auto":
            token = self.token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.cluster.endpoint + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, context=context, timeout=20) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")


@pytest.fixture
def kube(sts, tmp_path):
    kube = None

    def log_request(service, operation, status, duration_ms, extra):
        kube.log.append((service, operation, status, duration_ms, extra))

    cluster = KubeCluster("CNICustomNetworkDemoEKS", REGION, sts, log_request)
    cluster.start()
    kube = Kube(cluster, str(tmp_path), sts)
    yield kube
    cluster.stop()


def env_of(container: dict) -> dict:
    return {e["name"]: e.get("value") for e in container.get("env", []) if "value" in e}


def containers(ds: dict, kind: str = "containers") -> dict:
    return {c["name"]: c for c in ds["spec"]["template"]["spec"].get(kind, [])}


def test_cluster_comes_up_as_eks_delivers_it(kube):
    ds = yaml.safe_load(kube.kubectl("get", "ds", "-n", "kube-system", "aws-node", "-o", "yaml").stdout)
    aws_node = containers(ds)["aws-node"]
    assert aws_node["image"] == f"602401143452.dkr.ecr.{REGION}.amazonaws.com/amazon-k8s-cni:v1.19.2-eksbuild.1"
    env = env_of(aws_node)
    assert env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] == "false"
    assert env["ENABLE_POD_ENI"] == "false"
    assert env["AWS_VPC_K8S_CNI_EXTERNALSNAT"] == "false"
    assert env["WARM_ENI_TARGET"] == "1"
    assert "ENI_CONFIG_LABEL_DEF" not in env
    init = containers(ds, "initContainers")["aws-vpc-cni-init"]
    assert env_of(init) == {"DISABLE_TCP_EARLY_DEMUX": "false", "ENABLE_IPv6": "false"}
    assert ds["status"]["numberReady"] == ds["status"]["desiredNumberScheduled"] == 2

    namespaces = kube.kubectl("get", "ns", "-o", "name").stdout.split()
    assert namespaces == ["namespace/default", "namespace/kube-node-lease", "namespace/kube-public", "namespace/kube-system"]
    assert kube.json("get", "deploy", "-n", "kube-system", "coredns")["status"]["readyReplicas"] == 2
    assert kube.kubectl("get", "ds", "-n", "kube-system", "-o", "name").stdout.split() == [
        "daemonset.apps/aws-node", "daemonset.apps/kube-proxy"]
    crds = kube.kubectl("get", "crd", "-o", "name").stdout.split()
    assert "customresourcedefinition.apiextensions.k8s.io/eniconfigs.crd.k8s.amazonaws.com" in crds
    assert "customresourcedefinition.apiextensions.k8s.io/securitygrouppolicies.vpcresources.k8s.aws" in crds
    assert kube.kubectl("get", "eniconfigs").stderr.strip() == "No resources found"


def test_discovery_names_kinds_scopes_and_short_names(kube):
    resources = kube.kubectl("api-resources", "--no-headers").stdout
    rows = {line.split()[0]: line.split() for line in resources.splitlines()}
    # NAME SHORTNAMES APIVERSION NAMESPACED KIND
    assert rows["securitygrouppolicies"] == ["securitygrouppolicies", "sgp", "vpcresources.k8s.aws/v1beta1", "true", "SecurityGroupPolicy"]
    assert rows["eniconfigs"] == ["eniconfigs", "crd.k8s.amazonaws.com/v1alpha1", "false", "ENIConfig"]
    assert rows["daemonsets"] == ["daemonsets", "ds", "apps/v1", "true", "DaemonSet"]
    assert rows["namespaces"] == ["namespaces", "ns", "v1", "false", "Namespace"]
    status, version = kube.http("GET", "/version", token=None)
    assert status == 200 and version["gitVersion"].startswith("v1.32.")


def test_server_side_apply_get_and_delete_with_kubectl(kube):
    applied = kube.kubectl("apply", "--server-side", "-f", "-", input=MANIFESTS).stdout.splitlines()
    assert applied == [
        "namespace/test-namespace serverside-applied",
        "securitygrouppolicy.vpcresources.k8s.aws/my-security-group-policy serverside-applied",
        "eniconfig.crd.k8s.amazonaws.com/ap-southeast-2a serverside-applied",
        "deployment.apps/nginx serverside-applied",
    ]

    eni = kube.json("get", "eniconfig", "ap-southeast-2a")
    assert eni["spec"] == {"subnet": "subnet-0aaaaaaaaaaaaaaaa", "securityGroups": ["sg-0nodenodenodenode"]}
    assert "namespace" not in eni["metadata"]
    assert kube.kubectl("get", "eniconfigs", "--no-headers").stdout.split()[0] == "ap-southeast-2a"

    sgp_table = kube.kubectl("get", "securitygrouppolicies", "-A").stdout.splitlines()
    assert sgp_table[0].split() == ["NAMESPACE", "NAME", "SECURITY-GROUP-IDS", "AGE"]
    assert sgp_table[1].split()[:3] == ["test-namespace", "my-security-group-policy", '["sg-0123456789abcdef0"]']
    sgp = kube.json("get", "sgp", "-n", "test-namespace", "my-security-group-policy")
    assert sgp["spec"]["podSelector"] == {"matchLabels": {"role": "test-role"}}

    deployments = kube.kubectl("get", "deploy", "-A", "--no-headers").stdout.splitlines()
    assert [line.split()[:5] for line in deployments] == [
        ["kube-system", "coredns", "2/2", "2", "2"],
        ["test-namespace", "nginx", "2/2", "2", "2"],
    ]
    assert kube.kubectl("get", "deploy", "-A", "-l", "app=nginx", "-o", "name").stdout.split() == ["deployment.apps/nginx"]
    assert "successfully rolled out" in kube.kubectl(
        "rollout", "status", "deployment/nginx", "-n", "test-namespace", "--timeout=20s").stdout
    kube.kubectl("wait", "--for=condition=Available", "deployment/nginx", "-n", "test-namespace", "--timeout=20s")

    deployment = kube.json("get", "deploy", "nginx", "-n", "test-namespace", "--show-managed-fields")
    managers = [(m["manager"], m["operation"]) for m in deployment["metadata"]["managedFields"]]
    assert managers == [("kubectl", "Apply")]
    fields = deployment["metadata"]["managedFields"][0]["fieldsV1"]
    assert 'k:{"name":"nginx"}' in fields["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert deployment["metadata"]["generation"] == 1 and deployment["status"]["observedGeneration"] == 1

    # Applying the same manifests again changes nothing, not even the resourceVersion.
    before = deployment["metadata"]["resourceVersion"]
    kube.kubectl("apply", "--server-side", "-f", "-", input=MANIFESTS)
    assert kube.json("get", "deploy", "nginx", "-n", "test-namespace")["metadata"]["resourceVersion"] == before

    # A changed manifest bumps generation, and status follows.
    changed = MANIFESTS.replace("replicas: 2", "replicas: 3")
    kube.kubectl("apply", "--server-side", "-f", "-", input=changed)
    deployment = kube.json("get", "deploy", "nginx", "-n", "test-namespace")
    assert (deployment["spec"]["replicas"], deployment["metadata"]["generation"], deployment["status"]["readyReplicas"]) == (3, 2, 3)

    deleted = kube.kubectl("delete", "-f", "-", input=changed).stdout.splitlines()
    assert deleted == [
        'namespace "test-namespace" deleted',
        'securitygrouppolicy.vpcresources.k8s.aws "my-security-group-policy" deleted',
        'eniconfig.crd.k8s.amazonaws.com "ap-southeast-2a" deleted',
        'deployment.apps "nginx" deleted',
    ]
    missing = kube.kubectl("get", "ns", "test-namespace", check=False)
    assert missing.returncode == 1 and 'namespaces "test-namespace" not found' in missing.stderr
    assert kube.kubectl("get", "eniconfigs,deploy,sgp", "-A", "-o", "name").stdout.split() == ["deployment.apps/coredns"]

    applies = [entry for entry in kube.log if entry[4].get("verb") == "apply"]
    assert ("kube", "PATCH apps/v1 deployments test-namespace/nginx", 201) in [e[:3] for e in applies]
    assert all(entry[4]["fieldManager"] == "kubectl" for entry in applies)


def namespace(name: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"


def test_kubectl_delete_of_single_objects_waits_and_returns(kube):
    kube.kubectl("create", "-f", "-", input=namespace("scratch"))
    kube.kubectl("create", "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n"
                 "  namespace: scratch\ndata:\n  a: '1'\n")
    assert kube.json("get", "cm", "settings", "-n", "scratch")["data"] == {"a": "1"}
    assert kube.kubectl("get", "sa", "-n", "scratch", "-o", "name").stdout.split() == ["serviceaccount/default"]
    started = time.monotonic()
    assert kube.kubectl("delete", "configmap", "settings", "-n", "scratch").stdout.strip() == 'configmap "settings" deleted'
    assert kube.kubectl("delete", "namespace", "scratch").stdout.strip() == 'namespace "scratch" deleted'
    assert time.monotonic() - started < 15
    assert kube.kubectl("get", "ns", "scratch", check=False).returncode == 1


def test_objects_in_a_missing_namespace_are_refused(kube):
    result = kube.kubectl("apply", "--server-side", "-f", "-", check=False,
                          input=MANIFESTS.split("---\n", 1)[1])  # everything but the namespace
    assert result.returncode == 1
    assert 'namespaces "test-namespace" not found' in result.stderr
    assert kube.kubectl("get", "sgp,deploy", "-A", "-o", "name").stdout.split() == ["deployment.apps/coredns"]


def test_create_twice_is_already_exists(kube):
    kube.kubectl("create", "-f", "-", input=namespace("twice"))
    again = kube.kubectl("create", "-f", "-", input=namespace("twice"), check=False)
    assert again.returncode == 1
    assert 'namespaces "twice" already exists' in again.stderr
    status, body = kube.http("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "twice"}})
    assert (status, body["reason"], body["code"]) == (409, "AlreadyExists", 409)
    # Typed client-go commands send protobuf, which the double refuses explicitly.
    typed = kube.kubectl("create", "namespace", "typed", check=False)
    assert typed.returncode == 1 and "UnsupportedMediaType" in typed.stderr


def test_server_side_apply_conflicts_with_another_manager_unless_forced(kube):
    kube.kubectl("apply", "--server-side", "-f", "-", input=MANIFESTS)
    other = MANIFESTS.replace("replicas: 2", "replicas: 5")
    conflict = kube.kubectl("apply", "--server-side", "--field-manager", "eksnet", "-f", "-", input=other, check=False)
    assert conflict.returncode == 1
    assert 'conflict with "kubectl"' in conflict.stderr and ".spec.replicas" in conflict.stderr
    kube.kubectl("apply", "--server-side", "--field-manager", "eksnet", "--force-conflicts", "-f", "-", input=other)
    deployment = kube.json("get", "deploy", "nginx", "-n", "test-namespace", "--show-managed-fields")
    assert deployment["spec"]["replicas"] == 5
    owners = {m["manager"]: m["fieldsV1"] for m in deployment["metadata"]["managedFields"]}
    assert "f:replicas" in owners["eksnet"]["f:spec"]
    assert "f:replicas" not in owners["kubectl"]["f:spec"]


def test_eks_owned_daemonset_fields_conflict_as_on_eks(kube):
    patch = {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "aws-node", "namespace": "kube-system"},
             "spec": {"template": {"spec": {"containers": [{"name": "aws-node", "env": [
                 {"name": "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "value": "true"}]}]}}}}
    path = "/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node?fieldManager=eksnet"
    status, body = kube.http("PATCH", path, patch, content_type="application/apply-patch+yaml")
    assert (status, body["reason"]) == (409, "Conflict")
    assert body["details"]["causes"][0]["message"] == 'conflict with "eks" using apps/v1'
    status, body = kube.http("PATCH", path + "&force=true", patch, content_type="application/apply-patch+yaml")
    assert status == 200
    assert env_of(containers(body)["aws-node"])["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] == "true"
    assert env_of(containers(body)["aws-node"])["WARM_ENI_TARGET"] == "1"  # other env untouched
    assert set(containers(body)) == {"aws-node", "aws-eks-nodeagent"}
    status, body = kube.http("PATCH", "/apis/apps/v1/namespaces/kube-system/daemonsets/aws-node", patch,
                             content_type="application/apply-patch+yaml")
    assert (status, body["reason"]) == (400, "BadRequest")  # fieldManager is required


def test_kubectl_patch_strategic_merge_json_merge_and_json_patch(kube):
    kube.kubectl("patch", "ds", "aws-node", "-n", "kube-system", "-p", json.dumps({"spec": {"template": {"spec": {
        "containers": [{"name": "aws-node", "env": [{"name": "ENABLE_POD_ENI", "value": "true"}]}],
        "initContainers": [{"name": "aws-vpc-cni-init", "env": [{"name": "DISABLE_TCP_EARLY_DEMUX", "value": "true"}]}],
    }}}}))
    ds = kube.json("get", "ds", "aws-node", "-n", "kube-system", "--show-managed-fields")
    env = env_of(containers(ds)["aws-node"])
    assert env["ENABLE_POD_ENI"] == "true" and env["AWS_VPC_K8S_CNI_EXTERNALSNAT"] == "false"
    assert env_of(containers(ds, "initContainers")["aws-vpc-cni-init"]) == {"DISABLE_TCP_EARLY_DEMUX": "true", "ENABLE_IPv6": "false"}
    assert set(containers(ds)) == {"aws-node", "aws-eks-nodeagent"}
    assert ds["metadata"]["generation"] == 2
    assert [m["manager"] for m in ds["metadata"]["managedFields"]] == ["eks", "kubectl-patch"]

    kube.kubectl("apply", "--server-side", "-f", "-", input=MANIFESTS)
    kube.kubectl("patch", "sgp", "my-security-group-policy", "-n", "test-namespace", "--type", "merge",
                 "-p", '{"spec":{"securityGroups":{"groupIds":["sg-1","sg-2"]}}}')
    assert kube.json("get", "sgp", "my-security-group-policy", "-n", "test-namespace")["spec"]["securityGroups"] == {
        "groupIds": ["sg-1", "sg-2"]}
    kube.kubectl("patch", "eniconfig", "ap-southeast-2a", "--type", "json",
                 "-p", '[{"op":"replace","path":"/spec/subnet","value":"subnet-0new"}]')
    assert kube.json("get", "eniconfig", "ap-southeast-2a")["spec"]["subnet"] == "subnet-0new"


def test_on_addon_changes_aws_node_and_creates_eniconfigs(kube):
    kube.cluster.on_addon("vpc-cni", SEED_ADDON_CONFIG)
    ds = kube.json("get", "ds", "aws-node", "-n", "kube-system", "--show-managed-fields")
    env = env_of(containers(ds)["aws-node"])
    assert env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"] == "true"
    assert env["ENI_CONFIG_LABEL_DEF"] == "topology.kubernetes.io/zone"
    assert env["ENABLE_POD_ENI"] == "true"
    assert env["AWS_VPC_K8S_CNI_EXTERNALSNAT"] == "true"
    assert env["WARM_ENI_TARGET"] == "1"
    assert env_of(containers(ds, "initContainers")["aws-vpc-cni-init"])["DISABLE_TCP_EARLY_DEMUX"] == "true"
    assert [m["manager"] for m in ds["metadata"]["managedFields"]] == ["eks"]
    assert ds["metadata"]["generation"] == 2

    enis = kube.json("get", "eniconfigs")["items"]
    assert {e["metadata"]["name"]: e["spec"] for e in enis} == {
        "ap-southeast-2a": {"subnet": "subnet-0a", "securityGroups": ["sg-0node"]},
        "ap-southeast-2b": {"subnet": "subnet-0b", "securityGroups": ["sg-0node"]},
    }

    # Updating the add-on without eniConfig and without ENABLE_POD_ENI: back to the default,
    # and the ENIConfigs the add-on made are gone.
    kube.cluster.on_addon("vpc-cni", {"env": {"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true"}})
    env = env_of(containers(kube.json("get", "ds", "aws-node", "-n", "kube-system"))["aws-node"])
    assert (env["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"], env["ENABLE_POD_ENI"]) == ("true", "false")
    assert "ENI_CONFIG_LABEL_DEF" not in env
    assert kube.json("get", "eniconfigs")["items"] == []


def _unauthorized(kube, user: dict, filename: str):
    config = kube.write_kubeconfig(filename, user)
    result = kube.kubectl("get", "ns", kubeconfig=config, check=False)
    assert result.returncode == 1
    # kubectl's wording for a 401 ("... (the server has asked for the client to provide credentials)")
    assert "error: You must be logged in to the server" in result.stderr
    return result


UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


def test_wrong_token_is_401(kube):
    _unauthorized(kube, {"token": "k8s-aws-v1.bm90LWEtdXJs"}, "wrong")
    _unauthorized(kube, {"token": "not-even-eks"}, "garbage")
    assert kube.http("GET", "/api/v1/namespaces", token="k8s-aws-v1.bm90LWEtdXJs") == (401, UNAUTHORIZED)
    # A presigned URL of another STS action, or one without the cluster header signed.
    url = eks_token.presigned_url("x", REGION).replace("GetCallerIdentity", "AssumeRole")
    forged = "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")
    assert kube.http("GET", "/api", token=forged)[0] == 401
    unsigned = eks_token.presigned_url("x", REGION).replace("host%3Bx-k8s-aws-id", "host")
    assert kube.http("GET", "/api", token="k8s-aws-v1." + base64.urlsafe_b64encode(unsigned.encode()).decode())[0] == 401
    assert kube.http("GET", "/api", token=kube.token())[0] == 200


def test_expired_token_is_401(kube):
    signed_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=16)
    with mock.patch("botocore.auth.get_current_datetime", return_value=signed_at.replace(tzinfo=None)):
        old = kube.token()
    assert "X-Amz-Date=" + signed_at.strftime("%Y%m%dT%H%M") in base64.urlsafe_b64decode(old[11:] + "==").decode()
    _unauthorized(kube, {"token": old}, "expired")
    assert kube.http("GET", "/api/v1/namespaces", token=old) == (401, UNAUTHORIZED)
    assert any("expired" in e[4].get("auth_error", "") for e in kube.log if e[2] == 401)


def test_no_token_is_401(kube):
    # kubectl without any credentials prompts for a username instead of asking, so use HTTP.
    assert kube.http("GET", "/apis", token=None) == (401, UNAUTHORIZED)
    assert kube.http("GET", "/api/v1/namespaces/kube-system/configmaps", token=None) == (401, UNAUTHORIZED)
    assert kube.http("GET", "/version", token=None)[0] == 200  # public, as on EKS


def test_sts_refusal_is_401(kube, sts):
    kube.cluster.verifier.sts_endpoint = "http://127.0.0.1:9"  # nothing listens there
    assert kube.http("GET", "/api", token=kube.token())[0] == 401
    kube.cluster.verifier.sts_endpoint = sts
    assert kube.http("GET", "/api", token=kube.token())[0] == 200


def test_watch_streams_changes(kube):
    status, listed = kube.http("GET", "/api/v1/namespaces/default/configmaps")
    assert status == 200 and listed["kind"] == "ConfigMapList"
    rv = listed["metadata"]["resourceVersion"]

    def create_later():
        time.sleep(0.3)
        kube.http("POST", "/api/v1/namespaces/default/configmaps",
                  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "watched"}, "data": {"k": "v"}})

    threading.Thread(target=create_later).start()
    context = ssl.create_default_context(cadata=kube.cluster.ca_pem.decode())
    request = urllib.request.Request(
        f"{kube.cluster.endpoint}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv}&timeoutSeconds=5",
        headers={"Authorization": f"Bearer {kube.token()}"})
    with urllib.request.urlopen(request, context=context, timeout=10) as response:
        event = json.loads(response.readline())
    assert event["type"] == "ADDED"
    assert event["object"]["metadata"]["name"] == "watched" and event["object"]["data"] == {"k": "v"}


def test_requests_are_logged_with_operation_and_user(kube):
    kube.kubectl("get", "ds", "-n", "kube-system", "aws-node")
    operations = [(e[0], e[1], e[2]) for e in kube.log]
    assert ("kube", "GET apps/v1 daemonsets kube-system/aws-node", 200) in operations
    assert all(e[4].get("user") == "arn:aws:sts::123456789012:user/moto" for e in kube.log if e[2] == 200 and e[1] != "GET /version")


def test_kubectl_scale_goes_through_the_scale_subresource(kube):
    kube.kubectl("apply", "--server-side", "-f", "-", input=MANIFESTS)
    assert kube.kubectl("-n", "test-namespace", "scale", "deployment/nginx", "--replicas=4").stdout.strip() == "deployment.apps/nginx scaled"
    assert kube.json("-n", "test-namespace", "get", "deployment", "nginx")["spec"]["replicas"] == 4
    # --current-replicas reads the Scale first and refuses when it differs.
    refused = kube.kubectl("-n", "test-namespace", "scale", "deployment/nginx", "--current-replicas=2", "--replicas=1", check=False)
    assert refused.returncode != 0 and "Expected replicas to be 2, was 4" in refused.stderr
    status, scale = kube.http("GET", "/apis/apps/v1/namespaces/test-namespace/deployments/nginx/scale")
    assert status == 200 and scale["kind"] == "Scale" and scale["apiVersion"] == "autoscaling/v1"
    assert scale["spec"] == {"replicas": 4} and scale["status"]["selector"] == "app=nginx"
    status, body = kube.http("PATCH", "/apis/apps/v1/namespaces/test-namespace/deployments/nginx/scale",
                             {"spec": {"replicas": -1}}, content_type="application/merge-patch+json")
    assert status == 422 and "must be greater than or equal to 0" in body["message"]
    status, _ = kube.http("GET", "/api/v1/namespaces/test-namespace/pods/x/scale")
    assert status == 404, "pods have no scale subresource"
