//! Check 3: one ENIConfig per zone, named after it (ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone),
//! whose subnet is that zone's intra subnet and whose security groups are the stack's; every
//! node's zone has one. A node whose ENIConfig is missing or points elsewhere gives its pods
//! addresses from the wrong subnet (EKS user guide, custom networking:
//! https://docs.aws.amazon.com/eks/latest/userguide/cni-custom-network.html).

use super::facts::Facts;
use super::{Check, Expect, listed};
use crate::stack::TierKind;

pub fn check(expect: &Expect, facts: &Facts) -> Check {
    let check = Check::new(3, "eniconfigs", "one ENIConfig per zone: its intra subnet, the stack's groups");
    let groups = expect.eni_group_ids(facts.cluster_security_group.as_deref());
    let mut problems = vec![];
    let mut fixes = vec![];
    let mut good = vec![];
    for zone in &expect.zones {
        let Some(want) = expect.subnet(TierKind::Intra, zone) else { continue };
        let want_id = want.id.clone().unwrap_or_else(|| "(not created)".into());
        let Some(config) = facts.eniconfigs.iter().find(|c| &c.name == zone) else {
            problems.push(format!("no ENIConfig `{zone}`"));
            continue;
        };
        if config.subnet != want_id {
            let what = expect
                .subnets
                .iter()
                .find(|s| s.id.as_deref() == Some(config.subnet.as_str()))
                .map(|s| format!("the {} subnet {} ({})", s.tier.name(), config.subnet, s.cidr))
                .unwrap_or_else(|| format!("{}, not a subnet of the stack", config.subnet));
            problems.push(format!("ENIConfig {zone} points at {what}, not the intra subnet {want_id} ({})", want.cidr));
            fixes.push(format!("kubectl patch eniconfig {zone} --type merge -p '{{\"spec\":{{\"subnet\":\"{want_id}\"}}}}'"));
            continue;
        }
        let mut have = config.security_groups.clone();
        have.sort();
        if have != groups {
            problems.push(format!("ENIConfig {zone} has groups [{}], the stack wants [{}]", have.join(", "), groups.join(", ")));
            continue;
        }
        good.push(format!("{zone} → {want_id} ({})", want.cidr));
    }
    for node in &facts.nodes {
        if let Some(zone) = node.zone().filter(|z| !facts.eniconfigs.iter().any(|c| c.name == *z)) {
            problems.push(format!("node {} is in {zone}, which has no ENIConfig", node.name));
        }
    }
    if !problems.is_empty() {
        let fix = if fixes.is_empty() { "`eksnet apply` writes the stack's ENIConfigs".to_string() } else { fixes.join("; ") };
        return check.fail(
            listed(&problems, 3),
            format!("{fix}; pods that got addresses from the wrong subnet keep them until recreated, and nodes keep their ENIs until replaced"),
        );
    }
    check.pass(format!("{} ENIConfig(s): {}; groups {}", good.len(), listed(&good, 3), groups.join(", ")))
}
