//! The README's CI examples run as shell: the GitHub Actions workflow's `Review` step and the
//! GitLab job's `script:` are taken from README.md as written and run with bash in a real git
//! repository with a change, against the emulator's models and fake GitHub/GitLab APIs. They
//! must give what the README promises: green with one sticky comment when the primary
//! reviews, green and saying so when a fallback reviews, and the neutral skip note with exit
//! 75 mapped as the README says (GitHub: a warning and success; GitLab: `allow_failure`) when
//! every model is down. Breaking the README example breaks this test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use aiw_emulator::{Action, Emulator, ErrorKind, Script};

use crate::review::setup;
use crate::support::{ANTHROPIC_KEY, OPENAI_KEY};

const GITHUB_TOKEN: &str = "ghs_aiwReadmeToken0123456789abcdef";
const GITLAB_TOKEN: &str = "glpat-aiwReadmeToken0123456789";

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// The first ```yaml block after the heading `heading`.
fn yaml_after(readme: &str, heading: &str) -> String {
    let at = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no `{heading}` section"));
    let rest = &readme[at..];
    let start = rest.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = rest[start..].find("\n```").expect("the block ends");
    rest[start..start + end].to_string()
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

/// The `run: |` script of the step named `name` in a workflow, dedented.
fn github_step(yaml: &str, name: &str) -> String {
    let lines: Vec<&str> = yaml.lines().collect();
    let step = lines
        .iter()
        .position(|l| l.trim() == format!("- name: {name}"))
        .unwrap_or_else(|| panic!("no step `{name}`"));
    let step_indent = indent(lines[step]);
    let run = (step + 1..lines.len())
        .take_while(|&i| indent(lines[i]) > step_indent || lines[i].trim().is_empty())
        .find(|&i| lines[i].trim() == "run: |")
        .unwrap_or_else(|| panic!("step `{name}` has no `run: |` block"));
    let run_indent = indent(lines[run]);
    let body: Vec<&str> = lines[run + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > run_indent)
        .copied()
        .collect();
    let cut = body
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l))
        .min()
        .unwrap_or(0);
    body.iter()
        .map(|l| l.get(cut..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `script:` items of a GitLab job (comments left out), one command each.
fn gitlab_script(yaml: &str) -> Vec<String> {
    let lines: Vec<&str> = yaml.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "script:")
        .expect("a script: key");
    let key_indent = indent(lines[at]);
    lines[at + 1..]
        .iter()
        .take_while(|l| l.trim().is_empty() || indent(l) > key_indent)
        .filter_map(|l| l.trim().strip_prefix("- "))
        .map(str::to_string)
        .collect()
}

/// A repository with `main` and a change on `feature` adding line 13 of src/lib.rs (where
/// the scripted finding sits). Returns the base commit.
fn repo(dir: &Path) -> String {
    let git = |args: &[&str]| {
        let o = Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git");
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).trim().to_string()
    };
    git(&["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(dir.join("src")).expect("src");
    let mut lines: Vec<String> = (1..=20).map(|i| format!("// line {i}")).collect();
    std::fs::write(dir.join("src/lib.rs"), lines.join("\n") + "\n").expect("write");
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    let base = git(&["rev-parse", "HEAD"]);
    git(&["checkout", "-q", "-b", "feature"]);
    lines.insert(12, "    let y = x.unwrap();".to_string());
    std::fs::write(dir.join("src/lib.rs"), lines.join("\n") + "\n").expect("write");
    git(&["commit", "-q", "-am", "change"]);
    base
}

/// Runs `script` with bash as the CI runner would (`-eo pipefail`), in `repo`, with aiw on
/// the PATH, the test's config and dirs in `home`, the model keys and `env`.
async fn run_script(
    home: &Path,
    repo: &Path,
    script: &str,
    env: Vec<(&'static str, String)>,
) -> Output {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_aiw"));
    let path = format!(
        "{}:{}",
        bin.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let (home, repo, script) = (home.to_path_buf(), repo.to_path_buf(), script.to_string());
    tokio::task::spawn_blocking(move || {
        let mut c = Command::new("bash");
        for var in crate::util::SCRUBBED_VARS {
            c.env_remove(var);
        }
        c.args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
            .current_dir(&repo)
            .env("PATH", path)
            .env("AIW_CONFIG", home.join("config.toml"))
            .env("AIW_DATA_DIR", home.join("data"))
            .env("AIW_STATE_DIR", home.join("state"))
            .env("HOME", &home)
            .env("NO_COLOR", "1")
            .env("CI", "true")
            .env("ANTHROPIC_API_KEY", ANTHROPIC_KEY)
            .env("OPENAI_API_KEY", OPENAI_KEY)
            .stdin(std::process::Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("bash runs")
    })
    .await
    .expect("join")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn all_down(emu: &Emulator) {
    for m in ["primary", "fallback"] {
        emu.set_script(m, Script::always(Action::error(ErrorKind::Overloaded)));
    }
}

/// The `aiw review` line of the example uses the `review` route of the test config: only
/// the emulator's models answer it.
fn with_review_route(home: &Path, emu: &Emulator) {
    setup(emu, home);
    let cfg = home.join("config.toml");
    let text = std::fs::read_to_string(&cfg).expect("config");
    std::fs::write(
        &cfg,
        text.replace("[routes]\nreview =", "[routes]\ndefault ="),
    )
    .expect("config");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_github_actions_review_step_runs_as_written() {
    let script = github_step(&yaml_after(&readme(), "### GitHub Actions"), "Review");
    assert!(
        script.contains("aiw review") && script.contains("--github-comment"),
        "{script}"
    );
    let emu = Emulator::start().await.expect("emulator");
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("repo");
    with_review_route(home.path(), &emu);
    repo(work.path());
    let event = home.path().join("event.json");
    std::fs::write(
        &event,
        serde_json::json!({"pull_request": {"number": 7, "head": {"sha": "feedc0ffee0123456789abcdef0123456789abcd"}}}).to_string(),
    )
    .expect("event");
    let env = |emu: &Emulator| {
        vec![
            ("GITHUB_ACTIONS", "true".to_string()),
            ("GITHUB_API_URL", emu.github_api_url()),
            ("GITHUB_REPOSITORY", "org/repo".to_string()),
            ("GITHUB_REF", "refs/pull/7/merge".to_string()),
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("GITHUB_BASE_REF", "main".to_string()),
            ("GITHUB_TOKEN", GITHUB_TOKEN.to_string()),
            (
                "GITHUB_STEP_SUMMARY",
                home.path().join("summary.md").display().to_string(),
            ),
            (
                "GITHUB_OUTPUT",
                home.path().join("output.txt").display().to_string(),
            ),
        ]
    };
    let mine = |emu: &Emulator| {
        emu.github_comments()
            .into_iter()
            .filter(|c| c.body.contains("<!-- aiw-review -->"))
            .collect::<Vec<_>>()
    };

    // The primary reviews and finds nothing: green, one sticky comment, a SARIF file.
    emu.set_script("primary", Script::reply("[]"));
    let o = run_script(home.path(), work.path(), &script, env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c = mine(&emu);
    assert_eq!(c.len(), 1, "{}", text(&o));
    assert!(c[0].body.contains("anthropic/primary"), "{}", c[0].body);
    assert!(work.path().join("aiw.sarif").is_file());
    std::fs::remove_file(work.path().join("aiw.sarif")).expect("rm sarif");

    // The primary is down, the fallback reviews: still green, and the comment says who.
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script("fallback", Script::reply("[]"));
    let o = run_script(home.path(), work.path(), &script, env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let c = mine(&emu);
    assert_eq!((c.len(), c[0].edits), (1, 1), "the same comment, edited");
    assert!(c[0].body.contains("openai/fallback"), "{}", c[0].body);
    assert!(
        c[0].body
            .contains("a fallback model; anthropic/primary was unavailable"),
        "{}",
        c[0].body
    );
    std::fs::remove_file(work.path().join("aiw.sarif")).expect("rm sarif");

    // Everything down: aiw exits 75, the step maps it to a warning and success, the
    // comment becomes the neutral skip note, and no SARIF is written to close alerts.
    all_down(&emu);
    let o = run_script(home.path(), work.path(), &script, env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("::warning::AI review skipped"),
        "{}",
        text(&o)
    );
    let c = mine(&emu);
    assert_eq!(c.len(), 1);
    assert!(
        c[0].body
            .contains("review skipped: all models unavailable, will retry"),
        "{}",
        c[0].body
    );
    assert!(
        !work.path().join("aiw.sarif").exists(),
        "a skipped review writes no SARIF"
    );
    assert!(!text(&o).contains(GITHUB_TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readme_gitlab_job_script_runs_as_written() {
    let yaml = yaml_after(&readme(), "### GitLab CI");
    let script = gitlab_script(&yaml);
    assert!(
        script.iter().any(|l| l.contains("--gitlab-note")),
        "{script:?}"
    );
    assert!(
        yaml.contains("exit_codes: [75]"),
        "the job must allow exit 75 (skipped), as the README says"
    );
    let emu = Emulator::start().await.expect("emulator");
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("repo");
    with_review_route(home.path(), &emu);
    let base = repo(work.path());
    let env = |emu: &Emulator| {
        vec![
            ("GITLAB_CI", "true".to_string()),
            ("CI_API_V4_URL", emu.gitlab_api_url()),
            ("CI_PROJECT_ID", "42".to_string()),
            ("CI_PROJECT_PATH", "group/project".to_string()),
            ("CI_MERGE_REQUEST_IID", "3".to_string()),
            ("CI_MERGE_REQUEST_DIFF_BASE_SHA", base.clone()),
            ("CI_JOB_TOKEN", "glcbt-readme".to_string()),
            ("GITLAB_TOKEN", GITLAB_TOKEN.to_string()),
        ]
    };
    let all = script.join("\n");

    emu.set_script("primary", Script::reply("[]"));
    let o = run_script(home.path(), work.path(), &all, env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let n = emu.gitlab_notes();
    assert_eq!(n.len(), 1, "{}", text(&o));
    assert!(n[0].body.contains("anthropic/primary"), "{}", n[0].body);
    assert!(work.path().join("gl-code-quality.json").is_file());

    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    emu.set_script("fallback", Script::reply("[]"));
    let o = run_script(home.path(), work.path(), &all, env(&emu)).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let n = emu.gitlab_notes();
    assert_eq!((n.len(), n[0].edits), (1, 1));
    assert!(n[0].body.contains("openai/fallback"), "{}", n[0].body);
    assert!(
        n[0].body
            .contains("a fallback model; anthropic/primary was unavailable"),
        "{}",
        n[0].body
    );

    // Everything down: the job's script exits 75, which `allow_failure: exit_codes: [75]`
    // turns into a warning, and the note becomes the neutral skip note.
    all_down(&emu);
    let o = run_script(home.path(), work.path(), &all, env(&emu)).await;
    assert_eq!(o.status.code(), Some(75), "{}", text(&o));
    let n = emu.gitlab_notes();
    assert!(
        n[0].body
            .contains("review skipped: all models unavailable, will retry"),
        "{}",
        n[0].body
    );
    assert!(!text(&o).contains(GITLAB_TOKEN));
}
