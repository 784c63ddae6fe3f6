//! Saved plans run exactly as saved, and are refused once the state moved; a held lock stops
//! a second run at once; no confirmation without a terminal.

use std::io::Write;

use crate::common::{LocalCloud, reference_stack};

#[test]
fn saved_plan_is_executed_as_saved_and_refused_when_stale() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let plan_file = eksnet.path("network.plan");
    let plan_path = plan_file.display().to_string();

    let json = eksnet.run(&["-f", &stack, "plan", "--format", "json", "--out", &plan_path]).ok();
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(parsed["summary"]["add"], 39);
    assert_eq!(parsed["changes"][0]["action"], "create");
    // The command to apply it is the user's own: with their -f.
    assert!(json.stderr.contains(&format!("run `eksnet -f {stack} apply {plan_path}` to execute exactly this plan")), "{}", json.stderr);

    // Without a terminal and without --auto-approve, apply refuses instead of hanging.
    let refused = eksnet.run(&["-f", &stack, "apply"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("no terminal to ask on") && refused.stderr.contains("--auto-approve"), "{}", refused.stderr);

    let applied = eksnet.run(&["-f", &stack, "apply", &plan_path]).ok();
    assert!(applied.stderr.contains("Apply complete"), "{}", applied.stderr);
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();
    // `state show` of a kind alone names the address meant.
    let show = eksnet.run(&["-f", &stack, "state", "show", "vpc"]);
    assert_eq!(show.code, 1);
    assert!(show.stderr.contains("did you mean `vpc.main`?") && show.stderr.contains(&format!("`eksnet -f {stack} state list`")), "{}", show.stderr);

    // The state moved on since the plan was made: refused, nothing done.
    let stale = eksnet.run(&["-f", &stack, "apply", &plan_path]);
    assert_eq!(stale.code, 1);
    assert!(
        stale.stderr.contains("the saved plan is stale") && stale.stderr.contains(&format!("`eksnet -f {stack} plan --out {plan_path}`")),
        "{}",
        stale.stderr
    );

    // A lock held by a live process stops a second run at once, naming the holder.
    let state = eksnet.path(".eksnet/cni-custom-networking-demo.state.json");
    let lock = format!("{}.lock", state.display());
    let holder =
        serde_json::json!({"id": "lock-123", "pid": std::process::id(), "host": "ci-host", "command": "eksnet apply", "since": "2026-01-01T00:00:00.000Z"});
    // Local locks are OS locks held by an open file, as eksnet holds them; the file names the holder.
    let mut held = std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&lock).unwrap();
    held.try_lock().unwrap();
    held.write_all(holder.to_string().as_bytes()).unwrap();
    let locked = eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]);
    assert_eq!(locked.code, 1);
    assert!(locked.stderr.contains("locked by `eksnet apply`") && locked.stderr.contains("ci-host") && locked.stderr.contains("lock-123"), "{}", locked.stderr);
    // The suggested command carries the user's own -f, so that it works when pasted.
    assert!(locked.stderr.contains(&format!("`eksnet -f {stack} state unlock lock-123`")), "{}", locked.stderr);
    // A live holder's lock is not cleared by `state unlock`; once its holder ends, it is free.
    let unlock = eksnet.run(&["-f", &stack, "state", "unlock", "lock-123"]);
    assert_eq!(unlock.code, 1);
    assert!(unlock.stderr.contains("which is running"), "{}", unlock.stderr);
    drop(held);
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
}
