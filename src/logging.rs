//! Logging: tracing events go to `aiw.log` in the state dir (appended; rotated at 10 MiB;
//! 0600 in a 0700 directory), never to the terminal, so they cannot corrupt streamed output
//! or the TUI. `-v` raises the level; `--debug` also logs request and response bodies. Every
//! line passes through the secret redactor on its way to the file, so keys are never logged.

use std::io::{self, Write};
use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::EnvFilter;

const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;

/// The log file, scrubbed of known secrets line by line (tracing writes one event per call).
struct Redacting(std::fs::File);

impl Write for Redacting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .write_all(&crate::redact::global().scrub_bytes(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Installs the file logger. Failures to open the log are ignored: logging must never stop aiw.
pub fn init(state_dir: &Path, verbose: u8, debug: bool) {
    let path = state_dir.join("aiw.log");
    if std::fs::metadata(&path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
        let _ = std::fs::rename(&path, state_dir.join("aiw.log.1"));
    }
    let Ok(file) = crate::files::open_private_append(&path) else {
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
        .with_writer(Mutex::new(Redacting(file)))
        .try_init();
}
