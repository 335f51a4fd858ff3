//! Running the checks of an eval case on one answer: text checks, JSON Schema, tool calls,
//! latency, and code blocks (the first fenced block of a language, found with a real
//! Markdown parser, written to a fresh temporary directory and handed to a command run with
//! `sh -c` there, in its own process group, with a time limit, a small environment without
//! provider keys, and its output kept only as a short tail).

use std::io::{Read as _, Seek as _};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::file::{Check, CodeBlock};

/// How much of a failing command's output is kept for the report.
const OUTPUT_TAIL: u64 = 2048;

/// Variables a check command gets from aiw's environment; everything else (provider keys
/// included) is left out.
const PASSED_VARS: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
];

/// What a model answered, as the checks see it.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// The answer's text.
    pub text: String,
    /// Its tool calls: name and arguments.
    pub tool_calls: Vec<(String, Value)>,
    /// How long the whole answer took.
    pub total_ms: u64,
}

/// The result of one check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckOutcome {
    /// The check's kind (`contains`, `code_block`, …).
    pub kind: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// Why it failed (or what it saw), one line or a short tail of output.
    pub detail: String,
}

impl Check {
    /// Runs this check on `seen`.
    pub async fn run(&self, seen: &Observed) -> CheckOutcome {
        let (passed, detail) = match self {
            Self::Contains(s) => (
                seen.text.contains(s.as_str()),
                format!("expected the answer to contain {s:?}"),
            ),
            Self::NotContains(s) => (
                !seen.text.contains(s.as_str()),
                format!("the answer contains {s:?}"),
            ),
            Self::Regex(re) => (
                re.is_match(&seen.text),
                format!("the answer does not match /{}/", re.as_str()),
            ),
            Self::JsonSchema(v) => json_check(v, &seen.text),
            Self::ToolCall { name, arguments } => tool_check(name, arguments.as_deref(), seen),
            Self::MaxLatency(limit) => (
                u128::from(seen.total_ms) <= limit.as_millis(),
                format!(
                    "took {} ms, more than {} ms",
                    seen.total_ms,
                    limit.as_millis()
                ),
            ),
            Self::CodeBlock(cb) => code_check(cb, &seen.text).await,
        };
        CheckOutcome {
            kind: self.kind(),
            passed,
            detail: if passed { String::new() } else { detail },
        }
    }
}

fn json_check(v: &jsonschema::Validator, text: &str) -> (bool, String) {
    let candidates = std::iter::once(text.trim().to_string()).chain(
        code_blocks(text)
            .into_iter()
            .filter(|(lang, _)| lang.is_empty() || lang.eq_ignore_ascii_case("json"))
            .map(|(_, body)| body),
    );
    let Some(doc) = candidates
        .into_iter()
        .find_map(|c| serde_json::from_str::<Value>(&c).ok())
    else {
        return (
            false,
            "the answer holds no JSON (neither the whole text nor a json code block)".into(),
        );
    };
    let errors: Vec<String> = v
        .iter_errors(&doc)
        .take(3)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    (
        errors.is_empty(),
        format!("JSON does not match the schema: {}", errors.join("; ")),
    )
}

fn tool_check(
    name: &str,
    schema: Option<&jsonschema::Validator>,
    seen: &Observed,
) -> (bool, String) {
    let calls: Vec<&Value> = seen
        .tool_calls
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, a)| a)
        .collect();
    if calls.is_empty() {
        let made: Vec<&str> = seen.tool_calls.iter().map(|(n, _)| n.as_str()).collect();
        let made = if made.is_empty() {
            "no tool calls".to_string()
        } else {
            format!("calls to {}", made.join(", "))
        };
        return (false, format!("expected a call to `{name}`, got {made}"));
    }
    let Some(schema) = schema else {
        return (true, String::new());
    };
    let mut why = String::new();
    for args in &calls {
        match schema.iter_errors(args).next() {
            None => return (true, String::new()),
            Some(e) => why = format!("{}: {e}", e.instance_path()),
        }
    }
    (
        false,
        format!("`{name}` was called, but its arguments do not match the schema: {why}"),
    )
}

/// The fenced code blocks of a Markdown text: (language, body), in order.
pub fn code_blocks(text: &str) -> Vec<(String, String)> {
    use pulldown_cmark::{CodeBlockKind, Event, Parser, Tag, TagEnd};
    let mut out = Vec::new();
    let mut current: Option<(String, String)> = None;
    for ev in Parser::new(text) {
        match ev {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                current = Some((lang, String::new()));
            }
            Event::Text(t) => {
                if let Some((_, body)) = &mut current {
                    body.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                if let Some(b) = current.take() {
                    out.push(b);
                }
            }
            _ => {}
        }
    }
    out
}

/// One language under its usual names.
fn same_language(a: &str, b: &str) -> bool {
    const GROUPS: &[&[&str]] = &[
        &["rust", "rs"],
        &["python", "py", "python3"],
        &["sh", "bash", "shell", "zsh"],
        &["javascript", "js"],
        &["typescript", "ts"],
        &["go", "golang"],
    ];
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    a == b
        || GROUPS
            .iter()
            .any(|g| g.contains(&a.as_str()) && g.contains(&b.as_str()))
}

async fn code_check(cb: &CodeBlock, text: &str) -> (bool, String) {
    let Some((_, body)) = code_blocks(text)
        .into_iter()
        .find(|(lang, _)| same_language(lang, &cb.language))
    else {
        return (
            false,
            format!("the answer has no {} code block", cb.language),
        );
    };
    let dir = match tempfile::Builder::new().prefix("aiw-eval-").tempdir() {
        Ok(d) => d,
        Err(e) => return (false, format!("cannot make a temporary directory: {e}")),
    };
    let mut source = body;
    if !cb.append.is_empty() {
        if !source.ends_with('\n') {
            source.push('\n');
        }
        source.push_str(&cb.append);
        source.push('\n');
    }
    if let Err(e) = crate::files::write_atomic(
        &dir.path().join(&cb.file),
        source.as_bytes(),
        crate::files::Access::Private,
    ) {
        return (false, format!("cannot write {}: {e}", cb.file));
    }
    let command = cb.command.replace("{file}", &cb.file);
    match run_command(dir.path(), &command, cb.timeout).await {
        Ok(CommandEnd::Exited { code: Some(0), .. }) => (true, String::new()),
        Ok(CommandEnd::Exited { code, tail }) => (
            false,
            format!(
                "`{command}` exited with {}: {}",
                code.map_or_else(|| "a signal".to_string(), |c| format!("status {c}")),
                tail.trim()
            ),
        ),
        Ok(CommandEnd::TimedOut) => (
            false,
            format!(
                "`{command}` did not finish within {}",
                humantime::format_duration(cb.timeout)
            ),
        ),
        Err(e) => (false, format!("cannot run `{command}`: {e}")),
    }
}

enum CommandEnd {
    Exited { code: Option<i32>, tail: String },
    TimedOut,
}

/// Runs `command` with `sh -c` in `dir`, stdout and stderr into a file there, killing its
/// whole process group at `timeout`.
async fn run_command(dir: &Path, command: &str, timeout: Duration) -> std::io::Result<CommandEnd> {
    let log_path = dir.join(".aiw-eval-output");
    let log = crate::files::open_private(&log_path)?;
    let mut cmd = tokio::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(dir)
        .env_clear()
        .stdin(Stdio::null())
        .stdout(Stdio::from(log.try_clone()?))
        .stderr(Stdio::from(log))
        .kill_on_drop(true);
    for v in PASSED_VARS {
        if let Some(val) = std::env::var_os(v) {
            cmd.env(v, val);
        }
    }
    #[cfg(unix)]
    cmd.process_group(0);
    let mut child = cmd.spawn()?;
    let pid = child.id();
    let Ok(status) = tokio::time::timeout(timeout, child.wait()).await else {
        // The group: `sh -c` may have started the real work as a grandchild.
        if let Some(pid) = pid {
            let _ = tokio::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .await;
        }
        let _ = child.start_kill();
        let _ = child.wait().await;
        return Ok(CommandEnd::TimedOut);
    };
    let status = status?;
    Ok(CommandEnd::Exited {
        code: status.code(),
        tail: tail(&log_path),
    })
}

/// The last [`OUTPUT_TAIL`] bytes of a file, as text.
fn tail(path: &Path) -> String {
    let Ok(mut f) = std::fs::File::open(path) else {
        return String::new();
    };
    let len = f.metadata().map_or(0, |m| m.len());
    if len > OUTPUT_TAIL {
        let _ = f.seek(std::io::SeekFrom::Start(len - OUTPUT_TAIL));
    }
    let mut buf = Vec::new();
    let _ = f.take(OUTPUT_TAIL).read_to_end(&mut buf);
    crate::redact::global()
        .scrub(&String::from_utf8_lossy(&buf))
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::EvalFile;

    fn checks(toml: &str) -> Vec<Check> {
        let text = format!(
            "[[case]]\nname = \"c\"\nprompt = \"p\"\n[[case.tools]]\nname = \"read_file\"\ninput_schema = {{ type = \"object\" }}\n{toml}"
        );
        EvalFile::parse(Path::new("t.toml"), &text)
            .unwrap()
            .cases
            .remove(0)
            .checks
    }

    async fn verdict(toml: &str, seen: &Observed) -> CheckOutcome {
        checks(toml)[0].run(seen).await
    }

    fn text(t: &str) -> Observed {
        Observed {
            text: t.into(),
            ..Observed::default()
        }
    }

    #[tokio::test]
    async fn each_kind_passes_and_fails() {
        let cases: &[(&str, Observed, bool)] = &[
            (
                "[[case.check]]\ncontains = \"Paris\"",
                text("It is Paris."),
                true,
            ),
            (
                "[[case.check]]\ncontains = \"Paris\"",
                text("It is Rome."),
                false,
            ),
            (
                "[[case.check]]\nnot_contains = \"TODO\"",
                text("done"),
                true,
            ),
            (
                "[[case.check]]\nnot_contains = \"TODO\"",
                text("TODO: later"),
                false,
            ),
            ("[[case.check]]\nregex = '^\\d+$'", text("42"), true),
            ("[[case.check]]\nregex = '^\\d+$'", text("forty-two"), false),
            (
                "[[case.check]]\njson_schema = { type = \"object\", required = [\"ok\"] }",
                text("Here:\n```json\n{\"ok\": true}\n```"),
                true,
            ),
            (
                "[[case.check]]\njson_schema = { type = \"object\", required = [\"ok\"] }",
                text("{\"no\": 1}"),
                false,
            ),
            (
                "[[case.check]]\nmax_latency = \"1s\"",
                Observed {
                    total_ms: 1000,
                    ..Observed::default()
                },
                true,
            ),
            (
                "[[case.check]]\nmax_latency = \"1s\"",
                Observed {
                    total_ms: 1001,
                    ..Observed::default()
                },
                false,
            ),
            (
                "[[case.check]]\ntool_call = \"read_file\"\narguments = { type = \"object\", required = [\"path\"] }",
                Observed {
                    tool_calls: vec![("read_file".into(), serde_json::json!({"path": "a"}))],
                    ..Observed::default()
                },
                true,
            ),
            (
                "[[case.check]]\ntool_call = \"read_file\"\narguments = { type = \"object\", required = [\"path\"] }",
                Observed {
                    tool_calls: vec![("read_file".into(), serde_json::json!({"file": "a"}))],
                    ..Observed::default()
                },
                false,
            ),
            (
                "[[case.check]]\ntool_call = \"read_file\"",
                Observed {
                    tool_calls: vec![("write_file".into(), serde_json::json!({}))],
                    ..Observed::default()
                },
                false,
            ),
            (
                "[[case.check]]\ncode_block = \"sh\"\ncommand = \"sh -n {file}\"",
                text("```bash\necho hi\n```"),
                true,
            ),
            (
                "[[case.check]]\ncode_block = \"sh\"\ncommand = \"sh -n {file}\"",
                text("```sh\nif then fi (\n```"),
                false,
            ),
            (
                "[[case.check]]\ncode_block = \"sh\"\ncommand = \"sh {file}\"\nappend = 'test \"$(f)\" = 42'",
                text("```sh\nf() { echo 42; }\n```"),
                true,
            ),
            (
                "[[case.check]]\ncode_block = \"sh\"\ncommand = \"sh {file}\"\nappend = 'test \"$(f)\" = 42'",
                text("```sh\nf() { echo 41; }\n```"),
                false,
            ),
            (
                "[[case.check]]\ncode_block = \"python\"\ncommand = \"true\"",
                text("```sh\necho\n```"),
                false,
            ),
        ];
        for (toml, seen, want) in cases {
            let got = verdict(toml, seen).await;
            assert_eq!(got.passed, *want, "{toml} on {seen:?}: {got:?}");
            assert_eq!(got.detail.is_empty(), *want, "{got:?}");
        }
    }

    #[tokio::test]
    async fn a_command_past_its_time_limit_fails_and_its_group_is_killed() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("still-running");
        let toml = format!(
            "[[case.check]]\ncode_block = \"sh\"\ncommand = \"sh {{file}}\"\ntimeout = \"300ms\"\nappend = 'sleep 2; touch {}'",
            marker.display()
        );
        let got = verdict(&toml, &text("```sh\n: \n```")).await;
        assert!(!got.passed);
        assert!(
            got.detail.contains("did not finish within 300ms"),
            "{got:?}"
        );
        tokio::time::sleep(Duration::from_millis(2500)).await;
        assert!(!marker.exists(), "the command's group was not killed");
    }

    #[tokio::test]
    async fn a_failing_command_reports_its_output_tail() {
        let got = verdict(
            "[[case.check]]\ncode_block = \"sh\"\ncommand = 'sh {file}'\nappend = 'echo 0; exit 3'",
            &text("```sh\necho compiling\n```"),
        )
        .await;
        assert!(!got.passed);
        assert!(got.detail.contains("exited with status 3"), "{got:?}");
        assert!(got.detail.contains("compiling\n0"), "{got:?}");
    }

    #[test]
    fn code_blocks_are_found_by_a_markdown_parser() {
        let t = "text\n```rust\nfn a() {}\n```\n\n~~~ python extra\nx = 1\n~~~\n";
        assert_eq!(
            code_blocks(t),
            [
                ("rust".to_string(), "fn a() {}\n".to_string()),
                ("python".to_string(), "x = 1\n".to_string())
            ]
        );
    }
}
