"""EKS optimized AMI releases, and where EKS publishes the newest one: the public Parameter Store
parameters `/aws/service/eks/optimized-ami/<k8s>/<ami path>/recommended[/release_version|
/image_id|/image_name]` (moto knows none of them), answered by SSM GetParameter / GetParameters.

Sources:
- "The Amazon EKS service publishes the name of the latest Amazon EKS optimized AMI as a public
  parameter"; the `recommended` value is JSON {"schema_version", "image_id", "image_name",
  "release_version": "1.14.9-20201007"} (Systems Manager user guide,
  parameter-store-public-parameters-eks.html); the AMI type paths amazon-linux-2023/x86_64/standard,
  amazon-linux-2023/arm64/standard, amazon-linux-2023/x86_64/nvidia, amazon-linux-2,
  amazon-linux-2-arm64 (EKS user guide, retrieve-ami-id.html); terraform stacks read the
  `recommended/release_version` sub-parameter.
- A nodegroup's `releaseVersion` is one of these releases; UpdateNodegroupVersion's
  releaseVersion defaults to "the latest available AMI version for the node group's Kubernetes
  version" (API reference). A release of another Kubernetes version is refused:
  `InvalidParameterException: Requested release version 1.31.3-20250103 is not valid for
  kubernetes version 1.30.` (eksctl-io/eksctl#7976, crossplane-contrib/provider-aws#1601). One
  cannot roll back to an older release (CloudFormation AWS::EKS::Nodegroup ReleaseVersion: "You
  cannot roll back to a previous AMI release version"; the wording of the refusal is ours).
- GetParameter's errors: ParameterNotFound (400), the JSON 1.1 protocol (`X-Amz-Target:
  AmazonSSM.GetParameter`).

Tests publish a newer release with POST /_localcloud/ami-releases {"kubernetes": "1.33"}.
"""
from __future__ import annotations

import json
import threading

from localcloud.awserrors import AwsError, Response

PREFIX = "/aws/service/eks/optimized-ami/"
AMI_PATHS = {"amazon-linux-2023/x86_64/standard": "al2023-x86_64-standard",
             "amazon-linux-2023/arm64/standard": "al2023-arm64-standard",
             "amazon-linux-2023/x86_64/nvidia": "al2023-x86_64-nvidia",
             "amazon-linux-2": "amazon-eks-node", "amazon-linux-2-arm64": "amazon-eks-arm64-node"}
FIRST_DATE = 20250101

_lock = threading.Lock()
_published: dict[str, list[str]] = {}  # Kubernetes version -> releases, oldest first


def releases(k8s: str) -> list[str]:
    with _lock:
        return list(_published.get(k8s) or [f"{k8s}.0-{FIRST_DATE}"])


def latest(k8s: str) -> str:
    return releases(k8s)[-1]


def publish(k8s: str) -> str:
    """A newer release for `k8s` (next patch, a later build date), as EKS ships every few weeks."""
    with _lock:
        known = _published.setdefault(k8s, [f"{k8s}.0-{FIRST_DATE}"])
        patch, date = known[-1].rsplit(".", 1)[1].split("-")
        new = f"{k8s}.{int(patch) + 1}-{int(date) + 100}"
        known.append(new)
        return new


def reset():
    with _lock:
        _published.clear()


def check_release(version: str, release: str, current: str | None = None):
    """Refuse a release EKS would refuse for a nodegroup at Kubernetes `version` running `current`."""
    known = releases(version)
    if release not in known:
        raise AwsError("InvalidParameterException",
                       f"Requested release version {release} is not valid for kubernetes version {version}.")
    if current in known and known.index(release) < known.index(current):
        raise AwsError("InvalidParameterException",
                       f"Requested release version {release} is older than the node group's release {current}: "
                       "an AMI release cannot be rolled back")


def _value(name: str) -> str | None:
    rest = name[len(PREFIX):] if name.startswith(PREFIX) else None
    if rest is None or "/recommended" not in rest:
        return None
    head, _, sub = rest.partition("/recommended")
    k8s, _, ami = head.partition("/")
    if ami not in AMI_PATHS or not k8s.startswith("1."):
        return None
    from localcloud.addons import K8S_VERSIONS
    if k8s not in K8S_VERSIONS:
        return None
    release = latest(k8s)
    date = release.split("-")[1]
    image_name = f"amazon-eks-node-{AMI_PATHS[ami]}-{k8s}-v{date}"
    image_id = "ami-" + format(abs(hash(image_name)) % (16 ** 17), "017x")
    doc = {"schema_version": "3", "image_id": image_id, "image_name": image_name, "release_version": release}
    return {"": json.dumps(doc), "/release_version": release, "/image_id": image_id, "/image_name": image_name}.get(sub)


def parameter(name: str, region: str) -> dict | None:
    value = _value(name)
    if value is None:
        return None
    return {"Name": name, "Type": "String", "Value": value, "Version": 1, "DataType": "text",
            "ARN": f"arn:aws:ssm:{region}::parameter{name}"}


class Ssm:
    """GetParameter / GetParameters for the EKS public parameters; anything else goes to moto."""

    def operation_name(self, req) -> str:
        return (req.headers.get("x-amz-target") or "").rpartition(".")[2]

    def handles(self, req, operation: str) -> bool:
        if operation not in ("GetParameter", "GetParameters"):
            return False
        try:
            body = json.loads(req.body or b"{}")
        except ValueError:
            return False
        names = [body.get("Name")] if operation == "GetParameter" else body.get("Names") or []
        return any(isinstance(n, str) and n.startswith(PREFIX) for n in names)

    def handle(self, req, operation: str) -> Response:
        body = json.loads(req.body or b"{}")
        if operation == "GetParameter":
            p = parameter(body.get("Name") or "", req.region)
            if p is None:
                raise AwsError("ParameterNotFound", "", 400)
            return _json({"Parameter": p})
        found = [parameter(n, req.region) for n in body.get("Names") or []]
        return _json({"Parameters": [p for p in found if p],
                      "InvalidParameters": [n for n, p in zip(body.get("Names") or [], found) if not p]})


def _json(obj) -> Response:
    return Response(200, json.dumps(obj).encode(), {"Content-Type": "application/x-amz-json-1.1"})
