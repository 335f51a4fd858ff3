//! GitLab Code Quality (`--gitlab`, the `codequality` report artifact): an array of issues
//! with fingerprints unique within the report, and a status issue for a skipped, partial or
//! degraded review.

use serde_json::{Value, json};

use super::super::findings::Severity;
use super::super::report::{self, Report};
use super::{GitlabCodeQuality, ReportFormat, SARIF_RULE, status_anchor, status_message};

impl ReportFormat for GitlabCodeQuality {
    fn flag(&self) -> &'static str {
        "--gitlab"
    }
    fn render(&self, report: &Report) -> Value {
        gitlab(report)
    }
}

fn gitlab_severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "major",
        Severity::Note => "info",
    }
}

/// GitLab Code Quality report: an array of `{description, check_name, fingerprint,
/// severity, location: {path, lines: {begin, end}}}`. Fingerprints are unique within the
/// report (a repeat gets a suffix before hashing) because GitLab collapses duplicates.
pub fn gitlab(report: &Report) -> Value {
    let mut seen = std::collections::HashSet::new();
    let mut out: Vec<Value> = Vec::new();
    let mut unique = |base: &str| -> String {
        let mut fp = base.to_string();
        let mut n = 1;
        while !seen.insert(fp.clone()) {
            fp = report::fingerprint(base, &n.to_string(), "");
            n += 1;
        }
        fp
    };
    if let Some(msg) = status_message(report)
        && let Some((path, line)) = status_anchor(report)
    {
        let fp = unique(&report::fingerprint(
            "aiw-review-status",
            report.status.word(),
            &report.description,
        ));
        out.push(json!({
            "description": msg,
            "check_name": "aiw-review-status",
            "fingerprint": fp,
            "severity": "info",
            "location": { "path": path, "lines": { "begin": line } },
        }));
    }
    for f in &report.findings {
        let x = &f.finding;
        out.push(json!({
            "description": format!("{}: {}", x.title, x.explanation).trim_end_matches(": ").to_string(),
            "check_name": SARIF_RULE,
            "fingerprint": unique(&f.fingerprint),
            "severity": gitlab_severity(x.severity),
            "location": { "path": x.file, "lines": { "begin": x.start_line, "end": x.end_line } },
        }));
    }
    Value::Array(out)
}
#[cfg(test)]
mod tests {
    use super::super::super::report::tests::{finding, sample};
    use super::super::super::report::{Reported, SKIP_MESSAGE, Status};
    use super::*;

    #[test]
    fn gitlab_fields_and_unique_fingerprints() {
        let (mut r, diff) = sample();
        // Two identical findings on different lines share a base fingerprint.
        let dup = Reported::new(
            finding("src/other.rs", 40, Severity::Note, "outside"),
            &diff,
            "m",
        );
        r.findings.push(dup);
        let v = gitlab(&r);
        let a = v.as_array().expect("array");
        assert_eq!(a.len(), 4);
        assert_eq!(a[0]["severity"], "critical");
        assert_eq!(a[1]["severity"], "major");
        assert_eq!(a[2]["severity"], "info");
        assert_eq!(a[0]["check_name"], SARIF_RULE);
        assert_eq!(
            a[0]["description"],
            "unwrap may panic: explanation of unwrap may panic"
        );
        assert_eq!(a[0]["location"]["path"], "src/a.rs");
        assert_eq!(a[0]["location"]["lines"]["begin"], 2);
        assert_eq!(a[0]["location"]["lines"]["end"], 2);
        let fps: std::collections::HashSet<&str> =
            a.iter().filter_map(|x| x["fingerprint"].as_str()).collect();
        assert_eq!(fps.len(), 4, "fingerprints must be unique");
        for sev in a.iter().map(|x| x["severity"].as_str().unwrap_or("")) {
            assert!(["info", "minor", "major", "critical", "blocker"].contains(&sev));
        }

        let mut skipped = Report::new(Status::Unavailable("down".into()), "d", vec![]);
        skipped.anchor = Some(("src/a.rs".into(), 1));
        let s = gitlab(&skipped);
        assert_eq!(s[0]["check_name"], "aiw-review-status");
        assert_eq!(s[0]["location"]["path"], "src/a.rs");
        assert!(
            s[0]["description"]
                .as_str()
                .is_some_and(|m| m.starts_with(SKIP_MESSAGE))
        );
        assert_eq!(s[0]["location"]["lines"]["begin"], 1);
    }
}
