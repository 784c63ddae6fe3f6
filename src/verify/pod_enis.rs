//! Check 5: every pod a SecurityGroupPolicy selects has its own branch ENI: the
//! `vpc.amazonaws.com/pod-eni` annotation the VPC resource controller writes (a JSON list of
//! ENIDetails: eniId, privateIp, vlanId, subnetCidr; amazon-vpc-resource-controller-k8s
//! pkg/aws/ec2/api/helper.go), and EC2 agrees: an interface of type `branch`, description
//! `aws-k8s-branch-eni`, the policy's groups, in an intra subnet, holding the pod's IP.
//! A policy applies only to pods created after it ("Use a security group policy for an Amazon
//! EKS Pod", https://docs.aws.amazon.com/eks/latest/userguide/sg-pods-example-deployment.html):
//! a selected pod without a branch ENI predates its policy and must be recreated.

use std::collections::{BTreeMap, BTreeSet};

use super::facts::{Facts, PodFact, PolicyFact};
use super::{Check, Expect, listed};
use crate::stack::TierKind;

pub const ANNOTATION: &str = "vpc.amazonaws.com/pod-eni";
pub const BRANCH_DESCRIPTION: &str = "aws-k8s-branch-eni";

/// Whether the policy selects the pod, as the controller's webhook decides
/// (amazon-vpc-resource-controller-k8s pkg/utils/helper.go, filterPodSecurityGroups): same
/// namespace, at least one selector and one group, and every selector it has matches: the
/// podSelector the pod's labels, the serviceAccountSelector the labels of the pod's
/// ServiceAccount (a ServiceAccount that does not exist has none).
pub fn selects(facts: &Facts, policy: &PolicyFact, pod: &PodFact) -> bool {
    if policy.namespace != pod.namespace || policy.groups.is_empty() {
        return false;
    }
    let no_labels = BTreeMap::new();
    let account = facts.service_accounts.get(&(pod.namespace.clone(), pod.service_account.clone())).unwrap_or(&no_labels);
    match (&policy.pod_selector, &policy.service_account_selector) {
        (None, None) => false,
        (pods, accounts) => pods.as_ref().is_none_or(|s| s.matches(&pod.labels)) && accounts.as_ref().is_none_or(|s| s.matches(account)),
    }
}

/// The groups every policy that selects the pod gives it (joined, as the controller does).
pub fn policy_groups(facts: &Facts, pod: &PodFact) -> BTreeSet<String> {
    facts.policies.iter().filter(|p| selects(facts, p, pod)).flat_map(|p| p.groups.iter().cloned()).collect()
}

/// The pods under a policy: scheduled, not hostNetwork (the webhook skips those).
pub fn selected<'a>(facts: &'a Facts) -> impl Iterator<Item = (&'a PodFact, BTreeSet<String>)> + 'a {
    facts.networked_pods().filter(|p| p.node.is_some()).map(|p| (p, policy_groups(facts, p))).filter(|(_, g)| !g.is_empty())
}

pub fn check(expect: &Expect, facts: &Facts) -> Check {
    let check = Check::new(5, "pod_enis", "pods under a SecurityGroupPolicy have their branch ENI");
    let intra: Vec<&str> = expect.tier(TierKind::Intra).filter_map(|s| s.id.as_deref()).collect();
    let mut problems = vec![];
    let mut restarts = vec![];
    let mut good = vec![];
    for (pod, groups) in selected(facts) {
        let Some(annotation) = &pod.pod_eni else {
            let names: Vec<&str> = facts.policies.iter().filter(|p| selects(facts, p, pod)).map(|p| p.name.as_str()).collect();
            problems.push(format!("{} has no branch ENI (no {ANNOTATION} annotation): it predates {}", pod.id(), names.join(", ")));
            restarts.push(match &pod.workload {
                Some(w) => format!("kubectl -n {} rollout restart {w}", pod.namespace),
                None => format!("kubectl -n {} delete pod {} (and create it again)", pod.namespace, pod.name),
            });
            continue;
        };
        let detail: serde_json::Value = serde_json::from_str(annotation).unwrap_or_default();
        let eni_id = detail[0]["eniId"].as_str().unwrap_or_default();
        let private_ip = detail[0]["privateIp"].as_str().unwrap_or_default();
        let Some(eni) = facts.eni(eni_id) else {
            problems.push(format!("{}: its annotation names ENI `{eni_id}`, which EC2 does not have", pod.id()));
            continue;
        };
        let have: BTreeSet<String> = eni.groups.iter().cloned().collect();
        let mut wrong = vec![];
        if eni.interface_type != "branch" {
            wrong.push(format!("interface type {}", eni.interface_type));
        }
        if eni.description != BRANCH_DESCRIPTION {
            wrong.push(format!("description `{}`", eni.description));
        }
        if have != groups {
            wrong.push(format!("groups [{}] not [{}]", join(&have), join(&groups)));
        }
        if !intra.contains(&eni.subnet.as_str()) {
            wrong.push(format!("subnet {} is not an intra subnet", eni.subnet));
        }
        if pod.ip.as_deref() != Some(private_ip) || !eni.private_ips.iter().any(|ip| ip == private_ip) {
            wrong.push(format!("pod IP {} vs ENI {}", pod.ip.as_deref().unwrap_or("none"), eni.private_ips.join(",")));
        }
        if wrong.is_empty() {
            good.push(format!("{} {} {} [{}]", pod.id(), private_ip, eni.id, join(&have)));
        } else {
            problems.push(format!("{} on {}: {}", pod.id(), eni.id, wrong.join(", ")));
        }
    }
    if !problems.is_empty() {
        restarts.sort();
        restarts.dedup();
        let remedy = if restarts.is_empty() {
            "the VPC resource controller did not give these pods what their policy says: check the cluster role has \
             AmazonEKSVPCResourceController and the events of the pods (`kubectl describe pod`)"
                .to_string()
        } else {
            format!("recreate the pods so the policy applies to them: {}", restarts.join("; "))
        };
        return check.fail(listed(&problems, 3), remedy);
    }
    if good.is_empty() {
        return check.pass(format!("no pod is selected by a SecurityGroupPolicy ({} policies)", facts.policies.len()));
    }
    check.pass(format!("{} pod(s) with a branch ENI: {}", good.len(), listed(&good, 3)))
}

fn join(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}
