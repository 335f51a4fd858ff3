//! Inline review comments with ```` ```suggestion ```` blocks on GitHub, for findings in the
//! change that carry a fix: one `POST /repos/{o}/{r}/pulls/{n}/reviews` (event `COMMENT`) per
//! run with the comments not posted before. Each comment carries a hidden marker with the
//! finding's fingerprint, and the PR's review comments are listed first, so a re-run never
//! posts the same suggestion twice.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Target, client, list, read};
use crate::commands::review::diff::Diff;
use crate::commands::review::formats;
use crate::commands::review::report::{Report, Reported};
use crate::redact::Redactor;

/// Most inline suggestions one run posts (the rest stay in the summary).
pub const MAX_SUGGESTIONS: usize = 20;

/// The hidden marker of the suggestion for the finding with this fingerprint.
fn marker(fingerprint: &str) -> String {
    format!("<!-- aiw-suggestion:{fingerprint} -->")
}

/// The findings that get an inline suggestion: in the change, with a fix, their lines all
/// inside one hunk's new side (lines GitHub can comment on with `side: RIGHT`), at most
/// [`MAX_SUGGESTIONS`], most severe first (the report's order).
pub fn eligible<'a>(report: &'a Report, diff: &Diff) -> Vec<&'a Reported> {
    report
        .findings
        .iter()
        .filter(|f| f.in_diff && f.finding.suggestion.is_some())
        .filter(|f| {
            let x = &f.finding;
            diff.file(&x.file).is_some_and(|file| {
                !file.binary
                    && file.new_path.is_some()
                    && file.hunks.iter().any(|h| {
                        h.new_range()
                            .is_some_and(|(a, b)| a <= x.start_line && x.end_line <= b)
                    })
            })
        })
        .take(MAX_SUGGESTIONS)
        .collect()
}

/// One inline comment of the review request.
fn comment(f: &Reported, redactor: &Redactor) -> Value {
    let x = &f.finding;
    let sugg = x.suggestion.as_deref().unwrap_or_default();
    let fence = formats::fence_for(sugg);
    let mut body = format!(
        "{}\n**{}: {}** ({})\n\n",
        marker(&f.fingerprint),
        x.severity.as_str(),
        x.title,
        f.model
    );
    if !x.explanation.trim().is_empty() {
        let _ = write!(body, "{}\n\n", x.explanation.trim());
    }
    let _ = write!(
        body,
        "{fence}suggestion\n{}\n{fence}\n",
        sugg.trim_end_matches('\n')
    );
    let body = redactor.scrub(&body).into_owned();
    let mut c = json!({ "path": x.file, "line": x.end_line, "side": "RIGHT", "body": body });
    if x.end_line > x.start_line {
        c["start_line"] = json!(x.start_line);
        c["start_side"] = json!("RIGHT");
    }
    c
}

/// Posts the suggestions not already on the PR. Returns a note saying how many were posted
/// (`None` when there was nothing to post).
pub(super) async fn post(
    target: &Target,
    report: &Report,
    diff: &Diff,
    redactor: &Redactor,
) -> anyhow::Result<Option<(String, bool)>> {
    let todo = eligible(report, diff);
    if todo.is_empty() {
        return Ok(None);
    }
    let client = client()?;
    let url = format!(
        "{}/repos/{}/pulls/{}/comments",
        target.api, target.project, target.number
    );
    let existing = list(target, &client, &url, "review comment").await?;
    let posted: HashSet<String> = existing
        .iter()
        .filter_map(|c| c["body"].as_str())
        .filter_map(|b| {
            let rest = &b[b.find("<!-- aiw-suggestion:")? + "<!-- aiw-suggestion:".len()..];
            Some(rest[..rest.find(" -->")?].to_string())
        })
        .collect();
    let new: Vec<&Reported> = todo
        .into_iter()
        .filter(|f| !posted.contains(&f.fingerprint))
        .collect();
    if new.is_empty() {
        return Ok(Some((
            format!(
                "the inline suggestions on {} were already posted",
                target.describe()
            ),
            false,
        )));
    }
    let mut review = json!({
        "event": "COMMENT",
        "body": format!("aiw review: {} suggested fix(es); the summary is in the review comment.", new.len()),
        "comments": new.iter().map(|f| comment(f, redactor)).collect::<Vec<_>>(),
    });
    if let Some(head) = &target.head {
        review["commit_id"] = json!(head);
    }
    let sent = target
        .request(
            &client,
            reqwest::Method::POST,
            &format!(
                "{}/repos/{}/pulls/{}/reviews",
                target.api, target.project, target.number
            ),
        )
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&review)?)
        .send()
        .await;
    read(target, sent, "post the inline suggestions").await?;
    Ok(Some((
        format!(
            "posted {} inline suggestion(s) on {}",
            new.len(),
            target.describe()
        ),
        false,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::review::report::tests::{finding, sample};

    #[test]
    fn only_findings_with_a_fix_inside_one_hunk_get_a_suggestion() {
        let (mut r, diff) = sample();
        assert!(eligible(&r, &diff).is_empty(), "no finding has a fix yet");
        r.findings[0].finding.suggestion = Some("let x = y?;".into());
        r.findings[2].finding.suggestion = Some("outside".into());
        let e = eligible(&r, &diff);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].finding.file, "src/a.rs");
        let c = comment(e[0], &Redactor::default());
        assert_eq!(c["side"], "RIGHT");
        assert_eq!(c["line"], 2);
        assert!(c.get("start_line").is_none());
        let body = c["body"].as_str().unwrap_or_default();
        assert!(body.starts_with(&marker(&e[0].fingerprint)), "{body}");
        assert!(body.contains("```suggestion\nlet x = y?;\n```\n"), "{body}");

        let mut multi = r.findings[0].clone();
        multi.finding = finding("src/a.rs", 1, multi.finding.severity, "two lines");
        multi.finding.end_line = 2;
        multi.finding.suggestion = Some("a\nb\n".into());
        let c = comment(&multi, &Redactor::default());
        assert_eq!(
            (c["start_line"].clone(), c["line"].clone()),
            (json!(1), json!(2))
        );
    }
}
