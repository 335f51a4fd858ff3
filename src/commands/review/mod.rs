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
//! The README's CI section shows the step as teams run it.

pub mod comment;
pub mod diff;
pub mod findings;
pub mod formats;
pub mod policy;
pub mod queue;
pub mod report;
pub mod wrap;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use futures_util::future::BoxFuture;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::Context;
use crate::cli::{FailOn, FailOnTier, FilterMode, OnUnavailable, ReviewArgs};
use crate::config::ModelRef;
use crate::config::{FallbackPolicy, ProviderKind, Settings, parse_duration};
use crate::exit;
use crate::output;
use crate::provider::{ChatRequest, Message};
use crate::redact::Redactor;
use crate::router::Router;
use diff::{DiffSource, FileFilter, Skipped};
use report::{Coverage, Part, PartState, Report, Reported, Status};

/// The built-in review instructions; a repository overrides them with `.aiw/review.md`.
pub const DEFAULT_PROMPT: &str = include_str!("../../../assets/review-prompt.md");

/// The output contract appended to every system prompt (also to a repository's own), so the
/// answer can be parsed whatever the instructions say.
pub const OUTPUT_CONTRACT: &str = r#"
Answer with ONLY a JSON array, no prose and no code fence. Each element:
{"file": "path/in/repo", "start_line": N, "end_line": N, "severity": "error" | "warning" | "note", "title": "one line", "explanation": "why it matters and how to fix it", "suggestion": "replacement text for start_line..end_line" or null}
Answer [] when there is nothing to report."#;

/// The instructions for a local (small) model: short, plain, with no example values it could
/// copy into a finding.
pub const SMALL_MODEL_PROMPT: &str = include_str!("../../../assets/review-prompt-small.md");

/// The output contract for a local model: the fields described in words, no example values
/// (a small model copies `path/in/repo` and `one line` into its answer); its grammar
/// (`findings::FINDINGS_GRAMMAR`) enforces the shape.
pub const SMALL_MODEL_CONTRACT: &str = "
Answer with only a JSON array of objects, one object per problem, each with the keys file, start_line, end_line, severity, title, explanation and suggestion, in that order. severity is error, warning or note. suggestion is the replacement code for those lines, or null. When there is no problem, the array is empty.";

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
    /// The answer stopped at the output token limit (it is cut).
    pub cut: bool,
    /// Models of the route that rejected their key or permission on the way (a broken
    /// setup the answer from a lower tier would otherwise hide).
    pub rejected: Vec<String>,
}

/// No model could answer a chunk; `reason` lists the attempts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unavailable {
    /// Every attempt and why it failed, for the report.
    pub reason: String,
    /// A model rejected its key or permission, or every model failed with a configuration
    /// problem (unknown model, bad request): the user must fix something; skipping as if it
    /// were an outage would hide it.
    pub config_problem: bool,
    /// The models that rejected their key or permission.
    pub rejected: Vec<String>,
    /// Every model that was tried said the prompt does not fit its context window: the part
    /// is retried in smaller pieces (a chunk budget is an estimate; a small model's own
    /// tokenizer can count code at twice the estimate).
    pub too_long: bool,
}

/// How many times a part too long for its tier is halved and retried.
const MAX_HALVINGS: usize = 3;

/// What reviews one chunk: the router in production, a scripted fake in tests.
pub trait ReviewModel: Send + Sync {
    /// Answers one request with the models of tier `tier` (0: the primary's tier; see
    /// [`tiers_of`]); `cancel` is triggered when the time budget runs out.
    fn answer<'a>(
        &'a self,
        tier: usize,
        req: &'a ChatRequest,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<ModelAnswer, Unavailable>>;
}

/// The production [`ReviewModel`]: each tier's part of the route run through the [`Router`].
pub struct RouterModel {
    router: Router,
    tiers: Vec<Vec<ModelRef>>,
}

impl RouterModel {
    /// Reviews with `tiers` (see [`tiers_of`]) through `router`.
    pub fn new(router: Router, tiers: Vec<Vec<ModelRef>>) -> Self {
        Self { router, tiers }
    }
}

impl ReviewModel for RouterModel {
    fn answer<'a>(
        &'a self,
        tier: usize,
        req: &'a ChatRequest,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<ModelAnswer, Unavailable>> {
        Box::pin(async move {
            let mut on_event = |e: crate::router::RouterEvent| {
                tracing::debug!(event = ?e, "review chunk");
            };
            let Some(route) = self.tiers.get(tier) else {
                return Err(Unavailable {
                    reason: format!("the route has no tier {tier}"),
                    config_problem: false,
                    rejected: Vec::new(),
                    too_long: false,
                });
            };
            match self.router.run(route, req, &mut on_event, cancel).await {
                Ok(a) => Ok(ModelAnswer {
                    text: a.text(),
                    cut: a.stop == crate::conversation::StopReason::MaxTokens,
                    rejected: a
                        .attempts
                        .iter()
                        .filter(|t| t.error_class.is_some_and(key_rejected))
                        .map(|t| t.model.to_string())
                        .collect(),
                    model: a.model.to_string(),
                    degraded: a.degraded,
                }),
                Err(e) if e.attempts.is_empty() => Err(Unavailable {
                    reason: "no model of the route could be tried".into(),
                    config_problem: false,
                    rejected: Vec::new(),
                    too_long: false,
                }),
                Err(e) => {
                    let rejected: Vec<String> = e
                        .attempts
                        .iter()
                        .filter(|a| a.error_class.is_some_and(key_rejected))
                        .map(|a| a.model.to_string())
                        .collect();
                    let config_problem = !rejected.is_empty()
                        || e.attempts.iter().all(|a| {
                            a.error_class
                                .is_some_and(crate::provider::ErrorClass::is_config_problem)
                        });
                    let too_long = e.attempts.iter().all(|a| {
                        a.error_class == Some(crate::provider::ErrorClass::ContextTooLong)
                    });
                    Err(Unavailable {
                        reason: e.to_string(),
                        config_problem,
                        rejected,
                        too_long,
                    })
                }
            }
        })
    }
}

/// Whether a failure means the key (or its permission) was rejected: never an outage.
fn key_rejected(c: crate::provider::ErrorClass) -> bool {
    matches!(
        c,
        crate::provider::ErrorClass::Auth | crate::provider::ErrorClass::Permission
    )
}

/// The follow-up sent once when an answer is not a findings array (prose, or cut off).
pub fn repair_prompt(cut: bool) -> &'static str {
    if cut {
        "Your answer was cut off at the length limit, so it cannot be read. Answer again with ONLY the JSON array of findings, at most 5 findings with one-sentence explanations. Answer [] when there is nothing to report."
    } else {
        "Your answer was not the JSON array of findings the instructions ask for, so it cannot be read. Answer again with ONLY that JSON array, no prose. Answer [] when there is nothing to report."
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

/// The route split into review tiers: the models of the primary's kind (cloud or local) in
/// route order, then the others. Each tier reviews with chunks and answers sized for its own
/// models, so a local model in the route no longer shrinks the cloud models' chunks; a part
/// no model of one tier could review is split again for the next. `fallback = "off"` keeps
/// only the primary.
pub fn tiers_of(
    settings: &Settings,
    route: &[ModelRef],
    policy: FallbackPolicy,
) -> Vec<Vec<ModelRef>> {
    if policy == FallbackPolicy::Off {
        return vec![route.iter().take(1).cloned().collect()];
    }
    let local = |m: &ModelRef| {
        settings
            .provider(m)
            .is_some_and(|p| p.kind == ProviderKind::Local)
    };
    let Some(first) = route.first() else {
        return vec![Vec::new()];
    };
    let (same, other): (Vec<ModelRef>, Vec<ModelRef>) = route
        .iter()
        .cloned()
        .partition(|m| local(m) == local(first));
    let mut tiers = vec![same];
    if !other.is_empty() {
        tiers.push(other);
    }
    tiers
}

/// Whether `model` is served by a local provider.
pub fn is_local(settings: &Settings, model: &ModelRef) -> bool {
    settings
        .provider(model)
        .is_some_and(|p| p.kind == ProviderKind::Local)
}

/// The chunk budget for the models of one tier: every chunk must fit the smallest context
/// window among them, since any of them may end up answering it. Remote models without a
/// configured window are assumed to have 128k tokens; chunks are capped at 24k tokens of
/// diff anyway, as reviews of smaller pieces are more thorough.
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

/// The system prompt for a local model: the small-model instructions (or the repository's
/// own), then the contract without example values.
pub fn small_model_prompt(template: &str, focus: &[String]) -> String {
    let template = if template == DEFAULT_PROMPT {
        SMALL_MODEL_PROMPT
    } else {
        template
    };
    let full = system_prompt(template, focus);
    full.replacen(OUTPUT_CONTRACT, SMALL_MODEL_CONTRACT, 1)
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
    let fence = formats::fence_for(&chunk.text);
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
    /// The lower tiers of the route (see [`tiers_of`]), each with its own prompt and
    /// budget: parts the tier before could not review are split for and sent to them.
    pub lower_tiers: Vec<Tier>,
    /// Models whose findings never fail the step (`--fail-on-tier`); they are reported as
    /// advisory.
    pub advisory: Vec<String>,
    /// Which findings count, by where they point.
    pub filter_mode: FilterMode,
    /// The repository root, to make absolute paths in findings relative.
    pub root: Option<PathBuf>,
}

/// A lower tier of the route: its models, system prompt and budget.
#[derive(Clone, Debug)]
pub struct Tier {
    /// `provider/model` of each model in it.
    pub models: Vec<String>,
    /// The system prompt its models get.
    pub system: String,
    /// Its chunk and answer sizes.
    pub budget: Budget,
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
        repaired: bool,
        rejected: Vec<String>,
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
    let mut parsed = diff::parse(&clean);
    // `---`/`+++` lines that name no file are not a change to review.
    parsed.files.retain(|f| !f.path().is_empty());
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
    let mut coverage = Coverage {
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

    let requests = requests_for(&chunks, &opts.system, opts.budget);
    let mut results = run_chunks(model, 0, &requests, opts).await;
    let mut chunks = chunks;
    // Each tier: the parts no tier above could review (the primary's tier: all of them,
    // already sent), then its own too-long parts in halves.
    let tiers = std::iter::once((opts.system.as_str(), opts.budget)).chain(
        opts.lower_tiers
            .iter()
            .map(|t| (t.system.as_str(), t.budget)),
    );
    for (index, (system, budget)) in tiers.enumerate() {
        let mut truncated;
        if index > 0 {
            (chunks, results, truncated) =
                retry_parts(model, index, system, budget, chunks, results, opts, |_| {
                    true
                })
                .await;
            coverage.lines_truncated += truncated;
        }
        (chunks, results, truncated) =
            halve_too_long(model, index, system, budget, chunks, results, opts).await;
        coverage.lines_truncated += truncated;
    }

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

/// One request per chunk, for a tier's prompt and budget.
fn requests_for(chunks: &[diff::Chunk], system: &str, budget: Budget) -> Vec<ChatRequest> {
    let total = chunks.len();
    chunks
        .iter()
        .map(|c| ChatRequest {
            system: Some(system.to_string()),
            messages: vec![Message::user(chunk_message(c, total))],
            max_tokens: Some(budget.max_output),
            temperature: Some(0.0),
            grammar: Some(findings::FINDINGS_GRAMMAR.to_string()),
            ..ChatRequest::default()
        })
        .collect()
}

/// Parts, their results, and lines cut while splitting them.
type Parts = (Vec<diff::Chunk>, Vec<Option<ChunkResult>>, usize);

/// Retries, in tier `index`, the parts its models said do not fit their context window, in
/// pieces of half the chunk budget, up to [`MAX_HALVINGS`] times.
async fn halve_too_long(
    model: &dyn ReviewModel,
    index: usize,
    system: &str,
    budget: Budget,
    mut chunks: Vec<diff::Chunk>,
    mut results: Vec<Option<ChunkResult>>,
    opts: &EngineOptions,
) -> Parts {
    let mut budget = budget;
    let mut truncated = 0;
    for _ in 0..MAX_HALVINGS {
        budget.diff_tokens = (budget.diff_tokens / 2).max(64);
        let cut;
        (chunks, results, cut) =
            retry_parts(model, index, system, budget, chunks, results, opts, |u| {
                u.too_long
            })
            .await;
        truncated += cut;
    }
    (chunks, results, truncated)
}

/// Sends the parts whose result is unavailable for a reason `retry` accepts to tier `index`,
/// each split again for `budget`. Returns the parts in order (each retried part replaced by
/// its pieces, indices renumbered), their results, and the lines cut in the new split.
#[expect(
    clippy::too_many_arguments,
    reason = "one tier's prompt and budget, the parts so far and which to retry"
)]
async fn retry_parts(
    model: &dyn ReviewModel,
    index: usize,
    system: &str,
    budget: Budget,
    chunks: Vec<diff::Chunk>,
    results: Vec<Option<ChunkResult>>,
    opts: &EngineOptions,
    retry: impl Fn(&Unavailable) -> bool,
) -> Parts {
    let failed =
        |r: &Option<ChunkResult>| matches!(r, Some(ChunkResult::Unavailable(u)) if retry(u));
    if !results.iter().any(failed) {
        return (chunks, results, 0);
    }
    let mut truncated = 0;
    let mut pieces: Vec<Vec<diff::Chunk>> = Vec::new();
    let mut flat: Vec<diff::Chunk> = Vec::new();
    for (c, r) in chunks.iter().zip(&results) {
        if !failed(r) {
            pieces.push(Vec::new());
            continue;
        }
        let parsed = diff::parse(c.text.as_bytes());
        let files: Vec<&diff::FileDiff> = parsed.files.iter().collect();
        let split = diff::chunk(&files, budget.diff_tokens, usize::MAX);
        truncated += split.lines_truncated;
        let mut mine = Vec::new();
        for mut piece in split.chunks {
            piece.index = flat.len();
            flat.push(piece.clone());
            mine.push(piece);
        }
        pieces.push(mine);
    }
    let requests = requests_for(&flat, system, budget);
    let mut fresh: Vec<Option<ChunkResult>> = run_chunks(model, index, &requests, opts).await;
    let mut out_chunks = Vec::new();
    let mut out_results = Vec::new();
    let mut taken = 0;
    for ((c, r), mine) in chunks.into_iter().zip(results).zip(pieces) {
        if mine.is_empty() {
            out_chunks.push(c);
            out_results.push(r);
            continue;
        }
        let before = match r {
            Some(ChunkResult::Unavailable(u)) => Some(u),
            _ => None,
        };
        for piece in mine {
            // What the tier above learnt (a rejected key) stays known whatever this one did.
            let res = match (fresh[taken].take(), &before) {
                (Some(ChunkResult::Unavailable(u)), Some(b)) => {
                    Some(ChunkResult::Unavailable(Unavailable {
                        reason: format!("{}; then {}", b.reason, u.reason),
                        config_problem: b.config_problem || u.config_problem,
                        rejected: [b.rejected.clone(), u.rejected].concat(),
                        too_long: u.too_long,
                    }))
                }
                (
                    Some(ChunkResult::Reviewed {
                        model,
                        degraded,
                        findings,
                        dropped,
                        repaired,
                        rejected,
                    }),
                    Some(b),
                ) => Some(ChunkResult::Reviewed {
                    model,
                    degraded,
                    findings,
                    dropped,
                    repaired,
                    rejected: [b.rejected.clone(), rejected].concat(),
                }),
                (other, _) => other,
            };
            taken += 1;
            out_chunks.push(piece);
            out_results.push(res);
        }
    }
    for (i, c) in out_chunks.iter_mut().enumerate() {
        c.index = i;
    }
    (out_chunks, out_results, truncated)
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
    tier: usize,
    requests: &[ChatRequest],
    opts: &EngineOptions,
) -> Vec<Option<ChunkResult>> {
    let cancel = CancellationToken::new();
    let mut results: Vec<Option<ChunkResult>> = (0..requests.len()).map(|_| None).collect();
    {
        let cancel = &cancel;
        let mut stream = futures_util::stream::iter(requests.iter().enumerate())
            .map(|(i, req)| async move { (i, review_chunk(model, tier, req, cancel).await) })
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
            results[i] = Some(r);
        }
    }

    results
}

/// Reviews one chunk: asks the route; an answer that is not a findings array (prose, or
/// cut at the token limit) gets one repair prompt, and if that is not readable either, the
/// chunk could not be reviewed (a model did answer: not an outage).
async fn review_chunk(
    model: &dyn ReviewModel,
    tier: usize,
    req: &ChatRequest,
    cancel: &CancellationToken,
) -> ChunkResult {
    // A lower tier is a fallback even when it answered first in its part of the route.
    let lower = |mut a: ModelAnswer| {
        a.degraded |= tier > 0;
        a
    };
    let first = match model.answer(tier, req, cancel).await {
        Ok(a) => lower(a),
        Err(u) => return ChunkResult::Unavailable(u),
    };
    let first_err = match findings::parse_answer(&first.text) {
        Ok(p) => return reviewed(first, p, false),
        Err(e) => e,
    };
    let cut = if first.cut {
        " (cut at the token limit)"
    } else {
        ""
    };
    let mut repair = req.clone();
    let shown: String = first.text.chars().take(4_000).collect();
    repair.messages.push(Message::assistant(shown));
    repair
        .messages
        .push(Message::user(repair_prompt(first.cut)));
    match model.answer(tier, &repair, cancel).await {
        Ok(second) => {
            let second = lower(second);
            match findings::parse_answer(&second.text) {
                Ok(p) => reviewed(second, p, true),
                Err(e) => ChunkResult::Unreadable {
                    model: second.model,
                    degraded: second.degraded,
                    error: format!(
                        "{first_err}{cut}; the answer to one repair prompt was not readable either ({})",
                        e.0
                    ),
                },
            }
        }
        Err(u) => ChunkResult::Unreadable {
            model: first.model,
            degraded: first.degraded,
            error: format!(
                "{first_err}{cut}; the repair prompt got no answer ({})",
                u.reason
            ),
        },
    }
}

fn reviewed(a: ModelAnswer, p: findings::Parsed, repaired: bool) -> ChunkResult {
    ChunkResult::Reviewed {
        model: a.model,
        degraded: a.degraded,
        findings: p.findings,
        dropped: p.dropped,
        repaired,
        rejected: a.rejected,
    }
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
    let mut r = Report::new(Status::Complete, description, opts.route.clone());
    r.skipped_files = skipped;
    r.chunks.total = chunks.len();
    coverage.files_reviewed = files_reviewed(chunks, &results, over_budget);
    let mut tally = Tally::default();
    for (i, (res, chunk)) in results.into_iter().zip(chunks).enumerate() {
        tally.add(&mut r, i + 1, chunk, res);
    }
    let (inside, outside) = place_all(tally.findings, parsed, opts);
    r.findings = reported(&inside, parsed, &opts.advisory);
    r.outside = reported(&outside, parsed, &opts.advisory);
    r.status = status_of(&r.chunks, &tally.reasons, &coverage);
    r.coverage = coverage;
    r.anchor = parsed.anchor();
    if r.chunks.timed_out > 0 && !tally.reasons.is_empty() {
        r.notes
            .push(format!("models that failed: {}", tally.reasons.join("; ")));
    }
    Outcome {
        report: r,
        unreviewed: tally.unreviewed,
    }
}

/// How many files were reviewed: a file counts when every chunk that carries it was
/// reviewed and none of it fell past the chunk budget.
fn files_reviewed(
    chunks: &[diff::Chunk],
    results: &[Option<ChunkResult>],
    over_budget: &[String],
) -> usize {
    let reviewed_chunk = |i: usize| matches!(results[i], Some(ChunkResult::Reviewed { .. }));
    let mut seen: Vec<&str> = Vec::new();
    for f in chunks.iter().flat_map(|c| &c.files) {
        if !seen.contains(&f.as_str()) {
            seen.push(f);
        }
    }
    seen.iter()
        .filter(|f| !over_budget.iter().any(|o| o == *f))
        .filter(|f| {
            chunks
                .iter()
                .filter(|c| c.files.iter().any(|x| x == *f))
                .all(|c| reviewed_chunk(c.index))
        })
        .count()
}

/// What the chunk results add up to besides the report's own counters: the findings with
/// the model that made each, why models failed, and the diff text nobody reviewed.
#[derive(Default)]
struct Tally {
    findings: Vec<(findings::Finding, String)>,
    reasons: Vec<String>,
    unreviewed: String,
}

impl Tally {
    /// Counts the result of chunk `part` (from 1) into `r` (its part, models, counters,
    /// notes) and `self`.
    fn add(&mut self, r: &mut Report, part: usize, chunk: &diff::Chunk, res: Option<ChunkResult>) {
        let (state, by) = match &res {
            Some(ChunkResult::Reviewed { model, .. }) => (PartState::Reviewed, Some(model.clone())),
            Some(ChunkResult::Unreadable { model, .. }) => {
                (PartState::Unreadable, Some(model.clone()))
            }
            Some(ChunkResult::Unavailable(_)) => (PartState::Unavailable, None),
            None => (PartState::TimedOut, None),
        };
        r.parts.push(Part {
            part,
            files: chunk.files.clone(),
            state,
            model: by,
        });
        match res {
            Some(ChunkResult::Reviewed {
                model: m,
                degraded,
                findings,
                dropped,
                repaired,
                rejected,
            }) => {
                note_model(r, &m, degraded);
                note_rejected(r, rejected);
                r.chunks.reviewed += 1;
                if repaired {
                    r.notes.push(format!(
                        "part {part}: {m} answered with prose or a cut answer first; its answer to a repair prompt was used"
                    ));
                }
                if dropped > 0 {
                    r.notes.push(format!(
                        "part {part}: {dropped} finding(s) from {m} were unusable (no file, line or known severity) and were dropped"
                    ));
                }
                self.findings
                    .extend(findings.into_iter().map(|f| (f, m.clone())));
            }
            Some(ChunkResult::Unreadable {
                model: m,
                degraded,
                error,
            }) => {
                note_model(r, &m, degraded);
                r.chunks.unreadable += 1;
                r.notes.push(format!("part {part}: {m}: {error}"));
                self.unreviewed.push_str(&chunk.text);
            }
            Some(ChunkResult::Unavailable(Unavailable {
                reason,
                config_problem,
                rejected,
                ..
            })) => {
                note_rejected(r, rejected);
                r.chunks.unavailable += 1;
                r.chunks.config_problems += usize::from(config_problem);
                if !self.reasons.contains(&reason) {
                    self.reasons.push(reason);
                }
                self.unreviewed.push_str(&chunk.text);
            }
            None => {
                r.chunks.timed_out += 1;
                self.unreviewed.push_str(&chunk.text);
            }
        }
    }
}

/// Adds `m` to the models that answered (once) and whether it was a fallback.
fn note_model(r: &mut Report, m: &str, degraded: bool) {
    if !r.models.iter().any(|x| x == m) {
        r.models.push(m.to_string());
    }
    r.degraded |= degraded;
}

/// Adds the models that rejected their key (once each).
fn note_rejected(r: &mut Report, rejected: Vec<String>) {
    for x in rejected {
        if !r.rejected.contains(&x) {
            r.rejected.push(x);
        }
    }
}

/// A reported finding before merging: the finding, the model that made it, and (outside
/// the change) why it was moved out.
type Placed = (findings::Finding, String, Option<String>);

/// Splits findings into those on the change and those outside it (see [`findings::place`]).
fn place_all(
    all: Vec<(findings::Finding, String)>,
    parsed: &diff::Diff,
    opts: &EngineOptions,
) -> (Vec<Placed>, Vec<Placed>) {
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for (f, m) in all {
        match findings::place(f, parsed, opts.filter_mode, opts.root.as_deref()) {
            Ok(f) => inside.push((f, m, None)),
            Err(out) => {
                let (f, why) = *out;
                outside.push((f, m, Some(why)));
            }
        }
    }
    (inside, outside)
}

/// Merges placed findings (see [`findings::merge`]) and wraps each with the model that
/// reported it and, for one outside the change, why.
fn reported(list: &[Placed], parsed: &diff::Diff, advisory: &[String]) -> Vec<Reported> {
    let merged = findings::merge(list.iter().map(|(f, _, _)| f.clone()).collect());
    merged
        .into_iter()
        .map(|f| {
            let (m, why) = list
                .iter()
                .find(|(g, _, _)| {
                    g.file == f.file && g.start_line == f.start_line && g.title == f.title
                })
                .map_or((String::new(), None), |(_, m, w)| (m.clone(), w.clone()));
            let mut r = Reported::new(f, parsed, &m);
            r.outside = why;
            r.advisory = advisory.contains(&m);
            r
        })
        .collect()
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
    let mut clean = report.clone();
    clean.redact(redactor);
    let report = &clean;
    let scrub = |t: String| redactor.scrub(&t).into_owned();
    let mut human = formats::text(report, out.markdown);
    if out.github {
        // Model and file text must not start a workflow command; our own annotations
        // (escaped data on one line each) come after.
        human = formats::defuse_workflow_commands(&human);
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
    // (the flag, the document) of the one report file sent to standard output
    let mut to_stdout: Option<(&str, String)> = None;
    let paths = [&out.json, &out.sarif, &out.rdjson, &out.gitlab];
    for (path, format) in paths.into_iter().zip(formats::REPORT_FORMATS) {
        let Some(p) = path else { continue };
        if report.is_skipped() && !format.written_when_skipped() {
            continue;
        }
        let mut value = format.render(report);
        redactor.scrub_json(&mut value);
        let bytes = formats::to_pretty(&value);
        if crate::files::is_stdout(p) {
            if let Some((first, _)) = &to_stdout {
                keep(Err(usage(format!(
                    "only one report can go to standard output (`-`), and {first} already does; give {} a file name",
                    format.flag()
                ))));
            } else {
                to_stdout = Some((format.flag(), String::from_utf8_lossy(&bytes).into_owned()));
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
        Some((_, file)) => Printed {
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

/// Builds the engine options for a route split into `tiers` (see [`tiers_of`]), with
/// `instructions` (see [`policy::PolicySource::instructions`]) as the template. Each tier
/// gets its own budget, and a local tier the small-model prompt. Findings of the models
/// `fail_on_tier` leaves out are advisory.
pub fn engine_options(
    settings: &Settings,
    tiers: &[Vec<ModelRef>],
    focus: &[String],
    deadline: Option<Instant>,
    instructions: &str,
    fail_on_tier: FailOnTier,
) -> EngineOptions {
    let redactor = crate::redact::global().clone();
    let prompt_for = |tier: &[ModelRef]| {
        let text = if tier.first().is_some_and(|m| is_local(settings, m)) {
            small_model_prompt(instructions, focus)
        } else {
            system_prompt(instructions, focus)
        };
        redactor.scrub(&text).into_owned()
    };
    let empty = Vec::new();
    let first = tiers.first().unwrap_or(&empty);
    let system = prompt_for(first);
    let lower_tiers = tiers
        .iter()
        .skip(1)
        .map(|t| {
            let system = prompt_for(t);
            Tier {
                models: t.iter().map(ToString::to_string).collect(),
                budget: budget_for(settings, t, &system),
                system,
            }
        })
        .collect();
    let route: Vec<&ModelRef> = tiers.iter().flatten().collect();
    let advisory = route
        .iter()
        .enumerate()
        .filter(|(i, m)| match fail_on_tier {
            FailOnTier::Any => false,
            FailOnTier::Cloud => is_local(settings, m),
            FailOnTier::Primary => *i > 0,
        })
        .map(|(_, m)| m.to_string())
        .collect();
    EngineOptions {
        budget: budget_for(settings, first, &system),
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
        lower_tiers,
        advisory,
        filter_mode: FilterMode::default(),
        root: None,
    }
}

/// A warning on stderr; on GitHub Actions with every line that could start a workflow
/// command defused (it may carry text from a model, a provider or a file).
fn warn(github: bool, text: &str) {
    if github {
        output::warn(&formats::defuse_workflow_commands(text));
    } else {
        output::warn(text);
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
    let wrapped_note = match wrap_first(&args, budget, &route, &outputs).await? {
        Wrapped::Done(code) => return Ok(code),
        Wrapped::Review(note) => note,
    };

    let source = diff_source(&args);
    let limits = diff::ReadLimits {
        max_bytes: ctx.settings.limits.diff_bytes,
        deadline,
    };
    let gathered = diff::gather(&source, &env, limits).await?;
    if matches!(source, DiffSource::Stdin) && diff::is_blank(&gathered.bytes) {
        return Err(usage(
            "nothing came on standard input (`--diff -`): pipe a unified diff into it, e.g. `git diff origin/main... | aiw review --diff -`".into(),
        ));
    }
    let cwd = std::env::current_dir().ok();
    let instructions = ctx.review_policy.instructions(cwd.as_deref())?;
    let policy = fallback_policy(&ctx.settings, args.route.as_deref());
    let tiers = tiers_of(&ctx.settings, &route, policy);
    let mut opts = engine_options(
        &ctx.settings,
        &tiers,
        &args.focus,
        deadline,
        &instructions,
        args.fail_on_tier,
    );
    opts.filter_mode = args.filter_mode;
    opts.root = cwd
        .as_deref()
        .and_then(policy::repo_root)
        .or_else(|| cwd.clone());
    let unexempted = policy::unexempt_marked_files(&ctx.review_policy, &mut opts, &gathered.bytes)?;
    let router = Router::new(Arc::new(ctx.settings.clone()))?.with_fallback(policy);
    let model = RouterModel::new(router, tiers);
    let outcome = review_diff(&model, &gathered.bytes, &gathered.description, &opts).await?;
    let mut report = outcome.report;
    report.wrapped = wrapped_note;
    if let Some(note) = fallback_note(&report, &route, policy, &ctx.settings.paths.state_dir) {
        warn(outputs.github, &note);
        report.notes.push(note);
    }
    for note in ctx.review_policy.notes(cwd.as_deref()) {
        warn(outputs.github, &note);
        report.notes.push(note);
    }
    report
        .notes
        .extend(policy::coverage_notes(&report, unexempted));

    let mut code = verdict(&mut report, &args, outputs.github);
    let text = if report.is_skipped() {
        // Stored in the state dir for `aiw queue run`: no secret goes in it either.
        String::from_utf8_lossy(&opts.redactor.scrub_bytes(&gathered.bytes)).into_owned()
    } else {
        outcome.unreviewed
    };
    // Only what models failed to review is queued: a part left out for good (over the
    // chunk budget) would be left out again.
    // The unreviewed part of a partial review is queued even when the reviewed part already
    // fails the step: it still needs a review.
    if args.on_unavailable == OnUnavailable::Queue
        && (report.is_skipped() || report.is_partial())
        && !text.is_empty()
        && code != exit::USAGE
    {
        let job = queued_job(
            &args,
            &outputs,
            &env,
            cwd.as_deref(),
            text,
            &gathered.description,
        );
        match queue::Queue::configured(&ctx.settings, &env).and_then(|q| q.enqueue(&job)) {
            Ok(()) => report.queued_job = Some(job.id.clone()),
            Err(e) => {
                report.notes.push(format!(
                    "could not queue the review ({e:#}); it is NOT stored anywhere, flag it for manual review"
                ));
                code = exit::NO_MODEL;
            }
        }
    }
    let asked = conversation(args.github_comment, args.gitlab_note);
    if !asked.is_empty() {
        let parsed = diff::parse(&gathered.bytes);
        for platform in asked {
            let said =
                comment::publish(platform, &report, &parsed, &env, None, &opts.redactor).await;
            note_said(&mut report, said, outputs.github);
        }
    }
    let (printed, written) = write_outputs(&report, &outputs, &opts.redactor);
    output::raw_stderr(printed.stderr.as_bytes());
    output::stream_text(&printed.stdout)?;
    written?;
    Ok(exit::code(code))
}

/// What is left to do after the wrapped review command (`--wrap`), if any, ran.
enum Wrapped {
    /// It reviewed the change: its exit status is the step's (outputs already written).
    Done(ExitCode),
    /// aiw reviews itself; the note says why when the wrapped command failed like an outage.
    Review(Option<String>),
}

/// Runs the wrapped review command first when `--wrap` is given. When it passes, its result
/// stands, and the step outputs and report files still say so.
async fn wrap_first(
    args: &ReviewArgs,
    budget: Option<Duration>,
    route: &[ModelRef],
    outputs: &Outputs,
) -> anyhow::Result<Wrapped> {
    if args.wrap.is_empty() {
        return Ok(Wrapped::Review(None));
    }
    let wrap_timeout = match &args.wrap_timeout {
        Some(t) => parse_duration(t).map_err(|e| usage(format!("--wrap-timeout: {e}")))?,
        None => budget.map_or(wrap::DEFAULT_TIMEOUT, |b| b / 2),
    };
    let command = args.wrap.join(" ");
    match wrap::run_wrapped(&args.wrap, wrap_timeout).await? {
        wrap::WrapOutcome::Passed(code) => {
            let report = Report::new(
                Status::Wrapped(format!(
                    "The wrapped review command `{command}` reviewed the change and exited {code}; aiw passed its result through and did not review itself."
                )),
                "the wrapped review command's review",
                route.iter().map(ToString::to_string).collect(),
            );
            let redactor = crate::redact::global().clone();
            let (printed, written) = write_outputs(&report, outputs, &redactor);
            // Its own output already went to stdout: aiw's text report goes to stderr.
            output::raw_stderr(printed.stderr.as_bytes());
            output::raw_stderr(printed.stdout.as_bytes());
            written?;
            Ok(Wrapped::Done(exit::code(code)))
        }
        wrap::WrapOutcome::Outage(reason) => {
            let msg = format!(
                "The wrapped review command `{command}` failed like an outage ({reason}); aiw reviewed with its own route instead."
            );
            warn(outputs.github, &msg);
            Ok(Wrapped::Review(Some(msg)))
        }
    }
}

/// Where the diff comes from, as the flags say.
fn diff_source(args: &ReviewArgs) -> DiffSource {
    match (&args.diff, args.staged, &args.base) {
        (Some(p), _, _) if p.as_os_str() == "-" => DiffSource::Stdin,
        (Some(p), _, _) => DiffSource::File(p.clone()),
        (None, true, _) => DiffSource::Staged,
        (None, false, Some(b)) => DiffSource::Base(b.clone()),
        (None, false, None) => DiffSource::Auto,
    }
}

/// The step's exit status for `report`. A configuration problem (a rejected key, or every
/// model rejecting the call) is not an outage: the step fails with a usage error, because
/// skipping, or passing on a lower tier's review, would hide a broken setup every run.
fn verdict(report: &mut Report, args: &ReviewArgs, github: bool) -> u8 {
    let mut code = report::exit_code(report, args.fail_on, args.on_unavailable);
    if report.chunks.config_problems > 0 || !report.rejected.is_empty() {
        report.notes.push(
            "a model failed with a configuration problem (a rejected API key or permission, or every model rejecting the request): this is not an outage, so the step fails; fix the configuration shown above".into(),
        );
        code = exit::USAGE;
    }
    if !report.rejected.is_empty() {
        warn(
            github,
            &format!(
                "{} rejected the API key or its permission; a lower tier of the route reviewed instead: fix the key",
                report.rejected.join(", ")
            ),
        );
    }
    code
}

/// The queue job for the unreviewed `text`: the review's options, where it came from (PR,
/// commit, base) and where its outputs go (absolute paths, so a replay from elsewhere
/// writes them in the same place).
fn queued_job(
    args: &ReviewArgs,
    outputs: &Outputs,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: Option<&Path>,
    text: String,
    description: &str,
) -> queue::Job {
    let head = cwd
        .and_then(|d| policy::git_in(d, &["rev-parse", "HEAD"]).ok())
        .map(|o| String::from_utf8_lossy(&o).trim().to_string())
        .filter(|h| !h.is_empty());
    let absolute = |p: &Option<PathBuf>| {
        p.as_ref()
            .filter(|p| !crate::files::is_stdout(p))
            .map(|p| match cwd {
                Some(c) if p.is_relative() => c.join(p),
                _ => p.clone(),
            })
    };
    let job_outputs = queue::JobOutputs {
        json: absolute(&outputs.json),
        sarif: absolute(&outputs.sarif),
        rdjson: absolute(&outputs.rdjson),
        gitlab: absolute(&outputs.gitlab),
        github_comment: args.github_comment,
        gitlab_note: args.gitlab_note,
    };
    let mut job = queue::Job::new(
        text,
        description.to_string(),
        queue::JobOptions {
            route: args.route.clone(),
            model: args.model.clone(),
            focus: args.focus.clone(),
            fail_on: args.fail_on,
            fail_on_tier: args.fail_on_tier,
            filter_mode: args.filter_mode,
        },
        cwd.map(Path::to_path_buf),
    );
    job.origin = queue::Origin::from_env(env, head, args.base.clone());
    job.outputs = job_outputs;
    job
}

/// The platforms the review talks on (`--github-comment`, `--gitlab-note`).
pub fn conversation(github: bool, gitlab: bool) -> Vec<comment::Platform> {
    [
        (github, comment::Platform::GitHub),
        (gitlab, comment::Platform::GitLab),
    ]
    .into_iter()
    .filter_map(|(on, p)| on.then_some(p))
    .collect()
}

/// Adds what the conversation step said to the report's notes; a failure is also a warning
/// (loud, but it never changes the verdict).
pub fn note_said(report: &mut Report, said: comment::Said, github: bool) {
    for (note, failed) in said {
        if failed {
            warn(github, &crate::redact::global().scrub(&note));
        }
        report.notes.push(note);
    }
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
    let policy = fallback_policy(settings, job.options.route.as_deref());
    let tiers = tiers_of(settings, &route, policy);
    let mut opts = engine_options(
        settings,
        &tiers,
        &job.options.focus,
        Some(deadline),
        &instructions,
        job.options.fail_on_tier,
    );
    opts.root = job.repo_dir.clone();
    opts.filter_mode = job.options.filter_mode;
    let router = Router::new(Arc::new(settings.clone()))?.with_fallback(policy);
    let model = RouterModel::new(router, tiers);
    let out = review_diff(&model, job.diff.as_bytes(), &job.description, &opts).await?;
    let mut report = out.report;
    if let Some(o) = job.origin.summary() {
        report
            .notes
            .insert(0, format!("queued review {} of {o}", job.id));
    }
    report.notes.extend(fallback_note(
        &report,
        &route,
        policy,
        &settings.paths.state_dir,
    ));
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
/// What a degraded review says about its fallback, each lower model with its last eval score
/// when it has one (`openai/gpt-5.5 (9/10 on your evals, 3 days ago)`).
fn fallback_note(
    report: &Report,
    route: &[ModelRef],
    policy: FallbackPolicy,
    state_dir: &Path,
) -> Option<String> {
    if policy != FallbackPolicy::Notify || !report.degraded {
        return None;
    }
    let primary = route.first().map(ToString::to_string).unwrap_or_default();
    let now = crate::router::Clock::system().now_ms();
    let lower: Vec<String> = report
        .models
        .iter()
        .filter(|m| **m != primary)
        .map(|m| match crate::eval::store::eval_note(state_dir, m, now) {
            Some(score) => format!("{m} ({score})"),
            None => m.clone(),
        })
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

/// The outputs a queued job's replay writes: the report files it asked for, and on GitHub
/// Actions the annotations, summary and step outputs of the job that replays it.
pub fn job_outputs(job: &queue::Job, env: &dyn Fn(&str) -> Option<String>) -> Outputs {
    let github = env("GITHUB_ACTIONS").is_some_and(|v| v == "true");
    let path = |k: &str| {
        env(k)
            .filter(|v| github && !v.is_empty())
            .map(PathBuf::from)
    };
    Outputs {
        json: job.outputs.json.clone(),
        sarif: job.outputs.sarif.clone(),
        rdjson: job.outputs.rdjson.clone(),
        gitlab: job.outputs.gitlab.clone(),
        markdown: false,
        github,
        step_summary: path("GITHUB_STEP_SUMMARY"),
        step_output: path("GITHUB_OUTPUT"),
    }
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
