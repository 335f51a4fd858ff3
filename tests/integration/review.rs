//! `aiw review` and `aiw queue` end to end: the real binary on fixture diffs against the
//! provider emulator. Primary reviews; primary down so the fallback reviews (degraded in every
//! output); everything down under each `--on-unavailable` policy; the queue replayed when a
//! model is back; wrap mode with a command that fails like an outage and one that fails for
//! its own reasons; the `--timeout` flush; exit codes and usage errors.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use aiw_emulator::{Action, Emulator, ErrorKind, Script};
use serde_json::Value;

use crate::support::{ANTHROPIC_KEY, OPENAI_KEY, aiw, run_aiw as run};
use crate::util::git;

const FINDINGS: &str = r#"Here is my review:
```json
[{"file": "src/lib.rs", "start_line": 13, "end_line": 13, "severity": "error", "title": "unwrap on a fallible result", "explanation": "compute can fail; this panics in production.", "suggestion": "    let y = x?;"}]
```"#;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diffs")
        .join(name)
}

/// Config with route `review` = primary (anthropic) then fallback (openai), both on the
/// emulator; generous first-token timeout so the `--timeout` test controls the clock.
fn setup(emu: &Emulator, dir: &Path) {
    let base = emu.base_url();
    let text = format!(
        r#"
[providers.anthropic]
base_url = "{base}"
[providers.openai]
base_url = "{base}/v1"
[routes]
review = ["anthropic/primary", "openai/fallback"]
[timeouts]
connect = "1s"
first_token = "30s"
stall = "30s"
total = "60s"
[health]
base_open = "100ms"
max_open = "200ms"
max_retry_wait = "100ms"
"#
    );
    std::fs::write(dir.join("config.toml"), text).expect("write config");
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("output file")).expect("valid JSON")
}

fn no_keys(o: &Output) {
    for k in [ANTHROPIC_KEY, OPENAI_KEY] {
        assert!(
            !stdout(o).contains(k) && !stderr(o).contains(k),
            "a key was printed"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn primary_reviews_and_findings_fail_the_step() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply(FINDINGS));
    let json = dir.path().join("review.json");
    let diff = fixture("simple.diff");
    let args = [
        "review",
        "--diff",
        diff.to_str().expect("utf8"),
        "--json",
        json.to_str().expect("utf8"),
    ];
    let o = run(dir.path(), &args, &[]).await;
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("aiw review: Reviewed by anthropic/primary."),
        "{out}"
    );
    assert!(
        out.contains("src/lib.rs:13: error: unwrap on a fallible result"),
        "{out}"
    );
    let j = read_json(&json);
    assert_eq!(j["degraded"], false);
    assert_eq!(j["status"], "complete");
    assert_eq!(j["findings"][0]["in_diff"], true);
    assert_eq!(emu.count("primary"), 1);
    assert_eq!(emu.count("fallback"), 0);
    let req = &emu.requests_for("primary")[0];
    assert!(
        req.system_text()
            .is_some_and(|s| s.contains("Answer with ONLY a JSON array"))
    );
    assert!(
        req.message_texts()
            .iter()
            .any(|m| m.contains("let y = x.unwrap();"))
    );
    no_keys(&o);

    let o = run(
        dir.path(),
        &[&args[..], &["--fail-on", "never"]].concat(),
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn primary_down_fallback_reviews_and_degraded_is_reported_everywhere() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script("fallback", Script::reply(FINDINGS));
    let p = |n: &str| dir.path().join(n);
    let diff = fixture("simple.diff");
    let summary = p("summary.md");
    let outputs = p("outputs.txt");
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            diff.to_str().expect("utf8"),
            "--json",
            p("r.json").to_str().expect("utf8"),
            "--sarif",
            p("r.sarif").to_str().expect("utf8"),
            "--rdjson",
            p("r.rdjson").to_str().expect("utf8"),
            "--gitlab",
            p("gl.json").to_str().expect("utf8"),
            "--fail-on",
            "never",
        ],
        &[
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
            ("GITHUB_OUTPUT", outputs.display().to_string()),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("DEGRADED review: reviewed by openai/fallback (a fallback model; anthropic/primary was unavailable)"), "{out}");
    assert!(
        out.contains("::warning title=aiw review degraded::"),
        "{out}"
    );
    assert!(
        out.contains(
            "::error file=src/lib.rs,line=13,endLine=13,title=unwrap on a fallible result::"
        ),
        "{out}"
    );
    assert_eq!(read_json(&p("r.json"))["degraded"], true);
    assert_eq!(read_json(&p("r.json"))["model"], "openai/fallback");
    assert_eq!(
        read_json(&p("r.sarif"))["runs"][0]["properties"]["degraded"],
        true
    );
    assert!(
        std::fs::read_to_string(p("r.rdjson"))
            .expect("rdjson")
            .contains("DEGRADED")
    );
    assert!(
        std::fs::read_to_string(p("gl.json"))
            .expect("gitlab")
            .contains("DEGRADED")
    );
    assert!(
        std::fs::read_to_string(&summary)
            .expect("summary")
            .contains("DEGRADED review")
    );
    let gh = std::fs::read_to_string(&outputs).expect("outputs");
    assert!(gh.contains("degraded<<") && gh.contains("\ntrue\n"), "{gh}");
    assert!(gh.contains("\nopenai/fallback\n"), "{gh}");
    no_keys(&o);
}

#[tokio::test(flavor = "multi_thread")]
async fn everything_down_follows_the_on_unavailable_policy() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    for m in ["primary", "fallback"] {
        emu.set_script(m, Script::always(Action::error(ErrorKind::Overloaded)));
    }
    let diff = fixture("simple.diff");
    let d = diff.to_str().expect("utf8");
    let msg = "review skipped: all models unavailable, flag for manual review";
    let summary = dir.path().join("summary.md");
    let sarif = dir.path().join("r.sarif");
    let gh = [
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
    ];
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            d,
            "--sarif",
            sarif.to_str().expect("utf8"),
        ],
        &gh,
    )
    .await;
    assert_eq!(o.status.code(), Some(75), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains(msg));
    assert!(stdout(&o).contains(&format!("::warning title=aiw review skipped::{msg}")));
    assert!(
        std::fs::read_to_string(&summary)
            .expect("summary")
            .contains(msg)
    );
    assert!(
        std::fs::read_to_string(&sarif)
            .expect("sarif")
            .contains(msg)
    );

    let o = run(
        dir.path(),
        &["review", "--diff", d, "--on-unavailable", "warn"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains(msg));
    let o = run(
        dir.path(),
        &["review", "--diff", d, "--on-unavailable", "fail"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains(msg));

    let o = run(
        dir.path(),
        &["review", "--diff", d, "--on-unavailable", "queue"],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(75));
    assert!(stdout(&o).contains("queued as job"), "{}", stdout(&o));
    let list = run(dir.path(), &["queue", "list", "--json"], &[]).await;
    let jobs: Value = serde_json::from_slice(&list.stdout).expect("json list");
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs}");
    assert_eq!(jobs[0]["state"], "pending");
    let job_file = std::fs::read_to_string(dir.path().join(format!(
        "state/queue/pending/{}.json",
        jobs[0]["id"].as_str().expect("id")
    )))
    .expect("job file");
    assert!(!job_file.contains(ANTHROPIC_KEY) && !job_file.contains(OPENAI_KEY));

    // Still down: the attempt fails and backs off.
    let o = run(dir.path(), &["queue", "run"], &[]).await;
    assert_eq!(o.status.code(), Some(75), "{}\n{}", stdout(&o), stderr(&o));
    let jobs: Value = serde_json::from_slice(
        &run(dir.path(), &["queue", "list", "--json"], &[])
            .await
            .stdout,
    )
    .expect("json");
    assert_eq!(jobs[0]["attempts"], 1);
    // Not due again yet: nothing runs.
    emu.set_script("primary", Script::reply("[]"));
    let before = emu.count("primary");
    let o = run(dir.path(), &["queue", "run"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(emu.count("primary"), before);
    // Drop it.
    let id = jobs[0]["id"].as_str().expect("id").to_string();
    let o = run(dir.path(), &["queue", "drop", &id], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let jobs: Value = serde_json::from_slice(
        &run(dir.path(), &["queue", "list", "--json"], &[])
            .await
            .stdout,
    )
    .expect("json");
    assert_eq!(jobs.as_array().map(Vec::len), Some(0));
}

/// `aiw review --on-unavailable queue` of the simple fixture with every model failing with
/// `kind`.
async fn queue_review_with_every_model(kind: ErrorKind) -> (Emulator, tempfile::TempDir, Output) {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    for m in ["primary", "fallback"] {
        emu.set_script(m, Script::always(Action::error(kind)));
    }
    let diff = fixture("simple.diff");
    let args = [
        "review",
        "--diff",
        diff.to_str().expect("utf8"),
        "--on-unavailable",
        "queue",
    ];
    let o = run(dir.path(), &args, &[]).await;
    (emu, dir, o)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_queued_review_is_replayed_when_a_model_is_back() {
    let (emu, dir, o) = queue_review_with_every_model(ErrorKind::Overloaded).await;
    assert_eq!(o.status.code(), Some(75));
    emu.set_script("primary", Script::reply(FINDINGS));
    let o = run(dir.path(), &["queue", "run"], &[]).await;
    let out = stdout(&o);
    assert!(
        out.contains("unwrap on a fallible result"),
        "{out}\n{}",
        stderr(&o)
    );
    assert!(out.contains("queue: 1 reviewed"), "{out}");
    assert_eq!(
        o.status.code(),
        Some(1),
        "the job's findings are at --fail-on error"
    );
    let jobs: Value = serde_json::from_slice(
        &run(dir.path(), &["queue", "list", "--json"], &[])
            .await
            .stdout,
    )
    .expect("json");
    assert_eq!(jobs.as_array().map(Vec::len), Some(0));
    let done: Vec<_> = std::fs::read_dir(dir.path().join("state/queue/done"))
        .expect("done dir")
        .collect();
    assert_eq!(done.len(), 1);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn wrap_mode_reviews_only_when_the_command_fails_like_an_outage() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply("[]"));
    let diff = fixture("simple.diff");
    let d = diff.to_str().expect("utf8");

    // Succeeds: passed through, no review of our own.
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            d,
            "--",
            "sh",
            "-c",
            "echo 'LGTM from the team reviewer'",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "LGTM from the team reviewer\n");
    // Fails for its own reasons: same exit code, output passed through.
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            d,
            "--",
            "sh",
            "-c",
            "echo 'found 2 problems' >&2; exit 7",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(7));
    assert!(stderr(&o).contains("found 2 problems"));
    assert_eq!(emu.count("primary"), 0);
    // Fails like an outage: aiw reviews and says so.
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            d,
            "--",
            "sh",
            "-c",
            "echo 'API Error: 529 {\"type\":\"overloaded_error\"}' >&2; exit 1",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("failed like an outage"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("Reviewed by anthropic/primary."));
    assert_eq!(emu.count("primary"), 1);
    // Hangs past its limit: stopped, and aiw reviews.
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            d,
            "--wrap-timeout",
            "500ms",
            "--",
            "sh",
            "-c",
            "sleep 30",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("hung past its time limit"));
}

#[tokio::test(flavor = "multi_thread")]
async fn timeout_flushes_partial_results_to_every_output() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    // Small windows force several chunks; the first answers, the rest hang.
    let cfg = std::fs::read_to_string(dir.path().join("config.toml")).expect("config");
    let cfg = cfg.replace(
        "[providers.openai]",
        "context_window = 3000\n[review]\nconcurrency = 1\n[providers.openai]",
    );
    std::fs::write(dir.path().join("config.toml"), cfg).expect("config");
    emu.set_script(
        "primary",
        Script::sequence(vec![
            Action::reply(r#"[{"file":"src/big.rs","start_line":2,"end_line":2,"severity":"warning","title":"unused import","explanation":"fs is not used"}]"#),
            Action::Hang,
        ]),
    );
    let json = dir.path().join("r.json");
    let diff = fixture("huge.diff");
    let started = std::time::Instant::now();
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            diff.to_str().expect("utf8"),
            "--timeout",
            "6s",
            "--json",
            json.to_str().expect("utf8"),
        ],
        &[],
    )
    .await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(6),
        "must finish before the budget"
    );
    assert_eq!(o.status.code(), Some(75), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("PARTIAL review: 1 of"), "{out}");
    assert!(out.contains("time budget ran out"), "{out}");
    let j = read_json(&json);
    assert_eq!(j["partial"], true);
    assert_eq!(j["findings"][0]["title"], "unused import");
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_to_review_and_usage_errors() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    let empty = dir.path().join("empty.diff");
    std::fs::write(&empty, "").expect("write");
    let o = run(
        dir.path(),
        &["review", "--diff", empty.to_str().expect("utf8")],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0));
    assert!(
        stdout(&o).contains("Nothing was reviewed: the diff is empty"),
        "{}",
        stdout(&o)
    );

    let generated = fixture("generated.diff");
    emu.set_script("primary", Script::reply("[]"));
    let o = run(
        dir.path(),
        &["review", "--diff", generated.to_str().expect("utf8")],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(
        out.contains("Skipped 4 file(s)") && out.contains("Cargo.lock"),
        "{out}"
    );
    assert!(out.contains("Reviewed by anthropic/primary."), "{out}");

    let o = run(dir.path(), &["review", "--diff", "/nonexistent.diff"], &[]).await;
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("cannot read the diff file"),
        "{}",
        stderr(&o)
    );
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            empty.to_str().expect("utf8"),
            "--timeout",
            "soon",
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--timeout"), "{}", stderr(&o));
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_keys_everywhere_fail_the_step_instead_of_skipping_it() {
    // A broken setup is not an outage: skipping (exit 75) would hide it from the team.
    let (_emu, dir, o) = queue_review_with_every_model(ErrorKind::Auth).await;
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("configuration problem"),
        "{}",
        stdout(&o)
    );
    assert!(
        !dir.path().join("state/queue").exists()
            || std::fs::read_dir(dir.path().join("state/queue"))
                .expect("queue dir")
                .filter_map(Result::ok)
                .all(|e| e.path().is_dir()),
        "a configuration problem is not queued"
    );
    no_keys(&o);
}

/// `aiw review` with no diff argument, in `repo`, with extra environment.
async fn review_in(dir: &Path, repo: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let (dir, repo) = (dir.to_path_buf(), repo.to_path_buf());
    let args: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = aiw(&dir);
        cmd.arg("review")
            .args(&args)
            .args(["--fail-on", "never"])
            .current_dir(&repo)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("aiw runs")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_base_is_found_in_a_real_repository_locally_on_github_and_on_gitlab() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply("[]"));
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).expect("mkdir");
    git(&repo, &["init", "-q"]);
    std::fs::write(
        repo.join("src/lib.rs"),
        "pub fn f(x: Option<u8>) -> u8 {\n    x.unwrap_or(0)\n}\n",
    )
    .expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    let base_sha = git(&repo, &["rev-parse", "HEAD"]);
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    std::fs::write(
        repo.join("src/lib.rs"),
        "pub fn f(x: Option<u8>) -> u8 {\n    x.unwrap_or(0)\n}\n\npub fn g(x: Option<u8>) -> u8 {\n    x.unwrap() // FEATURE_LINE\n}\n",
    )
    .expect("write");
    git(&repo, &["commit", "-q", "-am", "feature"]);

    let sent = |emu: &Emulator| {
        let reqs = emu.requests_for("primary");
        reqs.last()
            .map(|r| r.message_texts().join("\n"))
            .unwrap_or_default()
    };
    // Locally: the merge base with the default branch (main).
    let o = review_in(dir.path(), &repo, &[], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(sent(&emu).contains("FEATURE_LINE"), "{}", sent(&emu));
    assert!(
        !sent(&emu).contains("unwrap_or(0)\n+"),
        "only the branch's change is reviewed"
    );
    // GitHub Actions pull request: GITHUB_BASE_REF names the base branch.
    emu.clear_requests();
    let o = review_in(dir.path(), &repo, &[], &[("GITHUB_BASE_REF", "main")]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(sent(&emu).contains("FEATURE_LINE"));
    // GitLab merge request: the diff base SHA.
    emu.clear_requests();
    let o = review_in(
        dir.path(),
        &repo,
        &[],
        &[("CI_MERGE_REQUEST_DIFF_BASE_SHA", &base_sha)],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(sent(&emu).contains("FEATURE_LINE"));
    // --staged reviews only what is staged.
    emu.clear_requests();
    std::fs::write(repo.join("src/new.rs"), "pub const STAGED_ONLY: u8 = 1;\n").expect("write");
    git(&repo, &["add", "src/new.rs"]);
    let o = review_in(dir.path(), &repo, &["--staged"], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = sent(&emu);
    assert!(
        text.contains("STAGED_ONLY") && !text.contains("FEATURE_LINE"),
        "{text}"
    );
    // A base that does not exist is a usage error that says what to do.
    let o = review_in(dir.path(), &repo, &["--base", "no-such-branch"], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}
