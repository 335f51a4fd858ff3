//! Keys as data: what a key press means ([`Action`]), the default bindings of `aiw chat`, and
//! the [`KeyMap`] built from them plus the user's `[chat.keys]` table (action name -> key
//! specs such as `"ctrl-p"`, `"alt-1"`, `"shift-f2"`). A new key goes here plus a `Msg` arm
//! in `app.rs`. Editing keys (characters, arrows, Backspace…) are fixed; everything with a
//! name below can be rebound.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// What a key press means, independent of where the focus is: `update` gives it meaning in
/// context (e.g. `Up` moves in the picker, or through input history on the first line).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Send the draft (Enter).
    Send,
    /// Insert a line break in the draft.
    Newline,
    /// Cancel the running answer, or close an overlay.
    Cancel,
    /// Quit (needs a second press).
    Quit,
    /// Quit when the draft is empty (Ctrl+D).
    QuitIfEmpty,
    /// Open the model picker.
    Picker,
    /// Pin the next model of the route.
    NextModel,
    /// Pin the previous model of the route.
    PrevModel,
    /// Pin the model at this 1-based position of the route.
    Pin(u8),
    /// Switch between automatic routing and the pinned model.
    ToggleAuto,
    /// Ask the last prompt again on a different model.
    Reask,
    /// Give up on the model the answer waits on for a first token now, and go on to the
    /// next model of the route (auto mode).
    Skip,
    /// Copy the last code block to the clipboard (OSC 52).
    CopyCode,
    /// Show the help overlay.
    Help,
    /// Scroll the transcript up a few lines.
    ScrollUp,
    /// Scroll the transcript down a few lines.
    ScrollDown,
    /// Scroll the transcript up a page.
    PageUp,
    /// Scroll the transcript down a page.
    PageDown,
    /// Scroll to the start of the transcript.
    ScrollTop,
    /// Scroll to the end of the transcript and follow new text.
    ScrollBottom,
    /// Type a character.
    Insert(char),
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character under the cursor.
    Delete,
    /// Cursor left.
    Left,
    /// Cursor right.
    Right,
    /// Cursor up (history on the first line).
    Up,
    /// Cursor down (history on the last line).
    Down,
    /// Start of line (or top of the transcript when the draft is empty).
    Home,
    /// End of line (or bottom of the transcript when the draft is empty).
    End,
    /// Delete the word before the cursor.
    DeleteWord,
    /// Delete from the start of the line to the cursor.
    ClearLine,
}

/// The rebindable actions: config name, action, description for the help overlay, defaults.
const BINDABLE: &[(&str, Action, &str, &[&str])] = &[
    ("send", Action::Send, "send the message", &["enter"]),
    (
        "newline",
        Action::Newline,
        "new line in the message",
        &["shift-enter", "alt-enter", "ctrl-j"],
    ),
    (
        "cancel",
        Action::Cancel,
        "cancel the answer / close",
        &["esc"],
    ),
    ("quit", Action::Quit, "quit (press twice)", &["ctrl-c"]),
    (
        "quit_if_empty",
        Action::QuitIfEmpty,
        "quit when the input is empty",
        &["ctrl-d"],
    ),
    (
        "picker",
        Action::Picker,
        "pick a model",
        &["ctrl-p", "alt-p"],
    ),
    (
        "next_model",
        Action::NextModel,
        "next model of the route",
        &["f2", "ctrl-n"],
    ),
    (
        "prev_model",
        Action::PrevModel,
        "previous model of the route",
        &["shift-f2"],
    ),
    (
        "toggle_auto",
        Action::ToggleAuto,
        "auto routing <-> pinned model",
        &["f3"],
    ),
    (
        "skip",
        Action::Skip,
        "skip a silent model now",
        &["f4", "ctrl-s"],
    ),
    (
        "reask",
        Action::Reask,
        "ask the last prompt once on another model",
        &["ctrl-r"],
    ),
    (
        "copy_code",
        Action::CopyCode,
        "copy the last code block",
        &["ctrl-y"],
    ),
    (
        "help",
        Action::Help,
        "this help (or ? on empty input)",
        &["f1"],
    ),
    (
        "scroll_up",
        Action::ScrollUp,
        "scroll up",
        &["ctrl-up", "shift-up"],
    ),
    (
        "scroll_down",
        Action::ScrollDown,
        "scroll down",
        &["ctrl-down", "shift-down"],
    ),
    ("page_up", Action::PageUp, "page up", &["pageup"]),
    ("page_down", Action::PageDown, "page down", &["pagedown"]),
    (
        "scroll_top",
        Action::ScrollTop,
        "top of the transcript",
        &["ctrl-home"],
    ),
    (
        "scroll_bottom",
        Action::ScrollBottom,
        "bottom, follow new text",
        &["ctrl-end"],
    ),
    ("pin_1", Action::Pin(1), "pin route model 1", &["alt-1"]),
    ("pin_2", Action::Pin(2), "pin route model 2", &["alt-2"]),
    ("pin_3", Action::Pin(3), "pin route model 3", &["alt-3"]),
    ("pin_4", Action::Pin(4), "pin route model 4", &["alt-4"]),
    ("pin_5", Action::Pin(5), "pin route model 5", &["alt-5"]),
    ("pin_6", Action::Pin(6), "pin route model 6", &["alt-6"]),
    ("pin_7", Action::Pin(7), "pin route model 7", &["alt-7"]),
    ("pin_8", Action::Pin(8), "pin route model 8", &["alt-8"]),
    ("pin_9", Action::Pin(9), "pin route model 9", &["alt-9"]),
];

/// A key with its modifiers, normalised so that config specs and terminal events compare
/// equal (`ctrl-p` == Ctrl+P however the terminal reports the case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyCombo {
    /// The key.
    pub code: KeyCode,
    /// Ctrl/Alt/Shift.
    pub mods: KeyModifiers,
}

impl KeyCombo {
    fn normalised(code: KeyCode, mods: KeyModifiers) -> Self {
        let mods = mods & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        match code {
            // Shift is already in the character ('?' or 'P'); with Ctrl/Alt terminals differ
            // in case, so compare lower case.
            KeyCode::Char(c) => {
                let mods = mods - KeyModifiers::SHIFT;
                let c = if mods.is_empty() {
                    c
                } else {
                    c.to_ascii_lowercase()
                };
                Self {
                    code: KeyCode::Char(c),
                    mods,
                }
            }
            KeyCode::BackTab => Self {
                code: KeyCode::BackTab,
                mods: mods - KeyModifiers::SHIFT,
            },
            _ => Self { code, mods },
        }
    }

    /// Parses a spec like `ctrl-p`, `alt-1`, `shift-f2`, `pageup`, `?`.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let lower = spec.trim().to_ascii_lowercase();
        if lower.is_empty() {
            return Err("an empty key spec".into());
        }
        let mut mods = KeyModifiers::NONE;
        let mut rest = lower.as_str();
        while let Some((head, tail)) = rest.split_once('-') {
            if tail.is_empty() {
                break; // "ctrl--" or "-": the key is '-'
            }
            match head {
                "ctrl" | "control" | "c" => mods |= KeyModifiers::CONTROL,
                "alt" | "meta" | "m" | "option" => mods |= KeyModifiers::ALT,
                "shift" | "s" => mods |= KeyModifiers::SHIFT,
                _ => {
                    return Err(format!(
                        "`{spec}`: unknown modifier `{head}` (use ctrl-, alt- or shift-)"
                    ));
                }
            }
            rest = tail;
        }
        let code = match rest {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "backspace" | "bs" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "insert" | "ins" => KeyCode::Insert,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" | "pgdown" => KeyCode::PageDown,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "space" => KeyCode::Char(' '),
            "minus" => KeyCode::Char('-'),
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n: u8 = f[1..].parse().unwrap_or(0);
                if !(1..=24).contains(&n) {
                    return Err(format!("`{spec}`: function keys go from f1 to f24"));
                }
                KeyCode::F(n)
            }
            s if s.chars().count() == 1 => KeyCode::Char(s.chars().next().unwrap_or(' ')),
            other => {
                return Err(format!(
                    "`{spec}`: unknown key `{other}` (examples: ctrl-p, alt-1, f2, shift-f2, pageup, esc)"
                ));
            }
        };
        Ok(Self::normalised(code, mods))
    }

    /// The combo a terminal key event stands for.
    pub fn from_event(ev: &KeyEvent) -> Self {
        Self::normalised(ev.code, ev.modifiers)
    }
}

impl fmt::Display for KeyCombo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mods.contains(KeyModifiers::CONTROL) {
            f.write_str("Ctrl+")?;
        }
        if self.mods.contains(KeyModifiers::ALT) {
            f.write_str("Alt+")?;
        }
        if self.mods.contains(KeyModifiers::SHIFT) {
            f.write_str("Shift+")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) if self.mods.is_empty() => write!(f, "{c}"),
            KeyCode::Char(c) => write!(f, "{}", c.to_ascii_uppercase()),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::PageUp => f.write_str("PageUp"),
            KeyCode::PageDown => f.write_str("PageDown"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// One line of the help overlay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The config name (`next_model`).
    pub name: &'static str,
    /// What it does.
    pub description: &'static str,
    /// The keys bound to it, as shown to people (`F2`, `Ctrl+N`).
    pub keys: Vec<String>,
}

/// Key events to actions: the defaults, overridden per action by the config.
#[derive(Clone, Debug)]
pub struct KeyMap {
    /// Bound keys, searched in order (user bindings first, so they win over defaults).
    bindings: Vec<(KeyCombo, Action)>,
}

impl Default for KeyMap {
    fn default() -> Self {
        Self::from_config(&BTreeMap::new()).0
    }
}

impl KeyMap {
    /// Builds the map from `settings.chat_keys`. An action named in the config loses its
    /// default keys; unknown actions and unparsable keys are skipped with a warning (the chat
    /// still starts).
    pub fn from_config(config: &BTreeMap<String, Vec<String>>) -> (Self, Vec<String>) {
        let mut warnings = Vec::new();
        let mut user = Vec::new();
        for (name, specs) in config {
            let Some((_, action, _, _)) = BINDABLE.iter().find(|(n, ..)| n == name) else {
                let names: Vec<&str> = BINDABLE.iter().map(|(n, ..)| *n).collect();
                warnings.push(format!(
                    "[chat.keys] `{name}` is not an action; known actions: {}",
                    names.join(", ")
                ));
                continue;
            };
            for spec in specs {
                match KeyCombo::parse(spec) {
                    Ok(k) => user.push((k, *action)),
                    Err(e) => warnings.push(format!("[chat.keys] {name}: {e}")),
                }
            }
        }
        let mut bindings = user;
        for (name, action, _, defaults) in BINDABLE {
            if config.contains_key(*name) {
                continue;
            }
            for spec in *defaults {
                if let Ok(k) = KeyCombo::parse(spec) {
                    bindings.push((k, *action));
                }
            }
        }
        (Self { bindings }, warnings)
    }

    /// What a key event means; `None` for releases and keys that mean nothing.
    pub fn action(&self, ev: &KeyEvent) -> Option<Action> {
        if ev.kind == KeyEventKind::Release {
            return None;
        }
        let combo = KeyCombo::from_event(ev);
        if let Some((_, a)) = self.bindings.iter().find(|(k, _)| *k == combo) {
            return Some(*a);
        }
        Self::editing(combo)
    }

    /// The fixed editing keys.
    fn editing(k: KeyCombo) -> Option<Action> {
        let ctrl = k.mods.contains(KeyModifiers::CONTROL);
        let alt = k.mods.contains(KeyModifiers::ALT);
        Some(match k.code {
            KeyCode::Char('w') if ctrl => Action::DeleteWord,
            KeyCode::Char('u') if ctrl => Action::ClearLine,
            KeyCode::Char('a') if ctrl => Action::Home,
            KeyCode::Char('e') if ctrl => Action::End,
            KeyCode::Char('h') if ctrl => Action::Backspace,
            KeyCode::Backspace if ctrl || alt => Action::DeleteWord,
            KeyCode::Char(c) if !ctrl && !alt => Action::Insert(c),
            KeyCode::Tab => Action::Insert('\t'),
            KeyCode::Backspace => Action::Backspace,
            KeyCode::Delete => Action::Delete,
            KeyCode::Left => Action::Left,
            KeyCode::Right => Action::Right,
            KeyCode::Up => Action::Up,
            KeyCode::Down => Action::Down,
            KeyCode::Home => Action::Home,
            KeyCode::End => Action::End,
            KeyCode::Enter => Action::Send,
            KeyCode::Esc => Action::Cancel,
            _ => return None,
        })
    }

    /// Every rebindable action with its current keys, for the help overlay.
    pub fn bindings(&self) -> Vec<Binding> {
        BINDABLE
            .iter()
            .map(|(name, action, description, _)| Binding {
                name,
                description,
                keys: self
                    .bindings
                    .iter()
                    .filter(|(_, a)| a == action)
                    .map(|(k, _)| k.to_string())
                    .collect(),
            })
            .collect()
    }

    /// The first key bound to an action, for hints ("F1 help").
    pub fn key_for(&self, action: Action) -> Option<String> {
        self.bindings
            .iter()
            .find(|(_, a)| *a == action)
            .map(|(k, _)| k.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_match_the_spec() {
        let km = KeyMap::default();
        let cases = [
            (
                key(KeyCode::Char('p'), KeyModifiers::CONTROL),
                Action::Picker,
            ),
            (key(KeyCode::Char('p'), KeyModifiers::ALT), Action::Picker),
            (key(KeyCode::F(2), KeyModifiers::NONE), Action::NextModel),
            (key(KeyCode::F(2), KeyModifiers::SHIFT), Action::PrevModel),
            (
                key(KeyCode::Char('n'), KeyModifiers::CONTROL),
                Action::NextModel,
            ),
            (key(KeyCode::Char('3'), KeyModifiers::ALT), Action::Pin(3)),
            (key(KeyCode::F(3), KeyModifiers::NONE), Action::ToggleAuto),
            (key(KeyCode::F(4), KeyModifiers::NONE), Action::Skip),
            (key(KeyCode::Char('s'), KeyModifiers::CONTROL), Action::Skip),
            (key(KeyCode::Esc, KeyModifiers::NONE), Action::Cancel),
            (key(KeyCode::Char('c'), KeyModifiers::CONTROL), Action::Quit),
            (
                key(KeyCode::Char('d'), KeyModifiers::CONTROL),
                Action::QuitIfEmpty,
            ),
            (key(KeyCode::F(1), KeyModifiers::NONE), Action::Help),
            (key(KeyCode::Enter, KeyModifiers::NONE), Action::Send),
            (key(KeyCode::Enter, KeyModifiers::SHIFT), Action::Newline),
            (key(KeyCode::Enter, KeyModifiers::ALT), Action::Newline),
            (
                key(KeyCode::Char('?'), KeyModifiers::SHIFT),
                Action::Insert('?'),
            ),
            (
                key(KeyCode::Char('é'), KeyModifiers::NONE),
                Action::Insert('é'),
            ),
            (key(KeyCode::PageUp, KeyModifiers::NONE), Action::PageUp),
        ];
        for (ev, want) in cases {
            assert_eq!(km.action(&ev), Some(want), "{ev:?}");
        }
    }

    #[test]
    fn ctrl_with_upper_case_letter_still_matches() {
        let km = KeyMap::default();
        let ev = key(
            KeyCode::Char('P'),
            KeyModifiers::CONTROL | KeyModifiers::SHIFT,
        );
        assert_eq!(km.action(&ev), Some(Action::Picker));
    }

    #[test]
    fn config_rebinds_and_drops_the_defaults_of_that_action() {
        let mut cfg = BTreeMap::new();
        cfg.insert("next_model".to_string(), vec!["alt-n".to_string()]);
        cfg.insert("help".to_string(), vec!["ctrl-n".to_string()]);
        let (km, warnings) = KeyMap::from_config(&cfg);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            km.action(&key(KeyCode::Char('n'), KeyModifiers::ALT)),
            Some(Action::NextModel)
        );
        assert_eq!(
            km.action(&key(KeyCode::Char('n'), KeyModifiers::CONTROL)),
            Some(Action::Help)
        );
        assert_eq!(km.action(&key(KeyCode::F(2), KeyModifiers::NONE)), None);
    }

    #[test]
    fn bad_config_warns_and_keeps_going() {
        let mut cfg = BTreeMap::new();
        cfg.insert("fly".to_string(), vec!["ctrl-x".to_string()]);
        cfg.insert("picker".to_string(), vec!["hyper-x".to_string()]);
        let (km, warnings) = KeyMap::from_config(&cfg);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("not an action"));
        assert!(warnings[1].contains("unknown modifier"));
        // picker was named, so its defaults are gone; the rest still work
        assert_eq!(
            km.action(&key(KeyCode::F(2), KeyModifiers::NONE)),
            Some(Action::NextModel)
        );
    }

    #[test]
    fn specs_parse() {
        assert_eq!(
            KeyCombo::parse("Shift-F2").map(|k| k.to_string()),
            Ok("Shift+F2".into())
        );
        assert_eq!(
            KeyCombo::parse("ctrl--").map(|k| k.code),
            Ok(KeyCode::Char('-'))
        );
        assert!(KeyCombo::parse("f99").is_err());
        assert!(KeyCombo::parse("").is_err());
    }

    #[test]
    fn help_lists_every_action_with_keys() {
        let b = KeyMap::default().bindings();
        let next = b.iter().find(|b| b.name == "next_model").map(|b| &b.keys);
        assert_eq!(next, Some(&vec!["F2".to_string(), "Ctrl+N".to_string()]));
    }

    #[test]
    fn releases_are_ignored() {
        let mut ev = key(KeyCode::Char('a'), KeyModifiers::NONE);
        ev.kind = KeyEventKind::Release;
        assert_eq!(KeyMap::default().action(&ev), None);
    }
}
