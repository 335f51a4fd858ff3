//! Helpers shared by the integration tests: a [`Sandbox`] (temporary config file, data, state
//! and home directories) whose [`Sandbox::aiw`] command runs the real binary hermetically
//! (`NO_COLOR=1`, every provider key variable and CI variable removed), and config files that
//! point the cloud providers at a provider emulator on 127.0.0.1.

#![allow(
    dead_code,
    reason = "each test module uses a different subset of the helpers"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Environment variables that could leak a real key or change behaviour; never inherited.
pub const SCRUBBED_VARS: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_API_KEY",
    "OPENROUTER_API_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_SHARED_CREDENTIALS_FILE",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_CLOUD_LOCATION",
    "AIW_CONFIG",
    "AIW_DATA_DIR",
    "AIW_STATE_DIR",
    "RUST_LOG",
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_OUTPUT",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_BASE_REF",
    "GITHUB_TOKEN",
    "GITHUB_REPOSITORY",
    "GITHUB_REF",
    "GITHUB_EVENT_PATH",
    "GITHUB_API_URL",
    "GITLAB_CI",
    "GITLAB_TOKEN",
    "CI_JOB_TOKEN",
    "CI_API_V4_URL",
    "CI_PROJECT_ID",
    "CI_PROJECT_PATH",
    "CI_MERGE_REQUEST_IID",
    "CI_MERGE_REQUEST_DIFF_BASE_SHA",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "XDG_CACHE_HOME",
    "AIW_DRILL_DIR",
];

/// The variable that emulator configs name as every provider's key source, and its value.
pub const EMULATOR_KEY_VAR: &str = "AIW_TEST_EMULATOR_KEY";
/// A fake key; tests may grep outputs for it to prove keys are never printed.
pub const EMULATOR_KEY: &str = "sk-test-emulator-SECRET-0123456789";

/// Temporary directories for one test; removed on drop.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A fresh sandbox with `home/`, `data/` and `state/` created and no config file yet.
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("aiw-it-")
            .tempdir()
            .expect("a temp dir can be created");
        for sub in ["home", "data", "state", "config"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("temp dir is writable");
        }
        Self { dir }
    }

    /// The sandbox root.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `AIW_CONFIG` (does not exist until written).
    pub fn config_file(&self) -> PathBuf {
        self.root().join("config").join("config.toml")
    }

    /// `AIW_DATA_DIR`.
    pub fn data_dir(&self) -> PathBuf {
        self.root().join("data")
    }

    /// `AIW_STATE_DIR`.
    pub fn state_dir(&self) -> PathBuf {
        self.root().join("state")
    }

    /// `HOME`, also the working directory of [`Sandbox::aiw`].
    pub fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    /// The real `aiw` binary with the sandbox's paths, `NO_COLOR=1`, no provider keys, no CI
    /// variables, stdin from /dev/null, run in the sandbox home.
    pub fn aiw(&self) -> Command {
        self.command(env!("CARGO_BIN_EXE_aiw"))
    }

    /// Any program (e.g. an installed `aiw`) with the same environment as [`Sandbox::aiw`].
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        for var in SCRUBBED_VARS {
            cmd.env_remove(var);
        }
        cmd.env("AIW_CONFIG", self.config_file())
            .env("AIW_DATA_DIR", self.data_dir())
            .env("AIW_STATE_DIR", self.state_dir())
            .env("HOME", self.home())
            .env("NO_COLOR", "1")
            .env(EMULATOR_KEY_VAR, EMULATOR_KEY)
            .current_dir(self.home())
            .stdin(Stdio::null());
        cmd
    }

    /// Writes the config file.
    pub fn write_config(&self, toml: &str) {
        std::fs::write(self.config_file(), toml).expect("config dir is writable");
    }

    /// Writes a config whose anthropic, openai and gemini providers talk to the emulator at
    /// `base_url` (e.g. `http://127.0.0.1:PORT`) with the key from [`EMULATOR_KEY_VAR`], and
    /// whose default route is `route` (`provider/model` names), followed by `extra` TOML.
    pub fn write_emulator_config(&self, base_url: &str, route: &[&str], extra: &str) {
        self.write_config(&emulator_config(base_url, route, extra));
    }
}

/// The text [`Sandbox::write_emulator_config`] writes.
pub fn emulator_config(base_url: &str, route: &[&str], extra: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let route: Vec<String> = route.iter().map(|m| format!("{m:?}")).collect();
    format!(
        r#"default_route = "default"

[providers.anthropic]
base_url = "{base}"
api_key_env = "{EMULATOR_KEY_VAR}"

[providers.openai]
base_url = "{base}/v1"
api_key_env = "{EMULATOR_KEY_VAR}"

[providers.gemini]
base_url = "{base}"
api_key_env = "{EMULATOR_KEY_VAR}"

[routes]
default = [{route}]

{extra}
"#,
        route = route.join(", ")
    )
}

/// Runs a command to completion, capturing stdout and stderr.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("the aiw binary can be started")
}

/// stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The exit code (`None` when killed by a signal).
pub fn code(out: &Output) -> Option<i32> {
    out.status.code()
}

/// stdout and stderr, labelled, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    )
}

/// The repository root (where Cargo.toml, install.sh and completions/ live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `git` in `repo` with a fixed identity (the test HOME has no git config).
pub fn git(repo: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=aiw test",
            "-c",
            "user.email=test@aiw.invalid",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(repo)
        .env_remove("GIT_DIR")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
