//! Fleet health on a real Redis (`redis-server` from Debian's packages, started here on a
//! loopback port): eight "runners" with their own state directories learn an outage once, a
//! dead model gets O(1) calls per probe interval fleet-wide, and Redis going away (and
//! coming back) never fails a request. `scripts/setup-test-env.sh` installs `redis-server`; a
//! machine without it fails these tests, saying so.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aiw::provider::ChatRequest;
use aiw::router::Router;
use aiw::router::fleet::Fleet;
use aiw::router::health::HealthStore;
use aiw::router::journal::Journal;
use aiw_emulator::{Action, Emulator, ErrorKind, Script};
use tokio_util::sync::CancellationToken;

use crate::support::{Redis, config_text, m, settings};

const PROBE_EVERY: Duration = Duration::from_millis(250);

/// One runner: its own state dir, the fleet store when given.
fn runner(emu: &Emulator, dir: &std::path::Path, store: Option<&str>) -> Router {
    let text = config_text(
        &emu.base_url(),
        r#"default = ["anthropic/dead", "openai/alive"]"#,
        "",
    )
    .replace("base_open = \"150ms\"", "base_open = \"250ms\"")
    .replace("max_open = \"400ms\"", "max_open = \"250ms\"");
    let s = settings(&text, dir);
    let mut health = HealthStore::open(&s.paths.state_dir);
    if let Some(url) = store {
        let fleet = Fleet::new(url, Duration::from_millis(20), Duration::from_secs(600))
            .unwrap()
            .retry_after(Duration::from_millis(200));
        health = health.with_fleet(fleet);
    }
    Router::with_parts(Arc::new(s), health, Journal::disabled()).expect("the HTTP client builds")
}

/// Eight runners asking over and over for `span`; returns (requests, answered).
async fn fleet_traffic(routers: &[Router], span: Duration) -> (usize, usize) {
    let route = [m("anthropic/dead"), m("openai/alive")];
    let start = Instant::now();
    let tasks = routers.iter().cloned().map(|r| {
        let route = route.clone();
        tokio::spawn(async move {
            let (mut asked, mut ok) = (0, 0);
            while start.elapsed() < span {
                asked += 1;
                let mut on = |_e: aiw::router::RouterEvent| {};
                if r.run(
                    &route,
                    &ChatRequest::user("hi"),
                    &mut on,
                    &CancellationToken::new(),
                )
                .await
                .is_ok()
                {
                    ok += 1;
                }
                tokio::time::sleep(Duration::from_millis(40)).await;
            }
            r.finish_background(Duration::from_secs(2)).await;
            (asked, ok)
        })
    });
    let mut total = (0, 0);
    for t in futures_util::future::join_all(tasks).await {
        let (a, o) = t.unwrap();
        total.0 += a;
        total.1 += o;
    }
    total
}

#[allow(
    clippy::print_stdout,
    reason = "the figures are the point of this test"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_runners_learn_an_outage_once() {
    let redis = Redis::start(None);
    let span = Duration::from_millis(2500);
    let mut figures = Vec::new();
    for store in [Some(redis.url()), None] {
        let emu = Emulator::start().await.unwrap();
        emu.set_script("dead", Script::always(Action::error(ErrorKind::Overloaded)));
        emu.set_script("alive", Script::reply("fine"));
        let dirs: Vec<tempfile::TempDir> = (0..8).map(|_| tempfile::tempdir().unwrap()).collect();
        let routers: Vec<Router> = dirs
            .iter()
            .map(|d| runner(&emu, d.path(), store.as_deref()))
            .collect();
        let (asked, ok) = fleet_traffic(&routers, span).await;
        assert_eq!(ok, asked, "every request answered");
        figures.push((store.is_some(), emu.count("dead"), asked));
    }
    let (with_store, without) = (figures[0].1, figures[1].1);
    let intervals = (span.as_millis() / PROBE_EVERY.as_millis()) as usize + 1;
    println!(
        "fleet of 8 runners, dead primary for {} ms ({} and {} requests): {with_store} calls to the dead model with the store, {without} without ({:.1}x)",
        span.as_millis(),
        figures[0].2,
        figures[1].2,
        without as f64 / with_store.max(1) as f64
    );
    // The eight runners start at the same instant, so up to eight calls can be in flight
    // before the first failure is recorded; after that the fleet's breaker is open and the
    // dead model gets about one probe per interval, fleet-wide.
    assert!(
        with_store <= 8 + intervals,
        "with the store: {with_store} calls (budget {})",
        8 + intervals
    );
    assert!(
        without >= 3 * with_store,
        "without: {without}, with: {with_store}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn redis_going_away_fails_nothing_warns_once_and_comes_back() {
    let redis = Redis::start(None);
    let port = redis.port;
    let url = redis.url();
    let emu = Emulator::start().await.unwrap();
    emu.set_script("dead", Script::always(Action::error(ErrorKind::Overloaded)));
    emu.set_script("alive", Script::reply("fine"));
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let routers: Vec<Router> = dirs
        .iter()
        .map(|d| runner(&emu, d.path(), Some(&url)))
        .collect();
    let (asked, ok) = fleet_traffic(&routers, Duration::from_millis(400)).await;
    assert_eq!(ok, asked);
    drop(redis);
    let (asked, ok) = fleet_traffic(&routers, Duration::from_millis(800)).await;
    assert_eq!(ok, asked, "no request fails while Redis is down");
    for r in &routers {
        let f = r.health_store().fleet().unwrap();
        assert_eq!(f.warnings(), 1, "one warning per runner");
        assert!(!f.status().fleet);
    }
    let redis = Redis::start(Some(port));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (asked, ok) = fleet_traffic(&routers, Duration::from_millis(600)).await;
    assert_eq!(ok, asked);
    for r in &routers {
        let s = r.health_store().fleet().unwrap().status();
        assert!(s.fleet, "the fleet view is back: {s:?}");
    }
    // The fleet holds the dead model's record again (written after the restart).
    let f = Fleet::new(
        &redis.url(),
        Duration::from_millis(50),
        Duration::from_secs(60),
    )
    .unwrap();
    let rec = HealthStore::in_memory().with_fleet(f).get("anthropic/dead");
    assert!(
        rec.open_until.is_some() || rec.consecutive_failures > 0,
        "{rec:?}"
    );
}
