//! The provider-neutral conversation: a [`Session`] of [`Turn`]s, which model answered each
//! (with the seams of a mid-stream failover, every attempt and usage), attached files, how a
//! session becomes a [`ChatRequest`] for whichever model answers next, and its markdown export.
//! Questions and answers are content blocks (`conversation::Block`), so a transcript keeps
//! thinking and tool calls as they were. Persistence (append-only JSONL, crash salvage,
//! locking) lives in [`store`]; fitting a long history into a small window is
//! `conversation::fit`; the rolling summary that stands in for old turns there is
//! [`summary`].

mod record;
pub mod store;
pub mod summary;

use std::fmt::Write as _;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::config::ModelRef;
use crate::conversation::history::{merge_same_role, repair_tool_pairs};
use crate::conversation::text_of;
use crate::provider::{Block, ChatRequest, Message, Role, Usage};
use crate::router::{AllModelsFailed, Answer, Attempt, Outcome, Segment};
use crate::time::now_rfc3339;

pub use store::{SessionError, SessionStore, SessionSummary, SessionWriter};

/// A conversation, provider-neutral: what the user asked, who answered, what was attached.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    /// Time-sortable ID, e.g. `20261123-141502-a1b2` (UTC), also the file name.
    pub id: String,
    /// When the session started (RFC 3339, UTC).
    pub created_at: String,
    /// The system prompt, if any.
    pub system: Option<String>,
    /// The route the session was started with, if named.
    pub route: Option<String>,
    /// The conversation, oldest first (only what follows the last `/clear`).
    pub turns: Vec<Turn>,
    /// Files attached as context (only what follows the last `/clear`).
    pub attachments: Vec<Attachment>,
    /// The conversations before each `/clear`, oldest first: shown and exported, never sent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<Vec<Turn>>,
    /// The latest rolling summary of the turns (only what follows the last `/clear`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<summary::RollingSummary>,
    /// Each time the history had to be fitted into a smaller model's window.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fits: Vec<FitRecord>,
}

/// The history was fitted into a model's context window for one answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FitRecord {
    /// When (RFC 3339).
    pub at: String,
    /// The model it was fitted for.
    pub model: ModelRef,
    /// What fitting did.
    pub report: crate::conversation::fit::FitReport,
}

/// One question and its answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Turn {
    /// What the user asked.
    pub user: Vec<Block>,
    /// When (RFC 3339).
    pub at: String,
    /// The answer; `None` while it is awaited or when no model could answer.
    pub answer: Option<AnswerRecord>,
}

impl Turn {
    /// The question's text.
    pub fn user_text(&self) -> String {
        text_of(&self.user)
    }
}

/// An answer as stored: who wrote which part, every attempt, usage, and whether it is complete.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(from = "AnswerWire")]
pub struct AnswerRecord {
    /// The whole answer: every segment's blocks in order.
    pub blocks: Vec<Block>,
    /// The model that wrote the last part.
    pub model: ModelRef,
    /// Who wrote which part; more than one after a mid-stream failover.
    #[serde(with = "record::segments")]
    pub segments: Vec<Segment>,
    /// Every attempt, in order (empty for an answer recovered from checkpoints).
    #[serde(with = "record::attempts")]
    pub attempts: Vec<Attempt>,
    /// Total usage across attempts.
    pub usage: Usage,
    /// True when the answer was cut short (cancelled, every model failed, or aiw stopped).
    pub partial: bool,
    /// When the answer ended (RFC 3339).
    pub at: String,
    /// What the chat said about this answer as it came (failovers and their reasons, retries,
    /// trimmed history, an output limit reached), so a resumed session still says it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// An answer as stored in a session file: format 1 held `text`, format 2 holds `blocks`.
#[derive(Deserialize)]
struct AnswerWire {
    #[serde(default)]
    blocks: Option<Vec<Block>>,
    #[serde(default)]
    text: Option<String>,
    model: ModelRef,
    #[serde(default, with = "record::segments")]
    segments: Vec<Segment>,
    #[serde(default, with = "record::attempts")]
    attempts: Vec<Attempt>,
    #[serde(default)]
    usage: Usage,
    #[serde(default)]
    partial: bool,
    #[serde(default)]
    at: String,
    #[serde(default)]
    notes: Vec<String>,
}

impl From<AnswerWire> for AnswerRecord {
    fn from(w: AnswerWire) -> Self {
        let blocks = match (w.blocks, w.text) {
            (Some(b), _) => b,
            (None, Some(t)) if !t.is_empty() => vec![Block::text(t)],
            (None, _) => Vec::new(),
        };
        Self {
            blocks,
            model: w.model,
            segments: w.segments,
            attempts: w.attempts,
            usage: w.usage,
            partial: w.partial,
            at: w.at,
            notes: w.notes,
        }
    }
}

impl AnswerRecord {
    /// The answer's text.
    pub fn text(&self) -> String {
        text_of(&self.blocks)
    }

    /// The record of a complete answer from the router.
    pub fn from_answer(answer: &Answer) -> Self {
        Self {
            blocks: answer.blocks.clone(),
            model: answer.model.clone(),
            segments: answer.segments.clone(),
            attempts: answer.attempts.clone(),
            usage: answer.usage,
            partial: false,
            at: now_rfc3339(),
            notes: Vec::new(),
        }
    }

    /// The record of an answer that no model could finish: the text shown so far, marked
    /// partial. `None` when no text was shown at all (the turn then stays unanswered).
    pub fn from_failure(failed: &AllModelsFailed) -> Option<Self> {
        let blocks: Vec<Block> = failed
            .partial
            .iter()
            .flat_map(|s| s.blocks.iter().cloned())
            .collect();
        let model = failed.partial.last()?.model.clone();
        Some(Self {
            blocks,
            model,
            segments: failed.partial.clone(),
            attempts: failed.attempts.clone(),
            usage: Usage::default(),
            partial: true,
            at: now_rfc3339(),
            notes: Vec::new(),
        })
    }

    /// Models that wrote part of this answer, in order, without repeats.
    pub fn models(&self) -> Vec<&ModelRef> {
        let mut out: Vec<&ModelRef> = Vec::new();
        for m in self
            .segments
            .iter()
            .map(|s| &s.model)
            .chain(std::iter::once(&self.model))
        {
            if !out.contains(&m) {
                out.push(m);
            }
        }
        out
    }
}

/// A file (or command output, e.g. `git diff`) attached as context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// What it is called in the prompt and on screen: a path, or e.g. `git diff`.
    pub name: String,
    /// Its text.
    pub content: String,
    /// Pinned attachments are kept when the history is fitted into a small window.
    pub pinned: bool,
}

/// A fresh time-sortable session ID: `YYYYMMDD-HHMMSS-xxxx` (UTC, four random hex digits).
pub fn new_id() -> String {
    let ts = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    // `2026-11-23T14:15:02Z` -> `20261123-141502`
    let digits: String = ts.chars().filter(char::is_ascii_digit).collect();
    let (date, time) = digits.split_at(digits.len().min(8));
    format!("{date}-{time}-{:04x}", fastrand::u16(..))
}

impl Session {
    /// A new, empty session with a fresh ID.
    pub fn new(system: Option<String>, route: Option<String>) -> Session {
        Session {
            id: new_id(),
            created_at: now_rfc3339(),
            system,
            route,
            turns: Vec::new(),
            attachments: Vec::new(),
            earlier: Vec::new(),
            summary: None,
            fits: Vec::new(),
        }
    }

    /// The last thing the user asked, if anything.
    pub fn last_user(&self) -> Option<String> {
        self.turns.last().map(Turn::user_text)
    }

    /// Adds a question (the answer to come is `None`). Mirrors [`SessionWriter::user`].
    pub fn push_user(&mut self, text: &str) {
        self.turns.push(Turn {
            user: vec![Block::text(text)],
            at: now_rfc3339(),
            answer: None,
        });
    }

    /// Sets the answer of the last turn. Returns false (and changes nothing) when there is no
    /// turn to answer. Mirrors [`SessionWriter::answer`].
    pub fn set_answer(&mut self, rec: AnswerRecord) -> bool {
        match self.turns.last_mut() {
            Some(turn) => {
                turn.answer = Some(rec);
                true
            }
            None => false,
        }
    }

    /// Attaches a file; an attachment with the same name replaces the earlier one (re-adding a
    /// file after editing it). Mirrors [`SessionWriter::attach`].
    pub fn attach(&mut self, a: Attachment) {
        if let Some(old) = self.attachments.iter_mut().find(|o| o.name == a.name) {
            *old = a;
        } else {
            self.attachments.push(a);
        }
    }

    /// `/clear`: starts a new context. The turns so far move to [`Session::earlier`] (shown
    /// and exported, no longer sent); attachments are forgotten. Mirrors
    /// [`SessionWriter::clear`].
    pub fn clear(&mut self) {
        if !self.turns.is_empty() {
            self.earlier.push(std::mem::take(&mut self.turns));
        }
        self.attachments.clear();
        self.summary = None;
    }

    /// Every turn of the session, the ones before `/clear` first.
    pub fn all_turns(&self) -> impl Iterator<Item = &Turn> {
        self.earlier.iter().flatten().chain(&self.turns)
    }

    /// Every model that wrote part of an answer, in order of first appearance.
    pub fn models_used(&self) -> Vec<ModelRef> {
        let mut out: Vec<ModelRef> = Vec::new();
        for rec in self.all_turns().filter_map(|t| t.answer.as_ref()) {
            for m in rec.models() {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            }
        }
        out
    }

    /// The request for the next answer: the conversation so far plus `next_user` (or, with
    /// `None`, the conversation as it is, e.g. to re-ask an unanswered last question or let a
    /// model continue a partial answer).
    ///
    /// Layout, the same for every provider:
    /// - `system` is the session's system prompt followed by every attachment (see
    ///   [`Session::system_with`]). Attachments go into the system prompt, not into a user
    ///   message, so the strict user/assistant alternation that Anthropic and Gemini require
    ///   holds, and so they survive any trimming of old turns.
    /// - `messages` are the turns, oldest first: the user's blocks, then the answer's. A
    ///   partial answer is included as it was shown, so the next model sees (and continues
    ///   from) it. A turn without answer adds only its user blocks, consecutive messages of one
    ///   role are joined (text with a blank line), and tool calls without results are left out,
    ///   so the history is valid for any provider.
    /// - `next_user` comes last.
    /// - `summary` is the rolling summary, if one was made: fitting puts it in place of the
    ///   turns a small model's window cannot hold.
    pub fn to_request(&self, next_user: Option<&str>) -> ChatRequest {
        ChatRequest {
            system: self.system_with(|_| true),
            messages: self.messages(next_user),
            summary: self.summary.as_ref().map(|s| s.text.clone()),
            ..ChatRequest::default()
        }
    }

    /// The system prompt with the attachments that `include` accepts appended, each as
    /// `<attachment name="...">` ... `</attachment>`. `None` when both are empty. Context
    /// fitting calls this with a filter that keeps only pinned attachments.
    pub fn system_with(&self, include: impl Fn(&Attachment) -> bool) -> Option<String> {
        let mut out = self.system.clone().unwrap_or_default();
        let attached: Vec<&Attachment> = self.attachments.iter().filter(|a| include(a)).collect();
        if !attached.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str("The user attached these files as context:");
            for a in attached {
                let _ = write!(
                    out,
                    "\n\n<attachment name=\"{}\">\n{}",
                    a.name.replace('"', "'"),
                    a.content
                );
                if !a.content.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str("</attachment>");
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// The turns (and `next_user`) as messages with alternating roles; see
    /// [`Session::to_request`].
    pub fn messages(&self, next_user: Option<&str>) -> Vec<Message> {
        let mut raw = Vec::with_capacity(self.turns.len() * 2 + 1);
        for turn in &self.turns {
            raw.push(Message {
                role: Role::User,
                blocks: turn.user.clone(),
            });
            if let Some(a) = &turn.answer
                && !a.blocks.is_empty()
            {
                raw.push(Message {
                    role: Role::Assistant,
                    blocks: a.blocks.clone(),
                });
            }
        }
        if let Some(u) = next_user {
            raw.push(Message::user(u));
        }
        raw.retain(|m| !m.blocks.is_empty());
        merge_same_role(&mut raw);
        repair_tool_pairs(&mut raw);
        raw
    }

    /// The transcript as markdown: a heading per turn, who answered, where another model took
    /// over after a failure, failed attempts, and partial answers marked as such.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "# aiw session {}\n", self.id);
        let _ = writeln!(md, "- Started: {}", self.created_at);
        if let Some(r) = &self.route {
            let _ = writeln!(md, "- Route: {r}");
        }
        let models = self.models_used();
        if !models.is_empty() {
            let names: Vec<String> = models.iter().map(ToString::to_string).collect();
            let _ = writeln!(md, "- Models: {}", names.join(", "));
        }
        if let Some(s) = &self.system {
            let _ = writeln!(md, "\n## System prompt\n\n{}", s.trim_end());
        }
        if !self.attachments.is_empty() {
            md.push_str("\n## Attachments\n\n");
            for a in &self.attachments {
                let pin = if a.pinned { ", pinned" } else { "" };
                let _ = writeln!(
                    md,
                    "- `{}` ({} lines{pin})",
                    a.name,
                    a.content.lines().count()
                );
            }
        }
        let parts = self.earlier.iter().map(Vec::as_slice);
        let mut n = 0;
        for (part, turns) in parts.chain([self.turns.as_slice()]).enumerate() {
            if part > 0 {
                let _ = writeln!(
                    md,
                    "\n---\n\n*`/clear`: a new context starts here (the models saw nothing above)*"
                );
            }
            for turn in turns {
                n += 1;
                turn_markdown(&mut md, n, turn);
            }
        }
        md
    }
}

fn turn_markdown(md: &mut String, n: usize, turn: &Turn) {
    let _ = writeln!(md, "\n## Turn {n}\n");
    let _ = writeln!(
        md,
        "### You ({})\n\n{}",
        turn.at,
        turn.user_text().trim_end()
    );
    match &turn.answer {
        None => md.push_str("\n*No answer.*\n"),
        Some(a) => answer_markdown(md, a),
    }
}

fn answer_markdown(md: &mut String, a: &AnswerRecord) {
    let first = a.segments.first().map_or(&a.model, |s| &s.model);
    let _ = writeln!(md, "\n### Answer (answered by {first})\n");
    // Failed attempts that are not the seam of a mid-stream failover: the models that were
    // tried (and failed) before one answered.
    let seam_models: Vec<&ModelRef> = a.segments.windows(2).map(|w| &w[0].model).collect();
    let failed: Vec<String> = a
        .attempts
        .iter()
        .filter(|t| t.outcome == Outcome::Failed && !seam_models.contains(&&t.model))
        .map(|t| format!("{} ({})", t.model, failure_reason(t)))
        .collect();
    if !failed.is_empty() {
        let _ = writeln!(md, "> failed first: {}\n", failed.join(", "));
    }
    if a.segments.is_empty() {
        let _ = writeln!(md, "{}", a.text().trim_end());
    } else {
        for (i, seg) in a.segments.iter().enumerate() {
            if i > 0 {
                let prev = &a.segments[i - 1].model;
                let why = a
                    .attempts
                    .iter()
                    .rev()
                    .find(|t| &t.model == prev && t.outcome == Outcome::Failed)
                    .map(|t| format!(" ({})", failure_reason(t)))
                    .unwrap_or_default();
                if !md.ends_with('\n') {
                    md.push('\n');
                }
                let _ = writeln!(
                    md,
                    "\n> continued by {} after {prev} failed{why}\n",
                    seg.model
                );
            }
            md.push_str(&seg.text());
        }
        if !md.ends_with('\n') {
            md.push('\n');
        }
    }
    if a.partial {
        md.push_str("\n*(partial: this answer was cut short)*\n");
    }
}

fn failure_reason(t: &Attempt) -> String {
    match (&t.error_class, &t.error) {
        (Some(c), Some(e)) => format!("{c}: {e}"),
        (Some(c), None) => c.to_string(),
        (None, Some(e)) => e.clone(),
        (None, None) => "failed".to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::provider::ErrorClass;

    /// A two-segment answer: `anthropic/opus` failed mid-stream, `openai/gpt` finished it.
    pub(crate) fn seam_answer() -> AnswerRecord {
        AnswerRecord {
            blocks: vec![Block::text("Hello, world")],
            model: "openai/gpt".into(),
            segments: vec![
                Segment {
                    model: "anthropic/opus".into(),
                    blocks: vec![Block::text("Hello, ")],
                },
                Segment {
                    model: "openai/gpt".into(),
                    blocks: vec![Block::text("world")],
                },
            ],
            attempts: vec![
                Attempt {
                    model: "anthropic/opus".into(),
                    outcome: Outcome::Failed,
                    error_class: Some(ErrorClass::Overloaded),
                    error: Some("529 overloaded".into()),
                    status: Some(529),
                    ttft_ms: Some(120),
                    ms: 900,
                    chars: 7,
                },
                Attempt {
                    model: "openai/gpt".into(),
                    outcome: Outcome::Ok,
                    error_class: None,
                    error: None,
                    status: Some(200),
                    ttft_ms: Some(80),
                    ms: 400,
                    chars: 5,
                },
            ],
            usage: Usage {
                input_tokens: 30,
                output_tokens: 4,
                ..Usage::default()
            },
            partial: false,
            at: "2026-11-23T14:15:09.000Z".into(),
            notes: Vec::new(),
        }
    }

    pub(crate) fn simple_answer(model: &str, text: &str) -> AnswerRecord {
        AnswerRecord {
            blocks: vec![Block::text(text)],
            model: model.into(),
            segments: vec![Segment {
                model: model.into(),
                blocks: vec![Block::text(text)],
            }],
            attempts: Vec::new(),
            usage: Usage::default(),
            partial: false,
            at: now_rfc3339(),
            notes: Vec::new(),
        }
    }

    #[test]
    fn new_ids_are_time_sortable_and_distinct() {
        let a = Session::new(None, None);
        let b = Session::new(None, None);
        assert_ne!(a.id, b.id);
        let parts: Vec<&str> = a.id.split('-').collect();
        assert_eq!(parts.len(), 3, "{}", a.id);
        assert_eq!(parts[0].len(), 8);
        assert_eq!(parts[1].len(), 6);
        assert_eq!(parts[2].len(), 4);
        assert!(a.id.starts_with("20"), "{}", a.id);
        assert!(a.created_at.ends_with('Z') && a.created_at.contains('T'));
    }

    #[test]
    fn to_request_has_system_attachments_turns_then_the_new_question() {
        let mut s = Session::new(Some("Be terse.".into()), None);
        s.attach(Attachment {
            name: "src/main.rs".into(),
            content: "fn main() {}".into(),
            pinned: true,
        });
        s.push_user("first?");
        s.set_answer(seam_answer());
        s.push_user("second?");
        let mut cut = simple_answer("openai/gpt", "half an ans");
        cut.partial = true;
        s.set_answer(cut);
        let req = s.to_request(Some("third?"));
        let system = req.system.expect("system prompt");
        assert!(system.starts_with("Be terse.\n\n"), "{system}");
        assert!(
            system.contains("<attachment name=\"src/main.rs\">\nfn main() {}\n</attachment>"),
            "{system}"
        );
        let got: Vec<(Role, String)> = req.messages.iter().map(|m| (m.role, m.text())).collect();
        assert_eq!(
            got,
            [
                (Role::User, "first?"),
                (Role::Assistant, "Hello, world"),
                (Role::User, "second?"),
                (Role::Assistant, "half an ans"),
                (Role::User, "third?"),
            ]
            .map(|(r, t)| (r, t.to_string()))
        );
    }

    #[test]
    fn to_request_keeps_roles_alternating_around_unanswered_turns() {
        let mut s = Session::new(None, None);
        s.push_user("nobody answered this");
        s.push_user("so I ask again");
        let req = s.to_request(None);
        assert_eq!(req.system, None);
        assert_eq!(req.messages.len(), 1);
        assert_eq!(
            req.messages[0].text(),
            "nobody answered this\n\nso I ask again"
        );
        // Re-asking the unanswered last question: the request ends with it.
        assert_eq!(s.last_user().as_deref(), Some("so I ask again"));
    }

    #[test]
    fn system_with_filters_attachments() {
        let mut s = Session::new(None, None);
        s.attach(Attachment {
            name: "a".into(),
            content: "A\n".into(),
            pinned: true,
        });
        s.attach(Attachment {
            name: "b".into(),
            content: "B".into(),
            pinned: false,
        });
        let pinned = s.system_with(|a| a.pinned).expect("pinned attachment");
        assert!(pinned.contains("name=\"a\">\nA\n</attachment>"), "{pinned}");
        assert!(!pinned.contains("name=\"b\""));
        assert_eq!(s.system_with(|_| false), None);
        // Re-attaching a name replaces it.
        s.attach(Attachment {
            name: "a".into(),
            content: "A2".into(),
            pinned: true,
        });
        assert_eq!(s.attachments.len(), 2);
        assert_eq!(s.attachments[0].content, "A2");
    }

    #[test]
    fn markdown_names_models_seams_failures_and_partials() {
        let mut s = Session::new(Some("sys".into()), Some("default".into()));
        s.push_user("why?");
        s.set_answer(seam_answer());
        s.push_user("and then?");
        let mut cut = simple_answer("local/smollm2", "because");
        cut.partial = true;
        cut.attempts = vec![Attempt {
            model: "gemini/flash".into(),
            outcome: Outcome::Failed,
            error_class: Some(ErrorClass::Connection),
            error: None,
            status: None,
            ttft_ms: None,
            ms: 3,
            chars: 0,
        }];
        s.set_answer(cut);
        s.push_user("hello?");
        let md = s.to_markdown();
        for want in [
            &format!("# aiw session {}", s.id),
            "- Route: default",
            "- Models: anthropic/opus, openai/gpt, local/smollm2",
            "## System prompt\n\nsys",
            "## Turn 1",
            "why?",
            "### Answer (answered by anthropic/opus)",
            "Hello, \n\n> continued by openai/gpt after anthropic/opus failed (overloaded: 529 overloaded)\n\nworld",
            "## Turn 2",
            "### Answer (answered by local/smollm2)",
            "> failed first: gemini/flash (connection)",
            "because\n\n*(partial: this answer was cut short)*",
            "## Turn 3",
            "*No answer.*",
        ] {
            assert!(md.contains(want), "missing {want:?} in:\n{md}");
        }
        // The seam's failed attempt is not listed again as a "failed first".
        assert!(!md.contains("failed first: anthropic/opus"), "{md}");
    }

    #[test]
    fn answer_record_from_router_results() {
        let failed = AllModelsFailed {
            attempts: seam_answer().attempts,
            partial: vec![Segment {
                model: "anthropic/opus".into(),
                blocks: vec![Block::text("so far")],
            }],
            held_back: None,
        };
        let rec = AnswerRecord::from_failure(&failed).expect("text was shown");
        assert!(rec.partial);
        assert_eq!(rec.text(), "so far");
        assert_eq!(rec.model, "anthropic/opus");
        let none = AllModelsFailed {
            attempts: Vec::new(),
            partial: Vec::new(),
            held_back: None,
        };
        assert!(AnswerRecord::from_failure(&none).is_none());
    }

    /// Autoref probe: the inherent method (only when `T: Serialize`) wins over the trait's.
    struct Probe<T>(std::marker::PhantomData<T>);
    trait NotSerialize {
        fn serializable(&self) -> bool {
            false
        }
    }
    impl<T> NotSerialize for Probe<T> {}
    impl<T: Serialize> Probe<T> {
        #[expect(
            clippy::unused_self,
            reason = "called as a method for autoref dispatch"
        )]
        fn serializable(&self) -> bool {
            true
        }
    }

    #[test]
    fn secrets_cannot_be_serialized_into_a_session() {
        use std::marker::PhantomData;
        // The probe works: session types are serializable...
        assert!(Probe::<Session>(PhantomData).serializable());
        assert!(Probe::<AnswerRecord>(PhantomData).serializable());
        // ...and keys are not, so no session field can ever hold one.
        assert!(!Probe::<crate::config::Secret>(PhantomData).serializable());
    }
}
