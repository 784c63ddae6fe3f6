//! The dependency graph of desired resources: edges from references and ordering rules.

use std::collections::HashMap;
use std::fmt::Write;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};

use crate::address::Address;
use crate::provider::Desired;

pub struct Graph {
    graph: DiGraph<Address, ()>,
    /// Node indexes in an order where every node comes after its dependencies.
    order: Vec<NodeIndex>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphError {
    /// `from` refers to `to`, which the stack does not define.
    Missing { from: Box<Address>, to: Box<Address> },
    /// The addresses of one dependency cycle, in order.
    Cycle(Vec<Address>),
}

impl std::fmt::Display for GraphError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GraphError::Missing { from, to } => write!(f, "`{from}` depends on `{to}`, which the stack does not define"),
            GraphError::Cycle(path) => {
                let names: Vec<String> = path.iter().map(ToString::to_string).collect();
                write!(f, "dependency cycle: {} → {}", names.join(" → "), names[0])
            }
        }
    }
}

impl Graph {
    pub fn build(desired: &[Desired]) -> Result<Graph, GraphError> {
        let mut graph = DiGraph::new();
        let index: HashMap<&Address, NodeIndex> = desired.iter().map(|d| (&d.address, graph.add_node(d.address.clone()))).collect();
        for d in desired {
            for dep in &d.deps {
                let Some(&from) = index.get(dep) else {
                    return Err(GraphError::Missing { from: Box::new(d.address.clone()), to: Box::new(dep.clone()) });
                };
                graph.update_edge(from, index[&d.address], ());
            }
        }
        let order = toposort(&graph, None).map_err(|_| GraphError::Cycle(cycle_path(&graph)))?;
        Ok(Graph { graph, order })
    }

    /// Addresses in dependency order.
    pub fn order(&self) -> impl Iterator<Item = &Address> {
        self.order.iter().map(|&i| &self.graph[i])
    }

    pub fn dot(&self) -> String {
        let mut out = String::from("digraph eksnet {\n  rankdir = LR;\n  node [shape = box, fontname = \"monospace\"];\n");
        for &i in &self.order {
            let _ = writeln!(out, "  {:?};", self.graph[i].to_string());
        }
        for e in self.graph.raw_edges() {
            let _ = writeln!(out, "  {:?} -> {:?};", self.graph[e.source()].to_string(), self.graph[e.target()].to_string());
        }
        out.push_str("}\n");
        out
    }
}

/// One dependency cycle, read in "depends on" direction from its alphabetically first node.
fn cycle_path(graph: &DiGraph<Address, ()>) -> Vec<Address> {
    let Some(scc) = tarjan_scc(graph).into_iter().find(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0])) else {
        return vec![];
    };
    let start = *scc.iter().min_by_key(|&&i| graph[i].to_string()).expect("non-empty");
    let mut path = vec![start];
    loop {
        let current = *path.last().expect("non-empty");
        // Incoming edges come from the dependencies of `current`.
        let mut deps: Vec<NodeIndex> = graph.neighbors_directed(current, petgraph::Direction::Incoming).filter(|n| scc.contains(n)).collect();
        deps.sort_by_key(|&i| graph[i].to_string());
        let next = deps[0];
        if let Some(pos) = path.iter().position(|&p| p == next) {
            path.drain(..pos);
            break;
        }
        path.push(next);
    }
    path.into_iter().map(|i| graph[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn node(addr: &str, deps: &[&str]) -> Desired {
        let deps = deps.iter().map(|d| Address::parse(d).unwrap()).collect();
        Desired::new(Address::parse(addr).unwrap(), Map::new(), deps)
    }

    #[test]
    fn orders_dependencies_first() {
        let desired = vec![
            node("subnet.a[\"x\"]", &["vpc.main", "vpc_cidr.secondary[\"100.64.0.0/16\"]"]),
            node("vpc_cidr.secondary[\"100.64.0.0/16\"]", &["vpc.main"]),
            node("vpc.main", &[]),
        ];
        let graph = Graph::build(&desired).unwrap();
        let order: Vec<String> = graph.order().map(ToString::to_string).collect();
        assert_eq!(order, vec!["vpc.main", "vpc_cidr.secondary[\"100.64.0.0/16\"]", "subnet.a[\"x\"]"]);
        assert!(graph.dot().contains("\"vpc.main\" -> \"subnet.a[\\\"x\\\"]\""));
    }

    #[test]
    fn names_the_cycle_and_missing_references() {
        let desired = vec![
            node("security_group.a", &["security_group.b"]),
            node("security_group.b", &["security_group.c"]),
            node("security_group.c", &["security_group.a"]),
            node("vpc.main", &[]),
        ];
        let err = Graph::build(&desired).err().unwrap();
        assert_eq!(err.to_string(), "dependency cycle: security_group.a → security_group.b → security_group.c → security_group.a");
        let err = Graph::build(&[node("subnet.a", &["vpc.nope"])]).err().unwrap();
        assert_eq!(err, GraphError::Missing { from: Box::new(Address::parse("subnet.a").unwrap()), to: Box::new(Address::parse("vpc.nope").unwrap()) });
    }
}
