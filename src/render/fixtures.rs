//! Plans of the reference stack made without AWS: the real planner with the real resource
//! schemas, against an "observed" world built from the stack itself.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::address::Address;
use crate::graph::Graph;
use crate::plan::{Inputs, Plan, plan};
use crate::provider::Desired;
use crate::provider::{Observed, Provider};
use crate::resources::{Aws, Polling};
use crate::state::{Record, State};
use crate::value::resolve_attrs;

pub struct Reference {
    pub name: String,
    pub region: String,
    pub desired: Vec<Desired>,
    stack: crate::stack::Stack,
    aws: Aws,
}

pub fn reference() -> Reference {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/custom-networking.yaml");
    let stack = crate::stack::load(&path, &crate::stack::Overrides { region: None }).expect("the reference stack is valid");
    // The planner only asks the provider for schemas and normalization; no call is made.
    let aws = Aws::new(aws_config::SdkConfig::builder().build(), &stack.name, Polling::default(), false);
    Reference { desired: stack.desired(), name: stack.name.clone(), region: stack.region.clone(), stack, aws }
}

/// A stable fake value for an output (`subnet-1f0c…` for an id).
fn fake(address: &Address, output: &str) -> Value {
    let text = format!("{address}#{output}");
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    let prefix = match address.kind.as_str() {
        "vpc" => "vpc",
        "subnet" => "subnet",
        "security_group" => "sg",
        "internet_gateway" => "igw",
        "nat_gateway" => "nat",
        "elastic_ip" => "eipalloc",
        "route_table" => "rtb",
        _ => "id",
    };
    match output {
        "id" => json!(format!("{prefix}-{:017x}", hash & 0x0fff_ffff_ffff_ffff)),
        "cluster_security_group_id" => json!(format!("sg-{:017x}", hash & 0x0fff_ffff_ffff_ffff)),
        _ => json!(format!("{output}-{:08x}", hash & 0xffff_ffff)),
    }
}

impl Reference {
    /// Every resource of the stack as if it had been applied: attributes as desired, with
    /// references resolved to fake outputs.
    pub fn everything_exists(&self) -> BTreeMap<Address, Observed> {
        let graph = Graph::build(&self.desired).expect("acyclic");
        let mut wanted: BTreeMap<Address, Vec<String>> = BTreeMap::new();
        for d in &self.desired {
            let mut refs = vec![];
            collect_refs(&Value::Object(d.attrs.clone()), &mut refs);
            for (a, o) in refs {
                wanted.entry(a).or_default().push(o);
            }
        }
        let mut out = BTreeMap::new();
        for address in graph.order() {
            let d = self.desired.iter().find(|d| &d.address == address).expect("in the graph");
            let mut attrs = resolve_attrs(&d.attrs, &|a, o| Some(fake(a, o)));
            self.aws.normalize(&address.kind, &mut attrs);
            let mut outputs = serde_json::Map::new();
            outputs.insert("id".into(), fake(address, "id"));
            for o in wanted.get(address).into_iter().flatten() {
                outputs.insert(o.clone(), fake(address, o));
            }
            let id = outputs["id"].as_str().unwrap().to_string();
            out.insert(address.clone(), Observed { id, attrs, outputs });
        }
        out
    }

    pub fn state(&self, observed: &BTreeMap<Address, Observed>) -> State {
        let mut state = State::new(&self.name);
        state.lineage = "8a3f2c1e-5b7d-4e0a-9c6f-1d2e3f4a5b6c".into();
        state.serial = 41;
        for (a, o) in observed {
            let record = Record { id: Some(o.id.clone()), token: format!("token-{a}"), attrs: o.attrs.clone(), outputs: o.outputs.clone(), deps: vec![] };
            state.resources.insert(a.clone(), record);
        }
        state
    }

    pub fn plan(&self, state: Option<&State>, observed: &BTreeMap<Address, Observed>, destroy: bool) -> Plan {
        let inputs = Inputs { stack: &self.name, desired: &self.desired, state, observed, destroy, replace: &[] };
        let mut p = plan(&self.aws, &inputs);
        p.region = self.region.clone();
        // localcloud's account, as STS GetCallerIdentity names it.
        p.account = Some("123456789012".into());
        if !destroy {
            // c5.large as DescribeInstanceTypes reports it: 3 ENIs of 10 addresses.
            let c5 = crate::provider::InstanceNetwork { max_enis: 3, ipv4_per_eni: 10 };
            p.capacity = crate::capacity::capacity(&self.stack, &|t| (t == "c5.large").then_some(c5));
        }
        p
    }

    /// The first plan: nothing exists, no state.
    pub fn first_plan(&self) -> Plan {
        self.plan(None, &BTreeMap::new(), false)
    }

    /// A plan after changes on both sides: a public subnet's CIDR edited in the stack (a
    /// replace that ripples into what references the subnet), the nodegroup scaled in the
    /// console, a tag added to the VPC by hand, an intra subnet deleted outside eksnet, and a
    /// security group the stack no longer defines.
    pub fn change_plan(&self) -> Plan {
        let mut observed = self.everything_exists();
        let state = self.state(&observed);
        let subnet = Address::keyed("subnet", "public", "ap-southeast-2a");
        observed.get_mut(&subnet).unwrap().attrs.insert("cidr_block".into(), json!("10.0.7.0/24"));
        let nodegroup = observed.get_mut(&Address::new("eks_nodegroup", "default")).unwrap();
        nodegroup.attrs["scaling"]["max"] = json!(4);
        observed.get_mut(&Address::new("vpc", "main")).unwrap().attrs["tags"]["owner"] = json!("someone-in-the-console");
        observed.remove(&Address::keyed("subnet", "intra", "ap-southeast-2c"));
        let legacy = Address::new("security_group", "legacy");
        observed.insert(
            legacy.clone(),
            Observed {
                id: "sg-0legacy000000000".into(),
                attrs: json!({"name": "legacy", "vpc_id": observed[&Address::new("vpc", "main")].id}).as_object().unwrap().clone(),
                outputs: Default::default(),
            },
        );
        self.plan(Some(&state), &observed, false)
    }

    /// A private subnet's CIDR edited in the stack: the subnet is replaced, the cluster takes
    /// the new subnet in place, and the nodegroup in it is replaced: a plan that says so first.
    pub fn nodegroup_replacement_plan(&self) -> Plan {
        let mut observed = self.everything_exists();
        let state = self.state(&observed);
        let subnet = Address::keyed("subnet", "private", "ap-southeast-2c");
        observed.get_mut(&subnet).unwrap().attrs.insert("cidr_block".into(), json!("10.0.9.0/24"));
        self.plan(Some(&state), &observed, false)
    }

    pub fn destroy_plan(&self) -> Plan {
        let observed = self.everything_exists();
        let state = self.state(&observed);
        self.plan(Some(&state), &observed, true)
    }
}

fn collect_refs(v: &Value, out: &mut Vec<(Address, String)>) {
    if let Some(text) = v.as_object().filter(|m| m.len() == 1).and_then(|m| m.get("$ref")).and_then(Value::as_str) {
        if let Some((a, o)) = text.rsplit_once('#').and_then(|(a, o)| Some((Address::parse(a)?, o.to_string()))) {
            out.push((a, o));
        }
        return;
    }
    match v {
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}
