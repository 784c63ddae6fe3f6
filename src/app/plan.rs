//! `eksnet plan`: refresh, then show (or save) what apply would do.

use super::*;

pub(super) async fn plan_command(g: &Global, args: &PlanArgs, printer: Printer) -> anyhow::Result<i32> {
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
    let desired = if args.destroy { desired } else { expiring(desired, &requested_expiry(&stack, None), &observed) };
    let mut plan = make_plan(&aws, &Inputs { stack: &stack.name, desired: &desired, state: state.as_ref(), observed: &observed, destroy: args.destroy });
    plan.region = stack.region.clone();
    plan.backend = stack.backend.clone();
    plan.state_lineage = Some(lineage);
    plan.take_over = args.take_over;
    if !args.destroy {
        preflight(&aws, &stack, &mut plan).await?;
    }
    print!("{}", render_plan(&plan, args.format, printer)?);
    if let Some(refused) = crate::plan::refused(&aws, &plan, &observed) {
        return Err(refused);
    }
    if let Some(out) = &args.out {
        let mut f = crate::state::private_file(out).with_context(|| format!("cannot write {}", out.display()))?;
        f.write_all(serde_json::to_string_pretty(&plan)?.as_bytes())?;
        eprintln!("Saved the plan to {}; run `eksnet apply {}` to execute exactly this plan.", out.display(), out.display());
    }
    Ok(if args.detailed_exitcode && plan.has_changes() { 2 } else { 0 })
}

pub(super) fn render_plan(plan: &Plan, format: Format, printer: Printer) -> anyhow::Result<String> {
    Ok(match format {
        Format::Text => text::plan(plan, &|c, t| printer.paint(c, t)),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(&crate::plan::json(plan))?),
        Format::Markdown => crate::render::markdown::render(plan, &Default::default()),
    })
}
