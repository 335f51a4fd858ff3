//! `aiw model list|pull|import|rm|path`: managing local model files in `{data_dir}/models/`.
//! Plain file work (no llama.cpp), so it works in builds without the `local` feature too.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use serde::Serialize;

use super::Context;
use crate::cli::{ModelArgs, ModelCommand};
use crate::output;
use crate::provider::local::catalogue::{self, Catalogue};
use crate::provider::local::download::{self, Progress, PullTarget};

/// Runs `aiw model`.
pub async fn run(ctx: &Context, args: ModelArgs) -> anyhow::Result<ExitCode> {
    let data_dir = ctx.settings.paths.data_dir.clone();
    match args.command.unwrap_or(ModelCommand::List { json: false }) {
        ModelCommand::List { json } => list(&data_dir, configured_model(ctx).as_deref(), json),
        ModelCommand::Pull { name, sha256 } => pull(&data_dir, &name, sha256.as_deref()).await,
        ModelCommand::Import { path, name } => {
            let inst = tokio::task::spawn_blocking(move || {
                catalogue::import(&data_dir, &path, name.as_deref())
            })
            .await
            .context("import task failed")??;
            output::note(&format!(
                "installed `{}` ({}) at {}",
                inst.name,
                human_size(inst.size),
                inst.path.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Rm { name } => {
            let removed = catalogue::remove(&data_dir, &name)?;
            output::note(&format!("removed {}", removed.display()));
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Path { name } => {
            let p = match name {
                None => catalogue::models_dir(&data_dir),
                Some(n) => catalogue::resolve(&data_dir, &n)?,
            };
            output::line(&p.display().to_string())?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The local model the config uses (first local provider), if any.
fn configured_model(ctx: &Context) -> Option<String> {
    ctx.settings
        .providers
        .values()
        .find_map(|p| p.local.as_ref().map(|l| l.model.clone()))
}

#[derive(Serialize)]
struct ListRow {
    name: String,
    installed: bool,
    default: bool,
    size: u64,
    context_window: Option<u32>,
    license: Option<String>,
    path: Option<String>,
    source: Option<String>,
    description: String,
}

fn list(data_dir: &Path, configured: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let cat = Catalogue::builtin();
    let installed = catalogue::list_installed(data_dir)?;
    let default = configured.unwrap_or(&cat.default);
    let mut rows: Vec<ListRow> = cat
        .models
        .iter()
        .map(|m| {
            let inst = installed
                .iter()
                .find(|i| i.in_catalogue && i.name == m.name);
            ListRow {
                name: m.name.clone(),
                installed: inst.is_some(),
                default: m.name == default,
                size: inst.map_or(m.size, |i| i.size),
                context_window: Some(m.context_window),
                license: Some(m.license.clone()),
                path: inst.map(|i| i.path.display().to_string()),
                source: Some(if m.url.is_empty() {
                    m.source.clone()
                } else {
                    m.url.clone()
                }),
                description: m.description.clone(),
            }
        })
        .collect();
    for i in installed.iter().filter(|i| !i.in_catalogue) {
        rows.push(ListRow {
            name: i.name.clone(),
            installed: true,
            default: i.name == default || i.path.display().to_string() == default,
            size: i.size,
            context_window: None,
            license: None,
            path: Some(i.path.display().to_string()),
            source: None,
            description: "imported file".to_string(),
        });
    }
    if json {
        output::line(&serde_json::to_string_pretty(&rows)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    output::line(&format!(
        "  {:width$}  {:9}  {:>9}  {:>7}  {:10}  DESCRIPTION",
        "NAME", "STATUS", "SIZE", "CONTEXT", "LICENSE"
    ))?;
    for r in &rows {
        output::line(&format!(
            "{} {:width$}  {:9}  {:>9}  {:>7}  {:10}  {}",
            if r.default { '*' } else { ' ' },
            r.name,
            if r.installed { "installed" } else { "-" },
            human_size(r.size),
            r.context_window
                .map_or_else(|| "?".to_string(), |c| c.to_string()),
            r.license.as_deref().unwrap_or("?"),
            r.description,
        ))?;
    }
    output::line(&format!(
        "* = default. Models live in {}. Install: `aiw model pull NAME`, or for the default: {}",
        catalogue::models_dir(data_dir).display(),
        catalogue::DEFAULT_MODEL_FIX
    ))?;
    Ok(ExitCode::SUCCESS)
}

async fn pull(data_dir: &Path, name: &str, sha256: Option<&str>) -> anyhow::Result<ExitCode> {
    let target = PullTarget::resolve(name, sha256)?;
    let http = crate::provider::http::download_client(std::time::Duration::from_secs(15))?;
    output::note(&format!("downloading {}", target.url));
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut on_progress = |p: Progress| match p {
        Progress::Start { total, already } => {
            if already > 0 {
                output::note(&format!("resuming after {}", human_size(already)));
            }
            bar = Some(output::download_bar(total, already));
        }
        Progress::Advance(n) => {
            if let Some(b) = &bar {
                b.inc(n);
            }
        }
        Progress::Verifying => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
        }
    };
    let pulled = download::pull(data_dir, &http, &target, &mut on_progress).await?;
    if pulled.verified {
        output::note(&format!("sha256 verified ({})", pulled.sha256));
    } else {
        output::note(&format!(
            "sha256 {} (not verified: no expected hash; pass --sha256 to check one)",
            pulled.sha256
        ));
    }
    output::note(&format!(
        "installed `{}` ({}) at {}",
        pulled.installed.name,
        human_size(pulled.installed.size),
        pulled.installed.path.display()
    ));
    Ok(ExitCode::SUCCESS)
}

/// `98.4 MB` style sizes (decimal units, like download sites).
fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else if b >= 1e3 {
        format!("{:.1} kB", b / 1e3)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_size(98_362_432), "98.4 MB");
        assert_eq!(human_size(1_117_320_480), "1.12 GB");
        assert_eq!(human_size(12), "12 B");
    }
}
