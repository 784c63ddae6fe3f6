//! `eksnet verify` against localcloud's data plane: the reference stack applied passes every
//! check (and EC2 itself shows the nginx pods' branch ENIs with the pod security group), each
//! breakage fails exactly its check, and destroy leaves no trunk or branch ENI behind, even with
//! the resource controller leaving branch ENIs behind. A second stack with small intra subnets
//! shows a scaled-out nodegroup whose pods the intra subnets cannot hold.

use aws_sdk_ec2::types::Filter;
use serde_json::Value;

use crate::common::{Eksnet, LocalCloud, kubectl, reference_stack, reference_variant};

const REGION: &str = "ap-southeast-2";

/// `verify --format json`: its exit code and the parsed report.
fn verify(eksnet: &Eksnet, stack: &str) -> (i32, Value) {
    let out = eksnet.run(&["-f", stack, "verify", "--format", "json"]);
    let report: Value = serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("verify JSON: {e}\n{}\n{}", out.stdout, out.stderr));
    assert_eq!(report["format_version"], 1);
    assert_eq!(report["passed"], out.code == 0, "{report:#}");
    (out.code, report)
}

/// The names of the checks that failed, and the report's check of that name.
fn failed(report: &Value) -> Vec<String> {
    report["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "fail").map(|c| c["name"].as_str().unwrap().to_string()).collect()
}

fn check<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap()
}

/// Network interfaces with this description, anywhere in the region.
async fn enis_described(ec2: &aws_sdk_ec2::Client, description: &str) -> Vec<aws_sdk_ec2::types::NetworkInterface> {
    let out = ec2.describe_network_interfaces().filters(Filter::builder().name("description").values(description).build()).send().await.unwrap();
    out.network_interfaces().to_vec()
}

const LATE: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: late, namespace: test-namespace}
spec:
  replicas: 1
  selector: {matchLabels: {app: late}}
  template:
    metadata: {labels: {app: late, role: test-role}}
    spec:
      containers: [{name: web, image: public.ecr.aws/nginx/nginx:1.27}]
";

#[tokio::test(flavor = "multi_thread")]
async fn verify_proves_the_pods_and_names_each_breakage() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let ec2 = cloud.ec2(REGION).await;

    // apply --verify: the apply, then every check passes.
    let applied = eksnet.run(&["-f", &stack, "apply", "--auto-approve", "--verify"]).ok();
    assert!(applied.stdout.contains("Verified: 8 passed, 0 failed, 0 warning(s)."), "{}", applied.stdout);
    for n in 1..=8 {
        assert!(applied.stdout.contains(&format!("✓ {n}. ")), "check {n}:\n{}", applied.stdout);
    }
    let (code, report) = verify(&eksnet, &stack);
    assert_eq!((code, failed(&report)), (0, vec![]), "{report:#}");

    // EC2 itself: each nginx pod's IP is in 100.64 and is its branch ENI's, which carries the pod
    // security group, in an intra subnet.
    let outputs: Value = serde_json::from_str(&eksnet.run(&["-f", &stack, "output", "--json"]).ok().stdout).unwrap();
    let pods_sg = outputs["security_group_ids"]["pods"].as_str().unwrap();
    let intra: Vec<&str> = outputs["intra_subnet_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let kubeconfig = eksnet.path("kubeconfig");
    eksnet.run(&["-f", &stack, "kubeconfig", "--write", kubeconfig.to_str().unwrap()]).ok();
    let pods: Value =
        serde_json::from_str(&kubectl(&cloud, &kubeconfig, &["-n", "test-namespace", "get", "pods", "-l", "app=nginx", "-o", "json"], None)).unwrap();
    let pods = pods["items"].as_array().unwrap();
    assert_eq!(pods.len(), 2);
    let branches = enis_described(&ec2, "aws-k8s-branch-eni").await;
    for pod in pods {
        let ip = pod["status"]["podIP"].as_str().unwrap();
        assert!(ip.starts_with("100.64."), "{ip}");
        let eni = branches.iter().find(|e| e.private_ip_address() == Some(ip)).unwrap_or_else(|| panic!("no branch ENI holds {ip}"));
        assert_eq!(eni.interface_type().unwrap().as_str(), "branch");
        assert_eq!(eni.groups().iter().map(|g| g.group_id().unwrap()).collect::<Vec<_>>(), [pods_sg]);
        assert!(intra.contains(&eni.subnet_id().unwrap()));
        assert!(check(&report, "pod_enis")["evidence"].as_str().unwrap().contains(eni.network_interface_id().unwrap()), "{report:#}");
    }

    // 1. Pods created before their policy: only pod_enis fails, naming the restart.
    let policy = ["-n", "test-namespace", "delete", "securitygrouppolicy", "my-security-group-policy"];
    kubectl(&cloud, &kubeconfig, &policy, None);
    kubectl(&cloud, &kubeconfig, &["apply", "-f", "-"], Some(LATE));
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok(); // puts the policy back
    let (code, report) = verify(&eksnet, &stack);
    assert_eq!((code, failed(&report)), (1, vec!["pod_enis".to_string()]), "{report:#}");
    let pod_enis = check(&report, "pod_enis");
    assert!(pod_enis["evidence"].as_str().unwrap().contains("test-namespace/late-"), "{pod_enis:#}");
    assert!(pod_enis["remedy"].as_str().unwrap().contains("kubectl -n test-namespace rollout restart deployment/late"), "{pod_enis:#}");
    kubectl(&cloud, &kubeconfig, &["-n", "test-namespace", "delete", "deployment", "late"], None);
    assert_eq!(failed(&verify(&eksnet, &stack).1), Vec::<String>::new());

    // 2. An ENIConfig edited to a private subnet: only eniconfigs; its remedy undoes it.
    let private = outputs["private_subnet_ids"][0].as_str().unwrap();
    let zone = format!("{REGION}a");
    kubectl(&cloud, &kubeconfig, &["patch", "eniconfig", &zone, "--type", "merge", "-p", &format!(r#"{{"spec":{{"subnet":"{private}"}}}}"#)], None);
    let (code, report) = verify(&eksnet, &stack);
    assert_eq!((code, failed(&report)), (1, vec!["eniconfigs".to_string()]), "{report:#}");
    let eniconfigs = check(&report, "eniconfigs");
    assert!(eniconfigs["evidence"].as_str().unwrap().contains(&format!("points at the private subnet {private}")), "{eniconfigs:#}");
    kubectl(&cloud, &kubeconfig, &["patch", "eniconfig", &zone, "--type", "merge", "-p", &format!(r#"{{"spec":{{"subnet":"{}"}}}}"#, intra[0])], None);
    assert!(eniconfigs["remedy"].as_str().unwrap().contains(intra[0]));
    assert_eq!(failed(&verify(&eksnet, &stack).1), Vec::<String>::new());

    // 3. ENABLE_POD_ENI removed from aws-node: only cni.
    kubectl(&cloud, &kubeconfig, &["-n", "kube-system", "set", "env", "daemonset/aws-node", "ENABLE_POD_ENI-"], None);
    let (code, report) = verify(&eksnet, &stack);
    assert_eq!((code, failed(&report)), (1, vec!["cni".to_string()]), "{report:#}");
    assert_eq!(check(&report, "cni")["evidence"], "aws-node: ENABLE_POD_ENI=unset (the stack wants true)");
    kubectl(&cloud, &kubeconfig, &["-n", "kube-system", "set", "env", "daemonset/aws-node", "ENABLE_POD_ENI=true"], None);
    assert_eq!(failed(&verify(&eksnet, &stack).1), Vec::<String>::new());

    // 4. The intra route retargeted outside eksnet (to the public NAT gateway): only routes.
    let tables = ec2.describe_route_tables().filters(Filter::builder().name("association.subnet-id").values(intra[0]).build()).send().await.unwrap();
    let table = tables.route_tables()[0].route_table_id().unwrap().to_string();
    let nats = &outputs["nat_gateway_ids"];
    let (public_nat, private_nat) = (nats[format!("public_{zone}")].as_str().unwrap(), nats[format!("private_{zone}")].as_str().unwrap());
    ec2.replace_route().route_table_id(&table).destination_cidr_block("0.0.0.0/0").nat_gateway_id(public_nat).send().await.unwrap();
    let (code, report) = verify(&eksnet, &stack);
    assert_eq!((code, failed(&report)), (1, vec!["routes".to_string()]), "{report:#}");
    assert!(
        check(&report, "routes")["evidence"].as_str().unwrap().contains(&format!("0.0.0.0/0 → {public_nat} in {table}, not the private NAT gateway")),
        "{report:#}"
    );
    ec2.replace_route().route_table_id(&table).destination_cidr_block("0.0.0.0/0").nat_gateway_id(private_nat).send().await.unwrap();
    let text = eksnet.run(&["-f", &stack, "verify"]).ok();
    assert!(text.stdout.contains("Verified: 8 passed"), "{}", text.stdout);

    // Destroy with the resource controller leaving branch ENIs behind: nothing stays.
    assert!(!enis_described(&ec2, "aws-k8s-trunk-eni").await.is_empty());
    cloud.fault(serde_json::json!({"service": "vpc-resource-controller", "operation": "DeleteNetworkInterface", "error": "InternalError"}));
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
    for description in ["aws-k8s-branch-eni", "aws-k8s-trunk-eni"] {
        let left: Vec<_> = enis_described(&ec2, description).await.iter().map(|e| e.network_interface_id().unwrap().to_string()).collect();
        assert!(left.is_empty(), "{description} left: {left:?}");
    }
}

/// Pods of no policy, one address each from the ENIConfig's subnet.
const FILLER: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: filler, namespace: test-namespace}
spec:
  replicas: 30
  selector: {matchLabels: {app: filler}}
  template:
    metadata: {labels: {app: filler}}
    spec:
      containers: [{name: web, image: public.ecr.aws/nginx/nginx:1.27}]
";

/// Intra subnets of /28 (11 usable addresses each), then the nodegroup scaled from 1 to 4 nodes
/// and a workload for them: the nodes could run the pods, the intra subnets cannot address them
/// (each node's trunk and pod ENI take an address of its zone's intra subnet first). Only
/// `addresses` fails, naming the pods without an IP; `headroom` warns about the exhausted
/// subnet, and EC2 agrees it is full.
#[tokio::test(flavor = "multi_thread")]
async fn verify_names_a_nodegroup_scaled_beyond_its_intra_subnets() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let small = |t: String| t.replace("prefix: 24, start: 1", "prefix: 28, start: 1").replace("{min: 1, desired: 1, max: 2}", "{min: 1, desired: 1, max: 4}");
    let stack = reference_variant(&eksnet, "small-intra", "SmallIntra", small);
    let applied = eksnet.run(&["-f", &stack, "apply", "--auto-approve", "--verify"]).ok();
    assert!(applied.stdout.contains("Verified: 8 passed, 0 failed, 0 warning(s)."), "{}", applied.stdout);

    let stack = reference_variant(&eksnet, "small-intra", "SmallIntra", |t| small(t).replace("desired: 1, max: 4", "desired: 4, max: 4"));
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let kubeconfig = eksnet.path("kubeconfig");
    eksnet.run(&["-f", &stack, "kubeconfig", "--write", kubeconfig.to_str().unwrap()]).ok();
    kubectl(&cloud, &kubeconfig, &["apply", "-f", "-"], Some(FILLER));

    let (code, report) = verify(&eksnet, &stack);
    assert_eq!((code, failed(&report)), (1, vec!["addresses".to_string()]), "{report:#}");
    let addresses = check(&report, "addresses");
    assert!(addresses["evidence"].as_str().unwrap().contains("test-namespace/filler-"), "{addresses:#}");
    assert!(addresses["evidence"].as_str().unwrap().contains("has no IP (Pending)"), "{addresses:#}");
    let headroom = check(&report, "headroom");
    assert_eq!(headroom["status"], "warn", "{headroom:#}");
    assert!(headroom["evidence"].as_str().unwrap().contains("has 0 of 11 addresses free"), "{headroom:#}");
    assert!(headroom["remedy"].as_str().unwrap().contains("subnets.intra"), "{headroom:#}");
    assert_eq!(check(&report, "nodes")["status"], "pass", "{report:#}");

    let outputs: Value = serde_json::from_str(&eksnet.run(&["-f", &stack, "output", "--json"]).ok().stdout).unwrap();
    let intra: Vec<String> = outputs["intra_subnet_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let ec2 = cloud.ec2(REGION).await;
    let subnets = ec2.describe_subnets().set_subnet_ids(Some(intra)).send().await.unwrap();
    assert!(subnets.subnets().iter().any(|s| s.available_ip_address_count() == Some(0)), "{subnets:#?}");

    // Fewer pods: the addresses come back and verify passes again.
    kubectl(&cloud, &kubeconfig, &["-n", "test-namespace", "scale", "deployment/filler", "--replicas=2"], None);
    let (code, report) = verify(&eksnet, &stack);
    assert_eq!((code, failed(&report)), (0, vec![]), "{report:#}");
}
