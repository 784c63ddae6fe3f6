//! Kubernetes objects, applied with server-side apply (field manager `eksnet`) through the
//! cluster's API. Observed attributes are the live object cut to the fields eksnet manages, so
//! a plan shows exactly those fields changing, and drift when someone changed one of them.

use std::collections::{BTreeMap, BTreeSet};

use kube::api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::discovery::{ApiCapabilities, ApiResource, Scope as KubeScope, pinned_kind};
use serde_json::{Value, json};

use super::{Session, wait};
use crate::address::Address;
use crate::k8s::{ClusterRef, is_not_found};
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::derived("api").replace_on(&["cluster", "api"]);

pub use crate::ownership::{ADDRESS_ANNOTATION, STACK_LABEL};
use crate::ownership::LINEAGE_LABEL;

fn cluster_of(attrs: &Attrs) -> Result<ClusterRef> {
    let c = &attrs["cluster"];
    let field = |k: &str| c[k].as_str().map(str::to_string).ok_or_else(|| ApiError::new("MissingAttribute", format!("cluster `{k}` is unknown")));
    Ok(ClusterRef { name: field("name")?, endpoint: field("endpoint")?, ca_data: field("ca_data")? })
}

fn gvk(object: &Value) -> GroupVersionKind {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    GroupVersionKind::gvk(group, version, object["kind"].as_str().unwrap_or_default())
}

/// Resolves the object's kind through discovery, waiting (bounded) for a CRD to be served.
async fn resource(cx: &Session, client: &kube::Client, gvk: &GroupVersionKind) -> Result<(ApiResource, ApiCapabilities)> {
    let what = format!("the API to serve {}/{} {}", gvk.group, gvk.version, gvk.kind);
    let mut polling = cx.polling;
    polling.timeout = polling.timeout.min(std::time::Duration::from_secs(120));
    wait::until(&polling, &what, || async {
        match pinned_kind(client, gvk).await {
            Ok(found) => Ok(Some(found)),
            Err(kube::Error::Discovery(_)) => Ok(None),
            Err(e) if is_not_found(&e) => Ok(None),
            Err(e) => Err(ApiError::from(e)),
        }
    })
    .await
}

fn api(client: &kube::Client, ar: &ApiResource, caps: &ApiCapabilities, namespace: Option<&str>) -> Api<DynamicObject> {
    match caps.scope {
        KubeScope::Namespaced => Api::namespaced_with(client.clone(), namespace.unwrap_or("default"), ar),
        KubeScope::Cluster => Api::all_with(client.clone(), ar),
    }
}

/// The live object cut to the shape of the desired one: maps by key, lists of named items
/// (containers, env) by name, other values whole.
fn project(live: &Value, shape: &Value) -> Value {
    match (live, shape) {
        (_, Value::Object(s)) if s.contains_key("$ref") || s.contains_key("$concat") || s.contains_key("$unknown") => live.clone(),
        (Value::Object(l), Value::Object(s)) => Value::Object(s.iter().filter_map(|(k, sv)| l.get(k).map(|lv| (k.clone(), project(lv, sv)))).collect()),
        (Value::Array(l), Value::Array(s)) if s.iter().all(|i| i.get("name").is_some_and(Value::is_string)) && !s.is_empty() => {
            Value::Array(s.iter().filter_map(|si| l.iter().find(|li| li.get("name") == si.get("name")).map(|li| project(li, si))).collect())
        }
        _ => live.clone(),
    }
}

fn observe(cluster: &ClusterRef, live: &Value, desired: Option<&Attrs>) -> Observed {
    let shape = desired.map(|d| d["object"].clone()).unwrap_or_else(|| json!({"apiVersion": "", "kind": "", "metadata": {"name": ""}}));
    let api = format!("{} {}", live["apiVersion"].as_str().unwrap_or_default(), live["kind"].as_str().unwrap_or_default());
    let mut attrs = json!({
        "cluster": {"name": cluster.name, "endpoint": cluster.endpoint, "ca_data": cluster.ca_data},
        "api": api,
        "object": project(live, &shape),
    });
    // How eksnet treats the object is the stack's choice, not something the API shows.
    for key in ["wait", "abandon_on_delete"] {
        attrs[key] = desired.and_then(|d| d.get(key)).cloned().unwrap_or(json!(false));
    }
    let meta = &live["metadata"];
    let id = match meta["namespace"].as_str() {
        Some(ns) => format!("{ns}/{}", meta["name"].as_str().unwrap_or_default()),
        None => meta["name"].as_str().unwrap_or_default().to_string(),
    };
    super::observed(&id, attrs, &[("uid", meta["uid"].as_str().unwrap_or_default())])
}

pub async fn read(cx: &Session, scope: &Scope<'_>) -> Result<Found> {
    let mut out = Found::new();
    let Some(outputs) = scope.outputs.get(&Address::new("eks_cluster", "main")) else { return Ok(out) };
    let field = |k: &str| outputs.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let cluster = ClusterRef { name: field("name"), endpoint: field("endpoint"), ca_data: field("ca_data") };
    if cluster.endpoint.is_empty() {
        return Ok(out);
    }
    let client = cx.kube.client(&cluster).await?;
    let known: BTreeMap<&Address, &Attrs> = scope.known.iter().filter(|(a, _)| a.kind == "k8s_manifest").collect();
    let kinds: BTreeSet<(String, String, String)> = known
        .values()
        .map(|attrs| {
            let g = gvk(&attrs["object"]);
            (g.group, g.version, g.kind)
        })
        .collect();
    for (group, version, kind) in kinds {
        let gvk = GroupVersionKind::gvk(&group, &version, &kind);
        let (ar, _) = match pinned_kind(&client, &gvk).await {
            Ok(found) => found,
            // Not served (e.g. a CRD not installed yet): nothing of that kind exists.
            Err(_) => continue,
        };
        let all: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
        let list = all.list(&ListParams::default().labels(&format!("{STACK_LABEL}={}", cx.stack))).await?;
        for item in list.items {
            let Some(address) = item.metadata.annotations.as_ref().and_then(|a| a.get(ADDRESS_ANNOTATION)).and_then(|a| Address::parse(a)) else { continue };
            if item.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let mut live = serde_json::to_value(&item).map_err(|e| ApiError::new("KubernetesDecode", e.to_string()))?;
            live["apiVersion"] = json!(ar.api_version);
            live["kind"] = json!(ar.kind);
            out.push((address.clone(), observe(&cluster, &live, known.get(&address).copied())));
        }
    }
    Ok(out)
}

async fn apply(cx: &Session, attrs: &Attrs) -> Result<Observed> {
    let cluster = cluster_of(attrs)?;
    let client = cx.kube.client(&cluster).await?;
    let object = &attrs["object"];
    let (ar, caps) = resource(cx, &client, &gvk(object)).await?;
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    // System objects EKS manages (aws-node) always need force: their fields belong to `eks`.
    let abandon = attrs.get("abandon_on_delete").and_then(Value::as_bool) == Some(true);
    let params = if cx.force_conflicts || abandon { PatchParams::apply("eksnet").force() } else { PatchParams::apply("eksnet") };
    let (ar, caps, params) = (&ar, &caps, &params);
    let namespace = object["metadata"]["namespace"].as_str();
    let patch = |client: kube::Client| async move { api(&client, ar, caps, namespace).patch(name, params, &Patch::Apply(object)).await };
    let applied = cx.kube.call(&cluster, patch).await.map_err(|e| {
        let mut e = ApiError::from(e);
        if e.code == "Conflict" {
            e.message.push_str("; another field manager changed these fields: pass --force-conflicts to take them over");
        }
        e
    })?;
    let mut live = serde_json::to_value(&applied).map_err(|e| ApiError::new("KubernetesDecode", e.to_string()))?;
    if attrs.get("wait").and_then(Value::as_bool) == Some(true) && ar.kind == "Deployment" {
        live = wait::until(&cx.polling, &format!("Deployment {name} to become available"), || async {
            // Through `call`: the wait can outlast the token (15 minutes on EKS).
            let current = cx.kube.call(&cluster, |client| async move { api(&client, ar, caps, namespace).get(name).await }).await?;
            let value = serde_json::to_value(&current).map_err(|e| ApiError::new("KubernetesDecode", e.to_string()))?;
            let want = value["spec"]["replicas"].as_i64().unwrap_or(1);
            let ready =
                value["status"]["availableReplicas"].as_i64().unwrap_or(0) >= want && value["status"]["observedGeneration"] == value["metadata"]["generation"];
            Ok(ready.then_some(value))
        })
        .await?;
    }
    live["apiVersion"] = json!(ar.api_version);
    live["kind"] = json!(ar.kind);
    let desired = attrs.clone();
    Ok(observe(&cluster, &live, Some(&desired)))
}

/// The live object `reference` names (apiVersion, kind, metadata name and namespace), for
/// `eksnet import`; None when its kind is not served or it does not exist.
pub async fn get(cx: &Session, cluster: &ClusterRef, reference: &Value) -> Result<Option<Value>> {
    let client = cx.kube.client(cluster).await?;
    let Ok((ar, caps)) = pinned_kind(&client, &gvk(reference)).await else { return Ok(None) };
    let name = reference["metadata"]["name"].as_str().unwrap_or_default();
    let Some(found) = api(&client, &ar, &caps, reference["metadata"]["namespace"].as_str()).get_opt(name).await? else { return Ok(None) };
    let mut live = serde_json::to_value(&found).map_err(|e| ApiError::new("KubernetesDecode", e.to_string()))?;
    live["apiVersion"] = json!(ar.api_version);
    live["kind"] = json!(ar.kind);
    Ok(Some(live))
}

/// Marks an object another tool made as this stack's, at `address`, managed by the state of
/// `lineage` (`eksnet import`): a server-side apply, as field manager `eksnet`, of only the
/// labels and annotation `stack::expand` gives every manifest, so that refresh finds it by
/// them. eksnet then owns those fields alone; the others stay the other tool's until an apply
/// changes them (with `--force-conflicts` where the values differ).
pub async fn mark(cx: &Session, cluster: &ClusterRef, reference: &Value, address: &Address, lineage: &str) -> Result<()> {
    let mut marks = reference.clone();
    marks["metadata"]["labels"] = json!({"app.kubernetes.io/managed-by": "eksnet", STACK_LABEL: cx.stack, LINEAGE_LABEL: lineage});
    marks["metadata"]["annotations"] = json!({ADDRESS_ANNOTATION: address.to_string()});
    let client = cx.kube.client(cluster).await?;
    let (ar, caps) = resource(cx, &client, &gvk(reference)).await?;
    let name = reference["metadata"]["name"].as_str().unwrap_or_default();
    api(&client, &ar, &caps, reference["metadata"]["namespace"].as_str()).patch(name, &PatchParams::apply("eksnet"), &Patch::Apply(&marks)).await?;
    Ok(())
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    apply(cx, attrs).await
}

pub async fn update(cx: &Session, _: &Address, _: &Observed, attrs: &Attrs) -> Result<Observed> {
    apply(cx, attrs).await
}

/// Foreground deletion, then waits until the object is gone (a namespace until finalized).
pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    if current.attrs.get("abandon_on_delete").and_then(Value::as_bool) == Some(true) {
        return Ok(());
    }
    let cluster = cluster_of(&current.attrs)?;
    let client = cx.kube.client(&cluster).await?;
    let object = &current.attrs["object"];
    let (ar, caps) = match pinned_kind(&client, &gvk(object)).await {
        Ok(found) => found,
        Err(_) => return Ok(()),
    };
    let namespace = object["metadata"]["namespace"].as_str();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let (ar, caps) = (&ar, &caps);
    match cx.kube.call(&cluster, |client| async move { api(&client, ar, caps, namespace).delete(name, &DeleteParams::foreground()).await }).await {
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(ApiError::from(e)),
        Ok(_) => {}
    }
    wait::until(&cx.polling, &format!("{} {name} to be deleted", ar.kind), || async {
        // Through `call`: the wait can outlast the token (15 minutes on EKS).
        match cx.kube.call(&cluster, |client| async move { api(&client, ar, caps, namespace).get_opt(name).await }).await? {
            None => Ok(Some(())),
            Some(_) => Ok(None),
        }
    })
    .await
}
