//! Where a GitHub conversation goes: the pull request, repository, API URL and token from the
//! GitHub Actions environment (`GITHUB_TOKEN`, `GITHUB_REPOSITORY`, `GITHUB_REF` or the event
//! file, `GITHUB_API_URL`), or a queued job's origin on replay.

use anyhow::{Context as _, bail};
use serde_json::Value;

use super::{Auth, Platform, Target};
use crate::commands::review::queue::Origin;
use crate::config::Secret;

/// The GitHub target; see [`Target::from_env`].
pub(super) fn target(
    env: &dyn Fn(&str) -> Option<String>,
    origin: Option<&Origin>,
) -> anyhow::Result<Target> {
    let get = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let token = get("GITHUB_TOKEN").context(
        "--github-comment needs GITHUB_TOKEN: add `env: GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}` and `permissions: pull-requests: write`",
    )?;
    let here = get("GITHUB_REPOSITORY");
    let repo = match (origin.and_then(|o| o.repo.clone()), here) {
        (Some(queued), Some(here)) if queued != here => bail!(
            "the queued review is for {queued}, but this job runs in {here}: replay it in its own repository"
        ),
        (queued, here) => here
            .or(queued)
            .context("--github-comment needs GITHUB_REPOSITORY (set by GitHub Actions)")?,
    };
    let event = || -> Option<Value> {
        let text = std::fs::read_to_string(get("GITHUB_EVENT_PATH")?).ok()?;
        serde_json::from_str(&text).ok()
    };
    let (pr, head) = if let Some(o) = origin {
        (o.pr, None)
    } else {
        {
            let from_ref = get("GITHUB_REF").and_then(|r| {
                r.strip_prefix("refs/pull/")?
                    .split('/')
                    .next()?
                    .parse::<u64>()
                    .ok()
            });
            let ev = event();
            let from_event = ev
                .as_ref()
                .and_then(|v| v["pull_request"]["number"].as_u64());
            let head = ev.as_ref().and_then(|v| {
                v["pull_request"]["head"]["sha"]
                    .as_str()
                    .map(str::to_string)
            });
            (from_ref.or(from_event), head)
        }
    };
    let pr = pr.context(
        "--github-comment works on pull_request events only: no PR number in GITHUB_REF or the event file",
    )?;
    let api = get("GITHUB_API_URL")
        .unwrap_or_else(|| "https://api.github.com".into())
        .trim_end_matches('/')
        .to_string();
    Ok(Target {
        platform: Platform::GitHub,
        api,
        project: repo,
        number: pr,
        head,
        auth: Auth::Bearer(Secret::new(token)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::review::comment::tests::env_of;

    #[test]
    fn the_pr_comes_from_the_ref_live_and_from_the_origin_on_replay() {
        let env = env_of(&[
            ("GITHUB_TOKEN", "ghs_x"),
            ("GITHUB_REPOSITORY", "org/repo"),
            ("GITHUB_REF", "refs/pull/7/merge"),
        ]);
        let t = target(&env, None).expect("target");
        assert_eq!((t.project.as_str(), t.number), ("org/repo", 7));
        assert_eq!(t.api, "https://api.github.com");
        assert!(!format!("{t:?}").contains("ghs_x"), "the token is redacted");
        let queued = Origin {
            repo: Some("org/repo".into()),
            pr: Some(42),
            ..Origin::default()
        };
        assert_eq!(target(&env, Some(&queued)).expect("target").number, 42);
        let other = Origin {
            repo: Some("evil/repo".into()),
            pr: Some(1),
            ..Origin::default()
        };
        let err = format!("{:#}", target(&env, Some(&other)).expect_err("refused"));
        assert!(
            err.contains("evil/repo") && err.contains("org/repo"),
            "{err}"
        );
    }
}
