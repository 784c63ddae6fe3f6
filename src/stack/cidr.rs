//! CIDR math for subnet layouts, on top of ipnet.

use ipnet::Ipv4Net;

/// The `count` subnets of prefix length `prefix` that start at block `start` within `parent`.
pub fn derive_subnets(parent: Ipv4Net, prefix: u8, start: u32, count: usize) -> Result<Vec<Ipv4Net>, String> {
    if prefix < parent.prefix_len() || prefix > 32 {
        return Err(format!("prefix /{prefix} does not fit inside {parent} (/{} or longer needed)", parent.prefix_len()));
    }
    let available = 1u64 << (prefix - parent.prefix_len());
    if u64::from(start) + count as u64 > available {
        return Err(format!("{parent} holds {available} subnets of /{prefix}; blocks {start}..{} do not fit", u64::from(start) + count as u64 - 1));
    }
    let subnets = parent.subnets(prefix).map_err(|e| e.to_string())?;
    Ok(subnets.skip(start as usize).take(count).collect())
}

pub fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// Ranges AWS accepts as secondary VPC CIDRs: RFC 1918 and the shared 100.64.0.0/10.
pub fn allowed_secondary(net: &Ipv4Net) -> bool {
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"].iter().any(|r| r.parse::<Ipv4Net>().unwrap().contains(net))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    #[test]
    fn derives_consecutive_blocks_from_an_offset() {
        let got = derive_subnets(net("100.64.0.0/16"), 24, 1, 3).unwrap();
        assert_eq!(got, vec![net("100.64.1.0/24"), net("100.64.2.0/24"), net("100.64.3.0/24")]);
        let got = derive_subnets(net("10.0.0.0/16"), 18, 0, 4).unwrap();
        assert_eq!(got.last().unwrap(), &net("10.0.192.0/18"));
    }

    #[test]
    fn refuses_blocks_that_do_not_fit() {
        let err = derive_subnets(net("10.0.0.0/24"), 26, 2, 3).unwrap_err();
        assert!(err.contains("holds 4 subnets of /26"), "{err}");
        assert!(derive_subnets(net("10.0.0.0/24"), 20, 0, 1).is_err());
    }

    #[test]
    fn detects_overlap_and_allowed_ranges() {
        assert!(overlaps(&net("10.0.0.0/16"), &net("10.0.4.0/24")));
        assert!(!overlaps(&net("10.0.0.0/24"), &net("10.0.1.0/24")));
        assert!(allowed_secondary(&net("100.64.0.0/16")));
        assert!(!allowed_secondary(&net("8.8.0.0/16")));
    }
}
