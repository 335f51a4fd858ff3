//! The gateway (`aiw serve`, `aiw run`) driven as a client would, with the emulator upstream:
//! pass-through on a healthy Anthropic primary, an Anthropic client answered by an OpenAI
//! fallback through a tool loop, cuts inside tool arguments and inside text, everything down,
//! tokens, limits, the OpenAI side, and `aiw run` handing a child its URLs and token.

use std::time::Duration;

use aiw::config::Secret;
use aiw::gateway::{self, Gateway, SERVED_MODEL_HEADER};
use aiw_emulator::{Action, Emulator, ErrorKind, Reply, Script, StreamFault};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::{config_text, router, settings};

const TOKEN: &str = "aiw-test-gateway-token-0123456789";

/// A gateway on an ephemeral port whose route is `route` (TOML list) for every client model.
async fn gateway(emu: &Emulator, dir: &std::path::Path, route: &str, extra: &str) -> String {
    let text = config_text(&emu.base_url(), &format!("default = {route}"), extra);
    let gw = Gateway::new(router(settings(&text, dir)), Secret::new(TOKEN));
    let addr = gateway::start(gw, CancellationToken::new())
        .await
        .expect("gateway starts");
    format!("http://{addr}")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// One SSE event: name and data.
fn events(body: &str) -> Vec<(String, Value)> {
    body.split("\n\n")
        .filter(|e| !e.trim().is_empty())
        .map(|e| {
            let mut name = String::new();
            let mut data = String::new();
            for line in e.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push_str(d);
                }
            }
            let v = serde_json::from_str(&data).unwrap_or(Value::String(data));
            (name, v)
        })
        .collect()
}

/// The content blocks an Anthropic stream assembles to, checking indices as a client does.
fn anthropic_blocks(evs: &[(String, Value)]) -> Vec<Value> {
    let mut blocks: Vec<Value> = Vec::new();
    let mut json_args: Vec<String> = Vec::new();
    for (name, v) in evs {
        match name.as_str() {
            "content_block_start" => {
                let i = v["index"].as_u64().unwrap() as usize;
                assert_eq!(i, blocks.len(), "indices count up from 0: {evs:?}");
                blocks.push(v["content_block"].clone());
                json_args.push(String::new());
            }
            "content_block_delta" => {
                let i = v["index"].as_u64().unwrap() as usize;
                let d = &v["delta"];
                match d["type"].as_str().unwrap() {
                    "text_delta" => {
                        let t = blocks[i]["text"].as_str().unwrap_or("").to_string();
                        blocks[i]["text"] = json!(t + d["text"].as_str().unwrap());
                    }
                    "thinking_delta" => {
                        let t = blocks[i]["thinking"].as_str().unwrap_or("").to_string();
                        blocks[i]["thinking"] = json!(t + d["thinking"].as_str().unwrap());
                    }
                    "signature_delta" => {
                        blocks[i]["signature"] = d["signature"].clone();
                    }
                    "input_json_delta" => {
                        json_args[i].push_str(d["partial_json"].as_str().unwrap());
                    }
                    other => panic!("unknown delta {other}"),
                }
            }
            "content_block_stop" => {
                let i = v["index"].as_u64().unwrap() as usize;
                if blocks[i]["type"] == "tool_use" {
                    blocks[i]["input"] =
                        serde_json::from_str(&json_args[i]).expect("complete tool input JSON");
                }
            }
            _ => {}
        }
    }
    blocks
}

async fn post_messages(base: &str, body: &Value) -> (u16, reqwest::header::HeaderMap, String) {
    let r = http()
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", TOKEN)
        .header("anthropic-version", "2023-06-01")
        .header(
            "anthropic-beta",
            "claude-code-20250219,interleaved-thinking-2025-05-14",
        )
        .json(body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn read_tool() -> Value {
    json!({"name": "Read", "description": "Reads a file",
           "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}})
}

fn claude_code_body(messages: &Value) -> Value {
    json!({
        "model": "claude-opus-5-5",
        "max_tokens": 32000,
        "stream": true,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "messages": messages,
        "tools": [read_tool()],
        "metadata": {"user_id": "user_abc"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "medium"}
    })
}

#[tokio::test]
async fn a_healthy_anthropic_primary_is_passed_through() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "claude-x",
        Script::always(Action::Reply(
            Reply::new("Reading it.")
                .with_thinking("I should read the file.", Some("c2ln"))
                .with_tool_call("Read", json!({"file_path": "/r/a.rs"}))
                .chunk_chars(3),
        )),
    );
    let base = gateway(
        &emu,
        dir.path(),
        r#"["anthropic/claude-x", "openai/gpt-x"]"#,
        "",
    )
    .await;
    let body = claude_code_body(
        &json!([{"role": "user", "content": [{"type": "text", "text": "read a.rs"}]}]),
    );
    let (status, headers, text) = post_messages(&base, &body).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers[SERVED_MODEL_HEADER], "anthropic/claude-x");
    let evs = events(&text);
    let names: Vec<&str> = evs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"));
    assert_eq!(
        evs[0].1["message"]["model"], "claude-opus-5-5",
        "the client's model id"
    );
    let blocks = anthropic_blocks(&evs);
    assert_eq!(blocks.len(), 3, "{blocks:?}");
    assert_eq!(blocks[0]["type"], "thinking");
    assert_eq!(blocks[0]["thinking"], "I should read the file.");
    assert_eq!(blocks[0]["signature"], "c2ln");
    assert_eq!(blocks[1], json!({"type": "text", "text": "Reading it."}));
    assert_eq!(blocks[2]["type"], "tool_use");
    assert_eq!(blocks[2]["input"], json!({"file_path": "/r/a.rs"}));
    let delta = evs.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
    // Upstream got the client's own fields and beta header, and aiw's key, not the token.
    let up = &emu.requests_for("claude-x")[0];
    let upj = up.json.clone().unwrap();
    assert_eq!(upj["system"], body["system"]);
    assert_eq!(upj["context_management"], body["context_management"]);
    assert_eq!(upj["output_config"], body["output_config"]);
    assert_eq!(upj["metadata"], body["metadata"]);
    assert_eq!(upj["model"], "claude-x");
    assert_eq!(
        up.header("anthropic-beta"),
        Some("claude-code-20250219,interleaved-thinking-2025-05-14")
    );
    assert_eq!(up.header("x-api-key"), Some(crate::support::ANTHROPIC_KEY));
    assert!(!up.body_text().contains(TOKEN));
}

#[tokio::test]
async fn an_anthropic_client_runs_a_tool_loop_on_an_openai_fallback() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "claude-x",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script(
        "gpt-x",
        Script::sequence(vec![
            Action::Reply(Reply::new("").with_tool_call("Read", json!({"file_path": "/r/a.rs"}))),
            Action::Reply(Reply::echo_tool_results()),
        ]),
    );
    let base = gateway(
        &emu,
        dir.path(),
        r#"["anthropic/claude-x", "openai/gpt-x"]"#,
        "",
    )
    .await;
    let mut messages = vec![json!({"role": "user", "content": "read a.rs"})];
    let (status, headers, text) = post_messages(&base, &claude_code_body(&json!(messages))).await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(headers[SERVED_MODEL_HEADER], "openai/gpt-x");
    let evs = events(&text);
    let blocks = anthropic_blocks(&evs);
    let call = blocks
        .iter()
        .find(|b| b["type"] == "tool_use")
        .expect("a tool_use")
        .clone();
    assert_eq!(call["name"], "Read");
    assert_eq!(call["input"], json!({"file_path": "/r/a.rs"}));
    // OpenAI got the tool translated out.
    let up = emu.requests_for("gpt-x")[0].json.clone().unwrap();
    assert_eq!(up["tools"][0]["function"]["name"], "Read");
    assert!(
        up.get("context_management").is_none(),
        "no Anthropic fields to OpenAI"
    );
    // The client runs the tool and sends the result back, Anthropic-style.
    let id = call["id"].as_str().unwrap().to_string();
    messages.push(json!({"role": "assistant", "content": blocks}));
    messages.push(json!({"role": "user", "content": [{"type": "tool_result", "tool_use_id": id, "content": "MARKER-fn-main"}]}));
    let (status, _, text) = post_messages(&base, &claude_code_body(&json!(messages))).await;
    assert_eq!(status, 200, "{text}");
    let blocks = anthropic_blocks(&events(&text));
    assert!(
        blocks[0]["text"]
            .as_str()
            .unwrap()
            .contains("MARKER-fn-main"),
        "{blocks:?}"
    );
    let up = emu.requests_for("gpt-x")[1].json.clone().unwrap();
    let tool_msg = up["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "tool")
        .unwrap()
        .clone();
    assert_eq!(tool_msg["tool_call_id"], json!(id));
}

#[tokio::test]
async fn a_cut_inside_tool_arguments_never_reaches_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "claude-x",
        Script::always(Action::Reply(
            Reply::new("Let me look.")
                .with_tool_call("Read", json!({"file_path": "/repo/src/main.rs"}))
                .arg_chunk_chars(4)
                .fault(StreamFault::CutInToolArgs {
                    call: 0,
                    after_chars: 10,
                    clean_eof: false,
                }),
        )),
    );
    emu.set_script(
        "gpt-x",
        Script::always(Action::Reply(
            Reply::new("").with_tool_call("Read", json!({"file_path": "/repo/src/main.rs"})),
        )),
    );
    let base = gateway(
        &emu,
        dir.path(),
        r#"["anthropic/claude-x", "openai/gpt-x"]"#,
        "",
    )
    .await;
    let (status, _, text) = post_messages(
        &base,
        &claude_code_body(&json!([{"role": "user", "content": "look"}])),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let evs = events(&text);
    let blocks = anthropic_blocks(&evs);
    let calls: Vec<&Value> = blocks.iter().filter(|b| b["type"] == "tool_use").collect();
    assert_eq!(calls.len(), 1, "exactly one, complete: {blocks:?}");
    assert_eq!(calls[0]["input"], json!({"file_path": "/repo/src/main.rs"}));
    assert_eq!(blocks[0]["text"], "Let me look.");
    assert_eq!(evs.last().unwrap().0, "message_stop");
}

#[tokio::test]
async fn a_cut_in_text_is_one_complete_answer() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "claude-x",
        Script::always(Action::Reply(
            Reply::new("The first half, ")
                .chunk_chars(4)
                .fault(StreamFault::CutAfter {
                    chunks: 4,
                    clean_eof: false,
                }),
        )),
    );
    emu.set_script("gpt-x", Script::reply("and the second half."));
    let base = gateway(
        &emu,
        dir.path(),
        r#"["anthropic/claude-x", "openai/gpt-x"]"#,
        "",
    )
    .await;
    let (status, _, text) = post_messages(
        &base,
        &claude_code_body(&json!([{"role": "user", "content": "go"}])),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let evs = events(&text);
    let blocks = anthropic_blocks(&evs);
    assert_eq!(
        blocks.len(),
        1,
        "one text block across the seam: {blocks:?}"
    );
    assert_eq!(blocks[0]["text"], "The first half, and the second half.");
    assert_eq!(evs.last().unwrap().0, "message_stop");
    let delta = evs.iter().find(|(n, _)| n == "message_delta").unwrap();
    assert_eq!(delta.1["delta"]["stop_reason"], "end_turn");
}

#[tokio::test]
async fn everything_down_is_anthropics_overloaded_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "claude-x",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script("gpt-x", Script::always(Action::Hang));
    let base = gateway(
        &emu,
        dir.path(),
        r#"["anthropic/claude-x", "openai/gpt-x"]"#,
        "",
    )
    .await;
    let r = tokio::time::timeout(
        Duration::from_secs(15),
        post_messages(
            &base,
            &claude_code_body(&json!([{"role": "user", "content": "go"}])),
        ),
    )
    .await
    .expect("answers within the first-token limit, no hang");
    assert_eq!(r.0, 529, "{}", r.2);
    let v: Value = serde_json::from_str(&r.2).unwrap();
    assert_eq!(v["type"], "error");
    assert_eq!(v["error"]["type"], "overloaded_error");
    // The OpenAI side says it its own way.
    let o = http()
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .json(&json!({"model": "gpt-x", "stream": true, "messages": [{"role": "user", "content": "go"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(o.status().as_u16(), 503);
    let v: Value = o.json().await.unwrap();
    assert_eq!(v["error"]["code"], "server_is_overloaded");
}

#[tokio::test]
async fn a_wrong_or_missing_token_is_401_with_no_upstream_call() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.unwrap();
    emu.set_script("claude-x", Script::reply("hi"));
    let base = gateway(&emu, dir.path(), r#"["anthropic/claude-x"]"#, "").await;
    let body = claude_code_body(&json!([{"role": "user", "content": "hi"}]));
    for key in [None, Some("sk-ant-wrong"), Some(&TOKEN[..TOKEN.len() - 1])] {
        let mut r = http().post(format!("{base}/v1/messages")).json(&body);
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["type"], "authentication_error");
    }
    let r = http()
        .get(format!("{base}/v1/models"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(emu.requests().len(), 0, "nothing went upstream");
    // With the token: Bearer works too (ANTHROPIC_AUTH_TOKEN).
    let r = http()
        .post(format!("{base}/v1/messages"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test]
async fn limits_are_clear_protocol_errors_and_other_endpoints_answer() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.unwrap();
    emu.set_script("claude-x", Script::reply("hi there"));
    let base = gateway(
        &emu,
        dir.path(),
        r#"["anthropic/claude-x"]"#,
        "[gateway]\nmax_body_mib = 1\n",
    )
    .await;
    let big = "x".repeat(2 * 1024 * 1024);
    let (status, _, text) = post_messages(
        &base,
        &claude_code_body(&json!([{"role": "user", "content": big}])),
    )
    .await;
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("max_body_mib"), "{text}");
    let r = http()
        .post(format!("{base}/v1/messages"))
        .header("x-api-key", TOKEN)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["type"], "invalid_request_error");
    // count_tokens is answered locally; models lists the route.
    let r = http()
        .post(format!("{base}/v1/messages/count_tokens"))
        .header("x-api-key", TOKEN)
        .json(&json!({"model": "claude-x", "messages": [{"role": "user", "content": "hello there friend"}]}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(v["input_tokens"].as_u64().unwrap() > 0, "{v}");
    let r = http()
        .get(format!("{base}/v1/models"))
        .header("x-api-key", TOKEN)
        .header("anthropic-version", "2023-06-01")
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["data"][0]["id"], "anthropic/claude-x");
    // Non-streaming Messages.
    let mut body = claude_code_body(&json!([{"role": "user", "content": "hi"}]));
    body["stream"] = json!(false);
    let (status, _, text) = post_messages(&base, &body).await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["content"][0]["text"], "hi there");
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(
        emu.requests_for("claude-x").len(),
        1,
        "only the last request went upstream"
    );
}

#[tokio::test]
async fn an_openai_client_gets_tool_calls_by_index_and_a_usage_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "claude-x",
        Script::always(Action::Reply(
            Reply::new("Two reads.")
                .with_tool_call("read", json!({"p": 1}))
                .with_tool_call("read", json!({"p": 2})),
        )),
    );
    let base = gateway(&emu, dir.path(), r#"["anthropic/claude-x"]"#, "").await;
    let r = http()
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .json(&json!({
            "model": "gpt-5.5", "stream": true, "stream_options": {"include_usage": true},
            "messages": [{"role": "system", "content": "terse"}, {"role": "user", "content": "read both"}],
            "tools": [{"type": "function", "function": {"name": "read", "parameters": {"type": "object"}}}]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let text = r.text().await.unwrap();
    let chunks: Vec<Value> = events(&text).into_iter().map(|(_, v)| v).collect();
    assert_eq!(chunks.last().unwrap(), &Value::String("[DONE]".into()));
    let mut content = String::new();
    let mut calls: Vec<(u64, String, String)> = Vec::new();
    let mut finish = None;
    for c in &chunks {
        let Some(choice) = c["choices"].get(0) else {
            continue;
        };
        content.push_str(choice["delta"]["content"].as_str().unwrap_or(""));
        for tc in choice["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            calls.push((
                tc["index"].as_u64().unwrap(),
                tc["function"]["name"].as_str().unwrap().into(),
                tc["function"]["arguments"].as_str().unwrap().into(),
            ));
        }
        if let Some(f) = choice["finish_reason"].as_str() {
            finish = Some(f.to_string());
        }
    }
    assert_eq!(content, "Two reads.");
    assert_eq!(
        calls,
        vec![
            (0, "read".into(), r#"{"p":1}"#.into()),
            (1, "read".into(), r#"{"p":2}"#.into())
        ]
    );
    assert_eq!(finish.as_deref(), Some("tool_calls"));
    assert!(
        chunks
            .iter()
            .any(|c| c["usage"]["prompt_tokens"].as_u64().is_some()),
        "usage chunk"
    );
    assert_eq!(chunks[0]["model"], "gpt-5.5");
    // Upstream Anthropic got the system prompt in its place.
    let up = emu.requests_for("claude-x")[0].json.clone().unwrap();
    assert_eq!(up["system"], "terse");
}

/// `aiw run` gives the child the gateway's URLs and a token, and none of the real keys.
#[test]
fn run_hands_the_child_urls_and_a_token_but_no_keys() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("env.txt");
    let status = crate::support::aiw(dir.path())
        .env("ANTHROPIC_API_KEY", "sk-ant-CANARY-run-0000000000")
        .env("OPENAI_API_KEY", "sk-CANARY-run-1111111111")
        .args(["run", "--", "sh", "-c"])
        .arg(format!("env > {}; exit 7", out.display()))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(7), "the child's exit status");
    let env = std::fs::read_to_string(&out).unwrap();
    assert!(!env.contains("CANARY"), "{env}");
    let get = |k: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .unwrap_or_else(|| panic!("{k} missing in {env}"))
            .to_string()
    };
    assert!(get("ANTHROPIC_BASE_URL").starts_with("http://127.0.0.1:"));
    assert!(get("OPENAI_BASE_URL").ends_with("/v1"));
    let token = get("ANTHROPIC_AUTH_TOKEN");
    assert!(token.starts_with("aiw-") && token.len() > 30);
    assert_eq!(get("OPENAI_API_KEY"), token);
}
