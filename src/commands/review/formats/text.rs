//! The human outputs: the plain-text report for the terminal, and the markdown summary
//! (`--markdown`, the GitHub job summary, the body of the PR comment and MR note), kept
//! under [`SUMMARY_LIMIT`] bytes.

use std::fmt::Write as _;

use super::super::report::{Report, Reported};
use super::github::annotated_set;

/// `GITHUB_STEP_SUMMARY` uploads over 1 MiB fail; stay well below.
pub const SUMMARY_LIMIT: usize = 1_000_000;

/// Plain text for the terminal (or markdown with `markdown`).
pub fn text(report: &Report, markdown: bool) -> String {
    if markdown {
        return summary(report);
    }
    let mut s = String::new();
    for line in report.banner() {
        let _ = writeln!(s, "aiw review: {line}");
    }
    if !report.findings.is_empty() {
        s.push('\n');
    }
    for f in &report.findings {
        let x = &f.finding;
        let lines = if x.end_line > x.start_line {
            format!("{}-{}", x.start_line, x.end_line)
        } else {
            x.start_line.to_string()
        };
        let outside = if f.in_diff { "" } else { " (outside the diff)" };
        let _ = writeln!(
            s,
            "{}:{lines}: {}: {}{outside}",
            x.file,
            x.severity.as_str(),
            x.title
        );
        for l in x.explanation.lines() {
            let _ = writeln!(s, "    {l}");
        }
        if let Some(sugg) = &x.suggestion {
            s.push_str("    suggested replacement:\n");
            for l in sugg.lines() {
                let _ = writeln!(s, "    | {l}");
            }
        }
    }
    if !report.outside.is_empty() {
        let _ = writeln!(s, "\nOutside the change (not counted toward --fail-on):");
        for f in &report.outside {
            let _ = writeln!(s, "{}", outside_line(f));
        }
    }
    for n in &report.notes {
        let _ = writeln!(s, "aiw review: note: {n}");
    }
    s
}

/// `path:line: severity: title (why)` for a finding outside the change.
fn outside_line(f: &Reported) -> String {
    let x = &f.finding;
    format!(
        "{}:{}: {}: {} ({})",
        x.file,
        x.start_line,
        x.severity.as_str(),
        x.title,
        f.outside.as_deref().unwrap_or("outside the change")
    )
}

/// Text on one markdown line: whitespace (newlines too) collapsed, `<` made harmless.
fn md_line(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('<', "&lt;")
}

/// A code fence longer than any backtick run in `text`.
pub fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    "`".repeat((longest + 1).max(3))
}

/// The GitHub job summary / `--markdown` output: banner, a findings list (suggestions in
/// fenced blocks; no HTML line breaks), findings outside the change, skipped files and notes,
/// kept under [`SUMMARY_LIMIT`] bytes. Findings over the annotation caps are marked.
pub fn summary(report: &Report) -> String {
    let mut s = String::from("## aiw review\n\n");
    let loud = report.is_skipped() || report.is_partial() || report.degraded;
    for line in report.banner() {
        if loud {
            let _ = writeln!(s, "> **{}**", md_line(&line));
        } else {
            let _ = writeln!(s, "> {}", md_line(&line));
        }
    }
    s.push('\n');
    let annotated = annotated_set(report);
    if !report.findings.is_empty() {
        s.push_str("### Findings\n\n");
        for (shown, (i, f)) in report.findings.iter().enumerate().enumerate() {
            let x = &f.finding;
            let mut loc = format!("{}:{}", md_line(&x.file).replace('`', "'"), x.start_line);
            if x.end_line > x.start_line {
                let _ = write!(loc, "-{}", x.end_line);
            }
            let mut item = format!("- **{}** `{loc}`", x.severity.as_str());
            if !f.in_diff {
                item.push_str(" (outside the diff)");
            } else if !annotated.contains(&i) {
                item.push_str(" (not annotated: GitHub's per-step limit)");
            }
            let _ = writeln!(item, ": **{}** ({})", md_line(&x.title), md_line(&f.model));
            for l in x.explanation.lines().filter(|l| !l.trim().is_empty()) {
                let _ = writeln!(item, "  {}", md_line(l));
            }
            if let Some(sugg) = &x.suggestion {
                let fence = fence_for(sugg);
                let _ = write!(
                    item,
                    "  <details><summary>Suggested replacement</summary>\n\n  {fence}\n"
                );
                for l in sugg.lines() {
                    let _ = writeln!(item, "  {l}");
                }
                let _ = write!(item, "  {fence}\n\n  </details>\n");
            }
            if s.len() + item.len() > SUMMARY_LIMIT - 2_000 {
                let _ = writeln!(
                    s,
                    "\n… {} more finding(s) not shown (summary size limit); see the JSON or SARIF output.",
                    report.findings.len() - shown
                );
                break;
            }
            s.push_str(&item);
        }
        s.push('\n');
    }
    if !report.outside.is_empty() {
        let _ = write!(
            s,
            "<details><summary>Outside the change: {} finding(s), not counted</summary>\n\n",
            report.outside.len()
        );
        for f in &report.outside {
            let line = format!("- {}\n", md_line(&outside_line(f)));
            if s.len() + line.len() > SUMMARY_LIMIT - 1_500 {
                s.push_str("- …\n");
                break;
            }
            s.push_str(&line);
        }
        s.push_str("\n</details>\n\n");
    }
    if !report.skipped_files.is_empty() {
        s.push_str("<details><summary>Skipped files</summary>\n\n");
        for f in &report.skipped_files {
            let line = format!("- `{}`: {}\n", md_line(&f.path).replace('`', "'"), f.reason);
            if s.len() + line.len() > SUMMARY_LIMIT - 1_000 {
                s.push_str("- …\n");
                break;
            }
            s.push_str(&line);
        }
        s.push_str("\n</details>\n\n");
    }
    for n in &report.notes {
        let line = format!("- note: {}\n", md_line(n));
        if s.len() + line.len() > SUMMARY_LIMIT - 200 {
            break;
        }
        s.push_str(&line);
    }
    s
}
#[cfg(test)]
mod tests {
    use super::super::super::report::tests::sample;
    use super::super::super::report::{SKIP_MESSAGE, Status};
    use super::*;

    #[test]
    fn summary_has_no_html_line_breaks() {
        let (mut r, _) = sample();
        r.findings[0].finding.explanation = "line one\nline two\r\nthree".into();
        r.findings[0].finding.suggestion = Some("let a = 1;\nlet b = ```x```;".into());
        r.notes.push("a note\nover two lines".into());
        let s = summary(&r);
        assert!(!s.contains("<br>"), "{s}");
        assert!(s.contains("  line two\n"), "{s}");
        assert!(
            s.contains("  ````\n  let a = 1;\n  let b = ```x```;\n  ````\n"),
            "{s}"
        );
        assert!(s.contains("- note: a note over two lines\n"), "{s}");
    }

    #[test]
    fn summary_is_capped_below_one_mebibyte() {
        let (mut r, _) = sample();
        let big = "x".repeat(10_000);
        let f = r.findings[0].clone();
        r.findings = (0..300)
            .map(|_| {
                let mut g = f.clone();
                g.finding.explanation = big.clone();
                g
            })
            .collect();
        let s = summary(&r);
        assert!(s.len() < SUMMARY_LIMIT, "{}", s.len());
        assert!(s.contains("more finding(s) not shown"));
        let skipped = summary(&Report::new(
            Status::Unavailable("down".into()),
            "d",
            vec![],
        ));
        assert!(
            skipped.contains(&format!("> **{SKIP_MESSAGE}.**")),
            "{skipped}"
        );
    }

    #[test]
    fn text_output_has_banner_findings_and_suggestion() {
        let (mut r, _) = sample();
        r.findings[0].finding.suggestion = Some("let x = y?;".into());
        let t = text(&r, false);
        assert!(
            t.starts_with("aiw review: Reviewed by anthropic/claude-sonnet-4-6.\n"),
            "{t}"
        );
        assert!(t.contains("src/a.rs:2: error: unwrap may panic\n    explanation of unwrap may panic\n    suggested replacement:\n    | let x = y?;\n"), "{t}");
        assert!(
            t.contains("src/other.rs:40: note: outside (outside the diff)"),
            "{t}"
        );
    }
}
