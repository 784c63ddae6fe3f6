//! `eksnet plan`: refresh, then show (or save) what apply would do.

use super::*;

pub(super) async fn plan_command(g: &Global, args: &PlanArgs, printer: Printer) -> anyhow::Result<i32> {
    if args.refresh_only && args.format == Format::Markdown {
        bail!("--refresh-only shows what changed outside eksnet as text or json (--format text|json)");
    }
    let mut stack = load_stack(g)?;
    let store = stack_store(g, &stack).await?;
    let state = store.load().await?;
    let aws = connect(g, &stack.name, &stack.region).await?;
    let settled = if args.destroy { None } else { settle_version(&aws, &mut stack, state.as_ref()).await? };
    // Without a state yet, the plan names the lineage the state it creates will have.
    let lineage = state.as_ref().map_or_else(|| State::new(&stack.name).lineage, |s| s.lineage.clone());
    let owner = Owner { stack: stack.name.clone(), lineage: lineage.clone(), take_over: args.take_over };
    let desired = marked(stack.desired(), &lineage);
    let observed = observe(&aws, &owner, state.as_ref(), &desired).await?;
    if args.refresh_only {
        let drifts = crate::drift::drift(state.as_ref(), &observed);
        let available = available_releases(&aws, &observed).await;
        match args.format {
            Format::Json => {
                let mut out = crate::drift::json(&drifts);
                let releases: Vec<serde_json::Value> = available
                    .iter()
                    .map(|(a, running, latest)| serde_json::json!({"address": a.to_string(), "release_version": running, "available": latest}))
                    .collect();
                out["available_releases"] = serde_json::json!(releases);
                println!("{}", serde_json::to_string_pretty(&out)?);
            }
            _ => {
                print!("{}", text::drift(&drifts, &|c, t| printer.paint(c, t)));
                print!("{}", text::available_releases(&available));
            }
        }
        return Ok(if args.detailed_exitcode && !drifts.is_empty() { 2 } else { 0 });
    }
    let mut desired = if args.destroy { desired } else { expiring(desired, &requested_expiry(&stack, None), &observed) };
    let (upgrade, warnings) = if args.destroy { (None, vec![]) } else { upgrade_step(&aws, &stack, &mut desired, &observed).await? };
    let replace = replacing(&args.replace, &desired, &observed)?;
    let mut plan = make_plan(
        &aws,
        &Inputs { stack: &stack.name, desired: &desired, state: state.as_ref(), observed: &observed, destroy: args.destroy, replace: &replace },
    );
    plan.region = stack.region.clone();
    plan.account = aws.account().await;
    plan.backend = stack.backend.clone();
    plan.state_lineage = Some(lineage);
    plan.take_over = args.take_over;
    plan.force_upgrade = args.force_upgrade;
    plan.upgrade = upgrade;
    plan.warnings.extend(warnings);
    if !args.destroy {
        preflight(&aws, &stack, &mut plan).await?;
        plan.warnings.extend(settled);
    }
    if !args.no_cost && !crate::cost::off_by_env() {
        plan.cost = Some(cost(&aws, &stack.region, &plan, &observed).await);
    }
    print!("{}", render_plan(&plan, args.format, printer)?);
    if let Some(refused) = crate::plan::refused(&aws, &plan, &observed) {
        return Err(refused);
    }
    if let Some(out) = &args.out {
        let mut f = crate::state::private_file(out).with_context(|| format!("cannot write {}", out.display()))?;
        f.write_all(serde_json::to_string_pretty(&plan)?.as_bytes())?;
        let apply = Suggest::new(g).command(&format!("apply {}", shell_word(&out.display().to_string())));
        eprintln!("Saved the plan to {}; run `{apply}` to execute exactly this plan.", out.display());
    }
    Ok(if args.detailed_exitcode && plan.has_changes() { 2 } else { 0 })
}

/// What the stack costs per month before and after the plan: what exists (observed) against
/// what the plan leaves (its desired resources; none for a destroy plan).
async fn cost(aws: &Aws, region: &str, plan: &Plan, observed: &BTreeMap<Address, Observed>) -> crate::cost::Cost {
    use crate::cost::{billable, cache_dir, estimate, rates, wanted};
    let before: BTreeMap<String, _> = observed.iter().filter_map(|(a, o)| Some((a.to_string(), billable(&a.kind, &o.attrs)?))).collect();
    let after: BTreeMap<String, _> = plan.desired.iter().filter_map(|d| Some((d.address.to_string(), billable(&d.address.kind, &d.attrs)?))).collect();
    let replaced = plan.changes.iter().filter(|c| c.action == crate::plan::Action::Replace).map(|c| c.address.to_string()).collect();
    let (types, versions) = wanted(before.values().chain(after.values()));
    let rates = rates(aws.config(), region, &types, &versions, cache_dir().as_deref()).await;
    estimate(&before, &after, &replaced, &rates, region)
}

pub(super) fn render_plan(plan: &Plan, format: Format, printer: Printer) -> anyhow::Result<String> {
    Ok(match format {
        Format::Text => {
            let paint = |c: Style, t: &str| printer.paint(c, t);
            let cost = plan.cost.as_ref().map(|c| text::cost(c, printer.verbose, &paint)).unwrap_or_default();
            text::plan(plan, &paint) + &cost
        }
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&crate::plan::json(plan))?),
        Format::Markdown => crate::render::markdown::render(plan, &Default::default()),
    })
}

/// `--replace ADDRESS`, each an address of the stack that exists: one the stack does not have
/// gets the addresses it may have meant; one not made yet has nothing to replace.
pub(super) fn replacing(written: &[String], desired: &[Desired], observed: &BTreeMap<Address, Observed>) -> anyhow::Result<Vec<Address>> {
    let known: Vec<String> = desired.iter().map(|d| d.address.to_string()).collect();
    written
        .iter()
        .map(|w| {
            let address = Address::parse(w).filter(|a| desired.iter().any(|d| d.address == *a));
            let Some(address) = address else {
                let fix = crate::closest::address_fix(w, &known, "`eksnet graph` shows every address of the stack");
                return Err(help(format!("--replace {w}: the stack has no such address"), fix));
            };
            if !observed.contains_key(&address) {
                return Err(help(format!("--replace {w}: it does not exist yet, so there is nothing to replace"), "leave --replace out: apply creates it"));
            }
            Ok(address)
        })
        .collect()
}
