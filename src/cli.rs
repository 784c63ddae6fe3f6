//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ui::ColorChoice;

#[derive(Debug, Parser)]
#[command(name = "eksnet", version, about = "EKS with VPC CNI custom networking and security groups for pods, from one YAML stack", max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The stack file.
    #[arg(short = 'f', long = "stack", global = true, env = "EKSNET_STACK", default_value = "eksnet.yaml", value_name = "FILE")]
    pub stack: PathBuf,
    /// The state file [default: .eksnet/<stack name>.state.json].
    #[arg(long, global = true, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// AWS region; overrides the stack's `region`.
    #[arg(long, global = true, env = "EKSNET_REGION")]
    pub region: Option<String>,
    /// Send every AWS call to this endpoint (else AWS_ENDPOINT_URL or AWS's own).
    #[arg(long, global = true, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// At most this many resource operations at once.
    #[arg(long, global = true, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub parallelism: u16,
    /// Longest wait between two polls of a resource AWS is still creating or deleting.
    #[arg(long, global = true, default_value = "5s", value_parser = parse_duration, value_name = "DURATION")]
    pub poll_interval: std::time::Duration,
    /// For an emulator that runs AWS time this many times faster than AWS (localcloud at
    /// `--scale F` exports EKSNET_AWS_TIME_SCALE=F): divides how long eksnet expects a cluster,
    /// nodegroup, add-on or NAT gateway to take before it polls densely. Give --poll-interval
    /// divided alike. Never needed against AWS.
    #[arg(long, global = true, env = "EKSNET_AWS_TIME_SCALE", default_value_t = 1.0, value_parser = parse_time_scale, value_name = "F")]
    pub aws_time_scale: f64,
    /// Wait this long for a state lock held by another run (e.g. 30s, 10m).
    #[arg(long, global = true, default_value = "0s", value_parser = parse_duration, value_name = "DURATION")]
    pub lock_timeout: std::time::Duration,
    /// Attempts per AWS call (throttling and 5xx are retried with backoff).
    #[arg(long, global = true, default_value_t = 8)]
    pub max_attempts: u32,
    /// The SDK retry policy: `standard` (exponential backoff with jitter) or `adaptive` (also
    /// slows the client down on throttling, for accounts shared with other busy tools).
    #[arg(long, global = true, value_enum, default_value_t = RetryMode::Standard)]
    pub retry_mode: RetryMode,
    /// Let server-side apply take over Kubernetes fields another field manager changed.
    #[arg(long, global = true)]
    pub force_conflicts: bool,
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Show every progress message of a running step (a retry, a poll), not one every 30 s.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starter stack (the reference architecture, commented) and its manifest
    /// templates into DIR (default: the stack file, -f, and `templates/` beside it).
    Init(InitArgs),
    /// Check the stack file without calling AWS.
    Validate,
    /// Show what apply would change.
    Plan(PlanArgs),
    /// Show the plan, ask, and make the changes (or execute a saved plan).
    Apply(ApplyArgs),
    /// Delete everything the stack created.
    Destroy(DestroyArgs),
    /// Check that the pods got what the stack promises: nodes, CNI settings, ENIConfigs, pod
    /// addresses, branch ENIs, routes, DNS for pods with their own group, IP headroom. Read-only;
    /// exits 1 when a check fails (docs/verify.md).
    Verify(VerifyArgs),
    /// Destroy expired test stacks (tagged `eksnet:expires-at` by `expires_after` or
    /// `apply --ttl`), found by their tags; no stack file needed. Without a terminal it only
    /// lists them unless --yes is given.
    Sweep(SweepArgs),
    /// Take over a cluster Terraform built: read its state, write the stack that describes it,
    /// tag each object as the stack's (shown and confirmed first) and write eksnet's state.
    /// Nothing is replaced; Terraform's state is not changed (docs/migrate-from-terraform.md).
    Import(ImportArgs),
    /// Print the stack's outputs.
    Output(OutputArgs),
    /// Inspect or repair the state.
    #[command(subcommand)]
    State(StateCommand),
    /// Print the dependency graph (Graphviz DOT or mermaid).
    Graph(GraphArgs),
    /// Render a plan saved by `eksnet plan --out FILE` (e.g. as markdown for a pull request).
    Show(ShowArgs),
    /// Print a shell completion script: `eksnet completions bash > /etc/bash_completion.d/eksnet`.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `eksnet man > eksnet.1`.
    #[command(hide = true)]
    Man,
    /// Print an EKS token as an ExecCredential (what a kubeconfig's exec plugin runs).
    Token {
        /// The EKS cluster name.
        #[arg(long)]
        cluster: String,
    },
    /// Write (merge) a kubeconfig context for the stack's cluster.
    Kubeconfig {
        /// The kubeconfig to merge into [default: $KUBECONFIG or ~/.kube/config].
        #[arg(long, value_name = "PATH")]
        write: Option<PathBuf>,
        /// Print the kubeconfig instead of writing it.
        #[arg(long, conflicts_with = "write")]
        print: bool,
    },
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write `eksnet.yaml` and `templates/` into (created when missing).
    pub dir: Option<PathBuf>,
    /// The stack's name (it names the cluster and tags every object) [default: the folder's name].
    #[arg(long)]
    pub name: Option<String>,
    /// The availability zones, as letters of the region (--region, else AWS_REGION).
    #[arg(long, value_delimiter = ',', default_value = "a,b,c")]
    pub zones: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RetryMode {
    Standard,
    Adaptive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// GitHub-flavoured markdown for a pull-request comment or CI summary (docs/plan-review.md).
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Text,
    /// Versioned JSON: `{"format_version": 1, "checks": […], "passed": bool}` (docs/verify.md).
    Json,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[arg(long, value_enum, default_value_t = VerifyFormat::Text)]
    pub format: VerifyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
    /// Draw a saved plan's changes (and their neighbours) instead of the stack's whole graph.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A plan saved by `eksnet plan --out FILE`.
    pub plan_file: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Save the plan for `eksnet apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 0 when there are no changes, 2 when there are, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Plan the destruction of everything.
    #[arg(long, conflicts_with = "refresh_only")]
    pub destroy: bool,
    /// Show only what changed outside eksnet since the state was written (what
    /// `apply --refresh-only` would record), not what apply would do about it.
    #[arg(long, conflicts_with = "out")]
    pub refresh_only: bool,
    /// Adopt this stack's objects although another state manages them (their
    /// `eksnet:lineage` tag names it): the plan marks them as this state's (docs/ownership.md).
    #[arg(long)]
    pub take_over: bool,
    /// Let a nodegroup's version update delete the pods a PodDisruptionBudget protects, where
    /// the drain would otherwise fail with PodEvictionFailure (UpdateNodegroupVersion `force`;
    /// the plan says so; docs/upgrades.md).
    #[arg(long)]
    pub force_upgrade: bool,
    /// Leave out what the change costs per month (prices from AWS's Price List API, cached
    /// for a day); `EKSNET_COST=off` does the same.
    #[arg(long)]
    pub no_cost: bool,
    /// Plan ADDRESS as replaced although nothing about it changed (Terraform's `-replace`),
    /// e.g. to roll a nodegroup's nodes; what depends on its id is replaced with it. Repeatable.
    #[arg(long, value_name = "ADDRESS", conflicts_with_all = ["destroy", "refresh_only"])]
    pub replace: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ConfirmArgs {
    /// Do not ask for confirmation.
    #[arg(long)]
    pub auto_approve: bool,
}

#[derive(Debug, Args)]
pub struct DestroyArgs {
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    /// Destroy every object of the stack found by its tags (and Kubernetes labels), whatever
    /// state made it: for a stack whose state is lost. Objects without the stack's tags are never
    /// touched.
    #[arg(long)]
    pub from_tags: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    /// A plan saved by `eksnet plan --out FILE`, executed exactly as saved.
    pub plan_file: Option<PathBuf>,
    /// Record in the state what changed outside eksnet (found, changed, deleted objects)
    /// without changing anything in AWS.
    #[arg(long, conflicts_with = "plan_file")]
    pub refresh_only: bool,
    /// Adopt this stack's objects although another state manages them, and mark them as this
    /// state's (the plan shows it first; docs/ownership.md).
    #[arg(long, conflicts_with = "plan_file")]
    pub take_over: bool,
    /// Let a nodegroup's version update delete the pods a PodDisruptionBudget protects, where
    /// the drain would otherwise fail with PodEvictionFailure (UpdateNodegroupVersion `force`;
    /// the plan says so; docs/upgrades.md).
    #[arg(long, conflicts_with = "plan_file")]
    pub force_upgrade: bool,
    /// Go ahead with a Kubernetes upgrade although one of EKS's upgrade insights for the next
    /// version is ERROR (ListInsights; the plan shows them as warnings; docs/upgrades.md).
    #[arg(long)]
    pub ignore_insights: bool,
    /// Let an approved plan (--auto-approve, or a saved plan) delete or replace the EKS cluster,
    /// a nodegroup or the VPC. Without it such a plan needs the cluster's name typed on a
    /// terminal.
    #[arg(long)]
    pub allow_destroy_cluster: bool,
    /// Expire the stack this long from now (`4h`, `2d`), or `never`: its objects are tagged
    /// `eksnet:expires-at` and `eksnet sweep` destroys it once that time has passed. Overrides
    /// the stack's `expires_after`.
    #[arg(long, conflicts_with = "plan_file", value_parser = parse_ttl, value_name = "DURATION|never")]
    pub ttl: Option<String>,
    /// After a successful apply, run `eksnet verify`; its result is the exit code.
    #[arg(long, conflicts_with = "refresh_only")]
    pub verify: bool,
    /// Replace ADDRESS although nothing about it changed (Terraform's `-replace`), e.g. to roll
    /// a nodegroup's nodes; what depends on its id is replaced with it. Repeatable.
    #[arg(long, value_name = "ADDRESS", conflicts_with_all = ["plan_file", "refresh_only"])]
    pub replace: Vec<String>,
}

fn parse_ttl(text: &str) -> Result<String, String> {
    if text == "never" {
        return Ok(text.into());
    }
    crate::duration::parse(text).and_then(|d| if d.is_zero() { Err("a lifetime must be longer than 0".into()) } else { Ok(text.into()) })
}

#[derive(Debug, Args)]
pub struct SweepArgs {
    /// Look in every region the account has enabled (DescribeRegions), not only --region.
    #[arg(long)]
    pub all_regions: bool,
    /// List the expired stacks and what they hold; destroy nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Destroy without asking (needed without a terminal).
    #[arg(long, alias = "auto-approve", conflicts_with = "dry_run")]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// A Terraform state, format version 4: `terraform.tfstate`, or what `terraform state pull`
    /// prints.
    #[arg(long, value_name = "FILE")]
    pub from_terraform: PathBuf,
    /// Where to write the stack [default: the stack file, -f]; the Kubernetes objects'
    /// templates go next to it, under templates/imported/.
    #[arg(long, value_name = "FILE")]
    pub stack_out: Option<PathBuf>,
    /// The stack's name [default: from the cluster's name].
    #[arg(long)]
    pub name: Option<String>,
    /// The EKS cluster to import when the state has several.
    #[arg(long)]
    pub cluster: Option<String>,
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

#[derive(Debug, Args)]
pub struct OutputArgs {
    /// One output only.
    pub name: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum StateCommand {
    /// List the resources in the state.
    List,
    /// Show one resource's record.
    Show { address: String },
    /// Remove a lock left by a run that died.
    Unlock { id: String },
    /// Print the stored state (JSON) to stdout, e.g. to inspect or edit it.
    Pull,
    /// Replace the stored state with FILE, under the lock: refused when FILE is of another
    /// history (lineage) or older (serial) than what is stored, unless --force. Also moves a
    /// local state into a remote backend.
    Push {
        file: std::path::PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Forget objects without deleting them (Terraform's `state rm`): their eksnet tags (and
    /// Kubernetes labels) are taken off, so that no refresh, `state rebuild`, `destroy` or
    /// `sweep` takes them for the stack's again, and their records leave the state. What is
    /// found only through an object (a subnet's route table association, a group's rules) is
    /// forgotten with it. The next plan creates anew what the stack still declares.
    Rm {
        #[arg(required = true, value_name = "ADDRESS")]
        addresses: Vec<String>,
    },
    /// Give an object another address (Terraform's `state mv`), e.g. after renaming it in the
    /// stack file, so that the plan shows no change instead of a delete and a create: the
    /// record moves, and the object's `eksnet:address` tag (Kubernetes: annotation) names TO.
    Mv {
        #[arg(value_name = "FROM")]
        from: String,
        #[arg(value_name = "TO")]
        to: String,
    },
    /// Write a lost state again from what exists: every object of the stack found by its tags
    /// (and Kubernetes labels), with the history (lineage) they are marked with. Refused while
    /// the state still records objects. Changes nothing in AWS.
    Rebuild,
}

pub use crate::duration::parse as parse_duration;

/// A time scale: a finite number ≥ 1 (AWS time never runs slower than AWS).
fn parse_time_scale(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f >= 1.0 => Ok(f),
        _ => Err(format!("`{s}` is not a time scale: give a number ≥ 1, e.g. 60 for an emulator that runs one AWS minute per second")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("10m").unwrap(), Duration::from_secs(600));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("3d").unwrap(), Duration::from_secs(3 * 86400));
        assert!(parse_duration("3w").is_err());
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
