//! The list of project directories the user trusts to change provider endpoints and keys
//! (`aiw config trust`), kept as one path per line in the state dir.

use std::io::Write;
use std::path::{Path, PathBuf};

fn store(state_dir: &Path) -> PathBuf {
    state_dir.join("trusted-dirs")
}

/// Whether `dir` (canonicalized) is on the trust list.
pub fn is_trusted(state_dir: &Path, dir: &Path) -> bool {
    let Ok(canon) = dir.canonicalize() else {
        return false;
    };
    std::fs::read_to_string(store(state_dir))
        .is_ok_and(|t| t.lines().any(|l| Path::new(l) == canon))
}

/// Adds `dir` to the trust list; returns the canonical path.
pub fn trust(state_dir: &Path, dir: &Path) -> std::io::Result<PathBuf> {
    let canon = dir.canonicalize()?;
    if is_trusted(state_dir, &canon) {
        return Ok(canon);
    }
    std::fs::create_dir_all(state_dir)?;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(store(state_dir))?;
    writeln!(f, "{}", canon.display())?;
    f.sync_all()?;
    Ok(canon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_roundtrip() {
        let state = tempfile::tempdir().unwrap();
        let proj = tempfile::tempdir().unwrap();
        assert!(!is_trusted(state.path(), proj.path()));
        trust(state.path(), proj.path()).unwrap();
        assert!(is_trusted(state.path(), proj.path()));
        trust(state.path(), proj.path()).unwrap();
        let text = std::fs::read_to_string(store(state.path())).unwrap();
        assert_eq!(text.lines().count(), 1, "no duplicates");
    }
}
