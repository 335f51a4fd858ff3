//! The model thread: one per process, started on first use. It owns the loaded llama.cpp
//! model and one context (the KV cache), takes jobs over a channel and streams events back
//! over another. Only compiled with the `local` feature.
//!
//! Why a thread: llama.cpp calls block for tens of milliseconds per token and `LlamaContext`
//! is not `Sync`; keeping model and context on one thread keeps them loaded between turns,
//! serializes context creation (which mutates the model, see llama-cpp-2's `new_context`), and
//! keeps the tokio runtime free.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::{LogOptions, send_logs_to_tracing};
use tokio::sync::{mpsc as tmpsc, oneshot};

use super::sampler::Sampler;
use super::{DEFAULT_MAX_TOKENS, DEFAULT_SYSTEM_PROMPT, ModelInfo, RequestStats};
use crate::conversation::fit;
use crate::provider::{
    ChatEvent, ChatRequest, ErrorClass, Message, ProviderError, Role, StopReason, Usage,
};

/// Events from the model thread to one stream.
pub(super) type EventTx = tmpsc::UnboundedSender<Result<ChatEvent, ProviderError>>;

/// Settings that decide how the model is loaded and its context created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct EngineParams {
    /// Layers offloaded to the GPU (0 = CPU only).
    pub gpu_layers: u32,
    /// CPU threads.
    pub threads: u32,
    /// Context window in tokens.
    pub context_size: u32,
    /// Tokens per decode call.
    pub batch_size: u32,
}

/// A unit of work for the model thread.
pub(super) struct Job {
    /// The model file (already resolved and checked).
    pub path: PathBuf,
    /// The name to report in `Started`.
    pub name: String,
    /// Load and context settings.
    pub params: EngineParams,
    /// What to do.
    pub kind: JobKind,
}

/// What a job asks for.
pub(super) enum JobKind {
    /// Generate an answer, streaming events into `events`.
    Generate {
        /// The request.
        req: Box<ChatRequest>,
        /// Where events go; closed by the receiver = cancelled.
        events: EventTx,
        /// Filled in as the request runs.
        stats: Arc<Mutex<RequestStats>>,
    },
    /// Load the model and create the context without generating (pre-warm, probe).
    Warm {
        /// Told when the model is ready, if someone waits.
        done: Option<oneshot::Sender<Result<ModelInfo, ProviderError>>>,
    },
}

impl Job {
    fn fail(self, err: ProviderError) {
        match self.kind {
            JobKind::Generate { events, .. } => {
                let _ = events.send(Err(err));
            }
            JobKind::Warm { done } => {
                if let Some(d) = done {
                    let _ = d.send(Err(err));
                }
            }
        }
    }
}

/// The llama.cpp backend: initialized once per process (a second init fails while one lives).
pub fn backend() -> Result<&'static LlamaBackend, ProviderError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            // llama.cpp and ggml log through tracing (to aiw's log file), never the terminal.
            send_logs_to_tracing(LogOptions::default());
            LlamaBackend::init().map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| unavailable(format!("cannot start llama.cpp: {e}")))
}

fn unavailable(message: String) -> ProviderError {
    ProviderError::new(ErrorClass::Unavailable, message)
}

/// Sends a job to the model thread, starting it on first use.
pub(super) fn submit(job: Job) -> Result<(), ProviderError> {
    static ENGINE: OnceLock<Result<Mutex<mpsc::Sender<Job>>, String>> = OnceLock::new();
    let tx = ENGINE
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("aiw-llama".to_string())
                .spawn(move || run(&rx))
                .map(|_| Mutex::new(tx))
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| unavailable(format!("cannot start the local model thread: {e}")))?;
    let tx = tx
        .lock()
        .map_err(|_| unavailable("the local model thread stopped".to_string()))?;
    tx.send(job)
        .map_err(|_| unavailable("the local model thread stopped".to_string()))
}

/// The model thread: load the model a job needs, serve jobs for it until one needs another
/// model (or other GPU layers), then switch.
fn run(rx: &mpsc::Receiver<Job>) {
    let mut next: Option<Job> = None;
    loop {
        let job = match next.take() {
            Some(j) => j,
            None => match rx.recv() {
                Ok(j) => j,
                Err(_) => return,
            },
        };
        let started = Instant::now();
        let model = match load_model(&job.path, job.params.gpu_layers) {
            Ok(m) => m,
            Err(e) => {
                job.fail(e);
                continue;
            }
        };
        let load_ms = started.elapsed().as_secs_f64() * 1000.0;
        tracing::info!(path = %job.path.display(), load_ms, "local model loaded");
        let key = (job.path.clone(), job.params.gpu_layers);
        let mut serving = Serving {
            model: &model,
            slot: None,
            load_ms,
        };
        let mut job = job;
        loop {
            serving.handle(job);
            match rx.recv() {
                Ok(j) if (j.path.clone(), j.params.gpu_layers) == key => job = j,
                Ok(j) => {
                    next = Some(j);
                    break;
                }
                Err(_) => return,
            }
        }
    }
}

fn load_model(path: &Path, gpu_layers: u32) -> Result<LlamaModel, ProviderError> {
    let backend = backend()?;
    let params = LlamaModelParams::default().with_n_gpu_layers(gpu_layers);
    LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
        unavailable(format!(
            "llama.cpp could not load {} ({e}); the file is probably truncated or corrupt: \
             remove it with `aiw model rm` and install it again (`aiw model pull NAME` or \
             `aiw model import FILE`); the log file has llama.cpp's reason",
            path.display()
        ))
    })
}

/// The context and what its KV cache holds.
struct Slot<'m> {
    ctx: LlamaContext<'m>,
    params: EngineParams,
    /// Tokens whose keys and values are in the cache, positions 0..len.
    tokens: Vec<LlamaToken>,
}

struct Serving<'m> {
    model: &'m LlamaModel,
    slot: Option<Slot<'m>>,
    load_ms: f64,
}

impl Serving<'_> {
    fn info(&self) -> ModelInfo {
        ModelInfo {
            name: self.model.meta_val_str("general.name").ok(),
            n_ctx_train: self.model.n_ctx_train(),
            n_params: self.model.n_params(),
            size: self.model.size(),
            load_ms: self.load_ms,
        }
    }

    fn handle(&mut self, job: Job) {
        if let Err(e) = self.ensure_context(&job.params) {
            job.fail(e);
            return;
        }
        match job.kind {
            JobKind::Warm { done } => {
                if let Some(d) = done {
                    let _ = d.send(Ok(self.info()));
                }
            }
            JobKind::Generate { req, events, stats } => {
                if let Ok(mut s) = stats.lock() {
                    s.load_ms = self.load_ms;
                }
                if let Err(e) = self.generate(&job.name, &req, &events, &stats) {
                    let _ = events.send(Err(e));
                }
            }
        }
    }

    fn ensure_context(&mut self, params: &EngineParams) -> Result<(), ProviderError> {
        if self.slot.as_ref().is_some_and(|s| &s.params == params) {
            return Ok(());
        }
        self.slot = None;
        let backend = backend()?;
        let threads = i32::try_from(params.threads.max(1)).unwrap_or(i32::MAX);
        let batch = params.batch_size.clamp(1, params.context_size.max(1));
        let cp = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(params.context_size))
            .with_n_batch(batch)
            .with_n_ubatch(batch)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            // An 8-bit KV cache: near-lossless, half the memory, and less memory traffic per
            // token in long sessions (measured here: turn 10 / turn 1 latency 1.87 -> 1.64).
            .with_type_k(llama_cpp_2::context::params::KvCacheType::Q8_0)
            .with_type_v(llama_cpp_2::context::params::KvCacheType::Q8_0)
            .with_no_perf(false);
        let ctx = self.model.new_context(backend, cp).map_err(|e| {
            unavailable(format!(
                "llama.cpp could not create a context of {} tokens ({e}); lower `context_size` \
                 in the local provider's config",
                params.context_size
            ))
        })?;
        let mut ctx = ctx;
        warm_up(self.model, &mut ctx);
        self.slot = Some(Slot {
            ctx,
            params: params.clone(),
            tokens: Vec::new(),
        });
        Ok(())
    }

    fn template(&self) -> LlamaChatTemplate {
        match self.model.chat_template(None) {
            Ok(t) => t,
            Err(e) => {
                tracing::warn!("model has no usable chat template ({e}); using chatml");
                chatml()
            }
        }
    }

    /// Renders the chat with the model's template (`ChatML` when it is missing or unsupported).
    fn render(&self, system: &str, messages: &[Message]) -> Result<String, ProviderError> {
        let mut chat = Vec::with_capacity(messages.len() + 1);
        let msg = |role: &str, content: &str| {
            // Interior NULs cannot cross the C API; they carry no meaning in a prompt.
            LlamaChatMessage::new(role.to_string(), content.replace('\0', ""))
                .map_err(|e| ProviderError::new(ErrorClass::InvalidRequest, e.to_string()))
        };
        chat.push(msg("system", system)?);
        for m in messages {
            let role = match m.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            chat.push(msg(role, &super::tools::render_message(m))?);
        }
        let tmpl = self.template();
        match self.model.apply_chat_template(&tmpl, &chat, true) {
            Ok(s) => Ok(s),
            Err(e) => {
                tracing::warn!("chat template not supported by llama.cpp ({e}); using chatml");
                self.model
                    .apply_chat_template(&chatml(), &chat, true)
                    .map_err(|e| ProviderError::new(ErrorClass::InvalidRequest, e.to_string()))
            }
        }
    }

    fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        let vocab = self.model.vocab();
        vocab.tokenize(text.as_bytes(), vocab.should_add_bos(), true)
    }

    /// Renders and tokenizes the request, fitting the history into `budget` tokens when it
    /// does not fit as is (with the request's summary standing in for dropped turns). Returns
    /// the tokens and, when it had to fit, what fitting did (counted exactly).
    fn prompt_tokens(
        &self,
        req: &ChatRequest,
        budget: usize,
    ) -> Result<(Vec<LlamaToken>, Option<fit::Fitted>), ProviderError> {
        let system = req
            .system
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(DEFAULT_SYSTEM_PROMPT);
        let tokens = self.tokenize(&self.render(system, &req.messages)?);
        if tokens.len() <= budget {
            return Ok((tokens, None));
        }
        let vocab = self.model.vocab();
        let mut count = |s: &str| vocab.tokenize(s.as_bytes(), false, false).len();
        let mut target = budget;
        for _ in 0..4 {
            let mut fitted = fit::fit(
                system,
                &req.messages,
                &[],
                req.summary.as_deref(),
                target,
                &mut count,
            )
            .map_err(|e| {
                ProviderError::new(
                    ErrorClass::ContextTooLong,
                    format!(
                        "the prompt does not fit the local model's context window even after \
                         leaving out earlier messages: {e}; raise `context_size` or shorten the message"
                    ),
                )
            })?;
            let tokens = self.tokenize(&self.render(system, &fitted.messages)?);
            if tokens.len() <= budget {
                tracing::info!(
                    dropped = fitted.dropped.len(),
                    summarised = fitted.summarised,
                    "fitted history into the local context"
                );
                // The exact count of what is evaluated, template included.
                fitted.tokens = tokens.len();
                return Ok((tokens, Some(fitted)));
            }
            // The estimate of template overhead was short: shrink the target by the overflow.
            target = target.saturating_sub(tokens.len() - budget + 8);
        }
        Err(ProviderError::new(
            ErrorClass::ContextTooLong,
            format!("the prompt does not fit the local model's context window of {budget} tokens"),
        ))
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one generation loop reads best in one piece"
    )]
    fn generate(
        &mut self,
        name: &str,
        req: &ChatRequest,
        events: &EventTx,
        stats: &Arc<Mutex<RequestStats>>,
    ) -> Result<(), ProviderError> {
        let t0 = Instant::now();
        let n_ctx = self.slot.as_ref().map_or(0, |s| s.ctx.n_ctx()) as usize;
        // Room kept for the answer when fitting the prompt: what the request asks for, else
        // DEFAULT_MAX_TOKENS; at most half the window.
        let reserve = (req.max_tokens.unwrap_or(DEFAULT_MAX_TOKENS) as usize)
            .min(n_ctx / 2)
            .max(1);
        let budget = n_ctx.saturating_sub(reserve);
        let (tokens, fitted) = self.prompt_tokens(req, budget)?;
        let max_tokens = answer_limit(n_ctx, tokens.len(), req.max_tokens);
        let dropped = fitted.as_ref().map_or(0, |f| f.dropped.len());
        if let Some(f) = &fitted {
            let _ = events.send(Ok(ChatEvent::HistoryFitted(f.report(budget, true))));
        }
        if tokens.is_empty() {
            return Err(ProviderError::new(
                ErrorClass::InvalidRequest,
                "empty prompt",
            ));
        }
        let mut sampler = Sampler::new(self.model, req)?;
        let _ = events.send(Ok(ChatEvent::Started {
            model: Some(name.to_string()),
        }));

        let model = self.model;
        let slot = self
            .slot
            .as_mut()
            .ok_or_else(|| unavailable("no context".to_string()))?;
        // KV reuse: keep the longest common prefix, drop the rest, evaluate only what is new.
        // At least one token is evaluated so there are logits to sample from.
        let mut common = slot
            .tokens
            .iter()
            .zip(&tokens)
            .take_while(|(a, b)| a == b)
            .count()
            .min(tokens.len() - 1);
        if common < slot.tokens.len() {
            let removed = slot
                .ctx
                .clear_kv_cache_seq(Some(0), u32::try_from(common).ok(), None)
                .unwrap_or(false);
            if !removed {
                slot.ctx.clear_kv_cache();
                common = 0;
            }
            slot.tokens.truncate(common);
        }
        let n_batch = (slot.ctx.n_batch() as usize).max(1);
        let mut batch = LlamaBatch::new(n_batch, 1);
        let new = &tokens[common..];
        let mut pos = common;
        let fail = |slot: &mut Slot<'_>, e: &dyn std::fmt::Display| {
            slot.ctx.clear_kv_cache();
            slot.tokens.clear();
            ProviderError::new(
                ErrorClass::ServerError,
                format!("llama.cpp decode failed: {e}"),
            )
        };
        for chunk in new.chunks(n_batch) {
            if events.is_closed() {
                tracing::debug!("local request cancelled during prompt evaluation");
                return Ok(());
            }
            batch.clear();
            for &t in chunk {
                pos += 1;
                batch
                    .add(t, (pos - 1) as i32, &[0], pos == tokens.len())
                    .map_err(|e| fail(slot, &e))?;
            }
            slot.ctx.decode(&mut batch).map_err(|e| fail(slot, &e))?;
            slot.tokens.extend_from_slice(chunk);
        }
        let prompt_ms = t0.elapsed().as_secs_f64() * 1000.0;
        if let Ok(mut s) = stats.lock() {
            s.prompt_tokens = tokens.len();
            s.reused_tokens = common;
            s.evaluated_tokens = new.len();
            s.dropped_messages = dropped;
            s.prompt_ms = prompt_ms;
        }

        let vocab = model.vocab();
        let mut utf8 = Utf8Stream::default();
        let mut stops = StopMatcher::new(&req.stop);
        let mut piece = Vec::new();
        let mut idx = batch.n_tokens() - 1;
        let mut generated = 0usize;
        let gen_start = Instant::now();
        let mut stop = StopReason::MaxTokens;
        while generated < max_tokens {
            if events.is_closed() {
                tracing::debug!(generated, "local request cancelled");
                return Ok(());
            }
            let Some(tok) = sampler.sample(&slot.ctx, idx) else {
                tracing::warn!(
                    generated,
                    "the grammar admits no next token; the answer ends here"
                );
                stop = StopReason::EndTurn;
                break;
            };
            if vocab.is_eog(tok) {
                stop = StopReason::EndTurn;
                break;
            }
            generated += 1;
            if let Ok(mut s) = stats.lock() {
                s.generated_tokens = generated;
            }
            piece.clear();
            vocab.token_to_piece_into(tok, &mut piece, false, None);
            let text = utf8.push(&piece);
            let (emit, hit) = stops.push(&text);
            if !emit.is_empty() {
                if let Ok(mut s) = stats.lock() {
                    s.first_token_ms
                        .get_or_insert_with(|| t0.elapsed().as_secs_f64() * 1000.0);
                }
                let _ = events.send(Ok(ChatEvent::Text(emit)));
            }
            if hit {
                stop = StopReason::StopSequence;
                break;
            }
            if pos >= n_ctx {
                break;
            }
            batch.clear();
            batch
                .add(tok, pos as i32, &[0], true)
                .map_err(|e| fail(slot, &e))?;
            slot.ctx.decode(&mut batch).map_err(|e| fail(slot, &e))?;
            slot.tokens.push(tok);
            pos += 1;
            idx = 0;
        }
        if stop != StopReason::StopSequence {
            let (emit, _) = stops.push(&utf8.finish());
            let rest = emit + &stops.finish();
            if !rest.is_empty() {
                let _ = events.send(Ok(ChatEvent::Text(rest)));
            }
        }
        if let Ok(mut s) = stats.lock() {
            s.generated_tokens = generated;
            s.generation_ms = gen_start.elapsed().as_secs_f64() * 1000.0;
        }
        let _ = events.send(Ok(ChatEvent::Usage(Usage {
            input_tokens: tokens.len() as u64,
            output_tokens: generated as u64,
            ..Usage::default()
        })));
        let _ = events.send(Ok(ChatEvent::Done { stop }));
        Ok(())
    }
}

/// One throw-away decode, as llama.cpp's own tools do after loading: it pages the weights in
/// from the memory map and allocates compute buffers, so that cost lands in the (pre-)warm
/// and not in the first answer.
fn warm_up(model: &LlamaModel, ctx: &mut LlamaContext<'_>) {
    let started = Instant::now();
    let vocab = model.vocab();
    let tok = vocab.bos();
    let mut batch = LlamaBatch::new(1, 1);
    let result = batch
        .add(tok, 0, &[0], true)
        .map_err(|e| e.to_string())
        .and_then(|()| ctx.decode(&mut batch).map_err(|e| e.to_string()));
    if let Err(e) = result {
        tracing::debug!("warm-up decode failed: {e}");
    }
    ctx.clear_kv_cache();
    tracing::debug!(
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "local model warmed up"
    );
}

fn chatml() -> LlamaChatTemplate {
    LlamaChatTemplate::new("chatml").expect("the literal \"chatml\" has no NUL byte")
}

/// Turns token pieces (bytes; a character may be split across tokens) into text.
#[derive(Default)]
pub(super) struct Utf8Stream {
    pending: Vec<u8>,
}

impl Utf8Stream {
    /// Adds bytes; returns the complete characters so far.
    pub(super) fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match e.error_len() {
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(n) => {
                            out.push('\u{FFFD}');
                            self.pending.drain(..valid + n);
                        }
                    }
                }
            }
        }
    }

    /// Flushes whatever is left (an incomplete character becomes U+FFFD).
    pub(super) fn finish(&mut self) -> String {
        let s = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        s
    }
}

/// Holds back text that may be the start of a stop string, and cuts at a match.
pub(super) struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

impl StopMatcher {
    pub(super) fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    /// Adds text; returns what can be emitted and whether a stop string matched (the stop
    /// string and anything after it are not emitted).
    pub(super) fn push(&mut self, text: &str) -> (String, bool) {
        if self.stops.is_empty() {
            return (text.to_string(), false);
        }
        self.held.push_str(text);
        if let Some(at) = self
            .stops
            .iter()
            .filter_map(|s| self.held.find(s.as_str()))
            .min()
        {
            let out = self.held[..at].to_string();
            self.held.clear();
            return (out, true);
        }
        // Keep the longest suffix that is a prefix of some stop string.
        let keep = self
            .stops
            .iter()
            .map(|s| {
                (1..s.len().min(self.held.len() + 1))
                    .rev()
                    .find(|&n| {
                        self.held.is_char_boundary(self.held.len() - n)
                            && s.is_char_boundary(n)
                            && self.held.ends_with(&s[..n])
                    })
                    .unwrap_or(0)
            })
            .max()
            .unwrap_or(0);
        let cut = self.held.len() - keep;
        let out = self.held[..cut].to_string();
        self.held.drain(..cut);
        (out, false)
    }

    /// Releases held text at the end of generation.
    pub(super) fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

/// How many tokens the answer may take: what the request allows (all of it when it sets no
/// limit), but never past the end of the context window after the prompt.
fn answer_limit(n_ctx: usize, prompt: usize, requested: Option<u32>) -> usize {
    let room = n_ctx.saturating_sub(prompt);
    requested.map_or(room, |n| (n as usize).min(room)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_may_use_the_rest_of_the_window_unless_the_request_limits_it() {
        assert_eq!(answer_limit(4096, 1000, None), 3096);
        assert_eq!(answer_limit(4096, 1000, Some(200)), 200);
        assert_eq!(answer_limit(4096, 4000, Some(200)), 96);
        assert_eq!(answer_limit(1024, 1024, None), 1);
    }

    #[test]
    fn utf8_stream_joins_split_characters() {
        let s = "héllo ワールド";
        let bytes = s.as_bytes();
        let mut u = Utf8Stream::default();
        let mut out = String::new();
        for b in bytes {
            out.push_str(&u.push(std::slice::from_ref(b)));
        }
        out.push_str(&u.finish());
        assert_eq!(out, s);
        let mut u = Utf8Stream::default();
        assert_eq!(u.push(b"a\xffb"), "a\u{FFFD}b");
        assert_eq!(u.push(b"\xe3\x83"), "");
        assert_eq!(u.finish(), "\u{FFFD}");
    }

    #[test]
    fn stop_matcher_holds_back_prefixes_and_cuts() {
        let mut m = StopMatcher::new(&["</end>".to_string()]);
        assert_eq!(m.push("abc</"), ("abc".to_string(), false));
        assert_eq!(m.push("en"), (String::new(), false));
        assert_eq!(m.push("d>tail"), (String::new(), true));
        let mut m = StopMatcher::new(&["STOP".to_string()]);
        assert_eq!(m.push("xS"), ("x".to_string(), false));
        assert_eq!(m.push("x"), ("Sx".to_string(), false));
        assert_eq!(m.push("ST"), (String::new(), false));
        assert_eq!(m.finish(), "ST");
        let mut none = StopMatcher::new(&[]);
        assert_eq!(none.push("S"), ("S".to_string(), false));
    }
}
