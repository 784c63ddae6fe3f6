//! Ownership: which cloud objects are this stack's, and which state manages them.
//!
//! Many stacks and many states share one account and region (CI pipelines create test clusters
//! side by side). A server-side filter is a hint, not a guarantee: an emulator, an API that
//! ignores a filter, or a filter on the wrong key would hand eksnet another stack's objects,
//! and eksnet would then change or delete them. So every object refresh returns is checked here,
//! on eksnet's side, against the marks eksnet put on it when it created it:
//!
//! - `eksnet:stack` (Kubernetes: the label `eksnet.io/stack`): the stack it belongs to.
//!   An object of a taggable kind without this stack's mark is not this stack's: dropped.
//!   Kinds without tags of their own (`Schema::derived`) are found through their parent
//!   (a route table association through its subnet, an add-on through its cluster), and their
//!   parents passed this check first, or were recorded in the state.
//! - `eksnet:lineage` (label `eksnet.io/lineage`): the state that manages it (its lineage).
//!   An object of this stack under another lineage is owned by another state: refresh stops
//!   before any change and says so, unless the user takes it over deliberately. An object
//!   without a lineage mark predates lineage marks: it is adopted as before, and the next
//!   apply marks it (the plan shows the tag being added).

use serde_json::Value;

use crate::address::Address;
use crate::provider::{Observed, Schema};
use crate::value::Attrs;

pub const STACK_TAG: &str = "eksnet:stack";
pub const ADDRESS_TAG: &str = "eksnet:address";
pub const LINEAGE_TAG: &str = "eksnet:lineage";
pub const STACK_LABEL: &str = "eksnet.io/stack";
pub const LINEAGE_LABEL: &str = "eksnet.io/lineage";
pub const ADDRESS_ANNOTATION: &str = "eksnet.io/address";

/// The `eksnet:address` tag value of an address. Tag values on AWS allow only letters, digits,
/// spaces and `+ - = . _ : / @` (EKS refuses anything else: "Tag values … may only contain
/// letters, numbers, spaces and the following characters: + - = . _ : / @",
/// https://docs.aws.amazon.com/eks/latest/userguide/eks-using-tags.html#tag-restrictions;
/// EC2 and IAM advise the same set, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_Tags.html#tag-restrictions),
/// so `kind.name["key"]` is written `kind.name:key`, and in the key every other character (and
/// `=` itself) as `=XX` per UTF-8 byte. An address without a key is written as it is.
pub fn encode_address(address: &Address) -> String {
    let head = format!("{}.{}", address.kind, address.name);
    let Some(key) = &address.key else { return head };
    let mut out = head;
    out.push(':');
    for c in key.chars() {
        if c.is_ascii_alphanumeric() || " +-._:/@".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("={b:02X}"));
            }
        }
    }
    out
}

/// The address an `eksnet:address` tag value names: `encode_address`'s form, or the plain
/// `kind.name["key"]` that objects tagged before the encoding carry.
pub fn decode_address(value: &str) -> Option<Address> {
    if value.contains("[\"") {
        return Address::parse(value);
    }
    let Some((head, key)) = value.split_once(':') else { return Address::parse(value) };
    let head = Address::parse(head)?;
    let bytes = key.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' {
            let hex = key.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(Address::keyed(&head.kind, &head.name, &String::from_utf8(out).ok()?))
}

/// The marks an object carries, read from its attributes: `tags` for AWS objects, the
/// manifest's `metadata.labels` for Kubernetes objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Marks<'a> {
    pub stack: Option<&'a str>,
    pub lineage: Option<&'a str>,
}

fn get<'a>(map: Option<&'a Value>, key: &str) -> Option<&'a str> {
    map.and_then(|m| m.get(key)).and_then(Value::as_str)
}

pub fn marks(attrs: &Attrs) -> Marks<'_> {
    if let Some(tags) = attrs.get("tags").filter(|t| t.is_object()) {
        return Marks { stack: get(Some(tags), STACK_TAG), lineage: get(Some(tags), LINEAGE_TAG) };
    }
    let labels = attrs.get("object").map(|o| &o["metadata"]["labels"]).filter(|l| l.is_object());
    Marks { stack: get(labels, STACK_LABEL), lineage: get(labels, LINEAGE_LABEL) }
}

/// Puts the state's lineage on every desired object that carries ownership marks, so that what
/// this state creates says which state manages it, and what it adopts gets the mark on the next
/// apply.
pub fn mark(desired: &mut [crate::provider::Desired], lineage: &str) {
    for d in desired {
        if let Some(tags) = d.attrs.get_mut("tags").and_then(Value::as_object_mut).filter(|t| t.contains_key(STACK_TAG)) {
            tags.insert(LINEAGE_TAG.into(), lineage.into());
        } else if let Some(labels) =
            d.attrs.get_mut("object").and_then(|o| o["metadata"].get_mut("labels")).and_then(Value::as_object_mut).filter(|l| l.contains_key(STACK_LABEL))
        {
            labels.insert(LINEAGE_LABEL.into(), lineage.into());
        }
    }
}

/// The attributes of an object with eksnet's marks changed, as a kind's `update` takes them (it
/// changes tags and labels as it does for any other edit): `to` None takes every mark off (the
/// tags `eksnet:*`; the labels `eksnet.io/*` and the address annotation), so that nothing that
/// finds objects by their marks (refresh, `state rebuild`, `destroy --from-tags`, `sweep`) takes
/// the object for the stack's again; `to` names the address it is marked with instead. None for
/// an object without marks of its own (a kind found through its parent).
pub fn remarked(attrs: &Attrs, to: Option<&Address>) -> Option<Attrs> {
    let mut out = attrs.clone();
    if let Some(tags) = out.get_mut("tags").and_then(Value::as_object_mut).filter(|t| t.contains_key(STACK_TAG)) {
        match to {
            None => tags.retain(|k, _| !k.starts_with("eksnet:")),
            Some(address) => {
                tags.insert(ADDRESS_TAG.into(), address.to_string().into());
            }
        }
        return Some(out);
    }
    let meta = out.get_mut("object").and_then(|o| o.get_mut("metadata")).and_then(Value::as_object_mut)?;
    let labels = meta.get_mut("labels").and_then(Value::as_object_mut).filter(|l| l.contains_key(STACK_LABEL))?;
    match to {
        None => {
            labels.retain(|k, _| !k.starts_with("eksnet.io/"));
            if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                annotations.remove(ADDRESS_ANNOTATION);
            }
        }
        Some(address) => {
            let annotations = meta.entry("annotations").or_insert_with(|| Value::Object(Default::default()));
            annotations[ADDRESS_ANNOTATION] = address.to_string().into();
        }
    }
    Some(out)
}

/// Whose objects a refresh may keep.
#[derive(Debug, Clone)]
pub struct Owner {
    pub stack: String,
    pub lineage: String,
    /// Adopt objects of this stack that another state manages (`--take-over`).
    pub take_over: bool,
}

/// What the check says of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// This stack's, under this state (or predating lineage marks, or taken over).
    Ours,
    /// Not this stack's: never read, changed or deleted.
    NotOurs,
    /// This stack's, managed by the state of this lineage.
    OtherState(String),
}

impl Owner {
    /// `schema`: the object's kind; `owned`: whether an id is of an object this stack owns (one
    /// the state recorded, or that passed this check earlier in the refresh).
    pub fn judge(&self, schema: &Schema, observed: &Observed, owned: impl Fn(&str) -> bool) -> Verdict {
        let m = marks(&observed.attrs);
        match (m.stack, schema.parent) {
            (Some(s), _) if s != self.stack => return Verdict::NotOurs,
            (Some(_), _) => {}
            (None, Some(parent)) => {
                if !observed.attrs.get(parent).and_then(Value::as_str).is_some_and(&owned) {
                    return Verdict::NotOurs;
                }
            }
            // A Kubernetes object read without its labels in view, found in the stack's cluster.
            (None, None) if schema.derived => {}
            (None, None) => return Verdict::NotOurs,
        }
        match m.lineage {
            Some(l) if l != self.lineage && !self.take_over => Verdict::OtherState(l.to_string()),
            _ => Verdict::Ours,
        }
    }
}

/// Objects of the stack that another state manages, found by a refresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Foreign {
    pub address: Address,
    pub id: String,
    pub lineage: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_tags_hold_only_what_aws_allows_and_read_back() {
        let allowed = |v: &str| v.chars().all(|c| c.is_ascii_alphanumeric() || " +-=._:/@".contains(c));
        for text in ["vpc.main", "subnet.intra[\"ap-southeast-2a\"]", "eks_access_entry.admin[\"arn:aws:iam::1:role/x\"]", "k.n[\"a=b [c]\\\"é\"]"] {
            let address = Address::parse(text).unwrap();
            let tag = encode_address(&address);
            assert!(allowed(&tag), "{tag}");
            assert_eq!(decode_address(&tag), Some(address.clone()), "{tag}");
            // Objects tagged before the encoding still read back.
            assert_eq!(decode_address(text), Some(address));
        }
        assert_eq!(
            encode_address(&Address::parse("eks_access_entry.admin[\"arn:aws:iam::1:role/x\"]").unwrap()),
            "eks_access_entry.admin:arn:aws:iam::1:role/x"
        );
        assert_eq!(decode_address("vpc.main:=Z"), None);
    }
    use serde_json::json;

    fn obj(attrs: Value) -> Observed {
        let Value::Object(attrs) = attrs else { unreachable!() };
        Observed { id: "x-1".into(), attrs, outputs: Attrs::new() }
    }

    const TAGGED: Schema = Schema::tagged("");
    const FOUND_IN_CLUSTER: Schema = Schema::derived("");
    const CHILD: Schema = Schema::derived("").parent("subnet_id");

    fn mine(id: &str) -> bool {
        id == "subnet-1"
    }

    fn owner(take_over: bool) -> Owner {
        Owner { stack: "one".into(), lineage: "L1".into(), take_over }
    }

    #[test]
    fn another_stacks_object_is_never_ours_whatever_a_filter_returned() {
        let other = obj(json!({"tags": {"eksnet:stack": "two", "eksnet:lineage": "L1"}}));
        assert_eq!(owner(false).judge(&TAGGED, &other, mine), Verdict::NotOurs);
        assert_eq!(owner(true).judge(&FOUND_IN_CLUSTER, &other, mine), Verdict::NotOurs);
        let label = obj(json!({"object": {"metadata": {"labels": {"eksnet.io/stack": "two"}}}}));
        assert_eq!(owner(false).judge(&FOUND_IN_CLUSTER, &label, mine), Verdict::NotOurs);
    }

    #[test]
    fn an_unmarked_object_is_ours_only_through_a_parent_we_own() {
        let bare = obj(json!({"tags": {"Name": "x"}}));
        assert_eq!(owner(false).judge(&TAGGED, &bare, mine), Verdict::NotOurs);
        let association = obj(json!({"subnet_id": "subnet-1"}));
        assert_eq!(owner(false).judge(&CHILD, &association, mine), Verdict::Ours);
        let theirs = obj(json!({"subnet_id": "subnet-2"}));
        assert_eq!(owner(false).judge(&CHILD, &theirs, mine), Verdict::NotOurs);
    }

    #[test]
    fn lineage_decides_between_states_and_take_over_adopts() {
        let ours = obj(json!({"tags": {"eksnet:stack": "one", "eksnet:lineage": "L1"}}));
        let theirs = obj(json!({"tags": {"eksnet:stack": "one", "eksnet:lineage": "L2"}}));
        let legacy = obj(json!({"tags": {"eksnet:stack": "one"}}));
        assert_eq!(owner(false).judge(&TAGGED, &ours, mine), Verdict::Ours);
        assert_eq!(owner(false).judge(&TAGGED, &theirs, mine), Verdict::OtherState("L2".into()));
        assert_eq!(owner(true).judge(&TAGGED, &theirs, mine), Verdict::Ours);
        assert_eq!(owner(false).judge(&TAGGED, &legacy, mine), Verdict::Ours);
        let pod = obj(json!({"object": {"metadata": {"labels": {"eksnet.io/stack": "one", "eksnet.io/lineage": "L2"}}}}));
        assert_eq!(owner(false).judge(&FOUND_IN_CLUSTER, &pod, mine), Verdict::OtherState("L2".into()));
    }

    #[test]
    fn remarked_takes_every_mark_off_or_names_another_address() {
        let tagged = obj(json!({"cidr_block": "10.0.0.0/16", "tags": {"eksnet:stack": "one", "eksnet:address": "vpc.main", "eksnet:lineage": "L1", "eksnet:expires-at": "2026-01-01T00:00:00Z", "team": "x"}})).attrs;
        let forgotten = remarked(&tagged, None).unwrap();
        assert_eq!(forgotten["tags"], json!({"team": "x"}));
        assert_eq!(forgotten["cidr_block"], tagged["cidr_block"], "only the marks change");
        assert_eq!(marks(&forgotten), Marks::default());
        let moved = remarked(&tagged, Some(&Address::new("vpc", "core"))).unwrap();
        assert_eq!(moved["tags"]["eksnet:address"], "vpc.core");
        assert_eq!(marks(&moved), marks(&tagged));

        let labelled = obj(json!({"object": {"metadata": {"name": "web", "labels": {"eksnet.io/stack": "one", "eksnet.io/lineage": "L1", "app": "web"}, "annotations": {"eksnet.io/address": "k8s_manifest.web", "note": "n"}}}})).attrs;
        let forgotten = remarked(&labelled, None).unwrap();
        assert_eq!(forgotten["object"]["metadata"], json!({"name": "web", "labels": {"app": "web"}, "annotations": {"note": "n"}}));
        let moved = remarked(&labelled, Some(&Address::new("k8s_manifest", "site"))).unwrap();
        assert_eq!(moved["object"]["metadata"]["annotations"]["eksnet.io/address"], "k8s_manifest.site");
        assert_eq!(moved["object"]["metadata"]["labels"], labelled["object"]["metadata"]["labels"]);

        assert_eq!(remarked(&obj(json!({"vpc_id": "vpc-1", "cidr_block": "100.64.0.0/16"})).attrs, None), None, "a kind without marks of its own");
    }

    #[test]
    fn mark_adds_the_lineage_where_the_stack_mark_is() {
        let mut desired = vec![
            crate::provider::Desired::new(Address::new("vpc", "main"), obj(json!({"tags": {"eksnet:stack": "one"}})).attrs, vec![]),
            crate::provider::Desired::new(Address::new("vpc_cidr", "x"), obj(json!({"cidr_block": "100.64.0.0/16"})).attrs, vec![]),
            crate::provider::Desired::new(
                Address::new("k8s_manifest", "ns"),
                obj(json!({"object": {"metadata": {"labels": {"eksnet.io/stack": "one"}}}})).attrs,
                vec![],
            ),
        ];
        mark(&mut desired, "L9");
        assert_eq!(marks(&desired[0].attrs), Marks { stack: Some("one"), lineage: Some("L9") });
        assert!(!desired[1].attrs.contains_key("tags"));
        assert_eq!(marks(&desired[2].attrs).lineage, Some("L9"));
    }
}
