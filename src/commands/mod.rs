//! One file per subcommand, named like the CLI word, plus the [`Context`] they share.

pub mod ask;
pub mod chat;
pub mod completions;
pub mod config;
pub mod drill;
pub mod eval;
pub mod man;
pub mod model;
pub mod queue;
pub mod review;
pub mod run;
pub mod serve;
pub mod sessions;
pub mod status;

use anyhow::Context as _;

use crate::cli::{Cli, Command};
use crate::config::{Paths, Settings, UserFile};
use review::policy::PolicySource;

/// What every command gets: the resolved settings.
pub struct Context {
    /// Resolved configuration.
    pub settings: Settings,
    /// Where `aiw review` takes its review policy from (the checkout for other commands).
    pub review_policy: PolicySource,
}

impl Context {
    /// Resolves paths, loads the config (the user file, then the project file: from the
    /// current directory, or for `aiw review` in CI from the base branch) and prints its
    /// warnings once on stderr.
    pub fn load(cli: &Cli) -> anyhow::Result<Self> {
        let paths = Paths::resolve(cli.config.as_deref())?;
        let user = UserFile::load(&paths, cli.config.is_some()).context("invalid configuration")?;
        let cwd = std::env::current_dir().ok();
        let env = |k: &str| std::env::var(k).ok();
        let review_policy = match &cli.command {
            Command::Review(args) => review::policy::decide(&user, args, cwd.as_deref(), &env),
            _ => PolicySource::Checkout,
        };
        let project = review_policy
            .project_file(cwd.as_deref())
            .context("invalid configuration")?;
        let settings =
            Settings::from_files(paths, user, project).context("invalid configuration")?;
        // From here on no known secret reaches a prompt, a log line or the terminal.
        crate::redact::install(crate::redact::Redactor::for_settings(
            &settings,
            std::env::vars_os(),
        ));
        for w in &settings.warnings {
            crate::output::warn(w);
        }
        Ok(Self {
            settings,
            review_policy,
        })
    }
}
