//! Google OAuth access tokens for Vertex AI from Application Default Credentials of the
//! service-account kind: the JSON key file (`GOOGLE_APPLICATION_CREDENTIALS`, or
//! `credentials_file` in the config), an RS256-signed JWT assertion for the `cloud-platform`
//! scope, its exchange at the key file's `token_uri`, and a cache that keeps the token until
//! shortly before it expires (shared by every clone of the client).
//!
//! The private key, the assertion and the access token are [`Secret`]s: never logged, and sent
//! only to the key file's `token_uri` (https, or http to this machine for tests) and, for the
//! token, to the provider's endpoint.
//! See: <https://developers.google.com/identity/protocols/oauth2/service-account#httprest>

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use serde::Deserialize;

use super::cloud::read_credentials_file;
use super::{ErrorClass, ProviderError, http};
use crate::config::Secret;

/// The scope Vertex AI needs.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// A token is replaced this long before it expires, so none expires mid-request.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// Lifetime asked for in the assertion (Google's maximum).
const ASSERTION_LIFETIME: u64 = 3600;

/// A service-account key file, as the Cloud console downloads it.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: Option<String>,
    private_key: Option<String>,
    private_key_id: Option<String>,
    token_uri: Option<String>,
    project_id: Option<String>,
}

/// What aiw uses of a key file.
pub struct ServiceAccount {
    /// The account (`name@project.iam.gserviceaccount.com`), the assertion's issuer.
    pub client_email: String,
    /// The PEM private key.
    pub private_key: Secret,
    /// Its id, sent as the JWT `kid`.
    pub private_key_id: Option<String>,
    /// Where assertions are exchanged for tokens.
    pub token_uri: String,
    /// The project the account belongs to (the default Vertex project).
    pub project_id: Option<String>,
}

impl ServiceAccount {
    /// Parses a key file's text; the error is a phrase for a message and quotes no value.
    pub fn parse(text: &str) -> Result<Self, String> {
        let f: KeyFile =
            serde_json::from_str(text).map_err(|e| format!("is not a JSON key file ({e})"))?;
        match f.kind.as_deref() {
            Some("service_account") => {}
            Some("authorized_user") => {
                return Err(
                    "holds user credentials (`gcloud auth application-default login`); \
                     aiw needs a service-account key: create one with `gcloud iam \
                     service-accounts keys create`"
                        .into(),
                );
            }
            _ => {
                return Err(
                    "is not a service-account key file (`type` is not `service_account`)".into(),
                );
            }
        }
        let (Some(client_email), Some(private_key)) = (f.client_email, f.private_key) else {
            return Err("lacks `client_email` or `private_key`".into());
        };
        let token_uri = f
            .token_uri
            .unwrap_or_else(|| "https://oauth2.googleapis.com/token".into());
        check_token_uri(&token_uri)?;
        Ok(Self {
            client_email,
            private_key: Secret::new(private_key),
            private_key_id: f.private_key_id,
            token_uri,
            project_id: f.project_id.filter(|p| !p.is_empty()),
        })
    }

    /// The signed JWT assertion for the token exchange, issued at `now`.
    pub fn assertion(&self, now: SystemTime) -> Result<Secret, String> {
        let der = pem_body(self.private_key.expose())?;
        let key = ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| {
            format!(
                "has a `private_key` ring cannot use ({e}); it must be an RSA key in PKCS#8 PEM"
            )
        })?;
        let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut header = serde_json::json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.private_key_id {
            header["kid"] = kid.as_str().into();
        }
        let claims = serde_json::json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": iat,
            "exp": iat + ASSERTION_LIFETIME,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signing_input.as_bytes(),
            &mut sig,
        )
        .map_err(|_| "has a `private_key` that cannot sign".to_string())?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(sig)
        )))
    }
}

/// The DER bytes of a `-----BEGIN PRIVATE KEY-----` PEM block.
fn pem_body(pem: &str) -> Result<Vec<u8>, String> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN PRIVATE KEY-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    if body.is_empty() {
        return Err(
            "has a `private_key` that is not a PKCS#8 PEM block (`-----BEGIN PRIVATE KEY-----`)"
                .into(),
        );
    }
    STANDARD
        .decode(body)
        .map_err(|_| "has a `private_key` whose PEM body is not base64".into())
}

/// A token endpoint must be https, or plain http to this machine (the emulator in tests).
fn check_token_uri(uri: &str) -> Result<(), String> {
    let ok = match reqwest::Url::parse(uri) {
        Ok(u) if u.scheme() == "https" => true,
        Ok(u) if u.scheme() == "http" => {
            let host = u.host_str().unwrap_or_default();
            host == "localhost"
                || host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err("has a `token_uri` that is not an https URL (aiw sends the signed assertion only over https, or plain http to this machine)".into())
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// A cached access token.
struct Cached {
    token: Secret,
    /// When it must no longer be used (its expiry less [`REFRESH_MARGIN`]).
    fresh_until: Instant,
}

/// Access tokens for one key file, cached and shared by every clone.
#[derive(Clone)]
pub struct TokenSource {
    /// The provider's name, for messages.
    provider: String,
    /// The service-account key file.
    file: Option<PathBuf>,
    http: reqwest::Client,
    cache: Arc<tokio::sync::Mutex<Option<Cached>>>,
}

impl TokenSource {
    /// Tokens from the key file at `file` (`None`: none configured, each call says how to
    /// configure one).
    pub fn new(provider: &str, file: Option<PathBuf>, http: reqwest::Client) -> Self {
        Self {
            provider: provider.to_string(),
            file,
            http,
            cache: Arc::new(tokio::sync::Mutex::new(None)),
        }
    }

    /// The key file, read and parsed now (tokens are fetched with its current content).
    pub async fn account(&self) -> Result<ServiceAccount, ProviderError> {
        let name = &self.provider;
        let Some(path) = &self.file else {
            return Err(ProviderError::new(
                ErrorClass::Auth,
                format!(
                    "no Google credentials for provider `{name}`: set GOOGLE_APPLICATION_CREDENTIALS \
                     to a service-account key file, or `credentials_file` in [providers.{name}]"
                ),
            ));
        };
        let text = read_credentials_file(path).await.map_err(|why| {
            ProviderError::new(
                ErrorClass::Auth,
                format!(
                    "provider `{name}`: {why} (the service-account key file; set \
                     GOOGLE_APPLICATION_CREDENTIALS or `credentials_file` in [providers.{name}])"
                ),
            )
        })?;
        ServiceAccount::parse(&text).map_err(|why| self.key_error(&why))
    }

    /// An [`ErrorClass::Auth`] error about the key file: `why` completes "the key file X …".
    fn key_error(&self, why: &str) -> ProviderError {
        let path = self
            .file
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        ProviderError::new(
            ErrorClass::Auth,
            format!(
                "provider `{}`: the service-account key file {path} {why}",
                self.provider
            ),
        )
    }

    /// A valid access token: the cached one while it has more than a minute left, else a new
    /// one from the token endpoint (one fetch at a time; callers waiting meanwhile get it).
    pub async fn token(&self) -> Result<Secret, ProviderError> {
        let mut cache = self.cache.lock().await;
        if let Some(c) = cache.as_ref()
            && Instant::now() < c.fresh_until
        {
            return Ok(c.token.clone());
        }
        let fetched = self.fetch().await?;
        let token = fetched.token.clone();
        *cache = Some(fetched);
        Ok(token)
    }

    /// Forgets `stale` (the endpoint said it is no longer valid), unless another caller has
    /// already replaced it.
    pub async fn invalidate(&self, stale: &Secret) {
        let mut cache = self.cache.lock().await;
        if cache.as_ref().is_some_and(|c| &c.token == stale) {
            *cache = None;
        }
    }

    async fn fetch(&self) -> Result<Cached, ProviderError> {
        let name = &self.provider;
        let account = self.account().await?;
        let assertion = account
            .assertion(SystemTime::now())
            .map_err(|why| self.key_error(&why))?;
        let body = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={}",
            assertion.expose()
        );
        let resp = self
            .http
            .post(&account.token_uri)
            .header(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| {
                let mut err = http::transport_error(&e);
                err.message = format!("token endpoint {}: {}", account.token_uri, err.message);
                http::scrub(err, Some(&assertion))
            })?;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            return Err(token_error(name, &account.token_uri, status, &text));
        }
        let parsed = serde_json::from_str::<TokenResponse>(&text).ok();
        let expires_in = parsed.as_ref().and_then(|p| p.expires_in);
        let Some(token) = parsed
            .and_then(|p| p.access_token)
            .filter(|t| !t.is_empty())
        else {
            return Err(ProviderError::new(
                ErrorClass::Auth,
                format!(
                    "provider `{name}`: the token endpoint {} answered without an access token",
                    account.token_uri
                ),
            ));
        };
        let lifetime = Duration::from_secs(expires_in.unwrap_or(3600));
        Ok(Cached {
            token: Secret::new(token),
            fresh_until: Instant::now() + lifetime.saturating_sub(REFRESH_MARGIN),
        })
    }
}

/// Classifies a failed token exchange: a rejected assertion or key (`invalid_grant`,
/// `invalid_client`, 400/401/403) is [`ErrorClass::Auth`]; a busy or broken endpoint is
/// retryable like any server error. The endpoint's own words are kept, never the assertion.
fn token_error(name: &str, uri: &str, status: u16, body: &str) -> ProviderError {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
    let code = v["error"].as_str().unwrap_or("");
    let desc = v["error_description"].as_str().unwrap_or("");
    let said = match (code, desc) {
        ("", "") => http::non_json_summary(status, &reqwest::header::HeaderMap::new(), body),
        (c, "") => c.to_string(),
        (c, d) => format!("{c}: {d}"),
    };
    let class = match status {
        429 => ErrorClass::RateLimited,
        500..=599 => http::class_for_status(status),
        _ => ErrorClass::Auth,
    };
    ProviderError::new(
        class,
        format!(
            "provider `{name}`: the token endpoint {uri} refused the service-account key \
             ({}); check that the key file is current and the account is enabled",
            crate::config::clip(&said)
        ),
    )
    .with_status(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The emulator's test key: the emulator verifies assertions with its public half.
    fn key_file(token_uri: &str) -> String {
        serde_json::json!({
            "type": "service_account",
            "project_id": "aiw-test",
            "private_key_id": "k1",
            "private_key": aiw_emulator::google::TEST_PRIVATE_KEY_PEM,
            "client_email": "aiw@aiw-test.iam.gserviceaccount.com",
            "token_uri": token_uri,
        })
        .to_string()
    }

    #[test]
    fn parses_a_key_file_and_signs_a_verifiable_assertion() {
        let acct = ServiceAccount::parse(&key_file("https://oauth2.googleapis.com/token")).unwrap();
        assert_eq!(acct.project_id.as_deref(), Some("aiw-test"));
        let t = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let jwt = acct.assertion(t).unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        assert_eq!(header["kid"], "k1");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "aiw@aiw-test.iam.gserviceaccount.com");
        assert_eq!(claims["aud"], "https://oauth2.googleapis.com/token");
        assert_eq!(claims["scope"], SCOPE);
        assert_eq!(claims["iat"], 1_700_000_000u64);
        assert_eq!(claims["exp"], 1_700_003_600u64);
        // The signature verifies with the key's public half, and not for other content.
        let der = pem_body(aiw_emulator::google::TEST_PRIVATE_KEY_PEM).unwrap();
        let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            pair.public().as_ref().to_vec(),
        );
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        public.verify(input.as_bytes(), &sig).unwrap();
        assert!(public.verify(b"other", &sig).is_err());
    }

    #[test]
    fn refuses_other_credential_kinds_and_plain_http_elsewhere() {
        let e = ServiceAccount::parse(r#"{"type":"authorized_user","refresh_token":"x"}"#)
            .err()
            .unwrap();
        assert!(e.contains("service-account key"), "{e}");
        let e = ServiceAccount::parse(&key_file("http://tokens.example.com/token"))
            .err()
            .unwrap();
        assert!(e.contains("https"), "{e}");
        assert!(ServiceAccount::parse(&key_file("http://127.0.0.1:9/token")).is_ok());
        let e = ServiceAccount::parse("{not json").err().unwrap();
        assert!(e.contains("JSON"), "{e}");
        let mut broken: serde_json::Value =
            serde_json::from_str(&key_file("https://x/token")).unwrap();
        broken["private_key"] =
            "-----BEGIN PRIVATE KEY-----\nnot base64!\n-----END PRIVATE KEY-----".into();
        let acct = ServiceAccount::parse(&broken.to_string()).unwrap();
        let e = acct.assertion(SystemTime::now()).err().unwrap();
        assert!(e.contains("base64"), "{e}");
        assert!(
            !e.contains("not base64!"),
            "no key material in messages: {e}"
        );
    }

    #[test]
    fn token_errors_are_classified_without_the_assertion() {
        let e = token_error(
            "vertex",
            "https://oauth2.googleapis.com/token",
            400,
            r#"{"error":"invalid_grant","error_description":"Invalid JWT Signature."}"#,
        );
        assert_eq!(e.class, ErrorClass::Auth);
        assert!(e.message.contains("Invalid JWT Signature"), "{}", e.message);
        assert_eq!(token_error("v", "u", 503, "").class, ErrorClass::Overloaded);
        assert_eq!(
            token_error("v", "u", 429, "{}").class,
            ErrorClass::RateLimited
        );
    }
}
