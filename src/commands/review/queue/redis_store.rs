//! The Redis (or Valkey) store of the review queue, shared by every runner that names it
//! (`[review] queue_store = "redis://host:6379/0"` or `AIW_QUEUE_STORE`), so a review queued
//! on one throwaway CI runner is replayed by whichever runs `aiw queue run` next.
//!
//! Keys, under `aiw:v1:queue:`:
//! - `job:ID`: the job's JSON (the diff, options, origin, attempts).
//! - `pending`: a sorted set of ids by `next_attempt_at` (unix seconds).
//! - `running`: a hash of claimed ids to `TOKEN UNTIL_MS`, the claim's lease. The runner
//!   renews the lease from a background thread every quarter of its length while the job
//!   runs; a runner that dies stops renewing, and once the lease is past, recovery moves the
//!   job back to `pending`.
//! - `dead`: a sorted set of ids that failed `max_attempts` times.
//! - `done:ID`: the finished job with its report, kept for 30 days.
//!
//! Every move between the lists is one Lua script, so it happens whole or not at all, and a
//! runner whose lease was lost (and whose job another runner took) cannot finish or fail it.
//! Unlike the fleet health store this is not an accelerator: a queue that cannot be reached
//! is an error that names the store, never a silently dropped review.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context as _;

use super::{
    Claim, Hold, Job, JobState, Listed, done_record, now_unix, revived, unique_match, valid_id,
};
use crate::config::shown_url;

/// Key namespace; bump the version when the value format changes.
const PREFIX: &str = "aiw:v1:queue:";

/// How long a claim lasts unless renewed. A runner renews it every quarter of this.
pub const LEASE: Duration = Duration::from_secs(60);

/// Each call to the store, connecting included, gives up after this long.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a finished job's record is kept.
const DONE_TTL: Duration = Duration::from_hours(24 * 30);

/// Claims the first due pending id: KEYS pending, running; ARGV now (s), token, until (ms).
const CLAIM: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1)
if #ids == 0 then return false end
redis.call('ZREM', KEYS[1], ids[1])
redis.call('HSET', KEYS[2], ids[1], ARGV[2] .. ' ' .. ARGV[3])
return ids[1]
";

/// Renews a lease this token holds: KEYS running; ARGV id, token, until (ms).
const RENEW: &str = r"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or string.sub(cur, 1, #ARGV[2] + 1) ~= ARGV[2] .. ' ' then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
return 1
";

/// Ends a claim this token holds: KEYS running, job, then either the done key (ARGV: id,
/// token, 'done', record, ttl s) or the list it goes to (ARGV: id, token, 'move', job json,
/// score). Returns 0 when the claim is not this token's any more.
const FINISH: &str = r"
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur or string.sub(cur, 1, #ARGV[2] + 1) ~= ARGV[2] .. ' ' then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
if ARGV[3] == 'done' then
  redis.call('SET', KEYS[3], ARGV[4], 'EX', ARGV[5])
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[4])
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
end
return 1
";

/// Moves claims whose lease is past back to pending: KEYS running, pending; ARGV now (ms),
/// now (s). Returns their ids.
const RECOVER: &str = r"
local all = redis.call('HGETALL', KEYS[1])
local back = {}
for i = 1, #all, 2 do
  local until_ms = tonumber(string.match(all[i + 1], ' (%d+)$') or '0')
  if until_ms < tonumber(ARGV[1]) then
    redis.call('HDEL', KEYS[1], all[i])
    redis.call('ZADD', KEYS[2], ARGV[2], all[i])
    table.insert(back, all[i])
  end
end
return back
";

/// Moves one id between sorted sets if it is still in the first: KEYS from, to, job;
/// ARGV id, score, job json (empty: leave the job). Returns 1 when moved.
const MOVE: &str = r"
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
if ARGV[3] ~= '' then redis.call('SET', KEYS[3], ARGV[3]) end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
";

/// Removes an id that is not claimed by a live lease: KEYS pending, dead, running, job;
/// ARGV id, now (ms). Returns 0 when a live runner holds it.
const DROP: &str = r"
local cur = redis.call('HGET', KEYS[3], ARGV[1])
if cur and tonumber(string.match(cur, ' (%d+)$') or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('DEL', KEYS[4])
return 1
";

fn key(name: &str) -> String {
    format!("{PREFIX}{name}")
}

fn job_key(id: &str) -> String {
    key(&format!("job:{id}"))
}

/// Milliseconds since the Unix epoch.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The queue in a Redis or Valkey store.
pub struct RedisQueue {
    client: redis::Client,
    shown: String,
    lease: Duration,
}

impl RedisQueue {
    /// The store at `url` (`redis://`, `rediss://`, `valkey://`), claims lasting `lease`.
    pub(super) fn new(url: &str, lease: Duration) -> anyhow::Result<Self> {
        let normalized = url
            .strip_prefix("valkey://")
            .map_or_else(|| url.to_string(), |rest| format!("redis://{rest}"));
        let client = redis::Client::open(normalized.as_str()).map_err(|e| {
            anyhow::anyhow!(
                "the review queue store {} is not a Redis URL ({e}): write it like redis://127.0.0.1:6379/0",
                shown_url(url)
            )
        })?;
        Ok(Self {
            client,
            shown: shown_url(url),
            lease: lease.max(Duration::from_millis(100)),
        })
    }

    /// The store's URL, password removed.
    pub(super) fn url(&self) -> &str {
        &self.shown
    }

    /// A connection within the call timeout.
    fn conn(&self) -> anyhow::Result<redis::Connection> {
        let c = self
            .client
            .get_connection_with_timeout(CALL_TIMEOUT)
            .with_context(|| self.unreachable())?;
        c.set_read_timeout(Some(CALL_TIMEOUT))
            .and_then(|()| c.set_write_timeout(Some(CALL_TIMEOUT)))
            .with_context(|| self.unreachable())?;
        Ok(c)
    }

    fn unreachable(&self) -> String {
        format!(
            "the review queue store {} is not answering; check that it runs and that this machine reaches it ([review] queue_store or AIW_QUEUE_STORE)",
            self.shown
        )
    }

    /// Runs `op` on a fresh connection, naming the store in any error.
    fn with<T>(
        &self,
        op: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>,
    ) -> anyhow::Result<T> {
        let mut c = self.conn()?;
        op(&mut c).with_context(|| format!("the review queue store {}", self.shown))
    }

    fn until(&self) -> u64 {
        now_ms().saturating_add(u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX))
    }

    /// Stores the job, then lists it as pending (a crash between the two leaves a body no
    /// list names, never a listed job without a body).
    pub(super) fn enqueue(&self, job: &Job) -> anyhow::Result<()> {
        let body = serde_json::to_string(job)?;
        self.with(|c| {
            redis::pipe()
                .atomic()
                .cmd("SET")
                .arg(job_key(&job.id))
                .arg(&body)
                .ignore()
                .cmd("ZADD")
                .arg(key("pending"))
                .arg(job.next_attempt_at)
                .arg(&job.id)
                .ignore()
                .query::<()>(c)
        })
    }

    /// Claims whose lease is past go back to pending.
    pub(super) fn recover(&self) -> anyhow::Result<Vec<String>> {
        self.with(|c| {
            redis::Script::new(RECOVER)
                .key(key("running"))
                .key(key("pending"))
                .arg(now_ms())
                .arg(now_unix())
                .invoke::<Vec<String>>(c)
        })
    }

    fn read(&self, c: &mut redis::Connection, id: &str) -> anyhow::Result<Option<Job>> {
        let raw: Option<String> = redis::cmd("GET")
            .arg(job_key(id))
            .query(c)
            .with_context(|| format!("the review queue store {}", self.shown))?;
        raw.map(|r| {
            serde_json::from_str(&r).with_context(|| {
                format!(
                    "queued job {id} in {} is not a valid job (drop it with `aiw queue drop {id}`)",
                    self.shown
                )
            })
        })
        .transpose()
    }

    /// Every job in pending, running and dead, oldest first within each.
    pub(super) fn list(&self) -> anyhow::Result<Vec<Listed>> {
        let mut c = self.conn()?;
        let (running, pending, dead): (Vec<String>, Vec<String>, Vec<String>) = redis::pipe()
            .cmd("HKEYS")
            .arg(key("running"))
            .cmd("ZRANGE")
            .arg(key("pending"))
            .arg(0)
            .arg(-1)
            .cmd("ZRANGE")
            .arg(key("dead"))
            .arg(0)
            .arg(-1)
            .query(&mut c)
            .with_context(|| format!("the review queue store {}", self.shown))?;
        let mut out = Vec::new();
        for (mut ids, state) in [
            (running, JobState::Running),
            (pending, JobState::Pending),
            (dead, JobState::Dead),
        ] {
            ids.sort();
            for id in ids {
                if let Ok(Some(j)) = self.read(&mut c, &id) {
                    out.push(Listed::of(j, state));
                }
            }
        }
        Ok(out)
    }

    /// Claims the next due pending job and starts renewing its lease.
    pub(super) fn claim_due(&self, now: u64) -> anyhow::Result<Option<Claim>> {
        let token: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(16)
            .collect();
        let mut c = self.conn()?;
        loop {
            let id: Option<String> = redis::Script::new(CLAIM)
                .key(key("pending"))
                .key(key("running"))
                .arg(now)
                .arg(&token)
                .arg(self.until())
                .invoke(&mut c)
                .with_context(|| format!("the review queue store {}", self.shown))?;
            let Some(id) = id else {
                return Ok(None);
            };
            let lease = Lease::start(self.client.clone(), id.clone(), token.clone(), self.lease);
            match self.read(&mut c, &id)? {
                Some(job) if valid_id(&job.id) && job.id == id => {
                    return Ok(Some(Claim {
                        job,
                        hold: Hold::Lease(lease),
                    }));
                }
                // A listed id whose body is gone (dropped meanwhile): forget it, try the next.
                _ => {
                    drop(lease);
                    self.with(|c| {
                        redis::cmd("HDEL")
                            .arg(key("running"))
                            .arg(&id)
                            .query::<()>(c)
                    })?;
                }
            }
        }
    }

    /// Runs [`FINISH`] for `claim`; an error when its lease was lost meanwhile.
    fn finish(
        &self,
        claim: Claim,
        third_key: String,
        how: &str,
        value: &str,
        n: u64,
    ) -> anyhow::Result<()> {
        let Hold::Lease(lease) = &claim.hold else {
            anyhow::bail!("job {} was not claimed from this store", claim.job.id);
        };
        let (id, token) = (claim.job.id.clone(), lease.token.clone());
        let ended: i64 = self.with(|c| {
            redis::Script::new(FINISH)
                .key(key("running"))
                .key(job_key(&id))
                .key(third_key)
                .arg(&id)
                .arg(&token)
                .arg(how)
                .arg(value)
                .arg(n)
                .invoke(c)
        })?;
        drop(claim);
        if ended == 0 {
            anyhow::bail!(
                "the claim on queued job {id} ran out before it finished (its lease was not renewed in time), so another runner may have taken it; its result here was not stored"
            );
        }
        Ok(())
    }

    /// Stores the finished job with its report and releases the claim.
    pub(super) fn complete(&self, claim: Claim, result: &serde_json::Value) -> anyhow::Result<()> {
        let record = serde_json::to_string(&done_record(&claim.job, result))?;
        let done = key(&format!("done:{}", claim.job.id));
        self.finish(claim, done, "done", &record, DONE_TTL.as_secs())
    }

    /// Stores `job` (its failure recorded) in pending or dead and releases the claim.
    pub(super) fn fail(&self, claim: Claim, job: &Job, state: JobState) -> anyhow::Result<()> {
        let (list, score) = match state {
            JobState::Dead => ("dead", now_unix()),
            JobState::Pending | JobState::Running => ("pending", job.next_attempt_at),
        };
        let body = serde_json::to_string(job)?;
        self.finish(claim, key(list), "move", &body, score)
    }

    /// Every dead job back to pending, attempts reset (each moved once, whoever else revives).
    pub(super) fn revive_dead(&self) -> anyhow::Result<usize> {
        let mut c = self.conn()?;
        let ids: Vec<String> = redis::cmd("ZRANGE")
            .arg(key("dead"))
            .arg(0)
            .arg(-1)
            .query(&mut c)
            .with_context(|| format!("the review queue store {}", self.shown))?;
        let mut n = 0;
        for id in ids {
            let Some(job) = self.read(&mut c, &id)? else {
                continue;
            };
            let job = revived(job);
            let moved: i64 = redis::Script::new(MOVE)
                .key(key("dead"))
                .key(key("pending"))
                .key(job_key(&id))
                .arg(&id)
                .arg(job.next_attempt_at)
                .arg(serde_json::to_string(&job)?)
                .invoke(&mut c)
                .with_context(|| format!("the review queue store {}", self.shown))?;
            n += usize::try_from(moved).unwrap_or(0);
        }
        Ok(n)
    }

    /// Removes a job (`id` a unique prefix, already checked) unless a live runner holds it.
    pub(super) fn drop_job(&self, id: &str) -> anyhow::Result<String> {
        let mut c = self.conn()?;
        let (running, pending, dead): (Vec<String>, Vec<String>, Vec<String>) = redis::pipe()
            .cmd("HKEYS")
            .arg(key("running"))
            .cmd("ZRANGE")
            .arg(key("pending"))
            .arg(0)
            .arg(-1)
            .cmd("ZRANGE")
            .arg(key("dead"))
            .arg(0)
            .arg(-1)
            .query(&mut c)
            .with_context(|| format!("the review queue store {}", self.shown))?;
        let full = unique_match(running.into_iter().chain(pending).chain(dead), id)?;
        let dropped: i64 = redis::Script::new(DROP)
            .key(key("pending"))
            .key(key("dead"))
            .key(key("running"))
            .key(job_key(&full))
            .arg(&full)
            .arg(now_ms())
            .invoke(&mut c)
            .with_context(|| format!("the review queue store {}", self.shown))?;
        if dropped == 0 {
            anyhow::bail!("job {full} is running right now; drop it after it finishes");
        }
        Ok(full)
    }
}

/// A claim's lease, renewed from a background thread until dropped.
pub struct Lease {
    token: String,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Lease {
    fn start(client: redis::Client, id: String, token: String, lease: Duration) -> Self {
        let (stop, stopped) = mpsc::channel::<()>();
        let every = lease / 4;
        let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
        let t = token.clone();
        let thread = std::thread::Builder::new()
            .name("aiw-queue-lease".into())
            .spawn(move || {
                let renew = redis::Script::new(RENEW);
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    let ok = client
                        .get_connection_with_timeout(CALL_TIMEOUT)
                        .and_then(|mut c| {
                            renew
                                .key(key("running"))
                                .arg(&id)
                                .arg(&t)
                                .arg(now_ms().saturating_add(lease_ms))
                                .invoke::<i64>(&mut c)
                        });
                    match ok {
                        Ok(1) => {}
                        Ok(_) => {
                            tracing::warn!(job = %id, "queue lease lost: another runner may run the job");
                            return;
                        }
                        Err(e) => tracing::warn!(job = %id, "queue lease not renewed: {e}"),
                    }
                }
            })
            .ok();
        Self {
            token,
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
