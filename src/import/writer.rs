//! The stack file an import writes: what exists, as it is (CIDRs given, not derived; names and
//! role ARNs as they are), with a comment for each choice the import had to make.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::cni::{self, Choices};
use super::mapping::{Mapping, Rule};
use crate::stack::{KUBERNETES_VERSIONS, TierKind};

/// A stack name from a cluster name: lower case, letters, digits and dashes, at most 63.
pub fn stack_name(m: &Mapping) -> String {
    let from = m.cluster.as_ref().map(|c| c.name.clone()).unwrap_or_else(|| "imported".into());
    let mut name: String = from.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    name.truncate(63);
    name.trim_matches('-').to_string()
}

/// A YAML scalar: plain when that reads back as the same string, else double-quoted (JSON
/// strings are YAML double-quoted scalars).
fn y(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-./_ ".contains(c))
        && s.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && !s.ends_with(' ')
        && s.parse::<f64>().is_err()
        && !["true", "false", "yes", "no", "on", "off", "null", "y", "n"].contains(&s.to_ascii_lowercase().as_str());
    if plain { s.to_string() } else { serde_json::to_string(s).unwrap_or_default() }
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.iter().map(|s| y(s)).collect::<Vec<_>>().join(", "))
}

fn map(items: &BTreeMap<String, String>) -> String {
    format!("{{{}}}", items.iter().map(|(k, v)| format!("{}: {}", y(k), y(v))).collect::<Vec<_>>().join(", "))
}

/// Tags of `own` that are neither the stack's nor set by eksnet itself.
fn own_tags(own: &BTreeMap<String, String>, common: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    own.iter().filter(|(k, _)| *k != "Name" && !k.starts_with("eksnet:") && !common.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect()
}

/// The stack's CNI settings from what the cluster has (`cni::choose`).
pub fn cni_choices(m: &Mapping) -> Option<Choices> {
    let c = m.cluster.as_ref()?;
    let intra = m.tiers.get(&TierKind::Intra).map(|t| t.iter().map(|(zone, f)| (zone.clone(), f.id.clone())).collect()).unwrap_or_default();
    let groups = m.security_groups.iter().map(|g| (g.id.clone(), g.key.clone())).collect();
    Some(cni::choose(c.cni.as_ref(), &intra, c.security_group_id.as_deref(), &groups))
}

pub fn write(m: &Mapping, name: &str, source: &str) -> String {
    let mut o = String::new();
    let w = &mut o;
    let cni = cni_choices(m);
    let _ = writeln!(w, "# Written by `eksnet import --from-terraform {source}`: the stack as Terraform built it.");
    let _ = writeln!(w, "# Every CIDR, name and role ARN is the one that exists. `eksnet plan` shows what eksnet");
    let _ = writeln!(w, "# would still change; docs/migrate-from-terraform.md lists the usual differences.");
    for note in m.notes.iter().chain(cni.iter().flat_map(|c| &c.notes)) {
        let _ = writeln!(w, "# NOTE: {note}");
    }
    let _ = writeln!(w, "name: {}", y(name));
    let _ = writeln!(w, "region: {}", y(&m.region));
    let _ = writeln!(
        w,
        "availability_zones: {}{}",
        list(&m.zones),
        if m.zones.len() > 1 && (m.nat_public.len() == 1 || m.nat_private.len() == 1) {
            "   # a single NAT gateway's zone first: eksnet puts it in the first zone"
        } else {
            ""
        }
    );
    if !m.common_tags.is_empty() {
        let _ = writeln!(w, "tags: {}   # on every object Terraform made", map(&m.common_tags));
    }
    let _ = writeln!(w, "\nvpc:\n  cidr: {}", m.vpc_cidr);
    if !m.secondary_cidrs.is_empty() {
        let _ = writeln!(w, "  secondary_cidrs: {}", list(&m.secondary_cidrs));
    }
    let _ = writeln!(
        w,
        "\nsubnets:                          # tiers by their routes: public → internet gateway, private → public NAT, intra = in a secondary range"
    );
    for tier in [TierKind::Public, TierKind::Private, TierKind::Intra] {
        let Some(found) = m.tiers.get(&tier) else { continue };
        let cidrs: Vec<String> = m.zones.iter().filter_map(|z| found.get(z)).map(|f| f.cidr.clone()).collect();
        let _ = writeln!(w, "  {}:\n    cidrs: {}", tier.name(), list(&cidrs));
        // Tags every subnet of the tier carries (e.g. the VPC module's `public_subnet_tags`).
        let mut shared: Option<BTreeMap<String, String>> = None;
        for f in found.values() {
            let own = own_tags(&f.tags, &m.common_tags);
            shared = Some(match shared {
                None => own,
                Some(s) => s.into_iter().filter(|(k, v)| own.get(k) == Some(v)).collect(),
            });
        }
        let shared = shared.unwrap_or_default();
        if !shared.is_empty() {
            let _ = writeln!(w, "    tags: {}", map(&shared));
        }
    }
    let layout = |n: usize| match n {
        0 => "none",
        1 => "single",
        _ => "per_az",
    };
    let _ = writeln!(w, "\nnat:");
    let _ = writeln!(w, "  public: {}    # {} public NAT gateway(s), in the public subnets", layout(m.nat_public.len()), m.nat_public.len());
    let _ = writeln!(
        w,
        "  private: {}   # {} private NAT gateway(s), in the private subnets, for the intra tier",
        layout(m.nat_private.len()),
        m.nat_private.len()
    );

    if !m.security_groups.is_empty() {
        let _ = writeln!(w, "\nsecurity_groups:");
    }
    for g in &m.security_groups {
        let _ = writeln!(w, "  {}:", y(&g.key));
        let _ = writeln!(w, "    group_name: {}   # EC2 cannot rename a group: kept", y(&g.group_name));
        let _ = writeln!(w, "    description: {}", y(&g.description));
        for (label, rules) in [("ingress", &g.ingress), ("egress", &g.egress)] {
            if rules.is_empty() {
                continue;
            }
            let _ = writeln!(w, "    {label}:");
            for r in rules {
                let _ = writeln!(w, "      - {}", rule(r));
            }
        }
    }

    if let Some(c) = &m.cluster {
        let _ = writeln!(w, "\ncluster:\n  name: {}", y(&c.name));
        if KUBERNETES_VERSIONS.contains(&c.version.as_str()) {
            let _ = writeln!(w, "  version: \"{}\"", c.version);
        } else {
            let _ = writeln!(
                w,
                "  # version: the cluster runs {}, which EKS no longer offers; eksnet would upgrade it to {} (one minor version at a time)",
                c.version,
                crate::stack::DEFAULT_KUBERNETES_VERSION
            );
        }
        let _ = writeln!(w, "  endpoint: {{public: {}, private: {}, public_cidrs: {}}}", c.endpoint_public, c.endpoint_private, list(&c.public_cidrs));
        if !c.logging.is_empty() {
            let _ = writeln!(w, "  logging: {}", list(&c.logging));
        }
        match c.authentication_mode.as_deref() {
            Some(mode @ ("API" | "API_AND_CONFIG_MAP")) => {
                let _ = writeln!(w, "  authentication_mode: {mode}");
            }
            other => {
                let _ = writeln!(
                    w,
                    "  # authentication_mode: the cluster has {}; eksnet asks API_AND_CONFIG_MAP (access entries beside aws-auth), an in-place, one-way change",
                    other.unwrap_or("CONFIG_MAP (the default)")
                );
            }
        }
        if !c.admins.is_empty() {
            let _ = writeln!(w, "  admins: {}   # their access entries: AmazonEKSClusterAdminPolicy on the whole cluster", list(&c.admins));
        }
        let _ = writeln!(w, "  roles:                           # used by ARN: eksnet never changes or deletes these roles");
        let _ = writeln!(w, "    cluster: {{arn: {}}}", y(&c.role_arn));
        if let Some(node) = &c.node_role_arn {
            let _ = writeln!(w, "    node: {{arn: {}}}", y(node));
        }
        let tags = own_tags(&c.tags, &m.common_tags);
        if !tags.is_empty() {
            let _ = writeln!(w, "  tags: {}", map(&tags));
        }
        let _ = writeln!(w, "\ncni:");
        if c.vpc_cni_addon {
            let _ = writeln!(w, "  mode: addon                      # the cluster has the managed vpc-cni add-on");
        } else {
            let _ = writeln!(
                w,
                "  mode: daemonset                  # Terraform patched the aws-node DaemonSet (no vpc-cni add-on in its state); eksnet does the same"
            );
        }
        if let Some(cni) = &cni {
            for line in &cni.comments {
                let _ = writeln!(w, "  # {line}");
            }
            let _ = writeln!(w, "  external_snat: {}\n  eni_security_groups: {}", cni.external_snat, list(&cni.eni_security_groups));
        }
        if !c.other_addons.is_empty() {
            let _ = writeln!(w, "  addons: {}", list(&c.other_addons));
        }
        if !c.nodegroups.is_empty() {
            let _ = writeln!(w, "\nnodegroups:");
        }
        for n in &c.nodegroups {
            let _ = writeln!(w, "  {}:   # its name in EKS", y(&n.name));
            let _ = writeln!(w, "    instance_types: {}", list(&n.instance_types));
            if let Some(a) = &n.ami_type {
                let _ = writeln!(w, "    ami_type: {}", y(a));
            }
            if let Some(a) = &n.capacity_type {
                let _ = writeln!(w, "    capacity_type: {}", y(a));
            }
            if let Some(d) = n.disk_size {
                let _ = writeln!(w, "    disk_size: {d}");
            }
            let _ = writeln!(w, "    scaling: {{min: {}, desired: {}, max: {}}}", n.min, n.desired, n.max);
            if !n.labels.is_empty() {
                let _ = writeln!(w, "    labels: {}", map(&n.labels));
            }
            if let Some(u) = n.max_unavailable {
                let _ = writeln!(w, "    max_unavailable: {u}");
            }
            let tags = own_tags(&n.tags, &m.common_tags);
            if !tags.is_empty() {
                let _ = writeln!(w, "    tags: {}", map(&tags));
            }
        }
    }
    let kube: Vec<_> = m.kube.iter().filter(|k| k.object.is_some()).collect();
    if !kube.is_empty() {
        let _ = writeln!(w, "\nmanifests:                         # the Kubernetes provider's objects, as the cluster has them");
        for k in kube {
            let _ = writeln!(w, "  - path: {}   # {}", y(&k.template_path()), k.terraform);
            if k.wait {
                let _ = writeln!(w, "    wait: true                     # wait_for_rollout");
            }
        }
    }
    o
}

fn rule(r: &Rule) -> String {
    let mut parts = vec![format!("protocol: {}", r.protocol)];
    match r.ports {
        Some((a, b)) if a == b => parts.push(format!("ports: {a}")),
        Some((a, b)) => parts.push(format!("ports: \"{a}-{b}\"")),
        None => {}
    }
    if !r.cidrs.is_empty() {
        parts.push(format!("cidrs: {}", list(&r.cidrs)));
    }
    if r.self_ {
        parts.push("self: true".into());
    }
    if let Some(g) = &r.group {
        parts.push(format!("security_group: {}", y(g)));
    }
    if let Some(d) = &r.description {
        parts.push(format!("description: {}", y(d)));
    }
    format!("{{{}}}", parts.join(", "))
}
