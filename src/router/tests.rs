//! Router unit tests on virtual time: what providers said (retry hints, reset headers)
//! remembered across "processes" (two routers on one state dir), the quality tripwire, the
//! fallback policies and the retry budget. (Breakers and probes on virtual time are in the
//! integration tests' `router` module.) The emulator answers at once; the clock only
//! moves when a test (or a router's own wait) moves it, so nothing here sleeps.

use std::sync::Arc;
use std::time::Duration;

use aiw_emulator::{Action, Emulator, ErrorKind, ErrorReply, Reply, Script};
use tokio_util::sync::CancellationToken;

use super::health::HealthStore;
use super::journal::Journal;
use super::*;
use crate::config::{FileConfig, Paths, Settings};
use crate::provider::{ChatRequest, ErrorClass, Tool, ToolChoice};
use crate::time::rfc3339;

fn settings(base: &str, routes: &str, dir: &std::path::Path) -> Settings {
    let text = format!(
        r#"
[providers.anthropic]
base_url = "{base}"
[providers.openai]
base_url = "{base}/v1"
[providers.gemini]
base_url = "{base}"
[routes]
{routes}
[timeouts]
connect = "2s"
first_token = "5s"
stall = "5s"
[health]
base_open = "10s"
max_open = "40s"
max_retry_wait = "5s"
"#
    );
    let paths = Paths {
        config_file: dir.join("config.toml"),
        data_dir: dir.join("data"),
        state_dir: dir.join("state"),
    };
    let cfg = FileConfig::parse(&text, &paths.config_file).unwrap();
    Settings::resolve(cfg, paths, true, Vec::new(), &|k| {
        k.ends_with("_API_KEY").then(|| "test-key".to_string())
    })
    .unwrap()
}

fn m(s: &str) -> ModelRef {
    ModelRef::parse(s).unwrap()
}

/// A new "process": its own router, on the shared state dir, on `clock`.
fn process(s: &Settings, clock: &Clock) -> Router {
    Router::with_clock(
        Arc::new(s.clone()),
        HealthStore::open(&s.paths.state_dir),
        Journal::disabled(),
        clock.clone(),
    )
    .expect("the HTTP client builds")
}

struct Fx {
    emu: Emulator,
    _dir: tempfile::TempDir,
    settings: Settings,
    clock: Clock,
    route: Vec<ModelRef>,
}

impl Fx {
    async fn new(primary: &str, fallback: &str) -> Self {
        let emu = Emulator::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let route = format!(r#"default = ["{primary}", "{fallback}"]"#);
        let settings = settings(&emu.base_url(), &route, dir.path());
        emu.set_script("fallback", Script::reply("from the fallback"));
        Self {
            emu,
            _dir: dir,
            settings,
            clock: Clock::virtual_now(),
            route: vec![m(primary), m(fallback)],
        }
    }

    async fn two() -> Self {
        Self::new("anthropic/primary", "openai/fallback").await
    }

    fn router(&self) -> Router {
        process(&self.settings, &self.clock)
    }

    fn advance_ms(&self, ms: u64) {
        self.clock.advance(Duration::from_millis(ms));
    }
}

async fn ask(
    r: &Router,
    route: &[ModelRef],
    req: &ChatRequest,
) -> (Result<Answer, AllModelsFailed>, Vec<RouterEvent>) {
    let mut events = Vec::new();
    let mut on = |e: RouterEvent| events.push(e);
    let res = r.run(route, req, &mut on, &CancellationToken::new()).await;
    (res, events)
}

fn hi() -> ChatRequest {
    ChatRequest::user("hi")
}

fn rate_limited(retry_after: &str) -> Action {
    ErrorReply::new(ErrorKind::RateLimited)
        .retry_after(retry_after)
        .into()
}

#[tokio::test]
async fn retry_after_is_honoured_by_a_second_process_until_it_passes() {
    // See: issue 14 (the held-out failover scenarios: a new process 1.5 s after a 429 with
    // `retry-after: 2` called the same model again).
    let f = Fx::two().await;
    f.emu.set_script(
        "primary",
        Script::sequence(vec![rate_limited("2"), Action::reply("primary is back")]),
    );
    let first = f.router();
    let (res, _) = ask(&first, &f.route, &hi()).await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    assert_eq!(f.emu.count("primary"), 1);

    f.advance_ms(1_500);
    let second = f.router();
    let (res, events) = ask(&second, &f.route, &hi()).await;
    let a = res.unwrap();
    assert_eq!(a.model, "openai/fallback");
    assert_eq!(f.emu.count("primary"), 1, "skipped, not called");
    assert_eq!(a.attempts[0].outcome, Outcome::Skipped);
    assert_eq!(a.attempts[0].error_class, Some(ErrorClass::RateLimited));
    assert!(events.iter().any(|e| matches!(e,
        RouterEvent::Skipped { reason, .. } if reason.starts_with("rate limited until"))));
    // `aiw status` sees it too.
    let h = second.health(&f.route);
    assert_eq!(
        h[0].rate_limited_until.as_deref(),
        Some(rfc3339(f.clock.now_ms() + 500).as_str())
    );

    f.advance_ms(500);
    let third = f.router();
    let (res, _) = ask(&third, &f.route, &hi()).await;
    assert_eq!(res.unwrap().text(), "primary is back");
    assert_eq!(f.emu.count("primary"), 2);
    assert_eq!(third.health(&f.route)[0].rate_limited_until, None);
}

#[tokio::test]
async fn a_short_remembered_wait_is_waited_out_when_nothing_else_can_answer() {
    let f = Fx::two().await;
    f.emu.set_script(
        "primary",
        Script::sequence(vec![rate_limited("3"), Action::reply("worth the wait")]),
    );
    let (res, _) = ask(&f.router(), &f.route, &hi()).await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    f.advance_ms(1_000);
    // The fallback is down now: the primary's remaining 2 s are waited out (on the virtual
    // clock), rather than failing.
    f.emu
        .set_script("fallback", Script::always(Action::error(ErrorKind::Server)));
    let before = f.clock.now_ms();
    let (res, events) = ask(&f.router(), &f.route, &hi()).await;
    assert_eq!(res.unwrap().text(), "worth the wait");
    assert!(f.clock.now_ms() >= before + 2_000, "it waited");
    // What is left of the 3 s (the fallback's own quick retry took a moment of it).
    assert!(events.iter().any(|e| matches!(e,
        RouterEvent::Retrying { model, after, .. }
            if model.model == "primary"
                && *after > Duration::from_millis(1_500)
                && *after <= Duration::from_millis(2_000))));
    assert_eq!(f.emu.count("primary"), 2);
}

#[tokio::test]
async fn a_long_remembered_wait_is_never_waited_for() {
    let f = Fx::two().await;
    f.emu
        .set_script("primary", Script::always(rate_limited("60")));
    let (res, _) = ask(&f.router(), &f.route, &hi()).await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    f.advance_ms(10_000);
    let (res, _) = ask(&f.router(), &f.route[..1], &hi()).await;
    let e = res.unwrap_err();
    assert_eq!(
        f.emu.count("primary"),
        1,
        "not hammered, even alone in its route"
    );
    assert!(e.to_string().contains("rate limited until"), "{e}");
    f.advance_ms(50_001);
    let _ = ask(&f.router(), &f.route[..1], &hi()).await;
    assert!(
        f.emu.count("primary") >= 2,
        "called again once the minute is over"
    );
}

/// A 429 whose only hint is `hint` (headers or body) keeps `primary` out for about 3 s.
async fn reset_hint_case(primary: &str, fallback: &str, hint: ErrorReply) {
    let f = Fx::new(primary, fallback).await;
    f.emu.set_script(
        "primary",
        Script::sequence(vec![hint.into(), Action::reply("primary is back")]),
    );
    let (res, _) = ask(&f.router(), &f.route, &hi()).await;
    assert_eq!(res.unwrap().model, f.route[1].to_string(), "{primary}");
    f.advance_ms(1_000);
    let (res, _) = ask(&f.router(), &f.route, &hi()).await;
    assert_eq!(res.unwrap().model, f.route[1].to_string(), "{primary}");
    assert_eq!(
        f.emu.count("primary"),
        1,
        "{primary}: skipped inside the reset"
    );
    f.advance_ms(3_000);
    let (res, _) = ask(&f.router(), &f.route, &hi()).await;
    assert_eq!(res.unwrap().text(), "primary is back", "{primary}");
}

#[tokio::test]
async fn anthropic_rate_limit_reset_headers_are_remembered() {
    // The reset is an absolute RFC 3339 time in the provider's (real) clock.
    let reset = rfc3339(Clock::system().now_ms() + 3_000);
    reset_hint_case(
        "anthropic/primary",
        "openai/fallback",
        ErrorReply::new(ErrorKind::RateLimited)
            .header("anthropic-ratelimit-requests-remaining", "0")
            .header("anthropic-ratelimit-requests-reset", &reset)
            .header("anthropic-ratelimit-tokens-remaining", "5000")
            .header("anthropic-ratelimit-tokens-reset", &rfc3339(0)),
    )
    .await;
}

#[tokio::test]
async fn openai_rate_limit_reset_headers_are_remembered() {
    reset_hint_case(
        "openai/primary",
        "anthropic/fallback",
        ErrorReply::new(ErrorKind::RateLimited)
            .header("x-ratelimit-remaining-requests", "17")
            .header("x-ratelimit-reset-requests", "20ms")
            .header("x-ratelimit-remaining-tokens", "0")
            .header("x-ratelimit-reset-tokens", "2.5s"),
    )
    .await;
}

#[tokio::test]
async fn gemini_retry_info_is_remembered() {
    reset_hint_case(
        "gemini/primary",
        "openai/fallback",
        ErrorReply::new(ErrorKind::RateLimited).retry_delay("2.5s"),
    )
    .await;
}

/// Three answers in a row that trip the tripwire are still given, then the model is out.
async fn tripwire_case(reply: Reply, req: &ChatRequest, what: &str) {
    let f = Fx::two().await;
    let r = f.router();
    f.emu.set_script("primary", Script::always(reply.into()));
    for _ in 0..3 {
        let (res, _) = ask(&r, &f.route, req).await;
        assert_eq!(
            res.unwrap().model,
            "anthropic/primary",
            "{what}: the answer given stands"
        );
        f.advance_ms(1_000);
    }
    let (res, events) = ask(&r, &f.route, req).await;
    assert_eq!(
        res.unwrap().model,
        "openai/fallback",
        "{what}: degraded like a slow model"
    );
    assert_eq!(f.emu.count("primary"), 3, "{what}");
    assert!(
        events.iter().any(|e| matches!(e,
            RouterEvent::Skipped { reason, .. } if reason.contains("answers in a row were degraded"))),
        "{what}: {events:?}"
    );
}

#[tokio::test]
async fn empty_answers_trip_the_quality_tripwire() {
    tripwire_case(Reply::new(""), &hi(), "empty").await;
}

#[tokio::test]
async fn missing_required_tool_calls_trip_the_quality_tripwire() {
    let req = ChatRequest {
        tools: vec![Tool {
            name: "grep".into(),
            description: "search".into(),
            input_schema: serde_json::json!({"type": "object", "properties": {}}),
        }],
        tool_choice: Some(ToolChoice::Any),
        ..hi()
    };
    tripwire_case(
        Reply::new("I would search, but I won't."),
        &req,
        "no tool call",
    )
    .await;
}

#[tokio::test]
async fn early_max_tokens_stops_trip_the_quality_tripwire() {
    let req = ChatRequest {
        max_tokens: Some(1000),
        ..hi()
    };
    let reply = Reply::new("Cut after a few").max_tokens_stop().usage(10, 4);
    tripwire_case(reply, &req, "early max_tokens").await;
}

#[tokio::test]
async fn normal_answers_never_trip_it() {
    let f = Fx::two().await;
    let r = f.router();
    f.emu.set_script("primary", Script::reply("a fine answer"));
    let req = ChatRequest {
        max_tokens: Some(1000),
        ..hi()
    };
    for _ in 0..10 {
        let (res, _) = ask(&r, &f.route, &req).await;
        assert_eq!(res.unwrap().model, "anthropic/primary");
        f.advance_ms(1_000);
    }
}

#[tokio::test]
async fn fallback_off_fails_instead_of_falling_back() {
    let f = Fx::two().await;
    let r = f.router().with_fallback(FallbackPolicy::Off);
    f.emu
        .set_script("primary", Script::always(Action::error(ErrorKind::Server)));
    let (res, events) = ask(&r, &f.route, &hi()).await;
    let e = res.unwrap_err();
    assert_eq!(f.emu.count("fallback"), 0);
    assert_eq!(
        e.held_back,
        Some(HeldBack {
            model: "openai/fallback".into(),
            tier: 1,
            policy: FallbackPolicy::Off,
        })
    );
    assert!(
        e.to_string()
            .contains("did not fall back to openai/fallback")
    );
    assert!(
        !events
            .iter()
            .any(|ev| matches!(ev, RouterEvent::Degraded { .. }))
    );
    // The primary still answers when it can.
    f.emu.set_script("primary", Script::reply("primary"));
    let (res, _) = ask(&r, &f.route, &hi()).await;
    assert_eq!(res.unwrap().model, "anthropic/primary");
}

#[tokio::test]
async fn fallback_ask_stops_before_the_lower_tier_without_calling_a_dead_primary() {
    let f = Fx::two().await;
    let auto = f.router();
    f.emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    for _ in 0..3 {
        let _ = ask(&auto, &f.route, &hi()).await;
    }
    assert_eq!(f.emu.count("primary"), 3, "its breaker is open now");
    let asking = auto.with_fallback(FallbackPolicy::Ask);
    let (res, _) = ask(&asking, &f.route, &hi()).await;
    let e = res.unwrap_err();
    assert_eq!(
        e.held_back.as_ref().map(|h| h.policy),
        Some(FallbackPolicy::Ask)
    );
    assert_eq!(
        f.emu.count("primary"),
        3,
        "no last-resort call: the user decides"
    );
    assert_eq!(f.emu.count("fallback"), 3);
    // The user agreed: the same router, fallback allowed.
    let (res, _) = ask(&asking.with_fallback(FallbackPolicy::Auto), &f.route, &hi()).await;
    assert_eq!(res.unwrap().model, "openai/fallback");
}

#[tokio::test]
async fn every_switch_to_a_lower_tier_is_announced_once() {
    let f = Fx::two().await;
    let r = f.router().with_fallback(FallbackPolicy::Notify);
    f.emu
        .set_script("primary", Script::always(Action::error(ErrorKind::Server)));
    let (res, events) = ask(&r, &f.route, &hi()).await;
    assert_eq!(res.unwrap().model, "openai/fallback");
    let degraded: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            RouterEvent::Degraded {
                primary,
                to,
                tier,
                policy,
            } => Some((primary.to_string(), to.to_string(), *tier, *policy)),
            _ => None,
        })
        .collect();
    assert_eq!(
        degraded,
        vec![(
            "anthropic/primary".into(),
            "openai/fallback".into(),
            1,
            FallbackPolicy::Notify
        )]
    );
    // Announced before the lower tier is called.
    let at = |f: &dyn Fn(&RouterEvent) -> bool| events.iter().position(f).unwrap();
    assert!(
        at(&|e| matches!(e, RouterEvent::Degraded { .. }))
            < at(&|e| matches!(e, RouterEvent::Attempting { tier: 1, .. }))
    );
}

#[tokio::test]
async fn the_retry_budget_refills_on_the_router_clock() {
    let f = Fx::two().await;
    let r = f.router();
    f.emu
        .set_script("primary", Script::always(Action::error(ErrorKind::Server)));
    let alone = &f.route[..1];
    // Default budget: 6 quick retries a minute, shared by every request.
    for _ in 0..8 {
        let _ = ask(&r, alone, &hi()).await;
        f.emu.clear_requests();
    }
    let (_, events) = ask(&r, alone, &hi()).await;
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, RouterEvent::Retrying { .. })),
        "budget spent"
    );
    f.advance_ms(30_000);
    let (_, events) = ask(&r, alone, &hi()).await;
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RouterEvent::Retrying { .. })),
        "refilled after half a minute"
    );
}
