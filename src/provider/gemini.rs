//! The Google Gemini (Developer API) client: typed wire structs, request building
//! (`POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse`, key in the
//! `x-goog-api-key` header, never in the URL where it would end up in logs), the mapping of its
//! `data:`-only `GenerateContentResponse` chunks and bare JSON error objects to
//! [`ChatEvent`]s (thought parts, whole `functionCall` parts with their `thoughtSignature`), and
//! [`classify`] for its google.rpc.Status errors. Gemini 3 rejects a history whose function
//! calls it did not sign: calls from other vendors get Google's documented bypass signature.
//!
//! Gemini streams have no terminator: the last chunk carries `finishReason`, then the
//! connection closes. A clean EOF after a `finishReason` is success; without one it is a
//! truncation.
//!
//! See: <https://ai.google.dev/gemini-api/docs/troubleshooting>.

use std::collections::HashMap;

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::http::{self, Endpoint, Progress, StreamMapper};
use super::sse::{Mode, SseEvent};
use super::{
    Block, ChatEvent, ChatRequest, ErrorClass, EventStream, Message, ProviderError, Role,
    StopReason, ToolChoice, Usage, Vendor,
};
use crate::config::ProviderSettings;
use crate::conversation::history::for_vendor;
use crate::conversation::{ImageSource, ProviderScoped, text_of};

/// Client for one configured Gemini provider.
#[derive(Clone)]
pub struct GeminiClient {
    http: reqwest::Client,
    settings: ProviderSettings,
}

impl GeminiClient {
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
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-goog-api-key"),
            http::secret_header("", key)?,
        );
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        let ep = Endpoint {
            provider: &self.settings.name,
            key: Some(key),
            classify,
        };
        let url = stream_url(&self.settings.base_url, model)?;
        let resp = http::send(
            &self.http,
            url.as_str(),
            headers,
            request_body(model, req),
            ep,
        )
        .await?;
        Ok(http::event_stream(
            resp,
            Mode::WithBareJson,
            GeminiMapper::default(),
            ep,
        ))
    }

    /// A one-token real generation; `Ok` when a chunk with `finishReason` ends the stream.
    pub async fn probe(&self, model: &str) -> Result<(), ProviderError> {
        http::drain(self.stream(model, &http::probe_request()).await?).await
    }
}

/// `{base}/v1beta/models/{model}:streamGenerateContent?alt=sse`, with the model id
/// percent-encoded as one path segment (a `models/` prefix is accepted, as the SDK does).
pub fn stream_url(base: &str, model: &str) -> Result<reqwest::Url, ProviderError> {
    let model = model.strip_prefix("models/").unwrap_or(model);
    let mut url = reqwest::Url::parse(&format!("{base}/v1beta/models")).map_err(|e| {
        ProviderError::new(
            ErrorClass::Unavailable,
            format!("base_url `{base}` is not a valid URL ({e}): fix it in the config file"),
        )
    })?;
    url.path_segments_mut()
        .map_err(|()| {
            ProviderError::new(
                ErrorClass::Unavailable,
                format!("base_url `{base}` cannot have a path: fix it in the config file"),
            )
        })?
        .push(&format!("{model}:streamGenerateContent"));
    url.set_query(Some("alt=sse"));
    Ok(url)
}

/// The signature Google documents for function calls it did not sign (a history written by
/// another model): Gemini 3 rejects a model turn whose first function call has none.
/// See: <https://ai.google.dev/gemini-api/docs/thought-signatures>
pub const FOREIGN_CALL_SIGNATURE: &str = "skip_thought_signature_validator";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiRequest<'a> {
    contents: Vec<GeminiContent<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<GeminiSystem<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<GeminiTools<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_config: Option<GeminiToolConfig<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    generation_config: Option<GeminiGenerationConfig<'a>>,
}

#[derive(Serialize)]
struct GeminiSystem<'a> {
    parts: [GeminiTextPart<'a>; 1],
}

#[derive(Serialize)]
struct GeminiTextPart<'a> {
    text: &'a str,
}

#[derive(Serialize)]
struct GeminiContent<'a> {
    role: &'static str,
    parts: Vec<GeminiPart<'a>>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct GeminiPart<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    thought: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    thought_signature: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inline_data: Option<GeminiBlob<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_data: Option<GeminiFileData<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_call: Option<GeminiFunctionCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    function_response: Option<GeminiFunctionResponse<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiBlob<'a> {
    mime_type: &'a str,
    data: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiFileData<'a> {
    file_uri: &'a str,
}

#[derive(Serialize)]
struct GeminiFunctionCall<'a> {
    name: &'a str,
    args: &'a Value,
}

#[derive(Serialize)]
struct GeminiFunctionResponse<'a> {
    name: &'a str,
    response: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiTools<'a> {
    function_declarations: Vec<GeminiFunctionDeclaration<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiFunctionDeclaration<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    /// JSON Schema as agents write it (`parameters` takes only an OpenAPI subset).
    parameters_json_schema: &'a Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiToolConfig<'a> {
    function_calling_config: GeminiFunctionCallingConfig<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiFunctionCallingConfig<'a> {
    mode: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    allowed_function_names: Vec<&'a str>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct GeminiGenerationConfig<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_p: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    top_k: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_output_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    stop_sequences: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    thinking_config: Option<GeminiThinkingConfig>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GeminiThinkingConfig {
    include_thoughts: bool,
    thinking_budget: u32,
}

fn gemini_signature(sig: Option<&ProviderScoped>) -> Option<&str> {
    sig.filter(|s| s.vendor == Vendor::Gemini)
        .map(|s| s.value.as_str())
}

/// The parts of one message. `names` maps tool-call ids to tool names (a
/// `functionResponse` names the function, not the call).
fn parts<'a>(
    m: &'a Message,
    names: &HashMap<&'a str, &'a str>,
    needs_call_signature: bool,
) -> Vec<GeminiPart<'a>> {
    let mut out = Vec::new();
    let mut first_call = true;
    for b in &m.blocks {
        match b {
            Block::Text { text, .. } => out.push(GeminiPart {
                text: Some(text),
                ..GeminiPart::default()
            }),
            Block::Thinking { text, signature } => {
                if let Some(sig) = gemini_signature(signature.as_ref()) {
                    out.push(GeminiPart {
                        text: Some(text),
                        thought: true,
                        thought_signature: Some(sig),
                        ..GeminiPart::default()
                    });
                }
            }
            Block::Image { source } => out.push(image_part(source)),
            Block::ToolUse {
                name,
                input,
                signature,
                ..
            } => {
                let own = gemini_signature(signature.as_ref());
                let sig = match own {
                    Some(s) => Some(s),
                    None if first_call && needs_call_signature => Some(FOREIGN_CALL_SIGNATURE),
                    None => None,
                };
                first_call = false;
                out.push(GeminiPart {
                    thought_signature: sig,
                    function_call: Some(GeminiFunctionCall { name, args: input }),
                    ..GeminiPart::default()
                });
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                let text = text_of(content);
                let response = if *is_error {
                    json!({ "error": text })
                } else {
                    json!({ "result": text })
                };
                out.push(GeminiPart {
                    function_response: Some(GeminiFunctionResponse {
                        name: names
                            .get(tool_use_id.as_str())
                            .copied()
                            .unwrap_or(tool_use_id),
                        response,
                    }),
                    ..GeminiPart::default()
                });
                for c in content {
                    if let Block::Image { source } = c {
                        out.push(image_part(source));
                    }
                }
            }
            Block::Opaque { .. } => {}
        }
    }
    out
}

fn image_part(source: &ImageSource) -> GeminiPart<'_> {
    match source {
        ImageSource::Base64 { media_type, data } => GeminiPart {
            inline_data: Some(GeminiBlob {
                mime_type: media_type,
                data,
            }),
            ..GeminiPart::default()
        },
        ImageSource::Url { url } => GeminiPart {
            file_data: Some(GeminiFileData { file_uri: url }),
            ..GeminiPart::default()
        },
    }
}

/// Whether `model` is a Gemini 3 model, which rejects unsigned function calls in a history.
fn signs_calls(model: &str) -> bool {
    let m = model.strip_prefix("models/").unwrap_or(model);
    m.starts_with("gemini-3.") || m.starts_with("gemini-3-")
}

/// The JSON body: `contents` with roles `user`/`model` (tool calls as `functionCall` parts,
/// results as `functionResponse` parts), `systemInstruction`, `tools` with
/// `functionDeclarations`, `toolConfig`, and a camelCase `generationConfig`.
pub fn request_body(model: &str, req: &ChatRequest) -> Vec<u8> {
    let history = for_vendor(&req.messages, Vendor::Gemini);
    let names: HashMap<&str, &str> = history
        .iter()
        .flat_map(Message::tool_uses)
        .map(|(id, name, _)| (id, name))
        .collect();
    let needs_sig = signs_calls(model);
    let contents = history
        .iter()
        .map(|m| GeminiContent {
            role: match m.role {
                Role::User => "user",
                Role::Assistant => "model",
            },
            parts: parts(m, &names, needs_sig),
        })
        .filter(|c| !c.parts.is_empty())
        .collect();
    let config = GeminiGenerationConfig {
        temperature: req.temperature.map(http::float_json),
        top_p: req.top_p.map(http::float_json),
        top_k: req.top_k,
        max_output_tokens: req.max_tokens,
        seed: req.seed,
        stop_sequences: &req.stop,
        thinking_config: req.thinking_budget.map(|b| GeminiThinkingConfig {
            include_thoughts: true,
            thinking_budget: b,
        }),
    };
    let has_config = config.temperature.is_some()
        || config.top_p.is_some()
        || config.top_k.is_some()
        || config.max_output_tokens.is_some()
        || config.seed.is_some()
        || !config.stop_sequences.is_empty()
        || config.thinking_config.is_some();
    let body = GeminiRequest {
        contents,
        system_instruction: req.system.as_deref().filter(|s| !s.is_empty()).map(|text| {
            GeminiSystem {
                parts: [GeminiTextPart { text }],
            }
        }),
        tools: if req.tools.is_empty() {
            Vec::new()
        } else {
            vec![GeminiTools {
                function_declarations: req
                    .tools
                    .iter()
                    .map(|t| GeminiFunctionDeclaration {
                        name: &t.name,
                        description: &t.description,
                        parameters_json_schema: &t.input_schema,
                    })
                    .collect(),
            }]
        },
        tool_config: req.tool_choice.as_ref().map(|c| {
            let (mode, allowed) = match c {
                ToolChoice::Auto => ("AUTO", Vec::new()),
                ToolChoice::Any => ("ANY", Vec::new()),
                ToolChoice::None => ("NONE", Vec::new()),
                ToolChoice::Tool { name } => ("ANY", vec![name.as_str()]),
            };
            GeminiToolConfig {
                function_calling_config: GeminiFunctionCallingConfig {
                    mode,
                    allowed_function_names: allowed,
                },
            }
        }),
        generation_config: has_config.then_some(config),
    };
    // Serializing these structs cannot fail (string keys, no maps with other keys).
    serde_json::to_vec(&body).unwrap_or_default()
}

/// One `GenerateContentResponse` chunk.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GeminiChunk {
    candidates: Vec<GeminiCandidate>,
    prompt_feedback: Option<GeminiPromptFeedback>,
    usage_metadata: Option<GeminiUsage>,
    model_version: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GeminiCandidate {
    content: Option<GeminiContentIn>,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GeminiContentIn {
    parts: Vec<GeminiPartIn>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GeminiPartIn {
    text: Option<String>,
    thought: bool,
    thought_signature: Option<String>,
    function_call: Option<GeminiFunctionCallIn>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct GeminiFunctionCallIn {
    name: String,
    args: Value,
    id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GeminiPromptFeedback {
    block_reason: Option<String>,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(default, rename_all = "camelCase")]
#[expect(clippy::struct_field_names, reason = "the wire names")]
struct GeminiUsage {
    prompt_token_count: u64,
    candidates_token_count: u64,
    thoughts_token_count: u64,
    cached_content_token_count: u64,
}

/// A fresh tool-call id: Gemini 2.x sends none, and every other vendor needs one.
fn new_call_id() -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(22)
        .collect();
    format!("call_{tail}")
}

/// Maps Gemini chunks. Usage comes from `usageMetadata` (output includes thinking tokens,
/// which are billed as output); thought parts become thinking, function calls whole tool calls
/// (Gemini does not fragment their arguments). Also maps Gemini on Vertex AI, whose stream is
/// the same.
#[derive(Default)]
pub(crate) struct GeminiMapper {
    started: bool,
    stop: Option<StopReason>,
    usage: Option<Usage>,
    calls: u32,
    in_thought: bool,
}

impl GeminiMapper {
    fn part(&mut self, p: GeminiPartIn, out: &mut Vec<ChatEvent>) {
        if let Some(call) = p.function_call {
            if self.in_thought {
                self.in_thought = false;
                out.push(ChatEvent::BlockStop);
            }
            let index = self.calls;
            self.calls += 1;
            out.push(ChatEvent::ToolCallStart {
                index,
                id: call
                    .id
                    .filter(|i| !i.is_empty())
                    .unwrap_or_else(new_call_id),
                name: call.name,
                signature: p.thought_signature,
            });
            let args = if call.args.is_null() {
                "{}".to_string()
            } else {
                call.args.to_string()
            };
            out.push(ChatEvent::ToolCallArgs { index, json: args });
            out.push(ChatEvent::ToolCallEnd { index });
            return;
        }
        if p.thought {
            self.in_thought = true;
            if let Some(t) = p.text.filter(|t| !t.is_empty()) {
                out.push(ChatEvent::Thinking(t));
            }
            if let Some(sig) = p.thought_signature {
                out.push(ChatEvent::ThinkingSignature(sig));
            }
            return;
        }
        if let Some(t) = p.text.filter(|t| !t.is_empty()) {
            if self.in_thought {
                self.in_thought = false;
                out.push(ChatEvent::BlockStop);
            }
            out.push(ChatEvent::Text(t));
        }
    }
}

impl StreamMapper for GeminiMapper {
    fn event(
        &mut self,
        ev: &SseEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<Progress, ProviderError> {
        if ev.data.trim().is_empty() {
            return Ok(Progress::More);
        }
        let v = match http::parse_json(&ev.data)? {
            Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
            other => other,
        };
        if v.get("error").is_some_and(|e| !e.is_null()) {
            let mut e = classify(200, &HeaderMap::new(), &ev.data);
            e.message = format!("error mid-stream: {}", e.message);
            return Err(e);
        }
        let chunk: GeminiChunk =
            serde_json::from_value(v).map_err(|e| http::malformed(&ev.data, &e))?;
        if !self.started {
            self.started = true;
            out.push(ChatEvent::Started {
                model: chunk.model_version.clone(),
            });
        }
        if let Some(cand) = chunk.candidates.into_iter().next() {
            for p in cand.content.map(|c| c.parts).unwrap_or_default() {
                self.part(p, out);
            }
            if let Some(r) = cand.finish_reason {
                self.stop = Some(match stop_reason(&r) {
                    StopReason::EndTurn if self.calls > 0 => StopReason::ToolUse,
                    other => other,
                });
            }
        } else if chunk
            .prompt_feedback
            .is_some_and(|f| f.block_reason.is_some())
        {
            // The prompt itself was blocked: no candidates will come.
            self.stop = Some(StopReason::ContentFilter);
        }
        if let Some(meta) = chunk.usage_metadata {
            let usage = Usage {
                input_tokens: meta.prompt_token_count,
                output_tokens: meta.candidates_token_count + meta.thoughts_token_count,
                cache_read_tokens: meta.cached_content_token_count,
                cache_write_tokens: 0,
            };
            if self.usage != Some(usage) {
                self.usage = Some(usage);
                out.push(ChatEvent::Usage(usage));
            }
        }
        Ok(Progress::More)
    }

    fn eof(&mut self, _out: &mut Vec<ChatEvent>) -> Result<StopReason, ProviderError> {
        self.stop
            .take()
            .ok_or_else(|| http::truncated("a chunk with `finishReason`"))
    }
}

fn stop_reason(r: &str) -> StopReason {
    match r {
        "STOP" => StopReason::EndTurn,
        "MAX_TOKENS" => StopReason::MaxTokens,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => StopReason::ContentFilter,
        other => StopReason::Other(other.to_string()),
    }
}

/// Whether a 429's `QuotaFailure` names a per-day quota, or a quota of zero (the model is not
/// available on this plan at all). Those do not clear within any retry window, so they are
/// [`ErrorClass::QuotaExhausted`]; per-minute limits are [`ErrorClass::RateLimited`]. (The
/// message "You exceeded your current quota" is sent for both, so it cannot decide.)
fn is_permanent_quota(details: &[Value], message: &str) -> bool {
    let per_day = |s: &str| {
        let s = s.to_ascii_lowercase();
        s.contains("perday") || s.contains("per_day") || s.contains("per day")
    };
    let from_details = details
        .iter()
        .filter(|d| {
            d["@type"]
                .as_str()
                .is_some_and(|t| t.ends_with("QuotaFailure"))
        })
        .filter_map(|d| d["violations"].as_array())
        .flatten()
        .any(|v| {
            v["quotaId"].as_str().is_some_and(per_day)
                || v["quotaMetric"].as_str().is_some_and(per_day)
                || v["quotaValue"] == "0"
        });
    from_details || message.contains("limit: 0")
}

/// Classifies a Gemini error (google.rpc.Status: `{"error":{"code","message","status",
/// "details"}}`, possibly wrapped in an array). An invalid key is a **400** with
/// `ErrorInfo.reason = API_KEY_INVALID` ⇒ [`ErrorClass::Auth`]; a 403 for a missing or
/// reported-leaked key is also Auth; other 403s are Permission. 429 `RESOURCE_EXHAUSTED` takes
/// its retry hint from `RetryInfo.retryDelay` (see [`is_permanent_quota`] for quota vs rate
/// limit). 503 is Overloaded, 500/504/499 ServerError.
pub fn classify(status: u16, headers: &HeaderMap, body: &str) -> ProviderError {
    let parsed = serde_json::from_str::<Value>(body).ok().map(|v| match v {
        Value::Array(mut a) if !a.is_empty() => a.swap_remove(0),
        other => other,
    });
    let Some(err) = parsed
        .as_ref()
        .map(|v| &v["error"])
        .filter(|e| e.is_object())
    else {
        return http::apply_headers(
            ProviderError::new(
                http::class_for_status(status),
                http::non_json_summary(status, headers, body),
            ),
            status,
            headers,
        );
    };
    let message = err["message"].as_str().unwrap_or("").to_string();
    let rpc = err["status"].as_str().unwrap_or("");
    let code = err["code"].as_u64().map_or(status, |c| c as u16);
    let effective = if (200..300).contains(&status) {
        code
    } else {
        status
    };
    let empty = Vec::new();
    let details = err["details"].as_array().unwrap_or(&empty);
    let reason = |r: &str| details.iter().any(|d| d["reason"] == r);
    let lower = message.to_ascii_lowercase();
    let mut retry_after = None;
    let class = if reason("API_KEY_INVALID")
        || reason("API_KEY_EXPIRED")
        || lower.contains("api key not valid")
        || lower.contains("api key expired")
    {
        ErrorClass::Auth
    } else if rpc == "PERMISSION_DENIED" || effective == 403 {
        if lower.contains("unregistered callers") || lower.contains("api key") {
            ErrorClass::Auth
        } else {
            ErrorClass::Permission
        }
    } else if rpc == "RESOURCE_EXHAUSTED" || effective == 429 {
        retry_after = details
            .iter()
            .filter(|d| {
                d["@type"]
                    .as_str()
                    .is_some_and(|t| t.ends_with("RetryInfo"))
            })
            .find_map(|d| d["retryDelay"].as_str())
            .and_then(super::error::parse_proto_duration);
        if is_permanent_quota(details, &message) {
            ErrorClass::QuotaExhausted
        } else {
            ErrorClass::RateLimited
        }
    } else if lower.contains("input token count") && lower.contains("exceeds the maximum") {
        ErrorClass::ContextTooLong
    } else {
        match rpc {
            "INVALID_ARGUMENT" | "OUT_OF_RANGE" => ErrorClass::InvalidRequest,
            // Free tier not available in the region, or billing required.
            "FAILED_PRECONDITION" => ErrorClass::Permission,
            "UNAUTHENTICATED" => ErrorClass::Auth,
            "NOT_FOUND" => ErrorClass::NotFound,
            "UNAVAILABLE" => ErrorClass::Overloaded,
            "INTERNAL" | "DEADLINE_EXCEEDED" | "CANCELLED" | "UNKNOWN" | "ABORTED" => {
                ErrorClass::ServerError
            }
            _ => http::class_for_status(effective),
        }
    };
    let mut e = http::apply_headers(ProviderError::new(class, message), status, headers);
    if e.retry_after.is_none() {
        e.retry_after = retry_after;
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Message;
    use crate::provider::http::body_json;
    use std::time::Duration;

    fn status_body(code: u16, status: &str, message: &str, details: &Value) -> String {
        json!({"error":{"code":code,"message":message,"status":status,"details":details}})
            .to_string()
    }

    #[test]
    fn classify_every_table_row() {
        let key_invalid = json!([{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]);
        let rows = [
            (
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                json!([]),
                ErrorClass::InvalidRequest,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                key_invalid.clone(),
                ErrorClass::Auth,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "invalid",
                key_invalid,
                ErrorClass::Auth,
            ),
            (
                400,
                "INVALID_ARGUMENT",
                "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).",
                json!([]),
                ErrorClass::ContextTooLong,
            ),
            (
                400,
                "FAILED_PRECONDITION",
                "User location is not supported for the API use.",
                json!([]),
                ErrorClass::Permission,
            ),
            (
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                json!([]),
                ErrorClass::Permission,
            ),
            (
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity).",
                json!([]),
                ErrorClass::Auth,
            ),
            (
                404,
                "NOT_FOUND",
                "models/x is not found for API version v1beta",
                json!([]),
                ErrorClass::NotFound,
            ),
            (
                429,
                "RESOURCE_EXHAUSTED",
                "Quota exceeded for quota metric",
                json!([]),
                ErrorClass::RateLimited,
            ),
            (
                499,
                "CANCELLED",
                "The operation was cancelled.",
                json!([]),
                ErrorClass::ServerError,
            ),
            (
                500,
                "INTERNAL",
                "An internal error has occurred.",
                json!([]),
                ErrorClass::ServerError,
            ),
            (
                503,
                "UNAVAILABLE",
                "The model is overloaded. Please try again later.",
                json!([]),
                ErrorClass::Overloaded,
            ),
            (
                504,
                "DEADLINE_EXCEEDED",
                "The request timed out. Please try again.",
                json!([]),
                ErrorClass::ServerError,
            ),
        ];
        for (code, status, msg, details, want) in rows {
            let e = classify(
                code,
                &HeaderMap::new(),
                &status_body(code, status, msg, &details),
            );
            assert_eq!(e.class, want, "{code} {status} {msg}");
            assert_eq!(e.status, Some(code));
            assert_eq!(e.message, msg);
        }
    }

    #[test]
    fn rate_limit_takes_retry_info() {
        let details = json!([
            {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerMinutePerProjectPerModel-FreeTier","quotaValue":"10"}]},
            {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"22.5s"}
        ]);
        let e = classify(
            429,
            &HeaderMap::new(),
            &status_body(
                429,
                "RESOURCE_EXHAUSTED",
                "You exceeded your current quota. Please retry in 22.5s.",
                &details,
            ),
        );
        assert_eq!(e.class, ErrorClass::RateLimited);
        assert_eq!(e.retry_after, Some(Duration::from_millis(22_500)));
    }

    #[test]
    fn per_day_or_zero_quota_is_permanent() {
        for (quota_id, value) in [
            ("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "250"),
            ("GenerateContentInputTokensPerModelPerMinute-FreeTier", "0"),
        ] {
            let details = json!([
                {"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaId":quota_id,"quotaValue":value}]},
                {"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"3600s"}
            ]);
            let e = classify(
                429,
                &HeaderMap::new(),
                &status_body(
                    429,
                    "RESOURCE_EXHAUSTED",
                    "You exceeded your current quota",
                    &details,
                ),
            );
            assert_eq!(e.class, ErrorClass::QuotaExhausted, "{quota_id}");
        }
    }

    #[test]
    fn mid_stream_error_uses_body_code() {
        let body = "{\n  \"error\": {\n    \"code\": 503,\n    \"message\": \"overloaded\",\n    \"status\": \"UNAVAILABLE\"\n  }\n}";
        let e = classify(200, &HeaderMap::new(), body);
        assert_eq!(e.class, ErrorClass::Overloaded);
        assert_eq!(e.status, None);
        let e = classify(200, &HeaderMap::new(), &format!("[{body}]"));
        assert_eq!(e.class, ErrorClass::Overloaded);
    }

    #[test]
    fn non_json_bodies() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
        let e = classify(
            502,
            &h,
            "<!DOCTYPE html><html><title>Error 502 (Server Error)!!1</title><p>big page</p></html>",
        );
        assert_eq!(e.class, ErrorClass::ServerError);
        assert!(
            e.message.contains("Error 502") && !e.message.contains("<p>"),
            "{}",
            e.message
        );
    }

    #[test]
    fn url_and_body_shape() {
        let url = stream_url("http://127.0.0.1:9", "gemini-2.0-flash").unwrap();
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse"
        );
        let url = stream_url("http://h/proxy", "models/g x").unwrap();
        assert_eq!(
            url.as_str(),
            "http://h/proxy/v1beta/models/g%20x:streamGenerateContent?alt=sse"
        );
        assert!(stream_url("not a url", "m").is_err());
        let req = ChatRequest {
            system: Some("Be terse.".into()),
            messages: vec![
                Message::user("Hello"),
                Message::assistant("Hi."),
                Message::user("Q"),
            ],
            max_tokens: Some(256),
            temperature: Some(0.2),
            top_p: Some(0.8),
            top_k: Some(10),
            stop: vec!["\n\n".into()],
            ..ChatRequest::default()
        };
        let b = body_json(&request_body("gemini-x", &req));
        assert_eq!(
            b["systemInstruction"],
            json!({"parts":[{"text":"Be terse."}]})
        );
        assert_eq!(
            b["contents"][1],
            json!({"role":"model","parts":[{"text":"Hi."}]})
        );
        assert_eq!(
            b["generationConfig"],
            json!({"temperature":0.2,"topP":0.8,"topK":10,"maxOutputTokens":256,"stopSequences":["\n\n"]})
        );
        assert!(
            body_json(&request_body("gemini-x", &ChatRequest::default()))
                .get("generationConfig")
                .is_none()
        );
    }

    #[tokio::test]
    async fn cached_content_tokens_are_counted_apart() {
        let bytes = br#"data: {"candidates":[{"content":{"parts":[{"text":"hi"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":5000,"candidatesTokenCount":2,"cachedContentTokenCount":4096,"totalTokenCount":5002},"modelVersion":"gemini-2.5-pro"}

"#;
        let got =
            http::map_transcript(bytes, 11, Mode::WithBareJson, GeminiMapper::default()).await;
        let last = got.iter().rev().find_map(|e| match e {
            Ok(ChatEvent::Usage(u)) => Some(*u),
            _ => None,
        });
        let expected = Usage {
            input_tokens: 5000,
            output_tokens: 2,
            cache_read_tokens: 4096,
            cache_write_tokens: 0,
        };
        assert_eq!(last, Some(expected), "{got:?}");
    }

    #[tokio::test]
    async fn text_stream_maps_to_events() {
        let got = http::replay_ok::<GeminiMapper>("gemini/text.txt", 20, Mode::WithBareJson).await;
        assert_eq!(
            got,
            vec![
                ChatEvent::Started {
                    model: Some("gemini-2.0-flash".into())
                },
                ChatEvent::Text("The".into()),
                ChatEvent::Usage(Usage {
                    input_tokens: 7,
                    output_tokens: 0,
                    ..Usage::default()
                }),
                ChatEvent::Thinking("thinking...".into()),
                ChatEvent::BlockStop,
                ChatEvent::Text(" capital of Wyoming".into()),
                ChatEvent::Text(" is **Cheyenne**.\n".into()),
                ChatEvent::Usage(Usage {
                    input_tokens: 7,
                    output_tokens: 10,
                    ..Usage::default()
                }),
                ChatEvent::Done {
                    stop: StopReason::EndTurn
                },
            ]
        );
    }

    #[tokio::test]
    async fn bare_json_error_mid_stream() {
        let got =
            http::replay::<GeminiMapper>("gemini/error_mid_stream.txt", 7, Mode::WithBareJson)
                .await;
        assert_eq!(got[1].as_ref().unwrap(), &ChatEvent::Text("The".into()));
        let e = got.last().unwrap().as_ref().unwrap_err();
        assert_eq!(e.class, ErrorClass::ServerError);
        assert!(e.message.contains("cancelled"), "{}", e.message);
    }

    #[tokio::test]
    async fn eof_without_finish_reason_is_truncated() {
        let got = http::replay::<GeminiMapper>("gemini/truncated.txt", 7, Mode::WithBareJson).await;
        assert_eq!(
            got.last().unwrap().as_ref().unwrap_err().class,
            ErrorClass::Truncated
        );
    }

    #[tokio::test]
    async fn blocked_prompt_ends_with_content_filter() {
        let got =
            http::replay::<GeminiMapper>("gemini/prompt_blocked.txt", 4096, Mode::WithBareJson)
                .await;
        assert_eq!(
            got.last().unwrap().as_ref().unwrap(),
            &ChatEvent::Done {
                stop: StopReason::ContentFilter
            }
        );
    }

    #[tokio::test]
    async fn invalid_json_is_malformed() {
        let got = http::map_transcript(
            b"data: {\"candidates\": [\r\n\r\n",
            3,
            Mode::WithBareJson,
            GeminiMapper::default(),
        )
        .await;
        assert_eq!(
            got[0].as_ref().unwrap_err().class,
            ErrorClass::MalformedStream
        );
    }
}
