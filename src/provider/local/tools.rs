//! Tools for the local model. llama.cpp's built-in chat templates (the only template engine
//! `llama-cpp-2` exposes) render plain role/content turns and cannot pass tool definitions, so
//! aiw uses one documented prompt format for every GGUF:
//!
//! - the system prompt gets a section listing each tool (name, description, JSON Schema) and
//!   the rule: to call a tool, answer with only `{"tool": "<name>", "arguments": {…}}`;
//! - a GBNF grammar constrains the answer to either plain text (not starting with `{`) or
//!   exactly one such call naming a listed tool (only the call with `tool_choice` any/named);
//! - earlier tool calls are rendered in that JSON form, tool results as
//!   `[tool result for NAME (ID)]` blocks in the user turn;
//! - the answer is parsed back: a valid call becomes a tool-call block and the turn stops with
//!   `tool_use`; anything else stays text.
//!
//! This file is pure (no llama.cpp) so it is tested in every build.

use std::fmt::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use serde_json::Value;

use super::super::{Block, ChatEvent, ChatRequest, EventStream, Message, ProviderError, Role};
use crate::conversation::{StopReason, ToolChoice};

/// JSON value rules shared by the tool-call grammar (single spaces and newlines only, so a
/// small model cannot wander off into endless indentation).
const JSON_RULES: &str = r#"value  ::= object | array | string | number | ("true" | "false" | "null") ws
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]{0,15})) ("." [0-9]+)? ([eE] [-+]? [0-9]{1,3})? ws
ws     ::= | " " | "\n"
"#;

/// Whether the request offers tools the model may call.
fn tools_active(req: &ChatRequest) -> bool {
    !req.tools.is_empty() && req.tool_choice != Some(ToolChoice::None)
}

/// The system-prompt section that explains the tools.
pub fn tool_prompt(req: &ChatRequest) -> String {
    let mut out = String::from(
        "You can call tools. To call one, answer with only a JSON object and nothing else:\n\
         {\"tool\": \"<tool name>\", \"arguments\": {<arguments>}}\n\
         The results come back in the next message. Otherwise answer in plain text.\n\nTools:",
    );
    for t in &req.tools {
        let _ = write!(out, "\n- {}", t.name);
        if !t.description.is_empty() {
            let _ = write!(out, ": {}", t.description.trim());
        }
        let _ = write!(out, "\n  arguments (JSON Schema): {}", t.input_schema);
    }
    if let Some(ToolChoice::Any | ToolChoice::Tool { .. }) = &req.tool_choice {
        out.push_str("\nYou must call a tool now.");
    }
    out
}

/// A converter from a JSON Schema to a GBNF grammar (llama.cpp's own, with the `local`
/// feature); `None` when it cannot convert the schema.
pub type SchemaToGrammar<'a> = &'a dyn Fn(&str) -> Option<String>;

/// The GBNF grammar for the answer: text or one call (only a call when a tool is required).
/// Each tool's arguments follow its own JSON Schema where `convert` can turn it into a
/// grammar (a small model then cannot wander off inside the arguments); otherwise any JSON
/// object.
pub fn tool_grammar(req: &ChatRequest, convert: SchemaToGrammar<'_>) -> String {
    let tools: Vec<&crate::conversation::Tool> = match &req.tool_choice {
        Some(ToolChoice::Tool { name }) => req.tools.iter().filter(|t| &t.name == name).collect(),
        _ => req.tools.iter().collect(),
    };
    let mut calls = Vec::new();
    let mut rules = String::new();
    for (i, t) in tools.iter().enumerate() {
        let name = serde_json::to_string(&serde_json::to_string(&t.name).unwrap_or_default())
            .unwrap_or_default();
        let args = convert(&t.input_schema.to_string())
            .and_then(|g| prefixed(&g, &format!("t{i}-")))
            .map_or_else(
                || "object".to_string(),
                |(root, body)| {
                    rules.push_str(&body);
                    root
                },
            );
        calls.push(format!("call-{i}"));
        let _ = writeln!(
            rules,
            "call-{i} ::= \"{{\" ws \"\\\"tool\\\"\" ws \":\" ws {name} ws \",\" ws \"\\\"arguments\\\"\" ws \":\" ws {args} ws \"}}\" ws"
        );
    }
    let root = match &req.tool_choice {
        Some(ToolChoice::Any | ToolChoice::Tool { .. }) => "root ::= call",
        _ => "root ::= call | text\ntext ::= [^{ \\t\\n] [^\\x00]*",
    };
    format!(
        "{root}\ncall ::= {}\n{rules}{JSON_RULES}",
        calls.join(" | ")
    )
}

/// Renames every rule of a grammar with `prefix` (so several converted schemas can live in one
/// grammar) and returns the renamed root rule's name with the rules. `None` when the grammar
/// is not one rule per line.
fn prefixed(grammar: &str, prefix: &str) -> Option<(String, String)> {
    let mut names = std::collections::HashSet::new();
    let mut lines = Vec::new();
    for line in grammar.lines().filter(|l| !l.trim().is_empty()) {
        let (name, body) = line.split_once("::=")?;
        let name = name.trim();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return None;
        }
        names.insert(name.to_string());
        lines.push((name.to_string(), body.to_string()));
    }
    if !names.contains("root") {
        return None;
    }
    let mut out = String::new();
    for (name, body) in &lines {
        let _ = writeln!(
            out,
            "{prefix}{name} ::={}",
            rename_refs(body, &names, prefix)
        );
    }
    Some((format!("{prefix}root"), out))
}

/// Prefixes the rule references in a rule body, leaving string literals and character
/// classes alone.
fn rename_refs(body: &str, names: &std::collections::HashSet<String>, prefix: &str) -> String {
    let mut out = String::with_capacity(body.len() + 16);
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' | '[' => {
                let close = if c == '"' { '"' } else { ']' };
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if d == close {
                        break;
                    }
                }
            }
            c if c.is_ascii_alphanumeric() || c == '-' => {
                let mut word = String::from(c);
                while let Some(&d) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '-' {
                        word.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if names.contains(&word) {
                    out.push_str(prefix);
                }
                out.push_str(&word);
            }
            c => out.push(c),
        }
    }
    out
}

/// The request as the local model gets it: with tools, the tool section appended to the system
/// prompt and the tool grammar (unless the caller set a grammar of its own).
pub fn prepare(
    req: &ChatRequest,
    default_system: &str,
    convert: SchemaToGrammar<'_>,
) -> ChatRequest {
    let mut r = req.clone();
    if !tools_active(req) {
        return r;
    }
    let base = req
        .system
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or(default_system);
    r.system = Some(format!("{base}\n\n{}", tool_prompt(req)));
    if r.grammar.is_none() {
        r.grammar = Some(tool_grammar(req, convert));
    }
    r
}

/// A message as the text of one chat-template turn.
pub fn render_message(m: &Message) -> String {
    let mut out = String::new();
    let sep = |out: &mut String| {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
    };
    for b in &m.blocks {
        match b {
            Block::Text { text, .. } => {
                sep(&mut out);
                out.push_str(text);
            }
            Block::ToolUse { name, input, .. } => {
                sep(&mut out);
                // The same shape the grammar makes the model write, "tool" first.
                let name = serde_json::to_string(name).unwrap_or_default();
                let _ = write!(out, "{{\"tool\": {name}, \"arguments\": {input}}}");
            }
            Block::ToolResult {
                tool_use_id,
                content,
                is_error,
            } => {
                sep(&mut out);
                let status = if *is_error { " (error)" } else { "" };
                let _ = writeln!(out, "[tool result for {tool_use_id}{status}]");
                out.push_str(&crate::conversation::text_of(content));
            }
            Block::Image { .. } => {
                sep(&mut out);
                out.push_str("[an image was attached; this model cannot see images]");
            }
            // Reasoning and provider-only blocks are not part of what the local model reads.
            Block::Thinking { .. } | Block::Opaque { .. } => {}
        }
    }
    if m.role == Role::Assistant && out.is_empty() {
        out.push_str("(no text)");
    }
    out
}

/// A parsed local tool call: `{"tool": name, "arguments": {…}}` naming an offered tool.
fn parse_call(text: &str, names: &[String]) -> Option<(String, Value)> {
    let v: Value = serde_json::from_str(text.trim()).ok()?;
    let name = v.get("tool")?.as_str()?;
    let args = v.get("arguments").cloned().unwrap_or(Value::Null);
    let args = if args.is_null() {
        Value::Object(serde_json::Map::new())
    } else {
        args
    };
    (names.iter().any(|n| n == name) && args.is_object()).then(|| (name.to_string(), args))
}

#[derive(Debug)]
enum Mode {
    /// Only whitespace so far: could still be a call.
    Undecided(String),
    /// Plain text: passed through.
    Text,
    /// Starts with `{`: buffered until the end.
    Call(String),
}

/// Turns the local model's text into a tool call when it is one (see the module docs).
pub struct ToolCalls {
    inner: EventStream,
    names: Vec<String>,
    mode: Mode,
    queue: std::collections::VecDeque<Result<ChatEvent, ProviderError>>,
}

impl ToolCalls {
    /// Wraps the engine's stream for `req`; returns it unchanged when no tools are offered.
    pub fn wrap(inner: EventStream, req: &ChatRequest) -> EventStream {
        if !tools_active(req) {
            return inner;
        }
        Box::pin(Self {
            inner,
            names: req.tools.iter().map(|t| t.name.clone()).collect(),
            mode: Mode::Undecided(String::new()),
            queue: std::collections::VecDeque::new(),
        })
    }

    fn on_event(&mut self, ev: ChatEvent) {
        match ev {
            ChatEvent::Text(t) => match &mut self.mode {
                Mode::Text => self.queue.push_back(Ok(ChatEvent::Text(t))),
                Mode::Call(buf) => buf.push_str(&t),
                Mode::Undecided(buf) => {
                    buf.push_str(&t);
                    let rest = buf.trim_start();
                    if rest.starts_with('{') {
                        self.mode = Mode::Call(std::mem::take(buf));
                    } else if !rest.is_empty() {
                        let text = std::mem::take(buf);
                        self.mode = Mode::Text;
                        self.queue.push_back(Ok(ChatEvent::Text(text)));
                    }
                }
            },
            ChatEvent::Done { stop } => {
                let buffered = match std::mem::replace(&mut self.mode, Mode::Text) {
                    Mode::Call(b) | Mode::Undecided(b) => b,
                    Mode::Text => String::new(),
                };
                if let Some((name, args)) = parse_call(&buffered, &self.names) {
                    let tail: String = std::iter::repeat_with(fastrand::alphanumeric)
                        .take(16)
                        .collect();
                    self.queue.extend([
                        Ok(ChatEvent::ToolCallStart {
                            index: 0,
                            id: format!("call_local_{tail}"),
                            name,
                            signature: None,
                        }),
                        Ok(ChatEvent::ToolCallArgs {
                            index: 0,
                            json: args.to_string(),
                        }),
                        Ok(ChatEvent::ToolCallEnd { index: 0 }),
                        Ok(ChatEvent::Done {
                            stop: StopReason::ToolUse,
                        }),
                    ]);
                } else {
                    if !buffered.is_empty() {
                        self.queue.push_back(Ok(ChatEvent::Text(buffered)));
                    }
                    self.queue.push_back(Ok(ChatEvent::Done { stop }));
                }
            }
            other => self.queue.push_back(Ok(other)),
        }
    }
}

impl Stream for ToolCalls {
    type Item = Result<ChatEvent, ProviderError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                return Poll::Ready(Some(item));
            }
            match self.inner.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(ev))) => self.on_event(ev),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversation::Tool;
    use futures_util::StreamExt;
    use serde_json::json;

    fn req() -> ChatRequest {
        ChatRequest {
            tools: vec![Tool {
                name: "read_file".into(),
                description: "Reads a file".into(),
                input_schema: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
            }],
            ..ChatRequest::user("read a.rs")
        }
    }

    async fn run(pieces: &[&str], req: &ChatRequest) -> Vec<ChatEvent> {
        let mut evs: Vec<Result<ChatEvent, ProviderError>> = pieces
            .iter()
            .map(|p| Ok(ChatEvent::Text((*p).into())))
            .collect();
        evs.push(Ok(ChatEvent::Done {
            stop: StopReason::EndTurn,
        }));
        let inner: EventStream = Box::pin(futures_util::stream::iter(evs));
        ToolCalls::wrap(inner, req)
            .map(|e| e.unwrap())
            .collect()
            .await
    }

    #[tokio::test]
    async fn a_call_becomes_a_tool_call_and_text_stays_text() {
        let r = req();
        let got = run(
            &[
                " {\"tool\": \"read_",
                "file\", \"arguments\": {\"path\": \"a.rs\"}}",
            ],
            &r,
        )
        .await;
        assert!(matches!(&got[0], ChatEvent::ToolCallStart { name, .. } if name == "read_file"));
        assert_eq!(
            got[1],
            ChatEvent::ToolCallArgs {
                index: 0,
                json: json!({"path": "a.rs"}).to_string()
            }
        );
        assert_eq!(
            got[3],
            ChatEvent::Done {
                stop: StopReason::ToolUse
            }
        );
        let got = run(&["It ", "is {fine}"], &r).await;
        assert_eq!(got[0], ChatEvent::Text("It ".into()));
        assert_eq!(got[1], ChatEvent::Text("is {fine}".into()));
        // An unknown tool, or broken JSON, stays text.
        let got = run(&["{\"tool\": \"rm\", \"arguments\": {}}"], &r).await;
        assert!(matches!(&got[0], ChatEvent::Text(t) if t.contains("rm")));
        let got = run(&["{\"tool\": \"read_file\", \"argu"], &r).await;
        assert!(matches!(&got[0], ChatEvent::Text(_)));
        assert_eq!(
            got[1],
            ChatEvent::Done {
                stop: StopReason::EndTurn
            }
        );
    }

    #[test]
    fn prompt_grammar_and_rendering() {
        let no_converter = |_: &str| None;
        let r = prepare(&req(), "You are helpful.", &no_converter);
        let system = r.system.clone().unwrap();
        assert!(
            system.starts_with("You are helpful.\n\nYou can call tools."),
            "{system}"
        );
        assert!(system.contains("- read_file: Reads a file"), "{system}");
        let g = r.grammar.unwrap();
        assert!(g.contains(r#"ws "\"read_file\"" ws"#), "{g}");
        assert!(
            g.contains("ws object ws"),
            "without a converter, any object: {g}"
        );
        assert!(g.starts_with("root ::= call | text"), "{g}");
        let mut forced = req();
        forced.tool_choice = Some(ToolChoice::Any);
        assert!(tool_grammar(&forced, &no_converter).starts_with("root ::= call\n"));
        // A converted schema gets its own rule names.
        let converted = r#"root ::= "{" space path-kv "}" space
path-kv ::= "\"path\"" space ":" space string
space ::= | " "
string ::= "\"" [^"\\] * "\"" space
"#;
        let convert = |_: &str| Some(converted.to_string());
        let g = tool_grammar(&forced, &convert);
        assert!(
            g.contains(r#"t0-root ::= "{" t0-space t0-path-kv "}" t0-space"#),
            "{g}"
        );
        assert!(
            g.contains(r#"t0-path-kv ::= "\"path\"" t0-space ":" t0-space t0-string"#),
            "{g}"
        );
        assert!(g.contains("ws t0-root ws"), "{g}");
        let mut none = req();
        none.tool_choice = Some(ToolChoice::None);
        assert_eq!(prepare(&none, "s", &no_converter).grammar, None);
        let m = Message {
            role: Role::Assistant,
            blocks: vec![
                Block::text("Reading."),
                Block::ToolUse {
                    id: "t1".into(),
                    name: "read_file".into(),
                    input: json!({"path": "a.rs"}),
                    signature: None,
                },
            ],
        };
        assert_eq!(
            render_message(&m),
            "Reading.\n\n{\"tool\": \"read_file\", \"arguments\": {\"path\":\"a.rs\"}}"
        );
        let u = Message {
            role: Role::User,
            blocks: vec![Block::ToolResult {
                tool_use_id: "t1".into(),
                content: vec![Block::text("fn main() {}")],
                is_error: false,
            }],
        };
        assert_eq!(render_message(&u), "[tool result for t1]\nfn main() {}");
    }
}
