//! Tool use on the three wires: tool-call streams and bodies (one call, parallel calls,
//! OpenAI interleaving), thinking blocks and signatures, faults inside tool arguments,
//! echo of tool results and images, and the providers' tool-history validation.

use aiw_emulator::{
    Block, Emulator, ErrorKind, Protocol, Reply, Script, StreamFault, ToolCall, TurnRole,
};
use serde_json::{Value, json};

use crate::client::*;

/// JSON string literal.
fn js(s: &str) -> String {
    serde_json::to_string(s).expect("a str serializes")
}

const ARGS: &str = r#"{"path":"src/main.rs"}"#;

fn read_call(id: Option<&str>) -> ToolCall {
    let c = ToolCall::new("read_file", json!({"path": "src/main.rs"}));
    match id {
        Some(id) => c.id(id),
        None => c,
    }
}

fn one_call(id: Option<&str>) -> Script {
    Script::always(
        Reply::default()
            .with_call(read_call(id))
            .arg_chunk_chars(10)
            .into(),
    )
}

/// Anthropic events as `(event name, data JSON)`.
fn events(chunks: &[String]) -> Vec<(String, Value)> {
    chunks
        .iter()
        .map(|c| {
            let name = c
                .lines()
                .find_map(|l| l.strip_prefix("event: "))
                .expect("event line")
                .to_owned();
            (name, data_json(c))
        })
        .collect()
}

/// The concatenated `partial_json` of Anthropic block `index`.
fn partial_json(evs: &[(String, Value)], index: u64) -> String {
    evs.iter()
        .filter(|(_, d)| d["index"] == index && d["delta"]["type"] == "input_json_delta")
        .map(|(_, d)| d["delta"]["partial_json"].as_str().expect("partial_json"))
        .collect()
}

/// OpenAI chunk JSONs (without `[DONE]`).
fn openai_chunks(chunks: &[String]) -> Vec<Value> {
    chunks
        .iter()
        .filter(|c| !c.contains("[DONE]"))
        .map(|c| data_json(c))
        .collect()
}

/// The concatenated `function.arguments` of OpenAI call `index`.
fn openai_args(chunks: &[Value], index: u64) -> String {
    chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
        .flatten()
        .filter(|t| t["index"] == index)
        .filter_map(|t| t["function"]["arguments"].as_str())
        .collect()
}

// ---------------------------------------------------------------------------
// One tool call, byte-exact

#[tokio::test]
async fn anthropic_tool_call_stream_is_byte_exact() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("claude-x", one_call(Some("toolu_01A")));
    let r = generate(emu.addr(), Protocol::Anthropic, "claude-x", true).await;
    assert_eq!(r.status(), 200);
    let chunks = r.chunk_texts();
    assert!(chunks[0].starts_with("event: message_start\n"));
    let delta = |frag: &str| {
        format!(
            "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"input_json_delta\",\"partial_json\":{}}}}}\n\n",
            js(frag)
        )
    };
    let expected = vec![
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_01A\",\"name\":\"read_file\",\"input\":{}}}\n\n".to_owned(),
        "event: ping\ndata: {\"type\": \"ping\"}\n\n".into(),
        delta(""),
        delta(r#"{"path":"s"#),
        delta("rc/main.rs"),
        delta(r#""}"#),
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0        }\n\n".into(),
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":5,\"output_tokens\":3}}\n\n".into(),
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".into(),
    ];
    assert_eq!(chunks[1..], expected[..]);

    let r = generate(emu.addr(), Protocol::Anthropic, "claude-x", false).await;
    let j = r.json();
    assert_eq!(
        j["content"],
        json!([{"type":"tool_use","id":"toolu_01A","name":"read_file","input":{"path":"src/main.rs"}}])
    );
    assert_eq!(j["stop_reason"], "tool_use");
    assert_eq!(j["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn openai_tool_call_stream_is_byte_exact() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("gpt-x", one_call(Some("call_A")));
    let r = generate(emu.addr(), Protocol::OpenAi, "gpt-x", true).await;
    assert_eq!(r.status(), 200);
    let chunks = r.chunk_texts();
    let first = data_json(&chunks[0]);
    let pre = format!(
        "data: {{\"id\":\"{}\",\"object\":\"chat.completion.chunk\",\"created\":{},\"model\":\"gpt-x\",\"system_fingerprint\":null,\"choices\":[",
        first["id"].as_str().expect("id"),
        first["created"]
    );
    let choice = |delta: &str, finish: &str| {
        format!(
            "{pre}{{\"index\":0,\"delta\":{delta},\"logprobs\":null,\"finish_reason\":{finish}}}],\"usage\":null}}\n\n"
        )
    };
    let frag = |f: &str| {
        choice(
            &format!(
                "{{\"tool_calls\":[{{\"index\":0,\"function\":{{\"arguments\":{}}}}}]}}",
                js(f)
            ),
            "null",
        )
    };
    let expected = vec![
        choice(
            r#"{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_A","type":"function","function":{"name":"read_file","arguments":""}}],"refusal":null}"#,
            "null",
        ),
        frag(r#"{"path":"s"#),
        frag("rc/main.rs"),
        frag(r#""}"#),
        choice("{}", "\"tool_calls\""),
        format!(
            "{pre}],\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}}}\n\n"
        ),
        "data: [DONE]\n\n".to_owned(),
    ];
    assert_eq!(chunks, expected);

    let r = generate(emu.addr(), Protocol::OpenAi, "gpt-x", false).await;
    let j = r.json();
    let m = &j["choices"][0]["message"];
    assert_eq!(m["content"], Value::Null);
    assert_eq!(
        m["tool_calls"],
        json!([{"id":"call_A","type":"function","function":{"name":"read_file","arguments":ARGS}}])
    );
    assert_eq!(j["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn gemini_tool_call_stream_is_byte_exact() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("gemini-2.5-flash", one_call(None));
    let r = generate(emu.addr(), Protocol::Gemini, "gemini-2.5-flash", true).await;
    assert_eq!(r.status(), 200);
    let chunks = r.chunk_texts();
    let rid = data_json(&chunks[0])["responseId"]
        .as_str()
        .expect("responseId")
        .to_owned();
    assert_eq!(
        chunks,
        [format!(
            "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"functionCall\":{{\"name\":\"read_file\",\"args\":{ARGS}}}}}],\"role\":\"model\"}},\"finishReason\":\"STOP\",\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":5,\"candidatesTokenCount\":1,\"totalTokenCount\":6}},\"modelVersion\":\"gemini-2.5-flash\",\"responseId\":\"{rid}\"}}\r\n\r\n"
        )],
        "whole call, no id, no signature before Gemini 3"
    );

    let r = generate(emu.addr(), Protocol::Gemini, "gemini-2.5-flash", false).await;
    let j = r.json();
    assert_eq!(
        j["candidates"][0]["content"]["parts"],
        json!([{"functionCall":{"name":"read_file","args":{"path":"src/main.rs"}}}])
    );
    assert_eq!(j["candidates"][0]["finishReason"], "STOP");
}

// ---------------------------------------------------------------------------
// Parallel calls, text before calls, thinking

fn two_calls() -> Reply {
    Reply::new("Reading both.")
        .chunk_chars(7)
        .with_tool_call("read_file", json!({"path": "a.rs"}))
        .with_tool_call("read_file", json!({"path": "b.rs"}))
        .arg_chunk_chars(6)
}

#[tokio::test]
async fn anthropic_text_then_two_calls_count_block_indexes() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("claude-x", Script::always(two_calls().into()));
    for stream in [true, false] {
        let r = generate(emu.addr(), Protocol::Anthropic, "claude-x", stream).await;
        let content = if stream {
            let evs = events(&r.chunk_texts());
            let starts: Vec<(u64, Value)> = evs
                .iter()
                .filter(|(n, _)| n == "content_block_start")
                .map(|(_, d)| {
                    (
                        d["index"].as_u64().expect("index"),
                        d["content_block"].clone(),
                    )
                })
                .collect();
            assert_eq!(starts.len(), 3);
            assert_eq!(starts[0], (0, json!({"type":"text","text":""})));
            let stops: Vec<u64> = evs
                .iter()
                .filter(|(n, _)| n == "content_block_stop")
                .map(|(_, d)| d["index"].as_u64().expect("index"))
                .collect();
            assert_eq!(stops, [0, 1, 2], "each block closed in order");
            let text: String = evs
                .iter()
                .filter(|(_, d)| d["delta"]["type"] == "text_delta")
                .map(|(_, d)| d["delta"]["text"].as_str().expect("text"))
                .collect();
            assert_eq!(text, "Reading both.");
            assert_eq!(partial_json(&evs, 1), r#"{"path":"a.rs"}"#);
            assert_eq!(partial_json(&evs, 2), r#"{"path":"b.rs"}"#);
            let delta = evs
                .iter()
                .find(|(n, _)| n == "message_delta")
                .expect("message_delta");
            assert_eq!(delta.1["delta"]["stop_reason"], "tool_use");
            // 2 text chunks + 3 fragments per call.
            assert_eq!(delta.1["usage"]["output_tokens"], 8);
            starts[1..]
                .iter()
                .map(|(_, b)| b.clone())
                .collect::<Vec<_>>()
        } else {
            let j = r.json();
            assert_eq!(
                j["content"][0],
                json!({"type":"text","text":"Reading both."})
            );
            assert_eq!(j["content"][1]["input"], json!({"path": "a.rs"}));
            assert_eq!(j["content"][2]["input"], json!({"path": "b.rs"}));
            j["content"].as_array().expect("array")[1..].to_vec()
        };
        let ids: Vec<&str> = content
            .iter()
            .map(|b| b["id"].as_str().expect("id"))
            .collect();
        assert!(
            ids.iter()
                .all(|i| i.starts_with("toolu_01") && i.len() == 30),
            "{ids:?}"
        );
        assert_ne!(ids[0], ids[1], "generated ids are distinct");
    }
}

#[tokio::test]
async fn openai_parallel_calls_sequential_and_interleaved() {
    let emu = Emulator::start().await.expect("start");
    let order = |chunks: &[Value]| -> Vec<String> {
        chunks
            .iter()
            .filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array())
            .flatten()
            .map(|t| {
                if t.get("id").is_some() {
                    assert_eq!(t["type"], "function");
                    assert_eq!(t["function"]["arguments"], "");
                    format!("start{}", t["index"])
                } else {
                    assert_eq!(
                        t.as_object().map(serde_json::Map::len),
                        Some(2),
                        "only index and function: {t}"
                    );
                    format!(
                        "{}:{}",
                        t["index"],
                        t["function"]["arguments"].as_str().expect("args")
                    )
                }
            })
            .collect()
    };
    emu.set_script("gpt-x", Script::always(two_calls().into()));
    let r = generate(emu.addr(), Protocol::OpenAi, "gpt-x", true).await;
    let chunks = openai_chunks(&r.chunk_texts());
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role":"assistant","content":"","refusal":null}),
        "with text the role chunk comes first"
    );
    assert_eq!(chunks[1]["choices"][0]["delta"]["content"], "Reading");
    assert_eq!(
        order(&chunks),
        [
            "start0",
            r#"0:{"path"#,
            r#"0:":"a.r"#,
            r#"0:s"}"#,
            "start1",
            r#"1:{"path"#,
            r#"1:":"b.r"#,
            r#"1:s"}"#
        ]
    );

    emu.set_script("gpt-x", Script::always(two_calls().interleave(true).into()));
    let r = generate(emu.addr(), Protocol::OpenAi, "gpt-x", true).await;
    let chunks = openai_chunks(&r.chunk_texts());
    assert_eq!(
        order(&chunks),
        [
            "start0",
            "start1",
            r#"0:{"path"#,
            r#"1:{"path"#,
            r#"0:":"a.r"#,
            r#"1:":"b.r"#,
            r#"0:s"}"#,
            r#"1:s"}"#
        ]
    );
    assert_eq!(openai_args(&chunks, 0), r#"{"path":"a.rs"}"#);
    assert_eq!(openai_args(&chunks, 1), r#"{"path":"b.rs"}"#);
    let finish = chunks
        .iter()
        .find(|c| c["choices"][0]["finish_reason"].is_string())
        .expect("finish chunk");
    assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");

    let j = generate(emu.addr(), Protocol::OpenAi, "gpt-x", false)
        .await
        .json();
    let m = &j["choices"][0]["message"];
    assert_eq!(m["content"], "Reading both.");
    let calls = m["tool_calls"].as_array().expect("tool_calls");
    assert_eq!(calls.len(), 2);
    assert!(
        calls
            .iter()
            .all(|c| c["id"].as_str().is_some_and(|i| i.starts_with("call_")))
    );
    assert_eq!(calls[1]["function"]["arguments"], r#"{"path":"b.rs"}"#);
}

#[tokio::test]
async fn anthropic_thinking_redacted_text_and_call() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "claude-x",
        Script::always(
            Reply::new("Done.")
                .with_thinking("Let me think.", Some("sig-1"))
                .with_redacted_thinking("opaque-data")
                .with_call(read_call(Some("toolu_01A")))
                .chunk_chars(5)
                .into(),
        ),
    );
    let r = generate(emu.addr(), Protocol::Anthropic, "claude-x", true).await;
    let evs = events(&r.chunk_texts());
    // (what, payload) per event; payloads compared as JSON values.
    let seq: Vec<(String, Value)> = evs
        .iter()
        .map(|(n, d)| match n.as_str() {
            "content_block_start" => (format!("start{}", d["index"]), d["content_block"].clone()),
            "content_block_delta" => {
                let t = d["delta"]["type"].as_str().expect("delta type");
                let v = &d["delta"][match t {
                    "thinking_delta" => "thinking",
                    "signature_delta" => "signature",
                    "text_delta" => "text",
                    _ => "partial_json",
                }];
                (format!("{t}{}", d["index"]), v.clone())
            }
            "content_block_stop" => (format!("stop{}", d["index"]), Value::Null),
            other => (other.to_owned(), Value::Null),
        })
        .collect();
    let e = |what: &str, v: Value| (what.to_owned(), v);
    assert_eq!(
        seq,
        [
            e("message_start", Value::Null),
            e(
                "start0",
                json!({"type":"thinking","thinking":"","signature":""})
            ),
            e("ping", Value::Null),
            e("thinking_delta0", json!("Let m")),
            e("thinking_delta0", json!("e thi")),
            e("thinking_delta0", json!("nk.")),
            e("signature_delta0", json!("sig-1")),
            e("stop0", Value::Null),
            e(
                "start1",
                json!({"type":"redacted_thinking","data":"opaque-data"})
            ),
            e("stop1", Value::Null),
            e("start2", json!({"type":"text","text":""})),
            e("text_delta2", json!("Done.")),
            e("stop2", Value::Null),
            e(
                "start3",
                json!({"type":"tool_use","id":"toolu_01A","name":"read_file","input":{}})
            ),
            e("input_json_delta3", json!("")),
            e("input_json_delta3", json!(r#"{"path":"#)),
            e("input_json_delta3", json!(r#""src/mai"#)),
            e("input_json_delta3", json!(r#"n.rs"}"#)),
            e("stop3", Value::Null),
            e("message_delta", Value::Null),
            e("message_stop", Value::Null),
        ]
    );
    assert!(
        r.chunk_texts()[1].contains(r#"{"type":"thinking","thinking":"","signature":""}"#),
        "real key order"
    );

    let j = generate(emu.addr(), Protocol::Anthropic, "claude-x", false)
        .await
        .json();
    assert_eq!(
        j["content"],
        json!([
            {"type":"thinking","thinking":"Let me think.","signature":"sig-1"},
            {"type":"redacted_thinking","data":"opaque-data"},
            {"type":"text","text":"Done."},
            {"type":"tool_use","id":"toolu_01A","name":"read_file","input":{"path":"src/main.rs"}}
        ])
    );

    // An unscripted signature is generated.
    emu.set_script(
        "claude-y",
        Script::always(Reply::new("x").with_thinking("t", None).into()),
    );
    let j = generate(emu.addr(), Protocol::Anthropic, "claude-y", false)
        .await
        .json();
    assert!(
        j["content"][0]["signature"]
            .as_str()
            .is_some_and(|s| s.len() > 20)
    );
    assert_eq!(j["stop_reason"], "end_turn");
}

#[tokio::test]
async fn openai_sends_no_thinking() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "gpt-x",
        Script::always(
            Reply::new("Answer.")
                .with_thinking("secret plan", Some("s"))
                .into(),
        ),
    );
    let r = generate(emu.addr(), Protocol::OpenAi, "gpt-x", true).await;
    assert!(r.text().contains("Answer."));
    assert!(!r.text().contains("secret") && !r.text().contains("reasoning"));
    assert!(
        r.text().contains(r#""completion_tokens":1,"#),
        "thinking is not counted"
    );
    let j = generate(emu.addr(), Protocol::OpenAi, "gpt-x", false)
        .await
        .json();
    assert_eq!(j["choices"][0]["message"]["content"], "Answer.");
}

#[tokio::test]
async fn gemini_3_thoughts_parallel_calls_and_signatures() {
    let emu = Emulator::start().await.expect("start");
    let reply = Reply::default()
        .with_thinking("Plan it.", Some("sig-g"))
        .chunk_chars(4)
        .with_tool_call("read_file", json!({"path": "a.rs"}))
        .with_call(ToolCall::new("read_file", json!({"path": "b.rs"})).id("fc-2"));
    emu.set_script("gemini-3-pro-preview", Script::always(reply.into()));
    let r = generate(emu.addr(), Protocol::Gemini, "gemini-3-pro-preview", true).await;
    let parts: Vec<(Value, bool)> = r
        .chunk_texts()
        .iter()
        .map(|c| {
            let d = data_json(c);
            (
                d["candidates"][0]["content"]["parts"].clone(),
                d["candidates"][0].get("finishReason").is_some(),
            )
        })
        .collect();
    assert_eq!(
        parts,
        [
            (json!([{"text":"Plan","thought":true}]), false),
            (json!([{"text":" it.","thought":true}]), false),
            (
                json!([{"functionCall":{"name":"read_file","args":{"path":"a.rs"}},"thoughtSignature":"sig-g"},
                       {"functionCall":{"id":"fc-2","name":"read_file","args":{"path":"b.rs"}}}]),
                true
            ),
        ],
        "signature on the first call only; calls whole, in one chunk"
    );

    let j = generate(emu.addr(), Protocol::Gemini, "gemini-3-pro-preview", false)
        .await
        .json();
    let p = &j["candidates"][0]["content"]["parts"];
    assert_eq!(p[0], json!({"text":"Plan it.","thought":true}));
    assert_eq!(p[1]["thoughtSignature"], "sig-g");
    assert!(p[2].get("thoughtSignature").is_none());

    // Gemini 3 signs a plain answer too (last part); Gemini 2.5 without a scripted one not.
    for (model, signed) in [("gemini-3-flash-preview", true), ("gemini-2.5-pro", false)] {
        emu.set_script(
            model,
            Script::always(Reply::new("Hi there").chunk_chars(5).into()),
        );
        let r = generate(emu.addr(), Protocol::Gemini, model, true).await;
        let chunks = r.chunk_texts();
        let first = data_json(&chunks[0]);
        assert!(
            first["candidates"][0]["content"]["parts"][0]
                .get("thoughtSignature")
                .is_none()
        );
        let last = data_json(chunks.last().expect("a chunk"));
        let part = &last["candidates"][0]["content"]["parts"][0];
        assert_eq!(
            part["thoughtSignature"].is_string(),
            signed,
            "{model}: {part}"
        );
        assert_eq!(part["text"], "ere");
    }
}

// ---------------------------------------------------------------------------
// Faults inside tool arguments

fn long_args() -> Value {
    json!({"path": "src/main.rs", "mode": "r"})
}

/// The arguments JSON as sent (key order as `serde_json` writes it).
fn long() -> String {
    long_args().to_string()
}

fn cut_reply(fault: StreamFault) -> Script {
    Script::always(
        Reply::new("ok")
            .with_call(ToolCall::new("read_file", long_args()))
            .arg_chunk_chars(5)
            .fault(fault)
            .into(),
    )
}

/// What the client holds of call 0 after a cut: the partial arguments seen.
fn partial_args(p: Protocol, chunks: &[String]) -> String {
    match p {
        Protocol::Anthropic => {
            let evs = events(chunks);
            assert!(
                evs.iter().any(|(n, d)| n == "content_block_start"
                    && d["content_block"]["type"] == "tool_use"
                    && d["content_block"]["name"] == "read_file"),
                "the client saw the tool_use start"
            );
            partial_json(&evs, 1)
        }
        Protocol::OpenAi => {
            let cs = openai_chunks(chunks);
            assert!(cs.iter().any(
                |c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["name"] == "read_file"
            ));
            openai_args(&cs, 0)
        }
        Protocol::Gemini => {
            let last = chunks.last().expect("a chunk");
            assert!(!last.ends_with("\r\n\r\n"), "unterminated event");
            let (_, args) = last.split_once(r#""args":"#).expect("args started");
            args.to_owned()
        }
    }
}

fn no_terminal_event(chunks: &[String]) {
    let all = chunks.concat();
    assert!(
        !all.contains("message_stop") && !all.contains("[DONE]") && !all.contains("finishReason")
    );
    assert!(
        !all.contains(r#""index":1        }"#),
        "tool block not closed"
    );
}

#[tokio::test]
async fn cut_in_tool_args_clean_abrupt_and_reset() {
    let emu = Emulator::start().await.expect("start");
    for p in ALL {
        for (fault, end) in [
            (
                StreamFault::CutInToolArgs {
                    call: 0,
                    after_chars: 12,
                    clean_eof: true,
                },
                End::Clean,
            ),
            (
                StreamFault::CutInToolArgs {
                    call: 0,
                    after_chars: 12,
                    clean_eof: false,
                },
                End::Eof,
            ),
            (
                StreamFault::ResetInToolArgs {
                    call: 0,
                    after_chars: 12,
                },
                End::Reset,
            ),
        ] {
            emu.set_script("m", cut_reply(fault.clone()));
            let mut c = start_stream(emu.addr(), p, "m").await;
            let head = c.read_head().await.expect("head");
            assert_eq!(head.status, 200);
            let (chunks, got) = read_chunks(&mut c).await;
            assert_eq!(got, end, "{p:?} {fault:?}");
            assert_eq!(partial_args(p, &chunks), &long()[..12], "{p:?} {fault:?}");
            no_terminal_event(&chunks);
        }
    }
}

#[tokio::test]
async fn cut_in_tool_args_edges() {
    let emu = Emulator::start().await.expect("start");
    for p in ALL {
        // Right after the start: nothing of the arguments yet.
        emu.set_script(
            "m",
            cut_reply(StreamFault::CutInToolArgs {
                call: 0,
                after_chars: 0,
                clean_eof: true,
            }),
        );
        let mut c = start_stream(emu.addr(), p, "m").await;
        c.read_head().await.expect("head");
        let (chunks, _) = read_chunks(&mut c).await;
        assert_eq!(partial_args(p, &chunks), "", "{p:?}");

        // Past the end: clamped, the JSON is still incomplete.
        emu.set_script(
            "m",
            cut_reply(StreamFault::CutInToolArgs {
                call: 0,
                after_chars: 1000,
                clean_eof: true,
            }),
        );
        let mut c = start_stream(emu.addr(), p, "m").await;
        c.read_head().await.expect("head");
        let (chunks, _) = read_chunks(&mut c).await;
        assert_eq!(
            partial_args(p, &chunks),
            &long()[..long().len() - 1],
            "{p:?}"
        );
        no_terminal_event(&chunks);

        // No such call: no fault.
        emu.set_script(
            "m",
            cut_reply(StreamFault::CutInToolArgs {
                call: 5,
                after_chars: 3,
                clean_eof: true,
            }),
        );
        let r = generate(emu.addr(), p, "m", true).await;
        let all = r.text();
        assert!(
            all.contains("message_stop") || all.contains("[DONE]") || all.contains("finishReason")
        );
    }
}

#[tokio::test]
async fn error_and_stall_in_tool_args() {
    let emu = Emulator::start().await.expect("start");
    for p in ALL {
        emu.set_script(
            "m",
            cut_reply(StreamFault::ErrorInToolArgs {
                call: 0,
                after_chars: 7,
                kind: ErrorKind::Overloaded,
            }),
        );
        let mut c = start_stream(emu.addr(), p, "m").await;
        c.read_head().await.expect("head");
        let (chunks, end) = read_chunks(&mut c).await;
        assert_eq!(end, End::Clean);
        let err = chunks.last().expect("error chunk");
        let before = &chunks[..chunks.len() - 1];
        assert_eq!(partial_args(p, before), &long()[..7], "{p:?}");
        let sent_before_fault = before.len();
        match p {
            Protocol::Anthropic => assert!(err.starts_with("event: error\n"), "{err}"),
            Protocol::OpenAi => assert!(err.starts_with("data: {\"error\":"), "{err}"),
            Protocol::Gemini => assert!(err.starts_with("{\r\n  \"error\": {"), "{err}"),
        }

        emu.set_script(
            "m",
            cut_reply(StreamFault::StallInToolArgs {
                call: 0,
                after_chars: 7,
            }),
        );
        let mut c = start_stream(emu.addr(), p, "m").await;
        c.read_head().await.expect("head");
        // The same chunks as before the error, then nothing.
        let mut seen = Vec::new();
        for _ in 0..sent_before_fault {
            let data = tokio::time::timeout(T, c.next_chunk())
                .await
                .expect("chunk in time")
                .expect("chunk")
                .expect("not the end");
            seen.push(String::from_utf8(data).expect("utf-8"));
        }
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(300), c.next_chunk())
                .await
                .is_err(),
            "{p:?} stalls"
        );
        assert_eq!(
            partial_args(p, &seen),
            &long()[..7],
            "{p:?} stalls mid-arguments"
        );
    }
}

#[tokio::test]
async fn cut_in_second_and_interleaved_calls() {
    let emu = Emulator::start().await.expect("start");
    let reply = two_calls().fault(StreamFault::CutInToolArgs {
        call: 1,
        after_chars: 3,
        clean_eof: true,
    });
    emu.set_script("m", Script::always(reply.clone().into()));
    let r = generate(emu.addr(), Protocol::Anthropic, "m", true).await;
    let evs = events(&r.chunk_texts());
    assert_eq!(
        partial_json(&evs, 1),
        r#"{"path":"a.rs"}"#,
        "call 0 complete"
    );
    assert_eq!(partial_json(&evs, 2), r#"{"p"#);

    emu.set_script("m", Script::always(reply.interleave(true).into()));
    let r = generate(emu.addr(), Protocol::OpenAi, "m", true).await;
    let cs = openai_chunks(&r.chunk_texts());
    assert_eq!(openai_args(&cs, 1), r#"{"p"#);
    let a0 = openai_args(&cs, 0);
    assert!(
        !a0.is_empty() && r#"{"path":"a.rs"}"#.starts_with(&a0) && a0.len() < 15,
        "call 0 interrupted too: {a0}"
    );
}

#[tokio::test]
async fn non_streaming_cut_inside_arguments() {
    let emu = Emulator::start().await.expect("start");
    for p in ALL {
        for (fault, end) in [
            (
                StreamFault::CutInToolArgs {
                    call: 0,
                    after_chars: 12,
                    clean_eof: true,
                },
                End::Eof,
            ),
            (
                StreamFault::ResetInToolArgs {
                    call: 0,
                    after_chars: 12,
                },
                End::Reset,
            ),
        ] {
            emu.set_script("m", cut_reply(fault));
            let (path, headers) = endpoint(p, "m", false);
            let body = with_model(
                p,
                "m",
                false,
                json!({"messages":[{"role":"user","content":"hi"}],
                "contents":[{"parts":[{"text":"hi"}]}], "max_tokens": 10}),
            );
            let mut c = Client::connect(emu.addr()).await;
            c.send("POST", &path, headers, &body).await;
            let head = c.read_head().await.expect("head");
            assert_eq!(head.status, 200);
            let (rest, got) = c.rest().await;
            assert_eq!(got, end, "{p:?}");
            let rest = String::from_utf8(rest).expect("utf-8");
            let tail = match p {
                Protocol::Anthropic => format!(r#""input":{}"#, &long()[..12]),
                Protocol::OpenAi => format!(
                    r#""arguments":{}"#,
                    &js(&long()[..12])[..js(&long()[..12]).len() - 1]
                ),
                Protocol::Gemini => format!(r#""args":{}"#, &long()[..12]),
            };
            assert!(rest.ends_with(&tail), "{p:?}: {rest}");
        }
    }
}

#[tokio::test]
async fn text_faults_count_text_chunks_in_tool_replies() {
    let emu = Emulator::start().await.expect("start");
    let reply = Reply::new("aaaabbbb")
        .chunk_chars(4)
        .with_thinking("zzzz", None)
        .with_call(read_call(None));
    emu.set_script(
        "m",
        Script::always(
            reply
                .clone()
                .fault(StreamFault::CutAfter {
                    chunks: 1,
                    clean_eof: true,
                })
                .into(),
        ),
    );
    let r = generate(emu.addr(), Protocol::Anthropic, "m", true).await;
    let evs = events(&r.chunk_texts());
    let texts: Vec<&str> = evs
        .iter()
        .filter_map(|(_, d)| d["delta"]["text"].as_str())
        .collect();
    assert_eq!(texts, ["aaaa"], "thinking chunks are not counted");
    assert!(!r.text().contains("tool_use"));

    emu.set_script(
        "m",
        Script::always(
            reply
                .fault(StreamFault::CutAfter {
                    chunks: 99,
                    clean_eof: true,
                })
                .into(),
        ),
    );
    let r = generate(emu.addr(), Protocol::Anthropic, "m", true).await;
    let evs = events(&r.chunk_texts());
    assert_eq!(partial_json(&evs, 2), ARGS, "all content sent");
    let last = &evs.last().expect("an event").1;
    assert_eq!(
        last["delta"]["type"], "input_json_delta",
        "cut before the last block's stop"
    );
}

// ---------------------------------------------------------------------------
// Tool results and images reach the model

fn anthropic_tool_history() -> Value {
    json!({"max_tokens": 64, "messages": [
        {"role":"user","content":"read both"},
        {"role":"assistant","content":[{"type":"text","text":"ok"},
            {"type":"tool_use","id":"toolu_1","name":"read_file","input":{"path":"a"}},
            {"type":"tool_use","id":"toolu_2","name":"read_file","input":{"path":"b"}}]},
        {"role":"user","content":[
            {"type":"tool_result","tool_use_id":"toolu_1","content":"fn main() {}"},
            {"type":"tool_result","tool_use_id":"toolu_2","is_error":true,
             "content":[{"type":"text","text":"no such file"},
                        {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
            {"type":"text","text":"and this"},
            {"type":"image","source":{"type":"url","url":"https://example.test/x.jpg"}}]}]})
}

fn openai_tool_history() -> Value {
    json!({"messages": [
        {"role":"user","content":[{"type":"text","text":"read both"},
            {"type":"image_url","image_url":{"url":"data:image/jpeg;base64,/9j/4AAQ"}}]},
        {"role":"assistant","content":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"a\"}"}},
            {"id":"call_2","type":"function","function":{"name":"read_file","arguments":"{\"path\":\"b\"}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"fn main() {}"},
        {"role":"tool","tool_call_id":"call_2","content":[{"type":"text","text":"no such file"}]},
        {"role":"user","content":[{"type":"image_url","image_url":{"url":"https://example.test/y.png"}}]}]})
}

fn gemini_tool_history() -> Value {
    json!({"contents": [
        {"role":"user","parts":[{"text":"read both"}]},
        {"role":"model","parts":[{"functionCall":{"name":"read_file","args":{"path":"a"}},"thoughtSignature":"s1"},
                                 {"functionCall":{"id":"fc-b","name":"stat","args":{"path":"b"}}}]},
        {"role":"user","parts":[{"functionResponse":{"name":"read_file","response":{"result":"fn main() {}"}}},
                                {"functionResponse":{"id":"fc-b","name":"stat","response":{"error":"no such file"}}},
                                {"inlineData":{"mimeType":"image/webp","data":"UklGRg=="}}]}]})
}

fn history(p: Protocol) -> Value {
    match p {
        Protocol::Anthropic => anthropic_tool_history(),
        Protocol::OpenAi => openai_tool_history(),
        Protocol::Gemini => gemini_tool_history(),
    }
}

/// The full text of a reply, streamed or not.
fn reply_text(p: Protocol, r: &Resp, stream: bool) -> String {
    if !stream {
        let j = r.json();
        return match p {
            Protocol::Anthropic => j["content"][0]["text"].as_str(),
            Protocol::OpenAi => j["choices"][0]["message"]["content"].as_str(),
            Protocol::Gemini => j["candidates"][0]["content"]["parts"][0]["text"].as_str(),
        }
        .expect("reply text")
        .to_owned();
    }
    r.chunk_texts()
        .iter()
        .filter(|c| !c.contains("[DONE]"))
        .filter_map(|c| {
            let d = data_json(c);
            match p {
                Protocol::Anthropic => d["delta"]["text"].as_str().map(str::to_owned),
                Protocol::OpenAi => d["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(str::to_owned),
                Protocol::Gemini => d["candidates"][0]["content"]["parts"][0]["text"]
                    .as_str()
                    .map(str::to_owned),
            }
        })
        .collect()
}

#[tokio::test]
async fn echo_tool_results_and_images() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "m",
        Script::always(
            Reply::echo_tool_results()
                .with_echo_images()
                .chunk_chars(5)
                .into(),
        ),
    );
    let expected = [
        (
            Protocol::Anthropic,
            "tool toolu_1 returned: fn main() {}\ntool toolu_2 returned (error): no such file\nsaw 2 image(s): image/png, url",
        ),
        (
            Protocol::OpenAi,
            "tool call_1 returned: fn main() {}\ntool call_2 returned: no such file\nsaw 1 image(s): url",
        ),
        (
            Protocol::Gemini,
            "tool read_file returned: fn main() {}\ntool fc-b returned (error): no such file\nsaw 1 image(s): image/webp",
        ),
    ];
    for (p, want) in expected {
        for stream in [false, true] {
            let r = post(emu.addr(), p, "m", stream, history(p)).await;
            assert_eq!(r.status(), 200, "{p:?}: {}", r.text());
            assert_eq!(reply_text(p, &r, stream), want, "{p:?} stream={stream}");
        }
    }

    // Without results: a plain line, then the scripted text.
    emu.set_script(
        "m",
        Script::always(Reply::new("and more").with_echo_tool_results().into()),
    );
    let r = generate(emu.addr(), Protocol::OpenAi, "m", false).await;
    assert_eq!(
        r.json()["choices"][0]["message"]["content"],
        "no tool results\nand more"
    );
    emu.set_script("m", Script::always(Reply::echo_images().into()));
    let r = generate(emu.addr(), Protocol::Gemini, "m", false).await;
    assert_eq!(
        r.json()["candidates"][0]["content"]["parts"][0]["text"],
        "saw 0 image(s)"
    );
}

#[tokio::test]
async fn recorded_turns_hold_the_blocks() {
    let emu = Emulator::start().await.expect("start");
    for p in ALL {
        emu.clear_requests();
        let r = post(emu.addr(), p, "m", false, history(p)).await;
        assert_eq!(r.status(), 200);
        let req = &emu.requests_for("m")[0];
        let turns = req.turns();
        let assistant = turns
            .iter()
            .find(|t| t.role == TurnRole::Assistant)
            .expect("assistant turn");
        let calls: Vec<(&str, &Value)> = assistant
            .blocks
            .iter()
            .filter_map(|b| match b {
                Block::ToolUse { name, input, .. } => Some((name.as_str(), input)),
                _ => None,
            })
            .collect();
        assert_eq!(calls.len(), 2, "{p:?}");
        assert_eq!(calls[0], ("read_file", &json!({"path": "a"})), "{p:?}");
        let results: Vec<(String, bool)> = turns
            .iter()
            .flat_map(|t| &t.blocks)
            .filter_map(|b| match b {
                Block::ToolResult {
                    content, is_error, ..
                } => Some((Block::texts(content), *is_error)),
                _ => None,
            })
            .collect();
        assert_eq!(results[0], ("fn main() {}".to_owned(), false), "{p:?}");
        assert_eq!(results[1].0, "no such file", "{p:?}");
        // Raw body still there, and the control API shows the parsed turns.
        assert_eq!(
            req.json.as_ref(),
            Some(&serde_json::from_slice::<Value>(&req.body).expect("json"))
        );
        let listed = emu.requests_json();
        assert_eq!(
            listed[0]["turns"],
            serde_json::to_value(&turns).expect("turns serialize")
        );
    }
}

#[tokio::test]
async fn input_tokens_count_block_content() {
    let emu = Emulator::start().await.expect("start");
    let r = post(
        emu.addr(),
        Protocol::Anthropic,
        "m",
        false,
        anthropic_tool_history(),
    )
    .await;
    // read both(2) ok(1) read_file {"path":"a"}(2) read_file {"path":"b"}(2)
    // fn main() {}(3) no such file(3) and this(2)
    assert_eq!(r.json()["usage"]["input_tokens"], 15);
}

// ---------------------------------------------------------------------------
// Tool-history validation

async fn rejected(emu: &Emulator, p: Protocol, model: &str, body: Value) -> Value {
    let r = post(emu.addr(), p, model, false, body).await;
    assert_eq!(r.status(), 400, "{p:?}: {}", r.text());
    r.json()
}

#[tokio::test]
async fn anthropic_tool_pairing_is_validated() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "m",
        Script::sequence(vec![Reply::new("one").into(), Reply::new("two").into()]),
    );
    let call = json!({"role":"assistant","content":[{"type":"text","text":"ok"},
        {"type":"tool_use","id":"toolu_1","name":"f","input":{}},
        {"type":"tool_use","id":"toolu_2","name":"f","input":{}}]});
    let user = json!({"role":"user","content":"go"});

    let j = rejected(
        &emu,
        Protocol::Anthropic,
        "m",
        json!({"max_tokens":5, "messages":[user, call,
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"x"}]}]}),
    )
    .await;
    assert_eq!(j["type"], "error");
    assert_eq!(j["error"]["type"], "invalid_request_error");
    assert_eq!(
        j["error"]["message"],
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_2. Each `tool_use` block must have a corresponding `tool_result` block in the next message."
    );
    assert!(
        j["request_id"]
            .as_str()
            .is_some_and(|r| r.starts_with("req_"))
    );

    let j = rejected(
        &emu,
        Protocol::Anthropic,
        "m",
        json!({"max_tokens":5, "messages":[user, call,
        {"role":"user","content":"what now?"}]}),
    )
    .await;
    assert!(
        j["error"]["message"]
            .as_str()
            .expect("message")
            .contains("immediately after: toolu_1, toolu_2.")
    );

    let j = rejected(
        &emu,
        Protocol::Anthropic,
        "m",
        json!({"max_tokens":5, "messages":[user, call]}),
    )
    .await;
    assert!(
        j["error"]["message"]
            .as_str()
            .expect("message")
            .starts_with("messages.1: `tool_use` ids"),
        "a dangling call at the end"
    );

    let j = rejected(&emu, Protocol::Anthropic, "m", json!({"max_tokens":5, "messages":[user,
        {"role":"assistant","content":"hi"},
        {"role":"user","content":[{"type":"text","text":"t"},{"type":"tool_result","tool_use_id":"toolu_9","content":"x"}]}]})).await;
    assert_eq!(
        j["error"]["message"],
        "messages.2.content.1: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9. Each `tool_result` block must have a corresponding `tool_use` block in the previous message."
    );

    // Rejections consume no script action and are recorded without one.
    let ok = post(
        emu.addr(),
        Protocol::Anthropic,
        "m",
        false,
        json!({"max_tokens":5, "messages":[user, call,
        {"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_2","content":"x"},
                                  {"type":"tool_result","tool_use_id":"toolu_1","content":"y"}]}]}),
    )
    .await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.json()["content"][0]["text"], "one");
    let reqs = emu.requests_for("m");
    assert_eq!(reqs.len(), 5);
    assert!(reqs[..4].iter().all(|r| r.action.is_none()));
    assert!(reqs[4].action.is_some());

    // The flag turns it off.
    emu.set_script("m", Script::reply("fine").without_tool_validation());
    let r = post(
        emu.addr(),
        Protocol::Anthropic,
        "m",
        false,
        json!({"max_tokens":5, "messages":[user, call]}),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn openai_tool_messages_are_validated() {
    let emu = Emulator::start().await.expect("start");
    let user = json!({"role":"user","content":"go"});
    let call = json!({"role":"assistant","content":null,"tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"f","arguments":"{}"}},
        {"id":"call_2","type":"function","function":{"name":"f","arguments":"{}"}}]});
    let tool = |id: &str| json!({"role":"tool","tool_call_id":id,"content":"r"});

    let j = rejected(
        &emu,
        Protocol::OpenAi,
        "gpt-x",
        json!({"messages":[{"role":"system","content":"s"}, user, call, tool("call_1"), user]}),
    )
    .await;
    assert_eq!(
        j,
        json!({"error":{"message":"An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: call_2",
            "type":"invalid_request_error","param":"messages.[4].role","code":null}})
    );

    let j = rejected(
        &emu,
        Protocol::OpenAi,
        "gpt-x",
        json!({"messages":[user, tool("call_1")]}),
    )
    .await;
    assert_eq!(
        j["error"]["message"],
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'."
    );
    assert_eq!(j["error"]["param"], "messages.[1].role");

    let j = rejected(
        &emu,
        Protocol::OpenAi,
        "gpt-x",
        json!({"messages":[user, call, tool("call_1"), tool("call_2"), tool("call_3")]}),
    )
    .await;
    assert_eq!(
        j["error"]["message"],
        "Invalid parameter: 'tool_call_id' of 'call_3' not found in 'tool_calls' of previous message."
    );
    assert_eq!(j["error"]["param"], "messages.[4].tool_call_id");

    let r = post(
        emu.addr(),
        Protocol::OpenAi,
        "gpt-x",
        false,
        json!({"messages":[user, call, tool("call_2"), tool("call_1"), user]}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text());
}

#[tokio::test]
async fn gemini_3_requires_thought_signatures_in_the_current_turn() {
    let emu = Emulator::start().await.expect("start");
    let fc = |sig: Option<&str>| {
        let mut part = json!({"functionCall":{"name":"read_file","args":{"path":"a"}}});
        if let Some(s) = sig {
            part["thoughtSignature"] = s.into();
        }
        part
    };
    let fr = json!({"role":"user","parts":[{"functionResponse":{"name":"read_file","response":{"result":"x"}}}]});
    let body = |first: Value, second: Value| {
        json!({"contents":[{"role":"user","parts":[{"text":"go"}]},
            {"role":"model","parts":[first, second]}, fr.clone()]})
    };

    let j = rejected(
        &emu,
        Protocol::Gemini,
        "gemini-3-pro-preview",
        body(fc(None), fc(Some("s"))),
    )
    .await;
    assert_eq!(j["error"]["code"], 400);
    assert_eq!(j["error"]["status"], "INVALID_ARGUMENT");
    assert_eq!(
        j["error"]["message"],
        "Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call `default_api:read_file` , position 2. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
    );

    let j = rejected(
        &emu,
        Protocol::Gemini,
        "gemini-3-pro-preview",
        body(fc(Some("")), fc(None)),
    )
    .await;
    assert!(
        j["error"]["message"]
            .as_str()
            .expect("message")
            .contains("position 2."),
        "empty is missing"
    );

    // Only the first call of a step needs one; the documented bypass values pass.
    for sig in [
        "real-sig",
        "skip_thought_signature_validator",
        "context_engineering_is_the_way_to_go",
    ] {
        let r = post(
            emu.addr(),
            Protocol::Gemini,
            "gemini-3-flash-preview",
            false,
            body(fc(Some(sig)), fc(None)),
        )
        .await;
        assert_eq!(r.status(), 200, "{sig}: {}", r.text());
    }
    // Steps within the turn are checked; an earlier turn is not.
    let steps = json!({"contents":[{"role":"user","parts":[{"text":"go"}]},
        {"role":"model","parts":[fc(Some("s"))]}, fr.clone(),
        {"role":"model","parts":[fc(None)]}, fr.clone()]});
    let j = rejected(&emu, Protocol::Gemini, "gemini-3.1-pro-preview", steps).await;
    assert!(
        j["error"]["message"]
            .as_str()
            .expect("message")
            .contains("position 4.")
    );
    let earlier = json!({"contents":[{"role":"user","parts":[{"text":"go"}]},
        {"role":"model","parts":[fc(None)]}, fr.clone(),
        {"role":"model","parts":[{"text":"done"}]},
        {"role":"user","parts":[{"text":"next question"}]}]});
    let r = post(
        emu.addr(),
        Protocol::Gemini,
        "gemini-3-pro-preview",
        false,
        earlier,
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text());

    // Not before Gemini 3, not for image models, and not when switched off.
    for model in ["gemini-2.5-flash", "gemini-3-pro-image-preview"] {
        let r = post(
            emu.addr(),
            Protocol::Gemini,
            model,
            false,
            body(fc(None), fc(None)),
        )
        .await;
        assert_eq!(r.status(), 200, "{model}: {}", r.text());
    }
    emu.set_script(
        "gemini-3-pro-preview",
        Script::reply("ok").without_tool_validation(),
    );
    let r = post(
        emu.addr(),
        Protocol::Gemini,
        "gemini-3-pro-preview",
        false,
        body(fc(None), fc(None)),
    )
    .await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn scripts_with_tools_deserialize() {
    let reply = json!({"type": "reply", "text": "t",
        "thinking": {"text": "hm", "signature": "sig"},
        "tool_calls": [{"name": "f", "arguments": {"a": 1}}, {"id": "x", "name": "g"}],
        "arg_chunk_chars": 3, "interleave": true, "echo_images": false});
    let s: Script = serde_json::from_value(json!({"tool_validation": "off",
        "phases": [{"actions": [reply.clone()]}]}))
    .expect("script with tools");
    assert_eq!(s.tool_validation, aiw_emulator::ToolValidation::Off);
    let fault: StreamFault = serde_json::from_value(
        json!({"type": "cut_in_tool_args", "call": 1, "after_chars": 1, "clean_eof": false}),
    )
    .expect("fault");
    assert_eq!(fault.chunks(), None);
    assert!(matches!(
        fault,
        StreamFault::CutInToolArgs {
            call: 1,
            after_chars: 1,
            clean_eof: false
        }
    ));
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", s);
    let r = generate(emu.addr(), Protocol::OpenAi, "m", false).await;
    let j = r.json();
    let calls = &j["choices"][0]["message"]["tool_calls"];
    assert_eq!(calls[0]["function"]["arguments"], r#"{"a":1}"#);
    assert_eq!(calls[1]["id"], "x");
    assert_eq!(
        calls[1]["function"]["arguments"], "{}",
        "arguments default to {{}}"
    );
    // The control API takes the same JSON.
    let r = call(
        emu.addr(),
        "POST",
        "/_emulator/scripts",
        &[],
        &json!({"n": {"phases": [{"actions": [reply]}]}}).to_string(),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text());
}
