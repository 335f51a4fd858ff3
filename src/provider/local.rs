//! The local llama.cpp tier (placeholder until the local engine lands).

use super::{ChatRequest, ErrorClass, EventStream, ProviderError};
use crate::config::ProviderSettings;

/// Client for the in-process local model.
#[derive(Clone)]
pub struct LocalClient;

impl LocalClient {
    /// Builds the client.
    pub fn new(_settings: &ProviderSettings) -> Self {
        Self
    }

    /// Loads the model in the background so a later switch to it does not pay the load time.
    pub fn prewarm(&self, _model: &str) {}

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
