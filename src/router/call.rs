//! One call to one model: opens the stream with the tier's first-token, stall and total
//! timeouts, passes text on as it arrives (through the seam filter when it continues another
//! model's answer), hands on a tool call only once its arguments are complete, and returns
//! what the model produced, complete blocks only, whether it finished or failed. Until the
//! first content, the user's skip ([`super::skip`]) ends the call as its first-token limit
//! would.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;

use super::events::RouterEvent;
use super::seam::SeamFilter;
use super::skip::Armed;
use super::tier::TierPolicy;
use crate::config::ModelRef;
use crate::config::Timeouts;
use crate::conversation::{AssembleError, Assembler};
use crate::provider::{
    Block, ChatEvent, ChatRequest, Client, ErrorClass, ProviderError, StopReason, Usage,
};

/// The event sink every part of the router writes to.
pub(super) type OnEvent<'a> = &'a mut (dyn FnMut(RouterEvent) + Send);

/// What a call that finished produced.
pub(super) struct CallOk {
    /// The complete blocks it wrote (text as shown, after the seam filter).
    pub blocks: Vec<Block>,
    /// The usage it reported.
    pub usage: Usage,
    /// Why it stopped.
    pub stop: StopReason,
    /// Its own time to first content.
    pub ttft_ms: Option<u64>,
    /// The model id the provider said it served.
    pub served_model: Option<String>,
}

/// What a failed call produced before failing: its complete blocks (a tool call cut inside
/// its arguments is not among them).
pub(super) struct CallErr {
    /// Why it failed.
    pub error: ProviderError,
    /// The complete blocks it wrote before failing.
    pub blocks: Vec<Block>,
    /// The usage it reported before failing.
    pub usage: Usage,
    /// Its own time to first content, if any came.
    pub ttft_ms: Option<u64>,
}

/// One call: the model, its client and tier, the request, and the text it continues.
pub(super) struct Call<'a> {
    /// The model.
    pub model: &'a ModelRef,
    /// Its provider's client.
    pub client: &'a Client,
    /// Its tier's policy (which timeouts apply).
    pub tier: &'static TierPolicy,
    /// The request (a continuation request when `prior` is not empty).
    pub req: &'a ChatRequest,
    /// Text already shown that this call continues (empty for a fresh answer).
    pub prior: &'a str,
    /// The configured timeouts, before the tier adjusts them.
    pub timeouts: Timeouts,
    /// The largest answer one call may stream (`[limits] answer`).
    pub answer_limit: usize,
}

/// Waits for the user's skip, when the call may be skipped; never fires otherwise.
async fn skip_fired(skip: Option<&mut Armed>, started: Instant) -> ProviderError {
    match skip {
        Some(armed) => armed.fired(started).await,
        None => std::future::pending().await,
    }
}

impl Call<'_> {
    /// Runs the call. `request_start` and `first_token` are the whole request's: the first
    /// content of any call sets the request's time to first token. `skip`, armed before the
    /// call was announced, ends it with an [`ErrorClass::Skipped`] error while no content
    /// has come.
    pub async fn run(
        &self,
        on_event: OnEvent<'_>,
        cancel: &CancellationToken,
        mut skip: Option<Armed>,
        request_start: Instant,
        first_token: &mut Option<u64>,
    ) -> Result<CallOk, CallErr> {
        let model = self.model;
        let t = self.tier.timeouts(self.timeouts);
        let started = Instant::now();
        let first_deadline = started + t.first_token;
        // `[timeouts] total` bounds the whole request, failovers included.
        let total_deadline = request_start + t.total;
        let mut out = CallOut {
            asm: Assembler::new(self.client.vendor(&model.model)),
            seam: SeamFilter::new(self.prior),
            usage: Usage::default(),
            ttft: None,
        };

        let opened = tokio::select! {
            r = tokio::time::timeout_at(first_deadline.min(total_deadline).into(), self.client.stream(&model.model, self.req)) => r,
            () = cancel.cancelled() => return Err(out.fail(cancelled(), model, on_event)),
            e = skip_fired(skip.as_mut(), started) => return Err(out.fail(e, model, on_event)),
        };
        let mut stream = match opened {
            Err(_) => {
                // The whole request's `total` may end before this model's first-token limit.
                let (class, limit) = if total_deadline <= first_deadline {
                    (ErrorClass::TotalTimeout, t.total)
                } else {
                    (ErrorClass::FirstTokenTimeout, t.first_token)
                };
                return Err(out.fail(timeout_error(class, limit), model, on_event));
            }
            Ok(Err(e)) => return Err(out.fail(e, model, on_event)),
            Ok(Ok(s)) => crate::provider::bounds::bound(s, self.answer_limit),
        };
        let mut served_model = None;
        loop {
            let (deadline, class, limit) = if out.ttft.is_none() {
                (first_deadline, ErrorClass::FirstTokenTimeout, t.first_token)
            } else {
                (Instant::now() + t.stall, ErrorClass::StallTimeout, t.stall)
            };
            let (deadline, class, limit) = if total_deadline < deadline {
                (total_deadline, ErrorClass::TotalTimeout, t.total)
            } else {
                (deadline, class, limit)
            };
            // Once content came, a skip would cut an answer: it no longer applies.
            let skippable = if out.ttft.is_none() {
                skip.as_mut()
            } else {
                None
            };
            let next = tokio::select! {
                r = tokio::time::timeout_at(deadline.into(), stream.next()) => r,
                () = cancel.cancelled() => return Err(out.fail(cancelled(), model, on_event)),
                e = skip_fired(skippable, started) => return Err(out.fail(e, model, on_event)),
            };
            let ev = match next {
                Err(_) => return Err(out.fail(timeout_error(class, limit), model, on_event)),
                Ok(None) => {
                    let e = ProviderError::new(
                        ErrorClass::Truncated,
                        "the stream ended without the provider's final event",
                    );
                    return Err(out.fail(e, model, on_event));
                }
                Ok(Some(Err(e))) => return Err(out.fail(e, model, on_event)),
                Ok(Some(Ok(ev))) => ev,
            };
            let content = matches!(
                ev,
                ChatEvent::Text(_)
                    | ChatEvent::Thinking(_)
                    | ChatEvent::ToolCallStart { .. }
                    | ChatEvent::ToolCallArgs { .. }
                    | ChatEvent::Opaque(_)
            );
            if content && out.ttft.is_none() && !matches!(&ev, ChatEvent::Text(t) if t.is_empty()) {
                out.ttft = Some(started.elapsed().as_millis() as u64);
                if first_token.is_none() {
                    *first_token = Some(request_start.elapsed().as_millis() as u64);
                }
            }
            match ev {
                ChatEvent::Started { model } => served_model = model,
                ChatEvent::HistoryFitted(report) => on_event(RouterEvent::HistoryFitted {
                    model: model.clone(),
                    report,
                }),
                ChatEvent::Text(piece) => {
                    let shown = out.seam.push(&piece);
                    out.text(shown, model, on_event);
                }
                ChatEvent::Usage(u) => {
                    out.usage = u;
                    on_event(RouterEvent::Usage {
                        model: model.clone(),
                        usage: u,
                    });
                }
                ChatEvent::Done { stop } => {
                    out.flush_seam(model, on_event);
                    let mut stop = stop;
                    if out.asm.has_open_call() {
                        match out.asm.finish_open_calls() {
                            Ok(calls) => {
                                for block in calls {
                                    on_event(RouterEvent::ToolUse {
                                        model: model.clone(),
                                        block,
                                    });
                                }
                                stop = StopReason::ToolUse;
                            }
                            Err(e) => return Err(out.fail(malformed_call(&e), model, on_event)),
                        }
                    }
                    return Ok(CallOk {
                        blocks: out.asm.blocks(),
                        usage: out.usage,
                        stop,
                        ttft_ms: out.ttft,
                        served_model,
                    });
                }
                other => {
                    // Reasoning, tool calls and provider blocks: the seam's held-back text
                    // goes first, so blocks keep their order.
                    out.flush_seam(model, on_event);
                    match &other {
                        ChatEvent::Thinking(text) => on_event(RouterEvent::Thinking {
                            model: model.clone(),
                            text: text.clone(),
                        }),
                        ChatEvent::ThinkingSignature(signature) => {
                            on_event(RouterEvent::ThinkingSignature {
                                model: model.clone(),
                                signature: signature.clone(),
                            });
                        }
                        ChatEvent::Opaque(raw) => on_event(RouterEvent::Opaque {
                            model: model.clone(),
                            raw: raw.clone(),
                        }),
                        _ => {}
                    }
                    match out.asm.push(&other) {
                        Ok(Some(block)) => on_event(RouterEvent::ToolUse {
                            model: model.clone(),
                            block,
                        }),
                        Ok(None) => {}
                        Err(e) => return Err(out.fail(malformed_call(&e), model, on_event)),
                    }
                }
            }
        }
    }
}

/// The error of a call the user cancelled.
fn cancelled() -> ProviderError {
    ProviderError::new(ErrorClass::Cancelled, "cancelled")
}

/// The error for a timeout of `class` after `limit`.
pub(super) fn timeout_error(class: ErrorClass, limit: Duration) -> ProviderError {
    let what = match class {
        ErrorClass::FirstTokenTimeout => "no first token",
        ErrorClass::StallTimeout => "the stream stalled: no data",
        ErrorClass::TotalTimeout => {
            "answer cut at the total time limit ([timeouts] total): not finished"
        }
        _ => "no answer",
    };
    ProviderError::new(
        class,
        format!("{what} within {}", humantime::format_duration(limit)),
    )
}

/// A tool call whose arguments are not a JSON object: the stream is as broken as a cut one.
fn malformed_call(e: &AssembleError) -> ProviderError {
    ProviderError::new(ErrorClass::MalformedStream, e.to_string())
}

/// What one call has produced so far.
struct CallOut {
    asm: Assembler,
    seam: SeamFilter,
    usage: Usage,
    ttft: Option<u64>,
}

impl CallOut {
    /// Passes shown text on and into the answer.
    fn text(&mut self, shown: String, model: &ModelRef, on_event: OnEvent<'_>) {
        if shown.is_empty() {
            return;
        }
        // Text events cannot fail to assemble.
        let _ = self.asm.push(&ChatEvent::Text(shown.clone()));
        on_event(RouterEvent::Text {
            model: model.clone(),
            text: shown,
        });
    }

    /// Releases text the seam filter held back.
    fn flush_seam(&mut self, model: &ModelRef, on_event: OnEvent<'_>) {
        let rest = self.seam.finish();
        self.text(rest, model, on_event);
    }

    /// The failed call's result: its complete blocks, the held-back text included.
    fn fail(mut self, error: ProviderError, model: &ModelRef, on_event: OnEvent<'_>) -> CallErr {
        if error.class == ErrorClass::Cancelled {
            // Kept in the record, not shown: the user stopped the answer.
            let rest = self.seam.finish();
            if !rest.is_empty() {
                let _ = self.asm.push(&ChatEvent::Text(rest));
            }
        } else {
            self.flush_seam(model, on_event);
        }
        CallErr {
            error,
            blocks: self.asm.blocks(),
            usage: self.usage,
            ttft_ms: self.ttft,
        }
    }
}
