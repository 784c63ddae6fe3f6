//! The EKS half of the reference stack: roles, cluster, the VPC CNI configured before any node,
//! the nodegroup, kubectl access through `eksnet kubeconfig`, and the order of destroy.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::{LocalCloud, reference_stack};

const REGION: &str = "ap-southeast-2";
const CLUSTER: &str = "CNICustomNetworkDemoEKS";

/// Real kubectl, with the same AWS environment a user would have (the exec plugin needs it).
fn kubectl(cloud: &LocalCloud, kubeconfig: &std::path::Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new("kubectl").envs(cloud.env.iter().map(|(k, v)| (k, v))).env("KUBECONFIG", kubeconfig).args(args).output().expect("kubectl runs");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn kubeconfig_ca(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let config: Value = serde_saphyr::from_str(&text).unwrap();
    config["clusters"][0]["cluster"]["certificate-authority-data"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_cni_and_nodegroup_in_order_then_destroyed_in_reverse() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let config = cloud.config(REGION).await;
    let (iam, eks, ec2) = (aws_sdk_iam::Client::new(&config), aws_sdk_eks::Client::new(&config), aws_sdk_ec2::Client::new(&config));

    // IP capacity from the emulator's instance types: c5.large under custom networking.
    let plan = eksnet.run(&["-f", &stack, "plan", "--format", "json"]).ok();
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let ng = &plan["capacity"]["nodegroups"][0];
    assert_eq!((ng["instance_type"].as_str(), ng["max_pods_per_node"].as_u64(), ng["branch_enis_per_node"].as_u64()), (Some("c5.large"), Some(11), Some(9)));
    assert_eq!(ng["kubelet_max_pods"], 29);
    assert_eq!(plan["capacity"]["intra_subnets"][0]["usable_addresses"], 251);
    let warnings = plan["capacity"]["warnings"].as_array().unwrap();
    assert!(warnings.len() == 1 && warnings[0].as_str().unwrap().contains("admits 29 pods"), "{warnings:?}");

    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();

    // Roles with exactly the policies EKS and security groups for pods need.
    for (role, trusted, policies) in [
        ("cluster", "eks.amazonaws.com", vec!["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"]),
        ("node", "ec2.amazonaws.com", vec!["AmazonEC2ContainerRegistryReadOnly", "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy"]),
    ] {
        let name = format!("cni-custom-networking-demo-{role}");
        let got = iam.get_role().role_name(&name).send().await.unwrap();
        let document = got.role().unwrap().assume_role_policy_document().unwrap().to_string();
        assert!(document.contains(trusted), "{name}: {document}");
        let attached = iam.list_attached_role_policies().role_name(&name).send().await.unwrap();
        let mut names: Vec<&str> = attached.attached_policies().iter().map(|p| p.policy_name().unwrap()).collect();
        names.sort();
        assert_eq!(names, policies, "{name}");
    }

    // The cluster in the private subnets, public endpoint, API access with the creator as admin.
    let cluster = eks.describe_cluster().name(CLUSTER).send().await.unwrap().cluster().unwrap().clone();
    assert_eq!(cluster.status().unwrap().as_str(), "ACTIVE");
    assert_eq!(cluster.version(), Some("1.33"));
    let outputs: Value = serde_json::from_str(&eksnet.run(&["-f", &stack, "output", "--json"]).ok().stdout).unwrap();
    let mut private: Vec<String> = outputs["private_subnet_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    let vpc = cluster.resources_vpc_config().unwrap();
    let mut subnets = vpc.subnet_ids().to_vec();
    private.sort();
    subnets.sort();
    assert_eq!(subnets, private);
    assert!(vpc.endpoint_public_access() && !vpc.endpoint_private_access());
    assert_eq!(cluster.access_config().unwrap().authentication_mode().unwrap().as_str(), "API_AND_CONFIG_MAP");
    assert_eq!(cluster.role_arn(), Some("arn:aws:iam::123456789012:role/eksnet/cni-custom-networking-demo/cni-custom-networking-demo-cluster"));
    let cluster_sg = vpc.cluster_security_group_id().unwrap();
    assert_eq!(outputs["cluster_security_group_id"], cluster_sg);

    // The vpc-cni add-on carries exactly the seed's settings; each AZ's ENIConfig points at its
    // intra subnet and at the cluster security group, which managed nodes carry.
    let addon = eks.describe_addon().cluster_name(CLUSTER).addon_name("vpc-cni").send().await.unwrap().addon().unwrap().clone();
    let config: Value = serde_json::from_str(addon.configuration_values().unwrap()).unwrap();
    let intra: Vec<&str> = outputs["intra_subnet_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let subnets_by_az: serde_json::Map<String, Value> =
        ["a", "b", "c"].iter().zip(&intra).map(|(az, id)| (format!("{REGION}{az}"), json!({"id": id, "securityGroups": [cluster_sg]}))).collect();
    assert_eq!(
        config,
        json!({
            "env": {
                "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
                "ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone",
                "ENABLE_POD_ENI": "true",
                "AWS_VPC_K8S_CNI_EXTERNALSNAT": "false",
            },
            "init": {"env": {"DISABLE_TCP_EARLY_DEMUX": "true"}},
            "eniConfig": {"create": true, "region": REGION, "subnets": subnets_by_az},
        })
    );

    // The nodegroup in the private subnets, created only after the add-on was seen ACTIVE.
    let ng = eks.describe_nodegroup().cluster_name(CLUSTER).nodegroup_name("default").send().await.unwrap().nodegroup().unwrap().clone();
    let mut ng_subnets = ng.subnets().to_vec();
    ng_subnets.sort();
    assert_eq!(ng_subnets, private);
    assert_eq!(ng.instance_types(), ["c5.large"]);
    let scaling = ng.scaling_config().unwrap();
    assert_eq!((scaling.min_size(), scaling.desired_size(), scaling.max_size()), (Some(1), Some(1), Some(2)));
    let create_addon = cloud.positions("CreateAddon")[0];
    let create_nodegroup = cloud.positions("CreateNodegroup")[0];
    let addon_polls: Vec<usize> = cloud.positions("DescribeAddon").into_iter().filter(|&i| i > create_addon && i < create_nodegroup).collect();
    assert!(!addon_polls.is_empty(), "the add-on was not awaited before CreateNodegroup");

    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();

    // kubectl through the kubeconfig eksnet writes (its user runs `eksnet token`).
    let kubeconfig = eksnet.path("kubeconfig");
    eksnet.run(&["-f", &stack, "kubeconfig", "--write", kubeconfig.to_str().unwrap()]).ok();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&kubeconfig).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let (ok, out, err) = kubectl(&cloud, &kubeconfig, &["get", "ds", "-n", "kube-system", "aws-node", "-o", "json"]);
    assert!(ok, "{err}");
    let ds: Value = serde_json::from_str(&out).unwrap();
    let env = &ds["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(env.as_array().unwrap().contains(&json!({"name": "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "value": "true"})), "{env}");
    let (ok, out, err) = kubectl(&cloud, &kubeconfig, &["get", "eniconfigs", "-o", "name"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");

    // A tampered token is refused.
    let token: Value = serde_json::from_str(&eksnet.run(&["--region", REGION, "token", "--cluster", CLUSTER]).ok().stdout).unwrap();
    let good = token["status"]["token"].as_str().unwrap();
    // The same cluster with a static token user (kubectl reads JSON kubeconfigs).
    let mut tampered = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": outputs["cluster_endpoint"], "certificate-authority-data": kubeconfig_ca(&kubeconfig)}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    });
    for (token, expect_ok) in [(good.to_string(), true), (format!("{}AAAA", &good[..good.len() - 4]), false), ("k8s-aws-v1.bm90LWEtdXJs".to_string(), false)] {
        tampered["users"] = json!([{"name": "u", "user": {"token": token}}]);
        let path = eksnet.path("tampered.json");
        std::fs::write(&path, tampered.to_string()).unwrap();
        let (ok, _, err) = kubectl(&cloud, &path, &["get", "ns"]);
        assert_eq!(ok, expect_ok, "{err}");
        if !expect_ok {
            assert!(err.contains("Unauthorized") || err.contains("logged in"), "{err}");
        }
    }

    // Destroy: nodegroup, add-on, cluster, then roles and the network.
    let before = cloud.requests().len();
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
    let first_after = |op: &str| cloud.positions(op).into_iter().find(|&i| i >= before).unwrap_or_else(|| panic!("no {op} in destroy"));
    let order = ["DeleteNodegroup", "DeleteAddon", "DeleteCluster", "DeleteRole", "DeleteVpc"].map(first_after);
    assert!(order.windows(2).all(|w| w[0] < w[1]), "destroy order was {order:?}");
    assert!(eks.list_clusters().send().await.unwrap().clusters().is_empty());
    let roles = iam.list_roles().path_prefix("/eksnet/").send().await.unwrap();
    assert!(roles.roles().is_empty());
    let instances = ec2.describe_instances().send().await.unwrap();
    assert!(instances.reservations().iter().flat_map(|r| r.instances()).all(|i| i.state().and_then(|s| s.name()).map(|n| n.as_str()) == Some("terminated")));
}

#[tokio::test(flavor = "multi_thread")]
async fn role_propagation_is_retried_and_updates_happen_in_place() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    // IAM's eventual consistency, as EKS reports it right after the role was created.
    cloud.fault(json!({"service": "eks", "operation": "CreateCluster", "error": "InvalidParameterException", "status": 400,
        "message": "Role with arn: arn:aws:iam::123456789012:role/x, could not be assumed because it does not exist or the trusted entity is not correct", "times": 2}));
    let text = std::fs::read_to_string(reference_stack()).unwrap().replace("../templates", &crate::common::repo().join("templates").display().to_string());
    let stack = eksnet.path("stack.yaml");
    let admin = "arn:aws:iam::123456789012:role/platform";
    std::fs::write(&stack, text.replace("authentication_mode: API_AND_CONFIG_MAP", &format!("authentication_mode: API_AND_CONFIG_MAP\n  admins: [{admin}]")))
        .unwrap();
    let stack = stack.display().to_string();
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert_eq!(cloud.positions("CreateCluster").len(), 3, "two refusals, then the create");

    let config = cloud.config(REGION).await;
    let eks = aws_sdk_eks::Client::new(&config);
    let policies = eks.list_associated_access_policies().cluster_name(CLUSTER).principal_arn(admin).send().await.unwrap();
    let arns: Vec<&str> = policies.associated_access_policies().iter().filter_map(|p| p.policy_arn()).collect();
    assert_eq!(arns, ["arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"]);

    // Version, logging and scaling change in place; the plan says which fields.
    let updated = std::fs::read_to_string(&stack)
        .unwrap()
        .replace("version: \"1.33\"", "version: \"1.34\"\n  logging: [api, audit]")
        .replace("desired: 1, max: 2", "desired: 2, max: 2");
    std::fs::write(&stack, updated).unwrap();
    let plan = eksnet.run(&["-f", &stack, "plan"]).ok();
    assert!(plan.stdout.contains("~ eks_cluster.main") && plan.stdout.contains("version: \"1.33\" → \"1.34\""), "{}", plan.stdout);
    assert!(plan.stdout.contains("logging: [] → [\"api\", \"audit\"]"), "{}", plan.stdout);
    assert!(plan.stdout.contains("~ eks_nodegroup.default") && plan.stdout.contains("scaling[\"desired\"]: 1 → 2"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("-/+"), "nothing is replaced:\n{}", plan.stdout);
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let cluster = eks.describe_cluster().name(CLUSTER).send().await.unwrap().cluster().unwrap().clone();
    assert_eq!(cluster.version(), Some("1.34"));
    let ng = eks.describe_nodegroup().cluster_name(CLUSTER).nodegroup_name("default").send().await.unwrap().nodegroup().unwrap().clone();
    assert_eq!(ng.scaling_config().unwrap().desired_size(), Some(2));
    assert_eq!(cloud.positions("CreateCluster").len(), 3, "updated in place, not re-created");
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();

    // A cluster's subnets change in place (UpdateClusterConfig); a nodegroup's cannot, and the
    // plan says plainly that it is replaced and why.
    let moved = std::fs::read_to_string(&stack).unwrap().replace("[10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]", "[10.0.1.0/24, 10.0.2.0/24, 10.0.7.0/24]");
    std::fs::write(&stack, moved).unwrap();
    let plan = eksnet.run(&["-f", &stack, "plan"]).ok();
    assert!(plan.stdout.contains("~ eks_cluster.main") && !plan.stdout.contains("-/+ eks_cluster.main"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("-/+ eks_nodegroup.default") && plan.stdout.contains("REPLACES the nodegroup default because subnet.private"),
        "{}",
        plan.stdout
    );
    std::fs::write(&stack, std::fs::read_to_string(&stack).unwrap().replace("10.0.7.0/24]", "10.0.3.0/24]")).unwrap();
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
}
