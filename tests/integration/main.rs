//! The one integration-test binary: black-box tests that run the real `aiw` binary (or use the
//! library from outside) with a temporary config, data and state dir and `NO_COLOR=1`, against
//! the provider emulator on 127.0.0.1 (never a real provider). One module per area.

/// `aiw ask` end to end: args, stdin, --json, exit codes, no secrets in any output.
mod ask;
/// `aiw chat`: no-terminal refusal, and the tmux end-to-end run against the emulator.
mod chat;
/// Failover, breakers, probes, retries, timeouts, mid-stream seams, exact call counts.
mod router;
/// `aiw sessions` and the session files it reads: list, show, export, rm, salvage warnings.
mod sessions;
/// Settings and routers pointing at an emulator; the hermetic `aiw` command.
mod support;
