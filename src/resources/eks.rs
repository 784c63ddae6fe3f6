//! What the EKS kinds (cluster, nodegroup, add-on, access entry) share: waiting for an object
//! another run left CREATING, tags, reading every object of the stack's clusters, and creating
//! with a role IAM may not have propagated yet.

use std::collections::HashMap;
use std::future::Future;

use super::fields::string_map;
use super::{Session, wait};
use crate::provider::{ApiError, Found, Observed, Result, Scope};
use crate::value::Attrs;

/// An EKS object found CREATING or UPDATING (e.g. left by a killed run) cannot change until it is
/// ACTIVE, and a cluster's endpoint and CA only exist then: `wait` for it and go on with what it
/// is then. Its `status` attribute (wanted: ACTIVE) is what put it in the plan.
pub(crate) async fn settled<'a, Fut>(current: &'a Observed, wait: impl FnOnce() -> Fut) -> Result<std::borrow::Cow<'a, Observed>>
where
    Fut: std::future::Future<Output = Result<Observed>>,
{
    match current.attrs.get("status").and_then(serde_json::Value::as_str) {
        None | Some("ACTIVE") => Ok(std::borrow::Cow::Borrowed(current)),
        Some(_) => Ok(std::borrow::Cow::Owned(wait().await?)),
    }
}

/// Makes an EKS resource's tags those of `attrs`.
pub(crate) async fn sync_eks_tags(cx: &Session, arn: &str, current: &Attrs, attrs: &Attrs) -> Result<()> {
    let (old, new) = (string_map(current, "tags"), string_map(attrs, "tags"));
    let set: std::collections::HashMap<String, String> =
        new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), super::tags::to_aws(k, v))).collect();
    let unset: Vec<String> = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    if !set.is_empty() {
        cx.eks().tag_resource().resource_arn(arn).set_tags(Some(set)).send().await?;
    }
    if !unset.is_empty() {
        cx.eks().untag_resource().resource_arn(arn).set_tag_keys(Some(unset)).send().await?;
    }
    Ok(())
}

/// The stack's clusters, as refresh found them (their id is their name).
pub(crate) fn clusters<'a>(scope: &'a Scope<'_>) -> impl Iterator<Item = &'a str> {
    scope.ids.iter().filter(|(_, a)| a.kind == "eks_cluster").map(|(id, _)| id.as_str())
}

/// How one EKS kind that lives in a cluster (add-on, nodegroup) is listed and described.
pub(crate) struct InCluster<T, L, D> {
    /// ListAddons / ListNodegroups of one cluster: the names.
    pub list: L,
    /// DescribeAddon / DescribeNodegroup of one name; None when it is gone.
    pub describe: D,
    pub deleting: fn(&T) -> bool,
    pub tags: fn(&T) -> Option<&HashMap<String, String>>,
    pub observe: fn(&T) -> Observed,
}

/// Every object of one kind in the stack's clusters, keyed by its address tag: listed per
/// cluster, described side by side (EKS has no batch describe), those being deleted left out.
pub(crate) async fn read_in_clusters<T, L, LF, D, DF>(scope: &Scope<'_>, kind: InCluster<T, L, D>) -> Result<Found>
where
    L: Fn(String) -> LF,
    LF: Future<Output = Result<Vec<String>>>,
    D: Fn(String, String) -> DF,
    DF: Future<Output = Result<Option<T>>>,
{
    let mut out = Found::new();
    for cluster in clusters(scope) {
        let names = match (kind.list)(cluster.to_string()).await {
            Err(e) if e.code == "ResourceNotFoundException" => continue,
            other => other?,
        };
        let described = futures::future::join_all(names.into_iter().map(|name| (kind.describe)(cluster.to_string(), name))).await;
        for object in described {
            let Some(object) = object? else { continue };
            if (kind.deleting)(&object) {
                continue;
            }
            let Some(address) = super::tags::eks_address((kind.tags)(&object)) else { continue };
            out.push((address, (kind.observe)(&object)));
        }
    }
    Ok(out)
}

/// Creates an EKS object that names an IAM role: EKS refuses a role IAM has not propagated yet,
/// so the create is retried while it says so (`wait::role_not_ready`). `ResourceInUseException`
/// means a run that died before recording it made it already (same token): when `already_ours`
/// confirms the object is this stack's, the create is done and the caller waits for it.
pub(crate) async fn create_naming_role<T, C, CF, O>(session: &Session, create: C, already_ours: impl FnOnce() -> O) -> Result<()>
where
    C: Fn() -> CF,
    CF: Future<Output = Result<T>>,
    O: Future<Output = Result<bool>>,
{
    match wait::retrying_if(&session.polling, wait::ROLE_PROPAGATION, wait::role_not_ready, create).await {
        Ok(_) => Ok(()),
        Err(e) if e.code == "ResourceInUseException" && already_ours().await? => Ok(()),
        Err(e) => Err(wait::role_timeout(e)),
    }
}

/// What an EKS update (UpdateClusterConfig / UpdateClusterVersion, UpdateNodegroupConfig /
/// UpdateNodegroupVersion, UpdateAddon) applies to: DescribeUpdate names it the same way.
pub(crate) enum UpdateOf<'a> {
    Cluster,
    Nodegroup(&'a str),
    Addon(&'a str),
}

/// Waits for the update `id` of `cluster` to be Successful; Failed or Cancelled is an error with
/// the update's own errors. The update call answers before the change starts (the object may
/// still read ACTIVE with its old values), so the update id is what tells it is done, as
/// terraform-provider-aws does (internal/service/eks/cluster.go `waitClusterUpdateSuccessful`,
/// node_group.go `waitNodegroupUpdateSuccessful`, addon.go `waitAddonUpdateSuccessful`:
/// Pending InProgress, Target Successful; Failed/Cancelled → the update's errors). API:
/// https://docs.aws.amazon.com/eks/latest/APIReference/API_DescribeUpdate.html
pub(crate) async fn wait_update(session: &Session, cluster: &str, of: UpdateOf<'_>, id: &str) -> Result<()> {
    use aws_sdk_eks::types::UpdateStatus;
    let what = match &of {
        UpdateOf::Cluster => format!("update {id} of EKS cluster {cluster}"),
        UpdateOf::Nodegroup(name) => format!("update {id} of nodegroup {name} of cluster {cluster}"),
        UpdateOf::Addon(name) => format!("update {id} of add-on {name} of cluster {cluster}"),
    };
    wait::until(&session.polling, &what, || async {
        let mut call = session.eks().describe_update().name(cluster).update_id(id);
        match &of {
            UpdateOf::Cluster => {}
            UpdateOf::Nodegroup(name) => call = call.nodegroup_name(*name),
            UpdateOf::Addon(name) => call = call.addon_name(*name),
        }
        let out = call.send().await?;
        let update = out.update();
        match update.and_then(|u| u.status()) {
            Some(UpdateStatus::Successful) => Ok(Some(())),
            Some(status @ (UpdateStatus::Failed | UpdateStatus::Cancelled)) => {
                let why: Vec<String> = update
                    .map(|u| {
                        u.errors()
                            .iter()
                            .map(|e| format!("{}: {}", e.error_code().map(|c| c.as_str()).unwrap_or("?"), e.error_message().unwrap_or_default()))
                            .collect()
                    })
                    .unwrap_or_default();
                Err(ApiError::new(
                    "UpdateFailed",
                    format!("{what} is {}: {}", status.as_str(), if why.is_empty() { "no reason given".to_string() } else { why.join("; ") }),
                ))
            }
            _ => Ok(None),
        }
    })
    .await
}

/// Whether EKS tags name this stack.
pub(crate) fn is_stacks(session: &Session, tags: Option<&HashMap<String, String>>) -> bool {
    tags.and_then(|t| t.get(super::tags::STACK)) == Some(&session.stack)
}

/// Deletions of one EKS kind that lives in a cluster (nodegroups, add-ons), waited for in one
/// loop: each poll is one List call per cluster (ListNodegroups / ListAddons), and an object is
/// gone once its cluster no longer lists it. EKS has no batch describe, so polling each object
/// with its own Describe costs one call per object per poll (4 nodegroups: 4 × the polls). A
/// deleting object is still listed (it is still "associated with the specified cluster",
/// ListNodegroups / ListAddons API reference) until it is gone, which is when its Describe
/// answers ResourceNotFoundException (the test of `aws eks wait nodegroup-deleted` and of
/// terraform-provider-aws internal/service/eks/node_group.go `waitNodegroupDeleted`). Waiter ids
/// are `cluster:name`.
pub(crate) fn deletions<L, LF>(cx: &Session, kind: &'static str, list: L) -> std::sync::Arc<wait::Batch<()>>
where
    L: Fn(aws_sdk_eks::Client, String) -> LF + Send + Sync + 'static,
    LF: Future<Output = Result<Vec<String>>> + Send + 'static,
{
    cx.batch(kind, || {
        let eks = cx.eks().clone();
        let list = std::sync::Arc::new(list);
        wait::Batch::new(cx.polling, move |ids: Vec<String>| {
            let mut by_cluster: std::collections::BTreeMap<String, Vec<String>> = Default::default();
            for id in ids {
                let (cluster, name) = id.split_once(':').unwrap_or((&id, ""));
                by_cluster.entry(cluster.to_string()).or_default().push(name.to_string());
            }
            let listed = by_cluster.into_iter().map(|(cluster, names)| {
                let listing = list(eks.clone(), cluster.clone());
                async move {
                    let present = match listing.await {
                        // the cluster itself is gone: so is everything in it
                        Err(e) if e.code == "ResourceNotFoundException" => vec![],
                        other => other?,
                    };
                    Ok::<_, ApiError>(names.into_iter().filter(|n| present.contains(n)).map(|n| (format!("{cluster}:{n}"), ())).collect::<Vec<_>>())
                }
            });
            let listed = futures::future::join_all(listed);
            Box::pin(async move {
                let mut found = HashMap::new();
                for present in listed.await {
                    found.extend(present?);
                }
                Ok(found)
            })
        })
    })
}
