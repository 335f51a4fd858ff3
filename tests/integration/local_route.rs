//! The local tier as the last tier of a route (needs the `local` feature and the test model):
//! every remote model down (emulator) or unreachable (offline) -> the in-process SmolLM2 model
//! answers, with the earlier turns of the conversation in what it received.
#![cfg(feature = "local")]

use aiw::provider::{ChatRequest, ErrorClass, Message};
use aiw::router::{Outcome, RouterEvent};
use aiw_emulator::{Action, Emulator, ErrorKind, Script};
use tokio_util::sync::CancellationToken;

use crate::support::{config_text, m, router, settings, test_model};

/// The model tests of this binary run one at a time: two llama.cpp processes (or threads) each
/// spinning two OpenMP threads on a 2-core CI machine slow each other down tenfold.
pub(crate) static MODEL_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The `[providers.local]` block for the test model with a `context_size` window.
pub(crate) fn local_provider(context_size: u32) -> String {
    format!(
        "[providers.local]\nmodel = \"{}\"\nthreads = 2\ncontext_size = {context_size}\n",
        test_model().display()
    )
}

/// Config text whose time limits suit the local model: a loaded 2-core CI machine runs
/// SmolLM2 ten times slower than an idle one, so no local test may depend on 20 s being
/// enough (the local tier waits only for `total`; the remote limits stay short).
pub(crate) fn patient(text: &str) -> String {
    text.replace("total = \"20s\"", "total = \"600s\"")
}

fn conversation() -> ChatRequest {
    ChatRequest {
        system: Some("You are a concise assistant.".into()),
        messages: vec![
            Message::user("What is the capital of France?"),
            Message::assistant("The capital of France is Paris."),
            Message::user("Repeat the name of that city, in one word."),
        ],
        temperature: Some(0.0),
        max_tokens: Some(24),
        ..ChatRequest::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn all_remote_down_answers_from_the_local_model_with_the_history() {
    let _one_at_a_time = MODEL_LOCK.lock().await;
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = patient(&config_text(
        &emu.base_url(),
        r#"default = ["anthropic/primary", "openai/fallback", "local/default"]"#,
        &local_provider(1024),
    ));
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script(
        "fallback",
        Script::always(Action::error(ErrorKind::Unavailable)),
    );
    let r = router(settings(&text, dir.path()));
    let route = [
        m("anthropic/primary"),
        m("openai/fallback"),
        m("local/default"),
    ];
    let mut events = Vec::new();
    let mut on = |e: RouterEvent| events.push(e);
    let a = r
        .run(&route, &conversation(), &mut on, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(a.model, "local/default");
    assert!(a.degraded);
    assert_eq!(a.attempts[0].error_class, Some(ErrorClass::Overloaded));
    assert_eq!(a.attempts.last().unwrap().outcome, Outcome::Ok);
    // The answer depends on the earlier turns: only they name the city.
    assert!(a.text().contains("Paris"), "{}", a.text());
    // The remote models got the whole conversation too (what carries across every switch).
    let sent = emu.requests_for("fallback");
    assert_eq!(sent[0].message_texts().len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_goes_straight_to_local_without_paying_each_timeout() {
    let model = test_model();
    let _one_at_a_time = MODEL_LOCK.lock().await;
    let dir = tempfile::tempdir().unwrap();
    // Every remote provider points at a closed port: connection refused, like no network.
    let text = format!(
        r#"
[providers.anthropic]
base_url = "http://127.0.0.1:9"
[providers.openai]
base_url = "http://127.0.0.1:9/v1"
[providers.gemini]
base_url = "http://127.0.0.1:9"
[providers.local]
model = "{}"
threads = 2
[routes]
default = ["anthropic/a", "openai/b", "gemini/c", "local/default"]
[timeouts]
connect = "3s"
"#,
        model.display()
    );
    let r = router(settings(&text, dir.path()));
    let route = [
        m("anthropic/a"),
        m("openai/b"),
        m("gemini/c"),
        m("local/default"),
    ];
    let mut on = |_e: RouterEvent| {};
    let a = r
        .run(&route, &conversation(), &mut on, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(a.model, "local/default");
    let skipped = a
        .attempts
        .iter()
        .filter(|x| x.outcome == Outcome::Skipped)
        .count();
    assert_eq!(skipped, 2, "{:?}", a.attempts);
    // The next request skips every remote model at once: they are all out of rotation.
    let mut on = |_e: RouterEvent| {};
    let b = r
        .run(&route, &conversation(), &mut on, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(b.model, "local/default");
    assert!(
        b.attempts[..3]
            .iter()
            .all(|x| x.outcome == Outcome::Skipped),
        "{:?}",
        b.attempts
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn review_with_every_remote_model_down_is_done_by_the_local_model_under_its_grammar() {
    let _one_at_a_time = MODEL_LOCK.lock().await;
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = patient(&config_text(
        &emu.base_url(),
        r#"review = ["anthropic/primary", "local/default"]"#,
        &local_provider(2048),
    ));
    std::fs::write(dir.path().join("config.toml"), text).unwrap();
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    let diff =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diffs/simple.diff");
    let json = dir.path().join("review.json");
    let d = dir.path().to_path_buf();
    let out = tokio::task::spawn_blocking({
        let (diff, json) = (diff.clone(), json.clone());
        move || {
            crate::support::aiw(&d)
                .args(["review", "--diff"])
                .arg(&diff)
                .arg("--json")
                .arg(&json)
                // The default --fail-on-tier: the local model's findings cannot fail the step.
                .args(["--fail-on", "warning"])
                .env("ANTHROPIC_API_KEY", crate::support::ANTHROPIC_KEY)
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    // Honest about the degradation, and the grammar made the small model's answer readable.
    assert_eq!(v["degraded"], true, "{v}");
    assert_eq!(
        v["status"], "complete",
        "the local answer must parse as findings: {v}"
    );
    assert!(
        v["models"].to_string().contains("local/default")
            || v["model"].to_string().contains("local/default"),
        "{v}"
    );
    assert!(stdout.contains("local/default"), "{stdout}");
    // Whatever it found, the contract's example text is never reported as a finding.
    for f in v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(v["outside_findings"].as_array().into_iter().flatten())
    {
        assert_ne!(f["file"], "path/in/repo", "{v}");
        assert_ne!(f["title"], "one line", "{v}");
        assert_eq!(f["advisory"], true, "{v}");
    }
}

/// The cloud is down and the agent needs a tool: the local model calls it through aiw's tool
/// format and grammar. SmolLM2-135M calls tools badly, but what comes out is always either a
/// complete, valid call of an offered tool or plain text, never a broken call.
#[tokio::test(flavor = "multi_thread")]
async fn the_local_model_calls_tools_under_the_grammar() {
    use aiw::conversation::{Tool, ToolChoice};
    use aiw::provider::{Block, Role, StopReason};
    let _one_at_a_time = MODEL_LOCK.lock().await;
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = patient(&config_text(
        &emu.base_url(),
        r#"default = ["anthropic/primary", "local/default"]"#,
        &local_provider(2048),
    ));
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    let r = router(settings(&text, dir.path()));
    let route = [m("anthropic/primary"), m("local/default")];
    let tool = Tool {
        name: "read_file".into(),
        description: "Reads one file of the repository and returns its text".into(),
        input_schema: serde_json::json!({
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"]
        }),
    };
    // A call is required: the grammar allows nothing else.
    let req = ChatRequest {
        messages: vec![Message::user("Read the file src/main.rs")],
        tools: vec![tool.clone()],
        tool_choice: Some(ToolChoice::Any),
        temperature: Some(0.0),
        max_tokens: Some(96),
        ..ChatRequest::default()
    };
    let mut on = |_e: RouterEvent| {};
    let a = r
        .run(&route, &req, &mut on, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(a.model, "local/default");
    assert_eq!(a.stop, StopReason::ToolUse, "{:?}", a.blocks);
    let calls: Vec<_> = a
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse { name, input, .. } => Some((name.clone(), input.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 1, "{:?}", a.blocks);
    assert_eq!(calls[0].0, "read_file");
    assert!(calls[0].1.is_object());

    // The next step of the loop: the result comes back; text or another valid call follows.
    let call = a.blocks.last().unwrap().clone();
    let Block::ToolUse { id, .. } = &call else {
        panic!("{call:?}")
    };
    let req = ChatRequest {
        messages: vec![
            Message::user("Read the file src/main.rs"),
            Message {
                role: Role::Assistant,
                blocks: vec![call.clone()],
            },
            Message {
                role: Role::User,
                blocks: vec![Block::ToolResult {
                    tool_use_id: id.clone(),
                    content: vec![Block::text("fn main() { println!(\"hi\"); }")],
                    is_error: false,
                }],
            },
        ],
        tools: vec![tool],
        tool_choice: Some(ToolChoice::Auto),
        temperature: Some(0.0),
        max_tokens: Some(48),
        ..ChatRequest::default()
    };
    let a = r
        .run(&route, &req, &mut on, &CancellationToken::new())
        .await
        .unwrap();
    for b in &a.blocks {
        match b {
            Block::Text { text, .. } => {
                assert!(!text.trim_start().starts_with("{\"tool\""), "{text}");
            }
            Block::ToolUse { name, input, .. } => {
                assert_eq!(name, "read_file");
                assert!(input.is_object());
            }
            other => panic!("unexpected block {other:?}"),
        }
    }
}

/// An agent's request too large for the local window, with the cloud down: old tool results
/// are left out and the local model answers; a last message that alone cannot fit is refused
/// with Anthropic's own "prompt is too long" error, not a cut answer.
#[tokio::test(flavor = "multi_thread")]
async fn the_gateway_fits_a_big_agent_request_into_the_local_window_or_says_it_cannot() {
    use aiw::config::Secret;
    use aiw::gateway::{self, Gateway};
    let _one_at_a_time = MODEL_LOCK.lock().await;
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = patient(&config_text(
        &emu.base_url(),
        r#"default = ["anthropic/primary", "local/default"]"#,
        &local_provider(1024),
    ));
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    let token = "aiw-local-gateway-token-0123456789";
    let gw = Gateway::new(router(settings(&text, dir.path())), Secret::new(token));
    let addr = gateway::start(gw, CancellationToken::new()).await.unwrap();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let post = |body: serde_json::Value| {
        http.post(format!("http://{addr}/v1/messages"))
            .header("x-api-key", token)
            .json(&body)
            .send()
    };
    // About 6k tokens of old tool output, then a short question.
    let mut messages = Vec::new();
    for i in 0..6 {
        let id = format!("toolu_{i}");
        messages.push(serde_json::json!({"role": "user", "content": format!("step {i}")}));
        messages.push(serde_json::json!({"role": "assistant", "content": [
            {"type": "tool_use", "id": id, "name": "Read", "input": {"file_path": format!("f{i}.rs")}}]}));
        messages.push(serde_json::json!({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": id, "content": "fn x() {}\n".repeat(400)}]}));
        messages.push(serde_json::json!({"role": "assistant", "content": "ok"}));
    }
    messages.push(serde_json::json!({"role": "user", "content": "Say hello."}));
    let r = post(
        serde_json::json!({"model": "claude-opus-5-5", "max_tokens": 32, "messages": messages}),
    )
    .await
    .unwrap();
    let status = r.status().as_u16();
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["type"], "message", "{v}");
    assert!(
        !v["content"][0]["text"].as_str().unwrap_or("").is_empty(),
        "{v}"
    );
    // A last message that alone is larger than the window.
    let huge = "word ".repeat(6000);
    let r = post(
        serde_json::json!({"model": "claude-opus-5-5", "max_tokens": 32,
        "messages": [{"role": "user", "content": huge}]}),
    )
    .await
    .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error", "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("prompt is too long"),
        "{v}"
    );
}

/// Issue 17's end: a 60-turn session with facts planted in its first turns is summarised by a
/// cheap cloud model while it is healthy; then every cloud model goes down, and the local
/// model's request is the system prompt + that summary + the last turns, fitted exactly (its
/// own tokenizer) into its window, and the user is told.
#[tokio::test(flavor = "multi_thread")]
async fn all_cloud_down_the_local_model_gets_the_summary_with_the_planted_facts() {
    use crate::summary::{FACTS, config, long_session};
    use aiw::session::summary;
    let _one_at_a_time = MODEL_LOCK.lock().await;
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = patient(&config(&emu.base_url(), 128_000, &local_provider(1024)))
        // A loaded 2-core machine takes tens of seconds to evaluate a 1k-token prompt.
        .replace("first_token = \"2s\"", "first_token = \"300s\"")
        .replace("stall = \"2s\"", "stall = \"300s\"");
    emu.set_script("primary", Script::reply("ok"));
    emu.set_script("cheap-mini", Script::reply(&crate::summary::summary_text()));
    let r = router(settings(&text, dir.path()));
    let mut session = long_session(60, 12);

    // While the cloud is healthy: the rolling summary.
    let (req, turns) = summary::request(&session).unwrap();
    let made = summary::refresh(
        &r,
        &m("openai/cheap-mini"),
        &req,
        turns,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    session.summary = Some(made);

    // Every cloud model down.
    for name in ["primary", "cheap-mini"] {
        emu.set_script(name, Script::always(Action::error(ErrorKind::Unavailable)));
    }
    let route = [
        m("anthropic/primary"),
        m("openai/cheap-mini"),
        m("local/default"),
    ];
    let mut req = session.to_request(Some("What is the project codename? One word."));
    req.max_tokens = Some(24);
    req.temperature = Some(0.0);
    for fact in FACTS {
        assert!(req.summary.as_deref().unwrap().contains(fact));
    }
    let mut events = Vec::new();
    let mut on = |e: RouterEvent| events.push(e);
    let a = r
        .run(&route, &req, &mut on, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(a.model, "local/default");
    let fits: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            RouterEvent::HistoryFitted { model, report } => Some((model.to_string(), report)),
            _ => None,
        })
        .collect();
    assert_eq!(fits.len(), 1, "{fits:?}");
    let (name, report) = &fits[0];
    assert_eq!(name, "local/default");
    // Counted with the local model's own tokenizer, chat template included, into the window
    // less the answer's 24 tokens.
    assert!(report.exact && report.summarised, "{report:?}");
    assert_eq!(report.budget, 1024 - 24);
    assert!(report.tokens <= report.budget, "{report:?}");
    assert!(
        report.tokens > report.budget / 2,
        "the window is used: {report:?}"
    );
    assert_eq!(report.turns, 61);
    assert!((1..61).contains(&report.kept));
    assert_eq!(
        report.describe(name),
        format!(
            "history summarised for local/default: 61 turns -> summary + last {}",
            report.kept
        )
    );
    // The fitting note comes before the local model's first text.
    let fit_at = events
        .iter()
        .position(|e| matches!(e, RouterEvent::HistoryFitted { .. }))
        .unwrap();
    let text_at = events
        .iter()
        .position(|e| matches!(e, RouterEvent::Text { model, .. } if model.provider == "local"));
    assert!(text_at.is_none_or(|t| fit_at < t));
}

/// No summary ready (the outage came before the first one): the local model reduces the
/// history itself, chunk by chunk with a progress event per chunk, and its request is the
/// merged summary + the last turns, fitted exactly into its window.
#[tokio::test(flavor = "multi_thread")]
async fn no_summary_ready_the_local_model_reduces_the_history_itself() {
    use crate::summary::{config, long_session};
    let _one_at_a_time = MODEL_LOCK.lock().await;
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = patient(&config(&emu.base_url(), 128_000, &local_provider(1024)))
        .replace("first_token = \"2s\"", "first_token = \"300s\"")
        .replace("stall = \"2s\"", "stall = \"300s\"");
    for name in ["primary", "fallback"] {
        emu.set_script(name, Script::always(Action::error(ErrorKind::Unavailable)));
    }
    let r = router(settings(&text, dir.path()));
    // About 1,300 estimated tokens: a few chunks for a 1k window.
    let session = long_session(8, 30);
    let mut req = session.to_request(Some("What is the project codename?"));
    req.max_tokens = Some(16);
    req.temperature = Some(0.0);
    assert!(req.summary.is_none());
    let mut events = Vec::new();
    let mut on = |e: RouterEvent| events.push(e);
    let route = [
        m("anthropic/primary"),
        m("openai/fallback"),
        m("local/default"),
    ];
    let a = r
        .run(&route, &req, &mut on, &CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(a.model, "local/default");
    let progress: Vec<(usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            RouterEvent::Reducing { done, of, .. } => Some((*done, *of)),
            _ => None,
        })
        .collect();
    let failed: Vec<&RouterEvent> = events
        .iter()
        .filter(|e| matches!(e, RouterEvent::ReduceFailed { .. }))
        .collect();
    assert!(failed.is_empty(), "{failed:?}");
    let of = progress.first().map(|p| p.1).unwrap();
    assert!(of >= 2, "{progress:?}");
    assert_eq!(progress, (0..=of).map(|d| (d, of)).collect::<Vec<_>>());
    let report = events
        .iter()
        .find_map(|e| match e {
            RouterEvent::HistoryFitted { report, .. } => Some(report.clone()),
            _ => None,
        })
        .unwrap();
    assert!(report.exact && report.summarised, "{report:?}");
    assert!(report.tokens <= report.budget && report.budget == 1024 - 16);
    // The reduction ran on the local model before its answer, and only then was it fitted.
    let last_progress = events
        .iter()
        .rposition(|e| matches!(e, RouterEvent::Reducing { .. }))
        .unwrap();
    let fit_at = events
        .iter()
        .position(|e| matches!(e, RouterEvent::HistoryFitted { .. }))
        .unwrap();
    assert!(last_progress < fit_at);
}
