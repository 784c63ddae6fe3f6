//! Suggested commands as the user has to type them: an `eksnet …` that a message proposes
//! (`eksnet state unlock ID`, `eksnet apply plan.json`) repeats the stack file, state and
//! region of the run that printed it, so that it works when pasted. Flags the environment
//! gave (`EKSNET_STACK`, `EKSNET_REGION`) are left out: the environment still gives them.

use std::path::Path;

use crate::cli::Global;

/// The user's own flags, ready to go after `eksnet `.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Suggest {
    flags: String,
}

impl Suggest {
    /// From this run's flags and environment.
    pub(crate) fn new(g: &Global) -> Self {
        Self::from_flags(g, std::env::var_os("EKSNET_STACK").as_deref().map(Path::new), std::env::var("EKSNET_REGION").ok().as_deref())
    }

    fn from_flags(g: &Global, env_stack: Option<&Path>, env_region: Option<&str>) -> Self {
        let mut flags = String::new();
        if g.stack != Path::new("eksnet.yaml") && env_stack != Some(g.stack.as_path()) {
            flags += &format!("-f {} ", shell_word(&g.stack.display().to_string()));
        }
        if let Some(state) = &g.state {
            flags += &format!("--state {} ", shell_word(&state.display().to_string()));
        }
        if let Some(region) = g.region.as_deref().filter(|r| env_region != Some(*r)) {
            flags += &format!("--region {} ", shell_word(region));
        }
        Suggest { flags }
    }

    /// `eksnet -f stack.yaml ARGS`.
    pub(crate) fn command(&self, args: &str) -> String {
        format!("eksnet {}{args}", self.flags)
    }

    /// A message or hint with every suggested command in it (`` `eksnet … ` ``) given the
    /// user's flags.
    pub(crate) fn in_text(&self, text: &str) -> String {
        text.replace("`eksnet ", &format!("`{}", self.command("")))
    }
}

/// A path or word as one shell word (quoted when it holds anything but plain characters).
pub(crate) fn shell_word(text: &str) -> String {
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:@".contains(c)) {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn suggest(args: &[&str], env_stack: Option<&str>, env_region: Option<&str>) -> Suggest {
        let cli = Cli::try_parse_from(["eksnet"].iter().chain(args).chain(&["validate"])).unwrap();
        Suggest::from_flags(&cli.global, env_stack.map(Path::new), env_region)
    }

    #[test]
    fn suggested_commands_repeat_the_users_stack_state_and_region() {
        let s = suggest(&["-f", "stacks/demo.yaml", "--state", "my state.json", "--region", "ap-southeast-2", "--parallelism", "3"], None, None);
        assert_eq!(s.command("state unlock 42"), "eksnet -f stacks/demo.yaml --state 'my state.json' --region ap-southeast-2 state unlock 42");
        assert_eq!(
            s.in_text("if it is dead run `eksnet state unlock 42`, then `eksnet plan`"),
            "if it is dead run `eksnet -f stacks/demo.yaml --state 'my state.json' --region ap-southeast-2 state unlock 42`, then \
             `eksnet -f stacks/demo.yaml --state 'my state.json' --region ap-southeast-2 plan`"
        );
        // Words that are not a command to run are left alone.
        assert_eq!(s.in_text("the state is locked by eksnet apply"), "the state is locked by eksnet apply");
    }

    #[test]
    fn defaults_and_the_environment_need_no_flag() {
        assert_eq!(suggest(&[], None, None).command("apply plan.json"), "eksnet apply plan.json");
        assert_eq!(suggest(&["-f", "eksnet.yaml"], None, None).command("plan"), "eksnet plan");
        assert_eq!(suggest(&["-f", "ci.yaml", "--region", "us-east-1"], Some("ci.yaml"), Some("us-east-1")).command("plan"), "eksnet plan");
        assert_eq!(suggest(&["--region", "us-east-1"], None, Some("eu-west-1")).command("plan"), "eksnet --region us-east-1 plan");
    }
}
