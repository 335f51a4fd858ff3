//! Benchmark of `aiw chat`'s screen (not a test): frame render time with a 5,000-turn
//! transcript (target <= 4 ms) and the rate of streamed tokens the screen keeps up with
//! (target >= 2,000 tokens/s), drawing into ratatui's `TestBackend` at 120x40.
//! Run: `cargo bench --no-default-features --bench tui`.
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use aiw::config::ModelRef;
use aiw::provider::{Block, Usage};
use aiw::router::{RouterEvent, Segment};
use aiw::tui::app::{App, Effect, Init, Msg, update};
use aiw::tui::keys::{Action, KeyMap};
use aiw::tui::session::{AnswerRecord, Session, Turn};
use aiw::tui::view::{Cache, render};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const OPUS: &str = "anthropic/claude-opus-4-8";

fn model(s: &str) -> ModelRef {
    ModelRef::parse(s).expect("valid model ref")
}

fn answer_text(i: usize) -> String {
    format!(
        "Answer {i}: here is a **short** explanation with `inline code` and a list:\n\n\
         - first point about the question\n- second point, a little longer so that it wraps on narrow screens\n\n\
         ```rust\nfn f{i}(x: u32) -> u32 {{\n    // comment\n    x * 2 + {i}\n}}\n```\n"
    )
}

fn app_with_turns(n: usize) -> App {
    let mut session = Session::new(None, Some("default".into()));
    let opus = ModelRef::parse(OPUS).expect("a model reference");
    for i in 0..n {
        session.turns.push(Turn {
            user: vec![Block::text(format!(
                "question number {i}: how does this part of the code work?"
            ))],
            at: String::new(),
            answer: Some(AnswerRecord {
                blocks: vec![Block::text(answer_text(i))],
                model: opus.clone(),
                segments: vec![Segment {
                    model: opus.clone(),
                    blocks: vec![Block::text(answer_text(i))],
                }],
                attempts: Vec::new(),
                usage: Usage::default(),
                partial: false,
                at: String::new(),
                notes: Vec::new(),
            }),
        });
    }
    let mut routes = BTreeMap::new();
    routes.insert(
        "default".to_string(),
        vec![model(OPUS), model("openai/gpt-5.5")],
    );
    App::new(Init {
        session,
        route_name: "default".into(),
        routes,
        providers: BTreeMap::new(),
        windows: BTreeMap::new(),
        evals: BTreeMap::new(),
        pinned: None,
        keymap: KeyMap::default(),
        warnings: Vec::new(),
        now: Instant::now(),
        wall: SystemTime::now(),
    })
}

fn draw(t: &mut Terminal<TestBackend>, app: &App, cache: &mut Cache) {
    t.draw(|f| render(app, cache, f))
        .expect("draw into TestBackend");
}

fn main() {
    let (w, h) = (120, 40);
    let mut t = Terminal::new(TestBackend::new(w, h)).expect("test backend");

    // 1. A 5,000-turn transcript.
    let mut app = app_with_turns(5000);
    let mut cache = Cache::default();
    let start = Instant::now();
    draw(&mut t, &app, &mut cache);
    let cold = start.elapsed();
    let frames = 300;
    let start = Instant::now();
    for _ in 0..frames {
        draw(&mut t, &app, &mut cache);
    }
    let steady = start.elapsed() / frames;
    let start = Instant::now();
    for i in 0..frames {
        let a = if i % 2 == 0 {
            Action::PageUp
        } else {
            Action::ScrollUp
        };
        update(&mut app, Msg::Action(a), cache.metrics());
        draw(&mut t, &app, &mut cache);
    }
    let scrolling = start.elapsed() / frames;
    println!("5,000-turn transcript at {w}x{h}:");
    println!(
        "  first frame (wraps every turn once): {:>8.2} ms",
        ms(cold)
    );
    println!(
        "  frame, idle:                         {:>8.3} ms  (target <= 4 ms)",
        ms(steady)
    );
    println!(
        "  frame, while scrolling:              {:>8.3} ms",
        ms(scrolling)
    );

    // 2. Streaming into that transcript: tokens arrive as Msgs, the screen is redrawn after
    // every `per_frame` tokens (the event loop drains pending messages before each frame).
    for per_frame in [1usize, 8, 33] {
        let mut app = app_with_turns(5000);
        let mut cache = Cache::default();
        draw(&mut t, &app, &mut cache);
        for c in "explain streaming".chars() {
            update(&mut app, Msg::Action(Action::Insert(c)), cache.metrics());
        }
        let id = update(&mut app, Msg::Action(Action::Send), cache.metrics())
            .into_iter()
            .find_map(|e| match e {
                Effect::Start { id, .. } => Some(id),
                _ => None,
            })
            .expect("request started");
        let tokens = 3000usize;
        let words = [
            "the ",
            "router ",
            "fails ",
            "over ",
            "`mid` ",
            "stream\n\n",
            "- item ",
            "```rust\nlet x = 1;\n```\n",
        ];
        let start = Instant::now();
        let mut worst = Duration::ZERO;
        for i in 0..tokens {
            update(
                &mut app,
                Msg::Router {
                    id,
                    event: RouterEvent::Text {
                        model: model(OPUS),
                        text: words[i % words.len()].to_string(),
                    },
                },
                cache.metrics(),
            );
            if (i + 1) % per_frame == 0 {
                let f = Instant::now();
                draw(&mut t, &app, &mut cache);
                worst = worst.max(f.elapsed());
            }
        }
        let took = start.elapsed();
        let rate = tokens as f64 / took.as_secs_f64();
        println!(
            "streaming {tokens} tokens, a frame every {per_frame:>2} token(s): {rate:>10.0} tokens/s  (worst frame {:.2} ms; target >= 2,000 tokens/s)",
            ms(worst)
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
