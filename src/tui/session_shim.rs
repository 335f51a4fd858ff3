//! TEMPORARY stand-in for `crate::session` while it is being written in parallel: the same
//! API (names and shapes) that the chat codes against, with a small JSONL store, so `aiw chat`
//! compiles and runs. Delete this file and point `tui::session` at `crate::session` once the
//! real module lands on main; nothing outside `tui/` uses it.

use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::provider::{ChatMessage, ChatRequest, Usage};
use crate::router::{Attempt, Segment};

/// A stored answer.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AnswerRecord {
    /// The whole text.
    pub text: String,
    /// The model that finished it.
    pub model: String,
    /// Who wrote which part.
    pub segments: Vec<Segment>,
    /// Every attempt.
    pub attempts: Vec<Attempt>,
    /// Usage.
    pub usage: Usage,
    /// Cut short (cancelled or failed).
    pub partial: bool,
    /// When (RFC 3339).
    pub at: String,
}

/// One exchange.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Turn {
    /// The prompt.
    pub user: String,
    /// When (RFC 3339).
    pub at: String,
    /// The answer, once there is one.
    pub answer: Option<AnswerRecord>,
}

/// A file or diff given as context.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name or `git diff`.
    pub name: String,
    /// The text.
    pub content: String,
    /// Kept in the context when fitting a smaller window.
    pub pinned: bool,
}

/// A conversation.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Session {
    /// Identifier.
    pub id: String,
    /// System prompt.
    pub system: Option<String>,
    /// Route name.
    pub route: String,
    /// Turns, oldest first.
    pub turns: Vec<Turn>,
    /// Attachments.
    pub attachments: Vec<Attachment>,
}

impl Session {
    /// A new, empty session.
    pub fn new(system: Option<String>, route: String) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Self {
            id: format!("{now:x}"),
            system,
            route,
            turns: Vec::new(),
            attachments: Vec::new(),
        }
    }

    /// The request for the next answer.
    pub fn to_request(&self, next_user: Option<&str>) -> ChatRequest {
        let mut messages = Vec::new();
        for t in &self.turns {
            messages.push(ChatMessage::user(t.user.clone()));
            if let Some(a) = &t.answer {
                if !a.text.is_empty() {
                    messages.push(ChatMessage::assistant(a.text.clone()));
                }
            }
        }
        if let Some(u) = next_user {
            messages.push(ChatMessage::user(u));
        }
        if !self.attachments.is_empty() {
            let mut ctx = String::new();
            for a in &self.attachments {
                ctx.push_str(&format!(
                    "<file name=\"{}\">\n{}\n</file>\n",
                    a.name, a.content
                ));
            }
            if let Some(first) = messages.first_mut() {
                first.content = format!("{ctx}\n{}", first.content);
            }
        }
        ChatRequest {
            system: self.system.clone(),
            messages,
            ..ChatRequest::default()
        }
    }

    /// The transcript as markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = format!("# Session {}\n\n", self.id);
        for t in &self.turns {
            out.push_str(&format!("## You\n\n{}\n\n", t.user));
            if let Some(a) = &t.answer {
                let partial = if a.partial { " (partial)" } else { "" };
                out.push_str(&format!("## {}{partial}\n\n{}\n\n", a.model, a.text));
            }
        }
        out
    }
}

#[derive(Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Record {
    Meta {
        id: String,
        system: Option<String>,
        route: String,
    },
    User {
        text: String,
    },
    Partial {
        text: String,
        model: String,
    },
    Answer {
        answer: AnswerRecord,
    },
    Attach {
        attachment: Attachment,
    },
    Clear,
}

/// Where sessions live.
pub struct SessionStore {
    dir: PathBuf,
}

/// Appends one session's records.
pub struct SessionWriter {
    id: String,
    file: std::fs::File,
}

impl SessionStore {
    /// The store in `data_dir/sessions`.
    pub fn new(data_dir: &Path) -> Self {
        Self {
            dir: data_dir.join("sessions"),
        }
    }

    /// Starts writing a new session.
    pub fn create(&self, s: &Session) -> io::Result<SessionWriter> {
        std::fs::create_dir_all(&self.dir)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join(format!("{}.jsonl", s.id)))?;
        let mut w = SessionWriter {
            id: s.id.clone(),
            file,
        };
        w.write(&Record::Meta {
            id: s.id.clone(),
            system: s.system.clone(),
            route: s.route.clone(),
        })?;
        Ok(w)
    }

    /// Reopens a session (`None` = the latest).
    pub fn resume(&self, id: Option<&str>) -> io::Result<(Session, SessionWriter, Vec<String>)> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&self.dir)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        let path = match id {
            Some(id) => files.into_iter().find(|p| {
                p.file_stem()
                    .is_some_and(|s| s.to_string_lossy().starts_with(id))
            }),
            None => files.pop(),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such session"))?;
        let mut s = Session::default();
        let mut warnings = Vec::new();
        let reader = io::BufReader::new(std::fs::File::open(&path)?);
        for (n, line) in reader.lines().enumerate() {
            let line = line?;
            match serde_json::from_str::<Record>(&line) {
                Ok(Record::Meta { id, system, route }) => {
                    s.id = id;
                    s.system = system;
                    s.route = route;
                }
                Ok(Record::User { text }) => s.turns.push(Turn {
                    user: text,
                    ..Turn::default()
                }),
                Ok(Record::Partial { text, model }) => {
                    if let Some(t) = s.turns.last_mut() {
                        t.answer = Some(AnswerRecord {
                            text,
                            model,
                            partial: true,
                            ..AnswerRecord::default()
                        });
                    }
                }
                Ok(Record::Answer { answer }) => {
                    if let Some(t) = s.turns.last_mut() {
                        t.answer = Some(answer);
                    }
                }
                Ok(Record::Attach { attachment }) => s.attachments.push(attachment),
                Ok(Record::Clear) => {
                    s.turns.clear();
                    s.attachments.clear();
                }
                Err(e) => {
                    warnings.push(format!(
                        "{}: line {}: {e}; kept what came before",
                        path.display(),
                        n + 1
                    ));
                    break;
                }
            }
        }
        let file = std::fs::OpenOptions::new().append(true).open(&path)?;
        Ok((
            s.clone(),
            SessionWriter {
                id: s.id.clone(),
                file,
            },
            warnings,
        ))
    }
}

impl SessionWriter {
    fn write(&mut self, r: &Record) -> io::Result<()> {
        let mut line = serde_json::to_string(r).map_err(io::Error::other)?;
        line.push('\n');
        self.file.write_all(line.as_bytes())?;
        self.file.sync_data()
    }
    /// A user turn.
    pub fn user(&mut self, text: &str) -> io::Result<()> {
        self.write(&Record::User { text: text.into() })
    }
    /// A checkpoint of a streaming answer.
    pub fn partial(&mut self, text: &str, model: &str) -> io::Result<()> {
        self.write(&Record::Partial {
            text: text.into(),
            model: model.into(),
        })
    }
    /// The final answer.
    pub fn answer(&mut self, a: &AnswerRecord) -> io::Result<()> {
        self.write(&Record::Answer { answer: a.clone() })
    }
    /// An attachment.
    pub fn attach(&mut self, a: &Attachment) -> io::Result<()> {
        self.write(&Record::Attach {
            attachment: a.clone(),
        })
    }
    /// Clears the conversation.
    pub fn clear(&mut self) -> io::Result<()> {
        self.write(&Record::Clear)
    }
    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }
}
