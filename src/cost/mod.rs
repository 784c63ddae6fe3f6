//! What the stack costs per month before and after a plan, from AWS's Price List Query API:
//! the EKS cluster (standard or extended support), NAT gateways, public IPv4 addresses, and
//! the nodegroups' instances and root volumes. A price that cannot be had (no permission, no
//! network, a type the price list lacks) is named as unknown with its reason, never guessed,
//! and never fails the plan.

mod estimate;
mod prices;

use serde::{Deserialize, Serialize};

pub use estimate::{billable, estimate, wanted};
pub use prices::{cache_dir, rates};
#[cfg(test)]
pub use {estimate::Billable, prices::Rates};

/// `cost.format_version` in the JSON plan (docs/plan-json.md).
pub const FORMAT_VERSION: u32 = 1;
/// AWS's own month for hourly prices (730 = 24 × 365 / 12).
pub const HOURS_PER_MONTH: f64 = 730.0;

/// The monthly cost of the stack's billable objects before and after the plan, in USD.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    pub format_version: u32,
    pub currency: String,
    pub hours_per_month: f64,
    /// Monthly, of the objects that exist now (objects of unknown cost left out).
    pub before: f64,
    /// Monthly, of the objects after the plan (objects of unknown cost left out).
    pub after: f64,
    pub delta: f64,
    /// One per billable object, in address order.
    pub lines: Vec<Line>,
    /// Objects whose cost could not be had, with the reason.
    #[serde(default)]
    pub unknown: Vec<Unknown>,
    /// What a reviewer should not miss (a cluster in extended support).
    #[serde(default)]
    pub warnings: Vec<String>,
    /// What the estimate leaves out or assumes (NAT data processing, replacements).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// One billable object: what it is, its monthly cost before and after (absent when it does
/// not exist on that side, or its cost is unknown).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub address: String,
    pub item: String,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// A nodegroup's cost at its minimum and maximum size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_range: Option<[f64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Line {
    pub fn delta(&self) -> f64 {
        cents(self.after.unwrap_or(0.0) - self.before.unwrap_or(0.0))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Unknown {
    pub address: String,
    pub reason: String,
}

/// Rounded to cents, as every amount the plan shows is.
pub fn cents(usd: f64) -> f64 {
    (usd * 100.0).round() / 100.0
}

/// Whether the user turned the estimate off (`EKSNET_COST=off`, as CI may set it).
pub fn off_by_env() -> bool {
    std::env::var("EKSNET_COST").is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "off" | "0" | "false" | "no"))
}

/// localcloud's ap-southeast-2 prices (localcloud/localcloud/fixtures/prices.json), with 1.33
/// in standard support and 1.31 in extended support, for tests of the arithmetic and renderings.
#[cfg(test)]
pub(crate) fn table_rates() -> Rates {
    let mut r = Rates::failing("unused");
    r.cluster_hour = Ok(0.10);
    r.extended_hour = Ok(0.50);
    r.nat_hour = Ok(0.059);
    r.ipv4_hour = Ok(0.005);
    r.gp3_gb_month = Ok(0.096);
    r.instance_hour.insert("c5.large".into(), Ok(0.111));
    r.support.insert("1.33".into(), Ok("STANDARD_SUPPORT".into()));
    r.support.insert("1.31".into(), Ok("EXTENDED_SUPPORT".into()));
    r
}
