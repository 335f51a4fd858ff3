//! `aiw status`: the health table and its JSON, `--probe` probing every model in parallel, and
//! the exit code that tells a CI pre-flight whether the route can answer.

use std::process::Stdio;
use std::time::Duration;

use aiw_emulator::{Action, Emulator, ErrorKind, Reply, Script};

use crate::support::{ANTHROPIC_KEY, OPENAI_KEY, aiw, config_text};

fn run(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    aiw(dir)
        .args(args)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

async fn blocking(dir: &std::path::Path, args: &[&'static str]) -> std::process::Output {
    let d = dir.to_path_buf();
    let args = args.to_vec();
    tokio::task::spawn_blocking(move || run(&d, &args))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn probe_runs_in_parallel_and_exit_code_follows_the_route() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &emu.base_url(),
        r#"default = ["anthropic/a", "openai/b"]"#,
        "",
    )
    .replace("probe_timeout = \"1s\"", "probe_timeout = \"5s\"");
    std::fs::write(dir.path().join("config.toml"), text).unwrap();
    // Both answer slowly (2 s to first token): probed one after the other, the second request
    // would arrive at least 2 s after the first.
    let delay = Duration::from_secs(2);
    for m in ["a", "b"] {
        emu.set_script(
            m,
            Script::always(Reply::new("pong").first_token_delay(delay).into()),
        );
    }
    let out = blocking(dir.path(), &["status", "--probe", "--json"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["can_answer"], true);
    assert_eq!(v["models"][0]["model"], "anthropic/a");
    assert_eq!(v["models"][0]["probe"]["ok"], true);
    assert_eq!(v["models"][1]["probe"]["ok"], true);
    let (a, b) = (emu.requests_for("a")[0].at, emu.requests_for("b")[0].at);
    let gap = a.max(b) - a.min(b);
    assert!(gap < delay, "probes ran one after the other: {gap:?} apart");
    assert_eq!(emu.count("a"), 1);
    assert_eq!(emu.count("b"), 1);

    // Everything down: the pre-flight says so with exit 1, and the table names the error.
    for m in ["a", "b"] {
        emu.set_script(m, Script::always(Action::error(ErrorKind::Overloaded)));
    }
    let out = blocking(dir.path(), &["status", "--probe"]).await;
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("anthropic/a") && table.contains("overloaded"),
        "{table}"
    );
    assert!(table.contains("CANNOT answer"), "{table}");
    // The failed probes are remembered: a plain status (no probe) shows them down.
    let out = blocking(dir.path(), &["status", "--json"]).await;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["models"][0]["state"], "open");
    assert_eq!(v["models"][0]["last_error"], "overloaded");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("SECRET"));
}

#[test]
fn missing_key_is_reported_without_a_call() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[routes]\ndefault = [\"anthropic/claude-sonnet-4-6\"]\n",
    )
    .unwrap();
    let out = aiw(dir.path())
        .args(["status"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "a route with no usable model cannot answer"
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("no key: set ANTHROPIC_API_KEY"), "{table}");
}

#[test]
fn a_local_model_that_is_not_installed_cannot_answer() {
    // No keys, no config: the built-in route is just the local model, which is not installed
    // in this empty data dir (or not built in). The pre-flight must say so, not claim health.
    let dir = tempfile::tempdir().unwrap();
    let out = aiw(dir.path())
        .args(["status", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["can_answer"], false);
    assert_eq!(v["models"][0]["model"], "local/smollm2-135m");
    assert_eq!(v["models"][0]["state"], "open");
    let note = v["models"][0]["note"].as_str().unwrap();
    assert!(
        note.contains("not installed") || note.contains("without the `local` feature"),
        "{note}"
    );
}
