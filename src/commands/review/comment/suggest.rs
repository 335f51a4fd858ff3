//! Inline review comments with suggestion blocks, for findings in the change that carry a
//! fix. On GitHub: one `POST /repos/{o}/{r}/pulls/{n}/reviews` (event `COMMENT`) per run with
//! the comments not posted before (```` ```suggestion ````). On GitLab: one diff discussion per
//! suggestion, `POST /projects/{id}/merge_requests/{iid}/discussions` with a text position on
//! the new line, against the merge request's own `diff_refs` (```` ```suggestion:-N+0 ````,
//! GitLab's form for a fix of the N lines above and the commented one). Each comment carries
//! a hidden marker with the finding's fingerprint, and the existing comments (GitHub) or
//! discussions (GitLab) are listed first, so a re-run never posts the same suggestion twice.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{Platform, Target, client, list, read};
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

/// The markdown of one suggestion comment: marker, finding, explanation, suggestion block
/// (GitHub's plain one, or GitLab's with the lines above it that it replaces); scrubbed.
fn comment_body(f: &Reported, redactor: &Redactor, platform: Platform) -> String {
    let x = &f.finding;
    let sugg = x.suggestion.as_deref().unwrap_or_default();
    let fence = formats::fence_for(sugg);
    let kind = match platform {
        Platform::GitHub => "suggestion".to_string(),
        Platform::GitLab => format!("suggestion:-{}+0", x.end_line.saturating_sub(x.start_line)),
    };
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
        "{fence}{kind}\n{}\n{fence}\n",
        sugg.trim_end_matches('\n')
    );
    redactor.scrub(&body).into_owned()
}

/// One inline comment of a GitHub review request.
fn comment(f: &Reported, redactor: &Redactor) -> Value {
    let x = &f.finding;
    let body = comment_body(f, redactor, Platform::GitHub);
    let mut c = json!({ "path": x.file, "line": x.end_line, "side": "RIGHT", "body": body });
    if x.end_line > x.start_line {
        c["start_line"] = json!(x.start_line);
        c["start_side"] = json!("RIGHT");
    }
    c
}

/// The fingerprints in the suggestion markers of `bodies`.
fn posted<'a>(bodies: impl Iterator<Item = &'a str>) -> HashSet<String> {
    const OPEN: &str = "<!-- aiw-suggestion:";
    bodies
        .filter_map(|b| {
            let rest = &b[b.find(OPEN)? + OPEN.len()..];
            Some(rest[..rest.find(" -->")?].to_string())
        })
        .collect()
}

/// Posts the suggestions not already on the PR or MR. Returns a note saying how many were
/// posted (`None` when there was nothing to post).
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
    let (url, what) = match target.platform {
        Platform::GitHub => (
            format!(
                "{}/repos/{}/pulls/{}/comments",
                target.api, target.project, target.number
            ),
            "review comment",
        ),
        Platform::GitLab => (
            format!(
                "{}/projects/{}/merge_requests/{}/discussions",
                target.api, target.project, target.number
            ),
            "discussion",
        ),
    };
    let existing = list(target, &client, &url, what).await?;
    // A GitLab discussion holds its notes; a GitHub review comment is its own body.
    let bodies: Vec<&str> = existing
        .iter()
        .flat_map(|c| match c["notes"].as_array() {
            Some(notes) => notes.iter().filter_map(|n| n["body"].as_str()).collect(),
            None => c["body"].as_str().into_iter().collect::<Vec<_>>(),
        })
        .collect();
    let done = posted(bodies.into_iter());
    let new: Vec<&Reported> = todo
        .into_iter()
        .filter(|f| !done.contains(&f.fingerprint))
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
    match target.platform {
        Platform::GitHub => post_review(target, &client, &new, redactor).await?,
        Platform::GitLab => post_discussions(target, &client, &url, &new, diff, redactor).await?,
    }
    Ok(Some((
        format!(
            "posted {} inline suggestion(s) on {}",
            new.len(),
            target.describe()
        ),
        false,
    )))
}

/// GitHub: one review with every new suggestion.
async fn post_review(
    target: &Target,
    client: &reqwest::Client,
    new: &[&Reported],
    redactor: &Redactor,
) -> anyhow::Result<()> {
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
            client,
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
    Ok(())
}

/// GitLab: one diff discussion per new suggestion, positioned with the MR's `diff_refs`.
async fn post_discussions(
    target: &Target,
    client: &reqwest::Client,
    url: &str,
    new: &[&Reported],
    diff: &Diff,
    redactor: &Redactor,
) -> anyhow::Result<()> {
    let mr_url = format!(
        "{}/projects/{}/merge_requests/{}",
        target.api, target.project, target.number
    );
    let sent = target
        .request(client, reqwest::Method::GET, &mr_url)
        .send()
        .await;
    let mr = read(target, sent, "read the merge request").await?;
    let refs = &mr["diff_refs"];
    let sha = |k: &str| {
        refs[k]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (Some(base), Some(start), Some(head)) =
        (sha("base_sha"), sha("start_sha"), sha("head_sha"))
    else {
        anyhow::bail!(
            "the merge request has no diff_refs yet (GitLab computes them after a push): run the job again once the MR's diff is ready"
        );
    };
    for f in new {
        let x = &f.finding;
        let old_path = diff
            .file(&x.file)
            .and_then(|d| d.old_path.clone())
            .unwrap_or_else(|| x.file.clone());
        let payload = json!({
            "body": comment_body(f, redactor, Platform::GitLab),
            "position": {
                "position_type": "text",
                "base_sha": base, "start_sha": start, "head_sha": head,
                "new_path": x.file, "old_path": old_path, "new_line": x.end_line,
            },
        });
        let sent = target
            .request(client, reqwest::Method::POST, url)
            .header("content-type", "application/json")
            .body(serde_json::to_vec(&payload)?)
            .send()
            .await;
        read(
            target,
            sent,
            &format!("post the inline suggestion on {}:{}", x.file, x.end_line),
        )
        .await?;
    }
    Ok(())
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
        // GitLab's block names the lines above the commented one that it replaces.
        let gl = comment_body(&multi, &Redactor::default(), Platform::GitLab);
        assert!(gl.contains("```suggestion:-1+0\na\nb\n```\n"), "{gl}");
        assert_eq!(
            posted([gl.as_str(), "no marker"].into_iter()),
            HashSet::from([multi.fingerprint.clone()])
        );
    }
}
