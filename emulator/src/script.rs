//! Scripts: the serde-serializable description of what the emulator does with each
//! request for one model (reply, error, reset, hang, stream faults), their builders,
//! and the per-model clock/counter state that picks the action for the next request.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// What the emulator does with the requests for one model.
///
/// Requests step through [`Script::phases`] by wall-clock time since the script was set
/// (see [`crate::Emulator::set_script`]): phase `i` applies while the elapsed time is
/// below the sum of the durations of phases `0..=i`; the last phase (or the first phase
/// with `duration_ms: None`) lasts forever. Within a phase the `n`-th request of that
/// phase takes `actions[n % len]`, or `actions[min(n, len - 1)]` when
/// [`Script::sequence`] is set. A script without phases (or a phase without actions)
/// gives the default reply `Hello from {model}.`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Script {
    /// Time-ordered phases.
    #[serde(default)]
    pub phases: Vec<Phase>,
    /// When set, every request for this model must carry this key (Anthropic
    /// `x-api-key` or `Authorization: Bearer`, OpenAI `Authorization: Bearer`, Gemini
    /// `x-goog-api-key` or `?key=`); otherwise it gets the provider's auth error.
    /// Applies to all phases.
    #[serde(default)]
    pub require_key: Option<String>,
    /// `true`: within a phase, each request takes the next action and the last one
    /// repeats (instead of cycling). Set by [`Script::sequence`].
    #[serde(default)]
    pub sequence: bool,
}

/// One time slice of a [`Script`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Phase {
    /// How long this phase lasts, in milliseconds; `None` = forever. The last phase
    /// lasts forever whatever its duration.
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// One action per request, cycled (or taken in order, see [`Script::sequence`]).
    pub actions: Vec<Action>,
}

/// What to do with one request.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// Answer 200 with a (possibly streamed, possibly faulty) reply.
    Reply(Reply),
    /// Answer with the provider's error status, body and headers.
    Error(ErrorReply),
    /// Read the request, then close the socket with `SO_LINGER` 0 (TCP RST) before
    /// sending any byte.
    Reset,
    /// Read the request and never answer; the socket stays open until the client
    /// leaves (or the emulator shuts down).
    Hang,
}

/// A successful reply.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Reply {
    /// The full reply text.
    pub text: String,
    /// Characters per streamed text chunk; `0` means 8. Splits on char boundaries.
    pub chunk_chars: usize,
    /// Delay before the first text chunk (headers and preamble events go out at once).
    /// For non-streaming replies the whole response is delayed by
    /// `first_token_delay_ms + interval_ms * (chunks - 1)`.
    pub first_token_delay_ms: u64,
    /// Delay between text chunks.
    pub interval_ms: u64,
    /// Optional fault injected into the stream.
    pub fault: Option<StreamFault>,
    /// Reported input tokens; default: whitespace-separated words in the request's
    /// system and message texts.
    pub input_tokens: Option<u64>,
    /// Reported output tokens; default: number of text chunks.
    pub output_tokens: Option<u64>,
}

/// A fault injected into a 200 reply. `chunks` counts **text chunks** already sent
/// (preamble events such as Anthropic `message_start`/`content_block_start`/`ping` or
/// the OpenAI role chunk always go out first). With `chunks >=` the number of text
/// chunks the fault fires just before the closing events (Anthropic
/// `content_block_stop`, OpenAI finish chunk); for Gemini, whose last text chunk
/// carries `finishReason`, it then fires after the whole stream.
///
/// For non-streaming requests: stall = headers then nothing, cut/reset = headers and
/// half the body then close/RST, malformed = a truncated JSON body, error event = the
/// provider's HTTP error response.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamFault {
    /// Send `chunks` text chunks, then nothing; keep the socket open until the client
    /// leaves.
    StallAfter {
        /// Text chunks sent before the stall.
        chunks: usize,
    },
    /// Send `chunks` text chunks, then close. `clean_eof`: end the chunked body
    /// properly (the client sees a clean EOF without a terminal event); otherwise close
    /// without the final 0-chunk (an incomplete body).
    CutAfter {
        /// Text chunks sent before the cut.
        chunks: usize,
        /// End the HTTP body properly before closing.
        clean_eof: bool,
    },
    /// After `chunks` text chunks, send one event whose `data:` is invalid JSON, then
    /// continue the stream normally.
    MalformedAfter {
        /// Text chunks sent before the malformed event.
        chunks: usize,
    },
    /// After `chunks` text chunks, send the provider's mid-stream error (Anthropic
    /// `event: error`, OpenAI `data: {"error":…}`, Gemini bare JSON error object), then
    /// end the body cleanly and close.
    ErrorEventAfter {
        /// Text chunks sent before the error event.
        chunks: usize,
        /// Which error.
        kind: ErrorKind,
    },
    /// Send `chunks` text chunks, then close with a TCP RST.
    ResetAfter {
        /// Text chunks sent before the reset.
        chunks: usize,
    },
}

impl StreamFault {
    /// The number of text chunks sent before the fault fires.
    pub fn chunks(&self) -> usize {
        match *self {
            StreamFault::StallAfter { chunks }
            | StreamFault::CutAfter { chunks, .. }
            | StreamFault::MalformedAfter { chunks }
            | StreamFault::ErrorEventAfter { chunks, .. }
            | StreamFault::ResetAfter { chunks } => chunks,
        }
    }
}

/// An HTTP error answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ErrorReply {
    /// Which error (status and body follow the provider's real ones).
    pub kind: ErrorKind,
    /// Raw `retry-after` header value. For Gemini `RateLimited`/`QuotaExhausted` a
    /// numeric value also becomes the `RetryInfo.retryDelay` detail.
    #[serde(default)]
    pub retry_after: Option<String>,
    /// Raw `retry-after-ms` header value.
    #[serde(default)]
    pub retry_after_ms: Option<String>,
    /// `x-should-retry: true|false` header.
    #[serde(default)]
    pub should_retry: Option<bool>,
    /// Replaces the HTTP status (the body stays the kind's).
    #[serde(default)]
    pub status_override: Option<u16>,
    /// Delay before answering.
    #[serde(default)]
    pub delay_ms: u64,
}

/// Error kinds; each maps to the provider's real status and body.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Anthropic 529 `overloaded_error`; OpenAI 503 `server_is_overloaded`; Gemini 503
    /// `UNAVAILABLE`.
    Overloaded,
    /// Transient 429: Anthropic `rate_limit_error`, OpenAI `rate_limit_exceeded`,
    /// Gemini `RESOURCE_EXHAUSTED` (with `RetryInfo` derived from `retry_after`).
    RateLimited,
    /// Permanent 429: Anthropic spend cap (`error.details.error_code =
    /// "enforced_spend_limit_reached"`), OpenAI `insufficient_quota`, Gemini daily
    /// quota `RESOURCE_EXHAUSTED`.
    QuotaExhausted,
    /// 500.
    Server,
    /// 503.
    Unavailable,
    /// 504.
    GatewayTimeout,
    /// Anthropic 401 `authentication_error`; OpenAI 401 `invalid_api_key`; Gemini 400
    /// `API_KEY_INVALID`.
    Auth,
    /// 403.
    Permission,
    /// 404 (unknown model).
    NotFound,
    /// 400.
    BadRequest,
    /// Anthropic 400 "prompt is too long"; OpenAI 400 `context_length_exceeded`; Gemini
    /// 400 "input token count … exceeds the maximum".
    ContextTooLong,
    /// 502 with a Cloudflare-style HTML body.
    CloudflareHtml,
}

impl Script {
    /// Always reply with `text`.
    pub fn reply(text: &str) -> Script {
        Script::always(Action::reply(text))
    }

    /// Always take action `a`.
    pub fn always(a: Action) -> Script {
        Script {
            phases: vec![Phase {
                duration_ms: None,
                actions: vec![a],
            }],
            require_key: None,
            sequence: false,
        }
    }

    /// Each request takes the next action; the last one repeats forever.
    pub fn sequence(actions: Vec<Action>) -> Script {
        Script {
            phases: vec![Phase {
                duration_ms: None,
                actions,
            }],
            require_key: None,
            sequence: true,
        }
    }

    /// Each request takes the next action, cycling forever.
    pub fn cycle(actions: Vec<Action>) -> Script {
        Script {
            phases: vec![Phase {
                duration_ms: None,
                actions,
            }],
            require_key: None,
            sequence: false,
        }
    }

    /// Take `down` for every request during `d` after the script is set, then `then`.
    pub fn down_then(d: Duration, down: Action, then: Action) -> Script {
        Script {
            phases: vec![
                Phase {
                    duration_ms: Some(duration_ms(d)),
                    actions: vec![down],
                },
                Phase {
                    duration_ms: None,
                    actions: vec![then],
                },
            ],
            require_key: None,
            sequence: false,
        }
    }

    /// Require `key` on every request for this model.
    #[must_use]
    pub fn with_key(mut self, key: &str) -> Script {
        self.require_key = Some(key.to_owned());
        self
    }
}

impl Phase {
    /// A phase lasting `duration` (`None` = forever) with the given actions.
    pub fn new(duration: Option<Duration>, actions: Vec<Action>) -> Phase {
        Phase {
            duration_ms: duration.map(duration_ms),
            actions,
        }
    }
}

impl Action {
    /// A plain streamed/non-streamed reply with `text`.
    pub fn reply(text: &str) -> Action {
        Action::Reply(Reply::new(text))
    }

    /// The provider's error for `kind`, no extra headers.
    pub fn error(kind: ErrorKind) -> Action {
        Action::Error(ErrorReply::new(kind))
    }
}

impl Reply {
    /// A reply with `text` and default chunking, no delays, no fault.
    pub fn new(text: &str) -> Reply {
        Reply {
            text: text.to_owned(),
            ..Reply::default()
        }
    }

    /// Characters per text chunk (`0` = 8).
    #[must_use]
    pub fn chunk_chars(mut self, n: usize) -> Self {
        self.chunk_chars = n;
        self
    }

    /// Delay before the first text chunk.
    #[must_use]
    pub fn first_token_delay(mut self, d: Duration) -> Self {
        self.first_token_delay_ms = duration_ms(d);
        self
    }

    /// Delay between text chunks.
    #[must_use]
    pub fn interval(mut self, d: Duration) -> Self {
        self.interval_ms = duration_ms(d);
        self
    }

    /// Inject a stream fault.
    #[must_use]
    pub fn fault(mut self, f: StreamFault) -> Self {
        self.fault = Some(f);
        self
    }

    /// Override the reported token usage.
    #[must_use]
    pub fn usage(mut self, input_tokens: u64, output_tokens: u64) -> Self {
        self.input_tokens = Some(input_tokens);
        self.output_tokens = Some(output_tokens);
        self
    }

    /// The text split into chunks of `chunk_chars` characters (8 when 0).
    pub(crate) fn chunks(&self) -> Vec<String> {
        let n = if self.chunk_chars == 0 {
            8
        } else {
            self.chunk_chars
        };
        let chars: Vec<char> = self.text.chars().collect();
        chars.chunks(n).map(|c| c.iter().collect()).collect()
    }
}

impl ErrorReply {
    /// The provider's error for `kind`, no extra headers, no delay.
    pub fn new(kind: ErrorKind) -> ErrorReply {
        ErrorReply {
            kind,
            retry_after: None,
            retry_after_ms: None,
            should_retry: None,
            status_override: None,
            delay_ms: 0,
        }
    }

    /// Send `retry-after: v`.
    #[must_use]
    pub fn retry_after(mut self, v: &str) -> Self {
        self.retry_after = Some(v.to_owned());
        self
    }

    /// Send `retry-after-ms: v`.
    #[must_use]
    pub fn retry_after_ms(mut self, v: &str) -> Self {
        self.retry_after_ms = Some(v.to_owned());
        self
    }

    /// Send `x-should-retry: v`.
    #[must_use]
    pub fn should_retry(mut self, v: bool) -> Self {
        self.should_retry = Some(v);
        self
    }

    /// Use `status` instead of the kind's status.
    #[must_use]
    pub fn status(mut self, status: u16) -> Self {
        self.status_override = Some(status);
        self
    }

    /// Wait `d` before answering.
    #[must_use]
    pub fn delay(mut self, d: Duration) -> Self {
        self.delay_ms = duration_ms(d);
        self
    }
}

impl From<Reply> for Action {
    fn from(r: Reply) -> Action {
        Action::Reply(r)
    }
}

impl From<ErrorReply> for Action {
    fn from(e: ErrorReply) -> Action {
        Action::Error(e)
    }
}

fn duration_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// A script plus its clock and per-phase request counters.
#[derive(Debug)]
pub(crate) struct ScriptState {
    pub(crate) script: Script,
    started: Instant,
    served: Vec<usize>,
}

impl ScriptState {
    pub(crate) fn new(script: Script) -> ScriptState {
        let served = vec![0; script.phases.len()];
        ScriptState {
            script,
            started: Instant::now(),
            served,
        }
    }

    /// The phase that applies `elapsed` after the script was set.
    fn phase_at(&self, elapsed: Duration) -> Option<usize> {
        let last = self.script.phases.len().checked_sub(1)?;
        let mut end = Duration::ZERO;
        for (i, p) in self.script.phases.iter().enumerate() {
            match p.duration_ms {
                Some(ms) if i < last => {
                    end += Duration::from_millis(ms);
                    if elapsed < end {
                        return Some(i);
                    }
                }
                _ => return Some(i),
            }
        }
        Some(last)
    }

    /// Picks (and consumes) the action for the next request at `now`; `None` means the
    /// default reply.
    pub(crate) fn next_action(&mut self, now: Instant) -> Option<Action> {
        let i = self.phase_at(now.saturating_duration_since(self.started))?;
        let actions = &self.script.phases[i].actions;
        if actions.is_empty() {
            return None;
        }
        let n = self.served[i];
        self.served[i] += 1;
        let idx = if self.script.sequence {
            n.min(actions.len() - 1)
        } else {
            n % actions.len()
        };
        Some(actions[idx].clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(a: Option<Action>) -> String {
        match a {
            Some(Action::Reply(r)) => r.text,
            Some(Action::Error(e)) => format!("{:?}", e.kind),
            Some(Action::Reset) => "reset".into(),
            Some(Action::Hang) => "hang".into(),
            None => "default".into(),
        }
    }

    #[test]
    fn sequence_repeats_last_and_cycle_cycles() {
        let mut s = ScriptState::new(Script::sequence(vec![
            Action::reply("a"),
            Action::reply("b"),
        ]));
        let now = Instant::now();
        let got: Vec<String> = (0..4).map(|_| text(s.next_action(now))).collect();
        assert_eq!(got, ["a", "b", "b", "b"]);

        let mut s = ScriptState::new(Script::cycle(vec![Action::reply("a"), Action::reply("b")]));
        let got: Vec<String> = (0..4).map(|_| text(s.next_action(now))).collect();
        assert_eq!(got, ["a", "b", "a", "b"]);
    }

    #[test]
    fn phases_follow_the_clock() {
        let script = Script {
            phases: vec![
                Phase::new(Some(Duration::from_millis(100)), vec![Action::Reset]),
                Phase::new(Some(Duration::from_millis(100)), vec![Action::Hang]),
                Phase::new(Some(Duration::from_millis(1)), vec![Action::reply("up")]),
            ],
            ..Script::default()
        };
        let mut s = ScriptState::new(script);
        let t0 = s.started;
        assert_eq!(text(s.next_action(t0)), "reset");
        assert_eq!(text(s.next_action(t0 + Duration::from_millis(99))), "reset");
        assert_eq!(text(s.next_action(t0 + Duration::from_millis(100))), "hang");
        assert_eq!(text(s.next_action(t0 + Duration::from_millis(250))), "up");
        assert_eq!(text(s.next_action(t0 + Duration::from_secs(999))), "up");
    }

    #[test]
    fn empty_script_is_default() {
        let mut s = ScriptState::new(Script::default().with_key("k"));
        assert_eq!(text(s.next_action(Instant::now())), "default");
    }

    #[test]
    fn chunking_respects_char_boundaries() {
        let r = Reply::new("héllo wörld").chunk_chars(3);
        assert_eq!(r.chunks(), ["hél", "lo ", "wör", "ld"]);
        assert_eq!(Reply::new("Hello from m.").chunks(), ["Hello fr", "om m."]);
        assert!(Reply::new("").chunks().is_empty());
    }

    #[test]
    fn serde_shape() {
        let s: Script = serde_json::from_str(
            r#"{"phases":[{"duration_ms":500,"actions":[{"type":"error","kind":"overloaded","retry_after":"2"}]},
                {"actions":[{"type":"reply","text":"hi","fault":{"type":"cut_after","chunks":1,"clean_eof":true}},{"type":"reset"},{"type":"hang"}]}],
                "require_key":"k"}"#,
        )
        .expect("valid script json");
        assert_eq!(s.require_key.as_deref(), Some("k"));
        assert!(!s.sequence);
        match &s.phases[1].actions[0] {
            Action::Reply(r) => {
                assert_eq!(r.text, "hi");
                assert!(matches!(
                    r.fault,
                    Some(StreamFault::CutAfter {
                        chunks: 1,
                        clean_eof: true
                    })
                ));
            }
            other => panic!("unexpected {other:?}"),
        }
        let round = serde_json::to_value(&s).expect("serializes");
        assert_eq!(round["phases"][0]["actions"][0]["type"], "error");
        assert_eq!(round["phases"][0]["actions"][0]["kind"], "overloaded");
    }
}
