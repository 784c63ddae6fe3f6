//! The checks on facts made by hand: the reference stack as it should be, then each breakage
//! the issue names, failing exactly its check.

use std::collections::BTreeMap;

use super::expect::{Expect, GroupRef, Nat, SubnetExpect};
use super::facts::*;
use super::{Status, checks, passed};
use crate::stack::TierKind;
use crate::stack::model::CniMode;

const A: &str = "ap-southeast-2a";

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn expect() -> Expect {
    let subnet = |tier, cidr: &str, id: &str| SubnetExpect { tier, zone: A.into(), cidr: cidr.parse().unwrap(), id: Some(id.into()) };
    Expect {
        stack: "demo".into(),
        cluster: Some("Demo".into()),
        zones: vec![A.into()],
        subnets: vec![
            subnet(TierKind::Public, "10.0.4.0/24", "subnet-public"),
            subnet(TierKind::Private, "10.0.1.0/24", "subnet-private"),
            subnet(TierKind::Intra, "100.64.1.0/24", "subnet-intra"),
        ],
        nodegroups: vec![("default".into(), 1)],
        cni_mode: CniMode::Addon,
        cni_env: [("AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG", "true"), ("ENI_CONFIG_LABEL_DEF", "topology.kubernetes.io/zone"), ("ENABLE_POD_ENI", "true")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        eni_groups: vec![GroupRef::Cluster, GroupRef::Stack { name: "coredns".into(), id: Some("sg-coredns".into()) }],
        vpc: Some("vpc-1".into()),
        internet_gateway: Some("igw-1".into()),
        public_nats: vec![Nat { zone: A.into(), id: "nat-public".into() }],
        private_nats: vec![Nat { zone: A.into(), id: "nat-private".into() }],
    }
}

fn rule(protocol: &str, port: Option<i32>, cidrs: &[&str], groups: &[&str]) -> RuleFact {
    RuleFact {
        protocol: protocol.into(),
        from_port: port,
        to_port: port,
        cidrs: cidrs.iter().map(|s| s.to_string()).collect(),
        groups: groups.iter().map(|s| s.to_string()).collect(),
    }
}

fn nginx(name: &str, ip: &str, eni: Option<&str>) -> PodFact {
    PodFact {
        namespace: "test-namespace".into(),
        name: name.into(),
        labels: labels(&[("app", "nginx"), ("role", "test-role"), ("pod-template-hash", "abc")]),
        ip: Some(ip.into()),
        node: Some("node-a".into()),
        phase: "Running".into(),
        pod_eni: eni.map(|id| format!(r#"[{{"eniId":"{id}","privateIp":"{ip}","vlanId":1,"subnetCidr":"100.64.1.0/24"}}]"#)),
        workload: Some("deployment/nginx".into()),
        service_account: "default".into(),
        ..PodFact::default()
    }
}

fn branch(id: &str, ip: &str) -> EniFact {
    EniFact {
        id: id.into(),
        interface_type: "branch".into(),
        description: "aws-k8s-branch-eni".into(),
        groups: vec!["sg-pods".into()],
        subnet: "subnet-intra".into(),
        private_ips: vec![ip.into()],
    }
}

/// The reference stack applied: one node in zone a, nginx with branch ENIs, CoreDNS on the node's
/// ENIConfig ENI carrying the cluster and coredns groups.
fn facts() -> Facts {
    let node_eni = EniFact {
        id: "eni-node".into(),
        interface_type: "interface".into(),
        groups: vec!["sg-cluster".into(), "sg-coredns".into()],
        subnet: "subnet-intra".into(),
        private_ips: vec!["100.64.1.250".into()],
        ..EniFact::default()
    };
    Facts {
        cluster: "Demo".into(),
        cluster_security_group: Some("sg-cluster".into()),
        nodegroups: vec![NodegroupFact { name: "default".into(), status: "ACTIVE".into(), desired: 1 }],
        nodes: vec![NodeFact {
            name: "node-a".into(),
            ready: true,
            labels: labels(&[(ZONE_LABEL, A), ("eks.amazonaws.com/nodegroup", "default")]),
            internal_ip: Some("10.0.1.10".into()),
            allocatable_pods: Some(20),
            allocatable_branch_enis: Some(9),
        }],
        aws_node: Some(DaemonSetFact {
            env: expect().cni_env.into_iter().collect(),
            generation: 2,
            observed_generation: 2,
            desired: 1,
            updated: 1,
            available: 1,
        }),
        eniconfigs: vec![EniConfigFact { name: A.into(), subnet: "subnet-intra".into(), security_groups: vec!["sg-coredns".into(), "sg-cluster".into()] }],
        pods: vec![
            nginx("nginx-abc-1", "100.64.1.100", Some("eni-b1")),
            nginx("nginx-abc-2", "100.64.1.101", Some("eni-b2")),
            PodFact {
                namespace: "kube-system".into(),
                name: "coredns-1".into(),
                labels: labels(&[("k8s-app", "kube-dns")]),
                ip: Some("100.64.1.250".into()),
                node: Some("node-a".into()),
                phase: "Running".into(),
                ..PodFact::default()
            },
            PodFact {
                namespace: "kube-system".into(),
                name: "aws-node-x".into(),
                host_network: true,
                ip: Some("10.0.1.10".into()),
                node: Some("node-a".into()),
                ..PodFact::default()
            },
        ],
        policies: vec![PolicyFact {
            namespace: "test-namespace".into(),
            name: "my-security-group-policy".into(),
            pod_selector: Some(Selector { match_labels: labels(&[("role", "test-role")]), match_expressions: vec![] }),
            service_account_selector: None,
            groups: vec!["sg-pods".into()],
        }],
        service_accounts: BTreeMap::new(),
        subnets: vec![SubnetFact { id: "subnet-intra".into(), available: 240 }],
        enis: vec![node_eni, branch("eni-b1", "100.64.1.100"), branch("eni-b2", "100.64.1.101")],
        route_tables: vec![
            RouteTableFact { id: "rtb-intra".into(), subnets: vec!["subnet-intra".into()], default_target: Some("nat-private".into()) },
            RouteTableFact { id: "rtb-private".into(), subnets: vec!["subnet-private".into()], default_target: Some("nat-public".into()) },
            RouteTableFact { id: "rtb-public".into(), subnets: vec!["subnet-public".into()], default_target: Some("igw-1".into()) },
        ],
        nat_gateways: vec![NatFact { id: "nat-public".into(), state: "available".into() }, NatFact { id: "nat-private".into(), state: "available".into() }],
        security_groups: vec![
            GroupFact {
                id: "sg-pods".into(),
                ingress: vec![rule("tcp", Some(80), &["10.0.0.0/16"], &[])],
                egress: vec![rule("-1", None, &["0.0.0.0/0"], &[])],
            },
            GroupFact { id: "sg-cluster".into(), ingress: vec![rule("-1", None, &[], &["sg-cluster"])], egress: vec![rule("-1", None, &["0.0.0.0/0"], &[])] },
            GroupFact {
                id: "sg-coredns".into(),
                ingress: vec![rule("tcp", Some(53), &[], &["sg-pods"]), rule("udp", Some(53), &[], &["sg-pods"])],
                egress: vec![],
            },
        ],
    }
}

/// The checks that did not pass, by name.
fn failing(facts: &Facts) -> Vec<&'static str> {
    checks(&expect(), facts).into_iter().filter(|c| c.status != Status::Pass).map(|c| c.name).collect()
}

#[test]
fn the_reference_stack_as_applied_passes_every_check() {
    let all = checks(&expect(), &facts());
    assert!(passed(&all), "{all:#?}");
    assert!(all.iter().all(|c| c.status == Status::Pass), "{all:#?}");
    let enis = all.iter().find(|c| c.name == "pod_enis").unwrap();
    assert_eq!(
        enis.evidence,
        "2 pod(s) with a branch ENI: test-namespace/nginx-abc-1 100.64.1.100 eni-b1 [sg-pods], test-namespace/nginx-abc-2 100.64.1.101 eni-b2 [sg-pods]"
    );
}

#[test]
fn a_pod_that_predates_its_policy_is_named_with_a_restart() {
    let mut f = facts();
    f.pods[1].pod_eni = None;
    assert_eq!(failing(&f), ["pod_enis"]);
    let c = checks(&expect(), &f).into_iter().find(|c| c.name == "pod_enis").unwrap();
    assert!(c.evidence.contains("test-namespace/nginx-abc-2 has no branch ENI"), "{}", c.evidence);
    assert_eq!(c.remedy.unwrap(), "recreate the pods so the policy applies to them: kubectl -n test-namespace rollout restart deployment/nginx");
}

#[test]
fn a_branch_eni_ec2_disagrees_with_fails_pod_enis() {
    let mut f = facts();
    f.enis[1].groups = vec!["sg-cluster".into()];
    assert_eq!(failing(&f), ["pod_enis"]);
    let mut f = facts();
    f.enis.remove(2);
    assert_eq!(failing(&f), ["pod_enis"]);
}

#[test]
fn an_eniconfig_in_a_private_subnet_fails_only_eniconfigs() {
    let mut f = facts();
    f.eniconfigs[0].subnet = "subnet-private".into();
    assert_eq!(failing(&f), ["eniconfigs"]);
    let c = checks(&expect(), &f).into_iter().find(|c| c.name == "eniconfigs").unwrap();
    assert!(c.evidence.contains("points at the private subnet subnet-private (10.0.1.0/24)"), "{}", c.evidence);
    assert!(c.remedy.unwrap().starts_with("kubectl patch eniconfig ap-southeast-2a --type merge -p '{\"spec\":{\"subnet\":\"subnet-intra\"}}'"));
}

#[test]
fn pod_eni_removed_from_aws_node_fails_only_cni() {
    let mut f = facts();
    f.aws_node.as_mut().unwrap().env.remove("ENABLE_POD_ENI");
    assert_eq!(failing(&f), ["cni"]);
    let c = checks(&expect(), &f).into_iter().find(|c| c.name == "cni").unwrap();
    assert_eq!(c.evidence, "aws-node: ENABLE_POD_ENI=unset (the stack wants true)");
    assert!(c.remedy.unwrap().contains("set env daemonset/aws-node ENABLE_POD_ENI=true"));
}

#[test]
fn an_aws_node_still_rolling_out_fails_cni() {
    let mut f = facts();
    f.aws_node.as_mut().unwrap().updated = 0;
    assert_eq!(failing(&f), ["cni"]);
}

#[test]
fn an_intra_route_retargeted_fails_only_routes() {
    let mut f = facts();
    f.route_tables[0].default_target = Some("nat-public".into());
    assert_eq!(failing(&f), ["routes"]);
    let mut f = facts();
    f.nat_gateways[1].state = "deleting".into();
    assert_eq!(failing(&f), ["routes"]);
}

#[test]
fn with_a_nat_gateway_per_zone_each_subnet_routes_to_its_own() {
    const B: &str = "ap-southeast-2b";
    let mut e = expect();
    e.subnets.push(SubnetExpect { tier: TierKind::Intra, zone: B.into(), cidr: "100.64.2.0/24".parse().unwrap(), id: Some("subnet-intra-b".into()) });
    e.private_nats.push(Nat { zone: B.into(), id: "nat-private-b".into() });
    let mut f = facts();
    f.nat_gateways.push(NatFact { id: "nat-private-b".into(), state: "available".into() });
    f.route_tables.push(RouteTableFact { id: "rtb-intra-b".into(), subnets: vec!["subnet-intra-b".into()], default_target: Some("nat-private-b".into()) });
    let routes = |f: &Facts| checks(&e, f).into_iter().find(|c| c.name == "routes").unwrap();
    assert_eq!(routes(&f).status, Status::Pass, "{:?}", routes(&f));
    // Zone b's pods leaving through zone a's gateway: works until zone a fails, and costs
    // cross-zone traffic.
    f.route_tables[3].default_target = Some("nat-private".into());
    let c = routes(&f);
    assert_eq!(c.status, Status::Fail);
    assert!(c.evidence.contains("0.0.0.0/0 → nat-private in rtb-intra-b, not the private NAT gateway of ap-southeast-2b"), "{}", c.evidence);
    // With one gateway for every zone, any zone routes to it.
    let mut single = expect();
    single.subnets.push(e.subnets.last().unwrap().clone());
    assert_eq!(checks(&single, &f).into_iter().find(|c| c.name == "routes").unwrap().status, Status::Pass);
}

#[test]
fn a_policy_by_service_account_selects_the_pods_of_that_account_only() {
    let mut f = facts();
    f.policies[0].pod_selector = None;
    f.policies[0].service_account_selector = Some(Selector { match_labels: labels(&[("team", "web")]), match_expressions: vec![] });
    // nginx runs as `default`, which has no such label: the policy selects nothing.
    f.pods[0].pod_eni = None;
    f.pods[1].pod_eni = None;
    assert_eq!(failing(&f), Vec::<&str>::new());
    // Once the account carries the label, both pods are selected and need their branch ENI.
    f.service_accounts.insert(("test-namespace".into(), "default".into()), labels(&[("team", "web")]));
    assert_eq!(failing(&f), ["pod_enis"]);
    // Both selectors: both must match.
    f.policies[0].pod_selector = Some(Selector { match_labels: labels(&[("role", "other")]), match_expressions: vec![] });
    assert_eq!(failing(&f), Vec::<&str>::new());
    // A policy with neither selector selects nothing (the controller ignores it).
    f.policies[0].pod_selector = None;
    f.policies[0].service_account_selector = None;
    assert_eq!(failing(&f), Vec::<&str>::new());
}

#[test]
fn dns_needs_inbound_53_on_the_group_coredns_carries() {
    let mut f = facts();
    f.security_groups[2].ingress.pop();
    assert_eq!(failing(&f), ["dns"]);
    let c = checks(&expect(), &f).into_iter().find(|c| c.name == "dns").unwrap();
    assert!(c.evidence.contains("does not allow udp/53 in from sg-pods"), "{}", c.evidence);
    let mut f = facts();
    f.security_groups[0].egress = vec![rule("tcp", Some(443), &["0.0.0.0/0"], &[])];
    assert_eq!(failing(&f), ["dns"]);
}

#[test]
fn pods_outside_the_intra_subnets_and_nodes_outside_private_fail_addresses() {
    let mut f = facts();
    f.pods[2].ip = Some("10.0.1.77".into());
    f.enis[0].private_ips.push("10.0.1.77".into());
    assert_eq!(failing(&f), ["addresses"]);
    let mut f = facts();
    f.nodes[0].internal_ip = Some("10.0.4.9".into());
    assert_eq!(failing(&f), ["addresses"]);
}

#[test]
fn missing_or_unready_nodes_fail_nodes() {
    let mut f = facts();
    f.nodes[0].ready = false;
    assert!(failing(&f).contains(&"nodes"));
    let mut f = facts();
    f.nodegroups[0].desired = 2;
    assert_eq!(failing(&f), ["nodes"]);
}

#[test]
fn little_headroom_warns_without_failing() {
    let mut f = facts();
    f.subnets[0].available = 3;
    let all = checks(&expect(), &f);
    assert!(passed(&all));
    let c = all.iter().find(|c| c.name == "headroom").unwrap();
    assert_eq!(c.status, Status::Warn);
    assert!(c.evidence.starts_with("intra ap-southeast-2a has 3 of 251 addresses free"), "{}", c.evidence);
}

#[test]
fn deployments_are_named_through_their_replica_set() {
    let l = labels(&[("pod-template-hash", "5d8f")]);
    assert_eq!(super::observe::workload("ReplicaSet", "nginx-5d8f", &l), "deployment/nginx");
    assert_eq!(super::observe::workload("StatefulSet", "db", &l), "statefulset/db");
}
