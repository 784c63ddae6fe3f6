//! How the engine tells the outside world what it is doing. The engine never prints; the
//! binary's UI (`ui.rs`) implements this trait.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::address::Address;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Create,
    Update,
    Delete,
}

impl Verb {
    pub fn doing(self) -> &'static str {
        match self {
            Verb::Create => "creating",
            Verb::Update => "updating",
            Verb::Delete => "destroying",
        }
    }

    pub fn done(self) -> &'static str {
        match self {
            Verb::Create => "created",
            Verb::Update => "updated",
            Verb::Delete => "destroyed",
        }
    }
}

pub trait Reporter: Send + Sync {
    fn started(&self, address: &Address, verb: Verb);
    /// `Ok(id)` or `Err(message)`.
    fn finished(&self, address: &Address, verb: Verb, result: Result<&str, &str>, elapsed: Duration);
    /// A line of information (e.g. "refreshing 10 kinds").
    fn note(&self, message: &str);
    /// What a running step waits on (a retry, a poll): said often; the reporter decides how
    /// often to show it.
    fn progress(&self, address: &Address, verb: Verb, message: &str);
    /// The steps about to run, in the order they are planned (for an overall status line).
    fn planned(&self, _steps: &[(Address, Verb)]) {}
}

/// Where a run stands, for the status line: `12/37 done · 3 in flight · eks_cluster.main:
/// waiting for … (4m; usually over by 12m, at most 30m) · next: eks_addon.vpc_cni, …`.
#[derive(Debug, Default)]
pub struct Tally {
    total: usize,
    done: usize,
    /// Running steps: key, when it started, what it last said.
    running: Vec<(String, Instant, Option<String>)>,
    /// Steps not started yet, in plan order.
    pending: Vec<String>,
}

fn key(address: &Address, verb: Verb) -> String {
    match verb {
        Verb::Delete => format!("{address} (destroy)"),
        _ => address.to_string(),
    }
}

impl Tally {
    pub fn new(steps: &[(Address, Verb)]) -> Tally {
        Tally { total: steps.len(), pending: steps.iter().map(|(a, v)| key(a, *v)).collect(), ..Tally::default() }
    }

    pub fn started(&mut self, address: &Address, verb: Verb) {
        let k = key(address, verb);
        self.pending.retain(|p| *p != k);
        self.running.push((k, Instant::now(), None));
    }

    pub fn finished(&mut self, address: &Address, verb: Verb) {
        let k = key(address, verb);
        self.running.retain(|(r, _, _)| *r != k);
        self.done += 1;
    }

    pub fn said(&mut self, address: &Address, verb: Verb, message: &str) {
        let k = key(address, verb);
        if let Some(r) = self.running.iter_mut().find(|(r, _, _)| *r == k) {
            r.2 = Some(message.to_string());
        }
    }

    pub fn is_over(&self) -> bool {
        self.done >= self.total
    }

    /// The line: counts, the longest-running step with what it waits on (unless a spinner of
    /// its own shows that: `said` false), what comes next.
    pub fn line(&self, said: bool) -> String {
        let mut parts = vec![format!("{}/{} done", self.done, self.total)];
        if !self.running.is_empty() {
            parts.push(format!("{} in flight", self.running.len()));
        }
        if let Some((k, since, message)) = self.running.iter().min_by_key(|(_, since, _)| *since) {
            parts.push(match message {
                Some(message) if said => format!("{k}: {message}"),
                _ => format!("longest: {k} {}", minutes(since.elapsed())),
            });
        }
        if !self.pending.is_empty() {
            let shown: Vec<&str> = self.pending.iter().take(3).map(String::as_str).collect();
            let more = self.pending.len() - shown.len();
            let more = if more > 0 { format!(" and {more} more") } else { String::new() };
            parts.push(format!("next: {}{more}", shown.join(", ")));
        }
        parts.join(" · ")
    }
}

/// A reporter that says nothing (the engine tests).
#[cfg(test)]
pub struct Silent;

#[cfg(test)]
impl Reporter for Silent {
    fn started(&self, _: &Address, _: Verb) {}
    fn finished(&self, _: &Address, _: Verb, _: Result<&str, &str>, _: Duration) {}
    fn note(&self, _: &str) {}
    fn progress(&self, _: &Address, _: Verb, _: &str) {}
}

/// UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`, without a date crate.
pub fn timestamp() -> String {
    timestamp_at(SystemTime::now())
}

pub fn timestamp_at(t: SystemTime) -> String {
    let now = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, rem / 60 % 60, rem % 60, now.subsec_millis())
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `4m12s`, `19s`: an elapsed time at a glance.
pub fn minutes(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 { format!("{}m{:02}s", s / 60, s % 60) } else { format!("{s}s") }
}

pub fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_counts_and_names_the_longest_wait_and_what_is_next() {
        let a = |s: &str| Address::parse(s).unwrap();
        let steps: Vec<(Address, Verb)> = ["vpc.main", "eks_cluster.main", "subnet.a", "eks_addon.vpc_cni", "eks_nodegroup.default", "k8s_manifest.ns"]
            .iter()
            .map(|s| (a(s), Verb::Create))
            .collect();
        let mut t = Tally::new(&steps);
        assert_eq!(t.line(true), "0/6 done · next: vpc.main, eks_cluster.main, subnet.a and 3 more");
        t.started(&a("vpc.main"), Verb::Create);
        t.finished(&a("vpc.main"), Verb::Create);
        t.started(&a("eks_cluster.main"), Verb::Create);
        t.started(&a("subnet.a"), Verb::Create);
        t.said(&a("eks_cluster.main"), Verb::Create, "waiting for CREATING to end (4m; usually over by 12m, at most 30m)");
        assert!(t.line(false).starts_with("1/6 done · 2 in flight · longest: eks_cluster.main 0s · next: "), "{}", t.line(false));
        assert_eq!(minutes(Duration::from_secs(252)), "4m12s");
        assert_eq!(
            t.line(true),
            "1/6 done · 2 in flight · eks_cluster.main: waiting for CREATING to end (4m; usually over by 12m, at most 30m) · next: eks_addon.vpc_cni, \
             eks_nodegroup.default, k8s_manifest.ns"
        );
        assert!(!t.is_over());
    }

    #[test]
    fn converts_days_to_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_417), (2025, 11, 25));
    }
}
