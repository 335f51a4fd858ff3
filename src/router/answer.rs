//! Accounting: what a request produced, as callers see it. The public result types
//! ([`Answer`], [`AllModelsFailed`], [`Attempt`], [`Segment`]) and the [`Tally`] the attempt
//! loop keeps while it works (attempts in order, who wrote which blocks, usage, the first
//! token's time), which builds the final answer or failure.

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::FallbackPolicy;
use crate::config::ModelRef;
use crate::conversation::text_of;
use crate::provider::{Block, ErrorClass, ProviderError, StopReason, Usage};

/// How one attempt on one model ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The model answered completely.
    Ok,
    /// The model failed (see the error class).
    Failed,
    /// The model was not called: its breaker is open, its provider asked to wait, it already
    /// failed silently in this request, or its provider has no key. Also a model the user
    /// skipped while it waited for its first token (error class `skipped`).
    Skipped,
    /// The call was cancelled by the user.
    Cancelled,
}

/// One attempt, as reported in `--json`, the journal and failure messages (a session file
/// stores its own record of it: `session::record`).
#[derive(Clone, Debug, Serialize)]
pub struct Attempt {
    /// The model tried.
    pub model: ModelRef,
    /// How it ended.
    pub outcome: Outcome,
    /// The failure class, when it failed or was skipped for a reason.
    pub error_class: Option<ErrorClass>,
    /// The failure message (never contains keys).
    pub error: Option<String>,
    /// HTTP status when there was one.
    pub status: Option<u16>,
    /// Time to first token, when one arrived.
    pub ttft_ms: Option<u64>,
    /// Duration of the attempt.
    pub ms: u64,
    /// Characters of answer text this attempt contributed.
    pub chars: usize,
}

impl Attempt {
    /// An attempt on `model` that ended with `outcome` (and `error`, if it failed); timings
    /// and size start at zero.
    pub(super) fn new(model: &ModelRef, outcome: Outcome, error: Option<&ProviderError>) -> Self {
        Self {
            model: model.clone(),
            outcome,
            error_class: error.map(|e| e.class),
            error: error.map(|e| e.message.clone()),
            status: error.and_then(|e| e.status),
            ttft_ms: None,
            ms: 0,
            chars: 0,
        }
    }

    /// A model that was not called, and why.
    pub(super) fn skipped(model: &ModelRef, error: &ProviderError) -> Self {
        Self::new(model, Outcome::Skipped, Some(error))
    }
}

/// A stretch of the answer written by one model (more than one after a mid-stream failover):
/// the blocks that model wrote, complete ones only.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Segment {
    /// The model that wrote it.
    pub model: ModelRef,
    /// What it wrote: text, thinking, complete tool calls.
    pub blocks: Vec<Block>,
}

impl Segment {
    /// The segment's text.
    pub fn text(&self) -> String {
        text_of(&self.blocks)
    }
}

/// A complete answer.
#[derive(Clone, Debug, Serialize)]
pub struct Answer {
    /// The whole answer: every segment's blocks in order.
    pub blocks: Vec<Block>,
    /// The model that finished the answer.
    pub model: ModelRef,
    /// Who wrote which part; one segment unless a stream broke mid-way.
    pub segments: Vec<Segment>,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// Total usage across attempts.
    pub usage: Usage,
    /// Time from the start to the first text token.
    pub ttft_ms: Option<u64>,
    /// Total time.
    pub total_ms: u64,
    /// True when the answer did not come (only) from the first model of the route.
    pub degraded: bool,
    /// Why the answer ended (`max_tokens`: cut at the token limit; `tool_use`: it waits for
    /// tool results).
    pub stop: StopReason,
    /// The model id the provider reported serving (e.g. a dated snapshot such as
    /// `claude-sonnet-4-5-20250929`), when it reported one.
    pub served_model: Option<String>,
}

impl Answer {
    /// The answer's text blocks joined.
    pub fn text(&self) -> String {
        text_of(&self.blocks)
    }

    /// Whether the model stopped at its output token limit (the answer is cut).
    pub fn truncated_by_limit(&self) -> bool {
        self.stop == StopReason::MaxTokens
    }
}

/// The router stopped before a lower tier because the fallback policy said so (`off`, or
/// `ask` until the user agrees).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldBack {
    /// The lower-tier model it would have called next.
    pub model: ModelRef,
    /// Its position in the route (1 = the first fallback).
    pub tier: usize,
    /// The policy that stopped it.
    pub policy: FallbackPolicy,
}

/// Nothing could answer; every attempt and why.
#[derive(Clone, Debug, thiserror::Error)]
#[error("no model could answer: {}{}", summarize(.attempts), held_back_note(.held_back.as_ref()))]
pub struct AllModelsFailed {
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// Text shown before the last failure, if any (kept, marked partial).
    pub partial: Vec<Segment>,
    /// Set when a lower tier could have been tried but the fallback policy stopped the router
    /// before it (`ask`: the caller may ask the user and run again with fallback allowed).
    pub held_back: Option<HeldBack>,
}

fn summarize(attempts: &[Attempt]) -> String {
    attempts
        .iter()
        .map(|a| match (&a.error_class, &a.error) {
            (Some(c), Some(e)) => format!("{} ({c}: {e})", a.model),
            (Some(c), None) => format!("{} ({c})", a.model),
            _ => format!("{} ({:?})", a.model, a.outcome),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn held_back_note(h: Option<&HeldBack>) -> String {
    h.map_or_else(String::new, |h| {
        format!(
            "; did not fall back to {} because fallback = \"{}\"",
            h.model, h.policy
        )
    })
}

/// What a request has produced so far, kept by the attempt loop.
pub(super) struct Tally {
    start: Instant,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// Who wrote which blocks.
    pub segments: Vec<Segment>,
    /// Usage across attempts.
    pub usage: Usage,
    /// Time from the start to the first content of any attempt.
    pub ttft: Option<u64>,
}

impl Tally {
    /// An empty tally; the request's clock starts now.
    pub fn new() -> Self {
        Self {
            start: Instant::now(),
            attempts: Vec::new(),
            segments: Vec::new(),
            usage: Usage::default(),
            ttft: None,
        }
    }

    /// When the request started (for the time to first token).
    pub fn started(&self) -> Instant {
        self.start
    }

    /// Every block shown so far, in order (what a continuation must carry on from).
    pub fn prior_blocks(&self) -> Vec<Block> {
        self.segments
            .iter()
            .flat_map(|s| s.blocks.iter().cloned())
            .collect()
    }

    /// Whether a complete tool call already went to the caller.
    pub fn has_tool_calls(&self) -> bool {
        self.segments
            .iter()
            .any(|s| s.blocks.iter().any(|b| matches!(b, Block::ToolUse { .. })))
    }

    /// Adds an attempt's usage and blocks (one segment per run of a model).
    pub fn add_output(&mut self, model: &ModelRef, usage: Usage, blocks: Vec<Block>) {
        self.usage.input_tokens += usage.input_tokens;
        self.usage.output_tokens += usage.output_tokens;
        push_segment(&mut self.segments, model, blocks);
    }

    /// The answer, finished by `model`.
    pub fn answer(
        self,
        model: ModelRef,
        degraded: bool,
        stop: StopReason,
        served_model: Option<String>,
    ) -> Answer {
        Answer {
            blocks: self.prior_blocks(),
            model,
            total_ms: self.start.elapsed().as_millis() as u64,
            segments: self.segments,
            attempts: self.attempts,
            usage: self.usage,
            ttft_ms: self.ttft,
            degraded,
            stop,
            served_model,
        }
    }

    /// The failure: every attempt, the partial text, and what the policy held back.
    pub fn failed(self, held_back: Option<HeldBack>) -> AllModelsFailed {
        AllModelsFailed {
            attempts: self.attempts,
            partial: self.segments,
            held_back,
        }
    }
}

/// Adds `blocks` written by `model` to an answer's segments: one segment per run of a model,
/// text appended to its last text block. The one segment builder, for the router's answers
/// and the chat's answer in progress.
pub fn push_segment(segments: &mut Vec<Segment>, model: &ModelRef, blocks: Vec<Block>) {
    if blocks.is_empty() {
        return;
    }
    match segments.last_mut() {
        Some(last) if last.model == *model => {
            for b in blocks {
                match (last.blocks.last_mut(), b) {
                    (Some(Block::Text { text: a, .. }), Block::Text { text: b, .. }) => {
                        a.push_str(&b);
                    }
                    (_, b) => last.blocks.push(b),
                }
            }
        }
        _ => segments.push(Segment {
            model: model.clone(),
            blocks,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_one_model_share_a_segment_and_text_merges() {
        let mut t = Tally::new();
        let a = ModelRef::parse("p/a").unwrap();
        let b = ModelRef::parse("p/b").unwrap();
        t.add_output(&a, Usage::default(), vec![Block::text("one ")]);
        t.add_output(&a, Usage::default(), vec![Block::text("two")]);
        t.add_output(&b, Usage::default(), vec![]);
        t.add_output(&b, Usage::default(), vec![Block::text(" three")]);
        assert_eq!(t.segments.len(), 2);
        assert_eq!(t.segments[0].text(), "one two");
        let ans = t.answer("p/b".into(), true, StopReason::EndTurn, None);
        assert_eq!(ans.text(), "one two three");
    }

    #[test]
    fn held_back_is_named_in_the_failure() {
        let t = Tally::new();
        let e = t.failed(Some(HeldBack {
            model: "openai/fallback".into(),
            tier: 1,
            policy: FallbackPolicy::Off,
        }));
        let msg = e.to_string();
        assert!(
            msg.contains("did not fall back to openai/fallback")
                && msg.contains("fallback = \"off\""),
            "{msg}"
        );
    }
}
