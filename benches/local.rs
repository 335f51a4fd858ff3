//! Local-tier benchmark (not a test; `cargo bench --bench local`, release, feature `local`).
//!
//! Prints, for the model in `AIW_BENCH_MODEL` (default: the SmolLM2-135M test model) at
//! `AIW_BENCH_THREADS` threads (default: all cores):
//! - cold load-to-first-token (first request of the process) and pre-warmed first token;
//! - prompt processing (pp128) and generation (tg64) tokens/s, 5 repetitions, mean ± sd, the
//!   same work as llama.cpp's `llama-bench -p 128 -n 64`, through the llama-cpp-2 calls the
//!   engine makes; and generation tokens/s through the whole engine (sampling, channel);
//! - turn 10 versus turn 1 latency of a long local session (KV cache reuse);
//! - llama-bench's own numbers and the ratios, when `scripts/llama-bench.sh --build-only`
//!   has built it (in `~/.cache/aiw/llama-bench/`).
#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]
#![expect(clippy::unwrap_used, reason = "a benchmark fails loudly")]

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aiw::config::LocalSettings;
use aiw::provider::local::{LocalClient, engine};
use aiw::provider::{ChatEvent, ChatRequest, Message};
use futures_util::StreamExt as _;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::token::LlamaToken;

const REPS: usize = 5;

fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

fn greedy(messages: Vec<Message>, max_tokens: u32) -> ChatRequest {
    ChatRequest {
        system: Some("You are a helpful coding assistant.".to_string()),
        messages,
        max_tokens: Some(max_tokens),
        temperature: Some(0.0),
        ..ChatRequest::default()
    }
}

/// Wall time to the first text event and to the end of the stream.
async fn timed(c: &LocalClient, req: &ChatRequest) -> (Duration, Duration, String) {
    let t = Instant::now();
    let mut s = c.stream("", req).await.unwrap();
    let mut first = None;
    let mut text = String::new();
    while let Some(ev) = s.next().await {
        if let ChatEvent::Text(piece) = ev.unwrap() {
            first.get_or_insert_with(|| t.elapsed());
            text.push_str(&piece);
        }
    }
    (first.unwrap_or_else(|| t.elapsed()), t.elapsed(), text)
}

/// pp128 / tg64 like llama-bench: fresh KV cache each repetition, one warm-up run.
fn raw_pp_tg(path: &Path, threads: u32) -> (Vec<f64>, Vec<f64>) {
    let backend = engine::backend().unwrap();
    let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default()).unwrap();
    let t = threads as i32;
    let params = LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(256))
        .with_n_batch(512)
        .with_n_ubatch(512)
        .with_n_threads(t)
        .with_n_threads_batch(t);
    let mut ctx = model.new_context(backend, params).unwrap();
    let n_vocab = model.n_vocab();
    let mut rng = fastrand::Rng::with_seed(42);
    let mut batch = LlamaBatch::new(512, 1);
    let (mut pp, mut tg) = (Vec::new(), Vec::new());
    for rep in 0..=REPS {
        ctx.clear_kv_cache();
        batch.clear();
        for i in 0..128 {
            let tok = LlamaToken::new(rng.i32(0..n_vocab));
            batch.add(tok, i, &[0], i == 127).unwrap();
        }
        let s = Instant::now();
        ctx.decode(&mut batch).unwrap();
        let pp_s = s.elapsed().as_secs_f64();
        ctx.clear_kv_cache();
        let s = Instant::now();
        for i in 0..64 {
            batch.clear();
            batch
                .add(LlamaToken::new(rng.i32(0..n_vocab)), i, &[0], true)
                .unwrap();
            ctx.decode(&mut batch).unwrap();
        }
        let tg_s = s.elapsed().as_secs_f64();
        if rep > 0 {
            pp.push(128.0 / pp_s);
            tg.push(64.0 / tg_s);
        }
    }
    (pp, tg)
}

/// llama-bench's pp128 and tg64 (mean, sd) when the binary has been built.
fn llama_bench(path: &Path, threads: u32) -> Option<((f64, f64), (f64, f64))> {
    let home = std::env::var_os("HOME")?;
    let bin = std::env::var_os("AIW_LLAMA_BENCH").map_or_else(
        || PathBuf::from(home).join(".cache/aiw/llama-bench/llama-bench"),
        PathBuf::from,
    );
    if !bin.is_file() {
        println!(
            "llama-bench: not built ({}); run scripts/llama-bench.sh --build-only",
            bin.display()
        );
        return None;
    }
    let out = std::process::Command::new(&bin)
        .args([
            "-m",
            &path.display().to_string(),
            "-t",
            &threads.to_string(),
        ])
        .args([
            "-p",
            "128",
            "-n",
            "64",
            "-r",
            &REPS.to_string(),
            "-o",
            "json",
        ])
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let get = |prompt: bool| {
        v.as_array()?.iter().find_map(|r| {
            let is_pp = r["n_prompt"].as_u64()? > 0;
            (is_pp == prompt).then(|| {
                (
                    r["avg_ts"].as_f64().unwrap_or(0.0),
                    r["stddev_ts"].as_f64().unwrap_or(0.0),
                )
            })
        })
    };
    Some((get(true)?, get(false)?))
}

/// Each measurement runs in its own process (this binary re-run with `--part=NAME`): libgomp
/// throttles its spin-waiting when more OpenMP threads exist in a process than CPUs, so a second
/// model thread in the same process (as a benchmark that loads several clients would have, and
/// aiw never has) would slow every other one down and measure the wrong thing.
#[tokio::main]
async fn main() {
    let part = std::env::args().find_map(|a| a.strip_prefix("--part=").map(str::to_string));
    // The model: AIW_BENCH_MODEL, else the test model scripts/setup-test-env.sh caches.
    let path = std::env::var_os("AIW_BENCH_MODEL")
        .or_else(|| std::env::var_os("AIW_TEST_MODEL"))
        .map_or_else(
            || {
                PathBuf::from(std::env::var_os("HOME").unwrap_or_default())
                    .join(".cache/aiw/test/SmolLM2-135M-Instruct.Q4_1.gguf")
            },
            PathBuf::from,
        );
    assert!(
        path.is_file(),
        "model {} not found: run scripts/setup-test-env.sh or set AIW_BENCH_MODEL",
        path.display()
    );
    let threads: u32 = std::env::var("AIW_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as u32));
    let settings = LocalSettings {
        model: path.display().to_string(),
        gpu_layers: None,
        threads,
        context_size: 4096,
        batch_size: 512,
    };
    match part.as_deref() {
        Some("load") => part_load(&path, &settings).await,
        Some("raw") => part_raw(&path, threads),
        Some("engine") => part_engine(&settings).await,
        Some("turns") => part_turns(&settings).await,
        _ => parent(&path, threads),
    }
}

/// Runs every part in a child process, echoes its output, and compares with llama-bench.
fn parent(path: &Path, threads: u32) {
    println!("model {} | threads {threads}", path.display());
    let exe = std::env::current_exe().unwrap();
    let mut results: Vec<(String, f64, f64)> = Vec::new();
    for part in ["load", "raw", "engine", "turns"] {
        let out = std::process::Command::new(&exe)
            .arg(format!("--part={part}"))
            .arg("--bench")
            .output()
            .unwrap();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            match line.strip_prefix("RESULT ") {
                Some(r) => {
                    let f: Vec<&str> = r.split_whitespace().collect();
                    results.push((
                        f[0].to_string(),
                        f[1].parse().unwrap(),
                        f[2].parse().unwrap(),
                    ));
                }
                None => println!("{line}"),
            }
        }
        assert!(
            out.status.success(),
            "part {part} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let get = |k: &str| results.iter().find(|r| r.0 == k).map_or(0.0, |r| r.1);
    if let Some(((lpp, lpp_sd), (ltg, ltg_sd))) = llama_bench(path, threads) {
        println!("llama-bench pp128:              {lpp:7.1} ± {lpp_sd:.1} t/s");
        println!("llama-bench tg64:               {ltg:7.1} ± {ltg_sd:.1} t/s");
        println!(
            "ratio aiw/llama-bench:          pp {:.3}  tg {:.3}  engine-tg {:.3}   (target >= 0.97)",
            get("pp") / lpp,
            get("tg") / ltg,
            get("engine_tg") / ltg
        );
    }
}

async fn part_load(path: &Path, settings: &LocalSettings) {
    let settings = settings.clone();
    let data = std::env::temp_dir();
    let client = LocalClient::from_settings(settings.clone(), data.clone());
    // 1. Cold: the first request of the process loads the model.
    let q = || {
        vec![Message::user(
            "Write a Rust function that reverses a string.",
        )]
    };
    let (cold_first, _, _) = timed(&client, &greedy(q(), 16)).await;
    println!(
        "cold load-to-first-token:       {:7.1} ms",
        cold_first.as_secs_f64() * 1e3
    );

    // 2. Pre-warmed: another copy of the file (so the engine really loads it), pre-warmed
    //    the way the router does when remote health degrades, then a fresh prompt.
    let copy = data.join(format!("aiw-bench-{}.gguf", std::process::id()));
    std::fs::copy(path, &copy).unwrap();
    let mut s2 = settings.clone();
    s2.model = copy.display().to_string();
    let warm_client = LocalClient::from_settings(s2, data.clone());
    warm_client.probe("").await.unwrap(); // waits for the pre-warm to finish
    let prompt = vec![Message::user("Explain what a mutex is, briefly.")];
    let t = Instant::now();
    let (mut sw, stats) = warm_client
        .stream_with_stats("", &greedy(prompt, 16))
        .await
        .unwrap();
    let mut warm_first = None;
    while let Some(ev) = sw.next().await {
        if matches!(ev.unwrap(), ChatEvent::Text(_)) {
            warm_first.get_or_insert_with(|| t.elapsed());
        }
    }
    let st = stats.lock().unwrap().clone();
    println!(
        "pre-warmed first token:         {:7.1} ms (prompt eval {:.1} ms for {} tokens; overhead beyond it {:.1} ms)",
        warm_first.map_or(0.0, |d| d.as_secs_f64() * 1e3),
        st.prompt_ms,
        st.evaluated_tokens,
        warm_first.map_or(0.0, |d| d.as_secs_f64() * 1e3) - st.prompt_ms
    );
    let _ = std::fs::remove_file(&copy);
}

fn part_raw(path: &Path, threads: u32) {
    let (pp, tg) = raw_pp_tg(path, threads);
    let (pp_m, pp_sd) = mean_sd(&pp);
    let (tg_m, tg_sd) = mean_sd(&tg);
    println!("aiw pp128:                      {pp_m:7.1} ± {pp_sd:.1} t/s");
    println!("aiw tg64:                       {tg_m:7.1} ± {tg_sd:.1} t/s");

    println!("RESULT pp {pp_m} {pp_sd}");
    println!("RESULT tg {tg_m} {tg_sd}");
}

async fn part_engine(settings: &LocalSettings) {
    let client = LocalClient::from_settings(settings.clone(), std::env::temp_dir());
    // Load first, so the measured requests are warm like a running session.
    let _ = timed(&client, &greedy(vec![Message::user("Hi")], 4)).await;
    // Generation through the whole engine (sampling, UTF-8, channel), 5 runs.
    let mut eng_tg = Vec::new();
    for i in 0..REPS {
        let req = greedy(
            vec![Message::user(format!(
                "Write a long essay about compilers, part {i}."
            ))],
            64,
        );
        let (s, stats) = client.stream_with_stats("", &req).await.unwrap();
        let _ = s.collect::<Vec<_>>().await;
        let st = stats.lock().unwrap().clone();
        eng_tg.push(st.generated_tokens as f64 / (st.generation_ms / 1e3));
    }
    let (eg_m, eg_sd) = mean_sd(&eng_tg);
    println!(
        "aiw engine generation:          {eg_m:7.1} ± {eg_sd:.1} t/s (sampling + streaming included)"
    );

    println!("RESULT engine_tg {eg_m} {eg_sd}");
}

async fn part_turns(settings: &LocalSettings) {
    let client = LocalClient::from_settings(settings.clone(), std::env::temp_dir());
    let _ = timed(&client, &greedy(vec![Message::user("Hi")], 4)).await;
    let mut convo: Vec<Message> = Vec::new();
    let mut rows = Vec::new();
    for turn in 1..=10 {
        convo.push(Message::user(format!(
            "Turn {turn}: here is more context about my project. It is a command line tool written in \
             Rust that talks to several AI providers and falls back to a local model. What should I \
             check in step {turn}?"
        )));
        let req = greedy(convo.clone(), 24);
        let t = Instant::now();
        let (s, stats) = client.stream_with_stats("", &req).await.unwrap();
        let mut text = String::new();
        let mut first = None;
        let mut s = s;
        while let Some(ev) = s.next().await {
            if let ChatEvent::Text(p) = ev.unwrap() {
                first.get_or_insert_with(|| t.elapsed());
                text.push_str(&p);
            }
        }
        let total = t.elapsed();
        let st = stats.lock().unwrap().clone();
        rows.push((first.unwrap_or(total), total, st));
        convo.push(Message::assistant(text));
    }
    for (i, (first, total, st)) in rows.iter().enumerate() {
        println!(
            "turn {:2}: first token {:6.1} ms, total {:6.1} ms, prompt {:4} tok ({:4} reused, {:3} evaluated), {:2} generated",
            i + 1,
            first.as_secs_f64() * 1e3,
            total.as_secs_f64() * 1e3,
            st.prompt_tokens,
            st.reused_tokens,
            st.evaluated_tokens,
            st.generated_tokens
        );
    }
    let (f1, t1, s1) = &rows[0];
    let (f10, t10, s10) = &rows[9];
    let per_tok = |t: &Duration, s: &aiw::provider::local::RequestStats| {
        t.as_secs_f64() / (s.generated_tokens.max(1) as f64)
    };
    println!(
        "turn 10 / turn 1: first token {:.2}, total {:.2}, total per generated token {:.2}   (target <= 1.2)",
        f10.as_secs_f64() / f1.as_secs_f64(),
        t10.as_secs_f64() / t1.as_secs_f64(),
        per_tok(t10, s10) / per_tok(t1, s1)
    );
}
