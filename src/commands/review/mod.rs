//! `aiw review`: the outage-proof CI code-review step. This file is the command: it picks
//! the route, runs a wrapped review command first when asked (`wrap`), gathers (within the
//! size and time limits), redacts and chunks the diff (`diff`), has each chunk reviewed in
//! parallel through a [`ReviewModel`] (the router in production, a fake in tests), merges the
//! findings (`findings`), applies the `--on-unavailable` and `--timeout` policies (queueing
//! with `queue`), writes every output (`formats`), redacted, and returns the documented exit
//! status (`report::exit_code`). Whatever was not read (over the chunk budget, cut lines)
//! makes the review partial, with counts. Which review policy applies (the checkout's, or in
//! CI the base branch's) is `policy`'s decision.
//!
//! See: /tmp/issue6.md (the spec) and ../../../../shared/reference/ci-formats.md.

pub mod diff;
pub mod findings;
pub mod formats;
pub mod policy;
pub mod queue;
pub mod report;
pub mod wrap;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Context;
use crate::cli::{FailOn, OnUnavailable, ReviewArgs};
use crate::config::ModelRef;
use crate::config::{FallbackPolicy, ProviderKind, Settings, parse_duration};
use crate::exit;
use crate::output;
use crate::provider::{ChatRequest, Message};
use crate::redact::Redactor;
use crate::router::Router;
use diff::{DiffSource, FileFilter, Skipped};
use report::{Coverage, Report, Reported, Status};

/// The built-in review instructions; a repository overrides them with `.aiw/review.md`.
pub const DEFAULT_PROMPT: &str = include_str!("../../../assets/review-prompt.md");

/// The output contract appended to every system prompt (also to a repository's own), so the
/// answer can be parsed whatever the instructions say.
pub const OUTPUT_CONTRACT: &str = r#"
Answer with ONLY a JSON array, no prose and no code fence. Each element:
{"file": "path/in/repo", "start_line": N, "end_line": N, "severity": "error" | "warning" | "note", "title": "one line", "explanation": "why it matters and how to fix it", "suggestion": "replacement text for start_line..end_line" or null}
Answer [] when there is nothing to report."#;

/// Chunks reviewed at once when `review.concurrency` is not set.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// A model's answer for one chunk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelAnswer {
    /// The answer text.
    pub text: String,
    /// `provider/model` that answered.
    pub model: String,
    /// Whether it came from a fallback or the local model rather than the primary.
    pub degraded: bool,
}

/// No model could answer a chunk; `reason` lists the attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    /// Every attempt and why it failed, for the report.
    pub reason: String,
    /// Every model failed with a configuration problem (auth, permission, unknown model, bad
    /// request): the user must fix something; skipping as if it were an outage would hide it.
    pub config_problem: bool,
}

/// What reviews one chunk: the router in production, a scripted fake in tests.
pub trait ReviewModel: Send + Sync {
    /// Answers one request; `cancel` is triggered when the time budget runs out.
    fn answer<'a>(
        &'a self,
        req: &'a ChatRequest,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<ModelAnswer, Unavailable>>;
}

/// The production [`ReviewModel`]: a route run through the [`Router`].
pub struct RouterModel {
    router: Router,
    route: Vec<ModelRef>,
}

impl RouterModel {
    /// Reviews with `route` through `router`.
    pub fn new(router: Router, route: Vec<ModelRef>) -> Self {
        Self { router, route }
    }
}

impl ReviewModel for RouterModel {
    fn answer<'a>(
        &'a self,
        req: &'a ChatRequest,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<ModelAnswer, Unavailable>> {
        Box::pin(async move {
            let mut on_event = |e: crate::router::RouterEvent| {
                tracing::debug!(event = ?e, "review chunk");
            };
            match self
                .router
                .run(&self.route, req, &mut on_event, cancel)
                .await
            {
                Ok(a) => Ok(ModelAnswer {
                    text: a.text(),
                    model: a.model,
                    degraded: a.degraded,
                }),
                Err(e) if e.attempts.is_empty() => Err(Unavailable {
                    reason: "no model of the route could be tried".into(),
                    config_problem: false,
                }),
                Err(e) => {
                    let config_problem = e.attempts.iter().all(|a| {
                        a.error_class
                            .is_some_and(crate::provider::ErrorClass::is_config_problem)
                    });
                    Err(Unavailable {
                        reason: e.to_string(),
                        config_problem,
                    })
                }
            }
        })
    }
}

/// How big chunks are and how long answers may be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Estimated tokens of diff per chunk.
    pub diff_tokens: usize,
    /// `max_tokens` for each answer.
    pub max_output: u32,
}

/// The chunk budget for a route: every chunk must fit the smallest context window of the
/// route (the local model's, often), since any model of the route may end up answering it.
/// Remote models without a configured window are assumed to have 128k tokens; chunks are
/// capped at 24k tokens of diff anyway, as reviews of smaller pieces are more thorough.
pub fn budget_for(settings: &Settings, route: &[ModelRef], prompt: &str) -> Budget {
    let window = route
        .iter()
        .map(|m| match settings.provider(m) {
            Some(p) if p.kind == ProviderKind::Local => {
                p.local.as_ref().map_or(4096, |l| l.context_size) as usize
            }
            Some(p) => p.context_window.unwrap_or(128_000) as usize,
            None => 128_000,
        })
        .min()
        .unwrap_or(128_000);
    let max_output = if window >= 32_000 { 4096 } else { window / 4 };
    let overhead = diff::estimate_tokens(prompt) + 200;
    let diff_tokens = window
        .saturating_sub(max_output + overhead)
        .clamp(256, 24_000);
    Budget {
        diff_tokens,
        max_output: max_output as u32,
    }
}

/// The system prompt: the template with its focus filled in, then the output contract.
pub fn system_prompt(template: &str, focus: &[String]) -> String {
    let focus = if focus.is_empty() {
        "correctness, security and maintainability".to_string()
    } else {
        focus.join(", ")
    };
    let body = if template.contains("{{focus}}") {
        template.replace("{{focus}}", &focus)
    } else {
        format!("{template}\n\nFocus: {focus}.")
    };
    format!("{}\n{OUTPUT_CONTRACT}\n", body.trim_end())
}

/// The user message for one chunk; the fence is longer than any backtick run in the diff.
pub fn chunk_message(chunk: &diff::Chunk, total: usize) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in chunk.text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!(
        "Review this diff (part {} of {total}). Line numbers are those of the new file.\n\n{fence}diff\n{}{fence}\n",
        chunk.index + 1,
        chunk.text
    )
}

/// Everything the review engine needs besides the diff and the model.
#[derive(Clone, Debug)]
pub struct EngineOptions {
    /// The system prompt (template + focus + output contract).
    pub system: String,
    /// Chunk and answer sizes.
    pub budget: Budget,
    /// Chunks reviewed at once.
    pub concurrency: usize,
    /// Stop waiting at this instant and report what was found (partial).
    pub deadline: Option<Instant>,
    /// Extra globs to skip.
    pub exclude: Vec<String>,
    /// Globs to review even when the built-in list skips them.
    pub include: Vec<String>,
    /// The route's models, for the banner.
    pub route: Vec<String>,
    /// Most chunks sent; files past it make the review partial.
    pub max_chunks: usize,
    /// Replaces known secrets in the diff and instructions before they are sent.
    pub redactor: Redactor,
}

/// A finished review plus the part of the diff that was not reviewed (for queueing).
pub struct Outcome {
    /// The report.
    pub report: Report,
    /// The unreviewed chunks as one diff text (empty when everything was reviewed).
    pub unreviewed: String,
}

enum ChunkResult {
    Reviewed {
        model: String,
        degraded: bool,
        findings: Vec<findings::Finding>,
        dropped: usize,
    },
    Unreadable {
        model: String,
        degraded: bool,
        error: String,
    },
    Unavailable(Unavailable),
}

/// Reviews `diff_bytes`: redact, parse, skip, chunk, review chunks in parallel (at most
/// `concurrency` at once) until done or the deadline, merge. Never fails because a model is
/// down: that is a status in the report. Input that is not a diff at all is an error (an
/// empty one is not).
pub async fn review_diff(
    model: &dyn ReviewModel,
    diff_bytes: &[u8],
    description: &str,
    opts: &EngineOptions,
) -> anyhow::Result<Outcome> {
    let secrets_redacted = opts.redactor.count(diff_bytes);
    let clean = opts.redactor.scrub_bytes(diff_bytes);
    let parsed = diff::parse(&clean);
    if parsed.files.is_empty() && !diff::is_blank(&clean) {
        return Err(not_a_diff(description, &clean));
    }
    let filter = FileFilter::new(&opts.exclude, &opts.include)?;
    let mut skipped: Vec<Skipped> = Vec::new();
    let mut files = Vec::new();
    for f in &parsed.files {
        match filter.skip_reason(f) {
            Some(reason) => skipped.push(Skipped {
                path: f.path().to_string(),
                reason,
            }),
            None => files.push(f),
        }
    }
    let chunked = diff::chunk(&files, opts.budget.diff_tokens, opts.max_chunks);
    let coverage = Coverage {
        files: parsed.files.len(),
        files_reviewed: 0,
        files_over_budget: chunked.over_budget.len(),
        max_chunks: opts.max_chunks,
        lines_truncated: chunked.lines_truncated,
        secrets_redacted,
    };
    let over_budget: Vec<String> = chunked.over_budget.iter().map(|s| s.path.clone()).collect();
    skipped.extend(chunked.over_budget);
    let chunks = chunked.chunks;
    if chunks.is_empty() {
        let why = if parsed.files.is_empty() {
            "the diff is empty (no changed files)".to_string()
        } else {
            format!("all {} changed file(s) were skipped", parsed.files.len())
        };
        let mut r = Report::new(
            Status::NothingToReview(why),
            description,
            opts.route.clone(),
        );
        r.skipped_files = skipped;
        r.coverage = coverage;
        return Ok(Outcome {
            report: r,
            unreviewed: String::new(),
        });
    }

    let total = chunks.len();
    let requests: Vec<ChatRequest> = chunks
        .iter()
        .map(|c| ChatRequest {
            system: Some(opts.system.clone()),
            messages: vec![Message::user(chunk_message(c, total))],
            max_tokens: Some(opts.budget.max_output),
            temperature: Some(0.0),
            grammar: Some(findings::FINDINGS_GRAMMAR.to_string()),
            ..ChatRequest::default()
        })
        .collect();
    let results = run_chunks(model, &requests, opts).await;

    let mut out = assemble(
        &parsed,
        &chunks,
        results,
        skipped,
        description,
        opts,
        coverage,
        &over_budget,
    );
    if secrets_redacted > 0 {
        out.report.notes.push(format!(
            "{secrets_redacted} secret value(s) in the diff (API keys or tokens from the environment) were replaced with {} before it was sent",
            crate::redact::REDACTED
        ));
    }
    Ok(out)
}

/// The error for input that is not a unified diff: what was read and what is expected.
fn not_a_diff(description: &str, input: &[u8]) -> anyhow::Error {
    let head: String = String::from_utf8_lossy(&input[..input.len().min(48)])
        .chars()
        .flat_map(char::escape_default)
        .take(80)
        .collect();
    usage(format!(
        "the {description} is not a unified diff ({} bytes with no `diff --git`, `---`/`+++` or `@@` lines; it starts \"{head}\"): pass the output of `git diff` or `diff -u`",
        input.len()
    ))
}

/// Reviews every request, at most `opts.concurrency` at once, until all are answered or
/// the deadline passes (then the rest are cancelled and stay `None`).
async fn run_chunks(
    model: &dyn ReviewModel,
    requests: &[ChatRequest],
    opts: &EngineOptions,
) -> Vec<Option<ChunkResult>> {
    let cancel = CancellationToken::new();
    let mut results: Vec<Option<ChunkResult>> = (0..requests.len()).map(|_| None).collect();
    {
        let cancel = &cancel;
        let mut stream = futures_util::stream::iter(requests.iter().enumerate())
            .map(|(i, req)| async move {
                let r = model.answer(req, cancel).await;
                (i, r)
            })
            .buffer_unordered(opts.concurrency.max(1));
        loop {
            let next = match opts.deadline {
                Some(d) => tokio::select! {
                    n = stream.next() => n,
                    () = tokio::time::sleep_until(d) => {
                        cancel.cancel();
                        break;
                    }
                },
                None => stream.next().await,
            };
            let Some((i, r)) = next else { break };
            results[i] = Some(match r {
                Ok(a) => match findings::parse_answer(&a.text) {
                    Ok(p) => ChunkResult::Reviewed {
                        model: a.model,
                        degraded: a.degraded,
                        findings: p.findings,
                        dropped: p.dropped,
                    },
                    Err(e) => ChunkResult::Unreadable {
                        model: a.model,
                        degraded: a.degraded,
                        error: e.to_string(),
                    },
                },
                Err(u) => ChunkResult::Unavailable(u),
            });
        }
    }

    results
}

/// Turns per-chunk results into the report: models, degraded, merged findings, coverage,
/// status. `over_budget` names the files the chunk budget left out (wholly or in part).
#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one review, assembled once"
)]
fn assemble(
    parsed: &diff::Diff,
    chunks: &[diff::Chunk],
    results: Vec<Option<ChunkResult>>,
    skipped: Vec<Skipped>,
    description: &str,
    opts: &EngineOptions,
    mut coverage: Coverage,
    over_budget: &[String],
) -> Outcome {
    let total = chunks.len();
    let mut r = Report::new(Status::Complete, description, opts.route.clone());
    r.skipped_files = skipped;
    r.chunks.total = total;
    // A file counts as reviewed when every chunk that carries it was reviewed, and none of it
    // fell past the chunk budget.
    let reviewed_chunk = |i: usize| matches!(results[i], Some(ChunkResult::Reviewed { .. }));
    let mut seen: Vec<&str> = Vec::new();
    for c in chunks {
        for f in &c.files {
            if !seen.contains(&f.as_str()) {
                seen.push(f);
            }
        }
    }
    coverage.files_reviewed = seen
        .iter()
        .filter(|f| !over_budget.iter().any(|o| o == *f))
        .filter(|f| {
            chunks
                .iter()
                .filter(|c| c.files.iter().any(|x| x == *f))
                .all(|c| reviewed_chunk(c.index))
        })
        .count();
    let mut all = Vec::new();
    let mut reasons: Vec<String> = Vec::new();
    let mut unreviewed = String::new();
    for (i, res) in results.into_iter().enumerate() {
        let note_model = |m: &str, degraded: bool, r: &mut Report| {
            if !r.models.iter().any(|x| x == m) {
                r.models.push(m.to_string());
            }
            r.degraded |= degraded;
        };
        match res {
            Some(ChunkResult::Reviewed {
                model: m,
                degraded,
                findings,
                dropped,
            }) => {
                note_model(&m, degraded, &mut r);
                r.chunks.reviewed += 1;
                if dropped > 0 {
                    r.notes.push(format!(
                        "part {}: {dropped} finding(s) from {m} were unusable (no file, line or known severity) and were dropped",
                        i + 1
                    ));
                }
                all.extend(findings.into_iter().map(|f| (f, m.clone())));
            }
            Some(ChunkResult::Unreadable {
                model: m,
                degraded,
                error,
            }) => {
                note_model(&m, degraded, &mut r);
                r.chunks.unreadable += 1;
                r.notes.push(format!("part {}: {m}: {error}", i + 1));
                unreviewed.push_str(&chunks[i].text);
            }
            Some(ChunkResult::Unavailable(Unavailable {
                reason,
                config_problem,
            })) => {
                r.chunks.unavailable += 1;
                r.chunks.config_problems += usize::from(config_problem);
                if !reasons.contains(&reason) {
                    reasons.push(reason);
                }
                unreviewed.push_str(&chunks[i].text);
            }
            None => {
                r.chunks.timed_out += 1;
                unreviewed.push_str(&chunks[i].text);
            }
        }
    }
    let merged = findings::merge(all.iter().map(|(f, _)| f.clone()).collect());
    r.findings = merged
        .into_iter()
        .map(|f| {
            let m = all
                .iter()
                .find(|(g, _)| {
                    g.file == f.file && g.start_line == f.start_line && g.title == f.title
                })
                .map_or("", |(_, m)| m.as_str())
                .to_string();
            Reported::new(f, parsed, &m)
        })
        .collect();
    r.status = status_of(&r.chunks, &reasons, &coverage);
    r.coverage = coverage;
    if r.chunks.timed_out > 0 && !reasons.is_empty() {
        r.notes
            .push(format!("models that failed: {}", reasons.join("; ")));
    }
    Outcome {
        report: r,
        unreviewed,
    }
}

/// The status for chunk counts and coverage: complete only when every chunk was reviewed and
/// nothing was left out or cut; unavailable when nothing answered; partial otherwise (why).
fn status_of(c: &report::ChunkStats, reasons: &[String], coverage: &Coverage) -> Status {
    let gaps = coverage.gaps();
    if c.reviewed == c.total && gaps.is_empty() {
        return Status::Complete;
    }
    if c.unavailable == c.total {
        return Status::Unavailable(format!(
            "every model of the route failed: {}",
            reasons.join("; ")
        ));
    }
    let mut why = Vec::new();
    if c.timed_out > 0 {
        why.push(format!(
            "the time budget ran out with {} part(s) unfinished",
            c.timed_out
        ));
    }
    if c.unavailable > 0 {
        why.push(format!(
            "{} part(s) could not be reviewed because no model answered ({})",
            c.unavailable,
            reasons.join("; ")
        ));
    }
    if c.unreadable > 0 {
        why.push(format!(
            "{} answer(s) could not be read as findings",
            c.unreadable
        ));
    }
    why.extend(gaps);
    Status::Partial(why.join("; "))
}

/// Safety margin before a `--timeout` budget runs out: 10% or 5 s, whichever is larger, but
/// never more than half the budget.
pub fn deadline_margin(budget: Duration) -> Duration {
    (budget / 10).max(Duration::from_secs(5)).min(budget / 2)
}

/// Where the outputs go.
#[derive(Clone, Debug, Default)]
pub struct Outputs {
    /// `--json`.
    pub json: Option<PathBuf>,
    /// `--sarif`.
    pub sarif: Option<PathBuf>,
    /// `--rdjson`.
    pub rdjson: Option<PathBuf>,
    /// `--gitlab`.
    pub gitlab: Option<PathBuf>,
    /// `--markdown` on stdout.
    pub markdown: bool,
    /// GitHub Actions: annotations on stdout.
    pub github: bool,
    /// `GITHUB_STEP_SUMMARY`.
    pub step_summary: Option<PathBuf>,
    /// `GITHUB_OUTPUT`.
    pub step_output: Option<PathBuf>,
}

impl Outputs {
    /// From the flags and the environment (`env` injected for tests).
    pub fn from_args(args: &ReviewArgs, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let github = env("GITHUB_ACTIONS").is_some_and(|v| v == "true");
        let path = |k: &str| {
            env(k)
                .filter(|v| github && !v.is_empty())
                .map(PathBuf::from)
        };
        Self {
            json: args.json.clone(),
            sarif: args.sarif.clone(),
            rdjson: args.rdjson.clone(),
            gitlab: args.gitlab.clone(),
            markdown: args.markdown,
            github,
            step_summary: path("GITHUB_STEP_SUMMARY"),
            step_output: path("GITHUB_OUTPUT"),
        }
    }
}

/// What the review prints once its files are written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Printed {
    /// For standard output: the text (or markdown) report and annotations, or the one report
    /// file sent there (`--json -`).
    pub stdout: String,
    /// For standard error: the human report when a report file took standard output.
    pub stderr: String,
}

/// Writes every output for `report`, with every known secret replaced (`redactor`): files are
/// written atomically to regular files only (the GitHub files appended); what goes to the
/// terminal is returned. A report file named `-` or `/dev/stdout` goes to standard output,
/// and the human report to standard error. Every file is attempted; the first error is
/// returned after the rest were written.
pub fn write_outputs(
    report: &Report,
    out: &Outputs,
    redactor: &Redactor,
) -> (Printed, anyhow::Result<()>) {
    type Render = fn(&Report) -> serde_json::Value;
    let mut clean = report.clone();
    clean.redact(redactor);
    let report = &clean;
    let scrub = |t: String| redactor.scrub(&t).into_owned();
    let mut human = formats::text(report, out.markdown);
    if out.github {
        for a in formats::github_annotations(report) {
            human.push_str(&a);
            human.push('\n');
        }
    }
    let mut first_err: Option<anyhow::Error> = None;
    let mut keep = |r: anyhow::Result<()>| {
        if let Err(e) = r
            && first_err.is_none()
        {
            first_err = Some(e);
        }
    };
    let files: [(&Option<PathBuf>, Render); 4] = [
        (&out.json, formats::json),
        (&out.sarif, formats::sarif),
        (&out.rdjson, formats::rdjson),
        (&out.gitlab, formats::gitlab),
    ];
    let mut to_stdout: Option<String> = None;
    for (path, render) in files {
        let Some(p) = path else { continue };
        let mut value = render(report);
        redactor.scrub_json(&mut value);
        let bytes = formats::to_pretty(&value);
        if crate::files::is_stdout(p) {
            if to_stdout.is_some() {
                keep(Err(usage(
                    "only one report can go to standard output (`-`); give the others file names"
                        .into(),
                )));
            } else {
                to_stdout = Some(String::from_utf8_lossy(&bytes).into_owned());
            }
            continue;
        }
        keep(formats::write_report(p, &bytes));
    }
    if let Some(p) = &out.step_summary {
        keep(formats::append(p, &scrub(formats::summary(report))));
    }
    if let Some(p) = &out.step_output {
        keep(formats::append(p, &scrub(formats::github_outputs(report))));
    }
    let printed = match to_stdout {
        Some(file) => Printed {
            stdout: file,
            stderr: scrub(human),
        },
        None => Printed {
            stdout: scrub(human),
            stderr: String::new(),
        },
    };
    (printed, first_err.map_or(Ok(()), Err))
}

fn usage(message: String) -> anyhow::Error {
    anyhow::Error::new(output::Exit {
        message,
        code: exit::USAGE,
    })
}

/// The route for the review: `--model`, `--route`, or the `review` route (else the default).
pub fn resolve_route(
    settings: &Settings,
    route: Option<&str>,
    model: Option<&str>,
) -> anyhow::Result<Vec<ModelRef>> {
    if let Some(m) = model {
        return Ok(vec![settings.model(m)?]);
    }
    let (name, models) = settings.route_for(route, "review")?;
    if models.is_empty() {
        return Err(usage(format!(
            "the route `{name}` has no models; add some under [routes] in {}",
            settings.paths.config_file.display()
        )));
    }
    Ok(models)
}

/// Builds the engine options for a route, with `instructions` (see
/// [`policy::PolicySource::instructions`]) as the template.
pub fn engine_options(
    settings: &Settings,
    route: &[ModelRef],
    focus: &[String],
    deadline: Option<Instant>,
    instructions: &str,
) -> EngineOptions {
    let redactor = crate::redact::global().clone();
    let system = redactor
        .scrub(&system_prompt(instructions, focus))
        .into_owned();
    EngineOptions {
        budget: budget_for(settings, route, &system),
        system,
        concurrency: settings.review.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
        deadline,
        exclude: settings.review.exclude.clone(),
        include: settings.review.include.clone(),
        route: route.iter().map(ToString::to_string).collect(),
        max_chunks: settings
            .review
            .max_chunks
            .unwrap_or(diff::DEFAULT_MAX_CHUNKS),
        redactor,
    }
}

/// Runs `aiw review`.
pub async fn run(ctx: &Context, args: ReviewArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let budget = match &args.timeout {
        Some(t) => Some(parse_duration(t).map_err(|e| usage(format!("--timeout: {e}")))?),
        None => None,
    };
    let deadline = budget.map(|b| started + b - deadline_margin(b));
    let route = resolve_route(&ctx.settings, args.route.as_deref(), args.model.as_deref())?;
    let env = |k: &str| std::env::var(k).ok();
    let outputs = Outputs::from_args(&args, &env);

    let mut wrapped_note = None;
    if !args.wrap.is_empty() {
        let wrap_timeout = match &args.wrap_timeout {
            Some(t) => parse_duration(t).map_err(|e| usage(format!("--wrap-timeout: {e}")))?,
            None => budget.map_or(wrap::DEFAULT_TIMEOUT, |b| b / 2),
        };
        match wrap::run_wrapped(&args.wrap, wrap_timeout).await? {
            wrap::WrapOutcome::Passed(code) => return Ok(exit::code(code)),
            wrap::WrapOutcome::Outage(reason) => {
                let msg = format!(
                    "The wrapped review command `{}` failed like an outage ({reason}); aiw reviewed with its own route instead.",
                    args.wrap.join(" ")
                );
                output::warn(&msg);
                wrapped_note = Some(msg);
            }
        }
    }

    let source = match (&args.diff, args.staged, &args.base) {
        (Some(p), _, _) if p.as_os_str() == "-" => DiffSource::Stdin,
        (Some(p), _, _) => DiffSource::File(p.clone()),
        (None, true, _) => DiffSource::Staged,
        (None, false, Some(b)) => DiffSource::Base(b.clone()),
        (None, false, None) => DiffSource::Auto,
    };
    let limits = diff::ReadLimits {
        max_bytes: ctx.settings.limits.diff_bytes,
        deadline,
    };
    let gathered = diff::gather(&source, &env, limits).await?;
    let cwd = std::env::current_dir().ok();
    let instructions = ctx.review_policy.instructions(cwd.as_deref())?;
    let mut opts = engine_options(&ctx.settings, &route, &args.focus, deadline, &instructions);
    let unexempted = policy::unexempt_marked_files(&ctx.review_policy, &mut opts, &gathered.bytes)?;
    let policy = fallback_policy(&ctx.settings, args.route.as_deref());
    let router = Router::new(Arc::new(ctx.settings.clone()))?.with_fallback(policy);
    let model = RouterModel::new(router, route.clone());
    let outcome = review_diff(&model, &gathered.bytes, &gathered.description, &opts).await?;
    let mut report = outcome.report;
    report.wrapped = wrapped_note;
    if let Some(note) = fallback_note(&report, &route, policy) {
        output::warn(&note);
        report.notes.push(note);
    }
    for note in ctx.review_policy.notes(cwd.as_deref()) {
        output::warn(&note);
        report.notes.push(note);
    }
    report
        .notes
        .extend(policy::coverage_notes(&report, unexempted));

    let mut code = report::exit_code(&report, args.fail_on, args.on_unavailable);
    let c = &report.chunks;
    if c.unavailable > 0 && c.config_problems == c.unavailable && c.reviewed == 0 {
        // Not an outage: every model rejected the call. Skipping would hide a broken setup.
        report.notes.push(
            "every model failed with a configuration problem (API key, permission, model name or request): this is not an outage, so the step fails; fix the configuration shown above".into(),
        );
        code = exit::USAGE;
    }
    let text = if report.is_skipped() {
        // Stored in the state dir for `aiw queue run`: no secret goes in it either.
        String::from_utf8_lossy(&opts.redactor.scrub_bytes(&gathered.bytes)).into_owned()
    } else {
        outcome.unreviewed
    };
    // Only what models failed to review is queued: a part left out for good (over the
    // chunk budget) would be left out again.
    if args.on_unavailable == OnUnavailable::Queue
        && (report.is_skipped() || report.is_partial())
        && !text.is_empty()
        && code != exit::FINDINGS
        && code != exit::USAGE
    {
        let job = queue::Job::new(
            text,
            gathered.description.clone(),
            queue::JobOptions {
                route: args.route.clone(),
                model: args.model.clone(),
                focus: args.focus.clone(),
                fail_on: args.fail_on,
            },
            cwd.clone(),
        );
        match queue::Queue::new(&ctx.settings.paths.state_dir).enqueue(&job) {
            Ok(()) => report.queued_job = Some(job.id.clone()),
            Err(e) => {
                report.notes.push(format!(
                    "could not queue the review ({e:#}); it is NOT stored anywhere, flag it for manual review"
                ));
                code = exit::NO_MODEL;
            }
        }
    }
    let (printed, written) = write_outputs(&report, &outputs, &opts.redactor);
    output::raw_stderr(printed.stderr.as_bytes());
    output::stream_text(&printed.stdout)?;
    written?;
    Ok(exit::code(code))
}

/// Reviews a queued job with the current settings; used by `aiw queue run`.
pub async fn run_job(
    settings: &Settings,
    job: &queue::Job,
    budget: Duration,
) -> anyhow::Result<Report> {
    let route = resolve_route(
        settings,
        job.options.route.as_deref(),
        job.options.model.as_deref(),
    )?;
    let deadline = Instant::now() + budget - deadline_margin(budget);
    let instructions = policy::PolicySource::Checkout.instructions(job.repo_dir.as_deref())?;
    let opts = engine_options(
        settings,
        &route,
        &job.options.focus,
        Some(deadline),
        &instructions,
    );
    let policy = fallback_policy(settings, job.options.route.as_deref());
    let router = Router::new(Arc::new(settings.clone()))?.with_fallback(policy);
    let model = RouterModel::new(router, route.clone());
    let out = review_diff(&model, job.diff.as_bytes(), &job.description, &opts).await?;
    let mut report = out.report;
    report.notes.extend(fallback_note(&report, &route, policy));
    // The queue keeps the report in the state dir: no secret goes there either.
    report.redact(&opts.redactor);
    Ok(report)
}

/// The `[fallback]` policy of a review on `route` (the review route when none is named).
fn fallback_policy(settings: &Settings, route: Option<&str>) -> FallbackPolicy {
    let name = settings
        .route_for(route, "review")
        .map(|(n, _)| n)
        .unwrap_or_default();
    settings.fallback.policy_for("review", &name)
}

/// Under `fallback = "notify"`, the summary line that says a lower tier reviewed (part of)
/// the change.
fn fallback_note(report: &Report, route: &[ModelRef], policy: FallbackPolicy) -> Option<String> {
    if policy != FallbackPolicy::Notify || !report.degraded {
        return None;
    }
    let primary = route.first().map(ToString::to_string).unwrap_or_default();
    let lower: Vec<&str> = report
        .models
        .iter()
        .map(String::as_str)
        .filter(|m| *m != primary)
        .collect();
    Some(format!(
        "fallback: reviewed by {} instead of the primary model {primary} (a lower tier of the route; fallback = \"notify\")",
        if lower.is_empty() {
            "a fallback".to_string()
        } else {
            lower.join(", ")
        }
    ))
}

/// Whether a finished job's report means it is done (complete or nothing to review).
pub fn job_done(report: &Report) -> bool {
    matches!(report.status, Status::Complete | Status::NothingToReview(_))
}

/// The exit status a queued job's report would have had (for `aiw queue run` output).
pub fn job_exit(report: &Report, fail_on: FailOn) -> u8 {
    report::exit_code(report, fail_on, OnUnavailable::Skip)
}

#[cfg(test)]
mod tests;
