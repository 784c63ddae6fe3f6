//! `eksnet state …` and `eksnet output`: read and repair the state.

use super::*;

pub(super) async fn output_command(g: &Global, args: &OutputArgs) -> anyhow::Result<i32> {
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

pub(super) async fn state_command(g: &Global, command: &StateCommand, printer: Printer) -> anyhow::Result<i32> {
    if let StateCommand::Rebuild = command {
        return rebuild(g, printer).await;
    }
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
            let Some(record) = Address::parse(address).and_then(|a| state.resources.get(&a)) else {
                return Err(not_in_state(address, &state));
            };
            println!("{}", serde_json::to_string_pretty(record)?);
        }
        StateCommand::Rebuild => unreachable!("handled above"),
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
            release(g, held, printer).await;
            result?;
            eprintln!("pushed {} ({} resources) to {}, now at serial {}", file.display(), pushed.resources.len(), store.location(), pushed.serial);
        }
    }
    Ok(0)
}

/// `eksnet state rebuild`: the state of a stack whose state file is lost, written from the
/// objects that carry the stack's tags. The rebuilt state keeps the lineage the objects are
/// marked with, so it is the lost state's history continued, and the next plan is empty.
async fn rebuild(g: &Global, printer: Printer) -> anyhow::Result<i32> {
    let stack = load_stack(g)?;
    let store = stack_store(g, &stack).await?;
    let held = store.lock("eksnet state rebuild", g.lock_timeout).await?;
    let result = async {
        if let Some(state) = store.load().await?.filter(|s| !s.resources.is_empty()) {
            return Err(help(
                format!("the state at {} still records {} objects; rebuild writes a state that was lost", store.location(), state.resources.len()),
                "`eksnet apply --refresh-only` records what changed outside eksnet in an existing state",
            ));
        }
        let mut aws = connect(g, &stack.name, &stack.region).await?;
        let desired = stack.desired();
        aws.set_clusters(stack.cluster.iter().map(|c| c.name.clone()).collect());
        // Every lineage is accepted here; the objects say which one they belong to.
        let owner = Owner { stack: stack.name.clone(), lineage: String::new(), take_over: true };
        let observed = observe(&aws, &owner, None, &desired).await?;
        let mut lineages: Vec<&str> = observed.values().filter_map(|o| crate::ownership::marks(&o.attrs).lineage).collect();
        lineages.sort();
        lineages.dedup();
        let mut state = State::new(&stack.name);
        match lineages.as_slice() {
            [] => {}
            [one] => state.lineage = one.to_string(),
            many => {
                return Err(help(
                    format!("the objects of stack `{}` are marked by {} states (lineages {})", stack.name, many.len(), many.join(", ")),
                    "destroy the stray copy with `eksnet destroy --from-tags`, or adopt everything with `eksnet apply --take-over`",
                ));
            }
        }
        sync(&mut state, &observed, &desired);
        store.save(&mut state).await?;
        for (address, record) in &state.resources {
            println!("{address}\t{}", record.id.as_deref().unwrap_or_default());
        }
        eprintln!(
            "Rebuilt the state at {} from {} objects found by their tags (lineage {}); nothing in AWS was changed.",
            store.location(),
            state.resources.len(),
            state.lineage
        );
        Ok(0)
    }
    .await;
    release(g, held, printer).await;
    result
}

/// `state show vpc`: what is not an address of the state, with the addresses meant (`vpc.main`).
fn not_in_state(written: &str, state: &State) -> anyhow::Error {
    let known: Vec<String> = state.resources.keys().map(Address::to_string).collect();
    let message = match Address::parse(written) {
        Some(_) => format!("`{written}` is not in the state"),
        None => format!("`{written}` is not an address: addresses are `kind.name` or `kind.name[\"key\"]`"),
    };
    help(message, crate::closest::address_fix(written, &known, "`eksnet state list` shows every address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fix(e: anyhow::Error) -> (String, String) {
        let h = e.downcast::<Help>().expect("an error with its fix");
        (h.message, h.help)
    }

    #[test]
    fn state_show_suggests_the_address_meant() {
        let mut state = State::new("demo");
        for a in [Address::new("vpc", "main"), Address::keyed("subnet", "intra", "ap-southeast-2a"), Address::keyed("subnet", "intra", "ap-southeast-2b")] {
            let record =
                crate::state::Record { id: Some("id".into()), token: String::new(), attrs: Default::default(), outputs: Default::default(), deps: vec![] };
            state.resources.insert(a, record);
        }
        let (message, hint) = fix(not_in_state("vpc", &state));
        assert_eq!(message, "`vpc` is not an address: addresses are `kind.name` or `kind.name[\"key\"]`");
        assert_eq!(hint, "did you mean `vpc.main`? `eksnet state list` shows every address");
        let (message, hint) = fix(not_in_state("subnet.intra[\"us-west-2a\"]", &state));
        assert_eq!(message, "`subnet.intra[\"us-west-2a\"]` is not in the state");
        assert_eq!(hint, "did you mean `subnet.intra[\"ap-southeast-2a\"]`? `eksnet state list` shows every address");
        let (_, hint) = fix(not_in_state("nodegroup.default", &state));
        assert_eq!(hint, "`eksnet state list` shows every address");
    }
}
