//! `aiw review -- <command>`: runs a team's existing review command with a time limit,
//! passes its stdout and stderr through as they come, and decides whether it failed the way
//! provider outages make such commands fail (then aiw reviews by itself) or for some other
//! reason (then its exit status is passed through unchanged).
//!
//! Outage-like: a non-zero exit with overload / 5xx / connection / timeout words in the
//! output, a hang past the time limit, exit 0 with no output, or exit 0 with an unmistakable
//! API error at the end of the output (Claude Code exited 0 after a `StopFailure` during the
//! June 2026 outage: max-sixty/tend#646).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::AsyncReadExt as _;

use crate::output;

/// Time limit for the wrapped command when neither --wrap-timeout nor --timeout is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(10);
/// Bytes of output kept for classification (the tail).
const KEEP: usize = 64 * 1024;

/// What the wrapped command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WrapOutcome {
    /// It finished (successfully or not) for reasons of its own: exit with this status.
    Passed(u8),
    /// It failed like an outage (the reason): aiw reviews instead.
    Outage(String),
}

/// Words that, with a non-zero exit, mean the provider (not the code) failed. Matched
/// case-insensitively as substrings.
const OUTAGE_PHRASES: &[&str] = &[
    "overload",
    "internal server error",
    "bad gateway",
    "service unavailable",
    "temporarily unavailable",
    "gateway timeout",
    "timed out",
    "timeout",
    "connection refused",
    "connection reset",
    "connection error",
    "connection closed",
    "connection aborted",
    "econnreset",
    "econnrefused",
    "etimedout",
    "enotfound",
    "socket hang up",
    "network error",
    "could not resolve host",
    "rate limit",
    "rate_limit",
    "too many requests",
    "api_error",
    "api error",
    "stopfailure",
    "usage limit",
];

/// HTTP statuses that mean an outage, matched as whole words.
const OUTAGE_CODES: &[&str] = &["429", "500", "502", "503", "504", "529"];

/// Markers that mean an outage even when the command exited 0 (looked for in the last 2 KB).
const STRONG_MARKERS: &[&str] = &[
    "overloaded_error",
    "api error: 5",
    "api_error",
    "stopfailure",
    "529 overloaded",
    "error 529",
];

/// Decides whether a finished command failed like an outage. `code` is `None` when it was
/// killed by a signal; `timed_out` when aiw killed it at the time limit.
pub fn classify(code: Option<i32>, output: &str, timed_out: bool) -> Option<String> {
    if timed_out {
        return Some("it hung past its time limit and was stopped".into());
    }
    let lower = output.to_lowercase();
    match code {
        Some(0) => {
            if output.trim().is_empty() {
                return Some("it exited 0 but printed nothing".into());
            }
            let tail = &lower[lower.floor_char_boundary(lower.len().saturating_sub(2048))..];
            STRONG_MARKERS
                .iter()
                .find(|m| tail.contains(*m))
                .map(|m| format!("it exited 0 but its output ends with an API error (`{m}`)"))
        }
        Some(c) => {
            if let Some(p) = OUTAGE_PHRASES.iter().find(|p| lower.contains(*p)) {
                return Some(format!("exit status {c} with `{p}` in its output"));
            }
            let words: Vec<&str> = lower
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .collect();
            OUTAGE_CODES
                .iter()
                .find(|code| words.contains(code))
                .map(|code| format!("exit status {c} with HTTP {code} in its output"))
        }
        None => None,
    }
}

/// The exit status to pass through for a non-outage end.
fn passthrough_code(status: std::process::ExitStatus) -> u8 {
    if let Some(c) = status.code() {
        return u8::try_from(c).unwrap_or(1);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(sig) = status.signal() {
            return u8::try_from(128 + sig).unwrap_or(1);
        }
    }
    1
}

/// Runs `cmd` with `timeout`, streaming its output through, and classifies how it ended.
pub async fn run_wrapped(cmd: &[String], timeout: Duration) -> anyhow::Result<WrapOutcome> {
    let (prog, rest) = cmd
        .split_first()
        .context("nothing to run after `--`; write e.g. `aiw review -- claude -p \"review\"`")?;
    let mut child = tokio::process::Command::new(prog)
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot run the wrapped review command `{prog}`"))?;
    let captured = Arc::new(Mutex::new(Vec::<u8>::new()));
    let pump = |mut r: Box<dyn tokio::io::AsyncRead + Unpin + Send>, to_stdout: bool| {
        let captured = Arc::clone(&captured);
        tokio::spawn(async move {
            let mut buf = vec![0u8; 8192];
            loop {
                match r.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        let piece = &buf[..n];
                        if to_stdout {
                            let _ = output::raw_stdout(piece);
                        } else {
                            output::raw_stderr(piece);
                        }
                        if let Ok(mut c) = captured.lock() {
                            c.extend_from_slice(piece);
                            if c.len() > 2 * KEEP {
                                let cut = c.len() - KEEP;
                                c.drain(..cut);
                            }
                        }
                    }
                }
            }
        })
    };
    let out_task = child.stdout.take().map(|s| pump(Box::new(s), true));
    let err_task = child.stderr.take().map(|s| pump(Box::new(s), false));
    let (status, timed_out) = if let Ok(s) = tokio::time::timeout(timeout, child.wait()).await {
        (
            Some(s.context("waiting for the wrapped review command")?),
            false,
        )
    } else {
        let _ = child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
        (None, true)
    };
    // Grandchildren may keep the pipes open: give the readers a moment, then move on.
    for t in [out_task, err_task].into_iter().flatten() {
        if tokio::time::timeout(Duration::from_secs(2), &mut Box::pin(t))
            .await
            .is_err()
        {
            tracing::debug!("wrapped command's output pipe still open; not waiting");
        }
    }
    let text = captured
        .lock()
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .unwrap_or_default();
    let code = status.and_then(|s| s.code());
    if let Some(reason) = classify(code, &text, timed_out) {
        return Ok(WrapOutcome::Outage(reason));
    }
    Ok(WrapOutcome::Passed(status.map_or(1, passthrough_code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_classification() {
        assert!(
            classify(
                Some(1),
                "API Error: 529 {\"type\":\"overloaded_error\"}",
                false
            )
            .is_some()
        );
        assert!(classify(Some(1), "Error: 503", false).is_some());
        assert!(classify(Some(2), "request failed: connection refused", false).is_some());
        assert!(classify(Some(1), "Request timed out after 600s", false).is_some());
        assert!(classify(None, "", true).is_some());
        assert!(classify(Some(0), "   \n", false).is_some());
        assert!(classify(Some(0), "Review:\n...\nAPI Error: 500 internal", false).is_some());
        // Other failures pass through.
        assert_eq!(
            classify(Some(1), "error: 3 findings at or above warning", false),
            None
        );
        assert_eq!(classify(Some(2), "unknown flag --foo", false), None);
        assert_eq!(
            classify(Some(1), "line 5003: bad indentation", false),
            None,
            "5003 is not 500"
        );
        assert_eq!(classify(Some(0), "LGTM, no issues.", false), None);
        assert_eq!(
            classify(None, "", false),
            None,
            "killed by a signal, not by us"
        );
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn wrapped_commands() {
        let sh = |script: &str| vec!["sh".to_string(), "-c".to_string(), script.to_string()];
        let t = Duration::from_secs(20);
        assert_eq!(
            run_wrapped(&sh("echo 'all good'"), t).await.expect("runs"),
            WrapOutcome::Passed(0)
        );
        assert_eq!(
            run_wrapped(&sh("echo 'found problems' >&2; exit 7"), t)
                .await
                .expect("runs"),
            WrapOutcome::Passed(7)
        );
        assert!(matches!(
            run_wrapped(&sh("echo 'API Error: 529 Overloaded' >&2; exit 1"), t)
                .await
                .expect("runs"),
            WrapOutcome::Outage(_)
        ));
        assert!(matches!(
            run_wrapped(&sh("true"), t).await.expect("runs"),
            WrapOutcome::Outage(_)
        ));
        let started = std::time::Instant::now();
        let r = run_wrapped(&sh("sleep 30"), Duration::from_millis(300))
            .await
            .expect("runs");
        assert!(
            matches!(r, WrapOutcome::Outage(ref m) if m.contains("hung")),
            "{r:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            run_wrapped(&["/nonexistent/aiw-test-cmd".to_string()], t)
                .await
                .is_err()
        );
    }
}
