//! Semantic checks of a parsed stack file. Collects every problem before giving up, so the
//! user fixes them in one round.

use ipnet::Ipv4Net;
use serde_saphyr::Spanned;

use super::cidr::{allowed_secondary, derive_subnets, overlaps};
use super::model::{self, PortSpec, StackFile};
use super::{
    Cluster, Cni, DEFAULT_KUBERNETES_VERSION, EniSecurityGroup, KUBERNETES_VERSIONS, Nodegroup, Overrides, Role, Rule, SecurityGroup, Source, Stack, Tier,
    TierKind, span_of,
};
use crate::address::Address;
use crate::backend::BackendConfig;
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
    if let Some(net) = vpc_cidr
        && !(16..=28).contains(&net.prefix_len())
    {
        c.error(&raw.vpc.cidr, format!("VPC CIDR {net} is /{}; AWS allows /16 to /28", net.prefix_len()), "pick a prefix between /16 and /28");
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
    if let Some(n) = raw.nat.private.as_ref().filter(|n| n.value != model::NatLayout::None)
        && raw.subnets.private.is_none()
    {
        c.error(n, "a private NAT gateway is placed in the private subnets, but there are none", "add `subnets.private` or set `nat.private: none`");
    }

    let security_groups = security_groups(&mut c, raw);
    let cluster = cluster(&mut c, raw, &name, azs.len());
    let backend = backend(&mut c, raw, &region);

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
        })
    } else {
        Err(Invalid(c.problems))
    }
}

/// The `state:` section: a local file (the default) or an S3 object.
fn backend(c: &mut Checker, raw: &StackFile, stack_region: &str) -> BackendConfig {
    let Some(spec) = &raw.state else { return BackendConfig::Local };
    let s = &spec.value;
    let stray = |c: &mut Checker, field: &Option<Spanned<String>>, name: &str| {
        if let Some(f) = field {
            c.error(f, format!("`state.{name}` only applies to the s3 backend"), "remove it, or set `backend: s3`");
        }
    };
    match s.backend.value.as_str() {
        "local" => {
            stray(c, &s.bucket, "bucket");
            stray(c, &s.key, "key");
            stray(c, &s.region, "region");
            BackendConfig::Local
        }
        "s3" => {
            let bucket = match &s.bucket {
                None => {
                    c.error(
                        spec,
                        "the s3 state backend needs a `bucket`",
                        "add `bucket: my-team-eksnet-state` (the bucket must exist; enable versioning on it)",
                    );
                    String::new()
                }
                Some(b) => {
                    if !is_bucket_name(&b.value) {
                        c.error(
                            b,
                            format!("`{}` is not an S3 bucket name", b.value),
                            "use 3-63 lower-case letters, digits, dots and dashes, starting and ending with a letter or digit",
                        );
                    }
                    b.value.clone()
                }
            };
            let key = match &s.key {
                None => {
                    c.error(spec, "the s3 state backend needs a `key`", "add `key: eksnet/<stack>.state.json`, the object that holds the state");
                    String::new()
                }
                Some(k) => {
                    if k.value.is_empty() || k.value.ends_with('/') || k.value.len() > 1000 {
                        c.error(
                            k,
                            format!("`{}` cannot name the state object", k.value),
                            "use a key such as `eksnet/prod.state.json` (not empty, not ending in /)",
                        );
                    }
                    k.value.clone()
                }
            };
            let region = match &s.region {
                Some(r) if !is_region_name(&r.value) => {
                    c.error(r, format!("`{}` is not an AWS region name", r.value), "use the bucket's region, e.g. us-east-1");
                    r.value.clone()
                }
                Some(r) => r.value.clone(),
                None => stack_region.to_string(),
            };
            BackendConfig::S3 { bucket, key, region, use_path_style: s.use_path_style }
        }
        other => {
            c.error(&s.backend, format!("unknown state backend `{other}`"), "use `local` (a file under .eksnet/) or `s3`");
            BackendConfig::Local
        }
    }
}

fn is_bucket_name(name: &str) -> bool {
    let edge = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && edge(name.chars().next())
        && edge(name.chars().last())
        && !name.contains("..")
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

const LOG_TYPES: &[&str] = &["api", "audit", "authenticator", "controllerManager", "scheduler"];
const AMI_TYPES: &[&str] =
    &["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NVIDIA", "AL2_x86_64", "AL2_ARM_64", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"];
const OPTIONAL_ADDONS: &[&str] = &["coredns", "kube-proxy"];

fn cluster(c: &mut Checker, raw: &StackFile, stack: &str, az_count: usize) -> Option<Cluster> {
    let Some(spec) = &raw.cluster else {
        if let Some(cni) = &raw.cni {
            c.error(cni, "`cni` configures the cluster's VPC CNI, but the stack has no `cluster`", "add a `cluster:` section or remove `cni`");
        }
        if let Some((_, ng)) = raw.nodegroups.iter().next() {
            c.error(ng, "nodegroups need a `cluster`", "add a `cluster:` section");
        }
        return None;
    };
    let s = &spec.value;
    let name = s.name.as_ref().map_or(stack.to_string(), |n| n.value.clone());
    let valid_name = name.len() <= 100
        && name.starts_with(|ch: char| ch.is_ascii_alphanumeric())
        && name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
    if !valid_name {
        let at = s.name.as_ref().map_or(span_of(spec), span_of);
        c.error_at(at, format!("`{name}` is not a valid EKS cluster name"), "use up to 100 letters, digits, `-` and `_`, starting with a letter or digit");
    }
    if stack.len() > 55 {
        c.error(&raw.name, format!("stack name `{stack}` is too long for the IAM role names eksnet derives from it"), "use at most 55 characters");
    }
    let version = s.version.as_ref().map_or(DEFAULT_KUBERNETES_VERSION.to_string(), |v| v.value.clone());
    if let Some(v) = s.version.as_ref().filter(|v| !KUBERNETES_VERSIONS.contains(&v.value.as_str())) {
        c.error(v, format!("Kubernetes version `{}` is not offered by EKS", v.value), &format!("use one of {}", KUBERNETES_VERSIONS.join(", ")));
    }
    if az_count < 2 {
        c.error(spec, format!("EKS needs subnets in at least 2 availability zones; the stack has {az_count}"), "list at least two availability zones");
    }
    if raw.subnets.private.is_none() {
        c.error(spec, "the cluster runs in the private subnets, but the stack has none", "add `subnets.private`");
    }
    for l in &s.logging {
        if !LOG_TYPES.contains(&l.value.as_str()) {
            c.error(l, format!("unknown control-plane log type `{}`", l.value), &format!("use any of {}", LOG_TYPES.join(", ")));
        }
    }
    let mut public_cidrs = vec![];
    for cidr in &s.endpoint.public_cidrs {
        if let Some(net) = c.cidr(cidr, "public endpoint CIDR") {
            public_cidrs.push(net.to_string());
        }
    }
    if !s.endpoint.public && !s.endpoint.private {
        c.error(spec, "the cluster endpoint is neither public nor private", "set `endpoint.public: true` or `endpoint.private: true`");
    }
    if s.endpoint.public && public_cidrs.is_empty() {
        public_cidrs.push("0.0.0.0/0".into());
    }
    let authentication_mode = s.authentication_mode.as_ref().map_or("API_AND_CONFIG_MAP".to_string(), |m| m.value.clone());
    if let Some(m) = s.authentication_mode.as_ref().filter(|m| !["API", "API_AND_CONFIG_MAP"].contains(&m.value.as_str())) {
        c.error(m, format!("authentication mode `{}` is not supported", m.value), "use API or API_AND_CONFIG_MAP (access entries need one of them)");
    }
    for a in &s.admins {
        if !is_iam_arn(&a.value) {
            c.error(a, format!("`{}` is not an IAM principal ARN", a.value), "write arn:aws:iam::123456789012:role/NAME or …:user/NAME");
        }
    }
    let role = |c: &mut Checker, r: &Option<Spanned<model::RoleSpec>>| -> Role {
        let Some(r) = r else { return Role::default() };
        if let Some(arn) = r.value.arn.as_ref().filter(|a| !is_iam_arn(&a.value)) {
            c.error(arn, format!("`{}` is not an IAM role ARN", arn.value), "write arn:aws:iam::123456789012:role/NAME");
        }
        for p in &r.value.extra_policies {
            if !p.value.starts_with("arn:") || !p.value.contains(":policy/") {
                c.error(p, format!("`{}` is not an IAM policy ARN", p.value), "write arn:aws:iam::aws:policy/NAME or arn:aws:iam::123456789012:policy/NAME");
            }
        }
        Role { existing_arn: r.value.arn.as_ref().map(|a| a.value.clone()), extra_policies: r.value.extra_policies.iter().map(|p| p.value.clone()).collect() }
    };
    let cluster_role = role(c, &s.roles.cluster);
    let node_role = role(c, &s.roles.node);
    let cni = cni(c, raw);
    let nodegroups = raw.nodegroups.iter().filter_map(|(name, ng)| nodegroup(c, name, ng)).collect();
    Some(Cluster {
        name,
        version,
        endpoint_public: s.endpoint.public,
        endpoint_private: s.endpoint.private,
        public_cidrs,
        logging: s.logging.iter().map(|l| l.value.clone()).collect(),
        authentication_mode,
        admins: s.admins.iter().map(|a| a.value.clone()).collect(),
        cluster_role,
        node_role,
        tags: s.tags.clone(),
        cni,
        nodegroups,
    })
}

fn is_iam_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    parts.len() == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[4].len() == 12 && (parts[5].starts_with("role/") || parts[5].starts_with("user/"))
}

fn cni(c: &mut Checker, raw: &StackFile) -> Cni {
    let Some(spec) = &raw.cni else {
        return Cni { mode: model::CniMode::Addon, external_snat: false, eni_security_groups: vec![EniSecurityGroup::Cluster], addons: vec![] };
    };
    let s = &spec.value;
    if raw.subnets.intra.is_none() {
        c.error(spec, "custom networking puts pods in the intra subnets, but the stack has none", "add `subnets.intra` in the secondary CIDR");
    }
    let mut groups = vec![];
    for g in &s.eni_security_groups {
        if g.value == "cluster" {
            groups.push(EniSecurityGroup::Cluster);
        } else if raw.security_groups.contains_key(&g.value) {
            groups.push(EniSecurityGroup::Named(g.value.clone()));
        } else {
            c.error(
                g,
                format!("security group `{}` is not defined in this stack", g.value),
                "use `cluster` (the EKS cluster security group, which the nodes carry) or a name from `security_groups`",
            );
        }
    }
    if groups.is_empty() {
        groups.push(EniSecurityGroup::Cluster);
    }
    for a in &s.addons {
        if !OPTIONAL_ADDONS.contains(&a.value.as_str()) {
            c.error(a, format!("unknown add-on `{}`", a.value), "eksnet manages vpc-cni itself; list coredns and/or kube-proxy here");
        }
    }
    Cni { mode: s.mode, external_snat: s.external_snat, eni_security_groups: groups, addons: s.addons.iter().map(|a| a.value.clone()).collect() }
}

fn nodegroup(c: &mut Checker, name: &str, spec: &Spanned<model::NodegroupSpec>) -> Option<Nodegroup> {
    let s = &spec.value;
    if name.is_empty() || name.len() > 63 || !name.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
        c.error(spec, format!("nodegroup name `{name}` is not allowed"), "use up to 63 letters, digits, `-` and `_`");
    }
    let sc = &s.scaling.value;
    if sc.min > sc.max || sc.desired < sc.min || sc.desired > sc.max || sc.max == 0 {
        c.error(
            &s.scaling,
            format!("nodegroup `{name}` scaling min {} / desired {} / max {} is not possible", sc.min, sc.desired, sc.max),
            "keep min ≤ desired ≤ max, and max ≥ 1",
        );
    }
    let ami_type = s.ami_type.as_ref().map_or("AL2023_x86_64_STANDARD".to_string(), |a| a.value.clone());
    if let Some(a) = s.ami_type.as_ref().filter(|a| !AMI_TYPES.contains(&a.value.as_str())) {
        c.error(a, format!("unknown AMI type `{}`", a.value), &format!("use one of {}", AMI_TYPES.join(", ")));
    }
    let capacity_type = s.capacity_type.as_ref().map_or("ON_DEMAND".to_string(), |a| a.value.clone());
    if let Some(a) = s.capacity_type.as_ref().filter(|a| !["ON_DEMAND", "SPOT"].contains(&a.value.as_str())) {
        c.error(a, format!("unknown capacity type `{}`", a.value), "use ON_DEMAND or SPOT");
    }
    for t in &s.taints {
        if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&t.effect.as_str()) {
            c.error(spec, format!("taint `{}` has unknown effect `{}`", t.key, t.effect), "use NoSchedule, PreferNoSchedule or NoExecute");
        }
    }
    let instance_types: Vec<String> =
        if s.instance_types.is_empty() { vec!["c5.large".into()] } else { s.instance_types.iter().map(|t| t.value.clone()).collect() };
    for t in &s.instance_types {
        if !t.value.contains('.') {
            c.error(t, format!("`{}` is not an EC2 instance type", t.value), "write it like c5.large");
        }
    }
    Some(Nodegroup {
        name: name.into(),
        instance_types,
        ami_type,
        capacity_type,
        disk_size: s.disk_size.unwrap_or(20),
        min: sc.min,
        desired: sc.desired,
        max: sc.max,
        labels: s.labels.clone(),
        taints: s.taints.clone(),
        max_unavailable: s.max_unavailable.unwrap_or(1),
        tags: s.tags.clone(),
    })
}
