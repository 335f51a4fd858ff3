//! Where a GitLab conversation goes: the merge request, project, API URL and token from the
//! GitLab CI environment (`CI_API_V4_URL`, `CI_PROJECT_ID`, `CI_MERGE_REQUEST_IID`;
//! `GITLAB_TOKEN` sent as `PRIVATE-TOKEN`, else `CI_JOB_TOKEN` as `JOB-TOKEN`), or a queued
//! job's origin on replay.

use anyhow::{Context as _, bail};

use super::{Auth, Platform, Target};
use crate::commands::review::queue::Origin;
use crate::config::Secret;

/// The GitLab target; see [`Target::from_env`].
pub(super) fn target(
    env: &dyn Fn(&str) -> Option<String>,
    origin: Option<&Origin>,
) -> anyhow::Result<Target> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let auth = match (get("GITLAB_TOKEN"), get("CI_JOB_TOKEN")) {
        (Some(t), _) => Auth::Header("PRIVATE-TOKEN", Secret::new(t.trim())),
        (None, Some(t)) => Auth::Header("JOB-TOKEN", Secret::new(t.trim())),
        (None, None) => bail!(
            "--gitlab-note needs a token: set GITLAB_TOKEN (a project access token with the `api` scope, as a masked CI/CD variable) or run in GitLab CI (CI_JOB_TOKEN)"
        ),
    };
    // Never a default host: a self-hosted instance's token must not go to gitlab.com.
    let api = get("CI_API_V4_URL")
        .context("--gitlab-note needs CI_API_V4_URL (set by GitLab CI)")?
        .trim_end_matches('/')
        .to_string();
    let here = get("CI_PROJECT_PATH");
    let project = match origin.and_then(|o| o.repo.clone()) {
        Some(queued) if here.as_ref().is_some_and(|h| *h != queued) => bail!(
            "the queued review is for {queued}, but this job runs in {}: replay it in its own project",
            here.unwrap_or_default()
        ),
        Some(queued) => get("CI_PROJECT_ID").unwrap_or_else(|| encode_path(&queued)),
        None => {
            get("CI_PROJECT_ID").context("--gitlab-note needs CI_PROJECT_ID (set by GitLab CI)")?
        }
    };
    let iid = match origin {
        Some(o) => o.pr,
        None => get("CI_MERGE_REQUEST_IID").and_then(|v| v.trim().parse().ok()),
    };
    let iid = iid.context(
        "--gitlab-note works in merge request pipelines only (`rules: - if: $CI_PIPELINE_SOURCE == \"merge_request_event\"`): no CI_MERGE_REQUEST_IID",
    )?;
    Ok(Target {
        platform: Platform::GitLab,
        api,
        project,
        number: iid,
        head: None,
        auth,
    })
}

/// A project path as an API id: `group/sub/project` -> `group%2Fsub%2Fproject`.
fn encode_path(path: &str) -> String {
    crate::commands::review::formats::uri_encode(path).replace('/', "%2F")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::review::comment::tests::env_of;

    #[test]
    fn a_project_token_wins_over_the_job_token_and_nothing_defaults_to_gitlab_com() {
        let base = [
            ("CI_API_V4_URL", "https://git.example/api/v4/"),
            ("CI_PROJECT_ID", "42"),
            ("CI_MERGE_REQUEST_IID", "3"),
            ("CI_JOB_TOKEN", "job-token-123"),
        ];
        let t = target(&env_of(&base), None).expect("target");
        assert!(matches!(t.auth, Auth::Header("JOB-TOKEN", _)));
        assert_eq!(t.api, "https://git.example/api/v4");
        assert_eq!(t.describe(), "project 42 MR !3");
        let mut with = base.to_vec();
        with.push(("GITLAB_TOKEN", "glpat-abc"));
        let t = target(&env_of(&with), None).expect("target");
        assert!(matches!(t.auth, Auth::Header("PRIVATE-TOKEN", _)));
        let no_api: Vec<_> = base
            .iter()
            .copied()
            .filter(|(k, _)| *k != "CI_API_V4_URL")
            .collect();
        let err = format!(
            "{:#}",
            target(&env_of(&no_api), None).expect_err("no API URL")
        );
        assert!(err.contains("CI_API_V4_URL"), "{err}");
        let no_mr: Vec<_> = base
            .iter()
            .copied()
            .filter(|(k, _)| *k != "CI_MERGE_REQUEST_IID")
            .collect();
        let err = format!("{:#}", target(&env_of(&no_mr), None).expect_err("no MR"));
        assert!(err.contains("merge request pipelines"), "{err}");
    }

    #[test]
    fn a_replay_uses_the_queued_merge_request_in_its_own_project() {
        let env = env_of(&[
            ("CI_API_V4_URL", "https://git.example/api/v4"),
            ("CI_JOB_TOKEN", "job-token-123"),
        ]);
        let o = Origin {
            repo: Some("group/sub/project".into()),
            pr: Some(9),
            ..Origin::default()
        };
        let t = target(&env, Some(&o)).expect("target");
        assert_eq!((t.project.as_str(), t.number), ("group%2Fsub%2Fproject", 9));
        let elsewhere = env_of(&[
            ("CI_API_V4_URL", "https://git.example/api/v4"),
            ("CI_JOB_TOKEN", "job-token-123"),
            ("CI_PROJECT_PATH", "other/project"),
        ]);
        assert!(target(&elsewhere, Some(&o)).is_err());
    }
}
