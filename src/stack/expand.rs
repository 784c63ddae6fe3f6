//! Expansion of a validated stack into desired resources with their attributes and references.

use serde_json::{Map, Value, json};

use super::model::CniMode;
use super::{Cluster, EniSecurityGroup, Manifest, NatLayout, Role, Rule, Source, Stack, TierKind};
use crate::address::Address;
use crate::ownership;
use crate::provider::Desired;
use crate::value::reference;

struct Builder<'a> {
    stack: &'a Stack,
    out: Vec<Desired>,
}

impl Builder<'_> {
    fn add(&mut self, address: Address, attrs: Value, extra_deps: Vec<Address>) {
        let Value::Object(attrs) = attrs else { unreachable!("attributes are objects") };
        self.out.push(Desired::new(address, attrs, extra_deps));
    }

    /// `Name`, the stack's tags, the ownership tags, then the resource's own.
    fn tags(&self, address: &Address, name: &str, own: &[(&str, &str)]) -> Value {
        let mut tags = Map::new();
        for (k, v) in &self.stack.tags {
            tags.insert(k.clone(), json!(v));
        }
        for (k, v) in own {
            tags.insert((*k).into(), json!(v));
        }
        tags.insert("Name".into(), json!(format!("{}-{name}", self.stack.name)));
        tags.insert(ownership::STACK_TAG.into(), json!(self.stack.name));
        tags.insert(ownership::ADDRESS_TAG.into(), json!(address.to_string()));
        Value::Object(tags)
    }
}

pub(super) fn expand(stack: &Stack) -> Vec<Desired> {
    let mut b = Builder { stack, out: vec![] };
    let vpc = Address::new("vpc", "main");
    let tags = b.tags(&vpc, "vpc", &[]);
    b.add(
        vpc.clone(),
        json!({
            "cidr_block": stack.vpc_cidr.to_string(),
            "enable_dns_hostnames": true,
            "enable_dns_support": true,
            "tags": tags,
        }),
        vec![],
    );

    let mut cidr_nodes = vec![];
    for net in &stack.secondary_cidrs {
        let address = Address::keyed("vpc_cidr", "secondary", &net.to_string());
        b.add(address.clone(), json!({"vpc_id": reference(&vpc, "id"), "cidr_block": net.to_string()}), vec![]);
        cidr_nodes.push((*net, address));
    }

    for tier in &stack.tiers {
        for (az, net) in &tier.subnets {
            let address = Address::keyed("subnet", tier.kind.name(), az);
            let role: &[(&str, &str)] = match tier.kind {
                TierKind::Public => &[("kubernetes.io/role/elb", "1")],
                TierKind::Private => &[("kubernetes.io/role/internal-elb", "1")],
                TierKind::Intra => &[],
            };
            let mut own: Vec<(&str, &str)> = tier.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            own.extend_from_slice(role);
            let tags = b.tags(&address, &format!("{}-{az}", tier.kind.name()), &own);
            // A subnet in a secondary range can only be made once that range is associated.
            let after: Vec<Address> = cidr_nodes.iter().filter(|(n, _)| n.contains(net)).map(|(_, a)| a.clone()).collect();
            b.add(
                address,
                json!({
                    "vpc_id": reference(&vpc, "id"),
                    "cidr_block": net.to_string(),
                    "availability_zone": az,
                    "map_public_ip_on_launch": tier.kind == TierKind::Public,
                    "tags": tags,
                }),
                after,
            );
        }
    }

    let public = stack.tier(TierKind::Public);
    let igw = Address::new("internet_gateway", "main");
    if public.is_some() {
        let tags = b.tags(&igw, "igw", &[]);
        b.add(igw.clone(), json!({"vpc_id": reference(&vpc, "id"), "tags": tags}), vec![]);
    }

    let public_nats = nat_gateways(&mut b, stack.nat_public, TierKind::Public);
    let private_nats = nat_gateways(&mut b, stack.nat_private, TierKind::Private);

    if let Some(tier) = public {
        let routes = vec![json!({"destination": "0.0.0.0/0", "gateway_id": reference(&igw, "id")})];
        route_tables(&mut b, tier.kind, &tier.subnets, &[], Some(routes), &vpc);
    }
    for (kind, nats) in [(TierKind::Private, &public_nats), (TierKind::Intra, &private_nats)] {
        if let Some(tier) = stack.tier(kind) {
            route_tables(&mut b, kind, &tier.subnets, nats, None, &vpc);
        }
    }

    for sg in &stack.security_groups {
        let address = Address::new("security_group", &sg.name);
        let tags = b.tags(&address, &format!("sg-{}", sg.name), &sg.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>());
        let after = sg.depends_on.iter().map(|(a, _)| a.clone()).collect();
        b.add(
            address.clone(),
            json!({
                "vpc_id": reference(&vpc, "id"),
                "group_name": sg.group_name,
                "description": sg.description,
                "tags": tags,
            }),
            after,
        );
        let rules = |list: &[Rule]| -> Value { Value::Array(list.iter().map(|r| rule(r, &address)).collect()) };
        b.add(
            address.with_kind("security_group_rules"),
            json!({
                "group_id": reference(&address, "id"),
                "ingress": rules(&sg.ingress),
                "egress": rules(&sg.egress),
            }),
            vec![],
        );
    }
    if let Some(cluster) = &stack.cluster {
        eks(&mut b, cluster);
    }
    b.out
}

/// IAM roles, the cluster, the VPC CNI configured before any node, access entries, nodegroups.
fn eks(b: &mut Builder, cluster: &Cluster) {
    let stack = b.stack;
    let partition = crate::partition::Partition::of(&stack.region);
    let role = |b: &mut Builder, name: &str, role: &Role, service: &str, policies: &[&str]| -> Value {
        if let Some(arn) = &role.existing_arn {
            return json!(arn);
        }
        let address = Address::new("iam_role", name);
        let mut arns: Vec<String> = policies.iter().map(|p| partition.managed_policy(p)).collect();
        arns.extend(role.extra_policies.iter().cloned());
        arns.sort();
        arns.dedup();
        let tags = b.tags(&address, &format!("{name}-role"), &[]);
        b.add(
            address.clone(),
            json!({
                "name": format!("{}-{name}", stack.name),
                "path": format!("/eksnet/{}/", stack.name),
                "trusted_service": service,
                "policy_arns": arns,
                "tags": tags,
            }),
            vec![],
        );
        reference(&address, "arn")
    };
    let cluster_role =
        role(b, "cluster", &cluster.cluster_role, &partition.service_principal("eks"), &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"]);
    let node_role = role(
        b,
        "node",
        &cluster.node_role,
        &partition.service_principal("ec2"),
        &["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"],
    );

    let private = stack.tier(TierKind::Private).map(|t| t.subnets.clone()).unwrap_or_default();
    let private_subnets: Vec<Value> = private.iter().map(|(az, _)| reference(&Address::keyed("subnet", "private", az), "id")).collect();
    let address = Address::new("eks_cluster", "main");
    let own: Vec<(&str, &str)> = cluster.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut tags = b.tags(&address, "cluster", &own);
    tags["Name"] = json!(cluster.name);
    let mut logging = cluster.logging.clone();
    logging.sort();
    b.add(
        address.clone(),
        json!({
            "name": cluster.name,
            "version": cluster.version,
            "role_arn": cluster_role,
            "subnet_ids": private_subnets,
            "endpoint_public_access": cluster.endpoint_public,
            "endpoint_private_access": cluster.endpoint_private,
            "public_access_cidrs": if cluster.endpoint_public { json!(cluster.public_cidrs) } else { json!([]) },
            "logging": logging,
            "authentication_mode": cluster.authentication_mode,
            "tags": tags,
            // A cluster found CREATING (a run died while EKS made it) is waited for.
            "status": "ACTIVE",
        }),
        vec![],
    );
    let cluster_name = reference(&address, "name");

    for arn in &cluster.admins {
        let entry = Address::keyed("eks_access_entry", "admin", arn);
        let tags = b.tags(&entry, "admin", &[]);
        b.add(
            entry,
            json!({
                "cluster_name": cluster_name,
                "principal_arn": arn,
                "policy_arns": [partition.access_policy("AmazonEKSClusterAdminPolicy")],
                "tags": tags,
            }),
            vec![],
        );
    }

    // The VPC CNI is configured before any node exists: nodes started without custom
    // networking take pod IPs from the node subnets and must all be replaced.
    let cni = Address::new("eks_addon", "vpc_cni");
    let groups: Vec<Value> = cluster
        .cni
        .eni_security_groups
        .iter()
        .map(|g| match g {
            EniSecurityGroup::Cluster => reference(&address, "cluster_security_group_id"),
            EniSecurityGroup::Named(n) => reference(&Address::new("security_group", n), "id"),
        })
        .collect();
    let mut subnets = serde_json::Map::new();
    for (az, _) in stack.tier(TierKind::Intra).map(|t| t.subnets.as_slice()).unwrap_or_default() {
        subnets.insert(az.clone(), json!({"id": reference(&Address::keyed("subnet", "intra", az), "id"), "securityGroups": groups}));
    }
    let config = json!({
        "env": {
            "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
            "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
            "ENABLE_POD_ENI": "true",
            "AWS_VPC_K8S_CNI_EXTERNALSNAT": if cluster.cni.external_snat { "true" } else { "false" },
        },
        "init": {"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}},
        "eniConfig": {"create": true, "region": stack.region, "subnets": subnets},
    });
    // What nodes wait for: the add-on, or in daemonset mode the aws-node env and ENIConfigs.
    let cni_nodes: Vec<Address> = match cluster.cni.mode {
        CniMode::Addon => {
            let tags = b.tags(&cni, "vpc-cni", &[]);
            b.add(
                cni.clone(),
                json!({"cluster_name": cluster_name, "addon_name": "vpc-cni", "configuration_values": config, "tags": tags, "status": "ACTIVE"}),
                vec![],
            );
            vec![cni.clone()]
        }
        CniMode::Daemonset => daemonset_cni(b, &address, &config, &groups),
    };

    // Nodes need their subnets' way out (routes through the NAT) to join the cluster.
    let mut node_deps = cni_nodes.clone();
    // In an upgrade the add-ons move to the new version before the nodes do (EKS user guide,
    // update-cluster; docs/upgrades.md); CoreDNS runs on the nodes, so it comes after them.
    node_deps.extend(cluster.cni.addons.iter().filter(|a| *a != "coredns").map(|a| Address::new("eks_addon", &a.replace('-', "_"))));
    for (az, _) in &private {
        node_deps.push(Address::keyed("route_table_association", "private", az));
    }
    let mut nodegroups = vec![];
    for ng in &cluster.nodegroups {
        let address = Address::new("eks_nodegroup", &ng.name);
        let own: Vec<(&str, &str)> = ng.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let tags = b.tags(&address, &format!("ng-{}", ng.name), &own);
        let taints: Vec<Value> = ng.taints.iter().map(|t| json!({"key": t.key, "value": t.value, "effect": t.effect})).collect();
        let mut attrs = json!({
                "cluster_name": cluster_name,
                "nodegroup_name": ng.name,
                // Managed nodes follow the control plane, after it and the add-ons in an
                // upgrade (never newer than it: docs/upgrades.md).
                "version": cluster.version,
                "node_role_arn": node_role,
                "subnet_ids": private_subnets,
                "instance_types": ng.instance_types,
                "ami_type": ng.ami_type,
                "capacity_type": ng.capacity_type,
                "disk_size": ng.disk_size,
                "scaling": {"min": ng.min, "desired": ng.desired, "max": ng.max},
                "labels": ng.labels,
                "taints": taints,
                "max_unavailable": ng.max_unavailable,
                "tags": tags,
                "status": "ACTIVE",
        });
        // An AMI release the stack pins; `latest` is resolved at plan time from what EKS
        // publishes (`app::upgrade_step`). Without one the nodes keep their release.
        if let Some(release) = &ng.release_version {
            attrs["release_version"] = json!(release);
        }
        b.add(address.clone(), attrs, node_deps.clone());
        nodegroups.push(address);
    }
    for addon in &cluster.cni.addons {
        let address = Address::new("eks_addon", &addon.replace('-', "_"));
        let tags = b.tags(&address, addon, &[]);
        // CoreDNS runs as pods: it only becomes healthy once nodes exist.
        let after = if addon == "coredns" { nodegroups.clone() } else { cni_nodes.clone() };
        b.add(address, json!({"cluster_name": cluster_name, "addon_name": addon, "configuration_values": {}, "tags": tags, "status": "ACTIVE"}), after);
    }

    for m in &b.stack.manifests.clone() {
        let mut deps = cni_nodes.clone();
        if m.needs_nodes {
            deps.extend(nodegroups.iter().cloned());
        }
        if let Some(ns) = m.object["metadata"]["namespace"].as_str() {
            let namespace = Address::keyed("k8s_manifest", "namespace", ns);
            if b.stack.manifests.iter().any(|o| o.address == namespace) {
                deps.push(namespace);
            }
        }
        // A SecurityGroupPolicy applies only to pods scheduled after it exists (EKS user guide,
        // "Use a security group policy for an Amazon EKS Pod": it does not affect running pods):
        // whatever makes pods starts after the namespace's policies.
        if makes_pods(&m.object) {
            let namespace = namespace_of(&m.object);
            deps.extend(
                b.stack
                    .manifests
                    .iter()
                    .filter(|o| o.object["kind"] == "SecurityGroupPolicy" && namespace_of(&o.object) == namespace)
                    .map(|o| o.address.clone()),
            );
        }
        add_manifest(b, m, &address, deps);
    }
}

/// Kinds whose controllers create pods (or that are pods).
fn makes_pods(object: &Value) -> bool {
    ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"].iter().any(|k| object["kind"] == *k)
}

/// The namespace a namespaced object lands in (`default` when the manifest names none).
fn namespace_of(object: &Value) -> &str {
    object["metadata"]["namespace"].as_str().unwrap_or("default")
}

/// The cluster's API, as every Kubernetes object refers to it.
fn cluster_api(cluster: &Address) -> Value {
    json!({"name": reference(cluster, "name"), "endpoint": reference(cluster, "endpoint"), "ca_data": reference(cluster, "ca_data")})
}

/// A Kubernetes object as a resource: labelled and annotated so refresh finds it by address.
fn add_manifest(b: &mut Builder, m: &Manifest, cluster: &Address, deps: Vec<Address>) {
    let mut object = m.object.clone();
    let meta = &mut object["metadata"];
    meta["labels"]["app.kubernetes.io/managed-by"] = json!("eksnet");
    meta["labels"][ownership::STACK_LABEL] = json!(b.stack.name);
    meta["annotations"][ownership::ADDRESS_ANNOTATION] = json!(m.address.to_string());
    let api = format!("{} {}", object["apiVersion"].as_str().unwrap_or_default(), object["kind"].as_str().unwrap_or_default());
    b.add(
        m.address.clone(),
        json!({"cluster": cluster_api(cluster), "api": api, "object": object, "wait": m.wait, "abandon_on_delete": m.abandon_on_delete}),
        deps,
    );
}

/// The seed's way: server-side apply the custom networking env onto EKS's own aws-node
/// DaemonSet (left in place on destroy: EKS owns it) and one ENIConfig per AZ.
fn daemonset_cni(b: &mut Builder, cluster: &Address, config: &Value, groups: &[Value]) -> Vec<Address> {
    let env = |m: &Value| -> Value { Value::Array(m.as_object().map(|m| m.iter().map(|(k, v)| json!({"name": k, "value": v})).collect()).unwrap_or_default()) };
    let daemonset = Manifest {
        address: Address::keyed("k8s_manifest", "daemonset", "kube-system/aws-node"),
        object: json!({
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "aws-node", "namespace": "kube-system"},
            "spec": {"template": {"spec": {
                "containers": [{"name": "aws-node", "env": env(&config["env"])}],
                "initContainers": [{"name": "aws-vpc-cni-init", "env": env(&config["init"]["env"])}],
            }}},
        }),
        wait: false,
        needs_nodes: false,
        abandon_on_delete: true,
    };
    add_manifest(b, &daemonset, cluster, vec![]);
    let mut out = vec![daemonset.address.clone()];
    let template = include_str!("../../templates/eniconfig.yaml");
    let stack = b.stack;
    let addresses: std::collections::BTreeSet<Address> = std::collections::BTreeSet::new();
    let cx = super::manifests::Context { stack: &stack.name, region: &stack.region, addresses: &addresses, has_cluster: true };
    for (az, _) in stack.tier(TierKind::Intra).map(|t| t.subnets.as_slice()).unwrap_or_default() {
        let vars = [
            ("az".to_string(), json!(az)),
            ("subnet".to_string(), reference(&Address::keyed("subnet", "intra", az), "id")),
            ("security_groups".to_string(), json!(groups)),
        ]
        .into();
        let entry = super::manifests::Entry { path: std::path::Path::new("templates/eniconfig.yaml"), vars: &vars, wait: false, needs_nodes: false };
        let mut problems = vec![];
        for m in super::manifests::parse("templates/eniconfig.yaml", template, &entry, &cx, &mut problems) {
            add_manifest(b, &m, cluster, vec![]);
            out.push(m.address);
        }
        debug_assert!(problems.is_empty(), "the shipped ENIConfig template is valid: {problems:?}");
    }
    out
}

/// NAT gateways of one layout, keyed by the AZ they sit in; returns (az, address) pairs.
fn nat_gateways(b: &mut Builder, layout: NatLayout, placed_in: TierKind) -> Vec<(String, Address)> {
    let Some(tier) = b.stack.tier(placed_in) else {
        return vec![];
    };
    let subnets: Vec<(String, Address)> = match layout {
        NatLayout::None => vec![],
        NatLayout::Single => tier.subnets.iter().take(1).map(|(az, _)| (az.clone(), Address::keyed("subnet", placed_in.name(), az))).collect(),
        NatLayout::PerAz => tier.subnets.iter().map(|(az, _)| (az.clone(), Address::keyed("subnet", placed_in.name(), az))).collect(),
    };
    let connectivity = if placed_in == TierKind::Public { "public" } else { "private" };
    let mut nats = vec![];
    for (az, subnet) in subnets {
        let address = Address::keyed("nat_gateway", connectivity, &az);
        let tags = b.tags(&address, &format!("nat-{connectivity}-{az}"), &[]);
        let mut attrs = json!({
            "subnet_id": reference(&subnet, "id"),
            "connectivity_type": connectivity,
            "tags": tags,
        });
        if connectivity == "public" {
            let eip = Address::keyed("elastic_ip", "nat", &az);
            let eip_tags = b.tags(&eip, &format!("nat-{az}"), &[]);
            b.add(eip.clone(), json!({"domain": "vpc", "tags": eip_tags}), vec![]);
            attrs["allocation_id"] = reference(&eip, "id");
        }
        // A public NAT only works with the internet gateway attached, and the gateway can only be
        // detached once the NAT (which maps a public address) is gone.
        let after = if connectivity == "public" { vec![Address::new("internet_gateway", "main")] } else { vec![] };
        b.add(address.clone(), attrs, after);
        nats.push((az, address));
    }
    nats
}

/// Route tables of a tier: one shared table, or one per AZ when each AZ has its own NAT.
fn route_tables(
    b: &mut Builder,
    kind: TierKind,
    subnets: &[(String, ipnet::Ipv4Net)],
    nats: &[(String, Address)],
    fixed_routes: Option<Vec<Value>>,
    vpc: &Address,
) {
    let per_az = nats.len() > 1;
    let table_of = |az: &str| -> Address { if per_az { Address::keyed("route_table", kind.name(), az) } else { Address::new("route_table", kind.name()) } };
    let mut made: Vec<Address> = vec![];
    for (az, _) in subnets {
        let table = table_of(az);
        if !made.contains(&table) {
            let routes = match &fixed_routes {
                Some(r) => r.clone(),
                None => nats
                    .iter()
                    .find(|(nat_az, _)| !per_az || nat_az == az)
                    .map(|(_, nat)| vec![json!({"destination": "0.0.0.0/0", "nat_gateway_id": reference(nat, "id")})])
                    .unwrap_or_default(),
            };
            let label = match &table.key {
                Some(az) => format!("{}-{az}", kind.name()),
                None => kind.name().to_string(),
            };
            let tags = b.tags(&table, &format!("rt-{label}"), &[]);
            b.add(table.clone(), json!({"vpc_id": reference(vpc, "id"), "routes": routes, "tags": tags}), vec![]);
            made.push(table.clone());
        }
        let subnet = Address::keyed("subnet", kind.name(), az);
        b.add(
            subnet.with_kind("route_table_association"),
            json!({
                "route_table_id": reference(&table, "id"),
                "subnet_id": reference(&subnet, "id"),
            }),
            vec![],
        );
    }
}

fn rule(rule: &Rule, own: &Address) -> Value {
    let mut out = json!({"protocol": rule.protocol});
    if let Some((from, to)) = rule.ports {
        out["from_port"] = json!(from);
        out["to_port"] = json!(to);
    } else if rule.protocol == "icmp" {
        out["from_port"] = json!(-1);
        out["to_port"] = json!(-1);
    }
    match &rule.source {
        Source::Cidr(net) => out["cidr"] = json!(net.to_string()),
        Source::SelfGroup => out["group_id"] = reference(own, "id"),
        Source::Group(name) => out["group_id"] = reference(&Address::new("security_group", name), "id"),
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn workloads_start_after_the_security_group_policies_of_their_namespace() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/custom-networking.yaml");
        let stack = crate::stack::load(&path, &crate::stack::Overrides { region: None }).unwrap();
        let desired = stack.desired();
        let of_kind =
            |kind: &str| desired.iter().find(|d| d.address.kind == "k8s_manifest" && d.attrs["object"]["kind"] == kind).unwrap_or_else(|| panic!("no {kind}"));
        let (deployment, policy) = (of_kind("Deployment"), of_kind("SecurityGroupPolicy"));
        assert!(deployment.deps.contains(&policy.address), "{:?} misses {}", deployment.deps, policy.address);
        assert!(!policy.deps.contains(&deployment.address));
    }

    #[test]
    fn a_china_region_gets_aws_cn_arns() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("stacks/custom-networking.yaml");
        // The bad-stacks corpus (51) shows an `arn:aws:` ARN refused in cn-north-1.
        let stack = crate::stack::load(&path, &crate::stack::Overrides { region: Some("cn-north-1".into()) }).unwrap();
        let desired = stack.desired();
        let node = desired.iter().find(|d| d.address.to_string() == "iam_role.node").unwrap();
        let policies = node.attrs["policy_arns"].as_array().unwrap();
        assert!(policies.iter().any(|p| p == "arn:aws-cn:iam::aws:policy/AmazonEKS_CNI_Policy"), "{policies:?}");
        assert!(policies.iter().all(|p| p.as_str().unwrap().starts_with("arn:aws-cn:")), "{policies:?}");
        assert_eq!(node.attrs["trusted_service"], "ec2.amazonaws.com");
    }
}
