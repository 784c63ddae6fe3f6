//! Test stacks that expire: `expires_after: 4h` in the stack (or `apply --ttl 4h`) marks every
//! tagged object with `eksnet:expires-at` (RFC 3339, UTC) and `eksnet:expires-after` (the
//! lifetime as written), and `eksnet sweep` destroys stacks whose time has passed.
//!
//! The time is decided once and then kept: a plan reads it back from the stack's VPC, so plans
//! after an apply stay empty. It moves only when the lifetime changes or `apply --ttl` asks
//! (which extends from now); `apply --ttl never` removes the marks.

use std::time::{Duration, SystemTime};

use aws_smithy_types::DateTime;
use aws_smithy_types::date_time::Format;
use serde_json::Value;

use crate::provider::{Desired, Observed};

pub const EXPIRES_AT_TAG: &str = "eksnet:expires-at";
pub const EXPIRES_AFTER_TAG: &str = "eksnet:expires-after";

/// What the run asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requested {
    /// Nothing: keep what the objects say (a lifetime set by `--ttl` stays).
    Keep,
    /// The stack's `expires_after`: kept while it is unchanged.
    Stack(String),
    /// `apply --ttl D`: from now.
    Renew(String),
    /// `apply --ttl never`.
    Never,
}

/// The marks an expiring stack carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expiry {
    pub after: String,
    pub at: String,
}

pub fn rfc3339(t: SystemTime) -> String {
    DateTime::from(t).fmt(Format::DateTime).unwrap_or_default()
}

pub fn parse_time(text: &str) -> Option<SystemTime> {
    SystemTime::try_from(DateTime::from_str(text, Format::DateTime).ok()?).ok()
}

/// The expiry the stack's objects carry now (read from one of them, the VPC first).
pub fn current<'a>(observed: impl IntoIterator<Item = &'a Observed>) -> Option<Expiry> {
    observed.into_iter().find_map(|o| {
        let tags = o.attrs.get("tags")?;
        Some(Expiry { after: tags.get(EXPIRES_AFTER_TAG)?.as_str()?.into(), at: tags.get(EXPIRES_AT_TAG)?.as_str()?.into() })
    })
}

/// The expiry this run sets, from what is asked and what the objects carry.
pub fn decide(requested: &Requested, current: Option<Expiry>, now: SystemTime) -> Option<Expiry> {
    let from_now = |after: &str| {
        let lifetime = crate::duration::parse(after).unwrap_or(Duration::ZERO);
        Expiry { after: after.to_string(), at: rfc3339(now + lifetime) }
    };
    match requested {
        Requested::Keep => current,
        Requested::Never => None,
        Requested::Renew(after) => Some(from_now(after)),
        Requested::Stack(after) => match current {
            Some(c) if &c.after == after => Some(c),
            _ => Some(from_now(after)),
        },
    }
}

/// Puts the marks on every desired object that carries the stack's tag (and takes them off when
/// the stack no longer expires).
pub fn mark(desired: &mut [Desired], expiry: Option<&Expiry>) {
    for d in desired {
        let Some(tags) = d.attrs.get_mut("tags").and_then(Value::as_object_mut).filter(|t| t.contains_key(crate::ownership::STACK_TAG)) else {
            continue;
        };
        match expiry {
            Some(e) => {
                tags.insert(EXPIRES_AT_TAG.into(), e.at.clone().into());
                tags.insert(EXPIRES_AFTER_TAG.into(), e.after.clone().into());
            }
            None => {
                tags.remove(EXPIRES_AT_TAG);
                tags.remove(EXPIRES_AFTER_TAG);
            }
        }
    }
}

/// `3h 12m` since a past time, for the sweep's table.
pub fn since(t: SystemTime, now: SystemTime) -> String {
    let s = now.duration_since(t).unwrap_or_default().as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86400 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86400, (s % 86400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn the_time_is_kept_until_the_lifetime_changes_or_is_renewed() {
        let now = at(1_800_000_000);
        let first = decide(&Requested::Stack("4h".into()), None, now).unwrap();
        assert_eq!(first, Expiry { after: "4h".into(), at: "2027-01-15T12:00:00Z".into() });
        let later = at(1_800_000_000 + 600);
        assert_eq!(decide(&Requested::Stack("4h".into()), Some(first.clone()), later), Some(first.clone()), "kept");
        assert_eq!(decide(&Requested::Keep, Some(first.clone()), later), Some(first.clone()));
        assert_eq!(decide(&Requested::Stack("2h".into()), Some(first.clone()), later).unwrap().at, "2027-01-15T10:10:00Z");
        assert_eq!(decide(&Requested::Renew("4h".into()), Some(first.clone()), later).unwrap().at, "2027-01-15T12:10:00Z");
        assert_eq!(decide(&Requested::Never, Some(first), later), None);
        assert_eq!(parse_time("2027-01-15T12:00:00Z"), Some(at(1_800_000_000 + 4 * 3600)));
        assert_eq!(since(at(0), at(3 * 3600 + 12 * 60)), "3h 12m");
    }
}
