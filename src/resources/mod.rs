//! Resource kinds, one file each, all behind `provider::Provider`. A kind's file holds its
//! `SCHEMA` (provider::Schema: plan summary, replacement, outputs, ownership), `read` (one batched
//! read of every object of the stack), `create`, `update` and `delete`; `kinds!` below is the one
//! list of kinds. docs/architecture.md, "Adding a resource kind".

mod adoption;
mod create_once;
mod eks;
pub mod expiring;
mod fields;
mod insights;
mod instance_types;
mod leftovers;
mod session;
pub mod tags;
mod versions;
pub mod wait;
mod zones;

use aws_config::SdkConfig;

use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Provider, Result, Schema, Scope};
use crate::value::Attrs;

pub(crate) use eks::{settled, sync_eks_tags};
pub(crate) use fields::{attr_str, gone_ok, observed, outputs, string_map, strings};
pub use session::Session;
pub use versions::{AddonVersions, release_key};
pub use wait::Polling;

/// The real provider: AWS through the AWS SDK for Rust.
pub struct Aws {
    session: Session,
    /// DescribeClusterVersions, asked once per run (settling the default version and the plan's
    /// check share it).
    versions: tokio::sync::OnceCell<Vec<crate::provider::KubernetesVersion>>,
    /// The newest AMI releases read this run, by parameter name (`versions::latest_release`).
    releases: std::sync::Mutex<std::collections::BTreeMap<String, String>>,
}

impl Aws {
    pub fn new(config: SdkConfig, stack: &str, polling: Polling, force_conflicts: bool) -> Self {
        Aws { session: Session::new(config, stack, polling, force_conflicts), versions: tokio::sync::OnceCell::new(), releases: Default::default() }
    }

    /// `--force-upgrade`: nodegroup version updates delete pods a PodDisruptionBudget protects.
    pub fn set_force_upgrade(&mut self, force: bool) {
        self.session.force_upgrade = force;
    }

    /// Names the stack's clusters (from the stack and the state), so that destroy removes the
    /// ENIs and security groups Kubernetes made for them, even once the cluster itself is gone.
    pub fn set_clusters(&mut self, names: Vec<String>) {
        self.session.clusters = names;
    }

    /// The account this run's credentials act in, for the plan's header; None when STS does not
    /// answer. GetCallerIdentity needs no permission ("No permissions are required to perform
    /// this operation", STS API reference, GetCallerIdentity).
    pub async fn account(&self) -> Option<String> {
        aws_sdk_sts::Client::new(self.config()).get_caller_identity().send().await.ok()?.account
    }

    /// The AWS configuration of this run, for the clients the cost estimate makes.
    pub fn config(&self) -> &SdkConfig {
        self.session.config()
    }
}

fn unknown(kind: &str) -> ApiError {
    ApiError::new("UnknownKind", format!("eksnet does not know resource kind `{kind}`"))
}

/// Declares the kinds: their modules, `KINDS` (the order refresh reads them in: tagged kinds
/// before the kinds found through them) and the dispatch of every `Provider` call.
macro_rules! kinds {
    ($($kind:ident,)*) => {
        $(mod $kind;)*

        pub const KINDS: &[&str] = &[$(stringify!($kind)),*];

        /// A kind's schema; None for a kind eksnet does not know.
        pub fn schema(kind: &str) -> Option<Schema> {
            match kind {
                $(k if k == stringify!($kind) => Some($kind::SCHEMA),)*
                _ => None,
            }
        }

        impl Provider for Aws {
            fn kinds(&self) -> &'static [&'static str] {
                KINDS
            }

            fn schema(&self, kind: &str) -> Schema {
                schema(kind).unwrap_or(Schema::tagged(""))
            }

            /// EC2 is eventually consistent: "if you run a command to modify or describe the
            /// resource that you just created, its ID might not have propagated throughout the
            /// system" (EC2 API guide, Eventual consistency in the Amazon EC2 API:
            /// https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html), and a
            /// Describe* by filter leaves such an object out rather than failing. 3.5 s in all:
            /// the window is seconds; the cost is paid only when a recorded object is missing.
            fn listing_lag(&self) -> &'static [std::time::Duration] {
                const LAG: &[std::time::Duration] =
                    &[std::time::Duration::from_millis(500), std::time::Duration::from_secs(1), std::time::Duration::from_secs(2)];
                LAG
            }

            async fn refresh(&self, kind: &str, scope: &Scope<'_>) -> Result<Found> {
                match kind {
                    $(k if k == stringify!($kind) => $kind::read(&self.session, scope).await,)*
                    _ => Err(unknown(kind)),
                }
            }

            async fn create(&self, address: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
                match address.kind.as_str() {
                    $(k if k == stringify!($kind) => $kind::create(&self.session, address, attrs, token).await,)*
                    _ => Err(unknown(&address.kind)),
                }
            }

            async fn update(&self, address: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
                match address.kind.as_str() {
                    $(k if k == stringify!($kind) => $kind::update(&self.session, address, current, attrs).await,)*
                    _ => Err(unknown(&address.kind)),
                }
            }

            async fn delete(&self, address: &Address, current: &Observed) -> Result<()> {
                match address.kind.as_str() {
                    $(k if k == stringify!($kind) => $kind::delete(&self.session, address, current).await,)*
                    _ => Err(unknown(&address.kind)),
                }
            }
        }
    };
}

kinds! {
    vpc,
    subnet,
    internet_gateway,
    elastic_ip,
    nat_gateway,
    route_table,
    security_group,
    iam_role,
    eks_cluster,
    vpc_cidr,
    route_table_association,
    security_group_rules,
    eks_access_entry,
    eks_addon,
    eks_nodegroup,
    k8s_manifest,
}
