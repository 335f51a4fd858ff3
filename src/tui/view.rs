//! Drawing only: [`render`]`(&App, &mut Cache, &mut Frame)`. Reads the state, never changes
//! it. The [`Cache`] of wrapped lines per turn (keyed by the turn's revision and the width),
//! owned by the event loop, is what keeps a 5,000-turn transcript fast: only the turn being
//! streamed is re-wrapped, and only the visible window is drawn. It also measures the frame
//! ([`Cache::metrics`]), which the event loop hands to `app::update` for scrolling.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block as Frame_, Borders, Clear, Paragraph};
use unicode_width::UnicodeWidthChar;

use crate::router::{HealthState, Segment};

use super::app::{self, App, Level, Metrics, Mode, Overlay, Phase, Scroll};
use super::command;
use super::markdown::{self, Block};

#[derive(Debug, Default)]
struct CachedTurn {
    rev: u64,
    lines: Vec<Line<'static>>,
}

/// Rendered lines of a streaming answer's settled text: (segment, text length, width, lines).
type SettledPrefix = (usize, usize, u16, Vec<Line<'static>>);

/// Wrapped lines per turn, rebuilt when a turn changes or the width does; the event loop
/// keeps one and passes it to every [`render`].
#[derive(Debug, Default)]
pub struct Cache {
    width: u16,
    turns: Vec<CachedTurn>,
    metrics: Metrics,
    /// The settled part of the answer being streamed.
    stream_prefix: Option<SettledPrefix>,
}

impl Cache {
    /// Layout facts from the last frame.
    pub fn metrics(&self) -> Metrics {
        self.metrics
    }
}

const USER: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
const MODEL: Style = Style::new().fg(Color::Green).add_modifier(Modifier::BOLD);
const DIM: Style = Style::new().fg(Color::DarkGray);
const SEAM: Style = Style::new().fg(Color::Yellow);

fn level_style(l: Level) -> Style {
    match l {
        Level::Info => Style::new().fg(Color::Gray),
        Level::Warn => Style::new().fg(Color::Yellow),
        Level::Error => Style::new().fg(Color::LightRed),
    }
}

/// The health glyph and colour of a state (distinct glyphs, so it reads without colour).
pub fn health_dot(s: HealthState) -> Span<'static> {
    match s {
        HealthState::Healthy => Span::styled("●", Style::new().fg(Color::Green)),
        HealthState::Degraded => Span::styled("◐", Style::new().fg(Color::Yellow)),
        HealthState::Open => Span::styled("✕", Style::new().fg(Color::Red)),
        HealthState::Probing => Span::styled("◌", Style::new().fg(Color::Cyan)),
        HealthState::Unknown => Span::styled("○", DIM),
    }
}

fn health_word(s: HealthState) -> &'static str {
    match s {
        HealthState::Healthy => "healthy",
        HealthState::Degraded => "degraded",
        HealthState::Open => "down",
        HealthState::Probing => "probing",
        HealthState::Unknown => "unknown",
    }
}

/// Draws the whole screen.
pub fn render(app: &App, cache: &mut Cache, f: &mut Frame) {
    let area = f.area();
    if area.width == 0 || area.height == 0 {
        return;
    }
    let input = input_rows(app, area.width);
    let input_h = (input.rows.len().min(8) + 1) as u16;
    // Notes and the banner wrap (a few rows at most) instead of running off the edge.
    let wrapped = |spans: Vec<Span<'static>>, rows: usize| {
        let mut lines = markdown::wrap(&Block::plain(spans), area.width);
        lines.truncate(rows);
        lines
    };
    let activity = activity_line(app).map_or_else(Vec::new, |l| wrapped(l.spans, 3));
    let banner_style = |b: &app::Banner| match b.level {
        Level::Error => Style::new().fg(Color::White).bg(Color::Red),
        _ => Style::new().fg(Color::Black).bg(Color::Yellow),
    };
    let banner_lines = app.banner.as_ref().map_or_else(Vec::new, |b| {
        wrapped(
            vec![Span::styled(format!(" ⚠ {}", b.text), banner_style(b))],
            2,
        )
    });
    let [transcript, banner, activity_area, input_area, status] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(banner_lines.len() as u16),
        Constraint::Length(activity.len() as u16),
        Constraint::Length(input_h),
        Constraint::Length(1),
    ])
    .areas(area);
    let buf = f.buffer_mut();
    draw_transcript(app, cache, transcript, buf);
    if let Some(b) = &app.banner {
        buf.set_style(banner, banner_style(b));
        for (i, l) in banner_lines
            .iter()
            .take(usize::from(banner.height))
            .enumerate()
        {
            buf.set_line(banner.x, banner.y + i as u16, l, banner.width);
        }
    }
    for (i, l) in activity
        .iter()
        .take(usize::from(activity_area.height))
        .enumerate()
    {
        buf.set_line(
            activity_area.x,
            activity_area.y + i as u16,
            l,
            activity_area.width,
        );
    }
    let cursor = draw_input(app, &input, input_area, buf);
    draw_status(app, status, buf);
    match &app.overlay {
        Overlay::None => {
            if let Some(c) = cursor {
                f.set_cursor_position(c);
            }
        }
        Overlay::Help => draw_help(app, area, f.buffer_mut()),
        Overlay::Status => draw_status_overlay(app, area, f.buffer_mut()),
        Overlay::Picker { filter, selected } => {
            draw_picker(app, filter, *selected, area, f.buffer_mut());
        }
    }
}

/// Wrapped lines of one turn.
fn turn_lines(
    app: &App,
    prefix: &mut Option<SettledPrefix>,
    i: usize,
    width: u16,
) -> Vec<Line<'static>> {
    let turn = &app.session.turns[i];
    let mut out = Vec::new();
    out.push(Line::from(Span::styled("▌ you", USER)));
    for l in turn.user_text().split('\n') {
        out.extend(markdown::wrap(
            &Block::plain(vec![Span::raw(l.replace('\t', "    "))]),
            width,
        ));
    }
    out.push(Line::default());
    let last = i + 1 == app.session.turns.len();
    let streaming = match &app.phase {
        Phase::Busy(p) if last => Some(p),
        _ => None,
    };
    let segments: Vec<Segment>;
    let mut tail: Vec<Span<'static>> = Vec::new();
    if let Some(p) = streaming {
        segments = p.segments.clone();
        if segments.is_empty() {
            let who = p
                .current
                .as_ref()
                .or(p.route.first())
                .map_or_else(String::new, ToString::to_string);
            out.push(Line::from(vec![
                Span::styled("● ", MODEL),
                Span::styled(format!("{who} "), MODEL),
                Span::styled("…", DIM),
            ]));
        } else {
            tail.push(Span::styled("▍", DIM));
        }
    } else if let Some(a) = &turn.answer {
        segments = if a.segments.is_empty() {
            vec![Segment {
                model: a.model.clone(),
                blocks: a.blocks.clone(),
            }]
        } else {
            a.segments.clone()
        };
    } else {
        segments = Vec::new();
    }
    // What happened while answering (retries, failovers) comes first: it explains the
    // answer below it.
    if let Some(extra) = app.extras.get(i) {
        for n in &extra.notes {
            out.extend(markdown::wrap(
                &Block {
                    first: vec![Span::styled("↳ ", level_style(n.level))],
                    rest: vec![Span::raw("  ")],
                    spans: vec![Span::styled(n.text.clone(), level_style(n.level))],
                    rule: false,
                },
                width,
            ));
        }
    }
    for (n, seg) in segments.iter().enumerate() {
        if n == 0 {
            let mut label = vec![Span::styled(format!("● {}", seg.model), MODEL)];
            if let Some(a) = turn.answer.as_ref().filter(|_| streaming.is_none()) {
                if a.partial {
                    label.push(Span::styled(" (partial)", SEAM));
                }
                let u = a.usage;
                if u.input_tokens + u.output_tokens > 0 {
                    let cost = super::cost::answer_cost(app, a)
                        .map(|c| format!(" · {}", super::cost::usd(c)))
                        .unwrap_or_default();
                    label.push(Span::styled(
                        format!(
                            " · {} in / {} out tokens{cost}",
                            fmt_tokens(u.input_tokens),
                            fmt_tokens(u.output_tokens)
                        ),
                        DIM,
                    ));
                }
            }
            out.push(Line::from(label));
        } else {
            let prev = &segments[n - 1].model;
            out.push(Line::from(Span::styled(
                format!("── continued by {} after {prev} failed ──", seg.model),
                SEAM,
            )));
        }
        let mut lines = if streaming.is_some() && n + 1 == segments.len() {
            streaming_lines(prefix, n, &seg.text(), width)
        } else {
            md_lines(&seg.text(), width)
        };
        if n + 1 == segments.len() && !tail.is_empty() {
            match lines.last_mut() {
                Some(l) if (l.width() as u16) < width => l.spans.append(&mut tail),
                _ => lines.push(Line::from(std::mem::take(&mut tail))),
            }
        }
        out.extend(lines);
    }
    out.push(Line::default());
    out
}

fn md_lines(text: &str, width: u16) -> Vec<Line<'static>> {
    markdown::to_blocks(text)
        .iter()
        .flat_map(|b| markdown::wrap(b, width))
        .collect()
}

/// Where the text of a streaming answer can be cut so that the part before never renders
/// differently again: after the last blank line that is outside a code fence.
fn settled_len(text: &str) -> usize {
    let mut in_fence = false;
    let mut settled = 0;
    let mut pos = 0;
    let mut prev_blank = false;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            in_fence = !in_fence;
        }
        let blank = line.trim().is_empty() && line.ends_with('\n');
        pos += line.len();
        if blank && !prev_blank && !in_fence && pos < text.len() {
            settled = pos;
        }
        prev_blank = blank;
    }
    settled
}

/// Lines of the answer being streamed: the settled prefix is rendered once and kept, only
/// the tail is parsed again on each frame, so long answers stay cheap to draw.
fn streaming_lines(
    cache: &mut Option<SettledPrefix>,
    seg: usize,
    text: &str,
    width: u16,
) -> Vec<Line<'static>> {
    let cut = settled_len(text);
    if cut == 0 {
        return md_lines(text, width);
    }
    let mut lines = match cache.as_ref() {
        Some((s, len, w, lines)) if *s == seg && *len == cut && *w == width => lines.clone(),
        _ => {
            let lines = md_lines(&text[..cut], width);
            *cache = Some((seg, cut, width, lines.clone()));
            lines
        }
    };
    let tail = md_lines(&text[cut..], width);
    if !lines.is_empty() && !tail.is_empty() {
        lines.push(Line::default());
    }
    lines.extend(tail);
    lines
}

fn draw_transcript(app: &App, c: &mut Cache, area: Rect, buf: &mut Buffer) {
    let width = area.width.max(1);
    if c.width != width {
        c.turns.clear();
        c.width = width;
    }
    let Cache {
        turns: cache,
        stream_prefix: prefix,
        ..
    } = c;
    let n = app.session.turns.len();
    cache.truncate(n);
    let mut total = 0usize;
    for i in 0..n {
        let rev = app.extras.get(i).map_or(0, |e| e.rev);
        if i >= cache.len() {
            cache.push(CachedTurn {
                rev,
                lines: turn_lines(app, prefix, i, width),
            });
        } else if cache[i].rev != rev {
            cache[i] = CachedTurn {
                rev,
                lines: turn_lines(app, prefix, i, width),
            };
        }
        total += cache[i].lines.len();
    }
    let height = usize::from(area.height);
    c.metrics = Metrics { total, height };
    if n == 0 {
        let hint = format!(
            "Type a message and press Enter. {} for help, {} to pick a model.",
            app.keymap
                .key_for(super::keys::Action::Help)
                .unwrap_or_default(),
            app.keymap
                .key_for(super::keys::Action::Picker)
                .unwrap_or_default()
        );
        let lines = markdown::wrap(&Block::plain(vec![Span::styled(hint, DIM)]), width);
        for (row, l) in lines.iter().take(height).enumerate() {
            buf.set_line(area.x, area.y + row as u16, l, area.width);
        }
        return;
    }
    let max_top = total.saturating_sub(height);
    let top = match app.scroll {
        Scroll::Follow => max_top,
        Scroll::At(t) => t.min(max_top),
    };
    let mut line_no = 0usize;
    let mut row = 0usize;
    for t in cache.iter() {
        let len = t.lines.len();
        if line_no + len <= top {
            line_no += len;
            continue;
        }
        let skip = top.saturating_sub(line_no);
        for l in t.lines.iter().skip(skip) {
            if row >= height {
                break;
            }
            buf.set_line(area.x, area.y + row as u16, l, area.width);
            row += 1;
        }
        line_no += len;
        if row >= height {
            break;
        }
    }
}

fn spinner(app: &App, since: std::time::Instant) -> &'static str {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let ms = app.now.saturating_duration_since(since).as_millis();
    FRAMES[(ms / 100 % 10) as usize]
}

fn activity_line(app: &App) -> Option<Line<'static>> {
    if let Some(f) = &app.flash {
        return Some(Line::from(Span::styled(
            format!(" {}", f.text),
            level_style(f.level),
        )));
    }
    if let Phase::Busy(p) = &app.phase {
        let who = p
            .current
            .as_ref()
            .or(p.route.first())
            .map_or_else(String::new, ToString::to_string);
        let what = if p.segments.is_empty() {
            format!("waiting for {who}")
        } else {
            format!("{who} is answering")
        };
        let mut spans = vec![
            Span::styled(format!(" {} ", spinner(app, p.started)), MODEL),
            Span::raw(format!("{} · {what}", app::elapsed(app.now, p.started))),
        ];
        if let Some(n) = app.extras.last().and_then(|e| e.notes.last()) {
            spans.push(Span::styled(format!(" · {}", n.text), level_style(n.level)));
        }
        if !app.queued.is_empty() {
            spans.push(Span::styled(
                format!(" · {} queued", app.queued.len()),
                MODEL,
            ));
        }
        spans.push(Span::styled(" · Esc cancels", DIM));
        return Some(Line::from(spans));
    }
    if let Scroll::At(_) = app.scroll {
        return Some(Line::from(Span::styled(
            " scrolled up: End (on empty input) or Ctrl+End follows the conversation",
            DIM,
        )));
    }
    None
}

struct InputRows {
    rows: Vec<String>,
    cursor: (usize, u16),
}

fn input_rows(app: &App, width: u16) -> InputRows {
    let avail = usize::from(width.saturating_sub(2).max(1));
    let (crow, ccol) = app.editor.cursor();
    let mut rows = Vec::new();
    let mut cursor = (0, 0u16);
    for (r, line) in app.editor.lines().iter().enumerate() {
        let mut cur = String::new();
        let mut w = 0usize;
        for (c_idx, c) in line.chars().enumerate() {
            let cw = c.width().unwrap_or(0);
            if w + cw > avail && !cur.is_empty() {
                rows.push(std::mem::take(&mut cur));
                w = 0;
            }
            if r == crow && c_idx == ccol {
                cursor = (rows.len(), w as u16);
            }
            cur.push(c);
            w += cw;
        }
        if r == crow && ccol >= line.chars().count() {
            if w >= avail {
                rows.push(std::mem::take(&mut cur));
                w = 0;
            }
            cursor = (rows.len(), w as u16);
        }
        rows.push(cur);
    }
    InputRows { rows, cursor }
}

fn draw_input(app: &App, input: &InputRows, area: Rect, buf: &mut Buffer) -> Option<Position> {
    if area.height == 0 {
        return None;
    }
    let hint = match &app.phase {
        // Waiting for a first token with a model left to go to: the skip key helps.
        Phase::Busy(p) if !p.answering && p.current.is_some() && p.others_left() => {
            let skip = app
                .keymap
                .key_for(super::keys::Action::Skip)
                .map(|k| format!("{k} skips a silent model; "))
                .unwrap_or_default();
            format!(" waiting for the first token… ({skip}Esc cancels) ")
        }
        Phase::Busy(_) => " answering… (type ahead; Esc cancels) ".into(),
        Phase::Idle => " Enter send · Shift/Alt+Enter new line · F1 help ".into(),
    };
    let rule = format!("──{hint}{}", "─".repeat(usize::from(area.width)));
    buf.set_line(
        area.x,
        area.y,
        &Line::from(Span::styled(rule, DIM)),
        area.width,
    );
    let visible = usize::from(area.height - 1);
    if visible == 0 {
        return None;
    }
    let first = input.cursor.0.saturating_sub(visible - 1);
    for (i, r) in input.rows.iter().skip(first).take(visible).enumerate() {
        let prefix = if first + i == 0 { "› " } else { "  " };
        buf.set_line(
            area.x,
            area.y + 1 + i as u16,
            &Line::from(vec![Span::styled(prefix, USER), Span::raw(r.clone())]),
            area.width,
        );
    }
    let x = (area.x + 2 + input.cursor.1).min(area.right().saturating_sub(1));
    let y = area.y + 1 + (input.cursor.0 - first) as u16;
    Some(Position::new(x, y))
}

fn fmt_tokens(n: u64) -> String {
    if n >= 10_000 {
        format!("{:.0}k", n as f64 / 1000.0)
    } else if n >= 1000 {
        format!("{:.1}k", n as f64 / 1000.0)
    } else {
        n.to_string()
    }
}

fn draw_status(app: &App, area: Rect, buf: &mut Buffer) {
    if area.height == 0 {
        return;
    }
    let bar = Style::new().bg(Color::Indexed(236)).fg(Color::Gray);
    buf.set_style(area, bar);
    let mut spans = Vec::new();
    let (mode, mode_style) = match &app.mode {
        Mode::Auto => ("auto", Style::new().fg(Color::Green)),
        Mode::Pinned(_) => ("pinned", Style::new().fg(Color::Magenta)),
    };
    spans.push(Span::styled(
        format!(" {mode} "),
        mode_style.add_modifier(Modifier::BOLD),
    ));
    if let Some(m) = app.active_model() {
        spans.push(Span::styled(m.to_string(), Style::new().fg(Color::White)));
        let tier = if app.is_local(&m) {
            " local".to_string()
        } else {
            app.route
                .iter()
                .position(|x| *x == m)
                .map_or_else(String::new, |i| {
                    format!(" tier {}/{}", i + 1, app.route.len())
                })
        };
        spans.push(Span::styled(tier, DIM));
    }
    spans.push(Span::styled(" │ ", DIM));
    // One health dot per route model, labelled with its model id when the bar has room
    // (`●claude-opus-4-8 ◐gpt-5.5`), else with its position (`●1 ◐2`).
    let dots = |named: bool| {
        let mut v = Vec::new();
        for (i, m) in app.route.iter().enumerate() {
            if i > 0 {
                v.push(Span::raw(" "));
            }
            v.push(health_dot(app.health_of(m)));
            v.push(Span::raw(if named {
                m.model.clone()
            } else {
                format!("{}", i + 1)
            }));
        }
        v
    };
    let mut tail = vec![
        Span::styled(" │ ", DIM),
        Span::raw(format!("{} tok", fmt_tokens(app.tokens_used()))),
    ];
    // How full the active model's window is, when its size is known.
    if let Some((used, window)) = app.context_fill() {
        let pct = used.saturating_mul(100) / u64::from(window.max(1));
        let style = match pct {
            0..=69 => DIM,
            70..=89 => Style::new().fg(Color::Yellow),
            _ => Style::new().fg(Color::Red),
        };
        tail.push(Span::styled(" │ ", DIM));
        tail.push(Span::styled(
            format!("ctx {pct}% of {}", fmt_tokens(u64::from(window))),
            style,
        ));
    }
    if !app.session.attachments.is_empty() {
        tail.push(Span::styled(" │ ", DIM));
        tail.push(Span::raw(format!(
            "{} attached",
            app.session.attachments.len()
        )));
    }
    tail.push(Span::styled(" │ F1 help", DIM));
    let width = |v: &[Span]| v.iter().map(Span::width).sum::<usize>();
    let named = dots(true);
    let fits = width(&spans) + width(&named) + width(&tail) <= usize::from(area.width);
    spans.extend(if fits { named } else { dots(false) });
    spans.extend(tail);
    buf.set_line(area.x, area.y, &Line::from(spans), area.width);
}

fn popup(area: Rect, want_w: u16, want_h: u16) -> Rect {
    let w = want_w.min(area.width);
    let h = want_h.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

fn draw_box(title: &str, lines: Vec<Line<'static>>, area: Rect, buf: &mut Buffer, w: u16) {
    let h = lines.len() as u16 + 2;
    let r = popup(area, w, h);
    if r.width < 3 || r.height < 3 {
        return;
    }
    ratatui::widgets::Widget::render(Clear, r, buf);
    let block = Frame_::default()
        .borders(Borders::ALL)
        .border_style(DIM)
        .title(Span::styled(format!(" {title} "), MODEL));
    ratatui::widgets::Widget::render(Paragraph::new(lines).block(block), r, buf);
}

/// The rows of the help: keys (as shown) and what they do.
fn help_rows(app: &App) -> Vec<(Vec<String>, String)> {
    const SCROLL: [&str; 6] = [
        "scroll_up",
        "scroll_down",
        "page_up",
        "page_down",
        "scroll_top",
        "scroll_bottom",
    ];
    let mut rows: Vec<(Vec<String>, String)> = Vec::new();
    for b in &app.keymap.bindings() {
        if SCROLL.contains(&b.name) || (b.name.starts_with("pin_") && b.name != "pin_1") {
            continue;
        }
        if b.name == "pin_1" {
            rows.push((vec!["Alt+1..9".into()], "pin route model 1..9".into()));
        } else {
            rows.push((b.keys.clone(), b.description.into()));
        }
    }
    rows.push((
        vec!["PageUp/PageDown".into(), "Ctrl+Up/Down".into()],
        "scroll (Ctrl+Home/End: top/bottom, mouse wheel)".into(),
    ));
    rows
}

/// Key help: a table of keys when it fits, else the same keys flowed into lines (first key
/// of each only), so the whole box is visible at any size from 60x15 up.
fn draw_help(app: &App, area: Rect, buf: &mut Buffer) {
    let key_style = Style::new().fg(Color::Cyan);
    let rows = help_rows(app);
    let w = area.width.min(100);
    let inner = w.saturating_sub(2).max(1);
    let cmds: Vec<&str> = command::listed().map(|s| s.usage).collect();
    let tail = |lines: &mut Vec<Line<'static>>| {
        lines.extend(markdown::wrap(
            &Block::plain(vec![Span::styled(
                cmds.join("  "),
                Style::new().fg(Color::Yellow),
            )]),
            inner,
        ));
        lines.extend(markdown::wrap(
            &Block::plain(vec![Span::styled(
                "Rebind keys under [chat.keys] in the config. Esc closes.",
                DIM,
            )]),
            inner,
        ));
    };
    let key_w = rows
        .iter()
        .map(|(k, _)| k.join(", ").chars().count())
        .max()
        .unwrap_or(0)
        .min(usize::from(inner) / 3);
    let mut table: Vec<Line<'static>> = Vec::new();
    for (keys, desc) in &rows {
        let mut key = keys.join(", ");
        if key.chars().count() > key_w {
            key = keys.first().cloned().unwrap_or_default();
        }
        table.extend(markdown::wrap(
            &Block {
                first: vec![Span::styled(format!("{key:<key_w$} "), key_style)],
                rest: vec![Span::raw(" ".repeat(key_w + 1))],
                spans: vec![Span::raw(desc.clone())],
                rule: false,
            },
            inner,
        ));
    }
    table.push(Line::default());
    tail(&mut table);
    let lines = if table.len() + 2 <= usize::from(area.height) {
        table
    } else {
        let mut spans = Vec::new();
        for (i, (keys, desc)) in rows.iter().enumerate() {
            if i > 0 {
                spans.push(Span::styled(" · ", DIM));
            }
            spans.push(Span::styled(
                keys.first().cloned().unwrap_or_default(),
                key_style,
            ));
            spans.push(Span::raw(format!(" {desc}")));
        }
        spans.push(Span::raw(" · "));
        spans.push(Span::styled(
            cmds.join("  "),
            Style::new().fg(Color::Yellow),
        ));
        spans.push(Span::styled(" · keys: [chat.keys]. Esc closes.", DIM));
        markdown::wrap(&Block::plain(spans), inner)
    };
    draw_box("help", lines, area, buf, w);
}

fn draw_status_overlay(app: &App, area: Rect, buf: &mut Buffer) {
    let mut lines = vec![
        Line::from(format!("session {}", app.session.id)),
        Line::from(format!(
            "route `{}` · {}",
            app.route_name,
            match &app.mode {
                Mode::Auto => "auto routing".to_string(),
                Mode::Pinned(m) => format!("pinned to {m}"),
            }
        )),
        Line::default(),
    ];
    for (i, m) in app.route.iter().enumerate() {
        let h = app.health.get(&m.to_string());
        let state = app.health_of(m);
        let mut spans = vec![
            Span::raw(format!("{} ", i + 1)),
            health_dot(state),
            Span::raw(format!(" {m}  {}", health_word(state))),
        ];
        if let Some(h) = h {
            if let Some(ms) = h.median_ms {
                spans.push(Span::styled(format!("  p50 {ms}ms"), DIM));
            }
            if let Some(e) = h.last_error {
                spans.push(Span::styled(format!("  last error {e}"), SEAM));
            }
            if let Some(u) = &h.open_until {
                spans.push(Span::styled(format!("  out until {u}"), SEAM));
            }
        }
        lines.push(Line::from(spans));
    }
    lines.push(Line::default());
    let cost = super::cost::session_line(app)
        .map(|c| format!(" · {c}"))
        .unwrap_or_default();
    lines.push(Line::from(format!(
        "{} turns · {} tokens{cost} · {} attachment(s)",
        app.session.turns.len(),
        app.tokens_used(),
        app.session.attachments.len()
    )));
    draw_box("status", lines, area, buf, 76);
}

fn draw_picker(app: &App, filter: &str, selected: usize, area: Rect, buf: &mut Buffer) {
    let rows = app.picker_rows(filter);
    let mut lines = vec![
        Line::from(vec![
            Span::styled("filter: ", DIM),
            Span::raw(filter.to_string()),
            Span::styled("▏", USER),
        ]),
        Line::default(),
    ];
    let max_rows = usize::from(area.height.saturating_sub(6)).max(1);
    let start = selected.saturating_sub(max_rows - 1);
    for (i, row) in rows.iter().enumerate().skip(start).take(max_rows) {
        let marker = if i == selected { "▶ " } else { "  " };
        let mut spans = vec![Span::styled(marker, USER)];
        match row {
            None => spans.push(Span::raw(format!(
                "auto (route `{}`, fails over in order)",
                app.route_name
            ))),
            Some(m) => {
                let state = app.health_of(m);
                let pos = app
                    .route
                    .iter()
                    .position(|x| x == m)
                    .map_or_else(|| "  ".to_string(), |p| format!("{} ", p + 1));
                spans.push(Span::raw(pos));
                spans.push(health_dot(state));
                spans.push(Span::raw(format!(" {m}")));
                spans.push(Span::styled(format!("  {}", health_word(state)), DIM));
                if app.is_local(m) {
                    spans.push(Span::styled("  local", DIM));
                }
            }
        }
        let mut line = Line::from(spans);
        if i == selected {
            line = line.style(Style::new().add_modifier(Modifier::REVERSED));
        }
        lines.push(line);
    }
    if rows.is_empty() {
        lines.push(Line::from(Span::styled("  no model matches", DIM)));
    }
    draw_box(
        "pick a model (Enter pins, Esc closes)",
        lines,
        area,
        buf,
        70,
    );
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
