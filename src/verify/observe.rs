//! The reads verify makes: EC2 and EKS Describe calls, Kubernetes GET and LIST, nothing else (no
//! write, no state change, no lock). Each read fills `Facts`; the checks never call out.

use std::collections::BTreeMap;

use anyhow::Context;
use aws_config::SdkConfig;
use aws_sdk_ec2::types::Filter;
use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod, ServiceAccount};
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

use super::expect::Expect;
use super::facts::*;
use crate::k8s::{ClusterRef, Connections};
use crate::provider::ApiError;

fn reading(what: &str) -> impl FnOnce(ApiError) -> anyhow::Error + '_ {
    move |e| anyhow::anyhow!("reading {what}: {e}")
}

pub async fn observe(sdk: &SdkConfig, expect: &Expect) -> anyhow::Result<Facts> {
    let cluster = expect.cluster.clone().context("the stack has no `cluster`: verify checks a cluster's pods")?;
    let vpc = expect.vpc.clone().with_context(|| format!("stack `{}` has no VPC in its state: run `eksnet apply` first", expect.stack))?;
    let ec2 = aws_sdk_ec2::Client::new(sdk);
    let eks = aws_sdk_eks::Client::new(sdk);
    let mut facts = Facts { cluster: cluster.clone(), ..Facts::default() };

    let described = eks.describe_cluster().name(&cluster).send().await.map_err(ApiError::from).map_err(reading("the EKS cluster"))?;
    let c = described.cluster().with_context(|| format!("EKS cluster `{cluster}` not found"))?;
    facts.cluster_security_group = c.resources_vpc_config().and_then(|v| v.cluster_security_group_id()).map(str::to_string);
    let cluster_ref = ClusterRef {
        name: cluster.clone(),
        endpoint: c.endpoint().unwrap_or_default().to_string(),
        ca_data: c.certificate_authority().and_then(|a| a.data()).unwrap_or_default().to_string(),
    };
    for (name, _) in &expect.nodegroups {
        let got = eks.describe_nodegroup().cluster_name(&cluster).nodegroup_name(name).send().await;
        if let Ok(out) = got
            && let Some(ng) = out.nodegroup()
        {
            facts.nodegroups.push(NodegroupFact {
                name: name.clone(),
                status: ng.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                desired: ng.scaling_config().and_then(|s| s.desired_size()).unwrap_or_default().max(0) as u32,
            });
        }
    }

    read_ec2(&ec2, &vpc, &mut facts).await?;
    read_kubernetes(sdk, &cluster_ref, &mut facts).await?;
    Ok(facts)
}

fn in_vpc(vpc: &str) -> Filter {
    Filter::builder().name("vpc-id").values(vpc).build()
}

async fn read_ec2(ec2: &aws_sdk_ec2::Client, vpc: &str, facts: &mut Facts) -> anyhow::Result<()> {
    // localcloud, like EC2, answers in pages: every read follows NextToken.
    let mut pages = ec2.describe_subnets().filters(in_vpc(vpc)).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(ApiError::from).map_err(reading("subnets"))?;
        facts.subnets.extend(
            page.subnets().iter().map(|s| SubnetFact {
                id: s.subnet_id().unwrap_or_default().into(),
                available: s.available_ip_address_count().unwrap_or_default().max(0) as u32,
            }),
        );
    }

    let mut pages = ec2.describe_network_interfaces().filters(in_vpc(vpc)).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(ApiError::from).map_err(reading("network interfaces"))?;
        for ni in page.network_interfaces() {
            facts.enis.push(EniFact {
                id: ni.network_interface_id().unwrap_or_default().into(),
                interface_type: ni.interface_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
                description: ni.description().unwrap_or_default().into(),
                groups: ni.groups().iter().filter_map(|g| g.group_id().map(str::to_string)).collect(),
                subnet: ni.subnet_id().unwrap_or_default().into(),
                private_ips: ni.private_ip_addresses().iter().filter_map(|a| a.private_ip_address().map(str::to_string)).collect(),
            });
        }
    }

    let mut pages = ec2.describe_route_tables().filters(in_vpc(vpc)).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(ApiError::from).map_err(reading("route tables"))?;
        facts.route_tables.extend(page.route_tables().iter().map(|t| {
            RouteTableFact {
                id: t.route_table_id().unwrap_or_default().into(),
                subnets: t.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect(),
                default_target: t
                    .routes()
                    .iter()
                    .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
                    .and_then(|r| r.nat_gateway_id().or(r.gateway_id()).or(r.network_interface_id()).or(r.transit_gateway_id()).map(str::to_string)),
            }
        }));
    }

    let mut pages = ec2.describe_nat_gateways().filter(in_vpc(vpc)).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(ApiError::from).map_err(reading("NAT gateways"))?;
        facts.nat_gateways.extend(
            page.nat_gateways()
                .iter()
                .map(|n| NatFact { id: n.nat_gateway_id().unwrap_or_default().into(), state: n.state().map(|s| s.as_str().to_string()).unwrap_or_default() }),
        );
    }

    let rules = |perms: &[aws_sdk_ec2::types::IpPermission]| -> Vec<RuleFact> {
        perms
            .iter()
            .map(|p| RuleFact {
                protocol: p.ip_protocol().unwrap_or("-1").to_string(),
                from_port: p.from_port(),
                to_port: p.to_port(),
                cidrs: p.ip_ranges().iter().filter_map(|r| r.cidr_ip().map(str::to_string)).collect(),
                groups: p.user_id_group_pairs().iter().filter_map(|g| g.group_id().map(str::to_string)).collect(),
            })
            .collect()
    };
    let mut pages = ec2.describe_security_groups().filters(in_vpc(vpc)).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(ApiError::from).map_err(reading("security groups"))?;
        facts.security_groups.extend(page.security_groups().iter().map(|g| GroupFact {
            id: g.group_id().unwrap_or_default().into(),
            ingress: rules(g.ip_permissions()),
            egress: rules(g.ip_permissions_egress()),
        }));
    }
    Ok(())
}

fn custom(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

async fn read_kubernetes(sdk: &SdkConfig, cluster: &ClusterRef, facts: &mut Facts) -> anyhow::Result<()> {
    let connections = Connections::new(sdk.clone());
    let client = connections.client(cluster).await.map_err(reading("the cluster's Kubernetes API"))?;
    let k = |what: &'static str| move |e: kube::Error| anyhow::anyhow!("reading {what}: {}", ApiError::from(e));

    let nodes = Api::<Node>::all(client.clone()).list(&ListParams::default()).await.map_err(k("nodes"))?;
    facts.nodes = nodes.items.iter().map(node_fact).collect();

    let daemonsets: Api<DaemonSet> = Api::namespaced(client.clone(), "kube-system");
    facts.aws_node = daemonsets.get_opt("aws-node").await.map_err(k("kube-system/aws-node"))?.map(|ds| daemonset_fact(&ds));

    let pods = Api::<Pod>::all(client.clone()).list(&ListParams::default()).await.map_err(k("pods"))?;
    facts.pods = pods.items.iter().filter_map(pod_fact).collect();

    let eniconfigs = custom("crd.k8s.amazonaws.com", "v1alpha1", "ENIConfig", "eniconfigs");
    let list = Api::<DynamicObject>::all_with(client.clone(), &eniconfigs).list(&ListParams::default()).await;
    // No ENIConfig CRD (the CNI never configured) reads as no ENIConfigs: check 3 says so.
    for o in list.map(|l| l.items).unwrap_or_default() {
        facts.eniconfigs.push(EniConfigFact {
            name: o.metadata.name.clone().unwrap_or_default(),
            subnet: o.data["spec"]["subnet"].as_str().unwrap_or_default().into(),
            security_groups: strings(&o.data["spec"]["securityGroups"]),
        });
    }

    let policies = custom("vpcresources.k8s.aws", "v1beta1", "SecurityGroupPolicy", "securitygrouppolicies");
    let list = Api::<DynamicObject>::all_with(client.clone(), &policies).list(&ListParams::default()).await;
    for o in list.map(|l| l.items).unwrap_or_default() {
        let spec = &o.data["spec"];
        facts.policies.push(PolicyFact {
            namespace: o.metadata.namespace.clone().unwrap_or_default(),
            name: o.metadata.name.clone().unwrap_or_default(),
            pod_selector: selector(&spec["podSelector"]),
            service_account_selector: selector(&spec["serviceAccountSelector"]),
            groups: strings(&spec["securityGroups"]["groupIds"]),
        });
    }
    // ServiceAccounts only when a policy selects by them (one list call).
    if facts.policies.iter().any(|p| p.service_account_selector.is_some()) {
        let accounts = Api::<ServiceAccount>::all(client).list(&ListParams::default()).await.map_err(k("service accounts"))?;
        facts.service_accounts = accounts
            .items
            .into_iter()
            .map(|a| ((a.metadata.namespace.unwrap_or_default(), a.metadata.name.unwrap_or_default()), a.metadata.labels.unwrap_or_default()))
            .collect();
    }
    Ok(())
}

/// A label selector as the API has it; None when the field is absent.
fn selector(v: &Value) -> Option<Selector> {
    if v.is_null() {
        return None;
    }
    Some(Selector {
        match_labels: v["matchLabels"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().into())).collect())
            .unwrap_or_default(),
        match_expressions: v["matchExpressions"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| Expression {
                        key: e["key"].as_str().unwrap_or_default().into(),
                        operator: e["operator"].as_str().unwrap_or_default().into(),
                        values: strings(&e["values"]),
                    })
                    .collect()
            })
            .unwrap_or_default(),
    })
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

fn node_fact(n: &Node) -> NodeFact {
    let status = n.status.clone().unwrap_or_default();
    let allocatable = status.allocatable.clone().unwrap_or_default();
    let count = |key: &str| allocatable.get(key).and_then(|q| q.0.parse::<u32>().ok());
    NodeFact {
        name: n.metadata.name.clone().unwrap_or_default(),
        ready: status.conditions.iter().flatten().any(|c| c.type_ == "Ready" && c.status == "True"),
        labels: n.metadata.labels.clone().unwrap_or_default(),
        internal_ip: status.addresses.iter().flatten().find(|a| a.type_ == "InternalIP").map(|a| a.address.clone()),
        allocatable_pods: count("pods"),
        allocatable_branch_enis: count("vpc.amazonaws.com/pod-eni"),
    }
}

fn daemonset_fact(ds: &DaemonSet) -> DaemonSetFact {
    let containers = ds.spec.as_ref().and_then(|s| s.template.spec.as_ref()).map(|s| s.containers.clone()).unwrap_or_default();
    let env: BTreeMap<String, String> = containers
        .iter()
        .find(|c| c.name == "aws-node")
        .and_then(|c| c.env.clone())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|e| Some((e.name, e.value?)))
        .collect();
    let status = ds.status.clone().unwrap_or_default();
    DaemonSetFact {
        env,
        generation: ds.metadata.generation.unwrap_or_default(),
        observed_generation: status.observed_generation.unwrap_or_default(),
        desired: status.desired_number_scheduled,
        updated: status.updated_number_scheduled.unwrap_or_default(),
        available: status.number_available.unwrap_or_default(),
    }
}

/// A pod that runs or will (None for finished pods and pods being deleted).
fn pod_fact(p: &Pod) -> Option<PodFact> {
    let status = p.status.clone().unwrap_or_default();
    let phase = status.phase.clone().unwrap_or_default();
    if phase == "Succeeded" || phase == "Failed" || p.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let spec = p.spec.clone().unwrap_or_default();
    let labels = p.metadata.labels.clone().unwrap_or_default();
    Some(PodFact {
        namespace: p.metadata.namespace.clone().unwrap_or_default(),
        name: p.metadata.name.clone().unwrap_or_default(),
        host_network: spec.host_network.unwrap_or(false),
        ip: status.pod_ip.clone().filter(|ip| !ip.is_empty()),
        node: spec.node_name.clone(),
        phase,
        pod_eni: p.metadata.annotations.as_ref().and_then(|a| a.get(super::pod_enis::ANNOTATION)).cloned(),
        service_account: spec.service_account_name.clone().unwrap_or_else(|| "default".into()),
        workload: p.metadata.owner_references.iter().flatten().find(|o| o.controller == Some(true)).map(|o| workload(&o.kind, &o.name, &labels)),
        labels,
    })
}

/// The workload kubectl can restart: a ReplicaSet's Deployment (the ReplicaSet is named after
/// it, `-<pod-template-hash>` appended), else the owner itself.
pub fn workload(kind: &str, name: &str, labels: &BTreeMap<String, String>) -> String {
    if kind == "ReplicaSet"
        && let Some(deployment) = labels.get("pod-template-hash").and_then(|h| name.strip_suffix(&format!("-{h}")))
    {
        return format!("deployment/{deployment}");
    }
    format!("{}/{name}", kind.to_lowercase())
}
