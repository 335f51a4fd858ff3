//! The server: accept loop, one task per connection, routing (provider endpoints, the
//! Bedrock and Vertex AI routes and Vertex's token endpoint, model lists, status pages, the
//! `/_emulator/` control API), request recording, the cloud hosts' authentication checks,
//! and the execution of script actions including the socket-level faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::http::{self, Conn, ReadError, Request};
use crate::protocol::plan::{self, Plan};
use crate::protocol::{self, Ctx, EventKind, HttpError, Usage, bedrock, vertex};
use crate::record::{self, Block, Host, Protocol, RecordedRequest, Turn};
use crate::script::{
    Action, ErrorReply, FaultAction, FaultPoint, Reply, Script, ScriptState, ToolValidation,
};

/// State shared by the handle and all connection tasks.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) scripts: Mutex<HashMap<String, ScriptState>>,
    pub(crate) requests: Mutex<Vec<RecordedRequest>>,
    pub(crate) status_pages: Mutex<HashMap<String, Value>>,
    pub(crate) status_hits: Mutex<HashMap<String, usize>>,
    /// Vertex access tokens issued by `POST /token`.
    pub(crate) tokens: Mutex<vertex::Tokens>,
    /// Pull request comments posted to the fake GitHub API.
    pub(crate) github: Mutex<crate::github::Comments>,
    /// Merge request notes and calls of the fake GitLab API.
    pub(crate) gitlab: Mutex<crate::gitlab::Gitlab>,
    pub(crate) started: Instant,
    /// Generation requests being answered now, and the most there ever were at once.
    pub(crate) in_flight: Mutex<(usize, usize)>,
}

/// Counts a generation request as in flight until dropped.
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let mut g = lock(&shared.in_flight);
        g.0 += 1;
        g.1 = g.1.max(g.0);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        let mut g = lock(&self.0.in_flight);
        g.0 = g.0.saturating_sub(1);
    }
}

impl Shared {
    pub(crate) fn new() -> Shared {
        Shared {
            scripts: Mutex::new(HashMap::new()),
            requests: Mutex::new(Vec::new()),
            status_pages: Mutex::new(HashMap::new()),
            status_hits: Mutex::new(HashMap::new()),
            tokens: Mutex::new(vertex::Tokens::default()),
            github: Mutex::new(crate::github::Comments::default()),
            gitlab: Mutex::new(crate::gitlab::Gitlab::default()),
            started: Instant::now(),
            in_flight: Mutex::new((0, 0)),
        }
    }

    pub(crate) fn set_script(&self, model: &str, script: Script) {
        lock(&self.scripts).insert(model.to_owned(), ScriptState::new(script));
    }
}

/// Locks `m`, ignoring poisoning (the data stays consistent: every critical section is
/// a single insert/read).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves once the stop flag is set or the sender is gone.
pub(crate) async fn stopped(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            return;
        }
    }
}

/// Accepts connections until stopped.
pub(crate) async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
) {
    let for_tasks = stop.clone();
    loop {
        tokio::select! {
            () = stopped(&mut stop) => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(connection(stream, shared.clone(), for_tasks.clone()));
                }
                // E.g. out of file descriptors: back off briefly instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
        }
    }
}

/// Whether to keep the connection open after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    KeepAlive,
    Close,
}

impl Flow {
    fn from_keep(keep: bool) -> Flow {
        if keep { Flow::KeepAlive } else { Flow::Close }
    }
}

async fn connection(stream: TcpStream, shared: Arc<Shared>, mut stop: watch::Receiver<bool>) {
    // Best effort: pacing is still correct with Nagle, only less prompt.
    let _ = stream.set_nodelay(true);
    let mut conn = Conn::new(stream);
    loop {
        let req = tokio::select! {
            () = stopped(&mut stop) => return,
            r = conn.read_request() => r,
        };
        let req = match req {
            Ok(r) => r,
            Err(ReadError::Closed | ReadError::Io) => return,
            Err(ReadError::Bad(status, msg)) => {
                let body = json!({ "error": msg }).to_string();
                let _ = conn
                    .write_all(&http::full_response(
                        status,
                        &json_headers(),
                        body.as_bytes(),
                        true,
                    ))
                    .await;
                return;
            }
        };
        let flow = tokio::select! {
            () = stopped(&mut stop) => return,
            f = handle(&mut conn, req, &shared) => f,
        };
        if flow == Flow::Close {
            return;
        }
    }
}

fn json_headers() -> Vec<(String, String)> {
    vec![("content-type".into(), "application/json".into())]
}

async fn send_json(conn: &mut Conn, status: u16, body: &str, keep: bool) -> Flow {
    let bytes = http::full_response(status, &json_headers(), body.as_bytes(), !keep);
    if conn.write_all(&bytes).await.is_err() {
        return Flow::Close;
    }
    Flow::from_keep(keep)
}

async fn handle(conn: &mut Conn, req: Request, shared: &Shared) -> Flow {
    let keep = req.keep_alive();
    let path = req.path.clone();
    if let Some(rest) = path.strip_prefix("/_emulator/") {
        return control(conn, &req, rest, shared, keep).await;
    }
    if crate::github::is_github(&path) {
        let (status, body) = crate::github::handle(
            &req.method,
            &path,
            &req.query,
            req.header("authorization"),
            &req.body,
            &mut lock(&shared.github),
        );
        return send_json(conn, status, &body, keep).await;
    }
    if crate::gitlab::is_gitlab(&path) {
        let header = |name: &str| req.header(name).map(str::to_string);
        let a = crate::gitlab::handle(
            &req.method,
            &path,
            &req.query,
            &header,
            &req.body,
            &mut lock(&shared.gitlab),
        );
        let mut headers = json_headers();
        headers.extend(a.location.map(|l| ("location".to_string(), l)));
        let bytes = http::full_response(a.status, &headers, a.body.as_bytes(), !keep);
        if conn.write_all(&bytes).await.is_err() {
            return Flow::Close;
        }
        return Flow::from_keep(keep);
    }
    match (req.method.as_str(), path.as_str()) {
        ("POST", "/v1/messages") => {
            generate(conn, req, Protocol::Anthropic, Host::Direct, None, shared).await
        }
        ("POST", "/v1/chat/completions" | "/chat/completions") => {
            generate(conn, req, Protocol::OpenAi, Host::Direct, None, shared).await
        }
        ("POST", "/token") => {
            let (status, body) = vertex::token_exchange(&req, &mut lock(&shared.tokens));
            send_json(conn, status, &body, keep).await
        }
        ("POST", p) if bedrock::call(p).is_some() => {
            let call = bedrock::call(p);
            generate(conn, req, Protocol::Anthropic, Host::Bedrock, call, shared).await
        }
        ("POST", p) if vertex::call(p).is_some() => {
            let (protocol, model, stream) =
                vertex::call(p).unwrap_or((Protocol::Gemini, String::new(), false));
            generate(
                conn,
                req,
                protocol,
                Host::Vertex,
                Some((model, stream)),
                shared,
            )
            .await
        }
        ("GET", "/v1/models" | "/models") => {
            let protocol = models_protocol(&req);
            list_models(conn, req, protocol, None, shared).await
        }
        ("GET", "/v1beta/models") => list_models(conn, req, Protocol::Gemini, None, shared).await,
        ("POST", p) if gemini_call(p).is_some() => {
            let call = gemini_call(p);
            generate(conn, req, Protocol::Gemini, Host::Direct, call, shared).await
        }
        ("GET", p) if p.starts_with("/v1beta/models/") => {
            let id = http::percent_decode(&p["/v1beta/models/".len()..]);
            list_models(conn, req, Protocol::Gemini, Some(id), shared).await
        }
        ("GET", p) if p.starts_with("/v1/models/") => {
            let id = http::percent_decode(&p["/v1/models/".len()..]);
            let protocol = models_protocol(&req);
            list_models(conn, req, protocol, Some(id), shared).await
        }
        ("GET", p) if p.starts_with("/status/") => {
            status_page(conn, &p["/status/".len()..], shared, keep).await
        }
        _ => {
            let body =
                json!({ "error": { "message": format!("no route for {} {}", req.method, path) } })
                    .to_string();
            send_json(conn, 404, &body, keep).await
        }
    }
}

/// `GET /v1/models` is Anthropic's when `anthropic-version` is present, else OpenAI's.
fn models_protocol(req: &Request) -> Protocol {
    if req.header("anthropic-version").is_some() {
        Protocol::Anthropic
    } else {
        Protocol::OpenAi
    }
}

/// `/v1beta/models/{model}:generateContent` → `(model, false)`,
/// `…:streamGenerateContent` → `(model, true)`. Also accepts `/v1/`.
fn gemini_call(path: &str) -> Option<(String, bool)> {
    let rest = path
        .strip_prefix("/v1beta/models/")
        .or_else(|| path.strip_prefix("/v1/models/"))?;
    let (model, method) = rest.rsplit_once(':')?;
    let stream = match method {
        "generateContent" => false,
        "streamGenerateContent" => true,
        _ => return None,
    };
    let model = http::percent_decode(model);
    (!model.is_empty()).then_some((model, stream))
}

/// The API key the request presents, the way each provider's SDK sends it.
fn presented_key(protocol: Protocol, req: &Request) -> Option<String> {
    let bearer = || {
        req.header("authorization").and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_owned())
        })
    };
    match protocol {
        Protocol::Anthropic => req.header("x-api-key").map(str::to_owned).or_else(bearer),
        Protocol::OpenAi => bearer(),
        Protocol::Gemini => req
            .header("x-goog-api-key")
            .map(str::to_owned)
            .or_else(|| http::query_param(&req.query, "key")),
    }
}

fn record(
    req: Request,
    protocol: Protocol,
    host: Host,
    json: Option<Value>,
    model: &str,
    stream: bool,
    action: Option<Action>,
) -> RecordedRequest {
    RecordedRequest {
        protocol,
        host,
        method: req.method,
        path: req.path,
        query: req.query,
        headers: req.headers,
        body: req.body,
        json,
        model: model.to_owned(),
        stream,
        at: Instant::now(),
        action,
    }
}

/// Whether the cloud host accepts the request's credentials and body (before any script):
/// Bedrock checks the SigV4 signature and its body rules, Vertex the Bearer token and, for
/// Claude, `anthropic_version`.
fn host_rejection(
    host: Host,
    protocol: Protocol,
    req: &Request,
    json: Option<&Value>,
    ctx: &Ctx,
    shared: &Shared,
) -> Option<HttpError> {
    match host {
        Host::Direct => None,
        Host::Bedrock => bedrock::verify(req, ctx)
            .err()
            .or_else(|| json.and_then(|j| bedrock::check_body(j, ctx))),
        Host::Vertex => vertex::check_bearer(req, &lock(&shared.tokens))
            .err()
            .or_else(|| {
                json.filter(|_| protocol == Protocol::Anthropic)
                    .and_then(vertex::check_anthropic_body)
            }),
    }
}

async fn generate(
    conn: &mut Conn,
    req: Request,
    protocol: Protocol,
    host: Host,
    from_path: Option<(String, bool)>,
    shared: &Shared,
) -> Flow {
    let _in_flight = InFlight::enter(shared);
    let keep = req.keep_alive();
    let json: Option<Value> = serde_json::from_slice(&req.body).ok();
    let (model, stream) = match from_path {
        // Claude on Vertex streams from `streamRawPredict` with `"stream": true` in the body.
        Some((m, s)) if host == Host::Vertex && protocol == Protocol::Anthropic => (
            m,
            s && json
                .as_ref()
                .and_then(|j| j.get("stream"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
        Some(call) => call,
        None => (
            json.as_ref()
                .and_then(|j| j.get("model"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            json.as_ref()
                .and_then(|j| j.get("stream"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
        ),
    };
    let turns: Vec<Turn> = json
        .as_ref()
        .map(|j| record::turns(protocol, j))
        .unwrap_or_default();
    let words = json
        .as_ref()
        .map_or(0, |j| record::count_words(protocol, j, &turns));
    let mut ctx = Ctx::new(protocol, &model, words);
    ctx.host = host;
    ctx.include_usage = json
        .as_ref()
        .and_then(|j| j.pointer("/stream_options/include_usage"))
        .and_then(Value::as_bool)
        .unwrap_or(false);
    ctx.sse = protocol != Protocol::Gemini
        || http::query_param(&req.query, "alt").as_deref() == Some("sse");

    let rejection =
        if let Some(e) = host_rejection(host, protocol, &req, json.as_ref(), &ctx, shared) {
            Some(e)
        } else if host == Host::Direct
            && protocol == Protocol::Anthropic
            && req.header("anthropic-version").is_none()
        {
            Some(protocol::bad_request(
                protocol,
                &ctx,
                "anthropic-version: header is required",
            ))
        } else if json.as_ref().is_none_or(|j| !j.is_object()) {
            Some(protocol::bad_request(
                protocol,
                &ctx,
                "The request body is not valid JSON.",
            ))
        } else if model.is_empty() {
            Some(protocol::bad_request(
                protocol,
                &ctx,
                "model: Field required",
            ))
        } else {
            None
        };
    let (rejection, action) = if let Some(r) = rejection {
        (Some(r), None)
    } else {
        let mut scripts = lock(&shared.scripts);
        let st = scripts.get_mut(&model);
        let validation = st
            .as_ref()
            .map_or(ToolValidation::Provider, |st| st.script.tool_validation);
        let invalid = || match validation {
            ToolValidation::Provider => protocol::validate_tools(protocol, &ctx, &turns),
            ToolValidation::Off => None,
        };
        match st {
            Some(st)
                if host == Host::Direct
                    && st.script.require_key.as_ref().is_some_and(|k| {
                        presented_key(protocol, &req).as_deref() != Some(k.as_str())
                    }) =>
            {
                (Some(protocol::auth_error(protocol, &ctx)), None)
            }
            st => {
                if let Some(e) = invalid() {
                    (Some(e), None)
                } else {
                    let prompt = turns
                        .iter()
                        .rev()
                        .find(|t| t.role == record::TurnRole::User)
                        .map(|t| Block::texts(&t.blocks))
                        .unwrap_or_default();
                    (
                        None,
                        st.and_then(|st| st.action_for(Instant::now(), &prompt)),
                    )
                }
            }
        }
    };

    let rec = record(req, protocol, host, json, &model, stream, action.clone());
    lock(&shared.requests).push(rec);

    if let Some(e) = rejection {
        return send_error(conn, protocol, &ctx, e, None, keep).await;
    }
    let action = action.unwrap_or_else(|| Action::reply(&format!("Hello from {model}.")));
    match action {
        Action::Reply(r) => {
            let text = plan::echo_text(&r, &turns).unwrap_or_else(|| r.text.clone());
            let plan = Plan::new(&r, protocol, &model, text);
            send_reply(conn, protocol, &ctx, &r, &plan, stream, keep).await
        }
        Action::Error(er) => {
            tokio::time::sleep(Duration::from_millis(er.delay_ms)).await;
            let e = protocol::error_for(protocol, er.kind, &ctx, &er);
            send_error(conn, protocol, &ctx, e, Some(&er), keep).await
        }
        Action::Reset => {
            conn.arm_reset();
            Flow::Close
        }
        Action::Hang => {
            conn.wait_for_client_close().await;
            Flow::Close
        }
    }
}

async fn send_error(
    conn: &mut Conn,
    protocol: Protocol,
    ctx: &Ctx,
    e: HttpError,
    er: Option<&ErrorReply>,
    keep: bool,
) -> Flow {
    let mut headers = protocol::base_headers(protocol, ctx);
    headers.push(("content-type".into(), e.content_type.into()));
    for h in &e.headers {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(&h.0)) {
            headers.push(h.clone());
        }
    }
    let mut status = e.status;
    if let Some(er) = er {
        if let Some(v) = &er.retry_after {
            headers.push(("retry-after".into(), v.clone()));
        }
        if let Some(v) = &er.retry_after_ms {
            headers.push(("retry-after-ms".into(), v.clone()));
        }
        if let Some(v) = er.should_retry {
            headers.push(("x-should-retry".into(), v.to_string()));
        }
        headers.extend(er.headers.iter().cloned());
        if let Some(s) = er.status_override {
            status = s;
        }
    }
    let bytes = http::full_response(status, &headers, &e.body, !keep);
    if conn.write_all(&bytes).await.is_err() {
        return Flow::Close;
    }
    Flow::from_keep(keep)
}

/// Where in the event list a fault fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FaultAt {
    /// Before event `i` (`i == events.len()`: after the whole stream).
    Before(usize),
    /// Inside event `event`, after its first `bytes` bytes.
    Inside { event: usize, bytes: usize },
}

/// Where `point` fires in `events`; `None` when the reply has no such tool call.
fn fault_position(
    protocol: Protocol,
    events: &[protocol::Event],
    point: FaultPoint,
    plan: &Plan,
) -> Option<FaultAt> {
    match point {
        FaultPoint::InEventAfterText(n) => {
            match fault_position(protocol, events, FaultPoint::AfterText(n), plan)? {
                FaultAt::Before(i) if i < events.len() => Some(FaultAt::Inside {
                    event: i,
                    bytes: events[i].bytes.len() / 2,
                }),
                other => Some(other),
            }
        }
        FaultPoint::AfterText(n) => {
            let mut seen = 0;
            for (i, e) in events.iter().enumerate() {
                match e.kind {
                    EventKind::Text if seen == n => return Some(FaultAt::Before(i)),
                    EventKind::Text => seen += 1,
                    EventKind::Closing => return Some(FaultAt::Before(i)),
                    _ => {}
                }
            }
            Some(FaultAt::Before(events.len()))
        }
        FaultPoint::InToolArgs { .. } => {
            let (call, chars) = plan.tool_cut?;
            for (i, e) in events.iter().enumerate() {
                if let Some(&(_, off)) = e.arg_offsets.iter().find(|(c, _)| *c == call) {
                    let args = &plan.calls[call].args;
                    let bytes =
                        off + plan::arg_prefix_bytes(args, chars, protocol::args_escaped(protocol));
                    return Some(FaultAt::Inside { event: i, bytes });
                }
                if chars > 0 && e.kind == (EventKind::ToolArgs { call, end: chars }) {
                    return Some(FaultAt::Before(i + 1));
                }
            }
            // `chars == 0`: right after the call's start.
            events
                .iter()
                .rposition(|e| e.kind == EventKind::ToolStart { call })
                .map(|i| FaultAt::Before(i + 1))
        }
    }
}

async fn send_reply(
    conn: &mut Conn,
    protocol: Protocol,
    ctx: &Ctx,
    r: &Reply,
    plan: &Plan,
    stream: bool,
    keep: bool,
) -> Flow {
    let chunks = plan.content_chunks(protocol);
    let usage = Usage {
        input: r.input_tokens.unwrap_or(ctx.input_tokens),
        output: r.output_tokens.unwrap_or(chunks as u64),
    };
    if !stream {
        return send_full_reply(conn, protocol, ctx, r, plan, chunks, usage, keep).await;
    }
    let events = protocol::stream_events(protocol, ctx, plan, usage);
    let close = !keep || r.fault.is_some();
    let mut headers = protocol::base_headers(protocol, ctx);
    headers.push((
        "content-type".into(),
        protocol::stream_content_type(protocol, ctx).into(),
    ));
    headers.push(("cache-control".into(), "no-cache".into()));
    if conn
        .write_all(&http::chunked_head(200, &headers, close))
        .await
        .is_err()
    {
        return Flow::Close;
    }
    let fault = r.fault.as_ref().and_then(|f| {
        Some((
            f.action(),
            fault_position(protocol, &events, f.point(), plan)?,
        ))
    });
    let mut paced_sent = 0usize;
    for i in 0..=events.len() {
        if let Some((action, FaultAt::Before(at))) = fault
            && at == i
        {
            if action == FaultAction::Malformed {
                if conn
                    .write_all(&http::chunk(&protocol::malformed(protocol, ctx)))
                    .await
                    .is_err()
                {
                    return Flow::Close;
                }
            } else {
                return stream_fault(conn, protocol, ctx, action).await;
            }
        }
        let Some(ev) = events.get(i) else { break };
        if ev.kind.paced() {
            let ms = if paced_sent == 0 {
                r.first_token_delay_ms
            } else {
                r.interval_ms
            };
            tokio::time::sleep(Duration::from_millis(ms)).await;
            paced_sent += 1;
        }
        if let Some((action, FaultAt::Inside { event, bytes })) = fault
            && event == i
        {
            let part = &ev.bytes[..bytes.min(ev.bytes.len())];
            if conn.write_all(&http::chunk(part)).await.is_err() {
                return Flow::Close;
            }
            return stream_fault(conn, protocol, ctx, action).await;
        }
        if conn.write_all(&http::chunk(&ev.bytes)).await.is_err() {
            return Flow::Close;
        }
    }
    if conn.write_all(http::LAST_CHUNK).await.is_err() || close {
        return Flow::Close;
    }
    Flow::KeepAlive
}

async fn stream_fault(conn: &mut Conn, protocol: Protocol, ctx: &Ctx, action: FaultAction) -> Flow {
    match action {
        FaultAction::Stall => conn.wait_for_client_close().await,
        FaultAction::Cut { clean_eof } => {
            if clean_eof {
                let _ = conn.write_all(http::LAST_CHUNK).await;
            }
        }
        FaultAction::Malformed => {}
        FaultAction::Error(kind) => {
            let mut bytes = http::chunk(&protocol::stream_error(protocol, kind, ctx));
            bytes.extend_from_slice(http::LAST_CHUNK);
            let _ = conn.write_all(&bytes).await;
        }
        FaultAction::Reset => conn.arm_reset(),
    }
    Flow::Close
}

#[expect(
    clippy::too_many_arguments,
    reason = "one call site; the reply's whole context"
)]
async fn send_full_reply(
    conn: &mut Conn,
    protocol: Protocol,
    ctx: &Ctx,
    r: &Reply,
    plan: &Plan,
    chunks: usize,
    usage: Usage,
    keep: bool,
) -> Flow {
    let fault = r.fault.as_ref().map(|f| (f.action(), f.point()));
    if let Some((FaultAction::Error(kind), _)) = fault {
        let er = ErrorReply::new(kind);
        let e = protocol::error_for(protocol, kind, ctx, &er);
        return send_error(conn, protocol, ctx, e, Some(&er), keep).await;
    }
    let delay = r.first_token_delay_ms + r.interval_ms * (chunks.saturating_sub(1) as u64);
    tokio::time::sleep(Duration::from_millis(delay)).await;
    let full = protocol::full_body(protocol, ctx, plan, usage);
    let mut body = full.text.into_bytes();
    // Where a cut/reset ends the body: half of it, or inside the tool call's arguments.
    let cut = match fault.map(|(_, p)| p) {
        Some(FaultPoint::InToolArgs { .. }) => plan.tool_cut.and_then(|(call, chars)| {
            let off = full.arg_offsets.get(call)?;
            let escaped = protocol::args_escaped(protocol);
            // OpenAI: past the opening quote of the arguments string.
            let open = usize::from(escaped);
            Some(off + open + plan::arg_prefix_bytes(&plan.calls[call].args, chars, escaped))
        }),
        _ => Some(body.len() / 2),
    };
    if let Some((FaultAction::Malformed, _)) = fault {
        body.truncate(body.len() / 2);
    }
    let mut headers = protocol::base_headers(protocol, ctx);
    headers.push((
        "content-type".into(),
        protocol::json_content_type(protocol).into(),
    ));
    let close = !keep || r.fault.is_some();
    let bytes = http::full_response(200, &headers, &body, close);
    let head_len = bytes.len() - body.len();
    let (to_send, then) = match (fault, cut) {
        (None | Some((FaultAction::Malformed, _)), _) | (Some(_), None) => (&bytes[..], None),
        (Some((FaultAction::Stall, _)), _) => (&bytes[..head_len], Some(FaultAction::Stall)),
        (Some((action, _)), Some(cut)) => (&bytes[..head_len + cut.min(body.len())], Some(action)),
    };
    if conn.write_all(to_send).await.is_err() {
        return Flow::Close;
    }
    match then {
        None => Flow::from_keep(!close),
        Some(FaultAction::Stall) => {
            conn.wait_for_client_close().await;
            Flow::Close
        }
        Some(FaultAction::Reset) => {
            conn.arm_reset();
            Flow::Close
        }
        Some(_) => Flow::Close,
    }
}

async fn list_models(
    conn: &mut Conn,
    req: Request,
    protocol: Protocol,
    one: Option<String>,
    shared: &Shared,
) -> Flow {
    let keep = req.keep_alive();
    let key = presented_key(protocol, &req);
    let (visible, locked) = {
        let scripts = lock(&shared.scripts);
        let mut visible = Vec::new();
        let mut locked = false;
        for (m, st) in scripts.iter() {
            if one.as_ref().is_some_and(|o| o != m) {
                continue;
            }
            match &st.script.require_key {
                Some(k) if key.as_deref() != Some(k.as_str()) => locked = true,
                _ => visible.push(m.clone()),
            }
        }
        visible.sort();
        (visible, locked)
    };
    let model = one.clone().unwrap_or_default();
    let ctx = Ctx::new(protocol, &model, 0);
    lock(&shared.requests).push(record(
        req,
        protocol,
        Host::Direct,
        None,
        &model,
        false,
        None,
    ));
    if visible.is_empty() && locked {
        return send_error(
            conn,
            protocol,
            &ctx,
            protocol::auth_error(protocol, &ctx),
            None,
            keep,
        )
        .await;
    }
    let body = match &one {
        Some(m) => protocol::model_info(protocol, m),
        None => protocol::models_list(protocol, &visible),
    };
    let mut headers = protocol::base_headers(protocol, &ctx);
    headers.push((
        "content-type".into(),
        protocol::json_content_type(protocol).into(),
    ));
    if conn
        .write_all(&http::full_response(200, &headers, body.as_bytes(), !keep))
        .await
        .is_err()
    {
        return Flow::Close;
    }
    Flow::from_keep(keep)
}

/// `GET /status/{name}/api/v2/summary.json` (and `status.json`, derived from it).
async fn status_page(conn: &mut Conn, rest: &str, shared: &Shared, keep: bool) -> Flow {
    let Some((name, file)) = rest.split_once("/api/v2/") else {
        return send_json(conn, 404, r#"{"error":"not found"}"#, keep).await;
    };
    *lock(&shared.status_hits)
        .entry(name.to_owned())
        .or_insert(0) += 1;
    let page = lock(&shared.status_pages).get(name).cloned();
    let body = match (page, file) {
        (Some(p), "summary.json") => p,
        (Some(p), "status.json") => json!({ "page": p.get("page"), "status": p.get("status") }),
        _ => return send_json(conn, 404, r#"{"error":"not found"}"#, keep).await,
    };
    send_json(conn, 200, &body.to_string(), keep).await
}

/// The JSON form of a recorded request used by `GET /_emulator/requests`.
pub(crate) fn request_json(r: &RecordedRequest, started: Instant) -> Value {
    json!({
        "protocol": r.protocol,
        "host": r.host,
        "method": r.method,
        "path": r.path,
        "query": r.query,
        "headers": r.headers,
        "body": r.body_text(),
        "json": r.json,
        "turns": r.turns(),
        "model": r.model,
        "stream": r.stream,
        "at_ms": r.at.saturating_duration_since(started).as_secs_f64() * 1000.0,
        "action": r.action,
    })
}

async fn control(conn: &mut Conn, req: &Request, rest: &str, shared: &Shared, keep: bool) -> Flow {
    match (req.method.as_str(), rest) {
        ("POST", "scripts") => match serde_json::from_slice::<HashMap<String, Script>>(&req.body) {
            Ok(scripts) => {
                let mut models: Vec<String> = scripts.keys().cloned().collect();
                models.sort();
                for (m, s) in scripts {
                    shared.set_script(&m, s);
                }
                send_json(
                    conn,
                    200,
                    &json!({ "ok": true, "models": models }).to_string(),
                    keep,
                )
                .await
            }
            Err(e) => {
                send_json(
                    conn,
                    400,
                    &json!({ "error": e.to_string() }).to_string(),
                    keep,
                )
                .await
            }
        },
        ("GET", "requests") => {
            let all: Vec<Value> = lock(&shared.requests)
                .iter()
                .map(|r| request_json(r, shared.started))
                .collect();
            send_json(conn, 200, &Value::Array(all).to_string(), keep).await
        }
        ("DELETE", "requests") => {
            lock(&shared.requests).clear();
            send_json(conn, 200, r#"{"ok":true}"#, keep).await
        }
        ("POST", p) if p.starts_with("status/") => match serde_json::from_slice::<Value>(&req.body)
        {
            Ok(v) => {
                lock(&shared.status_pages).insert(p["status/".len()..].to_owned(), v);
                send_json(conn, 200, r#"{"ok":true}"#, keep).await
            }
            Err(e) => {
                send_json(
                    conn,
                    400,
                    &json!({ "error": e.to_string() }).to_string(),
                    keep,
                )
                .await
            }
        },
        _ => send_json(conn, 404, r#"{"error":"unknown control endpoint"}"#, keep).await,
    }
}
