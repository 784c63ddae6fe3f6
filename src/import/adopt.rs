//! Adoption: the only change an import makes in AWS is the ownership marks (`eksnet:stack`,
//! `eksnet:address`, `eksnet:lineage`) on each object it takes over; the state is then written
//! by the same refresh that rebuilds a lost state (objects found by those marks).
//! Objects without tags of their own (CIDR associations, route table associations, rule sets)
//! are found through their parents and need no mark; EKS add-ons and access entries are found
//! by their marks, like clusters and nodegroups. Kubernetes objects get the labels
//! `eksnet.io/stack` and `eksnet.io/lineage` and the annotation `eksnet.io/address`.

use super::mapping::{Mapping, Taken};
use crate::diagnostic::help;
use crate::ownership::{ADDRESS_TAG, LINEAGE_TAG, STACK_TAG};
use crate::resources::Aws;

/// The objects that get marks: one per address (a route table's separate `aws_route`s share
/// the table's address and are not tagged themselves).
pub fn to_mark(m: &Mapping) -> Vec<&Taken> {
    m.taken.iter().filter(|t| t.tagged).collect()
}

/// Stops before any change when an object of the state no longer exists in AWS.
pub async fn check_exist(aws: &Aws, m: &Mapping) -> anyhow::Result<()> {
    let objects: Vec<(String, String)> = to_mark(m).iter().map(|t| (t.address.kind.clone(), t.id.clone())).collect();
    let missing = aws.missing(&objects).await.map_err(|e| anyhow::anyhow!("checking that the objects exist: {e}"))?;
    if missing.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = missing
        .iter()
        .filter_map(|(_, id)| to_mark(m).into_iter().find(|t| t.id == *id))
        .map(|t| format!("    {} ({}), eksnet address {}", t.terraform, t.id, t.address))
        .collect();
    Err(help(
        format!(
            "{} object(s) of the Terraform state no longer exist in AWS:\n{}\n  Nothing was tagged and no eksnet state was written.",
            missing.len(),
            lines.join("\n")
        ),
        "run `terraform plan -refresh-only` to see what changed outside Terraform, bring the state up to date (`terraform apply -refresh-only`), and import the state it writes",
    ))
}

/// Marks every object as this stack's, at its address, managed by the state of `lineage`.
pub async fn mark(aws: &Aws, m: &Mapping, stack: &str, lineage: &str) -> anyhow::Result<()> {
    for t in to_mark(m) {
        let tags = [(STACK_TAG, stack.to_string()), (ADDRESS_TAG, t.address.to_string()), (LINEAGE_TAG, lineage.to_string())];
        aws.tag(&t.address.kind, &t.id, &tags).await.map_err(|e| anyhow::anyhow!("tagging {} ({}): {e}", t.address, t.id))?;
    }
    Ok(())
}

/// Marks the Kubernetes objects the import took with the labels and annotation every eksnet
/// manifest carries (`k8s_manifest::mark`).
pub async fn mark_kube(aws: &Aws, m: &Mapping, lineage: &str) -> anyhow::Result<()> {
    let Some(cluster) = m.cluster.as_ref().map(|c| c.api()) else { return Ok(()) };
    for k in m.kube.iter().filter(|k| k.object.is_some()) {
        aws.mark_kube(&cluster, &k.reference(), &k.address, lineage).await.map_err(|e| anyhow::anyhow!("labelling {} ({}): {e}", k.address, k.terraform))?;
    }
    Ok(())
}
