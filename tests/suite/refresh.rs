//! `plan --refresh-only` shows what changed outside eksnet since the state was written;
//! `apply --refresh-only` records it in the state and changes nothing in AWS.

use aws_sdk_ec2::types::Filter;
use serde_json::Value;

use crate::common::{Eksnet, LocalCloud, small_network};

const REGION: &str = "us-west-2";

fn state(eksnet: &Eksnet) -> Value {
    serde_json::from_str(&std::fs::read_to_string(eksnet.path(".eksnet/refresh-demo.state.json")).unwrap()).unwrap()
}

fn id(state: &Value, address: &str) -> String {
    state["resources"][address]["id"].as_str().unwrap_or_else(|| panic!("{address} has an id in {state:#}")).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn refresh_only_shows_and_records_changes_made_outside_eksnet() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let ec2 = cloud.ec2(REGION).await;
    std::fs::write(eksnet.path("stack.yaml"), small_network("refresh-demo")).unwrap();
    eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    let none = eksnet.run(&["-f", "stack.yaml", "plan", "--refresh-only", "--detailed-exitcode"]).ok();
    assert!(none.stdout.contains("No changes outside eksnet"), "{}", none.stdout);

    // By hand: a tag removed from the VPC, a private subnet deleted (after its route table
    // association), and a state that lost the id of an intra subnet.
    let before = state(&eksnet);
    let vpc = id(&before, "vpc.main");
    ec2.delete_tags().resources(&vpc).tags(aws_sdk_ec2::types::Tag::builder().key("team").build()).send().await.unwrap();
    let doomed = r#"subnet.private["us-west-2b"]"#;
    ec2.disassociate_route_table().association_id(id(&before, r#"route_table_association.private["us-west-2b"]"#)).send().await.unwrap();
    ec2.delete_subnet().subnet_id(id(&before, doomed)).send().await.unwrap();
    let mut edited = before.clone();
    edited["resources"][r#"subnet.intra["us-west-2a"]"#]["id"] = Value::Null;
    std::fs::write(eksnet.path(".eksnet/refresh-demo.state.json"), edited.to_string()).unwrap();
    let serial = edited["serial"].as_u64().unwrap();

    let plan = eksnet.run(&["-f", "stack.yaml", "plan", "--refresh-only", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    for expected in [
        &format!("~ vpc.main  {vpc}  (changed outside eksnet)"),
        "tags[\"team\"]: \"platform\" → (none)",
        &format!("- {doomed}  {}  (deleted outside eksnet; the state forgets it)", id(&before, doomed)),
        "- route_table_association.private[\"us-west-2b\"]",
        &format!("+ subnet.intra[\"us-west-2a\"]  {}  (exists but not in the state; the state adopts it)", id(&before, r#"subnet.intra["us-west-2a"]"#)),
        "Refresh: 1 changed, 2 deleted, 1 found outside eksnet.",
    ] {
        assert!(plan.stdout.contains(expected), "missing `{expected}`:\n{}", plan.stdout);
    }
    let json: Value = serde_json::from_str(&eksnet.run(&["-f", "stack.yaml", "plan", "--refresh-only", "--format", "json"]).ok().stdout).unwrap();
    let kinds: Vec<&str> = json["drift"].as_array().unwrap().iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 4, "{json:#}");
    assert_eq!(state(&eksnet)["serial"].as_u64(), Some(serial), "plan does not write the state");

    // Recording it changes the state only: no AWS write.
    let writes_before = cloud.requests().iter().filter(|r| r["service"] == "ec2" && !r["operation"].as_str().unwrap().starts_with("Describe")).count();
    let applied = eksnet.run(&["-f", "stack.yaml", "apply", "--refresh-only", "--auto-approve"]).ok();
    assert!(applied.stderr.contains("the state records 4 change(s) made outside eksnet"), "{}", applied.stderr);
    let writes_after = cloud.requests().iter().filter(|r| r["service"] == "ec2" && !r["operation"].as_str().unwrap().starts_with("Describe")).count();
    assert_eq!(writes_before, writes_after, "apply --refresh-only changed something in AWS");
    let after = state(&eksnet);
    assert!(after["resources"].get(doomed).is_none());
    assert_eq!(after["resources"]["vpc.main"]["attrs"]["tags"].get("team"), None);
    assert_eq!(id(&after, r#"subnet.intra["us-west-2a"]"#), id(&before, r#"subnet.intra["us-west-2a"]"#));
    eksnet.run(&["-f", "stack.yaml", "plan", "--refresh-only", "--detailed-exitcode"]).ok();

    // A normal plan still wants the stack back: the subnet, its association and the tag.
    let plan = eksnet.run(&["-f", "stack.yaml", "plan"]).ok();
    assert!(plan.stdout.contains("Plan: 2 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    eksnet.run(&["-f", "stack.yaml", "destroy", "--auto-approve"]).ok();
    let left = ec2.describe_vpcs().filters(Filter::builder().name("tag:eksnet:stack").values("refresh-demo").build()).send().await.unwrap();
    assert!(left.vpcs().is_empty());
}
