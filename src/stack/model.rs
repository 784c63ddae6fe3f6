//! The stack file as the user writes it. Every field a validation message may point at is
//! `Spanned`, so errors can name the line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StackFile {
    pub name: S<String>,
    #[serde(default)]
    pub region: Option<S<String>>,
    /// Names (`us-west-2a`) or letters relative to the region (`a`).
    #[serde(default)]
    pub availability_zones: Option<S<Vec<S<String>>>>,
    /// Or: the first N zones of the region (`a`, `b`, …).
    #[serde(default)]
    pub availability_zone_count: Option<S<u32>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    pub vpc: VpcSpec,
    pub subnets: SubnetsSpec,
    #[serde(default)]
    pub nat: NatSpec,
    #[serde(default)]
    pub security_groups: BTreeMap<String, S<SecurityGroupSpec>>,
    #[serde(default)]
    pub cluster: Option<S<ClusterSpec>>,
    #[serde(default)]
    pub cni: Option<S<CniSpec>>,
    #[serde(default)]
    pub nodegroups: BTreeMap<String, S<NodegroupSpec>>,
    #[serde(default)]
    pub manifests: Vec<S<ManifestSpec>>,
    /// Where the state lives (default: a local file).
    #[serde(default)]
    pub state: Option<S<StateSpec>>,
    /// A test stack's lifetime (`4h`, `2d`): its objects are tagged `eksnet:expires-at`, and
    /// `eksnet sweep` destroys it once that time has passed.
    #[serde(default)]
    pub expires_after: Option<S<String>>,
}

/// `state: {backend: s3, bucket, key, region}`, or `backend: local`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSpec {
    pub backend: S<String>,
    #[serde(default)]
    pub bucket: Option<S<String>>,
    #[serde(default)]
    pub key: Option<S<String>>,
    /// The bucket's region (default: the stack's).
    #[serde(default)]
    pub region: Option<S<String>>,
    /// Address the bucket as `endpoint/bucket` rather than `bucket.endpoint` (S3-compatible
    /// stores and endpoints without wildcard DNS need it).
    #[serde(default)]
    pub use_path_style: bool,
}

/// Kubernetes manifests applied to the cluster: a file (one or more YAML documents, with
/// `${…}` references to stack values and outputs) or a directory of them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestSpec {
    /// Relative to the stack file.
    pub path: S<String>,
    /// Values for `${var.NAME}`.
    #[serde(default)]
    pub vars: BTreeMap<String, serde_json::Value>,
    /// Wait until Deployments are available (bounded).
    #[serde(default)]
    pub wait: bool,
    /// Apply only once the nodegroups exist (pods need nodes); false for CRDs, config, …
    #[serde(default = "yes")]
    pub needs_nodes: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterSpec {
    /// The EKS cluster name (default: the stack name).
    #[serde(default)]
    pub name: Option<S<String>>,
    /// Kubernetes minor version, e.g. "1.31".
    #[serde(default)]
    pub version: Option<S<String>>,
    #[serde(default)]
    pub endpoint: EndpointSpec,
    /// Control-plane log types: api, audit, authenticator, controllerManager, scheduler.
    #[serde(default)]
    pub logging: Vec<S<String>>,
    /// API or API_AND_CONFIG_MAP (the creator is granted cluster admin either way).
    #[serde(default)]
    pub authentication_mode: Option<S<String>>,
    /// IAM principal ARNs granted cluster admin through access entries.
    #[serde(default)]
    pub admins: Vec<S<String>>,
    #[serde(default)]
    pub roles: RolesSpec,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    #[serde(default = "yes")]
    pub public: bool,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub public_cidrs: Vec<S<String>>,
}

impl Default for EndpointSpec {
    fn default() -> Self {
        EndpointSpec { public: true, private: false, public_cidrs: vec![] }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolesSpec {
    #[serde(default)]
    pub cluster: Option<S<RoleSpec>>,
    #[serde(default)]
    pub node: Option<S<RoleSpec>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    /// Use this existing role instead of creating one.
    #[serde(default)]
    pub arn: Option<S<String>>,
    /// Policies attached besides the ones EKS needs.
    #[serde(default)]
    pub extra_policies: Vec<S<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CniMode {
    /// The managed vpc-cni add-on with configurationValues.
    #[default]
    Addon,
    /// Server-side apply to the aws-node DaemonSet and ENIConfigs.
    Daemonset,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CniSpec {
    #[serde(default)]
    pub mode: CniMode,
    /// AWS_VPC_K8S_CNI_EXTERNALSNAT: leave SNAT to the NAT gateways (true) or to the node (false).
    #[serde(default)]
    pub external_snat: bool,
    /// Security groups put in each ENIConfig: `cluster` (the EKS cluster security group, which
    /// managed nodes carry) and/or names from `security_groups`.
    #[serde(default)]
    pub eni_security_groups: Vec<S<String>>,
    /// Other managed add-ons to install: coredns, kube-proxy.
    #[serde(default)]
    pub addons: Vec<S<String>>,
    /// Add-on versions pinned by name (`vpc-cni: v1.19.2-eksbuild.1`), checked at plan time
    /// against the versions EKS offers for the cluster's Kubernetes version; an add-on not
    /// named here follows EKS's default for that version.
    #[serde(default)]
    pub addon_versions: BTreeMap<String, S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodegroupSpec {
    #[serde(default)]
    pub instance_types: Vec<S<String>>,
    #[serde(default)]
    pub ami_type: Option<S<String>>,
    #[serde(default)]
    pub capacity_type: Option<S<String>>,
    #[serde(default)]
    pub disk_size: Option<u32>,
    pub scaling: S<ScalingSpec>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<TaintSpec>,
    /// Most nodes unavailable during an update (default 1).
    #[serde(default)]
    pub max_unavailable: Option<u32>,
    /// The AMI release the nodes run (`1.33.0-20250704`), or `latest`: the newest release EKS
    /// publishes for the cluster's Kubernetes version. Without it the nodes follow the control
    /// plane and keep their release until the next version update.
    #[serde(default)]
    pub release_version: Option<S<String>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScalingSpec {
    pub min: u32,
    pub desired: u32,
    pub max: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaintSpec {
    pub key: String,
    #[serde(default)]
    pub value: Option<String>,
    /// NoSchedule, PreferNoSchedule or NoExecute.
    pub effect: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VpcSpec {
    pub cidr: S<String>,
    #[serde(default)]
    pub secondary_cidrs: Vec<S<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubnetsSpec {
    pub public: Option<S<TierSpec>>,
    pub private: Option<S<TierSpec>>,
    pub intra: Option<S<TierSpec>>,
}

/// A tier's per-AZ CIDRs: given one per AZ, or derived from a parent range.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TierSpec {
    #[serde(default)]
    pub cidrs: Option<Vec<S<String>>>,
    #[serde(default)]
    pub derive: Option<S<DeriveSpec>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeriveSpec {
    /// The range to carve subnets from.
    pub from: S<String>,
    /// Prefix length of each subnet.
    pub prefix: S<u8>,
    /// Index of the first subnet within `from` (0 = the first block).
    #[serde(default)]
    pub start: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NatLayout {
    #[default]
    None,
    Single,
    PerAz,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NatSpec {
    /// Public NAT gateways (with an Elastic IP) in public subnets, for the private tier.
    #[serde(default)]
    pub public: Option<S<NatLayout>>,
    /// Private NAT gateways (no Elastic IP) in private subnets, for the intra tier.
    #[serde(default)]
    pub private: Option<S<NatLayout>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecurityGroupSpec {
    /// The group's name in EC2 (default: `<stack>-<key>`). For a group eksnet adopted
    /// (`eksnet import`): EC2 cannot rename a group, so its name is kept as it is.
    #[serde(default)]
    pub group_name: Option<S<String>>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub ingress: Vec<S<RuleSpec>>,
    #[serde(default)]
    pub egress: Vec<S<RuleSpec>>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Extra ordering: addresses this group is created after.
    #[serde(default)]
    pub depends_on: Vec<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// `tcp`, `udp`, `icmp`, `all` or an IP protocol number.
    pub protocol: S<String>,
    /// `80`, `"1024-65535"`; omitted for `all`.
    #[serde(default)]
    pub ports: Option<S<PortSpec>>,
    #[serde(default)]
    pub cidrs: Vec<S<String>>,
    /// The group itself (members talk to each other).
    #[serde(default, rename = "self")]
    pub self_: bool,
    /// Another security group of this stack, by name.
    #[serde(default)]
    pub security_group: Option<S<String>>,
    /// Accepted in the stack file for its readers; not yet sent to EC2 as the rule's description.
    #[serde(default)]
    #[allow(dead_code)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum PortSpec {
    /// Any integer, so that `70000` or `-1` is refused by validation in the stack's words.
    One(i64),
    Range(String),
}
