//! The gateway's OpenAI Chat Completions side: a client's `POST /v1/chat/completions` body
//! read into the neutral request (`system`/`developer` messages, text and image parts,
//! assistant `tool_calls`, `role: "tool"` results, tools and `tool_choice`; other fields kept
//! for OpenAI as a passthrough), and the router's events written back as `chat.completion.chunk`
//! SSE (tool calls by index, a usage chunk when asked, `[DONE]`), or as one `chat.completion`,
//! or as OpenAI's error bodies.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Encoder, GatewayError, Parsed, ResponseMeta};
use crate::conversation::history::merge_same_role;
use crate::conversation::{ImageSource, Tool, ToolChoice, Usage};
use crate::provider::{Block, ChatRequest, Message, Passthrough, Role, StopReason, Vendor};
use crate::router::{AllModelsFailed, Answer, RouterEvent};

/// Body fields aiw maps itself; every other top-level field is passed through to OpenAI.
const MODELLED: &[&str] = &[
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "stop",
    "seed",
];

#[derive(Deserialize)]
struct InRequest {
    model: String,
    messages: Vec<InMessage>,
    #[serde(default)]
    stream: bool,
    #[serde(default)]
    stream_options: Option<InStreamOptions>,
    #[serde(default)]
    max_tokens: Option<u32>,
    #[serde(default)]
    max_completion_tokens: Option<u32>,
    #[serde(default)]
    temperature: Option<f32>,
    #[serde(default)]
    top_p: Option<f32>,
    #[serde(default)]
    stop: Option<InStop>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    tools: Vec<InTool>,
    #[serde(default)]
    tool_choice: Option<Value>,
}

#[derive(Deserialize)]
struct InStreamOptions {
    #[serde(default)]
    include_usage: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InStop {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct InMessage {
    role: String,
    #[serde(default)]
    content: Option<InContent>,
    #[serde(default)]
    tool_calls: Vec<InToolCall>,
    #[serde(default)]
    tool_call_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum InContent {
    Text(String),
    Parts(Vec<InPart>),
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum InPart {
    Text {
        text: String,
    },
    ImageUrl {
        image_url: InImageUrl,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct InImageUrl {
    url: String,
}

#[derive(Deserialize)]
struct InToolCall {
    id: String,
    function: InFunctionCall,
}

#[derive(Deserialize)]
struct InFunctionCall {
    name: String,
    #[serde(default)]
    arguments: String,
}

#[derive(Deserialize)]
struct InTool {
    function: InFunction,
}

#[derive(Deserialize)]
struct InFunction {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    parameters: Option<Value>,
}

fn image(url: String) -> Block {
    // `data:image/png;base64,....`
    if let Some(rest) = url.strip_prefix("data:")
        && let Some((media, data)) = rest.split_once(";base64,")
    {
        return Block::Image {
            source: ImageSource::Base64 {
                media_type: media.to_string(),
                data: data.to_string(),
            },
        };
    }
    Block::Image {
        source: ImageSource::Url { url },
    }
}

fn content_blocks(c: Option<InContent>) -> Vec<Block> {
    match c {
        None => Vec::new(),
        Some(InContent::Text(t)) if t.is_empty() => Vec::new(),
        Some(InContent::Text(t)) => vec![Block::text(t)],
        Some(InContent::Parts(parts)) => parts
            .into_iter()
            .filter_map(|p| match p {
                InPart::Text { text } => Some(Block::text(text)),
                InPart::ImageUrl { image_url } => Some(image(image_url.url)),
                InPart::Other => None,
            })
            .collect(),
    }
}

/// Reads a Chat Completions request body.
pub fn parse(body: &[u8]) -> Result<Parsed, GatewayError> {
    let raw: Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| GatewayError::invalid(format!("the body is not a JSON object: {e}")))?;
    let r: InRequest = serde_json::from_value(Value::Object(raw.clone()))
        .map_err(|e| GatewayError::invalid(format!("not a Chat Completions request: {e}")))?;
    let mut system: Vec<String> = Vec::new();
    let mut messages: Vec<Message> = Vec::with_capacity(r.messages.len());
    for m in r.messages {
        match m.role.as_str() {
            "system" | "developer" => {
                let text = crate::conversation::text_of(&content_blocks(m.content));
                if messages.is_empty() {
                    system.push(text);
                } else {
                    messages.push(Message::user(format!("[system] {text}")));
                }
            }
            "user" => messages.push(Message {
                role: Role::User,
                blocks: content_blocks(m.content),
            }),
            "assistant" => {
                let mut blocks = content_blocks(m.content);
                for c in m.tool_calls {
                    let input = serde_json::from_str::<Value>(&c.function.arguments)
                        .ok()
                        .filter(Value::is_object)
                        .unwrap_or_else(|| Value::Object(Map::new()));
                    blocks.push(Block::ToolUse {
                        id: c.id,
                        name: c.function.name,
                        input,
                        signature: None,
                    });
                }
                messages.push(Message {
                    role: Role::Assistant,
                    blocks,
                });
            }
            "tool" | "function" => {
                let Some(id) = m.tool_call_id else {
                    return Err(GatewayError::invalid(
                        "messages: a `tool` message needs `tool_call_id`",
                    ));
                };
                messages.push(Message {
                    role: Role::User,
                    blocks: vec![Block::ToolResult {
                        tool_use_id: id,
                        content: content_blocks(m.content),
                        is_error: false,
                    }],
                });
            }
            other => {
                return Err(GatewayError::invalid(format!(
                    "messages: role `{}` is not one of system, developer, user, assistant, tool",
                    crate::config::clip(other)
                )));
            }
        }
    }
    messages.retain(|m| !m.blocks.is_empty());
    merge_same_role(&mut messages);
    if messages.is_empty() {
        return Err(GatewayError::invalid(
            "messages: at least one message is required",
        ));
    }
    let tool_choice = match r.tool_choice.as_ref() {
        Some(Value::String(s)) => match s.as_str() {
            "auto" => Some(ToolChoice::Auto),
            "required" => Some(ToolChoice::Any),
            "none" => Some(ToolChoice::None),
            _ => None,
        },
        Some(v) => v["function"]["name"]
            .as_str()
            .map(|name| ToolChoice::Tool { name: name.into() }),
        None => None,
    };
    let fields: Map<String, Value> = raw
        .into_iter()
        .filter(|(k, _)| !MODELLED.contains(&k.as_str()))
        .collect();
    let system = system.join("\n\n");
    let req = ChatRequest {
        system: (!system.trim().is_empty()).then_some(system),
        messages,
        tools: r
            .tools
            .into_iter()
            .map(|t| Tool {
                name: t.function.name,
                description: t.function.description,
                input_schema: t
                    .function
                    .parameters
                    .unwrap_or_else(|| json!({"type": "object", "properties": {}})),
            })
            .collect(),
        tool_choice,
        max_tokens: r.max_completion_tokens.or(r.max_tokens),
        temperature: r.temperature,
        top_p: r.top_p,
        seed: r.seed,
        stop: match r.stop {
            Some(InStop::One(s)) => vec![s],
            Some(InStop::Many(v)) => v,
            None => Vec::new(),
        },
        passthrough: Some(std::sync::Arc::new(Passthrough {
            vendor: Vendor::OpenAi,
            fields,
            headers: Vec::new(),
        })),
        ..ChatRequest::default()
    };
    let include_usage = r.stream_options.is_some_and(|o| o.include_usage);
    Ok((req, r.model, r.stream, include_usage))
}

fn finish_reason(stop: &StopReason) -> &'static str {
    match stop {
        StopReason::MaxTokens => "length",
        StopReason::ToolUse => "tool_calls",
        StopReason::ContentFilter | StopReason::Refusal => "content_filter",
        _ => "stop",
    }
}

/// OpenAI's error body for `e`.
pub fn error_body(e: &GatewayError) -> Value {
    let (kind, code) = match e.status {
        401 => ("invalid_request_error", Value::from("invalid_api_key")),
        400 if e.message.starts_with("prompt is too long") => (
            "invalid_request_error",
            Value::from("context_length_exceeded"),
        ),
        400 | 404 | 413 | 422 => ("invalid_request_error", Value::Null),
        429 => ("rate_limit_exceeded", Value::from("rate_limit_exceeded")),
        529 | 503 => ("server_error", Value::from("server_is_overloaded")),
        _ => ("server_error", Value::Null),
    };
    json!({"error": {"message": e.message, "type": kind, "param": null, "code": code}})
}

/// Writes router events as a Chat Completions stream.
pub struct OpenAiEncoder {
    meta: ResponseMeta,
    created: u64,
    started: bool,
    calls: u32,
}

impl OpenAiEncoder {
    /// An encoder for one response.
    pub fn new(meta: ResponseMeta) -> Self {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            meta,
            created,
            started: false,
            calls: 0,
        }
    }

    fn chunk(&self, delta: &Value, finish: Option<&str>, out: &mut Vec<u8>) {
        let v = json!({
            "id": self.meta.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.meta.client_model,
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        });
        data(out, &v);
    }

    fn start(&mut self, out: &mut Vec<u8>) {
        if !self.started {
            self.started = true;
            self.chunk(&json!({"role": "assistant", "content": ""}), None, out);
        }
    }
}

fn data(out: &mut Vec<u8>, v: &Value) {
    out.extend_from_slice(b"data: ");
    out.extend_from_slice(v.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}

impl Encoder for OpenAiEncoder {
    fn content_type(&self) -> &'static str {
        "text/event-stream"
    }

    fn event(&mut self, ev: &RouterEvent, out: &mut Vec<u8>) {
        match ev {
            RouterEvent::Text { text, .. } => {
                self.start(out);
                self.chunk(&json!({"content": text}), None, out);
            }
            RouterEvent::ToolUse {
                block: Block::ToolUse {
                    id, name, input, ..
                },
                ..
            } => {
                self.start(out);
                let index = self.calls;
                self.calls += 1;
                self.chunk(
                    &json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                            "function": {"name": name, "arguments": input.to_string()}}]}),
                    None,
                    out,
                );
            }
            // Chat Completions has no place for reasoning or provider-only blocks.
            _ => {}
        }
    }

    fn finish(&mut self, result: &Result<Answer, AllModelsFailed>, out: &mut Vec<u8>) {
        match result {
            Ok(a) => {
                self.start(out);
                self.chunk(&json!({}), Some(finish_reason(&a.stop)), out);
                if self.meta.include_usage {
                    let v = json!({
                        "id": self.meta.id, "object": "chat.completion.chunk",
                        "created": self.created, "model": self.meta.client_model, "choices": [],
                        "usage": usage_json(a.usage)
                    });
                    data(out, &v);
                }
                out.extend_from_slice(b"data: [DONE]\n\n");
            }
            Err(failed) => data(out, &error_body(&GatewayError::from_failure(failed))),
        }
    }

    fn error(&self, e: &GatewayError) -> Value {
        error_body(e)
    }

    fn whole(&self, a: &Answer) -> Value {
        let calls: Vec<Value> = a
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::ToolUse {
                    id, name, input, ..
                } => Some(json!({"id": id, "type": "function",
                    "function": {"name": name, "arguments": input.to_string()}})),
                _ => None,
            })
            .collect();
        let text = a.text();
        let mut message = json!({"role": "assistant", "content": if text.is_empty() && !calls.is_empty() { Value::Null } else { Value::from(text) }});
        if !calls.is_empty() {
            message["tool_calls"] = Value::from(calls);
        }
        json!({
            "id": self.meta.id, "object": "chat.completion", "created": self.created,
            "model": self.meta.client_model,
            "choices": [{"index": 0, "message": message, "logprobs": null,
                         "finish_reason": finish_reason(&a.stop)}],
            "usage": usage_json(a.usage)
        })
    }
}

/// Chat Completions' usage object for `u`: `prompt_tokens` includes the cache hits, which
/// `prompt_tokens_details.cached_tokens` counts.
fn usage_json(u: Usage) -> Value {
    json!({"prompt_tokens": u.input_tokens, "completion_tokens": u.output_tokens,
           "total_tokens": u.input_tokens + u.output_tokens,
           "prompt_tokens_details": {"cached_tokens": u.cache_read_tokens}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_goes_back_with_the_cache_hits_inside_the_prompt_count() {
        let v = usage_json(Usage {
            input_tokens: 21_006,
            output_tokens: 5,
            cache_read_tokens: 20_000,
            cache_write_tokens: 1000,
        });
        assert_eq!(v["prompt_tokens"], 21_006);
        assert_eq!(v["total_tokens"], 21_011);
        assert_eq!(v["prompt_tokens_details"]["cached_tokens"], 20_000);
    }

    #[test]
    fn sdk_shaped_request_maps_tool_loops_images_and_options() {
        let body = json!({
            "model": "gpt-5.5",
            "stream": true,
            "stream_options": {"include_usage": true},
            "messages": [
                {"role": "developer", "content": "Be terse."},
                {"role": "user", "content": [{"type": "text", "text": "what is this"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}}]},
                {"role": "assistant", "content": null, "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "read", "arguments": "{\"p\":1}"}},
                    {"id": "call_2", "type": "function", "function": {"name": "read", "arguments": "{\"p\":2}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "one"},
                {"role": "tool", "tool_call_id": "call_2", "content": "two"}
            ],
            "tools": [{"type": "function", "function": {"name": "read", "parameters": {"type": "object"}}}],
            "tool_choice": "required",
            "parallel_tool_calls": true,
            "max_completion_tokens": 99,
            "stop": "END"
        });
        let (req, model, stream, usage) = parse(body.to_string().as_bytes()).unwrap();
        assert_eq!((model.as_str(), stream, usage), ("gpt-5.5", true, true));
        assert_eq!(req.system.as_deref(), Some("Be terse."));
        assert_eq!(req.messages.len(), 3);
        assert!(
            matches!(&req.messages[0].blocks[1], Block::Image { source: ImageSource::Base64 { media_type, .. } } if media_type == "image/png")
        );
        assert_eq!(req.messages[1].tool_uses().count(), 2);
        assert_eq!(
            req.messages[2].blocks.len(),
            2,
            "both results in one user turn"
        );
        assert_eq!(req.tool_choice, Some(ToolChoice::Any));
        assert_eq!(req.max_tokens, Some(99));
        assert_eq!(req.stop, vec!["END".to_string()]);
        let p = req.passthrough.as_ref().unwrap();
        assert!(p.fields.contains_key("parallel_tool_calls"));
        assert!(!p.fields.contains_key("messages"));
        // Rendered to Anthropic, the pairs survive.
        let a: Value =
            serde_json::from_slice(&crate::provider::anthropic::request_body("c", &req)).unwrap();
        assert_eq!(a["messages"][2]["content"][1]["tool_use_id"], "call_2");
        assert!(a.get("parallel_tool_calls").is_none());
    }
}
