//! `aiw chat` (placeholder).

use std::process::ExitCode;

use super::Context;

/// Runs `aiw chat`.
pub async fn run(_ctx: &Context, _args: crate::cli::ChatArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`aiw chat` is not implemented yet")
}
