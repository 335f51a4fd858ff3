//! `aiw completions SHELL`: prints the completion script generated from the CLI definition.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// The completion script for a shell, as bytes.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "aiw", &mut buf);
    buf
}

/// Runs `aiw completions`.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    crate::output::stream_text(&String::from_utf8_lossy(&script(args.shell)))?;
    Ok(ExitCode::SUCCESS)
}
