//! Where `aiw review` takes its review policy from: `[review]` globs and sizes, `[timeouts]`,
//! the route, the instructions (`.aiw/review.md`) and whether a file's own "generated" marker
//! exempts it from review. Outside CI that is the checkout (under the trust model of
//! `config::project`). In CI (`CI=true`) a pull request must not set the terms of its own
//! review, so it is the base branch's committed files (`git show BASE:.aiw/config.toml`), or
//! the user's own config alone when no base is known, unless the user opted in with
//! `[review] trust_pr_policy = true` in their own config or `AIW_REVIEW_TRUST_PR_POLICY=1`.
//! Also the notes that tell the reader which policy was used and what the change tried.

use std::path::{Path, PathBuf};

use anyhow::bail;

use super::diff::{self, FileFilter, SkipReason};
use super::report::Report;
use super::{DEFAULT_PROMPT, EngineOptions};
use crate::cli::ReviewArgs;
use crate::config::project::MAX_INSTRUCTIONS_BYTES;
use crate::config::{ConfigError, MAX_CONFIG_BYTES, ProjectFile, ReviewPolicy, UserFile, project};

/// The environment variable that opts in to the change's own review policy in CI.
pub const TRUST_PR_POLICY_ENV: &str = "AIW_REVIEW_TRUST_PR_POLICY";

/// Where the review policy comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicySource {
    /// The checkout, under the trust model (not in CI).
    Checkout,
    /// CI, and the user opted in: the change's own files, review policy granted.
    Change,
    /// CI: the files committed at `rev` (the base) in the repository at `root`.
    Base {
        /// The base ref or commit.
        rev: String,
        /// The repository's top-level directory.
        root: PathBuf,
    },
    /// CI with no base known: the user's own config and the built-in instructions.
    UserOnly,
}

fn truthy(v: Option<String>) -> bool {
    v.is_some_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// Whether aiw runs in CI (`CI=true`, as GitHub Actions, GitLab CI and most others set it).
pub fn is_ci(env: &dyn Fn(&str) -> Option<String>) -> bool {
    truthy(env("CI"))
}

/// Decides where this review's policy comes from. `cwd` is where aiw runs.
pub fn decide(
    user: &UserFile,
    args: &ReviewArgs,
    cwd: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> PolicySource {
    if !is_ci(env) {
        return PolicySource::Checkout;
    }
    if user.trusts_pr_policy() || truthy(env(TRUST_PR_POLICY_ENV)) {
        return PolicySource::Change;
    }
    let Some(cwd) = cwd else {
        return PolicySource::UserOnly;
    };
    let Some(rev) = args.base.clone().or_else(|| diff::ci_base(env)) else {
        return PolicySource::UserOnly;
    };
    match repo_root(cwd) {
        Some(root)
            if git_in(
                &root,
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    &format!("{rev}^{{commit}}"),
                ],
            )
            .is_ok() =>
        {
            PolicySource::Base { rev, root }
        }
        _ => PolicySource::UserOnly,
    }
}

impl PolicySource {
    /// The project config file to merge over the user's, for this source.
    pub fn project_file(&self, cwd: Option<&Path>) -> anyhow::Result<Option<ProjectFile>> {
        match self {
            Self::Checkout => Ok(match cwd {
                Some(d) => ProjectFile::find(d)?,
                None => None,
            }),
            Self::Change => Ok(match cwd {
                Some(d) => ProjectFile::find(d)?.map(|mut p| {
                    p.review_policy = ReviewPolicy::Granted;
                    p
                }),
                None => None,
            }),
            Self::Base { rev, root } => Ok(committed(root, rev, "config.toml", MAX_CONFIG_BYTES)?
                .map(|text| ProjectFile::committed(text, rev, root.clone()))),
            Self::UserOnly => Ok(None),
        }
    }

    /// The review instructions: `.aiw/review.md` of this source if it has one (a regular
    /// file inside the repository, at most 128 KiB), else the built-in ones.
    pub fn instructions(&self, cwd: Option<&Path>) -> anyhow::Result<String> {
        let found = match self {
            Self::Checkout | Self::Change => match cwd {
                Some(d) => {
                    project::find_in_repo(d, "review.md", MAX_INSTRUCTIONS_BYTES)?.map(|f| f.text)
                }
                None => None,
            },
            Self::Base { rev, root } => committed(root, rev, "review.md", MAX_INSTRUCTIONS_BYTES)?,
            Self::UserOnly => None,
        };
        Ok(found.unwrap_or_else(|| DEFAULT_PROMPT.to_string()))
    }

    /// Whether a file's own "generated, do not edit" marker may exempt it from review: not
    /// when the change under review is not trusted to set its own policy.
    pub fn honours_generated_markers(&self) -> bool {
        matches!(self, Self::Checkout | Self::Change)
    }

    /// Notes for the report saying which policy was used, and that the change edits its own
    /// review policy files when it does.
    pub fn notes(&self, cwd: Option<&Path>) -> Vec<String> {
        let opt_in = format!(
            "set [review] trust_pr_policy = true in your own config, or {TRUST_PR_POLICY_ENV}=1, to use the change's own"
        );
        match self {
            Self::Checkout => Vec::new(),
            Self::Change => vec![format!(
                "the review policy (.aiw/config.toml, .aiw/review.md) was taken from the change itself, as {TRUST_PR_POLICY_ENV} or [review] trust_pr_policy asks"
            )],
            Self::Base { rev, root } => {
                let edited: Vec<String> = ["config.toml", "review.md"]
                    .into_iter()
                    .filter(|name| {
                        let base = committed(root, rev, name, MAX_CONFIG_BYTES);
                        let here = project::find_in_repo(root, name, MAX_CONFIG_BYTES)
                            .map(|f| f.filter(|f| f.root == *root).map(|f| f.text));
                        match (base, here) {
                            (Ok(b), Ok(h)) => b != h,
                            _ => true,
                        }
                    })
                    .map(|name| format!(".aiw/{name}"))
                    .collect();
                if edited.is_empty() {
                    Vec::new()
                } else {
                    vec![format!(
                        "this change edits {}; the review policy of the base branch ({rev}) was used, not the change's ({opt_in})",
                        edited.join(" and ")
                    )]
                }
            }
            Self::UserOnly => {
                let has_policy = ["config.toml", "review.md"].into_iter().any(|name| {
                    cwd.is_some_and(|d| {
                        !matches!(project::find_in_repo(d, name, MAX_CONFIG_BYTES), Ok(None))
                    })
                });
                if has_policy {
                    vec![format!(
                        "in CI with no base branch known, the repository's .aiw/config.toml and .aiw/review.md were not used: only your own config and the built-in instructions (pass --base REF to use the base branch's policy, or {opt_in})"
                    )]
                } else {
                    Vec::new()
                }
            }
        }
    }
}

/// Files of the diff skipped only because of their own "generated" marker, made reviewed
/// (added to `opts.include` as literal paths) when `source` does not let the change exempt
/// its own files; returns how many.
pub fn unexempt_marked_files(
    source: &PolicySource,
    opts: &mut EngineOptions,
    diff_bytes: &[u8],
) -> anyhow::Result<usize> {
    if source.honours_generated_markers() {
        return Ok(0);
    }
    let parsed = diff::parse(diff_bytes);
    let filter = FileFilter::new(&opts.exclude, &opts.include)?;
    let marked: Vec<String> = parsed
        .files
        .iter()
        .filter(|f| filter.skip_reason(f) == Some(SkipReason::GeneratedMarker))
        .map(|f| globset::escape(f.path()))
        .collect();
    let n = marked.len();
    opts.include.extend(marked);
    Ok(n)
}

/// Notes about what the policy kept out of the review: files excluded by `review.exclude`,
/// and marked files reviewed anyway.
pub fn coverage_notes(report: &Report, unexempted: usize) -> Vec<String> {
    let mut notes = Vec::new();
    let excluded = report
        .skipped_files
        .iter()
        .filter(|s| matches!(s.reason, SkipReason::Excluded(_)))
        .count();
    if excluded > 0 {
        notes.push(format!(
            "{excluded} changed file(s) were not reviewed because review.exclude matches them"
        ));
    }
    if unexempted > 0 {
        notes.push(format!(
            "{unexempted} file(s) carry a \"generated\" marker but were reviewed: in CI a change cannot exempt its own files from review"
        ));
    }
    notes
}

/// Reads `.aiw/NAME` as committed at `rev`: `None` when absent; an error when it is a
/// symbolic link, not a file, over `cap` bytes, or not UTF-8.
fn committed(root: &Path, rev: &str, name: &str, cap: u64) -> anyhow::Result<Option<String>> {
    let rel = format!(".aiw/{name}");
    let label = PathBuf::from(format!("{rev}:{rel}"));
    let refused = |reason: String| ConfigError::Refused {
        path: label.clone(),
        reason,
    };
    let out = git_in(
        root,
        &["ls-tree", "-l", "-z", "--full-tree", rev, "--", &rel],
    )?;
    let entry = String::from_utf8_lossy(&out);
    let Some((meta, _path)) = entry.split_once('\t') else {
        return Ok(None);
    };
    let fields: Vec<&str> = meta.split_whitespace().collect();
    let [mode, kind, oid, size] = fields[..] else {
        bail!("unexpected `git ls-tree` output for {}", label.display());
    };
    if mode == "120000" {
        return Err(refused(
            "it is a symbolic link; aiw reads project files only as regular files inside the repository".into(),
        )
        .into());
    }
    if kind != "blob" {
        return Err(refused("it is not a regular file".into()).into());
    }
    let size: u64 = size.parse().unwrap_or(u64::MAX);
    if size > cap {
        return Err(refused(format!(
            "it is {size} bytes, over the {} KiB limit for files aiw reads as settings or instructions",
            cap / 1024
        ))
        .into());
    }
    let bytes = git_in(root, &["cat-file", "blob", oid])?;
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| refused("it is not UTF-8 text".into()).into())
}

/// The top of the git work tree `dir` is in, when it is in one.
pub fn repo_root(dir: &Path) -> Option<PathBuf> {
    git_in(dir, &["rev-parse", "--show-toplevel"])
        .ok()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o).trim()))
        .filter(|p| !p.as_os_str().is_empty())
}

/// Runs `git -C dir ARGS` and returns its stdout (at most 16 MiB: what policy reads is
/// small); a failure is an error with git's message.
pub fn git_in(dir: &Path, args: &[&str]) -> anyhow::Result<Vec<u8>> {
    crate::git::run(Some(dir), args, 16 << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_string())
        }
    }

    fn args() -> ReviewArgs {
        use clap::Parser as _;
        match crate::cli::Cli::parse_from(["aiw", "review"]).command {
            crate::cli::Command::Review(a) => a,
            _ => unreachable!("parsed a review command"),
        }
    }

    #[test]
    fn outside_ci_the_checkout_is_used() {
        let user = UserFile::default();
        let src = decide(&user, &args(), None, &env_of(&[]));
        assert_eq!(src, PolicySource::Checkout);
        assert!(src.honours_generated_markers());
        let src = decide(&user, &args(), None, &env_of(&[("CI", "false")]));
        assert_eq!(src, PolicySource::Checkout);
    }

    #[test]
    fn in_ci_the_change_is_used_only_when_the_user_opts_in() {
        let mut user = UserFile::default();
        let ci = env_of(&[("CI", "true")]);
        let src = decide(&user, &args(), None, &ci);
        assert_eq!(
            src,
            PolicySource::UserOnly,
            "no base known: user config only"
        );
        assert!(!src.honours_generated_markers());
        let src = decide(
            &user,
            &args(),
            None,
            &env_of(&[("CI", "true"), (TRUST_PR_POLICY_ENV, "1")]),
        );
        assert_eq!(src, PolicySource::Change);
        user.config.review.trust_pr_policy = Some(true);
        assert_eq!(decide(&user, &args(), None, &ci), PolicySource::Change);
    }
}
