//! `aiw review` (placeholder).

use std::process::ExitCode;

use super::Context;

/// Runs `aiw review`.
pub async fn run(_ctx: &Context, _args: crate::cli::ReviewArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`aiw review` is not implemented yet")
}
