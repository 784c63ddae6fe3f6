//! The plan: desired (stack) against observed (refresh) and recorded (state), as a list of
//! changes. It is the contract: `apply` executes exactly the plan it showed or was given.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::address::Address;
use crate::graph::Graph;
use crate::provider::{Desired, Observed, Provider, Schema};
use crate::state::State;
use crate::value::{Attrs, contains_unknown, render, resolve_attrs};

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
    NoOp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diff {
    /// `cidr_block`, or `tags["Name"]` for one entry of a map.
    pub attribute: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
    pub forces_replacement: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub address: Address,
    pub action: Action,
    /// Why, when it is not obvious: "was deleted outside eksnet", "cidr_block changed".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// A one-line description (e.g. the CIDR).
    pub summary: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<Diff>,
    /// The existing objects this one depends on (for the order of deletes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub existing_deps: Vec<Address>,
    /// For a knock-on replacement: the replaced object that forces it (its new outputs are not
    /// known until it exists), so the plan can name the root cause.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caused_by: Option<Address>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub stack: String,
    #[serde(default)]
    pub region: String,
    /// The AWS account the plan changes (STS GetCallerIdentity), named in every header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    pub destroy: bool,
    /// The state this plan was made against; a saved plan is refused once it moved.
    pub state_lineage: Option<String>,
    pub state_serial: u64,
    pub changes: Vec<Change>,
    /// The desired resources (for executing a saved plan exactly).
    pub desired: Vec<Desired>,
    /// IP capacity of the intra subnets against the nodegroups, when the stack has a cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<crate::capacity::Capacity>,
    /// Where the state this plan was made against lives; `apply PLANFILE` writes there.
    #[serde(default)]
    pub backend: crate::backend::BackendConfig,
    /// What the plan takes down that people feel (a cluster, a nodegroup, the VPC), and why:
    /// the first thing every rendering says, and what apply asks a typed confirmation for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destruction: Option<Destruction>,
    /// Made with `--take-over`: objects another state managed are adopted (docs/ownership.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub take_over: bool,
    /// Made with `--force-upgrade`: nodegroup version updates are sent with `force`, deleting
    /// pods a PodDisruptionBudget protects (docs/upgrades.md).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force_upgrade: bool,
    /// What the stack costs per month before and after (absent with `--no-cost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost: Option<crate::cost::Cost>,
    /// What the plan asked AWS and the reviewer should know (a Kubernetes version in extended
    /// support), shown with the plan in every format.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// A Kubernetes upgrade: the minor version this plan moves the cluster, its add-ons and
    /// nodegroups to, and the steps after it (`upgrade.rs`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upgrade: Option<crate::upgrade::Upgrade>,
}

/// The version EKS gives a new cluster today: the one DescribeClusterVersions flags
/// `defaultVersion`, else the newest in standard support.
pub fn default_version(offered: &[crate::provider::KubernetesVersion]) -> Option<&str> {
    let newest_standard = offered.iter().filter(|v| !v.extended).max_by_key(|v| version_key(&v.version));
    offered.iter().find(|v| v.default).or(newest_standard).map(|v| v.version.as_str())
}

fn version_key(version: &str) -> (u32, u32) {
    let (major, minor) = version.split_once('.').unwrap_or((version, "0"));
    (major.parse().unwrap_or(0), minor.parse().unwrap_or(0))
}

/// The stack's Kubernetes version against what EKS offers today (DescribeClusterVersions,
/// `resources/versions.rs`): an error (message, fix) when the plan would create the cluster
/// with, or move it to, a version EKS does not offer; a warning when the version is in
/// extended support (EKS bills those cluster hours at the extended rate) or, for a cluster
/// that stays on it, no longer supported.
pub fn kubernetes_version(version: &str, offered: &[crate::provider::KubernetesVersion], sets_version: bool) -> Result<Option<String>, (String, String)> {
    let standard: Vec<&str> = offered.iter().filter(|v| !v.extended).map(|v| v.version.as_str()).collect();
    let newest = default_version(offered).unwrap_or_default();
    let Some(v) = offered.iter().find(|v| v.version == version) else {
        let all: Vec<&str> = offered.iter().map(|v| v.version.as_str()).collect();
        if sets_version {
            return Err((
                format!("EKS does not offer Kubernetes {version} today (it offers {})", all.join(", ")),
                format!("set `cluster.version` to one of {} (standard support)", standard.join(", ")),
            ));
        }
        return Ok(Some(format!(
            "Kubernetes {version} is no longer supported by EKS; EKS upgrades such clusters on its own schedule. Move `cluster.version` to {newest}."
        )));
    };
    if !v.extended {
        return Ok(None);
    }
    let since = v.end_of_standard.as_deref().map(|d| format!(" since {d}")).unwrap_or_default();
    let until = v.end_of_extended.as_deref().map(|d| format!(" until {d}")).unwrap_or_default();
    Ok(Some(format!(
        "Kubernetes {version} is in extended support{since}{until}: EKS bills the cluster at the extended-support rate. Move `cluster.version` to {newest} (standard support)."
    )))
}

/// A plan that deletes or replaces a cluster, a nodegroup or the VPC.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destruction {
    /// `This plan DELETES the EKS cluster X (and its nodegroup, 2 add-ons and 3 workloads) because …`
    pub headline: String,
    /// The EKS cluster deleted or replaced, if one is: what a typed confirmation asks for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The cluster, nodegroups and VPC deleted or replaced.
    pub addresses: Vec<Address>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary::default();
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::Replace => {
                    s.add += 1;
                    s.destroy += 1;
                }
                Action::Delete => s.destroy += 1,
                Action::NoOp => {}
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }
}

/// Everything a plan is computed from.
pub struct Inputs<'a> {
    pub stack: &'a str,
    pub desired: &'a [Desired],
    pub state: Option<&'a State>,
    pub observed: &'a BTreeMap<Address, Observed>,
    pub destroy: bool,
    /// Addresses replaced although unchanged (`--replace`).
    pub replace: &'a [Address],
}

/// The first in-place update its kind refuses (`Schema::check_update`, e.g. an EKS
/// authentication mode moving back), as an error with its fix: refused before anything runs.
pub fn refused<P: Provider>(provider: &P, plan: &Plan, observed: &BTreeMap<Address, Observed>) -> Option<anyhow::Error> {
    plan.changes.iter().filter(|c| c.action == Action::Update).find_map(|c| {
        let check = provider.schema(&c.address.kind).check_update?;
        let desired = plan.desired.iter().find(|d| d.address == c.address)?;
        let (message, fix) = check(&observed.get(&c.address)?.attrs, &desired.attrs)?;
        Some(crate::diagnostic::help(format!("{}: {message}", c.address), fix))
    })
}

pub fn plan<P: Provider>(provider: &P, inputs: &Inputs) -> Plan {
    let desired: Vec<Desired> = if inputs.destroy { vec![] } else { inputs.desired.to_vec() };
    let graph = Graph::build(&desired).expect("the stack was validated");
    let by_address: HashMap<&Address, &Desired> = desired.iter().map(|d| (&d.address, d)).collect();
    let recorded = |a: &Address| inputs.state.and_then(|s| s.resources.get(a));

    let mut known: HashMap<Address, Attrs> = HashMap::new();
    let mut replaced: BTreeSet<Address> = BTreeSet::new();
    let mut changes = vec![];
    for address in graph.order() {
        let d = by_address[address];
        let schema = provider.schema(&address.kind);
        let lookup = |a: &Address, output: &str| known.get(a).and_then(|o| o.get(output)).cloned();
        let mut attrs = resolve_attrs(&d.attrs, &lookup);
        provider.normalize(&address.kind, &mut attrs);
        let summary = summary(&attrs, &schema);
        let change = match inputs.observed.get(address) {
            None => {
                let reason = recorded(address).filter(|r| r.id.is_some()).map(|_| "was deleted outside eksnet".to_string());
                known.insert(address.clone(), outputs_known_before(&attrs, &schema));
                Change { address: address.clone(), action: Action::Create, reason, summary, diffs: vec![], existing_deps: vec![], caused_by: None }
            }
            Some(current) => {
                let diffs = diff(&attrs, &current.attrs, schema.replace_on);
                let forcing: Vec<&Diff> = diffs.iter().filter(|d| d.forces_replacement).collect();
                // A forcing value that is unknown because what it refers to is replaced: the
                // cause is that replacement, not the attribute.
                let causes: BTreeSet<Address> = forcing.iter().flat_map(|d| unknown_sources(d.new.as_ref())).filter(|a| replaced.contains(a)).collect();
                let (action, reason) = if !forcing.is_empty() {
                    let reason = if !causes.is_empty() && forcing.iter().all(|d| d.new.as_ref().is_some_and(contains_unknown)) {
                        format!(
                            "{} {} replaced",
                            causes.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                            if causes.len() == 1 { "is" } else { "are" }
                        )
                    } else {
                        format!("{} changed", forcing.iter().map(|d| d.attribute.as_str()).collect::<Vec<_>>().join(", "))
                    };
                    (Action::Replace, Some(reason))
                } else if inputs.replace.contains(address) {
                    (Action::Replace, Some("--replace asks for it".to_string()))
                } else if diffs.is_empty() {
                    (Action::NoOp, None)
                } else {
                    // An object still being made or changed (e.g. a cluster CREATING when a run was
                    // killed): the update waits for it.
                    let status = diffs.iter().find(|d| d.attribute == "status");
                    let waits =
                        status.and_then(|d| Some(format!("is {} in AWS; apply waits until it is {}", d.old.as_ref()?.as_str()?, d.new.as_ref()?.as_str()?)));
                    (Action::Update, waits)
                };
                if action == Action::NoOp || (action == Action::Update && reason.is_none()) {
                    known.insert(address.clone(), current.outputs.clone());
                } else if action == Action::Update {
                    // An object still being made or changed (a cluster CREATING, or UPDATING after
                    // a run was killed): what it has is known (its name, its ARN), what it does not
                    // have yet (a creating cluster's endpoint) is not. Without this, a nodegroup
                    // would be planned as replaced because its cluster's name were unknown.
                    let have = current.outputs.iter().filter(|(_, v)| !v.is_null() && v.as_str() != Some("")).map(|(k, v)| (k.clone(), v.clone())).collect();
                    known.insert(address.clone(), have);
                }
                if action == Action::Replace {
                    replaced.insert(address.clone());
                    known.insert(address.clone(), outputs_known_before(&attrs, &schema));
                }
                let caused_by = if action == Action::Replace { causes.into_iter().next() } else { None };
                let existing_deps = existing_deps(address, current, inputs);
                Change { address: address.clone(), action, reason, summary, diffs, existing_deps, caused_by }
            }
        };
        changes.push(change);
    }

    // Objects that exist (found by refresh) but are no longer wanted.
    for (address, current) in inputs.observed {
        if by_address.contains_key(address) {
            continue;
        }
        let summary = summary(&current.attrs, &provider.schema(&address.kind));
        let existing_deps = existing_deps(address, current, inputs);
        changes.push(Change { address: address.clone(), action: Action::Delete, reason: None, summary, diffs: vec![], existing_deps, caused_by: None });
    }

    let destruction = destruction(&changes, inputs);
    Plan {
        format_version: FORMAT_VERSION,
        stack: inputs.stack.into(),
        region: String::new(),
        account: None,
        destroy: inputs.destroy,
        state_lineage: inputs.state.map(|s| s.lineage.clone()),
        state_serial: inputs.state.map_or(0, |s| s.serial),
        changes,
        desired,
        capacity: None,
        backend: Default::default(),
        destruction,
        take_over: false,
        force_upgrade: false,
        cost: None,
        warnings: vec![],
        upgrade: None,
    }
}

/// Kubernetes kinds that run pods: what "workloads" counts.
const WORKLOADS: &[&str] = &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"];

/// The headline of a plan that deletes or replaces what people feel: the EKS cluster (with its
/// nodegroups, add-ons and workloads), a nodegroup, the VPC; with the root cause.
fn destruction(changes: &[Change], inputs: &Inputs) -> Option<Destruction> {
    let gone: Vec<&Change> = changes.iter().filter(|c| matches!(c.action, Action::Delete | Action::Replace)).collect();
    let of = |kind: &'static str| gone.iter().filter(move |c| c.address.kind == kind);
    let critical: Vec<&Change> = gone.iter().copied().filter(|c| matches!(c.address.kind.as_str(), "eks_cluster" | "eks_nodegroup" | "vpc")).collect();
    let first = *critical.first()?;
    let name_of = |c: &Change| -> String {
        let attrs = inputs.observed.get(&c.address).map(|o| &o.attrs);
        attrs
            .and_then(|a| a.get("name").or_else(|| a.get("nodegroup_name")))
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| c.address.to_string())
    };
    let cluster = of("eks_cluster").next().map(|c| name_of(c));
    let count = |n: usize, one: &str, many: &str| match n {
        0 => None,
        1 => Some(one.to_string()),
        n => Some(format!("{n} {many}")),
    };
    let workloads = of("k8s_manifest").filter(|c| c.summary.split_whitespace().last().is_some_and(|k| WORKLOADS.contains(&k))).count();
    let verb = if critical.iter().all(|c| c.action == Action::Replace) { "REPLACES" } else { "DELETES" };
    let what = match &cluster {
        Some(name) => {
            let with: Vec<String> = [
                count(of("eks_nodegroup").count(), "its nodegroup", "nodegroups"),
                count(of("eks_addon").count(), "an add-on", "add-ons"),
                count(workloads, "a workload", "workloads"),
            ]
            .into_iter()
            .flatten()
            .collect();
            let with = match with.len() {
                0 => String::new(),
                1 => format!(" (and {})", with[0]),
                n => format!(" (and {} and {})", with[..n - 1].join(", "), with[n - 1]),
            };
            format!("the EKS cluster {name}{with}")
        }
        None => critical
            .iter()
            .map(|c| match c.address.kind.as_str() {
                "eks_nodegroup" => format!("the nodegroup {}", name_of(c)),
                _ => format!("the VPC {}", c.address),
            })
            .collect::<Vec<_>>()
            .join(" and "),
    };
    let anchor = if cluster.is_some() { of("eks_cluster").next().copied().unwrap_or(first) } else { first };
    let because = if inputs.destroy { "the stack is destroyed".to_string() } else { root_cause(anchor, changes) };
    Some(Destruction {
        headline: format!("This plan {verb} {what} because {because}."),
        cluster,
        addresses: critical.iter().map(|c| c.address.clone()).collect(),
    })
}

/// Why a change happens, followed down its knock-on chain to the change that started it.
fn root_cause(change: &Change, changes: &[Change]) -> String {
    let mut at = change;
    let mut seen = BTreeSet::new();
    while let Some(cause) = at.caused_by.as_ref().filter(|c| seen.insert((*c).clone())) {
        match changes.iter().find(|c| &c.address == cause) {
            Some(c) => at = c,
            None => break,
        }
    }
    match (at.action, &at.reason) {
        (Action::Delete, _) => format!("{} is no longer in the stack", at.address),
        (_, Some(reason)) if std::ptr::eq(at, change) => format!("its {reason}"),
        (_, Some(reason)) => format!("{} {reason}", at.address),
        (_, None) => format!("{} changes", at.address),
    }
}

/// Outputs of an object not made yet that are known all the same: those the stack sets itself
/// (a cluster's `name`), so that what refers to them is not replaced for nothing.
fn outputs_known_before(attrs: &Attrs, schema: &Schema) -> Attrs {
    attrs.iter().filter(|(k, v)| schema.outputs.contains(&k.as_str()) && !contains_unknown(v)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The objects whose unknown outputs make a value unknown (`{"$unknown": "<address>.<output>"}`).
fn unknown_sources(value: Option<&Value>) -> Vec<Address> {
    let mut out = vec![];
    let mut stack: Vec<&Value> = value.into_iter().collect();
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(map) => {
                if let Some(text) = map.get("$unknown").and_then(Value::as_str) {
                    if let Some(address) = text.rsplit_once('.').and_then(|(a, _)| Address::parse(a)) {
                        out.push(address);
                    }
                } else {
                    stack.extend(map.values());
                }
            }
            Value::Array(items) => stack.extend(items),
            _ => {}
        }
    }
    out
}

/// What an existing object depends on: what the state recorded, and any other existing object
/// whose id appears among its attributes (for objects adopted or found without a record). Tags
/// are marks, not references: the `eksnet:stack` tag of every object names the stack, which is
/// also the id of a cluster named like its stack, and taking it for a reference made every
/// object "depend" on the cluster (a circle: the destroy never reached the cluster).
fn existing_deps(address: &Address, current: &Observed, inputs: &Inputs) -> Vec<Address> {
    let mut deps: BTreeSet<Address> = inputs.state.and_then(|s| s.resources.get(address)).map(|r| r.deps.iter().cloned().collect()).unwrap_or_default();
    let ids: HashMap<&str, &Address> = inputs.observed.iter().map(|(a, o)| (o.id.as_str(), a)).collect();
    let mut strings = vec![];
    let mut untagged = current.attrs.clone();
    untagged.remove("tags");
    collect_strings(&Value::Object(untagged), &mut strings);
    // A Kubernetes object's id is often a plain word that AWS attributes repeat (an ENIConfig is
    // named after its zone, which every subnet names too): an AWS object never depends on a
    // Kubernetes one, so only Kubernetes objects are matched against Kubernetes ids.
    let kubernetes = |a: &Address| a.kind == "k8s_manifest";
    for s in strings {
        if let Some(a) = ids.get(s.as_str()).filter(|a| **a != address && (!kubernetes(a) || kubernetes(address))) {
            deps.insert((*a).clone());
        }
    }
    deps.retain(|d| inputs.observed.contains_key(d));
    deps.into_iter().collect()
}

fn collect_strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Object(map) => map.values().for_each(|i| collect_strings(i, out)),
        _ => {}
    }
}

/// The short text beside an address: the kind's own summary, else its summary attribute.
fn summary(attrs: &Attrs, schema: &Schema) -> String {
    if let Some(text) = schema.summarize.and_then(|summarize| summarize(attrs)) {
        return text;
    }
    match attrs.get(schema.summary) {
        Some(Value::String(s)) => s.clone(),
        Some(v) if !v.is_null() => render(v),
        _ => String::new(),
    }
}

/// Attribute differences between what is wanted and what is there. Maps are compared entry
/// by entry, all the way down (so one tag, or one field of a manifest, shows as one line); an
/// unknown value always differs.
pub fn diff(want: &Attrs, have: &Attrs, replace_on: &[&str]) -> Vec<Diff> {
    let mut out = vec![];
    for (key, new) in want {
        let forces = replace_on.contains(&key.as_str());
        diff_value(key.clone(), Some(new), have.get(key), forces, &mut out);
    }
    out
}

fn diff_value(path: String, new: Option<&Value>, old: Option<&Value>, forces: bool, out: &mut Vec<Diff>) {
    let is_map = |v: Option<&Value>| v.and_then(Value::as_object).is_some_and(|m| !m.contains_key("$unknown"));
    if is_map(new) && is_map(old) {
        let (n, o) = (new.and_then(Value::as_object).expect("map"), old.and_then(Value::as_object).expect("map"));
        let keys: BTreeSet<&String> = n.keys().chain(o.keys()).collect();
        for k in keys {
            diff_value(format!("{path}[\"{k}\"]"), n.get(k), o.get(k), forces, out);
        }
    } else if new != old || new.is_some_and(contains_unknown) {
        out.push(Diff { attribute: path, old: old.cloned(), new: new.cloned(), forces_replacement: forces });
    }
}

/// The documented machine-readable form (docs/plan-json.md): the plan without its desired set.
pub fn json(plan: &Plan) -> Value {
    let s = plan.summary();
    let mut out = serde_json::json!({
        "format_version": plan.format_version,
        "stack": plan.stack,
        "region": plan.region,
        "account": plan.account,
        "destroy": plan.destroy,
        "state": {"lineage": plan.state_lineage, "serial": plan.state_serial},
        "destruction": plan.destruction,
        "summary": s,
        "changes": plan.changes.iter().filter(|c| c.action != Action::NoOp).collect::<Vec<_>>(),
        "capacity": plan.capacity,
        "cost": plan.cost,
        "warnings": plan.warnings,
    });
    if plan.force_upgrade {
        out["force_upgrade"] = serde_json::json!(true);
    }
    if let Some(u) = &plan.upgrade {
        out["upgrade"] = serde_json::json!(u);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn attrs(v: Value) -> Attrs {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn diffs_maps_by_entry_and_marks_replacement() {
        let want = attrs(json!({"cidr_block": "10.0.1.0/24", "tags": {"Name": "a", "team": "x"}}));
        let have = attrs(json!({"cidr_block": "10.0.2.0/24", "tags": {"Name": "a", "old": "y"}}));
        let d = diff(&want, &have, &["cidr_block"]);
        let names: Vec<&str> = d.iter().map(|d| d.attribute.as_str()).collect();
        assert_eq!(names, vec!["cidr_block", "tags[\"old\"]", "tags[\"team\"]"]);
        assert!(d[0].forces_replacement && !d[1].forces_replacement);
        let unknown = attrs(json!({"vpc_id": {"$unknown": "vpc.main.id"}}));
        assert_eq!(diff(&unknown, &attrs(json!({"vpc_id": "vpc-1"})), &[]).len(), 1);
    }

    #[test]
    fn a_kubernetes_version_is_judged_by_what_eks_offers_today() {
        let v = |version: &str, extended: bool, default: bool| crate::provider::KubernetesVersion {
            version: version.into(),
            extended,
            end_of_standard: Some("2026-07-29".into()),
            end_of_extended: Some("2027-07-29".into()),
            default,
        };
        let offered = [v("1.35", false, true), v("1.34", false, false), v("1.33", true, false)];
        assert_eq!(kubernetes_version("1.35", &offered, true), Ok(None));
        let warning = kubernetes_version("1.33", &offered, false).unwrap().unwrap();
        assert!(
            warning.starts_with("Kubernetes 1.33 is in extended support since 2026-07-29 until 2027-07-29") && warning.ends_with("to 1.35 (standard support)."),
            "{warning}"
        );
        let (message, fix) = kubernetes_version("1.31", &offered, true).unwrap_err();
        assert_eq!(message, "EKS does not offer Kubernetes 1.31 today (it offers 1.35, 1.34, 1.33)");
        assert_eq!(fix, "set `cluster.version` to one of 1.35, 1.34 (standard support)");
        // A cluster that stays on a version EKS stopped offering is not refused: only warned.
        assert!(kubernetes_version("1.31", &offered, false).unwrap().unwrap().contains("no longer supported"));

        // A new cluster without `cluster.version` gets EKS's flagged default, else the newest
        // version in standard support (ordered as versions, not as text: 1.10 after 1.9).
        assert_eq!(default_version(&offered), Some("1.35"));
        let unflagged = [v("1.9", false, false), v("1.10", false, false), v("1.11", true, false)];
        assert_eq!(default_version(&unflagged), Some("1.10"));
        assert_eq!(default_version(&[v("1.33", true, false)]), None);
    }
}
