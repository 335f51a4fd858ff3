//! `aiw status` (placeholder).

use std::process::ExitCode;

use super::Context;

/// Runs `aiw status`.
pub async fn run(_ctx: &Context, _args: crate::cli::StatusArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`aiw status` is not implemented yet")
}
