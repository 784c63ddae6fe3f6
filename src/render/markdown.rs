//! The plan as GitHub-flavoured markdown, for a pull-request comment or a CI job summary:
//! a headline with the counts and warnings, counts per kind, a collapsible attribute diff per
//! resource, subnet capacity, and a mermaid diagram of the graph with changes marked.
//!
//! GitHub refuses a comment over 65,536 characters, so the document is assembled against a
//! budget: the headline and one line per change always come first, then the diffs of
//! replacements and updates, then the diagram, then the attributes of creates; whatever did
//! not fit is named in a note.

use std::collections::BTreeMap;
use std::fmt::Write;

use ipnet::Ipv4Net;
use serde_json::Value;

use crate::plan::{Action, Change, Plan};
use crate::render::mermaid::{self, Diagram};

/// GitHub's limit on one comment (and on a job summary step: 1 MiB, so the comment is the
/// binding one).
#[cfg(test)]
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// The default budget leaves room below the limit for what a workflow wraps around the
/// plan (a marker comment, a heading, a link to the run).
pub const DEFAULT_BUDGET: usize = 60_000;

/// What a note reserves for itself when something had to be left out.
const NOTE_RESERVE: usize = 600;

#[derive(Debug, Clone)]
pub struct Options {
    /// Largest document in bytes (a byte count bounds GitHub's character count from above).
    pub budget: usize,
    /// Warnings to show besides those read off the plan itself (the hook for warnings the
    /// planner may carry one day, such as drift it could not classify).
    pub warnings: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { budget: DEFAULT_BUDGET, warnings: vec![] }
    }
}

/// One change as a one-line entry, and optionally with a collapsible body.
struct Entry {
    kind: String,
    address: crate::address::Address,
    action: Action,
    line: String,
    /// The whole `<details>` block, when the change has attributes to show.
    full: Option<String>,
}

impl Entry {
    fn short(&self) -> String {
        format!("- {}\n", self.line)
    }

    fn long(&self) -> Option<String> {
        self.full.as_ref().map(|body| format!("<details><summary>{}</summary>\n\n{body}\n</details>\n\n", self.line))
    }
}

pub fn render(plan: &Plan, options: &Options) -> String {
    let head = head(plan, &options.warnings);
    let footer = footer(plan);
    let mut entries: Vec<Entry> = plan.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| entry(plan, c)).collect();
    // Grouped by kind, from the network up to the cluster as `resources::KINDS` lists them
    // (a topological order jumps between kinds), and by address within a kind.
    let rank = |kind: &str| crate::resources::KINDS.iter().position(|k| *k == kind).unwrap_or(usize::MAX);
    entries.sort_by(|a, b| (rank(&a.kind), &a.kind, &a.address).cmp(&(rank(&b.kind), &b.kind, &b.address)));

    // Everything that must be there, with one short line per change.
    let mut used = head.len() + footer.len() + NOTE_RESERVE + section_headers(&entries).len() + 200;
    let mut shown = 0;
    for e in &entries {
        let size = e.short().len();
        if used + size > options.budget {
            break;
        }
        used += size;
        shown += 1;
    }
    let mut left_out = vec![];
    if shown < entries.len() {
        left_out.push(format!("{} of {} changes", entries.len() - shown, entries.len()));
    }

    // Then, in order of what a reviewer needs most, the bodies and the diagram.
    let mut long = vec![false; shown];
    let mut add_bodies = |actions: &[Action], used: &mut usize| -> usize {
        let mut missing = 0;
        for (i, e) in entries[..shown].iter().enumerate().filter(|(_, e)| actions.contains(&e.action)) {
            let Some(full) = e.long() else { continue };
            let extra = full.len() - e.short().len();
            if *used + extra <= options.budget {
                *used += extra;
                long[i] = true;
            } else {
                missing += 1;
            }
        }
        missing
    };
    let mut missing = add_bodies(&[Action::Replace, Action::Update], &mut used);
    let diagram = diagram(plan, options.budget.saturating_sub(used));
    match &diagram {
        Some(d) => used += d.len(),
        None if plan.has_changes() => left_out.push("the dependency diagram".into()),
        None => {}
    }
    missing += add_bodies(&[Action::Delete, Action::Create], &mut used);
    if missing > 0 {
        left_out.insert(0, format!("the attributes of {missing} resource(s)"));
    }

    let mut out = head;
    if !left_out.is_empty() {
        let _ = write!(
            out,
            "> [!NOTE]\n> This plan is larger than one GitHub comment allows, so this summary leaves out {}. \
             Save the plan with `eksnet plan --out FILE` and run `eksnet show FILE` for all of it.\n\n",
            join_and(&left_out)
        );
    }
    if !entries.is_empty() {
        out.push_str("#### Changes\n\n");
    }
    let mut kind: Option<&str> = None;
    let mut in_list = false;
    for (i, e) in entries[..shown].iter().enumerate() {
        if kind != Some(e.kind.as_str()) {
            if kind.is_some() && in_list {
                out.push('\n');
            }
            let _ = write!(out, "**`{}`**\n\n", e.kind);
            kind = Some(&e.kind);
            in_list = false;
        }
        match long[i].then(|| e.long()).flatten() {
            Some(full) => {
                // A <details> block right below a list item would become part of it.
                if in_list {
                    out.push('\n');
                }
                out.push_str(&full);
                in_list = false;
            }
            None => {
                out.push_str(&e.short());
                in_list = true;
            }
        }
    }
    if shown < entries.len() {
        let _ = writeln!(out, "\n… and {} more changes.", entries.len() - shown);
    }
    if let Some(d) = diagram {
        out.push('\n');
        out.push_str(&d);
    }
    out.push_str(&footer);
    out
}

/// A Kubernetes upgrade's steps, in the order apply takes them (the text plan's section, which
/// reads as a numbered list; insights that stop it first).
fn upgrade(plan: &Plan, u: &crate::upgrade::Upgrade) -> String {
    let mut out = format!("> [!IMPORTANT]\n> **Kubernetes upgrade {} → {}**, one minor version at a time, in this order:\n\n", u.from, u.to);
    let _ = write!(out, "```text\n{}```\n\n", crate::render::text::upgrade(plan, u));
    out
}

/// The title, the counts, warnings, counts per kind and subnet capacity.
fn head(plan: &Plan, extra_warnings: &[String]) -> String {
    let mut out = String::new();
    let what = if plan.destroy { "destroy plan" } else { "plan" };
    let region = if plan.region.is_empty() { String::new() } else { format!(" in {}", plan.region) };
    let account = plan.account.as_ref().map(|a| format!(", account {a}")).unwrap_or_default();
    let _ = write!(out, "### eksnet {what} for `{}`{region}{account}\n\n", plan.stack);
    if let Some(d) = &plan.destruction {
        let _ = write!(out, "> [!CAUTION]\n> **{}**\n\n", d.headline);
    }
    let s = plan.summary();
    if plan.has_changes() {
        let _ = write!(out, "**Plan: {} to add, {} to change, {} to destroy.**\n\n", s.add, s.change, s.destroy);
    } else {
        out.push_str("**No changes.** The infrastructure matches the stack.\n\n");
    }
    if let Some(u) = &plan.upgrade {
        out.push_str(&upgrade(plan, u));
    }
    let mut warnings = warnings(plan);
    warnings.extend(plan.warnings.iter().cloned());
    warnings.extend(plan.capacity.iter().flat_map(|c| c.warnings.iter().cloned()));
    warnings.extend(plan.cost.iter().flat_map(|c| c.warnings.iter().cloned()));
    warnings.extend(extra_warnings.iter().cloned());
    if !warnings.is_empty() {
        out.push_str("> [!WARNING]\n");
        for w in &warnings {
            let _ = writeln!(out, "> - {w}");
        }
        out.push('\n');
    }
    if plan.has_changes() {
        out.push_str(&kind_table(plan));
    }
    if let Some(c) = &plan.cost {
        out.push_str(&cost(c));
    }
    match &plan.capacity {
        Some(c) => out.push_str(&ip_capacity(c)),
        None if !plan.destroy => out.push_str(&capacity(plan)),
        None => {}
    }
    out
}

/// The cost headline and a table of the billable objects whose monthly cost the plan changes
/// (every one when none changes), with what the estimate leaves out.
fn cost(c: &crate::cost::Cost) -> String {
    use super::text::{cost_headline, cost_unknowns, money, signed};
    let headline = cost_headline(c);
    let (title, rest) = headline.split_once(": ").unwrap_or(("Cost", &headline));
    let mut out = format!("**{title}: {rest}**\n\n");
    let changed: Vec<&crate::cost::Line> = c.lines.iter().filter(|l| l.delta() != 0.0).collect();
    let shown = if changed.is_empty() { c.lines.iter().collect() } else { changed };
    if !shown.is_empty() {
        out.push_str("| object | before | after | Δ/month |\n|---|--:|--:|--:|\n");
        let side = |v: Option<f64>| v.map_or_else(|| "–".to_string(), money);
        for l in shown {
            let mut what = html(&l.item);
            if let Some([lo, hi]) = l.after_range {
                let _ = write!(what, ", {} to {} from min to max nodes", money(lo), money(hi));
            }
            if let Some(n) = &l.note {
                let _ = write!(what, "; {}", html(n));
            }
            let _ = writeln!(out, "| `{}` {what} | {} | {} | {} |", l.address, side(l.before), side(l.after), signed(l.delta()));
        }
        out.push('\n');
    }
    for line in cost_unknowns(c).iter().chain(&c.notes) {
        let _ = writeln!(out, "- {}", html(line));
    }
    if !c.unknown.is_empty() || !c.notes.is_empty() {
        out.push('\n');
    }
    out
}

/// What a reviewer must not miss, read off the plan: replacements (the old object goes first),
/// objects deleted outside eksnet, and deletes the stack did not ask for by `destroy`.
pub fn warnings(plan: &Plan) -> Vec<String> {
    const SHOWN: usize = 10;
    let mut out = vec![];
    let mut push = |items: Vec<String>, one: &str, many: &str| {
        let n = items.len();
        if n == 0 {
            return;
        }
        let mut names: Vec<String> = items.into_iter().take(SHOWN).collect();
        if n > SHOWN {
            names.push(format!("{} more", n - SHOWN));
        }
        out.push(format!("{} {}", join_and(&names), if n == 1 { one } else { many }));
    };
    let replaced = plan
        .changes
        .iter()
        .filter(|c| c.action == Action::Replace)
        .map(|c| match &c.reason {
            Some(r) => format!("`{}` ({r})", c.address),
            None => format!("`{}`", c.address),
        })
        .collect();
    push(replaced, "will be **replaced**: deleted first, then created anew.", "will be **replaced**: each is deleted first, then created anew.");
    let gone = plan.changes.iter().filter(|c| c.action == Action::Create && c.reason.as_deref() == Some("was deleted outside eksnet"));
    push(
        gone.map(|c| format!("`{}`", c.address)).collect(),
        "was deleted outside eksnet and will be created again.",
        "were deleted outside eksnet and will be created again.",
    );
    if !plan.destroy {
        let deleted = plan.changes.iter().filter(|c| c.action == Action::Delete).map(|c| format!("`{}`", c.address)).collect();
        push(deleted, "exists but is no longer in the stack, and will be **deleted**.", "exist but are no longer in the stack, and will be **deleted**.");
    }
    out
}

fn kind_table(plan: &Plan) -> String {
    let mut rows: Vec<(&str, [usize; 4])> = vec![];
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let column = match c.action {
            Action::Create => 0,
            Action::Update => 1,
            Action::Replace => 2,
            Action::Delete => 3,
            Action::NoOp => continue,
        };
        match rows.iter_mut().find(|(k, _)| *k == c.address.kind) {
            Some((_, counts)) => counts[column] += 1,
            None => {
                let mut counts = [0; 4];
                counts[column] = 1;
                rows.push((&c.address.kind, counts));
            }
        }
    }
    let rank = |kind: &str| crate::resources::KINDS.iter().position(|k| *k == kind).unwrap_or(usize::MAX);
    rows.sort_by_key(|(kind, _)| (rank(kind), *kind));
    let cell = |n: usize| if n == 0 { String::new() } else { n.to_string() };
    let mut out = String::from("| kind | `+` create | `~` update | `-/+` replace | `-` delete |\n|---|--:|--:|--:|--:|\n");
    let mut total = [0; 4];
    for (kind, counts) in &rows {
        let _ = writeln!(out, "| `{kind}` | {} | {} | {} | {} |", cell(counts[0]), cell(counts[1]), cell(counts[2]), cell(counts[3]));
        for (t, n) in total.iter_mut().zip(counts) {
            *t += n;
        }
    }
    if rows.len() > 1 {
        let _ = writeln!(out, "| **total** | **{}** | **{}** | **{}** | **{}** |", total[0], total[1], total[2], total[3]);
    }
    out.push('\n');
    out
}

/// Usable addresses per subnet (AWS keeps 5 of each), read off the desired subnets: for plans
/// without the planner's capacity (network-only stacks, plans saved by older versions).
fn capacity(plan: &Plan) -> String {
    let mut rows = vec![];
    for d in plan.desired.iter().filter(|d| d.address.kind == "subnet") {
        let Some(net) = d.attrs.get("cidr_block").and_then(Value::as_str).and_then(|c| c.parse::<Ipv4Net>().ok()) else { continue };
        let usable = (1u64 << (32 - u32::from(net.prefix_len()))).saturating_sub(5);
        rows.push((d.address.name.clone(), d.address.key.clone().unwrap_or_default(), net, usable));
    }
    if rows.is_empty() {
        return String::new();
    }
    let pods: u64 = rows.iter().filter(|r| r.0 == "intra").map(|r| r.3).sum();
    let title = if pods > 0 { format!("Subnet capacity: {pods} pod IP addresses in the intra subnets") } else { "Subnet capacity".to_string() };
    let mut out = format!("<details><summary>{title}</summary>\n\n| tier | zone | CIDR | usable IPs |\n|---|---|---|--:|\n");
    for (tier, zone, net, usable) in &rows {
        let _ = writeln!(out, "| {tier} | {zone} | `{net}` | {usable} |");
    }
    out.push_str("\nAWS reserves 5 addresses of every subnet. Pods take their addresses from the intra subnets (VPC CNI custom networking); nodes and the control plane from the private ones.\n\n</details>\n\n");
    out
}

/// The planner's IP capacity (intra subnets against what the nodegroups need at their
/// maximum); its warnings are in the headline.
fn ip_capacity(c: &crate::capacity::Capacity) -> String {
    let total: u64 = c.intra_subnets.iter().map(|s| s.usable_addresses).sum();
    let mut out = format!(
        "<details><summary>IP capacity: {total} pod addresses in the intra subnets</summary>\n\n| zone | intra subnet | usable addresses |\n|---|---|--:|\n"
    );
    for s in &c.intra_subnets {
        let _ = writeln!(out, "| {} | `{}` | {} |", s.availability_zone, s.cidr, s.usable_addresses);
    }
    if !c.nodegroups.is_empty() {
        out.push_str("\n| nodegroup | instance type | pods per node | branch ENIs per node | max nodes | pod addresses at max |\n|---|---|--:|--:|--:|--:|\n");
        let or_unknown = |v: Option<u64>| v.map_or("unknown".to_string(), |v| v.to_string());
        for n in &c.nodegroups {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                n.nodegroup,
                n.instance_type,
                or_unknown(n.max_pods_per_node.map(u64::from)),
                or_unknown(n.branch_enis_per_node.map(u64::from)),
                n.max_nodes,
                or_unknown(n.pod_addresses_at_max)
            );
        }
    }
    out.push_str("\nAWS reserves 5 addresses of every subnet. With custom networking a node's primary ENI serves no pods; branch ENIs carry pods with their own security groups.\n\n</details>\n\n");
    out
}

fn entry(plan: &Plan, c: &Change) -> Entry {
    let verb = match c.action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
        Action::NoOp => "no change",
    };
    let mut line = format!("<code>{}</code> {verb} <code>{}</code>", mermaid::symbol(c.action), html(&c.address.to_string()));
    if !c.summary.is_empty() {
        let _ = write!(line, " {}", html(&c.summary));
    }
    match (&c.action, &c.reason) {
        (Action::Replace, Some(r)) => {
            let _ = write!(line, " <i>(must be replaced because {})</i>", html(r));
        }
        (_, Some(r)) => {
            let _ = write!(line, " <i>({})</i>", html(r));
        }
        _ => {}
    }
    let lines: Vec<String> = match c.action {
        Action::Create => {
            let attrs = plan.desired.iter().find(|d| d.address == c.address).map(|d| &d.attrs);
            let mut lines = vec![];
            for (k, v) in attrs.into_iter().flatten() {
                flatten(k, v, &mut |path, value| lines.push(format!("+ {path} = {value}")));
            }
            lines
        }
        Action::Update | Action::Replace => c
            .diffs
            .iter()
            .flat_map(|d| {
                let mut out = vec![];
                leaf_diffs(&d.attribute, d.old.as_ref(), d.new.as_ref(), &mut out);
                if d.forces_replacement
                    && let Some(last) = out.last_mut()
                {
                    last.push_str("   # forces replacement");
                }
                out
            })
            .collect(),
        Action::Delete | Action::NoOp => vec![],
    };
    let full = (!lines.is_empty()).then(|| format!("```diff\n{}\n```\n", lines.join("\n").replace("```", "ˋˋˋ")));
    Entry { kind: c.address.kind.clone(), address: c.address.clone(), action: c.action, line, full }
}

/// Nested maps become one line per leaf (`tags["Name"]`, as diffs name them); lists of maps
/// one line per item. References read as the output they wait for.
fn flatten(path: &str, v: &Value, emit: &mut dyn FnMut(&str, String)) {
    match v {
        Value::Object(map) if !is_marker(v) && !map.is_empty() => {
            for (k, inner) in map {
                flatten(&format!("{path}[\"{k}\"]"), inner, emit);
            }
        }
        Value::Array(items) if items.iter().any(|i| i.is_object() && !is_marker(i)) => {
            for (i, item) in items.iter().enumerate() {
                emit(&format!("{path}[{i}]"), value(item));
            }
        }
        _ => emit(path, value(v)),
    }
}

/// The changed leaves of one attribute: a nested map (the VPC CNI's configuration) shows only
/// the entries that differ, each as `-` old and `+` new.
fn leaf_diffs(path: &str, old: Option<&Value>, new: Option<&Value>, out: &mut Vec<String>) {
    if let (Some(Value::Object(o)), Some(Value::Object(n))) = (old, new)
        && !is_marker(old.unwrap())
        && !is_marker(new.unwrap())
    {
        let keys: std::collections::BTreeSet<&String> = o.keys().chain(n.keys()).collect();
        for k in keys {
            if o.get(k) != n.get(k) {
                leaf_diffs(&format!("{path}[\"{k}\"]"), o.get(k), n.get(k), out);
            }
        }
        return;
    }
    if let Some(old) = old {
        out.push(format!("- {path} = {}", value(old)));
    }
    if let Some(new) = new {
        out.push(format!("+ {path} = {}", value(new)));
    }
}

fn is_marker(v: &Value) -> bool {
    v.as_object().is_some_and(|m| m.len() == 1 && (m.contains_key("$ref") || m.contains_key("$unknown")))
}

/// Like `value::render`, but a reference reads as `vpc.main.id` (unquoted, as HCL writes a
/// reference) instead of its JSON encoding.
fn value(v: &Value) -> String {
    if let Some(r) = v.as_object().filter(|m| m.len() == 1).and_then(|m| m.get("$ref")).and_then(Value::as_str) {
        return r.replacen('#', ".", 1);
    }
    match v {
        Value::Array(items) => format!("[{}]", items.iter().map(value).collect::<Vec<_>>().join(", ")),
        Value::Object(map) if !is_marker(v) => format!("{{{}}}", map.iter().map(|(k, v)| format!("{k} = {}", value(v))).collect::<Vec<_>>().join(", ")),
        other => crate::value::render(other),
    }
}

/// The diagram block, if one fits. A plan that builds (every resource created, or destroyed)
/// shows the whole graph; a plan that changes some resources of a running stack shows those and
/// their direct neighbours, which is what a reviewer needs; either falls back to the smaller
/// picture, else none.
fn diagram(plan: &Plan, room: usize) -> Option<String> {
    if !plan.has_changes() {
        return None;
    }
    let fits = |d: &Diagram, note: &str| -> Option<String> {
        if d.edge_count() > mermaid::MAX_EDGES {
            return None;
        }
        let text = d.render();
        if text.len() > mermaid::MAX_TEXT {
            return None;
        }
        let block = format!(
            "<details><summary>Dependency graph{note}</summary>\n\nAn arrow points from a resource to one built after it; \
             deletes run in the opposite order. `×3`: one node for the copies in three zones.\n\n```mermaid\n{text}```\n\n</details>\n"
        );
        (block.len() <= room).then_some(block)
    };
    // Collapsed: the per-AZ copies of a resource as one node, so the picture stays legible.
    // Reduced: no arrow that another path implies.
    let all = Diagram::of_plan(plan, false).collapsed().reduced();
    let some = Diagram::of_plan(plan, true).collapsed().reduced();
    let smaller = some.node_count() < all.node_count();
    let partial = plan.changes.iter().any(|c| c.action == Action::NoOp);
    let changes = || smaller.then(|| fits(&some, ": the changes and their neighbours")).flatten();
    if partial { changes().or_else(|| fits(&all, "")) } else { fits(&all, "").or_else(changes) }
}

fn footer(plan: &Plan) -> String {
    let lineage = plan.state_lineage.as_deref().map(|l| format!("`{l}`")).unwrap_or_else(|| "none yet".into());
    format!(
        "\n<sub>Made against state serial {} (lineage {lineage}). A plan saved with `eksnet plan --out FILE` is applied exactly by \
         `eksnet apply FILE`, and refused once the state has moved.</sub>\n",
        plan.state_serial
    )
}

/// Counted per kind once, so the size check can include them before they are written.
fn section_headers(entries: &[Entry]) -> String {
    let mut kinds: BTreeMap<&str, ()> = BTreeMap::new();
    entries.iter().for_each(|e| {
        kinds.insert(&e.kind, ());
    });
    kinds.keys().map(|k| format!("\n**`{k}`**\n\n\n")).collect()
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests;
