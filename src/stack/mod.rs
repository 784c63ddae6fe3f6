//! The stack: the YAML file, its validation, and its expansion into desired resources.

mod cidr;
mod expand;
mod manifests;
pub mod model;
mod validate;
mod words;

use std::collections::BTreeMap;
use std::path::Path;

use ipnet::Ipv4Net;

use crate::address::Address;
use crate::diagnostic::{Diagnostic, Invalid, Span};
use crate::graph::GraphError;
pub use crate::provider::Desired;
pub use manifests::Manifest;
pub use model::NatLayout;
pub(crate) use words::yaml_error;

/// A validated stack, with every CIDR computed and every name resolved.
#[derive(Debug, Clone)]
pub struct Stack {
    pub file: String,
    pub name: String,
    pub region: String,
    pub tags: BTreeMap<String, String>,
    pub vpc_cidr: Ipv4Net,
    pub secondary_cidrs: Vec<Ipv4Net>,
    pub tiers: Vec<Tier>,
    pub nat_public: NatLayout,
    pub nat_private: NatLayout,
    pub security_groups: Vec<SecurityGroup>,
    pub cluster: Option<Cluster>,
    /// Kubernetes objects from the stack's `manifests:` entries.
    pub manifests: Vec<Manifest>,
    /// Where the state lives.
    pub backend: crate::backend::BackendConfig,
    /// `expires_after` as written (`4h`), checked to be a duration.
    pub expires_after: Option<String>,
}

/// Kubernetes versions EKS offered when this eksnet was made (the EKS release calendar);
/// `validate` rejects older or malformed ones and lets newer ones through to `plan`, which asks
/// EKS what it offers today (`resources/versions.rs`).
pub const KUBERNETES_VERSIONS: &[&str] = &["1.29", "1.30", "1.31", "1.32", "1.33", "1.34", "1.35"];
pub const DEFAULT_KUBERNETES_VERSION: &str = "1.33";

#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    pub version: String,
    /// `cluster.version` was written in the stack. Without it, `plan` and `apply` settle the
    /// version with EKS (`app::settle_version`); offline it reads DEFAULT_KUBERNETES_VERSION.
    pub version_given: bool,
    pub endpoint_public: bool,
    pub endpoint_private: bool,
    pub public_cidrs: Vec<String>,
    pub logging: Vec<String>,
    pub authentication_mode: String,
    pub admins: Vec<String>,
    pub cluster_role: Role,
    pub node_role: Role,
    pub tags: BTreeMap<String, String>,
    pub cni: Cni,
    pub nodegroups: Vec<Nodegroup>,
}

/// A role eksnet creates (with extra policies), or an existing one given by ARN.
#[derive(Debug, Clone, Default)]
pub struct Role {
    pub existing_arn: Option<String>,
    pub extra_policies: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EniSecurityGroup {
    /// The EKS cluster security group, which managed nodes without a launch template carry.
    Cluster,
    Named(String),
}

#[derive(Debug, Clone)]
pub struct Cni {
    pub mode: model::CniMode,
    pub external_snat: bool,
    pub eni_security_groups: Vec<EniSecurityGroup>,
    pub addons: Vec<String>,
    /// `cni.addon_versions`: add-on name → the version pinned, checked at plan time against
    /// what EKS offers for the cluster's version (`app::upgrade_step`).
    pub addon_versions: BTreeMap<String, Pinned>,
}

/// A version the stack pins, with where it is written (for a plan-time error in the stack's
/// words: EKS is only asked at plan time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pinned {
    pub version: String,
    pub span: Option<Span>,
}

#[derive(Debug, Clone)]
pub struct Nodegroup {
    pub name: String,
    pub instance_types: Vec<String>,
    pub ami_type: String,
    pub capacity_type: String,
    pub disk_size: u32,
    pub min: u32,
    pub desired: u32,
    pub max: u32,
    pub labels: BTreeMap<String, String>,
    pub taints: Vec<model::TaintSpec>,
    pub max_unavailable: u32,
    /// `release_version`: an AMI release, or `latest`; None follows the control plane.
    pub release_version: Option<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TierKind {
    Public,
    Private,
    Intra,
}

impl TierKind {
    pub fn name(self) -> &'static str {
        match self {
            TierKind::Public => "public",
            TierKind::Private => "private",
            TierKind::Intra => "intra",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Tier {
    pub kind: TierKind,
    /// One subnet per AZ, in the stack's AZ order.
    pub subnets: Vec<(String, Ipv4Net)>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct SecurityGroup {
    pub name: String,
    /// The group's name in EC2.
    pub group_name: String,
    pub description: String,
    pub ingress: Vec<Rule>,
    pub egress: Vec<Rule>,
    pub tags: BTreeMap<String, String>,
    pub depends_on: Vec<(Address, Option<Span>)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Cidr(Ipv4Net),
    SelfGroup,
    Group(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `-1` for all protocols, else a lower-case name or number as EC2 reports it.
    pub protocol: String,
    pub ports: Option<(u16, u16)>,
    pub source: Source,
}

impl Stack {
    pub fn tier(&self, kind: TierKind) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.kind == kind)
    }

    /// The resources this stack wants, in a stable order.
    pub fn desired(&self) -> Vec<Desired> {
        expand::expand(self)
    }
}

/// Options that come from the command line rather than the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub region: Option<String>,
}

/// Reads, parses and validates a stack file. Every problem is reported, together.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Stack, Invalid> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Invalid(vec![
            Diagnostic::new(&file, None, format!("cannot read stack file: {e}"))
                .hint("pass the stack with -f FILE (the default is eksnet.yaml in this directory), or write a starter stack with `eksnet init`"),
        ])
    })?;
    parse(&file, &text, overrides)
}

pub fn parse(file: &str, text: &str, overrides: &Overrides) -> Result<Stack, Invalid> {
    let raw: model::StackFile = serde_saphyr::from_str(text).map_err(|e| Invalid(vec![words::yaml_error(file, text, &e)]))?;
    let mut stack = validate::validate(file, &raw, overrides)?;
    stack.manifests = load_manifests(file, &raw, &stack)?;
    check_graph(&stack)?;
    Ok(stack)
}

/// Reads every manifest entry (paths relative to the stack file) and resolves its references
/// against the resources the stack defines.
fn load_manifests(file: &str, raw: &model::StackFile, stack: &Stack) -> Result<Vec<Manifest>, Invalid> {
    let mut problems = vec![];
    if let (Some(entry), None) = (raw.manifests.first(), &stack.cluster) {
        problems.push(
            Diagnostic::new(file, span_of(entry), "manifests are applied to the cluster, but the stack has no `cluster`").hint("add a `cluster:` section"),
        );
        return Err(Invalid(problems));
    }
    let addresses: std::collections::BTreeSet<Address> = stack.desired().into_iter().map(|d| d.address).collect();
    let cx = manifests::Context { stack: &stack.name, region: &stack.region, addresses: &addresses, has_cluster: stack.cluster.is_some() };
    let base = Path::new(file).parent().unwrap_or(Path::new("."));
    let mut out: Vec<Manifest> = vec![];
    for entry in &raw.manifests {
        let path = base.join(&entry.value.path.value);
        if !path.exists() {
            problems.push(
                Diagnostic::new(file, span_of(&entry.value.path), format!("manifest `{}` does not exist ({})", entry.value.path.value, path.display()))
                    .hint("paths are relative to the stack file; eksnet's own templates are in templates/"),
            );
            continue;
        }
        let e = manifests::Entry { path: &path, vars: &entry.value.vars, wait: entry.value.wait, needs_nodes: entry.value.needs_nodes };
        for m in manifests::load(&e, &cx, &mut problems) {
            if out.iter().any(|o| o.address == m.address) {
                problems
                    .push(Diagnostic::new(file, span_of(entry), format!("`{}` is defined twice", m.address)).hint("each Kubernetes object may appear once"));
            } else {
                out.push(m);
            }
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(Invalid(problems)) }
}

/// References that resolve to nothing and cycles, pointed at the `depends_on` entry involved.
fn check_graph(stack: &Stack) -> Result<(), Invalid> {
    let desired = stack.desired();
    let err = match crate::graph::Graph::build(&desired) {
        Ok(_) => return Ok(()),
        Err(err) => err,
    };
    let span_of_dep = |from: &Address, to: &Address| {
        stack
            .security_groups
            .iter()
            .filter(|g| g.name == from.name && from.kind == "security_group")
            .flat_map(|g| &g.depends_on)
            .find(|(a, _)| a == to)
            .and_then(|(_, span)| span.clone())
    };
    let diagnostic = match &err {
        GraphError::Missing { from, to } => {
            Diagnostic::new(&stack.file, span_of_dep(from, to), err.to_string()).hint("depend on an address the stack defines; `eksnet graph` lists them")
        }
        GraphError::Cycle(path) => {
            let span = path.iter().zip(path.iter().cycle().skip(1)).find_map(|(a, b)| span_of_dep(a, b));
            Diagnostic::new(&stack.file, span, err.to_string()).hint("remove one of these `depends_on` entries")
        }
    };
    Err(Invalid(vec![diagnostic]))
}

pub(crate) fn span_of<T>(s: &serde_saphyr::Spanned<T>) -> Option<Span> {
    let l = s.referenced;
    (l.line() > 0).then(|| Span { line: l.line(), column: l.column() })
}
