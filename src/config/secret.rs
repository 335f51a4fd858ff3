//! The `Secret` newtype that holds API keys: its `Debug` and `Display` are redacted, it never
//! serializes, and the only way to the raw value is the explicit `expose()`.

use std::fmt;

/// An API key or token. Prints as `[redacted]` everywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a raw key.
    pub fn new(raw: impl Into<String>) -> Self {
        Self(raw.into())
    }

    /// The raw value, for the one place that puts it in a request header.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Removes every occurrence of the key from `text`, for error messages that echo what a
    /// server or proxy sent back (some echo the key, e.g. "Incorrect API key provided: sk-...").
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            return text.to_string();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_key() {
        let s = Secret::new("sk-ant-very-secret-123");
        assert!(!format!("{s:?}").contains("very-secret"));
        assert!(!format!("{s}").contains("very-secret"));
        assert_eq!(s.expose(), "sk-ant-very-secret-123");
        assert_eq!(
            s.scrub("Incorrect API key provided: sk-ant-very-secret-123."),
            "Incorrect API key provided: [redacted]."
        );
    }
}
