//! Logging: tracing events go to `aiw.log` in the state dir (appended; rotated at 10 MiB),
//! never to the terminal, so they cannot corrupt streamed output or the TUI. `-v` raises the
//! level; `--debug` also logs request and response bodies (keys are never logged).

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;

/// Installs the file logger. Failures to open the log are ignored: logging must never stop aiw.
pub fn init(state_dir: &Path, verbose: u8, debug: bool) {
    if std::fs::create_dir_all(state_dir).is_err() {
        return;
    }
    let path = state_dir.join("aiw.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
        let _ = std::fs::rename(&path, state_dir.join("aiw.log.1"));
    }
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
    else {
        return;
    };
    let level = match (debug, verbose) {
        (true, _) | (_, 2..) => "debug",
        (_, 1) => "info",
        _ => "warn",
    };
    let filter = EnvFilter::try_from_env("AIW_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("aiw={level},warn")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init();
}
