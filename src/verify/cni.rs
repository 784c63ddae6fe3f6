//! Check 2: the aws-node DaemonSet carries the stack's CNI settings and every aws-node pod runs
//! that template. amazon-vpc-cni-k8s README: AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG (pods take
//! addresses from the ENIConfig's subnet), ENI_CONFIG_LABEL_DEF (the node label naming its
//! ENIConfig), ENABLE_POD_ENI (a trunk ENI per node, so that the VPC resource controller can give
//! pods branch ENIs), AWS_VPC_K8S_CNI_EXTERNALSNAT. The add-on writes them into aws-node too, so
//! the DaemonSet is what the nodes really run, whichever CNI mode the stack uses.

use super::facts::Facts;
use super::{Check, Expect};
use crate::stack::model::CniMode;

pub fn check(expect: &Expect, facts: &Facts) -> Check {
    let check = Check::new(2, "cni", "aws-node carries the stack's CNI settings, rolled out");
    let Some(ds) = &facts.aws_node else {
        return check.fail("kube-system/aws-node does not exist", "the VPC CNI is not installed: `eksnet apply` installs the vpc-cni add-on");
    };
    let wrong: Vec<(String, String, Option<String>)> =
        expect.cni_env.iter().filter(|(k, v)| ds.env.get(k) != Some(v)).map(|(k, v)| (k.clone(), v.clone(), ds.env.get(k).cloned())).collect();
    if !wrong.is_empty() {
        let evidence: Vec<String> = wrong.iter().map(|(k, v, got)| format!("{k}={} (the stack wants {v})", got.as_deref().unwrap_or("unset"))).collect();
        let set: Vec<String> = wrong.iter().map(|(k, v, _)| format!("{k}={v}")).collect();
        let remedy = match expect.cni_mode {
            CniMode::Addon => format!(
                "aws-node was changed outside eksnet: `kubectl -n kube-system set env daemonset/aws-node {}` (or update the vpc-cni add-on with \
                 --resolve-conflicts OVERWRITE); nodes that joined without custom networking must be replaced",
                set.join(" ")
            ),
            CniMode::Daemonset => "`eksnet apply --force-conflicts` puts the stack's env back on aws-node; nodes that joined without custom networking \
                                   must be replaced"
                .to_string(),
        };
        return check.fail(format!("aws-node: {}", evidence.join(", ")), remedy);
    }
    if ds.observed_generation < ds.generation || ds.updated < ds.desired || ds.available < ds.desired {
        return check.fail(
            format!(
                "aws-node generation {} (observed {}): {} of {} pods updated, {} available",
                ds.generation, ds.observed_generation, ds.updated, ds.desired, ds.available
            ),
            "wait for the rollout: `kubectl -n kube-system rollout status daemonset/aws-node`",
        );
    }
    let settings: Vec<String> = expect.cni_env.iter().filter(|(_, v)| v == "true").map(|(k, v)| format!("{k}={v}")).collect();
    check.pass(format!("{}; {}/{} aws-node pods run generation {}", settings.join(", "), ds.updated, ds.desired, ds.generation))
}
