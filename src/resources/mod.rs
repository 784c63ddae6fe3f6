//! Resource kinds, one file each, all behind `provider::Provider`. Each kind file exposes
//! `SCHEMA`, `read` (one batched read of every object of the stack), `create`, `update` and
//! `delete`; this module only dispatches.

mod elastic_ip;
mod internet_gateway;
mod nat_gateway;
mod route_table;
mod route_table_association;
mod security_group;
mod security_group_rules;
mod subnet;
pub mod tags;
mod vpc;
mod vpc_cidr;
pub mod wait;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Duration;

use aws_config::SdkConfig;
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::provider::{ApiError, Observed, Provider, Result, Schema, Scope};
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
    pub stack: String,
    pub polling: Polling,
}

impl Cx {
    pub fn ec2(&self) -> &aws_sdk_ec2::Client {
        self.ec2.get_or_init(|| aws_sdk_ec2::Client::new(&self.config))
    }
}

/// The real provider: AWS through the AWS SDK for Rust.
pub struct Aws {
    cx: Cx,
}

impl Aws {
    pub fn new(config: SdkConfig, stack: &str, polling: Polling) -> Self {
        Aws { cx: Cx { config, ec2: OnceLock::new(), stack: stack.into(), polling } }
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
    "vpc_cidr",
    "route_table_association",
    "security_group_rules",
];

fn unknown(kind: &str) -> ApiError {
    ApiError::new("UnknownKind", format!("eksnet does not know resource kind `{kind}`"))
}

impl Provider for Aws {
    fn kinds(&self) -> &'static [&'static str] {
        KINDS
    }

    fn schema(&self, kind: &str) -> Schema {
        dispatch!(kind, m => m::SCHEMA, else Schema { replace_on: &[], summary: "", derived: false })
    }

    fn normalize(&self, kind: &str, attrs: &mut Attrs) {
        if kind == "security_group_rules" {
            security_group_rules::normalize(attrs);
        }
    }

    async fn refresh(&self, kind: &str, scope: &Scope<'_>) -> Result<BTreeMap<Address, Observed>> {
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

pub(crate) fn attr_str<'a>(attrs: &'a Attrs, key: &str) -> Result<&'a str> {
    attrs.get(key).and_then(|v| v.as_str()).ok_or_else(|| ApiError::new("MissingAttribute", format!("attribute `{key}` is missing or unresolved")))
}
