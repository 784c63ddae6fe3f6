//! What the stack promises, in the terms verify can compare with what it observes: the zones,
//! the subnets of each tier with their CIDRs and ids, the nodegroups, the CNI settings, the
//! ENIConfigs' security groups and the routes' targets. Ids come from the state (what eksnet
//! made); the cluster security group, which EKS makes, from DescribeCluster.

use ipnet::Ipv4Net;

use crate::address::Address;
use crate::stack::model::CniMode;
use crate::stack::{EniSecurityGroup, Stack, TierKind};
use crate::state::State;

#[derive(Debug, Clone)]
pub struct Expect {
    pub stack: String,
    pub cluster: Option<String>,
    pub zones: Vec<String>,
    pub subnets: Vec<SubnetExpect>,
    /// Nodegroup name and the stack's desired size (EKS's own desired size wins when read).
    pub nodegroups: Vec<(String, u32)>,
    pub cni_mode: CniMode,
    /// The aws-node env the stack sets, name and value.
    pub cni_env: Vec<(String, String)>,
    /// The ENIConfigs' security groups; `cluster` is resolved once the cluster is described.
    pub eni_groups: Vec<GroupRef>,
    pub vpc: Option<String>,
    pub internet_gateway: Option<String>,
    /// NAT gateways by connectivity: (zone, id).
    pub public_nats: Vec<Nat>,
    pub private_nats: Vec<Nat>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupRef {
    /// The EKS cluster security group.
    Cluster,
    /// A group of the stack: its name and id from the state.
    Stack { name: String, id: Option<String> },
}

/// A NAT gateway eksnet made: its zone (the address's key) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nat {
    pub zone: String,
    pub id: String,
}

#[derive(Debug, Clone)]
pub struct SubnetExpect {
    pub tier: TierKind,
    pub zone: String,
    pub cidr: Ipv4Net,
    pub id: Option<String>,
}

impl Expect {
    pub fn new(stack: &Stack, state: &State) -> Expect {
        let id = |address: &Address| state.resources.get(address).and_then(|r| r.id.clone());
        let subnets = stack
            .tiers
            .iter()
            .flat_map(|t| {
                t.subnets.iter().map(|(az, cidr)| SubnetExpect {
                    tier: t.kind,
                    zone: az.clone(),
                    cidr: *cidr,
                    id: id(&Address::keyed("subnet", t.kind.name(), az)),
                })
            })
            .collect();
        let zones = stack.tier(TierKind::Intra).or(stack.tiers.first()).map(|t| t.subnets.iter().map(|(az, _)| az.clone()).collect()).unwrap_or_default();
        let nats = |connectivity: &str| -> Vec<Nat> {
            state
                .resources
                .iter()
                .filter(|(a, _)| a.kind == "nat_gateway" && a.name == connectivity)
                .filter_map(|(a, r)| Some(Nat { zone: a.key.clone().unwrap_or_default(), id: r.id.clone()? }))
                .collect()
        };
        let (mut nodegroups, mut cni_env, mut eni_groups, mut cni_mode) = (vec![], vec![], vec![], CniMode::Addon);
        if let Some(c) = &stack.cluster {
            nodegroups = c.nodegroups.iter().map(|n| (n.name.clone(), n.desired)).collect();
            cni_mode = c.cni.mode;
            // The same settings stack/expand.rs puts in the add-on's configurationValues.
            cni_env = [
                ("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "true"),
                ("ENI_CONFIG_LABEL_DEF", "topology.kubernetes.io/zone"),
                ("ENABLE_POD_ENI", "true"),
                ("AWS_VPC_K8S_CNI_EXTERNALSNAT", if c.cni.external_snat { "true" } else { "false" }),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
            eni_groups = c
                .cni
                .eni_security_groups
                .iter()
                .map(|g| match g {
                    EniSecurityGroup::Cluster => GroupRef::Cluster,
                    EniSecurityGroup::Named(n) => GroupRef::Stack { name: n.clone(), id: id(&Address::new("security_group", n)) },
                })
                .collect();
        }
        Expect {
            stack: stack.name.clone(),
            cluster: stack.cluster.as_ref().map(|c| c.name.clone()),
            zones,
            subnets,
            nodegroups,
            cni_mode,
            cni_env,
            eni_groups,
            vpc: id(&Address::new("vpc", "main")),
            internet_gateway: id(&Address::new("internet_gateway", "main")),
            public_nats: nats("public"),
            private_nats: nats("private"),
        }
    }

    pub fn tier(&self, tier: TierKind) -> impl Iterator<Item = &SubnetExpect> {
        self.subnets.iter().filter(move |s| s.tier == tier)
    }

    /// The subnet of `tier` in `zone`.
    pub fn subnet(&self, tier: TierKind, zone: &str) -> Option<&SubnetExpect> {
        self.tier(tier).find(|s| s.zone == zone)
    }

    /// Whether `ip` lies in a subnet of `tier`.
    pub fn in_tier(&self, tier: TierKind, ip: &str) -> bool {
        ip.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| self.tier(tier).any(|s| s.cidr.contains(&ip)))
    }

    /// The ENIConfigs' security group ids, with the cluster security group as EKS reports it.
    pub fn eni_group_ids(&self, cluster_security_group: Option<&str>) -> Vec<String> {
        let mut ids: Vec<String> = self
            .eni_groups
            .iter()
            .filter_map(|g| match g {
                GroupRef::Cluster => cluster_security_group.map(str::to_string),
                GroupRef::Stack { id, .. } => id.clone(),
            })
            .collect();
        ids.sort();
        ids
    }
}
