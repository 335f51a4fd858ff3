//! Anthropic Messages wire format: named SSE events (`message_start` … `message_stop`,
//! `ping`, padded JSON), mid-stream `event: error`, error bodies
//! (`{"type":"error","error":{…},"request_id":…}`), the non-streaming message and the
//! `GET /v1/models` page.

use super::{Ctx, Event, EventKind, HttpError, Usage, q};
use crate::script::ErrorKind;

fn ev(name: &str, data: &str) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// Status, `error.type`, message and optional `error.details` JSON for `kind`.
fn kind_parts(kind: ErrorKind, ctx: &Ctx) -> (u16, &'static str, String, Option<&'static str>) {
    match kind {
        ErrorKind::Overloaded => (529, "overloaded_error", "Overloaded".into(), None),
        ErrorKind::RateLimited => (
            429,
            "rate_limit_error",
            "This request would exceed your organization's rate limit of 50 requests per minute. Please try again later.".into(),
            None,
        ),
        ErrorKind::QuotaExhausted => (
            429,
            "rate_limit_error",
            "You have reached your monthly spend limit. Access will resume at the start of next month, or raise your limit in the Console.".into(),
            Some(r#"{"error_code":"enforced_spend_limit_reached"}"#),
        ),
        ErrorKind::Server | ErrorKind::CloudflareHtml => (500, "api_error", "Internal server error".into(), None),
        ErrorKind::Unavailable => (503, "api_error", "Service unavailable".into(), None),
        ErrorKind::GatewayTimeout => (504, "timeout_error", "Request timed out".into(), None),
        ErrorKind::Auth => (401, "authentication_error", "invalid x-api-key".into(), None),
        ErrorKind::Permission => (
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.".into(),
            None,
        ),
        ErrorKind::NotFound => (404, "not_found_error", format!("model: {}", ctx.model), None),
        ErrorKind::BadRequest => (400, "invalid_request_error", "Invalid request body".into(), None),
        ErrorKind::ContextTooLong => (
            400,
            "invalid_request_error",
            format!("prompt is too long: {} tokens > 200000 maximum", ctx.input_tokens.max(200_001)),
            None,
        ),
    }
}

/// `{"type":"error","error":{"type":…,"message":…[,"details":…]},"request_id":…}`.
pub(crate) fn error_body(
    status: u16,
    err_type: &str,
    message: &str,
    ctx: &Ctx,
    details: Option<&str>,
) -> HttpError {
    let details = details
        .map(|d| format!(",\"details\":{d}"))
        .unwrap_or_default();
    HttpError::json(
        status,
        format!(
            "{{\"type\":\"error\",\"error\":{{\"type\":{},\"message\":{}{details}}},\"request_id\":{}}}",
            q(err_type),
            q(message),
            q(&ctx.request_id)
        ),
    )
}

pub(crate) fn error(kind: ErrorKind, ctx: &Ctx) -> HttpError {
    let (status, t, m, d) = kind_parts(kind, ctx);
    error_body(status, t, &m, ctx, d)
}

pub(crate) fn stream_error(kind: ErrorKind, ctx: &Ctx) -> String {
    let (_, t, m, _) = kind_parts(kind, ctx);
    ev(
        "error",
        &format!(
            "{{\"type\": \"error\", \"error\": {{\"type\": {}, \"message\": {}}}}}",
            q(t),
            q(&m)
        ),
    )
}

pub(crate) fn stream(ctx: &Ctx, chunks: &[String], usage: Usage) -> Vec<Event> {
    let mut out = vec![
        Event::new(
            EventKind::Preamble,
            ev(
                "message_start",
                &format!(
                    "{{\"type\":\"message_start\",\"message\":{{\"id\":{},\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":{},\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{},\"output_tokens\":1}}}}}}",
                    q(&ctx.response_id),
                    q(&ctx.model),
                    usage.input
                ),
            ),
        ),
        Event::new(
            EventKind::Preamble,
            ev(
                "content_block_start",
                r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            ),
        ),
        Event::new(EventKind::Preamble, ev("ping", r#"{"type": "ping"}"#)),
    ];
    out.extend(chunks.iter().map(|c| {
        Event::new(
            EventKind::Text,
            ev(
                "content_block_delta",
                &format!(
                    "{{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":{}}}}}",
                    q(c)
                ),
            ),
        )
    }));
    out.push(Event::new(
        EventKind::Closing,
        ev(
            "content_block_stop",
            r#"{"type":"content_block_stop","index":0        }"#,
        ),
    ));
    out.push(Event::new(
        EventKind::Closing,
        ev(
            "message_delta",
            &format!(
                "{{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"end_turn\",\"stop_sequence\":null}},\"usage\":{{\"input_tokens\":{},\"output_tokens\":{}}}}}",
                usage.input, usage.output
            ),
        ),
    ));
    out.push(Event::new(
        EventKind::Closing,
        ev("message_stop", r#"{"type":"message_stop"}"#),
    ));
    out
}

pub(crate) fn message(ctx: &Ctx, text: &str, usage: Usage) -> String {
    format!(
        "{{\"model\":{},\"id\":{},\"type\":\"message\",\"role\":\"assistant\",\"content\":[{{\"type\":\"text\",\"text\":{}}}],\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{},\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":{},\"service_tier\":\"standard\"}}}}",
        q(&ctx.model),
        q(&ctx.response_id),
        q(text),
        usage.input,
        usage.output
    )
}

pub(crate) fn model_info(model: &str) -> String {
    format!(
        "{{\"type\":\"model\",\"id\":{},\"display_name\":{},\"created_at\":\"2025-01-01T00:00:00Z\"}}",
        q(model),
        q(model)
    )
}

pub(crate) fn models(models: &[String]) -> String {
    let data: Vec<String> = models.iter().map(|m| model_info(m)).collect();
    let id = |m: Option<&String>| m.map_or_else(|| "null".to_owned(), |m| q(m));
    format!(
        "{{\"data\":[{}],\"has_more\":false,\"first_id\":{},\"last_id\":{}}}",
        data.join(","),
        id(models.first()),
        id(models.last())
    )
}
