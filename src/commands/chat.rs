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
    let (route_name, _) = settings.route_for(explicit, "chat")?;

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
    let init = app::Init {
        session,
        route_name,
        routes: settings.routes.clone(),
        providers,
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
