//! Fuzz tests (proptest, bounded in time) for every provider's stream mapping: arbitrary
//! bytes, and the recorded transcripts mutated and cut anywhere, run through the SSE parser
//! and each protocol's mapper exactly as a response body would be (no HTTP). The property:
//! no panic, and the stream ends with at most one `Done` or one error, nothing after it.

use proptest::prelude::*;

use super::anthropic::AnthropicMapper;
use super::gemini::GeminiMapper;
use super::http::{StreamMapper, fixture, map_transcript};
use super::openai::OpenAiMapper;
use super::sse::Mode;
use super::{ChatEvent, ProviderError};

/// Pieces of each protocol's vocabulary, so random inputs reach deep into the mappers.
fn vocabulary() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        "event: message_start\n",
        "event: content_block_delta\n",
        "event: message_delta\n",
        "event: message_stop\n",
        "event: error\n",
        "data: ",
        "\n\n",
        "\r\n",
        "data: [DONE]\n\n",
        "{\"type\":\"message_start\",\"message\":{\"model\":\"m\",\"usage\":{\"input_tokens\":1}}}",
        "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"hi\"}}",
        "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":9}}",
        "{\"type\":\"message_stop\"}",
        "{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"x\"}}",
        "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}",
        "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}",
        "{\"error\":{\"message\":\"boom\",\"code\":500}}",
        "{\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"hi\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":1}}",
        "{\"promptFeedback\":{\"blockReason\":\"SAFETY\"}}",
        "{\n  \"error\": {\n    \"code\": 503,\n    \"status\": \"UNAVAILABLE\"\n  }\n}\n",
        "null",
        "[]",
        "{",
        "}",
        "\"",
        "\\",
        "é世",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    v.push(vec![0xff, 0xfe, 0x00]);
    v
}

fn soup() -> impl Strategy<Value = Vec<u8>> {
    let vocab = vocabulary();
    let token = prop_oneof![
        3 => proptest::sample::select(vocab),
        1 => proptest::collection::vec(any::<u8>(), 0..8),
    ];
    proptest::collection::vec(token, 0..48).prop_map(|v| v.concat())
}

/// A recorded transcript, mutated: a span replaced by random bytes, then cut.
fn mutated(paths: &'static [&'static str]) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::sample::select(paths),
        any::<prop::sample::Index>(),
        proptest::collection::vec(any::<u8>(), 0..16),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(path, at, junk, cut)| {
            let mut b = fixture(path);
            let i = at.index(b.len() + 1);
            let j = (i + junk.len()).min(b.len());
            b.splice(i..j, junk);
            b.truncate(cut.index(b.len() + 1));
            b
        })
}

/// Runs the bytes through the mapper in `chunk`-byte pieces and checks the stream's shape.
fn check<M: StreamMapper>(
    bytes: &[u8],
    chunk: usize,
    mode: Mode,
    mapper: M,
) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let out: Vec<Result<ChatEvent, ProviderError>> =
        rt.block_on(map_transcript(bytes, chunk, mode, mapper));
    let ends = out
        .iter()
        .filter(|e| matches!(e, Ok(ChatEvent::Done { .. }) | Err(_)))
        .count();
    prop_assert_eq!(ends, 1, "exactly one Done or error: {:?}", out);
    prop_assert!(
        matches!(out.last(), Some(Ok(ChatEvent::Done { .. }) | Err(_))),
        "the end comes last: {:?}",
        out
    );
    Ok(())
}

const ANTHROPIC: &[&str] = &[
    "anthropic/text.txt",
    "anthropic/error_event.txt",
    "anthropic/no_final_blank_line.txt",
];
const OPENAI: &[&str] = &[
    "openai/text.txt",
    "openai/error_event.txt",
    "openai/no_done.txt",
    "openai/vllm_error_event.txt",
];
const GEMINI: &[&str] = &[
    "gemini/text.txt",
    "gemini/error_mid_stream.txt",
    "gemini/prompt_blocked.txt",
    "gemini/truncated.txt",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn anthropic_mapping_survives_arbitrary_bytes(bytes in soup(), chunk in 1usize..64) {
        check(&bytes, chunk, Mode::Standard, AnthropicMapper::default())?;
    }

    #[test]
    fn anthropic_mapping_survives_mutated_transcripts(bytes in mutated(ANTHROPIC), chunk in 1usize..64) {
        check(&bytes, chunk, Mode::Standard, AnthropicMapper::default())?;
    }

    #[test]
    fn openai_mapping_survives_arbitrary_bytes(bytes in soup(), chunk in 1usize..64) {
        check(&bytes, chunk, Mode::Standard, OpenAiMapper::default())?;
    }

    #[test]
    fn openai_mapping_survives_mutated_transcripts(bytes in mutated(OPENAI), chunk in 1usize..64) {
        check(&bytes, chunk, Mode::Standard, OpenAiMapper::default())?;
    }

    #[test]
    fn gemini_mapping_survives_arbitrary_bytes(bytes in soup(), chunk in 1usize..64) {
        check(&bytes, chunk, Mode::WithBareJson, GeminiMapper::default())?;
    }

    #[test]
    fn gemini_mapping_survives_mutated_transcripts(bytes in mutated(GEMINI), chunk in 1usize..64) {
        check(&bytes, chunk, Mode::WithBareJson, GeminiMapper::default())?;
    }
}

#[test]
fn an_sse_line_over_the_limit_ends_the_stream_with_a_clear_error() {
    let mut bytes = b"event: message_start\ndata: ".to_vec();
    bytes.resize(bytes.len() + super::sse::MAX_EVENT_BYTES + 10, b'x');
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let out = rt.block_on(map_transcript(
        &bytes,
        64 * 1024,
        Mode::Standard,
        AnthropicMapper::default(),
    ));
    assert_eq!(out.len(), 1, "{:?}", out.len());
    let err = out[0].as_ref().expect_err("an error");
    assert_eq!(err.class, super::ErrorClass::MalformedStream);
    assert!(err.message.contains("larger than 4 MiB"), "{}", err.message);
}
