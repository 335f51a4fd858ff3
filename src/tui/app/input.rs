//! Keys, as actions from the key map, and pastes: what each does to the draft, the overlays
//! and the scroll position. Model keys go on to `models.rs`, sending to `send.rs`.

use super::scroll::{self, Metrics};
use super::{App, Effect, Level, Overlay, Phase, QUIT_WINDOW, Scroll, models, send, skip, slash};
use crate::tui::editor::Editor;
use crate::tui::keys::Action;

/// A key. `layout` is the last frame's, for the scroll keys.
pub(super) fn on_action(app: &mut App, a: Action, layout: Metrics) -> Vec<Effect> {
    // Any key but Quit disarms the pending quit.
    if a != Action::Quit {
        app.quit_armed = None;
    }
    match &app.overlay {
        Overlay::Picker { .. } if a == Action::Quit => app.overlay = Overlay::None,
        Overlay::Picker { .. } => return models::on_picker(app, a),
        Overlay::Help | Overlay::Status => match a {
            Action::Quit => {}
            Action::Cancel | Action::Help | Action::Send | Action::Insert('?' | 'q') => {
                app.overlay = Overlay::None;
                return Vec::new();
            }
            _ => {
                app.overlay = Overlay::None;
            }
        },
        Overlay::None => {}
    }
    match a {
        Action::Send => send::send(app),
        Action::Cancel => {
            if matches!(app.phase, Phase::Busy(_)) {
                send::stop(app, "cancelled")
            } else {
                app.flash = None;
                Vec::new()
            }
        }
        Action::Quit => quit(app),
        Action::QuitIfEmpty if app.editor.is_empty() => leave(app),
        Action::Reask => send::reask(app),
        Action::Skip => skip::skip(app),
        Action::CopyCode => slash::copy_code(app, None),
        Action::Picker
        | Action::NextModel
        | Action::PrevModel
        | Action::Pin(_)
        | Action::ToggleAuto => {
            models::on_model_key(app, a);
            Vec::new()
        }
        Action::Help => {
            app.overlay = Overlay::Help;
            Vec::new()
        }
        Action::Insert('?') if app.editor.is_empty() => {
            app.overlay = Overlay::Help;
            Vec::new()
        }
        Action::Insert('\t')
            if crate::tui::mention::complete(app) || slash::complete_command(app) =>
        {
            Vec::new()
        }
        _ => {
            if !scroll_key(app, a, layout) {
                edit(app, a);
            }
            Vec::new()
        }
    }
}

/// Ctrl+C: the first arms quitting (and stops a running answer), the second leaves.
fn quit(app: &mut App) -> Vec<Effect> {
    if app.quit_armed.is_some() {
        return leave(app);
    }
    app.quit_armed = Some(app.now);
    let mut fx = Vec::new();
    if matches!(app.phase, Phase::Busy(_)) {
        fx = send::stop(app, "cancelled");
    }
    app.flash_for("press Ctrl+C again to quit", Level::Warn, QUIT_WINDOW);
    fx
}

/// Leaves the chat, keeping a running answer as partial.
pub(super) fn leave(app: &mut App) -> Vec<Effect> {
    let mut fx = send::stop(app, "cancelled: quit");
    app.quitting = true;
    fx.push(Effect::Quit);
    fx
}

/// The transcript keys; false for any other action. Home and End scroll only when the draft
/// is empty (otherwise they move the cursor).
fn scroll_key(app: &mut App, a: Action, layout: Metrics) -> bool {
    match a {
        Action::ScrollUp => scroll::by(app, -3, layout),
        Action::ScrollDown => scroll::by(app, 3, layout),
        Action::PageUp => scroll::by(app, -scroll::page(layout), layout),
        Action::PageDown => scroll::by(app, scroll::page(layout), layout),
        Action::ScrollTop => app.scroll = Scroll::At(0),
        Action::ScrollBottom => app.scroll = Scroll::Follow,
        Action::Home if app.editor.is_empty() => app.scroll = Scroll::At(0),
        Action::End if app.editor.is_empty() => app.scroll = Scroll::Follow,
        _ => return false,
    }
    true
}

/// The draft keys: typing, moving, deleting, and the sent-message history on Up/Down at the
/// first or last line.
fn edit(app: &mut App, a: Action) {
    let e = &mut app.editor;
    match a {
        Action::Newline => e.newline(),
        Action::Insert(c) => e.insert(c),
        Action::Backspace => e.backspace(),
        Action::Delete | Action::QuitIfEmpty => e.delete(),
        Action::Left => e.left(),
        Action::Right => e.right(),
        Action::Home => e.home(),
        Action::End => e.end(),
        Action::DeleteWord => e.delete_word(),
        Action::ClearLine => e.clear_line(),
        Action::Up if e.on_first_line() => {
            let cur = e.text();
            if let Some(h) = app.history.older(&cur) {
                app.editor = Editor::with_text(h);
            }
        }
        Action::Up => e.up(),
        Action::Down if e.on_last_line() => {
            if let Some(h) = app.history.newer() {
                app.editor = Editor::with_text(h);
            }
        }
        Action::Down => e.down(),
        _ => {}
    }
}

/// Bracketed paste: into the picker's filter (first line) or the draft.
pub(super) fn on_paste(app: &mut App, text: &str) -> Vec<Effect> {
    if let Overlay::Picker { filter, selected } = &mut app.overlay {
        filter.push_str(text.lines().next().unwrap_or(""));
        *selected = 0;
    } else {
        app.editor.insert_str(text);
        let lines = text.lines().count();
        if lines > 20 {
            app.flash(
                format!("pasted {lines} lines ({} chars)", text.chars().count()),
                Level::Info,
            );
        }
    }
    Vec::new()
}
