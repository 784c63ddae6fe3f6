//! The arithmetic: billable objects read from attributes, priced with the region's rates,
//! before against after. Hourly prices × 730 hours; gp3 per GB-month; amounts in cents.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::prices::Rates;
use super::{Cost, FORMAT_VERSION, HOURS_PER_MONTH, Line, Unknown, cents};
use crate::value::Attrs;

/// What a billable object is, as far as its price goes.
#[derive(Debug, Clone, PartialEq)]
pub enum Billable {
    Cluster {
        version: String,
    },
    NatGateway {
        connectivity: String,
    },
    /// An Elastic IP: an in-use public IPv4 address.
    PublicIpv4,
    Nodegroup {
        instance_type: Option<String>,
        spot: bool,
        desired: u32,
        min: u32,
        max: u32,
        disk_gb: u32,
    },
}

/// A managed nodegroup's root volume when the stack gives no `disk_size` (EKS's default).
const DEFAULT_DISK_GB: u32 = 20;

/// The billable object a resource of `kind` is, if it is one.
pub fn billable(kind: &str, attrs: &Attrs) -> Option<Billable> {
    let text = |k: &str| attrs.get(k).and_then(Value::as_str).map(str::to_string);
    let number = |v: Option<&Value>| v.and_then(Value::as_u64).map(|n| n as u32);
    match kind {
        "eks_cluster" => Some(Billable::Cluster { version: text("version").unwrap_or_default() }),
        "nat_gateway" => Some(Billable::NatGateway { connectivity: text("connectivity_type").unwrap_or_else(|| "public".into()) }),
        "elastic_ip" => Some(Billable::PublicIpv4),
        "eks_nodegroup" => {
            let scaling = attrs.get("scaling");
            let of = |k: &str| number(scaling.and_then(|s| s.get(k)));
            let desired = of("desired").unwrap_or(0);
            // On-Demand managed nodegroups launch the first listed type ("prioritized").
            let instance_type = attrs.get("instance_types").and_then(Value::as_array).and_then(|t| t.first()).and_then(Value::as_str).map(str::to_string);
            Some(Billable::Nodegroup {
                instance_type,
                spot: text("capacity_type").as_deref() == Some("SPOT"),
                desired,
                min: of("min").unwrap_or(desired),
                max: of("max").unwrap_or(desired),
                disk_gb: number(attrs.get("disk_size")).unwrap_or(DEFAULT_DISK_GB),
            })
        }
        _ => None,
    }
}

/// The instance types and Kubernetes versions whose prices the estimate needs.
pub fn wanted<'a>(objects: impl Iterator<Item = &'a Billable>) -> (Vec<String>, Vec<String>) {
    let (mut types, mut versions) = (BTreeSet::new(), BTreeSet::new());
    for b in objects {
        match b {
            Billable::Nodegroup { instance_type: Some(t), spot: false, .. } => {
                types.insert(t.clone());
            }
            Billable::Cluster { version } => {
                versions.insert(version.clone());
            }
            _ => {}
        }
    }
    (types.into_iter().collect(), versions.into_iter().collect())
}

struct Priced {
    item: String,
    monthly: f64,
    range: Option<[f64; 2]>,
    note: Option<String>,
    warning: Option<String>,
}

fn hourly(rate: f64, count: f64) -> f64 {
    cents(rate * HOURS_PER_MONTH * count)
}

fn usd(v: f64) -> String {
    format!("${v:.2}")
}

fn price(b: &Billable, rates: &Rates, region: &str) -> Result<Priced, String> {
    let plain = |item: String, monthly: f64| Priced { item, monthly, range: None, note: None, warning: None };
    match b {
        Billable::Cluster { version } => {
            let standard = rates.cluster_hour.clone()?;
            let status = rates.support_of(version)?;
            match status.as_str() {
                "STANDARD_SUPPORT" => Ok(plain(format!("EKS {version}, standard support"), hourly(standard, 1.0))),
                "EXTENDED_SUPPORT" => {
                    let extra = rates.extended_hour.clone()?;
                    let monthly = hourly(standard + extra, 1.0);
                    let warning = format!(
                        "Kubernetes {version} is in extended support: the cluster costs ${:.2}/hour instead of ${standard:.2} ({} a month more); upgrade to a version in standard support to save it",
                        standard + extra,
                        usd(monthly - hourly(standard, 1.0))
                    );
                    Ok(Priced { item: format!("EKS {version}, extended support"), monthly, range: None, note: None, warning: Some(warning) })
                }
                other => Err(format!("Kubernetes {version} is {} in {region}", other.to_lowercase().replace('_', " "))),
            }
        }
        Billable::NatGateway { connectivity } => {
            let rate = rates.nat_hour.clone()?;
            let mut p = plain(format!("NAT gateway ({connectivity}), hours"), hourly(rate, 1.0));
            p.note = Some("data processing per GB not estimated".into());
            Ok(p)
        }
        Billable::PublicIpv4 => Ok(plain("public IPv4 address (Elastic IP), hours".into(), hourly(rates.ipv4_hour.clone()?, 1.0))),
        Billable::Nodegroup { instance_type, spot, desired, min, max, disk_gb } => {
            let gb = rates.gp3_gb_month.clone()?;
            let disk = gb * f64::from(*disk_gb);
            let name = instance_type.clone().unwrap_or_else(|| "(no type)".into());
            if *spot {
                let per = |n: u32| cents(disk * f64::from(n));
                return Ok(Priced {
                    item: format!("{desired} × {name} spot + {disk_gb} GB gp3 each"),
                    monthly: per(*desired),
                    range: (min != max).then(|| [per(*min), per(*max)]),
                    note: Some("spot: varies (instances not included, root volumes are)".into()),
                    warning: None,
                });
            }
            let Some(t) = instance_type else { return Err("the nodegroup names no instance type".into()) };
            let hour = rates.instance(t)?;
            let per = |n: u32| cents((hour * HOURS_PER_MONTH + disk) * f64::from(n));
            Ok(Priced {
                item: format!("{desired} × {t} on-demand + {disk_gb} GB gp3 each"),
                monthly: per(*desired),
                range: (min != max).then(|| [per(*min), per(*max)]),
                note: None,
                warning: None,
            })
        }
    }
}

/// The cost before (`before`: what exists) and after (`after`: what the plan leaves) the plan.
/// `replaced` names the objects the plan replaces.
pub fn estimate(before: &BTreeMap<String, Billable>, after: &BTreeMap<String, Billable>, replaced: &BTreeSet<String>, rates: &Rates, region: &str) -> Cost {
    let addresses: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    let mut cost = Cost {
        format_version: FORMAT_VERSION,
        currency: "USD".into(),
        hours_per_month: HOURS_PER_MONTH,
        before: 0.0,
        after: 0.0,
        delta: 0.0,
        lines: vec![],
        unknown: vec![],
        warnings: vec![],
        notes: vec![],
    };
    for address in addresses {
        let old = before.get(address).map(|b| price(b, rates, region));
        let new = after.get(address).map(|b| price(b, rates, region));
        // An object of unknown cost on either side is left out of both totals, so the delta
        // stays the change of what is known.
        if let Some(reason) = [&old, &new].into_iter().flatten().find_map(|p| p.as_ref().err()) {
            cost.unknown.push(Unknown { address: address.clone(), reason: reason.clone() });
            continue;
        }
        let (old, new) = (old.and_then(Result::ok), new.and_then(Result::ok));
        let shown = new.as_ref().or(old.as_ref()).expect("on one side at least");
        if let Some(w) = new.as_ref().and_then(|p| p.warning.clone()) {
            cost.warnings.push(w);
        }
        cost.lines.push(Line {
            address: address.clone(),
            item: shown.item.clone(),
            before: old.as_ref().map(|p| p.monthly),
            after: new.as_ref().map(|p| p.monthly),
            after_range: new.as_ref().and_then(|p| p.range),
            note: shown.note.clone(),
        });
    }
    cost.before = cents(cost.lines.iter().filter_map(|l| l.before).sum());
    cost.after = cents(cost.lines.iter().filter_map(|l| l.after).sum());
    cost.delta = cents(cost.after - cost.before);
    if before.values().chain(after.values()).any(|b| matches!(b, Billable::NatGateway { .. })) {
        cost.notes.push("not estimated: NAT gateway data processing (per GB) and data transfer".into());
    }
    if replaced.iter().any(|a| before.contains_key(a) && after.contains_key(a)) {
        cost.notes.push("a replacement costs nothing extra: the old object is deleted before the new one is made".into());
    }
    cost
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rates() -> Rates {
        crate::cost::table_rates()
    }

    fn nodegroup(desired: u32, min: u32, max: u32) -> Billable {
        Billable::Nodegroup { instance_type: Some("c5.large".into()), spot: false, desired, min, max, disk_gb: 20 }
    }

    fn reference() -> BTreeMap<String, Billable> {
        BTreeMap::from([
            ("eks_cluster.main".to_string(), Billable::Cluster { version: "1.33".into() }),
            ("nat_gateway.public[\"a\"]".to_string(), Billable::NatGateway { connectivity: "public".into() }),
            ("nat_gateway.private[\"a\"]".to_string(), Billable::NatGateway { connectivity: "private".into() }),
            ("elastic_ip.nat[\"a\"]".to_string(), Billable::PublicIpv4),
            ("eks_nodegroup.default".to_string(), nodegroup(1, 1, 2)),
        ])
    }

    #[test]
    fn a_first_plan_costs_hours_times_730_in_cents() {
        let cost = estimate(&BTreeMap::new(), &reference(), &BTreeSet::new(), &rates(), "ap-southeast-2");
        let after = |a: &str| cost.lines.iter().find(|l| l.address == a).unwrap().after.unwrap();
        assert_eq!(after("eks_cluster.main"), 73.00);
        assert_eq!(after("nat_gateway.public[\"a\"]"), 43.07); // 0.059 × 730
        assert_eq!(after("elastic_ip.nat[\"a\"]"), 3.65);
        // 0.111 × 730 + 20 GB × 0.096 = 81.03 + 1.92
        assert_eq!(after("eks_nodegroup.default"), 82.95);
        let ng = cost.lines.iter().find(|l| l.address == "eks_nodegroup.default").unwrap();
        assert_eq!(ng.after_range, Some([82.95, 165.9]));
        assert_eq!((cost.before, cost.after, cost.delta), (0.0, 245.74, 245.74));
        assert!(cost.notes.iter().any(|n| n.contains("NAT gateway data processing")));
    }

    #[test]
    fn destroying_shows_the_saving_and_replacing_costs_nothing_extra() {
        let gone = estimate(&reference(), &BTreeMap::new(), &BTreeSet::new(), &rates(), "r");
        assert_eq!((gone.before, gone.after, gone.delta), (245.74, 0.0, -245.74));
        let replaced = BTreeSet::from(["eks_nodegroup.default".to_string()]);
        let same = estimate(&reference(), &reference(), &replaced, &rates(), "r");
        assert_eq!(same.delta, 0.0);
        assert!(same.notes.iter().any(|n| n.contains("replacement costs nothing extra")), "{:?}", same.notes);
    }

    #[test]
    fn extended_support_adds_its_surcharge_with_a_warning() {
        let mut after = reference();
        after.insert("eks_cluster.main".into(), Billable::Cluster { version: "1.31".into() });
        let cost = estimate(&reference(), &after, &BTreeSet::new(), &rates(), "r");
        assert_eq!(cost.delta, 365.0); // 0.50 × 730
        assert!(cost.warnings[0].contains("Kubernetes 1.31 is in extended support") && cost.warnings[0].contains("$0.60/hour"), "{:?}", cost.warnings);
    }

    #[test]
    fn unknown_prices_are_named_and_left_out_never_guessed() {
        let mut after = reference();
        after.insert(
            "eks_nodegroup.big".into(),
            Billable::Nodegroup { instance_type: Some("x9.huge".into()), spot: false, desired: 3, min: 3, max: 3, disk_gb: 50 },
        );
        after.insert(
            "eks_nodegroup.spot".into(),
            Billable::Nodegroup { instance_type: Some("m5.large".into()), spot: true, desired: 2, min: 2, max: 2, disk_gb: 20 },
        );
        let mut r = rates();
        r.instance_hour.insert("x9.huge".into(), Err("AWS's price list has no on-demand Linux price for x9.huge".into()));
        let cost = estimate(&reference(), &after, &BTreeSet::new(), &r, "r");
        assert_eq!(
            cost.unknown,
            vec![Unknown { address: "eks_nodegroup.big".into(), reason: "AWS's price list has no on-demand Linux price for x9.huge".into() }]
        );
        let spot = cost.lines.iter().find(|l| l.address == "eks_nodegroup.spot").unwrap();
        assert_eq!(spot.after, Some(3.84)); // the root volumes only: 2 × 20 GB × 0.096
        assert!(spot.note.as_deref().unwrap().starts_with("spot: varies"));
        assert_eq!(cost.delta, 3.84);

        let denied = estimate(&BTreeMap::new(), &reference(), &BTreeSet::new(), &Rates::failing("AccessDeniedException: not authorized"), "r");
        assert_eq!(denied.unknown.len(), 5);
        assert!(denied.lines.is_empty() && denied.after == 0.0);
    }

    #[test]
    fn billable_objects_read_from_attributes() {
        let attrs = |v: Value| v.as_object().unwrap().clone();
        let ng = attrs(
            json!({"instance_types": ["m5.large", "c5.large"], "capacity_type": "ON_DEMAND", "disk_size": null, "scaling": {"min": 1, "desired": 2, "max": 4}}),
        );
        assert_eq!(
            billable("eks_nodegroup", &ng),
            Some(Billable::Nodegroup { instance_type: Some("m5.large".into()), spot: false, desired: 2, min: 1, max: 4, disk_gb: 20 })
        );
        assert_eq!(billable("subnet", &attrs(json!({}))), None);
        assert_eq!(billable("nat_gateway", &attrs(json!({"connectivity_type": "private"}))), Some(Billable::NatGateway { connectivity: "private".into() }));
    }
}
