//! A secondary CIDR associated to the VPC (the non-routable range pods live in).
//! Associations carry no tags; they are found through the stack's VPC.

use serde_json::json;

use super::{Session, attr_str, gone_ok, observed, wait};
use crate::address::Address;
use crate::provider::{ApiError, Found, Observed, Result, Schema, Scope};
use crate::value::Attrs;

pub const SCHEMA: Schema = Schema::derived("cidr_block").replace_on(&["vpc_id", "cidr_block"]).parent("vpc_id");

const LIVE: &[&str] = &["associating", "associated"];

pub async fn read(cx: &Session, _: &Scope<'_>) -> Result<Found> {
    let mut out = Found::new();
    let vpcs = match cx.shared::<Vec<aws_sdk_ec2::types::Vpc>>("DescribeVpcs") {
        Some(vpcs) => vpcs,
        None => super::vpc::describe(cx).await?,
    };
    for vpc in vpcs {
        let Some(vpc_id) = vpc.vpc_id() else { continue };
        for assoc in vpc.cidr_block_association_set() {
            let (Some(id), Some(cidr)) = (assoc.association_id(), assoc.cidr_block()) else {
                continue;
            };
            let state = assoc.cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str()).unwrap_or("");
            if Some(cidr) == vpc.cidr_block() || !LIVE.contains(&state) {
                continue;
            }
            let address = Address::keyed("vpc_cidr", "secondary", cidr);
            out.push((address, observed(id, json!({"vpc_id": vpc_id, "cidr_block": cidr}), &[])));
        }
    }
    Ok(out)
}

pub async fn create(cx: &Session, _: &Address, attrs: &Attrs, _token: &str) -> Result<Observed> {
    let vpc_id = attr_str(attrs, "vpc_id")?;
    let cidr = attr_str(attrs, "cidr_block")?;
    // The VPC may be fresh from this run (EC2 eventual consistency: retried).
    let created =
        wait::propagated(cx, || async { cx.ec2().associate_vpc_cidr_block().vpc_id(vpc_id).cidr_block(cidr).send().await.map_err(ApiError::from) }).await?;
    let id = created.cidr_block_association().and_then(|a| a.association_id()).unwrap_or_default().to_string();
    // Subnets in the range can only be created once the association is `associated`.
    wait::until(&cx.polling, &format!("CIDR association {id} to become associated"), || async {
        let vpcs = wait::propagated(cx, || async { cx.ec2().describe_vpcs().vpc_ids(vpc_id).send().await.map_err(ApiError::from) }).await?;
        let state = vpcs
            .vpcs()
            .iter()
            .flat_map(|v| v.cidr_block_association_set())
            .find(|a| a.association_id() == Some(id.as_str()))
            .and_then(|a| a.cidr_block_state())
            .and_then(|s| s.state())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        // A new association reads back `associating` (or, right after the call, not at all or
        // with an empty state) until EC2 has propagated it: still associating, wait. Source:
        // terraform-provider-aws internal/service/ec2/wait.go `waitVPCCIDRBlockAssociationCreated`
        // (Pending: associating; Target: associated).
        match state.as_str() {
            "associated" => Ok(Some(())),
            "associating" | "" => Ok(None),
            other => Err(ApiError::new("AssociationFailed", format!("CIDR association {id} is `{other}`"))),
        }
    })
    .await?;
    Ok(observed(&id, json!({"vpc_id": vpc_id, "cidr_block": attrs["cidr_block"]}), &[]))
}

pub async fn update(_: &Session, address: &Address, _: &Observed, _: &Attrs) -> Result<Observed> {
    Err(ApiError::new("NotUpdatable", format!("{address} can only be replaced")))
}

pub async fn delete(cx: &Session, _: &Address, current: &Observed) -> Result<()> {
    gone_ok(
        wait::retrying(&cx.polling, &["DependencyViolation"], || async {
            cx.ec2().disassociate_vpc_cidr_block().association_id(&current.id).send().await.map_err(ApiError::from)
        })
        .await,
    )
}
