"""Kubernetes versions age on EKS: DescribeClusterVersions, and which versions CreateCluster /
UpdateClusterVersion accept (switch `k8s_versions`).

Source, the EKS Kubernetes release calendar (dates UTC):
https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html#kubernetes-release-calendar
(awsdocs/amazon-eks-user-guide latest/ug/versioning/kubernetes-versions.adoc). 1.27 and 1.28 are
from earlier revisions of that table; 1.35 (not yet in the stored revision) from
https://endoflife.date/amazon-eks, which follows the same calendar. "A minor version is under
standard support in Amazon EKS for the first 14 months after it's released ... extended support
for the next 12 months"; "On the end of extended support date, you can no longer create new
Amazon EKS clusters with the unsupported version."
API shape: https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeClusterVersions.html
(ClusterVersionInformation: clusterVersion, clusterType, defaultPlatformVersion,
defaultVersion, releaseDate, endOfStandardSupportDate, endOfExtendedSupportDate, status
(deprecated, lower-case), versionStatus STANDARD_SUPPORT | EXTENDED_SUPPORT | UNSUPPORTED,
kubernetesPatchVersion).
Refusal wording: `InvalidParameterException: unsupported Kubernetes version 1.24`
(terraform-aws-modules/terraform-aws-eks#3164, hashicorp/terraform-provider-aws#38796).
AL2 node AMIs end with 1.32: `InvalidParameterException: AMI Type AL2_x86_64 is only supported
for kubernetes versions 1.32 or earlier` (scylladb/scylla-cluster-tests#12524).
"""
from __future__ import annotations

import datetime

D = datetime.date

# version: (Amazon EKS release, end of standard support, end of extended support)
CALENDAR = {
    "1.27": (D(2023, 5, 24), D(2024, 7, 24), D(2025, 7, 24)),
    "1.28": (D(2023, 9, 26), D(2024, 11, 26), D(2025, 11, 26)),
    "1.29": (D(2024, 1, 23), D(2025, 3, 23), D(2026, 3, 23)),
    "1.30": (D(2024, 5, 23), D(2025, 7, 23), D(2026, 7, 23)),
    "1.31": (D(2024, 9, 26), D(2025, 11, 26), D(2026, 11, 26)),
    "1.32": (D(2025, 1, 23), D(2026, 3, 23), D(2027, 3, 23)),
    "1.33": (D(2025, 5, 29), D(2026, 7, 29), D(2027, 7, 29)),
    "1.34": (D(2025, 10, 2), D(2026, 12, 2), D(2027, 12, 2)),
    "1.35": (D(2026, 1, 27), D(2027, 3, 27), D(2028, 3, 27)),
}
AL2_AMI_TYPES = ("AL2_x86_64", "AL2_ARM_64", "AL2_x86_64_GPU")
AL2_LAST_MINOR = 32


def minor(version: str) -> int:
    try:
        return int(str(version).split(".")[1])
    except (IndexError, ValueError):
        return -1


def status(version: str, today: datetime.date) -> str | None:
    """STANDARD_SUPPORT / EXTENDED_SUPPORT / UNSUPPORTED, or None before its EKS release."""
    release, end_std, end_ext = CALENDAR[version]
    if today < release:
        return None
    if today < end_std:
        return "STANDARD_SUPPORT"
    if today < end_ext:
        return "EXTENDED_SUPPORT"
    return "UNSUPPORTED"


def offered(today: datetime.date) -> list[str]:
    """Versions a new cluster (or a version update) may use on `today`, oldest first."""
    return [v for v in CALENDAR if status(v, today) in ("STANDARD_SUPPORT", "EXTENDED_SUPPORT")]


def default_version(today: datetime.date) -> str | None:
    """The newest version in standard support (the calendar's newest release)."""
    std = [v for v in CALENDAR if status(v, today) == "STANDARD_SUPPORT"]
    return max(std, key=minor) if std else None


def unsupported(version) -> str:
    return f"unsupported Kubernetes version {version}"


def al2_refused(ami_type: str | None, version: str) -> str | None:
    if ami_type in AL2_AMI_TYPES and minor(version) > AL2_LAST_MINOR:
        return f"AMI Type {ami_type} is only supported for kubernetes versions 1.{AL2_LAST_MINOR} or earlier"
    return None


def _epoch(d: datetime.date) -> float:
    return datetime.datetime(d.year, d.month, d.day, tzinfo=datetime.timezone.utc).timestamp()


def describe(query: dict, multi: dict, today: datetime.date) -> list[dict]:
    """DescribeClusterVersions items, newest first, filtered as the API's query parameters say."""
    if query.get("clusterType") not in (None, "", "eks"):
        return []
    include_all = str(query.get("includeAll", "")).lower() == "true"
    default_only = str(query.get("defaultOnly", "")).lower() == "true"
    wanted = set(multi.get("clusterVersions") or [])
    want_status = query.get("versionStatus") or {"standard-support": "STANDARD_SUPPORT",
                                                 "extended-support": "EXTENDED_SUPPORT",
                                                 "unsupported": "UNSUPPORTED"}.get(query.get("status") or "")
    default = default_version(today)
    out = []
    for v in sorted(CALENDAR, key=minor, reverse=True):
        st = status(v, today)
        if st is None or (st == "UNSUPPORTED" and not include_all and v not in wanted):
            continue
        if wanted and v not in wanted or want_status and st != want_status or default_only and v != default:
            continue
        release, end_std, end_ext = CALENDAR[v]
        out.append({"clusterVersion": v, "clusterType": "eks", "defaultPlatformVersion": "eks.1",
                    "defaultVersion": v == default, "releaseDate": _epoch(release),
                    "endOfStandardSupportDate": _epoch(end_std), "endOfExtendedSupportDate": _epoch(end_ext),
                    "status": st.lower().replace("_", "-"), "versionStatus": st,
                    "kubernetesPatchVersion": f"{v}.0"})
    return out
