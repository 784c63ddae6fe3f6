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
    /// For a lock object that outlives its holder (S3): when it expires unless renewed, in Unix
    /// seconds. A lock without it (an older eksnet's) never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<u64>,
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
            expires: None,
        }
    }

    /// Whether its lease has run out (`now`: Unix seconds).
    pub(crate) fn expired(&self, now: u64) -> bool {
        self.expires.is_some_and(|e| e < now)
    }

    pub(crate) fn describe(&self) -> String {
        format!("`{}` (pid {} on {}, since {}, lock id {})", self.command, self.pid, self.host, self.since, self.id)
    }

    /// True when the holder ran on this host and its process no longer exists (an S3 lock
    /// object outlives its holder; a local lock dies with it).
    pub(crate) fn holder_is_gone(&self) -> bool {
        self.host == hostname() && cfg!(target_os = "linux") && !Path::new(&format!("/proc/{}", self.pid)).exists()
    }
}

/// A held lock: an OS advisory lock (flock) on the lock file, held by this process's open file,
/// so that a process that dies (kill -9, a runner gone) never leaves a lock behind. The file
/// names the holder for the message another run prints; it is emptied on release, never
/// removed (a removed file could be locked by a waiter while a third run locks a new one).
#[derive(Debug)]
pub struct Lock {
    file: fs::File,
}

pub fn lock_path(state: &Path) -> PathBuf {
    suffixed(state, ".lock")
}

fn open(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
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
        let mut file = open(&path)?;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    file.set_len(0)?;
                    file.write_all(serde_json::to_string_pretty(&info)?.as_bytes())?;
                    file.sync_all()?;
                    return Ok(Lock { file });
                }
                Err(fs::TryLockError::WouldBlock) => {
                    if Instant::now() < deadline {
                        std::thread::sleep(Duration::from_millis(250));
                        continue;
                    }
                    return Err(held_error(read(&path), &path.display().to_string()));
                }
                Err(fs::TryLockError::Error(e)) => return Err(e.into()),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Emptied first, then unlocked (by closing): a waiter never reads a released holder.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
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

/// The holder a lock file names (None for an empty file: nobody holds it).
pub fn read(path: &Path) -> Option<LockInfo> {
    serde_json::from_str(&fs::read_to_string(path).ok()?).ok()
}

/// Clears a lock file by id. A local lock dies with its holder, so this is only for lock files
/// an older eksnet left (it removed them itself); a live holder's lock is refused.
pub fn unlock(state: &Path, id: &str) -> anyhow::Result<LockInfo> {
    let path = lock_path(state);
    let holder = match read(&path) {
        None => bail!("the state {} is not locked", state.display()),
        Some(h) if h.id != id => bail!("the lock is held by {} whose id is not `{id}`", h.describe()),
        Some(h) => h,
    };
    let file = open(&path)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0)?;
            Ok(holder)
        }
        Err(fs::TryLockError::WouldBlock) => bail!("the lock is held by {}, which is running; wait for it to finish", holder.describe()),
        Err(fs::TryLockError::Error(e)) => Err(e.into()),
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
        assert!(err.contains(&read(&lock_path(&state)).unwrap().id), "{err}");
        drop(first);
        let again = Lock::acquire(&state, "eksnet destroy", Duration::ZERO).unwrap();
        assert!(unlock(&state, "nope").is_err());
        let id = read(&lock_path(&state)).unwrap().id;
        assert!(unlock(&state, &id).unwrap_err().to_string().contains("which is running"), "a live holder keeps its lock");
        drop(again);
        assert!(read(&lock_path(&state)).is_none(), "a released lock names nobody");
    }

    #[test]
    fn a_lock_whose_holder_died_is_free_and_an_old_lock_file_can_be_cleared() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("x.state.json");
        // What an older eksnet (or a crashed one) leaves: a file naming a holder, no OS lock.
        let old = LockInfo::new("eksnet apply");
        fs::write(lock_path(&state), serde_json::to_string(&old).unwrap()).unwrap();
        assert_eq!(unlock(&state, &old.id).unwrap().id, old.id);
        fs::write(lock_path(&state), serde_json::to_string(&old).unwrap()).unwrap();
        let taken = Lock::acquire(&state, "eksnet apply", Duration::ZERO).expect("nobody holds the OS lock");
        assert_ne!(read(&lock_path(&state)).unwrap().id, old.id, "the file names the new holder");
        drop(taken);
    }
}
