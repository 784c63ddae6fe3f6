//! A subnet's association with its tier's route table. Associations carry no tags: they are
//! found through the stack's route tables and named after their subnet's address.

use serde_json::json;

use super::{Session, attr_str, gone_ok, observed, tags};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::derived("route_table_id").replace_on(&["subnet_id"]).parent("subnet_id");

pub async fn read(cx: &Session, scope: &Scope<'_>) -> Result<Found> {
    let tables: Vec<aws_sdk_ec2::types::RouteTable> = match cx.shared("DescribeRouteTables") {
        Some(tables) => tables,
        None => {
            cx.ec2().describe_route_tables().filters(tags::stack_filter(&cx.stack)).into_paginator().items().send().try_collect().await?
        }
    };
    let mut out = Found::new();
    for t in &tables {
        for a in t.associations() {
            let (Some(id), Some(subnet), Some(table)) = (a.route_table_association_id(), a.subnet_id(), a.route_table_id()) else {
                continue;
            };
            let Some(subnet_address) = scope.ids.get(subnet) else {
                continue;
            };
            let address = subnet_address.with_kind("route_table_association");
            out.push((address, observed(id, json!({"route_table_id": table, "subnet_id": subnet}), &[])));
        }
    }
    Ok(out)
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    let (table, subnet) = (attr_str(attrs, "route_table_id")?, attr_str(attrs, "subnet_id")?);
    // Table and subnet may be fresh from this run (EC2 eventual consistency: retried).
    let created = super::wait::propagated(cx, || async {
        cx.ec2().associate_route_table().route_table_id(table).subnet_id(subnet).send().await.map_err(ApiError::from)
    })
    .await?;
    let id = created.association_id().unwrap_or_default();
    Ok(Observed { id: id.into(), attrs: attrs.clone(), outputs: super::outputs(id, &[]) })
}

/// Moving a subnet to another table is one call, and gives the association a new id.
pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    let table = attr_str(attrs, "route_table_id")?;
    let replaced = super::wait::propagated(cx, || async {
        cx.ec2().replace_route_table_association().association_id(&current.id).route_table_id(table).send().await.map_err(ApiError::from)
    })
    .await?;
    let id = replaced.new_association_id().unwrap_or_default();
    Ok(Observed { id: id.into(), attrs: attrs.clone(), outputs: super::outputs(id, &[]) })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    gone_ok(cx.ec2().disassociate_route_table().association_id(&current.id).send().await.map_err(ApiError::from))
}
