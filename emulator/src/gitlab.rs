//! A fake GitLab REST API (v4) for `aiw review --gitlab-note` tests: merge request notes
//! (`GET`/`POST /api/v4/projects/{id}/merge_requests/{iid}/notes`, `PUT …/notes/{note_id}`),
//! the merge request itself (`GET …/merge_requests/{iid}`, with fixed [`DIFF_REFS`]), diff
//! discussions (`GET`/`POST …/merge_requests/{iid}/discussions`; a position must name the
//! merge request's `diff_refs` and a new line, as GitLab requires),
//! lists paged with `per_page`/`page`, a `PRIVATE-TOKEN` or `JOB-TOKEN` header required on
//! every call (optionally only the tokens a test allows), an optional redirect of every call
//! to another URL, and every call and note readable by the test
//! ([`crate::Emulator::gitlab_notes`], [`crate::Emulator::gitlab_calls`]).

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// The path prefix of the API (`CI_API_V4_URL` is the emulator's base URL plus this).
pub(crate) const PREFIX: &str = "/api/v4/";

/// One stored merge request note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// Its id.
    pub id: u64,
    /// The project id (or URL-encoded path) it was posted under.
    pub project: String,
    /// The merge request IID.
    pub mr: u64,
    /// Its markdown body.
    pub body: String,
    /// How many times it was edited.
    pub edits: usize,
}

/// The `diff_refs` every fake merge request has: base, start and head commit.
pub const DIFF_REFS: [&str; 3] = [
    "1111111111111111111111111111111111111111",
    "2222222222222222222222222222222222222222",
    "3333333333333333333333333333333333333333",
];

/// One diff discussion (its first note and where it sits).
#[derive(Clone, Debug, PartialEq)]
pub struct Discussion {
    /// The project id it was posted under.
    pub project: String,
    /// The merge request IID.
    pub mr: u64,
    /// The first note's markdown.
    pub body: String,
    /// The position as sent (`new_path`, `new_line`, the SHAs…).
    pub position: Value,
}

/// One API call as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// `GET`, `POST`, `PUT`…
    pub method: String,
    /// The path (without the query).
    pub path: String,
    /// The auth header it carried (`private-token` or `job-token`), with its value.
    pub auth: Option<(String, String)>,
}

/// Notes, calls, and the test's settings.
#[derive(Debug, Default)]
pub(crate) struct Gitlab {
    notes: BTreeMap<u64, Note>,
    discussions: Vec<Discussion>,
    next: u64,
    calls: Vec<Call>,
    /// When set, only these tokens are accepted.
    pub(crate) tokens: Option<Vec<String>>,
    /// When set, every call answers `301` to this URL plus the call's path.
    pub(crate) redirect: Option<String>,
}

impl Gitlab {
    pub(crate) fn notes(&self) -> Vec<Note> {
        self.notes.values().cloned().collect()
    }

    pub(crate) fn discussions(&self) -> Vec<Discussion> {
        self.discussions.clone()
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.clone()
    }
}

/// Whether `path` is a GitLab API path this fake answers.
pub(crate) fn is_gitlab(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// An answer: status, JSON body, and a `location` header for a redirect.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) location: Option<String>,
}

fn answer(status: u16, body: &Value) -> Answer {
    Answer {
        status,
        body: body.to_string(),
        location: None,
    }
}

/// Answers one GitLab API call. `header` looks up a request header by lowercase name.
pub(crate) fn handle(
    method: &str,
    path: &str,
    query: &str,
    header: &dyn Fn(&str) -> Option<String>,
    body: &[u8],
    state: &mut Gitlab,
) -> Answer {
    let auth = ["private-token", "job-token"]
        .into_iter()
        .find_map(|h| header(h).map(|v| (h.to_string(), v)));
    state.calls.push(Call {
        method: method.to_string(),
        path: path.to_string(),
        auth: auth.clone(),
    });
    if let Some(to) = &state.redirect {
        return Answer {
            status: 301,
            body: String::new(),
            location: Some(format!("{}{path}", to.trim_end_matches('/'))),
        };
    }
    let accepted = auth.as_ref().is_some_and(|(_, t)| {
        !t.trim().is_empty() && state.tokens.as_ref().is_none_or(|ok| ok.contains(t))
    });
    if !accepted {
        return answer(401, &json!({"message": "401 Unauthorized"}));
    }
    let rest = path.strip_prefix(PREFIX).unwrap_or(path);
    let parts: Vec<&str> = rest.split('/').collect();
    let text = || -> Option<String> {
        serde_json::from_slice::<Value>(body)
            .ok()?
            .get("body")?
            .as_str()
            .map(str::to_string)
    };
    let view = |n: &Note| json!({"id": n.id, "body": n.body, "author": {"username": "project_42_bot"}, "system": false});
    let paged = |query: &str| {
        // GitLab's default is 20 per page.
        if query.contains("per_page") {
            query.to_string()
        } else {
            format!("per_page=20&{query}")
        }
    };
    match (method, parts.as_slice()) {
        ("GET", ["projects", _, "merge_requests", iid]) => {
            let [base, start, head] = DIFF_REFS;
            answer(
                200,
                &json!({"iid": iid.parse::<u64>().unwrap_or_default(),
                    "diff_refs": {"base_sha": base, "start_sha": start, "head_sha": head}}),
            )
        }
        ("GET", ["projects", project, "merge_requests", iid, "discussions"]) => {
            let list: Vec<Value> = state
                .discussions
                .iter()
                .enumerate()
                .filter(|(_, d)| d.project == *project && iid.parse() == Ok(d.mr))
                .map(|(i, d)| json!({"id": format!("d{i}"), "notes": [{"body": d.body, "position": d.position}]}))
                .collect();
            answer(200, &crate::github::page(list, &paged(query)))
        }
        ("POST", ["projects", project, "merge_requests", iid, "discussions"]) => {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let p = &v["position"];
            let [base, start, head] = DIFF_REFS;
            let refs_ok = p["base_sha"] == base && p["start_sha"] == start && p["head_sha"] == head;
            let (Ok(mr), Some(text)) = (iid.parse::<u64>(), v["body"].as_str()) else {
                return answer(
                    400,
                    &json!({"message": "400 Bad request - body is missing"}),
                );
            };
            if !refs_ok
                || p["position_type"] != "text"
                || !p["new_path"].is_string()
                || !p["new_line"].is_u64()
            {
                return answer(
                    400,
                    &json!({"message": "400 Bad request - position is invalid"}),
                );
            }
            state.discussions.push(Discussion {
                project: (*project).to_string(),
                mr,
                body: text.to_string(),
                position: p.clone(),
            });
            answer(
                201,
                &json!({"id": format!("d{}", state.discussions.len() - 1), "notes": [{"body": text}]}),
            )
        }
        ("GET", ["projects", project, "merge_requests", iid, "notes"]) => {
            let list: Vec<Value> = state
                .notes
                .values()
                .filter(|n| n.project == *project && iid.parse() == Ok(n.mr))
                .map(view)
                .collect();
            answer(200, &crate::github::page(list, &paged(query)))
        }
        ("POST", ["projects", project, "merge_requests", iid, "notes"]) => {
            let (Ok(mr), Some(body)) = (iid.parse::<u64>(), text()) else {
                return answer(
                    400,
                    &json!({"message": "400 Bad request - body is missing"}),
                );
            };
            state.next += 1;
            let n = Note {
                id: state.next,
                project: (*project).to_string(),
                mr,
                body,
                edits: 0,
            };
            let out = view(&n);
            state.notes.insert(n.id, n);
            answer(201, &out)
        }
        ("PUT", ["projects", project, "merge_requests", iid, "notes", id]) => {
            let (Ok(id), Some(body)) = (id.parse::<u64>(), text()) else {
                return answer(
                    400,
                    &json!({"message": "400 Bad request - body is missing"}),
                );
            };
            match state.notes.get_mut(&id) {
                Some(n) if n.project == *project && iid.parse() == Ok(n.mr) => {
                    n.body = body;
                    n.edits += 1;
                    answer(200, &view(n))
                }
                _ => answer(404, &json!({"message": "404 Not found"})),
            }
        }
        _ => answer(404, &json!({"message": "404 Not found"})),
    }
}
