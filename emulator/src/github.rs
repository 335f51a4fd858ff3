//! A fake GitHub REST API for `aiw review --github-comment` tests: issue comments on pull
//! requests (`GET`/`POST /repos/{owner}/{repo}/issues/{n}/comments`, `PATCH
//! /repos/{owner}/{repo}/issues/comments/{id}`), a bearer token required on every call, and
//! the stored comments readable by the test ([`crate::Emulator::github_comments`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// One stored comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// Its id.
    pub id: u64,
    /// `owner/repo`.
    pub repo: String,
    /// The pull request (issue) number.
    pub issue: u64,
    /// Its markdown body.
    pub body: String,
    /// How many times it was edited.
    pub edits: usize,
}

/// The comments posted so far, by id.
#[derive(Debug, Default)]
pub(crate) struct Comments {
    by_id: BTreeMap<u64, Comment>,
    next: u64,
}

impl Comments {
    pub(crate) fn all(&self) -> Vec<Comment> {
        self.by_id.values().cloned().collect()
    }
}

/// Whether `path` is a GitHub API path this fake answers.
pub(crate) fn is_github(path: &str) -> bool {
    path.starts_with("/repos/")
}

/// Answers one GitHub API call: `(status, JSON body)`.
pub(crate) fn handle(
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &[u8],
    comments: &mut Comments,
) -> (u16, String) {
    let authed = auth.is_some_and(|a| {
        let t = a
            .strip_prefix("Bearer ")
            .or_else(|| a.strip_prefix("token "))
            .unwrap_or("");
        !t.trim().is_empty()
    });
    if !authed {
        return (
            401,
            json!({"message": "Requires authentication", "documentation_url": "https://docs.github.com/rest"}).to_string(),
        );
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let text = |body: &[u8]| -> Option<String> {
        serde_json::from_slice::<Value>(body)
            .ok()?
            .get("body")?
            .as_str()
            .map(str::to_string)
    };
    let view =
        |c: &Comment| json!({"id": c.id, "body": c.body, "user": {"login": "github-actions[bot]"}});
    match (method, parts.as_slice()) {
        ("GET", ["repos", owner, repo, "issues", n, "comments"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return (404, json!({"message": "Not Found"}).to_string());
            };
            let repo = format!("{owner}/{repo}");
            let list: Vec<Value> = comments
                .by_id
                .values()
                .filter(|c| c.repo == repo && c.issue == n)
                .map(view)
                .collect();
            (200, Value::Array(list).to_string())
        }
        ("POST", ["repos", owner, repo, "issues", n, "comments"]) => {
            let (Ok(n), Some(body)) = (n.parse::<u64>(), text(body)) else {
                return (422, json!({"message": "Validation Failed"}).to_string());
            };
            comments.next += 1;
            let c = Comment {
                id: comments.next,
                repo: format!("{owner}/{repo}"),
                issue: n,
                body,
                edits: 0,
            };
            let out = view(&c).to_string();
            comments.by_id.insert(c.id, c);
            (201, out)
        }
        ("PATCH", ["repos", _owner, _repo, "issues", "comments", id]) => {
            let (Ok(id), Some(body)) = (id.parse::<u64>(), text(body)) else {
                return (422, json!({"message": "Validation Failed"}).to_string());
            };
            match comments.by_id.get_mut(&id) {
                Some(c) => {
                    c.body = body;
                    c.edits += 1;
                    (200, view(c).to_string())
                }
                None => (404, json!({"message": "Not Found"}).to_string()),
            }
        }
        _ => (404, json!({"message": "Not Found"}).to_string()),
    }
}
