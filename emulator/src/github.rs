//! A fake GitHub REST API for `aiw review --github-comment` tests: issue comments on pull
//! requests (`GET`/`POST /repos/{owner}/{repo}/issues/{n}/comments`, `PATCH
//! /repos/{owner}/{repo}/issues/comments/{id}`), pull request reviews with inline comments
//! (`POST /repos/{owner}/{repo}/pulls/{n}/reviews`, `GET …/pulls/{n}/comments`), lists paged
//! with `per_page`/`page`, a bearer token required on every call, and what was stored
//! readable by the test ([`crate::Emulator::github_comments`],
//! [`crate::Emulator::github_review_comments`]).

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

/// One inline review comment (a line of a pull request's diff).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReviewComment {
    /// Its id.
    pub id: u64,
    /// `owner/repo`.
    pub repo: String,
    /// The pull request number.
    pub pr: u64,
    /// The id of the review it came with.
    pub review: u64,
    /// The file.
    pub path: String,
    /// The first line of a multi-line comment.
    pub start_line: Option<u64>,
    /// The (last) line.
    pub line: u64,
    /// `RIGHT` or `LEFT`.
    pub side: String,
    /// Its markdown body.
    pub body: String,
    /// The `commit_id` of its review, when one was given.
    pub commit_id: Option<String>,
}

/// The comments posted so far, by id.
#[derive(Debug, Default)]
pub(crate) struct Comments {
    by_id: BTreeMap<u64, Comment>,
    reviews: Vec<ReviewComment>,
    next: u64,
}

impl Comments {
    pub(crate) fn all(&self) -> Vec<Comment> {
        self.by_id.values().cloned().collect()
    }

    pub(crate) fn review_comments(&self) -> Vec<ReviewComment> {
        self.reviews.clone()
    }

    /// Stores `n` comments as if someone else had written them (to test paging).
    pub(crate) fn seed(&mut self, repo: &str, issue: u64, n: usize) {
        for i in 0..n {
            self.next += 1;
            let c = Comment {
                id: self.next,
                repo: repo.to_string(),
                issue,
                body: format!("comment {i} by a person"),
                edits: 0,
            };
            self.by_id.insert(c.id, c);
        }
    }
}

/// The page `?per_page=N&page=P` asks for (GitHub's defaults: 30 per page, page 1).
pub(crate) fn page(list: Vec<Value>, query: &str) -> Value {
    let get = |k: &str, d: usize| {
        crate::http::query_param(query, k)
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(d)
    };
    let per = get("per_page", 30).clamp(1, 100);
    let page = get("page", 1).max(1);
    Value::Array(list.into_iter().skip((page - 1) * per).take(per).collect())
}

/// Stores a review's inline comments; `Err` with GitHub's 422 message when one is malformed.
fn add_review(comments: &mut Comments, repo: &str, pr: u64, body: &[u8]) -> Result<Value, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("Problems parsing JSON: {e}"))?;
    if v["event"] != "COMMENT" && v["event"] != "APPROVE" && v["event"] != "REQUEST_CHANGES" {
        return Err("event must be COMMENT, APPROVE or REQUEST_CHANGES".into());
    }
    comments.next += 1;
    let review = comments.next;
    let mut new = Vec::new();
    for c in v["comments"].as_array().cloned().unwrap_or_default() {
        let (Some(path), Some(line), Some(text)) =
            (c["path"].as_str(), c["line"].as_u64(), c["body"].as_str())
        else {
            return Err("each comment needs path, line and body".into());
        };
        let start_line = c["start_line"].as_u64();
        if start_line.is_some_and(|s| s >= line) {
            return Err("start_line must precede line".into());
        }
        comments.next += 1;
        new.push(ReviewComment {
            id: comments.next,
            repo: repo.to_string(),
            pr,
            review,
            path: path.to_string(),
            start_line,
            line,
            side: c["side"].as_str().unwrap_or("RIGHT").to_string(),
            body: text.to_string(),
            commit_id: v["commit_id"].as_str().map(str::to_string),
        });
    }
    comments.reviews.extend(new);
    Ok(json!({"id": review, "state": "COMMENTED"}))
}

/// Whether `path` is a GitHub API path this fake answers.
pub(crate) fn is_github(path: &str) -> bool {
    path.starts_with("/repos/")
}

/// Answers one GitHub API call: `(status, JSON body)`.
pub(crate) fn handle(
    method: &str,
    path: &str,
    query: &str,
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
            (200, page(list, query).to_string())
        }
        ("GET", ["repos", owner, repo, "pulls", n, "comments"]) => {
            let repo = format!("{owner}/{repo}");
            let list: Vec<Value> = comments
                .reviews
                .iter()
                .filter(|c| c.repo == repo && n.parse() == Ok(c.pr))
                .map(|c| json!({"id": c.id, "path": c.path, "line": c.line, "body": c.body}))
                .collect();
            (200, page(list, query).to_string())
        }
        ("POST", ["repos", owner, repo, "pulls", n, "reviews"]) => {
            let Ok(n) = n.parse::<u64>() else {
                return (404, json!({"message": "Not Found"}).to_string());
            };
            match add_review(comments, &format!("{owner}/{repo}"), n, body) {
                Ok(v) => (200, v.to_string()),
                Err(m) => (422, json!({"message": m}).to_string()),
            }
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
