//! Choosing among models: the failover loop over a route, per-model health (circuit breakers
//! with probes), the shared retry budget, offline detection, and the attempt journal.
//!
//! Callers (ask, chat, review) hand [`Router::run`] a route and a request, and get events as
//! the answer streams plus an [`Answer`] (or [`AllModelsFailed`] with every attempt) at the end.

pub mod health;
pub mod journal;
pub mod retry;
pub mod seam;
pub mod statuspage;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::conversation::{Assembler, text_of};
use crate::provider::{
    Block, ChatEvent, ChatRequest, Client, ErrorClass, Message, ModelRef, ProviderError,
    StopReason, Usage,
};
use health::{Availability, HealthStore, now_ms, rfc3339};
use journal::Journal;
use retry::RetryBudget;
use seam::SeamFilter;

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

/// A stretch of the answer written by one model (more than one after a mid-stream failover):
/// the blocks that model wrote, complete ones only.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "SegmentRecord")]
pub struct Segment {
    /// `provider/model` that wrote it.
    pub model: String,
    /// What it wrote: text, thinking, complete tool calls.
    pub blocks: Vec<Block>,
}

impl Segment {
    /// The segment's text.
    pub fn text(&self) -> String {
        text_of(&self.blocks)
    }
}

/// A segment as stored: sessions written before content blocks hold `text` instead of
/// `blocks`, and still load.
#[derive(Deserialize)]
struct SegmentRecord {
    model: String,
    #[serde(default)]
    blocks: Option<Vec<Block>>,
    #[serde(default)]
    text: Option<String>,
}

impl From<SegmentRecord> for Segment {
    fn from(r: SegmentRecord) -> Self {
        let blocks = match (r.blocks, r.text) {
            (Some(b), _) => b,
            (None, Some(t)) if !t.is_empty() => vec![Block::text(t)],
            (None, _) => Vec::new(),
        };
        Self {
            model: r.model,
            blocks,
        }
    }
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
    /// The whole answer: every segment's blocks in order.
    pub blocks: Vec<Block>,
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
    inner: Arc<Inner>,
}

struct Inner {
    settings: Arc<Settings>,
    http: reqwest::Client,
    clients: BTreeMap<String, Client>,
    health: HealthStore,
    journal: Journal,
    budget: RetryBudget,
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// The message the next model gets when it must continue an answer another model started.
pub const CONTINUE_PROMPT: &str = "[aiw] Your previous reply above was cut off mid-stream because the model writing it failed. Continue it from exactly where it stops: do not repeat any of it, do not start over and do not mention the interruption. Output only the rest of the reply.";

/// What a successful attempt produced.
struct AttemptOk {
    blocks: Vec<Block>,
    usage: Usage,
    stop: StopReason,
    ttft_ms: Option<u64>,
    served_model: Option<String>,
}

/// What a failed attempt produced before failing: its complete blocks (a tool call cut
/// inside its arguments is not among them).
struct AttemptErr {
    error: ProviderError,
    blocks: Vec<Block>,
    usage: Usage,
    ttft_ms: Option<u64>,
}

impl Router {
    /// Builds the router: one client per configured provider (sharing one HTTP connection
    /// pool) and the health state shared with other aiw processes through the state dir.
    pub fn new(settings: Arc<Settings>) -> Result<Self, ProviderError> {
        let health = HealthStore::open(&settings.paths.state_dir);
        let journal = Journal::open(&settings.paths.state_dir);
        Self::with_parts(settings, health, journal)
    }

    /// Builds a router with explicit health and journal stores (tests).
    pub fn with_parts(
        settings: Arc<Settings>,
        health: HealthStore,
        journal: Journal,
    ) -> Result<Self, ProviderError> {
        let http = crate::provider::http::client(settings.timeouts.connect)?;
        let clients = settings
            .providers
            .iter()
            .map(|(name, p)| {
                (
                    name.clone(),
                    Client::new(p, &http, &settings.paths.data_dir),
                )
            })
            .collect();
        let budget = RetryBudget::new(settings.health.retry_budget_per_minute);
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                http,
                clients,
                health,
                journal,
                budget,
                background: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The settings this router runs with.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Waits for background probes and status-page checks started by this process (one-shot
    /// commands call this before exiting so a due probe still completes), at most `limit`.
    pub async fn finish_background(&self, limit: Duration) {
        let handles: Vec<_> = self
            .inner
            .background
            .lock()
            .map(|mut v| v.drain(..).collect())
            .unwrap_or_default();
        let all = futures_util::future::join_all(handles);
        let _ = tokio::time::timeout(limit, all).await;
    }

    fn spawn_background(&self, fut: impl std::future::Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(fut);
        if let Ok(mut v) = self.inner.background.lock() {
            v.retain(|h| !h.is_finished());
            v.push(handle);
        }
    }

    /// Route order after status-page hints: remote models of a provider whose status page
    /// reports a major outage move behind the other remote models (never behind local ones).
    fn ordered(&self, route: &[ModelRef]) -> Vec<ModelRef> {
        let s = &self.inner.settings;
        let snapshot = self.inner.health.snapshot();
        for m in route {
            if let Some(url) = s.provider(m).and_then(|p| p.status_page.clone()) {
                let (http, router, provider) =
                    (self.inner.http.clone(), self.clone(), m.provider.clone());
                let interval = s.health.status_page_interval;
                self.spawn_background(async move {
                    statuspage::refresh(&http, &router.inner.health, &provider, &url, interval)
                        .await;
                });
            }
        }
        let hinted = |m: &ModelRef| {
            snapshot
                .status_pages
                .get(&m.provider)
                .is_some_and(|h| h.major_outage)
        };
        let is_local = |m: &ModelRef| {
            self.inner
                .clients
                .get(&m.provider)
                .is_some_and(Client::is_local)
        };
        let mut out: Vec<ModelRef> = route
            .iter()
            .filter(|m| !is_local(m) && !hinted(m))
            .cloned()
            .collect();
        out.extend(route.iter().filter(|m| !is_local(m) && hinted(m)).cloned());
        out.extend(route.iter().filter(|m| is_local(m)).cloned());
        out
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
        let start = Instant::now();
        let candidates = self.ordered(route);
        let mut attempts: Vec<Attempt> = Vec::new();
        let mut segments: Vec<Segment> = Vec::new();
        let mut usage = Usage::default();
        let mut ttft: Option<u64> = None;
        let mut skipped_open: Vec<ModelRef> = Vec::new();
        let mut unreachable: Vec<String> = Vec::new();
        let mut prewarmed = false;

        for pass in 0..2 {
            for (idx, model) in candidates.iter().enumerate() {
                if cancel.is_cancelled() || start.elapsed() >= self.inner.settings.timeouts.total {
                    // Cancelled, or `[timeouts] total` is spent: it bounds the whole call.
                    return Err(AllModelsFailed {
                        attempts,
                        partial: segments,
                    });
                }
                if pass == 1 && !skipped_open.contains(model) {
                    continue;
                }
                let tier = route.iter().position(|m| m == model).unwrap_or(idx);
                let Some((provider, client)) = self
                    .inner
                    .settings
                    .provider(model)
                    .zip(self.inner.clients.get(&model.provider))
                else {
                    continue;
                };
                if !provider.is_usable() {
                    let error = ProviderError::new(
                        ErrorClass::Auth,
                        format!("no API key: set {}", provider.api_key_env.join(" or ")),
                    );
                    on_event(RouterEvent::ConfigProblem {
                        model: model.clone(),
                        error: error.clone(),
                    });
                    attempts.push(Attempt::skipped(model, Some(&error)));
                    continue;
                }
                if unreachable.contains(&model.provider) {
                    let reason = "its provider is unreachable (network)".to_string();
                    on_event(RouterEvent::Skipped {
                        model: model.clone(),
                        reason: reason.clone(),
                    });
                    attempts.push(Attempt::skipped_because(
                        model,
                        ErrorClass::Connection,
                        reason,
                    ));
                    continue;
                }
                if pass == 0 && !client.is_local() {
                    let key = model.to_string();
                    match self.inner.health.get(&key).availability(now_ms()) {
                        Availability::Available => {}
                        Availability::Open { until, reason } => {
                            let reason =
                                format!("out of rotation until {} ({reason})", clock(until));
                            on_event(RouterEvent::Skipped {
                                model: model.clone(),
                                reason: reason.clone(),
                            });
                            attempts.push(Attempt::skipped_because(
                                model,
                                ErrorClass::Unavailable,
                                reason,
                            ));
                            skipped_open.push(model.clone());
                            continue;
                        }
                        Availability::ProbeDue { in_flight } => {
                            if !in_flight {
                                self.start_probe(model.clone());
                            }
                            let reason = "recovering: a probe must succeed before traffic returns"
                                .to_string();
                            on_event(RouterEvent::Skipped {
                                model: model.clone(),
                                reason: reason.clone(),
                            });
                            attempts.push(Attempt::skipped_because(
                                model,
                                ErrorClass::Unavailable,
                                reason,
                            ));
                            skipped_open.push(model.clone());
                            continue;
                        }
                    }
                }
                if !prewarmed && idx > 0 && !client.is_local() {
                    prewarmed = true;
                    self.prewarm_local(&candidates);
                }

                let mut retried = false;
                loop {
                    on_event(RouterEvent::Attempting {
                        model: model.clone(),
                        tier,
                    });
                    let prior: Vec<Block> = segments
                        .iter()
                        .flat_map(|s| s.blocks.iter().cloned())
                        .collect();
                    let request = if prior.is_empty() {
                        std::borrow::Cow::Borrowed(req)
                    } else {
                        std::borrow::Cow::Owned(continuation(req, &prior))
                    };
                    let prior = text_of(&prior);
                    let attempt_start = Instant::now();
                    let result = self
                        .attempt(
                            model, client, &request, &prior, on_event, cancel, start, &mut ttft,
                        )
                        .await;
                    let ms = attempt_start.elapsed().as_millis() as u64;
                    match result {
                        Ok(ok) => {
                            usage.input_tokens += ok.usage.input_tokens;
                            usage.output_tokens += ok.usage.output_tokens;
                            let chars = text_of(&ok.blocks).chars().count();
                            push_segment(&mut segments, model, ok.blocks);
                            let attempt = Attempt {
                                ttft_ms: ok.ttft_ms,
                                ms,
                                chars,
                                ..Attempt::new(model, Outcome::Ok, None)
                            };
                            self.inner.journal.record(&attempt, Some(ok.usage), false);
                            attempts.push(attempt);
                            if !client.is_local() {
                                let cfg = self.inner.settings.health.clone();
                                self.inner.health.update_model(&model.to_string(), |r| {
                                    r.record_success(now_ms(), ok.ttft_ms, &cfg);
                                });
                            }
                            let degraded = route.first() != Some(model) || segments.len() > 1;
                            return Ok(Answer {
                                blocks: segments
                                    .iter()
                                    .flat_map(|s| s.blocks.iter().cloned())
                                    .collect(),
                                model: model.to_string(),
                                segments,
                                attempts,
                                usage,
                                ttft_ms: ttft,
                                total_ms: start.elapsed().as_millis() as u64,
                                degraded,
                                stop: ok.stop,
                                served_model: ok.served_model,
                            });
                        }
                        Err(failed) => {
                            usage.input_tokens += failed.usage.input_tokens;
                            usage.output_tokens += failed.usage.output_tokens;
                            let error = failed.error;
                            let chars = text_of(&failed.blocks).chars().count();
                            let shown = !failed.blocks.is_empty();
                            push_segment(&mut segments, model, failed.blocks);
                            let outcome = if error.class == ErrorClass::Cancelled {
                                Outcome::Cancelled
                            } else {
                                Outcome::Failed
                            };
                            let attempt = Attempt {
                                ttft_ms: failed.ttft_ms,
                                ms,
                                chars,
                                ..Attempt::new(model, outcome, Some(&error))
                            };
                            self.inner
                                .journal
                                .record(&attempt, Some(failed.usage), false);
                            attempts.push(attempt);
                            if outcome == Outcome::Cancelled {
                                return Err(AllModelsFailed {
                                    attempts,
                                    partial: segments,
                                });
                            }
                            if !client.is_local() {
                                let cfg = self.inner.settings.health.clone();
                                self.inner.health.update_model(&model.to_string(), |r| {
                                    r.record_failure(now_ms(), &error, &cfg);
                                });
                            }
                            if error.class.is_config_problem() {
                                on_event(RouterEvent::ConfigProblem {
                                    model: model.clone(),
                                    error: error.clone(),
                                });
                            }
                            // Complete tool calls already went to the caller: the turn cannot
                            // be continued by another model (a call must be answered by its
                            // result first), so it ends here, waiting for those results. A
                            // call cut inside its arguments was never sent.
                            if segments.iter().any(|s| {
                                s.blocks.iter().any(|b| matches!(b, Block::ToolUse { .. }))
                            }) {
                                let last = segments
                                    .last()
                                    .map_or_else(|| model.to_string(), |s| s.model.clone());
                                return Ok(Answer {
                                    blocks: segments
                                        .iter()
                                        .flat_map(|s| s.blocks.iter().cloned())
                                        .collect(),
                                    model: last,
                                    segments,
                                    attempts,
                                    usage,
                                    ttft_ms: ttft,
                                    total_ms: start.elapsed().as_millis() as u64,
                                    degraded: true,
                                    stop: StopReason::ToolUse,
                                    served_model: None,
                                });
                            }
                            let rest = &candidates[idx + 1..];
                            let next_remote = rest.iter().find(|m| {
                                !self
                                    .inner
                                    .clients
                                    .get(&m.provider)
                                    .is_some_and(Client::is_local)
                            });
                            // One quick retry on the same model, only when the alternative is the
                            // local tier or nothing, the error is one a retry can fix, nothing was
                            // shown yet, and the process-wide budget allows it.
                            if !retried && !shown && next_remote.is_none() && error.is_retryable() {
                                let hint = error.retry_after;
                                let wait_ok = hint
                                    .is_none_or(|h| h <= self.inner.settings.health.max_retry_wait);
                                if wait_ok
                                    && (error.class != ErrorClass::RateLimited || hint.is_some())
                                    && self.inner.budget.try_take()
                                {
                                    let after = retry::quick_retry_delay(hint);
                                    on_event(RouterEvent::Retrying {
                                        model: model.clone(),
                                        after,
                                        error: error.clone(),
                                    });
                                    tokio::select! {
                                        () = tokio::time::sleep(after) => {}
                                        () = cancel.cancelled() => {
                                            return Err(AllModelsFailed { attempts, partial: segments });
                                        }
                                    }
                                    retried = true;
                                    continue;
                                }
                            }
                            if error.class.is_network() && !client.is_local() {
                                unreachable = self.unreachable_providers(model, rest).await;
                            }
                            let to = rest
                                .iter()
                                .find(|m| !unreachable.contains(&m.provider))
                                .cloned();
                            on_event(RouterEvent::Failover {
                                from: model.clone(),
                                to,
                                error,
                                mid_stream: shown || !prior.is_empty(),
                            });
                            break;
                        }
                    }
                }
            }
            if skipped_open.is_empty() {
                break;
            }
        }
        Err(AllModelsFailed {
            attempts,
            partial: segments,
        })
    }

    /// One call to one model with the first-token, stall and total timeouts applied. Text is
    /// passed on as it arrives (through the seam filter when it continues `prior`); a tool
    /// call only once its arguments are complete.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        model: &ModelRef,
        client: &Client,
        req: &ChatRequest,
        prior: &str,
        on_event: &mut (dyn FnMut(RouterEvent) + Send),
        cancel: &CancellationToken,
        request_start: Instant,
        ttft: &mut Option<u64>,
    ) -> Result<AttemptOk, AttemptErr> {
        let mut t = self.inner.settings.timeouts;
        if client.is_local() {
            // The local model is the last resort and is never silent the way a network peer
            // is: loading a big model may take longer than any first-token limit meant for
            // remote providers. Only the total timeout applies.
            t.first_token = t.total;
            t.stall = t.total;
        }
        let started = Instant::now();
        let first_deadline = started + t.first_token;
        let total_deadline = request_start + t.total;
        let mut out = AttemptOut {
            asm: Assembler::new(client.vendor(&model.model)),
            seam: SeamFilter::new(prior),
            usage: Usage::default(),
            ttft: None,
        };

        let opened = tokio::select! {
            r = tokio::time::timeout_at(first_deadline.min(total_deadline).into(), client.stream(&model.model, req)) => r,
            () = cancel.cancelled() => {
                return Err(out.fail(ProviderError::new(ErrorClass::Cancelled, "cancelled"), model, on_event));
            }
        };
        let mut stream = match opened {
            Err(_) => {
                // The whole call's `total` may end before this model's first-token limit.
                let (class, limit) = if total_deadline <= first_deadline {
                    (ErrorClass::TotalTimeout, t.total)
                } else {
                    (ErrorClass::FirstTokenTimeout, t.first_token)
                };
                return Err(out.fail(timeout_error(class, limit), model, on_event));
            }
            Ok(Err(e)) => return Err(out.fail(e, model, on_event)),
            Ok(Ok(s)) => crate::provider::bounds::bound(s, self.inner.settings.limits.answer_bytes),
        };
        let mut served_model = None;
        loop {
            let (deadline, class, limit) = if out.ttft.is_none() {
                (first_deadline, ErrorClass::FirstTokenTimeout, t.first_token)
            } else {
                (Instant::now() + t.stall, ErrorClass::StallTimeout, t.stall)
            };
            let (deadline, class, limit) = if total_deadline < deadline {
                (total_deadline, ErrorClass::TotalTimeout, t.total)
            } else {
                (deadline, class, limit)
            };
            let next = tokio::select! {
                r = tokio::time::timeout_at(deadline.into(), stream.next()) => r,
                () = cancel.cancelled() => {
                    return Err(out.fail(ProviderError::new(ErrorClass::Cancelled, "cancelled"), model, on_event));
                }
            };
            let ev = match next {
                Err(_) => return Err(out.fail(timeout_error(class, limit), model, on_event)),
                Ok(None) => {
                    let e = ProviderError::new(
                        ErrorClass::Truncated,
                        "the stream ended without the provider's final event",
                    );
                    return Err(out.fail(e, model, on_event));
                }
                Ok(Some(Err(e))) => return Err(out.fail(e, model, on_event)),
                Ok(Some(Ok(ev))) => ev,
            };
            let content = matches!(
                ev,
                ChatEvent::Text(_)
                    | ChatEvent::Thinking(_)
                    | ChatEvent::ToolCallStart { .. }
                    | ChatEvent::ToolCallArgs { .. }
                    | ChatEvent::Opaque(_)
            );
            if content && out.ttft.is_none() && !matches!(&ev, ChatEvent::Text(t) if t.is_empty()) {
                out.ttft = Some(started.elapsed().as_millis() as u64);
                if ttft.is_none() {
                    *ttft = Some(request_start.elapsed().as_millis() as u64);
                }
            }
            match ev {
                ChatEvent::Started { model } => served_model = model,
                ChatEvent::Text(piece) => {
                    let shown = out.seam.push(&piece);
                    out.text(shown, model, on_event);
                }
                ChatEvent::Usage(u) => {
                    out.usage = u;
                    on_event(RouterEvent::Usage {
                        model: model.clone(),
                        usage: u,
                    });
                }
                ChatEvent::Done { stop } => {
                    out.flush_seam(model, on_event);
                    let mut stop = stop;
                    if out.asm.has_open_call() {
                        match out.asm.finish_open_calls() {
                            Ok(calls) => {
                                for block in calls {
                                    on_event(RouterEvent::ToolUse {
                                        model: model.clone(),
                                        block,
                                    });
                                }
                                stop = StopReason::ToolUse;
                            }
                            Err(e) => return Err(out.fail(malformed_call(&e), model, on_event)),
                        }
                    }
                    return Ok(AttemptOk {
                        blocks: out.asm.blocks(),
                        usage: out.usage,
                        stop,
                        ttft_ms: out.ttft,
                        served_model,
                    });
                }
                other => {
                    // Reasoning, tool calls and provider blocks: the seam's held-back text
                    // goes first, so blocks keep their order.
                    out.flush_seam(model, on_event);
                    match &other {
                        ChatEvent::Thinking(text) => on_event(RouterEvent::Thinking {
                            model: model.clone(),
                            text: text.clone(),
                        }),
                        ChatEvent::ThinkingSignature(signature) => {
                            on_event(RouterEvent::ThinkingSignature {
                                model: model.clone(),
                                signature: signature.clone(),
                            });
                        }
                        ChatEvent::Opaque(raw) => on_event(RouterEvent::Opaque {
                            model: model.clone(),
                            raw: raw.clone(),
                        }),
                        _ => {}
                    }
                    match out.asm.push(&other) {
                        Ok(Some(block)) => on_event(RouterEvent::ToolUse {
                            model: model.clone(),
                            block,
                        }),
                        Ok(None) => {}
                        Err(e) => return Err(out.fail(malformed_call(&e), model, on_event)),
                    }
                }
            }
        }
    }

    /// After a network failure: checks in parallel whether the other remote providers of the
    /// route can be reached at all (a TCP connect, bounded by the connect timeout and 2 s), so
    /// an offline machine goes straight to the local tier instead of paying every provider's
    /// timeout. Returns the unreachable provider names; if none is reachable, every remote
    /// model is taken out of rotation at once.
    async fn unreachable_providers(&self, failed: &ModelRef, rest: &[ModelRef]) -> Vec<String> {
        let s = &self.inner.settings;
        let mut providers: Vec<String> = vec![failed.provider.clone()];
        for m in rest {
            if !providers.contains(&m.provider)
                && !self
                    .inner
                    .clients
                    .get(&m.provider)
                    .is_some_and(Client::is_local)
            {
                providers.push(m.provider.clone());
            }
        }
        let limit = s.timeouts.connect.min(Duration::from_secs(2));
        let checks = providers.iter().map(|name| {
            let url = s
                .providers
                .get(name)
                .map(|p| p.base_url.clone())
                .unwrap_or_default();
            async move {
                (
                    name.clone(),
                    tokio::time::timeout(limit, reachable(&url))
                        .await
                        .unwrap_or(false),
                )
            }
        });
        let results = futures_util::future::join_all(checks).await;
        let down: Vec<String> = results
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(n, _)| n.clone())
            .collect();
        if down.len() == results.len() {
            tracing::warn!("no remote provider is reachable: treating the machine as offline");
            let cfg = s.health.clone();
            let err = ProviderError::new(
                ErrorClass::ConnectTimeout,
                "offline: no remote provider reachable",
            );
            for m in s.all_route_models() {
                if down.contains(&m.provider) {
                    self.inner.health.update_model(&m.to_string(), |r| {
                        if r.open_until.is_none() {
                            r.record_probe_failure(now_ms(), &err, &cfg);
                        }
                    });
                }
            }
        }
        // The provider that just failed stays eligible for its other models only if reachable.
        down
    }

    fn prewarm_local(&self, candidates: &[ModelRef]) {
        for m in candidates {
            if let Some(Client::Local(c)) = self.inner.clients.get(&m.provider) {
                c.prewarm(&m.model);
            }
        }
    }

    /// Starts a background probe of a model whose open period is over, unless another process
    /// or task already holds the probe lease.
    fn start_probe(&self, model: ModelRef) {
        let key = model.to_string();
        let lease = self.inner.settings.health.probe_timeout.as_millis() as u64 + 1000;
        let claimed = self.inner.health.update_model(&key, |r| {
            let now = now_ms();
            if r.probing_until.is_some_and(|p| p > now) {
                false
            } else {
                r.probing_until = Some(now + lease);
                true
            }
        });
        if !claimed {
            return;
        }
        let router = self.clone();
        self.spawn_background(async move {
            let _ = router.probe(&model).await;
        });
    }

    /// Probes one model now (a 1-token request) and records the result. Returns it.
    pub async fn probe(&self, model: &ModelRef) -> Result<u64, ProviderError> {
        let Some(client) = self.inner.clients.get(&model.provider) else {
            return Err(ProviderError::new(
                ErrorClass::NotFound,
                format!("provider `{}` is not configured", model.provider),
            ));
        };
        let req = ChatRequest {
            max_tokens: Some(1),
            ..ChatRequest::user("ping")
        };
        let start = Instant::now();
        let limit = self.inner.settings.health.probe_timeout;
        let result = tokio::time::timeout(limit, async {
            let mut stream = client.stream(&model.model, &req).await?;
            while let Some(ev) = stream.next().await {
                if let ChatEvent::Done { .. } = ev? {
                    return Ok(());
                }
            }
            Err(ProviderError::new(
                ErrorClass::Truncated,
                "the probe's stream ended without the final event",
            ))
        })
        .await
        .unwrap_or_else(|_| Err(timeout_error(ErrorClass::FirstTokenTimeout, limit)));
        let ms = start.elapsed().as_millis() as u64;
        let cfg = self.inner.settings.health.clone();
        let key = model.to_string();
        let outcome = if result.is_ok() {
            Outcome::Ok
        } else {
            Outcome::Failed
        };
        let attempt = Attempt {
            ttft_ms: result.is_ok().then_some(ms),
            ms,
            ..Attempt::new(model, outcome, result.as_ref().err())
        };
        self.inner.journal.record(&attempt, None, true);
        if !client.is_local() {
            match &result {
                Ok(()) => self
                    .inner
                    .health
                    .update_model(&key, |r| r.record_success(now_ms(), None, &cfg)),
                Err(e) if e.class.marks_unhealthy() || e.class == ErrorClass::RateLimited => {
                    self.inner
                        .health
                        .update_model(&key, |r| r.record_probe_failure(now_ms(), e, &cfg));
                }
                Err(e) => self.inner.health.update_model(&key, |r| {
                    // A configuration problem says nothing about capacity: let traffic decide.
                    r.last_error = Some(e.class);
                    r.probing_until = None;
                }),
            }
        }
        result.map(|()| ms)
    }

    /// Current health of every model in `models`, for status displays.
    pub fn health(&self, models: &[ModelRef]) -> Vec<ModelHealth> {
        let now = now_ms();
        let snapshot = self.inner.health.snapshot();
        models
            .iter()
            .map(|m| {
                let key = m.to_string();
                let mut r = snapshot.models.get(&key).cloned().unwrap_or_default();
                let local = self
                    .inner
                    .clients
                    .get(&m.provider)
                    .is_some_and(Client::is_local);
                let mut note = None;
                if let Some(Client::Local(c)) = self.inner.clients.get(&m.provider)
                    && let Err(e) = c.ready(&m.model)
                {
                    // Not installed, damaged, or not built in: it cannot answer at all.
                    r.open_until = Some(u64::MAX);
                    r.last_error = Some(e.class);
                    note = Some(e.message);
                }
                let (median, p95) = r.latency();
                let state = match r.availability(now) {
                    Availability::Open { .. } | Availability::ProbeDue { in_flight: false } => {
                        HealthState::Open
                    }
                    Availability::ProbeDue { in_flight: true } => HealthState::Probing,
                    Availability::Available if local => HealthState::Healthy,
                    Availability::Available if r.samples.is_empty() && r.last_ok_at.is_none() => {
                        HealthState::Unknown
                    }
                    Availability::Available => {
                        let slow = median
                            .zip(r.baseline_ms)
                            .is_some_and(|(m, b)| m as f64 > 2.0 * b);
                        if r.error_rate() > 0.0 || slow || r.consecutive_failures > 0 {
                            HealthState::Degraded
                        } else {
                            HealthState::Healthy
                        }
                    }
                };
                let next_probe = match r.availability(now) {
                    Availability::Open { until, .. } => Some(rfc3339(until)),
                    Availability::ProbeDue { .. } => Some(rfc3339(now)),
                    Availability::Available => None,
                };
                ModelHealth {
                    model: key,
                    state,
                    last_error: r.last_error,
                    last_error_at: r.last_error_at.map(rfc3339),
                    median_ms: median,
                    p95_ms: p95,
                    error_rate: r.error_rate(),
                    next_probe_at: if note.is_some() { None } else { next_probe },
                    open_until: r
                        .open_until
                        .filter(|u| *u > now && *u != u64::MAX)
                        .map(rfc3339),
                    note,
                }
            })
            .collect()
    }
}

/// Whether a TCP connection to the URL's host can be opened.
async fn reachable(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    // Behind a proxy, a direct connection proves nothing (and usually fails): leave the
    // verdict to the real requests rather than declaring the machine offline. Loopback
    // never goes through the proxy (see provider::http::client), so it is checked directly.
    let proxy_vars: &[&str] = if u.scheme() == "https" {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let loopback = matches!(
        u.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    if !loopback
        && proxy_vars
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    {
        return true;
    }
    let Some(host) = u.host_str() else {
        return false;
    };
    let port = u.port_or_known_default().unwrap_or(443);
    tokio::net::TcpStream::connect((host, port)).await.is_ok()
}

fn timeout_error(class: ErrorClass, limit: Duration) -> ProviderError {
    let what = match class {
        ErrorClass::FirstTokenTimeout => "no first token",
        ErrorClass::StallTimeout => "the stream stalled: no data",
        ErrorClass::TotalTimeout => {
            "answer cut at the total time limit ([timeouts] total): not finished"
        }
        _ => "no answer",
    };
    ProviderError::new(
        class,
        format!("{what} within {}", humantime::format_duration(limit)),
    )
}

/// What one attempt has produced so far.
struct AttemptOut {
    asm: Assembler,
    seam: SeamFilter,
    usage: Usage,
    ttft: Option<u64>,
}

impl AttemptOut {
    /// Passes shown text on and into the answer.
    fn text(
        &mut self,
        shown: String,
        model: &ModelRef,
        on_event: &mut (dyn FnMut(RouterEvent) + Send),
    ) {
        if shown.is_empty() {
            return;
        }
        // Text events cannot fail to assemble.
        let _ = self.asm.push(&ChatEvent::Text(shown.clone()));
        on_event(RouterEvent::Text {
            model: model.clone(),
            text: shown,
        });
    }

    /// Releases text the seam filter held back.
    fn flush_seam(&mut self, model: &ModelRef, on_event: &mut (dyn FnMut(RouterEvent) + Send)) {
        let rest = self.seam.finish();
        self.text(rest, model, on_event);
    }

    /// The failed attempt's result: its complete blocks, the held-back text included.
    fn fail(
        mut self,
        error: ProviderError,
        model: &ModelRef,
        on_event: &mut (dyn FnMut(RouterEvent) + Send),
    ) -> AttemptErr {
        if error.class == ErrorClass::Cancelled {
            // Kept in the record, not shown: the user stopped the answer.
            let rest = self.seam.finish();
            if !rest.is_empty() {
                let _ = self.asm.push(&ChatEvent::Text(rest));
            }
        } else {
            self.flush_seam(model, on_event);
        }
        AttemptErr {
            error,
            blocks: self.asm.blocks(),
            usage: self.usage,
            ttft_ms: self.ttft,
        }
    }
}

/// A tool call whose arguments are not a JSON object: the stream is as broken as a cut one.
fn malformed_call(e: &crate::conversation::AssembleError) -> ProviderError {
    ProviderError::new(ErrorClass::MalformedStream, e.to_string())
}

/// Adds `blocks` written by `model` to the answer's segments (one segment per run of a model).
fn push_segment(segments: &mut Vec<Segment>, model: &ModelRef, blocks: Vec<Block>) {
    if blocks.is_empty() {
        return;
    }
    let name = model.to_string();
    match segments.last_mut() {
        Some(last) if last.model == name => {
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
            model: name,
            blocks,
        }),
    }
}

/// The request for a model that continues a cut-off answer: the partial answer (its text; the
/// cut model's reasoning is not the next model's) is carried as conversation state, an
/// assistant turn followed by an instruction, not as a prefill.
pub fn continuation(req: &ChatRequest, prior: &[Block]) -> ChatRequest {
    let mut r = req.clone();
    r.messages.push(Message::assistant(text_of(prior)));
    r.messages.push(Message::user(CONTINUE_PROMPT));
    r
}

fn clock(ms: u64) -> String {
    let s = rfc3339(ms);
    s.get(11..19).map_or(s.clone(), str::to_string)
}

impl Attempt {
    /// An attempt on `model` that ended with `outcome` (and `error`, if it failed); timings
    /// and size start at zero.
    fn new(model: &ModelRef, outcome: Outcome, error: Option<&ProviderError>) -> Self {
        Self {
            model: model.to_string(),
            outcome,
            error_class: error.map(|e| e.class),
            error: error.map(|e| e.message.clone()),
            status: error.and_then(|e| e.status),
            ttft_ms: None,
            ms: 0,
            chars: 0,
        }
    }

    fn skipped(model: &ModelRef, error: Option<&ProviderError>) -> Self {
        Self::new(model, Outcome::Skipped, error)
    }

    fn skipped_because(model: &ModelRef, class: ErrorClass, reason: String) -> Self {
        Self::new(
            model,
            Outcome::Skipped,
            Some(&ProviderError::new(class, reason)),
        )
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
    /// Why the model cannot answer at all, when that is known without a call (a local model
    /// that is not installed or not built in).
    pub note: Option<String>,
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
