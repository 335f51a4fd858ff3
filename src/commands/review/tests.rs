//! Tests of the review engine and its policies with a scripted [`ReviewModel`] (no router,
//! no network): degraded answers, everything down, partial failures, unreadable answers, the
//! timeout flush, the concurrency limit, and that every output says what happened.

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;
use crate::cli::{FailOn, OnUnavailable};

type Script =
    dyn Fn(usize, &ChatRequest) -> (Result<ModelAnswer, Unavailable>, Duration) + Send + Sync;

struct Fake {
    script: Box<Script>,
    calls: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    requests: Mutex<Vec<ChatRequest>>,
}

impl Fake {
    fn new(
        f: impl Fn(usize, &ChatRequest) -> (Result<ModelAnswer, Unavailable>, Duration)
        + Send
        + Sync
        + 'static,
    ) -> Self {
        Self {
            script: Box::new(f),
            calls: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            requests: Mutex::new(Vec::new()),
        }
    }
}

impl ReviewModel for Fake {
    fn answer<'a>(
        &'a self,
        _tier: usize,
        req: &'a ChatRequest,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<ModelAnswer, Unavailable>> {
        Box::pin(async move {
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            self.requests.lock().expect("lock").push(req.clone());
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let (result, delay) = (self.script)(n, req);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = cancel.cancelled() => {}
            }
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            result
        })
    }
}

#[expect(clippy::unnecessary_wraps, reason = "mirrors `down` for the scripts")]
fn answer(text: &str, model: &str, degraded: bool) -> Result<ModelAnswer, Unavailable> {
    Ok(ModelAnswer {
        text: text.into(),
        model: model.into(),
        degraded,
        cut: false,
        rejected: Vec::new(),
    })
}

fn down() -> Result<ModelAnswer, Unavailable> {
    Err(Unavailable {
        config_problem: false,
        rejected: Vec::new(),
        reason: "anthropic/claude-sonnet-4-6 (overloaded: 529); local/smollm2-135m (unavailable: not installed)".into(),
        too_long: false,
    })
}

/// A part the model says does not fit its window (its tokenizer counts more than the chunk
/// budget's estimate) is retried in halves until it fits: every file is reviewed, none is
/// reported as unavailable.
#[tokio::test]
async fn a_part_too_long_for_the_model_is_reviewed_in_halves() {
    let fake = Fake::new(|_, req| {
        let text = req.messages[0].text();
        if text.matches("diff --git").count() > 1 {
            return (
                Err(Unavailable {
                    config_problem: false,
                    rejected: Vec::new(),
                    reason: "local/smollm2-135m (context_too_long: the prompt does not fit)".into(),
                    too_long: true,
                }),
                Duration::ZERO,
            );
        }
        (
            answer(
                &finding_json(&chunk_file(req), 2, "warning", "w"),
                "local/smollm2-135m",
                false,
            ),
            Duration::ZERO,
        )
    });
    // One chunk holds all four files; the model takes one file at a time.
    let out = review_diff(&fake, diff_of(4).as_bytes(), "the diff", &opts(400))
        .await
        .expect("review");
    let r = &out.report;
    assert_eq!(r.findings.len(), 4, "{:?}", r.status);
    assert!(matches!(r.status, Status::Complete), "{:?}", r.status);
    // 1 whole, 2 halves, then 4 quarters (the halves still held two files each).
    assert_eq!(fake.calls.load(Ordering::SeqCst), 7);
}

/// `n` files of one small hunk each; with a budget of 100 every file is its own chunk.
fn diff_of(n: usize) -> String {
    let mut s = String::new();
    for i in 0..n {
        let _ = write!(
            s,
            "diff --git a/src/f{i}.rs b/src/f{i}.rs\n--- a/src/f{i}.rs\n+++ b/src/f{i}.rs\n@@ -1,1 +1,2 @@\n fn f{i}() {{}}\n+fn g{i}() {{ {} }}\n",
            "x".repeat(120)
        );
    }
    s
}

fn opts(budget_tokens: usize) -> EngineOptions {
    EngineOptions {
        system: system_prompt(DEFAULT_PROMPT, &[]),
        budget: Budget {
            diff_tokens: budget_tokens,
            max_output: 1024,
        },
        concurrency: 4,
        deadline: None,
        exclude: vec![],
        include: vec![],
        route: vec![
            "anthropic/claude-sonnet-4-6".into(),
            "local/smollm2-135m".into(),
        ],
        max_chunks: diff::DEFAULT_MAX_CHUNKS,
        redactor: Redactor::default(),
        lower_tiers: Vec::new(),
        advisory: Vec::new(),
        filter_mode: crate::cli::FilterMode::default(),
        root: None,
    }
}

fn finding_json(file: &str, line: u32, sev: &str, title: &str) -> String {
    format!(
        r#"[{{"file":"{file}","start_line":{line},"end_line":{line},"severity":"{sev}","title":"{title}","explanation":"because","suggestion":null}}]"#
    )
}

/// The file named in the chunk's first `diff --git` line.
fn chunk_file(req: &ChatRequest) -> String {
    let m = &req.messages[0].text();
    m.split("diff --git a/")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or("")
        .to_string()
}

#[tokio::test]
async fn complete_review_by_the_primary() {
    let fake = Fake::new(|_, req| {
        let f = chunk_file(req);
        (
            answer(
                &format!("```json\n{}\n```", finding_json(&f, 2, "error", "bad g")),
                "anthropic/claude-sonnet-4-6",
                false,
            ),
            Duration::ZERO,
        )
    });
    let out = review_diff(&fake, diff_of(3).as_bytes(), "test diff", &opts(100))
        .await
        .expect("review");
    let r = out.report;
    assert_eq!(r.status, Status::Complete);
    assert_eq!(r.chunks.total, 3);
    assert_eq!(r.chunks.reviewed, 3);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
    assert_eq!(r.findings.len(), 3);
    assert!(r.findings.iter().all(|f| f.in_diff));
    assert!(!r.degraded);
    assert_eq!(r.models, vec!["anthropic/claude-sonnet-4-6"]);
    assert!(out.unreviewed.is_empty());
    assert_eq!(report::exit_code(&r, FailOn::Error, OnUnavailable::Skip), 1);
    assert_eq!(report::exit_code(&r, FailOn::Never, OnUnavailable::Skip), 0);
    // Every request carries the grammar, the output contract and a bounded answer.
    let reqs = fake.requests.lock().expect("lock");
    for req in reqs.iter() {
        assert_eq!(req.grammar.as_deref(), Some(findings::FINDINGS_GRAMMAR));
        assert!(
            req.system
                .as_deref()
                .is_some_and(|s| s.contains("Answer with ONLY a JSON array"))
        );
        assert_eq!(req.max_tokens, Some(1024));
        assert!(req.messages[0].text().contains("```diff\n"));
    }
}

#[tokio::test]
async fn degraded_review_is_reported_everywhere() {
    let fake = Fake::new(|_, req| {
        let f = chunk_file(req);
        (
            answer(
                &finding_json(&f, 2, "warning", "w"),
                "local/smollm2-135m",
                true,
            ),
            Duration::ZERO,
        )
    });
    let r = review_diff(&fake, diff_of(2).as_bytes(), "d", &opts(100))
        .await
        .expect("review")
        .report;
    assert!(r.degraded);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Outputs {
        json: Some(dir.path().join("r.json")),
        sarif: Some(dir.path().join("r.sarif")),
        rdjson: Some(dir.path().join("r.rdjson")),
        gitlab: Some(dir.path().join("gl.json")),
        markdown: false,
        github: true,
        step_summary: Some(dir.path().join("summary.md")),
        step_output: Some(dir.path().join("output.txt")),
    };
    let (printed, res) = write_outputs(&r, &out, &Redactor::default());
    let stdout = printed.stdout;
    res.expect("written");
    assert!(
        stdout.contains("DEGRADED review: reviewed by local/smollm2-135m (the local model"),
        "{stdout}"
    );
    assert!(stdout.contains("::warning title=aiw review degraded::"));
    let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).expect("file");
    let j: serde_json::Value = serde_json::from_str(&read("r.json")).expect("json");
    assert_eq!(j["degraded"], true);
    let s: serde_json::Value = serde_json::from_str(&read("r.sarif")).expect("sarif");
    assert_eq!(s["runs"][0]["properties"]["degraded"], true);
    assert!(read("r.rdjson").contains("DEGRADED review"));
    assert!(read("gl.json").contains("DEGRADED review"));
    assert!(read("summary.md").contains("DEGRADED review"));
    let o = read("output.txt");
    assert!(
        o.contains("degraded<<aiw_EOF_") && o.contains("\ntrue\n"),
        "{o}"
    );
    assert!(o.contains("\nlocal/smollm2-135m\n"));
}

#[tokio::test]
async fn a_degraded_reviews_fallback_note_gives_the_fallbacks_eval_score() {
    let fake = Fake::new(|_, req| {
        let f = chunk_file(req);
        (
            answer(&finding_json(&f, 2, "warning", "w"), "openai/gpt-5.5", true),
            Duration::ZERO,
        )
    });
    let r = review_diff(&fake, diff_of(1).as_bytes(), "d", &opts(100))
        .await
        .expect("review")
        .report;
    let route = [
        ModelRef::parse("anthropic/claude-sonnet-4-6").expect("model"),
        ModelRef::parse("openai/gpt-5.5").expect("model"),
    ];
    let state = tempfile::tempdir().expect("tempdir");
    let plain = fallback_note(&r, &route, FallbackPolicy::Notify, state.path()).expect("note");
    assert!(
        plain.starts_with("fallback: reviewed by openai/gpt-5.5 instead of"),
        "{plain}"
    );
    let three_days_ago = crate::router::Clock::system()
        .now_ms()
        .saturating_sub(3 * 24 * 3600 * 1000 + 60_000);
    let score = crate::eval::Score {
        passed: 9,
        total: 10,
        at_ms: three_days_ago,
        p50_ms: None,
        input_tokens: 0,
        output_tokens: 0,
    };
    crate::eval::Scores::record(
        state.path(),
        &std::collections::BTreeMap::from([("openai/gpt-5.5".to_string(), score)]),
    )
    .expect("scores");
    let note = fallback_note(&r, &route, FallbackPolicy::Notify, state.path()).expect("note");
    assert!(
        note.starts_with(
            "fallback: reviewed by openai/gpt-5.5 (9/10 on your evals, 3 days ago) instead of"
        ),
        "{note}"
    );
    assert_eq!(
        fallback_note(&r, &route, FallbackPolicy::Auto, state.path()),
        None
    );
}

#[tokio::test]
async fn everything_down_skips_with_the_message_in_every_output() {
    let fake = Fake::new(|_, _| (down(), Duration::ZERO));
    let r = review_diff(&fake, diff_of(2).as_bytes(), "d", &opts(100))
        .await
        .expect("review")
        .report;
    assert!(r.is_skipped(), "{:?}", r.status);
    assert_eq!(
        report::exit_code(&r, FailOn::Error, OnUnavailable::Skip),
        75
    );
    assert_eq!(report::exit_code(&r, FailOn::Error, OnUnavailable::Warn), 0);
    assert_eq!(report::exit_code(&r, FailOn::Error, OnUnavailable::Fail), 3);
    assert_eq!(
        report::exit_code(&r, FailOn::Error, OnUnavailable::Queue),
        75
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Outputs {
        json: Some(dir.path().join("r.json")),
        sarif: Some(dir.path().join("r.sarif")),
        rdjson: Some(dir.path().join("r.rdjson")),
        gitlab: Some(dir.path().join("gl.json")),
        markdown: false,
        github: true,
        step_summary: Some(dir.path().join("summary.md")),
        step_output: Some(dir.path().join("output.txt")),
    };
    let (printed, res) = write_outputs(&r, &out, &Redactor::default());
    let stdout = printed.stdout;
    res.expect("written");
    let msg = report::SKIP_MESSAGE;
    assert!(stdout.contains(&format!("aiw review: {msg}.")), "{stdout}");
    assert!(
        stdout.contains(&format!("::warning title=aiw review skipped::{msg}")),
        "{stdout}"
    );
    assert!(
        stdout.contains("overloaded: 529"),
        "the attempts are listed: {stdout}"
    );
    for f in ["r.json", "r.rdjson", "gl.json", "summary.md"] {
        let t = std::fs::read_to_string(dir.path().join(f)).expect("file");
        assert!(t.contains(msg), "{f}: {t}");
    }
    // An empty SARIF would close the open code-scanning alerts: none is written, and the
    // outputs say so.
    assert!(!dir.path().join("r.sarif").exists());
    assert!(stdout.contains("No SARIF file was written"), "{stdout}");
    let o = std::fs::read_to_string(dir.path().join("output.txt")).expect("file");
    assert!(o.contains("skipped<<") && o.contains("status<<"), "{o}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.json")).expect("file"))
            .expect("json");
    assert_eq!(j["status"], "skipped");
    assert_eq!(j["skipped"], true);
    assert_eq!(j["message"], msg);
}

#[tokio::test]
async fn some_chunks_down_is_partial_and_keeps_findings() {
    let fake = Fake::new(|_, req| {
        let f = chunk_file(req);
        if f == "src/f1.rs" {
            (down(), Duration::ZERO)
        } else {
            (
                answer(&finding_json(&f, 2, "note", "n"), "openai/gpt-5.5", true),
                Duration::ZERO,
            )
        }
    });
    let out = review_diff(&fake, diff_of(3).as_bytes(), "d", &opts(100))
        .await
        .expect("review");
    let r = &out.report;
    assert!(r.is_partial(), "{:?}", r.status);
    assert_eq!(r.chunks.reviewed, 2);
    assert_eq!(r.chunks.unavailable, 1);
    assert_eq!(r.findings.len(), 2);
    assert!(out.unreviewed.contains("src/f1.rs") && !out.unreviewed.contains("src/f0.rs"));
    assert!(
        r.banner()
            .join("\n")
            .contains("PARTIAL review: 2 of 3 chunk(s) reviewed")
    );
    assert_eq!(report::exit_code(r, FailOn::Error, OnUnavailable::Skip), 75);
    assert_eq!(report::exit_code(r, FailOn::Error, OnUnavailable::Warn), 0);
}

#[tokio::test]
async fn unreadable_answers_are_noted_not_silently_passed() {
    let fake = Fake::new(|_, _| {
        (
            answer("I think it looks fine!", "gemini/gemini-2.5-flash", false),
            Duration::ZERO,
        )
    });
    let r = review_diff(&fake, diff_of(1).as_bytes(), "d", &opts(100))
        .await
        .expect("review")
        .report;
    assert!(r.is_partial());
    assert_eq!(r.chunks.unreadable, 1);
    assert!(
        r.notes[0].contains("not a findings JSON array"),
        "{:?}",
        r.notes
    );
    assert_ne!(report::exit_code(&r, FailOn::Error, OnUnavailable::Skip), 0);
}

#[tokio::test]
async fn timeout_flushes_what_was_found_so_far() {
    let fake = Fake::new(|n, req| {
        let f = chunk_file(req);
        let delay = if n == 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(30)
        };
        (
            answer(
                &finding_json(&f, 2, "warning", "w"),
                "anthropic/claude-sonnet-4-6",
                false,
            ),
            delay,
        )
    });
    let mut o = opts(100);
    o.concurrency = 1;
    o.deadline = Some(Instant::now() + Duration::from_millis(300));
    let out = review_diff(&fake, diff_of(3).as_bytes(), "d", &o)
        .await
        .expect("review");
    let r = out.report;
    // Had it waited past the deadline, the slow chunks would have been reviewed too.
    assert!(
        matches!(&r.status, Status::Partial(why) if why.contains("time budget")),
        "{:?}",
        r.status
    );
    assert_eq!(r.chunks.reviewed, 1);
    assert_eq!(r.chunks.timed_out, 2);
    assert_eq!(r.findings.len(), 1);
    let j = formats::json(&r);
    assert_eq!(j["partial"], true);
    assert_eq!(j["findings"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        report::exit_code(&r, FailOn::Error, OnUnavailable::Skip),
        75
    );
    assert_eq!(
        report::exit_code(&r, FailOn::Warning, OnUnavailable::Skip),
        1
    );
}

#[tokio::test]
async fn chunks_run_in_parallel_within_the_limit() {
    let fake = Fake::new(|_, _| (answer("[]", "m/m", false), Duration::from_millis(50)));
    let mut o = opts(100);
    o.concurrency = 3;
    let r = review_diff(&fake, diff_of(10).as_bytes(), "d", &o)
        .await
        .expect("review")
        .report;
    assert_eq!(r.status, Status::Complete);
    assert_eq!(fake.calls.load(Ordering::SeqCst), 10);
    let max = fake.max_in_flight.load(Ordering::SeqCst);
    assert!((2..=3).contains(&max), "max in flight {max}");
    assert_eq!(
        report::exit_code(&r, FailOn::Warning, OnUnavailable::Fail),
        0
    );
}

#[tokio::test]
async fn duplicate_findings_across_chunks_are_merged() {
    let fake = Fake::new(|_, _| {
        (
            answer(&finding_json("src/f0.rs", 2, "error", "same"), "m/m", false),
            Duration::ZERO,
        )
    });
    let r = review_diff(&fake, diff_of(3).as_bytes(), "d", &opts(100))
        .await
        .expect("review")
        .report;
    assert_eq!(r.findings.len(), 1);
}

#[tokio::test]
async fn nothing_to_review_says_so_and_exits_zero() {
    let fake = Fake::new(|_, _| (answer("[]", "m/m", false), Duration::ZERO));
    let r = review_diff(&fake, b"", "d", &opts(100))
        .await
        .expect("review")
        .report;
    assert!(matches!(r.status, Status::NothingToReview(_)));
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
    assert!(formats::text(&r, false).contains("Nothing was reviewed: the diff is empty"));
    assert_eq!(
        report::exit_code(&r, FailOn::Warning, OnUnavailable::Fail),
        0
    );

    let bin = b"diff --git a/x.png b/x.png\nBinary files a/x.png and b/x.png differ\n";
    let r = review_diff(&fake, bin, "d", &opts(100))
        .await
        .expect("review")
        .report;
    let t = formats::text(&r, false);
    assert!(
        t.contains("all 1 changed file(s) were skipped") && t.contains("x.png (binary file)"),
        "{t}"
    );
}

#[test]
fn prompt_focus_and_fences() {
    let s = system_prompt(
        "Check {{focus}} please.",
        &["security".into(), "sql".into()],
    );
    assert!(s.starts_with("Check security, sql please."));
    assert!(s.contains(OUTPUT_CONTRACT.trim()));
    let s = system_prompt("No placeholder.", &[]);
    assert!(s.contains("Focus: correctness, security and maintainability."));
    let c = diff::Chunk {
        index: 0,
        text: "+let s = \"```\";\n".into(),
        files: vec![],
    };
    let m = chunk_message(&c, 2);
    assert!(m.contains("part 1 of 2"));
    assert!(m.contains("````diff\n"), "{m}");
}

#[test]
fn deadline_margin_is_ten_percent_or_five_seconds() {
    assert_eq!(
        deadline_margin(Duration::from_mins(10)),
        Duration::from_mins(1)
    );
    assert_eq!(
        deadline_margin(Duration::from_secs(20)),
        Duration::from_secs(5)
    );
    assert_eq!(
        deadline_margin(Duration::from_secs(4)),
        Duration::from_secs(2)
    );
}

/// `aiw review ARGS` as clap parses it.
fn review_args(args: &[&str]) -> ReviewArgs {
    use clap::Parser as _;
    let cli = crate::cli::Cli::try_parse_from([&["aiw", "review"], args].concat())
        .expect("valid review arguments");
    match cli.command {
        crate::cli::Command::Review(a) => a,
        other => panic!("not a review command: {other:?}"),
    }
}

#[test]
fn github_outputs_only_on_actions() {
    let args = review_args(&[]);
    let gh = |k: &str| match k {
        "GITHUB_ACTIONS" => Some("true".to_string()),
        "GITHUB_STEP_SUMMARY" => Some("/tmp/s".to_string()),
        "GITHUB_OUTPUT" => Some("/tmp/o".to_string()),
        _ => None,
    };
    let o = Outputs::from_args(&args, &gh);
    assert!(o.github);
    assert_eq!(o.step_summary.as_deref(), Some(Path::new("/tmp/s")));
    assert_eq!(o.step_output.as_deref(), Some(Path::new("/tmp/o")));
    let local = |k: &str| match k {
        "GITHUB_STEP_SUMMARY" => Some("/tmp/s".to_string()),
        _ => None,
    };
    let o = Outputs::from_args(&args, &local);
    assert!(!o.github && o.step_summary.is_none());
}

// See: issue 13 ("Silently unreviewed diffs": past the chunk budget the result said complete).
#[tokio::test]
async fn files_over_the_chunk_budget_make_the_review_partial_with_counts() {
    let fake = Fake::new(|_, _| {
        (
            answer("[]", "anthropic/claude-sonnet-4-6", false),
            Duration::ZERO,
        )
    });
    let mut o = opts(100);
    o.max_chunks = 3;
    let out = review_diff(&fake, diff_of(10).as_bytes(), "d", &o)
        .await
        .expect("review");
    let r = out.report;
    assert_eq!(fake.calls.load(Ordering::SeqCst), 3);
    assert!(r.is_partial(), "{:?}", r.status);
    assert_eq!(r.coverage.files, 10);
    assert_eq!(r.coverage.files_reviewed, 3);
    assert_eq!(r.coverage.files_over_budget, 7);
    let text = formats::text(&r, false);
    assert!(
        text.contains("3 of 10 files reviewed; 7 files over the chunk budget; 0 lines truncated."),
        "{text}"
    );
    assert!(text.contains("[review] max_chunks"), "{text}");
    // Not an outage: exit 4 whatever --on-unavailable says, and nothing is queued.
    for u in [
        OnUnavailable::Skip,
        OnUnavailable::Warn,
        OnUnavailable::Queue,
    ] {
        assert_eq!(
            report::exit_code(&r, FailOn::Error, u),
            crate::exit::PARTIAL
        );
    }
    assert!(out.unreviewed.is_empty());
    let j = formats::json(&r);
    assert_eq!(j["status"], "partial");
    assert_eq!(j["coverage"]["files_over_budget"], 7);
    let sarif = formats::sarif(&r);
    assert_eq!(
        sarif["runs"][0]["properties"]["coverage"]["files_reviewed"],
        3
    );
    assert!(formats::github_annotations(&r)[0].contains("3 of 10 files reviewed"));
    assert!(formats::github_outputs(&r).contains("\n7\n"));
    assert!(
        formats::rdjson(&r)
            .to_string()
            .contains("7 files over the chunk budget")
    );
    assert!(
        formats::gitlab(&r)
            .to_string()
            .contains("7 files over the chunk budget")
    );
    assert!(formats::summary(&r).contains("7 files over the chunk budget"));
}

#[tokio::test]
async fn cut_lines_make_the_review_partial() {
    let fake = Fake::new(|_, _| (answer("[]", "m/m", false), Duration::ZERO));
    let long = "y".repeat(20_000);
    let diff =
        format!("diff --git a/a.js b/a.js\n--- a/a.js\n+++ b/a.js\n@@ -1 +1 @@\n-x\n+{long}\n");
    let r = review_diff(&fake, diff.as_bytes(), "d", &opts(400))
        .await
        .expect("review")
        .report;
    assert!(r.is_partial(), "{:?}", r.status);
    assert_eq!(r.coverage.lines_truncated, 1);
    assert_eq!(r.coverage.files_reviewed, 1);
    assert!(
        formats::text(&r, false)
            .contains("1 of 1 files reviewed; 0 files over the chunk budget; 1 lines truncated."),
    );
}

#[tokio::test]
async fn garbage_is_an_error_but_an_empty_diff_is_not() {
    let fake = Fake::new(|_, _| (answer("[]", "m/m", false), Duration::ZERO));
    let garbage: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for input in [&garbage[..], b"just some text\nwith no diff in it\n"] {
        let err = review_diff(&fake, input, "diff from junk.bin", &opts(100))
            .await
            .err()
            .expect("an error");
        let msg = err.to_string();
        assert!(msg.contains("is not a unified diff"), "{msg}");
        assert!(msg.contains("git diff"), "{msg}");
        let code = err.downcast_ref::<output::Exit>().map(|e| e.code);
        assert_eq!(code, Some(crate::exit::USAGE));
    }
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0);
    for empty in [&b""[..], b"\n \n"] {
        let r = review_diff(&fake, empty, "d", &opts(100))
            .await
            .expect("an empty diff is fine")
            .report;
        assert!(matches!(r.status, Status::NothingToReview(_)));
    }
}

#[tokio::test]
async fn secrets_never_reach_the_prompt_or_any_output() {
    const CANARY: &str = "sk-canary-ABCDEF0123456789";
    // A model that echoes the key back (as if it had learnt it elsewhere).
    let fake = Fake::new(|_, req| {
        let f = chunk_file(req);
        let leak = format!(
            r#"[{{"file":"{f}","start_line":2,"end_line":2,"severity":"error","title":"key {CANARY}","explanation":"it is {CANARY}","suggestion":"{CANARY}"}}]"#
        );
        (
            answer(&leak, "anthropic/claude-sonnet-4-6", false),
            Duration::ZERO,
        )
    });
    let mut o = opts(100);
    o.redactor = Redactor::new([CANARY]);
    o.system = o
        .redactor
        .scrub(&format!("instructions with {CANARY}"))
        .into_owned();
    let diff = format!(
        "diff --git a/src/k.rs b/src/k.rs\n--- a/src/k.rs\n+++ b/src/k.rs\n@@ -1,1 +1,2 @@\n fn k() {{}}\n+const KEY: &str = \"{CANARY}\";\n"
    );
    let r = review_diff(&fake, diff.as_bytes(), "d", &o)
        .await
        .expect("review")
        .report;
    for req in fake.requests.lock().expect("lock").iter() {
        let sent = serde_json::to_string(req).expect("json");
        assert!(!sent.contains(CANARY), "{sent}");
        assert!(sent.contains("[REDACTED]"));
    }
    assert_eq!(r.coverage.secrets_redacted, 1);
    assert!(r.notes.iter().any(|n| n.contains("1 secret value(s)")));
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Outputs {
        json: Some(dir.path().join("r.json")),
        sarif: Some(dir.path().join("r.sarif")),
        rdjson: Some(dir.path().join("r.rdjson")),
        gitlab: Some(dir.path().join("gl.json")),
        markdown: false,
        github: true,
        step_summary: Some(dir.path().join("summary.md")),
        step_output: Some(dir.path().join("output.txt")),
    };
    let (printed, res) = write_outputs(&r, &out, &o.redactor);
    res.expect("written");
    assert!(printed.stdout.contains("::error"), "{}", printed.stdout);
    assert!(!printed.stdout.contains(CANARY) && !printed.stderr.contains(CANARY));
    for f in [
        "r.json",
        "r.sarif",
        "r.rdjson",
        "gl.json",
        "summary.md",
        "output.txt",
    ] {
        let text = std::fs::read_to_string(dir.path().join(f)).expect("file");
        assert!(!text.contains(CANARY), "{f}: {text}");
    }
}

#[tokio::test]
async fn a_report_on_stdout_moves_the_text_to_stderr() {
    let fake = Fake::new(|_, _| (answer("[]", "m/m", false), Duration::ZERO));
    let r = review_diff(&fake, diff_of(1).as_bytes(), "d", &opts(100))
        .await
        .expect("review")
        .report;
    let out = Outputs {
        json: Some("-".into()),
        ..Outputs::default()
    };
    let (printed, res) = write_outputs(&r, &out, &Redactor::default());
    res.expect("written");
    let j: serde_json::Value = serde_json::from_str(&printed.stdout).expect("stdout is the JSON");
    assert_eq!(j["status"], "complete");
    assert!(
        printed.stderr.contains("Reviewed by m/m."),
        "{}",
        printed.stderr
    );
    let two = Outputs {
        json: Some("-".into()),
        sarif: Some("/dev/stdout".into()),
        ..Outputs::default()
    };
    let (_, res) = write_outputs(&r, &two, &Redactor::default());
    assert!(res.unwrap_err().to_string().contains("only one report"));
}

#[tokio::test]
async fn a_lower_tier_gets_its_own_prompt_budget_and_smaller_parts() {
    // Tier 0 (cloud) takes the whole diff in one part with long answers; it is down, so the
    // part is split for the local tier's small budget, each piece with the small prompt.
    let fake = Fake::new(|_, req| {
        if req.system.as_deref() == Some("SMALL") {
            let f = chunk_file(req);
            (
                answer(
                    &finding_json(&f, 2, "error", "e"),
                    "local/smollm2-135m",
                    false,
                ),
                Duration::ZERO,
            )
        } else {
            (down(), Duration::ZERO)
        }
    });
    let mut o = opts(24_000);
    o.budget.max_output = 4096;
    o.lower_tiers = vec![Tier {
        models: vec!["local/smollm2-135m".into()],
        system: "SMALL".into(),
        budget: Budget {
            diff_tokens: 100,
            max_output: 256,
        },
    }];
    o.advisory = vec!["local/smollm2-135m".into()];
    let out = review_diff(&fake, diff_of(3).as_bytes(), "d", &o)
        .await
        .expect("review");
    let reqs = fake.requests.lock().expect("lock").clone();
    let big: Vec<_> = reqs
        .iter()
        .filter(|r| r.system.as_deref() != Some("SMALL"))
        .collect();
    let small: Vec<_> = reqs
        .iter()
        .filter(|r| r.system.as_deref() == Some("SMALL"))
        .collect();
    assert_eq!(big.len(), 1, "one part for the cloud tier");
    assert_eq!(big[0].max_tokens, Some(4096));
    assert_eq!(small.len(), 3, "split in three for the local tier");
    assert!(small.iter().all(|r| r.max_tokens == Some(256)));
    let r = out.report;
    assert_eq!(r.status, Status::Complete);
    assert!(r.degraded, "a lower tier is degraded");
    assert_eq!(r.parts.len(), 3);
    assert!(
        r.parts
            .iter()
            .all(|p| p.model.as_deref() == Some("local/smollm2-135m"))
    );
    assert_eq!(r.coverage.files_reviewed, 3);
    // The local model's errors are advisory: they never fail the step.
    assert_eq!(r.count(findings::Severity::Error), 3);
    assert!(r.findings.iter().all(|f| f.advisory));
    assert_eq!(report::exit_code(&r, FailOn::Error, OnUnavailable::Skip), 0);
    let b = r.banner().join("\n");
    assert!(
        b.contains("3 finding(s) from local/smollm2-135m are advisory"),
        "{b}"
    );
    let a = formats::github_annotations(&r);
    assert!(!a.iter().any(|l| l.starts_with("::error ")), "{a:?}");
}

#[test]
fn the_small_model_prompt_has_no_example_to_copy_and_copies_are_dropped() {
    let p = small_model_prompt(DEFAULT_PROMPT, &[]);
    for example in ["path/in/repo", "one line", "\"error\" |", "why it matters"] {
        assert!(!p.contains(example), "{example} in {p}");
        assert!(OUTPUT_CONTRACT.contains(example) || example == "\"error\" |");
    }
    assert!(p.contains("start_line, end_line, severity"), "{p}");
    // A model that copies the contract's example reports nothing.
    let copied = r#"[{"file": "path/in/repo", "start_line": 1, "end_line": 1, "severity": "error", "title": "one line", "explanation": "why it matters and how to fix it", "suggestion": null}]"#;
    let parsed = findings::parse_answer(copied).expect("parses");
    assert!(parsed.findings.is_empty());
    assert_eq!(parsed.dropped, 1);
    // A repository's own instructions are kept, with the contract without examples.
    let own = small_model_prompt("Only look for SQL injection.", &[]);
    assert!(own.starts_with("Only look for SQL injection."));
    assert!(!own.contains("path/in/repo"));
}
