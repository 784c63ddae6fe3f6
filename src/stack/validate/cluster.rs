//! The cluster: version, endpoint, roles, logging, add-ons, the CNI and nodegroups.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::super::model::{self, StackFile};
use super::super::{Cluster, Cni, DEFAULT_KUBERNETES_VERSION, EniSecurityGroup, KUBERNETES_VERSIONS, Nodegroup, Pinned, Role, span_of};
use super::{Checker, hint_for};

const LOG_TYPES: &[&str] = &["api", "audit", "authenticator", "controllerManager", "scheduler"];
const AMI_TYPES: &[&str] =
    &["AL2023_x86_64_STANDARD", "AL2023_ARM_64_STANDARD", "AL2023_x86_64_NVIDIA", "AL2_x86_64", "AL2_ARM_64", "BOTTLEROCKET_x86_64", "BOTTLEROCKET_ARM_64"];
const OPTIONAL_ADDONS: &[&str] = &["coredns", "kube-proxy"];

pub(super) fn cluster(c: &mut Checker, raw: &StackFile, stack: &str, region: &str, az_count: usize) -> Option<Cluster> {
    let partition = crate::partition::Partition::of(region);
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
    // Offline, eksnet knows the versions up to its release; a newer one may exist by now, so it is
    // left to `plan`, which asks EKS (DescribeClusterVersions) what it offers today.
    if let Some(v) = s.version.as_ref().filter(|v| !KUBERNETES_VERSIONS.contains(&v.value.as_str()) && !newer_than_known(&v.value)) {
        c.error(v, format!("Kubernetes version `{}` is not offered by EKS", v.value), &format!("use one of {}", KUBERNETES_VERSIONS.join(", ")));
    }
    if az_count < 2 {
        c.error(spec, format!("EKS needs subnets in at least 2 availability zones; the stack has {az_count}"), "list at least two availability zones");
    }
    if raw.subnets.private.is_none() {
        c.error(spec, "the cluster runs in the private subnets, but the stack has none", "add `subnets.private`");
    }
    // Custom networking is always on, and the vpc-cni add-on's schema refuses an
    // `eniConfig.subnets` without entries (`minProperties: 1`, DescribeAddonConfiguration;
    // docs/aws-behaviour.md row 8): a cluster without intra subnets is refused here, not by EKS.
    if raw.subnets.intra.is_none() && raw.cni.is_none() {
        c.error(
            spec,
            "the cluster's pods take their IPs from the intra subnets (VPC CNI custom networking), but the stack has none",
            "add `vpc.secondary_cidrs: [100.64.0.0/16]` and `subnets.intra: {derive: {from: 100.64.0.0/16, prefix: 24, start: 1}}`",
        );
    }
    for l in &s.logging {
        if !LOG_TYPES.contains(&l.value.as_str()) {
            c.error(
                l,
                format!("unknown control-plane log type `{}`", l.value),
                &hint_for(&l.value, LOG_TYPES, &format!("use any of {}", LOG_TYPES.join(", "))),
            );
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
    // An ARN names its partition; IAM in aws-cn does not know an `arn:aws:` principal. Every ARN
    // of the stack must be in the region's partition (see src/partition.rs).
    let arns = s.admins.iter().chain(s.roles.cluster.iter().chain(s.roles.node.iter()).flat_map(|r| r.value.arn.iter().chain(r.value.extra_policies.iter())));
    for a in arns {
        if let Some(other) = a.value.strip_prefix("arn:").and_then(|r| r.split(':').next()).filter(|p| *p != partition.id) {
            let fixed = format!("arn:{}:{}", partition.id, &a.value[4 + other.len() + 1..]);
            c.error(a, format!("`{}` is in partition {other}, but region {region} is in {}", a.value, partition.id), &format!("write {fixed}"));
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
    let given = s.version.as_ref().map(|v| v.value.as_str());
    let nodegroups = raw.nodegroups.iter().filter_map(|(name, ng)| nodegroup(c, name, ng, given)).collect();
    Some(Cluster {
        name,
        version,
        version_given: s.version.is_some(),
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

pub(super) fn cni(c: &mut Checker, raw: &StackFile) -> Cni {
    let Some(spec) = &raw.cni else {
        return Cni {
            mode: model::CniMode::Addon,
            external_snat: false,
            eni_security_groups: vec![EniSecurityGroup::Cluster],
            addons: vec![],
            addon_versions: Default::default(),
        };
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
            let known: Vec<&str> = std::iter::once("cluster").chain(raw.security_groups.keys().map(String::as_str)).collect();
            c.error(
                g,
                format!("security group `{}` is not defined in this stack", g.value),
                &hint_for(&g.value, &known, "use `cluster` (the EKS cluster security group, which the nodes carry) or a name from `security_groups`"),
            );
        }
    }
    if groups.is_empty() {
        groups.push(EniSecurityGroup::Cluster);
    }
    for a in &s.addons {
        if !OPTIONAL_ADDONS.contains(&a.value.as_str()) {
            c.error(
                a,
                format!("unknown add-on `{}`", a.value),
                &hint_for(&a.value, OPTIONAL_ADDONS, "eksnet manages vpc-cni itself; list coredns and/or kube-proxy here"),
            );
        }
    }
    let addon_versions = addon_versions(c, s);
    Cni {
        mode: s.mode,
        external_snat: s.external_snat,
        eni_security_groups: groups,
        addons: s.addons.iter().map(|a| a.value.clone()).collect(),
        addon_versions,
    }
}

/// `cni.addon_versions`: each key an add-on this stack installs, each value written the way EKS
/// names add-on versions (`v1.19.2-eksbuild.1`, DescribeAddonVersions). Whether EKS offers the
/// version for the cluster's Kubernetes version is only known at plan time (`app::upgrade_step`).
fn addon_versions(c: &mut Checker, s: &model::CniSpec) -> BTreeMap<String, Pinned> {
    let mut installed: Vec<&str> = s.addons.iter().map(|a| a.value.as_str()).collect();
    if s.mode == model::CniMode::Addon {
        installed.insert(0, "vpc-cni");
    }
    let mut pins = BTreeMap::new();
    for (name, version) in &s.addon_versions {
        if !installed.contains(&name.as_str()) {
            let known: Vec<&str> = std::iter::once("vpc-cni").chain(OPTIONAL_ADDONS.iter().copied()).collect();
            let (message, fix) = if name == "vpc-cni" {
                (
                    "`cni.addon_versions` pins vpc-cni, but with `cni.mode: daemonset` the VPC CNI is not a managed add-on".to_string(),
                    "remove the pin, or use `cni.mode: addon`".to_string(),
                )
            } else if known.contains(&name.as_str()) {
                (format!("`cni.addon_versions` pins {name}, which the stack does not install"), format!("add {name} to `cni.addons`, or remove the pin"))
            } else {
                (format!("unknown add-on `{name}` in `cni.addon_versions`"), hint_for(name, &known, "pin vpc-cni, coredns or kube-proxy"))
            };
            c.error(version, message, &fix);
            continue;
        }
        if !is_addon_version(&version.value) {
            c.error(
                version,
                format!("`{}` is not an add-on version", version.value),
                "write it as EKS lists it (DescribeAddonVersions), like v1.19.2-eksbuild.1",
            );
            continue;
        }
        pins.insert(name.clone(), Pinned { version: version.value.clone(), span: span_of(version) });
    }
    pins
}

/// `v1.19.2-eksbuild.1`: v, three numbers, `-eksbuild.` and a build number.
fn is_addon_version(v: &str) -> bool {
    let numbers = |s: &str, n: usize| s.split('.').count() == n && s.split('.').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    v.strip_prefix('v').and_then(|rest| rest.split_once("-eksbuild.")).is_some_and(|(semver, build)| numbers(semver, 3) && numbers(build, 1))
}

/// An AMI release of the EKS optimized Amazon Linux AMIs: `1.33.0-20250704`, the Kubernetes
/// version and the build date (DescribeNodegroup `releaseVersion`; the
/// `/aws/service/eks/optimized-ami/<version>/…/recommended/release_version` public parameter,
/// EKS user guide, retrieve-ami-id). Returns the Kubernetes minor version it is made for.
fn ami_release_minor(v: &str) -> Option<String> {
    let (kubernetes, date) = v.split_once('-')?;
    let parts: Vec<&str> = kubernetes.split('.').collect();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (parts.len() == 3 && parts.iter().all(|p| digits(p)) && date.len() == 8 && digits(date)).then(|| format!("{}.{}", parts[0], parts[1]))
}

fn nodegroup(c: &mut Checker, name: &str, spec: &Spanned<model::NodegroupSpec>, cluster_version: Option<&str>) -> Option<Nodegroup> {
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
        c.error(a, format!("unknown AMI type `{}`", a.value), &hint_for(&a.value, AMI_TYPES, &format!("use one of {}", AMI_TYPES.join(", "))));
    }
    let capacity_type = s.capacity_type.as_ref().map_or("ON_DEMAND".to_string(), |a| a.value.clone());
    if let Some(a) = s.capacity_type.as_ref().filter(|a| !["ON_DEMAND", "SPOT"].contains(&a.value.as_str())) {
        c.error(a, format!("unknown capacity type `{}`", a.value), &hint_for(&a.value, &["ON_DEMAND", "SPOT"], "use ON_DEMAND or SPOT"));
    }
    for t in &s.taints {
        if !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&t.effect.as_str()) {
            let effects = ["NoSchedule", "PreferNoSchedule", "NoExecute"];
            c.error(
                spec,
                format!("taint `{}` has unknown effect `{}`", t.key, t.effect),
                &hint_for(&t.effect, &effects, "use NoSchedule, PreferNoSchedule or NoExecute"),
            );
        }
    }
    let instance_types: Vec<String> =
        if s.instance_types.is_empty() { vec!["c5.large".into()] } else { s.instance_types.iter().map(|t| t.value.clone()).collect() };
    for t in &s.instance_types {
        if !t.value.contains('.') {
            c.error(t, format!("`{}` is not an EC2 instance type", t.value), "write it like c5.large");
        }
    }
    // Bottlerocket names its releases its own way (`1.20.1-7c3e9198`): only `latest` and the
    // Amazon Linux form are checked.
    if let Some(r) = s.release_version.as_ref().filter(|r| r.value != "latest" && !ami_type.starts_with("BOTTLEROCKET")) {
        match ami_release_minor(&r.value) {
            None => c.error(
                r,
                format!("`{}` is not an AMI release", r.value),
                "write it as EKS shows it (DescribeNodegroup `releaseVersion`), like 1.33.0-20250704, or write `latest`",
            ),
            Some(minor) if cluster_version.is_some_and(|v| v != minor) => {
                let v = cluster_version.unwrap_or_default();
                c.error(
                    r,
                    format!("AMI release `{}` is made for Kubernetes {minor}, but `cluster.version` is {v}", r.value),
                    &format!("write a {v} release (like {v}.0-20250704), or `latest`, or remove `release_version` to follow the control plane"),
                );
            }
            Some(_) => {}
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
        release_version: s.release_version.as_ref().map(|r| r.value.clone()),
        tags: s.tags.clone(),
    })
}

/// `1.N` with N above the newest minor version eksnet knows: not refused offline.
fn newer_than_known(version: &str) -> bool {
    let minor = |v: &str| v.strip_prefix("1.").and_then(|m| m.parse::<u32>().ok());
    let newest = KUBERNETES_VERSIONS.iter().filter_map(|v| minor(v)).max().unwrap_or(0);
    minor(version).is_some_and(|m| m > newest)
}
