//! Building [`Settings`] from the merged file and the environment: one function per section
//! (`[providers]`, `[timeouts]`, `[health]`, `[routes]`, `[fallback]`, `[review]`, `[limits]`,
//! `[gateway]`, `[summary]`, `[prices]`), each checking its values and saying where a wrong one
//! is.

use std::collections::BTreeMap;
use std::path::Path;

use super::file::SummaryFile;
use super::{
    BUILTIN_CLOUD_MODELS, ConfigError, DEFAULT_LOCAL_MODEL, FallbackSettings, FileConfig,
    GatewaySettings, GpuLayersFile, HealthSettings, Limits, LocalSettings, ModelRef, Paths, Prices,
    ProviderFile, ProviderKind, ProviderSettings, ReviewSettings, Secret, Settings,
    SummarySettings, Timeouts, cloud, parse_size, shown_url, validate,
};

impl Settings {
    /// Builds settings from an already-merged file; `env` looks up environment variables
    /// (injected so tests are hermetic).
    pub fn resolve(
        mut cfg: FileConfig,
        paths: Paths,
        config_file_found: bool,
        mut warnings: Vec<String>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let user_file = paths.config_file.clone();
        let providers = resolve_providers(&mut cfg, &user_file, env, &mut warnings)?;
        let timeouts = resolve_timeouts(&cfg, &user_file)?;
        let health = resolve_health(&cfg, &user_file, env)?;
        let (routes, default_route) = resolve_routes(&cfg, &user_file, &providers, &mut warnings)?;
        let fallback = resolve_fallback(&cfg, &routes, &user_file)?;
        let chat_keys = std::mem::take(&mut cfg.chat.keys)
            .into_iter()
            .map(|(k, v)| (k, v.into_vec()))
            .collect();
        let review = resolve_review(&mut cfg, &user_file, env)?;
        let limits = resolve_limits(&cfg, &user_file)?;
        let gateway = resolve_gateway(&cfg, &user_file, &routes, &default_route)?;
        let summary = resolve_summary(&cfg.summary, &providers, &user_file)?;
        let prices = resolve_prices(&cfg, &user_file)?;
        Ok(Self {
            providers,
            routes,
            default_route,
            timeouts,
            health,
            fallback,
            chat_keys,
            review,
            limits,
            gateway,
            summary,
            prices,
            paths,
            config_file_found,
            warnings,
        })
    }
}

/// `[providers]`: the built-in four and the file's, each with its kind, URL, key, limits and
/// local or cloud settings.
fn resolve_providers(
    cfg: &mut FileConfig,
    user_file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<BTreeMap<String, ProviderSettings>, ConfigError> {
    let mut providers = BTreeMap::new();
    // Built-in providers exist even without a file.
    for name in ["anthropic", "openai", "gemini", "local"] {
        providers.insert(name.to_string(), ProviderFile::default());
    }
    providers.extend(std::mem::take(&mut cfg.providers));
    let mut resolved = BTreeMap::new();
    for (name, p) in providers {
        let origin = cfg
            .origin_of(&format!("providers.{name}"), user_file)
            .to_path_buf();
        let Some(kind) = p.kind.or_else(|| ProviderKind::from_builtin_name(&name)) else {
            return Err(ConfigError::Invalid {
                    path: origin.clone(),
                    what: format!("providers.{name}"),
                    message: "has no `kind`: set kind = \"anthropic\", \"openai\", \"gemini\", \"openai-compatible\", \"bedrock\", \"vertex\" or \"local\"".into(),
                });
        };
        let cloud = cloud::resolve(&name, kind, &p, &origin, env, warnings)?;
        // The URL itself was checked when the file was parsed.
        let base_url = match (&p.base_url, kind.default_base_url()) {
            (Some(u), _) => u.trim_end_matches('/').to_string(),
            (None, Some(d)) => d.to_string(),
            (None, None) if kind == ProviderKind::Local => String::new(),
            (None, None) if kind.is_cloud() => cloud::default_base_url(cloud.as_ref()),
            (None, None) => {
                return Err(ConfigError::Invalid {
                    path: origin.clone(),
                    what: format!("providers.{name}"),
                    message: "an openai-compatible provider needs base_url, e.g. base_url = \"http://localhost:11434/v1\"".into(),
                });
            }
        };
        let api_key_env: Vec<String> = match &p.api_key_env {
            Some(v) => vec![v.clone()],
            None => kind
                .default_key_envs()
                .iter()
                .map(|s| (*s).to_string())
                .collect(),
        };
        let api_key = api_key_env
            .iter()
            .find_map(|var| env(var).filter(|v| !v.trim().is_empty()))
            .map(|v| Secret::new(v.trim()));
        let key = |f: &str| format!("providers.{name}.{f}");
        let num = |f: &str, v: Option<i64>, range| -> Result<Option<u32>, ConfigError> {
            v.map(|v| validate::int(&origin, &key(f), v, range))
                .transpose()
        };
        let local = if kind == ProviderKind::Local {
            Some(LocalSettings {
                model: p
                    .model
                    .clone()
                    .unwrap_or_else(|| DEFAULT_LOCAL_MODEL.to_string()),
                gpu_layers: match p.gpu_layers {
                    None | Some(GpuLayersFile::Auto(_)) => None,
                    Some(GpuLayersFile::Count(n)) => {
                        num("gpu_layers", Some(n), validate::GPU_LAYERS)?
                    }
                },
                threads: num("threads", p.threads, validate::THREADS)?
                    .unwrap_or_else(default_threads),
                context_size: num("context_size", p.context_size, validate::CONTEXT_SIZE)?
                    .unwrap_or(4096),
                batch_size: num("batch_size", p.batch_size, validate::BATCH_SIZE)?.unwrap_or(512),
            })
        } else {
            None
        };
        let context_window = num("context_window", p.context_window, validate::CONTEXT_WINDOW)?;
        resolved.insert(
            name.clone(),
            ProviderSettings {
                name,
                kind,
                base_url,
                api_key_env,
                api_key,
                status_page: p.status_page.clone(),
                context_window,
                local,
                cloud,
            },
        );
    }
    Ok(resolved)
}

/// `[timeouts]`.
fn resolve_timeouts(cfg: &FileConfig, user_file: &Path) -> Result<Timeouts, ConfigError> {
    let mut timeouts = Timeouts::default();
    let t = &cfg.timeouts;
    let origin = cfg.origin_of("timeouts", user_file);
    for (field, value, slot, range) in [
        (
            "connect",
            &t.connect,
            &mut timeouts.connect,
            validate::CONNECT,
        ),
        (
            "first_token",
            &t.first_token,
            &mut timeouts.first_token,
            validate::STREAM_WAIT,
        ),
        (
            "stall",
            &t.stall,
            &mut timeouts.stall,
            validate::STREAM_WAIT,
        ),
        ("total", &t.total, &mut timeouts.total, validate::TOTAL),
    ] {
        if let Some(v) = value {
            *slot = validate::duration(origin, &format!("timeouts.{field}"), v, range)?;
        }
    }
    Ok(timeouts)
}

/// `[health]`, with `AIW_HEALTH_STORE` over the file's `store`.
fn resolve_health(
    cfg: &FileConfig,
    user_file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<HealthSettings, ConfigError> {
    let mut health = HealthSettings::default();
    let h = &cfg.health;
    let origin = cfg.origin_of("health", user_file);
    if let Some(v) = h.failure_threshold {
        health.failure_threshold = validate::int(
            origin,
            "health.failure_threshold",
            v,
            validate::FAILURE_THRESHOLD,
        )?;
    }
    if let Some(v) = h.failure_rate {
        health.failure_rate =
            validate::float(origin, "health.failure_rate", v, validate::FAILURE_RATE)?;
    }
    if let Some(v) = h.latency_factor {
        health.latency_factor =
            validate::float(origin, "health.latency_factor", v, validate::LATENCY_FACTOR)?;
    }
    if let Some(v) = h.quality_failure_threshold {
        health.quality_failure_threshold = validate::int(
            origin,
            "health.quality_failure_threshold",
            v,
            validate::QUALITY_THRESHOLD,
        )?;
    }
    health.store = store_url(
        origin,
        "health.store",
        h.store.as_ref(),
        "AIW_HEALTH_STORE",
        env,
    )?;
    if let Some(v) = h.min_output_ratio {
        health.min_output_ratio =
            validate::float(origin, "health.min_output_ratio", v, validate::OUTPUT_RATIO)?;
    }
    if let Some(v) = h.min_eval_score {
        health.min_eval_score = Some(validate::float(
            origin,
            "health.min_eval_score",
            v,
            validate::OUTPUT_RATIO,
        )?);
    }
    if let Some(v) = h.retry_budget_per_minute {
        health.retry_budget_per_minute = validate::int(
            origin,
            "health.retry_budget_per_minute",
            v,
            validate::RETRY_BUDGET,
        )?;
    }
    if let Some(v) = h.min_eval_score {
        health.min_eval_score = Some(validate::float(
            origin,
            "health.min_eval_score",
            v,
            validate::OUTPUT_RATIO,
        )?);
    }
    for (field, value, slot, range) in [
        ("window", &h.window, &mut health.window, validate::WINDOW),
        (
            "base_open",
            &h.base_open,
            &mut health.base_open,
            validate::OPEN,
        ),
        (
            "max_open",
            &h.max_open,
            &mut health.max_open,
            validate::OPEN,
        ),
        (
            "max_retry_wait",
            &h.max_retry_wait,
            &mut health.max_retry_wait,
            validate::RETRY_WAIT,
        ),
        (
            "probe_timeout",
            &h.probe_timeout,
            &mut health.probe_timeout,
            validate::PROBE,
        ),
    ] {
        if let Some(v) = value {
            *slot = validate::duration(origin, &format!("health.{field}"), v, range)?;
        }
    }
    Ok(health)
}

/// `[routes]` and `default_route`: from the file, or the built-in default made of usable
/// providers; a route model without a key is a warning.
fn resolve_routes(
    cfg: &FileConfig,
    user_file: &Path,
    providers: &BTreeMap<String, ProviderSettings>,
    warnings: &mut Vec<String>,
) -> Result<(BTreeMap<String, Vec<ModelRef>>, String), ConfigError> {
    // Routes: from the file, or the built-in default made of usable providers.
    let mut routes = BTreeMap::new();
    for (name, entries) in &cfg.routes {
        let origin = cfg
            .origin_of(&format!("routes.{name}"), user_file)
            .to_path_buf();
        if entries.is_empty() {
            return Err(ConfigError::Invalid {
                path: origin.clone(),
                what: format!("routes.{name}"),
                message: "is empty: list at least one model, e.g. [\"anthropic/claude-sonnet-4-6\", \"local/smollm2-135m\"]".into(),
            });
        }
        let mut models = Vec::new();
        for e in entries {
            let m = ModelRef::parse(e).map_err(|message| ConfigError::Invalid {
                path: origin.clone(),
                what: format!("routes.{name}"),
                message,
            })?;
            if !providers.contains_key(&m.provider) {
                return Err(ConfigError::Invalid {
                    path: origin.clone(),
                    what: format!("routes.{name}"),
                    message: format!(
                        "`{m}` names provider `{}`, which is not configured; known providers: {}",
                        m.provider,
                        providers.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
            models.push(m);
        }
        routes.insert(name.clone(), models);
    }
    let default_route = cfg
        .default_route
        .clone()
        .unwrap_or_else(|| "default".into());
    if !routes.contains_key(&default_route) {
        if cfg.default_route.is_some() {
            return Err(ConfigError::Invalid {
                path: cfg.origin_of("default_route", user_file).to_path_buf(),
                what: "default_route".into(),
                message: format!(
                    "names route `{default_route}`, which is not defined under [routes]"
                ),
            });
        }
        routes.insert(default_route.clone(), builtin_route(providers));
    }
    for model in routes.values().flatten() {
        if let Some(p) = providers.get(&model.provider)
            && !p.is_usable()
        {
            let msg = format!(
                "route model {model} has no API key: set {}",
                p.api_key_env.join(" or ")
            );
            if !warnings.contains(&msg) {
                warnings.push(msg);
            }
        }
    }
    Ok((routes, default_route))
}

/// The `[fallback]` table resolved; a route policy must name a defined route.
fn resolve_fallback(
    cfg: &FileConfig,
    routes: &BTreeMap<String, Vec<ModelRef>>,
    user_file: &Path,
) -> Result<FallbackSettings, ConfigError> {
    let f = &cfg.fallback;
    let origin = cfg.origin_of("fallback", user_file);
    for name in f.routes.keys() {
        if !routes.contains_key(name) {
            return Err(ConfigError::Invalid {
                path: origin.to_path_buf(),
                what: format!("fallback.routes.{name}"),
                message: format!(
                    "names route `{name}`, which is not defined; defined routes: {}",
                    routes.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    let commands = [("ask", f.ask), ("chat", f.chat), ("review", f.review)]
        .into_iter()
        .filter_map(|(c, p)| p.map(|p| (c.to_string(), p)))
        .collect();
    Ok(FallbackSettings {
        default: f.default.unwrap_or_default(),
        commands,
        routes: f.routes.clone(),
    })
}

/// A Redis or Valkey store's URL: the environment variable `var` over the file's `field`,
/// checked for its scheme (the URL shown in an error has no password).
fn store_url(
    origin: &Path,
    field: &str,
    file: Option<&String>,
    var: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, ConfigError> {
    let url = env(var)
        .filter(|v| !v.trim().is_empty())
        .or_else(|| file.cloned());
    if let Some(url) = &url {
        let scheme = url.split("://").next().unwrap_or("");
        if !matches!(scheme, "redis" | "rediss" | "valkey") || !url.contains("://") {
            return Err(ConfigError::Invalid {
                path: origin.to_path_buf(),
                what: field.into(),
                message: format!(
                    "= `{}` is not a Redis or Valkey URL: write it like redis://127.0.0.1:6379/0 (or set {var})",
                    shown_url(url)
                ),
            });
        }
    }
    Ok(url)
}

/// `[review]`, with `AIW_QUEUE_STORE` over the file's `queue_store`.
fn resolve_review(
    cfg: &mut FileConfig,
    user_file: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ReviewSettings, ConfigError> {
    let origin = cfg.origin_of("review", user_file).to_path_buf();
    let review = ReviewSettings {
        queue_store: store_url(
            &origin,
            "review.queue_store",
            cfg.review.queue_store.as_ref(),
            "AIW_QUEUE_STORE",
            env,
        )?,
        concurrency: cfg
            .review
            .concurrency
            .map(|v| validate::int(&origin, "review.concurrency", v, validate::CONCURRENCY))
            .transpose()?,
        queue_max_attempts: cfg
            .review
            .queue_max_attempts
            .map(|v| {
                validate::int(
                    &origin,
                    "review.queue_max_attempts",
                    v,
                    validate::QUEUE_ATTEMPTS,
                )
            })
            .transpose()?,
        max_chunks: cfg
            .review
            .max_chunks
            .map(|v| validate::int(&origin, "review.max_chunks", v, validate::MAX_CHUNKS))
            .transpose()?,
        exclude: std::mem::take(&mut cfg.review.exclude),
        include: std::mem::take(&mut cfg.review.include),
    };
    Ok(review)
}

/// `[limits]`.
fn resolve_limits(cfg: &FileConfig, user_file: &Path) -> Result<Limits, ConfigError> {
    let mut limits = Limits::default();
    for (field, value, slot) in [
        ("answer", &cfg.limits.answer, &mut limits.answer_bytes),
        ("diff", &cfg.limits.diff, &mut limits.diff_bytes),
    ] {
        if let Some(v) = value {
            *slot = parse_size(v).map_err(|message| ConfigError::Invalid {
                path: user_file.to_path_buf(),
                what: format!("limits.{field}"),
                message,
            })?;
        }
    }
    Ok(limits)
}

/// `[gateway]`: model globs and the route they use must name defined routes.
fn resolve_gateway(
    cfg: &FileConfig,
    user_file: &Path,
    routes: &BTreeMap<String, Vec<ModelRef>>,
    default_route: &str,
) -> Result<GatewaySettings, ConfigError> {
    let g = &cfg.gateway;
    let route_exists = |key: &str, name: &str| {
        if routes.contains_key(name) {
            Ok(name.to_string())
        } else {
            Err(ConfigError::Invalid {
                path: user_file.to_path_buf(),
                what: key.to_string(),
                message: format!(
                    "names route `{}`, which is not defined under [routes]",
                    validate::clip(name)
                ),
            })
        }
    };
    let mut gw_models = Vec::with_capacity(g.models.len());
    for (glob, route) in &g.models {
        if globset::Glob::new(glob).is_err() {
            return Err(ConfigError::Invalid {
                path: user_file.to_path_buf(),
                what: format!("gateway.models.{}", validate::clip(glob)),
                message: "is not a valid glob: use * and ? like \"claude-opus-*\"".into(),
            });
        }
        gw_models.push((
            glob.clone(),
            route_exists(&format!("gateway.models.{glob}"), route)?,
        ));
    }
    let gateway = GatewaySettings {
        models: gw_models,
        route: match &g.route {
            Some(r) => route_exists("gateway.route", r)?,
            None => default_route.to_string(),
        },
        max_body: g
            .max_body_mib
            .map(|v| {
                validate::int::<usize>(
                    user_file,
                    "gateway.max_body_mib",
                    v,
                    validate::GATEWAY_BODY_MIB,
                )
            })
            .transpose()?
            .unwrap_or(32)
            * 1024
            * 1024,
        max_streams: g
            .max_streams
            .map(|v| {
                validate::int::<usize>(
                    user_file,
                    "gateway.max_streams",
                    v,
                    validate::GATEWAY_STREAMS,
                )
            })
            .transpose()?
            .unwrap_or(64),
    };
    Ok(gateway)
}

/// `[summary]` resolved: defaults filled in, the model's provider configured.
fn resolve_summary(
    f: &SummaryFile,
    providers: &BTreeMap<String, ProviderSettings>,
    path: &Path,
) -> Result<SummarySettings, ConfigError> {
    let d = SummarySettings::default();
    let invalid = |what: &str, message: String| ConfigError::Invalid {
        path: path.to_path_buf(),
        what: what.into(),
        message,
    };
    let model = match &f.model {
        None => None,
        Some(m) => {
            let m = ModelRef::parse(m).map_err(|e| invalid("summary.model", e))?;
            match providers.get(&m.provider) {
                None => {
                    return Err(invalid(
                        "summary.model",
                        format!(
                            "`{m}` names provider `{}`, which is not configured; known providers: {}",
                            m.provider,
                            providers.keys().cloned().collect::<Vec<_>>().join(", ")
                        ),
                    ));
                }
                Some(p) if p.kind == ProviderKind::Local => {
                    return Err(invalid(
                        "summary.model",
                        format!(
                            "`{m}` is the local model: the summary is written by a cloud model while one is healthy, so that it is ready when only the local model is left; name a cloud model"
                        ),
                    ));
                }
                Some(_) => Some(m),
            }
        }
    };
    Ok(SummarySettings {
        enabled: f.enabled.unwrap_or(d.enabled),
        every_turns: f
            .every_turns
            .map(|v| validate::int(path, "summary.every_turns", v, validate::SUMMARY_TURNS))
            .transpose()?
            .unwrap_or(d.every_turns),
        every_tokens: f
            .every_tokens
            .map(|v| validate::int(path, "summary.every_tokens", v, validate::SUMMARY_TOKENS))
            .transpose()?
            .unwrap_or(d.every_tokens),
        model,
    })
}

/// The route aiw uses with no config: Claude first, then the other cloud providers whose key
/// is set, then the local model.
fn builtin_route(providers: &BTreeMap<String, ProviderSettings>) -> Vec<ModelRef> {
    let mut route = Vec::new();
    for (provider, model) in BUILTIN_CLOUD_MODELS {
        if providers
            .get(provider)
            .is_some_and(ProviderSettings::is_usable)
        {
            route.push(ModelRef {
                provider: provider.into(),
                model: model.into(),
            });
        }
    }
    let local_model = providers
        .get("local")
        .and_then(|p| p.local.as_ref())
        .map_or_else(|| DEFAULT_LOCAL_MODEL.to_string(), |l| l.model.clone());
    route.push(ModelRef {
        provider: "local".into(),
        model: local_model,
    });
    route
}

/// Threads for the local model: the machine's cores, at most 8 (more rarely helps on CPU).
fn default_threads() -> u32 {
    std::thread::available_parallelism().map_or(4, |n| n.get().min(8) as u32)
}

/// `[prices]`: the shipped price table with the user's entries over it.
fn resolve_prices(cfg: &FileConfig, path: &Path) -> Result<Prices, ConfigError> {
    Prices::new(&cfg.prices).map_err(|message| ConfigError::Invalid {
        path: path.to_path_buf(),
        what: "prices".into(),
        message,
    })
}
