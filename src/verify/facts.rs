//! What verify observed, as plain data: the reads of observe.rs land here, and every check is a
//! pure function of these facts and of what the stack promises (expect.rs), so that each check
//! is tested without a cloud.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub cluster: String,
    /// The cluster security group EKS made (DescribeCluster).
    pub cluster_security_group: Option<String>,
    pub nodegroups: Vec<NodegroupFact>,
    pub nodes: Vec<NodeFact>,
    /// `kube-system/aws-node`, None when it does not exist.
    pub aws_node: Option<DaemonSetFact>,
    pub eniconfigs: Vec<EniConfigFact>,
    /// Pods that are running or about to (not Succeeded, Failed or being deleted).
    pub pods: Vec<PodFact>,
    pub policies: Vec<PolicyFact>,
    /// ServiceAccount labels by (namespace, name): read only when a policy has a
    /// serviceAccountSelector.
    pub service_accounts: BTreeMap<(String, String), BTreeMap<String, String>>,
    pub subnets: Vec<SubnetFact>,
    pub enis: Vec<EniFact>,
    pub route_tables: Vec<RouteTableFact>,
    pub nat_gateways: Vec<NatFact>,
    pub security_groups: Vec<GroupFact>,
}

#[derive(Debug, Clone, Default)]
pub struct NodegroupFact {
    pub name: String,
    pub status: String,
    pub desired: u32,
}

#[derive(Debug, Clone, Default)]
pub struct NodeFact {
    pub name: String,
    pub ready: bool,
    pub labels: BTreeMap<String, String>,
    pub internal_ip: Option<String>,
    /// status.allocatable: `pods`, `vpc.amazonaws.com/pod-eni`.
    pub allocatable_pods: Option<u32>,
    pub allocatable_branch_enis: Option<u32>,
}

impl NodeFact {
    pub fn zone(&self) -> Option<&str> {
        self.labels.get(ZONE_LABEL).map(String::as_str)
    }

    pub fn nodegroup(&self) -> Option<&str> {
        self.labels.get("eks.amazonaws.com/nodegroup").map(String::as_str)
    }
}

pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

#[derive(Debug, Clone, Default)]
pub struct DaemonSetFact {
    /// The aws-node container's env (literal values).
    pub env: BTreeMap<String, String>,
    pub generation: i64,
    pub observed_generation: i64,
    pub desired: i32,
    pub updated: i32,
    pub available: i32,
}

#[derive(Debug, Clone, Default)]
pub struct EniConfigFact {
    pub name: String,
    pub subnet: String,
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PodFact {
    pub namespace: String,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub host_network: bool,
    pub ip: Option<String>,
    pub node: Option<String>,
    pub phase: String,
    /// The `vpc.amazonaws.com/pod-eni` annotation as written by the VPC resource controller.
    pub pod_eni: Option<String>,
    /// What made the pod, as kubectl names it (`deployment/nginx`), None for a bare pod.
    pub workload: Option<String>,
    /// spec.serviceAccountName (`default` when unset).
    pub service_account: String,
}

impl PodFact {
    pub fn id(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }
}

#[derive(Debug, Clone, Default)]
pub struct PolicyFact {
    pub namespace: String,
    pub name: String,
    /// spec.podSelector and spec.serviceAccountSelector: a policy needs one of them, and every
    /// one it has must match.
    pub pod_selector: Option<Selector>,
    pub service_account_selector: Option<Selector>,
    pub groups: Vec<String>,
}

/// A Kubernetes label selector; an empty one selects everything.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<Expression>,
}

impl Selector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                let value = labels.get(&e.key);
                match e.operator.as_str() {
                    "In" => value.is_some_and(|v| e.values.contains(v)),
                    "NotIn" => value.is_none_or(|v| !e.values.contains(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

#[derive(Debug, Clone, Default)]
pub struct Expression {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct SubnetFact {
    pub id: String,
    pub available: u32,
}

#[derive(Debug, Clone, Default)]
pub struct EniFact {
    pub id: String,
    pub interface_type: String,
    pub description: String,
    pub groups: Vec<String>,
    pub subnet: String,
    pub private_ips: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RouteTableFact {
    pub id: String,
    pub subnets: Vec<String>,
    /// The 0.0.0.0/0 route's target: a NAT gateway or internet gateway id.
    pub default_target: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct NatFact {
    pub id: String,
    pub state: String,
}

#[derive(Debug, Clone, Default)]
pub struct GroupFact {
    pub id: String,
    pub ingress: Vec<RuleFact>,
    pub egress: Vec<RuleFact>,
}

/// One EC2 permission: protocol `-1` (all), `tcp`, `udp`, …; ports for tcp/udp; the peers.
#[derive(Debug, Clone, Default)]
pub struct RuleFact {
    pub protocol: String,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    pub cidrs: Vec<String>,
    pub groups: Vec<String>,
}

impl Facts {
    pub fn subnet(&self, id: &str) -> Option<&SubnetFact> {
        self.subnets.iter().find(|s| s.id == id)
    }

    pub fn eni(&self, id: &str) -> Option<&EniFact> {
        self.enis.iter().find(|e| e.id == id)
    }

    /// The ENI that holds `ip` (a branch ENI's own address, or a secondary address of a node ENI).
    pub fn eni_with_ip(&self, ip: &str) -> Option<&EniFact> {
        self.enis.iter().find(|e| e.private_ips.iter().any(|p| p == ip))
    }

    pub fn group(&self, id: &str) -> Option<&GroupFact> {
        self.security_groups.iter().find(|g| g.id == id)
    }

    /// Pods that take an address from the CNI (not hostNetwork).
    pub fn networked_pods(&self) -> impl Iterator<Item = &PodFact> {
        self.pods.iter().filter(|p| !p.host_network)
    }
}
