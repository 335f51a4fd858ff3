//! Hostile-input benchmark (not a timed test): the real `aiw` binary against a 1 GB answer
//! stream, 1 GB of SSE comments with no answer, one 2 GB SSE line, and endless diffs
//! (`--diff /dev/zero`, `--diff -` from /dev/zero, a pipe that never delivers under
//! `--timeout`). For each it prints the peak RSS of the aiw process (VmHWM from /proc,
//! sampled), the time to the clear error, the exit status, how many bytes the server got to
//! send, and the error line. Target: peak RSS < 100 MB everywhere. Default limits
//! throughout: `[limits] answer = "8 MiB"`, `diff = "64 MiB"`, SSE events 4 MiB.
//!
//! Run: `cargo bench --no-default-features --bench hostile`.
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark writes its fixtures and drives the gateway with a plain client"
)]
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

#[path = "../tests/integration/hostile_bounds/server.rs"]
mod server;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use server::{Behaviour, Server};

const GB: u64 = 1024 * 1024 * 1024;

/// What one run of aiw did.
struct Run {
    peak_kb: u64,
    elapsed: Duration,
    code: Option<i32>,
    error: String,
}

/// The peak resident set (VmHWM) of a live process, in kB.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `cmd` to its end, sampling its peak RSS every 2 ms.
fn measure(mut cmd: Command) -> Run {
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("aiw starts");
    let mut peak = 0;
    let status = loop {
        if let Some(kb) = vm_hwm(child.id()) {
            peak = peak.max(kb);
        }
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    let error = err
        .lines()
        .find(|l| l.contains("error") || l.contains("failed"))
        .unwrap_or("")
        .chars()
        .take(160)
        .collect();
    Run {
        peak_kb: peak,
        elapsed,
        code: status.code(),
        error,
    }
}

fn report(name: &str, run: &Run, server: Option<&Server>) {
    let mb = run.peak_kb as f64 / 1024.0;
    let sent = server.map_or(String::new(), |s| {
        format!(
            ", server sent {:.1} MiB",
            s.bytes_sent() as f64 / (1024.0 * 1024.0)
        )
    });
    println!(
        "hostile: {name}: peak RSS {mb:.1} MB ({}), {:.2} s to the error, exit {:?}{sent}",
        if mb < 100.0 {
            "< 100 MB: ok"
        } else {
            "OVER the 100 MB target"
        },
        run.elapsed.as_secs_f64(),
        run.code,
    );
    println!("hostile:   {}", run.error);
}

fn aiw(dir: &Path, base: &str) -> Command {
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[providers.anthropic]\nbase_url = \"{base}\"\n[routes]\ndefault = [\"anthropic/endless\"]\nreview = [\"anthropic/endless\"]\n[timeouts]\nfirst_token = \"60s\"\nstall = \"30s\"\ntotal = \"120s\"\n"
        ),
    )
    .expect("config");
    let mut c = Command::new(env!("CARGO_BIN_EXE_aiw"));
    c.env("AIW_CONFIG", dir.join("config.toml"))
        .env("AIW_DATA_DIR", dir.join("data"))
        .env("AIW_STATE_DIR", dir.join("state"))
        .env("ANTHROPIC_API_KEY", "bench-key")
        .env("NO_COLOR", "1")
        .env_remove("CI")
        .env_remove("GITHUB_ACTIONS")
        .current_dir(dir)
        .stdin(Stdio::null());
    c
}

fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();

    let answer = Server::start(Behaviour::EndlessAnswer {
        piece: 16 * 1024,
        interval: Duration::ZERO,
        max_bytes: Some(GB),
    });
    let mut c = aiw(d, &answer.base_url());
    c.args(["ask", "hi"]);
    report("1 GB answer stream, aiw ask", &measure(c), Some(&answer));
    let answer = Server::start(Behaviour::EndlessAnswer {
        piece: 16 * 1024,
        interval: Duration::ZERO,
        max_bytes: Some(GB),
    });
    let mut c = aiw(d, &answer.base_url());
    c.args(["ask", "--json", "hi"]);
    report(
        "1 GB answer stream, aiw ask --json",
        &measure(c),
        Some(&answer),
    );

    let comments = Server::start(Behaviour::EndlessComments {
        max_bytes: Some(GB),
    });
    let mut c = aiw(d, &comments.base_url());
    c.args(["ask", "hi"]);
    report(
        "1 GB of SSE comments read to the end, aiw ask",
        &measure(c),
        Some(&comments),
    );

    let line = Server::start(Behaviour::GiantLine {
        max_bytes: Some(2 * GB),
    });
    let mut c = aiw(d, &line.base_url());
    c.args(["ask", "hi"]);
    report("2 GB single SSE line, aiw ask", &measure(c), Some(&line));

    let unused = Server::start(Behaviour::GiantLine { max_bytes: Some(0) });
    let mut c = aiw(d, &unused.base_url());
    c.args(["review", "--diff", "/dev/zero"]);
    report(
        "endless diff, aiw review --diff /dev/zero",
        &measure(c),
        None,
    );

    let mut c = aiw(d, &unused.base_url());
    c.args(["review", "--diff", "-"]).stdin(Stdio::from(
        std::fs::File::open("/dev/zero").expect("/dev/zero"),
    ));
    report(
        "endless diff on a pipe, aiw review --diff -",
        &measure(c),
        None,
    );

    let fifo = d.join("never.fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success(), "mkfifo failed");
    let mut c = aiw(d, &unused.base_url());
    c.args(["review", "--timeout", "3s", "--diff"]).arg(&fifo);
    report(
        "silent pipe, aiw review --timeout 3s (deadline 1.5 s)",
        &measure(c),
        None,
    );
}
