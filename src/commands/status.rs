//! `aiw status`: a table of every model in the configured routes with its health (state, last
//! error, latency, error rate, next probe); `--probe` probes them all now, in parallel;
//! `--json` for scripts. The exit code says whether the route can answer at all, so CI can
//! use it as a pre-flight check.

use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;

use super::Context;
use crate::cli::StatusArgs;
use crate::exit;
use crate::output::{self, Exit};
use crate::router::{HealthState, ModelHealth, Router};

#[derive(Serialize)]
struct StatusJson<'a> {
    route: &'a str,
    can_answer: bool,
    /// The fleet health store, when one is configured.
    store: Option<crate::router::fleet::FleetStatus>,
    models: Vec<ModelStatus<'a>>,
}

#[derive(Serialize)]
struct ModelStatus<'a> {
    #[serde(flatten)]
    health: &'a ModelHealth,
    usable: bool,
    in_route: bool,
    probe: Option<ProbeResult>,
    /// Its last `aiw eval` score (absent: never evaluated).
    eval: Option<crate::eval::Score>,
}

#[derive(Serialize, Clone)]
struct ProbeResult {
    ok: bool,
    ms: Option<u64>,
    error: Option<String>,
}

/// Runs `aiw status`.
pub async fn run(ctx: &Context, args: StatusArgs) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let (route_name, route) = settings
        .route_for(args.route.as_deref(), "default")
        .map_err(|e| Exit {
            message: e.to_string(),
            code: exit::USAGE,
        })?;
    let models = settings.all_route_models();
    let router = Router::new(Arc::new(settings.clone()))?;

    let mut probes: Vec<Option<ProbeResult>> = vec![None; models.len()];
    if args.probe {
        let usable: Vec<bool> = models
            .iter()
            .map(|m| {
                settings
                    .provider(m)
                    .is_some_and(crate::config::ProviderSettings::is_usable)
            })
            .collect();
        let results = futures_util::future::join_all(models.iter().zip(&usable).map(|(m, ok)| {
            let router = router.clone();
            async move {
                if !ok {
                    return None;
                }
                Some(match router.probe(m).await {
                    Ok(ms) => ProbeResult {
                        ok: true,
                        ms: Some(ms),
                        error: None,
                    },
                    Err(e) => ProbeResult {
                        ok: false,
                        ms: None,
                        error: Some(e.to_string()),
                    },
                })
            }
        }))
        .await;
        probes = results;
    }

    let health = router.health(&models);
    let usable = |i: usize| {
        settings
            .provider(&models[i])
            .is_some_and(crate::config::ProviderSettings::is_usable)
    };
    let can_answer = models.iter().enumerate().any(|(i, m)| {
        route.contains(m)
            && usable(i)
            && !matches!(health[i].state, HealthState::Open)
            && probes[i].as_ref().is_none_or(|p| p.ok)
    });

    let store = router.health_store().fleet_status();
    let scores = crate::eval::Scores::load(&settings.paths.state_dir);
    let now = router.clock().now_ms();
    if args.json {
        let out = StatusJson {
            route: &route_name,
            can_answer,
            store,
            models: health
                .iter()
                .enumerate()
                .map(|(i, h)| ModelStatus {
                    health: h,
                    usable: usable(i),
                    in_route: route.contains(&models[i]),
                    probe: probes[i].clone(),
                    eval: scores.get(&h.model.to_string()).cloned(),
                })
                .collect(),
        };
        output::line(&serde_json::to_string_pretty(&out)?)?;
    } else {
        output::line(&format!(
            "{:<40} {:<9} {:<22} {:>8} {:>8} {:>6}  {:<22} {}",
            "MODEL", "STATE", "LAST ERROR", "MEDIAN", "P95", "ERR%", "EVAL", "NEXT PROBE / NOTE"
        ))?;
        for (i, h) in health.iter().enumerate() {
            let state = match h.state {
                HealthState::Unknown => "unknown",
                HealthState::Healthy => "healthy",
                HealthState::Degraded => "degraded",
                HealthState::Open => "down",
                HealthState::Probing => "probing",
            };
            let last = match (&h.last_error, &h.last_error_at) {
                (Some(c), Some(at)) => format!("{c} {}", at.get(11..19).unwrap_or(at)),
                (Some(c), None) => c.to_string(),
                _ => "-".into(),
            };
            let ms = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| format!("{v}ms"));
            let note = if !usable(i) {
                let p = settings.provider(&models[i]);
                format!(
                    "no key: set {}",
                    p.map(|p| p.api_key_env.join(" or ")).unwrap_or_default()
                )
            } else if let Some(n) = &h.note {
                n.chars().take(90).collect()
            } else if let Some(p) = &probes[i] {
                if p.ok {
                    format!("probe ok in {}", ms(p.ms))
                } else {
                    format!("probe failed: {}", p.error.as_deref().unwrap_or(""))
                }
            } else if let Some(until) = &h.rate_limited_until {
                format!("rate limited until {}", until.get(11..19).unwrap_or(until))
            } else {
                h.next_probe_at.clone().unwrap_or_default()
            };
            let eval = scores
                .get(&h.model.to_string())
                .map_or_else(|| "never evaluated".to_string(), |s| s.describe(now));
            output::line(&format!(
                "{:<40} {:<9} {:<22} {:>8} {:>8} {:>5.1}%  {:<22} {}",
                h.model,
                state,
                last,
                ms(h.median_ms),
                ms(h.p95_ms),
                h.error_rate * 100.0,
                eval,
                note
            ))?;
        }
        let verdict = if can_answer {
            "can answer"
        } else {
            "CANNOT answer"
        };
        output::line(&format!("route `{route_name}` {verdict}"))?;
        if let Some(s) = &store {
            let view = match s.latency_ms {
                Some(ms) => format!("fleet view, {ms:.2} ms"),
                None => "NOT answering: this machine's own view".into(),
            };
            output::line(&format!("health store {} ({view})", s.url))?;
        }
    }
    router
        .finish_background(settings.health.probe_timeout)
        .await;
    Ok(if can_answer {
        ExitCode::SUCCESS
    } else {
        exit::code(exit::FINDINGS)
    })
}
