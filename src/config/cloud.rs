//! Resolving the settings of the cloud hosts of other vendors' models (`kind = "bedrock"`,
//! `kind = "vertex"`): region, project, profile and credentials file from the merged file
//! and the platforms' usual environment variables, the default endpoint for the region, and
//! the check that these settings appear only on the kinds that use them.
//!
//! Environment (read here, so tests inject it): Bedrock `AWS_REGION`, `AWS_DEFAULT_REGION`,
//! `AWS_PROFILE`, `AWS_SHARED_CREDENTIALS_FILE`, `AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`; Vertex `GOOGLE_CLOUD_LOCATION`,
//! `GOOGLE_CLOUD_PROJECT`, `GOOGLE_APPLICATION_CREDENTIALS`. `HOME` finds `~/.aws/credentials`,
//! gcloud's application-default file, and a `credentials_file` written as `~/…`.

use std::path::{Path, PathBuf};

use super::file::ProviderFile;
use super::{
    BedrockSettings, CloudSettings, ConfigError, ProfileOrigin, ProviderKind, Secret,
    VertexSettings, validate,
};

/// Long-term or temporary AWS credentials. The secret key and session token are [`Secret`]s:
/// they never print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsCredentials {
    /// The access key id (`AKIA…` / `ASIA…`); not a secret, it names the key.
    pub access_key_id: String,
    /// The secret access key: only ever used to derive the signing key.
    pub secret_access_key: Secret,
    /// The session token of temporary credentials, sent as `x-amz-security-token`.
    pub session_token: Option<Secret>,
}

/// The location Vertex uses when none is configured: the global endpoint, which serves every
/// current Claude model and routes to whichever region has capacity.
pub(crate) const VERTEX_DEFAULT_REGION: &str = "global";

/// The cloud settings of provider `name` of `kind` (`None` for the other kinds), or an error
/// when a Bedrock/Vertex setting is set on a kind that does not use it.
pub(crate) fn resolve(
    name: &str,
    kind: ProviderKind,
    p: &ProviderFile,
    origin: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    warnings: &mut Vec<String>,
) -> Result<Option<CloudSettings>, ConfigError> {
    let var = |v: &str| {
        env(v)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
    };
    let set: Vec<&str> = [
        ("region", p.region.is_some(), kind.is_cloud()),
        ("project", p.project.is_some(), kind == ProviderKind::Vertex),
        (
            "profile",
            p.profile.is_some(),
            kind == ProviderKind::Bedrock,
        ),
        (
            "credentials_file",
            p.credentials_file.is_some(),
            kind.is_cloud(),
        ),
        ("models", p.models.is_some(), kind.is_cloud()),
        ("api_key_env", p.api_key_env.is_some(), !kind.is_cloud()),
    ]
    .into_iter()
    .filter_map(|(f, is_set, applies)| (is_set && !applies).then_some(f))
    .collect();
    if let Some(f) = set.first() {
        let message = match *f {
            "api_key_env" => format!(
                "does not apply to kind = \"{}\": it authenticates with {} (see the README)",
                kind.as_str(),
                if kind == ProviderKind::Bedrock {
                    "AWS credentials"
                } else {
                    "a Google service-account key"
                }
            ),
            "project" => "applies only to kind = \"vertex\"".to_string(),
            "profile" => "applies only to kind = \"bedrock\"".to_string(),
            _ => "applies only to kind = \"bedrock\" or \"vertex\"".to_string(),
        };
        return Err(ConfigError::Invalid {
            path: origin.to_path_buf(),
            what: format!("providers.{name}.{f}"),
            message,
        });
    }
    let home = var("HOME").map(PathBuf::from);
    let file_setting = p
        .credentials_file
        .as_deref()
        .map(|f| expand_home(f, home.as_deref()));
    let models = p.models.clone().unwrap_or_default();
    // A region from the environment goes into a host name: take it only when it looks like one.
    let env_region = |vars: &[&str], warnings: &mut Vec<String>| {
        vars.iter().find_map(|v| {
            let r = var(v)?;
            if validate::is_region(&r) {
                Some(r)
            } else {
                warnings.push(format!(
                    "ignoring {v} for provider `{name}`: `{}` is not a region name",
                    validate::clip(&r)
                ));
                None
            }
        })
    };
    Ok(match kind {
        ProviderKind::Bedrock => {
            let (profile, profile_origin) = match (&p.profile, var("AWS_PROFILE")) {
                (Some(pf), _) => (pf.clone(), ProfileOrigin::Config),
                (None, Some(pf)) => (pf, ProfileOrigin::Env),
                (None, None) => ("default".to_string(), ProfileOrigin::Default),
            };
            let env_credentials = match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
                (Some(access_key_id), Some(secret)) => Some(AwsCredentials {
                    access_key_id,
                    secret_access_key: Secret::new(secret),
                    session_token: var("AWS_SESSION_TOKEN").map(Secret::new),
                }),
                _ => None,
            };
            Some(CloudSettings::Bedrock(BedrockSettings {
                region: p
                    .region
                    .clone()
                    .or_else(|| env_region(&["AWS_REGION", "AWS_DEFAULT_REGION"], warnings)),
                profile,
                profile_origin,
                credentials_file: file_setting
                    .or_else(|| var("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from))
                    .or_else(|| home.as_ref().map(|h| h.join(".aws").join("credentials"))),
                env_credentials,
                models,
            }))
        }
        ProviderKind::Vertex => {
            let adc = home
                .as_ref()
                .map(|h| h.join(".config/gcloud/application_default_credentials.json"))
                .filter(|f| f.is_file());
            Some(CloudSettings::Vertex(VertexSettings {
                region: p
                    .region
                    .clone()
                    .or_else(|| env_region(&["GOOGLE_CLOUD_LOCATION"], warnings))
                    .unwrap_or_else(|| VERTEX_DEFAULT_REGION.to_string()),
                project: p.project.clone().or_else(|| var("GOOGLE_CLOUD_PROJECT")),
                credentials_file: file_setting
                    .or_else(|| var("GOOGLE_APPLICATION_CREDENTIALS").map(PathBuf::from))
                    .or(adc),
                models,
            }))
        }
        _ => None,
    })
}

/// `~/x` against `home`; other paths as written.
fn expand_home(path: &str, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~/"), home) {
        (Some(rest), Some(h)) => h.join(rest),
        _ => PathBuf::from(path),
    }
}

/// The platform's endpoint for the configured region: Bedrock Runtime in the AWS region
/// (empty when no region is known: the client then says to set one), Vertex AI in the
/// location (the global endpoint for `global`).
pub(crate) fn default_base_url(cloud: Option<&CloudSettings>) -> String {
    match cloud {
        Some(CloudSettings::Bedrock(b)) => b
            .region
            .as_ref()
            .map(|r| format!("https://bedrock-runtime.{r}.amazonaws.com"))
            .unwrap_or_default(),
        Some(CloudSettings::Vertex(v)) if v.region == VERTEX_DEFAULT_REGION => {
            "https://aiplatform.googleapis.com".into()
        }
        Some(CloudSettings::Vertex(v)) => format!("https://{}-aiplatform.googleapis.com", v.region),
        None => String::new(),
    }
}
