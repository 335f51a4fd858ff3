//! Script timing and ordering (down_then, sequence, cycling), request recording,
//! keep-alive, model lists, status pages and the HTTP control API.

use std::time::Duration;

use aiw_emulator::{Action, Emulator, ErrorKind, Protocol, Script};
use serde_json::json;

use crate::client::*;

#[tokio::test]
async fn down_then_switches_over_time() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "m",
        Script::down_then(
            Duration::from_millis(500),
            Action::error(ErrorKind::Overloaded),
            Action::reply("up"),
        ),
    );
    assert_eq!(
        generate(emu.addr(), Protocol::Anthropic, "m", false)
            .await
            .status(),
        529
    );
    assert_eq!(
        generate(emu.addr(), Protocol::Anthropic, "m", false)
            .await
            .status(),
        529
    );
    tokio::time::sleep(Duration::from_millis(550)).await;
    let r = generate(emu.addr(), Protocol::Anthropic, "m", false).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json()["content"][0]["text"], "up");

    // set_script restarts the clock.
    emu.set_script(
        "m",
        Script::down_then(
            Duration::from_millis(500),
            Action::error(ErrorKind::Overloaded),
            Action::reply("up"),
        ),
    );
    assert_eq!(
        generate(emu.addr(), Protocol::Anthropic, "m", false)
            .await
            .status(),
        529
    );
}

#[tokio::test]
async fn sequence_takes_next_and_repeats_last() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "m",
        Script::sequence(vec![
            Action::error(ErrorKind::Server),
            Action::error(ErrorKind::RateLimited),
            Action::reply("ok"),
        ]),
    );
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(
                generate(emu.addr(), Protocol::OpenAi, "m", false)
                    .await
                    .status(),
            );
        }
        v
    };
    assert_eq!(statuses, [500, 429, 200, 200, 200]);
    assert_eq!(emu.count("m"), 5);

    emu.set_script(
        "c",
        Script::cycle(vec![Action::error(ErrorKind::Server), Action::reply("ok")]),
    );
    let mut v = Vec::new();
    for _ in 0..4 {
        v.push(
            generate(emu.addr(), Protocol::OpenAi, "c", false)
                .await
                .status(),
        );
    }
    assert_eq!(v, [500, 200, 500, 200]);
}

#[tokio::test]
async fn recording_captures_everything() {
    let emu = Emulator::start().await.expect("start");
    let body = anthropic_body("claude-x", true);
    call(
        emu.addr(),
        "POST",
        "/v1/messages",
        &[
            ("X-Api-Key", "sk"),
            ("Anthropic-Version", "2023-06-01"),
            ("X-Stainless-Retry-Count", "1"),
        ],
        &body,
    )
    .await;
    generate(emu.addr(), Protocol::Gemini, "gem", true).await;
    generate(emu.addr(), Protocol::OpenAi, "gpt", false).await;

    let all = emu.requests();
    assert_eq!(all.len(), 3);
    let a = &all[0];
    assert_eq!(a.protocol, Protocol::Anthropic);
    assert_eq!(
        (a.method.as_str(), a.path.as_str(), a.query.as_str()),
        ("POST", "/v1/messages", "")
    );
    assert!(
        a.headers
            .iter()
            .any(|(n, v)| n == "x-stainless-retry-count" && v == "1"),
        "names lowercased"
    );
    assert_eq!(a.header("X-API-KEY"), Some("sk"));
    assert_eq!(a.body, body.as_bytes());
    assert_eq!(a.json.as_ref().expect("json")["max_tokens"], 64);
    assert_eq!(a.model, "claude-x");
    assert!(a.stream);
    assert_eq!(a.message_texts(), ["one two three"]);
    assert_eq!(a.system_text().as_deref(), Some("Be terse."));
    assert!(a.action.is_none(), "default reply");

    let g = &all[1];
    assert_eq!(g.protocol, Protocol::Gemini);
    assert_eq!(g.model, "gem");
    assert_eq!(g.query, "alt=sse");
    assert_eq!(g.query_param("alt").as_deref(), Some("sse"));
    assert!(g.stream);
    assert_eq!(g.message_texts(), ["one two three"]);
    assert_eq!(g.system_text().as_deref(), Some("Be terse."));

    let o = &all[2];
    assert!(!o.stream);
    assert_eq!(o.system_text().as_deref(), Some("Be terse."));
    assert!(a.at <= g.at && g.at <= o.at);

    assert_eq!(emu.count("gem"), 1);
    assert_eq!(emu.requests_for("gpt").len(), 1);
    assert_eq!(emu.count("nobody"), 0);
    emu.clear_requests();
    assert!(emu.requests().is_empty());
}

#[tokio::test]
async fn keep_alive_serves_two_requests_on_one_connection() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", Script::always(Action::error(ErrorKind::Server)));
    let mut c = Client::connect(emu.addr()).await;
    c.send(
        "POST",
        "/v1/messages",
        ANTHROPIC,
        &anthropic_body("x", true),
    )
    .await;
    let r1 = c.response().await.expect("streamed response");
    assert_eq!(r1.header("connection"), Some("keep-alive"));
    c.send(
        "POST",
        "/v1/messages",
        ANTHROPIC,
        &anthropic_body("m", false),
    )
    .await;
    let r2 = c
        .response()
        .await
        .expect("error response on same connection");
    assert_eq!(r2.status(), 500);
    c.send(
        "GET",
        "/v1/models",
        &[("anthropic-version", "2023-06-01")],
        "",
    )
    .await;
    assert_eq!(c.response().await.expect("third").status(), 200);
    assert_eq!(emu.requests().len(), 3);
}

#[tokio::test]
async fn model_lists_per_protocol() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("b-model", Script::reply("x"));
    emu.set_script("a-model", Script::reply("x"));
    let r = call(
        emu.addr(),
        "GET",
        "/v1/models",
        &[("anthropic-version", "2023-06-01"), ("x-api-key", "k")],
        "",
    )
    .await;
    let j = r.json();
    assert_eq!(j["data"][0]["type"], "model");
    assert_eq!(j["data"][0]["id"], "a-model");
    assert_eq!(j["first_id"], "a-model");
    assert_eq!(j["last_id"], "b-model");
    assert_eq!(j["has_more"], false);
    assert!(r.header("request-id").is_some());

    let j = call(emu.addr(), "GET", "/v1/models", OPENAI, "")
        .await
        .json();
    assert_eq!(j["object"], "list");
    assert_eq!(j["data"][1]["id"], "b-model");
    assert_eq!(j["data"][1]["object"], "model");

    let j = call(emu.addr(), "GET", "/v1beta/models", GEMINI, "")
        .await
        .json();
    assert_eq!(j["models"][0]["name"], "models/a-model");

    // Only keyed models: a wrong key gets the auth error.
    let emu = Emulator::start().await.expect("start");
    emu.set_script("k", Script::reply("x").with_key("right"));
    assert_eq!(
        call(emu.addr(), "GET", "/v1/models", OPENAI, "")
            .await
            .status(),
        401
    );
    let r = call(
        emu.addr(),
        "GET",
        "/v1/models",
        &[("authorization", "Bearer right")],
        "",
    )
    .await;
    assert_eq!(r.json()["data"][0]["id"], "k");
    assert_eq!(
        call(emu.addr(), "GET", "/v1beta/models?key=bad", &[], "")
            .await
            .status(),
        400
    );
    assert_eq!(emu.requests().len(), 3, "model lists are recorded");
    assert_eq!(emu.count(""), 0, "but are not generation requests");
}

#[tokio::test]
async fn status_pages() {
    let emu = Emulator::start().await.expect("start");
    let summary = json!({"page": {"id": "tymt9n04zgry", "name": "Claude"},
        "status": {"indicator": "minor", "description": "Partially Degraded Service"},
        "components": [{"id": "k8w3r06qmzrp", "status": "degraded_performance"}], "incidents": []});
    emu.set_status_page("claude", summary.clone());
    let r = call(
        emu.addr(),
        "GET",
        "/status/claude/api/v2/summary.json",
        &[],
        "",
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json(), summary);
    let r = call(
        emu.addr(),
        "GET",
        "/status/claude/api/v2/status.json",
        &[],
        "",
    )
    .await;
    assert_eq!(r.json()["status"]["indicator"], "minor");
    assert_eq!(
        call(
            emu.addr(),
            "GET",
            "/status/other/api/v2/summary.json",
            &[],
            ""
        )
        .await
        .status(),
        404
    );
    assert_eq!(emu.status_requests("claude"), 2);
}

#[tokio::test]
async fn control_api() {
    let emu = Emulator::start().await.expect("start");
    let scripts = json!({
        "m1": {"phases": [{"actions": [{"type": "error", "kind": "overloaded", "retry_after": "1"}]}]},
        "m2": {"phases": [{"actions": [{"type": "reply", "text": "via control"}]}], "require_key": "k2"},
    });
    let r = call(
        emu.addr(),
        "POST",
        "/_emulator/scripts",
        &[],
        &scripts.to_string(),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.json()["models"], json!(["m1", "m2"]));
    let r = generate(emu.addr(), Protocol::Anthropic, "m1", false).await;
    assert_eq!(r.status(), 529);
    assert_eq!(r.header("retry-after"), Some("1"));
    let r = call(
        emu.addr(),
        "POST",
        "/v1/chat/completions",
        &[("authorization", "Bearer k2")],
        &openai_body("m2", false, false),
    )
    .await;
    assert_eq!(r.json()["choices"][0]["message"]["content"], "via control");

    let bad = call(
        emu.addr(),
        "POST",
        "/_emulator/scripts",
        &[],
        r#"{"m":{"phases":[{"actions":[{"type":"bogus"}]}]}}"#,
    )
    .await;
    assert_eq!(bad.status(), 400);

    let list = call(emu.addr(), "GET", "/_emulator/requests", &[], "")
        .await
        .json();
    let list = list.as_array().expect("array");
    assert_eq!(list.len(), 2, "control calls are not recorded");
    assert_eq!(list[0]["model"], "m1");
    assert_eq!(list[0]["protocol"], "Anthropic");
    assert_eq!(list[0]["action"]["type"], "error");
    assert!(
        list[1]["body"]
            .as_str()
            .is_some_and(|b| b.contains("\"m2\""))
    );
    assert_eq!(list[1]["json"]["model"], "m2");
    assert_eq!(emu.requests_json().as_array().map(Vec::len), Some(2));

    assert_eq!(
        call(emu.addr(), "DELETE", "/_emulator/requests", &[], "")
            .await
            .status(),
        200
    );
    assert!(emu.requests().is_empty());

    let r = call(
        emu.addr(),
        "POST",
        "/_emulator/status/openai",
        &[],
        r#"{"status":{"indicator":"major"}}"#,
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = call(
        emu.addr(),
        "GET",
        "/status/openai/api/v2/summary.json",
        &[],
        "",
    )
    .await;
    assert_eq!(r.json()["status"]["indicator"], "major");
}

#[tokio::test]
async fn handle_drop_stops_the_server() {
    let emu = Emulator::start().await.expect("start");
    let addr = emu.addr();
    let clone = emu.clone();
    drop(emu);
    assert_eq!(
        generate(addr, Protocol::OpenAi, "m", false).await.status(),
        200,
        "a clone keeps it alive"
    );
    drop(clone);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_connections() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "slow",
        Script::always(
            aiw_emulator::Reply::new("abcdefgh")
                .chunk_chars(2)
                .first_token_delay(Duration::from_secs(2))
                .into(),
        ),
    );
    let hung = {
        emu.set_script("hang", Script::always(Action::Hang));
        start_stream(emu.addr(), Protocol::OpenAi, "hang").await
    };
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let addr = emu.addr();
            let p = ALL[i % 3];
            tokio::spawn(async move { generate(addr, p, "slow", true).await.status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("task"), 200);
    }
    assert_eq!(emu.count("slow"), 40);
    // Each answer waits 2 s before its first token: served one at a time, the last request
    // would have been read 78 s after the first. Concurrently, all arrive within the delay.
    let at: Vec<_> = emu.requests_for("slow").iter().map(|r| r.at).collect();
    let spread = *at.iter().max().unwrap() - *at.iter().min().unwrap();
    assert!(
        spread < Duration::from_secs(2),
        "not served concurrently despite a hung connection: arrivals {spread:?} apart"
    );
    drop(hung);
}
