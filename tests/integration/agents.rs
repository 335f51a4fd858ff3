//! Real clients through the gateway, the emulator upstream: the Claude Code CLI (npm
//! `@anthropic-ai/claude-code`) under `aiw run` finishing a task that needs a `Read` tool call
//! while the Anthropic primary answers 529, and the official Python SDKs (`anthropic`,
//! `openai` from PyPI) streaming text and tool calls through the gateway. The clients are
//! installed by `scripts/setup-test-env.sh` (`AIW_TEST_CLAUDE`, `AIW_TEST_PYTHON`); where they
//! are missing the tests fail, saying how to install them.

use std::path::PathBuf;
use std::process::Command;

use aiw::config::Secret;
use aiw::gateway::{self, Gateway};
use aiw_emulator::{Action, Emulator, ErrorKind, Reply, Script};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::{config_text, required_file, router, settings};

/// A client binary from the environment variable `var` or the test cache; a missing one fails
/// the test.
fn client(var: &str, cached: &str) -> PathBuf {
    let home =
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/aiw/test").join(cached));
    required_file(var, &[std::env::var_os(var).map(PathBuf::from), home])
}

fn routes_config(emu: &Emulator) -> String {
    config_text(
        &emu.base_url(),
        r#"default = ["anthropic/claude-x", "openai/gpt-x"]"#,
        "",
    )
    // A real agent's first request is large and its client patient: room for a slow CI runner.
    .replace("first_token = \"1s\"", "first_token = \"5s\"")
    .replace("stall = \"1s\"", "stall = \"5s\"")
}

#[test]
fn claude_code_finishes_a_tool_task_through_an_anthropic_outage() {
    let claude = client("AIW_TEST_CLAUDE", "npm/node_modules/.bin/claude");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let notes = repo.join("notes.txt");
    std::fs::write(&notes, "The release codename is MARKER-7F3A-QUOKKA.\n").unwrap();
    std::fs::write(dir.path().join("config.toml"), routes_config(&emu)).unwrap();
    emu.set_script(
        "claude-x",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script(
        "gpt-x",
        Script::sequence(vec![
            Action::Reply(
                Reply::new("I'll read the file.")
                    .with_tool_call("Read", json!({"file_path": notes.display().to_string()})),
            ),
            Action::Reply(Reply::echo_tool_results()),
        ]),
    );
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let out = crate::support::aiw(dir.path())
        .current_dir(&repo)
        .env("HOME", &home)
        .env("CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC", "1")
        .env("DISABLE_TELEMETRY", "1")
        .env("DISABLE_AUTOUPDATER", "1")
        .env("ANTHROPIC_API_KEY", crate::support::ANTHROPIC_KEY)
        .env("OPENAI_API_KEY", crate::support::OPENAI_KEY)
        .arg("run")
        .arg("--")
        .arg(&claude)
        .args([
            "-p",
            "What is the release codename written in notes.txt? Read the file.",
            "--output-format",
            "json",
            "--allowedTools",
            "Read",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let result: Value =
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(result["is_error"], false, "{result}");
    assert!(
        result["result"]
            .as_str()
            .unwrap_or("")
            .contains("MARKER-7F3A-QUOKKA"),
        "{result}"
    );
    // The primary was asked and refused; the OpenAI fallback made the call and got its result.
    assert!(emu.count("claude-x") >= 1);
    let sent = emu.requests_for("gpt-x");
    assert_eq!(sent.len(), 2, "the tool call, then the answer");
    let second = sent[1].json.clone().unwrap();
    let tool_msg = second["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("the Read result went to the fallback");
    assert!(
        tool_msg["content"]
            .to_string()
            .contains("MARKER-7F3A-QUOKKA")
    );
    // No real key reached Claude Code's requests or the child's output.
    for r in emu.requests() {
        assert!(!r.body_text().contains(crate::support::OPENAI_KEY));
    }
    assert!(
        !stdout.contains(crate::support::ANTHROPIC_KEY)
            && !stderr.contains(crate::support::ANTHROPIC_KEY)
    );
}

/// The Python SDKs stream text and tool calls through `aiw serve` with no parse error.
#[test]
fn the_official_python_sdks_stream_through_the_gateway() {
    let python = client("AIW_TEST_PYTHON", "venv/bin/python");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let emu = rt.block_on(Emulator::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    emu.set_script(
        "claude-x",
        Script::cycle(vec![
            Action::Reply(Reply::new("Hello from the gateway, streamed.").chunk_chars(5)),
            Action::Reply(
                Reply::new("Calling.").with_tool_call("get_weather", json!({"city": "Oslo"})),
            ),
        ]),
    );
    let text = routes_config(&emu);
    let token = "aiw-sdk-test-token-0123456789abcdef";
    let base = rt
        .block_on(async {
            gateway::start(
                Gateway::new(router(settings(&text, dir.path())), Secret::new(token)),
                CancellationToken::new(),
            )
            .await
        })
        .unwrap();
    let script = r#"
import json, sys
import anthropic, openai
base, token = sys.argv[1], sys.argv[2]
out = {}
a = anthropic.Anthropic(base_url=base, api_key=token, max_retries=0)
with a.messages.stream(model="claude-sonnet-4-6", max_tokens=256,
                       messages=[{"role": "user", "content": "hi"}]) as s:
    out["a_text"] = "".join(s.text_stream)
    out["a_stop"] = s.get_final_message().stop_reason
tools = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
with a.messages.stream(model="claude-sonnet-4-6", max_tokens=256, tools=tools,
                       messages=[{"role": "user", "content": "weather in Oslo?"}]) as s:
    m = s.get_final_message()
    out["a_tool"] = [[b.name, b.input] for b in m.content if b.type == "tool_use"]
    out["a_tool_stop"] = m.stop_reason
o = openai.OpenAI(base_url=base + "/v1", api_key=token, max_retries=0)
chunks = o.chat.completions.create(model="gpt-5.5", stream=True, stream_options={"include_usage": True},
                                   messages=[{"role": "user", "content": "hi"}])
text, usage = "", None
for c in chunks:
    if c.choices and c.choices[0].delta.content:
        text += c.choices[0].delta.content
    if c.usage:
        usage = c.usage.total_tokens
out["o_text"], out["o_usage"] = text, usage
chunks = o.chat.completions.create(model="gpt-5.5", stream=True,
    tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    messages=[{"role": "user", "content": "weather in Oslo?"}])
calls, finish = {}, None
for c in chunks:
    if not c.choices:
        continue
    for tc in c.choices[0].delta.tool_calls or []:
        e = calls.setdefault(tc.index, {"name": "", "args": ""})
        if tc.function.name:
            e["name"] = tc.function.name
        e["args"] += tc.function.arguments or ""
    finish = c.choices[0].finish_reason or finish
out["o_tool"] = [[v["name"], json.loads(v["args"])] for _, v in sorted(calls.items())]
out["o_finish"] = finish
print(json.dumps(out))
"#;
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .arg(format!("http://{base}"))
        .arg(token)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env("NO_PROXY", "127.0.0.1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(v["a_text"], "Hello from the gateway, streamed.");
    assert_eq!(v["a_stop"], "end_turn");
    assert_eq!(v["a_tool"], json!([["get_weather", {"city": "Oslo"}]]));
    assert_eq!(v["a_tool_stop"], "tool_use");
    assert_eq!(v["o_text"], "Hello from the gateway, streamed.");
    assert!(v["o_usage"].as_u64().is_some(), "{v}");
    assert_eq!(v["o_tool"], json!([["get_weather", {"city": "Oslo"}]]));
    assert_eq!(v["o_finish"], "tool_calls");
}
