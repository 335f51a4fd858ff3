//! The eval file format: TOML files in `.aiw/evals/` (or named with `--file`), each with
//! `[[case]]` tables (a prompt, an optional system prompt, attached files and tools) and
//! their `[[case.check]]` tables, plus an optional `[required]` table of models and the pass
//! rate each must reach. Parsing checks everything it can before any model is called (a
//! regex that does not compile, a JSON Schema that is not one, a check with no kind or two)
//! and says where: `path:line: what is wrong`.
//!
//! ```toml
//! [required]
//! "anthropic/claude-sonnet-4-5" = 0.9   # fraction of cases that must pass
//!
//! [[case]]
//! name = "fizzbuzz"
//! prompt = "Write fizzbuzz(n) in Python."
//!
//! [[case.check]]
//! code_block = "python"
//! command = "python3 {file}"
//! append = "assert fizzbuzz(15) == 'FizzBuzz'"
//! ```

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use crate::conversation::Tool;

/// Largest eval file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Largest attached file.
const MAX_ATTACHED_BYTES: u64 = 256 * 1024;
/// A code block command's time limit when the check sets none.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// An eval file that cannot be used, and where.
#[derive(Debug, thiserror::Error)]
#[error("{}{}: {message}", .path.display(), .line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct EvalError {
    /// The eval file.
    pub path: PathBuf,
    /// The line (1-based), when the problem has one.
    pub line: Option<usize>,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// One parsed eval file.
#[derive(Debug, Clone)]
pub struct EvalFile {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its cases, in file order.
    pub cases: Vec<Case>,
    /// `provider/model` -> the pass rate (0..=1) it must reach.
    pub required: BTreeMap<String, f64>,
}

/// One prompt and the checks its answer must pass.
#[derive(Debug, Clone)]
pub struct Case {
    /// `file-stem/name`, unique across the files of a run.
    pub id: String,
    /// Line of its `[[case]]` header.
    pub line: usize,
    /// The user message (attached files appended as fenced blocks).
    pub prompt: String,
    /// System prompt.
    pub system: Option<String>,
    /// Tools the model may call.
    pub tools: Vec<Tool>,
    /// Output token limit.
    pub max_tokens: Option<u32>,
    /// Sampling temperature.
    pub temperature: Option<f32>,
    /// The checks, all of which must pass.
    pub checks: Vec<Check>,
}

/// One check on an answer.
#[derive(Debug, Clone)]
pub enum Check {
    /// The answer text contains this.
    Contains(String),
    /// The answer text does not contain this.
    NotContains(String),
    /// The answer text matches this regular expression.
    Regex(regex::Regex),
    /// The answer (or its first JSON code block) is JSON valid against this schema.
    JsonSchema(Arc<jsonschema::Validator>),
    /// The first code block of a language, written to a temporary directory, passes a command.
    CodeBlock(CodeBlock),
    /// The answer calls this tool, with arguments valid against the schema when one is given.
    ToolCall {
        /// The tool's name.
        name: String,
        /// Schema of the arguments.
        arguments: Option<Arc<jsonschema::Validator>>,
    },
    /// The whole answer took at most this long.
    MaxLatency(Duration),
}

/// A `code_block` check.
#[derive(Debug, Clone)]
pub struct CodeBlock {
    /// The language as written in the check (`rust`, `python`, `sh`).
    pub language: String,
    /// The file name the block is written to (default from the language: `main.py`).
    pub file: String,
    /// Run with `sh -c` in the temporary directory; `{file}` is replaced by the file name.
    pub command: String,
    /// Text appended to the block before it is written (tests of the code, say).
    pub append: String,
    /// How long the command may run.
    pub timeout: Duration,
}

impl Check {
    /// The check's kind as written in eval files (`contains`, `code_block`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Contains(_) => "contains",
            Self::NotContains(_) => "not_contains",
            Self::Regex(_) => "regex",
            Self::JsonSchema(_) => "json_schema",
            Self::CodeBlock(_) => "code_block",
            Self::ToolCall { .. } => "tool_call",
            Self::MaxLatency(_) => "max_latency",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    required: BTreeMap<String, f64>,
    #[serde(default)]
    case: Vec<toml::Spanned<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    prompt: String,
    system: Option<String>,
    #[serde(default)]
    files: Vec<String>,
    #[serde(default)]
    tools: Vec<Tool>,
    max_tokens: Option<u32>,
    temperature: Option<f32>,
    #[serde(default)]
    check: Vec<toml::Spanned<RawCheck>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCheck {
    contains: Option<String>,
    not_contains: Option<String>,
    regex: Option<String>,
    json_schema: Option<Value>,
    code_block: Option<String>,
    tool_call: Option<String>,
    max_latency: Option<String>,
    // Options of some kinds.
    command: Option<String>,
    file: Option<String>,
    append: Option<String>,
    timeout: Option<String>,
    arguments: Option<Value>,
}

/// The eval files of a project: `.aiw/evals/*.toml` under `dir`, sorted by name.
pub fn discover(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let evals = dir.join(".aiw").join("evals");
    let mut out: Vec<PathBuf> = match std::fs::read_dir(&evals) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    out.sort();
    Ok(out)
}

/// Line (1-based) of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

impl EvalFile {
    /// Reads and checks one eval file.
    pub fn load(path: &Path) -> Result<Self, EvalError> {
        let err = |line: Option<usize>, message: String| EvalError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let meta = std::fs::metadata(path)
            .map_err(|e| err(None, format!("cannot read the eval file: {e}")))?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(err(
                None,
                format!("the eval file is larger than {MAX_FILE_BYTES} bytes; split it"),
            ));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| err(None, format!("cannot read the eval file: {e}")))?;
        Self::parse(path, &text)
    }

    /// Parses eval file text; `path` names it in errors and is where attached files are
    /// found from.
    pub fn parse(path: &Path, text: &str) -> Result<Self, EvalError> {
        let err = |span: Option<Range<usize>>, message: String| EvalError {
            path: path.to_path_buf(),
            line: span.map(|s| line_of(text, s.start)),
            message,
        };
        let raw: RawFile = toml::from_str(text).map_err(|e| err(e.span(), e.message().into()))?;
        let stem = path
            .file_stem()
            .map_or_else(|| "eval".into(), |s| s.to_string_lossy().into_owned());
        let base = project_root(path);
        for (model, rate) in &raw.required {
            if !(0.0..=1.0).contains(rate) {
                return Err(err(
                    None,
                    format!(
                        "[required] \"{model}\" = {rate}: write the pass rate as a fraction from 0 to 1 (0.8 = 8 cases of 10)"
                    ),
                ));
            }
            if !model.contains('/') {
                return Err(err(
                    None,
                    format!("[required] \"{model}\": name the model as provider/model"),
                ));
            }
        }
        if raw.case.is_empty() {
            return Err(err(
                None,
                "no cases: add a [[case]] with a name, a prompt and [[case.check]] tables".into(),
            ));
        }
        let mut cases: Vec<Case> = Vec::new();
        for spanned in raw.case {
            let span = spanned.span();
            let rc = spanned.into_inner();
            let line = line_of(text, span.start);
            let id = format!("{stem}/{}", rc.name);
            if rc.name.trim().is_empty() {
                return Err(err(Some(span), "a case needs a name".into()));
            }
            if cases.iter().any(|c| c.id == id) {
                return Err(err(
                    Some(span),
                    format!("two cases are named `{}`; names must be unique", rc.name),
                ));
            }
            if rc.check.is_empty() {
                return Err(err(
                    Some(span),
                    format!(
                        "case `{}` has no checks: add [[case.check]] tables (contains, not_contains, regex, json_schema, code_block, tool_call, max_latency)",
                        rc.name
                    ),
                ));
            }
            let mut prompt = rc.prompt;
            for f in &rc.files {
                let body = read_attached(&base, f)
                    .map_err(|m| err(Some(span.clone()), format!("files: `{f}`: {m}")))?;
                let _ = write!(prompt, "\n\n`{f}`:\n```\n{body}\n```");
            }
            for t in &rc.tools {
                if !t.input_schema.is_object() {
                    return Err(err(
                        Some(span.clone()),
                        format!(
                            "tool `{}`: input_schema must be a JSON Schema object",
                            t.name
                        ),
                    ));
                }
            }
            let mut checks = Vec::new();
            for c in rc.check {
                let cspan = c.span();
                let check = build_check(c.into_inner()).map_err(|m| err(Some(cspan.clone()), m))?;
                if let Check::ToolCall { name, .. } = &check
                    && !rc.tools.iter().any(|t| &t.name == name)
                {
                    return Err(err(
                        Some(cspan),
                        format!(
                            "tool_call = \"{name}\": the case offers no such tool; declare it in [[case.tools]] (name, description, input_schema)"
                        ),
                    ));
                }
                checks.push(check);
            }
            cases.push(Case {
                id,
                line,
                prompt,
                system: rc.system,
                tools: rc.tools,
                max_tokens: rc.max_tokens,
                temperature: rc.temperature,
                checks,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            cases,
            required: raw.required,
        })
    }
}

/// Where attached files are looked up: the repository of an eval file in `.aiw/evals/` (the
/// directory that holds `.aiw`), else the eval file's own directory.
fn project_root(path: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new("."));
    let in_evals = dir.file_name().is_some_and(|n| n == "evals")
        && dir
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == ".aiw");
    match dir.parent().and_then(Path::parent) {
        Some(root) if in_evals => root.to_path_buf(),
        _ => dir.to_path_buf(),
    }
}

/// Reads an attached file, which must stay inside `base` (no absolute paths, no `..`, no
/// symbolic link out): an eval file from a cloned repository must not send `~/.ssh` to a
/// model.
fn read_attached(base: &Path, rel: &str) -> Result<String, String> {
    let relative = Path::new(rel);
    if relative.is_absolute()
        || relative.components().any(|c| {
            !matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::CurDir
            )
        })
    {
        return Err(format!(
            "attached files are named relative to {} and stay inside it (no absolute paths, no `..`)",
            base.display()
        ));
    }
    let p = base.join(relative);
    let meta = std::fs::metadata(&p).map_err(|e| format!("cannot read it: {e}"))?;
    let (Ok(resolved), Ok(root)) = (p.canonicalize(), base.canonicalize()) else {
        return Err("cannot resolve its path".into());
    };
    if !resolved.starts_with(&root) {
        return Err(format!(
            "it leads outside {} (a symbolic link?); attach only files inside it",
            base.display()
        ));
    }
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_ATTACHED_BYTES {
        return Err(format!("larger than {MAX_ATTACHED_BYTES} bytes"));
    }
    std::fs::read_to_string(&p).map_err(|e| format!("cannot read it as UTF-8 text: {e}"))
}

fn schema(what: &str, v: &Value) -> Result<Arc<jsonschema::Validator>, String> {
    jsonschema::validator_for(v)
        .map(Arc::new)
        .map_err(|e| format!("{what} is not a valid JSON Schema: {e}"))
}

fn duration(what: &str, s: &str) -> Result<Duration, String> {
    crate::config::parse_duration(s).map_err(|e| format!("{what} = \"{s}\": {e}"))
}

/// The file a code block of `language` is written to when the check names none.
fn default_file(language: &str) -> String {
    let ext = match language.to_ascii_lowercase().as_str() {
        "rust" | "rs" => "rs",
        "python" | "py" | "python3" => "py",
        "sh" | "bash" | "shell" | "zsh" => "sh",
        "javascript" | "js" => "js",
        "typescript" | "ts" => "ts",
        "go" | "golang" => "go",
        "json" => "json",
        "toml" => "toml",
        "c" => "c",
        _ => "txt",
    };
    format!("main.{ext}")
}

fn build_check(r: RawCheck) -> Result<Check, String> {
    let kinds: Vec<&str> = [
        ("contains", r.contains.is_some()),
        ("not_contains", r.not_contains.is_some()),
        ("regex", r.regex.is_some()),
        ("json_schema", r.json_schema.is_some()),
        ("code_block", r.code_block.is_some()),
        ("tool_call", r.tool_call.is_some()),
        ("max_latency", r.max_latency.is_some()),
    ]
    .iter()
    .filter(|(_, set)| *set)
    .map(|(k, _)| *k)
    .collect();
    let kind = match kinds.as_slice() {
        [k] => *k,
        [] => {
            return Err("a check needs one kind: contains, not_contains, regex, json_schema, code_block, tool_call or max_latency".into());
        }
        more => {
            return Err(format!(
                "a check has one kind, this one has {}: split it into several [[case.check]] tables",
                more.join(" and ")
            ));
        }
    };
    let allowed: &[&str] = match kind {
        "code_block" => &["command", "file", "append", "timeout"],
        "tool_call" => &["arguments"],
        _ => &[],
    };
    for (opt, set) in [
        ("command", r.command.is_some()),
        ("file", r.file.is_some()),
        ("append", r.append.is_some()),
        ("timeout", r.timeout.is_some()),
        ("arguments", r.arguments.is_some()),
    ] {
        if set && !allowed.contains(&opt) {
            return Err(format!("`{opt}` does not apply to a {kind} check"));
        }
    }
    Ok(match kind {
        "contains" => Check::Contains(r.contains.unwrap_or_default()),
        "not_contains" => Check::NotContains(r.not_contains.unwrap_or_default()),
        "regex" => {
            let src = r.regex.unwrap_or_default();
            Check::Regex(
                regex::Regex::new(&src).map_err(|e| format!("regex does not compile: {e}"))?,
            )
        }
        "json_schema" => Check::JsonSchema(schema(
            "json_schema",
            &r.json_schema.unwrap_or(Value::Null),
        )?),
        "code_block" => {
            let language = r.code_block.unwrap_or_default();
            if language.trim().is_empty() {
                return Err("code_block needs a language (`rust`, `python`, `sh`)".into());
            }
            let command = r.command.ok_or_else(|| {
                format!("a code_block check needs a command to run on the block, e.g. command = \"sh -n {{file}}\" (the {language} block is written to a temporary directory)")
            })?;
            let file = r.file.unwrap_or_else(|| default_file(&language));
            if file.contains('/') || file.contains('\\') || file.starts_with('.') {
                return Err(format!(
                    "file = \"{file}\": a plain file name (no directories)"
                ));
            }
            let timeout = match &r.timeout {
                Some(t) => duration("timeout", t)?,
                None => DEFAULT_COMMAND_TIMEOUT,
            };
            Check::CodeBlock(CodeBlock {
                language,
                file,
                command,
                append: r.append.unwrap_or_default(),
                timeout,
            })
        }
        "tool_call" => Check::ToolCall {
            name: r.tool_call.unwrap_or_default(),
            arguments: r
                .arguments
                .as_ref()
                .map(|a| schema("arguments", a))
                .transpose()?,
        },
        _ => Check::MaxLatency(duration("max_latency", &r.max_latency.unwrap_or_default())?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<EvalFile, EvalError> {
        EvalFile::parse(Path::new("/x/team.toml"), text)
    }

    #[test]
    fn parses_every_check_kind() {
        let f = parse(
            r#"
[required]
"anthropic/a" = 0.5

[[case]]
name = "all"
prompt = "p"
system = "s"
[[case.tools]]
name = "read_file"
input_schema = { type = "object" }
[[case.check]]
contains = "a"
[[case.check]]
not_contains = "b"
[[case.check]]
regex = "^a+$"
[[case.check]]
json_schema = { type = "object", required = ["x"] }
[[case.check]]
code_block = "python"
command = "python3 {file}"
timeout = "5s"
[[case.check]]
tool_call = "read_file"
arguments = { type = "object" }
[[case.check]]
max_latency = "2s"
"#,
        )
        .unwrap();
        let kinds: Vec<&str> = f.cases[0].checks.iter().map(Check::kind).collect();
        assert_eq!(
            kinds,
            [
                "contains",
                "not_contains",
                "regex",
                "json_schema",
                "code_block",
                "tool_call",
                "max_latency"
            ]
        );
        assert_eq!(f.cases[0].id, "team/all");
        assert_eq!(f.cases[0].line, 5);
        assert!((f.required["anthropic/a"] - 0.5).abs() < f64::EPSILON);
        let Check::CodeBlock(cb) = &f.cases[0].checks[4] else {
            panic!()
        };
        assert_eq!(cb.file, "main.py");
        assert_eq!(cb.timeout, Duration::from_secs(5));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let cases = [
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\nregex = \"(\"\n",
                "/x/team.toml:4: regex does not compile",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n\n[[case.check]]\ncontains = \"x\"\nregex = \"y\"\n",
                "/x/team.toml:5: a check has one kind, this one has contains and regex",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\ncontans = \"x\"\n",
                "/x/team.toml:5: unknown field `contans`",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n",
                "/x/team.toml:1: case `a` has no checks",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\njson_schema = { type = 5 }\n",
                "/x/team.toml:4: json_schema is not a valid JSON Schema",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\ncode_block = \"sh\"\n",
                "/x/team.toml:4: a code_block check needs a command",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\ncontains = \"x\"\ncommand = \"y\"\n",
                "/x/team.toml:4: `command` does not apply to a contains check",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\nmax_latency = \"soon\"\n",
                "/x/team.toml:4: max_latency = \"soon\"",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\ntool_call = \"edit\"\n",
                "/x/team.toml:4: tool_call = \"edit\": the case offers no such tool",
            ),
            ("x = 1\n", "/x/team.toml:1: unknown field `x`"),
            ("", "/x/team.toml: no cases"),
            (
                "[required]\n\"anthropic/a\" = 8\n[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\ncontains = \"x\"\n",
                "/x/team.toml: [required] \"anthropic/a\" = 8: write the pass rate as a fraction",
            ),
            (
                "[[case]]\nname = \"a\"\nprompt = \"p\"\nfiles = [\"nope.rs\"]\n[[case.check]]\ncontains = \"x\"\n",
                "/x/team.toml:1: files: `nope.rs`: cannot read it",
            ),
        ];
        for (text, want) in cases {
            let got = parse(text).unwrap_err().to_string();
            assert!(
                got.starts_with(want),
                "{text:?}\n  got: {got}\n want: {want}"
            );
        }
    }

    #[test]
    fn attached_files_are_appended_to_the_prompt() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("lib.rs"), "fn x() {}").unwrap();
        let path = dir.path().join("e.toml");
        std::fs::write(
            &path,
            "[[case]]\nname = \"a\"\nprompt = \"Fix it.\"\nfiles = [\"lib.rs\"]\n[[case.check]]\ncontains = \"x\"\n",
        )
        .unwrap();
        let f = EvalFile::load(&path).unwrap();
        assert_eq!(
            f.cases[0].prompt,
            "Fix it.\n\n`lib.rs`:\n```\nfn x() {}\n```"
        );
    }

    #[test]
    fn the_example_eval_file_parses() {
        let f = EvalFile::parse(
            Path::new("assets/evals/coding.toml"),
            include_str!("../../assets/evals/coding.toml"),
        )
        .unwrap();
        assert_eq!(f.cases.len(), 7);
        let code_blocks = f
            .cases
            .iter()
            .flat_map(|c| &c.checks)
            .filter(|c| matches!(c, Check::CodeBlock(_)))
            .count();
        assert_eq!(code_blocks, 5);
    }

    #[test]
    fn discover_lists_toml_files_sorted() {
        let dir = tempfile::tempdir().unwrap();
        assert!(discover(dir.path()).unwrap().is_empty());
        let evals = dir.path().join(".aiw/evals");
        std::fs::create_dir_all(&evals).unwrap();
        for n in ["b.toml", "a.toml", "notes.md"] {
            std::fs::write(evals.join(n), "").unwrap();
        }
        let names: Vec<String> = discover(dir.path())
            .unwrap()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.toml", "b.toml"]);
    }
}
