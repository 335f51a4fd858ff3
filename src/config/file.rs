//! The config file schema as written on disk (every field optional; numbers as TOML's 64-bit
//! integers so an out-of-range value is reported by key, not as a type error), parsing with
//! file:line:column errors followed by the value checks of `validate`, and the commented
//! template `aiw config init` writes. Merging a project file in is `project`'s job.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, FallbackPolicy, ProviderKind, validate};

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Name of the route used when a command has no route of its own.
    pub default_route: Option<String>,
    /// `[providers.NAME]` sections.
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderFile>,
    /// `[routes]`: name -> ordered list of `provider/model`.
    #[serde(default)]
    pub routes: BTreeMap<String, Vec<String>>,
    /// `[timeouts]`.
    #[serde(default)]
    pub timeouts: TimeoutsFile,
    /// `[health]`.
    #[serde(default)]
    pub health: HealthFile,
    /// `[fallback]`.
    #[serde(default)]
    pub fallback: FallbackFile,
    /// `[chat]`.
    #[serde(default)]
    pub chat: ChatFile,
    /// `[review]`.
    #[serde(default)]
    pub review: ReviewFile,
    /// `[gateway]`: `aiw serve` and `aiw run`. Read from the user's config file only.
    #[serde(default)]
    pub gateway: GatewayFile,
    /// Which file set a setting, for settings a project file set (see [`FileConfig::origin_of`]).
    #[serde(skip)]
    pub(crate) origins: BTreeMap<String, PathBuf>,
    /// `[limits]` (user file only: a project file cannot raise them).
    #[serde(default)]
    pub limits: LimitsFile,
    /// `[summary]`: the rolling session summary (user file only: it picks where the
    /// conversation is sent).
    #[serde(default)]
    pub summary: SummaryFile,
    /// `[prices."provider/model"]`: prices over the shipped table (user file only).
    #[serde(default)]
    pub prices: BTreeMap<String, super::Price>,
}

/// `[summary]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummaryFile {
    /// Keep a rolling summary at all.
    pub enabled: Option<bool>,
    /// Refresh after this many new turns.
    pub every_turns: Option<i64>,
    /// Or after this many (estimated) tokens of new history.
    pub every_tokens: Option<i64>,
    /// The model that writes it, `provider/model`.
    pub model: Option<String>,
}

/// A `[providers.NAME]` section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFile {
    /// The API it speaks; implied for the built-in names.
    pub kind: Option<ProviderKind>,
    /// Endpoint override.
    pub base_url: Option<String>,
    /// Environment variable holding the key.
    pub api_key_env: Option<String>,
    /// Statuspage v2 summary.json URL.
    pub status_page: Option<String>,
    /// Context window of this provider's models, in tokens.
    pub context_window: Option<i64>,
    /// Local only: model name or path.
    pub model: Option<String>,
    /// Local only: `"auto"` or a layer count.
    pub gpu_layers: Option<GpuLayersFile>,
    /// Local only: CPU threads.
    pub threads: Option<i64>,
    /// Local only: context size in tokens.
    pub context_size: Option<i64>,
    /// Local only: batch size in tokens.
    pub batch_size: Option<i64>,
    /// Bedrock: the AWS region; Vertex: the Google Cloud location (`us-east5`, `global`).
    pub region: Option<String>,
    /// Vertex only: the Google Cloud project id.
    pub project: Option<String>,
    /// Bedrock only: the profile of the shared AWS credentials file.
    pub profile: Option<String>,
    /// Bedrock: the shared AWS credentials file; Vertex: the service-account key file. Read
    /// from the user's own file only.
    pub credentials_file: Option<String>,
    /// Bedrock and Vertex: `[providers.NAME.models]`, model name in routes -> the host's id.
    pub models: Option<BTreeMap<String, String>>,
}

/// `gpu_layers = "auto"` or a number.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum GpuLayersFile {
    /// A layer count (0 = CPU only).
    Count(i64),
    /// The word `auto`.
    Auto(AutoWord),
}

/// The literal `"auto"`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum AutoWord {
    /// `auto`
    Auto,
}

/// `[timeouts]`: durations as strings (`"30s"`).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsFile {
    /// Connection.
    pub connect: Option<String>,
    /// First token.
    pub first_token: Option<String>,
    /// Silence between chunks.
    pub stall: Option<String>,
    /// Whole call.
    pub total: Option<String>,
}

/// `[health]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HealthFile {
    /// Consecutive failures that open a breaker.
    pub failure_threshold: Option<i64>,
    /// Failure rate that opens a breaker.
    pub failure_rate: Option<f64>,
    /// Statistics window.
    pub window: Option<String>,
    /// Latency degradation factor.
    pub latency_factor: Option<f64>,
    /// First open period.
    pub base_open: Option<String>,
    /// Longest open period.
    pub max_open: Option<String>,
    /// Retries per minute across the process.
    pub retry_budget_per_minute: Option<i64>,
    /// Longest Retry-After worth waiting for.
    pub max_retry_wait: Option<String>,
    /// Probe timeout.
    pub probe_timeout: Option<String>,
    /// Fleet health store (`redis://host:6379/0`, `rediss://…`, `valkey://…`); the user's
    /// config file (or `AIW_HEALTH_STORE`) only.
    pub store: Option<String>,
    /// Soft failures (empty answers, missing required tool calls, early `max_tokens` stops)
    /// in a row that take a model out of rotation; 0 = off.
    pub quality_failure_threshold: Option<i64>,
    /// A `max_tokens` stop below this fraction of the request's limit is a soft failure.
    pub min_output_ratio: Option<f64>,
    /// Fallback models whose last eval pass rate is below this are not fallen back to.
    pub min_eval_score: Option<f64>,
}

/// `[fallback]`: how loudly (or whether) commands fall back to lower tiers of their route.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FallbackFile {
    /// For every command and route that sets nothing.
    pub default: Option<FallbackPolicy>,
    /// `aiw ask`.
    pub ask: Option<FallbackPolicy>,
    /// `aiw chat`.
    pub chat: Option<FallbackPolicy>,
    /// `aiw review`.
    pub review: Option<FallbackPolicy>,
    /// `[fallback.routes]`: route name -> policy.
    #[serde(default)]
    pub routes: BTreeMap<String, FallbackPolicy>,
}

impl FallbackFile {
    /// Whether the section sets anything.
    pub fn is_empty(&self) -> bool {
        self.default.is_none()
            && self.ask.is_none()
            && self.chat.is_none()
            && self.review.is_none()
            && self.routes.is_empty()
    }
}

/// `[chat]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatFile {
    /// `[chat.keys]`: action -> key or keys, e.g. `next_model = ["f2", "ctrl-n"]`.
    #[serde(default)]
    pub keys: BTreeMap<String, OneOrMany>,
}

/// `[review]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewFile {
    /// Globs to skip.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Globs to review even if skipped by default.
    #[serde(default)]
    pub include: Vec<String>,
    /// Chunks reviewed in parallel.
    pub concurrency: Option<i64>,
    /// Attempts before a queued job is dead-lettered.
    pub queue_max_attempts: Option<i64>,
    /// In CI, take the review policy from the pull request's own files instead of the base
    /// branch's. Read from the user's config file only.
    pub trust_pr_policy: Option<bool>,
    /// Most chunks one review sends (user file only); the rest make the review partial.
    pub max_chunks: Option<i64>,
    /// The Redis or Valkey store of the review queue (user file only).
    pub queue_store: Option<String>,
}

/// `[limits]`: sizes as a number of bytes or a string like `"8 MiB"`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Largest answer one model call may stream.
    pub answer: Option<SizeFile>,
    /// Largest diff `aiw review` reads.
    pub diff: Option<SizeFile>,
}

/// A size: bytes, or text with a unit.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SizeFile {
    /// A number of bytes.
    Bytes(u64),
    /// `"8 MiB"`, `"512KiB"`, `"1MB"`, `"100"`.
    Text(String),
}

/// `[gateway]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// Client model id glob -> route name, e.g. `"claude-haiku-*" = "fast"`; first match wins
    /// (in the order globs sort), else `route`.
    #[serde(default)]
    pub models: BTreeMap<String, String>,
    /// The route for client models no glob matches (default: the default route).
    pub route: Option<String>,
    /// Largest request body accepted, in MiB.
    pub max_body_mib: Option<i64>,
    /// Streams answered at once; more get the protocol's overload error.
    pub max_streams: Option<i64>,
}

/// A string or a list of strings.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One.
    One(String),
    /// Many.
    Many(Vec<String>),
}

impl OneOrMany {
    /// As a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            Self::One(s) => vec![s],
            Self::Many(v) => v,
        }
    }
}

impl FileConfig {
    /// Parses TOML text and checks every value (ranges, URLs, names, list sizes); errors
    /// carry the file (and for syntax, the line and column) and never echo a huge value.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let cfg: Self = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |span| line_col(text, span.start));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: validate::shorten(e.message().trim()),
            }
        })?;
        validate::file(&cfg, path)?;
        Ok(cfg)
    }

    /// The file a setting came from (`routes.NAME`, `providers.NAME`, `default_route`,
    /// `timeouts`, `health`, `fallback`, `review`): the project file when it set it, else `user`.
    pub(crate) fn origin_of<'a>(&'a self, key: &str, user: &'a Path) -> &'a Path {
        self.origins.get(key).map_or(user, PathBuf::as_path)
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

/// What `aiw config init` writes: every setting, commented, with its default.
pub const DEFAULT_CONFIG_TEMPLATE: &str = include_str!("../../assets/config.example.toml");
