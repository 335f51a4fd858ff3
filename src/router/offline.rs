//! Offline detection: after a network failure, a quick TCP check of the route's other remote
//! providers, so an offline machine goes straight to the local tier instead of paying every
//! provider's connect timeout; when none is reachable, every remote model is taken out of
//! rotation at once.

use std::time::Duration;

use super::Router;
use super::plan::Candidate;
use crate::config::ModelRef;
use crate::provider::{ErrorClass, ProviderError};

impl Router {
    /// Checks in parallel whether the remote providers of `failed` and `rest` can be reached
    /// at all (a TCP connect, bounded by the connect timeout and 2 s). Returns the unreachable
    /// provider names; if none is reachable, every remote model of every route is taken out
    /// of rotation.
    pub(super) async fn unreachable_providers(
        &self,
        failed: &ModelRef,
        rest: &[Candidate<'_>],
    ) -> Vec<String> {
        let s = &self.inner.settings;
        let mut providers: Vec<String> = vec![failed.provider.clone()];
        for c in rest {
            if c.policy.remote && !providers.contains(&c.model.provider) {
                providers.push(c.model.provider.clone());
            }
        }
        let limit = s.timeouts.connect.min(Duration::from_secs(2));
        let checks = providers.iter().map(|name| {
            let url = s
                .providers
                .get(name)
                .map(|p| p.base_url.clone())
                .unwrap_or_default();
            async move {
                (
                    name.clone(),
                    tokio::time::timeout(limit, reachable(&url))
                        .await
                        .unwrap_or(false),
                )
            }
        });
        let results = futures_util::future::join_all(checks).await;
        let down: Vec<String> = results
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(n, _)| n.clone())
            .collect();
        if down.len() == results.len() {
            tracing::warn!("no remote provider is reachable: treating the machine as offline");
            let cfg = s.health.clone();
            let err = ProviderError::new(
                ErrorClass::ConnectTimeout,
                "offline: no remote provider reachable",
            );
            let now = self.inner.clock.now_ms();
            for m in s.all_route_models() {
                if down.contains(&m.provider) {
                    self.inner.health.update_model(&m.to_string(), |r| {
                        if r.open_until.is_none() {
                            r.record_probe_failure(now, &err, &cfg);
                        }
                    });
                }
            }
        }
        // The provider that just failed stays eligible for its other models only if reachable.
        down
    }
}

/// Whether a TCP connection to the URL's host can be opened.
async fn reachable(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    // Behind a proxy, a direct connection proves nothing (and usually fails): leave the
    // verdict to the real requests rather than declaring the machine offline. Loopback
    // never goes through the proxy (see provider::http::client), so it is checked directly.
    let proxy_vars: &[&str] = if u.scheme() == "https" {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    let loopback = matches!(
        u.host_str(),
        Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
    );
    if !loopback
        && proxy_vars
            .iter()
            .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
    {
        return true;
    }
    let Some(host) = u.host_str() else {
        return false;
    };
    let port = u.port_or_known_default().unwrap_or(443);
    tokio::net::TcpStream::connect((host, port)).await.is_ok()
}
