//! What a change costs, in the plan: prices from localcloud's Price List API
//! (localcloud/localcloud/fixtures/prices.json, ap-southeast-2), cached for a day, and honest
//! about what it cannot price.

use crate::common::{Eksnet, LocalCloud, Out, reference_stack, reference_variant};

/// A cloud whose Kubernetes calendar is pinned: 1.33 is in standard support, 1.31 in extended.
fn cloud() -> LocalCloud {
    LocalCloud::start_with(&["--profile", "none", "--strict", "--config", r#"{"ec2_consistency": false, "k8s_calendar_date": "2026-01-15"}"#])
}

/// eksnet with the estimate on and a price cache of this test's own.
fn costed(eksnet: &Eksnet, cache: &tempfile::TempDir, args: &[&str]) -> Out {
    eksnet.run_with(args, &[("EKSNET_COST", "on"), ("XDG_CACHE_HOME", cache.path().to_str().unwrap())])
}

fn pricing_calls(cloud: &LocalCloud) -> usize {
    cloud.requests().iter().filter(|r| r["service"] == "pricing").count()
}

#[test]
fn cost_of_a_first_plan_with_breakdown_cache_and_extended_support() {
    let cloud = cloud();
    let eksnet = cloud.eksnet();
    let cache = tempfile::tempdir().unwrap();
    let stack = reference_stack().display().to_string();

    let first = costed(&eksnet, &cache, &["-v", "-f", &stack, "plan"]).ok();
    // 730 hours of: the cluster $0.10, two NAT gateways $0.059, one Elastic IP $0.005, one
    // c5.large $0.111 and its 20 GB of gp3 at $0.096 a month.
    assert!(first.stdout.ends_with("\nCost: +$245.74/month (now $0.00 → $245.74)\n"), "{}", first.stdout);
    for line in [
        "eks_cluster.main",
        "$73.00",
        "EKS 1.33, standard support",
        "$43.07",
        "NAT gateway (private), hours; data processing per GB not estimated",
        "$3.65",
        "public IPv4 address (Elastic IP), hours",
        "$82.95",
        "1 × c5.large on-demand + 20 GB gp3 each, $82.95 to $165.90 from min to max nodes",
        "note: not estimated: NAT gateway data processing",
    ] {
        assert!(first.stdout.contains(line), "missing {line:?} in\n{}", first.stdout);
    }
    let calls = pricing_calls(&cloud);
    assert_eq!(calls, 5, "one query per product: EKS, NAT, public IPv4, gp3, c5.large");
    let endpoints: Vec<_> = std::fs::read_dir(cache.path().join("eksnet/prices")).unwrap().flatten().collect();
    assert_eq!(endpoints.len(), 1, "one directory for localcloud's endpoint");
    assert!(endpoints[0].file_name().to_string_lossy().starts_with("endpoint-"));
    assert_eq!(std::fs::read_dir(endpoints[0].path().join("ap-southeast-2")).unwrap().count(), 5);

    // Within the cache's life the prices come from disk: not one pricing call.
    let markdown = costed(&eksnet, &cache, &["-f", &stack, "plan", "--format", "markdown"]).ok();
    assert_eq!(pricing_calls(&cloud), calls);
    assert!(markdown.stdout.contains("**Cost: +$245.74/month (now $0.00 → $245.74)**"), "{}", markdown.stdout);
    assert!(markdown.stdout.contains("| `eks_cluster.main` EKS 1.33, standard support | – | $73.00 | +$73.00 |"), "{}", markdown.stdout);
    let json = costed(&eksnet, &cache, &["-f", &stack, "plan", "--format", "json"]).ok();
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["cost"]["format_version"], 1);
    assert_eq!(json["cost"]["delta"], 245.74);
    assert_eq!(json["cost"]["lines"].as_array().unwrap().len(), 5);

    // A version in extended support: $0.60 an hour, said as a warning.
    let old = reference_variant(&eksnet, "cost-old", "CostOld", |t| t.replace("version: \"1.33\"", "version: \"1.31\""));
    let extended = costed(&eksnet, &cache, &["-f", &old, "plan"]).ok();
    assert!(
        extended.stdout.contains("warning: Kubernetes 1.31 is in extended support: the cluster costs $0.60/hour instead of $0.10 ($365.00 a month more)"),
        "{}",
        extended.stdout
    );
    assert!(extended.stdout.ends_with("Cost: +$610.74/month (now $0.00 → $610.74)\n"), "{}", extended.stdout);
    assert_eq!(pricing_calls(&cloud), calls, "the same products, still cached");

    // Off: no line, no call.
    for out in [costed(&eksnet, &cache, &["-f", &stack, "plan", "--no-cost"]), eksnet.run(&["-f", &stack, "plan"])] {
        assert!(!out.ok().stdout.contains("Cost:"));
    }
}

#[test]
fn cost_unknown_when_pricing_fails_and_the_plan_still_succeeds() {
    let cloud = cloud();
    let eksnet = cloud.eksnet();
    let cache = tempfile::tempdir().unwrap();
    let stack = reference_variant(&eksnet, "cost-denied", "CostDenied", |t| t);
    cloud.fault(serde_json::json!({"service": "pricing", "operation": "GetProducts", "error": "AccessDeniedException",
        "message": "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: pricing:GetProducts"}));
    let denied = costed(&eksnet, &cache, &["-f", &stack, "plan", "--detailed-exitcode"]);
    assert_eq!(denied.code, 2, "the plan is made all the same\n{}", denied.stderr);
    assert!(denied.stdout.contains("Plan: 39 to add"), "{}", denied.stdout);
    assert!(
        denied.stdout.contains("cost unknown for eks_cluster.main, eks_nodegroup.default, ")
            && denied
                .stdout
                .contains("(no permission for pricing:GetProducts; AccessDeniedException: User: arn:aws:iam::123456789012:user/ci is not authorized"),
        "{}",
        denied.stdout
    );
    assert!(denied.stdout.ends_with("Cost: ±$0.00/month (now $0.00 → $0.00), not counting 5 objects of unknown cost\n"), "{}", denied.stdout);
    let kept = |dir: &std::path::Path| {
        std::fs::read_dir(dir).map_or(0, |d| d.flatten().map(|e| std::fs::read_dir(e.path().join("ap-southeast-2")).map_or(0, |f| f.count())).sum::<usize>())
    };
    assert_eq!(kept(&cache.path().join("eksnet/prices")), 0, "a failed query is not cached");

    // An instance type EC2 has but localcloud's price list does not: that nodegroup is unknown,
    // the rest priced.
    cloud.control(&["fault", "--clear"]);
    let unknown = reference_variant(&eksnet, "cost-odd", "CostOdd", |t| t.replace("c5.large", "m6i.large"));
    let out = costed(&eksnet, &cache, &["-f", &unknown, "plan"]).ok();
    assert!(
        out.stdout.contains("cost unknown for eks_nodegroup.default (AWS's price list has no on-demand Linux price for m6i.large in ap-southeast-2)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.ends_with("Cost: +$162.79/month (now $0.00 → $162.79), not counting 1 object of unknown cost\n"), "{}", out.stdout);
}

#[test]
fn cost_delta_of_nat_per_az_and_two_nodes_then_the_saving_of_destroy() {
    let cloud = cloud();
    let eksnet = cloud.eksnet();
    let cache = tempfile::tempdir().unwrap();
    let no_manifests = |t: String| t.split("\nmanifests:").next().unwrap().to_string() + "\n";
    let stack = reference_variant(&eksnet, "cost-delta", "CostDelta", no_manifests);
    eksnet.run(&["-f", &stack, "apply", "--auto-approve"]).ok();

    let bigger = reference_variant(&eksnet, "cost-delta", "CostDelta", |t| {
        no_manifests(t).replace("public: single ", "public: per_az ").replace("desired: 1, max: 2", "desired: 2, max: 2")
    });
    let plan = costed(&eksnet, &cache, &["-v", "-f", &bigger, "plan"]).ok();
    // Two more public NAT gateways with their Elastic IPs (2 × 43.07 + 2 × 3.65) and a second
    // node (81.03 + 1.92).
    assert!(plan.stdout.ends_with("\nCost: +$176.39/month (now $245.74 → $422.13)\n"), "{}", plan.stdout);
    assert!(plan.stdout.contains("nat_gateway.public[\"ap-southeast-2b\"]") && plan.stdout.contains("+$43.07"), "{}", plan.stdout);
    assert!(plan.stdout.contains("$82.95 → $165.90"), "{}", plan.stdout);

    let destroy = costed(&eksnet, &cache, &["-f", &stack, "plan", "--destroy"]).ok();
    assert!(destroy.stdout.ends_with("\nCost: -$245.74/month (now $245.74 → $0.00)\n"), "{}", destroy.stdout);
}
