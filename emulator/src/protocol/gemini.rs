//! Gemini Developer API wire format: `data:`-only `GenerateContentResponse` chunks with
//! CRLF framing and no terminator (the last chunk carries `finishReason` and final
//! `usageMetadata`) holding thought, text and whole `functionCall` parts with
//! `thoughtSignature`s, the JSON-array stream used without `alt=sse`, google.rpc.Status
//! error bodies (also sent bare, without `data:`, mid-stream), the Gemini 3
//! thought-signature check, and `GET /v1beta/models`.

use super::plan::Plan;
use super::{Ctx, Event, EventKind, FullBody, HttpError, Usage, q};
use crate::record::{Block, Protocol, Turn, TurnRole};
use crate::script::{ErrorKind, ErrorReply};
use std::fmt::Write as _;

/// The `RetryInfo.retryDelay`: the scripted `retry_delay` as is, else derived from the
/// scripted `retry_after` (seconds) or `retry_after_ms`, e.g. `"30s"`, `"1.5s"`.
pub(crate) fn retry_delay(er: &ErrorReply) -> Option<String> {
    if let Some(d) = &er.retry_delay {
        return Some(d.clone());
    }
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
                let _ = write!(message, " Please retry in {d}.");
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

fn usage_json(usage: Usage, last: bool) -> String {
    if last {
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
    }
}

/// One `GenerateContentResponse` whose parts are the already-rendered `parts` (without
/// brackets); also the byte offset where `parts` starts in it.
fn candidate(ctx: &Ctx, parts: &str, finish: Option<&str>, usage: Usage) -> (String, usize) {
    let last = finish.is_some();
    let finish = finish.map_or_else(String::new, |r| format!(",\"finishReason\":\"{r}\""));
    let head = "{\"candidates\":[{\"content\":{\"parts\":[";
    (
        format!(
            "{head}{parts}],\"role\":\"model\"}}{finish},\"index\":0}}],\"usageMetadata\":{},\"modelVersion\":{},\"responseId\":{}}}",
            usage_json(usage, last),
            q(&ctx.model),
            q(&ctx.response_id)
        ),
        head.len(),
    )
}

/// `,"thoughtSignature":…` when `sig` is set.
fn sig_field(sig: Option<&str>) -> String {
    sig.map(|s| format!(",\"thoughtSignature\":{}", q(s)))
        .unwrap_or_default()
}

fn text_part(text: &str, thought: bool, sig: Option<&str>) -> String {
    let thought = if thought { ",\"thought\":true" } else { "" };
    format!("{{\"text\":{}{thought}{}}}", q(text), sig_field(sig))
}

/// All calls as `functionCall` parts (the signature on the first), and each call's
/// args offset within the returned string.
fn call_parts(plan: &Plan) -> (String, Vec<(usize, usize)>) {
    let mut s = String::new();
    let mut offsets = Vec::new();
    for (k, c) in plan.calls.iter().enumerate() {
        if k > 0 {
            s.push(',');
        }
        let id =
            c.id.as_deref()
                .map(|i| format!("\"id\":{},", q(i)))
                .unwrap_or_default();
        let _ = write!(
            s,
            "{{\"functionCall\":{{{id}\"name\":{},\"args\":",
            q(&c.name)
        );
        offsets.push((k, s.len()));
        s.push_str(&c.args);
        let sig = if k == 0 {
            plan.gemini_signature.as_deref()
        } else {
            None
        };
        let _ = write!(s, "}}{}}}", sig_field(sig));
    }
    (s, offsets)
}

/// Rendered parts that go out together (one stream chunk).
struct Rendered {
    kind: EventKind,
    /// The parts' JSON, comma-separated, without brackets.
    json: String,
    /// `(call, offset of its args in json)`.
    arg_offsets: Vec<(usize, usize)>,
}

/// The parts of a reply in order: thought chunks, text chunks (`chunked`: one part per
/// chunk, else the whole text), then all calls in one entry. Without calls the last
/// part carries the signature.
fn reply_parts(plan: &Plan, chunked: bool) -> Vec<Rendered> {
    let mut texts: Vec<(EventKind, String, bool)> = Vec::new();
    if let Some(t) = &plan.thinking {
        if chunked {
            texts.extend(
                t.chunks
                    .iter()
                    .map(|c| (EventKind::Thinking, c.clone(), true)),
            );
        } else {
            texts.push((EventKind::Thinking, t.text.clone(), true));
        }
        if t.chunks.is_empty() && chunked {
            texts.push((EventKind::Thinking, String::new(), true));
        }
    }
    if plan.has_text_block(Protocol::Gemini) {
        if chunked && !plan.text_chunks.is_empty() {
            texts.extend(
                plan.text_chunks
                    .iter()
                    .map(|c| (EventKind::Text, c.clone(), false)),
            );
        } else {
            texts.push((EventKind::Text, plan.text.clone(), false));
        }
    }
    let sig_on_last = plan.calls.is_empty();
    let n = texts.len();
    let mut out: Vec<Rendered> = texts
        .into_iter()
        .enumerate()
        .map(|(i, (kind, text, thought))| {
            let sig = if sig_on_last && i + 1 == n {
                plan.gemini_signature.as_deref()
            } else {
                None
            };
            Rendered {
                kind,
                json: text_part(&text, thought, sig),
                arg_offsets: Vec::new(),
            }
        })
        .collect();
    if !plan.calls.is_empty() {
        let (json, arg_offsets) = call_parts(plan);
        out.push(Rendered {
            kind: EventKind::Calls,
            json,
            arg_offsets,
        });
    }
    out
}

pub(crate) fn stream(ctx: &Ctx, plan: &Plan, usage: Usage) -> Vec<Event> {
    let parts = reply_parts(plan, true);
    let n = parts.len();
    let mut out: Vec<Event> = parts
        .into_iter()
        .enumerate()
        .map(|(i, part)| {
            let finish = (i + 1 == n).then(|| plan.stop_reason(Protocol::Gemini));
            let (body, at) = candidate(ctx, &part.json, finish, usage);
            let (framed, prefix) = if ctx.sse {
                (format!("data: {body}\r\n\r\n"), "data: ".len())
            } else if i == 0 {
                (format!("[{body}"), 1)
            } else {
                (format!("\r\n,{body}"), 3)
            };
            let mut ev = Event::new(part.kind, framed);
            ev.arg_offsets = part
                .arg_offsets
                .into_iter()
                .map(|(call, off)| (call, prefix + at + off))
                .collect();
            ev
        })
        .collect();
    if !ctx.sse {
        out.push(Event::new(EventKind::Closing, "]".to_owned()));
    }
    out
}

pub(crate) fn response(ctx: &Ctx, plan: &Plan, usage: Usage) -> FullBody {
    let parts = reply_parts(plan, false);
    let mut joined = String::new();
    let mut arg_offsets = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            joined.push(',');
        }
        arg_offsets.extend(part.arg_offsets.iter().map(|(_, off)| joined.len() + off));
        joined.push_str(&part.json);
    }
    let (text, at) = candidate(
        ctx,
        &joined,
        Some(plan.stop_reason(Protocol::Gemini)),
        usage,
    );
    FullBody {
        text,
        arg_offsets: arg_offsets.into_iter().map(|off| at + off).collect(),
    }
}

/// Whether `model` is Gemini 3 or later (not an image model): such models sign their
/// function calls and reject unsigned ones in the current turn.
/// See: <https://ai.google.dev/gemini-api/docs/thought-signatures>
pub(crate) fn signs_thoughts(model: &str) -> bool {
    let name = model.strip_prefix("models/").unwrap_or(model);
    let Some(rest) = name.strip_prefix("gemini-") else {
        return false;
    };
    let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
    major.parse::<u32>().is_ok_and(|m| m >= 3) && !name.contains("-image")
}

/// The Gemini 3 thought-signature rule for function calls in the current turn (see
/// [`crate::ToolValidation`]).
pub(crate) fn validate_tools(ctx: &Ctx, turns: &[Turn]) -> Option<HttpError> {
    if !signs_thoughts(&ctx.model) {
        return None;
    }
    // The current turn starts after the last user content holding more than function
    // responses (a function response continues the turn).
    let start = turns
        .iter()
        .rposition(|t| {
            t.role == TurnRole::User
                && t.blocks
                    .iter()
                    .any(|b| !matches!(b, Block::ToolResult { .. }))
        })
        .map_or(0, |i| i + 1);
    for turn in &turns[start..] {
        if turn.role != TurnRole::Assistant {
            continue;
        }
        let first_call = turn.blocks.iter().find_map(|b| match b {
            Block::ToolUse {
                name, signature, ..
            } => Some((name, signature)),
            _ => None,
        });
        if let Some((name, sig)) = first_call
            && sig.as_deref().is_none_or(str::is_empty)
        {
            return Some(error_body(
                400,
                &format!(
                    "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:{name}` , position {}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                    turn.index + 1
                ),
                "INVALID_ARGUMENT",
                &[],
            ));
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::signs_thoughts;

    #[test]
    fn gemini_3_and_later_sign_thoughts() {
        for m in [
            "gemini-3-pro-preview",
            "models/gemini-3-flash-preview",
            "gemini-3.1-pro-preview",
            "gemini-4-argon",
            "gemini-10-x",
        ] {
            assert!(signs_thoughts(m), "{m}");
        }
        for m in [
            "gemini-2.5-flash",
            "gemini-2.0-flash",
            "gemini-3-pro-image-preview",
            "gemini-x",
            "gemma-3",
            "",
        ] {
            assert!(!signs_thoughts(m), "{m}");
        }
    }
}
