//! Managed EKS add-ons: vpc-cni with the custom networking and pod ENI configuration (applied
//! before any node), and optionally coredns and kube-proxy.

use aws_sdk_eks::types::{Addon, AddonStatus, ResolveConflicts};
use serde_json::{Value, json};

use super::{Session, attr_str, observed, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::derived("addon_name").summarize(summary).replace_on(&["cluster_name", "addon_name"]).outputs(&["arn"]);

/// `vpc-cni v1.20.0-eksbuild.1`: the name, and the version when the plan knows it.
fn summary(attrs: &Attrs) -> Option<String> {
    let name = attrs.get("addon_name")?.as_str()?;
    Some(match attrs.get("addon_version").and_then(Value::as_str) {
        Some(v) => format!("{name} {v}"),
        None => name.to_string(),
    })
}

fn to_observed(a: &Addon) -> Observed {
    let config: Value = a.configuration_values().and_then(|c| serde_json::from_str(c).ok()).unwrap_or(json!({}));
    let id = format!("{}:{}", a.cluster_name().unwrap_or_default(), a.addon_name().unwrap_or_default());
    let attrs = json!({
        "cluster_name": a.cluster_name(),
        "addon_name": a.addon_name(),
        "addon_version": a.addon_version(),
        "configuration_values": config,
        "tags": super::tags::eks_observed(a.tags()),
        "status": a.status().map(|s| s.as_str()),
    });
    observed(&id, attrs, &[("arn", a.addon_arn().unwrap_or_default())])
}

fn names(id: &str) -> (&str, &str) {
    id.split_once(':').unwrap_or((id, ""))
}

async fn describe(cx: &Session, cluster: &str, addon: &str) -> Result<Option<Addon>> {
    match cx.eks().describe_addon().cluster_name(cluster).addon_name(addon).send().await.map_err(ApiError::from) {
        Ok(out) => Ok(out.addon().cloned()),
        Err(e) if e.code == "ResourceNotFoundException" => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn read(cx: &Session, scope: &Scope<'_>) -> Result<Found> {
    let kind = super::eks::InCluster {
        list: |cluster: String| async move { Ok(cx.eks().list_addons().cluster_name(cluster).into_paginator().items().send().try_collect().await?) },
        describe: |cluster: String, name: String| async move { describe(cx, &cluster, &name).await },
        deleting: |a: &Addon| a.status() == Some(&AddonStatus::Deleting),
        tags: |a: &Addon| a.tags(),
        observe: to_observed,
    };
    super::eks::read_in_clusters(scope, kind).await
}

fn config_string(attrs: &Attrs) -> Option<String> {
    attrs.get("configuration_values").filter(|v| v.as_object().is_some_and(|m| !m.is_empty())).map(Value::to_string)
}

fn issues(a: &Addon) -> String {
    let issues: Vec<String> = a
        .health()
        .map(|h| h.issues().iter().map(|i| format!("{}: {}", i.code().map(|c| c.as_str()).unwrap_or("?"), i.message().unwrap_or_default())).collect())
        .unwrap_or_default();
    issues.join("; ")
}

/// Waits for ACTIVE. DEGRADED is still pending: add-ons pass through it while they come up
/// (coredns until nodes exist, `InsufficientNumberOfReplicas`; vpc-cni during a rollout), as
/// terraform-provider-aws waits (internal/service/eks/addon.go `waitAddonCreated`: Pending
/// CREATING, DEGRADED; `waitAddonUpdateSuccessful`); aws/containers-roadmap#2328. Only when
/// the wait's bound passes while DEGRADED is it an error, naming the add-on's health issues.
/// `just_created`: as for the cluster (eks_cluster.rs `wait_active`).
async fn wait_active(cx: &Session, cluster: &str, addon: &str, just_created: bool) -> Result<Addon> {
    let degraded = std::sync::Mutex::new(None::<String>);
    let schedule = cx.polling.schedule(just_created.then_some(wait::Transition::AddonCreate));
    let result = wait::on(schedule, &cx.polling, &format!("add-on {addon} of cluster {cluster} to become ACTIVE"), || async {
        let Some(a) = describe(cx, cluster, addon).await? else { return Ok(None) };
        *degraded.lock().expect("degraded lock") = None;
        match a.status() {
            Some(AddonStatus::Active) => Ok(Some(a)),
            Some(AddonStatus::CreateFailed | AddonStatus::UpdateFailed) => {
                Err(ApiError::new("AddonFailed", format!("add-on {addon} is {}: {}", a.status().map(|s| s.as_str()).unwrap_or("?"), issues(&a))))
            }
            Some(AddonStatus::Degraded) => {
                *degraded.lock().expect("degraded lock") = Some(issues(&a));
                Ok(None)
            }
            _ => Ok(None),
        }
    })
    .await;
    match (result, degraded.into_inner().expect("degraded lock")) {
        (Err(e), Some(why)) if e.code == "WaitTimeout" => Err(ApiError::new("AddonFailed", format!("add-on {addon} is still DEGRADED: {why} ({})", e.message))),
        (result, _) => result,
    }
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
    let (cluster, addon) = (attr_str(attrs, "cluster_name")?, attr_str(attrs, "addon_name")?);
    let tags = super::tags::eks(attrs);
    let result = cx
        .eks()
        .create_addon()
        .cluster_name(cluster)
        .addon_name(addon)
        // The version planned for the cluster's Kubernetes version (absent when the plan could
        // not ask DescribeAddonVersions: EKS then picks its default).
        .set_addon_version(attrs.get("addon_version").and_then(Value::as_str).map(str::to_string))
        .set_configuration_values(config_string(attrs))
        // EKS clusters come with a self-managed aws-node: the add-on takes its fields over.
        .resolve_conflicts(ResolveConflicts::Overwrite)
        .set_tags(Some(tags))
        .client_request_token(token)
        .send()
        .await
        .map_err(ApiError::from);
    match result {
        Err(e) if e.code == "ResourceInUseException" => {}
        other => other.map(|_| ())?,
    }
    Ok(to_observed(&wait_active(cx, cluster, addon, true).await?))
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    let (cluster, addon) = names(&current.id);
    let settled = super::settled(current, || async { Ok(to_observed(&wait_active(cx, cluster, addon, false).await?)) }).await?;
    let current = &*settled;
    let version = attrs.get("addon_version").and_then(Value::as_str).filter(|v| current.attrs.get("addon_version").and_then(Value::as_str) != Some(*v));
    if version.is_some() || current.attrs.get("configuration_values") != attrs.get("configuration_values") {
        // One UpdateAddon moves the version and the configuration together (an upgrade step
        // after the control plane's; docs/upgrades.md).
        let out = cx
            .eks()
            .update_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .set_addon_version(version.map(str::to_string))
            .configuration_values(config_string(attrs).unwrap_or_else(|| "{}".into()))
            .resolve_conflicts(ResolveConflicts::Overwrite)
            .send()
            .await?;
        // UpdateAddon answers before the update starts: wait on its id, not on ACTIVE.
        let id = out.update().and_then(|u| u.id()).unwrap_or_default();
        super::eks::wait_update(cx, cluster, super::eks::UpdateOf::Addon(addon), id).await?;
    }
    if current.attrs.get("tags") != attrs.get("tags") {
        let arn = current.outputs.get("arn").and_then(Value::as_str).unwrap_or_default();
        super::sync_eks_tags(cx, arn, &current.attrs, attrs).await?;
    }
    Ok(to_observed(&wait_active(cx, cluster, addon, false).await?))
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    let (cluster, addon) = names(&current.id);
    match cx.eks().delete_addon().cluster_name(cluster).addon_name(addon).send().await.map_err(ApiError::from) {
        Err(e) if e.code == "ResourceNotFoundException" => return Ok(()),
        other => other.map(|_| ())?,
    }
    let deleted = super::eks::deletions(cx, "eks_addon.deleted", |eks, cluster| async move {
        Ok(eks.list_addons().cluster_name(cluster).into_paginator().items().send().try_collect().await?)
    });
    let what = format!("add-on {addon} of cluster {cluster} to be deleted");
    deleted.until(&what, &current.id, Some(wait::Transition::AddonDelete), |listed| Ok(listed.is_none().then_some(()))).await
}
