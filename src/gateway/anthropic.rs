//! The gateway's Anthropic Messages side: a client's `POST /v1/messages` body read into the
//! neutral request (list-form `system`, `system`-role messages inside `messages`, every block
//! type, tools, `thinking`; what aiw does not model is kept for the same vendor as a
//! passthrough), and the router's events written back as Anthropic's SSE events with
//! consistent block indices, or as one message object, or as Anthropic's real error bodies.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Encoder, GatewayError, ResponseMeta};
use crate::conversation::history::merge_same_role;
use crate::conversation::{CacheControl, ImageSource, ProviderScoped, Tool, ToolChoice};
use crate::provider::{Block, ChatRequest, Message, Passthrough, Role, StopReason, Usage, Vendor};
use crate::router::{AllModelsFailed, Answer, RouterEvent};

/// Body fields aiw maps itself; every other top-level field is passed through to Anthropic.
const MODELLED: &[&str] = &[
    "model",
    "messages",
    "stream",
    "max_tokens",
    "temperature",
    "top_p",
    "top_k",
    "stop_sequences",
];

/// Headers replayed to Anthropic as they came.
pub const PASSED_HEADERS: &[&str] = &["anthropic-beta"];

#[derive(Deserialize)]
struct InRequest {
    model: String,
    messages: Vec<InMessage>,
    #[serde(default)]
    system: Option<InContent>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    top_k: Option<u32>,
    #[serde(default)]
    stop_sequences: Vec<String>,
    #[serde(default)]
    tools: Vec<Value>,
    #[serde(default)]
    tool_choice: Option<InToolChoice>,
    #[serde(default)]
    thinking: Option<Value>,
}

#[derive(Deserialize)]
struct InMessage {
    role: String,
    content: InContent,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InContent {
    Text(String),
    Blocks(Vec<Value>),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum InBlock {
    Text {
        text: String,
        #[serde(default)]
        cache_control: Option<CacheControl>,
    },
    Image {
        source: InImageSource,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    ToolResult {
        tool_use_id: String,
        #[serde(default)]
        content: Option<InContent>,
        #[serde(default)]
        is_error: bool,
    },
    Thinking {
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum InImageSource {
    Base64 { media_type: String, data: String },
    Url { url: String },
}

#[derive(Deserialize)]
struct InTool {
    name: String,
    #[serde(default)]
    description: String,
    input_schema: Value,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum InToolChoice {
    Auto,
    Any,
    None,
    Tool { name: String },
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum InThinking {
    Enabled { budget_tokens: u32 },
}

fn blocks(content: InContent) -> Vec<Block> {
    match content {
        InContent::Text(t) => vec![Block::text(t)],
        InContent::Blocks(list) => list.into_iter().map(block).collect(),
    }
}

/// One block; a type aiw does not model (documents, `redacted_thinking`, server tools) stays
/// as it came, for Anthropic only.
fn block(raw: Value) -> Block {
    match serde_json::from_value::<InBlock>(raw.clone()) {
        Ok(InBlock::Text {
            text,
            cache_control,
        }) => Block::Text {
            text,
            cache_control,
        },
        Ok(InBlock::Image { source }) => Block::Image {
            source: match source {
                InImageSource::Base64 { media_type, data } => {
                    ImageSource::Base64 { media_type, data }
                }
                InImageSource::Url { url } => ImageSource::Url { url },
            },
        },
        Ok(InBlock::ToolUse { id, name, input }) => Block::ToolUse {
            id,
            name,
            input: if input.is_object() {
                input
            } else {
                Value::Object(Map::new())
            },
            signature: None,
        },
        Ok(InBlock::ToolResult {
            tool_use_id,
            content,
            is_error,
        }) => Block::ToolResult {
            tool_use_id,
            content: content.map(blocks).unwrap_or_default(),
            is_error,
        },
        Ok(InBlock::Thinking {
            thinking,
            signature,
        }) => Block::Thinking {
            text: thinking,
            signature: signature
                .filter(|s| !s.is_empty())
                .map(|value| ProviderScoped {
                    vendor: Vendor::Anthropic,
                    value,
                }),
        },
        Err(_) => Block::Opaque {
            vendor: Vendor::Anthropic,
            raw,
        },
    }
}

/// Reads a Messages request body. `headers` are the client's, for the passthrough.
pub fn parse(
    body: &[u8],
    headers: &http::HeaderMap,
) -> Result<(ChatRequest, String, bool), GatewayError> {
    let raw: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| GatewayError::invalid(format!("the body is not a JSON object: {e}")))?;
    let r: InRequest = serde_json::from_value(Value::Object(raw.clone()))
        .map_err(|e| GatewayError::invalid(format!("not a Messages request: {e}")))?;
    let mut system = match r.system {
        Some(InContent::Text(t)) => t,
        Some(InContent::Blocks(b)) => crate::conversation::text_of(&blocks(InContent::Blocks(b))),
        None => String::new(),
    };
    let mut messages: Vec<Message> = Vec::with_capacity(r.messages.len());
    for m in r.messages {
        let role = match m.role.as_str() {
            "user" => Role::User,
            "assistant" => Role::Assistant,
            "system" => {
                // A mid-conversation system message (per-turn control): for another vendor
                // it becomes part of the next user turn, marked as such.
                let text = crate::conversation::text_of(&blocks(m.content));
                messages.push(Message::user(format!("[system] {text}")));
                continue;
            }
            other => {
                return Err(GatewayError::invalid(format!(
                    "messages: role `{}` is not one of user, assistant, system",
                    crate::config::clip(other)
                )));
            }
        };
        messages.push(Message {
            role,
            blocks: blocks(m.content),
        });
    }
    messages.retain(|m| !m.blocks.is_empty());
    merge_same_role(&mut messages);
    if messages.is_empty() {
        return Err(GatewayError::invalid(
            "messages: at least one message is required",
        ));
    }
    let tools = r
        .tools
        .into_iter()
        .filter_map(|t| serde_json::from_value::<InTool>(t).ok())
        .map(|t| Tool {
            name: t.name,
            description: t.description,
            input_schema: t.input_schema,
        })
        .collect();
    let thinking_budget = r
        .thinking
        .and_then(|t| serde_json::from_value::<InThinking>(t).ok())
        .map(|InThinking::Enabled { budget_tokens }| budget_tokens);
    let fields: Map<String, Value> = raw
        .into_iter()
        .filter(|(k, _)| !MODELLED.contains(&k.as_str()))
        .collect();
    let pass_headers = PASSED_HEADERS
        .iter()
        .flat_map(|name| {
            headers
                .get_all(*name)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .map(|v| ((*name).to_string(), v.to_string()))
        })
        .collect();
    if system.trim().is_empty() {
        system.clear();
    }
    let req = ChatRequest {
        system: (!system.is_empty()).then_some(system),
        messages,
        tools,
        tool_choice: r.tool_choice.map(|c| match c {
            InToolChoice::Auto => ToolChoice::Auto,
            InToolChoice::Any => ToolChoice::Any,
            InToolChoice::None => ToolChoice::None,
            InToolChoice::Tool { name } => ToolChoice::Tool { name },
        }),
        thinking_budget,
        max_tokens: r.max_tokens,
        temperature: r.temperature,
        top_p: r.top_p,
        top_k: r.top_k,
        stop: r.stop_sequences,
        passthrough: Some(std::sync::Arc::new(Passthrough {
            vendor: Vendor::Anthropic,
            fields,
            headers: pass_headers,
        })),
        ..ChatRequest::default()
    };
    Ok((req, r.model, r.stream))
}

fn stop_name(stop: &StopReason) -> &str {
    match stop {
        StopReason::EndTurn | StopReason::ContentFilter => "end_turn",
        StopReason::MaxTokens => "max_tokens",
        StopReason::StopSequence => "stop_sequence",
        StopReason::ToolUse => "tool_use",
        StopReason::Refusal => "refusal",
        StopReason::Other(s) => s,
    }
}

/// An SSE event line pair.
fn sse(out: &mut Vec<u8>, name: &str, data: &Value) {
    out.extend_from_slice(b"event: ");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\ndata: ");
    out.extend_from_slice(data.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    None,
    Text,
    Thinking,
}

/// Writes router events as an Anthropic Messages stream.
pub struct AnthropicEncoder {
    meta: ResponseMeta,
    started: bool,
    next_index: u32,
    open: Open,
    usage: Usage,
}

impl AnthropicEncoder {
    /// An encoder for one response.
    pub fn new(meta: ResponseMeta) -> Self {
        Self {
            meta,
            started: false,
            next_index: 0,
            open: Open::None,
            usage: Usage::default(),
        }
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if self.started {
            return;
        }
        self.started = true;
        sse(
            out,
            "message_start",
            &json!({"type": "message_start", "message": {
                "id": self.meta.id, "type": "message", "role": "assistant",
                "model": self.meta.client_model, "content": [],
                "stop_reason": null, "stop_sequence": null,
                "usage": usage_json(Usage { output_tokens: 1, ..self.usage })
            }}),
        );
    }

    fn close(&mut self, out: &mut Vec<u8>) {
        if self.open != Open::None {
            let index = self.next_index - 1;
            sse(
                out,
                "content_block_stop",
                &json!({"type": "content_block_stop", "index": index}),
            );
            self.open = Open::None;
        }
    }

    fn open_block(&mut self, kind: Open, out: &mut Vec<u8>) -> u32 {
        if self.open == kind {
            return self.next_index - 1;
        }
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        let block = match kind {
            Open::Thinking => json!({"type": "thinking", "thinking": "", "signature": ""}),
            _ => json!({"type": "text", "text": ""}),
        };
        sse(
            out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        );
        self.open = kind;
        index
    }

    fn whole_block(&mut self, block: &Value, delta: Option<Value>, out: &mut Vec<u8>) {
        self.close(out);
        let index = self.next_index;
        self.next_index += 1;
        sse(
            out,
            "content_block_start",
            &json!({"type": "content_block_start", "index": index, "content_block": block}),
        );
        if let Some(d) = delta {
            sse(
                out,
                "content_block_delta",
                &json!({"type": "content_block_delta", "index": index, "delta": d}),
            );
        }
        sse(
            out,
            "content_block_stop",
            &json!({"type": "content_block_stop", "index": index}),
        );
    }
}

impl Encoder for AnthropicEncoder {
    fn content_type(&self) -> &'static str {
        "text/event-stream"
    }

    fn event(&mut self, ev: &RouterEvent, out: &mut Vec<u8>) {
        match ev {
            RouterEvent::Usage { usage, .. } => {
                if usage.input_tokens > 0 {
                    self.usage = *usage;
                }
                self.usage.output_tokens = usage.output_tokens;
            }
            RouterEvent::Text { text, .. } => {
                self.start(out);
                let index = self.open_block(Open::Text, out);
                sse(
                    out,
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": "text_delta", "text": text}}),
                );
            }
            RouterEvent::Thinking { text, .. } => {
                self.start(out);
                let index = self.open_block(Open::Thinking, out);
                sse(
                    out,
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": "thinking_delta", "thinking": text}}),
                );
            }
            RouterEvent::ThinkingSignature { signature, .. } => {
                self.start(out);
                let index = self.open_block(Open::Thinking, out);
                sse(
                    out,
                    "content_block_delta",
                    &json!({"type": "content_block_delta", "index": index,
                            "delta": {"type": "signature_delta", "signature": signature}}),
                );
            }
            RouterEvent::Opaque { raw, .. } => {
                self.start(out);
                self.whole_block(raw, None, out);
            }
            RouterEvent::ToolUse {
                block: Block::ToolUse {
                    id, name, input, ..
                },
                ..
            } => {
                self.start(out);
                self.whole_block(
                    &json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                    Some(json!({"type": "input_json_delta", "partial_json": input.to_string()})),
                    out,
                );
            }
            _ => {}
        }
    }

    fn finish(&mut self, result: &Result<Answer, AllModelsFailed>, out: &mut Vec<u8>) {
        match result {
            Ok(a) => {
                self.start(out);
                self.close(out);
                sse(
                    out,
                    "message_delta",
                    &json!({"type": "message_delta",
                            "delta": {"stop_reason": stop_name(&a.stop), "stop_sequence": null},
                            "usage": usage_json(a.usage)}),
                );
                sse(out, "message_stop", &json!({"type": "message_stop"}));
            }
            Err(failed) => {
                // The stream already started: Anthropic's mid-stream error event.
                let e = GatewayError::from_failure(failed);
                sse(out, "error", &error_body(&e));
            }
        }
    }

    fn error(&self, e: &GatewayError) -> Value {
        error_body(e)
    }

    fn whole(&self, a: &Answer) -> Value {
        let content: Vec<Value> = a
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text, .. } => Some(json!({"type": "text", "text": text})),
                Block::ToolUse {
                    id, name, input, ..
                } => Some(json!({"type": "tool_use", "id": id, "name": name, "input": input})),
                Block::Thinking {
                    text,
                    signature: Some(s),
                } if s.vendor == Vendor::Anthropic => {
                    Some(json!({"type": "thinking", "thinking": text, "signature": s.value}))
                }
                Block::Opaque {
                    vendor: Vendor::Anthropic,
                    raw,
                } => Some(raw.clone()),
                _ => None,
            })
            .collect();
        json!({
            "id": self.meta.id, "type": "message", "role": "assistant",
            "model": self.meta.client_model, "content": content,
            "stop_reason": stop_name(&a.stop), "stop_sequence": null,
            "usage": usage_json(a.usage)
        })
    }
}

/// Anthropic's usage object for `u`: `input_tokens` counts only the tokens read fresh, and
/// cache reads and writes are counted apart, as the Messages API reports them (a client adds
/// the three for the prompt's size and prices each on its own).
fn usage_json(u: Usage) -> Value {
    json!({"input_tokens": u.fresh_input_tokens(),
           "cache_creation_input_tokens": u.cache_write_tokens,
           "cache_read_input_tokens": u.cache_read_tokens,
           "output_tokens": u.output_tokens})
}

/// Anthropic's error body for `e`.
pub fn error_body(e: &GatewayError) -> Value {
    let kind = match e.status {
        400 | 404 | 422 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 | 503 => "overloaded_error",
        _ => "api_error",
    };
    json!({"type": "error", "error": {"type": kind, "message": e.message}})
}

/// The `count_tokens` answer: aiw's estimate for the request as the routed model would get it.
pub fn count_tokens(req: &ChatRequest) -> Value {
    let mut count = crate::conversation::history::estimate_text_tokens;
    let messages: usize = req
        .messages
        .iter()
        .map(|m| crate::conversation::fit::message_cost(m, &mut count))
        .sum();
    let system = req.system.as_deref().map_or(0, estimate_system);
    let tools = crate::conversation::history::estimate_tools_tokens(&req.tools);
    json!({"input_tokens": messages + system + tools})
}

fn estimate_system(s: &str) -> usize {
    crate::conversation::history::estimate_text_tokens(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_goes_back_with_the_cache_apart_as_the_messages_api_counts_it() {
        let v = usage_json(Usage {
            input_tokens: 21_006,
            output_tokens: 5,
            cache_read_tokens: 20_000,
            cache_write_tokens: 1000,
        });
        assert_eq!(
            v,
            json!({"input_tokens": 6, "cache_creation_input_tokens": 1000,
                   "cache_read_input_tokens": 20_000, "output_tokens": 5})
        );
    }

    #[test]
    fn claude_code_shaped_request_maps_and_keeps_what_it_cannot_model() {
        let body = json!({
            "model": "claude-opus-5-5",
            "max_tokens": 128_000,
            "stream": true,
            "system": [{"type": "text", "text": "You are Claude Code."},
                       {"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": "<system-reminder>x</system-reminder>"},
                                              {"type": "text", "text": "read a.rs"}]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "hm", "signature": "sig"},
                    {"type": "redacted_thinking", "data": "abc"},
                    {"type": "tool_use", "id": "toolu_1", "name": "Read", "input": {"file_path": "a.rs"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                              "content": "fn main() {}"}]},
                {"role": "system", "content": "Per-turn: keep going."}
            ],
            "tools": [{"name": "Read", "description": "Reads", "input_schema": {"type": "object"}},
                      {"type": "web_search_20250305", "name": "web_search"}],
            "tool_choice": {"type": "auto"},
            "thinking": {"type": "adaptive", "display": "omitted"},
            "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
            "output_config": {"effort": "medium"},
            "metadata": {"user_id": "u"}
        });
        let mut h = http::HeaderMap::new();
        h.insert(
            "anthropic-beta",
            "claude-code-20250219,effort".parse().unwrap(),
        );
        let (req, model, stream) = parse(body.to_string().as_bytes(), &h).unwrap();
        assert_eq!(model, "claude-opus-5-5");
        assert!(stream);
        assert_eq!(req.system.as_deref(), Some("You are Claude Code.Be brief."));
        assert_eq!(req.messages.len(), 3, "{:?}", req.messages);
        assert!(matches!(&req.messages[1].blocks[1], Block::Opaque { .. }));
        assert!(req.messages[2].text().contains("[system] Per-turn"));
        assert_eq!(
            req.tools.len(),
            1,
            "server tools stay in the passthrough only"
        );
        assert_eq!(req.tool_choice, Some(ToolChoice::Auto));
        assert_eq!(req.thinking_budget, None);
        let p = req.passthrough.as_ref().unwrap();
        for k in [
            "system",
            "tools",
            "tool_choice",
            "thinking",
            "context_management",
            "output_config",
            "metadata",
        ] {
            assert!(p.fields.contains_key(k), "{k}");
        }
        for k in MODELLED {
            assert!(!p.fields.contains_key(*k), "{k}");
        }
        assert_eq!(
            p.headers,
            vec![(
                "anthropic-beta".to_string(),
                "claude-code-20250219,effort".to_string()
            )]
        );
        // Rendered back to Anthropic: the client's own fields, nothing of aiw's twice.
        let out: Value =
            serde_json::from_slice(&crate::provider::anthropic::request_body("claude-x", &req))
                .unwrap();
        assert_eq!(out["system"], body["system"]);
        assert_eq!(out["tools"], body["tools"]);
        assert_eq!(out["context_management"], body["context_management"]);
        assert_eq!(
            out["messages"][1]["content"][1],
            json!({"type": "redacted_thinking", "data": "abc"})
        );
        // To OpenAI: none of it.
        let oa: Value = serde_json::from_slice(&crate::provider::openai::request_body(
            "gpt-x",
            &req,
            crate::config::ProviderKind::OpenAi,
        ))
        .unwrap();
        assert!(oa.get("context_management").is_none() && oa.get("thinking").is_none());
        assert_eq!(oa["tools"].as_array().map(Vec::len), Some(1));
    }

    #[test]
    fn bad_bodies_are_clear_errors() {
        let h = http::HeaderMap::new();
        assert!(
            parse(b"[1,2]", &h)
                .unwrap_err()
                .message
                .contains("JSON object")
        );
        let e = parse(br#"{"model":"m","messages":[]}"#, &h).unwrap_err();
        assert!(e.message.contains("at least one message"), "{}", e.message);
        let e = parse(
            br#"{"model":"m","messages":[{"role":"robot","content":"x"}]}"#,
            &h,
        )
        .unwrap_err();
        assert!(e.message.contains("robot"), "{}", e.message);
    }
}
