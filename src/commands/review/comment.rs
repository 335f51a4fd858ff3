//! `--github-comment`: one sticky summary comment on the pull request, created the first
//! time and edited on every later run (found by a hidden marker), through the GitHub REST
//! API with the job's `GITHUB_TOKEN`. A skipped review posts a neutral "review skipped"
//! note instead of findings. The token is only ever sent in the `Authorization` header.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde_json::{Value, json};

use super::formats;
use super::report::Report;

/// The hidden line that marks aiw's comment among the PR's comments.
pub const MARKER: &str = "<!-- aiw-review -->";
/// GitHub rejects comment bodies over 65,536 characters.
const BODY_LIMIT: usize = 65_000;
/// Connect and whole-request time limit for each API call.
const API_TIMEOUT: Duration = Duration::from_secs(30);

/// Which pull request to comment on, and how.
#[derive(Clone, Debug)]
pub struct Target {
    /// `GITHUB_API_URL` (default `https://api.github.com`), without a trailing `/`.
    pub api: String,
    /// `owner/repo`.
    pub repo: String,
    /// The pull request number.
    pub pr: u64,
    token: String,
}

impl Target {
    /// From the GitHub Actions environment (`env` injected for tests): `GITHUB_TOKEN`,
    /// `GITHUB_REPOSITORY`, the PR number from `GITHUB_REF` (`refs/pull/N/merge`) or the
    /// event file, and `GITHUB_API_URL`. The error says what is missing.
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let token = get("GITHUB_TOKEN").context(
            "--github-comment needs GITHUB_TOKEN: add `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` and `permissions: pull-requests: write`",
        )?;
        let repo = get("GITHUB_REPOSITORY")
            .context("--github-comment needs GITHUB_REPOSITORY (set by GitHub Actions)")?;
        let from_ref = get("GITHUB_REF").and_then(|r| {
            r.strip_prefix("refs/pull/")?
                .split('/')
                .next()?
                .parse::<u64>()
                .ok()
        });
        let from_event = || {
            let path = get("GITHUB_EVENT_PATH")?;
            let text = std::fs::read_to_string(path).ok()?;
            let v: Value = serde_json::from_str(&text).ok()?;
            v["pull_request"]["number"].as_u64()
        };
        let pr = from_ref.or_else(from_event).context(
            "--github-comment works on pull_request events only: no PR number in GITHUB_REF or the event file",
        )?;
        let api = get("GITHUB_API_URL")
            .unwrap_or_else(|| "https://api.github.com".into())
            .trim_end_matches('/')
            .to_string();
        Ok(Self {
            api,
            repo,
            pr,
            token,
        })
    }
}

/// The comment's markdown: the marker, then the job summary; for a skipped review a neutral
/// note (the merge is not blocked, a human or the queue will review).
pub fn body(report: &Report) -> String {
    let text = if report.is_skipped() {
        let mut s = String::from(
            "## aiw review\n\n> review skipped: all models unavailable, will retry.\n\n",
        );
        if let Some(id) = &report.queued_job {
            let _ = writeln!(s, "The review was queued as job `{id}`.");
        } else {
            s.push_str("Flag this change for manual review if no later run reviews it.\n");
        }
        s
    } else {
        formats::summary(report)
    };
    let mut out = format!("{MARKER}\n{text}");
    if out.len() > BODY_LIMIT {
        let cut = out.floor_char_boundary(BODY_LIMIT - 200);
        out.truncate(cut);
        out.push_str("\n\n… (cut at GitHub's comment size limit; see the job summary)\n");
    }
    out
}

/// Creates the sticky comment, or edits it when an earlier run made one. Returns the
/// comment id and whether it was edited.
pub async fn post(target: &Target, body: &str) -> anyhow::Result<(u64, bool)> {
    let client = crate::provider::http::client(API_TIMEOUT).map_err(|e| anyhow::anyhow!("{e}"))?;
    let call = |method: reqwest::Method, url: String| {
        client
            .request(method, url)
            .timeout(API_TIMEOUT)
            .bearer_auth(&target.token)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    };
    let list_url = format!(
        "{}/repos/{}/issues/{}/comments?per_page=100",
        target.api, target.repo, target.pr
    );
    let existing: Vec<Value> = read(call(reqwest::Method::GET, list_url).send().await, "list")
        .await?
        .as_array()
        .cloned()
        .unwrap_or_default();
    let mine = existing
        .iter()
        .find(|c| c["body"].as_str().is_some_and(|b| b.contains(MARKER)))
        .and_then(|c| c["id"].as_u64());
    let payload = serde_json::to_vec(&json!({ "body": body }))?;
    let (req, edited) = match mine {
        Some(id) => (
            call(
                reqwest::Method::PATCH,
                format!("{}/repos/{}/issues/comments/{id}", target.api, target.repo),
            ),
            true,
        ),
        None => (
            call(
                reqwest::Method::POST,
                format!(
                    "{}/repos/{}/issues/{}/comments",
                    target.api, target.repo, target.pr
                ),
            ),
            false,
        ),
    };
    let v = read(
        req.header("content-type", "application/json")
            .body(payload)
            .send()
            .await,
        if edited { "edit" } else { "create" },
    )
    .await?;
    Ok((v["id"].as_u64().unwrap_or_default(), edited))
}

/// The JSON of a successful API answer, or an error with the status and GitHub's message.
async fn read(
    sent: Result<reqwest::Response, reqwest::Error>,
    what: &str,
) -> anyhow::Result<Value> {
    let resp = sent.map_err(|e| {
        anyhow::anyhow!("cannot reach the GitHub API to {what} the review comment: {e}")
    })?;
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !status.is_success() {
        let msg = v["message"].as_str().unwrap_or("no message");
        bail!(
            "the GitHub API refused to {what} the review comment: HTTP {} ({})",
            status.as_u16(),
            crate::config::clip(msg)
        );
    }
    Ok(v)
}
