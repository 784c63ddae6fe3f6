//! The commands: parse, load, dispatch, and turn errors into messages and exit codes.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, bail};
use clap::Parser;

use crate::address::Address;
use crate::apply::{Failure, RefreshError, Run, refresh, sync};
use crate::backend::{BackendConfig, Store, check_push};
use crate::cli::{Cli, Command, Format, Global, OutputArgs, PlanArgs, StateCommand};
use crate::cloud::{CloudOptions, load as load_cloud};
use crate::diagnostic::{Help, Invalid, help};
use crate::ownership::{Foreign, Owner};
use crate::plan::{Inputs, Plan, plan as make_plan};
use crate::provider::{Desired, Observed};
use crate::render::style::Style;
use crate::render::text;
use crate::resources::{Aws, Polling};
use crate::stack::{Overrides, Stack};
use crate::state::{State, StateFile};
use crate::ui::Printer;

/// Exit codes: 0 success, 1 error, 2 changes present (plan --detailed-exitcode).
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 1 } else { 0 };
        }
    };
    let printer = Printer::detect(cli.global.color);
    match dispatch(&cli, printer) {
        Ok(code) => code,
        Err(e) => {
            if let Some(invalid) = e.downcast_ref::<Invalid>() {
                eprintln!("{invalid}");
            } else {
                eprintln!("{} {e:#}", printer.paint(Style::Error, "error:"));
                if let Some(fix) = e.chain().find_map(|c| c.downcast_ref::<Help>()) {
                    eprintln!("  = help: {}", fix.help);
                }
            }
            1
        }
    }
}

fn dispatch(cli: &Cli, printer: Printer) -> anyhow::Result<i32> {
    let g = &cli.global;
    match &cli.command {
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
            let how = How { approved: args.confirm.auto_approve, mode, take_over: args.take_over };
            runtime()?.block_on(apply_command(g, args.plan_file.as_deref(), how, printer))
        }
        Command::Destroy(args) => {
            let how = How { approved: args.auto_approve, mode: Mode::Destroy, take_over: false };
            runtime()?.block_on(apply_command(g, None, how, printer))
        }
        Command::Output(args) => runtime()?.block_on(output_command(g, args)),
        Command::Token { cluster } => runtime()?.block_on(token_command(g, cluster)),
        Command::Kubeconfig { write, print } => runtime()?.block_on(kubeconfig_command(g, write.as_deref(), *print)),
        Command::State(command) => runtime()?.block_on(state_command(g, command, printer)),
    }
}

/// `eksnet graph`: the stack's graph, or with `--plan` a saved plan's changes (which needs no
/// stack file, so a reviewer can draw a plan downloaded from CI).
fn graph_command(g: &Global, args: &crate::cli::GraphArgs) -> anyhow::Result<String> {
    use crate::cli::GraphFormat;
    use crate::render::mermaid::Diagram;
    if let Some(path) = &args.plan {
        let diagram = Diagram::of_plan(&read_plan(path)?, true);
        return Ok(match args.format {
            GraphFormat::Mermaid => diagram.render(),
            GraphFormat::Dot => diagram.dot(),
        });
    }
    let desired = load_stack(g)?.desired();
    let graph = crate::graph::Graph::build(&desired).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(match args.format {
        GraphFormat::Dot => graph.dot(),
        GraphFormat::Mermaid => Diagram::of_stack(graph.order().cloned(), &desired).render(),
    })
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
    store.load().await?.with_context(|| format!("no state at {}: {why}", store.location()))
}

async fn output_command(g: &Global, args: &OutputArgs) -> anyhow::Result<i32> {
    let (store, _) = store_for(g).await?;
    let state = load_existing(&store, "nothing was applied yet").await?;
    let outputs = crate::outputs::outputs(&state, &g.stack.display().to_string());
    match &args.name {
        Some(name) => {
            let value =
                outputs.get(name).with_context(|| format!("no output `{name}`; there are: {}", outputs.keys().cloned().collect::<Vec<_>>().join(", ")))?;
            println!("{}", if args.json { value.to_string() } else { value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string()) });
        }
        None if args.json => println!("{}", serde_json::to_string_pretty(&outputs)?),
        None => outputs.iter().for_each(|(k, v)| println!("{k} = {v}")),
    }
    Ok(0)
}

async fn state_command(g: &Global, command: &StateCommand, printer: Printer) -> anyhow::Result<i32> {
    let (store, stack_name) = store_for(g).await?;
    match command {
        StateCommand::Unlock { id } => {
            let holder = store.unlock(id).await?;
            eprintln!("removed the lock of `{}` (pid {} on {})", holder.command, holder.pid, holder.host);
        }
        StateCommand::List => {
            let state = store.load().await?.unwrap_or_else(|| State::new(""));
            for (address, record) in &state.resources {
                println!("{address}\t{}", record.id.as_deref().unwrap_or("(creating)"));
            }
        }
        StateCommand::Show { address } => {
            let state = load_existing(&store, "nothing was applied yet").await?;
            let parsed = Address::parse(address).with_context(|| format!("`{address}` is not an address (e.g. subnet.intra[\"us-west-2a\"])"))?;
            let record = state.resources.get(&parsed).with_context(|| format!("`{address}` is not in the state; `eksnet state list` shows what is"))?;
            println!("{}", serde_json::to_string_pretty(record)?);
        }
        StateCommand::Pull => {
            let state = load_existing(&store, "nothing was applied yet").await?;
            println!("{}", serde_json::to_string_pretty(&state)?);
        }
        StateCommand::Push { file, force } => {
            let text = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
            let mut pushed = crate::state::parse(&text, &file.display().to_string(), "its own backup")?;
            if let Some(name) = stack_name.filter(|n| *n != pushed.stack) {
                bail!("{} is a state of stack `{}`, not of `{name}`; push it with that stack's file (-f)", file.display(), pushed.stack);
            }
            let held = store.lock("eksnet state push", g.lock_timeout).await?;
            let result = async {
                let current = store.load().await?;
                check_push(&pushed, current.as_ref(), *force)?;
                pushed.serial = pushed.serial.max(current.as_ref().map_or(0, |c| c.serial));
                store.save(&mut pushed).await
            }
            .await;
            release(held, printer).await;
            result?;
            eprintln!("pushed {} ({} resources) to {}, now at serial {}", file.display(), pushed.resources.len(), store.location(), pushed.serial);
        }
    }
    Ok(0)
}

fn polling(g: &Global) -> Polling {
    let mut p = Polling { max_interval: g.poll_interval, ..Polling::default() };
    p.initial_interval = p.initial_interval.min(g.poll_interval);
    p
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

/// The stack's desired resources, marked with the lineage of the state that will manage them.
fn marked(desired: Vec<Desired>, lineage: &str) -> Vec<Desired> {
    let mut desired = desired;
    crate::ownership::mark(&mut desired, lineage);
    desired
}

async fn plan_command(g: &Global, args: &PlanArgs, printer: Printer) -> anyhow::Result<i32> {
    if args.refresh_only && args.format == Format::Markdown {
        bail!("--refresh-only shows what changed outside eksnet as text or json (--format text|json)");
    }
    let stack = load_stack(g)?;
    let store = stack_store(g, &stack).await?;
    let state = store.load().await?;
    let aws = connect(g, &stack.name, &stack.region).await?;
    // Without a state yet, the plan names the lineage the state it creates will have.
    let lineage = state.as_ref().map_or_else(|| State::new(&stack.name).lineage, |s| s.lineage.clone());
    let owner = Owner { stack: stack.name.clone(), lineage: lineage.clone(), take_over: args.take_over };
    let desired = marked(stack.desired(), &lineage);
    let observed = observe(&aws, &owner, state.as_ref(), &desired).await?;
    if args.refresh_only {
        let drifts = crate::drift::drift(state.as_ref(), &observed);
        match args.format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&crate::drift::json(&drifts))?),
            _ => print!("{}", text::drift(&drifts, &|c, t| printer.paint(c, t))),
        }
        return Ok(if args.detailed_exitcode && !drifts.is_empty() { 2 } else { 0 });
    }
    let mut plan = make_plan(&aws, &Inputs { stack: &stack.name, desired: &desired, state: state.as_ref(), observed: &observed, destroy: args.destroy });
    plan.region = stack.region.clone();
    plan.backend = stack.backend.clone();
    plan.state_lineage = Some(lineage);
    plan.take_over = args.take_over;
    if !args.destroy {
        plan.capacity = capacity(&aws, &stack).await?;
    }
    print!("{}", render_plan(&plan, args.format, printer)?);
    if let Some(out) = &args.out {
        let mut f = crate::state::private_file(out).with_context(|| format!("cannot write {}", out.display()))?;
        f.write_all(serde_json::to_string_pretty(&plan)?.as_bytes())?;
        eprintln!("Saved the plan to {}; run `eksnet apply {}` to execute exactly this plan.", out.display(), out.display());
    }
    Ok(if args.detailed_exitcode && plan.has_changes() { 2 } else { 0 })
}

fn render_plan(plan: &Plan, format: Format, printer: Printer) -> anyhow::Result<String> {
    Ok(match format {
        Format::Text => text::plan(plan, &|c, t| printer.paint(c, t)),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&crate::plan::json(plan))?),
        Format::Markdown => crate::render::markdown::render(plan, &Default::default()),
    })
}

fn read_plan(path: &Path) -> anyhow::Result<Plan> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read plan {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a plan saved by `eksnet plan --out`", path.display()))
}

/// The stack's IP capacity, with instance limits from DescribeInstanceTypes.
async fn capacity(aws: &Aws, stack: &Stack) -> anyhow::Result<Option<crate::capacity::Capacity>> {
    let Some(cluster) = &stack.cluster else { return Ok(None) };
    let mut types: Vec<String> = cluster.nodegroups.iter().flat_map(|n| n.instance_types.iter().cloned()).collect();
    types.sort();
    types.dedup();
    let networks = aws.instance_networks(&types).await.map_err(|e| anyhow::anyhow!("reading instance types: {e}"))?;
    Ok(crate::capacity::capacity(stack, &|t| networks.iter().find(|(n, _)| n == t).map(|(_, n)| *n)))
}

/// What `apply_command` does once it holds the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Apply,
    Destroy,
    /// Record what changed outside eksnet; change nothing in AWS.
    RefreshOnly,
}

/// How an apply runs: its mode, whether it was approved beforehand, and whether it may take over
/// objects another state manages.
#[derive(Debug, Clone, Copy)]
struct How {
    approved: bool,
    mode: Mode,
    take_over: bool,
}

async fn apply_command(g: &Global, plan_file: Option<&Path>, how: How, printer: Printer) -> anyhow::Result<i32> {
    let mode = how.mode;
    let saved: Option<Plan> = plan_file.map(read_plan).transpose()?;
    // A saved plan carries its stack; otherwise the stack file is the source.
    let stack = match &saved {
        Some(_) if !g.stack.exists() => None,
        _ => Some(load_stack(g)?),
    };
    let (name, region, backend) = match (&saved, &stack) {
        (Some(p), _) => (p.stack.clone(), p.region.clone(), p.backend.clone()),
        (None, Some(s)) => (s.name.clone(), s.region.clone(), s.backend.clone()),
        (None, None) => unreachable!("loaded above"),
    };
    let store = Store::open(&backend, g.state.as_deref(), &name, &cloud_options(g, &region)).await?;
    let command = match mode {
        Mode::Apply => "eksnet apply",
        Mode::Destroy => "eksnet destroy",
        Mode::RefreshOnly => "eksnet apply --refresh-only",
    };
    let held = store.lock(command, g.lock_timeout).await?;
    let target = Target { name, region, backend, stack: stack.as_ref(), store: &store };
    let how = How { approved: plan_file.is_some() || how.approved, take_over: how.take_over || saved.as_ref().is_some_and(|p| p.take_over), ..how };
    let result = apply_locked(g, &target, saved, how, printer).await;
    release(held, printer).await;
    result
}

/// What an apply works on.
struct Target<'a> {
    name: String,
    region: String,
    backend: BackendConfig,
    stack: Option<&'a Stack>,
    store: &'a Store,
}

async fn apply_locked(g: &Global, target: &Target<'_>, saved: Option<Plan>, how: How, printer: Printer) -> anyhow::Result<i32> {
    let Target { name, region, stack, store, .. } = target;
    let How { approved, mode, take_over } = how;
    let destroy = mode == Mode::Destroy;
    let mut state = match store.load().await? {
        Some(state) => state,
        // A saved plan made without a state names the lineage it marked its objects with.
        None => {
            let mut fresh = State::new(name);
            if let Some(lineage) = saved.as_ref().and_then(|p| p.state_lineage.clone()) {
                fresh.lineage = lineage;
            }
            fresh
        }
    };
    if let Some(p) = &saved {
        let moved = p.state_lineage.as_ref().is_some_and(|l| *l != state.lineage) || p.state_serial != state.serial;
        if moved {
            return Err(help(
                format!("the saved plan is stale: it was made against state serial {} but the state is now at serial {}", p.state_serial, state.serial),
                "run `eksnet plan --out FILE` again and apply the new plan",
            ));
        }
    }
    let mut aws = connect(g, name, region).await?;
    let reporter = printer.reporter();
    reporter.note(&format!("refreshing {} resource kinds of stack `{name}`", crate::resources::KINDS.len()));
    let desired = match (&saved, stack) {
        (Some(p), _) => p.desired.clone(),
        (None, Some(s)) => marked(s.desired(), &state.lineage),
        (None, None) => vec![],
    };
    aws.set_clusters(cluster_names(&desired, &state));
    let owner = Owner { stack: name.clone(), lineage: state.lineage.clone(), take_over };
    let observed = observe(&aws, &owner, Some(&state), &desired).await?;
    let drifts = (mode == Mode::RefreshOnly).then(|| crate::drift::drift(Some(&state), &observed));
    if let Some(drifts) = &drifts {
        print!("{}", text::drift(drifts, &|c, t| printer.paint(c, t)));
        if !drifts.is_empty() && !approved && !confirm("record")? {
            eprintln!("Cancelled; the state was not changed.");
            return Ok(1);
        }
    }
    if sync(&mut state, &observed, &desired) {
        store.save(&mut state).await?;
    }
    if let Some(drifts) = drifts {
        eprintln!("Refresh complete: the state records {} change(s) made outside eksnet; nothing in AWS was changed.", drifts.len());
        return Ok(0);
    }
    let plan = match saved {
        Some(p) => p,
        None => {
            let mut p = make_plan(&aws, &Inputs { stack: name, desired: &desired, state: Some(&state), observed: &observed, destroy });
            p.region = region.clone();
            p.backend = target.backend.clone();
            p.take_over = take_over;
            if let (Some(s), false) = (stack, destroy) {
                p.capacity = capacity(&aws, s).await?;
            }
            p
        }
    };
    print!("{}", text::plan(&plan, &|c, t| printer.paint(c, t)));
    if !plan.has_changes() {
        return Ok(0);
    }
    if !approved && !confirm(if destroy { "destroy" } else { "apply" })? {
        eprintln!("Cancelled; nothing was changed.");
        return Ok(1);
    }
    let run = Run { provider: &aws, reporter: reporter.as_ref(), store, parallelism: usize::from(g.parallelism) };
    let started = std::time::Instant::now();
    let (_state, failures) = run.execute(&plan, state, &observed).await;
    let s = plan.summary();
    if failures.is_empty() {
        let verb = if destroy { "Destroy" } else { "Apply" };
        eprintln!("{verb} complete in {:.1}s: {} added, {} changed, {} destroyed.", started.elapsed().as_secs_f64(), s.add, s.change, s.destroy);
        Ok(0)
    } else {
        report(&failures);
        Ok(1)
    }
}

async fn token_command(g: &Global, cluster: &str) -> anyhow::Result<i32> {
    use aws_credential_types::provider::ProvideCredentials as _;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = &g.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let config = loader.load().await;
    let region = config.region().map(|r| r.to_string()).context("no AWS region: pass --region or set AWS_REGION")?;
    let provider = config.credentials_provider().context("no AWS credentials provider is configured")?;
    let credentials = provider.provide_credentials().await.map_err(|e| anyhow::anyhow!("no AWS credentials found: {e}"))?;
    let now = std::time::SystemTime::now();
    let token = crate::token::token(&credentials, &region, cluster, now)?;
    println!("{}", crate::token::exec_credential(&token, now));
    Ok(0)
}

async fn kubeconfig_command(g: &Global, write: Option<&Path>, print: bool) -> anyhow::Result<i32> {
    let stack = load_stack(g)?;
    let cluster = stack.cluster.as_ref().context("the stack has no `cluster`")?;
    let store = stack_store(g, &stack).await?;
    let state = load_existing(&store, "apply the stack first").await?;
    let record =
        state.resources.get(&Address::new("eks_cluster", "main")).filter(|r| r.id.is_some()).context("the cluster does not exist yet: run `eksnet apply`")?;
    let output = |k: &str| record.outputs.get(k).and_then(|v| v.as_str()).unwrap_or_default().to_string();
    let access = crate::kubeconfig::ClusterAccess {
        name: cluster.name.clone(),
        arn: output("arn"),
        endpoint: output("endpoint"),
        ca_data: output("ca_data"),
        region: stack.region.clone(),
    };
    let eksnet = std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_else(|_| "eksnet".into());
    if print {
        print!("{}", serde_saphyr::to_string(&crate::kubeconfig::merge(None, &access, &eksnet)?)?);
        return Ok(0);
    }
    let path = match write {
        Some(p) => p.to_path_buf(),
        None => crate::kubeconfig::default_path()?,
    };
    crate::kubeconfig::write(&path, &access, &eksnet)?;
    eprintln!("wrote context `{}` to {}", access.arn, path.display());
    Ok(0)
}

/// The stack's EKS cluster names, from what it wants and what the state remembers (a cluster
/// removed from the stack, or already deleted by an interrupted destroy, still counts).
fn cluster_names(desired: &[Desired], state: &State) -> Vec<String> {
    let wanted = desired.iter().filter(|d| d.address.kind == "eks_cluster").map(|d| &d.attrs);
    let recorded = state.resources.iter().filter(|(a, _)| a.kind == "eks_cluster").map(|(_, r)| &r.attrs);
    let mut names: Vec<String> = wanted.chain(recorded).filter_map(|a| a.get("name")?.as_str().map(str::to_string)).collect();
    names.sort();
    names.dedup();
    names
}

fn report(failures: &[Failure]) {
    eprintln!("\n{} step(s) failed; the state records everything that exists, so the next run continues from here:", failures.len());
    for f in failures {
        eprintln!("  {} {}: {}", f.verb.doing(), f.address, f.error);
    }
}

/// Releases the run's lock, warning when that fails.
async fn release(held: crate::backend::Held, printer: Printer) {
    if let Some(warning) = held.release().await {
        eprintln!("{} {warning}", printer.paint(Style::Warning, "warning:"));
    }
}

fn confirm(what: &str) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(help(
            format!("{what} needs a confirmation and there is no terminal to ask on"),
            "pass --auto-approve, or save a plan with `eksnet plan --out FILE` and run `eksnet apply FILE`",
        ));
    }
    eprint!("\nDo you want to {what} these changes? Only `yes` is accepted: ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
