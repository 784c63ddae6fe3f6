//! eksnet: an EKS cluster with VPC CNI custom networking and security groups for pods,
//! built from a YAML stack as a dependency graph, with a plan before every change.

pub mod address;
pub mod app;
pub mod apply;
pub mod backend;
pub mod capacity;
pub mod cli;
pub mod cloud;
pub mod diagnostic;
pub mod drift;
pub mod executor;
pub mod graph;
pub mod k8s;
pub mod kubeconfig;
pub mod lock;
/// The engine's test double: a `Provider` kept in memory.
pub mod memory;
pub mod outputs;
pub mod ownership;
pub mod plan;
pub mod provider;
pub mod render;
pub mod reporter;
pub mod resources;
pub mod stack;
pub mod state;
pub mod token;
pub mod ui;
pub mod value;

pub use app::run;
