//! Fleet health: the per-model health records kept in Redis or Valkey (`[health] store =
//! "redis://host:6379/0"` or `AIW_HEALTH_STORE`), so many machines (CI runners) learn of an
//! outage once. Each model's [`ModelRecord`] is one key, `aiw:v1:model:{provider/model}`,
//! holding its JSON (breaker state, failure window, open time, "not before", latency baseline,
//! probe lease; never an error message, a prompt or a key), with a TTL so stale state expires.
//!
//! Writes are compare-and-set (a Lua script: the new value is stored only if the old one is
//! still there), so a breaker opens on the fleet's failures, not one machine's, and exactly
//! one machine wins a half-open probe's lease. The store is an accelerator, never a
//! dependency: each call has a few-millisecond timeout; when Redis is slow or down aiw warns
//! once, goes on with this machine's own state file, and tries the store again later.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::health::ModelRecord;
use crate::config::shown_url;

/// Key namespace; bump the version when the value format changes.
const PREFIX: &str = "aiw:v1:model:";

/// Each call to the store, connecting included, gives up after this long: a slow store must
/// not slow a request down.
pub const CALL_TIMEOUT: Duration = Duration::from_millis(10);

/// How long a model's record lives in the store without being written: long enough to span
/// the longest open period and a statistics window, so stale state expires by itself.
pub fn ttl(h: &crate::config::HealthSettings) -> Duration {
    (h.window.max(h.max_open) * 2).max(Duration::from_secs(600))
}

/// How long a store that failed is left alone before aiw tries it again.
const RETRY_AFTER: Duration = Duration::from_secs(10);

/// Compare-and-set: stores ARGV[2] (with PX ARGV[3]) only if the key still holds ARGV[1]
/// (empty: the key must not exist). Returns 1 when stored.
const CAS: &str = r"
local cur = redis.call('GET', KEYS[1])
if (cur == false and ARGV[1] == '') or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
";

/// A record as the store has it.
enum Stored {
    /// The store did not answer.
    Down,
    /// It has no record of the model.
    Missing,
    /// The record's JSON.
    Found(String),
}

/// A fleet health store.
pub struct Fleet {
    client: redis::Client,
    /// The URL without its password, for messages.
    shown: String,
    timeout: Duration,
    ttl_ms: u64,
    conn: Mutex<Option<redis::Connection>>,
    down_until: Mutex<Option<Instant>>,
    warned: AtomicBool,
    warnings: std::sync::atomic::AtomicUsize,
    retry_after: Duration,
    script: redis::Script,
}

impl std::fmt::Debug for Fleet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fleet")
            .field("url", &self.shown)
            .finish_non_exhaustive()
    }
}

/// What `aiw status` says about the store.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct FleetStatus {
    /// The store's URL, password removed.
    pub url: String,
    /// Whether the view is the fleet's (the store answered) or this machine's.
    pub fleet: bool,
    /// Round-trip time of a `PING`, when it answered.
    pub latency_ms: Option<f64>,
    /// Why not, when it did not.
    pub error: Option<String>,
}

impl Fleet {
    /// A store at `url` (`redis://`, `rediss://`, `valkey://`); `timeout` bounds every call,
    /// `ttl` is how long a record lives without being written.
    pub fn new(url: &str, timeout: Duration, ttl: Duration) -> Result<Self, String> {
        let normalized = url
            .strip_prefix("valkey://")
            .map_or_else(|| url.to_string(), |rest| format!("redis://{rest}"));
        let client = redis::Client::open(normalized.as_str()).map_err(|e| {
            format!(
                "[health] store = {} is not a Redis URL ({e}): write it like redis://127.0.0.1:6379/0",
                shown_url(url)
            )
        })?;
        Ok(Self {
            client,
            shown: shown_url(url),
            timeout,
            ttl_ms: u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1000),
            conn: Mutex::new(None),
            down_until: Mutex::new(None),
            warned: AtomicBool::new(false),
            warnings: std::sync::atomic::AtomicUsize::new(0),
            retry_after: RETRY_AFTER,
            script: redis::Script::new(CAS),
        })
    }

    /// Tries a store that failed again after `d` instead of the default 10 s (tests).
    #[must_use]
    pub fn retry_after(mut self, d: Duration) -> Self {
        self.retry_after = d;
        self
    }

    /// How many times this store warned that it went away (once per outage of the store).
    pub fn warnings(&self) -> usize {
        self.warnings.load(Ordering::Relaxed)
    }

    /// The store's URL, password removed.
    pub fn url(&self) -> &str {
        &self.shown
    }

    fn available(&self) -> bool {
        self.down_until
            .lock()
            .is_ok_and(|d| d.is_none_or(|t| Instant::now() >= t))
    }

    fn mark_down(&self, why: &str) {
        if let Ok(mut d) = self.down_until.lock() {
            *d = Some(Instant::now() + self.retry_after);
        }
        if let Ok(mut c) = self.conn.lock() {
            *c = None;
        }
        if !self.warned.swap(true, Ordering::Relaxed) {
            self.warnings.fetch_add(1, Ordering::Relaxed);
            crate::output::warn(&format!(
                "health store {} is not answering ({why}); using this machine's health state until it is back",
                self.shown
            ));
        }
        tracing::warn!(store = %self.shown, "health store down: {why}");
    }

    fn mark_up(&self) {
        if let Ok(mut d) = self.down_until.lock() {
            *d = None;
        }
        if self.warned.swap(false, Ordering::Relaxed) {
            tracing::info!(store = %self.shown, "health store answers again: fleet view restored");
        }
    }

    /// Runs `op` on the connection (made on first use), within the timeout. `None` when the
    /// store is down (and then it is left alone for a while).
    fn with_conn<T>(
        &self,
        op: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> Option<T> {
        if !self.available() {
            return None;
        }
        let mut guard = self.conn.lock().ok()?;
        if guard.is_none() {
            match self.client.get_connection_with_timeout(self.timeout) {
                Ok(c) => {
                    let _ = c.set_read_timeout(Some(self.timeout));
                    let _ = c.set_write_timeout(Some(self.timeout));
                    *guard = Some(c);
                }
                Err(e) => {
                    drop(guard);
                    self.mark_down(&e.to_string());
                    return None;
                }
            }
        }
        let conn = guard.as_mut()?;
        match op(conn) {
            Ok(v) => {
                drop(guard);
                self.mark_up();
                Some(v)
            }
            Err(e) => {
                drop(guard);
                self.mark_down(&e.to_string());
                None
            }
        }
    }

    fn key(model: &str) -> String {
        format!("{PREFIX}{model}")
    }

    /// The fleet's record of `model` as stored.
    fn get_raw(&self, model: &str) -> Stored {
        match self.with_conn(|c| {
            redis::cmd("GET")
                .arg(Self::key(model))
                .query::<Option<String>>(c)
        }) {
            None => Stored::Down,
            Some(None) => Stored::Missing,
            Some(Some(v)) => Stored::Found(v),
        }
    }

    /// The fleet's record of `model`, or `None` when the store is down or has none.
    pub fn get(&self, model: &str) -> Option<ModelRecord> {
        match self.get_raw(model) {
            Stored::Found(raw) => serde_json::from_str(&raw).ok(),
            Stored::Down | Stored::Missing => None,
        }
    }

    /// Applies `f` to the fleet's record of `model` (starting from `local` when the fleet has
    /// none), compare-and-set, retried on a concurrent change. Returns the stored record and
    /// `f`'s result, or `None` when the store is down or stayed contended.
    pub fn update<R>(
        &self,
        model: &str,
        local: &ModelRecord,
        f: &mut dyn FnMut(&mut ModelRecord) -> R,
    ) -> Option<(ModelRecord, R)> {
        for _ in 0..4 {
            let raw = match self.get_raw(model) {
                Stored::Down => return None,
                Stored::Missing => None,
                Stored::Found(v) => Some(v),
            };
            let mut rec = raw
                .as_deref()
                .and_then(|r| serde_json::from_str::<ModelRecord>(r).ok())
                .unwrap_or_else(|| local.clone());
            let out = f(&mut rec);
            // What other machines may read: no error text (it can quote a request).
            rec.last_error_message = None;
            let new = serde_json::to_string(&rec).ok()?;
            let stored: i64 = self.with_conn(|c| {
                self.script
                    .key(Self::key(model))
                    .arg(raw.as_deref().unwrap_or(""))
                    .arg(&new)
                    .arg(self.ttl_ms)
                    .invoke(c)
            })?;
            if stored == 1 {
                return Some((rec, out));
            }
        }
        tracing::debug!(model, "health store: record contended; applied locally");
        None
    }

    /// What `aiw status` shows: a `PING`'s round trip, or why the store is not answering.
    pub fn status(&self) -> FleetStatus {
        // A status check tries the store now, even if it failed a moment ago.
        if let Ok(mut d) = self.down_until.lock() {
            *d = None;
        }
        let t = Instant::now();
        let pong = self.with_conn(|c| redis::cmd("PING").query::<String>(c));
        FleetStatus {
            url: self.shown.clone(),
            fleet: pong.is_some(),
            latency_ms: pong.map(|_| t.elapsed().as_secs_f64() * 1e3),
            error: if self.available() {
                None
            } else {
                Some("not answering: the view is this machine's own".into())
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_and_passwords_never_shown() {
        assert_eq!(
            shown_url("redis://:s3cr3t-pass@127.0.0.1:6379/0"),
            "redis://:***@127.0.0.1:6379/0"
        );
        assert!(
            Fleet::new(
                "not a url",
                Duration::from_millis(5),
                Duration::from_secs(60)
            )
            .is_err()
        );
        let f = Fleet::new(
            "valkey://127.0.0.1:1/0",
            Duration::from_millis(5),
            Duration::from_secs(60),
        )
        .unwrap();
        assert_eq!(f.url(), "valkey://127.0.0.1:1/0");
    }

    #[test]
    fn a_store_that_does_not_answer_is_left_alone_and_never_blocks_long() {
        // Port 1 on loopback: connection refused at once.
        let f = Fleet::new(
            "redis://127.0.0.1:1/0",
            Duration::from_millis(5),
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(f.get("anthropic/x").is_none());
        assert!(!f.available(), "marked down after a failure");
        let local = ModelRecord::default();
        assert!(
            f.update("anthropic/x", &local, &mut |r| r.consecutive_failures += 1)
                .is_none()
        );
        let s = f.status();
        assert!(!s.fleet && s.latency_ms.is_none());
    }
}
