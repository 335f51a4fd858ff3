//! The user's "skip this silent model now" signal for one request: [`SkipSignal`]. The caller
//! keeps a clone and calls [`SkipSignal::skip`]; the router gives up on the model it is
//! waiting on for a first token at once, as if that model's first-token limit had passed,
//! but without counting it against the model's health (a skip says nothing about it).
//!
//! A skip applies only to the call that was announced ([`super::RouterEvent::Attempting`])
//! before it and has not produced content yet: a press while text streams, between calls, or
//! before the request starts does nothing, and is never kept for a later model.

use std::sync::Arc;

use tokio::sync::watch;

use crate::provider::{ErrorClass, ProviderError};

/// A per-request skip handle. Cheap to clone; every clone signals the same request.
#[derive(Clone, Debug)]
pub struct SkipSignal {
    /// The number of skips so far, and why the last one was asked for.
    tx: Arc<watch::Sender<(u64, String)>>,
}

impl Default for SkipSignal {
    fn default() -> Self {
        Self::new()
    }
}

impl SkipSignal {
    /// A signal no one has fired yet.
    pub fn new() -> Self {
        Self {
            tx: Arc::new(watch::Sender::new((0, String::new()))),
        }
    }

    /// Asks the request to move on from the model it is waiting on now; `why` is who asked,
    /// for the failover line (`you pressed F4`).
    pub fn skip(&self, why: &str) {
        self.tx.send_modify(|(n, w)| {
            *n += 1;
            why.clone_into(w);
        });
    }

    /// Starts listening for skips: only those asked for from now on count.
    pub(super) fn arm(&self) -> Armed {
        Armed {
            rx: self.tx.subscribe(),
        }
    }
}

/// Listening for the skips of one call.
pub(super) struct Armed {
    rx: watch::Receiver<(u64, String)>,
}

impl Armed {
    /// Waits for a skip and returns the error the call ends with: class
    /// [`ErrorClass::Skipped`], the message saying how long the model was waited for and
    /// who skipped it (`after 3.2s (you pressed F4)`), as [`super::failover_line`] shows it.
    pub async fn fired(&mut self, started: std::time::Instant) -> ProviderError {
        if self.rx.changed().await.is_err() {
            // Every handle is gone, so no skip can come.
            std::future::pending::<()>().await;
        }
        let why = self.rx.borrow_and_update().1.clone();
        skipped(started.elapsed(), &why)
    }
}

/// The error of a call the user skipped after `waited`.
pub(super) fn skipped(waited: std::time::Duration, why: &str) -> ProviderError {
    let after = format!("after {:.1}s", waited.as_secs_f64());
    let message = if why.is_empty() {
        after
    } else {
        format!("{after} ({why})")
    };
    ProviderError::new(ErrorClass::Skipped, message)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[tokio::test]
    async fn a_skip_before_arming_is_not_kept_for_the_call() {
        let s = SkipSignal::new();
        s.skip("early");
        let mut armed = s.arm();
        let waited = tokio::time::timeout(Duration::ZERO, armed.fired(Instant::now())).await;
        assert!(waited.is_err(), "a skip from before the call fired it");
        s.skip("you pressed F4");
        let e = armed.fired(Instant::now()).await;
        assert_eq!(e.class, ErrorClass::Skipped);
        assert!(e.message.ends_with("(you pressed F4)"), "{}", e.message);
        assert!(e.message.starts_with("after 0."), "{}", e.message);
    }

    #[tokio::test]
    async fn a_clone_signals_the_same_request() {
        let s = SkipSignal::new();
        let mut armed = s.arm();
        s.clone().skip("");
        let e = armed.fired(Instant::now()).await;
        assert!(
            e.message.starts_with("after ") && !e.message.contains('('),
            "{}",
            e.message
        );
    }
}
