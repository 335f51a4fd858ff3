//! Which files of a diff are not reviewed and why: binary, deleted, no content change,
//! generated or vendored (built-in globs and "do not edit" markers), and the config's
//! `review.exclude` / `review.include` globs.

use anyhow::Context as _;
use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Serialize;

use super::{FileDiff, FileStatus};

/// Why a file is not reviewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum SkipReason {
    /// Binary content.
    Binary,
    /// The file was deleted: there is no new side to comment on.
    Deleted,
    /// Renamed or mode-changed with no content change.
    NoContentChange,
    /// Matches a built-in generated/vendored/lock-file pattern (the pattern).
    Generated(String),
    /// Carries a "generated, do not edit" marker.
    GeneratedMarker,
    /// Matches a `review.exclude` glob from the config (the glob).
    Excluded(String),
    /// Not reviewed (or not whole) because the diff needed more chunks than the chunk
    /// budget (`[review] max_chunks`, the number).
    TooLarge(usize),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Binary => f.write_str("binary file"),
            Self::Deleted => f.write_str("deleted"),
            Self::NoContentChange => f.write_str("no content change"),
            Self::Generated(g) => write!(f, "generated or vendored ({g})"),
            Self::GeneratedMarker => f.write_str("generated (marked \"do not edit\")"),
            Self::Excluded(g) => write!(f, "excluded by review.exclude ({g})"),
            Self::TooLarge(n) => write!(
                f,
                "over the chunk budget ([review] max_chunks = {n}): not reviewed"
            ),
        }
    }
}

/// A file left out of the review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Its path.
    pub path: String,
    /// Why.
    pub reason: SkipReason,
}

/// Built-in globs of generated, vendored and lock files, skipped unless `review.include`
/// names them.
pub const DEFAULT_EXCLUDES: &[&str] = &[
    "**/vendor/**",
    "**/third_party/**",
    "**/node_modules/**",
    "**/dist/**",
    "**/*.min.js",
    "**/*.min.css",
    "**/*.map",
    "**/*.lock",
    "**/package-lock.json",
    "**/pnpm-lock.yaml",
    "**/go.sum",
    "**/*.pb.go",
    "**/*_pb2.py",
    "**/*.generated.*",
    "**/*.g.dart",
    "**/__snapshots__/**",
    "**/*.snap",
];

/// Decides which files are reviewed. Precedence: `review.exclude` > `review.include` >
/// built-in list and generated markers.
pub struct FileFilter {
    builtin: GlobSet,
    exclude: GlobSet,
    exclude_src: Vec<String>,
    include: GlobSet,
}

impl FileFilter {
    /// Builds the filter from the config's globs.
    pub fn new(exclude: &[String], include: &[String]) -> anyhow::Result<Self> {
        let set = |globs: &[&str], what: &str| -> anyhow::Result<GlobSet> {
            let mut b = GlobSetBuilder::new();
            for g in globs {
                b.add(Glob::new(g).with_context(|| {
                    format!("review.{what}: `{g}` is not a valid glob; fix it in your config")
                })?);
            }
            Ok(b.build()?)
        };
        let ex: Vec<&str> = exclude.iter().map(String::as_str).collect();
        let inc: Vec<&str> = include.iter().map(String::as_str).collect();
        Ok(Self {
            builtin: set(DEFAULT_EXCLUDES, "exclude")?,
            exclude: set(&ex, "exclude")?,
            exclude_src: exclude.to_vec(),
            include: set(&inc, "include")?,
        })
    }

    /// Why `file` is skipped, or `None` when it is reviewed.
    pub fn skip_reason(&self, file: &FileDiff) -> Option<SkipReason> {
        if file.binary {
            return Some(SkipReason::Binary);
        }
        if file.status == FileStatus::Deleted {
            return Some(SkipReason::Deleted);
        }
        let path = file.path();
        if let Some(i) = self.exclude.matches(path).first() {
            return Some(SkipReason::Excluded(self.exclude_src[*i].clone()));
        }
        if file.hunks.iter().all(|h| h.new_len == 0) {
            return Some(if file.hunks.is_empty() {
                SkipReason::NoContentChange
            } else {
                SkipReason::Deleted
            });
        }
        if self.include.is_match(path) {
            return None;
        }
        if let Some(i) = self.builtin.matches(path).first() {
            return Some(SkipReason::Generated(DEFAULT_EXCLUDES[*i].to_string()));
        }
        if has_generated_marker(file) {
            return Some(SkipReason::GeneratedMarker);
        }
        None
    }
}

/// "@generated" or "Code generated ... DO NOT EDIT." near the top of the new file.
fn has_generated_marker(file: &FileDiff) -> bool {
    file.hunks.iter().filter(|h| h.new_start <= 5).any(|h| {
        h.lines.iter().take(8).any(|l| {
            l.contains("@generated")
                || (l.contains("Code generated") && l.contains("DO NOT EDIT"))
                || l.contains("<auto-generated")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::super::{fixture, parse};
    use super::*;

    #[test]
    fn generated_and_vendored_files_are_skipped_unless_included() {
        let d = parse(&fixture("generated.diff"));
        let filter = FileFilter::new(&[], &[]).expect("valid globs");
        let reasons: Vec<(String, Option<SkipReason>)> = d
            .files
            .iter()
            .map(|f| (f.path().to_string(), filter.skip_reason(f)))
            .collect();
        let get = |p: &str| {
            reasons
                .iter()
                .find(|(x, _)| x == p)
                .unwrap_or_else(|| panic!("{p}: {reasons:?}"))
                .1
                .clone()
        };
        assert_eq!(
            get("vendor/lib/x.go"),
            Some(SkipReason::Generated("**/vendor/**".into()))
        );
        assert_eq!(
            get("Cargo.lock"),
            Some(SkipReason::Generated("**/*.lock".into()))
        );
        assert_eq!(get("api/types.go"), Some(SkipReason::GeneratedMarker));
        assert_eq!(
            get("web/app.min.js"),
            Some(SkipReason::Generated("**/*.min.js".into()))
        );
        assert_eq!(get("src/main.rs"), None);

        let custom =
            FileFilter::new(&["src/**".into()], &["vendor/**".into()]).expect("valid globs");
        let f = d.file("src/main.rs").expect("in fixture");
        assert_eq!(
            custom.skip_reason(f),
            Some(SkipReason::Excluded("src/**".into()))
        );
        assert_eq!(
            custom.skip_reason(d.file("vendor/lib/x.go").expect("in fixture")),
            None
        );
        assert!(FileFilter::new(&["[".into()], &[]).is_err());
    }
}
