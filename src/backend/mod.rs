//! Where the state lives: a local file (state.rs, lock.rs) or an S3 object (s3.rs), behind one
//! `Store` that loads, saves, locks and unlocks.

mod s3;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::cloud::CloudOptions;
use crate::diagnostic::help;
use crate::lock::{Lock, LockInfo};
use crate::state::{State, StateFile};

/// The stack's `state:` section, also recorded in saved plans.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "backend", rename_all = "snake_case")]
pub enum BackendConfig {
    /// `.eksnet/<stack>.state.json`, or the file `--state` names.
    #[default]
    Local,
    S3 {
        bucket: String,
        key: String,
        region: String,
        #[serde(default)]
        use_path_style: bool,
    },
}

pub enum Store {
    Local(StateFile),
    S3(s3::Remote),
}

/// A lock held for the run; release it when the run ends.
pub enum Held {
    Local(Lock),
    S3(Box<s3::RemoteLock>),
}

impl Held {
    /// What taking the lock had to say (a lock taken over from a holder whose lease ran out).
    pub fn warning(&self) -> Option<&str> {
        match self {
            Held::Local(_) => None,
            Held::S3(lock) => lock.took_over.as_deref(),
        }
    }

    /// Releases the lock; a lock that could not be released is returned as a warning for the
    /// user (the run itself is done: the next one meets the lock and is told how to remove it).
    pub async fn release(self) -> Option<String> {
        match self {
            Held::Local(lock) => {
                drop(lock);
                None
            }
            Held::S3(lock) => lock.release().await,
        }
    }
}

impl Store {
    /// Opens the store the stack (or a saved plan) names. `--state FILE` picks a local file and
    /// cannot be combined with a remote backend.
    pub async fn open(config: &BackendConfig, state_flag: Option<&Path>, stack: &str, cloud: &CloudOptions) -> anyhow::Result<Store> {
        match (config, state_flag) {
            (BackendConfig::Local, Some(path)) => Ok(Store::Local(StateFile::new(path))),
            (BackendConfig::Local, None) => Ok(Store::Local(StateFile::new(PathBuf::from(".eksnet").join(format!("{stack}.state.json"))))),
            (BackendConfig::S3 { bucket, key, .. }, Some(path)) => Err(help(
                format!("--state {} names a local file, but the stack keeps its state in s3://{bucket}/{key}", path.display()),
                format!("drop --state; to move a local state into S3, run `eksnet state push {}`", path.display()),
            )),
            (BackendConfig::S3 { bucket, key, region, use_path_style }, None) => {
                let options = CloudOptions { region: region.clone(), ..cloud.clone() };
                let config = crate::cloud::load(&options).await?;
                Ok(Store::S3(s3::Remote::new(&config, bucket, key, *use_path_style)))
            }
        }
    }

    /// `.eksnet/x.state.json` or `s3://bucket/key`, for messages.
    pub fn location(&self) -> String {
        match self {
            Store::Local(f) => f.path.display().to_string(),
            Store::S3(r) => r.location(),
        }
    }

    pub async fn load(&self) -> anyhow::Result<Option<State>> {
        match self {
            Store::Local(f) => f.load(),
            Store::S3(r) => r.load().await,
        }
    }

    /// Writes the state, one serial higher. A remote write fails rather than overwrite a state
    /// that changed since this run read it.
    pub async fn save(&self, state: &mut State) -> anyhow::Result<()> {
        match self {
            Store::Local(f) => f.save(state),
            Store::S3(r) => r.save(state).await,
        }
    }

    /// Takes the state's lock for `command`, waiting up to `timeout` for a holder to let go.
    pub async fn lock(&self, command: &str, timeout: Duration) -> anyhow::Result<Held> {
        match self {
            Store::Local(f) => Ok(Held::Local(Lock::acquire(&f.path, command, timeout)?)),
            Store::S3(r) => Ok(Held::S3(Box::new(r.lock(command, timeout).await?))),
        }
    }

    /// Removes the lock whose id is `id` (left by a run that died).
    pub async fn unlock(&self, id: &str) -> anyhow::Result<LockInfo> {
        match self {
            Store::Local(f) => crate::lock::unlock(&f.path, id),
            Store::S3(r) => r.unlock(id).await,
        }
    }
}

/// Checks a state about to replace `current` by `state push`: same stack, same history, and
/// not older than what is there (unless forced).
pub fn check_push(pushed: &State, current: Option<&State>, force: bool) -> anyhow::Result<()> {
    let Some(current) = current else { return Ok(()) };
    if pushed.stack != current.stack {
        bail!("the pushed state is of stack `{}`, but the stored state is of stack `{}`; push it to that stack's backend", pushed.stack, current.stack);
    }
    if force {
        return Ok(());
    }
    if pushed.lineage != current.lineage {
        return Err(help(
            format!("the pushed state has lineage {}, the stored one {}: they are different histories of the stack", pushed.lineage, current.lineage),
            "pass --force to replace the stored state anyway (`eksnet state pull > saved.json` first)",
        ));
    }
    if pushed.serial < current.serial {
        return Err(help(
            format!(
                "the pushed state is at serial {}, older than the stored state (serial {}): it moved on since you pulled it",
                pushed.serial, current.serial
            ),
            "pull again and redo the edit, or pass --force to replace it anyway",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_refuses_other_histories_and_older_serials() {
        let mut current = State::new("demo");
        current.serial = 7;
        let mut pushed = current.clone();
        assert!(check_push(&pushed, Some(&current), false).is_ok());
        assert!(check_push(&pushed, None, false).is_ok(), "an empty backend takes any state");
        pushed.serial = 6;
        let err = check_push(&pushed, Some(&current), false).unwrap_err().to_string();
        assert!(err.contains("serial 6, older than the stored state (serial 7)"), "{err}");
        assert!(check_push(&pushed, Some(&current), true).is_ok());
        let other = State::new("demo");
        let err = check_push(&other, Some(&current), false).unwrap_err().to_string();
        assert!(err.contains("different histories"), "{err}");
        let err = check_push(&State::new("prod"), Some(&current), true).unwrap_err().to_string();
        assert!(err.contains("stack `prod`"), "{err}");
    }
}
