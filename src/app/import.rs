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
    read_kube(&aws, &mut m).await;
    let templates = write_templates(&m, &out, &file)?;
    let stack_text = writer::write(&m, &name, &file);
    // Until objects are tagged, a failure leaves nothing behind, the stack file and the
    // templates included.
    let remove = |files: &[PathBuf]| {
        for f in files {
            let _ = std::fs::remove_file(f);
        }
    };
    if let Err(e) = std::fs::write(&out, &stack_text) {
        remove(&templates);
        return Err(e).with_context(|| format!("cannot write {}", out.display()));
    }
    let written: Vec<PathBuf> = templates.iter().cloned().chain([out.clone()]).collect();
    let result = confirm(g, args, &m, &out).await;
    let stack = match result {
        Ok(Some(stack)) => stack,
        Ok(None) => {
            remove(&written);
            eprintln!("Import cancelled; nothing was changed.");
            return Ok(1);
        }
        Err(e) => {
            remove(&written);
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
        adopt::mark_kube(&aws, &m, &state.lineage).await?;
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
    let Some(at) = m.cluster.as_ref().filter(|c| c.cni.is_none()).map(|c| c.api()) else {
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

/// The Kubernetes objects as the cluster has them (`import::kube`: why the live object and not
/// the provider's state attributes). An object the import cannot read, or that no longer
/// exists, is left as it is, with why.
async fn read_kube(aws: &crate::resources::Aws, m: &mut mapping::Mapping) {
    let Some(at) = m.cluster.as_ref().map(|c| c.api()) else { return };
    let reads = async {
        let mut out = vec![];
        for k in &m.kube {
            out.push(aws.kube_object(&at, &k.reference()).await);
        }
        out
    };
    let read = tokio::time::timeout(std::time::Duration::from_secs(30), reads).await;
    let kube = std::mem::take(&mut m.kube);
    for (i, mut k) in kube.into_iter().enumerate() {
        let why = match read.as_ref().map(|r| &r[i]) {
            Ok(Ok(Some(live))) if crate::import::kube::has_reference(live) => {
                "a Kubernetes object with `${` in a value, which a stack's template would read as a reference: not imported; it stays as it is".to_string()
            }
            Ok(Ok(Some(live))) => {
                k.took(live);
                m.kube.push(k);
                continue;
            }
            Ok(Ok(None)) => "a Kubernetes object that no longer exists in the cluster: nothing to take over".to_string(),
            Ok(Err(e)) => format!("a Kubernetes object the import could not read from the cluster's API ({e}): not imported; it stays as it is"),
            Err(_) => format!("a Kubernetes object: the cluster's API ({}) did not answer within 30 s; not imported; it stays as it is", at.endpoint),
        };
        m.left.push(mapping::Left { terraform: k.terraform, why });
    }
}

/// Writes each Kubernetes object's template next to the stack file `out`; refuses to overwrite.
fn write_templates(m: &mapping::Mapping, out: &Path, source: &str) -> anyhow::Result<Vec<PathBuf>> {
    let dir = out.parent().unwrap_or(Path::new("."));
    let mut written = vec![];
    let result = (|| {
        for k in &m.kube {
            let Some(text) = k.template(source) else { continue };
            let path = dir.join(k.template_path());
            if path.exists() {
                return Err(help(
                    format!("{} already exists; the import writes new templates and does not overwrite one", path.display()),
                    "move it away, or write the stack elsewhere with --stack-out",
                ));
            }
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
            }
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            written.push(path);
        }
        Ok(())
    })();
    if let Err(e) = result {
        for f in &written {
            let _ = std::fs::remove_file(f);
        }
        return Err(e);
    }
    Ok(written)
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
