//! `eksnet verify`: proof that the pods got what the stack promises (docs/verify.md). The reads
//! (observe.rs: Describe/List/Get only, no state write, no lock) produce `Facts`; each check is
//! a pure function of `Expect` (expect.rs) and the facts, one file per check, tested in
//! tests.rs without a cloud.

mod addresses;
mod cni;
mod dns;
mod eniconfigs;
pub mod expect;
pub mod facts;
mod headroom;
mod nodes;
pub mod observe;
mod pod_enis;
mod routes;
#[cfg(test)]
mod tests;

use serde::Serialize;

pub use expect::Expect;
pub use facts::Facts;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    /// Worth knowing, not broken: verify still passes.
    Warn,
    Fail,
}

/// One check's verdict: one line of evidence (ids, IPs, counts) and, unless it passed, what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub number: u8,
    /// A stable name for scripts (`pod_enis`).
    pub name: &'static str,
    /// What is checked, for people.
    pub title: &'static str,
    pub status: Status,
    pub evidence: String,
    pub remedy: Option<String>,
}

impl Check {
    fn new(number: u8, name: &'static str, title: &'static str) -> Check {
        Check { number, name, title, status: Status::Pass, evidence: String::new(), remedy: None }
    }

    fn pass(mut self, evidence: impl Into<String>) -> Check {
        self.status = Status::Pass;
        self.evidence = evidence.into();
        self
    }

    fn fail(mut self, evidence: impl Into<String>, remedy: impl Into<String>) -> Check {
        self.status = Status::Fail;
        self.evidence = evidence.into();
        self.remedy = Some(remedy.into());
        self
    }

    fn warn(mut self, evidence: impl Into<String>, remedy: impl Into<String>) -> Check {
        self.status = Status::Warn;
        self.evidence = evidence.into();
        self.remedy = Some(remedy.into());
        self
    }
}

/// Every check, in order.
pub fn checks(expect: &Expect, facts: &Facts) -> Vec<Check> {
    vec![
        nodes::check(expect, facts),
        cni::check(expect, facts),
        eniconfigs::check(expect, facts),
        addresses::check(expect, facts),
        pod_enis::check(expect, facts),
        routes::check(expect, facts),
        dns::check(expect, facts),
        headroom::check(expect, facts),
    ]
}

/// Verify passes when no check failed (warnings pass).
pub fn passed(checks: &[Check]) -> bool {
    checks.iter().all(|c| c.status != Status::Fail)
}

/// A list cut to `n` items for one line of evidence: `a, b, c and 4 more`.
fn listed(items: &[String], n: usize) -> String {
    if items.len() <= n {
        return items.join(", ");
    }
    format!("{} and {} more", items[..n].join(", "), items.len() - n)
}
