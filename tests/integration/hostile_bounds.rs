//! Hostile servers and hostile inputs against the real binary, with canary secrets in the
//! environment: a provider that redirects to an "attacker" emulator (which must receive
//! nothing), endless answers, an endless SSE line, the total time limit, garbage and endless
//! diffs, a diff past the chunk budget, output paths that are links or devices, private state
//! files and truncated GGUF imports. After each run no canary may be in stdout, stderr, any
//! output file, log, journal or state file, or in a request body any server received.

mod server;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use aiw_emulator::{Emulator, Script};
use server::{Behaviour, Server};

use crate::util::{EMULATOR_KEY, Sandbox, code, describe, stderr, stdout};

/// Secret-looking variables set for every run, with canary values.
const CANARIES: &[(&str, &str)] = &[
    ("GITHUB_TOKEN", "ghp_canaryGITHUB0123456789abcdefABCDEF"),
    (
        "AWS_SECRET_ACCESS_KEY",
        "canary/AWS+secret+0123456789abcdef",
    ),
    ("MY_SERVICE_PASSWORD", "canary-password-0123456789"),
    ("CI_JOB_TOKEN", "canary-ci-job-token-0123456789"),
];

/// Every canary, the provider key included.
fn all_canaries() -> Vec<&'static str> {
    let mut v: Vec<&str> = CANARIES.iter().map(|(_, v)| *v).collect();
    v.push(EMULATOR_KEY);
    v
}

/// `aiw` in the sandbox, with the canary variables set.
fn aiw(sb: &Sandbox, args: &[&str]) -> Command {
    let mut cmd = sb.aiw();
    for (k, v) in CANARIES {
        cmd.env(k, v);
    }
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    cmd
}

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("aiw runs"))
        .await
        .expect("join")
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(rd) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// No canary in the run's output, nor in any file of the sandbox (outputs, log, journal,
/// health, queue, sessions).
fn assert_no_canary(sb: &Sandbox, out: &Output) {
    for c in all_canaries() {
        assert!(!stdout(out).contains(c), "{c} on stdout\n{}", describe(out));
        assert!(!stderr(out).contains(c), "{c} on stderr\n{}", describe(out));
        for f in files_under(sb.root()) {
            let bytes = std::fs::read(&f).unwrap_or_default();
            assert!(
                !String::from_utf8_lossy(&bytes).contains(c),
                "{c} in {}",
                f.display()
            );
        }
    }
}

/// Request texts as a server received them must carry none of the environment's canaries
/// (the provider key belongs in the header of the provider it was configured for, and in no
/// body).
fn assert_bodies_clean<'a>(bodies: impl IntoIterator<Item = &'a [u8]>) {
    for b in bodies {
        let text = String::from_utf8_lossy(b);
        for c in all_canaries() {
            assert!(!text.contains(c), "{c} in a request body: {text}");
        }
    }
}

/// Just the body of a raw HTTP request the hostile server recorded.
fn body_of(raw: &str) -> &[u8] {
    raw.split_once("\r\n\r\n")
        .map_or(raw, |(_, b)| b)
        .as_bytes()
}

/// A diff file outside the sandbox that contains every canary.
fn canary_diff(dir: &Path) -> PathBuf {
    let mut body = String::new();
    for (i, c) in all_canaries().iter().enumerate() {
        let _ = writeln!(body, "+const SECRET_{i}: &str = \"{c}\";");
    }
    let n = all_canaries().len();
    let diff = format!(
        "diff --git a/src/keys.rs b/src/keys.rs\n--- a/src/keys.rs\n+++ b/src/keys.rs\n@@ -1,1 +1,{} @@\n fn keys() {{}}\n{body}",
        n + 1
    );
    let p = dir.join("canary.diff");
    std::fs::write(&p, diff).expect("write diff");
    p
}

const FAST: &str =
    "[timeouts]\nconnect = \"2s\"\nfirst_token = \"10s\"\nstall = \"10s\"\ntotal = \"30s\"\n";

// See: issue 13 ("Redirects forward keys": a 307 carried x-api-key and x-goog-api-key along).
#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_to_another_host_forwards_nothing() {
    let attacker = Emulator::start().await.expect("attacker emulator");
    let redirector = Server::start(Behaviour::Redirect {
        location: format!("{}/v1/messages?token=QUERYSECRET", attacker.base_url()),
    });
    let sb = Sandbox::new();
    sb.write_emulator_config(
        &redirector.base_url(),
        &["anthropic/a", "openai/o", "gemini/g"],
        FAST,
    );
    let inputs = tempfile::tempdir().expect("tempdir");
    let diff = canary_diff(inputs.path());
    let prompt = format!("my token is {} please keep it", CANARIES[0].1);

    let out = run(aiw(&sb, &["--debug", "ask", &prompt])).await;
    assert_eq!(code(&out), Some(3), "{}", describe(&out));
    let err = stderr(&out);
    let origin = attacker.base_url();
    assert!(
        err.contains(&format!("307 redirect to {origin}")),
        "the error names the target's origin: {err}"
    );
    assert!(err.contains("does not follow redirects"), "{err}");
    assert!(!err.contains("QUERYSECRET"), "no query string shown: {err}");
    assert_no_canary(&sb, &out);

    let out = run(aiw(&sb, &["--debug", "status", "--probe"])).await;
    assert_no_canary(&sb, &out);
    let out = run(aiw(
        &sb,
        &["--debug", "review", "--diff", diff.to_str().expect("utf-8")],
    ))
    .await;
    assert_no_canary(&sb, &out);

    assert!(
        attacker.requests().is_empty(),
        "the attacker got {} request(s)",
        attacker.requests().len()
    );
    let seen = redirector.requests();
    assert!(seen.len() >= 3, "each protocol was tried: {}", seen.len());
    assert_bodies_clean(seen.iter().map(|r| body_of(r)));
}

// See: issue 13 ("Nothing is scrubbed from request bodies, findings or CI outputs").
#[tokio::test(flavor = "multi_thread")]
async fn canaries_in_the_env_and_the_diff_reach_no_request_and_no_output() {
    let emu = Emulator::start().await.expect("emulator");
    // A model that answers with the secrets (as if it had learnt them elsewhere).
    let leak = all_canaries().join(" ");
    emu.set_script(
        "reviewer",
        Script::reply(&format!(
            r#"[{{"file": "src/keys.rs", "start_line": 2, "end_line": 2, "severity": "error", "title": "hard-coded key {leak}", "explanation": "{leak}", "suggestion": "{leak}"}}]"#
        )),
    );
    let sb = Sandbox::new();
    sb.write_emulator_config(&emu.base_url(), &["anthropic/reviewer"], FAST);
    let inputs = tempfile::tempdir().expect("tempdir");
    let diff = canary_diff(inputs.path());
    let home = sb.home();
    let (summary, outputs) = (home.join("summary.md"), home.join("outputs.txt"));
    let mut cmd = aiw(
        &sb,
        &[
            "--debug",
            "review",
            "--diff",
            diff.to_str().expect("utf-8"),
            "--json",
            "r.json",
            "--sarif",
            "r.sarif",
            "--rdjson",
            "r.rdjson",
            "--gitlab",
            "gl.json",
        ],
    );
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_OUTPUT", &outputs);
    let out = run(cmd).await;
    assert_eq!(
        code(&out),
        Some(1),
        "the finding fails the step\n{}",
        describe(&out)
    );
    assert!(
        stdout(&out).contains("::error file=src/keys.rs"),
        "{}",
        describe(&out)
    );
    for f in [
        "r.json",
        "r.sarif",
        "r.rdjson",
        "gl.json",
        "summary.md",
        "outputs.txt",
    ] {
        assert!(home.join(f).is_file(), "{f} written");
    }
    assert!(
        std::fs::read_to_string(home.join("r.json"))
            .expect("json")
            .contains("[REDACTED]")
    );
    assert_no_canary(&sb, &out);
    let reqs = emu.requests();
    assert_eq!(reqs.len(), 1);
    assert_bodies_clean(reqs.iter().map(|r| r.body.as_slice()));
    assert!(String::from_utf8_lossy(&reqs[0].body).contains("[REDACTED]"));
    let log = std::fs::read_to_string(sb.state_dir().join("aiw.log")).expect("debug log");
    assert!(log.contains("request"), "bodies are logged under --debug");

    // `aiw ask` with a canary in the prompt: the body sent is scrubbed too.
    emu.clear_requests();
    let prompt = format!("what is {}?", CANARIES[1].1);
    let out = run(aiw(
        &sb,
        &["--debug", "ask", "-m", "anthropic/reviewer", &prompt],
    ))
    .await;
    assert_no_canary(&sb, &out);
    assert_bodies_clean(emu.requests().iter().map(|r| r.body.as_slice()));
}

fn endless_config(sb: &Sandbox, server: &Server, route: &[&str], extra: &str) {
    sb.write_emulator_config(&server.base_url(), route, extra);
}

// See: issue 13 ("A never-ending stream grew to 2.8 GB (7.8 GB with --json)").
#[tokio::test(flavor = "multi_thread")]
async fn a_never_ending_answer_is_cut_at_the_answer_limit() {
    let server = Server::start(Behaviour::EndlessAnswer {
        piece: 4096,
        interval: Duration::ZERO,
        max_bytes: Some(256 * 1024 * 1024),
    });
    let sb = Sandbox::new();
    endless_config(
        &sb,
        &server,
        &["anthropic/endless"],
        &format!("{FAST}\n[limits]\nanswer = \"256 KiB\"\n"),
    );
    let out = run(aiw(&sb, &["ask", "hi"])).await;
    assert_eq!(code(&out), Some(4), "a partial answer\n{}", stderr(&out));
    assert!(stderr(&out).contains("[limits] answer"), "{}", stderr(&out));
    assert!(
        stdout(&out).len() <= 256 * 1024 + 1,
        "{}",
        stdout(&out).len()
    );
    let out = run(aiw(&sb, &["ask", "--json", "hi"])).await;
    assert_eq!(code(&out), Some(4), "{}", stderr(&out));
    let j: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    assert_eq!(j["partial"], true);
    assert!(
        j["error"]
            .as_str()
            .unwrap_or("")
            .contains("[limits] answer"),
        "{j}"
    );
    // aiw stopped reading: the server could only push what the sockets buffer.
    assert!(
        server.bytes_sent() < 64 * 1024 * 1024,
        "{} bytes sent",
        server.bytes_sent()
    );
    assert_no_canary(&sb, &out);
}

// See: issue 13 ("`total` applies to the whole call, always").
#[tokio::test(flavor = "multi_thread")]
async fn a_never_ending_answer_ends_at_the_total_time_limit_for_the_whole_call() {
    let server = Server::start(Behaviour::EndlessAnswer {
        piece: 16,
        interval: Duration::from_millis(20),
        max_bytes: None,
    });
    let sb = Sandbox::new();
    endless_config(
        &sb,
        &server,
        &["anthropic/one", "anthropic/two"],
        "[timeouts]\nconnect = \"2s\"\nfirst_token = \"20s\"\nstall = \"20s\"\ntotal = \"1500ms\"\n",
    );
    let out = run(aiw(&sb, &["ask", "--json", "hi"])).await;
    assert_eq!(code(&out), Some(4), "{}", describe(&out));
    let j: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(j["partial"], true);
    let attempts = j["attempts"].as_array().expect("attempts");
    assert_eq!(
        attempts.len(),
        1,
        "no second model after the total is spent: {j}"
    );
    assert_eq!(attempts[0]["error_class"], "total_timeout");
    assert!(
        attempts[0]["error"]
            .as_str()
            .unwrap_or("")
            .contains("answer cut at the total time limit"),
        "{j}"
    );
    assert_eq!(server.requests().len(), 1);
}

// See: issue 13 ("one 2 GB SSE line used 6.1 GB").
#[tokio::test(flavor = "multi_thread")]
async fn a_giant_sse_line_is_refused() {
    let server = Server::start(Behaviour::GiantLine {
        max_bytes: Some(256 * 1024 * 1024),
    });
    let sb = Sandbox::new();
    endless_config(&sb, &server, &["anthropic/line"], FAST);
    let out = run(aiw(&sb, &["ask", "hi"])).await;
    assert_eq!(code(&out), Some(3), "{}", describe(&out));
    assert!(
        stderr(&out).contains("larger than 4 MiB"),
        "{}",
        stderr(&out)
    );
    assert!(
        server.bytes_sent() < 64 * 1024 * 1024,
        "{}",
        server.bytes_sent()
    );
}

fn review_sandbox(emu: &Emulator, extra: &str) -> Sandbox {
    let sb = Sandbox::new();
    sb.write_emulator_config(
        &emu.base_url(),
        &["anthropic/reviewer"],
        &format!("{FAST}\n{extra}"),
    );
    sb
}

// See: issue 13 ("random bytes as --diff count as an empty diff (exit 0)").
#[tokio::test(flavor = "multi_thread")]
async fn garbage_diffs_are_errors_and_empty_ones_are_not() {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script("reviewer", Script::reply("[]"));
    let sb = review_sandbox(&emu, "");
    let inputs = tempfile::tempdir().expect("tempdir");
    let junk = inputs.path().join("junk.bin");
    let bytes: Vec<u8> = (0..65_536u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    std::fs::write(&junk, &bytes).expect("write");
    let out = run(aiw(
        &sb,
        &["review", "--diff", junk.to_str().expect("utf-8")],
    ))
    .await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("is not a unified diff"),
        "{}",
        stderr(&out)
    );

    let mut cmd = aiw(&sb, &["review", "--diff", "-"]);
    cmd.stdin(Stdio::piped());
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("spawn");
        let mut stdin = child.stdin.take().expect("stdin");
        let _ = std::io::Write::write_all(&mut stdin, &bytes);
        drop(stdin);
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("join");
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("diff from stdin is not a unified diff"),
        "{}",
        stderr(&out)
    );

    let empty = inputs.path().join("empty.diff");
    std::fs::write(&empty, "").expect("write");
    let out = run(aiw(
        &sb,
        &["review", "--diff", empty.to_str().expect("utf-8")],
    ))
    .await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert!(
        stdout(&out).contains("the diff is empty"),
        "{}",
        stdout(&out)
    );
    assert_eq!(emu.requests().len(), 0);
}

// See: issue 13 ("--diff /dev/zero grew to 6.5 GB ignoring --timeout").
#[tokio::test(flavor = "multi_thread")]
async fn endless_diffs_stop_at_the_size_limit_and_the_timeout() {
    let emu = Emulator::start().await.expect("emulator");
    let sb = review_sandbox(&emu, "[limits]\ndiff = \"1 MiB\"\n");
    let out = run(aiw(&sb, &["review", "--diff", "/dev/zero"])).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("larger than the 1 MiB limit (`[limits] diff`"),
        "{}",
        stderr(&out)
    );

    // A pipe nobody ever writes to: --timeout ends the wait.
    let inputs = tempfile::tempdir().expect("tempdir");
    let fifo = inputs.path().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(made.success());
    let out = run(aiw(
        &sb,
        &[
            "review",
            "--timeout",
            "2s",
            "--diff",
            fifo.to_str().expect("utf-8"),
        ],
    ))
    .await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("did not finish within the --timeout"),
        "{}",
        stderr(&out)
    );
    assert_eq!(emu.requests().len(), 0);
}

// See: issue 13 ("Past 100 chunks, 7,741 of 7,841 files were skipped while the result said
// complete").
#[tokio::test(flavor = "multi_thread")]
async fn a_diff_past_the_chunk_budget_is_partial_in_every_output() {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script("reviewer", Script::reply("[]"));
    // A small context window makes every file its own chunk; the budget takes two.
    let sb = Sandbox::new();
    sb.write_emulator_config(
        &emu.base_url(),
        &["anthropic/reviewer"],
        &format!("{FAST}\n[review]\nmax_chunks = 2\n"),
    );
    let cfg = std::fs::read_to_string(sb.config_file()).expect("config");
    std::fs::write(
        sb.config_file(),
        cfg.replacen(
            "[providers.anthropic]\n",
            "[providers.anthropic]\ncontext_window = 1000\n",
            1,
        ),
    )
    .expect("config");
    let inputs = tempfile::tempdir().expect("tempdir");
    let mut diff = String::new();
    for i in 0..6 {
        let line = "a".repeat(450);
        let _ = write!(
            diff,
            "diff --git a/f{i}.rs b/f{i}.rs\n--- a/f{i}.rs\n+++ b/f{i}.rs\n@@ -1 +1 @@\n-x\n+{line}\n"
        );
    }
    let p = inputs.path().join("six.diff");
    std::fs::write(&p, diff).expect("write");
    let outputs = sb.home().join("outputs.txt");
    let mut cmd = aiw(
        &sb,
        &[
            "review",
            "--diff",
            p.to_str().expect("utf-8"),
            "--json",
            "r.json",
        ],
    );
    cmd.env("GITHUB_ACTIONS", "true")
        .env("GITHUB_OUTPUT", &outputs);
    let out = run(cmd).await;
    assert_eq!(code(&out), Some(4), "{}", describe(&out));
    assert!(
        stdout(&out)
            .contains("2 of 6 files reviewed; 4 files over the chunk budget; 0 lines truncated."),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("::warning title=aiw review partial::"),
        "{}",
        stdout(&out)
    );
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.home().join("r.json")).expect("json"))
            .expect("JSON");
    assert_eq!(j["status"], "partial");
    assert_eq!(j["coverage"]["files_over_budget"], 4);
    let o = std::fs::read_to_string(&outputs).expect("outputs");
    assert!(o.contains("partial<<") && o.contains("\ntrue\n"), "{o}");
    assert_eq!(emu.requests().len(), 2);
}

// See: issue 13 ("output paths replace whatever is there (symlinks, device nodes)").
#[tokio::test(flavor = "multi_thread")]
async fn output_paths_must_be_regular_files_or_stdout() {
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script("reviewer", Script::reply("[]"));
    let sb = review_sandbox(&emu, "");
    let inputs = tempfile::tempdir().expect("tempdir");
    let diff = inputs.path().join("one.diff");
    std::fs::write(
        &diff,
        "diff --git a/a.rs b/a.rs\n--- a/a.rs\n+++ b/a.rs\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .expect("write");
    let victim = inputs.path().join("victim");
    std::fs::write(&victim, "precious").expect("write");
    let link = sb.home().join("link.json");
    std::os::unix::fs::symlink(&victim, &link).expect("symlink");
    let d = diff.to_str().expect("utf-8");
    let out = run(aiw(&sb, &["review", "--diff", d, "--json", "link.json"])).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("symbolic link"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
    let out = run(aiw(&sb, &["review", "--diff", d, "--sarif", "/dev/null"])).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("not a regular file"),
        "{}",
        stderr(&out)
    );
    let out = run(aiw(&sb, &["review", "--diff", d, "--json", "-"])).await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let j: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("stdout is the JSON");
    assert_eq!(j["status"], "complete");
    assert!(
        stderr(&out).contains("Reviewed by anthropic/reviewer."),
        "{}",
        stderr(&out)
    );
}

// See: issue 13 ("sessions, logs, journal and health files are world-readable (0644)").
#[tokio::test(flavor = "multi_thread")]
async fn state_files_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let emu = Emulator::start().await.expect("emulator");
    emu.set_script("m", Script::reply("hello"));
    let sb = Sandbox::new();
    sb.write_emulator_config(&emu.base_url(), &["anthropic/m"], FAST);
    let state = sb.root().join("fresh/state");
    let mut cmd = aiw(&sb, &["--debug", "ask", "hi"]);
    cmd.env("AIW_STATE_DIR", &state);
    let out = run(cmd).await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let mode = |p: &Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(&state), 0o700);
    for f in ["aiw.log", "journal.jsonl", "health.json", "health.lock"] {
        assert_eq!(mode(&state.join(f)), 0o600, "{f}");
    }
}

/// GGUF v3 bytes: one metadata entry (`general.alignment` = 32) and one F32 tensor of 64
/// elements (256 bytes of data).
fn tiny_gguf() -> Vec<u8> {
    let mut b = b"GGUF".to_vec();
    b.extend_from_slice(&3u32.to_le_bytes());
    b.extend_from_slice(&1u64.to_le_bytes()); // tensors
    b.extend_from_slice(&1u64.to_le_bytes()); // metadata entries
    let key = "general.alignment";
    b.extend_from_slice(&(key.len() as u64).to_le_bytes());
    b.extend_from_slice(key.as_bytes());
    b.extend_from_slice(&4u32.to_le_bytes()); // u32
    b.extend_from_slice(&32u32.to_le_bytes());
    let name = "w";
    b.extend_from_slice(&(name.len() as u64).to_le_bytes());
    b.extend_from_slice(name.as_bytes());
    b.extend_from_slice(&1u32.to_le_bytes()); // dims
    b.extend_from_slice(&64u64.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes()); // F32
    b.extend_from_slice(&0u64.to_le_bytes()); // offset
    b.resize(b.len().div_ceil(32) * 32, 0);
    b.extend_from_slice(&[0u8; 256]);
    b
}

// See: issue 13 ("`aiw model import` installs truncated GGUF files").
#[tokio::test(flavor = "multi_thread")]
async fn model_import_refuses_a_truncated_gguf() {
    let sb = Sandbox::new();
    let inputs = tempfile::tempdir().expect("tempdir");
    let whole = inputs.path().join("tiny.gguf");
    let bytes = tiny_gguf();
    std::fs::write(&whole, &bytes).expect("write");
    let cut = inputs.path().join("cut.gguf");
    std::fs::write(&cut, &bytes[..bytes.len() - 1]).expect("write");
    let out = run(aiw(&sb, &["model", "import", cut.to_str().expect("utf-8")])).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("truncated"), "{}", stderr(&out));
    assert!(!sb.data_dir().join("models/cut.gguf").exists());
    let out = run(aiw(
        &sb,
        &["model", "import", whole.to_str().expect("utf-8")],
    ))
    .await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert!(sb.data_dir().join("models/tiny.gguf").is_file());
}
