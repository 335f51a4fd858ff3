//! The one integration-test binary: black-box tests that run the real `aiw` binary (or use the
//! library from outside) with a temporary config, data, state and home directory, `NO_COLOR=1`
//! and no provider keys, against the provider emulator on 127.0.0.1 (never a real provider).
//! One module per area; each says what goes there.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on unexpected errors"
)]
#![allow(
    clippy::disallowed_methods,
    reason = "tests write fixtures with std::fs::write and call the gateway with plain clients"
)]

/// Real agents and SDKs through the gateway: Claude Code under `aiw run`, the Python SDKs.
mod agents;
/// `aiw ask` end to end: args, stdin, --json, exit codes, no secrets in any output.
mod ask;
/// `aiw chat`: no-terminal refusal, and the tmux end-to-end runs against the emulator (failover
/// and resume; a pinned local model that sends nothing to the cloud; `kill -9` mid-answer and
/// the bytes the session file lost).
mod chat;
/// The command line itself: `--help`, `--version`, the man page, completions (and their
/// drift from `completions/`), bad arguments, `aiw config`, exit codes of usage errors.
mod cli;
/// Claude on Amazon Bedrock and on Google Vertex AI (and Gemini on Vertex): conformance of
/// both clients, SigV4 and event-stream framing as the emulator checks them, Vertex tokens and
/// their refresh, failover along a route that keeps the same Claude on three hosts.
mod cloud_hosts;
/// `aiw eval` and `aiw drill`: every check kind passing and failing on crafted answers, JUnit
/// structure, exit codes, bounded concurrency, stored scores in `aiw status`,
/// `min_eval_score`, drills that leave the real health file untouched, the local model.
mod eval;
/// Fleet health on a real Redis: eight runners learn an outage once; Redis going away fails
/// nothing.
mod fleet;
/// The gateway (`aiw serve`, `aiw run`) as coding agents and SDKs use it, the emulator
/// upstream: pass-through, cross-vendor tool loops, cuts, errors, tokens, limits.
mod gateway;
/// Hostile servers and inputs with canary secrets in the environment: redirects to an
/// attacker, endless answers and SSE lines, the total time limit, garbage and endless diffs,
/// the chunk budget, output paths that are links or devices, private state, truncated GGUFs.
mod hostile_bounds;
/// Hostile repositories against the trust model and the CI review policy: project files
/// that try to redirect keys, fetch URLs, pick the GGUF file, read files outside the
/// repository or set the terms of their own review; canary keys must reach nothing.
mod hostile_policy;
/// `install.sh` into a temporary prefix, then the installed binary (`#[ignore]`d as slow;
/// `scripts/test.sh` runs it).
mod install;
/// The module map of `src/`: which top-level module may use which, arrows one way.
mod layers;
/// The local llama.cpp model as the last tier of a route (feature `local`, real model).
mod local_route;
/// Provider conformance: one list of cases run against the Anthropic, OpenAI and Gemini
/// clients (streaming, usage, every error class, truncation, malformed and error events,
/// connection failures, exact request shape, missing key).
mod providers;
/// The review queue in a real Redis shared by runners: exclusive claims kept alive by a
/// lease, a dead runner's job back, back-off and dead letters, a review queued on one
/// runner replayed by another.
mod queue_store;
/// The README's GitHub Actions and GitLab CI examples run as shell against the emulator.
mod readme_ci;
/// `aiw review` and `aiw queue` on fixture diffs: policies, outputs, wrap mode, timeout flush.
mod review;
/// The PR/MR conversation of `aiw review`: sticky GitHub comment and GitLab note, inline
/// suggestions, rejected tokens and redirects, `aiw queue run` posting on the queued PR.
mod review_conversation;
/// Failover, breakers, probes, retries, timeouts, mid-stream seams, exact call counts.
mod router;
/// `aiw sessions` and the session files it reads: list, show, export, rm, salvage warnings.
mod sessions;
/// `aiw status`: health table, JSON, parallel probes, pre-flight exit code.
mod status;
/// Context across the switch: `context_window` applied to every model, the rolling session
/// summary (due, model, request, background refresh, storage) and fitting that uses it.
mod summary;
/// Settings and routers pointing at an emulator (library level).
mod support;
/// Tool conformance: tool calls, results, images and thinking on every wire, cuts inside tool
/// arguments, and a tool loop across a vendor switch.
mod tools;
/// The sandboxed `aiw` command and config files pointing at the emulator (binary level).
mod util;
