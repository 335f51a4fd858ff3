//! Retry policy: the only retry code in aiw. A process-wide retry budget (a token bucket, so
//! retries times models cannot multiply during a provider-wide outage) and the jittered delay
//! for the one quick retry the router may make on the same model.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket of retries shared by every request of the process.
#[derive(Debug)]
pub struct RetryBudget {
    per_minute: u32,
    state: Mutex<(f64, Instant)>,
}

impl RetryBudget {
    /// A full bucket of `per_minute` retries, refilled continuously.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            state: Mutex::new((f64::from(per_minute), Instant::now())),
        }
    }

    /// Takes one retry from the budget; false when it is spent.
    pub fn try_take(&self) -> bool {
        let Ok(mut s) = self.state.lock() else {
            return false;
        };
        let now = Instant::now();
        let refill = now.duration_since(s.1).as_secs_f64() * f64::from(self.per_minute) / 60.0;
        s.0 = (s.0 + refill).min(f64::from(self.per_minute));
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The delay before the one quick retry: the server's hint when there is one, else a short
/// jittered pause (100-300 ms), like the official SDKs' first backoff step but shorter because
/// failing over is the main remedy.
pub fn quick_retry_delay(hint: Option<Duration>) -> Duration {
    hint.unwrap_or_else(|| Duration::from_millis(100 + fastrand::u64(0..200)))
}

/// Jitters a duration by ±20 %, so processes and models do not act in lockstep.
pub fn jitter(d: Duration) -> Duration {
    d.mul_f64(0.8 + fastrand::f64() * 0.4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budget_is_shared_and_runs_out() {
        let b = RetryBudget::new(3);
        assert!(b.try_take());
        assert!(b.try_take());
        assert!(b.try_take());
        assert!(!b.try_take(), "fourth retry within the minute is refused");
        let zero = RetryBudget::new(0);
        assert!(!zero.try_take());
    }

    #[test]
    fn delays() {
        let d = quick_retry_delay(None);
        assert!(d >= Duration::from_millis(100) && d < Duration::from_millis(300));
        assert_eq!(
            quick_retry_delay(Some(Duration::from_secs(2))),
            Duration::from_secs(2)
        );
        for _ in 0..100 {
            let j = jitter(Duration::from_secs(10));
            assert!(j >= Duration::from_secs(8) && j <= Duration::from_secs(12));
        }
    }
}
