//! Resource kinds, one file each, all behind `provider::Provider`. Each kind file exposes
//! `SCHEMA`, `read` (one batched read of every object of the stack), `create`, `update` and
//! `delete`; this module only dispatches.

mod eks_access_entry;
mod eks_addon;
mod eks_cluster;
mod eks_nodegroup;
mod elastic_ip;
mod iam_role;
mod internet_gateway;
mod k8s_manifest;
mod leftovers;
mod nat_gateway;
mod route_table;
mod route_table_association;
mod security_group;
mod security_group_rules;
mod subnet;
pub mod tags;
mod untokened;
mod vpc;
mod vpc_cidr;
pub mod wait;

use std::sync::OnceLock;
use std::time::Duration;

use aws_config::SdkConfig;

use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Provider, Result, Schema, Scope};
use crate::value::Attrs;

/// How long and how often eksnet waits for AWS.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// First wait between two polls; grows by half each poll up to `max_interval`.
    pub initial_interval: Duration,
    pub max_interval: Duration,
    pub timeout: Duration,
    /// How long a delete retries DependencyViolation before naming what blocks it.
    pub dependency_timeout: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Polling {
            initial_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
            dependency_timeout: Duration::from_secs(5 * 60),
        }
    }
}

/// What every kind's code gets: the clients and settings of this run.
pub struct Cx {
    config: SdkConfig,
    ec2: OnceLock<aws_sdk_ec2::Client>,
    /// EC2 without SDK retries, for creates that take no idempotency token (untokened.rs).
    ec2_once: OnceLock<aws_sdk_ec2::Client>,
    eks: OnceLock<aws_sdk_eks::Client>,
    iam: OnceLock<aws_sdk_iam::Client>,
    pub kube: crate::k8s::Connections,
    pub stack: String,
    pub polling: Polling,
    /// Take over Kubernetes fields another field manager owns (server-side apply `force`).
    pub force_conflicts: bool,
    /// The stack's EKS cluster names: what Kubernetes made for them is the stack's to clean up.
    pub clusters: Vec<String>,
    /// Per kind, the objects being waited for, polled together (`wait::Batch`).
    batches: std::sync::Mutex<std::collections::HashMap<&'static str, std::sync::Arc<dyn std::any::Any + Send + Sync>>>,
    /// Reads a tagged kind made for a derived kind of the same refresh (`share` / `shared`).
    shared_reads: std::sync::Mutex<std::collections::HashMap<&'static str, Box<dyn std::any::Any + Send>>>,
}

impl Cx {
    pub fn ec2(&self) -> &aws_sdk_ec2::Client {
        self.ec2.get_or_init(|| aws_sdk_ec2::Client::new(&self.config))
    }

    pub fn ec2_once(&self) -> &aws_sdk_ec2::Client {
        self.ec2_once.get_or_init(|| {
            let conf = aws_sdk_ec2::config::Builder::from(&self.config).retry_config(aws_config::retry::RetryConfig::disabled()).build();
            aws_sdk_ec2::Client::from_conf(conf)
        })
    }

    /// Attempts per call, as the SDK retry policy is configured.
    pub fn max_attempts(&self) -> u32 {
        self.config.retry_config().map_or(3, |r| r.max_attempts()).max(1)
    }

    pub fn eks(&self) -> &aws_sdk_eks::Client {
        self.eks.get_or_init(|| aws_sdk_eks::Client::new(&self.config))
    }

    pub fn iam(&self) -> &aws_sdk_iam::Client {
        self.iam.get_or_init(|| aws_sdk_iam::Client::new(&self.config))
    }

    /// Keeps what a tagged kind's read saw (e.g. DescribeVpcs) for the derived kind that reads
    /// the same objects later in the same refresh (vpc_cidr), so the call is made once.
    pub(crate) fn share<T: Send + 'static>(&self, call: &'static str, value: T) {
        self.shared_reads.lock().expect("shared reads lock").insert(call, Box::new(value));
    }

    /// What `share` kept, taken (used once: a later refresh reads afresh).
    pub(crate) fn shared<T: Send + 'static>(&self, call: &'static str) -> Option<T> {
        self.shared_reads.lock().expect("shared reads lock").remove(call).and_then(|b| b.downcast::<T>().ok()).map(|b| *b)
    }

    /// The shared waiter of `kind`, made by `make` on first use.
    pub(crate) fn batch<T: Send + Sync + 'static>(
        &self,
        kind: &'static str,
        make: impl FnOnce() -> std::sync::Arc<wait::Batch<T>>,
    ) -> std::sync::Arc<wait::Batch<T>> {
        let mut batches = self.batches.lock().expect("batches lock");
        let any = batches.entry(kind).or_insert_with(|| make() as std::sync::Arc<dyn std::any::Any + Send + Sync>).clone();
        any.downcast::<wait::Batch<T>>().expect("one item type per kind")
    }
}

/// The real provider: AWS through the AWS SDK for Rust.
pub struct Aws {
    cx: Cx,
}

impl Aws {
    pub fn new(config: SdkConfig, stack: &str, polling: Polling, force_conflicts: bool) -> Self {
        Aws {
            cx: Cx {
                kube: crate::k8s::Connections::new(config.clone()),
                config,
                ec2: OnceLock::new(),
                ec2_once: OnceLock::new(),
                eks: OnceLock::new(),
                iam: OnceLock::new(),
                stack: stack.into(),
                polling,
                force_conflicts,
                clusters: vec![],
                batches: Default::default(),
                shared_reads: Default::default(),
            },
        }
    }

    /// Names the stack's clusters (from the stack and the state), so that destroy removes the
    /// ENIs and security groups Kubernetes made for them, even once the cluster itself is gone.
    pub fn set_clusters(&mut self, names: Vec<String>) {
        self.cx.clusters = names;
    }
}

impl Aws {
    /// Network limits of instance types (one DescribeInstanceTypes call).
    pub async fn instance_networks(&self, types: &[String]) -> Result<Vec<(String, crate::capacity::InstanceNetwork)>> {
        if types.is_empty() {
            return Ok(vec![]);
        }
        let found: Vec<_> = self
            .cx
            .ec2()
            .describe_instance_types()
            .set_instance_types(Some(types.iter().map(|t| aws_sdk_ec2::types::InstanceType::from(t.as_str())).collect()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            ?;
        Ok(found
            .iter()
            .filter_map(|t| {
                let n = t.network_info()?;
                let network = crate::capacity::InstanceNetwork {
                    max_enis: n.maximum_network_interfaces()? as u32,
                    ipv4_per_eni: n.ipv4_addresses_per_interface()? as u32,
                };
                Some((t.instance_type()?.as_str().to_string(), network))
            })
            .collect())
    }
}

macro_rules! dispatch {
    ($kind:expr, $module:ident => $body:expr, else $other:expr) => {
        match $kind {
            "vpc" => {
                use vpc as $module;
                $body
            }
            "vpc_cidr" => {
                use vpc_cidr as $module;
                $body
            }
            "subnet" => {
                use subnet as $module;
                $body
            }
            "internet_gateway" => {
                use internet_gateway as $module;
                $body
            }
            "elastic_ip" => {
                use elastic_ip as $module;
                $body
            }
            "nat_gateway" => {
                use nat_gateway as $module;
                $body
            }
            "route_table" => {
                use route_table as $module;
                $body
            }
            "route_table_association" => {
                use route_table_association as $module;
                $body
            }
            "security_group" => {
                use security_group as $module;
                $body
            }
            "security_group_rules" => {
                use security_group_rules as $module;
                $body
            }
            "iam_role" => {
                use iam_role as $module;
                $body
            }
            "eks_cluster" => {
                use eks_cluster as $module;
                $body
            }
            "eks_access_entry" => {
                use eks_access_entry as $module;
                $body
            }
            "eks_addon" => {
                use eks_addon as $module;
                $body
            }
            "eks_nodegroup" => {
                use eks_nodegroup as $module;
                $body
            }
            "k8s_manifest" => {
                use k8s_manifest as $module;
                $body
            }
            _ => $other,
        }
    };
}

pub const KINDS: &[&str] = &[
    "vpc",
    "subnet",
    "internet_gateway",
    "elastic_ip",
    "nat_gateway",
    "route_table",
    "security_group",
    "iam_role",
    "eks_cluster",
    "vpc_cidr",
    "route_table_association",
    "security_group_rules",
    "eks_access_entry",
    "eks_addon",
    "eks_nodegroup",
    "k8s_manifest",
];

fn unknown(kind: &str) -> ApiError {
    ApiError::new("UnknownKind", format!("eksnet does not know resource kind `{kind}`"))
}

impl Provider for Aws {
    fn kinds(&self) -> &'static [&'static str] {
        KINDS
    }

    fn schema(&self, kind: &str) -> Schema {
        dispatch!(kind, m => m::SCHEMA, else Schema { replace_on: &[], summary: "", derived: false, parent: None })
    }

    fn normalize(&self, kind: &str, attrs: &mut Attrs) {
        match kind {
            "security_group_rules" => security_group_rules::normalize(attrs),
            "eks_cluster" => eks_cluster::normalize(attrs),
            "eks_nodegroup" => eks_nodegroup::normalize(attrs),
            _ => {}
        }
    }

    async fn refresh(&self, kind: &str, scope: &Scope<'_>) -> Result<Found> {
        dispatch!(kind, m => m::read(&self.cx, scope).await, else Err(unknown(kind)))
    }

    async fn create(&self, address: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
        dispatch!(address.kind.as_str(), m => m::create(&self.cx, address, attrs, token).await, else Err(unknown(&address.kind)))
    }

    async fn update(&self, address: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
        dispatch!(address.kind.as_str(), m => m::update(&self.cx, address, current, attrs).await, else Err(unknown(&address.kind)))
    }

    async fn delete(&self, address: &Address, current: &Observed) -> Result<()> {
        dispatch!(address.kind.as_str(), m => m::delete(&self.cx, address, current).await, else Err(unknown(&address.kind)))
    }
}

/// `{"id": id}` plus extra outputs.
/// An EKS object found CREATING or UPDATING (e.g. left by a killed run) cannot change until it is
/// ACTIVE, and a cluster's endpoint and CA only exist then: `wait` for it and go on with what it
/// is then. Its `status` attribute (wanted: ACTIVE) is what put it in the plan.
pub(crate) async fn settled<'a, Fut>(current: &'a Observed, wait: impl FnOnce() -> Fut) -> Result<std::borrow::Cow<'a, Observed>>
where
    Fut: std::future::Future<Output = Result<Observed>>,
{
    match current.attrs.get("status").and_then(serde_json::Value::as_str) {
        None | Some("ACTIVE") => Ok(std::borrow::Cow::Borrowed(current)),
        Some(_) => Ok(std::borrow::Cow::Owned(wait().await?)),
    }
}

pub(crate) fn outputs(id: &str, extra: &[(&str, &str)]) -> Attrs {
    let mut out = Attrs::new();
    out.insert("id".into(), id.into());
    for (k, v) in extra {
        out.insert((*k).into(), (*v).into());
    }
    out
}

/// Treats "already gone" as done: EC2's not-found codes all end in `NotFound`.
pub(crate) fn gone_ok<T>(result: Result<T>) -> Result<()> {
    match result {
        Err(e) if e.code.ends_with("NotFound") => Ok(()),
        other => other.map(|_| ()),
    }
}

/// Builds an `Observed` from a `json!({...})` object.
pub(crate) fn observed(id: &str, attrs: serde_json::Value, extra_outputs: &[(&str, &str)]) -> Observed {
    let serde_json::Value::Object(attrs) = attrs else { unreachable!("attributes are objects") };
    Observed { id: id.into(), attrs, outputs: outputs(id, extra_outputs) }
}

/// A list of strings attribute (e.g. subnet ids).
pub(crate) fn strings(attrs: &Attrs, key: &str) -> Vec<String> {
    attrs.get(key).and_then(|v| v.as_array()).map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

/// A map-of-strings attribute (tags, labels) as the SDKs take it.
pub(crate) fn string_map(attrs: &Attrs, key: &str) -> std::collections::HashMap<String, String> {
    attrs
        .get(key)
        .and_then(|v| v.as_object())
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
        .unwrap_or_default()
}

/// Makes an EKS resource's tags those of `attrs`.
pub(crate) async fn sync_eks_tags(cx: &Cx, arn: &str, current: &Attrs, attrs: &Attrs) -> Result<()> {
    let (old, new) = (string_map(current, "tags"), string_map(attrs, "tags"));
    let set: std::collections::HashMap<String, String> = new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let unset: Vec<String> = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    if !set.is_empty() {
        cx.eks().tag_resource().resource_arn(arn).set_tags(Some(set)).send().await?;
    }
    if !unset.is_empty() {
        cx.eks().untag_resource().resource_arn(arn).set_tag_keys(Some(unset)).send().await?;
    }
    Ok(())
}

pub(crate) fn attr_str<'a>(attrs: &'a Attrs, key: &str) -> Result<&'a str> {
    attrs.get(key).and_then(|v| v.as_str()).ok_or_else(|| ApiError::new("MissingAttribute", format!("attribute `{key}` is missing or unresolved")))
}
