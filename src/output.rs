//! The only module that prints: streamed answer text on stdout, status and errors on stderr,
//! the spinner (only when stderr is a terminal), colour (off with NO_COLOR or when not a
//! terminal), and quiet exit on a broken pipe. Everything printed passes through the secret
//! redactor ([`crate::redact::global`]) first.
#![expect(clippy::print_stderr, reason = "this module is where aiw prints")]

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use crate::exit;
use crate::redact;

/// Raised when stdout's reader went away (`aiw ask ... | head -1`): exit quietly with 0.
#[derive(Debug, thiserror::Error)]
#[error("broken pipe")]
pub struct BrokenPipe;

/// A usage or configuration error that should exit with code 2 (the default for errors).
/// Other error types may carry their own code with [`Exit`].
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    /// The message printed after `aiw: `.
    pub message: String,
    /// The exit code.
    pub code: u8,
}

fn map_io(e: io::Error) -> anyhow::Error {
    if e.kind() == io::ErrorKind::BrokenPipe {
        anyhow::Error::new(BrokenPipe)
    } else {
        anyhow::Error::new(e).context("cannot write to stdout")
    }
}

/// Writes answer text to stdout and flushes it, so it streams.
pub fn stream_text(text: &str) -> anyhow::Result<()> {
    let text = redact::global().scrub(text);
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(map_io)?;
    out.flush().map_err(map_io)
}

/// Writes a whole line to stdout.
pub fn line(text: &str) -> anyhow::Result<()> {
    let text = redact::global().scrub(text);
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes()).map_err(map_io)?;
    if !text.ends_with('\n') {
        out.write_all(b"\n").map_err(map_io)?;
    }
    out.flush().map_err(map_io)
}

/// Passes bytes through to stdout unchanged (a wrapped command's output), flushed.
pub fn raw_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let bytes = redact::global().scrub_bytes(bytes);
    let mut out = io::stdout().lock();
    out.write_all(&bytes).map_err(map_io)?;
    out.flush().map_err(map_io)
}

/// Passes bytes through to stderr unchanged (a wrapped command's diagnostics).
pub fn raw_stderr(bytes: &[u8]) {
    let bytes = redact::global().scrub_bytes(bytes);
    let mut err = io::stderr().lock();
    let _ = err.write_all(&bytes);
    let _ = err.flush();
}

/// A status note on stderr (`aiw: ...`).
pub fn note(text: &str) {
    let text = redact::global().scrub(text);
    eprintln!("aiw: {text}");
}

/// A warning on stderr, highlighted when colour is on.
pub fn warn(text: &str) {
    let text = redact::global().scrub(text);
    if color_stderr() {
        eprintln!("\x1b[33maiw: warning:\x1b[0m {text}");
    } else {
        eprintln!("aiw: warning: {text}");
    }
}

/// An error line on stderr.
pub fn error(text: &str) {
    let text = redact::global().scrub(text);
    if color_stderr() {
        eprintln!("\x1b[31maiw: error:\x1b[0m {text}");
    } else {
        eprintln!("aiw: error: {text}");
    }
}

/// Whether stderr gets colour: a terminal, and NO_COLOR unset.
pub fn color_stderr() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stderr().is_terminal()
}

/// Whether stdin is piped (not a terminal).
pub fn stdin_is_piped() -> bool {
    !io::stdin().is_terminal()
}

/// Whether stdout is a terminal.
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// A spinner on stderr while waiting; a no-op when stderr is not a terminal.
pub struct Spinner(Option<indicatif::ProgressBar>);

impl Spinner {
    /// Starts a spinner with a message, only when stderr is a terminal.
    pub fn start(message: &str) -> Self {
        if !io::stderr().is_terminal() {
            return Self(None);
        }
        let pb = indicatif::ProgressBar::new_spinner();
        pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        pb.set_message(message.to_string());
        pb.enable_steady_tick(Duration::from_millis(100));
        Self(Some(pb))
    }
    /// Changes the message.
    pub fn set_message(&self, message: &str) {
        if let Some(pb) = &self.0 {
            pb.set_message(redact::global().scrub(message).into_owned());
        }
    }
    /// Removes the spinner from the screen.
    pub fn stop(&mut self) {
        if let Some(pb) = self.0.take() {
            pb.finish_and_clear();
        }
    }
    /// Prints a line above the spinner (or plainly when there is none).
    pub fn println(&self, text: &str) {
        let text = redact::global().scrub(text);
        match &self.0 {
            Some(pb) => pb.suspend(|| eprintln!("aiw: {text}")),
            None => eprintln!("aiw: {text}"),
        }
    }
    /// Prints a [`warn`] line above the spinner (or plainly when there is none).
    pub fn warn(&self, text: &str) {
        match &self.0 {
            Some(pb) => pb.suspend(|| warn(text)),
            None => warn(text),
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One progress bar per row (an eval's models) on stderr when it is a terminal; without a
/// terminal each step is a plain `aiw: ...` line instead.
pub struct Bars {
    multi: Option<indicatif::MultiProgress>,
    bars: Vec<indicatif::ProgressBar>,
}

impl Bars {
    /// A bar for each `(label, steps)`.
    pub fn new(rows: &[(String, u64)]) -> Self {
        if !io::stderr().is_terminal() {
            return Self {
                multi: None,
                bars: Vec::new(),
            };
        }
        let multi =
            indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
        let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(10);
        let style = indicatif::ProgressStyle::with_template(&format!(
            "{{prefix:{width}}} {{bar:30}} {{pos}}/{{len}} {{msg}}"
        ))
        .ok();
        let bars = rows
            .iter()
            .map(|(label, steps)| {
                let pb = multi.add(indicatif::ProgressBar::new(*steps));
                if let Some(s) = &style {
                    pb.set_style(s.clone());
                }
                pb.set_prefix(redact::global().scrub(label).into_owned());
                pb
            })
            .collect();
        Self {
            multi: Some(multi),
            bars,
        }
    }

    /// One step of row `row` is done: its bar moves (with `message` beside it), or `line` is
    /// printed when there are no bars.
    pub fn step(&self, row: usize, message: &str, line: &str) {
        match self.bars.get(row) {
            Some(pb) => {
                pb.inc(1);
                pb.set_message(redact::global().scrub(message).into_owned());
            }
            None if self.multi.is_none() => note(line),
            None => {}
        }
    }

    /// Removes the bars from the screen.
    pub fn finish(&self) {
        for pb in &self.bars {
            pb.finish_and_clear();
        }
        if let Some(m) = &self.multi {
            let _ = m.clear();
        }
    }
}

/// A progress bar for downloads (bytes), on stderr when it is a terminal.
pub fn download_bar(total: Option<u64>, already: u64) -> indicatif::ProgressBar {
    let pb = match total {
        Some(t) => indicatif::ProgressBar::new(t),
        None => indicatif::ProgressBar::new_spinner(),
    };
    if io::stderr().is_terminal() {
        pb.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            pb.set_style(style);
        }
    } else {
        pb.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    pb.set_position(already);
    pb
}

/// Prints a fatal error once (with its causes) and returns the exit code for it.
pub fn report_fatal(err: &anyhow::Error) -> ExitCode {
    if err.downcast_ref::<BrokenPipe>().is_some() {
        return exit::code(exit::OK);
    }
    if let Some(e) = err.downcast_ref::<Exit>() {
        error(&e.message);
        return exit::code(e.code);
    }
    error(&format!("{err:#}"));
    exit::code(exit::USAGE)
}
