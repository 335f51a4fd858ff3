//! Markdown events to logical lines: paragraphs, headings, lists, quotes, links, GitHub-style
//! tables and code fences, each a [`Block`] with its prefixes.
//!
//! Choices: a single newline inside a paragraph is kept as a line break (models write lists
//! that way and expect them to show); GitHub-style tables are drawn with their columns
//! aligned (by display width) and a rule under the header.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

use super::Block;
use super::highlight::highlight;
use super::wrap::spans_width;

const CODE_GUTTER: &str = "│ ";

fn gutter() -> Span<'static> {
    Span::styled(CODE_GUTTER, Style::new().fg(Color::DarkGray))
}

#[derive(Default)]
struct Builder {
    blocks: Vec<Block>,
    line: Vec<Span<'static>>,
    styles: Vec<Style>,
    quote: usize,
    /// (next number for ordered lists, nesting)
    lists: Vec<Option<u64>>,
    bullet: Option<String>,
    code: Option<(String, String)>,
    link: Option<String>,
    table: Option<Table>,
}

/// A table being read: its rows of cells (each cell's spans), the header row first.
#[derive(Default)]
struct Table {
    align: Vec<Alignment>,
    rows: Vec<Vec<Vec<Span<'static>>>>,
    row: Vec<Vec<Span<'static>>>,
    has_head: bool,
}

impl Builder {
    fn style(&self) -> Style {
        self.styles
            .iter()
            .fold(Style::new(), |acc, s| acc.patch(*s))
    }

    fn prefixes(&mut self) -> (Vec<Span<'static>>, Vec<Span<'static>>) {
        let mut base = String::new();
        for _ in 0..self.quote {
            base.push_str("│ ");
        }
        let indent = "  ".repeat(self.lists.len().saturating_sub(1));
        let quote_style = Style::new().fg(Color::DarkGray);
        let mut first = Vec::new();
        let mut rest = Vec::new();
        if !base.is_empty() {
            first.push(Span::styled(base.clone(), quote_style));
            rest.push(Span::styled(base, quote_style));
        }
        if !self.lists.is_empty() {
            #[expect(clippy::single_match_else, reason = "bullet line vs continuation")]
            match self.bullet.take() {
                Some(b) => {
                    let w = b.chars().count();
                    first.push(Span::raw(format!("{indent}{b}")));
                    rest.push(Span::raw(format!("{indent}{}", " ".repeat(w))));
                }
                None => {
                    let pad = format!("{indent}  ");
                    first.push(Span::raw(pad.clone()));
                    rest.push(Span::raw(pad));
                }
            }
        }
        (first, rest)
    }

    fn flush(&mut self) {
        if self.line.is_empty() && self.bullet.is_none() {
            return;
        }
        let spans = std::mem::take(&mut self.line);
        let (first, rest) = self.prefixes();
        self.blocks.push(Block {
            first,
            rest,
            spans,
            rule: false,
        });
    }

    fn blank(&mut self) {
        if self
            .blocks
            .last()
            .is_some_and(|b| !b.spans.is_empty() || b.rule)
        {
            let (first, rest) = if self.quote > 0 {
                let s = Span::styled("│ ".repeat(self.quote), Style::new().fg(Color::DarkGray));
                (vec![s.clone()], vec![s])
            } else {
                (Vec::new(), Vec::new())
            };
            self.blocks.push(Block {
                first,
                rest,
                spans: Vec::new(),
                rule: false,
            });
        }
    }

    fn text(&mut self, t: &str) {
        let style = self.style();
        let mut parts = t.split('\n').peekable();
        while let Some(p) = parts.next() {
            if !p.is_empty() {
                self.line.push(Span::styled(p.replace('\t', "    "), style));
            }
            if parts.peek().is_some() {
                self.flush();
            }
        }
    }

    /// Draws the finished table: columns as wide as their widest cell, `│` between them, a
    /// `─┼─` rule under the header. Wider than the screen, its lines wrap like any other.
    fn end_table(&mut self) {
        let Some(t) = self.table.take() else {
            return;
        };
        let cols = t.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0usize; cols];
        for row in &t.rows {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(spans_width(cell));
            }
        }
        let bar = Style::new().fg(Color::DarkGray);
        let (prefix, _) = self.prefixes();
        for (r, row) in t.rows.into_iter().enumerate() {
            let mut spans = prefix.clone();
            for (i, width) in widths.iter().enumerate() {
                if i > 0 {
                    spans.push(Span::styled(" │ ", bar));
                }
                let cell = row.get(i).cloned().unwrap_or_default();
                let pad = width.saturating_sub(spans_width(&cell));
                let (left, right) = match t.align.get(i) {
                    Some(Alignment::Right) => (pad, 0),
                    Some(Alignment::Center) => (pad / 2, pad - pad / 2),
                    _ => (0, pad),
                };
                if left > 0 {
                    spans.push(Span::raw(" ".repeat(left)));
                }
                let header = r == 0 && t.has_head;
                spans.extend(cell.into_iter().map(|s| {
                    if header {
                        let style = s.style.add_modifier(Modifier::BOLD);
                        s.style(style)
                    } else {
                        s
                    }
                }));
                if right > 0 && i + 1 < widths.len() {
                    spans.push(Span::raw(" ".repeat(right)));
                }
            }
            self.blocks.push(Block::plain(spans));
            if r == 0 && t.has_head {
                let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
                let mut line = prefix.clone();
                line.push(Span::styled(rule.join("─┼─"), bar));
                self.blocks.push(Block::plain(line));
            }
        }
    }

    fn end_code(&mut self) {
        let Some((lang, code)) = self.code.take() else {
            return;
        };
        let label = if lang.is_empty() {
            "code".to_string()
        } else {
            lang.clone()
        };
        let (mut first, _) = self.prefixes();
        let quote_prefix = first.clone();
        first.push(Span::styled(
            format!("╭─ {label}"),
            Style::new().fg(Color::DarkGray),
        ));
        self.blocks.push(Block {
            first: Vec::new(),
            rest: Vec::new(),
            spans: first,
            rule: false,
        });
        for spans in highlight(&lang, code.trim_end_matches('\n')) {
            let mut p = quote_prefix.clone();
            p.push(gutter());
            self.blocks.push(Block {
                first: p.clone(),
                rest: p,
                spans,
                rule: false,
            });
        }
        let mut end = quote_prefix;
        end.push(Span::styled("╰─", Style::new().fg(Color::DarkGray)));
        self.blocks.push(Block::plain(end));
    }
}

/// Parses markdown into logical lines.
#[expect(clippy::too_many_lines, reason = "one arm per markdown event")]
pub fn to_blocks(md: &str) -> Vec<Block> {
    let mut b = Builder::default();
    let opts = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS | Options::ENABLE_TABLES;
    for ev in Parser::new_ext(md, opts) {
        match ev {
            Event::Start(tag) => match tag {
                Tag::Heading { level, .. } => {
                    b.flush();
                    let color = match level {
                        HeadingLevel::H1 => Color::LightCyan,
                        HeadingLevel::H2 => Color::Cyan,
                        _ => Color::Blue,
                    };
                    b.styles
                        .push(Style::new().fg(color).add_modifier(Modifier::BOLD));
                    let hashes = "#".repeat(level as usize);
                    b.line.push(Span::styled(
                        format!("{hashes} "),
                        Style::new().fg(Color::DarkGray),
                    ));
                }
                Tag::BlockQuote(_) => {
                    b.flush();
                    b.quote += 1;
                }
                Tag::CodeBlock(kind) => {
                    b.flush();
                    let lang = match kind {
                        CodeBlockKind::Fenced(info) => {
                            info.split_whitespace().next().unwrap_or("").to_string()
                        }
                        CodeBlockKind::Indented => String::new(),
                    };
                    b.code = Some((lang, String::new()));
                }
                Tag::List(start) => {
                    b.flush();
                    b.lists.push(start);
                }
                Tag::Item => {
                    b.flush();
                    let bullet = match b.lists.last_mut() {
                        Some(Some(n)) => {
                            let s = format!("{n}. ");
                            *n += 1;
                            s
                        }
                        _ => "• ".to_string(),
                    };
                    b.bullet = Some(bullet);
                }
                Tag::Table(align) => {
                    b.flush();
                    b.table = Some(Table {
                        align,
                        ..Table::default()
                    });
                }
                Tag::TableHead => {
                    if let Some(t) = b.table.as_mut() {
                        t.has_head = true;
                    }
                }
                Tag::Emphasis => b.styles.push(Style::new().add_modifier(Modifier::ITALIC)),
                Tag::Strong => b.styles.push(Style::new().add_modifier(Modifier::BOLD)),
                Tag::Strikethrough => b
                    .styles
                    .push(Style::new().add_modifier(Modifier::CROSSED_OUT)),
                Tag::Link { dest_url, .. } => {
                    b.styles.push(
                        Style::new()
                            .fg(Color::LightBlue)
                            .add_modifier(Modifier::UNDERLINED),
                    );
                    b.link = Some(dest_url.to_string());
                }
                _ => {}
            },
            Event::End(tag) => match tag {
                TagEnd::Paragraph => {
                    b.flush();
                    if b.lists.is_empty() {
                        b.blank();
                    }
                }
                TagEnd::Heading(_) => {
                    b.styles.pop();
                    b.flush();
                    b.blank();
                }
                TagEnd::BlockQuote(_) => {
                    b.flush();
                    b.quote = b.quote.saturating_sub(1);
                    // The quote's own trailing blank line has its bar; the gap after it not.
                    while b
                        .blocks
                        .last()
                        .is_some_and(|l| l.spans.is_empty() && !l.rule)
                    {
                        b.blocks.pop();
                    }
                    b.blank();
                }
                TagEnd::CodeBlock => {
                    b.end_code();
                    if b.lists.is_empty() {
                        b.blank();
                    }
                }
                TagEnd::List(_) => {
                    b.flush();
                    b.lists.pop();
                    if b.lists.is_empty() {
                        b.blank();
                    }
                }
                TagEnd::Item => b.flush(),
                TagEnd::TableCell => {
                    let cell = std::mem::take(&mut b.line);
                    if let Some(t) = b.table.as_mut() {
                        t.row.push(cell);
                    }
                }
                TagEnd::TableHead | TagEnd::TableRow => {
                    if let Some(t) = b.table.as_mut() {
                        let row = std::mem::take(&mut t.row);
                        t.rows.push(row);
                    }
                }
                TagEnd::Table => {
                    b.end_table();
                    if b.lists.is_empty() {
                        b.blank();
                    }
                }
                TagEnd::Emphasis | TagEnd::Strong | TagEnd::Strikethrough => {
                    b.styles.pop();
                }
                TagEnd::Link => {
                    b.styles.pop();
                    if let Some(url) = b.link.take() {
                        let shown: String = b.line.iter().map(|s| s.content.as_ref()).collect();
                        if !shown.ends_with(url.as_str()) {
                            b.line.push(Span::styled(
                                format!(" ({url})"),
                                Style::new().fg(Color::DarkGray),
                            ));
                        }
                    }
                }
                _ => {}
            },
            Event::Text(t) => {
                if let Some((_, code)) = b.code.as_mut() {
                    code.push_str(&t);
                } else {
                    b.text(&t);
                }
            }
            Event::Code(t) => {
                let style = b.style().patch(Style::new().fg(Color::Yellow));
                b.line.push(Span::styled(t.to_string(), style));
            }
            Event::Html(t) | Event::InlineHtml(t) => b.text(&t),
            Event::SoftBreak | Event::HardBreak => b.flush(),
            Event::Rule => {
                b.flush();
                b.blocks.push(Block {
                    rule: true,
                    ..Block::default()
                });
                b.blank();
            }
            Event::TaskListMarker(done) => {
                b.line.push(Span::raw(if done { "[x] " } else { "[ ] " }));
            }
            _ => {}
        }
    }
    // An unterminated fence while streaming: show what there is as code.
    if b.code.is_some() {
        b.end_code();
    }
    b.flush();
    while b
        .blocks
        .last()
        .is_some_and(|l| l.spans.is_empty() && !l.rule)
    {
        b.blocks.pop();
    }
    b.blocks
}

/// The texts of the fenced (or indented) code blocks in `md`, in order (an unclosed last
/// one included).
pub fn code_blocks(md: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for ev in Parser::new(md) {
        match ev {
            Event::Start(Tag::CodeBlock(_)) => cur = Some(String::new()),
            Event::Text(t) => {
                if let Some(c) = cur.as_mut() {
                    c.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => out.extend(cur.take()),
            _ => {}
        }
    }
    out.extend(cur);
    out
}
