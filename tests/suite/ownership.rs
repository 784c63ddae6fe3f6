//! Ownership: stacks side by side in one account never touch each other's objects, and a second
//! state never silently adopts a stack another state manages (docs/ownership.md).

use aws_sdk_ec2::types::{Filter, NatGatewayState};

use crate::common::{LocalCloud, reference_copy, small_network};

const REGION: &str = "ap-southeast-2";

fn by_stack(stack: &str) -> Filter {
    Filter::builder().name("tag:eksnet:stack").values(stack).build()
}

/// What a stack has in EC2 and EKS, checked on eksnet's side of the filter too (the object's
/// own tag), so that this count cannot be fooled by the filter under test.
#[derive(Debug, PartialEq, Eq)]
struct Inventory {
    vpcs: usize,
    subnets: usize,
    nat_available: usize,
    cluster: Option<String>,
}

async fn inventory(cloud: &LocalCloud, stack: &str, cluster: &str) -> Inventory {
    let config = cloud.config(REGION).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let eks = aws_sdk_eks::Client::new(&config);
    let own = |tags: &[aws_sdk_ec2::types::Tag]| tags.iter().any(|t| t.key() == Some("eksnet:stack") && t.value() == Some(stack));
    let vpcs: Vec<_> = ec2.describe_vpcs().filters(by_stack(stack)).into_paginator().items().send().try_collect().await.unwrap();
    let subnets: Vec<_> = ec2.describe_subnets().filters(by_stack(stack)).into_paginator().items().send().try_collect().await.unwrap();
    let nats: Vec<_> = ec2.describe_nat_gateways().filter(by_stack(stack)).into_paginator().items().send().try_collect().await.unwrap();
    let cluster = match eks.describe_cluster().name(cluster).send().await {
        Ok(c) => c.cluster().and_then(|c| c.status()).map(|s| s.as_str().to_string()),
        Err(_) => None,
    };
    Inventory {
        vpcs: vpcs.iter().filter(|v| own(v.tags())).count(),
        subnets: subnets.iter().filter(|s| own(s.tags())).count(),
        nat_available: nats.iter().filter(|n| own(n.tags()) && n.state() == Some(&NatGatewayState::Available)).count(),
        cluster,
    }
}

fn complete() -> Inventory {
    Inventory { vpcs: 1, subnets: 9, nat_available: 2, cluster: Some("ACTIVE".into()) }
}

fn gone() -> Inventory {
    Inventory { vpcs: 0, subnets: 0, nat_available: 0, cluster: None }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_stacks_in_one_account_never_touch_each_other() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let one = reference_copy(&eksnet, "stack-one", "ClusterOne");
    let two = reference_copy(&eksnet, "stack-two", "ClusterTwo");

    // Applied side by side, as two CI pipelines would.
    let mut first = eksnet.command(&["-f", &one, "apply", "--auto-approve"]).spawn().unwrap();
    let second = eksnet.run(&["-f", &two, "apply", "--auto-approve"]);
    let first = first.wait().unwrap();
    assert!(first.success(), "apply of stack-one failed");
    second.ok();

    for stack in [&one, &two] {
        let plan = eksnet.run(&["-f", stack, "plan", "--detailed-exitcode"]);
        assert_eq!(plan.code, 0, "the plan of {stack} is not empty:\n{}\n{}", plan.stdout, plan.stderr);
    }
    assert_eq!(inventory(&cloud, "stack-one", "ClusterOne").await, complete());
    assert_eq!(inventory(&cloud, "stack-two", "ClusterTwo").await, complete());

    eksnet.run(&["-f", &one, "destroy", "--auto-approve"]).ok();
    assert_eq!(inventory(&cloud, "stack-one", "ClusterOne").await, gone());
    assert_eq!(inventory(&cloud, "stack-two", "ClusterTwo").await, complete(), "destroying stack-one touched stack-two");
    let plan = eksnet.run(&["-f", &two, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "stack-two's plan changed after stack-one's destroy:\n{}\n{}", plan.stdout, plan.stderr);

    eksnet.run(&["-f", &two, "destroy", "--auto-approve"]).ok();
    assert_eq!(inventory(&cloud, "stack-two", "ClusterTwo").await, gone());
    let ec2 = cloud.ec2(REGION).await;
    let left: Vec<_> = ec2.describe_vpcs().filters(Filter::builder().name("tag-key").values("eksnet:stack").build()).send().await.unwrap().vpcs().to_vec();
    assert!(left.is_empty(), "VPCs left: {left:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_state_is_refused_until_it_takes_over() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    std::fs::write(eksnet.path("net.yaml"), small_network("shared-net")).unwrap();
    let a = ["-f", "net.yaml", "--state", "a.json"];
    let b = ["-f", "net.yaml", "--state", "b.json"];
    let args = |state: &[&'static str], rest: &[&'static str]| -> Vec<&'static str> { state.iter().chain(rest).copied().collect() };

    eksnet.run(&args(&a, &["apply", "--auto-approve"])).ok();
    let lineage_a: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(eksnet.path("a.json")).unwrap()).unwrap();
    let lineage_a = lineage_a["lineage"].as_str().unwrap().to_string();
    let before = cloud.changes();

    // A new, empty state finds the stack under another lineage: plan, apply and destroy stop.
    for command in [&["plan"][..], &["apply", "--auto-approve"], &["destroy", "--auto-approve"]] {
        let out = eksnet.run(&args(&b, command));
        assert_eq!(out.code, 1, "{command:?} with a second state was not refused:\n{}\n{}", out.stdout, out.stderr);
        assert!(out.stderr.contains("stack `shared-net` already exists in this account and region, managed by another state"), "{}", out.stderr);
        assert!(out.stderr.contains(&lineage_a), "the message names the other lineage: {}", out.stderr);
        assert!(out.stderr.contains("--take-over"), "{}", out.stderr);
    }
    assert_eq!(cloud.changes(), before, "a refused run changed something");
    assert!(!eksnet.path("b.json").exists() || !std::fs::read_to_string(eksnet.path("b.json")).unwrap().contains("vpc-"));

    // Taking over is shown first, then done: the objects are marked as b's.
    let plan = eksnet.run(&args(&b, &["plan", "--take-over"])).ok();
    assert!(plan.stdout.contains("eksnet:lineage"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to add") && plan.stdout.contains("0 to destroy"), "{}", plan.stdout);
    eksnet.run(&args(&b, &["apply", "--take-over", "--auto-approve"])).ok();
    assert_eq!(eksnet.run(&args(&b, &["plan", "--detailed-exitcode"])).code, 0);

    // Now the first state is the stranger.
    let out = eksnet.run(&args(&a, &["destroy", "--auto-approve"]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("managed by another state"), "{}", out.stderr);
    let ec2 = cloud.ec2("us-west-2").await;
    assert_eq!(ec2.describe_vpcs().filters(by_stack("shared-net")).send().await.unwrap().vpcs().len(), 1);

    eksnet.run(&args(&b, &["destroy", "--auto-approve"])).ok();
    assert!(ec2.describe_vpcs().filters(by_stack("shared-net")).send().await.unwrap().vpcs().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stack_whose_state_is_lost_is_destroyed_from_its_tags_and_nothing_else() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    std::fs::write(eksnet.path("net.yaml"), small_network("lost-net")).unwrap();
    std::fs::write(eksnet.path("other.yaml"), small_network("other-net").replace("10.0.", "10.1.")).unwrap();
    eksnet.run(&["-f", "net.yaml", "apply", "--auto-approve"]).ok();
    eksnet.run(&["-f", "other.yaml", "apply", "--auto-approve"]).ok();
    let ec2 = cloud.ec2("us-west-2").await;
    let untagged = ec2.create_vpc().cidr_block("10.9.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    cloud.settle(); // the test names it later, as seconds later on AWS

    // The runner died with its disk: the state is gone. `state rebuild` writes it again from the
    // tags, in the lost state's lineage, so the next plan is empty; it refuses a state that lives.
    let state = eksnet.path(".eksnet/lost-net.state.json");
    let lost = std::fs::read_to_string(&state).unwrap();
    std::fs::remove_file(&state).unwrap();
    let rebuilt = eksnet.run(&["-f", "net.yaml", "state", "rebuild"]).ok();
    assert!(rebuilt.stderr.contains("Rebuilt the state") && rebuilt.stdout.contains("vpc.main"), "{}\n{}", rebuilt.stdout, rebuilt.stderr);
    let lineage = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap()["lineage"].clone();
    assert_eq!(lineage(&std::fs::read_to_string(&state).unwrap()), lineage(&lost));
    let plan = eksnet.run(&["-f", "net.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}\n{}", plan.stdout, plan.stderr);
    let again = eksnet.run(&["-f", "net.yaml", "state", "rebuild"]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("still records"), "{}", again.stderr);
    std::fs::remove_file(&state).unwrap();
    let refused = eksnet.run(&["-f", "net.yaml", "destroy", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("managed by another state"), "{}", refused.stderr);

    let out = eksnet.run(&["-f", "net.yaml", "destroy", "--auto-approve", "--from-tags"]).ok();
    assert!(out.stderr.contains("Destroy complete"), "{}", out.stderr);
    assert!(ec2.describe_vpcs().filters(by_stack("lost-net")).send().await.unwrap().vpcs().is_empty());
    assert!(ec2.describe_subnets().filters(by_stack("lost-net")).send().await.unwrap().subnets().is_empty());
    assert_eq!(ec2.describe_vpcs().filters(by_stack("other-net")).send().await.unwrap().vpcs().len(), 1, "another stack survives");
    assert_eq!(eksnet.run(&["-f", "other.yaml", "plan", "--detailed-exitcode"]).code, 0, "and is complete");
    let still = ec2.describe_vpcs().vpc_ids(&untagged).send().await.unwrap();
    assert_eq!(still.vpcs().len(), 1, "an untagged VPC survives");
}
