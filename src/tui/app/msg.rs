//! What goes into [`update`](super::update) and what comes out: [`Msg`] (keys, stream events,
//! health, clock ticks, results of effects) and [`Effect`] (the I/O the event loop carries out).

use std::path::PathBuf;
use std::time::{Instant, SystemTime};

use crate::config::ModelRef;
use crate::provider::ChatRequest;
use crate::router::{AllModelsFailed, Answer, ModelHealth, RouterEvent};

use super::Level;
use crate::tui::keys::Action;
use crate::tui::session::summary::RollingSummary;
use crate::tui::session::{AnswerRecord, Attachment, FitRecord};

/// Identifies one request to the router; events of older requests are stale.
pub type RequestId = u64;

/// Anything that changes the [`App`].
#[derive(Debug)]
pub enum Msg {
    /// A key, already translated by the key map.
    Action(Action),
    /// Bracketed paste.
    Paste(String),
    /// Mouse wheel: lines, positive = down.
    Scroll(i32),
    /// The clock moved.
    Tick {
        /// Monotonic now.
        now: Instant,
        /// Wall clock, for timestamps.
        wall: SystemTime,
    },
    /// An event of a running request.
    Router {
        /// The request.
        id: RequestId,
        /// What happened.
        event: RouterEvent,
    },
    /// A request ended.
    Finished {
        /// The request.
        id: RequestId,
        /// Its answer, or every failed attempt.
        result: Result<Answer, AllModelsFailed>,
    },
    /// Current health of the route's models.
    Health(Vec<ModelHealth>),
    /// A file or diff was read for `/add` or `/diff`.
    Attached(Attachment),
    /// A note from the event loop (an effect's outcome).
    Notice {
        /// The text.
        text: String,
        /// How loud.
        level: Level,
    },
    /// A background summary request ended (the session keeps its old summary on an error).
    Summarised(Result<RollingSummary, String>),
    /// SIGTERM or SIGHUP: save and leave now.
    Terminate,
}

/// I/O that [`update`] asks the event loop to do.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Start a router request.
    Start {
        /// Its id (events come back tagged with it).
        id: RequestId,
        /// Models in order.
        route: Vec<ModelRef>,
        /// The conversation to send.
        request: ChatRequest,
    },
    /// Cancel a router request.
    Cancel {
        /// The request.
        id: RequestId,
    },
    /// Skip the model the request waits on for a first token (its [`SkipSignal`]): the router
    /// moves on to the next model without holding it against the skipped one.
    ///
    /// [`SkipSignal`]: crate::router::SkipSignal
    Skip {
        /// The request.
        id: RequestId,
        /// Who asked, for the failover line (`you pressed F4`).
        why: String,
    },
    /// Append the user's turn to the session file.
    SaveUser(String),
    /// Checkpoint a streaming answer.
    SavePartial {
        /// Text so far.
        text: String,
        /// Model writing it.
        model: ModelRef,
    },
    /// Append the final (or partial) answer.
    SaveAnswer(Box<AnswerRecord>),
    /// Append an attachment.
    SaveAttachment(Attachment),
    /// Record that the conversation was cleared.
    SaveClear,
    /// Flush and report where the session is stored.
    Save,
    /// Read a file for `/add`.
    AttachFile(PathBuf),
    /// Run `git diff` for `/diff`.
    AttachDiff,
    /// Write the transcript as markdown (atomically).
    Export {
        /// Where; `None`: `aiw-chat-ID.md` in the data dir's `exports/` (never the working
        /// directory, which is usually someone's git repository).
        path: Option<PathBuf>,
        /// What.
        markdown: String,
    },
    /// Put text on the clipboard with OSC 52.
    Copy(String),
    /// Ask `model` in the background for a refreshed session summary covering `turns` turns;
    /// the answer comes back as [`Msg::Summarised`]. Never waited for.
    Summarise {
        /// The summariser.
        model: ModelRef,
        /// The summary request.
        request: ChatRequest,
        /// Turns it covers.
        turns: usize,
    },
    /// Append a new summary to the session file.
    SaveSummary(Box<RollingSummary>),
    /// Record that the history was fitted into a smaller model's window.
    SaveFit(FitRecord),
    /// Capture the mouse (wheel scrolls the transcript) or leave it to the terminal (text
    /// selection works).
    MouseCapture(bool),
    /// Leave the chat.
    Quit,
}
