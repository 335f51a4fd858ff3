//! The skip key: move on from a model that has not sent its first token yet, instead of
//! waiting for its first-token limit. The router does the skipping (through the request's
//! `SkipSignal`, reached with [`Effect::Skip`]) and says so with its usual failover line;
//! here is only when a skip makes sense and what the chat says when it does not: a pinned
//! model is a promise and is never skipped, an answer already streaming is never cut.

use super::{App, Effect, Level, Mode, Phase};
use crate::tui::keys::Action;

/// The skip key.
pub(super) fn skip(app: &mut App) -> Vec<Effect> {
    let key = |a: Action, or: &str| app.keymap.key_for(a).unwrap_or_else(|| or.to_string());
    let (esc, auto, this) = (
        key(Action::Cancel, "Esc"),
        key(Action::ToggleAuto, "F3"),
        key(Action::Skip, "the skip key"),
    );
    let Phase::Busy(p) = &app.phase else {
        app.flash(
            format!("{this} skips a model that is slow to start answering; nothing is running"),
            Level::Info,
        );
        return Vec::new();
    };
    let (id, route, others_left) = (p.id, p.route.clone(), p.others_left());
    let Some(current) = p.current.clone() else {
        app.flash("no model is being called yet", Level::Info);
        return Vec::new();
    };
    if p.answering {
        app.flash(
            format!("{current} is already answering: {this} only skips a model before its first token ({esc} stops the answer)"),
            Level::Info,
        );
        return Vec::new();
    }
    if let [only] = route.as_slice() {
        let text = match &app.mode {
            Mode::Pinned(m) if m == only => format!(
                "{only} is pinned and cannot be skipped: a pinned model answers alone ({esc} stops the answer, {auto} for auto routing)"
            ),
            _ => format!(
                "{only} is the only model asked: nothing to skip to ({esc} stops the answer)"
            ),
        };
        app.flash(text, Level::Warn);
        return Vec::new();
    }
    if !others_left {
        app.flash(
            format!("{current} is the last model of the route left to try: nothing to skip to ({esc} stops the answer)"),
            Level::Warn,
        );
        return Vec::new();
    }
    app.flash(format!("skipping {current}…"), Level::Info);
    vec![Effect::Skip {
        id,
        why: format!("you pressed {this}"),
    }]
}
