//! `eksnet apply` and `eksnet destroy`: under the state lock, refresh, show the plan, ask, execute.

use super::*;

/// What `apply_command` does once it holds the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Apply,
    Destroy,
    /// Record what changed outside eksnet; change nothing in AWS.
    RefreshOnly,
}

/// How an apply runs: its mode, whether it was approved beforehand, and whether it may take over
/// objects another state manages.
#[derive(Debug, Clone)]
pub(super) struct How {
    pub approved: bool,
    pub mode: Mode,
    pub take_over: bool,
    /// An approved plan may delete or replace the cluster, a nodegroup or the VPC.
    pub allow_destroy_cluster: bool,
    /// `apply --ttl`: the stack's lifetime from now, or `never`.
    pub ttl: Option<String>,
    /// `apply --replace ADDRESS`: replaced although unchanged.
    pub replace: Vec<String>,
    /// The saved plan being applied, as the user named it.
    pub plan_file: Option<PathBuf>,
    /// `apply --force-upgrade`: nodegroup version updates may delete pods a budget protects.
    pub force_upgrade: bool,
    /// `apply --ignore-insights`: an upgrade goes ahead despite an ERROR upgrade insight.
    pub ignore_insights: bool,
}

impl How {
    /// A destroy: the explicit wish to delete everything, the cluster included; `take_over`
    /// finds the stack's objects by their tags whatever state made them.
    pub fn destroy(approved: bool, take_over: bool) -> How {
        How {
            approved,
            mode: Mode::Destroy,
            take_over,
            allow_destroy_cluster: true,
            ttl: None,
            replace: vec![],
            plan_file: None,
            force_upgrade: false,
            ignore_insights: false,
        }
    }
}

pub(super) async fn apply_command(g: &Global, plan_file: Option<&Path>, how: How, printer: Printer) -> anyhow::Result<i32> {
    crate::interrupt::install();
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
    if let Some(warning) = held.warning() {
        // It names the holder's command as that run was given it: not a suggestion to rewrite.
        eprintln!("{} {warning}", printer.paint(Style::Warning, "warning:"));
    }
    let target = Target { name, region, backend, stack: stack.as_ref(), store: &store };
    let how = How { approved: plan_file.is_some() || how.approved, take_over: how.take_over || saved.as_ref().is_some_and(|p| p.take_over), ..how };
    let result = apply_locked(g, &target, saved, how, printer).await;
    release(g, held, printer).await;
    result
}

/// What an apply works on.
pub(super) struct Target<'a> {
    pub name: String,
    pub region: String,
    pub backend: BackendConfig,
    pub stack: Option<&'a Stack>,
    pub store: &'a Store,
}

/// Applies, and for a Kubernetes upgrade over several minor versions goes on with the next step
/// once one is done (each step refreshed and planned again; the upgrade was approved as a
/// whole when its plan was shown). A saved plan is executed exactly: one step.
pub(super) async fn apply_locked(g: &Global, target: &Target<'_>, saved: Option<Plan>, how: How, printer: Printer) -> anyhow::Result<i32> {
    let mut saved = saved;
    let mut how = how;
    loop {
        let (code, next) = apply_once(g, target, saved.take(), how.clone(), printer).await?;
        let Some(next) = next else { return Ok(code) };
        eprintln!("\nNext step of the Kubernetes upgrade: {next}.\n");
        how.approved = true;
    }
}

/// One apply; with the next minor version of an upgrade still to do after it succeeded.
async fn apply_once(g: &Global, target: &Target<'_>, saved: Option<Plan>, how: How, printer: Printer) -> anyhow::Result<(i32, Option<String>)> {
    let from_stack = saved.is_none();
    let Target { name, region, stack, store, .. } = target;
    let How { approved, mode, take_over, allow_destroy_cluster, ttl, replace, plan_file, force_upgrade, ignore_insights } = how;
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
                format!("run `eksnet plan --out {}` again and apply the new plan", saved_name(plan_file.as_deref())),
            ));
        }
    }
    let mut aws = connect(g, name, region).await?;
    let settled_stack;
    let (stack, settled) = match (stack, &saved) {
        (Some(s), None) if !destroy && s.cluster.as_ref().is_some_and(|c| !c.version_given) => {
            let mut s = (*s).clone();
            let note = settle_version(&aws, &mut s, Some(&state)).await?;
            settled_stack = s;
            (Some(&settled_stack), note)
        }
        _ => (*stack, None),
    };
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
    // Clusters found by their tags count as the stack's too (a destroy from tags or a sweep has
    // no stack file to name them), so that their CNI's leftovers are cleaned up.
    let mut clusters = cluster_names(&desired, &state);
    clusters.extend(observed.iter().filter(|(a, _)| a.kind == "eks_cluster").filter_map(|(_, o)| o.attrs.get("name")?.as_str().map(str::to_string)));
    clusters.sort();
    clusters.dedup();
    aws.set_clusters(clusters);
    let mut desired = match (&saved, stack) {
        (None, Some(s)) if !destroy => expiring(desired, &requested_expiry(s, ttl.as_deref()), &observed),
        _ => desired,
    };
    let (upgrade, upgrade_warnings) = match stack {
        Some(s) if from_stack && mode == Mode::Apply => upgrade_step(&aws, s, &mut desired, &observed).await?,
        _ => (None, vec![]),
    };
    let drifts = (mode == Mode::RefreshOnly).then(|| crate::drift::drift(Some(&state), &observed));
    if let Some(drifts) = &drifts {
        print!("{}", text::drift(drifts, &|c, t| printer.paint(c, t)));
        if !drifts.is_empty() && !approved && !confirm("record", &format!("the state of stack `{name}`"))? {
            eprintln!("Cancelled; the state was not changed.");
            return Ok((1, None));
        }
    }
    if sync(&mut state, &observed, &desired) {
        store.save(&mut state).await?;
    }
    if let Some(drifts) = drifts {
        eprintln!("Refresh complete: the state records {} change(s) made outside eksnet; nothing in AWS was changed.", drifts.len());
        return Ok((0, None));
    }
    let plan = match saved {
        Some(p) => p,
        None => {
            let replace = replacing(&replace, &desired, &observed)?;
            let mut p = make_plan(&aws, &Inputs { stack: name, desired: &desired, state: Some(&state), observed: &observed, destroy, replace: &replace });
            p.region = region.clone();
            p.account = aws.account().await;
            p.backend = target.backend.clone();
            p.take_over = take_over;
            p.force_upgrade = force_upgrade;
            p.upgrade = upgrade;
            p.warnings.extend(upgrade_warnings);
            if let (Some(s), false) = (stack, destroy) {
                preflight(&aws, s, &mut p).await?;
                p.warnings.extend(settled);
            }
            p
        }
    };
    print!("{}", text::plan(&plan, &|c, t| printer.paint(c, t)));
    aws.set_force_upgrade(plan.force_upgrade);
    if let Some(u) = plan.upgrade.as_ref().filter(|u| !u.blocking.is_empty() && !ignore_insights) {
        return Err(help(
            format!("EKS's upgrade insights for Kubernetes {} report ERROR: {}. Nothing was changed.", u.step, u.blocking.join(", ")),
            "fix what the insights name (the warnings above say what EKS found and recommends), then apply again; to upgrade anyway, pass --ignore-insights",
        ));
    }
    if let Some(refused) = crate::plan::refused(&aws, &plan, &observed) {
        return Err(refused);
    }
    if !plan.has_changes() {
        return Ok((0, None));
    }
    let what = if destroy { "destroy" } else { "apply" };
    // What the answer acts on, as the plan's heading names it.
    let on = match &plan.account {
        Some(account) => format!("stack `{name}` in {region}, account {account}"),
        None => format!("stack `{name}` in {region}"),
    };
    let confirmed = match (&plan.destruction, approved) {
        (Some(d), true) if !allow_destroy_cluster => {
            return Err(help(
                format!("{} Nothing was changed.", d.headline),
                "review the plan; to go ahead, pass --allow-destroy-cluster with --auto-approve (or with the saved plan), or run without \
                 --auto-approve and type the name when asked",
            ));
        }
        (_, true) => true,
        (Some(d), false) => match &d.cluster {
            Some(cluster) => confirm_typed(&format!("the EKS cluster `{cluster}`"), cluster, what, &on)?,
            None => confirm_typed(&format!("the network of stack `{name}`"), name, what, &on)?,
        },
        (None, false) => confirm(what, &on)?,
    };
    if !confirmed {
        eprintln!("Cancelled; nothing was changed.");
        return Ok((1, None));
    }
    let run = Run { provider: &aws, reporter: reporter.as_ref(), store, parallelism: usize::from(g.parallelism) };
    let started = std::time::Instant::now();
    crate::interrupt::changing(true);
    let (after, outcomes) = run.execute(&plan, state, &observed).await;
    crate::interrupt::changing(false);
    let s = plan.summary();
    if let Some(code) = crate::interrupt::requested() {
        eprintln!(
            "\nInterrupted: {} done, {} still converging in AWS (recorded), {} not started; run {what} again to continue.",
            outcomes.done,
            outcomes.converging(),
            outcomes.not_started
        );
        let other: Vec<_> =
            outcomes.failures.iter().filter(|f| !matches!(&f.error, crate::apply::StepError::Cloud(e) if e.code == crate::interrupt::INTERRUPTED)).collect();
        for f in other {
            eprintln!("  {} {}: {}", f.verb.doing(), f.address, f.error);
        }
        return Ok((code, None));
    }
    // The next minor version of an upgrade, when this step went through.
    let next = plan.upgrade.as_ref().filter(|_| from_stack).and_then(|u| Some(format!("{} → {}", u.step, u.then.first()?)));
    if outcomes.ok() {
        let verb = if destroy { "Destroy" } else { "Apply" };
        eprintln!("{verb} complete in {:.1}s: {} added, {} changed, {} destroyed.", started.elapsed().as_secs_f64(), s.add, s.change, s.destroy);
        if !destroy && next.is_none() && plan.has_changes() {
            what_now(g, &after);
        }
        Ok((0, next))
    } else {
        report(&outcomes);
        Ok((1, None))
    }
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

fn report(outcomes: &Outcomes) {
    let failures = &outcomes.failures;
    eprintln!("\n{} step(s) failed; the state records everything that exists, so the next run continues from here:", failures.len());
    for f in failures {
        eprintln!("  {} {}: {}", f.verb.doing(), f.address, f.error);
    }
    if !outcomes.held.is_empty() {
        eprintln!(
            "\n{} destructive step(s) were not started because a step failed (a failed run takes nothing down); fix the failure and apply again:",
            outcomes.held.len()
        );
        for (address, verb) in &outcomes.held {
            eprintln!("  {} {address}", verb.doing());
        }
    }
}

/// The saved plan's file as the user may name it again in a command.
fn saved_name(path: Option<&Path>) -> String {
    path.map_or_else(|| "FILE".to_string(), |p| shell_word(&p.display().to_string()))
}

/// After an apply: the stack's outputs (as `eksnet output` prints them) and how to reach the
/// cluster with kubectl.
fn what_now(g: &Global, state: &State) {
    let outputs = crate::outputs::outputs(state, &g.stack.display().to_string());
    if !outputs.is_empty() {
        println!("\nOutputs:\n");
        for (k, v) in &outputs {
            println!("{k} = {v}");
        }
    }
    if state.resources.keys().any(|a| a.kind == "eks_cluster") {
        eprintln!("\nkubectl: `{}` adds the cluster to your kubeconfig.", Suggest::new(g).command("kubeconfig"));
    }
}
