//! Site24x7 regexes (Python `(?P<name>…)` or Java `(?<name>…)` syntax) compiled for Rust.
//!
//! Rust's `regex` crate already accepts both named-group spellings; what it lacks are
//! look-around and back-references, and Python spells "end of text" `\Z`. This module rewrites
//! what has a Rust equivalent and names what has none, so a config error says which construct to
//! change instead of printing a parser trace.

use regex::Regex;

/// Why a configured regex cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// A Python/Java construct the linear-time engine does not support.
    #[error("uses {construct}, which this forwarder cannot run; {fix}")]
    Unsupported {
        /// The construct found, e.g. "a look-ahead `(?=`".
        construct: &'static str,
        /// How to rewrite the pattern.
        fix: &'static str,
    },
    /// The translated pattern does not compile.
    #[error(
        "does not compile; fix: correct the pattern (Python `(?P<name>…)` and Java `(?<name>…)` groups both work): {0}"
    )]
    Syntax(String),
}

/// Rewrites a Python/Java pattern into Rust syntax (`(?P<n>` → `(?<n>`, `\Z` → `\z`).
///
/// # Errors
/// [`PatternError::Unsupported`] for look-around and back-references.
pub fn translate(pattern: &str) -> Result<String, PatternError> {
    let bytes = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    let mut in_class = false;
    while i < bytes.len() {
        let rest = &pattern[i..];
        let c = rest.chars().next().unwrap_or_default();
        if c == '\\' {
            let next = rest[1..].chars().next();
            match next {
                Some('Z') if !in_class => out.push_str("\\z"),
                Some(d) if d.is_ascii_digit() && d != '0' && !in_class => {
                    return Err(PatternError::Unsupported {
                        construct: "a numbered back-reference (`\\1`)",
                        fix: "match the repeated text with its own group instead",
                    });
                }
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
            i += 1 + next.map_or(0, char::len_utf8);
            continue;
        }
        if in_class {
            if c == ']' {
                in_class = false;
            }
        } else if c == '[' {
            in_class = true;
            // A `]` right after `[` or `[^` is a literal member, not the end.
            out.push('[');
            i += 1;
            for lead in ["^]", "]", "^"] {
                if pattern[i..].starts_with(lead) {
                    out.push_str(lead);
                    i += lead.len();
                    break;
                }
            }
            continue;
        } else if c == '(' {
            for (prefix, construct) in [
                ("(?=", "a look-ahead `(?=`"),
                ("(?!", "a negative look-ahead `(?!`"),
                ("(?<=", "a look-behind `(?<=`"),
                ("(?<!", "a negative look-behind `(?<!`"),
                ("(?P=", "a named back-reference `(?P=name)`"),
            ] {
                if rest.starts_with(prefix) {
                    return Err(PatternError::Unsupported {
                        construct,
                        fix: "rewrite the pattern without look-around or back-references",
                    });
                }
            }
            if rest.starts_with("(?P<") {
                out.push_str("(?<");
                i += 4;
                continue;
            }
        }
        out.push(c);
        i += c.len_utf8();
    }
    Ok(out)
}

/// Translates and compiles a configured pattern.
///
/// # Errors
/// [`PatternError`] when it uses an unsupported construct or does not compile.
pub fn compile(pattern: &str) -> Result<Regex, PatternError> {
    let translated = translate(pattern)?;
    Regex::new(&translated).map_err(|e| PatternError::Syntax(e.to_string()))
}

/// Names of a regex's named groups in pattern order (Python's `groupdict()` keys).
#[must_use]
pub fn group_names(regex: &Regex) -> Vec<(usize, String)> {
    regex
        .capture_names()
        .enumerate()
        .filter_map(|(index, name)| name.map(|n| (index, n.to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{compile, translate};

    #[test]
    fn python_and_java_named_groups_become_rust_groups() {
        let cases = [
            (r"(?P<a>\d+) (?<b>\S+)\Z", r"(?<a>\d+) (?<b>\S+)\z"),
            (r"[\Z(?P<x>]", r"[\Z(?P<x>]"),
            (r"[]a] (?P<c>.)", r"[]a] (?<c>.)"),
            (r"\\(?P<d>x)", r"\\(?<d>x)"),
        ];
        for (python, rust) in cases {
            assert_eq!(translate(python).as_deref(), Ok(rust), "input {python:?}");
        }
    }

    #[test]
    fn look_around_and_back_references_are_named_in_the_error() {
        for pattern in [r"a(?=b)", r"(?<!x)y", r"(?P<q>a)(?P=q)", r"(a)\1"] {
            let err = compile(pattern).expect_err(pattern).to_string();
            assert!(err.contains("uses a"), "{pattern}: {err}");
        }
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_a_syntax_error() {
        assert!(
            compile("(?P<open>abc")
                .expect_err("unclosed")
                .to_string()
                .contains("compile")
        );
    }
}
