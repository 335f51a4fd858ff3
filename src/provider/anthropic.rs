//! The Anthropic Messages API client: request building (`POST {base}/v1/messages`), the
//! mapping of its named SSE events (`message_start` … `message_stop`, `ping`, `error`) to
//! [`ChatEvent`]s, and [`classify`] for its error responses.
//!
//! See: `shared/reference/wire-formats.md` §1 and
//! <https://platform.claude.com/docs/en/build-with-claude/streaming>.

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

use super::http::{self, Endpoint, Progress, StreamMapper};
use super::sse::{Mode, SseEvent};
use super::{
    ChatEvent, ChatRequest, ErrorClass, EventStream, ProviderError, Role, StopReason, Usage,
};
use crate::config::{ProviderSettings, Secret};

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
            headers(key)?,
            &request_body(model, req),
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

fn headers(key: &Secret) -> Result<HeaderMap, ProviderError> {
    let mut h = HeaderMap::new();
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

/// The JSON body of a streamed Messages request.
pub fn request_body(model: &str, req: &ChatRequest) -> Value {
    let messages: Vec<Value> = req
        .messages
        .iter()
        .map(|m| {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            json!({"role": role, "content": m.content})
        })
        .collect();
    let mut body = json!({
        "model": model,
        "max_tokens": req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        "messages": messages,
        "stream": true,
    });
    if let Some(system) = req.system.as_deref().filter(|s| !s.is_empty()) {
        body["system"] = json!(system);
    }
    if let Some(t) = req.temperature {
        body["temperature"] = http::float_json(t);
    }
    if let Some(p) = req.top_p {
        body["top_p"] = http::float_json(p);
    }
    if let Some(k) = req.top_k {
        body["top_k"] = json!(k);
    }
    if !req.stop.is_empty() {
        body["stop_sequences"] = json!(req.stop);
    }
    body
}

/// Maps Anthropic stream events. Usage: input tokens from `message_start` (plus cache reads
/// and writes, which the API counts separately), output tokens cumulative from
/// `message_delta`.
#[derive(Default)]
pub(crate) struct AnthropicMapper {
    usage: Usage,
    stop: Option<StopReason>,
}

fn input_tokens(usage: &Value) -> Option<u64> {
    let base = usage.get("input_tokens")?.as_u64()?;
    let cached = ["cache_creation_input_tokens", "cache_read_input_tokens"]
        .iter()
        .filter_map(|k| usage.get(*k).and_then(Value::as_u64))
        .sum::<u64>();
    Some(base + cached)
}

impl StreamMapper for AnthropicMapper {
    fn event(
        &mut self,
        ev: &SseEvent,
        out: &mut Vec<ChatEvent>,
    ) -> Result<Progress, ProviderError> {
        // An event without data (a bare `event: ping` from a proxy) is named by its event field.
        let v = if ev.data.trim().is_empty() {
            json!({})
        } else {
            http::parse_json(&ev.data)?
        };
        let kind = v
            .get("type")
            .and_then(Value::as_str)
            .or(ev.event.as_deref())
            .unwrap_or("");
        match kind {
            "message_start" => {
                let msg = &v["message"];
                out.push(ChatEvent::Started {
                    model: msg["model"].as_str().map(str::to_string),
                });
                if let Some(input) = input_tokens(&msg["usage"]) {
                    self.usage.input_tokens = input;
                }
                if let Some(o) = msg["usage"]["output_tokens"].as_u64() {
                    self.usage.output_tokens = o;
                }
                out.push(ChatEvent::Usage(self.usage));
            }
            "content_block_delta" => {
                // Only text; thinking, signature, tool input and citation deltas are ignored.
                let delta = &v["delta"];
                if let Some(t) = delta["text"]
                    .as_str()
                    .filter(|t| delta["type"] == "text_delta" && !t.is_empty())
                {
                    out.push(ChatEvent::Text(t.to_string()));
                }
            }
            "message_delta" => {
                if let Some(r) = v["delta"]["stop_reason"].as_str() {
                    self.stop = Some(stop_reason(r));
                }
                let usage = &v["usage"];
                if usage.is_object() {
                    if let Some(input) = input_tokens(usage) {
                        self.usage.input_tokens = input;
                    }
                    if let Some(o) = usage["output_tokens"].as_u64() {
                        self.usage.output_tokens = o;
                    }
                    out.push(ChatEvent::Usage(self.usage));
                }
            }
            "message_stop" => {
                return Ok(Progress::Done(
                    self.stop.take().unwrap_or(StopReason::EndTurn),
                ));
            }
            "error" => {
                let mut e = classify(200, &HeaderMap::new(), &ev.data);
                e.message = format!("error event mid-stream: {}", e.message);
                return Err(e);
            }
            // ping, content_block_start/stop and event types added later.
            _ => {}
        }
        Ok(Progress::More)
    }

    fn eof(&mut self, _out: &mut Vec<ChatEvent>) -> Result<StopReason, ProviderError> {
        Err(http::truncated("`message_stop`"))
    }
}

fn stop_reason(r: &str) -> StopReason {
    match r {
        "end_turn" => StopReason::EndTurn,
        "max_tokens" | "model_context_window_exceeded" => StopReason::MaxTokens,
        "stop_sequence" => StopReason::StopSequence,
        "refusal" => StopReason::ContentFilter,
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
                super::super::ChatMessage::user("Hello"),
                super::super::ChatMessage::assistant("Hi."),
                super::super::ChatMessage::user("Again"),
            ],
            temperature: Some(0.2),
            top_p: Some(0.9),
            top_k: Some(10),
            stop: vec!["\n\nHuman:".into()],
            ..ChatRequest::default()
        };
        let b = request_body("claude-x", &req);
        assert_eq!(b["model"], "claude-x");
        assert_eq!(b["max_tokens"], DEFAULT_MAX_TOKENS);
        assert_eq!(b["stream"], true);
        assert_eq!(b["system"], "Be terse.");
        assert_eq!(
            b["messages"][1],
            json!({"role":"assistant","content":"Hi."})
        );
        assert_eq!(b["temperature"], 0.2);
        assert_eq!(b["top_p"], 0.9);
        assert_eq!(b["top_k"], 10);
        assert_eq!(b["stop_sequences"], json!(["\n\nHuman:"]));
        let b = request_body("m", &ChatRequest::default());
        assert!(b.get("system").is_none() && b.get("temperature").is_none());
        assert!(b.get("top_p").is_none() && b.get("stop_sequences").is_none());
    }

    async fn run(name: &str, chunk: usize) -> Vec<Result<ChatEvent, ProviderError>> {
        let bytes = http::fixture(&format!("anthropic/{name}"));
        http::map_transcript(&bytes, chunk, Mode::Standard, AnthropicMapper::default()).await
    }

    #[tokio::test]
    async fn text_stream_maps_to_events() {
        for chunk in [1, 7, 4096] {
            let got: Vec<ChatEvent> = run("text.txt", chunk)
                .await
                .into_iter()
                .collect::<Result<_, _>>()
                .unwrap();
            assert_eq!(
                got,
                vec![
                    ChatEvent::Started {
                        model: Some("claude-3-opus-latest".into())
                    },
                    ChatEvent::Usage(Usage {
                        input_tokens: 11,
                        output_tokens: 1
                    }),
                    ChatEvent::Text("Hello".into()),
                    ChatEvent::Text(" there".into()),
                    ChatEvent::Text("!".into()),
                    ChatEvent::Usage(Usage {
                        input_tokens: 11,
                        output_tokens: 6
                    }),
                    ChatEvent::Done {
                        stop: StopReason::EndTurn
                    },
                ],
                "chunk {chunk}"
            );
        }
    }

    #[tokio::test]
    async fn missing_final_blank_line_is_truncated() {
        let got = run("no_final_blank_line.txt", 5).await;
        let last = got.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.class, ErrorClass::Truncated);
        assert!(got.iter().all(|e| !matches!(e, Ok(ChatEvent::Done { .. }))));
    }

    #[tokio::test]
    async fn error_event_is_classified() {
        let got = run("error_event.txt", 3).await;
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
