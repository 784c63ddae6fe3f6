//! Interrupts (Ctrl-C, a CI runner cancelling a job: SIGINT, then SIGTERM, then SIGKILL).
//!
//! While a run changes things, the first SIGINT or SIGTERM asks it to stop: no new step starts,
//! the calls in flight return, waits end at once (what AWS is still doing goes on there, and the
//! next run finds it by its tags and waits for it, as after a crash), the state is written and
//! the lock released; then eksnet exits 130 (SIGINT) or 143 (SIGTERM). A second signal exits at
//! once. Outside that phase (refreshing, asking), a signal exits at once: nothing is half done,
//! and a local lock dies with the process.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// The exit code of the first signal (130 SIGINT, 143 SIGTERM), 0 while none came.
static SIGNALLED: AtomicI32 = AtomicI32::new(0);
/// Whether steps are running: then the first signal stops the run gracefully.
static CHANGING: AtomicBool = AtomicBool::new(false);

fn notify() -> &'static Notify {
    static NOTIFY: OnceLock<Notify> = OnceLock::new();
    NOTIFY.get_or_init(Notify::new)
}

/// Listens for SIGINT and SIGTERM for the rest of the process (call once, in the runtime).
pub fn install() {
    #[cfg(unix)]
    tokio::spawn(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else { return };
        loop {
            let code = tokio::select! {
                _ = int.recv() => 130,
                _ = term.recv() => 143,
            };
            if SIGNALLED.load(Ordering::SeqCst) != 0 || !CHANGING.load(Ordering::SeqCst) {
                eprintln!("\nInterrupted.");
                std::process::exit(code);
            }
            SIGNALLED.store(code, Ordering::SeqCst);
            eprintln!("\nInterrupt: no new step starts; finishing the calls in flight (a second signal exits at once)…");
            notify().notify_waiters();
        }
    });
}

/// Marks the phase in which steps run (a signal then stops the run gracefully).
pub fn changing(on: bool) {
    CHANGING.store(on, Ordering::SeqCst);
}

/// The exit code of the signal that asked the run to stop, if one did.
pub fn requested() -> Option<i32> {
    match SIGNALLED.load(Ordering::SeqCst) {
        0 => None,
        code => Some(code),
    }
}

/// Sleeps `d`, or less when an interrupt comes: then `Err(())`.
pub async fn sleep(d: Duration) -> Result<(), ()> {
    let interrupted = notify().notified();
    if requested().is_some() {
        return Err(());
    }
    tokio::select! {
        _ = tokio::time::sleep(d) => Ok(()),
        _ = interrupted => Err(()),
    }
}

/// The error a wait ends with when the run was interrupted.
pub fn stopped(what: &str) -> crate::provider::ApiError {
    crate::provider::ApiError::new(INTERRUPTED, format!("interrupted while waiting for {what}; it goes on in AWS and the next run waits for it"))
}

/// The code of `stopped`.
pub const INTERRUPTED: &str = "Interrupted";
