//! Request recording: the [`Protocol`] enum, [`RecordedRequest`] (what tests assert on),
//! and the per-protocol extraction of message/system texts and the rough input-token
//! count derived from them.

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

/// One request as the emulator received it.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Which provider API it used.
    pub protocol: Protocol,
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
    /// The model id (body `model` for Anthropic/OpenAI, path for Gemini); empty for
    /// model-list requests.
    pub model: String,
    /// Whether a streamed answer was asked for (`"stream": true`, or Gemini
    /// `:streamGenerateContent`).
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
/// system text plus all message texts.
pub(crate) fn count_words(protocol: Protocol, json: &Value) -> u64 {
    let sys = system_text(protocol, json).unwrap_or_default();
    let words = sys.split_whitespace().count()
        + message_texts(protocol, json)
            .iter()
            .map(|t| t.split_whitespace().count())
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
        assert_eq!(count_words(Protocol::Anthropic, &a), 6);

        let o = json!({"messages":[{"role":"system","content":"S"},{"role":"user","content":[{"type":"text","text":"U"}]},
            {"role":"assistant","content":null}]});
        assert_eq!(message_texts(Protocol::OpenAi, &o), ["U", ""]);
        assert_eq!(system_text(Protocol::OpenAi, &o).as_deref(), Some("S"));
        assert_eq!(system_text(Protocol::OpenAi, &json!({"messages":[]})), None);

        let g = json!({"system_instruction":{"parts":[{"text":"sys"}]},
            "contents":[{"role":"user","parts":[{"text":"a b"}]},{"role":"model","parts":[{"text":"c"}]}]});
        assert_eq!(message_texts(Protocol::Gemini, &g), ["a b", "c"]);
        assert_eq!(system_text(Protocol::Gemini, &g).as_deref(), Some("sys"));
        assert_eq!(count_words(Protocol::Gemini, &g), 4);
    }
}
