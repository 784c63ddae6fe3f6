//! Presentation: the terminal text of plans (text.rs, in the named styles of style.rs), and for
//! readers who are not at a terminal markdown plans for pull-request comments and CI summaries,
//! and mermaid diagrams of the dependency graph (GitHub draws them).

pub mod import;
pub mod markdown;
pub mod mermaid;
pub mod style;
pub mod text;
pub mod verify;

#[cfg(test)]
pub(crate) mod fixtures;
