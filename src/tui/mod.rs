//! `aiw chat`'s full-screen interface, in The Elm Architecture: `app/` holds the state and
//! the pure `update` (one file per concern), `command.rs` parses slash commands, `keys.rs`
//! turns key presses into actions, `view.rs` draws (with a layout cache this loop owns),
//! `markdown.rs` renders answers, `editor.rs` is the input box, `cost.rs` says what answers
//! cost, `mention.rs` completes and attaches `@file`s. This file is the only part that touches
//! the world: it sets the terminal up (and always restores it: on return, error, panic, Ctrl+C,
//! SIGTERM/SIGHUP), runs the one event loop that owns the terminal, turns terminal events,
//! router events, health and clock ticks into `Msg`s, and carries out the `Effect`s that
//! `update` returns (router requests, session writes, files, clipboard).

pub mod app;
pub mod command;
pub mod cost;
pub mod editor;
pub mod keys;
pub mod markdown;
pub mod mention;
pub mod view;

/// The session model and store the chat reads and appends to.
pub use crate::session;

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Once;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture, Event,
    EventStream, KeyboardEnhancementFlags, MouseEventKind, PopKeyboardEnhancementFlags,
    PushKeyboardEnhancementFlags,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use futures_util::{FutureExt as _, StreamExt};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::config::ModelRef;
use crate::router::{Router, SkipSignal};

use app::{App, Effect, Level, Msg};
use session::{Attachment, SessionWriter};

/// Largest file `/add` attaches.
pub const MAX_ATTACH_BYTES: u64 = 1024 * 1024;
/// Shortest time between two frames.
const FRAME: Duration = Duration::from_millis(16);

/// Everything the chat needs to run.
pub struct Chat {
    /// The router answering requests.
    pub router: Router,
    /// Initial state.
    pub init: app::Init,
    /// Where the session is appended.
    pub writer: SessionWriter,
}

/// How the chat ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit {
        /// The session, for the resume hint.
        session_id: String,
    },
    /// A signal (SIGTERM, SIGHUP, SIGINT) ended it.
    Signal {
        /// The session.
        session_id: String,
    },
}

/// The error when stdin or stdout is not a terminal.
pub fn require_terminal() -> anyhow::Result<()> {
    if io::stdin().is_terminal() && io::stdout().is_terminal() {
        return Ok(());
    }
    Err(crate::output::Exit {
        message: "aiw chat needs a terminal (stdin and stdout must both be a TTY); for scripts and pipes use `aiw ask \"your prompt\"`".into(),
        code: crate::exit::USAGE,
    }
    .into())
}

/// Puts the terminal back: raw mode off, main screen, no mouse capture or paste mode.
/// Safe to call more than once (the panic hook and the guard may both run it).
fn restore_terminal() {
    let _ = disable_raw_mode();
    let mut out = io::stdout();
    let _ = execute!(
        out,
        PopKeyboardEnhancementFlags,
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
    let _ = out.flush();
}

/// Restores the terminal when dropped, whichever way `run` leaves.
struct TerminalGuard;

impl TerminalGuard {
    fn enter() -> anyhow::Result<Self> {
        static HOOK: Once = Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal();
                previous(info);
            }));
        });
        enable_raw_mode().context("cannot switch the terminal to raw mode")?;
        let guard = Self;
        let mut out = io::stdout();
        // The mouse is left to the terminal (text selection works) until `/mouse` asks.
        execute!(out, EnterAlternateScreen, EnableBracketedPaste)
            .context("cannot set up the terminal")?;
        // Lets terminals that support it report Shift+Enter distinctly.
        if crossterm::terminal::supports_keyboard_enhancement().unwrap_or(false) {
            let _ = execute!(
                out,
                PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
            );
        }
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// The OSC 52 sequence that asks the terminal to put `text` on the clipboard.
pub fn osc52(text: &str) -> String {
    use base64::Engine as _;
    format!(
        "\x1b]52;c;{}\x07",
        base64::engine::general_purpose::STANDARD.encode(text)
    )
}

async fn read_attachment(path: PathBuf) -> Msg {
    let shown = path.display().to_string();
    let meta = match tokio::fs::metadata(&path).await {
        Ok(m) => m,
        Err(e) => {
            return Msg::Notice {
                text: format!("/add {shown}: {e}"),
                level: Level::Error,
            };
        }
    };
    if meta.len() > MAX_ATTACH_BYTES {
        return Msg::Notice {
            text: format!(
                "/add {shown}: {} KiB is too big to attach (limit {} KiB); attach a smaller part",
                meta.len() / 1024,
                MAX_ATTACH_BYTES / 1024
            ),
            level: Level::Error,
        };
    }
    match tokio::fs::read(&path).await {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(content) => Msg::Attached(Attachment {
                name: shown,
                pinned: content.len() <= app::PIN_LIMIT_BYTES,
                content,
            }),
            Err(_) => Msg::Notice {
                text: format!("/add {shown}: not a UTF-8 text file"),
                level: Level::Error,
            },
        },
        Err(e) => Msg::Notice {
            text: format!("/add {shown}: {e}"),
            level: Level::Error,
        },
    }
}

/// `/diff`: the working tree against `HEAD` (against the index in a repository with no
/// commit yet), at most [`MAX_ATTACH_BYTES`]; git's own message when it fails.
async fn git_diff() -> Msg {
    let out = tokio::task::spawn_blocking(|| {
        let has_head =
            crate::git::run(None, &["rev-parse", "--verify", "-q", "HEAD"], 1024).is_ok();
        let mut args = vec!["diff", "--no-color", "--no-ext-diff"];
        if has_head {
            args.push("HEAD");
        }
        crate::git::run(None, &args, MAX_ATTACH_BYTES)
    })
    .await;
    match out {
        Ok(Ok(stdout)) => {
            let content = String::from_utf8_lossy(&stdout).into_owned();
            if content.trim().is_empty() {
                return Msg::Notice {
                    text: "/diff: no changes (git diff is empty)".into(),
                    level: Level::Info,
                };
            }
            Msg::Attached(Attachment {
                name: "git diff".into(),
                pinned: content.len() <= app::PIN_LIMIT_BYTES,
                content,
            })
        }
        Ok(Err(e)) => Msg::Notice {
            text: format!("/diff: {e:#}"),
            level: Level::Error,
        },
        Err(e) => Msg::Notice {
            text: format!("/diff: cannot run git: {e}"),
            level: Level::Error,
        },
    }
}

struct Runner {
    router: Router,
    writer: SessionWriter,
    tx: mpsc::UnboundedSender<Msg>,
    /// Requests in flight: how to stop each, and how to skip its silent model.
    running: HashMap<app::RequestId, (CancellationToken, SkipSignal)>,
}

impl Runner {
    fn persist<E: std::fmt::Display>(&self, what: &str, r: Result<(), E>) -> Option<Msg> {
        r.err().map(|e| Msg::Notice {
            text: format!(
                "cannot write the session ({what}) to {}: {e}",
                self.writer.path().display()
            ),
            level: Level::Error,
        })
    }

    /// Where `/export` writes: the path given, else `exports/aiw-chat-ID.md` beside the
    /// sessions directory in the data dir (created when missing).
    fn export_path(&self, path: Option<PathBuf>) -> Result<PathBuf, String> {
        if let Some(p) = path {
            return Ok(p);
        }
        let sessions = self
            .writer
            .path()
            .parent()
            .unwrap_or(std::path::Path::new("."));
        let dir = sessions.parent().unwrap_or(sessions).join("exports");
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(dir.join(format!("aiw-chat-{}.md", self.writer.id())))
    }

    /// Carries out one effect; a result to show comes back as a message.
    fn execute<W: Write>(&mut self, fx: Effect, out: &mut W) -> Option<Msg> {
        match fx {
            Effect::Start { id, route, request } => {
                let token = CancellationToken::new();
                let skip = SkipSignal::new();
                self.running.insert(id, (token.clone(), skip.clone()));
                let router = self.router.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let events = tx.clone();
                    let mut on_event = move |event: crate::router::RouterEvent| {
                        let _ = events.send(Msg::Router { id, event });
                    };
                    let result = router
                        .run_skippable(&route, &request, &mut on_event, &token, &skip)
                        .await;
                    let _ = tx.send(Msg::Finished { id, result });
                });
                None
            }
            Effect::Cancel { id } => {
                if let Some((t, _)) = self.running.remove(&id) {
                    t.cancel();
                }
                None
            }
            Effect::Skip { id, why } => {
                if let Some((_, skip)) = self.running.get(&id) {
                    skip.skip(&why);
                }
                None
            }
            Effect::SaveUser(text) => {
                let r = self.writer.user(&text);
                self.persist("your message", r)
            }
            Effect::SavePartial { text, model } => {
                let r = self.writer.partial(&text, &model);
                self.persist("checkpoint", r)
            }
            Effect::SaveAnswer(rec) => {
                let r = self.writer.answer(&rec);
                self.persist("answer", r)
            }
            Effect::SaveAttachment(a) => {
                let r = self.writer.attach(&a);
                self.persist("attachment", r)
            }
            Effect::SaveClear => {
                let r = self.writer.clear();
                self.persist("clear", r)
            }
            Effect::Summarise {
                model,
                request,
                turns,
            } => {
                // Its own task and router request: the conversation never waits for it.
                let router = self.router.clone();
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let cancel = CancellationToken::new();
                    let r = session::summary::refresh(&router, &model, &request, turns, &cancel)
                        .await
                        .map_err(|e| e.to_string());
                    let _ = tx.send(Msg::Summarised(r));
                });
                None
            }
            Effect::SaveSummary(s) => {
                let r = self.writer.summary(&s);
                self.persist("summary", r)
            }
            Effect::SaveFit(f) => {
                let r = self.writer.fitted(&f);
                self.persist("fitted history", r)
            }
            Effect::Save => Some(Msg::Notice {
                text: format!(
                    "session {} is saved in {} (every turn is written as it happens); resume with `aiw chat --resume {}`",
                    self.writer.id(),
                    self.writer.path().display(),
                    self.writer.id()
                ),
                level: Level::Info,
            }),
            Effect::AttachFile(path) => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(read_attachment(path).await);
                });
                None
            }
            Effect::AttachDiff => {
                let tx = self.tx.clone();
                tokio::spawn(async move {
                    let _ = tx.send(git_diff().await);
                });
                None
            }
            Effect::Export { path, markdown } => Some(match self.export_path(path) {
                Err(e) => Msg::Notice {
                    text: e,
                    level: Level::Error,
                },
                Ok(path) => match crate::files::write_atomic(
                    &path,
                    markdown.as_bytes(),
                    crate::files::Access::Public,
                ) {
                    Ok(_) => Msg::Notice {
                        text: format!("exported the conversation to {}", path.display()),
                        level: Level::Info,
                    },
                    Err(e) => Msg::Notice {
                        text: format!("cannot export to {}: {e}", path.display()),
                        level: Level::Error,
                    },
                },
            }),
            Effect::Copy(text) => {
                let _ = out.write_all(osc52(&text).as_bytes());
                let _ = out.flush();
                None
            }
            Effect::MouseCapture(on) => {
                let r = if on {
                    execute!(out, EnableMouseCapture)
                } else {
                    execute!(out, DisableMouseCapture)
                };
                r.err().map(|e| Msg::Notice {
                    text: format!("cannot change mouse capture: {e}"),
                    level: Level::Error,
                })
            }
            Effect::Quit => None,
        }
    }
}

fn is_send(msg: Option<&Msg>) -> bool {
    matches!(msg, Some(Msg::Action(keys::Action::Send)))
}

/// An Enter with more input right behind it (a paste without bracketed paste) becomes a new
/// line, so a pasted block arrives whole in the draft instead of being sent line by line.
fn pasted_enter(msg: Option<Msg>, more_waiting: bool) -> Option<Msg> {
    if more_waiting && is_send(msg.as_ref()) {
        Some(Msg::Action(keys::Action::Newline))
    } else {
        msg
    }
}

fn terminal_msg(keymap: &keys::KeyMap, ev: Event) -> Option<Msg> {
    match ev {
        Event::Key(k) => keymap.action(&k).map(Msg::Action),
        Event::Paste(s) => Some(Msg::Paste(s)),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollUp => Some(Msg::Scroll(-3)),
            MouseEventKind::ScrollDown => Some(Msg::Scroll(3)),
            _ => None,
        },
        // A resize only needs a redraw, which every handled event gets.
        Event::Resize(..) => Some(Msg::Tick {
            now: Instant::now(),
            wall: SystemTime::now(),
        }),
        _ => None,
    }
}

/// Runs the chat until the user quits or a signal arrives. The terminal is restored however
/// it ends.
#[expect(
    clippy::too_many_lines,
    reason = "the one event loop: setup, select, dispatch"
)]
pub async fn run(chat: Chat) -> anyhow::Result<Ended> {
    require_terminal()?;
    let Chat {
        router,
        init,
        writer,
    } = chat;
    let mut app = App::new(init);
    // The view's layout cache belongs to this loop: drawing fills it, scrolling reads its
    // measurements through `update`'s argument.
    let mut cache = view::Cache::default();
    app.prices = router.settings().prices.clone();
    app.mention = mention::Completer::new(mention::list_files(std::path::Path::new(".")));
    if router.settings().summary.enabled
        && let Some(model) = session::summary::pick_model(&app.route, router.settings())
    {
        app.with_summariser(router.settings().summary.clone(), model);
    }
    let (tx, mut rx) = mpsc::unbounded_channel::<Msg>();
    let mut runner = Runner {
        router: router.clone(),
        writer,
        tx,
        running: HashMap::new(),
    };
    let _guard = TerminalGuard::enter()?;
    let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))
        .context("cannot draw on the terminal")?;
    terminal.clear().context("cannot clear the terminal")?;

    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut health = tokio::time::interval(Duration::from_secs(1));
    #[cfg(unix)]
    let mut signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?,
            signal(SignalKind::hangup()).context("cannot listen for SIGHUP")?,
            signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?,
        )
    };
    let mut by_signal = false;
    let mut last_draw = Instant::now()
        .checked_sub(FRAME)
        .unwrap_or_else(Instant::now);
    let mut dirty = true;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            terminal
                .draw(|f| view::render(&app, &mut cache, f))
                .context("cannot draw on the terminal")?;
            last_draw = Instant::now();
            dirty = false;
        }
        let frame_due = tokio::time::Instant::from_std(last_draw + FRAME);
        #[cfg(unix)]
        let signal = async {
            tokio::select! {
                _ = signals.0.recv() => {},
                _ = signals.1.recv() => {},
                _ = signals.2.recv() => {},
            }
        };
        #[cfg(not(unix))]
        let signal = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let mut burst: Option<Msg> = None;
        let msg = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    let msg = terminal_msg(&app.keymap, ev);
                    // Input already waiting right behind an Enter is a paste from a terminal
                    // without bracketed paste: that Enter is a line break, not "send".
                    let next = if is_send(msg.as_ref()) {
                        events.next().now_or_never().flatten().and_then(Result::ok)
                    } else {
                        None
                    };
                    burst = next.and_then(|ev| terminal_msg(&app.keymap, ev));
                    pasted_enter(msg, burst.is_some())
                }
                Some(Err(e)) => return Err(anyhow::Error::new(e).context("cannot read from the terminal")),
                None => Some(Msg::Terminate),
            },
            Some(msg) = rx.recv() => Some(msg),
            _ = tick.tick() => Some(Msg::Tick { now: Instant::now(), wall: SystemTime::now() }),
            _ = health.tick() => {
                let mut models: Vec<ModelRef> = app.route.clone();
                models.extend(app.choices.iter().filter(|m| !app.route.contains(m)).cloned());
                Some(Msg::Health(router.health(&models)))
            },
            () = signal => { by_signal = true; Some(Msg::Terminate) },
            () = tokio::time::sleep_until(frame_due), if dirty => None,
        };
        let mut queue: std::collections::VecDeque<Msg> = msg.into_iter().chain(burst).collect();
        // `@path` files of a message being sent are attached first, as `/add` would.
        if is_send(queue.front()) {
            for path in mention::to_attach(&app).into_iter().rev() {
                queue.push_front(read_attachment(path).await);
            }
        }
        // Take everything already waiting (a burst of tokens) before drawing once.
        while let Ok(m) = rx.try_recv() {
            queue.push_back(m);
            if queue.len() > 4096 {
                break;
            }
        }
        while let Some(m) = queue.pop_front() {
            if let Msg::Finished { id, .. } = &m {
                runner.running.remove(id);
            }
            dirty = true;
            for fx in app::update(&mut app, m, cache.metrics()) {
                if let Some(back) = runner.execute(fx, terminal.backend_mut()) {
                    queue.push_back(back);
                }
            }
        }
        if app.quitting {
            break;
        }
    }
    for (_, (t, _)) in runner.running.drain() {
        t.cancel();
    }
    drop(terminal);
    let session_id = runner.writer.id().to_string();
    Ok(if by_signal {
        Ended::Signal { session_id }
    } else {
        Ended::Quit { session_id }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_asks_the_terminal_to_copy_base64_text() {
        assert_eq!(osc52("hi"), "\x1b]52;c;aGk=\x07");
        assert_eq!(osc52("foobar"), "\x1b]52;c;Zm9vYmFy\x07");
    }

    #[test]
    fn an_enter_inside_a_paste_is_a_new_line() {
        let send = || Some(Msg::Action(keys::Action::Send));
        assert!(matches!(
            pasted_enter(send(), true),
            Some(Msg::Action(keys::Action::Newline))
        ));
        assert!(matches!(
            pasted_enter(send(), false),
            Some(Msg::Action(keys::Action::Send))
        ));
        assert!(matches!(
            pasted_enter(Some(Msg::Action(keys::Action::Insert('a'))), true),
            Some(Msg::Action(keys::Action::Insert('a')))
        ));
    }

    #[tokio::test]
    async fn attachments_are_read_or_explained() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.rs");
        std::fs::write(&p, "fn main() {}\n").unwrap();
        match read_attachment(p).await {
            Msg::Attached(a) => {
                assert!(a.pinned);
                assert_eq!(a.content, "fn main() {}\n");
            }
            other => panic!("{other:?}"),
        }
        let missing = read_attachment(dir.path().join("nope")).await;
        assert!(matches!(
            missing,
            Msg::Notice {
                level: Level::Error,
                ..
            }
        ));
        let bin = dir.path().join("b.bin");
        std::fs::write(&bin, [0xff, 0xfe, 0x00]).unwrap();
        match read_attachment(bin).await {
            Msg::Notice { text, .. } => assert!(text.contains("not a UTF-8"), "{text}"),
            other => panic!("{other:?}"),
        }
    }
}
