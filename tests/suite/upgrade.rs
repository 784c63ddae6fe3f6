//! A Kubernetes upgrade in one apply (docs/upgrades.md): the reference stack at 1.32 moved to
//! 1.34 goes one minor version at a time, each step the control plane, then the add-ons to the
//! default for the new version, then the nodegroup; a downgrade is refused before any change.

use crate::common::{LocalCloud, reference_variant};

const REGION: &str = "ap-southeast-2";
const CLUSTER: &str = "UpgradeEKS";

/// The default version of `addon` for Kubernetes `k8s`, as EKS lists it.
async fn default_version(eks: &aws_sdk_eks::Client, addon: &str, k8s: &str) -> String {
    let out = eks.describe_addon_versions().addon_name(addon).kubernetes_version(k8s).send().await.unwrap();
    let versions = out.addons()[0].addon_versions();
    let default = versions.iter().find(|v| v.compatibilities().iter().any(|c| c.cluster_version() == Some(k8s) && c.default_version()));
    default.and_then(|v| v.addon_version()).unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_over_two_minor_versions_runs_in_the_order_eks_requires() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_variant(&eksnet, "upgrade-demo", CLUSTER, |t| {
        t.replace("version: \"1.33\"", "version: \"1.32\"").replace("external_snat: false", "external_snat: false\n  addons: [kube-proxy, coredns]")
    });
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    let addon = |name: &'static str| {
        let eks = eks.clone();
        async move { eks.describe_addon().cluster_name(CLUSTER).addon_name(name).send().await.unwrap().addon().unwrap().addon_version().unwrap().to_string() }
    };
    assert_eq!(addon("kube-proxy").await, default_version(&eks, "kube-proxy", "1.32").await);

    std::fs::write(&stack, std::fs::read_to_string(&stack).unwrap().replace("version: \"1.32\"", "version: \"1.34\"")).unwrap();
    let plan = eksnet.run(&["-f", &stack, "plan"]).ok().stdout;
    assert!(plan.contains("Kubernetes upgrade 1.32 → 1.34, one minor version at a time"), "{plan}");
    assert!(plan.contains("then 1.33 → 1.34: the same steps"), "{plan}");
    // This plan's step, in the order apply performs it.
    let at = |needle: &str| plan.find(needle).unwrap_or_else(|| panic!("`{needle}` not in the plan:\n{plan}"));
    let vpc_cni_133 = default_version(&eks, "vpc-cni", "1.33").await;
    let cluster = at("1. eks_cluster.main  control plane to 1.33 (UpdateClusterVersion");
    assert!(cluster < at(&format!("eks_addon.vpc_cni  vpc-cni to {vpc_cni_133}, for 1.33 (UpdateAddon")), "{plan}");
    assert!(at("eks_addon.kube_proxy  kube-proxy to") < at("eks_nodegroup.default  nodes to 1.33 (UpdateNodegroupVersion"), "{plan}");
    assert!(at("eks_addon.vpc_cni  vpc-cni to") < at("eks_nodegroup.default  nodes to 1.33"), "{plan}");

    let before = cloud.requests().len();
    let applied = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert!(applied.stderr.contains("Next step of the Kubernetes upgrade: 1.33 → 1.34."), "{}", applied.stderr);

    // From the request log: per step, the control plane's update (waited on until Successful),
    // then the add-ons, then the nodegroup; CoreDNS, which runs on the nodes, after them.
    let log: Vec<(String, String)> =
        cloud.requests()[before..].iter().map(|r| (r["operation"].as_str().unwrap_or("").to_string(), r["status"].to_string())).collect();
    let ops: Vec<&str> = log.iter().filter(|(_, s)| s.starts_with('2')).map(|(o, _)| o.as_str()).collect();
    let pos = |op: &str| -> Vec<usize> { ops.iter().enumerate().filter(|(_, o)| **o == op).map(|(i, _)| i).collect() };
    let (versions, addons, nodes) = (pos("UpdateClusterVersion"), pos("UpdateAddon"), pos("UpdateNodegroupVersion"));
    // Five add-on updates: vpc-cni and kube-proxy at each step, CoreDNS once (its default is the
    // same build for 1.33 and 1.34).
    assert_eq!((versions.len(), nodes.len(), addons.len()), (2, 2, 5), "{ops:?}");
    for step in 0..2 {
        let (version, node) = (versions[step], nodes[step]);
        let before_nodes = addons.iter().filter(|&&a| a > version && a < node).count();
        assert_eq!(before_nodes, 2, "vpc-cni and kube-proxy move after the control plane, before the nodes: {ops:?}");
        let first = *addons.iter().find(|&&a| a > version).unwrap();
        assert!(ops[version..first].contains(&"DescribeUpdate"), "the control plane's update is waited on before the add-ons move: {ops:?}");
    }
    let coredns = addons[2];
    assert!(nodes[0] < coredns && coredns < versions[1], "CoreDNS, which runs on the nodes, after them: {ops:?}");
    assert!(nodes[0] < versions[1], "the nodes reach 1.33 before the control plane moves to 1.34: {ops:?}");
    assert!(log.iter().all(|(o, s)| !(o.starts_with("Update") && s.starts_with('4'))), "nothing EKS refused: {log:?}");

    let code = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).code;
    assert_eq!(code, 0, "no changes after the upgrade");
    let c = eks.describe_cluster().name(CLUSTER).send().await.unwrap();
    assert_eq!(c.cluster().unwrap().version(), Some("1.34"));
    let ng = eks.describe_nodegroup().cluster_name(CLUSTER).nodegroup_name("default").send().await.unwrap();
    assert_eq!(ng.nodegroup().unwrap().version(), Some("1.34"));
    for name in ["vpc-cni", "kube-proxy", "coredns"] {
        assert_eq!(addon(name).await, default_version(&eks, name, "1.34").await, "{name}");
    }

    // Back to 1.33: refused before any change, with the way out.
    std::fs::write(&stack, std::fs::read_to_string(&stack).unwrap().replace("version: \"1.34\"", "version: \"1.33\"")).unwrap();
    let changes = cloud.changes();
    let refused = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(refused.code, 1);
    assert!(refused.stderr.contains("EKS cannot move the cluster back from Kubernetes 1.34 to 1.33"), "{}", refused.stderr);
    assert!(refused.stderr.contains("help: set `cluster.version: \"1.34\"` back"), "{}", refused.stderr);
    assert_eq!(cloud.changes(), changes, "nothing changed");
}
