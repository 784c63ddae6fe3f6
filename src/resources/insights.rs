//! EKS's upgrade insights for a cluster (ListInsights / DescribeInsight): checks EKS runs
//! against the Kubernetes versions after the cluster's own, such as "Deprecated APIs removed in
//! Kubernetes v1.33". "An insight with a status of Error usually means the affected Kubernetes
//! version is N+1 of the current cluster version, while a status of Warning means the insight
//! applies to a future Kubernetes version N+2 or more" (EKS user guide,
//! https://docs.aws.amazon.com/eks/latest/userguide/view-cluster-insights.html; shapes: API
//! reference, ListInsights, DescribeInsight).

use aws_sdk_eks::types::{Category, InsightStatusValue, InsightsFilter};

use super::Aws;
use crate::provider::Result;

/// An insight that is not passing, with what EKS recommends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insight {
    pub name: String,
    /// ERROR or WARNING (UNKNOWN is reported too: EKS could not check).
    pub status: String,
    pub reason: String,
    pub recommendation: Option<String>,
}

impl Insight {
    pub fn is_error(&self) -> bool {
        self.status == "ERROR"
    }
}

impl Aws {
    /// The upgrade-readiness insights for Kubernetes `kubernetes` on `cluster` that do not pass
    /// (one ListInsights, one DescribeInsight per finding for its recommendation).
    pub async fn upgrade_insights(&self, cluster: &str, kubernetes: &str) -> Result<Vec<Insight>> {
        let eks = self.session.eks();
        let filter = InsightsFilter::builder().categories(Category::UpgradeReadiness).kubernetes_versions(kubernetes).build();
        let listed: Vec<aws_sdk_eks::types::InsightSummary> =
            eks.list_insights().cluster_name(cluster).filter(filter).into_paginator().items().send().try_collect().await?;
        let mut out = vec![];
        for i in listed {
            let status = i.insight_status().and_then(|s| s.status());
            if matches!(status, None | Some(InsightStatusValue::Passing)) {
                continue;
            }
            let recommendation = match i.id() {
                Some(id) => eks.describe_insight().cluster_name(cluster).id(id).send().await?.insight().and_then(|d| d.recommendation()).map(str::to_string),
                None => None,
            };
            out.push(Insight {
                name: i.name().unwrap_or("an upgrade insight").to_string(),
                status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: i.insight_status().and_then(|s| s.reason()).unwrap_or_default().to_string(),
                recommendation,
            });
        }
        Ok(out)
    }
}
