//! Kubernetes manifests from templates: applied after the cluster, CNI and nodes with
//! server-side apply, seen through real kubectl, changed, drifted, and deleted first on destroy.

use std::process::Command;

use serde_json::Value;

use crate::common::{LocalCloud, reference_stack, repo};

fn kubectl(cloud: &LocalCloud, kubeconfig: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("kubectl").envs(cloud.env.iter().map(|(k, v)| (k, v))).env("KUBECONFIG", kubeconfig).args(args).output().expect("kubectl runs");
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into()
}

#[test]
fn templates_apply_change_drift_and_go_first() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let kubeconfig = eksnet.path("kubeconfig");
    eksnet.run(&["-f", &stack, "kubeconfig", "--write", kubeconfig.to_str().unwrap()]).ok();
    let outputs: Value = serde_json::from_str(&eksnet.run(&["-f", &stack, "output", "--json"]).ok().stdout).unwrap();

    // What a user checks: the namespace, the policy with the pod group's id, the deployment.
    let ns: Value = serde_json::from_str(&kubectl(&cloud, &kubeconfig, &["get", "ns", "test-namespace", "-o", "json"])).unwrap();
    assert_eq!(ns["metadata"]["labels"]["app.kubernetes.io/managed-by"], "eksnet");
    let sgp: Value = serde_json::from_str(&kubectl(
        &cloud,
        &kubeconfig,
        &["get", "securitygrouppolicies", "-n", "test-namespace", "my-security-group-policy", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(sgp["spec"]["securityGroups"]["groupIds"], serde_json::json!([outputs["security_group_ids"]["pods"]]));
    assert_eq!(sgp["spec"]["podSelector"]["matchLabels"]["role"], "test-role");
    let deploy: Value =
        serde_json::from_str(&kubectl(&cloud, &kubeconfig, &["get", "deploy", "-n", "test-namespace", "nginx", "-o", "json", "--show-managed-fields"]))
            .unwrap();
    assert_eq!(deploy["spec"]["replicas"], 2);
    assert_eq!(deploy["spec"]["template"]["metadata"]["labels"]["role"], "test-role");
    assert_eq!(deploy["status"]["availableReplicas"], 2);
    let managers: Vec<&str> = deploy["metadata"]["managedFields"].as_array().unwrap().iter().filter_map(|m| m["manager"].as_str()).collect();
    assert!(managers.contains(&"eksnet"), "{managers:?}");
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();

    // A changed template value: the plan shows exactly that field, apply changes it.
    let text = std::fs::read_to_string(reference_stack()).unwrap();
    let templates = repo().join("templates").display().to_string();
    let changed = text.replace("../templates", &templates).replace("replicas: 2}", "replicas: 3}");
    let changed_stack = eksnet.path("changed.yaml");
    std::fs::write(&changed_stack, changed).unwrap();
    let changed_stack = changed_stack.display().to_string();
    let plan = eksnet.run(&["-f", &changed_stack, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(plan.stdout.contains("~ k8s_manifest.deployment[\"test-namespace/nginx\"]"), "{}", plan.stdout);
    assert!(plan.stdout.contains("object[\"spec\"][\"replicas\"]: 2 → 3"), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change, 0 to destroy."), "{}", plan.stdout);
    eksnet.run(&["-f", &changed_stack, "apply", "--auto-approve"]).ok();
    assert_eq!(kubectl(&cloud, &kubeconfig, &["get", "deploy", "-n", "test-namespace", "nginx", "-o", "jsonpath={.spec.replicas}"]), "3");

    // Drift: a managed field changed by hand, then the object deleted by hand.
    kubectl(&cloud, &kubeconfig, &["patch", "deploy", "-n", "test-namespace", "nginx", "--type", "merge", "-p", r#"{"spec":{"replicas":7}}"#]);
    let drift = eksnet.run(&["-f", &changed_stack, "plan"]).ok();
    assert!(drift.stdout.contains("object[\"spec\"][\"replicas\"]: 7 → 3"), "{}", drift.stdout);
    // Without --force-conflicts, apply refuses to take the field back from the other manager.
    let conflict = eksnet.run(&["-f", &changed_stack, "apply", "--auto-approve"]);
    assert_eq!(conflict.code, 1, "{}", conflict.stderr);
    assert!(conflict.stderr.contains("Conflict") && conflict.stderr.contains("--force-conflicts"), "{}", conflict.stderr);
    eksnet.run(&["-f", &changed_stack, "apply", "--auto-approve", "--force-conflicts"]).ok();
    assert_eq!(kubectl(&cloud, &kubeconfig, &["get", "deploy", "-n", "test-namespace", "nginx", "-o", "jsonpath={.spec.replicas}"]), "3");
    kubectl(&cloud, &kubeconfig, &["delete", "deploy", "-n", "test-namespace", "nginx"]);
    let gone = eksnet.run(&["-f", &changed_stack, "plan"]).ok();
    assert!(gone.stdout.contains("+ k8s_manifest.deployment[\"test-namespace/nginx\"]  apps/v1 Deployment  (was deleted outside eksnet)"), "{}", gone.stdout);
    eksnet.run(&["-f", &changed_stack, "apply", "--auto-approve"]).ok();

    // Destroy deletes the manifests (namespace last of them) before the nodegroup.
    let before = cloud.requests().len();
    eksnet.run(&["-f", &changed_stack, "destroy", "--auto-approve"]).ok();
    let log = cloud.requests();
    let position = |pred: &dyn Fn(&Value) -> bool| log.iter().enumerate().skip(before).find(|(_, r)| pred(r)).map(|(i, _)| i);
    let delete_of =
        |what: &'static str| move |r: &Value| r["service"] == "kube" && r["operation"].as_str().is_some_and(|o| o.starts_with("DELETE") && o.contains(what));
    let deployment = position(&delete_of("deployments")).expect("the deployment was deleted");
    let namespace = position(&delete_of("namespaces")).expect("the namespace was deleted");
    let nodegroup = position(&|r: &Value| r["operation"] == "DeleteNodegroup").expect("the nodegroup was deleted");
    assert!(deployment < namespace && namespace < nodegroup, "deployment {deployment}, namespace {namespace}, nodegroup {nodegroup}");
}

#[test]
fn daemonset_mode_sets_aws_node_env_and_eniconfigs() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let text = std::fs::read_to_string(reference_stack()).unwrap();
    let templates = repo().join("templates").display().to_string();
    let stack = eksnet.path("daemonset.yaml");
    std::fs::write(&stack, text.replace("../templates", &templates).replace("mode: addon", "mode: daemonset")).unwrap();
    let stack = stack.display().to_string();
    let plan = eksnet.run(&["-f", &stack, "plan"]).ok();
    assert!(plan.stdout.contains("+ k8s_manifest.daemonset[\"kube-system/aws-node\"]") && !plan.stdout.contains("eks_addon.vpc_cni"), "{}", plan.stdout);
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert!(cloud.positions("CreateAddon").is_empty());
    let kubeconfig = eksnet.path("kubeconfig");
    eksnet.run(&["-f", &stack, "kubeconfig", "--write", kubeconfig.to_str().unwrap()]).ok();
    let ds: Value = serde_json::from_str(&kubectl(&cloud, &kubeconfig, &["get", "ds", "-n", "kube-system", "aws-node", "-o", "json"])).unwrap();
    let env = |container: &Value, name: &str| container["env"].as_array().unwrap().iter().find(|e| e["name"] == name).map(|e| e["value"].clone());
    let node = &ds["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(env(node, "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG"), Some("true".into()));
    assert_eq!(env(node, "ENI_CONFIG_LABEL_DEF"), Some("topology.kubernetes.io/zone".into()));
    assert_eq!(env(node, "ENABLE_POD_ENI"), Some("true".into()));
    assert_eq!(env(&ds["spec"]["template"]["spec"]["initContainers"][0], "DISABLE_TCP_EARLY_DEMUX"), Some("true".into()));
    let outputs: Value = serde_json::from_str(&eksnet.run(&["-f", &stack, "output", "--json"]).ok().stdout).unwrap();
    for (i, az) in ["a", "b", "c"].iter().enumerate() {
        let eni: Value = serde_json::from_str(&kubectl(&cloud, &kubeconfig, &["get", "eniconfigs", &format!("ap-southeast-2{az}"), "-o", "json"])).unwrap();
        assert_eq!(eni["spec"]["subnet"], outputs["intra_subnet_ids"][i]);
        assert_eq!(eni["spec"]["securityGroups"], serde_json::json!([outputs["cluster_security_group_id"], outputs["security_group_ids"]["coredns"]]));
    }
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
}
