//! `aiw chat` from the outside: refusing to run without a terminal, and the end-to-end runs in
//! a real terminal (tmux) against the provider emulator: stream, failover banner, fallback
//! request carrying earlier turns, model switching keys, quit, resume; a pinned local
//! model answering with the cloud healthy and not one request sent to it; the skip key
//! leaving a silent model for the next; and `kill -9` in
//! the middle of a streamed answer, with what the session file kept of it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn aiw() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aiw"))
}

fn hermetic(cmd: &mut Command, home: &Path) {
    cmd.env("HOME", home)
        .env("AIW_CONFIG", home.join("config.toml"))
        .env("AIW_DATA_DIR", home.join("data"))
        .env("AIW_STATE_DIR", home.join("state"))
        .env("NO_COLOR", "1")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .env_remove("GEMINI_API_KEY")
        .env_remove("GOOGLE_API_KEY");
}

#[test]
fn chat_without_a_terminal_points_to_ask() {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = aiw();
    hermetic(&mut cmd, home.path());
    let out = cmd
        .arg("chat")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains("needs a terminal"), "{stderr}");
    assert!(stderr.contains("aiw ask"), "{stderr}");
    // Nothing was created: no empty session left behind.
    assert!(!home.path().join("data").join("sessions").exists());
}

struct Tmux {
    name: String,
}

impl Tmux {
    fn start(name: &str, command: &str) -> Self {
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                "100",
                "-y",
                "30",
                command,
            ])
            .status()
            .expect("tmux is installed");
        assert!(status.success());
        let _ = Command::new("tmux")
            .args(["set-option", "-t", name, "remain-on-exit", "on"])
            .status();
        Self { name: name.into() }
    }
    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.name];
        args.extend_from_slice(keys);
        assert!(
            Command::new("tmux")
                .args(&args)
                .status()
                .expect("tmux runs")
                .success()
        );
    }
    fn type_text(&self, text: &str) {
        assert!(
            Command::new("tmux")
                .args(["send-keys", "-t", &self.name, "-l", text])
                .status()
                .expect("tmux runs")
                .success()
        );
    }
    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
    /// Waits for the program in the pane to end; returns its exit status as tmux reports it
    /// (tmux 3.3 leaves it empty when the pty closes before it reaps the process).
    fn exit_status(&self) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let out = Command::new("tmux")
                .args([
                    "list-panes",
                    "-t",
                    &self.name,
                    "-F",
                    "#{pane_dead} #{pane_dead_status}",
                ])
                .output()
                .expect("tmux runs");
            let s = String::from_utf8_lossy(&out.stdout).into_owned();
            if let Some(status) = s.trim_end_matches('\n').strip_prefix("1 ") {
                return Some(status.trim().to_string());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
    fn wait_for(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.screen();
            if s.contains(needle) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {needle:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}

// The real binary in a real terminal (tmux) against the emulator; tmux is part of the test
// setup (scripts/setup-test-env.sh), so a machine without it fails here.
#[tokio::test(flavor = "multi_thread")]
async fn chat_end_to_end_in_tmux_with_failover_and_resume() {
    use aiw_emulator::{Action, Emulator, ErrorKind, Reply, Script};

    assert!(
        Command::new("tmux").arg("-V").output().is_ok(),
        "tmux is not installed: run scripts/setup-test-env.sh"
    );

    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "claude-opus-4-8",
        Script::always(Action::Reply(
            Reply::new("first answer from opus").chunk_chars(4),
        )),
    );
    emu.set_script("gpt-5.5", Script::reply("second answer from gpt"));
    let home = tempfile::tempdir().unwrap();
    let base = emu.base_url();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.anthropic]\nbase_url = \"{base}\"\napi_key_env = \"AIW_TEST_KEY\"\n\n\
             [providers.openai]\nbase_url = \"{base}/v1\"\napi_key_env = \"AIW_TEST_KEY\"\n\n\
             [routes]\ndefault = [\"anthropic/claude-opus-4-8\", \"openai/gpt-5.5\"]\n"
        ),
    )
    .unwrap();
    let h = home.path().display();
    let env = format!(
        "env HOME={h} AIW_CONFIG={h}/config.toml AIW_DATA_DIR={h}/data AIW_STATE_DIR={h}/state AIW_TEST_KEY=test NO_COLOR=1"
    );
    let bin = env!("CARGO_BIN_EXE_aiw");
    let name = format!("aiw-e2e-{}", std::process::id());

    let t = Tmux::start(&name, &format!("{env} {bin} chat"));
    t.wait_for("Type a message");
    t.type_text("hello there");
    t.keys(&["Enter"]);
    t.wait_for("first answer from opus");
    t.wait_for("anthropic/claude-opus-4-8");

    // The primary goes down mid-session.
    emu.set_script(
        "claude-opus-4-8",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    t.type_text("second question");
    t.keys(&["Enter"]);
    t.wait_for("second answer from gpt");
    let s = t.wait_for(": answering with openai/gpt-5.5");
    assert!(
        s.contains("anthropic/claude-opus-4-8 failed (529 overloaded)"),
        "{s}"
    );
    // The fallback got the whole conversation.
    let req = emu.requests_for("gpt-5.5").pop().expect("gpt was called");
    let texts = req.message_texts();
    assert!(texts.iter().any(|m| m.contains("hello there")), "{texts:?}");
    assert!(
        texts.iter().any(|m| m.contains("first answer from opus")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|m| m.contains("second question")),
        "{texts:?}"
    );

    // Model switching keys.
    t.keys(&["F2"]);
    t.wait_for("pinned");
    t.keys(&["F3"]);
    t.wait_for("auto routing");

    // Quit (Ctrl+C twice) and resume.
    t.keys(&["C-c"]);
    t.wait_for("again to quit");
    t.keys(&["C-c"]);
    let status = t.exit_status().expect("aiw chat quits after Ctrl+C twice");
    assert!(status == "0" || status.is_empty(), "exit status {status}");
    drop(t);

    let t = Tmux::start(
        &format!("{name}-2"),
        &format!("{env} {bin} chat --continue"),
    );
    let s = t.wait_for("second answer from gpt");
    assert!(
        s.contains("hello there") || t.screen().contains("second question"),
        "{s}"
    );
    t.keys(&["C-d"]);
}

// The skip key in the real chat: a silent primary is left at once for the next model, and
// the transcript says who skipped it.
#[tokio::test(flavor = "multi_thread")]
async fn the_skip_key_leaves_a_silent_model_for_the_next_at_once() {
    use aiw_emulator::{Action, Emulator, Script};

    let emu = Emulator::start().await.unwrap();
    emu.set_script("claude-opus-4-8", Script::always(Action::Hang));
    emu.set_script("gpt-5.5", Script::reply("answer from gpt"));
    let home = tempfile::tempdir().unwrap();
    let base = emu.base_url();
    // A first-token limit far beyond the wait below: only the key can move the answer on.
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.anthropic]\nbase_url = \"{base}\"\napi_key_env = \"AIW_TEST_KEY\"\n\n\
             [providers.openai]\nbase_url = \"{base}/v1\"\napi_key_env = \"AIW_TEST_KEY\"\n\n\
             [routes]\ndefault = [\"anthropic/claude-opus-4-8\", \"openai/gpt-5.5\"]\n\n\
             [timeouts]\nfirst_token = \"300s\"\ntotal = \"600s\"\n"
        ),
    )
    .unwrap();
    let h = home.path().display();
    let env = format!(
        "env HOME={h} AIW_CONFIG={h}/config.toml AIW_DATA_DIR={h}/data AIW_STATE_DIR={h}/state AIW_TEST_KEY=test NO_COLOR=1"
    );
    let bin = env!("CARGO_BIN_EXE_aiw");
    let t = Tmux::start(
        &format!("aiw-skip-{}", std::process::id()),
        &format!("{env} {bin} chat"),
    );
    t.wait_for("Type a message");
    t.type_text("hello there");
    t.keys(&["Enter"]);
    t.wait_for("F4 skips a silent model");
    while emu.count("claude-opus-4-8") == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    t.keys(&["F4"]);
    let s = t.wait_for("answer from gpt");
    assert!(s.contains("skipped anthropic/claude-opus-4-8 after"), "{s}");
    assert!(s.contains("(you pressed F4)"), "{s}");
    // A skip is not a failure: no banner says the primary failed or is down.
    assert!(!s.contains("failed"), "{s}");
    t.keys(&["C-d"]);
}

// A pinned local model answers while every cloud model is healthy, and not one request
// reaches the cloud (the emulator records none).
#[cfg(feature = "local")]
#[tokio::test(flavor = "multi_thread")]
async fn a_pinned_local_model_answers_locally_while_the_cloud_is_healthy() {
    use aiw_emulator::{Emulator, Script};

    let model = crate::support::test_model();
    let _lock = crate::local_route::MODEL_LOCK.lock().await;
    let emu = Emulator::start().await.unwrap();
    emu.set_script("claude-opus-4-8", Script::reply("CLOUD ANSWER FROM OPUS"));
    emu.set_script("gpt-5.5", Script::reply("CLOUD ANSWER FROM GPT"));
    let home = tempfile::tempdir().unwrap();
    let base = emu.base_url();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.anthropic]\nbase_url = \"{base}\"\napi_key_env = \"AIW_TEST_KEY\"\n\n\
             [providers.openai]\nbase_url = \"{base}/v1\"\napi_key_env = \"AIW_TEST_KEY\"\n\n\
             [providers.local]\nmodel = \"{}\"\nthreads = 2\ncontext_size = 1024\n\n\
             [routes]\ndefault = [\"anthropic/claude-opus-4-8\", \"openai/gpt-5.5\", \"local/default\"]\n",
            model.display()
        ),
    )
    .unwrap();
    let h = home.path().display();
    let env = format!(
        "env HOME={h} AIW_CONFIG={h}/config.toml AIW_DATA_DIR={h}/data AIW_STATE_DIR={h}/state AIW_TEST_KEY=test NO_COLOR=1"
    );
    let bin = env!("CARGO_BIN_EXE_aiw");
    let name = format!("aiw-pin-{}", std::process::id());
    let t = Tmux::start(&name, &format!("{env} {bin} chat -m local/default"));
    t.wait_for("Type a message");
    t.type_text("Name one colour.");
    t.keys(&["Enter"]);
    // The answer is done when the session file holds it.
    let sessions = home.path().join("data").join("sessions");
    let deadline = Instant::now() + Duration::from_secs(240);
    let record = loop {
        let text = std::fs::read_dir(&sessions)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .find(|t| t.contains("\"answer\""));
        if let Some(t) = text {
            break t;
        }
        assert!(
            Instant::now() < deadline,
            "no answer recorded; screen:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(record.contains("local/default"), "{record}");
    assert!(!record.contains("CLOUD ANSWER"), "{record}");
    let s = t.screen();
    assert!(!s.contains("CLOUD ANSWER"), "{s}");
    assert!(!s.contains("is down"), "{s}");
    assert_eq!(
        emu.requests().len(),
        0,
        "a pinned local model sent the prompt to the cloud"
    );
    t.keys(&["C-d"]);
}

// The crash-safety claim of the README, measured: `aiw chat` streams a long answer that stops
// after a known number of chunks (the emulator then holds the stream open), the process gets
// SIGKILL while the whole of it is on screen, and the session file must hold all but less
// than `CHECKPOINT_BYTES` of it, marked partial. Counted in bytes, not time.
#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_answer_loses_less_than_the_checkpoint_size() {
    use aiw::session::store::SessionStore;
    use aiw::tui::app::checkpoint::CHECKPOINT_BYTES;
    use aiw_emulator::{Action, Emulator, Reply, Script, StreamFault};

    const CHUNK: usize = 24;
    const SENT: usize = 100;
    // Words of 6 bytes ("w0001 "), 4 to a chunk; the stream stalls after SENT chunks.
    let words: Vec<String> = (1..=SENT * 2 * CHUNK / 6)
        .map(|i| format!("w{i:04}"))
        .collect();
    let text = words.join(" ") + " ";
    let shown = &text[..SENT * CHUNK];
    let last_word = &words[SENT * CHUNK / 6 - 1];

    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "claude-opus-4-8",
        Script::always(Action::Reply(
            Reply::new(&text)
                .chunk_chars(CHUNK)
                .interval(Duration::from_millis(3))
                .fault(StreamFault::StallAfter { chunks: SENT }),
        )),
    );
    let home = tempfile::tempdir().unwrap();
    let base = emu.base_url();
    std::fs::write(
        home.path().join("config.toml"),
        format!(
            "[providers.anthropic]\nbase_url = \"{base}\"\napi_key_env = \"AIW_TEST_KEY\"\n\n\
             [routes]\ndefault = [\"anthropic/claude-opus-4-8\"]\n"
        ),
    )
    .unwrap();
    let h = home.path().display();
    let env = format!(
        "env HOME={h} AIW_CONFIG={h}/config.toml AIW_DATA_DIR={h}/data AIW_STATE_DIR={h}/state AIW_TEST_KEY=test NO_COLOR=1"
    );
    let bin = env!("CARGO_BIN_EXE_aiw");
    let name = format!("aiw-kill-{}", std::process::id());
    let t = Tmux::start(&name, &format!("{env} {bin} chat"));
    t.wait_for("Type a message");
    t.type_text("write a long answer");
    t.keys(&["Enter"]);
    // All SENT chunks are on screen, so the chat has handled every one of them.
    t.wait_for(last_word);
    let out = Command::new("tmux")
        .args(["list-panes", "-t", &name, "-F", "#{pane_pid}"])
        .output()
        .expect("tmux runs");
    let pid = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        Command::new("kill")
            .args(["-9", &pid])
            .status()
            .expect("kill runs")
            .success()
    );
    t.exit_status().expect("aiw chat dies on SIGKILL");

    let store = SessionStore::new(&home.path().join("data"));
    let saved_sessions = store.list().unwrap();
    assert_eq!(saved_sessions.len(), 1, "{saved_sessions:?}");
    let (session, _) = store.load(&saved_sessions[0].id).unwrap();
    let answer = session
        .turns
        .last()
        .and_then(|t| t.answer.as_ref())
        .expect("the checkpoints load as a partial answer");
    assert!(answer.partial);
    let saved = answer.text();
    assert!(
        shown.starts_with(&saved),
        "saved text is not a prefix of what was shown"
    );
    let lost = shown.len() - saved.len();
    eprintln!(
        "kill -9 after {SENT} chunks ({} bytes on screen): {} bytes saved, {lost} lost (bound: < {CHECKPOINT_BYTES})",
        shown.len(),
        saved.len()
    );
    assert!(
        lost < CHECKPOINT_BYTES,
        "kill -9 lost {lost} of {} bytes on screen",
        shown.len()
    );
}
