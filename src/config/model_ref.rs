//! A model's name across the whole program: `provider/model-id`, as routes, health records,
//! sessions and answers write it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A model reference `provider/model-id`, split at the first `/` so
/// `openrouter/anthropic/claude-sonnet-4.6` names model `anthropic/claude-sonnet-4.6` of
/// provider `openrouter`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ModelRef {
    /// Provider name: a key of the config's `[providers]` table.
    pub provider: String,
    /// The model id as the provider knows it.
    pub model: String,
}

impl ModelRef {
    /// Parses `provider/model-id`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        match s.split_once('/') {
            Some((p, m)) if !p.is_empty() && !m.is_empty() => Ok(Self {
                provider: p.to_string(),
                model: m.to_string(),
            }),
            _ => Err(format!(
                "`{s}` is not a model reference: write it as provider/model-id, e.g. anthropic/claude-sonnet-4-6"
            )),
        }
    }
}

impl TryFrom<String> for ModelRef {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<ModelRef> for String {
    fn from(m: ModelRef) -> String {
        m.to_string()
    }
}

/// `model == "provider/model-id"`, without building the string.
impl PartialEq<str> for ModelRef {
    fn eq(&self, other: &str) -> bool {
        other
            .split_once('/')
            .is_some_and(|(p, m)| p == self.provider && m == self.model)
    }
}

impl PartialEq<&str> for ModelRef {
    fn eq(&self, other: &&str) -> bool {
        *self == **other
    }
}

impl PartialEq<String> for ModelRef {
    fn eq(&self, other: &String) -> bool {
        *self == *other.as_str()
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// Unit tests write model references as string literals.
#[cfg(test)]
impl From<&str> for ModelRef {
    fn from(s: &str) -> Self {
        Self::parse(s).expect("a test's model reference is provider/model")
    }
}
