//! The optional status-page hint: polls a provider's Statuspage v2 `summary.json` (at most
//! every `health.status_page_interval`, cached in the health state) and reports whether a
//! component is in major outage. Only ever a hint that lowers the provider's priority: status
//! pages lag, and they list products, not models.

use serde::Deserialize;

use super::clock::{Clock, millis};
use super::health::{HealthStore, StatusHint};

#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    status: Option<PageStatus>,
    #[serde(default)]
    components: Vec<Component>,
}

#[derive(Deserialize)]
struct PageStatus {
    #[serde(default)]
    indicator: String,
}

#[derive(Deserialize)]
struct Component {
    #[serde(default)]
    status: String,
    #[serde(default)]
    group: bool,
}

/// Parses a summary.json body fetched at `now` (Unix ms) into a hint. Group components are
/// ignored (their children carry the state); unknown statuses are not outages.
pub fn parse_summary(body: &[u8], now: u64) -> Option<StatusHint> {
    let s: Summary = serde_json::from_slice(body).ok()?;
    Some(StatusHint {
        checked_at: now,
        major_outage: s
            .components
            .iter()
            .any(|c| !c.group && c.status == "major_outage"),
        indicator: s.status.map(|p| p.indicator).unwrap_or_default(),
    })
}

/// Fetches the page if the cached hint is older than `interval`, and stores the result.
pub async fn refresh(
    http: &reqwest::Client,
    store: &HealthStore,
    clock: &Clock,
    provider: &str,
    url: &str,
    interval: std::time::Duration,
) {
    let cached = store.snapshot().status_pages.get(provider).cloned();
    if cached.is_some_and(|c| clock.now_ms().saturating_sub(c.checked_at) < millis(interval)) {
        return;
    }
    let fetched = async {
        let resp = http
            .get(url)
            .timeout(std::time::Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        if !resp.status().is_success() {
            return None;
        }
        parse_summary(&resp.bytes().await.ok()?, clock.now_ms())
    }
    .await;
    // A failed fetch is remembered too (as "no outage known"), so it is not retried per call.
    let hint = fetched.unwrap_or(StatusHint {
        checked_at: clock.now_ms(),
        major_outage: false,
        indicator: "unknown".into(),
    });
    store.update(|s| {
        s.status_pages.insert(provider.to_string(), hint);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_outage_of_a_component_counts_groups_do_not() {
        let body = br#"{"page":{"id":"x"},"status":{"indicator":"major","description":"Major"},
          "components":[{"id":"a","status":"operational","group":false},
                        {"id":"g","status":"major_outage","group":true},
                        {"id":"b","status":"major_outage"}]}"#;
        let h = parse_summary(body, 7).unwrap();
        assert_eq!(h.checked_at, 7);
        assert!(h.major_outage);
        assert_eq!(h.indicator, "major");
        let body = br#"{"status":{"indicator":"minor"},"components":[{"status":"degraded_performance"},{"status":"under_maintenance"},{"status":"something_new"}]}"#;
        assert!(!parse_summary(body, 0).unwrap().major_outage);
        assert!(parse_summary(b"<html>", 0).is_none());
    }
}
