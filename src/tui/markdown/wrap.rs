//! Width-aware word wrapping of a [`Block`] into screen lines (unicode-width, so CJK and
//! emoji take two cells and never straddle the edge).

use ratatui::style::{Color, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

use super::Block;

/// Display width of spans.
pub fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| str_width(&s.content)).sum()
}

/// Display width of a string (control characters count as zero).
fn str_width(s: &str) -> usize {
    s.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// Wraps a logical line to `width` cells: words move to the next line whole unless they are
/// longer than a line, in which case they are cut. Wide characters never straddle the edge.
pub fn wrap(block: &Block, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    if block.rule {
        return vec![Line::from(Span::styled(
            "─".repeat(width.min(80)),
            Style::new().fg(Color::DarkGray),
        ))];
    }
    let first_w = spans_width(&block.first);
    let rest_w = spans_width(&block.rest);
    let mut out: Vec<Line<'static>> = Vec::new();
    let mut cur: Vec<(char, Style)> = Vec::new();
    let mut cur_w = 0usize;
    let avail = |n: usize| -> usize {
        let p = if n == 0 { first_w } else { rest_w };
        width.saturating_sub(p).max(1)
    };
    let emit = |out: &mut Vec<Line<'static>>, cur: &mut Vec<(char, Style)>| {
        while cur.last().is_some_and(|(c, _)| *c == ' ') {
            cur.pop();
        }
        let mut spans = if out.is_empty() {
            block.first.clone()
        } else {
            block.rest.clone()
        };
        spans.extend(group(cur));
        cur.clear();
        out.push(Line::from(spans));
    };
    // Tokenise into runs of spaces and runs of other characters.
    let chars: Vec<(char, Style)> = block
        .spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    let mut i = 0;
    while i < chars.len() {
        let is_space = chars[i].0 == ' ';
        let mut j = i;
        let mut w = 0;
        while j < chars.len() && (chars[j].0 == ' ') == is_space {
            w += chars[j].0.width().unwrap_or(0);
            j += 1;
        }
        let token = &chars[i..j];
        let line_avail = avail(out.len());
        if cur_w + w <= line_avail {
            cur.extend_from_slice(token);
            cur_w += w;
        } else if is_space {
            // Break here; the spaces disappear at the seam (but keep leading indentation).
            if cur.is_empty() {
                cur.extend_from_slice(token);
                cur_w += w;
            } else {
                emit(&mut out, &mut cur);
                cur_w = 0;
            }
        } else if w <= avail(out.len() + usize::from(!cur.is_empty())) && !cur.is_empty() {
            emit(&mut out, &mut cur);
            cur.extend_from_slice(token);
            cur_w = w;
        } else {
            for &(c, st) in token {
                let cw = c.width().unwrap_or(0);
                if cur_w + cw > avail(out.len()) && !cur.is_empty() {
                    emit(&mut out, &mut cur);
                    cur_w = 0;
                }
                cur.push((c, st));
                cur_w += cw;
            }
        }
        i = j;
    }
    if !cur.is_empty() || out.is_empty() {
        emit(&mut out, &mut cur);
    }
    out
}

fn group(chars: &[(char, Style)]) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut style = None;
    for &(c, st) in chars {
        if style.is_some_and(|s| s != st) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                style.unwrap_or_default(),
            ));
        }
        style = Some(st);
        text.push(c);
    }
    if !text.is_empty() {
        spans.push(Span::styled(text, style.unwrap_or_default()));
    }
    spans
}
