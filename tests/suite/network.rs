//! The reference network end to end: apply, what exists, no-op re-apply, drift, destroy.

use std::collections::BTreeMap;

use aws_sdk_ec2::types::Filter;

use crate::common::{LocalCloud, reference_stack};

const STACK: &str = "cni-custom-networking-demo";
const REGION: &str = "ap-southeast-2";

fn stack_filter() -> Filter {
    Filter::builder().name("tag:eksnet:stack").values(STACK).build()
}

fn tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

/// The address an `eksnet:address` tag names: AWS allows no `[` or `"` in tag values, so
/// `subnet.intra["ap-southeast-2a"]` is tagged `subnet.intra:ap-southeast-2a` (ownership.rs).
fn address_tag(tags: &[aws_sdk_ec2::types::Tag]) -> Option<String> {
    let value = tag(tags, "eksnet:address")?;
    Some(match value.split_once(':') {
        Some((head, key)) => format!("{head}[\"{key}\"]"),
        None => value.to_string(),
    })
}

async fn subnets(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::Subnet> {
    ec2.describe_subnets().filters(stack_filter()).into_paginator().items().send().try_collect().await.unwrap()
}

async fn route_tables(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::RouteTable> {
    ec2.describe_route_tables().filters(stack_filter()).into_paginator().items().send().try_collect().await.unwrap()
}

async fn nat_gateways(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::NatGateway> {
    let all: Vec<_> = ec2.describe_nat_gateways().filter(stack_filter()).into_paginator().items().send().try_collect().await.unwrap();
    all.into_iter().filter(|n| n.state().map(|s| s.as_str()) != Some("deleted")).collect()
}

async fn security_groups(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::SecurityGroup> {
    ec2.describe_security_groups().filters(stack_filter()).into_paginator().items().send().try_collect().await.unwrap()
}

async fn vpcs(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::Vpc> {
    ec2.describe_vpcs().filters(stack_filter()).into_paginator().items().send().try_collect().await.unwrap()
}

async fn internet_gateways(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::InternetGateway> {
    ec2.describe_internet_gateways().filters(stack_filter()).into_paginator().items().send().try_collect().await.unwrap()
}

/// Counts every object still tagged with the stack (NAT gateways in `deleted` excepted).
async fn tagged_objects(ec2: &aws_sdk_ec2::Client) -> usize {
    let eips = ec2.describe_addresses().filters(stack_filter()).send().await.unwrap().addresses().len();
    vpcs(ec2).await.len()
        + subnets(ec2).await.len()
        + internet_gateways(ec2).await.len()
        + eips
        + route_tables(ec2).await.len()
        + security_groups(ec2).await.len()
        + nat_gateways(ec2).await.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn reference_network_applies_converges_and_destroys() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let ec2 = cloud.ec2(REGION).await;

    let plan = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.stderr);
    assert!(plan.stdout.contains("+ subnet.intra[\"ap-southeast-2a\"]  100.64.1.0/24"), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan: 39 to add, 0 to change, 0 to destroy."), "{}", plan.stdout);

    let apply = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert!(apply.stderr.contains("Apply complete"), "{}", apply.stderr);
    let apply_calls = cloud.requests().len();

    // Exactly one VPC, with both CIDRs associated.
    let vpcs = vpcs(&ec2).await;
    assert_eq!(vpcs.len(), 1);
    let vpc = &vpcs[0];
    assert_eq!(vpc.cidr_block(), Some("10.0.0.0/16"));
    let mut cidrs: Vec<(&str, &str)> = vpc
        .cidr_block_association_set()
        .iter()
        .map(|a| (a.cidr_block().unwrap(), a.cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str()).unwrap()))
        .collect();
    cidrs.sort();
    assert_eq!(cidrs, vec![("10.0.0.0/16", "associated"), ("100.64.0.0/16", "associated")]);

    // Nine subnets in the right CIDRs and AZs, with the load balancer role tags.
    let subnets = subnets(&ec2).await;
    let mut layout = BTreeMap::new();
    for s in &subnets {
        let address = address_tag(s.tags()).unwrap();
        let address = address.as_str();
        layout.insert(address.to_string(), (s.cidr_block().unwrap().to_string(), s.availability_zone().unwrap().to_string()));
        let tier = address_tier(address);
        assert_eq!(s.map_public_ip_on_launch(), Some(tier == "public"), "{address}");
        match tier {
            "public" => assert_eq!(tag(s.tags(), "kubernetes.io/role/elb"), Some("1")),
            "private" => assert_eq!(tag(s.tags(), "kubernetes.io/role/internal-elb"), Some("1")),
            _ => assert_eq!(tag(s.tags(), "kubernetes.io/role/elb"), None),
        }
        assert_eq!(tag(s.tags(), "project"), Some("cni-custom-networking-demo"));
    }
    let expected: BTreeMap<String, (String, String)> = [("private", 1), ("public", 4), ("intra", 1)]
        .iter()
        .flat_map(|(tier, first)| {
            ["a", "b", "c"].iter().enumerate().map(move |(i, az)| {
                let cidr = if *tier == "intra" { format!("100.64.{}.0/24", first + i) } else { format!("10.0.{}.0/24", first + i) };
                (format!("subnet.{tier}[\"{REGION}{az}\"]"), (cidr, format!("{REGION}{az}")))
            })
        })
        .collect();
    assert_eq!(layout, expected);
    let subnet_id = |address: &str| subnets.iter().find(|s| address_tag(s.tags()).as_deref() == Some(address)).unwrap().subnet_id().unwrap().to_string();

    // NAT gateways: a public one in the first public subnet, a private one in the first private subnet.
    let nats = nat_gateways(&ec2).await;
    assert_eq!(nats.len(), 2);
    let nat = |kind: &str| nats.iter().find(|n| n.connectivity_type().map(|c| c.as_str()) == Some(kind)).unwrap();
    assert_eq!(nat("public").subnet_id(), Some(subnet_id(&format!("subnet.public[\"{REGION}a\"]")).as_str()));
    assert_eq!(nat("private").subnet_id(), Some(subnet_id(&format!("subnet.private[\"{REGION}a\"]")).as_str()));
    assert!(nat("public").nat_gateway_addresses().first().and_then(|a| a.allocation_id()).is_some());

    // Default routes: public → IGW, private → public NAT, intra → private NAT; every subnet associated.
    let igw = internet_gateways(&ec2).await;
    let igw_id = igw[0].internet_gateway_id().unwrap();
    assert_eq!(igw[0].attachments()[0].vpc_id(), vpc.vpc_id());
    let tables = route_tables(&ec2).await;
    assert_eq!(tables.len(), 3);
    for t in &tables {
        let address = tag(t.tags(), "eksnet:address").unwrap();
        let default = t.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).unwrap();
        match address {
            "route_table.public" => assert_eq!(default.gateway_id(), Some(igw_id)),
            "route_table.private" => assert_eq!(default.nat_gateway_id(), nat("public").nat_gateway_id()),
            "route_table.intra" => assert_eq!(default.nat_gateway_id(), nat("private").nat_gateway_id()),
            other => panic!("unexpected route table {other}"),
        }
        let tier = address.trim_start_matches("route_table.");
        let mut associated: Vec<String> = t.associations().iter().filter_map(|a| a.subnet_id()).map(str::to_string).collect();
        associated.sort();
        let mut want: Vec<String> = ["a", "b", "c"].iter().map(|az| subnet_id(&format!("subnet.{tier}[\"{REGION}{az}\"]"))).collect();
        want.sort();
        assert_eq!(associated, want, "{address}");
    }

    // The pod security group: tcp/80 from the VPC, all egress. (The other group of the stack,
    // coredns, lets the pods' DNS queries in.)
    let sgs = security_groups(&ec2).await;
    let mut names: Vec<&str> = sgs.iter().filter_map(|g| g.group_name()).collect();
    names.sort();
    assert_eq!(names, ["cni-custom-networking-demo-coredns", "cni-custom-networking-demo-pods"]);
    let sg = sgs.iter().find(|g| g.group_name() == Some("cni-custom-networking-demo-pods")).unwrap();
    let coredns = sgs.iter().find(|g| g.group_name() == Some("cni-custom-networking-demo-coredns")).unwrap();
    let mut dns: Vec<(Option<&str>, Option<i32>)> = coredns.ip_permissions().iter().map(|p| (p.ip_protocol(), p.from_port())).collect();
    dns.sort();
    assert_eq!(dns, [(Some("tcp"), Some(53)), (Some("udp"), Some(53))]);
    assert!(coredns.ip_permissions().iter().all(|p| p.user_id_group_pairs().iter().any(|g| g.group_id() == sg.group_id())), "DNS in from the pods' group");
    let ingress = sg.ip_permissions();
    assert_eq!(ingress.len(), 1);
    assert_eq!((ingress[0].ip_protocol(), ingress[0].from_port(), ingress[0].to_port()), (Some("tcp"), Some(80), Some(80)));
    assert_eq!(ingress[0].ip_ranges()[0].cidr_ip(), Some("10.0.0.0/16"));
    let egress = sg.ip_permissions_egress();
    assert_eq!(egress.len(), 1);
    assert_eq!((egress[0].ip_protocol(), egress[0].ip_ranges()[0].cidr_ip()), (Some("-1"), Some("0.0.0.0/0")));

    // A second apply changes nothing; plan says so with exit code 0.
    let again = eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    let before = cloud.requests().len();
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();
    let plan_calls = cloud.requests().len() - before;

    // Outputs and state.
    let outputs = eksnet.run(&["-f", &stack, "output", "--json"]).ok();
    let outputs: serde_json::Value = serde_json::from_str(&outputs.stdout).unwrap();
    assert_eq!(outputs["vpc_id"], vpc.vpc_id().unwrap());
    assert_eq!(outputs["intra_subnet_ids"].as_array().unwrap().len(), 3);
    assert_eq!(outputs["security_group_ids"]["pods"], sg.group_id().unwrap());
    let list = eksnet.run(&["-f", &stack, "state", "list"]).ok();
    assert_eq!(list.stdout.lines().count(), 39);

    // Drift: a subnet deleted and a tag removed behind eksnet's back show in the plan.
    // An intra subnet no pod uses (the pods' ENIs sit in the intra subnet of their node's zone,
    // and a subnet with ENIs cannot be deleted), and its CIDR.
    let mut free = None;
    for (zone, cidr) in [("c", "100.64.3.0/24"), ("b", "100.64.2.0/24"), ("a", "100.64.1.0/24")] {
        let id = subnet_id(&format!("subnet.intra[\"{REGION}{zone}\"]"));
        let enis = ec2.describe_network_interfaces().filters(aws_sdk_ec2::types::Filter::builder().name("subnet-id").values(&id).build()).send().await.unwrap();
        if enis.network_interfaces().is_empty() {
            free = Some((id, zone, cidr));
            break;
        }
    }
    let (intra_c, zone, cidr) = free.expect("an intra subnet without network interfaces");
    let assoc = tables.iter().flat_map(|t| t.associations()).find(|a| a.subnet_id() == Some(intra_c.as_str())).unwrap();
    ec2.disassociate_route_table().association_id(assoc.route_table_association_id().unwrap()).send().await.unwrap();
    ec2.delete_subnet().subnet_id(&intra_c).send().await.unwrap();
    ec2.delete_tags().resources(vpc.vpc_id().unwrap()).tags(aws_sdk_ec2::types::Tag::builder().key("project").build()).send().await.unwrap();
    let drift = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(drift.code, 2, "{}", drift.stderr);
    assert!(drift.stdout.contains(&format!("+ subnet.intra[\"{REGION}{zone}\"]  {cidr}  (was deleted outside eksnet)")), "{}", drift.stdout);
    assert!(drift.stdout.contains(&format!("+ route_table_association.intra[\"{REGION}{zone}\"]")), "{}", drift.stdout);
    assert!(drift.stdout.contains("~ vpc.main") && drift.stdout.contains("tags[\"project\"]: (none) → \"cni-custom-networking-demo\""), "{}", drift.stdout);
    // The CNI add-on's ENIConfig for that AZ names the subnet, so it follows.
    assert!(drift.stdout.contains("~ eks_addon.vpc_cni") && drift.stdout.contains("configuration_values"), "{}", drift.stdout);
    assert!(drift.stdout.contains("Plan: 2 to add, 2 to change, 0 to destroy."), "{}", drift.stdout);
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).ok();

    // Destroy removes everything the stack tagged.
    let before = cloud.requests().len();
    let destroy = eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
    assert!(destroy.stderr.contains("Destroy complete"), "{}", destroy.stderr);
    let destroy_calls = cloud.requests().len() - before;
    assert_eq!(tagged_objects(&ec2).await, 0);
    let vpc_left = ec2.describe_vpcs().vpc_ids(vpc.vpc_id().unwrap()).send().await;
    assert!(vpc_left.is_err() || vpc_left.unwrap().vpcs().is_empty());
    let list = eksnet.run(&["-f", &stack, "state", "list"]).ok();
    assert_eq!(list.stdout, "");
    eprintln!("API calls: apply {apply_calls}, no-change plan {plan_calls}, destroy {destroy_calls}");
}

fn address_tier(address: &str) -> &str {
    address.trim_start_matches("subnet.").split('[').next().unwrap()
}
