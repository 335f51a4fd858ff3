//! OpenAI Chat Completions wire format: `data:`-only `chat.completion.chunk` events, the
//! optional usage chunk with `choices: []`, `data: [DONE]`, mid-stream
//! `data: {"error":…}`, `{"error":{message,type,param,code}}` bodies, the non-streaming
//! completion and the `GET /v1/models` list.

use super::{Ctx, Event, EventKind, HttpError, Usage, q};
use crate::script::ErrorKind;

/// Status, message, type, param, code for `kind`.
fn kind_parts(
    kind: ErrorKind,
    ctx: &Ctx,
) -> (
    u16,
    String,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
) {
    match kind {
        ErrorKind::Overloaded => (
            503,
            "The server is overloaded or not ready yet.".into(),
            "service_unavailable_error",
            None,
            Some("server_is_overloaded"),
        ),
        ErrorKind::RateLimited => (
            429,
            format!(
                "Rate limit reached for {} in organization org-emulator on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s.",
                ctx.model
            ),
            "requests",
            None,
            Some("rate_limit_exceeded"),
        ),
        ErrorKind::QuotaExhausted => (
            429,
            "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.".into(),
            "insufficient_quota",
            None,
            Some("insufficient_quota"),
        ),
        ErrorKind::Server | ErrorKind::CloudflareHtml => (
            500,
            "The server had an error while processing your request. Sorry about that!".into(),
            "server_error",
            None,
            None,
        ),
        ErrorKind::Unavailable => (
            503,
            "Service temporarily unavailable.".into(),
            "service_unavailable_error",
            None,
            None,
        ),
        ErrorKind::GatewayTimeout => (504, "Gateway timeout.".into(), "server_error", None, Some("timeout")),
        ErrorKind::Auth => (
            401,
            "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.".into(),
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        ),
        ErrorKind::Permission => (
            403,
            "Country, region, or territory not supported".into(),
            "request_forbidden",
            None,
            Some("unsupported_country_region_territory"),
        ),
        ErrorKind::NotFound => (
            404,
            format!("The model `{}` does not exist or you do not have access to it.", ctx.model),
            "invalid_request_error",
            None,
            Some("model_not_found"),
        ),
        ErrorKind::BadRequest => (400, "Invalid request.".into(), "invalid_request_error", None, None),
        ErrorKind::ContextTooLong => (
            400,
            format!(
                "This model's maximum context length is 128000 tokens. However, your messages resulted in {} tokens. Please reduce the length of the messages.",
                ctx.input_tokens.max(128_001)
            ),
            "invalid_request_error",
            Some("messages"),
            Some("context_length_exceeded"),
        ),
    }
}

fn opt(v: Option<&str>) -> String {
    v.map_or_else(|| "null".to_owned(), q)
}

fn error_object(message: &str, err_type: &str, param: Option<&str>, code: Option<&str>) -> String {
    format!(
        "{{\"error\":{{\"message\":{},\"type\":{},\"param\":{},\"code\":{}}}}}",
        q(message),
        q(err_type),
        opt(param),
        opt(code)
    )
}

/// `{"error":{"message","type","param","code"}}` with `status`.
pub(crate) fn error_body(
    status: u16,
    message: &str,
    err_type: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> HttpError {
    HttpError::json(status, error_object(message, err_type, param, code))
}

pub(crate) fn error(kind: ErrorKind, ctx: &Ctx) -> HttpError {
    let (status, m, t, p, c) = kind_parts(kind, ctx);
    error_body(status, &m, t, p, c)
}

pub(crate) fn stream_error(kind: ErrorKind, ctx: &Ctx) -> String {
    let (_, m, t, p, c) = kind_parts(kind, ctx);
    format!("data: {}\n\n", error_object(&m, t, p, c))
}

fn chunk(ctx: &Ctx, choices: &str, usage: &str) -> String {
    format!(
        "data: {{\"id\":{},\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":{},\"system_fingerprint\":null,\"choices\":[{choices}]{usage}}}\n\n",
        q(&ctx.response_id),
        ctx.created,
        q(&ctx.model)
    )
}

pub(crate) fn stream(ctx: &Ctx, chunks: &[String], usage: Usage) -> Vec<Event> {
    let null_usage = if ctx.include_usage {
        ",\"usage\":null"
    } else {
        ""
    };
    let mut out = vec![Event::new(
        EventKind::Preamble,
        chunk(
            ctx,
            r#"{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}"#,
            null_usage,
        ),
    )];
    out.extend(chunks.iter().map(|c| {
        Event::new(
            EventKind::Text,
            chunk(
                ctx,
                &format!(
                    "{{\"index\":0,\"delta\":{{\"content\":{}}},\"logprobs\":null,\"finish_reason\":null}}",
                    q(c)
                ),
                null_usage,
            ),
        )
    }));
    out.push(Event::new(
        EventKind::Closing,
        chunk(
            ctx,
            r#"{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}"#,
            null_usage,
        ),
    ));
    if ctx.include_usage {
        out.push(Event::new(
            EventKind::Closing,
            chunk(
                ctx,
                "",
                &format!(
                    ",\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{}}}",
                    usage.input,
                    usage.output,
                    usage.input + usage.output
                ),
            ),
        ));
    }
    out.push(Event::new(
        EventKind::Closing,
        "data: [DONE]\n\n".to_owned(),
    ));
    out
}

pub(crate) fn completion(ctx: &Ctx, text: &str, usage: Usage) -> String {
    format!(
        "{{\"id\":{},\"object\":\"chat.completion\",\"created\":{},\"model\":{},\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":{},\"refusal\":null,\"annotations\":[]}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{}}},\"service_tier\":\"default\",\"system_fingerprint\":null}}",
        q(&ctx.response_id),
        ctx.created,
        q(&ctx.model),
        q(text),
        usage.input,
        usage.output,
        usage.input + usage.output
    )
}

pub(crate) fn model_info(model: &str) -> String {
    format!(
        "{{\"id\":{},\"object\":\"model\",\"created\":1700000000,\"owned_by\":\"aiw-emulator\"}}",
        q(model)
    )
}

pub(crate) fn models(models: &[String]) -> String {
    let data: Vec<String> = models.iter().map(|m| model_info(m)).collect();
    format!("{{\"object\":\"list\",\"data\":[{}]}}", data.join(","))
}
