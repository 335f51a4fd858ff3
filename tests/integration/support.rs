//! Helpers shared by the integration tests: settings and routers whose providers point at a
//! provider emulator, and a hermetic `aiw` command.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use aiw::config::{FileConfig, Paths, Settings};
use aiw::provider::ModelRef;
use aiw::router::Router;
use aiw::router::health::HealthStore;
use aiw::router::journal::Journal;

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

/// Parses `provider/model`.
pub fn m(s: &str) -> ModelRef {
    ModelRef::parse(s).expect("valid model ref")
}

/// Waits until `f` is true or `limit` passes.
pub async fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    f()
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
