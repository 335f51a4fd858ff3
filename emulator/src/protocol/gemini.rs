//! Gemini Developer API wire format: `data:`-only `GenerateContentResponse` chunks with
//! CRLF framing and no terminator (the last chunk carries `finishReason` and final
//! `usageMetadata`), the JSON-array stream used without `alt=sse`, google.rpc.Status
//! error bodies (also sent bare, without `data:`, mid-stream), and `GET /v1beta/models`.

use super::{Ctx, Event, EventKind, HttpError, Usage, q};
use crate::script::{ErrorKind, ErrorReply};

/// The `RetryInfo.retryDelay` derived from the scripted `retry_after` (seconds) or
/// `retry_after_ms`, e.g. `"30s"`, `"1.5s"`.
pub(crate) fn retry_delay(er: &ErrorReply) -> Option<String> {
    let secs = er
        .retry_after
        .as_deref()
        .and_then(|v| v.trim().parse::<f64>().ok())
        .or_else(|| {
            er.retry_after_ms
                .as_deref()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map(|ms| ms / 1000.0)
        })?;
    (secs.is_finite() && secs >= 0.0).then(|| format!("{secs}s"))
}

const QUOTA_MESSAGE: &str = "You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.";

fn quota_failure(ctx: &Ctx, quota_id: &str, metric: &str, value: &str) -> String {
    format!(
        "{{\"@type\":\"type.googleapis.com/google.rpc.QuotaFailure\",\"violations\":[{{\"quotaMetric\":{},\"quotaId\":{},\"quotaDimensions\":{{\"location\":\"global\",\"model\":{}}},\"quotaValue\":{}}}]}}",
        q(metric),
        q(quota_id),
        q(&ctx.model),
        q(value)
    )
}

const HELP: &str = r#"{"@type":"type.googleapis.com/google.rpc.Help","links":[{"description":"Learn more about Gemini API quotas","url":"https://ai.google.dev/gemini-api/docs/rate-limits"}]}"#;

/// Status, message, rpc status and details for `kind`.
fn kind_parts(
    kind: ErrorKind,
    ctx: &Ctx,
    delay: Option<String>,
) -> (u16, String, &'static str, Vec<String>) {
    match kind {
        ErrorKind::Overloaded => (
            503,
            "The model is overloaded. Please try again later.".into(),
            "UNAVAILABLE",
            vec![],
        ),
        ErrorKind::RateLimited | ErrorKind::QuotaExhausted => {
            let per_day = kind == ErrorKind::QuotaExhausted;
            let mut details = vec![
                if per_day {
                    quota_failure(
                        ctx,
                        "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                        "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "250",
                    )
                } else {
                    quota_failure(
                        ctx,
                        "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "10",
                    )
                },
                HELP.to_owned(),
            ];
            let mut message = QUOTA_MESSAGE.to_owned();
            if let Some(d) = delay {
                message.push_str(&format!(" Please retry in {d}."));
                details.push(format!(
                    "{{\"@type\":\"type.googleapis.com/google.rpc.RetryInfo\",\"retryDelay\":{}}}",
                    q(&d)
                ));
            }
            (429, message, "RESOURCE_EXHAUSTED", details)
        }
        ErrorKind::Server | ErrorKind::CloudflareHtml => (
            500,
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting".into(),
            "INTERNAL",
            vec![],
        ),
        ErrorKind::Unavailable => (503, "The service is currently unavailable.".into(), "UNAVAILABLE", vec![]),
        ErrorKind::GatewayTimeout => (
            504,
            "The request timed out. Please try again.".into(),
            "DEADLINE_EXCEEDED",
            vec![],
        ),
        ErrorKind::Auth => (
            400,
            "API key not valid. Please pass a valid API key.".into(),
            "INVALID_ARGUMENT",
            vec![
                r#"{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com","metadata":{"service":"generativelanguage.googleapis.com"}}"#.to_owned(),
                r#"{"@type":"type.googleapis.com/google.rpc.LocalizedMessage","locale":"en-US","message":"API key not valid. Please pass a valid API key."}"#.to_owned(),
            ],
        ),
        ErrorKind::Permission => (
            403,
            "The caller does not have permission".into(),
            "PERMISSION_DENIED",
            vec![],
        ),
        ErrorKind::NotFound => (
            404,
            format!(
                "models/{} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
                ctx.model
            ),
            "NOT_FOUND",
            vec![],
        ),
        ErrorKind::BadRequest => (
            400,
            "Request contains an invalid argument.".into(),
            "INVALID_ARGUMENT",
            vec![],
        ),
        ErrorKind::ContextTooLong => (
            400,
            format!(
                "The input token count ({}) exceeds the maximum number of tokens allowed (1048576).",
                ctx.input_tokens.max(1_048_577)
            ),
            "INVALID_ARGUMENT",
            vec![],
        ),
    }
}

/// The pretty-printed google.rpc.Status document (as Google's front end sends it).
fn status_json(code: u16, message: &str, status: &str, details: &[String]) -> String {
    let mut s = format!(
        "{{\n  \"error\": {{\n    \"code\": {code},\n    \"message\": {},\n    \"status\": {}",
        q(message),
        q(status)
    );
    if !details.is_empty() {
        s.push_str(",\n    \"details\": [\n");
        let items: Vec<String> = details.iter().map(|d| format!("      {d}")).collect();
        s.push_str(&items.join(",\n"));
        s.push_str("\n    ]");
    }
    s.push_str("\n  }\n}\n");
    s
}

/// A google.rpc.Status error with `code`.
pub(crate) fn error_body(code: u16, message: &str, status: &str, details: &[String]) -> HttpError {
    let mut e = HttpError::json(code, status_json(code, message, status, details));
    e.content_type = "application/json; charset=UTF-8";
    e
}

pub(crate) fn error(kind: ErrorKind, ctx: &Ctx, delay: Option<String>) -> HttpError {
    let (code, m, s, d) = kind_parts(kind, ctx, delay);
    error_body(code, &m, s, &d)
}

pub(crate) fn stream_error(kind: ErrorKind, ctx: &Ctx) -> String {
    let (code, m, s, d) = kind_parts(kind, ctx, None);
    status_json(code, &m, s, &d).replace('\n', "\r\n")
}

fn candidate(ctx: &Ctx, text: &str, last: bool, usage: Usage) -> String {
    let finish = if last {
        ",\"finishReason\":\"STOP\""
    } else {
        ""
    };
    let usage_json = if last {
        format!(
            "{{\"promptTokenCount\":{},\"candidatesTokenCount\":{},\"totalTokenCount\":{}}}",
            usage.input,
            usage.output,
            usage.input + usage.output
        )
    } else {
        format!(
            "{{\"promptTokenCount\":{},\"totalTokenCount\":{}}}",
            usage.input, usage.input
        )
    };
    format!(
        "{{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":{}}}],\"role\":\"model\"}}{finish},\"index\":0}}],\"usageMetadata\":{usage_json},\"modelVersion\":{},\"responseId\":{}}}",
        q(text),
        q(&ctx.model),
        q(&ctx.response_id)
    )
}

pub(crate) fn stream(ctx: &Ctx, chunks: &[String], usage: Usage) -> Vec<Event> {
    let empty = [String::new()];
    let chunks = if chunks.is_empty() {
        &empty[..]
    } else {
        chunks
    };
    let n = chunks.len();
    let mut out: Vec<Event> = chunks
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let body = candidate(ctx, c, i + 1 == n, usage);
            let framed = if ctx.sse {
                format!("data: {body}\r\n\r\n")
            } else if i == 0 {
                format!("[{body}")
            } else {
                format!("\r\n,{body}")
            };
            Event::new(EventKind::Text, framed)
        })
        .collect();
    if !ctx.sse {
        out.push(Event::new(EventKind::Closing, "]".to_owned()));
    }
    out
}

pub(crate) fn response(ctx: &Ctx, text: &str, usage: Usage) -> String {
    candidate(ctx, text, true, usage)
}

pub(crate) fn model_info(model: &str) -> String {
    format!(
        "{{\"name\":{},\"version\":\"001\",\"displayName\":{},\"inputTokenLimit\":1048576,\"outputTokenLimit\":65536,\"supportedGenerationMethods\":[\"generateContent\",\"countTokens\"]}}",
        q(&format!("models/{model}")),
        q(model)
    )
}

pub(crate) fn models(models: &[String]) -> String {
    let data: Vec<String> = models.iter().map(|m| model_info(m)).collect();
    format!("{{\"models\":[{}]}}", data.join(","))
}
