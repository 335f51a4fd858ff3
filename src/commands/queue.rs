//! `aiw queue` (placeholder).

use std::process::ExitCode;

use super::Context;

/// Runs `aiw queue`.
pub async fn run(_ctx: &Context, _args: crate::cli::QueueArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`aiw queue` is not implemented yet")
}
