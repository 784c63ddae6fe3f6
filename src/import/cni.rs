//! The VPC CNI settings of the cluster an import takes over, read where they are: the `vpc-cni`
//! add-on's configuration values in Terraform's state, or else the cluster itself (the aws-node
//! DaemonSet's env and the ENIConfig objects), which a script such as the AWS sample's
//! `null_resource` (`kubectl set env daemonset aws-node …`, `kubectl apply -f eniconfig.yaml`)
//! set outside Terraform's state. The stack then says what they are, and a note says what eksnet
//! would change.
//!
//! Names: the add-on's configuration schema (`aws eks describe-addon-configuration
//! --addon-name vpc-cni`: `env`, `eniConfig.create/region/subnets.<name>.id/securityGroups`), the
//! aws-node container's variables (amazon-vpc-cni-k8s README: AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG,
//! ENI_CONFIG_LABEL_DEF, ENABLE_POD_ENI, AWS_VPC_K8S_CNI_EXTERNALSNAT) and the ENIConfig CRD
//! (crd.k8s.amazonaws.com/v1alpha1, `spec.subnet`, `spec.securityGroups`).

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use k8s_openapi::api::apps::v1::DaemonSet;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

use crate::k8s::{ClusterRef, Connections};
use crate::provider::ApiError;

/// Where the settings came from, for the stack's comments.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// The `vpc-cni` add-on's `configuration_values` in Terraform's state.
    AddonConfiguration,
    /// The cluster's aws-node DaemonSet and ENIConfig objects.
    Cluster,
}

impl Source {
    pub fn describe(&self) -> &'static str {
        match self {
            Source::AddonConfiguration => "the vpc-cni add-on's configuration values in Terraform's state",
            Source::Cluster => "the cluster (the aws-node DaemonSet's env and the ENIConfig objects)",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EniConfig {
    pub subnet: String,
    pub security_groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct CniSettings {
    pub source: Source,
    /// The aws-node container's env (literal values).
    pub env: BTreeMap<String, String>,
    /// ENIConfigs by name (with ENI_CONFIG_LABEL_DEF=topology.kubernetes.io/zone: the zone).
    pub eniconfigs: BTreeMap<String, EniConfig>,
}

pub const CUSTOM_NETWORK: &str = "AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG";
pub const LABEL_DEF: &str = "ENI_CONFIG_LABEL_DEF";
pub const POD_ENI: &str = "ENABLE_POD_ENI";
pub const EXTERNAL_SNAT: &str = "AWS_VPC_K8S_CNI_EXTERNALSNAT";
const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

impl CniSettings {
    /// The add-on's configuration values; None when they set nothing of custom networking (then
    /// the cluster is where the settings are).
    pub fn from_addon(values: &Value) -> Option<CniSettings> {
        let env: BTreeMap<String, String> =
            values["env"].as_object().map(|m| m.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string()))).collect()).unwrap_or_default();
        let eniconfigs: BTreeMap<String, EniConfig> = values["eniConfig"]["subnets"]
            .as_object()
            .map(|m| {
                m.iter()
                    .map(|(name, s)| {
                        (name.clone(), EniConfig { subnet: s["id"].as_str().unwrap_or_default().to_string(), security_groups: strings(&s["securityGroups"]) })
                    })
                    .collect()
            })
            .unwrap_or_default();
        if env.is_empty() && eniconfigs.is_empty() {
            return None;
        }
        Some(CniSettings { source: Source::AddonConfiguration, env, eniconfigs })
    }

    /// Reads the aws-node DaemonSet's env and the ENIConfigs from the cluster's Kubernetes API
    /// (GET and LIST only).
    pub async fn read(config: &SdkConfig, cluster: &ClusterRef) -> Result<CniSettings, ApiError> {
        let client = Connections::new(config.clone()).client(cluster).await?;
        let daemonsets: Api<DaemonSet> = Api::namespaced(client.clone(), "kube-system");
        let daemonset = daemonsets.get_opt("aws-node").await?;
        let env = daemonset
            .and_then(|ds| ds.spec?.template.spec?.containers.into_iter().find(|c| c.name == "aws-node")?.env)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|e| Some((e.name, e.value?)))
            .collect();
        let kind = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("crd.k8s.amazonaws.com", "v1alpha1", "ENIConfig"), "eniconfigs");
        // No ENIConfig CRD (custom networking never configured) reads as no ENIConfigs.
        let listed = Api::<DynamicObject>::all_with(client, &kind).list(&ListParams::default()).await.map(|l| l.items).unwrap_or_default();
        let eniconfigs = listed
            .into_iter()
            .map(|o| {
                let spec = &o.data["spec"];
                let found = EniConfig { subnet: spec["subnet"].as_str().unwrap_or_default().to_string(), security_groups: strings(&spec["securityGroups"]) };
                (o.metadata.name.unwrap_or_default(), found)
            })
            .collect();
        Ok(CniSettings { source: Source::Cluster, env, eniconfigs })
    }

    fn is(&self, name: &str, value: &str) -> bool {
        self.env.get(name).map(String::as_str) == Some(value)
    }

    fn shown(&self, name: &str) -> String {
        match self.env.get(name) {
            Some(v) => format!("{name}={v}"),
            None => format!("{name} unset"),
        }
    }
}

/// What the stack's `cni:` says, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Choices {
    pub external_snat: bool,
    /// `cluster` and/or names from the stack's `security_groups`.
    pub eni_security_groups: Vec<String>,
    /// One comment per choice, for the stack file.
    pub comments: Vec<String>,
    /// What the first plan will change in the CNI's settings, with why.
    pub notes: Vec<String>,
}

/// The stack's CNI settings from what the cluster has. `intra`: zone → intra subnet id;
/// `cluster_group`: the cluster security group's id; `groups`: the stack's security groups,
/// id → key.
pub fn choose(settings: Option<&CniSettings>, intra: &BTreeMap<String, String>, cluster_group: Option<&str>, groups: &BTreeMap<String, String>) -> Choices {
    let Some(s) = settings else {
        return Choices {
            external_snat: false,
            eni_security_groups: vec!["cluster".into()],
            comments: vec![
                "the CNI settings could not be read (see the NOTE above): eksnet's defaults, custom networking on, external SNAT off,".into(),
                "and ENIConfigs naming the cluster security group, which managed nodes carry.".into(),
            ],
            notes: vec![],
        };
    };
    let from = s.source.describe();
    let mut notes = vec![];
    let mut comments = vec![format!("read from {from}:")];
    for (name, want) in [(CUSTOM_NETWORK, "true"), (LABEL_DEF, ZONE_LABEL), (POD_ENI, "true")] {
        if s.is(name, want) {
            comments.push(format!("{name}={want}, as eksnet sets it;"));
        } else {
            notes.push(format!("the cluster's CNI has {} (from {from}); eksnet sets {name}={want}, so the plan changes it", s.shown(name)));
        }
    }
    let external_snat = s.is(EXTERNAL_SNAT, "true");
    comments.push(format!("external_snat from {};", s.shown(EXTERNAL_SNAT)));

    let mut chosen: Vec<String> = vec![];
    let mut outside: Vec<String> = vec![];
    for (name, e) in &s.eniconfigs {
        for g in &e.security_groups {
            let named = if Some(g.as_str()) == cluster_group { Some("cluster".to_string()) } else { groups.get(g).cloned() };
            match named {
                Some(n) if !chosen.contains(&n) => chosen.push(n),
                Some(_) => {}
                None if !outside.contains(g) => outside.push(g.clone()),
                None => {}
            }
        }
        match intra.get(name) {
            Some(id) if *id == e.subnet => {}
            Some(id) => notes.push(format!("ENIConfig `{name}` names subnet {}; eksnet names the zone's intra subnet {id}, so the plan changes it", e.subnet)),
            None => notes.push(format!("ENIConfig `{name}` is not named after a zone of the stack; eksnet leaves it as it is")),
        }
    }
    for zone in intra.keys().filter(|z| !s.eniconfigs.contains_key(*z)) {
        notes.push(format!("the cluster has no ENIConfig for {zone}; eksnet creates one"));
    }
    if !outside.is_empty() {
        notes.push(format!(
            "the ENIConfigs name {}, outside the stack (e.g. the EKS module's node security group, which managed nodes without a launch template do not carry); eksnet names {} instead, so the plan changes the ENIConfigs",
            outside.join(", "),
            if chosen.is_empty() { "the cluster security group" } else { "the groups below" }
        ));
    }
    if s.source == Source::Cluster && notes.iter().any(|n| n.contains("so the plan changes the ENIConfigs") || n.starts_with("ENIConfig `")) {
        // Server-side apply refuses to change fields another field manager set (kubectl's
        // client-side apply, here) unless told to take them over.
        notes.push(
            "the ENIConfigs were written by another tool (kubectl), which owns their fields: the first `eksnet apply --force-conflicts` takes them over".into(),
        );
    }
    let groups_comment = if chosen.is_empty() {
        chosen.push("cluster".into());
        "eni_security_groups: the cluster security group (see the NOTE above)".to_string()
    } else {
        format!("eni_security_groups from the ENIConfigs' securityGroups ({} ENIConfig(s))", s.eniconfigs.len())
    };
    comments.push(groups_comment);
    Choices { external_snat, eni_security_groups: chosen, comments, notes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn zones() -> BTreeMap<String, String> {
        [("eu-west-1a".to_string(), "subnet-a".to_string()), ("eu-west-1b".to_string(), "subnet-b".to_string())].into()
    }

    #[test]
    fn the_addon_configuration_is_read_as_the_stack_writes_it() {
        let values = json!({
            "env": {CUSTOM_NETWORK: "true", LABEL_DEF: ZONE_LABEL, POD_ENI: "true", EXTERNAL_SNAT: "true"},
            "eniConfig": {"create": true, "region": "eu-west-1", "subnets": {
                "eu-west-1a": {"id": "subnet-a", "securityGroups": ["sg-cluster", "sg-pods"]},
                "eu-west-1b": {"id": "subnet-b", "securityGroups": ["sg-cluster", "sg-pods"]}}}
        });
        let s = CniSettings::from_addon(&values).unwrap();
        let groups = [("sg-pods".to_string(), "pods".to_string())].into();
        let c = choose(Some(&s), &zones(), Some("sg-cluster"), &groups);
        assert_eq!((c.external_snat, c.eni_security_groups.clone()), (true, vec!["cluster".to_string(), "pods".to_string()]));
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        assert!(c.comments[0].contains("configuration values in Terraform's state"), "{:?}", c.comments);
        assert!(CniSettings::from_addon(&json!({})).is_none(), "an add-on without configuration: the cluster is asked");
    }

    #[test]
    fn what_eksnet_would_change_is_noted() {
        // The AWS sample's script: custom networking and the label, no pod ENIs, ENIConfigs
        // naming the EKS module's node group, one zone without an ENIConfig.
        let s = CniSettings {
            source: Source::Cluster,
            env: [(CUSTOM_NETWORK.to_string(), "true".to_string()), (LABEL_DEF.to_string(), ZONE_LABEL.to_string())].into(),
            eniconfigs: [("eu-west-1a".to_string(), EniConfig { subnet: "subnet-a".into(), security_groups: vec!["sg-node".into()] })].into(),
        };
        let c = choose(Some(&s), &zones(), Some("sg-cluster"), &BTreeMap::new());
        assert_eq!((c.external_snat, c.eni_security_groups.clone()), (false, vec!["cluster".to_string()]));
        let notes = c.notes.join("\n");
        assert!(notes.contains("ENABLE_POD_ENI unset (from the cluster"), "{notes}");
        assert!(notes.contains("the ENIConfigs name sg-node, outside the stack"), "{notes}");
        assert!(notes.contains("no ENIConfig for eu-west-1b; eksnet creates one"), "{notes}");
        assert!(!notes.contains(CUSTOM_NETWORK), "{notes}");
        assert!(notes.contains("the first `eksnet apply --force-conflicts` takes them over"), "{notes}");
        assert!(c.comments.iter().any(|l| l.contains("AWS_VPC_K8S_CNI_EXTERNALSNAT unset")), "{:?}", c.comments);
    }
}
