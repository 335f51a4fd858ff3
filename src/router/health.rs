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
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::clock::millis;
use super::retry::Backoff;
use crate::config::HealthSettings;
use crate::provider::{ErrorClass, ProviderError};

/// A model is only "slow" when its median is also this much above its baseline: a 2 ms model
/// taking 7 ms is noise (a busy machine), not degradation.
const MIN_LATENCY_EXCESS_MS: f64 = 250.0;

/// Open periods vary by ±20 % so processes and models do not probe in lockstep.
const OPEN_JITTER: f64 = 0.2;

/// The longest "come back later" a provider's hint is believed for: a broken header must not
/// take a model away for good.
const MAX_HINT: Duration = Duration::from_secs(24 * 3600);

/// One call outcome kept for the window statistics.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Sample {
    /// When (Unix ms).
    pub at: u64,
    /// False for failures that say something about health (soft failures included).
    pub ok: bool,
    /// Time to first token of a call that answered.
    pub ttft: Option<u64>,
    /// A soft failure: the call answered, but the answer tripped the quality tripwire.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub soft: bool,
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
    /// How many times in a row the breaker opened (grows the open time); reset only once the
    /// model has served a full window's worth of calls well after recovering, so an
    /// intermittent outage backs off instead of flapping.
    pub opened_count: u32,
    /// Why it is open.
    pub open_reason: Option<String>,
    /// A probe is in flight until this lease expires (so only one process probes).
    pub probing_until: Option<u64>,
    /// What the provider said: do not call before this time (Unix ms). From `retry-after`,
    /// `retry-after-ms`, rate-limit reset headers or Gemini's `RetryInfo`. Not a health
    /// verdict: once it passes, traffic returns without a probe.
    #[serde(default)]
    pub not_before: Option<u64>,
    /// Why (`rate_limited: the provider asked to wait 2s`).
    #[serde(default)]
    pub not_before_reason: Option<String>,
    /// Soft failures (quality tripwire) in a row.
    #[serde(default)]
    pub soft_failures: u32,
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
    /// Healthy, but its provider asked not to be called before `until`.
    NotBefore {
        /// Unix ms.
        until: u64,
        /// What the provider said.
        reason: String,
    },
}

/// Why an answer that arrived counts as a soft failure (the quality tripwire).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SoftFailure {
    /// No text and no tool call.
    Empty,
    /// The request required a tool call (`tool_choice` any or named) and none came.
    MissingToolCall,
    /// It stopped at `max_tokens` with far fewer tokens than the request's limit.
    EarlyMaxTokens,
}

impl SoftFailure {
    /// A short description for reasons and logs.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::MissingToolCall => "missing the required tool call",
            Self::EarlyMaxTokens => "cut at max_tokens far below the limit",
        }
    }
}

impl ModelRecord {
    /// The breaker decision at `now`.
    pub fn availability(&self, now: u64) -> Availability {
        match self.open_until {
            Some(until) if now < until => Availability::Open {
                until,
                reason: self.open_reason.clone().unwrap_or_default(),
            },
            // Not even a probe before the time the provider asked for.
            Some(_) if self.not_before.is_some_and(|t| now < t) => Availability::Open {
                until: self.not_before.unwrap_or(now),
                reason: self.not_before_reason.clone().unwrap_or_default(),
            },
            Some(_) => Availability::ProbeDue {
                in_flight: self.probing_until.is_some_and(|p| p > now),
            },
            None => match self.not_before {
                Some(until) if now < until => Availability::NotBefore {
                    until,
                    reason: self.not_before_reason.clone().unwrap_or_default(),
                },
                _ => Availability::Available,
            },
        }
    }

    fn prune(&mut self, now: u64, window: Duration) {
        let cutoff = now.saturating_sub(millis(window));
        self.samples.retain(|s| s.at >= cutoff);
        if self.samples.len() > 500 {
            let drop = self.samples.len() - 500;
            self.samples.drain(..drop);
        }
    }

    fn open(&mut self, now: u64, cfg: &HealthSettings, reason: String) {
        self.opened_count = self.opened_count.saturating_add(1);
        let backoff = Backoff {
            base: cfg.base_open,
            max: cfg.max_open,
            jitter: OPEN_JITTER,
        };
        self.open_until = Some(now.saturating_add(millis(backoff.delay(self.opened_count))));
        self.open_reason = Some(reason);
        self.probing_until = None;
    }

    /// Remembers the provider's "not before" hint carried by `err`, if any.
    fn remember_hint(&mut self, now: u64, err: &ProviderError) {
        let Some(after) = err.retry_after else {
            return;
        };
        let until = now.saturating_add(millis(after.min(MAX_HINT)));
        let current = self.not_before.filter(|t| *t > now);
        if current.is_some_and(|t| t >= until) {
            return;
        }
        self.not_before = Some(until);
        self.not_before_reason = Some(format!(
            "{}: the provider asked to wait {}",
            err.class,
            humantime::format_duration(Duration::from_millis(millis(after) / 100 * 100))
        ));
    }

    fn note_error(&mut self, now: u64, err: &ProviderError) {
        self.last_error = Some(err.class);
        self.last_error_message = Some(err.message.chars().take(300).collect());
        self.last_error_at = Some(now);
    }

    /// Median and 95th percentile time to first token of answers in the window.
    pub fn latency(&self) -> (Option<u64>, Option<u64>) {
        let mut v: Vec<u64> = self.samples.iter().filter_map(|s| s.ttft).collect();
        if v.is_empty() {
            return (None, None);
        }
        v.sort_unstable();
        let pct = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
        (Some(pct(0.5)), Some(pct(0.95)))
    }

    /// Failure rate in the window (soft failures count).
    pub fn error_rate(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        self.samples.iter().filter(|s| !s.ok).count() as f64 / self.samples.len() as f64
    }

    /// Whether the window's failure rate is over the limit, with enough calls to judge.
    fn rate_tripped(&self, cfg: &HealthSettings) -> bool {
        self.samples.len() as u32 >= cfg.min_requests && self.error_rate() > cfg.failure_rate
    }

    fn rate_reason(&self) -> String {
        format!("{:.0}% errors in the window", self.error_rate() * 100.0)
    }

    /// Records a success (a real answer that passed the tripwire, or a probe).
    pub fn record_success(&mut self, now: u64, ttft: Option<u64>, cfg: &HealthSettings) {
        self.prune(now, cfg.window);
        self.consecutive_failures = 0;
        self.soft_failures = 0;
        self.last_ok_at = Some(now);
        self.not_before = None;
        self.not_before_reason = None;
        let was_open = self.open_until.is_some();
        self.open_until = None;
        self.open_reason = None;
        self.probing_until = None;
        if was_open {
            // Fresh start after recovery: old slow or failed samples must not reopen it.
            self.samples.clear();
        }
        self.samples.push(Sample {
            at: now,
            ok: true,
            ttft,
            soft: false,
        });
        if !was_open
            && self.samples.len() as u32 >= cfg.min_requests
            && self.error_rate() <= cfg.failure_rate / 2.0
        {
            // A full window of good calls since it last opened: the outage is over, so the
            // next one starts again from the shortest open period.
            self.opened_count = 0;
        }
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
        let recent = self.samples.iter().filter(|s| s.ttft.is_some()).count();
        if let (Some(b), true) = (self.baseline_ms, recent >= 5) {
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

    /// Records an answer that arrived but tripped the quality tripwire: the answer stands,
    /// but for health it is a failure. A model that keeps producing them is taken out of
    /// rotation like a slow one. Returns true when this opened the breaker.
    pub fn record_soft_failure(
        &mut self,
        now: u64,
        ttft: Option<u64>,
        why: SoftFailure,
        cfg: &HealthSettings,
    ) -> bool {
        self.prune(now, cfg.window);
        self.consecutive_failures = 0;
        self.soft_failures = self.soft_failures.saturating_add(1);
        self.last_ok_at = Some(now);
        self.not_before = None;
        self.samples.push(Sample {
            at: now,
            ok: false,
            ttft,
            soft: true,
        });
        let in_a_row = cfg.quality_failure_threshold > 0
            && self.soft_failures >= cfg.quality_failure_threshold;
        if in_a_row || self.rate_tripped(cfg) {
            let reason = if in_a_row {
                format!(
                    "{} answers in a row were degraded, last: {}",
                    self.soft_failures,
                    why.describe()
                )
            } else {
                self.rate_reason()
            };
            self.soft_failures = 0;
            self.samples.clear();
            self.open(now, cfg, reason);
            return true;
        }
        false
    }

    /// Records a failure; returns true when this took the model out of rotation (its breaker
    /// opened, or the provider said when to come back).
    pub fn record_failure(&mut self, now: u64, err: &ProviderError, cfg: &HealthSettings) -> bool {
        self.prune(now, cfg.window);
        self.note_error(now, err);
        self.remember_hint(now, err);
        let hinted = self.not_before.is_some_and(|t| t > now);
        match err.class {
            // Respect the server: it is not sick, it asked for a pause (remembered above).
            ErrorClass::RateLimited => return hinted,
            ErrorClass::QuotaExhausted => {
                self.open_until = Some(now + 3_600_000);
                self.open_reason = Some("quota or spend limit reached".into());
                return true;
            }
            c if !c.marks_unhealthy() => return hinted,
            _ => {}
        }
        self.consecutive_failures += 1;
        self.samples.push(Sample {
            at: now,
            ok: false,
            ttft: None,
            soft: false,
        });
        let silent = matches!(
            err.class,
            ErrorClass::FirstTokenTimeout | ErrorClass::StallTimeout | ErrorClass::ConnectTimeout
        );
        let rate_trip = self.rate_tripped(cfg);
        if silent || self.consecutive_failures >= cfg.failure_threshold || rate_trip {
            let why = if silent {
                format!("{} (a silent model costs seconds per call)", err.class)
            } else if rate_trip {
                self.rate_reason()
            } else {
                format!(
                    "{} failures in a row, last: {}",
                    self.consecutive_failures, err.class
                )
            };
            self.open(now, cfg, why);
            return true;
        }
        hinted
    }

    /// Records a failed probe: back to open, for longer (and the provider's hint, if any).
    pub fn record_probe_failure(&mut self, now: u64, err: &ProviderError, cfg: &HealthSettings) {
        self.note_error(now, err);
        self.remember_hint(now, err);
        self.open(now, cfg, format!("probe failed: {}", err.class));
    }
}

/// What identifies one version of the state file: every write replaces it (a new inode) and
/// mtime alone may not tick between two writes in the same millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    mtime: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(path: &Path) -> Option<Self> {
        let m = std::fs::metadata(path).ok()?;
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(&m);
        #[cfg(not(unix))]
        let inode = 0;
        Some(Self {
            mtime: m.modified().ok(),
            len: m.len(),
            inode,
        })
    }
}

/// The shared health state: an in-memory copy of the state file, refreshed when the file
/// changes, and written through on every update; with a fleet store (Redis/Valkey, see
/// `fleet`), the fleet's record of a model is the one that counts while the store answers, and
/// every update goes to both.
#[derive(Debug)]
pub struct HealthStore {
    path: Option<PathBuf>,
    cache: Mutex<(HealthFile, Option<Stamp>)>,
    fleet: Option<super::fleet::Fleet>,
}

impl HealthStore {
    /// A store backed by `{state_dir}/health.json`.
    pub fn open(state_dir: &Path) -> Self {
        let path = state_dir.join("health.json");
        let store = Self {
            path: Some(path),
            cache: Mutex::new((HealthFile::default(), None)),
            fleet: None,
        };
        store.refresh();
        store
    }

    /// A store that lives only in memory (tests, or an unwritable state dir).
    pub fn in_memory() -> Self {
        Self {
            path: None,
            cache: Mutex::new((HealthFile::default(), None)),
            fleet: None,
        }
    }

    /// Shares model records with a fleet store.
    #[must_use]
    pub fn with_fleet(mut self, fleet: super::fleet::Fleet) -> Self {
        self.fleet = Some(fleet);
        self
    }

    /// The fleet store, when there is one.
    pub fn fleet(&self) -> Option<&super::fleet::Fleet> {
        self.fleet.as_ref()
    }

    /// The fleet store's state, when there is one (for `aiw status`).
    pub fn fleet_status(&self) -> Option<super::fleet::FleetStatus> {
        self.fleet.as_ref().map(super::fleet::Fleet::status)
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
        let stamp = Stamp::of(path);
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        if stamp.is_some() && stamp != cache.1 {
            cache.0 = Self::read_file(path);
            cache.1 = stamp;
        }
    }

    /// A copy of one model's record: the fleet's while a fleet store answers, else this
    /// machine's.
    pub fn get(&self, model: &str) -> ModelRecord {
        if let Some(rec) = self.fleet.as_ref().and_then(|f| f.get(model)) {
            return rec;
        }
        self.local(model)
    }

    fn local(&self, model: &str) -> ModelRecord {
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
                Ok(_) => cache.1 = Stamp::of(path),
                Err(e) => tracing::warn!("cannot write health state {}: {e}", path.display()),
            }
        }
        cache.0 = state;
        drop(lock);
        out
    }

    /// Applies `f` to one model's record: on the fleet's record (compare-and-set) while a
    /// fleet store answers, and the result is written to this machine's file too, so it can go
    /// on alone when the store goes away.
    pub fn update_model<R>(&self, model: &str, mut f: impl FnMut(&mut ModelRecord) -> R) -> R {
        if let Some(fleet) = &self.fleet {
            let local = self.local(model);
            if let Some((rec, out)) = fleet.update(model, &local, &mut f) {
                self.update(|s| {
                    s.models.insert(model.to_string(), rec);
                });
                return out;
            }
        }
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
    fn every_retry_hint_is_remembered_as_not_before_and_expires_without_a_probe() {
        let c = cfg();
        let mut r = ModelRecord::default();
        let short = err(ErrorClass::RateLimited).with_retry_after(Some(Duration::from_secs(2)));
        assert!(r.record_failure(1_000, &short, &c), "a hint takes it out");
        assert_eq!(r.not_before, Some(3_000));
        assert!(matches!(
            r.availability(2_500),
            Availability::NotBefore { until: 3_000, .. }
        ));
        assert_eq!(r.availability(3_000), Availability::Available, "no probe");
        assert_eq!(r.consecutive_failures, 0, "a rate limit is not sickness");
        // A shorter hint never shortens a longer one; a later, longer one extends it.
        let shorter = err(ErrorClass::RateLimited).with_retry_after(Some(Duration::from_secs(1)));
        r.record_failure(1_500, &shorter, &c);
        assert_eq!(r.not_before, Some(3_000));
        let overloaded =
            err(ErrorClass::Overloaded).with_retry_after(Some(Duration::from_secs(60)));
        r.record_failure(2_000, &overloaded, &c);
        assert_eq!(r.not_before, Some(62_000));
        assert_eq!(r.consecutive_failures, 1, "a 529 still counts for health");
        // An open breaker is not probed before the provider's time either.
        let mut open = ModelRecord::default();
        for t in 0..3 {
            open.record_failure(t, &err(ErrorClass::Overloaded), &c);
        }
        let until = open.open_until.unwrap();
        open.record_probe_failure(
            until,
            &err(ErrorClass::RateLimited).with_retry_after(Some(Duration::from_secs(600))),
            &c,
        );
        let reopened = open.open_until.unwrap();
        assert!(matches!(
            open.availability(reopened + 1),
            Availability::Open { until, .. } if until == open.not_before.unwrap()
        ));
        // A success clears it (the provider took the call after all).
        r.record_success(62_000, Some(100), &c);
        assert_eq!(r.not_before, None);
        // A rate limit without a hint is not remembered.
        let mut r = ModelRecord::default();
        assert!(!r.record_failure(0, &err(ErrorClass::RateLimited), &c));
        assert_eq!(r.availability(1), Availability::Available);
    }

    #[test]
    fn absurd_hints_are_capped_at_a_day() {
        let mut r = ModelRecord::default();
        let e = err(ErrorClass::RateLimited).with_retry_after(Some(Duration::from_secs(1 << 40)));
        r.record_failure(0, &e, &cfg());
        assert_eq!(r.not_before, Some(24 * 3_600_000));
    }

    #[test]
    fn thirty_percent_intermittent_errors_open_five_percent_do_not() {
        let c = HealthSettings {
            failure_threshold: 100,
            ..cfg()
        };
        // 3 errors in every 10 calls, never 3 in a row.
        let pattern = [
            true, true, false, true, false, true, true, false, true, true,
        ];
        let mut r = ModelRecord::default();
        let mut opened_at = None;
        for i in 0..100u64 {
            let opened = if pattern[i as usize % 10] {
                r.record_success(i * 100, Some(100), &c);
                false
            } else {
                r.record_failure(i * 100, &err(ErrorClass::ServerError), &c)
            };
            if opened {
                opened_at = Some(i);
                break;
            }
        }
        let at = opened_at.expect("30% errors open the breaker");
        assert!(at < 30, "within the first window's worth of calls: {at}");
        assert!(
            r.open_reason
                .as_deref()
                .unwrap()
                .contains("errors in the window")
        );

        let mut r = ModelRecord::default();
        for i in 0..1000u64 {
            if i % 20 == 19 {
                assert!(!r.record_failure(i * 100, &err(ErrorClass::ServerError), &c));
            } else {
                r.record_success(i * 100, Some(100), &c);
            }
        }
        assert_eq!(r.availability(100_000), Availability::Available);
    }

    #[test]
    fn reopening_soon_after_recovery_backs_off_instead_of_flapping() {
        let c = cfg();
        let mut r = ModelRecord::default();
        let e = err(ErrorClass::Overloaded);
        for t in 0..3 {
            r.record_failure(t, &e, &c);
        }
        assert_eq!(r.opened_count, 1);
        // The probe succeeds, a few calls work, then it fails again: the open period grows.
        let t = r.open_until.unwrap();
        r.record_success(t, None, &c);
        for i in 1..5 {
            r.record_success(t + i, Some(100), &c);
        }
        for i in 5..8 {
            r.record_failure(t + i, &e, &c);
        }
        assert_eq!(r.opened_count, 2, "the second open is twice as long");
        let second = r.open_until.unwrap() - (t + 7);
        assert!((16_000..=24_000).contains(&second), "{second}");
        // A full window of good calls after recovery resets it.
        let t = r.open_until.unwrap();
        r.record_success(t, None, &c);
        for i in 1..=u64::from(c.min_requests) {
            r.record_success(t + i, Some(100), &c);
        }
        assert_eq!(r.opened_count, 0);
    }

    #[test]
    fn soft_failures_in_a_row_degrade_the_model_like_a_slow_one() {
        let c = cfg();
        let mut r = ModelRecord::default();
        assert!(!r.record_soft_failure(0, Some(50), SoftFailure::Empty, &c));
        assert!(!r.record_soft_failure(1, Some(50), SoftFailure::MissingToolCall, &c));
        assert!(
            (r.error_rate() - 1.0).abs() < f64::EPSILON,
            "soft failures count"
        );
        assert!(r.record_soft_failure(2, Some(50), SoftFailure::EarlyMaxTokens, &c));
        assert!(matches!(r.availability(3), Availability::Open { .. }));
        let why = r.open_reason.clone().unwrap();
        assert!(
            why.contains("3 answers in a row") && why.contains("max_tokens"),
            "{why}"
        );
        // A good answer in between resets the count.
        let mut r = ModelRecord::default();
        for i in 0..5 {
            assert!(!r.record_soft_failure(i * 3, None, SoftFailure::Empty, &c));
            assert!(!r.record_soft_failure(i * 3 + 1, None, SoftFailure::Empty, &c));
            r.record_success(i * 3 + 2, Some(50), &c);
            assert_eq!(r.soft_failures, 0);
        }
        // Off when the threshold is 0 (below min_requests the rate does not judge either).
        let off = HealthSettings {
            quality_failure_threshold: 0,
            ..cfg()
        };
        let mut r = ModelRecord::default();
        for i in 0..5 {
            assert!(!r.record_soft_failure(i, None, SoftFailure::Empty, &off));
        }
    }

    #[test]
    fn records_written_before_these_fields_still_load() {
        let old = r#"{"models":{"p/m":{"consecutive_failures":1,"samples":[{"at":5,"ok":false,"ttft":null}],"baseline_ms":null,"open_until":null,"opened_count":0,"open_reason":null,"probing_until":null,"last_error":"overloaded","last_error_message":"x","last_error_at":5,"last_ok_at":null,"latency_opens":0}}}"#;
        let f: HealthFile = serde_json::from_str(old).unwrap();
        let r = &f.models["p/m"];
        assert_eq!(r.not_before, None);
        assert!(!r.samples[0].soft);
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
    fn far_future_times_format_without_panicking() {}

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
        // Another process's view picks up the change, however quickly it follows (every
        // write is a new file, so the same mtime does not hide it).
        assert_eq!(b.get("p/m").consecutive_failures, 2);
        b.update_model("p/m", |r| r.consecutive_failures += 1);
        assert_eq!(a.get("p/m").consecutive_failures, 3);
        for i in 0..20 {
            a.update_model("p/m", |r| r.opened_count = i);
            assert_eq!(b.get("p/m").opened_count, i);
        }
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
