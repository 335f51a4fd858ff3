//! The Google Vertex AI client, for Claude and for Gemini: Claude through
//! `POST {base}/v1/projects/{project}/locations/{region}/publishers/anthropic/models/{model}:streamRawPredict`
//! with the Anthropic Messages body (`anthropic_version: "vertex-2023-10-16"`, no `model`,
//! `"stream": true`) and Anthropic's SSE stream; Gemini through
//! `…/publishers/google/models/{model}:streamGenerateContent?alt=sse` with the Gemini body and
//! stream. Both authenticate with an OAuth access token from `google_auth` (Bearer); a 401 on
//! a cached token gets one new token and one resend, before any answer has reached anyone.
//! Errors come as google.rpc.Status from the platform or as Anthropic's error body from the
//! model: [`classify`] tells them apart.
//!
//! Which publisher: a model id (after the `[providers.NAME.models]` map and the built-in
//! table) that starts with `claude` is Anthropic's; any other is Google's.
//! See: <https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/use-claude>
//! and <https://platform.claude.com/docs/en/build-with-claude/claude-on-vertex-ai>

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};

use super::anthropic::{self, AnthropicMapper};
use super::cloud::{self, Host};
use super::gemini::{self, GeminiMapper};
use super::google_auth::TokenSource;
use super::http::{self, Endpoint};
use super::sse::Mode;
use super::{ChatRequest, ErrorClass, EventStream, ProviderError, Vendor};
use crate::config::{CloudSettings, ProviderSettings, Secret, VertexSettings};

/// The `anthropic_version` Vertex requires in the body.
pub const VERTEX_ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// Whose model a Vertex model id names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Publisher {
    /// Claude (`publishers/anthropic`).
    Anthropic,
    /// Gemini (`publishers/google`).
    Google,
}

impl Publisher {
    /// The publisher of a Vertex model id.
    pub fn of(model_id: &str) -> Self {
        if model_id.starts_with("claude") {
            Self::Anthropic
        } else {
            Self::Google
        }
    }
}

/// Client for one configured Vertex AI provider.
#[derive(Clone)]
pub struct VertexClient {
    http: reqwest::Client,
    settings: ProviderSettings,
    tokens: TokenSource,
}

impl VertexClient {
    /// Builds the client; tokens are fetched on first use.
    pub fn new(settings: &ProviderSettings, http: reqwest::Client) -> Self {
        let file = match &settings.cloud {
            Some(CloudSettings::Vertex(v)) => v.credentials_file.clone(),
            _ => None,
        };
        Self {
            tokens: TokenSource::new(&settings.name, file, http.clone()),
            http,
            settings: settings.clone(),
        }
    }

    fn vertex(&self) -> Result<&VertexSettings, ProviderError> {
        match &self.settings.cloud {
            Some(CloudSettings::Vertex(v)) => Ok(v),
            _ => Err(ProviderError::new(
                ErrorClass::Unavailable,
                format!("provider `{}` has no Vertex settings", self.settings.name),
            )),
        }
    }

    /// The Vertex model id for a model a route names.
    fn model_id(&self, model: &str) -> String {
        let empty = std::collections::BTreeMap::new();
        let models = self.vertex().map_or(&empty, |v| &v.models);
        cloud::model_id(Host::Vertex, model, models)
    }

    /// The wire family of `model` here: Claude's or Gemini's.
    pub fn vendor(&self, model: &str) -> Vendor {
        match Publisher::of(&self.model_id(model)) {
            Publisher::Anthropic => Vendor::Anthropic,
            Publisher::Google => Vendor::Gemini,
        }
    }

    /// Starts a streamed answer.
    pub async fn stream(
        &self,
        model: &str,
        req: &ChatRequest,
    ) -> Result<EventStream, ProviderError> {
        let name = &self.settings.name;
        let v = self.vertex()?;
        let id = self.model_id(model);
        let publisher = Publisher::of(&id);
        let project = match &v.project {
            Some(p) => p.clone(),
            None => self.tokens.account().await?.project_id.ok_or_else(|| {
                ProviderError::new(
                    ErrorClass::Unavailable,
                    format!(
                        "provider `{name}` has no Google Cloud project: set `project` in \
                         [providers.{name}] or GOOGLE_CLOUD_PROJECT"
                    ),
                )
            })?,
        };
        let url = predict_url(&self.settings.base_url, &project, &v.region, publisher, &id)?;
        let body = match publisher {
            Publisher::Anthropic => {
                anthropic::hosted_request_body(req, VERTEX_ANTHROPIC_VERSION, true)
            }
            Publisher::Google => gemini::request_body(&id, req),
        };
        let mut token = self.tokens.token().await?;
        let mut refreshed = false;
        let resp = loop {
            let ep = Endpoint {
                provider: name,
                key: Some(&token),
                classify,
            };
            match http::send(&self.http, url.as_str(), headers(&token)?, body.clone(), ep).await {
                Ok(resp) => break resp,
                // The token expired or was revoked since it was cached: the request never
                // reached the model, so one resend with a new token is not a retry of a
                // failed call (those live in the router).
                Err(e) if e.status == Some(401) && !refreshed => {
                    tracing::debug!(provider = %name, "access token refused; fetching a new one");
                    self.tokens.invalidate(&token).await;
                    token = self.tokens.token().await?;
                    refreshed = true;
                }
                Err(mut e) => {
                    if e.status == Some(401) {
                        e.message.push_str(
                            " (a freshly issued access token was refused too: check that the \
                             service account is enabled and may use Vertex AI)",
                        );
                    } else if e.class == ErrorClass::NotFound {
                        e.message.push_str(
                            " (check the model id and region, and that the model is enabled in \
                             Vertex AI Model Garden for this project)",
                        );
                    }
                    return Err(e);
                }
            }
        };
        let ep = Endpoint {
            provider: name,
            key: Some(&token),
            classify,
        };
        Ok(match publisher {
            Publisher::Anthropic => {
                http::event_stream(resp, Mode::Standard, AnthropicMapper::default(), ep)
            }
            Publisher::Google => {
                http::event_stream(resp, Mode::WithBareJson, GeminiMapper::default(), ep)
            }
        })
    }

    /// A one-token real generation; `Ok` when the stream reaches its terminal event.
    pub async fn probe(&self, model: &str) -> Result<(), ProviderError> {
        http::drain(self.stream(model, &http::probe_request()).await?).await
    }
}

fn headers(token: &Secret) -> Result<HeaderMap, ProviderError> {
    let mut h = HeaderMap::new();
    h.insert(AUTHORIZATION, http::secret_header("Bearer ", token)?);
    h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
    Ok(h)
}

/// `{base}/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{id}:{method}`
/// (`?alt=sse` for Gemini), each part percent-encoded as one path segment.
pub fn predict_url(
    base: &str,
    project: &str,
    region: &str,
    publisher: Publisher,
    model_id: &str,
) -> Result<reqwest::Url, ProviderError> {
    let bad = |why: String| {
        ProviderError::new(
            ErrorClass::Unavailable,
            format!("base_url `{base}` {why}: fix it in the config file"),
        )
    };
    let mut url = reqwest::Url::parse(&format!("{base}/v1/projects"))
        .map_err(|e| bad(format!("is not a valid URL ({e})")))?;
    let (publisher, method) = match publisher {
        Publisher::Anthropic => ("anthropic", "streamRawPredict"),
        Publisher::Google => ("google", "streamGenerateContent"),
    };
    url.path_segments_mut()
        .map_err(|()| bad("cannot have a path".into()))?
        .extend([
            project,
            "locations",
            region,
            "publishers",
            publisher,
            "models",
        ])
        .push(&format!("{model_id}:{method}"));
    if method == "streamGenerateContent" {
        url.set_query(Some("alt=sse"));
    }
    Ok(url)
}

/// Classifies a Vertex error: Anthropic's error body (`{"type":"error",…}`, the model's own
/// errors, e.g. `overloaded_error`) by the Anthropic rules, anything else as google.rpc.Status
/// (the platform's: `UNAUTHENTICATED`, `PERMISSION_DENIED`, `RESOURCE_EXHAUSTED` quota, …).
pub fn classify(status: u16, headers: &HeaderMap, body: &str) -> ProviderError {
    let anthropic_body = serde_json::from_str::<serde_json::Value>(body)
        .is_ok_and(|v| v["type"] == "error" && v["error"]["type"].is_string());
    if anthropic_body {
        anthropic::classify(status, headers, body)
    } else {
        gemini::classify(status, headers, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn publishers_and_urls() {
        assert_eq!(
            Publisher::of("claude-sonnet-4-5@20250929"),
            Publisher::Anthropic
        );
        assert_eq!(Publisher::of("gemini-2.5-pro"), Publisher::Google);
        let u = predict_url(
            "https://us-east5-aiplatform.googleapis.com",
            "my-proj",
            "us-east5",
            Publisher::Anthropic,
            "claude-sonnet-4-5@20250929",
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
        );
        let u = predict_url(
            "http://127.0.0.1:9",
            "p",
            "global",
            Publisher::Google,
            "gemini-2.5-flash",
        )
        .unwrap();
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/v1/projects/p/locations/global/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
    }

    #[test]
    fn the_claude_body_has_vertexs_version_and_no_model() {
        let b = crate::provider::http::body_json(&anthropic::hosted_request_body(
            &ChatRequest::user("Hi"),
            VERTEX_ANTHROPIC_VERSION,
            true,
        ));
        assert_eq!(b["anthropic_version"], "vertex-2023-10-16");
        assert_eq!(b["stream"], true);
        assert!(b.get("model").is_none());
    }

    #[test]
    fn errors_from_the_platform_and_from_the_model() {
        let h = HeaderMap::new();
        let google = |code: u16, status: &str, msg: &str| {
            json!({"error": {"code": code, "message": msg, "status": status}}).to_string()
        };
        let rows = [
            (401, google(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token."), ErrorClass::Auth),
            (403, google(403, "PERMISSION_DENIED", "Permission 'aiplatform.endpoints.predict' denied on resource"), ErrorClass::Permission),
            (429, google(429, "RESOURCE_EXHAUSTED", "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model"), ErrorClass::RateLimited),
            (404, google(404, "NOT_FOUND", "Publisher Model `claude-x` was not found"), ErrorClass::NotFound),
            (503, google(503, "UNAVAILABLE", "The service is currently unavailable."), ErrorClass::Overloaded),
            (529, json!({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}).to_string(), ErrorClass::Overloaded),
            (400, json!({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 300000 tokens > 200000 maximum"}}).to_string(), ErrorClass::ContextTooLong),
        ];
        for (status, body, want) in rows {
            assert_eq!(classify(status, &h, &body).class, want, "{status} {body}");
        }
    }
}
