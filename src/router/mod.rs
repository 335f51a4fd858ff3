//! Choosing among models. Callers (ask, chat, review) hand [`Router::run`] a route and a
//! request, and get events as the answer streams plus an [`Answer`] (or [`AllModelsFailed`]
//! with every attempt) at the end.
//!
//! Where things are, in the order a request meets them:
//! - `plan`: which models may be tried, in what order (status-page hints, the local tier
//!   last, the fallback policy's cut), and the per-model gate (breaker, provider hints);
//! - `failover`: the attempt loop over the plan (retries, waits, failover, last resort);
//! - `call`: one streamed call to one model with its tier's timeouts;
//! - `skip`: the user's per-request "skip this silent model now" signal;
//! - `continuation` and `seam`: carrying on an answer another model started;
//! - `quality`: the tripwire for 200-but-bad answers;
//! - `reduce`: multi-pass reduction of a history on the local model when no summary is ready;
//! - `answer`: the accounting and the result types; `events`: what callers see live;
//! - `health` (the shared state file), `probe`, `offline`, `statuspage`, `snapshot` (status
//!   displays), `journal` (one line per attempt);
//! - `tier` (remote vs local policy), `retry` (the only backoff and retry budget), `clock`
//!   (real or virtual time, so breaker tests never sleep).

pub mod answer;
mod call;
pub mod clock;
pub mod continuation;
pub mod drill;
pub mod events;
mod failover;
pub mod fleet;
pub mod health;
pub mod journal;
mod offline;
mod plan;
mod probe;
mod quality;
pub mod reduce;
pub mod retry;
pub mod seam;
mod skip;
pub mod snapshot;
pub mod statuspage;
pub mod tier;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

pub use answer::{AllModelsFailed, Answer, Attempt, HeldBack, Outcome, Segment, push_segment};
pub use clock::Clock;
pub use continuation::{CONTINUE_PROMPT, continuation};
pub use events::{RouterEvent, failover_line};
pub use skip::SkipSignal;
pub use snapshot::{HealthState, ModelHealth};

pub use crate::config::FallbackPolicy;
use crate::config::ModelRef;
use crate::config::Settings;
use crate::provider::{ChatRequest, Client, ProviderError};
use health::HealthStore;
use journal::Journal;
use retry::RetryBudget;

/// Routes requests over models. Cheap to clone; share one per process.
#[derive(Clone)]
pub struct Router {
    inner: Arc<Inner>,
    /// How this handle falls back to lower tiers ([`Router::with_fallback`]).
    fallback: FallbackPolicy,
}

struct Inner {
    settings: Arc<Settings>,
    http: reqwest::Client,
    clients: BTreeMap<String, Client>,
    health: HealthStore,
    journal: Journal,
    budget: RetryBudget,
    clock: Clock,
    background: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    /// The outage drill in force: its models are never called.
    drill: Option<drill::Drill>,
    /// `[health] min_eval_score` and the stored eval scores it is held against.
    eval_floor: Option<(f64, crate::eval::Scores)>,
}

impl Router {
    /// Builds the router: one client per configured provider (sharing one HTTP connection
    /// pool) and the health state shared with other aiw processes through the state dir.
    /// Fails only when the HTTP client cannot be built (its TLS or proxy settings).
    /// During an outage drill (`aiw drill`) the health state and journal are the drill's
    /// copies and no fleet store is shared.
    pub fn new(settings: Arc<Settings>) -> Result<Self, ProviderError> {
        let state_dir = &settings.paths.state_dir;
        let drill = drill::Drill::active(state_dir, Clock::system().now_ms());
        let health_dir = drill
            .as_ref()
            .map_or(state_dir.as_path(), |d| d.dir.as_path());
        let mut health = HealthStore::open(health_dir);
        if let Some(url) = settings.health.store.as_ref().filter(|_| drill.is_none()) {
            match fleet::Fleet::new(url, fleet::CALL_TIMEOUT, fleet::ttl(&settings.health)) {
                Ok(f) => health = health.with_fleet(f),
                Err(e) => crate::output::warn(&e),
            }
        }
        let journal = Journal::open(health_dir);
        let eval_floor = settings
            .health
            .min_eval_score
            .map(|min| (min, crate::eval::Scores::load(state_dir)));
        let mut router = Self::with_parts(settings, health, journal)?;
        if let Some(inner) = Arc::get_mut(&mut router.inner) {
            inner.drill = drill;
            inner.eval_floor = eval_floor;
        }
        Ok(router)
    }

    /// The outage drill this router runs under, if any.
    pub fn drill(&self) -> Option<&drill::Drill> {
        self.inner.drill.as_ref()
    }

    /// Builds a router with explicit health and journal stores (tests).
    pub fn with_parts(
        settings: Arc<Settings>,
        health: HealthStore,
        journal: Journal,
    ) -> Result<Self, ProviderError> {
        Self::with_clock(settings, health, journal, Clock::system())
    }

    /// Builds a router with explicit stores and clock (tests run breakers on virtual time).
    pub fn with_clock(
        settings: Arc<Settings>,
        health: HealthStore,
        journal: Journal,
        clock: Clock,
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
                clock,
                background: Mutex::new(Vec::new()),
                drill: None,
                eval_floor: None,
            }),
            fallback: FallbackPolicy::Auto,
        })
    }

    /// The same router (shared health, clients and budget) with another fallback policy:
    /// `auto` and `notify` fail over as needed (`notify` callers make the switch loud, on
    /// [`RouterEvent::Degraded`]); `ask` and `off` make [`Router::run`] stop before the first
    /// lower tier and return [`AllModelsFailed`] with [`AllModelsFailed::held_back`] set.
    #[must_use]
    pub fn with_fallback(&self, policy: FallbackPolicy) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            fallback: policy,
        }
    }

    /// The fallback policy of this handle.
    pub fn fallback(&self) -> FallbackPolicy {
        self.fallback
    }

    /// The health state this router reads and writes (the fleet store's too, if any).
    pub fn health_store(&self) -> &HealthStore {
        &self.inner.health
    }

    /// The settings this router runs with.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// The clock this router runs on.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
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

    /// Answers `req` with the first healthy model of `route`, failing over (also mid-stream)
    /// as needed and as the fallback policy allows. `on_event` sees every event as it
    /// happens; `cancel` stops the request.
    pub async fn run(
        &self,
        route: &[ModelRef],
        req: &ChatRequest,
        on_event: &mut (dyn FnMut(RouterEvent) + Send),
        cancel: &CancellationToken,
    ) -> Result<Answer, AllModelsFailed> {
        self.failover(route, req, on_event, cancel, &SkipSignal::new())
            .await
    }

    /// [`Router::run`], and `skip` moves on from a model still waiting for its first token
    /// at once (the chat's skip key): the next model of the plan answers, as after a
    /// first-token timeout, but the skipped model's health is left as it was. A skip while
    /// text streams, or with no model left after this one, does nothing.
    pub async fn run_skippable(
        &self,
        route: &[ModelRef],
        req: &ChatRequest,
        on_event: &mut (dyn FnMut(RouterEvent) + Send),
        cancel: &CancellationToken,
        skip: &SkipSignal,
    ) -> Result<Answer, AllModelsFailed> {
        self.failover(route, req, on_event, cancel, skip).await
    }
}

#[cfg(test)]
mod tests;
