//! The AWS credential chain as aiw reads it, in the standard order: a profile named in the
//! config file; else the `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`
//! variables (read when settings are resolved); else the `AWS_PROFILE` (or `default`) profile
//! of the shared credentials file (`AWS_SHARED_CREDENTIALS_FILE`, or `~/.aws/credentials`).
//! The file is read on each call, so keys rotated by other tools are picked up. Secrets go
//! into [`Secret`]s at once; no message ever quotes a value from the file.
//!
//! Not supported (each error says so and what to use instead): SSO, `credential_process`,
//! role assumption (`role_arn`) and instance metadata. Export short-lived keys (e.g. with
//! `aws configure export-credentials --format env`) or name a profile that holds keys.
//! See: <https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html>

use crate::config::AwsCredentials;
use crate::config::{BedrockSettings, ProfileOrigin, Secret};
use crate::provider::cloud::read_credentials_file;
use crate::provider::{ErrorClass, ProviderError};

/// The credentials for a Bedrock provider, or an [`ErrorClass::Auth`] error that says which
/// sources were tried and how to provide one.
pub async fn resolve(name: &str, s: &BedrockSettings) -> Result<AwsCredentials, ProviderError> {
    if s.profile_origin != ProfileOrigin::Config
        && let Some(c) = &s.env_credentials
    {
        return Ok(c.clone());
    }
    let Some(path) = &s.credentials_file else {
        return Err(missing(
            name,
            s,
            "no home directory to find ~/.aws/credentials in",
        ));
    };
    let text = match read_credentials_file(path).await {
        Ok(t) => t,
        Err(why) => return Err(missing(name, s, &why)),
    };
    match profile(&text, &s.profile) {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(missing(
            name,
            s,
            &format!(
                "{} has no profile `{}`",
                path.display(),
                crate::config::clip(&s.profile)
            ),
        )),
        Err(why) => Err(ProviderError::new(
            ErrorClass::Auth,
            format!(
                "provider `{name}`: profile `{}` in {} {why}",
                crate::config::clip(&s.profile),
                path.display()
            ),
        )),
    }
}

fn missing(name: &str, s: &BedrockSettings, why: &str) -> ProviderError {
    let tried = if s.profile_origin == ProfileOrigin::Config {
        format!(
            "the profile named in [providers.{name}] is used (it wins over AWS_* variables) and {why}"
        )
    } else {
        format!("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set and {why}")
    };
    ProviderError::new(
        ErrorClass::Auth,
        format!(
            "no AWS credentials for provider `{name}`: {tried}; set AWS_ACCESS_KEY_ID and \
             AWS_SECRET_ACCESS_KEY (plus AWS_SESSION_TOKEN for temporary keys), or name a \
             profile of the shared credentials file with `profile` in [providers.{name}] or \
             AWS_PROFILE"
        ),
    )
}

/// The keys of `[wanted]` in an INI-style credentials file; `Ok(None)` when there is no such
/// profile, `Err` (a phrase for a message) when it exists but holds no usable keys.
pub fn profile(text: &str, wanted: &str) -> Result<Option<AwsCredentials>, String> {
    let mut in_profile = false;
    let mut found = false;
    let (mut id, mut secret, mut token) = (None, None, None);
    let mut unsupported = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let section = section.trim();
            // The config file spells non-default profiles `[profile NAME]`; accept both.
            let section = section.strip_prefix("profile ").map_or(section, str::trim);
            in_profile = section == wanted;
            found |= in_profile;
            continue;
        }
        if !in_profile {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        match k.trim().to_ascii_lowercase().as_str() {
            "aws_access_key_id" => id = Some(v.to_string()),
            "aws_secret_access_key" => secret = Some(Secret::new(v)),
            "aws_session_token" => token = Some(Secret::new(v)),
            k @ ("credential_process" | "role_arn" | "sso_session" | "sso_start_url") => {
                unsupported = Some(k.to_string());
            }
            _ => {}
        }
    }
    if !found {
        return Ok(None);
    }
    match (
        id.filter(|i| !i.is_empty()),
        secret.filter(|s| !s.expose().is_empty()),
    ) {
        (Some(access_key_id), Some(secret_access_key)) => Ok(Some(AwsCredentials {
            access_key_id,
            secret_access_key,
            session_token: token.filter(|t| !t.expose().is_empty()),
        })),
        _ => Err(match unsupported {
            Some(k) => format!(
                "uses `{k}`, which aiw does not run; export keys instead (`aws configure \
                 export-credentials --profile NAME --format env`)"
            ),
            None => "has no aws_access_key_id and aws_secret_access_key".into(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const FILE: &str = "\
# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = secret/default+key

[work]
aws_access_key_id=ASIAWORK
aws_secret_access_key=work-secret
aws_session_token = token==

[profile sso]
sso_session = corp
[empty]
region = us-west-2
";

    #[test]
    fn profiles_are_read_by_name() {
        let d = profile(FILE, "default").unwrap().unwrap();
        assert_eq!(d.access_key_id, "AKIDDEFAULT");
        assert_eq!(d.secret_access_key.expose(), "secret/default+key");
        assert!(d.session_token.is_none());
        let w = profile(FILE, "work").unwrap().unwrap();
        assert_eq!(
            w.session_token.as_ref().map(Secret::expose),
            Some("token==")
        );
        assert_eq!(profile(FILE, "nope").unwrap(), None);
        let e = profile(FILE, "sso").unwrap_err();
        assert!(
            e.contains("sso_session") && e.contains("export-credentials"),
            "{e}"
        );
        assert!(
            profile(FILE, "empty")
                .unwrap_err()
                .contains("no aws_access_key_id")
        );
    }

    fn settings(dir: &Path, profile_name: &str, from_config: bool, env: bool) -> BedrockSettings {
        BedrockSettings {
            region: Some("us-east-1".into()),
            profile: profile_name.into(),
            profile_origin: if from_config {
                ProfileOrigin::Config
            } else {
                ProfileOrigin::Env
            },
            credentials_file: Some(dir.join("credentials")),
            env_credentials: env.then(|| AwsCredentials {
                access_key_id: "AKIDENV".into(),
                secret_access_key: Secret::new("env-secret"),
                session_token: None,
            }),
            models: std::collections::BTreeMap::default(),
        }
    }

    #[tokio::test]
    async fn the_chain_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("credentials"), FILE).unwrap();
        // Variables win over the AWS_PROFILE/default profile …
        let c = resolve("bedrock", &settings(dir.path(), "work", false, true))
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "AKIDENV");
        // … but a profile named in the config file wins over the variables.
        let c = resolve("bedrock", &settings(dir.path(), "work", true, true))
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "ASIAWORK");
        let c = resolve("bedrock", &settings(dir.path(), "default", false, false))
            .await
            .unwrap();
        assert_eq!(c.access_key_id, "AKIDDEFAULT");
    }

    #[tokio::test]
    async fn missing_sources_say_what_to_set_and_quote_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve("bedrock", &settings(dir.path(), "default", false, false))
            .await
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::Auth);
        assert!(
            e.message.contains("AWS_ACCESS_KEY_ID") && e.message.contains("AWS_PROFILE"),
            "{}",
            e.message
        );
        std::fs::write(dir.path().join("credentials"), FILE).unwrap();
        let e = resolve("bedrock", &settings(dir.path(), "nope", true, false))
            .await
            .unwrap_err();
        assert!(e.message.contains("no profile `nope`"), "{}", e.message);
        assert!(!e.message.contains("secret"), "{}", e.message);
    }
}
