//! Context-across-the-switch benchmark (not a test; `cargo bench --bench summary`, release,
//! feature `local`).
//!
//! A 60-turn session, every cloud model down (the emulator answers 503): prints the time from
//! the request (the moment the route finds every remote model down) to the local model's
//! first token, with a ready rolling summary (system + summary + last turns) and without one
//! (the oldest turns trimmed), median of `REPS` alternating runs, their ratio, and what each
//! fit kept. Each run has its own system prompt so no run reuses another's KV cache. The model
//! is `AIW_BENCH_MODEL` (default: the SmolLM2-135M test model).
#![allow(clippy::disallowed_methods, reason = "a benchmark writes its fixtures")]
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiw::config::ModelRef;
use aiw::config::{FileConfig, Paths, Settings};
use aiw::conversation::fit::FitReport;
use aiw::provider::{Block, ChatRequest, Usage};
use aiw::router::health::HealthStore;
use aiw::router::journal::Journal;
use aiw::router::{Router, RouterEvent};
use aiw::session::summary::RollingSummary;
use aiw::session::{AnswerRecord, Session};
use aiw_emulator::{Action, Emulator, ErrorKind, Script};
use tokio_util::sync::CancellationToken;

const REPS: usize = 5;
const TURNS: usize = 60;

fn settings(base: &str, model: &str, dir: &std::path::Path) -> Settings {
    let text = format!(
        r#"
[providers.anthropic]
base_url = "{base}"
[providers.local]
model = "{model}"
context_size = 2048
[routes]
default = ["anthropic/primary", "local/default"]
"#
    );
    let paths = Paths {
        config_file: dir.join("c.toml"),
        data_dir: dir.join("d"),
        state_dir: dir.join("s"),
    };
    let cfg = FileConfig::parse(&text, &paths.config_file).unwrap();
    Settings::resolve(cfg, paths, true, Vec::new(), &|k| {
        k.ends_with("_API_KEY").then(|| "bench-key".to_string())
    })
    .unwrap()
}

fn session() -> Session {
    let mut s = Session::new(None, None);
    for i in 0..TURNS {
        let body = format!("step {i} of the refactor, touching src/mod{i}.rs ").repeat(6);
        s.push_user(&format!("Question {i}: {body}"));
        s.set_answer(AnswerRecord {
            blocks: vec![Block::text(format!("Answer {i}: {body}"))],
            model: ModelRef::parse("anthropic/primary").expect("a model reference"),
            segments: Vec::new(),
            attempts: Vec::new(),
            usage: Usage::default(),
            partial: false,
            at: String::new(),
            notes: Vec::new(),
        });
    }
    s
}

fn summary() -> RollingSummary {
    let mut text = String::from("## Goal\nRefactor the module tree.\n## Files and identifiers\n");
    for i in (0..TURNS).step_by(6) {
        let _ = writeln!(text, "- src/mod{i}.rs: moved");
    }
    text.push_str("## Open questions\nNone.\n## Last code state\nBuilds.");
    RollingSummary {
        text,
        turns: TURNS,
        model: ModelRef::parse("anthropic/cheap-haiku").expect("a model reference"),
        usage: Usage::default(),
        at: String::new(),
    }
}

/// Time to the local model's first text, and what fitting reported.
async fn first_local_token(r: &Router, req: &ChatRequest) -> (Duration, Option<FitReport>) {
    let route = [
        ModelRef::parse("anthropic/primary").unwrap(),
        ModelRef::parse("local/default").unwrap(),
    ];
    let start = Instant::now();
    let mut first = None;
    let mut fit = None;
    let mut on = |e: RouterEvent| match e {
        RouterEvent::Text { model, .. } if model.provider == "local" && first.is_none() => {
            first = Some(start.elapsed());
        }
        RouterEvent::HistoryFitted { report, .. } => fit = Some(report),
        _ => {}
    };
    let res = r.run(&route, req, &mut on, &CancellationToken::new()).await;
    assert!(res.is_ok(), "bench request failed: {:?}", res.err());
    (first.unwrap_or_else(|| start.elapsed()), fit)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    // The model: AIW_BENCH_MODEL, else the test model scripts/setup-test-env.sh caches.
    let path = std::env::var_os("AIW_BENCH_MODEL")
        .or_else(|| std::env::var_os("AIW_TEST_MODEL"))
        .map_or_else(
            || {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/aiw/test/SmolLM2-135M-Instruct.Q4_1.gguf")
            },
            PathBuf::from,
        );
    assert!(
        path.is_file(),
        "model {} not found: run scripts/setup-test-env.sh or set AIW_BENCH_MODEL",
        path.display()
    );
    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Unavailable)),
    );
    let dir = tempfile::tempdir().unwrap();
    let s = settings(&emu.base_url(), &path.display().to_string(), dir.path());
    let r = Router::with_parts(Arc::new(s), HealthStore::in_memory(), Journal::disabled()).unwrap();
    let plain = session();
    let mut summarised = session();
    summarised.summary = Some(summary());
    let request = |s: &Session, rep: usize| {
        let mut req = s.to_request(Some("What did we move last?"));
        req.system = Some(format!("Run {rep}. You are a careful coding assistant."));
        req.max_tokens = Some(8);
        req.temperature = Some(0.0);
        req
    };
    // Warm-up: loads the model.
    let _ = first_local_token(&r, &request(&plain, 999)).await;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let (mut fit_with, mut fit_without) = (None, None);
    for rep in 0..REPS {
        let (t, f) = first_local_token(&r, &request(&summarised, rep * 2)).await;
        println!("  run {rep}: with a summary {:8.1} ms", ms(t));
        with.push(t);
        fit_with = f;
        let (t, f) = first_local_token(&r, &request(&plain, rep * 2 + 1)).await;
        println!(
            "  run {rep}: without        {:8.1} ms (reduces on the local model)",
            ms(t)
        );
        without.push(t);
        fit_without = f;
    }
    let (w, wo) = (median(with), median(without));
    println!(
        "summary: {TURNS}-turn session, every remote down, local context 2048, {REPS} runs each"
    );
    println!(
        "  with a ready summary:    first local token {:8.1} ms  ({})",
        ms(w),
        fit_with.map_or("not fitted".into(), |f| f.describe("local"))
    );
    println!(
        "  without a summary:       first local token {:8.1} ms  ({})",
        ms(wo),
        fit_without.map_or("not fitted".into(), |f| f.describe("local"))
    );
    println!("  ratio with/without: {:.2}", ms(w) / ms(wo).max(0.001));
}
