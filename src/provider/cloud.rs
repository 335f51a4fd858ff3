//! What the two cloud hosts of other vendors' models (Amazon Bedrock, Google Vertex AI) share:
//! the built-in table that names "the same Claude model" on each host, the lookup that puts a
//! provider's `[providers.NAME.models]` map over it, and the capped read of a credentials file.
//!
//! A route names a model the way Anthropic's API does (`bedrock/claude-sonnet-4-6`); the host
//! client sends the host's own id (`anthropic.claude-sonnet-4-6` on Bedrock,
//! `claude-sonnet-4-5@20250929` on Vertex). An id found in neither the map nor the table is
//! sent as written, so a route may also name a host id directly
//! (`bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0`).
//! See: <https://platform.claude.com/docs/en/about-claude/models/model-ids-and-versions>

use std::collections::BTreeMap;
use std::path::Path;

/// One Claude model under its names on the three hosts.
struct HostedModel {
    /// Anthropic API ids that name it (alias first, then the dated id).
    api: &'static [&'static str],
    /// Amazon Bedrock model id (in-region; cross-region inference profiles add a `us.`,
    /// `eu.`, `apac.` or `global.` prefix, set them in `[providers.NAME.models]`).
    bedrock: &'static str,
    /// Google Vertex AI model id.
    vertex: &'static str,
}

/// Current Claude models. From the 4.6 generation on, ids carry no date.
const MODELS: &[HostedModel] = &[
    HostedModel {
        api: &["claude-opus-4-7"],
        bedrock: "anthropic.claude-opus-4-7",
        vertex: "claude-opus-4-7",
    },
    HostedModel {
        api: &["claude-opus-4-6"],
        bedrock: "anthropic.claude-opus-4-6-v1",
        vertex: "claude-opus-4-6",
    },
    HostedModel {
        api: &["claude-sonnet-4-6"],
        bedrock: "anthropic.claude-sonnet-4-6",
        vertex: "claude-sonnet-4-6",
    },
    HostedModel {
        api: &["claude-opus-4-5", "claude-opus-4-5-20251101"],
        bedrock: "anthropic.claude-opus-4-5-20251101-v1:0",
        vertex: "claude-opus-4-5@20251101",
    },
    HostedModel {
        api: &["claude-sonnet-4-5", "claude-sonnet-4-5-20250929"],
        bedrock: "anthropic.claude-sonnet-4-5-20250929-v1:0",
        vertex: "claude-sonnet-4-5@20250929",
    },
    HostedModel {
        api: &["claude-haiku-4-5", "claude-haiku-4-5-20251001"],
        bedrock: "anthropic.claude-haiku-4-5-20251001-v1:0",
        vertex: "claude-haiku-4-5@20251001",
    },
    HostedModel {
        api: &["claude-opus-4-1", "claude-opus-4-1-20250805"],
        bedrock: "anthropic.claude-opus-4-1-20250805-v1:0",
        vertex: "claude-opus-4-1@20250805",
    },
    HostedModel {
        api: &["claude-sonnet-4-0", "claude-sonnet-4-20250514"],
        bedrock: "anthropic.claude-sonnet-4-20250514-v1:0",
        vertex: "claude-sonnet-4@20250514",
    },
    HostedModel {
        api: &["claude-opus-4-0", "claude-opus-4-20250514"],
        bedrock: "anthropic.claude-opus-4-20250514-v1:0",
        vertex: "claude-opus-4@20250514",
    },
];

/// Which cloud host a model id is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// Amazon Bedrock.
    Bedrock,
    /// Google Vertex AI.
    Vertex,
}

/// The id to send to `host` for the model a route names: the provider's own map first, then
/// the built-in table, else the name as written.
pub fn model_id(host: Host, model: &str, overrides: &BTreeMap<String, String>) -> String {
    if let Some(id) = overrides.get(model) {
        return id.clone();
    }
    MODELS.iter().find(|m| m.api.contains(&model)).map_or_else(
        || model.to_string(),
        |m| {
            match host {
                Host::Bedrock => m.bedrock,
                Host::Vertex => m.vertex,
            }
            .to_string()
        },
    )
}

/// Largest credentials file read (an AWS credentials file, a service-account key): real ones
/// are a few KiB.
const MAX_CREDENTIALS_FILE: u64 = 1024 * 1024;

/// Reads a credentials file: a regular file of at most 1 MiB of UTF-8. The error is a phrase
/// for a message and never quotes the content.
pub async fn read_credentials_file(path: &Path) -> Result<String, String> {
    let meta = tokio::fs::metadata(path)
        .await
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if !meta.is_file() || meta.len() > MAX_CREDENTIALS_FILE {
        return Err(format!(
            "{} is not a regular file of at most 1 MiB",
            path.display()
        ));
    }
    let bytes = tokio::fs::read(path)
        .await
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8 text", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_model_on_each_host() {
        let none = BTreeMap::new();
        assert_eq!(
            model_id(Host::Bedrock, "claude-sonnet-4-6", &none),
            "anthropic.claude-sonnet-4-6"
        );
        assert_eq!(
            model_id(Host::Vertex, "claude-sonnet-4-6", &none),
            "claude-sonnet-4-6"
        );
        assert_eq!(
            model_id(Host::Bedrock, "claude-sonnet-4-5-20250929", &none),
            "anthropic.claude-sonnet-4-5-20250929-v1:0"
        );
        assert_eq!(
            model_id(Host::Vertex, "claude-haiku-4-5", &none),
            "claude-haiku-4-5@20251001"
        );
        // Host ids and unknown models pass through.
        assert_eq!(
            model_id(Host::Bedrock, "us.anthropic.claude-x-v1:0", &none),
            "us.anthropic.claude-x-v1:0"
        );
        assert_eq!(
            model_id(Host::Vertex, "gemini-2.5-flash", &none),
            "gemini-2.5-flash"
        );
    }

    #[test]
    fn the_config_map_wins() {
        let map = BTreeMap::from([(
            "claude-sonnet-4-6".to_string(),
            "global.anthropic.claude-sonnet-4-6".to_string(),
        )]);
        assert_eq!(
            model_id(Host::Bedrock, "claude-sonnet-4-6", &map),
            "global.anthropic.claude-sonnet-4-6"
        );
        assert_eq!(
            model_id(Host::Bedrock, "claude-opus-4-6", &map),
            "anthropic.claude-opus-4-6-v1"
        );
    }

    #[test]
    fn every_table_row_is_well_formed() {
        for m in MODELS {
            assert!(m.bedrock.starts_with("anthropic.claude-"), "{}", m.bedrock);
            assert!(m.vertex.starts_with("claude-"), "{}", m.vertex);
            assert!(m.api.iter().all(|a| a.starts_with("claude-")));
        }
    }
}
