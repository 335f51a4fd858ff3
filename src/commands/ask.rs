//! `aiw ask` (placeholder).

use std::process::ExitCode;

use super::Context;

/// Runs `aiw ask`.
pub async fn run(_ctx: &Context, _args: crate::cli::AskArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`aiw ask` is not implemented yet")
}
