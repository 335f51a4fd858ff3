//! A small keyword/string/comment/number highlighter for fenced code blocks, one table row
//! per language family.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Span;

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

pub(super) const KW: Style = Style::new().fg(Color::Magenta);
pub(super) const STR: Style = Style::new().fg(Color::Green);
pub(super) const COMMENT: Style = Style::new()
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
