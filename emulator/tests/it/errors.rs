//! HTTP errors: every ErrorKind per protocol (status, body, headers), scripted retry
//! headers, permanent-vs-transient variants, auth (`require_key`) and the Anthropic
//! `anthropic-version` check.

use std::time::{Duration, Instant};

use aiw_emulator::{Action, Emulator, ErrorKind, ErrorReply, Protocol, Script};

use crate::client::*;

/// (kind, anthropic status/type, openai status/code-or-type, gemini status/rpc status)
const TABLE: &[(ErrorKind, u16, &str, u16, &str, u16, &str)] = &[
    (
        ErrorKind::Overloaded,
        529,
        "overloaded_error",
        503,
        "server_is_overloaded",
        503,
        "UNAVAILABLE",
    ),
    (
        ErrorKind::RateLimited,
        429,
        "rate_limit_error",
        429,
        "rate_limit_exceeded",
        429,
        "RESOURCE_EXHAUSTED",
    ),
    (
        ErrorKind::QuotaExhausted,
        429,
        "rate_limit_error",
        429,
        "insufficient_quota",
        429,
        "RESOURCE_EXHAUSTED",
    ),
    (
        ErrorKind::Server,
        500,
        "api_error",
        500,
        "server_error",
        500,
        "INTERNAL",
    ),
    (
        ErrorKind::Unavailable,
        503,
        "api_error",
        503,
        "service_unavailable_error",
        503,
        "UNAVAILABLE",
    ),
    (
        ErrorKind::GatewayTimeout,
        504,
        "timeout_error",
        504,
        "timeout",
        504,
        "DEADLINE_EXCEEDED",
    ),
    (
        ErrorKind::Auth,
        401,
        "authentication_error",
        401,
        "invalid_api_key",
        400,
        "INVALID_ARGUMENT",
    ),
    (
        ErrorKind::Permission,
        403,
        "permission_error",
        403,
        "unsupported_country_region_territory",
        403,
        "PERMISSION_DENIED",
    ),
    (
        ErrorKind::NotFound,
        404,
        "not_found_error",
        404,
        "model_not_found",
        404,
        "NOT_FOUND",
    ),
    (
        ErrorKind::BadRequest,
        400,
        "invalid_request_error",
        400,
        "invalid_request_error",
        400,
        "INVALID_ARGUMENT",
    ),
    (
        ErrorKind::ContextTooLong,
        400,
        "invalid_request_error",
        400,
        "context_length_exceeded",
        400,
        "INVALID_ARGUMENT",
    ),
];

#[tokio::test]
async fn every_kind_per_protocol() {
    let emu = Emulator::start().await.expect("start");
    for &(kind, a_status, a_type, o_status, o_code, g_status, g_status_name) in TABLE {
        emu.set_script("m", Script::always(Action::error(kind)));

        let r = generate(emu.addr(), Protocol::Anthropic, "m", true).await;
        assert_eq!(r.status(), a_status, "{kind:?}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let rid = r.header("request-id").expect("request-id").to_owned();
        let j = r.json();
        assert_eq!(j["type"], "error", "{kind:?}");
        assert_eq!(j["error"]["type"], a_type, "{kind:?}");
        assert!(j["error"]["message"].is_string());
        assert_eq!(j["request_id"], rid.as_str());
        assert!(r.header("retry-after").is_none() && r.header("x-should-retry").is_none());

        let r = generate(emu.addr(), Protocol::OpenAi, "m", true).await;
        assert_eq!(r.status(), o_status, "{kind:?}");
        assert!(r.header("x-request-id").is_some());
        let e = &r.json()["error"];
        assert!(
            e["message"].is_string() && e["type"].is_string(),
            "{kind:?}"
        );
        assert!(
            e.get("param").is_some() && e.get("code").is_some(),
            "{kind:?}"
        );
        assert!(e["code"] == o_code || e["type"] == o_code, "{kind:?}: {e}");

        let r = generate(emu.addr(), Protocol::Gemini, "m", true).await;
        assert_eq!(r.status(), g_status, "{kind:?}");
        let e = &r.json()["error"];
        assert_eq!(e["code"], g_status, "{kind:?}");
        assert_eq!(e["status"], g_status_name, "{kind:?}");
        assert!(e["message"].is_string());
    }
}

#[tokio::test]
async fn specific_bodies() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", Script::always(Action::error(ErrorKind::Overloaded)));
    let r = generate(emu.addr(), Protocol::Anthropic, "m", false).await;
    let rid = r.header("request-id").expect("rid").to_owned();
    assert_eq!(
        r.text(),
        format!(
            "{{\"type\":\"error\",\"error\":{{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}},\"request_id\":\"{rid}\"}}"
        )
    );

    emu.set_script(
        "m",
        Script::always(Action::error(ErrorKind::QuotaExhausted)),
    );
    let r = generate(emu.addr(), Protocol::Anthropic, "m", false).await;
    assert_eq!(
        r.json()["error"]["details"]["error_code"],
        "enforced_spend_limit_reached"
    );
    assert!(r.header("retry-after").is_none());
    let r = generate(emu.addr(), Protocol::OpenAi, "m", false).await;
    assert_eq!(r.json()["error"]["type"], "insufficient_quota");

    emu.set_script(
        "m",
        Script::always(Action::error(ErrorKind::ContextTooLong)),
    );
    let r = generate(emu.addr(), Protocol::Anthropic, "m", false).await;
    let msg = r.json()["error"]["message"]
        .as_str()
        .expect("msg")
        .to_owned();
    assert!(
        msg.starts_with("prompt is too long: ") && msg.ends_with(" tokens > 200000 maximum"),
        "{msg}"
    );
    let r = generate(emu.addr(), Protocol::OpenAi, "m", false).await;
    assert_eq!(r.json()["error"]["param"], "messages");
    let r = generate(emu.addr(), Protocol::Gemini, "m", false).await;
    let msg = r.json()["error"]["message"]
        .as_str()
        .expect("msg")
        .to_owned();
    assert!(
        msg.starts_with("The input token count") && msg.contains("exceeds the maximum"),
        "{msg}"
    );

    emu.set_script("m", Script::always(Action::error(ErrorKind::Auth)));
    let r = generate(emu.addr(), Protocol::Gemini, "m", false).await;
    assert_eq!(r.json()["error"]["details"][0]["reason"], "API_KEY_INVALID");

    emu.set_script(
        "m",
        Script::always(Action::error(ErrorKind::CloudflareHtml)),
    );
    for p in ALL {
        let r = generate(emu.addr(), p, "m", true).await;
        assert_eq!(r.status(), 502);
        assert_eq!(r.header("content-type"), Some("text/html"));
        assert!(r.text().starts_with("<html>"));
        assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    }
}

#[tokio::test]
async fn scripted_headers_status_override_and_delay() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "m",
        Script::always(
            ErrorReply::new(ErrorKind::RateLimited)
                .retry_after("30")
                .retry_after_ms("30000")
                .should_retry(false)
                .into(),
        ),
    );
    for p in ALL {
        let r = generate(emu.addr(), p, "m", true).await;
        assert_eq!(r.status(), 429);
        assert_eq!(r.header("retry-after"), Some("30"));
        assert_eq!(r.header("retry-after-ms"), Some("30000"));
        assert_eq!(r.header("x-should-retry"), Some("false"));
        if p == Protocol::Gemini {
            let details = r.json()["error"]["details"]
                .as_array()
                .expect("details")
                .clone();
            let retry = details
                .iter()
                .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
                .expect("RetryInfo");
            assert_eq!(retry["retryDelay"], "30s");
        }
    }
    emu.set_script(
        "m",
        Script::always(
            ErrorReply::new(ErrorKind::Server)
                .status(418)
                .delay(Duration::from_millis(150))
                .into(),
        ),
    );
    let t0 = Instant::now();
    let r = generate(emu.addr(), Protocol::OpenAi, "m", false).await;
    assert_eq!(r.status(), 418);
    assert_eq!(r.json()["error"]["type"], "server_error");
    assert!(t0.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn require_key_per_protocol() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script("m", Script::reply("ok").with_key("right"));
    let a = |key: &'static str| vec![("x-api-key", key), ("anthropic-version", "2023-06-01")];
    let body = anthropic_body("m", false);
    let r = call(emu.addr(), "POST", "/v1/messages", &a("wrong"), &body).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json()["error"]["type"], "authentication_error");
    assert_eq!(r.json()["error"]["message"], "invalid x-api-key");
    let r = call(emu.addr(), "POST", "/v1/messages", &a("right"), &body).await;
    assert_eq!(r.status(), 200);
    let bearer = [
        ("authorization", "Bearer right"),
        ("anthropic-version", "2023-06-01"),
    ];
    assert_eq!(
        call(emu.addr(), "POST", "/v1/messages", &bearer, &body)
            .await
            .status(),
        200
    );

    let body = openai_body("m", false, false);
    let r = call(emu.addr(), "POST", "/v1/chat/completions", &[], &body).await;
    assert_eq!(r.status(), 401);
    assert_eq!(r.json()["error"]["code"], "invalid_api_key");
    let r = call(
        emu.addr(),
        "POST",
        "/v1/chat/completions",
        &[("authorization", "Bearer right")],
        &body,
    )
    .await;
    assert_eq!(r.status(), 200);

    let body = gemini_body();
    let r = call(
        emu.addr(),
        "POST",
        &gemini_path("m", false),
        &[("x-goog-api-key", "nope")],
        &body,
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json()["error"]["details"][0]["reason"], "API_KEY_INVALID");
    let r = call(
        emu.addr(),
        "POST",
        &gemini_path("m", false),
        &[("x-goog-api-key", "right")],
        &body,
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = call(
        emu.addr(),
        "POST",
        "/v1beta/models/m:generateContent?key=right",
        &[],
        &body,
    )
    .await;
    assert_eq!(r.status(), 200);

    // Rejected requests are still recorded and counted, without an action.
    assert_eq!(emu.count("m"), 8);
    assert!(emu.requests_for("m")[0].action.is_none());
    assert!(emu.requests_for("m")[1].action.is_some());
}

#[tokio::test]
async fn anthropic_version_required_and_bad_json() {
    let emu = Emulator::start().await.expect("start");
    let r = call(
        emu.addr(),
        "POST",
        "/v1/messages",
        &[("x-api-key", "k")],
        &anthropic_body("m", true),
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("anthropic-version"))
    );

    let r = call(
        emu.addr(),
        "POST",
        "/v1/chat/completions",
        OPENAI,
        "{not json",
    )
    .await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");

    let r = call(emu.addr(), "GET", "/nope", &[], "").await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn scripted_extra_headers_and_a_bare_gemini_retry_delay() {
    let emu = Emulator::start().await.expect("start");
    emu.set_script(
        "m",
        Script::always(
            ErrorReply::new(ErrorKind::RateLimited)
                .header("x-ratelimit-remaining-tokens", "0")
                .header("x-ratelimit-reset-tokens", "6m0s")
                .retry_delay("2.5s")
                .into(),
        ),
    );
    for p in ALL {
        let r = generate(emu.addr(), p, "m", true).await;
        assert_eq!(r.status(), 429);
        assert_eq!(r.header("x-ratelimit-reset-tokens"), Some("6m0s"), "{p:?}");
        assert_eq!(r.header("x-ratelimit-remaining-tokens"), Some("0"));
        assert_eq!(
            r.header("retry-after"),
            None,
            "no retry-after unless scripted"
        );
        if p == Protocol::Gemini {
            let details = r.json()["error"]["details"]
                .as_array()
                .expect("details")
                .clone();
            let retry = details
                .iter()
                .find(|d| d["@type"] == "type.googleapis.com/google.rpc.RetryInfo")
                .expect("RetryInfo");
            assert_eq!(retry["retryDelay"], "2.5s");
        }
    }
}
