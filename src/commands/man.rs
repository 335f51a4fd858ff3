//! `aiw man`: prints the man page (roff), with EXIT STATUS and ENVIRONMENT sections.

use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::Cli;

/// The man page as roff text.
pub fn page() -> anyhow::Result<String> {
    let cmd = Cli::command().after_help("");
    let man = clap_mangen::Man::new(cmd);
    let mut buf = Vec::new();
    man.render_title(&mut buf)?;
    man.render_name_section(&mut buf)?;
    man.render_synopsis_section(&mut buf)?;
    man.render_description_section(&mut buf)?;
    man.render_options_section(&mut buf)?;
    man.render_subcommands_section(&mut buf)?;
    let mut text = String::from_utf8(buf)?;
    let (exit, env) = crate::cli::EXIT_STATUS_HELP
        .split_once("\n\nENVIRONMENT:\n")
        .unwrap_or((crate::cli::EXIT_STATUS_HELP, ""));
    text.push_str(".SH \"EXIT STATUS\"\n");
    for line in exit.lines().skip(1) {
        text.push_str(&roff_item(line));
    }
    text.push_str(".SH ENVIRONMENT\n");
    for line in env.lines() {
        text.push_str(&roff_item(line));
    }
    man.render_version_section(&mut Vec::new())?;
    Ok(text)
}

/// One help line as a roff tagged paragraph: `KEY  description` (two spaces), else
/// `KEYS: description`, else `KEY description` (the `130 interrupted` line).
fn roff_item(line: &str) -> String {
    let line = line.trim();
    let (key, desc) = line
        .split_once("  ")
        .or_else(|| line.split_once(": "))
        .or_else(|| line.split_once(' '))
        .unwrap_or((line, ""));
    let esc = |s: &str| s.replace('\\', "\\\\").replace('-', "\\-");
    format!(".TP\n\\fB{}\\fR\n{}\n", esc(key.trim()), esc(desc.trim()))
}

/// Runs `aiw man`.
pub fn run() -> anyhow::Result<ExitCode> {
    crate::output::stream_text(&page()?)?;
    Ok(ExitCode::SUCCESS)
}
