//! Request recording: the [`Protocol`] and [`Host`] enums, [`RecordedRequest`] (what tests assert on),
//! the per-protocol parsing of a request's conversation into neutral [`Turn`]s of
//! [`Block`]s (text, images, tool calls and results, thinking), the extraction of
//! message/system texts, and the rough input-token count derived from them.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::script::Action;

/// Which provider API a request used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Anthropic Messages (`/v1/messages`, `GET /v1/models` with `anthropic-version`).
    Anthropic,
    /// OpenAI Chat Completions (`/v1/chat/completions`, `/chat/completions`, `GET /v1/models`).
    OpenAi,
    /// Gemini Developer API (`/v1beta/models/…`).
    Gemini,
}

/// Who served a request: the vendor's own API, or a cloud platform hosting its models. The
/// [`Protocol`] says which body and stream format was spoken (Anthropic's on Bedrock and for
/// Claude on Vertex, Gemini's for Gemini on Vertex).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Host {
    /// The vendor's API (`/v1/messages`, `/v1/chat/completions`, `/v1beta/models/…`).
    #[default]
    Direct,
    /// Amazon Bedrock Runtime (`/model/{id}/invoke-with-response-stream`, `/model/{id}/invoke`).
    Bedrock,
    /// Google Vertex AI (`/v1/projects/…/publishers/{anthropic,google}/models/…`).
    Vertex,
}

/// One request as the emulator received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Which provider API it used.
    pub protocol: Protocol,
    /// Who served it.
    pub host: Host,
    /// HTTP method (`POST`, `GET`).
    pub method: String,
    /// Path without the query (`/v1/messages`).
    pub path: String,
    /// Raw query string without `?` (`alt=sse`), empty when absent.
    pub query: String,
    /// Headers in arrival order, names lowercased.
    pub headers: Vec<(String, String)>,
    /// Raw body bytes.
    pub body: Vec<u8>,
    /// The body parsed as JSON, when it is JSON.
    pub json: Option<Value>,
    /// The model id (body `model` for Anthropic/OpenAI, the path for Gemini, Bedrock and
    /// Vertex); empty for model-list requests.
    pub model: String,
    /// Whether a streamed answer was asked for (`"stream": true`, Gemini
    /// `:streamGenerateContent`, Bedrock `invoke-with-response-stream`, Vertex
    /// `:streamRawPredict` with `"stream": true`).
    pub stream: bool,
    /// Arrival time (after the whole request was read).
    pub at: Instant,
    /// The script action used to answer; `None` for the default reply, model lists, and
    /// requests rejected before the script (missing `anthropic-version`, bad key,
    /// invalid JSON).
    pub action: Option<Action>,
}

impl RecordedRequest {
    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The text of every message/content turn in the request body, in order, one
    /// string per turn (text parts joined with `\n`), system/developer turns excluded.
    pub fn message_texts(&self) -> Vec<String> {
        self.json
            .as_ref()
            .map(|j| message_texts(self.protocol, j))
            .unwrap_or_default()
    }

    /// The system prompt (Anthropic `system`, OpenAI `system`/`developer` messages
    /// joined with `\n`, Gemini `systemInstruction`/`system_instruction`).
    pub fn system_text(&self) -> Option<String> {
        self.json
            .as_ref()
            .and_then(|j| system_text(self.protocol, j))
    }

    /// The body as (lossy) UTF-8 text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The percent-decoded value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<String> {
        crate::http::query_param(&self.query, name)
    }

    /// The conversation of the request body as neutral turns (system text excluded; see
    /// [`RecordedRequest::system_text`]), in order. Empty for bodies without one.
    pub fn turns(&self) -> Vec<Turn> {
        self.json
            .as_ref()
            .map(|j| turns(self.protocol, j))
            .unwrap_or_default()
    }
}

/// Who speaks in a [`Turn`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnRole {
    /// Anthropic/OpenAI `user`, Gemini `user` (or no role).
    User,
    /// Anthropic/OpenAI `assistant`, Gemini `model`.
    Assistant,
    /// OpenAI `tool` (and legacy `function`) messages.
    Tool,
}

/// One message (Anthropic/OpenAI) or content (Gemini) of a request, parsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Turn {
    /// Who speaks.
    pub role: TurnRole,
    /// Position in the request's `messages` / `contents` array (system messages count).
    pub index: usize,
    /// The content, in order. Anthropic and Gemini: one block per content block / part
    /// (a string content is one text block). OpenAI: the text parts, then one
    /// [`Block::ToolUse`] per `tool_calls` entry; a `tool` message is one
    /// [`Block::ToolResult`].
    pub blocks: Vec<Block>,
}

/// Where an image's bytes are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ImageSource {
    /// Inline base64 (Anthropic `base64` source, OpenAI `data:` URL, Gemini
    /// `inlineData`).
    Base64 {
        /// The base64 text as sent.
        data: String,
    },
    /// A URL (Anthropic `url` source, OpenAI `image_url.url`).
    Url {
        /// The URL.
        url: String,
    },
    /// An uploaded file (Anthropic `file` source `file_id`, Gemini `fileData.fileUri`).
    File {
        /// The file id or URI.
        id: String,
    },
}

/// One piece of a [`Turn`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// An image.
    Image {
        /// `image/png` etc., when the request says.
        media_type: Option<String>,
        /// Where the bytes are.
        source: ImageSource,
    },
    /// A tool call made by the assistant.
    ToolUse {
        /// Anthropic `id`, OpenAI `tool_calls[].id`, Gemini `functionCall.id`.
        id: Option<String>,
        /// The function name.
        name: String,
        /// The arguments (OpenAI: `function.arguments` parsed; a string when it is not
        /// JSON).
        input: Value,
        /// Gemini: the part's `thoughtSignature`.
        signature: Option<String>,
    },
    /// A tool result sent back.
    ToolResult {
        /// Anthropic `tool_use_id`, OpenAI `tool_call_id`, Gemini `functionResponse.id`.
        id: Option<String>,
        /// Gemini `functionResponse.name` (OpenAI legacy `function` messages: `name`).
        name: Option<String>,
        /// The result content: text and image blocks (Gemini: one text block derived
        /// from `response`, see [`crate::Reply::echo_tool_results`]).
        content: Vec<Block>,
        /// Anthropic `is_error`; Gemini: `response` has an `error` key.
        is_error: bool,
    },
    /// A thinking block (Anthropic `thinking`, Gemini `thought: true` part).
    Thinking {
        /// The thinking text.
        text: String,
        /// Anthropic `signature`, Gemini `thoughtSignature`.
        signature: Option<String>,
    },
    /// An Anthropic `redacted_thinking` block.
    RedactedThinking {
        /// Its opaque `data`.
        data: String,
    },
    /// Anything else (documents, audio, server tools, unknown types), kept raw.
    Other {
        /// The block's `type` (Gemini: the part's first field name).
        kind: String,
        /// The block as sent.
        raw: Value,
    },
}

impl Block {
    /// The text of the text blocks in `blocks`, joined with `\n`.
    pub fn texts(blocks: &[Block]) -> String {
        blocks
            .iter()
            .filter_map(|b| match b {
                Block::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

fn str_field(v: &Value, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| v.get(*n).and_then(Value::as_str))
        .map(str::to_owned)
}

fn other(kind: &str, raw: &Value) -> Block {
    Block::Other {
        kind: kind.to_owned(),
        raw: raw.clone(),
    }
}

/// Anthropic content (a string or an array of blocks) as blocks.
fn anthropic_blocks(content: &Value) -> Vec<Block> {
    match content {
        Value::String(s) => vec![Block::Text { text: s.clone() }],
        Value::Array(items) => items.iter().map(anthropic_block).collect(),
        _ => Vec::new(),
    }
}

fn anthropic_block(b: &Value) -> Block {
    let kind = b.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "text" => Block::Text {
            text: str_field(b, &["text"]).unwrap_or_default(),
        },
        "image" => {
            let src = b.get("source").unwrap_or(&Value::Null);
            let source = match src.get("type").and_then(Value::as_str) {
                Some("base64") => ImageSource::Base64 {
                    data: str_field(src, &["data"]).unwrap_or_default(),
                },
                Some("url") => ImageSource::Url {
                    url: str_field(src, &["url"]).unwrap_or_default(),
                },
                Some("file") => ImageSource::File {
                    id: str_field(src, &["file_id"]).unwrap_or_default(),
                },
                _ => return other(kind, b),
            };
            Block::Image {
                media_type: str_field(src, &["media_type"]),
                source,
            }
        }
        "tool_use" => Block::ToolUse {
            id: str_field(b, &["id"]),
            name: str_field(b, &["name"]).unwrap_or_default(),
            input: b.get("input").cloned().unwrap_or(Value::Null),
            signature: None,
        },
        "tool_result" => Block::ToolResult {
            id: str_field(b, &["tool_use_id"]),
            name: None,
            content: b.get("content").map(anthropic_blocks).unwrap_or_default(),
            is_error: b.get("is_error").and_then(Value::as_bool).unwrap_or(false),
        },
        "thinking" => Block::Thinking {
            text: str_field(b, &["thinking"]).unwrap_or_default(),
            signature: str_field(b, &["signature"]),
        },
        "redacted_thinking" => Block::RedactedThinking {
            data: str_field(b, &["data"]).unwrap_or_default(),
        },
        _ => other(kind, b),
    }
}

/// OpenAI message content (a string, an array of parts, or null) as blocks.
fn openai_blocks(content: Option<&Value>) -> Vec<Block> {
    match content {
        Some(Value::String(s)) => vec![Block::Text { text: s.clone() }],
        Some(Value::Array(parts)) => parts
            .iter()
            .map(|p| {
                let kind = p.get("type").and_then(Value::as_str).unwrap_or_default();
                match kind {
                    "text" => Block::Text {
                        text: str_field(p, &["text"]).unwrap_or_default(),
                    },
                    "image_url" => {
                        let url = p
                            .get("image_url")
                            .and_then(|u| u.get("url").or(Some(u)))
                            .and_then(Value::as_str)
                            .unwrap_or_default();
                        data_url_image(url)
                    }
                    _ => other(kind, p),
                }
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `data:image/png;base64,…` → a base64 image; anything else → a URL image.
fn data_url_image(url: &str) -> Block {
    if let Some(rest) = url.strip_prefix("data:")
        && let Some((meta, data)) = rest.split_once(',')
    {
        let media_type = meta.split(';').next().filter(|m| !m.is_empty());
        return Block::Image {
            media_type: media_type.map(str::to_owned),
            source: ImageSource::Base64 {
                data: data.to_owned(),
            },
        };
    }
    Block::Image {
        media_type: None,
        source: ImageSource::Url {
            url: url.to_owned(),
        },
    }
}

fn openai_turn(index: usize, m: &Value) -> Option<Turn> {
    let role = m.get("role").and_then(Value::as_str).unwrap_or_default();
    let (role, blocks) = match role {
        "system" | "developer" => return None,
        "assistant" => {
            let mut blocks: Vec<Block> = openai_blocks(m.get("content"))
                .into_iter()
                .filter(|b| !matches!(b, Block::Text { text } if text.is_empty()))
                .collect();
            let calls = m.get("tool_calls").and_then(Value::as_array);
            for c in calls.into_iter().flatten() {
                let f = c.get("function").unwrap_or(&Value::Null);
                blocks.push(Block::ToolUse {
                    id: str_field(c, &["id"]),
                    name: str_field(f, &["name"]).unwrap_or_default(),
                    input: openai_arguments(f),
                    signature: None,
                });
            }
            if let Some(f) = m.get("function_call") {
                blocks.push(Block::ToolUse {
                    id: None,
                    name: str_field(f, &["name"]).unwrap_or_default(),
                    input: openai_arguments(f),
                    signature: None,
                });
            }
            (TurnRole::Assistant, blocks)
        }
        "tool" | "function" => (
            TurnRole::Tool,
            vec![Block::ToolResult {
                id: str_field(m, &["tool_call_id"]),
                name: if role == "function" {
                    str_field(m, &["name"])
                } else {
                    None
                },
                content: openai_blocks(m.get("content")),
                is_error: false,
            }],
        ),
        _ => (TurnRole::User, openai_blocks(m.get("content"))),
    };
    Some(Turn {
        role,
        index,
        blocks,
    })
}

/// `function.arguments` parsed as JSON, or kept as a string when it is not JSON.
fn openai_arguments(f: &Value) -> Value {
    match f.get("arguments") {
        Some(Value::String(s)) => {
            serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
        }
        Some(v) => v.clone(),
        None => Value::Null,
    }
}

fn gemini_part(p: &Value) -> Block {
    let signature = str_field(p, &["thoughtSignature", "thought_signature"]);
    if let Some(text) = p.get("text").and_then(Value::as_str) {
        if p.get("thought").and_then(Value::as_bool) == Some(true) {
            return Block::Thinking {
                text: text.to_owned(),
                signature,
            };
        }
        return Block::Text {
            text: text.to_owned(),
        };
    }
    if let Some(d) = p.get("inlineData").or_else(|| p.get("inline_data")) {
        let media_type = str_field(d, &["mimeType", "mime_type"]);
        if !media_type
            .as_deref()
            .is_some_and(|m| m.starts_with("image/"))
        {
            return other("inline_data", p);
        }
        return Block::Image {
            media_type,
            source: ImageSource::Base64 {
                data: str_field(d, &["data"]).unwrap_or_default(),
            },
        };
    }
    if let Some(d) = p.get("fileData").or_else(|| p.get("file_data")) {
        let media_type = str_field(d, &["mimeType", "mime_type"]);
        if !media_type
            .as_deref()
            .is_some_and(|m| m.starts_with("image/"))
        {
            return other("file_data", p);
        }
        return Block::Image {
            media_type,
            source: ImageSource::File {
                id: str_field(d, &["fileUri", "file_uri"]).unwrap_or_default(),
            },
        };
    }
    if let Some(c) = p.get("functionCall").or_else(|| p.get("function_call")) {
        return Block::ToolUse {
            id: str_field(c, &["id"]),
            name: str_field(c, &["name"]).unwrap_or_default(),
            input: c
                .get("args")
                .cloned()
                .unwrap_or_else(|| Value::Object(serde_json::Map::new())),
            signature,
        };
    }
    if let Some(r) = p
        .get("functionResponse")
        .or_else(|| p.get("function_response"))
    {
        let response = r.get("response").unwrap_or(&Value::Null);
        let is_error = response.get("error").is_some();
        let text = ["result", "output", "content", "error"]
            .iter()
            .find_map(|k| response.get(*k).and_then(Value::as_str))
            .map_or_else(|| response.to_string(), str::to_owned);
        return Block::ToolResult {
            id: str_field(r, &["id"]),
            name: str_field(r, &["name"]),
            content: vec![Block::Text { text }],
            is_error,
        };
    }
    let kind = p
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .unwrap_or_default();
    other(&kind, p)
}

/// The conversation of a request body as neutral turns.
pub(crate) fn turns(protocol: Protocol, json: &Value) -> Vec<Turn> {
    let items = match protocol {
        Protocol::Anthropic | Protocol::OpenAi => json.get("messages"),
        Protocol::Gemini => json.get("contents"),
    };
    let Some(items) = items.and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .enumerate()
        .filter_map(|(index, m)| match protocol {
            Protocol::Anthropic => {
                let role = match m.get("role").and_then(Value::as_str) {
                    Some("system") => return None,
                    Some("assistant") => TurnRole::Assistant,
                    _ => TurnRole::User,
                };
                Some(Turn {
                    role,
                    index,
                    blocks: m.get("content").map(anthropic_blocks).unwrap_or_default(),
                })
            }
            Protocol::OpenAi => openai_turn(index, m),
            Protocol::Gemini => Some(Turn {
                role: if m.get("role").and_then(Value::as_str) == Some("model") {
                    TurnRole::Assistant
                } else {
                    TurnRole::User
                },
                index,
                blocks: m
                    .get("parts")
                    .and_then(Value::as_array)
                    .map(|ps| ps.iter().map(gemini_part).collect())
                    .unwrap_or_default(),
            }),
        })
        .collect()
}

/// The turns after the last assistant turn (the "last user turn", which for OpenAI may
/// be several `tool` messages plus a user message).
pub(crate) fn last_user_turns(turns: &[Turn]) -> &[Turn] {
    let start = turns
        .iter()
        .rposition(|t| t.role == TurnRole::Assistant)
        .map_or(0, |i| i + 1);
    &turns[start..]
}

/// Whitespace-separated words in one block: text, thinking, tool results (recursively)
/// and tool calls (name and compact input).
fn block_words(b: &Block) -> usize {
    match b {
        Block::Text { text } | Block::Thinking { text, .. } => text.split_whitespace().count(),
        Block::ToolResult { content, .. } => content.iter().map(block_words).sum(),
        Block::ToolUse { name, input, .. } => {
            name.split_whitespace().count() + input.to_string().split_whitespace().count()
        }
        Block::Image { .. } | Block::RedactedThinking { .. } | Block::Other { .. } => 0,
    }
}

/// Text of a content value: a string, or an array of parts/blocks whose `text` fields
/// are joined with `\n`.
fn content_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

pub(crate) fn message_texts(protocol: Protocol, json: &Value) -> Vec<String> {
    match protocol {
        Protocol::Anthropic => json
            .get("messages")
            .and_then(Value::as_array)
            .map(|ms| {
                ms.iter()
                    .filter(|m| m.get("role").and_then(Value::as_str) != Some("system"))
                    .map(|m| m.get("content").map(content_text).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default(),
        Protocol::OpenAi => json
            .get("messages")
            .and_then(Value::as_array)
            .map(|ms| {
                ms.iter()
                    .filter(|m| {
                        !matches!(
                            m.get("role").and_then(Value::as_str),
                            Some("system" | "developer")
                        )
                    })
                    .map(|m| m.get("content").map(content_text).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default(),
        Protocol::Gemini => json
            .get("contents")
            .and_then(Value::as_array)
            .map(|cs| {
                cs.iter()
                    .map(|c| c.get("parts").map(content_text).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

pub(crate) fn system_text(protocol: Protocol, json: &Value) -> Option<String> {
    match protocol {
        Protocol::Anthropic => json.get("system").map(content_text),
        Protocol::OpenAi => {
            let parts: Vec<String> = json
                .get("messages")
                .and_then(Value::as_array)?
                .iter()
                .filter(|m| {
                    matches!(
                        m.get("role").and_then(Value::as_str),
                        Some("system" | "developer")
                    )
                })
                .map(|m| m.get("content").map(content_text).unwrap_or_default())
                .collect();
            (!parts.is_empty()).then(|| parts.join("\n"))
        }
        Protocol::Gemini => {
            let si = json
                .get("systemInstruction")
                .or_else(|| json.get("system_instruction"))?;
            Some(match si {
                Value::String(s) => s.clone(),
                other => other.get("parts").map(content_text).unwrap_or_default(),
            })
        }
    }
}

/// The default input-token count: the number of whitespace-separated words in the
/// system text plus all turns' text, thinking, tool results and tool calls.
pub(crate) fn count_words(protocol: Protocol, json: &Value, turns: &[Turn]) -> u64 {
    let sys = system_text(protocol, json).unwrap_or_default();
    let words = sys.split_whitespace().count()
        + turns
            .iter()
            .flat_map(|t| &t.blocks)
            .map(block_words)
            .sum::<usize>();
    words as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn texts_per_protocol() {
        let a = json!({"system":[{"type":"text","text":"Be terse."}],
            "messages":[{"role":"user","content":"Hello there"},
                        {"role":"assistant","content":[{"type":"text","text":"Hi"},{"type":"text","text":"!"}]}]});
        assert_eq!(
            message_texts(Protocol::Anthropic, &a),
            ["Hello there", "Hi\n!"]
        );
        assert_eq!(
            system_text(Protocol::Anthropic, &a).as_deref(),
            Some("Be terse.")
        );
        assert_eq!(
            count_words(Protocol::Anthropic, &a, &turns(Protocol::Anthropic, &a)),
            6
        );

        let o = json!({"messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"U"}]},
            {"role":"assistant","content":null}]});
        assert_eq!(message_texts(Protocol::OpenAi, &o), ["U", ""]);
        assert_eq!(system_text(Protocol::OpenAi, &o).as_deref(), Some("S"));
        assert_eq!(system_text(Protocol::OpenAi, &json!({"messages":[]})), None);

        let g = json!({"system_instruction":{"parts":[{"text":"sys"}]},
            "contents":[{"role":"user","parts":[{"text":"a b"}]},{"role":"model","parts":[{"text":"c"}]}]});
        assert_eq!(message_texts(Protocol::Gemini, &g), ["a b", "c"]);
        assert_eq!(system_text(Protocol::Gemini, &g).as_deref(), Some("sys"));
        assert_eq!(
            count_words(Protocol::Gemini, &g, &turns(Protocol::Gemini, &g)),
            4
        );
    }

    #[test]
    fn anthropic_blocks_parse() {
        let a = json!({"messages":[
            {"role":"user","content":[{"type":"text","text":"look"},
                {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBO"}},
                {"type":"image","source":{"type":"url","url":"https://x/y.jpg"}}]},
            {"role":"assistant","content":[{"type":"thinking","thinking":"hmm ok","signature":"sig"},
                {"type":"redacted_thinking","data":"opaque"},
                {"type":"tool_use","id":"toolu_1","name":"read","input":{"path":"a"}}]},
            {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"file body","is_error":true},
                {"type":"tool_result","tool_use_id":"toolu_2","content":[{"type":"text","text":"x"},{"type":"text","text":"y"}]},
                {"type":"document","source":{}}]}]});
        let t = turns(Protocol::Anthropic, &a);
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].role, TurnRole::User);
        assert_eq!(
            t[0].blocks[1],
            Block::Image {
                media_type: Some("image/png".into()),
                source: ImageSource::Base64 {
                    data: "iVBO".into()
                }
            }
        );
        assert_eq!(
            t[0].blocks[2],
            Block::Image {
                media_type: None,
                source: ImageSource::Url {
                    url: "https://x/y.jpg".into()
                }
            }
        );
        assert_eq!(t[1].role, TurnRole::Assistant);
        assert_eq!(
            t[1].blocks[0],
            Block::Thinking {
                text: "hmm ok".into(),
                signature: Some("sig".into())
            }
        );
        assert_eq!(
            t[1].blocks[1],
            Block::RedactedThinking {
                data: "opaque".into()
            }
        );
        assert_eq!(
            t[1].blocks[2],
            Block::ToolUse {
                id: Some("toolu_1".into()),
                name: "read".into(),
                input: json!({"path":"a"}),
                signature: None
            }
        );
        assert_eq!(
            t[2].blocks[0],
            Block::ToolResult {
                id: Some("toolu_1".into()),
                name: None,
                content: vec![Block::Text {
                    text: "file body".into()
                }],
                is_error: true
            }
        );
        let Block::ToolResult {
            content, is_error, ..
        } = &t[2].blocks[1]
        else {
            panic!("tool result expected: {:?}", t[2].blocks[1]);
        };
        assert_eq!(Block::texts(content), "x\ny");
        assert!(!is_error);
        assert!(matches!(&t[2].blocks[2], Block::Other { kind, .. } if kind == "document"));
        // look + hmm ok + read {"path":"a"} + file body + x + y
        assert_eq!(count_words(Protocol::Anthropic, &a, &t), 9);
        assert_eq!(last_user_turns(&t).len(), 1);
    }

    #[test]
    fn openai_blocks_parse() {
        let o = json!({"messages":[{"role":"system","content":"s"},
            {"role":"user","content":[{"type":"text","text":"see"},
                {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/"}},
                {"type":"image_url","image_url":{"url":"https://x/i.png"}}]},
            {"role":"assistant","content":null,"tool_calls":[
                {"id":"call_1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}},
                {"id":"call_2","type":"function","function":{"name":"g","arguments":"not json"}}]},
            {"role":"tool","tool_call_id":"call_1","content":"one"},
            {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"two"}]}]});
        let t = turns(Protocol::OpenAi, &o);
        assert_eq!(t.len(), 4);
        assert_eq!(t[0].index, 1, "system message counts for the index");
        assert_eq!(
            t[0].blocks[1],
            Block::Image {
                media_type: Some("image/jpeg".into()),
                source: ImageSource::Base64 {
                    data: "/9j/".into()
                }
            }
        );
        assert!(
            matches!(&t[0].blocks[2], Block::Image { media_type: None, source: ImageSource::Url { url } } if url == "https://x/i.png")
        );
        assert_eq!(t[1].blocks.len(), 2, "null content adds no text block");
        assert!(
            matches!(&t[1].blocks[0], Block::ToolUse { input, .. } if *input == json!({"a":1}))
        );
        assert!(
            matches!(&t[1].blocks[1], Block::ToolUse { input, .. } if *input == json!("not json"))
        );
        assert_eq!(t[2].role, TurnRole::Tool);
        assert!(
            matches!(&t[3].blocks[0], Block::ToolResult { id: Some(id), content, .. }
            if id == "call_2" && Block::texts(content) == "two")
        );
        assert_eq!(last_user_turns(&t).len(), 2);
    }

    #[test]
    fn gemini_parts_parse() {
        let g = json!({"contents":[{"parts":[{"text":"hi"},{"inlineData":{"mimeType":"image/webp","data":"UklG"}},
                {"inline_data":{"mime_type":"application/pdf","data":"JVBE"}}]},
            {"role":"model","parts":[{"text":"plan","thought":true,"thoughtSignature":"ts1"},
                {"functionCall":{"name":"f","args":{"x":1}},"thoughtSignature":"ts2"},{"functionCall":{"name":"g"}}]},
            {"role":"user","parts":[{"functionResponse":{"name":"f","response":{"result":"ok"}}},
                {"functionResponse":{"id":"c2","name":"g","response":{"error":"bad"}}},
                {"functionResponse":{"name":"h","response":{"n":2}}}]}]});
        let t = turns(Protocol::Gemini, &g);
        assert_eq!(t[0].role, TurnRole::User, "no role means user");
        assert!(
            matches!(&t[0].blocks[1], Block::Image { media_type: Some(m), .. } if m == "image/webp")
        );
        assert!(matches!(&t[0].blocks[2], Block::Other { kind, .. } if kind == "inline_data"));
        assert_eq!(
            t[1].blocks[0],
            Block::Thinking {
                text: "plan".into(),
                signature: Some("ts1".into())
            }
        );
        assert!(matches!(&t[1].blocks[1], Block::ToolUse { signature: Some(s), .. } if s == "ts2"));
        assert!(
            matches!(&t[1].blocks[2], Block::ToolUse { signature: None, input, .. } if *input == json!({}))
        );
        let texts: Vec<(String, bool)> = t[2]
            .blocks
            .iter()
            .map(|b| match b {
                Block::ToolResult {
                    content, is_error, ..
                } => (Block::texts(content), *is_error),
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(
            texts,
            [
                ("ok".into(), false),
                ("bad".into(), true),
                ("{\"n\":2}".into(), false)
            ]
        );
    }
}
