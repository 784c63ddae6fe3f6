//! Small helpers every kind uses to read attributes and build what it observed.

use crate::provider::{ApiError, Observed, Result};
use crate::value::Attrs;

/// `{"id": id}` plus extra outputs.
pub(crate) fn outputs(id: &str, extra: &[(&str, &str)]) -> Attrs {
    let mut out = Attrs::new();
    out.insert("id".into(), id.into());
    for (k, v) in extra {
        out.insert((*k).into(), (*v).into());
    }
    out
}

/// Treats "already gone" as done: EC2's not-found codes all end in `NotFound`.
pub(crate) fn gone_ok<T>(result: Result<T>) -> Result<()> {
    match result {
        Err(e) if e.code.ends_with("NotFound") => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Builds an `Observed` from a `json!({...})` object.
pub(crate) fn observed(id: &str, attrs: serde_json::Value, extra_outputs: &[(&str, &str)]) -> Observed {
    let serde_json::Value::Object(attrs) = attrs else { unreachable!("attributes are objects") };
    Observed { id: id.into(), attrs, outputs: outputs(id, extra_outputs) }
}

/// A list of strings attribute (e.g. subnet ids).
pub(crate) fn strings(attrs: &Attrs, key: &str) -> Vec<String> {
    attrs.get(key).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// A map-of-strings attribute (tags, labels) as the SDKs take it.
pub(crate) fn string_map(attrs: &Attrs, key: &str) -> std::collections::HashMap<String, String> {
    attrs
        .get(key)
        .and_then(|v| v.as_object())
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

pub(crate) fn attr_str<'a>(attrs: &'a Attrs, key: &str) -> Result<&'a str> {
    attrs.get(key).and_then(|v| v.as_str()).ok_or_else(|| ApiError::new("MissingAttribute", format!("attribute `{key}` is missing or unresolved")))
}
