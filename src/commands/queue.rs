//! `aiw queue list | run | drop ID`: inspect and replay reviews that were queued with
//! `aiw review --on-unavailable queue`. The storage and its crash-safety rules live in
//! `commands/review/queue/`; this file is the command.

use std::fmt::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use super::Context;
use super::review::{self, formats, queue as store};
use crate::cli::{QueueArgs, QueueCommand};
use crate::exit;
use crate::output;

/// Time budget for one queued review; the claim is held for as long as it runs.
const JOB_BUDGET: Duration = Duration::from_mins(20);

/// Runs `aiw queue`.
pub async fn run(ctx: &Context, args: QueueArgs) -> anyhow::Result<ExitCode> {
    let env = |k: &str| std::env::var(k).ok();
    let q = store::Queue::configured(&ctx.settings, &env)?;
    for id in q.recover()? {
        output::note(&format!(
            "job {id} was claimed by a runner that stopped; it is queued again"
        ));
    }
    match args.command.unwrap_or(QueueCommand::List { json: false }) {
        QueueCommand::List { json } => list(&q, json),
        QueueCommand::Run { dead } => run_due(ctx, &q, dead).await,
        QueueCommand::Drop { id } => {
            let full = q.drop_job(&id).map_err(|e| {
                anyhow::Error::new(output::Exit {
                    message: format!("{e:#}"),
                    code: exit::USAGE,
                })
            })?;
            output::line(&format!("dropped job {full}"))?;
            Ok(exit::code(exit::OK))
        }
    }
}

fn list(q: &store::Queue, json: bool) -> anyhow::Result<ExitCode> {
    let jobs = q.list()?;
    if json {
        output::line(&serde_json::to_string_pretty(&jobs)?)?;
        return Ok(exit::code(exit::OK));
    }
    if jobs.is_empty() {
        output::line("the review queue is empty")?;
        return Ok(exit::code(exit::OK));
    }
    for j in &jobs {
        let state = match j.state {
            store::JobState::Pending => format!("pending, next attempt {}", j.next_attempt_at),
            store::JobState::Running => "running".to_string(),
            store::JobState::Dead => "dead (gave up; `aiw queue run --dead` retries)".to_string(),
        };
        let mut line = format!(
            "{}  {state}  attempts {}  queued {}  {} ({} bytes)",
            j.id, j.attempts, j.created_at, j.description, j.diff_bytes
        );
        if let Some(e) = &j.last_error {
            let _ = write!(line, "\n    last error: {e}");
        }
        output::line(&line)?;
    }
    Ok(exit::code(exit::OK))
}

async fn run_due(ctx: &Context, q: &store::Queue, dead: bool) -> anyhow::Result<ExitCode> {
    if dead {
        let n = q.revive_dead()?;
        output::note(&format!("{n} dead job(s) queued again"));
    }
    let max = ctx
        .settings
        .review
        .queue_max_attempts
        .unwrap_or(store::DEFAULT_MAX_ATTEMPTS);
    let (mut done, mut retry, mut gave_up) = (0, 0, 0);
    let mut worst = exit::OK;
    while let Some(claim) = q.claim_due(store::now_unix())? {
        let id = claim.job.id.clone();
        output::note(&format!(
            "reviewing queued job {id} ({})",
            claim.job.description
        ));
        let mut report = match review::run_job(&ctx.settings, &claim.job, JOB_BUDGET).await {
            Ok(r) => r,
            Err(e) => {
                let state = q.fail(claim, &format!("{e:#}"), max)?;
                output::warn(&format!("job {id}: {e:#} ({state:?})"));
                if state == store::JobState::Dead {
                    gave_up += 1;
                } else {
                    retry += 1;
                }
                continue;
            }
        };
        // The outputs the review asked for, written again (and the step summary of this job),
        // and the PR comment or MR note it asked for, on the PR it came from.
        let env = |k: &str| std::env::var(k).ok();
        let outputs = review::job_outputs(&claim.job, &env);
        let asked = review::conversation(
            claim.job.outputs.github_comment,
            claim.job.outputs.gitlab_note,
        );
        if !report.is_skipped() && !asked.is_empty() {
            let parsed = review::diff::parse(claim.job.diff.as_bytes());
            let redactor = crate::redact::global().clone();
            for platform in asked {
                let said = review::comment::publish(
                    platform,
                    &report,
                    &parsed,
                    &env,
                    Some(&claim.job.origin),
                    &redactor,
                )
                .await;
                review::note_said(&mut report, said, outputs.github);
            }
        }
        let (printed, written) =
            review::write_outputs(&report, &outputs, &crate::redact::global().clone());
        output::stream_text(&printed.stdout)?;
        output::raw_stderr(printed.stderr.as_bytes());
        if let Err(e) = written {
            output::warn(&format!("job {id}: {e:#}"));
        }
        if review::job_done(&report) {
            let code = review::job_exit(&report, claim.job.options.fail_on);
            worst = worst.max(code);
            q.complete(claim, &formats::json(&report))?;
            done += 1;
        } else {
            let why = report.banner().join(" ");
            match q.fail(claim, &why, max)? {
                store::JobState::Dead => {
                    output::warn(&format!(
                        "job {id} failed {max} times and moved to the dead-letter list"
                    ));
                    gave_up += 1;
                }
                _ => retry += 1,
            }
        }
    }
    output::line(&format!(
        "queue: {done} reviewed, {retry} waiting for another attempt, {gave_up} dead-lettered"
    ))?;
    if retry + gave_up > 0 {
        return Ok(exit::code(exit::UNAVAILABLE));
    }
    Ok(exit::code(worst))
}
