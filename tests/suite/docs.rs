//! The docs' command blocks, run as a reader would run them: every shell block of README.md and
//! docs/*.md that calls `eksnet` runs against localcloud, in a directory holding the repository's
//! stacks and templates, unless the line before its fence says why not
//! (`<!-- docs-test: skip … -->`, e.g. a block about the reader's own stack file). Each line must
//! succeed, and what its comment promises is checked where it is a figure: `39 to add`, or
//! `# 0: …` after `echo $?`. The example workflows of examples/github-actions/ run their steps
//! through scripts/run-workflow, as GitHub would, against localcloud.

use std::path::{Path, PathBuf};

use crate::common::{LocalCloud, repo};

/// A shell block: the file, its line, and its command lines.
#[derive(Debug)]
struct Block {
    file: String,
    line: usize,
    commands: Vec<String>,
    skipped: bool,
}

fn blocks(path: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let file = path.strip_prefix(repo()).unwrap().display().to_string();
    let mut out = vec![];
    let mut i = 0;
    while i < lines.len() {
        let fence = lines[i].trim_start();
        let shell = ["```sh", "```bash", "```shell", "```console"].contains(&fence);
        if !shell {
            if fence.starts_with("```") {
                // Skip a block of another language whole.
                i += 1;
                while i < lines.len() && !lines[i].trim_start().starts_with("```") {
                    i += 1;
                }
            }
            i += 1;
            continue;
        }
        let skipped = i > 0 && lines[i - 1].contains("<!-- docs-test: skip");
        let start = i + 1;
        let mut commands = vec![];
        i += 1;
        while i < lines.len() && !lines[i].trim_start().starts_with("```") {
            if !lines[i].trim().is_empty() {
                commands.push(lines[i].to_string());
            }
            i += 1;
        }
        if commands.iter().any(|c| c.trim_start().starts_with("eksnet ")) {
            out.push(Block { file: file.clone(), line: start, commands, skipped });
        }
        i += 1;
    }
    out
}

fn all_blocks() -> Vec<Block> {
    let mut files: Vec<PathBuf> = vec![repo().join("README.md")];
    let mut docs: Vec<PathBuf> =
        std::fs::read_dir(repo().join("docs")).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "md")).collect();
    docs.sort();
    files.extend(docs);
    files.iter().flat_map(|f| blocks(f)).collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The figure a line's comment promises, checked against what it printed.
fn check_promise(command: &str, stdout: &str, stderr: &str) {
    let Some((_, comment)) = command.split_once(" # ") else { return };
    let words: Vec<&str> = comment.split_whitespace().collect();
    if let Some(at) = words.windows(3).position(|w| w[1] == "to" && w[2] == "add") {
        let figure = format!("{} to add", words[at].trim_start_matches(|c: char| !c.is_ascii_digit()));
        assert!(stdout.contains(&figure) || stderr.contains(&figure), "`{command}` promises {figure}:\n{stdout}\n{stderr}");
    }
    if command.contains("echo $?")
        && let Some(code) = comment.trim().split(':').next().filter(|c| c.chars().all(|ch| ch.is_ascii_digit()))
    {
        assert_eq!(stdout.trim_end().lines().last(), Some(code), "`{command}` promises exit {code}:\n{stdout}\n{stderr}");
    }
}

#[test]
fn the_docs_command_blocks_run_as_written() {
    let blocks = all_blocks();
    let run: Vec<&Block> = blocks.iter().filter(|b| !b.skipped).collect();
    // The tour and verify's page at least; a block added to the docs runs unless marked.
    let places: Vec<String> = run.iter().map(|b| b.file.clone()).collect();
    assert!(places.contains(&"README.md".to_string()) && places.contains(&"docs/verify.md".to_string()), "{blocks:#?}");

    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    copy_dir(&repo().join("stacks"), &eksnet.path("stacks"));
    copy_dir(&repo().join("templates"), &eksnet.path("templates"));
    for block in run {
        for command in &block.commands {
            let out = eksnet.shell(command);
            assert_eq!(out.code, 0, "{}:{}: `{command}` failed\nstdout:\n{}\nstderr:\n{}", block.file, block.line, out.stdout, out.stderr);
            check_promise(command, &out.stdout, &out.stderr);
        }
    }
}

#[test]
fn skipped_blocks_say_why() {
    for b in all_blocks().iter().filter(|b| b.skipped) {
        let text = std::fs::read_to_string(repo().join(&b.file)).unwrap();
        let marker = text.lines().nth(b.line - 2).unwrap();
        let reason = marker.split("skip").nth(1).unwrap_or_default().trim_end_matches("-->").trim();
        assert!(!reason.is_empty(), "{}:{}: a skipped block names its reason: {marker}", b.file, b.line);
    }
}

#[test]
fn the_example_workflows_run_against_localcloud() {
    let cloud = LocalCloud::start();
    let eksnet = cloud.eksnet();
    let workflow = |file: &str, args: &str| {
        let script = repo().join("scripts/run-workflow").display().to_string();
        let path = repo().join("examples/github-actions").join(file).display().to_string();
        let out = eksnet.shell(&format!("{script} {path} {args}"));
        assert_eq!(out.code, 0, "{file} {args}\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
        // The steps' own output goes to either stream, as on a runner.
        format!("{}{}", out.stdout, out.stderr)
    };
    // A pull request: the plan is made and kept; nothing is applied.
    let pr = workflow("plan-and-apply.yml", "--event pull_request --ref refs/pull/7/merge");
    assert!(pr.contains("job plan: succeeded") && pr.contains("job apply: skipped (if)"), "{pr}");
    assert_eq!(cloud.changes(), 0, "a pull request changes nothing");
    // The merge to main: the apply job applies exactly the plan job's saved plan.
    let main = workflow("plan-and-apply.yml", "--event push --ref refs/heads/main");
    assert!(main.contains("fetched artifact eksnet-plan-") && main.contains("Apply complete") && main.contains("job apply: succeeded"), "{main}");
    // The ephemeral cluster: its own copy applied, tested with kubectl, destroyed.
    let ephemeral = workflow("ephemeral-cluster.yml", "--event schedule");
    for step in ["Make the stack copy: running", "Apply: running", "Test: running", "Destroy: running", "job test: succeeded"] {
        assert!(ephemeral.contains(step), "{step}:\n{ephemeral}");
    }
    assert!(ephemeral.contains("Destroy complete") && ephemeral.contains("100.64."), "{ephemeral}");
    let sweep = workflow("sweep.yml", "--event schedule");
    assert!(sweep.contains("job sweep: succeeded"), "{sweep}");
}
