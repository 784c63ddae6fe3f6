//! Semantic checks of a parsed stack file. Collects every problem before giving up, so the
//! user fixes them in one round.

use ipnet::Ipv4Net;
use serde_saphyr::Spanned;

use super::cidr::{allowed_secondary, derive_subnets, overlaps};
use super::model::{self, PortSpec, StackFile};
use super::{Overrides, Rule, SecurityGroup, Source, Stack, Tier, TierKind, span_of};
use crate::address::Address;
use crate::diagnostic::{Diagnostic, Invalid, Span};

struct Checker<'a> {
    file: &'a str,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>, hint: &str) {
        self.problems.push(Diagnostic::new(self.file, span_of(at), message).hint(hint));
    }

    fn error_at(&mut self, span: Option<Span>, message: impl Into<String>, hint: &str) {
        self.problems.push(Diagnostic::new(self.file, span, message).hint(hint));
    }

    fn cidr(&mut self, at: &Spanned<String>, what: &str) -> Option<Ipv4Net> {
        let net: Ipv4Net = match at.value.parse() {
            Ok(net) => net,
            Err(_) => {
                self.error(at, format!("{what} `{}` is not an IPv4 CIDR", at.value), "write it like 10.0.0.0/16");
                return None;
            }
        };
        if net.trunc() != net {
            self.error(at, format!("{what} `{net}` has host bits set"), &format!("did you mean {}?", net.trunc()));
            return None;
        }
        Some(net)
    }
}

pub(super) fn validate(file: &str, raw: &StackFile, overrides: &Overrides) -> Result<Stack, Invalid> {
    let mut c = Checker { file, problems: vec![] };

    let name = raw.name.value.clone();
    if name.is_empty() || name.len() > 63 || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-') {
        c.error(&raw.name, format!("stack name `{name}` is not allowed"), "use 1-63 letters, digits and dashes (it names the cluster and tags every object)");
    }

    let region = match (&overrides.region, &raw.region) {
        (Some(r), _) => r.clone(),
        (None, Some(r)) => r.value.clone(),
        (None, None) => {
            c.error(&raw.name, "the stack has no region", "add `region: us-west-2` (or pass --region / EKSNET_REGION)");
            String::new()
        }
    };
    if !region.is_empty() && !is_region_name(&region) {
        let span = raw.region.as_ref().and_then(span_of);
        c.error_at(span, format!("`{region}` is not an AWS region name"), "regions look like us-west-2 or ap-southeast-2");
    }

    let azs = availability_zones(&mut c, raw, &region);

    let vpc_cidr = c.cidr(&raw.vpc.cidr, "VPC CIDR");
    if let Some(net) = vpc_cidr {
        if !(16..=28).contains(&net.prefix_len()) {
            c.error(&raw.vpc.cidr, format!("VPC CIDR {net} is /{}; AWS allows /16 to /28", net.prefix_len()), "pick a prefix between /16 and /28");
        }
    }
    let mut secondary: Vec<Ipv4Net> = vec![];
    for s in &raw.vpc.secondary_cidrs {
        let Some(net) = c.cidr(s, "secondary CIDR") else {
            continue;
        };
        if !(16..=28).contains(&net.prefix_len()) {
            c.error(s, format!("secondary CIDR {net} is /{}; AWS allows /16 to /28", net.prefix_len()), "pick a prefix between /16 and /28");
        } else if !allowed_secondary(&net) {
            c.error(
                s,
                format!("secondary CIDR {net} is outside the ranges AWS allows"),
                "use 100.64.0.0/10 (non-routable, the usual choice for pods) or an RFC 1918 range",
            );
        } else if let Some(p) = vpc_cidr.filter(|p| overlaps(p, &net)) {
            c.error(s, format!("secondary CIDR {net} overlaps the VPC CIDR {p}"), "secondary CIDRs must not overlap the primary one");
        } else if let Some(o) = secondary.iter().find(|o| overlaps(o, &net)) {
            c.error(s, format!("secondary CIDR {net} overlaps secondary CIDR {o}"), "list each range once");
        } else {
            secondary.push(net);
        }
    }

    let mut tiers = vec![];
    let mut all_subnets: Vec<(Ipv4Net, Option<Span>, String)> = vec![];
    for (kind, spec) in [(TierKind::Public, &raw.subnets.public), (TierKind::Private, &raw.subnets.private), (TierKind::Intra, &raw.subnets.intra)] {
        let Some(spec) = spec else { continue };
        let nets = tier_cidrs(&mut c, kind, spec, azs.len());
        for (i, (net, span)) in nets.iter().enumerate() {
            let label = format!("subnets.{}[{i}] {net}", kind.name());
            let containers: Vec<&Ipv4Net> = vpc_cidr.iter().chain(&secondary).filter(|v| v.contains(net)).collect();
            if containers.is_empty() {
                c.error_at(
                    span.clone(),
                    format!("subnet {net} ({}) is outside every VPC CIDR", kind.name()),
                    "a subnet must lie inside the VPC CIDR or one of its secondary CIDRs",
                );
            } else if kind == TierKind::Intra && vpc_cidr.is_some_and(|p| p.contains(net)) {
                c.error_at(
                    span.clone(),
                    format!("intra subnet {net} is in the primary VPC CIDR"),
                    "intra subnets hold pods and belong in a secondary CIDR such as 100.64.0.0/16",
                );
            }
            if !(16..=28).contains(&net.prefix_len()) {
                c.error_at(span.clone(), format!("subnet {net} is /{}; AWS allows /16 to /28", net.prefix_len()), "pick a prefix between /16 and /28");
            }
            if let Some((other, _, other_label)) = all_subnets.iter().find(|(o, _, _)| overlaps(o, net)) {
                c.error_at(span.clone(), format!("subnet {net} ({label}) overlaps subnet {other} ({other_label})"), "give every subnet its own range");
            }
            all_subnets.push((*net, span.clone(), label));
        }
        if nets.len() == azs.len() {
            tiers.push(Tier { kind, subnets: azs.iter().cloned().zip(nets.into_iter().map(|(n, _)| n)).collect(), tags: spec.value.tags.clone() });
        }
    }
    if raw.subnets.private.is_none() && raw.subnets.public.is_none() && raw.subnets.intra.is_none() {
        c.error_at(None, "the stack has no subnets", "add `subnets:` with `public`, `private` and/or `intra` tiers");
    }

    let nat_public = raw.nat.public.as_ref().map_or(model::NatLayout::None, |n| n.value);
    let nat_private = raw.nat.private.as_ref().map_or(model::NatLayout::None, |n| n.value);
    if let Some(n) = raw.nat.public.as_ref().filter(|n| n.value != model::NatLayout::None) {
        if raw.subnets.public.is_none() {
            c.error(n, "a public NAT gateway needs public subnets", "add `subnets.public` or set `nat.public: none`");
        }
        if raw.subnets.private.is_none() {
            c.error(n, "a public NAT gateway serves the private tier, but there are no private subnets", "add `subnets.private` or set `nat.public: none`");
        }
    }
    if let Some(n) = raw.nat.private.as_ref().filter(|n| n.value != model::NatLayout::None) {
        if raw.subnets.private.is_none() {
            c.error(n, "a private NAT gateway is placed in the private subnets, but there are none", "add `subnets.private` or set `nat.private: none`");
        }
    }

    let security_groups = security_groups(&mut c, raw);

    if c.problems.is_empty() {
        Ok(Stack {
            file: file.into(),
            name,
            region,
            azs,
            tags: raw.tags.clone(),
            vpc_cidr: vpc_cidr.expect("checked"),
            secondary_cidrs: secondary,
            tiers,
            nat_public,
            nat_private,
            security_groups,
        })
    } else {
        Err(Invalid(c.problems))
    }
}

fn is_region_name(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    parts.len() >= 3
        && parts[..parts.len() - 1].iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].parse::<u8>().is_ok()
}

fn availability_zones(c: &mut Checker, raw: &StackFile, region: &str) -> Vec<String> {
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

fn tier_cidrs(c: &mut Checker, kind: TierKind, spec: &Spanned<model::TierSpec>, az_count: usize) -> Vec<(Ipv4Net, Option<Span>)> {
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

fn security_groups(c: &mut Checker, raw: &StackFile) -> Vec<SecurityGroup> {
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
        groups.push(SecurityGroup {
            name: name.clone(),
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
                c.error(p, "ports must be a number or a range like \"1024-65535\" (low to high)", "write `ports: 80` or `ports: \"8000-8080\"`");
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
            let known: Vec<&String> = raw.security_groups.keys().collect();
            c.error(
                g,
                format!("security group `{}` is not defined in this stack", g.value),
                &format!("define it under `security_groups`, or use one of: {known:?}"),
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
        PortSpec::One(p) => Some((*p, *p)),
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
