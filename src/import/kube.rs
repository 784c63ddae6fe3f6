//! The Kubernetes provider's objects (`kubernetes_namespace`, `kubernetes_deployment`, their
//! `_v1` names, and `kubernetes_manifest`): each becomes the `k8s_manifest` eksnet would give it,
//! written as a template under the stack's directory and listed in the stack's `manifests:`.
//!
//! The template is the live object, read from the cluster's Kubernetes API (as `cni` reads
//! aws-node and the ENIConfigs), not rebuilt from the provider's state attributes: the state
//! holds a flattened form of the object (every nested block a list of one, snake_case names,
//! `replicas` as a string, `container` for `containers`; hashicorp/terraform-provider-kubernetes
//! kubernetes/schema_metadata.go, `namespacedMetadataSchema`: `metadata` is a TypeList with
//! MaxItems 1 and `namespace` defaults to "default"; kubernetes/resource_kubernetes_deployment_v1.go
//! and schema_pod_spec.go for `spec`), which would need a converter per kind and would still miss
//! what the API server defaulted. The live object is exactly what exists, in the API's own
//! shape, for every kind alike; only the fields the API server sets are dropped (`clean`). The
//! state gives where each object is (apiVersion, kind, namespace, name) and Terraform's address.

use std::fmt::Write;

use serde_json::{Map, Value};

use super::tfstate::Object;
use crate::address::Address;

/// One Kubernetes object of the Terraform state.
#[derive(Debug, Clone)]
pub struct KubeObject {
    pub terraform: String,
    pub address: Address,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// `wait_for_rollout` of a deployment (the provider's default: true): the stack's `wait`.
    pub wait: bool,
    /// The live object without the server's fields, once read from the cluster.
    pub object: Option<Value>,
}

impl KubeObject {
    /// Where the object is, as `k8s_manifest` reads it (apiVersion, kind, metadata).
    pub fn reference(&self) -> Value {
        let mut metadata = Map::new();
        metadata.insert("name".into(), self.name.clone().into());
        if let Some(ns) = &self.namespace {
            metadata.insert("namespace".into(), ns.clone().into());
        }
        serde_json::json!({"apiVersion": self.api_version, "kind": self.kind, "metadata": metadata})
    }

    /// The template's path, relative to the stack file.
    pub fn template_path(&self) -> String {
        let mut parts = vec![self.kind.to_ascii_lowercase()];
        parts.extend(self.namespace.clone());
        parts.push(self.name.clone());
        format!("templates/imported/{}.yaml", parts.join("-"))
    }

    /// The template's text: a comment naming where it came from, then the object. None until
    /// the object was read.
    pub fn template(&self, source: &str) -> Option<String> {
        let object = self.object.as_ref()?;
        let mut o = String::new();
        let _ = writeln!(o, "# {} from `eksnet import --from-terraform {source}`: the object as the cluster served it,", self.terraform);
        let _ = writeln!(o, "# without the fields the API server sets (status, uid, resourceVersion, creationTimestamp,");
        let _ = writeln!(o, "# generation, managedFields, deployment.kubernetes.io/revision, …).");
        o.push_str(&serde_saphyr::to_string(object).unwrap_or_default());
        Some(o)
    }

    /// Takes the live object: the template is it, cleaned, and the address the one eksnet gives
    /// it (a `kubernetes_manifest` without a namespace lands in the one the API chose).
    pub fn took(&mut self, live: &Value) {
        let object = clean(live);
        self.namespace = object["metadata"]["namespace"].as_str().map(str::to_string);
        self.address = address(&self.kind, self.namespace.as_deref(), &self.name);
        self.object = Some(object);
    }
}

/// The address eksnet gives a manifest (stack::manifests: the kind in lower case, keyed
/// `namespace/name`, or `name` for an object without a namespace).
pub fn address(kind: &str, namespace: Option<&str>, name: &str) -> Address {
    let key = match namespace {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    };
    Address::keyed("k8s_manifest", &kind.to_ascii_lowercase(), &key)
}

/// The Kubernetes object a state object manages; None for other kinds of the provider.
pub fn from_state(o: &Object) -> Option<KubeObject> {
    let meta = o.block("metadata");
    let str_of = |v: &Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_string);
    let (api_version, kind, namespace, name, wait) = match o.kind() {
        "kubernetes_namespace" | "kubernetes_namespace_v1" => ("v1".to_string(), "Namespace".to_string(), None, str_of(&meta["name"])?, false),
        "kubernetes_deployment" | "kubernetes_deployment_v1" => (
            "apps/v1".to_string(),
            "Deployment".to_string(),
            Some(str_of(&meta["namespace"]).unwrap_or_else(|| "default".into())),
            str_of(&meta["name"])?,
            o.attr("wait_for_rollout").as_bool().unwrap_or(true),
        ),
        // `manifest` is a dynamic attribute: the object itself, or in the state's JSON
        // encoding of a dynamic value, `{"value": …, "type": …}` (terraform-provider-kubernetes
        // manifest/provider/resource.go: `manifest` and `object` are DynamicPseudoType).
        "kubernetes_manifest" => {
            let manifest = o.attr("manifest");
            let m = if manifest.get("type").is_some() && manifest.get("value").is_some() { &manifest["value"] } else { manifest };
            (str_of(&m["apiVersion"])?, str_of(&m["kind"])?, str_of(&m["metadata"]["namespace"]), str_of(&m["metadata"]["name"])?, false)
        }
        _ => return None,
    };
    let address = address(&kind, namespace.as_deref(), &name);
    Some(KubeObject { terraform: o.address.clone(), address, api_version, kind, namespace, name, wait, object: None })
}

/// Metadata the API server sets, never the author (Kubernetes API conventions, "Metadata").
const SERVER_METADATA: &[&str] =
    &["uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"];
/// Annotations and labels tools and the API server add: the Deployment controller's revision,
/// kubectl's last applied configuration, the namespace name label (set on every namespace).
const SERVER_ANNOTATIONS: &[&str] = &["deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"];
const SERVER_LABELS: &[&str] = &["kubernetes.io/metadata.name"];

/// The live object without what the API server sets: `status`, the server's metadata, and a
/// namespace's `spec.finalizers: [kubernetes]` (added to every namespace). Defaults the server
/// filled into `spec` stay: they are what the object is, and applying them changes nothing.
pub fn clean(live: &Value) -> Value {
    let mut o = live.clone();
    let Some(map) = o.as_object_mut() else { return o };
    map.remove("status");
    if let Some(meta) = map.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in SERVER_METADATA {
            meta.remove(*k);
        }
        for (key, drop) in [("annotations", SERVER_ANNOTATIONS), ("labels", SERVER_LABELS)] {
            if let Some(m) = meta.get_mut(key).and_then(Value::as_object_mut) {
                m.retain(|k, _| !drop.contains(&k.as_str()));
            }
            if meta.get(key).is_some_and(|m| m.as_object().is_none_or(Map::is_empty)) {
                meta.remove(key);
            }
        }
    }
    if map.get("kind").and_then(Value::as_str) == Some("Namespace") {
        let only_default = map.get("spec").is_some_and(|s| *s == serde_json::json!({"finalizers": ["kubernetes"]}) || *s == serde_json::json!({}));
        if only_default {
            map.remove("spec");
        }
    }
    o
}

/// Whether a string of the object holds `${`, which a stack's template reads as a reference.
pub fn has_reference(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains("${"),
        Value::Array(a) => a.iter().any(has_reference),
        Value::Object(m) => m.values().any(has_reference),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_server_fields_are_dropped_and_the_rest_kept() {
        let live = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "uid": "u", "resourceVersion": "7", "generation": 2,
                "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{"manager": "HashiCorp"}],
                "annotations": {"deployment.kubernetes.io/revision": "1"}, "labels": {"test": "MyExampleApp"}},
            "spec": {"replicas": 2, "revisionHistoryLimit": 10},
            "status": {"replicas": 2}
        });
        let want = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "labels": {"test": "MyExampleApp"}},
            "spec": {"replicas": 2, "revisionHistoryLimit": 10}
        });
        assert_eq!(clean(&live), want);
        let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "labels": {"kubernetes.io/metadata.name": "a"}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
        assert_eq!(clean(&ns), json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}));
    }

    #[test]
    fn a_kubernetes_manifest_is_the_object_its_manifest_names() {
        // `manifest` as the state's JSON encodes a dynamic value, and as the object itself.
        let object = r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}, "data": {"a": "b"}}"#;
        for manifest in [format!(r#"{{"value": {object}, "type": ["object", {{}}]}}"#), object.to_string()] {
            let text = format!(
                r#"{{"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "x", "outputs": {{}}, "resources": [
                  {{"mode": "managed", "type": "kubernetes_manifest", "name": "settings", "provider": "provider[\"registry.terraform.io/hashicorp/kubernetes\"]",
                    "instances": [{{"schema_version": 1, "attributes": {{"manifest": {manifest}}}}}]}}]}}"#
            );
            let state = super::super::tfstate::parse(&text, "t.tfstate").unwrap();
            let k = from_state(&state.objects()[0]).unwrap();
            assert_eq!(
                (k.terraform.as_str(), k.address.to_string()),
                ("kubernetes_manifest.settings", "k8s_manifest.configmap[\"shop/settings\"]".to_string())
            );
            assert_eq!(k.reference(), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}}));
        }
    }

    #[test]
    fn a_template_reads_back_as_the_object_at_its_address() {
        let mut k = KubeObject {
            terraform: "kubernetes_deployment.example".into(),
            address: address("Deployment", Some("shop"), "web"),
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: Some("shop".into()),
            name: "web".into(),
            wait: true,
            object: None,
        };
        // Strings that read as other YAML types stay strings.
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop", "labels": {"v": "1.10", "on": "yes"}},
            "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "web", "image": "nginx:latest", "args": ["true", "null", "#x"]}]}}}});
        k.took(&live);
        let text = k.template("terraform.tfstate").unwrap();
        let read: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(read, live, "{text}");
        assert_eq!(k.template_path(), "templates/imported/deployment-shop-web.yaml");
        assert_eq!(k.address.to_string(), "k8s_manifest.deployment[\"shop/web\"]");
        assert!(has_reference(&json!({"a": ["x", "${var.y}"]})) && !has_reference(&live));
    }
}
