//! Successful replies: byte-exact stream grammars per protocol, chunk-per-event framing,
//! pacing, non-streaming bodies, the default reply and the Gemini JSON-array mode.

use std::time::{Duration, Instant};

use crate::client::*;
use aiw_emulator::{Emulator, Protocol, Reply, Script};

fn script() -> Script {
    Script::always(Reply::new("Hello there!").chunk_chars(6).into())
}

#[tokio::test]
async fn anthropic_stream_is_byte_exact() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("claude-x", script());
    let r = generate(emu.addr(), Protocol::Anthropic, "claude-x", true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert!(
        r.header("request-id")
            .is_some_and(|v| v.starts_with("req_"))
    );
    assert!(r.head.chunked());
    let chunks = r.chunk_texts();
    let id = data_json(&chunks[0])["message"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert!(id.starts_with("msg_"), "{id}");
    let expected = [
        format!(
            "event: message_start\ndata: {{\"type\":\"message_start\",\"message\":{{\"id\":\"{id}\",\"type\":\"message\",\"role\":\"assistant\",\"content\":[],\"model\":\"claude-x\",\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":5,\"output_tokens\":1}}}}}}\n\n"
        ),
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n".into(),
        "event: ping\ndata: {\"type\": \"ping\"}\n\n".into(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello \"}}\n\n".into(),
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"there!\"}}\n\n".into(),
        "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0        }\n\n".into(),
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"input_tokens\":5,\"output_tokens\":2}}\n\n".into(),
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n".to_owned(),
    ];
    assert_eq!(
        chunks, expected,
        "one HTTP chunk per SSE event, exact bytes"
    );
}

#[tokio::test]
async fn openai_stream_is_byte_exact_with_and_without_usage() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("gpt-x", script());
    let r = generate(emu.addr(), Protocol::OpenAi, "gpt-x", true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert!(
        r.header("x-request-id")
            .is_some_and(|v| v.starts_with("req_"))
    );
    let chunks = r.chunk_texts();
    let first = data_json(&chunks[0]);
    let id = first["id"].as_str().expect("id").to_owned();
    let created = first["created"].as_u64().expect("created");
    assert!(id.starts_with("chatcmpl-"));
    let pre = format!(
        "data: {{\"id\":\"{id}\",\"object\":\"chat.completion.chunk\",\"created\":{created},\"model\":\"gpt-x\",\"system_fingerprint\":null,\"choices\":["
    );
    let expected = vec![
        format!(
            "{pre}{{\"index\":0,\"delta\":{{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        ),
        format!(
            "{pre}{{\"index\":0,\"delta\":{{\"content\":\"Hello \"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        ),
        format!(
            "{pre}{{\"index\":0,\"delta\":{{\"content\":\"there!\"}},\"logprobs\":null,\"finish_reason\":null}}],\"usage\":null}}\n\n"
        ),
        format!(
            "{pre}{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":\"stop\"}}],\"usage\":null}}\n\n"
        ),
        format!(
            "{pre}],\"usage\":{{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}}}\n\n"
        ),
        "data: [DONE]\n\n".to_owned(),
    ];
    assert_eq!(chunks, expected);

    // Without stream_options.include_usage: no usage chunk, no usage field.
    let r = call(
        emu.addr(),
        "POST",
        "/chat/completions",
        OPENAI,
        &openai_body("gpt-x", true, false),
    )
    .await;
    let chunks = r.chunk_texts();
    assert_eq!(chunks.len(), 5);
    assert!(chunks.iter().all(|c| !c.contains("usage")));
    assert_eq!(chunks.last().map(String::as_str), Some("data: [DONE]\n\n"));
}

#[tokio::test]
async fn gemini_stream_is_crlf_and_unterminated() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("gemini-x", script());
    let r = generate(emu.addr(), Protocol::Gemini, "gemini-x", true).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let chunks = r.chunk_texts();
    let rid = data_json(&chunks[0])["responseId"]
        .as_str()
        .expect("responseId")
        .to_owned();
    let expected = vec![
        format!(
            "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"Hello \"}}],\"role\":\"model\"}},\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":5,\"totalTokenCount\":5}},\"modelVersion\":\"gemini-x\",\"responseId\":\"{rid}\"}}\r\n\r\n"
        ),
        format!(
            "data: {{\"candidates\":[{{\"content\":{{\"parts\":[{{\"text\":\"there!\"}}],\"role\":\"model\"}},\"finishReason\":\"STOP\",\"index\":0}}],\"usageMetadata\":{{\"promptTokenCount\":5,\"candidatesTokenCount\":2,\"totalTokenCount\":7}},\"modelVersion\":\"gemini-x\",\"responseId\":\"{rid}\"}}\r\n\r\n"
        ),
    ];
    assert_eq!(chunks, expected);
}

#[tokio::test]
async fn gemini_without_alt_sse_streams_a_json_array() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("gemini-x", script());
    let r = call(
        emu.addr(),
        "POST",
        "/v1beta/models/gemini-x:streamGenerateContent",
        GEMINI,
        &gemini_body(),
    )
    .await;
    let v = r.json();
    let arr = v.as_array().expect("array");
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[1]["candidates"][0]["finishReason"], "STOP");
}

#[tokio::test]
async fn non_streaming_bodies() {
    let emu = Emulator::start().await.expect("start");
    for m in ["claude-x", "gpt-x", "gemini-x"] {
        emu.set_script(m, script());
    }
    let a = generate(emu.addr(), Protocol::Anthropic, "claude-x", false).await;
    assert_eq!(a.status(), 200);
    assert_eq!(a.header("content-type"), Some("application/json"));
    let j = a.json();
    assert_eq!(j["type"], "message");
    assert_eq!(j["content"][0]["text"], "Hello there!");
    assert_eq!(j["stop_reason"], "end_turn");
    assert_eq!(j["usage"]["input_tokens"], 5);
    assert_eq!(j["usage"]["output_tokens"], 2);

    let o = generate(emu.addr(), Protocol::OpenAi, "gpt-x", false).await;
    let j = o.json();
    assert_eq!(j["object"], "chat.completion");
    assert_eq!(j["choices"][0]["message"]["content"], "Hello there!");
    assert_eq!(j["choices"][0]["finish_reason"], "stop");
    assert_eq!(j["usage"]["total_tokens"], 7);

    let g = generate(emu.addr(), Protocol::Gemini, "gemini-x", false).await;
    let j = g.json();
    assert_eq!(
        j["candidates"][0]["content"]["parts"][0]["text"],
        "Hello there!"
    );
    assert_eq!(j["candidates"][0]["finishReason"], "STOP");
    assert_eq!(j["usageMetadata"]["candidatesTokenCount"], 2);
}

#[tokio::test]
async fn default_reply_and_usage_override() {
    let emu = Emulator::start().await.expect("start");
    let r = generate(emu.addr(), Protocol::Anthropic, "unscripted", false).await;
    assert_eq!(r.json()["content"][0]["text"], "Hello from unscripted.");
    let r = generate(emu.addr(), Protocol::OpenAi, "unscripted", true).await;
    let text: String = r
        .chunk_texts()
        .iter()
        .filter(|c| !c.contains("[DONE]"))
        .filter_map(|c| {
            data_json(c)["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(text, "Hello from unscripted.");

    emu.set_script("u", Script::always(Reply::new("x").usage(1000, 42).into()));
    let r = generate(emu.addr(), Protocol::Gemini, "u", false).await;
    assert_eq!(r.json()["usageMetadata"]["promptTokenCount"], 1000);
    assert_eq!(r.json()["usageMetadata"]["candidatesTokenCount"], 42);
}

#[tokio::test]
async fn pacing_is_observable() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "slow",
        Script::always(
            Reply::new("abcdef")
                .chunk_chars(2)
                .first_token_delay(Duration::from_secs(1))
                .interval(Duration::from_millis(100))
                .into(),
        ),
    );
    let t0 = Instant::now();
    let mut c = start_stream(emu.addr(), Protocol::Anthropic, "slow").await;
    let head = c.read_head().await.expect("head");
    assert_eq!(head.status, 200);
    for _ in 0..3 {
        c.next_chunk().await.expect("preamble chunk");
    }
    // Head and preamble come at once, before the first-token delay: the first text is still
    // at least half the delay away.
    let preamble = t0.elapsed();
    c.next_chunk().await.expect("first text");
    let first = t0.elapsed();
    assert!(first >= Duration::from_secs(1), "{first:?}");
    assert!(
        first >= preamble + Duration::from_millis(500),
        "the preamble waited for the first token: {preamble:?} then {first:?}"
    );
    c.next_chunk().await.expect("second text");
    c.next_chunk().await.expect("third text");
    let third = t0.elapsed();
    assert!(third >= first + Duration::from_millis(200), "{third:?}");
}

#[tokio::test]
async fn a_scripted_max_tokens_stop_uses_each_protocols_words() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "cut",
        Script::always(Reply::new("Cut short").max_tokens_stop().into()),
    );
    for (p, stream, needle) in [
        (Protocol::Anthropic, true, "\"stop_reason\":\"max_tokens\""),
        (Protocol::Anthropic, false, "\"stop_reason\":\"max_tokens\""),
        (Protocol::OpenAi, true, "\"finish_reason\":\"length\""),
        (Protocol::OpenAi, false, "\"finish_reason\":\"length\""),
        (Protocol::Gemini, true, "\"finishReason\":\"MAX_TOKENS\""),
        (Protocol::Gemini, false, "\"finishReason\":\"MAX_TOKENS\""),
    ] {
        let r = generate(emu.addr(), p, "cut", stream).await;
        assert_eq!(r.status(), 200);
        assert!(
            r.text().contains(needle),
            "{p:?} stream={stream}: {}",
            r.text()
        );
        assert!(!r.text().contains("end_turn") && !r.text().contains("\"STOP\""));
    }
}
