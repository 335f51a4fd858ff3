//! Every output of `aiw review`, rendered from one [`Report`]. The report files (`--json`,
//! `--sarif`, `--rdjson`, `--gitlab`) implement [`ReportFormat`], one file each, listed in
//! [`REPORT_FORMATS`]; the terminal text and markdown summary are in `text`, the GitHub
//! Actions annotations and step outputs in `github`. This file holds the trait, what the
//! formats share (the status item, writing files atomically, appending to GitHub's files).
//!
//! The formats' size and field limits are summarised in the project's CI-formats reference.

mod github;
mod gitlab;
mod json;
mod rdjson;
mod sarif;
mod text;

use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

use super::report::Report;

pub use github::{
    GITHUB_CAP_PER_LEVEL, defuse_workflow_commands, escape_data, escape_property,
    github_annotations, github_outputs,
};
pub use gitlab::gitlab;
pub use json::json;
pub use rdjson::rdjson;
pub use sarif::{sarif, uri_encode};
pub use text::{SUMMARY_LIMIT, fence_for, summary, text};

/// The SARIF rule every finding is reported under (the level carries the severity); the
/// rdjson code and the Code Quality check name too.
pub const SARIF_RULE: &str = "aiw-review";
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A report file format: one document rendered from the report and written where its flag
/// says.
pub trait ReportFormat: Sync {
    /// The flag that asks for it, e.g. `--sarif`.
    fn flag(&self) -> &'static str;
    /// The document.
    fn render(&self, report: &Report) -> Value;
    /// Whether a skipped review writes it (SARIF does not: an empty upload would close the
    /// open code-scanning alerts).
    fn written_when_skipped(&self) -> bool {
        true
    }
}

/// The `--json` report.
pub struct Json;
/// SARIF 2.1.0 (`--sarif`).
pub struct Sarif;
/// reviewdog rdjson (`--rdjson`).
pub struct Rdjson;
/// GitLab Code Quality (`--gitlab`).
pub struct GitlabCodeQuality;

/// Every report file format, in the order the files are written.
pub const REPORT_FORMATS: [&dyn ReportFormat; 4] = [&Json, &Sarif, &Rdjson, &GitlabCodeQuality];

/// The one-paragraph status for formats without a place for a banner: skipped, partial or
/// degraded; `None` for a normal complete review.
pub(super) fn status_message(report: &Report) -> Option<String> {
    (report.is_skipped() || report.is_partial() || report.degraded)
        .then(|| report.banner().join(" "))
}

/// Where a review-wide status item goes: a line inside the change, else the first finding;
/// `None` (no status item) when the review has neither, as an item on `.` is filtered out.
pub(super) fn status_anchor(report: &Report) -> Option<(String, u32)> {
    report.anchor.clone().or_else(|| {
        report
            .findings
            .first()
            .map(|f| (f.finding.file.clone(), f.finding.start_line))
    })
}

/// Writes a report file atomically (creating its directory): a regular file only, never
/// through a symbolic link or into a device (see [`crate::files::write_atomic`]).
pub fn write_report(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    }
    crate::files::write_atomic(path, bytes, crate::files::Access::Public)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Appends `text` to a file GitHub gave us (`GITHUB_STEP_SUMMARY`, `GITHUB_OUTPUT`).
pub fn append(path: &Path, text: &str) -> anyhow::Result<()> {
    crate::files::append(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Pretty JSON with a final newline.
pub fn to_pretty(v: &Value) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).unwrap_or_default();
    b.push(b'\n');
    b
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_files_replace_atomically_and_appends_append() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("sub/out.json");
        write_report(&p, b"one").expect("write");
        write_report(&p, b"two").expect("write");
        assert_eq!(std::fs::read(&p).expect("read"), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .expect("dir")
            .collect();
        assert_eq!(names.len(), 1);
        append(&dir.path().join("s.md"), "a").expect("append");
        append(&dir.path().join("s.md"), "b").expect("append");
        assert_eq!(
            std::fs::read_to_string(dir.path().join("s.md")).expect("read"),
            "ab"
        );
    }
}
