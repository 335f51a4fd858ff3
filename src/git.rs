//! Running git: the one place aiw starts it. [`run`] returns what git printed, at most
//! `limit` bytes (git is stopped past that, so a huge diff cannot fill memory), or an error
//! with git's own message; [`spawn`] starts it for a caller that reads the output itself.

use std::io::Read as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use anyhow::{Context as _, bail};

/// git with `args`, in `dir` (`-C dir`) or the current directory, stdin closed, stdout and
/// stderr piped.
pub fn spawn(dir: Option<&Path>, args: &[&str]) -> anyhow::Result<Child> {
    let mut cmd = Command::new("git");
    if let Some(d) = dir {
        cmd.arg("-C").arg(d);
    }
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run git: is it installed and on PATH?")
}

/// Waits for a git started by [`spawn`] whose stdout was read; an error with git's message
/// when it failed.
pub fn finish(child: Child, args: &[&str]) -> anyhow::Result<()> {
    let out = child.wait_with_output().context("cannot wait for git")?;
    if !out.status.success() {
        bail!(
            "`git {}` failed: {}",
            args.join(" "),
            crate::config::clip(String::from_utf8_lossy(&out.stderr).trim())
        );
    }
    Ok(())
}

/// Runs git and returns its stdout, at most `limit` bytes: past that git is stopped and the
/// error says how big the output was allowed to be.
pub fn run(dir: Option<&Path>, args: &[&str], limit: u64) -> anyhow::Result<Vec<u8>> {
    let mut child = spawn(dir, args)?;
    let mut out = Vec::new();
    let read = match child.stdout.take() {
        Some(stdout) => stdout.take(limit.saturating_add(1)).read_to_end(&mut out),
        None => Ok(0),
    };
    if let Err(e) = read {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e).context("cannot read the output of git");
    }
    if out.len() as u64 > limit {
        let _ = child.kill();
        let _ = child.wait();
        bail!(
            "the output of `git {}` is over {} KiB, more than aiw reads",
            args.join(" "),
            limit / 1024
        );
    }
    finish(child, args)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        run(Some(dir.path()), &["init", "-q"], 1 << 20).unwrap();
        dir
    }

    #[test]
    fn output_comes_back_and_failures_carry_gits_message() {
        let dir = repo();
        let top = run(Some(dir.path()), &["rev-parse", "--show-toplevel"], 1 << 20).unwrap();
        assert!(!top.is_empty());
        let err = run(Some(dir.path()), &["rev-parse", "HEAD"], 1 << 20).unwrap_err();
        let msg = format!("{err:#}");
        assert!(msg.starts_with("`git rev-parse HEAD` failed: "), "{msg}");
    }

    #[test]
    fn output_past_the_limit_stops_git_with_an_error() {
        let dir = repo();
        let err = run(Some(dir.path()), &["help", "-a"], 64).unwrap_err();
        assert!(format!("{err:#}").contains("is over 0 KiB"), "{err:#}");
    }
}
