"""EKS add-ons (moto has none): vpc-cni, coredns, kube-proxy.

Versions, configuration schemas (shipped fixtures) and validation of configurationValues
the way EKS does it (InvalidParameterException naming the offending path).
"""
import json
import os
import time
import uuid

import jsonschema
import yaml

from localcloud.awserrors import AwsError

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
K8S_VERSIONS = ["1.28", "1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35"]
ADDON_TYPES = {"vpc-cni": "networking", "coredns": "networking", "kube-proxy": "networking"}


# Which versions each add-on offers per Kubernetes version, and which one is that version's
# default (DescribeAddonVersions: addonVersions[].compatibilities[] = {clusterVersion,
# platformVersions, defaultVersion}, https://docs.aws.amazon.com/eks/latest/APIReference/API_Compatibility.html).
# The shape follows EKS: vpc-cni builds span many Kubernetes versions but the default moves up
# with the Kubernetes version; kube-proxy is built per Kubernetes minor (the EKS user guide's
# kube-proxy table: 1.34 v1.34.0-eksbuild.5, 1.33 v1.33.3-eksbuild.11, 1.32 v1.32.6-eksbuild.13,
# awsdocs/amazon-eks-user-guide latest/ug/networking/managing-kube-proxy.adoc); CoreDNS moves
# to 1.12 from Kubernetes 1.33 (managing-coredns.adoc). The build numbers are illustrative.
VPC_CNI = [  # version, oldest and newest Kubernetes minor it is compatible with
    ("v1.20.0-eksbuild.1", 30, 35), ("v1.19.6-eksbuild.1", 29, 35), ("v1.19.2-eksbuild.1", 28, 34),
    ("v1.18.6-eksbuild.1", 28, 33)]
VPC_CNI_DEFAULT = {32: "v1.19.2-eksbuild.1", 33: "v1.19.6-eksbuild.1"}  # <=31: v1.18.6; >=34: v1.20.0


def versions(addon: str, k8s: str) -> list[str]:
    """Versions of `addon` compatible with Kubernetes `k8s`, newest first."""
    minor = int(k8s.split(".")[1])
    if addon == "vpc-cni":
        return [v for v, lo, hi in VPC_CNI if lo <= minor <= hi]
    if addon == "coredns":
        if minor >= 33:
            return ["v1.12.1-eksbuild.2", "v1.11.4-eksbuild.14"]
        return ["v1.11.4-eksbuild.14", "v1.11.3-eksbuild.1"] if minor >= 29 else ["v1.10.1-eksbuild.18"]
    if addon == "kube-proxy":
        return [f"v1.{minor}.3-eksbuild.2", f"v1.{minor}.0-eksbuild.1"]
    return []


def default(addon: str, k8s: str) -> str | None:
    """The version CreateAddon picks without one: the one flagged defaultVersion for `k8s`."""
    minor = int(k8s.split(".")[1])
    if addon == "vpc-cni":
        return VPC_CNI_DEFAULT.get(minor, "v1.18.6-eksbuild.1" if minor <= 31 else "v1.20.0-eksbuild.1")
    found = versions(addon, k8s)
    return found[0] if found else None


def describe_versions(addon_filter, k8s_filter) -> list[dict]:
    out = []
    for name in sorted(ADDON_TYPES):
        if addon_filter and name != addon_filter:
            continue
        by_version = {}
        for k8s in K8S_VERSIONS:
            if k8s_filter and k8s != k8s_filter:
                continue
            for v in versions(name, k8s):
                by_version.setdefault(v, []).append(
                    {"clusterVersion": k8s, "platformVersions": ["*"], "defaultVersion": v == default(name, k8s)})
        if by_version:
            out.append({"addonName": name, "type": ADDON_TYPES[name], "owner": "aws", "publisher": "eks",
                        "addonVersions": [{"addonVersion": v, "architecture": ["amd64", "arm64"],
                                           "compatibilities": c, "requiresConfiguration": False,
                                           "requiresIamPermissions": name == "vpc-cni"}
                                          for v, c in sorted(by_version.items(), reverse=True)]})
    return out


def schema_text(addon: str) -> str:
    with open(os.path.join(FIXTURES, f"{addon}.schema.json")) as f:
        return f.read()


FORMAT_CHECKER = jsonschema.FormatChecker()


@FORMAT_CHECKER.checks("boolean")
def _is_boolean(value):
    return not isinstance(value, str) or value in ("true", "false")


@FORMAT_CHECKER.checks("integer")
def _is_integer(value):
    return not isinstance(value, str) or value.lstrip("-").isdigit()


def _path(err) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)


def parse_configuration(addon: str, text, validate: bool = True) -> dict | None:
    """Parse and validate configurationValues (JSON or YAML); raise InvalidParameterException.

    `validate` (switch `addon_schema`, on by default and in strict): check the add-on's schema,
    e.g. vpc-cni's `eniConfig.subnets` has `minProperties: 1`, so custom networking with
    `subnets: {}` is refused, as by EKS."""
    if text is None or str(text).strip() == "":
        return None
    try:
        config = json.loads(text)
    except ValueError:
        try:
            config = yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise AwsError("InvalidParameterException",
                           f"ConfigurationValue provided in request is not supported: not valid JSON or YAML: {e}")
    if not isinstance(config, dict):
        raise AwsError("InvalidParameterException",
                       "ConfigurationValue provided in request is not supported: it must be a JSON/YAML object")
    if not validate:
        return config
    schema = json.loads(schema_text(addon))
    validator = jsonschema.Draft7Validator(schema, format_checker=FORMAT_CHECKER)
    problems = []
    for err in sorted(validator.iter_errors(config), key=lambda e: list(map(str, e.absolute_path))):
        if err.validator == "additionalProperties":
            allowed = set(err.schema.get("properties", {}))
            for extra in sorted(set(err.instance) - allowed):
                problems.append(f"{_path(err)}.{extra}: is not defined in the schema and the schema does not "
                                "allow additional properties")
        elif err.validator == "minProperties":  # EKS's validator (networknt) words it so
            problems.append(f"{_path(err)}: should have a minimum of {err.validator_value} properties")
        else:
            problems.append(f"{_path(err)}: {err.message}")
    if problems:
        raise AwsError("InvalidParameterException",
                       "ConfigurationValue provided in request is not supported: Json schema validation failed "
                       f"with error: [{', '.join(problems)}]")
    return config


class Addon:
    def __init__(self, cluster, name: str, version: str, body: dict, config_text: str):
        self.cluster = cluster
        self.name = name
        self.version = version
        self.arn = f"arn:aws:eks:{cluster.region}:{cluster.account}:addon/{cluster.name}/{name}/{uuid.uuid4()}"
        self.created = self.modified = time.time()
        self.status = "CREATING"
        self.until = None
        self.after = None
        self.config_text = config_text or ""
        self.role = body.get("serviceAccountRoleArn")
        self.tags = dict(body.get("tags") or {})
        self.pod_identity = body.get("podIdentityAssociations") or []
        self.updates = {}

    def begin(self, status: str, seconds: float, after=None):
        self.status, self.until, self.after = status, time.time() + max(seconds, 0.0), after

    def view(self) -> dict:
        v = {"addonName": self.name, "clusterName": self.cluster.name, "status": self.status,
             "addonVersion": self.version, "health": {"issues": list(getattr(self, "issues", []))},
             "addonArn": self.arn,
             "createdAt": self.created, "modifiedAt": self.modified, "tags": self.tags,
             "owner": "aws", "publisher": "eks", "configurationValues": self.config_text}
        if self.role:
            v["serviceAccountRoleArn"] = self.role
        if self.pod_identity:
            v["podIdentityAssociations"] = self.pod_identity
        return v
