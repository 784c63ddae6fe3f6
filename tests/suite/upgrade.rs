//! A Kubernetes upgrade in one apply (docs/upgrades.md): the reference stack at 1.32 moved to
//! 1.34 goes one minor version at a time, each step the control plane, then the add-ons to the
//! default for the new version, then the nodegroup; a downgrade is refused before any change.

use std::process::Stdio;
use std::time::{Duration, Instant};

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
    // The pull-request form shows the same steps.
    let md = eksnet.run(&["-f", &stack, "plan", "--format", "markdown"]).ok().stdout;
    assert!(md.contains("> **Kubernetes upgrade 1.32 → 1.34**") && md.contains("1. eks_cluster.main  control plane to 1.33 (UpdateClusterVersion"), "{md}");

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

/// `cni.addon_versions` pins add-on versions, checked at plan time against what EKS offers for
/// the cluster's Kubernetes version; a nodegroup follows a newer AMI release only with
/// `release_version: latest`, and `plan --refresh-only` says when one is available.
#[tokio::test(flavor = "multi_thread")]
async fn pinned_add_on_versions_and_the_latest_ami_release() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    const PINNED: &str = "ReleaseEKS";
    let stack = reference_variant(&eksnet, "pinned-demo", PINNED, |t| {
        t.replace(
            "external_snat: false",
            "external_snat: false\n  addons: [kube-proxy]\n  addon_versions:\n    vpc-cni: v1.19.2-eksbuild.1\n    kube-proxy: v1.32.3-eksbuild.2",
        )
    });
    // kube-proxy is built per Kubernetes minor: a 1.32 build is refused for the stack's 1.33, in
    // the stack's words, before anything is created.
    let text = std::fs::read_to_string(&stack).unwrap();
    let line = text.lines().position(|l| l.contains("kube-proxy: v1.32.3")).unwrap() + 1;
    let column = text.lines().nth(line - 1).unwrap().find('v').unwrap() + 1;
    for args in [vec!["-f", stack.as_str(), "plan"], vec!["-f", stack.as_str(), "apply", "--auto-approve"]] {
        let refused = eksnet.run(&args);
        assert_eq!(refused.code, 1, "{}", refused.stderr);
        assert!(refused.stderr.contains("error: EKS does not offer kube-proxy v1.32.3-eksbuild.2 for Kubernetes 1.33"), "{}", refused.stderr);
        assert!(refused.stderr.contains(&format!("--> {stack}:{line}:{column}")), "{}", refused.stderr);
        assert!(
            refused.stderr.contains(
                "= help: did you mean `v1.33.3-eksbuild.2`? EKS offers v1.33.3-eksbuild.2, v1.33.0-eksbuild.1 (default v1.33.3-eksbuild.2) for Kubernetes 1.33"
            ),
            "{}",
            refused.stderr
        );
        assert!(refused.stderr.contains("nothing was created"), "{}", refused.stderr);
    }
    assert_eq!(cloud.changes(), 0, "a refused pin creates nothing");

    std::fs::write(&stack, text.replace("kube-proxy: v1.32.3-eksbuild.2", "kube-proxy: v1.33.0-eksbuild.1")).unwrap();
    let plan = eksnet.run(&["-f", &stack, "plan"]).ok().stdout;
    assert!(plan.contains("vpc-cni v1.19.2-eksbuild.1") && plan.contains("kube-proxy v1.33.0-eksbuild.1"), "{plan}");
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    for (name, pinned) in [("vpc-cni", "v1.19.2-eksbuild.1"), ("kube-proxy", "v1.33.0-eksbuild.1")] {
        let a = eks.describe_addon().cluster_name(PINNED).addon_name(name).send().await.unwrap();
        assert_eq!(a.addon().unwrap().addon_version(), Some(pinned), "{name}: the pin, not EKS's default");
    }
    let release = || {
        let eks = eks.clone();
        async move {
            let ng = eks.describe_nodegroup().cluster_name(PINNED).nodegroup_name("default").send().await.unwrap();
            ng.nodegroup().unwrap().release_version().unwrap().to_string()
        }
    };
    let first = release().await;
    assert!(first.starts_with("1.33."), "{first}");

    // EKS publishes a newer AMI release: shown as available, not applied.
    let published: serde_json::Value = serde_json::from_str(&cloud.control(&["ami-release", "1.33"])).unwrap();
    let newer = published["release"].as_str().unwrap().to_string();
    let refresh = eksnet.run(&["-f", &stack, "plan", "--refresh-only"]).ok().stdout;
    assert!(refresh.contains(&format!("eks_nodegroup.default: AMI release {newer} available (the nodes run {first})")), "{refresh}");
    assert_eq!(eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).code, 0, "without `release_version: latest` the nodes stay");

    // `release_version: latest`: apply moves the nodes to it (UpdateNodegroupVersion releaseVersion).
    let text = std::fs::read_to_string(&stack).unwrap();
    std::fs::write(&stack, text.replace("scaling: {min: 1, desired: 1, max: 2}", "scaling: {min: 1, desired: 1, max: 2}\n    release_version: latest"))
        .unwrap();
    let plan = eksnet.run(&["-f", &stack, "plan"]).ok().stdout;
    assert!(plan.contains(&format!("release_version: \"{first}\" → \"{newer}\"")), "{plan}");
    let before = cloud.positions("UpdateNodegroupVersion").len();
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert_eq!(cloud.positions("UpdateNodegroupVersion").len(), before + 1);
    assert_eq!(release().await, newer);
    assert_eq!(eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).code, 0, "no changes once the nodes run the newest release");
    let refresh = eksnet.run(&["-f", &stack, "plan", "--refresh-only"]).ok().stdout;
    assert!(!refresh.contains("available"), "{refresh}");
}

/// The version each of the state's records says, by address (`state pull`).
fn recorded_version(eksnet: &crate::common::Eksnet, stack: &str, address: &str) -> String {
    let state: serde_json::Value = serde_json::from_str(&eksnet.run(&["-f", stack, "state", "pull"]).ok().stdout).unwrap();
    state["resources"][address]["attrs"]["version"].as_str().unwrap_or_default().to_string()
}

/// A nodegroup update EKS reports Failed (DescribeUpdate errors) stops the upgrade with EKS's
/// error, the state says what exists (control plane moved, nodes not), and the next apply
/// resumes: the nodes catch up first, then the next minor version, without a second update of
/// what was done.
#[tokio::test(flavor = "multi_thread")]
async fn a_failed_node_update_stops_the_upgrade_and_the_next_apply_resumes_it() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    const RESUMED: &str = "ResumeEKS";
    let stack = reference_variant(&eksnet, "resume-demo", RESUMED, |t| t.replace("version: \"1.33\"", "version: \"1.32\""));
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    std::fs::write(&stack, std::fs::read_to_string(&stack).unwrap().replace("version: \"1.32\"", "version: \"1.34\"")).unwrap();
    cloud.fault(serde_json::json!({"service": "eks-update", "operation": "UpdateNodegroupVersion", "error": "NodeCreationFailure",
        "message": "Instances failed to join the kubernetes cluster", "times": 1}));

    let failed = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("NodeCreationFailure: Instances failed to join the kubernetes cluster"), "EKS's error as it reports it:\n{}", failed.stderr);
    assert!(!failed.stderr.contains("Next step of the Kubernetes upgrade"), "the upgrade stops at the failed step:\n{}", failed.stderr);
    assert_eq!(cloud.positions("UpdateClusterVersion").len(), 1, "no second control-plane step after a failed one");
    // The state is exact: the control plane moved to 1.33, the nodes did not.
    assert_eq!(recorded_version(&eksnet, &stack, "eks_cluster.main"), "1.33");
    assert_eq!(recorded_version(&eksnet, &stack, "eks_nodegroup.default"), "1.32");

    let plan = eksnet.run(&["-f", &stack, "plan"]).ok().stdout;
    assert!(plan.contains("nodegroups default catch up with the control plane at 1.33 first"), "{plan}");
    let resumed = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert!(resumed.stderr.contains("Next step of the Kubernetes upgrade: 1.33 → 1.34."), "{}", resumed.stderr);
    assert_eq!(cloud.positions("UpdateClusterVersion").len(), 2, "1.33 was not asked again; 1.34 once");
    let nodes = cloud.positions("UpdateNodegroupVersion");
    let versions = cloud.positions("UpdateClusterVersion");
    assert_eq!(nodes.len(), 3, "the failed one, the retry at 1.33, then 1.34");
    assert!(nodes[1] < versions[1] && versions[1] < nodes[2], "the nodes catch up before the control plane moves on: {nodes:?} {versions:?}");
    assert_eq!(eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).code, 0);
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    let ng = eks.describe_nodegroup().cluster_name(RESUMED).nodegroup_name("default").send().await.unwrap();
    assert_eq!(ng.nodegroup().unwrap().version(), Some("1.34"));
}

/// A PodDisruptionBudget that lets no pod go blocks the drain of a node update: EKS fails it with
/// PodEvictionFailure; `--force-upgrade`, named in the plan, sends UpdateNodegroupVersion with
/// `force` and the update goes through.
#[tokio::test(flavor = "multi_thread")]
async fn a_budget_blocked_node_update_fails_and_goes_through_with_force_upgrade() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    const BUDGET: &str = "BudgetEKS";
    std::fs::write(
        eksnet.path("budget.yaml"),
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: nginx\n  namespace: test-namespace\n\
         spec:\n  minAvailable: 2\n  selector:\n    matchLabels:\n      role: test-role\n",
    )
    .unwrap();
    let stack = reference_variant(&eksnet, "budget-demo", BUDGET, |t| {
        t.replace("version: \"1.33\"", "version: \"1.32\"").replace("manifests:", "manifests:\n  - path: budget.yaml\n    vars: {}")
    });
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    std::fs::write(&stack, std::fs::read_to_string(&stack).unwrap().replace("version: \"1.32\"", "version: \"1.33\"")).unwrap();

    let failed = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(failed.stderr.contains("PodEvictionFailure: Reached max retries while trying to evict pods from nodes in node group default"), "{}", failed.stderr);
    assert_eq!(recorded_version(&eksnet, &stack, "eks_nodegroup.default"), "1.32");

    let plan = eksnet.run(&["-f", &stack, "plan", "--force-upgrade"]).ok().stdout;
    assert!(plan.contains("--force-upgrade: nodegroup version updates delete the pods a PodDisruptionBudget protects"), "{plan}");
    assert!(plan.contains("(UpdateNodegroupVersion force): eks_nodegroup.default"), "{plan}");
    let before = cloud.requests().len();
    eksnet.run(&["-f", &stack, "apply", "--auto-approve", "--force-upgrade"]).ok();
    let forced: Vec<serde_json::Value> = cloud.requests()[before..].iter().filter(|r| r["operation"] == "UpdateNodegroupVersion").cloned().collect();
    assert_eq!(forced.len(), 1, "{forced:?}");
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    let ng = eks.describe_nodegroup().cluster_name(BUDGET).nodegroup_name("default").send().await.unwrap();
    assert_eq!(ng.nodegroup().unwrap().version(), Some("1.33"));
    let updates = eks.list_updates().name(BUDGET).nodegroup_name("default").send().await.unwrap();
    let last = updates.update_ids().last().unwrap().clone();
    let u = eks.describe_update().name(BUDGET).nodegroup_name("default").update_id(last).send().await.unwrap();
    assert!(u.update().unwrap().params().iter().any(|p| p.r#type().map(|t| t.as_str()) == Some("Force") && p.value() == Some("true")), "{u:?}");
}

/// EKS's upgrade insights for the next version show in the plan as warnings; an ERROR one stops
/// apply before any change, and `--ignore-insights` goes ahead.
#[tokio::test(flavor = "multi_thread")]
async fn an_error_upgrade_insight_stops_apply_unless_ignored() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    const INSIGHTS: &str = "InsightEKS";
    let stack = reference_variant(&eksnet, "insight-demo", INSIGHTS, |t| t.replace("version: \"1.33\"", "version: \"1.32\""));
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    cloud.control(&[
        "insight",
        &serde_json::json!({"cluster": INSIGHTS, "kubernetesVersion": "1.33", "reason": "Deprecated API usage detected within last 30 days",
            "recommendation": "Move FlowSchemas to flowcontrol.apiserver.k8s.io/v1", "usage": "/apis/flowcontrol.apiserver.k8s.io/v1beta3/flowschemas"})
        .to_string(),
    ]);
    std::fs::write(&stack, std::fs::read_to_string(&stack).unwrap().replace("version: \"1.32\"", "version: \"1.33\"")).unwrap();

    let plan = eksnet.run(&["-f", &stack, "plan"]).ok().stdout;
    assert!(
        plan.contains("EKS's upgrade insights for 1.33 report ERROR (Deprecated APIs removed in Kubernetes v1.33): apply stops unless --ignore-insights"),
        "{plan}"
    );
    assert!(
        plan.contains("EKS upgrade insight for Kubernetes 1.33: Deprecated APIs removed in Kubernetes v1.33 is ERROR: Deprecated API usage detected within last 30 days EKS recommends: Move FlowSchemas to flowcontrol.apiserver.k8s.io/v1"),
        "{plan}"
    );
    let changes = cloud.changes();
    let stopped = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(stopped.code, 1, "{}", stopped.stderr);
    assert!(
        stopped.stderr.contains("EKS's upgrade insights for Kubernetes 1.33 report ERROR: Deprecated APIs removed in Kubernetes v1.33. Nothing was changed."),
        "{}",
        stopped.stderr
    );
    assert!(stopped.stderr.contains("pass --ignore-insights"), "{}", stopped.stderr);
    assert_eq!(cloud.changes(), changes, "nothing changed");

    eksnet.run(&["-f", &stack, "apply", "--auto-approve", "--ignore-insights"]).ok();
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    let c = eks.describe_cluster().name(INSIGHTS).send().await.unwrap();
    assert_eq!(c.cluster().unwrap().version(), Some("1.33"));
}

/// eksnet killed (kill -9) while EKS moves the control plane: the next apply waits for the update
/// in flight (the cluster reads UPDATING) instead of asking for another, then finishes the step.
#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_killed_mid_update_is_resumed_by_the_next_apply() {
    // AWS's durations 60× faster: the control-plane update takes 8 s, long enough to be killed in.
    let cloud = LocalCloud::start_with(&["--profile", "realistic", "--scale", "60", "--strict"]);
    let eksnet = cloud.eksnet();
    const KILLED: &str = "KilledEKS";
    let stack = reference_variant(&eksnet, "killed-upgrade", KILLED, |t| t.replace("version: \"1.33\"", "version: \"1.32\""));
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    std::fs::write(&stack, std::fs::read_to_string(&stack).unwrap().replace("version: \"1.32\"", "version: \"1.33\"")).unwrap();

    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    let status = || async { eks.describe_cluster().name(KILLED).send().await.unwrap().cluster().unwrap().status().unwrap().as_str().to_string() };
    let mut child = eksnet.command(&["-f", &stack, "apply", "--auto-approve"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("eksnet starts");
    // Killed once EKS has started the control-plane update, which then goes on without eksnet.
    let deadline = Instant::now() + Duration::from_secs(120);
    while status().await != "UPDATING" {
        assert!(Instant::now() < deadline, "the control plane did not start updating within 2 minutes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    assert_eq!(cloud.positions("UpdateClusterVersion").len(), 1);

    let resumed = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert_eq!(cloud.positions("UpdateClusterVersion").len(), 1, "the update in flight was waited for, not asked again:\n{}", resumed.stderr);
    assert_eq!(cloud.positions("UpdateNodegroupVersion").len(), 1, "{}", resumed.stderr);
    assert_eq!(eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).code, 0);
    let cluster = eks.describe_cluster().name(KILLED).send().await.unwrap();
    assert_eq!(cluster.cluster().unwrap().version(), Some("1.33"));
    let ng = eks.describe_nodegroup().cluster_name(KILLED).nodegroup_name("default").send().await.unwrap();
    assert_eq!(ng.nodegroup().unwrap().version(), Some("1.33"));
}
