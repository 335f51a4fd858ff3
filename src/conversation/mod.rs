//! The provider-neutral conversation every part of aiw speaks: a [`Message`] is a role and a
//! list of content [`Block`]s (text, tool calls, tool results, images, thinking, and opaque
//! provider-only blocks), a request may offer [`Tool`]s with a [`ToolChoice`]. Each provider
//! client maps these both ways to its wire format; the router, sessions, fitting and the
//! commands work only with these types.
//!
//! Roles: only [`Role::User`] and [`Role::Assistant`]. The system prompt is not a message but
//! a field of the request (every provider has a separate slot for it, or wants it first), and
//! tool results are [`Block::ToolResult`]s inside a user message (Anthropic's model). The
//! OpenAI client expands them into `role: "tool"` messages and Gemini's into
//! `functionResponse` parts, so one neutral history renders exactly on every wire.
//!
//! - `stream`: the events of a streamed answer ([`ChatEvent`]), [`StopReason`], [`Usage`].
//! - `assemble`: building blocks from those events, completing a tool call only when its
//!   arguments have fully arrived and parse as JSON.
//! - `history`: keeping a history valid for the next model (tool pairing, blocks another vendor
//!   cannot take) and its size.
//! - `fit`: fitting a history into a smaller context window, tool pairs kept together.

pub mod assemble;
pub mod fit;
pub mod history;
pub mod stream;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use assemble::{AssembleError, Assembler};
pub use stream::{ChatEvent, StopReason, Usage};

/// Who wrote a message of the conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person (or the agent's tool runner, for tool results).
    User,
    /// A model's answer: text, thinking and tool calls.
    Assistant,
}

/// The wire family that produced a provider-scoped value (a thinking signature, an opaque
/// block). Such values are replayed only to the same family and dropped for any other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    /// Anthropic Messages (also Claude on other hosts speaking the same body).
    Anthropic,
    /// OpenAI Chat Completions and compatible servers.
    OpenAi,
    /// Google Gemini.
    Gemini,
    /// The in-process llama.cpp model.
    Local,
}

/// A value that only the vendor which produced it can verify (a thinking signature).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderScoped {
    /// Who produced it.
    pub vendor: Vendor,
    /// The value, verbatim.
    pub value: String,
}

/// Anthropic prompt-caching marker on a block, replayed only to Anthropic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheControl {
    /// Always `ephemeral` today.
    #[serde(rename = "type")]
    pub kind: String,
    /// Optional time to live (`5m`, `1h`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

/// Where an image's bytes are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    /// Inline, base64-encoded.
    Base64 {
        /// `image/png`, `image/jpeg`, `image/gif`, `image/webp`.
        media_type: String,
        /// The base64 text.
        data: String,
    },
    /// A URL the provider fetches itself.
    Url {
        /// The URL.
        url: String,
    },
}

/// One piece of a message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// Anthropic prompt caching, when the client asked for it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<CacheControl>,
    },
    /// A tool call made by the model.
    ToolUse {
        /// The call's id; a tool result answers it by this id.
        id: String,
        /// The tool's name.
        name: String,
        /// The arguments, a JSON object.
        input: Value,
        /// A signature the vendor attached to the call (Gemini 3 `thoughtSignature`), replayed
        /// only to that vendor.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<ProviderScoped>,
    },
    /// What a tool call returned (in a user message).
    ToolResult {
        /// The id of the [`Block::ToolUse`] it answers.
        tool_use_id: String,
        /// The result: text and images.
        content: Vec<Block>,
        /// The tool failed.
        #[serde(default)]
        is_error: bool,
    },
    /// An image.
    Image {
        /// Its bytes or URL.
        source: ImageSource,
    },
    /// The model's visible reasoning.
    Thinking {
        /// The reasoning text.
        text: String,
        /// The vendor's signature over it, needed to replay it to that vendor.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<ProviderScoped>,
    },
    /// Provider-only content (Anthropic `redacted_thinking`, server-tool blocks, a
    /// server-side `fallback` block): replayed in place to the same vendor, dropped for any
    /// other.
    Opaque {
        /// Who produced it.
        vendor: Vendor,
        /// The block as the vendor sent it.
        raw: Value,
    },
}

impl Block {
    /// A plain text block.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text {
            text: text.into(),
            cache_control: None,
        }
    }

    /// The text of a text block.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Self::Text { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// One message of the conversation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// What it holds, in order.
    pub blocks: Vec<Block>,
}

impl Message {
    /// A user message holding one text block.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: Role::User,
            blocks: vec![Block::text(text)],
        }
    }

    /// An assistant message holding one text block.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: Role::Assistant,
            blocks: vec![Block::text(text)],
        }
    }

    /// The message's text blocks joined (tool calls, results, images and thinking left out).
    pub fn text(&self) -> String {
        text_of(&self.blocks)
    }

    /// The tool calls in this message.
    pub fn tool_uses(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.blocks.iter().filter_map(|b| match b {
            Block::ToolUse {
                id, name, input, ..
            } => Some((id.as_str(), name.as_str(), input)),
            _ => None,
        })
    }
}

/// The text blocks of `blocks`, joined.
pub fn text_of(blocks: &[Block]) -> String {
    blocks.iter().filter_map(Block::as_text).collect()
}

/// A tool the model may call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    /// Its name (`^[a-zA-Z0-9_-]{1,64}$` on every provider).
    pub name: String,
    /// What it does, for the model.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// JSON Schema of its arguments (an object schema).
    pub input_schema: Value,
}

/// Whether and which tool the model must call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto,
    /// The model must call some tool.
    Any,
    /// The model must not call tools.
    None,
    /// The model must call this tool.
    Tool {
        /// Its name.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_serialize_with_a_type_tag_and_round_trip() {
        let m = Message {
            role: Role::Assistant,
            blocks: vec![
                Block::Thinking {
                    text: "hmm".into(),
                    signature: Some(ProviderScoped {
                        vendor: Vendor::Anthropic,
                        value: "sig".into(),
                    }),
                },
                Block::text("Reading it."),
                Block::ToolUse {
                    id: "toolu_1".into(),
                    name: "Read".into(),
                    input: json!({"file_path": "a.rs"}),
                    signature: None,
                },
            ],
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(
            v["blocks"][1],
            json!({"type": "text", "text": "Reading it."})
        );
        assert_eq!(v["blocks"][2]["type"], "tool_use");
        assert_eq!(v["blocks"][0]["signature"]["vendor"], "anthropic");
        let back: Message = serde_json::from_value(v).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.text(), "Reading it.");
        assert_eq!(back.tool_uses().count(), 1);
    }
}
