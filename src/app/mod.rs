//! The commands: parse, load, dispatch, and turn errors into messages and exit codes (the one
//! place that renders them). One file per command family below.

mod apply;
mod cluster;
mod import;
mod init;
mod plan;
mod state;
mod suggest;
mod sweep;
mod verify;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Parser;

use crate::address::Address;
use crate::apply::{Outcomes, RefreshError, Run, refresh, sync};
use crate::backend::{BackendConfig, Store, check_push};
use crate::cli::{Cli, Command, Format, Global, OutputArgs, PlanArgs, StateCommand};
use crate::cloud::{CloudOptions, load as load_cloud};
use crate::diagnostic::{Diagnostic, Help, Invalid, help};
use crate::ownership::{Foreign, Owner};
use crate::plan::{Inputs, Plan, plan as make_plan};
use crate::provider::{Desired, Observed};
use crate::render::style::Style;
use crate::render::text;
use crate::resources::{Aws, Polling};
use crate::stack::{Overrides, Stack};
use crate::state::{State, StateFile};
use crate::ui::Printer;
use apply::{How, Mode, Target, apply_command, apply_locked};
use cluster::{graph_command, kubeconfig_command, token_command};
use plan::{plan_command, render_plan, replacing};
use state::{output_command, state_command};
use suggest::{Suggest, shell_word};

/// Exit codes: 0 success, 1 error, 2 changes present (plan --detailed-exitcode).
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let printer = Printer::detect(cli.global.color, cli.global.verbose);
    let only_prints = match &cli.command {
        Command::Validate
        | Command::Verify(_)
        | Command::Graph(_)
        | Command::Show(_)
        | Command::Completions { .. }
        | Command::Man
        | Command::Output(_)
        | Command::Token { .. } => true,
        Command::Plan(_) => true,
        Command::State(c) => matches!(c, StateCommand::List | StateCommand::Show { .. } | StateCommand::Pull),
        _ => false,
    };
    if only_prints {
        crate::ui::quiet_on_closed_pipe();
    }
    match dispatch(&cli, printer) {
        Ok(code) => code,
        Err(e) => {
            let suggest = Suggest::new(&cli.global);
            if let Some(invalid) = e.downcast_ref::<Invalid>() {
                let hinted = invalid.0.iter().map(|d| Diagnostic { hint: d.hint.as_deref().map(|h| suggest.in_text(h)), ..d.clone() });
                eprintln!("{}", Invalid(hinted.collect()));
            } else {
                eprintln!("{} {e:#}", printer.paint(Style::Error, "error:"));
                if let Some(fix) = e.chain().find_map(|c| c.downcast_ref::<Help>()) {
                    eprintln!("  = help: {}", suggest.in_text(&fix.help));
                }
            }
            1
        }
    }
}

fn dispatch(cli: &Cli, printer: Printer) -> anyhow::Result<i32> {
    let g = &cli.global;
    match &cli.command {
        Command::Init(args) => init::init_command(g, args),
        Command::Validate => {
            let stack = load_stack(g)?;
            let n = stack.desired().len();
            println!("{} is valid: stack `{}` in {}, {} resources", g.stack.display(), stack.name, stack.region, n);
            Ok(0)
        }
        Command::Graph(args) => {
            print!("{}", graph_command(g, args)?);
            Ok(0)
        }
        Command::Show(args) => {
            let plan = read_plan(&args.plan_file)?;
            print!("{}", render_plan(&plan, args.format, printer)?);
            Ok(0)
        }
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut <Cli as clap::CommandFactory>::command(), "eksnet", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command()).render(&mut std::io::stdout())?;
            Ok(0)
        }
        Command::Plan(args) => runtime()?.block_on(plan_command(g, args, printer)),
        Command::Apply(args) => {
            let mode = if args.refresh_only { Mode::RefreshOnly } else { Mode::Apply };
            let how = How {
                approved: args.confirm.auto_approve,
                mode,
                take_over: args.take_over,
                allow_destroy_cluster: args.allow_destroy_cluster,
                ttl: args.ttl.clone(),
                replace: args.replace.clone(),
                plan_file: args.plan_file.clone(),
                force_upgrade: args.force_upgrade,
                ignore_insights: args.ignore_insights,
            };
            let runtime = runtime()?;
            let code = runtime.block_on(apply_command(g, args.plan_file.as_deref(), how, printer))?;
            // `apply --verify`: an apply that succeeded is proven (docs/verify.md).
            if code == 0 && args.verify {
                eprintln!();
                return runtime.block_on(verify::verify_command(g, crate::cli::VerifyFormat::Text, printer));
            }
            Ok(code)
        }
        Command::Destroy(args) => {
            // `destroy` is the explicit wish to delete everything, the cluster included.
            // --from-tags: the stack's objects are found by their tags whatever state made them.
            runtime()?.block_on(apply_command(g, None, How::destroy(args.confirm.auto_approve, args.from_tags), printer))
        }
        Command::Verify(args) => runtime()?.block_on(verify::verify_command(g, args.format, printer)),
        Command::Sweep(args) => runtime()?.block_on(sweep::sweep_command(g, args, printer)),
        Command::Import(args) => runtime()?.block_on(import::import_command(g, args, printer)),
        Command::Output(args) => runtime()?.block_on(output_command(g, args)),
        Command::Token { cluster } => runtime()?.block_on(token_command(g, cluster)),
        Command::Kubeconfig { write, print } => runtime()?.block_on(kubeconfig_command(g, write.as_deref(), *print)),
        Command::State(command) => runtime()?.block_on(state_command(g, command, printer)),
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

fn load_stack(g: &Global) -> anyhow::Result<Stack> {
    Ok(crate::stack::load(&g.stack, &Overrides { region: g.region.clone() })?)
}

fn cloud_options(g: &Global, region: &str) -> CloudOptions {
    CloudOptions {
        region: region.into(),
        endpoint_url: g.endpoint_url.clone(),
        max_attempts: g.max_attempts,
        adaptive_retries: g.retry_mode == crate::cli::RetryMode::Adaptive,
    }
}

/// The stack's state store (a local file, or its `state:` backend).
async fn stack_store(g: &Global, stack: &Stack) -> anyhow::Result<Store> {
    Store::open(&stack.backend, g.state.as_deref(), &stack.name, &cloud_options(g, &stack.region)).await
}

/// The store for commands that only read or repair the state: `--state FILE` without loading
/// the stack, else the stack's. Also returns the stack's name when it was loaded.
async fn store_for(g: &Global) -> anyhow::Result<(Store, Option<String>)> {
    if let Some(path) = &g.state {
        return Ok((Store::Local(StateFile::new(path)), None));
    }
    let stack = load_stack(g)?;
    Ok((stack_store(g, &stack).await?, Some(stack.name)))
}

async fn load_existing(store: &Store, why: &str) -> anyhow::Result<State> {
    match store.load().await? {
        Some(state) => Ok(state),
        None => Err(help(
            format!("no state at {}: {why}", store.location()),
            "`eksnet apply` creates the stack and its state; a stack applied before has its state where that run kept it (--state, or the stack's `state:`)",
        )),
    }
}

fn polling(g: &Global) -> Polling {
    let mut p = Polling { max_interval: g.poll_interval, time_scale: g.aws_time_scale, ..Polling::default() };
    p.initial_interval = p.initial_interval.min(g.poll_interval);
    p
}

/// Settles `cluster.version` when the stack leaves it out, as CreateCluster does without a
/// version ("If you don't specify a value here, the default version available in Amazon EKS is
/// used": EKS API reference, CreateCluster): a cluster the state records keeps the version it was
/// made with, so that EKS moving its default never upgrades a running cluster; a new one gets
/// EKS's default version today (DescribeClusterVersions `defaultVersion`, else the newest in
/// standard support). Returns the note the plan shows when it picked a version for a new cluster.
async fn settle_version(aws: &Aws, stack: &mut Stack, state: Option<&State>) -> anyhow::Result<Option<String>> {
    let Some(cluster) = stack.cluster.as_mut().filter(|c| !c.version_given) else { return Ok(None) };
    let recorded = state.and_then(|s| s.resources.get(&Address::new("eks_cluster", "main"))).and_then(|r| r.attrs.get("version")?.as_str().map(str::to_string));
    if let Some(version) = recorded {
        cluster.version = version;
        return Ok(None);
    }
    let offered = aws.kubernetes_versions().await.map_err(|e| anyhow::anyhow!("reading the Kubernetes versions EKS offers (the stack names none): {e}"))?;
    let Some(version) = crate::plan::default_version(&offered) else { return Ok(None) };
    cluster.version = version.to_string();
    Ok(Some(format!(
        "`cluster.version` is not set: the cluster is created with Kubernetes {version}, EKS's default today; write `version: \"{version}\"` under `cluster:` in {} so that upgrades happen when you choose",
        stack.file
    )))
}

async fn connect(g: &Global, stack_name: &str, region: &str) -> anyhow::Result<Aws> {
    Ok(Aws::new(load_cloud(&cloud_options(g, region)).await?, stack_name, polling(g), g.force_conflicts))
}

async fn observe(aws: &Aws, owner: &Owner, state: Option<&State>, desired: &[Desired]) -> anyhow::Result<BTreeMap<Address, Observed>> {
    refresh(aws, owner, state, desired).await.map_err(|e| match e {
        RefreshError::Reads(failures) => {
            let lines: Vec<String> = failures.iter().map(|(kind, e)| format!("  reading {kind}: {e}")).collect();
            anyhow::anyhow!("cannot read what exists in AWS:\n{}", lines.join("\n"))
        }
        RefreshError::OwnedElsewhere(foreign) => owned_elsewhere(owner, &foreign),
    })
}

/// The stack exists, managed by another state: nothing may change until the user chooses.
fn owned_elsewhere(owner: &Owner, foreign: &[Foreign]) -> anyhow::Error {
    let mut lineages: Vec<&str> = foreign.iter().map(|f| f.lineage.as_str()).collect();
    lineages.sort();
    lineages.dedup();
    let shown: Vec<String> = foreign.iter().take(5).map(|f| format!("    {} ({})", f.address, f.id)).collect();
    let more = if foreign.len() > shown.len() { format!("\n    … and {} more", foreign.len() - shown.len()) } else { String::new() };
    help(
        format!(
            "stack `{}` already exists in this account and region, managed by another state (lineage {}); this state's lineage is {}.\n  \
             {} of its objects carry the other state's `eksnet:lineage` tag:\n{}{more}\n  Nothing was changed.",
            owner.stack,
            lineages.join(", "),
            owner.lineage,
            foreign.len(),
            shown.join("\n"),
        ),
        "use the state that manages it (--state FILE, or the stack's `backend:`), or give this stack another `name:`, or take it over \
         deliberately: `eksnet plan --take-over` shows what that changes, `eksnet apply --take-over` does it (the other state must not be \
         used afterwards; docs/ownership.md)",
    )
}

/// What the run asks of the stack's lifetime: `apply --ttl`, else the stack's `expires_after`.
fn requested_expiry(stack: &Stack, ttl: Option<&str>) -> crate::expiry::Requested {
    use crate::expiry::Requested;
    match (ttl, &stack.expires_after) {
        (Some("never"), _) => Requested::Never,
        (Some(ttl), _) => Requested::Renew(ttl.to_string()),
        (None, Some(after)) => Requested::Stack(after.clone()),
        (None, None) => Requested::Keep,
    }
}

/// The desired resources with the expiry marks this run sets, decided from what the objects
/// carry (the VPC first) so that the time does not move from one plan to the next.
fn expiring(mut desired: Vec<Desired>, requested: &crate::expiry::Requested, observed: &BTreeMap<Address, Observed>) -> Vec<Desired> {
    let vpc = observed.get(&Address::new("vpc", "main"));
    let current = crate::expiry::current(vpc.into_iter().chain(observed.values()));
    crate::expiry::mark(&mut desired, crate::expiry::decide(requested, current, std::time::SystemTime::now()).as_ref());
    desired
}

/// The stack's desired resources, marked with the lineage of the state that will manage them.
fn marked(desired: Vec<Desired>, lineage: &str) -> Vec<Desired> {
    let mut desired = desired;
    crate::ownership::mark(&mut desired, lineage);
    desired
}

fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read plan {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a plan saved by `eksnet plan --out`", path.display()))
}

/// What a plan that builds asks AWS beyond the refresh, written into the plan: that the stack's
/// zones exist in this account (nothing is created when one does not), that EKS offers the
/// cluster's Kubernetes version today, and the instance types' network limits for the IP
/// capacity.
async fn preflight(aws: &Aws, stack: &Stack, plan: &mut Plan) -> anyhow::Result<()> {
    let offered = aws.availability_zones().await.map_err(|e| anyhow::anyhow!("reading availability zones: {e}"))?;
    let zones: Vec<&String> = stack.tiers.iter().flat_map(|t| t.subnets.iter().map(|(az, _)| az)).collect();
    if let Some(missing) = zones.iter().find(|z| !offered.contains(z)) {
        let mut offered = offered;
        offered.sort();
        return Err(help(
            format!("availability zone `{missing}` does not exist in {} for this account (it has {})", stack.region, offered.join(", ")),
            format!("change `availability_zones` in {}; nothing was created", stack.file),
        ));
    }
    let Some(cluster) = &stack.cluster else { return Ok(()) };
    // A role without eks:DescribeClusterVersions still plans: EKS itself refuses a version it
    // does not offer when the cluster is created or updated.
    let versions = match aws.kubernetes_versions().await {
        Ok(versions) => versions,
        Err(e) => {
            plan.warnings.push(format!("could not check Kubernetes {} against the versions EKS offers today: {e}", cluster.version));
            vec![]
        }
    };
    let sets_version = plan.changes.iter().any(|c| {
        c.address == Address::new("eks_cluster", "main")
            && (c.action == crate::plan::Action::Create || c.diffs.iter().any(|d| d.attribute == "version" && c.action != crate::plan::Action::NoOp))
    });
    match crate::plan::kubernetes_version(&cluster.version, &versions, sets_version) {
        _ if versions.is_empty() => {}
        Err((message, fix)) => return Err(help(message, format!("{fix} in {}; nothing was created", stack.file))),
        Ok(Some(warning)) => plan.warnings.push(warning),
        Ok(None) => {}
    }
    let mut types: Vec<String> = cluster.nodegroups.iter().flat_map(|n| n.instance_types.iter().cloned()).collect();
    types.sort();
    types.dedup();
    let networks = aws.instance_networks(&types).await.map_err(|e| anyhow::anyhow!("reading instance types: {e}"))?;
    plan.capacity = crate::capacity::capacity(stack, &|t| networks.iter().find(|(n, _)| n == t).map(|(_, n)| *n));
    Ok(())
}

/// This run's part of a Kubernetes upgrade: the cluster and nodegroups pinned to the step's
/// minor version (`upgrade.rs`), every add-on's `addon_version` chosen for the cluster's
/// version from what EKS offers (DescribeAddonVersions) or as the stack pins it
/// (`cni.addon_versions`), and a nodegroup's `release_version: latest` settled to the newest AMI
/// release EKS publishes. Warnings for the plan: what could not be asked (the add-ons then keep
/// their versions). A pinned add-on version EKS does not offer for the stack's Kubernetes
/// version is refused in the stack's words, before any change.
async fn upgrade_step(
    aws: &Aws,
    stack: &Stack,
    desired: &mut [Desired],
    observed: &BTreeMap<Address, Observed>,
) -> anyhow::Result<(Option<crate::upgrade::Upgrade>, Vec<String>)> {
    let mut step = crate::upgrade::step_of(desired, observed);
    if let Some(step) = &step {
        crate::upgrade::pin(desired, step);
    }
    let mut warnings = vec![];
    // EKS's upgrade insights for the version this step moves the control plane to, as
    // warnings; an ERROR one stops apply unless `--ignore-insights` (docs/upgrades.md).
    let cluster_name = desired.iter().find(|d| d.address.kind == "eks_cluster").and_then(|d| d.attrs.get("name")?.as_str().map(str::to_string));
    if let (Some(s), Some(cluster)) = (step.as_mut().filter(|s| s.lagging.is_empty()), cluster_name) {
        match aws.upgrade_insights(&cluster, &s.step).await {
            Ok(found) => {
                for i in &found {
                    let advice = i.recommendation.as_deref().map(|r| format!(" EKS recommends: {r}")).unwrap_or_default();
                    warnings.push(format!("EKS upgrade insight for Kubernetes {}: {} is {}: {}{advice}", s.step, i.name, i.status, i.reason));
                }
                s.blocking = found.iter().filter(|i| i.is_error()).map(|i| i.name.clone()).collect();
            }
            Err(e) => warnings.push(format!("could not read EKS's upgrade insights for Kubernetes {} (ListInsights): {e}", s.step)),
        }
    }
    let Some(kubernetes) = crate::upgrade::cluster_version(desired) else { return Ok((step, warnings)) };
    let target = stack.cluster.as_ref().map_or(kubernetes.clone(), |c| c.version.clone());
    let no_pins = BTreeMap::new();
    let pins = stack.cluster.as_ref().map_or(&no_pins, |c| &c.cni.addon_versions);
    let mut problems = vec![];
    for d in desired.iter_mut().filter(|d| d.address.kind == "eks_addon") {
        let Some(name) = d.attrs.get("addon_name").and_then(serde_json::Value::as_str).map(str::to_string) else { continue };
        let pin = pins.get(&name);
        let offered = aws.addon_versions(&name, &kubernetes).await;
        // A pin is judged against the version the stack asks for, even in an earlier step of an
        // upgrade: a wrong one is refused before the first step starts.
        let at_target = match (&offered, pin) {
            (_, None) => None,
            (Ok(o), Some(_)) if kubernetes == target => Some(o.clone()),
            (_, Some(_)) => aws.addon_versions(&name, &target).await.ok(),
        };
        if let (Some(pin), Some(at_target)) = (pin, &at_target)
            && !at_target.compatible.contains(&pin.version)
        {
            problems.push(crate::upgrade::unoffered_pin(&stack.file, &name, pin, &target, at_target));
            continue;
        }
        let current = observed.get(&d.address).and_then(|o| o.attrs.get("addon_version")?.as_str());
        let chosen = match (offered, pin) {
            (Ok(o), Some(pin)) if o.compatible.contains(&pin.version) => Some(pin.version.clone()),
            (Ok(crate::resources::AddonVersions { compatible, default: Some(default) }), _) => {
                Some(crate::upgrade::addon_version(current, &compatible, &default))
            }
            (Ok(_), _) => {
                warnings.push(format!("EKS lists no default version of add-on {name} for Kubernetes {kubernetes}; it keeps its version"));
                None
            }
            (Err(e), Some(pin)) => {
                warnings.push(format!("could not check add-on {name} {} against the versions EKS offers for Kubernetes {kubernetes}: {e}", pin.version));
                Some(pin.version.clone())
            }
            (Err(e), None) => {
                warnings.push(format!("could not read the versions of add-on {name} for Kubernetes {kubernetes} (it keeps its version): {e}"));
                None
            }
        };
        if let Some(chosen) = chosen {
            d.attrs.insert("addon_version".into(), serde_json::json!(chosen));
        }
    }
    if !problems.is_empty() {
        return Err(crate::diagnostic::Invalid(problems).into());
    }
    for d in desired.iter_mut().filter(|d| d.address.kind == "eks_nodegroup") {
        let Some(release) = d.attrs.get("release_version").and_then(serde_json::Value::as_str).map(str::to_string) else { continue };
        // A release is made for one Kubernetes version: in an earlier step of an upgrade the
        // nodes take that step's newest release (UpdateNodegroupVersion's default).
        let made_for = crate::upgrade::release_kubernetes(&release);
        if release == "latest" {
            let ami = d.attrs.get("ami_type").and_then(serde_json::Value::as_str).unwrap_or_default().to_string();
            match aws.latest_release(&ami, &kubernetes).await {
                Ok(Some(latest)) => {
                    d.attrs.insert("release_version".into(), serde_json::json!(latest));
                }
                Ok(None) => {
                    warnings.push(format!(
                        "{}: eksnet does not know where EKS publishes the AMI releases of {ami}; `release_version: latest` is not followed",
                        d.address
                    ));
                    d.attrs.remove("release_version");
                }
                Err(e) => {
                    warnings.push(format!("{}: could not read the newest AMI release for Kubernetes {kubernetes} (the nodes keep theirs): {e}", d.address));
                    d.attrs.remove("release_version");
                }
            }
        } else if made_for.is_some_and(|v| v != kubernetes) {
            d.attrs.remove("release_version");
        }
    }
    Ok((step, warnings))
}

/// Newer AMI releases than the nodes run, for `plan --refresh-only`: (address, running, newest).
/// Nothing moves until the stack says `release_version: latest` (or names the release).
async fn available_releases(aws: &Aws, observed: &BTreeMap<Address, Observed>) -> Vec<(Address, String, String)> {
    let mut out = vec![];
    for (address, o) in observed.iter().filter(|(a, _)| a.kind == "eks_nodegroup") {
        let text = |k: &str| o.attrs.get(k).and_then(serde_json::Value::as_str).map(str::to_string);
        let (Some(version), Some(ami), Some(running)) = (text("version"), text("ami_type"), text("release_version")) else { continue };
        if let Ok(Some(latest)) = aws.latest_release(&ami, &version).await
            && crate::resources::release_key(&latest) > crate::resources::release_key(&running)
        {
            out.push((address.clone(), running, latest));
        }
    }
    out
}

/// Releases the run's lock, warning when that fails.
async fn release(g: &Global, held: crate::backend::Held, printer: Printer) {
    if let Some(warning) = held.release().await {
        eprintln!("{} {}", printer.paint(Style::Warning, "warning:"), Suggest::new(g).in_text(&warning));
    }
}

/// `on` names what the answer acts on: `stack `demo` in us-west-2, account 123456789012`.
fn confirm(what: &str, on: &str) -> anyhow::Result<bool> {
    ask(&question(what, on), "yes", what)
}

fn question(what: &str, on: &str) -> String {
    match what {
        "destroy" => format!("Do you want to destroy {on} as planned above? Only `yes` is accepted: "),
        _ => format!("Do you want to {what} these changes to {on}? Only `yes` is accepted: "),
    }
}

/// A confirmation that a destructive plan asks for: the name of what it takes down, typed.
fn confirm_typed(deleted: &str, name: &str, what: &str, on: &str) -> anyhow::Result<bool> {
    ask(&typed_question(deleted, what, on), name, what)
}

fn typed_question(deleted: &str, what: &str, on: &str) -> String {
    format!("This deletes {deleted} of {on}. Type its name to {what}: ")
}

fn ask(question: &str, expected: &str, what: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(help(
            format!("{what} needs a confirmation and there is no terminal to ask on"),
            "pass --auto-approve, or save a plan with `eksnet plan --out FILE` and run `eksnet apply FILE`",
        ));
    }
    eprint!("\n{question}");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_name_the_stack_the_cluster_and_the_account() {
        let on = "stack `demo` in ap-southeast-2, account 123456789012";
        assert_eq!(
            question("destroy", on),
            "Do you want to destroy stack `demo` in ap-southeast-2, account 123456789012 as planned above? Only `yes` is accepted: "
        );
        assert_eq!(
            question("apply", on),
            "Do you want to apply these changes to stack `demo` in ap-southeast-2, account 123456789012? Only `yes` is accepted: "
        );
        assert_eq!(
            typed_question("the EKS cluster `DemoEKS`", "destroy", on),
            "This deletes the EKS cluster `DemoEKS` of stack `demo` in ap-southeast-2, account 123456789012. Type its name to destroy: "
        );
    }
}
