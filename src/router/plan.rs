//! Route planning: which models a request may try and in what order, and whether each may be
//! called right now.
//!
//! Order: remote models in route order, those whose provider's status page reports a major
//! outage behind the other remote ones, then the local tier (its [`TierPolicy`] makes it the
//! last resort). The fallback policy cuts the plan: `off` and `ask` keep only the route's first
//! model and remember the first lower tier they held back. The [`Gate`] is the per-model
//! decision at call time: call it, or skip it with a reason, and whether it may still be
//! called later in this request (after a short provider-requested wait, or as a last resort
//! when its breaker is open and nothing else answered).

use crate::config::ModelRef;
use crate::config::{FallbackPolicy, ProviderSettings};
use crate::provider::{Client, ErrorClass, ProviderError};

use super::Router;
use super::answer::HeldBack;
use super::health::Availability;
use super::retry::worth_waiting;
use super::statuspage;
use super::tier::TierPolicy;
use crate::time::time_of_day;

/// One model the request may try.
pub(super) struct Candidate<'a> {
    /// The model.
    pub model: &'a ModelRef,
    /// Its position in the route (0 = primary).
    pub tier: usize,
    /// Its provider's settings.
    pub provider: &'a ProviderSettings,
    /// Its provider's client.
    pub client: &'a Client,
    /// How the router treats its tier.
    pub policy: &'static TierPolicy,
}

/// The models of a request, in the order they are tried.
pub(super) struct Plan<'a> {
    /// The route's first model.
    pub primary: Option<&'a ModelRef>,
    /// Remote candidates first, then the last-resort (local) tier.
    pub candidates: Vec<Candidate<'a>>,
    /// The first lower tier the fallback policy kept out of the plan.
    pub held_back: Option<HeldBack>,
    /// The policy in force.
    pub fallback: FallbackPolicy,
}

impl Plan<'_> {
    /// How many candidates come before the last-resort tier.
    pub fn remote_count(&self) -> usize {
        self.candidates
            .iter()
            .take_while(|c| !c.policy.last_resort)
            .count()
    }
}

/// What to do with a candidate now.
pub(super) enum Gate {
    /// Call it.
    Call,
    /// Do not call it now.
    Skip {
        /// Why, as an error for the attempt list.
        why: ProviderError,
        /// Whether it may still be called in this request.
        later: Later,
    },
}

/// Whether a skipped model may still be called in this request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Later {
    /// No.
    Never,
    /// After this time (Unix ms): its provider asked for a short pause. Waited for only when
    /// no other remote model answers.
    At(u64),
    /// As a last resort: its breaker is open, but it is tried when nothing else answered.
    LastResort,
}

impl Router {
    /// The plan for `route` under the router's fallback policy. Starts due status-page
    /// checks in the background.
    pub(super) fn plan<'a>(&'a self, route: &'a [ModelRef]) -> Plan<'a> {
        let s = &self.inner.settings;
        let snapshot = self.inner.health.snapshot();
        for m in route {
            if let Some(url) = s.provider(m).and_then(|p| p.status_page.clone()) {
                let (http, router, provider) =
                    (self.inner.http.clone(), self.clone(), m.provider.clone());
                let interval = s.health.status_page_interval;
                self.spawn_background(async move {
                    let inner = &router.inner;
                    statuspage::refresh(
                        &http,
                        &inner.health,
                        &inner.clock,
                        &provider,
                        &url,
                        interval,
                    )
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
        let mut known: Vec<Candidate<'a>> = route
            .iter()
            .enumerate()
            .filter_map(|(tier, model)| {
                let provider = s.provider(model)?;
                let client = self.inner.clients.get(&model.provider)?;
                Some(Candidate {
                    model,
                    tier,
                    provider,
                    client,
                    policy: TierPolicy::of(client),
                })
            })
            .collect();
        // Stable: route order within each group.
        known.sort_by_key(|c| (c.policy.last_resort, hinted(c.model)));
        let fallback = self.fallback;
        let mut held_back = None;
        if !fallback.allows_fallback() {
            held_back = known.iter().find(|c| c.tier > 0).map(|c| HeldBack {
                model: c.model.clone(),
                tier: c.tier,
                policy: fallback,
            });
            known.retain(|c| c.tier == 0);
        }
        Plan {
            primary: route.first(),
            candidates: known,
            held_back,
            fallback,
        }
    }

    /// Whether `c` may be called now. `unreachable` lists providers found unreachable in this
    /// request; `skip_health` is set for the last-resort pass (call it whatever the breaker
    /// says). A due probe is started here, beside the request.
    pub(super) fn gate(
        &self,
        c: &Candidate<'_>,
        unreachable: &[String],
        skip_health: bool,
    ) -> Gate {
        let model = c.model;
        if !c.provider.is_usable() {
            let why = ProviderError::new(
                ErrorClass::Auth,
                format!("no API key: set {}", c.provider.api_key_env.join(" or ")),
            );
            return Gate::Skip {
                why,
                later: Later::Never,
            };
        }
        if let Some(d) = &self.inner.drill
            && d.matches(&model.to_string())
        {
            return skip(
                ErrorClass::Unavailable,
                format!(
                    "down for an outage drill until {} (`aiw drill`)",
                    time_of_day(d.spec.until_ms)
                ),
                Later::Never,
            );
        }
        if c.tier > 0
            && let Some((min, scores)) = &self.inner.eval_floor
            && let Some(score) = scores.get(&model.to_string())
            && score.rate() + 1e-9 < *min
        {
            return skip(
                ErrorClass::Unavailable,
                format!(
                    "scored {} on your evals, below [health] min_eval_score = {min}",
                    score.fraction()
                ),
                Later::Never,
            );
        }
        if unreachable.contains(&model.provider) {
            return skip(
                ErrorClass::Connection,
                "its provider is unreachable (network)".into(),
                Later::Never,
            );
        }
        if skip_health || !c.policy.tracks_health {
            return Gate::Call;
        }
        let now = self.inner.clock.now_ms();
        match self.inner.health.get(&model.to_string()).availability(now) {
            Availability::Available => Gate::Call,
            Availability::Open { until, reason } => skip(
                ErrorClass::Unavailable,
                format!("out of rotation until {} ({reason})", time_of_day(until)),
                Later::LastResort,
            ),
            Availability::ProbeDue { in_flight } => {
                if !in_flight {
                    self.start_probe(model.clone());
                }
                skip(
                    ErrorClass::Unavailable,
                    "recovering: a probe must succeed before traffic returns".into(),
                    Later::LastResort,
                )
            }
            Availability::NotBefore { until, reason } => {
                let wait = std::time::Duration::from_millis(until.saturating_sub(now));
                let later = if worth_waiting(wait, self.inner.settings.health.max_retry_wait) {
                    Later::At(until)
                } else {
                    Later::Never
                };
                skip(
                    ErrorClass::RateLimited,
                    format!("rate limited until {} ({reason})", time_of_day(until)),
                    later,
                )
            }
        }
    }
}

fn skip(class: ErrorClass, reason: String, later: Later) -> Gate {
    Gate::Skip {
        why: ProviderError::new(class, reason),
        later,
    }
}
