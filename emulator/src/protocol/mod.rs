//! Wire formatting shared by the provider modules: the per-request context,
//! stream events tagged by what they carry (preamble, text, thinking, tool-call parts,
//! closing), HTTP error payloads, and the dispatch from [`Protocol`] (and, for the cloud
//! hosts, [`Host`]) to the provider-specific formatter and tool-history validation. Bedrock
//! wraps the Anthropic events in event-stream frames; Vertex AI sends the Anthropic and
//! Gemini streams as they are and differs in its errors.

pub(crate) mod anthropic;
pub(crate) mod bedrock;
pub(crate) mod gemini;
pub(crate) mod openai;
pub(crate) mod plan;
pub(crate) mod vertex;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::record::{Host, Protocol, Turn};
use crate::script::{ErrorKind, ErrorReply};
use plan::Plan;

/// Facts about one request that the formatters need.
#[derive(Clone, Debug)]
pub(crate) struct Ctx {
    pub(crate) model: String,
    /// `req_…`, sent as `request-id` / `x-request-id` and in Anthropic error bodies.
    pub(crate) request_id: String,
    /// `msg_…` / `chatcmpl-…` / Gemini `responseId`.
    pub(crate) response_id: String,
    /// Unix seconds.
    pub(crate) created: u64,
    /// Input tokens counted from the request (words), used by errors and defaults.
    pub(crate) input_tokens: u64,
    /// OpenAI `stream_options.include_usage`.
    pub(crate) include_usage: bool,
    /// Gemini `alt=sse` (otherwise a streamed JSON array).
    pub(crate) sse: bool,
    /// Who serves the request: the vendor's API or a cloud host.
    pub(crate) host: Host,
}

impl Ctx {
    pub(crate) fn new(protocol: Protocol, model: &str, input_tokens: u64) -> Ctx {
        let response_id = match protocol {
            Protocol::Anthropic => format!("msg_{}", random_id(24)),
            Protocol::OpenAi => format!("chatcmpl-{}", random_id(29)),
            Protocol::Gemini => random_id(22),
        };
        Ctx {
            model: model.to_owned(),
            request_id: format!("req_{}", random_id(24)),
            response_id,
            created: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            input_tokens,
            include_usage: false,
            sse: true,
            host: Host::Direct,
        }
    }
}

/// Token usage reported by a reply.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Usage {
    pub(crate) input: u64,
    pub(crate) output: u64,
}

/// What an event carries; text faults count `Text` events, tool-argument faults look
/// for the `Tool…`/`Calls` events of their call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    /// Before any content: Anthropic `message_start`, first block start, `ping`; the
    /// OpenAI role chunk.
    Preamble,
    /// Block boundaries between contents (Anthropic `content_block_start`/`_stop`).
    Structure,
    /// A thinking (or signature) delta.
    Thinking,
    /// A text delta.
    Text,
    /// The start of tool call `call` (id and name; Anthropic also its empty first
    /// `input_json_delta`).
    ToolStart { call: usize },
    /// A fragment of call `call`'s arguments; `end` = chars of the arguments sent once
    /// this event is out.
    ToolArgs { call: usize, end: usize },
    /// Gemini: whole calls; [`Event::arg_offsets`] says where each call's `args` starts.
    Calls,
    /// The terminal events.
    Closing,
}

impl EventKind {
    /// Whether the reply's pacing (first-token delay, interval) applies before it.
    pub(crate) fn paced(self) -> bool {
        matches!(
            self,
            EventKind::Thinking | EventKind::Text | EventKind::ToolArgs { .. } | EventKind::Calls
        )
    }
}

/// One SSE event (sent as one HTTP chunk).
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub(crate) kind: EventKind,
    pub(crate) bytes: Vec<u8>,
    /// `(call, byte offset of its raw args JSON in bytes)`, for [`EventKind::Calls`].
    pub(crate) arg_offsets: Vec<(usize, usize)>,
}

impl Event {
    pub(crate) fn new(kind: EventKind, s: String) -> Event {
        Event {
            kind,
            bytes: s.into_bytes(),
            arg_offsets: Vec::new(),
        }
    }
}

/// A non-streaming 200 body and, per tool call, the byte offset where its arguments
/// literal starts (raw JSON, or the opening quote of the OpenAI string).
#[derive(Clone, Debug)]
pub(crate) struct FullBody {
    pub(crate) text: String,
    pub(crate) arg_offsets: Vec<usize>,
}

/// An HTTP error answer.
#[derive(Clone, Debug)]
pub(crate) struct HttpError {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
    /// Headers of this error only (Bedrock's `x-amzn-ErrorType`).
    pub(crate) headers: Vec<(String, String)>,
}

impl HttpError {
    pub(crate) fn json(status: u16, body: String) -> HttpError {
        HttpError {
            status,
            content_type: "application/json",
            body: body.into_bytes(),
            headers: Vec::new(),
        }
    }
}

/// JSON string literal for `s`.
pub(crate) fn q(s: &str) -> String {
    serde_json::to_string(s).expect("serializing a str cannot fail")
}

/// A unique-enough base62 id of `len` characters.
pub(crate) fn random_id(len: usize) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut state = nanos ^ COUNTER.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        // splitmix64
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.push(char::from(ALPHABET[(z % 62) as usize]));
    }
    out
}

/// The Cloudflare-style HTML error page for `status`.
pub(crate) fn cloudflare_html(status: u16) -> HttpError {
    let title = format!("{status} {}", crate::http::reason(status));
    HttpError {
        status,
        content_type: "text/html",
        body: format!(
            "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
        )
        .into_bytes(),
        headers: Vec::new(),
    }
}

/// The HTTP error for `kind`.
pub(crate) fn error_for(
    protocol: Protocol,
    kind: ErrorKind,
    ctx: &Ctx,
    er: &ErrorReply,
) -> HttpError {
    if kind == ErrorKind::CloudflareHtml {
        return cloudflare_html(502);
    }
    match ctx.host {
        Host::Bedrock => return bedrock::error(kind, ctx),
        Host::Vertex => return vertex::error(protocol, kind, ctx, er),
        Host::Direct => {}
    }
    match protocol {
        Protocol::Anthropic => anthropic::error(kind, ctx),
        Protocol::OpenAi => openai::error(kind, ctx),
        Protocol::Gemini => gemini::error(kind, ctx, gemini::retry_delay(er)),
    }
}

/// The provider's error for a request without the required key.
pub(crate) fn auth_error(protocol: Protocol, ctx: &Ctx) -> HttpError {
    error_for(
        protocol,
        ErrorKind::Auth,
        ctx,
        &ErrorReply::new(ErrorKind::Auth),
    )
}

/// The provider's 400 with a specific message.
pub(crate) fn bad_request(protocol: Protocol, ctx: &Ctx, message: &str) -> HttpError {
    if ctx.host == Host::Bedrock {
        return bedrock::validation(message, ctx);
    }
    match protocol {
        Protocol::Anthropic => {
            anthropic::error_body(400, "invalid_request_error", message, ctx, None)
        }
        Protocol::OpenAi => openai::error_body(400, message, "invalid_request_error", None, None),
        Protocol::Gemini => gemini::error_body(400, message, "INVALID_ARGUMENT", &[]),
    }
}

/// Content type of a streamed answer.
pub(crate) fn stream_content_type(protocol: Protocol, ctx: &Ctx) -> &'static str {
    if ctx.host == Host::Bedrock {
        return "application/vnd.amazon.eventstream";
    }
    match protocol {
        Protocol::Gemini if !ctx.sse => "application/json; charset=UTF-8",
        Protocol::Gemini => "text/event-stream",
        Protocol::Anthropic | Protocol::OpenAi => "text/event-stream; charset=utf-8",
    }
}

/// Headers every answer to this protocol carries.
pub(crate) fn base_headers(protocol: Protocol, ctx: &Ctx) -> Vec<(String, String)> {
    match ctx.host {
        Host::Bedrock => {
            return vec![
                ("x-amzn-RequestId".into(), ctx.request_id.clone()),
                (
                    "x-amzn-Bedrock-Content-Type".into(),
                    "application/json".into(),
                ),
            ];
        }
        Host::Vertex => return Vec::new(),
        Host::Direct => {}
    }
    match protocol {
        Protocol::Anthropic => vec![("request-id".into(), ctx.request_id.clone())],
        Protocol::OpenAi => vec![
            ("x-request-id".into(), ctx.request_id.clone()),
            ("openai-version".into(), "2020-10-01".into()),
        ],
        Protocol::Gemini => Vec::new(),
    }
}

/// All events of a streamed reply.
pub(crate) fn stream_events(
    protocol: Protocol,
    ctx: &Ctx,
    plan: &Plan,
    usage: Usage,
) -> Vec<Event> {
    if ctx.host == Host::Bedrock {
        return bedrock::frames(
            anthropic::stream(ctx, plan, usage),
            usage.input,
            usage.output,
        );
    }
    match protocol {
        Protocol::Anthropic => anthropic::stream(ctx, plan, usage),
        Protocol::OpenAi => openai::stream(ctx, plan, usage),
        Protocol::Gemini => gemini::stream(ctx, plan, usage),
    }
}

/// The non-streaming 200 body.
pub(crate) fn full_body(protocol: Protocol, ctx: &Ctx, plan: &Plan, usage: Usage) -> FullBody {
    match protocol {
        Protocol::Anthropic => anthropic::message(ctx, plan, usage),
        Protocol::OpenAi => openai::completion(ctx, plan, usage),
        Protocol::Gemini => gemini::response(ctx, plan, usage),
    }
}

/// Whether this protocol sends tool arguments as an escaped JSON string (OpenAI).
pub(crate) fn args_escaped(protocol: Protocol) -> bool {
    protocol == Protocol::OpenAi
}

/// The provider's 400 when the tool-use history in `turns` breaks its rules (see
/// [`crate::ToolValidation`]); `None` when it is fine.
pub(crate) fn validate_tools(protocol: Protocol, ctx: &Ctx, turns: &[Turn]) -> Option<HttpError> {
    if ctx.host == Host::Bedrock {
        return anthropic::validate_tools(ctx, turns).map(|e| bedrock::wrap_anthropic(&e, ctx));
    }
    match protocol {
        Protocol::Anthropic => anthropic::validate_tools(ctx, turns),
        Protocol::OpenAi => openai::validate_tools(turns),
        Protocol::Gemini => gemini::validate_tools(ctx, turns),
    }
}

/// The provider's mid-stream error event.
pub(crate) fn stream_error(protocol: Protocol, kind: ErrorKind, ctx: &Ctx) -> Vec<u8> {
    if ctx.host == Host::Bedrock {
        return bedrock::exception(kind);
    }
    match protocol {
        Protocol::Anthropic => anthropic::stream_error(kind, ctx),
        Protocol::OpenAi => openai::stream_error(kind, ctx),
        Protocol::Gemini => gemini::stream_error(kind, ctx),
    }
    .into_bytes()
}

/// An event whose data is invalid JSON (Bedrock: a frame whose checksum is wrong).
pub(crate) fn malformed(protocol: Protocol, ctx: &Ctx) -> Vec<u8> {
    if ctx.host == Host::Bedrock {
        return bedrock::corrupt_chunk();
    }
    match protocol {
        Protocol::Anthropic => "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\n\n".to_owned(),
        Protocol::OpenAi => format!("data: {{\"id\":{},\"object\":\"chat.completion.chunk\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\n\n", q(&ctx.response_id)),
        Protocol::Gemini => "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \r\n\r\n".to_owned(),
    }
    .into_bytes()
}

/// The model list body for `models`.
pub(crate) fn models_list(protocol: Protocol, models: &[String]) -> String {
    match protocol {
        Protocol::Anthropic => anthropic::models(models),
        Protocol::OpenAi => openai::models(models),
        Protocol::Gemini => gemini::models(models),
    }
}

/// One model object.
pub(crate) fn model_info(protocol: Protocol, model: &str) -> String {
    match protocol {
        Protocol::Anthropic => anthropic::model_info(model),
        Protocol::OpenAi => openai::model_info(model),
        Protocol::Gemini => gemini::model_info(model),
    }
}

/// Content type of a JSON (non-streamed) answer.
pub(crate) fn json_content_type(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Gemini => "application/json; charset=UTF-8",
        Protocol::Anthropic | Protocol::OpenAi => "application/json",
    }
}
