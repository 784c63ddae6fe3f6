//! From Terraform's resources to eksnet's addresses, by what each object is (its type, CIDRs,
//! zones, route targets, connectivity type, cluster), never by its Terraform name: a subnet is
//! public because its route table sends 0.0.0.0/0 to an internet gateway, private because it
//! sends it to a public NAT gateway, intra because it lies in a secondary CIDR of the VPC.
//!
//! Attribute names are those the AWS provider writes into the state (its resource schemas under
//! hashicorp/terraform-provider-aws internal/service/ec2, eks and iam; the fixture's README
//! names the files).

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use serde_json::Value;

use super::cni::CniSettings;
use super::kube::{self, KubeObject};
use super::tfstate::{Object, TfState};
use crate::address::Address;
use crate::diagnostic::help;
use crate::stack::TierKind;

/// What the import found and where each object goes.
#[derive(Debug, Default)]
pub struct Mapping {
    pub region: String,
    pub account: Option<String>,
    pub vpc_id: String,
    pub vpc_cidr: String,
    pub enable_dns_hostnames: bool,
    pub secondary_cidrs: Vec<String>,
    /// The zones, in the order the stack lists them (a single NAT gateway's zone first).
    pub zones: Vec<String>,
    /// Per tier: zone → (CIDR, subnet id, tags).
    pub tiers: BTreeMap<TierKind, BTreeMap<String, Found>>,
    pub nat_public: Vec<Nat>,
    pub nat_private: Vec<Nat>,
    pub security_groups: Vec<Group>,
    /// Tags every imported AWS object carries (the stack's `tags:`).
    pub common_tags: BTreeMap<String, String>,
    pub cluster: Option<Cluster>,
    /// Objects eksnet takes over: it tags them (when `tag`) and from then on manages them.
    pub taken: Vec<Taken>,
    /// The Kubernetes provider's objects eksnet takes over as manifests (kube): marked with
    /// eksnet's labels and annotation, not tags.
    pub kube: Vec<KubeObject>,
    /// Objects the stack refers to without managing them (IAM roles given by ARN).
    pub referenced: Vec<Left>,
    /// Objects eksnet leaves alone, with why.
    pub left: Vec<Left>,
    /// Choices the import made, and differences `eksnet plan` will show, for the stack's comments
    /// and the report.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Found {
    pub cidr: String,
    pub id: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Nat {
    pub zone: String,
    pub allocation_id: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Group {
    pub key: String,
    pub id: String,
    pub group_name: String,
    pub description: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// `tcp`, `udp`, `icmp`, `all` or a protocol number.
    pub protocol: String,
    pub ports: Option<(i64, i64)>,
    pub cidrs: Vec<String>,
    pub self_: bool,
    pub group: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub version: String,
    pub role_arn: String,
    pub endpoint_public: bool,
    pub endpoint_private: bool,
    pub public_cidrs: Vec<String>,
    pub logging: Vec<String>,
    pub authentication_mode: Option<String>,
    pub tags: BTreeMap<String, String>,
    pub node_role_arn: Option<String>,
    pub nodegroups: Vec<Nodegroup>,
    /// Whether the state has the `vpc-cni` add-on (else aws-node was configured otherwise).
    pub vpc_cni_addon: bool,
    /// The CNI's settings: from the add-on's configuration values in the state, or read from
    /// the cluster by the import (`cni::CniSettings::read`); None until known.
    pub cni: Option<CniSettings>,
    pub other_addons: Vec<String>,
    /// Where the cluster's API is (the state's `endpoint` and `certificate_authority`).
    pub endpoint: String,
    pub ca_data: String,
    /// The cluster security group EKS made (managed nodes carry it).
    pub security_group_id: Option<String>,
    /// Principals with an access entry whose one policy is cluster admin on the whole cluster
    /// (the stack's `cluster.admins`).
    pub admins: Vec<String>,
}

impl Cluster {
    /// Where the cluster's Kubernetes API is.
    pub fn api(&self) -> crate::k8s::ClusterRef {
        crate::k8s::ClusterRef { name: self.name.clone(), endpoint: self.endpoint.clone(), ca_data: self.ca_data.clone() }
    }
}

#[derive(Debug, Clone)]
pub struct Nodegroup {
    pub name: String,
    pub instance_types: Vec<String>,
    pub ami_type: Option<String>,
    pub capacity_type: Option<String>,
    pub disk_size: Option<u64>,
    pub min: u64,
    pub desired: u64,
    pub max: u64,
    pub labels: BTreeMap<String, String>,
    pub max_unavailable: Option<u64>,
    pub tags: BTreeMap<String, String>,
}

/// A Terraform object eksnet takes over.
#[derive(Debug, Clone)]
pub struct Taken {
    pub terraform: String,
    pub address: Address,
    /// The object's id (an ARN for EKS objects, which are tagged by ARN).
    pub id: String,
    /// Whether the object carries tags of its own (else it is found through its parent).
    pub tagged: bool,
}

#[derive(Debug, Clone)]
pub struct Left {
    pub terraform: String,
    pub why: String,
}

const IPV4_ANY: &str = "0.0.0.0/0";

/// Maps the state's objects; `cluster` picks one when the state has several.
pub fn map(state: &TfState, cluster: Option<&str>) -> anyhow::Result<Mapping> {
    let objects = state.objects();
    let mut m = Mapping::default();
    let managed = |o: &&Object| o.resource.mode == "managed";
    let of = |kind: &str| -> Vec<&Object> { objects.iter().filter(managed).filter(|o| o.kind() == kind).collect() };

    // The cluster first: it decides which VPC is the stack's.
    let clusters = of("aws_eks_cluster");
    let chosen = match (cluster, clusters.as_slice()) {
        (Some(name), _) => Some(*clusters.iter().find(|c| c.str("name") == Some(name)).ok_or_else(|| {
            let names: Vec<&str> = clusters.iter().filter_map(|c| c.str("name")).collect();
            help(
                format!("the state has no EKS cluster `{name}`"),
                format!("the state's clusters: {}", if names.is_empty() { "none".into() } else { names.join(", ") }),
            )
        })?),
        (None, []) => None,
        (None, [one]) => Some(*one),
        (None, many) => {
            let names: Vec<&str> = many.iter().filter_map(|c| c.str("name")).collect();
            return Err(help(
                format!("the state has {} EKS clusters ({}); an eksnet stack has one", many.len(), names.join(", ")),
                format!("choose one with `--cluster {}`; import the others into stacks of their own", names[0]),
            ));
        }
    };
    let vpcs = of("aws_vpc");
    let vpc = match chosen.map(|c| c.block("vpc_config")["vpc_id"].as_str().unwrap_or_default()) {
        Some(id) => vpcs.iter().find(|v| v.id() == id).copied(),
        None if vpcs.len() == 1 => Some(vpcs[0]),
        None if vpcs.is_empty() => None,
        None => {
            let ids: Vec<&str> = vpcs.iter().map(|v| v.id()).collect();
            return Err(help(
                format!("the state has {} VPCs ({}) and no EKS cluster to choose one by", vpcs.len(), ids.join(", ")),
                "import a state with one VPC",
            ));
        }
    };
    let Some(vpc) = vpc else {
        return Err(help("the state has no VPC (`aws_vpc`) that eksnet could take over", "import the Terraform state that built the cluster's VPC"));
    };
    m.vpc_id = vpc.id().to_string();
    m.vpc_cidr = vpc.str("cidr_block").unwrap_or_default().to_string();
    m.enable_dns_hostnames = vpc.attr("enable_dns_hostnames").as_bool().unwrap_or(false);
    m.account = vpc.str("owner_id").map(str::to_string);
    m.taken.push(taken(vpc, Address::new("vpc", "main"), true));
    let in_vpc = |o: &Object| o.str("vpc_id") == Some(m.vpc_id.as_str());

    let mut secondary: Vec<Ipv4Net> = vec![];
    for a in of("aws_vpc_ipv4_cidr_block_association").into_iter().filter(|o| in_vpc(o)) {
        let cidr = a.str("cidr_block").unwrap_or_default().to_string();
        if let Ok(net) = cidr.parse() {
            secondary.push(net);
        }
        m.taken.push(taken(a, Address::keyed("vpc_cidr", "secondary", &cidr), false));
        m.secondary_cidrs.push(cidr);
    }

    // Route targets: table → the 0.0.0.0/0 route's target, from the tables' inline routes and
    // the separate `aws_route`s (which the provider also shows in the table's `route` set).
    let tables: Vec<&Object> = of("aws_route_table").into_iter().filter(|o| in_vpc(o)).collect();
    let mut default_route: BTreeMap<String, String> = BTreeMap::new();
    for t in &tables {
        for r in t.attr("route").as_array().into_iter().flatten() {
            if let Some(target) = route_target(r).filter(|_| r["cidr_block"] == IPV4_ANY) {
                default_route.insert(t.id().to_string(), target);
            }
        }
    }
    let routes = of("aws_route");
    for r in &routes {
        if let (Some(table), Some(target), Some(IPV4_ANY)) = (r.str("route_table_id"), route_target(&r.instance.attributes), r.str("destination_cidr_block")) {
            default_route.insert(table.to_string(), target);
        }
    }
    let nats = of("aws_nat_gateway");
    let nat_public: BTreeSet<&str> = nats.iter().filter(|n| n.str("connectivity_type").unwrap_or("public") == "public").map(|n| n.id()).collect();
    let igws: BTreeSet<&str> = of("aws_internet_gateway").iter().map(|g| g.id()).collect();
    let associations = of("aws_route_table_association");
    let table_of: BTreeMap<&str, &str> = associations.iter().filter_map(|a| Some((a.str("subnet_id")?, a.str("route_table_id")?))).collect();

    // Subnets by tier.
    let subnets: Vec<&Object> = of("aws_subnet").into_iter().filter(|o| in_vpc(o)).collect();
    let mut tier_of: BTreeMap<String, TierKind> = BTreeMap::new();
    let mut zone_of: BTreeMap<String, String> = BTreeMap::new();
    for s in &subnets {
        let cidr = s.str("cidr_block").unwrap_or_default().to_string();
        let zone = s.str("availability_zone").unwrap_or_default().to_string();
        let net: Option<Ipv4Net> = cidr.parse().ok();
        let target = table_of.get(s.id()).and_then(|t| default_route.get(*t));
        let tier = if net.is_some_and(|n| secondary.iter().any(|p| p.contains(&n))) {
            TierKind::Intra
        } else {
            match target {
                Some(t) if igws.contains(t.as_str()) || t.starts_with("igw-") => TierKind::Public,
                Some(t) if nat_public.contains(t.as_str()) => TierKind::Private,
                Some(_) => TierKind::Intra,
                None => {
                    m.notes.push(format!(
                        "subnet {} ({cidr}) has no default route; it is taken as a private subnet, which eksnet routes through the public NAT gateway",
                        s.id()
                    ));
                    TierKind::Private
                }
            }
        };
        let entry = m.tiers.entry(tier).or_default();
        if let Some(other) = entry.get(&zone) {
            return Err(help(
                format!("the VPC has two {} subnets in {zone} ({} and {}); an eksnet stack has one subnet per tier and zone", tier.name(), other.id, s.id()),
                "move the extra subnet out of the Terraform state (`terraform state rm`) before importing, and manage it there",
            ));
        }
        entry.insert(zone.clone(), Found { cidr, id: s.id().to_string(), tags: s.tags() });
        tier_of.insert(s.id().to_string(), tier);
        zone_of.insert(s.id().to_string(), zone.clone());
        m.taken.push(taken(s, Address::keyed("subnet", tier.name(), &zone), true));
    }
    let mut zones: BTreeSet<String> = BTreeSet::new();
    for found in m.tiers.values() {
        zones.extend(found.keys().cloned());
    }
    for (tier, found) in &m.tiers {
        let missing: Vec<&String> = zones.iter().filter(|z| !found.contains_key(*z)).collect();
        if !missing.is_empty() {
            return Err(help(
                format!(
                    "the {} tier has no subnet in {}; an eksnet stack has a subnet of every tier in every zone",
                    tier.name(),
                    missing.iter().map(|z| z.as_str()).collect::<Vec<_>>().join(", ")
                ),
                "add the missing subnets with Terraform first, or import a state whose tiers span the same zones",
            ));
        }
    }
    m.zones = zones.into_iter().collect();
    m.region = chosen
        .and_then(|c| c.str("arn"))
        .and_then(|arn| arn.split(':').nth(3))
        .map(str::to_string)
        .or_else(|| m.zones.first().map(|z| z.trim_end_matches(|c: char| c.is_ascii_lowercase()).to_string()))
        .unwrap_or_default();

    for igw in of("aws_internet_gateway").into_iter().filter(|o| in_vpc(o)) {
        m.taken.push(taken(igw, Address::new("internet_gateway", "main"), true));
    }
    let eips = of("aws_eip");
    for n in &nats {
        let Some(zone) = n.str("subnet_id").and_then(|s| zone_of.get(s)).cloned() else {
            m.left.push(Left { terraform: n.address.clone(), why: "a NAT gateway outside the stack's subnets; eksnet leaves it alone".into() });
            continue;
        };
        let public = n.str("connectivity_type").unwrap_or("public") == "public";
        let nat = Nat { zone: zone.clone(), allocation_id: n.str("allocation_id").map(str::to_string) };
        m.taken.push(taken(n, Address::keyed("nat_gateway", if public { "public" } else { "private" }, &zone), true));
        if public {
            if let Some(eip) = eips.iter().find(|e| Some(e.id()) == nat.allocation_id.as_deref() || e.str("allocation_id") == nat.allocation_id.as_deref()) {
                m.taken.push(taken(eip, Address::keyed("elastic_ip", "nat", &zone), true));
            }
            m.nat_public.push(nat);
        } else {
            m.nat_private.push(nat);
        }
    }
    for e in &eips {
        if !m.taken.iter().any(|t| t.terraform == e.address) {
            m.left.push(Left { terraform: e.address.clone(), why: "an Elastic IP no NAT gateway of the stack uses; eksnet leaves it alone".into() });
        }
    }
    order_zones(&mut m);

    // Route tables: one per tier, or one per zone when each zone has its own NAT gateway.
    for t in &tables {
        let served: Vec<(&TierKind, &String)> =
            table_of.iter().filter(|(_, table)| **table == t.id()).filter_map(|(subnet, _)| Some((tier_of.get(*subnet)?, zone_of.get(*subnet)?))).collect();
        let Some((tier, zone)) = served.first() else {
            m.left.push(Left {
                terraform: t.address.clone(),
                why: "a route table no subnet of the stack uses (e.g. the VPC module's default table); eksnet leaves it alone".into(),
            });
            continue;
        };
        let per_zone = match tier {
            TierKind::Private => m.nat_public.len() > 1,
            TierKind::Intra => m.nat_private.len() > 1,
            TierKind::Public => false,
        };
        let address = if per_zone { Address::keyed("route_table", tier.name(), zone) } else { Address::new("route_table", tier.name()) };
        m.taken.push(taken(t, address.clone(), true));
        for r in routes.iter().filter(|r| r.str("route_table_id") == Some(t.id())) {
            m.taken.push(taken(r, address.clone(), false));
        }
    }
    for a in &associations {
        match a.str("subnet_id").and_then(|s| Some((tier_of.get(s)?, zone_of.get(s)?))) {
            Some((tier, zone)) => m.taken.push(taken(a, Address::keyed("route_table_association", tier.name(), zone), false)),
            None => m.left.push(Left { terraform: a.address.clone(), why: "associates a subnet outside the stack".into() }),
        }
    }
    for r in &routes {
        if !m.taken.iter().any(|t| t.terraform == r.address) {
            m.left.push(Left { terraform: r.address.clone(), why: "a route in a table eksnet does not take".into() });
        }
    }

    security_groups(&mut m, &of, chosen);
    if let Some(c) = chosen {
        eks(&mut m, &of, c);
    }
    m.common_tags = common_tags(&objects, &m.taken);
    // Kubernetes objects become manifests, which a stack applies to its cluster.
    if chosen.is_some() {
        m.kube = objects.iter().filter(managed).filter_map(kube::from_state).collect();
        // Namespaces first, so the stack lists them before what lives in them.
        m.kube.sort_by_key(|k| k.kind != "Namespace");
    }

    // Everything else: left alone, with why.
    let taken: BTreeSet<&str> = m.taken.iter().map(|t| t.terraform.as_str()).chain(m.kube.iter().map(|k| k.terraform.as_str())).collect();
    let referenced: BTreeSet<String> = m.referenced.iter().map(|t| t.terraform.clone()).collect();
    let left: BTreeSet<String> = m.left.iter().map(|t| t.terraform.clone()).collect();
    for o in &objects {
        if taken.contains(o.address.as_str()) || referenced.contains(&o.address) || left.contains(&o.address) {
            continue;
        }
        m.left.push(Left { terraform: o.address.clone(), why: why_left(o) });
    }
    Ok(m)
}

fn taken(o: &Object, address: Address, tagged: bool) -> Taken {
    let id = match o.kind() {
        "aws_eks_cluster" | "aws_eks_node_group" | "aws_eks_addon" => o.str("arn").unwrap_or_default().to_string(),
        _ => o.id().to_string(),
    };
    Taken { terraform: o.address.clone(), address, id, tagged }
}

fn route_target(r: &Value) -> Option<String> {
    ["gateway_id", "nat_gateway_id"].iter().find_map(|k| r[*k].as_str().filter(|s| !s.is_empty()).map(str::to_string))
}

/// eksnet puts a single NAT gateway in the first zone of its tier: list that zone first.
fn order_zones(m: &mut Mapping) {
    let singles: BTreeSet<&str> = [&m.nat_public, &m.nat_private].iter().filter(|n| n.len() == 1).map(|n| n[0].zone.as_str()).collect();
    match singles.iter().collect::<Vec<_>>().as_slice() {
        [] => {}
        [zone] => {
            let zone = zone.to_string();
            m.zones.retain(|z| *z != zone);
            m.zones.insert(0, zone);
        }
        _ => m.notes.push(format!(
            "the public and the private NAT gateway sit in different zones ({}); eksnet puts a single NAT gateway of each kind in the first zone, so the plan replaces one of them",
            singles.iter().copied().collect::<Vec<_>>().join(", ")
        )),
    }
}

fn security_groups<'a>(m: &mut Mapping, of: &dyn Fn(&str) -> Vec<&'a Object<'a>>, cluster: Option<&Object>) {
    let cluster_groups: Vec<String> = cluster.map(|c| strings(&c.block("vpc_config")["security_group_ids"])).unwrap_or_default();
    let cluster_module = cluster.and_then(|c| c.resource.module.clone());
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    let mut groups = vec![];
    for g in of("aws_security_group") {
        if g.str("vpc_id") != Some(m.vpc_id.as_str()) {
            continue;
        }
        if cluster_module.is_some() && g.resource.module == cluster_module {
            m.left.push(Left {
                terraform: g.address.clone(),
                why: "a security group the EKS module made for its cluster or nodes; the cluster and nodes keep it, eksnet does not manage it".into(),
            });
            continue;
        }
        if cluster_groups.iter().any(|id| id == g.id()) {
            m.left.push(Left {
                terraform: g.address.clone(),
                why: "an additional security group of the cluster; the cluster keeps it, eksnet does not manage it".into(),
            });
            continue;
        }
        let mut key: String = g.resource.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).collect();
        if keys.values().any(|k| *k == key) {
            key = format!("{key}-{}", keys.len());
        }
        keys.insert(g.id().to_string(), key.clone());
        groups.push((g, key));
    }
    let separate: Vec<&Object> =
        ["aws_security_group_rule", "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule"].iter().flat_map(|k| of(k)).collect();
    for (g, key) in groups {
        let mut ingress = vec![];
        let mut egress = vec![];
        // A group's rules as separate resources (aws_security_group_rule, or the
        // aws_vpc_security_group_{ingress,egress}_rule the provider recommends): the group's own
        // `ingress`/`egress` sets are computed and show them too (the provider reads the group's
        // rules back from EC2), so a direction with separate rules is read from those alone.
        let mut by_direction: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for r in separate.iter().filter(|r| r.str("security_group_id") == Some(g.id())) {
            let (direction, attrs) = separate_rule(r);
            by_direction.entry(direction).or_default().push(attrs);
            m.taken.push(taken(r, Address::new("security_group_rules", &key), false));
        }
        for (list, name) in [(&mut ingress, "ingress"), (&mut egress, "egress")] {
            let inline = g.attr(name).as_array().cloned().unwrap_or_default();
            for r in by_direction.remove(name).unwrap_or(inline) {
                list.extend(rules(m, &r, &keys, &key));
            }
        }
        m.taken.push(taken(g, Address::new("security_group", &key), true));
        m.security_groups.push(Group {
            key,
            id: g.id().to_string(),
            group_name: g.str("name").unwrap_or_default().to_string(),
            description: g.str("description").unwrap_or("Managed by Terraform").to_string(),
            ingress,
            egress,
        });
    }
}

/// A separate rule resource as an inline rule block, with its direction. aws_security_group_rule
/// (schema version 2: `type`, `protocol`, `cidr_blocks`, `self`, `source_security_group_id`);
/// aws_vpc_security_group_{ingress,egress}_rule (one source each: `ip_protocol`, `cidr_ipv4`,
/// `cidr_ipv6`, `referenced_security_group_id`, `prefix_list_id`; ports null for all
/// protocols), internal/service/ec2/vpc_security_group_ingress_rule.go.
fn separate_rule(r: &Object) -> (&'static str, Value) {
    let one = |name: &str| r.str(name).map(|s| Value::from(vec![s])).unwrap_or_else(|| Value::Array(vec![]));
    match r.kind() {
        "aws_security_group_rule" => {
            let mut attrs = r.instance.attributes.clone();
            attrs["security_groups"] = one("source_security_group_id");
            (if r.str("type") == Some("egress") { "egress" } else { "ingress" }, attrs)
        }
        kind => {
            let attrs = serde_json::json!({
                "protocol": r.str("ip_protocol").unwrap_or("-1"),
                "from_port": r.attr("from_port"),
                "to_port": r.attr("to_port"),
                "cidr_blocks": one("cidr_ipv4"),
                "ipv6_cidr_blocks": one("cidr_ipv6"),
                "security_groups": one("referenced_security_group_id"),
                "prefix_list_ids": one("prefix_list_id"),
                "description": r.attr("description"),
            });
            (if kind.ends_with("egress_rule") { "egress" } else { "ingress" }, attrs)
        }
    }
}

/// One inline rule block (`ingress`/`egress` of aws_security_group, or an aws_security_group_rule)
/// as eksnet rules: one per kind of source.
fn rules(m: &mut Mapping, r: &Value, keys: &BTreeMap<String, String>, own: &str) -> Vec<Rule> {
    let protocol = match r["protocol"].as_str().unwrap_or("-1") {
        "-1" | "all" => "all".to_string(),
        "6" => "tcp".into(),
        "17" => "udp".into(),
        "1" => "icmp".into(),
        p => p.to_string(),
    };
    let ports = match protocol.as_str() {
        "tcp" | "udp" => Some((r["from_port"].as_i64().unwrap_or(0), r["to_port"].as_i64().unwrap_or(0))),
        _ => None,
    };
    let description = r["description"].as_str().filter(|d| !d.is_empty()).map(str::to_string);
    let base = Rule { protocol, ports, cidrs: vec![], self_: false, group: None, description };
    let mut out = vec![];
    let cidrs = strings(&r["cidr_blocks"]);
    if !cidrs.is_empty() {
        out.push(Rule { cidrs, ..base.clone() });
    }
    if r["self"].as_bool() == Some(true) {
        out.push(Rule { self_: true, ..base.clone() });
    }
    for g in strings(&r["security_groups"]) {
        match keys.get(&g) {
            Some(k) if k == own => out.push(Rule { self_: true, ..base.clone() }),
            Some(k) => out.push(Rule { group: Some(k.clone()), ..base.clone() }),
            None => m
                .notes
                .push(format!("security group `{own}` has a rule from {g}, a group outside the stack; eksnet cannot name it, so the plan removes that rule")),
        }
    }
    let lists = strings(&r["prefix_list_ids"]);
    if !lists.is_empty() {
        m.notes.push(format!(
            "security group `{own}` has a rule for prefix list(s) {}; eksnet does not manage prefix-list rules, so the plan removes it",
            lists.join(", ")
        ));
    }
    let v6 = strings(&r["ipv6_cidr_blocks"]);
    if !v6.is_empty() {
        m.notes.push(format!(
            "security group `{own}` has a rule for {}; eksnet manages IPv4 rules only and does not read this one: it stays as it is, unmanaged",
            v6.join(", ")
        ));
    }
    out
}

fn eks<'a>(m: &mut Mapping, of: &dyn Fn(&str) -> Vec<&'a Object<'a>>, c: &Object) {
    let name = c.str("name").unwrap_or_default().to_string();
    let vpc_config = c.block("vpc_config");
    let access = c.block("access_config");
    let mut logging = strings(c.attr("enabled_cluster_log_types"));
    logging.sort();
    let mut cluster = Cluster {
        name: name.clone(),
        version: c.str("version").unwrap_or_default().to_string(),
        role_arn: c.str("role_arn").unwrap_or_default().to_string(),
        endpoint_public: vpc_config["endpoint_public_access"].as_bool().unwrap_or(true),
        endpoint_private: vpc_config["endpoint_private_access"].as_bool().unwrap_or(false),
        public_cidrs: strings(&vpc_config["public_access_cidrs"]),
        logging,
        authentication_mode: access["authentication_mode"].as_str().map(str::to_string),
        tags: c.tags(),
        node_role_arn: None,
        nodegroups: vec![],
        vpc_cni_addon: false,
        cni: None,
        other_addons: vec![],
        endpoint: c.str("endpoint").unwrap_or_default().to_string(),
        ca_data: c.block("certificate_authority")["data"].as_str().unwrap_or_default().to_string(),
        security_group_id: vpc_config["cluster_security_group_id"].as_str().filter(|s| !s.is_empty()).map(str::to_string),
        admins: vec![],
    };
    m.taken.push(taken(c, Address::new("eks_cluster", "main"), true));
    let mut subnets = strings(&vpc_config["subnet_ids"]);
    subnets.sort();
    let mut private: Vec<String> = m.tiers.get(&TierKind::Private).map(|t| t.values().map(|f| f.id.clone()).collect()).unwrap_or_default();
    private.sort();
    if subnets != private {
        m.notes.push(format!(
            "the cluster's subnets ({}) are not the private subnets ({}); eksnet puts the cluster in the private subnets, and EKS cannot move a cluster to other subnets in place",
            subnets.join(", "),
            private.join(", ")
        ));
    }
    for ng in of("aws_eks_node_group").into_iter().filter(|n| n.str("cluster_name") == Some(name.as_str())) {
        let scaling = ng.block("scaling_config");
        let node_role = ng.str("node_role_arn").unwrap_or_default().to_string();
        match &cluster.node_role_arn {
            None => cluster.node_role_arn = Some(node_role),
            Some(r) if *r != node_role => m
                .notes
                .push(format!("nodegroup {} uses another node role ({node_role}) than the first ({r}); eksnet gives all nodegroups one node role", ng.address)),
            Some(_) => {}
        }
        let ng_name = ng.str("node_group_name").unwrap_or_default().to_string();
        let labels =
            ng.attr("labels").as_object().map(|l| l.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()).unwrap_or_default();
        cluster.nodegroups.push(Nodegroup {
            name: ng_name.clone(),
            instance_types: strings(ng.attr("instance_types")),
            ami_type: ng.str("ami_type").map(str::to_string),
            capacity_type: ng.str("capacity_type").map(str::to_string),
            disk_size: ng.attr("disk_size").as_u64(),
            min: scaling["min_size"].as_u64().unwrap_or(1),
            desired: scaling["desired_size"].as_u64().unwrap_or(1),
            max: scaling["max_size"].as_u64().unwrap_or(1),
            labels,
            max_unavailable: ng.block("update_config")["max_unavailable"].as_u64(),
            tags: ng.tags(),
        });
        // `taint` blocks (internal/service/eks/node_group.go).
        if ng.attr("taint").as_array().is_some_and(|t| !t.is_empty()) {
            m.notes.push(format!("nodegroup {ng_name} has taints; they are not imported yet, so the plan removes them"));
        }
        m.taken.push(taken(ng, Address::new("eks_nodegroup", &ng_name), true));
    }
    for a in of("aws_eks_addon").into_iter().filter(|a| a.str("cluster_name") == Some(name.as_str())) {
        let addon = a.str("addon_name").unwrap_or_default().to_string();
        if addon == "vpc-cni" {
            let values = a.str("configuration_values").and_then(|v| serde_json::from_str(v).ok()).unwrap_or(Value::Null);
            cluster.vpc_cni_addon = true;
            cluster.cni = CniSettings::from_addon(&values);
            m.taken.push(taken(a, Address::new("eks_addon", "vpc_cni"), true));
        } else if addon == "coredns" || addon == "kube-proxy" {
            m.taken.push(taken(a, Address::new("eks_addon", &addon.replace('-', "_")), true));
            cluster.other_addons.push(addon);
        } else {
            m.left.push(Left {
                terraform: a.address.clone(),
                why: format!("the `{addon}` add-on; eksnet manages vpc-cni, coredns and kube-proxy only, so it stays as it is"),
            });
        }
    }
    access_entries(m, of, &mut cluster);
    // Roles are used by ARN: eksnet names the roles it makes `<stack>-cluster` under the path
    // `/eksnet/<stack>/`, and IAM can change neither, so taking these over would replace them.
    let used: Vec<&str> = [Some(cluster.role_arn.as_str()), cluster.node_role_arn.as_deref()].into_iter().flatten().collect();
    for r in of("aws_iam_role") {
        if used.contains(&r.str("arn").unwrap_or_default()) {
            let role = r.str("name").unwrap_or_default().to_string();
            m.referenced.push(Left { terraform: r.address.clone(), why: format!("role `{role}`, used by ARN: eksnet never changes or deletes it") });
            for a in of("aws_iam_role_policy_attachment").into_iter().filter(|a| a.str("role") == Some(role.as_str())) {
                m.referenced.push(Left { terraform: a.address.clone(), why: format!("policy attachment of role `{role}`, which stays as it is") });
            }
        }
    }
    m.cluster = Some(cluster);
}

/// Access entries that make a principal cluster admin (one association, of
/// AmazonEKSClusterAdminPolicy, scope `cluster`, a STANDARD entry without Kubernetes groups) are
/// the stack's `cluster.admins`; eksnet makes no other kind, so others stay as they are.
/// aws_eks_access_entry (`principal_arn`, `type`, `kubernetes_groups`, `access_entry_arn`) and
/// aws_eks_access_policy_association (`principal_arn`, `policy_arn`, `access_scope`):
/// internal/service/eks/access_entry.go, access_policy_association.go.
fn access_entries<'a>(m: &mut Mapping, of: &dyn Fn(&str) -> Vec<&'a Object<'a>>, cluster: &mut Cluster) {
    let mine = |o: &&Object| o.str("cluster_name") == Some(cluster.name.as_str());
    let associations: Vec<&Object> = of("aws_eks_access_policy_association").into_iter().filter(mine).collect();
    for e in of("aws_eks_access_entry").into_iter().filter(mine) {
        let principal = e.str("principal_arn").unwrap_or_default().to_string();
        let policies: Vec<&&Object> = associations.iter().filter(|a| a.str("principal_arn") == Some(principal.as_str())).collect();
        let admin = e.str("type").unwrap_or("STANDARD") == "STANDARD"
            && strings(e.attr("kubernetes_groups")).is_empty()
            && policies.len() == 1
            && policies.iter().all(|p| {
                p.str("policy_arn").is_some_and(|a| a.ends_with(":cluster-access-policy/AmazonEKSClusterAdminPolicy"))
                    && p.block("access_scope")["type"] == "cluster"
            });
        if !admin {
            let why = "an access entry other than cluster admin on the whole cluster (eksnet's `cluster.admins`); it stays on the cluster as it is";
            for o in std::iter::once(&e).chain(policies.iter().copied()) {
                m.left.push(Left { terraform: o.address.clone(), why: why.into() });
            }
            continue;
        }
        let address = Address::keyed("eks_access_entry", "admin", &principal);
        m.taken.push(Taken {
            terraform: e.address.clone(),
            address: address.clone(),
            id: e.str("access_entry_arn").unwrap_or_default().to_string(),
            tagged: true,
        });
        for p in policies {
            m.taken.push(taken(p, address.clone(), false));
        }
        cluster.admins.push(principal);
    }
}

/// The tags every imported AWS object carries (Terraform's `tags`/`default_tags`), other than
/// Name: they become the stack's `tags:`, so that the plan does not remove them.
fn common_tags(objects: &[Object], taken: &[Taken]) -> BTreeMap<String, String> {
    let mut common: Option<BTreeMap<String, String>> = None;
    for t in taken.iter().filter(|t| t.tagged) {
        let Some(o) = objects.iter().find(|o| o.address == t.terraform) else { continue };
        let tags = o.tags();
        common = Some(match common {
            None => tags,
            Some(c) => c.into_iter().filter(|(k, v)| tags.get(k) == Some(v)).collect(),
        });
    }
    let mut common = common.unwrap_or_default();
    common.remove("Name");
    common
}

fn why_left(o: &Object) -> String {
    if o.resource.mode == "data" {
        return "a data source: Terraform only reads it; there is nothing to take over".into();
    }
    match o.kind() {
        "null_resource" | "terraform_data" => "a script Terraform ran (local-exec); nothing in AWS to take over. eksnet configures the VPC CNI itself".into(),
        "aws_cloudwatch_log_group" => "the cluster's log group: eksnet does not manage log groups; it stays, and EKS keeps writing to it".into(),
        k if k.starts_with("aws_kms_") => "a KMS key or alias: eksnet does not manage KMS; it stays (deleting a key loses what it encrypted)".into(),
        k if k.starts_with("kubernetes_") || k.starts_with("helm_") => {
            "a Kubernetes object of a kind the import does not take (it takes namespaces, deployments and `kubernetes_manifest`): not imported; it stays in the cluster as it is (add it to the stack's `manifests:` to manage it with eksnet)".into()
        }
        "aws_iam_openid_connect_provider" => "the cluster's OIDC provider (IRSA): eksnet does not manage it; it stays".into(),
        k if k.starts_with("aws_iam_") => "an IAM object the cluster does not use directly: eksnet leaves it alone".into(),
        "aws_eks_node_group" | "aws_eks_addon" | "aws_eks_access_entry" | "aws_eks_access_policy_association" => {
            "belongs to another cluster than the one imported".into()
        }
        k if k.starts_with("aws_") => format!("`{k}` is not a kind eksnet manages; it stays as it is"),
        _ => format!("provider `{}` is not one eksnet manages", o.resource.provider_name()),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(file: &str) -> Mapping {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terraform").join(file);
        let text = std::fs::read_to_string(path).unwrap().replace("__ACCOUNT__", "123456789012");
        let state = super::super::tfstate::parse(&text, file).unwrap();
        map(&state, None).unwrap()
    }

    fn sample() -> Mapping {
        fixture("aws-sample.tfstate.json")
    }

    fn address_of<'a>(m: &'a Mapping, terraform: &str) -> Option<&'a Address> {
        m.taken.iter().find(|t| t.terraform == terraform).map(|t| &t.address)
    }

    #[test]
    fn the_aws_sample_maps_by_what_each_object_is() {
        let m = sample();
        assert_eq!(m.region, "ap-southeast-2");
        assert_eq!(m.zones, ["ap-southeast-2a", "ap-southeast-2b", "ap-southeast-2c"]);
        let cidrs = |tier| m.tiers[&tier].values().map(|f| f.cidr.clone()).collect::<Vec<_>>();
        assert_eq!(cidrs(TierKind::Public), ["10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"]);
        assert_eq!(cidrs(TierKind::Private), ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]);
        assert_eq!(cidrs(TierKind::Intra), ["100.64.1.0/24", "100.64.2.0/24", "100.64.3.0/24"]);
        for (terraform, address) in [
            ("module.vpc.aws_vpc.this[0]", "vpc.main"),
            ("module.vpc.aws_vpc_ipv4_cidr_block_association.this[0]", "vpc_cidr.secondary[\"100.64.0.0/16\"]"),
            ("module.vpc.aws_subnet.intra[1]", "subnet.intra[\"ap-southeast-2b\"]"),
            ("module.vpc.aws_nat_gateway.this[0]", "nat_gateway.public[\"ap-southeast-2a\"]"),
            ("module.vpc.aws_eip.nat[0]", "elastic_ip.nat[\"ap-southeast-2a\"]"),
            ("aws_nat_gateway.private_nat", "nat_gateway.private[\"ap-southeast-2a\"]"),
            ("aws_route.intra_subnets_default_gateway", "route_table.intra"),
            ("module.vpc.aws_route_table_association.private[2]", "route_table_association.private[\"ap-southeast-2c\"]"),
            ("aws_security_group.example_sg", "security_group.example_sg"),
            ("module.eks.aws_eks_cluster.this[0]", "eks_cluster.main"),
            ("aws_eks_node_group.default", "eks_nodegroup.CNICustomNetworkDemoEKS-node-group-default"),
        ] {
            assert_eq!(address_of(&m, terraform).map(|a| a.to_string()).as_deref(), Some(address), "{terraform}");
        }
        let why = |t: &str| m.left.iter().find(|l| l.terraform == t).map(|l| l.why.clone()).unwrap_or_else(|| panic!("{t} not left"));
        assert!(why("module.eks.aws_security_group.node[0]").contains("EKS module"));
        assert!(why("module.eks.aws_cloudwatch_log_group.this[0]").contains("log group"));
        assert!(why("null_resource.cni_patch").contains("script"));
        assert!(why("module.eks.data.tls_certificate.this[0]").contains("data source"));
        let kube: Vec<(String, String, bool)> = m.kube.iter().map(|k| (k.terraform.clone(), k.address.to_string(), k.wait)).collect();
        assert_eq!(
            kube,
            [
                ("kubernetes_namespace.example".to_string(), "k8s_manifest.namespace[\"test-namespace\"]".to_string(), false),
                ("kubernetes_deployment.example".to_string(), "k8s_manifest.deployment[\"test-namespace/deployment-example\"]".to_string(), true),
            ]
        );
        assert!(m.left.iter().all(|l| !l.terraform.starts_with("kubernetes_")), "{:?}", m.left);
        assert!(m.referenced.iter().any(|r| r.terraform == "aws_iam_role.eks_cluster_node_role"));
        let g = &m.security_groups[0];
        assert_eq!((g.group_name.as_str(), g.ingress.len(), g.egress.len()), ("example_sg", 1, 1));
        assert_eq!(g.ingress[0].ports, Some((80, 80)));
    }

    /// The stack written for `m`, loaded; every address the import takes is one it expands to.
    fn written(m: &Mapping) -> (crate::stack::Stack, String) {
        let text = super::super::writer::write(m, "imported", "terraform.tfstate");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stack.yaml");
        std::fs::write(&path, &text).unwrap();
        let stack = crate::stack::load(&path, &crate::stack::Overrides { region: None }).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let desired: BTreeSet<String> = stack.desired().iter().map(|d| d.address.to_string()).collect();
        for t in &m.taken {
            assert!(desired.contains(&t.address.to_string()), "{} ({}) is not in the stack\n{text}", t.address, t.terraform);
        }
        (stack, text)
    }

    #[test]
    fn the_written_stack_validates_and_keeps_what_exists() {
        let (stack, _) = written(&sample());
        let cluster = stack.cluster.as_ref().unwrap();
        assert_eq!(cluster.name, "CNICustomNetworkDemoEKS");
        assert_eq!(cluster.node_role.existing_arn.as_deref(), Some("arn:aws:iam::123456789012:role/eks-cluster-node-CNICustomNetworkDemoEKS"));
        assert_eq!(stack.security_groups[0].group_name, "example_sg");
    }

    #[test]
    fn hand_written_hcl_maps_per_zone_nat_gateways_and_for_each_keys() {
        let m = fixture("hand-written.tfstate.json");
        assert_eq!(m.region, "eu-west-1");
        assert_eq!(m.zones, ["eu-west-1a", "eu-west-1b"]);
        let zones = |n: &[Nat]| n.iter().map(|n| n.zone.clone()).collect::<Vec<_>>();
        assert_eq!(zones(&m.nat_public), ["eu-west-1a", "eu-west-1b"], "one public NAT gateway per zone");
        assert_eq!(zones(&m.nat_private), ["eu-west-1a", "eu-west-1b"], "one private NAT gateway per zone");
        for (terraform, address) in [
            ("aws_vpc.main", "vpc.main"),
            ("aws_vpc_ipv4_cidr_block_association.pods", "vpc_cidr.secondary[\"100.64.0.0/16\"]"),
            ("aws_subnet.public[\"a\"]", "subnet.public[\"eu-west-1a\"]"),
            ("aws_subnet.private[\"b\"]", "subnet.private[\"eu-west-1b\"]"),
            ("aws_subnet.pods[1]", "subnet.intra[\"eu-west-1b\"]"),
            ("aws_eip.nat[\"b\"]", "elastic_ip.nat[\"eu-west-1b\"]"),
            ("aws_nat_gateway.public[\"b\"]", "nat_gateway.public[\"eu-west-1b\"]"),
            ("aws_nat_gateway.private[\"a\"]", "nat_gateway.private[\"eu-west-1a\"]"),
            ("aws_route_table.public", "route_table.public"),
            ("aws_route_table.private[\"b\"]", "route_table.private[\"eu-west-1b\"]"),
            ("aws_route.private_nat[\"b\"]", "route_table.private[\"eu-west-1b\"]"),
            ("aws_route_table.pods[0]", "route_table.intra[\"eu-west-1a\"]"),
            ("aws_route_table_association.pods[1]", "route_table_association.intra[\"eu-west-1b\"]"),
            ("aws_vpc_security_group_ingress_rule.pods_http", "security_group_rules.pods"),
            ("aws_vpc_security_group_egress_rule.pods_all", "security_group_rules.pods"),
            ("aws_security_group_rule.pods_self", "security_group_rules.pods"),
            ("aws_eks_cluster.main", "eks_cluster.main"),
            ("aws_eks_addon.vpc_cni", "eks_addon.vpc_cni"),
            ("aws_eks_addon.kube_proxy", "eks_addon.kube_proxy"),
            ("aws_eks_node_group.main", "eks_nodegroup.general"),
            ("aws_eks_access_entry.this[\"admin\"]", "eks_access_entry.admin[\"arn:aws:iam::123456789012:role/pods-demo-admin\"]"),
            ("aws_eks_access_policy_association.this[\"admin\"]", "eks_access_entry.admin[\"arn:aws:iam::123456789012:role/pods-demo-admin\"]"),
        ] {
            assert_eq!(address_of(&m, terraform).map(|a| a.to_string()).as_deref(), Some(address), "{terraform}");
        }
        // Separate rule resources, read once each (the group's computed sets repeat them).
        let g = &m.security_groups[0];
        let show = |rules: &[Rule]| rules.iter().map(|r| format!("{} {:?} {:?} self={}", r.protocol, r.ports, r.cidrs, r.self_)).collect::<Vec<_>>();
        assert_eq!(show(&g.ingress), ["all None [] self=true", "tcp Some((80, 80)) [\"10.20.0.0/16\"] self=false"]);
        assert_eq!(show(&g.egress), ["all None [\"0.0.0.0/0\"] self=false"]);
        // The provider's default_tags (in `tags_all`, not `tags`) are the stack's tags.
        assert_eq!(m.common_tags, [("Project".to_string(), "pods-demo".to_string())].into());
        assert!(m.referenced.iter().any(|r| r.terraform == "aws_iam_role_policy_attachment.node[\"AmazonEKS_CNI_Policy\"]"));
        assert!(m.left.iter().any(|l| l.terraform == "data.aws_availability_zones.available"));
        let why = |t: &str| m.left.iter().find(|l| l.terraform == t).map(|l| l.why.clone()).unwrap_or_else(|| panic!("{t} not left"));
        assert!(why("aws_eks_access_policy_association.this[\"viewer\"]").contains("other than cluster admin"));
        assert_eq!(m.cluster.as_ref().unwrap().admins, ["arn:aws:iam::123456789012:role/pods-demo-admin"]);
        assert!(m.notes.is_empty(), "{:?}", m.notes);

        let (stack, text) = written(&m);
        for line in [
            "  public: per_az",
            "  private: per_az",
            "  mode: addon",
            "  external_snat: true",
            "  eni_security_groups: [cluster]",
            "  addons: [kube-proxy]",
            "  admins: [\"arn:aws:iam::123456789012:role/pods-demo-admin\"]",
        ] {
            assert!(text.lines().any(|l| l.starts_with(line)), "missing `{line}` in\n{text}");
        }
        assert!(text.contains("# read from the vpc-cni add-on's configuration values in Terraform's state"), "{text}");
        assert!(!text.contains("# NOTE"), "{text}");
        let desired = stack.desired();
        let route = |table: &str| desired.iter().find(|d| d.address.to_string() == table).map(|d| d.attrs["routes"].to_string()).unwrap();
        assert!(
            route("route_table.private[\"eu-west-1b\"]").contains("nat_gateway.public[\\\"eu-west-1b\\\"]"),
            "{}",
            route("route_table.private[\"eu-west-1b\"]")
        );
    }

    #[test]
    fn two_clusters_need_a_choice() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/terraform/aws-sample.tfstate.json");
        let mut state = super::super::tfstate::parse(&std::fs::read_to_string(path).unwrap(), "s").unwrap();
        let mut other = state.resources.iter().find(|r| r.type_ == "aws_eks_cluster").unwrap().clone();
        other.instances[0].attributes["name"] = "second".into();
        state.resources.push(other);
        let e = map(&state, None).unwrap_err().to_string();
        assert!(e.contains("the state has 2 EKS clusters"), "{e}");
        assert!(map(&state, Some("CNICustomNetworkDemoEKS")).is_ok());
        assert!(map(&state, Some("third")).unwrap_err().to_string().contains("no EKS cluster `third`"));
    }
}
