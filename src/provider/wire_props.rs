//! Property tests over the three wire forms: any history, however broken (calls without
//! results, results without calls, roles repeated, thinking from any vendor), renders to a
//! request in which every tool call is answered in the next turn and every result answers a
//! call of the turn before, and the answered calls keep their order.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Block, ChatRequest, Message, Role, Vendor};
use crate::config::ProviderKind;
use crate::conversation::ProviderScoped;

#[derive(Clone, Debug)]
enum Step {
    UserText,
    AssistantText,
    /// An assistant turn with this many calls (and maybe text).
    Calls(u8, bool),
    /// A user turn answering the last calls: which of them (bit mask), plus maybe text.
    Results(u8, bool),
    /// A thinking block from some vendor at the start of the next assistant turn.
    Thinking(u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        Just(Step::UserText),
        Just(Step::AssistantText),
        (1u8..4, any::<bool>()).prop_map(|(n, t)| Step::Calls(n, t)),
        (any::<u8>(), any::<bool>()).prop_map(|(m, t)| Step::Results(m, t)),
        (0u8..3).prop_map(Step::Thinking),
    ]
}

fn build(steps: &[Step]) -> Vec<Message> {
    let mut out: Vec<Message> = vec![Message::user("start")];
    let mut last_calls: Vec<String> = Vec::new();
    let mut next_id = 0;
    let mut thinking: Option<Block> = None;
    for s in steps {
        match s {
            Step::UserText => out.push(Message::user("more")),
            Step::AssistantText => out.push(Message::assistant("ok")),
            Step::Thinking(v) => {
                let vendor = [Vendor::Anthropic, Vendor::OpenAi, Vendor::Gemini][*v as usize];
                thinking = Some(Block::Thinking {
                    text: "hmm".into(),
                    signature: Some(ProviderScoped {
                        vendor,
                        value: "sig".into(),
                    }),
                });
            }
            Step::Calls(n, text) => {
                let mut blocks: Vec<Block> = thinking.take().into_iter().collect();
                if *text {
                    blocks.push(Block::text("calling"));
                }
                last_calls.clear();
                for _ in 0..*n {
                    next_id += 1;
                    let id = format!("toolu_{next_id}");
                    last_calls.push(id.clone());
                    blocks.push(Block::ToolUse {
                        id,
                        name: format!("tool_{}", next_id % 3),
                        input: json!({"n": next_id}),
                        signature: None,
                    });
                }
                out.push(Message {
                    role: Role::Assistant,
                    blocks,
                });
            }
            Step::Results(mask, text) => {
                let mut blocks: Vec<Block> = last_calls
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, id)| Block::ToolResult {
                        tool_use_id: id.clone(),
                        content: vec![Block::text(format!("result of {id}"))],
                        is_error: false,
                    })
                    .collect();
                if *text {
                    blocks.push(Block::text("and also"));
                }
                if blocks.is_empty() {
                    blocks.push(Block::text("nothing"));
                }
                out.push(Message {
                    role: Role::User,
                    blocks,
                });
            }
        }
    }
    out
}

/// A wire turn reduced to what pairing is about: role, the calls (id or name), the results.
#[derive(Debug)]
struct WireTurn {
    assistant: bool,
    calls: Vec<String>,
    results: Vec<String>,
}

fn wire_turns(kind: ProviderKind, body: &Value) -> Vec<WireTurn> {
    let mut out: Vec<WireTurn> = Vec::new();
    match kind {
        ProviderKind::Anthropic => {
            for m in body["messages"].as_array().into_iter().flatten() {
                let blocks = m["content"].as_array().cloned().unwrap_or_default();
                out.push(WireTurn {
                    assistant: m["role"] == "assistant",
                    calls: blocks
                        .iter()
                        .filter(|b| b["type"] == "tool_use")
                        .map(|b| b["id"].as_str().unwrap_or("").to_string())
                        .collect(),
                    results: blocks
                        .iter()
                        .filter(|b| b["type"] == "tool_result")
                        .map(|b| b["tool_use_id"].as_str().unwrap_or("").to_string())
                        .collect(),
                });
            }
        }
        ProviderKind::Gemini => {
            for c in body["contents"].as_array().into_iter().flatten() {
                let parts = c["parts"].as_array().cloned().unwrap_or_default();
                out.push(WireTurn {
                    assistant: c["role"] == "model",
                    calls: parts
                        .iter()
                        .filter_map(|p| p["functionCall"]["name"].as_str().map(str::to_string))
                        .collect(),
                    results: parts
                        .iter()
                        .filter_map(|p| p["functionResponse"]["name"].as_str().map(str::to_string))
                        .collect(),
                });
            }
        }
        _ => {
            // Consecutive `tool` messages answer the assistant message before them.
            for m in body["messages"].as_array().into_iter().flatten() {
                match m["role"].as_str() {
                    Some("tool") => {
                        let id = m["tool_call_id"].as_str().unwrap_or("").to_string();
                        match out.last_mut() {
                            Some(t)
                                if !t.assistant && t.calls.is_empty() && t.results.len() < 64 =>
                            {
                                t.results.push(id);
                            }
                            _ => out.push(WireTurn {
                                assistant: false,
                                calls: Vec::new(),
                                results: vec![id],
                            }),
                        }
                    }
                    Some("system") | None => {}
                    // The text of a user turn that also carried results follows its
                    // `tool` messages.
                    Some("user")
                        if out
                            .last()
                            .is_some_and(|t| !t.assistant && !t.results.is_empty()) => {}
                    Some(role) => out.push(WireTurn {
                        assistant: role == "assistant",
                        calls: m["tool_calls"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .map(|c| c["id"].as_str().unwrap_or("").to_string())
                            .collect(),
                        results: Vec::new(),
                    }),
                }
            }
        }
    }
    out
}

fn body(kind: ProviderKind, req: &ChatRequest) -> Value {
    let bytes = match kind {
        ProviderKind::Anthropic => super::anthropic::request_body("m", req),
        ProviderKind::Gemini => super::gemini::request_body("gemini-3-pro", req),
        _ => super::openai::request_body("m", req, kind),
    };
    super::http::body_json(&bytes)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_wire_keeps_tool_pairing_and_order(steps in prop::collection::vec(step(), 0..14)) {
        let history = build(&steps);
        let req = ChatRequest { messages: history.clone(), ..ChatRequest::default() };
        // The calls that were answered in the input, in order: the ones that must survive.
        let mut answered: Vec<String> = Vec::new();
        for (i, m) in history.iter().enumerate() {
            if m.role != Role::Assistant { continue; }
            let next: Vec<&str> = history.get(i + 1).map(|n| n.blocks.iter().filter_map(|b| match b {
                Block::ToolResult { tool_use_id, .. } => Some(tool_use_id.as_str()),
                _ => None,
            }).collect()).unwrap_or_default();
            for (id, _, _) in m.tool_uses() {
                if next.contains(&id) { answered.push(id.to_string()); }
            }
        }
        for kind in [ProviderKind::Anthropic, ProviderKind::OpenAi, ProviderKind::Gemini] {
            let turns = wire_turns(kind, &body(kind, &req));
            for (i, t) in turns.iter().enumerate() {
                if !t.calls.is_empty() {
                    prop_assert!(t.assistant, "{kind:?}: calls in a user turn: {turns:?}");
                    let next = turns.get(i + 1);
                    prop_assert!(next.is_some_and(|n| !n.assistant), "{kind:?}: {turns:?}");
                    let next = next.map(|n| &n.results);
                    prop_assert_eq!(Some(&t.calls), next, "{:?}: every call answered, in order", kind);
                }
                if !t.results.is_empty() {
                    let prev = i.checked_sub(1).map(|p| &turns[p]);
                    prop_assert!(prev.is_some_and(|p| p.assistant && p.calls == t.results),
                        "{kind:?}: results without their calls: {turns:?}");
                }
            }
            for w in turns.windows(2) {
                prop_assert!(w[0].assistant != w[1].assistant, "{kind:?}: roles alternate: {turns:?}");
            }
            if kind == ProviderKind::Gemini {
                // Gemini names calls by function, not id: the count must match.
                let n: usize = turns.iter().map(|t| t.calls.len()).sum();
                prop_assert_eq!(n, answered.len());
            } else {
                let wire_calls: Vec<String> = turns.iter().flat_map(|t| t.calls.clone()).collect();
                prop_assert_eq!(&wire_calls, &answered, "{:?}: answered calls kept in order", kind);
            }
        }
    }
}
