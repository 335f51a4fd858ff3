//! Scrolling the transcript: wheel, page and line moves, clamped by the layout of the last
//! frame, which the event loop passes in as [`Metrics`] (the view measures it; the app never
//! reads the view).

use super::{App, Scroll};

/// Layout facts from the last frame that scrolling needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Metrics {
    /// Transcript lines in total at the last width.
    pub total: usize,
    /// Transcript rows on screen.
    pub height: usize,
}

/// Moves the transcript `n` lines (negative: up); back at the bottom it follows new text.
pub(super) fn by(app: &mut App, n: i32, m: Metrics) {
    let max_top = m.total.saturating_sub(m.height);
    let top = match app.scroll {
        Scroll::Follow => max_top,
        Scroll::At(t) => t.min(max_top),
    };
    let new = if n < 0 {
        top.saturating_sub(n.unsigned_abs() as usize)
    } else {
        top + n as usize
    };
    app.scroll = if new >= max_top {
        Scroll::Follow
    } else {
        Scroll::At(new)
    };
}

/// Lines one PageUp/PageDown moves: the rows on screen less two of overlap.
pub(super) fn page(m: Metrics) -> i32 {
    (m.height.saturating_sub(2).max(1)) as i32
}
