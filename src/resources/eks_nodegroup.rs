//! Managed nodegroups in the private subnets, created only once the VPC CNI is configured.
//! Scaling, labels, taints and the update policy change in place.

use std::collections::HashMap;

use aws_sdk_eks::types::{
    AmiTypes, CapacityTypes, Nodegroup, NodegroupScalingConfig, NodegroupStatus, NodegroupUpdateConfig, Taint, TaintEffect, UpdateLabelsPayload,
    UpdateTaintsPayload,
};
use serde_json::{Value, json};

use super::{Session, attr_str, observed, strings, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::derived("instance_types").replace_on(&["cluster_name", "nodegroup_name", "node_role_arn", "subnet_ids", "instance_types", "ami_type", "capacity_type", "disk_size"]).outputs(&["arn"]).normalize(normalize);

pub fn normalize(attrs: &mut Attrs) {
    for key in ["subnet_ids", "taints"] {
        if let Some(Value::Array(items)) = attrs.get_mut(key) {
            items.sort_by_key(|v| v.to_string());
        }
    }
}

fn taint_effect(effect: &TaintEffect) -> &'static str {
    match effect {
        TaintEffect::NoExecute => "NoExecute",
        TaintEffect::PreferNoSchedule => "PreferNoSchedule",
        _ => "NoSchedule",
    }
}

fn to_observed(n: &Nodegroup) -> Observed {
    let scaling = n.scaling_config();
    let taints: Vec<Value> = n.taints().iter().map(|t| json!({"key": t.key(), "value": t.value(), "effect": t.effect().map(taint_effect)})).collect();
    let mut attrs = json!({
        "cluster_name": n.cluster_name(),
        "nodegroup_name": n.nodegroup_name(),
        "version": n.version(),
        "release_version": n.release_version(),
        "node_role_arn": n.node_role(),
        "subnet_ids": n.subnets(),
        "instance_types": n.instance_types(),
        "ami_type": n.ami_type().map(|a| a.as_str()),
        "capacity_type": n.capacity_type().map(|c| c.as_str()),
        "disk_size": n.disk_size(),
        "scaling": {"min": scaling.and_then(|s| s.min_size()), "desired": scaling.and_then(|s| s.desired_size()), "max": scaling.and_then(|s| s.max_size())},
        "labels": n.labels().map(|l| json!(l)).unwrap_or(json!({})),
        "taints": taints,
        "max_unavailable": n.update_config().and_then(|u| u.max_unavailable()).unwrap_or(1),
        "tags": super::tags::eks_observed(n.tags()),
        "status": n.status().map(|s| s.as_str()),
    });
    normalize(attrs.as_object_mut().expect("object"));
    let id = format!("{}:{}", n.cluster_name().unwrap_or_default(), n.nodegroup_name().unwrap_or_default());
    observed(&id, attrs, &[("arn", n.nodegroup_arn().unwrap_or_default())])
}

/// The AMI release to ask for: the one the plan settled (`latest` unresolved is never sent).
fn release(attrs: &Attrs) -> Option<&str> {
    attrs.get("release_version").and_then(Value::as_str).filter(|r| *r != "latest")
}

fn names(id: &str) -> (&str, &str) {
    id.split_once(':').unwrap_or((id, ""))
}

async fn describe(cx: &Session, cluster: &str, name: &str) -> Result<Option<Nodegroup>> {
    match cx.eks().describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await.map_err(ApiError::from) {
        Ok(out) => Ok(out.nodegroup().cloned()),
        Err(e) if e.code == "ResourceNotFoundException" => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn read(cx: &Session, scope: &Scope<'_>) -> Result<Found> {
    let kind = super::eks::InCluster {
        list: |cluster: String| async move { Ok(cx.eks().list_nodegroups().cluster_name(cluster).into_paginator().items().send().try_collect().await?) },
        describe: |cluster: String, name: String| async move { describe(cx, &cluster, &name).await },
        deleting: |n: &Nodegroup| n.status() == Some(&NodegroupStatus::Deleting),
        tags: |n: &Nodegroup| n.tags(),
        observe: to_observed,
    };
    super::eks::read_in_clusters(scope, kind).await
}

fn scaling(attrs: &Attrs) -> NodegroupScalingConfig {
    let s = &attrs["scaling"];
    let n = |k: &str| s[k].as_i64().map(|v| v as i32);
    NodegroupScalingConfig::builder().set_min_size(n("min")).set_desired_size(n("desired")).set_max_size(n("max")).build()
}

fn labels(attrs: &Attrs) -> HashMap<String, String> {
    super::string_map(attrs, "labels")
}

fn taints(attrs: &Attrs) -> Vec<Taint> {
    attrs
        .get("taints")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|t| {
                    let effect = match t["effect"].as_str() {
                        Some("NoExecute") => TaintEffect::NoExecute,
                        Some("PreferNoSchedule") => TaintEffect::PreferNoSchedule,
                        _ => TaintEffect::NoSchedule,
                    };
                    Taint::builder().set_key(t["key"].as_str().map(Into::into)).set_value(t["value"].as_str().map(Into::into)).effect(effect).build()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The labels to add or change and those to remove, each left out when empty.
fn labels_payload(old: &HashMap<String, String>, new: &HashMap<String, String>) -> UpdateLabelsPayload {
    let set: HashMap<String, String> = new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut removed: Vec<String> = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    removed.sort();
    UpdateLabelsPayload::builder().set_add_or_update_labels((!set.is_empty()).then_some(set)).set_remove_labels((!removed.is_empty()).then_some(removed)).build()
}

/// The taints to add or change and those to remove (a taint is named by key and effect), each
/// left out when empty.
fn taints_payload(old: &[Taint], new: &[Taint]) -> UpdateTaintsPayload {
    let set: Vec<Taint> = new.iter().filter(|t| !old.contains(t)).cloned().collect();
    let same = |a: &Taint, b: &Taint| a.key() == b.key() && a.effect() == b.effect();
    let removed: Vec<Taint> = old.iter().filter(|t| !new.iter().any(|n| same(n, t))).cloned().collect();
    UpdateTaintsPayload::builder().set_add_or_update_taints((!set.is_empty()).then_some(set)).set_remove_taints((!removed.is_empty()).then_some(removed)).build()
}

fn update_config(attrs: &Attrs) -> NodegroupUpdateConfig {
    NodegroupUpdateConfig::builder().max_unavailable(attrs.get("max_unavailable").and_then(Value::as_i64).unwrap_or(1) as i32).build()
}

/// `just_created`: as for the cluster (eks_cluster.rs `wait_active`).
async fn wait_active(cx: &Session, cluster: &str, name: &str, just_created: bool) -> Result<Nodegroup> {
    let schedule = cx.polling.schedule(just_created.then_some(wait::Transition::NodegroupCreate));
    wait::on(schedule, &cx.polling, &format!("nodegroup {name} of cluster {cluster} to become ACTIVE"), || async {
        let Some(n) = describe(cx, cluster, name).await? else { return Ok(None) };
        match n.status() {
            Some(NodegroupStatus::Active) => Ok(Some(n)),
            Some(NodegroupStatus::CreateFailed | NodegroupStatus::Degraded) => {
                let issues: Vec<String> =
                    n.health().map(|h| h.issues().iter().map(|i| i.message().unwrap_or_default().to_string()).collect()).unwrap_or_default();
                Err(ApiError::new("NodegroupFailed", format!("nodegroup {name} is {}: {}", n.status().map(|s| s.as_str()).unwrap_or("?"), issues.join("; "))))
            }
            _ => Ok(None),
        }
    })
    .await
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
    let (cluster, name) = (attr_str(attrs, "cluster_name")?, attr_str(attrs, "nodegroup_name")?);
    let tags = super::tags::eks(attrs);
    let create = || async {
        cx.eks()
            .create_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .set_version(attrs.get("version").and_then(Value::as_str).map(str::to_string))
            .set_release_version(release(attrs).map(str::to_string))
            .node_role(attr_str(attrs, "node_role_arn")?)
            .set_subnets(Some(strings(attrs, "subnet_ids")))
            .set_instance_types(Some(strings(attrs, "instance_types")))
            .ami_type(AmiTypes::from(attr_str(attrs, "ami_type")?))
            .capacity_type(CapacityTypes::from(attr_str(attrs, "capacity_type")?))
            .set_disk_size(attrs.get("disk_size").and_then(Value::as_i64).map(|d| d as i32))
            .scaling_config(scaling(attrs))
            .set_labels(Some(labels(attrs)))
            .set_taints(Some(taints(attrs)))
            .update_config(update_config(attrs))
            .set_tags(Some(tags.clone()))
            .client_request_token(token)
            .send()
            .await
            .map_err(ApiError::from)
    };
    let already_ours = || async { Ok(describe(cx, cluster, name).await?.is_some_and(|n| super::eks::is_stacks(cx, n.tags()))) };
    super::eks::create_naming_role(cx, create, already_ours).await?;
    Ok(to_observed(&wait_active(cx, cluster, name, true).await?))
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    let (cluster, name) = names(&current.id);
    let settled = super::settled(current, || async { Ok(to_observed(&wait_active(cx, cluster, name, false).await?)) }).await?;
    let current = &*settled;
    let changed = |key: &str| current.attrs.get(key) != attrs.get(key);
    // The Kubernetes version first, on its own (UpdateNodegroupVersion: new nodes from the
    // version's latest AMI, the old ones drained and removed), once the control plane and the
    // add-ons are there: the graph orders it after them (docs/upgrades.md).
    // An AMI release the stack names (or the newest one, `release_version: latest`) moves with
    // the same call: `releaseVersion`, "By default, the latest available AMI version for the
    // node group's Kubernetes version is used" (API reference, UpdateNodegroupVersion).
    let release = release(attrs).filter(|_| changed("release_version"));
    if changed("version") || release.is_some() {
        let version = attrs.get("version").and_then(Value::as_str).filter(|_| changed("version"));
        let out = cx
            .eks()
            .update_nodegroup_version()
            .cluster_name(cluster)
            .nodegroup_name(name)
            .set_version(version.map(str::to_string))
            .set_release_version(release.map(str::to_string))
            .set_force(cx.force_upgrade.then_some(true))
            .send()
            .await?;
        let id = out.update().and_then(|u| u.id()).unwrap_or_default().to_string();
        super::eks::wait_update(cx, cluster, super::eks::UpdateOf::Nodegroup(name), &id).await?;
    }
    if changed("scaling") || changed("labels") || changed("taints") || changed("max_unavailable") {
        let mut call = cx.eks().update_nodegroup_config().cluster_name(cluster).nodegroup_name(name);
        if changed("scaling") {
            call = call.scaling_config(scaling(attrs));
        }
        if changed("max_unavailable") {
            call = call.update_config(update_config(attrs));
        }
        // Only what changes: labels and taints added or changed, and those removed; an empty
        // list is left out (UpdateNodegroupConfig, https://docs.aws.amazon.com/eks/latest/APIReference/API_UpdateNodegroupConfig.html;
        // terraform-provider-aws internal/service/eks/node_group.go expandUpdateLabelsPayload /
        // expandUpdateTaintsPayload send nil for an empty side).
        if changed("labels") {
            call = call.labels(labels_payload(&labels(&current.attrs), &labels(attrs)));
        }
        if changed("taints") {
            call = call.taints(taints_payload(&taints(&current.attrs), &taints(attrs)));
        }
        let out = call.send().await?;
        let id = out.update().and_then(|u| u.id()).unwrap_or_default().to_string();
        super::eks::wait_update(cx, cluster, super::eks::UpdateOf::Nodegroup(name), &id).await?;
    }
    if changed("tags") {
        let arn = current.outputs.get("arn").and_then(Value::as_str).unwrap_or_default();
        super::sync_eks_tags(cx, arn, &current.attrs, attrs).await?;
    }
    Ok(to_observed(&wait_active(cx, cluster, name, false).await?))
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    let (cluster, name) = names(&current.id);
    match cx.eks().delete_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await.map_err(ApiError::from) {
        Err(e) if e.code == "ResourceNotFoundException" => return Ok(()),
        other => other.map(|_| ())?,
    }
    let deleted = super::eks::deletions(cx, "eks_nodegroup.deleted", |eks, cluster| async move {
        Ok(eks.list_nodegroups().cluster_name(cluster).into_paginator().items().send().try_collect().await?)
    });
    let what = format!("nodegroup {name} of cluster {cluster} to be deleted");
    deleted.until(&what, &current.id, Some(wait::Transition::NodegroupDelete), |listed| Ok(listed.is_none().then_some(()))).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, value: &str) -> Taint {
        Taint::builder().key(key).value(value).effect(TaintEffect::NoSchedule).build()
    }

    #[test]
    fn a_nodegroup_update_sends_only_what_changes() {
        let old: HashMap<String, String> = [("a", "1"), ("b", "2"), ("gone", "x")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let new: HashMap<String, String> = [("a", "1"), ("b", "3")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let p = labels_payload(&old, &new);
        assert_eq!(p.add_or_update_labels().map(|m| m.len()), Some(1));
        assert_eq!(p.remove_labels(), ["gone".to_string()]);
        // Only a label added: no removeLabels at all (not an empty list).
        let added: HashMap<String, String> = [("a", "1"), ("b", "2"), ("gone", "x"), ("c", "4")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let p = labels_payload(&old, &added);
        assert!(p.remove_labels.is_none(), "{p:?}");
        assert_eq!(p.add_or_update_labels().map(|m| m.keys().cloned().collect::<Vec<_>>()), Some(vec!["c".to_string()]));

        let p = taints_payload(&[taint("k", "v")], &[taint("k", "w")]);
        assert_eq!(p.add_or_update_taints().len(), 1);
        assert!(p.remove_taints.is_none(), "a changed value is an update, not a removal: {p:?}");
        let p = taints_payload(&[taint("k", "v")], &[]);
        assert!(p.add_or_update_taints.is_none(), "{p:?}");
        assert_eq!(p.remove_taints().len(), 1);
    }
}
