//! `@file` mentions in the chat's draft. Tab on a draft that ends in `@` and a path prefix
//! completes it to a file of the working directory (git's tracked and untracked-but-not-ignored
//! files, else a bounded walk that follows no links; never outside the working directory),
//! and repeated Tab cycles through the matches. On send, every `@path` of the message that
//! names a file there is attached the way `/add` attaches one (the event loop reads it with
//! the same size limit and messages); the message is sent as typed.

use std::collections::VecDeque;
use std::path::{Component, Path, PathBuf};

use super::app::{App, FLASH_FOR, Flash, Level, Overlay};
use super::editor::Editor;

/// Most files offered for completion.
pub const MAX_FILES: usize = 20_000;
/// Most directory entries the walk outside a repository looks at.
const MAX_WALK_ENTRIES: usize = 50_000;
/// Deepest directory the walk enters.
const MAX_DEPTH: usize = 12;
/// Most bytes of `git ls-files` output read (past it, the walk is used instead).
const LS_FILES_LIMIT: u64 = 8 * 1024 * 1024;

/// The files offered and the Tab cycle in progress.
#[derive(Clone, Debug, Default)]
pub struct Completer {
    files: Vec<String>,
    cycle: Option<Cycle>,
}

/// A completion that repeated Tab moves through.
#[derive(Clone, Debug)]
struct Cycle {
    /// The draft before the path (its `@` included).
    base: String,
    /// The matching files.
    matches: Vec<String>,
    /// The one in the draft now.
    index: usize,
    /// The draft as the last Tab left it (any other edit ends the cycle).
    shown: String,
}

impl Completer {
    /// Completes among `files` (paths relative to the working directory).
    pub fn new(files: Vec<String>) -> Self {
        Self { files, cycle: None }
    }
}

/// The files of `dir` for completion, relative to it, sorted, at most [`MAX_FILES`]: what
/// `git ls-files` lists (tracked, and untracked but not ignored), or outside a repository a
/// walk that skips hidden entries and follows no symbolic links.
pub fn list_files(dir: &Path) -> Vec<String> {
    let args = [
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ];
    let mut files = match crate::git::run(Some(dir), &args, LS_FILES_LIMIT) {
        Ok(out) => out
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .filter_map(|p| std::str::from_utf8(p).ok())
            .map(str::to_string)
            .take(MAX_FILES)
            .collect(),
        Err(_) => walk(dir),
    };
    files.sort();
    files.dedup();
    files
}

/// Breadth-first walk of `dir`: files only, no hidden entries, no links, bounded in entries,
/// depth and files.
fn walk(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut seen = 0usize;
    let mut queue: VecDeque<(PathBuf, usize)> = VecDeque::from([(PathBuf::new(), 0)]);
    while let Some((rel, depth)) = queue.pop_front() {
        let Ok(entries) = std::fs::read_dir(dir.join(&rel)) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_WALK_ENTRIES || files.len() >= MAX_FILES {
                return files;
            }
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') {
                continue;
            }
            // `file_type` does not follow links: a link is neither a file nor a dir here.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = rel.join(name);
            if kind.is_file() {
                if let Some(p) = path.to_str() {
                    files.push(p.to_string());
                }
            } else if kind.is_dir() && depth < MAX_DEPTH {
                queue.push_back((path, depth + 1));
            }
        }
    }
    files
}

/// The `@` word the draft ends with: where its `@` is and the prefix after it.
pub fn mention_at_end(text: &str) -> Option<(usize, &str)> {
    let start = last_word_start(text);
    let prefix = text[start..].strip_prefix('@')?;
    Some((start, prefix))
}

/// The path a `/add` draft is typing (`/add src/ma`, `/a @src/ma`): where the path starts
/// (after any `@`) and the prefix so far.
pub fn add_path_at_end(text: &str) -> Option<(usize, &str)> {
    let (name, arg) = text.strip_prefix('/')?.split_once(' ')?;
    let spec = super::command::spec(name)?;
    if spec.name != "add" || arg.contains(char::is_whitespace) {
        return None;
    }
    let start = text.len() - arg.len();
    let at = usize::from(arg.starts_with('@'));
    Some((start + at, &arg[at..]))
}

/// Where the last word of `text` starts.
fn last_word_start(text: &str) -> usize {
    text.char_indices()
        .rev()
        .find(|(_, c)| c.is_whitespace())
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// The files for a typed prefix: paths that start with it, then paths with a later part
/// (a directory or the file name) that starts with it; each group in path order.
pub fn matches(files: &[String], prefix: &str) -> Vec<String> {
    let mut first: Vec<String> = Vec::new();
    let mut then: Vec<String> = Vec::new();
    for f in files {
        if f.starts_with(prefix) {
            first.push(f.clone());
        } else if !prefix.is_empty() && f.split('/').skip(1).any(|part| part.starts_with(prefix)) {
            then.push(f.clone());
        }
    }
    first.extend(then);
    first
}

/// Whether the cursor is at the very end of the draft.
fn at_end(e: &Editor) -> bool {
    let (row, col) = e.cursor();
    let lines = e.lines();
    row + 1 >= lines.len() && lines.last().is_none_or(|l| col >= l.chars().count())
}

fn say(app: &mut App, text: String, level: Level) {
    app.flash = Some(Flash {
        text,
        level,
        until: app.now + FLASH_FOR,
    });
}

/// Tab on a draft ending in `@prefix`: puts the first matching file in (with a space when it
/// is the only one), and on the next Tab the next match. False (Tab does something else) when
/// the draft does not end in an `@` word.
pub fn complete(app: &mut App) -> bool {
    if !at_end(&app.editor) {
        return false;
    }
    let text = app.editor.text();
    if let Some(c) = app.mention.cycle.as_mut()
        && c.shown == text
    {
        c.index = (c.index + 1) % c.matches.len();
        c.shown = format!("{}{}", c.base, c.matches[c.index]);
        let (shown, n, of) = (c.shown.clone(), c.index + 1, c.matches.len());
        app.editor = Editor::with_text(&shown);
        say(
            app,
            format!("{n} of {of} files (Tab for the next)"),
            Level::Info,
        );
        return true;
    }
    app.mention.cycle = None;
    // A path after `/add`, else an `@` mention (its `@` stays in the draft).
    let Some((start, prefix)) = add_path_at_end(&text)
        .or_else(|| mention_at_end(&text).map(|(at, prefix)| (at + 1, prefix)))
    else {
        return false;
    };
    let found = matches(&app.mention.files, prefix);
    let base = text[..start].to_string();
    match found.len() {
        0 => say(
            app,
            format!("no file of the working directory matches {prefix:?}"),
            Level::Warn,
        ),
        1 => app.editor = Editor::with_text(&format!("{base}{} ", found[0])),
        of => {
            let shown = format!("{base}{}", found[0]);
            app.editor = Editor::with_text(&shown);
            app.mention.cycle = Some(Cycle {
                base,
                matches: found,
                index: 0,
                shown,
            });
            say(
                app,
                format!("1 of {of} files (Tab for the next)"),
                Level::Info,
            );
        }
    }
    true
}

/// The `@path` words of a message that can name a file in the working directory, in order,
/// once each: relative paths without `..` (trailing punctuation such as `,` or `.` dropped).
pub fn mentioned(text: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for word in text.split_whitespace() {
        let Some(p) = word.strip_prefix('@') else {
            continue;
        };
        let p = p.trim_end_matches([',', ';', ':', '.', '!', '?', ')', ']', '"', '\'']);
        let path = PathBuf::from(p);
        let inside = !p.is_empty()
            && path
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
        if inside && !out.contains(&path) {
            out.push(path);
        }
    }
    out
}

/// What sending the draft now attaches: its `@path` files that exist (read from disk: call
/// it from the event loop, not from `update`) and are not attached yet. Nothing for a slash
/// command or while an overlay takes the Enter.
pub fn to_attach(app: &App) -> Vec<PathBuf> {
    let text = app.editor.text();
    if app.overlay != Overlay::None || text.trim_start().starts_with('/') {
        return Vec::new();
    }
    let Ok(cwd) = std::env::current_dir().and_then(std::fs::canonicalize) else {
        return Vec::new();
    };
    mentioned(&text)
        .into_iter()
        .filter(|p| {
            let name = p.display().to_string();
            // A link inside the working directory may not lead out of it.
            let inside = std::fs::canonicalize(p).is_ok_and(|real| real.starts_with(&cwd));
            !app.session.attachments.iter().any(|a| a.name == name) && inside && p.is_file()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::app::Msg;
    use crate::tui::app::tests::update;
    use crate::tui::app::tests::{test_app, typed};
    use crate::tui::keys::Action;

    fn files() -> Vec<String> {
        [
            "README.md",
            "src/lib.rs",
            "src/tui/app.rs",
            "src/tui/view.rs",
        ]
        .map(String::from)
        .to_vec()
    }

    #[test]
    fn the_mention_is_the_last_word_when_it_starts_with_an_at() {
        assert_eq!(mention_at_end("look at @src/t"), Some((8, "src/t")));
        assert_eq!(mention_at_end("@"), Some((0, "")));
        assert_eq!(mention_at_end("a\n@x"), Some((2, "x")));
        assert_eq!(mention_at_end("mail me@host"), None);
        assert_eq!(mention_at_end("@src "), None);
        assert_eq!(add_path_at_end("/add src/t"), Some((5, "src/t")));
        assert_eq!(add_path_at_end("/a @src/t"), Some((4, "src/t")));
        assert_eq!(add_path_at_end("/add "), Some((5, "")));
        assert_eq!(add_path_at_end("/add a b"), None);
        assert_eq!(add_path_at_end("/export src/t"), None);
        assert_eq!(add_path_at_end("/add"), None);
    }

    #[test]
    fn prefixes_match_paths_first_then_file_and_directory_names() {
        let f = files();
        assert_eq!(
            matches(&f, "src/tui/"),
            ["src/tui/app.rs", "src/tui/view.rs"]
        );
        assert_eq!(matches(&f, "view"), ["src/tui/view.rs"]);
        assert_eq!(matches(&f, "tui"), ["src/tui/app.rs", "src/tui/view.rs"]);
        assert_eq!(matches(&f, "R"), ["README.md"]);
        assert!(matches(&f, "nope").is_empty());
        assert_eq!(matches(&f, "").len(), 4);
    }

    #[test]
    fn mentions_are_relative_paths_inside_the_working_directory() {
        assert_eq!(
            mentioned("fix @src/lib.rs, then @README.md. and @src/lib.rs again"),
            [PathBuf::from("src/lib.rs"), PathBuf::from("README.md")]
        );
        assert!(mentioned("@/etc/passwd @../x @a/../../b @ mail@x.org").is_empty());
    }

    #[test]
    fn tab_completes_an_at_path_and_cycles_through_the_matches() {
        let mut app = test_app();
        app.mention = Completer::new(files());
        let tab = |app: &mut App| update(app, Msg::Action(Action::Insert('\t')));
        typed(&mut app, "explain @src/tui/");
        assert!(tab(&mut app).is_empty());
        assert_eq!(app.editor.text(), "explain @src/tui/app.rs");
        assert!(app.flash.as_ref().unwrap().text.contains("1 of 2"));
        tab(&mut app);
        assert_eq!(app.editor.text(), "explain @src/tui/view.rs");
        tab(&mut app);
        assert_eq!(app.editor.text(), "explain @src/tui/app.rs");
        // Typing ends the cycle; a single match gets a space after it.
        typed(&mut app, " and @vi");
        tab(&mut app);
        assert_eq!(
            app.editor.text(),
            "explain @src/tui/app.rs and @src/tui/view.rs "
        );
        // No match says so and leaves the draft.
        typed(&mut app, "@zz");
        tab(&mut app);
        assert_eq!(
            app.editor.text(),
            "explain @src/tui/app.rs and @src/tui/view.rs @zz"
        );
        assert!(app.flash.as_ref().unwrap().text.contains("no file"));
        // After /add the path completes with or without its @.
        app.editor = Editor::default();
        typed(&mut app, "/add src/tui/v");
        tab(&mut app);
        assert_eq!(app.editor.text(), "/add src/tui/view.rs ");
        app.editor = Editor::default();
        typed(&mut app, "/a @src/tui/");
        tab(&mut app);
        assert_eq!(app.editor.text(), "/a @src/tui/app.rs");
        tab(&mut app);
        assert_eq!(app.editor.text(), "/a @src/tui/view.rs");
        // Slash commands still complete, and Tab elsewhere is a tab.
        app.editor = Editor::default();
        typed(&mut app, "/he");
        tab(&mut app);
        assert_eq!(app.editor.text(), "/help ");
        app.editor = Editor::default();
        typed(&mut app, "a");
        tab(&mut app);
        assert_eq!(app.editor.text(), "a\t");
    }

    #[test]
    fn sending_attaches_the_mentioned_files_that_exist_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.rs"), "fn a() {}\n").unwrap();
        let mut app = test_app();
        let a = dir.path().join("a.rs");
        let missing = dir.path().join("missing.rs");
        // Absolute paths are never mentions; relative ones are checked against the disk.
        typed(
            &mut app,
            &format!("see @{} @{}", a.display(), missing.display()),
        );
        assert!(to_attach(&app).is_empty());
        let cwd_file = "Cargo.toml";
        app.editor = Editor::with_text(&format!("see @{cwd_file} and @no/such/file"));
        assert_eq!(to_attach(&app), [PathBuf::from(cwd_file)]);
        update(
            &mut app,
            Msg::Attached(crate::tui::session::Attachment {
                name: cwd_file.into(),
                content: "[package]\n".into(),
                pinned: true,
            }),
        );
        assert!(to_attach(&app).is_empty(), "attached already");
        app.editor = Editor::with_text(&format!("/add @{cwd_file}"));
        assert!(to_attach(&app).is_empty(), "a slash command");
    }

    #[test]
    fn files_come_from_git_in_a_repository_and_from_a_bounded_walk_outside() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("src/deep")).unwrap();
        std::fs::create_dir_all(d.join(".hidden")).unwrap();
        std::fs::write(d.join("src/deep/x.rs"), "").unwrap();
        std::fs::write(d.join("top.md"), "").unwrap();
        std::fs::write(d.join(".hidden/secret"), "").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("/etc", d.join("etc-link")).unwrap();
        assert_eq!(list_files(d), ["src/deep/x.rs", "top.md"]);
        // In a repository: git's view (ignored files left out).
        crate::git::run(Some(d), &["init", "-q"], 1 << 20).unwrap();
        std::fs::write(d.join(".gitignore"), "top.md\n").unwrap();
        let listed = list_files(d);
        assert!(listed.contains(&"src/deep/x.rs".to_string()), "{listed:?}");
        assert!(!listed.contains(&"top.md".to_string()), "{listed:?}");
    }
}
