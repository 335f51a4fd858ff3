//! Probes: the 1-token request that must succeed before a model whose breaker opened gets
//! traffic again. A due probe runs in the background beside the request that skipped the
//! model, under a lease in the shared health state so only one process probes at a time.

use std::time::Instant;

use futures_util::StreamExt;

use super::Router;
use super::answer::{Attempt, Outcome};
use super::call::timeout_error;
use super::clock::millis;
use super::tier::TierPolicy;
use crate::config::ModelRef;
use crate::provider::{ChatEvent, ChatRequest, ErrorClass, ProviderError};

impl Router {
    /// Starts a background probe of a model whose open period is over, unless another process
    /// or task already holds the probe lease.
    pub(super) fn start_probe(&self, model: ModelRef) {
        let key = model.to_string();
        let lease = millis(self.inner.settings.health.probe_timeout) + 1000;
        let now = self.inner.clock.now_ms();
        let claimed = self.inner.health.update_model(&key, |r| {
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

    /// Probes one model now (a 1-token request) and records the result. Returns the time it
    /// took in ms.
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
        let cfg = &self.inner.settings.health;
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
        let now = self.inner.clock.now_ms();
        self.inner.journal.record(now, &attempt, None, true);
        if TierPolicy::of(client).tracks_health {
            match &result {
                Ok(()) => self
                    .inner
                    .health
                    .update_model(&key, |r| r.record_success(now, None, cfg)),
                Err(e) if e.class.marks_unhealthy() || e.class == ErrorClass::RateLimited => {
                    self.inner
                        .health
                        .update_model(&key, |r| r.record_probe_failure(now, e, cfg));
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
}
