//! Renderings for readers who are not at a terminal: markdown plans for pull-request comments
//! and CI summaries, and mermaid diagrams of the dependency graph (GitHub draws them).

pub mod markdown;
pub mod mermaid;

#[cfg(test)]
pub(crate) mod fixtures;

use anyhow::Context;

use crate::cli::{GraphArgs, GraphFormat};
use crate::graph::Graph;
use crate::plan::Plan;
use crate::stack::Stack;

/// `eksnet graph`: the stack's graph, or with `--plan` a saved plan's changes (which needs no
/// stack file, so a reviewer can draw a plan downloaded from CI).
pub fn graph_command(args: &GraphArgs, load_stack: impl FnOnce() -> anyhow::Result<Stack>) -> anyhow::Result<String> {
    if let Some(path) = &args.plan {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read plan {}", path.display()))?;
        let plan: Plan = serde_json::from_str(&text).with_context(|| format!("{} is not a plan saved by `eksnet plan --out`", path.display()))?;
        let diagram = mermaid::Diagram::of_plan(&plan, true);
        return Ok(match args.format {
            GraphFormat::Mermaid => diagram.render(),
            GraphFormat::Dot => diagram.dot(),
        });
    }
    let stack = load_stack()?;
    let desired = stack.desired();
    let graph = Graph::build(&desired).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(match args.format {
        GraphFormat::Dot => graph.dot(),
        GraphFormat::Mermaid => mermaid::Diagram::of_stack(graph.order().cloned(), &desired).render(),
    })
}
