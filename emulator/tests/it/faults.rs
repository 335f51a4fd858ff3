//! Socket-level and stream faults: reset before headers, hang, stall, clean and abrupt
//! cuts, malformed data, mid-stream provider errors, reset mid-stream, and the
//! non-streaming variants.

use std::io::ErrorKind as IoKind;
use std::time::Duration;

use aiw_emulator::{Action, Emulator, ErrorKind, Protocol, Reply, Script, StreamFault};

use crate::client::*;

const SHORT: Duration = Duration::from_millis(300);

fn faulty(f: StreamFault) -> Script {
    Script::always(Reply::new("aaaabbbbcccc").chunk_chars(4).fault(f).into())
}

/// Preamble chunks before the first text chunk.
fn preamble(p: Protocol) -> usize {
    match p {
        Protocol::Anthropic => 3,
        Protocol::OpenAi => 1,
        Protocol::Gemini => 0,
    }
}

#[tokio::test]
async fn reset_before_any_header_byte() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", Script::always(Action::Reset));
    let mut c = start_stream(emu.addr(), Protocol::Anthropic, "m").await;
    let err = tokio::time::timeout(T, c.read_head())
        .await
        .expect("answer in time")
        .expect_err("reset");
    assert_eq!(err.kind(), IoKind::ConnectionReset, "{err}");
    assert_eq!(emu.count("m"), 1);
    assert!(matches!(
        emu.requests_for("m")[0].action,
        Some(Action::Reset)
    ));
}

#[tokio::test]
async fn hang_never_answers_and_shutdown_closes() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", Script::always(Action::Hang));
    let mut c = start_stream(emu.addr(), Protocol::OpenAi, "m").await;
    assert!(
        tokio::time::timeout(SHORT, c.read_head()).await.is_err(),
        "no answer"
    );
    assert_eq!(emu.count("m"), 1, "the request was read and recorded");
    emu.shutdown();
    let r = tokio::time::timeout(T, c.read_head())
        .await
        .expect("closed on shutdown");
    assert!(r.is_err());
}

#[tokio::test]
async fn stall_after_chunks() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", faulty(StreamFault::StallAfter { chunks: 1 }));
    for p in ALL {
        let mut c = start_stream(emu.addr(), p, "m").await;
        let head = c.read_head().await.expect("head");
        assert_eq!(head.status, 200);
        assert_eq!(head.header("connection"), Some("close"));
        for _ in 0..=preamble(p) {
            let chunk = tokio::time::timeout(T, c.next_chunk())
                .await
                .expect("chunk in time");
            assert!(chunk.expect("chunk").is_some());
        }
        assert!(
            tokio::time::timeout(SHORT, c.next_chunk()).await.is_err(),
            "{p:?} stalls"
        );
    }
}

#[tokio::test]
async fn cut_clean_and_abrupt() {
    let emu = Emulator::start().await.expect("start");
    for p in ALL {
        emu.set_script(
            "m",
            faulty(StreamFault::CutAfter {
                chunks: 2,
                clean_eof: true,
            }),
        );
        let mut c = start_stream(emu.addr(), p, "m").await;
        let r = tokio::time::timeout(T, c.response())
            .await
            .expect("in time")
            .expect("clean body end");
        assert_eq!(r.chunks.len(), preamble(p) + 2, "{p:?}");
        let body = r.text();
        assert!(
            !body.contains("message_stop")
                && !body.contains("[DONE]")
                && !body.contains("finishReason")
        );
        tokio::time::timeout(T, c.eof())
            .await
            .expect("in time")
            .expect("clean EOF");

        emu.set_script(
            "m",
            faulty(StreamFault::CutAfter {
                chunks: 1,
                clean_eof: false,
            }),
        );
        let mut c = start_stream(emu.addr(), p, "m").await;
        c.read_head().await.expect("head");
        for _ in 0..=preamble(p) {
            assert!(c.next_chunk().await.expect("chunk").is_some());
        }
        let err = tokio::time::timeout(T, c.next_chunk())
            .await
            .expect("in time")
            .expect_err("abrupt");
        assert_eq!(err.kind(), IoKind::UnexpectedEof, "{p:?}");
    }
}

#[tokio::test]
async fn malformed_data_then_stream_continues() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", faulty(StreamFault::MalformedAfter { chunks: 1 }));
    for p in ALL {
        let r = tokio::time::timeout(T, start_stream(emu.addr(), p, "m").await.response())
            .await
            .expect("in time")
            .expect("complete");
        let chunks = r.chunk_texts();
        let bad = &chunks[preamble(p) + 1];
        let data = bad
            .lines()
            .find_map(|l| l.strip_prefix("data: "))
            .expect("data line");
        assert!(
            serde_json::from_str::<serde_json::Value>(data).is_err(),
            "{p:?}: {data}"
        );
        let valid = chunks
            .iter()
            .filter(|c| {
                c.lines()
                    .filter_map(|l| l.strip_prefix("data: "))
                    .any(|d| serde_json::from_str::<serde_json::Value>(d).is_ok())
            })
            .count();
        assert_eq!(
            valid + 1,
            chunks.len() - usize::from(p == Protocol::OpenAi),
            "{p:?}: only one bad event ([DONE] aside)"
        );
    }
}

#[tokio::test]
async fn error_event_mid_stream() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "m",
        faulty(StreamFault::ErrorEventAfter {
            chunks: 1,
            kind: ErrorKind::Overloaded,
        }),
    );

    let r = start_stream(emu.addr(), Protocol::Anthropic, "m")
        .await
        .response()
        .await
        .expect("complete");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.chunk_texts().last().map(String::as_str),
        Some(
            "event: error\ndata: {\"type\": \"error\", \"error\": {\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n"
        )
    );
    assert_eq!(r.chunks.len(), 5);

    let r = start_stream(emu.addr(), Protocol::OpenAi, "m")
        .await
        .response()
        .await
        .expect("complete");
    let last = r.chunk_texts().last().cloned().expect("chunk");
    let j: serde_json::Value =
        serde_json::from_str(last.strip_prefix("data: ").expect("data").trim()).expect("json");
    assert_eq!(j["error"]["code"], "server_is_overloaded");
    assert!(!r.text().contains("[DONE]"));

    let r = start_stream(emu.addr(), Protocol::Gemini, "m")
        .await
        .response()
        .await
        .expect("complete");
    let chunks = r.chunk_texts();
    assert_eq!(chunks.len(), 2);
    let last = &chunks[1];
    assert!(
        last.starts_with("{\r\n"),
        "bare JSON, no data: prefix: {last:?}"
    );
    let j: serde_json::Value = serde_json::from_str(last).expect("json");
    assert_eq!(j["error"]["status"], "UNAVAILABLE");
    assert_eq!(j["error"]["code"], 503);
}

#[tokio::test]
async fn reset_after_chunks() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", faulty(StreamFault::ResetAfter { chunks: 2 }));
    let mut c = start_stream(emu.addr(), Protocol::Gemini, "m").await;
    c.read_head().await.expect("head");
    assert!(c.next_chunk().await.expect("1").is_some());
    assert!(c.next_chunk().await.expect("2").is_some());
    let err = tokio::time::timeout(T, c.next_chunk())
        .await
        .expect("in time")
        .expect_err("reset");
    assert_eq!(err.kind(), IoKind::ConnectionReset);
}

#[tokio::test]
async fn non_streaming_faults() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", faulty(StreamFault::StallAfter { chunks: 0 }));
    let mut c = Client::connect(emu.addr()).await;
    c.send(
        "POST",
        "/v1/messages",
        ANTHROPIC,
        &anthropic_body("m", false),
    )
    .await;
    let head = c.read_head().await.expect("head");
    assert_eq!(head.status, 200);
    assert!(
        tokio::time::timeout(SHORT, c.read_body(&head))
            .await
            .is_err(),
        "body stalls"
    );

    emu.set_script(
        "m",
        faulty(StreamFault::CutAfter {
            chunks: 0,
            clean_eof: true,
        }),
    );
    let mut c = Client::connect(emu.addr()).await;
    c.send(
        "POST",
        "/v1/messages",
        ANTHROPIC,
        &anthropic_body("m", false),
    )
    .await;
    let head = c.read_head().await.expect("head");
    let err = c.read_body(&head).await.expect_err("short body");
    assert_eq!(err.kind(), IoKind::UnexpectedEof);

    emu.set_script("m", faulty(StreamFault::MalformedAfter { chunks: 0 }));
    let r = generate(emu.addr(), Protocol::OpenAi, "m", false).await;
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());

    emu.set_script(
        "m",
        faulty(StreamFault::ErrorEventAfter {
            chunks: 0,
            kind: ErrorKind::Server,
        }),
    );
    assert_eq!(
        generate(emu.addr(), Protocol::Gemini, "m", false)
            .await
            .status(),
        500
    );
}
