//! No credential or token in the state, the output (verbose included) or the plan JSON; the
//! state (and its backup) is readable by the owner only.

use crate::common::{LocalCloud, reference_stack};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEYsecret";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKENdoNotLeakMe0123456789";

#[test]
fn credentials_and_tokens_never_reach_state_output_or_plans() {
    // Strict, but the EKS token's signature is not checked: these made-up credentials are
    // unknown to localcloud's STS (docs/aws-behaviour.md row 7).
    let cloud = LocalCloud::start_with(&["--profile", "none", "--strict", "--config", r#"{"ec2_consistency": false, "token_signature": false}"#]);
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let creds = [("AWS_SECRET_ACCESS_KEY", SECRET), ("AWS_SESSION_TOKEN", SESSION_TOKEN)];
    let mut seen = String::new();
    for args in [
        vec!["-v", "-f", &stack, "plan", "--format", "json", "--out", "plan.json"],
        vec!["-v", "-f", &stack, "apply", "--auto-approve"],
        vec!["-v", "-f", &stack, "plan", "--format", "json"],
        vec!["-v", "-f", &stack, "output", "--json"],
        vec!["-v", "-f", &stack, "state", "show", "eks_cluster.main"],
    ] {
        let out = eksnet.run_with(&args, &creds).ok();
        seen.push_str(&out.stdout);
        seen.push_str(&out.stderr);
    }
    let state = eksnet.path(".eksnet/cni-custom-networking-demo.state.json");
    let backup = eksnet.path(".eksnet/cni-custom-networking-demo.state.json.backup");
    for file in [&state, &backup, &eksnet.path("plan.json")] {
        seen.push_str(&std::fs::read_to_string(file).unwrap());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(file).unwrap().permissions().mode() & 0o777, 0o600, "{}", file.display());
        }
    }
    // What a token would look like: EKS tokens, presigned STS URLs and their signatures.
    for secret in [SECRET, SESSION_TOKEN, "k8s-aws-v1.", "X-Amz-Signature", "X-Amz-Security-Token"] {
        assert!(!seen.contains(secret), "`{secret}` leaked into the state, a plan or the output");
    }
    // The run did authenticate with them: the calls reached the cloud.
    assert!(cloud.requests().iter().any(|r| r["operation"] == "CreateCluster"));
}
