//! Pure `update()` tests with no terminal: keys to actions to state, model switching keeps the
//! draft, cancel, failover messages and the banner, stale stream messages dropped, slash
//! commands and the effects they ask for, quitting.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use crate::config::ModelRef;
use crate::provider::{Block, ErrorClass, Message, ProviderError, Role, Usage};
use crate::router::{AllModelsFailed, Answer, HealthState, ModelHealth, RouterEvent, Segment};

use super::*;
use crate::tui::keys::Action;
use crate::tui::session::Attachment;

/// [`super::update`] as an event loop that has drawn nothing yet calls it (no layout); the
/// scrolling tests pass a layout themselves.
pub(crate) fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    super::update(app, msg, Metrics::default())
}

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
        windows: BTreeMap::from([("local".to_string(), 2048)]),
        evals: BTreeMap::new(),
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
            ..Usage::default()
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
    // One 529 does not make a model down: the banner says what the health state says.
    assert_eq!(
        app.banner.as_ref().map(|b| b.text.as_str()),
        Some("anthropic/claude-opus-4-8 failed (529 overloaded): answering with openai/gpt-5.5")
    );
    assert_eq!(
        app.extras[0].notes[0].text,
        "anthropic/claude-opus-4-8 failed (529 overloaded); switched to openai/gpt-5.5"
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
    let failed = AllModelsFailed {
        attempts: Vec::new(),
        partial: Vec::new(),
        held_back: None,
    };
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Err(failed),
        },
    );
    let b = app.banner.clone().unwrap().text;
    assert!(
        b.starts_with("openai/gpt-5.5 could not answer") && b.contains("nothing else was tried"),
        "{b}"
    );
}

/// Starts a request and returns its route.
fn route_of_next(app: &mut App) -> Vec<ModelRef> {
    typed(app, "keep this on my machine");
    let fx = update(app, Msg::Action(Action::Send));
    let route = fx
        .iter()
        .find_map(|e| match e {
            Effect::Start { route, .. } => Some(route.clone()),
            _ => None,
        })
        .expect("send starts a request");
    update(app, Msg::Action(Action::Cancel));
    route
}

#[test]
fn every_way_of_pinning_the_local_model_routes_only_to_it() {
    let cmd = |app: &mut App, c: &str| {
        typed(app, c);
        update(app, Msg::Action(Action::Send));
    };
    let only_local = vec![m(LOCAL)];
    // F2 twice (next model), Alt+3, the picker, /model, and `aiw chat -m`.
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::NextModel));
    update(&mut app, Msg::Action(Action::NextModel));
    assert_eq!(route_of_next(&mut app), only_local, "F2");
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Pin(3)));
    assert_eq!(route_of_next(&mut app), only_local, "Alt+3");
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Picker));
    typed(&mut app, "smol");
    update(&mut app, Msg::Action(Action::Send));
    assert_eq!(route_of_next(&mut app), only_local, "Ctrl+P");
    let mut app = test_app();
    cmd(&mut app, "/model local/smollm2-135m");
    assert_eq!(route_of_next(&mut app), only_local, "/model");
    let mut app = test_app();
    app.mode = Mode::Pinned(m(LOCAL));
    assert_eq!(route_of_next(&mut app), only_local, "-m");
    // A pinned cloud model is a promise too; auto mode keeps the whole route.
    update(&mut app, Msg::Action(Action::Pin(1)));
    assert_eq!(route_of_next(&mut app), vec![m(OPUS)]);
    update(&mut app, Msg::Action(Action::ToggleAuto));
    assert_eq!(route_of_next(&mut app), vec![m(OPUS), m(GPT), m(LOCAL)]);
}

#[test]
fn pinning_says_only_the_pinned_model_answers() {
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Pin(3)));
    assert!(
        flash(&app).contains("only it answers, nothing leaves this machine"),
        "{}",
        flash(&app)
    );
    update(&mut app, Msg::Action(Action::Pin(1)));
    assert!(!flash(&app).contains("falls back"), "{}", flash(&app));
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
    assert_eq!(app.effective_route(), vec![m(GPT)]);
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
fn send_while_busy_queues_the_message_and_sends_it_when_the_answer_ends() {
    let mut app = test_app();
    let id = ask(&mut app, "one");
    typed(&mut app, "two");
    assert!(update(&mut app, Msg::Action(Action::Send)).is_empty());
    assert!(app.editor.is_empty());
    assert!(flash(&app).starts_with("queued (1)"), "{}", flash(&app));
    let fx = update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "a1", false)),
        },
    );
    let started = fx.iter().find_map(|e| match e {
        Effect::Start { request, .. } => Some(request.clone()),
        _ => None,
    });
    let texts: Vec<String> = started
        .expect("the queued message is sent")
        .messages
        .iter()
        .map(Message::text)
        .collect();
    assert_eq!(texts, vec!["one", "a1", "two"]);
    assert!(app.queued.is_empty());
    // Esc while messages wait puts them back in the draft instead of sending them.
    typed(&mut app, "three");
    update(&mut app, Msg::Action(Action::Send));
    update(&mut app, Msg::Action(Action::Cancel));
    assert!(app.queued.is_empty());
    assert_eq!(app.editor.text(), "three");
    assert!(matches!(app.phase, Phase::Idle));
}

#[test]
fn tab_completes_slash_commands() {
    let mut app = test_app();
    typed(&mut app, "/mod");
    update(&mut app, Msg::Action(Action::Insert('\t')));
    assert_eq!(app.editor.text(), "/model ");
    app.editor = Editor::default();
    typed(&mut app, "/s");
    update(&mut app, Msg::Action(Action::Insert('\t')));
    assert_eq!(app.editor.text(), "/s");
    assert!(flash(&app).contains("/save") && flash(&app).contains("/status"));
    app.editor = Editor::default();
    typed(&mut app, "/zz");
    update(&mut app, Msg::Action(Action::Insert('\t')));
    assert!(flash(&app).starts_with("no command starts with /zz"));
    // Anywhere else Tab is a tab.
    app.editor = Editor::default();
    typed(&mut app, "a");
    update(&mut app, Msg::Action(Action::Insert('\t')));
    assert_eq!(app.editor.text(), "a\t");
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
    assert_eq!(app.mode, Mode::Auto, "re-asking does not pin");
    match &fx[1] {
        Effect::Start { route, request, .. } => {
            assert_eq!(route, &vec![m(GPT)]);
            let texts: Vec<String> = request.messages.iter().map(Message::text).collect();
            assert_eq!(texts, vec!["q1", "a1", "q2"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.session.turns.len(), 3);
}

#[test]
fn reask_asks_once_and_leaves_the_mode_as_it_was() {
    let mut app = test_app();
    let id = ask(&mut app, "q1");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "a1", false)),
        },
    );
    update(&mut app, Msg::Action(Action::Reask));
    assert!(flash(&app).contains("this once"), "{}", flash(&app));
    update(&mut app, Msg::Action(Action::Cancel));
    assert_eq!(app.mode, Mode::Auto);
    assert_eq!(route_of_next(&mut app), vec![m(OPUS), m(GPT), m(LOCAL)]);
    // Pinned stays pinned to the same model.
    update(&mut app, Msg::Action(Action::Pin(1)));
    let id = ask(&mut app, "q2");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "a2", false)),
        },
    );
    let fx = update(&mut app, Msg::Action(Action::Reask));
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Start { route, .. } if route == &vec![m(GPT)]))
    );
    update(&mut app, Msg::Action(Action::Cancel));
    assert_eq!(app.mode, Mode::Pinned(m(OPUS)));
    assert_eq!(route_of_next(&mut app), vec![m(OPUS)]);
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
    // Any block, by number.
    typed(&mut app, "/copy 1");
    let fx = update(&mut app, Msg::Action(Action::Send));
    assert!(
        matches!(&fx[..], [Effect::Copy(c)] if c == "fn a() {}\n"),
        "{fx:?}"
    );
    assert!(
        flash(&app).starts_with("copied code block 1 of 2"),
        "{}",
        flash(&app)
    );
    typed(&mut app, "/copy 3");
    assert!(update(&mut app, Msg::Action(Action::Send)).is_empty());
    assert!(flash(&app).contains("/copy 1..2"), "{}", flash(&app));
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
        matches!(&cmd(&mut app, "/export out.md")[..], [Effect::Export { path: Some(path), markdown }] if path.to_str() == Some("out.md") && markdown.contains("test-session"))
    );
    // Without a name the event loop picks the data dir, never the working directory.
    assert!(matches!(
        &cmd(&mut app, "/export")[..],
        [Effect::Export { path: None, .. }]
    ));
    // `/model` alone opens the picker and says what to do, not "no model matches".
    cmd(&mut app, "/model");
    assert!(matches!(app.overlay, Overlay::Picker { .. }));
    assert!(flash(&app).starts_with("pick a model"), "{}", flash(&app));
    assert!(!flash(&app).contains("no model"), "{}", flash(&app));
    typed(&mut app, "/model gpt");
    update(&mut app, Msg::Action(Action::Send));
    assert_eq!(app.overlay, Overlay::None);
    assert_eq!(app.mode, Mode::Pinned(m(GPT)));
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
    // A new context, but the session stays whole: the next request sends only what follows,
    // the export keeps both parts.
    let fx = update(&mut app, Msg::Action(Action::Cancel));
    assert!(fx.is_empty());
    let id = ask(&mut app, "after");
    update(&mut app, text_ev(id, OPUS, "y"));
    assert_eq!(app.session.earlier.len(), 1);
    assert_eq!(app.session.to_request(None).messages.len(), 1);
    typed(&mut app, "/export x.md");
    let fx = update(&mut app, Msg::Action(Action::Send));
    assert!(
        matches!(&fx[..], [Effect::Export { markdown, .. }] if markdown.contains("hi") && markdown.contains("after")),
        "{fx:?}"
    );
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
        windows: BTreeMap::new(),
        evals: BTreeMap::new(),
        pinned: None,
        keymap: KeyMap::default(),
        warnings: vec!["line 7 was corrupt".into()],
        now: Instant::now(),
        wall: SystemTime::now(),
    });
    assert_eq!(app2.history.last(), Some("first"));
    let notes: Vec<&str> = app2.extras[0]
        .notes
        .iter()
        .map(|n| n.text.as_str())
        .collect();
    assert!(notes.iter().any(|n| n.contains("partial")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.starts_with("cancelled")),
        "{notes:?}"
    );
    assert!(flash(&app2).contains("line 7 was corrupt"));
}

#[test]
fn scrolling_follows_until_the_user_scrolls_up() {
    let mut app = test_app();
    let layout = Metrics {
        total: 100,
        height: 20,
    };
    let update = |app: &mut App, msg| super::update(app, msg, layout);
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

fn health(model: &str, state: HealthState) -> ModelHealth {
    ModelHealth {
        model: model.into(),
        state,
        last_error: None,
        last_error_at: None,
        median_ms: None,
        p95_ms: None,
        error_rate: 0.0,
        next_probe_at: None,
        open_until: None,
        rate_limited_until: None,
        note: None,
    }
}

fn failover(id: RequestId, from: &str, to: &str, e: ProviderError, mid_stream: bool) -> Msg {
    Msg::Router {
        id,
        event: RouterEvent::Failover {
            from: m(from),
            to: Some(m(to)),
            error: e,
            mid_stream,
        },
    }
}

#[test]
fn banner_and_health_dots_tell_one_story_and_the_banner_goes_on_recovery() {
    let mut app = test_app();
    update(
        &mut app,
        Msg::Health(vec![health(OPUS, HealthState::Degraded)]),
    );
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        failover(id, OPUS, GPT, err(ErrorClass::Overloaded, Some(529)), false),
    );
    let text = |app: &App| {
        app.banner
            .as_ref()
            .map(|b| b.text.clone())
            .unwrap_or_default()
    };
    assert!(
        text(&app).contains("is degraded (529 overloaded)"),
        "{}",
        text(&app)
    );
    assert!(!text(&app).contains("down"), "{}", text(&app));
    // The breaker opens: the same banner now says down, like the dot.
    update(&mut app, Msg::Health(vec![health(OPUS, HealthState::Open)]));
    assert!(
        text(&app).contains("anthropic/claude-opus-4-8 is down"),
        "{}",
        text(&app)
    );
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(GPT, "a", true)),
        },
    );
    assert!(text(&app).contains("is down"), "{}", text(&app));
    // A probe succeeded: the banner goes and the recovery is said.
    update(
        &mut app,
        Msg::Health(vec![health(OPUS, HealthState::Healthy)]),
    );
    assert!(app.banner.is_none(), "{:?}", app.banner);
    assert!(
        flash(&app).contains("anthropic/claude-opus-4-8 recovered"),
        "{}",
        flash(&app)
    );
}

#[test]
fn failover_notes_name_the_model_first_and_read_as_a_sentence() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(&mut app, text_ev(id, GPT, "half "));
    update(
        &mut app,
        failover(id, GPT, LOCAL, err(ErrorClass::Connection, None), true),
    );
    assert_eq!(
        app.extras[0].notes[0].text,
        "openai/gpt-5.5 failed mid-answer (connection); local/smollm2-135m continues it"
    );
}

#[test]
fn trimmed_history_is_said_and_recorded_with_the_answer() {
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Pin(3)));
    let id = ask(&mut app, "long conversation");
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::HistoryFitted {
                model: m(LOCAL),
                report: crate::conversation::fit::FitReport {
                    turns: 48,
                    kept: 17,
                    summarised: false,
                    tokens: 3000,
                    budget: 3072,
                    exact: true,
                },
            },
        },
    );
    let want = "history trimmed for local/smollm2-135m: 31 of 48 turns left out";
    assert!(
        app.extras[0].notes[0].text.starts_with(want),
        "{:?}",
        app.extras[0].notes
    );
    let fx = update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(LOCAL, "ok", false)),
        },
    );
    let rec = fx
        .iter()
        .find_map(|e| match e {
            Effect::SaveAnswer(r) => Some(r.clone()),
            _ => None,
        })
        .expect("saved");
    assert!(
        rec.notes.iter().any(|n| n.starts_with(want)),
        "{:?}",
        rec.notes
    );
    // And a resumed session says it again.
    let app2 = App::new(Init {
        session: app.session.clone(),
        route_name: "default".into(),
        routes: app.routes.clone(),
        providers: app.providers.clone(),
        windows: app.windows.clone(),
        evals: app.evals.clone(),
        pinned: None,
        keymap: KeyMap::default(),
        warnings: Vec::new(),
        now: Instant::now(),
        wall: SystemTime::now(),
    });
    assert!(app2.extras[0].notes[0].text.starts_with(want));
}

#[test]
fn an_answer_stopped_by_max_tokens_is_recorded_and_shown_as_cut() {
    let mut app = test_app();
    let id = ask(&mut app, "write a lot");
    let mut a = answer(LOCAL, "and then the", false);
    a.stop = crate::provider::StopReason::MaxTokens;
    let fx = update(&mut app, Msg::Finished { id, result: Ok(a) });
    let rec = fx
        .iter()
        .find_map(|e| match e {
            Effect::SaveAnswer(r) => Some(r.clone()),
            _ => None,
        })
        .expect("saved");
    assert!(rec.partial, "a max_tokens stop is never complete");
    assert!(rec.notes[0].starts_with("cut: local/smollm2-135m stopped at its output token limit"));
    assert!(app.session.to_markdown().contains("partial"));
}

#[test]
fn resumed_sessions_keep_the_failover_reasons() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        failover(id, OPUS, GPT, err(ErrorClass::Overloaded, Some(529)), false),
    );
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(GPT, "a", true)),
        },
    );
    let json = serde_json::to_string(app.session.turns[0].answer.as_ref().unwrap()).unwrap();
    let back: AnswerRecord = serde_json::from_str(&json).unwrap();
    let mut session = app.session.clone();
    session.turns[0].answer = Some(back);
    let app2 = App::new(Init {
        session,
        route_name: "default".into(),
        routes: app.routes.clone(),
        providers: app.providers.clone(),
        windows: app.windows.clone(),
        evals: app.evals.clone(),
        pinned: None,
        keymap: KeyMap::default(),
        warnings: Vec::new(),
        now: Instant::now(),
        wall: SystemTime::now(),
    });
    assert_eq!(
        app2.extras[0].notes[0].text,
        "anthropic/claude-opus-4-8 failed (529 overloaded); switched to openai/gpt-5.5"
    );
}

#[test]
fn a_due_summary_starts_in_the_background_and_fits_become_transcript_lines() {
    use crate::conversation::fit::FitReport;
    let mut app = test_app();
    let cfg = crate::config::SummarySettings {
        every_turns: 2,
        ..crate::config::SummarySettings::default()
    };
    app.with_summariser(cfg, m(GPT));
    let summarise = |fx: &[Effect]| {
        fx.iter().find_map(|e| match e {
            Effect::Summarise { model, turns, .. } => Some((model.clone(), *turns)),
            _ => None,
        })
    };
    let id = ask(&mut app, "one");
    let fx = update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "1", false)),
        },
    );
    assert_eq!(summarise(&fx), None, "one turn: not due yet");
    let id = ask(&mut app, "two");
    let fx = update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "2", false)),
        },
    );
    assert_eq!(summarise(&fx), Some((m(GPT), 2)));
    // While it runs the chat goes on: the next question starts at once, no second summary.
    let id = ask(&mut app, "three");
    let fx = update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "3", false)),
        },
    );
    assert_eq!(summarise(&fx), None, "one at a time");
    let s = crate::session::summary::RollingSummary {
        text: "## Goal\nx".into(),
        turns: 2,
        model: GPT.into(),
        usage: Usage {
            input_tokens: 300,
            output_tokens: 40,
            ..Usage::default()
        },
        at: String::new(),
    };
    let fx = update(&mut app, Msg::Summarised(Ok(s.clone())));
    assert!(matches!(&fx[..], [Effect::SaveSummary(saved)] if **saved == s));
    assert_eq!(app.session.summary.as_ref(), Some(&s));
    let notes: Vec<String> = app
        .extras
        .last()
        .unwrap()
        .notes
        .iter()
        .map(|n| n.text.clone())
        .collect();
    assert!(
        notes.iter().any(|n| n.contains("300 tokens in, 40 out")),
        "{notes:?}"
    );
    // An answer from the local model never triggers one (no cloud model is healthy).
    let id = ask(&mut app, "four");
    let fx = update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(LOCAL, "4", true)),
        },
    );
    assert_eq!(summarise(&fx), None);

    // Fitting for a smaller window: a transcript line and a session record.
    let id = ask(&mut app, "five");
    let report = FitReport {
        turns: 48,
        kept: 6,
        summarised: true,
        tokens: 900,
        budget: 1000,
        exact: true,
    };
    let fx = update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::HistoryFitted {
                model: m(LOCAL),
                report: report.clone(),
            },
        },
    );
    assert!(matches!(&fx[..], [Effect::SaveFit(f)] if f.report == report && f.model == LOCAL));
    let notes: Vec<String> = app
        .extras
        .last()
        .unwrap()
        .notes
        .iter()
        .map(|n| n.text.clone())
        .collect();
    assert!(
        notes.contains(&format!(
            "history summarised for {LOCAL}: 48 turns -> summary + last 6"
        )),
        "{notes:?}"
    );
    assert_eq!(app.session.fits.len(), 1);
}

#[test]
fn the_mouse_is_captured_only_when_asked() {
    let mut app = test_app();
    assert!(!app.mouse, "text selection works by default");
    typed(&mut app, "/mouse");
    let fx = update(&mut app, Msg::Action(Action::Send));
    assert!(matches!(&fx[..], [Effect::MouseCapture(true)]));
    typed(&mut app, "/mouse");
    let fx = update(&mut app, Msg::Action(Action::Send));
    assert!(matches!(&fx[..], [Effect::MouseCapture(false)]));
}

#[test]
fn a_fallback_banner_gives_the_fallbacks_eval_score() {
    let mut app = test_app();
    app.evals
        .insert(GPT.to_string(), "9/10 on your evals, 3 days ago".into());
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        failover(id, OPUS, GPT, err(ErrorClass::Overloaded, Some(529)), false),
    );
    let banner = app
        .banner
        .as_ref()
        .map(|b| b.text.clone())
        .unwrap_or_default();
    assert!(
        banner.ends_with("answering with openai/gpt-5.5 (9/10 on your evals, 3 days ago)"),
        "{banner}"
    );
}

/// The skip key's press, and the effects it asked for.
fn skip_key(app: &mut App) -> Vec<Effect> {
    update(app, Msg::Action(Action::Skip))
}

fn attempting(id: RequestId, model: &str) -> Msg {
    Msg::Router {
        id,
        event: RouterEvent::Attempting {
            model: m(model),
            tier: 0,
        },
    }
}

#[test]
fn skip_key_while_waiting_for_the_first_token_signals_the_request() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(&mut app, attempting(id, OPUS));
    let fx = skip_key(&mut app);
    assert!(
        matches!(fx.as_slice(), [Effect::Skip { id: i, why }] if *i == id && why == "you pressed F4"),
        "{fx:?}"
    );
    assert!(flash(&app).contains("skipping anthropic/claude-opus-4-8"));
    // The router answers the skip with a failover: one line, in the router's wording.
    let skipped = ProviderError::new(ErrorClass::Skipped, "after 3.2s (you pressed F4)");
    update(&mut app, failover(id, OPUS, GPT, skipped, false));
    assert_eq!(
        app.extras[0].notes[0].text,
        "skipped anthropic/claude-opus-4-8 after 3.2s (you pressed F4); answering with openai/gpt-5.5"
    );
    assert!(app.banner.is_none(), "a skip is not a failure");
    update(&mut app, attempting(id, GPT));
    update(&mut app, text_ev(id, GPT, "answer"));
    let mut a = answer(GPT, "answer", true);
    a.attempts = vec![crate::router::Attempt {
        model: m(OPUS),
        outcome: crate::router::Outcome::Skipped,
        error_class: Some(ErrorClass::Skipped),
        error: Some("after 3.2s (you pressed F4)".into()),
        status: None,
        ttft_ms: None,
        ms: 3200,
        chars: 0,
    }];
    update(&mut app, Msg::Finished { id, result: Ok(a) });
    assert!(app.banner.is_none(), "{:?}", app.banner);
}

#[test]
fn a_rebound_skip_key_is_the_one_named() {
    let mut cfg = BTreeMap::new();
    cfg.insert("skip".to_string(), vec!["alt-s".to_string()]);
    let mut app = test_app();
    app.keymap = KeyMap::from_config(&cfg).0;
    let id = ask(&mut app, "hi");
    update(&mut app, attempting(id, OPUS));
    let fx = skip_key(&mut app);
    assert!(
        matches!(fx.as_slice(), [Effect::Skip { why, .. }] if why == "you pressed Alt+S"),
        "{fx:?}"
    );
}

#[test]
fn a_pinned_model_is_not_skipped() {
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Pin(1)));
    let id = ask(&mut app, "hi");
    update(&mut app, attempting(id, OPUS));
    let fx = skip_key(&mut app);
    assert!(fx.is_empty(), "{fx:?}");
    let f = flash(&app);
    assert!(
        f.contains("anthropic/claude-opus-4-8 is pinned and cannot be skipped")
            && f.contains("Esc stops the answer")
            && f.contains("F3 for auto routing"),
        "{f}"
    );
    assert!(matches!(app.phase, Phase::Busy(_)), "the answer goes on");
}

#[test]
fn an_answer_already_streaming_is_not_skipped() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(&mut app, attempting(id, OPUS));
    update(&mut app, text_ev(id, OPUS, "Hel"));
    let fx = skip_key(&mut app);
    assert!(fx.is_empty(), "{fx:?}");
    assert!(flash(&app).contains("already answering"), "{}", flash(&app));
    let Phase::Busy(p) = &app.phase else {
        panic!("the answer goes on")
    };
    assert_eq!(p.text(), "Hel");
    // Reasoning counts as answering too (the router stops listening for a skip then).
    update(&mut app, attempting(id, GPT));
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Thinking {
                model: m(GPT),
                text: "hmm".into(),
            },
        },
    );
    assert!(skip_key(&mut app).is_empty());
    // A new attempt waits for its first token again: the key works once more.
    update(&mut app, attempting(id, GPT));
    assert_eq!(skip_key(&mut app).len(), 1);
}

#[test]
fn a_model_the_router_moved_to_the_front_can_be_skipped() {
    // Status-page hints put the route's last model first: the others are still to come.
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(&mut app, attempting(id, LOCAL));
    let fx = skip_key(&mut app);
    assert!(matches!(fx.as_slice(), [Effect::Skip { .. }]), "{fx:?}");
}

#[test]
fn skip_does_nothing_with_nowhere_to_go() {
    let mut app = test_app();
    assert!(skip_key(&mut app).is_empty(), "idle");
    let id = ask(&mut app, "hi");
    assert!(skip_key(&mut app).is_empty(), "no model called yet");
    // The primary was passed over (out of rotation), the fallback failed: the local model
    // is the last one left.
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Skipped {
                model: m(OPUS),
                reason: "circuit open".into(),
            },
        },
    );
    update(&mut app, attempting(id, GPT));
    update(&mut app, attempting(id, LOCAL));
    assert!(skip_key(&mut app).is_empty());
    assert!(
        flash(&app).contains("last model of the route left to try"),
        "{}",
        flash(&app)
    );
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(LOCAL, "ok", true)),
        },
    );
    // Ctrl+R asks one model only.
    update(&mut app, Msg::Action(Action::Reask));
    let Phase::Busy(p) = &app.phase else {
        panic!("reask starts a request")
    };
    let (id, only) = (p.id, p.route[0].to_string());
    update(&mut app, attempting(id, &only));
    assert!(skip_key(&mut app).is_empty());
    assert!(
        flash(&app).contains("the only model asked"),
        "{}",
        flash(&app)
    );
}
