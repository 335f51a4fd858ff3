//! Benchmark: converting a long, tool-heavy history to each provider's wire form (the request
//! body as it is sent, serialized to bytes). A 200-turn agent session with a tool call and a
//! 2 KB tool result per turn must convert in 1 ms or less on any wire. Prints the median and
//! worst of many runs, per wire.

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::time::{Duration, Instant};

use aiw::config::ProviderKind;
use aiw::conversation::Tool;
use aiw::provider::{Block, ChatRequest, Message, Role, anthropic, gemini, openai};
use serde_json::json;

const TURNS: usize = 200;
const RUNS: usize = 200;
const TARGET: Duration = Duration::from_millis(1);

fn history() -> ChatRequest {
    let mut messages = Vec::with_capacity(TURNS * 4);
    for i in 0..TURNS {
        let id = format!("toolu_{i:04}");
        messages.push(Message::user(format!(
            "Step {i}: look at src/module_{i}.rs and fix the bug."
        )));
        messages.push(Message {
            role: Role::Assistant,
            blocks: vec![
                Block::text(format!("I will read src/module_{i}.rs first.")),
                Block::ToolUse {
                    id: id.clone(),
                    name: "Read".into(),
                    input: json!({"file_path": format!("/repo/src/module_{i}.rs"), "limit": 200}),
                    signature: None,
                },
            ],
        });
        messages.push(Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                tool_use_id: id,
                content: vec![Block::text(
                    format!("fn f_{i}() {{ /* … */ }}\n").repeat(80),
                )],
                is_error: false,
            }],
        });
        messages.push(Message::assistant(format!(
            "Fixed the off-by-one in f_{i}."
        )));
    }
    ChatRequest {
        system: Some("You are a coding agent.".into()),
        messages,
        tools: ["Read", "Edit", "Bash", "Grep"]
            .iter()
            .map(|n| Tool {
                name: (*n).into(),
                description: format!("The {n} tool"),
                input_schema: json!({"type": "object", "properties": {"file_path": {"type": "string"}}}),
            })
            .collect(),
        max_tokens: Some(4096),
        ..ChatRequest::default()
    }
}

/// One wire's conversion: request to the bytes sent.
type Convert = fn(&ChatRequest) -> Vec<u8>;

fn main() {
    let req = history();
    let wires: [(&str, Convert); 3] = [
        ("anthropic", |r| anthropic::request_body("claude-x", r)),
        ("openai", |r| {
            openai::request_body("gpt-x", r, ProviderKind::OpenAi)
        }),
        ("gemini", |r| gemini::request_body("gemini-3-pro", r)),
    ];
    println!(
        "wire conversion of a {TURNS}-turn tool-heavy history ({} messages), {RUNS} runs each",
        req.messages.len()
    );
    for (name, convert) in &wires {
        let bytes = convert(&req).len();
        let mut times: Vec<Duration> = (0..RUNS)
            .map(|_| {
                let t = Instant::now();
                let out = convert(&req);
                let d = t.elapsed();
                assert!(!out.is_empty());
                d
            })
            .collect();
        times.sort();
        let median = times[RUNS / 2];
        let worst = times[RUNS - 1];
        println!(
            "  {name:<9} {:>7.3} ms median, {:>7.3} ms worst, {} KB body; median / 1 ms target = {:.2}",
            median.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            bytes / 1024,
            median.as_secs_f64() / TARGET.as_secs_f64()
        );
    }
}
