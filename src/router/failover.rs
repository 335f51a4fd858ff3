//! The attempt loop: walks a request's [`Plan`] and calls models until one answers.
//!
//! Four passes, each only when the ones before it produced no answer:
//! 1. the remote tier, in plan order: each model is called unless its gate says otherwise;
//! 2. remote models whose provider asked for a short pause (`retry-after` or a reset header
//!    under `health.max_retry_wait`): waited out, then called, since nothing else remote
//!    answered;
//! 3. the last-resort (local) tier;
//! 4. remote models skipped for an open breaker, called anyway as a last resort (not under
//!    `fallback = "ask"`, which hands the choice back to the user instead).
//!
//! A remote model whose probe is due, with only the local tier behind it, is probed first
//! (waiting for the probe) instead of beside the request.
//!
//! After each call: success is accounted (health, quality tripwire, journal) and returned; a
//! failure is recorded, may get one quick retry (only when no other remote model is left,
//! nothing was shown yet and the retry budget allows), may trigger the offline check, and
//! moves on. A stream that breaks after text was shown continues on the next model. A model
//! the user skipped before its first token ([`SkipSignal`]) is recorded but not held against
//! its health, and never retried: the loop moves on.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::Router;
use super::answer::{AllModelsFailed, Answer, Attempt, Outcome, Tally};
use super::call::{Call, CallErr, CallOk, OnEvent};
use super::continuation::continuation;
use super::events::RouterEvent;
use super::plan::{Candidate, Gate, Later, Plan};
use super::quality;
use super::retry;
use super::skip::SkipSignal;
use super::tier::TierPolicy;
use crate::config::FallbackPolicy;
use crate::config::ModelRef;
use crate::conversation::text_of;
use crate::provider::{ChatRequest, ErrorClass, ProviderError, StopReason};

/// How a visit to one candidate ended.
enum Step {
    /// It answered.
    Answered {
        model: ModelRef,
        stop: StopReason,
        served_model: Option<String>,
    },
    /// Complete tool calls went out and then the stream broke: the turn ends with them.
    ToolTurn,
    /// The user cancelled.
    Cancelled,
    /// Called and failed: go on.
    Failed,
    /// Not called now.
    Skipped(Later),
}

/// What comes after a failed call.
enum AfterFailure {
    /// The request is over, or the loop moves on.
    Step(Step),
    /// Wait this long, then call the same model once more.
    RetryAfter(Duration),
    /// A network failure: check which providers are reachable at all, then fail over (the
    /// error, and whether text was shown).
    CheckNetwork(ProviderError, bool),
}

/// One request's progress through its plan.
struct Run<'r> {
    router: &'r Router,
    plan: &'r Plan<'r>,
    req: &'r ChatRequest,
    /// The user's skip for this request.
    skip: &'r SkipSignal,
    tally: Tally,
    /// Providers found unreachable in this request.
    unreachable: Vec<String>,
    /// The local tier was told to load its model.
    prewarmed: bool,
    /// [`RouterEvent::Degraded`] went out.
    degraded_sent: bool,
}

impl Router {
    /// Answers `req` with the first model of `route` that can, following the plan's passes.
    pub(super) async fn failover(
        &self,
        route: &[ModelRef],
        req: &ChatRequest,
        on_event: OnEvent<'_>,
        cancel: &CancellationToken,
        skip: &SkipSignal,
    ) -> Result<Answer, AllModelsFailed> {
        let plan = self.plan(route);
        let mut run = Run {
            router: self,
            plan: &plan,
            req,
            skip,
            tally: Tally::new(),
            unreachable: Vec::new(),
            prewarmed: false,
            degraded_sent: false,
        };
        let all = plan.candidates.len();
        let remote = plan.remote_count();
        let mut waits: Vec<(usize, u64)> = Vec::new();
        let mut last_resort: Vec<usize> = Vec::new();

        for i in 0..remote {
            match run.visit(i, i + 1..all, false, on_event, cancel).await {
                Step::Skipped(Later::At(until)) => waits.push((i, until)),
                Step::Skipped(Later::LastResort) => last_resort.push(i),
                Step::Skipped(Later::Never) | Step::Failed => {}
                done => return run.finish(done),
            }
        }
        for (i, until) in waits {
            let wait = until.saturating_sub(self.inner.clock.now_ms());
            if wait > 0 {
                let c = &plan.candidates[i];
                on_event(RouterEvent::Retrying {
                    model: c.model.clone(),
                    after: Duration::from_millis(wait),
                    error: ProviderError::new(
                        ErrorClass::RateLimited,
                        "its provider asked for a pause, and no other remote model answered",
                    ),
                });
                if !self.sleep(Duration::from_millis(wait), cancel).await {
                    return run.finish(Step::Cancelled);
                }
            }
            // Decided: called once the wait is over, without asking the gate again (a
            // clock that woke a millisecond early must not turn the wait into a skip).
            match run.visit(i, remote..all, true, on_event, cancel).await {
                Step::Skipped(_) | Step::Failed => {}
                done => return run.finish(done),
            }
        }
        for i in remote..all {
            match run.visit(i, i + 1..all, false, on_event, cancel).await {
                Step::Skipped(_) | Step::Failed => {}
                done => return run.finish(done),
            }
        }
        if plan.fallback != FallbackPolicy::Ask {
            for i in last_resort {
                match run.visit(i, all..all, true, on_event, cancel).await {
                    Step::Skipped(_) | Step::Failed => {}
                    done => return run.finish(done),
                }
            }
        }
        Err(run.tally.failed(plan.held_back.clone()))
    }

    /// Sleeps on the router's clock; false when cancelled first.
    async fn sleep(&self, d: Duration, cancel: &CancellationToken) -> bool {
        tokio::select! {
            () = self.inner.clock.sleep(d) => true,
            () = cancel.cancelled() => false,
        }
    }
}

impl Run<'_> {
    /// Gates candidate `i` and calls it if it may be called. `rest` are the candidates that
    /// would follow it (for the quick-retry choice, the offline check and the failover event);
    /// `last_resort` calls it whatever its breaker says.
    async fn visit(
        &mut self,
        i: usize,
        rest: std::ops::Range<usize>,
        last_resort: bool,
        on_event: OnEvent<'_>,
        cancel: &CancellationToken,
    ) -> Step {
        if cancel.is_cancelled() {
            return Step::Cancelled;
        }
        // `[timeouts] total` bounds the whole request: no model is tried once it is spent.
        if self.tally.started().elapsed() >= self.router.inner.settings.timeouts.total {
            return Step::Cancelled;
        }
        let c = &self.plan.candidates[i];
        let only_local_left = !rest.is_empty()
            && self.plan.candidates[rest.clone()]
                .iter()
                .all(|r| r.policy.last_resort);
        if !last_resort && c.policy.tracks_health && !c.policy.last_resort && only_local_left {
            self.router.probe_first(c.model).await;
        }
        match self.router.gate(c, &self.unreachable, last_resort) {
            Gate::Call => {
                let rest = &self.plan.candidates[rest];
                self.call(i, c, rest, on_event, cancel).await
            }
            Gate::Skip { why, later } => {
                if why.class == ErrorClass::Auth {
                    on_event(RouterEvent::ConfigProblem {
                        model: c.model.clone(),
                        error: why.clone(),
                    });
                } else {
                    on_event(RouterEvent::Skipped {
                        model: c.model.clone(),
                        reason: why.message.clone(),
                    });
                }
                self.tally.attempts.push(Attempt::skipped(c.model, &why));
                Step::Skipped(later)
            }
        }
    }

    /// Calls candidate `c` (at plan position `i`), with at most one quick retry.
    async fn call(
        &mut self,
        i: usize,
        c: &Candidate<'_>,
        rest: &[Candidate<'_>],
        on_event: OnEvent<'_>,
        cancel: &CancellationToken,
    ) -> Step {
        self.before_first_call(i, c, on_event);
        let mut retried = false;
        loop {
            let prior = self.tally.prior_blocks();
            let request = if prior.is_empty() {
                Cow::Borrowed(self.req)
            } else {
                Cow::Owned(continuation(self.req, &prior))
            };
            let request = self.reduce_for(c, request, on_event, cancel).await;
            let request = match self.fit_for(c, request, on_event) {
                Ok(r) => r,
                Err(error) => {
                    let failed = CallErr {
                        error,
                        blocks: Vec::new(),
                        usage: crate::provider::Usage::default(),
                        ttft_ms: None,
                    };
                    match self.failed(c, rest, failed, !prior.is_empty(), true, 0, on_event) {
                        AfterFailure::Step(step) => return step,
                        AfterFailure::RetryAfter(_) | AfterFailure::CheckNetwork(..) => {
                            return Step::Failed;
                        }
                    }
                }
            };
            let prior = text_of(&prior);
            // Armed before the call is announced, so a skip the caller sends on seeing it
            // counts; with no model after this one, there is nothing to skip to.
            let skip = (!rest.is_empty()).then(|| self.skip.arm());
            on_event(RouterEvent::Attempting {
                model: c.model.clone(),
                tier: c.tier,
            });
            let call = Call {
                model: c.model,
                client: c.client,
                tier: c.policy,
                req: &request,
                prior: &prior,
                timeouts: self.router.inner.settings.timeouts,
                answer_limit: self.router.inner.settings.limits.answer_bytes,
            };
            let attempt_start = Instant::now();
            let started = self.tally.started();
            let result = call
                .run(on_event, cancel, skip, started, &mut self.tally.ttft)
                .await;
            let ms = attempt_start.elapsed().as_millis() as u64;
            let failed = match result {
                Ok(ok) => return self.answered(c, ok, !prior.is_empty(), ms),
                Err(failed) => failed,
            };
            let continues = !prior.is_empty();
            match self.failed(c, rest, failed, continues, retried, ms, on_event) {
                AfterFailure::Step(step) => return step,
                AfterFailure::RetryAfter(after) => {
                    if !self.router.sleep(after, cancel).await {
                        return Step::Cancelled;
                    }
                    retried = true;
                }
                AfterFailure::CheckNetwork(error, shown) => {
                    self.unreachable = self.router.unreachable_providers(c.model, rest).await;
                    self.fail_over(c, rest, error, shown || continues, on_event);
                    return Step::Failed;
                }
            }
        }
    }

    /// The request as `c` gets it: a remote model with a configured `context_window` gets the
    /// history fitted into that window (counted with the estimate; the local model fits with
    /// its own tokenizer), and the caller hears of it. An error when even the last turn does
    /// not fit.
    fn fit_for<'q>(
        &self,
        c: &Candidate<'_>,
        request: Cow<'q, ChatRequest>,
        on_event: OnEvent<'_>,
    ) -> Result<Cow<'q, ChatRequest>, ProviderError> {
        let window = self
            .router
            .inner
            .settings
            .providers
            .get(&c.model.provider)
            .and_then(|p| p.context_window);
        let Some(window) = window.filter(|_| c.policy.remote) else {
            return Ok(request);
        };
        let mut count = crate::conversation::history::estimate_text_tokens;
        match request.fit_into(window as usize, &mut count) {
            Ok(None) => Ok(request),
            Ok(Some((fitted, report))) => {
                on_event(RouterEvent::HistoryFitted {
                    model: c.model.clone(),
                    report,
                });
                Ok(Cow::Owned(fitted))
            }
            Err(e) => Err(ProviderError::new(
                ErrorClass::ContextTooLong,
                format!(
                    "the request does not fit {}'s context window of {window} tokens (`context_window`) even with earlier turns left out: {e}",
                    c.model
                ),
            )),
        }
    }

    /// The request as the local model `c` gets it when its history is over the local window
    /// and no summary is ready: with a summary made on that model itself
    /// ([`super::reduce`]), or as it is when that cannot be done.
    async fn reduce_for<'q>(
        &self,
        c: &Candidate<'_>,
        request: Cow<'q, ChatRequest>,
        on_event: OnEvent<'_>,
        cancel: &CancellationToken,
    ) -> Cow<'q, ChatRequest> {
        if c.policy.remote {
            return request;
        }
        let window = self
            .router
            .inner
            .settings
            .providers
            .get(&c.model.provider)
            .and_then(|p| p.local.as_ref())
            .map(|l| l.context_size as usize);
        let Some(window) = window.filter(|w| super::reduce::needed(&request, *w)) else {
            return request;
        };
        match super::reduce::reduce(c.client, c.model, &request, window, on_event, cancel).await {
            Ok(summary) => {
                let mut r = request.into_owned();
                r.summary = Some(summary);
                Cow::Owned(r)
            }
            Err(why) => {
                tracing::warn!(model = %c.model, why, "history reduction failed");
                on_event(RouterEvent::ReduceFailed {
                    model: c.model.clone(),
                    why,
                });
                request
            }
        }
    }

    /// Once per request: announce the first lower tier, and load the local model ahead of
    /// time once the route is past its first candidate.
    fn before_first_call(&mut self, i: usize, c: &Candidate<'_>, on_event: OnEvent<'_>) {
        if c.tier > 0 && !self.degraded_sent {
            self.degraded_sent = true;
            if let Some(primary) = self.plan.primary {
                on_event(RouterEvent::Degraded {
                    primary: primary.clone(),
                    to: c.model.clone(),
                    tier: c.tier,
                    policy: self.plan.fallback,
                });
            }
        }
        if !self.prewarmed && i > 0 && c.policy.remote {
            self.prewarmed = true;
            for other in &self.plan.candidates {
                TierPolicy::prewarm(other.client, &other.model.model);
            }
        }
    }

    /// Accounts an answer: health (through the quality tripwire), journal, tally.
    fn answered(&mut self, c: &Candidate<'_>, ok: CallOk, continues: bool, ms: u64) -> Step {
        let inner = &self.router.inner;
        let cfg = &inner.settings.health;
        let now = inner.clock.now_ms();
        let model = c.model;
        if c.policy.tracks_health {
            let soft = quality::judge(self.req, &ok, continues, cfg);
            inner
                .health
                .update_model(&model.to_string(), |r| match soft {
                    None => r.record_success(now, ok.ttft_ms, cfg),
                    Some(why) => {
                        tracing::warn!(%model, why = why.describe(), "soft failure");
                        r.record_soft_failure(now, ok.ttft_ms, why, cfg);
                    }
                });
        }
        let attempt = Attempt {
            ttft_ms: ok.ttft_ms,
            ms,
            chars: text_of(&ok.blocks).chars().count(),
            ..Attempt::new(model, Outcome::Ok, None)
        };
        inner.journal.record(now, &attempt, Some(ok.usage), false);
        self.tally.attempts.push(attempt);
        self.tally.add_output(model, ok.usage, ok.blocks);
        Step::Answered {
            model: model.clone(),
            stop: ok.stop,
            served_model: ok.served_model,
        }
    }

    /// Accounts a failure and decides what comes next: the end of the request (cancelled,
    /// or a tool turn that must end), one quick retry, or failing over.
    #[allow(clippy::too_many_arguments)]
    fn failed(
        &mut self,
        c: &Candidate<'_>,
        rest: &[Candidate<'_>],
        failed: CallErr,
        continues: bool,
        retried: bool,
        ms: u64,
        on_event: OnEvent<'_>,
    ) -> AfterFailure {
        let inner = &self.router.inner;
        let cfg = &inner.settings.health;
        let now = inner.clock.now_ms();
        let model = c.model;
        let error = failed.error;
        let shown = !failed.blocks.is_empty();
        let skipped = error.class == ErrorClass::Skipped;
        let outcome = match error.class {
            ErrorClass::Cancelled => Outcome::Cancelled,
            ErrorClass::Skipped => Outcome::Skipped,
            _ => Outcome::Failed,
        };
        let attempt = Attempt {
            ttft_ms: failed.ttft_ms,
            ms,
            chars: text_of(&failed.blocks).chars().count(),
            ..Attempt::new(model, outcome, Some(&error))
        };
        inner
            .journal
            .record(now, &attempt, Some(failed.usage), false);
        self.tally.attempts.push(attempt);
        self.tally.add_output(model, failed.usage, failed.blocks);
        if outcome == Outcome::Cancelled {
            return AfterFailure::Step(Step::Cancelled);
        }
        // A user's skip says nothing about the model: its health stays as it was.
        if c.policy.tracks_health && !skipped {
            inner.health.update_model(&model.to_string(), |r| {
                r.record_failure(now, &error, cfg);
            });
        }
        if error.class.is_config_problem() {
            on_event(RouterEvent::ConfigProblem {
                model: model.clone(),
                error: error.clone(),
            });
        }
        // Complete tool calls already went to the caller: the turn cannot be continued by
        // another model (a call must be answered by its result first), so it ends here,
        // waiting for those results. A call cut inside its arguments was never sent.
        if self.tally.has_tool_calls() {
            return AfterFailure::Step(Step::ToolTurn);
        }
        if skipped {
            self.fail_over(c, rest, error, continues, on_event);
            return AfterFailure::Step(Step::Failed);
        }
        // One quick retry on the same model, only when the alternative is the local tier or
        // nothing, the error is one a retry can fix, nothing was shown yet, the server's hint
        // (if any) is short, and the process-wide budget allows it.
        let remote_left = rest.iter().any(|r| r.policy.remote);
        if !retried && !shown && !remote_left && error.is_retryable() {
            let hint = error.retry_after;
            let wait_ok = hint.is_none_or(|h| retry::worth_waiting(h, cfg.max_retry_wait));
            if wait_ok
                && (error.class != ErrorClass::RateLimited || hint.is_some())
                && inner.budget.try_take(now)
            {
                let after = retry::quick_retry_delay(hint);
                on_event(RouterEvent::Retrying {
                    model: model.clone(),
                    after,
                    error,
                });
                return AfterFailure::RetryAfter(after);
            }
        }
        if error.class.is_network() && c.policy.remote {
            return AfterFailure::CheckNetwork(error, shown);
        }
        self.fail_over(c, rest, error, shown || continues, on_event);
        AfterFailure::Step(Step::Failed)
    }

    /// Tells the caller the router moves on from `c`, and to which model.
    fn fail_over(
        &self,
        c: &Candidate<'_>,
        rest: &[Candidate<'_>],
        error: ProviderError,
        mid_stream: bool,
        on_event: OnEvent<'_>,
    ) {
        let to = rest
            .iter()
            .find(|r| !self.unreachable.contains(&r.model.provider))
            .map(|r| r.model.clone());
        on_event(RouterEvent::Failover {
            from: c.model.clone(),
            to,
            error,
            mid_stream,
        });
    }

    /// The request's result after a final step.
    fn finish(self, step: Step) -> Result<Answer, AllModelsFailed> {
        let t = self.tally;
        match step {
            Step::Answered {
                model,
                stop,
                served_model,
            } => {
                let degraded = self.plan.primary != Some(&model) || t.segments.len() > 1;
                Ok(t.answer(model, degraded, stop, served_model))
            }
            // A tool turn has at least the segment holding its tool calls.
            Step::ToolTurn => match t.segments.last().map(|s| s.model.clone()) {
                Some(last) => Ok(t.answer(last, true, StopReason::ToolUse, None)),
                None => Err(t.failed(None)),
            },
            Step::Cancelled | Step::Failed | Step::Skipped(_) => Err(t.failed(None)),
        }
    }
}
