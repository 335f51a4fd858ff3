//! Configuration: the TOML file schema, built-in defaults, where files live (config, data and
//! state dirs with their `AIW_*` overrides), the project-local file and its trust model
//! (`project`, `trust`), value checks (`validate`), and the resolved [`Settings`] every
//! command works from. Also [`ConfigError`] and [`Secret`].
//!
//! Precedence: command-line flags > environment > project `.aiw/config.toml` (only the
//! settings its trust allows, see `project`) > user config file > built-in defaults.

mod cloud;
mod file;
mod model_ref;
mod prices;
pub mod project;
mod resolve;
mod secret;
pub mod trust;
mod validate;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use cloud::AwsCredentials;
pub use file::{
    DEFAULT_CONFIG_TEMPLATE, FallbackFile, FileConfig, GpuLayersFile, OneOrMany, ProviderFile,
    SizeFile,
};
pub use model_ref::ModelRef;
pub use prices::{Price, Prices};
pub use project::{ProjectFile, RepoFile, ReviewPolicy};
pub use secret::Secret;
pub use validate::{MAX_CONFIG_BYTES, clip};

/// The kind of API a provider speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProviderKind {
    /// Anthropic Messages API.
    Anthropic,
    /// OpenAI Chat Completions.
    #[serde(rename = "openai")]
    OpenAi,
    /// Google Gemini (Developer API).
    Gemini,
    /// Any server speaking OpenAI Chat Completions (OpenRouter, LiteLLM, Ollama, vLLM, llama.cpp).
    #[serde(rename = "openai-compatible")]
    OpenAiCompatible,
    /// The in-process llama.cpp model.
    Local,
    /// Claude on Amazon Bedrock (`InvokeModelWithResponseStream`, SigV4, AWS credentials).
    Bedrock,
    /// Claude and Gemini on Google Vertex AI (OAuth tokens from a service-account key).
    Vertex,
}

impl ProviderKind {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Anthropic => "anthropic",
            Self::OpenAi => "openai",
            Self::Gemini => "gemini",
            Self::OpenAiCompatible => "openai-compatible",
            Self::Local => "local",
            Self::Bedrock => "bedrock",
            Self::Vertex => "vertex",
        }
    }

    /// The provider's usual base URL.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            Self::Anthropic => Some("https://api.anthropic.com"),
            Self::OpenAi => Some("https://api.openai.com/v1"),
            Self::Gemini => Some("https://generativelanguage.googleapis.com"),
            // Bedrock's and Vertex's follow from the region (see `Settings::resolve`).
            Self::OpenAiCompatible | Self::Local | Self::Bedrock | Self::Vertex => None,
        }
    }

    /// The environment variables the key is read from by default, in order.
    pub fn default_key_envs(self) -> &'static [&'static str] {
        match self {
            Self::Anthropic => &["ANTHROPIC_API_KEY"],
            Self::OpenAi => &["OPENAI_API_KEY"],
            Self::Gemini => &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
            // The cloud hosts authenticate with their platform's credentials, not a key.
            Self::OpenAiCompatible | Self::Local | Self::Bedrock | Self::Vertex => &[],
        }
    }

    /// The kind implied by a built-in provider name, or by a section named after its kind
    /// (`[providers.bedrock]`, `[providers.vertex]`), when the file does not say.
    pub fn from_builtin_name(name: &str) -> Option<Self> {
        match name {
            "anthropic" => Some(Self::Anthropic),
            "openai" => Some(Self::OpenAi),
            "gemini" => Some(Self::Gemini),
            "local" => Some(Self::Local),
            "bedrock" => Some(Self::Bedrock),
            "vertex" => Some(Self::Vertex),
            _ => None,
        }
    }

    /// Whether this kind is a cloud host of other vendors' models (Bedrock, Vertex).
    pub fn is_cloud(self) -> bool {
        matches!(self, Self::Bedrock | Self::Vertex)
    }
}

/// Where the AWS profile that Bedrock uses was named.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileOrigin {
    /// `profile` in the config file: it is used even when AWS_* key variables are set.
    Config,
    /// `AWS_PROFILE`: used when no AWS_* key variables are set.
    Env,
    /// Neither: the `default` profile, when no AWS_* key variables are set.
    Default,
}

/// Amazon Bedrock settings (only for `kind = "bedrock"`).
#[derive(Clone, Debug, PartialEq)]
pub struct BedrockSettings {
    /// The AWS region (`region`, else AWS_REGION, else AWS_DEFAULT_REGION).
    pub region: Option<String>,
    /// The profile of the shared credentials file.
    pub profile: String,
    /// Where `profile` came from (decides whether key variables win over it).
    pub profile_origin: ProfileOrigin,
    /// The shared credentials file (`credentials_file`, else AWS_SHARED_CREDENTIALS_FILE,
    /// else `~/.aws/credentials`).
    pub credentials_file: Option<PathBuf>,
    /// Keys from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, when set.
    pub env_credentials: Option<AwsCredentials>,
    /// `[providers.NAME.models]`: model name in routes -> Bedrock model id.
    pub models: BTreeMap<String, String>,
}

/// Google Vertex AI settings (only for `kind = "vertex"`).
#[derive(Clone, Debug, PartialEq)]
pub struct VertexSettings {
    /// The location (`region`, else GOOGLE_CLOUD_LOCATION, else `global`).
    pub region: String,
    /// The project (`project`, else GOOGLE_CLOUD_PROJECT; else the key file's `project_id`).
    pub project: Option<String>,
    /// The service-account key file (`credentials_file`, else GOOGLE_APPLICATION_CREDENTIALS,
    /// else gcloud's application-default file when it exists).
    pub credentials_file: Option<PathBuf>,
    /// `[providers.NAME.models]`: model name in routes -> Vertex model id.
    pub models: BTreeMap<String, String>,
}

/// The platform settings of a cloud host of other vendors' models.
#[derive(Clone, Debug, PartialEq)]
pub enum CloudSettings {
    /// Amazon Bedrock.
    Bedrock(BedrockSettings),
    /// Google Vertex AI.
    Vertex(VertexSettings),
}

/// Where the local model comes from and how it runs.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalSettings {
    /// The model: a catalogue name (`smollm2-135m`), an installed file name, or a path to a .gguf.
    pub model: String,
    /// Layers to offload to the GPU: `None` = auto (all when a GPU back end is built in).
    pub gpu_layers: Option<u32>,
    /// CPU threads for generation and prompt processing.
    pub threads: u32,
    /// Context window in tokens.
    pub context_size: u32,
    /// Tokens per decode call when evaluating a prompt.
    pub batch_size: u32,
}

/// One configured provider, resolved: kind, endpoint, and its key (if present).
#[derive(Clone, Debug)]
pub struct ProviderSettings {
    /// The provider's name (the `[providers.NAME]` key).
    pub name: String,
    /// Which API it speaks.
    pub kind: ProviderKind,
    /// Base URL without a trailing slash (empty for local).
    pub base_url: String,
    /// The environment variables the key is read from, in order.
    pub api_key_env: Vec<String>,
    /// The key, if one of those variables is set and non-empty.
    pub api_key: Option<Secret>,
    /// An optional Statuspage v2 `summary.json` URL used as a health hint.
    pub status_page: Option<String>,
    /// The context window of this provider's models, when configured.
    pub context_window: Option<u32>,
    /// Local model settings (only for `kind = "local"`).
    pub local: Option<LocalSettings>,
    /// Bedrock or Vertex settings (only for those kinds).
    pub cloud: Option<CloudSettings>,
}

impl ProviderSettings {
    /// Whether a call can be attempted at all: local needs nothing, OpenAI-compatible servers
    /// may not need a key (Ollama), the big three need theirs. Bedrock and Vertex find their
    /// credentials at call time (files may appear or rotate); a missing one is an
    /// [`Auth`](crate::provider::ErrorClass::Auth) error that says what to set.
    pub fn is_usable(&self) -> bool {
        match self.kind {
            ProviderKind::Local
            | ProviderKind::OpenAiCompatible
            | ProviderKind::Bedrock
            | ProviderKind::Vertex => true,
            _ => self.api_key.is_some(),
        }
    }
}

/// Timeouts for one model call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS connection.
    pub connect: Duration,
    /// From sending the request to the first text token.
    pub first_token: Duration,
    /// Longest silence between two chunks of a stream.
    pub stall: Duration,
    /// Whole call.
    pub total: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            first_token: Duration::from_secs(20),
            stall: Duration::from_secs(15),
            total: Duration::from_secs(600),
        }
    }
}

/// Circuit-breaker and retry tuning.
#[derive(Clone, Debug, PartialEq)]
pub struct HealthSettings {
    /// Consecutive failures that open a model's breaker.
    pub failure_threshold: u32,
    /// Failure rate over `window` that opens the breaker (with at least `min_requests`).
    pub failure_rate: f64,
    /// Window for the failure rate and latency statistics.
    pub window: Duration,
    /// Minimum calls in the window before the failure rate counts.
    pub min_requests: u32,
    /// Median latency above this multiple of the model's baseline median marks it degraded.
    pub latency_factor: f64,
    /// First open period; doubles on each failed probe up to `max_open`.
    pub base_open: Duration,
    /// Longest open period.
    pub max_open: Duration,
    /// Retries allowed per minute across the process (shared budget).
    pub retry_budget_per_minute: u32,
    /// Longest `Retry-After` worth waiting for instead of failing over.
    pub max_retry_wait: Duration,
    /// Timeout for a probe request.
    pub probe_timeout: Duration,
    /// Status pages are polled at most this often.
    pub status_page_interval: Duration,
    /// The fleet health store's URL (Redis or Valkey), when health is shared across machines.
    pub store: Option<String>,
    /// Quality tripwire: answers in a row that were empty, lacked the tool call the request
    /// required, or stopped at `max_tokens` far below its limit, before the model is taken out
    /// of rotation like a slow one (0 turns the tripwire off).
    pub quality_failure_threshold: u32,
    /// Quality tripwire: a `max_tokens` stop with fewer output tokens than this fraction of the
    /// request's limit counts as a soft failure.
    pub min_output_ratio: f64,
    /// A lower tier whose last `aiw eval` pass rate (0..=1) is below this is kept out of
    /// automatic fallback; models never evaluated are not affected.
    pub min_eval_score: Option<f64>,
}

impl Default for HealthSettings {
    fn default() -> Self {
        Self {
            failure_threshold: 3,
            // Partial outages (June 2: hours of intermittent 500/529) open the breaker at a
            // sustained ~30 % error rate; a few percent of noise never does.
            failure_rate: 0.2,
            window: Duration::from_secs(120),
            min_requests: 20,
            latency_factor: 3.0,
            base_open: Duration::from_secs(15),
            max_open: Duration::from_secs(600),
            retry_budget_per_minute: 6,
            max_retry_wait: Duration::from_secs(5),
            probe_timeout: Duration::from_secs(10),
            status_page_interval: Duration::from_secs(300),
            store: None,
            quality_failure_threshold: 3,
            min_output_ratio: 0.25,
            min_eval_score: None,
        }
    }
}

/// How a command falls back to a lower tier of its route (any model after the first).
/// Ordered from the laxest to the strictest: when a command and its route both set one, the
/// stricter applies.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum FallbackPolicy {
    /// Fall back silently except for the usual notes (the default).
    #[default]
    Auto,
    /// Fall back, and make the switch impossible to miss (a stderr warning in `aiw ask`, a
    /// line in the review's summary, a banner in the chat).
    Notify,
    /// Chat only: ask before the first answer from a lower tier in a session (elsewhere it
    /// acts as `notify`). The router stops before the lower tier; the chat asks and retries.
    Ask,
    /// Never fall back: fail instead (`aiw ask` exits 3; `aiw review` follows
    /// `--on-unavailable`).
    Off,
}

impl FallbackPolicy {
    /// The name used in config files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Notify => "notify",
            Self::Ask => "ask",
            Self::Off => "off",
        }
    }

    /// Whether the router may call a lower tier without stopping first.
    pub fn allows_fallback(self) -> bool {
        matches!(self, Self::Auto | Self::Notify)
    }
}

impl std::fmt::Display for FallbackPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[fallback]` policies, resolved: per command, per route, and the default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FallbackSettings {
    /// For every command and route that sets nothing (`auto` when unset).
    pub default: FallbackPolicy,
    /// Per command: `ask`, `chat`, `review`.
    pub commands: BTreeMap<String, FallbackPolicy>,
    /// Per route name.
    pub routes: BTreeMap<String, FallbackPolicy>,
}

impl FallbackSettings {
    /// The policy for `command` (`ask`, `chat`, `review`) running route `route`: the stricter
    /// of the command's and the route's when both are set, else whichever is set, else the
    /// default. `ask` means something only in the chat; elsewhere it acts as `notify`.
    pub fn policy_for(&self, command: &str, route: &str) -> FallbackPolicy {
        let p = match (self.commands.get(command), self.routes.get(route)) {
            (Some(c), Some(r)) => *c.max(r),
            (Some(p), None) | (None, Some(p)) => *p,
            (None, None) => self.default,
        };
        if p == FallbackPolicy::Ask && command != "chat" {
            FallbackPolicy::Notify
        } else {
            p
        }
    }
}

/// Settings for `aiw review` that can come from config.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ReviewSettings {
    /// Extra globs of files to skip (on top of the built-in generated/vendored list).
    pub exclude: Vec<String>,
    /// Globs that are reviewed even if the built-in list would skip them.
    pub include: Vec<String>,
    /// Chunks reviewed at once.
    pub concurrency: Option<usize>,
    /// Attempts before a queued review moves to the dead-letter list.
    pub queue_max_attempts: Option<u32>,
    /// Most chunks one review sends; `None` = the built-in budget.
    pub max_chunks: Option<usize>,
    /// The Redis or Valkey URL of a queue shared by every runner (`review.queue_store`,
    /// `AIW_QUEUE_STORE`); `None`: a directory.
    pub queue_store: Option<String>,
}

/// Size bounds that keep memory bounded whatever a server or an input sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest answer text one model call may stream; past it the call fails.
    pub answer_bytes: usize,
    /// Largest diff `aiw review` reads; past it the review is refused.
    pub diff_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            answer_bytes: 8 * 1024 * 1024,
            diff_bytes: 64 * 1024 * 1024,
        }
    }
}

/// The rolling session summary (`[summary]`, user file only): while a cloud model is
/// healthy, a cheap one is asked in the background for a structured summary of the session,
/// which stands in for old turns when a smaller model's window cannot hold the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummarySettings {
    /// Keep one at all (`true`).
    pub enabled: bool,
    /// Refresh after this many new turns (`8`).
    pub every_turns: u32,
    /// Or after this many estimated tokens of new history (`4000`).
    pub every_tokens: u32,
    /// The model that writes it; `None`: the route's cheapest cloud model.
    pub model: Option<ModelRef>,
}

impl Default for SummarySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            every_turns: 8,
            every_tokens: 4000,
            model: None,
        }
    }
}

/// Settings for the gateway (`aiw serve`, `aiw run`), from the user's config file only.
#[derive(Clone, Debug, PartialEq)]
pub struct GatewaySettings {
    /// Client model id globs and the route each maps to, in order.
    pub models: Vec<(String, String)>,
    /// The route for client models no glob matches.
    pub route: String,
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Streams answered at once.
    pub max_streams: usize,
}

/// The resolved directories aiw uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paths {
    /// The user config file (may not exist).
    pub config_file: PathBuf,
    /// Sessions, installed models, the log file.
    pub data_dir: PathBuf,
    /// Health state, the attempt journal, the review queue, trusted directories.
    pub state_dir: PathBuf,
}

impl Paths {
    /// Resolves the paths from an explicit config file (flag), then `AIW_CONFIG`,
    /// `AIW_DATA_DIR`, `AIW_STATE_DIR`, then the platform directories.
    pub fn resolve(config_flag: Option<&Path>) -> Result<Self, ConfigError> {
        let env_path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let dirs = directories::ProjectDirs::from("", "", "aiw");
        let config_file = match config_flag
            .map(Path::to_path_buf)
            .or_else(|| env_path("AIW_CONFIG"))
        {
            Some(p) => p,
            None => dirs
                .as_ref()
                .map(|d| d.config_dir().join("config.toml"))
                .ok_or(ConfigError::NoHome)?,
        };
        let data_dir = match env_path("AIW_DATA_DIR") {
            Some(p) => p,
            None => dirs
                .as_ref()
                .map(|d| d.data_dir().to_path_buf())
                .ok_or(ConfigError::NoHome)?,
        };
        let state_dir = match env_path("AIW_STATE_DIR") {
            Some(p) => p,
            None => dirs
                .as_ref()
                .map(|d| {
                    d.state_dir()
                        .map_or_else(|| d.data_dir().join("state"), Path::to_path_buf)
                })
                .ok_or(ConfigError::NoHome)?,
        };
        Ok(Self {
            config_file,
            data_dir,
            state_dir,
        })
    }
}

/// Everything aiw runs from, after merging defaults, files and environment.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Configured providers by name.
    pub providers: BTreeMap<String, ProviderSettings>,
    /// Named routes: ordered models per use.
    pub routes: BTreeMap<String, Vec<ModelRef>>,
    /// The route used when a command has no route of its own name and none is given.
    pub default_route: String,
    /// Call timeouts.
    pub timeouts: Timeouts,
    /// Breaker and retry tuning.
    pub health: HealthSettings,
    /// How each command and route falls back to lower tiers (`[fallback]`).
    pub fallback: FallbackSettings,
    /// Key bindings for `aiw chat` (action name -> key specs), as written in the file.
    pub chat_keys: BTreeMap<String, Vec<String>>,
    /// Review defaults.
    pub review: ReviewSettings,
    /// Size bounds.
    pub limits: Limits,
    /// The gateway's model mapping and limits.
    pub gateway: GatewaySettings,
    /// The rolling session summary.
    pub summary: SummarySettings,
    /// What models cost (`assets/prices.toml` with the user's `[prices]` over it).
    pub prices: Prices,
    /// Files and directories.
    pub paths: Paths,
    /// Whether the user config file existed.
    pub config_file_found: bool,
    /// Non-fatal notes from loading (ignored project settings, etc.), shown once on stderr.
    pub warnings: Vec<String>,
}

/// The name of the default local model in the catalogue.
pub const DEFAULT_LOCAL_MODEL: &str = "smollm2-135m";

/// The user's own config file, parsed (defaults when it does not exist).
#[derive(Clone, Debug, Default)]
pub struct UserFile {
    /// Its settings.
    pub config: FileConfig,
    /// Whether the file existed.
    pub found: bool,
}

impl UserFile {
    /// Reads and checks `paths.config_file`. `required` (the file was named with `--config`)
    /// makes a missing file an error instead of "use the defaults".
    pub fn load(paths: &Paths, required: bool) -> Result<Self, ConfigError> {
        match validate::read_user_file(&paths.config_file)? {
            Some(text) => Ok(Self {
                config: FileConfig::parse(&text, &paths.config_file)?,
                found: true,
            }),
            None if required => Err(ConfigError::NotFound {
                path: paths.config_file.clone(),
            }),
            None => Ok(Self::default()),
        }
    }

    /// Whether the user opted in (`[review] trust_pr_policy = true`) to take the CI review
    /// policy from the change under review instead of the base branch.
    pub fn trusts_pr_policy(&self) -> bool {
        self.config.review.trust_pr_policy == Some(true)
    }
}

impl Settings {
    /// Loads settings: the user config file at `paths.config_file` if it exists, the project
    /// file found from `project_dir` upwards (if any), and the environment.
    pub fn load(paths: Paths, project_dir: Option<&Path>) -> Result<Self, ConfigError> {
        let user = UserFile::load(&paths, false)?;
        let project = match project_dir {
            Some(d) => ProjectFile::find(d)?,
            None => None,
        };
        Self::from_files(paths, user, project)
    }

    /// Settings from the user's file and a project file chosen by the caller (the checkout's,
    /// or in CI the base branch's), merged under the trust model, and the environment.
    pub fn from_files(
        paths: Paths,
        user: UserFile,
        project: Option<ProjectFile>,
    ) -> Result<Self, ConfigError> {
        let mut warnings = Vec::new();
        let loaded = match project {
            Some(p) => Some(project::Loaded {
                config: FileConfig::parse(&p.text, &p.label)?,
                trust: trust::check(&paths.state_dir, &p.root, p.text.as_bytes()),
                label: p.label,
                root: p.root,
                review_policy: p.review_policy,
            }),
            None => None,
        };
        let merged = project::merge(user.config, loaded, &mut warnings);
        Self::resolve(merged, paths, user.found, warnings, &|name| {
            std::env::var(name).ok()
        })
    }

    /// The route for a use (`ask`, `chat`, `review`): an explicit name, else the route named
    /// like the use if defined, else the default route.
    pub fn route_for(
        &self,
        explicit: Option<&str>,
        use_name: &str,
    ) -> Result<(String, Vec<ModelRef>), ConfigError> {
        if let Some(name) = explicit {
            return self
                .routes
                .get(name)
                .map(|r| (name.to_string(), r.clone()))
                .ok_or_else(|| ConfigError::UnknownRoute {
                    name: name.to_string(),
                    known: self.routes.keys().cloned().collect(),
                });
        }
        let name = if self.routes.contains_key(use_name) {
            use_name
        } else {
            self.default_route.as_str()
        };
        Ok((
            name.to_string(),
            self.routes.get(name).cloned().unwrap_or_default(),
        ))
    }

    /// Every model that appears in some route, in first-seen order.
    pub fn all_route_models(&self) -> Vec<ModelRef> {
        let mut out: Vec<ModelRef> = Vec::new();
        let mut names: Vec<&String> = self.routes.keys().collect();
        names.sort_by_key(|n| (*n != &self.default_route, (*n).clone()));
        for n in names {
            for m in &self.routes[n] {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            }
        }
        out
    }

    /// Parses a model given on the command line (`-m provider/model-id`) and checks that its
    /// provider is configured.
    pub fn model(&self, s: &str) -> Result<ModelRef, ConfigError> {
        let model = ModelRef::parse(s).map_err(|message| ConfigError::BadModel { message })?;
        if self.providers.contains_key(&model.provider) {
            Ok(model)
        } else {
            Err(ConfigError::UnknownProvider {
                model: s.to_string(),
                provider: model.provider,
                known: self.providers.keys().cloned().collect(),
            })
        }
    }

    /// The provider settings for a model reference.
    pub fn provider(&self, model: &ModelRef) -> Option<&ProviderSettings> {
        self.providers.get(&model.provider)
    }

    /// Every configured secret, for scrubbing text that may echo one.
    pub fn secrets(&self) -> Vec<Secret> {
        let mut out: Vec<Secret> = self
            .providers
            .values()
            .filter_map(|p| p.api_key.clone())
            .collect();
        for p in self.providers.values() {
            if let Some(CloudSettings::Bedrock(b)) = &p.cloud
                && let Some(c) = &b.env_credentials
            {
                out.push(c.secret_access_key.clone());
                out.extend(c.session_token.clone());
            }
        }
        out
    }
}

/// The cloud models of aiw's built-in route, in order (each used when its key is set).
pub(crate) const BUILTIN_CLOUD_MODELS: [(&str, &str); 3] = [
    ("anthropic", "claude-sonnet-4-6"),
    ("openai", "gpt-5.5"),
    ("gemini", "gemini-2.5-flash"),
];

/// Parses a duration like `30s`, `1m 30s`, `250ms`, or a bare number of seconds. Never
/// panics: values too large for a `Duration` (`1e20`) are an error like any other.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let shown = validate::clip(s);
    if let Ok(secs) = s.parse::<f64>()
        && secs.is_finite()
        && secs >= 0.0
    {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("`{shown}` seconds is too long a duration"));
    }
    humantime::parse_duration(s).map_err(|e| {
        format!("`{shown}` is not a duration ({e}); write e.g. \"30s\", \"2m\" or \"500ms\"")
    })
}

/// Parses a size: a number of bytes, or a number with a unit (`B`, `KiB`, `MiB`, `GiB`, or
/// the decimal `kB`, `MB`, `GB`), e.g. `"8 MiB"`. Zero is refused: a limit of nothing would
/// make every call fail.
pub fn parse_size(v: &SizeFile) -> Result<usize, String> {
    let bytes = match v {
        SizeFile::Bytes(n) => *n,
        SizeFile::Text(t) => {
            let t = t.trim();
            let split = t
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(t.len());
            let (num, unit) = t.split_at(split);
            let unit = unit.trim().to_ascii_lowercase();
            let mult: f64 = match unit.as_str() {
                "" | "b" => 1.0,
                "k" | "kb" => 1e3,
                "m" | "mb" => 1e6,
                "g" | "gb" => 1e9,
                "kib" => 1024.0,
                "mib" => 1024.0 * 1024.0,
                "gib" => 1024.0 * 1024.0 * 1024.0,
                _ => {
                    return Err(format!(
                        "`{t}` is not a size: write e.g. \"8 MiB\", \"512 KiB\" or a number of bytes"
                    ));
                }
            };
            let n: f64 = num.parse().map_err(|_| {
                format!(
                    "`{t}` is not a size: write e.g. \"8 MiB\", \"512 KiB\" or a number of bytes"
                )
            })?;
            let b = n * mult;
            if !b.is_finite() || b >= 2f64.powi(63) {
                return Err(format!("`{t}` is too large"));
            }
            b as u64
        }
    };
    if bytes == 0 {
        return Err("must be more than 0 bytes".into());
    }
    Ok(usize::try_from(bytes).unwrap_or(usize::MAX))
}

/// A size for messages: `8 MiB`, `512 KiB`, `100 B`.
pub fn format_size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    const GIB: usize = 1024 * 1024 * 1024;
    match bytes {
        b if b >= GIB && b % GIB == 0 => format!("{} GiB", b / GIB),
        b if b >= MIB && b % MIB == 0 => format!("{} MiB", b / MIB),
        b if b >= MIB => format!("{:.1} MiB", b as f64 / MIB as f64),
        b if b >= KIB && b % KIB == 0 => format!("{} KiB", b / KIB),
        b if b >= KIB => format!("{:.1} KiB", b as f64 / KIB as f64),
        b => format!("{b} B"),
    }
}

/// What can go wrong loading or using configuration. Every message names the file and says
/// how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file named on the command line (`--config FILE`) does not exist.
    #[error("the config file {} given with --config does not exist; create it with `aiw --config {} config init`, or fix the path", path.display(), path.display())]
    NotFound {
        /// The file.
        path: PathBuf,
    },
    /// A file aiw will not read: a symbolic link or non-regular project file, a file too large,
    /// or not UTF-8. Its content is never echoed.
    #[error("refusing to read {}: {reason}", path.display())]
    Refused {
        /// The file.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
    },
    /// The file exists but could not be read.
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or does not match the schema.
    #[error("{}:{line}:{column}: {}", path.display(), validate::shorten(.message))]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was found and what was expected.
        message: String,
    },
    /// A value is well-formed but not acceptable.
    #[error("{}: {} {}", path.display(), validate::clip(.what), validate::shorten(.message))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The setting.
        what: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// A route name that is not configured.
    #[error("{}", validate::shorten(&format!("no route named `{name}`; configured routes: {}", known.join(", "))))]
    UnknownRoute {
        /// The name asked for.
        name: String,
        /// The configured ones.
        known: Vec<String>,
    },
    /// A model reference that is not `provider/model-id`.
    #[error("{message}")]
    BadModel {
        /// What is wrong and how to write it.
        message: String,
    },
    /// A model whose provider is not configured.
    #[error("{}", validate::shorten(&format!("unknown provider `{provider}` in `{model}`; configured providers: {}", known.join(", "))))]
    UnknownProvider {
        /// The model as given.
        model: String,
        /// Its provider part.
        provider: String,
        /// The configured providers.
        known: Vec<String>,
    },
    /// No home directory to put config and data in.
    #[error(
        "cannot find a home directory for aiw's files: set AIW_CONFIG, AIW_DATA_DIR and AIW_STATE_DIR"
    )]
    NoHome,
}

/// `url` with any password replaced, for messages and status.
pub fn shown_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "(unparsable store URL)".into(),
    }
}

#[cfg(test)]
mod tests;
