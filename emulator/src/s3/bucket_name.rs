//! S3's naming rules for general purpose buckets, in one place: the server layer refuses a
//! request naming a bucket that breaks them with `InvalidBucketName` and the broken rule, and
//! `s3s` path parsing uses the same rules (for in-process callers).
//!
//! Rules (S3 User Guide, "General purpose bucket naming rules"): 3 to 63 characters of
//! lowercase letters, digits, `.` and `-`; a letter or digit first and last; no `..`, `.-` or
//! `-.`; not an IPv4 address; none of the reserved prefixes `xn--`, `sthree-`,
//! `amzn-s3-demo-`; none of the reserved suffixes `-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`,
//! `--table-s3`.

use s3s::validation::NameValidation;

const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

/// Which rule `name` breaks, as the end of a sentence, or `Ok` for a valid name.
pub(crate) fn check(name: &str) -> Result<(), String> {
    if !(3..=63).contains(&name.len()) {
        return Err(format!(
            "is {} characters long; bucket names have 3 to 63",
            name.len()
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(format!(
            "contains {c:?}; only lowercase letters, digits, '.' and '-' are allowed"
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Err("must begin and end with a letter or digit".to_owned());
    }
    if let Some(pair) = ["..", ".-", "-."].into_iter().find(|p| name.contains(p)) {
        return Err(format!(
            "contains {pair:?}; '.' may not be next to '.' or '-'"
        ));
    }
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() == 4
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err("is formatted as an IP address".to_owned());
    }
    if let Some(prefix) = RESERVED_PREFIXES.iter().find(|p| name.starts_with(*p)) {
        return Err(format!("starts with the reserved prefix {prefix:?}"));
    }
    if let Some(suffix) = RESERVED_SUFFIXES.iter().find(|s| name.ends_with(*s)) {
        return Err(format!("ends with the reserved suffix {suffix:?}"));
    }
    Ok(())
}

/// [`check`] as `s3s`'s name validation.
pub(crate) struct S3BucketNames;

impl NameValidation for S3BucketNames {
    fn validate_bucket_name(&self, name: &str) -> bool {
        check(name).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn follows_s3s_general_purpose_bucket_rules() {
        let valid = [
            "abc",
            "flow-logs",
            "my.example.bucket",
            "a1-b2.c3",
            "192.168.5",
            "s3alias-first",
            &"a".repeat(63),
        ];
        for name in valid {
            assert_eq!(check(name), Ok(()), "{name}");
        }
        let invalid = [
            "ab",
            &"a".repeat(64),
            "Upper",
            "under_score",
            "-start",
            "end-",
            ".start",
            "a..b",
            "a.-b",
            "a-.b",
            "192.168.5.4",
            "xn--abc",
            "sthree-abc",
            "amzn-s3-demo-x",
            "abc-s3alias",
            "abc--ol-s3",
            "abc.mrap",
            "abc--x-s3",
            "abc--table-s3",
        ];
        for name in invalid {
            assert!(check(name).is_err(), "{name} should be refused");
        }
    }
}
