//! How the engine tells the outside world what it is doing. The engine never prints; the
//! binary's UI (`ui.rs`) implements this trait.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

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

pub fn seconds(d: Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    #[test]
    fn converts_days_to_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_417), (2025, 11, 25));
    }
}
