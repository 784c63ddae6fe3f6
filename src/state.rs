//! The local state: what eksnet created, written after every finished resource, atomically.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::address::Address;
use crate::provider::Observed;
use crate::value::Attrs;

pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// Grows by one with every write; a saved plan records it.
    pub serial: u64,
    /// Identifies one state's history; a state created afresh gets a new one.
    pub lineage: String,
    pub stack: String,
    pub resources: BTreeMap<Address, Record>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// None while a create is in flight: the object may or may not exist yet, and the next
    /// refresh finds it by its tags or natural key.
    pub id: Option<String>,
    /// Idempotency token of the create, reused when the create is retried.
    pub token: String,
    #[serde(default)]
    pub attrs: Attrs,
    #[serde(default)]
    pub outputs: Attrs,
    #[serde(default)]
    pub deps: Vec<Address>,
}

impl Record {
    pub fn observed(&self) -> Option<Observed> {
        Some(Observed { id: self.id.clone()?, attrs: self.attrs.clone(), outputs: self.outputs.clone() })
    }
}

impl State {
    pub fn new(stack: &str) -> Self {
        State { format_version: FORMAT_VERSION, serial: 0, lineage: uuid::Uuid::new_v4().to_string(), stack: stack.into(), resources: BTreeMap::new() }
    }

    /// The records that are part of the object at `address`: those of a kind without marks of
    /// its own (`parent_of` names the attribute holding its parent's id, `provider::Schema`)
    /// whose parent is that object (a subnet's route table association, a group's rules, a
    /// VPC's secondary CIDR). They are found only through it, so they go where it goes.
    pub fn parts(&self, address: &Address, parent_of: impl Fn(&str) -> Option<&'static str>) -> Vec<Address> {
        let Some(id) = self.resources.get(address).and_then(|r| r.id.as_deref()) else { return vec![] };
        self.resources
            .iter()
            .filter(|(a, r)| *a != address && parent_of(&a.kind).is_some_and(|p| r.attrs.get(p).and_then(serde_json::Value::as_str) == Some(id)))
            .map(|(a, _)| a.clone())
            .collect()
    }

    /// The other records that name `address` among their dependencies.
    pub fn dependents(&self, address: &Address) -> Vec<Address> {
        self.resources.iter().filter(|(a, r)| *a != address && r.deps.contains(address)).map(|(a, _)| a.clone()).collect()
    }

    /// Moves the record at `from` to `to`, and every dependency on it with it.
    pub fn rename(&mut self, from: &Address, to: &Address) {
        if let Some(record) = self.resources.remove(from) {
            self.resources.insert(to.clone(), record);
        }
        for record in self.resources.values_mut() {
            for dep in record.deps.iter_mut().filter(|d| *d == from) {
                *dep = to.clone();
            }
        }
    }
}

/// Where the state lives and how it is written.
#[derive(Debug, Clone)]
pub struct StateFile {
    pub path: PathBuf,
}

impl StateFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StateFile { path: path.into() }
    }

    pub fn backup_path(&self) -> PathBuf {
        suffixed(&self.path, ".backup")
    }

    pub fn load(&self) -> anyhow::Result<Option<State>> {
        let text = match fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(e).with_context(|| format!("cannot read state {}", self.path.display()));
            }
        };
        let state = parse(&text, &self.path.display().to_string(), &self.backup_path().display().to_string())?;
        Ok(Some(state))
    }

    /// Writes the state: temp file, fsync, keep the previous version as backup, rename.
    /// A crash at any point leaves either the old or the new state in place, never half of one.
    pub fn save(&self, state: &mut State) -> anyhow::Result<()> {
        state.serial += 1;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let tmp = suffixed(&self.path, &format!(".tmp{}", std::process::id()));
        let mut text = serde_json::to_vec_pretty(state)?;
        text.push(b'\n');
        {
            let mut file = private_file(&tmp)?;
            file.write_all(&text)?;
            file.sync_all()?;
        }
        if self.path.exists() {
            let backup = self.backup_path();
            let _ = fs::remove_file(&backup);
            fs::hard_link(&self.path, &backup).or_else(|_| fs::copy(&self.path, &backup).map(|_| ()))?;
        }
        fs::rename(&tmp, &self.path).with_context(|| format!("cannot write state {}", self.path.display()))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty())
            && let Ok(d) = fs::File::open(dir)
        {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

/// Reads a state document; `previous` says where the last good version is kept.
pub fn parse(text: &str, location: &str, previous: &str) -> anyhow::Result<State> {
    let state: State = serde_json::from_str(text).with_context(|| format!("state {location} is not valid (the previous version is in {previous})"))?;
    if state.format_version > FORMAT_VERSION {
        bail!("state {location} has format version {}, newer than this eksnet understands ({FORMAT_VERSION}); upgrade eksnet", state.format_version);
    }
    Ok(state)
}

pub(crate) fn suffixed(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// A new file readable and writable by the owner only.
pub(crate) fn private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, attrs: serde_json::Value, deps: &[&Address]) -> Record {
        let serde_json::Value::Object(attrs) = attrs else { unreachable!() };
        Record { id: Some(id.into()), token: String::new(), attrs, outputs: Attrs::new(), deps: deps.iter().map(|d| (*d).clone()).collect() }
    }

    #[test]
    fn parts_dependents_and_a_rename() {
        let (vpc, subnet, association, cidr) = (
            Address::new("vpc", "main"),
            Address::keyed("subnet", "private", "a"),
            Address::keyed("route_table_association", "private", "a"),
            Address::keyed("vpc_cidr", "secondary", "100.64.0.0/16"),
        );
        let parent_of = |kind: &str| match kind {
            "route_table_association" => Some("subnet_id"),
            "vpc_cidr" => Some("vpc_id"),
            _ => None,
        };
        let mut state = State::new("x");
        state.resources.insert(vpc.clone(), record("vpc-1", serde_json::json!({}), &[]));
        state.resources.insert(cidr.clone(), record("assoc-1", serde_json::json!({"vpc_id": "vpc-1"}), &[&vpc]));
        state.resources.insert(subnet.clone(), record("subnet-1", serde_json::json!({"vpc_id": "vpc-1"}), &[&vpc]));
        state.resources.insert(association.clone(), record("rtbassoc-1", serde_json::json!({"subnet_id": "subnet-1"}), &[&subnet]));
        assert_eq!(state.parts(&vpc, parent_of), std::slice::from_ref(&cidr), "a subnet names the VPC but has marks of its own");
        assert_eq!(state.parts(&subnet, parent_of), std::slice::from_ref(&association));
        assert_eq!(state.dependents(&vpc), [subnet.clone(), cidr.clone()]);

        let renamed = Address::keyed("subnet", "nodes", "a");
        state.rename(&subnet, &renamed);
        assert!(!state.resources.contains_key(&subnet));
        assert_eq!(state.resources[&renamed].id.as_deref(), Some("subnet-1"));
        assert_eq!(state.resources[&association].deps, [renamed]);
    }

    #[test]
    fn saves_atomically_with_backup_and_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("s/x.state.json"));
        assert!(file.load().unwrap().is_none());
        let mut state = State::new("x");
        file.save(&mut state).unwrap();
        state.resources.insert(
            Address::new("vpc", "main"),
            Record { id: Some("vpc-1".into()), token: "t".into(), attrs: Attrs::new(), outputs: Attrs::new(), deps: vec![] },
        );
        file.save(&mut state).unwrap();
        let loaded = file.load().unwrap().unwrap();
        assert_eq!(loaded.serial, 2);
        assert_eq!(loaded.resources.len(), 1);
        let backup: State = serde_json::from_str(&fs::read_to_string(file.backup_path()).unwrap()).unwrap();
        assert_eq!(backup.serial, 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(&file.path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
