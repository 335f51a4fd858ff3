//! Router benchmark (not a timed test): prints, against the in-process provider emulator,
//! - time to first token when the primary fails fast, over calling the fallback directly;
//! - the same once the primary's breaker is open (and how many calls the dead model got);
//! - time to first token with a silent primary, against the configured first-token limit;
//! - requests a down model receives per minute of steady traffic (probes only, after opening).
//!
//! Run: `cargo bench --no-default-features --bench router`.
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use aiw::config::ModelRef;
use aiw::config::{FileConfig, Paths, Settings};
use aiw::provider::{ChatRequest, Message};
use aiw::router::health::HealthStore;
use aiw::router::journal::Journal;
use aiw::router::{Router, RouterEvent};
use aiw_emulator::{Action, Emulator, ErrorKind, Reply, Script};
use tokio_util::sync::CancellationToken;

fn settings(base: &str, extra_health: &str, dir: &std::path::Path) -> Settings {
    let text = format!(
        r#"
[providers.anthropic]
base_url = "{base}"
[providers.openai]
base_url = "{base}/v1"
[routes]
default = ["anthropic/primary", "openai/fallback"]
[timeouts]
first_token = "500ms"
stall = "500ms"
[health]
{extra_health}
"#
    );
    let paths = Paths {
        config_file: dir.join("c.toml"),
        data_dir: dir.join("d"),
        state_dir: dir.join("s"),
    };
    let cfg = FileConfig::parse(&text, &paths.config_file).expect("bench config");
    Settings::resolve(cfg, paths, true, Vec::new(), &|k| {
        k.ends_with("_API_KEY").then(|| "bench-key".to_string())
    })
    .expect("bench settings")
}

fn router(s: &Settings) -> Router {
    Router::with_parts(
        Arc::new(s.clone()),
        HealthStore::in_memory(),
        Journal::disabled(),
    )
    .expect("the HTTP client builds")
}

/// Time to the first text event of one request.
async fn ttft(r: &Router, route: &[ModelRef]) -> Duration {
    let req = ChatRequest {
        messages: vec![Message::user("hi")],
        ..ChatRequest::default()
    };
    let start = Instant::now();
    let mut first = None;
    let mut on = |e: RouterEvent| {
        if first.is_none() && matches!(e, RouterEvent::Text { .. }) {
            first = Some(start.elapsed());
        }
    };
    let res = r.run(route, &req, &mut on, &CancellationToken::new()).await;
    assert!(res.is_ok(), "bench request failed: {:?}", res.err());
    first.expect("a first token")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let emu = Emulator::start().await.expect("emulator");
    let dir = tempfile::tempdir().expect("tempdir");
    let model = |s: &str| ModelRef::parse(s).expect("model");
    let route = vec![model("anthropic/primary"), model("openai/fallback")];
    let direct = vec![model("openai/fallback")];
    // The fallback answers after a realistic 20 ms "model think time".
    emu.set_script(
        "fallback",
        Script::always(
            Reply::new("ok from fallback")
                .first_token_delay(Duration::from_millis(20))
                .into(),
        ),
    );
    emu.set_script(
        "primary",
        Script::always(Action::error(ErrorKind::Overloaded)),
    );
    // Neither consecutive failures nor the failure rate may open the breaker here.
    let cfg = settings(
        &emu.base_url(),
        "failure_threshold = 1000\nfailure_rate = 1.0",
        dir.path(),
    );
    let n = 40;

    // Warm the connection pool and the emulator.
    let warm = router(&cfg);
    for _ in 0..5 {
        ttft(&warm, &direct).await;
    }

    let mut base = Vec::new();
    let mut fast_fail = Vec::new();
    for _ in 0..n {
        base.push(ttft(&warm, &direct).await);
        // A fresh breaker state each time would rebuild the pool; instead the thresholds are
        // set so that the breaker never opens: every request pays the 529 round trip.
        fast_fail.push(ttft(&warm, &route).await);
    }
    let (direct_ttft, failing_ttft) = (median(base), median(fast_fail));
    println!(
        "router: ttft calling fallback directly        {:8.2} ms (median of {n})",
        ms(direct_ttft)
    );
    println!(
        "router: ttft with primary failing fast (529)  {:8.2} ms  ratio {:.3}  added {:+.2} ms  (target <= 1.05 and <= 5 ms)",
        ms(failing_ttft),
        ms(failing_ttft) / ms(direct_ttft),
        ms(failing_ttft) - ms(direct_ttft)
    );

    // Breaker open: default thresholds, open for a long time.
    let s_open = settings(&emu.base_url(), "base_open = \"10m\"", dir.path());
    let r_open = router(&s_open);
    for _ in 0..5 {
        ttft(&r_open, &route).await;
    }
    emu.clear_requests();
    let mut open = Vec::new();
    let mut base2 = Vec::new();
    for _ in 0..n {
        base2.push(ttft(&r_open, &direct).await);
        open.push(ttft(&r_open, &route).await);
    }
    let (direct2, open_ttft) = (median(base2), median(open));
    println!(
        "router: ttft with primary's breaker open      {:8.2} ms  ratio {:.3}  added {:+.2} ms  calls to dead model: {}  (target <= 1 ms added, 0 calls)",
        ms(open_ttft),
        ms(open_ttft) / ms(direct2),
        ms(open_ttft) - ms(direct2),
        emu.count("primary")
    );

    // Silent primary: accepts and never answers.
    emu.set_script("primary", Script::always(Action::Hang));
    let mut silent = Vec::new();
    for _ in 0..5 {
        let r = router(&cfg); // breaker closed each time: pays the first-token limit
        silent.push(ttft(&r, &route).await);
    }
    let sm = median(silent);
    println!(
        "router: ttft with a silent primary            {:8.2} ms  = first-token limit 500 ms {:+.2} ms  (target <= +50 ms)",
        ms(sm),
        ms(sm) - 500.0 - ms(direct_ttft)
    );

    // Requests to a down model: 1 minute of traffic compressed 60:1 (base_open 15 s -> 250 ms).
    emu.set_script("primary", Script::always(Action::error(ErrorKind::Server)));
    let s_min = settings(
        &emu.base_url(),
        "base_open = \"250ms\"\nmax_open = \"10s\"\nprobe_timeout = \"1s\"",
        dir.path(),
    );
    let r_min = router(&s_min);
    emu.clear_requests();
    let start = Instant::now();
    let mut user_requests = 0;
    while start.elapsed() < Duration::from_secs(1) {
        ttft(&r_min, &route).await;
        user_requests += 1;
    }
    r_min.finish_background(Duration::from_secs(2)).await;
    let sent = emu.requests_for("primary");
    let probes = sent
        .iter()
        .filter(|r| r.json.as_ref().and_then(|j| j["max_tokens"].as_u64()) == Some(1))
        .count();
    println!(
        "router: down model, 1 compressed minute: {user_requests} user requests, {} calls to the dead model = {} failures before opening + {probes} probes",
        sent.len(),
        sent.len() - probes
    );
}
