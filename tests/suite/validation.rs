//! Every bad stack under tests/bad-stacks is rejected with its expected message and
//! file:line:column, before any API call (proved with localcloud's request log).

use crate::common::LocalCloud;

fn header(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| l.strip_prefix(&format!("# {key}: "))).map(|v| v.trim().to_string())
}

fn expectation(text: &str, key: &str) -> String {
    header(text, key).unwrap_or_else(|| panic!("missing `# {key}:` header"))
}

#[test]
fn bad_stacks_are_rejected_with_location_and_no_api_call() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let dir = crate::common::repo().join("tests/bad-stacks");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} stacks", files.len());
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let (at, message) = (expectation(&text, "expect-at"), expectation(&text, "expect"));
        // Problems in a manifest template point into the template, not the stack file.
        let located = text.lines().find_map(|l| l.strip_prefix("# expect-in: ")).map(|rel| dir.join(rel.trim())).unwrap_or_else(|| file.clone());
        for command in ["validate", "plan"] {
            let out = eksnet.run(&["-f", &file.display().to_string(), command]);
            assert_eq!(out.code, 1, "{} {command} should fail:\n{}", file.display(), out.stderr);
            assert!(out.stderr.contains(&format!("error: {message}")), "{}: expected `{message}` in:\n{}", file.display(), out.stderr);
            assert!(
                out.stderr.contains(&format!("--> {}:{at}", located.display())),
                "{}: expected location {}:{at} in:\n{}",
                file.display(),
                located.display(),
                out.stderr
            );
            assert!(out.stderr.contains("= help: "), "{}: no hint in:\n{}", file.display(), out.stderr);
            // Optional headers: the hint's words (a did-you-mean), and how many problems one
            // mistake may cause (one: consequences of a field that failed are not reported).
            if let Some(hint) = header(&text, "expect-hint") {
                assert!(out.stderr.contains(&format!("= help: {hint}")), "{}: expected hint `{hint}` in:\n{}", file.display(), out.stderr);
            }
            if let Some(n) = header(&text, "expect-problems") {
                let found = if n == "1" { "1 problem found".to_string() } else { format!("{n} problems found") };
                assert!(out.stderr.contains(&found), "{}: expected {n} problem(s) in:\n{}", file.display(), out.stderr);
            }
            assert!(out.stderr.contains("nothing was created"), "{}", out.stderr);
        }
    }
    assert_eq!(cloud.requests().len(), 0, "bad stacks must not reach AWS");
}

#[test]
fn missing_stack_file_and_missing_credentials_are_explained() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let out = eksnet.run(&["plan"]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("cannot read stack file") && out.stderr.contains("eksnet.yaml"), "{}", out.stderr);

    let stack = crate::common::reference_stack().display().to_string();
    let empty = eksnet.path("nothing");
    let out = eksnet.run_with(
        &["-f", &stack, "plan"],
        &[
            ("AWS_ACCESS_KEY_ID", ""),
            ("AWS_SECRET_ACCESS_KEY", ""),
            ("AWS_CONFIG_FILE", empty.to_str().unwrap()),
            ("AWS_SHARED_CREDENTIALS_FILE", empty.to_str().unwrap()),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no AWS credentials found"), "{}", out.stderr);
    assert!(out.stderr.contains("AWS_PROFILE"), "{}", out.stderr);
    assert_eq!(cloud.requests().len(), 0);
}

#[test]
fn init_writes_a_stack_that_validates_and_plans() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    // In an empty directory, the missing stack file points at init.
    let missing = eksnet.run(&["plan"]);
    assert!(missing.stderr.contains("`eksnet init`"), "{}", missing.stderr);
    let init = eksnet.run(&["--region", "ap-southeast-2", "init", "team-a"]).ok();
    assert!(init.stderr.contains("`eksnet -f team-a/eksnet.yaml plan`"), "{}", init.stderr);
    eksnet.run(&["-f", "team-a/eksnet.yaml", "validate"]).ok();
    let plan = eksnet.run(&["-f", "team-a/eksnet.yaml", "plan"]).ok();
    assert!(plan.stdout.contains("stack `team-a`") && plan.stdout.contains("\nPlan: 39 to add, 0 to change, 0 to destroy.\n"), "{}", plan.stdout);
}
