//! Mermaid flowcharts of the dependency graph, which GitHub draws in comments and markdown
//! files. An edge points from a resource to what is built after it (`vpc.main --> subnet…`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

use crate::address::Address;
use crate::plan::{Action, Plan};
use crate::provider::Desired;

/// GitHub's mermaid refuses diagrams past these sizes (mermaid's own `maxEdges` and
/// `maxTextSize` defaults), so a renderer has to check before embedding one.
pub const MAX_EDGES: usize = 500;
pub const MAX_TEXT: usize = 50_000;

/// Nodes with an optional action, and edges between them (dependency first).
#[derive(Debug, Default, Clone)]
pub struct Diagram {
    /// A label (the address, or `kind.name ×3` for a collapsed group) and its action.
    nodes: Vec<(String, Option<Action>)>,
    edges: BTreeSet<(usize, usize)>,
}

impl Diagram {
    /// The stack's graph as the stack defines it, without plan actions.
    pub fn of_stack(ordered: impl IntoIterator<Item = Address>, desired: &[Desired]) -> Diagram {
        let nodes = ordered.into_iter().map(|a| (a.to_string(), None)).collect();
        let mut d = Diagram { nodes, edges: BTreeSet::new() };
        d.add_edges(desired.iter().flat_map(|r| r.deps.iter().map(move |dep| (dep, &r.address))));
        d
    }

    /// A plan's resources, marked by action. The edges come from the desired resources and,
    /// for deletes (which have no desired side), from what the existing objects depend on.
    /// `only_changes` keeps the changed resources plus their direct neighbours as context.
    pub fn of_plan(plan: &Plan, only_changes: bool) -> Diagram {
        let all: Vec<(Address, Option<Action>)> = plan.changes.iter().map(|c| (c.address.clone(), Some(c.action))).collect();
        let mut edges: Vec<(&Address, &Address)> = plan.desired.iter().flat_map(|r| r.deps.iter().map(move |dep| (dep, &r.address))).collect();
        edges.extend(plan.changes.iter().flat_map(|c| c.existing_deps.iter().map(move |dep| (dep, &c.address))));
        let keep: BTreeSet<&Address> = if only_changes {
            let changed: BTreeSet<&Address> = plan.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| &c.address).collect();
            let mut keep = changed.clone();
            for (from, to) in &edges {
                if changed.contains(from) || changed.contains(to) {
                    keep.insert(from);
                    keep.insert(to);
                }
            }
            keep
        } else {
            all.iter().map(|(a, _)| a).collect()
        };
        let nodes = all.iter().filter(|(a, _)| keep.contains(a)).map(|(a, action)| (a.to_string(), *action)).collect();
        let mut d = Diagram { nodes, edges: BTreeSet::new() };
        d.add_edges(edges.into_iter());
        d
    }

    /// Drops the edges another path implies (a transitive reduction): `vpc → subnet → table`
    /// says that the table comes after the VPC, so `vpc → table` is left out. The order a reader
    /// sees stays the same, with a fraction of the arrows. (`eksnet graph` keeps every edge, as
    /// its DOT output does; the plan's picture for reviewers is reduced.)
    pub fn reduced(mut self) -> Diagram {
        self.reduce();
        self
    }

    fn reduce(&mut self) {
        let edges: Vec<(usize, usize)> = self.edges.iter().copied().collect();
        for (from, to) in edges {
            self.edges.remove(&(from, to));
            if !self.reaches(from, to) {
                self.edges.insert((from, to));
            }
        }
    }

    fn reaches(&self, from: usize, to: usize) -> bool {
        let mut seen = BTreeSet::from([from]);
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            for &(_, next) in self.edges.range((n, 0)..(n + 1, 0)) {
                if next == to {
                    return true;
                }
                if seen.insert(next) {
                    stack.push(next);
                }
            }
        }
        false
    }

    fn add_edges<'a>(&mut self, edges: impl Iterator<Item = (&'a Address, &'a Address)>) {
        let index: HashMap<&str, usize> = self.nodes.iter().enumerate().map(|(i, (a, _))| (a.as_str(), i)).collect();
        for (from, to) in edges {
            if let (Some(&f), Some(&t)) = (index.get(from.to_string().as_str()), index.get(to.to_string().as_str()))
                && f != t
            {
                self.edges.insert((f, t));
            }
        }
    }

    /// One node per `kind.name`, for the AZ-keyed copies of one resource (three subnets of a
    /// tier, …): the shape of the stack stays, a third of the edges go. A group whose members
    /// differ in action takes the most drastic one and counts the others in its label.
    pub fn collapsed(&self) -> Diagram {
        let mut groups: Vec<(String, Vec<Option<Action>>)> = vec![];
        let mut group_of = vec![0; self.nodes.len()];
        for (i, (label, action)) in self.nodes.iter().enumerate() {
            let name = label.split('[').next().unwrap_or(label).to_string();
            let g = match groups.iter().position(|(n, _)| *n == name) {
                Some(g) => g,
                None => {
                    groups.push((name, vec![]));
                    groups.len() - 1
                }
            };
            groups[g].1.push(*action);
            group_of[i] = g;
        }
        let nodes = groups
            .iter()
            .enumerate()
            .map(|(g, (name, actions))| {
                let label = if actions.len() == 1 {
                    let i = group_of.iter().position(|&x| x == g).expect("a member");
                    self.nodes[i].0.clone()
                } else {
                    let mut label = format!("{name} ×{}", actions.len());
                    if actions.iter().any(|a| *a != actions[0]) {
                        let counts: Vec<String> = SEVERITY
                            .iter()
                            .filter_map(|a| {
                                let n = actions.iter().filter(|x| **x == Some(*a)).count();
                                (n > 0).then(|| format!("{n} {}", symbol(*a)))
                            })
                            .collect();
                        label.push_str(&format!(" ({})", counts.join(", ")));
                    }
                    label
                };
                let action = SEVERITY.iter().copied().find(|a| actions.contains(&Some(*a)));
                (label, action)
            })
            .collect();
        let edges = self.edges.iter().map(|(f, t)| (group_of[*f], group_of[*t])).filter(|(f, t)| f != t).collect();
        Diagram { nodes, edges }
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// The flowchart text (without the ```mermaid fence).
    pub fn render(&self) -> String {
        let mut out = String::from("flowchart LR\n");
        for (i, (address, action)) in self.nodes.iter().enumerate() {
            let symbol = action.map(|a| format!("{} ", symbol(a))).unwrap_or_default();
            let _ = writeln!(out, "  n{i}[\"{symbol}{}\"]", escape(address));
        }
        for (from, to) in &self.edges {
            let _ = writeln!(out, "  n{from} --> n{to}");
        }
        let mut classes: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (i, (_, action)) in self.nodes.iter().enumerate() {
            if let Some(a) = action {
                classes.entry(class(*a)).or_default().push(format!("n{i}"));
            }
        }
        // Colours follow GitHub's diff palette; a symbol in each label keeps the action
        // readable in dark mode and for readers who cannot tell the colours apart.
        for (name, style) in CLASSES {
            if classes.contains_key(name) {
                let _ = writeln!(out, "  classDef {name} {style}");
            }
        }
        for (name, ids) in &classes {
            let _ = writeln!(out, "  class {} {name}", ids.join(","));
        }
        out
    }
}

impl Diagram {
    /// The same diagram in Graphviz DOT, actions as fill colours (for `graph --plan`).
    pub fn dot(&self) -> String {
        let mut out = String::from("digraph eksnet {\n  rankdir = LR;\n  node [shape = box, fontname = \"monospace\", style = filled, fillcolor = white];\n");
        let name = |i: usize| format!("{:?}", self.nodes[i].0);
        for (i, (address, action)) in self.nodes.iter().enumerate() {
            match action {
                Some(a) => {
                    let (fill, stroke) = colours(*a);
                    let label = format!("{} {address}", symbol(*a));
                    let _ = writeln!(out, "  {} [label = {label:?}, fillcolor = \"{fill}\", color = \"{stroke}\"];", name(i));
                }
                None => {
                    let _ = writeln!(out, "  {};", name(i));
                }
            }
        }
        for (from, to) in &self.edges {
            let _ = writeln!(out, "  {} -> {};", name(*from), name(*to));
        }
        out.push_str("}\n");
        out
    }
}

fn colours(action: Action) -> (&'static str, &'static str) {
    let style = CLASSES.iter().find(|(name, _)| *name == class(action)).map(|(_, s)| *s).unwrap_or_default();
    let get = |key: &str| style.split(',').find_map(|p| p.strip_prefix(key)).unwrap_or("#ffffff");
    (get("fill:"), get("stroke:"))
}

/// The most drastic action first.
const SEVERITY: [Action; 5] = [Action::Replace, Action::Delete, Action::Update, Action::Create, Action::NoOp];

const CLASSES: [(&str, &str); 5] = [
    ("create", "fill:#dafbe1,stroke:#1a7f37,color:#1f2328"),
    ("update", "fill:#fff8c5,stroke:#9a6700,color:#1f2328"),
    ("replace", "fill:#fbefff,stroke:#8250df,color:#1f2328"),
    ("delete", "fill:#ffebe9,stroke:#cf222e,color:#1f2328,stroke-dasharray:4 2"),
    ("noop", "fill:#f6f8fa,stroke:#d0d7de,color:#656d76"),
];

pub fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
        Action::NoOp => "=",
    }
}

fn class(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
        Action::NoOp => "noop",
    }
}

/// Mermaid labels take `#name;` entity codes; a bare `"` would end the label.
fn escape(text: &str) -> String {
    text.replace('#', "#35;").replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Change;
    use serde_json::Map;

    fn desired(addr: &str, deps: &[&str]) -> Desired {
        Desired::new(Address::parse(addr).unwrap(), Map::new(), deps.iter().map(|d| Address::parse(d).unwrap()).collect())
    }

    fn change(addr: &str, action: Action, existing_deps: &[&str]) -> Change {
        Change {
            address: Address::parse(addr).unwrap(),
            action,
            reason: None,
            summary: String::new(),
            diffs: vec![],
            existing_deps: existing_deps.iter().map(|d| Address::parse(d).unwrap()).collect(),
            caused_by: None,
        }
    }

    fn plan(changes: Vec<Change>, desired: Vec<Desired>) -> Plan {
        Plan {
            format_version: 1,
            stack: "s".into(),
            region: "r".into(),
            account: None,
            destroy: false,
            state_lineage: None,
            state_serial: 0,
            changes,
            desired,
            capacity: None,
            backend: Default::default(),
            destruction: None,
            take_over: false,
            force_upgrade: false,
            cost: None,
            warnings: vec![],
            upgrade: None,
        }
    }

    #[test]
    fn escapes_labels_and_marks_actions() {
        let p = plan(
            vec![
                change("vpc.main", Action::NoOp, &[]),
                change("subnet.intra[\"a#1\"]", Action::Replace, &[]),
                change("route_table.old", Action::Delete, &["vpc.main"]),
            ],
            vec![desired("vpc.main", &[]), desired("subnet.intra[\"a#1\"]", &["vpc.main"])],
        );
        let text = Diagram::of_plan(&p, false).render();
        assert_eq!(
            text,
            "flowchart LR\n  n0[\"= vpc.main\"]\n  n1[\"-/+ subnet.intra[#quot;a#35;1#quot;]\"]\n  n2[\"- route_table.old\"]\n  n0 --> n1\n  n0 --> n2\n  \
             classDef replace fill:#fbefff,stroke:#8250df,color:#1f2328\n  classDef delete fill:#ffebe9,stroke:#cf222e,color:#1f2328,stroke-dasharray:4 2\n  \
             classDef noop fill:#f6f8fa,stroke:#d0d7de,color:#656d76\n  class n2 delete\n  class n0 noop\n  class n1 replace\n"
        );
    }

    #[test]
    fn collapses_per_zone_copies_and_counts_mixed_actions() {
        let p = plan(
            vec![
                change("vpc.main", Action::NoOp, &[]),
                change("subnet.intra[\"a\"]", Action::NoOp, &[]),
                change("subnet.intra[\"b\"]", Action::Replace, &[]),
                change("subnet.intra[\"c\"]", Action::Create, &[]),
            ],
            vec![
                desired("vpc.main", &[]),
                desired("subnet.intra[\"a\"]", &["vpc.main"]),
                desired("subnet.intra[\"b\"]", &["vpc.main"]),
                desired("subnet.intra[\"c\"]", &["vpc.main"]),
            ],
        );
        let text = Diagram::of_plan(&p, false).collapsed().render();
        assert!(text.starts_with("flowchart LR\n  n0[\"= vpc.main\"]\n  n1[\"-/+ subnet.intra ×3 (1 -/+, 1 +, 1 =)\"]\n  n0 --> n1\n"), "{text}");
        assert!(text.ends_with("  class n0 noop\n  class n1 replace\n"), "{text}");
    }

    #[test]
    fn edges_another_path_implies_are_left_out() {
        let p = plan(
            vec![
                change("vpc.main", Action::Create, &[]),
                change("subnet.a", Action::Create, &[]),
                change("route_table.a", Action::Create, &[]),
                change("route_table_association.a", Action::Create, &[]),
            ],
            vec![
                desired("vpc.main", &[]),
                desired("subnet.a", &["vpc.main"]),
                desired("route_table.a", &["vpc.main"]),
                desired("route_table_association.a", &["subnet.a", "route_table.a", "vpc.main"]),
            ],
        );
        let d = Diagram::of_plan(&p, false);
        assert_eq!(d.edge_count(), 5, "every edge before the reduction");
        let d = d.reduced();
        // vpc → association is implied by vpc → subnet → association.
        assert_eq!(d.edge_count(), 4);
        assert!(!d.render().contains("n0 --> n3"), "{}", d.render());
        assert!(d.render().contains("n1 --> n3") && d.render().contains("n2 --> n3"), "{}", d.render());
    }

    #[test]
    fn only_changes_keeps_direct_neighbours_as_context() {
        let p = plan(
            vec![
                change("vpc.main", Action::NoOp, &[]),
                change("subnet.a", Action::Update, &[]),
                change("route_table_association.a", Action::NoOp, &[]),
                change("security_group.far", Action::NoOp, &[]),
            ],
            vec![
                desired("vpc.main", &[]),
                desired("subnet.a", &["vpc.main"]),
                desired("route_table_association.a", &["subnet.a"]),
                desired("security_group.far", &["vpc.main"]),
            ],
        );
        let d = Diagram::of_plan(&p, true);
        assert_eq!((d.node_count(), d.edge_count()), (3, 2));
        assert!(!d.render().contains("security_group.far"));
        let dot = d.dot();
        assert!(dot.contains("  \"subnet.a\" [label = \"~ subnet.a\", fillcolor = \"#fff8c5\", color = \"#9a6700\"];\n"), "{dot}");
        assert!(dot.contains("  \"vpc.main\" -> \"subnet.a\";\n"), "{dot}");
    }
}
