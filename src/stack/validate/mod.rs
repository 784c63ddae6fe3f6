//! Semantic checks of a parsed stack file. Collects every problem before giving up, so the
//! user fixes them in one round. The checks live by subject: network.rs (zones, CIDRs, security
//! groups), cluster.rs (cluster, CNI, nodegroups), backend.rs (where the state lives).

mod backend;
mod cluster;
mod network;

use ipnet::Ipv4Net;
use serde_saphyr::Spanned;

use super::cidr::{allowed_secondary, overlaps};
use super::model::{self, StackFile};
use super::{Overrides, Stack, Tier, TierKind, span_of};
use crate::diagnostic::{Diagnostic, Invalid, Span};

pub(super) struct Checker<'a> {
    file: &'a str,
    problems: Vec<Diagnostic>,
}

impl Checker<'_> {
    pub(super) fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>, hint: &str) {
        self.problems.push(Diagnostic::new(self.file, span_of(at), message).hint(hint));
    }

    pub(super) fn error_at(&mut self, span: Option<Span>, message: impl Into<String>, hint: &str) {
        self.problems.push(Diagnostic::new(self.file, span, message).hint(hint));
    }

    pub(super) fn cidr(&mut self, at: &Spanned<String>, what: &str) -> Option<Ipv4Net> {
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

/// The hint for a word the stack got wrong: the closest known word first (`did you mean
/// `SPOT`?`), then the general fix.
pub(super) fn hint_for(word: &str, known: &[&str], fix: &str) -> String {
    match crate::closest::did_you_mean(word, known.iter().copied()) {
        Some(guess) => format!("{guess} {fix}"),
        None => fix.to_string(),
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
    if !region.is_empty() && !backend::is_region_name(&region) {
        let span = raw.region.as_ref().and_then(span_of);
        c.error_at(span, format!("`{region}` is not an AWS region name"), "regions look like us-west-2 or ap-southeast-2");
    }

    let azs = network::availability_zones(&mut c, raw, &region);

    let vpc_cidr = c.cidr(&raw.vpc.cidr, "VPC CIDR");
    if let Some(net) = vpc_cidr
        && !(16..=28).contains(&net.prefix_len())
    {
        c.error(&raw.vpc.cidr, format!("VPC CIDR {net} is /{}; AWS allows /16 to /28", net.prefix_len()), "pick a prefix between /16 and /28");
    }
    // One mistake, one error: once a VPC CIDR is wrong, whether a subnet lies inside the VPC
    // cannot be known, so that check is skipped rather than failing every subnet.
    let mut vpc_cidrs_known = vpc_cidr.is_some();
    let mut secondary: Vec<Ipv4Net> = vec![];
    for s in &raw.vpc.secondary_cidrs {
        let Some(net) = c.cidr(s, "secondary CIDR") else {
            vpc_cidrs_known = false;
            continue;
        };
        let problems = c.problems.len();
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
        vpc_cidrs_known &= c.problems.len() == problems;
    }

    let mut tiers = vec![];
    let mut all_subnets: Vec<(Ipv4Net, Option<Span>, String)> = vec![];
    for (kind, spec) in [(TierKind::Public, &raw.subnets.public), (TierKind::Private, &raw.subnets.private), (TierKind::Intra, &raw.subnets.intra)] {
        let Some(spec) = spec else { continue };
        let nets = network::tier_cidrs(&mut c, kind, spec, azs.len());
        for (i, (net, span)) in nets.iter().enumerate() {
            let label = format!("subnets.{}[{i}] {net}", kind.name());
            let containers: Vec<&Ipv4Net> = vpc_cidr.iter().chain(&secondary).filter(|v| v.contains(net)).collect();
            if containers.is_empty() && vpc_cidrs_known {
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
    if let Some(n) = raw.nat.private.as_ref().filter(|n| n.value != model::NatLayout::None)
        && raw.subnets.private.is_none()
    {
        c.error(n, "a private NAT gateway is placed in the private subnets, but there are none", "add `subnets.private` or set `nat.private: none`");
    }

    let security_groups = network::security_groups(&mut c, raw);
    let cluster = cluster::cluster(&mut c, raw, &name, &region, azs.len());
    let backend = backend::backend(&mut c, raw, &region);
    if let Some(e) = &raw.expires_after
        && !crate::duration::parse(&e.value).is_ok_and(|d| d.as_secs() > 0)
    {
        c.error(e, format!("`expires_after: {}` is not a lifetime", e.value), "write a duration such as 30m, 4h or 2d");
    }

    if c.problems.is_empty() {
        Ok(Stack {
            file: file.into(),
            name,
            region,
            tags: raw.tags.clone(),
            vpc_cidr: vpc_cidr.expect("checked"),
            secondary_cidrs: secondary,
            tiers,
            nat_public,
            nat_private,
            security_groups,
            cluster,
            manifests: vec![],
            backend,
            expires_after: raw.expires_after.as_ref().map(|e| e.value.clone()),
        })
    } else {
        Err(Invalid(c.problems))
    }
}
