//! `eksnet verify` (and `apply --verify`): read what exists, check it against the stack, print
//! the verdict. Read-only: the state is loaded without its lock and never written.

use super::*;
use crate::cli::VerifyFormat;

pub(super) async fn verify_command(g: &Global, format: VerifyFormat, printer: Printer) -> anyhow::Result<i32> {
    let stack = load_stack(g)?;
    let store = stack_store(g, &stack).await?;
    let state = load_existing(&store, "nothing was applied yet").await?;
    let expect = crate::verify::Expect::new(&stack, &state);
    let sdk = load_cloud(&cloud_options(g, &stack.region)).await?;
    let facts = crate::verify::observe::observe(&sdk, &expect).await?;
    let checks = crate::verify::checks(&expect, &facts);
    match format {
        VerifyFormat::Text => print!("{}", crate::render::verify::text(&stack.name, &facts.cluster, &checks, &|c, t| printer.paint(c, t))),
        VerifyFormat::Json => println!("{}", serde_json::to_string_pretty(&crate::render::verify::json(&stack.name, &facts.cluster, &checks))?),
    }
    Ok(if crate::verify::passed(&checks) { 0 } else { 1 })
}
