//! Google Vertex AI as the emulator speaks it: the publisher-model routes
//! (`…/publishers/anthropic/models/{m}:streamRawPredict` and `:rawPredict`,
//! `…/publishers/google/models/{m}:streamGenerateContent` and `:generateContent`), the OAuth
//! token endpoint (`POST /token`: an RS256 JWT-bearer assertion checked against the public
//! half of [`TEST_PRIVATE_KEY_PEM`], tokens with a configurable lifetime that tests can expire
//! at will), the Bearer check on every model call, the body check Vertex makes on Claude
//! requests, and its errors: the platform's as google.rpc.Status, Claude's own as Anthropic's
//! error body.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

use super::{Ctx, HttpError, anthropic, gemini};
use crate::http::Request;
use crate::record::Protocol;
use crate::script::{ErrorKind, ErrorReply};

/// The private key of the emulator's test service account (PKCS#8 PEM). Assertions signed
/// with it are accepted by the token endpoint.
pub const TEST_PRIVATE_KEY_PEM: &str = include_str!("../../keys/service-account-test.pem");
/// Another RSA key: assertions signed with it are refused (`Invalid JWT Signature.`).
pub const UNTRUSTED_PRIVATE_KEY_PEM: &str = include_str!("../../keys/untrusted-test.pem");
/// The test service account.
pub const CLIENT_EMAIL: &str = "aiw-test@aiw-emulator.iam.gserviceaccount.com";
/// The test project.
pub const PROJECT_ID: &str = "aiw-emulator";
/// The scope a Vertex token must be asked for.
const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// `…/v1/projects/{p}/locations/{l}/publishers/{pub}/models/{m}:{method}` → the protocol,
/// model and whether the answer streams (Claude: `streamRawPredict`, which also needs
/// `"stream": true` in the body, checked by the caller; Gemini: `streamGenerateContent`).
pub(crate) fn call(path: &str) -> Option<(Protocol, String, bool)> {
    let rest = path.strip_prefix("/v1/projects/")?;
    let parts: Vec<&str> = rest.split('/').collect();
    let [
        _project,
        "locations",
        _location,
        "publishers",
        publisher,
        "models",
        last,
    ] = parts[..]
    else {
        return None;
    };
    let (model, method) = last.rsplit_once(':')?;
    let model = crate::http::percent_decode(model);
    let found = match (publisher, method) {
        ("anthropic", "streamRawPredict") => (Protocol::Anthropic, true),
        ("anthropic", "rawPredict") => (Protocol::Anthropic, false),
        ("google", "streamGenerateContent") => (Protocol::Gemini, true),
        ("google", "generateContent") => (Protocol::Gemini, false),
        _ => return None,
    };
    (!model.is_empty()).then_some((found.0, model, found.1))
}

/// Tokens issued by the token endpoint.
#[derive(Debug)]
pub(crate) struct Tokens {
    /// Token -> when it stops being accepted.
    issued: HashMap<String, Instant>,
    /// `expires_in` of new tokens, and how long the emulator accepts them.
    pub(crate) lifetime: Duration,
    /// Exchanges attempted (accepted or not).
    pub(crate) requests: usize,
}

impl Default for Tokens {
    fn default() -> Self {
        Tokens {
            issued: HashMap::new(),
            lifetime: Duration::from_secs(3600),
            requests: 0,
        }
    }
}

impl Tokens {
    /// Makes every token issued so far invalid (as if each had expired).
    pub(crate) fn expire_all(&mut self) {
        let now = Instant::now();
        for until in self.issued.values_mut() {
            *until = now;
        }
    }
}

fn public_key() -> &'static [u8] {
    static KEY: OnceLock<Vec<u8>> = OnceLock::new();
    KEY.get_or_init(|| {
        let body: String = TEST_PRIVATE_KEY_PEM
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = STANDARD
            .decode(body)
            .expect("the bundled test key is valid base64");
        let pair = ring::signature::RsaKeyPair::from_pkcs8(&der)
            .expect("the bundled test key is an RSA PKCS#8 key");
        pair.public().as_ref().to_vec()
    })
}

fn oauth_error(code: &str, description: &str) -> (u16, String) {
    (
        400,
        json!({ "error": code, "error_description": description }).to_string(),
    )
}

/// Checks a JWT-bearer assertion the way Google's token endpoint does; the claims on success.
fn check_assertion(jwt: &str, token_uri: &str) -> Result<(), (u16, String)> {
    let bad = |d: &str| oauth_error("invalid_grant", d);
    let parts: Vec<&str> = jwt.split('.').collect();
    let [h, c, sig] = parts[..] else {
        return Err(bad("Invalid JWT: malformed."));
    };
    let decode = |p: &str| {
        URL_SAFE_NO_PAD
            .decode(p)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    };
    let (Some(header), Some(claims), Ok(sig)) = (decode(h), decode(c), URL_SAFE_NO_PAD.decode(sig))
    else {
        return Err(bad("Invalid JWT: malformed."));
    };
    if header["alg"] != "RS256" {
        return Err(bad("Invalid JWT: the algorithm must be RS256."));
    }
    let public = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        public_key(),
    );
    if public.verify(format!("{h}.{c}").as_bytes(), &sig).is_err() {
        return Err(bad("Invalid JWT Signature."));
    }
    if claims["iss"] != CLIENT_EMAIL {
        return Err(bad("Invalid grant: account not found"));
    }
    if claims["aud"] != token_uri {
        return Err(bad("Invalid JWT: Failed audience check."));
    }
    let scopes = claims["scope"].as_str().unwrap_or_default();
    if !scopes.split(' ').any(|s| s == SCOPE) {
        return Err(oauth_error(
            "invalid_scope",
            "Invalid OAuth scope or ID token audience provided.",
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (Some(iat), Some(exp)) = (claims["iat"].as_u64(), claims["exp"].as_u64()) else {
        return Err(bad("Invalid JWT: missing iat or exp."));
    };
    if exp <= now || iat > now + 300 || exp.saturating_sub(iat) > 3600 {
        return Err(bad(
            "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
        ));
    }
    Ok(())
}

/// `POST /token`: exchanges a JWT-bearer assertion for an access token. Returns status and
/// JSON body.
pub(crate) fn token_exchange(req: &Request, tokens: &mut Tokens) -> (u16, String) {
    tokens.requests += 1;
    let body = String::from_utf8_lossy(&req.body);
    let param = |name: &str| crate::http::query_param(&body, name);
    if param("grant_type").as_deref() != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return oauth_error("unsupported_grant_type", "Invalid grant_type.");
    }
    let Some(assertion) = param("assertion") else {
        return oauth_error("invalid_request", "Missing required parameter: assertion");
    };
    let token_uri = format!("http://{}/token", req.header("host").unwrap_or_default());
    if let Err(e) = check_assertion(&assertion, &token_uri) {
        return e;
    }
    let token = format!("ya29.emulator-{}", super::random_id(40));
    tokens
        .issued
        .insert(token.clone(), Instant::now() + tokens.lifetime);
    (
        200,
        json!({
            "access_token": token,
            "expires_in": tokens.lifetime.as_secs(),
            "token_type": "Bearer",
        })
        .to_string(),
    )
}

fn unauthenticated(reason: &str) -> HttpError {
    gemini::error_body(
        401,
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.",
        "UNAUTHENTICATED",
        &[format!(
            "{{\"@type\":\"type.googleapis.com/google.rpc.ErrorInfo\",\"reason\":\"{reason}\",\"domain\":\"googleapis.com\",\"metadata\":{{\"service\":\"aiplatform.googleapis.com\",\"method\":\"google.cloud.aiplatform.v1.PredictionService.StreamRawPredict\"}}}}"
        )],
    )
}

/// The Bearer check of a model call: a token issued here and not yet expired.
pub(crate) fn check_bearer(req: &Request, tokens: &Tokens) -> Result<(), HttpError> {
    let token = req.header("authorization").and_then(|v| {
        let (scheme, t) = v.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| t.trim())
    });
    let Some(token) = token else {
        return Err(unauthenticated("CREDENTIALS_MISSING"));
    };
    match tokens.issued.get(token) {
        Some(until) if Instant::now() < *until => Ok(()),
        Some(_) => Err(unauthenticated("ACCESS_TOKEN_EXPIRED")),
        None => Err(unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED")),
    }
}

/// The body check Vertex makes on a Claude request.
pub(crate) fn check_anthropic_body(json: &Value) -> Option<HttpError> {
    let invalid = |m: &str| gemini::error_body(400, m, "INVALID_ARGUMENT", &[]);
    if json.get("model").is_some() {
        return Some(invalid(
            "Invalid JSON payload received. Unknown name \"model\": the model is named in the URL.",
        ));
    }
    match json.get("anthropic_version").and_then(Value::as_str) {
        Some("vertex-2023-10-16") => None,
        _ => Some(invalid(
            "anthropic_version: must be \"vertex-2023-10-16\" (in the request body).",
        )),
    }
}

/// The error for `kind`: the platform's (auth, permission, quota, unknown model, and all of
/// Gemini's) as google.rpc.Status; Claude's own (overloaded, server, bad request, context) as
/// Anthropic's body.
pub(crate) fn error(protocol: Protocol, kind: ErrorKind, ctx: &Ctx, er: &ErrorReply) -> HttpError {
    let platform = |kind: ErrorKind| match kind {
        ErrorKind::Auth => unauthenticated("ACCESS_TOKEN_TYPE_UNSUPPORTED"),
        ErrorKind::Permission => gemini::error_body(
            403,
            &format!(
                "Permission 'aiplatform.endpoints.predict' denied on resource '//aiplatform.googleapis.com/projects/{PROJECT_ID}/locations/global/publishers/{}/models/{}' (or it may not exist).",
                if protocol == Protocol::Anthropic {
                    "anthropic"
                } else {
                    "google"
                },
                ctx.model
            ),
            "PERMISSION_DENIED",
            &[],
        ),
        ErrorKind::NotFound => gemini::error_body(
            404,
            &format!(
                "Publisher Model `projects/{PROJECT_ID}/locations/global/publishers/anthropic/models/{}` was not found or your project does not have access to it.",
                ctx.model
            ),
            "NOT_FOUND",
            &[],
        ),
        other => gemini::error(other, ctx, gemini::retry_delay(er)),
    };
    match (protocol, kind) {
        (
            Protocol::Anthropic,
            ErrorKind::Overloaded
            | ErrorKind::Server
            | ErrorKind::Unavailable
            | ErrorKind::GatewayTimeout
            | ErrorKind::BadRequest
            | ErrorKind::ContextTooLong,
        ) => anthropic::error(kind, ctx),
        _ => platform(kind),
    }
}

/// A service-account key file for the test account, its `token_uri` pointing at `base`
/// (`http://127.0.0.1:PORT`), signed with `private_key_pem`.
pub(crate) fn key_file(base: &str, private_key_pem: &str) -> String {
    json!({
        "type": "service_account",
        "project_id": PROJECT_ID,
        "private_key_id": "emulator-key-1",
        "private_key": private_key_pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": format!("{base}/token"),
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes() {
        assert_eq!(
            call(
                "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-x@20250929:streamRawPredict"
            ),
            Some((Protocol::Anthropic, "claude-x@20250929".to_owned(), true))
        );
        assert_eq!(
            call(
                "/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"
            ),
            Some((Protocol::Gemini, "gemini-2.5-flash".to_owned(), false))
        );
        assert_eq!(
            call("/v1/projects/p/locations/l/publishers/meta/models/x:rawPredict"),
            None
        );
        assert_eq!(
            call("/v1/projects/p/publishers/anthropic/models/x:rawPredict"),
            None
        );
    }

    #[test]
    fn assertions_need_the_test_key_the_audience_and_a_fresh_time() {
        assert!(matches!(check_assertion("a.b", "u"), Err((400, _))));
        let (status, body) = check_assertion("e30.e30.AAAA", "u").unwrap_err();
        assert_eq!(status, 400);
        assert!(body.contains("invalid_grant"), "{body}");
    }
}
