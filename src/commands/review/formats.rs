//! Every output of `aiw review`, rendered from one [`Report`]: human text and markdown, the
//! JSON report, SARIF 2.1.0, reviewdog rdjson, GitLab Code Quality, GitHub workflow
//! annotations (escaped, most severe first, within the per-step caps), the job summary for
//! `GITHUB_STEP_SUMMARY` (under 1 MiB) and the step outputs for `GITHUB_OUTPUT`; plus writing
//! report files (atomically, regular files only) and appending to the GitHub files.
//!
//! See: ../../../../shared/reference/ci-formats.md (limits) and the issue 6 spec.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::findings::Severity;
use super::report::{Report, SKIP_MESSAGE, Status};

/// GitHub shows at most this many error annotations per step (and as many warnings).
pub const GITHUB_CAP_PER_LEVEL: usize = 10;
/// `GITHUB_STEP_SUMMARY` uploads over 1 MiB fail; stay well below.
pub const SUMMARY_LIMIT: usize = 1_000_000;
/// The SARIF rule every finding is reported under (the level carries the severity).
pub const SARIF_RULE: &str = "aiw-review";
const VERSION: &str = env!("CARGO_PKG_VERSION");

// ---------------------------------------------------------------------------------------
// Human text and markdown

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
fn outside_line(f: &super::report::Reported) -> String {
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

// ---------------------------------------------------------------------------------------
// JSON

/// The `--json` report.
pub fn json(report: &Report) -> Value {
    json!({
        "tool": "aiw review",
        "version": VERSION,
        "status": report.status.word(),
        "status_reason": match &report.status {
            Status::Complete => None,
            Status::Partial(r)
            | Status::Unavailable(r)
            | Status::NothingToReview(r)
            | Status::Wrapped(r) => Some(r),
        },
        "message": report.is_skipped().then_some(SKIP_MESSAGE),
        "partial": report.is_partial(),
        "skipped": report.is_skipped(),
        "degraded": report.degraded,
        "model": report.models.first(),
        "models": report.models,
        "route": report.route,
        "description": report.description,
        "banner": report.banner(),
        "counts": {
            "error": report.count(Severity::Error),
            "warning": report.count(Severity::Warning),
            "note": report.count(Severity::Note),
        },
        "findings": report.findings,
        "outside_findings": report.outside,
        "skipped_files": report.skipped_files.iter().map(|s| json!({
            "path": s.path,
            "reason": s.reason.to_string(),
            "kind": s.reason,
        })).collect::<Vec<_>>(),
        "chunks": report.chunks,
        "coverage": report.coverage,
        "parts": report.parts,
        "rejected_keys": report.rejected,
        "notes": report.notes,
        "wrapped": report.wrapped,
        "queued_job": report.queued_job,
    })
}

// ---------------------------------------------------------------------------------------
// SARIF 2.1.0

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Percent-encodes a relative path for a SARIF `uri` (RFC 3986: keep unreserved and `/`).
pub fn uri_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// SARIF 2.1.0 with one run, one rule, one result per finding. `partialFingerprints` come
/// from the file, title and code (not line numbers), so code scanning keeps one alert per
/// problem across runs. Skipped, partial and degraded runs say so in
/// `invocations[0].toolExecutionNotifications` and `runs[0].properties`.
pub fn sarif(report: &Report) -> Value {
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let x = &f.finding;
            let uri = uri_encode(&x.file);
            let mut r = json!({
                "ruleId": SARIF_RULE,
                "ruleIndex": 0,
                "level": sarif_level(x.severity),
                "message": { "text": format!("{}\n\n{}", x.title, x.explanation).trim_end().to_string() },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": x.start_line, "endLine": x.end_line }
                    }
                }],
                "partialFingerprints": { "aiwFindingHash/v1": f.fingerprint },
                "properties": { "title": x.title, "inDiff": f.in_diff, "model": f.model },
            });
            if let Some(sugg) = &x.suggestion {
                r["fixes"] = json!([{
                    "description": { "text": "Suggested replacement" },
                    "artifactChanges": [{
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "replacements": [{
                            "deletedRegion": { "startLine": x.start_line, "endLine": x.end_line },
                            "insertedContent": { "text": format!("{}\n", sugg.trim_end_matches('\n')) }
                        }]
                    }]
                }]);
            }
            r
        })
        .collect();
    let notifications: Vec<Value> = report
        .banner()
        .into_iter()
        .chain(report.notes.iter().cloned())
        .map(|t| {
            let level = if report.is_skipped() || report.is_partial() || report.degraded {
                "warning"
            } else {
                "note"
            };
            json!({ "level": level, "message": { "text": t } })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "aiw",
                "version": VERSION,
                "semanticVersion": VERSION,
                "rules": [{
                    "id": SARIF_RULE,
                    "name": "AiCodeReview",
                    "shortDescription": { "text": "AI code review finding" },
                    "fullDescription": { "text": "A problem found by an AI model reviewing the change; see the message for the details and the model that found it." },
                    "defaultConfiguration": { "level": "warning" },
                    "help": { "text": "Review the finding; it was produced by a language model and may be wrong." }
                }]
            }},
            "automationDetails": { "id": "aiw-review/" },
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The repository root." } } },
            "invocations": [{
                "executionSuccessful": matches!(report.status, Status::Complete | Status::NothingToReview(_) | Status::Wrapped(_)),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "status": report.status.word(),
                "partial": report.is_partial(),
                "skipped": report.is_skipped(),
                "degraded": report.degraded,
                "models": report.models,
                "coverage": report.coverage,
            }
        }]
    })
}

// ---------------------------------------------------------------------------------------
// reviewdog rdjson

fn rdjson_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Note => "INFO",
    }
}

/// reviewdog Diagnostic Format (rdjson), for `reviewdog -f=rdjson`. Suggestions replace the
/// whole lines `start..=end` (a line-only range). A skipped or partial review adds one
/// WARNING diagnostic that says so.
pub fn rdjson(report: &Report) -> Value {
    let mut diags: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let x = &f.finding;
            let range = json!({ "start": { "line": x.start_line }, "end": { "line": x.end_line } });
            let mut d = json!({
                "message": format!("{}\n\n{}", x.title, x.explanation).trim_end().to_string(),
                "location": { "path": x.file, "range": range },
                "severity": rdjson_severity(x.severity),
                "source": { "name": format!("aiw ({})", f.model) },
                "code": { "value": SARIF_RULE },
            });
            if let Some(sugg) = &x.suggestion {
                d["suggestions"] = json!([{ "range": range, "text": sugg }]);
            }
            d
        })
        .collect();
    if let Some(msg) = status_message(report)
        && let Some((path, line)) = status_anchor(report)
    {
        diags.insert(
            0,
            json!({
                "message": msg,
                "location": { "path": path, "range": { "start": { "line": line } } },
                "severity": "WARNING",
                "source": { "name": "aiw" },
                "code": { "value": "aiw-review-status" },
            }),
        );
    }
    json!({
        "source": { "name": "aiw" },
        "severity": "WARNING",
        "diagnostics": diags,
    })
}

/// The one-paragraph status for formats without a place for a banner: skipped, partial or
/// degraded; `None` for a normal complete review.
fn status_message(report: &Report) -> Option<String> {
    (report.is_skipped() || report.is_partial() || report.degraded)
        .then(|| report.banner().join(" "))
}

/// Where a review-wide status item goes: a line inside the change, else the first finding;
/// `None` (no status item) when the review has neither, as an item on `.` is filtered out.
fn status_anchor(report: &Report) -> Option<(String, u32)> {
    report.anchor.clone().or_else(|| {
        report
            .findings
            .first()
            .map(|f| (f.finding.file.clone(), f.finding.start_line))
    })
}

// ---------------------------------------------------------------------------------------
// GitLab Code Quality

fn gitlab_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Note => "info",
    }
}

/// GitLab Code Quality report: an array of `{description, check_name, fingerprint,
/// severity, location: {path, lines: {begin, end}}}`. Fingerprints are unique within the
/// report (a repeat gets a suffix before hashing) because GitLab collapses duplicates.
pub fn gitlab(report: &Report) -> Value {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Value> = Vec::new();
    let mut unique = |base: &str| -> String {
        let mut fp = base.to_string();
        let mut n = 1;
        while !seen.insert(fp.clone()) {
            fp = super::report::fingerprint(base, &n.to_string(), "");
            n += 1;
        }
        fp
    };
    if let Some(msg) = status_message(report)
        && let Some((path, line)) = status_anchor(report)
    {
        let fp = unique(&super::report::fingerprint(
            "aiw-review-status",
            report.status.word(),
            &report.description,
        ));
        out.push(json!({
            "description": msg,
            "check_name": "aiw-review-status",
            "fingerprint": fp,
            "severity": "info",
            "location": { "path": path, "lines": { "begin": line } },
        }));
    }
    for f in &report.findings {
        let x = &f.finding;
        out.push(json!({
            "description": format!("{}: {}", x.title, x.explanation).trim_end_matches(": ").to_string(),
            "check_name": SARIF_RULE,
            "fingerprint": unique(&f.fingerprint),
            "severity": gitlab_severity(x.severity),
            "location": { "path": x.file, "lines": { "begin": x.start_line, "end": x.end_line } },
        }));
    }
    Value::Array(out)
}

// ---------------------------------------------------------------------------------------
// GitHub Actions

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
fn annotated_set(report: &Report) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..report.findings.len())
        .filter(|&i| report.findings[i].in_diff)
        .collect();
    idx.sort_by(|&a, &b| {
        super::findings::Finding::report_order(
            &report.findings[a].finding,
            &report.findings[b].finding,
        )
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

// ---------------------------------------------------------------------------------------
// Files

/// Writes a report file atomically (creating its directory): a regular file only, never
/// through a symbolic link or into a device (see [`crate::files::write_atomic`]).
pub fn write_report(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    crate::files::write_atomic(path, bytes, crate::files::Access::Public)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Appends `text` to a file GitHub gave us (`GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`).
pub fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::files::append(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Pretty JSON with a final newline.
pub fn to_pretty(v: &Value) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    b
}

#[cfg(test)]
mod tests {
    use super::super::findings::Finding;
    use super::super::report::Reported;
    use super::super::report::tests::{finding, sample};
    use super::*;

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

    #[test]
    fn json_fields() {
        let (r, _) = sample();
        let j = json(&r);
        assert_eq!(j["status"], "complete");
        assert_eq!(j["partial"], false);
        assert_eq!(j["skipped"], false);
        assert_eq!(j["degraded"], false);
        assert_eq!(j["model"], "anthropic/claude-sonnet-4-6");
        assert_eq!(j["counts"]["error"], 1);
        assert_eq!(j["counts"]["note"], 1);
        let f = &j["findings"][0];
        assert_eq!(f["file"], "src/a.rs");
        assert_eq!(f["start_line"], 2);
        assert_eq!(f["end_line"], 2);
        assert_eq!(f["severity"], "error");
        assert_eq!(f["title"], "unwrap may panic");
        assert_eq!(f["explanation"], "explanation of unwrap may panic");
        assert_eq!(f["suggestion"], Value::Null);
        assert_eq!(f["in_diff"], true);
        assert_eq!(f["fingerprint"].as_str().map(str::len), Some(64));
        assert_eq!(f["model"], "anthropic/claude-sonnet-4-6");
        assert_eq!(j["findings"][2]["in_diff"], false);
        assert_eq!(j["skipped_files"][0]["path"], "logo.png");
        assert_eq!(j["skipped_files"][0]["reason"], "binary file");
        assert_eq!(j["skipped_files"][0]["kind"]["kind"], "binary");
        assert_eq!(j["chunks"]["total"], 1);
        assert!(
            j["banner"][0]
                .as_str()
                .is_some_and(|b| b.starts_with("Reviewed by"))
        );
    }

    /// Structural checks beyond the schema (which `sarif_output_validates_against_the_oasis_schema`
    /// applies): `ruleIndex` points at the `ruleId`, `endLine >= startLine`, and URIs are
    /// encoded (the draft-04 schema's `uri-reference` format is not checked by validators).
    fn validate_sarif(v: &Value) {
        assert_eq!(v["version"], "2.1.0");
        assert!(
            v["$schema"]
                .as_str()
                .is_some_and(|s| s.contains("sarif-2.1.0"))
        );
        let runs = v["runs"].as_array().expect("runs is an array");
        assert!(!runs.is_empty());
        for run in runs {
            let driver = &run["tool"]["driver"];
            assert!(driver["name"].as_str().is_some_and(|s| !s.is_empty()));
            let rules = driver["rules"].as_array().expect("rules");
            for rule in rules {
                assert!(rule["id"].is_string());
            }
            for inv in run["invocations"].as_array().expect("invocations") {
                assert!(
                    inv["executionSuccessful"].is_boolean(),
                    "required by the schema"
                );
                for n in inv["toolExecutionNotifications"].as_array().expect("array") {
                    assert!(n["message"]["text"].is_string());
                    assert!(
                        ["none", "note", "warning", "error"]
                            .contains(&n["level"].as_str().unwrap_or(""))
                    );
                }
            }
            for r in run["results"].as_array().expect("results") {
                assert!(r["message"]["text"].as_str().is_some_and(|s| !s.is_empty()));
                let id = r["ruleId"].as_str().expect("ruleId");
                let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
                assert_eq!(rules[idx]["id"].as_str(), Some(id));
                assert!(
                    ["none", "note", "warning", "error"]
                        .contains(&r["level"].as_str().unwrap_or(""))
                );
                for loc in r["locations"].as_array().expect("locations") {
                    let pl = &loc["physicalLocation"];
                    let uri = pl["artifactLocation"]["uri"].as_str().expect("uri");
                    assert!(!uri.contains(' ') && !uri.starts_with('/'), "{uri}");
                    let start = pl["region"]["startLine"].as_u64().expect("startLine");
                    assert!(start >= 1);
                    let end = pl["region"]["endLine"].as_u64().unwrap_or(start);
                    assert!(end >= start);
                }
                let fp = r["partialFingerprints"]
                    .as_object()
                    .expect("partialFingerprints");
                assert!(fp.values().all(Value::is_string));
                if let Some(fixes) = r.get("fixes") {
                    for fix in fixes.as_array().expect("fixes") {
                        for ch in fix["artifactChanges"].as_array().expect("artifactChanges") {
                            assert!(ch["artifactLocation"]["uri"].is_string());
                            for rep in ch["replacements"].as_array().expect("replacements") {
                                assert!(rep["deletedRegion"]["startLine"].as_u64().is_some());
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn sarif_fields_and_structure() {
        let (mut r, _) = sample();
        r.findings[0].finding.suggestion = Some("let x = y?;".into());
        r.findings[1].finding.file = "dir with space/ü.rs".into();
        let v = sarif(&r);
        validate_sarif(&v);
        let res = &v["runs"][0]["results"];
        assert_eq!(res.as_array().map(Vec::len), Some(3));
        assert_eq!(res[0]["level"], "error");
        assert_eq!(res[0]["ruleId"], SARIF_RULE);
        assert_eq!(
            res[0]["message"]["text"],
            "unwrap may panic\n\nexplanation of unwrap may panic"
        );
        assert_eq!(
            res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "src/a.rs"
        );
        assert_eq!(
            res[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            2
        );
        assert_eq!(
            res[0]["partialFingerprints"]["aiwFindingHash/v1"],
            r.findings[0].fingerprint.as_str()
        );
        assert_eq!(
            res[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
            "let x = y?;\n"
        );
        assert_eq!(
            res[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "dir%20with%20space/%C3%BC.rs"
        );
        assert_eq!(res[2]["level"], "note");
        assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
        assert_eq!(v["runs"][0]["properties"]["degraded"], false);

        // Stable across runs even when lines move.
        let (mut r2, _) = sample();
        r2.findings[0].finding.start_line = 2;
        assert_eq!(
            sarif(&r2)["runs"][0]["results"][0]["partialFingerprints"],
            res[0]["partialFingerprints"]
        );
    }

    #[test]
    fn sarif_for_a_skipped_review_is_valid_and_says_so() {
        let r = Report::new(
            Status::Unavailable("anthropic/x (overloaded)".into()),
            "d",
            vec![],
        );
        let v = sarif(&r);
        validate_sarif(&v);
        assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);
        let n = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(n["level"], "warning");
        assert!(
            n["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with(SKIP_MESSAGE))
        );
        assert_eq!(v["runs"][0]["properties"]["skipped"], true);
    }

    /// The official OASIS SARIF 2.1.0 schema (errata 01), vendored unmodified; where it came
    /// from is in `tests/fixtures/sarif/README.md`.
    const SARIF_SCHEMA: &str =
        include_str!("../../../tests/fixtures/sarif/sarif-schema-2.1.0.json");

    fn sarif_schema() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("the schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles")
    }

    /// Every place `log` breaks the schema, one per line (empty when it is valid).
    fn schema_errors(validator: &jsonschema::Validator, log: &Value) -> String {
        let mut out = String::new();
        for e in validator.iter_errors(log) {
            let _ = writeln!(out, "{}: {e}", e.instance_path());
        }
        out
    }

    /// Reports in every state the command can write: complete with findings of each
    /// severity (suggestions, a finding outside the diff, a path that needs encoding, a
    /// multi-line range), partial and degraded with notes, skipped, and nothing to review.
    fn representative_reports() -> Vec<(&'static str, Report)> {
        let (base, diff) = sample();
        let m = "anthropic/claude-sonnet-4-6";
        let fb = "local/smollm2-135m";
        let mut complete = base.clone();
        let mut extra = vec![
            Reported::new(
                finding("src/a.rs", 1, Severity::Error, "second error"),
                &diff,
                m,
            ),
            Reported::new(
                finding("src/a.rs", 3, Severity::Warning, "second warning"),
                &diff,
                m,
            ),
            Reported::new(finding("src/a.rs", 2, Severity::Note, "a note"), &diff, m),
            Reported::new(
                finding("dir with space/ü#?.rs", 7, Severity::Warning, "odd path"),
                &diff,
                m,
            ),
        ];
        extra[0].finding.end_line = 3;
        extra[0].finding.suggestion =
            Some("fn a() -> Result<(), E> {\n    let x = y?;\n}\n".into());
        extra[2].finding.explanation = String::new();
        complete.findings[0].finding.suggestion = Some("let x = y?;".into());
        complete.findings[2].finding.suggestion = Some(String::new());
        complete.findings.append(&mut extra);

        let mut partial = complete.clone();
        partial.status = Status::Partial("1 of 3 chunks not reviewed (timeout)".into());
        partial.degraded = true;
        partial.models = vec![m.into(), fb.into()];
        partial.chunks.total = 3;
        partial.findings[1].model = fb.into();
        partial.notes = vec![
            "anthropic/claude-sonnet-4-6 was overloaded; local/smollm2-135m reviewed src/a.rs"
                .into(),
            "the answer for chunk 3 was not readable JSON".into(),
        ];

        let mut degraded = complete.clone();
        degraded.degraded = true;
        degraded.models = vec![fb.into()];
        degraded.notes = vec!["reviewed by the local fallback".into()];

        let mut skipped = Report::new(
            Status::Unavailable("anthropic/claude-sonnet-4-6 (overloaded)".into()),
            "diff from test.diff",
            base.route.clone(),
        );
        skipped.notes = vec!["anthropic/claude-sonnet-4-6: 529 overloaded".into()];
        let empty = Report::new(
            Status::NothingToReview("the diff is empty".into()),
            "diff from test.diff",
            base.route.clone(),
        );
        vec![
            ("complete", complete),
            ("partial", partial),
            ("degraded", degraded),
            ("skipped", skipped),
            ("empty", empty),
        ]
    }

    #[test]
    fn sarif_output_validates_against_the_oasis_schema() {
        let validator = sarif_schema();
        for (name, report) in representative_reports() {
            let log = sarif(&report);
            let errors = schema_errors(&validator, &log);
            assert!(errors.is_empty(), "{name} report:\n{errors}");
            validate_sarif(&log);
        }
        // The check has teeth: the same schema rejects what a slip in `sarif` would write.
        let (r, _) = sample();
        for (pointer, bad) in [
            ("/runs/0/results/0/level", json!("critical")),
            (
                "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
                json!(0),
            ),
            ("/runs/0/invocations/0/executionSuccessful", Value::Null),
            ("/runs/0/tool/driver/name", json!(7)),
        ] {
            let mut log = sarif(&r);
            *log.pointer_mut(pointer).expect("present") = bad;
            assert!(
                !schema_errors(&validator, &log).is_empty(),
                "the schema accepted a bad {pointer}"
            );
        }
        let mut log = sarif(&r);
        log["runs"][0]["results"][0]["unknownProperty"] = json!(1);
        assert!(!schema_errors(&validator, &log).is_empty());
    }

    #[test]
    fn rdjson_fields() {
        let (mut r, _) = sample();
        r.findings[1].finding.suggestion = Some("/// docs".into());
        let v = rdjson(&r);
        assert_eq!(v["source"]["name"], "aiw");
        let d = &v["diagnostics"];
        assert_eq!(d.as_array().map(Vec::len), Some(3));
        assert_eq!(d[0]["severity"], "ERROR");
        assert_eq!(d[0]["location"]["path"], "src/a.rs");
        assert_eq!(d[0]["location"]["range"]["start"]["line"], 2);
        assert_eq!(d[0]["location"]["range"]["end"]["line"], 2);
        assert_eq!(
            d[0]["message"],
            "unwrap may panic\n\nexplanation of unwrap may panic"
        );
        assert_eq!(d[0]["source"]["name"], "aiw (anthropic/claude-sonnet-4-6)");
        assert_eq!(d[0]["code"]["value"], SARIF_RULE);
        assert_eq!(d[1]["severity"], "WARNING");
        assert_eq!(d[1]["suggestions"][0]["text"], "/// docs");
        assert_eq!(d[1]["suggestions"][0]["range"]["start"]["line"], 3);
        assert_eq!(d[2]["severity"], "INFO");

        let mut skipped = Report::new(Status::Unavailable("down".into()), "d", vec![]);
        skipped.skipped_files = r.skipped_files.clone();
        // No line of the change to attach it to: no status item (one on `.` is filtered out).
        assert_eq!(rdjson(&skipped)["diagnostics"], json!([]));
        skipped.anchor = Some(("src/a.rs".into(), 2));
        let v = rdjson(&skipped);
        assert_eq!(v["diagnostics"][0]["severity"], "WARNING");
        assert_eq!(v["diagnostics"][0]["location"]["path"], "src/a.rs");
        assert_eq!(v["diagnostics"][0]["location"]["range"]["start"]["line"], 2);
        assert!(
            v["diagnostics"][0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(SKIP_MESSAGE))
        );
    }

    #[test]
    fn gitlab_fields_and_unique_fingerprints() {
        let (mut r, diff) = sample();
        // Two identical findings on different lines share a base fingerprint.
        let dup = super::super::report::Reported::new(
            finding("src/other.rs", 40, Severity::Note, "outside"),
            &diff,
            "m",
        );
        r.findings.push(dup);
        let v = gitlab(&r);
        let a = v.as_array().expect("array");
        assert_eq!(a.len(), 4);
        assert_eq!(a[0]["severity"], "critical");
        assert_eq!(a[1]["severity"], "major");
        assert_eq!(a[2]["severity"], "info");
        assert_eq!(a[0]["check_name"], SARIF_RULE);
        assert_eq!(
            a[0]["description"],
            "unwrap may panic: explanation of unwrap may panic"
        );
        assert_eq!(a[0]["location"]["path"], "src/a.rs");
        assert_eq!(a[0]["location"]["lines"]["begin"], 2);
        assert_eq!(a[0]["location"]["lines"]["end"], 2);
        let fps: std::collections::HashSet<&str> =
            a.iter().filter_map(|x| x["fingerprint"].as_str()).collect();
        assert_eq!(fps.len(), 4, "fingerprints must be unique");
        for sev in a.iter().map(|x| x["severity"].as_str().unwrap_or("")) {
            assert!(["info", "minor", "major", "critical", "blocker"].contains(&sev));
        }

        let mut skipped = Report::new(Status::Unavailable("down".into()), "d", vec![]);
        skipped.anchor = Some(("src/a.rs".into(), 1));
        let s = gitlab(&skipped);
        assert_eq!(s[0]["check_name"], "aiw-review-status");
        assert_eq!(s[0]["location"]["path"], "src/a.rs");
        assert!(
            s[0]["description"]
                .as_str()
                .is_some_and(|m| m.starts_with(SKIP_MESSAGE))
        );
        assert_eq!(s[0]["location"]["lines"]["begin"], 1);
    }

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
                r.findings.push(super::super::report::Reported {
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
        r.findings.push(super::super::report::Reported::new(
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
    fn report_files_replace_atomically_and_appends_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/out.json");
        write_report(&p, b"one").expect("write");
        write_report(&p, b"two").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .expect("dir")
            .collect();
        assert_eq!(names.len(), 1);
        append(&dir.path().join("s.md"), "a").expect("append");
        append(&dir.path().join("s.md"), "b").expect("append");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("s.md")).expect("read"),
            "ab"
        );
    }
}
