//! `aiw sessions` (placeholder).

use std::process::ExitCode;

use super::Context;

/// Runs `aiw sessions`.
pub fn run(_ctx: &Context, _args: crate::cli::SessionsArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`aiw sessions` is not implemented yet")
}
