//! OpenAI Chat Completions wire format: `data:`-only `chat.completion.chunk` events
//! (text deltas, `delta.tool_calls` starts and argument fragments, optionally
//! interleaved), the optional usage chunk with `choices: []`, `data: [DONE]`, mid-stream
//! `data: {"error":…}`, `{"error":{message,type,param,code}}` bodies, the tool-message
//! pairing checks, the non-streaming completion and the `GET /v1/models` list.

use super::plan::Plan;
use super::{Ctx, Event, EventKind, FullBody, HttpError, Usage, q};
use crate::record::{Block, Protocol, Turn, TurnRole};
use crate::script::ErrorKind;
use std::fmt::Write as _;

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

fn choice(delta: &str, finish: &str) -> String {
    format!("{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}")
}

/// The `tool_calls` entry that opens call `k` (id, type, name, empty arguments).
fn call_start(plan: &Plan, k: usize) -> String {
    let c = &plan.calls[k];
    format!(
        "{{\"index\":{k},\"id\":{},\"type\":\"function\",\"function\":{{\"name\":{},\"arguments\":\"\"}}}}",
        q(c.id.as_deref().unwrap_or_default()),
        q(&c.name)
    )
}

/// The tool-call events in wire order: per call its start then its fragments, or with
/// `interleave` step by step across the calls.
fn tool_events(plan: &Plan) -> Vec<(EventKind, String)> {
    let per_call: Vec<Vec<(EventKind, String)>> = (0..plan.calls.len())
        .map(|k| {
            let mut evs = vec![(EventKind::ToolStart { call: k }, call_start(plan, k))];
            let mut end = 0;
            for f in &plan.calls[k].fragments {
                end += f.chars().count();
                evs.push((
                    EventKind::ToolArgs { call: k, end },
                    format!("{{\"index\":{k},\"function\":{{\"arguments\":{}}}}}", q(f)),
                ));
            }
            evs
        })
        .collect();
    if !plan.interleave {
        return per_call.into_iter().flatten().collect();
    }
    let steps = per_call.iter().map(Vec::len).max().unwrap_or(0);
    (0..steps)
        .flat_map(|step| {
            per_call
                .iter()
                .filter_map(move |evs| evs.get(step).cloned())
        })
        .collect()
}

pub(crate) fn stream(ctx: &Ctx, plan: &Plan, usage: Usage) -> Vec<Event> {
    let null_usage = if ctx.include_usage {
        ",\"usage\":null"
    } else {
        ""
    };
    let text_block = plan.has_text_block(Protocol::OpenAi);
    let mut out = Vec::new();
    if text_block {
        out.push(Event::new(
            EventKind::Preamble,
            chunk(
                ctx,
                &choice(
                    r#"{"role":"assistant","content":"","refusal":null}"#,
                    "null",
                ),
                null_usage,
            ),
        ));
        out.extend(plan.text_chunks.iter().map(|c| {
            Event::new(
                EventKind::Text,
                chunk(
                    ctx,
                    &choice(&format!("{{\"content\":{}}}", q(c)), "null"),
                    null_usage,
                ),
            )
        }));
    }
    for (i, (kind, call)) in tool_events(plan).into_iter().enumerate() {
        // Without text the first chunk also carries the role (as the API sends it).
        let delta = if i == 0 && !text_block {
            format!(
                "{{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{call}],\"refusal\":null}}"
            )
        } else {
            format!("{{\"tool_calls\":[{call}]}}")
        };
        out.push(Event::new(
            kind,
            chunk(ctx, &choice(&delta, "null"), null_usage),
        ));
    }
    let finish = &format!("\"{}\"", plan.stop_reason(Protocol::OpenAi));
    out.push(Event::new(
        EventKind::Closing,
        chunk(ctx, &choice("{}", finish), null_usage),
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

pub(crate) fn completion(ctx: &Ctx, plan: &Plan, usage: Usage) -> FullBody {
    let content = if plan.text.is_empty() && !plan.calls.is_empty() {
        "null".to_owned()
    } else {
        q(&plan.text)
    };
    let mut text = format!(
        "{{\"id\":{},\"object\":\"chat.completion\",\"created\":{},\"model\":{},\"choices\":[{{\"index\":0,\"message\":{{\"role\":\"assistant\",\"content\":{content}",
        q(&ctx.response_id),
        ctx.created,
        q(&ctx.model),
    );
    let mut arg_offsets = Vec::new();
    if !plan.calls.is_empty() {
        text.push_str(",\"tool_calls\":[");
        for (k, c) in plan.calls.iter().enumerate() {
            if k > 0 {
                text.push(',');
            }
            let _ = write!(
                text,
                "{{\"id\":{},\"type\":\"function\",\"function\":{{\"name\":{},\"arguments\":",
                q(c.id.as_deref().unwrap_or_default()),
                q(&c.name)
            );
            arg_offsets.push(text.len());
            text.push_str(&q(&c.args));
            text.push_str("}}");
        }
        text.push(']');
    }
    let finish = plan.stop_reason(Protocol::OpenAi);
    let _ = write!(
        text,
        ",\"refusal\":null,\"annotations\":[]}},\"logprobs\":null,\"finish_reason\":\"{finish}\"}}],\"usage\":{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{}}},\"service_tier\":\"default\",\"system_fingerprint\":null}}",
        usage.input,
        usage.output,
        usage.input + usage.output
    );
    FullBody { text, arg_offsets }
}

/// The tool-message pairing rules of Chat Completions (see [`crate::ToolValidation`]).
pub(crate) fn validate_tools(turns: &[Turn]) -> Option<HttpError> {
    let bad = |message: String, param: String| {
        Some(error_body(
            400,
            &message,
            "invalid_request_error",
            Some(&param),
            None,
        ))
    };
    // The ids of the assistant message the current run of tool messages answers.
    let mut open: Option<Vec<String>> = None;
    for (i, turn) in turns.iter().enumerate() {
        match turn.role {
            TurnRole::Tool => {
                let Some(ids) = &open else {
                    return bad(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.".into(),
                        format!("messages.[{}].role", turn.index),
                    );
                };
                let id = turn.blocks.iter().find_map(|b| match b {
                    Block::ToolResult { id, .. } => Some(id.clone().unwrap_or_default()),
                    _ => None,
                });
                if let Some(id) = id.filter(|id| !ids.contains(id)) {
                    return bad(
                        format!(
                            "Invalid parameter: 'tool_call_id' of '{id}' not found in 'tool_calls' of previous message."
                        ),
                        format!("messages.[{}].tool_call_id", turn.index),
                    );
                }
            }
            TurnRole::User | TurnRole::Assistant => {
                open = None;
                if turn.role == TurnRole::Assistant {
                    let ids: Vec<String> = turn
                        .blocks
                        .iter()
                        .filter_map(|b| match b {
                            Block::ToolUse { id, .. } => Some(id.clone().unwrap_or_default()),
                            _ => None,
                        })
                        .collect();
                    if !ids.is_empty() {
                        let after = &turns[i + 1..];
                        let answered: Vec<String> = after
                            .iter()
                            .take_while(|t| t.role == TurnRole::Tool)
                            .flat_map(|t| &t.blocks)
                            .filter_map(|b| match b {
                                Block::ToolResult { id, .. } => id.clone(),
                                _ => None,
                            })
                            .collect();
                        let missing: Vec<&str> = ids
                            .iter()
                            .filter(|id| !answered.contains(id))
                            .map(String::as_str)
                            .collect();
                        if !missing.is_empty() {
                            let tools = after
                                .iter()
                                .take_while(|t| t.role == TurnRole::Tool)
                                .count();
                            return bad(
                                format!(
                                    "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                                    missing.join(", ")
                                ),
                                format!("messages.[{}].role", turn.index + 1 + tools),
                            );
                        }
                        open = Some(ids);
                    }
                }
            }
        }
    }
    None
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
