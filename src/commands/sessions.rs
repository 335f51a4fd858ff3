//! `aiw sessions list | show ID | export ID [-o FILE] | rm ID`: the saved chat sessions in the
//! data dir. Reading and writing the files is `session::store`'s job; this file only turns
//! the command into store calls and prints the results through `output`.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;
use crate::cli::{SessionsArgs, SessionsCommand};
use crate::exit;
use crate::output;
use crate::session::{SessionStore, SessionSummary};

/// Runs `aiw sessions`.
pub fn run(ctx: &Context, args: SessionsArgs) -> anyhow::Result<ExitCode> {
    let store = SessionStore::new(&ctx.settings.paths.data_dir);
    match args
        .command
        .unwrap_or(SessionsCommand::List { json: false })
    {
        SessionsCommand::List { json } => list(&store, json),
        SessionsCommand::Show { id } => {
            let (session, warnings) = store.load(&id)?;
            warn_all(&warnings);
            output::line(&session.to_markdown())?;
            Ok(exit::code(exit::OK))
        }
        SessionsCommand::Export { id, output: file } => {
            let (session, warnings) = store.load(&id)?;
            warn_all(&warnings);
            let md = session.to_markdown();
            match file {
                None => output::stream_text(&md)?,
                Some(path) if crate::files::is_stdout(&path) => output::stream_text(&md)?,
                Some(path) => {
                    crate::files::write_atomic(&path, md.as_bytes(), crate::files::Access::Public)
                        .with_context(|| format!("cannot write {}", path.display()))?;
                    output::note(&format!(
                        "exported session {} to {}",
                        session.id,
                        path.display()
                    ));
                }
            }
            Ok(exit::code(exit::OK))
        }
        SessionsCommand::Rm { id } => {
            let full = store.resolve(&id)?;
            store.remove(&full)?;
            output::note(&format!("removed session {full}"));
            Ok(exit::code(exit::OK))
        }
    }
}

fn list(store: &SessionStore, json: bool) -> anyhow::Result<ExitCode> {
    let sessions = store.list()?;
    for s in &sessions {
        warn_all(&s.warnings);
    }
    if json {
        let text = serde_json::to_string_pretty(&sessions).context("cannot encode the list")?;
        output::line(&text)?;
    } else if sessions.is_empty() {
        output::note(&format!(
            "no saved sessions in {} yet: start one with `aiw chat`",
            store.dir().display()
        ));
    } else {
        output::line(&table(&sessions))?;
    }
    Ok(exit::code(exit::OK))
}

/// `ID  UPDATED  TURNS  MODELS  FIRST QUESTION`, one line per session.
fn table(sessions: &[SessionSummary]) -> String {
    let rows: Vec<[String; 5]> = sessions
        .iter()
        .map(|s| {
            let mut turns = s.turns.to_string();
            if s.partial {
                turns.push_str(" (partial)");
            }
            [
                s.id.clone(),
                short_time(&s.updated_at),
                turns,
                if s.models.is_empty() {
                    "-".to_string()
                } else {
                    s.models
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                },
                s.title.clone(),
            ]
        })
        .collect();
    let header = ["ID", "UPDATED", "TURNS", "MODELS", "FIRST QUESTION"];
    let mut width = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(header.map(str::to_string)).chain(rows) {
        let mut line = String::new();
        for (i, (c, w)) in r.iter().zip(width).enumerate() {
            if i + 1 == r.len() {
                line.push_str(c);
            } else {
                let _ = write!(line, "{c:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `2026-11-23T14:15:02.123Z` -> `2026-11-23 14:15` (UTC, as stored).
fn short_time(rfc: &str) -> String {
    match rfc.get(..16) {
        Some(s) if s.len() == 16 => s.replacen('T', " ", 1),
        _ => rfc.to_string(),
    }
}

fn warn_all(warnings: &[String]) {
    for w in warnings {
        output::warn(w);
    }
}
