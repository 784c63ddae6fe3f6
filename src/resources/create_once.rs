//! Creates through EC2 calls that take no idempotency token (CreateVpc, CreateSubnet,
//! CreateInternetGateway, AllocateAddress, CreateSecurityGroup). When EC2 carries such a call out
//! but its answer is lost (a 5xx or a dropped connection on the way back), the SDK's retry would
//! make a second object. So these calls are sent once, and before each retry eksnet looks the
//! object up by its `eksnet:stack` and `eksnet:address` tags (set in the create call itself):
//! found, it is the object the lost answer named.

use std::time::Duration;

use aws_sdk_ec2::types::Filter;

use super::Session;
use super::tags::{ADDRESS, STACK};
use crate::address::Address;
use crate::provider::{ApiError, Result};

/// Error codes after which the call may or may not have been carried out, or was refused for
/// load (safe to retry either way once the lookup found nothing).
fn retryable(e: &ApiError) -> bool {
    matches!(
        e.code.as_str(),
        "RequestFailed"
            | "InternalError"
            | "InternalFailure"
            | "ServiceUnavailable"
            | "Unavailable"
            | "RequestLimitExceeded"
            | "Throttling"
            | "ThrottlingException"
            | "RequestTimeout"
    )
}

/// Runs `call` (given a client that does not retry) until it answers, at most as many times as
/// the SDK's retry policy allows; returns the new object's id, or the id of the object an earlier
/// attempt made.
pub async fn create<F, Fut>(cx: &Session, address: &Address, call: F) -> Result<String>
where
    F: Fn(aws_sdk_ec2::Client) -> Fut,
    Fut: std::future::Future<Output = Result<String>>,
{
    let attempts = cx.max_attempts();
    let mut backoff = Duration::from_millis(200);
    let mut attempt = 1;
    loop {
        match call(cx.ec2_once().clone()).await {
            Ok(id) => {
                cx.created(&id);
                return Ok(id);
            }
            Err(e) if attempt < attempts && retryable(&e) => {
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
                if let Some(id) = find(cx, address).await? {
                    cx.created(&id);
                    return Ok(id);
                }
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// The id of the stack's object that carries `address` (addresses name their kind, so one is
/// unique among the stack's objects), if one exists. Addresses are compared here, not in a
/// filter: `[` and `"` in them are not literal in every EC2 filter implementation.
async fn find(cx: &Session, address: &Address) -> Result<Option<String>> {
    let filter = |name: &str, value: &str| Filter::builder().name(name).values(value).build();
    let ours: Vec<_> =
        cx.ec2().describe_tags().filters(filter("key", STACK)).filters(filter("value", &cx.stack)).into_paginator().items().send().try_collect().await?;
    // Checked here too: a filter that did not hold must not hand over another stack's object.
    let ids: Vec<String> =
        ours.iter().filter(|t| t.key() == Some(STACK) && t.value() == Some(cx.stack.as_str())).filter_map(|t| t.resource_id().map(str::to_string)).collect();
    if ids.is_empty() {
        return Ok(None);
    }
    let addressed: Vec<_> = cx
        .ec2()
        .describe_tags()
        .filters(Filter::builder().name("resource-id").set_values(Some(ids.clone())).build())
        .filters(filter("key", ADDRESS))
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await?;
    Ok(addressed
        .iter()
        .find(|t| {
            t.key() == Some(ADDRESS)
                && t.value().and_then(crate::ownership::decode_address).as_ref() == Some(address)
                && t.resource_id().is_some_and(|id| ids.iter().any(|i| i == id))
        })
        .and_then(|t| t.resource_id().map(str::to_string)))
}
