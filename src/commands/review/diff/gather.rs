//! Where the diff comes from and what it is compared with: a `--diff` file or stdin,
//! `--staged`, `--base REF`, or base detection (the CI base from `GITHUB_BASE_REF` /
//! `CI_MERGE_REQUEST_DIFF_BASE_SHA`, else the default branch) and its merge base with HEAD;
//! every read bounded in size and time.

use anyhow::Context as _;
use std::path::PathBuf;

/// Where the diff comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffSource {
    /// A file of unified diff.
    File(PathBuf),
    /// Unified diff on stdin.
    Stdin,
    /// `git diff --cached`.
    Staged,
    /// `git diff` against the merge base of this ref and HEAD.
    Base(String),
    /// Find the base: CI variables, then the default branch.
    Auto,
}

/// The diff bytes and a description of what was compared.
pub struct Gathered {
    /// The raw diff.
    pub bytes: Vec<u8>,
    /// E.g. "changes since merge base 1a2b3c4 with origin/main".
    pub description: String,
}

/// Bounds on reading the diff: its size and the time it may take (`--timeout`).
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    /// Most bytes of diff read (`[limits] diff`).
    pub max_bytes: usize,
    /// Give up reading at this instant.
    pub deadline: Option<tokio::time::Instant>,
}

/// Reads or computes the diff, within `limits`. `env` looks up environment variables
/// (injected for tests).
pub async fn gather(
    source: &DiffSource,
    env: &dyn Fn(&str) -> Option<String>,
    limits: ReadLimits,
) -> anyhow::Result<Gathered> {
    match source {
        DiffSource::File(p) => {
            let what = format!("the diff file {}", p.display());
            let path = p.clone();
            let bytes = bounded(&what, move || std::fs::File::open(path), limits).await?;
            Ok(Gathered {
                bytes,
                description: format!("diff from {}", p.display()),
            })
        }
        DiffSource::Stdin => {
            let bytes = bounded("the diff on stdin", || Ok(std::io::stdin()), limits).await?;
            Ok(Gathered {
                bytes,
                description: "diff from stdin".into(),
            })
        }
        DiffSource::Staged => Ok(Gathered {
            bytes: git_diff(&["--cached"], limits).await?,
            description: "staged changes".into(),
        }),
        DiffSource::Base(r) => diff_against(r, limits).await,
        DiffSource::Auto => {
            let base = ci_base(env).or_else(default_branch).ok_or_else(|| {
                anyhow::anyhow!(
                    "cannot find a base to review against: no GITHUB_BASE_REF or CI_MERGE_REQUEST_DIFF_BASE_SHA, and no origin/HEAD, main or master; pass --base REF, --staged or --diff FILE"
                )
            })?;
            diff_against(&base, limits).await
        }
    }
}

/// Reads one diff input within `limits`, with errors that say which limit and how to fix it.
async fn bounded<R, F>(what: &str, open: F, limits: ReadLimits) -> anyhow::Result<Vec<u8>>
where
    F: FnOnce() -> std::io::Result<R> + Send + 'static,
    R: std::io::Read,
{
    use crate::files::{ReadError, read_bounded};
    read_bounded(open, limits.max_bytes, limits.deadline)
        .await
        .map_err(|e| match e {
            ReadError::TooLarge(n) => anyhow::anyhow!(
                "{what} is larger than the {} limit (`[limits] diff` in your config file): review a smaller range (--base REF) or raise the limit",
                crate::config::format_size(n)
            ),
            ReadError::TimedOut => anyhow::anyhow!(
                "reading {what} did not finish within the --timeout budget: is the input endless (such as /dev/zero) or a pipe that never closes?"
            ),
            ReadError::Io(e) => anyhow::Error::new(e).context(format!("cannot read {what}")),
        })
}

/// The base ref CI tells us about: the PR's base branch on GitHub, the MR's diff base on GitLab.
pub fn ci_base(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if let Some(sha) = get("CI_MERGE_REQUEST_DIFF_BASE_SHA") {
        return Some(sha);
    }
    get("GITHUB_BASE_REF").map(|b| {
        let remote = format!("origin/{b}");
        if rev_exists(&remote) { remote } else { b }
    })
}

fn default_branch() -> Option<String> {
    if let Ok(out) = git(&[
        "symbolic-ref",
        "--quiet",
        "--short",
        "refs/remotes/origin/HEAD",
    ]) {
        let s = String::from_utf8_lossy(&out).trim().to_string();
        if !s.is_empty() {
            return Some(s);
        }
    }
    ["origin/main", "origin/master", "main", "master"]
        .into_iter()
        .find(|r| rev_exists(r))
        .map(str::to_string)
}

fn rev_exists(r: &str) -> bool {
    git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{r}^{{commit}}"),
    ])
    .is_ok()
}

async fn diff_against(base: &str, limits: ReadLimits) -> anyhow::Result<Gathered> {
    let mb = git(&["merge-base", base, "HEAD"]).with_context(|| {
        format!(
            "cannot find the merge base of {base} and HEAD; in CI fetch full history (actions/checkout with fetch-depth: 0, GitLab GIT_DEPTH: 0) or pass --base with a commit that exists"
        )
    })?;
    let mb = String::from_utf8_lossy(&mb).trim().to_string();
    let short: String = mb.chars().take(10).collect();
    Ok(Gathered {
        bytes: git_diff(&[&mb], limits).await?,
        description: format!("changes since merge base {short} with {base}"),
    })
}

/// Runs `git diff` with its output read within `limits`; git is stopped when a limit is hit.
async fn git_diff(extra: &[&str], limits: ReadLimits) -> anyhow::Result<Vec<u8>> {
    let mut args = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--find-renames",
        "--src-prefix=a/",
        "--dst-prefix=b/",
    ];
    args.extend_from_slice(extra);
    let mut child = crate::git::spawn(None, &args)?;
    let stdout = child
        .stdout
        .take()
        .context("cannot read the output of git")?;
    let what = format!("the output of `git {}`", args.join(" "));
    let read = bounded(&what, move || Ok(stdout), limits).await;
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    crate::git::finish(child, &args)?;
    Ok(bytes)
}

/// Whether the input has nothing but whitespace: an empty diff (not garbage).
pub fn is_blank(input: &[u8]) -> bool {
    input.iter().all(u8::is_ascii_whitespace)
}

/// git's answer to a question about the repository (a ref, a merge base): small.
fn git(args: &[&str]) -> anyhow::Result<Vec<u8>> {
    crate::git::run(None, args, 1 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_input_is_an_empty_diff_not_garbage() {
        assert!(is_blank(b""));
        assert!(is_blank(b" \n\t\r\n"));
        assert!(!is_blank(b"\x00\xff"));
        assert!(!is_blank(b"hello"));
    }

    #[tokio::test]
    async fn an_endless_diff_file_is_refused_at_the_size_limit() {
        let limits = ReadLimits {
            max_bytes: 1 << 20,
            deadline: None,
        };
        let err = gather(&DiffSource::File("/dev/zero".into()), &|_| None, limits)
            .await
            .err()
            .expect("an error");
        let msg = format!("{err:#}");
        assert!(msg.contains("larger than the 1 MiB limit"), "{msg}");
        assert!(msg.contains("[limits] diff"), "{msg}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_silent_pipe_is_given_up_at_the_deadline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let limits = ReadLimits {
            max_bytes: 1 << 20,
            deadline: Some(tokio::time::Instant::now() + std::time::Duration::from_millis(100)),
        };
        // Nobody ever opens the FIFO for writing: opening it blocks forever.
        let err = gather(&DiffSource::File(fifo), &|_| None, limits)
            .await
            .err()
            .expect("an error");
        let msg = format!("{err:#}");
        assert!(msg.contains("did not finish within the --timeout"), "{msg}");
    }

    #[test]
    fn ci_base_prefers_gitlab_sha_then_github_ref() {
        let env = |k: &str| match k {
            "CI_MERGE_REQUEST_DIFF_BASE_SHA" => Some("abc123".to_string()),
            "GITHUB_BASE_REF" => Some("main".to_string()),
            _ => None,
        };
        assert_eq!(ci_base(&env).as_deref(), Some("abc123"));
        let none = |_: &str| None;
        assert_eq!(ci_base(&none), None);
        let empty = |_: &str| Some(String::new());
        assert_eq!(ci_base(&empty), None);
    }
}
