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
    match command {
        StateCommand::Rebuild => return rebuild(g, printer).await,
        StateCommand::Rm { addresses } => return forget(g, addresses, printer).await,
        StateCommand::Mv { from, to } => return rename(g, from, to, printer).await,
        _ => {}
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
        StateCommand::Rebuild | StateCommand::Rm { .. } | StateCommand::Mv { .. } => unreachable!("handled above"),
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

/// `eksnet state rm`: forgets objects without deleting them. Their marks come off first, then
/// their records leave the state (saved after each), so that an interrupted run never leaves an
/// object the state forgot still marked as the stack's: the leftover sweep, `state rebuild` and
/// `destroy --from-tags` would take it back, or delete it.
async fn forget(g: &Global, written: &[String], printer: Printer) -> anyhow::Result<i32> {
    let stack = load_stack(g)?;
    let store = stack_store(g, &stack).await?;
    let held = store.lock("eksnet state rm", g.lock_timeout).await?;
    let result = async {
        let mut state = load_existing(&store, "nothing was applied yet").await?;
        let addresses = written.iter().map(|a| in_state(a, &state)).collect::<anyhow::Result<Vec<_>>>()?;
        if let Some((part, owner)) = addresses.iter().find_map(|a| Some((a, whole(a, &state)?))) {
            return Err(help(
                format!("{part} is found through {owner}: the next refresh would find it again"),
                format!("forget {owner} instead (`eksnet state rm {}`): {part} goes with it", shell_word(&owner.to_string())),
            ));
        }
        let desired = stack.desired();
        let (aws, observed) = read(g, &stack, &state, &desired).await?;
        for address in &addresses {
            // Listed twice, or a part of one forgotten before.
            let Some(id) = state.resources.get(address).map(|r| r.id.clone().unwrap_or_else(|| "no id yet".into())) else { continue };
            let parts = state.parts(address, parent_of);
            let exists = match observed.get(address) {
                Some(current) => remark(&aws, address, current, None).await?,
                None => false,
            };
            let dependents: Vec<String> =
                state.dependents(address).iter().filter(|d| !parts.contains(d) && !addresses.contains(d)).map(Address::to_string).collect();
            let parts: Vec<String> = parts.iter().filter_map(|p| state.resources.remove(p).map(|r| format!("{p} ({})", r.id.unwrap_or_default()))).collect();
            state.resources.remove(address);
            store.save(&mut state).await?;
            let next = if desired.iter().any(|d| &d.address == address) { "the next plan would create a new one" } else { "the stack no longer declares it" };
            match exists {
                true => eprintln!(
                    "forgot {address} ({id}): it still exists in AWS and eksnet no longer manages it (its eksnet tags or labels are taken off); {next}"
                ),
                false => eprintln!("forgot {address} ({id}): it no longer exists in AWS; {next}"),
            }
            if !parts.is_empty() {
                eprintln!("  with what is part of it: {}", parts.join(", "));
            }
            if !dependents.is_empty() {
                eprintln!(
                    "  still in the state, and depending on it: {}. eksnet still manages them: `eksnet destroy` deletes them unless you forget them too",
                    dependents.join(", ")
                );
            }
        }
        Ok(0)
    }
    .await;
    release(g, held, printer).await;
    result
}

/// `eksnet state mv FROM TO`: the object at FROM is the stack's TO from now on (renamed in the
/// stack file, say), with what is found through it (its parts, named like it).
async fn rename(g: &Global, from: &str, to: &str, printer: Printer) -> anyhow::Result<i32> {
    let stack = load_stack(g)?;
    let store = stack_store(g, &stack).await?;
    let held = store.lock("eksnet state mv", g.lock_timeout).await?;
    let result = async {
        let mut state = load_existing(&store, "nothing was applied yet").await?;
        let from = in_state(from, &state)?;
        let to = destination(&from, to, &state)?;
        let desired = stack.desired();
        let (aws, observed) = read(g, &stack, &state, &desired).await?;
        let id = state.resources[&from].id.clone().unwrap_or_default();
        let Some(current) = observed.get(&from) else {
            return Err(help(
                format!("{from} ({id}) no longer exists in AWS, so there is nothing to move"),
                format!("`eksnet state rm {}` forgets it; the next plan creates {to}", shell_word(&from.to_string())),
            ));
        };
        remark(&aws, &from, current, Some(&to)).await?;
        let parts: Vec<(Address, Address)> =
            state.parts(&from, parent_of).into_iter().filter(|p| *p == from.with_kind(&p.kind)).map(|p| (p.clone(), to.with_kind(&p.kind))).collect();
        for (a, b) in std::iter::once((&from, &to)).chain(parts.iter().map(|(a, b)| (a, b))) {
            state.rename(a, b);
        }
        store.save(&mut state).await?;
        let with: String = parts.iter().map(|(a, b)| format!(", with {a} → {b}")).collect();
        eprintln!("moved {from} ({id}) to {to}{with}; its eksnet:address tag names {to} now");
        let declared = |a: &Address| desired.iter().any(|d| &d.address == a);
        if !declared(&to) {
            eprintln!("  the stack does not declare {to}: the next plan would delete it; rename it in the stack file too");
        }
        if declared(&from) {
            eprintln!("  the stack still declares {from}: the next plan would create it anew");
        }
        Ok(0)
    }
    .await;
    release(g, held, printer).await;
    result
}

/// The address `written` of a record of the state.
fn in_state(written: &str, state: &State) -> anyhow::Result<Address> {
    Address::parse(written).filter(|a| state.resources.contains_key(a)).ok_or_else(|| not_in_state(written, state))
}

/// Where `state mv` may move `from`: an address of its kind, not taken yet (nor by what moves
/// with it). A part of another object follows that object.
fn destination(from: &Address, written: &str, state: &State) -> anyhow::Result<Address> {
    let Some(to) = Address::parse(written) else {
        return Err(help(format!("`{written}` is not an address"), "addresses are `kind.name` or `kind.name[\"key\"]`, e.g. `security_group.web`"));
    };
    if to.kind != from.kind {
        return Err(help(format!("{from} cannot move to {to}: an object keeps its kind"), format!("move it to an address of kind `{}`", from.kind)));
    }
    if let Some(owner) = whole(from, state) {
        return Err(help(format!("{from} is found through {owner} and moves with it"), format!("move {owner} instead")));
    }
    let moving =
        std::iter::once(to.clone()).chain(state.parts(from, parent_of).into_iter().filter(|p| *p == from.with_kind(&p.kind)).map(|p| to.with_kind(&p.kind)));
    for taken in moving {
        if let Some(record) = state.resources.get(&taken) {
            return Err(help(
                format!("{taken} is already in the state ({})", record.id.as_deref().unwrap_or("being created")),
                format!("move {from} to another address, or forget {taken} first with `eksnet state rm {}`", shell_word(&taken.to_string())),
            ));
        }
    }
    Ok(to)
}

/// The object of the state that `part` is a part of (`State::parts`): found only through it,
/// a part alone cannot be moved or forgotten (the next refresh would find it again).
fn whole(part: &Address, state: &State) -> Option<Address> {
    let id = state.resources.get(part)?.attrs.get(parent_of(&part.kind)?)?.as_str()?;
    state.resources.iter().find(|(a, r)| *a != part && r.id.as_deref() == Some(id)).map(|(a, _)| a.clone())
}

fn parent_of(kind: &str) -> Option<&'static str> {
    crate::resources::schema(kind).and_then(|s| s.parent)
}

/// What exists of the state's objects, read as a plan reads it (one refresh), so that marks
/// change on the objects as they are.
async fn read(g: &Global, stack: &Stack, state: &State, desired: &[Desired]) -> anyhow::Result<(Aws, BTreeMap<Address, Observed>)> {
    let aws = connect(g, &stack.name, &stack.region).await?;
    let owner = Owner { stack: stack.name.clone(), lineage: state.lineage.clone(), take_over: false };
    let observed = observe(&aws, &owner, Some(state), desired).await?;
    Ok((aws, observed))
}

/// Changes the marks of an existing object through its kind's own update, which changes tags and
/// labels as for any other edit (`ownership::remarked`). False when the object turned out gone.
async fn remark(aws: &Aws, address: &Address, current: &Observed, to: Option<&Address>) -> anyhow::Result<bool> {
    use crate::provider::Provider;
    let Some(attrs) = crate::ownership::remarked(&current.attrs, to) else { return Ok(true) };
    match aws.update(address, current, &attrs).await {
        Ok(_) => Ok(true),
        Err(e) if e.is_gone() => Ok(false),
        Err(e) => {
            let what = if to.is_some() { "retag" } else { "untag" };
            Err(anyhow::anyhow!("cannot {what} {address} ({}): {e}; the state is unchanged for it", current.id))
        }
    }
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
    fn state_mv_moves_within_a_kind_to_a_free_address_and_parts_follow_their_object() {
        let mut state = State::new("demo");
        let record = |id: &str, attrs: serde_json::Value| crate::state::Record {
            id: Some(id.into()),
            token: String::new(),
            attrs: attrs.as_object().unwrap().clone(),
            outputs: Default::default(),
            deps: vec![],
        };
        let (web, db, rules) = (Address::new("security_group", "web"), Address::new("security_group", "db"), Address::new("security_group_rules", "web"));
        state.resources.insert(web.clone(), record("sg-1", serde_json::json!({})));
        state.resources.insert(db.clone(), record("sg-2", serde_json::json!({})));
        state.resources.insert(rules.clone(), record("sg-1", serde_json::json!({"group_id": "sg-1"})));
        state.resources.insert(Address::new("security_group_rules", "front"), record("sg-9", serde_json::json!({"group_id": "sg-9"})));
        assert_eq!(destination(&web, "security_group.frontend", &state).unwrap(), Address::new("security_group", "frontend"));
        let (message, hint) = fix(destination(&web, "security_group.db", &state).unwrap_err());
        assert_eq!(message, "security_group.db is already in the state (sg-2)");
        assert_eq!(hint, "move security_group.web to another address, or forget security_group.db first with `eksnet state rm security_group.db`");
        let (message, _) = fix(destination(&web, "security_group.front", &state).unwrap_err());
        assert_eq!(message, "security_group_rules.front is already in the state (sg-9)", "the rules move with the group");
        let (message, _) = fix(destination(&web, "vpc.web", &state).unwrap_err());
        assert_eq!(message, "security_group.web cannot move to vpc.web: an object keeps its kind");
        let (message, hint) = fix(destination(&rules, "security_group_rules.x", &state).unwrap_err());
        assert_eq!(
            (message.as_str(), hint.as_str()),
            ("security_group_rules.web is found through security_group.web and moves with it", "move security_group.web instead")
        );
        let (message, _) = fix(destination(&web, "web", &state).unwrap_err());
        assert_eq!(message, "`web` is not an address");
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
