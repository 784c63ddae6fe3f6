//! `--replace ADDRESS` (Terraform's `-replace`): an unchanged object is planned as replaced,
//! with what depends on its id; a mistyped address gets the one meant, an object not made yet
//! has nothing to replace, and neither creates anything.

use serde_json::Value;

use crate::common::{Eksnet, LocalCloud, small_network};

const SUBNET: &str = r#"subnet.private["us-west-2a"]"#;

fn id(eksnet: &Eksnet, address: &str) -> String {
    let state: Value = serde_json::from_str(&std::fs::read_to_string(eksnet.path(".eksnet/replace-demo.state.json")).unwrap()).unwrap();
    state["resources"][address]["id"].as_str().unwrap_or_else(|| panic!("{address} has an id in {state:#}")).to_string()
}

#[test]
fn replace_rebuilds_an_unchanged_object_and_what_depends_on_it() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    std::fs::write(eksnet.path("stack.yaml"), small_network("replace-demo")).unwrap();

    // Before anything exists: nothing to replace, nothing created.
    let early = eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve", "--replace", SUBNET]);
    assert_eq!(early.code, 1, "{}", early.stderr);
    assert!(early.stderr.contains("it does not exist yet, so there is nothing to replace"), "{}", early.stderr);
    assert_eq!(cloud.changes(), 0, "nothing was created");

    eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    let before = id(&eksnet, SUBNET);
    let vpc = id(&eksnet, "vpc.main");

    // A misspelt address: the one meant.
    let typo = eksnet.run(&["-f", "stack.yaml", "plan", "--replace", r#"subnet.privat["us-west-2a"]"#]);
    assert_eq!(typo.code, 1);
    assert!(typo.stderr.contains("the stack has no such address") && typo.stderr.contains(&format!("did you mean `{SUBNET}`?")), "{}", typo.stderr);

    let plan = eksnet.run(&["-f", "stack.yaml", "plan", "--replace", SUBNET, "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains(&format!("-/+ {SUBNET}")) && plan.stdout.contains("(must be replaced because --replace asks for it)"), "{}", plan.stdout);
    // The association names the subnet's id, so it goes with it; the VPC stays.
    assert!(plan.stdout.contains(r#"-/+ route_table_association.private["us-west-2a"]"#), "{}", plan.stdout);
    assert!(!plan.stdout.contains("vpc.main"), "{}", plan.stdout);

    eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve", "--replace", SUBNET]).ok();
    let after = id(&eksnet, SUBNET);
    assert_ne!(before, after, "a new subnet");
    assert_eq!(id(&eksnet, "vpc.main"), vpc);
    eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]).ok();
}
