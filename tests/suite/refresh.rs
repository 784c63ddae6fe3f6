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

/// AWS calls in `requests[from..]` by `service.operation` (Kubernetes calls left out).
fn aws_calls(requests: &[Value], from: usize) -> std::collections::BTreeMap<String, usize> {
    let mut calls = std::collections::BTreeMap::new();
    for r in &requests[from..] {
        let service = r["service"].as_str().unwrap_or_default();
        if service != "kube" {
            *calls.entry(format!("{service}.{}", r["operation"].as_str().unwrap_or_default())).or_insert(0) += 1;
        }
    }
    calls
}

/// A plan reads each kind in one batched call, however wide the stack (docs/architecture.md,
/// cost of a refresh): the wide bench stack's 18 subnets, 12 NAT gateways, 12 route tables and 6
/// addresses cost one Describe each kind. Per object only what AWS cannot read together: EKS
/// nodegroups, add-ons and access entries (no batch Describe), an IAM role's policies and tags
/// (ListRoles returns neither), the VPC's DNS attributes (one attribute per call). Destroy waits
/// for the nodegroups and add-ons of a cluster with one List per poll, not one Describe each.
#[test]
fn a_no_change_plan_of_the_wide_stack_reads_each_kind_in_one_call() {
    // Pages of 100 as the bench's (AWS's are as large or larger): every listing is one page.
    let cloud = LocalCloud::start_with(&["--profile", "none", "--strict", "--page-size", "100"]);
    let eksnet = cloud.eksnet();
    let stack = crate::common::repo().join("bench/stacks/wide.yaml").display().to_string();
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();

    let before = cloud.requests().len();
    let plan = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "a plan right after apply has no changes:\n{}\n{}", plan.stdout, plan.stderr);
    let mut calls = aws_calls(&cloud.requests(), before);
    calls.remove("sts.GetCallerIdentity"); // the plan's header (and localcloud's own token checks)
    let expected: std::collections::BTreeMap<String, usize> = [
        ("ec2.DescribeVpcs", 1), // vpc and vpc_cidr
        ("ec2.DescribeVpcAttribute", 2),
        ("ec2.DescribeSubnets", 1),
        ("ec2.DescribeInternetGateways", 1),
        ("ec2.DescribeAddresses", 1),
        ("ec2.DescribeNatGateways", 1),
        ("ec2.DescribeRouteTables", 1),    // route_table and route_table_association
        ("ec2.DescribeSecurityGroups", 1), // security_group and security_group_rules
        ("iam.ListRoles", 1),
        ("iam.ListAttachedRolePolicies", 2),
        ("iam.ListRoleTags", 2),
        ("eks.ListClusters", 1),
        ("eks.DescribeCluster", 1),
        ("eks.ListAccessEntries", 1),
        ("eks.DescribeAccessEntry", 1),
        ("eks.ListAddons", 1),
        ("eks.DescribeAddon", 3),
        ("eks.ListNodegroups", 1),
        ("eks.DescribeNodegroup", 4),
        // the plan's checks: zones, instance types, Kubernetes and add-on versions
        ("ec2.DescribeAvailabilityZones", 1),
        ("ec2.DescribeInstanceTypes", 1),
        ("eks.DescribeClusterVersions", 1),
        ("eks.DescribeAddonVersions", 3),
    ]
    .into_iter()
    .map(|(op, n)| (op.to_string(), n))
    .collect();
    assert_eq!(calls, expected, "the no-change plan's AWS calls");

    let before = cloud.requests().len();
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
    let calls = aws_calls(&cloud.requests(), before);
    // the refresh's one Describe per nodegroup and add-on; their deletions polled by List
    assert_eq!(calls.get("eks.DescribeNodegroup"), Some(&4), "{calls:#?}");
    assert_eq!(calls.get("eks.DescribeAddon"), Some(&3), "{calls:#?}");
    assert!(calls.get("eks.ListNodegroups").is_some_and(|&n| n >= 2), "{calls:#?}");
    cloud.settle();
    let again = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 2, "after destroy the plan creates everything again:\n{}", again.stdout);
    assert!(again.stdout.contains("Plan: 122 to add, 0 to change, 0 to destroy."), "{}", again.stdout);
}
