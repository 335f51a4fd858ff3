//! The directory store of the review queue: `$AIW_QUEUE_DIR` or `{state_dir}/queue/`, one
//! JSON file per job.
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
//! goes back to `pending/`.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::{Claim, Hold, Job, JobState, Listed, done_record, revived, unique_match};

/// The queue directory.
pub struct DirQueue {
    root: PathBuf,
}

/// Stores one queue file: atomically, 0600, in a 0700 queue directory.
fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    crate::files::private_dir(dir)?;
    crate::files::write_atomic(&dir.join(name), bytes, crate::files::Access::Private).map(drop)
}

impl DirQueue {
    /// The queue in `root`.
    pub(super) fn new(root: PathBuf) -> Self {
        Self { root }
    }

    /// Its directory.
    pub(super) fn root(&self) -> &Path {
        &self.root
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
    pub(super) fn enqueue(&self, job: &Job) -> anyhow::Result<()> {
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
    pub(super) fn recover(&self) -> anyhow::Result<Vec<String>> {
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
    pub(super) fn list(&self) -> Vec<Listed> {
        let mut out = Vec::new();
        for (d, state) in [
            ("running", JobState::Running),
            ("pending", JobState::Pending),
            ("dead", JobState::Dead),
        ] {
            for id in self.ids(d) {
                if let Ok(j) = self.read(d, &id) {
                    out.push(Listed::of(j, state));
                }
            }
        }
        out
    }

    /// Claims the next due pending job (at `now`), if any.
    pub(super) fn claim_due(&self, now: u64) -> anyhow::Result<Option<Claim>> {
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
            return Ok(Some(Claim {
                job,
                hold: Hold::Lock(lock),
            }));
        }
        Ok(None)
    }

    /// Finishes a claimed job: stores `result` in `done/`, then releases the claim.
    pub(super) fn complete(&self, claim: Claim, result: &serde_json::Value) -> anyhow::Result<()> {
        let id = claim.job.id.clone();
        let record = done_record(&claim.job, result);
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

    /// Stores `job` (its failure recorded) in `pending/` or `dead/`, then releases the claim.
    pub(super) fn fail(&self, claim: Claim, job: &Job, state: JobState) -> anyhow::Result<()> {
        let dir = if state == JobState::Dead {
            "dead"
        } else {
            "pending"
        };
        write_atomic(
            &self.dir(dir),
            &format!("{}.json", job.id),
            &serde_json::to_vec_pretty(job)?,
        )?;
        fs::remove_file(self.file("running", &job.id))?;
        drop(claim);
        Ok(())
    }

    /// Moves every dead job back to pending with its attempts reset.
    pub(super) fn revive_dead(&self) -> anyhow::Result<usize> {
        let mut n = 0;
        for id in self.ids("dead") {
            let Some(lock) = self.try_lock(&id)? else {
                continue;
            };
            let job = revived(self.read("dead", &id)?);
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

    /// Removes a job (`id` a unique prefix, already checked) from pending or dead, or from
    /// running when its runner is gone. Returns the full id.
    pub(super) fn drop_job(&self, id: &str) -> anyhow::Result<String> {
        let ids = ["pending", "dead", "running"]
            .iter()
            .flat_map(|d| self.ids(d));
        let full = unique_match(ids, id)?;
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
