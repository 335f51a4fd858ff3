//! The `--json` report: every field of the report, for scripts.

use serde_json::{Value, json};

use super::super::findings::Severity;
use super::super::report::{Report, SKIP_MESSAGE, Status};
use super::{Json, ReportFormat, VERSION};

impl ReportFormat for Json {
    fn flag(&self) -> &'static str {
        "--json"
    }
    fn render(&self, report: &Report) -> Value {
        json(report)
    }
}

/// The `--json` report.
pub fn json(report: &Report) -> Value {
    json!({
        "tool": "aiw review",
        "version": VERSION,
        "status": report.status.word(),
        "status_reason": match &report.status {
            Status::Complete => None,
            Status::Partial(r)
            | Status::Unavailable(r)
            | Status::NothingToReview(r)
            | Status::Wrapped(r) => Some(r),
        },
        "message": report.is_skipped().then_some(SKIP_MESSAGE),
        "partial": report.is_partial(),
        "skipped": report.is_skipped(),
        "degraded": report.degraded,
        "model": report.models.first(),
        "models": report.models,
        "route": report.route,
        "description": report.description,
        "banner": report.banner(),
        "counts": {
            "error": report.count(Severity::Error),
            "warning": report.count(Severity::Warning),
            "note": report.count(Severity::Note),
        },
        "findings": report.findings,
        "outside_findings": report.outside,
        "skipped_files": report.skipped_files.iter().map(|s| json!({
            "path": s.path,
            "reason": s.reason.to_string(),
            "kind": s.reason,
        })).collect::<Vec<_>>(),
        "chunks": report.chunks,
        "coverage": report.coverage,
        "parts": report.parts,
        "rejected_keys": report.rejected,
        "notes": report.notes,
        "wrapped": report.wrapped,
        "queued_job": report.queued_job,
    })
}
#[cfg(test)]
mod tests {
    use super::super::super::report::tests::sample;
    use super::*;

    #[test]
    fn json_fields() {
        let (r, _) = sample();
        let j = json(&r);
        assert_eq!(j["status"], "complete");
        assert_eq!(j["partial"], false);
        assert_eq!(j["skipped"], false);
        assert_eq!(j["degraded"], false);
        assert_eq!(j["model"], "anthropic/claude-sonnet-4-6");
        assert_eq!(j["counts"]["error"], 1);
        assert_eq!(j["counts"]["note"], 1);
        let f = &j["findings"][0];
        assert_eq!(f["file"], "src/a.rs");
        assert_eq!(f["start_line"], 2);
        assert_eq!(f["end_line"], 2);
        assert_eq!(f["severity"], "error");
        assert_eq!(f["title"], "unwrap may panic");
        assert_eq!(f["explanation"], "explanation of unwrap may panic");
        assert_eq!(f["suggestion"], Value::Null);
        assert_eq!(f["in_diff"], true);
        assert_eq!(f["fingerprint"].as_str().map(str::len), Some(64));
        assert_eq!(f["model"], "anthropic/claude-sonnet-4-6");
        assert_eq!(j["findings"][2]["in_diff"], false);
        assert_eq!(j["skipped_files"][0]["path"], "logo.png");
        assert_eq!(j["skipped_files"][0]["reason"], "binary file");
        assert_eq!(j["skipped_files"][0]["kind"]["kind"], "binary");
        assert_eq!(j["chunks"]["total"], 1);
        assert!(
            j["banner"][0]
                .as_str()
                .is_some_and(|b| b.starts_with("Reviewed by"))
        );
    }
}
