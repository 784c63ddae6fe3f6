//! `eksnet import --from-terraform FILE`: read, map, check (account, existence), read the CNI's
//! settings from the cluster when the state lacks them, write the stack, show, confirm, tag, and
//! write the state with the same refresh `eksnet state rebuild` uses.

use super::*;
use crate::cli::ImportArgs;
use crate::import::cni::CniSettings;
use crate::import::{adopt, mapping, tfstate, writer};

pub(super) async fn import_command(g: &Global, args: &ImportArgs, printer: Printer) -> anyhow::Result<i32> {
    let file = args.from_terraform.display().to_string();
    let text = std::fs::read_to_string(&args.from_terraform).with_context(|| format!("cannot read {file}"))?;
    let tf = tfstate::parse(&text, &file)?;
    let mut m = mapping::map(&tf, args.cluster.as_deref())?;
    if let Some(region) = g.region.as_ref().filter(|r| **r != m.region) {
        return Err(help(
            format!("the Terraform state's objects are in {}, not in {region}; nothing was changed", m.region),
            format!("import with `--region {}`", m.region),
        ));
    }
    let name = args.name.clone().unwrap_or_else(|| writer::stack_name(&m));
    let out = args.stack_out.clone().unwrap_or_else(|| g.stack.clone());
    if out.exists() {
        return Err(help(
            format!("{} already exists; the import writes a new stack file and does not overwrite one", out.display()),
            "choose another file with --stack-out, or move that one away",
        ));
    }
    let aws = connect(g, &name, &m.region).await?;
    check(&aws, &m).await?;
    read_cni(&aws, &mut m).await;
    let stack_text = writer::write(&m, &name, &file);
    std::fs::write(&out, &stack_text).with_context(|| format!("cannot write {}", out.display()))?;
    // Until objects are tagged, a failure leaves nothing behind, the stack file included.
    let result = confirm(g, args, &m, &out).await;
    let stack = match result {
        Ok(Some(stack)) => stack,
        Ok(None) => {
            let _ = std::fs::remove_file(&out);
            eprintln!("Import cancelled; nothing was changed.");
            return Ok(1);
        }
        Err(e) => {
            let _ = std::fs::remove_file(&out);
            return Err(e);
        }
    };
    let store = stack_store(g, &stack).await?;
    let held = store.lock("eksnet import", g.lock_timeout).await?;
    let result = async {
        if let Some(state) = store.load().await?.filter(|s| !s.resources.is_empty()) {
            return Err(help(
                format!("the state at {} already records {} objects; an import starts a new state", store.location(), state.resources.len()),
                "import into another state (--state FILE) or another stack name (--name)",
            ));
        }
        let mut state = State::new(&stack.name);
        let mut aws = connect(g, &stack.name, &stack.region).await?;
        aws.set_clusters(stack.cluster.iter().map(|c| c.name.clone()).collect());
        adopt::mark(&aws, &m, &stack.name, &state.lineage).await?;
        let desired = stack.desired();
        let owner = Owner { stack: stack.name.clone(), lineage: state.lineage.clone(), take_over: false };
        let observed = observe(&aws, &owner, None, &desired).await?;
        sync(&mut state, &observed, &desired);
        store.save(&mut state).await?;
        Ok(store.location())
    }
    .await;
    release(g, held, printer).await;
    let location = result?;
    print!("{}", crate::render::import::report(&m, &out.display().to_string(), &location));
    Ok(0)
}

/// Checks that the credentials are for the state's account and that every object still exists.
async fn check(aws: &crate::resources::Aws, m: &mapping::Mapping) -> anyhow::Result<()> {
    // The VPC's owner_id names the account Terraform built in; credentials of another account
    // would find none of its objects, or (with the same ids by chance) the wrong ones.
    if let (Some(built), Some(here)) = (m.account.as_deref(), aws.account().await)
        && built != here
    {
        return Err(help(
            format!("the Terraform state's objects are in account {built}, but these credentials are for account {here}; nothing was changed"),
            format!("run the import with credentials for account {built} (AWS_PROFILE, or the role Terraform used)"),
        ));
    }
    adopt::check_exist(aws, m).await
}

/// The CNI's settings, when the state has no add-on configuration: read from the cluster (the
/// AWS sample configured aws-node and the ENIConfigs with kubectl, outside Terraform's state).
/// A cluster the import cannot reach (a private endpoint) leaves eksnet's defaults, with a note.
async fn read_cni(aws: &crate::resources::Aws, m: &mut mapping::Mapping) {
    let Some(at) = m.cluster.as_ref().filter(|c| c.cni.is_none()).map(|c| crate::k8s::ClusterRef {
        name: c.name.clone(),
        endpoint: c.endpoint.clone(),
        ca_data: c.ca_data.clone(),
    }) else {
        return;
    };
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), CniSettings::read(aws.config(), &at)).await;
    match read {
        Ok(Ok(settings)) => {
            if let Some(c) = m.cluster.as_mut() {
                c.cni = Some(settings);
            }
        }
        Ok(Err(e)) => m.notes.push(format!("the CNI settings could not be read from the cluster's Kubernetes API ({e}); the stack has eksnet's defaults")),
        Err(_) => m.notes.push(format!(
            "the cluster's Kubernetes API ({}) did not answer within 30 s (a private endpoint?); the CNI settings are eksnet's defaults",
            at.endpoint
        )),
    }
}

/// Loads the written stack, shows the adoption and asks. `None`: the user said no.
async fn confirm(g: &Global, args: &ImportArgs, m: &mapping::Mapping, out: &Path) -> anyhow::Result<Option<Stack>> {
    let stack = crate::stack::load(out, &crate::stack::Overrides { region: g.region.clone() })
        .map_err(|e| anyhow::anyhow!("the stack the import wrote does not validate (a bug in eksnet import; please report it):\n{e}"))?;
    let on = format!("stack `{}` in {}", stack.name, stack.region);
    eprint!("{}", crate::render::import::adoption(m, &stack.name, &on));
    if !args.confirm.auto_approve {
        let question = format!("Do you want to tag these objects as {on}? Only `yes` is accepted: ");
        if !ask(&question, "yes", "import")? {
            return Ok(None);
        }
    }
    Ok(Some(stack))
}
