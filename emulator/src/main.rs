//! The standalone `aiw-emulator` binary: parses `--port`/`--scripts`, starts the
//! emulator, prints `listening on http://127.0.0.1:PORT`, and runs until SIGINT/SIGTERM.

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "the command line prints its help, its address and its errors"
)]

use std::collections::HashMap;
use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use aiw_emulator::{Emulator, Script};

const HELP: &str = "\
aiw-emulator: a fault-injecting fake of the Anthropic, OpenAI and Gemini streaming APIs

Usage: aiw-emulator [--port N] [--scripts FILE.json]

Options:
  --port N             listen on 127.0.0.1:N (default: any free port)
  --scripts FILE.json  initial scripts: {\"model-id\": Script, ...}
  -h, --help           print this help

Control API (same port): POST /_emulator/scripts, GET|DELETE /_emulator/requests,
POST /_emulator/status/{name}. Runs until SIGINT or SIGTERM.
";

struct Args {
    port: u16,
    scripts: Option<String>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        port: 0,
        scripts: None,
    };
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (a.clone(), None),
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" | "--scripts" => {
                let v = inline
                    .or_else(|| it.next())
                    .ok_or_else(|| format!("{flag} needs a value"))?;
                if flag == "--port" {
                    args.port = v.parse().map_err(|_| format!("bad port: {v}"))?;
                } else {
                    args.scripts = Some(v);
                }
            }
            _ => return Err(format!("unknown argument: {a}")),
        }
    }
    Ok(Some(args))
}

fn load_scripts(path: &str) -> Result<HashMap<String, Script>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            print!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("aiw-emulator: {e}\n\n{HELP}");
            return ExitCode::from(2);
        }
    };
    let scripts = match args.scripts.as_deref().map(load_scripts).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(e) => {
            eprintln!("aiw-emulator: {e}");
            return ExitCode::from(2);
        }
    };
    let emu = match Emulator::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, args.port))).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("aiw-emulator: cannot listen on port {}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    for (model, script) in scripts {
        emu.set_script(&model, script);
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {}", emu.base_url());
    let _ = out.flush();
    wait_for_signal().await;
    emu.shutdown();
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &[&str]) -> Result<Option<Args>, String> {
        parse_args(v.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn args() {
        let a = parse(&["--port", "8080", "--scripts=s.json"])
            .expect("valid")
            .expect("not help");
        assert_eq!(a.port, 8080);
        assert_eq!(a.scripts.as_deref(), Some("s.json"));
        assert!(parse(&["--help"]).expect("valid").is_none());
        assert!(parse(&["--port"]).is_err());
        assert!(parse(&["--port", "x"]).is_err());
        assert!(parse(&["--bogus"]).is_err());
    }
}
