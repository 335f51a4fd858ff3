//! The chat's state and its one pure transition: [`update`]`(&mut App, Msg) -> Vec<Effect>`.
//! No I/O, no async, no terminal here: everything that touches the world (starting a request,
//! writing the session, reading a file, the clipboard) is an [`Effect`] the event loop in
//! `mod.rs` carries out, and everything that happens (keys, stream events, health, results of
//! effects, clock ticks) comes back as a [`Msg`]. Messages from async work carry the request
//! id they belong to; stale ones are dropped here.
//!
//! Pinned mode, decided: a pinned model is a promise. The request goes to that model only: a
//! pinned local model answers locally or the turn fails and says why, never falling through
//! to a cloud model (the fallback policy applies in auto mode only). Auto mode uses the route
//! as configured. Ctrl+R asks the last question once on another model and leaves the mode as
//! it was.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use crate::config::ModelRef;
use crate::provider::{Block, ChatRequest, Usage};
use crate::router::{
    AllModelsFailed, Answer, HealthState, ModelHealth, RouterEvent, Segment, failover_line,
    push_segment,
};

use super::editor::{Editor, History};
use super::keys::{Action, KeyMap};
use super::markdown;
use super::session::summary::RollingSummary;
use super::session::{AnswerRecord, Attachment, FitRecord, Session, Turn};
use super::view::Cache;
use crate::config::SummarySettings;

/// Identifies one request to the router; events of older requests are stale.
pub type RequestId = u64;

/// How long the first Ctrl+C waits for the second.
pub const QUIT_WINDOW: Duration = Duration::from_secs(2);
/// How long a flash message stays.
pub const FLASH_FOR: Duration = Duration::from_secs(6);
/// Messages that may wait for a running answer.
pub const MAX_QUEUED: usize = 8;
/// Attachments up to this size are pinned in the context (kept when fitting a small window).
pub const PIN_LIMIT_BYTES: usize = 64 * 1024;

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
    /// Append the user's turn to the session file.
    SaveUser(String),
    /// Checkpoint a streaming answer.
    SavePartial {
        /// Text so far.
        text: String,
        /// Model writing it.
        model: String,
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

/// How loud a note is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Informational.
    Info,
    /// Something degraded.
    Warn,
    /// Something failed.
    Error,
}

/// A line attached to a turn: failovers, retries, skips, errors.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The text.
    pub text: String,
    /// How loud.
    pub level: Level,
}

/// Display-only data kept next to each session turn.
#[derive(Clone, Debug, Default)]
pub struct TurnExtra {
    /// What happened while answering.
    pub notes: Vec<Note>,
    /// Changes whenever the turn's content changes (view cache key).
    pub rev: u64,
}

/// Which model answers next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// The configured route, in order.
    Auto,
    /// This model only: no fallback.
    Pinned(ModelRef),
}

/// A request in flight.
#[derive(Clone, Debug)]
pub struct Pending {
    /// Its id.
    pub id: RequestId,
    /// When it started.
    pub started: Instant,
    /// The route it runs on.
    pub route: Vec<ModelRef>,
    /// The model being called now.
    pub current: Option<ModelRef>,
    /// Text so far, by model.
    pub segments: Vec<Segment>,
    /// Usage reported by the current attempt.
    pub usage: Usage,
    /// Last checkpoint time and length.
    pub checkpoint: (Instant, usize),
}

impl Pending {
    /// All text so far.
    pub fn text(&self) -> String {
        self.segments.iter().map(Segment::text).collect()
    }
}

/// Idle or answering.
#[derive(Clone, Debug)]
pub enum Phase {
    /// Waiting for the user.
    Idle,
    /// A request is running.
    Busy(Box<Pending>),
}

/// What is drawn over the transcript.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// Nothing.
    None,
    /// Key and command help.
    Help,
    /// Route and health detail (`/status`).
    Status,
    /// The model picker.
    Picker {
        /// Typed filter.
        filter: String,
        /// Selected row of the filtered list (0 = "auto").
        selected: usize,
    },
}

/// Transcript scroll position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scroll {
    /// Stick to the bottom, following new text.
    Follow,
    /// First visible line, counted from the top.
    At(usize),
}

/// A one-line message above the input that fades.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Flash {
    /// The text.
    pub text: String,
    /// How loud.
    pub level: Level,
    /// When it goes away.
    pub until: Instant,
}

/// A standing notice about degraded answering.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Banner {
    /// The text.
    pub text: String,
    /// How loud.
    pub level: Level,
    /// The model it is about, whose health state words it and whose recovery ends it.
    pub about: Option<Failed>,
}

/// A model that failed and the one answering instead, as a banner tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    /// The model that failed.
    pub model: ModelRef,
    /// The model answering instead.
    pub instead: ModelRef,
    /// Why it failed (`529 overloaded`), when known.
    pub why: Option<String>,
}

/// How the chat starts.
#[derive(Clone, Debug)]
pub struct Init {
    /// The conversation (new or resumed).
    pub session: Session,
    /// Name of the route.
    pub route_name: String,
    /// Every configured route.
    pub routes: BTreeMap<String, Vec<ModelRef>>,
    /// Every configured provider name, and whether it is the local tier.
    pub providers: BTreeMap<String, bool>,
    /// Context window in tokens by provider, where known (the local tier's `context_size`,
    /// or `context_window` in the config).
    pub windows: BTreeMap<String, u32>,
    /// Each evaluated model's last `aiw eval` score, as a fallback banner says it
    /// (`9/10 on your evals, 3 days ago`).
    pub evals: BTreeMap<String, String>,
    /// Start pinned to this model.
    pub pinned: Option<ModelRef>,
    /// Key bindings.
    pub keymap: KeyMap,
    /// Warnings to show at start (salvaged session, bad key config).
    pub warnings: Vec<String>,
    /// Clock.
    pub now: Instant,
    /// Wall clock.
    pub wall: SystemTime,
}

/// The whole state of the chat screen.
#[derive(Debug)]
pub struct App {
    /// The conversation.
    pub session: Session,
    /// Per turn display data (same length as `session.turns`).
    pub extras: Vec<TurnExtra>,
    /// Current route name.
    pub route_name: String,
    /// Current route.
    pub route: Vec<ModelRef>,
    /// Every configured route.
    pub routes: BTreeMap<String, Vec<ModelRef>>,
    /// Provider names -> is local.
    pub providers: BTreeMap<String, bool>,
    /// Provider names -> context window in tokens, where known.
    pub windows: BTreeMap<String, u32>,
    /// Each evaluated model's last eval score (see [`Init::evals`]).
    pub evals: BTreeMap<String, String>,
    /// Models offered by the picker: the route first, then other routes' models.
    pub choices: Vec<ModelRef>,
    /// Auto or pinned.
    pub mode: Mode,
    /// Last pinned model (F3 goes back to it).
    pub last_pinned: Option<ModelRef>,
    /// Health by `provider/model`, as last reported by the router.
    pub health: BTreeMap<String, ModelHealth>,
    /// Idle or busy.
    pub phase: Phase,
    /// The draft.
    pub editor: Editor,
    /// Sent prompts.
    pub history: History,
    /// What is drawn on top.
    pub overlay: Overlay,
    /// Transcript scroll.
    pub scroll: Scroll,
    /// Degraded-mode notice.
    pub banner: Option<Banner>,
    /// Fading message.
    pub flash: Option<Flash>,
    /// When Ctrl+C was pressed once.
    pub quit_armed: Option<Instant>,
    /// Clock.
    pub now: Instant,
    /// Wall clock.
    pub wall: SystemTime,
    /// Key bindings (for help and hints).
    pub keymap: KeyMap,
    /// Tokens used by finished answers in this session view.
    pub tokens: u64,
    /// Set once Quit was requested.
    pub quitting: bool,
    /// Messages typed while an answer streams, sent in order once it ends.
    pub queued: std::collections::VecDeque<String>,
    /// Whether the mouse is captured (off by default, so the terminal selects text).
    pub mouse: bool,
    /// What models cost, for the cost of each answer (none known by default).
    pub prices: crate::config::Prices,
    /// `@file` completion: the working directory's files and the Tab cycle.
    pub mention: super::mention::Completer,
    /// Rendering cache (wrapped lines per turn, last layout); not state.
    pub cache: Cache,
    next_id: RequestId,
    rev: u64,
    /// The rolling summary's settings and model, when one is kept.
    summariser: Option<(SummarySettings, ModelRef)>,
    /// A summary request is running in the background.
    summarising: bool,
}

impl App {
    /// Builds the app.
    /// Keeps a rolling summary of the session with `model` (see `session::summary`).
    pub fn with_summariser(&mut self, cfg: SummarySettings, model: ModelRef) {
        self.summariser = Some((cfg, model));
    }

    /// Starts a background summary when one is due: only after an answer from a cloud model
    /// (one is healthy), and never two at once.
    fn maybe_summarise(&mut self, answered_by: Option<&ModelRef>) -> Option<Effect> {
        let (cfg, model) = self.summariser.as_ref()?;
        if self.summarising || answered_by.is_none_or(|m| self.is_local(m)) {
            return None;
        }
        if !crate::session::summary::due(&self.session, cfg) {
            return None;
        }
        let (request, turns) = crate::session::summary::request(&self.session)?;
        self.summarising = true;
        Some(Effect::Summarise {
            model: model.clone(),
            request,
            turns,
        })
    }

    pub fn new(init: Init) -> Self {
        let route = init
            .routes
            .get(&init.route_name)
            .cloned()
            .unwrap_or_default();
        let history = History::new(init.session.turns.iter().map(Turn::user_text).collect());
        let tokens = init
            .session
            .turns
            .iter()
            .filter_map(|t| t.answer.as_ref())
            .map(|a| a.usage.input_tokens + a.usage.output_tokens)
            .sum();
        let mut app = Self {
            extras: Vec::new(),
            session: init.session,
            route_name: init.route_name,
            route,
            routes: init.routes,
            providers: init.providers,
            windows: init.windows,
            evals: init.evals,
            choices: Vec::new(),
            mode: init.pinned.clone().map_or(Mode::Auto, Mode::Pinned),
            last_pinned: init.pinned,
            health: BTreeMap::new(),
            phase: Phase::Idle,
            editor: Editor::default(),
            history,
            overlay: Overlay::None,
            scroll: Scroll::Follow,
            banner: None,
            flash: None,
            quit_armed: None,
            now: init.now,
            wall: init.wall,
            keymap: init.keymap,
            tokens,
            quitting: false,
            queued: std::collections::VecDeque::new(),
            mouse: false,
            prices: crate::config::Prices::default(),
            mention: super::mention::Completer::default(),
            cache: Cache::default(),
            next_id: 1,
            rev: 0,
            summariser: None,
            summarising: false,
        };
        for _ in 0..app.session.turns.len() {
            let rev = app.bump();
            app.extras.push(TurnExtra {
                notes: Vec::new(),
                rev,
            });
        }
        for (i, t) in app.session.turns.iter().enumerate() {
            let Some(a) = &t.answer else { continue };
            app.extras[i].notes.extend(a.notes.iter().map(|text| Note {
                text: text.clone(),
                level: Level::Warn,
            }));
            if a.partial && !a.notes.iter().any(|n| n.starts_with("cut:")) {
                app.extras[i].notes.push(Note {
                    text: "partial answer (cut short)".into(),
                    level: Level::Warn,
                });
            }
        }
        app.rebuild_choices();
        if let Mode::Pinned(m) = &app.mode
            && !app.choices.contains(m)
        {
            app.choices.push(m.clone());
        }
        if !init.warnings.is_empty() {
            let text = init.warnings.join("; ");
            app.flash_for(text, Level::Warn, Duration::from_secs(30));
        }
        app
    }

    fn bump(&mut self) -> u64 {
        self.rev += 1;
        self.rev
    }

    fn touch(&mut self, turn: usize) {
        let rev = self.bump();
        if let Some(e) = self.extras.get_mut(turn) {
            e.rev = rev;
        }
    }

    fn rebuild_choices(&mut self) {
        let mut choices = self.route.clone();
        for r in self.routes.values() {
            for m in r {
                if !choices.contains(m) {
                    choices.push(m.clone());
                }
            }
        }
        self.choices = choices;
    }

    fn flash(&mut self, text: impl Into<String>, level: Level) {
        self.flash_for(text, level, FLASH_FOR);
    }

    fn flash_for(&mut self, text: impl Into<String>, level: Level, d: Duration) {
        self.flash = Some(Flash {
            text: text.into(),
            level,
            until: self.now + d,
        });
    }

    fn stamp(&self) -> String {
        humantime::format_rfc3339_seconds(self.wall).to_string()
    }

    /// Whether a model is served by the local tier.
    pub fn is_local(&self, m: &ModelRef) -> bool {
        self.providers.get(&m.provider).copied().unwrap_or(false)
    }

    /// The models a request goes to, in order.
    pub fn effective_route(&self) -> Vec<ModelRef> {
        match &self.mode {
            Mode::Auto => self.route.clone(),
            Mode::Pinned(m) => vec![m.clone()],
        }
    }

    /// The model answering now (busy) or first in line (idle).
    pub fn active_model(&self) -> Option<ModelRef> {
        if let Phase::Busy(p) = &self.phase
            && let Some(m) = &p.current
        {
            return Some(m.clone());
        }
        let route = self.effective_route();
        if self.mode == Mode::Auto {
            // The router skips models whose breaker is open: show the one it will call.
            if let Some(m) = route
                .iter()
                .find(|m| self.health_of(m) != HealthState::Open)
            {
                return Some(m.clone());
            }
        }
        route.into_iter().next()
    }

    /// How full the active model's context window is: the tokens of the last exchange
    /// (prompt plus answer, what the next request starts from) and the window, when known.
    pub fn context_fill(&self) -> Option<(u64, u32)> {
        let m = self.active_model()?;
        let window = *self.windows.get(&m.provider)?;
        let used = self
            .session
            .turns
            .iter()
            .rev()
            .find_map(|t| t.answer.as_ref())
            .map_or(0, |a| a.usage.input_tokens + a.usage.output_tokens);
        Some((used, window))
    }

    /// Tokens including the running request.
    pub fn tokens_used(&self) -> u64 {
        let running = match &self.phase {
            Phase::Busy(p) => p.usage.input_tokens + p.usage.output_tokens,
            Phase::Idle => 0,
        };
        self.tokens + running
    }

    /// Health state of a model (unknown when never reported).
    pub fn health_of(&self, m: &ModelRef) -> HealthState {
        self.health
            .get(&m.to_string())
            .map_or(HealthState::Unknown, |h| h.state)
    }

    /// Picker rows for a filter: `None` is the "auto" row, then matching models, best first.
    pub fn picker_rows(&self, filter: &str) -> Vec<Option<ModelRef>> {
        let mut rows: Vec<(i64, Option<ModelRef>)> = Vec::new();
        if filter.is_empty() || fuzzy_score("auto", filter).is_some() {
            rows.push((i64::MAX, None));
        }
        for (i, m) in self.choices.iter().enumerate() {
            if let Some(s) = fuzzy_score(&m.to_string(), filter) {
                rows.push((s * 1000 - i as i64, Some(m.clone())));
            }
        }
        if !filter.is_empty() {
            rows.sort_by_key(|(s, _)| std::cmp::Reverse(*s));
        }
        rows.into_iter().map(|(_, m)| m).collect()
    }

    fn new_turn(&mut self, user: String) {
        let at = self.stamp();
        self.session.turns.push(Turn {
            user: vec![Block::text(user)],
            at,
            answer: None,
        });
        let rev = self.bump();
        self.extras.push(TurnExtra {
            notes: Vec::new(),
            rev,
        });
    }

    fn note(&mut self, text: String, level: Level) {
        if let Some(last) = self.extras.last_mut() {
            last.notes.push(Note { text, level });
        }
        let n = self.extras.len().saturating_sub(1);
        self.touch(n);
    }

    /// The notes of the last turn, as recorded with its answer.
    fn last_notes(&self) -> Vec<String> {
        self.extras
            .last()
            .map(|e| e.notes.iter().map(|n| n.text.clone()).collect())
            .unwrap_or_default()
    }

    /// The banner for `f`, worded from the health state of the model that failed: down while
    /// its breaker is open, otherwise failed (or degraded) but still in rotation.
    fn failure_banner(&self, f: Failed) -> Banner {
        let (from, to) = (&f.model, &f.instead);
        let why = f
            .why
            .as_deref()
            .map(|w| format!(" ({w})"))
            .unwrap_or_default();
        let mut how = if self.is_local(to) {
            format!("answering locally with {to}")
        } else {
            format!("answering with {to}")
        };
        if let Some(score) = self.evals.get(&to.to_string()) {
            how = format!("{how} ({score})");
        }
        let text = match self.health_of(from) {
            HealthState::Open | HealthState::Probing => {
                format!("{from} is down{why}: {how}")
            }
            HealthState::Degraded => format!("{from} is degraded{why}: {how}"),
            HealthState::Healthy | HealthState::Unknown => format!("{from} failed{why}: {how}"),
        };
        Banner {
            text,
            level: Level::Warn,
            about: Some(f),
        }
    }

    fn set_answer(&mut self, rec: AnswerRecord) {
        if let Some(t) = self.session.turns.last_mut() {
            t.answer = Some(rec);
        }
        let n = self.extras.len().saturating_sub(1);
        self.touch(n);
    }
}

/// Fuzzy match: every character of `pattern` in order in `text`, case-insensitive. Higher is
/// better: contiguous runs and an early start score more. `None` when it does not match.
pub fn fuzzy_score(text: &str, pattern: &str) -> Option<i64> {
    let text: Vec<char> = text.to_lowercase().chars().collect();
    let mut score = 0i64;
    let mut ti = 0usize;
    let mut last: Option<usize> = None;
    for pc in pattern
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
    {
        let found = (ti..text.len()).find(|&i| text[i] == pc)?;
        score += if last.is_some_and(|l| l + 1 == found) {
            5
        } else {
            1
        };
        if last.is_none() {
            score -= found as i64 / 4;
        }
        last = Some(found);
        ti = found + 1;
    }
    Some(score)
}

/// The single state transition.
pub fn update(app: &mut App, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::Action(a) => on_action(app, a),
        Msg::Paste(text) => {
            if let Overlay::Picker { filter, selected } = &mut app.overlay {
                filter.push_str(text.lines().next().unwrap_or(""));
                *selected = 0;
            } else {
                app.editor.insert_str(&text);
                let lines = text.lines().count();
                if lines > 20 {
                    app.flash(
                        format!("pasted {lines} lines ({} chars)", text.chars().count()),
                        Level::Info,
                    );
                }
            }
            Vec::new()
        }
        Msg::Scroll(n) => {
            scroll_by(app, n);
            Vec::new()
        }
        Msg::Tick { now, wall } => on_tick(app, now, wall),
        Msg::Router { id, event } => on_router(app, id, event),
        Msg::Finished { id, result } => on_finished(app, id, result),
        Msg::Health(list) => {
            app.health = list.into_iter().map(|h| (h.model.clone(), h)).collect();
            if let Some(f) = app.banner.as_ref().and_then(|b| b.about.clone()) {
                if app.health_of(&f.model) == HealthState::Healthy {
                    app.banner = None;
                    app.flash(
                        format!("{} recovered: back in rotation", f.model),
                        Level::Info,
                    );
                } else {
                    app.banner = Some(app.failure_banner(f));
                }
            }
            Vec::new()
        }
        Msg::Summarised(result) => {
            app.summarising = false;
            match result {
                // A `/clear` while it ran makes it a summary of turns that are gone.
                Ok(s) if s.turns <= app.session.turns.len() => {
                    app.tokens += s.usage.input_tokens + s.usage.output_tokens;
                    app.note(crate::session::summary::describe(&s), Level::Info);
                    app.session.summary = Some(s.clone());
                    vec![Effect::SaveSummary(Box::new(s))]
                }
                Ok(_) => Vec::new(),
                Err(e) => {
                    app.note(
                        format!("the session summary was not updated: {e}"),
                        Level::Info,
                    );
                    Vec::new()
                }
            }
        }
        Msg::Attached(att) => {
            let lines = att.content.lines().count();
            let pinned = if att.pinned {
                "pinned"
            } else {
                "not pinned: too big to keep when the context is small"
            };
            app.flash(
                format!("attached {} ({lines} lines, {pinned})", att.name),
                Level::Info,
            );
            app.session.attachments.push(att.clone());
            vec![Effect::SaveAttachment(att)]
        }
        Msg::Notice { text, level } => {
            app.flash(text, level);
            Vec::new()
        }
        Msg::Terminate => {
            let mut fx = stop(app, "interrupted");
            app.quitting = true;
            fx.push(Effect::Quit);
            fx
        }
    }
}

fn on_tick(app: &mut App, now: Instant, wall: SystemTime) -> Vec<Effect> {
    app.now = now;
    app.wall = wall;
    if app
        .quit_armed
        .is_some_and(|t| now.duration_since(t) > QUIT_WINDOW)
    {
        app.quit_armed = None;
    }
    if app.flash.as_ref().is_some_and(|f| now >= f.until) {
        app.flash = None;
    }
    if let Phase::Busy(p) = &mut app.phase {
        return super::checkpoint::due(p, now).into_iter().collect();
    }
    Vec::new()
}

fn scroll_by(app: &mut App, n: i32) {
    let m = app.cache.metrics();
    let max_top = m.total.saturating_sub(m.height);
    let top = match app.scroll {
        Scroll::Follow => max_top,
        Scroll::At(t) => t.min(max_top),
    };
    let new = if n < 0 {
        top.saturating_sub(n.unsigned_abs() as usize)
    } else {
        top + n as usize
    };
    app.scroll = if new >= max_top {
        Scroll::Follow
    } else {
        Scroll::At(new)
    };
}

fn page(app: &App) -> i32 {
    (app.cache.metrics().height.saturating_sub(2).max(1)) as i32
}

#[expect(
    clippy::too_many_lines,
    reason = "one arm per action keeps the key meanings in one place"
)]
fn on_action(app: &mut App, a: Action) -> Vec<Effect> {
    // Any key but Quit disarms the pending quit.
    if a != Action::Quit {
        app.quit_armed = None;
    }
    match &app.overlay {
        Overlay::Picker { .. } => return on_picker(app, a),
        Overlay::Help | Overlay::Status => match a {
            Action::Quit => {}
            Action::Cancel | Action::Help | Action::Send | Action::Insert('?' | 'q') => {
                app.overlay = Overlay::None;
                return Vec::new();
            }
            _ => {
                app.overlay = Overlay::None;
            }
        },
        Overlay::None => {}
    }
    match a {
        Action::Send => send(app),
        Action::Newline => {
            app.editor.newline();
            Vec::new()
        }
        Action::Cancel => {
            if matches!(app.phase, Phase::Busy(_)) {
                stop(app, "cancelled")
            } else {
                app.flash = None;
                Vec::new()
            }
        }
        Action::Quit => {
            if app.quit_armed.is_some() {
                let mut fx = stop(app, "cancelled: quit");
                app.quitting = true;
                fx.push(Effect::Quit);
                return fx;
            }
            app.quit_armed = Some(app.now);
            let mut fx = Vec::new();
            if matches!(app.phase, Phase::Busy(_)) {
                fx = stop(app, "cancelled");
            }
            app.flash_for("press Ctrl+C again to quit", Level::Warn, QUIT_WINDOW);
            fx
        }
        Action::QuitIfEmpty => {
            if app.editor.is_empty() {
                let mut fx = stop(app, "cancelled: quit");
                app.quitting = true;
                fx.push(Effect::Quit);
                fx
            } else {
                app.editor.delete();
                Vec::new()
            }
        }
        Action::Picker => {
            app.overlay = Overlay::Picker {
                filter: String::new(),
                selected: 0,
            };
            Vec::new()
        }
        Action::NextModel => {
            cycle(app, 1);
            Vec::new()
        }
        Action::PrevModel => {
            cycle(app, -1);
            Vec::new()
        }
        Action::Pin(n) => {
            match app.route.get(usize::from(n).saturating_sub(1)).cloned() {
                Some(m) => pin(app, m),
                None => app.flash(
                    format!(
                        "route `{}` has {} model(s); Alt+{n} has nothing to pin",
                        app.route_name,
                        app.route.len()
                    ),
                    Level::Warn,
                ),
            }
            Vec::new()
        }
        Action::ToggleAuto => {
            match &app.mode {
                Mode::Pinned(_) => set_auto(app),
                Mode::Auto => {
                    let m = app
                        .last_pinned
                        .clone()
                        .or_else(|| app.active_model())
                        .or_else(|| app.route.first().cloned());
                    if let Some(m) = m {
                        pin(app, m);
                    }
                }
            }
            Vec::new()
        }
        Action::Reask => reask(app),
        Action::CopyCode => copy_code(app, None),
        Action::Help => {
            app.overlay = Overlay::Help;
            Vec::new()
        }
        Action::ScrollUp => {
            scroll_by(app, -3);
            Vec::new()
        }
        Action::ScrollDown => {
            scroll_by(app, 3);
            Vec::new()
        }
        Action::PageUp => {
            scroll_by(app, -page(app));
            Vec::new()
        }
        Action::PageDown => {
            scroll_by(app, page(app));
            Vec::new()
        }
        Action::ScrollTop => {
            app.scroll = Scroll::At(0);
            Vec::new()
        }
        Action::ScrollBottom => {
            app.scroll = Scroll::Follow;
            Vec::new()
        }
        Action::Insert('\t') if super::mention::complete(app) || complete_command(app) => {
            Vec::new()
        }
        Action::Insert('?') if app.editor.is_empty() => {
            app.overlay = Overlay::Help;
            Vec::new()
        }
        Action::Insert(c) => {
            app.editor.insert(c);
            Vec::new()
        }
        Action::Backspace => {
            app.editor.backspace();
            Vec::new()
        }
        Action::Delete => {
            app.editor.delete();
            Vec::new()
        }
        Action::Left => {
            app.editor.left();
            Vec::new()
        }
        Action::Right => {
            app.editor.right();
            Vec::new()
        }
        Action::Up => {
            if app.editor.on_first_line() {
                let cur = app.editor.text();
                if let Some(h) = app.history.older(&cur) {
                    app.editor = Editor::with_text(h);
                }
            } else {
                app.editor.up();
            }
            Vec::new()
        }
        Action::Down => {
            if app.editor.on_last_line() {
                if let Some(h) = app.history.newer() {
                    app.editor = Editor::with_text(h);
                }
            } else {
                app.editor.down();
            }
            Vec::new()
        }
        Action::Home => {
            if app.editor.is_empty() {
                app.scroll = Scroll::At(0);
            } else {
                app.editor.home();
            }
            Vec::new()
        }
        Action::End => {
            if app.editor.is_empty() {
                app.scroll = Scroll::Follow;
            } else {
                app.editor.end();
            }
            Vec::new()
        }
        Action::DeleteWord => {
            app.editor.delete_word();
            Vec::new()
        }
        Action::ClearLine => {
            app.editor.clear_line();
            Vec::new()
        }
    }
}

fn on_picker(app: &mut App, a: Action) -> Vec<Effect> {
    let Overlay::Picker { filter, selected } = &mut app.overlay else {
        return Vec::new();
    };
    match a {
        Action::Cancel | Action::Picker => app.overlay = Overlay::None,
        Action::Insert(c) => {
            filter.push(c);
            *selected = 0;
        }
        Action::Backspace => {
            filter.pop();
            *selected = 0;
        }
        Action::DeleteWord | Action::ClearLine => {
            filter.clear();
            *selected = 0;
        }
        Action::Up | Action::ScrollUp => *selected = selected.saturating_sub(1),
        Action::Down | Action::ScrollDown | Action::Newline => *selected += 1,
        Action::Send if filter.starts_with('/') => {
            // A slash command typed into the picker (`/model` then more keys): run it.
            let cmd = filter[1..].to_string();
            app.overlay = Overlay::None;
            return slash(app, &cmd);
        }
        Action::Send => {
            let f = filter.clone();
            let sel = *selected;
            let rows = app.picker_rows(&f);
            app.overlay = Overlay::None;
            match rows.get(sel.min(rows.len().saturating_sub(1))) {
                Some(None) => set_auto(app),
                Some(Some(m)) => pin(app, m.clone()),
                None => app.flash(format!("no model matches `{f}`"), Level::Warn),
            }
        }
        Action::Quit => {
            app.overlay = Overlay::None;
            return on_action(app, Action::Quit);
        }
        _ => {}
    }
    if let Overlay::Picker { filter, selected } = &mut app.overlay {
        let n = app_picker_len(&app.choices, filter);
        *selected = (*selected).min(n.saturating_sub(1));
    }
    Vec::new()
}

fn app_picker_len(choices: &[ModelRef], filter: &str) -> usize {
    usize::from(filter.is_empty() || fuzzy_score("auto", filter).is_some())
        + choices
            .iter()
            .filter(|m| fuzzy_score(&m.to_string(), filter).is_some())
            .count()
}

fn pin(app: &mut App, m: ModelRef) {
    if !app.choices.contains(&m) {
        app.choices.push(m.clone());
    }
    let later = if matches!(app.phase, Phase::Busy(_)) {
        " (from the next message)"
    } else {
        ""
    };
    let only = if app.is_local(&m) {
        "; only it answers, nothing leaves this machine"
    } else {
        "; only it answers (F3 for auto routing with fallback)"
    };
    app.flash(format!("pinned {m}{later}{only}"), Level::Info);
    app.last_pinned = Some(m.clone());
    app.mode = Mode::Pinned(m);
}

fn set_auto(app: &mut App) {
    app.mode = Mode::Auto;
    app.flash(
        format!(
            "auto routing: route `{}` ({})",
            app.route_name,
            app.route
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" → ")
        ),
        Level::Info,
    );
}

fn cycle(app: &mut App, dir: isize) {
    let list = if app.route.len() > 1 {
        app.route.clone()
    } else {
        app.choices.clone()
    };
    if list.is_empty() {
        app.flash("no models configured", Level::Warn);
        return;
    }
    let current = match &app.mode {
        Mode::Pinned(m) => Some(m.clone()),
        Mode::Auto => app.active_model(),
    };
    let idx = current
        .and_then(|c| list.iter().position(|m| *m == c))
        .map_or(0, |i| i as isize + dir);
    let n = list.len() as isize;
    let next = list[idx.rem_euclid(n) as usize].clone();
    pin(app, next);
}

fn send(app: &mut App) -> Vec<Effect> {
    let text = app.editor.text();
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if let Some(cmd) = trimmed.strip_prefix('/')
        && !cmd.starts_with('/')
    {
        app.history.push(trimmed.to_string());
        app.editor = Editor::default();
        return slash(app, cmd);
    }
    if matches!(app.phase, Phase::Busy(_)) {
        if app.queued.len() >= MAX_QUEUED {
            app.flash(
                format!("{MAX_QUEUED} messages are queued already: wait, or press Esc to cancel the answer (your draft is kept)"),
                Level::Warn,
            );
            return Vec::new();
        }
        app.history.push(text.clone());
        app.editor = Editor::default();
        app.queued.push_back(text);
        app.flash(
            format!(
                "queued ({}): sent when this answer ends; Esc cancels the answer and puts queued messages back in the draft",
                app.queued.len()
            ),
            Level::Info,
        );
        return Vec::new();
    }
    // "//text" sends "/text" literally.
    let text = if trimmed.starts_with("//") {
        text.trim_start()[1..].to_string()
    } else {
        text
    };
    app.history.push(text.clone());
    app.editor = Editor::default();
    let request = app.session.to_request(Some(&text));
    start(app, text, request)
}

fn start(app: &mut App, text: String, request: ChatRequest) -> Vec<Effect> {
    let route = app.effective_route();
    start_on(app, route, text, request)
}

fn start_on(
    app: &mut App,
    route: Vec<ModelRef>,
    text: String,
    request: ChatRequest,
) -> Vec<Effect> {
    if route.is_empty() {
        app.flash(
            "the route has no models: add some under [routes] in the config",
            Level::Error,
        );
        return Vec::new();
    }
    app.new_turn(text.clone());
    let id = app.next_id;
    app.next_id += 1;
    app.phase = Phase::Busy(Box::new(Pending {
        id,
        started: app.now,
        route: route.clone(),
        current: None,
        segments: Vec::new(),
        usage: Usage::default(),
        checkpoint: (app.now, 0),
    }));
    app.scroll = Scroll::Follow;
    vec![Effect::SaveUser(text), Effect::Start { id, route, request }]
}

fn reask(app: &mut App) -> Vec<Effect> {
    if matches!(app.phase, Phase::Busy(_)) {
        app.flash("wait for the answer or press Esc first", Level::Warn);
        return Vec::new();
    }
    let Some(last) = app.session.turns.last() else {
        app.flash("nothing to ask again yet", Level::Info);
        return Vec::new();
    };
    let text = last.user_text();
    let answered_by = last
        .answer
        .as_ref()
        .and_then(|a| ModelRef::parse(&a.model).ok());
    let models = if app.route.len() > 1 {
        app.route.clone()
    } else {
        app.choices.clone()
    };
    let Some(next) = answered_by
        .as_ref()
        .and_then(|m| models.iter().position(|x| x == m))
        .map(|i| models[(i + 1) % models.len()].clone())
        .or_else(|| models.get(1).cloned())
        .or_else(|| models.first().cloned())
    else {
        app.flash("no other model to ask", Level::Info);
        return Vec::new();
    };
    let mode = match &app.mode {
        Mode::Auto => "auto routing".to_string(),
        Mode::Pinned(m) => format!("pinned {m}"),
    };
    app.flash(
        format!("asking again on {next}, this once ({mode} stays for the next message)"),
        Level::Info,
    );
    // The earlier attempt stays on screen but is not sent again.
    let mut earlier = app.session.clone();
    earlier.turns.pop();
    let request = earlier.to_request(Some(&text));
    start_on(app, vec![next], text, request)
}

/// Stops a running request, keeping what came as a partial answer.
fn stop(app: &mut App, why: &str) -> Vec<Effect> {
    let Phase::Busy(p) = std::mem::replace(&mut app.phase, Phase::Idle) else {
        return Vec::new();
    };
    if !app.queued.is_empty() {
        let mut draft: Vec<String> = app.queued.drain(..).collect();
        if !app.editor.is_empty() {
            draft.push(app.editor.text());
        }
        app.editor = Editor::with_text(&draft.join("\n\n"));
    }
    let mut fx = vec![Effect::Cancel { id: p.id }];
    let text = p.text();
    app.note(
        format!("{why} after {}", elapsed(app.now, p.started)),
        Level::Warn,
    );
    if !text.is_empty() {
        let rec = AnswerRecord {
            model: p
                .segments
                .last()
                .map(|s| s.model.clone())
                .unwrap_or_default(),
            blocks: p
                .segments
                .iter()
                .flat_map(|s| s.blocks.iter().cloned())
                .collect(),
            segments: p.segments,
            attempts: Vec::new(),
            usage: p.usage,
            partial: true,
            at: app.stamp(),
            notes: app.last_notes(),
        };
        app.tokens += p.usage.input_tokens + p.usage.output_tokens;
        app.set_answer(rec.clone());
        fx.push(Effect::SaveAnswer(Box::new(rec)));
    }
    fx
}

/// Elapsed time as shown: `3.2s`, `1m05s`.
pub fn elapsed(now: Instant, since: Instant) -> String {
    let d = now.saturating_duration_since(since);
    let s = d.as_secs();
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}.{}s", d.subsec_millis() / 100)
    }
}

#[expect(clippy::too_many_lines, reason = "one arm per router event")]
fn on_router(app: &mut App, id: RequestId, event: RouterEvent) -> Vec<Effect> {
    let Phase::Busy(p) = &mut app.phase else {
        return Vec::new();
    };
    if p.id != id {
        return Vec::new(); // stale: a cancelled or finished request
    }
    let mut banner = None;
    let mut note = None;
    let mut fit = None;
    let mut fx: Vec<Effect> = Vec::new();
    match event {
        RouterEvent::Attempting { model, .. } => {
            p.current = Some(model);
            p.usage = Usage::default();
        }
        RouterEvent::Text { model, text } => {
            push_segment(&mut p.segments, &model, vec![Block::text(text)]);
            p.current = Some(model);
            fx.extend(super::checkpoint::due(p, app.now));
        }
        RouterEvent::Failover {
            from,
            to,
            error,
            mid_stream,
        } => {
            let why = error.brief();
            let text = failover_line(&from, to.as_ref(), &error, mid_stream);
            note = Some(Note {
                text,
                level: Level::Warn,
            });
            if let Some(to) = to {
                banner = Some(Failed {
                    model: from,
                    instead: to,
                    why: Some(why),
                });
            }
        }
        RouterEvent::Skipped { model, reason } => {
            note = Some(Note {
                text: format!("skipped {model}: {reason}"),
                level: Level::Info,
            });
        }
        RouterEvent::Retrying {
            model,
            after,
            error,
        } => {
            note = Some(Note {
                text: format!(
                    "{} from {model}, retrying in {:.1}s",
                    error.brief(),
                    after.as_secs_f64()
                ),
                level: Level::Info,
            });
        }
        RouterEvent::ConfigProblem { model, error } => {
            note = Some(Note {
                text: format!(
                    "{model}: {} ({}) — fix the config or key (`aiw config check`)",
                    error.message, error.class
                ),
                level: Level::Error,
            });
        }
        RouterEvent::Usage { usage, .. } => p.usage = usage,
        RouterEvent::Reducing { model, done, of } => {
            note = Some(Note {
                text: if done < of {
                    format!(
                        "no summary ready: {model} is summarising the history ({done}/{of} parts)"
                    )
                } else {
                    format!("{model} summarised the history ({of} parts)")
                },
                level: Level::Info,
            });
        }
        RouterEvent::ReduceFailed { model, why } => {
            note = Some(Note {
                text: format!(
                    "{model} could not summarise the history ({why}): the oldest turns are left out"
                ),
                level: Level::Warn,
            });
        }
        RouterEvent::HistoryFitted { model, report } => {
            note = Some(Note {
                text: report.describe(&model.to_string()),
                level: Level::Warn,
            });
            fit = Some(FitRecord {
                at: crate::time::now_rfc3339(),
                model: model.to_string(),
                report,
            });
        }
        // The failover banner above already names the switch; a `fallback = "notify"`
        // banner of its own is for the chat to add.
        RouterEvent::Degraded { .. } => {}
        // The chat offers no tools, and shows answers, not reasoning.
        RouterEvent::Thinking { model, .. }
        | RouterEvent::ThinkingSignature { model, .. }
        | RouterEvent::Opaque { model, .. }
        | RouterEvent::ToolUse { model, .. } => {
            p.current = Some(model);
        }
    }
    if let Some(f) = banner {
        app.banner = Some(app.failure_banner(f));
    }
    if let Some(n) = note {
        app.note(n.text, n.level);
    } else {
        let n = app.extras.len().saturating_sub(1);
        app.touch(n);
    }
    if let Some(f) = fit {
        app.session.fits.push(f.clone());
        fx.push(Effect::SaveFit(f));
    }
    fx
}

fn on_finished(
    app: &mut App,
    id: RequestId,
    result: Result<Answer, AllModelsFailed>,
) -> Vec<Effect> {
    let mut fx = finish(app, id, result);
    if matches!(app.phase, Phase::Idle)
        && let Some(next) = app.queued.pop_front()
    {
        let request = app.session.to_request(Some(&next));
        fx.extend(start(app, next, request));
    }
    fx
}

fn finish(app: &mut App, id: RequestId, result: Result<Answer, AllModelsFailed>) -> Vec<Effect> {
    let Phase::Busy(p) = &app.phase else {
        return Vec::new();
    };
    if p.id != id {
        return Vec::new();
    }
    let Phase::Busy(p) = std::mem::replace(&mut app.phase, Phase::Idle) else {
        return Vec::new();
    };
    match result {
        Ok(answer) => {
            let model = ModelRef::parse(&answer.model).ok();
            let cut = answer.truncated_by_limit();
            if cut {
                app.note(
                    format!(
                        "cut: {} stopped at its output token limit ({} tokens); the answer is not complete (ask it to go on)",
                        answer.model, answer.usage.output_tokens
                    ),
                    Level::Warn,
                );
            }
            let first = p.route.first();
            if !answer.degraded {
                app.banner = None;
            } else if let (Some(first), Some(m)) = (first, model.clone())
                && app.banner.is_none()
            {
                app.banner = Some(app.failure_banner(Failed {
                    model: first.clone(),
                    instead: m,
                    why: None,
                }));
            }
            app.tokens += answer.usage.input_tokens + answer.usage.output_tokens;
            let rec = AnswerRecord {
                blocks: answer.blocks,
                model: answer.model,
                segments: answer.segments,
                attempts: answer.attempts,
                usage: answer.usage,
                partial: cut,
                at: app.stamp(),
                notes: app.last_notes(),
            };
            app.set_answer(rec.clone());
            let mut fx = vec![Effect::SaveAnswer(Box::new(rec))];
            fx.extend(app.maybe_summarise(model.as_ref()));
            fx
        }
        Err(failed) => {
            app.note(failed.to_string(), Level::Error);
            let mut segments = failed.partial;
            if segments.is_empty() {
                segments = p.segments;
            }
            let text = match p.route.as_slice() {
                [only] if app.route.len() > 1 || app.route.first() != Some(only) => format!(
                    "{only} could not answer (see the reason above); it was the only model asked, \
                     nothing else was tried: F3 for auto routing, F2 or Ctrl+P for another model, \
                     Ctrl+R to ask another once"
                ),
                _ => "no model could answer: see the reasons above; F2 or Ctrl+P picks another model, Ctrl+R asks again".into(),
            };
            app.banner = Some(Banner {
                text,
                level: Level::Error,
                about: None,
            });
            let blocks: Vec<Block> = segments
                .iter()
                .flat_map(|s| s.blocks.iter().cloned())
                .collect();
            if blocks.is_empty() {
                return Vec::new();
            }
            let rec = AnswerRecord {
                model: segments.last().map(|s| s.model.clone()).unwrap_or_default(),
                blocks,
                segments,
                attempts: failed.attempts,
                usage: p.usage,
                partial: true,
                at: app.stamp(),
                notes: app.last_notes(),
            };
            app.set_answer(rec.clone());
            vec![Effect::SaveAnswer(Box::new(rec))]
        }
    }
}

#[expect(clippy::too_many_lines, reason = "one arm per slash command")]
fn slash(app: &mut App, cmd: &str) -> Vec<Effect> {
    let (name, arg) = match cmd.split_once(char::is_whitespace) {
        Some((n, a)) => (n, a.trim()),
        None => (cmd, ""),
    };
    match name {
        "model" | "m" => {
            if arg.is_empty() {
                app.overlay = Overlay::Picker {
                    filter: String::new(),
                    selected: 0,
                };
                app.flash(
                    "pick a model (type to filter, Enter pins it) or `auto`; or type /model NAME",
                    Level::Info,
                );
                return Vec::new();
            }
            if arg == "auto" {
                set_auto(app);
                return Vec::new();
            }
            if let Some(m) = app.choices.iter().find(|m| m.to_string() == arg).cloned() {
                pin(app, m);
                return Vec::new();
            }
            let matches: Vec<ModelRef> = app
                .choices
                .iter()
                .filter(|m| m.to_string().contains(arg))
                .cloned()
                .collect();
            match (matches.len(), ModelRef::parse(arg)) {
                (1, _) => pin(app, matches[0].clone()),
                (0, Ok(m)) if app.providers.contains_key(&m.provider) => pin(app, m),
                (0, _) => app.flash(
                    format!(
                        "no model `{arg}`; known: {} (or any provider/model of a configured provider)",
                        names(&app.choices)
                    ),
                    Level::Warn,
                ),
                _ => app.flash(
                    format!("`{arg}` matches {}: be more specific", names(&matches)),
                    Level::Warn,
                ),
            }
            Vec::new()
        }
        "route" | "r" => {
            match app.routes.get(arg).cloned() {
                Some(r) => {
                    app.route_name = arg.to_string();
                    app.route = r;
                    app.rebuild_choices();
                    set_auto(app);
                }
                None => app.flash(
                    format!(
                        "no route `{arg}`; configured routes: {}",
                        app.routes.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                    Level::Warn,
                ),
            }
            Vec::new()
        }
        "add" | "a" => {
            if arg.is_empty() {
                app.flash("usage: /add FILE", Level::Warn);
                return Vec::new();
            }
            vec![Effect::AttachFile(PathBuf::from(arg))]
        }
        "diff" => vec![Effect::AttachDiff],
        "clear" => {
            let mut fx = stop(app, "cancelled");
            app.session.clear();
            app.extras.clear();
            app.banner = None;
            app.scroll = Scroll::Follow;
            app.flash(
                "new context: models see nothing before this; the session keeps it all (`aiw sessions show`, /export)",
                Level::Info,
            );
            fx.push(Effect::SaveClear);
            fx
        }
        "save" => vec![Effect::Save],
        "mouse" => {
            app.mouse = !app.mouse;
            let text = if app.mouse {
                "mouse captured: the wheel scrolls the transcript (/mouse again to select text)"
            } else {
                "mouse released: select text with it; scroll with PageUp/PageDown (/mouse captures it)"
            };
            app.flash(text, Level::Info);
            vec![Effect::MouseCapture(app.mouse)]
        }
        "copy" | "y" => {
            if arg.is_empty() {
                return copy_code(app, None);
            }
            if let Ok(n) = arg.parse::<usize>() {
                copy_code(app, Some(n))
            } else {
                app.flash(
                    "usage: /copy [N] (code block N of the last answer)",
                    Level::Warn,
                );
                Vec::new()
            }
        }
        "export" => {
            let path = (!arg.is_empty()).then(|| PathBuf::from(arg));
            vec![Effect::Export {
                path,
                markdown: app.session.to_markdown(),
            }]
        }
        "status" => {
            app.overlay = Overlay::Status;
            Vec::new()
        }
        "help" | "h" | "?" => {
            app.overlay = Overlay::Help;
            Vec::new()
        }
        "auto" => {
            set_auto(app);
            Vec::new()
        }
        "quit" | "exit" | "q" => {
            let mut fx = stop(app, "cancelled: quit");
            app.quitting = true;
            fx.push(Effect::Quit);
            fx
        }
        other => {
            app.flash(
                format!(
                    "unknown command /{other}; try {} (start with // to send a message that begins with /)",
                    COMMANDS
                        .iter()
                        .map(|(c, _)| *c)
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                Level::Warn,
            );
            Vec::new()
        }
    }
}

/// Tab on a draft that is a bare `/word`: completes it to the one command it starts, or to
/// what all matches share, and lists them. False (Tab inserts a tab) for any other draft.
fn complete_command(app: &mut App) -> bool {
    let text = app.editor.text();
    if !text.starts_with('/') || text.starts_with("//") || text.contains(char::is_whitespace) {
        return false;
    }
    let all: Vec<&str> = COMMANDS
        .iter()
        .filter_map(|(c, _)| c.split_whitespace().next())
        .collect();
    let matches: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| c.starts_with(&text))
        .collect();
    match matches.as_slice() {
        [] => app.flash(
            format!("no command starts with {text}; commands: {}", all.join(" ")),
            Level::Warn,
        ),
        [one] => app.editor = Editor::with_text(&format!("{one} ")),
        many => {
            let mut common = many[0].to_string();
            for m in &many[1..] {
                while !m.starts_with(&common) {
                    common.pop();
                }
            }
            if common.len() > text.len() {
                app.editor = Editor::with_text(&common);
            }
            app.flash(many.join("  "), Level::Info);
        }
    }
    true
}

/// Copies code block `n` (1-based; the last one when `None`) of the last answer that has
/// any to the clipboard.
fn copy_code(app: &mut App, n: Option<usize>) -> Vec<Effect> {
    let blocks = app
        .session
        .turns
        .iter()
        .rev()
        .filter_map(|t| t.answer.as_ref())
        .map(|a| markdown::code_blocks(&a.text()))
        .find(|b| !b.is_empty())
        .unwrap_or_default();
    if blocks.is_empty() {
        app.flash("no code block to copy yet", Level::Info);
        return Vec::new();
    }
    let k = blocks.len();
    let Some(i) = n.map_or(Some(k - 1), |n| n.checked_sub(1).filter(|&i| i < k)) else {
        app.flash(
            format!("the last answer has {k} code block(s): /copy 1..{k}"),
            Level::Warn,
        );
        return Vec::new();
    };
    let code = blocks[i].clone();
    let more = if k > 1 {
        format!("; /copy 1..{k} picks another")
    } else {
        String::new()
    };
    app.flash(
        format!(
            "copied code block {} of {k} ({} lines) to the clipboard{more}",
            i + 1,
            code.lines().count()
        ),
        Level::Info,
    );
    vec![Effect::Copy(code)]
}

fn names(ms: &[ModelRef]) -> String {
    ms.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Slash commands with their help text.
pub const COMMANDS: &[(&str, &str)] = &[
    (
        "/model NAME",
        "pin a model (`/model auto` for auto routing)",
    ),
    ("/route NAME", "switch to another configured route"),
    ("/add FILE", "attach a file as context"),
    ("/diff", "attach `git diff` as context"),
    ("/clear", "new context (the session keeps the history)"),
    ("/save", "flush the session and show where it is"),
    (
        "/copy [N]",
        "copy code block N of the last answer (default: the last)",
    ),
    (
        "/export [FILE]",
        "write the conversation as markdown (default: the data dir's exports/)",
    ),
    ("/status", "route, health and tokens"),
    (
        "/mouse",
        "capture the mouse for wheel scrolling, or give it back for selecting",
    ),
    ("/help", "this help"),
    ("/quit", "leave"),
];

#[cfg(test)]
#[path = "app_tests.rs"]
pub(crate) mod tests;
