//! The stack's outputs, read from the state: what users and CI scripts need to know.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::state::State;

pub fn outputs(state: &State, stack_file: &str) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut subnets: BTreeMap<String, Vec<(String, Value)>> = BTreeMap::new();
    let mut groups = serde_json::Map::new();
    let mut nats = serde_json::Map::new();
    for (address, record) in &state.resources {
        let Some(id) = &record.id else { continue };
        match address.kind.as_str() {
            "vpc" => {
                out.insert("vpc_id".into(), json!(id));
            }
            "subnet" => subnets.entry(address.name.clone()).or_default().push((address.key.clone().unwrap_or_default(), json!(id))),
            "security_group" => {
                groups.insert(address.name.clone(), json!(id));
            }
            "eks_cluster" => {
                for (key, name) in [
                    ("name", "cluster_name"),
                    ("arn", "cluster_arn"),
                    ("endpoint", "cluster_endpoint"),
                    ("cluster_security_group_id", "cluster_security_group_id"),
                ] {
                    if let Some(v) = record.outputs.get(key) {
                        out.insert(name.into(), v.clone());
                    }
                }
                out.insert("kubeconfig_command".into(), json!(format!("eksnet -f {} kubeconfig", stack_file)));
            }
            "nat_gateway" => {
                nats.insert(format!("{}_{}", address.name, address.key.clone().unwrap_or_default()), json!(id));
            }
            _ => {}
        }
    }
    for (tier, mut list) in subnets {
        list.sort_by(|a, b| a.0.cmp(&b.0));
        out.insert(format!("{tier}_subnet_ids"), Value::Array(list.into_iter().map(|(_, id)| id).collect()));
    }
    if !groups.is_empty() {
        out.insert("security_group_ids".into(), Value::Object(groups));
    }
    if !nats.is_empty() {
        out.insert("nat_gateway_ids".into(), Value::Object(nats));
    }
    out
}
