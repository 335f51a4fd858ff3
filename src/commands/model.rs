//! `aiw model` (placeholder).

use std::process::ExitCode;

use super::Context;

/// Runs `aiw model`.
pub async fn run(_ctx: &Context, _args: crate::cli::ModelArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`aiw model` is not implemented yet")
}
