//! The network: availability zones, tier CIDRs, security groups and their rules.

use ipnet::Ipv4Net;
use serde_saphyr::Spanned;

use super::super::cidr::derive_subnets;
use super::super::model::{self, PortSpec, StackFile};
use super::super::{Rule, SecurityGroup, Source, TierKind, span_of};
use super::{Checker, hint_for};
use crate::address::Address;
use crate::diagnostic::Span;

pub(super) fn availability_zones(c: &mut Checker, raw: &StackFile, region: &str) -> Vec<String> {
    let mut azs = vec![];
    match (&raw.availability_zones, &raw.availability_zone_count) {
        (None, Some(count)) => {
            if !(1..=6).contains(&count.value) {
                c.error(count, format!("{} availability zones requested", count.value), "ask for 1 to 6 (EKS needs at least 2)");
            }
            for i in 0..count.value.min(6) {
                azs.push(format!("{region}{}", (b'a' + i as u8) as char));
            }
        }
        (Some(list), None) => {
            if list.value.is_empty() {
                c.error(list, "the list of availability zones is empty", "name at least one, e.g. [a, b, c]");
            }
            for az in &list.value {
                let name = if az.value.len() == 1 { format!("{region}{}", az.value) } else { az.value.clone() };
                let suffix = name.strip_prefix(region).unwrap_or("");
                if suffix.len() != 1 || !suffix.chars().all(|ch| ch.is_ascii_lowercase()) {
                    c.error(
                        az,
                        format!("availability zone `{}` is not in region {region}", az.value),
                        &format!("use zones of {region}, e.g. {region}a, or letters: [a, b, c]"),
                    );
                } else if suffix > "f" {
                    // No region has more than six zones (us-east-1: use1-az1 … use1-az6, AWS
                    // Global Infrastructure, "AWS Availability Zones"), so letters run a to f;
                    // which of those exist is the account's mapping, checked by `plan`.
                    c.error(
                        az,
                        format!("availability zone `{name}` does not exist: zone letters run from a to f"),
                        &format!("use zones of {region}, e.g. [a, b, c]; `aws ec2 describe-availability-zones --region {region}` lists this account's"),
                    );
                } else if azs.contains(&name) {
                    c.error(az, format!("availability zone `{name}` is listed twice"), "list each zone once");
                }
                // Kept even when wrong, so that per-AZ counts below do not report it again.
                azs.push(name);
            }
        }
        (Some(list), Some(_)) => c.error(list, "both `availability_zones` and `availability_zone_count` are set", "keep one of them"),
        (None, None) => c.error(&raw.name, "the stack names no availability zones", "add `availability_zones: [a, b, c]` or `availability_zone_count: 3`"),
    }
    azs
}

pub(super) fn tier_cidrs(c: &mut Checker, kind: TierKind, spec: &Spanned<model::TierSpec>, az_count: usize) -> Vec<(Ipv4Net, Option<Span>)> {
    let tier = kind.name();
    match (&spec.value.cidrs, &spec.value.derive) {
        (Some(list), None) => {
            if list.len() != az_count {
                c.error(
                    spec,
                    format!("tier `{tier}` lists {} CIDRs for {az_count} availability zones", list.len()),
                    "give one CIDR per availability zone, in the zones' order",
                );
                return vec![];
            }
            list.iter().filter_map(|s| c.cidr(s, &format!("{tier} subnet")).map(|n| (n, span_of(s)))).collect()
        }
        (None, Some(d)) => {
            let Some(parent) = c.cidr(&d.value.from, &format!("{tier} `derive.from`")) else {
                return vec![];
            };
            match derive_subnets(parent, d.value.prefix.value, d.value.start, az_count) {
                Ok(nets) => nets.into_iter().map(|n| (n, span_of(&d.value.from))).collect(),
                Err(e) => {
                    c.error(&d.value.prefix, format!("cannot derive {tier} subnets: {e}"), "use a longer prefix, a lower `start`, or a larger `from` range");
                    vec![]
                }
            }
        }
        _ => {
            c.error(
                spec,
                format!("tier `{tier}` needs exactly one of `cidrs` or `derive`"),
                "either list one CIDR per AZ, or `derive: {from: 100.64.0.0/16, prefix: 24}`",
            );
            vec![]
        }
    }
}

pub(super) fn security_groups(c: &mut Checker, raw: &StackFile) -> Vec<SecurityGroup> {
    let mut groups = vec![];
    for (name, spec) in &raw.security_groups {
        if name.is_empty() || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
            c.error(spec, format!("security group name `{name}` is not allowed"), "use letters, digits, `_` and `-`");
        }
        let mut rules = |list: &[Spanned<model::RuleSpec>]| -> Vec<Rule> { list.iter().flat_map(|r| rule(c, r, raw)).collect() };
        let ingress = rules(&spec.value.ingress);
        let egress = rules(&spec.value.egress);
        let mut depends_on = vec![];
        for d in &spec.value.depends_on {
            match Address::parse(&d.value) {
                Some(a) => depends_on.push((a, span_of(d))),
                None => {
                    c.error(d, format!("`{}` is not a resource address", d.value), "write addresses like security_group.pods or subnet.intra[\"us-west-2a\"]")
                }
            }
        }
        // EC2 group names: up to 255 characters, a-z A-Z 0-9 spaces and ._-:/()#,@[]+=&;{}!$* (EC2
        // API reference, CreateSecurityGroup, GroupName), and not starting with `sg-`.
        let group_name = match &spec.value.group_name {
            Some(g) => {
                let allowed = |ch: char| ch.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(ch);
                if g.value.is_empty() || g.value.len() > 255 || g.value.starts_with("sg-") || !g.value.chars().all(allowed) {
                    c.error(
                        g,
                        format!("`{}` is not a security group name EC2 accepts", g.value),
                        "use up to 255 letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*, not starting with `sg-`",
                    );
                }
                g.value.clone()
            }
            None => format!("{}-{name}", raw.name.value),
        };
        groups.push(SecurityGroup {
            name: name.clone(),
            group_name,
            description: spec.value.description.clone().unwrap_or_else(|| format!("{} {name}", raw.name.value)),
            ingress,
            egress,
            tags: spec.value.tags.clone(),
            depends_on,
        });
    }
    groups
}

fn rule(c: &mut Checker, r: &Spanned<model::RuleSpec>, raw: &StackFile) -> Vec<Rule> {
    let spec = &r.value;
    let protocol = match spec.protocol.value.to_ascii_lowercase().as_str() {
        "all" | "-1" => "-1".to_string(),
        p @ ("tcp" | "udp" | "icmp") => p.to_string(),
        p if p.parse::<u8>().is_ok() => p.to_string(),
        p => {
            c.error(&spec.protocol, format!("unknown protocol `{p}`"), "use tcp, udp, icmp, all or an IP protocol number");
            return vec![];
        }
    };
    let ports = match &spec.ports {
        None if protocol == "tcp" || protocol == "udp" => {
            c.error(r, format!("a {protocol} rule needs `ports`"), "add `ports: 443` or `ports: \"1024-65535\"`");
            return vec![];
        }
        None => None,
        Some(p) if protocol == "-1" => {
            c.error(p, "a rule for all protocols takes no ports", "remove `ports`, or pick a protocol");
            return vec![];
        }
        Some(p) => match parse_ports(&p.value) {
            Some(range) => Some(range),
            None => {
                c.error(
                    p,
                    "ports must be a port number from 0 to 65535 or a range like \"1024-65535\" (low to high)",
                    "write `ports: 80` or `ports: \"8000-8080\"`",
                );
                return vec![];
            }
        },
    };
    let mut sources = vec![];
    for cidr in &spec.cidrs {
        if let Some(net) = c.cidr(cidr, "rule CIDR") {
            sources.push(Source::Cidr(net));
        }
    }
    if spec.self_ {
        sources.push(Source::SelfGroup);
    }
    if let Some(g) = &spec.security_group {
        if raw.security_groups.contains_key(&g.value) {
            sources.push(Source::Group(g.value.clone()));
        } else {
            let known: Vec<&str> = raw.security_groups.keys().map(String::as_str).collect();
            let names: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            c.error(
                g,
                format!("security group `{}` is not defined in this stack", g.value),
                &hint_for(&g.value, &known, &format!("define it under `security_groups`, or use one of: {}", names.join(", "))),
            );
            return vec![];
        }
    }
    if sources.is_empty() && spec.cidrs.is_empty() {
        c.error(r, "the rule has no source or destination", "add `cidrs: [...]`, `self: true` or `security_group: NAME`");
    }
    sources.into_iter().map(|source| Rule { protocol: protocol.clone(), ports, source }).collect()
}

fn parse_ports(spec: &PortSpec) -> Option<(u16, u16)> {
    match spec {
        PortSpec::One(p) => {
            let p = u16::try_from(*p).ok()?;
            Some((p, p))
        }
        PortSpec::Range(text) => {
            let (lo, hi) = match text.split_once('-') {
                Some((lo, hi)) => (lo.trim().parse().ok()?, hi.trim().parse().ok()?),
                None => {
                    let p = text.trim().parse().ok()?;
                    (p, p)
                }
            };
            (lo <= hi).then_some((lo, hi))
        }
    }
}
