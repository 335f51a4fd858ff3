//! What the router knows about each model right now, for status displays (`aiw status`, the
//! chat's model list): [`ModelHealth`] built from the shared health state, and the local tier's
//! own readiness check (a model that is not installed cannot answer at all).

use serde::{Deserialize, Serialize};

use super::Router;
use super::health::Availability;
use super::tier::TierPolicy;
use crate::config::ModelRef;
use crate::provider::ErrorClass;
use crate::time::rfc3339;

/// What the router knows about one model right now.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ModelHealth {
    /// The model.
    pub model: ModelRef,
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
    /// Failure rate in the window (soft failures of the quality tripwire included).
    pub error_rate: f64,
    /// When the next probe is due (RFC 3339).
    pub next_probe_at: Option<String>,
    /// Open until (RFC 3339).
    pub open_until: Option<String>,
    /// Its provider asked not to be called before this time (RFC 3339): `retry-after`, a
    /// rate-limit reset header or Gemini's `RetryInfo`, remembered across processes.
    #[serde(default)]
    pub rate_limited_until: Option<String>,
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
    /// Answering, but slow, with some errors, with degraded answers, or rate limited.
    Degraded,
    /// Out of rotation until a probe succeeds.
    Open,
    /// A probe is in flight.
    Probing,
}

impl Router {
    /// Current health of every model in `models`, for status displays.
    pub fn health(&self, models: &[ModelRef]) -> Vec<ModelHealth> {
        let now = self.inner.clock.now_ms();
        let snapshot = self.inner.health.snapshot();
        models
            .iter()
            .map(|m| {
                let key = m.to_string();
                let mut r = snapshot.models.get(&key).cloned().unwrap_or_default();
                let client = self.inner.clients.get(&m.provider);
                let tracked = client.is_none_or(|c| TierPolicy::of(c).tracks_health);
                let mut note = None;
                if let Some(c) = client
                    && let Err(e) = TierPolicy::ready(c, &m.model)
                {
                    // Not installed, damaged, or not built in: it cannot answer at all.
                    r.open_until = Some(u64::MAX);
                    r.last_error = Some(e.class);
                    note = Some(e.message);
                }
                if let Some(d) = &self.inner.drill
                    && d.matches(&key)
                {
                    r.open_until = Some(d.spec.until_ms);
                    r.open_reason = Some("outage drill".into());
                    note = Some(format!(
                        "down for an outage drill until {} (`aiw drill --clear` ends a standing one)",
                        crate::time::time_of_day(d.spec.until_ms)
                    ));
                }
                let (median, p95) = r.latency();
                let availability = r.availability(now);
                let state = match &availability {
                    Availability::Open { .. } | Availability::ProbeDue { in_flight: false } => {
                        HealthState::Open
                    }
                    Availability::ProbeDue { in_flight: true } => HealthState::Probing,
                    Availability::Available if !tracked => HealthState::Healthy,
                    Availability::NotBefore { .. } => HealthState::Degraded,
                    Availability::Available if r.samples.is_empty() && r.last_ok_at.is_none() => {
                        HealthState::Unknown
                    }
                    Availability::Available => {
                        let slow = median
                            .zip(r.baseline_ms)
                            .is_some_and(|(m, b)| m as f64 > 2.0 * b);
                        if r.error_rate() > 0.0
                            || slow
                            || r.consecutive_failures > 0
                            || r.soft_failures > 0
                        {
                            HealthState::Degraded
                        } else {
                            HealthState::Healthy
                        }
                    }
                };
                let next_probe = match availability {
                    Availability::Open { until, .. } => Some(rfc3339(until)),
                    Availability::ProbeDue { .. } => Some(rfc3339(now)),
                    Availability::Available | Availability::NotBefore { .. } => None,
                };
                ModelHealth {
                    model: m.clone(),
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
                    rate_limited_until: r.not_before.filter(|u| *u > now).map(rfc3339),
                    note,
                }
            })
            .collect()
    }
}
