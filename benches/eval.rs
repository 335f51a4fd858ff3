//! `aiw eval` benchmark (not a timed test): 120 cases on 2 emulator models, each answer
//! delayed 20 ms, at `-j 1`, `-j 4` and `-j 16`. Prints cases per second, the speed-up over
//! `-j 1`, and the most requests the emulator saw in flight at once, which must never exceed
//! `-j` (the run fails if it does).
//!
//! Run: `cargo bench --no-default-features --bench eval`.
#![allow(clippy::disallowed_methods, reason = "a benchmark writes its fixtures")]
#![expect(clippy::print_stdout, reason = "a benchmark prints its figures")]
#![expect(
    clippy::disallowed_methods,
    reason = "a benchmark writes its fixtures into a temporary directory"
)]

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use aiw_emulator::{Action, Emulator, Reply, Script};

const CASES: usize = 60;
const MODELS: [&str; 2] = ["anthropic/bench-a", "openai/bench-b"];

#[tokio::main]
async fn main() {
    let emu = Emulator::start().await.expect("emulator");
    let slow = || {
        Script::always(Action::Reply(
            Reply::new("The answer is 42.").first_token_delay(Duration::from_millis(20)),
        ))
    };
    emu.set_script("bench-a", slow());
    emu.set_script("bench-b", slow());
    let dir = tempfile::tempdir().expect("tempdir");
    let base = emu.base_url();
    std::fs::write(
        dir.path().join("config.toml"),
        format!(
            "[providers.anthropic]\nbase_url = \"{base}\"\n[providers.openai]\nbase_url = \"{base}/v1\"\n[routes]\ndefault = [\"{}\", \"{}\"]\n",
            MODELS[0], MODELS[1]
        ),
    )
    .expect("config");
    let mut cases = String::new();
    for i in 0..CASES {
        let _ = write!(
            cases,
            "[[case]]\nname = \"c{i}\"\nprompt = \"question {i}\"\n[[case.check]]\ncontains = \"42\"\n[[case.check]]\nregex = '^The'\n"
        );
    }
    let evals = dir.path().join("bench.toml");
    std::fs::write(&evals, cases).expect("eval file");
    let total = CASES * MODELS.len();
    println!(
        "aiw eval: {CASES} cases x {} models = {total} answers, 20 ms each",
        MODELS.len()
    );
    let mut base_rate = None;
    for j in [1usize, 4, 16] {
        emu.clear_requests();
        let start = Instant::now();
        let status = Command::new(env!("CARGO_BIN_EXE_aiw"))
            .args(["eval", "--file"])
            .arg(&evals)
            .args(["-j", &j.to_string()])
            .env("AIW_CONFIG", dir.path().join("config.toml"))
            .env("AIW_DATA_DIR", dir.path().join("data"))
            .env("AIW_STATE_DIR", dir.path().join("state"))
            .env("ANTHROPIC_API_KEY", "bench")
            .env("OPENAI_API_KEY", "bench")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("aiw runs");
        let secs = start.elapsed().as_secs_f64();
        assert!(status.success(), "aiw eval failed at -j {j}");
        let rate = total as f64 / secs;
        let speedup = base_rate.map_or(1.0, |b: f64| rate / b);
        base_rate.get_or_insert(rate);
        let max = emu.max_in_flight();
        println!(
            "-j {j:>2}: {rate:>7.1} cases/s ({secs:.2} s), {speedup:.1}x -j 1, max in flight {max} (bound {j})"
        );
        assert!(
            max <= j,
            "concurrency not bounded: {max} in flight with -j {j}"
        );
        assert_eq!(emu.requests().len(), total, "every case asked once");
    }
}
