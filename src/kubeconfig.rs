//! Kubeconfig entries for the stack's cluster: the user runs `eksnet token`, so kubectl gets a
//! fresh EKS token from the same credentials eksnet uses. Existing files are merged, not replaced.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::{Value, json};

pub struct ClusterAccess {
    pub name: String,
    pub arn: String,
    pub endpoint: String,
    pub ca_data: String,
    pub region: String,
}

/// The kubeconfig file kubectl would read: the first of $KUBECONFIG, else ~/.kube/config.
pub fn default_path() -> anyhow::Result<PathBuf> {
    if let Some(first) = std::env::var_os("KUBECONFIG").and_then(|v| std::env::split_paths(&v).next()).filter(|p| !p.as_os_str().is_empty()) {
        return Ok(first);
    }
    let home = std::env::var_os("HOME").context("neither KUBECONFIG nor HOME is set; pass --write PATH")?;
    Ok(PathBuf::from(home).join(".kube/config"))
}

fn entry(access: &ClusterAccess, eksnet: &str) -> (Value, Value, Value) {
    let name = &access.arn;
    let cluster = json!({"name": name, "cluster": {"server": access.endpoint, "certificate-authority-data": access.ca_data}});
    let user = json!({"name": name, "user": {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": eksnet,
        "args": ["token", "--cluster", access.name, "--region", access.region],
        "interactiveMode": "Never",
    }}});
    let context = json!({"name": name, "context": {"cluster": name, "user": name}});
    (cluster, user, context)
}

/// Adds or replaces the cluster's entries (by name) and makes it the current context.
pub fn merge(existing: Option<&str>, access: &ClusterAccess, eksnet: &str) -> anyhow::Result<Value> {
    let mut config: Value = match existing.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => serde_saphyr::from_str(text).context("the existing kubeconfig is not valid YAML")?,
        None => json!({"apiVersion": "v1", "kind": "Config", "preferences": {}}),
    };
    if !config.is_object() {
        bail!("the existing kubeconfig is not a mapping");
    }
    let (cluster, user, context) = entry(access, eksnet);
    for (key, item) in [("clusters", cluster), ("users", user), ("contexts", context)] {
        let list = config[key].as_array().cloned().unwrap_or_default();
        let mut list: Vec<Value> = list.into_iter().filter(|v| v["name"] != item["name"]).collect();
        list.push(item);
        config[key] = Value::Array(list);
    }
    config["current-context"] = json!(access.arn);
    Ok(config)
}

pub fn write(path: &Path, access: &ClusterAccess, eksnet: &str) -> anyhow::Result<()> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let config = merge(existing.as_deref(), access, eksnet)?;
    let text = serde_saphyr::to_string(&config).context("cannot render the kubeconfig")?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    // Written beside and renamed over, private to the user like every credential file.
    let tmp = crate::state::suffixed(path, ".eksnet-tmp");
    std::io::Write::write_all(&mut crate::state::private_file(&tmp)?, text.as_bytes())?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_into_an_existing_config_and_replaces_its_own_entries() {
        let access = ClusterAccess {
            name: "demo".into(),
            arn: "arn:aws:eks:us-west-2:1:cluster/demo".into(),
            endpoint: "https://x".into(),
            ca_data: "Q0E=".into(),
            region: "us-west-2".into(),
        };
        let existing = "apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster: {server: https://o}\ncurrent-context: other\n";
        let once = merge(Some(existing), &access, "/bin/eksnet").unwrap();
        let twice = merge(Some(&serde_saphyr::to_string(&once).unwrap()), &access, "/bin/eksnet").unwrap();
        assert_eq!(twice["clusters"].as_array().unwrap().len(), 2);
        assert_eq!(twice["users"].as_array().unwrap().len(), 1);
        assert_eq!(twice["current-context"], "arn:aws:eks:us-west-2:1:cluster/demo");
        assert_eq!(twice["users"][0]["user"]["exec"]["args"], json!(["token", "--cluster", "demo", "--region", "us-west-2"]));
    }
}
