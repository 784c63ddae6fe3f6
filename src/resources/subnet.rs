//! Subnets of the three tiers; public ones map public IPs on launch.

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType};
use serde_json::{Value, json};

use super::{Session, attr_str, gone_ok, observed, tags, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::tagged("cidr_block").replace_on(&["vpc_id", "cidr_block", "availability_zone"]);

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let subnets = cx.ec2().describe_subnets().filters(tags::stack_filter(&cx.stack)).into_paginator().items().send().try_collect().await?;
    let mut out = Found::new();
    for s in subnets {
        let (Some(address), Some(id)) = (tags::address_of(s.tags()), s.subnet_id()) else {
            continue;
        };
        out.push((
            address,
            observed(
                id,
                json!({
                    "vpc_id": s.vpc_id(),
                    "cidr_block": s.cidr_block(),
                    "availability_zone": s.availability_zone(),
                    "map_public_ip_on_launch": s.map_public_ip_on_launch().unwrap_or(false),
                    "tags": tags::observed(s.tags()),
                }),
                &[],
            ),
        ));
    }
    Ok(out)
}

pub async fn create(cx: &Session, address: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    let (vpc, cidr, az) = (attr_str(attrs, "vpc_id")?, attr_str(attrs, "cidr_block")?, attr_str(attrs, "availability_zone")?);
    // The VPC may be one this run just created (not propagated yet: retried).
    let id = wait::propagated(cx, || {
        super::create_once::create(cx, address, |ec2| async move {
            let call = ec2.create_subnet().vpc_id(vpc).cidr_block(cidr).availability_zone(az);
            let created = call.tag_specifications(tags::spec(ResourceType::Subnet, attrs)).send().await?;
            Ok(created.subnet().and_then(|s| s.subnet_id()).unwrap_or_default().to_string())
        })
    })
    .await?;
    let mut current = attrs.clone();
    current.insert("map_public_ip_on_launch".into(), false.into());
    set_public_ip(cx, &id, &current, attrs).await?;
    Ok(Observed { id: id.clone(), attrs: attrs.clone(), outputs: super::outputs(&id, &[]) })
}

async fn set_public_ip(cx: &Session, id: &str, current: &Attrs, attrs: &Attrs) -> Result<()> {
    let want = attrs.get("map_public_ip_on_launch").and_then(Value::as_bool).unwrap_or(false);
    if current.get("map_public_ip_on_launch").and_then(Value::as_bool) != Some(want) {
        let value = AttributeBooleanValue::builder().value(want).build();
        wait::propagated(cx, || async {
            cx.ec2().modify_subnet_attribute().subnet_id(id).map_public_ip_on_launch(value.clone()).send().await.map_err(ApiError::from)
        })
        .await?;
    }
    Ok(())
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    set_public_ip(cx, &current.id, &current.attrs, attrs).await?;
    tags::sync(cx, &current.id, &current.attrs, attrs).await?;
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    let since = std::time::Instant::now();
    let blocked = |e: &ApiError| e.code == "DependencyViolation";
    let delete = || async {
        // Pod and node ENIs the VPC CNI left behind would hold the subnet forever.
        super::leftovers::within_grace(super::leftovers::clear_subnet(cx, &current.id).await, since)?;
        cx.ec2().delete_subnet().subnet_id(&current.id).send().await.map_err(ApiError::from)
    };
    let explain = || super::leftovers::subnet_blockers(cx, &current.id);
    let result = wait::retrying_explained(&cx.polling, cx.polling.dependency_timeout, blocked, delete, explain).await;
    match result {
        Err(e) if e.code == "DependencyViolation" => {
            let blockers = super::leftovers::subnet_blockers(cx, &current.id).await;
            Err(ApiError { message: format!("deleting subnet {}: {}{blockers}", current.id, e.message), ..e })
        }
        other => gone_ok(other),
    }
}
