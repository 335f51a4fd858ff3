//! What one reply sends, in protocol-neutral form: the [`Plan`] built from a scripted
//! [`Reply`] (text and thinking chunks, tool calls with ids and argument fragments split
//! where a fault must fire, signatures), the echo text built from the request's tool
//! results and images, and the byte arithmetic for cutting inside tool arguments.

use super::{q, random_id};
use crate::record::{Block, ImageSource, Protocol, Turn, last_user_turns};
use crate::script::{FaultPoint, Reply, split_chars};

/// A tool call as it goes on the wire.
#[derive(Clone, Debug)]
pub(crate) struct PlanCall {
    /// The id sent (generated unless scripted); Gemini: only a scripted one.
    pub(crate) id: Option<String>,
    pub(crate) name: String,
    /// The arguments as compact JSON.
    pub(crate) args: String,
    /// `args` in streamed fragments (concatenated they give `args`).
    pub(crate) fragments: Vec<String>,
}

/// Thinking as it goes on the wire.
#[derive(Clone, Debug)]
pub(crate) struct PlanThinking {
    pub(crate) text: String,
    pub(crate) chunks: Vec<String>,
    /// Anthropic: always set; Gemini: see [`Plan::gemini_signature`]; OpenAI: unused.
    pub(crate) signature: Option<String>,
}

/// Everything one reply sends.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    pub(crate) thinking: Option<PlanThinking>,
    /// Anthropic `redacted_thinking` data.
    pub(crate) redacted: Option<String>,
    pub(crate) text: String,
    pub(crate) text_chunks: Vec<String>,
    pub(crate) calls: Vec<PlanCall>,
    /// OpenAI: interleave call fragments.
    pub(crate) interleave: bool,
    /// Gemini `thoughtSignature` for this response (scripted, or generated for Gemini
    /// 3+ models).
    pub(crate) gemini_signature: Option<String>,
    /// Where an `…InToolArgs` fault fires: `(call, chars)`, `chars` already clamped to
    /// the call's argument length minus one.
    pub(crate) tool_cut: Option<(usize, usize)>,
    /// End with the "cut at the output token limit" stop reason.
    pub(crate) max_tokens: bool,
}

impl Plan {
    /// The plan for `r` answered on `protocol` by `model`; `text` replaces the reply's
    /// text (echo replies).
    pub(crate) fn new(r: &Reply, protocol: Protocol, model: &str, text: String) -> Plan {
        let args: Vec<String> = r
            .tool_calls
            .iter()
            .map(|c| c.arguments.to_string())
            .collect();
        let tool_cut = match r.fault.as_ref().map(crate::StreamFault::point) {
            Some(FaultPoint::InToolArgs { call, after_chars }) => args
                .get(call)
                .map(|a| (call, after_chars.min(a.chars().count().saturating_sub(1)))),
            _ => None,
        };
        let calls = r
            .tool_calls
            .iter()
            .zip(args)
            .enumerate()
            .map(|(i, (c, args))| {
                let split_at = tool_cut.and_then(|(call, at)| (call == i).then_some(at));
                PlanCall {
                    id: c.id.clone().or_else(|| match protocol {
                        Protocol::Anthropic => Some(format!("toolu_01{}", random_id(22))),
                        Protocol::OpenAi => Some(format!("call_{}", random_id(24))),
                        Protocol::Gemini => None,
                    }),
                    name: c.name.clone(),
                    fragments: fragments(&args, r.arg_chunk_chars, split_at),
                    args,
                }
            })
            .collect();
        let scripted_sig = r.thinking.as_ref().and_then(|t| t.signature.clone());
        let gemini_signature = match protocol {
            Protocol::Gemini => scripted_sig
                .clone()
                .or_else(|| super::gemini::signs_thoughts(model).then(|| random_id(64))),
            Protocol::Anthropic | Protocol::OpenAi => None,
        };
        let thinking = r.thinking.as_ref().map(|t| PlanThinking {
            chunks: split_chars(&t.text, r.chunk_chars),
            text: t.text.clone(),
            signature: match protocol {
                Protocol::Anthropic => scripted_sig.clone().or_else(|| Some(random_id(96))),
                Protocol::Gemini | Protocol::OpenAi => scripted_sig.clone(),
            },
        });
        Plan {
            thinking,
            redacted: r.redacted_thinking.clone(),
            text_chunks: split_chars(&text, r.chunk_chars),
            text,
            calls,
            interleave: r.interleave,
            gemini_signature,
            tool_cut,
            max_tokens: r.max_tokens_stop,
        }
    }

    /// The protocol's stop reason for this reply: the token limit when scripted, else tool
    /// use when there are calls, else a normal end.
    pub(crate) fn stop_reason(&self, protocol: Protocol) -> &'static str {
        let calls = !self.calls.is_empty();
        match protocol {
            Protocol::Anthropic if self.max_tokens => "max_tokens",
            Protocol::Anthropic if calls => "tool_use",
            Protocol::Anthropic => "end_turn",
            Protocol::OpenAi if self.max_tokens => "length",
            Protocol::OpenAi if calls => "tool_calls",
            Protocol::OpenAi => "stop",
            Protocol::Gemini if self.max_tokens => "MAX_TOKENS",
            Protocol::Gemini => "STOP",
        }
    }

    /// Whether a text block/part goes out: when there is text, or nothing else.
    pub(crate) fn has_text_block(&self, protocol: Protocol) -> bool {
        let others = !self.calls.is_empty()
            || match protocol {
                Protocol::Anthropic => self.thinking.is_some() || self.redacted.is_some(),
                Protocol::Gemini => self.thinking.is_some(),
                Protocol::OpenAi => false,
            };
        !self.text.is_empty() || !others
    }

    /// Content chunks streamed on `protocol` (the default output-token count): text,
    /// thinking (not OpenAI) and argument fragments (Gemini: one per call).
    pub(crate) fn content_chunks(&self, protocol: Protocol) -> usize {
        let thinking = match protocol {
            Protocol::OpenAi => 0,
            Protocol::Anthropic | Protocol::Gemini => {
                self.thinking.as_ref().map_or(0, |t| t.chunks.len())
            }
        };
        let args: usize = match protocol {
            Protocol::Gemini => self.calls.len(),
            Protocol::Anthropic | Protocol::OpenAi => {
                self.calls.iter().map(|c| c.fragments.len()).sum()
            }
        };
        self.text_chunks.len() + thinking + args
    }
}

/// `args` in fragments of `n` chars (8 when 0), with an extra split after `split_at`
/// chars so that a fault can fire exactly there.
fn fragments(args: &str, n: usize, split_at: Option<usize>) -> Vec<String> {
    let Some(at) = split_at.filter(|&at| at > 0) else {
        return split_chars(args, n);
    };
    let byte = args.char_indices().nth(at).map_or(args.len(), |(b, _)| b);
    let mut out = split_chars(&args[..byte], n);
    out.extend(split_chars(&args[byte..], n));
    out
}

/// Bytes of the first `chars` characters of `args` as they appear on the wire: raw JSON
/// (Anthropic `input`, Gemini `args`), or inside a JSON string literal after its opening
/// quote (OpenAI `arguments`, `escaped`).
pub(crate) fn arg_prefix_bytes(args: &str, chars: usize, escaped: bool) -> usize {
    let byte = args
        .char_indices()
        .nth(chars)
        .map_or(args.len(), |(b, _)| b);
    if escaped {
        // The escaping of a prefix is a prefix of the escaping: drop both quotes.
        q(&args[..byte]).len() - 2
    } else {
        byte
    }
}

/// The text of an echo reply for `r` from the request `turns`; `None` when `r` echoes
/// nothing.
pub(crate) fn echo_text(r: &Reply, turns: &[Turn]) -> Option<String> {
    if !r.echo_tool_results && !r.echo_images {
        return None;
    }
    let last = last_user_turns(turns);
    let mut lines = Vec::new();
    if r.echo_tool_results {
        let before = lines.len();
        for b in last.iter().flat_map(|t| &t.blocks) {
            if let Block::ToolResult {
                id,
                name,
                content,
                is_error,
            } = b
            {
                let who = id.as_deref().or(name.as_deref()).unwrap_or("?");
                let err = if *is_error { " (error)" } else { "" };
                lines.push(format!(
                    "tool {who} returned{err}: {}",
                    Block::texts(content)
                ));
            }
        }
        if lines.len() == before {
            lines.push("no tool results".to_owned());
        }
    }
    if r.echo_images {
        let mut types = Vec::new();
        for b in last.iter().flat_map(|t| &t.blocks) {
            collect_image_types(b, &mut types);
        }
        let mut line = format!("saw {} image(s)", types.len());
        if !types.is_empty() {
            line.push_str(": ");
            line.push_str(&types.join(", "));
        }
        lines.push(line);
    }
    if !r.text.is_empty() {
        lines.push(r.text.clone());
    }
    Some(lines.join("\n"))
}

fn collect_image_types(b: &Block, out: &mut Vec<String>) {
    match b {
        Block::Image { media_type, source } => out.push(media_type.clone().unwrap_or_else(|| {
            match source {
                ImageSource::Base64 { .. } => "base64",
                ImageSource::Url { .. } => "url",
                ImageSource::File { .. } => "file",
            }
            .to_owned()
        })),
        Block::ToolResult { content, .. } => {
            for c in content {
                collect_image_types(c, out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::script::{StreamFault, ToolCall};
    use serde_json::json;

    #[test]
    fn fragments_split_at_the_fault() {
        assert_eq!(
            fragments(r#"{"a":"héllo"}"#, 4, None),
            [r#"{"a""#, r#":"hé"#, r#"llo""#, "}"]
        );
        assert_eq!(
            fragments(r#"{"a":"héllo"}"#, 4, Some(6)),
            [r#"{"a""#, r#":""#, "héll", r#"o"}"#]
        );
        assert_eq!(fragments("{}", 8, Some(0)), ["{}"]);
    }

    #[test]
    fn prefix_bytes_raw_and_escaped() {
        let args = r#"{"p":"é\n"}"#;
        assert_eq!(arg_prefix_bytes(args, 3, false), 3);
        assert_eq!(
            arg_prefix_bytes(args, 3, true),
            4,
            "escaped quote is two bytes"
        );
        assert_eq!(arg_prefix_bytes(args, 7, false), 8, "é is two bytes");
    }

    #[test]
    fn plan_ids_cut_and_signatures() {
        let r = Reply::tool_call("f", json!({"x": 12345}))
            .with_call(ToolCall::new("g", json!({})).id("mine"))
            .with_thinking("t", None)
            .fault(StreamFault::CutInToolArgs {
                call: 1,
                after_chars: 99,
                clean_eof: false,
            });
        let p = Plan::new(&r, Protocol::Anthropic, "claude", String::new());
        assert!(
            p.calls[0]
                .id
                .as_deref()
                .is_some_and(|i| i.starts_with("toolu_01"))
        );
        assert_eq!(p.calls[1].id.as_deref(), Some("mine"));
        assert_eq!(p.tool_cut, Some((1, 1)), "clamped to len - 1");
        assert!(p.thinking.as_ref().is_some_and(|t| t.signature.is_some()));
        assert!(!p.has_text_block(Protocol::Anthropic));

        let p = Plan::new(&r, Protocol::OpenAi, "gpt", String::new());
        assert!(
            p.calls[0]
                .id
                .as_deref()
                .is_some_and(|i| i.starts_with("call_"))
        );
        let p = Plan::new(&r, Protocol::Gemini, "gemini-2.5-flash", String::new());
        assert_eq!(p.calls[0].id, None);
        assert_eq!(p.gemini_signature, None);
        let p = Plan::new(&r, Protocol::Gemini, "gemini-3-pro-preview", String::new());
        assert!(p.gemini_signature.is_some());
    }
}
