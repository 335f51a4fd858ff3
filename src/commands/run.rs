//! `aiw run -- CMD`: starts the gateway on an ephemeral loopback port inside this process and
//! runs CMD with its Anthropic and OpenAI base URLs pointing at it and a fresh per-run token
//! as its key; the real provider keys are taken out of CMD's environment and stay in aiw.
//! CMD owns the terminal; aiw prints nothing while it runs (but a failover line with
//! `--notify`) and exits with CMD's status.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::Context;
use crate::cli::RunArgs;
use crate::gateway::{self, Gateway};
use crate::output;
use crate::router::Router;

/// Key variables that never reach the child, on top of every configured provider's.
const KEY_VARS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_AUTH_TOKEN",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "AIW_GATEWAY_TOKEN",
];

/// Runs `aiw run`.
pub async fn run(mut ctx: Context, args: RunArgs) -> anyhow::Result<ExitCode> {
    if let Some(route) = &args.route {
        super::serve::route_everything(&mut ctx, route)?;
    }
    let Some((program, rest)) = args.command.split_first() else {
        anyhow::bail!("nothing to run: give the command after `--`, e.g. `aiw run -- claude`");
    };
    let mut hidden: BTreeSet<String> = KEY_VARS.iter().map(|s| (*s).to_string()).collect();
    for p in ctx.settings.providers.values() {
        hidden.extend(p.api_key_env.iter().cloned());
    }
    let settings = Arc::new(ctx.settings);
    let router = Router::new(settings.clone())?;
    let token = gateway::new_token();
    let mut gw = Gateway::new(router.clone(), token.clone());
    if args.notify {
        gw = gw.on_failover(output::warn);
    }
    let shutdown = CancellationToken::new();
    let addr = gateway::start(gw, shutdown.clone()).await?;
    let base = format!("http://{addr}");
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(rest);
    for v in &hidden {
        cmd.env_remove(v);
    }
    cmd.env("ANTHROPIC_BASE_URL", &base)
        .env("ANTHROPIC_AUTH_TOKEN", token.expose())
        .env("OPENAI_BASE_URL", format!("{base}/v1"))
        .env("OPENAI_API_KEY", token.expose());
    let mut child = cmd.spawn().map_err(|e| {
        anyhow::anyhow!("cannot start `{program}`: {e} (is it installed and on PATH?)")
    })?;
    let pid = child.id();
    // The terminal's Ctrl+C reaches the child too (same process group): aiw keeps serving it
    // until it exits. A SIGTERM to aiw is passed on.
    let status = loop {
        tokio::select! {
            s = child.wait() => break s?,
            _ = tokio::signal::ctrl_c() => {}
            () = sigterm() => {
                if let Some(pid) = pid {
                    let _ = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status();
                }
            }
        }
    };
    shutdown.cancel();
    router
        .finish_background(settings.health.probe_timeout)
        .await;
    Ok(exit_code(status))
}

#[cfg(unix)]
async fn sigterm() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut s) => {
            s.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn sigterm() {
    std::future::pending().await
}

/// The child's exit status as aiw's: its code, or 128 + the signal that ended it.
fn exit_code(status: std::process::ExitStatus) -> ExitCode {
    if let Some(c) = status.code() {
        return ExitCode::from(u8::try_from(c).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(sig) = status.signal() {
            return ExitCode::from(u8::try_from(128 + sig).unwrap_or(1));
        }
    }
    ExitCode::from(1)
}
