//! `aiw ask` end to end with the real binary against the emulator: prompt from args and stdin,
//! streaming, `--json` shape, exit codes, failover notes on stderr, and keys never printed.

use std::io::Write;
use std::process::Stdio;

use aiw_emulator::{Action, Emulator, ErrorKind, Script};

use crate::support::{ANTHROPIC_KEY, OPENAI_KEY, aiw, config_text};

fn setup(emu: &Emulator, dir: &std::path::Path) {
    let text = config_text(
        &emu.base_url(),
        r#"default = ["anthropic/primary", "openai/fallback"]"#,
        "",
    );
    std::fs::write(dir.join("config.toml"), text).unwrap();
}

fn run(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut cmd = aiw(dir);
    cmd.args(args)
        .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        .env("OPENAI_API_KEY", OPENAI_KEY)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn streams_the_answer_and_sends_the_prompt() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply("Paris is the capital."));
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || {
            run(
                &d,
                &["ask", "--system", "Be terse.", "Capital", "of", "France?"],
                None,
            )
        }
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "Paris is the capital.\n"
    );
    let sent = &emu.requests_for("primary")[0];
    assert_eq!(sent.message_texts(), ["Capital of France?"]);
    assert_eq!(sent.system_text().as_deref(), Some("Be terse."));
    assert_eq!(sent.header("x-api-key"), Some(ANTHROPIC_KEY));
}

#[tokio::test(flavor = "multi_thread")]
async fn stdin_becomes_context_for_the_prompt() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    setup(&emu, dir.path());
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || {
            run(
                &d,
                &["ask", "review this"],
                Some("diff --git a/x b/x\n+added\n"),
            )
        }
    })
    .await
    .unwrap();
    assert!(out.status.success());
    let texts = emu.requests_for("primary")[0].message_texts();
    assert!(texts[0].starts_with("review this"), "{texts:?}");
    assert!(texts[0].contains("+added"), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_reports_failover_and_degraded() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    setup(&emu, dir.path());
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script("fallback", Script::reply("fallback text"));
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || run(&d, &["ask", "--json", "hi"], None)
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["text"], "fallback text");
    assert_eq!(v["model"], "openai/fallback");
    // What the provider itself said it served (the emulator echoes the model id).
    assert_eq!(v["served_model"], "fallback");
    assert_eq!(v["degraded"], true);
    assert_eq!(v["attempts"][0]["model"], "anthropic/primary");
    assert_eq!(v["attempts"][0]["outcome"], "failed");
    assert_eq!(v["attempts"][0]["error_class"], "overloaded");
    assert_eq!(v["attempts"][1]["outcome"], "ok");
    assert!(v["usage"]["output_tokens"].as_u64().unwrap() > 0);
    assert!(v["ttft_ms"].is_u64() && v["total_ms"].is_u64());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("anthropic/primary failed"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_answers_exit_3_with_every_attempt_and_no_secrets() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    setup(&emu, dir.path());
    emu.set_script("primary", Script::always(Action::error(ErrorKind::Auth)));
    emu.set_script("fallback", Script::always(Action::error(ErrorKind::Server)));
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || run(&d, &["ask", "hi"], None)
    })
    .await
    .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("anthropic/primary") && stderr.contains("openai/fallback"),
        "{stderr}"
    );
    assert!(
        stderr.contains("auth") && stderr.contains("server_error"),
        "{stderr}"
    );
    for output in [&out.stdout, &out.stderr] {
        let s = String::from_utf8_lossy(output);
        assert!(!s.contains("SECRET"), "a key leaked: {s}");
    }
    let log = std::fs::read_to_string(dir.path().join("state/aiw.log")).unwrap_or_default();
    let journal =
        std::fs::read_to_string(dir.path().join("state/journal.jsonl")).unwrap_or_default();
    assert!(!log.contains("SECRET") && !journal.contains("SECRET"));
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let out = aiw(dir.path())
        .args(["ask"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no prompt"));
    let out = aiw(dir.path())
        .args(["ask", "-m", "nosuch/x", "hi"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown provider"));
    std::fs::write(dir.path().join("config.toml"), "[routes\n").unwrap();
    let out = aiw(dir.path())
        .args(["ask", "hi"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("config.toml:1:"));
}

#[test]
fn broken_pipe_exits_quietly() {
    // `aiw completions` writes a lot; closing the reader early must not print an error.
    let dir = tempfile::tempdir().unwrap();
    let mut child = aiw(dir.path())
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.code() == Some(0), "{:?}", out.status);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `--json` carries the answer's cost at the model's known price (here the user's `[prices]`
/// entry), and no cost at all for a model whose price is unknown.
#[tokio::test(flavor = "multi_thread")]
async fn json_says_what_the_answer_cost_where_the_price_is_known() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    setup(&emu, dir.path());
    let path = dir.path().join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        format!("{text}\n[prices.\"openai/fallback\"]\ninput = 2\noutput = 10\n"),
    )
    .unwrap();
    let ask = |d: std::path::PathBuf| {
        tokio::task::spawn_blocking(move || run(&d, &["ask", "--json", "hi"], None))
    };
    emu.set_script("primary", Script::reply("from the primary"));
    let out = ask(dir.path().to_path_buf()).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "anthropic/primary");
    assert!(v.get("cost_usd").is_none(), "{v}");

    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script("fallback", Script::reply("from the fallback"));
    let out = ask(dir.path().to_path_buf()).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "openai/fallback");
    let (i, o) = (
        v["usage"]["input_tokens"].as_f64().unwrap(),
        v["usage"]["output_tokens"].as_f64().unwrap(),
    );
    assert!(i > 0.0 && o > 0.0, "{v}");
    let cost = v["cost_usd"].as_f64().expect("cost_usd");
    assert!((cost - (i * 2.0 + o * 10.0) / 1e6).abs() < 1e-12, "{v}");
}
