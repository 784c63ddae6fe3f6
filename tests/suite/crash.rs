//! Crash safety: `kill -9` of apply or destroy after the k-th progress line, then the next run
//! converges with no duplicate, a complete state and a clean plan, and destroy leaves nothing.
//!
//! CI runs a subset of kill points in one localcloud instance (reset between runs);
//! `scripts/crash-matrix` runs the full matrix (`EKSNET_CRASH_MATRIX=full`).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::Stdio;

use aws_sdk_ec2::types::Filter;

use crate::common::{Eksnet, LocalCloud, reference_stack};

const STACK: &str = "cni-custom-networking-demo";
const REGION: &str = "ap-southeast-2";
const RESOURCES: usize = 39;

fn tag<'a>(tags: &'a [aws_sdk_ec2::types::Tag], key: &str) -> Option<&'a str> {
    tags.iter().find(|t| t.key() == Some(key)).and_then(|t| t.value())
}

/// What exists in the emulator: `kind address` → how many objects carry that address, for every
/// kind that can be duplicated. Objects of the stack without an address tag count under `?`.
async fn inventory(cloud: &LocalCloud) -> BTreeMap<String, usize> {
    let config = cloud.config(REGION).await;
    let (ec2, eks, iam) = (aws_sdk_ec2::Client::new(&config), aws_sdk_eks::Client::new(&config), aws_sdk_iam::Client::new(&config));
    let stack = Filter::builder().name("tag:eksnet:stack").values(STACK).build();
    let mut found: BTreeMap<String, usize> = BTreeMap::new();
    let mut add = |kind: &str, address: Option<&str>| *found.entry(format!("{kind} {}", address.unwrap_or("?"))).or_default() += 1;

    let vpcs: Vec<_> = ec2.describe_vpcs().filters(stack.clone()).into_paginator().items().send().try_collect().await.unwrap();
    vpcs.iter().for_each(|v| add("vpc", tag(v.tags(), "eksnet:address")));
    let subnets: Vec<_> = ec2.describe_subnets().filters(stack.clone()).into_paginator().items().send().try_collect().await.unwrap();
    subnets.iter().for_each(|s| add("subnet", tag(s.tags(), "eksnet:address")));
    let igws: Vec<_> = ec2.describe_internet_gateways().filters(stack.clone()).into_paginator().items().send().try_collect().await.unwrap();
    igws.iter().for_each(|g| add("internet_gateway", tag(g.tags(), "eksnet:address")));
    let nats: Vec<_> = ec2.describe_nat_gateways().filter(stack.clone()).into_paginator().items().send().try_collect().await.unwrap();
    nats.iter().filter(|n| n.state().map(|s| s.as_str()) != Some("deleted")).for_each(|n| add("nat_gateway", tag(n.tags(), "eksnet:address")));
    let eips = ec2.describe_addresses().filters(stack.clone()).send().await.unwrap();
    eips.addresses().iter().for_each(|a| add("elastic_ip", tag(a.tags(), "eksnet:address")));
    let tables: Vec<_> = ec2.describe_route_tables().filters(stack.clone()).into_paginator().items().send().try_collect().await.unwrap();
    tables.iter().for_each(|t| add("route_table", tag(t.tags(), "eksnet:address")));
    let groups: Vec<_> = ec2.describe_security_groups().filters(stack.clone()).into_paginator().items().send().try_collect().await.unwrap();
    groups.iter().for_each(|g| add("security_group", tag(g.tags(), "eksnet:address")));

    // Untagged things that would leak if eksnet lost track of them: any VPC besides the
    // default one, any Elastic IP, any instance still running.
    let all_vpcs: Vec<_> = ec2.describe_vpcs().into_paginator().items().send().try_collect().await.unwrap();
    let other = all_vpcs.iter().filter(|v| v.is_default() != Some(true) && tag(v.tags(), "eksnet:stack").is_none()).count();
    (0..other).for_each(|_| add("untagged", Some("vpc")));
    let all_eips = ec2.describe_addresses().send().await.unwrap().addresses().iter().filter(|a| tag(a.tags(), "eksnet:stack").is_none()).count();
    (0..all_eips).for_each(|_| add("untagged", Some("elastic_ip")));

    let clusters: Vec<String> = eks.list_clusters().into_paginator().items().send().try_collect().await.unwrap();
    for name in &clusters {
        let Ok(c) = eks.describe_cluster().name(name).send().await else { continue };
        let c = c.cluster().unwrap();
        add("eks_cluster", c.tags().and_then(|t| t.get("eksnet:address")).map(String::as_str));
        let groups: Vec<String> = eks.list_nodegroups().cluster_name(name).into_paginator().items().send().try_collect().await.unwrap();
        for g in &groups {
            let n = eks.describe_nodegroup().cluster_name(name).nodegroup_name(g).send().await.unwrap();
            add("eks_nodegroup", n.nodegroup().and_then(|n| n.tags()).and_then(|t| t.get("eksnet:address")).map(String::as_str));
        }
        let addons: Vec<String> = eks.list_addons().cluster_name(name).into_paginator().items().send().try_collect().await.unwrap();
        for a in &addons {
            let d = eks.describe_addon().cluster_name(name).addon_name(a).send().await.unwrap();
            add("eks_addon", d.addon().and_then(|a| a.tags()).and_then(|t| t.get("eksnet:address")).map(String::as_str));
        }
    }
    let roles: Vec<_> = iam.list_roles().path_prefix("/eksnet/").into_paginator().items().send().try_collect().await.unwrap();
    roles.iter().for_each(|r| add("iam_role", Some(r.role_name())));
    found
}

/// How one killed run went, for the figures.
#[derive(Debug)]
struct Point {
    phase: &'static str,
    parallelism: Option<u16>,
    k: usize,
    /// The progress line after which the process was killed (None: it finished first).
    killed_after: Option<String>,
    /// Records in the state at the kill that had no id yet (a create in flight).
    intents: usize,
    stale_lock: bool,
    duplicates: usize,
    leftovers: usize,
}

fn is_progress(line: &str) -> bool {
    let verb = line.split_whitespace().nth(1).unwrap_or_default();
    matches!(verb, "creating" | "created" | "updating" | "updated" | "destroying" | "destroyed")
}

/// Runs eksnet and sends SIGKILL right after its k-th progress line on stderr. Returns that line,
/// or None when the run ended before printing k lines.
fn kill_after(eksnet: &Eksnet, args: &[&str], k: usize) -> Option<String> {
    let mut child = eksnet.command(args).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("eksnet starts");
    let stderr = child.stderr.take().unwrap();
    let mut seen = 0;
    let mut last = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if is_progress(&line) {
            seen += 1;
            if seen == k {
                child.kill().expect("SIGKILL");
                last = Some(line);
                break;
            }
        }
    }
    let status = child.wait().unwrap();
    if last.is_none() {
        assert!(status.success(), "{args:?} failed before its {k}th progress line");
    }
    last
}

/// Runs a command after a crash the way a user would. The local lock is an OS lock that died
/// with the killed process: the next run never meets it.
fn run_after_crash(eksnet: &Eksnet, args: &[&str], stale_lock: &mut bool) {
    let out = eksnet.run(args);
    *stale_lock = out.stderr.contains("the state is locked");
    assert!(!*stale_lock, "a killed run left its lock behind:\n{}", out.stderr);
    out.ok();
}

fn state_records(eksnet: &Eksnet) -> Vec<(String, String)> {
    let stack = reference_stack().display().to_string();
    let out = eksnet.run(&["-f", &stack, "state", "list"]).ok();
    out.stdout.lines().filter_map(|l| l.split_once('\t')).map(|(a, id)| (a.to_string(), id.to_string())).collect()
}

fn duplicates(found: &BTreeMap<String, usize>) -> Vec<String> {
    found.iter().filter(|(k, n)| **n > 1 || k.ends_with(" ?") || k.starts_with("untagged")).map(|(k, n)| format!("{k} ×{n}")).collect()
}

/// After the re-run: one object per address, a complete state, an empty plan; then destroy
/// leaves nothing. Returns (duplicates, leftovers), both 0 (anything else fails the test).
async fn converges_then_destroys(cloud: &LocalCloud, eksnet: &Eksnet, label: &str) -> (usize, usize) {
    let stack = reference_stack().display().to_string();
    let found = inventory(cloud).await;
    let dups = duplicates(&found);
    assert!(dups.is_empty(), "{label}: duplicated or unaddressed objects after the re-run: {dups:?}");
    let records = state_records(eksnet);
    assert_eq!(records.len(), RESOURCES, "{label}: the state has {} records: {records:?}", records.len());
    assert!(records.iter().all(|(_, id)| id != "(creating)"), "{label}: intents left in the state: {records:?}");
    let plan = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{label}: the plan after the re-run is not empty:\n{}\n{}", plan.stdout, plan.stderr);
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
    let left = inventory(cloud).await;
    assert!(left.is_empty(), "{label}: destroy left {left:?}");
    (dups.len(), left.len())
}

/// Kill apply after line k, apply again, check; destroy, check nothing is left.
async fn crash_apply(cloud: &LocalCloud, k: usize, parallelism: Option<u16>) -> Point {
    cloud.reset();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let p = parallelism.map(|p| p.to_string());
    let mut args = vec!["-f", stack.as_str(), "apply", "--auto-approve"];
    if let Some(p) = &p {
        args.extend(["--parallelism", p.as_str()]);
    }
    let killed_after = kill_after(&eksnet, &args, k);
    let intents = state_records(&eksnet).iter().filter(|(_, id)| id == "(creating)").count();
    let mut stale_lock = false;
    run_after_crash(&eksnet, &args, &mut stale_lock);

    let (duplicates, leftovers) = converges_then_destroys(cloud, &eksnet, &format!("k={k} (killed after {killed_after:?})")).await;
    Point { phase: "apply", parallelism, k, killed_after, intents, stale_lock, duplicates, leftovers }
}

/// Apply, kill destroy after line k, destroy again: nothing is left, the state is empty.
async fn crash_destroy(cloud: &LocalCloud, k: usize) -> Point {
    cloud.reset();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();
    let args = ["-f", stack.as_str(), "destroy", "--auto-approve", "--parallelism", "1"];
    let killed_after = kill_after(&eksnet, &args, k);
    let intents = state_records(&eksnet).iter().filter(|(_, id)| id == "(creating)").count();
    let mut stale_lock = false;
    run_after_crash(&eksnet, &args, &mut stale_lock);
    let left = inventory(cloud).await;
    assert!(left.is_empty(), "k={k}: destroy after a killed destroy left {left:?} (killed after {killed_after:?})");
    assert!(state_records(&eksnet).is_empty(), "k={k}: the state still has records after destroy");
    Point { phase: "destroy", parallelism: Some(1), k, killed_after, intents, stale_lock, duplicates: 0, leftovers: left.len() }
}

/// Kill apply while `operation` is in flight: AWS carried the call out but eksnet never got the
/// answer (localcloud holds it back), so the state has at most an intent for the object.
async fn crash_in_flight(cloud: &LocalCloud, operation: &str) -> Point {
    cloud.reset();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    cloud.control(&["fault", &serde_json::json!({"operation": operation, "hold": 30, "times": 1}).to_string()]);
    let args = ["-f", stack.as_str(), "apply", "--auto-approve", "--parallelism", "1"];
    let mut child = eksnet.command(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("eksnet starts");
    loop {
        let rules: serde_json::Value = serde_json::from_str(&cloud.control(&["fault", "--list"])).unwrap();
        if rules[0]["held"].as_u64() > Some(0) {
            break;
        }
        assert!(child.try_wait().unwrap().is_none(), "apply ended without calling {operation}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    cloud.control(&["fault", "--clear"]);
    let intents = state_records(&eksnet).iter().filter(|(_, id)| id == "(creating)").count();
    let mut stale_lock = false;
    run_after_crash(&eksnet, &args, &mut stale_lock);
    let found = inventory(cloud).await;
    let dups = duplicates(&found);
    assert!(dups.is_empty(), "{operation}: duplicated or unaddressed objects after the re-run: {dups:?}");
    let records = state_records(&eksnet);
    assert_eq!(records.len(), RESOURCES, "{operation}: the state has {} records: {records:?}", records.len());
    let plan = eksnet.run(&["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(plan.code, 0, "{operation}: the plan after the re-run is not empty:\n{}\n{}", plan.stdout, plan.stderr);
    eksnet.run(&["-f", &stack, "destroy", "--auto-approve"]).ok();
    let left = inventory(cloud).await;
    assert!(left.is_empty(), "{operation}: destroy left {left:?}");
    Point {
        phase: "in-flight",
        parallelism: Some(1),
        k: 0,
        killed_after: Some(format!("- during {operation}")),
        intents,
        stale_lock,
        duplicates: dups.len(),
        leftovers: left.len(),
    }
}

fn report(points: &[Point]) {
    println!("phase    par  k   stale-lock intents dups left  killed after");
    for p in points {
        let par = p.parallelism.map(|p| p.to_string()).unwrap_or_else(|| "def".into());
        let line = p.killed_after.as_deref().map(|l| l.split_once(' ').map(|x| x.1).unwrap_or(l)).unwrap_or("(finished first)");
        println!("{:<8} {par:<4} {:<3} {:<10} {:<7} {:<4} {:<5} {line}", p.phase, p.k, p.stale_lock, p.intents, p.duplicates, p.leftovers);
    }
    let killed = points.iter().filter(|p| p.killed_after.is_some()).count();
    println!(
        "kill points: {} ({} killed before finishing); duplicates: {}; leftovers after destroy: {}",
        points.len(),
        killed,
        points.iter().map(|p| p.duplicates).sum::<usize>(),
        points.iter().map(|p| p.leftovers).sum::<usize>()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_at_any_point_converges_without_duplicates_or_leftovers() {
    let cloud = LocalCloud::start();
    let full = std::env::var("EKSNET_CRASH_MATRIX").is_ok_and(|v| v == "full");
    // An apply of the reference stack prints 2 lines per resource (creating, created).
    let lines = 2 * RESOURCES;
    let (sequential, parallel, destroy): (Vec<usize>, Vec<usize>, Vec<usize>) = if full {
        ((1..=lines).step_by(3).collect(), vec![3, 12, 25, 40, 55], (1..=lines).step_by(7).collect())
    } else {
        // 71 and 72 fall among the manifests (server-side apply); ties in the order can move them.
        (vec![1, 12, 25, 38, 52, 66, 71, 72], vec![10, 40], vec![9, 40])
    };
    let mut points = vec![];
    for k in sequential {
        points.push(crash_apply(&cloud, k, Some(1)).await);
    }
    for k in parallel {
        points.push(crash_apply(&cloud, k, None).await);
    }
    for k in destroy {
        points.push(crash_destroy(&cloud, k).await);
    }
    report(&points);
    assert!(points.iter().filter(|p| p.killed_after.is_some()).count() * 10 >= points.len() * 8, "most runs should be killed before finishing");
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_while_a_create_is_in_flight_adopts_the_object() {
    let cloud = LocalCloud::start();
    let full = std::env::var("EKSNET_CRASH_MATRIX").is_ok_and(|v| v == "full");
    // Every call through which apply makes something (EKS operations included).
    let all = [
        "CreateRole",
        "AttachRolePolicy",
        "CreateVpc",
        "ModifyVpcAttribute",
        "AssociateVpcCidrBlock",
        "CreateSubnet",
        "ModifySubnetAttribute",
        "CreateInternetGateway",
        "AttachInternetGateway",
        "AllocateAddress",
        "CreateNatGateway",
        "CreateRouteTable",
        "CreateRoute",
        "AssociateRouteTable",
        "CreateSecurityGroup",
        "AuthorizeSecurityGroupIngress",
        "CreateCluster",
        "CreateAddon",
        "CreateNodegroup",
    ];
    let operations: Vec<&str> =
        if full { all.to_vec() } else { vec!["CreateRole", "CreateVpc", "AssociateRouteTable", "CreateNatGateway", "CreateCluster", "CreateNodegroup"] };
    let mut points = vec![];
    for operation in operations {
        points.push(crash_in_flight(&cloud, operation).await);
    }
    report(&points);
    // With one step at a time the in-flight step is the only one: its intent is in the state.
    assert!(points.iter().all(|p| p.intents == 1), "every kill should leave exactly one intent: {points:?}");
}

/// The likeliest kill in real life: during the ten minutes EKS spends creating the cluster. The
/// next apply finds the cluster still CREATING and must wait for it (its endpoint and CA do not
/// exist yet) rather than create a second one or hand dependents an empty endpoint.
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_while_the_cluster_is_creating_then_apply_waits_for_it() {
    let cloud = LocalCloud::start_with(&["--profile", "realistic", "--scale", "60"]);
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let args = ["-f", stack.as_str(), "apply", "--auto-approve", "--poll-interval", "1s"];
    let mut child = eksnet.command(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("eksnet starts");
    while cloud.positions("CreateCluster").is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "apply ended without creating the cluster");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    std::thread::sleep(std::time::Duration::from_secs(1));
    child.kill().expect("SIGKILL");
    child.wait().unwrap();
    let eks = aws_sdk_eks::Client::new(&cloud.config(REGION).await);
    let cluster = eks.describe_cluster().name("CNICustomNetworkDemoEKS").send().await.unwrap();
    assert_eq!(cluster.cluster().and_then(|c| c.status()).map(|s| s.as_str()), Some("CREATING"), "the kill came too late for this test");

    let plan = eksnet.run(&["-f", &stack, "plan"]).ok();
    assert!(plan.stdout.contains("~ eks_cluster.main  1.33  (is CREATING in AWS; apply waits until it is ACTIVE)"), "{}", plan.stdout);
    assert!(plan.stdout.contains(r#"status: "CREATING" → "ACTIVE""#), "{}", plan.stdout);
    let mut stale_lock = false;
    run_after_crash(&eksnet, &args, &mut stale_lock);
    assert!(!stale_lock, "the killed run's lock died with it");
    assert_eq!(cloud.positions("CreateCluster").len(), 1, "the cluster was created once");
    let (duplicates, leftovers) = converges_then_destroys(&cloud, &eksnet, "killed while the cluster was CREATING").await;
    println!("cluster CREATING at the kill: duplicates {duplicates}, leftovers {leftovers}");
}
