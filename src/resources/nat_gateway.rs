//! NAT gateways: public (with an Elastic IP, for the private tier) and private (no EIP,
//! for the intra tier in the non-routable range). Both are asynchronous in AWS: creation
//! waits for `available`, deletion for `deleted`, so the EIP and subnet can go after.

use std::collections::HashMap;
use std::sync::Arc;

use aws_sdk_ec2::types::{ConnectivityType, Filter, NatGateway, NatGatewayState, ResourceType};
use serde_json::json;

use super::{Session, attr_str, observed, tags, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::tagged("connectivity_type").replace_on(&["subnet_id", "connectivity_type", "allocation_id"]);

fn attrs_of(n: &NatGateway) -> serde_json::Value {
    let connectivity = n.connectivity_type().map(|c| c.as_str()).unwrap_or("public");
    let mut attrs = json!({"subnet_id": n.subnet_id(), "connectivity_type": connectivity, "tags": tags::observed(n.tags())});
    if connectivity == "public" {
        attrs["allocation_id"] = json!(n.nat_gateway_addresses().first().and_then(|a| a.allocation_id()));
    }
    attrs
}

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let gateways =
        cx.ec2().describe_nat_gateways().filter(tags::stack_filter(&cx.stack)).into_paginator().items().send().try_collect().await?;
    let mut out = Found::new();
    for n in gateways {
        let (Some(address), Some(id)) = (tags::address_of(n.tags()), n.nat_gateway_id()) else {
            continue;
        };
        // Deleted and failed gateways linger in Describe for a while; they are not there.
        if matches!(n.state(), Some(NatGatewayState::Deleted | NatGatewayState::Deleting | NatGatewayState::Failed)) {
            continue;
        }
        out.push((address, observed(id, attrs_of(&n), &[])));
    }
    Ok(out)
}

/// Every NAT gateway being waited for is polled by one DescribeNatGateways (filtered by id,
/// so one that is gone is absent rather than an error for all).
fn waiter(cx: &Session) -> Arc<wait::Batch<NatGateway>> {
    cx.batch("nat_gateway", || {
        let ec2 = cx.ec2().clone();
        wait::Batch::new(cx.polling, move |ids| {
            let call = ec2.describe_nat_gateways().filter(Filter::builder().name("nat-gateway-id").set_values(Some(ids)).build());
            Box::pin(async move {
                let found: Vec<NatGateway> = call.into_paginator().items().send().try_collect().await?;
                Ok(found.into_iter().filter_map(|n| Some((n.nat_gateway_id()?.to_string(), n))).collect::<HashMap<_, _>>())
            })
        })
    })
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
    let private = attr_str(attrs, "connectivity_type")? == "private";
    let mut call = cx
        .ec2()
        .create_nat_gateway()
        .subnet_id(attr_str(attrs, "subnet_id")?)
        .client_token(token)
        .tag_specifications(tags::spec(ResourceType::Natgateway, attrs));
    call = if private {
        call.connectivity_type(ConnectivityType::Private)
    } else {
        call.connectivity_type(ConnectivityType::Public).allocation_id(attr_str(attrs, "allocation_id")?)
    };
    // The subnet and address may be fresh from this run; the client token makes a retry safe.
    let created = wait::propagated(cx, || async { call.clone().send().await.map_err(ApiError::from) }).await?;
    let id = created.nat_gateway().and_then(|n| n.nat_gateway_id()).unwrap_or_default().to_string();
    let nat = waiter(cx)
        .until(&format!("NAT gateway {id} to become available"), &id, Some(wait::Transition::NatGatewayCreate), |n| {
            let Some(n) = n else {
                return Ok(None); // not visible yet
            };
            match n.state() {
                Some(NatGatewayState::Available) => Ok(Some(n.clone())),
                Some(NatGatewayState::Failed) => Err(ApiError::new(
                    n.failure_code().unwrap_or("NatGatewayFailed"),
                    format!("NAT gateway {id} failed: {}", n.failure_message().unwrap_or("no reason given")),
                )),
                _ => Ok(None),
            }
        })
        .await?;
    Ok(observed(&id, attrs_of(&nat), &[]))
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    tags::sync(cx, &current.id, &current.attrs, attrs).await?;
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    match cx.ec2().delete_nat_gateway().nat_gateway_id(&current.id).send().await.map_err(ApiError::from) {
        Err(e) if e.code.ends_with("NotFound") => return Ok(()),
        other => other.map(|_| ())?,
    }
    // The EIP cannot be released and the subnet not deleted until the gateway is `deleted`.
    waiter(cx)
        .until(&format!("NAT gateway {} to be deleted", current.id), &current.id, Some(wait::Transition::NatGatewayDelete), |n| {
            Ok(match n {
                None => Some(()),
                Some(n) if n.state() == Some(&NatGatewayState::Deleted) => Some(()),
                Some(_) => None,
            })
        })
        .await
}
