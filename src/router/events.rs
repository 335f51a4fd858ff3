//! What the router tells its caller while it works: [`RouterEvent`]s, in order, as the answer
//! streams (text, reasoning, complete tool calls) and as the router moves between models
//! (attempts, skips, retries, failovers, the first switch to a lower tier).

use std::time::Duration;

use crate::config::FallbackPolicy;
use crate::config::ModelRef;
use crate::conversation::fit::FitReport;
use crate::provider::{Block, ProviderError, Usage};

/// What happened while answering, in order, for live display.
#[derive(Clone, Debug)]
pub enum RouterEvent {
    /// A model is being called.
    Attempting {
        /// The model.
        model: ModelRef,
        /// Its position in the route (0 = primary).
        tier: usize,
    },
    /// A piece of answer text from `model`.
    Text {
        /// The model writing.
        model: ModelRef,
        /// The text.
        text: String,
    },
    /// A piece of `model`'s reasoning.
    Thinking {
        /// The model thinking.
        model: ModelRef,
        /// The text.
        text: String,
    },
    /// The signature of the thinking `model` is writing (replayed to its vendor only).
    ThinkingSignature {
        /// The model thinking.
        model: ModelRef,
        /// The signature piece.
        signature: String,
    },
    /// A provider-only block, whole (Anthropic `redacted_thinking`, server-tool blocks).
    Opaque {
        /// The model writing.
        model: ModelRef,
        /// The block as the vendor sent it.
        raw: serde_json::Value,
    },
    /// A complete tool call (its arguments parsed); never sent before it is complete.
    ToolUse {
        /// The model calling.
        model: ModelRef,
        /// The [`Block::ToolUse`].
        block: Block,
    },
    /// A model failed and the router is moving on.
    Failover {
        /// The model that failed.
        from: ModelRef,
        /// The next model, if any.
        to: Option<ModelRef>,
        /// Why.
        error: ProviderError,
        /// Whether answer text had already been shown (the next model continues it).
        mid_stream: bool,
    },
    /// A model was skipped without a call.
    Skipped {
        /// The model.
        model: ModelRef,
        /// Why (e.g. "circuit open until 14:03:10").
        reason: String,
    },
    /// The router waits and retries the same model once.
    Retrying {
        /// The model.
        model: ModelRef,
        /// How long it waits.
        after: Duration,
        /// Why.
        error: ProviderError,
    },
    /// A configuration problem (auth, permission, not found, bad request) that the user must fix.
    ConfigProblem {
        /// The model.
        model: ModelRef,
        /// The error.
        error: ProviderError,
    },
    /// The router is about to call a lower tier of the route (any model after the first) for
    /// the first time in this request, so the answer will not come only from the primary.
    /// Sent once per request, just before that model's `Attempting`. Callers make it loud
    /// when `policy` is `notify`.
    Degraded {
        /// The route's first model.
        primary: ModelRef,
        /// The lower-tier model about to be called.
        to: ModelRef,
        /// Its position in the route.
        tier: usize,
        /// The fallback policy in force.
        policy: FallbackPolicy,
    },
    /// The history did not fit `model`'s context window and was fitted before the call:
    /// trimmed to its last turns, or with the session's summary standing in for the rest.
    /// Sent before that model's first text; callers show [`FitReport::describe`].
    HistoryFitted {
        /// The model the request was fitted for.
        model: ModelRef,
        /// What fitting did.
        report: FitReport,
    },
    /// Reducing a history no summary covers on `model` itself before it answers: `done` of
    /// `of` chunks summarised (sent before the first chunk and after the last).
    Reducing {
        /// The model summarising.
        model: ModelRef,
        /// Chunks done.
        done: usize,
        /// Chunks in all.
        of: usize,
    },
    /// The reduction on `model` could not finish: the oldest turns are left out instead.
    ReduceFailed {
        /// The model.
        model: ModelRef,
        /// Why.
        why: String,
    },
    /// Usage reported by the model currently answering.
    Usage {
        /// The model.
        model: ModelRef,
        /// Cumulative usage of this attempt.
        usage: Usage,
    },
}

/// The line that says a model failed and who takes over, worded the same in `aiw ask` and
/// `aiw chat`: `X failed (529 overloaded); switched to Y`, `X failed mid-answer
/// (connection); Y continues it`, `X failed (...); no model left to try`. A model the user
/// skipped: `skipped X after 3.2s (you pressed F4); answering with Y`.
pub fn failover_line(
    from: &ModelRef,
    to: Option<&ModelRef>,
    error: &ProviderError,
    mid_stream: bool,
) -> String {
    if error.class == crate::provider::ErrorClass::Skipped {
        let how = &error.message;
        return match to {
            Some(to) if mid_stream => format!("skipped {from} {how}; {to} continues the answer"),
            Some(to) => format!("skipped {from} {how}; answering with {to}"),
            None => format!("skipped {from} {how}; no model left to try"),
        };
    }
    let why = error.brief();
    match to {
        Some(to) if mid_stream => format!("{from} failed mid-answer ({why}); {to} continues it"),
        Some(to) => format!("{from} failed ({why}); switched to {to}"),
        None => format!("{from} failed ({why}); no model left to try"),
    }
}
