//! The S3 state backend against the emulator's S3: a local state moved in with `state push`,
//! the lock object, a write that lost its `If-Match` race, versions kept, pull/push serial checks.

use std::process::Stdio;

use aws_sdk_s3::types::{BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration, VersioningConfiguration};
use serde_json::Value;

use crate::common::{Eksnet, LocalCloud, small_network};

const REGION: &str = "us-west-2";
const BUCKET: &str = "team-eksnet-state";
const KEY: &str = "stacks/remote-demo.state.json";

const PUBLIC: &str = "  public: {cidrs: [10.0.101.0/24, 10.0.102.0/24]}\n";

fn remote() -> String {
    format!("state:\n  backend: s3\n  bucket: {BUCKET}\n  key: {KEY}\n  use_path_style: true\n")
}

async fn s3_client(cloud: &LocalCloud) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&cloud.config(REGION).await).force_path_style(true).build())
}

async fn create_bucket(s3: &aws_sdk_s3::Client) {
    let location = CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::UsWest2).build();
    s3.create_bucket().bucket(BUCKET).create_bucket_configuration(location).send().await.unwrap();
}

async fn object(s3: &aws_sdk_s3::Client, key: &str) -> Option<Vec<u8>> {
    let out = s3.get_object().bucket(BUCKET).key(key).send().await.ok()?;
    Some(out.body.collect().await.unwrap().to_vec())
}

async fn remote_state(s3: &aws_sdk_s3::Client) -> Value {
    serde_json::from_slice(&object(s3, KEY).await.expect("the state object exists")).unwrap()
}

fn write_stack(eksnet: &Eksnet, text: &str) {
    std::fs::write(eksnet.path("stack.yaml"), text).unwrap();
}

async fn tagged_subnets(cloud: &LocalCloud) -> usize {
    let ec2 = cloud.ec2(REGION).await;
    let filter = aws_sdk_ec2::types::Filter::builder().name("tag:eksnet:stack").values("remote-demo").build();
    let all: Vec<_> = ec2.describe_subnets().filters(filter).into_paginator().items().send().try_collect().await.unwrap();
    all.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_backend_locks_keeps_versions_and_refuses_lost_updates() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let s3 = s3_client(&cloud).await;
    create_bucket(&s3).await;
    let enabled = VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build();
    s3.put_bucket_versioning().bucket(BUCKET).versioning_configuration(enabled).send().await.unwrap();

    // A team starts with a local state, then moves it into S3.
    write_stack(&eksnet, &small_network("remote-demo"));
    eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    let local: Value = serde_json::from_str(&std::fs::read_to_string(eksnet.path(".eksnet/remote-demo.state.json")).unwrap()).unwrap();
    write_stack(&eksnet, &format!("{}{}", small_network("remote-demo"), remote()));
    let pushed = eksnet.run(&["-f", "stack.yaml", "state", "push", ".eksnet/remote-demo.state.json"]).ok();
    assert!(pushed.stderr.contains(&format!("to s3://{BUCKET}/{KEY}")), "{}", pushed.stderr);
    let stored = remote_state(&s3).await;
    assert_eq!(stored["lineage"], local["lineage"]);
    assert_eq!(stored["resources"], local["resources"]);
    assert!(object(&s3, &format!("{KEY}.lock")).await.is_none(), "push released its lock");
    eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]).ok();
    let both = eksnet.run(&["-f", "stack.yaml", "--state", "x.json", "plan"]);
    assert_eq!(both.code, 1);
    assert!(both.stderr.contains(&format!("the stack keeps its state in s3://{BUCKET}/{KEY}")) && both.stderr.contains("drop --state"), "{}", both.stderr);

    // Another pipeline holds the lock: refused at once, naming it; a second If-None-Match put
    // of the lock object is what refuses it.
    let holder = serde_json::json!({"id": "lock-123", "pid": 4242, "host": "ci-runner-7", "command": "eksnet apply", "since": "2026-01-01T00:00:00.000Z"});
    let lock_key = format!("{KEY}.lock");
    s3.put_object().bucket(BUCKET).key(&lock_key).if_none_match("*").body(holder.to_string().into_bytes().into()).send().await.unwrap();
    let again = s3.put_object().bucket(BUCKET).key(&lock_key).if_none_match("*").body(b"{}".to_vec().into()).send().await.unwrap_err();
    assert_eq!(again.raw_response().map(|r| r.status().as_u16()), Some(412));
    let locked = eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]);
    assert_eq!(locked.code, 1);
    for expected in ["locked by `eksnet apply`", "ci-runner-7", "`eksnet -f stack.yaml state unlock lock-123`"] {
        assert!(locked.stderr.contains(expected), "missing `{expected}`:\n{}", locked.stderr);
    }
    let wrong = eksnet.run(&["-f", "stack.yaml", "state", "unlock", "lock-999"]);
    assert!(wrong.code == 1 && wrong.stderr.contains("whose id is not `lock-999`"), "{}", wrong.stderr);
    eksnet.run(&["-f", "stack.yaml", "state", "unlock", "lock-123"]).ok();
    assert!(object(&s3, &lock_key).await.is_none());

    // Someone rewrites the state object while a run is between two writes: the run's next
    // conditional write fails instead of overwriting it, and the next run converges.
    write_stack(&eksnet, &format!("{}{PUBLIC}{}", small_network("remote-demo"), remote()));
    cloud.control(&["fault", &serde_json::json!({"service": "ec2", "operation": "CreateSubnet", "hold": 3, "times": 1}).to_string()]);
    let mut child =
        eksnet.command(&["-f", "stack.yaml", "apply", "--auto-approve", "--parallelism", "1"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    loop {
        let rules: Value = serde_json::from_str(&cloud.control(&["fault", "--list"])).unwrap();
        if rules[0]["held"].as_u64() > Some(0) {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "apply ended without creating a subnet");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut body = object(&s3, KEY).await.unwrap();
    body.extend_from_slice(b"\n");
    s3.put_object().bucket(BUCKET).key(KEY).body(body.into()).send().await.unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("the state s3://{BUCKET}/{KEY} changed since this run read it")), "{stderr}");
    assert!(object(&s3, &lock_key).await.is_none(), "the failed run released its lock");
    cloud.control(&["fault", "--clear"]);
    eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]).ok();
    assert_eq!(tagged_subnets(&cloud).await, 6, "no subnet was created twice");

    // Every write is a version of the object (the bucket keeps them); no backup object needed.
    let versions = s3.list_object_versions().bucket(BUCKET).prefix(KEY).send().await.unwrap();
    let state_versions = versions.versions().iter().filter(|v| v.key() == Some(KEY)).count();
    assert!(state_versions >= 10, "{state_versions} versions of the state");
    assert!(object(&s3, &format!("{KEY}.backup")).await.is_none());

    // pull / push: an older serial or another lineage is refused; the current one is taken.
    let pulled = eksnet.run(&["-f", "stack.yaml", "state", "pull"]).ok().stdout;
    let current: Value = serde_json::from_str(&pulled).unwrap();
    let serial = current["serial"].as_u64().unwrap();
    let mut older = current.clone();
    older["serial"] = (serial - 1).into();
    std::fs::write(eksnet.path("older.json"), older.to_string()).unwrap();
    let refused = eksnet.run(&["-f", "stack.yaml", "state", "push", "older.json"]);
    assert!(refused.code == 1 && refused.stderr.contains(&format!("older than the stored state (serial {serial})")), "{}", refused.stderr);
    let mut other = current.clone();
    other["lineage"] = "another-history".into();
    std::fs::write(eksnet.path("other.json"), other.to_string()).unwrap();
    let refused = eksnet.run(&["-f", "stack.yaml", "state", "push", "other.json"]);
    assert!(refused.code == 1 && refused.stderr.contains("different histories"), "{}", refused.stderr);
    std::fs::write(eksnet.path("current.json"), &pulled).unwrap();
    eksnet.run(&["-f", "stack.yaml", "state", "push", "current.json"]).ok();
    assert_eq!(remote_state(&s3).await["serial"].as_u64(), Some(serial + 1));

    eksnet.run(&["-f", "stack.yaml", "destroy", "--auto-approve"]).ok();
    assert_eq!(remote_state(&s3).await["resources"], serde_json::json!({}));
    assert_eq!(tagged_subnets(&cloud).await, 0);
    assert!(object(&s3, &lock_key).await.is_none());
}

/// Lost answers to conditional PUTs are recognised; without bucket versioning the previous
/// state is kept as `<key>.backup`; a killed run's lock is reported and removed with `unlock`.
#[tokio::test(flavor = "multi_thread")]
async fn s3_backend_keeps_a_backup_without_versioning_and_survives_kill_9() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let s3 = s3_client(&cloud).await;
    create_bucket(&s3).await;
    write_stack(&eksnet, &format!("{}{}", small_network("remote-demo"), remote()));
    // Two answers lost on the way back: the lock PUT and the first state PUT are carried out
    // but answered 500. Their retries then fail their own preconditions (412), and eksnet must
    // recognise its own lock and its own bytes rather than report a holder or a lost update.
    for nth in [1, 2] {
        let rule = serde_json::json!({"service": "s3", "operation": "PutObject", "error": "InternalError", "after": true, "nth": nth, "times": 1});
        cloud.control(&["fault", &rule.to_string()]);
    }
    eksnet.run(&["-f", "stack.yaml", "apply", "--auto-approve"]).ok();
    let rules: Value = serde_json::from_str(&cloud.control(&["fault", "--list"])).unwrap();
    assert!(rules.as_array().unwrap().iter().all(|r| r["held"] == 1), "both lost answers happened: {rules:#}");
    cloud.control(&["fault", "--clear"]);
    assert!(object(&s3, &format!("{KEY}.lock")).await.is_none());
    eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]).ok();
    assert!(!eksnet.path(".eksnet").exists(), "nothing is written locally");
    let state = remote_state(&s3).await;
    let backup: Value = serde_json::from_slice(&object(&s3, &format!("{KEY}.backup")).await.expect("a backup object")).unwrap();
    assert_eq!(backup["serial"].as_u64().unwrap() + 1, state["serial"].as_u64().unwrap());

    // kill -9 mid-apply: the lock object stays, and the next run says its holder is gone and
    // names the id to unlock; then the run converges without creating anything twice.
    write_stack(&eksnet, &format!("{}{PUBLIC}{}", small_network("remote-demo"), remote()));
    let args = ["-f", "stack.yaml", "apply", "--auto-approve", "--parallelism", "1"];
    let mut child = eksnet.command(&args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let line = std::io::BufRead::lines(stderr).map(Result::unwrap).find(|l| l.contains(" created ")).expect("a progress line");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(object(&s3, &format!("{KEY}.lock")).await.is_some(), "the killed run's lock is left (killed after {line})");
    let stale = eksnet.run(&args);
    assert_eq!(stale.code, 1);
    assert!(stale.stderr.contains("that process is gone"), "{}", stale.stderr);
    let id = stale.stderr.split("state unlock ").nth(1).and_then(|s| s.split('`').next()).expect("the lock id").to_string();
    eksnet.run(&["-f", "stack.yaml", "state", "unlock", &id]).ok();
    eksnet.run(&args).ok();
    eksnet.run(&["-f", "stack.yaml", "plan", "--detailed-exitcode"]).ok();
    assert_eq!(tagged_subnets(&cloud).await, 6, "no subnet was created twice");
    eksnet.run(&["-f", "stack.yaml", "destroy", "--auto-approve"]).ok();
    assert_eq!(tagged_subnets(&cloud).await, 0);

    // A bucket that does not exist is named, with the fix.
    write_stack(&eksnet, &format!("{}{}", small_network("remote-demo"), remote().replace(BUCKET, "no-such-bucket")));
    let missing = eksnet.run(&["-f", "stack.yaml", "plan"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("NoSuchBucket") && missing.stderr.contains("create the bucket `no-such-bucket`"), "{}", missing.stderr);
}

/// The S3 lock carries a lease its holder renews: a live holder's lock is never taken, even
/// past the lease; a killed holder's is taken over once its lease runs out, with a warning.
#[tokio::test(flavor = "multi_thread")]
async fn s3_lock_of_a_killed_run_is_taken_over_after_its_lease_and_a_live_one_is_not() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let s3 = s3_client(&cloud).await;
    create_bucket(&s3).await;
    write_stack(&eksnet, &format!("{}{}", small_network("remote-demo"), remote()));
    let lease = [("EKSNET_LOCK_LEASE", "2")];
    let args = ["-f", "stack.yaml", "apply", "--auto-approve", "--parallelism", "1"];

    // A live holder: its CreateVpc answer is held for 6 s, three leases, while it renews.
    cloud.fault(serde_json::json!({"service": "ec2", "operation": "CreateVpc", "hold": 6, "times": 1}));
    let mut live = eksnet.command(&args).env("EKSNET_LOCK_LEASE", "2").stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    while cloud.positions("CreateVpc").is_empty() && object(&s3, &format!("{KEY}.lock")).await.is_none() {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(4));
    let refused = eksnet.run_with(&args, &lease);
    assert_eq!(refused.code, 1, "a live holder's lock was taken:\n{}", refused.stderr);
    assert!(refused.stderr.contains("locked by `eksnet apply`"), "{}", refused.stderr);
    assert!(live.wait().unwrap().success(), "the live holder finishes");
    cloud.control(&["fault", "--clear"]);

    // A killed holder: its lock stays, stops being renewed, and is taken over after the lease.
    let mut child = eksnet
        .command(&["-f", "stack.yaml", "destroy", "--auto-approve", "--parallelism", "1"])
        .env("EKSNET_LOCK_LEASE", "2")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    std::io::BufRead::lines(stderr).map(Result::unwrap).find(|l| l.contains(" destroyed ")).expect("a progress line");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(object(&s3, &format!("{KEY}.lock")).await.is_some(), "the killed run's lock is left");
    std::thread::sleep(std::time::Duration::from_secs(3));
    let out = eksnet.run_with(&["-f", "stack.yaml", "destroy", "--auto-approve"], &lease).ok();
    assert!(out.stderr.contains("took over the lock of `eksnet destroy`"), "{}", out.stderr);
    assert!(object(&s3, &format!("{KEY}.lock")).await.is_none(), "released at the end");
    assert_eq!(tagged_subnets(&cloud).await, 0);
}
