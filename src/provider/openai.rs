//! The OpenAI Chat Completions client, also used for OpenAI-compatible servers (OpenRouter,
//! LiteLLM, Ollama, vLLM, llama.cpp server): typed wire structs, request building
//! (`POST {base}/chat/completions`: `tools`, assistant `tool_calls`, `role: "tool"` results,
//! image parts), the mapping of its `data:`-only chunks (ending with `data: [DONE]`; streamed
//! `delta.tool_calls[index]`) to [`ChatEvent`]s, and
//! [`classify`] for its error responses. Only base URL, auth and a few body fields differ
//! between the two kinds.
//!
//! See: <https://developers.openai.com/docs/guides/error-codes>.

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::{self, Endpoint, Progress, StreamMapper};
use super::sse::{Mode, SseEvent};
use super::{
    Block, ChatEvent, ChatRequest, ErrorClass, EventStream, Message, ProviderError, Role,
    StopReason, ToolChoice, Usage, Vendor,
};
use crate::config::{ProviderKind, ProviderSettings};
use crate::conversation::history::for_vendor;
use crate::conversation::{ImageSource, text_of};

/// Client for one configured OpenAI or OpenAI-compatible provider.
#[derive(Clone)]
pub struct OpenAiClient {
    http: reqwest::Client,
    settings: ProviderSettings,
}

impl OpenAiClient {
    /// Builds the client.
    pub fn new(settings: &ProviderSettings, http: reqwest::Client) -> Self {
        Self {
            http,
            settings: settings.clone(),
        }
    }

    /// Whether this is OpenAI itself (key required, `max_completion_tokens`) rather than a
    /// compatible server (key optional, `max_tokens`, extra sampling fields).
    fn is_openai(&self) -> bool {
        self.settings.kind == ProviderKind::OpenAi
    }

    /// Starts a streamed answer.
    pub async fn stream(
        &self,
        model: &str,
        req: &ChatRequest,
    ) -> Result<EventStream, ProviderError> {
        let key = if self.is_openai() {
            Some(http::require_key(&self.settings)?)
        } else {
            self.settings.api_key.as_ref()
        };
        let mut headers = HeaderMap::new();
        if let Some(k) = key {
            headers.insert(AUTHORIZATION, http::secret_header("Bearer ", k)?);
        }
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        let ep = Endpoint {
            provider: &self.settings.name,
            key,
            classify,
        };
        let url = format!("{}/chat/completions", self.settings.base_url);
        let body = request_body(model, req, self.settings.kind);
        let resp = http::send(&self.http, &url, headers, body, ep).await?;
        Ok(http::event_stream(
            resp,
            Mode::Standard,
            OpenAiMapper::default(),
            ep,
        ))
    }

    /// A one-token real generation; `Ok` when the stream completes.
    pub async fn probe(&self, model: &str) -> Result<(), ProviderError> {
        http::drain(self.stream(model, &http::probe_request()).await?).await
    }
}

#[derive(Serialize)]
struct OpenAiRequest<'a> {
    model: &'a str,
    messages: Vec<OpenAiMessage<'a>>,
    stream: bool,
    stream_options: OpenAiStreamOptions,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<OpenAiTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<Value>,
    /// A gateway client's own fields (see [`super::Passthrough`]).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    passthrough: Option<&'a serde_json::Map<String, Value>>,
}

#[derive(Serialize)]
struct OpenAiStreamOptions {
    include_usage: bool,
}

#[derive(Serialize)]
#[serde(tag = "role", rename_all = "snake_case")]
enum OpenAiMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: OpenAiContent<'a>,
    },
    Assistant {
        content: Option<String>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<OpenAiToolCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        content: String,
    },
}

#[derive(Serialize)]
#[serde(untagged)]
enum OpenAiContent<'a> {
    Text(String),
    Parts(Vec<OpenAiPart<'a>>),
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum OpenAiPart<'a> {
    Text { text: &'a str },
    ImageUrl { image_url: OpenAiImageUrl },
}

#[derive(Serialize)]
struct OpenAiImageUrl {
    url: String,
}

#[derive(Serialize)]
struct OpenAiToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: OpenAiFunctionCall<'a>,
}

#[derive(Serialize)]
struct OpenAiFunctionCall<'a> {
    name: &'a str,
    arguments: String,
}

#[derive(Serialize)]
struct OpenAiTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: OpenAiFunction<'a>,
}

#[derive(Serialize)]
struct OpenAiFunction<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    parameters: &'a Value,
}

fn image_part(source: &ImageSource) -> OpenAiPart<'static> {
    let url = match source {
        ImageSource::Base64 { media_type, data } => format!("data:{media_type};base64,{data}"),
        ImageSource::Url { url } => url.clone(),
    };
    OpenAiPart::ImageUrl {
        image_url: OpenAiImageUrl { url },
    }
}

/// A user message in OpenAI's shape: its tool results first, as `role: "tool"` messages (they
/// must follow the assistant message that made the calls), then its text and images, plus the
/// images of tool results (a tool message holds text only).
fn user_messages<'a>(m: &'a Message, out: &mut Vec<OpenAiMessage<'a>>) {
    let mut parts: Vec<OpenAiPart<'a>> = Vec::new();
    let mut result_images: Vec<OpenAiPart<'a>> = Vec::new();
    for b in &m.blocks {
        match b {
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let mut text = text_of(content);
                for c in content {
                    if let Block::Image { source } = c {
                        result_images.push(image_part(source));
                    }
                }
                if *is_error && !text.starts_with("Error") {
                    text = format!("Error: {text}");
                }
                out.push(OpenAiMessage::Tool {
                    tool_call_id: tool_use_id,
                    content: text,
                });
            }
            Block::Text { text, .. } => parts.push(OpenAiPart::Text { text }),
            Block::Image { source } => parts.push(image_part(source)),
            _ => {}
        }
    }
    parts.extend(result_images);
    if parts.is_empty() {
        return;
    }
    let content = if parts.iter().all(|p| matches!(p, OpenAiPart::Text { .. })) {
        OpenAiContent::Text(
            parts
                .iter()
                .filter_map(|p| match p {
                    OpenAiPart::Text { text } => Some(*text),
                    OpenAiPart::ImageUrl { .. } => None,
                })
                .collect(),
        )
    } else {
        OpenAiContent::Parts(parts)
    };
    out.push(OpenAiMessage::User { content });
}

/// The JSON body of a streamed Chat Completions request. OpenAI itself gets
/// `max_completion_tokens` (its `max_tokens` is deprecated and rejected by reasoning models);
/// compatible servers get `max_tokens`, which all of them understand, and `top_k`, which
/// OpenAI rejects as an unknown parameter. Tool calls go out as `tool_calls` on the assistant
/// message and tool results as `role: "tool"` messages; thinking from other vendors is left
/// out (Chat Completions has no place for it).
pub fn request_body(model: &str, req: &ChatRequest, kind: ProviderKind) -> Vec<u8> {
    let history = for_vendor(&req.messages, Vendor::OpenAi);
    let mut messages = Vec::with_capacity(history.len() + 1);
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        messages.push(OpenAiMessage::System { content: system });
    }
    for m in &history {
        match m.role {
            Role::User => user_messages(m, &mut messages),
            Role::Assistant => {
                let text = m.text();
                let tool_calls: Vec<OpenAiToolCall<'_>> = m
                    .tool_uses()
                    .map(|(id, name, input)| OpenAiToolCall {
                        id,
                        kind: "function",
                        function: OpenAiFunctionCall {
                            name,
                            arguments: input.to_string(),
                        },
                    })
                    .collect();
                messages.push(OpenAiMessage::Assistant {
                    content: (!text.is_empty() || tool_calls.is_empty()).then_some(text),
                    tool_calls,
                });
            }
        }
    }
    let openai = kind == ProviderKind::OpenAi;
    let pass = req.passthrough_for(Vendor::OpenAi).map(|p| &p.fields);
    let own = |key: &str| pass.is_some_and(|p| p.contains_key(key));
    let mut body = OpenAiRequest {
        model,
        messages,
        stream: true,
        stream_options: OpenAiStreamOptions {
            include_usage: true,
        },
        max_completion_tokens: req.max_tokens.filter(|_| openai),
        max_tokens: req.max_tokens.filter(|_| !openai),
        temperature: req.temperature.map(http::float_json),
        top_p: req.top_p.map(http::float_json),
        top_k: req.top_k.filter(|_| !openai),
        seed: req.seed,
        stop: &req.stop,
        tools: req
            .tools
            .iter()
            .map(|t| OpenAiTool {
                kind: "function",
                function: OpenAiFunction {
                    name: &t.name,
                    description: &t.description,
                    parameters: &t.input_schema,
                },
            })
            .collect(),
        tool_choice: req.tool_choice.as_ref().map(|c| match c {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::Any => json!("required"),
            ToolChoice::None => json!("none"),
            ToolChoice::Tool { name } => json!({"type": "function", "function": {"name": name}}),
        }),
        passthrough: pass,
    };
    // The client's own version of a field replaces aiw's.
    if own("tools") {
        body.tools.clear();
    }
    if own("tool_choice") {
        body.tool_choice = None;
    }
    // Serializing these structs cannot fail (string keys, no maps with other keys).
    serde_json::to_vec(&body).unwrap_or_default()
}

/// One streamed chunk (or an error object in its place).
#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenAiChunk {
    model: Option<String>,
    choices: Vec<OpenAiChoice>,
    usage: Option<OpenAiUsage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenAiChoice {
    delta: OpenAiDelta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenAiDelta {
    content: Option<String>,
    refusal: Option<String>,
    /// Reasoning text from compatible servers (DeepSeek, vLLM: `reasoning_content`;
    /// OpenRouter: `reasoning`).
    reasoning_content: Option<String>,
    reasoning: Option<String>,
    tool_calls: Vec<OpenAiToolCallDelta>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenAiToolCallDelta {
    index: u32,
    id: Option<String>,
    function: OpenAiFunctionDelta,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenAiFunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Deserialize, Default, PartialEq, Clone, Copy)]
#[serde(default)]
struct OpenAiUsage {
    prompt_tokens: u64,
    completion_tokens: u64,
    prompt_tokens_details: Option<OpenAiPromptDetails>,
}

/// `usage.prompt_tokens_details`: how many of the prompt tokens were cache hits.
#[derive(Deserialize, Default, PartialEq, Clone, Copy)]
#[serde(default)]
struct OpenAiPromptDetails {
    cached_tokens: u64,
}

/// Maps Chat Completions chunks. `[DONE]` is the terminal event; a chunk with
/// `finish_reason` followed by a clean EOF also counts as complete, because some compatible
/// servers (older Ollama and vLLM builds) never send `[DONE]`. Tool calls start with the
/// chunk that carries their id and name and end with the answer (`finish_reason`).
#[derive(Default)]
pub(crate) struct OpenAiMapper {
    started: bool,
    stop: Option<StopReason>,
    usage: Option<Usage>,
    /// Tool calls started and not yet ended, by index.
    open_calls: Vec<u32>,
    /// Whether any tool call was made (some servers report `stop` for a tool-call answer).
    made_calls: bool,
}

impl OpenAiMapper {
    fn start(&mut self, model: Option<&str>, out: &mut Vec<ChatEvent>) {
        if !self.started {
            self.started = true;
            out.push(ChatEvent::Started {
                model: model.filter(|m| !m.is_empty()).map(str::to_string),
            });
        }
    }

    fn end_calls(&mut self, out: &mut Vec<ChatEvent>) {
        for index in self.open_calls.drain(..) {
            out.push(ChatEvent::ToolCallEnd { index });
        }
    }

    fn tool_call(&mut self, d: OpenAiToolCallDelta, out: &mut Vec<ChatEvent>) {
        if !self.open_calls.contains(&d.index) {
            let Some(name) = d.function.name.filter(|n| !n.is_empty()) else {
                tracing::debug!(
                    index = d.index,
                    "tool-call fragment before its name: skipped"
                );
                return;
            };
            self.open_calls.push(d.index);
            self.made_calls = true;
            out.push(ChatEvent::ToolCallStart {
                index: d.index,
                id: d
                    .id
                    .filter(|i| !i.is_empty())
                    .unwrap_or_else(|| format!("call_{}", d.index)),
                name,
                signature: None,
            });
        }
        if let Some(json) = d.function.arguments.filter(|a| !a.is_empty()) {
            out.push(ChatEvent::ToolCallArgs {
                index: d.index,
                json,
            });
        }
    }

    fn finish(&mut self, out: &mut Vec<ChatEvent>) -> StopReason {
        self.end_calls(out);
        match self.stop.take() {
            Some(StopReason::EndTurn) | None if self.made_calls => StopReason::ToolUse,
            Some(s) => s,
            None => StopReason::EndTurn,
        }
    }
}

/// Whether a chunk is an error object: `{"error":{…}}` (OpenAI, OpenRouter) or vLLM's
/// `{"object":"error",…}`.
fn is_error(v: &Value) -> bool {
    v.get("error").is_some_and(|e| !e.is_null()) || v["object"] == "error"
}

impl StreamMapper for OpenAiMapper {
    fn event(
        &mut self,
        ev: &SseEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<Progress, ProviderError> {
        let data = ev.data.trim();
        if data.is_empty() {
            return Ok(Progress::More);
        }
        if data.starts_with("[DONE]") {
            self.start(None, out);
            return Ok(Progress::Done(self.finish(out)));
        }
        let v = http::parse_json(data)?;
        if is_error(&v) {
            let mut e = classify(200, &HeaderMap::new(), data);
            e.message = format!("error event mid-stream: {}", e.message);
            return Err(e);
        }
        let chunk: OpenAiChunk =
            serde_json::from_value(v).map_err(|e| http::malformed(data, &e))?;
        let model = chunk.model.as_deref();
        if model.is_some_and(|m| !m.is_empty()) {
            self.start(model, out);
        }
        if let Some(choice) = chunk.choices.into_iter().next() {
            let d = choice.delta;
            self.start(model, out);
            for t in [d.reasoning_content, d.reasoning].into_iter().flatten() {
                if !t.is_empty() {
                    out.push(ChatEvent::Thinking(t));
                }
            }
            // `refusal` is the model's answer when it declines.
            for t in [d.content, d.refusal].into_iter().flatten() {
                if !t.is_empty() {
                    out.push(ChatEvent::Text(t));
                }
            }
            for call in d.tool_calls {
                self.tool_call(call, out);
            }
            if let Some(r) = choice.finish_reason {
                self.stop = Some(stop_reason(&r));
                self.end_calls(out);
            }
        }
        if let Some(u) = chunk.usage {
            let usage = Usage {
                input_tokens: u.prompt_tokens,
                output_tokens: u.completion_tokens,
                cache_read_tokens: u.prompt_tokens_details.map_or(0, |d| d.cached_tokens),
                cache_write_tokens: 0,
            };
            if self.usage != Some(usage) {
                self.start(model, out);
                self.usage = Some(usage);
                out.push(ChatEvent::Usage(usage));
            }
        }
        Ok(Progress::More)
    }

    fn eof(&mut self, out: &mut Vec<ChatEvent>) -> Result<StopReason, ProviderError> {
        if self.stop.is_none() {
            return Err(http::truncated("`data: [DONE]` or a `finish_reason`"));
        }
        Ok(self.finish(out))
    }
}

fn stop_reason(r: &str) -> StopReason {
    match r {
        "stop" => StopReason::EndTurn,
        "length" => StopReason::MaxTokens,
        "tool_calls" | "function_call" => StopReason::ToolUse,
        "content_filter" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_string()),
    }
}

/// Permanent 429 codes: no credit or a hard spend limit. Retrying never helps.
/// See: <https://developers.openai.com/api/docs/guides/spend-limits>
const QUOTA_CODES: &[&str] = &[
    "insufficient_quota",
    "credit_balance_exhausted",
    "organization_spend_limit_exceeded",
    "project_spend_limit_exceeded",
    "billing_hard_limit_reached",
    "billing_not_active",
];

/// Classifies an OpenAI(-compatible) error from status, headers and body. Bodies:
/// `{"error":{"message","type","param","code"}}` with `code` a string (OpenAI, LiteLLM) or a
/// number (OpenRouter, llama.cpp), or vLLM's `{"object":"error","message","type","code"}`.
/// Codes decide first (quota and spend-limit codes are permanent even on 429; context length
/// is its own class), then `type`, then the status. A numeric `code` in an error that arrived
/// after a 200 (OpenRouter mid-stream) stands in for the status.
pub fn classify(status: u16, headers: &HeaderMap, body: &str) -> ProviderError {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return http::apply_headers(
            ProviderError::new(
                http::class_for_status(status),
                http::non_json_summary(status, headers, body),
            ),
            status,
            headers,
        );
    };
    let err = if v["error"].is_object() {
        &v["error"]
    } else {
        &v
    };
    let message = err["message"]
        .as_str()
        .or_else(|| v["error"].as_str())
        .map_or_else(
            || http::non_json_summary(status, headers, body),
            str::to_string,
        );
    let code_num = err["code"]
        .as_u64()
        .or_else(|| err["code"].as_str().and_then(|c| c.parse().ok()))
        .filter(|c| (400..600).contains(c))
        .map(|c| c as u16);
    let code = err["code"].as_str().unwrap_or("");
    let kind = err["type"].as_str().unwrap_or("");
    let effective = match (status, code_num) {
        (200..=299, Some(c)) => c,
        _ => status,
    };
    let lower = message.to_ascii_lowercase();
    let class = if QUOTA_CODES.contains(&code) || QUOTA_CODES.contains(&kind) {
        ErrorClass::QuotaExhausted
    } else if code == "context_length_exceeded"
        || lower.contains("maximum context length")
        || lower.contains("context length exceeded")
        || lower.contains("context window")
    {
        ErrorClass::ContextTooLong
    } else {
        match (code, kind) {
            ("invalid_api_key", _) | (_, "authentication_error") => ErrorClass::Auth,
            ("model_not_found", _) | (_, "not_found_error") => ErrorClass::NotFound,
            ("rate_limit_exceeded", _) => ErrorClass::RateLimited,
            ("server_is_overloaded", _)
            | (_, "service_unavailable_error" | "unavailable_error") => ErrorClass::Overloaded,
            (_, "server_error") => ErrorClass::ServerError,
            _ if effective == 402 => http::billing_class(&message),
            _ => http::class_for_status(effective),
        }
    };
    http::apply_headers(ProviderError::new(class, message), status, headers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Message;
    use crate::provider::http::body_json;
    use std::time::Duration;

    fn err(status: u16, kind: &str, code: &Value, message: &str) -> ProviderError {
        let body = json!({"error":{"message":message,"type":kind,"param":null,"code":code}});
        classify(status, &HeaderMap::new(), &body.to_string())
    }

    #[test]
    fn classify_every_table_row() {
        let rows = [
            (
                400,
                "invalid_request_error",
                json!(null),
                "bad params",
                ErrorClass::InvalidRequest,
            ),
            (
                400,
                "invalid_request_error",
                json!("context_length_exceeded"),
                "This model's maximum context length is 128000 tokens.",
                ErrorClass::ContextTooLong,
            ),
            (
                401,
                "invalid_request_error",
                json!("invalid_api_key"),
                "Incorrect API key provided: sk-….",
                ErrorClass::Auth,
            ),
            (
                403,
                "invalid_request_error",
                json!("unsupported_country_region_territory"),
                "Country, region, or territory not supported",
                ErrorClass::Permission,
            ),
            (
                404,
                "invalid_request_error",
                json!("model_not_found"),
                "The model `x` does not exist or you do not have access to it.",
                ErrorClass::NotFound,
            ),
            (409, "", json!(null), "conflict", ErrorClass::ServerError),
            (
                422,
                "",
                json!(null),
                "unprocessable",
                ErrorClass::InvalidRequest,
            ),
            (
                429,
                "requests",
                json!("rate_limit_exceeded"),
                "Rate limit reached. Please try again in 1.2s",
                ErrorClass::RateLimited,
            ),
            (
                429,
                "insufficient_quota",
                json!("insufficient_quota"),
                "You exceeded your current quota",
                ErrorClass::QuotaExhausted,
            ),
            (
                429,
                "insufficient_quota",
                json!("credit_balance_exhausted"),
                "no credit",
                ErrorClass::QuotaExhausted,
            ),
            (
                429,
                "invalid_request_error",
                json!("organization_spend_limit_exceeded"),
                "spend limit",
                ErrorClass::QuotaExhausted,
            ),
            (
                429,
                "invalid_request_error",
                json!("project_spend_limit_exceeded"),
                "spend limit",
                ErrorClass::QuotaExhausted,
            ),
            (
                500,
                "server_error",
                json!(null),
                "The server had an error while processing your request",
                ErrorClass::ServerError,
            ),
            (
                503,
                "service_unavailable_error",
                json!("server_is_overloaded"),
                "Slow Down",
                ErrorClass::Overloaded,
            ),
            (503, "", json!(null), "Slow Down", ErrorClass::Overloaded),
            // OpenRouter: numeric codes.
            (
                400,
                "",
                json!(400),
                "bad request",
                ErrorClass::InvalidRequest,
            ),
            (
                401,
                "",
                json!(401),
                "No auth credentials found",
                ErrorClass::Auth,
            ),
            (
                402,
                "",
                json!(402),
                "Insufficient credits. Add more using https://openrouter.ai/credits",
                ErrorClass::QuotaExhausted,
            ),
            (
                403,
                "",
                json!(403),
                "flagged by moderation",
                ErrorClass::Permission,
            ),
            (408, "", json!(408), "timed out", ErrorClass::ServerError),
            (429, "", json!(429), "rate limited", ErrorClass::RateLimited),
            (
                502,
                "",
                json!(502),
                "upstream provider down",
                ErrorClass::ServerError,
            ),
            (
                503,
                "",
                json!(503),
                "no available provider",
                ErrorClass::Overloaded,
            ),
            // llama.cpp server while loading; LiteLLM string status codes.
            (
                503,
                "unavailable_error",
                json!(503),
                "Loading model",
                ErrorClass::Overloaded,
            ),
            (
                429,
                "",
                json!("429"),
                "litellm rate limit",
                ErrorClass::RateLimited,
            ),
        ];
        for (status, kind, code, msg, want) in rows {
            let e = err(status, kind, &code, msg);
            assert_eq!(e.class, want, "{status} {kind} {code} {msg}");
            assert_eq!(e.status, Some(status));
            assert_eq!(e.message, msg);
        }
    }

    #[test]
    fn openrouter_mid_stream_error_uses_numeric_code() {
        let body = r#"{"error":{"code":502,"message":"Provider returned error"}}"#;
        let e = classify(200, &HeaderMap::new(), body);
        assert_eq!(e.class, ErrorClass::ServerError);
        assert_eq!(e.status, None);
        let body = r#"{"error":{"code":429,"message":"Rate limited upstream"}}"#;
        assert_eq!(
            classify(200, &HeaderMap::new(), body).class,
            ErrorClass::RateLimited
        );
    }

    #[test]
    fn vllm_error_object() {
        let body = r#"{"object":"error","message":"This model's maximum context length is 4096 tokens. However, you requested 5000 tokens.","type":"BadRequestError","param":null,"code":400}"#;
        assert_eq!(
            classify(400, &HeaderMap::new(), body).class,
            ErrorClass::ContextTooLong
        );
        let body = r#"{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}"#;
        assert_eq!(
            classify(404, &HeaderMap::new(), body).class,
            ErrorClass::NotFound
        );
    }

    #[test]
    fn headers_give_retry_hint_and_request_id() {
        let mut h = HeaderMap::new();
        h.insert("retry-after-ms", HeaderValue::from_static("250"));
        h.insert("x-request-id", HeaderValue::from_static("req_abc"));
        h.insert("x-should-retry", HeaderValue::from_static("false"));
        let e = classify(
            429,
            &h,
            r#"{"error":{"message":"slow","type":"requests","code":"rate_limit_exceeded"}}"#,
        );
        assert_eq!(e.retry_after, Some(Duration::from_millis(250)));
        assert_eq!(e.request_id.as_deref(), Some("req_abc"));
        assert_eq!(e.should_retry, Some(false));
        assert!(!e.is_retryable());
    }

    #[test]
    fn non_json_bodies() {
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        let e = classify(
            502,
            &h,
            "<html><head><title>502 Bad Gateway</title></head><body>x</body></html>",
        );
        assert_eq!(e.class, ErrorClass::ServerError);
        assert!(e.message.contains("502 Bad Gateway") && !e.message.contains("<body>"));
        let e = classify(500, &HeaderMap::new(), "Internal Server Error");
        assert_eq!(e.class, ErrorClass::ServerError);
    }

    #[test]
    fn request_body_shape_per_kind() {
        let req = ChatRequest {
            system: Some("Be terse.".into()),
            messages: vec![Message::user("Hello")],
            max_tokens: Some(256),
            temperature: Some(0.2),
            top_k: Some(5),
            seed: Some(42),
            stop: vec!["END".into()],
            ..ChatRequest::default()
        };
        let b = body_json(&request_body("gpt-x", &req, ProviderKind::OpenAi));
        assert_eq!(
            b["messages"][0],
            json!({"role":"system","content":"Be terse."})
        );
        assert_eq!(b["messages"][1], json!({"role":"user","content":"Hello"}));
        assert_eq!(b["stream"], true);
        assert_eq!(b["stream_options"], json!({"include_usage": true}));
        assert_eq!(b["max_completion_tokens"], 256);
        assert!(b.get("max_tokens").is_none());
        assert!(b.get("top_k").is_none());
        assert_eq!(b["temperature"], 0.2);
        assert_eq!(b["seed"], 42);
        assert_eq!(b["stop"], json!(["END"]));
        let b = body_json(&request_body("llama", &req, ProviderKind::OpenAiCompatible));
        assert_eq!(b["max_tokens"], 256);
        assert!(b.get("max_completion_tokens").is_none());
        assert_eq!(b["top_k"], 5);
    }

    #[tokio::test]
    async fn text_stream_maps_to_events() {
        let got = http::replay_ok::<OpenAiMapper>("openai/text.txt", 9, Mode::Standard).await;
        assert_eq!(
            got,
            vec![
                ChatEvent::Started {
                    model: Some("gpt-4o-2024-08-06".into())
                },
                ChatEvent::Text("Foo".into()),
                ChatEvent::Text("Bar".into()),
                ChatEvent::Usage(Usage {
                    input_tokens: 9,
                    output_tokens: 2,
                    ..Usage::default()
                }),
                ChatEvent::Done {
                    stop: StopReason::EndTurn
                },
            ]
        );
    }

    #[tokio::test]
    async fn cached_prompt_tokens_are_counted_apart() {
        let bytes = br#"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-5.5","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}

data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-5.5","choices":[],"usage":{"prompt_tokens":2006,"completion_tokens":3,"total_tokens":2009,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0}}}

data: [DONE]

"#;
        let got = http::map_transcript(bytes, 9, Mode::Standard, OpenAiMapper::default()).await;
        let last = got.iter().rev().find_map(|e| match e {
            Ok(ChatEvent::Usage(u)) => Some(*u),
            _ => None,
        });
        let expected = Usage {
            input_tokens: 2006,
            output_tokens: 3,
            cache_read_tokens: 1920,
            cache_write_tokens: 0,
        };
        assert_eq!(last, Some(expected), "{got:?}");
    }

    #[tokio::test]
    async fn finish_reason_then_clean_eof_is_complete() {
        let got = http::replay::<OpenAiMapper>("openai/no_done.txt", 11, Mode::Standard).await;
        assert_eq!(
            got.last().unwrap().as_ref().unwrap(),
            &ChatEvent::Done {
                stop: StopReason::MaxTokens
            }
        );
    }

    #[tokio::test]
    async fn eof_without_finish_is_truncated() {
        let text = String::from_utf8(http::fixture("openai/text.txt")).unwrap();
        let cut = &text[..text.find("\"finish_reason\":\"stop\"").unwrap()];
        let cut = &cut[..cut.rfind("\n\n").unwrap() + 2];
        let got =
            http::map_transcript(cut.as_bytes(), 13, Mode::Standard, OpenAiMapper::default()).await;
        assert_eq!(
            got.last().unwrap().as_ref().unwrap_err().class,
            ErrorClass::Truncated
        );
    }

    #[tokio::test]
    async fn error_events_are_classified() {
        let got = http::replay::<OpenAiMapper>("openai/error_event.txt", 5, Mode::Standard).await;
        assert_eq!(
            got.last().unwrap().as_ref().unwrap_err().class,
            ErrorClass::ServerError
        );
        let got =
            http::replay::<OpenAiMapper>("openai/vllm_error_event.txt", 5, Mode::Standard).await;
        assert_eq!(
            got.last().unwrap().as_ref().unwrap_err().class,
            ErrorClass::ContextTooLong
        );
    }

    #[tokio::test]
    async fn invalid_json_is_malformed() {
        let got = http::map_transcript(
            b"data: {oops\n\n",
            3,
            Mode::Standard,
            OpenAiMapper::default(),
        )
        .await;
        assert_eq!(
            got[0].as_ref().unwrap_err().class,
            ErrorClass::MalformedStream
        );
    }

    #[tokio::test]
    async fn empty_data_is_ignored() {
        let got = http::map_transcript(
            b"data:\n\ndata: [DONE]\n\n",
            2,
            Mode::Standard,
            OpenAiMapper::default(),
        )
        .await;
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[1].as_ref().expect("done"),
            &ChatEvent::Done {
                stop: StopReason::EndTurn
            }
        );
    }
}
