"""Tag keys and values EC2 and EKS refuse (switch `tag_rules`).

Sources:
- EC2 user guide, "Tag restrictions"
  (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions):
  key 1-128 and value 0-256 Unicode characters; keys may not start with `aws:` (any case).
  EC2 itself allows any character ("Amazon EC2 resources allow any characters", repeated in
  https://docs.aws.amazon.com/mediaconnect/latest/ug/tagging-restrictions.html), so EC2 gets
  no character check here.
  EC2's answers, as seen by clients: `InvalidParameterValue: Value ( aws:autoscaling:groupName )
  for parameter key is invalid. Tag keys starting with 'aws:' are reserved for internal use`
  (e.g. kubernetes-sigs/cluster-api-provider-aws#5461) and `Tag value exceeds the maximum length
  of 256 characters` (iriusrisk/GoCD-EC2-Elastic-Agent-Plugin#24); the key-length message is
  written by analogy.
- EKS user guide, "Tag restrictions"
  (https://docs.aws.amazon.com/eks/latest/userguide/eks-using-tags.html#tag-restrictions) and
  the EKS API reference (TagResource: key length 1-128, value length 0-256, at most 50 tags;
  errors BadRequestException / NotFoundException; the Create* calls answer
  InvalidParameterException for a bad parameter). The guide's "generally allowed characters"
  (letters, digits, spaces, `+ - = . _ : / @`) are enforced for EKS. EKS's exact messages are
  not published; the ones below name the offending key.
"""
from __future__ import annotations

import re

from localcloud.awserrors import AwsError

EKS_CHARS = re.compile(r"[\w +\-=.:/@]*")  # \w: Unicode letters, digits and _
EC2_TAG_KEY = re.compile(r"^(?:TagSpecification\.\d+\.)?Tag\.(\d+)\.Key$")


def _reserved(key: str) -> bool:
    return key.lower().startswith("aws:")


def check_ec2(params: dict) -> None:
    """CreateTags (Tag.N.Key/Value) and any create with TagSpecification.N.Tag.M.Key/Value."""
    for name, key in params.items():
        m = EC2_TAG_KEY.match(name)
        if not m:
            continue
        value = params.get(name[:-len("Key")] + "Value", "")
        if _reserved(key):
            raise AwsError("InvalidParameterValue", f"Value ( {key} ) for parameter key is invalid. "
                                                    "Tag keys starting with 'aws:' are reserved for internal use")
        if not 1 <= len(key) <= 128:
            raise AwsError("InvalidParameterValue", f"Value ( {key} ) for parameter key is invalid. "
                                                    "Tag key exceeds the maximum length of 128 characters")
        if len(value) > 256:
            raise AwsError("InvalidParameterValue", f"Value ( {value} ) for parameter value is invalid. "
                                                    "Tag value exceeds the maximum length of 256 characters")


def check_eks(tags, code: str = "InvalidParameterException") -> None:
    """`tags` of an EKS create call or TagResource (code BadRequestException there)."""
    if not tags:
        return
    if not isinstance(tags, dict):
        raise AwsError(code, "tags must be a map of strings to strings")
    if len(tags) > 50:
        raise AwsError(code, f"Too many tags: {len(tags)}; a resource can have at most 50 tags")
    for key, value in tags.items():
        value = "" if value is None else str(value)
        if _reserved(key):
            raise AwsError(code, f"Tag key '{key}' is invalid: the aws: prefix is reserved for AWS use")
        if not 1 <= len(key) <= 128:
            raise AwsError(code, f"Tag key '{key}' is invalid: it must be 1 to 128 characters long")
        if len(value) > 256:
            raise AwsError(code, f"Tag value for key '{key}' is invalid: it must be at most 256 characters long")
        for what, text in (("key", key), ("value", value)):
            if not EKS_CHARS.fullmatch(text):
                raise AwsError(code, f"Tag {what} '{text}' is invalid: only letters, numbers, spaces and "
                                     "+ - = . _ : / @ are allowed")
