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
