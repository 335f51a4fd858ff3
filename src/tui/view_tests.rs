//! Snapshot tests of the rendered screen (ratatui `TestBackend` + insta) at 80x24, 40x12 and
//! 120x40, overlays, wide characters, and tiny or zero sizes that must not panic. The clock
//! is fixed in the app, so no time filters are needed for it; elapsed-time text is still
//! filtered in case a test ever runs on a live clock.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::provider::ErrorClass;
use crate::router::{HealthState, ModelHealth, RouterEvent};
use crate::tui::app::tests::{
    GPT, LOCAL, OPUS, answer, ask, err, m, test_app, text_ev, typed, update,
};
use crate::tui::app::{App, Msg};
use crate::tui::keys::Action;

use super::{Cache, render};

/// The screen as a fresh event loop draws it (a new layout cache).
fn screen(app: &App, w: u16, h: u16) -> String {
    screen_in(app, &mut Cache::default(), w, h)
}

/// The screen drawn with the layout cache of earlier frames, as the event loop keeps it.
fn screen_in(app: &App, cache: &mut Cache, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    t.draw(|f| render(app, cache, f)).unwrap();
    t.backend().to_string()
}

macro_rules! snap {
    ($name:expr, $screen:expr) => {
        insta::with_settings!({filters => vec![(r"\d+\.\ds ·", "[elapsed] ·")]}, {
            insta::assert_snapshot!($name, $screen);
        });
    };
}

fn health(app: &mut App) {
    let h = |model: &str, state| ModelHealth {
        model: model.into(),
        state,
        last_error: None,
        last_error_at: None,
        median_ms: Some(420),
        p95_ms: None,
        error_rate: 0.0,
        next_probe_at: None,
        open_until: None,
        rate_limited_until: None,
        note: None,
    };
    update(
        app,
        Msg::Health(vec![
            h(OPUS, HealthState::Open),
            h(GPT, HealthState::Healthy),
            h(LOCAL, HealthState::Probing),
        ]),
    );
}

/// A conversation: one finished answer with code, one answer continued after a failover,
/// and a third one streaming.
fn conversation() -> App {
    let mut app = test_app();
    health(&mut app);
    let id = ask(&mut app, "How do I read a file in Rust?");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(
                OPUS,
                "Use `std::fs::read_to_string`:\n\n```rust\nlet s = std::fs::read_to_string(\"a.txt\")?; // read it\n```\n\nIt returns an **io::Result**.",
                false,
            )),
        },
    );
    let id = ask(&mut app, "And in Python?");
    update(&mut app, text_ev(id, OPUS, "Open it with a `with` block"));
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Failover {
                from: m(OPUS),
                to: Some(m(GPT)),
                error: err(ErrorClass::Overloaded, Some(529)),
                mid_stream: true,
            },
        },
    );
    update(
        &mut app,
        text_ev(
            id,
            GPT,
            " so the file is closed:\n\n- `open(p).read()`\n- `pathlib.Path(p).read_text()`",
        ),
    );
    let mut a = answer(GPT, "", true);
    a.segments = vec![
        crate::router::Segment {
            model: OPUS.into(),
            blocks: vec![crate::provider::Block::text("Open it with a `with` block")],
        },
        crate::router::Segment {
            model: GPT.into(),
            blocks: vec![crate::provider::Block::text(
                " so the file is closed:\n\n- `open(p).read()`\n- `pathlib.Path(p).read_text()`",
            )],
        },
    ];
    a.blocks = a.segments.iter().flat_map(|s| s.blocks.clone()).collect();
    update(&mut app, Msg::Finished { id, result: Ok(a) });
    let id = ask(&mut app, "Thanks! One more: Go?");
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Attempting {
                model: m(GPT),
                tier: 1,
            },
        },
    );
    update(&mut app, text_ev(id, GPT, "In Go, `os.ReadFile`"));
    app.now += Duration::from_millis(3200);
    typed(&mut app, "draft in progress");
    app
}

#[test]
fn empty_screen_80x24() {
    snap!("empty_80x24", screen(&test_app(), 80, 24));
}

#[test]
fn conversation_80x24() {
    snap!("conversation_80x24", screen(&conversation(), 80, 24));
}

#[test]
fn conversation_40x12() {
    snap!("conversation_40x12", screen(&conversation(), 40, 12));
}

#[test]
fn conversation_120x40() {
    snap!("conversation_120x40", screen(&conversation(), 120, 40));
}

/// The help box is whole at every size: its last line and its bottom border are on screen.
#[test]
fn help_overlay_fits_at_120x40_80x24_and_60x15() {
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Help));
    for (name, w, h) in [
        ("help_120x40", 120, 40),
        ("help_80x24", 80, 24),
        ("help_60x15", 60, 15),
    ] {
        let s = screen(&app, w, h);
        assert!(s.contains("Esc closes."), "{name}:\n{s}");
        assert!(s.contains("wheel)"), "{name}:\n{s}");
        assert!(s.contains("/quit"), "{name}:\n{s}");
        assert!(s.contains('└') && s.contains('┘'), "{name}:\n{s}");
        snap!(name, s);
    }
}

/// A long note while answering wraps instead of running off the screen.
#[test]
fn long_status_notes_wrap_at_the_screen_edge() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        Msg::Router {
            id,
            event: RouterEvent::Retrying {
                model: m(OPUS),
                after: Duration::from_secs(2),
                error: err(ErrorClass::Overloaded, Some(529)),
            },
        },
    );
    let s = screen(&app, 60, 15);
    assert!(s.contains("Esc cancels"), "{s}");
}

/// While a model is silent the input rule names the skip key; once it answers, it does not.
#[test]
fn the_input_rule_offers_the_skip_key_only_while_waiting() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    let attempting = |model: &str| Msg::Router {
        id,
        event: RouterEvent::Attempting {
            model: m(model),
            tier: 0,
        },
    };
    update(&mut app, attempting(OPUS));
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("waiting for the first token… (F4 skips a silent model; Esc cancels)"),
        "{s}"
    );
    update(&mut app, text_ev(id, OPUS, "Hello"));
    let s = screen(&app, 80, 24);
    assert!(s.contains("answering… (type ahead; Esc cancels)"), "{s}");
    assert!(!s.contains("skips"), "{s}");
    // A model is still to come after the first: the key helps.
    update(&mut app, attempting(GPT));
    assert!(screen(&app, 80, 24).contains("F4 skips"));
    // The last model left to try has nowhere to skip to.
    update(&mut app, attempting(LOCAL));
    assert!(!screen(&app, 80, 24).contains("skips"));
}

#[test]
fn picker_overlay_80x24() {
    let mut app = conversation();
    update(&mut app, Msg::Action(Action::Picker));
    typed(&mut app, "o");
    snap!("picker_80x24", screen(&app, 80, 24));
}

#[test]
fn status_overlay_80x24() {
    let mut app = conversation();
    typed(&mut app, "");
    app.overlay = crate::tui::app::Overlay::Status;
    snap!("status_80x24", screen(&app, 80, 24));
}

#[test]
fn wide_characters_40x12() {
    let mut app = test_app();
    let id = ask(&mut app, "日本語で説明して 🙂 please");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(
                OPUS,
                "これは全角文字のテストです。絵文字🎉も幅が2です。\n\n- 項目一つ\n- 項目二つ",
                false,
            )),
        },
    );
    typed(&mut app, "入力中の文字列は折り返されるべきです");
    let s = screen(&app, 40, 12);
    snap!("wide_40x12", s.clone());
    // Every row is exactly 40 cells wide (TestBackend pads wide chars with hidden cells).
    let mut t = Terminal::new(TestBackend::new(40, 12)).unwrap();
    t.draw(|f| render(&app, &mut Cache::default(), f)).unwrap();
    assert_eq!(t.backend().buffer().area.width, 40);
}

#[test]
fn tiny_and_zero_sizes_do_not_panic() {
    let app = conversation();
    for (w, h) in [
        (1, 1),
        (2, 2),
        (10, 3),
        (80, 1),
        (1, 30),
        (3, 4),
        (0, 0),
        (0, 5),
        (5, 0),
    ] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| render(&app, &mut Cache::default(), f)).unwrap();
    }
    let mut app = conversation();
    update(&mut app, Msg::Action(Action::Help));
    for (w, h) in [(1, 1), (4, 4), (20, 5)] {
        let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
        t.draw(|f| render(&app, &mut Cache::default(), f)).unwrap();
    }
}

#[test]
fn resize_rewraps_the_cached_turns() {
    let app = conversation();
    let mut cache = Cache::default();
    let wide = screen_in(&app, &mut cache, 120, 40);
    let narrow = screen_in(&app, &mut cache, 40, 40);
    assert!(wide.contains("Use std::fs::read_to_string:"));
    // Same app, narrower: the cache is rebuilt for the new width, nothing is cut off.
    assert!(narrow.contains("read_to_string"));
    let again = screen_in(&app, &mut cache, 120, 40);
    assert_eq!(wide, again);
}

#[test]
fn scrolled_view_shows_the_top_and_a_hint() {
    let mut app = conversation();
    let mut cache = Cache::default();
    let _ = screen_in(&app, &mut cache, 80, 24);
    update(&mut app, Msg::Action(Action::ScrollTop));
    app.flash = None;
    let s = screen_in(&app, &mut cache, 80, 24);
    assert!(s.contains("How do I read a file in Rust?"), "{s}");
}

#[test]
fn long_transcripts_render_only_the_window() {
    let mut app = test_app();
    for i in 0..500 {
        let id = ask(&mut app, &format!("question {i}"));
        update(
            &mut app,
            Msg::Finished {
                id,
                result: Ok(answer(OPUS, &format!("answer {i}"), false)),
            },
        );
    }
    let mut cache = Cache::default();
    let s = screen_in(&app, &mut cache, 80, 24);
    assert!(s.contains("answer 499"));
    assert!(!s.contains("answer 400"));
    let metrics = cache.metrics();
    assert_eq!(metrics.total, 500 * 6);
}

#[test]
fn streaming_render_matches_a_full_render() {
    // The incremental path (settled prefix cached, tail re-parsed) must draw exactly what a
    // full parse draws, at every point of the stream.
    let text = "Intro paragraph.\n\n```rust\nfn a() {}\n\nfn b() {}\n```\n\n1. one\n2. two\n\n> quoted\n\nLast **bold** words that wrap around the edge of a narrow screen.\n\n";
    let mut prefix = None;
    for n in 1..=text.len() {
        let part = &text[..n];
        assert_eq!(
            super::streaming_lines(&mut prefix, 0, part, 30),
            super::md_lines(part, 30),
            "after {n} bytes: {part:?}"
        );
    }
}

/// Each finished answer says what it cost in tokens, next to the model that wrote it.
#[test]
fn answers_show_their_tokens() {
    let mut app = test_app();
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(OPUS, "hello", false)),
        },
    );
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("● anthropic/claude-opus-4-8 · 100 in / 20 out tokens"),
        "{s}"
    );
}

/// The status bar shows how full the active model's window is, when its size is known.
#[test]
fn the_status_bar_shows_the_context_fill_of_the_active_model() {
    let mut app = test_app();
    update(&mut app, Msg::Action(Action::Pin(3)));
    let id = ask(&mut app, "hi");
    update(
        &mut app,
        Msg::Finished {
            id,
            result: Ok(answer(LOCAL, "hello", false)),
        },
    );
    // 100 + 20 tokens of a 2048-token window.
    let s = screen(&app, 120, 40);
    assert!(s.contains("ctx 5% of 2.0k"), "{s}");
    // A model whose window is not known shows no gauge.
    update(&mut app, Msg::Action(Action::Pin(1)));
    assert!(!screen(&app, 120, 40).contains("ctx "));
}

/// With prices known, each answer shows its cost next to its tokens and `/status` the session
/// total; an answer of a model with no price shows none (never $0.00).
#[test]
fn answers_show_their_cost_where_the_price_is_known() {
    let mut app = test_app();
    app.prices = crate::config::Prices::new(&std::collections::BTreeMap::new()).unwrap();
    for model in [OPUS, "openai/gpt-unpriced"] {
        let id = ask(&mut app, "hi");
        update(
            &mut app,
            Msg::Finished {
                id,
                result: Ok(answer(model, "hello", false)),
            },
        );
    }
    let s = screen(&app, 80, 24);
    assert!(
        s.contains("● anthropic/claude-opus-4-8 · 100 in / 20 out tokens · $0.0010"),
        "{s}"
    );
    assert!(
        s.contains("● openai/gpt-unpriced · 100 in / 20 out tokens "),
        "{s}"
    );
    assert!(!s.contains("$0.00 "), "{s}");
    app.overlay = crate::tui::app::Overlay::Status;
    snap!("status_with_cost_80x24", screen(&app, 80, 24));
}
