//! Choosing each next token (feature `local` only): the sampler chain a request asks for
//! (greedy, or top-k/top-p/temperature with a seed) and, when it carries a GBNF grammar, the
//! grammar, checked the way llama.cpp's own tools check it: the token the plain chain picks
//! is tested against the grammar first, and only when the grammar rejects it is the grammar
//! applied to the whole vocabulary and the token picked again. Applying a grammar to every
//! one of a model's ~50k tokens at every step costs far more than the model itself for a
//! small model (measured here: a 55-line review took 15 s on SmolLM2-135M with the grammar
//! applied first), while the answer is the same: a token the grammar admits is kept either
//! way.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

use crate::provider::{ChatRequest, ErrorClass, ProviderError};

/// A request's sampling: the chain, and its grammar when it has one.
pub struct Sampler {
    chain: LlamaSampler,
    grammar: Option<LlamaSampler>,
}

impl Sampler {
    /// The sampler for `req`: greedy at temperature 0, else top-k, top-p, temperature and a
    /// seeded draw; its grammar (an invalid one is the request's error).
    pub fn new(model: &LlamaModel, req: &ChatRequest) -> Result<Self, ProviderError> {
        let grammar = match req.grammar.as_deref() {
            Some(g) => Some(LlamaSampler::grammar(model, g, "root").map_err(|e| {
                ProviderError::new(
                    ErrorClass::InvalidRequest,
                    format!("the GBNF grammar was rejected by llama.cpp ({e})"),
                )
            })?),
            None => None,
        };
        let chain = match req.temperature {
            Some(t) if t <= 0.0 => LlamaSampler::greedy(),
            t => {
                let k = req
                    .top_k
                    .map_or(40, |k| i32::try_from(k).unwrap_or(i32::MAX));
                // llama.cpp takes a 32-bit seed; fold the 64-bit one so both halves count.
                let seed = req
                    .seed
                    .map_or_else(|| fastrand::u32(..), |s| (s ^ (s >> 32)) as u32);
                LlamaSampler::chain_simple([
                    LlamaSampler::top_k(k),
                    LlamaSampler::top_p(req.top_p.unwrap_or(0.95), 1),
                    LlamaSampler::temp(t.unwrap_or(0.7)),
                    LlamaSampler::dist(seed),
                ])
            }
        };
        Ok(Self { chain, grammar })
    }

    /// The next token after output `idx` of the last decode, accepted by the chain and the
    /// grammar. `None` when nothing can be picked (every token rejected by the grammar).
    pub fn sample(&mut self, ctx: &LlamaContext<'_>, idx: i32) -> Option<LlamaToken> {
        let Some(grammar) = self.grammar.as_mut() else {
            return Some(self.chain.sample(ctx, idx));
        };
        let mut all = ctx.token_data_array_ith(idx);
        all.apply_sampler(&mut self.chain);
        let first = all.selected_token();
        let token = match first {
            Some(t) if admits(grammar, t) => t,
            _ => {
                let mut all = ctx.token_data_array_ith(idx);
                all.apply_sampler(grammar);
                all.apply_sampler(&mut self.chain);
                let t = all.selected_token()?;
                if all
                    .data
                    .iter()
                    .find(|d| d.id() == t)
                    .is_none_or(|d| d.logit() == f32::NEG_INFINITY)
                {
                    return None;
                }
                t
            }
        };
        grammar.accept(token);
        self.chain.accept(token);
        Some(token)
    }
}

/// Whether `grammar`, in its current state, admits `token` next.
fn admits(grammar: &mut LlamaSampler, token: LlamaToken) -> bool {
    let mut one = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 0.0, 0.0)], false);
    grammar.apply(&mut one);
    one.data
        .first()
        .is_some_and(|d| d.logit() != f32::NEG_INFINITY)
}
