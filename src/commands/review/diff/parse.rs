//! Parsing unified diffs (`git diff` output or plain `diff -u`) into a [`Diff`]: file
//! headers, renames and copies, deletions, binary files, C-quoted paths, hunk headers, and
//! non-UTF-8 bytes decoded lossily. Pure: no I/O.

use super::{Diff, FileDiff, FileStatus, Hunk};

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

#[cfg(test)]
mod tests {
    use super::super::{FileFilter, SkipReason, fixture};
    use super::*;

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
}
