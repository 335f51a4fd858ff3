//! Choosing who answers: pinning, auto routing, cycling through the route, and the model
//! picker overlay with its fuzzy match.

use crate::config::ModelRef;

use super::{App, Effect, Level, Mode, Overlay, Phase, slash};
use crate::tui::keys::Action;

impl App {
    /// Picker rows for a filter: `None` is the "auto" row, then matching models, best first.
    pub fn picker_rows(&self, filter: &str) -> Vec<Option<ModelRef>> {
        let mut rows: Vec<(i64, Option<ModelRef>)> = Vec::new();
        if filter.is_empty() || fuzzy_score("auto", filter).is_some() {
            rows.push((i64::MAX, None));
        }
        for (i, m) in self.choices.iter().enumerate() {
            if let Some(s) = fuzzy_score(&m.to_string(), filter) {
                rows.push((s * 1000 - i as i64, Some(m.clone())));
            }
        }
        if !filter.is_empty() {
            rows.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        }
        rows.into_iter().map(|(_, m)| m).collect()
    }
}

/// Fuzzy match: every character of `pattern` in order in `text`, case-insensitive. Higher is
/// better: contiguous runs and an early start score more. `None` when it does not match.
pub fn fuzzy_score(text: &str, pattern: &str) -> Option<i64> {
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let mut score = 0i64;
    let mut ti = 0usize;
    let mut last: Option<usize> = None;
    for pc in pattern
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
    {
        let found = (ti..text.len()).find(|&i| text[i] == pc)?;
        score += if last.is_some_and(|l| l + 1 == found) {
            5
        } else {
            1
        };
        if last.is_none() {
            score -= found as i64 / 4;
        }
        last = Some(found);
        ti = found + 1;
    }
    Some(score)
}

/// The keys that choose a model: the picker, next/previous, Alt+N, and auto/pinned.
pub(super) fn on_model_key(app: &mut App, a: Action) {
    match a {
        Action::Picker => {
            app.overlay = Overlay::Picker {
                filter: String::new(),
                selected: 0,
            };
        }
        Action::NextModel => cycle(app, 1),
        Action::PrevModel => cycle(app, -1),
        Action::Pin(n) => match app.route.get(usize::from(n).saturating_sub(1)).cloned() {
            Some(m) => pin(app, m),
            None => app.flash(
                format!(
                    "route `{}` has {} model(s); Alt+{n} has nothing to pin",
                    app.route_name,
                    app.route.len()
                ),
                Level::Warn,
            ),
        },
        Action::ToggleAuto => match &app.mode {
            Mode::Pinned(_) => set_auto(app),
            Mode::Auto => {
                let m = app
                    .last_pinned
                    .clone()
                    .or_else(|| app.active_model())
                    .or_else(|| app.route.first().cloned());
                if let Some(m) = m {
                    pin(app, m);
                }
            }
        },
        _ => {}
    }
}

/// A key while the picker is open (Ctrl+C is handled before: it closes the picker and quits).
pub(super) fn on_picker(app: &mut App, a: Action) -> Vec<Effect> {
    let Overlay::Picker { filter, selected } = &mut app.overlay else {
        return Vec::new();
    };
    match a {
        Action::Cancel | Action::Picker => app.overlay = Overlay::None,
        Action::Insert(c) => {
            filter.push(c);
            *selected = 0;
        }
        Action::Backspace => {
            filter.pop();
            *selected = 0;
        }
        Action::DeleteWord | Action::ClearLine => {
            filter.clear();
            *selected = 0;
        }
        Action::Up | Action::ScrollUp => *selected = selected.saturating_sub(1),
        Action::Down | Action::ScrollDown | Action::Newline => *selected += 1,
        Action::Send if filter.starts_with('/') => {
            // A slash command typed into the picker (`/model` then more keys): run it.
            let cmd = filter[1..].to_string();
            app.overlay = Overlay::None;
            return slash::run_text(app, &cmd);
        }
        Action::Send => {
            let f = filter.clone();
            let sel = *selected;
            let rows = app.picker_rows(&f);
            app.overlay = Overlay::None;
            match rows.get(sel.min(rows.len().saturating_sub(1))) {
                Some(None) => set_auto(app),
                Some(Some(m)) => pin(app, m.clone()),
                None => app.flash(format!("no model matches `{f}`"), Level::Warn),
            }
        }
        _ => {}
    }
    if let Overlay::Picker { filter, selected } = &mut app.overlay {
        let n = app_picker_len(&app.choices, filter);
        *selected = (*selected).min(n.saturating_sub(1));
    }
    Vec::new()
}

fn app_picker_len(choices: &[ModelRef], filter: &str) -> usize {
    usize::from(filter.is_empty() || fuzzy_score("auto", filter).is_some())
        + choices
            .iter()
            .filter(|m| fuzzy_score(&m.to_string(), filter).is_some())
            .count()
}

pub(super) fn pin(app: &mut App, m: ModelRef) {
    if !app.choices.contains(&m) {
        app.choices.push(m.clone());
    }
    let later = if matches!(app.phase, Phase::Busy(_)) {
        " (from the next message)"
    } else {
        ""
    };
    let only = if app.is_local(&m) {
        "; only it answers, nothing leaves this machine"
    } else {
        "; only it answers (F3 for auto routing with fallback)"
    };
    app.flash(format!("pinned {m}{later}{only}"), Level::Info);
    app.last_pinned = Some(m.clone());
    app.mode = Mode::Pinned(m);
}

pub(super) fn set_auto(app: &mut App) {
    app.mode = Mode::Auto;
    app.flash(
        format!(
            "auto routing: route `{}` ({})",
            app.route_name,
            app.route
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" → ")
        ),
        Level::Info,
    );
}

fn cycle(app: &mut App, dir: isize) {
    let list = if app.route.len() > 1 {
        app.route.clone()
    } else {
        app.choices.clone()
    };
    if list.is_empty() {
        app.flash("no models configured", Level::Warn);
        return;
    }
    let current = match &app.mode {
        Mode::Pinned(m) => Some(m.clone()),
        Mode::Auto => app.active_model(),
    };
    let idx = current
        .and_then(|c| list.iter().position(|m| *m == c))
        .map_or(0, |i| i as isize + dir);
    let n = list.len() as isize;
    let next = list[idx.rem_euclid(n) as usize].clone();
    pin(app, next);
}
