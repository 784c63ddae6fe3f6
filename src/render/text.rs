//! The terminal renderings: a plan, what changed outside eksnet, the IP capacity. One line per
//! resource, in address order whatever the action, attribute lines below updates and replaces.

use super::style::{Paint, Style};
use crate::capacity::Capacity;
use crate::cost::Cost;
use crate::drift::{Drift, DriftKind};
use crate::plan::{Action, Diff, Plan};
use crate::upgrade::Upgrade;
use crate::value::render;

/// Values longer than this are shortened in terminal diffs (a CA bundle is 1.5 kB of base64).
const LONGEST_VALUE: usize = 72;

/// A value as a terminal diff shows it: a long string (a CA bundle, a certificate) cut, with
/// its length; lists and maps whole, since the entry that changed may be anywhere in them.
fn shown(value: &serde_json::Value) -> String {
    let text = render(value);
    let chars = text.chars().count();
    if !value.is_string() || chars <= LONGEST_VALUE {
        return text;
    }
    let head: String = text.chars().take(LONGEST_VALUE - 24).collect();
    format!("{head}… ({chars} characters)")
}

/// One line per attribute: `      name: old → new`.
pub fn diffs(diffs: &[Diff], out: &mut String) {
    for d in diffs {
        let old = d.old.as_ref().map(shown).unwrap_or_else(|| "(none)".into());
        let new = d.new.as_ref().map(shown).unwrap_or_else(|| "(none)".into());
        let forces = if d.forces_replacement { "  # forces replacement" } else { "" };
        out.push_str(&format!("      {}: {old} → {new}{forces}\n", d.attribute));
    }
}

pub fn plan(plan: &Plan, paint: Paint) -> String {
    let mut out = String::new();
    if let Some(d) = &plan.destruction {
        out.push_str(&format!("{}\n\n", paint(Style::Error, &d.headline)));
    }
    if let Some(u) = &plan.upgrade {
        out.push_str(&upgrade(plan, u));
    }
    if plan.force_upgrade {
        out.push_str(&force_upgrade(plan));
    }
    out.push_str(&format!("{}:\n\n", heading(plan)));
    let mut changes: Vec<_> = plan.changes.iter().filter(|c| c.action != Action::NoOp).collect();
    changes.sort_by(|a, b| a.address.cmp(&b.address));
    for c in changes {
        let (symbol, style) = match c.action {
            Action::Create => ("+", Style::Add),
            Action::Update => ("~", Style::Change),
            Action::Replace => ("-/+", Style::Replace),
            Action::Delete => ("-", Style::Delete),
            Action::NoOp => continue,
        };
        let mut line = format!("{:>3} {}", paint(style, symbol), c.address);
        if !c.summary.is_empty() {
            line.push_str(&format!("  {}", c.summary));
        }
        match (&c.action, &c.reason) {
            (Action::Replace, Some(r)) => line.push_str(&format!("  (must be replaced because {r})")),
            (_, Some(r)) => line.push_str(&format!("  ({r})")),
            _ => {}
        }
        out.push_str(&line);
        out.push('\n');
        if matches!(c.action, Action::Update | Action::Replace) {
            diffs(&c.diffs, &mut out);
        }
    }
    if let Some(c) = &plan.capacity {
        out.push_str(&capacity(c, paint));
    }
    for w in &plan.warnings {
        out.push_str(&format!("\n{} {w}\n", paint(Style::Warning, "warning:")));
    }
    let s = plan.summary();
    if plan.has_changes() {
        out.push_str(&format!("\nPlan: {} to add, {} to change, {} to destroy.\n", s.add, s.change, s.destroy));
    } else {
        out.push_str("No changes. The infrastructure matches the stack.\n");
    }
    out
}

/// Where the plan acts: `Plan for account 123456789012, ap-southeast-2, stack `demo``, so that
/// nobody approves a change to the wrong account.
pub fn heading(plan: &Plan) -> String {
    let what = if plan.destroy { "Destroy plan" } else { "Plan" };
    let account = plan.account.as_ref().map(|a| format!("account {a}, ")).unwrap_or_default();
    let region = if plan.region.is_empty() { String::new() } else { format!("{}, ", plan.region) };
    format!("{what} for {account}{region}stack `{}`", plan.stack)
}

/// `$1234.50`
pub fn money(usd: f64) -> String {
    format!("${:.2}", usd.abs())
}

/// `+$151.20`, `-$43.07`, `±$0.00`
pub fn signed(usd: f64) -> String {
    let sign = if usd > 0.0 {
        "+"
    } else if usd < 0.0 {
        "-"
    } else {
        "±"
    };
    format!("{sign}{}", money(usd))
}

/// The cost headline: `Cost: +$151.20/month (now $263.14 → $414.34)`.
pub fn cost_headline(cost: &Cost) -> String {
    let unknown = match cost.unknown.len() {
        0 => String::new(),
        1 => ", not counting 1 object of unknown cost".into(),
        n => format!(", not counting {n} objects of unknown cost"),
    };
    format!("Cost: {}/month (now {} → {}){unknown}", signed(cost.delta), money(cost.before), money(cost.after))
}

/// `cost unknown for a, b (reason)`, one line per reason.
pub fn cost_unknowns(cost: &Cost) -> Vec<String> {
    let mut by_reason: Vec<(&str, Vec<&str>)> = vec![];
    for u in &cost.unknown {
        match by_reason.iter_mut().find(|(r, _)| *r == u.reason) {
            Some((_, addresses)) => addresses.push(&u.address),
            None => by_reason.push((&u.reason, vec![&u.address])),
        }
    }
    by_reason.into_iter().map(|(reason, addresses)| format!("cost unknown for {} ({reason})", addresses.join(", "))).collect()
}

/// The cost of the change, last in the text plan; per object with `-v`.
pub fn cost(cost: &Cost, verbose: bool, paint: Paint) -> String {
    let mut out = String::from("\n");
    if verbose && !cost.lines.is_empty() {
        out.push_str(&format!("Cost per month ({}, {} hours a month):\n", cost.currency, cost.hours_per_month));
        let width = cost.lines.iter().map(|l| l.address.len()).max().unwrap_or(0);
        let side = |v: Option<f64>| v.map_or_else(|| "-".to_string(), money);
        for l in &cost.lines {
            let range = l.after_range.map(|[lo, hi]| format!(", {} to {} from min to max nodes", money(lo), money(hi))).unwrap_or_default();
            let note = l.note.as_ref().map(|n| format!("; {n}")).unwrap_or_default();
            out.push_str(&format!("  {:width$}  {:>9} → {:<9} {:>10}  {}{range}{note}\n", l.address, side(l.before), side(l.after), signed(l.delta()), l.item));
        }
    }
    // What the estimate leaves out, always: a reader of the headline must know it.
    for n in &cost.notes {
        out.push_str(&format!("  note: {n}\n"));
    }
    for line in cost_unknowns(cost) {
        out.push_str(&format!("  {line}\n"));
    }
    for w in &cost.warnings {
        out.push_str(&format!("  {} {w}\n", paint(Style::Warning, "warning:")));
    }
    out.push_str(&cost_headline(cost));
    out.push('\n');
    out
}

pub fn drift(drifts: &[Drift], paint: Paint) -> String {
    if drifts.is_empty() {
        return "No changes outside eksnet: the state matches what exists.\n".into();
    }
    let mut out = String::from("Changes outside eksnet (the state will record them; nothing in AWS changes):\n\n");
    for d in drifts {
        let (symbol, style, note) = match d.kind {
            DriftKind::Changed => ("~", Style::Change, "changed outside eksnet"),
            DriftKind::Gone => ("-", Style::Delete, "deleted outside eksnet; the state forgets it"),
            DriftKind::Found => ("+", Style::Add, "exists but not in the state; the state adopts it"),
        };
        out.push_str(&format!("{:>3} {}  {}  ({note})\n", paint(style, symbol), d.address, d.id));
        diffs(&d.diffs, &mut out);
    }
    let count = |k: DriftKind| drifts.iter().filter(|d| d.kind == k).count();
    out.push_str(&format!(
        "\nRefresh: {} changed, {} deleted, {} found outside eksnet.\n",
        count(DriftKind::Changed),
        count(DriftKind::Gone),
        count(DriftKind::Found)
    ));
    out
}

/// Newer AMI releases than nodegroups run (`plan --refresh-only`): shown, never applied unless
/// the stack asks (`release_version: latest`, or the release named).
pub fn available_releases(available: &[(crate::address::Address, String, String)]) -> String {
    let mut out = String::new();
    for (address, running, latest) in available {
        out.push_str(&format!(
            "\n{address}: AMI release {latest} available (the nodes run {running}); `release_version: latest` in the stack moves them to it\n"
        ));
    }
    out
}

pub fn capacity(c: &Capacity, paint: Paint) -> String {
    let mut out = String::from("\nIP capacity (custom networking: pods take addresses from the intra subnets):\n");
    for s in &c.intra_subnets {
        out.push_str(&format!("  {:<20} {:<16} {:>6} usable addresses\n", s.availability_zone, s.cidr, s.usable_addresses));
    }
    for n in &c.nodegroups {
        let or_unknown = |v: Option<u32>| v.map_or("unknown".to_string(), |v| v.to_string());
        out.push_str(&format!(
            "  nodegroup {:<10} {:<12} max {} pods/node, {} branch ENIs/node (security groups for pods), up to {} nodes\n",
            n.nodegroup,
            n.instance_type,
            or_unknown(n.max_pods_per_node),
            or_unknown(n.branch_enis_per_node),
            n.max_nodes
        ));
    }
    for w in &c.warnings {
        out.push_str(&format!("  {} {w}\n", paint(Style::Warning, "warning:")));
    }
    out
}

/// One expired stack in `eksnet sweep`'s table.
#[derive(Debug, Clone)]
pub struct SweepRow {
    pub stack: String,
    pub region: String,
    pub vpc: String,
    pub expired_since: String,
    /// Objects found by the stack's tags, by kind.
    pub objects: std::collections::BTreeMap<String, usize>,
}

/// The sweep's table: what is expired, since when, and what it holds.
pub fn sweep(rows: &[SweepRow], alive: usize) -> String {
    let width = |f: fn(&SweepRow) -> usize, title: &str| rows.iter().map(f).max().unwrap_or(0).max(title.len());
    let (s, r, v) = (width(|x| x.stack.len(), "STACK"), width(|x| x.region.len(), "REGION"), width(|x| x.vpc.len(), "VPC"));
    let mut out = format!("Expired stacks: {} ({alive} with an expiry still to come are left alone)\n\n", rows.len());
    out += &format!("  {:s$}  {:r$}  {:v$}  {:13}  OBJECTS\n", "STACK", "REGION", "VPC", "EXPIRED SINCE");
    for row in rows {
        let total: usize = row.objects.values().sum();
        let kinds: Vec<String> = row.objects.iter().map(|(k, n)| format!("{k} {n}")).collect();
        out += &format!("  {:s$}  {:r$}  {:v$}  {:13}  {total} ({})\n", row.stack, row.region, row.vpc, row.expired_since, kinds.join(", "));
    }
    out + "\n"
}

/// A Kubernetes upgrade as apply performs it: the steps of this plan in the graph's order (the
/// control plane, the add-ons, the nodegroups), each with its API call and typical duration
/// (docs/upgrades.md), and the minor versions still to come.
/// `--force-upgrade`, named with the nodegroups it acts on (those whose nodes are replaced).
fn force_upgrade(plan: &Plan) -> String {
    let replaced: Vec<String> = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Update && c.address.kind == "eks_nodegroup")
        .filter(|c| c.diffs.iter().any(|d| d.attribute == "version" || d.attribute == "release_version"))
        .map(|c| c.address.to_string())
        .collect();
    let which = if replaced.is_empty() { "no nodegroup is updated by this plan".to_string() } else { replaced.join(", ") };
    format!(
        "--force-upgrade: nodegroup version updates delete the pods a PodDisruptionBudget protects instead of failing with PodEvictionFailure (UpdateNodegroupVersion force): {which}\n\n"
    )
}

pub fn upgrade(plan: &Plan, u: &Upgrade) -> String {
    let new =
        |c: &crate::plan::Change, attribute: &str| c.diffs.iter().find(|d| d.attribute == attribute).and_then(|d| d.new.as_ref()?.as_str().map(str::to_string));
    let mut steps = vec![];
    for c in plan.changes.iter().filter(|c| c.action == Action::Update) {
        let step = match c.address.kind.as_str() {
            "eks_cluster" => new(c, "version").map(|v| format!("control plane to {v} (UpdateClusterVersion, typically 8 min)")),
            "eks_addon" => {
                new(c, "addon_version").map(|v| format!("{} to {v}, for {} (UpdateAddon, typically 1 min)", c.summary.split(' ').next().unwrap_or(""), u.step))
            }
            "eks_nodegroup" => {
                new(c, "version").map(|v| format!("nodes to {v} (UpdateNodegroupVersion: new nodes, then the old ones drained; typically 10 min)"))
            }
            _ => None,
        };
        if let Some(step) = step {
            steps.push(format!("    {}. {}  {step}\n", steps.len() + 1, c.address));
        }
    }
    let what = if u.lagging.is_empty() {
        format!("{} → {} (this plan)", u.from, u.step)
    } else {
        format!(
            "nodegroups {} catch up with the control plane at {} first (this plan): EKS moves a control plane only when its nodes match it",
            u.lagging.join(", "),
            u.step
        )
    };
    let mut out =
        format!("Kubernetes upgrade {} → {}, one minor version at a time (EKS upgrades a control plane one minor version per update):\n", u.from, u.to);
    if !u.blocking.is_empty() {
        out.push_str(&format!(
            "  EKS's upgrade insights for {} report ERROR ({}): apply stops unless --ignore-insights (the warnings below say why)\n",
            u.step,
            u.blocking.join(", ")
        ));
    }
    out.push_str(&format!("  {what}, in this order:\n"));
    out.push_str(&steps.concat());
    let rest = plan.changes.iter().filter(|c| c.action != Action::NoOp).count().saturating_sub(steps.len());
    if rest > 0 {
        out.push_str(&format!("    then the {rest} other change(s) below, each after what it depends on (manifests after the nodes)\n"));
    }
    let mut from = u.step.clone();
    for v in &u.then {
        out.push_str(&format!("  then {from} → {v}: the same steps, planned and applied by the same `eksnet apply` once {from} is done\n"));
        from = v.clone();
    }
    out.push('\n');
    out
}
