//! The outcome of one review run as every output sees it ([`Report`]): status (complete,
//! partial, skipped because no model could answer, or nothing to review), which models
//! reviewed and whether that was degraded, findings with their stable fingerprints, skipped
//! files, how much of the diff was read ([`Coverage`]), notes; the banner lines every output
//! starts with; redaction of every text in it; and the exit-status policy.

use std::fmt::Write as _;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::diff::{Diff, Skipped};
use super::findings::{Finding, Severity};
use crate::cli::{FailOn, OnUnavailable};
use crate::exit;
use crate::redact::Redactor;

/// The exact words written everywhere a human will look when no model could review.
pub const SKIP_MESSAGE: &str = "review skipped: all models unavailable, flag for manual review";

/// How far the review got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum Status {
    /// Every chunk was reviewed.
    Complete,
    /// Some chunks were not reviewed (timeout, unavailable model, unreadable answer).
    Partial(String),
    /// No chunk could be reviewed because no model of the route answered.
    Unavailable(String),
    /// There was nothing to review (empty diff, or every file skipped).
    NothingToReview(String),
    /// The wrapped review command reviewed (its result passed through); aiw did not.
    Wrapped(String),
}

impl Status {
    /// `complete`, `partial`, `skipped` or `empty`.
    pub fn word(&self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Partial(_) => "partial",
            Self::Unavailable(_) => "skipped",
            Self::NothingToReview(_) => "empty",
            Self::Wrapped(_) => "wrapped",
        }
    }
}

/// A finding plus what the outputs need to place it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reported {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// Whether its lines are in the diff (only those get line annotations).
    pub in_diff: bool,
    /// Stable across runs: from the file, the title and the normalized code it points at,
    /// not the line numbers.
    pub fingerprint: String,
    /// The model that reported it.
    pub model: String,
    /// From a model whose findings cannot fail the step (`--fail-on-tier`).
    pub advisory: bool,
    /// Why it does not count, for a finding outside the change (see `findings::place`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outside: Option<String>,
}

impl Reported {
    /// Wraps a finding, computing `in_diff` and the fingerprint against `diff`.
    pub fn new(finding: Finding, diff: &Diff, model: &str) -> Self {
        let in_diff = finding.in_diff(diff);
        let snippet = diff
            .file(&finding.file)
            .map(|f| f.snippet(finding.start_line, finding.end_line))
            .unwrap_or_default();
        let fingerprint = fingerprint(&finding.file, &finding.title, &snippet);
        Self {
            finding,
            in_diff,
            fingerprint,
            model: model.to_string(),
            advisory: false,
            outside: None,
        }
    }
}

/// sha256 of file, lowercased title and whitespace-normalized snippet (hex).
pub fn fingerprint(file: &str, title: &str, snippet: &str) -> String {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut h = Sha256::new();
    h.update(file.as_bytes());
    h.update([0]);
    h.update(norm(title).to_lowercase().as_bytes());
    h.update([0]);
    h.update(norm(snippet).as_bytes());
    h.finalize()
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// How the review of one part (chunk) of the diff ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartState {
    /// Reviewed; the answer was read.
    Reviewed,
    /// A model answered, but not with readable findings (even after a repair prompt).
    Unreadable,
    /// No model of the route answered.
    Unavailable,
    /// Not finished before the time budget ran out.
    TimedOut,
}

impl PartState {
    /// How the banner says it.
    fn words(self) -> &'static str {
        match self {
            Self::Reviewed => "reviewed",
            Self::Unreadable => "NOT reviewed (the answer could not be read as findings)",
            Self::Unavailable => "NOT reviewed (no model answered)",
            Self::TimedOut => "NOT reviewed (the time budget ran out)",
        }
    }
}

/// One part (chunk) of the diff: its files, how it ended and which model answered.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Part {
    /// 1-based part number.
    pub part: usize,
    /// The files it carries (wholly or in part).
    pub files: Vec<String>,
    /// How it ended.
    pub state: PartState,
    /// The model that answered, when one did.
    pub model: Option<String>,
}

/// Parts that ended the same way (with the same model): state, model, part numbers, files.
type PartGroup<'a> = (PartState, Option<&'a str>, Vec<usize>, Vec<&'a str>);

/// `1-3, 5` for sorted part numbers.
fn ranges(nums: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < nums.len() {
        let mut j = i;
        while j + 1 < nums.len() && nums[j + 1] == nums[j] + 1 {
            j += 1;
        }
        out.push(if j > i {
            format!("{}-{}", nums[i], nums[j])
        } else {
            nums[i].to_string()
        });
        i = j + 1;
    }
    out.join(", ")
}

/// Counts of chunks by how their review ended.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChunkStats {
    /// Chunks the diff was split into.
    pub total: usize,
    /// Reviewed, answer parsed.
    pub reviewed: usize,
    /// No model could answer.
    pub unavailable: usize,
    /// Of those, chunks where every model failed with a configuration problem (bad key,
    /// permission, unknown model, rejected request): not an outage.
    pub config_problems: usize,
    /// The answer could not be read as findings.
    pub unreadable: usize,
    /// Not finished before the time budget ran out.
    pub timed_out: usize,
}

/// How much of the diff the review read. A review with files over the chunk budget or cut
/// lines is never `complete`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Changed files in the diff.
    pub files: usize,
    /// Files whose every part was reviewed.
    pub files_reviewed: usize,
    /// Files (wholly or in part) left out because the diff needed more chunks than the budget.
    pub files_over_budget: usize,
    /// The chunk budget (`[review] max_chunks`).
    pub max_chunks: usize,
    /// Lines too long for a chunk, sent cut.
    pub lines_truncated: usize,
    /// Secret values replaced with `[REDACTED]` before the diff was sent.
    pub secrets_redacted: usize,
}

impl Coverage {
    /// `N of M files reviewed; K files over the chunk budget; L lines truncated`.
    pub fn summary(&self) -> String {
        format!(
            "{} of {} files reviewed; {} files over the chunk budget; {} lines truncated",
            self.files_reviewed, self.files, self.files_over_budget, self.lines_truncated
        )
    }

    /// What the review did not read, for a partial status; empty when it read everything.
    pub fn gaps(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.files_over_budget > 0 {
            out.push(format!(
                "{} file(s) were not reviewed (or not whole) because the diff needed more than the chunk budget of {} ([review] max_chunks)",
                self.files_over_budget, self.max_chunks
            ));
        }
        if self.lines_truncated > 0 {
            out.push(format!(
                "{} line(s) were too long for a chunk and were cut",
                self.lines_truncated
            ));
        }
        out
    }
}

/// Everything the outputs report about one run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// How far it got.
    pub status: Status,
    /// What was compared, e.g. "changes since merge base 1a2b3c with origin/main".
    pub description: String,
    /// The route's models in order (the first is the primary).
    pub route: Vec<String>,
    /// Models that actually reviewed, in first-use order.
    pub models: Vec<String>,
    /// Whether any chunk was reviewed by a fallback or the local model.
    pub degraded: bool,
    /// Findings inside the change (under the filter mode), most severe first: only these
    /// count toward `--fail-on` and get annotations.
    pub findings: Vec<Reported>,
    /// Findings that point outside the change, each with why; listed, never counted.
    pub outside: Vec<Reported>,
    /// Every part of the diff sent for review: which model reviewed it, or why none did.
    pub parts: Vec<Part>,
    /// Models that rejected their key or permission (a configuration problem).
    pub rejected: Vec<String>,
    /// Where review-wide status items go: a line inside the change (see `Diff::anchor`).
    pub anchor: Option<(String, u32)>,
    /// Files not reviewed, and why.
    pub skipped_files: Vec<Skipped>,
    /// Chunk counts.
    pub chunks: ChunkStats,
    /// How much of the diff was read.
    pub coverage: Coverage,
    /// Other things a human should know (unreadable answers, attempts that failed…).
    pub notes: Vec<String>,
    /// Set in wrap mode when aiw reviewed because the wrapped command failed like an outage.
    pub wrapped: Option<String>,
    /// The queued job's id when `--on-unavailable queue` stored the review.
    pub queued_job: Option<String>,
}

impl Report {
    /// An empty report with a status and description.
    pub fn new(status: Status, description: impl Into<String>, route: Vec<String>) -> Self {
        Self {
            status,
            description: description.into(),
            route,
            models: Vec::new(),
            degraded: false,
            findings: Vec::new(),
            outside: Vec::new(),
            parts: Vec::new(),
            rejected: Vec::new(),
            anchor: None,
            skipped_files: Vec::new(),
            chunks: ChunkStats::default(),
            coverage: Coverage::default(),
            notes: Vec::new(),
            wrapped: None,
            queued_job: None,
        }
    }

    /// Whether the review is partial (some of it done).
    pub fn is_partial(&self) -> bool {
        matches!(self.status, Status::Partial(_))
    }

    /// Whether nothing was reviewed because no model could answer.
    pub fn is_skipped(&self) -> bool {
        matches!(self.status, Status::Unavailable(_))
    }

    /// Number of findings of one severity.
    pub fn count(&self, s: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.finding.severity == s)
            .count()
    }

    /// The models that reviewed, joined with ", " (empty when none did).
    pub fn model_list(&self) -> String {
        self.models.join(", ")
    }

    /// The lines every output starts with: who reviewed, whether degraded, what was skipped.
    pub fn banner(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(w) = &self.wrapped {
            out.push(w.clone());
        }
        match &self.status {
            Status::Unavailable(why) => {
                out.push(format!("{SKIP_MESSAGE}."));
                out.push(format!("Why: {why}"));
                out.push(
                    "No SARIF file was written: an empty one would close the open code-scanning alerts.".into(),
                );
                if let Some(id) = &self.queued_job {
                    out.push(format!(
                        "The review was queued as job {id}; `aiw queue run` replays it when a model is back."
                    ));
                }
            }
            Status::NothingToReview(why) => {
                out.push(format!("Nothing was reviewed: {why}."));
            }
            Status::Wrapped(what) => out.push(what.clone()),
            Status::Complete | Status::Partial(_) => {
                let who = if self.models.is_empty() {
                    "no model".to_string()
                } else {
                    self.model_list()
                };
                if self.degraded {
                    let kind = if self.models.iter().any(|m| m.starts_with("local/")) {
                        "the local model"
                    } else {
                        "a fallback model"
                    };
                    let primary = self.route.first().map_or("the primary", String::as_str);
                    out.push(format!(
                        "DEGRADED review: reviewed by {who} ({kind}; {primary} was unavailable)."
                    ));
                } else {
                    out.push(format!("Reviewed by {who}."));
                }
                out.push(format!(
                    "{} finding(s): {} error, {} warning, {} note ({}).",
                    self.findings.len(),
                    self.count(Severity::Error),
                    self.count(Severity::Warning),
                    self.count(Severity::Note),
                    self.description
                ));
                let advisory: Vec<&str> = self
                    .findings
                    .iter()
                    .filter(|f| f.advisory)
                    .map(|f| f.model.as_str())
                    .fold(Vec::new(), |mut v, m| {
                        if !v.contains(&m) {
                            v.push(m);
                        }
                        v
                    });
                if !advisory.is_empty() {
                    let n = self.findings.iter().filter(|f| f.advisory).count();
                    out.push(format!(
                        "{n} finding(s) from {} are advisory: a lower tier of the route (--fail-on-tier) cannot fail the step.",
                        advisory.join(", ")
                    ));
                }
                if !self.outside.is_empty() {
                    out.push(format!(
                        "{} more finding(s) point outside the change and do not count toward --fail-on (listed under \"Outside the change\").",
                        self.outside.len()
                    ));
                }
                out.push(format!("{}.", self.coverage.summary()));
                if let Status::Partial(why) = &self.status {
                    out.push(format!(
                        "PARTIAL review: {} of {} chunk(s) reviewed; {why}. Findings so far are reported; flag the rest for manual review.",
                        self.chunks.reviewed, self.chunks.total
                    ));
                    if let Some(id) = &self.queued_job {
                        out.push(format!(
                            "The unreviewed part was queued as job {id} for `aiw queue run`."
                        ));
                    }
                }
            }
        }
        out.extend(self.parts_lines());
        if !self.rejected.is_empty() {
            out.push(format!(
                "CONFIGURATION PROBLEM: {} rejected the API key or its permission; fix the key (this is not an outage).",
                self.rejected.join(", ")
            ));
        }
        if !self.skipped_files.is_empty() {
            let list: Vec<String> = self
                .skipped_files
                .iter()
                .take(10)
                .map(|s| format!("{} ({})", s.path, s.reason))
                .collect();
            let more = self.skipped_files.len().saturating_sub(10);
            out.push(format!(
                "Skipped {} file(s): {}{}.",
                self.skipped_files.len(),
                list.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        out
    }

    /// One line per model that reviewed parts and per reason parts were not reviewed, e.g.
    /// `Parts 1-3, 5 of 6: reviewed by anthropic/x.` and `Part 4 of 6 (src/a.rs): NOT
    /// reviewed (no model answered).`; empty when there were no parts.
    pub fn parts_lines(&self) -> Vec<String> {
        let total = self.parts.len();
        let mut groups: Vec<PartGroup<'_>> = Vec::new();
        for p in &self.parts {
            let model = p
                .model
                .as_deref()
                .filter(|_| p.state == PartState::Reviewed);
            let at = if let Some(i) = groups.iter().position(|g| g.0 == p.state && g.1 == model) {
                i
            } else {
                groups.push((p.state, model, Vec::new(), Vec::new()));
                groups.len() - 1
            };
            let g = &mut groups[at];
            g.2.push(p.part);
            for f in &p.files {
                if !g.3.contains(&f.as_str()) {
                    g.3.push(f);
                }
            }
        }
        groups
            .into_iter()
            .map(|(state, model, nums, files)| {
                let which = if nums.len() == 1 { "Part" } else { "Parts" };
                let what = match model {
                    Some(m) => format!("reviewed by {m}"),
                    None => state.words().to_string(),
                };
                let files = if state == PartState::Reviewed {
                    String::new()
                } else {
                    let more = files.len().saturating_sub(5);
                    let mut list = files[..files.len().min(5)].join(", ");
                    if more > 0 {
                        let _ = write!(list, " and {more} more");
                    }
                    format!(" ({list})")
                };
                format!("{which} {} of {total}{files}: {what}.", ranges(&nums))
            })
            .collect()
    }

    /// Whether part of the diff was left unread for good (over the chunk budget, cut lines):
    /// retrying later will not read it, so this is not an outage.
    pub fn has_gaps(&self) -> bool {
        !self.coverage.gaps().is_empty()
    }

    /// Replaces every known secret in every text of the report (findings, notes, paths,
    /// reasons), so no output can show one, whatever a model answered.
    pub fn redact(&mut self, r: &Redactor) {
        if r.is_empty() {
            return;
        }
        let fix = |s: &mut String| {
            if let std::borrow::Cow::Owned(clean) = r.scrub(s) {
                *s = clean;
            }
        };
        match &mut self.status {
            Status::Complete => {}
            Status::Partial(why)
            | Status::Unavailable(why)
            | Status::NothingToReview(why)
            | Status::Wrapped(why) => {
                fix(why);
            }
        }
        fix(&mut self.description);
        self.route.iter_mut().for_each(fix);
        self.models.iter_mut().for_each(fix);
        for f in self.findings.iter_mut().chain(self.outside.iter_mut()) {
            let x = &mut f.finding;
            fix(&mut x.file);
            fix(&mut x.title);
            fix(&mut x.explanation);
            if let Some(s) = &mut x.suggestion {
                fix(s);
            }
            fix(&mut f.model);
            if let Some(o) = &mut f.outside {
                fix(o);
            }
        }
        for s in &mut self.skipped_files {
            fix(&mut s.path);
        }
        for p in &mut self.parts {
            p.files.iter_mut().for_each(fix);
        }
        if let Some((a, _)) = &mut self.anchor {
            fix(a);
        }
        self.notes.iter_mut().for_each(fix);
        if let Some(w) = &mut self.wrapped {
            fix(w);
        }
    }

    /// Whether the findings reach the `--fail-on` threshold.
    pub fn blocking(&self, fail_on: FailOn) -> bool {
        self.findings
            .iter()
            .filter(|f| !f.advisory)
            .any(|f| match fail_on {
                FailOn::Never => false,
                FailOn::Error => f.finding.severity == Severity::Error,
                FailOn::Warning => f.finding.severity <= Severity::Warning,
            })
    }
}

/// The exit status for a report under the two policies. Blocking findings always win (they
/// were found, even in a partial review); a review that left part of the diff unread for good
/// (over the chunk budget, cut lines) or got an answer it could not read as findings exits
/// 4, whatever `--on-unavailable` says, since no outage explains it; a review that could not be done (or not fully) because models were
/// down follows `--on-unavailable`: skip and queue exit 75, warn exits 0 (the outputs say so
/// loudly), fail exits 3.
pub fn exit_code(report: &Report, fail_on: FailOn, on_unavailable: OnUnavailable) -> u8 {
    let unavailable = || match on_unavailable {
        OnUnavailable::Skip | OnUnavailable::Queue => exit::UNAVAILABLE,
        OnUnavailable::Warn => exit::OK,
        OnUnavailable::Fail => exit::NO_MODEL,
    };
    if matches!(
        report.status,
        Status::NothingToReview(_) | Status::Wrapped(_)
    ) {
        return exit::OK;
    }
    if report.blocking(fail_on) {
        return exit::FINDINGS;
    }
    if (report.has_gaps() || report.chunks.unreadable > 0) && !report.is_skipped() {
        return exit::PARTIAL;
    }
    match report.status {
        Status::Complete | Status::NothingToReview(_) | Status::Wrapped(_) => exit::OK,
        Status::Partial(_) | Status::Unavailable(_) => unavailable(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::commands::review::diff::SkipReason;

    pub(crate) fn finding(file: &str, line: u32, sev: Severity, title: &str) -> Finding {
        Finding {
            file: file.into(),
            start_line: line,
            end_line: line,
            severity: sev,
            title: title.into(),
            explanation: format!("explanation of {title}"),
            suggestion: None,
        }
    }

    pub(crate) fn sample() -> (Report, Diff) {
        let diff = super::super::diff::parse(
            b"diff --git a/src/a.rs b/src/a.rs\n--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,2 +1,3 @@\n fn a() {\n+    let x = y.unwrap();\n }\n",
        );
        let mut r = Report::new(
            Status::Complete,
            "diff from test.diff",
            vec![
                "anthropic/claude-sonnet-4-6".into(),
                "local/smollm2-135m".into(),
            ],
        );
        r.models = vec!["anthropic/claude-sonnet-4-6".into()];
        r.chunks.total = 1;
        r.chunks.reviewed = 1;
        let m = "anthropic/claude-sonnet-4-6";
        r.findings = vec![
            Reported::new(
                finding("src/a.rs", 2, Severity::Error, "unwrap may panic"),
                &diff,
                m,
            ),
            Reported::new(
                finding("src/a.rs", 3, Severity::Warning, "missing docs"),
                &diff,
                m,
            ),
            Reported::new(
                finding("src/other.rs", 40, Severity::Note, "outside"),
                &diff,
                m,
            ),
        ];
        r.skipped_files = vec![Skipped {
            path: "logo.png".into(),
            reason: SkipReason::Binary,
        }];
        (r, diff)
    }

    #[test]
    fn fingerprints_ignore_line_numbers_and_whitespace() {
        let a = fingerprint("a.rs", "Unwrap may panic", "let x = y.unwrap();");
        let b = fingerprint("a.rs", "unwrap  may panic", "   let x =  y.unwrap();  ");
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert_ne!(
            a,
            fingerprint("b.rs", "Unwrap may panic", "let x = y.unwrap();")
        );
        assert_ne!(a, fingerprint("a.rs", "other", "let x = y.unwrap();"));
        // The same finding moved down by unrelated edits keeps its fingerprint.
        let d1 = super::super::diff::parse(b"diff --git a/a.rs b/a.rs\n--- a/a.rs\n+++ b/a.rs\n@@ -1,1 +1,2 @@\n a\n+let x = y.unwrap();\n");
        let d2 = super::super::diff::parse(b"diff --git a/a.rs b/a.rs\n--- a/a.rs\n+++ b/a.rs\n@@ -9,1 +9,2 @@\n a\n+let x = y.unwrap();\n");
        let f1 = Reported::new(finding("a.rs", 2, Severity::Error, "t"), &d1, "m");
        let f2 = Reported::new(finding("a.rs", 10, Severity::Error, "t"), &d2, "m");
        assert_eq!(f1.fingerprint, f2.fingerprint);
    }

    #[test]
    fn in_diff_is_computed() {
        let (r, _) = sample();
        assert!(r.findings[0].in_diff);
        assert!(r.findings[1].in_diff);
        assert!(!r.findings[2].in_diff);
    }

    #[test]
    fn exit_codes_for_every_policy() {
        use FailOn as F;
        use OnUnavailable as U;
        let (complete, _) = sample();
        assert_eq!(exit_code(&complete, F::Error, U::Skip), 1);
        assert_eq!(exit_code(&complete, F::Warning, U::Skip), 1);
        assert_eq!(exit_code(&complete, F::Never, U::Skip), 0);
        let mut warn_only = complete.clone();
        warn_only.findings.remove(0);
        assert_eq!(exit_code(&warn_only, F::Error, U::Fail), 0);
        assert_eq!(exit_code(&warn_only, F::Warning, U::Fail), 1);
        let mut notes_only = warn_only.clone();
        notes_only.findings.remove(0);
        assert_eq!(exit_code(&notes_only, F::Warning, U::Fail), 0);

        let skipped = Report::new(Status::Unavailable("x".into()), "d", vec![]);
        assert_eq!(exit_code(&skipped, F::Error, U::Skip), 75);
        assert_eq!(exit_code(&skipped, F::Error, U::Queue), 75);
        assert_eq!(exit_code(&skipped, F::Error, U::Warn), 0);
        assert_eq!(exit_code(&skipped, F::Error, U::Fail), 3);

        let mut partial = warn_only.clone();
        partial.status = Status::Partial("the time budget ran out".into());
        assert_eq!(exit_code(&partial, F::Error, U::Skip), 75);
        assert_eq!(exit_code(&partial, F::Error, U::Warn), 0);
        assert_eq!(exit_code(&partial, F::Error, U::Fail), 3);
        assert_eq!(exit_code(&partial, F::Warning, U::Skip), 1, "findings win");

        let empty = Report::new(
            Status::NothingToReview("the diff is empty".into()),
            "d",
            vec![],
        );
        assert_eq!(exit_code(&empty, F::Warning, U::Fail), 0);

        // Part of the diff unread for good: exit 4 under every policy, findings still win.
        let mut gaps = warn_only.clone();
        gaps.coverage.files_over_budget = 7;
        gaps.status = Status::Partial(gaps.coverage.gaps().join("; "));
        for u in [U::Skip, U::Warn, U::Fail, U::Queue] {
            assert_eq!(exit_code(&gaps, F::Error, u), 4, "{u:?}");
        }
        assert_eq!(exit_code(&gaps, F::Warning, U::Warn), 1);
    }

    #[test]
    fn coverage_is_in_the_banner_and_gaps_are_explained() {
        let (mut r, _) = sample();
        r.coverage = Coverage {
            files: 7841,
            files_reviewed: 100,
            files_over_budget: 7741,
            max_chunks: 100,
            lines_truncated: 3,
            secrets_redacted: 0,
        };
        let b = r.banner().join("\n");
        assert!(
            b.contains(
                "100 of 7841 files reviewed; 7741 files over the chunk budget; 3 lines truncated."
            ),
            "{b}"
        );
        let gaps = r.coverage.gaps().join("; ");
        assert!(
            gaps.contains("chunk budget of 100 ([review] max_chunks)"),
            "{gaps}"
        );
        assert!(gaps.contains("3 line(s) were too long"), "{gaps}");
        assert!(Coverage::default().gaps().is_empty());
    }

    #[test]
    fn redact_scrubs_every_text_of_the_report() {
        let key = "sk-canary-0123456789abcdef";
        let (mut r, _) = sample();
        r.findings[0].finding.title = format!("key {key} leaked");
        r.findings[0].finding.explanation = format!("the value {key}");
        r.findings[0].finding.suggestion = Some(key.into());
        r.findings[1].finding.file = format!("{key}.rs");
        r.notes.push(format!("note {key}"));
        r.status = Status::Partial(format!("because {key}"));
        r.description = format!("diff {key}");
        r.skipped_files[0].path = key.into();
        r.wrapped = Some(key.into());
        r.redact(&Redactor::new([key]));
        let all = serde_json::to_string(&r).unwrap();
        assert!(!all.contains(key), "{all}");
        assert!(all.contains("[REDACTED]"));
    }

    #[test]
    fn banner_names_model_degraded_and_skipped() {
        let (mut r, _) = sample();
        let b = r.banner().join("\n");
        assert!(
            b.contains("Reviewed by anthropic/claude-sonnet-4-6."),
            "{b}"
        );
        assert!(
            b.contains("3 finding(s): 1 error, 1 warning, 1 note"),
            "{b}"
        );
        assert!(
            b.contains("Skipped 1 file(s): logo.png (binary file)."),
            "{b}"
        );
        assert!(!b.contains("DEGRADED"));
        r.degraded = true;
        r.models = vec!["local/smollm2-135m".into()];
        let b = r.banner().join("\n");
        assert!(b.contains("DEGRADED review: reviewed by local/smollm2-135m (the local model; anthropic/claude-sonnet-4-6 was unavailable)."), "{b}");
        r.models = vec!["openai/gpt-5.5".into()];
        assert!(r.banner().join("\n").contains("(a fallback model;"));
        r.status = Status::Partial("the time budget ran out".into());
        r.chunks.total = 4;
        assert!(
            r.banner()
                .join("\n")
                .contains("PARTIAL review: 1 of 4 chunk(s) reviewed; the time budget ran out.")
        );
        let mut s = Report::new(
            Status::Unavailable("anthropic/x (overloaded)".into()),
            "d",
            vec![],
        );
        s.queued_job = Some("job-1".into());
        let b = s.banner().join("\n");
        assert!(b.starts_with(SKIP_MESSAGE), "{b}");
        assert!(b.contains("queued as job job-1"));
    }
}
