//! The local tier: a GGUF model run in-process by llama.cpp (crate `llama-cpp-2`, feature
//! `local`), streaming the same [`ChatEvent`]s as the remote providers.
//!
//! - `mod.rs`: [`LocalClient`] (what the router calls), request stats, grammars.
//! - `engine.rs`: the model thread (feature `local` only).
//! - `sampler.rs`: choosing each next token, a grammar checked cheaply (feature `local` only).
//! - `catalogue.rs`: the model catalogue, installed models, resolving names, import.
//! - `download.rs`: `aiw model pull`.
//! - `tools.rs`: tool calling for GGUF models (prompt format, grammar, parsing the call back).
//! - `gguf.rs`: verifying a GGUF file (header and tensor data size) before it is used.
//!
//! Without the `local` feature, everything but the engine compiles and a request for a local
//! model fails with [`ErrorClass::Unavailable`] saying how to rebuild.

pub mod catalogue;
pub mod download;
#[cfg(feature = "local")]
pub mod engine;
pub mod gguf;
#[cfg(feature = "local")]
mod sampler;
pub mod tools;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use super::{ChatRequest, ErrorClass, EventStream, ProviderError};
use crate::config::{DEFAULT_LOCAL_MODEL, LocalSettings, Paths, ProviderSettings};

/// The system prompt used when a request has none (small models need one: llama.cpp's
/// built-in templates add no default system turn).
pub const DEFAULT_SYSTEM_PROMPT: &str = "You are a helpful coding assistant.";

/// Room kept for the answer when the prompt is fitted into the window and the request sets no
/// output limit; the answer itself may then use the whole rest of the window.
pub const DEFAULT_MAX_TOKENS: u32 = 512;

/// A GBNF grammar (llama.cpp syntax) for one JSON object or array, for
/// [`ChatRequest::grammar`]. Whitespace is limited to single spaces and newlines so a small
/// model cannot wander off into endless indentation.
/// See: <https://github.com/ggml-org/llama.cpp/blob/master/grammars/json.gbnf>
pub const JSON_GBNF: &str = r#"root   ::= object | array
value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9]{1,3})? ws
ws     ::= | " " | "\n"
"#;

/// Facts about a loaded model (from `probe`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelInfo {
    /// `general.name` from the GGUF metadata.
    pub name: Option<String>,
    /// The context window it was trained with.
    pub n_ctx_train: u32,
    /// Parameter count.
    pub n_params: u64,
    /// Weight bytes.
    pub size: u64,
    /// How long loading took, in milliseconds.
    pub load_ms: f64,
}

/// What one local request cost: filled in by the model thread while it runs, complete once
/// the stream has yielded `Done`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RequestStats {
    /// Tokens in the (fitted) prompt.
    pub prompt_tokens: usize,
    /// Prompt tokens whose KV cache was reused from the previous request.
    pub reused_tokens: usize,
    /// Prompt tokens evaluated for this request.
    pub evaluated_tokens: usize,
    /// Messages left out to fit the context window.
    pub dropped_messages: usize,
    /// Tokens generated.
    pub generated_tokens: usize,
    /// Time the model took to load (for the load that served this request).
    pub load_ms: f64,
    /// Time from the request reaching the model thread to the end of prompt evaluation.
    pub prompt_ms: f64,
    /// Time from the request reaching the model thread to the first text.
    pub first_token_ms: Option<f64>,
    /// Time spent generating.
    pub generation_ms: f64,
}

/// Shared view of a request's [`RequestStats`].
pub type StatsHandle = Arc<Mutex<RequestStats>>;

/// Client for the in-process local model.
#[derive(Clone, Debug)]
pub struct LocalClient {
    settings: LocalSettings,
    data_dir: PathBuf,
}

impl LocalClient {
    /// Builds the client; installed models are looked up in the data dir from `AIW_DATA_DIR`
    /// or the platform default (the same as [`Paths::resolve`]).
    pub fn new(settings: &ProviderSettings) -> Self {
        let data_dir = Paths::resolve(None).map_or_else(|_| PathBuf::from("."), |p| p.data_dir);
        Self::with_data_dir(settings, data_dir)
    }

    /// Builds the client with an explicit data dir (models in `{data_dir}/models/`).
    pub fn with_data_dir(settings: &ProviderSettings, data_dir: PathBuf) -> Self {
        let local = settings.local.clone().unwrap_or_else(|| LocalSettings {
            model: DEFAULT_LOCAL_MODEL.to_string(),
            gpu_layers: None,
            threads: std::thread::available_parallelism().map_or(4, |n| n.get().min(8) as u32),
            context_size: 4096,
            batch_size: 512,
        });
        Self::from_settings(local, data_dir)
    }

    /// Builds the client from local settings directly (tests, benchmarks).
    pub fn from_settings(settings: LocalSettings, data_dir: PathBuf) -> Self {
        Self { settings, data_dir }
    }

    /// The local settings in use.
    pub fn settings(&self) -> &LocalSettings {
        &self.settings
    }

    /// The model name to use: the route's model id, or the configured model when it is empty
    /// or `default`.
    fn model_name<'a>(&'a self, model: &'a str) -> &'a str {
        let m = model.trim();
        if m.is_empty() || m == "default" {
            &self.settings.model
        } else {
            m
        }
    }

    /// Resolves a model name to its validated file (see [`catalogue::resolve`]).
    pub fn resolve(&self, model: &str) -> Result<PathBuf, ProviderError> {
        catalogue::resolve(&self.data_dir, self.model_name(model))
            .map_err(|e| ProviderError::new(ErrorClass::Unavailable, e.to_string()))
    }

    /// Whether the model could answer now without loading it: built with `local` and the
    /// model file present and valid. For status displays and pre-flight checks.
    pub fn ready(&self, model: &str) -> Result<PathBuf, ProviderError> {
        #[cfg(not(feature = "local"))]
        {
            let _ = self.model_name(model);
            Err(not_built())
        }
        #[cfg(feature = "local")]
        self.resolve(model)
    }

    /// Starts a streamed answer.
    pub async fn stream(
        &self,
        model: &str,
        req: &ChatRequest,
    ) -> Result<EventStream, ProviderError> {
        self.stream_with_stats(model, req).await.map(|(s, _)| s)
    }
}

#[cfg(not(feature = "local"))]
fn not_built() -> ProviderError {
    ProviderError::new(
        ErrorClass::Unavailable,
        "this aiw was built without the `local` feature, so it cannot run local models; \
         rebuild with it (`cargo install aiw`, the feature is on by default, or \
         `cargo build --features local`) or remove the local model from the route",
    )
}

#[cfg(not(feature = "local"))]
impl LocalClient {
    /// Starts a streamed answer and returns its stats handle (always Unavailable: built
    /// without `local`).
    #[expect(
        clippy::unused_async,
        reason = "the same signature as with the `local` feature"
    )]
    pub async fn stream_with_stats(
        &self,
        model: &str,
        _req: &ChatRequest,
    ) -> Result<(EventStream, StatsHandle), ProviderError> {
        let _ = self.model_name(model);
        Err(not_built())
    }

    /// Checks that the model loads (always Unavailable: built without `local`).
    #[expect(
        clippy::unused_async,
        reason = "the same signature as with the `local` feature"
    )]
    pub async fn probe(&self, _model: &str) -> Result<ModelInfo, ProviderError> {
        Err(not_built())
    }

    /// Loads the model in the background (a no-op: built without `local`).
    pub fn prewarm(&self, _model: &str) {}
}

#[cfg(feature = "local")]
impl LocalClient {
    fn params(&self) -> engine::EngineParams {
        let gpu_auto = cfg!(any(
            feature = "cuda",
            feature = "vulkan",
            feature = "metal",
            all(target_os = "macos", target_arch = "aarch64")
        ));
        let s = &self.settings;
        engine::EngineParams {
            // llama.cpp clamps the layer count to the model's, so "all" is a large number.
            gpu_layers: s.gpu_layers.unwrap_or(if gpu_auto { 999 } else { 0 }),
            threads: s.threads.max(1),
            context_size: s.context_size.max(64),
            batch_size: s.batch_size.max(1),
        }
    }

    /// Starts a streamed answer and also returns a handle on its [`RequestStats`] (prompt
    /// tokens evaluated versus reused from the KV cache, timings).
    ///
    /// Returns once the model thread has loaded the model and accepted the prompt; dropping
    /// the stream cancels generation before the next token.
    pub async fn stream_with_stats(
        &self,
        model: &str,
        req: &ChatRequest,
    ) -> Result<(EventStream, StatsHandle), ProviderError> {
        use futures_util::StreamExt as _;

        let path = self.resolve(model)?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let stats: StatsHandle = Arc::default();
        engine::submit(engine::Job {
            path,
            name: self.model_name(model).to_string(),
            params: self.params(),
            kind: engine::JobKind::Generate {
                req: Box::new(tools::prepare(req, DEFAULT_SYSTEM_PROMPT, &|schema| {
                    json_schema_grammar(schema).ok()
                })),
                events: tx,
                stats: stats.clone(),
            },
        })?;
        let first = match rx.recv().await {
            Some(Ok(ev)) => ev,
            Some(Err(e)) => return Err(e),
            None => {
                return Err(ProviderError::new(
                    ErrorClass::Unavailable,
                    "the local model thread stopped",
                ));
            }
        };
        // Ends with the engine's Done; a channel that closes without it is a truncated stream.
        let rest = futures_util::stream::unfold((rx, false), |(mut rx, done)| async move {
            if done {
                return None;
            }
            match rx.recv().await {
                Some(Ok(ev)) => {
                    let done = matches!(ev, super::ChatEvent::Done { .. });
                    Some((Ok(ev), (rx, done)))
                }
                Some(Err(e)) => Some((Err(e), (rx, true))),
                None => Some((
                    Err(ProviderError::new(
                        ErrorClass::Truncated,
                        "the local model stopped without finishing its answer",
                    )),
                    (rx, true),
                )),
            }
        });
        let stream = futures_util::stream::once(async move { Ok(first) }).chain(rest);
        Ok((tools::ToolCalls::wrap(Box::pin(stream), req), stats))
    }

    /// Loads the model (if it is not loaded) and reports what it is: checks that the file
    /// loads, without generating.
    pub async fn probe(&self, model: &str) -> Result<ModelInfo, ProviderError> {
        let path = self.resolve(model)?;
        let (done, rx) = tokio::sync::oneshot::channel();
        engine::submit(engine::Job {
            path,
            name: self.model_name(model).to_string(),
            params: self.params(),
            kind: engine::JobKind::Warm { done: Some(done) },
        })?;
        rx.await.map_err(|_| {
            ProviderError::new(ErrorClass::Unavailable, "the local model thread stopped")
        })?
    }

    /// Loads the model on the model thread in the background, without generating, so the
    /// first local answer after remote providers fail does not pay the load time. Errors are
    /// logged; the request that follows reports them.
    pub fn prewarm(&self, model: &str) {
        let path = match self.resolve(model) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!("local model pre-warm skipped: {e}");
                return;
            }
        };
        let job = engine::Job {
            path,
            name: self.model_name(model).to_string(),
            params: self.params(),
            kind: engine::JobKind::Warm { done: None },
        };
        if let Err(e) = engine::submit(job) {
            tracing::warn!("local model pre-warm failed: {e}");
        }
    }
}

/// Converts a JSON Schema into a GBNF grammar with llama.cpp's own converter, so callers can
/// constrain a local model to a schema (e.g. review findings).
#[cfg(feature = "local")]
pub fn json_schema_grammar(schema: &str) -> Result<String, ProviderError> {
    llama_cpp_2::json_schema_to_grammar(schema)
        .map_err(|e| ProviderError::new(ErrorClass::InvalidRequest, format!("JSON schema: {e}")))
}

#[cfg(test)]
mod tests;
