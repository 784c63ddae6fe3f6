//! The YAML parser's complaints in the stack's words: which key, what it holds, what is allowed.
//!
//! serde and serde-saphyr speak of Rust types ("invalid u32", "data did not match any variant of
//! untagged enum PortSpec"). A user wrote `min: -1`; they should read that `min` must be a whole
//! number from 0 up, and see what they wrote.

use crate::diagnostic::{Diagnostic, Span};

pub(crate) fn yaml_error(file: &str, text: &str, error: &serde_saphyr::Error) -> Diagnostic {
    let span = error.location().map(|l| Span { line: l.line(), column: l.column() });
    // The crate renders a snippet after the first line; we show our own location line instead.
    let rendered = error.to_string();
    let first = rendered.lines().next().unwrap_or("invalid YAML").trim();
    // Drop the crate's own "error: line L column C: " prefix; the location is shown below.
    let message = match first.strip_prefix("error: ").and_then(|rest| rest.split_once(": ")) {
        Some((position, rest)) if position.starts_with("line ") => rest.to_string(),
        _ => first.to_string(),
    };
    let (key, value) = span.as_ref().map(|s| key_and_value(text, s)).unwrap_or_default();
    let (message, hint) = in_stack_words(&message, key.as_deref(), value.as_deref());
    Diagnostic::new(file, span, message).hint(hint)
}

/// The key whose value starts at `span`, and the value as written (up to `,`, `}`, `]` or `#`).
fn key_and_value(text: &str, span: &Span) -> (Option<String>, Option<String>) {
    let Some(line) = text.lines().nth((span.line as usize).saturating_sub(1)) else { return (None, None) };
    let at = line.char_indices().nth((span.column as usize).saturating_sub(1)).map_or(line.len(), |(i, _)| i);
    let (before, after) = line.split_at(at);
    let key = before.trim_end().strip_suffix(':').map(|k| {
        let start = k.rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-')).map_or(0, |i| i + 1);
        k[start..].to_string()
    });
    let value = after.split([',', '}', ']', '#']).next().map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
    (key.filter(|k| !k.is_empty()), value)
}

fn in_stack_words(message: &str, key: Option<&str>, value: Option<&str>) -> (String, String) {
    let what = key.map_or("this value".to_string(), |k| format!("`{k}`"));
    let not = value.map_or(String::new(), |v| format!(", not `{v}`"));
    let example = key.unwrap_or("key");
    let whole = |max: u64| (format!("{what} must be a whole number from 0 to {max}{not}"), format!("write a whole number, e.g. `{example}: 1`"));
    match message {
        "invalid u8" => whole(u8::MAX.into()),
        "invalid u16" => whole(u16::MAX.into()),
        "invalid u32" => whole(u32::MAX.into()),
        "invalid u64" => whole(u64::MAX),
        "invalid boolean" => (format!("{what} must be true or false{not}"), format!("write `{example}: true` or `{example}: false`")),
        "expected string scalar" => {
            (format!("{what} must be a single value, not a list or a map"), "write one value after the colon; docs/stack.md shows each field".into())
        }
        m if m.contains("untagged enum PortSpec") => {
            (format!("`ports` must be a port number from 0 to 65535 or a range like \"1024-65535\"{not}"), "write `ports: 80` or `ports: \"8000-8080\"`".into())
        }
        m if m.starts_with("unknown field") => {
            let fix = match misspelt(m) {
                Some((word, known)) => crate::closest::did_you_mean(&word, known.iter().map(String::as_str)),
                None => None,
            };
            let hint = match fix {
                Some(fix) => format!("{fix} docs/stack.md lists every field"),
                None => "remove the key or fix its spelling; docs/stack.md lists every field".into(),
            };
            (m.to_string(), hint)
        }
        m if m.starts_with("unknown variant") => {
            let hint = match misspelt(m) {
                Some((word, known)) => {
                    crate::closest::did_you_mean(&word, known.iter().map(String::as_str)).unwrap_or_else(|| format!("write one of {}", known.join(", ")))
                }
                None => "fix the value at this position".into(),
            };
            (m.to_string(), hint)
        }
        m => (m.to_string(), "fix the YAML at this position".into()),
    }
}

/// What serde calls unknown and what it expected instead, from its message: "unknown variant
/// `singel`, expected one of none, single, per_az" (also "expected `a` or `b`", "expected `a`").
fn misspelt(message: &str) -> Option<(String, Vec<String>)> {
    let (head, expected) = message.split_once(", expected ")?;
    let word = head.split('`').nth(1)?.to_string();
    let list = expected.strip_prefix("one of ").unwrap_or(expected);
    let known = list.split(", ").flat_map(|part| part.split(" or ")).map(|w| w.trim().trim_matches('`').to_string()).filter(|w| !w.is_empty()).collect();
    Some((word, known))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn explain(yaml: &str, line: u64, column: u64, message: &str) -> (String, String) {
        let (key, value) = key_and_value(yaml, &Span { line, column });
        in_stack_words(message, key.as_deref(), value.as_deref())
    }

    #[test]
    fn numbers_and_booleans_are_named_by_their_key_and_value() {
        let yaml = "cluster:\n  nodegroups:\n    default:\n      scaling: {min: -1, desired: 1, max: 2}\n";
        let (message, hint) = explain(yaml, 4, 22, "invalid u32");
        assert_eq!(message, "`min` must be a whole number from 0 to 4294967295, not `-1`");
        assert_eq!(hint, "write a whole number, e.g. `min: 1`");
        let (message, _) = explain("  endpoint: {public: maybe}\n", 1, 22, "invalid boolean");
        assert_eq!(message, "`public` must be true or false, not `maybe`");
    }

    #[test]
    fn ports_out_of_range_say_what_ports_are() {
        let (message, _) = explain("      - {protocol: tcp, ports: 70000}\n", 1, 32, "data did not match any variant of untagged enum PortSpec");
        assert_eq!(message, "`ports` must be a port number from 0 to 65535 or a range like \"1024-65535\", not `70000`");
    }

    #[test]
    fn a_value_without_a_key_on_its_line_is_still_explained() {
        let (message, _) = explain("  - 300\n", 1, 5, "invalid u8");
        assert_eq!(message, "this value must be a whole number from 0 to 255, not `300`");
    }

    #[test]
    fn unknown_words_suggest_the_closest_known_one() {
        let (message, hint) = explain("nat: {public: singel}\n", 1, 15, "unknown variant `singel`, expected one of none, single, per_az");
        assert_eq!(message, "unknown variant `singel`, expected one of none, single, per_az");
        assert_eq!(hint, "did you mean `single`?");
        let (_, hint) = explain("nat: {public: two}\n", 1, 15, "unknown variant `two`, expected one of none, single, per_az");
        assert_eq!(hint, "write one of none, single, per_az", "nothing alike: the choices");
        let (_, hint) = explain("  cidrr: 10.0.0.0/16\n", 1, 3, "unknown field `cidrr`, expected `cidr` or `secondary_cidrs`");
        assert_eq!(hint, "did you mean `cidr`? docs/stack.md lists every field");
    }
}
