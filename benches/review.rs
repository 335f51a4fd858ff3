//! `aiw review` benchmark (not a timed test): how many cloud calls a 2.6k-line diff takes with
//! and without the local model in the route (target: equal, since a local tier must not shrink
//! the cloud model's chunks and answer limit; the local model is configured, so the route
//! really has a local tier, but the healthy cloud model answers every part), and how long the
//! local model alone takes to review a 516-line diff with a planted bug (target: 60 s on a
//! 2-core machine), with its exit status.
//!
//! Run: `cargo bench --bench review` (the test model comes from `AIW_TEST_MODEL`, as
//! `scripts/setup-test-env.sh` exports it, else the usual cache).
#![allow(clippy::disallowed_methods, reason = "a benchmark writes its fixtures")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use aiw_emulator::{Emulator, Script};

/// A unified diff adding `files` files of `lines` lines each.
fn diff(files: usize, lines: usize) -> String {
    let mut d = String::new();
    for f in 0..files {
        let _ = write!(
            d,
            "diff --git a/src/part{f}.rs b/src/part{f}.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/part{f}.rs\n@@ -0,0 +1,{lines} @@\n"
        );
        for i in 0..lines {
            let _ = writeln!(
                d,
                "+pub fn step_{f}_{i}(x: u32) -> u32 {{ x.wrapping_mul({i}) / {} }}",
                i % 7
            );
        }
    }
    d
}

fn model() -> PathBuf {
    std::env::var_os("AIW_TEST_MODEL").map_or_else(
        || {
            PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                .join(".cache/aiw/test/SmolLM2-135M-Instruct.Q4_1.gguf")
        },
        PathBuf::from,
    )
}

/// A 516-line diff adding one Rust file of small functions, one of which indexes a slice
/// with an unchecked number parsed from its input (the planted bug).
fn planted_diff() -> String {
    let mut body: Vec<String> = [
        "//! Step functions of the pipeline.",
        "",
        "/// Picks the item named by `input` (a 1-based position).",
        "pub fn pick(items: &[String], input: &str) -> String {",
        "    let n: usize = input.trim().parse().unwrap();",
        "    items[n].clone()",
        "}",
    ]
    .map(String::from)
    .to_vec();
    let mut i = 0;
    while body.len() + 5 <= 511 {
        body.push(String::new());
        body.push(format!("/// Step {i}: scales `x`."));
        body.push(format!("pub fn step_{i}(x: u64) -> u64 {{"));
        body.push(format!("    x.saturating_mul({}) / {}", i + 2, i % 7 + 1));
        body.push("}".to_string());
        i += 1;
    }
    while body.len() < 511 {
        body.push(String::new());
    }
    let mut d = format!(
        "diff --git a/src/steps.rs b/src/steps.rs\nnew file mode 100644\n--- /dev/null\n+++ b/src/steps.rs\n@@ -0,0 +1,{} @@\n",
        body.len()
    );
    for l in &body {
        let _ = writeln!(d, "+{l}");
    }
    d
}

/// Runs `aiw review --diff FILE` with `route` as the review route; returns the exit status
/// and the review's own summary lines (`aiw review: ...`).
fn review(dir: &Path, base: &str, route: &str, diff_file: &Path) -> (Option<i32>, String) {
    std::fs::write(
        dir.join("config.toml"),
        format!(
            "[providers.anthropic]\nbase_url = \"{base}\"\n[providers.local]\nmodel = \"{}\"\nthreads = 2\ncontext_size = 4096\n[routes]\ndefault = [{route}]\n[timeouts]\ntotal = \"30m\"\n",
            model().display()
        ),
    )
    .expect("config");
    Command::new(env!("CARGO_BIN_EXE_aiw"))
        .args(["review", "--diff"])
        .arg(diff_file)
        .args(["--timeout", "30m"])
        .env("AIW_CONFIG", dir.join("config.toml"))
        .env("AIW_DATA_DIR", dir.join("data"))
        .env("AIW_STATE_DIR", dir.join("state"))
        .env("ANTHROPIC_API_KEY", "bench-key")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITLAB_CI")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map(|o| {
            let mut said = String::new();
            let out = [&o.stdout[..], &o.stderr[..]].concat();
            for l in String::from_utf8_lossy(&out)
                .lines()
                .filter(|l| l.starts_with("aiw review:"))
            {
                let _ = writeln!(said, "    {l}");
            }
            (o.status.code(), said)
        })
        .expect("spawn aiw")
}

#[tokio::main]
async fn main() {
    assert!(
        model().is_file(),
        "the test model is missing: run scripts/setup-test-env.sh"
    );
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script("primary", Script::reply("[]"));
    let dir = tempfile::tempdir().expect("tempdir");
    let base = emu.base_url();

    // Cloud calls for a 2.6k-line diff, with and without the local model in the route.
    let big = dir.path().join("big.diff");
    std::fs::write(&big, diff(26, 100)).expect("diff");
    let mut calls = Vec::new();
    for route in [
        r#""anthropic/primary""#,
        r#""anthropic/primary", "local/default""#,
    ] {
        emu.clear_requests();
        let (code, _) = review(dir.path(), &base, route, &big);
        calls.push(emu.count("primary"));
        println!(
            "2,600-line diff, route [{route}]: {} cloud calls (exit {code:?})",
            emu.count("primary")
        );
    }
    println!(
        "cloud calls with the local model in the route / without: {} / {} (target: equal)",
        calls[1], calls[0]
    );

    // The local model alone on the 516-line diff with the planted bug.
    let planted = dir.path().join("planted.diff");
    let text = planted_diff();
    std::fs::write(&planted, &text).expect("diff");
    let started = std::time::Instant::now();
    let (code, said) = review(dir.path(), &base, r#""local/default""#, &planted);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}-line diff on the local model only: {secs:.1} s (exit {code:?}); {:.2} of the 60 s target\n{said}",
        text.lines().count(),
        secs / 60.0
    );
}
