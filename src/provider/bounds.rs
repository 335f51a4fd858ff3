//! Bounds on one streamed answer, whichever client produced it (remote or local): the answer
//! text is cut at a size limit (`[limits] answer`) with a clear error, and the rest of the
//! stream is dropped (closing the connection), so a server that never stops sending cannot
//! grow aiw's memory. The time bounds (first token, stall, `[timeouts] total`) are the
//! router's; the SSE line bound is the parser's (`sse.rs`).

use futures_util::StreamExt as _;

use super::{ChatEvent, ErrorClass, EventStream, ProviderError};

/// The error that ends a stream whose answer passed `limit` bytes.
pub fn answer_too_large(limit: usize) -> ProviderError {
    let mut err = ProviderError::new(
        ErrorClass::MalformedStream,
        format!(
            "the answer passed the {} limit (`[limits] answer`) and was cut there: an answer \
             that long is a runaway or hostile stream",
            crate::config::format_size(limit)
        ),
    );
    err.should_retry = Some(false);
    err
}

struct Bounded {
    inner: EventStream,
    seen: usize,
    limit: usize,
    done: bool,
}

/// Wraps `stream` so that its answer text stays within `max_answer_bytes`: the piece that
/// would pass the limit is replaced by [`answer_too_large`], and the stream ends there.
pub fn bound(stream: EventStream, max_answer_bytes: usize) -> EventStream {
    let state = Bounded {
        inner: stream,
        seen: 0,
        limit: max_answer_bytes,
        done: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        let item = st.inner.next().await?;
        match item {
            Ok(ChatEvent::Text(text)) => {
                st.seen = st.seen.saturating_add(text.len());
                if st.seen > st.limit {
                    st.done = true;
                    // Drop the body now: the connection closes and nothing more is buffered.
                    st.inner = Box::pin(futures_util::stream::empty());
                    return Some((Err(answer_too_large(st.limit)), st));
                }
                Some((Ok(ChatEvent::Text(text)), st))
            }
            other => {
                st.done = matches!(other, Ok(ChatEvent::Done { .. }) | Err(_));
                Some((other, st))
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::StopReason;

    fn collect(s: EventStream) -> Vec<Result<ChatEvent, ProviderError>> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(s.collect())
    }

    #[test]
    fn a_never_ending_answer_is_cut_at_the_limit() {
        let endless = futures_util::stream::repeat_with(|| Ok(ChatEvent::Text("x".repeat(1000))));
        let out = collect(bound(Box::pin(endless), 10_000));
        let text: usize = out
            .iter()
            .filter_map(|e| match e {
                Ok(ChatEvent::Text(t)) => Some(t.len()),
                _ => None,
            })
            .sum();
        assert_eq!(text, 10_000);
        let err = out.last().unwrap().as_ref().unwrap_err();
        assert_eq!(err.class, ErrorClass::MalformedStream);
        assert!(err.message.contains("[limits] answer"), "{}", err.message);
        assert!(err.message.contains("9.8 KiB"), "{}", err.message);
        assert!(!err.is_retryable());
    }

    #[test]
    fn answers_within_the_limit_pass_unchanged() {
        let events = vec![
            Ok(ChatEvent::Started { model: None }),
            Ok(ChatEvent::Text("hello".into())),
            Ok(ChatEvent::Done {
                stop: StopReason::EndTurn,
            }),
            Ok(ChatEvent::Text("after done".into())),
        ];
        let out = collect(bound(Box::pin(futures_util::stream::iter(events)), 5));
        assert_eq!(out.len(), 3, "nothing after Done: {out:?}");
        assert!(matches!(out[2], Ok(ChatEvent::Done { .. })));
    }
}
