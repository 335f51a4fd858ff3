//! `aiw sessions list | show | export | rm` against session files written by the library's
//! store into a temporary data dir: outputs, exit codes and error messages.

use std::path::Path;
use std::process::{Command, Output};

use aiw::provider::{Block, Usage};
use aiw::router::{Attempt, Outcome, Segment};
use aiw::session::{AnswerRecord, Attachment, Session, SessionStore};

use crate::support::m;

/// A temporary home for one test: config, data and state dirs, and the working directory.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn data_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn store(&self) -> SessionStore {
        SessionStore::new(&self.data_dir())
    }

    fn aiw(&self, args: &[&str]) -> Output {
        let root = self.dir.path();
        Command::new(env!("CARGO_BIN_EXE_aiw"))
            .args(args)
            .current_dir(root)
            .env("HOME", root)
            .env("AIW_CONFIG", root.join("config.toml"))
            .env("AIW_DATA_DIR", self.data_dir())
            .env("AIW_STATE_DIR", root.join("state"))
            .env("NO_COLOR", "1")
            .env_remove("ANTHROPIC_API_KEY")
            .env_remove("OPENAI_API_KEY")
            .env_remove("GEMINI_API_KEY")
            .env_remove("GOOGLE_API_KEY")
            .output()
            .expect("run aiw")
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn with_id(id: &str, created_at: &str) -> Session {
    let mut s = Session::new(Some("You review Rust.".into()), Some("default".into()));
    s.id = id.into();
    s.created_at = created_at.into();
    s
}

/// Session A (older): one answer written by two models after a mid-stream failover.
/// Session B (newer): an answer interrupted by a crash.
fn two_sessions(env: &Env) {
    let store = env.store();
    let mut w = store
        .create(&with_id("20261123-141502-a1b2", "2026-11-23T14:15:02.000Z"))
        .expect("create A");
    w.attach(&Attachment {
        name: "src/lib.rs".into(),
        content: "pub fn f() {}\n".into(),
        pinned: true,
    })
    .expect("attach");
    w.user("Why does the borrow checker reject this?")
        .expect("user");
    w.answer(&AnswerRecord {
        blocks: vec![Block::text("Because the reference outlives the value.")],
        model: m("openai/gpt-5.5"),
        segments: vec![
            Segment {
                model: m("anthropic/claude-opus-4-8"),
                blocks: vec![Block::text("Because the reference ")],
            },
            Segment {
                model: m("openai/gpt-5.5"),
                blocks: vec![Block::text("outlives the value.")],
            },
        ],
        attempts: vec![
            Attempt {
                model: m("anthropic/claude-opus-4-8"),
                outcome: Outcome::Failed,
                error_class: Some(aiw::provider::ErrorClass::Overloaded),
                error: Some("529 overloaded".into()),
                status: Some(529),
                ttft_ms: Some(300),
                ms: 1200,
                chars: 22,
            },
            Attempt {
                model: m("openai/gpt-5.5"),
                outcome: Outcome::Ok,
                error_class: None,
                error: None,
                status: Some(200),
                ttft_ms: Some(200),
                ms: 800,
                chars: 19,
            },
        ],
        usage: Usage {
            input_tokens: 100,
            output_tokens: 12,
            ..Usage::default()
        },
        partial: false,
        at: "2026-11-23T14:15:09.000Z".into(),
        notes: Vec::new(),
    })
    .expect("answer");
    drop(w);

    let mut w = store
        .create(&with_id("20261124-090000-c3d4", "2026-11-24T09:00:00.000Z"))
        .expect("create B");
    w.user("Write a story").expect("user");
    w.partial("Once upon a time", &m("local/smollm2"))
        .expect("partial");
    drop(w); // killed mid-answer
}

fn session_file(env: &Env, id: &str) -> std::path::PathBuf {
    env.data_dir().join("sessions").join(format!("{id}.jsonl"))
}

#[test]
fn list_shows_sessions_newest_first() {
    let env = Env::new();
    two_sessions(&env);
    let out = env.aiw(&["sessions", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("ID "), "{text}");
    assert!(lines[1].starts_with("20261124-090000-c3d4"), "{text}");
    assert!(lines[1].contains("1 (partial)"), "{text}");
    assert!(lines[1].contains("local/smollm2"), "{text}");
    assert!(lines[1].ends_with("Write a story"), "{text}");
    assert!(lines[2].starts_with("20261123-141502-a1b2"), "{text}");
    assert!(
        lines[2].contains("anthropic/claude-opus-4-8, openai/gpt-5.5"),
        "{text}"
    );

    // `aiw sessions` alone lists too.
    let plain = env.aiw(&["sessions"]);
    assert_eq!(stdout(&plain), text);
}

#[test]
fn list_json_is_machine_readable() {
    let env = Env::new();
    two_sessions(&env);
    let out = env.aiw(&["sessions", "list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let arr = v.as_array().expect("an array");
    assert_eq!(arr.len(), 2);
    assert_eq!(arr[0]["id"], "20261124-090000-c3d4");
    assert_eq!(arr[0]["partial"], true);
    assert_eq!(arr[1]["turns"], 1);
    assert_eq!(arr[1]["created_at"], "2026-11-23T14:15:02.000Z");
    assert_eq!(
        arr[1]["models"],
        serde_json::json!(["anthropic/claude-opus-4-8", "openai/gpt-5.5"])
    );
}

#[test]
fn list_with_no_sessions_says_how_to_start_one() {
    let env = Env::new();
    let out = env.aiw(&["sessions", "list"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("aiw chat"), "{}", stderr(&out));
    let json = env.aiw(&["sessions", "list", "--json"]);
    assert_eq!(stdout(&json).trim(), "[]");
}

#[test]
fn show_prints_the_transcript_with_seams_and_partials() {
    let env = Env::new();
    two_sessions(&env);
    let out = env.aiw(&["sessions", "show", "20261123"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let md = stdout(&out);
    for want in [
        "# aiw session 20261123-141502-a1b2",
        "- Route: default",
        "## System prompt\n\nYou review Rust.",
        "- `src/lib.rs` (1 lines, pinned)",
        "Why does the borrow checker reject this?",
        "### Answer (answered by anthropic/claude-opus-4-8)",
        "> continued by openai/gpt-5.5 after anthropic/claude-opus-4-8 failed (overloaded: 529 overloaded)",
        "outlives the value.",
    ] {
        assert!(md.contains(want), "missing {want:?} in:\n{md}");
    }
    let out = env.aiw(&["sessions", "show", "20261124-090000-c3d4"]);
    let md = stdout(&out);
    assert!(md.contains("Once upon a time"), "{md}");
    assert!(
        md.contains("*(partial: this answer was cut short)*"),
        "{md}"
    );
}

#[test]
fn export_writes_markdown_to_stdout_or_a_file() {
    let env = Env::new();
    two_sessions(&env);
    let shown = stdout(&env.aiw(&["sessions", "show", "20261123-141502-a1b2"]));
    let out = env.aiw(&["sessions", "export", "20261123-141502-a1b2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim_end(), shown.trim_end());

    let file = env.dir.path().join("out.md");
    let out = env.aiw(&[
        "sessions",
        "export",
        "2026112",
        "-o",
        file.to_str().expect("utf-8 path"),
    ]);
    // `2026112` matches both sessions.
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("matches 2 sessions"),
        "{}",
        stderr(&out)
    );
    assert!(!file.exists());

    let out = env.aiw(&[
        "sessions",
        "export",
        "20261123",
        "-o",
        file.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    assert!(stderr(&out).contains("exported session 20261123-141502-a1b2"));
    let written = std::fs::read_to_string(&file).expect("exported file");
    assert_eq!(written.trim_end(), shown.trim_end());
    // No temporary file is left next to it.
    let names: Vec<_> = std::fs::read_dir(env.dir.path())
        .expect("dir")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| Path::new(n).extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(names.is_empty(), "{names:?}");

    let bad = env.dir.path().join("no/such/dir/out.md");
    let out = env.aiw(&[
        "sessions",
        "export",
        "20261123",
        "-o",
        bad.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
}

#[test]
fn rm_deletes_a_session() {
    let env = Env::new();
    two_sessions(&env);
    let out = env.aiw(&["sessions", "rm", "20261124"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("removed session 20261124-090000-c3d4"),
        "{}",
        stderr(&out)
    );
    assert!(!session_file(&env, "20261124-090000-c3d4").exists());
    assert!(session_file(&env, "20261123-141502-a1b2").exists());
    let list = stdout(&env.aiw(&["sessions", "list"]));
    assert!(!list.contains("20261124"), "{list}");
}

#[test]
fn unknown_ids_are_clear_errors_with_exit_code_2() {
    let env = Env::new();
    two_sessions(&env);
    for args in [
        &["sessions", "show", "1999"][..],
        &["sessions", "export", "1999"],
        &["sessions", "rm", "1999"],
    ] {
        let out = env.aiw(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("no saved session matches `1999`") && err.contains("aiw sessions list"),
            "{args:?}: {err}"
        );
        assert_eq!(stdout(&out), "");
    }
    let out = env.aiw(&["sessions", "show", "../../etc/passwd"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a session ID"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn damaged_files_are_salvaged_with_warnings() {
    let env = Env::new();
    two_sessions(&env);
    let path = session_file(&env, "20261123-141502-a1b2");
    let text = std::fs::read_to_string(&path).expect("read");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(2, "{\"type\": \"user\", \"te"); // a damaged line in the middle
    let mut damaged = lines.join("\n");
    damaged.push_str("\n{\"type\":\"user\",\"text\":\"torn"); // and a torn last line
    std::fs::write(&path, damaged).expect("write");

    let out = env.aiw(&["sessions", "show", "20261123"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("warning: session 20261123-141502-a1b2: line 3 is damaged and was skipped"),
        "{err}"
    );
    assert!(err.contains("line 6, the last, was cut off"), "{err}");
    let md = stdout(&out);
    assert!(md.contains("outlives the value."), "{md}");
    assert!(!md.contains("torn"), "{md}");
}

#[test]
fn a_file_in_the_sessions_dir_that_is_not_a_session_is_ignored() {
    let env = Env::new();
    two_sessions(&env);
    let dir = env.data_dir().join("sessions");
    std::fs::write(dir.join("notes.txt"), "hello").expect("write");
    std::fs::write(dir.join("bad name.jsonl"), "{}").expect("write");
    let out = env.aiw(&["sessions", "list", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert!(Path::new(&dir).join("notes.txt").exists());
}
