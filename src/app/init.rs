//! `eksnet init [DIR]`: a starter stack, so that an empty directory is not a dead end. It is
//! the reference architecture (stacks/custom-networking.yaml, commented) with the stack's name,
//! region and zones given, and the manifest templates it applies beside it.

use std::path::{Path, PathBuf};

use super::*;
use crate::cli::InitArgs;

const REFERENCE: &str = include_str!("../../stacks/custom-networking.yaml");
const TEMPLATES: [(&str, &str); 3] = [
    ("namespace.yaml", include_str!("../../templates/namespace.yaml")),
    ("security-group-policy.yaml", include_str!("../../templates/security-group-policy.yaml")),
    ("deployment.yaml", include_str!("../../templates/deployment.yaml")),
];

pub(super) fn init_command(g: &Global, args: &InitArgs) -> anyhow::Result<i32> {
    let stack_file = match &args.dir {
        Some(dir) => dir.join("eksnet.yaml"),
        None => g.stack.clone(),
    };
    let folder = stack_file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    let region = g
        .region
        .clone()
        .or_else(|| std::env::var("AWS_REGION").ok())
        .or_else(|| std::env::var("AWS_DEFAULT_REGION").ok())
        .ok_or_else(|| help("init needs the region the stack goes to", "pass --region REGION (or set AWS_REGION)"))?;
    let name = args.name.clone().unwrap_or_else(|| default_name(&folder));
    let text = starter(&name, &region, &args.zones);
    let files: Vec<(PathBuf, &str)> =
        std::iter::once((stack_file.clone(), text.as_str())).chain(TEMPLATES.iter().map(|(file, body)| (folder.join("templates").join(file), *body))).collect();
    if let Some((taken, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(help(
            format!("{} already exists; init writes a new stack and does not overwrite files", taken.display()),
            "run init in an empty directory: `eksnet init DIR`",
        ));
    }
    std::fs::create_dir_all(folder.join("templates")).with_context(|| format!("cannot create {}", folder.join("templates").display()))?;
    for (path, body) in &files {
        std::fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))?;
    }
    let stack = crate::stack::load(&stack_file, &Overrides::default())?;
    let flags = if stack_file == Path::new("eksnet.yaml") { String::new() } else { format!("-f {} ", shell_word(&stack_file.display().to_string())) };
    eprintln!(
        "Wrote {} (stack `{}` in {}, {} resources) and its manifest templates under {}.\n\
         Read the comments and change what you need, then `eksnet {flags}plan` shows what apply would create.",
        stack_file.display(),
        stack.name,
        stack.region,
        stack.desired().len(),
        folder.join("templates").display(),
    );
    Ok(0)
}

/// The folder's name when it makes a stack name (letters, digits, dashes), else `eksnet-demo`.
fn default_name(folder: &Path) -> String {
    let absolute = std::path::absolute(folder).unwrap_or_else(|_| folder.to_path_buf());
    absolute
        .file_name()
        .and_then(|n| n.to_str())
        .map(|n| n.to_ascii_lowercase().replace(['_', ' ', '.'], "-"))
        .filter(|n| !n.is_empty() && n.len() <= 40 && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !n.starts_with('-'))
        .unwrap_or_else(|| "eksnet-demo".into())
}

/// The reference stack with this name, region and zones: one private and one public /24 per
/// zone (10.0.1.0/24 up, then the public ones), intra subnets derived per zone.
fn starter(name: &str, region: &str, zones: &[String]) -> String {
    let n = zones.len();
    let cidrs = |first: usize| (first..first + n).map(|i| format!("10.0.{i}.0/24")).collect::<Vec<_>>().join(", ");
    let mut out = String::from(
        "# A starter stack written by `eksnet init`: the reference architecture of \"Leveraging CNI\n\
         # custom networking alongside security groups for pods in Amazon EKS\". docs/stack.md\n\
         # describes every field; `eksnet validate` checks this file without calling AWS.\n",
    );
    for line in REFERENCE.lines().skip_while(|l| l.starts_with('#')) {
        let line = match line.split_once('#').map_or(line, |(code, _)| code).trim_end() {
            "name: cni-custom-networking-demo" => format!("name: {name}"),
            "region: ap-southeast-2" => format!("region: {region}"),
            "  project: cni-custom-networking-demo" => format!("  project: {name}"),
            "  name: CNICustomNetworkDemoEKS" => format!("  name: {name}"),
            "availability_zones: [a, b, c]" => line.replace("[a, b, c]", &format!("[{}]", zones.join(", "))),
            "    cidrs: [10.0.1.0/24, 10.0.2.0/24, 10.0.3.0/24]" => format!("    cidrs: [{}]", cidrs(1)),
            "    cidrs: [10.0.4.0/24, 10.0.5.0/24, 10.0.6.0/24]" => format!("    cidrs: [{}]", cidrs(n + 1)),
            _ => line.replace("../templates/", "templates/").replace(", 100.64.1-3.0/24", ""),
        };
        out.push_str(&line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_starter_stack_is_the_reference_in_the_given_region_and_zones() {
        let text = starter("my-demo", "us-east-1", &["a".into(), "b".into()]);
        for expected in [
            "name: my-demo\n",
            "region: us-east-1\n",
            "availability_zones: [a, b]     # letters are relative to the region\n",
            "  project: my-demo\n",
            "    cidrs: [10.0.1.0/24, 10.0.2.0/24]\n",
            "    cidrs: [10.0.3.0/24, 10.0.4.0/24]\n",
            "  name: my-demo\n",
            "  - path: templates/namespace.yaml\n",
        ] {
            assert!(text.contains(expected), "no `{expected}` in:\n{text}");
        }
        assert!(!text.contains("cni-custom-networking-demo") && !text.contains("ap-southeast-2") && !text.contains("../templates"), "{text}");
    }

    #[test]
    fn what_init_writes_validates() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("team-a");
        let cli = crate::cli::Cli::try_parse_from(["eksnet", "--region", "eu-west-1", "init", folder.to_str().unwrap(), "--zones", "a,b"]).unwrap();
        let crate::cli::Command::Init(args) = &cli.command else { panic!("init") };
        assert_eq!(init_command(&cli.global, args).unwrap(), 0);
        let stack = crate::stack::load(&folder.join("eksnet.yaml"), &Overrides::default()).unwrap();
        assert_eq!((stack.name.as_str(), stack.region.as_str()), ("team-a", "eu-west-1"));
        assert_eq!(stack.tiers.iter().map(|t| t.subnets.len()).collect::<Vec<_>>(), [2, 2, 2]);
        assert!(folder.join("templates/deployment.yaml").exists());
        // A second init does not overwrite what the first wrote.
        let again = init_command(&cli.global, args).unwrap_err().to_string();
        assert!(again.contains("already exists"), "{again}");
    }
}
