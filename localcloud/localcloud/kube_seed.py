"""What a new EKS cluster already holds, and what the managed vpc-cni add-on does to it.

Objects follow the EKS 1.32 defaults with vpc-cni v1.19.2-eksbuild.1 (trimmed to what matters to
eksnet and to a reader: names, labels, images, env, the init container). EKS applies its add-on
manifests with server-side apply as field manager `eks`; we do the same so that managedFields
and conflicts look as they do on EKS.
"""

from __future__ import annotations

CNI_VERSION = "v1.19.2-eksbuild.1"
EKS_MANAGER = "eks"

# Environment of the aws-node container as the add-on installs it (the real defaults).
AWS_NODE_ENV: list[tuple[str, str]] = [
    ("ADDITIONAL_ENI_TAGS", "{}"),
    ("ANNOTATE_POD_IP", "false"),
    ("AWS_VPC_CNI_NODE_PORT_SUPPORT", "true"),
    ("AWS_VPC_ENI_MTU", "9001"),
    ("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "false"),
    ("AWS_VPC_K8S_CNI_EXTERNALSNAT", "false"),
    ("AWS_VPC_K8S_CNI_LOGLEVEL", "DEBUG"),
    ("AWS_VPC_K8S_CNI_LOG_FILE", "/host/var/log/aws-routed-eni/ipamd.log"),
    ("AWS_VPC_K8S_CNI_RANDOMIZESNAT", "prng"),
    ("AWS_VPC_K8S_CNI_VETHPREFIX", "eni"),
    ("AWS_VPC_K8S_PLUGIN_LOG_FILE", "/var/log/aws-routed-eni/plugin.log"),
    ("AWS_VPC_K8S_PLUGIN_LOG_LEVEL", "DEBUG"),
    ("DISABLE_INTROSPECTION", "false"),
    ("DISABLE_METRICS", "false"),
    ("DISABLE_NETWORK_RESOURCE_PROVISIONING", "false"),
    ("ENABLE_IPv4", "true"),
    ("ENABLE_IPv6", "false"),
    ("ENABLE_POD_ENI", "false"),
    ("ENABLE_PREFIX_DELEGATION", "false"),
    ("ENABLE_SUBNET_DISCOVERY", "true"),
    ("NETWORK_POLICY_ENFORCING_MODE", "standard"),
    ("VPC_CNI_VERSION", "v1.19.2"),
    ("WARM_ENI_TARGET", "1"),
    ("WARM_PREFIX_TARGET", "1"),
]
INIT_ENV: list[tuple[str, str]] = [("DISABLE_TCP_EARLY_DEMUX", "false"), ("ENABLE_IPv6", "false")]


def _ecr(region: str) -> str:
    # EKS serves add-on images from the regional ECR of account 602401143452.
    return f"602401143452.dkr.ecr.{region}.amazonaws.com"


def _env(pairs) -> list[dict]:
    return [{"name": k, "value": v} for k, v in pairs]


def aws_node(region: str, env: dict[str, str] | None = None, init_env: dict[str, str] | None = None) -> dict:
    """The aws-node DaemonSet; `env`/`init_env` override or add variables (add-on configuration)."""
    main_env = dict(AWS_NODE_ENV)
    main_env.update(env or {})
    first_init = dict(INIT_ENV)
    first_init.update(init_env or {})
    labels = {
        "app.kubernetes.io/instance": "aws-vpc-cni",
        "app.kubernetes.io/name": "aws-node",
        "app.kubernetes.io/version": "v1.19.2",
        "k8s-app": "aws-node",
    }
    pod_labels = {k: v for k, v in labels.items() if k != "app.kubernetes.io/version"}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "aws-node", "namespace": "kube-system", "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "aws-node"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "10%"}},
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    "priorityClassName": "system-node-critical",
                    "serviceAccountName": "aws-node",
                    "hostNetwork": True,
                    "terminationGracePeriodSeconds": 10,
                    "tolerations": [{"operator": "Exists"}],
                    "initContainers": [
                        {
                            "name": "aws-vpc-cni-init",
                            "image": f"{_ecr(region)}/amazon-k8s-cni-init:{CNI_VERSION}",
                            "env": _env(first_init.items()),
                            "securityContext": {"privileged": True},
                            "resources": {"requests": {"cpu": "25m"}},
                            "volumeMounts": [{"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"}],
                        }
                    ],
                    "containers": [
                        {
                            "name": "aws-node",
                            "image": f"{_ecr(region)}/amazon-k8s-cni:{CNI_VERSION}",
                            "ports": [{"containerPort": 61678, "name": "metrics", "protocol": "TCP"}],
                            "env": _env(main_env.items())
                            + [
                                {"name": "MY_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
                                {"name": "MY_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                            ],
                            "resources": {"requests": {"cpu": "25m"}},
                            "securityContext": {"capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
                            "volumeMounts": [
                                {"mountPath": "/host/opt/cni/bin", "name": "cni-bin-dir"},
                                {"mountPath": "/host/etc/cni/net.d", "name": "cni-net-dir"},
                                {"mountPath": "/host/var/log/aws-routed-eni", "name": "log-dir"},
                                {"mountPath": "/var/run/aws-node", "name": "run-dir"},
                                {"mountPath": "/run/xtables.lock", "name": "xtables-lock"},
                            ],
                        },
                        {
                            "name": "aws-eks-nodeagent",
                            "image": f"{_ecr(region)}/amazon/aws-network-policy-agent:v1.1.6-eksbuild.1",
                            "args": ["--enable-ipv6=false", "--enable-network-policy=false",
                                     "--enable-cloudwatch-logs=false", "--enable-policy-event-logs=false",
                                     "--metrics-bind-addr=:8162", "--health-probe-bind-addr=:8163",
                                     "--conntrack-cache-cleanup-period=300"],
                            "resources": {"requests": {"cpu": "25m"}},
                            "securityContext": {"privileged": True, "capabilities": {"add": ["NET_ADMIN"]}},
                        },
                    ],
                    "volumes": [
                        {"name": "bpf-pin-path", "hostPath": {"path": "/sys/fs/bpf"}},
                        {"name": "cni-bin-dir", "hostPath": {"path": "/opt/cni/bin"}},
                        {"name": "cni-net-dir", "hostPath": {"path": "/etc/cni/net.d"}},
                        {"name": "log-dir", "hostPath": {"path": "/var/log/aws-routed-eni", "type": "DirectoryOrCreate"}},
                        {"name": "run-dir", "hostPath": {"path": "/var/run/aws-node", "type": "DirectoryOrCreate"}},
                        {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
                    ],
                },
            },
        },
    }


def _service_account(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": "kube-system"}}


def coredns(region: str) -> dict:
    labels = {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "coredns", "namespace": "kube-system", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}},
            "template": {
                "metadata": {"labels": {"eks.amazonaws.com/component": "coredns", "k8s-app": "kube-dns"}},
                "spec": {
                    "serviceAccountName": "coredns",
                    "priorityClassName": "system-cluster-critical",
                    "containers": [
                        {
                            "name": "coredns",
                            "image": f"{_ecr(region)}/eks/coredns:v1.11.4-eksbuild.2",
                            "args": ["-conf", "/etc/coredns/Corefile"],
                            "ports": [
                                {"containerPort": 53, "name": "dns", "protocol": "UDP"},
                                {"containerPort": 53, "name": "dns-tcp", "protocol": "TCP"},
                                {"containerPort": 9153, "name": "metrics", "protocol": "TCP"},
                            ],
                        }
                    ],
                },
            },
        },
    }


def kube_proxy(region: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "kube-proxy", "namespace": "kube-system",
                     "labels": {"eks.amazonaws.com/component": "kube-proxy", "k8s-app": "kube-proxy"}},
        "spec": {
            "selector": {"matchLabels": {"k8s-app": "kube-proxy"}},
            "template": {
                "metadata": {"labels": {"k8s-app": "kube-proxy"}},
                "spec": {
                    "serviceAccountName": "kube-proxy",
                    "hostNetwork": True,
                    "priorityClassName": "system-node-critical",
                    "containers": [
                        {
                            "name": "kube-proxy",
                            "image": f"{_ecr(region)}/eks/kube-proxy:v1.32.0-minimal-eksbuild.2",
                            "command": ["kube-proxy", "--v=2", "--config=/var/lib/kube-proxy-config/config",
                                        "--hostname-override=$(NODE_NAME)"],
                            "securityContext": {"privileged": True},
                        }
                    ],
                },
            },
        },
    }


def _crd(group: str, version: str, plural: str, singular: str, kind: str, scope: str,
         short_names: list[str], spec_schema: dict, columns: list[dict] | None = None) -> dict:
    version_doc = {
        "name": version,
        "served": True,
        "storage": True,
        "schema": {"openAPIV3Schema": {
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                "spec": spec_schema,
            },
        }},
    }
    if columns:
        version_doc["additionalPrinterColumns"] = columns
    names = {"kind": kind, "listKind": kind + "List", "plural": plural, "singular": singular}
    if short_names:
        names["shortNames"] = short_names
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {"group": group, "names": names, "scope": scope, "versions": [version_doc]},
    }


def eniconfig_crd() -> dict:
    return _crd(
        "crd.k8s.amazonaws.com", "v1alpha1", "eniconfigs", "eniconfig", "ENIConfig", "Cluster", [],
        {"type": "object", "properties": {
            "securityGroups": {"type": "array", "items": {"type": "string"}},
            "subnet": {"type": "string"},
        }},
    )


def security_group_policy_crd() -> dict:
    return _crd(
        "vpcresources.k8s.aws", "v1beta1", "securitygrouppolicies", "securitygrouppolicy",
        "SecurityGroupPolicy", "Namespaced", ["sgp"],
        {"type": "object", "properties": {
            "podSelector": {"type": "object"},
            "serviceAccountSelector": {"type": "object"},
            "securityGroups": {"type": "object", "properties": {
                "groupIds": {"type": "array", "items": {"type": "string"}}}},
        }},
        [{"name": "Security-Group-Ids", "type": "string", "jsonPath": ".spec.securityGroups.groupIds",
          "description": "The security group IDs to apply to the elastic network interface of pods that match this policy"}],
    )


def initial_objects(region: str) -> list[dict]:
    """Everything a fresh EKS cluster holds, in creation order."""
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                  for n in ("default", "kube-node-lease", "kube-public", "kube-system")]
    return namespaces + [
        eniconfig_crd(),
        security_group_policy_crd(),
        _service_account("aws-node"),
        _service_account("coredns"),
        _service_account("kube-proxy"),
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kubernetes", "namespace": "default",
         "labels": {"component": "apiserver", "provider": "kubernetes"}},
         "spec": {"type": "ClusterIP", "clusterIP": "172.20.0.1",
                  "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 443}]}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kube-dns", "namespace": "kube-system",
         "labels": {"eks.amazonaws.com/component": "kube-dns", "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}},
         "spec": {"type": "ClusterIP", "clusterIP": "172.20.0.10", "selector": {"k8s-app": "kube-dns"},
                  "ports": [{"name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53},
                            {"name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53}]}},
        aws_node(region),
        coredns(region),
        kube_proxy(region),
    ]



def vpc_cni_desired(region: str, config: dict | None) -> tuple[dict, dict[str, dict]]:
    """(aws-node DaemonSet, {ENIConfig name: ENIConfig}) as the add-on renders them for `config`."""
    config = config or {}
    env = {k: _as_env_value(v) for k, v in (config.get("env") or {}).items()}
    init_env = {k: _as_env_value(v) for k, v in ((config.get("init") or {}).get("env") or {}).items()}
    daemonset = aws_node(region, env, init_env)
    eni_configs: dict[str, dict] = {}
    eni = config.get("eniConfig") or {}
    if eni.get("create"):
        for az, subnet in (eni.get("subnets") or {}).items():
            spec: dict = {"subnet": subnet.get("id")}
            if subnet.get("securityGroups"):
                spec["securityGroups"] = list(subnet["securityGroups"])
            eni_configs[az] = {
                "apiVersion": "crd.k8s.amazonaws.com/v1alpha1",
                "kind": "ENIConfig",
                "metadata": {"name": az},
                "spec": spec,
            }
    return daemonset, eni_configs


def _as_env_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

