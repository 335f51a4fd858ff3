//! `aiw serve`: the gateway on loopback (or where `--listen` says), until Ctrl+C.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::Context;
use crate::cli::ServeArgs;
use crate::config::Secret;
use crate::gateway::{self, Gateway};
use crate::output;
use crate::router::Router;

/// Where `aiw serve` listens without `--listen`.
pub const DEFAULT_LISTEN: ([u8; 4], u16) = ([127, 0, 0, 1], 4141);

/// Runs `aiw serve`.
pub async fn run(mut ctx: Context, args: ServeArgs) -> anyhow::Result<ExitCode> {
    if let Some(route) = &args.route {
        route_everything(&mut ctx, route)?;
    }
    let explicit = args.listen.is_some();
    let listen = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(DEFAULT_LISTEN));
    let given = args.token.filter(|t| !t.trim().is_empty());
    if !listen.ip().is_loopback() && given.is_none() {
        anyhow::bail!(
            "refusing to listen on {listen} without a token: set --token or AIW_GATEWAY_TOKEN (every client must send it)"
        );
    }
    let made = given.is_none();
    let token = given.map_or_else(gateway::new_token, Secret::new);
    let listener = gateway::bind(listen, explicit).await?;
    let addr = listener.local_addr()?;
    let router = Router::new(Arc::new(ctx.settings))?;
    let gw = Arc::new(Gateway::new(router, token.clone()));
    let shutdown = CancellationToken::new();
    output::note(&format!(
        "aiw serve: listening on http://{addr} (Ctrl+C stops)"
    ));
    output::note(&format!(
        "  Anthropic clients: ANTHROPIC_BASE_URL=http://{addr}  OpenAI clients: OPENAI_BASE_URL=http://{addr}/v1"
    ));
    if made {
        // The gateway's own token, made for this run: the user needs it to connect.
        output::note(&format!(
            "  token (send as x-api-key or Bearer; ANTHROPIC_AUTH_TOKEN / OPENAI_API_KEY): {}",
            token.expose()
        ));
    }
    let server = tokio::spawn(gw.serve(listener, shutdown.clone()));
    tokio::signal::ctrl_c().await?;
    shutdown.cancel();
    let _ = server.await;
    Ok(ExitCode::SUCCESS)
}

/// Makes every client model answer with `route`.
pub fn route_everything(ctx: &mut Context, route: &str) -> anyhow::Result<()> {
    if !ctx.settings.routes.contains_key(route) {
        anyhow::bail!(
            "no route named `{route}`: define it under [routes] (defined: {})",
            ctx.settings
                .routes
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    ctx.settings.gateway.models.clear();
    ctx.settings.gateway.route = route.to_string();
    Ok(())
}
