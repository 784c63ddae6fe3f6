//! IAM roles for the cluster and the nodes, with their managed policies. Roles live under the
//! path `/eksnet/<stack>/`, so one paginated ListRoles finds every role of the stack.

use aws_sdk_iam::types::Tag;
use serde_json::{Value, json};

use super::{Session, attr_str, observed, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::tagged("name").replace_on(&["name", "path", "trusted_service"]).outputs(&["arn"]);

fn trust_policy(service: &str) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    })
    .to_string()
}

/// The service a trust policy document (URL-encoded JSON, as IAM returns it) trusts.
fn trusted_service(document: &str) -> Option<String> {
    let decoded = percent_decode(document);
    let doc: Value = serde_json::from_str(&decoded).ok()?;
    let principal = &doc["Statement"][0]["Principal"]["Service"];
    principal.as_str().map(str::to_string).or_else(|| principal[0].as_str().map(str::to_string))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn attached(cx: &Session, role: &str) -> Result<Vec<String>> {
    let policies: Vec<_> = cx.iam().list_attached_role_policies().role_name(role).into_paginator().items().send().try_collect().await?;
    let mut arns: Vec<String> = policies.iter().filter_map(|p| p.policy_arn().map(str::to_string)).collect();
    arns.sort();
    Ok(arns)
}

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let prefix = format!("/eksnet/{}/", cx.stack);
    let roles: Vec<_> = cx.iam().list_roles().path_prefix(&prefix).into_paginator().items().send().try_collect().await?;
    // IAM has no batch read of attached policies and tags (ListRoles returns neither): the
    // roles' reads run side by side.
    let reads = roles.iter().filter_map(|role| {
        let name = role.role_name();
        let short = name.strip_prefix(&format!("{}-", cx.stack))?.to_string();
        Some(async move {
            let (policies, tags) = tokio::join!(attached(cx, name), cx.iam().list_role_tags().role_name(name).send());
            let attrs = json!({
                "name": name,
                "path": role.path(),
                "trusted_service": role.assume_role_policy_document().and_then(trusted_service),
                "policy_arns": policies?,
            });
            let mut found = observed(name, attrs, &[("arn", role.arn())]);
            let tags = tags?;
            let tags: serde_json::Map<String, Value> = tags.tags().iter().map(|t| (t.key().to_string(), json!(t.value()))).collect();
            // The address its tag names (`eksnet state mv` may have moved it), else the one
            // its name says (roles tagged before the address tag).
            let address = tags
                .get(super::tags::ADDRESS)
                .and_then(Value::as_str)
                .and_then(crate::ownership::decode_address)
                .filter(|a| a.kind == "iam_role")
                .unwrap_or_else(|| Address::new("iam_role", &short));
            found.attrs.insert("tags".into(), Value::Object(tags));
            Ok::<_, ApiError>((address, found))
        })
    });
    futures::future::join_all(reads).await.into_iter().collect()
}

fn policies(attrs: &Attrs) -> Vec<String> {
    attrs.get("policy_arns").and_then(Value::as_array).map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

async fn sync_policies(cx: &Session, role: &str, current: &[String], want: &[String]) -> Result<()> {
    for arn in want.iter().filter(|p| !current.contains(p)) {
        cx.iam().attach_role_policy().role_name(role).policy_arn(arn).send().await?;
    }
    for arn in current.iter().filter(|p| !want.contains(p)) {
        cx.iam().detach_role_policy().role_name(role).policy_arn(arn).send().await?;
    }
    Ok(())
}

fn tag_list(attrs: &Attrs) -> Vec<Tag> {
    attrs
        .get("tags")
        .and_then(Value::as_object)
        .map(|m| m.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v.as_str().unwrap_or_default()).build().ok()).collect())
        .unwrap_or_default()
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    let name = attr_str(attrs, "name")?;
    let tags = tag_list(attrs);
    let (created, taken_over) = match cx
        .iam()
        .create_role()
        .role_name(name)
        .path(attr_str(attrs, "path")?)
        .assume_role_policy_document(trust_policy(attr_str(attrs, "trusted_service")?))
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(ApiError::from)
    {
        Ok(out) => (out.role().map(|r| r.arn().to_string()).unwrap_or_default(), false),
        // Created by a run that died before recording it: take it over.
        Err(e) if e.code == "EntityAlreadyExists" => {
            (cx.iam().get_role().role_name(name).send().await?.role().map(|r| r.arn().to_string()).unwrap_or_default(), true)
        }
        Err(e) => return Err(e),
    };
    // A role CreateRole just made has no policies attached; one taken over may have some.
    let current = if taken_over { attached(cx, name).await? } else { Vec::new() };
    sync_policies(cx, name, &current, &policies(attrs)).await?;
    Ok(Observed { id: name.into(), attrs: attrs.clone(), outputs: super::outputs(name, &[("arn", &created)]) })
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    sync_policies(cx, &current.id, &policies(&current.attrs), &policies(attrs)).await?;
    let (old, new) = (tag_list(&current.attrs), tag_list(attrs));
    let set: Vec<Tag> = new.iter().filter(|t| !old.contains(t)).cloned().collect();
    let unset: Vec<String> = old.iter().filter(|o| !new.iter().any(|n| n.key() == o.key())).map(|t| t.key().to_string()).collect();
    if !set.is_empty() {
        cx.iam().tag_role().role_name(&current.id).set_tags(Some(set)).send().await?;
    }
    if !unset.is_empty() {
        cx.iam().untag_role().role_name(&current.id).set_tag_keys(Some(unset)).send().await?;
    }
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    let policies = match attached(cx, &current.id).await {
        Err(e) if e.code == "NoSuchEntity" => return Ok(()),
        other => other?,
    };
    sync_policies(cx, &current.id, &policies, &[]).await?;
    // IAM refuses while the role is still in use (e.g. by a nodegroup EKS is deleting).
    match wait::retrying(&cx.polling, &["DeleteConflict"], || async { cx.iam().delete_role().role_name(&current.id).send().await.map_err(ApiError::from) }).await {
        Err(e) if e.code == "NoSuchEntity" => Ok(()),
        Err(e) => Err(ApiError { message: format!("deleting role {}: {}", current.id, e.message), ..e }),
        Ok(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_trusted_service_of_an_encoded_policy() {
        let doc = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%22eks.amazonaws.com%22%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(super::trusted_service(doc).as_deref(), Some("eks.amazonaws.com"));
        assert_eq!(super::trusted_service(&super::trust_policy("ec2.amazonaws.com")).as_deref(), Some("ec2.amazonaws.com"));
    }
}
