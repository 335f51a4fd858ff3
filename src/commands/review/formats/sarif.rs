//! SARIF 2.1.0 for GitHub code scanning (`--sarif`): one run, one rule, one result per
//! finding, fixes from suggestions, stable partial fingerprints, the status in the run's
//! notifications and properties.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::super::findings::Severity;
use super::super::report::{Report, Status};
use super::{ReportFormat, SARIF_RULE, Sarif, VERSION};

impl ReportFormat for Sarif {
    fn flag(&self) -> &'static str {
        "--sarif"
    }
    fn render(&self, report: &Report) -> Value {
        sarif(report)
    }
    fn written_when_skipped(&self) -> bool {
        false
    }
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// Percent-encodes a relative path for a SARIF `uri` (RFC 3986: keep unreserved and `/`).
pub fn uri_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// SARIF 2.1.0 with one run, one rule, one result per finding. `partialFingerprints` come
/// from the file, title and code (not line numbers), so code scanning keeps one alert per
/// problem across runs. Skipped, partial and degraded runs say so in
/// `invocations[0].toolExecutionNotifications` and `runs[0].properties`.
pub fn sarif(report: &Report) -> Value {
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let x = &f.finding;
            let uri = uri_encode(&x.file);
            let mut r = json!({
                "ruleId": SARIF_RULE,
                "ruleIndex": 0,
                "level": sarif_level(x.severity),
                "message": { "text": format!("{}\n\n{}", x.title, x.explanation).trim_end().to_string() },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "region": { "startLine": x.start_line, "endLine": x.end_line }
                    }
                }],
                "partialFingerprints": { "aiwFindingHash/v1": f.fingerprint },
                "properties": { "title": x.title, "inDiff": f.in_diff, "model": f.model },
            });
            if let Some(sugg) = &x.suggestion {
                r["fixes"] = json!([{
                    "description": { "text": "Suggested replacement" },
                    "artifactChanges": [{
                        "artifactLocation": { "uri": uri, "uriBaseId": "%SRCROOT%" },
                        "replacements": [{
                            "deletedRegion": { "startLine": x.start_line, "endLine": x.end_line },
                            "insertedContent": { "text": format!("{}\n", sugg.trim_end_matches('\n')) }
                        }]
                    }]
                }]);
            }
            r
        })
        .collect();
    let notifications: Vec<Value> = report
        .banner()
        .into_iter()
        .chain(report.notes.iter().cloned())
        .map(|t| {
            let level = if report.is_skipped() || report.is_partial() || report.degraded {
                "warning"
            } else {
                "note"
            };
            json!({ "level": level, "message": { "text": t } })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "aiw",
                "version": VERSION,
                "semanticVersion": VERSION,
                "rules": [{
                    "id": SARIF_RULE,
                    "name": "AiCodeReview",
                    "shortDescription": { "text": "AI code review finding" },
                    "fullDescription": { "text": "A problem found by an AI model reviewing the change; see the message for the details and the model that found it." },
                    "defaultConfiguration": { "level": "warning" },
                    "help": { "text": "Review the finding; it was produced by a language model and may be wrong." }
                }]
            }},
            "automationDetails": { "id": "aiw-review/" },
            "originalUriBaseIds": { "%SRCROOT%": { "description": { "text": "The repository root." } } },
            "invocations": [{
                "executionSuccessful": matches!(report.status, Status::Complete | Status::NothingToReview(_) | Status::Wrapped(_)),
                "toolExecutionNotifications": notifications,
            }],
            "results": results,
            "properties": {
                "status": report.status.word(),
                "partial": report.is_partial(),
                "skipped": report.is_skipped(),
                "degraded": report.degraded,
                "models": report.models,
                "coverage": report.coverage,
            }
        }]
    })
}
#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::super::super::report::tests::{finding, sample};
    use super::super::super::report::{Reported, SKIP_MESSAGE};
    use super::*;

    /// Structural checks beyond the schema (which `sarif_output_validates_against_the_oasis_schema`
    /// applies): `ruleIndex` points at the `ruleId`, `endLine >= startLine`, and URIs are
    /// encoded (the draft-04 schema's `uri-reference` format is not checked by validators).
    fn validate_sarif(v: &Value) {
        assert_eq!(v["version"], "2.1.0");
        assert!(
            v["$schema"]
                .as_str()
                .is_some_and(|s| s.contains("sarif-2.1.0"))
        );
        let runs = v["runs"].as_array().expect("runs is an array");
        assert!(!runs.is_empty());
        for run in runs {
            let driver = &run["tool"]["driver"];
            assert!(driver["name"].as_str().is_some_and(|s| !s.is_empty()));
            let rules = driver["rules"].as_array().expect("rules");
            for rule in rules {
                assert!(rule["id"].is_string());
            }
            for inv in run["invocations"].as_array().expect("invocations") {
                assert!(
                    inv["executionSuccessful"].is_boolean(),
                    "required by the schema"
                );
                for n in inv["toolExecutionNotifications"].as_array().expect("array") {
                    assert!(n["message"]["text"].is_string());
                    assert!(
                        ["none", "note", "warning", "error"]
                            .contains(&n["level"].as_str().unwrap_or(""))
                    );
                }
            }
            for r in run["results"].as_array().expect("results") {
                assert!(r["message"]["text"].as_str().is_some_and(|s| !s.is_empty()));
                let id = r["ruleId"].as_str().expect("ruleId");
                let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
                assert_eq!(rules[idx]["id"].as_str(), Some(id));
                assert!(
                    ["none", "note", "warning", "error"]
                        .contains(&r["level"].as_str().unwrap_or(""))
                );
                for loc in r["locations"].as_array().expect("locations") {
                    let pl = &loc["physicalLocation"];
                    let uri = pl["artifactLocation"]["uri"].as_str().expect("uri");
                    assert!(!uri.contains(' ') && !uri.starts_with('/'), "{uri}");
                    let start = pl["region"]["startLine"].as_u64().expect("startLine");
                    assert!(start >= 1);
                    let end = pl["region"]["endLine"].as_u64().unwrap_or(start);
                    assert!(end >= start);
                }
                let fp = r["partialFingerprints"]
                    .as_object()
                    .expect("partialFingerprints");
                assert!(fp.values().all(Value::is_string));
                if let Some(fixes) = r.get("fixes") {
                    for fix in fixes.as_array().expect("fixes") {
                        for ch in fix["artifactChanges"].as_array().expect("artifactChanges") {
                            assert!(ch["artifactLocation"]["uri"].is_string());
                            for rep in ch["replacements"].as_array().expect("replacements") {
                                assert!(rep["deletedRegion"]["startLine"].as_u64().is_some());
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn sarif_fields_and_structure() {
        let (mut r, _) = sample();
        r.findings[0].finding.suggestion = Some("let x = y?;".into());
        r.findings[1].finding.file = "dir with space/ü.rs".into();
        let v = sarif(&r);
        validate_sarif(&v);
        let res = &v["runs"][0]["results"];
        assert_eq!(res.as_array().map(Vec::len), Some(3));
        assert_eq!(res[0]["level"], "error");
        assert_eq!(res[0]["ruleId"], SARIF_RULE);
        assert_eq!(
            res[0]["message"]["text"],
            "unwrap may panic\n\nexplanation of unwrap may panic"
        );
        assert_eq!(
            res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "src/a.rs"
        );
        assert_eq!(
            res[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
            2
        );
        assert_eq!(
            res[0]["partialFingerprints"]["aiwFindingHash/v1"],
            r.findings[0].fingerprint.as_str()
        );
        assert_eq!(
            res[0]["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"],
            "let x = y?;\n"
        );
        assert_eq!(
            res[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "dir%20with%20space/%C3%BC.rs"
        );
        assert_eq!(res[2]["level"], "note");
        assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
        assert_eq!(v["runs"][0]["properties"]["degraded"], false);

        // Stable across runs even when lines move.
        let (mut r2, _) = sample();
        r2.findings[0].finding.start_line = 2;
        assert_eq!(
            sarif(&r2)["runs"][0]["results"][0]["partialFingerprints"],
            res[0]["partialFingerprints"]
        );
    }

    #[test]
    fn sarif_for_a_skipped_review_is_valid_and_says_so() {
        let r = Report::new(
            Status::Unavailable("anthropic/x (overloaded)".into()),
            "d",
            vec![],
        );
        let v = sarif(&r);
        validate_sarif(&v);
        assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], false);
        let n = &v["runs"][0]["invocations"][0]["toolExecutionNotifications"][0];
        assert_eq!(n["level"], "warning");
        assert!(
            n["message"]["text"]
                .as_str()
                .is_some_and(|t| t.starts_with(SKIP_MESSAGE))
        );
        assert_eq!(v["runs"][0]["properties"]["skipped"], true);
    }

    /// The official OASIS SARIF 2.1.0 schema (errata 01), vendored unmodified; where it came
    /// from is in `tests/fixtures/sarif/README.md`.
    const SARIF_SCHEMA: &str =
        include_str!("../../../../tests/fixtures/sarif/sarif-schema-2.1.0.json");

    fn sarif_schema() -> jsonschema::Validator {
        let schema: Value = serde_json::from_str(SARIF_SCHEMA).expect("the schema is JSON");
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .expect("the schema compiles")
    }

    /// Every place `log` breaks the schema, one per line (empty when it is valid).
    fn schema_errors(validator: &jsonschema::Validator, log: &Value) -> String {
        let mut out = String::new();
        for e in validator.iter_errors(log) {
            let _ = writeln!(out, "{}: {e}", e.instance_path());
        }
        out
    }

    /// Reports in every state the command can write: complete with findings of each
    /// severity (suggestions, a finding outside the diff, a path that needs encoding, a
    /// multi-line range), partial and degraded with notes, skipped, and nothing to review.
    fn representative_reports() -> Vec<(&'static str, Report)> {
        let (base, diff) = sample();
        let m = "anthropic/claude-sonnet-4-6";
        let fb = "local/smollm2-135m";
        let mut complete = base.clone();
        let mut extra = vec![
            Reported::new(
                finding("src/a.rs", 1, Severity::Error, "second error"),
                &diff,
                m,
            ),
            Reported::new(
                finding("src/a.rs", 3, Severity::Warning, "second warning"),
                &diff,
                m,
            ),
            Reported::new(finding("src/a.rs", 2, Severity::Note, "a note"), &diff, m),
            Reported::new(
                finding("dir with space/ü#?.rs", 7, Severity::Warning, "odd path"),
                &diff,
                m,
            ),
        ];
        extra[0].finding.end_line = 3;
        extra[0].finding.suggestion =
            Some("fn a() -> Result<(), E> {\n    let x = y?;\n}\n".into());
        extra[2].finding.explanation = String::new();
        complete.findings[0].finding.suggestion = Some("let x = y?;".into());
        complete.findings[2].finding.suggestion = Some(String::new());
        complete.findings.append(&mut extra);

        let mut partial = complete.clone();
        partial.status = Status::Partial("1 of 3 chunks not reviewed (timeout)".into());
        partial.degraded = true;
        partial.models = vec![m.into(), fb.into()];
        partial.chunks.total = 3;
        partial.findings[1].model = fb.into();
        partial.notes = vec![
            "anthropic/claude-sonnet-4-6 was overloaded; local/smollm2-135m reviewed src/a.rs"
                .into(),
            "the answer for chunk 3 was not readable JSON".into(),
        ];

        let mut degraded = complete.clone();
        degraded.degraded = true;
        degraded.models = vec![fb.into()];
        degraded.notes = vec!["reviewed by the local fallback".into()];

        let mut skipped = Report::new(
            Status::Unavailable("anthropic/claude-sonnet-4-6 (overloaded)".into()),
            "diff from test.diff",
            base.route.clone(),
        );
        skipped.notes = vec!["anthropic/claude-sonnet-4-6: 529 overloaded".into()];
        let empty = Report::new(
            Status::NothingToReview("the diff is empty".into()),
            "diff from test.diff",
            base.route.clone(),
        );
        vec![
            ("complete", complete),
            ("partial", partial),
            ("degraded", degraded),
            ("skipped", skipped),
            ("empty", empty),
        ]
    }

    #[test]
    fn sarif_output_validates_against_the_oasis_schema() {
        let validator = sarif_schema();
        for (name, report) in representative_reports() {
            let log = sarif(&report);
            let errors = schema_errors(&validator, &log);
            assert!(errors.is_empty(), "{name} report:\n{errors}");
            validate_sarif(&log);
        }
        // The check has teeth: the same schema rejects what a slip in `sarif` would write.
        let (r, _) = sample();
        for (pointer, bad) in [
            ("/runs/0/results/0/level", json!("critical")),
            (
                "/runs/0/results/0/locations/0/physicalLocation/region/startLine",
                json!(0),
            ),
            ("/runs/0/invocations/0/executionSuccessful", Value::Null),
            ("/runs/0/tool/driver/name", json!(7)),
        ] {
            let mut log = sarif(&r);
            *log.pointer_mut(pointer).expect("present") = bad;
            assert!(
                !schema_errors(&validator, &log).is_empty(),
                "the schema accepted a bad {pointer}"
            );
        }
        let mut log = sarif(&r);
        log["runs"][0]["results"][0]["unknownProperty"] = json!(1);
        assert!(!schema_errors(&validator, &log).is_empty());
    }
}
