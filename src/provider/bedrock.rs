//! The Amazon Bedrock client for Claude: Bedrock Runtime `InvokeModelWithResponseStream`
//! (`POST {base}/model/{model-id}/invoke-with-response-stream`) with the Anthropic Messages
//! body (`anthropic_version: "bedrock-2023-05-31"`, no `model` or `stream` field), signed with
//! SigV4 (service `bedrock`), its event-stream response unwrapped (each `chunk` event carries
//! `{"bytes": base64 of one Anthropic stream event}`) and mapped by the Anthropic mapper,
//! exception frames and error responses classified by [`classify`] and [`exception`].
//!
//! Why `InvokeModelWithResponseStream` and not `ConverseStream`: Invoke takes Anthropic's own
//! request and streams Anthropic's own events, so the same model gets the same request and
//! answers the same way on all three hosts: thinking with signatures (valid across hosts),
//! redacted thinking, prompt caching, tool use, images and every stop reason go through the
//! code aiw already uses for Anthropic. Converse is a cross-vendor schema that would need its
//! own mapping in both directions and loses Anthropic-only content blocks.
//! See: <https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html>
//! and <https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html>

use std::fmt::Write as _;
use std::time::SystemTime;

use base64::Engine as _;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use super::anthropic::{self, AnthropicMapper};
use super::aws::eventstream::{self, Message};
use super::aws::{credentials, sigv4};
use super::cloud::{self, Host};
use super::http::{self, Decoder, Endpoint};
use super::sse::{EventKind, SseEvent};
use super::{ChatRequest, ErrorClass, EventStream, ProviderError};
use crate::config::{BedrockSettings, CloudSettings, ProviderSettings};

/// The `anthropic_version` Bedrock requires in the body.
pub const BEDROCK_ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";
/// The SigV4 signing name of Bedrock Runtime.
const SERVICE: &str = "bedrock";

/// Client for one configured Bedrock provider.
#[derive(Clone)]
pub struct BedrockClient {
    http: reqwest::Client,
    settings: ProviderSettings,
}

impl BedrockClient {
    /// Builds the client.
    pub fn new(settings: &ProviderSettings, http: reqwest::Client) -> Self {
        Self {
            http,
            settings: settings.clone(),
        }
    }

    fn bedrock(&self) -> Result<&BedrockSettings, ProviderError> {
        match &self.settings.cloud {
            Some(CloudSettings::Bedrock(b)) => Ok(b),
            _ => Err(ProviderError::new(
                ErrorClass::Unavailable,
                format!("provider `{}` has no Bedrock settings", self.settings.name),
            )),
        }
    }

    /// Starts a streamed answer from `model` (a name the built-in table or the provider's
    /// `models` map knows, or a Bedrock model id / inference profile as is).
    pub async fn stream(
        &self,
        model: &str,
        req: &ChatRequest,
    ) -> Result<EventStream, ProviderError> {
        let name = &self.settings.name;
        let b = self.bedrock()?;
        let Some(region) = b.region.as_deref() else {
            return Err(ProviderError::new(
                ErrorClass::Unavailable,
                format!(
                    "provider `{name}` has no AWS region: set `region` in [providers.{name}] \
                     (e.g. region = \"us-east-1\") or AWS_REGION"
                ),
            ));
        };
        let creds = credentials::resolve(name, b).await?;
        let id = cloud::model_id(Host::Bedrock, model, &b.models);
        let url = invoke_url(&self.settings.base_url, &id)?;
        let body = anthropic::hosted_request_body(req, BEDROCK_ANTHROPIC_VERSION, false);
        let mut signed = vec![
            ("host".to_string(), sigv4::host_header(&url)),
            (
                "accept".to_string(),
                "application/vnd.amazon.eventstream".to_string(),
            ),
            ("content-type".to_string(), "application/json".to_string()),
        ];
        sigv4::sign(
            "POST",
            &url,
            &mut signed,
            &body,
            &creds,
            sigv4::Scope {
                region,
                service: SERVICE,
            },
            SystemTime::now(),
        );
        let headers = header_map(&signed)?;
        let ep = Endpoint {
            provider: name,
            key: creds.session_token.as_ref(),
            classify,
        };
        let resp = http::send(&self.http, url.as_str(), headers, body, ep).await?;
        Ok(http::decoded_stream(
            resp,
            BedrockDecoder::default(),
            AnthropicMapper::default(),
            ep,
        ))
    }

    /// A one-token real generation; `Ok` when the stream reaches `message_stop`.
    pub async fn probe(&self, model: &str) -> Result<(), ProviderError> {
        http::drain(self.stream(model, &http::probe_request()).await?).await
    }
}

/// `{base}/model/{id}/invoke-with-response-stream`, the id encoded as one path segment the
/// way the AWS SDKs encode it (`:` as `%3A`; SigV4 then signs it encoded once more).
pub fn invoke_url(base: &str, model_id: &str) -> Result<reqwest::Url, ProviderError> {
    if base.is_empty() {
        return Err(ProviderError::new(
            ErrorClass::Unavailable,
            "no Bedrock endpoint: set `region` (or `base_url`) for the provider",
        ));
    }
    let url = format!(
        "{base}/model/{}/invoke-with-response-stream",
        sigv4::uri_encode(model_id, false)
    );
    reqwest::Url::parse(&url).map_err(|e| {
        ProviderError::new(
            ErrorClass::Unavailable,
            format!("base_url `{base}` is not a valid URL ({e}): fix it in the config file"),
        )
    })
}

/// The signed headers as sent (the client sets `host` itself, from the URL, to the same value).
fn header_map(signed: &[(String, String)]) -> Result<HeaderMap, ProviderError> {
    let mut h = HeaderMap::new();
    for (name, value) in signed {
        if name == "host" {
            continue;
        }
        let mut v = HeaderValue::from_str(value).map_err(|_| {
            ProviderError::new(
                ErrorClass::Auth,
                "the AWS credentials contain characters that cannot be sent in an HTTP header: \
                 check the session token",
            )
        })?;
        if matches!(name.as_str(), "authorization" | "x-amz-security-token") {
            v.set_sensitive(true);
        }
        let n = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
            ProviderError::new(ErrorClass::Unavailable, format!("bad header name {name}"))
        })?;
        h.insert(n, v);
    }
    Ok(h)
}

/// The class of a Bedrock error type (`ThrottlingException`, or `throttlingException` in an
/// exception frame), with an actionable note for the ones the user must fix.
fn class_of(
    kind: &str,
    status: u16,
    message: &str,
    original_status: Option<u16>,
) -> (ErrorClass, Option<&'static str>) {
    let lower = message.to_ascii_lowercase();
    match kind.to_ascii_lowercase().as_str() {
        "throttlingexception" => (ErrorClass::RateLimited, None),
        "servicequotaexceededexception" => (
            ErrorClass::QuotaExhausted,
            Some("raise the quota in the AWS Service Quotas console"),
        ),
        "serviceunavailableexception" | "modelnotreadyexception" => (ErrorClass::Overloaded, None),
        "internalserverexception" | "modeltimeoutexception" => (ErrorClass::ServerError, None),
        // The model's own failure: its original status says whether it was overloaded.
        "modelstreamerrorexception" | "modelerrorexception" => (
            match original_status {
                Some(429) => ErrorClass::RateLimited,
                Some(503 | 529) => ErrorClass::Overloaded,
                _ => ErrorClass::ServerError,
            },
            None,
        ),
        "accessdeniedexception" => (
            ErrorClass::Permission,
            Some(
                "allow bedrock:InvokeModelWithResponseStream for this identity, and enable the model under Model access in the Bedrock console for this region",
            ),
        ),
        "expiredtokenexception" => (
            ErrorClass::Auth,
            Some(
                "the temporary AWS credentials expired: refresh them (AWS_SESSION_TOKEN or the profile)",
            ),
        ),
        "invalidsignatureexception" | "incompletesignatureexception" => (
            ErrorClass::Auth,
            Some("check the secret access key aiw uses, and this machine's clock"),
        ),
        "unrecognizedclientexception"
        | "missingauthenticationtokenexception"
        | "invalidclienttokenid" => (
            ErrorClass::Auth,
            Some("the access key id is unknown to AWS: check AWS_ACCESS_KEY_ID or the profile"),
        ),
        "resourcenotfoundexception" => (
            ErrorClass::NotFound,
            Some(
                "check the model id for this region, or map the model under [providers.NAME.models] (many models need an inference profile such as `us.anthropic.…`)",
            ),
        ),
        "validationexception"
            if lower.contains("too long")
                || lower.contains("context window")
                || lower.contains("too many tokens") =>
        {
            (ErrorClass::ContextTooLong, None)
        }
        "validationexception" => (ErrorClass::InvalidRequest, None),
        _ if status == 403 && lower.contains("token") && lower.contains("expired") => {
            (ErrorClass::Auth, None)
        }
        _ => (http::class_for_status(status), None),
    }
}

/// `ThrottlingException` from `ThrottlingException:http://internal.amazon.com/…` or
/// `com.amazon.coral.service#ThrottlingException`.
fn error_type(raw: &str) -> &str {
    let raw = raw.rsplit('#').next().unwrap_or(raw);
    raw.split(':').next().unwrap_or(raw).trim()
}

/// Classifies a Bedrock error response: the type from `x-amzn-ErrorType` (or the body's
/// `__type`), the message from the body's `message`, the request id from `x-amzn-RequestId`.
pub fn classify(status: u16, headers: &HeaderMap, body: &str) -> ProviderError {
    let v: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let header_type = headers
        .get("x-amzn-errortype")
        .and_then(|t| t.to_str().ok())
        .map(str::to_string);
    let kind = header_type
        .or_else(|| {
            v.as_ref()
                .and_then(|v| v["__type"].as_str().map(str::to_string))
        })
        .unwrap_or_default();
    let kind = error_type(&kind);
    let message = v
        .as_ref()
        .and_then(|v| v["message"].as_str().or_else(|| v["Message"].as_str()))
        .map_or_else(
            || http::non_json_summary(status, headers, body),
            str::to_string,
        );
    let (class, hint) = class_of(kind, status, &message, None);
    let shown = match (kind.is_empty(), hint) {
        (true, None) => message,
        (true, Some(h)) => format!("{message} ({h})"),
        (false, None) => format!("{kind}: {message}"),
        (false, Some(h)) => format!("{kind}: {message} ({h})"),
    };
    let mut e = http::apply_headers(ProviderError::new(class, shown), status, headers);
    if e.request_id.is_none() {
        e.request_id = headers
            .get("x-amzn-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
    }
    e
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExceptionPayload {
    #[serde(default, alias = "Message")]
    message: Option<String>,
    #[serde(default)]
    original_status_code: Option<u16>,
}

/// Classifies an exception frame (`:message-type: exception`) that ended a stream.
pub fn exception(kind: &str, payload: &[u8]) -> ProviderError {
    let p: Option<ExceptionPayload> = serde_json::from_slice(payload).ok();
    let message = p
        .as_ref()
        .and_then(|p| p.message.clone())
        .unwrap_or_else(|| String::from_utf8_lossy(payload).chars().take(200).collect());
    let original = p.as_ref().and_then(|p| p.original_status_code);
    let (class, hint) = class_of(kind, 200, &message, original);
    let mut shown = format!("{kind} mid-stream: {message}");
    if let Some(h) = hint {
        let _ = write!(shown, " ({h})");
    }
    ProviderError::new(class, shown)
}

#[derive(Deserialize)]
struct ChunkPayload {
    bytes: String,
}

/// Unwraps Bedrock's event stream into the Anthropic events inside it: each `chunk` event's
/// payload `{"bytes": …}` becomes one event for the Anthropic mapper; an exception or error
/// frame ends the stream with its classified error; a corrupt frame is
/// [`ErrorClass::MalformedStream`]; a body that ends inside a frame is
/// [`ErrorClass::Truncated`].
#[derive(Default)]
pub struct BedrockDecoder {
    frames: eventstream::Parser,
}

fn unwrap_message(m: &Message) -> Result<Option<SseEvent>, ProviderError> {
    match m.header_str(":message-type") {
        Some("event") => {
            if m.header_str(":event-type") != Some("chunk") {
                tracing::debug!(event = ?m.header_str(":event-type"), "skipping a Bedrock event aiw does not use");
                return Ok(None);
            }
            let bad = |why: &str| {
                ProviderError::new(
                    ErrorClass::MalformedStream,
                    format!("a Bedrock chunk event is not `{{\"bytes\": base64}}` ({why})"),
                )
            };
            let chunk: ChunkPayload =
                serde_json::from_slice(&m.payload).map_err(|e| bad(&e.to_string()))?;
            let raw = base64::engine::general_purpose::STANDARD
                .decode(chunk.bytes.as_bytes())
                .map_err(|e| bad(&e.to_string()))?;
            let data = String::from_utf8(raw).map_err(|_| bad("not UTF-8"))?;
            Ok(Some(SseEvent {
                kind: EventKind::Sse,
                event: None,
                data,
                id: None,
                retry: None,
            }))
        }
        Some("exception") => Err(exception(
            m.header_str(":exception-type")
                .unwrap_or("unknownException"),
            &m.payload,
        )),
        Some("error") => Err(ProviderError::new(
            ErrorClass::ServerError,
            format!(
                "Bedrock stream error {}: {}",
                m.header_str(":error-code").unwrap_or("?"),
                m.header_str(":error-message").unwrap_or("")
            ),
        )),
        other => {
            tracing::debug!(message_type = ?other, "skipping a Bedrock frame of unknown type");
            Ok(None)
        }
    }
}

impl Decoder for BedrockDecoder {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        let mut messages = Vec::new();
        let framing = self.frames.push(bytes, &mut messages);
        for m in &messages {
            if let Some(ev) = unwrap_message(m)? {
                out.push(ev);
            }
        }
        framing.map_err(|e| {
            ProviderError::new(
                ErrorClass::MalformedStream,
                format!("the Bedrock event stream is corrupt: {e}"),
            )
        })
    }

    fn finish(&mut self, _out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        match self.frames.pending() {
            0 => Ok(()),
            n => Err(ProviderError::new(
                ErrorClass::Truncated,
                format!(
                    "the stream ended inside an event-stream frame ({n} bytes of it arrived): \
                     the answer may be incomplete"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::aws::eventstream::HeaderValue as Hv;
    use crate::provider::aws::eventstream::tests::encode;
    use crate::provider::http::body_json;
    use crate::provider::{ChatEvent, Message as ChatMessage, StopReason};
    use base64::engine::general_purpose::STANDARD;

    fn chunk(event_json: &str) -> Vec<u8> {
        let payload = serde_json::json!({"bytes": STANDARD.encode(event_json), "p": "abcdefgh"});
        encode(
            &[
                (":event-type", Hv::String("chunk".into())),
                (":content-type", Hv::String("application/json".into())),
                (":message-type", Hv::String("event".into())),
            ],
            payload.to_string().as_bytes(),
        )
    }

    fn exception_frame(kind: &str, payload: &str) -> Vec<u8> {
        encode(
            &[
                (":exception-type", Hv::String(kind.into())),
                (":content-type", Hv::String("application/json".into())),
                (":message-type", Hv::String("exception".into())),
            ],
            payload.as_bytes(),
        )
    }

    /// A whole Bedrock stream: the Anthropic fixture's events, each in a chunk frame.
    fn transcript() -> Vec<u8> {
        let sse = http::fixture("anthropic/text.txt");
        let text = String::from_utf8(sse).unwrap();
        let mut out = Vec::new();
        for line in text.lines() {
            if let Some(data) = line.strip_prefix("data: ")
                && !data.contains("\"ping\"")
            {
                out.extend(chunk(data));
            }
        }
        out
    }

    async fn run(bytes: &[u8], chunk_len: usize) -> Vec<Result<ChatEvent, ProviderError>> {
        http::map_decoded(
            bytes,
            chunk_len,
            BedrockDecoder::default(),
            AnthropicMapper::default(),
        )
        .await
    }

    #[tokio::test]
    async fn chunk_frames_map_like_the_anthropic_stream() {
        let bytes = transcript();
        let direct = http::map_transcript(
            &http::fixture("anthropic/text.txt"),
            4096,
            crate::provider::sse::Mode::Standard,
            AnthropicMapper::default(),
        )
        .await;
        let direct: Vec<ChatEvent> = direct.into_iter().map(Result::unwrap).collect();
        for split in [1, 3, 17, 4096] {
            let got: Vec<ChatEvent> = run(&bytes, split)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_eq!(got, direct, "split {split}");
        }
        assert!(matches!(
            direct.last(),
            Some(ChatEvent::Done {
                stop: StopReason::EndTurn
            })
        ));
    }

    #[tokio::test]
    async fn a_cut_inside_a_frame_is_truncated() {
        let bytes = transcript();
        let cut = &bytes[..bytes.len() - 10];
        let got = run(cut, 7).await;
        let e = got.last().unwrap().as_ref().unwrap_err();
        assert_eq!(e.class, ErrorClass::Truncated);
        assert!(
            e.message.contains("inside an event-stream frame"),
            "{}",
            e.message
        );
        assert!(got.iter().any(|e| matches!(e, Ok(ChatEvent::Text(_)))));
        assert!(!got.iter().any(|e| matches!(e, Ok(ChatEvent::Done { .. }))));
    }

    #[tokio::test]
    async fn a_bad_crc_is_malformed_after_the_good_frames() {
        let mut bytes =
            chunk(r#"{"type":"message_start","message":{"model":"m","usage":{"input_tokens":3}}}"#);
        let mut bad = chunk(
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}}"#,
        );
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        bytes.extend(bad);
        bytes.extend(chunk(r#"{"type":"message_stop"}"#));
        let got = run(&bytes, 4096).await;
        assert!(matches!(got[0], Ok(ChatEvent::Started { .. })));
        let e = got.last().unwrap().as_ref().unwrap_err();
        assert_eq!(e.class, ErrorClass::MalformedStream);
        assert!(!got.iter().any(|e| matches!(e, Ok(ChatEvent::Text(_)))));
    }

    #[tokio::test]
    async fn exception_frames_are_classified() {
        let cases = [
            (
                "throttlingException",
                r#"{"message":"Too many tokens"}"#,
                ErrorClass::RateLimited,
            ),
            (
                "serviceUnavailableException",
                r#"{"message":"busy"}"#,
                ErrorClass::Overloaded,
            ),
            (
                "internalServerException",
                r#"{"message":"oops"}"#,
                ErrorClass::ServerError,
            ),
            (
                "modelStreamErrorException",
                r#"{"message":"x","originalStatusCode":529}"#,
                ErrorClass::Overloaded,
            ),
            (
                "modelStreamErrorException",
                r#"{"message":"x","originalStatusCode":500}"#,
                ErrorClass::ServerError,
            ),
            (
                "modelStreamErrorException",
                r#"{"message":"x"}"#,
                ErrorClass::ServerError,
            ),
            (
                "validationException",
                r#"{"message":"Input is too long for requested model."}"#,
                ErrorClass::ContextTooLong,
            ),
            (
                "modelTimeoutException",
                r#"{"message":"slow"}"#,
                ErrorClass::ServerError,
            ),
        ];
        for (kind, payload, want) in cases {
            let mut bytes = chunk(r#"{"type":"message_start","message":{"model":"m"}}"#);
            bytes.extend(exception_frame(kind, payload));
            let got = run(&bytes, 5).await;
            let e = got.last().unwrap().as_ref().unwrap_err();
            assert_eq!(e.class, want, "{kind} {payload}");
            assert!(e.message.contains(kind), "{}", e.message);
            assert!(matches!(got[0], Ok(ChatEvent::Started { .. })), "{kind}");
        }
    }

    #[tokio::test]
    async fn a_chunk_that_is_not_base64_json_is_malformed() {
        let frame = encode(
            &[
                (":event-type", Hv::String("chunk".into())),
                (":message-type", Hv::String("event".into())),
            ],
            br#"{"bytes":"!!!"}"#,
        );
        let got = run(&frame, 4096).await;
        assert_eq!(
            got[0].as_ref().unwrap_err().class,
            ErrorClass::MalformedStream
        );
    }

    fn err(status: u16, kind: &str, message: &str) -> ProviderError {
        let mut h = HeaderMap::new();
        h.insert(
            "x-amzn-errortype",
            HeaderValue::from_str(&format!(
                "{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"
            ))
            .unwrap(),
        );
        h.insert("x-amzn-requestid", HeaderValue::from_static("6f1c-req"));
        classify(
            status,
            &h,
            &serde_json::json!({ "message": message }).to_string(),
        )
    }

    #[test]
    fn error_responses_are_classified() {
        let rows = [
            (
                429,
                "ThrottlingException",
                "Too many requests, please wait before trying again.",
                ErrorClass::RateLimited,
            ),
            (
                400,
                "ServiceQuotaExceededException",
                "Your request exceeds the service quota for your account.",
                ErrorClass::QuotaExhausted,
            ),
            (
                503,
                "ServiceUnavailableException",
                "Bedrock is unable to process your request.",
                ErrorClass::Overloaded,
            ),
            (
                429,
                "ModelNotReadyException",
                "Model is not ready",
                ErrorClass::Overloaded,
            ),
            (
                500,
                "InternalServerException",
                "internal",
                ErrorClass::ServerError,
            ),
            (
                408,
                "ModelTimeoutException",
                "Model has timed out",
                ErrorClass::ServerError,
            ),
            (
                424,
                "ModelErrorException",
                "model error",
                ErrorClass::ServerError,
            ),
            (
                403,
                "AccessDeniedException",
                "You don't have access to the model with the specified model ID.",
                ErrorClass::Permission,
            ),
            (
                403,
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
                ErrorClass::Auth,
            ),
            (
                403,
                "InvalidSignatureException",
                "The request signature we calculated does not match the signature you provided.",
                ErrorClass::Auth,
            ),
            (
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired",
                ErrorClass::Auth,
            ),
            (
                404,
                "ResourceNotFoundException",
                "Could not resolve the foundation model from the provided model identifier.",
                ErrorClass::NotFound,
            ),
            (
                400,
                "ValidationException",
                "Malformed input request: extraneous key [model] is not permitted",
                ErrorClass::InvalidRequest,
            ),
            (
                400,
                "ValidationException",
                "Input is too long for requested model.",
                ErrorClass::ContextTooLong,
            ),
            (418, "BrandNewException", "?", ErrorClass::InvalidRequest),
            (503, "BrandNewException", "?", ErrorClass::Overloaded),
        ];
        for (status, kind, message, want) in rows {
            let e = err(status, kind, message);
            assert_eq!(e.class, want, "{status} {kind}");
            assert_eq!(e.status, Some(status));
            assert!(e.message.contains(message), "{}", e.message);
            assert_eq!(e.request_id.as_deref(), Some("6f1c-req"));
        }
        let e = err(403, "AccessDeniedException", "no");
        assert!(
            e.message.contains("Model access"),
            "actionable: {}",
            e.message
        );
        // The body's `__type` when the header is missing; a proxy's HTML page summarised.
        let e = classify(
            429,
            &HeaderMap::new(),
            r#"{"__type":"com.amazon.coral.service#ThrottlingException","message":"slow"}"#,
        );
        assert_eq!(e.class, ErrorClass::RateLimited);
        let e = classify(
            502,
            &HeaderMap::new(),
            "<html><title>502 Bad Gateway</title></html>",
        );
        assert_eq!(e.class, ErrorClass::ServerError);
        assert!(!e.message.contains("<html>"));
    }

    #[test]
    fn the_body_has_no_model_or_stream_and_bedrocks_version() {
        let req = ChatRequest {
            system: Some("Be terse.".into()),
            messages: vec![ChatMessage::user("Hi")],
            ..ChatRequest::default()
        };
        let b = body_json(&anthropic::hosted_request_body(
            &req,
            BEDROCK_ANTHROPIC_VERSION,
            false,
        ));
        assert_eq!(b["anthropic_version"], "bedrock-2023-05-31");
        assert!(b.get("model").is_none() && b.get("stream").is_none(), "{b}");
        assert_eq!(b["system"], "Be terse.");
        assert_eq!(b["messages"][0]["content"][0]["text"], "Hi");
        assert!(b["max_tokens"].is_u64());
    }

    #[test]
    fn invoke_urls_encode_the_model_id() {
        let u = invoke_url(
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "anthropic.claude-sonnet-4-5-20250929-v1:0",
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke-with-response-stream"
        );
        let arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-x";
        let u = invoke_url("http://127.0.0.1:9", arn).unwrap();
        assert!(u.path().contains("arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile%2Fus.anthropic.claude-x"), "{u}");
        assert_eq!(
            invoke_url("", "m").unwrap_err().class,
            ErrorClass::Unavailable
        );
    }
}
