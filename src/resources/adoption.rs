//! Taking over objects another tool made (`eksnet import`): whether they still exist, and
//! putting eksnet's ownership marks on them. EC2 objects are tagged with CreateTags, EKS
//! objects (by ARN) with TagResource, Kubernetes objects with labels and an annotation.

use aws_sdk_ec2::types::Filter;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eks::operation::RequestId;

use serde_json::Value;

use super::Aws;
use crate::address::Address;
use crate::k8s::ClusterRef;
use crate::provider::{ApiError, Result};

impl Aws {
    /// The objects of `objects` (kind, id; an ARN for EKS kinds) that no longer exist. Read with
    /// id filters, which list what exists instead of failing on the first id that does not.
    pub async fn missing(&self, objects: &[(String, String)]) -> Result<Vec<(String, String)>> {
        let ec2 = self.session.ec2();
        let mut out = vec![];
        for (kind, id) in objects {
            let filter = |name: &str| Filter::builder().name(name).values(id).build();
            let exists = match kind.as_str() {
                "vpc" => !ec2.describe_vpcs().filters(filter("vpc-id")).send().await?.vpcs().is_empty(),
                "subnet" => !ec2.describe_subnets().filters(filter("subnet-id")).send().await?.subnets().is_empty(),
                "internet_gateway" => !ec2.describe_internet_gateways().filters(filter("internet-gateway-id")).send().await?.internet_gateways().is_empty(),
                "elastic_ip" => !ec2.describe_addresses().filters(filter("allocation-id")).send().await?.addresses().is_empty(),
                "nat_gateway" => ec2
                    .describe_nat_gateways()
                    .filter(filter("nat-gateway-id"))
                    .send()
                    .await?
                    .nat_gateways()
                    .iter()
                    .any(|n| n.state().is_some_and(|s| !matches!(s.as_str(), "deleted" | "deleting" | "failed"))),
                "route_table" => !ec2.describe_route_tables().filters(filter("route-table-id")).send().await?.route_tables().is_empty(),
                "security_group" => !ec2.describe_security_groups().filters(filter("group-id")).send().await?.security_groups().is_empty(),
                "eks_cluster" => {
                    let name = arn_part(id, 1);
                    found(self.session.eks().describe_cluster().name(name).send().await)?
                }
                "eks_addon" => {
                    let (cluster, name) = (arn_part(id, 1), arn_part(id, 2));
                    found(self.session.eks().describe_addon().cluster_name(cluster).addon_name(name).send().await)?
                }
                "eks_nodegroup" => {
                    let (cluster, name) = (arn_part(id, 1), arn_part(id, 2));
                    found(self.session.eks().describe_nodegroup().cluster_name(cluster).nodegroup_name(name).send().await)?
                }
                // An access entry is named by cluster and principal, its ARN by neither in full
                // (`access-entry/CLUSTER/role/ACCOUNT/NAME/UUID` drops a role's path: the
                // resource type `access-entry` in the Service Authorization Reference, Amazon
                // EKS; a role ARN "can include a path", EKS user guide, creating-access-entries):
                // the cluster's entries are listed and their ARNs compared.
                "eks_access_entry" => {
                    let cluster = arn_part(id, 1);
                    let eks = self.session.eks();
                    let principals: Vec<String> = match eks.list_access_entries().cluster_name(cluster).into_paginator().items().send().try_collect().await {
                        Ok(p) => p,
                        Err(e) if e.as_service_error().is_some_and(|e| e.is_resource_not_found_exception()) => vec![],
                        Err(e) => return Err(e.into()),
                    };
                    let mut found = false;
                    for principal in principals {
                        let entry = eks.describe_access_entry().cluster_name(cluster).principal_arn(principal).send().await?;
                        found |= entry.access_entry().and_then(|e| e.access_entry_arn()) == Some(id.as_str());
                    }
                    found
                }
                other => return Err(ApiError::new("UnknownKind", format!("eksnet cannot adopt objects of kind `{other}`"))),
            };
            if !exists {
                out.push((kind.clone(), id.clone()));
            }
        }
        Ok(out)
    }

    /// Puts `tags` on one object (kind, id; an ARN for EKS kinds), values as AWS takes them.
    pub async fn tag(&self, kind: &str, id: &str, tags: &[(&str, String)]) -> Result<()> {
        if kind.starts_with("eks_") {
            let tags = tags.iter().map(|(k, v)| (k.to_string(), super::tags::to_aws(k, v))).collect();
            self.session.eks().tag_resource().resource_arn(id).set_tags(Some(tags)).send().await?;
        } else {
            let tags: Vec<aws_sdk_ec2::types::Tag> =
                tags.iter().map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(*k).value(super::tags::to_aws(k, v)).build()).collect();
            self.session.ec2().create_tags().resources(id).set_tags(Some(tags)).send().await?;
        }
        Ok(())
    }

    /// A Kubernetes object as it is (`k8s_manifest::get`); None when it does not exist.
    pub async fn kube_object(&self, cluster: &ClusterRef, reference: &Value) -> Result<Option<Value>> {
        super::k8s_manifest::get(&self.session, cluster, reference).await
    }

    /// Puts eksnet's labels and annotation on a Kubernetes object (`k8s_manifest::mark`).
    pub async fn mark_kube(&self, cluster: &ClusterRef, reference: &Value, address: &Address, lineage: &str) -> Result<()> {
        super::k8s_manifest::mark(&self.session, cluster, reference, address, lineage).await
    }
}

/// `arn:aws:eks:REGION:ACCOUNT:nodegroup/CLUSTER/NAME/UUID` (likewise `addon/…`,
/// `access-entry/…`) → part `n` of the resource path (0 = `nodegroup`, 1 = the cluster, 2 = the
/// nodegroup).
fn arn_part(arn: &str, n: usize) -> &str {
    arn.splitn(6, ':').nth(5).and_then(|path| path.split('/').nth(n)).unwrap_or_default()
}

/// Whether an EKS Describe found its object: ResourceNotFoundException is "no", any other
/// error is the caller's.
fn found<T, E, R>(answer: std::result::Result<T, SdkError<E, R>>) -> Result<bool>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
    SdkError<E, R>: RequestId,
{
    match answer {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().and_then(|e| e.code()) == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(ApiError::from(e)),
    }
}
