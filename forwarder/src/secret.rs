//! A string that must never reach logs, errors or snapshots.

use std::fmt;

/// Holds a credential such as Site24x7's `apiKey` (sent as `X-DeviceKey`).
///
/// `Debug` and `Display` print `<redacted>`, so a secret can sit inside any
/// config or error type that derives `Debug` without leaking. Reading the value
/// takes a deliberate call to [`Secret::expose`].
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself: call only where it goes on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether no credential was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::Secret;

    #[test]
    fn never_prints_the_value() {
        let secret = Secret::new("ab12cd34");
        assert_eq!(format!("{secret:?} {secret}"), "<redacted> <redacted>");
        assert_eq!(secret.expose(), "ab12cd34");
    }
}
