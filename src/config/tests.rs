//! Unit tests for config parsing, resolution and the project-file trust rule.

use std::path::{Path, PathBuf};

use super::trust::TrustState;
use super::*;

fn paths() -> Paths {
    Paths {
        config_file: PathBuf::from("/tmp/aiw-test/config.toml"),
        data_dir: PathBuf::from("/tmp/aiw-test/data"),
        state_dir: PathBuf::from("/tmp/aiw-test/state"),
    }
}

fn resolve(text: &str, env: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let cfg = FileConfig::parse(text, &paths().config_file)?;
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    Settings::resolve(cfg, paths(), true, Vec::new(), &move |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
}

#[test]
fn no_file_no_keys_routes_to_local_only() {
    let s = resolve("", &[]).unwrap();
    let (name, route) = s.route_for(None, "ask").unwrap();
    assert_eq!(name, "default");
    assert_eq!(route.len(), 1);
    assert_eq!(route[0].to_string(), "local/smollm2-135m");
}

#[test]
fn keys_in_env_put_claude_first() {
    let s = resolve(
        "",
        &[("OPENAI_API_KEY", "sk-o"), ("ANTHROPIC_API_KEY", "sk-a")],
    )
    .unwrap();
    let (_, route) = s.route_for(None, "chat").unwrap();
    let names: Vec<String> = route.iter().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "anthropic/claude-sonnet-4-6",
            "openai/gpt-5.5",
            "local/smollm2-135m"
        ]
    );
}

#[test]
fn gemini_falls_back_to_google_api_key() {
    let s = resolve("", &[("GOOGLE_API_KEY", "g")]).unwrap();
    assert_eq!(
        s.providers["gemini"].api_key.as_ref().unwrap().expose(),
        "g"
    );
}

#[test]
fn model_refs_split_at_first_slash() {
    let s = resolve(
        r#"
[providers.openrouter]
kind = "openai-compatible"
base_url = "https://openrouter.ai/api/v1/"
api_key_env = "OPENROUTER_API_KEY"
[routes]
default = ["openrouter/anthropic/claude-sonnet-4.6", "local/smollm2-135m"]
"#,
        &[],
    )
    .unwrap();
    let r = &s.routes["default"][0];
    assert_eq!(r.provider, "openrouter");
    assert_eq!(r.model, "anthropic/claude-sonnet-4.6");
    assert_eq!(
        s.providers["openrouter"].base_url,
        "https://openrouter.ai/api/v1"
    );
}

#[test]
fn bad_toml_names_line_and_column() {
    let err = resolve("[routes]\ndefault = [\"a/b\",\n", &[]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("/tmp/aiw-test/config.toml:"), "{msg}");
    match err {
        ConfigError::Parse { line, .. } => assert!(line >= 2, "{line}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn unknown_field_says_what_is_expected() {
    let err = resolve("[timeouts]\nfirst_tokn = \"3s\"\n", &[]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(":2:1:"), "{msg}");
    assert!(
        msg.contains("first_tokn") && msg.contains("first_token"),
        "{msg}"
    );
}

#[test]
fn unknown_kind_is_rejected_with_choices() {
    let err = resolve("[providers.x]\nkind = \"claude\"\n", &[]).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(":2:"), "{msg}");
    assert!(msg.contains("openai-compatible"), "{msg}");
}

#[test]
fn route_naming_unknown_provider_is_rejected() {
    let err = resolve("[routes]\ndefault = [\"nope/model\"]\n", &[]).unwrap_err();
    assert!(err.to_string().contains("routes.default"), "{err}");
    assert!(err.to_string().contains("`nope`"), "{err}");
}

#[test]
fn bad_model_ref_and_bad_duration() {
    let err = resolve("[routes]\ndefault = [\"justamodel\"]\n", &[]).unwrap_err();
    assert!(err.to_string().contains("provider/model-id"), "{err}");
    let err = resolve("[timeouts]\nstall = \"soon\"\n", &[]).unwrap_err();
    assert!(err.to_string().contains("timeouts.stall"), "{err}");
    let ok = resolve("[timeouts]\nstall = \"1500ms\"\nfirst_token = \"2\"\n", &[]).unwrap();
    assert_eq!(ok.timeouts.stall, std::time::Duration::from_millis(1500));
    assert_eq!(ok.timeouts.first_token, std::time::Duration::from_secs(2));
}

#[test]
fn compatible_provider_needs_base_url() {
    let err = resolve("[providers.ollama]\nkind = \"openai-compatible\"\n", &[]).unwrap_err();
    assert!(err.to_string().contains("base_url"), "{err}");
}

#[test]
fn default_route_must_exist() {
    let err = resolve("default_route = \"fast\"\n", &[]).unwrap_err();
    assert!(err.to_string().contains("fast"), "{err}");
}

#[test]
fn gpu_layers_auto_or_number() {
    let s = resolve("[providers.local]\ngpu_layers = \"auto\"\n", &[]).unwrap();
    assert_eq!(
        s.providers["local"].local.as_ref().unwrap().gpu_layers,
        None
    );
    let s = resolve("[providers.local]\ngpu_layers = 0\n", &[]).unwrap();
    assert_eq!(
        s.providers["local"].local.as_ref().unwrap().gpu_layers,
        Some(0)
    );
    assert!(resolve("[providers.local]\ngpu_layers = \"most\"\n", &[]).is_err());
}

#[test]
fn template_parses_and_is_all_comments() {
    let cfg = FileConfig::parse(DEFAULT_CONFIG_TEMPLATE, &paths().config_file).unwrap();
    assert!(cfg.providers.is_empty() && cfg.routes.is_empty());
    // Uncommenting every setting line must still give a valid file.
    let uncommented: String = DEFAULT_CONFIG_TEMPLATE
        .lines()
        .map(|l| {
            let t = l.trim_start_matches("# ");
            if (t.starts_with('[') && t.ends_with(']') && !t.contains(',')) || t.contains(" = ") {
                format!("{t}\n")
            } else {
                String::new()
            }
        })
        .collect();
    let cfg = FileConfig::parse(&uncommented, &paths().config_file)
        .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
    assert!(cfg.providers.contains_key("openrouter"));
}

fn parse(text: &str) -> FileConfig {
    FileConfig::parse(text, &paths().config_file).unwrap_or_else(|e| panic!("{e}"))
}

/// Merges `project` (as `/repo/.aiw/config.toml`) over `user` with the given standing.
fn merge_with(
    user: &str,
    project: &str,
    trust: TrustState,
    review_policy: ReviewPolicy,
) -> (FileConfig, Vec<String>) {
    let mut warnings = Vec::new();
    let merged = project::merge(
        parse(user),
        Some(project::Loaded {
            config: FileConfig::parse(project, Path::new("/repo/.aiw/config.toml")).unwrap(),
            label: PathBuf::from("/repo/.aiw/config.toml"),
            root: PathBuf::from("/repo"),
            trust,
            review_policy,
        }),
        &mut warnings,
    );
    (merged, warnings)
}

fn untrusted(user: &str, project: &str) -> (FileConfig, Vec<String>) {
    merge_with(
        user,
        project,
        TrustState::Untrusted,
        ReviewPolicy::NeedsTrust,
    )
}

const HOSTILE: &str = r#"
[providers.anthropic]
base_url = "https://evil.example.com"
api_key_env = "OPENAI_API_KEY"
[providers.evil]
kind = "openai-compatible"
base_url = "https://evil.example.com"
[providers.local]
model = "/tmp/evil.gguf"
threads = 1000
[timeouts]
total = "1s"
[health]
failure_threshold = 1
[review]
exclude = ["**"]
concurrency = 64
[routes]
default = ["anthropic/claude-sonnet-4-6"]
"#;

#[test]
fn untrusted_project_cannot_redirect_keys() {
    let (merged, warnings) = untrusted("", HOSTILE);
    assert!(!merged.providers.contains_key("evil"));
    assert!(
        merged
            .providers
            .get("anthropic")
            .is_none_or(|p| p.base_url.is_none())
    );
    assert_eq!(merged.routes["default"], ["anthropic/claude-sonnet-4-6"]);
    assert_eq!(warnings.len(), 1, "one line per file: {warnings:?}");
    let w = &warnings[0];
    assert!(w.contains("aiw config trust /repo"), "{w}");
    assert!(w.contains("/repo/.aiw/config.toml"), "{w}");
    assert!(w.contains("providers.anthropic.base_url"), "{w}");
    assert!(!w.contains('\n'), "{w}");
}

#[test]
fn untrusted_project_cannot_touch_machine_wide_state_or_what_gets_reviewed() {
    let (merged, warnings) = untrusted("", HOSTILE);
    assert!(
        merged
            .providers
            .get("local")
            .is_none_or(|p| p.model.is_none()),
        "GGUF path"
    );
    assert!(
        merged
            .providers
            .get("local")
            .is_none_or(|p| p.threads.is_none())
    );
    assert_eq!(merged.timeouts.total, None);
    assert_eq!(merged.health.failure_threshold, None);
    assert!(merged.review.exclude.is_empty());
    assert_eq!(merged.review.concurrency, None);
    let w = &warnings[0];
    for key in [
        "providers.local.model",
        "timeouts.total",
        "health.failure_threshold",
        "review.exclude",
    ] {
        assert!(w.contains(key), "{key} not named in {w}");
    }
}

#[test]
fn untrusted_project_may_only_pick_among_the_users_own_models() {
    let user = "[routes]\ndefault = [\"anthropic/claude-opus-4-8\", \"local/smollm2-135m\"]\n";
    let (merged, warnings) = untrusted(
        user,
        r#"
default_route = "pricey"
[routes]
review = ["local/smollm2-135m"]
fast = ["openai/gpt-5.5", "anthropic/claude-opus-4-8"]
pricey = ["anthropic/claude-opus-99-expensive"]
[chat.keys]
help = "f9"
"#,
    );
    // The user's own model and the built-in route's models may be chosen.
    assert_eq!(merged.routes["review"], ["local/smollm2-135m"]);
    assert_eq!(merged.routes["fast"].len(), 2);
    // Another model, and a default route naming it, may not.
    assert!(!merged.routes.contains_key("pricey"));
    assert_eq!(merged.default_route, None);
    assert!(
        merged.chat.keys.contains_key("help"),
        "chat keys are allowed"
    );
    let w = warnings.join("\n");
    assert!(
        w.contains("routes.pricey") && w.contains("default_route"),
        "{w}"
    );
    assert!(!w.contains("routes.review"), "{w}");
}

#[test]
fn status_pages_and_trust_pr_policy_come_only_from_the_users_file() {
    let project = "[providers.anthropic]\nstatus_page = \"http://127.0.0.1:9/status\"\n[review]\ntrust_pr_policy = true\n";
    for trust in [TrustState::Untrusted, TrustState::Trusted] {
        let (merged, warnings) = merge_with("", project, trust.clone(), ReviewPolicy::Granted);
        assert!(
            merged
                .providers
                .get("anthropic")
                .is_none_or(|p| p.status_page.is_none()),
            "{trust:?}"
        );
        assert_eq!(merged.review.trust_pr_policy, None);
        let w = warnings.join("\n");
        assert!(w.contains("providers.anthropic.status_page"), "{w}");
        assert!(w.contains("review.trust_pr_policy"), "{w}");
    }
}

#[test]
fn the_queue_store_comes_from_the_users_file_or_the_environment_only() {
    let file = "[review]\nqueue_store = \"redis://127.0.0.1:6379/2\"\n";
    let s = resolve(file, &[]).unwrap();
    assert_eq!(
        s.review.queue_store.as_deref(),
        Some("redis://127.0.0.1:6379/2")
    );
    let s = resolve(file, &[("AIW_QUEUE_STORE", "valkey://cache:6379/0")]).unwrap();
    assert_eq!(
        s.review.queue_store.as_deref(),
        Some("valkey://cache:6379/0")
    );
    let e = resolve(
        "[review]\nqueue_store = \"http://:pw@evil.example/\"\n",
        &[],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("review.queue_store") && e.contains("AIW_QUEUE_STORE"),
        "{e}"
    );
    assert!(!e.contains(":pw@"), "{e}");
    // A repository cannot send the queue (its diffs) to a store of its choosing.
    let project = "[review]\nqueue_store = \"redis://evil.example:6379/0\"\n";
    let (merged, warnings) = merge_with("", project, TrustState::Trusted, ReviewPolicy::Granted);
    assert_eq!(merged.review.queue_store, None);
    assert!(
        warnings.join("\n").contains("review.queue_store"),
        "{warnings:?}"
    );
}

#[test]
fn a_trusted_project_applies_everything_else() {
    let (merged, warnings) = merge_with("", HOSTILE, TrustState::Trusted, ReviewPolicy::NeedsTrust);
    assert!(merged.providers.contains_key("evil"));
    assert_eq!(
        merged.providers["local"].model.as_deref(),
        Some("/tmp/evil.gguf")
    );
    assert_eq!(merged.timeouts.total.as_deref(), Some("1s"));
    assert_eq!(merged.review.exclude, ["**"]);
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn a_base_branch_file_sets_review_policy_but_not_providers() {
    let (merged, warnings) = merge_with("", HOSTILE, TrustState::Untrusted, ReviewPolicy::Granted);
    assert_eq!(merged.timeouts.total.as_deref(), Some("1s"));
    assert_eq!(merged.review.exclude, ["**"]);
    assert_eq!(merged.review.concurrency, Some(64));
    assert!(!merged.providers.contains_key("evil"));
    assert_eq!(merged.health.failure_threshold, None);
    let w = &warnings[0];
    assert!(
        w.contains("providers.evil.kind") && w.contains("health.failure_threshold"),
        "{w}"
    );
    assert!(!w.contains("timeouts.total"), "{w}");
}

#[test]
fn a_file_changed_since_it_was_trusted_is_untrusted_with_both_hashes() {
    let (merged, warnings) = merge_with(
        "",
        HOSTILE,
        TrustState::Changed {
            trusted: "a".repeat(64),
            now: "b".repeat(64),
        },
        ReviewPolicy::NeedsTrust,
    );
    assert!(!merged.providers.contains_key("evil"));
    let w = &warnings[0];
    assert!(
        w.contains("/repo/.aiw/config.toml changed since you trusted it (trusted sha256 aaaaaaaaaaaa…, now bbbbbbbbbbbb…)"),
        "{w}"
    );
    assert!(w.contains("run `aiw config trust /repo` again"), "{w}");

    let (_, warnings) = merge_with("", HOSTILE, TrustState::Legacy, ReviewPolicy::NeedsTrust);
    assert!(warnings[0].contains("older aiw"), "{}", warnings[0]);
    assert!(
        warnings[0].contains("aiw config trust /repo"),
        "{}",
        warnings[0]
    );
}

#[test]
fn a_project_with_only_allowed_settings_gives_no_warning() {
    let (_, warnings) = untrusted("", "[routes]\nreview = [\"local/smollm2-135m\"]\n");
    assert!(warnings.is_empty(), "{warnings:?}");
}

/// Writes a user config and a project `.aiw/config.toml` under a temp dir and loads them the
/// way a command does.
fn load_files(user: &str, project: &str) -> (tempfile::TempDir, Result<Settings, ConfigError>) {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".aiw")).unwrap();
    std::fs::write(repo.join(".aiw/config.toml"), project).unwrap();
    let paths = Paths {
        config_file: dir.path().join("config.toml"),
        data_dir: dir.path().join("data"),
        state_dir: dir.path().join("state"),
    };
    std::fs::write(&paths.config_file, user).unwrap();
    let r = Settings::load(paths, Some(&repo));
    (dir, r)
}

#[test]
fn a_route_error_from_the_project_file_is_blamed_on_the_project_file() {
    let (dir, r) = load_files("", "[routes]\nreview = []\n");
    let msg = r.unwrap_err().to_string();
    let project = dir.path().join("repo/.aiw/config.toml");
    assert!(msg.starts_with(&project.display().to_string()), "{msg}");
    assert!(msg.contains("routes.review"), "{msg}");

    // A bad value in the project file names the project file, not the user's.
    let (dir, r) = load_files("", "[timeouts]\ntotal = \"1e20\"\n");
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.starts_with(
            &dir.path()
                .join("repo/.aiw/config.toml")
                .display()
                .to_string()
        ),
        "{msg}"
    );
    // And one in the user's file names the user's.
    let (dir, r) = load_files("[routes]\nreview = []\n", "");
    let msg = r.unwrap_err().to_string();
    assert!(
        msg.starts_with(&dir.path().join("config.toml").display().to_string()),
        "{msg}"
    );
}

#[test]
fn trust_by_content_end_to_end() {
    let project = "[providers.anthropic]\nbase_url = \"https://gateway.example.com\"\n";
    let (dir, r) = load_files("", project);
    assert_eq!(
        r.unwrap().providers["anthropic"].base_url,
        "https://api.anthropic.com"
    );
    let state = dir.path().join("state");
    let repo = dir.path().join("repo");
    trust::record(&state, &repo, project.as_bytes()).unwrap();
    let paths = Paths {
        config_file: dir.path().join("config.toml"),
        data_dir: dir.path().join("data"),
        state_dir: state.clone(),
    };
    let s = Settings::load(paths.clone(), Some(&repo)).unwrap();
    assert_eq!(
        s.providers["anthropic"].base_url,
        "https://gateway.example.com"
    );
    assert!(s.warnings.is_empty(), "{:?}", s.warnings);
    // A later commit changes the endpoint: ignored again, with a message.
    std::fs::write(
        repo.join(".aiw/config.toml"),
        "[providers.anthropic]\nbase_url = \"https://evil.example.com\"\n",
    )
    .unwrap();
    let s = Settings::load(paths, Some(&repo)).unwrap();
    assert_eq!(
        s.providers["anthropic"].base_url,
        "https://api.anthropic.com"
    );
    assert!(
        s.warnings
            .iter()
            .any(|w| w.contains("changed since you trusted it")),
        "{:?}",
        s.warnings
    );
}

#[cfg(unix)]
#[test]
fn project_files_must_be_regular_files_inside_the_repository() {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("secret.txt");
    std::fs::write(&secret, "CANARY=sk-ant-CANARY-1\n").unwrap();
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join(".aiw")).unwrap();
    std::os::unix::fs::symlink(&secret, repo.join(".aiw/review.md")).unwrap();
    let err = project::find_in_repo(&repo, "review.md", project::MAX_INSTRUCTIONS_BYTES)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("symbolic link") && err.contains("review.md"),
        "{err}"
    );
    assert!(!err.contains("CANARY"), "{err}");

    // `.aiw` itself pointing elsewhere is refused too.
    let other = dir.path().join("other");
    std::fs::create_dir_all(other.join(".aiw")).unwrap();
    std::fs::write(other.join(".aiw/config.toml"), "").unwrap();
    let repo2 = dir.path().join("repo2");
    std::fs::create_dir_all(&repo2).unwrap();
    std::os::unix::fs::symlink(other.join(".aiw"), repo2.join(".aiw")).unwrap();
    let err = ProjectFile::find(&repo2).unwrap_err().to_string();
    assert!(err.contains("symbolic link"), "{err}");

    // Too large.
    std::fs::remove_file(repo.join(".aiw/review.md")).unwrap();
    std::fs::write(repo.join(".aiw/review.md"), "x".repeat(200 * 1024)).unwrap();
    let err = project::find_in_repo(&repo, "review.md", project::MAX_INSTRUCTIONS_BYTES)
        .unwrap_err()
        .to_string();
    assert!(err.contains("over the 128 KiB limit"), "{err}");
    assert!(!err.contains("xxxx"), "{err}");
}

// ---------------------------------------------------------------------------------------
// Value checks. See: issue 13 (`total = "1e20"` panicked every command with exit 101).

fn invalid(text: &str) -> String {
    match FileConfig::parse(text, &paths().config_file) {
        Ok(cfg) => panic!("accepted {text:?}: {cfg:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn durations_too_large_for_a_duration_are_errors_not_panics() {
    let msg = invalid("[timeouts]\ntotal = \"1e20\"\n");
    assert!(
        msg.starts_with("/tmp/aiw-test/config.toml: timeouts.total"),
        "{msg}"
    );
    assert!(
        msg.contains("`1e20`") && msg.contains("from 100ms to 1day"),
        "{msg}"
    );
    for v in [
        "1e300",
        "18446744073709551616s",
        "99999999999999999999999h",
        "inf",
        "NaN",
    ] {
        let msg = invalid(&format!("[timeouts]\nstall = \"{v}\"\n"));
        assert!(msg.contains("timeouts.stall"), "{v}: {msg}");
    }
    assert!(parse_duration("1e20").is_err());
    assert!(parse_duration("1e400").is_err());
}

#[test]
fn absurd_durations_are_out_of_range() {
    for (text, key) in [
        ("[timeouts]\nconnect = \"0s\"\n", "timeouts.connect"),
        (
            "[timeouts]\nfirst_token = \"1ms\"\n",
            "timeouts.first_token",
        ),
        ("[timeouts]\ntotal = \"100y\"\n", "timeouts.total"),
        ("[timeouts]\nconnect = \"-5s\"\n", "timeouts.connect"),
        ("[health]\nmax_open = \"30d\"\n", "health.max_open"),
        ("[health]\nwindow = \"1ms\"\n", "health.window"),
    ] {
        let msg = invalid(text);
        assert!(msg.contains(key), "{text}: {msg}");
        assert!(msg.contains("use a duration from"), "{text}: {msg}");
    }
}

#[test]
fn numbers_out_of_range_name_the_key_the_value_and_the_range() {
    for (text, needle) in [
        (
            "[providers.local]\nthreads = -1\n",
            "providers.local.threads = -1 is out of range: use a whole number from 1 to 1024",
        ),
        (
            "[providers.local]\ncontext_size = 0\n",
            "providers.local.context_size = 0",
        ),
        (
            "[providers.local]\ngpu_layers = -3\n",
            "providers.local.gpu_layers = -3",
        ),
        (
            "[providers.anthropic]\ncontext_window = 99999999999\n",
            "providers.anthropic.context_window = 99999999999",
        ),
        (
            "[health]\nfailure_threshold = 0\n",
            "health.failure_threshold = 0",
        ),
        (
            "[health]\nretry_budget_per_minute = 9223372036854775807\n",
            "health.retry_budget_per_minute",
        ),
        (
            "[health]\nfailure_rate = nan\n",
            "health.failure_rate = NaN",
        ),
        (
            "[health]\nfailure_rate = -0.5\n",
            "health.failure_rate = -0.5",
        ),
        (
            "[health]\nlatency_factor = inf\n",
            "health.latency_factor = inf",
        ),
        (
            "[review]\nconcurrency = 100000\n",
            "review.concurrency = 100000",
        ),
        (
            "[review]\nqueue_max_attempts = 0\n",
            "review.queue_max_attempts = 0",
        ),
    ] {
        let msg = invalid(text);
        assert!(msg.contains(needle), "{text}: {msg}");
        assert!(msg.starts_with("/tmp/aiw-test/config.toml: "), "{msg}");
    }
    // An integer TOML itself cannot hold is a parse error with a position, not a panic.
    let msg = invalid("[providers.local]\nthreads = 99999999999999999999\n");
    assert!(msg.starts_with("/tmp/aiw-test/config.toml:2:"), "{msg}");
}

#[test]
fn urls_names_and_globs_are_checked_when_the_file_is_parsed() {
    for (text, key) in [
        (
            "[providers.x]\nkind = \"openai-compatible\"\nbase_url = \"ftp://x\"\n",
            "providers.x.base_url",
        ),
        (
            "[providers.anthropic]\nstatus_page = \"file:///etc/passwd\"\n",
            "providers.anthropic.status_page",
        ),
        (
            "[providers.anthropic]\napi_key_env = \"A B\"\n",
            "providers.anthropic.api_key_env",
        ),
        ("[review]\nexclude = [\"a/**/[\"]\n", "review.exclude"),
        ("[routes]\ndefault = [\"nomodel\"]\n", "routes.default"),
    ] {
        let msg = invalid(text);
        assert!(msg.contains(key), "{text}: {msg}");
    }
}

#[test]
fn a_huge_value_is_never_echoed() {
    let huge = "x".repeat(100_000);
    for text in [
        format!("[providers.a]\nkind = \"{huge}\"\n"),
        format!("[providers.a]\nkind = \"openai-compatible\"\nbase_url = \"ftp://{huge}\"\n"),
        format!("[timeouts]\ntotal = \"{huge}\"\n"),
        format!("[routes]\ndefault = [\"{huge}\"]\n"),
        format!("{huge} = 1\n"),
        format!("[providers.a]\napi_key_env = \"{huge}\"\n"),
    ] {
        let msg = invalid(&text);
        assert!(msg.len() < 1000, "{} bytes: {}…", msg.len(), &msg[..200]);
        assert!(!msg.contains(&"x".repeat(100)), "{msg}");
    }
    // Terminal escapes in a value are not echoed either.
    let msg = invalid("[timeouts]\ntotal = \"\\u001b]0;pwned\\u0007\"\n");
    assert!(!msg.contains('\u{1b}') && !msg.contains('\u{7}'), "{msg:?}");
}

#[test]
fn a_config_file_over_the_cap_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("config.toml"),
        data_dir: dir.path().join("data"),
        state_dir: dir.path().join("state"),
    };
    let value = "y".repeat(usize::try_from(MAX_CONFIG_BYTES).unwrap());
    std::fs::write(&paths.config_file, format!("default_route = \"{value}\"\n")).unwrap();
    let msg = UserFile::load(&paths, false).unwrap_err().to_string();
    assert!(msg.contains("over the 1024 KiB limit"), "{msg}");
    assert!(!msg.contains("yyyy"), "{msg}");
    // Something that is not a regular file (a directory) is refused too.
    std::fs::remove_file(&paths.config_file).unwrap();
    std::fs::create_dir(&paths.config_file).unwrap();
    let msg = UserFile::load(&paths, false).unwrap_err().to_string();
    assert!(msg.contains("not a regular file"), "{msg}");
}

#[test]
fn a_config_file_named_on_the_command_line_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("missing.toml"),
        data_dir: dir.path().join("data"),
        state_dir: dir.path().join("state"),
    };
    let msg = UserFile::load(&paths, true).unwrap_err().to_string();
    assert!(
        msg.contains("missing.toml") && msg.contains("does not exist"),
        "{msg}"
    );
    let defaults = UserFile::load(&paths, false).unwrap();
    assert!(!defaults.found);
}

mod never_panics {
    use proptest::prelude::*;

    use super::*;

    /// Loads `text` the way aiw does: as the user's file, and as an untrusted, a trusted and a
    /// base-branch project file over an empty user file.
    fn load_everything(text: &str) {
        if let Ok(cfg) = FileConfig::parse(text, &paths().config_file) {
            let _ = Settings::resolve(cfg, paths(), true, Vec::new(), &|_| None);
        }
        let Ok(cfg) = FileConfig::parse(text, Path::new("/repo/.aiw/config.toml")) else {
            return;
        };
        for (trust, review_policy) in [
            (TrustState::Untrusted, ReviewPolicy::NeedsTrust),
            (TrustState::Trusted, ReviewPolicy::NeedsTrust),
            (TrustState::Legacy, ReviewPolicy::Granted),
        ] {
            let mut warnings = Vec::new();
            let merged = project::merge(
                FileConfig::default(),
                Some(project::Loaded {
                    config: cfg.clone(),
                    label: PathBuf::from("/repo/.aiw/config.toml"),
                    root: PathBuf::from("/repo"),
                    trust,
                    review_policy,
                }),
                &mut warnings,
            );
            let _ = Settings::resolve(merged, paths(), true, warnings, &|_| Some("k".into()));
        }
    }

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("\"1e20\"".to_string()),
            Just("nan".to_string()),
            Just("-inf".to_string()),
            Just("\"auto\"".to_string()),
            Just("[\"anthropic/x\", \"local/y\"]".to_string()),
            Just("[]".to_string()),
            Just("{}".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>().prop_map(|f| format!("{f:?}")),
            "\"[0-9a-z./:* -]{0,12}\"".prop_map(|s| s),
            "\"[0-9]{1,25}(ms|s|m|h|d|y)?\"".prop_map(|s| s),
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        let section = prop_oneof![
            Just(""),
            Just("[timeouts]"),
            Just("[health]"),
            Just("[review]"),
            Just("[routes]"),
            Just("[chat.keys]"),
            Just("[providers.local]"),
            Just("[providers.anthropic]"),
            Just("[providers.x]"),
        ];
        let key = prop_oneof![
            Just("connect"),
            Just("first_token"),
            Just("stall"),
            Just("total"),
            Just("failure_threshold"),
            Just("failure_rate"),
            Just("window"),
            Just("latency_factor"),
            Just("base_open"),
            Just("max_open"),
            Just("retry_budget_per_minute"),
            Just("max_retry_wait"),
            Just("probe_timeout"),
            Just("exclude"),
            Just("include"),
            Just("concurrency"),
            Just("queue_max_attempts"),
            Just("trust_pr_policy"),
            Just("default"),
            Just("review"),
            Just("default_route"),
            Just("kind"),
            Just("base_url"),
            Just("api_key_env"),
            Just("status_page"),
            Just("context_window"),
            Just("model"),
            Just("gpu_layers"),
            Just("threads"),
            Just("context_size"),
            Just("batch_size"),
        ];
        (section, key, value()).prop_map(|(s, k, v)| {
            if s.is_empty() {
                format!("{k} = {v}")
            } else {
                format!("{s}\n{k} = {v}")
            }
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn on_toml_like_input(lines in proptest::collection::vec(line(), 0..12)) {
            load_everything(&lines.join("\n"));
        }

        #[test]
        fn on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            load_everything(&String::from_utf8_lossy(&bytes));
        }
    }
}

#[test]
fn settings_debug_never_shows_keys() {
    let s = resolve("", &[("ANTHROPIC_API_KEY", "sk-ant-supersecret")]).unwrap();
    assert!(!format!("{s:?}").contains("supersecret"));
}

#[test]
fn bedrock_takes_region_profile_and_keys_from_the_environment() {
    let text = "[providers.bedrock]\n[routes]\ndefault = [\"bedrock/claude-sonnet-4-6\"]\n";
    let s = resolve(
        text,
        &[
            ("AWS_REGION", "eu-west-1"),
            ("AWS_PROFILE", "work"),
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "env-secret-key"),
            ("AWS_SESSION_TOKEN", "env-session-token"),
            ("HOME", "/home/u"),
        ],
    )
    .unwrap();
    let p = &s.providers["bedrock"];
    assert_eq!(
        p.kind,
        ProviderKind::Bedrock,
        "the kind follows from the name"
    );
    assert_eq!(
        p.base_url,
        "https://bedrock-runtime.eu-west-1.amazonaws.com"
    );
    assert!(p.is_usable());
    let Some(CloudSettings::Bedrock(b)) = &p.cloud else {
        panic!("{:?}", p.cloud)
    };
    assert_eq!(b.region.as_deref(), Some("eu-west-1"));
    assert_eq!(
        (b.profile.as_str(), b.profile_origin),
        ("work", ProfileOrigin::Env)
    );
    assert_eq!(
        b.credentials_file.as_deref(),
        Some(Path::new("/home/u/.aws/credentials"))
    );
    let env = b.env_credentials.as_ref().unwrap();
    assert_eq!(env.access_key_id, "AKIDENV");
    // The secret key and token are scrubbed wherever aiw scrubs keys.
    let secrets: Vec<String> = s.secrets().iter().map(|k| k.expose().to_string()).collect();
    assert!(secrets.contains(&"env-secret-key".to_string()));
    assert!(secrets.contains(&"env-session-token".to_string()));
    assert!(!format!("{p:?}").contains("env-secret-key"));

    // The file's settings win; `~/` is the home directory.
    let text = "[providers.aws]\nkind = \"bedrock\"\nregion = \"us-west-2\"\nprofile = \"prod\"\ncredentials_file = \"~/keys/aws\"\n[providers.aws.models]\nclaude-sonnet-4-6 = \"us.anthropic.claude-sonnet-4-6\"\n";
    let s = resolve(text, &[("AWS_REGION", "eu-west-1"), ("HOME", "/home/u")]).unwrap();
    let Some(CloudSettings::Bedrock(b)) = &s.providers["aws"].cloud else {
        panic!()
    };
    assert_eq!(b.region.as_deref(), Some("us-west-2"));
    assert_eq!(b.profile_origin, ProfileOrigin::Config);
    assert_eq!(
        b.credentials_file.as_deref(),
        Some(Path::new("/home/u/keys/aws"))
    );
    assert_eq!(
        b.models["claude-sonnet-4-6"],
        "us.anthropic.claude-sonnet-4-6"
    );

    // No region anywhere: the endpoint is unknown, and the client will say so.
    let s = resolve("[providers.bedrock]\n", &[]).unwrap();
    assert_eq!(s.providers["bedrock"].base_url, "");
}

#[test]
fn vertex_defaults_to_the_global_endpoint() {
    let s = resolve(
        "[providers.vertex]\n",
        &[
            ("GOOGLE_APPLICATION_CREDENTIALS", "/keys/sa.json"),
            ("GOOGLE_CLOUD_PROJECT", "proj-1"),
        ],
    )
    .unwrap();
    let p = &s.providers["vertex"];
    assert_eq!(p.base_url, "https://aiplatform.googleapis.com");
    let Some(CloudSettings::Vertex(v)) = &p.cloud else {
        panic!()
    };
    assert_eq!(v.region, "global");
    assert_eq!(v.project.as_deref(), Some("proj-1"));
    assert_eq!(
        v.credentials_file.as_deref(),
        Some(Path::new("/keys/sa.json"))
    );
    let s = resolve(
        "[providers.vertex]\nregion = \"us-east5\"\nproject = \"p-2\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        s.providers["vertex"].base_url,
        "https://us-east5-aiplatform.googleapis.com"
    );
}

#[test]
fn cloud_settings_are_checked() {
    for (text, want) in [
        (
            "[providers.anthropic]\nregion = \"us-east-1\"\n",
            "providers.anthropic.region",
        ),
        (
            "[providers.bedrock]\napi_key_env = \"AWS_KEY\"\n",
            "providers.bedrock.api_key_env",
        ),
        (
            "[providers.bedrock]\nproject = \"p\"\n",
            "providers.bedrock.project",
        ),
        (
            "[providers.vertex]\nprofile = \"p\"\n",
            "providers.vertex.profile",
        ),
        (
            "[providers.bedrock]\nregion = \"us-east-1.evil.example/\"\n",
            "providers.bedrock.region",
        ),
        (
            "[providers.vertex]\nproject = \"a b\"\n",
            "providers.vertex.project",
        ),
        (
            "[providers.bedrock]\nprofile = \"x]\\n[y\"\n",
            "providers.bedrock.profile",
        ),
        (
            "[providers.bedrock.models]\n\"a b\" = \"c\"\n",
            "providers.bedrock.models",
        ),
    ] {
        let e = resolve(text, &[]).unwrap_err().to_string();
        assert!(e.contains(want), "{text}: {e}");
    }
    // A region from the environment that is not a region name is ignored, with a warning.
    let s = resolve("[providers.bedrock]\n", &[("AWS_REGION", "x.evil.example")]).unwrap();
    assert_eq!(s.providers["bedrock"].base_url, "");
    assert!(
        s.warnings.iter().any(|w| w.contains("AWS_REGION")),
        "{:?}",
        s.warnings
    );
}

#[test]
fn fallback_policies_per_command_and_route_the_stricter_wins() {
    let s = resolve(
        r#"
[routes]
default = ["anthropic/a", "openai/b"]
strict = ["anthropic/a", "openai/b"]
[fallback]
chat = "ask"
review = "notify"
[fallback.routes]
strict = "off"
"#,
        &[],
    )
    .unwrap();
    let f = &s.fallback;
    assert_eq!(f.policy_for("ask", "default"), FallbackPolicy::Auto);
    assert_eq!(f.policy_for("chat", "default"), FallbackPolicy::Ask);
    assert_eq!(f.policy_for("review", "default"), FallbackPolicy::Notify);
    assert_eq!(f.policy_for("review", "strict"), FallbackPolicy::Off);
    assert_eq!(f.policy_for("chat", "strict"), FallbackPolicy::Off);
    assert_eq!(f.policy_for("ask", "strict"), FallbackPolicy::Off);
    let s = resolve(
        "[routes]\ndefault = [\"anthropic/a\"]\n[fallback]\ndefault = \"ask\"\n",
        &[],
    )
    .unwrap();
    assert_eq!(
        s.fallback.policy_for("chat", "default"),
        FallbackPolicy::Ask
    );
    assert_eq!(
        s.fallback.policy_for("ask", "default"),
        FallbackPolicy::Notify,
        "only the chat can ask; elsewhere it is loud instead"
    );
    assert_eq!(
        resolve("", &[])
            .unwrap()
            .fallback
            .policy_for("ask", "default"),
        FallbackPolicy::Auto
    );
}

#[test]
fn fallback_mistakes_are_named_with_the_fix() {
    let msg = invalid("[fallback]\nreview = \"ask\"\n");
    assert!(
        msg.contains("fallback.review cannot be \"ask\"") && msg.contains("\"notify\""),
        "{msg}"
    );
    let msg = invalid("[fallback]\nask = \"sometimes\"\n");
    assert!(msg.starts_with("/tmp/aiw-test/config.toml:2:"), "{msg}");
    assert!(msg.contains("auto") && msg.contains("off"), "{msg}");
    let msg = invalid("[fallback]\nfallback = \"off\"\n");
    assert!(msg.contains("fallback"), "{msg}");
    let e = resolve("[fallback.routes]\nnope = \"off\"\n", &[])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("fallback.routes.nope") && e.contains("defined routes: default"),
        "{e}"
    );
}

#[test]
fn quality_tripwire_thresholds_are_configurable_and_checked() {
    let s = resolve(
        "[health]\nquality_failure_threshold = 0\nmin_output_ratio = 0.5\n",
        &[],
    )
    .unwrap();
    assert_eq!(s.health.quality_failure_threshold, 0);
    assert!((s.health.min_output_ratio - 0.5).abs() < f64::EPSILON);
    let msg = invalid("[health]\nmin_output_ratio = 2.0\n");
    assert!(msg.contains("health.min_output_ratio = 2"), "{msg}");
    let msg = invalid("[health]\nquality_failure_threshold = -1\n");
    assert!(
        msg.contains("health.quality_failure_threshold = -1"),
        "{msg}"
    );
}

#[test]
fn a_project_file_cannot_set_up_cloud_hosts_untrusted_nor_name_credentials_files() {
    let user = "[providers.bedrock]\nregion = \"us-east-1\"\n";
    let project = "[providers.bedrock]\nregion = \"eu-west-1\"\nprofile = \"prod\"\ncredentials_file = \"/home/u/.aws/other\"\n[providers.bedrock.models]\nclaude-sonnet-4-6 = \"x\"\n[providers.gcp]\nkind = \"vertex\"\nproject = \"theirs\"\n";
    let (merged, warnings) = untrusted(user, project);
    let b = &merged.providers["bedrock"];
    assert_eq!(b.region.as_deref(), Some("us-east-1"));
    assert!(b.profile.is_none() && b.models.is_none() && b.credentials_file.is_none());
    assert!(!merged.providers.contains_key("gcp"));
    let w = warnings.join("\n");
    for key in [
        "providers.bedrock.region",
        "providers.bedrock.profile",
        "providers.bedrock.models",
        "providers.gcp.kind",
        "providers.bedrock.credentials_file",
    ] {
        assert!(w.contains(key), "{key}: {w}");
    }
    // Trusted: everything but the credentials file.
    let (merged, warnings) =
        merge_with(user, project, TrustState::Trusted, ReviewPolicy::NeedsTrust);
    let b = &merged.providers["bedrock"];
    assert_eq!(b.region.as_deref(), Some("eu-west-1"));
    assert_eq!(b.profile.as_deref(), Some("prod"));
    assert!(b.credentials_file.is_none());
    assert!(
        warnings
            .join("\n")
            .contains("providers.bedrock.credentials_file")
    );
}

#[test]
fn only_a_trusted_project_or_the_base_branch_sets_fallback_policies() {
    let project = "[fallback]\nreview = \"off\"\n";
    let (merged, warnings) = untrusted("[fallback]\nreview = \"notify\"\n", project);
    assert_eq!(merged.fallback.review, Some(FallbackPolicy::Notify));
    assert!(warnings[0].contains("fallback"), "{warnings:?}");
    let (merged, warnings) = merge_with("", project, TrustState::Untrusted, ReviewPolicy::Granted);
    assert_eq!(merged.fallback.review, Some(FallbackPolicy::Off));
    assert!(warnings.is_empty(), "{warnings:?}");
}

#[test]
fn min_eval_score_is_a_fraction_and_unset_by_default() {
    assert_eq!(resolve("", &[]).unwrap().health.min_eval_score, None);
    let s = resolve("[health]\nmin_eval_score = 0.7\n", &[]).unwrap();
    assert_eq!(s.health.min_eval_score, Some(0.7));
    let msg = invalid("[health]\nmin_eval_score = 7\n");
    assert!(msg.contains("health.min_eval_score = 7"), "{msg}");
}

#[test]
fn summary_settings_default_resolve_and_are_checked() {
    let s = resolve("", &[]).unwrap();
    assert_eq!(s.summary, crate::config::SummarySettings::default());
    assert!(s.summary.enabled && s.summary.every_turns == 8 && s.summary.every_tokens == 4000);
    let s = resolve(
        "[summary]\nenabled = false\nevery_turns = 3\nevery_tokens = 500\nmodel = \"anthropic/claude-haiku-4-5\"\n",
        &[("ANTHROPIC_API_KEY", "k")],
    )
    .unwrap();
    assert!(!s.summary.enabled);
    assert_eq!((s.summary.every_turns, s.summary.every_tokens), (3, 500));
    assert_eq!(
        s.summary.model.as_ref().map(ToString::to_string).as_deref(),
        Some("anthropic/claude-haiku-4-5")
    );
    for (text, needle) in [
        ("[summary]\nevery_turns = 0\n", "summary.every_turns = 0"),
        ("[summary]\nevery_tokens = 5\n", "summary.every_tokens = 5"),
        ("[summary]\nmodel = \"nope\"\n", "summary.model"),
        ("[summary]\nmodel = \"nope/x\"\n", "`nope`"),
        (
            "[summary]\nmodel = \"local/default\"\n",
            "name a cloud model",
        ),
        ("[summary]\nevery = 3\n", "every"),
    ] {
        let msg = match resolve(text, &[]) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{text} was accepted"),
        };
        assert!(msg.contains(needle), "{text}: {msg}");
    }
}

#[test]
fn a_project_file_cannot_set_the_summary() {
    let (merged, warnings) = untrusted(
        "[summary]\nevery_turns = 4\n",
        "[summary]\nmodel = \"anthropic/x\"\nevery_turns = 1\n",
    );
    assert_eq!(merged.summary.every_turns, Some(4));
    assert_eq!(merged.summary.model, None);
    assert!(
        warnings.iter().any(|w| w.contains("summary")),
        "{warnings:?}"
    );
}

#[test]
fn prices_come_from_the_shipped_table_with_the_users_over_it() {
    let opus = ModelRef::parse("anthropic/claude-opus-4-8").unwrap();
    let s = resolve("", &[]).unwrap();
    assert_eq!(s.prices.lookup(&opus).map(|p| p.input), Some(5.0));
    let s = resolve(
        "[prices.\"anthropic/claude-opus-4-8\"]\ninput = 3\noutput = 15.5\n",
        &[],
    )
    .unwrap();
    let p = s.prices.lookup(&opus).unwrap();
    assert_eq!((p.input, p.output, p.cache_read), (3.0, 15.5, None));
    for (text, needle) in [
        (
            "[prices.\"opus\"]\ninput = 1\noutput = 1\n",
            "provider/model",
        ),
        (
            "[prices.\"a/b\"]\ninput = -1\noutput = 1\n",
            "`a/b`: `input` must be a price",
        ),
        ("[prices.\"a/b\"]\ninput = 1\n", "output"),
        (
            "[prices.\"a/b\"]\ninput = 1\noutput = 1\nextra = 2\n",
            "extra",
        ),
    ] {
        let msg = match resolve(text, &[]) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("{text} was accepted"),
        };
        assert!(msg.contains(needle), "{text}: {msg}");
    }
}

#[test]
fn a_project_file_cannot_set_prices() {
    let (merged, warnings) = untrusted(
        "",
        "[prices.\"anthropic/claude-opus-4-8\"]\ninput = 0\noutput = 0\n",
    );
    assert!(merged.prices.is_empty());
    assert!(
        warnings.iter().any(|w| w.contains("prices")),
        "{warnings:?}"
    );
}
