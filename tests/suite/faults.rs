//! Faults: throttling and 5xx are retried by the SDK's retry policy, so apply completes; a hard
//! failure stops only its branch, leaves a state that records exactly what exists, and the next
//! apply completes the rest; a create whose answer was lost is found, not made twice.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::Filter;
use serde_json::{Value, json};

use crate::common::{LocalCloud, reference_stack};

const STACK: &str = "cni-custom-networking-demo";
const REGION: &str = "ap-southeast-2";

fn fault(cloud: &LocalCloud, rule: Value) {
    cloud.control(&["fault", &rule.to_string()]);
}

fn fired(cloud: &LocalCloud) -> Vec<(String, u64)> {
    let rules: Value = serde_json::from_str(&cloud.control(&["fault", "--list"])).unwrap();
    rules.as_array().unwrap().iter().map(|r| (r["operation"].as_str().unwrap_or("*").to_string(), r["fired"].as_u64().unwrap())).collect()
}

#[test]
fn throttling_and_server_errors_are_retried_until_apply_completes() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    for rule in [
        json!({"service": "ec2", "operation": "CreateSubnet", "error": "Throttling", "times": 2}),
        json!({"service": "ec2", "operation": "DescribeNatGateways", "error": "RequestLimitExceeded", "times": 2}),
        json!({"service": "ec2", "operation": "CreateNatGateway", "error": "InternalError", "times": 2}),
        json!({"service": "iam", "operation": "CreateRole", "error": "Throttling", "times": 2}),
        json!({"service": "eks", "operation": "CreateCluster", "error": "ThrottlingException", "status": 429, "times": 2}),
        json!({"service": "eks", "operation": "DescribeNodegroup", "error": "ServiceUnavailableException", "times": 2}),
    ] {
        fault(&cloud, rule);
    }
    let out = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert!(out.stderr.contains("Apply complete"), "{}", out.stderr);
    for (operation, n) in fired(&cloud) {
        assert_eq!(n, 2, "{operation}: every injected fault should have fired (and been retried)");
    }
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();

    // The retries are what carried it: with one attempt per call, one throttle is a failure
    // that names the AWS error.
    cloud.reset();
    let eksnet = cloud.eksnet();
    fault(&cloud, json!({"service": "ec2", "operation": "CreateVpc", "error": "Throttling", "times": 1}));
    let out = eksnet.run(&["-f", &stack, "--max-attempts", "1", "apply", "--auto-approve"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("creating vpc.main: Throttling"), "{}", out.stderr);

    // The adaptive policy retries the same way (and also slows the client on throttling).
    cloud.reset();
    let eksnet = cloud.eksnet();
    fault(&cloud, json!({"service": "ec2", "operation": "CreateSubnet", "error": "Throttling", "times": 3}));
    eksnet.run(&["-f", &stack, "--retry-mode", "adaptive", "apply", "--auto-approve"]).ok();
    assert_eq!(fired(&cloud).iter().map(|(_, n)| n).sum::<u64>(), 3, "the throttles fired and were retried");
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();
}

async fn existing_ids(cloud: &LocalCloud) -> BTreeSet<String> {
    let ec2 = cloud.ec2(REGION).await;
    let f = Filter::builder().name("tag:eksnet:stack").values(STACK).build();
    let mut ids = BTreeSet::new();
    let vpcs: Vec<_> = ec2.describe_vpcs().filters(f.clone()).into_paginator().items().send().try_collect().await.unwrap();
    ids.extend(vpcs.iter().filter_map(|v| v.vpc_id().map(str::to_string)));
    let subnets: Vec<_> = ec2.describe_subnets().filters(f.clone()).into_paginator().items().send().try_collect().await.unwrap();
    ids.extend(subnets.iter().filter_map(|s| s.subnet_id().map(str::to_string)));
    let nats: Vec<_> = ec2.describe_nat_gateways().filter(f.clone()).into_paginator().items().send().try_collect().await.unwrap();
    ids.extend(nats.iter().filter(|n| n.state().map(|s| s.as_str()) != Some("deleted")).filter_map(|n| n.nat_gateway_id().map(str::to_string)));
    let tables: Vec<_> = ec2.describe_route_tables().filters(f.clone()).into_paginator().items().send().try_collect().await.unwrap();
    ids.extend(tables.iter().filter_map(|t| t.route_table_id().map(str::to_string)));
    let groups: Vec<_> = ec2.describe_security_groups().filters(f.clone()).into_paginator().items().send().try_collect().await.unwrap();
    ids.extend(groups.iter().filter_map(|g| g.group_id().map(str::to_string)));
    let eips = ec2.describe_addresses().filters(f).send().await.unwrap();
    ids.extend(eips.addresses().iter().filter_map(|a| a.allocation_id().map(str::to_string)));
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    ids.extend(eks.list_clusters().send().await.unwrap().clusters().iter().cloned());
    ids
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hard_failure_stops_its_branch_leaves_an_exact_state_and_the_next_apply_finishes() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    // Every attempt fails: more than any retry policy will try.
    fault(&cloud, json!({"service": "ec2", "operation": "CreateNatGateway", "error": "InternalError", "times": 100}));
    let out = eksnet.run(&["-f", &stack, "--max-attempts", "3", "apply", "--auto-approve"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("creating nat_gateway.public[\"ap-southeast-2a\"]: InternalError"), "{}", out.stderr);
    assert!(out.stderr.contains("creating nat_gateway.private[\"ap-southeast-2a\"]: InternalError"), "{}", out.stderr);
    // Independent branches finished: the cluster does not need the NAT gateways.
    assert!(out.stderr.contains("created eks_cluster.main"), "{}", out.stderr);

    // The state names every object that exists, by id; the failed creates stay as intents
    // (a 5xx may hide a create that happened; the next run looks for it by tag first).
    let list = eksnet.run(&["-f", &stack, "state", "list"]).ok().stdout;
    let recorded: BTreeSet<String> = list.lines().filter_map(|l| l.split_once('\t')).map(|(_, id)| id.to_string()).collect();
    let existing = existing_ids(&cloud).await;
    let missing: Vec<&String> = existing.difference(&recorded).collect();
    assert!(missing.is_empty(), "objects that exist but are not in the state: {missing:?}\n{list}");
    let intents: Vec<&str> = list.lines().filter(|l| l.ends_with("(creating)")).collect();
    assert_eq!(intents.len(), 2, "only the two NAT gateways are in flight:\n{list}");
    assert!(intents.iter().all(|l| l.starts_with("nat_gateway.")), "{list}");
    assert!(!existing.iter().any(|id| id.starts_with("nat-")), "no NAT gateway was created");

    // Once AWS recovers, the next apply does the rest and nothing twice.
    cloud.control(&["fault", "--clear"]);
    let out = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert!(out.stderr.contains("Apply complete"), "{}", out.stderr);
    assert!(!out.stderr.contains("creating vpc.main"), "the VPC must not be created again:\n{}", out.stderr);
    let list = eksnet.run(&["-f", &stack, "state", "list"]).ok().stdout;
    assert_eq!(list.lines().count(), 39, "{list}");
    assert!(!list.contains("(creating)"), "{list}");
    let nats = existing_ids(&cloud).await.into_iter().filter(|id| id.starts_with("nat-")).count();
    assert_eq!(nats, 2);
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();
}

/// Objects of the stack per id prefix (`vpc`, `subnet`, `igw`, `eipalloc`, `sg`, …).
async fn counts(cloud: &LocalCloud) -> std::collections::BTreeMap<String, usize> {
    let mut ids = existing_ids(cloud).await;
    let ec2 = cloud.ec2(REGION).await;
    let f = Filter::builder().name("tag:eksnet:stack").values(STACK).build();
    let igws = ec2.describe_internet_gateways().filters(f).send().await.unwrap();
    ids.extend(igws.internet_gateways().iter().filter_map(|g| g.internet_gateway_id().map(str::to_string)));
    let mut out = std::collections::BTreeMap::new();
    for id in ids {
        *out.entry(id.split('-').next().unwrap_or_default().to_string()).or_default() += 1;
    }
    out
}

/// EC2 carried a create out but its answer was lost (a 5xx on the way back): for the calls that
/// take no idempotency token, the object is found by its tags before the retry, never made twice.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_to_a_create_is_found_not_duplicated() {
    let cloud = LocalCloud::start();
    let stack = reference_stack().display().to_string();
    let eksnet = cloud.eksnet();
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let expected = counts(&cloud).await;

    cloud.reset();
    let eksnet = cloud.eksnet();
    for operation in ["CreateVpc", "CreateSubnet", "CreateInternetGateway", "AllocateAddress", "CreateSecurityGroup"] {
        fault(&cloud, json!({"service": "ec2", "operation": operation, "error": "InternalError", "after": true, "times": 1}));
    }
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let fired = fired(&cloud);
    assert!(fired.len() == 5 && fired.iter().all(|(_, n)| *n == 1), "every lost answer happened: {fired:?}");
    assert_eq!(counts(&cloud).await, expected, "objects per kind with lost answers vs without");
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
    assert!(counts(&cloud).await.is_empty());
}
