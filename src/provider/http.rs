//! What the three HTTP providers share: the one reqwest client (one connection pool for all
//! providers), sending a request and turning a non-2xx answer into a classified
//! [`ProviderError`], the parts of classification that do not depend on the provider (headers,
//! status fallbacks, non-JSON bodies, transport errors), and the pump that turns a response body
//! plus a per-protocol [`StreamMapper`] into an [`EventStream`].
//!
//! Protocol knowledge (URLs, bodies, event names, error codes) stays in the provider files.
//! Bodies are logged only at debug level (`--debug`), with the key scrubbed; headers are never
//! logged. Every request body is scrubbed of known secrets before it is sent
//! ([`crate::redact`]), and redirects are never followed: a 3xx is a classified error, so a
//! key never travels to a host the user did not configure.

use std::collections::VecDeque;
use std::error::Error as _;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};

use super::sse::{Mode, SseEvent, SseParser};
use super::{ChatEvent, ChatRequest, ErrorClass, EventStream, ProviderError, StopReason};
use crate::config::{ProviderSettings, Secret};

/// Error bodies longer than this are cut before classification (they are never needed whole).
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Builds the one HTTP client aiw uses for every remote provider: a connect timeout, aiw's user
/// agent, pooled connections kept alive between calls, no automatic retries (retries live
/// only in `router/retry.rs`; reqwest would otherwise replay requests on HTTP/2 NACKs) and no
/// redirects (a provider call carries its key; see [`redirect_error`]). A client that cannot
/// be built with these settings is an error, never a silent default client.
pub fn client(connect_timeout: Duration) -> Result<reqwest::Client, ProviderError> {
    builder(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| setup_error(&e))
}

/// The client for `aiw model pull`: like [`client`], but it follows up to 10 redirects
/// (model hosts redirect to their CDN). It never carries a key.
pub fn download_client(connect_timeout: Duration) -> Result<reqwest::Client, ProviderError> {
    builder(connect_timeout)
        .redirect(reqwest::redirect::Policy::limited(10))
        .build()
        .map_err(|e| setup_error(&e))
}

#[allow(
    clippy::disallowed_methods,
    reason = "the one place aiw builds an HTTP client"
)]
fn builder(connect_timeout: Duration) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder().no_proxy();
    for proxy in env_proxies(&|name| std::env::var(name).ok()) {
        builder = builder.proxy(proxy);
    }
    builder
        .connect_timeout(connect_timeout)
        .user_agent(concat!("aiw/", env!("CARGO_PKG_VERSION")))
        .pool_idle_timeout(Duration::from_secs(90))
        .tcp_keepalive(Duration::from_secs(30))
        .retry(reqwest::retry::never())
}

fn setup_error(e: &reqwest::Error) -> ProviderError {
    ProviderError::new(
        ErrorClass::Unavailable,
        format!(
            "cannot set up the HTTP client ({}); check the proxy variables HTTPS_PROXY, \
             HTTP_PROXY and ALL_PROXY",
            chain(e)
        ),
    )
}

/// The error for a 3xx answer to a provider call. aiw never follows it: the request carries
/// the API key, and a redirect would hand it to whatever host the `Location` names. Only the
/// target's origin is shown (no path or query, which may carry tokens).
pub fn redirect_error(
    provider: &str,
    status: u16,
    url: &str,
    headers: &HeaderMap,
) -> ProviderError {
    let target = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|loc| reqwest::Url::parse(url).ok()?.join(loc).ok())
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .unwrap_or_else(|| "an unreadable location".to_string());
    let mut err = ProviderError::new(
        ErrorClass::InvalidRequest,
        format!(
            "provider `{provider}` answered {status} redirect to {target} — aiw does not follow \
             redirects for provider calls, so keys cannot be forwarded; fix base_url"
        ),
    )
    .with_status(status);
    err.should_retry = Some(false);
    err
}

/// The proxies from the usual environment variables (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
/// either case), each bypassed for `NO_PROXY` and always for loopback: a local
/// OpenAI-compatible server (Ollama, llama.cpp server) must not be sent through a corporate
/// proxy, and neither must aiw's own test emulator.
fn env_proxies(env: &dyn Fn(&str) -> Option<String>) -> Vec<reqwest::Proxy> {
    let var = |name: &str| {
        env(name)
            .or_else(|| env(&name.to_lowercase()))
            .filter(|v| !v.trim().is_empty())
    };
    let bypass = format!(
        "localhost,127.0.0.1,::1,{}",
        var("NO_PROXY").unwrap_or_default()
    );
    let mut out = Vec::new();
    for name in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"] {
        let Some(url) = var(name) else { continue };
        let made = match name {
            "HTTPS_PROXY" => reqwest::Proxy::https(url.as_str()),
            "HTTP_PROXY" => reqwest::Proxy::http(url.as_str()),
            _ => reqwest::Proxy::all(url.as_str()),
        };
        match made {
            Ok(p) => out.push(p.no_proxy(reqwest::NoProxy::from_string(&bypass))),
            Err(e) => tracing::warn!("ignoring {name}: not a proxy URL ({e})"),
        }
    }
    out
}

#[cfg(test)]
mod proxy_tests {
    #[test]
    fn proxies_come_from_either_case_and_bad_ones_are_ignored() {
        let env = |n: &str| match n {
            "https_proxy" => Some("http://proxy.example:3128".to_string()),
            "HTTP_PROXY" => Some("not a url at all".to_string()),
            _ => None,
        };
        assert_eq!(super::env_proxies(&env).len(), 1);
        assert!(super::env_proxies(&|_| None).is_empty());
    }
}

/// A provider's error classifier: HTTP status, response headers and body to a classified
/// error. Mid-stream error events are classified with status 200.
pub type Classify = fn(u16, &HeaderMap, &str) -> ProviderError;

/// One call's context: who is being called and how to classify and scrub what comes back.
#[derive(Clone, Copy)]
pub struct Endpoint<'a> {
    /// The provider's config name, for logs.
    pub provider: &'a str,
    /// The key sent with the request, scrubbed out of every message.
    pub key: Option<&'a Secret>,
    /// The provider's classifier.
    pub classify: Classify,
}

/// The key of a provider that needs one, or an [`ErrorClass::Auth`] error naming the variables
/// to set. No request is sent without it.
pub fn require_key(settings: &ProviderSettings) -> Result<&Secret, ProviderError> {
    settings.api_key.as_ref().ok_or_else(|| {
        let vars: Vec<&str> = if settings.api_key_env.is_empty() {
            settings.kind.default_key_envs().to_vec()
        } else {
            settings.api_key_env.iter().map(String::as_str).collect()
        };
        let hint = if vars.is_empty() {
            "set `api_key_env` for it in the config file".to_string()
        } else {
            format!(
                "set {} (or point `api_key_env` in the config at the variable that holds it)",
                vars.join(" or ")
            )
        };
        ProviderError::new(
            ErrorClass::Auth,
            format!("no API key for provider `{}`: {hint}", settings.name),
        )
    })
}

/// A header value holding a key, marked sensitive so it never shows in debug output.
pub fn secret_header(prefix: &str, key: &Secret) -> Result<HeaderValue, ProviderError> {
    let mut v = HeaderValue::from_str(&format!("{prefix}{}", key.expose())).map_err(|_| {
        ProviderError::new(
            ErrorClass::Auth,
            "the API key contains characters that cannot be sent in an HTTP header (a newline or \
             control character?): check the environment variable that holds it",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

/// Sends a JSON POST (`body` already serialized, as each client's `request_body` makes it)
/// and returns the response once its headers are in, or the classified error: a transport
/// failure, a non-2xx status, or a 200 whose body is a JSON error instead of an event stream.
pub async fn send(
    http: &reqwest::Client,
    url: &str,
    mut headers: HeaderMap,
    body: Vec<u8>,
    ep: Endpoint<'_>,
) -> Result<reqwest::Response, ProviderError> {
    // Whatever the prompt was built from, no known secret leaves in it (JSON-escaped forms
    // are matched too, so the body stays valid JSON).
    let body = crate::redact::global().scrub_bytes(&body).into_owned();
    tracing::debug!(provider = ep.provider, url, body = %String::from_utf8_lossy(&body), "request");
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let resp = http
        .post(url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .map_err(|e| scrub(transport_error(&e), ep.key))?;
    let status = resp.status().as_u16();
    if resp.status().is_redirection() {
        return Err(redirect_error(ep.provider, status, url, resp.headers()));
    }
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("application/json"));
    if resp.status().is_success() && !is_json {
        return Ok(resp);
    }
    let headers = resp.headers().clone();
    let text = read_capped(resp).await;
    tracing::debug!(provider = ep.provider, status, body = %scrub_text(&text, ep.key), "error response");
    if resp_is_plain_success_json(status, &text) {
        return Err(ProviderError::new(
            ErrorClass::MalformedStream,
            "expected an event stream, got a JSON body (does this server support `stream: true`?)",
        )
        .with_status(status));
    }
    Err(scrub((ep.classify)(status, &headers, &text), ep.key))
}

/// A 2xx JSON body that carries no error object: the server ignored the streaming request.
fn resp_is_plain_success_json(status: u16, text: &str) -> bool {
    if !(200..300).contains(&status) {
        return false;
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => {
            let first = v.as_array().and_then(|a| a.first()).unwrap_or(&v);
            first.get("error").is_none()
                && first.get("type").and_then(|t| t.as_str()) != Some("error")
                && first.get("object").and_then(|t| t.as_str()) != Some("error")
        }
        Err(_) => true,
    }
}

async fn read_capped(mut resp: reqwest::Response) -> String {
    let mut buf = Vec::new();
    while let Ok(Some(chunk)) = resp.chunk().await {
        buf.extend_from_slice(&chunk);
        if buf.len() >= MAX_ERROR_BODY {
            buf.truncate(MAX_ERROR_BODY);
            break;
        }
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Removes the key from an error's message.
pub fn scrub(mut err: ProviderError, key: Option<&Secret>) -> ProviderError {
    err.message = scrub_text(&err.message, key);
    err
}

fn scrub_text(text: &str, key: Option<&Secret>) -> String {
    match key {
        Some(k) => k.scrub(text),
        None => text.to_string(),
    }
}

/// The error text of a reqwest error with its causes, e.g. `error sending request: client
/// error (Connect): tcp connect error: Connection refused (os error 111)`.
fn chain(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        let part = s.to_string();
        if !msg.contains(&part) {
            msg.push_str(": ");
            msg.push_str(&part);
        }
        src = s.source();
    }
    msg
}

/// Classifies a failure to get response headers: connect timeout, refused, DNS, reset.
pub fn transport_error(e: &reqwest::Error) -> ProviderError {
    // The shared client sets no total timeout (the router applies its own), so a timeout that
    // is not the connect timeout is the OS giving up on the connection.
    let class = if e.is_builder() {
        ErrorClass::Unavailable
    } else if e.is_timeout() && e.is_connect() {
        ErrorClass::ConnectTimeout
    } else {
        ErrorClass::Connection
    };
    let what = match class {
        ErrorClass::Unavailable => "cannot build the request (is `base_url` a valid URL?)",
        ErrorClass::ConnectTimeout => "no connection within the connect timeout",
        _ if e.is_connect() => "could not connect",
        _ => "the connection failed before the response arrived",
    };
    let detail = chain(e);
    let mut err = ProviderError::new(class, format!("{what}: {detail}"));
    // A name that does not resolve will not resolve 200 ms later either (offline, or a typo
    // in base_url): no quick retry, go on to the next model.
    if detail.contains("dns error") {
        err.should_retry = Some(false);
    }
    err
}

/// Classifies a failure while reading the body of a 200: the server closing the connection
/// before the body ended is a truncation, anything else (reset) a connection failure.
pub fn body_error(e: &reqwest::Error) -> ProviderError {
    let mut src = e.source();
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::UnexpectedEof {
                return ProviderError::new(
                    ErrorClass::Truncated,
                    format!(
                        "the connection closed before the end of the response: {}",
                        chain(e)
                    ),
                );
            }
            break;
        }
        src = s.source();
    }
    ProviderError::new(
        ErrorClass::Connection,
        format!("the connection broke mid-stream: {}", chain(e)),
    )
}

/// The class a status implies when the body says nothing more specific. 402 is billing:
/// [`billing_class`] decides between permission and quota from the message.
pub fn class_for_status(status: u16) -> ErrorClass {
    match status {
        401 => ErrorClass::Auth,
        402 | 403 => ErrorClass::Permission,
        404 => ErrorClass::NotFound,
        429 => ErrorClass::RateLimited,
        503 | 529 => ErrorClass::Overloaded,
        // 408/409 are retried by the official SDKs; a 2xx here is an error event mid-stream.
        200..=299 | 408 | 409 | 500..=599 => ErrorClass::ServerError,
        _ => ErrorClass::InvalidRequest,
    }
}

/// Billing errors (HTTP 402, Anthropic `billing_error`): running out of credit is
/// [`ErrorClass::QuotaExhausted`] (the fix is to add credit); other billing problems (no
/// payment method, card declined) are [`ErrorClass::Permission`], as the taxonomy documents.
/// Both are configuration problems that the router neither retries nor counts against health.
pub fn billing_class(message: &str) -> ErrorClass {
    let m = message.to_ascii_lowercase();
    if ["credit", "balance", "quota", "spend", "limit"]
        .iter()
        .any(|w| m.contains(w))
    {
        ErrorClass::QuotaExhausted
    } else {
        ErrorClass::Permission
    }
}

/// Fills in what the headers say: status, `retry-after-ms`/`retry-after` (on a 429 without
/// them, the rate-limit reset headers), `x-should-retry`, and `request-id`/`x-request-id`.
pub fn apply_headers(mut err: ProviderError, status: u16, headers: &HeaderMap) -> ProviderError {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if (100..600).contains(&status) && !(200..300).contains(&status) {
        err.status = Some(status);
    }
    if let Some(after) = super::error::parse_retry_after(h("retry-after-ms"), h("retry-after")) {
        err.retry_after = Some(after);
    } else if status == 429
        && let Some(reset) = super::error::parse_ratelimit_reset(h, std::time::SystemTime::now())
    {
        // No explicit hint: when the spent limit resets says the same.
        err.retry_after = Some(reset);
    }
    match h("x-should-retry").map(str::trim) {
        Some("true") => err.should_retry = Some(true),
        Some("false") => err.should_retry = Some(false),
        _ => {}
    }
    if let Some(id) = h("request-id").or_else(|| h("x-request-id")) {
        err.request_id = Some(id.to_string());
    }
    err
}

/// A short description of a body that is not the provider's JSON (a proxy's HTML page, plain
/// text): never the whole page.
pub fn non_json_summary(status: u16, headers: &HeaderMap, body: &str) -> String {
    let reason = reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let ct = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let trimmed = body.trim();
    if ct.contains("html") || trimmed.starts_with('<') {
        let lower = trimmed.to_ascii_lowercase();
        let title = lower
            .find("<title>")
            .and_then(|s| {
                let from = s + "<title>".len();
                lower[from..]
                    .find("</title>")
                    .map(|e| &trimmed[from..from + e])
            })
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|t| !t.is_empty());
        return match title {
            Some(t) => format!(
                "HTTP {status} {reason} with an HTML page (\"{}\"): probably a proxy or CDN in \
                 front of the API",
                shorten(&t, 100)
            ),
            None => format!(
                "HTTP {status} {reason} with an HTML page: probably a proxy or CDN in front of \
                 the API"
            ),
        };
    }
    if trimmed.is_empty() {
        return format!("HTTP {status} {reason} with an empty body");
    }
    let flat = trimmed.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("HTTP {status} {reason}: {}", shorten(&flat, 200))
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

/// A truncation error: the stream ended before the protocol's terminal event.
pub fn truncated(missing: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Truncated,
        format!("the stream ended without {missing}: the answer may be incomplete"),
    )
}

/// The error for an SSE line or event over the parser's limit: the stream is cut there.
pub fn event_too_large(limit: usize) -> ProviderError {
    let mut err = ProviderError::new(
        ErrorClass::MalformedStream,
        format!(
            "the stream sent a line or event larger than {}, which no model answer needs; aiw \
             stopped reading it (a broken or hostile server)",
            crate::config::format_size(limit)
        ),
    );
    err.should_retry = Some(false);
    err
}

/// A malformed-stream error for an event whose data is not the protocol's JSON.
pub fn malformed(data: &str, err: &serde_json::Error) -> ProviderError {
    ProviderError::new(
        ErrorClass::MalformedStream,
        format!("invalid JSON in the stream ({err}): {}", shorten(data, 120)),
    )
}

/// What one event meant for the stream.
#[derive(Debug, PartialEq)]
pub enum Progress {
    /// Keep reading.
    More,
    /// The protocol's terminal event: the answer is complete.
    Done(StopReason),
}

/// Maps one protocol's events to [`ChatEvent`]s. Implemented once per provider.
pub trait StreamMapper: Send + 'static {
    /// Handles one event, pushing chat events to `out`. An `Err` ends the stream with it.
    fn event(&mut self, ev: &SseEvent, out: &mut Vec<ChatEvent>)
    -> Result<Progress, ProviderError>;

    /// The body ended cleanly without a terminal event: either the protocol allows that (Gemini
    /// after `finishReason`), or the stream was truncated.
    fn eof(&mut self, out: &mut Vec<ChatEvent>) -> Result<StopReason, ProviderError>;
}

/// Splits a response body into events for a [`StreamMapper`]: SSE ([`SseParser`]) for most
/// providers, AWS event-stream frames for Bedrock. Events complete before a framing error are
/// pushed to `out` before the error is returned; nothing is read after an error.
pub trait Decoder: Send + 'static {
    /// Feeds the next chunk of the body.
    fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError>;

    /// The body ended: events still held, or the error an incomplete frame means.
    fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), ProviderError>;
}

impl Decoder for SseParser {
    fn push(&mut self, bytes: &[u8], out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        out.extend(SseParser::push(self, bytes));
        // An event past the size cap ends the stream (memory stays bounded).
        match self.too_large() {
            Some(limit) => Err(event_too_large(limit)),
            None => Ok(()),
        }
    }

    fn finish(&mut self, out: &mut Vec<SseEvent>) -> Result<(), ProviderError> {
        out.extend(SseParser::finish(self));
        Ok(())
    }
}

type Body = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

struct Pump<D, M> {
    body: Option<Body>,
    parser: D,
    mapper: M,
    queue: VecDeque<Result<ChatEvent, ProviderError>>,
    key: Option<Secret>,
    provider: String,
}

impl<D: Decoder, M: StreamMapper> Pump<D, M> {
    /// Runs the mapper over parsed events; ends the pump on a terminal event or an error.
    fn feed(&mut self, events: Vec<SseEvent>) {
        let mut out = Vec::new();
        for ev in events {
            tracing::debug!(provider = %self.provider, event = ?ev.event, data = %scrub_text(&ev.data, self.key.as_ref()), "stream event");
            let res = self.mapper.event(&ev, &mut out);
            self.queue.extend(out.drain(..).map(Ok));
            match res {
                Ok(Progress::More) => {}
                Ok(Progress::Done(stop)) => {
                    self.queue.push_back(Ok(ChatEvent::Done { stop }));
                    self.body = None;
                    return;
                }
                Err(e) => {
                    self.queue.push_back(Err(scrub(e, self.key.as_ref())));
                    self.body = None;
                    return;
                }
            }
        }
    }

    /// Decodes a chunk and maps its events; a framing error ends the stream after the events
    /// decoded before it.
    fn decode(&mut self, bytes: &[u8]) {
        let mut events = Vec::new();
        let res = self.parser.push(bytes, &mut events);
        self.fail_after(events, res);
    }

    fn fail_after(&mut self, events: Vec<SseEvent>, res: Result<(), ProviderError>) {
        self.feed(events);
        if let (Err(e), Some(_)) = (res, &self.body) {
            self.queue.push_back(Err(scrub(e, self.key.as_ref())));
            self.body = None;
        }
    }

    fn end_of_body(&mut self) {
        let mut rest = Vec::new();
        let res = self.parser.finish(&mut rest);
        self.fail_after(rest, res);
        if self.body.is_none() {
            return;
        }
        self.body = None;
        let mut out = Vec::new();
        let res = self.mapper.eof(&mut out);
        self.queue.extend(out.into_iter().map(Ok));
        self.queue.push_back(match res {
            Ok(stop) => Ok(ChatEvent::Done { stop }),
            Err(e) => Err(scrub(e, self.key.as_ref())),
        });
    }
}

/// Turns a 200 response into an [`EventStream`]: bytes → SSE events (in `mode`) → `mapper` →
/// chat events, ending with exactly one `Done` or one error.
pub fn event_stream<M: StreamMapper>(
    resp: reqwest::Response,
    mode: Mode,
    mapper: M,
    ep: Endpoint<'_>,
) -> EventStream {
    pump(
        Box::pin(resp.bytes_stream()),
        SseParser::with_mode(mode),
        mapper,
        ep,
    )
}

/// [`event_stream`] with another framing than SSE (Bedrock's event stream).
pub fn decoded_stream<D: Decoder, M: StreamMapper>(
    resp: reqwest::Response,
    decoder: D,
    mapper: M,
    ep: Endpoint<'_>,
) -> EventStream {
    pump(Box::pin(resp.bytes_stream()), decoder, mapper, ep)
}

fn pump<D: Decoder, M: StreamMapper>(
    body: Body,
    parser: D,
    mapper: M,
    ep: Endpoint<'_>,
) -> EventStream {
    let pump = Pump {
        body: Some(body),
        parser,
        mapper,
        queue: VecDeque::new(),
        key: ep.key.cloned(),
        provider: ep.provider.to_string(),
    };
    Box::pin(futures_util::stream::unfold(pump, |mut pump| async move {
        loop {
            if let Some(item) = pump.queue.pop_front() {
                return Some((item, pump));
            }
            let body = pump.body.as_mut()?;
            match body.next().await {
                Some(Ok(bytes)) => pump.decode(&bytes),
                Some(Err(e)) => {
                    pump.body = None;
                    pump.queue
                        .push_back(Err(scrub(body_error(&e), pump.key.as_ref())));
                }
                None => pump.end_of_body(),
            }
        }
    }))
}

/// Runs a recorded transcript through a mapper, delivered in `chunk`-byte pieces, and
/// collects what the stream yields (test support for the provider files).
#[cfg(test)]
pub(crate) async fn map_transcript<M: StreamMapper>(
    bytes: &[u8],
    chunk: usize,
    mode: Mode,
    mapper: M,
) -> Vec<Result<ChatEvent, ProviderError>> {
    map_decoded(bytes, chunk, SseParser::with_mode(mode), mapper).await
}

/// [`map_transcript`] through another [`Decoder`].
#[cfg(test)]
pub(crate) async fn map_decoded<D: Decoder, M: StreamMapper>(
    bytes: &[u8],
    chunk: usize,
    decoder: D,
    mapper: M,
) -> Vec<Result<ChatEvent, ProviderError>> {
    let pieces: Vec<reqwest::Result<Bytes>> = bytes
        .chunks(chunk.max(1))
        .map(|c| Ok(Bytes::copy_from_slice(c)))
        .collect();
    let ep = Endpoint {
        provider: "test",
        key: None,
        classify: |s, _, _| ProviderError::new(class_for_status(s), "unused"),
    };
    pump(
        Box::pin(futures_util::stream::iter(pieces)),
        decoder,
        mapper,
        ep,
    )
    .collect()
    .await
}

/// A request body as JSON, for tests that look inside it.
#[cfg(test)]
pub(crate) fn body_json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("request body is not JSON: {e}"))
}

/// A recorded transcript, `tests/fixtures/sse/PROVIDER/NAME`, through a fresh mapper `M` in
/// `chunk`-byte pieces.
#[cfg(test)]
pub(crate) async fn replay<M: StreamMapper + Default>(
    path: &str,
    chunk: usize,
    mode: Mode,
) -> Vec<Result<ChatEvent, ProviderError>> {
    map_transcript(&fixture(path), chunk, mode, M::default()).await
}

/// The events of a transcript that streams without an error: the same whether it arrives a
/// byte at a time, in `chunk`-byte pieces or whole (a split that differs is named).
#[cfg(test)]
pub(crate) async fn replay_ok<M: StreamMapper + Default>(
    path: &str,
    chunk: usize,
    mode: Mode,
) -> Vec<ChatEvent> {
    let mut first: Option<Vec<ChatEvent>> = None;
    for pieces in [1, chunk, usize::MAX] {
        let got = replay::<M>(path, pieces, mode)
            .await
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .unwrap_or_else(|e| panic!("{path} in {pieces}-byte pieces: {e}"));
        match &first {
            Some(f) => assert_eq!(&got, f, "{path} in {pieces}-byte pieces"),
            None => first = Some(got),
        }
    }
    first.unwrap_or_default()
}

/// Reads a fixture under `tests/fixtures/sse/`.
#[cfg(test)]
pub(crate) fn fixture(path: &str) -> Vec<u8> {
    let full = format!("{}/tests/fixtures/sse/{path}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&full).unwrap_or_else(|e| panic!("fixture {full}: {e}"))
}

/// The smallest real generation: one token of an answer to "ping". Used by health probes.
pub fn probe_request() -> ChatRequest {
    ChatRequest {
        max_tokens: Some(1),
        ..ChatRequest::user("ping")
    }
}

/// Reads a stream to its end: `Ok` once the terminal event arrives, the stream's error
/// otherwise.
pub async fn drain(mut stream: EventStream) -> Result<(), ProviderError> {
    while let Some(ev) = stream.next().await {
        if let ChatEvent::Done { .. } = ev? {
            return Ok(());
        }
    }
    Err(truncated("a terminal event"))
}

/// A sampling parameter as JSON, written the way the user wrote it (`0.2`, not the f32
/// widening `0.20000000298023224`).
pub fn float_json(x: f32) -> serde_json::Value {
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// Parses JSON, mapping failure to [`ErrorClass::MalformedStream`].
pub fn parse_json(data: &str) -> Result<serde_json::Value, ProviderError> {
    serde_json::from_str(data).map_err(|e| malformed(data, &e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn headers_fill_retry_hints_and_request_id() {
        let h = headers(&[
            ("retry-after-ms", "1500"),
            ("retry-after", "20"),
            ("x-should-retry", "false"),
            ("x-request-id", "req_1"),
        ]);
        let e = apply_headers(ProviderError::new(ErrorClass::RateLimited, "x"), 429, &h);
        assert_eq!(e.status, Some(429));
        assert_eq!(e.retry_after, Some(Duration::from_millis(1500)));
        assert_eq!(e.should_retry, Some(false));
        assert_eq!(e.request_id.as_deref(), Some("req_1"));
        let h = headers(&[("request-id", "req_a"), ("x-request-id", "req_b")]);
        let e = apply_headers(ProviderError::new(ErrorClass::RateLimited, "x"), 200, &h);
        assert_eq!(e.request_id.as_deref(), Some("req_a"));
        assert_eq!(
            e.status, None,
            "a mid-stream error has no HTTP error status"
        );
    }

    #[test]
    fn html_bodies_are_summarised_not_dumped() {
        let page = "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center>\n".repeat(20);
        let h = headers(&[("content-type", "text/html")]);
        let s = non_json_summary(502, &h, &page);
        assert!(s.contains("502 Bad Gateway"), "{s}");
        assert!(!s.contains("<center>"), "{s}");
        assert!(s.len() < 200, "{s}");
        let s = non_json_summary(500, &HeaderMap::new(), "");
        assert!(s.contains("empty body"), "{s}");
        let s = non_json_summary(500, &HeaderMap::new(), &"x".repeat(1000));
        assert!(s.chars().count() < 240, "{s}");
    }

    #[test]
    fn status_fallbacks() {
        assert_eq!(class_for_status(401), ErrorClass::Auth);
        assert_eq!(class_for_status(403), ErrorClass::Permission);
        assert_eq!(class_for_status(404), ErrorClass::NotFound);
        assert_eq!(class_for_status(413), ErrorClass::InvalidRequest);
        assert_eq!(class_for_status(422), ErrorClass::InvalidRequest);
        assert_eq!(class_for_status(429), ErrorClass::RateLimited);
        assert_eq!(class_for_status(529), ErrorClass::Overloaded);
        assert_eq!(class_for_status(503), ErrorClass::Overloaded);
        assert_eq!(class_for_status(502), ErrorClass::ServerError);
        assert_eq!(class_for_status(504), ErrorClass::ServerError);
        assert_eq!(class_for_status(200), ErrorClass::ServerError);
        assert_eq!(
            billing_class("Your credit balance is too low"),
            ErrorClass::QuotaExhausted
        );
        assert_eq!(
            billing_class("payment method declined"),
            ErrorClass::Permission
        );
    }

    #[test]
    fn missing_key_names_the_variables() {
        let settings = ProviderSettings {
            name: "gemini".into(),
            kind: crate::config::ProviderKind::Gemini,
            base_url: "http://127.0.0.1:1".into(),
            api_key_env: vec![],
            api_key: None,
            status_page: None,
            context_window: None,
            local: None,
            cloud: None,
        };
        let e = require_key(&settings).unwrap_err();
        assert_eq!(e.class, ErrorClass::Auth);
        assert!(
            e.message.contains("GEMINI_API_KEY or GOOGLE_API_KEY"),
            "{}",
            e.message
        );
    }

    #[test]
    fn scrub_removes_the_key_from_messages() {
        let key = Secret::new("sk-live-abcdef123456");
        let e = ProviderError::new(
            ErrorClass::Auth,
            "Incorrect API key provided: sk-live-abcdef123456.",
        );
        assert_eq!(
            scrub(e, Some(&key)).message,
            "Incorrect API key provided: [redacted]."
        );
    }

    #[test]
    fn secret_header_is_sensitive_and_rejects_newlines() {
        let v = secret_header("Bearer ", &Secret::new("sk-abc")).unwrap();
        assert!(v.is_sensitive());
        assert_eq!(
            secret_header("", &Secret::new("sk\nabc"))
                .unwrap_err()
                .class,
            ErrorClass::Auth
        );
    }
}
