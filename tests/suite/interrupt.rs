//! Interrupts: the first SIGINT or SIGTERM stops a run within seconds, never waiting out a
//! long AWS wait, records what is still converging, releases the lock; the next run continues.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::common::{LocalCloud, reference_stack};

const REGION: &str = "ap-southeast-2";

/// Sends `signal` to the child once `operation` has been called, and returns how long it took
/// to exit after the signal, with its exit code and what it printed.
fn interrupt_after(cloud: &LocalCloud, mut child: Child, operation: &str, signal: &str) -> (Duration, i32, String) {
    while cloud.positions(operation).is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before {operation}");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let sent = Instant::now();
    let status = std::process::Command::new("kill").arg(format!("-{signal}")).arg(child.id().to_string()).status().unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    (sent.elapsed(), out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into())
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_during_cluster_creation_and_sigterm_during_destroy_stop_within_seconds() {
    // Cluster CREATING lasts 27 s and DELETING 15 s at this scale: far longer than the exit may take.
    let cloud = LocalCloud::start_with(&["--profile", "realistic", "--scale", "20"]);
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let apply = ["-f", stack.as_str(), "apply", "--auto-approve", "--poll-interval", "1s"];

    let child = eksnet.command(&apply).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let (took, code, stderr) = interrupt_after(&cloud, child, "CreateCluster", "INT");
    assert_eq!(code, 130, "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?} to stop:\n{stderr}");
    assert!(stderr.contains("Interrupted: ") && stderr.contains("still converging in AWS (recorded)"), "{stderr}");
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    let status = eks.describe_cluster().name("CNICustomNetworkDemoEKS").send().await.unwrap().cluster().and_then(|c| c.status().cloned());
    assert_eq!(status.map(|s| s.as_str().to_string()).as_deref(), Some("CREATING"), "the cluster goes on in AWS");

    // No lock is left; the next run waits for the cluster and finishes, creating nothing twice.
    let again = eksnet.run(&apply).ok();
    assert!(again.stderr.contains("Apply complete"), "{}", again.stderr);
    assert_eq!(cloud.positions("CreateCluster").len(), 1, "the cluster was created once");
    assert_eq!(eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]).code, 0);

    let destroy = ["-f", stack.as_str(), "destroy", "--auto-approve", "--poll-interval", "1s"];
    let child = eksnet.command(&destroy).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let (took, code, stderr) = interrupt_after(&cloud, child, "DeleteCluster", "TERM");
    assert_eq!(code, 143, "{stderr}");
    assert!(took < Duration::from_secs(5), "took {took:?} to stop:\n{stderr}");
    assert!(stderr.contains("run destroy again"), "{stderr}");
    let out = eksnet.run(&destroy).ok();
    assert!(out.stderr.contains("Destroy complete"), "{}", out.stderr);
    assert!(eksnet.run(&["-f", &stack, "state", "list"]).ok().stdout.is_empty());
}
