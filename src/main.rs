//! The `aiw` binary: parse the command line, run, print any error once, return the exit code.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = aiw::cli::Cli::parse();
    match aiw::run(cli).await {
        Ok(code) => code,
        Err(err) => aiw::output::report_fatal(&err),
    }
}
