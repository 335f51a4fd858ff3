//! The router's clock: wall time in Unix milliseconds for health, cooldowns, retry budgets and
//! the journal, and the sleeps the router itself decides on (a quick retry, waiting out a
//! short `retry-after`). The real clock reads the system time and sleeps on tokio; the virtual
//! one is a counter that tests move forward, and on which a sleep advances time at once, so
//! breaker, cooldown and rate-limit tests run in microseconds and never race the machine.
//!
//! Network timeouts (first token, stall, total) are not the router's choice of when to act but
//! limits on real I/O, so they stay on tokio's timers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock handle; cheap to clone, every clone reads the same time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    /// `None`: the system clock. `Some`: virtual time in Unix ms, moved by [`Clock::advance`].
    virtual_ms: Option<Arc<AtomicU64>>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A virtual clock that starts at `start_ms` (Unix ms) and moves only when told to.
    pub fn virtual_at(start_ms: u64) -> Self {
        Self {
            virtual_ms: Some(Arc::new(AtomicU64::new(start_ms))),
        }
    }

    /// A virtual clock that starts at the current system time (so times it prints look real).
    pub fn virtual_now() -> Self {
        Self::virtual_at(system_now_ms())
    }

    /// Whether this is a virtual clock.
    pub fn is_virtual(&self) -> bool {
        self.virtual_ms.is_some()
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        match &self.virtual_ms {
            Some(t) => t.load(Ordering::SeqCst),
            None => system_now_ms(),
        }
    }

    /// Moves a virtual clock forward by `d`; the system clock cannot be moved (no-op).
    pub fn advance(&self, d: Duration) {
        if let Some(t) = &self.virtual_ms {
            t.fetch_add(millis(d), Ordering::SeqCst);
        }
    }

    /// Waits `d`: on the system clock a tokio sleep; on a virtual clock the time moves forward
    /// by `d` at once (after a yield, so other tasks get to run as they would during a sleep).
    pub async fn sleep(&self, d: Duration) {
        if self.is_virtual() {
            self.advance(d);
            tokio::task::yield_now().await;
        } else {
            tokio::time::sleep(d).await;
        }
    }
}

/// Milliseconds since the Unix epoch, from the system clock.
fn system_now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

/// A duration in whole milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_clock_moves_only_when_told_and_clones_share_it() {
        let c = Clock::virtual_at(1_000);
        let d = c.clone();
        assert_eq!(c.now_ms(), 1_000);
        d.advance(Duration::from_millis(250));
        assert_eq!(c.now_ms(), 1_250);
        assert!(c.is_virtual());
        assert!(!Clock::system().is_virtual());
    }

    #[tokio::test]
    async fn virtual_sleep_advances_at_once() {
        let c = Clock::virtual_at(0);
        c.sleep(Duration::from_secs(3600)).await;
        assert_eq!(c.now_ms(), 3_600_000);
    }

    #[test]
    fn system_clock_is_after_2020() {
        assert!(Clock::system().now_ms() > 1_577_836_800_000);
    }
}
