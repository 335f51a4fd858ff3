//! Tool conformance: the same tool scenarios against the Anthropic, OpenAI and Gemini clients
//! through the emulator (one tool turn, parallel calls, an error result, an image, thinking, a
//! cut inside tool arguments), asserting the exact blocks on both sides of the wire; and
//! through the router, a vendor switch in the middle of a tool loop and a cut tool call
//! rescued by the next model. The local model's tool calls are in `local_route`.

use std::time::Duration;

use aiw::config::{ProviderKind, ProviderSettings, Secret};
use aiw::conversation::{Assembler, ImageSource, ProviderScoped, Tool, Vendor};
use aiw::provider::{
    Block, ChatEvent, ChatRequest, Client, ErrorClass, Message, Role, StopReason, ToolChoice,
};
use aiw_emulator::{
    Action, Block as WireBlock, Emulator, ErrorKind, ErrorReply, ImageSource as WireImage, Reply,
    Script, StreamFault, ToolCall, TurnRole,
};
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::support::{config_text, m, router, settings};

const KEY: &str = "sk-test-tools-0123456789";
const ALL: [ProviderKind; 3] = [
    ProviderKind::Anthropic,
    ProviderKind::OpenAi,
    ProviderKind::Gemini,
];

fn client(kind: ProviderKind, emu: &Emulator) -> Client {
    let base = emu.base_url();
    let s = ProviderSettings {
        name: kind.as_str().to_string(),
        kind,
        base_url: match kind {
            ProviderKind::OpenAi | ProviderKind::OpenAiCompatible => format!("{base}/v1"),
            _ => base,
        },
        api_key_env: Vec::new(),
        api_key: Some(Secret::new(KEY)),
        status_page: None,
        context_window: None,
        local: None,
        cloud: None,
    };
    let http = aiw::provider::http::client(Duration::from_secs(2)).expect("the HTTP client builds");
    Client::new(&s, &http, std::path::Path::new("."))
}

fn read_tool() -> Tool {
    Tool {
        name: "read_file".into(),
        description: "Reads a file of the repository".into(),
        input_schema: json!({
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"]
        }),
    }
}

fn tool_request(messages: Vec<Message>) -> ChatRequest {
    ChatRequest {
        messages,
        tools: vec![read_tool()],
        tool_choice: Some(ToolChoice::Auto),
        max_tokens: Some(256),
        ..ChatRequest::default()
    }
}

fn vendor(kind: ProviderKind) -> Vendor {
    match kind {
        ProviderKind::Anthropic => Vendor::Anthropic,
        ProviderKind::Gemini => Vendor::Gemini,
        _ => Vendor::OpenAi,
    }
}

/// What one call assembled: complete blocks, the stop reason or the error.
struct Got {
    blocks: Vec<Block>,
    stop: Option<StopReason>,
    error: Option<aiw::provider::ProviderError>,
}

async fn call(kind: ProviderKind, emu: &Emulator, model: &str, req: &ChatRequest) -> Got {
    let c = client(kind, emu);
    let mut asm = Assembler::new(vendor(kind));
    let mut got = Got {
        blocks: Vec::new(),
        stop: None,
        error: None,
    };
    let mut stream = match c.stream(model, req).await {
        Ok(s) => s,
        Err(e) => {
            got.error = Some(e);
            return got;
        }
    };
    while let Some(item) = tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("the stream ends by itself")
    {
        match item {
            Ok(ChatEvent::Done { stop }) => got.stop = Some(stop),
            Ok(ev) => {
                if let Err(e) = asm.push(&ev) {
                    panic!("{kind:?}: {e}");
                }
            }
            Err(e) => got.error = Some(e),
        }
    }
    got.blocks = asm.blocks();
    got
}

fn tool_uses(blocks: &[Block]) -> Vec<(String, Value)> {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse { name, input, .. } => Some((name.clone(), input.clone())),
            _ => None,
        })
        .collect()
}

fn call_id(blocks: &[Block], i: usize) -> String {
    blocks
        .iter()
        .filter_map(|b| match b {
            Block::ToolUse { id, .. } => Some(id.clone()),
            _ => None,
        })
        .nth(i)
        .expect("a tool call")
}

async fn emulator(model: &str, script: Script) -> Emulator {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script(model, script);
    emu
}

/// The tool definitions as each wire declares them.
fn declared_tool(kind: ProviderKind, body: &Value) -> (String, Value) {
    match kind {
        ProviderKind::Anthropic => (
            body["tools"][0]["name"].as_str().unwrap().to_string(),
            body["tools"][0]["input_schema"].clone(),
        ),
        ProviderKind::Gemini => (
            body["tools"][0]["functionDeclarations"][0]["name"]
                .as_str()
                .unwrap()
                .to_string(),
            body["tools"][0]["functionDeclarations"][0]["parametersJsonSchema"].clone(),
        ),
        _ => (
            body["tools"][0]["function"]["name"]
                .as_str()
                .unwrap()
                .to_string(),
            body["tools"][0]["function"]["parameters"].clone(),
        ),
    }
}

#[tokio::test]
async fn one_tool_turn_on_every_wire() {
    for kind in ALL {
        let emu = emulator(
            "m-1",
            Script::always(Action::Reply(
                Reply::new("Let me read it.")
                    .with_tool_call("read_file", json!({"path": "src/main.rs"}))
                    .arg_chunk_chars(5),
            )),
        )
        .await;
        let got = call(
            kind,
            &emu,
            "m-1",
            &tool_request(vec![Message::user("Read main")]),
        )
        .await;
        assert!(got.error.is_none(), "{kind:?}: {:?}", got.error);
        assert_eq!(got.stop, Some(StopReason::ToolUse), "{kind:?}");
        assert_eq!(
            got.blocks.first().and_then(Block::as_text),
            Some("Let me read it."),
            "{kind:?}"
        );
        assert_eq!(
            tool_uses(&got.blocks),
            vec![("read_file".to_string(), json!({"path": "src/main.rs"}))],
            "{kind:?}"
        );
        let req = &emu.requests()[0];
        let body = req.json.clone().expect("json body");
        assert_eq!(
            declared_tool(kind, &body),
            ("read_file".to_string(), read_tool().input_schema),
            "{kind:?}"
        );
        let choice = if kind == ProviderKind::Gemini {
            body["toolConfig"]["functionCallingConfig"]["mode"].clone()
        } else {
            body["tool_choice"].clone()
        };
        let want = match kind {
            ProviderKind::Anthropic => json!({"type": "auto"}),
            ProviderKind::Gemini => json!("AUTO"),
            _ => json!("auto"),
        };
        assert_eq!(choice, want, "{kind:?}");
    }
}

#[tokio::test]
async fn two_parallel_calls_keep_their_order() {
    for kind in ALL {
        let emu = emulator(
            "m-1",
            Script::always(Action::Reply(
                Reply::new("")
                    .with_tool_call("read_file", json!({"path": "a.rs"}))
                    .with_tool_call("read_file", json!({"path": "b.rs"}))
                    .arg_chunk_chars(3)
                    .interleave(true),
            )),
        )
        .await;
        let got = call(
            kind,
            &emu,
            "m-1",
            &tool_request(vec![Message::user("Read both")]),
        )
        .await;
        assert!(got.error.is_none(), "{kind:?}: {:?}", got.error);
        assert_eq!(
            tool_uses(&got.blocks),
            vec![
                ("read_file".to_string(), json!({"path": "a.rs"})),
                ("read_file".to_string(), json!({"path": "b.rs"})),
            ],
            "{kind:?}"
        );
        assert_ne!(call_id(&got.blocks, 0), call_id(&got.blocks, 1), "{kind:?}");
        assert_eq!(got.stop, Some(StopReason::ToolUse), "{kind:?}");
    }
}

/// A finished tool loop step: the assistant called `read_file`, the tool answered.
fn tool_history(id: &str, result: &str, is_error: bool) -> Vec<Message> {
    vec![
        Message::user("What is in a.rs?"),
        Message {
            role: Role::Assistant,
            blocks: vec![
                Block::text("Reading it."),
                Block::ToolUse {
                    id: id.into(),
                    name: "read_file".into(),
                    input: json!({"path": "a.rs"}),
                    signature: None,
                },
            ],
        },
        Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                tool_use_id: id.into(),
                content: vec![Block::text(result)],
                is_error,
            }],
        },
    ]
}

#[tokio::test]
async fn tool_results_reach_the_model_on_every_wire_error_ones_too() {
    for kind in ALL {
        for is_error in [false, true] {
            let emu = emulator(
                "m-1",
                Script::always(Action::Reply(Reply::echo_tool_results())),
            )
            .await;
            let marker = if is_error {
                "ENOENT: no such file"
            } else {
                "MARKER-fn-main-42"
            };
            let req = tool_request(tool_history("toolu_01ABC", marker, is_error));
            let got = call(kind, &emu, "m-1", &req).await;
            assert!(got.error.is_none(), "{kind:?}: {:?}", got.error);
            let text = aiw::conversation::text_of(&got.blocks);
            assert!(text.contains(marker), "{kind:?}: {text}");
            // OpenAI's tool message has no error flag: the text says it.
            let flagged = text.contains("(error)") || text.contains("returned: Error: ");
            assert_eq!(flagged, is_error, "{kind:?}: {text}");
            // The wire: the call and its result, paired.
            let turns = emu.requests()[0].turns();
            let call = turns
                .iter()
                .flat_map(|t| &t.blocks)
                .find_map(|b| match b {
                    WireBlock::ToolUse {
                        id, name, input, ..
                    } => Some((id.clone(), name.clone(), input.clone())),
                    _ => None,
                })
                .expect("the call is in the history");
            assert_eq!(call.1, "read_file", "{kind:?}");
            assert_eq!(call.2, json!({"path": "a.rs"}), "{kind:?}");
            let result = turns
                .iter()
                .flat_map(|t| &t.blocks)
                .find_map(|b| match b {
                    WireBlock::ToolResult {
                        id,
                        name,
                        is_error,
                        content,
                    } => Some((
                        id.clone(),
                        name.clone(),
                        *is_error,
                        WireBlock::texts(content),
                    )),
                    _ => None,
                })
                .expect("the result is in the history");
            match kind {
                ProviderKind::Gemini => {
                    assert_eq!(
                        result.1.as_deref(),
                        Some("read_file"),
                        "Gemini names the function"
                    );
                    assert_eq!(result.2, is_error);
                }
                ProviderKind::Anthropic => {
                    assert_eq!(call.0.as_deref(), Some("toolu_01ABC"));
                    assert_eq!(result.0.as_deref(), Some("toolu_01ABC"));
                    assert_eq!(result.2, is_error);
                }
                _ => {
                    assert_eq!(call.0.as_deref(), Some("toolu_01ABC"));
                    assert_eq!(result.0.as_deref(), Some("toolu_01ABC"));
                    let tool_turn = turns.iter().find(|t| t.role == TurnRole::Tool);
                    assert!(tool_turn.is_some(), "OpenAI results are role: tool");
                }
            }
            assert!(result.3.contains(marker), "{kind:?}: {}", result.3);
        }
    }
}

#[tokio::test]
async fn images_go_out_in_each_wire_form() {
    for kind in ALL {
        let emu = emulator("m-1", Script::always(Action::Reply(Reply::echo_images()))).await;
        let req = ChatRequest {
            messages: vec![Message {
                role: Role::User,
                blocks: vec![
                    Block::text("What is in this picture?"),
                    Block::Image {
                        source: ImageSource::Base64 {
                            media_type: "image/png".into(),
                            data: "iVBORw0KGgo=".into(),
                        },
                    },
                ],
            }],
            ..ChatRequest::default()
        };
        let got = call(kind, &emu, "m-1", &req).await;
        assert!(got.error.is_none(), "{kind:?}: {:?}", got.error);
        let text = aiw::conversation::text_of(&got.blocks);
        assert!(text.contains("1 image"), "{kind:?}: {text}");
        assert!(text.contains("image/png"), "{kind:?}: {text}");
        let turns = emu.requests()[0].turns();
        let img = turns[0]
            .blocks
            .iter()
            .find_map(|b| match b {
                WireBlock::Image { source, .. } => Some(source.clone()),
                _ => None,
            })
            .expect("an image block");
        assert_eq!(
            img,
            WireImage::Base64 {
                data: "iVBORw0KGgo=".into()
            },
            "{kind:?}"
        );
    }
}

#[tokio::test]
async fn thinking_is_kept_with_its_signature_and_replayed_only_to_its_vendor() {
    for kind in [ProviderKind::Anthropic, ProviderKind::Gemini] {
        let emu = emulator(
            "m-1",
            Script::always(Action::Reply(
                Reply::new("The answer is 4.").with_thinking("2 + 2 is 4.", Some("c2lnbmF0dXJl")),
            )),
        )
        .await;
        let got = call(kind, &emu, "m-1", &ChatRequest::user("2+2?")).await;
        assert!(got.error.is_none(), "{kind:?}: {:?}", got.error);
        let Block::Thinking { text, signature } = &got.blocks[0] else {
            panic!("{kind:?}: {:?}", got.blocks);
        };
        assert_eq!(text, "2 + 2 is 4.", "{kind:?}");
        if kind == ProviderKind::Anthropic {
            // Gemini puts a text answer's signature on its last text part, which is optional
            // to replay; Anthropic signs the thinking block itself, and must get it back.
            assert_eq!(
                signature.as_ref(),
                Some(&ProviderScoped {
                    vendor: Vendor::Anthropic,
                    value: "c2lnbmF0dXJl".into()
                })
            );
        }
        assert_eq!(got.blocks[1], Block::text("The answer is 4."), "{kind:?}");
    }
    // Replayed: to Anthropic with its signature; to OpenAI and Gemini not at all.
    let history = vec![
        Message::user("2+2?"),
        Message {
            role: Role::Assistant,
            blocks: vec![
                Block::Thinking {
                    text: "2 + 2 is 4.".into(),
                    signature: Some(ProviderScoped {
                        vendor: Vendor::Anthropic,
                        value: "c2ln".into(),
                    }),
                },
                Block::Opaque {
                    vendor: Vendor::Anthropic,
                    raw: json!({"type": "redacted_thinking", "data": "EncryptedXYZ"}),
                },
                Block::text("4"),
            ],
        },
        Message::user("and 3+3?"),
    ];
    for kind in ALL {
        let emu = emulator("m-1", Script::reply("6")).await;
        let req = ChatRequest {
            messages: history.clone(),
            ..ChatRequest::default()
        };
        let got = call(kind, &emu, "m-1", &req).await;
        assert!(got.error.is_none(), "{kind:?}: {:?}", got.error);
        let turns = emu.requests()[0].turns();
        let assistant = turns
            .iter()
            .find(|t| t.role == TurnRole::Assistant)
            .expect("assistant turn");
        let thinking: Vec<&WireBlock> = assistant
            .blocks
            .iter()
            .filter(|b| {
                matches!(
                    b,
                    WireBlock::Thinking { .. } | WireBlock::RedactedThinking { .. }
                )
            })
            .collect();
        if kind == ProviderKind::Anthropic {
            assert_eq!(
                thinking,
                vec![
                    &WireBlock::Thinking {
                        text: "2 + 2 is 4.".into(),
                        signature: Some("c2ln".into())
                    },
                    &WireBlock::RedactedThinking {
                        data: "EncryptedXYZ".into()
                    }
                ]
            );
        } else {
            assert!(thinking.is_empty(), "{kind:?}: {thinking:?}");
            assert_eq!(WireBlock::texts(&assistant.blocks), "4", "{kind:?}");
        }
    }
}

#[tokio::test]
async fn a_cut_inside_tool_arguments_never_yields_a_call() {
    for kind in ALL {
        for clean_eof in [false, true] {
            let emu = emulator(
                "m-1",
                Script::always(Action::Reply(
                    Reply::new("Reading.")
                        .with_tool_call("read_file", json!({"path": "src/very/long/path.rs"}))
                        .arg_chunk_chars(4)
                        .fault(StreamFault::CutInToolArgs {
                            call: 0,
                            after_chars: 9,
                            clean_eof,
                        }),
                )),
            )
            .await;
            let got = call(
                kind,
                &emu,
                "m-1",
                &tool_request(vec![Message::user("Read")]),
            )
            .await;
            let e = got
                .error
                .as_ref()
                .unwrap_or_else(|| panic!("{kind:?}: no error"));
            assert!(
                matches!(
                    e.class,
                    ErrorClass::Truncated | ErrorClass::Connection | ErrorClass::MalformedStream
                ),
                "{kind:?}: {e:?}"
            );
            assert!(
                tool_uses(&got.blocks).is_empty(),
                "{kind:?}: {:?}",
                got.blocks
            );
            assert_eq!(got.stop, None, "{kind:?}");
        }
    }
}

#[tokio::test]
async fn gemini_3_gets_the_documented_signature_for_calls_it_did_not_sign() {
    let emu = emulator(
        "gemini-3-pro-preview",
        Script::always(Action::Reply(Reply::echo_tool_results())),
    )
    .await;
    let req = tool_request(tool_history("toolu_from_claude", "fn main() {}", false));
    let got = call(ProviderKind::Gemini, &emu, "gemini-3-pro-preview", &req).await;
    // The emulator validates as Gemini 3 does: an unsigned call would be a 400.
    assert!(got.error.is_none(), "{:?}", got.error);
    let turns = emu.requests()[0].turns();
    let sig = turns
        .iter()
        .flat_map(|t| &t.blocks)
        .find_map(|b| match b {
            WireBlock::ToolUse { signature, .. } => Some(signature.clone()),
            _ => None,
        })
        .expect("the call");
    assert_eq!(
        sig.as_deref(),
        Some(aiw::provider::gemini::FOREIGN_CALL_SIGNATURE)
    );
}

/// Route config: primary on one vendor, fallback on the other.
fn two_vendor_router(emu: &Emulator, dir: &std::path::Path, route: &str) -> aiw::router::Router {
    let text = config_text(&emu.base_url(), &format!("default = {route}"), "");
    router(settings(&text, dir))
}

async fn route_answer(
    r: &aiw::router::Router,
    route: &[&str],
    req: &ChatRequest,
) -> (aiw::router::Answer, Vec<Block>) {
    let route: Vec<_> = route.iter().map(|s| m(s)).collect();
    let mut shown_calls = Vec::new();
    let mut on_event = |e: aiw::router::RouterEvent| {
        if let aiw::router::RouterEvent::ToolUse { block, .. } = e {
            shown_calls.push(block);
        }
    };
    let cancel = tokio_util::sync::CancellationToken::new();
    let a = r
        .run(&route, req, &mut on_event, &cancel)
        .await
        .expect("answered");
    (a, shown_calls)
}

#[tokio::test]
async fn a_tool_loop_survives_a_vendor_switch_both_ways() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.expect("emulator");
    // Anthropic started the loop (its call id), then went down: OpenAI answers from the result.
    emu.set_script(
        "claude-x",
        Script::always(Action::Error(ErrorReply::new(ErrorKind::Overloaded))),
    );
    emu.set_script(
        "gpt-x",
        Script::always(Action::Reply(Reply::echo_tool_results())),
    );
    let r = two_vendor_router(
        &emu,
        dir.path(),
        r#"["anthropic/claude-x", "openai/gpt-x"]"#,
    );
    let req = tool_request(tool_history("toolu_01XYZ", "MARKER-7", false));
    let (a, _) = route_answer(&r, &["anthropic/claude-x", "openai/gpt-x"], &req).await;
    assert_eq!(a.model, "openai/gpt-x");
    assert!(a.text().contains("MARKER-7"), "{}", a.text());
    let sent = emu.requests_for("gpt-x");
    let turns = sent[0].turns();
    assert!(turns.iter().any(|t| t.role == TurnRole::Tool
        && t.blocks.iter().any(
            |b| matches!(b, WireBlock::ToolResult { id: Some(id), .. } if id == "toolu_01XYZ")
        )));

    // And back: OpenAI made the call (its id), OpenAI is down, Anthropic answers.
    emu.set_script(
        "gpt-x",
        Script::always(Action::Error(ErrorReply::new(ErrorKind::Overloaded))),
    );
    emu.set_script(
        "claude-x",
        Script::always(Action::Reply(Reply::echo_tool_results())),
    );
    let r = two_vendor_router(
        &emu,
        dir.path(),
        r#"["openai/gpt-x", "anthropic/claude-x"]"#,
    );
    let req = tool_request(tool_history("call_abc123", "MARKER-8", false));
    let (a, _) = route_answer(&r, &["openai/gpt-x", "anthropic/claude-x"], &req).await;
    assert_eq!(a.model, "anthropic/claude-x");
    assert!(a.text().contains("MARKER-8"), "{}", a.text());
}

#[tokio::test]
async fn a_tool_call_cut_mid_arguments_is_redone_by_the_next_model() {
    let dir = tempfile::tempdir().unwrap();
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script(
        "claude-x",
        Script::always(Action::Reply(
            Reply::new("I will read it.")
                .with_call(ToolCall::new("read_file", json!({"path": "src/lib.rs"})))
                .arg_chunk_chars(3)
                .fault(StreamFault::CutInToolArgs {
                    call: 0,
                    after_chars: 6,
                    clean_eof: false,
                }),
        )),
    );
    emu.set_script(
        "gpt-x",
        Script::always(Action::Reply(
            Reply::new("").with_tool_call("read_file", json!({"path": "src/lib.rs"})),
        )),
    );
    let r = two_vendor_router(
        &emu,
        dir.path(),
        r#"["anthropic/claude-x", "openai/gpt-x"]"#,
    );
    let req = tool_request(vec![Message::user("Read src/lib.rs")]);
    let (a, shown) = route_answer(&r, &["anthropic/claude-x", "openai/gpt-x"], &req).await;
    // Exactly one call reached the caller, complete, from the second model.
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(
        tool_uses(&shown),
        vec![("read_file".to_string(), json!({"path": "src/lib.rs"}))]
    );
    assert_eq!(a.stop, StopReason::ToolUse);
    assert_eq!(tool_uses(&a.blocks).len(), 1);
    // The text before the cut is kept and continued; the segments say who wrote what.
    assert_eq!(a.segments[0].model, "anthropic/claude-x");
    assert_eq!(a.segments[0].text(), "I will read it.");
    assert!(
        a.segments
            .last()
            .unwrap()
            .blocks
            .iter()
            .any(|b| matches!(b, Block::ToolUse { .. }))
    );
    // The next model was asked to continue the text, with no broken call in its history.
    let turns = emu.requests_for("gpt-x")[0].turns();
    assert!(
        turns
            .iter()
            .flat_map(|t| &t.blocks)
            .all(|b| !matches!(b, WireBlock::ToolUse { .. }))
    );
}
