//! The durable queue of reviews that waited for a model (`--on-unavailable queue`): one job
//! per review holding the diff, the options, where the change came from (repository, PR,
//! head and base) and the report files to write again (never keys). This file holds the job
//! and the [`Queue`] every command uses; the job lists live in one of two stores:
//! - `dir`: a directory, `$AIW_QUEUE_DIR` (a cache path CI keeps between runs) or
//!   `{state_dir}/queue/`, one JSON file per job, claims by file lock and rename;
//! - `redis_store`: Redis or Valkey (`[review] queue_store` or `AIW_QUEUE_STORE`), shared by every
//!   runner of a fleet, claims by a lease a running job keeps renewing.
//!
//! Both keep the same promises: a crash never loses a job and never runs one twice at once;
//! a job that failed `max_attempts` times is kept as dead until `aiw queue run --dead`.

mod dir;
mod redis_store;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::cli::{FailOn, FailOnTier, FilterMode};

/// The environment variable that names the queue directory.
pub const QUEUE_DIR_ENV: &str = "AIW_QUEUE_DIR";

/// Attempts before a job moves to `dead/` when `review.queue_max_attempts` is not set.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
/// First wait after a failed attempt; doubles each time up to [`MAX_BACKOFF`].
pub const BASE_BACKOFF: Duration = Duration::from_mins(1);
/// Longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_hours(1);

/// The review options a job replays with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOptions {
    /// `--route`.
    pub route: Option<String>,
    /// `--model`.
    pub model: Option<String>,
    /// `--focus`.
    pub focus: Vec<String>,
    /// `--fail-on`.
    pub fail_on: FailOn,
    /// `--fail-on-tier`.
    #[serde(default)]
    pub fail_on_tier: FailOnTier,
    /// `--filter-mode`.
    #[serde(default)]
    pub filter_mode: FilterMode,
}

/// Where a queued change came from, so the replay's outputs can name it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// `owner/name` (`GITHUB_REPOSITORY`, `CI_PROJECT_PATH`).
    pub repo: Option<String>,
    /// The pull or merge request number.
    pub pr: Option<u64>,
    /// The head commit reviewed.
    pub head: Option<String>,
    /// The base it was compared with (a commit or branch).
    pub base: Option<String>,
}

impl Origin {
    /// From the CI environment (GitHub Actions, GitLab CI) and `head`/`base` found locally.
    pub fn from_env(
        env: &dyn Fn(&str) -> Option<String>,
        head: Option<String>,
        base: Option<String>,
    ) -> Self {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let pr = get("CI_MERGE_REQUEST_IID")
            .and_then(|v| v.trim().parse().ok())
            .or_else(|| {
                get("GITHUB_REF").and_then(|r| {
                    r.strip_prefix("refs/pull/")
                        .and_then(|rest| rest.split('/').next())
                        .and_then(|n| n.parse().ok())
                })
            });
        Self {
            repo: get("GITHUB_REPOSITORY").or_else(|| get("CI_PROJECT_PATH")),
            pr,
            head: get("GITHUB_SHA").or_else(|| get("CI_COMMIT_SHA")).or(head),
            base: get("CI_MERGE_REQUEST_DIFF_BASE_SHA")
                .or_else(|| get("GITHUB_BASE_REF"))
                .or(base),
        }
    }

    /// E.g. `org/repo PR #12, head 1a2b3c4d, base main`; `None` when nothing is known.
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(r) = &self.repo {
            parts.push(r.clone());
        }
        if let Some(n) = self.pr {
            parts.push(format!("PR #{n}"));
        }
        if let Some(h) = &self.head {
            parts.push(format!("head {}", &h[..h.len().min(12)]));
        }
        if let Some(b) = &self.base {
            parts.push(format!("base {}", &b[..b.len().min(40)]));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// The report files a queued review asked for (absolute paths), written again on replay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobOutputs {
    /// `--json`.
    pub json: Option<PathBuf>,
    /// `--sarif`.
    pub sarif: Option<PathBuf>,
    /// `--rdjson`.
    pub rdjson: Option<PathBuf>,
    /// `--gitlab`.
    pub gitlab: Option<PathBuf>,
    /// `--github-comment`: the replay posts the PR comment (and inline suggestions).
    #[serde(default)]
    pub github_comment: bool,
    /// `--gitlab-note`: the replay posts the MR note.
    #[serde(default)]
    pub gitlab_note: bool,
}

/// One queued review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// Sortable unique id: `{unix seconds}-{random}`.
    pub id: String,
    /// When it was queued (RFC 3339).
    pub created_at: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not run before this time (unix seconds).
    pub next_attempt_at: u64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// What was compared.
    pub description: String,
    /// The repository directory (for its `.aiw/review.md`), if known.
    pub repo_dir: Option<PathBuf>,
    /// The unified diff to review.
    pub diff: String,
    /// How to review it.
    pub options: JobOptions,
    /// Where the change came from.
    #[serde(default)]
    pub origin: Origin,
    /// The report files to write when it is reviewed.
    #[serde(default)]
    pub outputs: JobOutputs,
}

/// Seconds since the Unix epoch.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// RFC 3339 for unix seconds.
fn rfc3339(secs: u64) -> String {
    crate::time::rfc3339(secs.saturating_mul(1000))
}

impl Job {
    /// A new job, due now.
    pub fn new(
        diff: String,
        description: String,
        options: JobOptions,
        repo_dir: Option<PathBuf>,
    ) -> Self {
        let now = now_unix();
        let rand: String = std::iter::repeat_with(fastrand::alphanumeric)
            .take(8)
            .collect::<String>()
            .to_lowercase();
        Self {
            id: format!("{now}-{rand}"),
            created_at: rfc3339(now),
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            description,
            repo_dir,
            diff,
            options,
            origin: Origin::default(),
            outputs: JobOutputs::default(),
        }
    }
}

/// The wait after `attempts` failures: 1 min, 2, 4 … capped at 1 h, with ±10% jitter.
pub fn backoff(attempts: u32) -> Duration {
    crate::router::retry::Backoff {
        base: BASE_BACKOFF,
        max: MAX_BACKOFF,
        jitter: 0.1,
    }
    .delay(attempts)
}

/// Which list a job is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for its time.
    Pending,
    /// Claimed by a live runner.
    Running,
    /// Gave up after too many attempts.
    Dead,
}

/// A job as listed (without its diff).
#[derive(Clone, Debug, Serialize)]
pub struct Listed {
    /// The id.
    pub id: String,
    /// Which list.
    pub state: JobState,
    /// Queued at.
    pub created_at: String,
    /// Failed attempts.
    pub attempts: u32,
    /// Next attempt (RFC 3339).
    pub next_attempt_at: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// What was compared.
    pub description: String,
    /// Size of the diff in bytes.
    pub diff_bytes: usize,
}

/// A job claimed by this process: no other runner takes it until it is finished, failed or
/// dropped (or this process dies).
pub struct Claim {
    /// The job.
    pub job: Job,
    hold: Hold,
}

/// What keeps a claim: the directory store's file lock, or the Redis store's renewed lease.
enum Hold {
    Lock(
        #[expect(
            dead_code,
            reason = "held for as long as the claim: dropping it unlocks"
        )]
        std::fs::File,
    ),
    Lease(redis_store::Lease),
}

/// Whether `id` can be a job id (it names files and keys).
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The review queue, in the store the settings name.
pub enum Queue {
    /// A directory (`$AIW_QUEUE_DIR` or the state dir).
    Dir(dir::DirQueue),
    /// Redis or Valkey.
    Redis(redis_store::RedisQueue),
}

impl Queue {
    /// The directory queue under `state_dir/queue`.
    pub fn new(state_dir: &Path) -> Self {
        Self::Dir(dir::DirQueue::new(state_dir.join("queue")))
    }

    /// The queue the settings name: the Redis store of `review.queue_store` (or
    /// `AIW_QUEUE_STORE`, already resolved into it), else `$AIW_QUEUE_DIR` when set (`env`
    /// injected for tests), else under `state_dir/queue`.
    pub fn configured(
        settings: &crate::config::Settings,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        if let Some(url) = &settings.review.queue_store {
            return Ok(Self::Redis(redis_store::RedisQueue::new(
                url,
                redis_store::LEASE,
            )?));
        }
        Ok(match env(QUEUE_DIR_ENV).filter(|v| !v.trim().is_empty()) {
            Some(dir) => Self::Dir(dir::DirQueue::new(PathBuf::from(dir))),
            None => Self::new(&settings.paths.state_dir),
        })
    }

    /// The Redis queue at `url` whose claims last `lease` unless renewed (tests use a short
    /// one to see a dead runner's job come back).
    pub fn redis(url: &str, lease: std::time::Duration) -> anyhow::Result<Self> {
        Ok(Self::Redis(redis_store::RedisQueue::new(url, lease)?))
    }

    /// Where the queue is, for messages (a Redis URL without its password).
    pub fn location(&self) -> String {
        match self {
            Self::Dir(d) => d.root().display().to_string(),
            Self::Redis(r) => r.url().to_string(),
        }
    }

    /// Stores a job durably, due at its `next_attempt_at`.
    pub fn enqueue(&self, job: &Job) -> anyhow::Result<()> {
        match self {
            Self::Dir(d) => d.enqueue(job),
            Self::Redis(r) => r.enqueue(job),
        }
    }

    /// Returns jobs abandoned by dead runners to pending; their ids.
    pub fn recover(&self) -> anyhow::Result<Vec<String>> {
        match self {
            Self::Dir(d) => d.recover(),
            Self::Redis(r) => r.recover(),
        }
    }

    /// Every job in pending, running and dead, oldest first.
    pub fn list(&self) -> anyhow::Result<Vec<Listed>> {
        match self {
            Self::Dir(d) => Ok(d.list()),
            Self::Redis(r) => r.list(),
        }
    }

    /// Claims the next due pending job (at `now`, unix seconds), if any.
    pub fn claim_due(&self, now: u64) -> anyhow::Result<Option<Claim>> {
        match self {
            Self::Dir(d) => d.claim_due(now),
            Self::Redis(r) => r.claim_due(now),
        }
    }

    /// Finishes a claimed job: stores `result` with it as done, then releases the claim.
    pub fn complete(&self, claim: Claim, result: &serde_json::Value) -> anyhow::Result<()> {
        match self {
            Self::Dir(d) => d.complete(claim, result),
            Self::Redis(r) => r.complete(claim, result),
        }
    }

    /// Records a failed attempt: back to pending with a later `next_attempt_at`, or to dead
    /// after `max_attempts`. Returns the state it went to.
    pub fn fail(&self, claim: Claim, error: &str, max_attempts: u32) -> anyhow::Result<JobState> {
        let mut job = claim.job.clone();
        job.attempts += 1;
        job.last_error = Some(error.to_string());
        let state = if job.attempts >= max_attempts.max(1) {
            JobState::Dead
        } else {
            job.next_attempt_at = now_unix() + backoff(job.attempts).as_secs();
            JobState::Pending
        };
        match self {
            Self::Dir(d) => d.fail(claim, &job, state)?,
            Self::Redis(r) => r.fail(claim, &job, state)?,
        }
        Ok(state)
    }

    /// Moves every dead job back to pending with its attempts reset; how many.
    pub fn revive_dead(&self) -> anyhow::Result<usize> {
        match self {
            Self::Dir(d) => d.revive_dead(),
            Self::Redis(r) => r.revive_dead(),
        }
    }

    /// Removes a job (a unique id prefix is enough) from pending or dead, or from running
    /// when its runner is gone. Returns the full id.
    pub fn drop_job(&self, id: &str) -> anyhow::Result<String> {
        if !valid_id(id) {
            anyhow::bail!("`{id}` is not a job id; `aiw queue list` shows them");
        }
        match self {
            Self::Dir(d) => d.drop_job(id),
            Self::Redis(r) => r.drop_job(id),
        }
    }
}

/// The one job an id prefix names among `ids`, or why not.
fn unique_match(ids: impl IntoIterator<Item = String>, prefix: &str) -> anyhow::Result<String> {
    let mut matches: Vec<String> = ids.into_iter().filter(|x| x.starts_with(prefix)).collect();
    matches.sort();
    matches.dedup();
    match matches.as_slice() {
        [one] => Ok(one.clone()),
        [] => anyhow::bail!("no queued job `{prefix}`; `aiw queue list` shows them"),
        many => anyhow::bail!("`{prefix}` matches several jobs: {}", many.join(", ")),
    }
}

impl Listed {
    /// How `job` in `state` is listed.
    fn of(job: Job, state: JobState) -> Self {
        Self {
            diff_bytes: job.diff.len(),
            next_attempt_at: rfc3339(job.next_attempt_at),
            id: job.id,
            state,
            created_at: job.created_at,
            attempts: job.attempts,
            last_error: job.last_error,
            description: job.description,
        }
    }
}

/// What a finished job is kept as: the job, when it finished and its JSON report.
fn done_record(job: &Job, result: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({ "job": job, "finished_at": rfc3339(now_unix()), "report": result })
}

/// Sets a revived dead job's attempts and time back.
fn revived(mut job: Job) -> Job {
    job.attempts = 0;
    job.next_attempt_at = now_unix();
    job
}
#[cfg(test)]
mod tests {
    #[test]
    fn origin_from_github_and_gitlab_and_old_jobs_still_load() {
        let gh = |k: &str| {
            match k {
                "GITHUB_REPOSITORY" => Some("org/repo"),
                "GITHUB_REF" => Some("refs/pull/42/merge"),
                "GITHUB_SHA" => Some("0123456789abcdef0123"),
                "GITHUB_BASE_REF" => Some("main"),
                _ => None,
            }
            .map(str::to_string)
        };
        let o = Origin::from_env(&gh, None, None);
        assert_eq!(o.repo.as_deref(), Some("org/repo"));
        assert_eq!(o.pr, Some(42));
        assert_eq!(
            o.summary().as_deref(),
            Some("org/repo, PR #42, head 0123456789ab, base main")
        );
        let gl = |k: &str| {
            match k {
                "CI_PROJECT_PATH" => Some("group/proj"),
                "CI_MERGE_REQUEST_IID" => Some("7"),
                _ => None,
            }
            .map(str::to_string)
        };
        let o = Origin::from_env(&gl, Some("abc".into()), Some("origin/main".into()));
        assert_eq!((o.pr, o.head.as_deref()), (Some(7), Some("abc")));
        assert_eq!(o.base.as_deref(), Some("origin/main"));
        // A job stored before these fields existed still loads.
        let old = r#"{"id":"1-a","created_at":"x","attempts":0,"next_attempt_at":0,"last_error":null,"description":"d","repo_dir":null,"diff":"","options":{"route":null,"model":null,"focus":[],"fail_on":"error"}}"#;
        let job: Job = serde_json::from_str(old).expect("old job loads");
        assert_eq!(job.origin, Origin::default());
        assert_eq!(job.options.filter_mode, FilterMode::DiffContext);
    }

    use super::*;

    fn job(diff: &str) -> Job {
        Job::new(
            diff.into(),
            "diff from test".into(),
            JobOptions {
                route: Some("review".into()),
                model: None,
                focus: vec!["security".into()],
                fail_on: FailOn::Error,
                fail_on_tier: FailOnTier::default(),
                filter_mode: FilterMode::default(),
            },
            None,
        )
    }

    #[test]
    fn enqueue_claim_complete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Queue::new(dir.path());
        let j = job("diff text");
        q.enqueue(&j).expect("enqueue");
        let listed = q.list().expect("list");
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].state, JobState::Pending);
        let c = q.claim_due(now_unix()).expect("claim").expect("due");
        assert_eq!(c.job, j);
        // A second runner finds nothing to claim while the first holds it.
        assert!(q.claim_due(now_unix()).expect("claim").is_none());
        assert_eq!(q.list().expect("list")[0].state, JobState::Running);
        q.complete(c, &serde_json::json!({"status": "complete"}))
            .expect("complete");
        assert!(q.list().expect("list").is_empty());
        assert!(
            dir.path()
                .join(format!("queue/done/{}.json", j.id))
                .is_file()
        );
    }

    #[test]
    fn failures_back_off_then_dead_letter() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Queue::new(dir.path());
        let j = job("d");
        q.enqueue(&j).expect("enqueue");
        let c = q.claim_due(now_unix()).expect("claim").expect("due");
        assert_eq!(
            q.fail(c, "all models down", 2).expect("fail"),
            JobState::Pending
        );
        let l = &q.list().expect("list")[0];
        assert_eq!(l.attempts, 1);
        assert_eq!(l.last_error.as_deref(), Some("all models down"));
        // Not due yet.
        assert!(q.claim_due(now_unix()).expect("claim").is_none());
        let c = q
            .claim_due(now_unix() + 3600)
            .expect("claim")
            .expect("due later");
        assert_eq!(q.fail(c, "still down", 2).expect("fail"), JobState::Dead);
        assert_eq!(q.list().expect("list")[0].state, JobState::Dead);
        assert!(q.claim_due(u64::MAX).expect("claim").is_none());
        assert_eq!(q.revive_dead().expect("revive"), 1);
        let c = q.claim_due(now_unix()).expect("claim").expect("revived");
        assert_eq!(c.job.attempts, 0);
    }

    #[test]
    fn backoff_grows_and_caps() {
        let b1 = backoff(1).as_secs_f64();
        let b3 = backoff(3).as_secs_f64();
        assert!((54.0..=66.0).contains(&b1), "{b1}");
        assert!((216.0..=264.0).contains(&b3), "{b3}");
        assert!(backoff(40).as_secs_f64() <= 3960.0);
    }

    #[test]
    fn a_crashed_runner_loses_nothing_and_duplicates_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Queue::new(dir.path());
        let j = job("d");
        q.enqueue(&j).expect("enqueue");
        // A runner claims the job and "dies" (its lock is released, the file stays in running/).
        let c = q.claim_due(now_unix()).expect("claim").expect("due");
        // While it lives, recovery leaves it alone.
        assert!(q.recover().expect("recover").is_empty());
        drop(c);
        assert_eq!(q.recover().expect("recover"), vec![j.id.clone()]);
        let l = q.list().expect("list");
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].state, JobState::Pending);

        // A runner that died after writing done/ but before removing its claim: the stale
        // claim is removed, the job is not run again.
        let c = q.claim_due(now_unix()).expect("claim").expect("due");
        let done = dir.path().join("queue/done");
        std::fs::create_dir_all(&done).expect("done dir");
        std::fs::write(done.join(format!("{}.json", j.id)), b"{}").expect("write");
        drop(c);
        assert!(q.recover().expect("recover").is_empty());
        assert!(q.list().expect("list").is_empty());
    }

    #[test]
    fn drop_by_prefix_and_refuses_running() {
        let dir = tempfile::tempdir().expect("tempdir");
        let q = Queue::new(dir.path());
        let a = job("a");
        q.enqueue(&a).expect("enqueue");
        let prefix = &a.id[..a.id.len() - 3];
        assert_eq!(q.drop_job(prefix).expect("drop"), a.id);
        assert!(q.list().expect("list").is_empty());
        assert!(q.drop_job("nope").is_err());
        assert!(q.drop_job("../etc").is_err());
        let b = job("b");
        q.enqueue(&b).expect("enqueue");
        let c = q.claim_due(now_unix()).expect("claim").expect("due");
        assert!(q.drop_job(&b.id).is_err());
        drop(c);
        assert_eq!(q.drop_job(&b.id).expect("drop"), b.id);
    }

    #[test]
    fn job_files_hold_no_secrets_field() {
        let j = job("d");
        let v = serde_json::to_value(&j).expect("json");
        let keys: Vec<&String> = v.as_object().expect("object").keys().collect();
        for k in keys {
            assert!(
                !k.contains("key") && !k.contains("token") && !k.contains("secret"),
                "{k}"
            );
        }
    }
}
