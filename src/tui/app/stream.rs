//! A running answer: the router's events as they stream in (text, failovers, retries, history
//! fitting), checkpoints, and the finished answer or the failure of every model.

use std::time::Instant;

use crate::provider::{Block, ErrorClass, Usage};
use crate::router::{AllModelsFailed, Answer, RouterEvent, failover_line, push_segment};
use crate::tui::session::{AnswerRecord, FitRecord};

use super::send::start;
use super::{App, Banner, Effect, Failed, Level, Note, Pending, Phase, RequestId};

/// Elapsed time as shown: `3.2s`, `1m05s`.
pub fn elapsed(now: Instant, since: Instant) -> String {
    let d = now.saturating_duration_since(since);
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}.{}s", d.subsec_millis() / 100)
    }
}

/// An event of the running request (stale ones, of a cancelled or finished request, are
/// dropped).
pub(super) fn on_router(app: &mut App, id: RequestId, event: RouterEvent) -> Vec<Effect> {
    let Phase::Busy(p) = &mut app.phase else {
        return Vec::new();
    };
    if p.id != id {
        return Vec::new();
    }
    let mut banner = None;
    let mut fit = None;
    let mut fx: Vec<Effect> = Vec::new();
    let mut note = None;
    if let RouterEvent::Attempting { model, .. } | RouterEvent::Skipped { model, .. } = &event
        && !p.passed.contains(model)
    {
        p.passed.push(model.clone());
    }
    match event {
        RouterEvent::Attempting { model, .. } => {
            p.current = Some(model);
            p.answering = false;
            p.usage = Usage::default();
        }
        RouterEvent::Text { model, text } => {
            push_segment(&mut p.segments, &model, vec![Block::text(text)]);
            p.current = Some(model);
            p.answering = true;
            fx.extend(super::checkpoint::due(p, app.now));
        }
        RouterEvent::Usage { usage, .. } => p.usage = usage,
        // The chat offers no tools, and shows answers, not reasoning.
        RouterEvent::Thinking { model, .. }
        | RouterEvent::ThinkingSignature { model, .. }
        | RouterEvent::Opaque { model, .. }
        | RouterEvent::ToolUse { model, .. } => {
            p.current = Some(model);
            p.answering = true;
        }
        RouterEvent::Failover {
            from,
            to,
            error,
            mid_stream,
        } => {
            note = Some(Note {
                text: failover_line(&from, to.as_ref(), &error, mid_stream),
                level: Level::Warn,
            });
            // A model the user skipped did not fail: no banner says it did.
            let skipped = error.class == ErrorClass::Skipped;
            banner = to.filter(|_| !skipped).map(|to| Failed {
                model: from,
                instead: to,
                why: Some(error.brief()),
            });
        }
        RouterEvent::HistoryFitted { model, report } => {
            note = Some(Note {
                text: report.describe(&model.to_string()),
                level: Level::Warn,
            });
            fit = Some(FitRecord {
                at: crate::time::now_rfc3339(),
                model: model.clone(),
                report,
            });
        }
        other => note = event_note(other),
    }
    if let Some(f) = banner {
        app.banner = Some(app.failure_banner(f));
    }
    if let Some(n) = note {
        app.note(n.text, n.level);
    } else {
        let n = app.extras.len().saturating_sub(1);
        app.touch(n);
    }
    if let Some(f) = fit {
        app.session.fits.push(f.clone());
        fx.push(Effect::SaveFit(f));
    }
    fx
}

/// The transcript line of an event that only says something.
fn event_note(event: RouterEvent) -> Option<Note> {
    let (text, level) = match event {
        RouterEvent::Skipped { model, reason } => {
            (format!("skipped {model}: {reason}"), Level::Info)
        }
        RouterEvent::Retrying {
            model,
            after,
            error,
        } => (
            format!(
                "{} from {model}, retrying in {:.1}s",
                error.brief(),
                after.as_secs_f64()
            ),
            Level::Info,
        ),
        RouterEvent::ConfigProblem { model, error } => (
            format!(
                "{model}: {} ({}) — fix the config or key (`aiw config check`)",
                error.message, error.class
            ),
            Level::Error,
        ),
        RouterEvent::Reducing { model, done, of } => (
            if done < of {
                format!("no summary ready: {model} is summarising the history ({done}/{of} parts)")
            } else {
                format!("{model} summarised the history ({of} parts)")
            },
            Level::Info,
        ),
        RouterEvent::ReduceFailed { model, why } => (
            format!(
                "{model} could not summarise the history ({why}): the oldest turns are left out"
            ),
            Level::Warn,
        ),
        // The failover banner already names the switch; a `fallback = "notify"` banner of its
        // own is for the chat to add. The others are handled by `on_router`.
        _ => return None,
    };
    Some(Note { text, level })
}

/// A request ended: its answer or failure is recorded, then the next queued message goes.
pub(super) fn on_finished(
    app: &mut App,
    id: RequestId,
    result: Result<Answer, AllModelsFailed>,
) -> Vec<Effect> {
    let mut fx = finish(app, id, result);
    if matches!(app.phase, Phase::Idle)
        && let Some(next) = app.queued.pop_front()
    {
        let request = app.session.to_request(Some(&next));
        fx.extend(start(app, next, request));
    }
    fx
}

fn finish(app: &mut App, id: RequestId, result: Result<Answer, AllModelsFailed>) -> Vec<Effect> {
    let Phase::Busy(p) = &app.phase else {
        return Vec::new();
    };
    if p.id != id {
        return Vec::new();
    }
    let Phase::Busy(p) = std::mem::replace(&mut app.phase, Phase::Idle) else {
        return Vec::new();
    };
    match result {
        Ok(answer) => answered(app, &p, answer),
        Err(f) => failed(app, *p, f),
    }
}

/// The answer came: record it, say if it was cut, and keep or end the banner.
fn answered(app: &mut App, p: &Pending, answer: Answer) -> Vec<Effect> {
    let model = Some(answer.model.clone());
    let cut = answer.truncated_by_limit();
    if cut {
        app.note(
            format!(
                "cut: {} stopped at its output token limit ({} tokens); the answer is not complete (ask it to go on)",
                answer.model, answer.usage.output_tokens
            ),
            Level::Warn,
        );
    }
    let first = p.route.first();
    // Not from the first model only because the user skipped it: nothing failed.
    let skipped = answer
        .attempts
        .iter()
        .any(|a| a.error_class == Some(ErrorClass::Skipped));
    if !answer.degraded {
        app.banner = None;
    } else if let (Some(first), Some(m)) = (first, model.clone())
        && app.banner.is_none()
        && !skipped
    {
        app.banner = Some(app.failure_banner(Failed {
            model: first.clone(),
            instead: m,
            why: None,
        }));
    }
    app.tokens += answer.usage.input_tokens + answer.usage.output_tokens;
    let rec = AnswerRecord {
        blocks: answer.blocks,
        model: answer.model,
        segments: answer.segments,
        attempts: answer.attempts,
        usage: answer.usage,
        partial: cut,
        at: app.stamp(),
        notes: app.last_notes(),
    };
    app.set_answer(rec.clone());
    let mut fx = vec![Effect::SaveAnswer(Box::new(rec))];
    fx.extend(app.maybe_summarise(model.as_ref()));
    fx
}

/// Every model failed: say why, and keep what came as a partial answer.
fn failed(app: &mut App, p: Pending, failed: AllModelsFailed) -> Vec<Effect> {
    app.note(failed.to_string(), Level::Error);
    let mut segments = failed.partial;
    if segments.is_empty() {
        segments = p.segments;
    }
    let text = match p.route.as_slice() {
        [only] if app.route.len() > 1 || app.route.first() != Some(only) => format!(
            "{only} could not answer (see the reason above); it was the only model asked, \
             nothing else was tried: F3 for auto routing, F2 or Ctrl+P for another model, \
             Ctrl+R to ask another once"
        ),
        _ => "no model could answer: see the reasons above; F2 or Ctrl+P picks another model, Ctrl+R asks again".into(),
    };
    app.banner = Some(Banner {
        text,
        level: Level::Error,
        about: None,
    });
    let blocks: Vec<Block> = segments
        .iter()
        .flat_map(|s| s.blocks.iter().cloned())
        .collect();
    let Some(model) = segments.last().map(|s| s.model.clone()) else {
        return Vec::new();
    };
    if blocks.is_empty() {
        return Vec::new();
    }
    let rec = AnswerRecord {
        model,
        blocks,
        segments,
        attempts: failed.attempts,
        usage: p.usage,
        partial: true,
        at: app.stamp(),
        notes: app.last_notes(),
    };
    app.set_answer(rec.clone());
    vec![Effect::SaveAnswer(Box::new(rec))]
}
