//! Which project config files the user trusts (`aiw config trust`): one record per repository
//! root holding the sha256 of the `.aiw/config.toml` content that was trusted, kept as
//! `sha256:HEX<TAB>PATH` lines in `trusted-dirs` in the state dir. A file whose content
//! changed is untrusted again. Records of older versions (a bare path, no hash) still load,
//! as [`TrustState::Legacy`], which counts as untrusted until the user trusts the file again.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

/// Where a project file stands with the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrustState {
    /// Never trusted.
    Untrusted,
    /// Trusted with exactly this content.
    Trusted,
    /// Trusted once, but the content changed since.
    Changed {
        /// sha256 (hex) of the content that was trusted.
        trusted: String,
        /// sha256 (hex) of the content now.
        now: String,
    },
    /// Trusted by an older aiw that recorded only the path: untrusted until trusted again.
    Legacy,
}

/// sha256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn store(state_dir: &Path) -> PathBuf {
    state_dir.join("trusted-dirs")
}

/// One line of the store.
enum Record {
    Hashed { sha: String, path: PathBuf },
    Legacy(PathBuf),
}

fn parse_line(line: &str) -> Option<Record> {
    if line.trim().is_empty() {
        return None;
    }
    if let Some(rest) = line.strip_prefix("sha256:")
        && let Some((sha, path)) = rest.split_once('\t')
    {
        return Some(Record::Hashed {
            sha: sha.to_string(),
            path: PathBuf::from(path),
        });
    }
    Some(Record::Legacy(PathBuf::from(line)))
}

fn records(state_dir: &Path) -> Vec<Record> {
    std::fs::read_to_string(store(state_dir))
        .map(|t| t.lines().filter_map(parse_line).collect())
        .unwrap_or_default()
}

/// Whether the project at `root` with this config `content` is trusted.
pub fn check(state_dir: &Path, root: &Path, content: &[u8]) -> TrustState {
    let Ok(canon) = root.canonicalize() else {
        return TrustState::Untrusted;
    };
    let now = sha256_hex(content);
    let mut state = TrustState::Untrusted;
    for r in records(state_dir) {
        match r {
            Record::Hashed { sha, path } if path == canon => {
                if sha == now {
                    return TrustState::Trusted;
                }
                state = TrustState::Changed {
                    trusted: sha,
                    now: now.clone(),
                };
            }
            Record::Legacy(path) if path == canon && state == TrustState::Untrusted => {
                state = TrustState::Legacy;
            }
            _ => {}
        }
    }
    state
}

/// Trusts the project at `root` with this config `content`, replacing any earlier record for
/// it (the store is rewritten atomically); returns the canonical root and the content hash.
pub fn record(state_dir: &Path, root: &Path, content: &[u8]) -> std::io::Result<(PathBuf, String)> {
    let canon = root.canonicalize()?;
    let line_path = canon.to_str().filter(|p| !p.contains(['\n', '\r']));
    let Some(line_path) = line_path else {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path is not UTF-8 or contains a line break, so it cannot be recorded",
        ));
    };
    let sha = sha256_hex(content);
    let mut lines: Vec<String> = records(state_dir)
        .into_iter()
        .filter_map(|r| match r {
            Record::Hashed { path, .. } | Record::Legacy(path) if path == canon => None,
            Record::Hashed { sha, path } => Some(format!("sha256:{sha}\t{}", path.display())),
            Record::Legacy(path) => Some(path.display().to_string()),
        })
        .collect();
    lines.push(format!("sha256:{sha}\t{line_path}"));
    let text = lines.join("\n") + "\n";
    std::fs::create_dir_all(state_dir)?;
    let tmp = state_dir.join(format!(".trusted-dirs.{}.tmp", std::process::id()));
    {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, store(state_dir))?;
    Ok((canon, sha))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_is_by_content() {
        let state = tempfile::tempdir().unwrap();
        let proj = tempfile::tempdir().unwrap();
        assert_eq!(
            check(state.path(), proj.path(), b"a"),
            TrustState::Untrusted
        );
        record(state.path(), proj.path(), b"a").unwrap();
        assert_eq!(check(state.path(), proj.path(), b"a"), TrustState::Trusted);
        match check(state.path(), proj.path(), b"b") {
            TrustState::Changed { trusted, now } => {
                assert_eq!(trusted, sha256_hex(b"a"));
                assert_eq!(now, sha256_hex(b"b"));
            }
            other => panic!("{other:?}"),
        }
        record(state.path(), proj.path(), b"b").unwrap();
        assert_eq!(check(state.path(), proj.path(), b"b"), TrustState::Trusted);
        let text = std::fs::read_to_string(store(state.path())).unwrap();
        assert_eq!(text.lines().count(), 1, "one record per root: {text}");
    }

    #[test]
    fn a_path_only_record_of_an_older_version_counts_as_untrusted_and_is_replaced() {
        let state = tempfile::tempdir().unwrap();
        let proj = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let canon = proj.path().canonicalize().unwrap();
        let other_canon = other.path().canonicalize().unwrap();
        std::fs::write(
            store(state.path()),
            format!("{}\n{}\n", canon.display(), other_canon.display()),
        )
        .unwrap();
        assert_eq!(check(state.path(), proj.path(), b"x"), TrustState::Legacy);
        record(state.path(), proj.path(), b"x").unwrap();
        assert_eq!(check(state.path(), proj.path(), b"x"), TrustState::Trusted);
        // The other project's old record is kept as it was.
        assert_eq!(check(state.path(), other.path(), b"x"), TrustState::Legacy);
    }

    #[test]
    fn sha256_matches_a_known_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
