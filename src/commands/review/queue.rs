//! The durable queue of reviews that waited for a model (`--on-unavailable queue`), in
//! `$AIW_QUEUE_DIR` (a cache path CI keeps between runs) or `{state_dir}/queue/`: one JSON
//! file per job holding the diff, the options, where the change came from (repository, PR,
//! head and base) and the report files to write again (never keys).
//!
//! Layout and crash safety:
//! - `pending/ID.json`: waiting; written atomically (temp file, fsync, rename, fsync dir).
//! - `running/ID.json`: claimed. A runner first takes an exclusive lock on `locks/ID.lock`
//!   (`File::try_lock`, released by the OS if the process dies), then renames the job from
//!   `pending/` (the rename is the claim: only one runner can win it). It keeps the lock until
//!   the job has left `running/`.
//! - `dead/ID.json`: failed `max_attempts` times; kept for inspection or `aiw queue run --dead`.
//! - `done/ID.json`: the finished job with its JSON report.
//!
//! Recovery (before every list and run): a job in `running/` whose lock is free belongs to a
//! dead runner. If a newer copy exists in `done/`, `pending/` or `dead/` (the runner died
//! between writing it and removing the claim), the stale claim is removed; otherwise the job
//! goes back to `pending/`. So a crash never loses a job, and never runs one twice at once.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
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

/// A job claimed by this process; the lock is held until it is finished or dropped.
pub struct Claim {
    /// The job.
    pub job: Job,
    _lock: File,
}

/// The queue directory.
pub struct Queue {
    root: PathBuf,
}

/// Stores one queue file: atomically, 0600, in a 0700 queue directory.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    crate::files::private_dir(dir)?;
    crate::files::write_atomic(&dir.join(name), bytes, crate::files::Access::Private).map(drop)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Queue {
    /// The queue under `state_dir/queue`.
    pub fn new(state_dir: &Path) -> Self {
        Self {
            root: state_dir.join("queue"),
        }
    }

    /// The queue in `$AIW_QUEUE_DIR` when set (`env` injected for tests), else under
    /// `state_dir/queue`.
    pub fn configured(state_dir: &Path, env: &dyn Fn(&str) -> Option<String>) -> Self {
        match env(QUEUE_DIR_ENV).filter(|v| !v.trim().is_empty()) {
            Some(dir) => Self {
                root: PathBuf::from(dir),
            },
            None => Self::new(state_dir),
        }
    }

    fn dir(&self, d: &str) -> PathBuf {
        self.root.join(d)
    }

    fn file(&self, d: &str, id: &str) -> PathBuf {
        self.dir(d).join(format!("{id}.json"))
    }

    fn lock_file(&self, id: &str) -> anyhow::Result<File> {
        let dir = self.dir("locks");
        crate::files::open_private(&dir.join(format!("{id}.lock")))
            .with_context(|| format!("cannot open the lock for queued job {id}"))
    }

    /// Takes the job's lock if nobody holds it.
    fn try_lock(&self, id: &str) -> anyhow::Result<Option<File>> {
        let f = self.lock_file(id)?;
        match f.try_lock() {
            Ok(()) => Ok(Some(f)),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(e)) => {
                Err(anyhow::Error::new(e).context(format!("cannot lock queued job {id}")))
            }
        }
    }

    /// Stores a job durably in `pending/`.
    pub fn enqueue(&self, job: &Job) -> anyhow::Result<()> {
        let bytes = serde_json::to_vec_pretty(job)?;
        write_atomic(&self.dir("pending"), &format!("{}.json", job.id), &bytes)
            .with_context(|| format!("cannot write the review queue in {}", self.root.display()))
    }

    fn ids(&self, d: &str) -> Vec<String> {
        let Ok(rd) = fs::read_dir(self.dir(d)) else {
            return Vec::new();
        };
        let mut ids: Vec<String> = rd
            .filter_map(Result::ok)
            .filter_map(|e| {
                let n = e.file_name().to_string_lossy().into_owned();
                n.strip_suffix(".json")
                    .filter(|s| !s.starts_with('.'))
                    .map(str::to_string)
            })
            .collect();
        ids.sort();
        ids
    }

    fn read(&self, d: &str, id: &str) -> anyhow::Result<Job> {
        let p = self.file(d, id);
        let bytes = fs::read(&p).with_context(|| format!("cannot read {}", p.display()))?;
        serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a valid queued job", p.display()))
    }

    /// Returns jobs abandoned by dead runners to `pending/` (see the module docs).
    pub fn recover(&self) -> anyhow::Result<Vec<String>> {
        let mut recovered = Vec::new();
        for id in self.ids("running") {
            let Some(lock) = self.try_lock(&id)? else {
                continue; // a live runner holds it
            };
            let running = self.file("running", &id);
            let newer = ["done", "pending", "dead"]
                .iter()
                .any(|d| self.file(d, &id).exists());
            if newer {
                let _ = fs::remove_file(&running);
            } else if fs::rename(&running, self.file("pending", &id)).is_ok() {
                recovered.push(id);
            }
            drop(lock);
        }
        Ok(recovered)
    }

    /// Every job in pending, running and dead, oldest first.
    pub fn list(&self) -> anyhow::Result<Vec<Listed>> {
        let mut out = Vec::new();
        for (d, state) in [
            ("running", JobState::Running),
            ("pending", JobState::Pending),
            ("dead", JobState::Dead),
        ] {
            for id in self.ids(d) {
                let Ok(j) = self.read(d, &id) else { continue };
                out.push(Listed {
                    id: j.id,
                    state,
                    created_at: j.created_at,
                    attempts: j.attempts,
                    next_attempt_at: rfc3339(j.next_attempt_at),
                    last_error: j.last_error,
                    description: j.description,
                    diff_bytes: j.diff.len(),
                });
            }
        }
        Ok(out)
    }

    /// Claims the next due pending job (at `now`), if any.
    pub fn claim_due(&self, now: u64) -> anyhow::Result<Option<Claim>> {
        let mut due: Vec<(u64, String)> = self
            .ids("pending")
            .into_iter()
            .filter_map(|id| {
                self.read("pending", &id)
                    .ok()
                    .map(|j| (j.next_attempt_at, id))
            })
            .filter(|(t, _)| *t <= now)
            .collect();
        due.sort();
        for (_, id) in due {
            let Some(lock) = self.try_lock(&id)? else {
                continue;
            };
            crate::files::private_dir(&self.dir("running"))?;
            match fs::rename(self.file("pending", &id), self.file("running", &id)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(anyhow::Error::new(e).context("cannot claim a queued job")),
            }
            let job = self.read("running", &id)?;
            return Ok(Some(Claim { job, _lock: lock }));
        }
        Ok(None)
    }

    /// Finishes a claimed job: stores `result` in `done/`, then releases the claim.
    pub fn complete(&self, claim: Claim, result: &serde_json::Value) -> anyhow::Result<()> {
        let id = claim.job.id.clone();
        let record = serde_json::json!({ "job": claim.job, "finished_at": rfc3339(now_unix()), "report": result });
        write_atomic(
            &self.dir("done"),
            &format!("{id}.json"),
            &serde_json::to_vec_pretty(&record)?,
        )?;
        fs::remove_file(self.file("running", &id))?;
        let _ = fs::remove_file(self.dir("locks").join(format!("{id}.lock")));
        drop(claim);
        Ok(())
    }

    /// Records a failed attempt: back to `pending/` with a later `next_attempt_at`, or to
    /// `dead/` after `max_attempts`. Returns the state it went to.
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
        let dir = if state == JobState::Dead {
            "dead"
        } else {
            "pending"
        };
        write_atomic(
            &self.dir(dir),
            &format!("{}.json", job.id),
            &serde_json::to_vec_pretty(&job)?,
        )?;
        fs::remove_file(self.file("running", &job.id))?;
        drop(claim);
        Ok(state)
    }

    /// Moves every dead job back to pending with its attempts reset.
    pub fn revive_dead(&self) -> anyhow::Result<usize> {
        let mut n = 0;
        for id in self.ids("dead") {
            let Some(lock) = self.try_lock(&id)? else {
                continue;
            };
            let mut job = self.read("dead", &id)?;
            job.attempts = 0;
            job.next_attempt_at = now_unix();
            write_atomic(
                &self.dir("pending"),
                &format!("{id}.json"),
                &serde_json::to_vec_pretty(&job)?,
            )?;
            fs::remove_file(self.file("dead", &id))?;
            drop(lock);
            n += 1;
        }
        Ok(n)
    }

    /// Removes a job (a unique id prefix is enough) from pending or dead, or from running
    /// when its runner is gone. Returns the full id.
    pub fn drop_job(&self, id: &str) -> anyhow::Result<String> {
        if !valid_id(id) {
            anyhow::bail!("`{id}` is not a job id; `aiw queue list` shows them");
        }
        let mut matches: Vec<String> = ["pending", "dead", "running"]
            .iter()
            .flat_map(|d| self.ids(d))
            .filter(|x| x.starts_with(id))
            .collect();
        matches.dedup();
        let full = match matches.as_slice() {
            [one] => one.clone(),
            [] => anyhow::bail!("no queued job `{id}`; `aiw queue list` shows them"),
            many => anyhow::bail!("`{id}` matches several jobs: {}", many.join(", ")),
        };
        let Some(lock) = self.try_lock(&full)? else {
            anyhow::bail!("job {full} is running right now; drop it after it finishes");
        };
        for d in ["pending", "dead", "running"] {
            let _ = fs::remove_file(self.file(d, &full));
        }
        let _ = fs::remove_file(self.dir("locks").join(format!("{full}.lock")));
        drop(lock);
        Ok(full)
    }
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
        write_atomic(&q.dir("done"), &format!("{}.json", j.id), b"{}").expect("write");
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
