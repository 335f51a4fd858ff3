//! `aiw config init|path|check|trust`. Works even when the config file is broken, so the user
//! can find and fix it. `trust` records the project file's content hash (see
//! `config::trust`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::{ConfigArgs, ConfigCommand};
use crate::config::{
    DEFAULT_CONFIG_TEMPLATE, FileConfig, Paths, ProjectFile, Settings, UserFile, trust,
};
use crate::exit;
use crate::output;

/// Runs `aiw config`.
pub fn run(config_flag: Option<&Path>, args: ConfigArgs) -> anyhow::Result<ExitCode> {
    let paths = Paths::resolve(config_flag)?;
    match args.command {
        ConfigCommand::Path => {
            output::line(&paths.config_file.display().to_string())?;
            Ok(ExitCode::SUCCESS)
        }
        ConfigCommand::Init { force } => init(&paths.config_file, force),
        ConfigCommand::Check => check(paths, config_flag.is_some()),
        ConfigCommand::Trust { dir } => {
            let dir = match dir {
                Some(d) => d,
                None => std::env::current_dir().context("cannot read the current directory")?,
            };
            trust_project(&paths, &dir)
        }
    }
}

/// Trusts the `.aiw/config.toml` found from `dir` upwards, as it is now (its content hash).
fn trust_project(paths: &Paths, dir: &Path) -> anyhow::Result<ExitCode> {
    let Some(project) = ProjectFile::find(dir)? else {
        return Err(output::Exit {
            message: format!(
                "no .aiw/config.toml in {} or its parents: there is nothing to trust",
                dir.display()
            ),
            code: exit::USAGE,
        }
        .into());
    };
    // A broken file is reported now rather than trusted.
    FileConfig::parse(&project.text, &project.label)?;
    let (root, sha) = trust::record(&paths.state_dir, &project.root, project.text.as_bytes())
        .with_context(|| format!("cannot trust {}", project.root.display()))?;
    output::line(&format!(
        "trusted {} (sha256 {}…) in {}: it may now set providers (endpoints, key variables, the local model file), [health], [timeouts], review policy and routes to any configured model; if the file changes, aiw ignores those settings again until you run `aiw config trust` again",
        project.label.display(),
        crate::config::project::short(&sha),
        root.display()
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// Writes the commented template atomically (temp file + rename); never overwrites without
/// `--force`.
fn init(path: &Path, force: bool) -> anyhow::Result<ExitCode> {
    if path.exists() && !force {
        return Err(output::Exit {
            message: format!(
                "{} already exists; use `aiw config init --force` to overwrite it",
                path.display()
            ),
            code: exit::USAGE,
        }
        .into());
    }
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::files::write_atomic(
        path,
        DEFAULT_CONFIG_TEMPLATE.as_bytes(),
        crate::files::Access::Public,
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    output::line(&format!("wrote {}", path.display()))?;
    Ok(ExitCode::SUCCESS)
}

/// Where a cloud host's credentials will come from (never their values).
fn cloud_credentials(cloud: &crate::config::CloudSettings) -> String {
    use crate::config::{CloudSettings, ProfileOrigin};
    match cloud {
        CloudSettings::Bedrock(b)
            if b.env_credentials.is_some() && b.profile_origin != ProfileOrigin::Config =>
        {
            "AWS keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY".to_string()
        }
        CloudSettings::Bedrock(b) => match &b.credentials_file {
            Some(f) => format!("AWS profile `{}` of {}", b.profile, f.display()),
            None => "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
        },
        CloudSettings::Vertex(v) => match &v.credentials_file {
            Some(f) => format!("service-account key {}", f.display()),
            None => "no service-account key: set GOOGLE_APPLICATION_CREDENTIALS".into(),
        },
    }
}

/// Validates the file and reports providers, routes and which keys are present; `required`:
/// the file was named with `--config`, so it must exist.
fn check(paths: Paths, required: bool) -> anyhow::Result<ExitCode> {
    let file = paths.config_file.clone();
    let cwd = std::env::current_dir().ok();
    let loaded = UserFile::load(&paths, required).and_then(|user| {
        let project = match cwd.as_deref() {
            Some(d) => ProjectFile::find(d)?,
            None => None,
        };
        Settings::from_files(paths, user, project)
    });
    let settings = match loaded {
        Ok(s) => s,
        Err(e) => {
            output::error(&e.to_string());
            return Ok(exit::code(exit::USAGE));
        }
    };
    if settings.config_file_found {
        output::line(&format!("config file: {} (valid)", file.display()))?;
    } else {
        output::line(&format!(
            "config file: {} (not found; using built-in defaults)",
            file.display()
        ))?;
    }
    output::line("providers:")?;
    for p in settings.providers.values() {
        let key = if let Some(cloud) = &p.cloud {
            cloud_credentials(cloud)
        } else if p.kind == crate::config::ProviderKind::Local {
            "no key needed".to_string()
        } else if p.api_key.is_some() {
            format!("key present ({})", p.api_key_env.join(" or "))
        } else if p.api_key_env.is_empty() {
            "no key configured".to_string()
        } else {
            format!("key missing: set {}", p.api_key_env.join(" or "))
        };
        let url = match (p.base_url.is_empty(), p.kind.is_cloud()) {
            (true, true) => "no region: set `region` or AWS_REGION",
            (true, false) => "in-process",
            (false, _) => &p.base_url,
        };
        output::line(&format!(
            "  {:<12} {:<18} {url}  {key}",
            p.name,
            p.kind.as_str()
        ))?;
    }
    output::line("routes:")?;
    for (name, models) in &settings.routes {
        let mark = if *name == settings.default_route {
            " (default)"
        } else {
            ""
        };
        let list: Vec<String> = models.iter().map(ToString::to_string).collect();
        output::line(&format!("  {name}{mark}: {}", list.join(" -> ")))?;
    }
    for w in &settings.warnings {
        output::warn(w);
    }
    Ok(ExitCode::SUCCESS)
}
