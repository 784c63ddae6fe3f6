//! Attribute values. Desired attributes may hold references to another resource's output,
//! written as `{"$ref": "<address>#<output>"}`; they are resolved against recorded outputs.
//! A reference to an output that does not exist yet resolves to `{"$unknown": "<ref>"}`.

use serde_json::{Map, Value, json};

use crate::address::Address;

pub type Attrs = Map<String, Value>;

pub fn reference(address: &Address, output: &str) -> Value {
    json!({ "$ref": format!("{address}#{output}") })
}

fn as_ref(value: &Value) -> Option<(Address, &str)> {
    let text = value.as_object().filter(|m| m.len() == 1)?.get("$ref")?.as_str()?;
    let (address, output) = text.rsplit_once('#')?;
    Some((Address::parse(address)?, output))
}

pub fn is_unknown(value: &Value) -> bool {
    value.as_object().is_some_and(|m| m.len() == 1 && m.contains_key("$unknown"))
}

pub fn contains_unknown(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(contains_unknown),
        Value::Object(map) => is_unknown(value) || map.values().any(contains_unknown),
        _ => false,
    }
}

/// Every resource a value refers to.
pub fn references(value: &Value, out: &mut Vec<Address>) {
    if let Some((address, _)) = as_ref(value) {
        if !out.contains(&address) {
            out.push(address);
        }
        return;
    }
    match value {
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        Value::Object(map) => map.values().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// Replaces references by the outputs `lookup` knows, and by `$unknown` markers otherwise.
pub fn resolve(value: &Value, lookup: &dyn Fn(&Address, &str) -> Option<Value>) -> Value {
    if let Some((address, output)) = as_ref(value) {
        return lookup(&address, output).unwrap_or_else(|| json!({ "$unknown": format!("{address}.{output}") }));
    }
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|v| resolve(v, lookup)).collect()),
        Value::Object(map) if map.len() == 1 && map.contains_key("$concat") => concat(&resolve(&map["$concat"], lookup)),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), resolve(v, lookup))).collect()),
        other => other.clone(),
    }
}

/// `{"$concat": [parts]}`: a string with references inside (e.g. `arn:…/${cluster.name}`).
pub fn concatenation(parts: Vec<Value>) -> Value {
    json!({ "$concat": parts })
}

fn concat(parts: &Value) -> Value {
    let parts = parts.as_array().map(Vec::as_slice).unwrap_or_default();
    if let Some(unknown) = parts.iter().find(|p| is_unknown(p)) {
        return unknown.clone();
    }
    Value::String(
        parts
            .iter()
            .map(|p| match p {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect(),
    )
}

pub fn resolve_attrs(attrs: &Attrs, lookup: &dyn Fn(&Address, &str) -> Option<Value>) -> Attrs {
    attrs.iter().map(|(k, v)| (k.clone(), resolve(v, lookup))).collect()
}

/// Short human rendering of a value for plans.
pub fn render(value: &Value) -> String {
    if is_unknown(value) {
        return "(known after apply)".into();
    }
    match value {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "null".into(),
        Value::Array(items) => format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(", ")),
        Value::Object(map) => format!("{{{}}}", map.iter().map(|(k, v)| format!("{k} = {}", render(v))).collect::<Vec<_>>().join(", ")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_known_and_marks_unknown_references() {
        let vpc = Address::new("vpc", "main");
        let nat = Address::new("nat_gateway", "public");
        let value = json!({"vpc_id": reference(&vpc, "id"), "routes": [{"nat": reference(&nat, "id")}]});
        let mut refs = vec![];
        references(&value, &mut refs);
        assert_eq!(refs, vec![vpc.clone(), nat]);
        let resolved = resolve(&value, &|a, o| (a == &vpc && o == "id").then(|| json!("vpc-1")));
        assert_eq!(resolved["vpc_id"], "vpc-1");
        assert!(is_unknown(&resolved["routes"][0]["nat"]));
        assert!(contains_unknown(&resolved));
        assert_eq!(render(&resolved["routes"][0]["nat"]), "(known after apply)");
        let joined = concatenation(vec![json!("sg="), reference(&vpc, "id"), json!("/"), json!(2)]);
        assert_eq!(resolve(&joined, &|_, _| Some(json!("vpc-1"))), json!("sg=vpc-1/2"));
        assert!(is_unknown(&resolve(&joined, &|_, _| None)));
    }
}
