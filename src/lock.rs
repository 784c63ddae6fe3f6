//! An exclusive lock on a state, held for a whole run, naming its holder.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::bail;
use serde::{Deserialize, Serialize};

use crate::state::suffixed;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub pid: u32,
    pub host: String,
    pub command: String,
    pub since: String,
}

impl LockInfo {
    /// This process's claim, for `command`.
    pub fn new(command: &str) -> Self {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            pid: std::process::id(),
            host: hostname(),
            command: command.into(),
            since: crate::reporter::timestamp(),
        }
    }

    pub(crate) fn describe(&self) -> String {
        format!("`{}` (pid {} on {}, since {}, lock id {})", self.command, self.pid, self.host, self.since, self.id)
    }

    /// True when the holder ran on this host and its process no longer exists.
    pub(crate) fn holder_is_gone(&self) -> bool {
        self.host == hostname() && cfg!(target_os = "linux") && !Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
    pub info: LockInfo,
}

pub fn lock_path(state: &Path) -> PathBuf {
    suffixed(state, ".lock")
}

impl Lock {
    /// Takes the lock, waiting up to `timeout` for a holder to let go.
    pub fn acquire(state: &Path, command: &str, timeout: Duration) -> anyhow::Result<Lock> {
        let path = lock_path(state);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir)?;
        }
        let info = LockInfo::new(command);
        let deadline = Instant::now() + timeout;
        loop {
            let mut options = fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                options.mode(0o600);
            }
            match options.open(&path) {
                Ok(mut file) => {
                    file.write_all(serde_json::to_string_pretty(&info)?.as_bytes())?;
                    file.sync_all()?;
                    return Ok(Lock { path, info });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    if Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(250));
                        continue;
                    }
                    return Err(held_error(read(&path), &path.display().to_string()));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        if read(&self.path).is_some_and(|h| h.id == self.info.id) {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Why a lock cannot be taken, naming its holder and the way out.
pub(crate) fn held_error(holder: Option<LockInfo>, location: &str) -> anyhow::Error {
    match holder {
        Some(h) if h.holder_is_gone() => crate::diagnostic::help(
            format!("the state is locked by {}, but that process is gone (it crashed or was killed)", h.describe()),
            format!("if no other eksnet runs on this state, run `eksnet state unlock {}`", h.id),
        ),
        Some(h) => crate::diagnostic::help(
            format!("the state is locked by {}", h.describe()),
            format!("wait for it to finish, pass --lock-timeout 10m to wait here, or if it is dead run `eksnet state unlock {}`", h.id),
        ),
        None => anyhow::anyhow!("the state is locked ({location} exists but cannot be read)"),
    }
}

pub fn read(path: &Path) -> Option<LockInfo> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// Removes a lock by id, refusing when the id does not match the current holder.
pub fn unlock(state: &Path, id: &str) -> anyhow::Result<LockInfo> {
    let path = lock_path(state);
    match read(&path) {
        None => bail!("the state {} is not locked", state.display()),
        Some(h) if h.id != id => bail!("the lock is held by {} whose id is not `{id}`", h.describe()),
        Some(h) => {
            fs::remove_file(&path)?;
            Ok(h)
        }
    }
}

pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown-host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_fails_at_once_naming_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("x.state.json");
        let first = Lock::acquire(&state, "eksnet apply", Duration::ZERO).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(lock_path(&state)).unwrap().permissions().mode() & 0o777, 0o600, "the lock names the host and command");
        }
        let err = Lock::acquire(&state, "eksnet destroy", Duration::ZERO).unwrap_err().to_string();
        assert!(err.contains("locked by `eksnet apply`"), "{err}");
        assert!(err.contains(&first.info.id), "{err}");
        drop(first);
        let again = Lock::acquire(&state, "eksnet destroy", Duration::ZERO).unwrap();
        assert!(unlock(&state, "nope").is_err());
        let id = again.info.id.clone();
        unlock(&state, &id).unwrap();
    }
}
