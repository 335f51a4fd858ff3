//! Pure `update()` tests with no terminal: keys to actions to state, model switching keeps the
//! draft, cancel, failover messages and the banner, stale stream messages dropped, slash
//! commands and the effects they ask for, quitting.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use crate::config::ModelRef;
use crate::provider::{Block, ErrorClass, Message, ProviderError, Role, Usage};
use crate::router::{AllModelsFailed, Answer, HealthState, ModelHealth, RouterEvent, Segment};

use super::*;

pub(crate) fn m(s: &str) -> ModelRef {
    ModelRef::parse(s).unwrap()
}

pub(crate) const OPUS: &str = "anthropic/claude-opus-4-8";
pub(crate) const GPT: &str = "openai/gpt-5.5";
pub(crate) const LOCAL: &str = "local/smollm2-135m";

/// An app on route `default` = opus, gpt, local (and a second route `fast`).
pub(crate) fn test_app() -> App {
    let mut routes = BTreeMap::new();
    routes.insert("default".to_string(), vec![m(OPUS), m(GPT), m(LOCAL)]);
    routes.insert(
        "fast".to_string(),
        vec![m("gemini/gemini-2.5-flash"), m(LOCAL)],
    );
    let mut providers = BTreeMap::new();
    for (p, local) in [
        ("anthropic", false),
        ("openai", false),
        ("gemini", false),
        ("local", true),
    ] {
        providers.insert(p.to_string(), local);
    }
    let mut session = Session::new(None, Some("default".into()));
    session.id = "test-session".into();
    App::new(Init {
        session,
        route_name: "default".into(),
        routes,
        providers,
        pinned: None,
        keymap: KeyMap::default(),
        warnings: Vec::new(),
        now: Instant::now(),
        wall: SystemTime::UNIX_EPOCH + Duration::from_secs(1_760_000_000),
    })
}

pub(crate) fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        update(app, Msg::Action(Action::Insert(c)));
    }
}

pub(crate) fn err(class: ErrorClass, status: Option<u16>) -> ProviderError {
    ProviderError {
        class,
        message: "overloaded_error: Overloaded".into(),
        status,
        retry_after: None,
        should_retry: None,
        request_id: None,
    }
}

pub(crate) fn answer(model: &str, text: &str, degraded: bool) -> Answer {
    Answer {
        blocks: vec![Block::text(text)],
        model: model.into(),
        segments: vec![Segment {
            model: model.into(),
            blocks: vec![Block::text(text)],
        }],
        attempts: Vec::new(),
        usage: Usage {
            input_tokens: 100,
            output_tokens: 20,
        },
        ttft_ms: Some(300),
        total_ms: 900,
        degraded,
        stop: crate::provider::StopReason::EndTurn,
        served_model: None,
    }
}

pub(crate) fn text_ev(id: RequestId, model: &str, text: &str) -> Msg {
    Msg::Router {
        id,
        event: RouterEvent::Text {
            model: m(model),
            text: text.into(),
        },
    }
}

/// Sends `prompt` and returns the request id.
pub(crate) fn ask(app: &mut App, prompt: &str) -> RequestId {
    typed(app, prompt);
    let fx = update(app, Msg::Action(Action::Send));
    fx.iter()
        .find_map(|e| match e {
            Effect::Start { id, .. } => Some(*id),
            _ => None,
        })
        .expect("send starts a request")
}

fn flash(app: &App) -> String {
    app.flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default()
}

#[test]
fn send_writes_the_turn_then_starts_the_request() {
    let mut app = test_app();
    typed(&mut app, "hello");
    let fx = update(&mut app, Msg::Action(Action::Send));
    assert_eq!(fx.len(), 2, "{fx:?}");
    assert!(matches!(&fx[0], Effect::SaveUser(t) if t == "hello"));
    match &fx[1] {
        Effect::Start { id, route, request } => {
            assert_eq!(*id, 1);
            assert_eq!(route, &vec![m(OPUS), m(GPT), m(LOCAL)]);
            let last = request.messages.last().unwrap();
            assert_eq!((last.role, last.text().as_str()), (Role::User, "hello"));
        }
        other => panic!("{other:?}"),
    }
    assert!(app.editor.is_empty());
    assert_eq!(app.session.turns.len(), 1);
    assert!(matches!(app.phase, Phase::Busy(_)));
}

#[test]
fn empty_input_sends_nothing() {
    let mut app = test_app();
    typed(&mut app, "   ");
    assert!(update(&mut app, Msg::Action(Action::Send)).is_empty());
    assert!(app.session.turns.is_empty());
}

#[test]
fn streamed_text_then_answer_is_saved() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Attempting {
                model: m(OPUS),
                tier: 0,
            },
        },
    );
    update(&mut app, text_ev(id, OPUS, "Hel"));
    update(&mut app, text_ev(id, OPUS, "lo"));
    match &app.phase {
        Phase::Busy(p) => assert_eq!(p.text(), "Hello"),
        Phase::Idle => panic!("should be busy"),
    }
    let fx = update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "Hello", false)),
        },
    );
    assert!(matches!(&fx[..], [Effect::SaveAnswer(r)] if r.text() == "Hello" && !r.partial));
    assert!(matches!(app.phase, Phase::Idle));
    let a = app.session.turns[0].answer.as_ref().unwrap();
    assert_eq!(a.model, OPUS);
    assert_eq!(app.tokens_used(), 120);
    assert!(app.banner.is_none());
}

#[test]
fn esc_cancels_keeps_the_partial_and_drops_stale_chunks() {
    let mut app = test_app();
    let id = ask(&mut app, "long answer please");
    update(&mut app, text_ev(id, OPUS, "partial text"));
    let fx = update(&mut app, Msg::Action(Action::Cancel));
    assert!(matches!(fx[0], Effect::Cancel { id: c } if c == id));
    assert!(matches!(&fx[1], Effect::SaveAnswer(r) if r.partial && r.text() == "partial text"));
    assert!(matches!(app.phase, Phase::Idle));
    // Chunks and the end of the cancelled request arrive late: ignored.
    assert!(update(&mut app, text_ev(id, OPUS, " more")).is_empty());
    let late = update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "partial text more", false)),
        },
    );
    assert!(late.is_empty());
    let a = app.session.turns[0].answer.as_ref().unwrap();
    assert_eq!(a.text(), "partial text");
    assert!(a.partial);
    // A new request is not disturbed by the old one's events either.
    let id2 = ask(&mut app, "again");
    assert_ne!(id, id2);
    update(&mut app, text_ev(id, OPUS, "stale"));
    update(&mut app, text_ev(id2, OPUS, "fresh"));
    match &app.phase {
        Phase::Busy(p) => assert_eq!(p.text(), "fresh"),
        Phase::Idle => panic!("should be busy"),
    }
}

#[test]
fn failover_sets_the_banner_and_a_reason_line() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Failover {
                from: m(OPUS),
                to: Some(m(GPT)),
                error: err(ErrorClass::Overloaded, Some(529)),
                mid_stream: false,
            },
        },
    );
    assert_eq!(
        app.banner.as_ref().map(|b| b.text.as_str()),
        Some("anthropic/claude-opus-4-8 is down: answering with openai/gpt-5.5")
    );
    assert_eq!(
        app.extras[0].notes[0].text,
        "529 overloaded from anthropic/claude-opus-4-8, switched to openai/gpt-5.5"
    );
    update(&mut app, text_ev(id, GPT, "answer"));
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(GPT, "answer", true)),
        },
    );
    // Still degraded: the banner stays until the primary answers again.
    assert!(app.banner.is_some());
    let id = ask(&mut app, "next");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "ok", false)),
        },
    );
    assert!(app.banner.is_none());
}

#[test]
fn failover_to_local_and_from_a_pinned_model_say_so() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Failover {
                from: m(GPT),
                to: Some(m(LOCAL)),
                error: err(ErrorClass::Connection, None),
                mid_stream: false,
            },
        },
    );
    let b = app.banner.clone().unwrap().text;
    assert!(
        b.contains("answering locally with local/smollm2-135m"),
        "{b}"
    );
    update(&mut app, Msg::Action(Action::Cancel));

    update(&mut app, Msg::Action(Action::Pin(2)));
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Failover {
                from: m(GPT),
                to: Some(m(OPUS)),
                error: err(ErrorClass::RateLimited, Some(429)),
                mid_stream: false,
            },
        },
    );
    let b = app.banner.clone().unwrap().text;
    assert_eq!(
        b,
        "pinned openai/gpt-5.5 failed (429 rate_limited): failing over to anthropic/claude-opus-4-8"
    );
}

#[test]
fn mid_stream_failover_makes_a_seam() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(&mut app, text_ev(id, OPUS, "first half "));
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Failover {
                from: m(OPUS),
                to: Some(m(GPT)),
                error: err(ErrorClass::StallTimeout, None),
                mid_stream: true,
            },
        },
    );
    update(&mut app, text_ev(id, GPT, "second half"));
    match &app.phase {
        Phase::Busy(p) => {
            assert_eq!(p.segments.len(), 2);
            assert_eq!(p.segments[1].model, GPT);
        }
        Phase::Idle => panic!("busy"),
    }
    assert!(app.extras[0].notes[0].text.contains("mid-answer"));
}

#[test]
fn retry_skip_and_config_problems_become_notes() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    for event in [
        RouterEvent::Retrying {
            model: m(OPUS),
            after: Duration::from_secs(2),
            error: err(ErrorClass::Overloaded, Some(529)),
        },
        RouterEvent::Skipped {
            model: m(GPT),
            reason: "circuit open until 14:03:10".into(),
        },
        RouterEvent::ConfigProblem {
            model: m(GPT),
            error: err(ErrorClass::Auth, Some(401)),
        },
    ] {
        update(&mut app, Msg::Router { id, event });
    }
    let notes: Vec<&str> = app.extras[0]
        .notes
        .iter()
        .map(|n| n.text.as_str())
        .collect();
    assert_eq!(
        notes[0],
        "529 overloaded from anthropic/claude-opus-4-8, retrying in 2.0s"
    );
    assert_eq!(
        notes[1],
        "skipped openai/gpt-5.5: circuit open until 14:03:10"
    );
    assert!(notes[2].contains("aiw config check"), "{}", notes[2]);
    assert_eq!(app.extras[0].notes[2].level, Level::Error);
}

#[test]
fn all_models_failed_keeps_partial_text() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    let fx = update(
        &mut app,
        Msg::Finished {
            id,
            result: Err(AllModelsFailed {
                attempts: Vec::new(),
                partial: vec![Segment {
                    model: OPUS.into(),
                    blocks: vec![Block::text("half")],
                }],
                held_back: None,
            }),
        },
    );
    assert!(matches!(&fx[..], [Effect::SaveAnswer(r)] if r.partial && r.text() == "half"));
    assert_eq!(app.banner.as_ref().map(|b| b.level), Some(Level::Error));
}

#[test]
fn switching_models_keeps_the_draft() {
    let mut app = test_app();
    typed(&mut app, "my draft");
    update(&mut app, Msg::Action(Action::NextModel));
    assert_eq!(app.mode, Mode::Pinned(m(GPT)));
    update(&mut app, Msg::Action(Action::NextModel));
    assert_eq!(app.mode, Mode::Pinned(m(LOCAL)));
    update(&mut app, Msg::Action(Action::NextModel));
    assert_eq!(app.mode, Mode::Pinned(m(OPUS)));
    update(&mut app, Msg::Action(Action::PrevModel));
    assert_eq!(app.mode, Mode::Pinned(m(LOCAL)));
    update(&mut app, Msg::Action(Action::Pin(2)));
    assert_eq!(app.mode, Mode::Pinned(m(GPT)));
    assert_eq!(app.effective_route(), vec![m(GPT), m(OPUS), m(LOCAL)]);
    update(&mut app, Msg::Action(Action::Pin(9)));
    assert_eq!(app.mode, Mode::Pinned(m(GPT)));
    assert!(flash(&app).contains("has 3 model(s)"));
    update(&mut app, Msg::Action(Action::ToggleAuto));
    assert_eq!(app.mode, Mode::Auto);
    update(&mut app, Msg::Action(Action::ToggleAuto));
    assert_eq!(app.mode, Mode::Pinned(m(GPT)));
    update(&mut app, Msg::Action(Action::Picker));
    typed(&mut app, "opus");
    update(&mut app, Msg::Action(Action::Send));
    assert_eq!(app.mode, Mode::Pinned(m(OPUS)));
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.editor.text(), "my draft");
}

#[test]
fn switching_while_answering_applies_to_the_next_message() {
    let mut app = test_app();
    let _ = ask(&mut app, "hi");
    update(&mut app, Msg::Action(Action::NextModel));
    assert!(flash(&app).contains("from the next message"));
    assert!(matches!(app.phase, Phase::Busy(_)));
}

#[test]
fn picker_filters_fuzzily_and_offers_auto() {
    let app = test_app();
    let rows = app.picker_rows("");
    assert_eq!(rows[0], None);
    assert_eq!(rows.len(), 5); // auto + 3 route models + gemini from route `fast`
    let rows = app.picker_rows("g55");
    assert_eq!(rows.first(), Some(&Some(m(GPT))));
    assert!(app.picker_rows("zzz").is_empty());
}

#[test]
fn picker_auto_row_returns_to_auto() {
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Pin(2)));
    update(&mut app, Msg::Action(Action::Picker));
    update(&mut app, Msg::Action(Action::Send));
    assert_eq!(app.mode, Mode::Auto);
    update(&mut app, Msg::Action(Action::Picker));
    update(&mut app, Msg::Action(Action::Cancel));
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn quit_needs_ctrl_c_twice() {
    let mut app = test_app();
    let fx = update(&mut app, Msg::Action(Action::Quit));
    assert!(!fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert!(!app.quitting);
    assert!(flash(&app).contains("again"));
    let fx = update(&mut app, Msg::Action(Action::Quit));
    assert!(fx.iter().any(|e| matches!(e, Effect::Quit)));
    assert!(app.quitting);
}

#[test]
fn quit_window_expires_and_other_keys_disarm() {
    let mut app = test_app();
    let t0 = app.now;
    update(&mut app, Msg::Action(Action::Quit));
    update(
        &mut app,
        Msg::Tick {
            now: t0 + Duration::from_secs(3),
            wall: SystemTime::now(),
        },
    );
    assert!(update(&mut app, Msg::Action(Action::Quit)).is_empty());
    update(&mut app, Msg::Action(Action::Insert('x')));
    assert!(
        !update(&mut app, Msg::Action(Action::Quit))
            .iter()
            .any(|e| matches!(e, Effect::Quit))
    );
}

#[test]
fn first_ctrl_c_cancels_a_running_answer() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    let fx = update(&mut app, Msg::Action(Action::Quit));
    assert!(matches!(fx[0], Effect::Cancel { id: c } if c == id));
    assert!(!app.quitting);
}

#[test]
fn ctrl_d_quits_only_on_empty_input() {
    let mut app = test_app();
    typed(&mut app, "ab");
    update(&mut app, Msg::Action(Action::Left));
    assert!(update(&mut app, Msg::Action(Action::QuitIfEmpty)).is_empty());
    assert_eq!(app.editor.text(), "a");
    update(&mut app, Msg::Action(Action::Backspace));
    let fx = update(&mut app, Msg::Action(Action::QuitIfEmpty));
    assert!(matches!(&fx[..], [Effect::Quit]));
}

#[test]
fn question_mark_is_help_only_on_empty_input() {
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Insert('?')));
    assert_eq!(app.overlay, Overlay::Help);
    update(&mut app, Msg::Action(Action::Cancel));
    assert_eq!(app.overlay, Overlay::None);
    typed(&mut app, "why?");
    assert_eq!(app.editor.text(), "why?");
    assert_eq!(app.overlay, Overlay::None);
}

#[test]
fn newline_and_history() {
    let mut app = test_app();
    typed(&mut app, "a");
    update(&mut app, Msg::Action(Action::Newline));
    typed(&mut app, "b");
    assert_eq!(app.editor.text(), "a\nb");
    let id = ask(&mut app, "");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "x", false)),
        },
    );
    typed(&mut app, "new");
    update(&mut app, Msg::Action(Action::Up));
    assert_eq!(app.editor.text(), "a\nb");
    update(&mut app, Msg::Action(Action::Down));
    assert_eq!(app.editor.text(), "new");
}

#[test]
fn send_while_busy_keeps_the_draft() {
    let mut app = test_app();
    let _ = ask(&mut app, "one");
    typed(&mut app, "two");
    assert!(update(&mut app, Msg::Action(Action::Send)).is_empty());
    assert_eq!(app.editor.text(), "two");
    assert!(flash(&app).contains("Esc"));
}

#[test]
fn streaming_answers_are_checkpointed_every_second() {
    let mut app = test_app();
    let t0 = app.now;
    let id = ask(&mut app, "hi");
    update(&mut app, text_ev(id, OPUS, "abc"));
    let tick = |app: &mut App, ms| {
        update(
            app,
            Msg::Tick {
                now: t0 + Duration::from_millis(ms),
                wall: SystemTime::now(),
            },
        )
    };
    assert!(tick(&mut app, 500).is_empty());
    let fx = tick(&mut app, 1100);
    assert!(
        matches!(&fx[..], [Effect::SavePartial { text, model }] if text == "abc" && model == OPUS)
    );
    // Nothing new: no second checkpoint.
    assert!(tick(&mut app, 2500).is_empty());
}

#[test]
fn reask_uses_another_model_without_the_old_answer() {
    let mut app = test_app();
    let id = ask(&mut app, "q1");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "a1", false)),
        },
    );
    let id = ask(&mut app, "q2");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "a2", false)),
        },
    );
    let fx = update(&mut app, Msg::Action(Action::Reask));
    assert_eq!(app.mode, Mode::Pinned(m(GPT)));
    match &fx[1] {
        Effect::Start { route, request, .. } => {
            assert_eq!(route[0], m(GPT));
            let texts: Vec<String> = request.messages.iter().map(Message::text).collect();
            assert_eq!(texts, vec!["q1", "a1", "q2"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.session.turns.len(), 3);
}

#[test]
fn copy_code_copies_the_last_block() {
    let mut app = test_app();
    assert!(update(&mut app, Msg::Action(Action::CopyCode)).is_empty());
    let id = ask(&mut app, "code");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(
                OPUS,
                "```rust\nfn a() {}\n```\n```sh\nls\n```",
                false,
            )),
        },
    );
    let fx = update(&mut app, Msg::Action(Action::CopyCode));
    assert!(matches!(&fx[..], [Effect::Copy(c)] if c == "ls\n"));
}

#[test]
fn slash_commands_produce_effects() {
    let mut app = test_app();
    let cmd = |app: &mut App, c: &str| {
        typed(app, c);
        update(app, Msg::Action(Action::Send))
    };
    assert!(cmd(&mut app, "/model gpt").is_empty());
    assert_eq!(app.mode, Mode::Pinned(m(GPT)));
    cmd(&mut app, "/model auto");
    assert_eq!(app.mode, Mode::Auto);
    cmd(&mut app, "/model nosuch");
    assert!(flash(&app).contains("no model `nosuch`"));
    cmd(&mut app, "/model openai/gpt-4.1");
    assert_eq!(app.mode, Mode::Pinned(m("openai/gpt-4.1")));
    cmd(&mut app, "/model o");
    assert!(flash(&app).contains("be more specific"), "{}", flash(&app));
    cmd(&mut app, "/route fast");
    assert_eq!(app.route_name, "fast");
    assert_eq!(app.mode, Mode::Auto);
    cmd(&mut app, "/route nope");
    assert!(flash(&app).contains("configured routes: default, fast"));
    assert!(
        matches!(&cmd(&mut app, "/add src/main.rs")[..], [Effect::AttachFile(p)] if p.to_str() == Some("src/main.rs"))
    );
    assert!(cmd(&mut app, "/add").is_empty());
    assert!(matches!(&cmd(&mut app, "/diff")[..], [Effect::AttachDiff]));
    assert!(matches!(&cmd(&mut app, "/save")[..], [Effect::Save]));
    assert!(
        matches!(&cmd(&mut app, "/export out.md")[..], [Effect::Export { path, markdown }] if path.to_str() == Some("out.md") && markdown.contains("test-session"))
    );
    cmd(&mut app, "/status");
    assert_eq!(app.overlay, Overlay::Status);
    update(&mut app, Msg::Action(Action::Cancel));
    cmd(&mut app, "/help");
    assert_eq!(app.overlay, Overlay::Help);
    update(&mut app, Msg::Action(Action::Cancel));
    cmd(&mut app, "/frobnicate now");
    assert!(flash(&app).starts_with("unknown command /frobnicate; try /model NAME"));
    assert!(app.session.turns.is_empty(), "commands are not sent");
}

#[test]
fn double_slash_sends_a_literal_slash() {
    let mut app = test_app();
    typed(&mut app, "//etc/hosts is what?");
    let fx = update(&mut app, Msg::Action(Action::Send));
    assert!(matches!(&fx[0], Effect::SaveUser(t) if t == "/etc/hosts is what?"));
}

#[test]
fn clear_empties_the_transcript() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(&mut app, text_ev(id, OPUS, "x"));
    typed(&mut app, "/clear");
    let fx = update(&mut app, Msg::Action(Action::Send));
    assert!(matches!(fx[0], Effect::Cancel { .. }));
    assert!(matches!(fx.last(), Some(Effect::SaveClear)));
    assert!(app.session.turns.is_empty());
    assert!(app.extras.is_empty());
}

#[test]
fn attachments_are_recorded() {
    let mut app = test_app();
    let fx = update(
        &mut app,
        Msg::Attached(Attachment {
            name: "a.rs".into(),
            content: "fn a() {}\n".into(),
            pinned: true,
        }),
    );
    assert!(matches!(&fx[..], [Effect::SaveAttachment(a)] if a.name == "a.rs"));
    assert_eq!(app.session.attachments.len(), 1);
    assert!(flash(&app).contains("attached a.rs (1 lines, pinned)"));
}

#[test]
fn health_updates_are_kept_per_model() {
    let mut app = test_app();
    update(
        &mut app,
        Msg::Health(vec![ModelHealth {
            model: OPUS.into(),
            state: HealthState::Open,
            last_error: Some(ErrorClass::Overloaded),
            last_error_at: None,
            median_ms: None,
            p95_ms: None,
            error_rate: 1.0,
            next_probe_at: None,
            open_until: None,
            rate_limited_until: None,
            note: None,
        }]),
    );
    assert_eq!(app.health_of(&m(OPUS)), HealthState::Open);
    assert_eq!(app.health_of(&m(GPT)), HealthState::Unknown);
}

#[test]
fn sigterm_saves_the_partial_and_quits() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(&mut app, text_ev(id, OPUS, "so far"));
    let fx = update(&mut app, Msg::Terminate);
    assert!(matches!(fx[0], Effect::Cancel { .. }));
    assert!(matches!(&fx[1], Effect::SaveAnswer(r) if r.partial));
    assert!(matches!(fx[2], Effect::Quit));
}

#[test]
fn resumed_sessions_fill_history_and_mark_partials() {
    let mut app = test_app();
    let id = ask(&mut app, "first");
    update(&mut app, text_ev(id, OPUS, "cut"));
    update(&mut app, Msg::Action(Action::Cancel));
    let mut init_session = app.session.clone();
    init_session.id = "again".into();
    let mut routes = BTreeMap::new();
    routes.insert("default".to_string(), vec![m(OPUS)]);
    let app2 = App::new(Init {
        session: init_session,
        route_name: "default".into(),
        routes,
        providers: BTreeMap::new(),
        pinned: None,
        keymap: KeyMap::default(),
        warnings: vec!["line 7 was corrupt".into()],
        now: Instant::now(),
        wall: SystemTime::now(),
    });
    assert_eq!(app2.history.last(), Some("first"));
    assert!(app2.extras[0].notes[0].text.contains("partial"));
    assert!(flash(&app2).contains("line 7 was corrupt"));
}

#[test]
fn scrolling_follows_until_the_user_scrolls_up() {
    let mut app = test_app();
    app.cache.set_metrics(crate::tui::view::Metrics {
        total: 100,
        height: 20,
    });
    assert_eq!(app.scroll, Scroll::Follow);
    update(&mut app, Msg::Scroll(-3));
    assert_eq!(app.scroll, Scroll::At(77));
    update(&mut app, Msg::Action(Action::PageUp));
    assert_eq!(app.scroll, Scroll::At(59));
    update(&mut app, Msg::Action(Action::PageDown));
    update(&mut app, Msg::Scroll(3));
    assert_eq!(app.scroll, Scroll::Follow);
    update(&mut app, Msg::Action(Action::Home));
    assert_eq!(app.scroll, Scroll::At(0));
    update(&mut app, Msg::Action(Action::End));
    assert_eq!(app.scroll, Scroll::Follow);
    // Sending a message jumps back to following.
    update(&mut app, Msg::Action(Action::ScrollTop));
    let _ = ask(&mut app, "x");
    assert_eq!(app.scroll, Scroll::Follow);
}
