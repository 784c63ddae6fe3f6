//! What changed outside eksnet: the state (what the last run recorded) against what refresh
//! sees now. `plan --refresh-only` shows it; `apply --refresh-only` records it, changing nothing
//! in AWS.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::address::Address;
use crate::plan::{Diff, diff};
use crate::provider::Observed;
use crate::state::State;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// Attributes differ from what the state recorded.
    Changed,
    /// In the state, but no longer exists: the state forgets it.
    Gone,
    /// Exists with the stack's tags but the state has no id for it (a run died after creating
    /// it, or the state was lost): the state adopts it.
    Found,
}

#[derive(Debug, Clone, Serialize)]
pub struct Drift {
    pub address: Address,
    pub kind: DriftKind,
    /// The object's id: the one found, or the one recorded for a vanished object.
    pub id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<Diff>,
}

/// Every difference between the state and the objects refresh observed, in address order.
pub fn drift(state: Option<&State>, observed: &BTreeMap<Address, Observed>) -> Vec<Drift> {
    let empty = BTreeMap::new();
    let recorded = state.map_or(&empty, |s| &s.resources);
    let mut out = vec![];
    for (address, record) in recorded {
        if let (Some(id), false) = (&record.id, observed.contains_key(address)) {
            out.push(Drift { address: address.clone(), kind: DriftKind::Gone, id: id.clone(), diffs: vec![] });
        }
    }
    for (address, now) in observed {
        let record = recorded.get(address).filter(|r| r.id.is_some());
        let drift = match record {
            None => Drift { address: address.clone(), kind: DriftKind::Found, id: now.id.clone(), diffs: vec![] },
            Some(r) => {
                // Old: what the state says; new: what is there now.
                let diffs = diff(&now.attrs, &r.attrs, &[]);
                if diffs.is_empty() && r.id.as_deref() == Some(now.id.as_str()) {
                    continue;
                }
                Drift { address: address.clone(), kind: DriftKind::Changed, id: now.id.clone(), diffs }
            }
        };
        out.push(drift);
    }
    out.sort_by(|a, b| a.address.cmp(&b.address));
    out
}

pub fn json(drifts: &[Drift]) -> serde_json::Value {
    serde_json::json!({ "format_version": crate::plan::FORMAT_VERSION, "refresh_only": true, "drift": drifts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Record;
    use serde_json::json;

    fn observed(id: &str, attrs: serde_json::Value) -> Observed {
        Observed { id: id.into(), attrs: attrs.as_object().unwrap().clone(), outputs: Default::default() }
    }

    fn record(id: Option<&str>, attrs: serde_json::Value) -> Record {
        Record { id: id.map(str::to_string), token: "t".into(), attrs: attrs.as_object().unwrap().clone(), outputs: Default::default(), deps: vec![] }
    }

    #[test]
    fn names_changed_gone_and_found_objects() {
        let mut state = State::new("s");
        let (rt, sn, vpc, same) = (Address::new("route_table", "private"), Address::new("subnet", "a"), Address::new("vpc", "main"), Address::new("vpc", "x"));
        state.resources.insert(rt.clone(), record(Some("rtb-1"), json!({"routes": [{"destination": "0.0.0.0/0", "nat_gateway_id": "nat-1"}]})));
        state.resources.insert(sn.clone(), record(Some("subnet-1"), json!({"cidr_block": "10.0.1.0/24"})));
        state.resources.insert(vpc.clone(), record(None, json!({})));
        state.resources.insert(same.clone(), record(Some("vpc-9"), json!({"cidr_block": "10.9.0.0/16"})));
        let mut seen = BTreeMap::new();
        seen.insert(rt.clone(), observed("rtb-1", json!({"routes": [{"destination": "0.0.0.0/0", "gateway_id": "igw-1"}]})));
        seen.insert(vpc.clone(), observed("vpc-1", json!({"cidr_block": "10.0.0.0/16"})));
        seen.insert(same.clone(), observed("vpc-9", json!({"cidr_block": "10.9.0.0/16"})));
        let d = drift(Some(&state), &seen);
        let kinds: Vec<(String, DriftKind)> = d.iter().map(|d| (d.address.to_string(), d.kind)).collect();
        assert_eq!(
            kinds,
            vec![("route_table.private".into(), DriftKind::Changed), ("subnet.a".into(), DriftKind::Gone), ("vpc.main".into(), DriftKind::Found)]
        );
        assert_eq!(d[0].diffs.len(), 1);
        assert_eq!(d[0].diffs[0].old, Some(json!([{"destination": "0.0.0.0/0", "nat_gateway_id": "nat-1"}])));
        let text = crate::render::text::drift(&d, &crate::render::style::plain);
        assert!(text.contains("- subnet.a  subnet-1  (deleted outside eksnet; the state forgets it)"), "{text}");
        assert!(text.contains("Refresh: 1 changed, 1 deleted, 1 found outside eksnet."), "{text}");
        assert!(drift(Some(&state), &BTreeMap::new()).iter().all(|d| d.kind == DriftKind::Gone));
    }
}
