//! The EKS cluster: in the private subnets, access through access entries (the creator is
//! admin), control plane ~9 minutes on AWS. Version, logging, endpoint access, authentication
//! mode, subnets and tags change in place; name and role force a new cluster.

use aws_sdk_eks::types::{AuthenticationMode, Cluster, CreateAccessConfigRequest, LogSetup, LogType, Logging, VpcConfigRequest};
use serde_json::{Value, json};

use super::{Session, attr_str, observed, strings, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

// Subnets change in place (UpdateClusterConfig, since October 2023: "You can update the cluster
// configuration to change which subnets and security groups the cluster uses … All subnets that
// you add must be in the same set of AZs as originally provided", EKS user guide, network-reqs;
// hashicorp/terraform-provider-aws#34090). A subnet in a new zone is refused by EKS at apply.
pub const SCHEMA: Schema = Schema::tagged("version").replace_on(&["name", "role_arn"]).outputs(&["name", "arn", "endpoint", "ca_data", "cluster_security_group_id", "vpc_id"]).normalize(normalize).check_update(check_update);

/// EKS moves a cluster's authentication mode one way, one step at a time: CONFIG_MAP →
/// API_AND_CONFIG_MAP → API; anything else (back, a skip, the same mode) is refused
/// ("InvalidParameterException: Unsupported authentication mode update from API to
/// API_AND_CONFIG_MAP"). EKS user guide, "Change the authentication mode":
/// https://docs.aws.amazon.com/eks/latest/userguide/grant-k8s-access.html#set-cam ("You can't
/// change the authentication mode back"); pulumi/pulumi-eks#1493, aws/aws-cdk#31032.
const AUTH_MODES: &[&str] = &["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"];

/// Refuses at plan time what EKS would refuse: a Kubernetes version moving back, an
/// authentication mode change out of order.
fn check_update(current: &Attrs, desired: &Attrs) -> Option<(String, String)> {
    check_version(current, desired).or_else(|| check_authentication_mode(current, desired))
}

/// EKS never moves a control plane back ("Once you upgrade a cluster, you can't downgrade to a
/// previous version", EKS user guide, update-cluster:
/// https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html; UpdateClusterVersion
/// answers "Unsupported Kubernetes minor version update from 1.23 to 1.22", rancher/rancher#41643).
fn check_version(current: &Attrs, desired: &Attrs) -> Option<(String, String)> {
    let (from, to) = (current.get("version")?.as_str()?, desired.get("version")?.as_str()?);
    let (f, t) = (crate::upgrade::minor(from)?, crate::upgrade::minor(to)?);
    (t < f).then(|| {
        (
            format!("EKS cannot move the cluster back from Kubernetes {from} to {to}: a control plane is only ever upgraded"),
            format!(
                "set `cluster.version: \"{from}\"` back (or a later version); to run {to}, create a new cluster under another `cluster.name` and move the workloads to it"
            ),
        )
    })
}

/// Refuses at plan time an authentication mode change EKS would refuse.
fn check_authentication_mode(current: &Attrs, desired: &Attrs) -> Option<(String, String)> {
    let (from, to) = (current.get("authentication_mode")?.as_str()?, desired.get("authentication_mode")?.as_str()?);
    let step = |m: &str| AUTH_MODES.iter().position(|x| *x == m);
    if from == to || step(to) == step(from).map(|i| i + 1) {
        return None;
    }
    let fix = match step(from) {
        Some(i) if i + 1 < AUTH_MODES.len() => format!("set `authentication_mode: {from}` back (or `{}`, the next step)", AUTH_MODES[i + 1]),
        _ => format!("set `authentication_mode: {from}` back"),
    };
    Some((
        format!("EKS cannot change the authentication mode from {from} to {to}: it moves one way, one step at a time (CONFIG_MAP → API_AND_CONFIG_MAP → API)"),
        format!("{fix}; to go back, the cluster has to be created again under another name"),
    ))
}

const LOG_TYPES: &[&str] = &["api", "audit", "authenticator", "controllerManager", "scheduler"];

pub fn normalize(attrs: &mut Attrs) {
    for key in ["subnet_ids", "logging", "public_access_cidrs"] {
        if let Some(Value::Array(items)) = attrs.get_mut(key) {
            items.sort_by_key(|v| v.to_string());
        }
    }
}

fn attrs_of(c: &Cluster) -> (Value, Vec<(&'static str, String)>) {
    let vpc = c.resources_vpc_config();
    let mut logging: Vec<String> = c
        .logging()
        .iter()
        .flat_map(|l| l.cluster_logging())
        .filter(|s| s.enabled() == Some(true))
        .flat_map(|s| s.types())
        .map(|t| t.as_str().to_string())
        .collect();
    logging.sort();
    let mut subnets: Vec<&str> = vpc.map(|v| v.subnet_ids().iter().map(String::as_str).collect()).unwrap_or_default();
    subnets.sort();
    let public = vpc.is_some_and(|v| v.endpoint_public_access());
    let mut cidrs: Vec<&str> = if public { vpc.map(|v| v.public_access_cidrs().iter().map(String::as_str).collect()).unwrap_or_default() } else { vec![] };
    cidrs.sort();
    let attrs = json!({
        "name": c.name(),
        "version": c.version(),
        "role_arn": c.role_arn(),
        "subnet_ids": subnets,
        "endpoint_public_access": public,
        "endpoint_private_access": vpc.is_some_and(|v| v.endpoint_private_access()),
        "public_access_cidrs": cidrs,
        "logging": logging,
        "authentication_mode": c.access_config().and_then(|a| a.authentication_mode()).map(|m| m.as_str()),
        "tags": super::tags::eks_observed(c.tags()),
        "status": c.status().map(|s| s.as_str()),
    });
    let outputs = vec![
        ("name", c.name().unwrap_or_default().to_string()),
        ("arn", c.arn().unwrap_or_default().to_string()),
        ("endpoint", c.endpoint().unwrap_or_default().to_string()),
        ("ca_data", c.certificate_authority().and_then(|a| a.data()).unwrap_or_default().to_string()),
        ("cluster_security_group_id", vpc.and_then(|v| v.cluster_security_group_id()).unwrap_or_default().to_string()),
        ("vpc_id", vpc.and_then(|v| v.vpc_id()).unwrap_or_default().to_string()),
    ];
    (attrs, outputs)
}

fn to_observed(c: &Cluster) -> Observed {
    let (attrs, outputs) = attrs_of(c);
    let extra: Vec<(&str, &str)> = outputs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    observed(c.name().unwrap_or_default(), attrs, &extra)
}

/// The stack's clusters: ListClusters, then DescribeCluster for each (EKS has no tag filter).
pub async fn describe_stack_clusters(cx: &Session) -> Result<Vec<Cluster>> {
    let names: Vec<String> = cx.eks().list_clusters().into_paginator().items().send().try_collect().await?;
    let mut out = vec![];
    // Every cluster of the account and region (EKS cannot filter by tag), eight at a time.
    for names in names.chunks(8) {
        for c in futures::future::join_all(names.iter().map(|name| describe(cx, name))).await {
            if let Some(c) = c?
                && c.tags().and_then(|t| t.get(super::tags::STACK)).map(String::as_str) == Some(cx.stack.as_str())
            {
                out.push(c);
            }
        }
    }
    Ok(out)
}

async fn describe(cx: &Session, name: &str) -> Result<Option<Cluster>> {
    match cx.eks().describe_cluster().name(name).send().await.map_err(ApiError::from) {
        Ok(out) => Ok(out.cluster().cloned()),
        Err(e) if e.code == "ResourceNotFoundException" => Ok(None),
        Err(e) => Err(e),
    }
}

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let mut out = Found::new();
    for c in describe_stack_clusters(cx).await? {
        if c.status().map(|s| s.as_str()) == Some("DELETING") {
            continue;
        }
        let Some(address) = super::tags::eks_address(c.tags()) else { continue };
        out.push((address, to_observed(&c)));
    }
    Ok(out)
}

fn logging(enabled: &[String]) -> Logging {
    let on: Vec<LogType> = enabled.iter().map(|t| LogType::from(t.as_str())).collect();
    let off: Vec<LogType> = LOG_TYPES.iter().filter(|t| !enabled.iter().any(|e| e == *t)).map(|t| LogType::from(*t)).collect();
    let mut setups = vec![];
    if !on.is_empty() {
        setups.push(LogSetup::builder().set_types(Some(on)).enabled(true).build());
    }
    if !off.is_empty() {
        setups.push(LogSetup::builder().set_types(Some(off)).enabled(false).build());
    }
    Logging::builder().set_cluster_logging(Some(setups)).build()
}

fn vpc_config(attrs: &Attrs, with_subnets: bool) -> VpcConfigRequest {
    let public = attrs.get("endpoint_public_access").and_then(Value::as_bool).unwrap_or(true);
    let mut b = VpcConfigRequest::builder()
        .endpoint_public_access(public)
        .endpoint_private_access(attrs.get("endpoint_private_access").and_then(Value::as_bool).unwrap_or(false));
    if with_subnets {
        b = b.set_subnet_ids(Some(strings(attrs, "subnet_ids")));
    }
    if public {
        b = b.set_public_access_cidrs(Some(strings(attrs, "public_access_cidrs")));
    }
    b.build()
}

/// Waits for ACTIVE (a failed cluster is an error naming its status).
/// `just_created`: the cluster was created a moment ago (its wait follows the creation's shape);
/// else it may already be ACTIVE (an update, a run resumed) and is read at once.
async fn wait_active(cx: &Session, name: &str, just_created: bool) -> Result<Cluster> {
    let schedule = cx.polling.schedule(just_created.then_some(wait::Transition::ClusterCreate));
    wait::on(schedule, &cx.polling, &format!("EKS cluster {name} to become ACTIVE"), || async {
        let Some(c) = describe(cx, name).await? else { return Err(ApiError::new("ResourceNotFoundException", format!("cluster {name} disappeared"))) };
        match c.status().map(|s| s.as_str()) {
            Some("ACTIVE") => Ok(Some(c)),
            Some("FAILED") => Err(ApiError::new("ClusterFailed", format!("cluster {name} is FAILED"))),
            _ => Ok(None),
        }
    })
    .await
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
    let name = attr_str(attrs, "name")?;
    let tags = super::tags::eks(attrs);
    let mode = AuthenticationMode::from(attr_str(attrs, "authentication_mode")?);
    let create = || async {
        cx.eks()
            .create_cluster()
            .name(name)
            .version(attr_str(attrs, "version")?)
            .role_arn(attr_str(attrs, "role_arn")?)
            .resources_vpc_config(vpc_config(attrs, true))
            .logging(logging(&strings(attrs, "logging")))
            .access_config(CreateAccessConfigRequest::builder().authentication_mode(mode.clone()).bootstrap_cluster_creator_admin_permissions(true).build())
            .set_tags(Some(tags.clone()))
            .client_request_token(token)
            .send()
            .await
            .map_err(ApiError::from)
    };
    let already_ours = || async { Ok(describe(cx, name).await?.is_some_and(|c| super::eks::is_stacks(cx, c.tags()))) };
    super::eks::create_naming_role(cx, create, already_ours).await?;
    Ok(to_observed(&wait_active(cx, name, true).await?))
}

async fn wait_update(cx: &Session, name: &str, id: &str) -> Result<()> {
    super::eks::wait_update(cx, name, super::eks::UpdateOf::Cluster, id).await
}

/// One update at a time, as EKS requires: version, then endpoint access, logging, auth mode.
pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    let name = current.id.as_str();
    let eks = cx.eks();
    let settled = super::settled(current, || async { Ok(to_observed(&wait_active(cx, name, false).await?)) }).await?;
    let current = &*settled;
    let changed = |key: &str| current.attrs.get(key) != attrs.get(key);
    if changed("version") {
        let out = eks.update_cluster_version().name(name).version(attr_str(attrs, "version")?).send().await?;
        wait_update(cx, name, out.update().and_then(|u| u.id()).unwrap_or_default()).await?;
    }
    if changed("subnet_ids") {
        let subnets = aws_sdk_eks::types::VpcConfigRequest::builder().set_subnet_ids(Some(strings(attrs, "subnet_ids"))).build();
        let out = eks.update_cluster_config().name(name).resources_vpc_config(subnets).send().await?;
        wait_update(cx, name, out.update().and_then(|u| u.id()).unwrap_or_default()).await?;
    }
    if changed("endpoint_public_access") || changed("endpoint_private_access") || changed("public_access_cidrs") {
        let out = eks.update_cluster_config().name(name).resources_vpc_config(vpc_config(attrs, false)).send().await?;
        wait_update(cx, name, out.update().and_then(|u| u.id()).unwrap_or_default()).await?;
    }
    if changed("logging") {
        let out = eks.update_cluster_config().name(name).logging(logging(&strings(attrs, "logging"))).send().await?;
        wait_update(cx, name, out.update().and_then(|u| u.id()).unwrap_or_default()).await?;
    }
    if changed("authentication_mode") {
        let mode = AuthenticationMode::from(attr_str(attrs, "authentication_mode")?);
        let out = eks
            .update_cluster_config()
            .name(name)
            .access_config(aws_sdk_eks::types::UpdateAccessConfigRequest::builder().authentication_mode(mode).build())
            .send()
            .await
            ?;
        wait_update(cx, name, out.update().and_then(|u| u.id()).unwrap_or_default()).await?;
    }
    if changed("tags") {
        let arn = current.outputs.get("arn").and_then(Value::as_str).unwrap_or_default();
        super::sync_eks_tags(cx, arn, &current.attrs, attrs).await?;
    }
    Ok(to_observed(&wait_active(cx, name, false).await?))
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    let name = current.id.as_str();
    // Refused while add-ons or nodegroups are still being deleted, or an update runs.
    match wait::retrying(&cx.polling, &["ResourceInUseException"], || async { cx.eks().delete_cluster().name(name).send().await.map_err(ApiError::from) }).await {
        Err(e) if e.code == "ResourceNotFoundException" => return Ok(()),
        other => other.map(|_| ())?,
    }
    wait::until_done(&cx.polling, wait::Transition::ClusterDelete, &format!("EKS cluster {name} to be deleted"), || async { Ok(describe(cx, name).await?.is_none().then_some(())) }).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(m: &str) -> Attrs {
        json!({"authentication_mode": m}).as_object().expect("object").clone()
    }

    #[test]
    fn the_kubernetes_version_never_moves_back() {
        let v = |v: &str| json!({"version": v, "authentication_mode": "API"}).as_object().expect("object").clone();
        assert_eq!(check_update(&v("1.33"), &v("1.34")), None);
        assert_eq!(check_update(&v("1.33"), &v("1.33")), None);
        let (message, fix) = check_update(&v("1.34"), &v("1.32")).expect("refused");
        assert!(message.contains("from Kubernetes 1.34 to 1.32"), "{message}");
        assert!(fix.starts_with("set `cluster.version: \"1.34\"` back"), "{fix}");
    }

    #[test]
    fn the_authentication_mode_moves_one_step_forward_only() {
        for (from, to) in [("CONFIG_MAP", "API_AND_CONFIG_MAP"), ("API_AND_CONFIG_MAP", "API"), ("API", "API")] {
            assert_eq!(check_update(&mode(from), &mode(to)), None, "{from} → {to}");
        }
        for (from, to) in [("API", "API_AND_CONFIG_MAP"), ("CONFIG_MAP", "API"), ("API_AND_CONFIG_MAP", "CONFIG_MAP")] {
            let (message, fix) = check_update(&mode(from), &mode(to)).unwrap_or_else(|| panic!("{from} → {to} passed"));
            assert!(message.contains(&format!("from {from} to {to}")) && message.contains("one way"), "{message}");
            assert!(fix.contains(&format!("authentication_mode: {from}")), "{fix}");
        }
    }
}
