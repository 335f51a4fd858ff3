//! aiw: keeps AI coding work going when an AI provider goes down.
//!
//! Data flows one way: `cli` (what the user asked) -> `commands/` (one file per subcommand)
//! -> `router/` (which model, health, failover) -> `provider/` (one model's wire protocol,
//! or the local llama.cpp model) -> events back up to `output` (stdout/stderr) or `tui/`.
//!
//! - `config/`: files, defaults, the resolved `Settings`, `Secret` keys.
//! - `conversation/`: the provider-neutral messages and content blocks (text, tool calls and
//!   results, images, thinking), stream events, history repair and context fitting.
//! - `session/`: a chat's turns, their JSONL persistence.
//! - `eval/`: eval files (cases and checks), running checks on an answer, stored scores.
//! - `gateway/`: `aiw serve` and `aiw run`: the Anthropic and OpenAI APIs served on loopback
//!   to coding agents, every request answered through the router.
//! - `output`: the only module that prints.
//! - `logging`: tracing to a log file in the state dir, never to the terminal.
//! - `redact`: known secret values replaced in everything aiw sends, logs or prints.
//! - `files`: atomic writes of regular files only, private (0600/0700) state files.

#![cfg_attr(
    test,
    allow(
        clippy::disallowed_methods,
        reason = "tests write fixtures with std::fs::write and talk to the emulator with plain clients"
    )
)]

pub mod cli;
pub mod commands;
pub mod config;
pub mod conversation;
pub mod eval;
pub mod exit;
pub mod files;
pub mod gateway;
pub mod logging;
pub mod output;
pub mod provider;
pub mod redact;
pub mod router;
pub mod session;
pub mod tui;

use std::process::ExitCode;

use cli::{Cli, Command};

/// Runs one parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    // Commands that need no configuration at all.
    match &cli.command {
        Command::Completions(args) => return commands::completions::run(args),
        Command::Man => return commands::man::run(),
        Command::Config(args) => return commands::config::run(cli.config.as_deref(), args.clone()),
        _ => {}
    }
    let ctx = commands::Context::load(&cli)?;
    logging::init(&ctx.settings.paths.state_dir, cli.verbose, cli.debug);
    match cli.command {
        Command::Ask(args) => commands::ask::run(&ctx, args).await,
        Command::Chat(args) => commands::chat::run(&ctx, args).await,
        Command::Review(args) => commands::review::run(&ctx, args).await,
        Command::Status(args) => commands::status::run(&ctx, args).await,
        Command::Model(args) => commands::model::run(&ctx, args).await,
        Command::Sessions(args) => commands::sessions::run(&ctx, args),
        Command::Queue(args) => commands::queue::run(&ctx, args).await,
        Command::Serve(args) => commands::serve::run(ctx, args).await,
        Command::Run(args) => commands::run::run(ctx, args).await,
        Command::Eval(args) => commands::eval::run(&ctx, args).await,
        Command::Drill(args) => commands::drill::run(&ctx, args).await,
        Command::Completions(_) | Command::Man | Command::Config(_) => {
            unreachable!("handled before loading settings")
        }
    }
}
