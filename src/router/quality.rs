//! The quality tripwire: an answer that arrived with HTTP 200 but is not what was asked for (a
//! degraded model behind a healthy status). It counts as a soft failure for the model's health,
//! never against the answer already given: empty (no text and no tool call), missing the tool
//! call the request required (`tool_choice` any or a named tool), or stopped at `max_tokens`
//! far below the request's limit (`health.min_output_ratio`).

use super::call::CallOk;
use super::health::SoftFailure;
use crate::config::HealthSettings;
use crate::conversation::text_of;
use crate::provider::{Block, ChatRequest, StopReason, ToolChoice};

/// Characters per token when a provider reported no usage (a rough, generous estimate).
const CHARS_PER_TOKEN: usize = 4;

/// Judges a finished answer to `req`; `None` when it passes. A continuation of another
/// model's answer is not judged: an empty rest is a fine ending there.
pub(super) fn judge(
    req: &ChatRequest,
    ok: &CallOk,
    continues: bool,
    cfg: &HealthSettings,
) -> Option<SoftFailure> {
    if continues {
        return None;
    }
    let calls: Vec<&str> = ok
        .blocks
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    let text = text_of(&ok.blocks);
    if calls.is_empty() && text.trim().is_empty() {
        return Some(SoftFailure::Empty);
    }
    let missing = match &req.tool_choice {
        Some(ToolChoice::Any) => calls.is_empty(),
        Some(ToolChoice::Tool { name }) => !calls.contains(&name.as_str()),
        Some(ToolChoice::Auto | ToolChoice::None) | None => false,
    };
    if missing {
        return Some(SoftFailure::MissingToolCall);
    }
    if ok.stop == StopReason::MaxTokens
        && let Some(limit) = req.max_tokens
    {
        let produced = if ok.usage.output_tokens > 0 {
            ok.usage.output_tokens
        } else {
            (text.chars().count() / CHARS_PER_TOKEN) as u64
        };
        if (produced as f64) < f64::from(limit) * cfg.min_output_ratio {
            return Some(SoftFailure::EarlyMaxTokens);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Usage;

    fn ok(blocks: Vec<Block>, stop: StopReason, output_tokens: u64) -> CallOk {
        CallOk {
            blocks,
            usage: Usage {
                input_tokens: 10,
                output_tokens,
                ..Usage::default()
            },
            stop,
            ttft_ms: Some(5),
            served_model: None,
        }
    }

    fn call(name: &str) -> Block {
        Block::ToolUse {
            id: "t1".into(),
            name: name.into(),
            input: serde_json::json!({}),
            signature: None,
        }
    }

    #[test]
    fn empty_answers_trip_it_unless_they_continue_another_model() {
        let c = HealthSettings::default();
        let req = ChatRequest::user("hi");
        for blocks in [vec![], vec![Block::text("  \n")]] {
            let a = ok(blocks, StopReason::EndTurn, 0);
            assert_eq!(judge(&req, &a, false, &c), Some(SoftFailure::Empty));
            assert_eq!(judge(&req, &a, true, &c), None);
        }
        let a = ok(vec![Block::text("fine")], StopReason::EndTurn, 1);
        assert_eq!(judge(&req, &a, false, &c), None);
        let a = ok(vec![call("grep")], StopReason::ToolUse, 5);
        assert_eq!(judge(&req, &a, false, &c), None, "a tool call is an answer");
    }

    #[test]
    fn required_tool_calls_must_come() {
        let c = HealthSettings::default();
        let text = ok(vec![Block::text("I would call it")], StopReason::EndTurn, 5);
        let grep = ok(vec![call("grep")], StopReason::ToolUse, 5);
        let any = ChatRequest {
            tool_choice: Some(ToolChoice::Any),
            ..ChatRequest::user("hi")
        };
        assert_eq!(
            judge(&any, &text, false, &c),
            Some(SoftFailure::MissingToolCall)
        );
        assert_eq!(judge(&any, &grep, false, &c), None);
        let named = ChatRequest {
            tool_choice: Some(ToolChoice::Tool {
                name: "edit".into(),
            }),
            ..ChatRequest::user("hi")
        };
        assert_eq!(
            judge(&named, &grep, false, &c),
            Some(SoftFailure::MissingToolCall),
            "the wrong tool is no better"
        );
        let auto = ChatRequest {
            tool_choice: Some(ToolChoice::Auto),
            ..ChatRequest::user("hi")
        };
        assert_eq!(judge(&auto, &text, false, &c), None);
    }

    #[test]
    fn max_tokens_far_below_the_limit_trips_it() {
        let c = HealthSettings::default();
        let req = ChatRequest {
            max_tokens: Some(1000),
            ..ChatRequest::user("hi")
        };
        let early = ok(vec![Block::text("abc")], StopReason::MaxTokens, 40);
        assert_eq!(
            judge(&req, &early, false, &c),
            Some(SoftFailure::EarlyMaxTokens)
        );
        let at_limit = ok(vec![Block::text("abc")], StopReason::MaxTokens, 1000);
        assert_eq!(judge(&req, &at_limit, false, &c), None);
        // Without usage, the text length is the estimate.
        let long = ok(
            vec![Block::text("x".repeat(4000))],
            StopReason::MaxTokens,
            0,
        );
        assert_eq!(judge(&req, &long, false, &c), None);
        // Without a known limit there is nothing to compare with; a ratio of 0 turns it off.
        assert_eq!(judge(&ChatRequest::user("hi"), &early, false, &c), None);
        let off = HealthSettings {
            min_output_ratio: 0.0,
            ..HealthSettings::default()
        };
        assert_eq!(judge(&req, &early, false, &off), None);
    }
}
