//! Plan review outside a terminal: the markdown plan, `show` of a saved plan, diagrams,
//! completions and the man page, through the real binary.

use crate::common::{LocalCloud, reference_stack};

#[test]
fn saved_plan_renders_the_same_through_show_in_every_format() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let stack = reference_stack().display().to_string();
    let plan_file = eksnet.path("network.plan").display().to_string();

    let markdown = eksnet.run(&["-f", &stack, "plan", "--format", "markdown", "--out", &plan_file]).ok();
    assert!(
        markdown.stdout.starts_with("### eksnet plan for `cni-custom-networking-demo` in ap-southeast-2, account 123456789012\n\n**Plan: 39 to add"),
        "{}",
        markdown.stdout
    );
    assert!(markdown.stdout.contains("```mermaid\nflowchart LR\n"), "{}", markdown.stdout);
    assert!(markdown.stdout.len() < 65_536);
    // Progress and hints stay on stderr, so stdout can be posted as it is.
    assert!(markdown.stderr.contains("Saved the plan"), "{}", markdown.stderr);

    let shown = eksnet.run(&["show", &plan_file, "--format", "markdown"]).ok();
    assert_eq!(shown.stdout, markdown.stdout);
    let json = eksnet.run(&["-f", &stack, "plan", "--format", "json"]).ok();
    let shown_json = eksnet.run(&["show", &plan_file, "--format", "json"]).ok();
    let strip = |text: &str| -> serde_json::Value {
        let mut v: serde_json::Value = serde_json::from_str(text).unwrap();
        v["state"] = serde_json::Value::Null;
        v
    };
    assert_eq!(strip(&shown_json.stdout), strip(&json.stdout));
    let text = eksnet.run(&["show", &plan_file]).ok();
    assert!(text.stdout.contains("\nPlan: 39 to add, 0 to change, 0 to destroy.\n"), "{}", text.stdout);
    // The heading names the account and region the plan changes (STS GetCallerIdentity).
    assert!(text.stdout.starts_with("Plan for account 123456789012, ap-southeast-2, stack `cni-custom-networking-demo`:\n"), "{}", text.stdout);

    // A saved plan is drawn without the stack file: a reviewer may only have the artifact.
    let mermaid = eksnet.run(&["-f", "missing.yaml", "graph", "--format", "mermaid", "--plan", &plan_file]).ok();
    assert!(mermaid.stdout.starts_with("flowchart LR\n") && mermaid.stdout.contains("class ") && mermaid.stdout.contains(" create\n"), "{}", mermaid.stdout);
    let dot = eksnet.run(&["graph", "--plan", &plan_file]).ok();
    assert!(dot.stdout.contains("[label = \"+ vpc.main\", fillcolor = \"#dafbe1\""), "{}", dot.stdout);

    let not_a_plan = eksnet.run(&["show", &stack]);
    assert_eq!(not_a_plan.code, 1);
    assert!(not_a_plan.stderr.contains("is not a plan saved by `eksnet plan --out`"), "{}", not_a_plan.stderr);
}

#[test]
fn stack_graph_completions_and_man_page() {
    let cloud_free = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_eksnet")).args(args).current_dir(cloud_free.path()).env("CI", "true").output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let stack = reference_stack().display().to_string();
    let mermaid = run(&["-f", &stack, "graph", "--format", "mermaid"]);
    assert!(mermaid.contains("[\"vpc.main\"]") && mermaid.contains("[\"subnet.intra[#quot;ap-southeast-2a#quot;]\"]"), "{mermaid}");
    assert_eq!(mermaid.matches("-->").count(), run(&["-f", &stack, "graph"]).matches(" -> ").count(), "the same edges as the DOT graph");
    assert!(run(&["completions", "bash"]).contains("complete -F _eksnet"));
    assert!(run(&["completions", "zsh"]).starts_with("#compdef eksnet"));
    assert!(run(&["completions", "fish"]).contains("complete -c eksnet"));
    let man = run(&["man"]);
    assert!(man.contains(".TH eksnet 1") && man.contains("show"), "{man}");
}

#[test]
fn the_example_in_docs_stack_md_is_a_valid_stack() {
    let doc = std::fs::read_to_string(crate::common::repo().join("docs/stack.md")).unwrap();
    let example =
        doc.split("## Example").nth(1).and_then(|s| s.split("```yaml\n").nth(1)).and_then(|s| s.split("```").next()).expect("docs/stack.md has an example");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("example.yaml");
    std::fs::write(&file, example).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_eksnet")).arg("-f").arg(&file).arg("validate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stack `team-a-dev` in us-west-2"));
}

#[test]
fn a_closed_pipe_ends_a_printing_command_quietly() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let stack = reference_stack().display().to_string();
    for args in [&["man"][..], &["-f", &stack, "graph", "--format", "mermaid"][..]] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_eksnet"))
            .args(args)
            .current_dir(dir.path())
            .env("CI", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Like `| true`: the reader is gone before the first line is written.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{args:?} complained about the closed pipe: {stderr}");
        assert_ne!(out.status.code(), Some(1), "{args:?} ended as an error");
    }
}
