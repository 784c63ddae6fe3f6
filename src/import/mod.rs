//! `eksnet import --from-terraform`: take over a cluster Terraform built, keeping every id.
//! Read Terraform's state (tfstate), map each object to an eksnet address by what it is
//! (mapping), take the VPC CNI's settings from the add-on in the state or else from the cluster
//! (cni), read the Kubernetes provider's objects from the cluster as manifest templates (kube),
//! write the stack that describes it (writer), and adopt the objects: check they exist, tag or
//! label them with eksnet's ownership marks and record them in eksnet's state (adopt).
//! docs/migrate-from-terraform.md.

pub mod adopt;
pub mod cni;
pub mod kube;
pub mod mapping;
pub mod tfstate;
pub mod writer;
