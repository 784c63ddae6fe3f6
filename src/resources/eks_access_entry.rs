//! Cluster admins from the stack, as access entries with the cluster admin access policy.
//!
//! The cluster's creator already has an entry: eksnet creates clusters with
//! `bootstrapClusterCreatorAdminPermissions`, and EKS then makes an access entry for the IAM
//! principal that called CreateCluster, with AmazonEKSClusterAdminPolicy (EKS user guide,
//! "Grant IAM users access to Kubernetes with EKS access entries"; API reference,
//! CreateAccessConfigRequest). A stack that also lists the creator under `cluster.admins` gets
//! ResourceInUseException from CreateAccessEntry; eksnet adopts that entry (tags it as this
//! stack's, as `eksnet import` does) instead of leaving it untagged, which made every plan
//! propose creating it again. An entry tagged by another stack is never taken.

use aws_sdk_eks::types::{AccessScope, AccessScopeType};
use serde_json::{Value, json};

use super::{Session, attr_str, observed, strings};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::derived("principal_arn").replace_on(&["cluster_name", "principal_arn"]);

fn names(id: &str) -> (&str, &str) {
    id.split_once('|').unwrap_or((id, ""))
}

async fn policies(cx: &Session, cluster: &str, principal: &str) -> Result<Vec<String>> {
    let listed: Vec<_> = cx
        .eks()
        .list_associated_access_policies()
        .cluster_name(cluster)
        .principal_arn(principal)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        ?;
    let mut arns: Vec<String> = listed.iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect();
    arns.sort();
    Ok(arns)
}

pub async fn read(cx: &Session, scope: &Scope<'_>) -> Result<Found> {
    let mut out = Found::new();
    for cluster in super::eks::clusters(scope) {
        let principals: Vec<String> =
            match cx.eks().list_access_entries().cluster_name(cluster).into_paginator().items().send().try_collect().await.map_err(ApiError::from) {
                Err(e) if e.code == "ResourceNotFoundException" || e.code == "InvalidRequestException" => continue,
                other => other?,
            };
        for principal in principals {
            let entry = cx.eks().describe_access_entry().cluster_name(cluster).principal_arn(&principal).send().await?;
            let Some(entry) = entry.access_entry() else { continue };
            let Some(address) = super::tags::eks_address(entry.tags()) else { continue };
            let attrs = json!({
                "cluster_name": cluster,
                "principal_arn": principal,
                "policy_arns": policies(cx, cluster, &principal).await?,
                "tags": super::tags::eks_observed(entry.tags()),
            });
            out.push((address, observed(&format!("{cluster}|{principal}"), attrs, &[("arn", entry.access_entry_arn().unwrap_or_default())])));
        }
    }
    Ok(out)
}

async fn sync_policies(cx: &Session, cluster: &str, principal: &str, current: &[String], want: &[String]) -> Result<()> {
    for arn in want.iter().filter(|p| !current.contains(p)) {
        let scope = AccessScope::builder().r#type(AccessScopeType::Cluster).build();
        cx.eks()
            .associate_access_policy()
            .cluster_name(cluster)
            .principal_arn(principal)
            .policy_arn(arn)
            .access_scope(scope)
            .send()
            .await
            ?;
    }
    for arn in current.iter().filter(|p| !want.contains(p)) {
        cx.eks().disassociate_access_policy().cluster_name(cluster).principal_arn(principal).policy_arn(arn).send().await?;
    }
    Ok(())
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
    let (cluster, principal) = (attr_str(attrs, "cluster_name")?, attr_str(attrs, "principal_arn")?);
    let tags = super::tags::eks(attrs);
    let created = cx
        .eks()
        .create_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal)
        .set_tags(Some(tags.clone()))
        .client_request_token(token)
        .send()
        .await
        .map_err(ApiError::from);
    let arn = match created {
        Ok(out) => out.access_entry().and_then(|e| e.access_entry_arn()).unwrap_or_default().to_string(),
        Err(e) if e.code == "ResourceInUseException" => adopt(cx, cluster, principal, &tags).await?,
        Err(e) => return Err(e),
    };
    sync_policies(cx, cluster, principal, &policies(cx, cluster, principal).await?, &strings(attrs, "policy_arns")).await?;
    Ok(Observed { id: format!("{cluster}|{principal}"), attrs: attrs.clone(), outputs: super::outputs(&format!("{cluster}|{principal}"), &[("arn", &arn)]) })
}

/// The entry that already exists for `principal` (the creator's, made by EKS, or one this stack
/// created in a run that died before saving it), tagged as this stack's. Its ARN.
async fn adopt(cx: &Session, cluster: &str, principal: &str, tags: &std::collections::HashMap<String, String>) -> Result<String> {
    let found = cx.eks().describe_access_entry().cluster_name(cluster).principal_arn(principal).send().await?;
    let entry = found.access_entry().ok_or_else(|| ApiError::new("ResourceNotFoundException", format!("access entry {principal} vanished")))?;
    let arn = entry.access_entry_arn().unwrap_or_default().to_string();
    let ours = tags.get(super::tags::STACK);
    if let Some(other) = entry.tags().and_then(|t| t.get(super::tags::STACK)).filter(|s| Some(*s) != ours) {
        return Err(ApiError::new(
            "ResourceInUseException",
            format!("the access entry of {principal} on cluster {cluster} belongs to stack {other}; remove {principal} from this stack's cluster.admins, or from stack {other}"),
        ));
    }
    cx.eks().tag_resource().resource_arn(&arn).set_tags(Some(tags.clone())).send().await?;
    Ok(arn)
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    let (cluster, principal) = names(&current.id);
    sync_policies(cx, cluster, principal, &strings(&current.attrs, "policy_arns"), &strings(attrs, "policy_arns")).await?;
    if current.attrs.get("tags") != attrs.get("tags") {
        let arn = current.outputs.get("arn").and_then(Value::as_str).unwrap_or_default();
        super::sync_eks_tags(cx, arn, &current.attrs, attrs).await?;
    }
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    let (cluster, principal) = names(&current.id);
    match cx.eks().delete_access_entry().cluster_name(cluster).principal_arn(principal).send().await.map_err(ApiError::from) {
        Err(e) if e.code == "ResourceNotFoundException" => Ok(()),
        other => other.map(|_| ()),
    }
}
