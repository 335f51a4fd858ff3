//! Retry policy: the only retry and backoff code in aiw. The one capped, jittered exponential
//! [`Backoff`] (breaker open periods, the quick retry's pause, the review queue's waits all use
//! it), a process-wide retry budget (a token bucket, so retries times models cannot multiply
//! during a provider-wide outage), and when a server's retry hint is short enough to wait for.

use std::sync::Mutex;
use std::time::Duration;

/// Capped exponential backoff with proportional jitter: attempt `n` (from 1) waits
/// `min(base * 2^(n-1), max)`, scaled by a random factor in `1 ± jitter`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Backoff {
    /// The first wait.
    pub base: Duration,
    /// The longest wait (before jitter).
    pub max: Duration,
    /// Relative jitter, e.g. `0.2` for ±20 %.
    pub jitter: f64,
}

impl Backoff {
    /// The pause before the one quick retry on the same model when the server gave no hint:
    /// 100-300 ms, like the official SDKs' first step but shorter because failing over is the
    /// main remedy.
    pub const QUICK_RETRY: Self = Self {
        base: Duration::from_millis(200),
        max: Duration::from_millis(200),
        jitter: 0.5,
    };

    /// The wait after the `attempt`-th failure in a row (1 = the first).
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = attempt.saturating_sub(1).min(30);
        let raw = self.base.saturating_mul(1u32 << exp).min(self.max);
        jitter(raw, self.jitter)
    }
}

/// Scales `d` by a random factor in `1 ± rel`, so processes and models do not act in lockstep.
pub fn jitter(d: Duration, rel: f64) -> Duration {
    let rel = rel.clamp(0.0, 1.0);
    d.mul_f64(1.0 - rel + fastrand::f64() * 2.0 * rel)
}

/// The delay before the one quick retry: the server's hint when there is one, else
/// [`Backoff::QUICK_RETRY`].
pub fn quick_retry_delay(hint: Option<Duration>) -> Duration {
    hint.unwrap_or_else(|| Backoff::QUICK_RETRY.delay(1))
}

/// Whether a wait of `wait` (what the server asked for, or what is left of it) is short enough
/// to wait out instead of failing over: at most `max_wait` (`health.max_retry_wait`).
pub fn worth_waiting(wait: Duration, max_wait: Duration) -> bool {
    wait <= max_wait
}

/// A token bucket of retries shared by every request of the process.
#[derive(Debug)]
pub struct RetryBudget {
    per_minute: u32,
    /// Tokens left, and when (Unix ms of the router's clock) they were counted.
    state: Mutex<(f64, Option<u64>)>,
}

impl RetryBudget {
    /// A full bucket of `per_minute` retries, refilled continuously.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            state: Mutex::new((f64::from(per_minute), None)),
        }
    }

    /// Takes one retry from the budget at time `now_ms`; false when it is spent.
    pub fn try_take(&self, now_ms: u64) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return false;
        };
        let elapsed_ms = s.1.map_or(0, |t| now_ms.saturating_sub(t));
        let refill = elapsed_ms as f64 / 60_000.0 * f64::from(self.per_minute);
        s.0 = (s.0 + refill).min(f64::from(self.per_minute));
        s.1 = Some(now_ms);
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_shared_runs_out_and_refills_with_time() {
        let b = RetryBudget::new(3);
        assert!(b.try_take(0));
        assert!(b.try_take(0));
        assert!(b.try_take(0));
        assert!(!b.try_take(1), "fourth retry within the minute is refused");
        assert!(
            b.try_take(20_001),
            "one token back after a third of a minute"
        );
        assert!(!b.try_take(20_002));
        let zero = RetryBudget::new(0);
        assert!(!zero.try_take(0));
    }

    #[test]
    fn backoff_doubles_caps_and_jitters() {
        let b = Backoff {
            base: Duration::from_secs(10),
            max: Duration::from_secs(60),
            jitter: 0.2,
        };
        for _ in 0..100 {
            let first = b.delay(1);
            assert!(first >= Duration::from_secs(8) && first <= Duration::from_secs(12));
            let second = b.delay(2);
            assert!(second >= Duration::from_secs(16) && second <= Duration::from_secs(24));
            let capped = b.delay(40);
            assert!(capped >= Duration::from_secs(48) && capped <= Duration::from_secs(72));
        }
        assert_eq!(
            Backoff { jitter: 0.0, ..b }.delay(0),
            Duration::from_secs(10),
            "attempt 0 is treated as the first"
        );
    }

    #[test]
    fn quick_retry_delay_takes_the_hint_or_a_short_pause() {
        for _ in 0..100 {
            let d = quick_retry_delay(None);
            assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(300));
        }
        assert_eq!(
            quick_retry_delay(Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        assert!(worth_waiting(
            Duration::from_secs(2),
            Duration::from_secs(5)
        ));
        assert!(!worth_waiting(
            Duration::from_secs(6),
            Duration::from_secs(5)
        ));
    }
}
