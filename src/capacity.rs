//! IP capacity under custom networking: how many pods fit on a node, how many addresses the
//! intra subnets hold, and whether the nodegroups at their maximum would run out.

use crate::provider::InstanceNetwork;
use serde::{Deserialize, Serialize};

use crate::stack::{Stack, TierKind};

/// Addresses AWS reserves in every subnet (network, router, DNS, future, broadcast).
const RESERVED_PER_SUBNET: u64 = 5;

/// Branch ENIs (security groups for pods) per instance type, from the VPC resource controller's
/// limits table (aws/amazon-vpc-resource-controller-k8s, pkg/aws/vpc/limits.go). Types not
/// listed are shown as unknown; burstable (t*) types support none.
const BRANCH_ENIS: &[(&str, u32)] = &[
    ("c5.large", 9),
    ("c5.xlarge", 18),
    ("c5.2xlarge", 38),
    ("c5.4xlarge", 54),
    ("c5.9xlarge", 54),
    ("m5.large", 9),
    ("m5.xlarge", 18),
    ("m5.2xlarge", 38),
    ("m5.4xlarge", 54),
    ("r5.large", 9),
    ("r5.xlarge", 18),
    ("r5.2xlarge", 38),
    ("c6i.large", 9),
    ("m6i.large", 9),
    ("m6i.xlarge", 18),
];

/// Pods per node that take an address from the intra subnets, with custom networking and
/// security groups for pods (eksnet turns both on): the primary ENI serves no pods (its subnet is
/// the node's), the trunk ENI takes another slot and gets no addresses (amazon-vpc-cni-k8s #2801,
/// "Do not allocate IPs or prefixes to trunk ENIs"), each other ENI gives all but its primary
/// address; plus 2 host-network pods (aws-node, kube-proxy). c5.large: (3 − 2) × (10 − 1) + 2 = 11.
/// Pods with a branch ENI come on top (`branch_enis`).
pub fn max_pods_custom_networking(n: InstanceNetwork) -> u32 {
    n.max_enis.saturating_sub(2) * n.ipv4_per_eni.saturating_sub(1) + 2
}

/// The max-pods a managed node's kubelet gets when the nodegroup has no launch template: the EKS
/// AMI's table, ENIs × (IPv4 per ENI − 1) + 2, which knows neither custom networking nor the
/// trunk (awslabs/amazon-eks-ami `eni-max-pods.txt`; the EKS user guide's custom networking
/// tutorial sets `maxPods` through a launch template for that reason). c5.large: 29.
pub fn kubelet_max_pods(n: InstanceNetwork) -> u32 {
    n.max_enis * n.ipv4_per_eni.saturating_sub(1) + 2
}

pub fn branch_enis(instance_type: &str) -> Option<u32> {
    if instance_type.starts_with('t') {
        return Some(0);
    }
    BRANCH_ENIS.iter().find(|(t, _)| *t == instance_type).map(|(_, n)| *n)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SubnetCapacity {
    pub availability_zone: String,
    pub cidr: String,
    pub usable_addresses: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodegroupCapacity {
    pub nodegroup: String,
    pub instance_type: String,
    pub max_pods_per_node: Option<u32>,
    pub branch_enis_per_node: Option<u32>,
    pub max_nodes: u32,
    /// Pod addresses the nodegroup needs at its maximum size.
    pub pod_addresses_at_max: Option<u64>,
    /// Pods the kubelet admits per node (`kubelet_max_pods`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubelet_max_pods: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    pub intra_subnets: Vec<SubnetCapacity>,
    pub nodegroups: Vec<NodegroupCapacity>,
    pub warnings: Vec<String>,
}

/// The capacity of a stack, given the network limits of its instance types (`lookup`).
pub fn capacity(stack: &Stack, lookup: &dyn Fn(&str) -> Option<InstanceNetwork>) -> Option<Capacity> {
    let cluster = stack.cluster.as_ref()?;
    let intra = stack.tier(TierKind::Intra)?;
    let mut out = Capacity::default();
    for (az, net) in &intra.subnets {
        let size = 1u64 << (32 - net.prefix_len());
        out.intra_subnets.push(SubnetCapacity {
            availability_zone: az.clone(),
            cidr: net.to_string(),
            usable_addresses: size.saturating_sub(RESERVED_PER_SUBNET),
        });
    }
    let total: u64 = out.intra_subnets.iter().map(|s| s.usable_addresses).sum();
    let smallest = out.intra_subnets.iter().map(|s| s.usable_addresses).min().unwrap_or(0);
    let mut needed = 0u64;
    for ng in &cluster.nodegroups {
        // With several types the smallest bounds what a node is sure to hold.
        let (instance_type, network) = ng
            .instance_types
            .iter()
            .map(|t| (t.clone(), lookup(t)))
            .min_by_key(|(_, n)| n.map(max_pods_custom_networking).unwrap_or(u32::MAX))
            .unwrap_or_default();
        let max_pods = network.map(max_pods_custom_networking);
        let at_max = max_pods.map(|p| u64::from(p) * u64::from(ng.max));
        needed += at_max.unwrap_or(0);
        if let Some(p) = max_pods.filter(|p| u64::from(*p) > smallest) {
            out.warnings.push(format!(
                "nodegroup `{}`: one {instance_type} node may take {p} pod addresses, more than the smallest intra subnet holds ({smallest})",
                ng.name
            ));
        }
        let kubelet = network.map(kubelet_max_pods);
        let can_run = max_pods.map(|p| p + branch_enis(&instance_type).unwrap_or(0));
        if let (Some(kubelet), Some(can_run)) = (kubelet, can_run.filter(|c| kubelet.is_some_and(|k| k > *c))) {
            out.warnings.push(format!(
                "nodegroup `{}`: a {instance_type} node's kubelet admits {kubelet} pods (EKS's default max-pods without a launch template), but the node has room for {can_run} ({} with addresses from the intra subnets, 2 host-network, {} with branch ENIs); more pods per node stay in ContainerCreating. eksnet cannot set max-pods yet (it takes a launch template with `maxPods: {can_run}`): keep to {can_run} pods per node or pick a larger instance type",
                ng.name,
                max_pods.unwrap_or(2) - 2,
                branch_enis(&instance_type).unwrap_or(0),
            ));
        }
        if network.is_none() {
            out.warnings.push(format!("nodegroup `{}`: instance type {instance_type} is unknown to DescribeInstanceTypes", ng.name));
        }
        out.nodegroups.push(NodegroupCapacity {
            nodegroup: ng.name.clone(),
            branch_enis_per_node: branch_enis(&instance_type),
            instance_type,
            max_pods_per_node: max_pods,
            max_nodes: ng.max,
            pod_addresses_at_max: at_max,
            kubelet_max_pods: kubelet,
        });
    }
    if needed > total {
        out.warnings.push(format!("at their maximum size the nodegroups may need {needed} pod addresses, but the intra subnets hold {total}"));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_networking_loses_the_primary_eni() {
        assert_eq!(max_pods_custom_networking(InstanceNetwork { max_enis: 3, ipv4_per_eni: 10 }), 11);
        assert_eq!(max_pods_custom_networking(InstanceNetwork { max_enis: 4, ipv4_per_eni: 15 }), 30);
        assert_eq!(kubelet_max_pods(InstanceNetwork { max_enis: 3, ipv4_per_eni: 10 }), 29);
        assert_eq!(branch_enis("c5.large"), Some(9));
        assert_eq!(branch_enis("t3.large"), Some(0));
        assert_eq!(branch_enis("x9.huge"), None);
    }

    #[test]
    fn warns_when_nodegroups_outgrow_the_intra_subnets() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/stacks/custom-networking.yaml")).unwrap();
        let text = text.replace("prefix: 24", "prefix: 28").replace("max: 2}", "max: 9}");
        let stack = crate::stack::parse(concat!(env!("CARGO_MANIFEST_DIR"), "/stacks/x.yaml"), &text, &Default::default()).unwrap();
        let c = capacity(&stack, &|t| (t == "c5.large").then_some(InstanceNetwork { max_enis: 3, ipv4_per_eni: 10 })).unwrap();
        assert_eq!(c.intra_subnets[0].usable_addresses, 11);
        assert_eq!(c.nodegroups[0].max_pods_per_node, Some(11));
        assert_eq!(c.nodegroups[0].pod_addresses_at_max, Some(99));
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert!(
            c.warnings[0].contains("admits 29 pods")
                && c.warnings[0].contains("room for 20 (9 with addresses from the intra subnets, 2 host-network, 9 with branch ENIs)"),
            "{:?}",
            c.warnings
        );
        assert!(c.warnings[1].contains("need 99 pod addresses, but the intra subnets hold 33"), "{:?}", c.warnings);
    }
}
