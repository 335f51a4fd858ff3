//! Choosing among models: the failover loop over a route, per-model health (circuit breakers
//! with probes), the shared retry budget, offline detection, and the attempt journal.
//!
//! Callers (ask, chat, review) hand [`Router::run`] a route and a request, and get events as
//! the answer streams plus an [`Answer`] (or [`AllModelsFailed`] with every attempt) at the end.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::provider::{ChatRequest, ErrorClass, ModelRef, ProviderError, Usage};

/// How one attempt on one model ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The model answered completely.
    Ok,
    /// The model failed (see the error class).
    Failed,
    /// The model was not called: its breaker is open, or it already failed silently in this
    /// request, or its provider has no key.
    Skipped,
    /// The call was cancelled by the user.
    Cancelled,
}

/// One attempt, as reported in `--json`, the journal and failure messages.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attempt {
    /// `provider/model`.
    pub model: String,
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

/// A stretch of the answer written by one model (more than one after a mid-stream failover).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// `provider/model` that wrote it.
    pub model: String,
    /// The text.
    pub text: String,
}

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
    /// Usage reported by the model currently answering.
    Usage {
        /// The model.
        model: ModelRef,
        /// Cumulative usage of this attempt.
        usage: Usage,
    },
}

/// A complete answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Answer {
    /// The whole answer text (all segments joined).
    pub text: String,
    /// The model that finished the answer, `provider/model`.
    pub model: String,
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
    /// True when the model stopped at its token limit.
    pub truncated_by_limit: bool,
}

/// Nothing could answer; every attempt and why.
#[derive(Clone, Debug, thiserror::Error)]
#[error("no model could answer: {}", summarize(.attempts))]
pub struct AllModelsFailed {
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// Text shown before the last failure, if any (kept, marked partial).
    pub partial: Vec<Segment>,
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

/// Routes requests over models. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Router {
    settings: Arc<Settings>,
}

impl Router {
    /// Builds the router: one client per configured provider, health state loaded from the
    /// state dir.
    pub fn new(settings: Arc<Settings>) -> Self {
        Self { settings }
    }

    /// The settings this router runs with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Answers `req` with the first healthy model of `route`, failing over (also mid-stream)
    /// as needed. `on_event` sees every event as it happens; `cancel` stops the request.
    pub async fn run(
        &self,
        route: &[ModelRef],
        req: &ChatRequest,
        on_event: &mut (dyn FnMut(RouterEvent) + Send),
        cancel: &CancellationToken,
    ) -> Result<Answer, AllModelsFailed> {
        let _ = (route, req, on_event, cancel);
        Err(AllModelsFailed {
            attempts: Vec::new(),
            partial: Vec::new(),
        })
    }

    /// Current health of every model in `models`, for status displays.
    pub fn health(&self, models: &[ModelRef]) -> Vec<ModelHealth> {
        models
            .iter()
            .map(|m| ModelHealth {
                model: m.to_string(),
                state: HealthState::Unknown,
                last_error: None,
                last_error_at: None,
                median_ms: None,
                p95_ms: None,
                error_rate: 0.0,
                next_probe_at: None,
                open_until: None,
            })
            .collect()
    }
}

/// What the router knows about one model right now.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelHealth {
    /// `provider/model`.
    pub model: String,
    /// The state.
    pub state: HealthState,
    /// Class of the last error.
    pub last_error: Option<ErrorClass>,
    /// When it happened (RFC 3339).
    pub last_error_at: Option<String>,
    /// Median latency (time to first token) in the window.
    pub median_ms: Option<u64>,
    /// 95th percentile latency in the window.
    pub p95_ms: Option<u64>,
    /// Failure rate in the window.
    pub error_rate: f64,
    /// When the next probe is due (RFC 3339).
    pub next_probe_at: Option<String>,
    /// Open until (RFC 3339).
    pub open_until: Option<String>,
}

/// A model's health state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// No calls seen yet.
    Unknown,
    /// Answering normally.
    Healthy,
    /// Answering, but slow or with some errors.
    Degraded,
    /// Out of rotation until a probe succeeds.
    Open,
    /// A probe is in flight.
    Probing,
}
