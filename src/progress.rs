//! What a long step says while it runs. A resource that retries (DependencyViolation while
//! AWS releases what held an object) or polls (a cluster CREATING) says what it waits on; the
//! engine routes it to the reporter under the step's address, and the reporter decides how often
//! it is shown (every ~30 s, or every time with `--verbose`). Outside a step nothing is said.

use std::future::Future;

use tokio::sync::mpsc::UnboundedSender;

tokio::task_local! {
    static SINK: (usize, UnboundedSender<(usize, String)>);
}

/// Runs `f` as step `step`: what it says goes to `sink`, tagged with the step.
pub async fn scope<F: Future>(step: usize, sink: UnboundedSender<(usize, String)>, f: F) -> F::Output {
    SINK.scope((step, sink), f).await
}

/// Says `message` for the running step, if there is one.
pub fn say(message: impl Into<String>) {
    let _ = SINK.try_with(|(step, sink)| sink.send((*step, message.into())));
}
