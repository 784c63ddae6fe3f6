"""EKS cluster insights (ListInsights / DescribeInsight): upgrade-readiness checks EKS runs on
every cluster for the Kubernetes versions after its own.

Sources:
- Shapes: API reference, ListInsights (`POST /clusters/{name}/insights`, body `filter:
  {categories, kubernetesVersions, statuses}`, `maxResults`, `nextToken`; answer `insights[]` of
  InsightSummary {id, name, category, kubernetesVersion, lastRefreshTime, lastTransitionTime,
  description, insightStatus: {status, reason}}) and DescribeInsight (`GET
  /clusters/{name}/insights/{id}`; Insight adds recommendation, additionalInfo, resources,
  categorySpecificSummary.deprecationDetails); category UPGRADE_READINESS | MISCONFIGURATION,
  status PASSING | WARNING | ERROR | UNKNOWN.
- Names as EKS gives them: "Deprecated APIs removed in Kubernetes v1.32" (category
  UPGRADE_READINESS, kubernetesVersion "1.32"; aws-samples eks-recon cluster-insights reference).
- Status: "an insight with a status of Error usually means the affected Kubernetes version is
  N+1 of the current cluster version, while a status of Warning means the insight applies to a
  future Kubernetes version N+2 or more" (EKS user guide, view-cluster-insights).

What a cluster uses is not modelled: tests report a finding with POST /_localcloud/insights
{"cluster": NAME, "kubernetesVersion": "1.33", "reason": ..., "recommendation": ...,
"usage": "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas"}; without one every check passes.
"""
from __future__ import annotations

import time
import uuid

from localcloud import k8s_versions
from localcloud.addons import K8S_VERSIONS

_findings: dict[tuple[str, str], dict] = {}  # (cluster, Kubernetes version) -> finding


def report(cluster: str, version: str, finding: dict) -> None:
    _findings[(cluster, version)] = dict(finding)


def reset() -> None:
    _findings.clear()


def _insight(c, version: str) -> dict:
    name = f"Deprecated APIs removed in Kubernetes v{version}"
    found = _findings.get((c.name, version))
    if found:
        # N+1: ERROR; further ahead: WARNING (view-cluster-insights).
        status = "ERROR" if k8s_versions.minor(version) == k8s_versions.minor(c.version) + 1 else "WARNING"
        reason = found.get("reason") or f"Deprecated API usage detected within last 30 days and your cluster is on Kubernetes v{c.version}."
    else:
        status, reason = "PASSING", "No deprecated API usage detected within the last 30 days."
    now = time.time()
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{c.arn}/{name}")),
        "name": name, "category": "UPGRADE_READINESS", "kubernetesVersion": version,
        "lastRefreshTime": now, "lastTransitionTime": c.created,
        "description": f"Checks for usage of deprecated APIs that are scheduled for removal in Kubernetes v{version}. "
                       "Upgrading your cluster before migrating to the updated APIs supported by v"
                       f"{version} could cause application impact.",
        "insightStatus": {"status": status, "reason": reason},
        "recommendation": (found or {}).get("recommendation")
        or "Update manifests and API clients to use newer Kubernetes APIs if applicable before upgrading.",
        "additionalInfo": {"Kubernetes API deprecation guide": "https://kubernetes.io/docs/reference/using-api/deprecation-guide/"},
        "resources": [],
        "categorySpecificSummary": {"deprecationDetails": [
            {"usage": found["usage"], "replacedWith": found.get("replacedWith", ""), "stopServingVersion": version,
             "startServingReplacementVersion": "", "clientStats": []}] if found and found.get("usage") else []},
    }


def insights(c) -> list[dict]:
    """The cluster's upgrade-readiness insights: one per Kubernetes version after its own."""
    ahead = [v for v in K8S_VERSIONS if k8s_versions.minor(v) > k8s_versions.minor(c.version)][:2]
    return [_insight(c, v) for v in ahead]


SUMMARY_KEYS = ("id", "name", "category", "kubernetesVersion", "lastRefreshTime", "lastTransitionTime",
                "description", "insightStatus")


def listed(c, flt: dict) -> list[dict]:
    out = []
    for i in insights(c):
        if flt.get("categories") and i["category"] not in flt["categories"]:
            continue
        if flt.get("kubernetesVersions") and i["kubernetesVersion"] not in flt["kubernetesVersions"]:
            continue
        if flt.get("statuses") and i["insightStatus"]["status"] not in flt["statuses"]:
            continue
        out.append({k: i[k] for k in SUMMARY_KEYS})
    return out


def described(c, insight_id: str) -> dict | None:
    return next((i for i in insights(c) if i["id"] == insight_id), None)
