//! The one integration-test binary: black-box tests that run the real `aiw` binary (or use the
//! library from outside) with a temporary config, data and state dir and `NO_COLOR=1`, against
//! the provider emulator on 127.0.0.1 (never a real provider). One module per area.

/// `aiw ask` end to end: args, stdin, --json, exit codes, no secrets in any output.
mod ask;
/// Provider conformance: one list of cases run against the Anthropic, OpenAI and Gemini
/// clients (streaming, usage, every error class, truncation, malformed and error events,
/// connection failures, exact request shape, missing key).
mod providers;
/// `aiw review` and `aiw queue` on fixture diffs: policies, outputs, wrap mode, timeout flush.
mod review;
/// Failover, breakers, probes, retries, timeouts, mid-stream seams, exact call counts.
mod router;
/// `aiw sessions` and the session files it reads: list, show, export, rm, salvage warnings.
mod sessions;
/// Settings and routers pointing at an emulator; the hermetic `aiw` command.
mod support;
