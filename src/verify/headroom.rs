//! Check 8 (warnings only): room left for pod addresses, per intra subnet (EC2's
//! AvailableIpAddressCount) and per node (pods against the node's allocatable `pods`, branch
//! ENIs against `vpc.amazonaws.com/pod-eni`, the trunk's limit: amazon-vpc-resource-controller-k8s
//! pkg/aws/vpc/limits.go). With ENABLE_POD_ENI one ENI per node becomes the trunk, leaving fewer
//! addresses for ordinary pods (EKS user guide, security groups for pods, Considerations).

use super::facts::Facts;
use super::{Check, Expect, Status, listed};
use crate::stack::TierKind;

/// Less than this share left is worth a warning.
const LOW: f64 = 0.1;

pub fn check(expect: &Expect, facts: &Facts) -> Check {
    let check = Check::new(8, "headroom", "IP headroom per intra subnet and per node");
    let mut warnings = vec![];
    let mut subnets = vec![];
    for s in expect.tier(TierKind::Intra) {
        let Some(fact) = s.id.as_deref().and_then(|id| facts.subnet(id)) else { continue };
        // AWS reserves five addresses of every subnet.
        let usable = (1u64 << (32 - s.cidr.prefix_len())).saturating_sub(5).max(1);
        if (fact.available as f64) < usable as f64 * LOW {
            warnings.push(format!("intra {} has {} of {usable} addresses free", s.zone, fact.available));
        }
        subnets.push(format!("{} {} free", s.zone, fact.available));
    }
    let mut nodes = vec![];
    for node in &facts.nodes {
        let on: Vec<_> = facts.pods.iter().filter(|p| p.node.as_deref() == Some(node.name.as_str())).collect();
        let branches = on.iter().filter(|p| p.pod_eni.is_some()).count() as u32;
        if let Some(max) = node.allocatable_pods {
            let used = on.len() as u32;
            if f64::from(max.saturating_sub(used)) < f64::from(max) * LOW {
                warnings.push(format!("node {} runs {used} of {max} pods", node.name));
            }
            nodes.push(format!("{} {used}/{max} pods", node.name));
        }
        if let Some(max) = node.allocatable_branch_enis.filter(|m| *m > 0) {
            if f64::from(max.saturating_sub(branches)) < f64::from(max) * LOW {
                warnings.push(format!("node {} uses {branches} of {max} branch ENIs", node.name));
            }
            if let Some(last) = nodes.last_mut() {
                last.push_str(&format!(", {branches}/{max} branch ENIs"));
            }
        }
    }
    let evidence = format!("{}; {}", listed(&subnets, 3), listed(&nodes, 3));
    if warnings.is_empty() {
        return check.pass(evidence);
    }
    let c = check.warn(
        format!("{} ({evidence})", listed(&warnings, 3)),
        "give the pods room: a larger intra prefix (`subnets.intra`), a larger instance type, or more nodes (`nodegroups.*.scaling`)",
    );
    debug_assert_eq!(c.status, Status::Warn);
    c
}
