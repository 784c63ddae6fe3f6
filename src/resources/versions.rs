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

/// Where EKS publishes the newest AMI release for a Kubernetes version and an AMI type: the
/// public Parameter Store parameter `/aws/service/eks/optimized-ami/<version>/<ami>/recommended`,
/// whose sub-parameter `release_version` is the release a nodegroup shows as `releaseVersion`
/// (`1.33.0-20250704`). "The Amazon EKS service publishes the name of the latest Amazon EKS
/// optimized AMI as a public parameter" (Systems Manager user guide,
/// parameter-store-public-parameters-eks; the AMI types' paths: EKS user guide,
/// https://docs.aws.amazon.com/eks/latest/userguide/retrieve-ami-id.html; the sub-parameter is
/// what terraform stacks read, e.g. `data "aws_ssm_parameter"
/// ".../amazon-linux-2/recommended/release_version"`). None for an AMI type published elsewhere
/// (Bottlerocket) or not at all.
pub fn release_parameter(ami_type: &str, kubernetes: &str) -> Option<String> {
    let ami = match ami_type {
        "AL2023_x86_64_STANDARD" => "amazon-linux-2023/x86_64/standard",
        "AL2023_ARM_64_STANDARD" => "amazon-linux-2023/arm64/standard",
        "AL2023_x86_64_NVIDIA" => "amazon-linux-2023/x86_64/nvidia",
        "AL2_x86_64" => "amazon-linux-2",
        "AL2_ARM_64" => "amazon-linux-2-arm64",
        _ => return None,
    };
    Some(format!("/aws/service/eks/optimized-ami/{kubernetes}/{ami}/recommended/release_version"))
}

impl Aws {
    /// The newest AMI release EKS publishes for nodes of `ami_type` on Kubernetes `kubernetes`
    /// (one GetParameter, remembered for the run); Ok(None) for an AMI type without a known
    /// parameter.
    pub async fn latest_release(&self, ami_type: &str, kubernetes: &str) -> Result<Option<String>> {
        let Some(name) = release_parameter(ami_type, kubernetes) else { return Ok(None) };
        if let Some(known) = self.releases.lock().expect("releases lock").get(&name) {
            return Ok(Some(known.clone()));
        }
        let ssm = aws_sdk_ssm::Client::new(self.session.config());
        let out = ssm.get_parameter().name(&name).send().await?;
        let Some(value) = out.parameter().and_then(|p| p.value()).map(str::to_string) else { return Ok(None) };
        self.releases.lock().expect("releases lock").insert(name, value.clone());
        Ok(Some(value))
    }
}

/// `1.33.0-20250704` as comparable numbers (Kubernetes version, then build date).
pub fn release_key(release: &str) -> Vec<u64> {
    release.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect()
}
