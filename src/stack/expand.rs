//! Expansion of a validated stack into desired resources with their attributes and references.

use serde_json::{Map, Value, json};

use super::{NatLayout, Rule, Source, Stack, TierKind};
use crate::address::Address;
use crate::resources::Desired;
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
        tags.insert("eksnet:stack".into(), json!(self.stack.name));
        tags.insert("eksnet:address".into(), json!(address.to_string()));
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
                "group_name": format!("{}-{}", stack.name, sg.name),
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
    b.out
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
        b.add(address.clone(), attrs, vec![]);
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
