//! Expiring test stacks: `expires_after` tags a stack's objects with the time it expires (kept
//! from plan to plan), and `eksnet sweep` destroys the expired ones by their tags, side by side,
//! leaving stacks still to expire and untagged objects alone (docs/ownership.md).

use aws_sdk_ec2::types::Filter;

use crate::common::{LocalCloud, small_network};

const REGION: &str = "us-west-2";

fn by_stack(stack: &str) -> Filter {
    Filter::builder().name("tag:eksnet:stack").values(stack).build()
}

#[tokio::test(flavor = "multi_thread")]
async fn sweep_destroys_expired_stacks_only_and_dry_run_changes_nothing() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    for (name, net, lifetime) in [("sweep-a", "10.0.", "1s"), ("sweep-b", "10.1.", "1s"), ("sweep-c", "10.2.", "4h")] {
        let text = format!("{}expires_after: {lifetime}\n", small_network(name).replace("10.0.", net));
        std::fs::write(eksnet.path(&format!("{name}.yaml")), text).unwrap();
        eksnet.run(&["-f", &format!("{name}.yaml"), "apply", "--auto-approve"]).ok();
    }
    let ec2 = cloud.ec2(REGION).await;
    let vpc = ec2.describe_vpcs().filters(by_stack("sweep-c")).send().await.unwrap().vpcs()[0].clone();
    let expires_at = vpc.tags().iter().find(|t| t.key() == Some("eksnet:expires-at")).and_then(|t| t.value()).expect("tagged").to_string();
    let subnets = ec2.describe_subnets().filters(by_stack("sweep-c")).send().await.unwrap();
    assert!(subnets.subnets().iter().all(|s| s.tags().iter().any(|t| t.value() == Some(expires_at.as_str()))), "every object carries the same time");
    // The time is decided once: the next plan is empty.
    let plan = eksnet.run(&["-f", "sweep-c.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{}", plan.stdout);
    let untagged = ec2.create_vpc().cidr_block("10.9.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    cloud.settle(); // the test names it later, as seconds later on AWS
    std::thread::sleep(std::time::Duration::from_secs(2));

    // A dry run, and a run without a terminal and without --yes, only list.
    let before = cloud.changes();
    for args in [&["sweep", "--region", REGION, "--dry-run"][..], &["sweep", "--region", REGION][..]] {
        let listed = eksnet.run(args).ok();
        assert!(listed.stdout.contains("Expired stacks: 2 (1 with an expiry still to come"), "{}", listed.stdout);
        assert!(listed.stdout.contains("sweep-a") && listed.stdout.contains("sweep-b") && !listed.stdout.contains("sweep-c"), "{}", listed.stdout);
        assert!(listed.stdout.contains("subnet 4"), "objects by kind:\n{}", listed.stdout);
        assert!(listed.stderr.contains("Dry run: nothing was destroyed"), "{}", listed.stderr);
    }
    assert_eq!(cloud.changes(), before, "listing changed something");

    let swept = eksnet.run(&["sweep", "--region", REGION, "--yes"]).ok();
    assert!(swept.stderr.contains("swept stack `sweep-a`") && swept.stderr.contains("swept stack `sweep-b`"), "{}", swept.stderr);
    for gone in ["sweep-a", "sweep-b"] {
        assert!(ec2.describe_vpcs().filters(by_stack(gone)).send().await.unwrap().vpcs().is_empty(), "{gone} survived");
        assert!(ec2.describe_subnets().filters(by_stack(gone)).send().await.unwrap().subnets().is_empty(), "{gone} left subnets");
    }
    assert_eq!(ec2.describe_vpcs().vpc_ids(&untagged).send().await.unwrap().vpcs().len(), 1, "an untagged VPC survives");
    assert_eq!(eksnet.run(&["-f", "sweep-c.yaml", "plan", "--detailed-exitcode"]).code, 0, "the unexpired stack is whole");
    let nothing = eksnet.run(&["sweep", "--region", REGION, "--yes"]).ok();
    assert!(nothing.stderr.contains("No expired stacks in us-west-2 (1 not expired yet)"), "{}", nothing.stderr);

    // `apply --ttl never` takes the marks off; the stack is no longer a candidate.
    eksnet.run(&["-f", "sweep-c.yaml", "apply", "--auto-approve", "--ttl", "never"]).ok();
    let vpc = ec2.describe_vpcs().filters(by_stack("sweep-c")).send().await.unwrap().vpcs()[0].clone();
    assert!(!vpc.tags().iter().any(|t| t.key() == Some("eksnet:expires-at")), "{:?}", vpc.tags());
    eksnet.run(&["-f", "sweep-c.yaml", "destroy", "--auto-approve"]).ok();
}
