//! The cloud hosts of Claude and Gemini through the emulator: conformance of the Bedrock and
//! Vertex AI clients (Claude on both, Gemini on Vertex) for streaming, usage, the exact
//! request each host wants, every error class, mid-stream errors, a cut inside an
//! event-stream frame, a frame with a bad CRC; SigV4 as the emulator verifies it (a wrong
//! key, a session token, a profile file); Vertex tokens (caching, an expired token
//! refreshed mid-session, a refused key); failover along a route that keeps the same Claude
//! on three hosts; and `aiw ask` on Bedrock and Vertex from the real binary.

use std::path::Path;
use std::time::Duration;

use aiw::config::{FileConfig, Paths, Settings};
use aiw::conversation::Vendor;
use aiw::provider::{
    ChatEvent, ChatRequest, Client, ErrorClass, Message, ProviderError, StopReason, Usage,
};
use aiw::router::{Router, RouterEvent};
use aiw_emulator::{Action, Emulator, ErrorKind, Host, Reply, Script, StreamFault, aws, google};
use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::support::{aiw, m, router};

/// A model on one host: the name a route uses, and the id the host is sent.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    Bedrock,
    VertexClaude,
    VertexGemini,
}

const ALL: [Target; 3] = [Target::Bedrock, Target::VertexClaude, Target::VertexGemini];

impl Target {
    fn provider(self) -> &'static str {
        match self {
            Target::Bedrock => "bedrock",
            Target::VertexClaude | Target::VertexGemini => "vertex",
        }
    }
    /// The model as a route names it.
    fn model(self) -> &'static str {
        match self {
            Target::Bedrock => "claude-sonnet-4-6",
            Target::VertexClaude => "claude-sonnet-4-5",
            Target::VertexGemini => "gemini-2.5-flash",
        }
    }
    /// The id the host receives (the built-in table's mapping).
    fn wire_id(self) -> &'static str {
        match self {
            Target::Bedrock => "anthropic.claude-sonnet-4-6",
            Target::VertexClaude => "claude-sonnet-4-5@20250929",
            Target::VertexGemini => "gemini-2.5-flash",
        }
    }
}

/// Config for both hosts on `emu`, the Vertex key file written into `dir`.
fn config(emu: &Emulator, dir: &Path, extra: &str) -> String {
    std::fs::write(dir.join("sa.json"), emu.service_account_json()).unwrap();
    format!(
        r#"
[providers.bedrock]
base_url = "{base}"
region = "us-east-1"

[providers.vertex]
base_url = "{base}"
region = "us-east5"
credentials_file = "{key}"
{extra}
"#,
        base = emu.base_url(),
        key = dir.join("sa.json").display(),
    )
}

/// The long-term test key in the "environment".
const AWS_ENV: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY_ID),
    ("AWS_SECRET_ACCESS_KEY", aws::SECRET_ACCESS_KEY),
];

fn resolve(text: &str, dir: &Path, env: &[(&str, &str)]) -> Settings {
    let paths = Paths {
        config_file: dir.join("config.toml"),
        data_dir: dir.join("data"),
        state_dir: dir.join("state"),
    };
    let cfg = FileConfig::parse(text, &paths.config_file).expect("test config parses");
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .chain([("HOME".to_string(), dir.display().to_string())])
        .collect();
    Settings::resolve(cfg, paths, true, Vec::new(), &move |k| {
        env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    })
    .expect("test config resolves")
}

fn client(s: &Settings, provider: &str) -> Client {
    let http = aiw::provider::http::client(Duration::from_secs(2)).expect("the HTTP client builds");
    Client::new(&s.providers[provider], &http, Path::new("."))
}

struct Fixture {
    emu: Emulator,
    _dir: tempfile::TempDir,
    settings: Settings,
}

impl Fixture {
    async fn new() -> Self {
        Self::with(&AWS_ENV, "").await
    }
    async fn with(env: &[(&str, &str)], extra: &str) -> Self {
        let emu = Emulator::start().await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let settings = resolve(&config(&emu, dir.path(), extra), dir.path(), env);
        Self {
            emu,
            _dir: dir,
            settings,
        }
    }
    fn client(&self, t: Target) -> Client {
        client(&self.settings, t.provider())
    }
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
        ..ChatRequest::default()
    }
}

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
    fn done(&self) -> Option<&StopReason> {
        self.events.iter().find_map(|e| match e {
            ChatEvent::Done { stop } => Some(stop),
            _ => None,
        })
    }
    fn err(&self, t: Target) -> &ProviderError {
        self.error
            .as_ref()
            .unwrap_or_else(|| panic!("{t:?}: expected an error, got {:?}", self.events))
    }
}

async fn call(c: &Client, model: &str) -> Outcome {
    let mut stream = match c.stream(model, &request()).await {
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
    while let Some(item) = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream must end by itself")
    {
        assert!(error.is_none(), "nothing may follow an error");
        match item {
            Ok(ev) => events.push(ev),
            Err(e) => error = Some(e),
        }
    }
    Outcome { events, error }
}

async fn run(t: Target, script: Script) -> (Fixture, Outcome) {
    let f = Fixture::new().await;
    f.emu.set_script(t.wire_id(), script);
    let out = call(&f.client(t), t.model()).await;
    (f, out)
}

fn reply(text: &str) -> Reply {
    Reply::new(text).chunk_chars(4)
}

#[tokio::test]
async fn streams_text_and_usage_on_each_host() {
    for t in ALL {
        let (f, out) = run(
            t,
            Script::always(Action::Reply(
                reply("Cheyenne is the capital.").usage(31, 7),
            )),
        )
        .await;
        assert!(out.error.is_none(), "{t:?}: {:?}", out.error);
        assert_eq!(out.text(), "Cheyenne is the capital.", "{t:?}");
        assert!(
            out.events
                .iter()
                .filter(|e| matches!(e, ChatEvent::Text(_)))
                .count()
                > 1,
            "{t:?}: streamed in pieces"
        );
        assert!(
            matches!(&out.events[0], ChatEvent::Started { model: Some(m) } if m == t.wire_id()),
            "{t:?}: {:?}",
            out.events[0]
        );
        let usage = out.events.iter().rev().find_map(|e| match e {
            ChatEvent::Usage(u) => Some(*u),
            _ => None,
        });
        assert_eq!(
            usage,
            Some(Usage {
                input_tokens: 31,
                output_tokens: 7,
                ..Usage::default()
            }),
            "{t:?}"
        );
        assert_eq!(out.done(), Some(&StopReason::EndTurn), "{t:?}");
        assert_eq!(f.emu.count(t.wire_id()), 1, "{t:?}");
    }
}

#[tokio::test]
async fn each_host_gets_the_request_it_wants() {
    for t in ALL {
        let (f, out) = run(t, Script::reply("ok")).await;
        assert!(out.error.is_none(), "{t:?}: {:?}", out.error);
        let reqs = f.emu.requests_for(t.wire_id());
        assert_eq!(reqs.len(), 1, "{t:?}");
        let r = &reqs[0];
        assert_eq!(
            r.message_texts(),
            ["Hello", "Hi.", "Capital of Wyoming?"],
            "{t:?}"
        );
        assert_eq!(r.system_text().as_deref(), Some("Be terse."), "{t:?}");
        assert!(
            r.header("user-agent")
                .is_some_and(|ua| ua.starts_with("aiw/"))
        );
        let j = r.json.as_ref().expect("json body");
        match t {
            Target::Bedrock => {
                assert_eq!(r.host, Host::Bedrock);
                assert_eq!(
                    r.path,
                    "/model/anthropic.claude-sonnet-4-6/invoke-with-response-stream"
                );
                assert_eq!(j["anthropic_version"], "bedrock-2023-05-31");
                assert!(j.get("model").is_none() && j.get("stream").is_none(), "{j}");
                assert_eq!(j["max_tokens"], 256);
                assert_eq!(j["temperature"], 0.2);
                let auth = r.header("authorization").unwrap();
                assert!(
                    auth.starts_with(&format!(
                        "AWS4-HMAC-SHA256 Credential={}/",
                        aws::ACCESS_KEY_ID
                    )) && auth.contains("/us-east-1/bedrock/aws4_request"),
                    "{auth}"
                );
                assert!(!auth.contains(aws::SECRET_ACCESS_KEY));
                assert!(r.header("x-amz-date").is_some());
                assert_eq!(
                    r.header("accept"),
                    Some("application/vnd.amazon.eventstream")
                );
                assert!(r.header("x-amz-security-token").is_none());
            }
            Target::VertexClaude => {
                assert_eq!(r.host, Host::Vertex);
                assert_eq!(
                    r.path,
                    "/v1/projects/aiw-emulator/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict"
                );
                assert_eq!(j["anthropic_version"], "vertex-2023-10-16");
                assert_eq!(j["stream"], true);
                assert!(j.get("model").is_none(), "{j}");
                assert!(
                    r.header("authorization")
                        .unwrap()
                        .starts_with("Bearer ya29.emulator-")
                );
                assert!(r.header("x-api-key").is_none());
            }
            Target::VertexGemini => {
                assert_eq!(r.host, Host::Vertex);
                assert_eq!(
                    r.path,
                    "/v1/projects/aiw-emulator/locations/us-east5/publishers/google/models/gemini-2.5-flash:streamGenerateContent"
                );
                assert_eq!(r.query, "alt=sse");
                assert_eq!(j["generationConfig"]["maxOutputTokens"], 256);
                assert!(r.header("x-goog-api-key").is_none());
            }
        }
    }
}

#[tokio::test]
async fn each_error_class_on_each_host() {
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
    let f = Fixture::new().await;
    for t in ALL {
        let c = f.client(t);
        for (ek, want) in cases {
            f.emu
                .set_script(t.wire_id(), Script::always(Action::error(ek)));
            let out = call(&c, t.model()).await;
            let e = out.err(t);
            assert_eq!(e.class, want, "{t:?} {ek:?}: {e}");
            assert!(e.status.is_some(), "{t:?} {ek:?}");
            assert!(out.events.is_empty());
            assert!(
                !e.message.is_empty() && !e.message.contains("<center>"),
                "{e}"
            );
            for secret in [aws::SECRET_ACCESS_KEY, "ya29.emulator-"] {
                assert!(!e.to_string().contains(secret), "{t:?} {ek:?}: {e}");
            }
            if t == Target::Bedrock && ek != ErrorKind::CloudflareHtml {
                assert!(e.request_id.is_some(), "{ek:?}: x-amzn-RequestId");
            }
        }
    }
}

#[tokio::test]
async fn mid_stream_errors_are_classified() {
    for (t, kind, want) in [
        (
            Target::Bedrock,
            ErrorKind::Overloaded,
            ErrorClass::Overloaded,
        ),
        (
            Target::Bedrock,
            ErrorKind::RateLimited,
            ErrorClass::RateLimited,
        ),
        (
            Target::Bedrock,
            ErrorKind::Unavailable,
            ErrorClass::Overloaded,
        ),
        (Target::Bedrock, ErrorKind::Server, ErrorClass::ServerError),
        (
            Target::VertexClaude,
            ErrorKind::Overloaded,
            ErrorClass::Overloaded,
        ),
        (
            Target::VertexGemini,
            ErrorKind::Overloaded,
            ErrorClass::Overloaded,
        ),
    ] {
        let (_f, out) = run(
            t,
            Script::always(Action::Reply(
                reply("one two three").fault(StreamFault::ErrorEventAfter { chunks: 1, kind }),
            )),
        )
        .await;
        let e = out.err(t);
        assert_eq!(e.class, want, "{t:?} {kind:?}: {e}");
        assert_eq!(
            out.text(),
            "one ",
            "{t:?}: the text before the error arrives"
        );
        assert!(out.done().is_none());
        if t == Target::Bedrock {
            assert!(e.message.contains("Exception mid-stream"), "{e}");
        }
    }
}

#[tokio::test]
async fn a_cut_inside_an_event_stream_frame_is_truncated() {
    for t in ALL {
        for clean_eof in [true, false] {
            let (_f, out) = run(
                t,
                Script::always(Action::Reply(reply("one two three four").fault(
                    StreamFault::CutInEventAfter {
                        chunks: 2,
                        clean_eof,
                    },
                ))),
            )
            .await;
            let e = out.err(t);
            assert_eq!(
                e.class,
                ErrorClass::Truncated,
                "{t:?} clean_eof={clean_eof}: {e}"
            );
            assert_eq!(out.text(), "one two ", "{t:?}");
            assert!(out.done().is_none());
            if t == Target::Bedrock && clean_eof {
                assert!(e.message.contains("inside an event-stream frame"), "{e}");
            }
        }
    }
}

#[tokio::test]
async fn a_frame_with_a_bad_crc_is_malformed() {
    for t in ALL {
        let (_f, out) = run(
            t,
            Script::always(Action::Reply(
                reply("one two three").fault(StreamFault::MalformedAfter { chunks: 1 }),
            )),
        )
        .await;
        let e = out.err(t);
        assert_eq!(e.class, ErrorClass::MalformedStream, "{t:?}: {e}");
        assert_eq!(
            out.text(),
            "one ",
            "{t:?}: nothing of the corrupt frame is shown"
        );
        if t == Target::Bedrock {
            assert!(e.message.contains("checksum"), "{e}");
        }
    }
}

#[tokio::test]
async fn resets_are_connection_failures_with_no_retry_inside_the_client() {
    for t in ALL {
        let (f, out) = run(t, Script::always(Action::Reset)).await;
        assert_eq!(out.err(t).class, ErrorClass::Connection, "{t:?}");
        assert_eq!(f.emu.count(t.wire_id()), 1, "{t:?}");
    }
}

#[tokio::test]
async fn a_wrong_secret_key_fails_the_emulators_signature_check() {
    let env = [
        ("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", "not-the-secret-key"),
    ];
    let f = Fixture::with(&env, "").await;
    f.emu
        .set_script(Target::Bedrock.wire_id(), Script::reply("never"));
    let out = call(&f.client(Target::Bedrock), "claude-sonnet-4-6").await;
    let e = out.err(Target::Bedrock);
    assert_eq!(e.class, ErrorClass::Auth, "{e}");
    assert_eq!(e.status, Some(403));
    assert!(e.message.contains("InvalidSignatureException"), "{e}");
    assert!(e.message.contains("secret access key"), "actionable: {e}");
    assert!(!e.to_string().contains("not-the-secret-key"));
    let r = &f.emu.requests_for(Target::Bedrock.wire_id())[0];
    assert!(
        r.action.is_none(),
        "a rejected request consumes no script action"
    );

    let env = [
        ("AWS_ACCESS_KEY_ID", "AKIDNOBODYKNOWS00000"),
        ("AWS_SECRET_ACCESS_KEY", aws::SECRET_ACCESS_KEY),
    ];
    let f = Fixture::with(&env, "").await;
    let e = call(&f.client(Target::Bedrock), "claude-sonnet-4-6")
        .await
        .error
        .unwrap();
    assert_eq!(e.class, ErrorClass::Auth);
    assert!(e.message.contains("UnrecognizedClientException"), "{e}");
}

#[tokio::test]
async fn temporary_keys_send_their_session_token() {
    let env = [
        ("AWS_ACCESS_KEY_ID", aws::TEMP_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", aws::TEMP_SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", aws::SESSION_TOKEN),
    ];
    let f = Fixture::with(&env, "").await;
    f.emu
        .set_script(Target::Bedrock.wire_id(), Script::reply("with a token"));
    let out = call(&f.client(Target::Bedrock), "claude-sonnet-4-6").await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), "with a token");
    let r = &f.emu.requests_for(Target::Bedrock.wire_id())[0];
    assert_eq!(r.header("x-amz-security-token"), Some(aws::SESSION_TOKEN));
    assert!(
        r.header("authorization")
            .unwrap()
            .contains("x-amz-security-token")
    );

    // The same key with a token that is not its own is refused.
    let env = [
        ("AWS_ACCESS_KEY_ID", aws::TEMP_ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", aws::TEMP_SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjEStaleToken=="),
    ];
    let f = Fixture::with(&env, "").await;
    let e = call(&f.client(Target::Bedrock), "claude-sonnet-4-6")
        .await
        .error
        .unwrap();
    assert_eq!(e.class, ErrorClass::Auth);
    assert!(!e.to_string().contains("StaleToken"), "{e}");
}

#[tokio::test]
async fn a_profile_of_the_credentials_file_and_the_model_map() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
    std::fs::write(
        dir.path().join(".aws/credentials"),
        format!(
            "[default]\naws_access_key_id = AKIDWRONG\naws_secret_access_key = wrong\n\n[emulator]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            aws::ACCESS_KEY_ID,
            aws::SECRET_ACCESS_KEY
        ),
    )
    .unwrap();
    let emu = Emulator::start().await.unwrap();
    let text = format!(
        "[providers.aws]\nkind = \"bedrock\"\nbase_url = \"{}\"\nregion = \"eu-central-1\"\nprofile = \"emulator\"\n[providers.aws.models]\nclaude-sonnet-4-6 = \"eu.anthropic.claude-sonnet-4-6\"\n",
        emu.base_url()
    );
    // Key variables are set, but a profile named in the config wins over them.
    let s = resolve(
        &text,
        dir.path(),
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDENV"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ],
    );
    emu.set_script(
        "eu.anthropic.claude-sonnet-4-6",
        Script::reply("from the profile"),
    );
    let out = call(&client(&s, "aws"), "claude-sonnet-4-6").await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), "from the profile");
    let r = &emu.requests_for("eu.anthropic.claude-sonnet-4-6")[0];
    assert_eq!(
        r.path,
        "/model/eu.anthropic.claude-sonnet-4-6/invoke-with-response-stream"
    );
    assert!(
        r.header("authorization")
            .unwrap()
            .contains("/eu-central-1/bedrock/aws4_request")
    );

    // An id with `:` (a dated model) is signed as AWS signs it.
    emu.set_script(
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        Script::reply("dated"),
    );
    let out = call(&client(&s, "aws"), "claude-haiku-4-5").await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), "dated");
}

#[tokio::test]
async fn missing_region_or_credentials_send_nothing() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = resolve(
        &format!("[providers.bedrock]\nbase_url = \"{}\"\n", emu.base_url()),
        dir.path(),
        &AWS_ENV,
    );
    let e = call(&client(&s, "bedrock"), "claude-sonnet-4-6")
        .await
        .error
        .unwrap();
    assert_eq!(e.class, ErrorClass::Unavailable);
    assert!(e.message.contains("AWS_REGION"), "{e}");
    let s = resolve(
        &format!(
            "[providers.bedrock]\nbase_url = \"{}\"\nregion = \"us-east-1\"\n",
            emu.base_url()
        ),
        dir.path(),
        &[],
    );
    let e = call(&client(&s, "bedrock"), "claude-sonnet-4-6")
        .await
        .error
        .unwrap();
    assert_eq!(e.class, ErrorClass::Auth);
    assert!(
        e.message.contains("AWS_ACCESS_KEY_ID") && e.message.contains("profile"),
        "{e}"
    );
    let s = resolve(
        &format!(
            "[providers.vertex]\nbase_url = \"{}\"\nproject = \"p\"\n",
            emu.base_url()
        ),
        dir.path(),
        &[],
    );
    let e = call(&client(&s, "vertex"), "claude-sonnet-4-6")
        .await
        .error
        .unwrap();
    assert_eq!(e.class, ErrorClass::Auth);
    assert!(e.message.contains("GOOGLE_APPLICATION_CREDENTIALS"), "{e}");
    assert!(
        emu.requests().is_empty(),
        "nothing is sent without credentials"
    );
    assert_eq!(emu.token_requests(), 0);
}

#[tokio::test]
async fn vertex_tokens_are_cached_until_shortly_before_they_expire() {
    let f = Fixture::new().await;
    let c = f.client(Target::VertexClaude);
    for _ in 0..3 {
        let out = call(&c, Target::VertexClaude.model()).await;
        assert!(out.error.is_none(), "{:?}", out.error);
    }
    assert_eq!(f.emu.token_requests(), 1, "one token for three calls");
    // Clones of the client share the cache.
    let out = call(&c.clone(), Target::VertexGemini.model()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(f.emu.token_requests(), 1);

    // A token that lives less than the refresh margin is never reused.
    let f = Fixture::new().await;
    f.emu.set_token_lifetime(Duration::from_secs(30));
    let c = f.client(Target::VertexClaude);
    for _ in 0..2 {
        assert!(call(&c, Target::VertexClaude.model()).await.error.is_none());
    }
    assert_eq!(f.emu.token_requests(), 2);

    // A 61 s token is replaced once its last minute begins: the call after that fetches a new
    // one up front and is never refused.
    let f = Fixture::new().await;
    f.emu.set_token_lifetime(Duration::from_secs(61));
    let c = f.client(Target::VertexClaude);
    assert!(call(&c, Target::VertexClaude.model()).await.error.is_none());
    assert_eq!(f.emu.token_requests(), 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(call(&c, Target::VertexClaude.model()).await.error.is_none());
    assert_eq!(f.emu.token_requests(), 2, "refreshed shortly before expiry");
    assert_eq!(
        f.emu.count(Target::VertexClaude.wire_id()),
        2,
        "no call was refused"
    );
}

#[tokio::test]
async fn an_expired_token_is_refreshed_mid_session() {
    let f = Fixture::new().await;
    let c = f.client(Target::VertexClaude);
    let id = Target::VertexClaude.wire_id();
    f.emu.set_script(id, Script::reply("first"));
    assert_eq!(call(&c, Target::VertexClaude.model()).await.text(), "first");
    // The token the client holds expires (revoked, or its hour ran out early).
    f.emu.expire_tokens();
    f.emu.set_script(id, Script::reply("second"));
    let out = call(&c, Target::VertexClaude.model()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert_eq!(out.text(), "second");
    assert_eq!(f.emu.token_requests(), 2, "one refresh");
    let sent = f.emu.requests_for(id);
    assert_eq!(sent.len(), 3, "first call, the refused one, the resend");
    assert!(
        sent[1].action.is_none(),
        "the 401 consumed no script action"
    );
    assert_ne!(
        sent[1].header("authorization"),
        sent[2].header("authorization")
    );
    assert_eq!(
        sent[0].header("authorization"),
        sent[1].header("authorization")
    );

    // Through the router too (its own client: one more token), a session of three questions
    // with an expiry in the middle.
    let r = router(f.settings.clone());
    let route = vec![m("vertex/claude-sonnet-4-5")];
    for i in 0..3 {
        if i == 1 {
            f.emu.expire_tokens();
        }
        let (res, _) = ask(&r, &route, "hi").await;
        assert_eq!(res.unwrap().text(), "second", "question {i}");
    }
    assert_eq!(
        f.emu.token_requests(),
        4,
        "the router's first token, then one refresh"
    );
}

#[tokio::test]
async fn a_key_the_token_endpoint_refuses_is_an_auth_error() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = config(&emu, dir.path(), "");
    std::fs::write(
        dir.path().join("sa.json"),
        emu.service_account_json_with_key(google::UNTRUSTED_PRIVATE_KEY_PEM),
    )
    .unwrap();
    let s = resolve(&text, dir.path(), &[]);
    let e = call(&client(&s, "vertex"), "claude-sonnet-4-5")
        .await
        .error
        .unwrap();
    assert_eq!(e.class, ErrorClass::Auth, "{e}");
    assert!(e.message.contains("Invalid JWT Signature"), "{e}");
    assert!(!e.message.contains("BEGIN PRIVATE KEY"), "{e}");
    assert_eq!(emu.token_requests(), 1);
    assert!(emu.requests().is_empty(), "no model call without a token");
}

#[tokio::test]
async fn the_project_comes_from_the_key_file_when_not_configured() {
    let f = Fixture::new().await;
    let t = Target::VertexGemini;
    let out = call(&f.client(t), t.model()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    assert!(
        f.emu.requests_for(t.wire_id())[0]
            .path
            .starts_with(&format!("/v1/projects/{}/", google::PROJECT_ID))
    );
    let f = Fixture::with(&AWS_ENV, "project = \"other-proj\"").await;
    assert!(call(&f.client(t), t.model()).await.error.is_none());
    assert!(
        f.emu.requests_for(t.wire_id())[0]
            .path
            .starts_with("/v1/projects/other-proj/")
    );
}

#[tokio::test]
async fn vertex_speaks_claude_or_gemini_by_model() {
    let f = Fixture::new().await;
    let c = f.client(Target::VertexClaude);
    assert_eq!(c.vendor("claude-sonnet-4-6"), Vendor::Anthropic);
    assert_eq!(c.vendor("gemini-2.5-flash"), Vendor::Gemini);
    assert_eq!(
        f.client(Target::Bedrock).vendor("claude-sonnet-4-6"),
        Vendor::Anthropic
    );
    // Gemini thinking on Vertex comes back as Gemini's.
    let id = Target::VertexGemini.wire_id();
    f.emu.set_script(
        id,
        Script::always(Action::Reply(
            Reply::new("Answer.").with_thinking("Let me think.", None),
        )),
    );
    let out = call(&c, Target::VertexGemini.model()).await;
    assert!(out.error.is_none(), "{:?}", out.error);
    let thinking: String = out
        .events
        .iter()
        .filter_map(|e| match e {
            ChatEvent::Thinking(t) => Some(t.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(thinking, "Let me think.");
    assert_eq!(out.text(), "Answer.");
}

async fn ask(
    r: &Router,
    route: &[aiw::config::ModelRef],
    text: &str,
) -> (
    Result<aiw::router::Answer, aiw::router::AllModelsFailed>,
    Vec<RouterEvent>,
) {
    let mut events = Vec::new();
    let mut on = |e: RouterEvent| events.push(e);
    let req = ChatRequest::user(text);
    let res = r.run(route, &req, &mut on, &CancellationToken::new()).await;
    (res, events)
}

/// One emulator per host, as in real life: Anthropic and OpenAI on `direct`.
struct ThreeHosts {
    direct: Emulator,
    bedrock: Emulator,
    vertex: Emulator,
    _dir: tempfile::TempDir,
    router: Router,
    route: Vec<aiw::config::ModelRef>,
}

async fn three_hosts() -> ThreeHosts {
    let direct = Emulator::start().await.unwrap();
    let bedrock = Emulator::start().await.unwrap();
    let vertex = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sa.json"), vertex.service_account_json()).unwrap();
    let text = format!(
        r#"
[providers.anthropic]
base_url = "{d}"
[providers.openai]
base_url = "{d}/v1"
[providers.bedrock]
base_url = "{b}"
region = "us-east-1"
[providers.vertex]
base_url = "{v}"
region = "global"
credentials_file = "{key}"
[routes]
default = ["anthropic/claude-sonnet-4-6", "bedrock/claude-sonnet-4-6", "vertex/claude-sonnet-4-6", "openai/gpt-5.5"]
[timeouts]
connect = "1s"
first_token = "2s"
stall = "2s"
total = "20s"
[health]
base_open = "30s"
max_open = "60s"
max_retry_wait = "1s"
"#,
        d = direct.base_url(),
        b = bedrock.base_url(),
        v = vertex.base_url(),
        key = dir.path().join("sa.json").display(),
    );
    let mut env: Vec<(&str, &str)> = AWS_ENV.to_vec();
    env.push(("ANTHROPIC_API_KEY", crate::support::ANTHROPIC_KEY));
    env.push(("OPENAI_API_KEY", crate::support::OPENAI_KEY));
    let s = resolve(&text, dir.path(), &env);
    let route = s.routes["default"].clone();
    direct.set_script("claude-sonnet-4-6", Script::reply("from Anthropic"));
    bedrock.set_script("anthropic.claude-sonnet-4-6", Script::reply("from Bedrock"));
    vertex.set_script("claude-sonnet-4-6", Script::reply("from Vertex"));
    direct.set_script("gpt-5.5", Script::reply("from OpenAI"));
    ThreeHosts {
        direct,
        bedrock,
        vertex,
        _dir: dir,
        router: router(s),
        route,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_same_claude_stays_on_while_its_hosts_go_down_one_by_one() {
    let h = three_hosts().await;
    let (res, _) = ask(&h.router, &h.route, "q").await;
    let a = res.unwrap();
    assert_eq!(
        (a.model.to_string().as_str(), a.text().as_str()),
        ("anthropic/claude-sonnet-4-6", "from Anthropic")
    );

    // Anthropic's own API goes down: the same model answers from Bedrock.
    h.direct.set_script(
        "claude-sonnet-4-6",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    let (res, events) = ask(&h.router, &h.route, "q").await;
    let a = res.unwrap();
    assert_eq!(
        (a.model.to_string().as_str(), a.text().as_str()),
        ("bedrock/claude-sonnet-4-6", "from Bedrock")
    );
    assert!(a.degraded);
    assert_eq!(a.attempts[0].error_class, Some(ErrorClass::Overloaded));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, RouterEvent::Failover { .. }))
    );

    // Bedrock too (503 ServiceUnavailableException): Vertex.
    h.bedrock.set_script(
        "anthropic.claude-sonnet-4-6",
        Script::always(Action::error(ErrorKind::Unavailable)),
    );
    let (res, _) = ask(&h.router, &h.route, "q").await;
    let a = res.unwrap();
    assert_eq!(
        (a.model.to_string().as_str(), a.text().as_str()),
        ("vertex/claude-sonnet-4-6", "from Vertex")
    );
    let classes: Vec<_> = a
        .attempts
        .iter()
        .map(|x| (x.model.clone(), x.error_class))
        .collect();
    assert!(
        classes.contains(&(
            crate::support::m("bedrock/claude-sonnet-4-6"),
            Some(ErrorClass::Overloaded)
        )),
        "{classes:?}"
    );

    // All three hosts of Claude down: another model, last.
    h.vertex.set_script(
        "claude-sonnet-4-6",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    let (res, _) = ask(&h.router, &h.route, "q").await;
    let a = res.unwrap();
    assert_eq!(
        (a.model.to_string().as_str(), a.text().as_str()),
        ("openai/gpt-5.5", "from OpenAI")
    );
    assert_eq!(h.direct.count("gpt-5.5"), 1);
    assert!(h.vertex.token_requests() >= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bedrock_stream_cut_inside_a_frame_continues_on_vertex() {
    let h = three_hosts().await;
    h.direct.set_script(
        "claude-sonnet-4-6",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    h.bedrock.set_script(
        "anthropic.claude-sonnet-4-6",
        Script::always(
            Reply::new("The first half, ")
                .chunk_chars(8)
                .fault(StreamFault::CutInEventAfter {
                    chunks: 2,
                    clean_eof: false,
                })
                .into(),
        ),
    );
    h.vertex
        .set_script("claude-sonnet-4-6", Script::reply("and the rest."));
    let (res, events) = ask(&h.router, &h.route, "explain").await;
    let a = res.unwrap();
    assert_eq!(a.segments.len(), 2, "{:?}", a.segments);
    assert_eq!(a.segments[0].model, "bedrock/claude-sonnet-4-6");
    assert_eq!(a.segments[1].model, "vertex/claude-sonnet-4-6");
    assert!(
        a.text().starts_with("The first half, ") && a.text().ends_with("and the rest."),
        "{}",
        a.text()
    );
    let bedrock_attempt = a
        .attempts
        .iter()
        .find(|x| x.model == "bedrock/claude-sonnet-4-6")
        .unwrap();
    assert!(
        matches!(
            bedrock_attempt.error_class,
            Some(ErrorClass::Truncated | ErrorClass::Connection)
        ),
        "{:?}",
        bedrock_attempt.error_class
    );
    assert!(events.iter().any(|e| matches!(
        e,
        RouterEvent::Failover {
            mid_stream: true,
            ..
        }
    )));
    // Vertex got the partial answer as conversation state.
    let sent = h.vertex.requests_for("claude-sonnet-4-6");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].message_texts()[1], a.segments[0].text());
}

/// `aiw ask` with the real binary: configuration, environment and credentials end to end.
#[tokio::test(flavor = "multi_thread")]
async fn aiw_ask_on_bedrock_and_vertex() {
    let emu = Emulator::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sa.json"), emu.service_account_json()).unwrap();
    let text = format!(
        "[providers.bedrock]\nbase_url = \"{b}\"\n[providers.vertex]\nbase_url = \"{b}\"\nregion = \"us-east5\"\n[routes]\ndefault = [\"bedrock/claude-sonnet-4-6\", \"vertex/claude-sonnet-4-5\"]\n",
        b = emu.base_url()
    );
    std::fs::write(dir.path().join("config.toml"), text).unwrap();
    emu.set_script(
        "anthropic.claude-sonnet-4-6",
        Script::always(Action::error(ErrorKind::RateLimited)),
    );
    emu.set_script("claude-sonnet-4-5@20250929", Script::reply("Cheyenne."));
    let out = tokio::task::spawn_blocking({
        let d = dir.path().to_path_buf();
        move || {
            aiw(&d)
                .args(["ask", "Capital of Wyoming?"])
                .env("AWS_REGION", "us-east-1")
                .env("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY_ID)
                .env("AWS_SECRET_ACCESS_KEY", aws::SECRET_ACCESS_KEY)
                .env("GOOGLE_APPLICATION_CREDENTIALS", d.join("sa.json"))
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(stdout.trim(), "Cheyenne.", "{stderr}");
    assert!(
        stderr.contains("bedrock/claude-sonnet-4-6"),
        "the failover is noted: {stderr}"
    );
    for secret in [aws::SECRET_ACCESS_KEY, "ya29.emulator-", "PRIVATE KEY"] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "{secret}"
        );
    }
    assert!(emu.count("anthropic.claude-sonnet-4-6") >= 1);
}

/// `aiw config check` says where each host's credentials will come from, never what they are.
#[test]
fn config_check_names_the_credential_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("config.toml"),
        "[providers.bedrock]\n[providers.aws2]\nkind = \"bedrock\"\nregion = \"us-west-2\"\nprofile = \"work\"\n[providers.vertex]\ncredentials_file = \"/keys/sa.json\"\n",
    )
    .unwrap();
    let out = aiw(dir.path())
        .args(["config", "check"])
        .env("AWS_ACCESS_KEY_ID", aws::ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", aws::SECRET_ACCESS_KEY)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name}: {stdout}"))
            .to_string()
    };
    let b = line("bedrock ");
    assert!(
        b.contains("no region") && b.contains("AWS keys from AWS_ACCESS_KEY_ID"),
        "{b}"
    );
    let a = line("aws2 ");
    assert!(
        a.contains("https://bedrock-runtime.us-west-2.amazonaws.com")
            && a.contains("AWS profile `work`")
            && a.contains(".aws/credentials"),
        "{a}"
    );
    let v = line("vertex ");
    assert!(
        v.contains("https://aiplatform.googleapis.com")
            && v.contains("service-account key /keys/sa.json"),
        "{v}"
    );
    assert!(!stdout.contains(aws::SECRET_ACCESS_KEY));
}
