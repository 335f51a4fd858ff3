//! The PR/MR conversation: one sticky summary per pull or merge request (`--github-comment`
//! on GitHub, `--gitlab-note` on GitLab), created the first time and edited on every later
//! run (found by a hidden marker), and inline suggestion comments (GitHub review comments,
//! GitLab diff discussions) for findings that carry a fix (`suggest`). A skipped review posts a neutral
//! "review skipped" note instead of findings. This file holds what both platforms share: the
//! marker and body, the find-then-edit-or-create loop, paging, and reading answers; where each
//! platform's target comes from is in `github` and `gitlab`.
//!
//! The token is sent only to the API URL the CI environment names, only in its auth header,
//! and never printed; redirects are not followed (the shared HTTP client's rule), so a
//! redirect to another host cannot carry it there.

mod github;
mod gitlab;
mod suggest;

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::bail;
use serde_json::{Value, json};

use super::diff::Diff;
use super::formats;
use super::queue::Origin;
use super::report::Report;
use crate::config::Secret;
use crate::redact::Redactor;

/// The hidden line that marks aiw's summary among the PR's comments or the MR's notes.
pub const MARKER: &str = "<!-- aiw-review -->";
/// Connect and whole-request time limit for each API call.
const API_TIMEOUT: Duration = Duration::from_secs(30);
/// Items asked for per page when listing comments or notes.
const PER_PAGE: usize = 100;
/// Most pages read when looking for an earlier comment (a PR with more comments than this
/// gets a second sticky comment rather than an endless listing).
const MAX_PAGES: usize = 20;

/// Where the conversation happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    /// A pull request comment (`--github-comment`).
    GitHub,
    /// A merge request note (`--gitlab-note`).
    GitLab,
}

impl Platform {
    /// `GitHub` or `GitLab`.
    pub fn name(self) -> &'static str {
        match self {
            Self::GitHub => "GitHub",
            Self::GitLab => "GitLab",
        }
    }

    /// What the sticky summary is called there.
    fn summary_word(self) -> &'static str {
        match self {
            Self::GitHub => "review comment",
            Self::GitLab => "review note",
        }
    }

    /// The longest body the platform accepts, with room to spare (GitHub: 65,536 characters;
    /// GitLab: 1,000,000).
    fn body_limit(self) -> usize {
        match self {
            Self::GitHub => 65_000,
            Self::GitLab => 990_000,
        }
    }
}

/// How the token is sent.
#[derive(Clone, Debug)]
enum Auth {
    /// `Authorization: Bearer …` (GitHub).
    Bearer(Secret),
    /// A named header: `PRIVATE-TOKEN` or `JOB-TOKEN` (GitLab).
    Header(&'static str, Secret),
}

/// Which pull or merge request to talk on, and how.
#[derive(Clone, Debug)]
pub struct Target {
    /// The platform.
    pub platform: Platform,
    /// The REST API root, without a trailing `/` (`GITHUB_API_URL`, `CI_API_V4_URL`).
    pub api: String,
    /// GitHub `owner/repo`; GitLab the project id (or its URL-encoded path).
    pub project: String,
    /// The pull request number or merge request IID.
    pub number: u64,
    /// The PR's head commit, for inline comments (GitHub, from the event file).
    pub head: Option<String>,
    auth: Auth,
}

impl Target {
    /// From the CI environment (`env` injected for tests). `origin` is a queued job's
    /// origin: its PR is the one commented on, and a repository it names must be the one the
    /// environment is in. The API URL and token always come from the environment, never from
    /// a stored job. The error says what is missing.
    pub fn from_env(
        platform: Platform,
        env: &dyn Fn(&str) -> Option<String>,
        origin: Option<&Origin>,
    ) -> anyhow::Result<Self> {
        match platform {
            Platform::GitHub => github::target(env, origin),
            Platform::GitLab => gitlab::target(env, origin),
        }
    }

    /// E.g. `org/repo PR #7` or `project 42 MR !3`, for notes.
    pub fn describe(&self) -> String {
        match self.platform {
            Platform::GitHub => format!("{} PR #{}", self.project, self.number),
            Platform::GitLab => format!("project {} MR !{}", self.project, self.number),
        }
    }

    /// A request to `url` with the token and the platform's headers.
    fn request(
        &self,
        client: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
    ) -> reqwest::RequestBuilder {
        let req = client.request(method, url).timeout(API_TIMEOUT);
        match &self.auth {
            Auth::Bearer(t) => req
                .bearer_auth(t.expose())
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28"),
            Auth::Header(name, t) => req.header(*name, t.expose()),
        }
    }

    /// The list (and create) URL of the PR's comments or the MR's notes.
    fn summaries_url(&self) -> String {
        match self.platform {
            Platform::GitHub => format!(
                "{}/repos/{}/issues/{}/comments",
                self.api, self.project, self.number
            ),
            Platform::GitLab => format!(
                "{}/projects/{}/merge_requests/{}/notes",
                self.api, self.project, self.number
            ),
        }
    }

    /// The edit request for the comment or note `id`.
    fn edit(&self, client: &reqwest::Client, id: u64) -> reqwest::RequestBuilder {
        match self.platform {
            Platform::GitHub => self.request(
                client,
                reqwest::Method::PATCH,
                &format!("{}/repos/{}/issues/comments/{id}", self.api, self.project),
            ),
            Platform::GitLab => self.request(
                client,
                reqwest::Method::PUT,
                &format!("{}/{id}", self.summaries_url()),
            ),
        }
    }

    /// Removes the token from text that may echo it (an error from a proxy).
    fn scrub(&self, text: &str) -> String {
        match &self.auth {
            Auth::Bearer(t) | Auth::Header(_, t) => t.scrub(text),
        }
    }
}

/// The summary's markdown: the marker, then the job summary; for a skipped review a neutral
/// note (the merge is not blocked, a human or the queue will review). Cut to the platform's
/// size limit.
pub fn body(report: &Report, platform: Platform) -> String {
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
    let limit = platform.body_limit();
    if out.len() > limit {
        let cut = out.floor_char_boundary(limit - 200);
        out.truncate(cut);
        let _ = write!(
            out,
            "\n\n… (cut at {}'s size limit; see the job summary)\n",
            platform.name()
        );
    }
    out
}

/// The HTTP client for API calls: the shared one (no redirects followed, proxy settings kept).
fn client() -> anyhow::Result<reqwest::Client> {
    crate::provider::http::client(API_TIMEOUT).map_err(|e| anyhow::anyhow!("{e}"))
}

/// Creates the sticky summary, or edits it when an earlier run made one (the first item
/// whose body has [`MARKER`]). Returns its id and whether it was edited.
pub async fn post(target: &Target, body: &str) -> anyhow::Result<(u64, bool)> {
    let client = client()?;
    let what = target.platform.summary_word();
    let existing = list(target, &client, &target.summaries_url(), what).await?;
    let mine = existing
        .iter()
        .find(|c| c["body"].as_str().is_some_and(|b| b.contains(MARKER)))
        .and_then(|c| c["id"].as_u64());
    let payload = serde_json::to_vec(&json!({ "body": body }))?;
    let (req, edited) = match mine {
        Some(id) => (target.edit(&client, id), true),
        None => (
            target.request(&client, reqwest::Method::POST, &target.summaries_url()),
            false,
        ),
    };
    let sent = req
        .header("content-type", "application/json")
        .body(payload)
        .send()
        .await;
    let action = if edited { "edit" } else { "create" };
    let v = read(target, sent, &format!("{action} the {what}")).await?;
    Ok((v["id"].as_u64().unwrap_or_default(), edited))
}

/// Every item of a paged list (`?per_page=100&page=N`), at most [`MAX_PAGES`] pages.
async fn list(
    target: &Target,
    client: &reqwest::Client,
    url: &str,
    what: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    for page in 1..=MAX_PAGES {
        let paged = format!("{url}?per_page={PER_PAGE}&page={page}");
        let sent = target
            .request(client, reqwest::Method::GET, &paged)
            .send()
            .await;
        let v = read(target, sent, &format!("list the {what}s")).await?;
        let items = v.as_array().cloned().unwrap_or_default();
        let n = items.len();
        all.extend(items);
        if n < PER_PAGE {
            break;
        }
    }
    Ok(all)
}

/// The JSON of a successful API answer, or an error with the status and the platform's
/// message (a redirect is refused: the token is not sent to where it points).
async fn read(
    target: &Target,
    sent: Result<reqwest::Response, reqwest::Error>,
    what: &str,
) -> anyhow::Result<Value> {
    let name = target.platform.name();
    let resp = sent.map_err(|e| {
        anyhow::anyhow!(
            "cannot reach the {name} API at {} to {what}: {}",
            target.api,
            target.scrub(&e.to_string())
        )
    })?;
    let status = resp.status();
    if status.is_redirection() {
        let to = resp
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| reqwest::Url::parse(l).ok())
            .map_or_else(
                || "elsewhere".to_string(),
                |u| u.origin().ascii_serialization(),
            );
        bail!(
            "the {name} API at {} answered HTTP {} redirecting to {to} when asked to {what}; aiw does not follow redirects with a token: set the API URL to the real one",
            target.api,
            status.as_u16()
        );
    }
    let text = resp.text().await.unwrap_or_default();
    let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    if !status.is_success() {
        let msg = v["message"]
            .as_str()
            .or_else(|| v["error"].as_str())
            .map_or_else(|| v["message"].to_string(), str::to_string);
        let hint = match (status.as_u16(), target.platform) {
            (401 | 403, Platform::GitHub) => {
                ": check GITHUB_TOKEN and `permissions: pull-requests: write`"
            }
            (401 | 403, Platform::GitLab) => {
                ": check GITLAB_TOKEN (a project or personal access token with the `api` scope; CI_JOB_TOKEN cannot write notes on most GitLab versions)"
            }
            _ => "",
        };
        bail!(
            "the {name} API refused to {what}: HTTP {} ({}){hint}",
            status.as_u16(),
            crate::config::clip(&target.scrub(&msg))
        );
    }
    Ok(v)
}

/// What the conversation step reports: a line for the report's notes each, and whether it
/// is a failure (said loudly as a warning too).
pub type Said = Vec<(String, bool)>;

/// Posts the sticky summary for `report` on `platform` and the inline suggestions
/// (checked against `diff`). Every text sent is scrubbed with `redactor`. A failure is a
/// note, never an error: the verdict does not depend on the conversation.
pub async fn publish(
    platform: Platform,
    report: &Report,
    diff: &Diff,
    env: &dyn Fn(&str) -> Option<String>,
    origin: Option<&Origin>,
    redactor: &Redactor,
) -> Said {
    let what = match platform {
        Platform::GitHub => "PR comment",
        Platform::GitLab => "MR note",
    };
    let target = match Target::from_env(platform, env, origin) {
        Ok(t) => t,
        Err(e) => return vec![(format!("no {what}: {e:#}"), true)],
    };
    let mut said = Vec::new();
    let body = redactor.scrub(&body(report, platform)).into_owned();
    let summary = post(&target, &body).await;
    let summary_posted = summary.is_ok();
    match summary {
        Ok((id, edited)) => said.push((
            format!(
                "{} the {} {id} on {}",
                if edited { "updated" } else { "posted" },
                platform.summary_word(),
                target.describe()
            ),
            false,
        )),
        Err(e) => said.push((format!("no {what}: {e:#}"), true)),
    }
    // The suggestions go to the same API with the same token: when the summary could not be
    // posted (refused, redirected, unreachable), they are not tried too.
    if summary_posted && !report.is_skipped() {
        match suggest::post(&target, report, diff, redactor).await {
            Ok(Some(n)) => said.push(n),
            Ok(None) => {}
            Err(e) => said.push((format!("no inline suggestions: {e:#}"), true)),
        }
    }
    said
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::commands::review::report::Status;

    /// An environment of `pairs` (what CI would set), for the target tests.
    pub(in crate::commands::review::comment) fn env_of(
        pairs: &[(&'static str, &'static str)],
    ) -> impl Fn(&str) -> Option<String> {
        let pairs = pairs.to_vec();
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn the_body_has_the_marker_and_is_cut_at_the_platform_limit() {
        let mut r = Report::new(Status::Complete, "d", vec![]);
        r.notes = (0..20_000).map(|i| format!("note {i}")).collect();
        let gh = body(&r, Platform::GitHub);
        assert!(gh.starts_with(MARKER));
        assert!(gh.len() <= 65_000, "{}", gh.len());
        assert!(gh.contains("cut at GitHub's size limit"));
        let gl = body(&r, Platform::GitLab);
        assert!(gl.len() > 65_000 && !gl.contains("cut at"), "{}", gl.len());
        let skipped = Report::new(Status::Unavailable("down".into()), "d", vec![]);
        assert!(
            body(&skipped, Platform::GitLab)
                .contains("review skipped: all models unavailable, will retry")
        );
    }
}
