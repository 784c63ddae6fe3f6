//! `eksnet import --from-terraform`: take over what `terraform apply` built, with the ids of
//! objects built here in localcloud the way Terraform builds them, then plan, apply and destroy;
//! and bad input that changes nothing. Two fixtures (tests/fixtures/terraform/): the AWS
//! sample (terraform-aws-modules, one NAT gateway of each kind, aws-node patched by a script)
//! and hand-written HCL (root-module resources with for_each and count, a NAT gateway of each
//! kind per zone, separate security group rules, the vpc-cni add-on).

use aws_sdk_ec2::types::{
    AttributeBooleanValue, ConnectivityType, DomainType, Filter, IpPermission, IpRange, Ipv6Range, ResourceType, Tag, TagSpecification, UserIdGroupPair,
};
use aws_sdk_eks::types::{
    AccessScope, AccessScopeType, AmiTypes, AuthenticationMode, CapacityTypes, CreateAccessConfigRequest, LogSetup, LogType, Logging, NodegroupScalingConfig,
    VpcConfigRequest,
};
use serde_json::Value;

use crate::common::{LocalCloud, kubectl, repo};

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

/// Polls `done` every 200 ms, up to a minute.
async fn until<F: std::future::Future<Output = bool>>(what: &str, done: impl Fn() -> F) {
    for _ in 0..300 {
        if done().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("{what} did not happen within a minute");
}

/// The cluster an EKS build makes, as Terraform's arguments say it.
struct ClusterSpec<'a> {
    name: &'a str,
    role_arn: &'a str,
    subnets: Vec<String>,
    endpoint_private: bool,
    logs: Vec<LogType>,
    mode: AuthenticationMode,
    tags: &'a [(&'a str, &'a str)],
}

/// The nodegroup, likewise.
struct NodegroupSpec<'a> {
    name: &'a str,
    role_arn: &'a str,
    subnets: Vec<String>,
    instance_type: &'a str,
    ami: AmiTypes,
    scaling: (i32, i32, i32),
    labels: &'a [(&'a str, &'a str)],
    tags: &'a [(&'a str, &'a str)],
}

/// Builds in localcloud, call by call with the SDK, what a `terraform apply` builds, and records
/// each fixture placeholder (`__VPC__`) with the real id.
struct Build {
    ec2: aws_sdk_ec2::Client,
    eks: aws_sdk_eks::Client,
    iam: aws_sdk_iam::Client,
    ids: Vec<(String, String)>,
}

impl Build {
    async fn new(cloud: &LocalCloud, region: &str) -> Build {
        let config = cloud.config(region).await;
        Build { ec2: aws_sdk_ec2::Client::new(&config), eks: aws_sdk_eks::Client::new(&config), iam: aws_sdk_iam::Client::new(&config), ids: vec![] }
    }

    fn put(&mut self, placeholder: &str, id: &str) {
        self.ids.push((format!("__{placeholder}__"), id.to_string()));
    }

    /// A VPC with DNS hostnames and a secondary CIDR.
    async fn vpc(&mut self, cidr: &str, secondary: &str, tagged: &[(&str, &str)]) -> String {
        let vpc = self.ec2.create_vpc().cidr_block(cidr).tag_specifications(tags(ResourceType::Vpc, tagged)).send().await.unwrap();
        let vpc = vpc.vpc().unwrap().vpc_id().unwrap().to_string();
        self.ec2.modify_vpc_attribute().vpc_id(&vpc).enable_dns_hostnames(yes()).send().await.unwrap();
        self.put("VPC", &vpc);
        let assoc = self.ec2.associate_vpc_cidr_block().vpc_id(&vpc).cidr_block(secondary).send().await.unwrap();
        self.put("CIDR_ASSOC", assoc.cidr_block_association().unwrap().association_id().unwrap());
        vpc
    }

    async fn subnet(&mut self, placeholder: &str, vpc: &str, cidr: &str, zone: &str, public: bool, tagged: &[(&str, &str)]) -> String {
        let s = self
            .ec2
            .create_subnet()
            .vpc_id(vpc)
            .cidr_block(cidr)
            .availability_zone(zone)
            .tag_specifications(tags(ResourceType::Subnet, tagged))
            .send()
            .await
            .unwrap();
        let id = s.subnet().unwrap().subnet_id().unwrap().to_string();
        if public {
            self.ec2.modify_subnet_attribute().subnet_id(&id).map_public_ip_on_launch(yes()).send().await.unwrap();
        }
        self.put(placeholder, &id);
        id
    }

    async fn internet_gateway(&mut self, vpc: &str, tagged: &[(&str, &str)]) -> String {
        let igw = self.ec2.create_internet_gateway().tag_specifications(tags(ResourceType::InternetGateway, tagged)).send().await.unwrap();
        let igw = igw.internet_gateway().unwrap().internet_gateway_id().unwrap().to_string();
        self.ec2.attach_internet_gateway().internet_gateway_id(&igw).vpc_id(vpc).send().await.unwrap();
        self.put("IGW", &igw);
        igw
    }

    /// A public NAT gateway with its Elastic IP (`eip`: the placeholder of its allocation id),
    /// or a private one (`eip` None).
    async fn nat(&mut self, placeholder: &str, subnet: &str, eip: Option<&str>, tagged: &[(&str, &str)]) -> String {
        let mut create = self.ec2.create_nat_gateway().subnet_id(subnet).tag_specifications(tags(ResourceType::Natgateway, tagged));
        match eip {
            Some(eip_placeholder) => {
                let eip = self.ec2.allocate_address().domain(DomainType::Vpc).tag_specifications(tags(ResourceType::ElasticIp, tagged)).send().await.unwrap();
                let eip = eip.allocation_id().unwrap().to_string();
                self.put(eip_placeholder, &eip);
                create = create.allocation_id(eip);
            }
            None => create = create.connectivity_type(ConnectivityType::Private),
        }
        let nat = create.send().await.unwrap().nat_gateway().unwrap().nat_gateway_id().unwrap().to_string();
        self.put(placeholder, &nat);
        nat
    }

    async fn nats_available(&self, nats: &[&String]) {
        let ec2 = &self.ec2;
        until("the NAT gateways become available", || async move {
            let found = ec2.describe_nat_gateways().set_nat_gateway_ids(Some(nats.iter().map(|n| n.to_string()).collect())).send().await.unwrap();
            found.nat_gateways().iter().all(|n| n.state().map(|s| s.as_str()) == Some("available"))
        })
        .await;
    }

    /// A route table whose 0.0.0.0/0 goes to `gateway` or `nat`, associated with `subnets`
    /// (association placeholder, subnet id).
    async fn route_table(
        &mut self,
        placeholder: &str,
        vpc: &str,
        gateway: Option<&str>,
        nat: Option<&str>,
        subnets: &[(String, String)],
        tagged: &[(&str, &str)],
    ) -> String {
        let rt = self.ec2.create_route_table().vpc_id(vpc).tag_specifications(tags(ResourceType::RouteTable, tagged)).send().await.unwrap();
        let rt = rt.route_table().unwrap().route_table_id().unwrap().to_string();
        self.ec2
            .create_route()
            .route_table_id(&rt)
            .destination_cidr_block("0.0.0.0/0")
            .set_gateway_id(gateway.map(str::to_string))
            .set_nat_gateway_id(nat.map(str::to_string))
            .send()
            .await
            .unwrap();
        for (association, subnet) in subnets {
            let a = self.ec2.associate_route_table().route_table_id(&rt).subnet_id(subnet).send().await.unwrap();
            self.put(association, a.association_id().unwrap());
        }
        self.put(placeholder, &rt);
        rt
    }

    /// IAM roles (name, trusted service, AWS managed policies), their ARNs; puts the account.
    async fn roles(&mut self, roles: &[(&str, &str, &[&str])]) -> Vec<String> {
        let mut arns = vec![];
        for (role, service, policies) in roles {
            let document =
                format!(r#"{{"Statement":[{{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{{"Service":"{service}"}}}}],"Version":"2012-10-17"}}"#);
            let r = self.iam.create_role().role_name(*role).assume_role_policy_document(document).send().await.unwrap();
            arns.push(r.role().unwrap().arn().to_string());
            for p in *policies {
                self.iam.attach_role_policy().role_name(*role).policy_arn(format!("arn:aws:iam::aws:policy/{p}")).send().await.unwrap();
            }
        }
        let account = arns[0].split(':').nth(4).unwrap().to_string();
        self.put("ACCOUNT", &account);
        arns
    }

    /// The cluster, once ACTIVE; puts its security group, endpoint and CA.
    async fn cluster(&mut self, c: ClusterSpec<'_>) {
        self.eks
            .create_cluster()
            .name(c.name)
            .version("1.32")
            .role_arn(c.role_arn)
            .resources_vpc_config(
                VpcConfigRequest::builder().set_subnet_ids(Some(c.subnets)).endpoint_public_access(true).endpoint_private_access(c.endpoint_private).build(),
            )
            .logging(Logging::builder().cluster_logging(LogSetup::builder().enabled(true).set_types(Some(c.logs)).build()).build())
            .access_config(CreateAccessConfigRequest::builder().authentication_mode(c.mode).bootstrap_cluster_creator_admin_permissions(true).build())
            .set_tags(Some(c.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
            .send()
            .await
            .unwrap();
        let (eks, name) = (&self.eks, c.name);
        until("the cluster becomes ACTIVE", || async move {
            let found = eks.describe_cluster().name(name).send().await.unwrap();
            found.cluster().unwrap().status().map(|s| s.as_str()) == Some("ACTIVE")
        })
        .await;
        let described = self.eks.describe_cluster().name(name).send().await.unwrap();
        let cluster = described.cluster().unwrap();
        self.put("CLUSTER_SG", cluster.resources_vpc_config().unwrap().cluster_security_group_id().unwrap_or_default());
        self.put("ENDPOINT", cluster.endpoint().unwrap_or_default());
        self.put("CA_DATA", cluster.certificate_authority().and_then(|c| c.data()).unwrap_or_default());
    }

    /// A managed nodegroup, once ACTIVE; puts the UUID its ARN ends with.
    async fn nodegroup(&mut self, cluster: &str, n: NodegroupSpec<'_>) {
        let (min, desired, max) = n.scaling;
        let ng = self
            .eks
            .create_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(n.name)
            .node_role(n.role_arn)
            .set_subnets(Some(n.subnets))
            .instance_types(n.instance_type)
            .ami_type(n.ami)
            .capacity_type(CapacityTypes::OnDemand)
            .disk_size(20)
            .scaling_config(NodegroupScalingConfig::builder().min_size(min).desired_size(desired).max_size(max).build())
            .set_labels(Some(n.labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
            .set_tags(Some(n.tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
            .send()
            .await
            .unwrap();
        let arn = ng.nodegroup().unwrap().nodegroup_arn().unwrap().to_string();
        self.put("NG_UUID", arn.rsplit('/').next().unwrap());
        let (eks, name) = (&self.eks, n.name);
        until("the nodegroup becomes ACTIVE", || async move {
            let found = eks.describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await.unwrap();
            found.nodegroup().unwrap().status().map(|s| s.as_str()) == Some("ACTIVE")
        })
        .await;
    }

    /// An EKS add-on with Terraform's configuration values, once ACTIVE; puts the UUID its ARN
    /// ends with (`ADDON_UUID_VPC_CNI`).
    async fn addon(&mut self, cluster: &str, name: &str, configuration: Option<&str>, tagged: &[(&str, &str)]) {
        let made = self
            .eks
            .create_addon()
            .cluster_name(cluster)
            .addon_name(name)
            .set_configuration_values(configuration.map(str::to_string))
            .set_tags(Some(tagged.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()))
            .send()
            .await
            .unwrap();
        let arn = made.addon().unwrap().addon_arn().unwrap().to_string();
        self.put(&format!("ADDON_UUID_{}", name.to_uppercase().replace('-', "_")), arn.rsplit('/').next().unwrap());
        let eks = &self.eks;
        until("the add-on becomes ACTIVE", || async move {
            let a = eks.describe_addon().cluster_name(cluster).addon_name(name).send().await.unwrap();
            a.addon().unwrap().status().map(|s| s.as_str()) == Some("ACTIVE")
        })
        .await;
    }

    /// The fixture with the real ids put in.
    fn state(&self, fixture: &str) -> String {
        let mut text = std::fs::read_to_string(repo().join("tests/fixtures/terraform").join(fixture)).unwrap();
        for (placeholder, id) in &self.ids {
            text = text.replace(placeholder, id);
        }
        text
    }

    fn id(&self, placeholder: &str) -> String {
        self.ids.iter().find(|(p, _)| *p == format!("__{placeholder}__")).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("no __{placeholder}__"))
    }
}

/// What the sample's `terraform apply` builds (names and tags as terraform-aws-modules/vpc 3.7.0
/// and eks 18.x set them).
async fn build_sample(cloud: &LocalCloud) -> Build {
    let mut b = Build::new(cloud, REGION).await;
    let name = [("Name", "terraform-demo-vpc")];
    let vpc = b.vpc("10.0.0.0/16", "100.64.0.0/16", &name).await;
    let mut subnets = std::collections::BTreeMap::new();
    for (tier, cidrs) in [
        ("public", ["10.0.4.0/24", "10.0.5.0/24", "10.0.6.0/24"]),
        ("private", ["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]),
        ("intra", ["100.64.1.0/24", "100.64.2.0/24", "100.64.3.0/24"]),
    ] {
        for (i, (cidr, zone)) in cidrs.iter().zip(["a", "b", "c"]).enumerate() {
            let az = format!("{REGION}{zone}");
            let label = format!("terraform-demo-vpc-{tier}-{az}");
            let placeholder = format!("SUBNET_{}_{i}", tier.to_uppercase());
            let id = b.subnet(&placeholder, &vpc, cidr, &az, tier == "public", &[("Name", &label)]).await;
            subnets.insert((tier, i), id);
        }
    }
    let igw = b.internet_gateway(&vpc, &name).await;
    let nat_name = [("Name", "terraform-demo-vpc-ap-southeast-2a")];
    let public_nat = b.nat("NAT_PUBLIC", &subnets[&("public", 0)], Some("EIP"), &nat_name).await;
    let private_nat = b.nat("NAT_PRIVATE", &subnets[&("private", 0)], None, &[]).await;
    b.nats_available(&[&public_nat, &private_nat]).await;
    for (tier, gateway, nat) in [("public", Some(&igw), None), ("private", None, Some(&public_nat)), ("intra", None, Some(&private_nat))] {
        let associations: Vec<(String, String)> = (0..3).map(|i| (format!("RTA_{}_{i}", tier.to_uppercase()), subnets[&(tier, i)].clone())).collect();
        let label = format!("terraform-demo-vpc-{tier}");
        let placeholder = format!("RT_{}", tier.to_uppercase());
        b.route_table(&placeholder, &vpc, gateway.map(|s| s.as_str()), nat.map(|s| s.as_str()), &associations, &[("Name", &label)]).await;
    }
    // sample-sg.tf: example_sg, http from the VPC, all egress (IPv4 and IPv6).
    let sg = b.ec2.create_security_group().group_name("example_sg").description("Managed by Terraform").vpc_id(&vpc).send().await.unwrap();
    let sg = sg.group_id().unwrap().to_string();
    let http = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(80)
        .to_port(80)
        .ip_ranges(IpRange::builder().cidr_ip("10.0.0.0/16").description("allow http").build())
        .build();
    b.ec2.authorize_security_group_ingress().group_id(&sg).ip_permissions(http).send().await.unwrap();
    let v6 = IpPermission::builder().ip_protocol("-1").ipv6_ranges(Ipv6Range::builder().cidr_ipv6("::/0").build()).build();
    b.ec2.authorize_security_group_egress().group_id(&sg).ip_permissions(v6).send().await.unwrap();
    b.put("SG_POD", &sg);

    // iam.tf's node role and the EKS module's cluster role.
    let roles = b
        .roles(&[
            (NODE_ROLE, "ec2.amazonaws.com", &["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"]),
            (CLUSTER_ROLE, "eks.amazonaws.com", &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"]),
        ])
        .await;
    let private: Vec<String> = (0..3).map(|i| subnets[&("private", i)].clone()).collect();
    let logs = vec![LogType::Api, LogType::Audit, LogType::Authenticator, LogType::ControllerManager, LogType::Scheduler];
    let cluster = ClusterSpec {
        name: CLUSTER,
        role_arn: &roles[1],
        subnets: private.clone(),
        endpoint_private: false,
        logs,
        mode: AuthenticationMode::ApiAndConfigMap,
        tags: &[],
    };
    b.cluster(cluster).await;
    let ng_name = format!("{CLUSTER}-node-group-default");
    let nodegroup = NodegroupSpec {
        name: &ng_name,
        role_arn: &roles[0],
        subnets: private,
        instance_type: "c5.large",
        ami: AmiTypes::Al2X8664,
        scaling: (1, 1, 2),
        labels: &[],
        tags: &[],
    };
    b.nodegroup(CLUSTER, nodegroup).await;
    b
}

const HAND_REGION: &str = "eu-west-1";
const HAND_CLUSTER: &str = "pods-demo";
/// The provider's `default_tags`: on every object, in `tags_all`.
const PROJECT: (&str, &str) = ("Project", "pods-demo");

/// What `terraform apply` of hand-written HCL builds (tests/fixtures/terraform/README.md): two
/// zones, a public and a private NAT gateway in each, the pods' security group with separate
/// rules, the vpc-cni add-on configured for custom networking.
async fn build_hand_written(cloud: &LocalCloud) -> Build {
    let mut b = Build::new(cloud, HAND_REGION).await;
    let vpc = b.vpc("10.20.0.0/16", "100.64.0.0/16", &[("Name", "pods-demo"), PROJECT]).await;
    let mut subnets = std::collections::BTreeMap::new();
    for (i, zone) in ["a", "b"].into_iter().enumerate() {
        let az = format!("{HAND_REGION}{zone}");
        let key = zone.to_uppercase();
        for (tier, placeholder, cidr, role) in [
            ("public", format!("SUBNET_PUBLIC_{key}"), format!("10.20.{i}.0/24"), Some("kubernetes.io/role/elb")),
            ("private", format!("SUBNET_PRIVATE_{key}"), format!("10.20.{}.0/24", 10 + i), Some("kubernetes.io/role/internal-elb")),
            ("pods", format!("SUBNET_PODS_{i}"), format!("100.64.{}.0/18", 64 * i), None),
        ] {
            let name = format!("pods-demo-{tier}-{zone}");
            let mut tagged = vec![("Name", name.as_str()), PROJECT];
            tagged.extend(role.map(|r| (r, "1")));
            let id = b.subnet(&placeholder, &vpc, &cidr, &az, tier == "public", &tagged).await;
            subnets.insert((tier, zone), (placeholder, id));
        }
    }
    let igw = b.internet_gateway(&vpc, &[("Name", "pods-demo"), PROJECT]).await;
    let mut nats = std::collections::BTreeMap::new();
    for zone in ["a", "b"] {
        let key = zone.to_uppercase();
        let eip = format!("EIP_{key}");
        let public =
            b.nat(&format!("NAT_PUBLIC_{key}"), &subnets[&("public", zone)].1, Some(&eip), &[("Name", &format!("pods-demo-nat-{zone}")), PROJECT]).await;
        let private =
            b.nat(&format!("NAT_PRIVATE_{key}"), &subnets[&("private", zone)].1, None, &[("Name", &format!("pods-demo-private-nat-{zone}")), PROJECT]).await;
        nats.insert(zone, (public, private));
    }
    b.nats_available(&nats.values().flat_map(|(a, b)| [a, b]).collect::<Vec<_>>()).await;
    let association = |tier: &str, zone: &str| {
        let (subnet_placeholder, id) = &subnets[&(tier, zone)];
        (subnet_placeholder.replace("SUBNET_", "RTA_"), id.clone())
    };
    let public: Vec<(String, String)> = ["a", "b"].iter().map(|z| association("public", z)).collect();
    b.route_table("RT_PUBLIC", &vpc, Some(&igw), None, &public, &[("Name", "pods-demo-public"), PROJECT]).await;
    for (i, zone) in ["a", "b"].into_iter().enumerate() {
        let (public_nat, private_nat) = &nats[zone];
        let private_name = format!("pods-demo-private-{zone}");
        let private = [association("private", zone)];
        b.route_table(&format!("RT_PRIVATE_{}", zone.to_uppercase()), &vpc, None, Some(public_nat), &private, &[("Name", &private_name), PROJECT]).await;
        let pods_name = format!("pods-demo-pods-{zone}");
        let pods = [association("pods", zone)];
        b.route_table(&format!("RT_PODS_{i}"), &vpc, None, Some(private_nat), &pods, &[("Name", &pods_name), PROJECT]).await;
    }

    // aws_security_group.pods and its separate rules; its default all-out egress is the one
    // aws_vpc_security_group_egress_rule.pods_all puts back.
    let sg = b
        .ec2
        .create_security_group()
        .group_name("pods-demo-pods")
        .description("Pods with a security group of their own")
        .vpc_id(&vpc)
        .tag_specifications(tags(ResourceType::SecurityGroup, &[("Name", "pods-demo-pods"), PROJECT]))
        .send()
        .await
        .unwrap();
    let sg = sg.group_id().unwrap().to_string();
    b.put("SG_PODS", &sg);
    let http = IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(80)
        .to_port(80)
        .ip_ranges(IpRange::builder().cidr_ip("10.20.0.0/16").description("http from the VPC").build())
        .build();
    let itself =
        IpPermission::builder().ip_protocol("-1").user_id_group_pairs(UserIdGroupPair::builder().group_id(&sg).description("pods to pods").build()).build();
    for (placeholder, rule) in [("SGR_HTTP", http), ("SGR_SELF", itself)] {
        let made = b.ec2.authorize_security_group_ingress().group_id(&sg).ip_permissions(rule).send().await.unwrap();
        b.put(placeholder, made.security_group_rules()[0].security_group_rule_id().unwrap());
    }
    let rules = b.ec2.describe_security_group_rules().filters(Filter::builder().name("group-id").values(&sg).build()).send().await.unwrap();
    let egress = rules.security_group_rules().iter().find(|r| r.is_egress() == Some(true)).unwrap();
    b.put("SGR_ALL", egress.security_group_rule_id().unwrap());

    let roles = b
        .roles(&[
            ("pods-demo-cluster", "eks.amazonaws.com", &["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"]),
            ("pods-demo-node", "ec2.amazonaws.com", &["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"]),
        ])
        .await;
    let private: Vec<String> = ["a", "b"].iter().map(|z| subnets[&("private", *z)].1.clone()).collect();
    let cluster = ClusterSpec {
        name: HAND_CLUSTER,
        role_arn: &roles[0],
        subnets: private.clone(),
        endpoint_private: true,
        logs: vec![LogType::Api, LogType::Audit],
        mode: AuthenticationMode::Api,
        tags: &[PROJECT],
    };
    b.cluster(cluster).await;
    // The add-on's configuration as the fixture has it (the zones' pod subnets, the cluster
    // security group), so that what exists is what the state says.
    let state: Value = serde_json::from_str(&b.state("hand-written.tfstate.json")).unwrap();
    let addon = state["resources"].as_array().unwrap().iter().find(|r| r["type"] == "aws_eks_addon" && r["name"] == "vpc_cni").unwrap();
    let configuration = addon["instances"][0]["attributes"]["configuration_values"].as_str().unwrap().to_string();
    b.addon(HAND_CLUSTER, "vpc-cni", Some(&configuration), &[PROJECT]).await;
    b.addon(HAND_CLUSTER, "kube-proxy", None, &[PROJECT]).await;
    let nodegroup = NodegroupSpec {
        name: "general",
        role_arn: &roles[1],
        subnets: private,
        instance_type: "m5.large",
        ami: AmiTypes::Al2023X8664Standard,
        scaling: (2, 2, 4),
        labels: &[("workload", "general")],
        tags: &[("Team", "platform"), PROJECT],
    };
    b.nodegroup(HAND_CLUSTER, nodegroup).await;
    // aws_eks_access_entry.this["admin"] / ["viewer"] and their policy associations.
    let principals = b.roles(&[("pods-demo-admin", "ec2.amazonaws.com", &[]), ("pods-demo-viewer", "ec2.amazonaws.com", &[])]).await;
    for ((who, policy, scope), principal) in
        [("ADMIN", "AmazonEKSClusterAdminPolicy", AccessScopeType::Cluster), ("VIEWER", "AmazonEKSViewPolicy", AccessScopeType::Namespace)]
            .into_iter()
            .zip(principals)
    {
        let made = b.eks.create_access_entry().cluster_name(HAND_CLUSTER).principal_arn(&principal).tags(PROJECT.0, PROJECT.1).send().await.unwrap();
        let arn = made.access_entry().unwrap().access_entry_arn().unwrap().to_string();
        b.put(&format!("ACCESS_ENTRY_UUID_{who}"), arn.rsplit('/').next().unwrap());
        let namespaces = if scope == AccessScopeType::Namespace { Some(vec!["default".to_string()]) } else { None };
        b.eks
            .associate_access_policy()
            .cluster_name(HAND_CLUSTER)
            .principal_arn(&principal)
            .policy_arn(format!("arn:aws:eks::aws:cluster-access-policy/{policy}"))
            .access_scope(AccessScope::builder().r#type(scope).set_namespaces(namespaces).build())
            .send()
            .await
            .unwrap();
    }
    b
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
    let built = build_sample(&cloud).await;
    let id = |k: &str| built.id(k);
    let eksnet = cloud.eksnet();
    // The sample's null_resource scripts: kubectl patches aws-node and applies ENIConfigs that
    // name the EKS module's node security group (an id outside what the import takes).
    let kubeconfig = eksnet.kubeconfig(CLUSTER, REGION, &id("ENDPOINT"), &id("CA_DATA"));
    let env = ["AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG=true", "ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone", "ENABLE_POD_ENI=true"];
    kubectl(&cloud, &kubeconfig, &[&["-n", "kube-system", "set", "env", "daemonset/aws-node"][..], &env].concat(), None);
    let eniconfigs: Vec<String> = (0..3)
        .map(|i| {
            let zone = format!("{REGION}{}", ["a", "b", "c"][i]);
            let subnet = id(&format!("SUBNET_INTRA_{i}"));
            format!("apiVersion: crd.k8s.amazonaws.com/v1alpha1\nkind: ENIConfig\nmetadata: {{name: {zone}}}\nspec: {{subnet: {subnet}, securityGroups: [sg-0e1c5a0de0d0node1]}}\n")
        })
        .collect();
    kubectl(&cloud, &kubeconfig, &["apply", "-f", "-"], Some(&eniconfigs.join("---\n")));
    // kubernetes_namespace.example and kubernetes_deployment.example, which the Kubernetes
    // provider creates (POST) from its state's attributes.
    kubectl(&cloud, &kubeconfig, &["create", "-f", "-"], Some(SAMPLE_WORKLOAD));
    // A state of another account (the VPC's owner_id): refused before anything is tagged.
    std::fs::write(eksnet.path("foreign.tfstate"), built.state("aws-sample.tfstate.json").replace(&id("ACCOUNT"), "210987654321")).unwrap();
    let foreign = eksnet.run(&["-f", "stack.yaml", "import", "--from-terraform", "foreign.tfstate", "--auto-approve"]);
    assert_eq!(foreign.code, 1, "{}", foreign.stderr);
    assert!(
        foreign.stderr.contains(&format!("objects are in account 210987654321, but these credentials are for account {}", id("ACCOUNT"))),
        "{}",
        foreign.stderr
    );
    assert!(!eksnet.path("stack.yaml").exists(), "no stack file left behind");
    assert!(vpc_tags(&cloud, &id("VPC")).await.iter().all(|(k, _)| !k.starts_with("eksnet:")), "nothing tagged");
    std::fs::write(eksnet.path("terraform.tfstate"), built.state("aws-sample.tfstate.json")).unwrap();

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
    for rm in ["terraform state rm 'kubernetes_namespace.example'", "terraform state rm 'kubernetes_deployment.example'"] {
        assert!(out.stdout.contains(rm), "missing `{rm}` in\n{}", out.stdout);
    }
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
    // The CNI's settings read from the cluster, since the state has no add-on configuration.
    for line in [
        "  # read from the cluster (the aws-node DaemonSet's env and the ENIConfig objects):",
        "  # ENABLE_POD_ENI=true, as eksnet sets it;",
        "  # external_snat from AWS_VPC_K8S_CNI_EXTERNALSNAT=false;",
        "  external_snat: false",
        "  eni_security_groups: [cluster]",
        "# NOTE: the ENIConfigs name sg-0e1c5a0de0d0node1, outside the stack",
        "the first `eksnet apply --force-conflicts` takes them over",
    ] {
        assert!(stack.contains(line), "missing `{line}` in\n{stack}");
    }
    // The Kubernetes objects: templates of the live objects, without the server's fields, in
    // the stack's manifests, and in eksnet's state.
    let deployment_template = "templates/imported/deployment-test-namespace-deployment-example.yaml";
    for line in ["  - path: templates/imported/namespace-test-namespace.yaml   # kubernetes_namespace.example", "    wait: true"] {
        assert!(stack.contains(line), "missing `{line}` in\n{stack}");
    }
    assert!(stack.contains(&format!("  - path: {deployment_template}   # kubernetes_deployment.example")), "{stack}");
    let template = std::fs::read_to_string(eksnet.path(deployment_template)).unwrap();
    for want in ["kind: Deployment", "image: nginx:latest", "role: test-role", "namespace: test-namespace"] {
        assert!(template.contains(want), "missing `{want}` in\n{template}");
    }
    let body: String = template.lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n");
    for server in ["resourceVersion", "uid:", "status:", "managedFields", "creationTimestamp", "eksnet.io"] {
        assert!(!body.contains(server), "`{server}` in\n{template}");
    }
    let kube = ["k8s_manifest.namespace[\"test-namespace\"]", "k8s_manifest.deployment[\"test-namespace/deployment-example\"]"];
    let recorded = state_addresses(&eksnet);
    for address in kube {
        assert!(recorded.iter().any(|a| a == address), "{address} not in the state: {recorded:?}");
    }
    let marks = vpc_tags(&cloud, &id("VPC")).await;
    assert!(marks.contains(&("eksnet:stack".into(), "cnicustomnetworkdemoeks".into())), "{marks:?}");
    assert!(marks.contains(&("eksnet:address".into(), "vpc.main".into())), "{marks:?}");

    // The plan replaces and deletes nothing; what it changes is documented in
    // docs/migrate-from-terraform.md ("The first plan").
    let (seen, undocumented) = first_plan(&eksnet);
    assert!(undocumented.is_empty(), "undocumented differences:\n{}", undocumented.join("\n"));
    assert!(seen.contains(&"update vpc.main".to_string()), "{seen:?}");
    assert!(seen.iter().all(|c| !c.contains("test-namespace")), "the imported Kubernetes objects are as their templates say: {seen:?}");
    assert!(
        seen.contains(&"update eks_cluster.main".to_string()) && seen.contains(&"create k8s_manifest.eniconfig[\"ap-southeast-2a\"]".to_string()),
        "{seen:?}"
    );

    // Apply converges those differences in place: the same VPC, subnets, NAT gateways and
    // cluster afterwards, and a plan with nothing left to do.
    let before: Vec<(String, Value)> = state_ids(&eksnet);
    // kubectl wrote the ENIConfigs: eksnet takes their fields over, as the stack's note says.
    let applied = eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve", "--force-conflicts"]).ok();
    assert!(applied.stderr.contains("0 destroyed"), "{}", applied.stderr);
    let after = state_ids(&eksnet);
    for (address, id) in &before {
        assert_eq!(after.iter().find(|(a, _)| a == address).map(|(_, v)| v), Some(id), "{address} kept its object");
    }
    let again = eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    // Destroy removes what the stack owns, the Kubernetes objects first, and leaves what it did
    // not take (the roles).
    let destroyed = eksnet.run(&["-f", "stack.yaml", "destroy", "--auto-approve"]).ok();
    for address in kube {
        assert!(destroyed.stderr.contains(&format!("destroyed {address}")), "{address} not destroyed:\n{}", destroyed.stderr);
    }
    assert!(vpc_tags(&cloud, &id("VPC")).await.is_empty(), "the VPC is gone");
    let config = cloud.config(REGION).await;
    let eks = aws_sdk_eks::Client::new(&config);
    assert!(eks.describe_cluster().name(CLUSTER).send().await.is_err(), "the cluster is gone");
    let iam = aws_sdk_iam::Client::new(&config);
    for role in [NODE_ROLE, CLUSTER_ROLE] {
        assert!(iam.get_role().role_name(role).send().await.is_ok(), "{role} stays: the stack used it by ARN");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn import_takes_over_hand_written_hcl_with_nat_gateways_per_zone() {
    let cloud = LocalCloud::start_with(&["--profile", "none", "--strict", "--config", r#"{"ec2_consistency": false}"#]);
    let built = build_hand_written(&cloud).await;
    let id = |k: &str| built.id(k);
    let eksnet = cloud.eksnet();
    std::fs::write(eksnet.path("terraform.tfstate"), built.state("hand-written.tfstate.json")).unwrap();
    let out = eksnet.run(&["-f", "stack.yaml", "import", "--from-terraform", "terraform.tfstate", "--auto-approve"]).ok();
    for rm in [
        "terraform state rm 'aws_subnet.pods[1]'",
        "terraform state rm 'aws_nat_gateway.public[\"b\"]'",
        "terraform state rm 'aws_route.private_nat[\"a\"]'",
        "terraform state rm 'aws_vpc_security_group_ingress_rule.pods_http'",
        "terraform state rm 'aws_eks_addon.vpc_cni'",
        "terraform state rm 'aws_eks_access_entry.this[\"admin\"]'",
    ] {
        assert!(out.stdout.contains(rm), "missing `{rm}` in\n{}", out.stdout);
    }
    let stack = std::fs::read_to_string(eksnet.path("stack.yaml")).unwrap();
    for line in [
        "availability_zones: [eu-west-1a, eu-west-1b]\n",
        "tags: {Project: pods-demo}",
        "    cidrs: [100.64.0.0/18, 100.64.64.0/18]",
        "  public: per_az",
        "  private: per_az",
        "    group_name: pods-demo-pods",
        "      - {protocol: all, self: true, description: pods to pods}",
        "  mode: addon",
        "  external_snat: true",
        "  general:",
        "    labels: {workload: general}",
        "  admins: [\"arn:aws:iam::",
    ] {
        assert!(stack.contains(line), "missing `{line}` in\n{stack}");
    }
    assert!(!stack.contains("# NOTE"), "nothing the stack cannot say as it is:\n{stack}");
    assert!(out.stdout.contains("aws_eks_access_entry.this[\"viewer\"]: an access entry other than cluster admin"), "{}", out.stdout);

    // Only eksnet's Name tags differ; every object keeps its id.
    let (seen, undocumented) = first_plan(&eksnet);
    assert!(undocumented.is_empty(), "undocumented differences:\n{}", undocumented.join("\n"));
    assert!(seen.iter().all(|c| c.starts_with("update ")), "{seen:?}");
    let ids = state_ids(&eksnet);
    for (address, placeholder) in [
        ("nat_gateway.public[\"eu-west-1a\"]", "NAT_PUBLIC_A"),
        ("nat_gateway.public[\"eu-west-1b\"]", "NAT_PUBLIC_B"),
        ("nat_gateway.private[\"eu-west-1b\"]", "NAT_PRIVATE_B"),
        ("elastic_ip.nat[\"eu-west-1b\"]", "EIP_B"),
        ("route_table.private[\"eu-west-1a\"]", "RT_PRIVATE_A"),
        ("route_table.intra[\"eu-west-1b\"]", "RT_PODS_1"),
        ("subnet.intra[\"eu-west-1a\"]", "SUBNET_PODS_0"),
        ("security_group.pods", "SG_PODS"),
    ] {
        assert_eq!(ids.iter().find(|(a, _)| a == address).map(|(_, v)| v.clone()), Some(Value::from(id(placeholder))), "{address}");
    }
    let admin = format!("eks_access_entry.admin[\"arn:aws:iam::{}:role/pods-demo-admin\"]", id("ACCOUNT"));
    assert!(ids.iter().any(|(a, _)| *a == admin), "{admin} in {ids:?}");
    // Apply converges the names in place; then nothing is left to do.
    let applied = eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    assert!(applied.stderr.contains("0 destroyed"), "{}", applied.stderr);
    assert_eq!(state_ids(&eksnet), ids, "the same objects");
    let again = eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
}

/// The first plan after an import: each change (`update vpc.main`), and those that are not
/// documented in docs/migrate-from-terraform.md ("The first plan"): eksnet's Name tags and its
/// load-balancer role tags on public and private subnets, and the CNI's Kubernetes objects.
/// An import never makes the plan create AWS objects, replace or delete.
fn first_plan(eksnet: &crate::common::Eksnet) -> (Vec<String>, Vec<String>) {
    let plan = eksnet.run(&["-f", "stack.yaml", "plan", "--format", "json"]).ok();
    let plan: Value = serde_json::from_str(&plan.stdout).unwrap();
    let documented = ["tags[\"Name\"]", "tags[\"kubernetes.io/role/elb\"]", "tags[\"kubernetes.io/role/internal-elb\"]"];
    let mut seen = vec![];
    let mut undocumented = vec![];
    for c in plan["changes"].as_array().unwrap() {
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
    (seen, undocumented)
}

/// The sample's namespace and deployment (kubernetes_namespace.example and
/// kubernetes_deployment.example in aws-sample.tfstate.json).
const SAMPLE_WORKLOAD: &str = "apiVersion: v1
kind: Namespace
metadata: {name: test-namespace}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: deployment-example, namespace: test-namespace, labels: {test: MyExampleApp}}
spec:
  replicas: 2
  selector: {matchLabels: {test: MyExampleApp}}
  template:
    metadata: {labels: {role: test-role, test: MyExampleApp}}
    spec:
      containers: [{name: example, image: \"nginx:latest\"}]
";

/// Every address of the state, from `state pull`.
fn state_addresses(eksnet: &crate::common::Eksnet) -> Vec<String> {
    let state: Value = serde_json::from_str(&eksnet.run(&["-f", "stack.yaml", "state", "pull"]).ok().stdout).unwrap();
    state["resources"].as_object().map(|r| r.keys().cloned().collect()).unwrap_or_default()
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
