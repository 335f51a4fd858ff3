//! GitHub Actions output: workflow-command escaping (and defusing model text that would start
//! one), the line annotations (most severe first, within the per-step caps, status first),
//! and the step outputs for `GITHUB_OUTPUT`.

use std::fmt::Write as _;

use super::super::findings::{Finding, Severity};
use super::super::report::Report;
use super::status_message;

/// GitHub shows at most this many error annotations per step (and as many warnings).
pub const GITHUB_CAP_PER_LEVEL: usize = 10;

/// Makes text safe to print in GitHub Actions, where a line of stdout or stderr that starts
/// (after whitespace) with `::` or `##[` is a workflow command (`::stop-commands::`, a fake
/// `::error`, `::add-mask::`…): such a line gets a leading `\\`, so text from a model or a
/// file can never run one. Other lines are unchanged.
pub fn defuse_workflow_commands(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        // The runner trims Unicode whitespace, CR included, before it looks for a command.
        let t = line.trim_start();
        if t.starts_with("::") || t.starts_with("##[") {
            out.push_str(&line[..line.len() - t.len()]);
            out.push('\\');
            out.push_str(t);
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Escapes a workflow-command message: `%`, CR, LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow-command property value: as data, plus `:` and `,`.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Indices of the findings that get a line annotation: in the diff, most severe first, at
/// most [`GITHUB_CAP_PER_LEVEL`] per level (one warning slot goes to the status line when
/// the review is skipped, partial or degraded).
pub(super) fn annotated_set(report: &Report) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..report.findings.len())
        .filter(|&i| report.findings[i].in_diff)
        .collect();
    idx.sort_by(|&a, &b| {
        Finding::report_order(&report.findings[a].finding, &report.findings[b].finding)
    });
    let mut counts = [0usize; 3];
    if status_message(report).is_some() {
        counts[1] = 1;
    }
    idx.into_iter()
        .filter(|&i| {
            let k = report.findings[i].finding.severity as usize;
            counts[k] += 1;
            counts[k] <= GITHUB_CAP_PER_LEVEL
        })
        .collect()
}

/// Workflow command lines for stdout: first a `::warning::` with the status when the review
/// was skipped, partial or degraded, then `::error`/`::warning`/`::notice` per finding in the
/// diff, most severe first, within the caps. Findings left out are in the summary.
pub fn github_annotations(report: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(msg) = status_message(report) {
        let title = if report.is_skipped() {
            "aiw review skipped"
        } else if report.is_partial() {
            "aiw review partial"
        } else {
            "aiw review degraded"
        };
        out.push(format!(
            "::warning title={}::{}",
            escape_property(title),
            escape_data(&msg)
        ));
    }
    for i in annotated_set(report) {
        let f = &report.findings[i];
        let x = &f.finding;
        let cmd = match x.severity {
            Severity::Error if !f.advisory => "error",
            Severity::Error | Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut msg = x.explanation.clone();
        if let Some(sugg) = &x.suggestion {
            let _ = write!(msg, "\n\nSuggested replacement:\n{sugg}");
        }
        if f.advisory {
            let _ = write!(
                msg,
                "\n\n(advisory: from {}, a lower tier of the route; it cannot fail the step)",
                f.model
            );
        } else if report.degraded {
            let _ = write!(msg, "\n\n(reviewed by {}, a fallback model)", f.model);
        }
        out.push(format!(
            "::{cmd} file={},line={},endLine={},title={}::{}",
            escape_property(&x.file),
            x.start_line,
            x.end_line,
            escape_property(&x.title),
            escape_data(msg.trim())
        ));
    }
    out
}

/// Step outputs for `GITHUB_OUTPUT` in the `name<<DELIM` form, with a delimiter that does
/// not occur in any value: `degraded`, `model`, `findings`, `skipped`, `partial`, `status`,
/// and the coverage counts `files`, `files_reviewed`, `files_over_budget`, `lines_truncated`.
pub fn github_outputs(report: &Report) -> String {
    let pairs = [
        ("degraded", report.degraded.to_string()),
        ("model", report.model_list()),
        ("findings", report.findings.len().to_string()),
        ("skipped", report.is_skipped().to_string()),
        ("partial", report.is_partial().to_string()),
        ("status", report.status.word().to_string()),
        ("files", report.coverage.files.to_string()),
        ("files_reviewed", report.coverage.files_reviewed.to_string()),
        (
            "files_over_budget",
            report.coverage.files_over_budget.to_string(),
        ),
        (
            "lines_truncated",
            report.coverage.lines_truncated.to_string(),
        ),
    ];
    let mut s = String::new();
    for (k, v) in pairs {
        let delim = loop {
            let d = format!(
                "aiw_EOF_{}",
                std::iter::repeat_with(fastrand::alphanumeric)
                    .take(16)
                    .collect::<String>()
            );
            if !v.contains(&d) {
                break d;
            }
        };
        let _ = write!(s, "{k}<<{delim}\n{v}\n{delim}\n");
    }
    s
}
#[cfg(test)]
mod tests {
    use super::super::super::findings::Finding;
    use super::super::super::report::tests::{finding, sample};
    use super::super::super::report::{Reported, SKIP_MESSAGE, Status};
    use super::super::summary;
    use super::*;

    #[test]
    fn annotation_escaping() {
        assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
        assert_eq!(escape_property("a:b,c%\n"), "a%3Ab%2Cc%25%0A");
        let (mut r, _) = sample();
        r.findings.truncate(1);
        r.findings[0].finding.title = "bad: a, b".into();
        r.findings[0].finding.file = "src/a,b:c.rs".into();
        r.findings[0].finding.explanation = "line 1\nline 2 (100%)".into();
        let a = github_annotations(&r);
        assert_eq!(
            a,
            vec!["::error file=src/a%2Cb%3Ac.rs,line=2,endLine=2,title=bad%3A a%2C b::line 1%0Aline 2 (100%25)".to_string()]
        );
    }

    #[test]
    fn annotation_caps_order_and_status_line() {
        let (mut r, diff) = sample();
        r.findings.clear();
        for i in 0..15 {
            for sev in [Severity::Note, Severity::Warning, Severity::Error] {
                r.findings.push(Reported {
                    finding: Finding {
                        start_line: 2,
                        ..finding("src/a.rs", 2, sev, &format!("{sev:?} {i}"))
                    },
                    in_diff: true,
                    fingerprint: String::new(),
                    model: "m".into(),
                    advisory: false,
                    outside: None,
                });
            }
        }
        r.findings.push(Reported::new(
            finding("x.rs", 1, Severity::Error, "outside"),
            &diff,
            "m",
        ));
        let a = github_annotations(&r);
        let count = |p: &str| a.iter().filter(|l| l.starts_with(p)).count();
        assert_eq!(count("::error "), 10);
        assert_eq!(count("::warning "), 10);
        assert_eq!(count("::notice "), 10);
        assert!(a[0].starts_with("::error "), "most severe first");
        assert!(a[9].starts_with("::error ") && a[10].starts_with("::warning "));
        assert!(
            !a.iter().any(|l| l.contains("file=x.rs")),
            "outside the diff: summary only"
        );
        let s = summary(&r);
        assert!(s.contains("(not annotated: GitHub's per-step limit)"));
        assert!(s.contains("`x.rs:1` (outside the diff)"));

        r.degraded = true;
        let a = github_annotations(&r);
        assert!(
            a[0].starts_with("::warning title=aiw review degraded::"),
            "{}",
            a[0]
        );
        assert_eq!(
            count_in(&a, "::warning "),
            10,
            "status takes one warning slot"
        );
        let skipped = Report::new(Status::Unavailable("down".into()), "d", vec![]);
        let a = github_annotations(&skipped);
        assert_eq!(a.len(), 1);
        assert!(
            a[0].starts_with(&format!(
                "::warning title=aiw review skipped::{SKIP_MESSAGE}"
            )),
            "{}",
            a[0]
        );
    }

    #[test]
    fn workflow_commands_in_text_are_defused() {
        let t = "ok line\n::stop-commands::pwned\n   ::error file=a::fake\n\t##[set-output name=x]y\nsay ::x:: later\n::warning::last";
        let d = defuse_workflow_commands(t);
        for l in d.lines() {
            let l = l.trim_start();
            assert!(!l.starts_with("::") && !l.starts_with("##["), "{l}");
        }
        assert!(d.contains("\\::stop-commands::pwned\n"));
        assert!(d.contains("say ::x:: later\n"), "other lines are unchanged");
        assert_eq!(defuse_workflow_commands("a\nb\n"), "a\nb\n");
    }

    fn count_in(a: &[String], p: &str) -> usize {
        a.iter().filter(|l| l.starts_with(p)).count()
    }

    #[test]
    fn outputs_use_heredoc_delimiters() {
        let (mut report, _) = sample();
        report.degraded = true;
        let text = github_outputs(&report);
        let mut lines = text.lines();
        let mut seen = std::collections::BTreeMap::new();
        while let Some(head) = lines.next() {
            let (name, delim) = head.split_once("<<").expect("name<<delim");
            assert!(delim.starts_with("aiw_EOF_") && delim.len() == 24);
            let value = lines.next().expect("value");
            assert_eq!(lines.next(), Some(delim));
            seen.insert(name.to_string(), value.to_string());
        }
        assert_eq!(seen["degraded"], "true");
        assert_eq!(seen["model"], "anthropic/claude-sonnet-4-6");
        assert_eq!(seen["findings"], "3");
        assert_eq!(seen["skipped"], "false");
        assert_eq!(seen["status"], "complete");
        assert_eq!(seen["files_over_budget"], "0");
        assert!(seen.contains_key("files_reviewed") && seen.contains_key("lines_truncated"));
    }
}
