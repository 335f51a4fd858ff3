//! The config file schema as written on disk (every field optional), parsing with
//! file:line:column errors, merging the user file with a project file under the trust rule,
//! and the commented template `aiw config init` writes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ConfigError, ProviderKind};

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
    /// `[chat]`.
    #[serde(default)]
    pub chat: ChatFile,
    /// `[review]`.
    #[serde(default)]
    pub review: ReviewFile,
    /// `[limits]` (user file only: a project file cannot raise them).
    #[serde(default)]
    pub limits: LimitsFile,
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
    pub context_window: Option<u32>,
    /// Local only: model name or path.
    pub model: Option<String>,
    /// Local only: `"auto"` or a layer count.
    pub gpu_layers: Option<GpuLayersFile>,
    /// Local only: CPU threads.
    pub threads: Option<u32>,
    /// Local only: context size in tokens.
    pub context_size: Option<u32>,
    /// Local only: batch size in tokens.
    pub batch_size: Option<u32>,
}

/// `gpu_layers = "auto"` or a number.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum GpuLayersFile {
    /// A layer count (0 = CPU only).
    Count(u32),
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
    pub failure_threshold: Option<u32>,
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
    pub retry_budget_per_minute: Option<u32>,
    /// Longest Retry-After worth waiting for.
    pub max_retry_wait: Option<String>,
    /// Probe timeout.
    pub probe_timeout: Option<String>,
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
    pub concurrency: Option<usize>,
    /// Attempts before a queued job is dead-lettered.
    pub queue_max_attempts: Option<u32>,
    /// Most chunks one review sends (user file only); the rest make the review partial.
    pub max_chunks: Option<usize>,
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
    /// Parses TOML text; errors carry the file, line and column.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |span| line_col(text, span.start));
            ConfigError::Parse {
                path: path.to_path_buf(),
                line,
                column,
                message: e.message().trim().to_string(),
            }
        })
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

/// Finds `.aiw/config.toml` in `dir` or its parents.
pub fn find_project_file(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(".aiw").join("config.toml"))
        .find(|p| p.is_file())
}

/// Merges a project file over the user file. An untrusted project may choose routes, the
/// default route, timeouts and review/chat settings, but may not add providers or change
/// where a provider's requests go or where its key comes from: a malicious repository could
/// otherwise send your keys to its own server.
pub fn merge(
    mut user: FileConfig,
    project: Option<(FileConfig, PathBuf, bool)>,
    warnings: &mut Vec<String>,
) -> FileConfig {
    let Some((proj, path, trusted)) = project else {
        return user;
    };
    for (name, p) in proj.providers {
        let exists =
            user.providers.contains_key(&name) || ProviderKind::from_builtin_name(&name).is_some();
        let sensitive = p.kind.is_some() || p.base_url.is_some() || p.api_key_env.is_some();
        if !trusted && (!exists || sensitive) {
            let dir = path
                .parent()
                .and_then(Path::parent)
                .unwrap_or(&path)
                .display()
                .to_string();
            warnings.push(format!(
                "ignored providers.{name} from {}: a project file may not add providers or change base_url, kind or api_key_env unless you trust it (`aiw config trust {dir}`)",
                path.display()
            ));
            continue;
        }
        let slot = user.providers.entry(name).or_default();
        macro_rules! take {
            ($($f:ident),*) => { $( if p.$f.is_some() { slot.$f = p.$f.clone(); } )* };
        }
        take!(
            kind,
            base_url,
            api_key_env,
            status_page,
            context_window,
            model,
            gpu_layers,
            threads,
            context_size,
            batch_size
        );
    }
    user.routes.extend(proj.routes);
    if proj.default_route.is_some() {
        user.default_route = proj.default_route;
    }
    let t = proj.timeouts;
    macro_rules! over {
        ($dst:expr, $src:expr, $($f:ident),*) => { $( if $src.$f.is_some() { $dst.$f = $src.$f; } )* };
    }
    over!(user.timeouts, t, connect, first_token, stall, total);
    user.chat.keys.extend(proj.chat.keys);
    if !proj.review.exclude.is_empty() {
        user.review.exclude = proj.review.exclude;
    }
    if !proj.review.include.is_empty() {
        user.review.include = proj.review.include;
    }
    over!(user.review, proj.review, concurrency, queue_max_attempts);
    user
}

/// What `aiw config init` writes: every setting, commented, with its default.
pub const DEFAULT_CONFIG_TEMPLATE: &str = include_str!("../../assets/config.example.toml");
