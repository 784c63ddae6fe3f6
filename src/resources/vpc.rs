//! The VPC, with DNS support and hostnames on (EKS needs both).

use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType, Vpc};
use serde_json::{Value, json};

use super::{Session, attr_str, gone_ok, observed, outputs, tags};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::tagged("cidr_block").replace_on(&["cidr_block"]);

pub async fn describe(cx: &Session) -> Result<Vec<Vpc>> {
    cx.ec2().describe_vpcs().filters(tags::stack_filter(&cx.stack)).into_paginator().items().send().try_collect().await.map_err(ApiError::from)
}

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let mut out = Found::new();
    let vpcs = describe(cx).await?;
    cx.share("DescribeVpcs", vpcs.clone());
    for vpc in vpcs {
        let (Some(address), Some(id)) = (tags::address_of(vpc.tags()), vpc.vpc_id()) else {
            continue;
        };
        let ec2 = cx.ec2();
        let (hostnames, support) = tokio::join!(
            ec2.describe_vpc_attribute().vpc_id(id).attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames).send(),
            ec2.describe_vpc_attribute().vpc_id(id).attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport).send(),
        );
        let (hostnames, support) = (hostnames?, support?);
        let flag = |v: Option<&AttributeBooleanValue>| v.and_then(|v| v.value()).unwrap_or(false);
        let attrs = json!({
            "cidr_block": vpc.cidr_block(),
            "enable_dns_hostnames": flag(hostnames.enable_dns_hostnames()),
            "enable_dns_support": flag(support.enable_dns_support()),
            "tags": tags::observed(vpc.tags()),
        });
        out.push((address, observed(id, attrs, &[])));
    }
    Ok(out)
}

pub async fn create(cx: &Session, address: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    let cidr = attr_str(attrs, "cidr_block")?;
    let id = super::create_once::create(cx, address, |ec2| async move {
        let created = ec2.create_vpc().cidr_block(cidr).tag_specifications(tags::spec(ResourceType::Vpc, attrs)).send().await?;
        Ok(created.vpc().and_then(|v| v.vpc_id()).unwrap_or_default().to_string())
    })
    .await?;
    set_dns(cx, &id, attrs, &Attrs::new()).await?;
    Ok(Observed { id: id.clone(), attrs: attrs.clone(), outputs: outputs(&id, &[]) })
}

async fn set_dns(cx: &Session, id: &str, attrs: &Attrs, current: &Attrs) -> Result<()> {
    // EC2 takes one attribute per call; support before hostnames (hostnames need support).
    for key in ["enable_dns_support", "enable_dns_hostnames"] {
        let want = attrs.get(key).and_then(Value::as_bool).unwrap_or(true);
        if current.get(key).and_then(Value::as_bool) == Some(want) {
            continue;
        }
        let value = AttributeBooleanValue::builder().value(want).build();
        super::wait::propagated(cx, || async {
            let call = cx.ec2().modify_vpc_attribute().vpc_id(id);
            let call = if key == "enable_dns_support" { call.enable_dns_support(value.clone()) } else { call.enable_dns_hostnames(value.clone()) };
            call.send().await.map_err(ApiError::from)
        })
        .await?;
    }
    Ok(())
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    set_dns(cx, &current.id, attrs, &current.attrs).await?;
    tags::sync(cx, &current.id, &current.attrs, attrs).await?;
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    gone_ok(
        super::wait::retrying(&cx.polling, &["DependencyViolation"], || async {
            // Load balancer and cluster security groups Kubernetes made would hold the VPC.
            super::leftovers::clear_vpc_groups(cx, &current.id).await?;
            cx.ec2().delete_vpc().vpc_id(&current.id).send().await.map_err(ApiError::from)
        })
        .await,
    )
}
