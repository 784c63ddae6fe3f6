//! `eksnet verify` output: the terminal text (✓ / ! / ✗ per check, its evidence, the remedy) and
//! the versioned JSON documented in docs/verify.md.

use serde_json::{Value, json};

use super::style::{Paint, Style};
use crate::verify::{Check, Status, passed};

/// The JSON format's version: bumped when a field changes meaning or disappears.
pub const FORMAT_VERSION: u32 = 1;

pub fn text(stack: &str, cluster: &str, checks: &[Check], paint: Paint) -> String {
    let mut out = format!("Verifying stack `{stack}`, cluster `{cluster}`:\n\n");
    for c in checks {
        let mark = match c.status {
            Status::Pass => paint(Style::Add, "✓"),
            Status::Warn => paint(Style::Warning, "!"),
            Status::Fail => paint(Style::Error, "✗"),
        };
        out.push_str(&format!("{mark} {}. {}\n    {}\n", c.number, c.title, c.evidence));
        if let Some(remedy) = &c.remedy {
            out.push_str(&format!("    remedy: {remedy}\n"));
        }
    }
    let count = |s: Status| checks.iter().filter(|c| c.status == s).count();
    let verdict = if passed(checks) { paint(Style::Add, "Verified") } else { paint(Style::Error, "Not verified") };
    out.push_str(&format!("\n{verdict}: {} passed, {} failed, {} warning(s).\n", count(Status::Pass), count(Status::Fail), count(Status::Warn)));
    out
}

pub fn json(stack: &str, cluster: &str, checks: &[Check]) -> Value {
    json!({
        "format_version": FORMAT_VERSION,
        "stack": stack,
        "cluster": cluster,
        "passed": passed(checks),
        "checks": checks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::style::plain;

    fn checks() -> Vec<Check> {
        vec![
            Check { number: 1, name: "nodes", title: "nodes Ready", status: Status::Pass, evidence: "1 node(s) Ready".into(), remedy: None },
            Check {
                number: 5,
                name: "pod_enis",
                title: "branch ENIs",
                status: Status::Fail,
                evidence: "ns/web-1 has no branch ENI".into(),
                remedy: Some("kubectl -n ns rollout restart deployment/web".into()),
            },
        ]
    }

    #[test]
    fn text_marks_each_check_and_names_the_remedy() {
        let out = text("demo", "Demo", &checks(), &plain);
        assert_eq!(
            out,
            "Verifying stack `demo`, cluster `Demo`:\n\n✓ 1. nodes Ready\n    1 node(s) Ready\n✗ 5. branch ENIs\n    ns/web-1 has no branch ENI\n    \
             remedy: kubectl -n ns rollout restart deployment/web\n\nNot verified: 1 passed, 1 failed, 0 warning(s).\n"
        );
    }

    #[test]
    fn json_is_versioned_and_says_whether_it_passed() {
        let out = json("demo", "Demo", &checks());
        assert_eq!(out["format_version"], 1);
        assert_eq!(out["passed"], false);
        assert_eq!(out["checks"][1]["status"], "fail");
        assert_eq!(out["checks"][1]["name"], "pod_enis");
        assert_eq!(out["checks"][0]["remedy"], Value::Null);
    }
}
