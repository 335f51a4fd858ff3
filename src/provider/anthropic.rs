//! The Anthropic Messages API client: its typed wire structs, request building
//! (`POST {base}/v1/messages`) from content blocks (text, images, `tool_use`, `tool_result`,
//! signed `thinking`, opaque blocks replayed as they came), the mapping of its named SSE events
//! (`message_start` … `message_stop`, `ping`, `error`; text, thinking, signature and
//! `input_json_delta` deltas) to [`ChatEvent`]s, and [`classify`] for its error responses.
//!
//! See: <https://platform.claude.com/docs/en/build-with-claude/streaming>.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::http::{self, Endpoint, Progress, StreamMapper};
use super::sse::{Mode, SseEvent};
use super::{
    Block, ChatEvent, ChatRequest, ErrorClass, EventStream, ProviderError, Role, StopReason,
    ToolChoice, Usage, Vendor,
};
use crate::config::{ProviderSettings, Secret};
use crate::conversation::history::for_vendor;
use crate::conversation::{CacheControl, ImageSource};

/// The API version header value both official SDKs hard-code.
const ANTHROPIC_VERSION: &str = "2023-06-01";
/// `max_tokens` is required by the API; used when the request does not set one.
pub const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Client for one configured Anthropic provider.
#[derive(Clone)]
pub struct AnthropicClient {
    http: reqwest::Client,
    settings: ProviderSettings,
}

impl AnthropicClient {
    /// Builds the client.
    pub fn new(settings: &ProviderSettings, http: reqwest::Client) -> Self {
        Self {
            http,
            settings: settings.clone(),
        }
    }

    /// Starts a streamed answer.
    pub async fn stream(
        &self,
        model: &str,
        req: &ChatRequest,
    ) -> Result<EventStream, ProviderError> {
        let key = http::require_key(&self.settings)?;
        let ep = Endpoint {
            provider: &self.settings.name,
            key: Some(key),
            classify,
        };
        let url = format!("{}/v1/messages", self.settings.base_url);
        let resp = http::send(
            &self.http,
            &url,
            headers(key, req)?,
            request_body(model, req),
            ep,
        )
        .await?;
        Ok(http::event_stream(
            resp,
            Mode::Standard,
            AnthropicMapper::default(),
            ep,
        ))
    }

    /// A one-token real generation; `Ok` when the stream reaches `message_stop`.
    pub async fn probe(&self, model: &str) -> Result<(), ProviderError> {
        http::drain(self.stream(model, &http::probe_request()).await?).await
    }
}

fn headers(key: &Secret, req: &ChatRequest) -> Result<HeaderMap, ProviderError> {
    let mut h = HeaderMap::new();
    // A gateway client's beta headers, as it sent them (only ever to Anthropic).
    for (name, value) in req
        .passthrough_for(Vendor::Anthropic)
        .map(|p| p.headers.as_slice())
        .unwrap_or_default()
    {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            h.append(n, v);
        }
    }
    h.insert(
        HeaderName::from_static("x-api-key"),
        http::secret_header("", key)?,
    );
    h.insert(
        HeaderName::from_static("anthropic-version"),
        HeaderValue::from_static(ANTHROPIC_VERSION),
    );
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(ACCEPT, HeaderValue::from_static("application/json"));
    Ok(h)
}

/// A Messages request body. Content is always sent in block form. Cloud hosts name the model
/// in the URL and the API version in the body (see [`hosted_request_body`]).
#[derive(Serialize)]
struct AnthropicRequest<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    anthropic_version: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    max_tokens: u32,
    messages: Vec<AnthropicMessage<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<AnthropicTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<AnthropicToolChoice<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking: Option<AnthropicThinking>,
    /// A gateway client's own fields (see [`super::Passthrough`]).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    passthrough: Option<&'a serde_json::Map<String, Value>>,
}

#[derive(Serialize)]
struct AnthropicMessage<'a> {
    role: &'static str,
    content: Vec<AnthropicOut<'a>>,
}

/// An outgoing block: typed, or an opaque block replayed as the vendor sent it.
#[derive(Serialize)]
#[serde(untagged)]
enum AnthropicOut<'a> {
    Block(AnthropicBlock<'a>),
    Raw(&'a Value),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AnthropicBlock<'a> {
    Text {
        text: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        cache_control: Option<&'a CacheControl>,
    },
    Image {
        source: AnthropicImageSource<'a>,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: Vec<AnthropicOut<'a>>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AnthropicImageSource<'a> {
    Base64 { media_type: &'a str, data: &'a str },
    Url { url: &'a str },
}

#[derive(Serialize)]
struct AnthropicTool<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    input_schema: &'a Value,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AnthropicToolChoice<'a> {
    Auto,
    Any,
    None,
    Tool { name: &'a str },
}

#[derive(Serialize)]
struct AnthropicThinking {
    #[serde(rename = "type")]
    kind: &'static str,
    budget_tokens: u32,
}

fn out_block(b: &Block) -> Option<AnthropicOut<'_>> {
    Some(AnthropicOut::Block(match b {
        Block::Text {
            text,
            cache_control,
        } => AnthropicBlock::Text {
            text,
            cache_control: cache_control.as_ref(),
        },
        Block::Image { source } => AnthropicBlock::Image {
            source: match source {
                ImageSource::Base64 { media_type, data } => {
                    AnthropicImageSource::Base64 { media_type, data }
                }
                ImageSource::Url { url } => AnthropicImageSource::Url { url },
            },
        },
        Block::ToolUse {
            id, name, input, ..
        } => AnthropicBlock::ToolUse { id, name, input },
        Block::ToolResult {
            tool_use_id,
            content,
            is_error,
        } => AnthropicBlock::ToolResult {
            tool_use_id,
            content: content.iter().filter_map(out_block).collect(),
            is_error: *is_error,
        },
        Block::Thinking {
            text,
            signature: Some(sig),
        } if sig.vendor == Vendor::Anthropic => AnthropicBlock::Thinking {
            thinking: text,
            signature: &sig.value,
        },
        Block::Opaque {
            vendor: Vendor::Anthropic,
            raw,
        } => return Some(AnthropicOut::Raw(raw)),
        // Reasoning only another vendor can verify, or content only another vendor knows.
        Block::Thinking { .. } | Block::Opaque { .. } => return None,
    }))
}

/// The JSON body of a streamed Messages request. The history is first made valid for
/// Anthropic (tool pairs, foreign signatures dropped: see `conversation::history`).
pub fn request_body(model: &str, req: &ChatRequest) -> Vec<u8> {
    messages_body(Some(model), None, Some(true), req)
}

/// The Messages body for a cloud host of Claude (Bedrock, Vertex AI): no `model` (it is in the
/// URL), `anthropic_version` in the body, and `"stream": true` only when `stream_field` (Vertex
/// `streamRawPredict` needs it; Bedrock rejects the field, its streaming is the endpoint).
/// Everything else is [`request_body`]'s.
pub fn hosted_request_body(
    req: &ChatRequest,
    anthropic_version: &'static str,
    stream_field: bool,
) -> Vec<u8> {
    messages_body(
        None,
        Some(anthropic_version),
        stream_field.then_some(true),
        req,
    )
}

fn messages_body(
    model: Option<&str>,
    anthropic_version: Option<&'static str>,
    stream: Option<bool>,
    req: &ChatRequest,
) -> Vec<u8> {
    let history = for_vendor(&req.messages, Vendor::Anthropic);
    let messages = history
        .iter()
        .map(|m| AnthropicMessage {
            role: match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            },
            content: m.blocks.iter().filter_map(out_block).collect(),
        })
        .collect();
    let thinking = req.thinking_budget.map(|budget_tokens| AnthropicThinking {
        kind: "enabled",
        budget_tokens,
    });
    let mut max_tokens = req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS);
    if let Some(t) = &thinking {
        // The API requires max_tokens above the thinking budget.
        max_tokens = max_tokens.max(t.budget_tokens.saturating_add(1024));
    }
    let pass = req.passthrough_for(Vendor::Anthropic).map(|p| &p.fields);
    let own = |key: &str| pass.is_some_and(|p| p.contains_key(key));
    let mut body = AnthropicRequest {
        anthropic_version,
        model,
        max_tokens,
        messages,
        stream,
        system: req.system.as_deref().filter(|s| !s.is_empty()),
        temperature: req.temperature.map(http::float_json),
        top_p: req.top_p.map(http::float_json),
        top_k: req.top_k,
        stop_sequences: &req.stop,
        tools: req
            .tools
            .iter()
            .map(|t| AnthropicTool {
                name: &t.name,
                description: &t.description,
                input_schema: &t.input_schema,
            })
            .collect(),
        tool_choice: req.tool_choice.as_ref().map(|c| match c {
            ToolChoice::Auto => AnthropicToolChoice::Auto,
            ToolChoice::Any => AnthropicToolChoice::Any,
            ToolChoice::None => AnthropicToolChoice::None,
            ToolChoice::Tool { name } => AnthropicToolChoice::Tool { name },
        }),
        thinking,
        passthrough: pass,
    };
    // The client's own version of a field replaces aiw's.
    if own("system") {
        body.system = None;
    }
    if own("tools") {
        body.tools.clear();
    }
    if own("tool_choice") {
        body.tool_choice = None;
    }
    if own("thinking") {
        body.thinking = None;
    }
    // Serializing these structs cannot fail (string keys, no maps with other keys).
    serde_json::to_vec(&body).unwrap_or_default()
}

/// The events of a Messages stream. Unknown event types are skipped (logged at debug).
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AnthropicStreamEvent {
    MessageStart {
        message: AnthropicMessageStart,
    },
    ContentBlockStart {
        index: u32,
        content_block: Value,
    },
    ContentBlockDelta {
        index: u32,
        delta: AnthropicDelta,
    },
    ContentBlockStop {
        index: u32,
    },
    MessageDelta {
        #[serde(default)]
        delta: AnthropicMessageDelta,
        #[serde(default)]
        usage: Option<AnthropicUsage>,
    },
    MessageStop,
    Ping,
    Error,
    #[serde(other)]
    Unknown,
}

#[derive(Deserialize)]
struct AnthropicMessageStart {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    usage: Option<AnthropicUsage>,
}

#[derive(Deserialize, Default)]
struct AnthropicMessageDelta {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[expect(clippy::struct_field_names, reason = "the wire names")]
struct AnthropicUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
}

impl AnthropicUsage {
    /// Input tokens including cache reads and writes, which the API counts separately.
    fn input(&self) -> Option<u64> {
        self.input_tokens.map(|base| {
            base + self.cache_creation_input_tokens.unwrap_or(0)
                + self.cache_read_input_tokens.unwrap_or(0)
        })
    }
}

/// The start of a content block, for the kinds aiw maps; any other kind is kept opaque.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AnthropicBlockStart {
    Text {
        #[serde(default)]
        text: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum AnthropicDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    SignatureDelta {
        signature: String,
    },
    #[serde(other)]
    Other,
}

/// What the block at a stream index is.
enum OpenBlock {
    Text,
    Thinking,
    Tool,
    /// A block aiw does not map, replayed to Anthropic as it came (input deltas included).
    Opaque {
        raw: Value,
        json: String,
    },
}

/// Maps Anthropic stream events. Usage: input tokens from `message_start` (plus cache reads
/// and writes), output tokens cumulative from `message_delta`. Also maps the same events as
/// Bedrock and Vertex AI carry them.
#[derive(Default)]
pub(crate) struct AnthropicMapper {
    usage: Usage,
    stop: Option<StopReason>,
    blocks: std::collections::HashMap<u32, OpenBlock>,
}

impl AnthropicMapper {
    fn usage(&mut self, u: &AnthropicUsage, out: &mut Vec<ChatEvent>) {
        if let Some(input) = u.input() {
            self.usage.input_tokens = input;
            self.usage.cache_read_tokens = u.cache_read_input_tokens.unwrap_or(0);
            self.usage.cache_write_tokens = u.cache_creation_input_tokens.unwrap_or(0);
        }
        if let Some(o) = u.output_tokens {
            self.usage.output_tokens = o;
        }
        out.push(ChatEvent::Usage(self.usage));
    }

    fn block_start(&mut self, index: u32, raw: Value, out: &mut Vec<ChatEvent>) {
        let block = match serde_json::from_value::<AnthropicBlockStart>(raw.clone()) {
            Ok(AnthropicBlockStart::Text { text }) => {
                if !text.is_empty() {
                    out.push(ChatEvent::Text(text));
                }
                OpenBlock::Text
            }
            Ok(AnthropicBlockStart::Thinking { thinking }) => {
                if !thinking.is_empty() {
                    out.push(ChatEvent::Thinking(thinking));
                }
                OpenBlock::Thinking
            }
            Ok(AnthropicBlockStart::ToolUse { id, name }) => {
                out.push(ChatEvent::ToolCallStart {
                    index,
                    id,
                    name,
                    signature: None,
                });
                OpenBlock::Tool
            }
            Err(_) => OpenBlock::Opaque {
                raw,
                json: String::new(),
            },
        };
        self.blocks.insert(index, block);
    }

    fn delta(&mut self, index: u32, delta: AnthropicDelta, out: &mut Vec<ChatEvent>) {
        // A delta for a block that never started (a proxy dropped the start) opens one of its
        // kind; deltas that do not fit their block (a thinking delta on a text block) are
        // ignored.
        if let std::collections::hash_map::Entry::Vacant(slot) = self.blocks.entry(index) {
            match &delta {
                AnthropicDelta::TextDelta { .. } => {
                    slot.insert(OpenBlock::Text);
                }
                AnthropicDelta::ThinkingDelta { .. } | AnthropicDelta::SignatureDelta { .. } => {
                    slot.insert(OpenBlock::Thinking);
                }
                _ => {}
            }
        }
        match (self.blocks.get_mut(&index), delta) {
            (Some(OpenBlock::Text), AnthropicDelta::TextDelta { text }) if !text.is_empty() => {
                out.push(ChatEvent::Text(text));
            }
            (Some(OpenBlock::Thinking), AnthropicDelta::ThinkingDelta { thinking }) => {
                out.push(ChatEvent::Thinking(thinking));
            }
            (Some(OpenBlock::Thinking), AnthropicDelta::SignatureDelta { signature }) => {
                out.push(ChatEvent::ThinkingSignature(signature));
            }
            (Some(OpenBlock::Tool), AnthropicDelta::InputJsonDelta { partial_json }) => {
                out.push(ChatEvent::ToolCallArgs {
                    index,
                    json: partial_json,
                });
            }
            (
                Some(OpenBlock::Opaque { json, .. }),
                AnthropicDelta::InputJsonDelta { partial_json },
            ) => {
                json.push_str(&partial_json);
            }
            _ => {}
        }
    }

    fn block_stop(&mut self, index: u32, out: &mut Vec<ChatEvent>) {
        match self.blocks.remove(&index) {
            Some(OpenBlock::Tool) => out.push(ChatEvent::ToolCallEnd { index }),
            Some(OpenBlock::Opaque { mut raw, json }) => {
                if let (false, Ok(input)) = (json.is_empty(), serde_json::from_str::<Value>(&json))
                {
                    raw["input"] = input;
                }
                out.push(ChatEvent::Opaque(raw));
            }
            Some(OpenBlock::Text | OpenBlock::Thinking) => out.push(ChatEvent::BlockStop),
            None => {}
        }
    }
}

impl StreamMapper for AnthropicMapper {
    fn event(
        &mut self,
        ev: &SseEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<Progress, ProviderError> {
        // An event without data (a bare `event: ping` from a proxy) is named by its event field.
        let parsed = if ev.data.trim().is_empty() {
            match ev.event.as_deref() {
                Some("message_stop") => AnthropicStreamEvent::MessageStop,
                _ => AnthropicStreamEvent::Ping,
            }
        } else {
            let v = http::parse_json(&ev.data)?;
            match serde_json::from_value::<AnthropicStreamEvent>(v) {
                Ok(e) => e,
                Err(e) => {
                    tracing::debug!(event = ?ev.event, "skipping an Anthropic event aiw cannot read: {e}");
                    AnthropicStreamEvent::Unknown
                }
            }
        };
        match parsed {
            AnthropicStreamEvent::MessageStart { message } => {
                out.push(ChatEvent::Started {
                    model: message.model,
                });
                self.usage(&message.usage.unwrap_or_default(), out);
            }
            AnthropicStreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.block_start(index, content_block, out),
            AnthropicStreamEvent::ContentBlockDelta { index, delta } => {
                self.delta(index, delta, out);
            }
            AnthropicStreamEvent::ContentBlockStop { index } => self.block_stop(index, out),
            AnthropicStreamEvent::MessageDelta { delta, usage } => {
                if let Some(r) = delta.stop_reason {
                    self.stop = Some(stop_reason(&r));
                }
                if let Some(u) = usage {
                    self.usage(&u, out);
                }
            }
            AnthropicStreamEvent::MessageStop => {
                return Ok(Progress::Done(
                    self.stop.take().unwrap_or(StopReason::EndTurn),
                ));
            }
            AnthropicStreamEvent::Error => {
                let mut e = classify(200, &HeaderMap::new(), &ev.data);
                e.message = format!("error event mid-stream: {}", e.message);
                return Err(e);
            }
            AnthropicStreamEvent::Ping => {}
            AnthropicStreamEvent::Unknown => {
                tracing::debug!(event = ?ev.event, "skipping an unknown Anthropic event");
            }
        }
        Ok(Progress::More)
    }

    fn eof(&mut self, _out: &mut Vec<ChatEvent>) -> Result<StopReason, ProviderError> {
        Err(http::truncated("`message_stop`"))
    }
}

fn stop_reason(r: &str) -> StopReason {
    match r {
        "end_turn" | "pause_turn" => StopReason::EndTurn,
        "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "tool_use" => StopReason::ToolUse,
        "refusal" => StopReason::Refusal,
        other => StopReason::Other(other.to_string()),
    }
}

/// Classifies an Anthropic error from status, headers and body (`{"type":"error","error":
/// {"type","message","details"},"request_id"}`). The body decides where it is specific:
/// a 429 spend cap (`enforced_spend_limit_reached`) and "credit balance is too low" are
/// permanent ([`ErrorClass::QuotaExhausted`]), "prompt is too long" is
/// [`ErrorClass::ContextTooLong`]; `billing_error`/402 follow [`http::billing_class`].
/// Otherwise `error.type`, then the status.
pub fn classify(status: u16, headers: &HeaderMap, body: &str) -> ProviderError {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        let class = http::class_for_status(status);
        return http::apply_headers(
            ProviderError::new(class, http::non_json_summary(status, headers, body)),
            status,
            headers,
        );
    };
    let err = &v["error"];
    let kind = err["type"].as_str().unwrap_or("");
    let message = err["message"].as_str().map_or_else(
        || http::non_json_summary(status, headers, body),
        str::to_string,
    );
    let lower = message.to_ascii_lowercase();
    let spend_cap = err["details"]["error_code"] == "enforced_spend_limit_reached";
    let class = if spend_cap
        || lower.contains("credit balance is too low")
        || lower.contains("reached your specified api usage limits")
    {
        ErrorClass::QuotaExhausted
    } else if lower.contains("prompt is too long")
        || lower.contains("exceed context limit")
        || lower.contains("context window")
    {
        ErrorClass::ContextTooLong
    } else {
        match kind {
            "authentication_error" => ErrorClass::Auth,
            "permission_error" => ErrorClass::Permission,
            "billing_error" => http::billing_class(&message),
            "not_found_error" => ErrorClass::NotFound,
            "rate_limit_error" => ErrorClass::RateLimited,
            "overloaded_error" => ErrorClass::Overloaded,
            // A 503 "Service unavailable" says the same as 529, whatever the body's type.
            "api_error" if status == 503 => ErrorClass::Overloaded,
            "api_error" | "timeout_error" | "conflict_error" => ErrorClass::ServerError,
            "invalid_request_error" | "request_too_large" => ErrorClass::InvalidRequest,
            _ if status == 402 => http::billing_class(&message),
            _ => http::class_for_status(status),
        }
    };
    let mut e = http::apply_headers(ProviderError::new(class, message), status, headers);
    if e.request_id.is_none() {
        e.request_id = v["request_id"].as_str().map(str::to_string);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Message;
    use crate::provider::http::body_json;
    use serde_json::json;
    use std::time::Duration;

    fn err(status: u16, kind: &str, message: &str) -> ProviderError {
        let body =
            json!({"type":"error","error":{"type":kind,"message":message},"request_id":"req_011"});
        classify(status, &HeaderMap::new(), &body.to_string())
    }

    #[test]
    fn classify_every_table_row() {
        let rows = [
            (
                400,
                "invalid_request_error",
                "messages: field required",
                ErrorClass::InvalidRequest,
            ),
            (
                400,
                "invalid_request_error",
                "prompt is too long: 210000 tokens > 200000 maximum",
                ErrorClass::ContextTooLong,
            ),
            (
                400,
                "invalid_request_error",
                "Your credit balance is too low to access the Anthropic API.",
                ErrorClass::QuotaExhausted,
            ),
            (
                400,
                "invalid_request_error",
                "You have reached your specified API usage limits. You will regain access on 2026-09-01.",
                ErrorClass::QuotaExhausted,
            ),
            (
                401,
                "authentication_error",
                "invalid x-api-key",
                ErrorClass::Auth,
            ),
            (
                402,
                "billing_error",
                "Your credit balance is too low",
                ErrorClass::QuotaExhausted,
            ),
            (
                402,
                "billing_error",
                "Payment method declined",
                ErrorClass::Permission,
            ),
            (
                403,
                "permission_error",
                "Your API key does not have permission",
                ErrorClass::Permission,
            ),
            (
                404,
                "not_found_error",
                "model: claude-x",
                ErrorClass::NotFound,
            ),
            (409, "conflict_error", "conflict", ErrorClass::ServerError),
            (
                413,
                "request_too_large",
                "Request exceeds the maximum size",
                ErrorClass::InvalidRequest,
            ),
            (
                429,
                "rate_limit_error",
                "This request would exceed your organization's rate limit",
                ErrorClass::RateLimited,
            ),
            (
                500,
                "api_error",
                "Internal server error",
                ErrorClass::ServerError,
            ),
            (
                504,
                "timeout_error",
                "Request timed out",
                ErrorClass::ServerError,
            ),
            (
                529,
                "overloaded_error",
                "Overloaded",
                ErrorClass::Overloaded,
            ),
            (418, "brand_new_error", "?", ErrorClass::InvalidRequest),
            (503, "brand_new_error", "?", ErrorClass::Overloaded),
        ];
        for (status, kind, msg, want) in rows {
            let e = err(status, kind, msg);
            assert_eq!(e.class, want, "{status} {kind} {msg}");
            assert_eq!(e.status, Some(status));
            assert_eq!(e.message, msg);
            assert_eq!(e.request_id.as_deref(), Some("req_011"));
        }
    }

    #[test]
    fn spend_cap_429_is_permanent() {
        let body = r#"{"type":"error","error":{"type":"rate_limit_error","message":"You have exceeded your monthly spend limit","details":{"error_code":"enforced_spend_limit_reached"}}}"#;
        let e = classify(429, &HeaderMap::new(), body);
        assert_eq!(e.class, ErrorClass::QuotaExhausted);
        assert!(!e.is_retryable());
    }

    #[test]
    fn headers_give_retry_hint_should_retry_and_request_id() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("7"));
        h.insert("x-should-retry", HeaderValue::from_static("true"));
        h.insert("request-id", HeaderValue::from_static("req_hdr"));
        let e = classify(
            429,
            &h,
            r#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#,
        );
        assert_eq!(e.class, ErrorClass::RateLimited);
        assert_eq!(e.retry_after, Some(Duration::from_secs(7)));
        assert_eq!(e.should_retry, Some(true));
        assert_eq!(e.request_id.as_deref(), Some("req_hdr"));
    }

    #[test]
    fn html_413_and_502_from_cloudflare() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let page =
            "<html><head><title>502 Bad Gateway</title></head><body>cloudflare</body></html>";
        let e = classify(502, &h, page);
        assert_eq!(e.class, ErrorClass::ServerError);
        assert!(!e.message.contains("<body>"), "{}", e.message);
        let e = classify(
            413,
            &h,
            "<html><title>413 Request Entity Too Large</title></html>",
        );
        assert_eq!(e.class, ErrorClass::InvalidRequest);
    }

    #[test]
    fn request_body_shape() {
        let req = ChatRequest {
            system: Some("Be terse.".into()),
            messages: vec![
                Message::user("Hello"),
                Message::assistant("Hi."),
                Message::user("Again"),
            ],
            temperature: Some(0.2),
            top_p: Some(0.9),
            top_k: Some(10),
            stop: vec!["\n\nHuman:".into()],
            ..ChatRequest::default()
        };
        let b = body_json(&request_body("claude-x", &req));
        assert_eq!(b["model"], "claude-x");
        assert_eq!(b["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(b["stream"], true);
        assert_eq!(b["system"], "Be terse.");
        assert_eq!(
            b["messages"][1],
            json!({"role":"assistant","content":[{"type":"text","text":"Hi."}]})
        );
        assert_eq!(b["temperature"], 0.2);
        assert_eq!(b["top_p"], 0.9);
        assert_eq!(b["top_k"], 10);
        assert_eq!(b["stop_sequences"], json!(["\n\nHuman:"]));
        let b = body_json(&request_body("m", &ChatRequest::default()));
        assert!(b.get("system").is_none() && b.get("temperature").is_none());
        assert!(b.get("top_p").is_none() && b.get("stop_sequences").is_none());
    }

    #[tokio::test]
    async fn text_stream_maps_to_events() {
        let got = http::replay_ok::<AnthropicMapper>("anthropic/text.txt", 7, Mode::Standard).await;
        assert_eq!(
            got,
            vec![
                ChatEvent::Started {
                    model: Some("claude-3-opus-latest".into())
                },
                ChatEvent::Usage(Usage {
                    input_tokens: 11,
                    output_tokens: 1,
                    ..Usage::default()
                }),
                ChatEvent::Text("Hello".into()),
                ChatEvent::Text(" there".into()),
                ChatEvent::Text("!".into()),
                ChatEvent::BlockStop,
                ChatEvent::Usage(Usage {
                    input_tokens: 11,
                    output_tokens: 6,
                    ..Usage::default()
                }),
                ChatEvent::Done {
                    stop: StopReason::EndTurn
                },
            ]
        );
    }

    #[tokio::test]
    async fn cache_reads_and_writes_count_in_the_prompt_and_apart() {
        let bytes = br#"event: message_start
data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-opus-4-8","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":6,"cache_creation_input_tokens":1000,"cache_read_input_tokens":20000,"output_tokens":1}}}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":5}}

event: message_stop
data: {"type":"message_stop"}

"#;
        let got = http::map_transcript(bytes, 7, Mode::Standard, AnthropicMapper::default()).await;
        let last = got.iter().rev().find_map(|e| match e {
            Ok(ChatEvent::Usage(u)) => Some(*u),
            _ => None,
        });
        let expected = Usage {
            input_tokens: 21_006,
            output_tokens: 5,
            cache_read_tokens: 20_000,
            cache_write_tokens: 1000,
        };
        assert_eq!(last, Some(expected), "{got:?}");
    }

    #[tokio::test]
    async fn missing_final_blank_line_is_truncated() {
        let got =
            http::replay::<AnthropicMapper>("anthropic/no_final_blank_line.txt", 5, Mode::Standard)
                .await;
        let last = got.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.class, ErrorClass::Truncated);
        assert!(got.iter().all(|e| !matches!(e, Ok(ChatEvent::Done { .. }))));
    }

    #[tokio::test]
    async fn error_event_is_classified() {
        let got =
            http::replay::<AnthropicMapper>("anthropic/error_event.txt", 3, Mode::Standard).await;
        assert_eq!(got[2].as_ref().unwrap(), &ChatEvent::Text("Hel".into()));
        let e = got.last().unwrap().as_ref().unwrap_err();
        assert_eq!(e.class, ErrorClass::Overloaded);
        assert_eq!(e.status, None);
        assert!(e.message.contains("Overloaded"));
    }

    #[tokio::test]
    async fn invalid_json_is_malformed() {
        let bytes = b"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n\n";
        let got = http::map_transcript(bytes, 4, Mode::Standard, AnthropicMapper::default()).await;
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].as_ref().unwrap_err().class,
            ErrorClass::MalformedStream
        );
    }

    #[tokio::test]
    async fn events_without_data_are_tolerated() {
        let bytes = b"event: ping\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n";
        let got = http::map_transcript(bytes, 3, Mode::Standard, AnthropicMapper::default()).await;
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].as_ref().expect("done"),
            &ChatEvent::Done {
                stop: StopReason::EndTurn
            }
        );
    }
}
