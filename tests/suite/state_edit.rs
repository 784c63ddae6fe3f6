//! `state mv` and `state rm` (Terraform's): what eksnet manages changes, never what exists. A
//! moved object answers to its new address (its tag says so) and the plan has nothing to delete
//! or create; a forgotten object loses its eksnet tags, leaves the state, and outlives destroy.

use aws_sdk_ec2::types::Filter;
use serde_json::Value;

use crate::common::{Eksnet, LocalCloud, small_network};

const REGION: &str = "us-west-2";
const STATE: &str = ".eksnet/edit-demo.state.json";

/// The small network with one security group called `group` (its EC2 name and description
/// given, as they must be kept when the group is renamed in the stack: EC2 cannot rename one).
fn stack(group: &str) -> String {
    format!(
        "{}security_groups:\n  {group}:\n    group_name: edit-demo-web\n    description: web servers\n    ingress: [{{protocol: tcp, ports: 80, cidrs: [10.0.0.0/16]}}]\n",
        small_network("edit-demo")
    )
}

fn id(eksnet: &Eksnet, address: &str) -> String {
    let state: Value = serde_json::from_str(&std::fs::read_to_string(eksnet.path(STATE)).unwrap()).unwrap();
    state["resources"][address]["id"].as_str().unwrap_or_else(|| panic!("{address} has an id in {state:#}")).to_string()
}

fn refused(out: crate::common::Out, expected: &[&str]) {
    assert_eq!(out.code, 1, "{}\n{}", out.stdout, out.stderr);
    for e in expected {
        assert!(out.stderr.contains(e), "missing `{e}`:\n{}", out.stderr);
    }
}

/// The tags of an EC2 object, by key.
async fn tags(ec2: &aws_sdk_ec2::Client, id: &str) -> std::collections::BTreeMap<String, String> {
    let found = ec2.describe_tags().filters(Filter::builder().name("resource-id").values(id).build()).send().await.unwrap();
    found.tags().iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn state_mv_and_state_rm_change_what_eksnet_manages_not_what_exists() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let ec2 = cloud.ec2(REGION).await;
    std::fs::write(eksnet.path("stack.yaml"), stack("web")).unwrap();
    eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    let (group, vpc) = (id(&eksnet, "security_group.web"), id(&eksnet, "vpc.main"));

    // Refused before anything changes: an address the state does not have (the one meant is
    // named), a move to an address taken or of another kind, a part that follows its object.
    let saved = std::fs::read_to_string(eksnet.path(STATE)).unwrap();
    let changes = cloud.changes();
    refused(
        eksnet.run(&["-f", "stack.yaml", "state", "rm", "vpc.main", "security_group.wbe"]),
        &["`security_group.wbe` is not in the state", "did you mean `security_group.web`?"],
    );
    refused(
        eksnet.run(&["-f", "stack.yaml", "state", "mv", r#"subnet.private["us-west-2a"]"#, r#"subnet.private["us-west-2b"]"#]),
        &[r#"subnet.private["us-west-2b"] is already in the state (subnet-"#, r#"`eksnet -f stack.yaml state rm 'subnet.private["us-west-2b"]'`"#],
    );
    refused(eksnet.run(&["-f", "stack.yaml", "state", "mv", "security_group.web", "vpc.web"]), &["an object keeps its kind"]);
    refused(
        eksnet.run(&["-f", "stack.yaml", "state", "mv", "security_group_rules.web", "security_group_rules.x"]),
        &["security_group_rules.web is found through security_group.web and moves with it"],
    );
    refused(eksnet.run(&["-f", "stack.yaml", "state", "mv", "security_group.wbe", "security_group.x"]), &["did you mean `security_group.web`?"]);
    refused(
        eksnet.run(&["-f", "stack.yaml", "state", "rm", "vpc_cidr.secondary[\"100.64.0.0/16\"]"]),
        &[r#"vpc_cidr.secondary["100.64.0.0/16"] is found through vpc.main: the next refresh would find it again"#],
    );
    assert_eq!(std::fs::read_to_string(eksnet.path(STATE)).unwrap(), saved, "a refused command leaves the state as it was");
    assert_eq!(cloud.changes(), changes, "a refused command changes nothing in AWS");

    // The group renamed in the stack: without a move, the plan replaces it.
    std::fs::write(eksnet.path("stack.yaml"), stack("frontend")).unwrap();
    let plan = eksnet.run(&["-f", "stack.yaml", "plan"]).ok();
    assert!(plan.stdout.contains("- security_group.web") && plan.stdout.contains("+ security_group.frontend"), "{}", plan.stdout);
    let moved = eksnet.run(&["-f", "stack.yaml", "state", "mv", "security_group.web", "security_group.frontend"]).ok();
    assert!(
        moved
            .stderr
            .contains(&format!("moved security_group.web ({group}) to security_group.frontend, with security_group_rules.web → security_group_rules.frontend")),
        "{}",
        moved.stderr
    );
    assert_eq!(tags(&ec2, &group).await["eksnet:address"], "security_group.frontend");
    // Only the generated Name tag (`<stack>-sg-<name>`) follows the new name; nothing is
    // deleted or created, and once applied the plan is empty.
    let plan = eksnet.run(&["-f", "stack.yaml", "plan"]).ok();
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains(r#"tags["Name"]: "edit-demo-sg-web" → "edit-demo-sg-frontend""#), "{}", plan.stdout);
    eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    assert_eq!(id(&eksnet, "security_group.frontend"), group, "the same group");
    let plan = eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]).ok();
    assert!(plan.stdout.contains("No changes."), "{}", plan.stdout);

    // Forgetting the group and the VPC (whose subnets stay in the state): their tags come off,
    // their records and their parts leave the state, they still exist. A subnet deleted by hand
    // is forgotten all the same.
    let deleted = r#"subnet.private["us-west-2b"]"#;
    let subnet = id(&eksnet, deleted);
    ec2.disassociate_route_table().association_id(id(&eksnet, r#"route_table_association.private["us-west-2b"]"#)).send().await.unwrap();
    ec2.delete_subnet().subnet_id(&subnet).send().await.unwrap();
    let forgot = eksnet.run(&["-f", "stack.yaml", "state", "rm", "security_group.frontend", "vpc.main", deleted]).ok();
    for expected in [
        &format!(r#"forgot subnet.private["us-west-2b"] ({subnet}): it no longer exists in AWS; the next plan would create a new one"#),
        r#"with what is part of it: route_table_association.private["us-west-2b"] ("#,
        &format!("forgot security_group.frontend ({group}): it still exists in AWS and eksnet no longer manages it"),
        "with what is part of it: security_group_rules.frontend (",
        &format!("forgot vpc.main ({vpc}): it still exists in AWS"),
        "the next plan would create a new one",
        r#"with what is part of it: vpc_cidr.secondary["100.64.0.0/16"] ("#,
        r#"still in the state, and depending on it: "#,
        r#"subnet.private["us-west-2a"]"#,
    ] {
        assert!(forgot.stderr.contains(expected), "missing `{expected}`:\n{}", forgot.stderr);
    }
    let list = eksnet.run(&["-f", "stack.yaml", "state", "list"]).ok().stdout;
    for gone in ["vpc.main\t", "security_group.frontend\t", "security_group_rules.frontend\t", "vpc_cidr.", r#"private["us-west-2b"]"#] {
        assert!(!list.contains(gone), "{gone} still listed:\n{list}");
    }
    assert!(list.contains(r#"subnet.private["us-west-2a"]"#), "{list}");
    for object in [&group, &vpc] {
        let tags = tags(&ec2, object).await;
        assert!(!tags.keys().any(|k| k.starts_with("eksnet:")), "{object} keeps eksnet tags: {tags:?}");
    }
    assert_eq!(tags(&ec2, &vpc).await.get("team").map(String::as_str), Some("platform"), "other tags stay");
    let plan = eksnet.run(&["-f", "stack.yaml", "plan"]).ok();
    let lines: Vec<&str> = plan.stdout.lines().map(str::trim_start).collect();
    assert!(lines.iter().any(|l| l.starts_with("+ vpc.main")) && lines.iter().any(|l| l.starts_with("+ security_group.frontend")), "{}", plan.stdout);

    // Destroy deletes what the state still holds and leaves the forgotten objects.
    eksnet.run(&["-f", "stack.yaml", "destroy", "--auto-approve"]).ok();
    cloud.settle();
    let subnets = ec2.describe_subnets().filters(Filter::builder().name("tag:eksnet:stack").values("edit-demo").build()).send().await.unwrap();
    assert!(subnets.subnets().is_empty(), "destroy deleted the subnets");
    assert_eq!(ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap().vpcs().len(), 1, "the forgotten VPC is still there");
    assert_eq!(ec2.describe_security_groups().group_ids(&group).send().await.unwrap().security_groups().len(), 1, "the forgotten group too");
}
