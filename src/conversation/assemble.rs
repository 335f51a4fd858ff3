//! Building an answer's blocks from its stream of [`ChatEvent`]s. A tool call becomes a block
//! only at its end, once its arguments parse as a JSON object; until then it holds its place
//! (so blocks keep the order the model wrote them in) but is left out of every view of the
//! answer. A stream that stops inside a call's arguments thus never yields a partial call.

use serde_json::Value;

use super::{Block, ChatEvent, ProviderScoped, Vendor};

/// A stream event that cannot be assembled: a call's arguments are not a JSON object, or an
/// event names a call that never started.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct AssembleError(pub String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Open {
    None,
    Text,
    Thinking,
}

#[derive(Clone, Debug)]
struct Pending {
    index: u32,
    slot: usize,
    json: String,
}

/// Accumulates one answer's blocks.
#[derive(Clone, Debug)]
pub struct Assembler {
    vendor: Vendor,
    blocks: Vec<Block>,
    open: Open,
    pending: Vec<Pending>,
}

impl Assembler {
    /// An empty answer from a model of `vendor` (signatures are scoped to it).
    pub fn new(vendor: Vendor) -> Self {
        Self {
            vendor,
            blocks: Vec::new(),
            open: Open::None,
            pending: Vec::new(),
        }
    }

    /// Takes one event. Returns the tool call it completed, if any.
    pub fn push(&mut self, ev: &ChatEvent) -> Result<Option<Block>, AssembleError> {
        match ev {
            ChatEvent::Text(t) => self.append(Open::Text, t),
            ChatEvent::Thinking(t) => self.append(Open::Thinking, t),
            ChatEvent::ThinkingSignature(sig) => {
                if self.open != Open::Thinking {
                    self.append(Open::Thinking, "");
                }
                if let Some(Block::Thinking { signature, .. }) = self.blocks.last_mut() {
                    let value = match signature.take() {
                        Some(s) => s.value + sig,
                        None => sig.clone(),
                    };
                    *signature = Some(ProviderScoped {
                        vendor: self.vendor,
                        value,
                    });
                }
            }
            ChatEvent::BlockStop => self.open = Open::None,
            ChatEvent::ToolCallStart {
                index,
                id,
                name,
                signature,
            } => {
                if self.pending.iter().any(|p| p.index == *index) {
                    return Err(AssembleError(format!(
                        "the stream started tool call #{index} twice"
                    )));
                }
                self.open = Open::None;
                self.pending.push(Pending {
                    index: *index,
                    slot: self.blocks.len(),
                    json: String::new(),
                });
                self.blocks.push(Block::ToolUse {
                    id: id.clone(),
                    name: name.clone(),
                    input: Value::Null,
                    signature: signature.clone().map(|value| ProviderScoped {
                        vendor: self.vendor,
                        value,
                    }),
                });
            }
            ChatEvent::ToolCallArgs { index, json } => {
                let p = self.pending_mut(*index)?;
                p.json.push_str(json);
            }
            ChatEvent::ToolCallEnd { index } => return self.finish_call(*index).map(Some),
            ChatEvent::Opaque(raw) => {
                self.open = Open::None;
                self.blocks.push(Block::Opaque {
                    vendor: self.vendor,
                    raw: raw.clone(),
                });
            }
            ChatEvent::Started { .. }
            | ChatEvent::Usage(_)
            | ChatEvent::HistoryFitted(_)
            | ChatEvent::Done { .. } => {}
        }
        Ok(None)
    }

    /// Ends every call still open (a protocol whose calls end with the answer, like OpenAI's
    /// `finish_reason`), returning them in order.
    pub fn finish_open_calls(&mut self) -> Result<Vec<Block>, AssembleError> {
        let mut indices: Vec<(usize, u32)> =
            self.pending.iter().map(|p| (p.slot, p.index)).collect();
        indices.sort_unstable();
        indices
            .into_iter()
            .map(|(_, i)| self.finish_call(i))
            .collect()
    }

    /// Whether a tool call has started and not ended.
    pub fn has_open_call(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The complete blocks so far, in order (unfinished tool calls and empty text left out).
    pub fn blocks(&self) -> Vec<Block> {
        self.blocks
            .iter()
            .enumerate()
            .filter(|(i, b)| {
                !self.pending.iter().any(|p| p.slot == *i)
                    && !matches!(b, Block::Text { text, .. } if text.is_empty())
            })
            .map(|(_, b)| b.clone())
            .collect()
    }

    fn append(&mut self, kind: Open, piece: &str) {
        let extend = self.open == kind
            && matches!(
                (self.blocks.last(), kind),
                (Some(Block::Text { .. }), Open::Text)
                    | (Some(Block::Thinking { .. }), Open::Thinking)
            );
        if !extend {
            self.blocks.push(match kind {
                Open::Thinking => Block::Thinking {
                    text: String::new(),
                    signature: None,
                },
                _ => Block::text(""),
            });
            self.open = kind;
        }
        if let Some(Block::Text { text, .. } | Block::Thinking { text, .. }) =
            self.blocks.last_mut()
        {
            text.push_str(piece);
        }
    }

    fn pending_mut(&mut self, index: u32) -> Result<&mut Pending, AssembleError> {
        self.pending
            .iter_mut()
            .find(|p| p.index == index)
            .ok_or_else(|| {
                AssembleError(format!(
                    "the stream named tool call #{index} before starting it"
                ))
            })
    }

    fn finish_call(&mut self, index: u32) -> Result<Block, AssembleError> {
        let pos = self
            .pending
            .iter()
            .position(|p| p.index == index)
            .ok_or_else(|| {
                AssembleError(format!(
                    "the stream ended tool call #{index} that was not open"
                ))
            })?;
        let p = self.pending.remove(pos);
        let input: Value = if p.json.trim().is_empty() {
            Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_str(&p.json).map_err(|e| {
                AssembleError(format!(
                    "tool call #{index} has arguments that are not valid JSON ({e})"
                ))
            })?
        };
        if !input.is_object() {
            return Err(AssembleError(format!(
                "tool call #{index} has arguments that are not a JSON object"
            )));
        }
        let Some(Block::ToolUse { input: slot, .. }) = self.blocks.get_mut(p.slot) else {
            return Err(AssembleError(format!("tool call #{index} lost its place")));
        };
        *slot = input;
        Ok(self.blocks[p.slot].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn start(index: u32, id: &str) -> ChatEvent {
        ChatEvent::ToolCallStart {
            index,
            id: id.into(),
            name: "Read".into(),
            signature: None,
        }
    }

    fn args(index: u32, json: &str) -> ChatEvent {
        ChatEvent::ToolCallArgs {
            index,
            json: json.into(),
        }
    }

    #[test]
    fn interleaved_calls_complete_in_place() {
        let mut a = Assembler::new(Vendor::OpenAi);
        a.push(&ChatEvent::Text("Reading ".into())).unwrap();
        a.push(&ChatEvent::Text("both.".into())).unwrap();
        a.push(&start(0, "call_a")).unwrap();
        a.push(&start(1, "call_b")).unwrap();
        a.push(&args(1, "{\"path\":")).unwrap();
        a.push(&args(0, "{\"path\":\"a\"}")).unwrap();
        assert_eq!(a.blocks(), vec![Block::text("Reading both.")]);
        a.push(&args(1, "\"b\"}")).unwrap();
        let done = a.finish_open_calls().unwrap();
        assert_eq!(done.len(), 2);
        let b = a.blocks();
        assert_eq!(b.len(), 3);
        assert!(
            matches!(&b[1], Block::ToolUse { id, input, .. } if id == "call_a" && input == &json!({"path": "a"}))
        );
        assert!(matches!(&b[2], Block::ToolUse { id, .. } if id == "call_b"));
    }

    #[test]
    fn a_cut_call_never_appears_and_bad_json_is_an_error() {
        let mut a = Assembler::new(Vendor::Anthropic);
        a.push(&start(1, "toolu_1")).unwrap();
        a.push(&args(1, "{\"path\": \"src/ma")).unwrap();
        assert!(a.has_open_call());
        assert!(a.blocks().is_empty());
        assert!(a.push(&ChatEvent::ToolCallEnd { index: 1 }).is_err());
        let mut a = Assembler::new(Vendor::Anthropic);
        a.push(&start(0, "t")).unwrap();
        a.push(&args(0, "[1,2]")).unwrap();
        assert!(a.push(&ChatEvent::ToolCallEnd { index: 0 }).is_err());
        assert!(
            Assembler::new(Vendor::Anthropic)
                .push(&args(3, "{}"))
                .is_err()
        );
    }

    #[test]
    fn empty_arguments_are_an_empty_object_and_thinking_gets_its_signature() {
        let mut a = Assembler::new(Vendor::Anthropic);
        a.push(&ChatEvent::Thinking("Let me ".into())).unwrap();
        a.push(&ChatEvent::Thinking("think.".into())).unwrap();
        a.push(&ChatEvent::ThinkingSignature("EqQB".into()))
            .unwrap();
        a.push(&ChatEvent::BlockStop).unwrap();
        a.push(&ChatEvent::Text("Hi".into())).unwrap();
        a.push(&ChatEvent::BlockStop).unwrap();
        a.push(&ChatEvent::Text("Again".into())).unwrap();
        a.push(&start(2, "t")).unwrap();
        let call = a
            .push(&ChatEvent::ToolCallEnd { index: 2 })
            .unwrap()
            .unwrap();
        assert!(matches!(call, Block::ToolUse { input, .. } if input == json!({})));
        let b = a.blocks();
        assert_eq!(
            b[0],
            Block::Thinking {
                text: "Let me think.".into(),
                signature: Some(ProviderScoped {
                    vendor: Vendor::Anthropic,
                    value: "EqQB".into()
                })
            }
        );
        assert_eq!(b[1], Block::text("Hi"));
        assert_eq!(b[2], Block::text("Again"));
    }
}
