//! `aiw eval` and `aiw drill` end to end with the real binary against the emulator, whose
//! answers are crafted per case (by prompt) to pass or to fail each check kind (max_latency:
//! only failing, a passing one would bound wall-clock time): scores,
//! `--json`, JUnit XML checked with a real XML parser against the JUnit schema's structure,
//! `[required]` exit codes, bad eval files, bounded concurrency, stored scores in
//! `aiw status`, `[health] min_eval_score`, the fallback note, drills that leave the real
//! health file byte-identical; and one case on the local SmolLM2 model.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use aiw_emulator::{Action, Emulator, ErrorKind, Reply, Script};
use serde_json::{Value, json};

use crate::util::{Sandbox, code, describe, run, stderr, stdout};

/// One case per check kind; the prompt starts with a tag the emulator answers by.
const ALL_KINDS: &str = r#"
[required]
"anthropic/good" = 1.0

[[case]]
name = "contains"
prompt = "K-contains: the capital of France?"
[[case.check]]
contains = "Paris"

[[case]]
name = "not_contains"
prompt = "K-not_contains: finish the job"
[[case.check]]
not_contains = "TODO"

[[case]]
name = "regex"
prompt = "K-regex: a phone number"
[[case.check]]
regex = '^\d{3}-\d{4}$'

[[case]]
name = "json_schema"
prompt = "K-json_schema: describe the project as JSON"
[[case.check]]
json_schema = { type = "object", required = ["name", "stars"], properties = { stars = { type = "integer" } } }

[[case]]
name = "code_block"
prompt = "K-code_block: write add() in sh"
[[case.check]]
code_block = "sh"
command = "sh -n {file} && sh {file}"
append = 'test "$(add 2 3)" = 5'

[[case]]
name = "tool_call"
prompt = "K-tool_call: look at main.rs"
[[case.tools]]
name = "read_file"
description = "Read a file of the repository"
input_schema = { type = "object", properties = { path = { type = "string" } }, required = ["path"] }
[[case.check]]
tool_call = "read_file"
arguments = { type = "object", required = ["path"], properties = { path = { type = "string" } } }
"#;

fn good_script() -> Script {
    Script::reply("unexpected prompt")
        .when("K-contains", Action::reply("It is Paris."))
        .when("K-not_contains", Action::reply("Done, nothing left."))
        .when("K-regex", Action::reply("555-1234"))
        .when(
            "K-json_schema",
            Action::reply("Here:\n```json\n{\"name\": \"aiw\", \"stars\": 5}\n```"),
        )
        .when(
            "K-code_block",
            Action::reply("```sh\nadd() { echo $(($1 + $2)); }\n```"),
        )
        .when(
            "K-tool_call",
            Action::Reply(Reply::tool_call(
                "read_file",
                json!({"path": "src/main.rs"}),
            )),
        )
}

fn bad_script() -> Script {
    Script::reply("unexpected prompt")
        .when("K-contains", Action::reply("It is Rome."))
        .when("K-not_contains", Action::reply("TODO: finish later"))
        .when("K-regex", Action::reply("call me maybe"))
        .when(
            "K-json_schema",
            Action::reply("{\"name\": \"aiw\", \"stars\": \"five\"}"),
        )
        .when(
            "K-code_block",
            Action::reply("```sh\nadd() { echo $(($1 - $2)); }\n```"),
        )
        .when(
            "K-tool_call",
            Action::Reply(Reply::tool_call("read_file", json!({"file": 3}))),
        )
}

fn write_eval(sb: &Sandbox, name: &str, text: &str) -> std::path::PathBuf {
    let dir = sb.home().join(".aiw/evals");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

async fn aiw(sb: &Sandbox, args: &[&str]) -> std::process::Output {
    let mut cmd = sb.aiw();
    cmd.args(args);
    tokio::task::spawn_blocking(move || run(&mut cmd))
        .await
        .unwrap()
}

fn model<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == name)
        .unwrap_or_else(|| panic!("{name} not in {report}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_check_kind_passes_on_good_answers_and_fails_on_bad_ones() {
    let emu = Emulator::start().await.unwrap();
    emu.set_script("good", good_script());
    emu.set_script("bad", bad_script());
    let sb = Sandbox::new();
    sb.write_emulator_config(&emu.base_url(), &["anthropic/good", "openai/bad"], "");
    write_eval(&sb, "kinds.toml", ALL_KINDS);
    let junit = sb.root().join("junit.xml");
    let out = aiw(&sb, &["eval", "--json", "--junit", junit.to_str().unwrap()]).await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let good = model(&report, "anthropic/good");
    assert_eq!(
        (good["passed"].as_u64(), good["total"].as_u64()),
        (Some(6), Some(6)),
        "{good:#}"
    );
    assert_eq!(good["required"], 1.0);
    let bad = model(&report, "openai/bad");
    assert_eq!(bad["passed"], 0, "{bad:#}");
    // Each case failed on its own check kind, with a reason.
    for c in bad["cases"].as_array().unwrap() {
        let kind = c["case"].as_str().unwrap().trim_start_matches("kinds/");
        assert_eq!(c["checks"][0]["kind"], kind, "{c:#}");
        assert_eq!(c["checks"][0]["passed"], false, "{c:#}");
        assert!(
            !c["checks"][0]["detail"].as_str().unwrap().is_empty(),
            "{c:#}"
        );
    }
    let detail = |case: &str| {
        bad["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["case"] == format!("kinds/{case}"))
            .unwrap()["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(
        detail("code_block").contains("exited with status 1"),
        "{}",
        detail("code_block")
    );
    assert!(
        detail("tool_call").contains("do not match the schema"),
        "{}",
        detail("tool_call")
    );
    // The tools of the case reached the model on its wire.
    let tool_req = emu
        .requests_for("good")
        .into_iter()
        .find(|r| r.body_text().contains("K-tool_call"))
        .unwrap();
    let body: Value = serde_json::from_slice(&tool_req.body).unwrap();
    assert_eq!(body["tools"][0]["name"], "read_file");
    // Each model was asked each case once, alone (no fallback).
    assert_eq!(emu.count("good"), 6);
    assert_eq!(emu.count("bad"), 6);

    check_junit(&std::fs::read_to_string(&junit).unwrap());

    // Stored: the scores and the run, in the state dir.
    let scores: Value =
        serde_json::from_slice(&std::fs::read(sb.state_dir().join("evals/scores.json")).unwrap())
            .unwrap();
    assert_eq!(scores["models"]["anthropic/good"]["passed"], 6);
    assert_eq!(scores["models"]["openai/bad"]["passed"], 0);
    let runs: Vec<_> = std::fs::read_dir(sb.state_dir().join("evals/runs"))
        .unwrap()
        .collect();
    assert_eq!(runs.len(), 1);

    // The table, and the exit status of a required model below its rate.
    let strict = write_eval(
        &sb,
        "strict.toml",
        &ALL_KINDS.replace("\"anthropic/good\" = 1.0", "\"openai/bad\" = 0.5"),
    );
    let out = aiw(&sb, &["eval", "--file", strict.to_str().unwrap()]).await;
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
    let table = stdout(&out);
    let row = table.lines().find(|l| l.starts_with("openai/bad")).unwrap();
    assert!(row.contains("0/6") && row.contains("50% FAILED"), "{table}");
    assert!(table.contains("openai/bad strict/regex"), "{table}");
    assert!(
        stderr(&out).contains("openai/bad passed 0/6 (0%), below the 50%"),
        "{}",
        describe(&out)
    );
    // Without a terminal, progress is one plain line per case.
    assert!(
        stderr(&out).contains("anthropic/good strict/contains: pass"),
        "{}",
        describe(&out)
    );

    // aiw status shows each model's last score and age.
    sb.write_emulator_config(
        &emu.base_url(),
        &["anthropic/good", "openai/bad", "gemini/never"],
        "",
    );
    let out = aiw(&sb, &["status"]).await;
    let text = stdout(&out);
    let line = |m: &str| text.lines().find(|l| l.starts_with(m)).unwrap().to_string();
    assert!(line("anthropic/good").contains("6/6, just now"), "{text}");
    assert!(line("openai/bad").contains("0/6, just now"), "{text}");
    assert!(line("gemini/never").contains("never evaluated"), "{text}");
    let out = aiw(&sb, &["status", "--json"]).await;
    let status: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let good = status["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["model"] == "anthropic/good")
        .unwrap();
    assert_eq!(good["eval"]["passed"], 6);
}

/// Validates `xml` against the JUnit XML schema CI systems read
/// (`tests/fixtures/junit/junit.xsd`, Ant's rules, the strictest) with libxml2's `xmllint`.
fn validate_junit(xml: &str) -> Result<(), String> {
    let xmllint = crate::support::required_command("xmllint (libxml2-utils)", &["xmllint"]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.xml");
    std::fs::write(&file, xml).unwrap();
    let schema = crate::util::repo_root().join("tests/fixtures/junit/junit.xsd");
    let out = std::process::Command::new(xmllint)
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn the_junit_schema_rejects_what_ci_systems_reject() {
    let suite = |case: &str| {
        format!(
            "<testsuites><testsuite name=\"m\" tests=\"1\" failures=\"1\" errors=\"0\" time=\"0.5\" timestamp=\"2026-12-03T10:00:00\" hostname=\"h\" id=\"0\" package=\"aiw\">{case}</testsuite></testsuites>"
        )
    };
    let good = suite(
        "<testcase name=\"c\" classname=\"m\"><failure type=\"check\" message=\"x\">why</failure></testcase>",
    );
    assert_eq!(validate_junit(&good), Ok(()));
    for bad in [
        suite("<testcase name=\"c\"/>"),
        suite("<testcase name=\"c\" classname=\"m\"><failure message=\"no type\"/></testcase>"),
        suite("<testcase name=\"c\" classname=\"m\"><verdict/></testcase>"),
        good.replace("2026-12-03T10:00:00", "2026-12-03T10:00:00Z"),
        good.replace(" time=\"0.5\"", " time=\"half a second\""),
    ] {
        assert!(validate_junit(&bad).is_err(), "accepted: {bad}");
    }
}

/// `aiw eval --junit` output: valid against the schema, with the counts of the run.
fn check_junit(xml: &str) {
    use quick_xml::events::Event;
    validate_junit(xml).unwrap_or_else(|e| panic!("not valid JUnit XML: {e}\n{xml}"));
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut suite_attrs: Vec<BTreeMap<String, String>> = Vec::new();
    loop {
        let ev = reader
            .read_event()
            .unwrap_or_else(|e| panic!("not XML: {e}\n{xml}"));
        let s = match &ev {
            Event::Start(s) | Event::Empty(s) => s.clone(),
            Event::Eof => break,
            _ => continue,
        };
        let name = s.name().into_inner().to_string();
        if name == "testsuite" {
            let attrs = s
                .attributes()
                .map(|a| {
                    let a = a.unwrap();
                    (
                        a.key.into_inner().to_string(),
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned(),
                    )
                })
                .collect();
            suite_attrs.push(attrs);
        }
        *counts.entry(name).or_default() += 1;
    }
    assert_eq!(counts["testsuites"], 1);
    assert_eq!(counts["testsuite"], 2);
    assert_eq!(counts["testcase"], 12);
    assert_eq!(counts["failure"], 6);
    let good = suite_attrs
        .iter()
        .find(|a| a["name"] == "anthropic/good")
        .unwrap();
    assert_eq!(
        (good["tests"].as_str(), good["failures"].as_str()),
        ("6", "0")
    );
    let bad = suite_attrs
        .iter()
        .find(|a| a["name"] == "openai/bad")
        .unwrap();
    assert_eq!(
        (bad["tests"].as_str(), bad["failures"].as_str()),
        ("6", "6")
    );
}

/// The failing side only: a slow answer is always slower than its limit. (The passing side
/// would be a wall-clock upper bound; `eval::check`'s unit tests cover it on given timings.)
#[tokio::test(flavor = "multi_thread")]
async fn max_latency_fails_an_answer_slower_than_its_limit() {
    let emu = Emulator::start().await.unwrap();
    emu.set_script(
        "slow",
        Script::always(Action::Reply(
            Reply::new("late").first_token_delay(Duration::from_millis(1200)),
        )),
    );
    let sb = Sandbox::new();
    sb.write_emulator_config(&emu.base_url(), &["anthropic/slow"], "");
    write_eval(
        &sb,
        "latency.toml",
        "[[case]]\nname = \"quick\"\nprompt = \"quick!\"\n[[case.check]]\ncontains = \"late\"\n[[case.check]]\nmax_latency = \"1s\"\n",
    );
    let out = aiw(&sb, &["eval", "--json"]).await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let checks = &report["models"][0]["cases"][0]["checks"];
    assert_eq!(checks[0]["passed"], true, "{checks:#}");
    assert_eq!(checks[1]["kind"], "max_latency");
    assert_eq!(checks[1]["passed"], false, "{checks:#}");
    assert!(
        checks[1]["detail"]
            .as_str()
            .unwrap()
            .contains("more than 1000 ms"),
        "{checks:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_cannot_answer_is_an_error_case_not_a_crash() {
    let emu = Emulator::start().await.unwrap();
    emu.set_script("down", Script::always(Action::error(ErrorKind::Auth)));
    let sb = Sandbox::new();
    sb.write_emulator_config(&emu.base_url(), &["anthropic/down"], "");
    write_eval(
        &sb,
        "one.toml",
        "[required]\n\"anthropic/down\" = 0.1\n[[case]]\nname = \"a\"\nprompt = \"hi\"\n[[case.check]]\ncontains = \"x\"\n",
    );
    let junit = sb.root().join("j.xml");
    let out = aiw(&sb, &["eval", "--json", "--junit", junit.to_str().unwrap()]).await;
    assert_eq!(code(&out), Some(1), "{}", describe(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let c = &report["models"][0]["cases"][0];
    assert!(c["error"].as_str().unwrap().contains("auth"), "{c:#}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<error message=") && xml.contains("type=\"no_answer\""),
        "{xml}"
    );
    assert!(
        !xml.contains(crate::util::EMULATOR_KEY)
            && !stdout(&out).contains(crate::util::EMULATOR_KEY)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_eval_files_are_usage_errors_naming_file_and_line() {
    let sb = Sandbox::new();
    sb.write_emulator_config("http://127.0.0.1:9", &["anthropic/a"], "");
    let out = aiw(&sb, &["eval"]).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("no eval files"), "{}", describe(&out));
    let p = write_eval(
        &sb,
        "bad.toml",
        "[[case]]\nname = \"a\"\nprompt = \"p\"\n[[case.check]]\nregex = \"(unclosed\"\n",
    );
    let out = aiw(&sb, &["eval"]).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains(&format!("{}:4: regex does not compile", p.display())),
        "{}",
        describe(&out)
    );
    let out = aiw(&sb, &["eval", "--json", "--junit", "-"]).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("both write to standard output"),
        "{}",
        describe(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrency_is_bounded_across_models() {
    let emu = Emulator::start().await.unwrap();
    let slow = || {
        Script::always(Action::Reply(
            Reply::new("ok").first_token_delay(Duration::from_millis(150)),
        ))
    };
    emu.set_script("a", slow());
    emu.set_script("b", slow());
    let sb = Sandbox::new();
    sb.write_emulator_config(&emu.base_url(), &["anthropic/a", "openai/b"], "");
    let mut text = String::new();
    for i in 0..8 {
        let _ = write!(
            text,
            "[[case]]\nname = \"c{i}\"\nprompt = \"case {i}\"\n[[case.check]]\ncontains = \"ok\"\n"
        );
    }
    write_eval(&sb, "many.toml", &text);
    let out = aiw(&sb, &["eval", "-j", "3"]).await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert_eq!(emu.count("a") + emu.count("b"), 16);
    let max = emu.max_in_flight();
    assert!(max <= 3, "{max} requests at once with -j 3");
    assert!(max >= 2, "the cases ran one at a time ({max})");
}

#[tokio::test(flavor = "multi_thread")]
async fn min_eval_score_keeps_a_low_scorer_out_of_fallback_and_the_note_names_the_score() {
    let emu = Emulator::start().await.unwrap();
    emu.set_script("primary", Script::always(Action::error(ErrorKind::Server)));
    emu.set_script("weak", Script::reply("weak answer"));
    emu.set_script("strong", Script::reply("strong answer"));
    let sb = Sandbox::new();
    sb.write_emulator_config(
        &emu.base_url(),
        &["anthropic/primary", "openai/weak", "gemini/strong"],
        "[health]\nmin_eval_score = 0.5\n",
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let day = 86_400_000;
    std::fs::create_dir_all(sb.state_dir().join("evals")).unwrap();
    std::fs::write(
        sb.state_dir().join("evals/scores.json"),
        json!({"models": {
            "openai/weak": {"passed": 1, "total": 10, "at_ms": now - day},
            "gemini/strong": {"passed": 9, "total": 10, "at_ms": now - 3 * day},
        }})
        .to_string(),
    )
    .unwrap();
    let out = aiw(&sb, &["ask", "hello"]).await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "strong answer\n");
    assert_eq!(emu.count("weak"), 0, "the low scorer was called");
    assert!(
        stderr(&out)
            .contains("answered by gemini/strong (fallback; 9/10 on your evals, 3 days ago)"),
        "{}",
        describe(&out)
    );
    let out = aiw(&sb, &["ask", "--json", "hello"]).await;
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let weak = v["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["model"] == "openai/weak")
        .unwrap();
    assert!(
        weak["error"]
            .as_str()
            .unwrap()
            .contains("scored 1/10 on your evals, below [health] min_eval_score = 0.5"),
        "{weak:#}"
    );
}

fn health_file(sb: &Sandbox) -> Vec<u8> {
    std::fs::read(sb.state_dir().join("health.json")).expect("the real health file exists")
}

#[tokio::test(flavor = "multi_thread")]
async fn drill_answers_from_the_next_tier_and_leaves_the_real_health_untouched() {
    let emu = Emulator::start().await.unwrap();
    emu.set_script("primary", Script::reply("from primary"));
    emu.set_script("fallback", Script::reply("from fallback"));
    let sb = Sandbox::new();
    sb.write_emulator_config(
        &emu.base_url(),
        &["anthropic/primary", "openai/fallback"],
        "",
    );
    // A real health file with something in it.
    let out = aiw(&sb, &["ask", "warm up"]).await;
    assert_eq!(stdout(&out), "from primary\n", "{}", describe(&out));
    let before = health_file(&sb);
    assert!(String::from_utf8_lossy(&before).contains("anthropic/primary"));

    let bin = env!("CARGO_BIN_EXE_aiw");
    let out = aiw(
        &sb,
        &[
            "drill",
            "--down",
            "anthropic/*",
            "--",
            bin,
            "ask",
            "during the drill",
        ],
    )
    .await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    assert_eq!(stdout(&out), "from fallback\n", "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("drill: down for this command: anthropic/primary"),
        "{err}"
    );
    assert!(err.contains("openai/fallback answered"), "{err}");
    assert_eq!(emu.count("primary"), 1, "a drilled model was called");
    assert_eq!(
        health_file(&sb),
        before,
        "the drill wrote the real health file"
    );
    // The drill's own directory is gone.
    let left: Vec<String> = std::fs::read_dir(sb.state_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("drill"))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // A standing drill: every aiw skips the model until --clear.
    let out = aiw(&sb, &["drill", "--down", "anthropic/*", "--for", "10m"]).await;
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let out = aiw(&sb, &["ask", "standing"]).await;
    assert_eq!(stdout(&out), "from fallback\n", "{}", describe(&out));
    let out = aiw(&sb, &["status"]).await;
    let primary = stdout(&out)
        .lines()
        .find(|l| l.starts_with("anthropic/primary"))
        .unwrap()
        .to_string();
    assert!(
        primary.contains("down") && primary.contains("outage drill"),
        "{primary}"
    );
    let out = aiw(&sb, &["drill"]).await;
    assert!(
        stdout(&out).contains("drill in force until"),
        "{}",
        describe(&out)
    );
    assert_eq!(emu.count("primary"), 1);
    assert_eq!(health_file(&sb), before);
    let out = aiw(&sb, &["drill", "--clear"]).await;
    assert!(stderr(&out).contains("drill cleared"), "{}", describe(&out));
    let out = aiw(&sb, &["ask", "after"]).await;
    assert_eq!(stdout(&out), "from primary\n", "{}", describe(&out));
    let out = aiw(&sb, &["drill"]).await;
    assert_eq!(stdout(&out), "no drill in force\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn drill_refuses_a_command_without_models_and_bad_patterns() {
    let sb = Sandbox::new();
    sb.write_emulator_config("http://127.0.0.1:9", &["anthropic/a"], "");
    let out = aiw(&sb, &["drill", "--", "true"]).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("say which models are down"),
        "{}",
        describe(&out)
    );
    let out = aiw(&sb, &["drill", "--down", "a/[", "--", "true"]).await;
    assert_eq!(code(&out), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("is not a valid pattern"),
        "{}",
        describe(&out)
    );
}

/// One case on the local SmolLM2 model: an answer arrives and is checked.
#[cfg(feature = "local")]
#[tokio::test(flavor = "multi_thread")]
async fn a_case_runs_on_the_local_model() {
    let gguf = crate::support::test_model();
    let _one_at_a_time = crate::local_route::MODEL_LOCK.lock().await;
    let sb = Sandbox::new();
    sb.write_emulator_config(
        "http://127.0.0.1:9",
        &["local/default"],
        &format!(
            "[providers.local]\nmodel = \"{}\"\nthreads = 2\ncontext_size = 1024\n",
            gguf.display()
        ),
    );
    write_eval(
        &sb,
        "local.toml",
        "[[case]]\nname = \"capital\"\nprompt = \"What is the capital of France? One word.\"\nmax_tokens = 16\ntemperature = 0.0\n[[case.check]]\nregex = '\\w'\n[[case.check]]\nnot_contains = \"<|im_end|>\"\n[[case.check]]\ncontains = \"this text is never in the answer\"\n",
    );
    let out = aiw(&sb, &["eval", "--json"]).await;
    // The third check fails on purpose: a real answer was checked, check by check.
    assert_eq!(code(&out), Some(0), "{}", describe(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let m = model(&report, "local/default");
    let checks = &m["cases"][0]["checks"];
    assert_eq!(checks[0]["passed"], true, "{m:#}");
    assert_eq!(checks[1]["passed"], true, "{m:#}");
    assert_eq!(checks[2]["passed"], false, "{m:#}");
    assert_eq!(m["passed"], 0);
    assert!(m["output_tokens"].as_u64().unwrap() > 0, "{m:#}");
}
