//! Waiting for AWS: poll with a backoff that starts short and is capped, and turn a timeout
//! into an error that names what was waited for.

use std::future::Future;
use std::time::Instant;

use super::Polling;
use crate::provider::{ApiError, Result};

/// Polls `check` until it returns `Some`, sleeping `initial_interval`, then half as long again
/// each time, up to `max_interval`. `what` names the awaited state for the timeout message.
pub async fn until<T, F, Fut>(polling: &Polling, what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut interval = polling.initial_interval;
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if start.elapsed() + interval > polling.timeout {
            return Err(ApiError::new("WaitTimeout", format!("gave up waiting for {what} after {:.0?}", start.elapsed())));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 3 / 2).min(polling.max_interval);
    }
}

/// Retries `op` while it fails with one of `codes` (e.g. DependencyViolation while AWS
/// finishes releasing what held an object), within the dependency timeout.
pub async fn retrying<T, F, Fut>(polling: &Polling, codes: &[&str], op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retrying_if(polling, polling.dependency_timeout, |e| codes.contains(&e.code.as_str()), op).await
}

/// Retries `op` with backoff while `retry` says its error is passing, for at most `limit`.
pub async fn retrying_if<T, F, Fut>(polling: &Polling, limit: std::time::Duration, retry: impl Fn(&ApiError) -> bool, mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = Instant::now();
    let mut interval = polling.initial_interval;
    loop {
        match op().await {
            Err(e) if retry(&e) && start.elapsed() + interval <= limit => {
                tokio::time::sleep(interval).await;
                interval = (interval * 3 / 2).min(polling.max_interval);
            }
            other => return other,
        }
    }
}

/// How long EKS is given to see a role IAM just created.
pub const ROLE_PROPAGATION: std::time::Duration = std::time::Duration::from_secs(120);

/// IAM is eventually consistent: right after a role is created, EKS may answer that it
/// cannot assume it (InvalidParameterException naming the role).
pub fn role_not_ready(e: &ApiError) -> bool {
    e.code == "InvalidParameterException" && e.message.to_ascii_lowercase().contains("role")
}

/// The final error after role propagation retries, saying what was tried.
pub fn role_timeout(e: ApiError) -> ApiError {
    if role_not_ready(&e) {
        ApiError { message: format!("{} (still refused after retrying for {}s while IAM propagated the role)", e.message, ROLE_PROPAGATION.as_secs()), ..e }
    } else {
        e
    }
}
