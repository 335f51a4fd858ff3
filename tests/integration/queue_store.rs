//! The review queue in a real Redis (`redis-server`, started here on a loopback port), shared
//! by runners with their own state directories: a review queued on one runner is listed and
//! replayed by another; claims are exclusive and kept alive by their lease while a job runs;
//! a dead runner's job comes back; failures back off and dead-letter; a store that cannot be
//! reached is an error that names it (without its password), never a dropped review.

use std::time::Duration;

use aiw::cli::{FailOn, FailOnTier, FilterMode};
use aiw::commands::review::queue::{Job, JobOptions, JobState, Queue, now_unix};
use aiw_emulator::{Action, Emulator, ErrorKind, Script};
use serde_json::Value;

use crate::review::{fixture, setup, stderr, stdout};
use crate::support::{Redis, run_aiw as run};

/// A short lease, so a dead runner's job comes back within the test.
const LEASE: Duration = Duration::from_millis(400);

fn job(diff: &str) -> Job {
    Job::new(
        diff.into(),
        "diff from test".into(),
        JobOptions {
            route: Some("review".into()),
            model: None,
            focus: Vec::new(),
            fail_on: FailOn::Error,
            fail_on_tier: FailOnTier::default(),
            filter_mode: FilterMode::default(),
        },
        None,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn two_runners_share_one_queue_and_never_take_the_same_job() {
    let redis = Redis::start(None);
    tokio::task::spawn_blocking(move || {
        let a = Queue::redis(&redis.url(), LEASE).unwrap();
        let b = Queue::redis(&redis.url(), LEASE).unwrap();
        let j = job("diff text");
        a.enqueue(&j).unwrap();
        let listed = b.list().unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            (listed[0].state, listed[0].id.as_str()),
            (JobState::Pending, j.id.as_str())
        );
        let claim = b.claim_due(now_unix()).unwrap().expect("due");
        assert_eq!(claim.job, j);
        assert!(
            a.claim_due(now_unix()).unwrap().is_none(),
            "one runner only"
        );
        // The runner is alive for longer than a lease: its lease is renewed, nothing recovers it.
        std::thread::sleep(LEASE * 3);
        assert!(a.recover().unwrap().is_empty());
        assert_eq!(a.list().unwrap()[0].state, JobState::Running);
        assert!(a.drop_job(&j.id).is_err(), "a running job is not dropped");
        b.complete(claim, &serde_json::json!({"status": "complete"}))
            .unwrap();
        assert!(a.list().unwrap().is_empty());
        assert!(a.claim_due(u64::MAX).unwrap().is_none());
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dead_runners_job_comes_back_and_failures_back_off_then_dead_letter() {
    let redis = Redis::start(None);
    tokio::task::spawn_blocking(move || {
        let q = Queue::redis(&redis.url(), LEASE).unwrap();
        let j = job("d");
        q.enqueue(&j).unwrap();
        // A runner claims the job and dies: its lease is no longer renewed.
        let claim = q.claim_due(now_unix()).unwrap().expect("due");
        drop(claim);
        assert!(
            q.recover().unwrap().is_empty(),
            "the lease has not run out yet"
        );
        std::thread::sleep(LEASE + Duration::from_millis(200));
        assert_eq!(q.recover().unwrap(), vec![j.id.clone()]);
        assert_eq!(q.list().unwrap()[0].state, JobState::Pending);

        let c = q.claim_due(now_unix()).unwrap().expect("due again");
        assert_eq!(q.fail(c, "all models down", 2).unwrap(), JobState::Pending);
        let l = &q.list().unwrap()[0];
        assert_eq!(
            (l.attempts, l.last_error.as_deref()),
            (1, Some("all models down"))
        );
        assert!(q.claim_due(now_unix()).unwrap().is_none(), "not due yet");
        let c = q.claim_due(now_unix() + 3600).unwrap().expect("due later");
        assert_eq!(q.fail(c, "still down", 2).unwrap(), JobState::Dead);
        assert_eq!(q.list().unwrap()[0].state, JobState::Dead);
        assert!(q.claim_due(u64::MAX).unwrap().is_none());
        assert_eq!(q.revive_dead().unwrap(), 1);
        assert_eq!(q.revive_dead().unwrap(), 0, "revived once");
        let c = q.claim_due(now_unix()).unwrap().expect("revived");
        assert_eq!(c.job.attempts, 0);
        drop(c);

        // Drop by a unique prefix once the runner is gone; a wrong id is refused.
        std::thread::sleep(LEASE + Duration::from_millis(200));
        let prefix = &j.id[..j.id.len() - 3];
        assert_eq!(q.drop_job(prefix).unwrap(), j.id);
        assert!(q.list().unwrap().is_empty());
        assert!(q.drop_job("nope").is_err());
        assert!(q.drop_job("../etc").is_err());
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_store_that_cannot_be_reached_is_an_error_naming_it_without_its_password() {
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let url = format!("redis://:hunter2secret@127.0.0.1:{port}/0");
    let e = tokio::task::spawn_blocking(move || {
        let q = Queue::redis(&url, LEASE).unwrap();
        format!("{:#}", q.enqueue(&job("d")).unwrap_err())
    })
    .await
    .unwrap();
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    assert!(
        e.contains("queue_store") && e.contains("AIW_QUEUE_STORE"),
        "{e}"
    );
    assert!(!e.contains("hunter2secret"), "{e}");
}

/// The CLI end to end: runner A queues a review during an outage (its own state dir is
/// thrown away), runner B lists it and replays it once a model is back.
#[tokio::test(flavor = "multi_thread")]
async fn a_review_queued_on_one_runner_is_replayed_by_another() {
    let redis = Redis::start(None);
    let store = vec![("AIW_QUEUE_STORE", redis.url())];
    let emu = Emulator::start().await.unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    setup(&emu, a.path());
    setup(&emu, b.path());
    for m in ["primary", "fallback"] {
        emu.set_script(m, Script::always(Action::error(ErrorKind::Overloaded)));
    }
    let diff = fixture("simple.diff");
    let args = [
        "review",
        "--diff",
        diff.to_str().unwrap(),
        "--on-unavailable",
        "queue",
    ];
    let o = run(a.path(), &args, &store).await;
    assert_eq!(o.status.code(), Some(75), "{}", stderr(&o));
    assert!(stdout(&o).contains("queued as job"), "{}", stdout(&o));
    assert!(
        !a.path().join("state/queue").exists(),
        "nothing in A's own state dir"
    );
    drop(a);

    let list = run(b.path(), &["queue", "list", "--json"], &store).await;
    let jobs: Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(jobs.as_array().map(Vec::len), Some(1), "{jobs}");
    assert_eq!(jobs[0]["state"], "pending");

    emu.set_script("primary", Script::reply(crate::review::FINDINGS));
    let o = run(b.path(), &["queue", "run"], &store).await;
    let out = stdout(&o);
    assert!(out.contains("queue: 1 reviewed"), "{out}\n{}", stderr(&o));
    assert!(out.contains("unwrap on a fallible result"), "{out}");
    let list = run(b.path(), &["queue", "list", "--json"], &store).await;
    let jobs: Value = serde_json::from_slice(&list.stdout).expect("json");
    assert_eq!(jobs.as_array().map(Vec::len), Some(0), "{jobs}");
}
