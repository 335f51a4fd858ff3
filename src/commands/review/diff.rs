//! The change under review: gathering it (a `--diff` file or stdin, `--staged`, `--base REF`,
//! the CI base from `GITHUB_BASE_REF` / `CI_MERGE_REQUEST_DIFF_BASE_SHA`, or the merge base with
//! the default branch), parsing unified diffs (renames, deletions, binary files, quoted paths,
//! non-UTF-8 bytes decoded lossily), deciding which files are skipped and why (binary,
//! deleted, generated, vendored, configurable globs), and splitting what is left into chunks
//! that fit a token budget (per file, then per hunk, then per slice of a hunk).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;

/// What kind of change a file underwent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// New file.
    Added,
    /// Removed file.
    Deleted,
    /// Changed in place.
    Modified,
    /// Moved (perhaps also changed).
    Renamed,
    /// Copied (perhaps also changed).
    Copied,
}

/// One hunk: an `@@ -a,b +c,d @@` header and its lines (each with its leading ` `, `+`, `-`
/// or `\`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hunk {
    /// First old-side line.
    pub old_start: u32,
    /// Old-side line count.
    pub old_len: u32,
    /// First new-side line.
    pub new_start: u32,
    /// New-side line count.
    pub new_len: u32,
    /// Text after the second `@@` (the function context git adds), may be empty.
    pub context: String,
    /// The hunk's lines, without their newline.
    pub lines: Vec<String>,
}

impl Hunk {
    /// The `@@` header line.
    pub fn header(&self) -> String {
        let ctx = if self.context.is_empty() {
            String::new()
        } else {
            format!(" {}", self.context)
        };
        format!(
            "@@ -{},{} +{},{} @@{ctx}",
            self.old_start, self.old_len, self.new_start, self.new_len
        )
    }

    /// The first and last new-side line this hunk covers (`None` for a pure deletion).
    pub fn new_range(&self) -> Option<(u32, u32)> {
        (self.new_len > 0).then(|| (self.new_start, self.new_start + self.new_len - 1))
    }

    /// The new-side numbers of the lines this hunk adds (`+` lines).
    pub fn added_lines(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut cur = self.new_start;
        for l in &self.lines {
            match l.as_bytes().first() {
                Some(b'+') => {
                    out.push(cur);
                    cur += 1;
                }
                Some(b' ') | None => cur += 1,
                _ => {}
            }
        }
        out
    }

    /// The new-side text of line `n` (an added or context line), if this hunk has it.
    pub fn new_line(&self, n: u32) -> Option<&str> {
        let mut cur = self.new_start;
        for l in &self.lines {
            match l.as_bytes().first() {
                Some(b'+' | b' ') => {
                    if cur == n {
                        return Some(&l[1..]);
                    }
                    cur += 1;
                }
                None => {
                    // An empty context line some tools write without its leading space.
                    if cur == n {
                        return Some("");
                    }
                    cur += 1;
                }
                _ => {}
            }
        }
        None
    }
}

/// One file of a diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    /// Path before the change (`None` for an added file).
    pub old_path: Option<String>,
    /// Path after the change (`None` for a deleted file).
    pub new_path: Option<String>,
    /// What happened to it.
    pub status: FileStatus,
    /// Git said "Binary files differ" (or sent a binary patch).
    pub binary: bool,
    /// The hunks, in order.
    pub hunks: Vec<Hunk>,
}

impl FileDiff {
    /// The path to report: the new path, or the old one for a deletion.
    pub fn path(&self) -> &str {
        self.new_path
            .as_deref()
            .or(self.old_path.as_deref())
            .unwrap_or("")
    }

    /// The header lines a reviewer needs to read the hunks.
    pub fn header_text(&self) -> String {
        let old = self.old_path.as_deref().unwrap_or(self.path());
        let new = self.path();
        let mut s = format!("diff --git a/{old} b/{new}\n");
        match self.status {
            FileStatus::Added => s.push_str("new file\n"),
            FileStatus::Deleted => s.push_str("deleted file\n"),
            FileStatus::Renamed => {
                let _ = writeln!(s, "rename from {old}\nrename to {new}");
            }
            FileStatus::Copied => {
                let _ = writeln!(s, "copy from {old}\ncopy to {new}");
            }
            FileStatus::Modified => {}
        }
        let minus = self
            .old_path
            .as_ref()
            .map_or_else(|| "/dev/null".to_string(), |p| format!("a/{p}"));
        let plus = self
            .new_path
            .as_ref()
            .map_or_else(|| "/dev/null".to_string(), |p| format!("b/{p}"));
        let _ = writeln!(s, "--- {minus}\n+++ {plus}");
        s
    }

    /// Whether the new-side lines `start..=end` overlap a hunk of this file.
    pub fn covers(&self, start: u32, end: u32) -> bool {
        self.hunks.iter().any(|h| {
            h.new_range()
                .is_some_and(|(first, last)| start <= last && end >= first)
        })
    }

    /// The new-side text of lines `start..=end` that the diff shows.
    pub fn snippet(&self, start: u32, end: u32) -> String {
        let mut out = Vec::new();
        for n in start..=end.min(start.saturating_add(200)) {
            if let Some(t) = self.hunks.iter().find_map(|h| h.new_line(n)) {
                out.push(t);
            }
        }
        out.join("\n")
    }
}

/// A parsed diff.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Files in diff order.
    pub files: Vec<FileDiff>,
}

impl Diff {
    /// A place inside the change to attach a review-wide message to (reviewdog and GitLab
    /// filter out anything else): the first added line of the first text file with one, or
    /// the first line a hunk shows.
    pub fn anchor(&self) -> Option<(String, u32)> {
        let text = || {
            self.files
                .iter()
                .filter(|f| f.new_path.is_some() && !f.binary)
        };
        text()
            .find_map(|f| {
                f.hunks
                    .iter()
                    .find_map(|h| h.added_lines().first().copied())
                    .map(|n| (f.path().to_string(), n))
            })
            .or_else(|| {
                text().find_map(|f| {
                    f.hunks
                        .iter()
                        .find_map(Hunk::new_range)
                        .map(|(first, _)| (f.path().to_string(), first))
                })
            })
    }

    /// The file with this new (or, for deletions, old) path.
    pub fn file(&self, path: &str) -> Option<&FileDiff> {
        let path = path.trim_start_matches("./");
        self.files.iter().find(|f| f.path() == path)
    }
}

/// Parses a unified diff (`git diff` output, or plain `diff -u`). Bytes that are not UTF-8
/// are decoded lossily (U+FFFD), never rejected.
pub fn parse(input: &[u8]) -> Diff {
    let text = String::from_utf8_lossy(input);
    let mut files: Vec<FileDiff> = Vec::new();
    let mut cur: Option<FileDiff> = None;
    // Old and new lines still expected in the current hunk.
    let mut remaining = (0u32, 0u32);
    let mut lines = text.split('\n').peekable();
    while let Some(raw) = lines.next() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if remaining != (0, 0) {
            if let Some(f) = cur.as_mut()
                && let Some(h) = f.hunks.last_mut()
            {
                match line.as_bytes().first() {
                    Some(b'+') => remaining.1 = remaining.1.saturating_sub(1),
                    Some(b'-') => remaining.0 = remaining.0.saturating_sub(1),
                    Some(b'\\') => {}
                    Some(b' ') | None => {
                        remaining.0 = remaining.0.saturating_sub(1);
                        remaining.1 = remaining.1.saturating_sub(1);
                    }
                    // Not a hunk line: the hunk was shorter than its header said.
                    _ => {
                        remaining = (0, 0);
                        handle_header(line, &mut cur, &mut files, &mut remaining);
                        continue;
                    }
                }
                h.lines.push(line.to_string());
                continue;
            }
            remaining = (0, 0);
        }
        if line.starts_with('\\') {
            // "\ No newline at end of file" right after a hunk's last line.
            if let Some(h) = cur.as_mut().and_then(|f| f.hunks.last_mut()) {
                h.lines.push(line.to_string());
            }
            continue;
        }
        // A plain `diff -u` file starts at `---` followed by `+++` with no `diff --git`.
        if line.starts_with("--- ")
            && lines.peek().is_some_and(|n| n.starts_with("+++ "))
            && cur.as_ref().is_none_or(|f| !f.hunks.is_empty() || f.binary)
        {
            if let Some(f) = cur.take() {
                files.push(f);
            }
            cur = Some(FileDiff {
                old_path: None,
                new_path: None,
                status: FileStatus::Modified,
                binary: false,
                hunks: Vec::new(),
            });
        }
        handle_header(line, &mut cur, &mut files, &mut remaining);
    }
    if let Some(f) = cur.take() {
        files.push(f);
    }
    for f in &mut files {
        // Trailing empty "context" lines come from the final newline of the input.
        if let Some(h) = f.hunks.last_mut() {
            while h.lines.last().is_some_and(String::is_empty) && hunk_overfull(h) {
                h.lines.pop();
            }
        }
        if f.old_path.is_none() && f.new_path.is_some() && f.status == FileStatus::Modified {
            f.status = FileStatus::Added;
        }
        if f.new_path.is_none() && f.old_path.is_some() && f.status == FileStatus::Modified {
            f.status = FileStatus::Deleted;
        }
    }
    Diff { files }
}

/// True when the hunk has more new-side lines than its header claims.
fn hunk_overfull(h: &Hunk) -> bool {
    let new = h
        .lines
        .iter()
        .filter(|l| l.is_empty() || l.starts_with('+') || l.starts_with(' '))
        .count();
    new > h.new_len as usize
}

fn handle_header(
    line: &str,
    cur: &mut Option<FileDiff>,
    files: &mut Vec<FileDiff>,
    remaining: &mut (u32, u32),
) {
    if let Some(rest) = line.strip_prefix("diff --git ") {
        if let Some(f) = cur.take() {
            files.push(f);
        }
        let (old, new) = split_git_header(rest);
        *cur = Some(FileDiff {
            old_path: old,
            new_path: new,
            status: FileStatus::Modified,
            binary: false,
            hunks: Vec::new(),
        });
        return;
    }
    let Some(f) = cur.as_mut() else {
        return;
    };
    if line.starts_with("new file mode") {
        f.status = FileStatus::Added;
        f.old_path = None;
    } else if line.starts_with("deleted file mode") {
        f.status = FileStatus::Deleted;
        f.new_path = None;
    } else if let Some(p) = line.strip_prefix("rename from ") {
        f.status = FileStatus::Renamed;
        f.old_path = Some(unquote(p));
    } else if let Some(p) = line.strip_prefix("rename to ") {
        f.status = FileStatus::Renamed;
        f.new_path = Some(unquote(p));
    } else if let Some(p) = line.strip_prefix("copy from ") {
        f.status = FileStatus::Copied;
        f.old_path = Some(unquote(p));
    } else if let Some(p) = line.strip_prefix("copy to ") {
        f.status = FileStatus::Copied;
        f.new_path = Some(unquote(p));
    } else if line.starts_with("Binary files ") || line.starts_with("GIT binary patch") {
        f.binary = true;
    } else if let Some(p) = line.strip_prefix("--- ") {
        f.old_path = side_path(p, "a/");
    } else if let Some(p) = line.strip_prefix("+++ ") {
        f.new_path = side_path(p, "b/");
    } else if line.starts_with("@@ ")
        && let Some(h) = parse_hunk_header(line)
    {
        *remaining = (h.old_len, h.new_len);
        f.hunks.push(h);
    }
}

/// `a/x b/y` (possibly quoted) from a `diff --git` line. Ambiguous when paths contain
/// ` b/`; the `---`/`+++` and `rename` lines that follow override it.
fn split_git_header(rest: &str) -> (Option<String>, Option<String>) {
    if rest.starts_with('"') || rest.ends_with('"') {
        let mut parts = Vec::new();
        let mut s = rest.trim();
        while !s.is_empty() {
            if s.starts_with('"') {
                let end = quoted_end(s);
                parts.push(unquote(&s[..end]));
                s = s[end..].trim_start();
            } else {
                let end = s.find(' ').unwrap_or(s.len());
                parts.push(s[..end].to_string());
                s = s[end..].trim_start();
            }
        }
        if parts.len() == 2 {
            return (Some(strip(&parts[0], "a/")), Some(strip(&parts[1], "b/")));
        }
    }
    // Same path on both sides: "a/P b/P" has length 2*len(P) + 5.
    if rest.len() >= 5 && (rest.len() - 5).is_multiple_of(2) {
        let n = (rest.len() - 5) / 2;
        if rest.is_char_boundary(2 + n)
            && rest.get(2 + n..5 + n) == Some(" b/")
            && rest.get(2..2 + n) == rest.get(5 + n..)
        {
            let p = rest[2..2 + n].to_string();
            return (Some(p.clone()), Some(p));
        }
    }
    match rest.find(" b/") {
        Some(i) => (
            Some(strip(&rest[..i], "a/")),
            Some(strip(&rest[i + 1..], "b/")),
        ),
        None => (None, None),
    }
}

fn strip(p: &str, prefix: &str) -> String {
    p.strip_prefix(prefix).unwrap_or(p).to_string()
}

/// The path on a `---`/`+++` line: `/dev/null` is none; a tab and timestamp (plain diff) is
/// dropped.
fn side_path(p: &str, prefix: &str) -> Option<String> {
    let p = p.split('\t').next().unwrap_or(p).trim_end();
    if p == "/dev/null" {
        return None;
    }
    let p = if p.starts_with('"') {
        unquote(p)
    } else {
        p.to_string()
    };
    Some(p.strip_prefix(prefix).unwrap_or(&p).to_string())
}

/// Byte index just past the closing quote of a C-quoted string at the start of `s`.
fn quoted_end(s: &str) -> usize {
    let b = s.as_bytes();
    let mut i = 1;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    b.len()
}

/// Undoes git's C-style path quoting (`"caf\303\251.txt"`); unquoted input is returned as is.
#[expect(clippy::many_single_char_names, reason = "a byte-level scanner")]
pub fn unquote(quoted: &str) -> String {
    let quoted = quoted.trim_end();
    let Some(inner) = quoted.strip_prefix('"').and_then(|x| x.strip_suffix('"')) else {
        return quoted.to_string();
    };
    let b = inner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 1 < b.len() {
            let c = b[i + 1];
            i += 2;
            match c {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'a' => out.push(7),
                b'b' => out.push(8),
                b'f' => out.push(12),
                b'v' => out.push(11),
                b'0'..=b'7' => {
                    let mut v = u32::from(c - b'0');
                    let mut k = 0;
                    while k < 2 && i < b.len() && (b'0'..=b'7').contains(&b[i]) {
                        v = v * 8 + u32::from(b[i] - b'0');
                        i += 1;
                        k += 1;
                    }
                    out.push((v & 0xff) as u8);
                }
                other => out.push(other),
            }
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn parse_hunk_header(line: &str) -> Option<Hunk> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, context) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(u32, u32)> {
        match r.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    let (old_start, old_len) = range(old)?;
    let (new_start, new_len) = range(new)?;
    Some(Hunk {
        old_start,
        old_len,
        new_start,
        new_len,
        context: context.trim().to_string(),
        lines: Vec::new(),
    })
}

// ---------------------------------------------------------------------------------------
// Skipping

/// Why a file is not reviewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum SkipReason {
    /// Binary content.
    Binary,
    /// The file was deleted: there is no new side to comment on.
    Deleted,
    /// Renamed or mode-changed with no content change.
    NoContentChange,
    /// Matches a built-in generated/vendored/lock-file pattern (the pattern).
    Generated(String),
    /// Carries a "generated, do not edit" marker.
    GeneratedMarker,
    /// Matches a `review.exclude` glob from the config (the glob).
    Excluded(String),
    /// Not reviewed (or not whole) because the diff needed more chunks than the chunk
    /// budget (`[review] max_chunks`, the number).
    TooLarge(usize),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Binary => f.write_str("binary file"),
            Self::Deleted => f.write_str("deleted"),
            Self::NoContentChange => f.write_str("no content change"),
            Self::Generated(g) => write!(f, "generated or vendored ({g})"),
            Self::GeneratedMarker => f.write_str("generated (marked \"do not edit\")"),
            Self::Excluded(g) => write!(f, "excluded by review.exclude ({g})"),
            Self::TooLarge(n) => write!(
                f,
                "over the chunk budget ([review] max_chunks = {n}): not reviewed"
            ),
        }
    }
}

/// A file left out of the review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Its path.
    pub path: String,
    /// Why.
    pub reason: SkipReason,
}

/// Built-in globs of generated, vendored and lock files, skipped unless `review.include`
/// names them.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "**/vendor/**",
    "**/third_party/**",
    "**/node_modules/**",
    "**/dist/**",
    "**/*.min.js",
    "**/*.min.css",
    "**/*.map",
    "**/*.lock",
    "**/package-lock.json",
    "**/pnpm-lock.yaml",
    "**/go.sum",
    "**/*.pb.go",
    "**/*_pb2.py",
    "**/*.generated.*",
    "**/*.g.dart",
    "**/__snapshots__/**",
    "**/*.snap",
];

/// Decides which files are reviewed. Precedence: `review.exclude` > `review.include` >
/// built-in list and generated markers.
pub struct FileFilter {
    builtin: GlobSet,
    exclude: GlobSet,
    exclude_src: Vec<String>,
    include: GlobSet,
}

impl FileFilter {
    /// Builds the filter from the config's globs.
    pub fn new(exclude: &[String], include: &[String]) -> anyhow::Result<Self> {
        let set = |globs: &[&str], what: &str| -> anyhow::Result<GlobSet> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).with_context(|| {
                    format!("review.{what}: `{g}` is not a valid glob; fix it in your config")
                })?);
            }
            Ok(b.build()?)
        };
        let ex: Vec<&str> = exclude.iter().map(String::as_str).collect();
        let inc: Vec<&str> = include.iter().map(String::as_str).collect();
        Ok(Self {
            builtin: set(DEFAULT_EXCLUDES, "exclude")?,
            exclude: set(&ex, "exclude")?,
            exclude_src: exclude.to_vec(),
            include: set(&inc, "include")?,
        })
    }

    /// Why `file` is skipped, or `None` when it is reviewed.
    pub fn skip_reason(&self, file: &FileDiff) -> Option<SkipReason> {
        if file.binary {
            return Some(SkipReason::Binary);
        }
        if file.status == FileStatus::Deleted {
            return Some(SkipReason::Deleted);
        }
        let path = file.path();
        if let Some(i) = self.exclude.matches(path).first() {
            return Some(SkipReason::Excluded(self.exclude_src[*i].clone()));
        }
        if file.hunks.iter().all(|h| h.new_len == 0) {
            return Some(if file.hunks.is_empty() {
                SkipReason::NoContentChange
            } else {
                SkipReason::Deleted
            });
        }
        if self.include.is_match(path) {
            return None;
        }
        if let Some(i) = self.builtin.matches(path).first() {
            return Some(SkipReason::Generated(DEFAULT_EXCLUDES[*i].to_string()));
        }
        if has_generated_marker(file) {
            return Some(SkipReason::GeneratedMarker);
        }
        None
    }
}

/// "@generated" or "Code generated ... DO NOT EDIT." near the top of the new file.
fn has_generated_marker(file: &FileDiff) -> bool {
    file.hunks.iter().filter(|h| h.new_start <= 5).any(|h| {
        h.lines.iter().take(8).any(|l| {
            l.contains("@generated")
                || (l.contains("Code generated") && l.contains("DO NOT EDIT"))
                || l.contains("<auto-generated")
        })
    })
}

// ---------------------------------------------------------------------------------------
// Chunking

/// Most chunks one review sends when `[review] max_chunks` is not set; files beyond it are
/// listed as over the budget and make the review partial.
pub const DEFAULT_MAX_CHUNKS: usize = 100;

/// A piece of the diff sent to the model in one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunk {
    /// 0-based position.
    pub index: usize,
    /// The diff text (file headers repeated in every chunk that needs them).
    pub text: String,
    /// The files it touches.
    pub files: Vec<String>,
}

/// Rough token count: bytes / 3, which overestimates for English and code (safe for budgets).
pub fn estimate_tokens(text: &str) -> usize {
    text.len().div_ceil(3)
}

/// The reviewed files split into chunks, and what did not make it in whole.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chunked {
    /// The chunks, at most the chunk budget.
    pub chunks: Vec<Chunk>,
    /// Files (or the rest of files) that did not fit under the chunk budget.
    pub over_budget: Vec<Skipped>,
    /// Lines longer than a chunk can hold, cut (with a marker) in the chunks sent.
    pub lines_truncated: usize,
}

/// Splits the reviewed files into chunks of at most `budget` estimated tokens: whole files
/// together while they fit, a big file per hunk, a big hunk per slice of lines (with a
/// recomputed `@@` header), an enormous line truncated (and counted). At most `max_chunks`
/// chunks; the files that do not fit are listed in [`Chunked::over_budget`].
pub fn chunk(files: &[&FileDiff], budget: usize, max_chunks: usize) -> Chunked {
    let budget = budget.max(64);
    let max_chunks = max_chunks.max(1);
    // (path, text, lines truncated in it)
    let mut pieces: Vec<(String, String, usize)> = Vec::new();
    for f in files {
        let header = f.header_text();
        let body: String = f.hunks.iter().map(hunk_text).collect();
        if estimate_tokens(&header) + estimate_tokens(&body) <= budget {
            pieces.push((f.path().to_string(), header + &body, 0));
            continue;
        }
        let room = budget.saturating_sub(estimate_tokens(&header)).max(32);
        let mut acc = String::new();
        let mut cut = 0;
        for h in &f.hunks {
            for (part, truncated) in split_hunk(h, room) {
                if !acc.is_empty() && estimate_tokens(&acc) + estimate_tokens(&part) > room {
                    pieces.push((f.path().to_string(), format!("{header}{acc}"), cut));
                    acc.clear();
                    cut = 0;
                }
                acc.push_str(&part);
                cut += truncated;
            }
        }
        if !acc.is_empty() {
            pieces.push((f.path().to_string(), format!("{header}{acc}"), cut));
        }
    }
    let mut out = Chunked::default();
    for (path, text, truncated) in pieces {
        if let Some(last) = out.chunks.last_mut()
            && estimate_tokens(&last.text) + estimate_tokens(&text) <= budget
        {
            last.text.push_str(&text);
            if !last.files.contains(&path) {
                last.files.push(path);
            }
            out.lines_truncated += truncated;
            continue;
        }
        if out.chunks.len() >= max_chunks {
            if !out.over_budget.iter().any(|s| s.path == path) {
                out.over_budget.push(Skipped {
                    path,
                    reason: SkipReason::TooLarge(max_chunks),
                });
            }
            continue;
        }
        out.lines_truncated += truncated;
        out.chunks.push(Chunk {
            index: out.chunks.len(),
            text,
            files: vec![path],
        });
    }
    out
}

fn hunk_text(h: &Hunk) -> String {
    let mut s = h.header();
    s.push('\n');
    for l in &h.lines {
        s.push_str(l);
        s.push('\n');
    }
    s
}

/// A hunk as one or more texts of at most `room` tokens, each with a correct `@@` header,
/// each with the number of its lines that had to be cut.
fn split_hunk(h: &Hunk, room: usize) -> Vec<(String, usize)> {
    let whole = hunk_text(h);
    if estimate_tokens(&whole) <= room {
        return vec![(whole, 0)];
    }
    let max_line_bytes = (room * 3).saturating_sub(200).max(80);
    let mut out = Vec::new();
    let (mut old, mut new) = (h.old_start, h.new_start);
    let mut part: Vec<String> = Vec::new();
    let (mut p_old, mut p_new, mut n_old, mut n_new) = (old, new, 0u32, 0u32);
    let mut bytes = 0usize;
    let mut cut_lines = 0usize;
    let flush = |part: &mut Vec<String>,
                 cut: &mut usize,
                 (p_old, n_old, p_new, n_new): (u32, u32, u32, u32),
                 out: &mut Vec<(String, usize)>| {
        if part.is_empty() {
            return;
        }
        let mut s = format!("@@ -{p_old},{n_old} +{p_new},{n_new} @@ (continued)\n");
        for l in part.drain(..) {
            s.push_str(&l);
            s.push('\n');
        }
        out.push((s, std::mem::take(cut)));
    };
    for l in &h.lines {
        let mut line = l.clone();
        let was_cut = line.len() > max_line_bytes;
        if was_cut {
            let cut = line.floor_char_boundary(max_line_bytes);
            line.truncate(cut);
            line.push_str(" … [line truncated by aiw]");
            cut_lines += 1;
        }
        if bytes + line.len() + 60 > room * 3 && !part.is_empty() {
            // The line just cut belongs to the next part, not this one.
            let carried = usize::from(was_cut);
            let mut here = cut_lines - carried;
            flush(&mut part, &mut here, (p_old, n_old, p_new, n_new), &mut out);
            cut_lines = carried;
            (p_old, p_new, n_old, n_new, bytes) = (old, new, 0, 0, 0);
        }
        bytes += line.len() + 1;
        match l.as_bytes().first() {
            Some(b'+') => {
                new += 1;
                n_new += 1;
            }
            Some(b'-') => {
                old += 1;
                n_old += 1;
            }
            Some(b'\\') => {}
            _ => {
                old += 1;
                new += 1;
                n_old += 1;
                n_new += 1;
            }
        }
        part.push(line);
    }
    flush(
        &mut part,
        &mut cut_lines,
        (p_old, n_old, p_new, n_new),
        &mut out,
    );
    out
}

// ---------------------------------------------------------------------------------------
// Gathering

/// Where the diff comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffSource {
    /// A file of unified diff.
    File(PathBuf),
    /// Unified diff on stdin.
    Stdin,
    /// `git diff --cached`.
    Staged,
    /// `git diff` against the merge base of this ref and HEAD.
    Base(String),
    /// Find the base: CI variables, then the default branch.
    Auto,
}

/// The diff bytes and a description of what was compared.
pub struct Gathered {
    /// The raw diff.
    pub bytes: Vec<u8>,
    /// E.g. "changes since merge base 1a2b3c4 with origin/main".
    pub description: String,
}

/// Bounds on reading the diff: its size and the time it may take (`--timeout`).
#[derive(Clone, Copy, Debug)]
pub struct ReadLimits {
    /// Most bytes of diff read (`[limits] diff`).
    pub max_bytes: usize,
    /// Give up reading at this instant.
    pub deadline: Option<tokio::time::Instant>,
}

/// Reads or computes the diff, within `limits`. `env` looks up environment variables
/// (injected for tests).
pub async fn gather(
    source: &DiffSource,
    env: &dyn Fn(&str) -> Option<String>,
    limits: ReadLimits,
) -> anyhow::Result<Gathered> {
    match source {
        DiffSource::File(p) => {
            let what = format!("the diff file {}", p.display());
            let path = p.clone();
            let bytes = bounded(&what, move || std::fs::File::open(path), limits).await?;
            Ok(Gathered {
                bytes,
                description: format!("diff from {}", p.display()),
            })
        }
        DiffSource::Stdin => {
            let bytes = bounded("the diff on stdin", || Ok(std::io::stdin()), limits).await?;
            Ok(Gathered {
                bytes,
                description: "diff from stdin".into(),
            })
        }
        DiffSource::Staged => Ok(Gathered {
            bytes: git_diff(&["--cached"], limits).await?,
            description: "staged changes".into(),
        }),
        DiffSource::Base(r) => diff_against(r, limits).await,
        DiffSource::Auto => {
            let base = ci_base(env).or_else(default_branch).ok_or_else(|| {
                anyhow::anyhow!(
                    "cannot find a base to review against: no GITHUB_BASE_REF or CI_MERGE_REQUEST_DIFF_BASE_SHA, and no origin/HEAD, main or master; pass --base REF, --staged or --diff FILE"
                )
            })?;
            diff_against(&base, limits).await
        }
    }
}

/// Reads one diff input within `limits`, with errors that say which limit and how to fix it.
async fn bounded<R, F>(what: &str, open: F, limits: ReadLimits) -> anyhow::Result<Vec<u8>>
where
    F: FnOnce() -> std::io::Result<R> + Send + 'static,
    R: std::io::Read,
{
    use crate::files::{ReadError, read_bounded};
    read_bounded(open, limits.max_bytes, limits.deadline)
        .await
        .map_err(|e| match e {
            ReadError::TooLarge(n) => anyhow::anyhow!(
                "{what} is larger than the {} limit (`[limits] diff` in your config file): review a smaller range (--base REF) or raise the limit",
                crate::config::format_size(n)
            ),
            ReadError::TimedOut => anyhow::anyhow!(
                "reading {what} did not finish within the --timeout budget: is the input endless (such as /dev/zero) or a pipe that never closes?"
            ),
            ReadError::Io(e) => anyhow::Error::new(e).context(format!("cannot read {what}")),
        })
}

/// The base ref CI tells us about: the PR's base branch on GitHub, the MR's diff base on GitLab.
pub fn ci_base(env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    if let Some(sha) = get("CI_MERGE_REQUEST_DIFF_BASE_SHA") {
        return Some(sha);
    }
    get("GITHUB_BASE_REF").map(|b| {
        let remote = format!("origin/{b}");
        if rev_exists(&remote) { remote } else { b }
    })
}

fn default_branch() -> Option<String> {
    if let Ok(out) = git(&[
        "symbolic-ref",
        "--quiet",
        "--short",
        "refs/remotes/origin/HEAD",
    ]) {
        let s = String::from_utf8_lossy(&out).trim().to_string();
        if !s.is_empty() {
            return Some(s);
        }
    }
    ["origin/main", "origin/master", "main", "master"]
        .into_iter()
        .find(|r| rev_exists(r))
        .map(str::to_string)
}

fn rev_exists(r: &str) -> bool {
    git(&[
        "rev-parse",
        "--verify",
        "--quiet",
        &format!("{r}^{{commit}}"),
    ])
    .is_ok()
}

async fn diff_against(base: &str, limits: ReadLimits) -> anyhow::Result<Gathered> {
    let mb = git(&["merge-base", base, "HEAD"]).with_context(|| {
        format!(
            "cannot find the merge base of {base} and HEAD; in CI fetch full history (actions/checkout with fetch-depth: 0, GitLab GIT_DEPTH: 0) or pass --base with a commit that exists"
        )
    })?;
    let mb = String::from_utf8_lossy(&mb).trim().to_string();
    let short: String = mb.chars().take(10).collect();
    Ok(Gathered {
        bytes: git_diff(&[&mb], limits).await?,
        description: format!("changes since merge base {short} with {base}"),
    })
}

/// Runs `git diff` with its output read within `limits`; git is stopped when a limit is hit.
async fn git_diff(extra: &[&str], limits: ReadLimits) -> anyhow::Result<Vec<u8>> {
    let mut args = vec![
        "diff",
        "--no-color",
        "--no-ext-diff",
        "--find-renames",
        "--src-prefix=a/",
        "--dst-prefix=b/",
    ];
    args.extend_from_slice(extra);
    let mut child = crate::git::spawn(None, &args)?;
    let stdout = child
        .stdout
        .take()
        .context("cannot read the output of git")?;
    let what = format!("the output of `git {}`", args.join(" "));
    let read = bounded(&what, move || Ok(stdout), limits).await;
    let bytes = match read {
        Ok(b) => b,
        Err(e) => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(e);
        }
    };
    crate::git::finish(child, &args)?;
    Ok(bytes)
}

/// Whether the input has nothing but whitespace: an empty diff (not garbage).
pub fn is_blank(input: &[u8]) -> bool {
    input.iter().all(u8::is_ascii_whitespace)
}

/// git's answer to a question about the repository (a ref, a merge base): small.
fn git(args: &[&str]) -> anyhow::Result<Vec<u8>> {
    crate::git::run(None, args, 1 << 20)
}

/// The repository's own review instructions, if it has `.aiw/review.md` in `dir` or a parent.
pub fn repo_prompt(dir: &Path) -> Option<(PathBuf, String)> {
    dir.ancestors()
        .map(|d| d.join(".aiw").join("review.md"))
        .find(|p| p.is_file())
        .and_then(|p| std::fs::read_to_string(&p).ok().map(|t| (p, t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/diffs")
            .join(name);
        std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
    }

    #[test]
    fn parses_a_modification_with_line_numbers() {
        let d = parse(&fixture("simple.diff"));
        assert_eq!(d.files.len(), 1);
        let f = &d.files[0];
        assert_eq!(f.path(), "src/lib.rs");
        assert_eq!(f.status, FileStatus::Modified);
        assert_eq!(f.hunks.len(), 2);
        assert_eq!(f.hunks[0].new_start, 10);
        assert_eq!(f.hunks[0].new_len, 7);
        assert_eq!(f.hunks[0].context, "fn main() {");
        assert_eq!(f.hunks[0].new_line(12), Some("    let x = compute(1);"));
        assert!(f.covers(12, 12));
        assert!(!f.covers(100, 120));
        assert!(f.covers(1, 10));
    }

    #[test]
    fn parses_renames_deletions_additions_and_binaries() {
        let d = parse(&fixture("mixed.diff"));
        let by = |p: &str| d.file(p).unwrap_or_else(|| panic!("{p} missing: {d:#?}"));
        let r = by("src/new_name.rs");
        assert_eq!(r.status, FileStatus::Renamed);
        assert_eq!(r.old_path.as_deref(), Some("src/old_name.rs"));
        assert_eq!(r.hunks.len(), 1);
        let pure = by("docs/moved.md");
        assert_eq!(pure.status, FileStatus::Renamed);
        assert!(pure.hunks.is_empty());
        let del = by("src/gone.rs");
        assert_eq!(del.status, FileStatus::Deleted);
        assert_eq!(del.new_path, None);
        let add = by("src/added.rs");
        assert_eq!(add.status, FileStatus::Added);
        assert_eq!(add.hunks[0].new_start, 1);
        let bin = by("assets/logo.png");
        assert!(bin.binary);
        let filter = FileFilter::new(&[], &[]).expect("valid globs");
        assert_eq!(filter.skip_reason(bin), Some(SkipReason::Binary));
        assert_eq!(filter.skip_reason(del), Some(SkipReason::Deleted));
        assert_eq!(filter.skip_reason(pure), Some(SkipReason::NoContentChange));
        assert_eq!(filter.skip_reason(r), None);
        assert_eq!(filter.skip_reason(add), None);
    }

    #[test]
    fn a_removed_line_that_looks_like_a_header_stays_in_the_hunk() {
        let d = parse(&fixture("tricky.diff"));
        assert_eq!(d.files.len(), 2, "{d:#?}");
        let f = &d.files[0];
        assert_eq!(f.path(), "notes.txt");
        assert!(f.hunks[0].lines.iter().any(|l| l == "--- not a header"));
        assert!(
            f.hunks[0]
                .lines
                .iter()
                .any(|l| l == "++++ also not a header")
        );
        assert_eq!(d.files[1].path(), "with space/b file.txt");
    }

    #[test]
    fn non_utf8_bytes_are_decoded_lossily() {
        let d = parse(&fixture("latin1.diff"));
        assert_eq!(d.files.len(), 1);
        let text = d.files[0].hunks[0].lines.join("\n");
        assert!(text.contains('\u{FFFD}'), "{text}");
        assert!(text.contains("caf"));
    }

    #[test]
    fn quoted_paths_are_unquoted() {
        assert_eq!(unquote("\"caf\\303\\251.txt\""), "café.txt");
        assert_eq!(unquote("plain.txt"), "plain.txt");
        assert_eq!(unquote("\"a\\\"b\\\\c\\td\""), "a\"b\\c\td");
        let d = parse(
            b"diff --git \"a/caf\\303\\251.txt\" \"b/caf\\303\\251.txt\"\n--- \"a/caf\\303\\251.txt\"\n+++ \"b/caf\\303\\251.txt\"\n@@ -1 +1 @@\n-a\n+b\n",
        );
        assert_eq!(d.files[0].path(), "café.txt");
    }

    #[test]
    fn plain_diff_u_without_git_headers() {
        let d = parse(
            b"--- old/a.c\t2026-01-01 00:00:00\n+++ new/a.c\t2026-01-02 00:00:00\n@@ -1,2 +1,2 @@\n int x;\n-int y;\n+long y;\n",
        );
        assert_eq!(d.files.len(), 1);
        assert_eq!(d.files[0].path(), "new/a.c");
        assert_eq!(d.files[0].hunks[0].lines.len(), 3);
    }

    #[test]
    fn generated_and_vendored_files_are_skipped_unless_included() {
        let d = parse(&fixture("generated.diff"));
        let filter = FileFilter::new(&[], &[]).expect("valid globs");
        let reasons: Vec<(String, Option<SkipReason>)> = d
            .files
            .iter()
            .map(|f| (f.path().to_string(), filter.skip_reason(f)))
            .collect();
        let get = |p: &str| {
            reasons
                .iter()
                .find(|(x, _)| x == p)
                .unwrap_or_else(|| panic!("{p}: {reasons:?}"))
                .1
                .clone()
        };
        assert_eq!(
            get("vendor/lib/x.go"),
            Some(SkipReason::Generated("**/vendor/**".into()))
        );
        assert_eq!(
            get("Cargo.lock"),
            Some(SkipReason::Generated("**/*.lock".into()))
        );
        assert_eq!(get("api/types.go"), Some(SkipReason::GeneratedMarker));
        assert_eq!(
            get("web/app.min.js"),
            Some(SkipReason::Generated("**/*.min.js".into()))
        );
        assert_eq!(get("src/main.rs"), None);

        let custom =
            FileFilter::new(&["src/**".into()], &["vendor/**".into()]).expect("valid globs");
        let f = d.file("src/main.rs").expect("in fixture");
        assert_eq!(
            custom.skip_reason(f),
            Some(SkipReason::Excluded("src/**".into()))
        );
        assert_eq!(
            custom.skip_reason(d.file("vendor/lib/x.go").expect("in fixture")),
            None
        );
        assert!(FileFilter::new(&["[".into()], &[]).is_err());
    }

    #[test]
    fn huge_file_is_split_per_hunk_and_per_slice_with_correct_headers() {
        let d = parse(&fixture("huge.diff"));
        let files: Vec<&FileDiff> = d.files.iter().collect();
        let total: usize = files
            .iter()
            .map(|f| {
                estimate_tokens(
                    &(f.header_text() + &f.hunks.iter().map(hunk_text).collect::<String>()),
                )
            })
            .sum();
        let budget = 400;
        assert!(total > budget * 3, "fixture should be big: {total}");
        let Chunked {
            chunks,
            over_budget,
            lines_truncated,
        } = chunk(&files, budget, DEFAULT_MAX_CHUNKS);
        assert!(over_budget.is_empty());
        assert_eq!(lines_truncated, 0);
        assert!(chunks.len() >= 3, "{}", chunks.len());
        for c in &chunks {
            assert!(
                estimate_tokens(&c.text) <= budget,
                "chunk {} has {} tokens",
                c.index,
                estimate_tokens(&c.text)
            );
            assert!(c.text.starts_with("diff --git "), "{}", &c.text[..40]);
            // Every piece re-parses to hunks whose line counts match their headers.
            let re = parse(c.text.as_bytes());
            for f in &re.files {
                for h in &f.hunks {
                    let new = h
                        .lines
                        .iter()
                        .filter(|l| !l.starts_with('-') && !l.starts_with('\\'))
                        .count();
                    let old = h
                        .lines
                        .iter()
                        .filter(|l| !l.starts_with('+') && !l.starts_with('\\'))
                        .count();
                    assert_eq!(new as u32, h.new_len, "{}", h.header());
                    assert_eq!(old as u32, h.old_len, "{}", h.header());
                }
            }
        }
        // Every added line of the input appears in exactly one chunk.
        let added: Vec<&String> = files[0]
            .hunks
            .iter()
            .flat_map(|h| &h.lines)
            .filter(|l| l.starts_with('+'))
            .collect();
        for l in added.iter().take(50) {
            let n = chunks
                .iter()
                .filter(|c| c.text.lines().any(|x| x == l.as_str()))
                .count();
            assert!(n >= 1, "{l} lost");
        }
    }

    #[test]
    fn small_files_share_a_chunk_and_the_chunk_limit_lists_the_rest() {
        let mut text = String::new();
        for i in 0..5 {
            let _ = write!(
                text,
                "diff --git a/f{i}.rs b/f{i}.rs\n--- a/f{i}.rs\n+++ b/f{i}.rs\n@@ -1 +1 @@\n-a\n+b\n"
            );
        }
        let d = parse(text.as_bytes());
        let files: Vec<&FileDiff> = d.files.iter().collect();
        let chunks = chunk(&files, 10_000, DEFAULT_MAX_CHUNKS).chunks;
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].files.len(), 5);

        let mut big = String::new();
        for i in 0..13 {
            let _ = write!(
                big,
                "diff --git a/g{i}.rs b/g{i}.rs\n--- a/g{i}.rs\n+++ b/g{i}.rs\n@@ -1 +1 @@\n-{}\n+{}\n",
                "a".repeat(150),
                "b".repeat(150)
            );
        }
        let d = parse(big.as_bytes());
        let files: Vec<&FileDiff> = d.files.iter().collect();
        let out = chunk(&files, 150, 10);
        assert_eq!(out.chunks.len(), 10);
        assert_eq!(out.over_budget.len(), 3);
        assert_eq!(out.over_budget[0].reason, SkipReason::TooLarge(10));
        assert!(
            out.over_budget[0]
                .reason
                .to_string()
                .contains("[review] max_chunks = 10")
        );
    }

    #[test]
    fn cut_lines_are_counted_in_the_chunks_that_carry_them() {
        let long = "x".repeat(5000);
        let text = format!(
            "diff --git a/min.txt b/min.txt\n--- a/min.txt\n+++ b/min.txt\n@@ -1,3 +1,3 @@\n-a\n+{long}\n {long}\n+b\n"
        );
        let d = parse(text.as_bytes());
        let files: Vec<&FileDiff> = d.files.iter().collect();
        let out = chunk(&files, 300, DEFAULT_MAX_CHUNKS);
        assert_eq!(out.lines_truncated, 2, "{:#?}", out.chunks);
        let marked: usize = out
            .chunks
            .iter()
            .map(|c| c.text.matches("[line truncated by aiw]").count())
            .sum();
        assert_eq!(marked, 2);
        // Over the budget, the cut lines of dropped parts are not counted.
        let out = chunk(&files, 300, 1);
        let marked: usize = out
            .chunks
            .iter()
            .map(|c| c.text.matches("[line truncated by aiw]").count())
            .sum();
        assert_eq!(out.lines_truncated, marked);
        assert_eq!(out.over_budget.len(), 1);
    }

    #[test]
    fn blank_input_is_an_empty_diff_not_garbage() {
        assert!(is_blank(b""));
        assert!(is_blank(b" \n\t\r\n"));
        assert!(!is_blank(b"\x00\xff"));
        assert!(!is_blank(b"hello"));
    }

    #[tokio::test]
    async fn an_endless_diff_file_is_refused_at_the_size_limit() {
        let limits = ReadLimits {
            max_bytes: 1 << 20,
            deadline: None,
        };
        let err = gather(&DiffSource::File("/dev/zero".into()), &|_| None, limits)
            .await
            .err()
            .expect("an error");
        let msg = format!("{err:#}");
        assert!(msg.contains("larger than the 1 MiB limit"), "{msg}");
        assert!(msg.contains("[limits] diff"), "{msg}");
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_silent_pipe_is_given_up_at_the_deadline() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs");
        assert!(made.success());
        let limits = ReadLimits {
            max_bytes: 1 << 20,
            deadline: Some(tokio::time::Instant::now() + std::time::Duration::from_millis(100)),
        };
        // Nobody ever opens the FIFO for writing: opening it blocks forever.
        let err = gather(&DiffSource::File(fifo), &|_| None, limits)
            .await
            .err()
            .expect("an error");
        let msg = format!("{err:#}");
        assert!(msg.contains("did not finish within the --timeout"), "{msg}");
    }

    #[test]
    fn ci_base_prefers_gitlab_sha_then_github_ref() {
        let env = |k: &str| match k {
            "CI_MERGE_REQUEST_DIFF_BASE_SHA" => Some("abc123".to_string()),
            "GITHUB_BASE_REF" => Some("main".to_string()),
            _ => None,
        };
        assert_eq!(ci_base(&env).as_deref(), Some("abc123"));
        let none = |_: &str| None;
        assert_eq!(ci_base(&none), None);
        let empty = |_: &str| Some(String::new());
        assert_eq!(ci_base(&empty), None);
    }
}
