//! Waiting for AWS: poll with a backoff that starts short and is capped, and turn a timeout
//! into an error that names what was waited for.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::{Notify, watch};

use crate::provider::{ApiError, Result};

/// Polls `check` until it returns `Some`: at once, then after `initial_interval`, half as long
/// again each time, up to `max_interval` (for waits without a known shape, e.g. Kubernetes
/// objects, or a transition found under way). `what` names the awaited state for the timeout
/// message.
pub async fn until<T, F, Fut>(polling: &Polling, what: &str, check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    on(polling.schedule(None), polling, what, check).await
}

/// Polls `check` through `transition`, which has just begun, on the schedule its shape gives
/// (`SHAPES`): a probe, sparse polls until the transition can be over, then every
/// `max_interval`.
pub async fn until_done<T, F, Fut>(polling: &Polling, transition: Transition, what: &str, check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    on(polling.schedule(Some(transition)), polling, what, check).await
}

/// Polls `check` on `schedule` (`Polling::schedule`) until it returns `Some`.
pub async fn on<T, F, Fut>(schedule: Schedule, polling: &Polling, what: &str, mut check: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last = None;
    loop {
        let next = schedule.next(last, start.elapsed());
        last = Some(next);
        if next > polling.timeout {
            return Err(ApiError::new("WaitTimeout", format!("gave up waiting for {what} after {:.0?}", start.elapsed())));
        }
        let wait = next.saturating_sub(start.elapsed());
        if !wait.is_zero() {
            let usually = match schedule {
                Schedule::Shaped { usually_by, .. } => format!("usually over by {}, ", minutes(usually_by)),
                Schedule::Backoff { .. } => String::new(),
            };
            crate::progress::say(format!("waiting for {what} ({}; {usually}at most {})", minutes(start.elapsed()), minutes(polling.timeout)));
            crate::interrupt::sleep(wait).await.map_err(|()| crate::interrupt::stopped(what))?;
        }
        if let Some(value) = check().await? {
            return Ok(value);
        }
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
/// reads for its own object. A poll loop runs while anything is pending; it polls when the
/// schedule of any waiter (its transition's shape, from when it joined) asks for a poll.
pub struct Batch<T> {
    fetch: Fetch<T>,
    polling: Polling,
    pending: Mutex<Pending>,
    wake: Notify,
    snapshots: watch::Sender<Option<Arc<Snapshot<T>>>>,
}

#[derive(Default)]
struct Pending {
    /// Every waiter: its object, when it joined, its schedule and its last poll.
    waiters: HashMap<u64, Waiter>,
    next_waiter: u64,
    polling: bool,
}

struct Waiter {
    id: String,
    joined: Instant,
    schedule: Schedule,
    last: Option<Duration>,
}

impl Waiter {
    /// When this waiter wants its next poll, `now` after it joined: on its schedule, and, once
    /// polls come every `cap`, never sooner than `cap` after the last poll (another waiter's
    /// poll served it too: two schedules out of phase must not double the calls).
    fn next(&self, now: Duration) -> Duration {
        let next = self.schedule.next(self.last, now);
        match (self.schedule, self.last) {
            (Schedule::Shaped { cap, .. }, Some(last)) => next.max(last + cap),
            _ => next,
        }
    }
}

impl<T: Send + Sync + 'static> Batch<T> {
    /// `fetch` reads the given ids in one call (paginated if need be) and returns those found.
    pub fn new<F>(polling: Polling, fetch: F) -> Arc<Self>
    where
        F: Fn(Vec<String>) -> BoxFuture<'static, Result<HashMap<String, T>>> + Send + Sync + 'static,
    {
        Arc::new(Batch { fetch: Box::new(fetch), polling, pending: Mutex::default(), wake: Notify::new(), snapshots: watch::Sender::new(None) })
    }

    /// Waits until `check` of the object `id` (None: not found) returns `Some`, polling on the
    /// schedule of `transition` (None: the backoff of `until`); `what` names the awaited state
    /// for the timeout message.
    pub async fn until<R>(
        self: &Arc<Self>,
        what: &str,
        id: &str,
        transition: Option<Transition>,
        mut check: impl FnMut(Option<&T>) -> Result<Option<R>>,
    ) -> Result<R> {
        let start = Instant::now();
        let mut seen = self.snapshots.subscribe();
        seen.mark_unchanged();
        let _registered = Registered::new(self, id, self.polling.schedule(transition));
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
        loop {
            // The earliest poll any waiter's schedule asks for.
            let due = {
                let mut pending = self.pending.lock().expect("batch lock");
                if pending.waiters.is_empty() {
                    pending.polling = false;
                    return;
                }
                let now = Instant::now();
                pending.waiters.values().map(|w| w.joined + w.next(now - w.joined)).min().expect("a waiter")
            };
            tokio::select! {
                _ = tokio::time::sleep_until(due.into()) => {}
                // Someone new joined: its schedule may ask for a poll sooner.
                _ = self.wake.notified() => continue,
            }
            let ids: Vec<String> = {
                let mut pending = self.pending.lock().expect("batch lock");
                if pending.waiters.is_empty() {
                    pending.polling = false;
                    return;
                }
                // Every waiter counts this poll as its own: its schedule goes on from here.
                let now = Instant::now();
                for w in pending.waiters.values_mut() {
                    w.last = Some(now - w.joined);
                }
                let mut ids: Vec<String> = pending.waiters.values().map(|w| w.id.clone()).collect();
                ids.sort();
                ids.dedup();
                ids
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
    key: u64,
}

impl<'a, T: Send + Sync + 'static> Registered<'a, T> {
    fn new(batch: &'a Arc<Batch<T>>, id: &str, schedule: Schedule) -> Self {
        let mut pending = batch.pending.lock().expect("batch lock");
        let key = pending.next_waiter;
        pending.next_waiter += 1;
        pending.waiters.insert(key, Waiter { id: id.to_string(), joined: Instant::now(), schedule, last: None });
        if pending.polling {
            batch.wake.notify_one();
        } else {
            pending.polling = true;
            tokio::spawn(Arc::clone(batch).poll_loop());
        }
        Registered { batch, key }
    }
}

impl<T: Send + Sync + 'static> Drop for Registered<'_, T> {
    fn drop(&mut self) {
        self.batch.pending.lock().expect("batch lock").waiters.remove(&self.key);
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
            batch.until("a", "a", None, |n| Ok(n.copied().filter(|&n| n >= 3))),
            batch.until("b", "b", None, |n| Ok(n.copied().filter(|&n| n >= 5))),
            batch.until("gone", "gone", None, |n| Ok(n.is_none().then_some(0))),
        );
        assert_eq!((a.unwrap(), b.unwrap(), gone.unwrap()), (3, 5, 0));
        assert_eq!(calls.load(Ordering::SeqCst), 5, "three waiters, five polls, one call each");
    }

    /// Polls a wait of `transition` makes, and its lag, if AWS ends it after `duration` seconds
    /// (at real scale, default --poll-interval, calls taking no time).
    fn polls_and_lag(polling: &Polling, transition: Transition, duration: f64) -> (usize, f64) {
        let schedule = polling.schedule(Some(transition));
        let end = Duration::from_secs_f64(duration);
        let times = schedule.first_polls(end + Duration::from_secs(3600));
        let seen = times.iter().position(|&t| t >= end).expect("a poll after the end");
        (seen + 1, (times[seen] - end).as_secs_f64())
    }

    #[test]
    fn a_cluster_creation_of_ten_minutes_takes_at_most_40_polls() {
        let (polls, lag) = polls_and_lag(&Polling::default(), Transition::ClusterCreate, 600.0);
        assert!(polls <= 40, "{polls} polls");
        assert!(lag <= 5.0, "lag {lag} s");
        // the old backoff (250 ms × 1.5 up to 5 s) polled 127 times
        let old = Polling::default().schedule(None).first_polls(Duration::from_secs(600)).len();
        assert!(old > 100, "{old}");
    }

    #[test]
    fn within_the_likely_window_the_lag_averages_at_most_half_the_poll_interval() {
        let polling = Polling::default();
        for shape in SHAPES {
            // every 0.1 s of the window, between the poll grid's points
            let durations: Vec<f64> = (shape.likely_from * 10..shape.likely_until * 10).map(|d| (f64::from(d) + 0.5) / 10.0).collect();
            let lags: Vec<f64> = durations.iter().map(|&d| polls_and_lag(&polling, shape.transition, d).1).collect();
            let mean = lags.iter().sum::<f64>() / lags.len() as f64;
            assert!(mean <= 2.5 + 0.01, "{:?}: mean lag {mean:.2} s", shape.transition);
            assert!(lags.iter().all(|&l| l <= 5.0), "{:?}: a lag over 5 s", shape.transition);
            let (polls, _) = polls_and_lag(&polling, shape.transition, f64::from(shape.likely_until));
            let dense = (shape.likely_until - shape.likely_from) / 5;
            assert!(polls as u32 <= 1 + SPARSE_POLLS + dense + 1, "{:?}: {polls} polls", shape.transition);
        }
    }

    #[test]
    fn a_fast_failure_is_seen_at_the_probe_and_an_early_end_within_a_sparse_step() {
        let polling = Polling::default();
        // FAILED 3 s after CreateCluster: seen at the 15 s probe
        assert_eq!(polls_and_lag(&polling, Transition::ClusterCreate, 3.0), (1, 12.0));
        // ACTIVE after 5 minutes, earlier than usual: seen within one sparse step (155 s)
        let (polls, lag) = polls_and_lag(&polling, Transition::ClusterCreate, 300.0);
        assert!(polls <= 1 + SPARSE_POLLS as usize && lag <= 155.0, "{polls} polls, lag {lag}");
        // slower than usual (20 min): every 5 s, no gap longer than --poll-interval
        let (_, lag) = polls_and_lag(&polling, Transition::ClusterCreate, 1200.0);
        assert!(lag <= 5.0);
    }

    #[test]
    fn the_time_scale_compresses_the_shapes_and_keeps_the_poll_count() {
        let real = polls_and_lag(&Polling::default(), Transition::NodegroupCreate, 180.0);
        // localcloud at --scale 60, eksnet told so, --poll-interval 5s / 60
        let scaled = Polling { time_scale: 60.0, max_interval: Duration::from_secs(5) / 60, ..Polling::default() };
        let fast = polls_and_lag(&scaled, Transition::NodegroupCreate, 3.0);
        assert_eq!(fast.0, real.0);
        assert!((fast.1 * 60.0 - real.1).abs() < 0.01, "{fast:?} vs {real:?}");
    }

    #[test]
    fn a_poll_that_took_longer_than_its_interval_is_not_made_up_for() {
        let schedule = Schedule::Shaped {
            probe: Duration::from_secs(10),
            dense_from: Duration::from_secs(40),
            cap: Duration::from_secs(5),
            usually_by: Duration::from_secs(60),
        };
        assert_eq!(schedule.next(None, Duration::ZERO), Duration::from_secs(10));
        assert_eq!(schedule.next(Some(Duration::from_secs(10)), Duration::from_secs(10)), Duration::from_secs(20));
        // the poll at 40 s answered at 52 s: the next is at 55 s, not three at once
        assert_eq!(schedule.next(Some(Duration::from_secs(40)), Duration::from_secs(52)), Duration::from_secs(55));
        let backoff = Schedule::Backoff { first: Duration::from_millis(250), cap: Duration::from_secs(5) };
        assert_eq!(backoff.first_polls(Duration::from_secs(1)), [0, 250, 625].map(Duration::from_millis));
    }

    #[test]
    fn a_waiter_served_by_another_waiters_poll_waits_a_full_interval() {
        let schedule = Schedule::Shaped {
            probe: Duration::from_secs(10),
            dense_from: Duration::from_secs(40),
            cap: Duration::from_secs(5),
            usually_by: Duration::from_secs(60),
        };
        // joined 2 s after another waiter, whose poll at 43 s after that one's start served it at 41 s
        let w = Waiter { id: "b".into(), joined: Instant::now(), schedule, last: Some(Duration::from_secs(41)) };
        assert_eq!(w.next(Duration::from_secs(41)), Duration::from_secs(46), "not at 45 s, 4 s after the last poll");
    }

    #[tokio::test]
    async fn a_failed_poll_fails_its_waiters() {
        let polling = Polling { initial_interval: Duration::from_millis(1), ..Polling::default() };
        let batch: Arc<Batch<()>> = Batch::new(polling, |_| Box::pin(async { Err(ApiError::new("UnauthorizedOperation", "no")) }));
        let err = batch.until("x", "x", None, |_| Ok(Some(()))).await.unwrap_err();
        assert_eq!(err.code, "UnauthorizedOperation");
    }
}

/// How long and how often eksnet waits for AWS.
#[derive(Debug, Clone, Copy)]
pub struct Polling {
    /// First wait between two polls of a wait without a shape; grows by half each poll up to
    /// `max_interval`.
    pub initial_interval: Duration,
    /// Longest wait between two polls once a transition can be over (`--poll-interval`).
    pub max_interval: Duration,
    pub timeout: Duration,
    /// How long a delete retries DependencyViolation before naming what blocks it.
    pub dependency_timeout: Duration,
    /// How many times faster than AWS the endpoint runs AWS time (`--aws-time-scale`, e.g. 60
    /// for localcloud at `--scale 60`): the expected durations of `SHAPES` are divided by it.
    pub time_scale: f64,
}

impl Default for Polling {
    fn default() -> Self {
        Polling {
            initial_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
            dependency_timeout: Duration::from_secs(5 * 60),
            time_scale: 1.0,
        }
    }
}

/// An AWS transition eksnet starts and waits out, each with its shape in `SHAPES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    ClusterCreate,
    ClusterDelete,
    NodegroupCreate,
    NodegroupDelete,
    AddonCreate,
    AddonDelete,
    NatGatewayCreate,
    NatGatewayDelete,
}

/// How long a transition takes at AWS, in seconds of AWS time: a probe soon after it starts
/// (a fast failure: a NAT gateway `failed` for want of addresses, a cluster FAILED for its
/// role), and the window in which it usually ends. Before `likely_from` eksnet polls sparsely
/// (`SPARSE_POLLS` evenly spaced polls after the probe), from it on every `--poll-interval`;
/// `likely_until` is where the usual durations end (the unit tests measure the lag over the
/// window).
#[derive(Debug, Clone, Copy)]
pub struct Shape {
    pub transition: Transition,
    pub probe: u32,
    pub likely_from: u32,
    pub likely_until: u32,
}

/// Polls between the probe and the likely window (the last of them at `likely_from`).
pub const SPARSE_POLLS: u32 = 3;

/// The expected shape of every transition eksnet waits for: the one table. Sources:
/// - EKS cluster creation: "In most cases, it takes several minutes to create a cluster" (EKS
///   API reference, CreateCluster,
///   https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html); it averaged
///   15 minutes before AWS shortened it (aws/containers-roadmap#1227,
///   https://github.com/aws/containers-roadmap/issues/1227); `aws eks wait cluster-active`
///   polls every 30 s, at most 40 times (20 min); terraform-provider-aws gives it 30 min
///   (internal/service/eks/cluster.go `waitClusterCreated`, Pending PENDING/CREATING, default
///   StateChangeConf backoff up to 10 s). Today it is usually ACTIVE after 8 to 12 minutes,
///   never within the first minutes.
/// - EKS cluster deletion: "generally takes less than 5 mins"
///   (https://github.com/vmware-archive/kube-prod-runtime/pull/512); slow ones take 8
///   (https://github.com/aws/eks-hybrid/pull/469) and up to 16 minutes
///   (https://github.com/aws/eks-hybrid/pull/611).
/// - Managed nodegroups: instances launched by an Auto Scaling group and joined to the cluster,
///   2 to 4 minutes to create or delete (EKS user guide, managed-node-groups.html);
///   `aws eks wait nodegroup-active` polls every 30 s, at most 80 times.
/// - Add-ons: vpc-cni/kube-proxy/coredns come up in under a minute or two
///   (terraform-provider-aws internal/service/eks/addon.go `waitAddonCreated`, Pending
///   CREATING/DEGRADED, 20 min timeout); deletion is shorter.
/// - NAT gateways: `pending` for one to two minutes; `aws ec2 wait nat-gateway-available`
///   polls every 15 s, at most 40 times
///   (https://docs.aws.amazon.com/cli/v1/reference/ec2/wait/nat-gateway-available.html);
///   deleting takes about a minute (terraform-provider-aws internal/service/ec2
///   `waitNATGatewayDeleted`, 30 min timeout).
///
/// localcloud's `realistic` profile (localcloud/localcloud/profiles.py) puts each of its
/// durations inside these windows.
pub const SHAPES: &[Shape] = &[
    Shape { transition: Transition::ClusterCreate, probe: 15, likely_from: 8 * 60, likely_until: 12 * 60 },
    Shape { transition: Transition::ClusterDelete, probe: 15, likely_from: 4 * 60, likely_until: 8 * 60 },
    Shape { transition: Transition::NodegroupCreate, probe: 10, likely_from: 2 * 60, likely_until: 4 * 60 },
    Shape { transition: Transition::NodegroupDelete, probe: 10, likely_from: 2 * 60, likely_until: 4 * 60 },
    Shape { transition: Transition::AddonCreate, probe: 5, likely_from: 30, likely_until: 2 * 60 },
    Shape { transition: Transition::AddonDelete, probe: 5, likely_from: 15, likely_until: 60 },
    Shape { transition: Transition::NatGatewayCreate, probe: 10, likely_from: 60, likely_until: 2 * 60 },
    Shape { transition: Transition::NatGatewayDelete, probe: 10, likely_from: 30, likely_until: 90 },
];

impl Transition {
    pub fn shape(self) -> Shape {
        *SHAPES.iter().find(|s| s.transition == self).expect("every transition has a shape")
    }
}

/// When to poll, as times after the wait began.
#[derive(Debug, Clone, Copy)]
pub enum Schedule {
    /// At once, then after `first`, half as long again each time, up to `cap`.
    Backoff { first: Duration, cap: Duration },
    /// At `probe`, `SPARSE_POLLS` evenly spaced polls up to `dense_from`, then every `cap`;
    /// `usually_by`: when the transition is usually over (for the progress line).
    Shaped { probe: Duration, dense_from: Duration, cap: Duration, usually_by: Duration },
}

impl Polling {
    /// The schedule of a wait: of `transition` just started, or of something without a shape.
    pub fn schedule(&self, transition: Option<Transition>) -> Schedule {
        let cap = self.max_interval.max(Duration::from_millis(1));
        let Some(t) = transition else { return Schedule::Backoff { first: self.initial_interval.min(cap), cap } };
        let shape = t.shape();
        let aws = |secs: u32| Duration::from_secs_f64(f64::from(secs) / self.time_scale.max(f64::MIN_POSITIVE));
        Schedule::Shaped { probe: aws(shape.probe), dense_from: aws(shape.likely_from).max(aws(shape.probe)), cap, usually_by: aws(shape.likely_until) }
    }
}

impl Schedule {
    /// The time of the next poll: the first of the schedule after the one at `last` (None:
    /// none yet) that is not already past at `now`.
    pub fn next(&self, last: Option<Duration>, now: Duration) -> Duration {
        let bound = |t: Duration| last.is_none_or(|l| t > l) && t >= now;
        let (mut t, mut interval, cap) = match *self {
            Schedule::Backoff { first, cap } => (Duration::ZERO, first, cap),
            Schedule::Shaped { probe, dense_from, cap, .. } => {
                let step = (dense_from - probe) / SPARSE_POLLS;
                match (0..=SPARSE_POLLS).map(|n| probe + step * n).find(|&t| bound(t)) {
                    Some(t) => return t,
                    None => (probe + step * SPARSE_POLLS, cap, cap),
                }
            }
        };
        loop {
            if bound(t) {
                return t;
            }
            if interval == cap {
                // every `cap` from here on: jump to the first one past both bounds
                let past = last.unwrap_or(Duration::ZERO).max(now).saturating_sub(t);
                let steps = (past.as_nanos() / cap.as_nanos()) as u32;
                t += cap * steps.max(1);
                while !bound(t) {
                    t += cap;
                }
                return t;
            }
            t += interval;
            interval = (interval * 3 / 2).min(cap);
        }
    }

    /// The times of the polls up to `until`.
    #[cfg(test)]
    fn first_polls(&self, until: Duration) -> Vec<Duration> {
        let mut times = vec![];
        let mut last = None;
        loop {
            let t = self.next(last, Duration::ZERO);
            if t > until {
                return times;
            }
            times.push(t);
            last = Some(t);
        }
    }
}
