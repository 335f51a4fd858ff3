//! The PR/MR conversation of `aiw review` against the emulator's fake GitHub and GitLab APIs:
//! one sticky summary comment (GitHub) or note (GitLab) created, then edited in place, a
//! neutral note when every model is down, inline suggestions (GitHub review comments, GitLab
//! diff discussions) posted once however often the review runs, rejected tokens and redirects said clearly without changing the verdict or
//! sending the token anywhere else, and `aiw queue run` posting on the queued PR.

use std::path::Path;
use std::process::Output;

use aiw_emulator::{Action, Emulator, ErrorKind, Script};

use crate::review::{FINDINGS, fixture, no_keys, setup, stderr, stdout};
use crate::support::run_aiw as run;

const GITHUB_TOKEN: &str = "ghs_aiwTestToken0123456789abcdef";
const GITLAB_TOKEN: &str = "glpat-aiwTestToken0123456789";
const JOB_TOKEN: &str = "glcbt-aiwJobToken0123456789";

fn all_down(emu: &Emulator) {
    for m in ["primary", "fallback"] {
        emu.set_script(m, Script::always(Action::error(ErrorKind::Overloaded)));
    }
}

fn gitlab_env(emu: &Emulator, token: Option<&str>) -> Vec<(&'static str, String)> {
    let mut env = vec![
        ("GITLAB_CI", "true".to_string()),
        ("CI_API_V4_URL", emu.gitlab_api_url()),
        ("CI_PROJECT_ID", "42".to_string()),
        ("CI_PROJECT_PATH", "group/project".to_string()),
        ("CI_MERGE_REQUEST_IID", "3".to_string()),
        ("CI_JOB_TOKEN", JOB_TOKEN.to_string()),
    ];
    if let Some(t) = token {
        env.push(("GITLAB_TOKEN", t.to_string()));
    }
    env
}

fn github_env(emu: &Emulator) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_API_URL", emu.github_api_url()),
        ("GITHUB_REPOSITORY", "org/repo".to_string()),
        ("GITHUB_REF", "refs/pull/7/merge".to_string()),
        ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
    ]
}

fn review_args(diff: &Path, flag: &'static str) -> Vec<String> {
    [
        "review",
        "--diff",
        diff.to_str().expect("utf8"),
        "--fail-on",
        "never",
        flag,
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

async fn review(dir: &Path, args: &[String], env: &[(&str, String)]) -> Output {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(dir, &args, env).await
}

fn no_token(o: &Output, tokens: &[&str]) {
    no_keys(o);
    for t in tokens {
        assert!(
            !stdout(o).contains(t) && !stderr(o).contains(t),
            "a token was printed"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gitlab_note_is_one_sticky_note_updated_in_place_and_a_skip_posts_a_neutral_note() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply(FINDINGS));
    emu.gitlab_accept_tokens(&[GITLAB_TOKEN]);
    let args = review_args(&fixture("simple.diff"), "--gitlab-note");
    let env = gitlab_env(&emu, Some(GITLAB_TOKEN));

    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("posted the review note 1 on project 42 MR !3"),
        "{}",
        stdout(&o)
    );
    let n = emu.gitlab_notes();
    assert_eq!(n.len(), 1);
    assert_eq!((n[0].project.as_str(), n[0].mr), ("42", 3));
    assert!(
        n[0].body.starts_with("<!-- aiw-review -->"),
        "{}",
        n[0].body
    );
    assert!(
        n[0].body.contains("unwrap on a fallible result"),
        "{}",
        n[0].body
    );
    // The project token went as PRIVATE-TOKEN, on every call, to the API URL only.
    let calls = emu.gitlab_calls();
    assert!(!calls.is_empty());
    assert!(
        calls
            .iter()
            .all(|c| c.auth == Some(("private-token".to_string(), GITLAB_TOKEN.to_string())))
    );
    no_token(&o, &[GITLAB_TOKEN, JOB_TOKEN]);

    // A second run edits the same note.
    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("updated the review note 1"),
        "{}",
        stdout(&o)
    );
    let n = emu.gitlab_notes();
    assert_eq!((n.len(), n[0].edits), (1, 1));

    // Everything down: the same note now says the review was skipped.
    all_down(&emu);
    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    let n = emu.gitlab_notes();
    assert_eq!((n.len(), n[0].edits), (1, 2));
    assert!(
        n[0].body
            .contains("review skipped: all models unavailable, will retry"),
        "{}",
        n[0].body
    );
    assert!(!n[0].body.contains("unwrap on a fallible result"));
    no_token(&o, &[GITLAB_TOKEN, JOB_TOKEN]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_gitlab_token_is_a_clear_warning_and_the_verdict_stands() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply(FINDINGS));
    emu.gitlab_accept_tokens(&["glpat-the-only-good-one"]);
    let diff = fixture("simple.diff");
    let args = review_args(&diff, "--gitlab-note");
    let o = review(dir.path(), &args, &gitlab_env(&emu, Some(GITLAB_TOKEN))).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("the GitLab API refused to list the review notes: HTTP 401")
            && err.contains("check GITLAB_TOKEN"),
        "{err}"
    );
    assert!(emu.gitlab_notes().is_empty());
    no_token(&o, &[GITLAB_TOKEN, JOB_TOKEN]);

    // With findings that fail the step, the verdict is still the review's (exit 1), and the
    // job token is what goes when there is no GITLAB_TOKEN.
    let mut failing = args.clone();
    failing[4] = "error".into();
    let o = review(dir.path(), &failing, &gitlab_env(&emu, None)).await;
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("HTTP 401"), "{}", stderr(&o));
    let last = emu.gitlab_calls().pop().expect("a call");
    assert_eq!(
        last.auth,
        Some(("job-token".to_string(), JOB_TOKEN.to_string()))
    );

    // Not in a merge request pipeline: said, and nothing is called.
    let before = emu.gitlab_calls().len();
    let env: Vec<_> = gitlab_env(&emu, Some(GITLAB_TOKEN))
        .into_iter()
        .filter(|(k, _)| *k != "CI_MERGE_REQUEST_IID")
        .collect();
    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("merge request pipelines only"),
        "{}",
        stderr(&o)
    );
    assert_eq!(emu.gitlab_calls().len(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_never_carries_the_token_to_another_host() {
    let emu = Emulator::start().await.expect("emulator");
    let elsewhere = Emulator::start().await.expect("a second host");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply(FINDINGS));
    // 127.0.0.1 and localhost: another origin, as a real redirect to an attacker would be.
    let target = elsewhere.base_url().replace("127.0.0.1", "localhost");
    emu.gitlab_redirect_to(&target);
    let args = review_args(&fixture("simple.diff"), "--gitlab-note");
    let o = review(dir.path(), &args, &gitlab_env(&emu, Some(GITLAB_TOKEN))).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("answered HTTP 301 redirecting to http://localhost:")
            && err.contains("does not follow redirects with a token"),
        "{err}"
    );
    assert_eq!(emu.gitlab_calls().len(), 1, "one call, not followed");
    assert!(
        elsewhere.gitlab_calls().is_empty(),
        "the other host got nothing"
    );
    assert!(emu.gitlab_notes().is_empty() && elsewhere.gitlab_notes().is_empty());
    no_token(&o, &[GITLAB_TOKEN, JOB_TOKEN]);
}

#[tokio::test(flavor = "multi_thread")]
async fn inline_suggestions_are_posted_once_on_lines_of_the_diff() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply(FINDINGS));
    // Other people's comments fill the first page: aiw's own must still be found later.
    emu.seed_github_comments("org/repo", 7, 130);
    let head = "feedc0ffee0123456789abcdef0123456789abcd";
    let event = dir.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"pull_request": {"number": 7, "head": {"sha": head}}}).to_string(),
    )
    .expect("event file");
    let mut env = github_env(&emu);
    env.push(("GITHUB_EVENT_PATH", event.display().to_string()));
    let args = review_args(&fixture("simple.diff"), "--github-comment");

    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("posted 1 inline suggestion(s) on org/repo PR #7"),
        "{}",
        stdout(&o)
    );
    let rc = emu.github_review_comments();
    assert_eq!(rc.len(), 1);
    let c = &rc[0];
    assert_eq!(
        (c.path.as_str(), c.line, c.start_line),
        ("src/lib.rs", 13, None)
    );
    assert_eq!(c.side, "RIGHT");
    assert_eq!(c.commit_id.as_deref(), Some(head));
    assert!(
        c.body.contains("```suggestion\n    let y = x?;\n```"),
        "{}",
        c.body
    );
    assert!(c.body.contains("<!-- aiw-suggestion:"), "{}", c.body);
    let mine = |emu: &Emulator| {
        emu.github_comments()
            .into_iter()
            .filter(|c| c.body.contains("<!-- aiw-review -->"))
            .collect::<Vec<_>>()
    };
    assert_eq!(mine(&emu).len(), 1);

    // Again: the summary is edited (found on the second page), no suggestion is repeated.
    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("were already posted"), "{}", stdout(&o));
    assert_eq!(emu.github_review_comments().len(), 1);
    let m = mine(&emu);
    assert_eq!((m.len(), m[0].edits), (1, 1));
    no_token(&o, &[GITHUB_TOKEN]);
}

/// On GitLab a finding with a fix becomes one diff discussion on its new line, positioned with
/// the merge request's own `diff_refs` (the fake API refuses any other position), posted once
/// however often the review runs.
#[tokio::test(flavor = "multi_thread")]
async fn gitlab_inline_suggestions_are_diff_discussions_posted_once() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply(FINDINGS));
    let args = review_args(&fixture("simple.diff"), "--gitlab-note");
    let env = gitlab_env(&emu, Some(GITLAB_TOKEN));

    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("posted 1 inline suggestion(s) on project 42 MR !3"),
        "{}",
        stdout(&o)
    );
    let d = emu.gitlab_discussions();
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].project.as_str(), d[0].mr), ("42", 3));
    let p = &d[0].position;
    assert_eq!(
        (p["new_path"].as_str(), p["new_line"].as_u64()),
        (Some("src/lib.rs"), Some(13))
    );
    assert_eq!(p["head_sha"], aiw_emulator::GITLAB_DIFF_REFS[2]);
    assert!(
        d[0].body
            .contains("```suggestion:-0+0\n    let y = x?;\n```"),
        "{}",
        d[0].body
    );

    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("were already posted"), "{}", stdout(&o));
    assert_eq!(emu.gitlab_discussions().len(), 1);
    no_token(&o, &[GITLAB_TOKEN, JOB_TOKEN]);
}

/// Queues a review with everything down asking for `flag`, then replays it with the model
/// back in an environment without `drop` (a scheduled pipeline has no PR or MR of its own).
/// Returns the emulator after the replay.
async fn queue_then_replay(
    flag: &'static str,
    env: fn(&Emulator) -> Vec<(&'static str, String)>,
    drop: &[&str],
) -> Emulator {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    all_down(&emu);
    let queue_dir = dir.path().join("ci-cache/queue");
    let mut args = review_args(&fixture("simple.diff"), flag);
    args.extend(["--on-unavailable", "queue"].map(String::from));
    let mut env = env(&emu);
    env.push(("AIW_QUEUE_DIR", queue_dir.display().to_string()));
    let o = review(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(75), "{}\n{}", stdout(&o), stderr(&o));
    emu.set_script("primary", Script::reply(FINDINGS));
    let replay_env: Vec<_> = env.into_iter().filter(|(k, _)| !drop.contains(k)).collect();
    let o = run(dir.path(), &["queue", "run"], &replay_env).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    no_token(&o, &[GITHUB_TOKEN, GITLAB_TOKEN, JOB_TOKEN]);
    emu
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_run_posts_the_note_on_the_queued_merge_request() {
    let emu = queue_then_replay(
        "--gitlab-note",
        |e| gitlab_env(e, None),
        &["CI_MERGE_REQUEST_IID"],
    )
    .await;
    let n = emu.gitlab_notes();
    assert_eq!(
        (n.len(), n[0].mr, n[0].edits),
        (1, 3, 1),
        "the same note, edited"
    );
    assert!(
        n[0].body.contains("unwrap on a fallible result"),
        "{}",
        n[0].body
    );
    assert!(n[0].body.contains("queued review"), "{}", n[0].body);
}

#[tokio::test(flavor = "multi_thread")]
async fn queue_run_posts_the_comment_and_suggestions_on_the_queued_pull_request() {
    let emu = queue_then_replay("--github-comment", github_env, &["GITHUB_REF"]).await;
    let g = emu.github_comments();
    assert_eq!(
        (g.len(), g[0].issue, g[0].edits),
        (1, 7, 1),
        "the same comment, edited"
    );
    assert!(
        g[0].body.contains("unwrap on a fallible result"),
        "{}",
        g[0].body
    );
    let rc = emu.github_review_comments();
    assert_eq!((rc.len(), rc[0].pr), (1, 7), "the suggestion too");
}

#[tokio::test(flavor = "multi_thread")]
async fn github_comment_is_one_sticky_comment_and_a_skip_posts_a_neutral_note() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    setup(&emu, dir.path());
    emu.set_script("primary", Script::reply(FINDINGS));
    let diff = fixture("simple.diff");
    let sarif = dir.path().join("r.sarif");
    let args = [
        "review",
        "--diff",
        diff.to_str().expect("utf8"),
        "--fail-on",
        "never",
        "--github-comment",
        "--sarif",
        sarif.to_str().expect("utf8"),
    ];
    let token = "ghs_aiwTestToken0123456789abcdef";
    let env = [
        ("GITHUB_ACTIONS", "true".to_string()),
        ("GITHUB_API_URL", emu.github_api_url()),
        ("GITHUB_REPOSITORY", "org/repo".to_string()),
        ("GITHUB_REF", "refs/pull/7/merge".to_string()),
        ("GITHUB_TOKEN", token.to_string()),
    ];
    let o = run(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("posted the review comment"),
        "{}",
        stdout(&o)
    );
    let c = emu.github_comments();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].repo.as_str(), c[0].issue), ("org/repo", 7));
    assert!(
        c[0].body.contains("Reviewed by anthropic/primary."),
        "{}",
        c[0].body
    );
    assert!(
        c[0].body.contains("unwrap on a fallible result"),
        "{}",
        c[0].body
    );
    assert!(!c[0].body.contains(token));

    // Everything down: the same comment now says the review was skipped; no SARIF.
    for m in ["primary", "fallback"] {
        emu.set_script(m, Script::always(Action::error(ErrorKind::Overloaded)));
    }
    assert!(sarif.exists());
    std::fs::remove_file(&sarif).expect("remove");
    let o = run(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(75), "{}\n{}", stdout(&o), stderr(&o));
    let c = emu.github_comments();
    assert_eq!(c.len(), 1, "one sticky comment, edited");
    assert_eq!(c[0].edits, 1);
    assert!(
        c[0].body
            .contains("review skipped: all models unavailable, will retry"),
        "{}",
        c[0].body
    );
    assert!(!c[0].body.contains("unwrap on a fallible result"));
    assert!(!sarif.exists(), "a skipped review writes no SARIF");

    // No token: a loud warning, the verdict unchanged.
    let env: Vec<_> = env
        .into_iter()
        .filter(|(k, _)| *k != "GITHUB_TOKEN")
        .collect();
    let o = run(dir.path(), &args, &env).await;
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    assert!(stderr(&o).contains("GITHUB_TOKEN"), "{}", stderr(&o));
    no_keys(&o);
}
