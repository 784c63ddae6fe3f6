//! Check 1: every nodegroup has its desired number of nodes, Ready, in the stack's zones and
//! labelled with their zone (`topology.kubernetes.io/zone`, the label ENI_CONFIG_LABEL_DEF names:
//! the VPC CNI picks a node's ENIConfig by it; EKS user guide, "Customize the secondary network
//! interface in Amazon EKS nodes", https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network-tutorial.html).

use super::facts::Facts;
use super::{Check, Expect, listed};

pub fn check(expect: &Expect, facts: &Facts) -> Check {
    let check = Check::new(1, "nodes", "nodes Ready in the stack's zones");
    let mut problems = vec![];
    let mut seen = vec![];
    for (name, stack_desired) in &expect.nodegroups {
        let eks = facts.nodegroups.iter().find(|n| &n.name == name);
        let desired = eks.map_or(*stack_desired, |n| n.desired);
        let status = eks.map_or("not found in EKS", |n| n.status.as_str());
        let nodes: Vec<_> = facts.nodes.iter().filter(|n| n.nodegroup() == Some(name)).collect();
        let ready = nodes.iter().filter(|n| n.ready).count();
        if ready < desired as usize {
            problems.push(format!("nodegroup {name} ({status}): {ready} of {desired} nodes Ready"));
        }
        for n in nodes {
            match n.zone() {
                None => problems.push(format!("{} has no topology.kubernetes.io/zone label", n.name)),
                Some(z) if !expect.zones.iter().any(|e| e == z) => problems.push(format!("{} is in {z}, not one of the stack's zones", n.name)),
                Some(z) => seen.push(format!("{} ({z}{})", n.name, if n.ready { "" } else { ", not Ready" })),
            }
            if !n.ready {
                problems.push(format!("{} is not Ready", n.name));
            }
        }
    }
    if !problems.is_empty() {
        return check.fail(
            listed(&problems, 3),
            "see `kubectl get nodes -L topology.kubernetes.io/zone` and `aws eks describe-nodegroup` (its health issues); a nodegroup that \
             cannot reach its desired size often lacks IP addresses or a route out of its private subnets",
        );
    }
    if seen.is_empty() {
        return check.fail("no nodes", "the stack's nodegroups have no nodes: `eksnet apply` creates them");
    }
    check.pass(format!("{} node(s) Ready: {}", seen.len(), listed(&seen, 4)))
}
