//! `aiw drill`: rehearse an outage. `--down PATTERN... -- CMD` marks the matching models down
//! for CMD and every aiw it starts (through `AIW_DRILL_DIR`, a drill directory of its own with
//! a copy of the health state), runs CMD, then prints who answered each request; the real
//! health state is only read. Without CMD the drill stands for every aiw on the machine until
//! `--for` runs out or `aiw drill --clear`; `aiw drill` alone says whether one is in force.

use std::process::ExitCode;

use anyhow::Context as _;
use serde::Deserialize;

use super::Context;
use crate::cli::DrillArgs;
use crate::exit;
use crate::output::{self, Exit};
use crate::router::clock::Clock;
use crate::router::drill::{self, Drill, DrillSpec};
use crate::time::time_of_day;

/// What the drill report reads from each journal line.
#[derive(Deserialize)]
struct JournalLine {
    at: String,
    model: String,
    outcome: crate::router::Outcome,
    error_class: Option<crate::provider::ErrorClass>,
    ms: u64,
    #[serde(default)]
    probe: bool,
}

/// Runs `aiw drill`.
pub async fn run(ctx: &Context, args: DrillArgs) -> anyhow::Result<ExitCode> {
    let settings = &ctx.settings;
    let state = &settings.paths.state_dir;
    let standing = drill::standing_dir(state);
    let now = Clock::system().now_ms();
    let usage = |message: String| Exit {
        message,
        code: exit::USAGE,
    };
    if args.clear {
        let had = Drill::clear(&standing)
            .with_context(|| format!("cannot remove the drill in {}", standing.display()))?;
        output::note(if had {
            "drill cleared: every model is back to its real health"
        } else {
            "no drill to clear"
        });
        return Ok(ExitCode::SUCCESS);
    }
    if args.down.is_empty() {
        if !args.command.is_empty() {
            return Err(usage(
                "say which models are down for the drill: `aiw drill --down 'anthropic/*' -- CMD`"
                    .into(),
            )
            .into());
        }
        match Drill::active(state, now) {
            Some(d) => output::line(&format!(
                "drill in force until {}: down: {}",
                time_of_day(d.spec.until_ms),
                d.spec.down.join(" ")
            ))?,
            None => output::line("no drill in force")?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    let length = crate::config::parse_duration(&args.duration)
        .map_err(|e| usage(format!("--for {}: {e}", args.duration)))?;
    let spec = DrillSpec {
        down: args.down.clone(),
        started_ms: now,
        until_ms: now.saturating_add(length.as_millis() as u64),
    };
    crate::files::private_dir(state)
        .with_context(|| format!("cannot create the state dir {}", state.display()))?;

    let Some((program, rest)) = args.command.split_first() else {
        let d = Drill::start(&standing, state, spec).map_err(|e| usage(e.to_string()))?;
        let names = matched(settings, &d);
        output::note(&format!(
            "drill in force until {}: down: {}. Every aiw on this machine skips them; `aiw drill --clear` ends it",
            time_of_day(d.spec.until_ms),
            names
        ));
        return Ok(ExitCode::SUCCESS);
    };
    let dir = tempfile::Builder::new()
        .prefix("drill-")
        .tempdir_in(state)
        .with_context(|| format!("cannot create a drill directory in {}", state.display()))?;
    let d = Drill::start(dir.path(), state, spec).map_err(|e| usage(e.to_string()))?;
    output::note(&format!(
        "drill: down for this command: {}",
        matched(settings, &d)
    ));
    let mut child = tokio::process::Command::new(program)
        .args(rest)
        .env(drill::ENV, dir.path())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!("cannot start `{program}`: {e} (is it installed and on PATH?)")
        })?;
    // Ctrl+C reaches CMD too (same process group): wait for it to end.
    let status = loop {
        tokio::select! {
            s = child.wait() => break s?,
            _ = tokio::signal::ctrl_c() => {}
        }
    };
    report(&d);
    let code = status.code().map_or(1, |c| u8::try_from(c).unwrap_or(1));
    Ok(exit::code(code))
}

/// The configured models the drill takes down, or what was asked when none matches.
fn matched(settings: &crate::config::Settings, d: &Drill) -> String {
    let names: Vec<String> = settings
        .all_route_models()
        .iter()
        .map(ToString::to_string)
        .filter(|m| d.matches(m))
        .collect();
    if names.is_empty() {
        output::warn(&format!(
            "no model of your routes matches {}",
            d.spec.down.join(" ")
        ));
        d.spec.down.join(" ")
    } else {
        names.join(", ")
    }
}

/// Prints, from the drill's journal, who answered each request and what failed.
fn report(d: &Drill) {
    let text = std::fs::read_to_string(d.journal_path()).unwrap_or_default();
    let lines: Vec<JournalLine> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|l: &JournalLine| !l.probe)
        .collect();
    if lines.is_empty() {
        output::note("drill over: no request reached a model");
        return;
    }
    output::note("drill over; calls made during it:");
    for l in &lines {
        let time = l.at.get(11..19).unwrap_or(&l.at);
        let what = match (l.outcome, l.error_class) {
            (crate::router::Outcome::Ok, _) => "answered".to_string(),
            (o, Some(c)) => format!("{o:?} ({c})").to_lowercase(),
            (o, None) => format!("{o:?}").to_lowercase(),
        };
        output::note(&format!("  {time} {} {what} in {} ms", l.model, l.ms));
    }
}
