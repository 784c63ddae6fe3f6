//! What Kubernetes leaves in the stack's network after the cluster and nodes are gone, and which
//! blocks deleting subnets, security groups and the VPC (the reason Terraform destroys of this
//! architecture stop on DependencyViolation): ENIs the VPC CNI and the VPC resource controller
//! made (`aws-K8S-*` secondary ENIs, `aws-k8s-branch-eni` pod ENIs) and security groups the AWS
//! Load Balancer Controller or the cloud provider made. Only what belongs to the stack's cluster
//! is removed; anything else that blocks is named in the error, never deleted.

use std::collections::HashMap;

use aws_sdk_ec2::types::{Filter, NetworkInterface, NetworkInterfaceStatus, SecurityGroup, Tag};

use super::{Session, tags};
use crate::provider::{ApiError, Result};

/// Tag keys Kubernetes components put on what they create, with the cluster name as value.
const CLUSTER_NAME_TAGS: &[&str] = &["cluster.k8s.amazonaws.com/name", "elbv2.k8s.aws/cluster", "eks:cluster-name", "aws:eks:cluster-name"];

fn tag<'a>(tags: &'a [Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

/// The cluster a Kubernetes-made object names in its tags, if any.
fn tagged_cluster(tags: &[Tag]) -> Option<&str> {
    CLUSTER_NAME_TAGS.iter().find_map(|k| tag(tags, k)).or_else(|| tags.iter().find_map(|t| t.key()?.strip_prefix("kubernetes.io/cluster/")))
}

fn made_by_kubernetes(eni: &NetworkInterface) -> bool {
    let description = eni.description().unwrap_or_default();
    description == "aws-k8s-branch-eni" || description.starts_with("aws-K8S-") || tagged_cluster(eni.tag_set()).is_some()
}

/// An ENI eksnet may delete: detached, made by Kubernetes, and not naming another cluster
/// (branch ENIs carry no cluster tag; being in the stack's subnet is what makes them ours).
fn ours(cx: &Session, eni: &NetworkInterface) -> bool {
    eni.status() == Some(&NetworkInterfaceStatus::Available)
        && made_by_kubernetes(eni)
        && tagged_cluster(eni.tag_set()).is_none_or(|c| cx.clusters.iter().any(|ours| ours == c))
}

fn describe_eni(eni: &NetworkInterface) -> String {
    format!(
        "{} ({}, {})",
        eni.network_interface_id().unwrap_or("?"),
        eni.status().map(|s| s.as_str()).unwrap_or("?"),
        eni.description().filter(|d| !d.is_empty()).unwrap_or("no description")
    )
}

/// What holds ENIs: a subnet or a security group, with the DescribeNetworkInterfaces filter
/// that finds them.
#[derive(Clone, Copy)]
enum Holder {
    Subnet,
    Group,
}

impl Holder {
    fn filter(self) -> &'static str {
        match self {
            Holder::Subnet => "subnet-id",
            Holder::Group => "group-id",
        }
    }

    /// The ids of the holders of `eni`.
    fn of(self, eni: &NetworkInterface) -> Vec<&str> {
        match self {
            Holder::Subnet => eni.subnet_id().into_iter().collect(),
            Holder::Group => eni.groups().iter().filter_map(|g| g.group_id()).collect(),
        }
    }
}

/// The ENIs in `id` (a subnet or a security group). Destroy clears the subnets of a stack side by
/// side, each again at every DependencyViolation retry: the reads of all holders asking at the
/// same moment are one DescribeNetworkInterfaces, filtered by every id (`wait::Batch`), not one
/// call per subnet.
async fn enis(cx: &Session, holder: Holder, id: &str) -> Result<Vec<NetworkInterface>> {
    let batch = cx.batch(
        match holder {
            Holder::Subnet => "leftovers.subnet-enis",
            Holder::Group => "leftovers.group-enis",
        },
        || {
            let ec2 = cx.ec2().clone();
            super::wait::Batch::new(cx.polling, move |ids: Vec<String>| {
                let call = ec2.describe_network_interfaces().filters(Filter::builder().name(holder.filter()).set_values(Some(ids.clone())).build());
                Box::pin(async move {
                    let found: Vec<NetworkInterface> = call.into_paginator().items().send().try_collect().await?;
                    let mut by_holder: HashMap<String, Vec<NetworkInterface>> = HashMap::new();
                    for eni in found {
                        for id in holder.of(&eni).into_iter().filter(|id| ids.iter().any(|asked| asked == id)) {
                            by_holder.entry(id.to_string()).or_default().push(eni.clone());
                        }
                    }
                    Ok(by_holder)
                })
            })
        },
    );
    batch.until(&format!("the network interfaces in {id}"), id, None, |found| Ok(Some(found.cloned().unwrap_or_default()))).await
}

/// Deletes the cluster's detached ENIs among `found`; returns the ones left (not ours).
async fn delete_ours(cx: &Session, found: Vec<NetworkInterface>) -> Result<Vec<NetworkInterface>> {
    let mut left = vec![];
    for eni in found {
        if !ours(cx, &eni) {
            left.push(eni);
            continue;
        }
        let id = eni.network_interface_id().unwrap_or_default();
        match cx.ec2().delete_network_interface().network_interface_id(id).send().await.map_err(ApiError::from) {
            Ok(_) => {}
            Err(e) if e.code.ends_with("NotFound") => {}
            // Attached meanwhile (a node came back?): it blocks like any other.
            Err(e) if e.code == "InvalidParameterValue" || e.code == "DependencyViolation" => left.push(eni),
            Err(e) => return Err(e),
        }
    }
    Ok(left)
}

/// Removes the cluster's leftover ENIs in a subnet. Fails at once, naming them, when a
/// detached ENI of another owner is there: nothing will ever remove it, so waiting is pointless.
/// In-use ENIs are left to the caller's DependencyViolation retry (nodes still terminating).
pub async fn clear_subnet(cx: &Session, subnet: &str) -> Result<()> {
    let found = enis(cx, Holder::Subnet, subnet).await?;
    let left = delete_ours(cx, found).await?;
    stuck(&format!("subnet {subnet}"), &left)
}

/// The same for ENIs that use a security group (pod branch ENIs carry the pod group).
pub async fn clear_group_enis(cx: &Session, group: &str) -> Result<()> {
    let found = enis(cx, Holder::Group, group).await?;
    let left = delete_ours(cx, found).await?;
    stuck(&format!("security group {group}"), &left)
}

/// How long an unknown detached ENI is waited for before it counts as foreign: AWS-managed
/// interfaces (a NAT gateway's just after it reached `deleted`, a load balancer's) linger for a
/// moment before their service removes them.
pub const FOREIGN_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

/// Within the grace period a foreign ENI is a passing dependency (retried like
/// DependencyViolation); after it, the error that names it.
pub fn within_grace(result: Result<()>, since: std::time::Instant) -> Result<()> {
    match result {
        Err(e) if e.code == "ForeignDependency" && since.elapsed() < FOREIGN_GRACE => Err(ApiError { code: "DependencyViolation".into(), ..e }),
        other => other,
    }
}

/// An interface an AWS service made for one of its resources (a NAT gateway's, a load
/// balancer's): the service deletes it with its resource (EC2 user guide, "Requester-managed
/// network interfaces": "When you delete the resource associated with a requester-managed network
/// interface, the AWS service detaches the network interface and deletes it"). A NAT gateway's
/// can outlive the gateway's `deleted` state by a while when EC2 is busy: it is waited for like an
/// attached ENI, never called foreign, and never deleted by eksnet.
fn requester_managed(eni: &NetworkInterface) -> bool {
    eni.requester_managed() == Some(true) || eni.interface_type() == Some(&aws_sdk_ec2::types::NetworkInterfaceType::NatGateway)
}

fn stuck(what: &str, left: &[NetworkInterface]) -> Result<()> {
    let foreign: Vec<String> =
        left.iter().filter(|e| e.status() == Some(&NetworkInterfaceStatus::Available) && !requester_managed(e)).map(describe_eni).collect();
    if foreign.is_empty() {
        return Ok(());
    }
    Err(ApiError::new(
        "ForeignDependency",
        format!(
            "{what} holds network interfaces that are not this stack's cluster's, so eksnet will not delete them: {}; delete or move them, then run destroy again",
            foreign.join(", ")
        ),
    ))
}

/// Names what still holds a subnet, for the error after DependencyViolation outlasted the wait.
pub async fn subnet_blockers(cx: &Session, subnet: &str) -> String {
    match enis(cx, Holder::Subnet, subnet).await {
        Ok(found) if !found.is_empty() => format!("; still in it: {}", found.iter().map(describe_eni).collect::<Vec<_>>().join(", ")),
        _ => String::new(),
    }
}

fn group_is_ours(cx: &Session, g: &SecurityGroup) -> bool {
    // A group eksnet made is the stack's own resource, deleted by its own step.
    if tag(g.tags(), tags::STACK).is_some() {
        return false;
    }
    let named = tagged_cluster(g.tags());
    named.is_some_and(|c| cx.clusters.iter().any(|ours| ours == c))
}

/// Deletes the security groups Kubernetes made for the stack's cluster in a VPC (load balancer
/// groups, the cluster group EKS failed to remove): first every rule of each, since they refer
/// to each other and to themselves, then the groups. Fails naming any other non-default group.
pub async fn clear_vpc_groups(cx: &Session, vpc: &str) -> Result<()> {
    let groups: Vec<SecurityGroup> =
        cx.ec2().describe_security_groups().filters(Filter::builder().name("vpc-id").values(vpc).build()).into_paginator().items().send().try_collect().await?;
    let (ours, others): (Vec<&SecurityGroup>, Vec<&SecurityGroup>) =
        groups.iter().filter(|g| g.group_name() != Some("default")).partition(|g| group_is_ours(cx, g));
    for g in &ours {
        let id = g.group_id().unwrap_or_default();
        if !g.ip_permissions().is_empty() {
            gone(
                cx.ec2()
                    .revoke_security_group_ingress()
                    .group_id(id)
                    .set_ip_permissions(Some(g.ip_permissions().to_vec()))
                    .send()
                    .await
                    .map_err(ApiError::from),
            )?;
        }
        if !g.ip_permissions_egress().is_empty() {
            gone(
                cx.ec2()
                    .revoke_security_group_egress()
                    .group_id(id)
                    .set_ip_permissions(Some(g.ip_permissions_egress().to_vec()))
                    .send()
                    .await
                    .map_err(ApiError::from),
            )?;
        }
    }
    for g in &ours {
        let id = g.group_id().unwrap_or_default();
        clear_group_enis(cx, id).await?;
        gone(
            super::wait::retrying(&cx.polling, &["DependencyViolation"], || async {
                cx.ec2().delete_security_group().group_id(id).send().await.map_err(ApiError::from)
            })
            .await,
        )?;
    }
    // The stack's own groups are deleted by their own steps; anything else stops the VPC.
    let foreign: Vec<String> = others
        .iter()
        .filter(|g| tag(g.tags(), tags::STACK).is_none())
        .map(|g| format!("{} ({})", g.group_id().unwrap_or("?"), g.group_name().unwrap_or("?")))
        .collect();
    if !foreign.is_empty() {
        return Err(ApiError::new(
            "ForeignDependency",
            format!(
                "VPC {vpc} holds security groups that are neither this stack's nor its cluster's, so eksnet will not delete them: {}; delete them, then run destroy again",
                foreign.join(", ")
            ),
        ));
    }
    Ok(())
}

fn gone<T>(result: Result<T>) -> Result<()> {
    match result {
        Err(e) if e.code.ends_with("NotFound") => Ok(()),
        other => other.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(k: &str, v: &str) -> Tag {
        Tag::builder().key(k).value(v).build()
    }

    #[test]
    fn finds_the_cluster_a_kubernetes_object_names() {
        assert_eq!(tagged_cluster(&[t("cluster.k8s.amazonaws.com/name", "demo")]), Some("demo"));
        assert_eq!(tagged_cluster(&[t("elbv2.k8s.aws/cluster", "demo")]), Some("demo"));
        assert_eq!(tagged_cluster(&[t("kubernetes.io/cluster/demo", "owned")]), Some("demo"));
        assert_eq!(tagged_cluster(&[t("Name", "x")]), None);
    }

    #[test]
    fn kubernetes_enis_are_recognised_by_description_or_tags() {
        let eni = |d: &str, tags: Vec<Tag>| NetworkInterface::builder().description(d).set_tag_set(Some(tags)).build();
        assert!(made_by_kubernetes(&eni("aws-k8s-branch-eni", vec![])));
        assert!(made_by_kubernetes(&eni("aws-K8S-i-0123456789abcdef0", vec![])));
        assert!(made_by_kubernetes(&eni("", vec![t("cluster.k8s.amazonaws.com/name", "demo")])));
        assert!(!made_by_kubernetes(&eni("my database", vec![])));
    }

    #[test]
    fn a_detached_nat_gateway_interface_is_waited_for_and_any_other_is_named() {
        let available =
            |b: aws_sdk_ec2::types::builders::NetworkInterfaceBuilder| b.network_interface_id("eni-1").status(NetworkInterfaceStatus::Available).build();
        let nat = available(
            NetworkInterface::builder()
                .description("Interface for NAT Gateway nat-1")
                .interface_type(aws_sdk_ec2::types::NetworkInterfaceType::NatGateway)
                .requester_managed(true),
        );
        assert!(stuck("subnet subnet-1", &[nat]).is_ok());
        let other = available(NetworkInterface::builder().description("my database"));
        let e = stuck("subnet subnet-1", &[other]).unwrap_err();
        assert_eq!(e.code, "ForeignDependency");
        assert!(e.message.contains("eni-1 (available, my database)"), "{}", e.message);
    }
}
