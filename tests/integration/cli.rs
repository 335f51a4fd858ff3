//! The command line as a user meets it: `--help` and the man page document exit codes and the
//! environment, `--version`, bad arguments exit 2, the checked-in `completions/` match what
//! the binary generates, `aiw config init|path|check` (including line:column errors and never
//! printing a key), and usage errors of `aiw ask`.

use crate::util::{Sandbox, code, describe, repo_root, run, stderr, stdout};

/// The shells `aiw completions` supports, with the file each script is kept in.
const COMPLETION_FILES: &[(&str, &str)] = &[
    ("bash", "aiw.bash"),
    ("zsh", "_aiw"),
    ("fish", "aiw.fish"),
    ("powershell", "_aiw.ps1"),
    ("elvish", "aiw.elv"),
];

#[test]
fn help_documents_exit_status_and_environment() {
    let sb = Sandbox::new();
    let out = run(sb.aiw().arg("--help"));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let text = stdout(&out);
    for needle in [
        "EXIT STATUS",
        "75",
        "ENVIRONMENT",
        "AIW_CONFIG",
        "ask",
        "chat",
        "review",
        "status",
    ] {
        assert!(text.contains(needle), "--help lacks {needle:?}:\n{text}");
    }
}

#[test]
fn subcommand_help_documents_exit_status() {
    let sb = Sandbox::new();
    for sub in ["ask", "review"] {
        let out = run(sb.aiw().args([sub, "--help"]));
        assert_eq!(code(&out), Some(0), "{}", describe(&out));
        assert!(
            stdout(&out).contains("EXIT STATUS"),
            "aiw {sub} --help lacks EXIT STATUS"
        );
    }
}

#[test]
fn man_page_has_exit_status_and_environment_sections() {
    let sb = Sandbox::new();
    let out = run(sb.aiw().arg("man"));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let page = stdout(&out);
    assert!(
        page.starts_with(".ie") || page.contains(".TH"),
        "not roff:\n{page}"
    );
    assert!(
        page.contains(".SH \"EXIT STATUS\""),
        "no EXIT STATUS section"
    );
    assert!(page.contains(".SH ENVIRONMENT"), "no ENVIRONMENT section");
    assert!(
        page.contains("AIW_DATA_DIR"),
        "ENVIRONMENT lacks AIW_DATA_DIR"
    );
    // Every exit code of the table is in the page.
    for c in ["0", "1", "2", "3", "4", "75", "130"] {
        assert!(
            page.contains(&format!("\\fB{c}\\fR")),
            "exit code {c} missing from the man page"
        );
    }
}

#[test]
fn version_prints_name_and_crate_version() {
    let sb = Sandbox::new();
    let out = run(sb.aiw().arg("--version"));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert_eq!(
        stdout(&out).trim(),
        format!("aiw {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    let sb = Sandbox::new();
    let cases: &[&[&str]] = &[
        &["--no-such-flag"],
        &["no-such-command"],
        &["ask", "--max-tokens", "many", "hi"],
        &["review", "--fail-on", "sometimes"],
        &["completions", "tcsh"],
        &[],
    ];
    for args in cases {
        let out = run(sb.aiw().args(*args));
        assert_eq!(code(&out), Some(2), "aiw {args:?}: {}", describe(&out));
        assert!(
            !stderr(&out).trim().is_empty(),
            "aiw {args:?} said nothing on stderr"
        );
        assert!(out.stdout.is_empty(), "aiw {args:?} wrote to stdout");
    }
}

/// `completions/` must match the CLI; a new flag without regenerating them fails here.
#[test]
fn checked_in_completions_match_the_cli() {
    let sb = Sandbox::new();
    let dir = repo_root().join("completions");
    let mut drifted = Vec::new();
    for (shell, file) in COMPLETION_FILES {
        let out = run(sb.aiw().args(["completions", shell]));
        assert_eq!(code(&out), Some(0), "{}", describe(&out));
        assert!(
            stdout(&out).contains("review"),
            "{shell} script does not know the review subcommand"
        );
        let path = dir.join(file);
        let checked_in = std::fs::read(&path).unwrap_or_default();
        if checked_in != out.stdout {
            drifted.push(path.display().to_string());
        }
    }
    assert!(
        drifted.is_empty(),
        "shell completions are out of date with the CLI: {}\n\
         regenerate them with `scripts/gen-completions.sh` and commit the result",
        drifted.join(", ")
    );
}

#[test]
fn bash_completion_script_is_valid_bash() {
    let out = std::process::Command::new("bash")
        .arg("-n")
        .arg(repo_root().join("completions").join("aiw.bash"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "bash -n completions/aiw.bash: {}",
        describe(&out)
    );
}

#[test]
fn config_init_writes_the_template_and_refuses_to_overwrite() {
    let sb = Sandbox::new();
    let path = sb.config_file();
    std::fs::remove_dir_all(path.parent().expect("config file has a parent")).expect("rm");

    let out = run(sb.aiw().args(["config", "init"]));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert!(stdout(&out).contains(&path.display().to_string()));
    let template = std::fs::read_to_string(&path).expect("config init wrote the file");
    let example = std::fs::read_to_string(repo_root().join("assets/config.example.toml"))
        .expect("assets/config.example.toml exists");
    assert_eq!(
        template, example,
        "config init writes assets/config.example.toml"
    );

    // The template is valid as written.
    let out = run(sb.aiw().args(["config", "check"]));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));

    std::fs::write(&path, "# mine\n").expect("write");
    let out = run(sb.aiw().args(["config", "init"]));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("--force"), "{}", describe(&out));
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "# mine\n",
        "config init overwrote the file without --force"
    );

    let out = run(sb.aiw().args(["config", "init", "--force"]));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert_eq!(std::fs::read_to_string(&path).expect("read"), example);
}

#[test]
fn config_path_honours_aiw_config_and_the_flag() {
    let sb = Sandbox::new();
    let out = run(sb.aiw().args(["config", "path"]));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out).trim(), sb.config_file().display().to_string());

    let other = sb.root().join("elsewhere.toml");
    let out = run(sb
        .aiw()
        .arg("--config")
        .arg(&other)
        .args(["config", "path"]));
    assert_eq!(stdout(&out).trim(), other.display().to_string());
}

#[test]
fn config_check_accepts_a_valid_file() {
    let sb = Sandbox::new();
    sb.write_emulator_config(
        "http://127.0.0.1:9",
        &[
            "anthropic/claude-test",
            "openai/gpt-test",
            "local/smollm2-135m",
        ],
        "[timeouts]\nfirst_token = \"3s\"\n",
    );
    let out = run(sb.aiw().args(["config", "check"]));
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let text = stdout(&out);
    assert!(text.contains("(valid)"), "{text}");
    assert!(text.contains("anthropic/claude-test"), "{text}");
    assert!(text.contains("key present"), "{text}");
}

#[test]
fn config_check_reports_file_line_and_column_of_a_broken_file() {
    let sb = Sandbox::new();
    sb.write_config("[timeouts]\nconnect = \"5s\"\nstall = = 3\n");
    let out = run(sb.aiw().args(["config", "check"]));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    let err = stderr(&out);
    let file = sb.config_file().display().to_string();
    assert!(err.contains(&format!("{file}:3:")), "no file:line in {err}");

    // A well-formed file with a wrong key names it.
    sb.write_config("[timeouts]\nconect = \"5s\"\n");
    let out = run(sb.aiw().args(["config", "check"]));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    let err = stderr(&out);
    assert!(err.contains(&format!("{file}:2:")), "no file:line in {err}");
    assert!(err.contains("conect"), "unknown key not named: {err}");
}

/// See: issue 2 (the January 2026 key-exfiltration advisory): no key in any output.
#[test]
fn keys_are_never_printed() {
    const SECRET: &str = "SECRETVALUE";
    let sb = Sandbox::new();
    sb.write_emulator_config("http://127.0.0.1:9", &["anthropic/claude-test"], "");
    let runs: &[&[&str]] = &[
        &["config", "check"],
        &["config", "path"],
        &["-v", "config", "check"],
        &["ask", "-m", "nosuch/x", "hi"],
        &["--help"],
    ];
    for args in runs {
        let out = run(sb
            .aiw()
            .env("ANTHROPIC_API_KEY", format!("sk-ant-{SECRET}"))
            .env("OPENAI_API_KEY", format!("sk-{SECRET}"))
            .env("GEMINI_API_KEY", format!("AIza{SECRET}"))
            .args(*args));
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(!all.contains(SECRET), "aiw {args:?} printed a key:\n{all}");
        assert!(
            !all.contains(crate::util::EMULATOR_KEY),
            "aiw {args:?} printed the emulator key:\n{all}"
        );
    }
    // And `config check` does say the key is there.
    let out = run(sb
        .aiw()
        .env("ANTHROPIC_API_KEY", format!("sk-ant-{SECRET}"))
        .args(["config", "check"]));
    assert!(stdout(&out).contains("key present"), "{}", describe(&out));
}

#[test]
fn ask_without_a_prompt_exits_2() {
    let sb = Sandbox::new();
    let out = run(sb.aiw().arg("ask"));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("no prompt"), "{}", describe(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn ask_with_an_unknown_provider_exits_2() {
    let sb = Sandbox::new();
    let out = run(sb.aiw().args(["ask", "-m", "nosuch/x", "hello"]));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("nosuch"), "{}", describe(&out));
    assert!(out.stdout.is_empty());
}

#[test]
fn ask_with_an_unknown_route_exits_2() {
    let sb = Sandbox::new();
    let out = run(sb.aiw().args(["ask", "-r", "nosuchroute", "hello"]));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("nosuchroute"), "{}", describe(&out));
}

#[test]
fn a_broken_config_file_is_a_usage_error_for_every_command() {
    let sb = Sandbox::new();
    sb.write_config("default_route = [\n");
    let out = run(sb.aiw().args(["ask", "hello"]));
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&sb.config_file().display().to_string()),
        "error does not name the file: {}",
        describe(&out)
    );
}
