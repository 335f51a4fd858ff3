//! reviewdog Diagnostic Format (`--rdjson`, for `reviewdog -f=rdjson`): one diagnostic per
//! finding with its suggestion, and a status diagnostic for a skipped, partial or degraded
//! review.

use serde_json::{Value, json};

use super::super::findings::Severity;
use super::super::report::Report;
use super::{Rdjson, ReportFormat, SARIF_RULE, status_anchor, status_message};

impl ReportFormat for Rdjson {
    fn flag(&self) -> &'static str {
        "--rdjson"
    }
    fn render(&self, report: &Report) -> Value {
        rdjson(report)
    }
}

fn rdjson_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "ERROR",
        Severity::Warning => "WARNING",
        Severity::Note => "INFO",
    }
}

/// reviewdog Diagnostic Format (rdjson), for `reviewdog -f=rdjson`. Suggestions replace the
/// whole lines `start..=end` (a line-only range). A skipped or partial review adds one
/// WARNING diagnostic that says so.
pub fn rdjson(report: &Report) -> Value {
    let mut diags: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let x = &f.finding;
            let range = json!({ "start": { "line": x.start_line }, "end": { "line": x.end_line } });
            let mut d = json!({
                "message": format!("{}\n\n{}", x.title, x.explanation).trim_end().to_string(),
                "location": { "path": x.file, "range": range },
                "severity": rdjson_severity(x.severity),
                "source": { "name": format!("aiw ({})", f.model) },
                "code": { "value": SARIF_RULE },
            });
            if let Some(sugg) = &x.suggestion {
                d["suggestions"] = json!([{ "range": range, "text": sugg }]);
            }
            d
        })
        .collect();
    if let Some(msg) = status_message(report)
        && let Some((path, line)) = status_anchor(report)
    {
        diags.insert(
            0,
            json!({
                "message": msg,
                "location": { "path": path, "range": { "start": { "line": line } } },
                "severity": "WARNING",
                "source": { "name": "aiw" },
                "code": { "value": "aiw-review-status" },
            }),
        );
    }
    json!({
        "source": { "name": "aiw" },
        "severity": "WARNING",
        "diagnostics": diags,
    })
}
#[cfg(test)]
mod tests {
    use super::super::super::report::tests::sample;
    use super::super::super::report::{SKIP_MESSAGE, Status};
    use super::*;

    #[test]
    fn rdjson_fields() {
        let (mut r, _) = sample();
        r.findings[1].finding.suggestion = Some("/// docs".into());
        let v = rdjson(&r);
        assert_eq!(v["source"]["name"], "aiw");
        let d = &v["diagnostics"];
        assert_eq!(d.as_array().map(Vec::len), Some(3));
        assert_eq!(d[0]["severity"], "ERROR");
        assert_eq!(d[0]["location"]["path"], "src/a.rs");
        assert_eq!(d[0]["location"]["range"]["start"]["line"], 2);
        assert_eq!(d[0]["location"]["range"]["end"]["line"], 2);
        assert_eq!(
            d[0]["message"],
            "unwrap may panic\n\nexplanation of unwrap may panic"
        );
        assert_eq!(d[0]["source"]["name"], "aiw (anthropic/claude-sonnet-4-6)");
        assert_eq!(d[0]["code"]["value"], SARIF_RULE);
        assert_eq!(d[1]["severity"], "WARNING");
        assert_eq!(d[1]["suggestions"][0]["text"], "/// docs");
        assert_eq!(d[1]["suggestions"][0]["range"]["start"]["line"], 3);
        assert_eq!(d[2]["severity"], "INFO");

        let mut skipped = Report::new(Status::Unavailable("down".into()), "d", vec![]);
        skipped.skipped_files = r.skipped_files.clone();
        // No line of the change to attach it to: no status item (one on `.` is filtered out).
        assert_eq!(rdjson(&skipped)["diagnostics"], json!([]));
        skipped.anchor = Some(("src/a.rs".into(), 2));
        let v = rdjson(&skipped);
        assert_eq!(v["diagnostics"][0]["severity"], "WARNING");
        assert_eq!(v["diagnostics"][0]["location"]["path"], "src/a.rs");
        assert_eq!(v["diagnostics"][0]["location"]["range"]["start"]["line"], 2);
        assert!(
            v["diagnostics"][0]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with(SKIP_MESSAGE))
        );
    }
}
