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
/// finishes releasing what held an object), within the polling timeout.
pub async fn retrying<T, F, Fut>(polling: &Polling, codes: &[&str], mut op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = Instant::now();
    let mut interval = polling.initial_interval;
    loop {
        match op().await {
            Err(e) if codes.contains(&e.code.as_str()) && start.elapsed() + interval <= polling.dependency_timeout => {
                tokio::time::sleep(interval).await;
                interval = (interval * 3 / 2).min(polling.max_interval);
            }
            other => return other,
        }
    }
}
