//! Check 6: the routes the architecture depends on: intra subnets → the private NAT gateway
//! (pods leave the non-routable 100.64/16 through it), private → the public NAT gateway, public
//! → the internet gateway; every NAT gateway `available` (AWS blog post "Addressing IPv4
//! address exhaustion in Amazon EKS clusters using private NAT gateways";
//! https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-scenarios.html). With a NAT
//! gateway per zone, a subnet routes to the one of its own zone: zone-independent egress is why
//! one gateway per zone is built ("create a NAT gateway in each Availability Zone and configure
//! your routing to ensure that resources use the NAT gateway in the same Availability Zone",
//! https://docs.aws.amazon.com/vpc/latest/userguide/nat-gateway-basics.html).

use super::expect::Nat;
use super::facts::Facts;
use super::{Check, Expect, listed};
use crate::stack::TierKind;

/// The targets a subnet of `zone` may route 0.0.0.0/0 to: the gateway of its own zone when
/// there is one, else any of them (a single gateway serves every zone).
fn targets_for<'a>(nats: &'a [Nat], zone: &str) -> Vec<&'a str> {
    let own: Vec<&str> = nats.iter().filter(|n| n.zone == zone).map(|n| n.id.as_str()).collect();
    if own.is_empty() { nats.iter().map(|n| n.id.as_str()).collect() } else { own }
}

pub fn check(expect: &Expect, facts: &Facts) -> Check {
    let check = Check::new(6, "routes", "intra → private NAT, private → public NAT, public → internet gateway");
    let mut problems = vec![];
    let mut good = vec![];
    let igw: Vec<Nat> = expect.internet_gateway.iter().map(|id| Nat { zone: String::new(), id: id.clone() }).collect();
    for (tier, gateways, what) in [
        (TierKind::Intra, &expect.private_nats, "the private NAT gateway"),
        (TierKind::Private, &expect.public_nats, "the public NAT gateway"),
        (TierKind::Public, &igw, "the internet gateway"),
    ] {
        for subnet in expect.tier(tier) {
            let targets = targets_for(gateways, &subnet.zone);
            let what = if gateways.len() > 1 && targets.len() == 1 { format!("{what} of {}", subnet.zone) } else { what.to_string() };
            let Some(id) = &subnet.id else {
                problems.push(format!("{} subnet in {} was not created", tier.name(), subnet.zone));
                continue;
            };
            let Some(table) = facts.route_tables.iter().find(|t| t.subnets.contains(id)) else {
                problems.push(format!("{} subnet {id} has no route table of its own", tier.name()));
                continue;
            };
            match &table.default_target {
                Some(target) if targets.contains(&target.as_str()) => good.push(format!("{} {} → {target}", tier.name(), subnet.zone)),
                Some(target) => problems.push(format!("{} subnet {id}: 0.0.0.0/0 → {target} in {}, not {what}", tier.name(), table.id)),
                None => problems.push(format!("{} subnet {id}: no 0.0.0.0/0 route in {}", tier.name(), table.id)),
            }
        }
    }
    for Nat { id, .. } in expect.public_nats.iter().chain(&expect.private_nats) {
        match facts.nat_gateways.iter().find(|n| &n.id == id) {
            Some(n) if n.state == "available" => {}
            Some(n) => problems.push(format!("NAT gateway {id} is {}", n.state)),
            None => problems.push(format!("NAT gateway {id} does not exist")),
        }
    }
    if !problems.is_empty() {
        return check.fail(listed(&problems, 3), "a route or NAT gateway changed outside eksnet: `eksnet plan` shows the drift, `eksnet apply` puts it back");
    }
    let nats = expect.public_nats.len() + expect.private_nats.len();
    check.pass(format!("{} subnets route as the stack says ({}); {nats} NAT gateway(s) available", good.len(), listed(&good, 3)))
}
