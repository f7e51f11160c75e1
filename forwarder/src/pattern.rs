//! Site24x7 regexes (Python `(?P<name>…)` or Java `(?<name>…)` syntax) compiled for Rust.
//!
//! Rust's `regex` crate already accepts both named-group spellings; what it lacks are
//! look-around and back-references, and Python spells "end of text" `\Z`. This module rewrites
//! what has a Rust equivalent and names what has none, so a config error says which construct to
//! change instead of printing a parser trace.
//!
//! Every pattern is compiled within the bounds of [`crate::limits`]: at most
//! [`MAX_REGEX_GROUPS`] capture groups (matching cost grows with them: 1,000 groups took minutes
//! and gigabytes for a few thousand lines) and [`REGEX_SIZE_LIMIT`] of compiled program.

use regex::{Regex, RegexBuilder};

use crate::limits::{MAX_REGEX_GROUPS, REGEX_DFA_SIZE_LIMIT, REGEX_SIZE_LIMIT, bounded};

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
    /// The translated pattern does not compile (the parser's message, cut short).
    #[error(
        "does not compile; fix: correct the pattern (Python `(?P<name>…)` and Java `(?<name>…)` groups both work): {0}"
    )]
    Syntax(String),
    /// More capture groups than [`MAX_REGEX_GROUPS`].
    #[error(
        "has {groups} capture groups, more than the limit of {limit}; fix: capture only the \
         fields you need (a flow-log line has at most about 40), use `(?:…)` for the rest"
    )]
    TooManyGroups {
        /// Capture groups in the pattern, named or not.
        groups: usize,
        /// [`MAX_REGEX_GROUPS`].
        limit: usize,
    },
    /// The compiled program would exceed [`REGEX_SIZE_LIMIT`].
    #[error(
        "compiles to more than the limit of {} MiB; fix: use fewer or smaller counted \
         repetitions (`{{n}}`) and Unicode classes (`\\w`, `\\d` are Unicode: `[0-9]` is smaller)",
        limit / (1024 * 1024)
    )]
    TooBig {
        /// [`REGEX_SIZE_LIMIT`] in bytes.
        limit: usize,
    },
}

/// Rewrites a Python/Java pattern into Rust syntax (`(?P<n>` → `(?<n>`, `\Z` → `\z`).
///
/// # Errors
/// [`PatternError::Unsupported`] for look-around and back-references.
pub fn translate(pattern: &str) -> Result<String, PatternError> {
    translate_counting(pattern).map(|(translated, _)| translated)
}

/// [`translate`], also counting the capture groups (named or not), so an oversized pattern is
/// refused before it is compiled.
fn translate_counting(pattern: &str) -> Result<(String, usize), PatternError> {
    let bytes = pattern.as_bytes();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    let mut in_class = false;
    let mut groups = 0;
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
            if !rest[1..].starts_with('?') || rest.starts_with("(?<") {
                groups += 1;
            }
            if rest.starts_with("(?P<") {
                groups += 1;
                out.push_str("(?<");
                i += 4;
                continue;
            }
        }
        out.push(c);
        i += c.len_utf8();
    }
    Ok((out, groups))
}

/// Translates and compiles a configured pattern within the limits of [`crate::limits`].
///
/// # Errors
/// [`PatternError`] when it uses an unsupported construct, does not compile, has more than
/// [`MAX_REGEX_GROUPS`] capture groups or compiles bigger than [`REGEX_SIZE_LIMIT`].
pub fn compile(pattern: &str) -> Result<Regex, PatternError> {
    let (translated, groups) = translate_counting(pattern)?;
    let too_many = |groups| PatternError::TooManyGroups {
        groups,
        limit: MAX_REGEX_GROUPS,
    };
    if groups > MAX_REGEX_GROUPS {
        return Err(too_many(groups));
    }
    let regex = RegexBuilder::new(&translated)
        .size_limit(REGEX_SIZE_LIMIT)
        .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => PatternError::TooBig {
                limit: REGEX_SIZE_LIMIT,
            },
            other => PatternError::Syntax(bounded(other)),
        })?;
    // The parser's own count (group 0 is the whole match) settles any case the scan missed.
    let groups = regex.captures_len() - 1;
    if groups > MAX_REGEX_GROUPS {
        return Err(too_many(groups));
    }
    Ok(regex)
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
    use super::{compile, translate, translate_counting};

    #[test]
    fn capture_groups_are_counted_named_or_not_outside_classes_and_escapes() {
        let cases = [
            (r"(a)(?:b)(?P<c>d)(?<e>f)[(]\(", 3),
            (r"(?i)abc", 0),
            (r"((a)(b))", 3),
            (r"[\](](x)", 1),
        ];
        for (pattern, groups) in cases {
            let counted = translate_counting(pattern).map(|(_, n)| n);
            assert_eq!(counted, Ok(groups), "{pattern}");
            if let Ok(regex) = compile(pattern) {
                assert_eq!(regex.captures_len() - 1, groups, "{pattern}");
            }
        }
    }

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
