//! A Kubernetes upgrade as EKS requires it. EKS moves a control plane one minor version per
//! UpdateClusterVersion ("Unsupported Kubernetes minor version update from 1.22 to 1.25",
//! terraform-aws-modules/terraform-aws-eks#2607; eksctl: "Control plane version upgrades must be
//! done for one minor version at a time", https://docs.aws.amazon.com/eks/latest/eksctl/cluster-upgrade.html),
//! and refuses to start one while a managed nodegroup is older than the control plane ("Nodegroups
//! X must be updated to match cluster version 1.18 before updating cluster version",
//! hashicorp/terraform-provider-aws#19478; EKS user guide, update-cluster: "make sure that the
//! Kubernetes minor version of both the managed nodes and Fargate nodes in your cluster are the
//! same as your control plane's current version", clowdhaus/eksup#35).
//!
//! So an upgrade over several minor versions is a series of steps, each one minor version: the
//! control plane, then the add-ons (their `addon_version` follows the cluster's version), then the
//! nodegroups (their `version` is the cluster's), then whatever waits on the nodes. Within a step
//! the dependency graph gives that order; this module only decides which version a run moves
//! everything to. Nothing here knows AWS: the versions come from what refresh observed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::address::Address;
use crate::provider::{Desired, Observed};

/// An upgrade in progress as a plan shows it: from the cluster's version to the stack's, and
/// the minor version this plan moves to (`step`), with those still to come after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upgrade {
    pub from: String,
    pub to: String,
    pub step: String,
    /// The versions after `step`, each one more apply step (done by the same `apply`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub then: Vec<String>,
    /// Nodegroups older than the control plane, brought to it before the control plane moves.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lagging: Vec<String>,
    /// EKS's upgrade insights for `step` that are ERROR (ListInsights): apply does not go ahead
    /// without `--ignore-insights`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocking: Vec<String>,
}

/// The minor of `1.33`.
pub fn minor(version: &str) -> Option<u32> {
    let (major, minor) = version.split_once('.')?;
    (major == "1").then_some(())?;
    minor.parse().ok()
}

fn version(minor: u32) -> String {
    format!("1.{minor}")
}

/// What the stack wants (`target`) against the cluster's version and its nodegroups' (observed):
/// the step this run makes, or None when nothing moves up. A cluster not made yet is created at
/// the stack's version; a downgrade is not an upgrade (`eks_cluster`'s check refuses it).
pub fn next_step(target: &str, cluster: Option<&str>, nodegroups: &[(String, String)]) -> Option<Upgrade> {
    let (t, c) = (minor(target)?, minor(cluster?)?);
    if t <= c {
        return None;
    }
    let lagging: Vec<String> = nodegroups.iter().filter(|(_, v)| minor(v).is_some_and(|m| m < c)).map(|(n, _)| n.clone()).collect();
    let step = if lagging.is_empty() { c + 1 } else { c };
    Some(Upgrade { from: version(c), to: target.to_string(), step: version(step), then: (step + 1..=t).map(version).collect(), lagging, blocking: vec![] })
}

/// The step this run makes, read from what exists: the stack's cluster version against the
/// observed cluster and nodegroups.
pub fn step_of(desired: &[Desired], observed: &BTreeMap<Address, Observed>) -> Option<Upgrade> {
    let cluster = desired.iter().find(|d| d.address.kind == "eks_cluster")?;
    let target = cluster.attrs.get("version")?.as_str()?;
    let current = observed.get(&cluster.address)?.attrs.get("version")?.as_str()?;
    let nodegroups: Vec<(String, String)> = observed
        .iter()
        .filter(|(a, _)| a.kind == "eks_nodegroup")
        .filter_map(|(a, o)| Some((a.name.clone(), o.attrs.get("version")?.as_str()?.to_string())))
        .collect();
    next_step(target, Some(current), &nodegroups)
}

/// Moves the cluster and every nodegroup of the desired set to the step's version.
pub fn pin(desired: &mut [Desired], upgrade: &Upgrade) {
    for d in desired.iter_mut().filter(|d| matches!(d.address.kind.as_str(), "eks_cluster" | "eks_nodegroup")) {
        if d.attrs.contains_key("version") {
            d.attrs.insert("version".into(), json!(upgrade.step));
        }
    }
}

/// The Kubernetes version the desired cluster runs after this plan.
pub fn cluster_version(desired: &[Desired]) -> Option<String> {
    desired.iter().find(|d| d.address.kind == "eks_cluster")?.attrs.get("version").and_then(Value::as_str).map(str::to_string)
}

/// An add-on version as a comparable tuple: `v1.19.2-eksbuild.1` → [1, 19, 2, 1].
fn numbers(version: &str) -> Vec<u64> {
    version.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect()
}

/// The add-on version a cluster of some Kubernetes version should run, given the versions
/// EKS lists as compatible with it (DescribeAddonVersions) and the one marked its default:
/// the current version when it is compatible and not older than the default (EKS does not
/// move an add-on back), else the default.
pub fn addon_version(current: Option<&str>, compatible: &[String], default: &str) -> String {
    match current {
        Some(c) if compatible.iter().any(|v| v == c) && numbers(c) >= numbers(default) => c.to_string(),
        _ => default.to_string(),
    }
}

/// The Kubernetes minor version an AMI release is made for: `1.33.0-20250704` → `1.33`.
pub fn release_kubernetes(release: &str) -> Option<String> {
    let (kubernetes, _) = release.split_once('-')?;
    let mut parts = kubernetes.split('.');
    Some(format!("{}.{}", parts.next()?, parts.next()?))
}

/// A pinned add-on version EKS does not offer for the stack's Kubernetes version, in the
/// stack's words: where the pin is written, the closest version offered, and all of them.
pub fn unoffered_pin(
    file: &str,
    addon: &str,
    pin: &crate::stack::Pinned,
    kubernetes: &str,
    offered: &crate::resources::AddonVersions,
) -> crate::diagnostic::Diagnostic {
    let listed = if offered.compatible.is_empty() { "none".to_string() } else { offered.compatible.join(", ") };
    let default = offered.default.as_deref().map(|d| format!(" (default {d})")).unwrap_or_default();
    let guess = crate::closest::did_you_mean(&pin.version, offered.compatible.iter().map(String::as_str)).map(|g| format!("{g} ")).unwrap_or_default();
    crate::diagnostic::Diagnostic::new(file, pin.span.clone(), format!("EKS does not offer {addon} {} for Kubernetes {kubernetes}", pin.version)).hint(format!(
        "{guess}EKS offers {listed}{default} for Kubernetes {kubernetes} (DescribeAddonVersions); pin one of them in `cni.addon_versions`, or remove the pin to follow the default"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ng(name: &str, v: &str) -> (String, String) {
        (name.into(), v.into())
    }

    #[test]
    fn an_upgrade_goes_one_minor_version_at_a_time() {
        let u = next_step("1.34", Some("1.32"), &[ng("default", "1.32")]).expect("an upgrade");
        assert_eq!((u.from.as_str(), u.step.as_str(), u.then.clone()), ("1.32", "1.33", vec!["1.34".to_string()]));
        let u = next_step("1.34", Some("1.33"), &[ng("default", "1.33")]).expect("an upgrade");
        assert_eq!((u.step.as_str(), u.then.len()), ("1.34", 0));
        assert_eq!(next_step("1.33", Some("1.33"), &[]), None);
        assert_eq!(next_step("1.32", Some("1.33"), &[]), None, "a downgrade is refused elsewhere, not planned as steps");
        assert_eq!(next_step("1.34", None, &[]), None, "a new cluster is created at the stack's version");
    }

    #[test]
    fn nodegroups_behind_the_control_plane_catch_up_before_it_moves() {
        // A run that stopped after the control plane moved: the nodegroups first (EKS refuses the
        // next UpdateClusterVersion while they lag).
        let u = next_step("1.34", Some("1.33"), &[ng("default", "1.32"), ng("big", "1.33")]).expect("an upgrade");
        assert_eq!((u.step.as_str(), u.then.clone(), u.lagging.clone()), ("1.33", vec!["1.34".to_string()], vec!["default".to_string()]));
    }

    #[test]
    fn an_add_on_follows_the_default_unless_it_is_newer_and_compatible() {
        let compatible = vec!["v1.20.0-eksbuild.1".to_string(), "v1.19.6-eksbuild.1".to_string(), "v1.19.2-eksbuild.1".to_string()];
        assert_eq!(addon_version(Some("v1.19.2-eksbuild.1"), &compatible, "v1.19.6-eksbuild.1"), "v1.19.6-eksbuild.1");
        assert_eq!(addon_version(Some("v1.20.0-eksbuild.1"), &compatible, "v1.19.6-eksbuild.1"), "v1.20.0-eksbuild.1");
        assert_eq!(addon_version(Some("v1.18.0-eksbuild.1"), &compatible, "v1.19.6-eksbuild.1"), "v1.19.6-eksbuild.1");
        assert_eq!(addon_version(None, &compatible, "v1.19.6-eksbuild.1"), "v1.19.6-eksbuild.1");
        // kube-proxy made for 1.32 is not compatible with 1.33: it moves even to a "lower" build.
        assert_eq!(addon_version(Some("v1.32.6-eksbuild.13"), &["v1.33.3-eksbuild.11".into()], "v1.33.3-eksbuild.11"), "v1.33.3-eksbuild.11");
    }

    #[test]
    fn an_unoffered_pin_names_its_place_and_what_exists() {
        let pin = crate::stack::Pinned { version: "v1.33.3-eksbuild.9".into(), span: Some(crate::diagnostic::Span { line: 12, column: 17 }) };
        let offered = crate::resources::AddonVersions {
            compatible: vec!["v1.33.3-eksbuild.2".into(), "v1.33.0-eksbuild.1".into()],
            default: Some("v1.33.3-eksbuild.2".into()),
        };
        let d = unoffered_pin("stack.yaml", "kube-proxy", &pin, "1.33", &offered);
        let text = d.to_string();
        assert!(text.starts_with("error: EKS does not offer kube-proxy v1.33.3-eksbuild.9 for Kubernetes 1.33\n  --> stack.yaml:12:17"), "{text}");
        assert!(
            text.contains("= help: did you mean `v1.33.3-eksbuild.2`? EKS offers v1.33.3-eksbuild.2, v1.33.0-eksbuild.1 (default v1.33.3-eksbuild.2)"),
            "{text}"
        );
        assert_eq!(release_kubernetes("1.33.0-20250704").as_deref(), Some("1.33"));
        assert_eq!(release_kubernetes("latest"), None);
    }
}
