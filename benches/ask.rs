//! `aiw ask` benchmark (not a timed test): prints the wall time of `aiw ask` streaming a reply
//! from the emulator over `curl` streaming the same reply (target <= 1.05), the peak RSS of
//! `aiw ask` with a remote model (target <= 20 MB, via /usr/bin/time), and `aiw --version`
//! start-up time.
//!
//! Run: `cargo bench --no-default-features --bench ask`.
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark writes its fixtures and drives the gateway with a plain client"
)]
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aiw_emulator::{Emulator, Reply, Script};

const RUNS: usize = 15;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn timed(mut cmd: Command) -> Duration {
    let start = Instant::now();
    let out = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("spawn");
    assert!(out.success(), "command failed: {cmd:?}");
    start.elapsed()
}

#[tokio::main]
async fn main() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let base = emu.base_url();
    // ~2,000 characters in 250 chunks, 2 ms apart: a typical half-second streamed answer.
    let text = "fn failover() -> Result<(), Error> { /* keep going */ }\n".repeat(36);
    emu.set_script(
        "bench-model",
        Script::always(
            Reply::new(&text)
                .chunk_chars(8)
                .interval(Duration::from_millis(2))
                .into(),
        ),
    );
    std::fs::write(
        dir.path().join("config.toml"),
        format!("[providers.anthropic]\nbase_url = \"{base}\"\n[routes]\ndefault = [\"anthropic/bench-model\"]\n"),
    )
    .expect("config");
    let aiw = env!("CARGO_BIN_EXE_aiw");
    let cfg_dir = dir.path().to_path_buf();
    let aiw_cmd = move || {
        let mut c = Command::new(aiw);
        c.args(["ask", "Write the failover function"])
            .env("AIW_CONFIG", cfg_dir.join("config.toml"))
            .env("AIW_DATA_DIR", cfg_dir.join("data"))
            .env("AIW_STATE_DIR", cfg_dir.join("state"))
            .env("ANTHROPIC_API_KEY", "bench-key")
            .stdin(Stdio::null());
        c
    };
    let body = r#"{"model":"bench-model","max_tokens":4096,"stream":true,"messages":[{"role":"user","content":"Write the failover function"}]}"#;
    let url = format!("{base}/v1/messages");
    let curl_cmd = move || {
        let mut c = Command::new("curl");
        c.args([
            "-sN",
            "-X",
            "POST",
            &url,
            "-H",
            "x-api-key: bench-key",
            "-H",
            "anthropic-version: 2023-06-01",
            "-H",
            "content-type: application/json",
            "-d",
            body,
        ]);
        c
    };
    // The emulator runs on this process's runtime; the child processes run beside it.
    let (a, c) = tokio::task::spawn_blocking(move || {
        timed(aiw_cmd());
        timed(curl_cmd());
        let mut a = Vec::new();
        let mut c = Vec::new();
        for _ in 0..RUNS {
            a.push(timed(aiw_cmd()));
            c.push(timed(curl_cmd()));
        }
        (median(a), median(c))
    })
    .await
    .expect("bench thread");
    println!(
        "ask: aiw ask {:.1} ms, curl {:.1} ms (median of {RUNS}); ratio {:.3} (target <= 1.05)",
        ms(a),
        ms(c),
        ms(a) / ms(c)
    );

    let rss = tokio::task::spawn_blocking({
        let dir = dir.path().to_path_buf();
        move || {
            let out = Command::new("/usr/bin/time")
                .args(["-f", "%M", aiw, "ask", "Write the failover function"])
                .env("AIW_CONFIG", dir.join("config.toml"))
                .env("AIW_DATA_DIR", dir.join("data"))
                .env("AIW_STATE_DIR", dir.join("state"))
                .env("ANTHROPIC_API_KEY", "bench-key")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .output()
                .ok()?;
            let err = String::from_utf8_lossy(&out.stderr);
            err.lines().last()?.trim().parse::<u64>().ok()
        }
    })
    .await
    .expect("rss thread");
    match rss {
        Some(kb) => println!(
            "ask: peak RSS {:.1} MB (target <= 20 MB)",
            kb as f64 / 1024.0
        ),
        None => {
            println!("ask: peak RSS not measured (/usr/bin/time missing: apt-get install time)");
        }
    }

    let mut v = Vec::new();
    for _ in 0..30 {
        let mut c = Command::new(aiw);
        c.arg("--version");
        v.push(timed(c));
    }
    println!(
        "ask: `aiw --version` start-up {:.2} ms (median of 30)",
        ms(median(v))
    );
}
