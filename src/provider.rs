//! The boundary between the engine (plan, executor, state) and a cloud. `resources::Aws` is the
//! real provider; the engine is tested with `memory::Memory`, one kept in memory.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;

use crate::address::Address;
use serde::{Deserialize, Serialize};

use crate::value::{Attrs, references};

/// A resource the stack wants: its address, attributes (with references) and dependencies.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Desired {
    pub address: Address,
    pub attrs: Attrs,
    /// References in the attributes plus ordering rules.
    pub deps: Vec<Address>,
}

impl Desired {
    pub fn new(address: Address, attrs: Attrs, extra_deps: Vec<Address>) -> Self {
        let mut deps = vec![];
        for v in attrs.values() {
            references(v, &mut deps);
        }
        for d in extra_deps {
            if !deps.contains(&d) {
                deps.push(d);
            }
        }
        Desired { address, attrs, deps }
    }
}

/// What EKS says of one Kubernetes version today (DescribeClusterVersions).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesVersion {
    pub version: String,
    /// In extended support (EXTENDED_SUPPORT); otherwise in standard support (UNSUPPORTED
    /// versions are left out of the listing).
    pub extended: bool,
    /// The end of standard and of extended support, `YYYY-MM-DD`.
    pub end_of_standard: Option<String>,
    pub end_of_extended: Option<String>,
    /// The version a cluster created without one gets (the newest in standard support).
    pub default: bool,
}

/// The network limits of an instance type, as DescribeInstanceTypes reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstanceNetwork {
    pub max_enis: u32,
    pub ipv4_per_eni: u32,
}

/// A cloud object as it exists, in the same attribute shape as the desired one.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    pub id: String,
    pub attrs: Attrs,
    /// Values other resources may reference (`id` is always there).
    pub outputs: Attrs,
}

/// Given the current and the desired attributes of an in-place update, the message and the fix
/// when the cloud is known to refuse it.
pub type CheckUpdate = fn(&Attrs, &Attrs) -> Option<(String, String)>;

/// What a kind looks like to the engine: the one declaration of a kind besides its code
/// (resources/<kind>.rs holds `SCHEMA`; docs/architecture.md, "Adding a resource kind").
#[derive(Debug, Clone, Copy)]
pub struct Schema {
    /// Attributes whose change forces a new object.
    pub replace_on: &'static [&'static str],
    /// The attribute shown beside the address in a plan.
    pub summary: &'static str,
    /// How the plan summarises the object, when one attribute alone does not say it.
    pub summarize: Option<fn(&Attrs) -> Option<String>>,
    /// Found through other kinds' objects (untaggable), so refreshed after the tagged kinds.
    pub derived: bool,
    /// For a kind without tags of its own: the attribute holding its parent's id. Such an
    /// object is the stack's only when its parent is (`ownership`).
    pub parent: Option<&'static str>,
    /// Outputs other resources and manifests may reference besides `id`.
    pub outputs: &'static [&'static str],
    /// Brings attributes into a canonical form (e.g. sorts set-like lists), so that desired and
    /// observed attributes compare equal when they mean the same.
    pub normalize: Option<fn(&mut Attrs)>,
    /// Refuses at plan time an in-place change the cloud is known to refuse: given the current
    /// and the desired attributes, the message and its fix (plan::refused).
    pub check_update: Option<CheckUpdate>,
}

impl Schema {
    /// A kind whose objects carry the stack's tags, summarised in a plan by `summary`.
    pub const fn tagged(summary: &'static str) -> Self {
        Schema { replace_on: &[], summary, summarize: None, derived: false, parent: None, outputs: &[], normalize: None, check_update: None }
    }

    /// A kind found through other kinds' objects (a cluster's add-ons, a subnet's association).
    pub const fn derived(summary: &'static str) -> Self {
        Schema { derived: true, ..Schema::tagged(summary) }
    }

    pub const fn replace_on(self, replace_on: &'static [&'static str]) -> Self {
        Schema { replace_on, ..self }
    }

    pub const fn parent(self, attribute: &'static str) -> Self {
        Schema { parent: Some(attribute), ..self }
    }

    pub const fn outputs(self, outputs: &'static [&'static str]) -> Self {
        Schema { outputs, ..self }
    }

    pub const fn normalize(self, normalize: fn(&mut Attrs)) -> Self {
        Schema { normalize: Some(normalize), ..self }
    }

    pub const fn check_update(self, check: CheckUpdate) -> Self {
        Schema { check_update: Some(check), ..self }
    }

    pub const fn summarize(self, summarize: fn(&Attrs) -> Option<String>) -> Self {
        Schema { summarize: Some(summarize), ..self }
    }

    /// Whether other resources may reference `output` of this kind.
    pub fn has_output(&self, output: &str) -> bool {
        output == "id" || self.outputs.contains(&output)
    }
}

/// What refresh knows when it reads a kind: every known id → address, the outputs
/// of what was read before (e.g. the cluster's endpoint), and the attributes eksnet expects
/// (desired, else recorded) to know what to look for.
pub struct Scope<'a> {
    pub ids: &'a HashMap<String, Address>,
    pub outputs: &'a HashMap<Address, Attrs>,
    pub known: &'a HashMap<Address, Attrs>,
}

/// A failed cloud call, rendered as `Code: message (request id …)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    pub request_id: Option<String>,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> Self {
        ApiError { code: code.into(), message: message.into(), request_id: None }
    }

    /// Whether the call failed because the object no longer exists: EC2's codes end in
    /// `NotFound` (`InvalidVpcID.NotFound`), as Kubernetes' reason does; EKS answers
    /// `ResourceNotFoundException`, IAM `NoSuchEntity`.
    pub fn is_gone(&self) -> bool {
        self.code.ends_with("NotFound") || self.code == "ResourceNotFoundException" || self.code == "NoSuchEntity"
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)?;
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

pub type Result<T> = std::result::Result<T, ApiError>;

/// What a read of one kind found: every object it returned, with the address its tags give.
/// A list, not a map: two objects claiming one address (another stack's, returned by a filter
/// that did not hold) must both reach the ownership check rather than hide each other.
pub type Found = Vec<(Address, Observed)>;

pub trait Provider: Send + Sync + 'static {
    /// Kinds this provider knows, in the order their refresh should run.
    fn kinds(&self) -> &'static [&'static str];
    fn schema(&self, kind: &str) -> Schema;
    /// Brings an attribute set into a canonical form (the kind's `Schema::normalize`).
    fn normalize(&self, kind: &str, attrs: &mut Attrs) {
        if let Some(normalize) = self.schema(kind).normalize {
            normalize(attrs);
        }
    }
    /// The pauses before reading a kind again when an object the state records is missing from
    /// its read: a provider whose listings are eventually consistent (they may leave out an object
    /// made seconds ago) names them, so that a run right after a crash does not take such an
    /// object for gone and make it again. None by default.
    fn listing_lag(&self) -> &'static [std::time::Duration] {
        &[]
    }
    /// Every object of `kind` that belongs to the stack, keyed by address: one batched read.
    fn refresh(&self, kind: &str, scope: &Scope<'_>) -> impl Future<Output = Result<Found>> + Send;
    /// Creates the object. `token` is stable across retries of the same intent.
    fn create(&self, address: &Address, attrs: &Attrs, token: &str) -> impl Future<Output = Result<Observed>> + Send;
    fn update(&self, address: &Address, current: &Observed, attrs: &Attrs) -> impl Future<Output = Result<Observed>> + Send;
    /// Deletes the object; an object that is already gone is not an error.
    fn delete(&self, address: &Address, current: &Observed) -> impl Future<Output = Result<()>> + Send;
}
