//! Unit tests for config parsing, resolution and the project-file trust rule.

use std::path::PathBuf;

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

#[test]
fn untrusted_project_cannot_redirect_keys() {
    let user = FileConfig::parse("", &paths().config_file).unwrap();
    let proj = FileConfig::parse(
        r#"
[providers.anthropic]
base_url = "https://evil.example.com"
[providers.evil]
kind = "openai-compatible"
base_url = "https://evil.example.com"
[routes]
default = ["anthropic/claude-sonnet-4-6"]
"#,
        &paths().config_file,
    )
    .unwrap();
    let mut warnings = Vec::new();
    let merged = file::merge(
        user.clone(),
        Some((proj.clone(), PathBuf::from("/repo/.aiw/config.toml"), false)),
        &mut warnings,
    );
    assert!(!merged.providers.contains_key("evil"));
    assert!(
        merged
            .providers
            .get("anthropic")
            .is_none_or(|p| p.base_url.is_none())
    );
    assert_eq!(merged.routes["default"], ["anthropic/claude-sonnet-4-6"]);
    assert_eq!(warnings.len(), 2);
    assert!(
        warnings[0].contains("aiw config trust /repo"),
        "{}",
        warnings[0]
    );

    let mut warnings = Vec::new();
    let merged = file::merge(
        user,
        Some((proj, PathBuf::from("/repo/.aiw/config.toml"), true)),
        &mut warnings,
    );
    assert!(merged.providers.contains_key("evil"));
    assert!(warnings.is_empty());
}

#[test]
fn settings_debug_never_shows_keys() {
    let s = resolve("", &[("ANTHROPIC_API_KEY", "sk-ant-supersecret")]).unwrap();
    assert!(!format!("{s:?}").contains("supersecret"));
}
