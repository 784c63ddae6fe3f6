//! eksnet: an EKS cluster with VPC CNI custom networking and security groups for pods,
//! built from a YAML stack as a dependency graph, with a plan before every change.

mod address;
mod app;
mod apply;
mod backend;
mod capacity;
mod cli;
mod closest;
mod cloud;
mod cost;
mod diagnostic;
mod drift;
mod duration;
mod executor;
mod expiry;
mod graph;
mod import;
mod interrupt;
mod k8s;
mod kubeconfig;
mod lock;
/// The engine's test double: a `Provider` kept in memory.
#[cfg(test)]
mod memory;
mod outputs;
mod ownership;
mod partition;
mod plan;
mod progress;
mod provider;
mod render;
mod reporter;
mod resources;
mod stack;
mod state;
mod token;
mod ui;
mod upgrade;
mod value;
mod verify;

pub use app::run;
