//! Talking to ONE model: the provider-neutral request and event types, and dispatch to the
//! client for each provider kind. No retries and no failover here (that is `router/`).
//!
//! Contract every client keeps: `stream` returns once response headers (or the local model's
//! first step) are in, or a classified [`ProviderError`]; the stream then yields text,
//! thinking and tool-call events ([`ChatEvent`]) and usage as they arrive and ends with exactly one
//! [`ChatEvent::Done`] when, and only when, the provider's terminal event was seen. A stream
//! that ends without it yields `Err(ErrorClass::Truncated)` instead; an error event in the
//! stream yields the classified error. Timeouts between chunks are applied by the caller.

pub mod anthropic;
pub mod aws;
pub mod bedrock;
pub mod bounds;
pub mod cloud;
pub mod error;
#[cfg(test)]
mod fuzz;
pub mod gemini;
pub mod google_auth;
pub mod http;
pub mod local;
pub mod openai;
pub mod sse;
pub mod vertex;
#[cfg(test)]
mod wire_props;

use std::pin::Pin;

use futures_util::Stream;
use serde::{Deserialize, Serialize};

pub use crate::conversation::{
    Block, ChatEvent, Message, Role, StopReason, Tool, ToolChoice, Usage, Vendor,
};
pub use error::{ErrorClass, ProviderError};

use crate::config::{ProviderKind, ProviderSettings};

/// A provider-neutral chat request. Each client maps it to its wire format.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// System prompt, sent the way each provider wants it (Anthropic `system`, OpenAI a
    /// `system` message, Gemini `systemInstruction`).
    pub system: Option<String>,
    /// The conversation, oldest first; the last message is normally the user's.
    pub messages: Vec<Message>,
    /// Tools the model may call.
    pub tools: Vec<Tool>,
    /// Whether and which tool the model must call (`None`: the provider's default, auto).
    pub tool_choice: Option<ToolChoice>,
    /// Extended thinking: the reasoning token budget, when the caller asks for reasoning.
    pub thinking_budget: Option<u32>,
    /// Output token limit (Anthropic requires one: clients fill in a default).
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// Nucleus sampling.
    pub top_p: Option<f32>,
    /// Top-k sampling (Anthropic, Gemini, local).
    pub top_k: Option<u32>,
    /// Seed (OpenAI, local).
    pub seed: Option<u64>,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// A GBNF grammar that constrains the local model's output; remote models ignore it and
    /// are asked for JSON in the prompt instead.
    pub grammar: Option<String>,
    /// What a gateway client sent beyond the neutral request, replayed only when the request
    /// goes to the client's own vendor.
    #[serde(skip)]
    pub passthrough: Option<std::sync::Arc<Passthrough>>,
}

/// A gateway client's own request fields (top-level body fields aiw does not model, such as
/// Anthropic `context_management`, or ones it models less exactly, such as a list-form
/// `system` with `cache_control`) and headers (`anthropic-beta`). A client of that vendor
/// gets them back unchanged; any other vendor never sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Passthrough {
    /// The client's wire.
    pub vendor: Vendor,
    /// Top-level body fields, replacing aiw's rendering of the same field.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Headers to send as they came.
    pub headers: Vec<(String, String)>,
}

impl ChatRequest {
    /// The passthrough for `vendor`, if the request has one for it.
    pub fn passthrough_for(&self, vendor: Vendor) -> Option<&Passthrough> {
        self.passthrough.as_deref().filter(|p| p.vendor == vendor)
    }
}

impl ChatRequest {
    /// A request with one user message of text.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            messages: vec![Message::user(text)],
            ..Self::default()
        }
    }
}

/// A stream of answer events from one model.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<ChatEvent, ProviderError>> + Send>>;

/// A client for one configured provider. Static dispatch over the provider kinds.
#[derive(Clone)]
pub enum Client {
    /// Anthropic Messages API.
    Anthropic(anthropic::AnthropicClient),
    /// OpenAI Chat Completions, or any OpenAI-compatible server.
    OpenAi(openai::OpenAiClient),
    /// Google Gemini generateContent.
    Gemini(gemini::GeminiClient),
    /// Claude on Amazon Bedrock.
    Bedrock(bedrock::BedrockClient),
    /// Claude and Gemini on Google Vertex AI.
    Vertex(vertex::VertexClient),
    /// The in-process llama.cpp model.
    Local(local::LocalClient),
}

impl Client {
    /// Builds the client for a configured provider, sharing one HTTP client (one connection
    /// pool) across all remote providers.
    pub fn new(
        settings: &ProviderSettings,
        http: &reqwest::Client,
        data_dir: &std::path::Path,
    ) -> Self {
        match settings.kind {
            ProviderKind::Anthropic => {
                Self::Anthropic(anthropic::AnthropicClient::new(settings, http.clone()))
            }
            ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => {
                Self::OpenAi(openai::OpenAiClient::new(settings, http.clone()))
            }
            ProviderKind::Gemini => Self::Gemini(gemini::GeminiClient::new(settings, http.clone())),
            ProviderKind::Bedrock => {
                Self::Bedrock(bedrock::BedrockClient::new(settings, http.clone()))
            }
            ProviderKind::Vertex => Self::Vertex(vertex::VertexClient::new(settings, http.clone())),
            ProviderKind::Local => Self::Local(local::LocalClient::with_data_dir(
                settings,
                data_dir.to_path_buf(),
            )),
        }
    }

    /// Starts a streamed answer from `model`.
    pub async fn stream(
        &self,
        model: &str,
        req: &ChatRequest,
    ) -> Result<EventStream, ProviderError> {
        match self {
            Self::Anthropic(c) => c.stream(model, req).await,
            Self::OpenAi(c) => c.stream(model, req).await,
            Self::Gemini(c) => c.stream(model, req).await,
            Self::Bedrock(c) => c.stream(model, req).await,
            Self::Vertex(c) => c.stream(model, req).await,
            Self::Local(c) => c.stream(model, req).await,
        }
    }

    /// A minimal real generation (one token) that succeeds only when the provider answers
    /// with its terminal event; used by circuit-breaker probes. Timeouts are the caller's.
    pub async fn probe(&self, model: &str) -> Result<(), ProviderError> {
        match self {
            Self::Anthropic(c) => c.probe(model).await,
            Self::OpenAi(c) => c.probe(model).await,
            Self::Gemini(c) => c.probe(model).await,
            Self::Bedrock(c) => c.probe(model).await,
            Self::Vertex(c) => c.probe(model).await,
            // Placeholder until the local tier grows its own probe.
            Self::Local(c) => c.probe(model).await.map(|_| ()),
        }
    }

    /// The wire family `model` speaks through this client (which thinking signatures and
    /// opaque blocks it can take back). Per model because Vertex AI hosts both Claude and
    /// Gemini; Claude's signatures are valid on all three of its hosts.
    pub fn vendor(&self, model: &str) -> Vendor {
        match self {
            Self::Anthropic(_) | Self::Bedrock(_) => Vendor::Anthropic,
            Self::OpenAi(_) => Vendor::OpenAi,
            Self::Gemini(_) => Vendor::Gemini,
            Self::Vertex(c) => c.vendor(model),
            Self::Local(_) => Vendor::Local,
        }
    }

    /// Whether this is the local tier (never subject to network outages).
    pub fn is_local(&self) -> bool {
        matches!(self, Self::Local(_))
    }
}
