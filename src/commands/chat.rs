//! `aiw chat`: checks for a terminal, opens or resumes the session, resolves the route and the
//! pinned model, builds the router, and hands everything to `tui::run`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use anyhow::Context as _;

use super::Context;
use crate::cli::ChatArgs;
use crate::config::ProviderKind;
use crate::output;
use crate::router::Router;
use crate::tui::session::{Session, SessionStore};
use crate::tui::{self, Chat, Ended, app, keys};

/// Runs `aiw chat`.
pub async fn run(ctx: &Context, args: ChatArgs) -> anyhow::Result<ExitCode> {
    // Before touching any session file: without a terminal there is nothing to do.
    tui::require_terminal()?;
    let settings = &ctx.settings;
    let store = SessionStore::new(&settings.paths.data_dir);
    let sessions_dir = store.dir().to_path_buf();

    let resume = if args.continue_latest {
        Some(None)
    } else {
        args.resume
            .as_deref()
            .map(|id| (!id.is_empty()).then_some(id))
    };
    let mut warnings = Vec::new();
    #[expect(clippy::single_match_else, reason = "resume vs new session")]
    let (session, writer) = match resume {
        Some(id) => {
            let (session, writer, salvage) = store.resume(id).with_context(|| match id {
                Some(id) => format!(
                    "cannot resume session `{id}` from {}: list them with `aiw sessions list`",
                    sessions_dir.display()
                ),
                None => format!(
                    "no session to continue in {}: start one with `aiw chat`",
                    sessions_dir.display()
                ),
            })?;
            warnings.extend(salvage);
            if args.system.is_some() {
                warnings.push(
                    "--system is ignored when resuming: the session keeps its system prompt".into(),
                );
            }
            (session, writer)
        }
        None => {
            let (route_name, _) = settings.route_for(args.route.as_deref(), "chat")?;
            let session = Session::new(args.system.clone(), Some(route_name));
            let writer = store.create(&session).with_context(|| {
                format!("cannot create a session file in {}", sessions_dir.display())
            })?;
            (session, writer)
        }
    };

    // An explicit -r wins; a resumed session keeps its route when it still exists.
    let explicit = args.route.as_deref().or_else(|| {
        session
            .route
            .as_deref()
            .filter(|r| settings.routes.contains_key(*r))
    });
    let (route_name, route) = settings.route_for(explicit, "chat")?;
    warnings.extend(first_run_hint(settings, &route_name, &route));

    let pinned = match args.model.as_deref() {
        Some(m) => {
            let m = settings.model(m)?;
            Some(m)
        }
        None => None,
    };

    let (keymap, key_warnings) = keys::KeyMap::from_config(&settings.chat_keys);
    warnings.extend(key_warnings);
    let providers = settings
        .providers
        .iter()
        .map(|(name, p)| (name.clone(), p.kind == ProviderKind::Local))
        .collect();
    let windows = settings
        .providers
        .iter()
        .filter_map(|(name, p)| {
            let w = p
                .context_window
                .or_else(|| p.local.as_ref().map(|l| l.context_size))?;
            Some((name.clone(), w))
        })
        .collect();
    let init = app::Init {
        session,
        route_name,
        routes: settings.routes.clone(),
        providers,
        windows,
        evals: crate::eval::Scores::load(&settings.paths.state_dir)
            .notes(crate::router::Clock::system().now_ms()),
        pinned,
        keymap,
        warnings,
        now: Instant::now(),
        wall: SystemTime::now(),
    };
    let router = Router::new(Arc::new(settings.clone()))?;
    let ended = tui::run(Chat {
        router,
        init,
        writer,
    })
    .await?;
    match ended {
        Ended::Quit { session_id } => {
            output::note(&format!(
                "session {session_id} saved; resume with `aiw chat --resume {session_id}`"
            ));
            Ok(ExitCode::SUCCESS)
        }
        Ended::Signal { session_id } => {
            output::note(&format!(
                "interrupted; session {session_id} saved; resume with `aiw chat --resume {session_id}`"
            ));
            Ok(crate::exit::code(crate::exit::INTERRUPTED))
        }
    }
}

/// The hint for a first run: no cloud model of the route has its API key set, so only the
/// local tier (if any) can answer. Says which variables to set.
fn first_run_hint(
    settings: &crate::config::Settings,
    route_name: &str,
    route: &[crate::config::ModelRef],
) -> Option<String> {
    let cloud: Vec<_> = route
        .iter()
        .filter_map(|m| settings.provider(m))
        .filter(|p| p.kind != ProviderKind::Local)
        .collect();
    if cloud.is_empty() || cloud.iter().any(|p| p.is_usable()) {
        return None;
    }
    let mut vars: Vec<String> = cloud
        .iter()
        .filter_map(|p| p.api_key_env.first().cloned())
        .collect();
    vars.dedup();
    Some(format!(
        "no API key is set for the cloud models of route `{route_name}`: set {} (or pin a local model with -m local/default)",
        vars.join(" or ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{FileConfig, Paths, Settings};

    fn settings(keys: bool) -> Settings {
        let dir = std::path::Path::new("/nonexistent");
        let paths = Paths {
            config_file: dir.join("config.toml"),
            data_dir: dir.join("data"),
            state_dir: dir.join("state"),
        };
        let text = "[routes]\ndefault = [\"anthropic/claude-opus-4-8\", \"local/default\"]\n";
        let cfg = FileConfig::parse(text, &paths.config_file).unwrap();
        Settings::resolve(cfg, paths, true, Vec::new(), &|k| {
            (keys && k == "ANTHROPIC_API_KEY").then(|| "k".to_string())
        })
        .unwrap()
    }

    #[test]
    fn a_first_run_without_keys_says_which_to_set() {
        let s = settings(false);
        let (name, route) = s.route_for(None, "chat").unwrap();
        let hint = first_run_hint(&s, &name, &route).expect("a hint");
        assert!(hint.contains("ANTHROPIC_API_KEY"), "{hint}");
        let s = settings(true);
        let (name, route) = s.route_for(None, "chat").unwrap();
        assert_eq!(first_run_hint(&s, &name, &route), None);
    }
}
