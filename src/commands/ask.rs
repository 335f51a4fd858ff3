//! `aiw ask`: one-shot prompts for scripts and pipes. The prompt comes from the arguments,
//! stdin, or both (stdin becomes context); the answer streams to stdout; status, failovers and
//! errors go to stderr; `--json` prints one object at the end.

use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::Context;
use crate::cli::AskArgs;
use crate::config::FallbackPolicy;
use crate::config::ModelRef;
use crate::exit;
use crate::output::{self, Exit, Spinner};
use crate::provider::{ChatRequest, Message, StopReason};
use crate::router::{
    AllModelsFailed, Answer, Attempt, Outcome, Router, RouterEvent, Segment, failover_line,
};

/// The `--json` output. Scripts rely on this shape; it is documented in the README.
#[derive(Serialize)]
struct JsonAnswer<'a> {
    text: &'a str,
    model: Option<&'a crate::config::ModelRef>,
    served_model: Option<&'a str>,
    attempts: &'a [Attempt],
    usage: crate::provider::Usage,
    /// What the answer cost in US dollars at the model's known price (`assets/prices.toml`,
    /// `[prices]`); 0 on the local tier; absent when the price is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_usd: Option<f64>,
    ttft_ms: Option<u64>,
    total_ms: u64,
    degraded: bool,
    partial: bool,
    /// Why the answer ended (`end_turn`, `max_tokens`, …); absent when no model finished.
    stop: Option<&'a StopReason>,
    segments: &'a [Segment],
    error: Option<String>,
}

/// Runs `aiw ask`.
pub async fn run(ctx: &Context, args: AskArgs) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let prompt = args.prompt.join(" ");
    let stdin_text = if output::stdin_is_piped() {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf)?;
        String::from_utf8_lossy(&buf).into_owned()
    } else {
        String::new()
    };
    let content = match (prompt.trim().is_empty(), stdin_text.trim().is_empty()) {
        (true, true) => {
            return Err(Exit {
                message: "no prompt: give it as an argument (`aiw ask \"...\"`) or on stdin (`echo ... | aiw ask`)".into(),
                code: exit::USAGE,
            }
            .into());
        }
        (false, true) => prompt,
        (true, false) => stdin_text,
        (false, false) => format!("{prompt}\n\n{stdin_text}"),
    };

    let (route_name, route) = match &args.model {
        Some(m) => {
            let model = settings.model(m)?;
            (format!("model {m}"), vec![model])
        }
        None => settings
            .route_for(args.route.as_deref(), "ask")
            .map_err(|e| Exit {
                message: e.to_string(),
                code: exit::USAGE,
            })?,
    };
    tracing::info!(route = %route_name, "ask");
    first_run_hint(settings, &route);

    let req = ChatRequest {
        system: args.system.clone(),
        messages: vec![Message::user(content)],
        max_tokens: args.max_tokens,
        temperature: args.temperature,
        ..ChatRequest::default()
    };
    let policy = settings.fallback.policy_for("ask", &route_name);
    let router = Router::new(Arc::new(settings.clone()))?.with_fallback(policy);
    let cancel = CancellationToken::new();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            on_ctrl_c.cancel();
        }
    });

    let json = args.json;
    let mut spinner = Spinner::start("waiting for the first token");
    let mut shown_any = false;
    let mut write_error: Option<anyhow::Error> = None;
    // A secret split across two pieces of the stream is still caught.
    let mut scrubber = crate::redact::StreamRedactor::new(crate::redact::global());
    let mut on_event = |ev: RouterEvent| match ev {
        RouterEvent::Text { text, .. } => {
            if !shown_any {
                spinner.stop();
                shown_any = true;
            }
            if !json
                && write_error.is_none()
                && let Err(e) = output::stream_text(&scrubber.push(&text))
            {
                write_error = Some(e);
            }
        }
        RouterEvent::Attempting { model, tier } if tier > 0 || shown_any => {
            spinner.set_message(&format!("asking {model}"));
        }
        RouterEvent::Failover {
            from,
            to,
            error,
            mid_stream,
        } => {
            spinner.println(&failover_line(&from, to.as_ref(), &error, mid_stream));
        }
        RouterEvent::Retrying {
            model,
            after,
            error,
        } => {
            spinner.println(&format!(
                "{model}: {error}; retrying once in {} ms",
                after.as_millis()
            ));
        }
        RouterEvent::ConfigProblem { model, error } => {
            spinner.println(&format!("configuration problem with {model}: {error}"));
        }
        RouterEvent::Degraded {
            primary, to, tier, ..
        } if policy == FallbackPolicy::Notify => {
            spinner.warn(&format!(
                "falling back from {primary} to {to} (tier {} of the route): this answer does not come from your primary model",
                tier + 1
            ));
        }
        RouterEvent::HistoryFitted { model, report } => {
            spinner.println(&report.describe(&model.to_string()));
        }
        RouterEvent::ReduceFailed { model, why } => {
            spinner.println(&format!(
                "{model} could not summarise the history ({why}): the oldest turns are left out"
            ));
        }
        RouterEvent::Reducing { model, done, of } => {
            spinner.set_message(&format!("{model} is summarising the history ({done}/{of})"));
        }
        RouterEvent::Thinking { model, .. } if !shown_any => {
            spinner.set_message(&format!("{model} is thinking"));
        }
        // `aiw ask` offers no tools; reasoning is not part of the answer on stdout.
        RouterEvent::Skipped { .. }
        | RouterEvent::Degraded { .. }
        | RouterEvent::Usage { .. }
        | RouterEvent::Thinking { .. }
        | RouterEvent::ThinkingSignature { .. }
        | RouterEvent::Opaque { .. }
        | RouterEvent::ToolUse { .. }
        | RouterEvent::Attempting { .. } => {}
    };
    let result = router.run(&route, &req, &mut on_event, &cancel).await;
    if !json && write_error.is_none() {
        write_error = output::stream_text(&scrubber.finish()).err();
    }
    spinner.stop();
    router
        .finish_background(settings.health.probe_timeout)
        .await;
    if let Some(e) = write_error {
        return Err(e);
    }
    match result {
        Ok(answer) => {
            let local = settings
                .provider(&answer.model)
                .is_some_and(|p| p.kind == crate::config::ProviderKind::Local);
            let cost = settings.prices.cost_of(&answer.model, local, answer.usage);
            finish_ok(&answer, json, policy, cost, &settings.paths.state_dir)
        }
        Err(failed) => finish_failed(&failed, json, cancel.is_cancelled()),
    }
}

fn finish_ok(
    answer: &Answer,
    json: bool,
    policy: FallbackPolicy,
    cost_usd: Option<f64>,
    state_dir: &std::path::Path,
) -> anyhow::Result<ExitCode> {
    let text = answer.text();
    if json {
        let out = JsonAnswer {
            text: &text,
            model: Some(&answer.model),
            served_model: answer.served_model.as_deref(),
            attempts: &answer.attempts,
            usage: answer.usage,
            cost_usd,
            ttft_ms: answer.ttft_ms,
            total_ms: answer.total_ms,
            degraded: answer.degraded,
            partial: false,
            stop: Some(&answer.stop),
            segments: &answer.segments,
            error: None,
        };
        output::line(&serde_json::to_string(&out)?)?;
    } else {
        if !text.ends_with('\n') {
            output::stream_text("\n")?;
        }
        if answer.degraded {
            let seams: Vec<String> = answer
                .segments
                .iter()
                .map(|s| s.model.to_string())
                .collect();
            let who = if seams.len() > 1 {
                seams.join(" then ")
            } else {
                answer.model.to_string()
            };
            let now = crate::router::Clock::system().now_ms();
            let line =
                match crate::eval::store::eval_note(state_dir, &answer.model.to_string(), now) {
                    Some(score) => format!("answered by {who} (fallback; {score})"),
                    None => format!("answered by {who} (fallback)"),
                };
            if policy == FallbackPolicy::Notify {
                output::warn(&line);
            } else {
                output::note(&line);
            }
        }
        if answer.truncated_by_limit() {
            output::warn("the answer stopped at the token limit (--max-tokens)");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn finish_failed(
    failed: &AllModelsFailed,
    json: bool,
    cancelled: bool,
) -> anyhow::Result<ExitCode> {
    let partial: String = failed.partial.iter().map(Segment::text).collect();
    let code = if cancelled {
        exit::INTERRUPTED
    } else if partial.is_empty() {
        exit::NO_MODEL
    } else {
        exit::PARTIAL
    };
    if json {
        let out = JsonAnswer {
            text: &partial,
            model: None,
            served_model: None,
            attempts: &failed.attempts,
            usage: crate::provider::Usage::default(),
            cost_usd: None,
            ttft_ms: None,
            total_ms: failed.attempts.iter().map(|a| a.ms).sum(),
            degraded: true,
            partial: !partial.is_empty(),
            stop: None,
            segments: &failed.partial,
            error: Some(failed.to_string()),
        };
        output::line(&serde_json::to_string(&out)?)?;
    } else if !partial.is_empty() {
        output::stream_text("\n")?;
    }
    if cancelled {
        output::note("cancelled");
        return Ok(exit::code(code));
    }
    if partial.is_empty() {
        output::error("no model could answer. Attempts:");
    } else {
        output::error(
            "the answer above is PARTIAL: every model failed before it was complete. Attempts:",
        );
    }
    for a in &failed.attempts {
        let what = match (a.outcome, &a.error_class) {
            (Outcome::Skipped, _) => "skipped",
            (Outcome::Cancelled, _) => "cancelled",
            _ => "failed",
        };
        let class = a.error_class.map(|c| c.to_string()).unwrap_or_default();
        let detail = a.error.as_deref().unwrap_or("");
        output::note(&format!(
            "  {} {what}: {class} {detail} ({} ms)",
            a.model, a.ms
        ));
    }
    if let Some(h) = &failed.held_back {
        output::note(&format!(
            "  {} not tried: fallback = \"{}\" for `aiw ask` (allow it with `[fallback] ask = \"auto\"` or \"notify\")",
            h.model, h.policy
        ));
    }
    Ok(exit::code(code))
}

/// With no key at all, tells the user once (per state dir) how to add a provider.
fn first_run_hint(settings: &crate::config::Settings, route: &[ModelRef]) {
    let any_key = settings.providers.values().any(|p| p.api_key.is_some());
    if any_key || route.iter().any(|m| m.provider != "local") {
        return;
    }
    let marker = settings.paths.state_dir.join("first-run-hint-shown");
    if marker.exists() {
        return;
    }
    output::note(
        "no provider key found: answering with the local model. For cloud models set ANTHROPIC_API_KEY, OPENAI_API_KEY or GEMINI_API_KEY (see `aiw config init`).",
    );
    if crate::files::private_dir(&settings.paths.state_dir).is_ok() {
        let _ = crate::files::write_atomic(&marker, b"", crate::files::Access::Private);
    }
}
