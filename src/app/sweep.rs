//! `eksnet sweep`: destroy the test stacks whose `eksnet:expires-at` has passed, found by their
//! tags in one or every region, each as `destroy --from-tags` would, side by side.

use std::time::SystemTime;

use futures::future::join_all;

use super::*;
use crate::expiry::{parse_time, since};
use crate::render::text::SweepRow;
use crate::resources::expiring::Expiring;

pub(super) async fn sweep_command(g: &Global, args: &crate::cli::SweepArgs, printer: Printer) -> anyhow::Result<i32> {
    crate::interrupt::install();
    let home = g
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .ok_or_else(|| help("sweep needs a region to look in", "pass --region REGION (or set AWS_REGION), or --all-regions"))?;
    let regions =
        if args.all_regions { connect(g, "", &home).await?.regions().await.map_err(|e| anyhow::anyhow!("listing regions: {e}"))? } else { vec![home] };
    let now = SystemTime::now();
    let mut expired: Vec<(String, Expiring, SystemTime)> = vec![];
    let mut alive = 0;
    for region in &regions {
        let aws = connect(g, "", region).await?;
        for e in aws.expiring_stacks().await.map_err(|e| anyhow::anyhow!("finding expiring stacks in {region}: {e}"))? {
            match parse_time(&e.expires_at) {
                Some(at) if at <= now => expired.push((region.clone(), e, at)),
                Some(_) => alive += 1,
                None => {
                    eprintln!("{} stack `{}` in {region}: `{}` is not a time; left alone", printer.paint(Style::Warning, "warning:"), e.stack, e.expires_at)
                }
            }
        }
    }
    if expired.is_empty() {
        eprintln!("No expired stacks in {} ({alive} not expired yet).", regions.join(", "));
        return Ok(0);
    }
    // What each holds: a refresh by its tags, as its destroy will do.
    let held = join_all(expired.iter().map(|(region, e, _)| objects_of(g, region, &e.stack))).await;
    let mut rows = vec![];
    for ((region, e, at), objects) in expired.iter().zip(held) {
        rows.push(SweepRow { stack: e.stack.clone(), region: region.clone(), vpc: e.vpc_id.clone(), expired_since: since(*at, now), objects: objects? });
    }
    print!("{}", text::sweep(&rows, alive));
    if args.dry_run || (!args.yes && !std::io::stdin().is_terminal()) {
        let again = Suggest::new(g).command(if args.all_regions { "sweep --all-regions --yes" } else { "sweep --yes" });
        eprintln!("Dry run: nothing was destroyed. Run `{again}` to destroy these stacks.");
        return Ok(0);
    }
    if !args.yes && !confirm("destroy", &format!("the {} expired stacks above", rows.len()))? {
        eprintln!("Cancelled; nothing was changed.");
        return Ok(1);
    }
    let results = join_all(expired.iter().map(|(region, e, _)| destroy(g, region, &e.stack, printer))).await;
    let mut code = 0;
    for ((region, e, _), result) in expired.iter().zip(results) {
        match result {
            Ok(0) => eprintln!("swept stack `{}` in {region}", e.stack),
            Ok(c) => {
                code = code.max(c);
                eprintln!("stack `{}` in {region} was not fully destroyed; run `{}` again", e.stack, Suggest::new(g).command("sweep"));
            }
            Err(err) => {
                code = code.max(1);
                eprintln!("stack `{}` in {region}: {err:#}", e.stack);
            }
        }
    }
    Ok(code)
}

/// The stack's objects found by their tags, counted by kind.
async fn objects_of(g: &Global, region: &str, stack: &str) -> anyhow::Result<BTreeMap<String, usize>> {
    let aws = connect(g, stack, region).await?;
    let owner = Owner { stack: stack.to_string(), lineage: String::new(), take_over: true };
    let observed = observe(&aws, &owner, None, &[]).await?;
    let mut counts = BTreeMap::new();
    for address in observed.keys() {
        *counts.entry(address.kind.clone()).or_insert(0) += 1;
    }
    Ok(counts)
}

/// One expired stack destroyed from its tags, recorded in a working state of its own (under
/// `.eksnet/sweep/REGION/`) so that a sweep that is cut off resumes where it stopped, each under
/// its own lock.
async fn destroy(g: &Global, region: &str, stack: &str, printer: Printer) -> anyhow::Result<i32> {
    let path = std::path::PathBuf::from(".eksnet/sweep").join(region).join(format!("{stack}.state.json"));
    let store = Store::Local(StateFile::new(&path));
    let held = store.lock("eksnet sweep", g.lock_timeout).await?;
    let target = Target { name: stack.to_string(), region: region.to_string(), backend: BackendConfig::default(), stack: None, store: &store };
    let result = apply_locked(g, &target, None, How::destroy(true, true), printer).await;
    release(g, held, printer).await;
    result
}
