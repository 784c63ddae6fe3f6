//! Tags: how eksnet marks what it owns, and finds it again after a crash.

use aws_sdk_ec2::types::{Filter, ResourceType, Tag, TagSpecification};
use serde_json::{Map, Value};

use super::Session;
use crate::address::Address;
use crate::provider::Result;
use crate::value::Attrs;

pub use crate::ownership::{ADDRESS_TAG as ADDRESS, STACK_TAG as STACK};

fn pairs(attrs: &Attrs) -> Vec<(String, String)> {
    attrs
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

fn tag(k: &str, v: &str) -> Tag {
    Tag::builder().key(k).value(to_aws(k, v)).build()
}

/// A tag value as sent to AWS: the `eksnet:address` value in the form AWS accepts
/// (`ownership::encode_address`), every other value as it is.
pub fn to_aws(key: &str, value: &str) -> String {
    match (key == ADDRESS).then(|| Address::parse(value)).flatten() {
        Some(address) => crate::ownership::encode_address(&address),
        None => value.to_string(),
    }
}

/// A tag value as read from AWS, in the stack's terms (the inverse of `to_aws`).
pub fn from_aws(key: &str, value: &str) -> String {
    match (key == ADDRESS).then(|| crate::ownership::decode_address(value)).flatten() {
        Some(address) => address.to_string(),
        None => value.to_string(),
    }
}

/// EKS tags of `attrs` as the create and TagResource calls take them.
pub fn eks(attrs: &Attrs) -> std::collections::HashMap<String, String> {
    super::string_map(attrs, "tags")
        .into_iter()
        .map(|(k, v)| {
            let v = to_aws(&k, &v);
            (k, v)
        })
        .collect()
}

/// Observed EKS tags as an attribute (the address decoded).
pub fn eks_observed(tags: Option<&std::collections::HashMap<String, String>>) -> Value {
    Value::Object(tags.into_iter().flatten().map(|(k, v)| (k.clone(), Value::from(from_aws(k, v)))).collect())
}

/// The address an EKS object's tags name.
pub fn eks_address(tags: Option<&std::collections::HashMap<String, String>>) -> Option<Address> {
    tags.and_then(|t| t.get(ADDRESS)).and_then(|v| crate::ownership::decode_address(v))
}

/// Tags applied in the create call itself, so no object ever exists untagged.
pub fn spec(kind: ResourceType, attrs: &Attrs) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).set_tags(Some(pairs(attrs).iter().map(|(k, v)| tag(k, v)).collect())).build()
}

/// Observed tags as an attribute, without the ones AWS manages.
pub fn observed(tags: &[Tag]) -> Value {
    let mut map = Map::new();
    for t in tags {
        let (Some(k), Some(v)) = (t.key(), t.value()) else {
            continue;
        };
        if !k.starts_with("aws:") {
            map.insert(k.into(), from_aws(k, v).into());
        }
    }
    Value::Object(map)
}

pub fn address_of(tags: &[Tag]) -> Option<Address> {
    tags.iter().find(|t| t.key() == Some(ADDRESS)).and_then(|t| t.value()).and_then(crate::ownership::decode_address)
}

/// The filter that finds every object of the stack.
pub fn stack_filter(stack: &str) -> Filter {
    Filter::builder().name(format!("tag:{STACK}")).values(stack).build()
}

/// Makes the object's tags those of `attrs`: adds and changes, then removes the rest.
pub async fn sync(cx: &Session, id: &str, current: &Attrs, attrs: &Attrs) -> Result<()> {
    let old = pairs(current);
    let new = pairs(attrs);
    let set: Vec<Tag> = new.iter().filter(|p| !old.contains(p)).map(|(k, v)| tag(k, v)).collect();
    let unset: Vec<Tag> = old.iter().filter(|(k, _)| !new.iter().any(|(nk, _)| nk == k)).map(|(k, _)| Tag::builder().key(k).build()).collect();
    if !set.is_empty() {
        cx.ec2().create_tags().resources(id).set_tags(Some(set)).send().await?;
    }
    if !unset.is_empty() {
        cx.ec2().delete_tags().resources(id).set_tags(Some(unset)).send().await?;
    }
    Ok(())
}
