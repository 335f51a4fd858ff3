//! Context that survives the switch: every model's `context_window` applied to what it is
//! sent (remote fallbacks included), the rolling session summary written by a cheap cloud
//! model in the background, and fitting that puts it in place of the turns a smaller window
//! cannot hold. The local-model end of it is in `local_route`.

use aiw::config::ModelRef;
use aiw::conversation::fit::FitReport;
use aiw::provider::{Block, Usage};
use aiw::router::{Answer, Router, RouterEvent};
use aiw::session::summary::{self, RollingSummary};
use aiw::session::{AnswerRecord, Session, SessionStore};
use aiw_emulator::{Action, Emulator, ErrorKind, Script};
use tokio_util::sync::CancellationToken;

use crate::support::{m, router, settings};

/// The facts planted in the first turns, which must survive to the smallest model.
pub const FACTS: [&str; 3] = ["BLUEFIN-7", "port 55432", "src/legacy/ledger.rs"];

/// A config whose providers point at the emulator: `anthropic` (no window set) and `openai`
/// with `context_window = openai_window`; `extra` appended.
pub fn config(base: &str, openai_window: u32, extra: &str) -> String {
    format!(
        r#"
[providers.anthropic]
base_url = "{base}"
[providers.openai]
base_url = "{base}/v1"
context_window = {openai_window}
[routes]
default = ["anthropic/primary", "openai/fallback"]
[timeouts]
connect = "1s"
first_token = "2s"
stall = "2s"
total = "20s"
[health]
base_open = "150ms"
max_open = "400ms"
probe_timeout = "1s"
max_retry_wait = "1s"
{extra}
"#
    )
}

/// A session of `turns` answered turns, about `words` words per message, with [`FACTS`]
/// planted in the first three questions.
pub fn long_session(turns: usize, words: usize) -> Session {
    let mut s = Session::new(Some("You are a careful coding assistant.".into()), None);
    let planted = [
        "Remember: the project codename is BLUEFIN-7.",
        "The test database listens on port 55432, never the default.",
        "Do not edit src/legacy/ledger.rs under any circumstances.",
    ];
    for i in 0..turns {
        let filler = format!("filler{i} ").repeat(words);
        let q = match planted.get(i) {
            Some(p) => format!("{p} {filler}"),
            None => format!("Question {i}: {filler}"),
        };
        s.push_user(&q);
        s.set_answer(AnswerRecord {
            blocks: vec![Block::text(format!("Answer {i}: {filler}"))],
            model: m("anthropic/primary"),
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

/// The summary the emulator's summariser writes: the planted facts in the structured form.
pub fn summary_text() -> String {
    format!(
        "## Goal\nPort the ledger tool.\n## Decisions and constraints\nCodename {}; test DB on {}.\n## Files and identifiers\nDo not edit {}.\n## Open questions\nNone.\n## Last code state\nTests pass.",
        FACTS[0], FACTS[1], FACTS[2]
    )
}

async fn run(
    r: &Router,
    route: &[ModelRef],
    req: &aiw::provider::ChatRequest,
) -> (Answer, Vec<RouterEvent>) {
    let mut events = Vec::new();
    let mut on = |e: RouterEvent| events.push(e);
    let a = r
        .run(route, req, &mut on, &CancellationToken::new())
        .await
        .unwrap();
    (a, events)
}

fn fitted(events: &[RouterEvent]) -> Vec<(String, FitReport)> {
    events
        .iter()
        .filter_map(|e| match e {
            RouterEvent::HistoryFitted { model, report } => {
                Some((model.to_string(), report.clone()))
            }
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_remote_fallback_gets_the_history_fitted_into_its_context_window() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script("fallback", Script::reply("ok"));
    let r = router(settings(&config(&emu.base_url(), 1200, ""), dir.path()));
    let route = [m("anthropic/primary"), m("openai/fallback")];
    // 12 turns of about 2,000 tokens in all, plus the new question: 25 messages.
    let session = long_session(12, 20);
    let req = session.to_request(Some("and now?"));
    assert_eq!(req.messages.len(), 25);
    let (a, events) = run(&r, &route, &req).await;
    assert_eq!(a.model, "openai/fallback");

    // The primary (no window configured) got everything; the fallback got what fits 1200.
    let primary = emu.requests_for("primary");
    assert_eq!(primary[0].message_texts().len(), 25);
    let sent = emu.requests_for("fallback")[0].message_texts();
    assert!(sent.len() < 25, "{} messages", sent.len());
    assert_eq!(sent.last().map(String::as_str), Some("and now?"));
    assert!(sent[0].starts_with("[aiw: "), "{}", sent[0]);
    let estimate: usize = sent
        .iter()
        .map(|t| aiw::conversation::history::estimate_text_tokens(t) + 8)
        .sum();
    let fits = fitted(&events);
    assert_eq!(fits.len(), 1, "{fits:?}");
    let (model, report) = &fits[0];
    assert_eq!(model, "openai/fallback");
    assert_eq!(report.turns, 13);
    assert!(report.kept < 13 && !report.summarised && !report.exact);
    assert!(
        report.tokens <= report.budget && report.budget < 1200,
        "{report:?}"
    );
    assert!(estimate <= report.budget, "{estimate} > {report:?}");
    assert_eq!(
        report.describe(model),
        format!(
            "history trimmed for openai/fallback: {} of 13 turns left out to fit its context window",
            13 - report.kept
        )
    );
}

#[tokio::test]
async fn a_ready_summary_stands_in_for_the_turns_a_fallback_cannot_hold() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Unavailable)),
    );
    emu.set_script("fallback", Script::reply("ok"));
    let r = router(settings(&config(&emu.base_url(), 1500, ""), dir.path()));
    let mut session = long_session(48, 20);
    session.summary = Some(RollingSummary {
        text: summary_text(),
        turns: 48,
        model: m("openai/fallback"),
        usage: Usage::default(),
        at: String::new(),
    });
    let req = session.to_request(Some("what is the codename?"));
    let (_, events) = run(&r, &[m("anthropic/primary"), m("openai/fallback")], &req).await;
    let sent = emu.requests_for("fallback")[0].message_texts();
    for fact in FACTS {
        assert!(sent[0].contains(fact), "{fact} missing from {}", sent[0]);
    }
    assert!(
        !sent.iter().any(|t| t.contains("filler0 ")),
        "turn 1 itself is gone"
    );
    let (model, report) = &fitted(&events)[0];
    assert!(report.summarised);
    assert_eq!(report.turns, 49);
    let last = report.kept;
    assert!((1..10).contains(&last), "{report:?}");
    assert_eq!(
        report.describe(model),
        format!("history summarised for openai/fallback: 49 turns -> summary + last {last}")
    );
    // The primary, without a window, was sent the history as it is, without the summary.
    let primary = emu.requests_for("primary")[0].message_texts();
    assert_eq!(primary.len(), 97);
    assert!(!primary[0].contains("BLUEFIN-7 ") && !primary[0].contains("<summary>"));
}

#[tokio::test]
async fn the_summariser_gets_the_new_turns_and_its_summary_is_stored_with_the_session() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    emu.set_script(
        "cheap-mini",
        Script::always(Action::Reply(
            aiw_emulator::Reply::new(&summary_text()).usage(900, 120),
        )),
    );
    let text = config(
        &emu.base_url(),
        128_000,
        "[summary]\nevery_turns = 6\nevery_tokens = 100000\n",
    );
    let s = settings(&text, dir.path());
    assert_eq!(s.summary.every_turns, 6);
    // No `model`: the route's cheapest cloud model, here the one named like a small tier.
    let route = [
        m("anthropic/primary"),
        m("openai/cheap-mini"),
        m("openai/big"),
    ];
    assert_eq!(
        summary::pick_model(&route, &s),
        Some(m("openai/cheap-mini"))
    );
    let plain = [m("anthropic/primary"), m("openai/big")];
    assert_eq!(summary::pick_model(&plain, &s), Some(m("openai/big")));
    let data = s.paths.data_dir.clone();
    let r = router(s.clone());

    let session = long_session(60, 10);
    assert!(summary::due(&session, &s.summary));
    let (req, turns) = summary::request(&session).unwrap();
    assert_eq!(turns, 60);
    let made = summary::refresh(
        &r,
        &m("openai/cheap-mini"),
        &req,
        turns,
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(made.text, summary_text());
    assert_eq!(made.turns, 60);
    assert_eq!(made.model, "openai/cheap-mini");
    assert_eq!(
        (made.usage.input_tokens, made.usage.output_tokens),
        (900, 120)
    );
    assert_eq!(
        summary::describe(&made),
        "session summary updated by openai/cheap-mini (turns 1-60; 900 tokens in, 120 out)"
    );
    // What the summariser was sent: the turns themselves, planted facts included.
    let sent = emu.requests_for("cheap-mini");
    assert_eq!(sent.len(), 1);
    let body = sent[0].message_texts().join("\n");
    assert!(body.contains("BLUEFIN-7") && body.contains("55432") && body.contains("ledger.rs"));
    assert!(
        sent[0]
            .system_text()
            .unwrap()
            .contains("## Files and identifiers")
    );

    // Stored with the session, and loaded back with it, with the fits recorded.
    let store = SessionStore::new(&data);
    let mut w = store.create(&session).unwrap();
    w.summary(&made).unwrap();
    let report = FitReport {
        turns: 61,
        kept: 6,
        summarised: true,
        tokens: 990,
        budget: 1000,
        exact: true,
    };
    w.fitted(&aiw::session::FitRecord {
        at: "2026-12-03T06:00:00.000Z".into(),
        model: m("local/default"),
        report: report.clone(),
    })
    .unwrap();
    drop(w);
    let (loaded, warnings) = store.load(&session.id).unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(loaded.summary.as_ref(), Some(&made));
    assert_eq!(loaded.fits.len(), 1);
    assert_eq!(loaded.fits[0].report, report);
    assert_eq!(loaded.turns.len(), 60);
    assert!(!summary::due(&loaded, &s.summary));
    assert!(loaded.to_request(None).summary.is_some());
}

#[tokio::test]
async fn a_stalling_summariser_never_delays_the_foreground_answer() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    emu.set_script("cheap-mini", Script::always(Action::Hang));
    emu.set_script("primary", Script::reply("the foreground answer"));
    // A summariser that hangs for good (its first-token limit is a minute away).
    let text = config(&emu.base_url(), 128_000, "")
        .replace("first_token = \"2s\"", "first_token = \"60s\"");
    let r = router(settings(&text, dir.path()));
    let session = long_session(8, 5);
    let (req, turns) = summary::request(&session).unwrap();
    let cancel = CancellationToken::new();
    let (done_tx, mut done_rx) = tokio::sync::oneshot::channel();
    let background = {
        let r = r.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            let out = summary::refresh(&r, &m("openai/cheap-mini"), &req, turns, &cancel).await;
            let _ = done_tx.send(());
            out
        })
    };
    // The summariser has its request and hangs on it.
    while emu.count("cheap-mini") == 0 {
        tokio::task::yield_now().await;
    }
    // The foreground answer streams and finishes while the summary is still outstanding.
    let (a, events) = run(
        &r,
        &[m("anthropic/primary")],
        &session.to_request(Some("next")),
    )
    .await;
    assert_eq!(a.text(), "the foreground answer");
    assert!(events.iter().any(|e| matches!(e, RouterEvent::Text { .. })));
    assert!(
        done_rx.try_recv().is_err(),
        "the summary must still be outstanding when the answer is complete"
    );
    assert!(!background.is_finished());
    // It ends when cancelled (or at its own timeouts), with an error that keeps the old summary.
    cancel.cancel();
    let out = background.await.unwrap();
    assert!(out.is_err());
}
