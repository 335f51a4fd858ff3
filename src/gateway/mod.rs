//! The gateway: an HTTP server on loopback that speaks Anthropic Messages and OpenAI Chat
//! Completions to real coding agents and SDKs, and answers every request through aiw's
//! router (per-model health, failover across vendors, tool-safe mid-stream rescue, the local
//! tier). Used by `aiw serve` and by `aiw run -- CMD`.
//!
//! Failover semantics a client can trust:
//! - before the first content byte, failover is silent: the response starts only once a model
//!   produces content, so a client sees one model's answer or the protocol's real error
//!   (Anthropic 529 `overloaded_error`, OpenAI 503), never a 200 with nothing in it;
//! - after it, the answer goes on in the same stream with consistent block indices (a tool
//!   call is sent only once complete; a cut one is redone by the next model);
//! - the stream always ends with the protocol's terminal event, or its error event.
//!
//! - `anthropic`: the Messages side (request reading, SSE writing, errors).
//! - `openai`: the Chat Completions side.

pub mod anthropic;
pub mod openai;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::config::ModelRef;
use crate::config::{Secret, Settings};
use crate::provider::{ChatRequest, ErrorClass};
use crate::router::{AllModelsFailed, Answer, Outcome, Router, RouterEvent};

/// The response header that names the model that really answered.
pub const SERVED_MODEL_HEADER: &str = "x-aiw-served-model";

/// How long a client may take to send its request head.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// A request the gateway refuses or could not answer, as the protocol's error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayError {
    /// The HTTP status.
    pub status: u16,
    /// What went wrong and how to fix it.
    pub message: String,
}

impl GatewayError {
    /// A 400 for a request the gateway cannot read.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self {
            status: 400,
            message: message.into(),
        }
    }

    /// The error for a request no model could answer: a context error when a model that was
    /// up could not fit it (the client can shorten it; retrying would not help), a
    /// configuration error when every model was refused, else "overloaded" (the client may
    /// retry).
    pub fn from_failure(failed: &AllModelsFailed) -> Self {
        let tried: Vec<_> = failed
            .attempts
            .iter()
            .filter(|a| a.outcome == Outcome::Failed)
            .collect();
        let all = |f: &dyn Fn(ErrorClass) -> bool| {
            !tried.is_empty() && tried.iter().all(|a| a.error_class.is_some_and(f))
        };
        let why = crate::router::AllModelsFailed::to_string(failed);
        if tried
            .iter()
            .any(|a| a.error_class == Some(ErrorClass::ContextTooLong))
        {
            Self {
                status: 400,
                message: format!(
                    "prompt is too long: the request does not fit the context window of any model of the route, even with old tool results and turns left out; shorten it ({why})"
                ),
            }
        } else if all(&|c| c.is_config_problem() && c != ErrorClass::ContextTooLong) {
            Self {
                status: 400,
                message: format!("every model of the route refused the request: {why}"),
            }
        } else {
            Self {
                status: 529,
                message: format!("aiw: no model of the route can answer right now ({why})"),
            }
        }
    }
}

/// What a response says about itself.
#[derive(Clone, Debug)]
pub struct ResponseMeta {
    /// The response id (`msg_…`, `chatcmpl-…`).
    pub id: String,
    /// The model id the client asked for (what the response's `model` field says).
    pub client_model: String,
    /// Whether the OpenAI client asked for a usage chunk.
    pub include_usage: bool,
}

/// Writes the router's events in one protocol.
pub trait Encoder: Send {
    /// The streamed response's content type.
    fn content_type(&self) -> &'static str;
    /// Writes what one event means on the wire (nothing for most non-content events).
    fn event(&mut self, ev: &RouterEvent, out: &mut Vec<u8>);
    /// Writes the end of the stream: the terminal events, or the protocol's error event.
    fn finish(&mut self, result: &Result<Answer, AllModelsFailed>, out: &mut Vec<u8>);
    /// The protocol's error body.
    fn error(&self, e: &GatewayError) -> Value;
    /// The whole answer as one (non-streamed) response body.
    fn whole(&self, a: &Answer) -> Value;
}

/// Called with one line when an answer came from a fallback.
type Notify = Box<dyn Fn(&str) + Send + Sync>;

/// The gateway's state, shared by every connection.
pub struct Gateway {
    router: Router,
    token: Secret,
    streams: Arc<Semaphore>,
    settings: Arc<Settings>,
    globs: Vec<(globset::GlobMatcher, Vec<ModelRef>)>,
    fallback_route: Vec<ModelRef>,
    notify: Option<Notify>,
}

type Body = UnsyncBoxBody<Bytes, Infallible>;

fn full(status: u16, content_type: &str, body: Vec<u8>) -> Response<Body> {
    let mut r = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    r
}

fn json_response(status: u16, v: &Value) -> Response<Body> {
    full(status, "application/json", v.to_string().into_bytes())
}

/// Which wire a request speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wire {
    Anthropic,
    OpenAi,
}

impl Wire {
    fn error(self, e: &GatewayError) -> Response<Body> {
        let body = match self {
            Wire::Anthropic => anthropic::error_body(e),
            Wire::OpenAi => openai::error_body(e),
        };
        let status = match (self, e.status) {
            // OpenAI clients know 503 for "overloaded"; Anthropic's own is 529.
            (Wire::OpenAi, 529) => 503,
            (_, s) => s,
        };
        json_response(status, &body)
    }
}

/// Compares two secrets in time that does not depend on where they differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn presented_token(headers: &HeaderMap) -> Option<&[u8]> {
    if let Some(v) = headers.get("x-api-key") {
        return Some(v.as_bytes());
    }
    let auth = headers.get(http::header::AUTHORIZATION)?.as_bytes();
    let rest = auth
        .strip_prefix(b"Bearer ")
        .or_else(|| auth.strip_prefix(b"bearer "))?;
    Some(rest)
}

fn random_id(prefix: &str) -> String {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(24)
        .collect();
    format!("{prefix}{tail}")
}

impl Gateway {
    /// A gateway answering with `router` for clients that present `token`.
    pub fn new(router: Router, token: Secret) -> Self {
        let settings = Arc::new(router.settings().clone());
        let g = &settings.gateway;
        let globs = g
            .models
            .iter()
            .filter_map(|(glob, route)| {
                let m = globset::Glob::new(glob).ok()?.compile_matcher();
                Some((m, settings.routes.get(route).cloned().unwrap_or_default()))
            })
            .collect();
        let fallback_route = settings.routes.get(&g.route).cloned().unwrap_or_default();
        Self {
            router,
            token,
            streams: Arc::new(Semaphore::new(g.max_streams)),
            globs,
            fallback_route,
            settings,
            notify: None,
        }
    }

    /// Calls `f` with one line whenever an answer did not come from the route's first model,
    /// and when a request's history was fitted into a smaller window or reduced.
    #[must_use]
    pub fn on_failover(mut self, f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        self.notify = Some(Box::new(f));
        self
    }

    /// The route for a client's model id: the first matching `[gateway] models` glob, else the
    /// gateway route.
    pub fn route_for(&self, client_model: &str) -> &[ModelRef] {
        self.globs
            .iter()
            .find(|(m, _)| m.is_match(client_model))
            .map_or(&self.fallback_route, |(_, r)| r)
    }

    /// Serves connections from `listener` until `shutdown` is cancelled.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, shutdown: CancellationToken) {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                () = shutdown.cancelled() => return,
            };
            let Ok((stream, _peer)) = accepted else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            let gw = self.clone();
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let svc = hyper::service::service_fn(move |req| {
                    let gw = gw.clone();
                    async move { Ok::<_, Infallible>(gw.handle(req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(hyper_util::rt::TokioTimer::new())
                    .header_read_timeout(HEADER_TIMEOUT)
                    .serve_connection(io, svc)
                    .await;
            });
        }
    }

    async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path().to_string();
        let method = req.method().clone();
        let wire = if path.contains("/chat/completions")
            || (!req.headers().contains_key("anthropic-version") && path.ends_with("/models"))
        {
            Wire::OpenAi
        } else {
            Wire::Anthropic
        };
        let authorized = presented_token(req.headers())
            .is_some_and(|t| same_secret(t, self.token.expose().as_bytes()));
        if !authorized {
            return wire.error(&GatewayError {
                status: 401,
                message: "aiw gateway: missing or wrong token: use the token `aiw run` or `aiw serve` gave you (ANTHROPIC_AUTH_TOKEN / OPENAI_API_KEY)".into(),
            });
        }
        match (method, path.trim_end_matches('/')) {
            (Method::GET, "/v1/models" | "/models") => self.models(wire),
            (Method::POST, "/v1/messages") => self.answer(Wire::Anthropic, req).await,
            (Method::POST, "/v1/messages/count_tokens") => self.count_tokens(req).await,
            (Method::POST, "/v1/chat/completions" | "/chat/completions") => {
                self.answer(Wire::OpenAi, req).await
            }
            (_, p) => wire.error(&GatewayError {
                status: 404,
                message: format!(
                    "aiw gateway: no endpoint {}: it serves POST /v1/messages, POST /v1/messages/count_tokens, POST /v1/chat/completions and GET /v1/models",
                    crate::config::clip(p)
                ),
            }),
        }
    }

    fn models(&self, wire: Wire) -> Response<Body> {
        let mut ids: Vec<String> = Vec::new();
        for (glob, _) in &self.settings.gateway.models {
            if !glob.contains(['*', '?', '[']) && !ids.contains(glob) {
                ids.push(glob.clone());
            }
        }
        for m in self.settings.routes.values().flatten() {
            let id = m.to_string();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let body = match wire {
            Wire::Anthropic => json!({
                "data": ids.iter().map(|id| json!({"type": "model", "id": id, "display_name": id,
                    "created_at": "2026-01-01T00:00:00Z"})).collect::<Vec<_>>(),
                "has_more": false,
                "first_id": ids.first(),
                "last_id": ids.last(),
            }),
            Wire::OpenAi => json!({
                "object": "list",
                "data": ids.iter().map(|id| json!({"id": id, "object": "model", "created": 1_767_225_600,
                    "owned_by": "aiw"})).collect::<Vec<_>>(),
            }),
        };
        json_response(200, &body)
    }

    async fn read_body(
        &self,
        wire: Wire,
        req: Request<Incoming>,
    ) -> Result<(HeaderMap, Bytes), Response<Body>> {
        let (parts, body) = req.into_parts();
        let limit = self.settings.gateway.max_body;
        match http_body_util::Limited::new(body, limit).collect().await {
            Ok(b) => Ok((parts.headers, b.to_bytes())),
            Err(_) => Err(wire.error(&GatewayError {
                status: 413,
                message: format!(
                    "aiw gateway: the request body is larger than {} MiB (or broke off): raise [gateway] max_body_mib",
                    limit / (1024 * 1024)
                ),
            })),
        }
    }

    async fn count_tokens(&self, req: Request<Incoming>) -> Response<Body> {
        let (headers, body) = match self.read_body(Wire::Anthropic, req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        match anthropic::parse(&body, &headers) {
            Ok((r, _, _)) => json_response(200, &anthropic::count_tokens(&r)),
            Err(e) => Wire::Anthropic.error(&e),
        }
    }

    async fn answer(self: Arc<Self>, wire: Wire, req: Request<Incoming>) -> Response<Body> {
        let (headers, body) = match self.read_body(wire, req).await {
            Ok(x) => x,
            Err(r) => return r,
        };
        let parsed = match wire {
            Wire::Anthropic => anthropic::parse(&body, &headers).map(|(r, m, s)| (r, m, s, false)),
            Wire::OpenAi => openai::parse(&body),
        };
        let (chat, client_model, stream, include_usage) = match parsed {
            Ok(x) => x,
            Err(e) => return wire.error(&e),
        };
        let Ok(permit) = self.streams.clone().try_acquire_owned() else {
            return wire.error(&GatewayError {
                status: 529,
                message: format!(
                    "aiw gateway: {} requests are being answered already; retry shortly or raise [gateway] max_streams",
                    self.settings.gateway.max_streams
                ),
            });
        };
        let route = self.route_for(&client_model).to_vec();
        if route.is_empty() {
            return wire.error(&GatewayError::invalid(format!(
                "aiw gateway: no route for model `{}`: map it under [gateway] models",
                crate::config::clip(&client_model)
            )));
        }
        let meta = ResponseMeta {
            id: random_id(if wire == Wire::Anthropic {
                "msg_aiw"
            } else {
                "chatcmpl-aiw"
            }),
            client_model,
            include_usage,
        };
        let encoder: Box<dyn Encoder> = match wire {
            Wire::Anthropic => Box::new(anthropic::AnthropicEncoder::new(meta)),
            Wire::OpenAi => Box::new(openai::OpenAiEncoder::new(meta)),
        };
        let (tx, rx) = mpsc::unbounded_channel::<Out>();
        let cancel = CancellationToken::new();
        let gw = self.clone();
        let run_cancel = cancel.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let notify = gw.notify.as_ref();
            let mut on_event = |ev: RouterEvent| {
                // The agent cannot see how its history was fitted; the person running it can.
                if let Some(n) = notify {
                    match &ev {
                        RouterEvent::HistoryFitted { model, report } => {
                            n(&format!("aiw: {}", report.describe(&model.to_string())));
                        }
                        RouterEvent::ReduceFailed { model, why } => {
                            n(&format!(
                                "aiw: {model} could not summarise the agent's history ({why}); its oldest turns are left out"
                            ));
                        }
                        RouterEvent::Reducing { model, done, of } if done == of => {
                            n(&format!(
                                "aiw: {model} summarised the agent's history ({of} parts)"
                            ));
                        }
                        _ => {}
                    }
                }
                let _ = tx.send(Out::Event(ev));
            };
            let result = gw
                .router
                .run(&route, &chat, &mut on_event, &run_cancel)
                .await;
            if let (Ok(a), Some(notify)) = (&result, &gw.notify)
                && a.degraded
            {
                notify(&format!(
                    "aiw: answered by {} ({} unavailable)",
                    a.model,
                    route.first().map(ToString::to_string).unwrap_or_default()
                ));
            }
            let _ = tx.send(Out::Done(Box::new(result)));
        });
        if stream {
            stream_response(wire, encoder, rx, cancel).await
        } else {
            whole_response(wire, encoder, rx, &cancel).await
        }
    }
}

/// What the routing task sends to the response.
enum Out {
    Event(RouterEvent),
    Done(Box<Result<Answer, AllModelsFailed>>),
}

fn is_content(ev: &RouterEvent) -> Option<&ModelRef> {
    match ev {
        RouterEvent::Text { model, .. }
        | RouterEvent::Thinking { model, .. }
        | RouterEvent::ThinkingSignature { model, .. }
        | RouterEvent::Opaque { model, .. }
        | RouterEvent::ToolUse { model, .. } => Some(model),
        _ => None,
    }
}

/// Cancels the routing task when the response body is dropped (the client left).
struct CancelOnDrop(CancellationToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

async fn stream_response(
    wire: Wire,
    mut enc: Box<dyn Encoder>,
    mut rx: mpsc::UnboundedReceiver<Out>,
    cancel: CancellationToken,
) -> Response<Body> {
    // Nothing goes out before a model produces content: failover before that is silent, and a
    // request no model can answer gets the protocol's error status.
    let mut head = Vec::new();
    let mut served = None;
    let mut finished = false;
    while let Some(out) = rx.recv().await {
        match out {
            Out::Event(ev) => {
                let content = is_content(&ev).cloned();
                enc.event(&ev, &mut head);
                if let Some(m) = content {
                    served = Some(m.to_string());
                    break;
                }
            }
            Out::Done(result) => {
                if let Err(failed) = result.as_ref()
                    && head.is_empty()
                {
                    return wire.error(&GatewayError::from_failure(failed));
                }
                if let Ok(a) = result.as_ref() {
                    served = Some(a.model.to_string());
                }
                enc.finish(&result, &mut head);
                finished = true;
                break;
            }
        }
    }
    let guard = CancelOnDrop(cancel);
    let first = futures_util::stream::once(async move { Bytes::from(head) });
    let rest = futures_util::stream::unfold(
        (rx, enc, finished, guard),
        |(mut rx, mut enc, finished, guard)| async move {
            if finished {
                return None;
            }
            loop {
                let mut buf = Vec::new();
                match rx.recv().await {
                    Some(Out::Event(ev)) => {
                        enc.event(&ev, &mut buf);
                        if !buf.is_empty() {
                            return Some((Bytes::from(buf), (rx, enc, false, guard)));
                        }
                    }
                    Some(Out::Done(result)) => {
                        enc.finish(&result, &mut buf);
                        return Some((Bytes::from(buf), (rx, enc, true, guard)));
                    }
                    None => return None,
                }
            }
        },
    );
    let content_type = enc_content_type(wire);
    let body = StreamBody::new(
        first
            .chain(rest)
            .map(|b| Ok::<_, Infallible>(Frame::data(b))),
    );
    let mut r = Response::new(BodyExt::boxed_unsync(body));
    let h = r.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache"),
    );
    if let Some(v) = served.and_then(|s| HeaderValue::from_str(&s).ok()) {
        h.insert(SERVED_MODEL_HEADER, v);
    }
    r
}

fn enc_content_type(_wire: Wire) -> &'static str {
    "text/event-stream"
}

async fn whole_response(
    wire: Wire,
    enc: Box<dyn Encoder>,
    mut rx: mpsc::UnboundedReceiver<Out>,
    cancel: &CancellationToken,
) -> Response<Body> {
    let _guard = CancelOnDrop(cancel.clone());
    while let Some(out) = rx.recv().await {
        if let Out::Done(result) = out {
            return match *result {
                Ok(a) => {
                    let mut r = json_response(200, &enc.whole(&a));
                    if let Ok(v) = HeaderValue::from_str(&a.model.to_string()) {
                        r.headers_mut().insert(SERVED_MODEL_HEADER, v);
                    }
                    r
                }
                Err(failed) => wire.error(&GatewayError::from_failure(&failed)),
            };
        }
    }
    wire.error(&GatewayError {
        status: 500,
        message: "aiw gateway: the routing task stopped without an answer".into(),
    })
}

/// A fresh random token for one gateway.
pub fn new_token() -> Secret {
    let tail: String = std::iter::repeat_with(fastrand::alphanumeric)
        .take(40)
        .collect();
    Secret::new(format!("aiw-{tail}"))
}

/// Binds the gateway's listener: loopback unless `listen` names another address, which needs
/// `explicit` (the user typed `--listen`).
pub async fn bind(listen: SocketAddr, explicit: bool) -> anyhow::Result<TcpListener> {
    if !listen.ip().is_loopback() && !explicit {
        anyhow::bail!(
            "refusing to listen on {listen}: the gateway listens on loopback only unless --listen names another address"
        );
    }
    TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))
}

/// Starts a gateway on an ephemeral loopback port in the background; returns its address.
pub async fn start(gateway: Gateway, shutdown: CancellationToken) -> anyhow::Result<SocketAddr> {
    let listener = bind(SocketAddr::from(([127, 0, 0, 1], 0)), false).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(Arc::new(gateway).serve(listener, shutdown));
    Ok(addr)
}

/// The neutral request a client's body maps to, and its stream flags (for tests and
/// `count_tokens`).
pub type Parsed = (ChatRequest, String, bool, bool);
