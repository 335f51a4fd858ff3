//! Router behaviour against the emulator: failover per error class, breakers with exact call
//! counts, probes before traffic returns, retries within the budget, first-token and stall
//! timeouts, mid-stream failover with seams, shared health across processes, and a compressed
//! replay of the June 5 2026 staggered recovery.

use std::time::{Duration, Instant};

use aiw::provider::{ChatRequest, ErrorClass, Message};
use aiw::router::{Outcome, RouterEvent};
use aiw_emulator::{Action, Emulator, ErrorKind, ErrorReply, Reply, Script, StreamFault};
use tokio_util::sync::CancellationToken;

use crate::support::{config_text, m, router, router_on_disk, settings, wait_until};

fn req(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::user(text)],
        ..ChatRequest::default()
    }
}

async fn ask(
    r: &aiw::router::Router,
    route: &[aiw::provider::ModelRef],
    text: &str,
) -> (
    Result<aiw::router::Answer, aiw::router::AllModelsFailed>,
    Vec<RouterEvent>,
) {
    let mut events = Vec::new();
    let mut on = |e: RouterEvent| events.push(e);
    let res = r
        .run(route, &req(text), &mut on, &CancellationToken::new())
        .await;
    (res, events)
}

struct Fixture {
    emu: Emulator,
    _dir: tempfile::TempDir,
    router: aiw::router::Router,
    route: Vec<aiw::provider::ModelRef>,
}

/// Route: anthropic/primary -> openai/fallback (two providers, like the real default route).
async fn two_models(extra: &str) -> Fixture {
    two_models_open(extra, "150ms", "400ms").await
}

/// The same with the breaker's open period set: tests that assert what happens inside and
/// after it use periods long enough that a loaded CI machine cannot blur them.
async fn two_models_open(extra: &str, base_open: &str, max_open: &str) -> Fixture {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &emu.base_url(),
        r#"default = ["anthropic/primary", "openai/fallback"]"#,
        extra,
    )
    .replace(
        "base_open = \"150ms\"",
        &format!("base_open = \"{base_open}\""),
    )
    .replace(
        "max_open = \"400ms\"",
        &format!("max_open = \"{max_open}\""),
    );
    let s = settings(&text, dir.path());
    emu.set_script("fallback", Script::reply("answer from the fallback"));
    Fixture {
        router: router(s),
        route: vec![m("anthropic/primary"), m("openai/fallback")],
        emu,
        _dir: dir,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn fast_529_fails_over_at_once_and_breaker_stops_calls() {
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    for i in 0..6 {
        let (res, _) = ask(&f.router, &f.route, "hi").await;
        let a = res.unwrap();
        assert_eq!(a.text(), "answer from the fallback");
        assert_eq!(a.model, "openai/fallback");
        assert!(a.degraded);
        if i == 0 {
            assert_eq!(a.attempts[0].error_class, Some(ErrorClass::Overloaded));
            assert_eq!(a.attempts[0].status, Some(529));
        }
    }
    // Three consecutive failures open the breaker: requests 4..6 never touch the dead model
    // (at most a 1-token probe, if the short open period of this test config ran out).
    f.router.finish_background(Duration::from_secs(2)).await;
    let real = f
        .emu
        .requests_for("primary")
        .iter()
        .filter(|r| r.json.as_ref().unwrap()["max_tokens"].as_u64() != Some(1))
        .count();
    assert_eq!(real, 3);
    assert_eq!(f.emu.count("fallback"), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_503_and_500_fail_over() {
    for kind in [
        ErrorKind::Unavailable,
        ErrorKind::Server,
        ErrorKind::CloudflareHtml,
    ] {
        let f = two_models("").await;
        f.emu
            .set_script("primary", Script::always(Action::error(kind)));
        let (res, events) = ask(&f.router, &f.route, "hi").await;
        let a = res.unwrap();
        assert_eq!(a.model, "openai/fallback", "{kind:?}");
        assert!(events.iter().any(|e| matches!(
            e,
            RouterEvent::Failover {
                mid_stream: false,
                ..
            }
        )));
        assert_eq!(
            f.emu.count("primary"),
            1,
            "no retry when a fallback exists: {kind:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn short_retry_after_is_waited_for_only_when_nothing_remote_is_left() {
    // Single-model route: a short Retry-After is honoured with one retry.
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::sequence(vec![
            ErrorReply::new(ErrorKind::RateLimited)
                .retry_after("0.2")
                .into(),
            Action::reply("second try worked"),
        ]),
    );
    let start = Instant::now();
    let (res, events) = ask(&f.router, &[m("anthropic/primary")], "hi").await;
    assert_eq!(res.unwrap().text(), "second try worked");
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RouterEvent::Retrying { .. }))
    );
    assert_eq!(f.emu.count("primary"), 2);

    // With a remote fallback, the same 429 fails over at once instead of waiting.
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(
            ErrorReply::new(ErrorKind::RateLimited)
                .retry_after("0.5")
                .into(),
        ),
    );
    let start = Instant::now();
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    assert!(
        start.elapsed() < Duration::from_millis(450),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(f.emu.count("primary"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn long_retry_after_skips_the_model_until_then() {
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(
            ErrorReply::new(ErrorKind::RateLimited)
                .retry_after("60")
                .into(),
        ),
    );
    for _ in 0..3 {
        let (res, _) = ask(&f.router, &f.route, "hi").await;
        assert_eq!(res.unwrap().model, "openai/fallback");
    }
    assert_eq!(f.emu.count("primary"), 1, "a 60 s Retry-After is respected");
    // Even alone in its route it is not hammered: the wait is longer than we will wait.
    let (res, _) = ask(&f.router, &[m("anthropic/primary")], "hi").await;
    assert!(res.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn quota_exhausted_is_surfaced_and_skipped() {
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::QuotaExhausted)),
    );
    let (res, events) = ask(&f.router, &f.route, "hi").await;
    let a = res.unwrap();
    assert_eq!(a.attempts[0].error_class, Some(ErrorClass::QuotaExhausted));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RouterEvent::ConfigProblem { .. }))
    );
    let _ = ask(&f.router, &f.route, "again").await;
    assert_eq!(f.emu.count("primary"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn reset_before_headers_fails_over() {
    let f = two_models("").await;
    f.emu.set_script("primary", Script::always(Action::Reset));
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    let a = res.unwrap();
    assert_eq!(a.model, "openai/fallback");
    assert_eq!(a.attempts[0].error_class, Some(ErrorClass::Connection));
}

#[tokio::test(flavor = "multi_thread")]
async fn silent_model_costs_one_first_token_timeout_then_nothing() {
    let f = two_models("").await;
    f.emu.set_script("primary", Script::always(Action::Hang));
    let start = Instant::now();
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    let took = start.elapsed();
    let a = res.unwrap();
    assert_eq!(a.model, "openai/fallback");
    assert_eq!(
        a.attempts[0].error_class,
        Some(ErrorClass::FirstTokenTimeout)
    );
    assert!(
        took >= Duration::from_millis(1000) && took < Duration::from_millis(3000),
        "{took:?}"
    );
    // The silent model is out of rotation: the next request does not wait for it again.
    let start = Instant::now();
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    assert!(start.elapsed() < Duration::from_millis(300));
    assert_eq!(f.emu.count("primary"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_first_token_fails_over() {
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(
            Reply::new("too late")
                .first_token_delay(Duration::from_millis(2500))
                .into(),
        ),
    );
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    let a = res.unwrap();
    assert_eq!(a.model, "openai/fallback");
    assert_eq!(
        a.attempts[0].error_class,
        Some(ErrorClass::FirstTokenTimeout)
    );
}

/// A stream that breaks after text was shown continues on the next model: the partial text is
/// carried as conversation state, the seam is recorded, nothing is duplicated.
async fn mid_stream_case(fault: StreamFault, class: ErrorClass) {
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(
            Reply::new("The first half of the answer, ")
                .chunk_chars(10)
                .fault(fault)
                .into(),
        ),
    );
    f.emu
        .set_script("fallback", Script::reply("and the second half."));
    let (res, events) = ask(&f.router, &f.route, "explain").await;
    let a = res.unwrap();
    assert_eq!(a.segments.len(), 2, "{:?}", a.segments);
    assert_eq!(a.segments[0].model, "anthropic/primary");
    assert_eq!(a.segments[1].model, "openai/fallback");
    assert!(a.text().ends_with("and the second half."), "{}", a.text());
    assert!(a.text().starts_with("The first"), "{}", a.text());
    assert!(a.degraded);
    assert_eq!(a.attempts[0].error_class, Some(class));
    assert!(events.iter().any(|e| matches!(
        e,
        RouterEvent::Failover {
            mid_stream: true,
            ..
        }
    )));
    // What the fallback received: the user turn, the partial answer as an assistant turn, and
    // the instruction to continue (conversation state, not a prefill).
    let sent = f.emu.requests_for("fallback");
    assert_eq!(sent.len(), 1);
    let texts = sent[0].message_texts();
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[0], "explain");
    assert_eq!(texts[1], a.segments[0].text());
    assert!(texts[2].contains("Continue it from exactly where it stops"));
}

#[tokio::test(flavor = "multi_thread")]
async fn stall_mid_stream_continues_on_fallback() {
    mid_stream_case(
        StreamFault::StallAfter { chunks: 2 },
        ErrorClass::StallTimeout,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cut_stream_with_clean_eof_is_never_reported_complete() {
    mid_stream_case(
        StreamFault::CutAfter {
            chunks: 2,
            clean_eof: true,
        },
        ErrorClass::Truncated,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cut_stream_abrupt_continues_on_fallback() {
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(
            Reply::new("Part one, ")
                .chunk_chars(5)
                .fault(StreamFault::CutAfter {
                    chunks: 1,
                    clean_eof: false,
                })
                .into(),
        ),
    );
    let (res, _) = ask(&f.router, &f.route, "q").await;
    let a = res.unwrap();
    assert_eq!(a.segments.len(), 2);
    assert!(matches!(
        a.attempts[0].error_class,
        Some(ErrorClass::Truncated | ErrorClass::Connection)
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn mid_stream_error_event_continues_on_fallback() {
    mid_stream_case(
        StreamFault::ErrorEventAfter {
            chunks: 2,
            kind: ErrorKind::Overloaded,
        },
        ErrorClass::Overloaded,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_event_fails_over() {
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(
            Reply::new("abc")
                .fault(StreamFault::MalformedAfter { chunks: 0 })
                .into(),
        ),
    );
    let (res, _) = ask(&f.router, &f.route, "q").await;
    let a = res.unwrap();
    assert_eq!(a.attempts[0].error_class, Some(ErrorClass::MalformedStream));
    assert_eq!(a.model, "openai/fallback");
}

#[tokio::test(flavor = "multi_thread")]
async fn auth_and_bad_request_are_surfaced_and_do_not_mark_health() {
    for kind in [ErrorKind::Auth, ErrorKind::BadRequest] {
        let f = two_models("").await;
        f.emu
            .set_script("primary", Script::always(Action::error(kind)));
        for _ in 0..5 {
            let (res, events) = ask(&f.router, &f.route, "hi").await;
            assert_eq!(res.unwrap().model, "openai/fallback");
            assert!(
                events
                    .iter()
                    .any(|e| matches!(e, RouterEvent::ConfigProblem { .. })),
                "{kind:?} must be surfaced"
            );
        }
        // Still called every time: a config problem is not an outage (and stays loud).
        assert_eq!(f.emu.count("primary"), 5, "{kind:?}");
        let h = f.router.health(&f.route);
        assert_ne!(h[0].state, aiw::router::HealthState::Open);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn recovering_model_gets_exactly_one_probe_before_traffic() {
    let f = two_models_open("", "700ms", "5s").await;
    f.emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    for _ in 0..3 {
        let _ = ask(&f.router, &f.route, "hi").await;
    }
    assert_eq!(f.emu.count("primary"), 3);
    // It recovers while its breaker is open.
    f.emu
        .set_script("primary", Script::reply("primary is back"));
    f.emu.clear_requests();
    // While open (700 ms ± jitter), requests go to the fallback without touching it.
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    assert_eq!(f.emu.count("primary"), 0);
    tokio::time::sleep(Duration::from_millis(900)).await;
    // Open period over: this request is answered by the fallback while ONE probe runs beside it.
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    assert!(wait_until(Duration::from_secs(2), || f.emu.count("primary") == 1).await);
    f.router.finish_background(Duration::from_secs(2)).await;
    let probe = &f.emu.requests_for("primary")[0];
    let max = probe.json.as_ref().unwrap()["max_tokens"].as_u64();
    assert_eq!(max, Some(1), "a probe is a 1-token request");
    // The probe succeeded: traffic returns to the primary.
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    let a = res.unwrap();
    assert_eq!(a.model, "anthropic/primary");
    assert!(!a.degraded);
    assert_eq!(f.emu.count("primary"), 2, "exactly one probe, then traffic");
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_probe_keeps_it_out_for_longer() {
    let f = two_models_open("", "700ms", "5s").await;
    f.emu
        .set_script("primary", Script::always(Action::error(ErrorKind::Server)));
    for _ in 0..3 {
        let _ = ask(&f.router, &f.route, "hi").await;
    }
    tokio::time::sleep(Duration::from_millis(900)).await;
    let _ = ask(&f.router, &f.route, "hi").await;
    f.router.finish_background(Duration::from_secs(2)).await;
    assert_eq!(f.emu.count("primary"), 4, "three failures then one probe");
    // Immediately after the failed probe it is open again: no calls.
    for _ in 0..3 {
        let _ = ask(&f.router, &f.route, "hi").await;
    }
    f.router.finish_background(Duration::from_secs(2)).await;
    assert_eq!(f.emu.count("primary"), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn health_is_shared_between_processes_through_the_state_dir() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &emu.base_url(),
        r#"default = ["anthropic/primary", "openai/fallback"]"#,
        "",
    );
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    let route = vec![m("anthropic/primary"), m("openai/fallback")];
    let first = router_on_disk(settings(&text, dir.path()));
    for _ in 0..3 {
        let _ = ask(&first, &route, "hi").await;
    }
    assert_eq!(emu.count("primary"), 3);
    // A second "process" (a new router on the same state dir) already knows.
    let second = router_on_disk(settings(&text, dir.path()));
    let (res, _) = ask(&second, &route, "hi").await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    assert_eq!(emu.count("primary"), 3);
    // The journal recorded every attempt.
    let journal = std::fs::read_to_string(dir.path().join("state/journal.jsonl")).unwrap();
    assert!(journal.lines().count() >= 7, "{journal}");
    assert!(!journal.contains(crate::support::ANTHROPIC_KEY));
}

#[tokio::test(flavor = "multi_thread")]
async fn all_failed_lists_every_attempt_and_keeps_partial_text() {
    let f = two_models("").await;
    f.emu.set_script(
        "primary",
        Script::always(
            Reply::new("partial words here")
                .chunk_chars(4)
                .fault(StreamFault::CutAfter {
                    chunks: 2,
                    clean_eof: true,
                })
                .into(),
        ),
    );
    f.emu
        .set_script("fallback", Script::always(Action::error(ErrorKind::Server)));
    let (res, _) = ask(&f.router, &f.route, "hi").await;
    let e = res.unwrap_err();
    // primary cut mid-stream; the fallback fails, and being the last model it gets one quick
    // retry (within the budget) before giving up.
    assert_eq!(e.attempts.len(), 3, "{:?}", e.attempts);
    assert_eq!(f.emu.count("fallback"), 2);
    assert!(e.attempts.iter().all(|a| a.outcome == Outcome::Failed));
    let partial: String = e.partial.iter().map(aiw::router::Segment::text).collect();
    assert_eq!(partial, "partial ");
    let msg = e.to_string();
    assert!(
        msg.contains("anthropic/primary") && msg.contains("openai/fallback"),
        "{msg}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_providers_are_skipped_without_paying_their_timeouts() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // anthropic and openai point at a closed port; gemini at the emulator.
    let text = format!(
        r#"
[providers.anthropic]
base_url = "http://127.0.0.1:9"
[providers.openai]
base_url = "http://127.0.0.1:9/v1"
[providers.gemini]
base_url = "{}"
[routes]
default = ["anthropic/a", "openai/b", "gemini/g"]
[timeouts]
connect = "1s"
first_token = "2s"
"#,
        emu.base_url()
    );
    let r = router(settings(&text, dir.path()));
    emu.set_script("g", Script::reply("gemini answers"));
    let start = Instant::now();
    let (res, _) = ask(&r, &[m("anthropic/a"), m("openai/b"), m("gemini/g")], "hi").await;
    let a = res.unwrap();
    assert_eq!(a.text(), "gemini answers");
    assert_eq!(a.attempts[0].error_class, Some(ErrorClass::Connection));
    assert_eq!(a.attempts[1].outcome, Outcome::Skipped, "{:?}", a.attempts);
    assert!(start.elapsed() < Duration::from_secs(2));
}

/// June 5, 2026, compressed 1 minute : 10 ms. Every Claude model fails; Opus 4.6 is back after
/// 17 min, Sonnet 4.6 after 75, Opus 4.8 after 111. Every request must be answered by the
/// highest-tier model that is up at that moment (allowing the breaker's probe delay).
#[tokio::test(flavor = "multi_thread")]
async fn june_5_staggered_recovery_replay() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &emu.base_url(),
        r#"default = ["anthropic/claude-opus-4-8", "anthropic/claude-opus-4-6", "anthropic/claude-sonnet-4-6", "openai/gpt-5.5"]"#,
        "",
    )
    .replace("base_open = \"150ms\"", "base_open = \"40ms\"")
    .replace("max_open = \"400ms\"", "max_open = \"80ms\"");
    let r = router(settings(&text, dir.path()));
    let route = vec![
        m("anthropic/claude-opus-4-8"),
        m("anthropic/claude-opus-4-6"),
        m("anthropic/claude-sonnet-4-6"),
        m("openai/gpt-5.5"),
    ];
    let recover_ms = [1110u64, 170, 750];
    let names = ["claude-opus-4-8", "claude-opus-4-6", "claude-sonnet-4-6"];
    for (name, ms) in names.iter().zip(recover_ms) {
        emu.set_script(
            name,
            Script::down_then(
                Duration::from_millis(ms),
                Action::error(ErrorKind::Overloaded),
                Action::reply(&format!("from {name}")),
            ),
        );
    }
    emu.set_script("gpt-5.5", Script::reply("from gpt-5.5"));
    let t0 = Instant::now();
    let up_tier = |at: u64| -> usize { (0..3).find(|&i| at >= recover_ms[i]).unwrap_or(3) };
    let mut answered = Vec::new();
    while t0.elapsed() < Duration::from_millis(1600) {
        let at = t0.elapsed().as_millis() as u64;
        let (res, _) = ask(&r, &route, "status?").await;
        let a = res.unwrap();
        let tier = route.iter().position(|x| x.to_string() == a.model).unwrap();
        answered.push((at, tier));
        // Never a model that was still down when the request started.
        assert!(
            tier == 3 || at + 50 >= recover_ms[tier],
            "t={at} answered by tier {tier} before it recovered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    r.finish_background(Duration::from_secs(2)).await;
    // Traffic returns to a recovered higher tier as soon as its breaker's probe succeeds: only
    // the few requests inside the open period (<= 80 ms + jitter) plus the probe's round trip
    // may still go to a lower tier. Counted in requests, not milliseconds, so a loaded CI
    // machine does not make it flaky.
    let late: Vec<_> = answered
        .iter()
        .filter(|(at, tier)| *tier > up_tier(at.saturating_sub(100)))
        .collect();
    assert!(
        late.len() <= 6,
        "answered below the best recovered tier: {late:?} of {answered:?}"
    );
    let tiers: Vec<usize> = answered.iter().map(|(_, t)| *t).collect();
    assert!(tiers.contains(&3) && tiers.contains(&1), "{answered:?}");
    assert_eq!(*tiers.last().unwrap(), 0, "ends on Opus 4.8: {answered:?}");
    // A down model is called only a few times per outage: failures until its breaker opens,
    // then probes — not once per request.
    let requests = answered.len();
    let opus48 = emu.count("claude-opus-4-8");
    assert!(
        opus48 < requests,
        "opus 4.8 got {opus48} calls for {requests} requests"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_major_outage_lowers_priority_but_is_only_a_hint() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = config_text(
        &emu.base_url(),
        r#"default = ["anthropic/primary", "openai/fallback"]"#,
        "",
    )
    .replace(
        "[providers.openai]",
        &format!(
            "status_page = \"{}/status/claude/api/v2/summary.json\"\n[providers.openai]",
            emu.base_url()
        ),
    );
    emu.set_status_page(
        "claude",
        serde_json::json!({"status": {"indicator": "major"},
            "components": [{"id": "k8w3r06qmzrp", "name": "Claude API", "status": "major_outage", "group": false}]}),
    );
    emu.set_script("primary", Script::reply("primary answers"));
    emu.set_script("fallback", Script::reply("fallback answers"));
    let r = router(settings(&text, dir.path()));
    let route = [m("anthropic/primary"), m("openai/fallback")];
    // The first request starts the (background) status check; once known, the provider in
    // major outage is tried after the others.
    let (res, _) = ask(&r, &route, "hi").await;
    res.unwrap();
    r.finish_background(Duration::from_secs(2)).await;
    assert_eq!(emu.status_requests("claude"), 1);
    let (res, _) = ask(&r, &route, "hi").await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    // Only a hint: when the others fail, the "down" provider is still tried, and answers.
    emu.set_script("fallback", Script::always(Action::error(ErrorKind::Server)));
    let (res, _) = ask(&r, &route, "hi").await;
    assert_eq!(res.unwrap().model, "anthropic/primary");
    // Polled at most once per interval, not per request.
    r.finish_background(Duration::from_secs(2)).await;
    assert_eq!(emu.status_requests("claude"), 1);
}
