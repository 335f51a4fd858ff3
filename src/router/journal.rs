//! The attempt journal: one JSON line per attempt (time, model, outcome, error class, time to
//! first token, duration, tokens) appended to `{state_dir}/journal.jsonl`, rotated at 5 MiB to
//! `journal.jsonl.1` (0600, in a 0700 state dir). For post-mortems ("what did aiw do during
//! the outage?").

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Attempt;
use crate::provider::Usage;

const MAX_BYTES: u64 = 5 * 1024 * 1024;

/// Appends attempts to the journal file.
#[derive(Clone, Debug)]
pub struct Journal {
    path: Option<PathBuf>,
}

#[derive(Serialize)]
struct Line<'a> {
    at: String,
    #[serde(flatten)]
    attempt: &'a Attempt,
    usage: Option<Usage>,
    probe: bool,
}

impl Journal {
    /// A journal in `state_dir`.
    pub fn open(state_dir: &Path) -> Self {
        Self {
            path: Some(state_dir.join("journal.jsonl")),
        }
    }

    /// A journal that records nothing.
    pub fn disabled() -> Self {
        Self { path: None }
    }

    /// Appends one attempt that ended at `at_ms` (Unix ms). Failures to write are logged,
    /// never fatal.
    pub fn record(&self, at_ms: u64, attempt: &Attempt, usage: Option<Usage>, probe: bool) {
        let Some(path) = &self.path else { return };
        let line = Line {
            at: crate::time::rfc3339(at_ms),
            attempt,
            usage,
            probe,
        };
        let Ok(mut text) = serde_json::to_string(&line) else {
            return;
        };
        text.push('\n');
        if let Err(e) = append(path, text.as_bytes()) {
            tracing::warn!("cannot write journal {}: {e}", path.display());
        }
    }
}

fn append(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_BYTES) {
        std::fs::rename(path, path.with_extension("jsonl.1"))?;
    }
    // O_APPEND writes of one line are atomic with respect to other aiw processes.
    crate::files::open_private_append(path)?.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::Outcome;

    #[test]
    fn appends_json_lines() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path());
        let a = Attempt {
            model: "p/m".into(),
            outcome: Outcome::Failed,
            error_class: Some(crate::provider::ErrorClass::Overloaded),
            error: Some("Overloaded".into()),
            status: Some(529),
            ttft_ms: None,
            ms: 12,
            chars: 0,
        };
        j.record(0, &a, None, false);
        j.record(1000, &a, Some(Usage::default()), true);
        let text = std::fs::read_to_string(dir.path().join("journal.jsonl")).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["model"], "p/m");
        assert_eq!(lines[0]["error_class"], "overloaded");
        assert_eq!(lines[1]["probe"], true);
        assert_eq!(lines[1]["at"], "1970-01-01T00:00:01Z");
    }
}
