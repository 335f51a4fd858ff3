//! Multi-pass reduction on the destination model, for a history that meets the local
//! model's window when no rolling summary is ready (an outage at turn 3 of a long pasted
//! context, or a gateway agent's request): the turns before the last are cut into chunks that
//! fit the model, the model summarises each chunk itself, and the chunk summaries, in order,
//! are merged into the one summary that fitting then puts in place of the turns left out.
//!
//! Bounded: at most [`MAX_CHUNKS`] chunks (the oldest, where the facts a trim would lose
//! are), [`CHUNK_ANSWER`] tokens per answer and a third of the window for all of them, and
//! [`LIMIT`] in all; the caller hears each step
//! ([`RouterEvent::Reducing`]). When it cannot finish, the request goes on as it was and
//! fitting trims the oldest turns as before.

use std::fmt::Write as _;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio_util::sync::CancellationToken;

use super::call::OnEvent;
use super::events::RouterEvent;
use crate::config::ModelRef;
use crate::conversation::fit::plain_text;
use crate::conversation::history::estimate_text_tokens;
use crate::provider::{ChatEvent, ChatRequest, Client, Message, Role};

/// The whole reduction's time limit (a small model on two busy cores takes about 20 s per
/// chunk).
pub const LIMIT: Duration = Duration::from_secs(180);

/// The most chunks summarised.
pub const MAX_CHUNKS: usize = 6;

/// Output limit of one chunk summary (less when the summaries together would take more than
/// a third of the window).
pub const CHUNK_ANSWER: u32 = 160;

/// The most characters of one message that go into a chunk.
const MESSAGE_CHARS: usize = 4_000;

const SYSTEM: &str = "Summarise this part of a conversation between a user and a coding assistant for someone who must continue the work. Keep every name, identifier, file path, number, decision and constraint. Use short bullet points. At most 100 words.";

/// Whether `req` needs reducing for a model with a `window`-token context: it has no summary
/// and fitting it (by estimate) would leave out whole turns, not only old tool results.
pub fn needed(req: &ChatRequest, window: usize) -> bool {
    if req.summary.is_some() || req.messages.len() < 3 {
        return false;
    }
    let mut count = estimate_text_tokens;
    matches!(
        req.fit_into(window, &mut count),
        Ok(Some((_, report))) if report.kept < report.turns
    )
}

/// The older turns as chunks of text of at most about `chunk_tokens` (estimated) each,
/// oldest first, at most [`MAX_CHUNKS`].
fn chunks(messages: &[Message], chunk_tokens: usize) -> Vec<String> {
    // Everything before the last person's message (which fitting always keeps).
    let last = messages
        .iter()
        .rposition(|m| m.role == Role::User)
        .unwrap_or(messages.len());
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for m in &messages[..last] {
        let who = match m.role {
            Role::User => "User",
            Role::Assistant => "Assistant",
        };
        let text: String = plain_text(m).chars().take(MESSAGE_CHARS).collect();
        let line = format!("{who}: {}\n", text.trim());
        if !cur.is_empty()
            && estimate_text_tokens(&cur) + estimate_text_tokens(&line) > chunk_tokens
        {
            out.push(std::mem::take(&mut cur));
            if out.len() == MAX_CHUNKS {
                return out;
            }
        }
        // A single message larger than a chunk is cut to it.
        let cap = chunk_tokens * 3;
        cur.extend(line.chars().take(cap));
    }
    if !cur.is_empty() && out.len() < MAX_CHUNKS {
        out.push(cur);
    }
    out
}

/// One chunk's summary from `model`, or why there is none.
async fn summarise(
    client: &Client,
    model: &ModelRef,
    chunk: &str,
    max_tokens: u32,
) -> Result<String, String> {
    let req = ChatRequest {
        system: Some(SYSTEM.to_string()),
        messages: vec![Message::user(format!(
            "<conversation-part>\n{chunk}</conversation-part>\n\nSummarise it."
        ))],
        max_tokens: Some(max_tokens),
        temperature: Some(0.0),
        ..ChatRequest::default()
    };
    let mut stream = client
        .stream(&model.model, &req)
        .await
        .map_err(|e| e.to_string())?;
    let mut text = String::new();
    while let Some(ev) = stream.next().await {
        match ev.map_err(|e| e.to_string())? {
            ChatEvent::Text(t) => text.push_str(&t),
            ChatEvent::Done { .. } => break,
            _ => {}
        }
    }
    let text = text.trim().to_string();
    if text.is_empty() {
        return Err("it wrote an empty summary".into());
    }
    Ok(text)
}

/// Reduces the turns of `req` before its last question to one summary on `model` itself,
/// for a `window`-token context. An error saying why when it cannot (a failed chunk, the time
/// limit, or `cancel`): the caller then sends the request as it is.
pub async fn reduce(
    client: &Client,
    model: &ModelRef,
    req: &ChatRequest,
    window: usize,
    on_event: OnEvent<'_>,
    cancel: &CancellationToken,
) -> Result<String, String> {
    // A chunk and its instructions take at most half the window, its answer a little more.
    let chunk_tokens = (window / 2)
        .saturating_sub(CHUNK_ANSWER as usize + 64)
        .max(64);
    let parts = chunks(&req.messages, chunk_tokens);
    if parts.is_empty() {
        return Err("there are no earlier turns to summarise".into());
    }
    let of = parts.len();
    let share = u32::try_from(window / 3 / of).unwrap_or(CHUNK_ANSWER);
    let answer = share.clamp(32, CHUNK_ANSWER);
    let work = async {
        let mut merged = String::new();
        for (i, part) in parts.iter().enumerate() {
            on_event(RouterEvent::Reducing {
                model: model.clone(),
                done: i,
                of,
            });
            let s = summarise(client, model, part, answer)
                .await
                .map_err(|e| format!("part {} of {of}: {e}", i + 1))?;
            let _ = writeln!(merged, "Part {} of {of}:\n{s}\n", i + 1);
        }
        on_event(RouterEvent::Reducing {
            model: model.clone(),
            done: of,
            of,
        });
        Ok(merged.trim_end().to_string())
    };
    tokio::select! {
        r = tokio::time::timeout(LIMIT, work) => r.unwrap_or_else(|_| {
            Err(format!("not done within {} s", LIMIT.as_secs()))
        }),
        () = cancel.cancelled() => Err("cancelled".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_turns_are_chunked_oldest_first_and_bounded() {
        let mut msgs = Vec::new();
        for i in 0..40 {
            msgs.push(Message::user(format!("q{i} {}", "word ".repeat(60))));
            msgs.push(Message::assistant(format!("a{i} {}", "word ".repeat(60))));
        }
        msgs.push(Message::user("last question"));
        let c = chunks(&msgs, 400);
        assert_eq!(c.len(), MAX_CHUNKS);
        assert!(c[0].starts_with("User: q0 "));
        assert!(c.iter().all(|p| estimate_text_tokens(p) <= 400 + 100));
        assert!(!c.iter().any(|p| p.contains("last question")));
        let req = ChatRequest {
            messages: msgs,
            ..ChatRequest::default()
        };
        assert!(needed(&req, 1000));
        assert!(!needed(&req, 1_000_000));
        let with = ChatRequest {
            summary: Some("s".into()),
            ..req
        };
        assert!(!needed(&with, 1000), "a ready summary is used instead");
    }
}
