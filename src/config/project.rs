//! The project side of configuration and its trust model: finding and safely reading a
//! repository's `.aiw/` files (regular files inside the repository only, size-capped), and
//! merging a project `.aiw/config.toml` over the user's file under the allow-list below. The
//! README's "Security" section is the user-facing copy of this table; keep them in step.
//!
//! | a project file may set | untrusted | base branch in CI | trusted (`aiw config trust`, same content hash) |
//! |---|---|---|---|
//! | `default_route`, `[routes]` naming only models of the user's own routes | yes | yes | yes |
//! | `[chat.keys]` | yes | yes | yes |
//! | `[routes]` naming other models | no | no | yes |
//! | `[timeouts]`, `[fallback]`, `[review] exclude/include/concurrency/queue_max_attempts` | no | yes | yes |
//! | `[providers.*]` (every field: endpoints, key variables, the local model file, sizes, Bedrock/Vertex region, project, profile and model map), `[health]` | no | no | yes |
//! | `status_page`, `credentials_file`, `[review] trust_pr_policy`, `queue_store`, `max_chunks` | never: the user's own file only | | |
//!
//! A setting that is not allowed is ignored, and one warning line per file names the file,
//! the keys and the `aiw config trust` command; nothing is silently applied or dropped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::file::{FileConfig, ProviderFile};
use super::trust::TrustState;
use super::{BUILTIN_CLOUD_MODELS, ConfigError, DEFAULT_LOCAL_MODEL, validate};

/// Largest `.aiw/review.md` read: instructions are a page, not a book.
pub const MAX_INSTRUCTIONS_BYTES: u64 = 128 * 1024;

/// Whether a project file's review policy (`[timeouts]`, `[review]` globs and sizes) applies
/// without `aiw config trust`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReviewPolicy {
    /// Only when the file is trusted (the checkout, outside CI).
    NeedsTrust,
    /// Yes: the base branch's committed file in CI, or the checkout when the user opted in
    /// with `trust_pr_policy`.
    Granted,
}

/// A project config file's text and where it came from.
#[derive(Clone, Debug)]
pub struct ProjectFile {
    /// The file's text.
    pub text: String,
    /// How messages name it: the path, or `REV:.aiw/config.toml` for a committed file.
    pub label: PathBuf,
    /// The repository root (the directory holding `.aiw/`), the key of the trust record.
    pub root: PathBuf,
    /// Whether its review policy applies without trust.
    pub review_policy: ReviewPolicy,
}

impl ProjectFile {
    /// Finds `.aiw/config.toml` in `dir` or its parents and reads it (see [`find_in_repo`]).
    pub fn find(dir: &Path) -> Result<Option<Self>, ConfigError> {
        Ok(
            find_in_repo(dir, "config.toml", validate::MAX_CONFIG_BYTES)?.map(|f| Self {
                text: f.text,
                label: f.path,
                root: f.root,
                review_policy: ReviewPolicy::NeedsTrust,
            }),
        )
    }

    /// A file committed at `rev` (`git show REV:.aiw/config.toml`) of the repository at `root`;
    /// its review policy applies (it is the base branch's, not the change's).
    pub fn committed(text: String, rev: &str, root: PathBuf) -> Self {
        Self {
            text,
            label: PathBuf::from(format!("{rev}:.aiw/config.toml")),
            root,
            review_policy: ReviewPolicy::Granted,
        }
    }
}

/// A file read from a repository's `.aiw/` directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoFile {
    /// The repository root (the directory holding `.aiw/`).
    pub root: PathBuf,
    /// The file's path.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
}

/// Finds `.aiw/NAME` in `dir` or the nearest parent that has one and reads it. Neither
/// `.aiw` nor the file may be a symbolic link (a repository could otherwise point aiw at
/// `/proc/self/environ` or a file outside the repository) and the file must be a regular file
/// of at most `cap` bytes of UTF-8; anything else is a clear error, never a silent read.
pub fn find_in_repo(dir: &Path, name: &str, cap: u64) -> Result<Option<RepoFile>, ConfigError> {
    for root in dir.ancestors() {
        let aiw = root.join(".aiw");
        let Ok(dir_meta) = std::fs::symlink_metadata(&aiw) else {
            continue;
        };
        let path = aiw.join(name);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if dir_meta.file_type().is_symlink() {
            return Err(validate::refused(
                &path,
                format!(
                    "{} is a symbolic link; aiw reads project files only from a real .aiw directory inside the repository",
                    aiw.display()
                ),
            ));
        }
        if meta.file_type().is_symlink() {
            return Err(validate::refused(
                &path,
                "it is a symbolic link; aiw reads project files only as regular files inside the repository (replace the link with the file itself)".into(),
            ));
        }
        if !meta.is_file() {
            return Err(validate::refused(&path, "it is not a regular file".into()));
        }
        let text = validate::read_capped(&path, cap)?;
        return Ok(Some(RepoFile {
            root: root.to_path_buf(),
            path,
            text,
        }));
    }
    Ok(None)
}

/// A parsed project file with its standing, ready to merge.
pub(crate) struct Loaded {
    /// The parsed file.
    pub config: FileConfig,
    /// How messages name it.
    pub label: PathBuf,
    /// The repository root, for the trust command in messages.
    pub root: PathBuf,
    /// Whether the user trusts this content.
    pub trust: TrustState,
    /// Whether its review policy applies without trust.
    pub review_policy: ReviewPolicy,
}

/// The names of the fields a `[providers.NAME]` section sets.
fn provider_fields(p: &ProviderFile) -> Vec<&'static str> {
    [
        ("kind", p.kind.is_some()),
        ("base_url", p.base_url.is_some()),
        ("api_key_env", p.api_key_env.is_some()),
        ("context_window", p.context_window.is_some()),
        ("model", p.model.is_some()),
        ("gpu_layers", p.gpu_layers.is_some()),
        ("threads", p.threads.is_some()),
        ("context_size", p.context_size.is_some()),
        ("batch_size", p.batch_size.is_some()),
        ("region", p.region.is_some()),
        ("project", p.project.is_some()),
        ("profile", p.profile.is_some()),
        ("models", p.models.is_some()),
    ]
    .into_iter()
    .filter_map(|(n, set)| set.then_some(n))
    .collect()
}

/// The models the user's own file routes to (its `[routes]`, and aiw's built-in route):
/// the only ones an untrusted project may pick among.
fn user_models(user: &FileConfig) -> BTreeSet<String> {
    let local = user
        .providers
        .get("local")
        .and_then(|p| p.model.clone())
        .unwrap_or_else(|| DEFAULT_LOCAL_MODEL.to_string());
    user.routes
        .values()
        .flatten()
        .map(|e| e.trim().to_string())
        .chain(BUILTIN_CLOUD_MODELS.iter().map(|(p, m)| format!("{p}/{m}")))
        .chain(std::iter::once(format!("local/{local}")))
        .collect()
}

/// Merges a project file over the user file under the trust model of this module; every
/// ignored setting is named in one warning line per file.
pub(crate) fn merge(
    mut user: FileConfig,
    project: Option<Loaded>,
    warnings: &mut Vec<String>,
) -> FileConfig {
    let Some(p) = project else {
        return user;
    };
    let trusted = p.trust == TrustState::Trusted;
    let policy = trusted || p.review_policy == ReviewPolicy::Granted;
    let proj = p.config;
    let mut ignored: Vec<String> = Vec::new();
    let mut user_only: Vec<String> = Vec::new();
    let origin = |user: &mut FileConfig, key: String| {
        user.origins.insert(key, p.label.clone());
    };

    for (name, pf) in proj.providers {
        if pf.status_page.is_some() {
            user_only.push(format!("providers.{name}.status_page"));
        }
        // A project naming a file of keys on this machine could point a trusted route at
        // credentials the user keeps for something else.
        if pf.credentials_file.is_some() {
            user_only.push(format!("providers.{name}.credentials_file"));
        }
        let fields = provider_fields(&pf);
        if fields.is_empty() {
            continue;
        }
        if !trusted {
            ignored.extend(fields.iter().map(|f| format!("providers.{name}.{f}")));
            continue;
        }
        origin(&mut user, format!("providers.{name}"));
        let slot = user.providers.entry(name).or_default();
        macro_rules! take {
            ($($f:ident),*) => { $( if pf.$f.is_some() { slot.$f = pf.$f.clone(); } )* };
        }
        take!(
            kind,
            base_url,
            api_key_env,
            context_window,
            model,
            gpu_layers,
            threads,
            context_size,
            batch_size,
            region,
            project,
            profile,
            models
        );
    }

    let allowed_models = user_models(&user);
    let mut ignored_routes = BTreeSet::new();
    for (name, entries) in proj.routes {
        if trusted || entries.iter().all(|e| allowed_models.contains(e.trim())) {
            origin(&mut user, format!("routes.{name}"));
            user.routes.insert(name, entries);
        } else {
            ignored.push(format!("routes.{name}"));
            ignored_routes.insert(name);
        }
    }
    if let Some(r) = proj.default_route {
        if ignored_routes.contains(&r) {
            ignored.push("default_route".into());
        } else {
            origin(&mut user, "default_route".into());
            user.default_route = Some(r);
        }
    }

    let t = proj.timeouts;
    for (f, v, slot) in [
        ("connect", t.connect, &mut user.timeouts.connect),
        ("first_token", t.first_token, &mut user.timeouts.first_token),
        ("stall", t.stall, &mut user.timeouts.stall),
        ("total", t.total, &mut user.timeouts.total),
    ] {
        if v.is_none() {
            continue;
        }
        if policy {
            *slot = v;
        } else {
            ignored.push(format!("timeouts.{f}"));
        }
    }
    if policy {
        origin(&mut user, "timeouts".into());
    }

    // The degradation policy is the repository's review policy too (a base branch may say
    // `review = "off"`), but a checkout nobody trusted must not loosen the user's own.
    if !proj.fallback.is_empty() {
        if policy {
            origin(&mut user, "fallback".into());
            let (f, u) = (proj.fallback, &mut user.fallback);
            for (slot, v) in [
                (&mut u.default, f.default),
                (&mut u.ask, f.ask),
                (&mut u.chat, f.chat),
                (&mut u.review, f.review),
            ] {
                if v.is_some() {
                    *slot = v;
                }
            }
            u.routes.extend(f.routes);
        } else {
            ignored.push("fallback".into());
        }
    }

    let h = proj.health;
    let health_set = [
        ("failure_threshold", h.failure_threshold.is_some()),
        ("failure_rate", h.failure_rate.is_some()),
        ("window", h.window.is_some()),
        ("latency_factor", h.latency_factor.is_some()),
        ("base_open", h.base_open.is_some()),
        ("max_open", h.max_open.is_some()),
        (
            "retry_budget_per_minute",
            h.retry_budget_per_minute.is_some(),
        ),
        ("max_retry_wait", h.max_retry_wait.is_some()),
        ("probe_timeout", h.probe_timeout.is_some()),
        (
            "quality_failure_threshold",
            h.quality_failure_threshold.is_some(),
        ),
        ("min_output_ratio", h.min_output_ratio.is_some()),
        ("min_eval_score", h.min_eval_score.is_some()),
    ];
    if h.store.is_some() {
        user_only.push("health.store".into());
    }
    if trusted {
        origin(&mut user, "health".into());
        let u = &mut user.health;
        macro_rules! over {
            ($($f:ident),*) => { $( if h.$f.is_some() { u.$f = h.$f.clone(); } )* };
        }
        over!(
            failure_threshold,
            failure_rate,
            window,
            latency_factor,
            base_open,
            max_open,
            retry_budget_per_minute,
            max_retry_wait,
            probe_timeout,
            quality_failure_threshold,
            min_output_ratio,
            min_eval_score
        );
    } else {
        ignored.extend(
            health_set
                .iter()
                .filter(|(_, set)| *set)
                .map(|(f, _)| format!("health.{f}")),
        );
    }

    user.chat.keys.extend(proj.chat.keys);
    let gw = &proj.gateway;
    if !gw.models.is_empty()
        || gw.route.is_some()
        || gw.max_body_mib.is_some()
        || gw.max_streams.is_some()
    {
        user_only.push("gateway".into());
    }

    let r = proj.review;
    if r.trust_pr_policy.is_some() {
        user_only.push("review.trust_pr_policy".into());
    }
    if r.queue_store.is_some() {
        user_only.push("review.queue_store".into());
    }
    if r.max_chunks.is_some() {
        user_only.push("review.max_chunks".into());
    }
    if proj.limits.answer.is_some() || proj.limits.diff.is_some() {
        user_only.push("limits".into());
    }
    let sm = &proj.summary;
    if sm.enabled.is_some()
        || sm.every_turns.is_some()
        || sm.every_tokens.is_some()
        || sm.model.is_some()
    {
        user_only.push("summary".into());
    }
    if !proj.prices.is_empty() {
        user_only.push("prices".into());
    }
    let review_set = [
        ("exclude", !r.exclude.is_empty()),
        ("include", !r.include.is_empty()),
        ("concurrency", r.concurrency.is_some()),
        ("queue_max_attempts", r.queue_max_attempts.is_some()),
    ];
    if policy {
        origin(&mut user, "review".into());
        if !r.exclude.is_empty() {
            user.review.exclude = r.exclude;
        }
        if !r.include.is_empty() {
            user.review.include = r.include;
        }
        if r.concurrency.is_some() {
            user.review.concurrency = r.concurrency;
        }
        if r.queue_max_attempts.is_some() {
            user.review.queue_max_attempts = r.queue_max_attempts;
        }
    } else {
        ignored.extend(
            review_set
                .iter()
                .filter(|(_, set)| *set)
                .map(|(f, _)| format!("review.{f}")),
        );
    }

    if let Some(w) = warning(&p.label, &p.root, &p.trust, &ignored, &user_only) {
        warnings.push(w);
    }
    user
}

/// `a, b, c and 4 more`.
fn key_list(keys: &[String]) -> String {
    const SHOWN: usize = 16;
    let shown: Vec<String> = keys.iter().take(SHOWN).map(|k| validate::clip(k)).collect();
    let s = shown.join(", ");
    if keys.len() > SHOWN {
        format!("{s} and {} more", keys.len() - SHOWN)
    } else {
        s
    }
}

/// The one warning line for a project file whose settings were (partly) ignored.
fn warning(
    label: &Path,
    root: &Path,
    trust: &TrustState,
    ignored: &[String],
    user_only: &[String],
) -> Option<String> {
    let file = label.display();
    let cmd = format!("`aiw config trust {}`", root.display());
    let mut parts = Vec::new();
    if !ignored.is_empty() {
        let keys = key_list(ignored);
        parts.push(match trust {
            TrustState::Changed { trusted, now } => format!(
                "{file} changed since you trusted it (trusted sha256 {}…, now {}…); review it and run {cmd} again; until then aiw ignores {keys}",
                short(trusted),
                short(now)
            ),
            TrustState::Legacy => format!(
                "{file} was trusted by an older aiw that did not record the file's content; review it and run {cmd} again; until then aiw ignores {keys}"
            ),
            TrustState::Untrusted | TrustState::Trusted => format!(
                "ignored {keys} from {file}: an untrusted project file may only pick among the models of your own routes and set [chat.keys]; review the file and run {cmd} to apply the rest"
            ),
        });
    }
    if !user_only.is_empty() {
        parts.push(format!(
            "ignored {} from {file}: only your own config file may set status pages, credentials files and trust_pr_policy (they affect every repository on this machine)",
            key_list(user_only)
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The first 12 hex digits of a hash, for messages.
pub fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
