//! Changes that fail safe and plans that say plainly what they destroy (docs/plan-review.md).

use crate::common::{LocalCloud, reference_variant};

const REGION: &str = "ap-southeast-2";

#[tokio::test(flavor = "multi_thread")]
async fn a_private_subnet_change_updates_the_cluster_in_place_and_replaces_the_nodegroup_only_when_allowed() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_variant(&eksnet, "failsafe", "FailSafe", |t| t);
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    let created = eks.describe_cluster().name("FailSafe").send().await.unwrap().cluster().unwrap().created_at().cloned();

    // The third private subnet moves to another CIDR.
    reference_variant(&eksnet, "failsafe", "FailSafe", |t| t.replace("10.0.3.0/24]", "10.0.7.0/24]"));
    let headline = "This plan REPLACES the nodegroup default because subnet.private[\"ap-southeast-2c\"] cidr_block changed.";
    let plan = eksnet.run(&["-f", &stack, "plan"]).ok();
    assert!(plan.stdout.starts_with(headline), "the plan does not start with its headline:\n{}", plan.stdout);
    assert!(plan.stdout.contains("  ~ eks_cluster.main"), "the cluster takes the new subnet in place:\n{}", plan.stdout);
    assert!(!plan.stdout.contains("-/+ eks_cluster.main"), "{}", plan.stdout);

    // --auto-approve alone does not take the nodegroup down.
    let before = cloud.changes();
    let refused = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains(headline) && refused.stderr.contains("--allow-destroy-cluster"), "{}", refused.stderr);
    assert_eq!(cloud.changes(), before, "a refused apply changed something");

    let applied = eksnet.run(&["-f", &stack, "apply", "--auto-approve", "--allow-destroy-cluster"]).ok();
    assert!(applied.stderr.contains("Apply complete"), "{}", applied.stderr);
    let cluster = eks.describe_cluster().name("FailSafe").send().await.unwrap().cluster().unwrap().clone();
    assert_eq!(cluster.created_at().cloned(), created, "the cluster was not replaced");
    let ops: Vec<String> = cloud.requests().iter().filter_map(|r| r["operation"].as_str().map(str::to_string)).collect();
    assert!(!ops.iter().any(|o| o == "DeleteCluster"), "{ops:?}");
    // The cluster lets go of the old subnet (its control-plane ENIs move out) before that subnet
    // is deleted, then takes the new one: two config updates around the delete.
    let (updates, deletes) = (cloud.positions("UpdateClusterConfig"), cloud.positions("DeleteSubnet"));
    assert_eq!((updates.len(), deletes.len()), (2, 1), "{ops:?}");
    assert!(updates[0] < deletes[0] && deletes[0] < updates[1], "{ops:?}");
    assert_eq!(eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).code, 0);
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
}

#[test]
fn a_zone_the_account_lacks_stops_plan_and_apply_before_anything_is_created() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    // `d` is a valid zone letter, but this account has only a, b and c in ap-southeast-2.
    let stack = reference_variant(&eksnet, "zones", "Zones", |t| t.replace("availability_zones: [a, b, c]", "availability_zones: [a, b, d]"));
    eksnet.run(&["-f", &stack, "validate"]).ok();
    for command in [&["plan"][..], &["apply", "--auto-approve"][..]] {
        let out = eksnet.run(&[&["-f", stack.as_str()][..], command].concat());
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr.contains("availability zone `ap-southeast-2d` does not exist in ap-southeast-2 for this account")
                && out.stderr.contains("ap-southeast-2a, ap-southeast-2b, ap-southeast-2c")
                && out.stderr.contains("change `availability_zones`"),
            "{}",
            out.stderr
        );
    }
    assert_eq!(cloud.changes(), 0, "nothing is created");
    assert_eq!(cloud.positions("DescribeAvailabilityZones").len(), 2, "one call per run");
}
