//! The named styles of eksnet's terminal output. The renderers say what a piece of text is
//! (an addition, a deletion, an error); the printer (ui.rs) decides how that looks, or that it
//! is plain (no terminal, `NO_COLOR`, `--color never`).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Add,
    Change,
    Replace,
    Delete,
    Error,
    Warning,
}

impl Style {
    /// The ANSI SGR code of the style.
    pub fn ansi(self) -> &'static str {
        match self {
            Style::Add => "32",
            Style::Change => "33",
            Style::Replace => "35",
            Style::Delete => "31",
            Style::Error => "31;1",
            Style::Warning => "33;1",
        }
    }
}

/// How a renderer asks for styled text.
pub type Paint<'a> = &'a dyn Fn(Style, &str) -> String;

/// Text as it is, for tests.
#[cfg(test)]
pub fn plain(_: Style, text: &str) -> String {
    text.to_string()
}
