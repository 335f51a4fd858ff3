//! `aiw eval`: every case of the eval files on every model of a route (or `--model`s), at
//! most `--concurrency` answers at once over all models; a progress bar per model on a
//! terminal (plain lines otherwise); a table at the end (model, pass rate, p50 latency,
//! tokens), or `--json`; JUnit XML with `--junit`; each model's score and the whole run
//! stored in the state dir. Exit 1 when a model marked `[required]` falls below its rate.
//!
//! Each model is asked alone (a one-model route, no fallback): the point is to learn how
//! that model does, not whether the route answers.

mod junit;

use std::collections::BTreeMap;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use futures_util::StreamExt as _;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::Context;
use crate::cli::EvalArgs;
use crate::config::FallbackPolicy;
use crate::config::ModelRef;
use crate::conversation::Block;
use crate::eval::{Case, CheckOutcome, EvalFile, Observed, Score, Scores, file, store};
use crate::exit;
use crate::output::{self, Exit};
use crate::provider::{ChatRequest, Message};
use crate::router::Router;

/// One case on one model.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// `file-stem/name`.
    pub case: String,
    /// The eval file and line of the case.
    pub file: String,
    /// Line of its `[[case]]`.
    pub line: usize,
    /// Every check passed.
    pub passed: bool,
    /// Time of the answer.
    pub ms: u64,
    /// Tokens in.
    pub input_tokens: u64,
    /// Tokens out.
    pub output_tokens: u64,
    /// Why there was no answer to check.
    pub error: Option<String>,
    /// Each check's outcome, in file order.
    pub checks: Vec<CheckOutcome>,
}

impl CaseResult {
    /// The first reason it failed, one line.
    pub fn why(&self) -> String {
        if let Some(e) = &self.error {
            return format!("no answer: {e}");
        }
        self.checks
            .iter()
            .find(|c| !c.passed)
            .map(|c| format!("{}: {}", c.kind, c.detail))
            .unwrap_or_default()
    }
}

/// One model's results.
#[derive(Debug, Clone, Serialize)]
pub struct ModelResult {
    /// `provider/model`.
    pub model: String,
    /// Cases passed.
    pub passed: u32,
    /// Cases run.
    pub total: u32,
    /// passed / total.
    pub pass_rate: f64,
    /// Median answer time.
    pub p50_ms: Option<u64>,
    /// Tokens in, all cases.
    pub input_tokens: u64,
    /// Tokens out, all cases.
    pub output_tokens: u64,
    /// The pass rate the eval files require of it.
    pub required: Option<f64>,
    /// It is required and fell below the rate.
    pub below_required: bool,
    /// Every case, in file order.
    pub cases: Vec<CaseResult>,
}

/// The whole run (`--json`, and the file stored in the state dir).
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// When it started (RFC 3339).
    pub started_at: String,
    /// Wall time of the run.
    pub total_ms: u64,
    /// The route evaluated (`models` with `--model`).
    pub route: String,
    /// The eval files.
    pub files: Vec<String>,
    /// Per model, in route order.
    pub models: Vec<ModelResult>,
}

/// Runs `aiw eval`.
pub async fn run(ctx: &Context, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let usage = |message: String| Exit {
        message,
        code: exit::USAGE,
    };
    let junit_to_stdout = args.junit.as_deref().is_some_and(crate::files::is_stdout);
    if junit_to_stdout && args.json {
        return Err(usage(
            "--json and --junit - both write to standard output; give --junit a file name".into(),
        )
        .into());
    }
    let paths = if args.file.is_empty() {
        let cwd = std::env::current_dir().context("no current directory")?;
        file::discover(&cwd).context("cannot list .aiw/evals")?
    } else {
        args.file.clone()
    };
    if paths.is_empty() {
        return Err(usage(
            "no eval files: write cases in .aiw/evals/NAME.toml (see the README's \"Evals\" section) or name a file with --file".into(),
        )
        .into());
    }
    let mut files = Vec::new();
    for p in &paths {
        files.push(EvalFile::load(p).map_err(|e| usage(e.to_string()))?);
    }
    let cases: Vec<&Case> = files.iter().flat_map(|f| f.cases.iter()).collect();
    for (i, c) in cases.iter().enumerate() {
        if cases[..i].iter().any(|o| o.id == c.id) {
            return Err(usage(format!(
                "two cases are called `{}` (eval files with the same name in different directories?); rename one",
                c.id
            ))
            .into());
        }
    }
    let case_file: Vec<String> = files
        .iter()
        .flat_map(|f| f.cases.iter().map(|_| f.path.display().to_string()))
        .collect();
    let (route_name, models) = if args.model.is_empty() {
        settings
            .route_for(args.route.as_deref(), "eval")
            .map_err(|e| usage(e.to_string()))?
    } else {
        let mut ms = Vec::new();
        for m in &args.model {
            ms.push(settings.model(m).map_err(|e| usage(e.to_string()))?);
        }
        ("models".to_string(), ms)
    };
    if models.is_empty() {
        return Err(usage(format!("route `{route_name}` has no models")).into());
    }
    let mut required: BTreeMap<String, f64> = BTreeMap::new();
    for f in &files {
        for (m, r) in &f.required {
            let slot = required.entry(m.clone()).or_insert(*r);
            *slot = slot.max(*r);
        }
    }
    for m in required.keys() {
        if !models.iter().any(|x| &x.to_string() == m) {
            output::warn(&format!(
                "{m} is [required] but not evaluated here (not in route `{route_name}`)"
            ));
        }
    }

    let router = Router::new(Arc::new(settings.clone()))?.with_fallback(FallbackPolicy::Off);
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });
    let clock = router.clock().clone();
    let started_ms = clock.now_ms();
    let started = std::time::Instant::now();
    let rows: Vec<(String, u64)> = models
        .iter()
        .map(|m| (m.to_string(), cases.len() as u64))
        .collect();
    let bars = output::Bars::new(&rows);
    let mut failed_so_far = vec![0u32; models.len()];
    // Case-major order: every model makes progress from the start.
    let jobs = cases
        .iter()
        .enumerate()
        .flat_map(|(ci, _)| (0..models.len()).map(move |mi| (ci, mi)));
    let mut results: Vec<Vec<Option<CaseResult>>> = vec![vec![None; cases.len()]; models.len()];
    let mut stream = futures_util::stream::iter(jobs)
        .map(|(ci, mi)| {
            let (router, model, case, cancel) = (&router, &models[mi], cases[ci], &cancel);
            let file = case_file[ci].clone();
            async move { (ci, mi, run_case(router, model, case, file, cancel).await) }
        })
        .buffer_unordered(usize::from(args.concurrency));
    while let Some((ci, mi, r)) = stream.next().await {
        if !r.passed {
            failed_so_far[mi] += 1;
        }
        let verdict = if r.passed { "pass" } else { "FAIL" };
        let msg = match failed_so_far[mi] {
            0 => String::new(),
            n => format!("{n} failed"),
        };
        bars.step(
            mi,
            &msg,
            &format!("{} {}: {verdict} ({} ms)", models[mi], r.case, r.ms),
        );
        results[mi][ci] = Some(r);
    }
    drop(stream);
    bars.finish();
    router
        .finish_background(settings.health.probe_timeout)
        .await;
    if cancel.is_cancelled() {
        output::note("cancelled; nothing stored");
        return Ok(exit::code(exit::INTERRUPTED));
    }

    let model_results: Vec<ModelResult> = models
        .iter()
        .zip(results)
        .map(|(m, rs)| {
            summarize(
                &m.to_string(),
                rs.into_iter().flatten().collect(),
                &required,
            )
        })
        .collect();
    let report = Report {
        started_at: crate::time::rfc3339(started_ms),
        total_ms: started.elapsed().as_millis() as u64,
        route: route_name,
        files: paths.iter().map(|p| p.display().to_string()).collect(),
        models: model_results,
    };

    // A model that gave no answer at all (no key, down) has no score to keep: storing 0/N
    // would keep it out of fallback under `min_eval_score` for a reason that is not quality.
    let scores: BTreeMap<String, Score> = report
        .models
        .iter()
        .filter(|m| {
            let answered = m.cases.iter().any(|c| c.error.is_none());
            if !answered {
                output::warn(&format!(
                    "{} gave no answer to any case; its last score is kept as it was",
                    m.model
                ));
            }
            answered
        })
        .map(|m| {
            (
                m.model.clone(),
                Score {
                    passed: m.passed,
                    total: m.total,
                    at_ms: started_ms,
                    p50_ms: m.p50_ms,
                    input_tokens: m.input_tokens,
                    output_tokens: m.output_tokens,
                },
            )
        })
        .collect();
    let state = &settings.paths.state_dir;
    let stored =
        Scores::record(state, &scores).and_then(|()| store::save_run(state, started_ms, &report));
    if let Some(path) = &args.junit {
        let xml = junit::render(&report);
        if junit_to_stdout {
            output::raw_stdout(xml.as_bytes())?;
        } else {
            crate::files::write_atomic(path, xml.as_bytes(), crate::files::Access::Public)
                .with_context(|| format!("cannot write the JUnit report {}", path.display()))?;
        }
    }
    if args.json {
        let mut value = serde_json::to_value(&report)?;
        crate::redact::global().scrub_json(&mut value);
        output::line(&serde_json::to_string_pretty(&value)?)?;
    } else if !junit_to_stdout {
        print_table(&report)?;
    }
    match stored {
        Ok(path) => output::note(&format!("results stored in {}", path.display())),
        Err(e) => output::warn(&format!(
            "cannot store the results in {}: {e}",
            state.display()
        )),
    }
    let below: Vec<&ModelResult> = report.models.iter().filter(|m| m.below_required).collect();
    if below.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for m in &below {
        output::error(&format!(
            "{} passed {}/{} ({:.0}%), below the {:.0}% the eval files require",
            m.model,
            m.passed,
            m.total,
            m.pass_rate * 100.0,
            m.required.unwrap_or(0.0) * 100.0
        ));
    }
    Ok(exit::code(exit::FINDINGS))
}

async fn run_case(
    router: &Router,
    model: &ModelRef,
    case: &Case,
    file: String,
    cancel: &CancellationToken,
) -> CaseResult {
    let req = ChatRequest {
        system: case.system.clone(),
        messages: vec![Message::user(case.prompt.clone())],
        tools: case.tools.clone(),
        max_tokens: case.max_tokens,
        temperature: case.temperature,
        ..ChatRequest::default()
    };
    let route = [model.clone()];
    let mut ignore = |_ev| {};
    let mut result = CaseResult {
        case: case.id.clone(),
        file,
        line: case.line,
        passed: false,
        ms: 0,
        input_tokens: 0,
        output_tokens: 0,
        error: None,
        checks: Vec::new(),
    };
    match router.run(&route, &req, &mut ignore, cancel).await {
        Ok(answer) => {
            let seen = Observed {
                text: answer.text(),
                tool_calls: answer
                    .blocks
                    .iter()
                    .filter_map(|b| match b {
                        Block::ToolUse { name, input, .. } => Some((name.clone(), input.clone())),
                        _ => None,
                    })
                    .collect(),
                total_ms: answer.total_ms,
            };
            for c in &case.checks {
                result.checks.push(c.run(&seen).await);
            }
            result.passed = result.checks.iter().all(|c| c.passed);
            result.ms = answer.total_ms;
            result.input_tokens = answer.usage.input_tokens;
            result.output_tokens = answer.usage.output_tokens;
        }
        Err(failed) => {
            result.ms = failed.attempts.iter().map(|a| a.ms).sum();
            result.error = Some(failed.to_string());
        }
    }
    result
}

fn summarize(model: &str, cases: Vec<CaseResult>, required: &BTreeMap<String, f64>) -> ModelResult {
    let total = cases.len() as u32;
    let passed = cases.iter().filter(|c| c.passed).count() as u32;
    let mut times: Vec<u64> = cases
        .iter()
        .filter(|c| c.error.is_none())
        .map(|c| c.ms)
        .collect();
    times.sort_unstable();
    let p50_ms = (!times.is_empty()).then(|| times[(times.len() - 1) / 2]);
    let pass_rate = if total == 0 {
        0.0
    } else {
        f64::from(passed) / f64::from(total)
    };
    let req = required.get(model).copied();
    ModelResult {
        model: model.to_string(),
        passed,
        total,
        pass_rate,
        p50_ms,
        input_tokens: cases.iter().map(|c| c.input_tokens).sum(),
        output_tokens: cases.iter().map(|c| c.output_tokens).sum(),
        required: req,
        // A little slack for 0.7 written as a fraction of 10 cases.
        below_required: req.is_some_and(|r| pass_rate + 1e-9 < r),
        cases,
    }
}

fn print_table(report: &Report) -> anyhow::Result<()> {
    let width = report
        .models
        .iter()
        .map(|m| m.model.len())
        .max()
        .unwrap_or(5)
        .max(5);
    output::line(&format!(
        "{:<width$}  {:>7}  {:>5}  {:>8}  {:>15}  REQUIRED",
        "MODEL", "PASSED", "RATE", "P50", "TOKENS IN/OUT"
    ))?;
    for m in &report.models {
        let p50 = m.p50_ms.map_or_else(|| "-".into(), |v| format!("{v}ms"));
        let req = match m.required {
            None => "-".to_string(),
            Some(r) if m.below_required => format!("{:.0}% FAILED", r * 100.0),
            Some(r) => format!("{:.0}% ok", r * 100.0),
        };
        output::line(&format!(
            "{:<width$}  {:>7}  {:>4.0}%  {:>8}  {:>15}  {req}",
            m.model,
            format!("{}/{}", m.passed, m.total),
            m.pass_rate * 100.0,
            p50,
            format!("{}/{}", m.input_tokens, m.output_tokens),
        ))?;
    }
    let failures: Vec<(&str, &CaseResult)> = report
        .models
        .iter()
        .flat_map(|m| {
            m.cases
                .iter()
                .filter(|c| !c.passed)
                .map(|c| (m.model.as_str(), c))
        })
        .collect();
    if !failures.is_empty() {
        output::line("")?;
        output::line("failed cases:")?;
        for (m, c) in failures {
            let why: String = c.why().chars().take(300).collect();
            output::line(&format!("  {m} {} ({}:{}): {why}", c.case, c.file, c.line))?;
        }
    }
    Ok(())
}
