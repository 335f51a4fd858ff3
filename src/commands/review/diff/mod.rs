//! The change under review as data: a parsed diff ([`Diff`]) of files ([`FileDiff`]) and
//! hunks ([`Hunk`]) with the queries the review asks of it (which lines a hunk adds, whether
//! a range is covered, where to anchor a review-wide message). Parsing, deciding what is
//! skipped, chunking and gathering the diff live in the submodules below.

mod chunk;
mod gather;
mod parse;
mod skip;

use std::fmt::Write as _;

use serde::Serialize;

pub use chunk::{Chunk, Chunked, DEFAULT_MAX_CHUNKS, chunk, estimate_tokens};
pub use gather::{DiffSource, Gathered, ReadLimits, ci_base, gather, is_blank};
pub use parse::{parse, unquote};
pub use skip::{DEFAULT_EXCLUDES, FileFilter, SkipReason, Skipped};

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

/// A diff from `tests/fixtures/diffs` (for the submodules' tests).
#[cfg(test)]
fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diffs")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
