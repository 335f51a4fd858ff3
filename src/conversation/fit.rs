//! Fitting a conversation into a model's context window, in a documented order: first the
//! contents of old tool results are left out (oldest first, each replaced by a one-line note;
//! an agent's history is mostly tool output), then the oldest turns are dropped whole; the
//! system prompt, pinned messages (attached files) and the last turn are always kept, and a
//! short note says what was left out. A turn is a user message with everything that answers it,
//! including the tool calls and tool results of an agent loop, so a `tool_use` and its
//! `tool_result` are always kept or dropped together.
//!
//! With a rolling summary of the session (made earlier by a healthy cloud model), the dropped
//! turns are replaced by that summary instead of the bare note: the request becomes system
//! prompt + summary + as many recent turns as fit.
//!
//! Pure functions: the caller passes the token counter (exact for the local model, through
//! its tokenizer; [`super::history::estimate_text_tokens`] for remote models).

use std::fmt::Write as _;

use super::{Block, ImageSource, Message, Role};

/// Tokens added per message for the chat template's role markers (`<|im_start|>user\n` …
/// `<|im_end|>\n` is 5 tokens for `ChatML`; other templates are similar or smaller).
pub const MESSAGE_OVERHEAD: usize = 8;

/// Tokens an image is counted at (what Anthropic charges for a 1.15-megapixel image).
pub const IMAGE_TOKENS: usize = 1_600;

/// What replaces the content of a tool result left out to fit.
pub const ELIDED_RESULT: &str =
    "[aiw: this tool result was left out to fit this model's context window]";

/// The note inserted where messages were left out.
pub fn omitted_note(n: usize) -> String {
    let what = if n == 1 {
        "message was"
    } else {
        "messages were"
    };
    format!("[aiw: {n} earlier {what} left out to fit this model's context window]")
}

/// What stands in for the turns left out when a summary of them is at hand: a note saying how
/// many turns it replaces, and the summary.
pub fn summary_note(turns: usize, summary: &str) -> String {
    format!(
        "[aiw: history summarised: the {turns} earlier turns of this conversation were left out to fit this model's context window; this summary of the conversation so far stands in for them]\n<summary>\n{}\n</summary>",
        summary.trim()
    )
}

/// What fitting did, in turns, for the note the user sees and the session keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FitReport {
    /// Turns in the history before fitting.
    pub turns: usize,
    /// Turns sent (whole or with old tool results left out).
    pub kept: usize,
    /// Whether a summary stands in for the turns left out.
    pub summarised: bool,
    /// Tokens of the request sent, as counted for its model.
    pub tokens: usize,
    /// The budget it was fitted into.
    pub budget: usize,
    /// Whether `tokens` is an exact count with the model's own tokenizer (local) rather than
    /// an estimate (remote).
    pub exact: bool,
}

impl FitReport {
    /// The line the user sees: `history summarised for M: 48 turns -> summary + last 6` or
    /// `history trimmed for M: 42 of 48 turns left out to fit its context window`.
    pub fn describe(&self, model: &str) -> String {
        if self.summarised {
            format!(
                "history summarised for {model}: {} turns -> summary + last {}",
                self.turns, self.kept
            )
        } else {
            format!(
                "history trimmed for {model}: {} of {} turns left out to fit its context window",
                self.turns.saturating_sub(self.kept),
                self.turns
            )
        }
    }
}

/// The result of fitting.
#[derive(Clone, Debug, PartialEq)]
pub struct Fitted {
    /// The messages to send, oldest first, with the omission note prefixed to the first one
    /// when something was dropped.
    pub messages: Vec<Message>,
    /// Indices (into the input) of the messages that were left out, oldest first.
    pub dropped: Vec<usize>,
    /// Tokens the fitted conversation is counted at (system prompt included).
    pub tokens: usize,
    /// Whether the summary stands in for the dropped turns (false when nothing was dropped,
    /// no summary was given, or it did not fit either).
    pub summarised: bool,
    /// Turns in the input.
    pub turns: usize,
    /// Turns kept.
    pub kept_turns: usize,
}

impl Fitted {
    /// Whether whole turns were left out.
    pub fn dropped_turns(&self) -> bool {
        self.kept_turns < self.turns
    }

    /// The report of this fit (`exact`: counted with the model's own tokenizer).
    pub fn report(&self, budget: usize, exact: bool) -> FitReport {
        FitReport {
            turns: self.turns,
            kept: self.kept_turns,
            summarised: self.summarised,
            tokens: self.tokens,
            budget,
            exact,
        }
    }
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

/// A message as plain text, the way its size is counted: text, thinking, tool calls as
/// `name(arguments)`, tool results by their text. Images are counted apart
/// ([`IMAGE_TOKENS`] each).
pub fn plain_text(m: &Message) -> String {
    let mut out = String::new();
    for b in &m.blocks {
        plain_block(b, &mut out);
    }
    out
}

fn plain_block(b: &Block, out: &mut String) {
    if !out.is_empty() {
        out.push('\n');
    }
    match b {
        Block::Text { text, .. } | Block::Thinking { text, .. } => out.push_str(text),
        Block::ToolUse { name, input, .. } => {
            let _ = write!(out, "{name}({input})");
        }
        Block::ToolResult { content, .. } => {
            for c in content {
                plain_block(c, out);
            }
        }
        Block::Image { .. } => {}
        Block::Opaque { raw, .. } => out.push_str(&raw.to_string()),
    }
}

fn images(m: &Message) -> usize {
    fn count(b: &Block) -> usize {
        match b {
            Block::Image {
                source: ImageSource::Base64 { .. } | ImageSource::Url { .. },
            } => 1,
            Block::ToolResult { content, .. } => content.iter().map(count).sum(),
            _ => 0,
        }
    }
    m.blocks.iter().map(count).sum()
}

/// What one message costs, counted with `count` over its plain text.
pub fn message_cost(m: &Message, count: &mut dyn FnMut(&str) -> usize) -> usize {
    count(&plain_text(m)) + images(m) * IMAGE_TOKENS + MESSAGE_OVERHEAD
}

/// Whether a user message starts a new turn (a person speaking) rather than carrying tool
/// results back to the model inside an agent loop.
fn starts_turn(m: &Message) -> bool {
    m.role == Role::User
        && m.blocks
            .iter()
            .any(|b| !matches!(b, Block::ToolResult { .. }))
}

/// Fits `messages` (oldest first) plus `system` into `budget` tokens.
///
/// Turns are dropped whole, oldest first, so user/assistant alternation stays sane and tool
/// pairs stay together; the last turn, pinned messages and the system prompt are always kept.
/// Kept messages that end up adjacent with the same role are merged. With a `summary`, it
/// replaces the dropped turns (see [`summary_note`]) when it fits with the last turn.
pub fn fit(
    system: &str,
    messages: &[Message],
    pinned: &[usize],
    summary: Option<&str>,
    budget: usize,
    count: &mut dyn FnMut(&str) -> usize,
) -> Result<Fitted, FitError> {
    let mut cost: Vec<usize> = messages.iter().map(|m| message_cost(m, count)).collect();
    let system_cost = count(system) + MESSAGE_OVERHEAD;
    let mut total: usize = system_cost + cost.iter().sum::<usize>();
    let turns_in = messages.iter().filter(|m| starts_turn(m)).count().max(1);
    if total <= budget {
        return Ok(Fitted {
            messages: messages.to_vec(),
            dropped: Vec::new(),
            tokens: total,
            summarised: false,
            turns: turns_in,
            kept_turns: turns_in,
        });
    }
    // First, old tool results: everything before the last turn, oldest first.
    let last_turn_start = messages
        .iter()
        .rposition(starts_turn)
        .unwrap_or(messages.len().saturating_sub(1));
    let mut elided: Vec<Message> = messages.to_vec();
    for i in 0..last_turn_start {
        if total <= budget {
            break;
        }
        let mut changed = false;
        for b in &mut elided[i].blocks {
            if let Block::ToolResult { content, .. } = b
                && content.as_slice() != [Block::text(ELIDED_RESULT)]
            {
                *content = vec![Block::text(ELIDED_RESULT)];
                changed = true;
            }
        }
        if changed {
            let new = message_cost(&elided[i], count);
            total = total - cost[i] + new;
            cost[i] = new;
        }
    }
    if total <= budget {
        return Ok(Fitted {
            messages: elided,
            dropped: Vec::new(),
            tokens: total,
            summarised: false,
            turns: turns_in,
            kept_turns: turns_in,
        });
    }
    let messages = elided.as_slice();

    let mut turns: Vec<std::ops::Range<usize>> = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        if i == 0 || starts_turn(m) {
            turns.push(i..i + 1);
        } else if let Some(t) = turns.last_mut() {
            t.end = i + 1;
        }
    }
    let mut keep = vec![false; messages.len()];
    // A pinned message keeps its whole turn, so a pinned tool result keeps its call.
    for &p in pinned {
        if let Some(t) = turns.iter().find(|t| t.contains(&p)) {
            for i in t.clone() {
                keep[i] = true;
            }
        }
    }
    if let Some(last) = turns.last() {
        for i in last.clone() {
            keep[i] = true;
        }
    }
    let kept_cost = |keep: &[bool]| -> usize {
        keep.iter()
            .zip(&cost)
            .filter(|(k, _)| **k)
            .map(|(_, c)| c)
            .sum()
    };
    // The note's cost, counted with a generous number so it never pushes us over. The summary
    // is used when it fits with the mandatory part; else the bare note.
    let plain_cost = count(&omitted_note(messages.len())) + 2;
    let summary_cost = summary
        .filter(|s| !s.trim().is_empty())
        .map(|s| (s, count(&summary_note(messages.len(), s)) + 2));
    let base = system_cost + kept_cost(&keep);
    let (summary, note_cost) = match summary_cost {
        Some((s, c)) if base + c <= budget => (Some(s), c),
        _ => (None, plain_cost),
    };
    let mandatory = base + note_cost;
    if mandatory > budget {
        return Err(FitError {
            needed: mandatory,
            budget,
        });
    }
    // Newest turns first, while they fit; stop at the first that does not, so the kept history
    // is one contiguous recent stretch (plus pinned turns).
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
    let kept_turns = turns
        .iter()
        .filter(|t| keep[t.start] && starts_turn(&messages[t.start]))
        .count();
    let mut out: Vec<Message> = messages
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(m, _)| m.clone())
        .collect();
    super::history::merge_same_role(&mut out);
    // A conversation should start with the user: a leading assistant message gets the note
    // as a user message of its own; otherwise the note prefixes the first user message.
    let note = match summary {
        Some(s) => summary_note(turns_in.saturating_sub(kept_turns), s),
        None => omitted_note(dropped.len()),
    };
    match out.first_mut() {
        Some(first) if first.role == Role::User => match first.blocks.first_mut() {
            Some(Block::Text { text, .. }) => *text = format!("{note}\n\n{text}"),
            _ => first.blocks.insert(0, Block::text(note)),
        },
        _ => out.insert(0, Message::user(note)),
    }
    let tokens = system_cost + out.iter().map(|m| message_cost(m, count)).sum::<usize>();
    Ok(Fitted {
        messages: out,
        dropped,
        tokens,
        summarised: summary.is_some(),
        turns: turns_in,
        kept_turns,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// Counts words: a tokenizer for tests.
    pub(crate) fn words(s: &str) -> usize {
        s.split_whitespace().count()
    }

    /// `turns` question/answer pairs of `words_per_msg` words each, then a final question.
    pub(crate) fn convo(turns: usize, words_per_msg: usize) -> Vec<Message> {
        let body = |tag: &str, i: usize| format!("{tag}{i} {}", "w ".repeat(words_per_msg - 1));
        (0..turns)
            .flat_map(|i| {
                [
                    Message::user(body("q", i)),
                    Message::assistant(body("a", i)),
                ]
            })
            .chain([Message::user("final question")])
            .collect()
    }

    #[test]
    fn everything_fits_unchanged() {
        let msgs = convo(3, 5);
        let f = fit("sys", &msgs, &[], None, 10_000, &mut words).unwrap();
        assert_eq!(f.messages, msgs);
        assert!(f.dropped.is_empty());
    }

    #[test]
    fn drops_oldest_turns_keeps_newest_and_adds_note() {
        let msgs = convo(10, 20);
        let f = fit("sys", &msgs, &[], None, 200, &mut words).unwrap();
        assert!(f.tokens <= 200, "{}", f.tokens);
        assert!(!f.dropped.is_empty());
        assert_eq!(f.dropped, (0..f.dropped.len()).collect::<Vec<_>>());
        assert_eq!(f.dropped.len() % 2, 0);
        assert_eq!(f.messages.last().unwrap().text(), "final question");
        assert!(
            f.messages[0]
                .text()
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
        let f = fit("sys", &msgs, &[2], None, 200, &mut words).unwrap();
        assert!(!f.dropped.contains(&2));
        assert!(f.messages.iter().any(|m| m.text().contains("q1 ")));
        for w in f.messages.windows(2) {
            assert_ne!(w[0].role, w[1].role);
        }
        assert!(f.tokens <= 200);
    }

    #[test]
    fn tool_pairs_are_kept_or_dropped_together() {
        let call = |id: &str| Message {
            role: Role::Assistant,
            blocks: vec![Block::ToolUse {
                id: id.into(),
                name: "Read".into(),
                input: json!({"path": "w ".repeat(30)}),
                signature: None,
            }],
        };
        let result = |id: &str| Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                tool_use_id: id.into(),
                content: vec![Block::text("w ".repeat(40))],
                is_error: false,
            }],
        };
        let mut msgs = Vec::new();
        for i in 0..6 {
            let id = format!("t{i}");
            msgs.extend([
                Message::user(format!("task {i}")),
                call(&id),
                result(&id),
                Message::assistant("done"),
            ]);
        }
        msgs.push(Message::user("last"));
        for budget in [120, 200, 260, 400] {
            let f = fit("sys", &msgs, &[], None, budget, &mut words).unwrap();
            let mut fitted = f.messages.clone();
            crate::conversation::history::repair_tool_pairs(&mut fitted);
            assert_eq!(fitted, f.messages, "budget {budget}: no orphan to repair");
            assert!(f.tokens <= budget, "budget {budget}: {}", f.tokens);
        }
    }

    #[test]
    fn old_tool_results_go_before_any_turn() {
        let call = |id: &str| Message {
            role: Role::Assistant,
            blocks: vec![Block::ToolUse {
                id: id.into(),
                name: "Read".into(),
                input: json!({}),
                signature: None,
            }],
        };
        let result = |id: &str, words: usize| Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                tool_use_id: id.into(),
                content: vec![Block::text("w ".repeat(words))],
                is_error: false,
            }],
        };
        let msgs = vec![
            Message::user("task one"),
            call("a"),
            result("a", 300),
            Message::assistant("done one"),
            Message::user("task two"),
            call("b"),
            result("b", 300),
        ];
        let f = fit("sys", &msgs, &[], None, 420, &mut words).unwrap();
        assert!(f.dropped.is_empty(), "no turn had to go: {:?}", f.dropped);
        assert!(f.tokens <= 420, "{}", f.tokens);
        let texts: Vec<String> = f.messages.iter().map(plain_text).collect();
        assert_eq!(texts[2], ELIDED_RESULT, "the old result was left out");
        assert!(
            texts[6].starts_with("w w"),
            "the last turn's result is kept"
        );
        assert_eq!(f.messages.len(), msgs.len());
    }

    #[test]
    fn a_summary_stands_in_for_the_dropped_turns() {
        let msgs = convo(30, 20);
        let summary = "Goal: port the parser. Decisions: codename BLUEFIN.";
        let f = fit("sys", &msgs, &[], Some(summary), 200, &mut words).unwrap();
        assert!(f.summarised);
        assert!(f.tokens <= 200, "{}", f.tokens);
        assert_eq!(f.turns, 31);
        assert!((1..31).contains(&f.kept_turns), "{}", f.kept_turns);
        let first = f.messages[0].text();
        assert!(first.contains("BLUEFIN"), "{first}");
        assert!(
            first.starts_with(&format!(
                "[aiw: history summarised: the {} earlier turns",
                31 - f.kept_turns
            )),
            "{first}"
        );
        assert_eq!(f.messages.last().unwrap().text(), "final question");
        for w in f.messages.windows(2) {
            assert_ne!(w[0].role, w[1].role);
        }
        assert_eq!(
            f.report(200, false).describe("local/m"),
            format!(
                "history summarised for local/m: 31 turns -> summary + last {}",
                f.kept_turns
            )
        );
        // A summary too big for the budget falls back to the bare note.
        let huge = "fact ".repeat(500);
        let f = fit("sys", &msgs, &[], Some(&huge), 200, &mut words).unwrap();
        assert!(!f.summarised);
        assert!(f.messages[0].text().starts_with("[aiw: "));
        assert!(f.tokens <= 200);
        // Nothing dropped: the summary is not used.
        let f = fit("sys", &msgs, &[], Some(summary), 100_000, &mut words).unwrap();
        assert!(!f.summarised && !f.dropped_turns());
    }

    #[test]
    fn too_small_a_budget_is_an_error() {
        let msgs = convo(2, 50);
        let err = fit(&"s ".repeat(100), &msgs, &[], None, 120, &mut words).unwrap_err();
        assert_eq!(err.budget, 120);
        assert!(err.needed > 120);
        assert_eq!(
            omitted_note(1),
            "[aiw: 1 earlier message was left out to fit this model's context window]"
        );
    }
}
