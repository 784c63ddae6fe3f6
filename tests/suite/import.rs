//! `eksnet import --from-terraform`: take over what the AWS sample's `terraform apply` built
//! (tests/fixtures/terraform/aws-sample.tfstate.json, with the ids of objects built here in
//! localcloud the way Terraform and its modules build them), then plan, then destroy; and bad
//! input that changes nothing.

use aws_sdk_ec2::types::{AttributeBooleanValue, ConnectivityType, DomainType, Filter, IpPermission, IpRange, Ipv6Range, ResourceType, Tag, TagSpecification};
use aws_sdk_eks::types::{
    AmiTypes, AuthenticationMode, CapacityTypes, CreateAccessConfigRequest, LogSetup, LogType, Logging, NodegroupScalingConfig, VpcConfigRequest,
};
use serde_json::Value;

use crate::common::{LocalCloud, repo};

const REGION: &str = "ap-southeast-2";
const CLUSTER: &str = "CNICustomNetworkDemoEKS";
const NODE_ROLE: &str = "eks-cluster-node-CNICustomNetworkDemoEKS";
const CLUSTER_ROLE: &str = "CNICustomNetworkDemoEKS-cluster-20261130091158000000000001";

fn tags(kind: ResourceType, pairs: &[(&str, &str)]) -> TagSpecification {
    TagSpecification::builder().resource_type(kind).set_tags(Some(pairs.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build()).collect())).build()
}

fn yes() -> AttributeBooleanValue {
    AttributeBooleanValue::builder().value(true).build()
}

/// Builds in localcloud what the sample's `terraform apply` builds (names and tags as
/// terraform-aws-modules/vpc 3.7.0 and eks 18.x set them), and returns each fixture
/// placeholder with the real id.
async fn build_sample(cloud: &LocalCloud) -> Vec<(String, String)> {
    let config = cloud.config(REGION).await;
    let (ec2, eks, iam) = (aws_sdk_ec2::Client::new(&config), aws_sdk_eks::Client::new(&config), aws_sdk_iam::Client::new(&config));
    let mut ids: Vec<(String, String)> = vec![];
    let mut put = |k: &str, v: &str| ids.push((format!("__{k}__"), v.to_string()));
    let name = [("Name", "terraform-demo-vpc")];

    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").tag_specifications(tags(ResourceType::Vpc, &name)).send().await.unwrap();
    let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
    ec2.modify_vpc_attribute().vpc_id(&vpc).enable_dns_hostnames(yes()).send().await.unwrap();
    put("VPC", &vpc);
    let assoc = ec2.associate_vpc_cidr_block().vpc_id(&vpc).cidr_block("100.64.0.0/16").send().await.unwrap();
    put("CIDR_ASSOC", assoc.cidr_block_association().unwrap().association_id().unwrap());
    let mut subnets = std::collections::BTreeMap::new();
    for (tier, cidrs) in [
        ("public", ["10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"]),
        ("private", ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]),
        ("intra", ["100.64.1.0/24", "100.64.2.0/24", "100.64.3.0/24"]),
    ] {
        for (i, (cidr, zone)) in cidrs.iter().zip(["a", "b", "c"]).enumerate() {
            let az = format!("{REGION}{zone}");
            let label = format!("terraform-demo-vpc-{tier}-{az}");
            let s = ec2
                .create_subnet()
                .vpc_id(&vpc)
                .cidr_block(*cidr)
                .availability_zone(&az)
                .tag_specifications(tags(ResourceType::Subnet, &[("Name", &label)]))
                .send()
                .await
                .unwrap();
            let id = s.subnet().unwrap().subnet_id().unwrap().to_string();
            if tier == "public" {
                ec2.modify_subnet_attribute().subnet_id(&id).map_public_ip_on_launch(yes()).send().await.unwrap();
            }
            put(&format!("SUBNET_{}_{i}", tier.to_uppercase()), &id);
            subnets.insert((tier, i), id);
        }
    }
    let igw = ec2.create_internet_gateway().tag_specifications(tags(ResourceType::InternetGateway, &name)).send().await.unwrap();
    let igw = igw.internet_gateway().unwrap().internet_gateway_id().unwrap().to_string();
    ec2.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(&vpc).send().await.unwrap();
    put("IGW", &igw);
    let nat_name = [("Name", "terraform-demo-vpc-ap-southeast-2a")];
    let eip = ec2.allocate_address().domain(DomainType::Vpc).tag_specifications(tags(ResourceType::ElasticIp, &nat_name)).send().await.unwrap();
    let eip = eip.allocation_id().unwrap().to_string();
    put("EIP", &eip);
    let public_nat = ec2
        .create_nat_gateway()
        .subnet_id(&subnets[&("public", 0)])
        .allocation_id(&eip)
        .tag_specifications(tags(ResourceType::Natgateway, &nat_name))
        .send()
        .await
        .unwrap();
    let public_nat = public_nat.nat_gateway().unwrap().nat_gateway_id().unwrap().to_string();
    put("NAT_PUBLIC", &public_nat);
    let private_nat = ec2.create_nat_gateway().subnet_id(&subnets[&("private", 0)]).connectivity_type(ConnectivityType::Private).send().await.unwrap();
    let private_nat = private_nat.nat_gateway().unwrap().nat_gateway_id().unwrap().to_string();
    put("NAT_PRIVATE", &private_nat);
    for _ in 0..100 {
        let found = ec2.describe_nat_gateways().nat_gateway_ids(&public_nat).nat_gateway_ids(&private_nat).send().await.unwrap();
        if found.nat_gateways().iter().all(|n| n.state().map(|s| s.as_str()) == Some("available")) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for (tier, gateway, nat) in [("public", Some(&igw), None), ("private", None, Some(&public_nat)), ("intra", None, Some(&private_nat))] {
        let label = format!("terraform-demo-vpc-{tier}");
        let rt = ec2.create_route_table().vpc_id(&vpc).tag_specifications(tags(ResourceType::RouteTable, &[("Name", &label)])).send().await.unwrap();
        let rt = rt.route_table().unwrap().route_table_id().unwrap().to_string();
        ec2.create_route()
            .route_table_id(&rt)
            .destination_cidr_block("0.0.0.0/0")
            .set_gateway_id(gateway.cloned())
            .set_nat_gateway_id(nat.cloned())
            .send()
            .await
            .unwrap();
        for i in 0..3 {
            let a = ec2.associate_route_table().route_table_id(&rt).subnet_id(&subnets[&(tier, i)]).send().await.unwrap();
            put(&format!("RTA_{}_{i}", tier.to_uppercase()), a.association_id().unwrap());
        }
        put(&format!("RT_{}", tier.to_uppercase()), &rt);
    }
    // sample-sg.tf: example_sg, http from the VPC, all egress (IPv4 and IPv6).
    let sg = ec2.create_security_group().group_name("example_sg").description("Managed by Terraform").vpc_id(&vpc).send().await.unwrap();
    let sg = sg.group_id().unwrap().to_string();
    let http = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(80)
        .to_port(80)
        .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").description("allow http").build())
        .build();
    ec2.authorize_security_group_ingress().group_id(&sg).ip_permissions(http).send().await.unwrap();
    let v6 = IpPermission::builder().ip_protocol("-1").ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build()).build();
    ec2.authorize_security_group_egress().group_id(&sg).ip_permissions(v6).send().await.unwrap();
    put("SG_POD", &sg);

    // iam.tf's node role and the EKS module's cluster role.
    let account = |arn: &str| arn.split(':').nth(4).unwrap().to_string();
    let mut role_arns = vec![];
    for (role, service, policies) in [
        (NODE_ROLE, "ec2.amazonaws.com", &["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"][..]),
        (CLUSTER_ROLE, "eks.amazonaws.com", &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"][..]),
    ] {
        let document =
            format!(r#"{{"Statement":[{{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{{"Service":"{service}"}}}}],"Version":"2012-10-17"}}"#);
        let r = iam.create_role().role_name(role).assume_role_policy_document(document).send().await.unwrap();
        role_arns.push(r.role().unwrap().arn().to_string());
        for p in policies {
            iam.attach_role_policy().role_name(role).policy_arn(format!("arn:aws:iam::aws:policy/{p}")).send().await.unwrap();
        }
    }
    put("ACCOUNT", &account(&role_arns[0]));

    let private: Vec<String> = (0..3).map(|i| subnets[&("private", i)].clone()).collect();
    let all_logs = LogSetup::builder()
        .enabled(true)
        .set_types(Some(vec![LogType::Api, LogType::Audit, LogType::Authenticator, LogType::ControllerManager, LogType::Scheduler]))
        .build();
    eks.create_cluster()
        .name(CLUSTER)
        .version("1.32")
        .role_arn(&role_arns[1])
        .resources_vpc_config(
            VpcConfigRequest::builder().set_subnet_ids(Some(private.clone())).endpoint_public_access(true).endpoint_private_access(false).build(),
        )
        .logging(Logging::builder().cluster_logging(all_logs).build())
        .access_config(
            CreateAccessConfigRequest::builder()
                .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                .bootstrap_cluster_creator_admin_permissions(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let mut cluster = None;
    for _ in 0..300 {
        let c = eks.describe_cluster().name(CLUSTER).send().await.unwrap().cluster().unwrap().clone();
        if c.status().map(|s| s.as_str()) == Some("ACTIVE") {
            cluster = Some(c);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let cluster = cluster.expect("the cluster becomes ACTIVE");
    put("CLUSTER_SG", cluster.resources_vpc_config().unwrap().cluster_security_group_id().unwrap_or_default());
    put("ENDPOINT", cluster.endpoint().unwrap_or_default());
    put("CA_DATA", cluster.certificate_authority().and_then(|c| c.data()).unwrap_or_default());
    let ng_name = format!("{CLUSTER}-node-group-default");
    let ng = eks
        .create_nodegroup()
        .cluster_name(CLUSTER)
        .nodegroup_name(&ng_name)
        .node_role(&role_arns[0])
        .set_subnets(Some(private))
        .instance_types("c5.large")
        .ami_type(AmiTypes::Al2X8664)
        .capacity_type(CapacityTypes::OnDemand)
        .disk_size(20)
        .scaling_config(NodegroupScalingConfig::builder().min_size(1).desired_size(1).max_size(2).build())
        .send()
        .await
        .unwrap();
    let arn = ng.nodegroup().unwrap().nodegroup_arn().unwrap().to_string();
    put("NG_UUID", arn.rsplit('/').next().unwrap());
    for _ in 0..300 {
        let n = eks.describe_nodegroup().cluster_name(CLUSTER).nodegroup_name(&ng_name).send().await.unwrap();
        if n.nodegroup().unwrap().status().map(|s| s.as_str()) == Some("ACTIVE") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    ids
}

/// The fixture with the real ids put in.
fn sample_state(ids: &[(String, String)]) -> String {
    let mut text = std::fs::read_to_string(repo().join("tests/fixtures/terraform/aws-sample.tfstate.json")).unwrap();
    for (placeholder, id) in ids {
        text = text.replace(placeholder, id);
    }
    text
}

async fn vpc_tags(cloud: &LocalCloud, vpc: &str) -> Vec<(String, String)> {
    let ec2 = cloud.ec2(REGION).await;
    let found = ec2.describe_vpcs().filters(Filter::builder().name("vpc-id").values(vpc).build()).send().await.unwrap();
    found.vpcs().iter().flat_map(|v| v.tags()).map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn import_takes_over_the_aws_sample_then_plans_and_destroys_it() {
    // What Terraform built was made long ago: its objects are past EC2's consistency window, and
    // the test builds them call by call with the SDK, so the window is off here.
    let cloud = LocalCloud::start_with(&["--profile", "none", "--strict", "--config", r#"{"ec2_consistency": false}"#]);
    refuses_a_state_whose_objects_are_gone(&cloud).await;
    let ids = build_sample(&cloud).await;
    let id = |k: &str| ids.iter().find(|(p, _)| p == &format!("__{k}__")).map(|(_, v)| v.clone()).unwrap();
    let eksnet = cloud.eksnet();
    // A state of another account (the VPC's owner_id): refused before anything is tagged.
    std::fs::write(eksnet.path("foreign.tfstate"), sample_state(&ids).replace(&id("ACCOUNT"), "210987654321")).unwrap();
    let foreign = eksnet.run(&["-f", "stack.yaml", "import", "--from-terraform", "foreign.tfstate", "--auto-approve"]);
    assert_eq!(foreign.code, 1, "{}", foreign.stderr);
    assert!(
        foreign.stderr.contains(&format!("objects are in account 210987654321, but these credentials are for account {}", id("ACCOUNT"))),
        "{}",
        foreign.stderr
    );
    assert!(!eksnet.path("stack.yaml").exists(), "no stack file left behind");
    assert!(vpc_tags(&cloud, &id("VPC")).await.iter().all(|(k, _)| !k.starts_with("eksnet:")), "nothing tagged");
    std::fs::write(eksnet.path("terraform.tfstate"), sample_state(&ids)).unwrap();

    let out = eksnet.run(&["-f", "stack.yaml", "import", "--from-terraform", "terraform.tfstate", "--auto-approve"]).ok();
    // The adoption shown first, like a plan; then the report with a ready `terraform state rm` list.
    assert!(out.stderr.contains(&format!("~ vpc.main                                 {}", id("VPC"))), "{}", out.stderr);
    assert!(out.stderr.contains("subnet.intra[\"ap-southeast-2a\"]"), "{}", out.stderr);
    assert!(out.stdout.contains("terraform state rm 'module.vpc.aws_vpc.this[0]'"), "{}", out.stdout);
    assert!(out.stdout.contains("terraform state rm 'aws_route.intra_subnets_default_gateway'"), "{}", out.stdout);
    assert!(
        out.stdout.contains("terraform state rm 'module.eks.aws_iam_role_policy_attachment.this[\"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy\"]'"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("null_resource.cni_patch: a script Terraform ran"), "{}", out.stdout);
    assert!(out.stdout.contains("module.eks.aws_security_group.node[0]: a security group the EKS module made"), "{}", out.stdout);
    assert!(out.stdout.contains("kubernetes_deployment.example: a Kubernetes object: not imported yet"), "{}", out.stdout);
    assert!(!out.stdout.contains("terraform state rm 'null_resource"), "{}", out.stdout);

    // What exists, as it is: CIDRs given, names and role ARNs kept.
    let stack = std::fs::read_to_string(eksnet.path("stack.yaml")).unwrap();
    for line in [
        "name: cnicustomnetworkdemoeks",
        "availability_zones: [ap-southeast-2a, ap-southeast-2b, ap-southeast-2c]",
        "    cidrs: [100.64.1.0/24, 100.64.2.0/24, 100.64.3.0/24]",
        "  public: single",
        "  private: single",
        "    group_name: example_sg",
        "      - {protocol: tcp, ports: 80, cidrs: [10.0.0.0/16], description: allow http}",
        "  name: CNICustomNetworkDemoEKS",
        "  mode: daemonset",
        "  CNICustomNetworkDemoEKS-node-group-default:",
        "    scaling: {min: 1, desired: 1, max: 2}",
    ] {
        assert!(stack.contains(line), "missing `{line}` in\n{stack}");
    }
    assert!(stack.contains(&format!("cluster: {{arn: \"arn:aws:iam::{}:role/{CLUSTER_ROLE}\"}}", id("ACCOUNT"))), "{stack}");
    let marks = vpc_tags(&cloud, &id("VPC")).await;
    assert!(marks.contains(&("eksnet:stack".into(), "cnicustomnetworkdemoeks".into())), "{marks:?}");
    assert!(marks.contains(&("eksnet:address".into(), "vpc.main".into())), "{marks:?}");

    // The plan replaces and deletes nothing; what it changes is documented in
    // docs/migrate-from-terraform.md ("What the first plan shows").
    let plan = eksnet.run(&["-f", "stack.yaml", "plan", "--format", "json"]).ok();
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let changes = plan["changes"].as_array().unwrap();
    // Documented in docs/migrate-from-terraform.md: eksnet's Name tags and its load-balancer role
    // tags on public and private subnets.
    let documented = ["tags[\"Name\"]", "tags[\"kubernetes.io/role/elb\"]", "tags[\"kubernetes.io/role/internal-elb\"]"];
    let mut seen = vec![];
    let mut undocumented = vec![];
    for c in changes {
        let (address, action) = (c["address"].as_str().unwrap(), c["action"].as_str().unwrap());
        match action {
            "create" if address.starts_with("k8s_manifest.") => {}
            "update" => {
                for d in c["diffs"].as_array().unwrap() {
                    if !documented.contains(&d["attribute"].as_str().unwrap()) {
                        undocumented.push(format!("{address}: {d}"));
                    }
                }
            }
            _ => undocumented.push(format!("{action} {address} (an import must not create AWS objects, replace or delete): {c}")),
        }
        seen.push(format!("{action} {address}"));
    }
    assert!(undocumented.is_empty(), "undocumented differences:\n{}", undocumented.join("\n"));
    assert!(seen.contains(&"update vpc.main".to_string()), "{seen:?}");
    assert!(
        seen.contains(&"update eks_cluster.main".to_string()) && seen.contains(&"create k8s_manifest.eniconfig[\"ap-southeast-2a\"]".to_string()),
        "{seen:?}"
    );

    // Apply converges those differences in place: the same VPC, subnets, NAT gateways and
    // cluster afterwards, and a plan with nothing left to do.
    let before: Vec<(String, Value)> = state_ids(&eksnet);
    let applied = eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    assert!(applied.stderr.contains("0 destroyed"), "{}", applied.stderr);
    let after = state_ids(&eksnet);
    for (address, id) in &before {
        assert_eq!(after.iter().find(|(a, _)| a == address).map(|(_, v)| v), Some(id), "{address} kept its object");
    }
    let again = eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    // Destroy removes what the stack owns and leaves what it did not take (the roles).
    eksnet.run(&["-f", "stack.yaml", "destroy", "--auto-approve"]).ok();
    assert!(vpc_tags(&cloud, &id("VPC")).await.is_empty(), "the VPC is gone");
    let config = cloud.config(REGION).await;
    let eks = aws_sdk_eks::Client::new(&config);
    assert!(eks.describe_cluster().name(CLUSTER).send().await.is_err(), "the cluster is gone");
    let iam = aws_sdk_iam::Client::new(&config);
    for role in [NODE_ROLE, CLUSTER_ROLE] {
        assert!(iam.get_role().role_name(role).send().await.is_ok(), "{role} stays: the stack used it by ARN");
    }
}

/// The state's AWS objects (not Kubernetes ones) and their ids, from `state pull`.
fn state_ids(eksnet: &crate::common::Eksnet) -> Vec<(String, Value)> {
    let state: Value = serde_json::from_str(&eksnet.run(&["-f", "stack.yaml", "state", "pull"]).ok().stdout).unwrap();
    state["resources"].as_object().unwrap().iter().filter(|(a, _)| !a.starts_with("k8s_manifest.")).map(|(a, r)| (a.clone(), r["id"].clone())).collect()
}

/// A state of one VPC and two subnets; `missing` is a subnet id that does not exist.
fn small_state(vpc: &str, subnet: &str, missing: &str) -> String {
    let aws = r#"provider[\"registry.terraform.io/hashicorp/aws\"]"#;
    let subnet_of = |i: usize, id: &str, cidr: &str, zone: &str| {
        format!(
            r#"{{"index_key": {i}, "schema_version": 1, "attributes": {{"id": "{id}", "vpc_id": "{vpc}", "cidr_block": "{cidr}", "availability_zone": "{zone}", "tags": {{}}}}}}"#
        )
    };
    format!(
        r#"{{"version": 4, "terraform_version": "1.5.7", "serial": 3, "lineage": "x", "outputs": {{}}, "resources": [
  {{"module": "module.vpc", "mode": "managed", "type": "aws_vpc", "name": "this", "provider": "{aws}",
    "instances": [{{"index_key": 0, "schema_version": 1, "attributes": {{"id": "{vpc}", "cidr_block": "10.0.0.0/16", "enable_dns_hostnames": true, "tags": {{}}}}}}]}},
  {{"module": "module.vpc", "mode": "managed", "type": "aws_subnet", "name": "private", "provider": "{aws}",
    "instances": [{}, {}]}}
]}}"#,
        subnet_of(0, subnet, "10.0.1.0/24", "us-west-2a"),
        subnet_of(1, missing, "10.0.2.0/24", "us-west-2b")
    )
}

/// An object of the state that no longer exists: named, and nothing is tagged.
async fn refuses_a_state_whose_objects_are_gone(cloud: &LocalCloud) {
    let eksnet = cloud.eksnet();
    let ec2 = cloud.ec2("us-west-2").await;
    let vpc = ec2.create_vpc().cidr_block("10.0.0.0/16").send().await.unwrap().vpc().unwrap().vpc_id().unwrap().to_string();
    let subnet = ec2.create_subnet().vpc_id(&vpc).cidr_block("10.0.1.0/24").availability_zone("us-west-2a").send().await.unwrap();
    let subnet = subnet.subnet().unwrap().subnet_id().unwrap().to_string();
    std::fs::write(eksnet.path("gone.tfstate"), small_state(&vpc, &subnet, "subnet-0123456789abcdef0")).unwrap();
    let before = cloud.changes();
    let gone = eksnet.run(&["-f", "stack.yaml", "import", "--from-terraform", "gone.tfstate", "--auto-approve"]);
    assert_eq!(gone.code, 1, "{}", gone.stderr);
    assert!(gone.stderr.contains("1 object(s) of the Terraform state no longer exist in AWS"), "{}", gone.stderr);
    assert!(gone.stderr.contains("module.vpc.aws_subnet.private[1] (subnet-0123456789abcdef0)"), "{}", gone.stderr);
    assert!(gone.stderr.contains("Nothing was tagged"), "{}", gone.stderr);
    assert_eq!(cloud.changes(), before, "a refused import changes nothing in AWS");
    let found = ec2.describe_vpcs().vpc_ids(&vpc).send().await.unwrap();
    assert!(found.vpcs()[0].tags().iter().all(|t| !t.key().unwrap().starts_with("eksnet:")), "{found:?}");
    assert!(!eksnet.path("stack.yaml").exists(), "a refused import leaves no stack file");
    assert!(!eksnet.path(".eksnet").exists(), "a refused import writes no state");
}

/// Input refused before any AWS call: no emulator needed.
#[test]
fn import_refuses_what_is_not_a_single_cluster_state() {
    let work = tempfile::tempdir().unwrap();
    let run = |file: &str, text: &str| {
        std::fs::write(work.path().join(file), text).unwrap();
        let bin = std::env::var_os("EKSNET_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_eksnet").into());
        let out = std::process::Command::new(bin)
            .args(["-f", "stack.yaml", "import", "--from-terraform", file, "--auto-approve"])
            .current_dir(work.path())
            .env("NO_COLOR", "1")
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .output()
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stderr).to_string())
    };

    let (code, hcl) = run("main.tf", "resource \"aws_vpc\" \"this\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n");
    assert_eq!(code, Some(1));
    assert!(hcl.contains("main.tf is not a Terraform state: it is not JSON"), "{hcl}");
    assert!(hcl.contains("terraform state pull"), "{hcl}");

    let (code, old) = run("old.tfstate", r#"{"version": 3, "terraform_version": "0.11.14", "serial": 7, "modules": []}"#);
    assert_eq!(code, Some(1));
    assert!(old.contains("old.tfstate is a Terraform state of format version 3; eksnet reads version 4"), "{old}");

    let sample = std::fs::read_to_string(repo().join("tests/fixtures/terraform/aws-sample.tfstate.json")).unwrap();
    let mut two: Value = serde_json::from_str(&sample).unwrap();
    let mut other = two["resources"].as_array().unwrap().iter().find(|r| r["type"] == "aws_eks_cluster").unwrap().clone();
    other["instances"][0]["attributes"]["name"] = "second".into();
    other["name"] = "second".into();
    two["resources"].as_array_mut().unwrap().push(other);
    let (code, both) = run("two.tfstate", &two.to_string());
    assert_eq!(code, Some(1));
    assert!(both.contains("the state has 2 EKS clusters (CNICustomNetworkDemoEKS, second)"), "{both}");
    assert!(both.contains("--cluster CNICustomNetworkDemoEKS"), "{both}");
    assert!(!work.path().join("stack.yaml").exists(), "a refused import leaves no stack file");
}
