//! The chat's state ([`App`]) and its one pure transition:
//! [`update`]`(&mut App, Msg, Metrics) -> Vec<Effect>`. No I/O, no async, no terminal here:
//! everything that touches the world (starting a request, writing the session, reading a
//! file, the clipboard) is an [`Effect`] the event loop in `tui/mod.rs` carries out, and
//! everything that happens (keys, stream events, health, results of effects, clock ticks)
//! comes back as a [`Msg`]. Messages from async work carry the request id they belong to;
//! stale ones are dropped. The layout of the last frame comes in as [`Metrics`]: the app never
//! reads the view's state.
//!
//! Where a change goes: `msg.rs` (what goes in and out), `input.rs` (keys and pastes),
//! `models.rs` (pinning, auto, the picker), `send.rs` (sending, the queue, re-asking,
//! stopping), `skip.rs` (the skip key: moving on from a silent model), `stream.rs` (a
//! running answer and its end), `checkpoint.rs` (when a streaming
//! answer is saved), `health.rs` (health, the banner,
//! the rolling summary), `scroll.rs`, `slash.rs` (what each slash command does; parsing is in
//! `tui/command.rs`).
//!
//! Pinned mode, decided: a pinned model is a promise. The request goes to that model only: a
//! pinned local model answers locally or the turn fails and says why, never falling through
//! to a cloud model (the fallback policy applies in auto mode only). Auto mode uses the route
//! as configured. Ctrl+R asks the last question once on another model and leaves the mode as
//! it was.

pub mod checkpoint;
mod health;
mod input;
mod models;
mod msg;
mod scroll;
mod send;
mod skip;
mod slash;
mod stream;

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use crate::config::ModelRef;
use crate::provider::{Block, Usage};
use crate::router::{HealthState, ModelHealth, Segment};

use super::editor::{Editor, History};
use super::keys::KeyMap;
use super::session::{AnswerRecord, Session, Turn};
use crate::config::SummarySettings;

pub use models::fuzzy_score;
pub use msg::{Effect, Msg, RequestId};
pub use scroll::Metrics;
pub use stream::elapsed;

/// How long the first Ctrl+C waits for the second.
pub const QUIT_WINDOW: Duration = Duration::from_secs(2);
/// How long a flash message stays.
pub const FLASH_FOR: Duration = Duration::from_secs(6);
/// Messages that may wait for a running answer.
pub const MAX_QUEUED: usize = 8;
/// Attachments up to this size are pinned in the context (kept when fitting a small window).
pub const PIN_LIMIT_BYTES: usize = 64 * 1024;

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
    /// The models of the route this request has been through (called, or passed over as out
    /// of rotation), in the router's order: the router may reorder the route, so the last
    /// model of `route` is not always the last one left.
    pub passed: Vec<ModelRef>,
    /// The model being called now has sent content (text, reasoning, a tool call): it is
    /// answering, no longer waiting for its first token, so the skip key leaves it alone.
    pub answering: bool,
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

    /// Whether a model of the route is still to come after the current one: a skip has
    /// somewhere to go.
    pub fn others_left(&self) -> bool {
        self.route.iter().any(|m| !self.passed.contains(m))
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
    next_id: RequestId,
    rev: u64,
    /// The rolling summary's settings and model, when one is kept.
    summariser: Option<(SummarySettings, ModelRef)>,
    /// A summary request is running in the background.
    summarising: bool,
}

impl App {
    /// Builds the app.
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

    fn set_answer(&mut self, rec: AnswerRecord) {
        if let Some(t) = self.session.turns.last_mut() {
            t.answer = Some(rec);
        }
        let n = self.extras.len().saturating_sub(1);
        self.touch(n);
    }
}

/// The single state transition. `layout` is what the last frame measured (transcript lines
/// and rows); only scrolling reads it.
pub fn update(app: &mut App, msg: Msg, layout: Metrics) -> Vec<Effect> {
    match msg {
        Msg::Action(a) => input::on_action(app, a, layout),
        Msg::Paste(text) => input::on_paste(app, &text),
        Msg::Scroll(n) => {
            scroll::by(app, n, layout);
            Vec::new()
        }
        Msg::Tick { now, wall } => on_tick(app, now, wall),
        Msg::Router { id, event } => stream::on_router(app, id, event),
        Msg::Finished { id, result } => stream::on_finished(app, id, result),
        Msg::Health(list) => health::on_health(app, list),
        Msg::Summarised(result) => health::on_summarised(app, result),
        Msg::Attached(att) => slash::on_attached(app, att),
        Msg::Notice { text, level } => {
            app.flash(text, level);
            Vec::new()
        }
        Msg::Terminate => {
            let mut fx = send::stop(app, "interrupted");
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
    match &mut app.phase {
        Phase::Busy(p) => checkpoint::due(p, now).into_iter().collect(),
        Phase::Idle => Vec::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests;
