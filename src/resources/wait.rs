//! Waiting for AWS: poll with a backoff that starts short and is capped, and turn a timeout
//! into an error that names what was waited for.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::{Notify, watch};

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
        crate::progress::say(format!("waiting for {what} ({} of at most {})", minutes(start.elapsed()), minutes(polling.timeout)));
        crate::interrupt::sleep(interval).await.map_err(|()| crate::interrupt::stopped(what))?;
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
pub async fn retrying_if<T, F, Fut>(polling: &Polling, limit: std::time::Duration, retry: impl Fn(&ApiError) -> bool, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retrying_explained(polling, limit, retry, op, || async { String::new() }).await
}

/// As `retrying_if`, and while it retries it says what blocks it: the attempt, the error, the
/// time left, and `explain` (e.g. the network interfaces still in a subnet), asked at most every
/// `EXPLAIN_EVERY` so that saying it costs few calls.
pub async fn retrying_explained<T, F, Fut, X, XF>(polling: &Polling, limit: Duration, retry: impl Fn(&ApiError) -> bool, mut op: F, explain: X) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
    X: Fn() -> XF,
    XF: Future<Output = String>,
{
    let start = Instant::now();
    let mut interval = polling.initial_interval;
    let mut attempt = 0u32;
    let mut explained_at: Option<Instant> = None;
    let mut why = String::new();
    loop {
        attempt += 1;
        match op().await {
            Err(e) if retry(&e) && start.elapsed() + interval <= limit => {
                if explained_at.is_none_or(|t| t.elapsed() >= EXPLAIN_EVERY) {
                    why = explain().await;
                    explained_at = Some(Instant::now());
                }
                let left = limit.saturating_sub(start.elapsed());
                crate::progress::say(format!("attempt {attempt}: {}: {}{why}; retrying for up to {} more", e.code, e.message, minutes(left)));
                if crate::interrupt::sleep(interval).await.is_err() {
                    return Err(ApiError { message: format!("{} (interrupted while retrying)", e.message), ..e });
                }
                interval = (interval * 3 / 2).min(polling.max_interval);
            }
            other => return other,
        }
    }
}

/// How often a retry asks what blocks it.
const EXPLAIN_EVERY: Duration = Duration::from_secs(30);

/// `2m 05s`, `40s`.
fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m {:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

/// How long EC2 is given to make an id it just created visible to every call: EC2 is eventually
/// consistent ("if you run a command to modify or describe the resource that you just created,
/// its ID might not have propagated throughout the system, and you will get an error responding
/// that the resource does not exist", https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html).
/// terraform-provider-aws retries these NotFound codes for `propagationTimeout = 2 *
/// time.Minute` (internal/service/ec2/wait.go, e.g. `tfresource.RetryWhenNotFound` after
/// CreateVpc / CreateSubnet / CreateSecurityGroup).
pub const EC2_PROPAGATION: Duration = Duration::from_secs(120);

/// Runs `op`, retrying with backoff for at most `EC2_PROPAGATION` while it fails with an EC2
/// `*.NotFound` that names an id this run created (`Session::not_propagated`). An id from the
/// state is never retried: there NotFound means gone.
pub async fn propagated<T, F, Fut>(cx: &crate::resources::Session, op: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    retrying_if(&cx.polling, EC2_PROPAGATION, |e| cx.not_propagated(e), op).await
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

/// What one poll of a batch saw: the ids it asked about, and the objects found among them
/// (absent = not found), or the call's error.
struct Snapshot<T> {
    asked: HashSet<String>,
    found: std::result::Result<HashMap<String, T>, ApiError>,
}

type Fetch<T> = Box<dyn Fn(Vec<String>) -> BoxFuture<'static, Result<HashMap<String, T>>> + Send + Sync>;

/// Objects of one kind that are being waited for, polled together: each poll is one call
/// (e.g. one DescribeNatGateways for every pending NAT gateway), whose answer every waiter
/// reads for its own object. A poll loop runs while anything is pending; a new waiter wakes
/// it so its first poll comes after `initial_interval`, as with `until`.
pub struct Batch<T> {
    fetch: Fetch<T>,
    polling: Polling,
    pending: Mutex<Pending>,
    wake: Notify,
    snapshots: watch::Sender<Option<Arc<Snapshot<T>>>>,
}

#[derive(Default)]
struct Pending {
    /// Waiters per id (two waits on one object share it).
    ids: HashMap<String, usize>,
    polling: bool,
}

impl<T: Send + Sync + 'static> Batch<T> {
    /// `fetch` reads the given ids in one call (paginated if need be) and returns those found.
    pub fn new<F>(polling: Polling, fetch: F) -> Arc<Self>
    where
        F: Fn(Vec<String>) -> BoxFuture<'static, Result<HashMap<String, T>>> + Send + Sync + 'static,
    {
        Arc::new(Batch { fetch: Box::new(fetch), polling, pending: Mutex::default(), wake: Notify::new(), snapshots: watch::Sender::new(None) })
    }

    /// Waits until `check` of the object `id` (None: not found) returns `Some`; `what` names
    /// the awaited state for the timeout message.
    pub async fn until<R>(self: &Arc<Self>, what: &str, id: &str, mut check: impl FnMut(Option<&T>) -> Result<Option<R>>) -> Result<R> {
        let start = Instant::now();
        let mut seen = self.snapshots.subscribe();
        seen.mark_unchanged();
        let _registered = Registered::new(self, id);
        let polls = async {
            loop {
                if seen.changed().await.is_err() {
                    unreachable!("the batch outlives its waiters");
                }
                let Some(snapshot) = seen.borrow_and_update().clone() else { continue };
                if !snapshot.asked.contains(id) {
                    continue; // a poll sent before this waiter joined
                }
                match &snapshot.found {
                    Err(e) => return Err(e.clone()),
                    Ok(found) => {
                        if let Some(value) = check(found.get(id))? {
                            return Ok(value);
                        }
                    }
                }
            }
        };
        let interrupted = async { while crate::interrupt::sleep(self.polling.max_interval).await.is_ok() {} };
        tokio::select! {
            result = tokio::time::timeout(self.polling.timeout, polls) => match result {
                Ok(result) => result,
                Err(_) => Err(ApiError::new("WaitTimeout", format!("gave up waiting for {what} after {:.0?}", start.elapsed()))),
            },
            () = interrupted => Err(crate::interrupt::stopped(what)),
        }
    }

    async fn poll_loop(self: Arc<Self>) {
        let mut interval = self.polling.initial_interval;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => interval = (interval * 3 / 2).min(self.polling.max_interval),
                // Someone new joined: poll soon for them (the others gain a poll, not a call).
                _ = self.wake.notified() => {
                    interval = self.polling.initial_interval;
                    continue;
                }
            }
            let ids: Vec<String> = {
                let mut pending = self.pending.lock().expect("batch lock");
                if pending.ids.is_empty() {
                    pending.polling = false;
                    return;
                }
                pending.ids.keys().cloned().collect()
            };
            let asked = ids.iter().cloned().collect();
            let found = (self.fetch)(ids).await;
            self.snapshots.send_replace(Some(Arc::new(Snapshot { asked, found })));
        }
    }
}

/// A waiter's registration, undone when the wait ends (or is dropped).
struct Registered<'a, T: Send + Sync + 'static> {
    batch: &'a Arc<Batch<T>>,
    id: String,
}

impl<'a, T: Send + Sync + 'static> Registered<'a, T> {
    fn new(batch: &'a Arc<Batch<T>>, id: &str) -> Self {
        let mut pending = batch.pending.lock().expect("batch lock");
        *pending.ids.entry(id.to_string()).or_default() += 1;
        if pending.polling {
            batch.wake.notify_one();
        } else {
            pending.polling = true;
            tokio::spawn(Arc::clone(batch).poll_loop());
        }
        Registered { batch, id: id.to_string() }
    }
}

impl<T: Send + Sync + 'static> Drop for Registered<'_, T> {
    fn drop(&mut self) {
        let mut pending = self.batch.pending.lock().expect("batch lock");
        if let Some(n) = pending.ids.get_mut(&self.id) {
            *n -= 1;
            if *n == 0 {
                pending.ids.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn waiters_of_one_kind_share_every_poll() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let polling = Polling { initial_interval: Duration::from_millis(5), max_interval: Duration::from_millis(5), ..Polling::default() };
        // Each poll answers with its number for every id asked, except "gone", never found.
        let batch = Batch::new(polling, move |ids: Vec<String>| {
            let n = counted.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move { Ok(ids.into_iter().filter(|id| id != "gone").map(|id| (id, n)).collect::<HashMap<_, _>>()) })
        });
        let (a, b, gone) = tokio::join!(
            batch.until("a", "a", |n| Ok(n.copied().filter(|&n| n >= 3))),
            batch.until("b", "b", |n| Ok(n.copied().filter(|&n| n >= 5))),
            batch.until("gone", "gone", |n| Ok(n.is_none().then_some(0))),
        );
        assert_eq!((a.unwrap(), b.unwrap(), gone.unwrap()), (3, 5, 0));
        assert_eq!(calls.load(Ordering::SeqCst), 5, "three waiters, five polls, one call each");
    }

    #[tokio::test]
    async fn a_failed_poll_fails_its_waiters() {
        let polling = Polling { initial_interval: Duration::from_millis(1), ..Polling::default() };
        let batch: Arc<Batch<()>> = Batch::new(polling, |_| Box::pin(async { Err(ApiError::new("UnauthorizedOperation", "no")) }));
        let err = batch.until("x", "x", |_| Ok(Some(()))).await.unwrap_err();
        assert_eq!(err.code, "UnauthorizedOperation");
    }
}

/// How long and how often eksnet waits for AWS.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// First wait between two polls; grows by half each poll up to `max_interval`.
    pub initial_interval: Duration,
    pub max_interval: Duration,
    pub timeout: Duration,
    /// How long a delete retries DependencyViolation before naming what blocks it.
    pub dependency_timeout: Duration,
}

impl Default for Polling {
    fn default() -> Self {
        Polling {
            initial_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
            dependency_timeout: Duration::from_secs(5 * 60),
        }
    }
}
