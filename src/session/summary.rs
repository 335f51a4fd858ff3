//! The rolling session summary: while a cloud model is healthy, a cheap one is asked in the
//! background for a structured summary of the session (goal, decisions, files and
//! identifiers, open questions, last code state), so that when only a smaller model is left
//! the summary can stand in for the turns its window cannot hold (`conversation::fit`).
//!
//! Here: when a refresh is due (`[summary] every_turns` new turns or `every_tokens` tokens of
//! new history), which model writes it (`[summary] model`, else the route's cheapest cloud
//! model), the request that asks for it (the previous summary plus the new turns only, each
//! bounded), and [`refresh`], which runs it on its own router call: it never shares a
//! request, lock or queue with the foreground answer, so a stalled summariser delays nothing.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::Session;
use crate::config::ModelRef;
use crate::config::{ProviderKind, Settings, SummarySettings};
use crate::conversation::history::estimate_text_tokens;
use crate::conversation::text_of;
use crate::provider::{ChatRequest, Message, Usage};
use crate::router::Router;

/// A summary of the first `turns` turns of a session.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollingSummary {
    /// The summary, in the sections of [`SYSTEM`].
    pub text: String,
    /// How many turns (from the start, after the last `/clear`) it covers.
    pub turns: usize,
    /// The model that wrote it.
    pub model: ModelRef,
    /// What writing it cost.
    #[serde(default)]
    pub usage: Usage,
    /// When it was written (RFC 3339).
    pub at: String,
}

/// The summariser's instructions.
pub const SYSTEM: &str = "You maintain the running summary of a conversation between a user and an AI coding assistant, so that another, smaller model can continue the work without the full history. Update the summary with the new turns. Keep every concrete fact: names, identifiers, file paths, numbers, versions, commands, and every decision or constraint the user stated; drop pleasantries. Answer with the summary only, in exactly these sections:\n## Goal\n## Decisions and constraints\n## Files and identifiers\n## Open questions\n## Last code state\nAt most 400 words.";

/// Words in a model name that mark a small, cheap tier.
const SMALL: [&str; 6] = ["haiku", "mini", "nano", "flash", "lite", "small"];

/// Output limit of one summary call.
pub const MAX_TOKENS: u32 = 1024;

/// The most characters of one message that go into a summary request (the rest is cut with
/// a note): the request stays bounded whatever was pasted into the chat.
pub const MESSAGE_CHARS: usize = 8_000;

/// The most new turns one summary request carries; older new turns are left for the summary
/// to miss rather than to make an unbounded request.
pub const MAX_NEW_TURNS: usize = 64;

/// Whether a refresh is due: enabled, and since the last summary at least `every_turns`
/// answered turns or `every_tokens` estimated tokens of new history.
pub fn due(session: &Session, cfg: &SummarySettings) -> bool {
    if !cfg.enabled {
        return false;
    }
    let covered = session.summary.as_ref().map_or(0, |s| s.turns);
    let answered = answered_turns(session);
    if answered <= covered {
        return false;
    }
    let new = &session.turns[covered..answered];
    let tokens: usize = new
        .iter()
        .map(|t| {
            estimate_text_tokens(&t.user_text())
                + t.answer
                    .as_ref()
                    .map_or(0, |a| estimate_text_tokens(&a.text()))
        })
        .sum();
    new.len() >= cfg.every_turns as usize || tokens >= cfg.every_tokens as usize
}

/// Turns from the start that have a complete answer (the summary never covers a question
/// still being answered).
fn answered_turns(session: &Session) -> usize {
    session
        .turns
        .iter()
        .position(|t| t.answer.as_ref().is_none_or(|a| a.partial))
        .unwrap_or(session.turns.len())
}

/// The model that writes the summary: `[summary] model`, else the route's cheapest cloud
/// model. aiw knows no prices, so "cheapest" is the first cloud model of the route whose name
/// marks a small tier (`haiku`, `mini`, `nano`, `flash`, `lite`, `small`), else the route's
/// last cloud model (routes list the best model first). `None` when the route has no usable
/// cloud model.
pub fn pick_model(route: &[ModelRef], settings: &Settings) -> Option<ModelRef> {
    if let Some(m) = &settings.summary.model {
        return Some(m.clone());
    }
    let cloud: Vec<&ModelRef> = route
        .iter()
        .filter(|m| {
            settings
                .providers
                .get(&m.provider)
                .is_some_and(|p| p.kind != ProviderKind::Local && p.is_usable())
        })
        .collect();
    cloud
        .iter()
        .find(|m| {
            let name = m.model.to_ascii_lowercase();
            SMALL.iter().any(|s| name.contains(s))
        })
        .or(cloud.last())
        .map(|m| (*m).clone())
}

/// The request for a refreshed summary and the number of turns it will cover; `None` when
/// there is nothing new to summarise.
pub fn request(session: &Session) -> Option<(ChatRequest, usize)> {
    let covered = session.summary.as_ref().map_or(0, |s| s.turns);
    let upto = answered_turns(session);
    if upto <= covered {
        return None;
    }
    let from = covered.max(upto.saturating_sub(MAX_NEW_TURNS));
    let mut text = String::new();
    match &session.summary {
        Some(s) => {
            let _ = write!(
                text,
                "The summary so far (turns 1 to {covered}):\n<summary>\n{}\n</summary>\n\n",
                s.text.trim()
            );
        }
        None => text.push_str("There is no summary yet.\n\n"),
    }
    if from > covered {
        let _ = writeln!(
            text,
            "(turns {} to {from} were too many to include and are missing)\n",
            covered + 1
        );
    }
    let _ = writeln!(text, "The new turns ({} to {upto}):\n<turns>", from + 1);
    for (i, t) in session.turns[from..upto].iter().enumerate() {
        let _ = writeln!(
            text,
            "[turn {}] User: {}",
            from + i + 1,
            clip(&t.user_text())
        );
        if let Some(a) = &t.answer {
            let _ = writeln!(
                text,
                "[turn {}] Assistant: {}",
                from + i + 1,
                clip(&a.text())
            );
        }
    }
    text.push_str("</turns>\n\nWrite the updated summary.");
    let req = ChatRequest {
        system: Some(SYSTEM.to_string()),
        messages: vec![Message::user(text)],
        max_tokens: Some(MAX_TOKENS),
        temperature: Some(0.0),
        ..ChatRequest::default()
    };
    Some((req, upto))
}

fn clip(s: &str) -> String {
    if s.chars().count() <= MESSAGE_CHARS {
        return s.trim().to_string();
    }
    let mut out: String = s.chars().take(MESSAGE_CHARS).collect();
    out.push_str(" [… cut]");
    out
}

/// Why a summary could not be made (the session keeps its previous one).
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// The model failed.
    #[error("the summary model {model} did not answer: {why}")]
    Failed {
        /// The model.
        model: ModelRef,
        /// Its failure.
        why: String,
    },
    /// The model answered with nothing.
    #[error("the summary model {model} answered with an empty summary")]
    Empty {
        /// The model.
        model: ModelRef,
    },
}

/// Asks `model` (alone: no failover to any other model, never the local one) for the summary
/// `req` asks for, covering `turns` turns. Runs as its own router request: the caller spawns
/// it beside the conversation and cancels it with `cancel`.
pub async fn refresh(
    router: &Router,
    model: &ModelRef,
    req: &ChatRequest,
    turns: usize,
    cancel: &CancellationToken,
) -> Result<RollingSummary, SummaryError> {
    let route = [model.clone()];
    let mut ignore = |_| {};
    match router.run(&route, req, &mut ignore, cancel).await {
        Ok(answer) => {
            let text = text_of(&answer.blocks).trim().to_string();
            if text.is_empty() {
                return Err(SummaryError::Empty {
                    model: model.clone(),
                });
            }
            Ok(RollingSummary {
                text,
                turns,
                model: answer.model.clone(),
                usage: answer.usage,
                at: crate::time::now_rfc3339(),
            })
        }
        Err(failed) => Err(SummaryError::Failed {
            model: model.clone(),
            why: failed.to_string(),
        }),
    }
}

/// The line the chat shows when a summary was made: what it covers and cost, in tokens.
pub fn describe(s: &RollingSummary) -> String {
    format!(
        "session summary updated by {} (turns 1-{}; {} tokens in, {} out)",
        s.model, s.turns, s.usage.input_tokens, s.usage.output_tokens
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::AnswerRecord;

    fn session(turns: usize) -> Session {
        let mut s = Session::new(None, None);
        for i in 0..turns {
            s.push_user(&format!("question {i}"));
            s.set_answer(AnswerRecord {
                blocks: vec![crate::provider::Block::text(format!("answer {i}"))],
                model: "anthropic/a".into(),
                segments: Vec::new(),
                attempts: Vec::new(),
                usage: Usage::default(),
                partial: false,
                at: String::new(),
                notes: Vec::new(),
            });
        }
        s
    }

    #[test]
    fn due_after_n_turns_or_k_tokens_of_new_history() {
        let cfg = SummarySettings {
            every_turns: 4,
            every_tokens: 1_000_000,
            ..SummarySettings::default()
        };
        assert!(!due(&session(3), &cfg));
        let mut s = session(4);
        assert!(due(&s, &cfg));
        let (req, upto) = request(&s).unwrap();
        assert_eq!(upto, 4);
        assert!(
            req.messages[0]
                .text()
                .contains("[turn 4] Assistant: answer 3")
        );
        s.summary = Some(RollingSummary {
            text: "Goal: x".into(),
            turns: 4,
            model: "p/m".into(),
            usage: Usage::default(),
            at: String::new(),
        });
        assert!(!due(&s, &cfg));
        assert!(request(&s).is_none());
        s.push_user(&"long ".repeat(5000));
        assert!(!due(&s, &cfg), "an unanswered question is not summarised");
        let tokens = SummarySettings {
            every_tokens: 1000,
            ..cfg.clone()
        };
        s.set_answer(session(1).turns[0].answer.clone().unwrap());
        assert!(due(&s, &tokens));
        let (req, upto) = request(&s).unwrap();
        assert_eq!(upto, 5);
        let text = req.messages[0].text();
        assert!(text.contains("<summary>\nGoal: x\n</summary>"), "{text}");
        assert!(!text.contains("[turn 4]"), "only the new turns");
        assert!(text.contains("[… cut]"), "a long message is clipped");
        assert!(!due(
            &session(10),
            &SummarySettings {
                enabled: false,
                ..cfg
            }
        ));
    }
}
