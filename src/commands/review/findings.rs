//! Review findings: the [`Finding`] type, getting findings out of a model's answer however it
//! was wrapped (code fences, prose around it, a bare array or `{"findings": [...]}`, trailing
//! commas, loose field names), the GBNF grammar that makes the local model emit only that
//! JSON, the merge rules (deduplication, ordering), and [`place`]: whether a finding points
//! inside the change under a filter mode (repo-relative path, lines clamped to the hunk).

use std::cmp::Ordering;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::diff::{Diff, FileStatus};
use crate::cli::FilterMode;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A bug, vulnerability or breakage.
    Error,
    /// Likely a problem; worth fixing.
    Warning,
    /// A remark.
    Note,
}

impl Severity {
    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Note => "note",
        }
    }

    /// Reads the many words models use for severities.
    pub fn parse_loose(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "error" | "critical" | "blocker" | "high" | "major" | "bug" | "severe" => {
                Some(Self::Error)
            }
            "warning" | "warn" | "medium" | "minor" | "moderate" => Some(Self::Warning),
            "note" | "info" | "information" | "low" | "nit" | "notice" | "suggestion" | "style" => {
                Some(Self::Note)
            }
            _ => None,
        }
    }
}

/// One structured review finding. Lines are on the new side of the diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Path relative to the repository root.
    pub file: String,
    /// First line (1-based, new side).
    pub start_line: u32,
    /// Last line (>= `start_line`).
    pub end_line: u32,
    /// How serious.
    pub severity: Severity,
    /// One-line summary.
    pub title: String,
    /// Why it matters.
    pub explanation: String,
    /// Replacement text for lines `start_line..=end_line`, when the model proposes one.
    pub suggestion: Option<String>,
}

impl Finding {
    /// Whether it points at lines the diff shows (only those get line annotations).
    pub fn in_diff(&self, diff: &Diff) -> bool {
        diff.file(&self.file)
            .is_some_and(|f| f.covers(self.start_line, self.end_line))
    }

    /// Ordering for reports: most severe first, then file and line.
    pub fn report_order(a: &Self, b: &Self) -> Ordering {
        a.severity
            .cmp(&b.severity)
            .then_with(|| a.file.cmp(&b.file))
            .then_with(|| a.start_line.cmp(&b.start_line))
            .then_with(|| a.title.cmp(&b.title))
    }
}

/// Why an answer yielded no findings list.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the model's answer is not a findings JSON array ({0})")]
pub struct ParseError(pub String);

/// What was read from one answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The usable findings.
    pub findings: Vec<Finding>,
    /// Items that were dropped (no file, no line, unknown severity…).
    pub dropped: usize,
}

/// Extracts findings from a model answer. Accepts a JSON array or an object with a
/// `findings` array, inside code fences or surrounded by prose, with trailing commas.
pub fn parse_answer(answer: &str) -> Result<Parsed, ParseError> {
    let trimmed = answer.trim();
    if trimmed.is_empty() {
        return Err(ParseError("the answer is empty".into()));
    }
    let mut candidates: Vec<String> = fenced_blocks(trimmed);
    candidates.push(trimmed.to_string());
    for (i, c) in trimmed.char_indices() {
        if c == '[' || c == '{' {
            if let Some(end) = balanced_end(&trimmed[i..]) {
                candidates.push(trimmed[i..i + end].to_string());
            }
            // Only the first few openings are worth trying.
            if candidates.len() > 8 {
                break;
            }
        }
    }
    let mut last_err = String::from("no JSON found");
    for c in &candidates {
        for text in [c.clone(), remove_trailing_commas(c)] {
            match serde_json::from_str::<Value>(&text) {
                Ok(v) => {
                    if let Some(items) = findings_array(&v) {
                        return Ok(convert(items));
                    }
                    last_err = "JSON without a findings array".into();
                }
                Err(e) => last_err = e.to_string(),
            }
        }
    }
    Err(ParseError(last_err))
}

fn findings_array(v: &Value) -> Option<&Vec<Value>> {
    match v {
        Value::Array(a) if a.iter().all(Value::is_object) => Some(a),
        Value::Object(o) => ["findings", "issues", "comments", "results"]
            .iter()
            .find_map(|k| o.get(*k).and_then(Value::as_array)),
        _ => None,
    }
}

fn convert(items: &[Value]) -> Parsed {
    let mut out = Parsed::default();
    for item in items {
        match convert_one(item) {
            Some(f) => out.findings.push(f),
            None => out.dropped += 1,
        }
    }
    out
}

fn convert_one(v: &Value) -> Option<Finding> {
    let o = v.as_object()?;
    let str_of = |keys: &[&str]| -> Option<String> {
        keys.iter().find_map(|k| match o.get(*k) {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
            _ => None,
        })
    };
    let num_of = |keys: &[&str]| -> Option<u32> {
        keys.iter().find_map(|k| match o.get(*k) {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        })
    };
    let file = str_of(&["file", "path", "filename"])?;
    let file = file
        .strip_prefix("b/")
        .or_else(|| file.strip_prefix("./"))
        .unwrap_or(&file)
        .to_string();
    let start = num_of(&["start_line", "line", "startLine", "line_start"])?.max(1);
    let end = num_of(&["end_line", "endLine", "line_end"])
        .unwrap_or(start)
        .max(start);
    let severity = match str_of(&["severity", "level"]) {
        Some(s) => Severity::parse_loose(&s)?,
        None => Severity::Warning,
    };
    let explanation =
        str_of(&["explanation", "message", "description", "body", "detail"]).unwrap_or_default();
    let title = str_of(&["title", "summary", "name"]).unwrap_or_else(|| {
        explanation
            .lines()
            .next()
            .unwrap_or("finding")
            .chars()
            .take(80)
            .collect()
    });
    if title.is_empty() || is_placeholder(&file) || is_placeholder(&title) {
        return None;
    }
    let suggestion = match o.get("suggestion").or_else(|| o.get("replacement")) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    };
    Some(Finding {
        file,
        start_line: start,
        end_line: end,
        severity,
        title: one_line(&title),
        explanation,
        suggestion,
    })
}

/// The example values of the output contract: a model that copies them reports nothing.
const PLACEHOLDERS: &[&str] = &[
    "path/in/repo",
    "one line",
    "why it matters and how to fix it",
];

fn is_placeholder(s: &str) -> bool {
    PLACEHOLDERS
        .iter()
        .any(|p| s.trim().eq_ignore_ascii_case(p))
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The contents of fenced code blocks, JSON-tagged ones first.
fn fenced_blocks(s: &str) -> Vec<String> {
    let mut tagged = Vec::new();
    let mut other = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find("```") {
        let after = &rest[open + 3..];
        let (tag, body_start) = match after.find('\n') {
            Some(nl) => (after[..nl].trim(), nl + 1),
            None => break,
        };
        let body = &after[body_start..];
        let Some(close) = body.find("```") else {
            // An unclosed fence (the answer was cut): take the rest.
            other.push(body.to_string());
            break;
        };
        let block = body[..close].to_string();
        if tag.eq_ignore_ascii_case("json") {
            tagged.push(block);
        } else {
            other.push(block);
        }
        rest = &body[close + 3..];
    }
    tagged.extend(other);
    tagged
}

/// Length of the balanced JSON value starting at `s[0]` (`[` or `{`), string-aware.
fn balanced_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_str = false;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if in_str {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Drops commas that directly precede `]` or `}` (outside strings).
fn remove_trailing_commas(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_str = false;
    let mut escaped = false;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if in_str {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if c == '"' {
            in_str = true;
        }
        if c == ',' {
            let next = chars[i + 1..].iter().find(|c| !c.is_whitespace());
            if matches!(next, Some(']' | '}')) {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// Merges findings from several chunks: drops duplicates (same file, lines and title, case
/// and spacing ignored) and sorts most severe first.
pub fn merge(all: Vec<Finding>) -> Vec<Finding> {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Finding> = all
        .into_iter()
        .filter(|f| {
            seen.insert((
                f.file.clone(),
                f.start_line,
                f.end_line,
                one_line(&f.title).to_lowercase(),
            ))
        })
        .collect();
    out.sort_by(Finding::report_order);
    out
}

/// Checks a finding against the diff under `mode` (reviewdog's filter modes): `Ok` with the
/// finding made repo-relative and its lines clamped into the hunk it points at when it
/// counts; `Err` with the finding and why not when it points outside the change (a file the
/// diff does not contain, the old path of a renamed file, a deleted or binary file, lines
/// no hunk shows, an absolute path outside `root`). Only `Ok` findings count toward
/// `--fail-on` and get annotations.
pub fn place(
    mut f: Finding,
    diff: &Diff,
    mode: FilterMode,
    root: Option<&std::path::Path>,
) -> Result<Finding, Box<(Finding, String)>> {
    f.file = repo_relative(&f.file, diff, root);
    let lines = if f.end_line > f.start_line {
        format!("lines {}-{}", f.start_line, f.end_line)
    } else {
        format!("line {}", f.start_line)
    };
    let Some(file) = diff
        .files
        .iter()
        .find(|x| x.new_path.as_deref() == Some(f.file.as_str()))
    else {
        if mode == FilterMode::Nofilter {
            return Ok(f);
        }
        let renamed = diff
            .files
            .iter()
            .find(|x| x.old_path.as_deref() == Some(f.file.as_str()) && x.new_path.is_some());
        let why = if let Some(r) = renamed {
            format!(
                "`{}` is the old path of a file the change renames to `{}`",
                f.file,
                r.path()
            )
        } else if diff
            .files
            .iter()
            .any(|x| x.status == FileStatus::Deleted && x.old_path.as_deref() == Some(&f.file))
        {
            "the change deletes this file".to_string()
        } else if f.file.starts_with('/') {
            "an absolute path outside the repository".to_string()
        } else {
            "the change does not touch this file".to_string()
        };
        return Err(Box::new((f, why)));
    };
    if mode == FilterMode::Nofilter {
        return Ok(f);
    }
    if file.binary {
        return Err(Box::new((
            f,
            "a binary file: there are no lines to comment on".into(),
        )));
    }
    let (start, end) = (f.start_line, f.end_line);
    let hit = file.hunks.iter().find_map(|h| {
        let (first, last) = h.new_range()?;
        let overlaps = start <= last && end >= first;
        let counts = match mode {
            FilterMode::Added => h.added_lines().iter().any(|n| (start..=end).contains(n)),
            _ => overlaps,
        };
        counts.then_some((first, last))
    });
    match (mode, hit) {
        (_, Some((first, last))) => {
            f.start_line = start.clamp(first, last);
            f.end_line = end.clamp(f.start_line, last);
            Ok(f)
        }
        (FilterMode::File, None) => Ok(f),
        (FilterMode::Added, None) => Err(Box::new((
            f,
            format!("{lines}: not added or changed by the change"),
        ))),
        (_, None) => Err(Box::new((f, format!("{lines}: not in the diff")))),
    }
}

/// The path a model named, as a repository-relative path: `./`, `a/` and `b/` prefixes
/// dropped when that names a file of the diff, an absolute path under `root` (or ending in a
/// path of the diff) made relative. Anything else is returned as given.
fn repo_relative(path: &str, diff: &Diff, root: Option<&std::path::Path>) -> String {
    let known = |p: &str| {
        diff.files
            .iter()
            .any(|f| f.new_path.as_deref() == Some(p) || f.old_path.as_deref() == Some(p))
    };
    let p = path.trim().trim_start_matches("./");
    if known(p) {
        return p.to_string();
    }
    for prefix in ["a/", "b/"] {
        if let Some(rest) = p.strip_prefix(prefix)
            && known(rest)
        {
            return rest.to_string();
        }
    }
    if p.starts_with('/') {
        if let Some(rest) = root
            .and_then(|r| r.to_str())
            .and_then(|r| p.strip_prefix(r.trim_end_matches('/')))
            .and_then(|rest| rest.strip_prefix('/'))
        {
            return rest.to_string();
        }
        let suffix = diff
            .files
            .iter()
            .flat_map(|f| [f.new_path.as_deref(), f.old_path.as_deref()])
            .flatten()
            .filter(|known| p.ends_with(&format!("/{known}")))
            .max_by_key(|known| known.len());
        if let Some(s) = suffix {
            return s.to_string();
        }
    }
    p.to_string()
}

/// A GBNF grammar (llama.cpp) that admits only a JSON array of findings with the fields in a
/// fixed order, and bounds everything a small model could loop on: at most
/// [`MAX_LOCAL_FINDINGS`] findings per chunk, at most one space between tokens (a small model
/// otherwise spends most of its answer on blank lines), bounded numbers, and bounded
/// strings (a path of 120 characters, a title of 60, an explanation or a suggestion of 120).
/// So a whole answer is at most about 1,100 characters, which ends inside a 1,024-token answer
/// limit even for a model that loops on one word (running into the limit used to cost a
/// repair prompt and minutes per chunk). Sent as `ChatRequest::grammar`; remote
/// models ignore it.
pub const FINDINGS_GRAMMAR: &str = r#"root ::= ws "[" ws ( finding ( ws "," ws finding ){0,1} )? ws "]" ws
finding ::= "{" ws "\"file\"" ws ":" ws path ws "," ws "\"start_line\"" ws ":" ws line ws "," ws "\"end_line\"" ws ":" ws line ws "," ws "\"severity\"" ws ":" ws severity ws "," ws "\"title\"" ws ":" ws title ws "," ws "\"explanation\"" ws ":" ws text ws "," ws "\"suggestion\"" ws ":" ws ( text | "null" ) ws "}"
severity ::= "\"error\"" | "\"warning\"" | "\"note\""
path ::= "\"" char{1,120} "\""
title ::= "\"" char{1,60} "\""
text ::= "\"" char{0,120} "\""
char ::= [^"\\\x00-\x1F] | "\\" ( ["\\/bfnrt] | "u" [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] [0-9a-fA-F] )
line ::= [1-9] [0-9]? [0-9]? [0-9]? [0-9]? [0-9]?
ws ::= " "?
"#;

/// The most findings the grammar lets a local model report for one chunk.
pub const MAX_LOCAL_FINDINGS: usize = 2;

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"[{"file":"src/lib.rs","start_line":12,"end_line":13,"severity":"error","title":"unwrap on a fallible result","explanation":"compute can fail; this panics.","suggestion":"    let y = x?;"}]"#;

    fn expected() -> Finding {
        Finding {
            file: "src/lib.rs".into(),
            start_line: 12,
            end_line: 13,
            severity: Severity::Error,
            title: "unwrap on a fallible result".into(),
            explanation: "compute can fail; this panics.".into(),
            suggestion: Some("    let y = x?;".into()),
        }
    }

    #[test]
    fn well_formed_array() {
        let p = parse_answer(GOOD).expect("parses");
        assert_eq!(p.findings, vec![expected()]);
        assert_eq!(p.dropped, 0);
    }

    #[test]
    fn messy_answers() {
        let cases = [
            format!("Here is my review:\n\n```json\n{GOOD}\n```\n\nLet me know if you need more."),
            format!("```\n{GOOD}\n```"),
            format!("Sure! {GOOD} Hope this helps."),
            format!("{{\"findings\": {GOOD}}}"),
            format!("```json\n{{\"findings\": {GOOD},}}\n```"),
            GOOD.replace("}]", "},]"),
            GOOD.replace(
                r#""suggestion":"    let y = x?;"}"#,
                r#""suggestion":"    let y = x?;",}"#,
            ),
            // An unclosed fence: the answer was cut after the array.
            format!("```json\n{GOOD}\n"),
        ];
        for c in &cases {
            let p = parse_answer(c).unwrap_or_else(|e| panic!("{e}: {c}"));
            assert_eq!(p.findings, vec![expected()], "{c}");
        }
    }

    #[test]
    fn prose_with_brackets_before_the_json() {
        let a = format!("I looked at [the diff] and {{some}} things.\n{GOOD}");
        assert_eq!(parse_answer(&a).expect("parses").findings, vec![expected()]);
    }

    #[test]
    fn commas_and_brackets_inside_strings_are_kept() {
        let a = r#"[{"file":"a.rs","line":3,"severity":"warning","title":"x, ]","explanation":"a,} b",}]"#;
        let p = parse_answer(a).expect("parses");
        assert_eq!(p.findings[0].title, "x, ]");
        assert_eq!(p.findings[0].explanation, "a,} b");
        assert_eq!(p.findings[0].end_line, 3);
    }

    #[test]
    fn empty_array_means_no_findings() {
        let p = parse_answer("No issues found.\n```json\n[]\n```").expect("parses");
        assert!(p.findings.is_empty());
    }

    #[test]
    fn loose_fields_and_bad_items() {
        let a = r#"{"issues":[
            {"path":"b/x.py","line":"7","level":"high","message":"SQL built by string formatting"},
            {"file":"x.py","start_line":9,"end_line":4,"severity":"nit","title":"  spaced   title "},
            {"file":"x.py","severity":"error","title":"no line"},
            {"file":"x.py","line":1,"severity":"catastrophic","title":"unknown severity"}
        ]}"#;
        let p = parse_answer(a).expect("parses");
        assert_eq!(p.dropped, 2);
        assert_eq!(p.findings.len(), 2);
        assert_eq!(p.findings[0].file, "x.py");
        assert_eq!(p.findings[0].start_line, 7);
        assert_eq!(p.findings[0].severity, Severity::Error);
        assert_eq!(p.findings[0].title, "SQL built by string formatting");
        assert_eq!(p.findings[1].end_line, 9, "end before start is clamped");
        assert_eq!(p.findings[1].severity, Severity::Note);
        assert_eq!(p.findings[1].title, "spaced title");
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse_answer("").is_err());
        assert!(parse_answer("I cannot review this.").is_err());
        assert!(parse_answer("[1, 2, 3]").is_err());
        assert!(parse_answer("{\"findings\": ").is_err());
    }

    #[test]
    fn merge_dedups_and_orders() {
        let mut a = expected();
        a.severity = Severity::Note;
        a.file = "a.rs".into();
        let b = expected();
        let mut b2 = expected();
        b2.title = "Unwrap  on a fallible result".into();
        let merged = merge(vec![a.clone(), b.clone(), b2]);
        assert_eq!(merged, vec![b, a]);
    }

    #[test]
    fn in_diff_uses_new_side_hunk_ranges() {
        let d = super::super::diff::parse(
            b"diff --git a/x.rs b/x.rs\n--- a/x.rs\n+++ b/x.rs\n@@ -5,2 +5,3 @@\n a\n+b\n c\n",
        );
        let mut f = expected();
        f.file = "x.rs".into();
        (f.start_line, f.end_line) = (6, 6);
        assert!(f.in_diff(&d));
        (f.start_line, f.end_line) = (1, 5);
        assert!(f.in_diff(&d));
        (f.start_line, f.end_line) = (8, 9);
        assert!(!f.in_diff(&d));
        f.file = "other.rs".into();
        (f.start_line, f.end_line) = (6, 6);
        assert!(!f.in_diff(&d));
    }

    #[test]
    fn place_filters_by_mode_normalizes_paths_and_clamps_lines() {
        let d = super::super::diff::parse(
            b"diff --git a/x.rs b/x.rs\n--- a/x.rs\n+++ b/x.rs\n@@ -5,2 +5,3 @@\n a\n+b\n c\n\
diff --git a/old.rs b/new.rs\nsimilarity index 90%\nrename from old.rs\nrename to new.rs\n\
diff --git a/gone.rs b/gone.rs\ndeleted file mode 100644\n--- a/gone.rs\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n",
        );
        let at = |file: &str, start, end| {
            let mut f = expected();
            f.file = file.into();
            (f.start_line, f.end_line) = (start, end);
            f
        };
        let root = std::path::Path::new("/work/repo");
        let ok = |f: Finding, mode| place(f, &d, mode, Some(root)).map_err(|b| b.1);
        let f = ok(at("/work/repo/x.rs", 6, 900), FilterMode::DiffContext).expect("inside");
        assert_eq!((f.file.as_str(), f.start_line, f.end_line), ("x.rs", 6, 7));
        let f = ok(at("b/x.rs", 1, 5), FilterMode::DiffContext).expect("overlaps");
        assert_eq!((f.start_line, f.end_line), (5, 5));
        assert!(
            ok(at("x.rs", 5, 5), FilterMode::Added).is_err(),
            "context line"
        );
        assert!(ok(at("x.rs", 5, 6), FilterMode::Added).is_ok());
        assert!(ok(at("x.rs", 40, 40), FilterMode::DiffContext).is_err());
        assert!(ok(at("x.rs", 40, 40), FilterMode::File).is_ok());
        let why = ok(at("old.rs", 1, 1), FilterMode::File).expect_err("old path");
        assert!(why.contains("new.rs"), "{why}");
        let why = ok(at("gone.rs", 1, 1), FilterMode::File).expect_err("deleted");
        assert!(why.contains("deletes"), "{why}");
        let why = ok(at("/etc/passwd", 1, 1), FilterMode::File).expect_err("absolute");
        assert!(why.contains("absolute"), "{why}");
        let f = ok(at("/elsewhere/checkout/x.rs", 6, 6), FilterMode::Added).expect("suffix");
        assert_eq!(f.file, "x.rs");
        assert!(ok(at("made/up.rs", 1, 1), FilterMode::Nofilter).is_ok());
    }

    /// Checks the grammar is well-formed (every rule used is defined, `root` exists) and that
    /// the JSON shape it describes parses with [`parse_answer`].
    #[test]
    fn grammar_is_well_formed() {
        let mut defined = Vec::new();
        let mut used = Vec::new();
        for line in FINDINGS_GRAMMAR.lines().filter(|l| !l.trim().is_empty()) {
            let (name, body) = line.split_once("::=").expect("rule line");
            defined.push(name.trim().to_string());
            // Strip quoted literals and character classes, then collect identifiers.
            let mut cleaned = String::new();
            let mut chars = body.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '"' => {
                        while let Some(d) = chars.next() {
                            if d == '\\' {
                                chars.next();
                            } else if d == '"' {
                                break;
                            }
                        }
                        cleaned.push(' ');
                    }
                    '[' => {
                        while let Some(d) = chars.next() {
                            if d == '\\' {
                                chars.next();
                            } else if d == ']' {
                                break;
                            }
                        }
                        cleaned.push(' ');
                    }
                    _ => cleaned.push(c),
                }
            }
            for w in cleaned.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                if !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    used.push(w.to_string());
                }
            }
        }
        assert!(defined.contains(&"root".to_string()));
        // One finding, then at most MAX_LOCAL_FINDINGS - 1 more.
        assert!(
            FINDINGS_GRAMMAR.contains(&format!("finding ){{0,{}}}", MAX_LOCAL_FINDINGS - 1)),
            "the grammar's bound on findings is not MAX_LOCAL_FINDINGS"
        );
        for u in &used {
            assert!(defined.contains(u), "rule `{u}` is used but not defined");
        }
        // The exact shape the grammar forces parses.
        let sample = "[ {\"file\": \"a.rs\", \"start_line\": 3, \"end_line\": 4, \"severity\": \"note\", \"title\": \"t\", \"explanation\": \"e\", \"suggestion\": null} ]";
        assert_eq!(parse_answer(sample).expect("parses").findings.len(), 1);
    }
}
