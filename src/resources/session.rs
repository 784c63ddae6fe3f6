//! The session every kind's code works in: the AWS clients (made on first use), the
//! Kubernetes connections, the stack's settings, and what is shared between calls of one run
//! (batched waiters, reads one kind made for another).

use std::sync::OnceLock;

use aws_config::SdkConfig;

use super::wait::{self, Polling};

/// What every kind's code gets: the clients and settings of this run.
pub struct Session {
    config: SdkConfig,
    ec2: OnceLock<aws_sdk_ec2::Client>,
    /// EC2 without SDK retries, for creates that take no idempotency token (create_once.rs).
    ec2_once: OnceLock<aws_sdk_ec2::Client>,
    eks: OnceLock<aws_sdk_eks::Client>,
    iam: OnceLock<aws_sdk_iam::Client>,
    pub kube: crate::k8s::Connections,
    pub stack: String,
    pub polling: Polling,
    /// Take over Kubernetes fields another field manager owns (server-side apply `force`).
    pub force_conflicts: bool,
    /// UpdateNodegroupVersion with `force` (`--force-upgrade`): "Force the update if any Pod on
    /// the existing node group can't be drained due to a Pod disruption budget issue" (API
    /// reference, UpdateNodegroupVersion).
    pub force_upgrade: bool,
    /// The stack's EKS cluster names: what Kubernetes made for them is the stack's to clean up.
    pub clusters: Vec<String>,
    /// Per kind, the objects being waited for, polled together (`wait::Batch`).
    batches: std::sync::Mutex<std::collections::HashMap<&'static str, std::sync::Arc<dyn std::any::Any + Send + Sync>>>,
    /// Reads a tagged kind made for a derived kind of the same refresh (`share` / `shared`).
    shared_reads: std::sync::Mutex<std::collections::HashMap<&'static str, Box<dyn std::any::Any + Send>>>,
    /// EC2 ids this run created: a `*.NotFound` naming one of them means "not propagated yet"
    /// (retried, `wait::propagated`), never "gone" as it does for an id read from the state.
    created: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl Session {
    pub fn new(config: SdkConfig, stack: &str, polling: Polling, force_conflicts: bool) -> Self {
        Session {
            kube: crate::k8s::Connections::new(config.clone()),
            config,
            ec2: OnceLock::new(),
            ec2_once: OnceLock::new(),
            eks: OnceLock::new(),
            iam: OnceLock::new(),
            stack: stack.into(),
            polling,
            force_conflicts,
            force_upgrade: false,
            clusters: vec![],
            batches: Default::default(),
            shared_reads: Default::default(),
            created: Default::default(),
        }
    }

    /// The AWS configuration every client is made from (for clients outside the kinds: pricing).
    pub fn config(&self) -> &SdkConfig {
        &self.config
    }

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

    /// Remembers an EC2 id this run created (see `created`).
    pub(crate) fn created(&self, id: &str) {
        if !id.is_empty() {
            self.created.lock().expect("created lock").insert(id.to_string());
        }
    }

    /// True if `e` is an EC2 `*.NotFound` naming an id this run created: EC2 is eventually
    /// consistent, the id has not propagated yet.
    pub(crate) fn not_propagated(&self, e: &crate::provider::ApiError) -> bool {
        e.code.ends_with(".NotFound") && self.created.lock().expect("created lock").iter().any(|id| e.message.contains(id.as_str()))
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
