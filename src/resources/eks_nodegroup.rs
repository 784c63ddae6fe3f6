//! Managed nodegroups in the private subnets, created only once the VPC CNI is configured.
//! Scaling, labels, taints and the update policy change in place.

use std::collections::HashMap;

use aws_sdk_eks::types::{
    AmiTypes, CapacityTypes, Nodegroup, NodegroupScalingConfig, NodegroupStatus, NodegroupUpdateConfig, Taint, TaintEffect, UpdateLabelsPayload, UpdateStatus,
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
        "tags": n.tags().map(|t| json!(t)).unwrap_or(json!({})),
        "status": n.status().map(|s| s.as_str()),
    });
    normalize(attrs.as_object_mut().expect("object"));
    let id = format!("{}:{}", n.cluster_name().unwrap_or_default(), n.nodegroup_name().unwrap_or_default());
    observed(&id, attrs, &[("arn", n.nodegroup_arn().unwrap_or_default())])
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

fn update_config(attrs: &Attrs) -> NodegroupUpdateConfig {
    NodegroupUpdateConfig::builder().max_unavailable(attrs.get("max_unavailable").and_then(Value::as_i64).unwrap_or(1) as i32).build()
}

async fn wait_active(cx: &Session, cluster: &str, name: &str) -> Result<Nodegroup> {
    wait::until(&cx.polling, &format!("nodegroup {name} of cluster {cluster} to become ACTIVE"), || async {
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
    let tags = super::string_map(attrs, "tags");
    let create = || async {
        cx.eks()
            .create_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(name)
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
    Ok(to_observed(&wait_active(cx, cluster, name).await?))
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    let (cluster, name) = names(&current.id);
    let settled = super::settled(current, || async { Ok(to_observed(&wait_active(cx, cluster, name).await?)) }).await?;
    let current = &*settled;
    let changed = |key: &str| current.attrs.get(key) != attrs.get(key);
    if changed("scaling") || changed("labels") || changed("taints") || changed("max_unavailable") {
        let mut call = cx.eks().update_nodegroup_config().cluster_name(cluster).nodegroup_name(name);
        if changed("scaling") {
            call = call.scaling_config(scaling(attrs));
        }
        if changed("max_unavailable") {
            call = call.update_config(update_config(attrs));
        }
        if changed("labels") {
            let (old, new) = (labels(&current.attrs), labels(attrs));
            let removed: Vec<String> = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
            call = call.labels(UpdateLabelsPayload::builder().set_add_or_update_labels(Some(new)).set_remove_labels(Some(removed)).build());
        }
        if changed("taints") {
            let (old, new) = (taints(&current.attrs), taints(attrs));
            let removed: Vec<Taint> = old.into_iter().filter(|t| !new.contains(t)).collect();
            call = call.taints(UpdateTaintsPayload::builder().set_add_or_update_taints(Some(new)).set_remove_taints(Some(removed)).build());
        }
        let out = call.send().await?;
        let id = out.update().and_then(|u| u.id()).unwrap_or_default().to_string();
        wait::until(&cx.polling, &format!("update {id} of nodegroup {name}"), || async {
            let out = cx.eks().describe_update().name(cluster).nodegroup_name(name).update_id(&id).send().await?;
            match out.update().and_then(|u| u.status()) {
                Some(UpdateStatus::Successful) => Ok(Some(())),
                Some(UpdateStatus::Failed | UpdateStatus::Cancelled) => Err(ApiError::new("UpdateFailed", format!("update {id} of nodegroup {name} failed"))),
                _ => Ok(None),
            }
        })
        .await?;
    }
    if changed("tags") {
        let arn = current.outputs.get("arn").and_then(Value::as_str).unwrap_or_default();
        super::sync_eks_tags(cx, arn, &current.attrs, attrs).await?;
    }
    Ok(to_observed(&wait_active(cx, cluster, name).await?))
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    let (cluster, name) = names(&current.id);
    match cx.eks().delete_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await.map_err(ApiError::from) {
        Err(e) if e.code == "ResourceNotFoundException" => return Ok(()),
        other => other.map(|_| ())?,
    }
    wait::until(&cx.polling, &format!("nodegroup {name} of cluster {cluster} to be deleted"), || async {
        Ok(describe(cx, cluster, name).await?.is_none().then_some(()))
    })
    .await
}
