//! openai client (placeholder until the provider clients land).

use super::{ChatRequest, ErrorClass, EventStream, ProviderError};
use crate::config::ProviderSettings;

/// Client for one configured openai provider.
#[derive(Clone)]
pub struct OpenAiClient {
    _http: reqwest::Client,
}

impl OpenAiClient {
    /// Builds the client.
    pub fn new(_settings: &ProviderSettings, http: reqwest::Client) -> Self {
        Self { _http: http }
    }

    /// Starts a streamed answer.
    pub async fn stream(
        &self,
        _model: &str,
        _req: &ChatRequest,
    ) -> Result<EventStream, ProviderError> {
        Err(ProviderError::new(
            ErrorClass::Unavailable,
            "not implemented yet",
        ))
    }
}
