//! The internet gateway and its attachment to the VPC, one resource: an unattached gateway
//! (e.g. after a crash between the two calls) shows up as an update that attaches it.

use aws_sdk_ec2::types::ResourceType;
use serde_json::{Value, json};

use super::{Session, attr_str, gone_ok, observed, tags, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::tagged("vpc_id");

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let gateways =
        cx.ec2().describe_internet_gateways().filters(tags::stack_filter(&cx.stack)).into_paginator().items().send().try_collect().await?;
    let mut out = Found::new();
    for g in gateways {
        let (Some(address), Some(id)) = (tags::address_of(g.tags()), g.internet_gateway_id()) else {
            continue;
        };
        let vpc = g.attachments().iter().find(|a| a.state().is_some_and(|s| s.as_str() != "detached")).and_then(|a| a.vpc_id());
        out.push((address, observed(id, json!({"vpc_id": vpc, "tags": tags::observed(g.tags())}), &[])));
    }
    Ok(out)
}

pub async fn create(cx: &Session, address: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    let id = super::create_once::create(cx, address, |ec2| async move {
        let created = ec2.create_internet_gateway().tag_specifications(tags::spec(ResourceType::InternetGateway, attrs)).send().await?;
        Ok(created.internet_gateway().and_then(|g| g.internet_gateway_id()).unwrap_or_default().to_string())
    })
    .await?;
    let vpc = attr_str(attrs, "vpc_id")?;
    // Both ids may be fresh from this run (EC2 eventual consistency: retried).
    wait::propagated(cx, || async { cx.ec2().attach_internet_gateway().internet_gateway_id(&id).vpc_id(vpc).send().await.map_err(ApiError::from) }).await?;
    Ok(Observed { id: id.clone(), attrs: attrs.clone(), outputs: super::outputs(&id, &[]) })
}

async fn detach(cx: &Session, id: &str, vpc: &str) -> Result<()> {
    // Detaching fails while public addresses are mapped in the VPC (e.g. a NAT still deleting).
    gone_ok(
        wait::retrying(&cx.polling, &["DependencyViolation"], || async {
            cx.ec2().detach_internet_gateway().internet_gateway_id(id).vpc_id(vpc).send().await.map_err(ApiError::from)
        })
        .await,
    )
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    let old = current.attrs.get("vpc_id").and_then(Value::as_str);
    let new = attr_str(attrs, "vpc_id")?;
    if old != Some(new) {
        if let Some(old) = old {
            detach(cx, &current.id, old).await?;
        }
        wait::propagated(cx, || async { cx.ec2().attach_internet_gateway().internet_gateway_id(&current.id).vpc_id(new).send().await.map_err(ApiError::from) })
            .await?;
    }
    tags::sync(cx, &current.id, &current.attrs, attrs).await?;
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    if let Some(vpc) = current.attrs.get("vpc_id").and_then(Value::as_str) {
        detach(cx, &current.id, vpc).await?;
    }
    gone_ok(cx.ec2().delete_internet_gateway().internet_gateway_id(&current.id).send().await.map_err(ApiError::from))
}
