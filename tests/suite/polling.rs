//! Waits follow the shape of each AWS transition (src/resources/wait.rs `SHAPES`): a creating
//! cluster is polled a few times while it cannot be ACTIVE yet and densely only once it can,
//! under the realistic profile with AWS time compressed (localcloud exports
//! EKSNET_AWS_TIME_SCALE).

use crate::common::{LocalCloud, reference_stack};

/// The position in the request log of the first call to `operation` after `after`.
fn first_after(cloud: &LocalCloud, operation: &str, after: usize) -> usize {
    cloud.positions(operation).into_iter().find(|&p| p > after).unwrap_or_else(|| panic!("no {operation} after position {after}"))
}

#[test]
fn a_creating_cluster_is_polled_at_most_40_times_under_the_realistic_profile() {
    // 60× faster than AWS: the cluster is CREATING for 9 s, the nodegroup 3 s, the add-on 1 s.
    let cloud = LocalCloud::start_with(&["--profile", "realistic", "--scale", "60"]);
    assert_eq!(cloud.var("EKSNET_AWS_TIME_SCALE"), "60.0");
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    // --poll-interval scaled alike: 5 s / 60
    let out = eksnet.run(&["-f", &stack, "apply", "--auto-approve", "--poll-interval", "83ms"]).ok();
    assert!(out.stderr.contains("Apply complete"), "{}", out.stderr);

    let log = cloud.requests();
    let count = |operation: &str, from: usize, to: usize| log[from..to].iter().filter(|r| r["operation"] == operation).count();
    let created = first_after(&cloud, "CreateCluster", 0);
    let addon = first_after(&cloud, "CreateAddon", created);
    let polls = count("DescribeCluster", created, addon);
    // the backoff before shapes (250 ms × 1.5 up to 5 s, scaled) polled about 100 times
    assert!((2..=40).contains(&polls), "{polls} DescribeCluster polls while the cluster was CREATING");

    let nodegroup = first_after(&cloud, "CreateNodegroup", 0);
    let polls = count("DescribeNodegroup", nodegroup, log.len());
    assert!((2..=40).contains(&polls), "{polls} DescribeNodegroup polls while the nodegroup was CREATING");

    // Answers that already hold what a read would give are not read again: a role CreateRole
    // just made has no policies, and AllocateAddress names the public IP.
    let role = first_after(&cloud, "CreateRole", 0);
    assert_eq!(count("ListAttachedRolePolicies", role, log.len()), 0, "a fresh role's policies were listed");
    let eip = first_after(&cloud, "AllocateAddress", 0);
    assert_eq!(count("DescribeAddresses", eip, log.len()), 0, "a fresh Elastic IP was read back");
}
