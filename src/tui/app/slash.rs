//! What each slash command does to the chat (parsing is in `tui/command.rs`), Tab
//! completion of commands, and copying code blocks.

use crate::config::ModelRef;
use crate::tui::command::{self, Command};
use crate::tui::editor::Editor;
use crate::tui::markdown;
use crate::tui::session::Attachment;

use super::input::leave;
use super::models::{pin, set_auto};
use super::send::stop;
use super::{App, Effect, Level, Overlay, Scroll};

/// Runs the text after a slash, or says why it is not a command.
pub(super) fn run_text(app: &mut App, text: &str) -> Vec<Effect> {
    match Command::parse(text) {
        Ok(c) => run(app, c),
        Err(e) => {
            app.flash(e.to_string(), Level::Warn);
            Vec::new()
        }
    }
}

/// Does what a command says.
pub(super) fn run(app: &mut App, c: Command) -> Vec<Effect> {
    match c {
        Command::Model(None) => {
            app.overlay = Overlay::Picker {
                filter: String::new(),
                selected: 0,
            };
            app.flash(
                "pick a model (type to filter, Enter pins it) or `auto`; or type /model NAME",
                Level::Info,
            );
        }
        Command::Model(Some(name)) => pin_named(app, &name),
        Command::Auto => set_auto(app),
        Command::Route(name) => route(app, &name),
        Command::Add(path) => return vec![Effect::AttachFile(path)],
        Command::Diff => return vec![Effect::AttachDiff],
        Command::Clear => return clear(app),
        Command::Save => return vec![Effect::Save],
        Command::Mouse => {
            app.mouse = !app.mouse;
            let text = if app.mouse {
                "mouse captured: the wheel scrolls the transcript (/mouse again to select text)"
            } else {
                "mouse released: select text with it; scroll with PageUp/PageDown (/mouse captures it)"
            };
            app.flash(text, Level::Info);
            return vec![Effect::MouseCapture(app.mouse)];
        }
        Command::Copy(n) => return copy_code(app, n),
        Command::Export(path) => {
            return vec![Effect::Export {
                path,
                markdown: app.session.to_markdown(),
            }];
        }
        Command::Status => app.overlay = Overlay::Status,
        Command::Help => app.overlay = Overlay::Help,
        Command::Quit => return leave(app),
    }
    Vec::new()
}

/// `/model NAME`: the model of that name, the one model whose name contains it, or any
/// `provider/model` of a configured provider.
fn pin_named(app: &mut App, arg: &str) {
    if let Some(m) = app.choices.iter().find(|m| *m == arg).cloned() {
        pin(app, m);
        return;
    }
    let matches: Vec<ModelRef> = app
        .choices
        .iter()
        .filter(|m| m.to_string().contains(arg))
        .cloned()
        .collect();
    match (matches.len(), ModelRef::parse(arg)) {
        (1, _) => pin(app, matches[0].clone()),
        (0, Ok(m)) if app.providers.contains_key(&m.provider) => pin(app, m),
        (0, _) => app.flash(
            format!(
                "no model `{arg}`; known: {} (or any provider/model of a configured provider)",
                names(&app.choices)
            ),
            Level::Warn,
        ),
        _ => app.flash(
            format!("`{arg}` matches {}: be more specific", names(&matches)),
            Level::Warn,
        ),
    }
}

/// `/route NAME`: switch to that route in auto mode.
fn route(app: &mut App, name: &str) {
    match app.routes.get(name).cloned() {
        Some(r) => {
            app.route_name = name.to_string();
            app.route = r;
            app.rebuild_choices();
            set_auto(app);
        }
        None => app.flash(
            format!(
                "no route `{name}`; configured routes: {}",
                app.routes.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            Level::Warn,
        ),
    }
}

/// `/clear`: a new context; the session file keeps what came before.
fn clear(app: &mut App) -> Vec<Effect> {
    let mut fx = stop(app, "cancelled");
    app.session.clear();
    app.extras.clear();
    app.banner = None;
    app.scroll = Scroll::Follow;
    app.flash(
        "new context: models see nothing before this; the session keeps it all (`aiw sessions show`, /export)",
        Level::Info,
    );
    fx.push(Effect::SaveClear);
    fx
}

/// A file or diff read for `/add` or `/diff` is attached.
pub(super) fn on_attached(app: &mut App, att: Attachment) -> Vec<Effect> {
    let lines = att.content.lines().count();
    let pinned = if att.pinned {
        "pinned"
    } else {
        "not pinned: too big to keep when the context is small"
    };
    app.flash(
        format!("attached {} ({lines} lines, {pinned})", att.name),
        Level::Info,
    );
    app.session.attachments.push(att.clone());
    vec![Effect::SaveAttachment(att)]
}

/// Tab on a draft that is a bare `/word`: completes it to the one command it starts, or to
/// what all matches share, and lists them. False (Tab inserts a tab) for any other draft.
pub(super) fn complete_command(app: &mut App) -> bool {
    let text = app.editor.text();
    if !text.starts_with('/') || text.starts_with("//") || text.contains(char::is_whitespace) {
        return false;
    }
    let all: Vec<String> = command::names().collect();
    let matches: Vec<&str> = all
        .iter()
        .map(String::as_str)
        .filter(|c| c.starts_with(&text))
        .collect();
    match matches.as_slice() {
        [] => app.flash(
            format!("no command starts with {text}; commands: {}", all.join(" ")),
            Level::Warn,
        ),
        [one] => app.editor = Editor::with_text(&format!("{one} ")),
        many => {
            let mut common = many[0].to_string();
            for m in &many[1..] {
                while !m.starts_with(&common) {
                    common.pop();
                }
            }
            if common.len() > text.len() {
                app.editor = Editor::with_text(&common);
            }
            app.flash(many.join("  "), Level::Info);
        }
    }
    true
}

/// Copies code block `n` (1-based; the last one when `None`) of the last answer that has
/// any to the clipboard.
pub(super) fn copy_code(app: &mut App, n: Option<usize>) -> Vec<Effect> {
    let blocks = app
        .session
        .turns
        .iter()
        .rev()
        .filter_map(|t| t.answer.as_ref())
        .map(|a| markdown::code_blocks(&a.text()))
        .find(|b| !b.is_empty())
        .unwrap_or_default();
    if blocks.is_empty() {
        app.flash("no code block to copy yet", Level::Info);
        return Vec::new();
    }
    let k = blocks.len();
    let Some(i) = n.map_or(Some(k - 1), |n| n.checked_sub(1).filter(|&i| i < k)) else {
        app.flash(
            format!("the last answer has {k} code block(s): /copy 1..{k}"),
            Level::Warn,
        );
        return Vec::new();
    };
    let code = blocks[i].clone();
    let more = if k > 1 {
        format!("; /copy 1..{k} picks another")
    } else {
        String::new()
    };
    app.flash(
        format!(
            "copied code block {} of {k} ({} lines) to the clipboard{more}",
            i + 1,
            code.lines().count()
        ),
        Level::Info,
    );
    vec![Effect::Copy(code)]
}

fn names(ms: &[ModelRef]) -> String {
    ms.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}
