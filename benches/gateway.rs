//! Gateway benchmark (prints figures, asserts nothing about speed):
//! - time to first token through the gateway against calling the emulator directly (p50, p90,
//!   and the difference; target: at most 2 ms added at p50);
//! - the resident memory of an idle `aiw serve` process (target: 30 MB or less);
//! - 32 concurrent streams through the gateway (target: none fails).
//!
//! Run: `cargo bench --no-default-features --bench gateway`.
#![allow(
    clippy::disallowed_methods,
    reason = "a benchmark writes its fixtures and drives the gateway with a plain client"
)]
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::time::{Duration, Instant};

use aiw::config::{FileConfig, Paths, Secret, Settings};
use aiw::gateway::{self, Gateway};
use aiw::router::Router;
use aiw::router::health::HealthStore;
use aiw::router::journal::Journal;
use aiw_emulator::{Action, Emulator, Reply, Script};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "aiw-bench-token-0123456789abcdef";
const RUNS: usize = 300;

fn config(base: &str) -> String {
    format!(
        r#"
[providers.anthropic]
base_url = "{base}"
[routes]
default = ["anthropic/claude-x"]
[gateway]
max_streams = 64
"#
    )
}

fn settings(base: &str, dir: &std::path::Path) -> Settings {
    let paths = Paths {
        config_file: dir.join("config.toml"),
        data_dir: dir.join("data"),
        state_dir: dir.join("state"),
    };
    let cfg = FileConfig::parse(&config(base), &paths.config_file).expect("config");
    Settings::resolve(cfg, paths, true, Vec::new(), &|k| {
        (k == "ANTHROPIC_API_KEY").then(|| "sk-ant-bench-0123456789".to_string())
    })
    .expect("settings")
}

fn body() -> serde_json::Value {
    serde_json::json!({"model": "claude-x", "max_tokens": 64, "stream": true,
                       "messages": [{"role": "user", "content": "hi"}]})
}

/// Milliseconds from sending to the first text delta, and whether the stream completed.
async fn ttft(http: &reqwest::Client, url: &str, key: &str) -> (f64, bool) {
    let start = Instant::now();
    let Ok(resp) = http
        .post(url)
        .header("x-api-key", key)
        .header("anthropic-version", "2023-06-01")
        .json(&body())
        .send()
        .await
    else {
        return (0.0, false);
    };
    if !resp.status().is_success() {
        return (0.0, false);
    }
    let mut stream = resp.bytes_stream();
    let mut seen = String::new();
    let mut first = None;
    while let Some(Ok(chunk)) = stream.next().await {
        seen.push_str(&String::from_utf8_lossy(&chunk));
        if first.is_none() && seen.contains("text_delta") {
            first = Some(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    (first.unwrap_or(0.0), seen.contains("message_stop"))
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p) as usize]
}

/// Resident set of a process, in MB, from /proc.
fn rss_mb(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = s
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

#[tokio::main]
async fn main() {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script(
        "claude-x",
        Script::always(Action::Reply(
            Reply::new("Hello from the emulator.").chunk_chars(8),
        )),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let s = settings(&emu.base_url(), dir.path());
    let router = Router::with_parts(
        std::sync::Arc::new(s),
        HealthStore::in_memory(),
        Journal::disabled(),
    )
    .expect("router");
    let addr = gateway::start(
        Gateway::new(router, Secret::new(TOKEN)),
        CancellationToken::new(),
    )
    .await
    .expect("gateway");
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let direct_url = format!("{}/v1/messages", emu.base_url());
    let gw_url = format!("http://{addr}/v1/messages");

    // Warm both paths (connections, the router's first call).
    for _ in 0..20 {
        ttft(&http, &direct_url, "sk-ant-bench-0123456789").await;
        ttft(&http, &gw_url, TOKEN).await;
    }
    let mut direct = Vec::with_capacity(RUNS);
    let mut via = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        direct.push(ttft(&http, &direct_url, "sk-ant-bench-0123456789").await.0);
        via.push(ttft(&http, &gw_url, TOKEN).await.0);
    }
    let (d50, v50) = (pct(&mut direct, 0.5), pct(&mut via, 0.5));
    let (d90, v90) = (pct(&mut direct, 0.9), pct(&mut via, 0.9));
    println!("time to first token, {RUNS} streamed requests each, alternating:");
    println!("  emulator directly : p50 {d50:.3} ms, p90 {d90:.3} ms");
    println!("  through gateway   : p50 {v50:.3} ms, p90 {v90:.3} ms");
    println!(
        "  added at p50      : {:.3} ms (target <= 2 ms); ratio {:.2}",
        v50 - d50,
        v50 / d50
    );

    // 32 at once.
    emu.set_script(
        "claude-x",
        Script::always(Action::Reply(
            Reply::new("A somewhat longer answer, streamed slowly in pieces.")
                .chunk_chars(4)
                .interval(Duration::from_millis(5)),
        )),
    );
    let t = Instant::now();
    let all = futures_util::future::join_all((0..32).map(|_| ttft(&http, &gw_url, TOKEN))).await;
    let ok = all.iter().filter(|(_, done)| *done).count();
    println!(
        "32 concurrent streams through the gateway: {ok} of 32 complete, {} failed, {:.0} ms wall",
        32 - ok,
        t.elapsed().as_secs_f64() * 1e3
    );

    // An idle `aiw serve`, as users run it.
    std::fs::write(dir.path().join("config.toml"), config(&emu.base_url())).expect("config file");
    let bin = env!("CARGO_BIN_EXE_aiw");
    let mut child = std::process::Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("AIW_CONFIG", dir.path().join("config.toml"))
        .env("AIW_DATA_DIR", dir.path().join("data"))
        .env("AIW_STATE_DIR", dir.path().join("state"))
        .env("AIW_GATEWAY_TOKEN", TOKEN)
        .env("ANTHROPIC_API_KEY", "sk-ant-bench-0123456789")
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("aiw serve");
    tokio::time::sleep(Duration::from_millis(800)).await;
    match rss_mb(child.id()) {
        Some(mb) => println!("idle `aiw serve` resident memory: {mb:.1} MB (target <= 30 MB)"),
        None => println!("idle `aiw serve` resident memory: not measurable (no /proc)"),
    }
    let _ = child.kill();
    let _ = child.wait();
}
