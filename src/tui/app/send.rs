//! Sending: a draft becomes a request (or waits in the queue while an answer streams),
//! asking again on another model (Ctrl+R), and stopping a running answer.

use crate::config::ModelRef;
use crate::provider::{ChatRequest, Usage};
use crate::tui::editor::Editor;
use crate::tui::session::AnswerRecord;

use super::stream::elapsed;
use super::{App, Effect, Level, MAX_QUEUED, Mode, Pending, Phase, Scroll, slash};

/// Enter: a slash command runs, a message is sent (or queued while an answer streams).
pub(super) fn send(app: &mut App) -> Vec<Effect> {
    let text = app.editor.text();
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if let Some(cmd) = trimmed.strip_prefix('/')
        && !cmd.starts_with('/')
    {
        app.history.push(trimmed.to_string());
        app.editor = Editor::default();
        return slash::run_text(app, cmd);
    }
    if matches!(app.phase, Phase::Busy(_)) {
        if app.queued.len() >= MAX_QUEUED {
            app.flash(
                format!("{MAX_QUEUED} messages are queued already: wait, or press Esc to cancel the answer (your draft is kept)"),
                Level::Warn,
            );
            return Vec::new();
        }
        app.history.push(text.clone());
        app.editor = Editor::default();
        app.queued.push_back(text);
        app.flash(
            format!(
                "queued ({}): sent when this answer ends; Esc cancels the answer and puts queued messages back in the draft",
                app.queued.len()
            ),
            Level::Info,
        );
        return Vec::new();
    }
    // "//text" sends "/text" literally.
    let text = if trimmed.starts_with("//") {
        text.trim_start()[1..].to_string()
    } else {
        text
    };
    app.history.push(text.clone());
    app.editor = Editor::default();
    let request = app.session.to_request(Some(&text));
    start(app, text, request)
}

pub(super) fn start(app: &mut App, text: String, request: ChatRequest) -> Vec<Effect> {
    let route = app.effective_route();
    start_on(app, route, text, request)
}

fn start_on(
    app: &mut App,
    route: Vec<ModelRef>,
    text: String,
    request: ChatRequest,
) -> Vec<Effect> {
    if route.is_empty() {
        app.flash(
            "the route has no models: add some under [routes] in the config",
            Level::Error,
        );
        return Vec::new();
    }
    app.new_turn(text.clone());
    let id = app.next_id;
    app.next_id += 1;
    app.phase = Phase::Busy(Box::new(Pending {
        id,
        started: app.now,
        route: route.clone(),
        current: None,
        passed: Vec::new(),
        answering: false,
        segments: Vec::new(),
        usage: Usage::default(),
        checkpoint: (app.now, 0),
    }));
    app.scroll = Scroll::Follow;
    vec![Effect::SaveUser(text), Effect::Start { id, route, request }]
}

pub(super) fn reask(app: &mut App) -> Vec<Effect> {
    if matches!(app.phase, Phase::Busy(_)) {
        app.flash("wait for the answer or press Esc first", Level::Warn);
        return Vec::new();
    }
    let Some(last) = app.session.turns.last() else {
        app.flash("nothing to ask again yet", Level::Info);
        return Vec::new();
    };
    let text = last.user_text();
    let answered_by = last.answer.as_ref().map(|a| a.model.clone());
    let models = if app.route.len() > 1 {
        app.route.clone()
    } else {
        app.choices.clone()
    };
    let Some(next) = answered_by
        .as_ref()
        .and_then(|m| models.iter().position(|x| x == m))
        .map(|i| models[(i + 1) % models.len()].clone())
        .or_else(|| models.get(1).cloned())
        .or_else(|| models.first().cloned())
    else {
        app.flash("no other model to ask", Level::Info);
        return Vec::new();
    };
    let mode = match &app.mode {
        Mode::Auto => "auto routing".to_string(),
        Mode::Pinned(m) => format!("pinned {m}"),
    };
    app.flash(
        format!("asking again on {next}, this once ({mode} stays for the next message)"),
        Level::Info,
    );
    // The earlier attempt stays on screen but is not sent again.
    let mut earlier = app.session.clone();
    earlier.turns.pop();
    let request = earlier.to_request(Some(&text));
    start_on(app, vec![next], text, request)
}

/// Stops a running request, keeping what came as a partial answer.
pub(super) fn stop(app: &mut App, why: &str) -> Vec<Effect> {
    let Phase::Busy(p) = std::mem::replace(&mut app.phase, Phase::Idle) else {
        return Vec::new();
    };
    if !app.queued.is_empty() {
        let mut draft: Vec<String> = app.queued.drain(..).collect();
        if !app.editor.is_empty() {
            draft.push(app.editor.text());
        }
        app.editor = Editor::with_text(&draft.join("\n\n"));
    }
    let mut fx = vec![Effect::Cancel { id: p.id }];
    let text = p.text();
    app.note(
        format!("{why} after {}", elapsed(app.now, p.started)),
        Level::Warn,
    );
    if let Some(model) = p.segments.last().map(|s| s.model.clone())
        && !text.is_empty()
    {
        let rec = AnswerRecord {
            model,
            blocks: p
                .segments
                .iter()
                .flat_map(|s| s.blocks.iter().cloned())
                .collect(),
            segments: p.segments,
            attempts: Vec::new(),
            usage: p.usage,
            partial: true,
            at: app.stamp(),
            notes: app.last_notes(),
        };
        app.tokens += p.usage.input_tokens + p.usage.output_tokens;
        app.set_answer(rec.clone());
        fx.push(Effect::SaveAnswer(Box::new(rec)));
    }
    fx
}
