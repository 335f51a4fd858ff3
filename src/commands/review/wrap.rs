//! `aiw review -- <command>`: runs a team's existing review command with a time limit, in
//! its own process group, passes its stdout and stderr through as they come, stops the whole
//! group when it ends (nothing it started is left running), and decides whether it failed
//! the way provider outages make such commands fail (then aiw reviews by itself) or for some
//! other reason (then its exit status is passed through, and aiw still writes its outputs).
//!
//! Outage-like, from the exit status and the tail of the command's stderr only (never its
//! review text on stdout): a non-zero exit with a provider error in stderr (`overloaded_error`,
//! `API Error: 529`, `HTTP 503`, `ECONNREFUSED`, an SDK's `RateLimitError`…), a hang past the
//! time limit, exit 0 with no output at all, or exit 0 with an `API Error: 5xx` as the last
//! line (Claude Code exited 0 after a `StopFailure` during the June 2026 outage:
//! max-sixty/tend#646).

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use tokio::io::AsyncReadExt as _;

use crate::output;

/// Time limit for the wrapped command when neither --wrap-timeout nor --timeout is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_mins(10);
/// Bytes of each stream kept for classification (the tail).
const KEEP: usize = 16 * 1024;
/// How long the process group gets after SIGTERM before SIGKILL.
const GRACE: Duration = Duration::from_secs(2);

/// What the wrapped command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WrapOutcome {
    /// It finished (successfully or not) for reasons of its own: exit with this status.
    Passed(u8),
    /// It failed like an outage (the reason): aiw reviews instead.
    Outage(String),
}

/// Provider and transport errors as review tools print them on stderr, matched
/// case-insensitively as substrings. Each names a provider failure; none is a word a code
/// review would use for the code (`timeout`, `rate limit` alone are not here).
const OUTAGE_PATTERNS: &[&str] = &[
    "overloaded_error",
    "\"type\":\"api_error\"",
    "\"type\": \"api_error\"",
    "rate_limit_error",
    "rate_limit_exceeded",
    "api error: 429",
    "api error: 500",
    "api error: 502",
    "api error: 503",
    "api error: 504",
    "api error: 529",
    "529 overloaded",
    "internal server error",
    "502 bad gateway",
    "503 service unavailable",
    "504 gateway timeout",
    "429 too many requests",
    "econnrefused",
    "econnreset",
    "etimedout",
    "enotfound",
    "eai_again",
    "socket hang up",
    "connection refused",
    "connection reset by peer",
    "could not resolve host",
    "request timed out",
    "apiconnectionerror",
    "apitimeouterror",
    "ratelimiterror",
    "internalservererror",
    "serviceunavailableerror",
    "stopfailure",
];

/// HTTP statuses that mean an outage, when the word before them says it is a status.
const OUTAGE_CODES: &[&str] = &["429", "500", "502", "503", "504", "529"];
const STATUS_WORDS: &[&str] = &["error", "status", "http", "code", "api"];

/// Decides whether a finished command failed like an outage, from its exit status (`None`
/// when a signal ended it) and the tails of its stdout (only whether there was any, and its
/// last line) and stderr; `timed_out` when aiw stopped it at the time limit.
pub fn classify(code: Option<i32>, stdout: &str, stderr: &str, timed_out: bool) -> Option<String> {
    if timed_out {
        return Some("it hung past its time limit and was stopped".into());
    }
    match code {
        Some(0) => {
            if stdout.trim().is_empty() && stderr.trim().is_empty() {
                return Some("it exited 0 but printed nothing".into());
            }
            let last = |t: &str| {
                t.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(str::trim)
                    .map(str::to_lowercase)
            };
            [last(stdout), last(stderr)]
                .into_iter()
                .flatten()
                .find(|l| {
                    l.strip_prefix("api error: ")
                        .is_some_and(|rest| OUTAGE_CODES.iter().any(|c| rest.starts_with(c)))
                })
                .map(|l| format!("it exited 0 but its output ends with an API error (`{l}`)"))
        }
        Some(c) => {
            let lower = stderr.to_lowercase();
            if let Some(p) = OUTAGE_PATTERNS.iter().find(|p| lower.contains(*p)) {
                return Some(format!("exit status {c} with `{p}` on stderr"));
            }
            let words: Vec<&str> = lower
                .split(|ch: char| !ch.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            words
                .windows(2)
                .find(|w| STATUS_WORDS.contains(&w[0]) && OUTAGE_CODES.contains(&w[1]))
                .map(|w| format!("exit status {c} with HTTP {} on stderr", w[1]))
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

/// Sends `signal` to every process of the group `pgid` (the wrapped command's own group).
#[cfg(unix)]
fn signal_group(pgid: u32, signal: &str) {
    let _ = std::process::Command::new("kill")
        .args([&format!("-{signal}"), "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether any process of the group `pgid` is still alive.
#[cfg(unix)]
fn group_alive(pgid: u32) -> bool {
    std::process::Command::new("kill")
        .args(["-0", "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Stops what is left of the wrapped command's process group: SIGTERM, then SIGKILL for
/// whatever is still there after [`GRACE`].
async fn stop_group(pgid: Option<u32>, child: &mut tokio::process::Child) {
    #[cfg(unix)]
    if let Some(pgid) = pgid {
        let _ = child.try_wait();
        if !group_alive(pgid) {
            return;
        }
        signal_group(pgid, "TERM");
        let mut waited = Duration::ZERO;
        // Reap the command itself as it goes: a zombie still counts as a group member.
        while waited < GRACE && {
            let _ = child.try_wait();
            group_alive(pgid)
        } {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += Duration::from_millis(50);
        }
        if group_alive(pgid) {
            signal_group(pgid, "KILL");
        }
    }
    #[cfg(not(unix))]
    let _ = (pgid, child.try_wait());
}

/// Keeps the last [`KEEP`] bytes of a stream.
type Tail = Arc<Mutex<Vec<u8>>>;

fn tail_text(t: &Tail) -> String {
    t.lock()
        .map(|c| String::from_utf8_lossy(&c).into_owned())
        .unwrap_or_default()
}

/// Runs `cmd` with `timeout` in its own process group, streaming its output through, stops
/// the whole group when it ends, and classifies how it ended.
pub async fn run_wrapped(cmd: &[String], timeout: Duration) -> anyhow::Result<WrapOutcome> {
    let (prog, rest) = cmd
        .split_first()
        .context("nothing to run after `--`; write e.g. `aiw review -- claude -p \"review\"`")?;
    let mut command = tokio::process::Command::new(prog);
    command
        .args(rest)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    let mut child = command
        .spawn()
        .with_context(|| format!("cannot run the wrapped review command `{prog}`"))?;
    // With process_group(0) the group id is the child's pid.
    let pgid = child.id();
    let pump =
        |mut r: Box<dyn tokio::io::AsyncRead + Unpin + Send>, to_stdout: bool, keep: Tail| {
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
                            if let Ok(mut c) = keep.lock() {
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
    let (out_tail, err_tail) = (Tail::default(), Tail::default());
    let out_task = child
        .stdout
        .take()
        .map(|s| pump(Box::new(s), true, Arc::clone(&out_tail)));
    let err_task = child
        .stderr
        .take()
        .map(|s| pump(Box::new(s), false, Arc::clone(&err_tail)));
    let (status, timed_out) = if let Ok(s) = tokio::time::timeout(timeout, child.wait()).await {
        (
            Some(s.context("waiting for the wrapped review command")?),
            false,
        )
    } else {
        (None, true)
    };
    // Whatever the command left running in its group (a background job, a hung child) is
    // stopped, so nothing outlives the step; that also closes the pipes it held.
    stop_group(pgid, &mut child).await;
    if timed_out {
        let _ = child.start_kill();
        let _ = tokio::time::timeout(GRACE, child.wait()).await;
    }
    for t in [out_task, err_task].into_iter().flatten() {
        if tokio::time::timeout(GRACE, &mut Box::pin(t)).await.is_err() {
            tracing::debug!("wrapped command's output pipe still open; not waiting");
        }
    }
    let code = status.and_then(|s| s.code());
    if let Some(reason) = classify(
        code,
        &tail_text(&out_tail),
        &tail_text(&err_tail),
        timed_out,
    ) {
        return Ok(WrapOutcome::Outage(reason));
    }
    Ok(WrapOutcome::Passed(status.map_or(1, passthrough_code)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outage_classification() {
        let err = |code, stderr: &str| classify(Some(code), "", stderr, false);
        assert!(err(1, "API Error: 529 {\"type\":\"overloaded_error\"}").is_some());
        assert!(err(1, "Error: 503").is_some());
        assert!(err(1, "openai.RateLimitError: Error code: 429").is_some());
        assert!(err(2, "request failed: connect ECONNREFUSED 1.2.3.4:443").is_some());
        assert!(err(1, "Request timed out.").is_some());
        assert!(classify(None, "", "", true).is_some());
        assert!(classify(Some(0), "   \n", "", false).is_some());
        assert!(classify(Some(0), "Review:\n...\nAPI Error: 500 internal", "", false).is_some());
        // Other failures pass through.
        assert_eq!(err(1, "error: 3 findings at or above warning"), None);
        assert_eq!(err(2, "unknown flag --foo"), None);
        assert_eq!(
            err(1, "line 5003: bad indentation"),
            None,
            "5003 is not 500"
        );
        assert_eq!(err(1, "found 503 issues"), None, "a count, not a status");
        assert_eq!(classify(Some(0), "LGTM, no issues.", "", false), None);
        assert_eq!(
            classify(None, "", "", false),
            None,
            "killed by a signal, not by us"
        );
        // The review text on stdout is never read for outage words.
        let review = "src/net.rs:4: error: no timeout on the request; a rate limit, \
            overloaded_error or 503 from the server is retried forever\n";
        assert_eq!(classify(Some(1), review, "3 findings", false), None);
        assert_eq!(classify(Some(0), review, "", false), None);
        // Words a review uses are not provider errors, even on stderr.
        assert_eq!(
            err(1, "warning: consider a timeout and a rate limit here"),
            None
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
        // Stopped at the limit ("hung"), not waited for (that would be "printed nothing").
        let r = run_wrapped(&sh("sleep 30"), Duration::from_millis(300))
            .await
            .expect("runs");
        assert!(
            matches!(r, WrapOutcome::Outage(ref m) if m.contains("hung")),
            "{r:?}"
        );
        assert!(
            run_wrapped(&["/nonexistent/aiw-test-cmd".to_string()], t)
                .await
                .is_err()
        );
    }

    /// Whether process `pid` is gone (or a zombie waiting to be reaped: it runs nothing).
    #[cfg(unix)]
    fn gone(pid: &str) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Err(_) => true,
            Ok(stat) => stat
                .rsplit_once(") ")
                .is_some_and(|(_, rest)| rest.starts_with('Z') || rest.starts_with('X')),
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn the_whole_process_group_is_stopped() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (script, limit) in [
            // Hangs: stopped at the limit, with its background job.
            (
                "sleep 600 & echo $! > {pid}; sleep 600",
                Duration::from_millis(500),
            ),
            // Exits at once but leaves a background job behind.
            (
                "sleep 600 & echo $! > {pid}; echo reviewed; exit 1",
                Duration::from_secs(20),
            ),
        ] {
            let pid_file = dir.path().join("pid");
            let _ = std::fs::remove_file(&pid_file);
            let script = script.replace("{pid}", &pid_file.display().to_string());
            let cmd = vec!["sh".to_string(), "-c".to_string(), script.clone()];
            let _ = run_wrapped(&cmd, limit).await.expect("runs");
            let pid = std::fs::read_to_string(&pid_file).expect("pid written");
            let pid = pid.trim();
            // The group was stopped before run_wrapped returned; give the reaper a moment
            // (counted polls, not a time bound on the test).
            let mut polls = 0;
            while !gone(pid) && polls < 100 {
                std::thread::sleep(Duration::from_millis(20));
                polls += 1;
            }
            assert!(gone(pid), "`{script}` left process {pid} running");
        }
    }
}
