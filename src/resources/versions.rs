//! The Kubernetes versions EKS offers for new clusters and version updates
//! (DescribeClusterVersions), checked by the plan. Versions age: "A minor version is under
//! standard support in Amazon EKS for the first 14 months after it's released ... extended
//! support for the next 12 months" (billed at a higher hourly rate), and "On the end of extended
//! support date, you can no longer create new Amazon EKS clusters with the unsupported version"
//! (EKS user guide, Kubernetes release calendar:
//! https://docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html). So only EKS can
//! say at plan time what a version is today; the list compiled into eksnet cannot.

use aws_sdk_eks::types::VersionStatus;

use super::Aws;
use crate::provider::{KubernetesVersion, Result};

impl Aws {
    /// The versions a cluster can be created with or updated to in this region today (one
    /// DescribeClusterVersions call; without `includeAll` the API lists only the versions in
    /// standard or extended support: API reference, DescribeClusterVersions).
    pub async fn kubernetes_versions(&self) -> Result<Vec<KubernetesVersion>> {
        self.versions.get_or_try_init(|| self.describe_versions()).await.cloned()
    }

    async fn describe_versions(&self) -> Result<Vec<KubernetesVersion>> {
        let out = self.session.eks().describe_cluster_versions().cluster_type("eks").send().await?;
        let date =
            |d: Option<&aws_smithy_types::DateTime>| d.and_then(|d| d.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).map(|s| s[..10].to_string());
        Ok(out
            .cluster_versions()
            .iter()
            .filter(|v| v.version_status() != Some(&VersionStatus::Unsupported))
            .filter_map(|v| {
                Some(KubernetesVersion {
                    version: v.cluster_version()?.to_string(),
                    extended: v.version_status() == Some(&VersionStatus::ExtendedSupport),
                    end_of_standard: date(v.end_of_standard_support_date()),
                    end_of_extended: date(v.end_of_extended_support_date()),
                    default: v.default_version(),
                })
            })
            .collect())
    }
}

/// The versions of an add-on EKS offers for a Kubernetes version, newest first, and the one it
/// marks as that version's default (DescribeAddonVersions with `addonName` and
/// `kubernetesVersion`; each version's `compatibilities[].defaultVersion`: "Whether the add-on
/// version is the default version for the cluster version", API reference,
/// https://docs.aws.amazon.com/eks/latest/APIReference/API_Compatibility.html).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AddonVersions {
    pub compatible: Vec<String>,
    pub default: Option<String>,
}

impl Aws {
    pub async fn addon_versions(&self, addon: &str, kubernetes: &str) -> Result<AddonVersions> {
        let pages: Vec<aws_sdk_eks::types::AddonInfo> =
            self.session.eks().describe_addon_versions().addon_name(addon).kubernetes_version(kubernetes).into_paginator().items().send().try_collect().await?;
        let mut out = AddonVersions::default();
        for info in pages.iter().filter(|a| a.addon_name() == Some(addon)) {
            for v in info.addon_versions() {
                let Some(version) = v.addon_version() else { continue };
                let for_this = v.compatibilities().iter().filter(|c| c.cluster_version() == Some(kubernetes)).collect::<Vec<_>>();
                if for_this.is_empty() {
                    continue;
                }
                if for_this.iter().any(|c| c.default_version()) {
                    out.default = Some(version.to_string());
                }
                out.compatible.push(version.to_string());
            }
        }
        Ok(out)
    }
}
