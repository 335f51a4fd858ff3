//! Eval results in the state dir: `evals/scores.json` holds each model's last score (what
//! `aiw status`, `[health] min_eval_score` and fallback notices read), `evals/runs/` every
//! run's full results under the time it started. Both are aiw's own state: private files,
//! written atomically through `crate::files`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A model's score in one eval run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Cases passed.
    pub passed: u32,
    /// Cases run.
    pub total: u32,
    /// When the run started (Unix ms).
    pub at_ms: u64,
    /// Median time of its answers.
    #[serde(default)]
    pub p50_ms: Option<u64>,
    /// Tokens in, over the run.
    #[serde(default)]
    pub input_tokens: u64,
    /// Tokens out, over the run.
    #[serde(default)]
    pub output_tokens: u64,
}

impl Score {
    /// Passed / total (0 when nothing ran).
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            f64::from(self.passed) / f64::from(self.total)
        }
    }

    /// `7/10`.
    pub fn fraction(&self) -> String {
        format!("{}/{}", self.passed, self.total)
    }

    /// `7/10, 3 days ago`.
    pub fn describe(&self, now_ms: u64) -> String {
        format!(
            "{}, {}",
            self.fraction(),
            age(now_ms.saturating_sub(self.at_ms))
        )
    }
}

/// "just now", "5 minutes ago", "1 hour ago", "3 days ago".
pub fn age(ms: u64) -> String {
    let s = ms / 1000;
    let (n, unit) = match s {
        0..60 => return "just now".into(),
        60..3600 => (s / 60, "minute"),
        3600..86_400 => (s / 3600, "hour"),
        _ => (s / 86_400, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// For a fallback notice: `9/10 on your evals, 3 days ago`, or `None` when `model` was never
/// evaluated.
pub fn eval_note(state_dir: &Path, model: &str, now_ms: u64) -> Option<String> {
    Scores::load(state_dir).note(model, now_ms)
}

/// Every model's last score.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Per `provider/model`.
    #[serde(default)]
    pub models: BTreeMap<String, Score>,
}

fn dir(state_dir: &Path) -> PathBuf {
    state_dir.join("evals")
}

impl Scores {
    /// `model`'s score as a fallback notice says it: `9/10 on your evals, 3 days ago`.
    pub fn note(&self, model: &str, now_ms: u64) -> Option<String> {
        self.get(model).map(|s| {
            format!(
                "{} on your evals, {}",
                s.fraction(),
                age(now_ms.saturating_sub(s.at_ms))
            )
        })
    }

    /// Every evaluated model's [`Scores::note`].
    pub fn notes(&self, now_ms: u64) -> BTreeMap<String, String> {
        self.models
            .keys()
            .filter_map(|m| self.note(m, now_ms).map(|n| (m.clone(), n)))
            .collect()
    }

    /// `{state_dir}/evals/scores.json`.
    pub fn path(state_dir: &Path) -> PathBuf {
        dir(state_dir).join("scores.json")
    }

    /// The stored scores; none when there are none yet, or when the file is damaged (logged).
    pub fn load(state_dir: &Path) -> Self {
        let path = Self::path(state_dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(
                    "eval scores {} are damaged ({e}); ignoring them",
                    path.display()
                );
                Self::default()
            }),
            Err(_) => Self::default(),
        }
    }

    /// One model's last score.
    pub fn get(&self, model: &str) -> Option<&Score> {
        self.models.get(model)
    }

    /// Records `scores` over the stored ones (other models keep theirs).
    pub fn record(state_dir: &Path, scores: &BTreeMap<String, Score>) -> std::io::Result<()> {
        let mut all = Self::load(state_dir);
        all.models
            .extend(scores.iter().map(|(k, v)| (k.clone(), v.clone())));
        crate::files::private_dir(state_dir)?;
        crate::files::private_dir(&dir(state_dir))?;
        let bytes = serde_json::to_vec_pretty(&all).map_err(std::io::Error::other)?;
        crate::files::write_atomic(
            &Self::path(state_dir),
            &bytes,
            crate::files::Access::Private,
        )?;
        Ok(())
    }
}

/// Stores one run's full results as `{state_dir}/evals/runs/{started}.json` and returns the
/// path.
pub fn save_run(
    state_dir: &Path,
    started_ms: u64,
    run: &impl Serialize,
) -> std::io::Result<PathBuf> {
    let runs = dir(state_dir).join("runs");
    crate::files::private_dir(state_dir)?;
    crate::files::private_dir(&dir(state_dir))?;
    crate::files::private_dir(&runs)?;
    // `2026-12-03T05-40-00Z`: sortable, and no `:` for file systems that refuse it.
    let name = crate::time::rfc3339(started_ms).replace(':', "-");
    let mut path = runs.join(format!("{name}.json"));
    let mut n = 1;
    while path.exists() {
        n += 1;
        path = runs.join(format!("{name}-{n}.json"));
    }
    let bytes = serde_json::to_vec_pretty(run).map_err(std::io::Error::other)?;
    crate::files::write_atomic(&path, &bytes, crate::files::Access::Private)?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(passed: u32, total: u32, at_ms: u64) -> Score {
        Score {
            passed,
            total,
            at_ms,
            p50_ms: None,
            input_tokens: 0,
            output_tokens: 0,
        }
    }

    #[test]
    fn ages_read_like_speech() {
        let day = 86_400_000;
        assert_eq!(score(7, 10, 0).describe(3 * day + 5), "7/10, 3 days ago");
        assert_eq!(age(59_000), "just now");
        assert_eq!(age(60_000), "1 minute ago");
        assert_eq!(age(2 * 3_600_000), "2 hours ago");
        assert_eq!(age(day), "1 day ago");
    }

    #[test]
    fn record_keeps_other_models_and_survives_damage() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Scores::load(dir.path()).models.is_empty());
        let mut a = BTreeMap::new();
        a.insert("p/a".to_string(), score(1, 2, 5));
        a.insert("p/b".to_string(), score(2, 2, 5));
        Scores::record(dir.path(), &a).unwrap();
        let mut b = BTreeMap::new();
        b.insert("p/a".to_string(), score(2, 2, 9));
        Scores::record(dir.path(), &b).unwrap();
        let s = Scores::load(dir.path());
        assert_eq!(s.get("p/a"), Some(&score(2, 2, 9)));
        assert_eq!(s.get("p/b"), Some(&score(2, 2, 5)));
        std::fs::write(Scores::path(dir.path()), b"{oops").unwrap();
        assert!(Scores::load(dir.path()).models.is_empty());
        let p1 = save_run(dir.path(), 0, &serde_json::json!({"x": 1})).unwrap();
        let p2 = save_run(dir.path(), 0, &serde_json::json!({"x": 2})).unwrap();
        assert_ne!(p1, p2);
        assert!(
            p1.ends_with("1970-01-01T00-00-00Z.json"),
            "{}",
            p1.display()
        );
    }
}
