//! Splitting the reviewed files into chunks that fit a token budget: whole files together
//! while they fit, a big file per hunk, a big hunk per slice of lines with a recomputed `@@`
//! header, an enormous line cut (and counted), at most `max_chunks` chunks.

use super::{FileDiff, Hunk, SkipReason, Skipped};

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

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::super::{fixture, parse};
    use super::*;

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
}
