//! Kubernetes manifests from files and templates: YAML documents whose string values may hold
//! `${…}` references. References are resolved into the attribute tree (never spliced into YAML
//! text), so a value cannot inject structure; each reference becomes a graph edge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::address::Address;
use crate::diagnostic::{Diagnostic, Span};
use crate::value::{concatenation, reference};

/// One Kubernetes object the stack applies.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub address: Address,
    /// The object, with `$ref` / `$concat` markers where it refers to stack outputs.
    pub object: Value,
    pub wait: bool,
    pub needs_nodes: bool,
    /// Not deleted on destroy (e.g. the aws-node DaemonSet, which EKS owns).
    pub abandon_on_delete: bool,
}

/// Outputs other resources may reference: `id`, and what the kind's schema declares.
fn known_output(kind: &str, output: &str) -> bool {
    crate::resources::schema(kind).is_some_and(|s| s.has_output(output))
}

pub struct Context<'a> {
    pub stack: &'a str,
    pub region: &'a str,
    pub addresses: &'a BTreeSet<Address>,
    pub has_cluster: bool,
}

/// Resolves one `${expr}` to a value with reference markers, or says what is wrong.
fn reference_value(expr: &str, vars: &BTreeMap<String, Value>, cx: &Context) -> Result<Value, (String, String)> {
    let expr = expr.trim();
    if let Some(name) = expr.strip_prefix("var.") {
        return vars.get(name).cloned().ok_or_else(|| (format!("`${{{expr}}}`: no variable `{name}`"), format!("add `{name}` under this manifest's `vars`")));
    }
    match expr {
        "stack.name" => return Ok(json!(cx.stack)),
        "stack.region" => return Ok(json!(cx.region)),
        _ => {}
    }
    if let Some(output) = expr.strip_prefix("cluster.") {
        if !cx.has_cluster {
            return Err((format!("`${{{expr}}}` refers to the cluster, but the stack has none"), "add a `cluster:` section".into()));
        }
        if !known_output("eks_cluster", output) {
            return Err((
                format!("`${{{expr}}}`: the cluster has no output `{output}`"),
                "use cluster.name, cluster.arn, cluster.endpoint or cluster.cluster_security_group_id".into(),
            ));
        }
        return Ok(reference(&Address::new("eks_cluster", "main"), output));
    }
    let (address, output) = match expr.rfind("\"]") {
        Some(end) => (&expr[..end + 2], expr[end + 2..].strip_prefix('.').unwrap_or("")),
        None => expr.rsplit_once('.').unwrap_or((expr, "")),
    };
    let hint = "write `${kind.name.output}` (e.g. `${security_group.pods.id}`), `${subnet.intra[\"us-west-2a\"].id}`, `${cluster.name}`, `${stack.region}` or `${var.NAME}`";
    let Some(address) = Address::parse(address).filter(|_| !output.is_empty()) else {
        return Err((format!("`${{{expr}}}` is not a reference"), hint.into()));
    };
    if !cx.addresses.contains(&address) {
        return Err((format!("`${{{expr}}}` refers to `{address}`, which the stack does not define"), "`eksnet graph` lists the stack's addresses".into()));
    }
    if !known_output(&address.kind, output) {
        return Err((format!("`${{{expr}}}`: {} has no output `{output}`", address.kind), "every resource has `id`".into()));
    }
    Ok(reference(&address, output))
}

/// Replaces `${…}` in every string of `value`. A string that is one reference becomes the
/// referenced value itself (a number stays a number); references inside text concatenate.
fn substitute(value: &Value, resolve: &mut dyn FnMut(&str) -> Option<Value>) -> Value {
    match value {
        Value::String(s) if s.contains("${") => {
            let mut parts = vec![];
            let mut rest = s.as_str();
            while let Some(start) = rest.find("${") {
                let Some(len) = rest[start..].find('}') else { break };
                if start > 0 {
                    parts.push(json!(rest[..start]));
                }
                parts.push(resolve(&rest[start + 2..start + len]).unwrap_or(Value::Null));
                rest = &rest[start + len + 1..];
            }
            if !rest.is_empty() {
                parts.push(json!(rest));
            }
            if parts.len() == 1 { parts.pop().expect("one part") } else { concatenation(parts) }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| substitute(v, resolve)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, resolve))).collect()),
        other => other.clone(),
    }
}

/// Line and column (1-based) of the first occurrence of `needle` in `text`.
fn position(text: &str, needle: &str) -> Option<Span> {
    let at = text.find(needle)?;
    let line = text[..at].matches('\n').count() as u64 + 1;
    let column = (at - text[..at].rfind('\n').map_or(0, |n| n + 1)) as u64 + 1;
    Some(Span { line, column })
}

/// The files a manifest entry names: the file itself, or a directory's YAML files in name order.
fn files(path: &Path) -> std::io::Result<Vec<PathBuf>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml")).collect();
        files.sort();
        Ok(files)
    } else {
        std::fs::metadata(path).map(|_| vec![path.to_path_buf()])
    }
}

pub struct Entry<'a> {
    pub path: &'a Path,
    pub vars: &'a BTreeMap<String, Value>,
    pub wait: bool,
    pub needs_nodes: bool,
}

/// Loads one entry's objects; every problem becomes a diagnostic naming the template's line.
pub fn load(entry: &Entry, cx: &Context, problems: &mut Vec<Diagnostic>) -> Vec<Manifest> {
    let mut out = vec![];
    let list = match files(entry.path) {
        Ok(list) => list,
        Err(e) => {
            problems.push(
                Diagnostic::new(&entry.path.display().to_string(), None, format!("cannot read manifest: {e}")).hint("paths are relative to the stack file"),
            );
            return out;
        }
    };
    for file in list {
        let name = file.display().to_string();
        let text = match std::fs::read_to_string(&file) {
            Ok(t) => t,
            Err(e) => {
                problems.push(Diagnostic::new(&name, None, format!("cannot read manifest: {e}")));
                continue;
            }
        };
        out.extend(parse(&name, &text, entry, cx, problems));
    }
    out
}

pub fn parse(file: &str, text: &str, entry: &Entry, cx: &Context, problems: &mut Vec<Diagnostic>) -> Vec<Manifest> {
    let docs: Vec<Value> = match serde_saphyr::from_multiple(text) {
        Ok(docs) => docs,
        Err(e) => {
            let mut d = super::yaml_error(file, text, &e);
            d.message = format!("invalid manifest YAML: {}", d.message);
            problems.push(d);
            return vec![];
        }
    };
    let mut out = vec![];
    for doc in docs.into_iter().filter(|d| !d.is_null()) {
        let mut resolve = |expr: &str| match reference_value(expr, entry.vars, cx) {
            Ok(v) => Some(v),
            Err((message, hint)) => {
                problems.push(Diagnostic::new(file, position(text, &format!("${{{expr}}}")), message).hint(hint));
                None
            }
        };
        let object = substitute(&doc, &mut resolve);
        let kind = object["kind"].as_str().unwrap_or_default().to_string();
        let name = object["metadata"]["name"].as_str().map(str::to_string);
        if object["apiVersion"].as_str().is_none_or(str::is_empty) || kind.is_empty() || name.is_none() {
            let span = position(text, "kind:").or(Some(Span { line: 1, column: 1 }));
            problems.push(
                Diagnostic::new(file, span, "a manifest needs `apiVersion`, `kind` and `metadata.name` (as literal text)")
                    .hint("every Kubernetes object names its apiVersion, kind and name"),
            );
            continue;
        }
        let name = name.expect("checked");
        let key = match object["metadata"]["namespace"].as_str() {
            Some(ns) => format!("{ns}/{name}"),
            None => name,
        };
        out.push(Manifest {
            address: Address::keyed("k8s_manifest", &kind.to_ascii_lowercase(), &key),
            object,
            wait: entry.wait,
            needs_nodes: entry.needs_nodes,
            abandon_on_delete: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(addresses: &BTreeSet<Address>) -> Context<'_> {
        Context { stack: "demo", region: "us-west-2", addresses, has_cluster: true }
    }

    #[test]
    fn references_become_markers_and_values_cannot_inject_yaml() {
        let addresses: BTreeSet<Address> = [Address::new("security_group", "pods")].into();
        let vars: BTreeMap<String, Value> = [("replicas".to_string(), json!(2)), ("ns".to_string(), json!("a: b\nkind: Secret"))].into();
        let entry = Entry { path: Path::new("t.yaml"), vars: &vars, wait: false, needs_nodes: true };
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: ${var.ns}\ndata:\n  sg: ${security_group.pods.id}\n  n: ${var.replicas}\n  where: ${stack.region}-${cluster.name}\n";
        let mut problems = vec![];
        let got = parse("t.yaml", text, &entry, &cx(&addresses), &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let object = &got[0].object;
        assert_eq!(object["metadata"]["namespace"], "a: b\nkind: Secret");
        assert_eq!(object["kind"], "ConfigMap");
        assert_eq!(object["data"]["sg"], json!({"$ref": "security_group.pods#id"}));
        assert_eq!(object["data"]["n"], 2);
        assert_eq!(object["data"]["where"], json!({"$concat": ["us-west-2", "-", {"$ref": "eks_cluster.main#name"}]}));
        assert_eq!(got[0].address.to_string(), "k8s_manifest.configmap[\"a: b\\nkind: Secret/x\"]".replace("\\n", "\n"));
    }

    #[test]
    fn unknown_references_and_missing_kinds_name_the_line() {
        let addresses = BTreeSet::new();
        let vars = BTreeMap::new();
        let entry = Entry { path: Path::new("t.yaml"), vars: &vars, wait: false, needs_nodes: true };
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  sg: ${security_group.nope.id}\n---\napiVersion: v1\nmetadata:\n  name: y\n";
        let mut problems = vec![];
        parse("t.yaml", text, &entry, &cx(&addresses), &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].message.contains("`security_group.nope`, which the stack does not define"), "{}", problems[0].message);
        assert_eq!(problems[0].span, Some(Span { line: 6, column: 7 }));
        assert!(problems[1].message.contains("needs `apiVersion`, `kind` and `metadata.name`"));
    }
}
