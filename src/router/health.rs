//! Per-model health: circuit breakers keyed by `provider/model`, latency baselines, failure
//! windows and probe leases, kept in a small JSON file in the state dir so every aiw process on
//! the machine (a CI runner with many steps, several terminals) learns of an outage once.
//!
//! The file is read when its mtime changes and updated read-modify-write under an exclusive
//! lock on a sibling lock file, then replaced atomically (temp file + rename), so concurrent
//! writers never lose each other's updates or see a half-written file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::retry::jitter;
use crate::config::HealthSettings;
use crate::provider::{ErrorClass, ProviderError};

/// A model is only "slow" when its median is also this much above its baseline: a 2 ms model
/// taking 7 ms is noise (a busy machine), not degradation.
const MIN_LATENCY_EXCESS_MS: f64 = 250.0;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// RFC 3339 (seconds) for a Unix-ms timestamp.
pub fn rfc3339(ms: u64) -> String {
    // humantime cannot format past the year 9999: clamp ("never") instead of panicking.
    let ms = ms.min(253_402_300_799_000);
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
}

/// One call outcome kept for the window statistics.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    /// When (Unix ms).
    pub at: u64,
    /// False for failures that say something about health.
    pub ok: bool,
    /// Time to first token of a successful call.
    pub ttft: Option<u64>,
}

/// Everything remembered about one model.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct ModelRecord {
    /// Health-relevant failures in a row.
    pub consecutive_failures: u32,
    /// Outcomes within the window.
    pub samples: Vec<Sample>,
    /// The model's own normal time to first token (slow moving average of healthy calls).
    pub baseline_ms: Option<f64>,
    /// Out of rotation until this time (Unix ms); a probe must succeed after it.
    pub open_until: Option<u64>,
    /// How many times in a row the breaker opened (grows the open time).
    pub opened_count: u32,
    /// Why it is open.
    pub open_reason: Option<String>,
    /// A probe is in flight until this lease expires (so only one process probes).
    pub probing_until: Option<u64>,
    /// Class of the last error.
    pub last_error: Option<ErrorClass>,
    /// Its message (no secrets).
    pub last_error_message: Option<String>,
    /// When it happened.
    pub last_error_at: Option<u64>,
    /// Last success.
    pub last_ok_at: Option<u64>,
    /// Times the breaker opened for latency in a row (resets the baseline after 3).
    pub latency_opens: u32,
}

/// What a status page said about a provider, cached.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct StatusHint {
    /// When it was fetched (Unix ms).
    pub checked_at: u64,
    /// A component is in major outage.
    pub major_outage: bool,
    /// The page's overall indicator (none, minor, major, critical).
    pub indicator: String,
}

/// The whole state file.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HealthFile {
    /// Per `provider/model`.
    #[serde(default)]
    pub models: BTreeMap<String, ModelRecord>,
    /// Per provider name.
    #[serde(default)]
    pub status_pages: BTreeMap<String, StatusHint>,
}

/// Whether a model may get user traffic now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    /// Closed breaker: call it.
    Available,
    /// Open: skip it until the given time.
    Open {
        /// Unix ms.
        until: u64,
        /// Why.
        reason: String,
    },
    /// The open period is over: a probe must succeed before traffic returns.
    ProbeDue {
        /// A probe is already running (here or in another process).
        in_flight: bool,
    },
}

impl ModelRecord {
    /// The breaker decision at `now`.
    pub fn availability(&self, now: u64) -> Availability {
        match self.open_until {
            None => Availability::Available,
            Some(until) if now < until => Availability::Open {
                until,
                reason: self.open_reason.clone().unwrap_or_default(),
            },
            Some(_) => Availability::ProbeDue {
                in_flight: self.probing_until.is_some_and(|p| p > now),
            },
        }
    }

    fn prune(&mut self, now: u64, window: Duration) {
        let cutoff = now.saturating_sub(window.as_millis() as u64);
        self.samples.retain(|s| s.at >= cutoff);
        if self.samples.len() > 500 {
            let drop = self.samples.len() - 500;
            self.samples.drain(..drop);
        }
    }

    fn open(&mut self, now: u64, cfg: &HealthSettings, reason: String) {
        self.opened_count = self.opened_count.saturating_add(1);
        let exp = self.opened_count.saturating_sub(1).min(16);
        let base = cfg.base_open.saturating_mul(1 << exp).min(cfg.max_open);
        self.open_until = Some(now + jitter(base).as_millis() as u64);
        self.open_reason = Some(reason);
        self.probing_until = None;
    }

    /// Median and 95th percentile time to first token of successes in the window.
    pub fn latency(&self) -> (Option<u64>, Option<u64>) {
        let mut v: Vec<u64> = self.samples.iter().filter_map(|s| s.ttft).collect();
        if v.is_empty() {
            return (None, None);
        }
        v.sort_unstable();
        let pct = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        (Some(pct(0.5)), Some(pct(0.95)))
    }

    /// Failure rate in the window.
    pub fn error_rate(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        self.samples.iter().filter(|s| !s.ok).count() as f64 / self.samples.len() as f64
    }

    /// Records a success (a real answer or a probe).
    pub fn record_success(&mut self, now: u64, ttft: Option<u64>, cfg: &HealthSettings) {
        self.prune(now, cfg.window);
        self.consecutive_failures = 0;
        self.last_ok_at = Some(now);
        let was_open = self.open_until.is_some();
        self.open_until = None;
        self.open_reason = None;
        self.probing_until = None;
        if was_open {
            // Fresh start after recovery: old slow or failed samples must not reopen it.
            self.samples.clear();
        } else {
            self.opened_count = 0;
        }
        self.samples.push(Sample {
            at: now,
            ok: true,
            ttft,
        });
        if let Some(t) = ttft {
            let t = t as f64;
            match self.baseline_ms {
                None => self.baseline_ms = Some(t),
                Some(b) if t <= b * cfg.latency_factor => {
                    self.baseline_ms = Some(b * 0.9 + t * 0.1);
                }
                Some(_) => {}
            }
        }
        // Latency degradation: median of recent successes far above the model's own baseline.
        let recent: Vec<u64> = self.samples.iter().filter_map(|s| s.ttft).collect();
        if let (Some(b), true) = (self.baseline_ms, recent.len() >= 5) {
            let (median, _) = self.latency();
            if let Some(m) = median
                && m as f64 > b * cfg.latency_factor
                && m as f64 - b > MIN_LATENCY_EXCESS_MS
            {
                self.latency_opens += 1;
                let reason = format!(
                    "median latency {m} ms is over {:.0}x its usual {b:.0} ms",
                    cfg.latency_factor
                );
                if self.latency_opens >= 3 {
                    // Slow is the new normal: stop punishing it for that.
                    self.baseline_ms = Some(m as f64);
                    self.latency_opens = 0;
                }
                self.samples.clear();
                self.open(now, cfg, reason);
                return;
            }
        }
        self.latency_opens = 0;
    }

    /// Records a failure; returns true when this opened the breaker.
    pub fn record_failure(&mut self, now: u64, err: &ProviderError, cfg: &HealthSettings) -> bool {
        self.prune(now, cfg.window);
        self.last_error = Some(err.class);
        self.last_error_message = Some(err.message.chars().take(300).collect());
        self.last_error_at = Some(now);
        match err.class {
            ErrorClass::RateLimited => {
                // Respect the server: skip the model for as long as it asked (beyond what the
                // router is willing to wait for). Not a health failure.
                if let Some(after) = err.retry_after.filter(|d| *d > cfg.max_retry_wait) {
                    self.open_until = Some(now + after.as_millis() as u64);
                    self.open_reason = Some(format!("rate limited for {}s", after.as_secs()));
                    return true;
                }
                return false;
            }
            ErrorClass::QuotaExhausted => {
                self.open_until = Some(now + 3_600_000);
                self.open_reason = Some("quota or spend limit reached".into());
                return true;
            }
            c if !c.marks_unhealthy() => return false,
            _ => {}
        }
        self.consecutive_failures += 1;
        self.samples.push(Sample {
            at: now,
            ok: false,
            ttft: None,
        });
        let silent = matches!(
            err.class,
            ErrorClass::FirstTokenTimeout | ErrorClass::StallTimeout | ErrorClass::ConnectTimeout
        );
        let total = self.samples.len() as u32;
        let rate_trip = total >= cfg.min_requests && self.error_rate() > cfg.failure_rate;
        if silent || self.consecutive_failures >= cfg.failure_threshold || rate_trip {
            let why = if silent {
                format!("{} (a silent model costs seconds per call)", err.class)
            } else if rate_trip {
                format!("{:.0}% errors in the window", self.error_rate() * 100.0)
            } else {
                format!(
                    "{} failures in a row, last: {}",
                    self.consecutive_failures, err.class
                )
            };
            self.open(now, cfg, why);
            return true;
        }
        false
    }

    /// Records a failed probe: back to open, for longer.
    pub fn record_probe_failure(&mut self, now: u64, err: &ProviderError, cfg: &HealthSettings) {
        self.last_error = Some(err.class);
        self.last_error_message = Some(err.message.chars().take(300).collect());
        self.last_error_at = Some(now);
        self.open(now, cfg, format!("probe failed: {}", err.class));
    }
}

/// The shared health state: an in-memory copy of the state file, refreshed when the file
/// changes, and written through on every update.
#[derive(Debug)]
pub struct HealthStore {
    path: Option<PathBuf>,
    cache: Mutex<(HealthFile, Option<SystemTime>)>,
}

impl HealthStore {
    /// A store backed by `{state_dir}/health.json`.
    pub fn open(state_dir: &Path) -> Self {
        let path = state_dir.join("health.json");
        let store = Self {
            path: Some(path),
            cache: Mutex::new((HealthFile::default(), None)),
        };
        store.refresh();
        store
    }

    /// A store that lives only in memory (tests, or an unwritable state dir).
    pub fn in_memory() -> Self {
        Self {
            path: None,
            cache: Mutex::new((HealthFile::default(), None)),
        }
    }

    fn read_file(path: &Path) -> HealthFile {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(
                    "health state {} is damaged ({e}); starting fresh",
                    path.display()
                );
                HealthFile::default()
            }),
            Err(_) => HealthFile::default(),
        }
    }

    /// Reloads the file if another process changed it.
    fn refresh(&self) {
        let Some(path) = &self.path else { return };
        let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok();
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if mtime.is_some() && mtime != cache.1 {
            cache.0 = Self::read_file(path);
            cache.1 = mtime;
        }
    }

    /// A copy of one model's record.
    pub fn get(&self, model: &str) -> ModelRecord {
        self.refresh();
        self.cache
            .lock()
            .map(|c| c.0.models.get(model).cloned().unwrap_or_default())
            .unwrap_or_default()
    }

    /// A copy of the whole state.
    pub fn snapshot(&self) -> HealthFile {
        self.refresh();
        self.cache.lock().map(|c| c.0.clone()).unwrap_or_default()
    }

    /// Applies `f` to the state, read-modify-write under the file lock, and returns its result.
    pub fn update<R>(&self, f: impl FnOnce(&mut HealthFile) -> R) -> R {
        let Some(path) = &self.path else {
            let mut cache = self
                .cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            return f(&mut cache.0);
        };
        let mut cache = self
            .cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let lock = path.parent().and_then(|dir| {
            let lock = crate::files::open_private(&dir.join("health.lock")).ok()?;
            lock.lock().ok()?;
            Some(lock)
        });
        let mut state = if lock.is_some() {
            Self::read_file(path)
        } else {
            cache.0.clone()
        };
        let out = f(&mut state);
        if lock.is_some() {
            let bytes = serde_json::to_vec(&state).unwrap_or_default();
            match crate::files::write_atomic(path, &bytes, crate::files::Access::Private) {
                Ok(meta) => cache.1 = meta.modified().ok(),
                Err(e) => tracing::warn!("cannot write health state {}: {e}", path.display()),
            }
        }
        cache.0 = state;
        drop(lock);
        out
    }

    /// Applies `f` to one model's record.
    pub fn update_model<R>(&self, model: &str, f: impl FnOnce(&mut ModelRecord) -> R) -> R {
        self.update(|s| f(s.models.entry(model.to_string()).or_default()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> HealthSettings {
        HealthSettings {
            base_open: Duration::from_secs(10),
            ..HealthSettings::default()
        }
    }

    fn err(class: ErrorClass) -> ProviderError {
        ProviderError::new(class, "x")
    }

    #[test]
    fn opens_after_consecutive_failures_and_grows() {
        let c = cfg();
        let mut r = ModelRecord::default();
        assert!(!r.record_failure(1000, &err(ErrorClass::Overloaded), &c));
        assert!(!r.record_failure(1001, &err(ErrorClass::Overloaded), &c));
        assert!(r.record_failure(1002, &err(ErrorClass::Overloaded), &c));
        let until = r.open_until.unwrap();
        assert!((1002 + 8000..=1002 + 12000).contains(&until), "{until}");
        assert!(matches!(r.availability(1003), Availability::Open { .. }));
        assert_eq!(
            r.availability(until),
            Availability::ProbeDue { in_flight: false }
        );
        r.record_probe_failure(until, &err(ErrorClass::ServerError), &c);
        let second = r.open_until.unwrap() - until;
        assert!(
            (16000..=24000).contains(&second),
            "open time doubles: {second}"
        );
        r.record_success(until + 30_000, Some(100), &c);
        assert_eq!(r.availability(until + 30_001), Availability::Available);
    }

    #[test]
    fn silent_model_opens_at_once_config_problems_never() {
        let c = cfg();
        let mut r = ModelRecord::default();
        assert!(r.record_failure(0, &err(ErrorClass::FirstTokenTimeout), &c));
        let mut r = ModelRecord::default();
        for i in 0..10 {
            assert!(!r.record_failure(i, &err(ErrorClass::Auth), &c));
            assert!(!r.record_failure(i, &err(ErrorClass::InvalidRequest), &c));
        }
        assert_eq!(r.availability(11), Availability::Available);
        assert_eq!(r.last_error, Some(ErrorClass::InvalidRequest));
    }

    #[test]
    fn long_retry_after_skips_short_does_not() {
        let c = cfg();
        let mut r = ModelRecord::default();
        let short = err(ErrorClass::RateLimited).with_retry_after(Some(Duration::from_secs(1)));
        assert!(!r.record_failure(0, &short, &c));
        let long = err(ErrorClass::RateLimited).with_retry_after(Some(Duration::from_secs(60)));
        assert!(r.record_failure(0, &long, &c));
        assert_eq!(r.open_until, Some(60_000));
    }

    #[test]
    fn failure_rate_window_opens() {
        let c = HealthSettings {
            failure_threshold: 100,
            ..cfg()
        };
        let mut r = ModelRecord::default();
        for i in 0..19 {
            r.record_success(i, Some(100), &c);
        }
        assert!(!r.record_failure(20, &err(ErrorClass::ServerError), &c));
        // 2 failures of 21 = 9.5% > 5%
        assert!(r.record_failure(21, &err(ErrorClass::ServerError), &c));
    }

    #[test]
    fn latency_degradation_opens() {
        let c = cfg();
        let mut r = ModelRecord::default();
        for i in 0..10 {
            r.record_success(i, Some(100), &c);
        }
        assert_eq!(r.availability(11), Availability::Available);
        for i in 0..10 {
            r.record_success(20 + i, Some(1000), &c);
            if r.open_until.is_some() {
                break;
            }
        }
        assert!(
            r.open_until.is_some(),
            "10x slower than baseline opens the breaker"
        );
        assert!(r.open_reason.as_deref().unwrap().contains("latency"));
    }

    #[test]
    fn far_future_times_format_without_panicking() {
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn millisecond_jitter_on_a_fast_model_is_not_degradation() {
        let c = cfg();
        let mut r = ModelRecord::default();
        for i in 0..10 {
            r.record_success(i, Some(2), &c);
        }
        for i in 0..10 {
            r.record_success(20 + i, Some(9), &c);
        }
        assert_eq!(
            r.open_until, None,
            "4.5x slower but only 7 ms: a busy machine"
        );
    }

    #[test]
    fn store_is_shared_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = HealthStore::open(dir.path());
        let b = HealthStore::open(dir.path());
        a.update_model("p/m", |r| r.consecutive_failures = 2);
        // Another process's view picks up the change.
        std::thread::sleep(Duration::from_millis(20));
        b.update_model("p/m", |r| r.consecutive_failures += 1);
        assert_eq!(a.get("p/m").consecutive_failures, 3);
        // A damaged file is replaced, not fatal.
        std::fs::write(dir.path().join("health.json"), b"{not json").unwrap();
        let c = HealthStore::open(dir.path());
        assert_eq!(c.get("p/m"), ModelRecord::default());
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let p = dir.path().to_path_buf();
                std::thread::spawn(move || {
                    let s = HealthStore::open(&p);
                    for _ in 0..25 {
                        s.update_model("p/m", |r| r.consecutive_failures += 1);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(
            HealthStore::open(dir.path())
                .get("p/m")
                .consecutive_failures,
            100
        );
    }
}
