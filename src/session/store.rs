//! Session persistence: one append-only JSONL file per session in `{data_dir}/sessions/`,
//! written record by record with a flush and `sync_data` each (a crash or `kill -9` loses at
//! most the text after the last checkpoint), read back with salvage (a torn last line or a
//! damaged line is skipped with a warning), and an advisory lock so two aiw processes never
//! append to one session at once.
//!
//! File format, version [`FORMAT_VERSION`]: every line is one JSON object with a `type` tag.
//! - `header` (always the first line): `v`, `id`, `created_at`, `system`, `route`.
//! - `user`: a question (`blocks`, `at`; format 1 wrote `text`); starts a new turn.
//! - `partial`: a checkpoint of the answer in progress: `model` wrote `text`, which replaces
//!   the answer's text from byte `offset` on (so checkpoints are deltas, and the file grows
//!   linearly with the answer). On load, checkpoints not followed by an `answer` become an
//!   answer marked `partial: true`.
//! - `answer`: the finished (or finally abandoned, `partial: true`) answer of the last turn,
//!   as content blocks with the segments that say which model wrote which blocks (format 1
//!   wrote `text`; such files still load).
//! - `attach`: an attachment (`at`, `attachment`).
//! - `clear`: `/clear`, the marker where a new context starts: the turns before it load into
//!   `Session::earlier` (shown and exported, never sent again), the ones after it into
//!   `Session::turns` (what `--continue` resumes with).
//! - `summary`: a rolling summary of the session (`summary`: its text, the turns it covers,
//!   the model that wrote it and what it cost); the last one wins.
//! - `fitted`: the history was fitted into a smaller model's window (`at`, `model`, `report`).
//!
//! Files written before `summary` and `fitted` existed load unchanged.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{AnswerRecord, Attachment, FitRecord, Session, Turn};
use crate::config::ModelRef;
use crate::provider::Block;
use crate::router::Segment;
use crate::time::now_rfc3339;

/// The session file format this aiw writes and the newest it reads (2: questions and answers
/// as content blocks; 1, text only, still loads).
pub const FORMAT_VERSION: u32 = 2;

/// Something went wrong finding, reading or writing a saved session. Every message says how
/// to go on.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// No saved session has this ID or prefix.
    #[error("no saved session matches `{id}` (see `aiw sessions list` for the saved ones)")]
    NotFound {
        /// The ID or prefix asked for.
        id: String,
    },
    /// The prefix fits more than one session.
    #[error("`{prefix}` matches {} sessions ({}): give more of the ID", .matches.len(), .matches.join(", "))]
    Ambiguous {
        /// The prefix asked for.
        prefix: String,
        /// Every matching ID, newest first.
        matches: Vec<String>,
    },
    /// `--continue` or `--resume` without ID, but nothing was saved yet.
    #[error("there are no saved sessions in {} yet: start one with `aiw chat`", .dir.display())]
    NoSessions {
        /// The sessions directory.
        dir: PathBuf,
    },
    /// The text cannot be a session ID (it would escape the sessions directory, or is empty).
    #[error(
        "`{id}` is not a session ID: IDs look like 20261123-141502-a1b2 (letters, digits and `-`)"
    )]
    InvalidId {
        /// What was given.
        id: String,
    },
    /// Another aiw process has this session open for writing.
    #[error(
        "session {id} is open in another aiw process (it holds the lock on {}): close it there, or start a new session",
        .path.display()
    )]
    Locked {
        /// The session ID.
        id: String,
        /// The session file.
        path: PathBuf,
    },
    /// A session file with this ID exists already (two sessions created in the same second
    /// with the same random suffix).
    #[error("session {id} exists already at {}: try again for a fresh ID", .path.display())]
    Exists {
        /// The session ID.
        id: String,
        /// The session file.
        path: PathBuf,
    },
    /// The file was written by a newer aiw in a format this one cannot read.
    #[error(
        "session {id} was written by a newer aiw (format v{v}; this aiw reads up to v{FORMAT_VERSION}): upgrade aiw to open it"
    )]
    NewerFormat {
        /// The session ID.
        id: String,
        /// The format version in its header.
        v: u32,
    },
    /// Reading or writing a file failed.
    #[error("cannot {op} {}: {source}", .path.display())]
    Io {
        /// What aiw was doing, e.g. "append to".
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SessionError {
    let path = path.to_path_buf();
    move |source| SessionError::Io { op, path, source }
}

/// One line of a session file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Record {
    Header {
        v: u32,
        id: String,
        created_at: String,
        system: Option<String>,
        route: Option<String>,
    },
    User {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        blocks: Vec<Block>,
        /// Format 1's question text.
        #[serde(default, skip_serializing)]
        text: Option<String>,
        at: String,
    },
    Partial {
        model: ModelRef,
        offset: usize,
        text: String,
        at: String,
    },
    Answer(AnswerRecord),
    Attach {
        at: String,
        attachment: Attachment,
    },
    Clear {
        at: String,
    },
    Summary {
        summary: super::summary::RollingSummary,
    },
    Fitted(super::FitRecord),
}

/// One line of `aiw sessions list`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionSummary {
    /// The session ID.
    pub id: String,
    /// When it started (RFC 3339).
    pub created_at: String,
    /// When its last record was written (RFC 3339).
    pub updated_at: String,
    /// Turns of the whole session (before and after any `/clear`).
    pub turns: usize,
    /// The first line of the first question, shortened.
    pub title: String,
    /// Models that wrote answers, in order of first appearance.
    pub models: Vec<ModelRef>,
    /// Whether the last answer is partial (the session was interrupted mid-answer).
    pub partial: bool,
    /// Salvage warnings from reading the file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The saved sessions, in `{data_dir}/sessions`.
#[derive(Clone, Debug)]
pub struct SessionStore {
    dir: PathBuf,
}

/// The result of reading one file: the session, when its last record was written, warnings,
/// and the byte length of the good part when the file ends in a torn line.
struct Loaded {
    session: Session,
    updated_at: String,
    warnings: Vec<String>,
    torn_at: Option<u64>,
}

impl SessionStore {
    /// The store in `data_dir/sessions` (created on the first write).
    pub fn new(data_dir: &Path) -> SessionStore {
        SessionStore {
            dir: data_dir.join("sessions"),
        }
    }

    /// The sessions directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of session `id`.
    pub fn path_of(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.jsonl"))
    }

    /// Starts the file of a new session (writes its header, then every turn already in
    /// `session`) and returns the writer that holds its lock.
    pub fn create(&self, session: &Session) -> Result<SessionWriter, SessionError> {
        check_id(&session.id)?;
        crate::files::private_dir(&self.dir).map_err(io_err("create the directory", &self.dir))?;
        let path = self.path_of(&session.id);
        let file = crate::files::private_options()
            .read(true)
            .append(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    SessionError::Exists {
                        id: session.id.clone(),
                        path: path.clone(),
                    }
                } else {
                    io_err("create", &path)(e)
                }
            })?;
        lock(&file, &session.id, &path)?;
        sync_dir(&self.dir);
        let mut w = SessionWriter {
            id: session.id.clone(),
            path,
            file,
            checkpoint: String::new(),
            checkpoint_model: None,
        };
        w.write(&Record::Header {
            v: FORMAT_VERSION,
            id: session.id.clone(),
            created_at: session.created_at.clone(),
            system: session.system.clone(),
            route: session.route.clone(),
        })?;
        for a in &session.attachments {
            w.attach(a)?;
        }
        for t in &session.turns {
            w.write(&Record::User {
                blocks: t.user.clone(),
                text: None,
                at: t.at.clone(),
            })?;
            if let Some(a) = &t.answer {
                w.answer(a)?;
            }
        }
        Ok(w)
    }

    /// Reopens a session to go on with it: `None` (or an empty ID) means the most recently
    /// updated one. Returns the session as saved, a writer that holds its lock, and salvage
    /// warnings. A torn last line (a crash mid-write) is cut off the file so that new records
    /// start on a clean line.
    pub fn resume(
        &self,
        id_or_prefix: Option<&str>,
    ) -> Result<(Session, SessionWriter, Vec<String>), SessionError> {
        let id = match id_or_prefix.filter(|s| !s.is_empty()) {
            Some(p) => self.resolve(p)?,
            None => self
                .list()?
                .into_iter()
                .next()
                .map(|s| s.id)
                .ok_or_else(|| SessionError::NoSessions {
                    dir: self.dir.clone(),
                })?,
        };
        let path = self.path_of(&id);
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io_err("open", &path))?;
        lock(&file, &id, &path)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(io_err("read", &path))?;
        let loaded = parse(&id, &bytes)?;
        let mut good = bytes.as_slice();
        if let Some(len) = loaded.torn_at {
            file.set_len(len).map_err(io_err("repair", &path))?;
            file.sync_data().map_err(io_err("repair", &path))?;
            good = &bytes[..usize::try_from(len).unwrap_or(bytes.len())];
        }
        file.seek(SeekFrom::End(0)).map_err(io_err("open", &path))?;
        let mut w = SessionWriter {
            id,
            path,
            file,
            checkpoint: String::new(),
            checkpoint_model: None,
        };
        if good.last().is_some_and(|&b| b != b'\n') {
            // A whole last record whose newline never reached the disk: end its line.
            w.file
                .write_all(b"\n")
                .and_then(|()| w.file.sync_data())
                .map_err(io_err("repair", &w.path))?;
        }
        // A recovered partial answer: later checkpoints of the same answer continue it.
        if let Some(a) = loaded.session.turns.last().and_then(|t| t.answer.as_ref())
            && a.partial
        {
            w.checkpoint = a.text();
            w.checkpoint_model = Some(a.model.clone());
        }
        Ok((loaded.session, w, loaded.warnings))
    }

    /// Reads a session (by ID or unique prefix) with salvage warnings; takes no lock.
    pub fn load(&self, id_or_prefix: &str) -> Result<(Session, Vec<String>), SessionError> {
        let id = self.resolve(id_or_prefix)?;
        let loaded = self.read(&id)?;
        Ok((loaded.session, loaded.warnings))
    }

    /// Every saved session, most recently updated first.
    pub fn list(&self) -> Result<Vec<SessionSummary>, SessionError> {
        let mut out = Vec::new();
        for id in self.ids()? {
            let summary = match self.read(&id) {
                Ok(l) => summarize(&l),
                Err(e) => SessionSummary {
                    id: id.clone(),
                    created_at: String::new(),
                    updated_at: String::new(),
                    turns: 0,
                    title: String::new(),
                    models: Vec::new(),
                    partial: false,
                    warnings: vec![e.to_string()],
                },
            };
            // Record times have millisecond resolution; the file's mtime breaks ties between
            // sessions written within the same millisecond.
            let mtime = std::fs::metadata(self.path_of(&id))
                .and_then(|m| m.modified())
                .ok();
            out.push((summary, mtime));
        }
        out.sort_by(|(a, am), (b, bm)| {
            b.updated_at
                .cmp(&a.updated_at)
                .then_with(|| bm.cmp(am))
                .then_with(|| b.id.cmp(&a.id))
        });
        Ok(out.into_iter().map(|(s, _)| s).collect())
    }

    /// Deletes a session's file. Refuses while another process has it open.
    pub fn remove(&self, id_or_prefix: &str) -> Result<(), SessionError> {
        let id = self.resolve(id_or_prefix)?;
        let path = self.path_of(&id);
        {
            let file = File::open(&path).map_err(io_err("open", &path))?;
            lock(&file, &id, &path)?;
        }
        fs::remove_file(&path).map_err(io_err("remove", &path))?;
        sync_dir(&self.dir);
        Ok(())
    }

    /// The full ID for an ID or unique prefix. An exact ID wins over longer IDs it prefixes.
    pub fn resolve(&self, id_or_prefix: &str) -> Result<String, SessionError> {
        let p = id_or_prefix.trim();
        check_id(p)?;
        let ids = self.ids()?;
        if ids.iter().any(|i| i == p) {
            return Ok(p.to_string());
        }
        let mut matches: Vec<String> = ids.into_iter().filter(|i| i.starts_with(p)).collect();
        match matches.len() {
            0 => Err(SessionError::NotFound { id: p.to_string() }),
            1 => Ok(matches.remove(0)),
            _ => {
                matches.sort_by(|a, b| b.cmp(a));
                Err(SessionError::Ambiguous {
                    prefix: p.to_string(),
                    matches,
                })
            }
        }
    }

    /// IDs of every session file, unordered. A missing directory means none.
    fn ids(&self) -> Result<Vec<String>, SessionError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_err("read the directory", &self.dir)(e)),
        };
        let mut ids = Vec::new();
        for entry in entries {
            let entry = entry.map_err(io_err("read the directory", &self.dir))?;
            let name = entry.file_name();
            if let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".jsonl"))
                && check_id(id).is_ok()
            {
                ids.push(id.to_string());
            }
        }
        Ok(ids)
    }

    fn read(&self, id: &str) -> Result<Loaded, SessionError> {
        let path = self.path_of(id);
        let bytes = fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                SessionError::NotFound { id: id.to_string() }
            } else {
                io_err("read", &path)(e)
            }
        })?;
        parse(id, &bytes)
    }
}

/// Appends a session's records to its file, each flushed and synced, holding the file's lock
/// until dropped.
#[derive(Debug)]
pub struct SessionWriter {
    id: String,
    path: PathBuf,
    file: File,
    /// The text of the answer in progress as far as checkpointed, and who wrote the last bit.
    checkpoint: String,
    checkpoint_model: Option<ModelRef>,
}

impl SessionWriter {
    /// The session ID.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The session file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a question (a new turn).
    pub fn user(&mut self, text: &str) -> Result<(), SessionError> {
        self.reset_checkpoint();
        self.write(&Record::User {
            blocks: vec![Block::text(text)],
            text: None,
            at: now_rfc3339(),
        })
    }

    /// Checkpoints the answer in progress: `text_so_far` is the whole answer text shown so far
    /// and `model` the model writing now. Only what changed since the last checkpoint is
    /// written. Call it every few hundred characters or every second or so while streaming; an
    /// answer that never gets its [`SessionWriter::answer`] loads as partial.
    pub fn partial(&mut self, text_so_far: &str, model: &ModelRef) -> Result<(), SessionError> {
        let offset = common_prefix(&self.checkpoint, text_so_far);
        if offset == text_so_far.len()
            && offset == self.checkpoint.len()
            && (self.checkpoint_model.as_ref() == Some(model) || offset == 0)
        {
            return Ok(());
        }
        self.write(&Record::Partial {
            model: model.clone(),
            offset,
            text: text_so_far[offset..].to_string(),
            at: now_rfc3339(),
        })?;
        self.checkpoint.truncate(offset);
        self.checkpoint.push_str(&text_so_far[offset..]);
        self.checkpoint_model = Some(model.clone());
        Ok(())
    }

    /// Records the answer of the last turn (complete, or finally abandoned with
    /// `partial: true`); it supersedes the checkpoints.
    pub fn answer(&mut self, rec: &AnswerRecord) -> Result<(), SessionError> {
        self.reset_checkpoint();
        self.write(&Record::Answer(rec.clone()))
    }

    /// Records an attachment.
    pub fn attach(&mut self, a: &Attachment) -> Result<(), SessionError> {
        self.write(&Record::Attach {
            at: now_rfc3339(),
            attachment: a.clone(),
        })
    }

    /// Records a new rolling summary (the last one in the file is the one used).
    pub fn summary(
        &mut self,
        summary: &super::summary::RollingSummary,
    ) -> Result<(), SessionError> {
        self.write(&Record::Summary {
            summary: summary.clone(),
        })
    }

    /// Records that the history was fitted into a smaller model's window.
    pub fn fitted(&mut self, record: &FitRecord) -> Result<(), SessionError> {
        self.write(&Record::Fitted(record.clone()))
    }

    /// Records `/clear`: later loads start with no turns and no attachments; the history stays
    /// in the file.
    pub fn clear(&mut self) -> Result<(), SessionError> {
        self.reset_checkpoint();
        self.write(&Record::Clear { at: now_rfc3339() })
    }

    fn reset_checkpoint(&mut self) {
        self.checkpoint.clear();
        self.checkpoint_model = None;
    }

    /// One record, one `write_all` of one line, then flush and `sync_data`: after a crash the
    /// file ends with whole records, or with one torn line that loading drops.
    fn write(&mut self, rec: &Record) -> Result<(), SessionError> {
        let mut line = serde_json::to_string(rec).map_err(|e| SessionError::Io {
            op: "encode a record for",
            path: self.path.clone(),
            source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        })?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .and_then(|()| self.file.sync_data())
            .map_err(io_err("append to", &self.path))
    }
}

fn lock(file: &File, id: &str, path: &Path) -> Result<(), SessionError> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(TryLockError::WouldBlock) => Err(SessionError::Locked {
            id: id.to_string(),
            path: path.to_path_buf(),
        }),
        Err(TryLockError::Error(e)) => Err(io_err("lock", path)(e)),
    }
}

/// Makes a created or removed file name durable. Best effort: not every platform can open a
/// directory.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Letters, digits, `-` and `_` only: never a path.
fn check_id(id: &str) -> Result<(), SessionError> {
    if id.is_empty()
        || id.len() > 128
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(SessionError::InvalidId { id: id.to_string() });
    }
    Ok(())
}

/// Byte length of the longest common prefix of `a` and `b`, on a char boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = 0;
    for ((i, ca), cb) in a.char_indices().zip(b.chars()) {
        if ca != cb {
            return i;
        }
        n = i + ca.len_utf8();
    }
    n
}

/// Turns `YYYYMMDD-HHMMSS-...` into RFC 3339, for a session whose header was lost.
fn created_from_id(id: &str) -> String {
    let d: Vec<char> = id.chars().collect();
    let ok = d.len() >= 15
        && d[..8].iter().all(char::is_ascii_digit)
        && d[8] == '-'
        && d[9..15].iter().all(char::is_ascii_digit);
    if !ok {
        return String::new();
    }
    let s = |r: std::ops::Range<usize>| d[r].iter().collect::<String>();
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        s(0..4),
        s(4..6),
        s(6..8),
        s(9..11),
        s(11..13),
        s(13..15)
    )
}

/// The answer being rebuilt from checkpoints (text: checkpoints carry the text shown so far).
#[derive(Default)]
struct Pending {
    segments: Vec<TextSegment>,
}

/// A checkpointed stretch of text and the model that wrote it.
struct TextSegment {
    model: ModelRef,
    text: String,
}

impl Pending {
    fn len(&self) -> usize {
        self.segments.iter().map(|s| s.text.len()).sum()
    }

    /// Cuts the text at byte `offset`; false when that is not a place in the text.
    fn truncate(&mut self, offset: usize) -> bool {
        let mut left = offset;
        let mut keep = 0;
        for seg in &mut self.segments {
            if left == 0 {
                break;
            }
            if seg.text.len() <= left {
                left -= seg.text.len();
                keep += 1;
            } else {
                if !seg.text.is_char_boundary(left) {
                    return false;
                }
                seg.text.truncate(left);
                left = 0;
                keep += 1;
            }
        }
        if left > 0 {
            return false;
        }
        self.segments.truncate(keep);
        true
    }

    fn push(&mut self, model: &ModelRef, text: &str) {
        match self.segments.last_mut() {
            Some(last) if last.model == *model => last.text.push_str(text),
            _ if text.is_empty() => {}
            _ => self.segments.push(TextSegment {
                model: model.clone(),
                text: text.to_string(),
            }),
        }
    }

    fn record(&self, model: &ModelRef, at: &str) -> AnswerRecord {
        let text: String = self.segments.iter().map(|s| s.text.as_str()).collect();
        AnswerRecord {
            blocks: if text.is_empty() {
                Vec::new()
            } else {
                vec![Block::text(text)]
            },
            model: self
                .segments
                .last()
                .map_or_else(|| model.clone(), |s| s.model.clone()),
            segments: self
                .segments
                .iter()
                .map(|s| Segment {
                    model: s.model.clone(),
                    blocks: vec![Block::text(s.text.clone())],
                })
                .collect(),
            attempts: Vec::new(),
            usage: crate::provider::Usage::default(),
            partial: true,
            at: at.to_string(),
            notes: Vec::new(),
        }
    }
}

/// Rebuilds a session from its file's bytes, salvaging what it can.
fn parse(id: &str, bytes: &[u8]) -> Result<Loaded, SessionError> {
    let mut r = Replay::new(id);
    let mut torn_at = None;
    let mut start = 0usize;
    let mut line_no = 0usize;
    while start < bytes.len() {
        line_no += 1;
        let (line, next, complete) = match bytes[start..].iter().position(|&b| b == b'\n') {
            Some(i) => (&bytes[start..start + i], start + i + 1, true),
            None => (&bytes[start..], bytes.len(), false),
        };
        let line_start = start;
        start = next;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let rec = std::str::from_utf8(line)
            .ok()
            .and_then(|s| serde_json::from_str::<Record>(s).ok());
        match rec {
            Some(rec) => r.apply(rec, line_no)?,
            None if complete => r.warn(line_no, "is damaged and was skipped"),
            None => {
                r.warn(
                    line_no,
                    ", the last, was cut off (probably a crash while writing) and was dropped",
                );
                torn_at = Some(line_start as u64);
            }
        }
    }
    Ok(r.finish(torn_at))
}

/// The state of reading a session file record by record.
struct Replay {
    session: Session,
    updated_at: String,
    warnings: Vec<String>,
    pending: Pending,
    header_seen: bool,
}

impl Replay {
    fn new(id: &str) -> Self {
        Self {
            session: Session {
                id: id.to_string(),
                created_at: String::new(),
                system: None,
                route: None,
                turns: Vec::new(),
                attachments: Vec::new(),
                earlier: Vec::new(),
                summary: None,
                fits: Vec::new(),
            },
            updated_at: String::new(),
            warnings: Vec::new(),
            pending: Pending::default(),
            header_seen: false,
        }
    }

    /// `session ID: line N <what>`.
    fn warn(&mut self, line_no: usize, what: &str) {
        let sep = if what.starts_with(',') { "" } else { " " };
        self.warnings.push(format!(
            "session {}: line {line_no}{sep}{what}",
            self.session.id
        ));
    }

    fn apply(&mut self, rec: Record, line_no: usize) -> Result<(), SessionError> {
        let at = match rec {
            Record::Header {
                v,
                created_at,
                system,
                route,
                ..
            } => {
                if v > FORMAT_VERSION {
                    return Err(SessionError::NewerFormat {
                        id: self.session.id.clone(),
                        v,
                    });
                }
                if self.header_seen {
                    self.warn(line_no, "is a second header and was skipped");
                    return Ok(());
                }
                self.header_seen = true;
                self.session.system = system;
                self.session.route = route;
                self.session.created_at.clone_from(&created_at);
                created_at
            }
            Record::User { blocks, text, at } => {
                self.pending = Pending::default();
                let user = match (blocks.is_empty(), text) {
                    (true, Some(t)) => vec![Block::text(t)],
                    _ => blocks,
                };
                self.session.turns.push(Turn {
                    user,
                    at: at.clone(),
                    answer: None,
                });
                at
            }
            Record::Partial {
                model,
                offset,
                text,
                at,
            } => {
                let Some(turn) = self.session.turns.last_mut() else {
                    self.warn(
                        line_no,
                        "is part of an answer to no question and was skipped",
                    );
                    return Ok(());
                };
                if turn.answer.as_ref().is_some_and(|a| !a.partial) {
                    // A new answer to an answered question (a re-ask): start over.
                    self.pending = Pending::default();
                }
                if offset > self.pending.len() || !self.pending.truncate(offset) {
                    self.warn(
                        line_no,
                        "does not continue the answer before it and was skipped",
                    );
                    return Ok(());
                }
                self.pending.push(&model, &text);
                turn.answer = Some(self.pending.record(&model, &at));
                at
            }
            Record::Answer(rec) => {
                self.pending = Pending::default();
                let at = rec.at.clone();
                if !self.session.set_answer(rec) {
                    self.warn(line_no, "is an answer to no question and was skipped");
                    return Ok(());
                }
                at
            }
            Record::Attach { at, attachment } => {
                self.session.attach(attachment);
                at
            }
            Record::Clear { at } => {
                self.pending = Pending::default();
                self.session.clear();
                at
            }
            Record::Summary { summary } => {
                let at = summary.at.clone();
                self.session.summary = Some(summary);
                at
            }
            Record::Fitted(f) => {
                let at = f.at.clone();
                self.session.fits.push(f);
                at
            }
        };
        self.updated_at = at;
        Ok(())
    }

    fn finish(mut self, torn_at: Option<u64>) -> Loaded {
        if !self.header_seen {
            let id = &self.session.id;
            self.warnings.insert(
                0,
                format!(
                    "session {id}: the header (system prompt, route) is missing or damaged; the turns were kept"
                ),
            );
            self.session.created_at = created_from_id(id);
            if self.updated_at.is_empty() {
                self.updated_at.clone_from(&self.session.created_at);
            }
        }
        Loaded {
            session: self.session,
            updated_at: self.updated_at,
            warnings: self.warnings,
            torn_at,
        }
    }
}

fn summarize(l: &Loaded) -> SessionSummary {
    let s = &l.session;
    let title = s
        .all_turns()
        .next()
        .and_then(|t| {
            t.user_text()
                .lines()
                .find(|l| !l.trim().is_empty())
                .map(str::to_string)
        })
        .map(|l| shorten(l.trim(), 60))
        .unwrap_or_default();
    SessionSummary {
        id: s.id.clone(),
        created_at: s.created_at.clone(),
        updated_at: l.updated_at.clone(),
        turns: s.all_turns().count(),
        title,
        models: s.models_used(),
        partial: s
            .turns
            .last()
            .and_then(|t| t.answer.as_ref())
            .is_some_and(|a| a.partial),
        warnings: l.warnings.clone(),
    }
}

/// At most `max` characters, with `…` when cut.
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::Message;
    use crate::session::tests::{seam_answer, simple_answer};

    fn store() -> (tempfile::TempDir, SessionStore) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SessionStore::new(dir.path());
        (dir, store)
    }

    fn json<T: Serialize>(v: &T) -> serde_json::Value {
        serde_json::to_value(v).expect("serializable")
    }

    fn session_with_id(id: &str) -> Session {
        let mut s = Session::new(None, None);
        s.id = id.to_string();
        s
    }

    #[test]
    fn multi_turn_session_with_a_failover_seam_round_trips() {
        let (_d, store) = store();
        let s = Session::new(Some("You review Rust.".into()), Some("default".into()));
        let mut w = store.create(&s).expect("create");
        w.attach(&Attachment {
            name: "src/lib.rs".into(),
            content: "pub fn f() {}\n".into(),
            pinned: true,
        })
        .expect("attach");
        w.user("first question").expect("user");
        w.partial("Hello, ", &"anthropic/opus".into())
            .expect("partial");
        w.answer(&seam_answer()).expect("answer");
        w.user("second question\nwith two lines").expect("user");
        w.answer(&simple_answer("openai/gpt", "Sure."))
            .expect("answer");
        drop(w);

        let (back, warnings) = store.load(&s.id).expect("load");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(back.id, s.id);
        assert_eq!(back.created_at, s.created_at);
        assert_eq!(back.system.as_deref(), Some("You review Rust."));
        assert_eq!(back.route.as_deref(), Some("default"));
        assert_eq!(back.attachments.len(), 1);
        assert!(back.attachments[0].pinned);
        assert_eq!(back.turns.len(), 2);
        assert_eq!(back.turns[0].user_text(), "first question");
        assert_eq!(
            json(&back.turns[0].answer),
            json(&Some(seam_answer())),
            "the seam, attempts and usage survive"
        );
        assert_eq!(back.turns[1].user_text(), "second question\nwith two lines");
        assert_eq!(
            back.turns[1]
                .answer
                .as_ref()
                .map(AnswerRecord::text)
                .as_deref(),
            Some("Sure.")
        );
        assert_eq!(
            json(&back.to_request(Some("x"))),
            json(&{
                let mut s2 = back.clone();
                s2.id = "other".into();
                s2.to_request(Some("x"))
            })
        );

        let text = fs::read_to_string(store.path_of(&s.id)).expect("file");
        let first: serde_json::Value =
            serde_json::from_str(text.lines().next().expect("a line")).expect("json");
        assert_eq!(first["type"], "header");
        assert_eq!(first["v"], FORMAT_VERSION);
        assert!(text.lines().all(|l| l.contains("\"type\":")));
    }

    #[test]
    fn an_interrupted_answer_is_recovered_as_partial() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        let mut w = store.create(&s).expect("create");
        w.user("tell me a story").expect("user");
        w.partial("Once upon", &"anthropic/opus".into())
            .expect("partial");
        w.partial("Once upon a time", &"anthropic/opus".into())
            .expect("partial");
        // Failover mid-stream: another model continues the text.
        w.partial("Once upon a time, there", &"openai/gpt".into())
            .expect("partial");
        drop(w); // crash: no answer() record

        let (back, warnings) = store.load(&s.id).expect("load");
        assert!(warnings.is_empty(), "{warnings:?}");
        let a = back.turns[0].answer.as_ref().expect("recovered answer");
        assert!(a.partial);
        assert_eq!(a.text(), "Once upon a time, there");
        assert_eq!(a.model, "openai/gpt");
        assert_eq!(
            a.segments,
            vec![
                Segment {
                    model: "anthropic/opus".into(),
                    blocks: vec![Block::text("Once upon a time")]
                },
                Segment {
                    model: "openai/gpt".into(),
                    blocks: vec![Block::text(", there")]
                },
            ]
        );
        // Checkpoints are deltas: the file does not repeat the text.
        let file = fs::read_to_string(store.path_of(&s.id)).expect("file");
        assert_eq!(file.matches("Once upon").count(), 1, "{file}");

        // The next model is asked to continue from what was shown.
        let req = back.to_request(None);
        assert_eq!(
            req.messages.last().map(Message::text).as_deref(),
            Some("Once upon a time, there")
        );
    }

    #[test]
    fn a_checkpoint_that_rewrites_text_replaces_it() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        let mut w = store.create(&s).expect("create");
        w.user("q").expect("user");
        w.partial("héllo wörld", &"a/m".into()).expect("partial");
        w.partial("héllo", &"a/m".into())
            .expect("same text again is not rewritten");
        w.partial("héllo there", &"a/m".into()).expect("partial");
        drop(w);
        let (back, _) = store.load(&s.id).expect("load");
        let a = back.turns[0].answer.as_ref().expect("answer");
        assert_eq!(a.text(), "héllo there");
        assert!(a.partial);
    }

    #[test]
    fn a_final_answer_supersedes_checkpoints() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        let mut w = store.create(&s).expect("create");
        w.user("q").expect("user");
        w.partial("draft", &"a/m".into()).expect("partial");
        w.answer(&simple_answer("a/m", "draft and more"))
            .expect("answer");
        drop(w);
        let (back, _) = store.load(&s.id).expect("load");
        let a = back.turns[0].answer.as_ref().expect("answer");
        assert!(!a.partial);
        assert_eq!(a.text(), "draft and more");
    }

    #[test]
    fn a_torn_last_line_is_dropped_with_a_warning_and_cut_on_resume() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        let mut w = store.create(&s).expect("create");
        w.user("q1").expect("user");
        w.answer(&simple_answer("a/m", "a1")).expect("answer");
        drop(w);
        let path = store.path_of(&s.id);
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(br#"{"type":"user","text":"q2 that was be"#)
            .expect("tear");
        drop(f);

        let (back, warnings) = store.load(&s.id).expect("load");
        assert_eq!(back.turns.len(), 1);
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].contains("line 4, the last, was cut off"),
            "{warnings:?}"
        );
        assert!(warnings[0].contains(&s.id));

        let (again, mut w, warnings) = store.resume(Some(&s.id)).expect("resume");
        assert_eq!(again.turns.len(), 1);
        assert_eq!(warnings.len(), 1);
        w.user("q2").expect("user");
        drop(w);
        let (back, warnings) = store.load(&s.id).expect("load");
        assert!(warnings.is_empty(), "the torn tail was cut: {warnings:?}");
        assert_eq!(back.last_user().as_deref(), Some("q2"));
    }

    #[test]
    fn a_whole_last_record_without_newline_is_kept_and_resume_ends_its_line() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        drop(store.create(&s).expect("create"));
        let path = store.path_of(&s.id);
        let mut f = OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(br#"{"type":"user","text":"q1","at":"2026-01-01T00:00:00.000Z"}"#)
            .expect("write");
        drop(f);
        let (_s, mut w, warnings) = store.resume(None).expect("resume");
        assert!(warnings.is_empty(), "{warnings:?}");
        w.user("q2").expect("user");
        drop(w);
        let (back, warnings) = store.load(&s.id).expect("load");
        assert!(warnings.is_empty(), "{warnings:?}");
        let users: Vec<String> = back.turns.iter().map(Turn::user_text).collect();
        assert_eq!(users, ["q1", "q2"]);
    }

    #[test]
    fn a_damaged_middle_line_is_skipped_with_a_warning() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        let mut w = store.create(&s).expect("create");
        w.user("q1").expect("user");
        w.answer(&simple_answer("a/m", "a1")).expect("answer");
        w.user("q2").expect("user");
        w.answer(&simple_answer("a/m", "a2")).expect("answer");
        drop(w);
        let path = store.path_of(&s.id);
        let text = fs::read_to_string(&path).expect("read");
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        lines[2] = "{\"type\":\"answer\",\"te\u{0}garbage".into(); // the first answer
        let mut bytes = lines.join("\n").into_bytes();
        bytes.push(b'\n');
        bytes.extend_from_slice(b"\xff\xfe not utf-8\n");
        fs::write(&path, bytes).expect("write");

        let (back, warnings) = store.load(&s.id).expect("load");
        assert_eq!(
            warnings,
            vec![
                format!("session {}: line 3 is damaged and was skipped", s.id),
                format!("session {}: line 6 is damaged and was skipped", s.id),
            ]
        );
        assert_eq!(back.turns.len(), 2);
        assert!(back.turns[0].answer.is_none());
        assert_eq!(
            back.turns[1]
                .answer
                .as_ref()
                .map(AnswerRecord::text)
                .as_deref(),
            Some("a2")
        );
    }

    #[test]
    fn a_lost_header_keeps_the_turns() {
        let (_d, store) = store();
        let mut s = session_with_id("20261123-141502-abcd");
        s.system = Some("sys".into());
        let mut w = store.create(&s).expect("create");
        w.user("q1").expect("user");
        drop(w);
        let path = store.path_of(&s.id);
        let text = fs::read_to_string(&path).expect("read");
        let rest: Vec<&str> = text.lines().skip(1).collect();
        fs::write(&path, format!("garbage\n{}\n", rest.join("\n"))).expect("write");
        let (back, warnings) = store.load(&s.id).expect("load");
        assert_eq!(back.turns.len(), 1);
        assert_eq!(back.created_at, "2026-11-23T14:15:02Z");
        assert_eq!(back.system, None);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("header"), "{warnings:?}");
    }

    #[test]
    fn a_newer_format_is_refused_with_upgrade_advice() {
        let (_d, store) = store();
        fs::create_dir_all(store.dir()).expect("dir");
        fs::write(
            store.path_of("20261123-141502-abcd"),
            "{\"type\":\"header\",\"v\":99,\"id\":\"20261123-141502-abcd\",\"created_at\":\"x\",\"system\":null,\"route\":null}\n",
        )
        .expect("write");
        let err = store.load("20261123").expect_err("newer format");
        assert!(
            matches!(err, SessionError::NewerFormat { v: 99, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("upgrade aiw"), "{err}");
    }

    #[test]
    fn prefixes_resolve_and_ambiguity_lists_the_matches() {
        let (_d, store) = store();
        for id in [
            "20261123-141502-aaaa",
            "20261123-141502-aabb",
            "20261124-090000-cccc",
        ] {
            drop(store.create(&session_with_id(id)).expect("create"));
        }
        assert_eq!(
            store.resolve("20261124").expect("unique"),
            "20261124-090000-cccc"
        );
        assert_eq!(
            store.resolve("20261123-141502-aaaa").expect("exact"),
            "20261123-141502-aaaa"
        );
        match store.resolve("20261123-141502-aa") {
            Err(SessionError::Ambiguous { prefix, matches }) => {
                assert_eq!(prefix, "20261123-141502-aa");
                assert_eq!(matches, ["20261123-141502-aabb", "20261123-141502-aaaa"]);
            }
            other => panic!("expected ambiguity, got {other:?}"),
        }
        let err = store.load("2027").expect_err("none");
        assert!(matches!(err, SessionError::NotFound { .. }));
        assert!(err.to_string().contains("aiw sessions list"), "{err}");
        for bad in ["", "../etc/passwd", "a/b", "x.jsonl"] {
            assert!(
                matches!(store.load(bad), Err(SessionError::InvalidId { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn list_is_newest_first_and_resume_none_takes_the_latest() {
        let (_d, store) = store();
        assert!(store.list().expect("empty list").is_empty());
        assert!(matches!(
            store.resume(None),
            Err(SessionError::NoSessions { .. })
        ));
        let mut old = session_with_id("20261123-141502-aaaa");
        old.created_at = "2026-11-23T14:15:02.000Z".into();
        let mut w = store.create(&old).expect("create");
        w.user("the older one, with a very long first line that goes on and on and on and on")
            .expect("user");
        w.answer(&simple_answer("anthropic/opus", "ok"))
            .expect("answer");
        drop(w);
        // Record times have millisecond resolution: make "updated later" unambiguous.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let mut new = session_with_id("20261122-000000-bbbb"); // created earlier...
        new.created_at = "2026-11-22T00:00:00.000Z".into();
        let mut w = store.create(&new).expect("create");
        w.user("the newer one").expect("user"); // ...but updated now
        w.partial("half", &"openai/gpt".into()).expect("partial");
        drop(w);

        let list = store.list().expect("list");
        let ids: Vec<&str> = list.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["20261122-000000-bbbb", "20261123-141502-aaaa"]);
        assert_eq!(list[0].turns, 1);
        assert!(list[0].partial);
        assert_eq!(list[0].models, ["openai/gpt"]);
        assert_eq!(list[1].models, ["anthropic/opus"]);
        assert_eq!(list[1].title.chars().count(), 60);
        assert!(list[1].title.ends_with('…'));
        assert!(list[0].updated_at >= list[1].updated_at);

        let (s, w, _) = store.resume(None).expect("resume latest");
        assert_eq!(s.id, "20261122-000000-bbbb");
        assert_eq!(w.id(), s.id);
    }

    #[test]
    fn clear_starts_over_but_keeps_the_history_in_the_file() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        let mut w = store.create(&s).expect("create");
        w.attach(&Attachment {
            name: "f".into(),
            content: "c".into(),
            pinned: false,
        })
        .expect("attach");
        w.user("before").expect("user");
        w.clear().expect("clear");
        w.user("after").expect("user");
        drop(w);
        let (back, _) = store.load(&s.id).expect("load");
        assert!(back.attachments.is_empty());
        let users: Vec<String> = back.turns.iter().map(Turn::user_text).collect();
        assert_eq!(users, ["after"]);
        let file = fs::read_to_string(store.path_of(&s.id)).expect("file");
        assert!(file.contains("before"));
        // The session stays whole: both parts are shown, with the marker between them.
        let all: Vec<String> = back.all_turns().map(Turn::user_text).collect();
        assert_eq!(all, ["before", "after"]);
        let md = back.to_markdown();
        let (b, a) = (md.find("before").unwrap(), md.find("after").unwrap());
        let marker = md
            .find("`/clear`: a new context starts here")
            .expect("marker");
        assert!(b < marker && marker < a, "{md}");
        let list = store.list().expect("list");
        assert_eq!((list[0].turns, list[0].title.as_str()), (2, "before"));
    }

    #[test]
    fn a_session_open_for_writing_is_locked_against_other_writers() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        let w = store.create(&s).expect("create");
        let err = store.resume(Some(&s.id)).expect_err("locked");
        assert!(matches!(err, SessionError::Locked { .. }), "{err}");
        assert!(err.to_string().contains("another aiw process"), "{err}");
        assert!(matches!(
            store.remove(&s.id),
            Err(SessionError::Locked { .. })
        ));
        // Readers do not need the lock.
        store.load(&s.id).expect("load while open");
        drop(w);
        let (_s, w2, _) = store.resume(Some(&s.id)).expect("free after drop");
        drop(w2);
    }

    #[test]
    fn remove_deletes_the_file() {
        let (_d, store) = store();
        let s = Session::new(None, None);
        drop(store.create(&s).expect("create"));
        store.remove(&s.id[..10]).expect("remove by prefix");
        assert!(!store.path_of(&s.id).exists());
        assert!(matches!(
            store.remove(&s.id),
            Err(SessionError::NotFound { .. })
        ));
        assert!(
            matches!(store.create(&s).map(|_| ()), Ok(())),
            "the ID is free again"
        );
        assert!(matches!(
            store.create(&s).map(|_| ()),
            Err(SessionError::Exists { .. })
        ));
    }

    #[test]
    fn the_store_reads_no_environment_variables() {
        // Keys come from the environment; the store takes only a directory, and the session
        // types hold only conversation text. A key-like string is stored like any other text.
        let src = include_str!("store.rs");
        let code = &src[..src.find("#[cfg(test)]").expect("a test module")];
        assert!(
            !code.contains("std::env"),
            "the store must not read the environment"
        );
        assert!(
            !code.contains("env::var"),
            "the store must not read the environment"
        );
    }

    /// A session file written by the release before content blocks (format 1: questions and
    /// answers as text) loads, goes on, and reloads with the new records (format 2).
    #[test]
    fn a_format_1_session_from_the_previous_release_loads_and_continues() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SessionStore::new(dir.path());
        fs::create_dir_all(store.dir()).expect("dir");
        let id = "20261123-141502-a1b2";
        let fixture = format!(
            "{}/tests/fixtures/sessions/{id}.jsonl",
            env!("CARGO_MANIFEST_DIR")
        );
        fs::copy(&fixture, store.path_of(id)).expect("copy fixture");
        let (s, warnings) = store.load(id).expect("loads");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(s.system.as_deref(), Some("Be terse."));
        assert_eq!(s.attachments.len(), 1);
        assert_eq!(s.turns.len(), 2);
        assert_eq!(
            s.turns[0].user,
            vec![Block::text("Why does the borrow checker reject this?")]
        );
        let a = s.turns[0].answer.as_ref().expect("answer");
        assert_eq!(
            a.blocks,
            vec![Block::text("Because the reference outlives the value.")]
        );
        assert_eq!(a.segments.len(), 2);
        assert_eq!(a.segments[0].model, "anthropic/claude-opus-4-8");
        assert_eq!(
            a.segments[0].blocks,
            vec![Block::text("Because the reference ")]
        );
        assert_eq!(a.attempts.len(), 2);
        // The checkpointed second answer is partial.
        let b = s.turns[1].answer.as_ref().expect("partial answer");
        assert!(b.partial);
        assert_eq!(b.text(), "Move the value so it lives longer than");
        // Going on with it appends format-2 records to the same file.
        let (_, mut w, _) = store.resume(Some(id)).expect("resume");
        w.user("Thanks. One more?").expect("user");
        let mut rec = b.clone();
        rec.blocks = vec![Block::text("Sure.")];
        rec.partial = false;
        w.answer(&rec).expect("answer");
        drop(w);
        let (s, warnings) = store.load(id).expect("reloads");
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(s.turns.len(), 3);
        assert_eq!(s.turns[2].user_text(), "Thanks. One more?");
        assert_eq!(
            s.turns[2]
                .answer
                .as_ref()
                .map(AnswerRecord::text)
                .as_deref(),
            Some("Sure.")
        );
        let text = fs::read_to_string(store.path_of(id)).expect("read");
        let last: serde_json::Value =
            serde_json::from_str(text.lines().last().expect("line")).expect("json");
        assert_eq!(
            last["blocks"][0]["type"], "text",
            "new records hold blocks: {last}"
        );
        assert!(last.get("text").is_none(), "{last}");
    }
}
