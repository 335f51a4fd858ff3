//! Anthropic Messages wire format: named SSE events (`message_start` … `message_stop`,
//! `ping`, padded JSON) with thinking, redacted-thinking, text and `tool_use` blocks,
//! mid-stream `event: error`, error bodies (`{"type":"error","error":{…},
//! "request_id":…}`), the tool_use/tool_result pairing checks, the non-streaming message
//! and the `GET /v1/models` page.

use super::plan::Plan;
use super::{Ctx, Event, EventKind, FullBody, HttpError, Usage, q};
use crate::record::{Block, Protocol, Turn, TurnRole};
use crate::script::ErrorKind;
use std::fmt::Write as _;

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

/// One content block of a reply, in wire order.
enum Part<'a> {
    Thinking(&'a super::plan::PlanThinking),
    Redacted(&'a str),
    Text,
    Tool(usize),
}

fn parts(plan: &Plan) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    if let Some(t) = &plan.thinking {
        out.push(Part::Thinking(t));
    }
    if let Some(d) = &plan.redacted {
        out.push(Part::Redacted(d));
    }
    if plan.has_text_block(Protocol::Anthropic) {
        out.push(Part::Text);
    }
    out.extend((0..plan.calls.len()).map(Part::Tool));
    out
}

fn stop_reason(plan: &Plan) -> &'static str {
    plan.stop_reason(Protocol::Anthropic)
}

fn delta(index: usize, delta: &str) -> String {
    ev(
        "content_block_delta",
        &format!("{{\"type\":\"content_block_delta\",\"index\":{index},\"delta\":{delta}}}"),
    )
}

pub(crate) fn stream(ctx: &Ctx, plan: &Plan, usage: Usage) -> Vec<Event> {
    let mut out = vec![Event::new(
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
    )];
    let parts = parts(plan);
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        let start_kind = if i == 0 {
            EventKind::Preamble
        } else {
            EventKind::Structure
        };
        let start = |block: &str| {
            ev(
                "content_block_start",
                &format!(
                    "{{\"type\":\"content_block_start\",\"index\":{i},\"content_block\":{block}}}"
                ),
            )
        };
        match part {
            Part::Thinking(t) => {
                out.push(Event::new(
                    start_kind,
                    start(r#"{"type":"thinking","thinking":"","signature":""}"#),
                ));
                push_ping(&mut out, i);
                out.extend(t.chunks.iter().map(|c| {
                    Event::new(
                        EventKind::Thinking,
                        delta(
                            i,
                            &format!("{{\"type\":\"thinking_delta\",\"thinking\":{}}}", q(c)),
                        ),
                    )
                }));
                let sig = t.signature.as_deref().unwrap_or_default();
                out.push(Event::new(
                    EventKind::Thinking,
                    delta(
                        i,
                        &format!("{{\"type\":\"signature_delta\",\"signature\":{}}}", q(sig)),
                    ),
                ));
            }
            Part::Redacted(data) => {
                out.push(Event::new(
                    start_kind,
                    start(&format!(
                        "{{\"type\":\"redacted_thinking\",\"data\":{}}}",
                        q(data)
                    )),
                ));
                push_ping(&mut out, i);
            }
            Part::Text => {
                out.push(Event::new(
                    start_kind,
                    start(r#"{"type":"text","text":""}"#),
                ));
                push_ping(&mut out, i);
                out.extend(plan.text_chunks.iter().map(|c| {
                    Event::new(
                        EventKind::Text,
                        delta(i, &format!("{{\"type\":\"text_delta\",\"text\":{}}}", q(c))),
                    )
                }));
            }
            Part::Tool(call) => {
                let c = &plan.calls[*call];
                let kind = EventKind::ToolStart { call: *call };
                out.push(Event::new(
                    if i == 0 { EventKind::Preamble } else { kind },
                    start(&format!(
                        "{{\"type\":\"tool_use\",\"id\":{},\"name\":{},\"input\":{{}}}}",
                        q(c.id.as_deref().unwrap_or_default()),
                        q(&c.name)
                    )),
                ));
                push_ping(&mut out, i);
                out.push(Event::new(
                    kind,
                    delta(i, r#"{"type":"input_json_delta","partial_json":""}"#),
                ));
                let mut end = 0;
                for f in &c.fragments {
                    end += f.chars().count();
                    out.push(Event::new(
                        EventKind::ToolArgs { call: *call, end },
                        delta(
                            i,
                            &format!(
                                "{{\"type\":\"input_json_delta\",\"partial_json\":{}}}",
                                q(f)
                            ),
                        ),
                    ));
                }
            }
        }
        out.push(Event::new(
            if i == last {
                EventKind::Closing
            } else {
                EventKind::Structure
            },
            ev(
                "content_block_stop",
                &format!("{{\"type\":\"content_block_stop\",\"index\":{i}        }}"),
            ),
        ));
    }
    out.push(Event::new(
        EventKind::Closing,
        ev(
            "message_delta",
            &format!(
                "{{\"type\":\"message_delta\",\"delta\":{{\"stop_reason\":\"{}\",\"stop_sequence\":null}},\"usage\":{{\"input_tokens\":{},\"output_tokens\":{}}}}}",
                stop_reason(plan),
                usage.input,
                usage.output
            ),
        ),
    ));
    out.push(Event::new(
        EventKind::Closing,
        ev("message_stop", r#"{"type":"message_stop"}"#),
    ));
    out
}

/// The `ping` goes out once, right after the first block's start.
fn push_ping(out: &mut Vec<Event>, block: usize) {
    if block == 0 {
        out.push(Event::new(
            EventKind::Preamble,
            ev("ping", r#"{"type": "ping"}"#),
        ));
    }
}

pub(crate) fn message(ctx: &Ctx, plan: &Plan, usage: Usage) -> FullBody {
    let mut text = format!(
        "{{\"model\":{},\"id\":{},\"type\":\"message\",\"role\":\"assistant\",\"content\":[",
        q(&ctx.model),
        q(&ctx.response_id)
    );
    let mut arg_offsets = Vec::new();
    for (i, part) in parts(plan).iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        match part {
            Part::Thinking(t) => {
                let _ = write!(
                    text,
                    "{{\"type\":\"thinking\",\"thinking\":{},\"signature\":{}}}",
                    q(&t.text),
                    q(t.signature.as_deref().unwrap_or_default())
                );
            }
            Part::Redacted(d) => {
                let _ = write!(text, "{{\"type\":\"redacted_thinking\",\"data\":{}}}", q(d));
            }
            Part::Text => {
                let _ = write!(text, "{{\"type\":\"text\",\"text\":{}}}", q(&plan.text));
            }
            Part::Tool(call) => {
                let c = &plan.calls[*call];
                let _ = write!(
                    text,
                    "{{\"type\":\"tool_use\",\"id\":{},\"name\":{},\"input\":",
                    q(c.id.as_deref().unwrap_or_default()),
                    q(&c.name)
                );
                arg_offsets.push(text.len());
                text.push_str(&c.args);
                text.push('}');
            }
        }
    }
    let _ = write!(
        text,
        "],\"stop_reason\":\"{}\",\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{},\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":0,\"output_tokens\":{},\"service_tier\":\"standard\"}}}}",
        stop_reason(plan),
        usage.input,
        usage.output
    );
    FullBody { text, arg_offsets }
}

/// The ids of the `tool_use` blocks of `turn`.
fn tool_use_ids(turn: &Turn) -> Vec<String> {
    turn.blocks
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse { id, .. } => Some(id.clone().unwrap_or_default()),
            _ => None,
        })
        .collect()
}

/// The tool-use pairing rules of the Messages API (see [`crate::ToolValidation`]).
pub(crate) fn validate_tools(ctx: &Ctx, turns: &[Turn]) -> Option<HttpError> {
    let bad = |message: String| {
        Some(error_body(
            400,
            "invalid_request_error",
            &message,
            ctx,
            None,
        ))
    };
    for (i, turn) in turns.iter().enumerate() {
        match turn.role {
            TurnRole::Assistant => {
                let ids = tool_use_ids(turn);
                if ids.is_empty() {
                    continue;
                }
                let answered: Vec<&str> = turns
                    .get(i + 1)
                    .filter(|t| t.role == TurnRole::User)
                    .map(|t| {
                        t.blocks
                            .iter()
                            .filter_map(|b| match b {
                                Block::ToolResult { id, .. } => id.as_deref(),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let missing: Vec<&str> = ids
                    .iter()
                    .map(String::as_str)
                    .filter(|id| !answered.contains(id))
                    .collect();
                if !missing.is_empty() {
                    return bad(format!(
                        "messages.{}: `tool_use` ids were found without `tool_result` blocks immediately after: {}. Each `tool_use` block must have a corresponding `tool_result` block in the next message.",
                        turn.index,
                        missing.join(", ")
                    ));
                }
            }
            TurnRole::User | TurnRole::Tool => {
                let previous = i
                    .checked_sub(1)
                    .and_then(|p| turns.get(p))
                    .filter(|t| t.role == TurnRole::Assistant)
                    .map(tool_use_ids)
                    .unwrap_or_default();
                for (k, b) in turn.blocks.iter().enumerate() {
                    if let Block::ToolResult { id, .. } = b {
                        let id = id.as_deref().unwrap_or_default();
                        if !previous.iter().any(|p| p == id) {
                            return bad(format!(
                                "messages.{}.content.{k}: unexpected `tool_use_id` found in `tool_result` blocks: {id}. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.",
                                turn.index
                            ));
                        }
                    }
                }
            }
        }
    }
    None
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
