//! The test harness: a private localcloud per test, and a builder that runs the real binary.

use std::path::PathBuf;
use std::process::Command;

use aws_config::{BehaviorVersion, Region};
use serde_json::Value;

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn reference_stack() -> PathBuf {
    repo().join("stacks/custom-networking.yaml")
}

/// A small network-only stack (VPC with the pod CIDR, private and intra subnets in two AZs of
/// us-west-2): quick to apply, for tests of the engine rather than of the architecture.
pub fn small_network(name: &str) -> String {
    format!(
        "name: {name}
region: us-west-2
availability_zones: [a, b]
tags: {{team: platform}}
vpc:
  cidr: 10.0.0.0/16
  secondary_cidrs: [100.64.0.0/16]
subnets:
  private: {{cidrs: [10.0.1.0/24, 10.0.2.0/24]}}
  intra: {{cidrs: [100.64.1.0/24, 100.64.2.0/24]}}
"
    )
}

/// The reference stack under another name and cluster name, with `edit` applied to its text,
/// written into the work directory (templates found where they are).
pub fn reference_variant(eksnet: &Eksnet, name: &str, cluster: &str, edit: impl Fn(String) -> String) -> String {
    let text = std::fs::read_to_string(reference_stack()).unwrap();
    let templates = repo().join("templates").display().to_string();
    let text = text
        .replace("name: cni-custom-networking-demo", &format!("name: {name}"))
        .replace("name: CNICustomNetworkDemoEKS", &format!("name: {cluster}"))
        .replace("../templates", &templates);
    let path = eksnet.path(&format!("{name}.yaml"));
    std::fs::write(&path, edit(text)).unwrap();
    path.display().to_string()
}

/// The reference stack under another name and cluster name.
pub fn reference_copy(eksnet: &Eksnet, name: &str, cluster: &str) -> String {
    reference_variant(eksnet, name, cluster, |t| t)
}

/// A private localcloud instance, stopped when dropped.
pub struct LocalCloud {
    dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl LocalCloud {
    /// A private instance as strict as AWS (every switch of docs/aws-behaviour.md on, EC2
    /// eventual consistency included), without latency.
    pub fn start() -> LocalCloud {
        Self::start_with(&["--profile", "none", "--strict"])
    }

    /// A private instance started with `scripts/localcloud up ARGS` (e.g. a latency profile).
    pub fn start_with(args: &[&str]) -> LocalCloud {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new(repo().join("scripts/localcloud")).arg("up").args(args).arg("--dir").arg(dir.path()).output().expect("scripts/localcloud runs");
        assert!(out.status.success(), "localcloud up failed:\n{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let env = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("export "))
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.trim_matches(|c| c == '\'' || c == '"').to_string()))
            .collect();
        LocalCloud { dir, env }
    }

    pub fn var(&self, key: &str) -> &str {
        self.env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("localcloud did not export {key}"))
    }

    /// Forgets every AWS and EKS object and every fault rule (the request log is kept), so one
    /// instance can serve many runs of a test instead of paying a start each time.
    pub fn reset(&self) {
        self.control(&["reset"]);
    }

    /// Ends EC2's consistency windows (docs/aws-behaviour.md row 1), as a few seconds passing on
    /// AWS would: a test's own SDK checks right after a run see what the run made.
    pub fn settle(&self) {
        self.control(&["settle"]);
    }

    /// Runs `scripts/localcloud <args> --dir <this instance>` and returns its stdout.
    pub fn control(&self, args: &[&str]) -> String {
        let out = Command::new(repo().join("scripts/localcloud")).args(args).arg("--dir").arg(self.dir.path()).output().expect("scripts/localcloud runs");
        assert!(out.status.success(), "localcloud {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into()
    }

    /// Every request localcloud has answered so far.
    pub fn requests(&self) -> Vec<Value> {
        std::fs::read_to_string(self.var("LOCALCLOUD_REQUEST_LOG"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("request log lines are JSON"))
            .collect()
    }

    pub async fn config(&self, region: &str) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(region.to_string()))
            .endpoint_url(self.var("AWS_ENDPOINT_URL"))
            .credentials_provider(aws_sdk_ec2::config::Credentials::new("testing", "testing", None, None, "test"))
            .load()
            .await
    }

    pub async fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        aws_sdk_ec2::Client::new(&self.config(region).await)
    }

    /// Adds a localcloud fault rule (see localcloud/README.md).
    pub fn fault(&self, rule: serde_json::Value) {
        let out = Command::new(repo().join("scripts/localcloud"))
            .args(["fault", "--dir"])
            .arg(self.dir.path())
            .arg(rule.to_string())
            .output()
            .expect("scripts/localcloud runs");
        assert!(out.status.success(), "fault rule refused: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// How many calls so far changed something (AWS calls other than Describe/List/Get, and
    /// Kubernetes writes), to assert that a refused run changed nothing.
    pub fn changes(&self) -> usize {
        let reads = ["Describe", "List", "Get", "GET "];
        self.requests().iter().filter(|r| r["operation"].as_str().is_some_and(|op| !reads.iter().any(|p| op.starts_with(p)))).count()
    }

    /// Positions in the request log of every call to `operation`.
    pub fn positions(&self, operation: &str) -> Vec<usize> {
        self.requests().iter().enumerate().filter(|(_, r)| r["operation"] == operation).map(|(i, _)| i).collect()
    }

    /// eksnet in a fresh working directory of its own, pointed at this cloud.
    pub fn eksnet(&self) -> Eksnet {
        let work = tempfile::tempdir().expect("temp dir");
        Eksnet { env: self.env.clone(), work }
    }
}

impl Drop for LocalCloud {
    fn drop(&mut self) {
        let _ = Command::new(repo().join("scripts/localcloud")).args(["down", "--dir"]).arg(self.dir.path()).output();
    }
}

/// The eksnet binary the tests run: EKSNET_BIN runs another build (a release binary, or a copy
/// that a concurrent build in a shared target directory cannot replace mid-run).
fn binary() -> PathBuf {
    std::env::var_os("EKSNET_BIN").map(PathBuf::from).unwrap_or_else(|| env!("CARGO_BIN_EXE_eksnet").into())
}

/// Runs the real binary with the cloud's environment, in its own working directory.
pub struct Eksnet {
    env: Vec<(String, String)>,
    pub work: tempfile::TempDir,
}

#[derive(Debug)]
pub struct Out {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn ok(self) -> Out {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }
}

impl Eksnet {
    pub fn run(&self, args: &[&str]) -> Out {
        self.run_with(args, &[])
    }

    /// The command `run` would run, for tests that need the process itself (e.g. to kill it).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(binary());
        cmd.args(args);
        self.environment(&mut cmd);
        cmd
    }

    /// The working directory and environment every command of a test runs with.
    fn environment(&self, cmd: &mut Command) {
        // The cost estimate is off unless a test is about it (tests/suite/cost.rs): plans stay
        // the same whatever the price list says, and no test shares the user's price cache.
        cmd.current_dir(self.work.path()).env("CI", "true").env("NO_COLOR", "1").env("EKSNET_COST", "off").env_remove("EKSNET_REGION");
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
    }

    pub fn run_with(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Out {
        let mut cmd = self.command(args);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("eksnet runs");
        Out { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
    }

    /// A shell command line (`sh -c`) as a user types it, `eksnet` on the PATH, in the working
    /// directory and with the cloud's environment.
    pub fn shell(&self, line: &str) -> Out {
        let dir = tempfile::tempdir().expect("temp dir");
        std::os::unix::fs::symlink(binary(), dir.path().join("eksnet")).expect("link eksnet");
        let path = std::env::join_paths(std::iter::once(dir.path().to_path_buf()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())))
            .expect("PATH");
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(line).env("PATH", path);
        self.environment(&mut cmd);
        let out = cmd.output().expect("sh runs");
        Out { code: out.status.code().unwrap_or(-1), stdout: String::from_utf8_lossy(&out.stdout).into(), stderr: String::from_utf8_lossy(&out.stderr).into() }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.work.path().join(rel)
    }

    /// A kubeconfig for a cluster that no stack knows yet (one built as Terraform would), its
    /// user running `eksnet token` like the one `eksnet kubeconfig` writes.
    pub fn kubeconfig(&self, cluster: &str, region: &str, endpoint: &str, ca_data: &str) -> PathBuf {
        let path = self.path("kubeconfig");
        let user = serde_json::json!({"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": binary(),
            "args": ["token", "--cluster", cluster, "--region", region],
            "interactiveMode": "Never",
        }});
        let config = serde_json::json!({
            "apiVersion": "v1", "kind": "Config", "current-context": cluster,
            "clusters": [{"name": cluster, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
            "users": [{"name": cluster, "user": user}],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
        });
        std::fs::write(&path, config.to_string()).expect("write kubeconfig");
        path
    }
}

/// `kubectl` as a user runs it, with the cloud's environment; `input` is its stdin. Panics
/// unless it succeeds; returns its stdout.
pub fn kubectl(cloud: &LocalCloud, kubeconfig: &std::path::Path, args: &[&str], input: Option<&str>) -> String {
    use std::io::Write;
    let mut child = Command::new("kubectl")
        .envs(cloud.env.iter().map(|(k, v)| (k, v)))
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    child.stdin.take().unwrap().write_all(input.unwrap_or_default().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into()
}
