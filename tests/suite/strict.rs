//! eksnet against localcloud's strict switches (docs/aws-behaviour.md): each test turns one
//! AWS behaviour on and checks that eksnet survives it.

use crate::common::{LocalCloud, reference_stack};

/// A private localcloud with the given strict settings on top of `--profile none`.
fn cloud_with(config: &str) -> LocalCloud {
    LocalCloud::start_with(&["--profile", "none", "--config", config])
}

/// Row 1: right after a create, EC2 answers `*.NotFound` for the new id (and leaves it out of
/// listings); eksnet retries follow-ups on ids it just created, and the stack converges.
#[tokio::test(flavor = "multi_thread")]
async fn ec2_consistency_new_ids_are_retried_until_visible() {
    let cloud = cloud_with(r#"{"ec2_consistency": true}"#);
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let apply = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "apply under EC2 eventual consistency failed\nstdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    // The follow-ups were refused at first (the switch was on) and retried.
    let refused = cloud.requests().iter().filter(|r| r["service"] == "ec2" && r["status"] == 400).count();
    assert!(refused > 0, "localcloud refused no follow-up: the switch did not apply");
    let plan = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "not converged after apply\nstdout:\n{}\nstderr:\n{}", plan.stdout, plan.stderr);
}

/// Real kubectl through the kubeconfig eksnet writes (its user runs `eksnet token`).
fn kubectl(cloud: &LocalCloud, kubeconfig: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("kubectl")
        .envs(cloud.env.iter().map(|(k, v)| (k, v)))
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Row 3: EKS tokens expire (15 minutes; here 5 s). A Deployment that becomes available only
/// after the token eksnet started with expired is still waited for to the end: every
/// Kubernetes call of the wait gets a fresh token when the old one is refused.
#[test]
fn token_expiry_a_wait_outlasting_the_token_still_succeeds() {
    let cloud = cloud_with(r#"{"token_expiry_scaled": true, "token_lifetime_seconds": 5}"#);
    let eksnet = cloud.eksnet();
    let stack = crate::common::reference_copy(&eksnet, "tokens", "TokensEKS");
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();

    // A Deployment whose pod can only run once a node carries a label the test sets later.
    let manifest = eksnet.path("waiting.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: waiting, namespace: test-namespace}
spec:
  replicas: 1
  selector: {matchLabels: {app: waiting}}
  template:
    metadata: {labels: {app: waiting}}
    spec:
      nodeSelector: {eksnet-test/ready: \"yes\"}
      containers: [{name: app, image: public.ecr.aws/nginx/nginx:1.27}]
",
    )
    .unwrap();
    let text = std::fs::read_to_string(&stack).unwrap();
    std::fs::write(&stack, format!("{text}  - path: {}\n    wait: true\n", manifest.display())).unwrap();

    let kubeconfig = eksnet.path("kubeconfig");
    eksnet.run(&["-f", &stack, "kubeconfig", "--write", kubeconfig.to_str().unwrap()]).ok();
    let apply =
        eksnet.command(&["-f", &stack, "apply", "--auto-approve"]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    // Until the Deployment exists, then past the token's lifetime.
    let start = std::time::Instant::now();
    while !kubectl(&cloud, &kubeconfig, &["get", "deploy", "-n", "test-namespace", "waiting"]).0 {
        assert!(start.elapsed() < std::time::Duration::from_secs(120), "the Deployment never appeared");
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    std::thread::sleep(std::time::Duration::from_secs(8));
    let (ok, out) = kubectl(&cloud, &kubeconfig, &["label", "nodes", "--all", "eksnet-test/ready=yes"]);
    assert!(ok, "{out}");
    let out = apply.wait_with_output().unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "apply failed across the token's expiry\nstdout:\n{stdout}\nstderr:\n{stderr}");
}

/// Rows 2a and 2b: add-ons pass through DEGRADED (coredns until nodes exist, vpc-cni after each
/// create and update) and EKS updates answer an id before they start (the object still reads
/// ACTIVE with its old values). Creates wait through DEGRADED; updates of the cluster, the
/// nodegroup and the add-on are waited on by update id, so the run ends converged.
#[test]
fn addon_degraded_and_update_lag_are_waited_through() {
    let cloud = cloud_with(r#"{"addon_degraded": true, "update_lag": true}"#);
    let eksnet = cloud.eksnet();
    // With coredns, which stays DEGRADED until the nodegroup is ACTIVE.
    let stack = crate::common::reference_variant(&eksnet, "updates", "UpdatesEKS", |t| {
        t.replace("  external_snat: false", "  addons: [coredns]\n  external_snat: false")
    });
    let apply = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "create through DEGRADED failed\nstdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);

    // One change to each: the cluster's logging, the VPC CNI's configuration, the nodegroup's size.
    let text = std::fs::read_to_string(&stack).unwrap();
    let changed = text
        .replace("external_snat: false", "external_snat: true")
        .replace("scaling: {min: 1, desired: 1, max: 2}", "scaling: {min: 1, desired: 2, max: 2}")
        .replace("authentication_mode: API_AND_CONFIG_MAP", "authentication_mode: API_AND_CONFIG_MAP\n  logging: [api]");
    assert_ne!(text, changed);
    std::fs::write(&stack, changed).unwrap();
    let apply = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "updates failed\nstdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    // What the run recorded is what the updates made (not the old values a lagging update
    // still showed right after the call).
    let state: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(eksnet.path(".eksnet/updates.state.json")).unwrap()).unwrap();
    let cni = &state["resources"]["eks_addon.vpc_cni"]["attrs"]["configuration_values"];
    assert_eq!(cni["env"]["AWS_VPC_K8S_CNI_EXTERNALSNAT"], "true", "the add-on's update was not waited for: {cni:#}");
    let ng =
        state["resources"].as_object().unwrap().iter().find(|(a, _)| a.starts_with("eks_nodegroup.")).map(|(_, r)| r["attrs"]["scaling"]["desired"].clone());
    assert_eq!(ng, Some(serde_json::json!(2)), "the nodegroup's update was not waited for");
    let logging = &state["resources"]["eks_cluster.main"]["attrs"]["logging"];
    assert_eq!(logging, &serde_json::json!(["api"]), "the cluster's update was not waited for");
    let plan = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "not converged after the updates\nstdout:\n{}\nstderr:\n{}", plan.stdout, plan.stderr);
}

/// Row 5 and issue item 11: EKS refuses tag values with characters other than letters,
/// digits, spaces and `+ - = . _ : / @`; an access entry's address holds `[` and `"`. eksnet
/// writes the address tag in a form AWS accepts and reads it back: apply succeeds and the
/// next plan finds every object (ownership intact), nothing to change.
/// Issue item 5 (row 9): the stack also lists the cluster's creator, whose entry EKS made at
/// CreateCluster; eksnet adopts it (tags it) instead of proposing it again in every plan.
#[tokio::test(flavor = "multi_thread")]
async fn tag_rules_keyed_addresses_are_tagged_as_aws_allows() {
    let cloud = cloud_with(r#"{"tag_rules": true}"#);
    let eksnet = cloud.eksnet();
    let admin = "arn:aws:iam::123456789012:role/platform-admin";
    // localcloud's caller (moto's default identity), as EKS records it: the IAM principal.
    let creator = "arn:aws:iam::123456789012:user/moto";
    let stack = crate::common::reference_variant(&eksnet, "tagged", "TaggedEKS", |t| {
        t.replace("  authentication_mode: API_AND_CONFIG_MAP", &format!("  admins: [{admin}, {creator}]\n  authentication_mode: API_AND_CONFIG_MAP"))
    });
    let apply = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "apply under tag rules failed\nstdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);
    let config = cloud.config("ap-southeast-2").await;
    let eks = aws_sdk_eks::Client::new(&config);
    let entry = eks.describe_access_entry().cluster_name("TaggedEKS").principal_arn(admin).send().await.unwrap();
    let tags = entry.access_entry().unwrap().tags().unwrap();
    assert_eq!(tags.get("eksnet:address").map(String::as_str), Some("eks_access_entry.admin:arn:aws:iam::123456789012:role/platform-admin"));
    let entry = eks.describe_access_entry().cluster_name("TaggedEKS").principal_arn(creator).send().await.unwrap();
    let tags = entry.access_entry().unwrap().tags().unwrap();
    assert_eq!(
        tags.get("eksnet:address").map(String::as_str),
        Some("eks_access_entry.admin:arn:aws:iam::123456789012:user/moto"),
        "the creator's entry is adopted"
    );
    let plan = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "not converged: the address tags did not read back\nstdout:\n{}\nstderr:\n{}", plan.stdout, plan.stderr);
}

/// Rows 4 and 6 and issue item 7: with Kubernetes versions aging (the reference stack's version
/// and AMI type still offered) and the authentication mode moving one way only
/// (CONFIG_MAP → API_AND_CONFIG_MAP → API), the reference stack applies, a step forward is
/// applied, and a step back is refused before anything is sent, with a hint.
#[test]
fn k8s_versions_and_auth_mode_rules_one_step_forward_only() {
    let cloud = cloud_with(r#"{"k8s_versions": true, "auth_mode_rules": true}"#);
    let eksnet = cloud.eksnet();
    let stack = crate::common::reference_copy(&eksnet, "modes", "ModesEKS");
    let apply = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(apply.code, 0, "the reference stack under version and auth mode rules\nstdout:\n{}\nstderr:\n{}", apply.stdout, apply.stderr);

    let text = std::fs::read_to_string(&stack).unwrap();
    std::fs::write(&stack, text.replace("authentication_mode: API_AND_CONFIG_MAP", "authentication_mode: API")).unwrap();
    let forward = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_eq!(forward.code, 0, "API_AND_CONFIG_MAP → API is allowed\nstdout:\n{}\nstderr:\n{}", forward.stdout, forward.stderr);

    std::fs::write(&stack, &text).unwrap();
    let updates = cloud.positions("UpdateClusterConfig").len();
    let plan = eksnet.run(&["-f", &stack, "plan"]);
    assert_ne!(plan.code, 0, "plan must refuse API → API_AND_CONFIG_MAP\nstdout:\n{}\nstderr:\n{}", plan.stdout, plan.stderr);
    assert!(plan.stderr.contains("one way") && plan.stderr.contains("help"), "{}", plan.stderr);
    let back = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]);
    assert_ne!(back.code, 0, "API → API_AND_CONFIG_MAP must be refused\nstdout:\n{}\nstderr:\n{}", back.stdout, back.stderr);
    let all = format!("{}{}", back.stdout, back.stderr);
    assert!(all.contains("authentication mode") && all.contains("one way"), "no hint:\n{all}");
    assert_eq!(cloud.positions("UpdateClusterConfig").len(), updates, "the refused move was sent to EKS");

    // `cluster.version` left out: the running cluster keeps the version the state records (1.33,
    // in extended support on this calendar), not EKS's default of the day.
    let unversioned = text.replace("authentication_mode: API_AND_CONFIG_MAP", "authentication_mode: API").replace("  version: \"1.33\"\n", "");
    std::fs::write(&stack, unversioned).unwrap();
    let kept = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(kept.code, 0, "an unversioned stack must not upgrade its cluster\nstdout:\n{}\nstderr:\n{}", kept.stdout, kept.stderr);
}

/// Row 4: versions age. `plan` asks EKS once (DescribeClusterVersions) what it offers on the
/// calendar's day: a version in standard support plans quietly, one in extended support plans
/// with a warning naming its dates, one past its end stops the plan before anything is created;
/// `validate` (offline) lets a version newer than eksnet knows through to that check.
#[test]
fn k8s_versions_the_plan_asks_eks_what_it_offers_today() {
    let cloud = cloud_with(r#"{"k8s_versions": true}"#);
    let eksnet = cloud.eksnet();
    let stack = crate::common::reference_copy(&eksnet, "calendar", "CalendarEKS");
    let plan_on = |date: &str| {
        cloud.control(&["config", &format!(r#"{{"k8s_calendar_date": "{date}"}}"#)]);
        eksnet.run(&["-f", &stack, "plan", "--format", "json"])
    };
    let standard = plan_on("2025-09-01").ok();
    let json: serde_json::Value = serde_json::from_str(&standard.stdout).unwrap();
    assert_eq!(json["warnings"], serde_json::json!([]), "1.33 is in standard support on 2025-09-01");

    let extended = plan_on("2026-12-02").ok();
    let json: serde_json::Value = serde_json::from_str(&extended.stdout).unwrap();
    assert_eq!(
        json["warnings"][0],
        "Kubernetes 1.33 is in extended support since 2026-07-29 until 2027-07-29: EKS bills the cluster at the extended-support rate. Move `cluster.version` to 1.35 (standard support).",
    );
    let text = eksnet.run(&["-f", &stack, "plan"]).ok();
    assert!(text.stdout.contains("warning: Kubernetes 1.33 is in extended support"), "{}", text.stdout);

    let gone = plan_on("2027-08-01");
    assert_eq!(gone.code, 1, "{}", gone.stderr);
    assert!(gone.stderr.contains("EKS does not offer Kubernetes 1.33 today") && gone.stderr.contains("set `cluster.version` to one of"), "{}", gone.stderr);

    let newer = std::fs::read_to_string(&stack).unwrap().replace("version: \"1.33\"", "version: \"1.36\"");
    std::fs::write(&stack, newer).unwrap();
    eksnet.run(&["-f", &stack, "validate"]).ok();
    let unknown = plan_on("2026-12-02");
    assert_eq!(unknown.code, 1, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("EKS does not offer Kubernetes 1.36 today (it offers 1.35, 1.34, 1.33, 1.32)"), "{}", unknown.stderr);

    // No `cluster.version`: a new cluster gets EKS's default of the day, said in the plan.
    let unversioned = std::fs::read_to_string(&stack).unwrap().replace("  version: \"1.36\"\n", "");
    std::fs::write(&stack, unversioned).unwrap();
    let default = plan_on("2026-12-02").ok();
    let json: serde_json::Value = serde_json::from_str(&default.stdout).unwrap();
    let warnings = json["warnings"].to_string();
    assert!(warnings.contains("`cluster.version` is not set: the cluster is created with Kubernetes 1.35, EKS's default today"), "{warnings}");
    let cluster = json["changes"].as_array().unwrap().iter().find(|c| c["address"] == "eks_cluster.main").unwrap().to_string();
    assert!(cluster.contains("\"1.35\""), "{cluster}");
    assert_eq!(cloud.changes(), 0, "plans create nothing");
    assert_eq!(cloud.positions("DescribeClusterVersions").len(), 6, "one call per plan, shared by the default and the check");
}
