//! Outage drills (`aiw drill`): models matching a few patterns count as down, so a team can
//! rehearse "Claude is down" on a calm day. A drill lives in a directory of its own: its
//! `drill.json` (patterns and end time), and a copy of the health state and journal that the
//! routers of the drill read and write instead of the real ones, which stay untouched.
//!
//! `aiw drill --down P -- CMD` puts the directory in a temporary place and names it to CMD
//! (and every aiw it starts) in `AIW_DRILL_DIR`; `aiw drill --down P` without a command puts
//! it at `{state_dir}/drill`, where every aiw on the machine finds it until it ends or
//! `aiw drill --clear`. A router built during a drill never calls a drilled model (not even
//! as a last resort) and shares no fleet store.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

/// Names the drill directory of a drill started with a command.
pub const ENV: &str = "AIW_DRILL_DIR";

/// What `drill.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DrillSpec {
    /// Patterns of `provider/model` names (`anthropic/*`).
    pub down: Vec<String>,
    /// When it started (Unix ms).
    pub started_ms: u64,
    /// When it ends by itself (Unix ms).
    pub until_ms: u64,
}

/// A drill in force.
#[derive(Clone, Debug)]
pub struct Drill {
    /// Its directory (health copy, journal, `drill.json`).
    pub dir: PathBuf,
    /// Its patterns and times.
    pub spec: DrillSpec,
    globs: GlobSet,
}

/// Why a drill cannot start.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    /// A pattern is not a glob.
    #[error("--down `{pattern}` is not a valid pattern: {message}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// What is wrong.
        message: String,
    },
    /// The drill directory cannot be written.
    #[error("cannot write the drill state in {}: {source}", .dir.display())]
    Io {
        /// The directory.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

fn globs(patterns: &[String]) -> Result<GlobSet, DrillError> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        b.add(Glob::new(p).map_err(|e| DrillError::BadPattern {
            pattern: p.clone(),
            message: e.kind().to_string(),
        })?);
    }
    b.build().map_err(|e| DrillError::BadPattern {
        pattern: patterns.join(" "),
        message: e.to_string(),
    })
}

/// The standing drill's directory (one started without a command).
pub fn standing_dir(state_dir: &Path) -> PathBuf {
    state_dir.join("drill")
}

impl Drill {
    /// The drill in force for this process at `now_ms`: the one named in [`ENV`], else the
    /// standing one; `None` when there is none or it has ended.
    pub fn active(state_dir: &Path, now_ms: u64) -> Option<Self> {
        let dir = std::env::var_os(ENV)
            .filter(|v| !v.is_empty())
            .map_or_else(|| standing_dir(state_dir), PathBuf::from);
        let bytes = std::fs::read(dir.join("drill.json")).ok()?;
        let spec: DrillSpec = serde_json::from_slice(&bytes)
            .map_err(|e| tracing::warn!("drill state {} is damaged: {e}", dir.display()))
            .ok()?;
        if spec.until_ms <= now_ms {
            return None;
        }
        let globs = globs(&spec.down).ok()?;
        Some(Self { dir, spec, globs })
    }

    /// Starts a drill in `dir`: writes `drill.json` and seeds the drill's health state with a
    /// copy of the real one in `state_dir` (the real file is only read).
    pub fn start(dir: &Path, state_dir: &Path, spec: DrillSpec) -> Result<Self, DrillError> {
        let globs = globs(&spec.down)?;
        let io = |source| DrillError::Io {
            dir: dir.to_path_buf(),
            source,
        };
        crate::files::private_dir(dir).map_err(io)?;
        if let Ok(real) = std::fs::read(state_dir.join("health.json")) {
            crate::files::write_atomic(
                &dir.join("health.json"),
                &real,
                crate::files::Access::Private,
            )
            .map_err(io)?;
        }
        let bytes = serde_json::to_vec_pretty(&spec).map_err(|e| io(std::io::Error::other(e)))?;
        crate::files::write_atomic(
            &dir.join("drill.json"),
            &bytes,
            crate::files::Access::Private,
        )
        .map_err(io)?;
        Ok(Self {
            dir: dir.to_path_buf(),
            spec,
            globs,
        })
    }

    /// Whether `model` (`provider/model`) is down for this drill.
    pub fn matches(&self, model: &str) -> bool {
        self.globs.is_match(model)
    }

    /// The drill's journal: one line per call made during it.
    pub fn journal_path(&self) -> PathBuf {
        self.dir.join("journal.jsonl")
    }

    /// Ends a drill: removes its directory. Returns whether there was one.
    pub fn clear(dir: &Path) -> std::io::Result<bool> {
        match std::fs::remove_dir_all(dir) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drill_copies_health_matches_patterns_and_ends() {
        let state = tempfile::tempdir().unwrap();
        std::fs::write(state.path().join("health.json"), b"{\"models\":{}}").unwrap();
        let dir = standing_dir(state.path());
        let spec = DrillSpec {
            down: vec!["anthropic/*".into(), "openai/gpt-5.5".into()],
            started_ms: 0,
            until_ms: 1000,
        };
        let d = Drill::start(&dir, state.path(), spec.clone()).unwrap();
        assert!(d.matches("anthropic/claude-sonnet-4-5"));
        assert!(d.matches("openai/gpt-5.5"));
        assert!(!d.matches("openai/gpt-5.5-mini"));
        assert_eq!(
            std::fs::read(dir.join("health.json")).unwrap(),
            b"{\"models\":{}}"
        );
        if std::env::var_os(ENV).is_none() {
            assert_eq!(Drill::active(state.path(), 999).unwrap().spec, spec);
            assert!(Drill::active(state.path(), 1000).is_none());
        }
        assert!(Drill::clear(&dir).unwrap());
        assert!(!Drill::clear(&dir).unwrap());
        assert!(Drill::active(state.path(), 0).is_none());
        assert!(matches!(
            Drill::start(
                &dir,
                state.path(),
                DrillSpec {
                    down: vec!["a/[".into()],
                    ..spec
                }
            ),
            Err(DrillError::BadPattern { .. })
        ));
    }
}
