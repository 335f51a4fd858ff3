//! The events of one model's streamed answer, as every provider client yields them: text and
//! thinking deltas, tool calls as a start followed by argument fragments and an end, opaque
//! provider blocks, usage, and exactly one terminal [`ChatEvent::Done`].

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Token counts for one call, as reported by the provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens, those read from or written to the provider's prompt cache included.
    pub input_tokens: u64,
    /// Generated tokens.
    pub output_tokens: u64,
    /// Of the prompt tokens, those read from the prompt cache (billed at the cache price).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_read_tokens: u64,
    /// Of the prompt tokens, those written to the prompt cache (Anthropic bills them apart).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache_write_tokens: u64,
}

impl Usage {
    /// Prompt tokens read fresh: neither from the cache nor written to it.
    pub fn fresh_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_sub(self.cache_read_tokens)
            .saturating_sub(self.cache_write_tokens)
    }
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if signature"
)]
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Why the model stopped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model finished its answer.
    EndTurn,
    /// The output token limit was reached: the answer is cut, and says so.
    MaxTokens,
    /// A stop sequence matched.
    StopSequence,
    /// The model called tools and waits for their results.
    ToolUse,
    /// The model declined to answer (Anthropic `refusal`).
    Refusal,
    /// A safety or content filter stopped it.
    ContentFilter,
    /// Anything else the provider reported, verbatim.
    Other(String),
}

/// One event of a streamed answer.
///
/// Text and thinking deltas belong to the current text or thinking block, which ends at
/// [`ChatEvent::BlockStop`] (or when a block of another kind starts). Tool calls are keyed by
/// a per-answer `index` (several may be open at once: OpenAI interleaves them); a call is
/// complete only at its [`ChatEvent::ToolCallEnd`].
#[derive(Clone, Debug, PartialEq)]
pub enum ChatEvent {
    /// The provider accepted the request; `model` is the model id it reports serving, if any.
    Started {
        /// Model id reported by the provider (e.g. `claude-sonnet-4-5-20250929`).
        model: Option<String>,
    },
    /// A piece of answer text.
    Text(String),
    /// A piece of the model's reasoning.
    Thinking(String),
    /// The signature of the current thinking block.
    ThinkingSignature(String),
    /// A tool call begins.
    ToolCallStart {
        /// Its index in this answer.
        index: u32,
        /// Its id.
        id: String,
        /// The tool's name.
        name: String,
        /// A signature the vendor attached to the call (Gemini `thoughtSignature`).
        signature: Option<String>,
    },
    /// A fragment of a tool call's JSON arguments.
    ToolCallArgs {
        /// The call's index.
        index: u32,
        /// The fragment.
        json: String,
    },
    /// A tool call's arguments are complete.
    ToolCallEnd {
        /// The call's index.
        index: u32,
    },
    /// A whole provider-only block (Anthropic `redacted_thinking`, server-tool blocks).
    Opaque(Value),
    /// The current text or thinking block ended.
    BlockStop,
    /// Usage so far (cumulative; the last one wins).
    Usage(Usage),
    /// The provider fitted the history into its model's context window itself (the local
    /// model, counting with its own tokenizer), before `Started`.
    HistoryFitted(super::fit::FitReport),
    /// The provider's terminal event: the answer is complete.
    Done {
        /// Why generation stopped.
        stop: StopReason,
    },
}
