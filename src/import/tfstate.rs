//! Terraform's state file, format version 4: what `terraform.tfstate` holds and what
//! `terraform state pull` prints. The format: a JSON object with `version` (4),
//! `terraform_version`, `serial`, `lineage`, `outputs` and `resources`; each resource has
//! `mode` (`managed` or `data`), `type`, `name`, `module` (absent at the root, else
//! `module.vpc` or `module.eks.module.kms`), `provider`
//! (`provider["registry.terraform.io/hashicorp/aws"]`) and `instances`, each with `index_key`
//! (absent, a number for `count`, a string for `for_each`), `schema_version` and `attributes`
//! (hashicorp/terraform internal/states/statefile/version4.go: stateV4, resourceStateV4,
//! instanceObjectStateV4).

use anyhow::Context;
use serde::Deserialize;
use serde_json::Value;

use crate::diagnostic::help;

#[derive(Debug, Deserialize)]
pub struct TfState {
    #[serde(default)]
    pub resources: Vec<TfResource>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TfResource {
    #[serde(default = "managed")]
    pub mode: String,
    #[serde(rename = "type")]
    pub type_: String,
    pub name: String,
    #[serde(default)]
    pub module: Option<String>,
    #[serde(default)]
    pub provider: String,
    #[serde(default)]
    pub instances: Vec<TfInstance>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TfInstance {
    #[serde(default)]
    pub index_key: Option<Value>,
    #[serde(default)]
    pub attributes: Value,
}

fn managed() -> String {
    "managed".into()
}

/// One instance of a resource, with its address as Terraform writes it in `terraform state list`
/// and takes in `terraform state rm`: `module.vpc.aws_subnet.private[0]`,
/// `module.eks.aws_iam_role_policy_attachment.this["arn:…"]`, `data.aws_region.current`.
#[derive(Debug, Clone)]
pub struct Object<'a> {
    pub resource: &'a TfResource,
    pub instance: &'a TfInstance,
    pub address: String,
}

impl Object<'_> {
    pub fn kind(&self) -> &str {
        &self.resource.type_
    }

    pub fn attr(&self, name: &str) -> &Value {
        &self.instance.attributes[name]
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.attr(name).as_str().filter(|s| !s.is_empty())
    }

    pub fn id(&self) -> &str {
        self.str("id").unwrap_or_default()
    }

    /// The tags the object carries: `tags_all` (its own `tags` and the provider's `default_tags`)
    /// when the provider wrote it, else `tags`.
    pub fn tags(&self) -> std::collections::BTreeMap<String, String> {
        let all = self.attr("tags_all");
        let tags = if all.as_object().is_some_and(|m| !m.is_empty()) { all } else { self.attr("tags") };
        tags.as_object().map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect()).unwrap_or_default()
    }

    /// The first block of a nested block list (`vpc_config`, `scaling_config`), which Terraform
    /// stores as a one-element array.
    pub fn block(&self, name: &str) -> &Value {
        match self.attr(name) {
            Value::Array(a) => a.first().unwrap_or(&Value::Null),
            other => other,
        }
    }
}

impl TfResource {
    /// The provider's short name: `aws`, `kubernetes`, `null`.
    pub fn provider_name(&self) -> &str {
        let inner = self.provider.rsplit_once('/').map(|(_, p)| p).unwrap_or(&self.provider);
        inner.trim_end_matches(['"', ']']).trim_start_matches("provider[\"")
    }
}

/// Reads and checks a state: JSON, format version 4.
pub fn parse(text: &str, file: &str) -> anyhow::Result<TfState> {
    let value: Value = serde_json::from_str(text).map_err(|e| {
        help(
            format!("{file} is not a Terraform state: it is not JSON ({e})"),
            "give the file `terraform.tfstate`, or save what `terraform state pull` prints (a plan or HCL file is not a state)",
        )
    })?;
    let Some(version) = value.get("version").and_then(Value::as_u64) else {
        return Err(help(
            format!("{file} is not a Terraform state: it has no `version`"),
            "give the file `terraform.tfstate`, or save what `terraform state pull` prints",
        ));
    };
    if version != 4 {
        return Err(help(
            format!("{file} is a Terraform state of format version {version}; eksnet reads version 4 (Terraform 0.12 and later)"),
            "run `terraform state pull > state.json` with Terraform 0.12 or later (it upgrades the format), and import that file",
        ));
    }
    serde_json::from_value(value).with_context(|| format!("{file} is a Terraform state of version 4, but its resources are not in the expected shape"))
}

impl TfState {
    /// Every instance of every resource, in the state's order.
    pub fn objects(&self) -> Vec<Object<'_>> {
        let mut out = vec![];
        for r in &self.resources {
            for i in &r.instances {
                out.push(Object { resource: r, instance: i, address: address(r, i) });
            }
        }
        out
    }
}

fn address(r: &TfResource, i: &TfInstance) -> String {
    let mut out = String::new();
    if let Some(m) = &r.module {
        out.push_str(m);
        out.push('.');
    }
    if r.mode == "data" {
        out.push_str("data.");
    }
    out.push_str(&r.type_);
    out.push('.');
    out.push_str(&r.name);
    match &i.index_key {
        Some(Value::Number(n)) => out.push_str(&format!("[{n}]")),
        Some(Value::String(s)) => out.push_str(&format!("[{}]", serde_json::to_string(s).unwrap_or_default())),
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_terraforms() {
        let text = r#"{"version": 4, "terraform_version": "1.5.7", "resources": [
            {"module": "module.vpc", "mode": "managed", "type": "aws_subnet", "name": "private", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"index_key": 0, "schema_version": 1, "attributes": {"id": "subnet-1"}}]},
            {"module": "module.eks", "mode": "managed", "type": "aws_iam_role_policy_attachment", "name": "this", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]",
             "instances": [{"index_key": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy", "schema_version": 0, "attributes": {}}]},
            {"mode": "data", "type": "aws_region", "name": "current", "provider": "provider[\"registry.terraform.io/hashicorp/aws\"]", "instances": [{"schema_version": 0, "attributes": {}}]}
        ]}"#;
        let state = parse(text, "t.json").unwrap();
        let addresses: Vec<String> = state.objects().iter().map(|o| o.address.clone()).collect();
        assert_eq!(
            addresses,
            [
                "module.vpc.aws_subnet.private[0]",
                "module.eks.aws_iam_role_policy_attachment.this[\"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy\"]",
                "data.aws_region.current"
            ]
        );
        assert_eq!(state.resources[0].provider_name(), "aws");
    }

    #[test]
    fn refuses_what_is_not_a_version_4_state() {
        let not_json = parse("resource \"aws_vpc\" \"x\" {}", "main.tf").unwrap_err().to_string();
        assert!(not_json.contains("main.tf is not a Terraform state: it is not JSON"), "{not_json}");
        let v3 = parse(r#"{"version": 3, "modules": []}"#, "old.tfstate").unwrap_err().to_string();
        assert!(v3.contains("format version 3; eksnet reads version 4"), "{v3}");
        let plan = parse(r#"{"format_version": "1.2"}"#, "plan.json").unwrap_err().to_string();
        assert!(plan.contains("has no `version`"), "{plan}");
    }
}
