//! Diagnostics: problems with the user's input, each pointing at file:line:column with a hint;
//! and `Help`, a failure that knows its fix. Both are rendered in one place (`app::run`).

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub line: u64,
    pub column: u64,
}

#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub file: String,
    pub span: Option<Span>,
    pub message: String,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(file: &str, span: Option<Span>, message: impl Into<String>) -> Self {
        Diagnostic { file: file.into(), span, message: message.into(), hint: None }
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}\n  --> {}", self.message, self.file)?;
        if let Some(span) = &self.span {
            write!(f, ":{}:{}", span.line, span.column)?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  = help: {hint}")?;
        }
        Ok(())
    }
}

/// All the problems found in one input, reported together.
#[derive(Debug, thiserror::Error)]
pub struct Invalid(pub Vec<Diagnostic>);

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{d}")?;
        }
        let n = self.0.len();
        write!(f, "{n} problem{} found; nothing was created", if n == 1 { "" } else { "s" })
    }
}

/// A failure that knows what the user can do about it. The fix is data, rendered once as
/// `= help:` under the message (app::run), whatever context the error gathered on its way.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Help {
    pub message: String,
    pub help: String,
}

/// An error with its fix.
pub fn help(message: impl Into<String>, help: impl Into<String>) -> anyhow::Error {
    Help { message: message.into(), help: help.into() }.into()
}

/// An error with its fix when there is one.
pub fn maybe_help(message: impl Into<String>, fix: Option<String>) -> anyhow::Error {
    match fix {
        Some(fix) => help(message, fix),
        None => anyhow::anyhow!(message.into()),
    }
}
