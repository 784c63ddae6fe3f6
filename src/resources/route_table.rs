//! Route tables with their routes (default route → IGW, public NAT or private NAT). Routes
//! are an attribute, so a route retargeted outside eksnet shows up as drift.

use aws_sdk_ec2::types::{ResourceType, Route, RouteOrigin};
use serde_json::{Value, json};

use super::{Session, attr_str, gone_ok, observed, tags, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::tagged("routes").replace_on(&["vpc_id"]).summarize(summarize);

/// `0.0.0.0/0 → nat-…` for each route: what a reviewer checks first in a route table.
fn summarize(attrs: &Attrs) -> Option<String> {
    let routes = attrs.get("routes")?.as_array()?;
    let shown: Vec<String> = routes
        .iter()
        .map(|r| {
            let target = r.get("gateway_id").or_else(|| r.get("nat_gateway_id")).map(crate::value::render).unwrap_or_default();
            format!("{} → {}", r["destination"].as_str().unwrap_or("?"), target.trim_matches('"'))
        })
        .collect();
    Some(shown.join(", "))
}

fn route_json(r: &Route) -> Option<Value> {
    if r.origin() != Some(&RouteOrigin::CreateRoute) {
        return None;
    }
    let destination = r.destination_cidr_block()?;
    if let Some(nat) = r.nat_gateway_id() {
        return Some(json!({"destination": destination, "nat_gateway_id": nat}));
    }
    let gateway = r.gateway_id().filter(|g| *g != "local")?;
    Some(json!({"destination": destination, "gateway_id": gateway}))
}

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let tables =
        cx.ec2().describe_route_tables().filters(tags::stack_filter(&cx.stack)).into_paginator().items().send().try_collect().await?;
    cx.share("DescribeRouteTables", tables.clone());
    let mut out = Found::new();
    for t in tables {
        let (Some(address), Some(id)) = (tags::address_of(t.tags()), t.route_table_id()) else {
            continue;
        };
        let routes: Vec<Value> = t.routes().iter().filter_map(route_json).collect();
        out.push((address, observed(id, json!({"vpc_id": t.vpc_id(), "routes": routes, "tags": tags::observed(t.tags())}), &[])));
    }
    Ok(out)
}

fn routes(attrs: &Attrs) -> Vec<&Value> {
    attrs.get("routes").and_then(Value::as_array).map(|r| r.iter().collect()).unwrap_or_default()
}

fn destination(route: &Value) -> &str {
    route["destination"].as_str().unwrap_or_default()
}

/// Creates, retargets and removes routes until the table holds exactly `attrs.routes`.
async fn sync_routes(cx: &Session, id: &str, current: &Attrs, attrs: &Attrs) -> Result<()> {
    let have = routes(current);
    let want = routes(attrs);
    for route in &want {
        let existing = have.iter().find(|h| destination(h) == destination(route));
        if existing == Some(route) {
            continue;
        }
        let (gateway, nat) = (route["gateway_id"].as_str(), route["nat_gateway_id"].as_str());
        // The table and the gateway may be fresh from this run (EC2 eventual consistency).
        if existing.is_some() {
            wait::propagated(cx, || async {
                cx.ec2()
                    .replace_route()
                    .route_table_id(id)
                    .destination_cidr_block(destination(route))
                    .set_gateway_id(gateway.map(Into::into))
                    .set_nat_gateway_id(nat.map(Into::into))
                    .send()
                    .await
                    .map_err(ApiError::from)
            })
            .await?;
        } else {
            wait::propagated(cx, || async {
                cx.ec2()
                    .create_route()
                    .route_table_id(id)
                    .destination_cidr_block(destination(route))
                    .set_gateway_id(gateway.map(Into::into))
                    .set_nat_gateway_id(nat.map(Into::into))
                    .send()
                    .await
                    .map_err(ApiError::from)
            })
            .await?;
        }
    }
    for route in have.iter().filter(|h| !want.iter().any(|w| destination(w) == destination(h))) {
        gone_ok(cx.ec2().delete_route().route_table_id(id).destination_cidr_block(destination(route)).send().await.map_err(ApiError::from))?;
    }
    Ok(())
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, token: &str) -> Result<Observed> {
    let vpc = attr_str(attrs, "vpc_id")?;
    // The client token makes a retry after a NotFound on a fresh VPC safe.
    let created = wait::propagated(cx, || async {
        cx.ec2()
            .create_route_table()
            .vpc_id(vpc)
            .client_token(token)
            .tag_specifications(tags::spec(ResourceType::RouteTable, attrs))
            .send()
            .await
            .map_err(ApiError::from)
    })
    .await?;
    let id = created.route_table().and_then(|t| t.route_table_id()).unwrap_or_default().to_string();
    cx.created(&id);
    sync_routes(cx, &id, &Attrs::new(), attrs).await?;
    Ok(Observed { id: id.clone(), attrs: attrs.clone(), outputs: super::outputs(&id, &[]) })
}

pub async fn update(cx: &Session, _: &Address, current: &Observed, attrs: &Attrs) -> Result<Observed> {
    sync_routes(cx, &current.id, &current.attrs, attrs).await?;
    tags::sync(cx, &current.id, &current.attrs, attrs).await?;
    Ok(Observed { id: current.id.clone(), attrs: attrs.clone(), outputs: current.outputs.clone() })
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    gone_ok(
        wait::retrying(&cx.polling, &["DependencyViolation"], || async {
            cx.ec2().delete_route_table().route_table_id(&current.id).send().await.map_err(ApiError::from)
        })
        .await,
    )
}
