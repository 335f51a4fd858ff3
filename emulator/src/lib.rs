//! `aiw-emulator`: a fault-injecting fake of the Anthropic Messages, OpenAI Chat
//! Completions and Gemini streaming HTTP APIs on 127.0.0.1, and of the two cloud hosts of
//! those models (Amazon Bedrock, Google Vertex AI), for aiw's tests and benchmarks. This
//! file holds the crate docs, module layout, re-exports, the test credentials of the cloud
//! hosts ([`aws`], [`google`]), and the [`Emulator`] handle.
//!
//! # Endpoints
//! - `POST /v1/messages` (Anthropic; needs `anthropic-version`), `POST
//!   /v1/chat/completions` and `/chat/completions` (OpenAI), `POST
//!   /v1beta/models/{model}:streamGenerateContent?alt=sse` and `:generateContent`
//!   (Gemini; without `alt=sse` the stream is a JSON array, as Google's).
//! - `GET /v1/models[/{id}]` (Anthropic shape when `anthropic-version` is sent, else
//!   OpenAI), `GET /v1beta/models[/{id}]`. They list the models that have a script and
//!   whose `require_key` (if any) the request presents; when every scripted model needs a
//!   key the request lacks, the provider's auth error.
//! - Amazon Bedrock: `POST /model/{id}/invoke-with-response-stream` (the Anthropic events,
//!   each in an event-stream `chunk` frame `{"bytes": base64}`) and `POST /model/{id}/invoke`.
//!   Every request must be SigV4-signed (service `bedrock`, any region) with a key of
//!   [`aws`], else Bedrock's 403 (`InvalidSignatureException`, `UnrecognizedClientException`,
//!   …); the body must carry `anthropic_version: "bedrock-2023-05-31"` and no `model` or
//!   `stream`. Errors carry `x-amzn-ErrorType`; mid-stream errors are exception frames
//!   (`throttlingException`, `modelStreamErrorException` with `originalStatusCode` 529 for
//!   [`ErrorKind::Overloaded`], …); [`StreamFault::MalformedAfter`] sends a frame with a bad
//!   CRC and [`StreamFault::CutInEventAfter`] cuts inside a frame.
//! - Google Vertex AI: `POST /v1/projects/{p}/locations/{l}/publishers/anthropic/models/{m}:streamRawPredict`
//!   (and `:rawPredict`; the body must carry `anthropic_version: "vertex-2023-10-16"` and no
//!   `model`), `…/publishers/google/models/{m}:streamGenerateContent?alt=sse` (and
//!   `:generateContent`). Every call needs `Authorization: Bearer` with a token from
//!   `POST /token` that has not expired, else 401 `UNAUTHENTICATED`. `POST /token` takes a
//!   JWT-bearer assertion signed with [`google::TEST_PRIVATE_KEY_PEM`] for
//!   [`google::CLIENT_EMAIL`] with `aud` = `http://{host}/token`; see
//!   [`Emulator::service_account_json`], [`Emulator::set_token_lifetime`],
//!   [`Emulator::expire_tokens`]. Platform errors are google.rpc.Status, Claude's own
//!   (overloaded, server, bad request) Anthropic's error body.
//! - `GET /status/{name}/api/v2/summary.json` (and `status.json`), see
//!   [`Emulator::set_status_page`].
//! - Control API: `POST /_emulator/scripts` (`{"model-id": Script, …}`), `GET
//!   /_emulator/requests`, `DELETE /_emulator/requests`, `POST /_emulator/status/{name}`.
//!
//! # Defaults
//! A model without a script streams `Hello from {model}.` in 8-character chunks. Input
//! tokens = number of whitespace-separated words in the system text plus all message
//! content (text, thinking, tool results, tool calls); output tokens = number of content
//! chunks (text, thinking, tool-argument fragments); [`Reply`] can override both.
//!
//! # Tool use
//! A [`Reply`] can hold, in order, a [`Thinking`] block, an Anthropic redacted-thinking
//! block, text and [`ToolCall`]s, each sent in the provider's real wire form (see
//! [`Reply`] for the exact events). The builders: [`Reply::tool_call`],
//! [`Reply::with_tool_call`], [`Reply::with_call`] (with [`ToolCall::id`] for a fixed
//! id), [`Reply::with_thinking`], [`Reply::with_redacted_thinking`],
//! [`Reply::arg_chunk_chars`], [`Reply::interleave`]. Answers that depend on the request:
//! [`Reply::echo_tool_results`] (`tool ID returned: TEXT` per result of the last user
//! turn) and [`Reply::echo_images`] (`saw N image(s): TYPES`). Faults inside a call's
//! arguments: [`StreamFault::CutInToolArgs`], [`StreamFault::ResetInToolArgs`],
//! [`StreamFault::StallInToolArgs`], [`StreamFault::ErrorInToolArgs`].
//!
//! Every request is parsed into [`Turn`]s of [`Block`]s ([`RecordedRequest::turns`],
//! also under `"turns"` in `GET /_emulator/requests`; the raw body stays in
//! [`RecordedRequest::body`]). Before a script is consulted the tool-use history is
//! checked as the real API checks it (Anthropic and OpenAI tool-result pairing, Gemini 3
//! thought signatures; see [`ToolValidation`]); a failing request gets the provider's
//! 400 and consumes no script action. [`Script::without_tool_validation`] turns the
//! checks off.
//!
//! A tool loop: the first request gets a tool call, the client runs the tool and sends
//! the result back, the second request's answer proves the result arrived.
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use aiw_emulator::{Block, Emulator, Reply, Script, StreamFault, ToolCall};
//! use serde_json::json;
//!
//! let emu = Emulator::start().await?;
//! emu.set_script(
//!     "claude-sonnet-4-5",
//!     Script::sequence(vec![
//!         // 1st request: think, say a word, call a tool (id fixed for the assertions).
//!         Reply::new("Reading it.")
//!             .with_thinking("I need the file.", None)
//!             .with_call(ToolCall::new("read_file", json!({"path": "src/main.rs"})).id("toolu_01A"))
//!             .into(),
//!         // 2nd request (carrying the tool_result): "tool toolu_01A returned: …".
//!         Reply::echo_tool_results().into(),
//!     ]),
//! );
//! // A variant for the failure path: the stream dies 10 characters into the arguments.
//! emu.set_script(
//!     "gpt-4o",
//!     Script::always(
//!         Reply::tool_call("read_file", json!({"path": "src/main.rs"}))
//!             .fault(StreamFault::CutInToolArgs { call: 0, after_chars: 10, clean_eof: false })
//!             .into(),
//!     ),
//! );
//! // … run the client against emu.base_url() …
//! let turns = emu.requests_for("claude-sonnet-4-5")[1].turns();
//! let results = turns
//!     .iter()
//!     .flat_map(|t| &t.blocks)
//!     .filter(|b| matches!(b, Block::ToolResult { id: Some(id), .. } if id == "toolu_01A"))
//!     .count();
//! assert_eq!(results, 1);
//! # Ok(()) }
//! ```
//!
//! # Runtime
//! The server runs as tasks on the Tokio runtime that calls [`Emulator::start`]. With a
//! current-thread runtime (plain `#[tokio::test]`) it only makes progress while the test
//! awaits, so drive blocking HTTP clients from `spawn_blocking` or use
//! `#[tokio::test(flavor = "multi_thread")]`.
//!
//! # Example
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use std::time::Duration;
//! use aiw_emulator::{Action, Emulator, ErrorKind, Script};
//!
//! let emu = Emulator::start().await?;
//! emu.set_script(
//!     "claude-sonnet-4-5",
//!     Script::down_then(Duration::from_secs(2), Action::error(ErrorKind::Overloaded), Action::reply("back")),
//! );
//! // point the client at emu.base_url() …
//! assert_eq!(emu.count("claude-sonnet-4-5"), 0);
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod github;
mod gitlab;
mod http;
mod protocol;
mod record;
mod script;
mod server;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;

pub use github::{Comment as GithubComment, ReviewComment as GithubReviewComment};
pub use gitlab::{
    Call as GitlabCall, DIFF_REFS as GITLAB_DIFF_REFS, Discussion as GitlabDiscussion,
    Note as GitlabNote,
};
pub use record::{Block, Host, ImageSource, Protocol, RecordedRequest, Turn, TurnRole};
pub use script::{
    Action, ErrorKind, ErrorReply, Phase, PromptRule, Reply, Script, StreamFault, Thinking,
    ToolCall, ToolValidation,
};

use server::{Shared, lock};

/// The AWS keys the emulator's Bedrock routes accept (SigV4, service `bedrock`, any region).
pub mod aws {
    pub use crate::protocol::bedrock::{
        ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN, TEMP_ACCESS_KEY_ID, TEMP_SECRET_ACCESS_KEY,
    };
}

/// The Google service account the emulator's token endpoint accepts.
pub mod google {
    pub use crate::protocol::vertex::{
        CLIENT_EMAIL, PROJECT_ID, TEST_PRIVATE_KEY_PEM, UNTRUSTED_PRIVATE_KEY_PEM,
    };
}

/// A running emulator. Cheap to clone (an `Arc` inside); the server stops when the last
/// handle is dropped or on [`Emulator::shutdown`].
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.inner.addr)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` on a free port. Must be called inside a Tokio
    /// runtime; the server runs as a task on it.
    pub async fn start() -> std::io::Result<Emulator> {
        Emulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts an emulator listening on `addr`.
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Emulator> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new());
        let (stop, stop_rx) = watch::channel(false);
        tokio::spawn(server::serve(listener, shared.clone(), stop_rx));
        Ok(Emulator {
            inner: Arc::new(Inner { addr, shared, stop }),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// Sets (replaces) the script of `model` and restarts its clock and counters.
    pub fn set_script(&self, model: &str, script: Script) {
        self.inner.shared.set_script(model, script);
    }

    /// Every recorded request (provider endpoints and model lists; not status pages or
    /// control calls), in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.inner.shared.requests).clone()
    }

    /// The recorded requests whose model is `model`.
    pub fn requests_for(&self, model: &str) -> Vec<RecordedRequest> {
        lock(&self.inner.shared.requests)
            .iter()
            .filter(|r| r.model == model)
            .cloned()
            .collect()
    }

    /// Generation requests (POST) received for `model`, including rejected ones.
    pub fn count(&self, model: &str) -> usize {
        lock(&self.inner.shared.requests)
            .iter()
            .filter(|r| r.model == model && r.method == "POST")
            .count()
    }

    /// The most generation requests that were being answered at the same time (since the
    /// start, or since [`Emulator::clear_requests`]).
    pub fn max_in_flight(&self) -> usize {
        lock(&self.inner.shared.in_flight).1
    }

    /// The base URL of the fake GitHub REST API (`GITHUB_API_URL`).
    pub fn github_api_url(&self) -> String {
        self.base_url()
    }

    /// Every pull request comment posted to the fake GitHub API, oldest first.
    pub fn github_comments(&self) -> Vec<GithubComment> {
        lock(&self.inner.shared.github).all()
    }

    /// Inline review comments posted to the fake GitHub API (with their reviews), oldest first.
    pub fn github_review_comments(&self) -> Vec<GithubReviewComment> {
        lock(&self.inner.shared.github).review_comments()
    }

    /// Adds `n` comments by someone else to a pull request of the fake GitHub API, so that
    /// aiw's own comment is on a later page.
    pub fn seed_github_comments(&self, repo: &str, pr: u64, n: usize) {
        lock(&self.inner.shared.github).seed(repo, pr, n);
    }

    /// The base URL of the fake GitLab API (`CI_API_V4_URL`).
    pub fn gitlab_api_url(&self) -> String {
        format!("{}/api/v4", self.base_url())
    }

    /// Every merge request note posted to the fake GitLab API, oldest first.
    pub fn gitlab_notes(&self) -> Vec<GitlabNote> {
        lock(&self.inner.shared.gitlab).notes()
    }

    /// Every diff discussion posted to the fake GitLab API, oldest first.
    pub fn gitlab_discussions(&self) -> Vec<GitlabDiscussion> {
        lock(&self.inner.shared.gitlab).discussions()
    }

    /// Every call the fake GitLab API received, in order.
    pub fn gitlab_calls(&self) -> Vec<GitlabCall> {
        lock(&self.inner.shared.gitlab).calls()
    }

    /// Makes the fake GitLab API accept only these tokens (401 for any other).
    pub fn gitlab_accept_tokens(&self, tokens: &[&str]) {
        lock(&self.inner.shared.gitlab).tokens =
            Some(tokens.iter().map(ToString::to_string).collect());
    }

    /// Makes every call to the fake GitLab API answer `301 Moved Permanently` to `url` plus
    /// the call's path.
    pub fn gitlab_redirect_to(&self, url: &str) {
        lock(&self.inner.shared.gitlab).redirect = Some(url.to_string());
    }

    /// Forgets all recorded requests (scripts and their clocks are kept), and the
    /// [`Emulator::max_in_flight`] count.
    pub fn clear_requests(&self) {
        lock(&self.inner.shared.requests).clear();
        let mut g = lock(&self.inner.shared.in_flight);
        g.1 = g.0;
    }

    /// Serves `summary` at `GET /status/{name}/api/v2/summary.json` (and its `page` and
    /// `status` at `…/status.json`).
    pub fn set_status_page(&self, name: &str, summary: serde_json::Value) {
        lock(&self.inner.shared.status_pages).insert(name.to_owned(), summary);
    }

    /// How many times `GET /status/{name}/api/v2/…` was requested.
    pub fn status_requests(&self, name: &str) -> usize {
        lock(&self.inner.shared.status_hits)
            .get(name)
            .copied()
            .unwrap_or(0)
    }

    /// Recorded requests as the JSON array served at `GET /_emulator/requests`.
    pub fn requests_json(&self) -> serde_json::Value {
        let started = self.inner.shared.started;
        serde_json::Value::Array(
            lock(&self.inner.shared.requests)
                .iter()
                .map(|r| server::request_json(r, started))
                .collect(),
        )
    }

    /// A service-account key file (JSON) for [`google::CLIENT_EMAIL`] whose `token_uri` is
    /// this emulator's `POST /token`, signed with [`google::TEST_PRIVATE_KEY_PEM`].
    pub fn service_account_json(&self) -> String {
        self.service_account_json_with_key(google::TEST_PRIVATE_KEY_PEM)
    }

    /// [`Emulator::service_account_json`] with another private key (e.g.
    /// [`google::UNTRUSTED_PRIVATE_KEY_PEM`], whose assertions the token endpoint refuses).
    pub fn service_account_json_with_key(&self, private_key_pem: &str) -> String {
        protocol::vertex::key_file(&self.base_url(), private_key_pem)
    }

    /// The lifetime (`expires_in`, and how long the Vertex routes accept them) of tokens
    /// issued from now on; default one hour.
    pub fn set_token_lifetime(&self, lifetime: std::time::Duration) {
        lock(&self.inner.shared.tokens).lifetime = lifetime;
    }

    /// Makes every token issued so far invalid, as if each had expired: the next call with
    /// one gets 401 `UNAUTHENTICATED` (reason `ACCESS_TOKEN_EXPIRED`).
    pub fn expire_tokens(&self) {
        lock(&self.inner.shared.tokens).expire_all();
    }

    /// How many token exchanges (`POST /token`) were attempted, accepted or not.
    pub fn token_requests(&self) -> usize {
        lock(&self.inner.shared.tokens).requests
    }

    /// Stops accepting connections and ends all open ones (hung and stalled included).
    pub fn shutdown(&self) {
        self.inner.stop.send_replace(true);
    }
}
