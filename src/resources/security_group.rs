//! Security groups (e.g. the pod group a SecurityGroupPolicy hands to pods). Their rules are a
//! separate resource, so that groups referring to each other never form a cycle.

use aws_sdk_ec2::types::{ResourceType, SecurityGroup};
use serde_json::json;

use super::{Session, attr_str, gone_ok, observed, tags, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::tagged("group_name").replace_on(&["vpc_id", "group_name", "description"]);

pub async fn describe(cx: &Session) -> Result<Vec<SecurityGroup>> {
    cx.ec2().describe_security_groups().filters(tags::stack_filter(&cx.stack)).into_paginator().items().send().try_collect().await.map_err(ApiError::from)
}

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let mut out = Found::new();
    let groups = describe(cx).await?;
    cx.share("DescribeSecurityGroups", groups.clone());
    for g in groups {
        let (Some(address), Some(id)) = (tags::address_of(g.tags()), g.group_id()) else {
            continue;
        };
        if address.kind != "security_group" {
            continue;
        }
        let attrs = json!({"vpc_id": g.vpc_id(), "group_name": g.group_name(), "description": g.description(), "tags": tags::observed(g.tags())});
        out.push((address, observed(id, attrs, &[])));
    }
    Ok(out)
}

pub async fn create(cx: &Session, address: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    let (vpc, name, description) = (attr_str(attrs, "vpc_id")?, attr_str(attrs, "group_name")?, attr_str(attrs, "description")?);
    // The VPC may be one this run just created (not propagated yet: retried).
    let id = wait::propagated(cx, || {
        super::create_once::create(cx, address, |ec2| async move {
            let call = ec2.create_security_group().vpc_id(vpc).group_name(name).description(description);
            let created = call.tag_specifications(tags::spec(ResourceType::SecurityGroup, attrs)).send().await?;
            Ok(created.group_id().unwrap_or_default().to_string())
        })
    })
    .await?;
    Ok(Observed { id: id.clone(), attrs: attrs.clone(), outputs: super::outputs(&id, &[]) })
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    tags::sync(cx, &current.id, &current.attrs, attrs).await?;
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    let since = std::time::Instant::now();
    gone_ok(
        wait::retrying(&cx.polling, &["DependencyViolation"], || async {
            // Pod branch ENIs left behind carry this group and would hold it forever.
            super::leftovers::within_grace(super::leftovers::clear_group_enis(cx, &current.id).await, since)?;
            cx.ec2().delete_security_group().group_id(&current.id).send().await.map_err(ApiError::from)
        })
        .await,
    )
}
