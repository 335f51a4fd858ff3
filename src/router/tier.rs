//! The two kinds of tier a route mixes, as policy objects: remote models (network peers with
//! outages, rate limits and silences) and the local model (in-process, last resort, never
//! "down" in the breaker's sense). Every place the router treats them differently asks the
//! model's [`TierPolicy`] instead of checking for "local" itself.

use crate::config::Timeouts;
use crate::provider::{Client, ProviderError};

/// How the router treats the models of one kind of tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TierPolicy {
    /// A name for logs (`remote`, `local`).
    pub name: &'static str,
    /// Calls are recorded in the shared health state (breaker, provider hints, quality
    /// tripwire), and the model is skipped while that state says so.
    pub tracks_health: bool,
    /// A network peer: a connection failure may mean the machine is offline, and it counts as
    /// an alternative worth failing over to instead of retrying or waiting.
    pub remote: bool,
    /// Tried only after every remote model (whatever its place in the route), and loaded
    /// ahead of time once the route moves past its first model.
    pub last_resort: bool,
    /// Silence limits (first token, stall) apply. Off for the local model: loading a big
    /// model may take longer than any limit meant for remote providers; only the total
    /// timeout applies.
    pub silence_limits: bool,
}

impl TierPolicy {
    /// Remote providers.
    pub const REMOTE: Self = Self {
        name: "remote",
        tracks_health: true,
        remote: true,
        last_resort: false,
        silence_limits: true,
    };

    /// The in-process local model.
    pub const LOCAL: Self = Self {
        name: "local",
        tracks_health: false,
        remote: false,
        last_resort: true,
        silence_limits: false,
    };

    /// The policy for a provider's client.
    pub fn of(client: &Client) -> &'static Self {
        if client.is_local() {
            &Self::LOCAL
        } else {
            &Self::REMOTE
        }
    }

    /// Starts loading `model` ahead of time when its tier is slow to start (the local model
    /// reads gigabytes from disk); nothing for remote models.
    pub fn prewarm(client: &Client, model: &str) {
        if let Client::Local(local) = client {
            local.prewarm(model);
        }
    }

    /// Whether `model` can answer at all, as known without a call: a local model that is not
    /// installed or not built in cannot. Remote models are always "ready" (only a call tells).
    pub fn ready(client: &Client, model: &str) -> Result<(), ProviderError> {
        match client {
            Client::Local(local) => local.ready(model).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// The timeouts a call on this tier runs with.
    pub fn timeouts(&self, configured: Timeouts) -> Timeouts {
        if self.silence_limits {
            configured
        } else {
            Timeouts {
                first_token: configured.total,
                stall: configured.total,
                ..configured
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn local_tier_waits_only_for_the_total_timeout() {
        let t = Timeouts {
            first_token: Duration::from_secs(1),
            stall: Duration::from_secs(2),
            total: Duration::from_secs(60),
            ..Timeouts::default()
        };
        assert_eq!(TierPolicy::REMOTE.timeouts(t), t);
        let local = TierPolicy::LOCAL.timeouts(t);
        assert_eq!(local.first_token, Duration::from_secs(60));
        assert_eq!(local.stall, Duration::from_secs(60));
    }
}
