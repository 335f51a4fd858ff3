//! `aiw review` and `aiw queue` end to end: the real binary on fixture diffs against the
//! provider emulator. Primary reviews; primary down so the fallback reviews (degraded in every
//! output); everything down under each `--on-unavailable` policy; the queue replayed when a
//! model is back; wrap mode with a command that fails like an outage and one that fails for
//! its own reasons; the `--timeout` flush; exit codes and usage errors.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use aiw_emulator::{Action, Emulator, ErrorKind, Reply, Script};
use serde_json::Value;

use crate::support::{ANTHROPIC_KEY, OPENAI_KEY, aiw, run_aiw as run};
use crate::util::git;

pub(crate) const FINDINGS: &str = r#"Here is my review:
```json
[{"file": "src/lib.rs", "start_line": 13, "end_line": 13, "severity": "error", "title": "unwrap on a fallible result", "explanation": "compute can fail; this panics in production.", "suggestion": "    let y = x?;"}]
```"#;

pub(crate) fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/diffs")
        .join(name)
}

/// Config with route `review` = primary (anthropic) then fallback (openai), both on the
/// emulator; generous first-token timeout so the `--timeout` test controls the clock.
pub(crate) fn setup(emu: &Emulator, dir: &Path) {
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

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub(crate) fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).expect("output file")).expect("valid JSON")
}

pub(crate) fn no_keys(o: &Output) {
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
        !sarif.exists(),
        "no SARIF when skipped: it would close open alerts"
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
    // The hung chunks did not hold it: it stopped at its budget and flushed what it had.
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
    review_in_failing_on(dir, repo, args, env, "never").await
}

/// [`review_in`] with `--fail-on fail_on`.
async fn review_in_failing_on(
    dir: &Path,
    repo: &Path,
    args: &[&str],
    env: &[(&str, &str)],
    fail_on: &str,
) -> Output {
    let (dir, repo) = (dir.to_path_buf(), repo.to_path_buf());
    let fail_on = fail_on.to_string();
    let args: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    tokio::task::spawn_blocking(move || {
        let mut cmd = aiw(&dir);
        cmd.arg("review")
            .args(&args)
            .args(["--fail-on", &fail_on])
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

/// A finding JSON object for a scripted model answer.
fn finding_json(file: &str, start: u32, end: u32, severity: &str, title: &str) -> String {
    serde_json::json!({
        "file": file, "start_line": start, "end_line": end, "severity": severity,
        "title": title, "explanation": "planted by the test", "suggestion": null,
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn findings_outside_the_change_never_fail_the_step() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("src")).expect("mkdir");
    git(&repo, &["init", "-q"]);
    let lib: String = (1..=30).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "pub const L{i}: u32 = {i};");
        s
    });
    std::fs::write(repo.join("src/lib.rs"), &lib).expect("write");
    let old: String = (1..=12).fold(String::new(), |mut s, i| {
        let _ = writeln!(s, "pub fn f{i}() {{}}");
        s
    });
    std::fs::write(repo.join("src/old_name.rs"), &old).expect("write");
    std::fs::write(repo.join("src/gone.rs"), "pub fn gone() {}\n").expect("write");
    std::fs::write(
        repo.join("logo.png"),
        [0x89, b'P', b'N', b'G', 0, 1, 2, 0, 3],
    )
    .expect("write");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "base"]);
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    let changed = lib.replacen(
        "pub const L5: u32 = 5;\n",
        "pub const L5: u32 = 5;\npub const NEW: u32 = 0;\n",
        1,
    );
    std::fs::write(repo.join("src/lib.rs"), changed).expect("write");
    git(&repo, &["mv", "src/old_name.rs", "src/new_name.rs"]);
    std::fs::write(
        repo.join("src/new_name.rs"),
        old.replace("f12", "f12_renamed"),
    )
    .expect("write");
    git(&repo, &["rm", "-q", "src/gone.rs"]);
    std::fs::write(
        repo.join("logo.png"),
        [0x89, b'P', b'N', b'G', 0, 9, 9, 0, 3],
    )
    .expect("write");
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "feature"]);

    // The hunk of src/lib.rs shows new lines 3..=9 (line 6 is the added one).
    let abs = repo.join("src/lib.rs").display().to_string();
    let answer = format!(
        "[{}]",
        [
            finding_json(&abs, 6, 9999, "warning", "added constant (absolute path)"),
            finding_json("src/lib.rs", 3, 3, "warning", "context line"),
            finding_json("src/imaginary.rs", 3, 3, "error", "made-up file"),
            finding_json("src/old_name.rs", 12, 12, "error", "old rename path"),
            finding_json("src/gone.rs", 1, 1, "error", "deleted file"),
            finding_json("logo.png", 1, 1, "error", "binary file"),
            finding_json("src/lib.rs", 25, 25, "error", "past the hunk"),
            finding_json("/etc/passwd", 1, 1, "error", "absolute path elsewhere"),
        ]
        .join(",")
    );
    emu.set_script("primary", Script::reply(&answer));
    let json = dir.path().join("r.json");
    let json_arg = json.to_str().expect("utf8");
    let o = review_in_failing_on(
        dir.path(),
        &repo,
        &["--base", "main", "--json", json_arg],
        &[],
        "error",
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let j = read_json(&json);
    let titles = |k: &str| -> Vec<String> {
        j[k].as_array()
            .expect("array")
            .iter()
            .map(|f| f["title"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(
        titles("findings"),
        ["context line", "added constant (absolute path)"],
        "{j:#}"
    );
    assert_eq!(titles("outside_findings").len(), 6, "{j:#}");
    let added = &j["findings"][1];
    assert_eq!(added["file"], "src/lib.rs", "paths are repo-relative");
    assert_eq!(added["start_line"], 6);
    assert_eq!(added["end_line"], 9, "end line clamped to the hunk");
    let why = |title: &str| -> String {
        j["outside_findings"]
            .as_array()
            .expect("array")
            .iter()
            .find(|f| f["title"] == title)
            .and_then(|f| f["outside"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    assert!(why("old rename path").contains("src/new_name.rs"), "{j:#}");
    assert!(why("deleted file").contains("deletes"), "{j:#}");
    assert!(why("binary file").contains("binary"), "{j:#}");
    assert!(why("past the hunk").contains("not in the diff"), "{j:#}");
    assert!(why("absolute path elsewhere").contains("absolute"), "{j:#}");
    assert!(why("made-up file").contains("does not touch"), "{j:#}");
    let out = stdout(&o);
    assert!(
        out.contains("Outside the change (not counted toward --fail-on):"),
        "{out}"
    );
    assert!(
        out.contains("6 more finding(s) point outside the change"),
        "{out}"
    );

    // Only added lines count under `added`; every finding under `nofilter`.
    let o = review_in_failing_on(
        dir.path(),
        &repo,
        &[
            "--base",
            "main",
            "--json",
            json_arg,
            "--filter-mode",
            "added",
        ],
        &[],
        "warning",
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let j = read_json(&json);
    assert_eq!(j["findings"].as_array().map(Vec::len), Some(1), "{j:#}");
    assert_eq!(
        j["outside_findings"].as_array().map(Vec::len),
        Some(7),
        "{j:#}"
    );
    let o = review_in_failing_on(
        dir.path(),
        &repo,
        &["--base", "main", "--filter-mode", "nofilter"],
        &[],
        "error",
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
}

/// `aiw review ARGS` with `input` on standard input.
async fn run_with_stdin(dir: &Path, args: &[&str], input: &[u8]) -> Output {
    use std::io::Write as _;
    let dir = dir.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| (*s).to_string()).collect();
    let input = input.to_vec();
    tokio::task::spawn_blocking(move || {
        let mut child = aiw(&dir)
            .args(&args)
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("aiw starts");
        if let Some(mut w) = child.stdin.take() {
            let _ = w.write_all(&input);
        }
        child.wait_with_output().expect("aiw runs")
    })
    .await
    .expect("join")
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreadable_answer_is_repaired_once_then_counted_as_not_reviewed() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    let diff = fixture("simple.diff");
    let diff = diff.to_str().expect("utf8");
    let json = dir.path().join("r.json");
    let args = [
        "review",
        "--diff",
        diff,
        "--json",
        json.to_str().expect("utf8"),
    ];

    // Prose twice: one repair prompt, then "not reviewed" (exit 4), never "unavailable".
    emu.set_script("primary", Script::reply("LGTM, ship it!"));
    let o = run(dir.path(), &args, &[]).await;
    assert_eq!(o.status.code(), Some(4), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("all models unavailable"), "{out}");
    assert!(
        out.contains(
            "Part 1 of 1 (src/lib.rs): NOT reviewed (the answer could not be read as findings)."
        ),
        "{out}"
    );
    assert_eq!(emu.count("primary"), 2, "one repair prompt");
    assert_eq!(emu.count("fallback"), 0, "a model answered: no failover");
    let repair = &emu.requests_for("primary")[1];
    let texts = repair.message_texts();
    assert!(
        texts.iter().any(|t| t.contains("LGTM, ship it!")),
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("not the JSON array")),
        "{texts:?}"
    );
    let j = read_json(&json);
    assert_eq!(j["status"], "partial");
    assert_eq!(j["skipped"], false);
    assert_eq!(j["parts"][0]["state"], "unreadable");
    assert_eq!(j["parts"][0]["model"], "anthropic/primary");

    // Prose, then findings after the repair prompt: reviewed, findings count.
    emu.clear_requests();
    emu.set_script(
        "primary",
        Script::sequence(vec![
            Action::reply("Looks fine to me."),
            Action::reply(FINDINGS),
        ]),
    );
    let o = run(dir.path(), &args, &[]).await;
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("Part 1 of 1: reviewed by anthropic/primary."),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("repair prompt"), "{}", stdout(&o));

    // An answer cut at the token limit gets the "cut off" repair prompt.
    emu.clear_requests();
    emu.set_script(
        "primary",
        Script::always(Action::Reply(
            Reply::new("[{\"file\": \"src/lib.rs\", \"start_line\": 13, \"title\": \"unwr")
                .max_tokens_stop(),
        )),
    );
    let o = run(dir.path(), &args, &[]).await;
    assert_eq!(o.status.code(), Some(4), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        !stdout(&o).contains("all models unavailable"),
        "{}",
        stdout(&o)
    );
    let texts = emu.requests_for("primary")[1].message_texts();
    assert!(texts.iter().any(|t| t.contains("cut off")), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_key_is_a_configuration_failure_whatever_else_fails() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::always(Action::error(ErrorKind::Auth)));
    emu.set_script(
        "fallback",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    let diff = fixture("simple.diff");
    let o = run(
        dir.path(),
        &["review", "--diff", diff.to_str().expect("utf8")],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("configuration problem"),
        "{}",
        stdout(&o)
    );
    no_keys(&o);

    // The fallback reviews, but the primary's key was rejected: still a failure to fix,
    // said in every output, not a quiet degraded pass on every PR.
    emu.set_script("fallback", Script::reply("[]"));
    let json = dir.path().join("r.json");
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            diff.to_str().expect("utf8"),
            "--json",
            json.to_str().expect("utf8"),
        ],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("CONFIGURATION PROBLEM: anthropic/primary rejected the API key"),
        "{}",
        stdout(&o)
    );
    assert_eq!(read_json(&json)["rejected_keys"][0], "anthropic/primary");
    no_keys(&o);
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_or_garbage_standard_input_is_an_error() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    let o = run_with_stdin(dir.path(), &["review", "--diff", "-"], b"").await;
    assert_eq!(o.status.code(), Some(2), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stderr(&o).contains("standard input"), "{}", stderr(&o));
    for garbage in [
        &b"hello, this is not a diff\n"[..],
        b"\x00\x01\x02\xff\xfe binary garbage",
        b"--- \n+++ \n",
    ] {
        let o = run_with_stdin(dir.path(), &["review", "--diff", "-"], garbage).await;
        assert_eq!(
            o.status.code(),
            Some(2),
            "{garbage:?}: {}\n{}",
            stdout(&o),
            stderr(&o)
        );
    }
    assert_eq!(emu.count("primary"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn model_text_cannot_start_a_workflow_command_in_github_mode() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    let evil = serde_json::json!([{
        "file": "src/lib.rs", "start_line": 13, "end_line": 13, "severity": "warning",
        "title": "::stop-commands::pwned",
        "explanation": "::stop-commands::pwned\n::error file=src/lib.rs,line=1::fake error\n  ::add-mask::x\n##[error]old style\n::warning::fake",
        "suggestion": "::error::in a suggestion\n::set-output name=a::b",
    }, {
        "file": "::error::in a path", "start_line": 1, "end_line": 1, "severity": "error",
        "title": "outside", "explanation": "::error::outside the change",
    }])
    .to_string();
    emu.set_script(
        "primary",
        Script::reply(&format!("::error::prose first\n{evil}")),
    );
    let diff = fixture("simple.diff");
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            diff.to_str().expect("utf8"),
            "--fail-on",
            "never",
        ],
        &[("GITHUB_ACTIONS", "true".into())],
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let lines: Vec<String> = out
        .lines()
        .chain(stderr(&o).lines())
        .map(|l| l.trim_start().to_string())
        .filter(|l| l.starts_with("::") || l.starts_with("##["))
        .collect();
    // Exactly one workflow command: aiw's own annotation, its texts escaped.
    assert_eq!(lines.len(), 1, "{out}");
    assert!(
        lines[0].starts_with(
            "::warning file=src/lib.rs,line=13,endLine=13,title=%3A%3Astop-commands%3A%3Apwned::"
        ),
        "{}",
        lines[0]
    );
    assert!(!lines[0].contains('\n'));
    assert!(out.contains("    \\::stop-commands::pwned\n"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_local_model_in_the_route_does_not_shrink_the_cloud_models_budget() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let base = emu.base_url();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            r#"
[providers.anthropic]
base_url = "{base}"
[providers.local]
model = "{}"
context_size = 4096
[routes]
review = ["anthropic/primary", "local/small"]
"#,
            dir.path().join("no-such-model.gguf").display()
        ),
    )
    .expect("config");
    emu.set_script("primary", Script::reply(FINDINGS));
    let diff = fixture("simple.diff");
    let o = run(
        dir.path(),
        &["review", "--diff", diff.to_str().expect("utf8")],
        &[],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let req = &emu.requests_for("primary")[0];
    let max = req.json.as_ref().and_then(|j| j["max_tokens"].as_u64());
    assert_eq!(
        max,
        Some(4096),
        "the cloud tier's own answer limit, not the local model's"
    );
    assert!(
        !req.system_text()
            .unwrap_or_default()
            .contains("keys file, start_line"),
        "the cloud model gets the full contract"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrap_mode_reads_only_stderr_for_outages_and_still_writes_its_outputs() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply("[]"));
    let diff = fixture("simple.diff");
    let p = |n: &str| dir.path().join(n);
    let (summary, outputs, sarif) = (p("summary.md"), p("outputs.txt"), p("r.sarif"));
    // A review that talks about timeouts, rate limits and overloaded_error on stdout and
    // fails the step for its findings: its own result, not an outage.
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            diff.to_str().expect("utf8"),
            "--sarif",
            sarif.to_str().expect("utf8"),
            "--",
            "sh",
            "-c",
            "echo 'src/net.rs:4: no timeout; a rate limit or overloaded_error (HTTP 503) retries forever'; echo '1 finding' >&2; exit 1",
        ],
        &[
            ("GITHUB_ACTIONS", "true".into()),
            ("GITHUB_STEP_SUMMARY", summary.display().to_string()),
            ("GITHUB_OUTPUT", outputs.display().to_string()),
        ],
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(emu.count("primary"), 0, "no outage: aiw does not review");
    assert!(
        stdout(&o).starts_with("src/net.rs:4: no timeout"),
        "{}",
        stdout(&o)
    );
    let s = std::fs::read_to_string(&summary).expect("step summary written");
    assert!(s.contains("passed its result through"), "{s}");
    let gh = std::fs::read_to_string(&outputs).expect("step outputs written");
    assert!(
        gh.contains("status<<") && gh.contains("\nwrapped\n"),
        "{gh}"
    );
    assert_eq!(
        read_json(&sarif)["runs"][0]["properties"]["status"],
        "wrapped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_queue_keeps_the_unreviewed_half_its_origin_and_outputs_and_replays_them() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let base = emu.base_url();
    // A small window makes every file its own part; one part at a time, in order.
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            r#"
[providers.anthropic]
base_url = "{base}"
context_window = 1200
[routes]
review = ["anthropic/primary"]
[review]
concurrency = 1
[health]
base_open = "100ms"
max_open = "200ms"
max_retry_wait = "100ms"
"#
        ),
    )
    .expect("config");
    let mut diff = String::new();
    for (name, marker) in [("src/lib.rs", "FIRST_FILE"), ("src/b.rs", "SECOND_FILE")] {
        let _ = write!(
            diff,
            "diff --git a/{name} b/{name}\n--- a/{name}\n+++ b/{name}\n@@ -1,1 +1,80 @@\n fn keep() {{}}\n"
        );
        for i in 0..79 {
            let _ = writeln!(diff, "+let {marker}_{i} = compute(x).unwrap();");
        }
    }
    let diff_file = dir.path().join("two.diff");
    std::fs::write(&diff_file, &diff).expect("write diff");
    let first = serde_json::json!([{
        "file": "src/lib.rs", "start_line": 2, "end_line": 2, "severity": "error",
        "title": "unwrap", "explanation": "panics", "suggestion": null,
    }])
    .to_string();
    emu.set_script(
        "primary",
        Script::sequence(vec![
            Action::reply(&first),
            Action::error(ErrorKind::Overloaded),
        ]),
    );
    let queue_dir = dir.path().join("ci-cache/queue");
    let report = dir.path().join("out/review.json");
    let env = [
        ("AIW_QUEUE_DIR", queue_dir.display().to_string()),
        ("GITHUB_REPOSITORY", "org/repo".to_string()),
        ("GITHUB_REF", "refs/pull/42/merge".to_string()),
        ("GITHUB_SHA", "0123456789abcdef".to_string()),
        ("GITHUB_BASE_REF", "main".to_string()),
    ];
    let o = run(
        dir.path(),
        &[
            "review",
            "--diff",
            diff_file.to_str().expect("utf8"),
            "--on-unavailable",
            "queue",
            "--json",
            report.to_str().expect("utf8"),
        ],
        &env,
    )
    .await;
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("was queued as job"), "{}", stdout(&o));
    let pending: Vec<_> = std::fs::read_dir(queue_dir.join("pending"))
        .expect("the queue is where AIW_QUEUE_DIR says")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(pending.len(), 1);
    let job: Value =
        serde_json::from_slice(&std::fs::read(pending[0].path()).expect("job")).expect("json");
    let queued = job["diff"].as_str().unwrap_or_default();
    assert!(queued.contains("SECOND_FILE"), "{queued}");
    assert!(
        !queued.contains("FIRST_FILE_0 "),
        "the reviewed part is not queued again"
    );
    assert_eq!(job["origin"]["repo"], "org/repo");
    assert_eq!(job["origin"]["pr"], 42);
    assert_eq!(job["origin"]["head"], "0123456789abcdef");
    assert_eq!(job["origin"]["base"], "main");
    assert_eq!(job["outputs"]["json"], report.display().to_string());
    assert!(!dir.path().join("state/queue/pending").exists());

    // The model is back: the replay writes the report file again, naming the PR.
    std::fs::remove_file(&report).expect("remove the first report");
    emu.set_script("primary", Script::reply("[]"));
    let o = run(dir.path(), &["queue", "run"], &env).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    let j = read_json(&report);
    assert_eq!(j["status"], "complete", "{j:#}");
    assert!(
        j["notes"][0]
            .as_str()
            .is_some_and(|n| n.contains("org/repo, PR #42, head 0123456789ab")),
        "{j:#}"
    );
}
