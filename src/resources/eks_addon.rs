//! Managed EKS add-ons: vpc-cni with the custom networking and pod ENI configuration (applied
//! before any node), and optionally coredns and kube-proxy.

use aws_sdk_eks::types::{Addon, AddonStatus, ResolveConflicts};
use serde_json::{Value, json};

use super::{Cx, attr_str, observed, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema { replace_on: &["cluster_name", "addon_name"], summary: "addon_name", derived: true, parent: None };

fn to_observed(a: &Addon) -> Observed {
    let config: Value = a.configuration_values().and_then(|c| serde_json::from_str(c).ok()).unwrap_or(json!({}));
    let id = format!("{}:{}", a.cluster_name().unwrap_or_default(), a.addon_name().unwrap_or_default());
    let attrs = json!({
        "cluster_name": a.cluster_name(),
        "addon_name": a.addon_name(),
        "configuration_values": config,
        "tags": a.tags().map(|t| json!(t)).unwrap_or(json!({})),
        "status": a.status().map(|s| s.as_str()),
    });
    observed(&id, attrs, &[("arn", a.addon_arn().unwrap_or_default())])
}

fn names(id: &str) -> (&str, &str) {
    id.split_once(':').unwrap_or((id, ""))
}

async fn describe(cx: &Cx, cluster: &str, addon: &str) -> Result<Option<Addon>> {
    match cx.eks().describe_addon().cluster_name(cluster).addon_name(addon).send().await.map_err(ApiError::from) {
        Ok(out) => Ok(out.addon().cloned()),
        Err(e) if e.code == "ResourceNotFoundException" => Ok(None),
        Err(e) => Err(e),
    }
}

/// The stack's clusters, as refresh found them (their id is their name).
pub fn clusters<'a>(scope: &'a Scope<'_>) -> impl Iterator<Item = &'a str> {
    scope.ids.iter().filter(|(_, a)| a.kind == "eks_cluster").map(|(id, _)| id.as_str())
}

pub async fn read(cx: &Cx, scope: &Scope<'_>) -> Result<Found> {
    let mut out = Found::new();
    for cluster in clusters(scope) {
        let names: Vec<String> = match cx.eks().list_addons().cluster_name(cluster).into_paginator().items().send().try_collect().await.map_err(ApiError::from) {
            Err(e) if e.code == "ResourceNotFoundException" => continue,
            other => other?,
        };
        // EKS has no batch describe: the objects are described side by side.
        let described = futures::future::join_all(names.iter().map(|name| describe(cx, cluster, name))).await;
        for a in described {
            let Some(a) = a? else { continue };
            if a.status() == Some(&AddonStatus::Deleting) {
                continue;
            }
            let Some(address) = a.tags().and_then(|t| t.get(super::tags::ADDRESS)).and_then(|s| Address::parse(s)) else { continue };
            out.push((address, to_observed(&a)));
        }
    }
    Ok(out)
}

fn config_string(attrs: &Attrs) -> Option<String> {
    attrs.get("configuration_values").filter(|v| v.as_object().is_some_and(|m| !m.is_empty())).map(Value::to_string)
}

async fn wait_active(cx: &Cx, cluster: &str, addon: &str) -> Result<Addon> {
    wait::until(&cx.polling, &format!("add-on {addon} of cluster {cluster} to become ACTIVE"), || async {
        let Some(a) = describe(cx, cluster, addon).await? else { return Ok(None) };
        match a.status() {
            Some(AddonStatus::Active) => Ok(Some(a)),
            Some(AddonStatus::CreateFailed | AddonStatus::UpdateFailed | AddonStatus::Degraded) => {
                let issues: Vec<String> =
                    a.health().map(|h| h.issues().iter().map(|i| i.message().unwrap_or_default().to_string()).collect()).unwrap_or_default();
                Err(ApiError::new("AddonFailed", format!("add-on {addon} is {}: {}", a.status().map(|s| s.as_str()).unwrap_or("?"), issues.join("; "))))
            }
            _ => Ok(None),
        }
    })
    .await
}

pub async fn create(cx: &Cx, _: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
    let (cluster, addon) = (attr_str(attrs, "cluster_name")?, attr_str(attrs, "addon_name")?);
    let tags = super::string_map(attrs, "tags");
    let result = cx
        .eks()
        .create_addon()
        .cluster_name(cluster)
        .addon_name(addon)
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
    Ok(to_observed(&wait_active(cx, cluster, addon).await?))
}

pub async fn update(cx: &Cx, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    let (cluster, addon) = names(&current.id);
    let settled = super::settled(current, || async { Ok(to_observed(&wait_active(cx, cluster, addon).await?)) }).await?;
    let current = &*settled;
    if current.attrs.get("configuration_values") != attrs.get("configuration_values") {
        cx.eks()
            .update_addon()
            .cluster_name(cluster)
            .addon_name(addon)
            .configuration_values(config_string(attrs).unwrap_or_else(|| "{}".into()))
            .resolve_conflicts(ResolveConflicts::Overwrite)
            .send()
            .await
            ?;
    }
    if current.attrs.get("tags") != attrs.get("tags") {
        let arn = current.outputs.get("arn").and_then(Value::as_str).unwrap_or_default();
        super::sync_eks_tags(cx, arn, &current.attrs, attrs).await?;
    }
    Ok(to_observed(&wait_active(cx, cluster, addon).await?))
}

pub async fn delete(cx: &Cx, _: &Address, current: &Observed) -> Result<()> {
    let (cluster, addon) = names(&current.id);
    match cx.eks().delete_addon().cluster_name(cluster).addon_name(addon).send().await.map_err(ApiError::from) {
        Err(e) if e.code == "ResourceNotFoundException" => return Ok(()),
        other => other.map(|_| ())?,
    }
    wait::until(&cx.polling, &format!("add-on {addon} of cluster {cluster} to be deleted"), || async {
        Ok(describe(cx, cluster, addon).await?.is_none().then_some(()))
    })
    .await
}
