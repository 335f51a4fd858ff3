//! Markdown for the terminal: model answers (`CommonMark` via pulldown-cmark) to styled logical
//! lines, a small keyword/string/comment highlighter for fenced code blocks, and width-aware
//! word wrapping (unicode-width, so CJK and emoji take two cells) into ratatui `Line`s.
//!
//! Why our own highlighter and not syntect: syntect's grammars and regex engine add a long
//! compile on the 2-core build machines and several MB to the binary, for colouring that a
//! table of keywords, comment markers and string quotes gets mostly right for the languages
//! models write most (Rust, Python, JS/TS, Go, C/C++/Java, shell, JSON/TOML/YAML, SQL).
//!
//! Choices: a single newline inside a paragraph is kept as a line break (models write lists
//! that way and expect them to show); GitHub-style tables are drawn with their columns
//! aligned (by display width) and a rule under the header.

use pulldown_cmark::{Alignment, CodeBlockKind, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// One logical line before wrapping: a prefix for its first screen line, another for the
/// lines it wraps onto, and its styled text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Block {
    /// Prefix of the first screen line (bullet, quote bar, code gutter).
    pub first: Vec<Span<'static>>,
    /// Prefix of continuation lines.
    pub rest: Vec<Span<'static>>,
    /// The text.
    pub spans: Vec<Span<'static>>,
    /// A horizontal rule: drawn across the width.
    pub rule: bool,
}

impl Block {
    /// A plain block with no prefix.
    pub fn plain(spans: Vec<Span<'static>>) -> Self {
        Self {
            spans,
            ..Self::default()
        }
    }
}

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

/// Display width of spans.
pub fn spans_width(spans: &[Span<'_>]) -> usize {
    spans.iter().map(|s| str_width(&s.content)).sum()
}

/// Display width of a string (control characters count as zero).
pub fn str_width(s: &str) -> usize {
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

struct Lang {
    keywords: &'static [&'static str],
    line_comment: &'static [&'static str],
    block_comment: Option<(&'static str, &'static str)>,
    quotes: &'static [char],
}

const RUST_KW: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while",
];
const PY_KW: &[&str] = &[
    "and", "as", "assert", "async", "await", "break", "class", "continue", "def", "del", "elif",
    "else", "except", "False", "finally", "for", "from", "global", "if", "import", "in", "is",
    "lambda", "None", "nonlocal", "not", "or", "pass", "raise", "return", "True", "try", "while",
    "with", "yield", "self",
];
const JS_KW: &[&str] = &[
    "async",
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "default",
    "delete",
    "do",
    "else",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "from",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "new",
    "null",
    "of",
    "return",
    "static",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "var",
    "void",
    "while",
    "yield",
];
const GO_KW: &[&str] = &[
    "break",
    "case",
    "chan",
    "const",
    "continue",
    "default",
    "defer",
    "else",
    "fallthrough",
    "false",
    "for",
    "func",
    "go",
    "goto",
    "if",
    "import",
    "interface",
    "map",
    "nil",
    "package",
    "range",
    "return",
    "select",
    "struct",
    "switch",
    "true",
    "type",
    "var",
];
const C_KW: &[&str] = &[
    "auto",
    "bool",
    "break",
    "case",
    "char",
    "class",
    "const",
    "continue",
    "default",
    "delete",
    "do",
    "double",
    "else",
    "enum",
    "extends",
    "false",
    "final",
    "float",
    "for",
    "if",
    "implements",
    "import",
    "int",
    "long",
    "namespace",
    "new",
    "null",
    "nullptr",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "template",
    "this",
    "throw",
    "throws",
    "true",
    "try",
    "catch",
    "typedef",
    "union",
    "unsigned",
    "using",
    "virtual",
    "void",
    "volatile",
    "while",
];
const SH_KW: &[&str] = &[
    "case", "do", "done", "elif", "else", "esac", "export", "fi", "for", "function", "if", "in",
    "local", "return", "set", "then", "until", "while", "echo", "cd", "exit",
];
const SQL_KW: &[&str] = &[
    "select", "from", "where", "insert", "into", "values", "update", "set", "delete", "create",
    "table", "drop", "alter", "join", "left", "right", "inner", "outer", "on", "group", "by",
    "order", "having", "limit", "and", "or", "not", "null", "as", "primary", "key", "index",
    "SELECT", "FROM", "WHERE", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE", "CREATE",
    "TABLE", "DROP", "ALTER", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "ON", "GROUP", "BY",
    "ORDER", "HAVING", "LIMIT", "AND", "OR", "NOT", "NULL", "AS", "PRIMARY", "KEY", "INDEX",
];
const DATA_KW: &[&str] = &["true", "false", "null", "yes", "no"];

fn lang(name: &str) -> Option<Lang> {
    let c_like = |keywords| Lang {
        keywords,
        line_comment: &["//"],
        block_comment: Some(("/*", "*/")),
        quotes: &['"', '\'', '`'],
    };
    Some(match name.to_ascii_lowercase().as_str() {
        "rust" | "rs" => Lang {
            keywords: RUST_KW,
            line_comment: &["//"],
            block_comment: Some(("/*", "*/")),
            quotes: &['"'],
        },
        "python" | "py" => Lang {
            keywords: PY_KW,
            line_comment: &["#"],
            block_comment: None,
            quotes: &['"', '\''],
        },
        "js" | "javascript" | "ts" | "typescript" | "jsx" | "tsx" => c_like(JS_KW),
        "go" | "golang" => c_like(GO_KW),
        "c" | "h" | "cpp" | "c++" | "cc" | "hpp" | "java" | "kotlin" | "cs" | "csharp"
        | "swift" => c_like(C_KW),
        "sh" | "bash" | "shell" | "zsh" | "console" => Lang {
            keywords: SH_KW,
            line_comment: &["#"],
            block_comment: None,
            quotes: &['"', '\''],
        },
        "sql" => Lang {
            keywords: SQL_KW,
            line_comment: &["--"],
            block_comment: Some(("/*", "*/")),
            quotes: &['\''],
        },
        "json" | "toml" | "yaml" | "yml" | "ini" => Lang {
            keywords: DATA_KW,
            line_comment: &["#"],
            block_comment: None,
            quotes: &['"', '\''],
        },
        _ => return None,
    })
}

const KW: Style = Style::new().fg(Color::Magenta);
const STR: Style = Style::new().fg(Color::Green);
const COMMENT: Style = Style::new()
    .fg(Color::DarkGray)
    .add_modifier(Modifier::ITALIC);
const NUM: Style = Style::new().fg(Color::Cyan);
const TYPE: Style = Style::new().fg(Color::Yellow);
const CODE: Style = Style::new().fg(Color::Gray);

/// Highlights `code` as language `lang` (fence info like `rust`, `py`, `ts`); unknown
/// languages come back uncoloured. One span list per source line.
pub fn highlight(lang_name: &str, code: &str) -> Vec<Vec<Span<'static>>> {
    let code = code.replace('\t', "    ");
    let Some(l) = lang(lang_name) else {
        return code
            .split('\n')
            .map(|line| vec![Span::styled(line.to_string(), CODE)])
            .collect();
    };
    let mut in_block = false;
    let mut out = Vec::new();
    for line in code.split('\n') {
        let mut spans: Vec<Span<'static>> = Vec::new();
        let mut rest = line;
        while !rest.is_empty() {
            if in_block {
                let close = l.block_comment.map_or("*/", |b| b.1);
                if let Some(end) = rest.find(close) {
                    let (c, r) = rest.split_at(end + close.len());
                    spans.push(Span::styled(c.to_string(), COMMENT));
                    rest = r;
                    in_block = false;
                } else {
                    spans.push(Span::styled(rest.to_string(), COMMENT));
                    rest = "";
                }
                continue;
            }
            if l.line_comment.iter().any(|m| rest.starts_with(m)) {
                spans.push(Span::styled(rest.to_string(), COMMENT));
                break;
            }
            if let Some((open, _)) = l.block_comment
                && rest.starts_with(open)
            {
                in_block = true;
                spans.push(Span::styled(open.to_string(), COMMENT));
                rest = &rest[open.len()..];
                continue;
            }
            let Some(c) = rest.chars().next() else { break };
            if l.quotes.contains(&c) {
                let mut end = rest.len();
                let mut escaped = false;
                for (i, ch) in rest.char_indices().skip(1) {
                    if escaped {
                        escaped = false;
                    } else if ch == '\\' {
                        escaped = true;
                    } else if ch == c {
                        end = i + ch.len_utf8();
                        break;
                    }
                }
                spans.push(Span::styled(rest[..end].to_string(), STR));
                rest = &rest[end..];
            } else if c.is_alphanumeric() || c == '_' {
                let end = rest
                    .char_indices()
                    .find(|(_, ch)| !(ch.is_alphanumeric() || *ch == '_'))
                    .map_or(rest.len(), |(i, _)| i);
                let word = &rest[..end];
                let style = if l.keywords.contains(&word) {
                    KW
                } else if c.is_ascii_digit() {
                    NUM
                } else if c.is_uppercase() {
                    TYPE
                } else {
                    CODE
                };
                push_merged(&mut spans, word, style);
                rest = &rest[end..];
            } else {
                let len = c.len_utf8();
                push_merged(&mut spans, &rest[..len], CODE);
                rest = &rest[len..];
            }
        }
        out.push(spans);
    }
    out
}

fn push_merged(spans: &mut Vec<Span<'static>>, text: &str, style: Style) {
    if let Some(last) = spans.last_mut()
        && last.style == style
    {
        last.content.to_mut().push_str(text);
        return;
    }
    spans.push(Span::styled(text.to_string(), style));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    fn render(md: &str, width: u16) -> Vec<String> {
        let lines: Vec<Line<'static>> = to_blocks(md).iter().flat_map(|b| wrap(b, width)).collect();
        text_of(&lines)
    }

    #[test]
    fn tables_are_drawn_with_aligned_columns_and_a_header_rule() {
        let md = "| model | pass | note |\n|---|---:|:---:|\n| gpt-5.5 | 9/10 | ok |\n| 小模型 | 3/10 | x |\n\nafter";
        assert_eq!(
            render(md, 80),
            vec![
                "model   │ pass │ note",
                "────────┼──────┼─────",
                "gpt-5.5 │ 9/10 │  ok",
                "小模型  │ 3/10 │  x",
                "",
                "after",
            ]
        );
        let blocks = to_blocks(md);
        assert!(
            blocks[0]
                .spans
                .iter()
                .any(|s| s.content == "model" && s.style.add_modifier.contains(Modifier::BOLD)),
            "the header is bold"
        );
    }

    #[test]
    fn paragraphs_lists_and_code() {
        let md = "Hello **world**.\n\n- one\n- two\n\n```rust\nfn main() {}\n```\n";
        assert_eq!(
            render(md, 40),
            vec![
                "Hello world.",
                "",
                "• one",
                "• two",
                "",
                "╭─ rust",
                "│ fn main() {}",
                "╰─",
            ]
        );
    }

    #[test]
    fn wraps_words_and_indents_list_continuations() {
        let md = "1. alpha beta gamma delta";
        assert_eq!(
            render(md, 12),
            vec!["1. alpha", "   beta", "   gamma", "   delta"]
        );
    }

    #[test]
    fn wide_characters_never_straddle_the_edge() {
        let b = Block::plain(vec![Span::raw("日本語のテキスト")]);
        let lines = wrap(&b, 5);
        for l in &lines {
            assert!(spans_width(&l.spans) <= 5, "{lines:?}");
        }
        assert_eq!(text_of(&lines), vec!["日本", "語の", "テキ", "スト"]);
    }

    #[test]
    fn long_words_are_cut() {
        let b = Block::plain(vec![Span::raw("abcdefghij")]);
        assert_eq!(text_of(&wrap(&b, 4)), vec!["abcd", "efgh", "ij"]);
    }

    #[test]
    fn width_one_does_not_loop() {
        let b = Block::plain(vec![Span::raw("a 日 b")]);
        assert!(!wrap(&b, 1).is_empty());
        assert!(!wrap(&b, 0).is_empty());
    }

    #[test]
    fn highlighter_colours_keywords_strings_comments() {
        let lines = highlight("rust", "let s = \"hi\"; // note\n/* a\nb */ fn");
        assert_eq!(lines.len(), 3);
        assert!(lines[0].iter().any(|s| s.content == "let" && s.style == KW));
        assert!(
            lines[0]
                .iter()
                .any(|s| s.content == "\"hi\"" && s.style == STR)
        );
        assert!(
            lines[0]
                .iter()
                .any(|s| s.content == "// note" && s.style == COMMENT)
        );
        assert_eq!(lines[1][0].style, COMMENT);
        assert!(lines[2].iter().any(|s| s.content == "fn" && s.style == KW));
        assert_eq!(highlight("nosuchlang", "x").len(), 1);
    }

    #[test]
    fn unterminated_fence_while_streaming_shows_as_code() {
        assert_eq!(
            render("```py\nprint(1)", 40),
            vec!["╭─ py", "│ print(1)", "╰─"]
        );
    }

    #[test]
    fn code_blocks_are_found_in_order() {
        let md = "```\na\n```\ntext\n```sh\nls -l\n```";
        assert_eq!(code_blocks(md), ["a\n", "ls -l\n"]);
        assert!(code_blocks("no code").is_empty());
    }
}
