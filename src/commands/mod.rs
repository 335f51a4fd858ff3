//! One file per subcommand, named like the CLI word, plus the [`Context`] they share.

pub mod ask;
pub mod chat;
pub mod completions;
pub mod config;
pub mod man;
pub mod model;
pub mod queue;
pub mod review;
pub mod sessions;
pub mod status;

use anyhow::Context as _;

use crate::cli::Cli;
use crate::config::{Paths, Settings};

/// What every command gets: the resolved settings.
pub struct Context {
    /// Resolved configuration.
    pub settings: Settings,
}

impl Context {
    /// Resolves paths, loads the config (user file + project file from the current directory)
    /// and prints its warnings once on stderr.
    pub fn load(cli: &Cli) -> anyhow::Result<Self> {
        let paths = Paths::resolve(cli.config.as_deref())?;
        let cwd = std::env::current_dir().ok();
        let settings = Settings::load(paths, cwd.as_deref()).context("invalid configuration")?;
        // From here on no known secret reaches a prompt, a log line or the terminal.
        crate::redact::install(crate::redact::Redactor::for_settings(
            &settings,
            std::env::vars_os(),
        ));
        for w in &settings.warnings {
            crate::output::warn(w);
        }
        Ok(Self { settings })
    }
}
