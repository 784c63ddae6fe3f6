//! Check 7: pods with their own security group can resolve names. Their group must allow TCP and
//! UDP 53 out, and the group the CoreDNS pods carry (under custom networking: the ENIConfig's
//! groups, on the node ENI that holds their address) must allow TCP and UDP 53 in from it; the
//! node's groups no longer apply to a pod with a branch ENI. EKS user guide, "Assign security
//! groups to individual Pods", Considerations
//! (https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html), and "Use a
//! security group policy for an Amazon EKS Pod"
//! (https://docs.aws.amazon.com/eks/latest/userguide/sg-pods-example-deployment.html).

use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

use super::facts::{Facts, GroupFact, PodFact, RuleFact};
use super::{Check, Expect, listed};

/// What a peer of a rule has to be: one of these groups, or an address all these IPs are in.
struct Peer<'a> {
    groups: &'a BTreeSet<String>,
    ips: &'a [Ipv4Addr],
}

fn covers(rule: &RuleFact, protocol: &str, port: i32, peer: &Peer) -> bool {
    let protocol_ok = match rule.protocol.as_str() {
        "-1" | "all" => true,
        p => {
            (p == protocol || (protocol == "tcp" && p == "6") || (protocol == "udp" && p == "17"))
                && rule.from_port.is_none_or(|f| f <= port)
                && rule.to_port.is_none_or(|t| t >= port)
        }
    };
    let peer_ok = rule.groups.iter().any(|g| peer.groups.contains(g))
        || rule.cidrs.iter().filter_map(|c| c.parse::<Ipv4Net>().ok()).any(|net| !peer.ips.is_empty() && peer.ips.iter().all(|ip| net.contains(ip)))
        || rule.cidrs.iter().any(|c| c == "0.0.0.0/0");
    protocol_ok && peer_ok
}

/// Whether any of `groups` lets `protocol`/53 through in the given direction to/from `peer`.
fn allows(groups: &[&GroupFact], egress: bool, protocol: &str, peer: &Peer) -> bool {
    groups.iter().any(|g| (if egress { &g.egress } else { &g.ingress }).iter().any(|r| covers(r, protocol, 53, peer)))
}

fn is_coredns(pod: &PodFact) -> bool {
    pod.namespace == "kube-system" && pod.labels.get("k8s-app").is_some_and(|v| v == "kube-dns")
}

pub fn check(_expect: &Expect, facts: &Facts) -> Check {
    let check = Check::new(7, "dns", "pods with their own group reach CoreDNS on TCP and UDP 53");
    let selected: Vec<(&PodFact, BTreeSet<String>)> = super::pod_enis::selected(facts).collect();
    if selected.is_empty() {
        return check.pass("no pod has its own security group: DNS goes through the node's groups");
    }
    let pod_groups: BTreeSet<String> = selected.iter().flat_map(|(_, g)| g.iter().cloned()).collect();
    let pod_ips: Vec<Ipv4Addr> = selected.iter().filter_map(|(p, _)| p.ip.as_deref()?.parse().ok()).collect();
    let coredns: Vec<&PodFact> = facts.pods.iter().filter(|p| is_coredns(p) && p.ip.is_some()).collect();
    if coredns.is_empty() {
        return check.fail(
            "no CoreDNS pod with an address (kube-system, k8s-app=kube-dns)",
            "check the coredns add-on: `kubectl -n kube-system get pods -l k8s-app=kube-dns`",
        );
    }
    let coredns_ips: Vec<Ipv4Addr> = coredns.iter().filter_map(|p| p.ip.as_deref()?.parse().ok()).collect();
    let mut problems = vec![];
    let mut coredns_groups: BTreeSet<String> = BTreeSet::new();
    let mut inbound: Vec<(String, Vec<String>)> = vec![];
    for pod in &coredns {
        let Some(eni) = facts.eni_with_ip(pod.ip.as_deref().unwrap_or_default()) else {
            problems.push(format!("CoreDNS pod {} ({}): no ENI holds its address", pod.id(), pod.ip.as_deref().unwrap_or_default()));
            continue;
        };
        coredns_groups.extend(eni.groups.iter().cloned());
        inbound.push((pod.id(), eni.groups.clone()));
    }
    // Outbound: each policy group on its own must let the pods reach CoreDNS.
    for group in &pod_groups {
        let Some(g) = facts.group(group) else {
            problems.push(format!("security group {group} does not exist"));
            continue;
        };
        for protocol in ["tcp", "udp"] {
            if !allows(&[g], true, protocol, &Peer { groups: &coredns_groups, ips: &coredns_ips }) {
                problems.push(format!("{group} does not allow {protocol}/53 out"));
            }
        }
    }
    // Inbound: the groups on each CoreDNS pod's ENI together must let each policy group in.
    for (pod, groups) in &inbound {
        let found: Vec<&GroupFact> = groups.iter().filter_map(|g| facts.group(g)).collect();
        for group in &pod_groups {
            let one: BTreeSet<String> = [group.clone()].into();
            for protocol in ["tcp", "udp"] {
                if !allows(&found, false, protocol, &Peer { groups: &one, ips: &pod_ips }) {
                    problems.push(format!("CoreDNS {pod} carries [{}], which does not allow {protocol}/53 in from {group}", groups.join(", ")));
                }
            }
        }
    }
    if !problems.is_empty() {
        return check.fail(
            listed(&problems, 2),
            "allow TCP and UDP 53 out in the pod group and in from it on the group CoreDNS carries: in the stack, a group in \
             `cni.eni_security_groups` with `{protocol: tcp, ports: 53, security_group: pods}` and the same for udp (stacks/custom-networking.yaml \
             has `coredns`), then `eksnet apply`",
        );
    }
    check.pass(format!(
        "{} out on TCP/UDP 53; {} CoreDNS pod(s) carry {} which let them in",
        pod_groups.iter().cloned().collect::<Vec<_>>().join(", "),
        coredns.len(),
        coredns_groups.iter().cloned().collect::<Vec<_>>().join(", ")
    ))
}
