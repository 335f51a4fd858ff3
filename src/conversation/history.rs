//! Keeping a history valid for the model that gets it next: every tool call has its result
//! (and every result its call), roles alternate, and blocks that only another vendor can
//! verify (thinking signatures, opaque blocks) are left out. Also the size estimate used for
//! remote models, which counts tool calls, results and tool schemas too.

use std::collections::HashSet;

use super::{Block, Message, Role, Tool, Vendor};

/// Makes `messages` valid for `vendor`, in order:
/// 1. provider-scoped content from another vendor goes: thinking blocks signed by another
///    vendor or not signed at all (no vendor accepts unsigned reasoning in a history), opaque
///    blocks, and tool-call signatures;
/// 2. tool pairing is repaired ([`repair_tool_pairs`]);
/// 3. messages left empty are removed and adjacent messages of one role merged.
pub fn for_vendor(messages: &[Message], vendor: Vendor) -> Vec<Message> {
    let mut out: Vec<Message> = messages
        .iter()
        .map(|m| Message {
            role: m.role,
            blocks: m
                .blocks
                .iter()
                .filter_map(|b| scoped_for(b, vendor))
                .collect(),
        })
        .collect();
    repair_tool_pairs(&mut out);
    out
}

fn scoped_for(b: &Block, vendor: Vendor) -> Option<Block> {
    match b {
        Block::Thinking { signature, .. } => signature
            .as_ref()
            .is_some_and(|s| s.vendor == vendor)
            .then(|| b.clone()),
        Block::Opaque { vendor: v, .. } => (*v == vendor).then(|| b.clone()),
        Block::ToolUse {
            id,
            name,
            input,
            signature,
        } => Some(Block::ToolUse {
            id: id.clone(),
            name: name.clone(),
            input: input.clone(),
            signature: signature.clone().filter(|s| s.vendor == vendor),
        }),
        Block::ToolResult {
            tool_use_id,
            content,
            is_error,
        } => Some(Block::ToolResult {
            tool_use_id: tool_use_id.clone(),
            content: content
                .iter()
                .filter_map(|c| scoped_for(c, vendor))
                .collect(),
            is_error: *is_error,
        }),
        _ => Some(b.clone()),
    }
}

/// Restores the invariant every provider checks: each tool call in an assistant message is
/// answered by a tool result in the user message right after it, and each tool result answers
/// a call of the assistant message right before it. A call without a result (the stream was
/// cut after it, or the agent never ran it) and a result without a call are removed; messages
/// left empty are dropped and adjacent messages of one role merged, so roles alternate.
pub fn repair_tool_pairs(messages: &mut Vec<Message>) {
    let n = messages.len();
    let mut drop_calls: Vec<HashSet<String>> = vec![HashSet::new(); n];
    let mut drop_results: Vec<HashSet<String>> = vec![HashSet::new(); n];
    for i in 0..n {
        let calls: HashSet<&str> = if messages[i].role == Role::Assistant {
            messages[i].tool_uses().map(|(id, _, _)| id).collect()
        } else {
            HashSet::new()
        };
        let next_results: HashSet<&str> = messages
            .get(i + 1)
            .filter(|m| m.role == Role::User)
            .map(|m| result_ids(m).collect())
            .unwrap_or_default();
        for id in &calls {
            if !next_results.contains(id) {
                drop_calls[i].insert((*id).to_string());
            }
        }
        if messages[i].role == Role::User {
            let prev_calls: HashSet<&str> = i
                .checked_sub(1)
                .map(|p| &messages[p])
                .filter(|m| m.role == Role::Assistant)
                .map(|m| m.tool_uses().map(|(id, _, _)| id).collect())
                .unwrap_or_default();
            for id in result_ids(&messages[i]) {
                if !prev_calls.contains(id) {
                    drop_results[i].insert(id.to_string());
                }
            }
        }
    }
    for (i, m) in messages.iter_mut().enumerate() {
        m.blocks.retain(|b| match b {
            Block::ToolUse { id, .. } => !drop_calls[i].contains(id),
            Block::ToolResult { tool_use_id, .. } => !drop_results[i].contains(tool_use_id),
            _ => true,
        });
    }
    messages.retain(|m| !m.blocks.is_empty());
    merge_same_role(messages);
}

fn result_ids(m: &Message) -> impl Iterator<Item = &str> {
    m.blocks.iter().filter_map(|b| match b {
        Block::ToolResult { tool_use_id, .. } => Some(tool_use_id.as_str()),
        _ => None,
    })
}

/// Merges adjacent messages of one role (Anthropic and Gemini require alternation). Two text
/// blocks that meet at the seam are joined with a blank line.
pub fn merge_same_role(messages: &mut Vec<Message>) {
    let mut out: Vec<Message> = Vec::with_capacity(messages.len());
    for m in messages.drain(..) {
        match out.last_mut() {
            Some(last) if last.role == m.role => {
                let mut rest = m.blocks.into_iter();
                if let (Some(Block::Text { text: a, .. }), Some(Block::Text { text: b, .. })) =
                    (last.blocks.last_mut(), rest.as_slice().first())
                {
                    a.push_str("\n\n");
                    a.push_str(b);
                    rest.next();
                }
                last.blocks.extend(rest);
            }
            _ => out.push(m),
        }
    }
    *messages = out;
}

/// A rough token count of one block for remote models: one token per 4 characters of text,
/// tool-call arguments and tool-result content; an image counts as a fixed 1,600 tokens (what
/// Anthropic charges for a 1.15-megapixel image).
pub fn estimate_block_tokens(b: &Block) -> usize {
    match b {
        Block::Text { text, .. } | Block::Thinking { text, .. } => estimate_text_tokens(text),
        Block::ToolUse { name, input, .. } => {
            estimate_text_tokens(name) + estimate_text_tokens(&input.to_string()) + 4
        }
        Block::ToolResult { content, .. } => {
            content.iter().map(estimate_block_tokens).sum::<usize>() + 4
        }
        Block::Image { .. } => 1_600,
        Block::Opaque { raw, .. } => estimate_text_tokens(&raw.to_string()),
    }
}

/// A rough token count of text: one token per 4 characters, rounded up.
pub fn estimate_text_tokens(text: &str) -> usize {
    text.chars().count().div_ceil(4)
}

/// A rough token count of tool definitions (name, description and schema).
pub fn estimate_tools_tokens(tools: &[Tool]) -> usize {
    tools
        .iter()
        .map(|t| {
            estimate_text_tokens(&t.name)
                + estimate_text_tokens(&t.description)
                + estimate_text_tokens(&t.input_schema.to_string())
                + 8
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::ProviderScoped;
    use serde_json::json;

    fn call(id: &str) -> Block {
        Block::ToolUse {
            id: id.into(),
            name: "Read".into(),
            input: json!({"path": id}),
            signature: None,
        }
    }

    fn result(id: &str) -> Block {
        Block::ToolResult {
            tool_use_id: id.into(),
            content: vec![Block::text(format!("contents of {id}"))],
            is_error: false,
        }
    }

    fn msg(role: Role, blocks: Vec<Block>) -> Message {
        Message { role, blocks }
    }

    #[test]
    fn orphaned_calls_and_results_are_removed_and_roles_merged() {
        let mut h = vec![
            Message::user("read a and b"),
            msg(
                Role::Assistant,
                vec![Block::text("ok"), call("a"), call("b")],
            ),
            msg(Role::User, vec![result("a")]),
            // A call whose stream was cut: nothing answers it.
            msg(Role::Assistant, vec![call("c")]),
            msg(Role::User, vec![result("zzz"), Block::text("go on")]),
        ];
        repair_tool_pairs(&mut h);
        assert_eq!(
            h,
            vec![
                Message::user("read a and b"),
                msg(Role::Assistant, vec![Block::text("ok"), call("a")]),
                msg(Role::User, vec![result("a"), Block::text("go on")]),
            ]
        );
    }

    #[test]
    fn foreign_signatures_and_opaque_blocks_are_dropped() {
        let h = vec![
            Message::user("q"),
            msg(
                Role::Assistant,
                vec![
                    Block::Thinking {
                        text: "mine".into(),
                        signature: Some(ProviderScoped {
                            vendor: Vendor::Anthropic,
                            value: "s".into(),
                        }),
                    },
                    Block::Thinking {
                        text: "unsigned".into(),
                        signature: None,
                    },
                    Block::Opaque {
                        vendor: Vendor::Anthropic,
                        raw: json!({"type": "redacted_thinking", "data": "x"}),
                    },
                    Block::text("answer"),
                ],
            ),
        ];
        let same = for_vendor(&h, Vendor::Anthropic);
        assert_eq!(same[1].blocks.len(), 3, "{same:?}");
        let other = for_vendor(&h, Vendor::OpenAi);
        assert_eq!(other[1].blocks, vec![Block::text("answer")]);
    }

    #[test]
    fn estimates_count_tools_and_images() {
        assert_eq!(estimate_text_tokens("abcdefgh"), 2);
        assert!(estimate_block_tokens(&call("a")) > 4);
        assert_eq!(
            estimate_block_tokens(&Block::Image {
                source: crate::conversation::ImageSource::Url { url: "u".into() }
            }),
            1_600
        );
        let tools = vec![Tool {
            name: "Read".into(),
            description: "Reads a file".into(),
            input_schema: json!({"type": "object"}),
        }];
        assert!(estimate_tools_tokens(&tools) > 8);
    }
}
