//! Provider conformance: one list of cases, each run against every protocol (Anthropic,
//! OpenAI, Gemini) through `aiw::provider::Client` talking to the emulator on 127.0.0.1:
//! streaming text and usage, each error class, truncation, malformed and error events,
//! connection failures, the exact request shape, and the missing-key check.

use std::time::Duration;

use aiw::config::{ProviderKind, ProviderSettings, Secret};
use aiw::provider::{
    ChatEvent, ChatRequest, Client, ErrorClass, Message, ProviderError, StopReason, Usage,
};
use aiw_emulator::{Action, Emulator, ErrorKind, ErrorReply, Reply, Script, StreamFault};
use futures_util::StreamExt;

const KEY: &str = "sk-test-0123456789-secret";
const MODEL: &str = "m-1";
const ALL: [ProviderKind; 3] = [
    ProviderKind::Anthropic,
    ProviderKind::OpenAi,
    ProviderKind::Gemini,
];

fn settings(kind: ProviderKind, emu: &Emulator, key: Option<&str>) -> ProviderSettings {
    let base = emu.base_url();
    ProviderSettings {
        name: kind.as_str().to_string(),
        kind,
        base_url: match kind {
            ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => format!("{base}/v1"),
            _ => base,
        },
        api_key_env: Vec::new(),
        api_key: key.map(Secret::new),
        status_page: None,
        context_window: None,
        local: None,
        cloud: None,
    }
}

fn client(kind: ProviderKind, emu: &Emulator) -> Client {
    let http = aiw::provider::http::client(Duration::from_secs(2)).expect("the HTTP client builds");
    Client::new(
        &settings(kind, emu, Some(KEY)),
        &http,
        std::path::Path::new("."),
    )
}

fn request() -> ChatRequest {
    ChatRequest {
        system: Some("Be terse.".into()),
        messages: vec![
            Message::user("Hello"),
            Message::assistant("Hi."),
            Message::user("Capital of Wyoming?"),
        ],
        max_tokens: Some(256),
        temperature: Some(0.2),
        top_p: Some(0.8),
        top_k: None,
        seed: None,
        stop: vec!["\n\n".into()],
        grammar: None,
        ..ChatRequest::default()
    }
}

/// What a whole call produced: the events up to the end, and the error that ended it, if any.
struct Outcome {
    events: Vec<ChatEvent>,
    error: Option<ProviderError>,
}

impl Outcome {
    fn text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                ChatEvent::Text(t) => Some(t.as_str()),
                _ => None,
            })
            .collect()
    }
    fn last_usage(&self) -> Option<Usage> {
        self.events.iter().rev().find_map(|e| match e {
            ChatEvent::Usage(u) => Some(*u),
            _ => None,
        })
    }
    fn done(&self) -> Option<&StopReason> {
        self.events.iter().find_map(|e| match e {
            ChatEvent::Done { stop } => Some(stop),
            _ => None,
        })
    }
    fn err(&self, kind: ProviderKind) -> &ProviderError {
        self.error
            .as_ref()
            .unwrap_or_else(|| panic!("{kind:?}: expected an error, got {:?}", self.events))
    }
}

async fn call(c: &Client, req: &ChatRequest) -> Outcome {
    let mut stream = match c.stream(MODEL, req).await {
        Ok(s) => s,
        Err(e) => {
            return Outcome {
                events: Vec::new(),
                error: Some(e),
            };
        }
    };
    let mut events = Vec::new();
    let mut error = None;
    let mut after_end = 0;
    while let Some(item) = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream must end by itself")
    {
        if error.is_some() || events.iter().any(|e| matches!(e, ChatEvent::Done { .. })) {
            after_end += 1;
        }
        match item {
            Ok(ev) => events.push(ev),
            Err(e) => error = Some(e),
        }
    }
    assert_eq!(after_end, 0, "nothing may follow Done or an error");
    Outcome { events, error }
}

async fn run(kind: ProviderKind, script: Script) -> (Emulator, Outcome) {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script(MODEL, script);
    let out = call(&client(kind, &emu), &request()).await;
    (emu, out)
}

fn reply(text: &str) -> Reply {
    Reply::new(text).chunk_chars(4)
}

#[tokio::test]
async fn text_streaming_and_usage() {
    for kind in ALL {
        let (emu, out) = run(
            kind,
            Script::always(Action::Reply(
                reply("Cheyenne is the capital.").usage(31, 7),
            )),
        )
        .await;
        assert!(out.error.is_none(), "{kind:?}: {:?}", out.error);
        assert!(
            matches!(&out.events[0], ChatEvent::Started { model: Some(m) } if m == MODEL),
            "{kind:?}: {:?}",
            out.events[0]
        );
        assert_eq!(out.text(), "Cheyenne is the capital.", "{kind:?}");
        assert!(
            out.events
                .iter()
                .filter(|e| matches!(e, ChatEvent::Text(_)))
                .count()
                > 1
        );
        assert_eq!(
            out.last_usage(),
            Some(Usage {
                input_tokens: 31,
                output_tokens: 7,
                ..Usage::default()
            }),
            "{kind:?}"
        );
        assert_eq!(out.done(), Some(&StopReason::EndTurn), "{kind:?}");
        assert!(matches!(out.events.last(), Some(ChatEvent::Done { .. })));
        assert_eq!(emu.count(MODEL), 1);
    }
}

#[tokio::test]
async fn each_error_class() {
    let cases = [
        (ErrorKind::Overloaded, ErrorClass::Overloaded),
        (ErrorKind::RateLimited, ErrorClass::RateLimited),
        (ErrorKind::QuotaExhausted, ErrorClass::QuotaExhausted),
        (ErrorKind::Server, ErrorClass::ServerError),
        (ErrorKind::Unavailable, ErrorClass::Overloaded),
        (ErrorKind::GatewayTimeout, ErrorClass::ServerError),
        (ErrorKind::Auth, ErrorClass::Auth),
        (ErrorKind::Permission, ErrorClass::Permission),
        (ErrorKind::NotFound, ErrorClass::NotFound),
        (ErrorKind::BadRequest, ErrorClass::InvalidRequest),
        (ErrorKind::ContextTooLong, ErrorClass::ContextTooLong),
        (ErrorKind::CloudflareHtml, ErrorClass::ServerError),
    ];
    let emu = Emulator::start().await.expect("emulator");
    for kind in ALL {
        let c = client(kind, &emu);
        for (ek, want) in cases {
            emu.set_script(MODEL, Script::always(Action::error(ek)));
            let out = call(&c, &request()).await;
            let e = out.err(kind);
            assert_eq!(e.class, want, "{kind:?} {ek:?}: {e}");
            assert!(e.status.is_some(), "{kind:?} {ek:?}");
            assert!(out.events.is_empty());
            assert!(!e.message.contains(KEY) && !e.to_string().contains(KEY));
            assert!(
                !e.message.contains("<center>"),
                "no HTML dumps: {}",
                e.message
            );
            assert!(!e.message.is_empty());
            if kind != ProviderKind::Gemini {
                assert!(e.request_id.is_some(), "{kind:?} {ek:?}: request id");
            }
        }
    }
}

#[tokio::test]
async fn retry_hints_and_should_retry() {
    let emu = Emulator::start().await.expect("emulator");
    for kind in ALL {
        let c = client(kind, &emu);
        emu.set_script(
            MODEL,
            Script::always(Action::Error(
                ErrorReply::new(ErrorKind::RateLimited).retry_after("2"),
            )),
        );
        let e = call(&c, &request()).await.error.expect("error");
        assert_eq!(e.class, ErrorClass::RateLimited, "{kind:?}");
        assert_eq!(e.retry_after, Some(Duration::from_secs(2)), "{kind:?}");
        assert!(e.is_retryable());

        emu.set_script(
            MODEL,
            Script::always(Action::Error(
                ErrorReply::new(ErrorKind::Server)
                    .should_retry(false)
                    .retry_after_ms("1500"),
            )),
        );
        let e = call(&c, &request()).await.error.expect("error");
        assert_eq!(e.should_retry, Some(false), "{kind:?}");
        assert!(!e.is_retryable(), "{kind:?}");
        assert_eq!(e.retry_after, Some(Duration::from_millis(1500)), "{kind:?}");
    }
}

#[tokio::test]
async fn truncated_stream_with_clean_eof() {
    for kind in ALL {
        let (_emu, out) = run(
            kind,
            Script::always(Action::Reply(reply("one two three four five").fault(
                StreamFault::CutAfter {
                    chunks: 2,
                    clean_eof: true,
                },
            ))),
        )
        .await;
        assert_eq!(out.err(kind).class, ErrorClass::Truncated, "{kind:?}");
        assert_eq!(
            out.text(),
            "one two ",
            "{kind:?}: the text before the cut arrives"
        );
        assert!(out.done().is_none());
    }
}

#[tokio::test]
async fn truncated_stream_without_clean_eof() {
    for kind in ALL {
        let (_emu, out) = run(
            kind,
            Script::always(Action::Reply(reply("one two three four five").fault(
                StreamFault::CutAfter {
                    chunks: 2,
                    clean_eof: false,
                },
            ))),
        )
        .await;
        assert_eq!(
            out.err(kind).class,
            ErrorClass::Truncated,
            "{kind:?}: {}",
            out.err(kind)
        );
        assert!(out.done().is_none());
    }
}

#[tokio::test]
async fn cut_just_before_the_terminal_event_is_truncated() {
    for kind in [ProviderKind::Anthropic, ProviderKind::OpenAi] {
        let (_emu, out) = run(
            kind,
            Script::always(Action::Reply(reply("abcdefgh").fault(
                StreamFault::CutAfter {
                    chunks: 2,
                    clean_eof: true,
                },
            ))),
        )
        .await;
        assert_eq!(out.text(), "abcdefgh");
        assert_eq!(out.err(kind).class, ErrorClass::Truncated, "{kind:?}");
    }
}

#[tokio::test]
async fn malformed_event() {
    for kind in ALL {
        let (_emu, out) = run(
            kind,
            Script::always(Action::Reply(
                reply("one two three").fault(StreamFault::MalformedAfter { chunks: 1 }),
            )),
        )
        .await;
        assert_eq!(out.err(kind).class, ErrorClass::MalformedStream, "{kind:?}");
        assert_eq!(out.text(), "one ", "{kind:?}");
    }
}

#[tokio::test]
async fn mid_stream_error_event() {
    for kind in ALL {
        let (_emu, out) = run(
            kind,
            Script::always(Action::Reply(reply("one two three").fault(
                StreamFault::ErrorEventAfter {
                    chunks: 1,
                    kind: ErrorKind::Overloaded,
                },
            ))),
        )
        .await;
        let e = out.err(kind);
        assert_eq!(e.class, ErrorClass::Overloaded, "{kind:?}: {e}");
        assert_eq!(out.text(), "one ", "{kind:?}");
        assert!(out.done().is_none());
    }
}

#[tokio::test]
async fn reset_before_headers_is_connection() {
    for kind in ALL {
        let (emu, out) = run(kind, Script::always(Action::Reset)).await;
        assert_eq!(
            out.err(kind).class,
            ErrorClass::Connection,
            "{kind:?}: {}",
            out.err(kind)
        );
        assert_eq!(emu.count(MODEL), 1, "{kind:?}: no retry inside the client");
    }
}

#[tokio::test]
async fn reset_mid_stream_is_connection() {
    for kind in ALL {
        let (_emu, out) = run(
            kind,
            Script::always(Action::Reply(
                reply("one two three").fault(StreamFault::ResetAfter { chunks: 1 }),
            )),
        )
        .await;
        let e = out.err(kind);
        assert!(matches!(e.class, ErrorClass::Connection), "{kind:?}: {e}");
    }
}

#[tokio::test]
async fn connection_refused() {
    let emu = Emulator::start().await.expect("emulator");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    for kind in ALL {
        let mut s = settings(kind, &emu, Some(KEY));
        s.base_url = s
            .base_url
            .replace(&emu.addr().port().to_string(), &port.to_string());
        let http =
            aiw::provider::http::client(Duration::from_secs(2)).expect("the HTTP client builds");
        let e = call(
            &Client::new(&s, &http, std::path::Path::new(".")),
            &request(),
        )
        .await
        .error
        .expect("error");
        assert_eq!(e.class, ErrorClass::Connection, "{kind:?}: {e}");
        assert!(e.class.is_network());
    }
}

#[tokio::test]
async fn missing_key_is_auth_without_a_request() {
    let emu = Emulator::start().await.expect("emulator");
    let http = aiw::provider::http::client(Duration::from_secs(2)).expect("the HTTP client builds");
    for kind in ALL {
        let c = Client::new(
            &settings(kind, &emu, None),
            &http,
            std::path::Path::new("."),
        );
        let e = call(&c, &request()).await.error.expect("error");
        assert_eq!(e.class, ErrorClass::Auth, "{kind:?}");
        let var = kind.default_key_envs()[0];
        assert!(e.message.contains(var), "{kind:?}: {}", e.message);
        assert!(c.probe(MODEL).await.is_err());
    }
    assert!(
        emu.requests().is_empty(),
        "no request may be sent without a key"
    );
}

#[tokio::test]
async fn openai_compatible_works_without_a_key() {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script(MODEL, Script::reply("ok"));
    let http = aiw::provider::http::client(Duration::from_secs(2)).expect("the HTTP client builds");
    let c = Client::new(
        &settings(ProviderKind::OpenAiCompatible, &emu, None),
        &http,
        std::path::Path::new("."),
    );
    let out = call(&c, &request()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), "ok");
    let r = &emu.requests_for(MODEL)[0];
    assert!(r.header("authorization").is_none());
    let j = r.json.as_ref().expect("json body");
    assert_eq!(j["max_tokens"], 256, "compatible servers get max_tokens");
    assert!(j.get("max_completion_tokens").is_none());
}

#[tokio::test]
async fn exact_request_shape() {
    for kind in ALL {
        let (emu, out) = run(kind, Script::reply("ok")).await;
        assert!(out.error.is_none(), "{kind:?}: {:?}", out.error);
        let reqs = emu.requests_for(MODEL);
        assert_eq!(reqs.len(), 1);
        let r = &reqs[0];
        assert_eq!(r.method, "POST");
        assert!(
            !r.path.contains(KEY) && !r.query.contains(KEY),
            "{kind:?}: key in URL"
        );
        assert!(
            r.query_param("key").is_none(),
            "{kind:?}: ?key= must not be used"
        );
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(
            r.header("user-agent")
                .is_some_and(|ua| ua.starts_with("aiw/"))
        );
        assert_eq!(
            r.message_texts(),
            ["Hello", "Hi.", "Capital of Wyoming?"],
            "{kind:?}"
        );
        assert_eq!(r.system_text().as_deref(), Some("Be terse."), "{kind:?}");
        let j = r.json.as_ref().expect("json body");
        match kind {
            ProviderKind::Anthropic => {
                assert_eq!(r.path, "/v1/messages");
                assert_eq!(r.header("x-api-key"), Some(KEY));
                assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
                assert_eq!(r.header("accept"), Some("application/json"));
                assert!(r.header("authorization").is_none());
                assert_eq!(j["model"], MODEL);
                assert_eq!(j["max_tokens"], 256);
                assert_eq!(j["stream"], true);
                assert_eq!(j["system"], "Be terse.");
                assert_eq!(j["messages"][1]["role"], "assistant");
                assert_eq!(j["temperature"], 0.2);
                assert_eq!(j["top_p"], 0.8);
                assert_eq!(j["stop_sequences"], serde_json::json!(["\n\n"]));
            }
            ProviderKind::OpenAi => {
                assert_eq!(r.path, "/v1/chat/completions");
                assert_eq!(
                    r.header("authorization"),
                    Some(format!("Bearer {KEY}").as_str())
                );
                assert_eq!(j["model"], MODEL);
                assert_eq!(j["stream"], true);
                assert_eq!(j["stream_options"]["include_usage"], true);
                assert_eq!(
                    j["messages"][0],
                    serde_json::json!({"role":"system","content":"Be terse."})
                );
                assert_eq!(j["max_completion_tokens"], 256);
                assert!(j.get("max_tokens").is_none());
                assert_eq!(j["stop"], serde_json::json!(["\n\n"]));
            }
            ProviderKind::Gemini => {
                assert_eq!(
                    r.path,
                    format!("/v1beta/models/{MODEL}:streamGenerateContent")
                );
                assert_eq!(r.query, "alt=sse");
                assert_eq!(r.header("x-goog-api-key"), Some(KEY));
                assert_eq!(j["contents"][1]["role"], "model");
                assert_eq!(j["systemInstruction"]["parts"][0]["text"], "Be terse.");
                assert_eq!(j["generationConfig"]["maxOutputTokens"], 256);
                assert_eq!(j["generationConfig"]["temperature"], 0.2);
                assert_eq!(j["generationConfig"]["topP"], 0.8);
                assert_eq!(
                    j["generationConfig"]["stopSequences"],
                    serde_json::json!(["\n\n"])
                );
            }
            _ => unreachable!(),
        }
    }
}

#[tokio::test]
async fn probe_succeeds_only_on_a_complete_answer() {
    let emu = Emulator::start().await.expect("emulator");
    for kind in ALL {
        let c = client(kind, &emu);
        emu.set_script(MODEL, Script::reply("pong"));
        c.probe(MODEL)
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let last = emu.requests_for(MODEL).pop().expect("probe request");
        let j = last.json.expect("json");
        let max = match kind {
            ProviderKind::Anthropic => &j["max_tokens"],
            ProviderKind::OpenAi => &j["max_completion_tokens"],
            _ => &j["generationConfig"]["maxOutputTokens"],
        };
        assert_eq!(max, 1, "{kind:?}: probes ask for one token");

        emu.set_script(MODEL, Script::always(Action::error(ErrorKind::Overloaded)));
        assert_eq!(
            c.probe(MODEL).await.unwrap_err().class,
            ErrorClass::Overloaded
        );
        emu.set_script(
            MODEL,
            Script::always(Action::Reply(Reply::new("pong").fault(
                StreamFault::CutAfter {
                    chunks: 0,
                    clean_eof: true,
                },
            ))),
        );
        assert_eq!(
            c.probe(MODEL).await.unwrap_err().class,
            ErrorClass::Truncated,
            "{kind:?}"
        );
    }
}
