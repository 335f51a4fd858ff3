//! Fitting a conversation into a model's context window: keep the system prompt, pinned
//! messages (attached files) and the newest turns, drop the oldest turns, and say so in a
//! short note the model sees. Also the note that tells a model it takes over from another.
//!
//! Pure functions: the caller passes the token counter (exact for the local model, through
//! its tokenizer; [`estimate_tokens`] for remote models).

use crate::provider::{ChatMessage, Role};

/// Tokens added per message for the chat template's role markers (`<|im_start|>user\n` …
/// `<|im_end|>\n` is 5 tokens for `ChatML`; other templates are similar or smaller).
pub const MESSAGE_OVERHEAD: usize = 8;

/// A rough token count for remote models: one token per 4 characters, rounded up.
pub fn estimate_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// The note inserted where messages were left out.
pub fn omitted_note(n: usize) -> String {
    let what = if n == 1 {
        "message was"
    } else {
        "messages were"
    };
    format!("[aiw: {n} earlier {what} left out to fit this model's context window]")
}

/// Text telling a model it is taking over a conversation that another model started.
pub fn handoff_note(from_model: &str) -> String {
    format!(
        "[aiw: you are taking over this conversation from another model ({from_model}), which \
         became unavailable. The earlier assistant messages were written by it. Continue from \
         where it left off without repeating them.]"
    )
}

/// The result of fitting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fitted {
    /// The messages to send, oldest first, with the omission note prefixed to the first one
    /// when something was dropped.
    pub messages: Vec<ChatMessage>,
    /// Indices (into the input) of the messages that were left out, oldest first.
    pub dropped: Vec<usize>,
    /// Tokens the fitted conversation is counted at (system prompt included).
    pub tokens: usize,
}

/// Why a conversation cannot be fitted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the system prompt, pinned messages and the last message need {needed} tokens, but the budget is {budget}"
)]
pub struct FitError {
    /// Tokens the mandatory part needs.
    pub needed: usize,
    /// The budget given.
    pub budget: usize,
}

/// Fits `messages` (oldest first) plus `system` into `budget` tokens.
///
/// Turns are dropped whole (a user message with the replies that follow it), oldest first,
/// so user/assistant alternation stays sane; the last turn, pinned messages and the system
/// prompt are always kept. Kept messages that end up adjacent with the same role are merged.
pub fn fit(
    system: &str,
    messages: &[ChatMessage],
    pinned: &[usize],
    budget: usize,
    count: &mut dyn FnMut(&str) -> usize,
) -> Result<Fitted, FitError> {
    let cost: Vec<usize> = messages
        .iter()
        .map(|m| count(&m.content) + MESSAGE_OVERHEAD)
        .collect();
    let system_cost = count(system) + MESSAGE_OVERHEAD;
    let total: usize = system_cost + cost.iter().sum::<usize>();
    if total <= budget {
        return Ok(Fitted {
            messages: messages.to_vec(),
            dropped: Vec::new(),
            tokens: total,
        });
    }

    // Turns: each starts at a user message (a leading assistant message forms its own turn).
    let mut turns: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        if i == 0 || m.role == Role::User {
            turns.push(i..i + 1);
        } else if let Some(t) = turns.last_mut() {
            t.end = i + 1;
        }
    }
    let mut keep = vec![false; messages.len()];
    for &p in pinned {
        if p < keep.len() {
            keep[p] = true;
        }
    }
    if let Some(last) = turns.last() {
        for i in last.clone() {
            keep[i] = true;
        }
    }
    // The note's cost, counted with a generous number so it never pushes us over.
    let note_cost = count(&omitted_note(messages.len())) + 2;
    let kept_cost = |keep: &[bool]| -> usize {
        keep.iter()
            .zip(&cost)
            .filter(|(k, _)| **k)
            .map(|(_, c)| c)
            .sum()
    };
    let mandatory = system_cost + kept_cost(&keep) + note_cost;
    if mandatory > budget {
        return Err(FitError {
            needed: mandatory,
            budget,
        });
    }
    // Newest turns first, while they fit; stop at the first that does not, so the kept history
    // is one contiguous recent stretch (plus pinned messages).
    let mut used = mandatory;
    for t in turns.iter().rev().skip(1) {
        let extra: usize = t.clone().filter(|&i| !keep[i]).map(|i| cost[i]).sum();
        if used + extra > budget {
            break;
        }
        used += extra;
        for i in t.clone() {
            keep[i] = true;
        }
    }

    let dropped: Vec<usize> = (0..messages.len()).filter(|&i| !keep[i]).collect();
    let mut out: Vec<ChatMessage> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        if !keep[i] {
            continue;
        }
        match out.last_mut() {
            Some(prev) if prev.role == m.role => {
                prev.content.push_str("\n\n");
                prev.content.push_str(&m.content);
            }
            _ => out.push(m.clone()),
        }
    }
    // A conversation should start with the user: a leading assistant message gets the note
    // as a user message of its own; otherwise the note prefixes the first user message.
    let note = omitted_note(dropped.len());
    match out.first_mut() {
        Some(first) if first.role == Role::User => {
            first.content = format!("{note}\n\n{}", first.content);
        }
        _ => out.insert(0, ChatMessage::user(note)),
    }
    let tokens = system_cost
        + out
            .iter()
            .map(|m| count(&m.content) + MESSAGE_OVERHEAD)
            .sum::<usize>();
    Ok(Fitted {
        messages: out,
        dropped,
        tokens,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }

    fn convo(turns: usize, words_per_msg: usize) -> Vec<ChatMessage> {
        let body = |tag: &str, i: usize| format!("{tag}{i} {}", "w ".repeat(words_per_msg - 1));
        (0..turns)
            .flat_map(|i| {
                [
                    ChatMessage::user(body("q", i)),
                    ChatMessage::assistant(body("a", i)),
                ]
            })
            .chain([ChatMessage::user("final question")])
            .collect()
    }

    #[test]
    fn everything_fits_unchanged() {
        let msgs = convo(3, 5);
        let f = fit("sys", &msgs, &[], 10_000, &mut words).unwrap();
        assert_eq!(f.messages, msgs);
        assert!(f.dropped.is_empty());
    }

    #[test]
    fn drops_oldest_turns_keeps_newest_and_adds_note() {
        let msgs = convo(10, 20);
        // each message costs 28; system 9; last 10; note ~17
        let f = fit("sys", &msgs, &[], 200, &mut words).unwrap();
        assert!(f.tokens <= 200, "{}", f.tokens);
        assert!(!f.dropped.is_empty());
        assert_eq!(f.dropped[0], 0, "oldest goes first");
        // contiguous drop of whole turns: an even count from the start
        assert_eq!(f.dropped, (0..f.dropped.len()).collect::<Vec<_>>());
        assert_eq!(f.dropped.len() % 2, 0);
        assert_eq!(f.messages.last().unwrap().content, "final question");
        assert!(
            f.messages[0]
                .content
                .starts_with(&omitted_note(f.dropped.len()))
        );
        assert_eq!(f.messages[0].role, Role::User);
        for w in f.messages.windows(2) {
            assert_ne!(w[0].role, w[1].role, "roles alternate");
        }
    }

    #[test]
    fn pinned_messages_survive_and_roles_still_alternate() {
        let msgs = convo(10, 20);
        let f = fit("sys", &msgs, &[2], 200, &mut words).unwrap();
        assert!(!f.dropped.contains(&2));
        assert!(f.messages.iter().any(|m| m.content.contains("q1 ")));
        for w in f.messages.windows(2) {
            assert_ne!(w[0].role, w[1].role);
        }
        assert!(f.tokens <= 200);
    }

    #[test]
    fn too_small_a_budget_is_an_error() {
        let msgs = convo(2, 50);
        let err = fit(&"s ".repeat(100), &msgs, &[], 120, &mut words).unwrap_err();
        assert_eq!(err.budget, 120);
        assert!(err.needed > 120);
    }

    #[test]
    fn estimate_rounds_up() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abc"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert!(handoff_note("anthropic/claude").contains("taking over"));
        assert_eq!(
            omitted_note(1),
            "[aiw: 1 earlier message was left out to fit this model's context window]"
        );
    }
}
