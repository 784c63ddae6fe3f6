use super::*;
use crate::render::fixtures::reference;

fn markdown(plan: &Plan) -> String {
    render(plan, &Options::default())
}

#[test]
fn first_plan_of_the_reference_stack() {
    let r = reference();
    let plan = r.first_plan();
    let md = markdown(&plan);
    assert!(md.len() < GITHUB_COMMENT_LIMIT);
    assert!(md.contains(&format!("**Plan: {} to add, 0 to change, 0 to destroy.**", r.desired.len())), "{md}");
    assert!(md.contains("```mermaid\nflowchart LR\n"));
    assert!(!md.contains("[!NOTE]"), "nothing is left out of a plan this small");
    insta::assert_snapshot!("first_plan", md);
}

#[test]
fn change_plan_names_replacements_drift_and_deletes() {
    let plan = reference().change_plan();
    let md = markdown(&plan);
    assert!(md.contains("- cidr_block = \"10.0.7.0/24\"\n+ cidr_block = \"10.0.4.0/24\"   # forces replacement"), "{md}");
    assert!(md.contains("`subnet.intra[\"ap-southeast-2c\"]` was deleted outside eksnet"), "{md}");
    assert!(md.contains("`security_group.legacy` exists but is no longer in the stack"), "{md}");
    insta::assert_snapshot!("change_plan", md);
}

#[test]
fn destroy_plan() {
    let r = reference();
    let plan = r.destroy_plan();
    let md = markdown(&plan);
    let headline = format!(
        "### eksnet destroy plan for `cni-custom-networking-demo` in ap-southeast-2, account 123456789012\n\n> [!CAUTION]\n> **This plan DELETES the EKS cluster CNICustomNetworkDemoEKS (and its nodegroup, an add-on and a workload) because the stack is destroyed.**\n\n**Plan: 0 to add, 0 to change, {} to destroy.**",
        r.desired.len()
    );
    assert!(md.starts_with(&headline), "{md}");
    assert!(!md.contains("IP capacity") && !md.contains("Subnet capacity"), "a destroy plan builds no subnets");
    insta::assert_snapshot!("destroy_plan", md);
}

#[test]
fn no_changes() {
    let r = reference();
    let observed = r.everything_exists();
    let plan = r.plan(Some(&r.state(&observed)), &observed, false);
    let md = markdown(&plan);
    assert!(md.contains("**No changes.** The infrastructure matches the stack."), "{md}");
    assert!(!md.contains("#### Changes") && !md.contains("mermaid"), "{md}");
}

#[test]
fn a_tight_budget_drops_details_then_the_diagram_and_says_so() {
    let r = reference();
    let plan = r.first_plan();
    let full = markdown(&plan);
    let budget = full.len() / 2;
    let md = render(&plan, &Options { budget, warnings: vec![] });
    assert!(md.len() <= budget, "{} > {budget}", md.len());
    assert!(md.contains("leaves out the attributes of"), "{md}");
    // Every change is still listed, one line each.
    assert_eq!(md.matches("<code>+</code> create").count(), r.desired.len());
}

#[test]
fn a_huge_plan_stays_under_the_comment_limit() {
    let mut plan = reference().first_plan();
    let template = plan.changes.clone();
    let desired = plan.desired.clone();
    for copy in 0..60 {
        for c in &template {
            let mut c = c.clone();
            c.address.key = Some(format!("copy-{copy}"));
            plan.changes.push(c);
        }
        for d in &desired {
            let mut d = d.clone();
            d.address.key = Some(format!("copy-{copy}"));
            plan.desired.push(d);
        }
    }
    assert!(plan.changes.len() > 2000);
    let md = markdown(&plan);
    assert!(md.len() <= DEFAULT_BUDGET, "{}", md.len());
    assert!(md.contains("> [!NOTE]\n> This plan is larger than one GitHub comment allows"), "{md}");
    assert!(md.contains("more changes."));
}

#[test]
fn extra_warnings_are_shown() {
    let plan = reference().first_plan();
    let md = render(&plan, &Options { budget: DEFAULT_BUDGET, warnings: vec!["the state is 3 serials behind".into()] });
    assert!(md.contains("> [!WARNING]\n") && md.contains("\n> - the state is 3 serials behind\n"), "{md}");
}

#[test]
fn a_plan_that_replaces_the_nodegroup_says_so_first_in_every_format() {
    let plan = reference().nodegroup_replacement_plan();
    let headline = "This plan REPLACES the nodegroup default because subnet.private[\"ap-southeast-2c\"] cidr_block changed.";
    let d = plan.destruction.as_ref().expect("a destructive plan");
    assert_eq!(d.headline, headline);
    let md = markdown(&plan);
    assert!(md.contains(&format!("> [!CAUTION]\n> **{headline}**")), "{md}");
    assert!(md.find("[!CAUTION]") < md.find("**Plan:"), "the headline comes before the summary:\n{md}");
    let text = crate::render::text::plan(&plan, &crate::render::style::plain);
    assert!(text.starts_with(headline), "{text}");
    // The cluster takes the new subnet in place; nothing names an attribute that merely
    // becomes unknown as a reason.
    assert!(text.contains("~ eks_cluster.main"), "{text}");
    assert!(text.contains("-/+ eks_nodegroup.default  [\"c5.large\"]  (must be replaced because subnet.private[\"ap-southeast-2c\"] is replaced)"), "{text}");
    let json = crate::plan::json(&plan);
    assert_eq!(json["destruction"]["headline"], headline);
    insta::assert_snapshot!("nodegroup_replacement_text", text);
    insta::assert_snapshot!("nodegroup_replacement_markdown", md);
    insta::assert_snapshot!("nodegroup_replacement_json", serde_json::to_string_pretty(&json["destruction"]).unwrap());
}

#[test]
fn costed_plan_has_the_headline_and_a_table_of_what_changes() {
    use std::collections::{BTreeMap, BTreeSet};

    use crate::cost::{billable, estimate, table_rates};
    let r = reference();
    let observed = r.everything_exists();
    let before: BTreeMap<String, _> = observed.iter().filter_map(|(a, o)| Some((a.to_string(), billable(&a.kind, &o.attrs)?))).collect();
    let mut after = before.clone();
    for (address, b) in after.iter_mut() {
        match b {
            crate::cost::Billable::Cluster { version } => *version = "1.31".into(),
            crate::cost::Billable::Nodegroup { desired, max, .. } if address == "eks_nodegroup.default" => (*desired, *max) = (2, 3),
            _ => {}
        }
    }
    let mut plan = r.change_plan();
    plan.cost = Some(estimate(&before, &after, &BTreeSet::new(), &table_rates(), "ap-southeast-2"));
    let md = markdown(&plan);
    assert!(md.contains("> - Kubernetes 1.31 is in extended support: the cluster costs $0.60/hour instead of $0.10"), "{md}");
    assert!(md.contains("**Cost: +$447.95/month (now $245.74 → $693.69)**"), "{md}");
    assert!(
        md.contains(
            "| `eks_nodegroup.default` 2 × c5.large on-demand + 20 GB gp3 each, $82.95 to $248.85 from min to max nodes | $82.95 | $165.90 | +$82.95 |"
        ),
        "{md}"
    );
    assert!(!md.contains("| `nat_gateway."), "objects whose cost does not change stay out of the table\n{md}");
    insta::assert_snapshot!("costed_plan", md);
}
