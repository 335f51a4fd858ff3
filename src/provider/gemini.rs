//! gemini client (placeholder until the provider clients land).

use super::{ChatRequest, ErrorClass, EventStream, ProviderError};
use crate::config::ProviderSettings;

/// Client for one configured gemini provider.
#[derive(Clone)]
pub struct GeminiClient {
    _http: reqwest::Client,
}

impl GeminiClient {
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
