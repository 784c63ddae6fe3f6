//! Check 4: every pod that is not hostNetwork has an address inside the intra subnets (custom
//! networking: pods take their IPs from the ENIConfig's subnet, not the node's), and every node
//! an InternalIP inside the private subnets. A pod in a node subnet means its node joined before
//! custom networking was configured: such nodes must be replaced (EKS user guide, custom
//! networking, https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network-tutorial.html).

use super::facts::Facts;
use super::{Check, Expect, listed};
use crate::stack::TierKind;

pub fn check(expect: &Expect, facts: &Facts) -> Check {
    let check = Check::new(4, "addresses", "pod IPs in the intra subnets, node IPs in the private subnets");
    let mut problems = vec![];
    let mut pods = 0;
    for pod in facts.networked_pods() {
        match &pod.ip {
            None => problems.push(format!("pod {} has no IP ({})", pod.id(), pod.phase)),
            Some(ip) if !expect.in_tier(TierKind::Intra, ip) => problems.push(format!("pod {} has {ip}, outside the intra subnets", pod.id())),
            Some(_) => pods += 1,
        }
    }
    for node in &facts.nodes {
        match &node.internal_ip {
            Some(ip) if expect.in_tier(TierKind::Private, ip) => {}
            Some(ip) => problems.push(format!("node {} has {ip}, outside the private subnets", node.name)),
            None => problems.push(format!("node {} has no InternalIP", node.name)),
        }
    }
    if !problems.is_empty() {
        return check.fail(
            listed(&problems, 3),
            "a pod without an IP: `kubectl describe pod` shows the CNI's event (no free address: see check 8); a pod outside the intra \
             subnets runs on a node that joined before custom networking: replace the node (`kubectl drain`, then let the nodegroup replace it)",
        );
    }
    let intra: Vec<String> = expect.tier(TierKind::Intra).map(|s| s.cidr.to_string()).collect();
    let private: Vec<String> = expect.tier(TierKind::Private).map(|s| s.cidr.to_string()).collect();
    check.pass(format!("{pods} pod(s) in {}; {} node(s) in {}", intra.join(", "), facts.nodes.len(), private.join(", ")))
}
