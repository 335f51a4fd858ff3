//! Scripts: the serde-serializable description of what the emulator does with each
//! request for one model (reply with text, thinking and tool calls, error, reset, hang,
//! stream faults, request validation), their builders, and the per-model clock/counter
//! state that picks the action for the next request.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
    /// Applies to all phases, and to the vendors' own APIs only: Bedrock and Vertex AI
    /// requests are checked against the emulator's test credentials instead (see
    /// [`crate::aws`] and [`crate::google`]).
    #[serde(default)]
    pub require_key: Option<String>,
    /// `true`: within a phase, each request takes the next action and the last one
    /// repeats (instead of cycling). Set by [`Script::sequence`].
    #[serde(default)]
    pub sequence: bool,
    /// Whether the tool-use history of each request is checked the way the real API
    /// checks it (see [`ToolValidation`]). Default: [`ToolValidation::Provider`].
    #[serde(default)]
    pub tool_validation: ToolValidation,
    /// Answers chosen by the prompt: the first rule whose `contains` is in the text of the
    /// request's last user turn gives the action, before (and without consuming) the
    /// phases. Set by [`Script::when`]; lets concurrent requests of one model get answers
    /// crafted for each (an eval's cases, say), whatever order they arrive in.
    #[serde(default)]
    pub by_prompt: Vec<PromptRule>,
}

/// One rule of [`Script::by_prompt`].
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PromptRule {
    /// Text the last user turn must contain.
    pub contains: String,
    /// What to do then.
    pub action: Action,
}

/// Which tool-history checks a request must pass before the script is consulted. A
/// request that fails gets the provider's real 400 (recorded with `action: None`; it
/// consumes no script action). Models without a script are checked as
/// [`ToolValidation::Provider`].
///
/// The checks of [`ToolValidation::Provider`], as the real APIs make them:
/// - **Anthropic**: every `tool_use` id of an assistant turn must be answered by a
///   `tool_result` in the immediately following user turn (400 `invalid_request_error`
///   "messages.N: \`tool_use\` ids were found without \`tool_result\` blocks
///   immediately after: toolu_…. Each \`tool_use\` block must have a corresponding
///   \`tool_result\` block in the next message."; `N` = the assistant turn). An
///   assistant turn with `tool_use` at the very end of `messages` fails the same way
///   (the emulator's strict reading, so that an orphaned call left by a cut is caught).
///   Every `tool_result` must name a `tool_use` of the previous assistant turn
///   ("messages.N.content.K: unexpected \`tool_use_id\` found in \`tool_result\`
///   blocks: …"). Consecutive same-role turns are not merged for these checks.
/// - **OpenAI**: an assistant message with `tool_calls` must be followed by `tool`
///   messages for every `tool_call_id` ("An assistant message with 'tool_calls' must be
///   followed by tool messages responding to each 'tool_call_id'. The following
///   tool_call_ids did not have response messages: …", `param` `messages.[N].role`); a
///   `tool` message must follow such a message ("Invalid parameter: messages with role
///   'tool' must be a response to a preceeding message with 'tool_calls'.") and name one
///   of its ids ("Invalid parameter: 'tool_call_id' of '…' not found in 'tool_calls' of
///   previous message.").
/// - **Gemini**, only for models from Gemini 3 on (`gemini-3…`, `gemini-4…`, also with a
///   `models/` prefix; not `…-image…` models): in the current turn (the contents after
///   the last user content that holds anything besides `functionResponse` parts), the
///   first `functionCall` part of every model content must carry a `thoughtSignature`;
///   otherwise 400 `INVALID_ARGUMENT` "Function call is missing a thought_signature in
///   functionCall parts. … Additional data, function call \`default_api:NAME\` ,
///   position P. …" (`P` = 1-based index of the content). Any non-empty value passes,
///   including the documented bypass values `skip_thought_signature_validator` and
///   `context_engineering_is_the_way_to_go` for calls the model did not make.
///   See: <https://ai.google.dev/gemini-api/docs/thought-signatures>
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolValidation {
    /// Check what the real provider API checks (the default).
    #[default]
    Provider,
    /// Accept any history.
    Off,
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

/// A successful reply: in this order, an optional thinking block, an optional
/// redacted-thinking block (Anthropic only), the text, and tool calls.
///
/// # Wire output
/// - **Anthropic**: one content block per part, `index` counting from 0: `thinking`
///   (`content_block_start` with `{"type":"thinking","thinking":"","signature":""}`,
///   `thinking_delta`s, one `signature_delta`), `redacted_thinking` (start with `data`,
///   then stop), `text` (omitted when the text is empty and other blocks exist), and per
///   tool call a `tool_use` block (start with `id`, `name`, `input: {}`, an empty
///   `input_json_delta`, then `partial_json` fragments of [`Reply::arg_chunk_chars`]).
///   `stop_reason` is `tool_use` when there are tool calls, else `end_turn`. The
///   non-streaming `content` array holds the same blocks.
/// - **OpenAI**: thinking is not sent (Chat Completions has no thinking blocks). Each
///   call first appears as `delta.tool_calls[{index,id,type:"function",function:{name,
///   arguments:""}}]`, then fragments with only `index` and `function.arguments`; calls
///   follow one another, or alternate fragment by fragment with [`Reply::interleave`].
///   Without text the first chunk carries `role` and `content: null` with the first
///   call. `finish_reason` is `tool_calls`; non-streaming `message.tool_calls` (with
///   `content: null` when there is no text).
/// - **Gemini**: thinking as `{"text":…,"thought":true}` parts (one chunk each when
///   streamed), text parts, then all calls as whole `functionCall {name, args}` parts in
///   one chunk (with `id` only when [`ToolCall::id`] is set: the Gemini API does not
///   number calls). `finishReason` is `STOP` on the last chunk. A `thoughtSignature`
///   ([`Thinking::signature`], or a generated one for Gemini 3+ models) goes on the
///   first `functionCall` part, or, without calls, on the last part.
///
/// Ids that are not scripted are generated: Anthropic `toolu_01…`, OpenAI `call_…`; so
/// are Anthropic thinking signatures.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Reply {
    /// The full reply text.
    pub text: String,
    /// Characters per streamed text (and thinking) chunk; `0` means 8. Splits on char
    /// boundaries.
    pub chunk_chars: usize,
    /// Delay before the first content chunk (text, thinking or tool-argument fragment;
    /// headers and preamble events go out at once). For non-streaming replies the whole
    /// response is delayed by `first_token_delay_ms + interval_ms * (chunks - 1)`.
    pub first_token_delay_ms: u64,
    /// Delay between content chunks.
    pub interval_ms: u64,
    /// Optional fault injected into the stream.
    pub fault: Option<StreamFault>,
    /// Reported input tokens; default: whitespace-separated words in the request's
    /// system text and message contents (text, thinking, tool results, tool inputs).
    pub input_tokens: Option<u64>,
    /// Reported output tokens; default: number of content chunks (text, thinking and
    /// tool-argument fragments).
    pub output_tokens: Option<u64>,
    /// A thinking block before the text.
    pub thinking: Option<Thinking>,
    /// An Anthropic `redacted_thinking` block (its opaque `data`) after the thinking
    /// block; ignored by the other protocols.
    pub redacted_thinking: Option<String>,
    /// Tool calls after the text, in order.
    pub tool_calls: Vec<ToolCall>,
    /// Characters of the arguments JSON per streamed fragment (Anthropic
    /// `partial_json`, OpenAI `function.arguments`); `0` means 8.
    pub arg_chunk_chars: usize,
    /// OpenAI: stream several calls interleaved (start of call 0, start of call 1,
    /// fragment 1 of call 0, fragment 1 of call 1, …) instead of one after the other.
    pub interleave: bool,
    /// Build the text from the tool results in the request's last user turn (the turns
    /// after the last assistant turn): one line per result, `tool ID returned: TEXT`, or
    /// `tool ID returned (error): TEXT` for an error result (Anthropic `is_error`, a
    /// Gemini `functionResponse` whose `response` has an `error` key). `ID` is the
    /// `tool_use_id` / `tool_call_id` / `functionResponse.id`, else the function name;
    /// `TEXT` is the result's text parts joined with `\n` (Gemini: `response.result`,
    /// `.output`, `.content` or `.error` when it is a string, else the compact JSON of
    /// `response`). No results: the line `no tool results`. [`Reply::text`] follows
    /// on its own line when not empty.
    pub echo_tool_results: bool,
    /// Add the line `saw N image(s): TYPES` (media types in order, `url` or `file` when
    /// the request names none) for the images in the last user turn, tool results
    /// included. Comes after the tool-result lines.
    pub echo_images: bool,
    /// End as if cut by the output token limit: Anthropic `stop_reason: "max_tokens"`,
    /// OpenAI `finish_reason: "length"`, Gemini `finishReason: "MAX_TOKENS"`.
    pub max_tokens_stop: bool,
}

/// A thinking block of a [`Reply`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Thinking {
    /// The thinking text (streamed in [`Reply::chunk_chars`] chunks).
    pub text: String,
    /// Anthropic `signature` (generated when `None`); Gemini `thoughtSignature` (when
    /// `None`, generated for Gemini 3+ models only).
    pub signature: Option<String>,
}

/// One tool call of a [`Reply`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The call id; `None` generates one (Anthropic `toolu_01…`, OpenAI `call_…`;
    /// Gemini sends no id).
    #[serde(default)]
    pub id: Option<String>,
    /// The function name.
    pub name: String,
    /// The arguments (sent compact, as `serde_json` writes them); default `{}`.
    #[serde(default = "empty_object")]
    pub arguments: Value,
}

fn empty_object() -> Value {
    Value::Object(serde_json::Map::new())
}

/// A fault injected into a 200 reply.
///
/// The `…After` faults fire by **text chunks**: `chunks` counts text chunks already
/// sent (preamble events such as Anthropic `message_start`/`content_block_start`/`ping`
/// or the OpenAI role chunk always go out first; thinking chunks are not counted). With
/// `chunks >=` the number of text chunks the fault fires just before the closing events
/// (the last block's `content_block_stop` for Anthropic, the finish chunk for OpenAI),
/// so after any tool calls; for Gemini, whose last chunk carries `finishReason`, it then
/// fires after the whole stream.
///
/// The `…InToolArgs` faults fire inside tool call `call` (0-based; no fault when the
/// reply has no such call) once exactly `after_chars` characters of its arguments JSON
/// have been sent, clamped to one less than the JSON's length so the JSON is always
/// incomplete. Anthropic and OpenAI: the client has seen the call's start (id, name) and
/// that prefix of the arguments in fragments (the fragment there is split to end on the
/// spot); `after_chars: 0` fires right after the start. Gemini, which sends calls whole:
/// the chunk holding the calls is sent only up to that point inside `args`, so the client
/// holds an unterminated event.
///
/// For non-streaming requests: stall = headers then nothing, cut/reset = headers and
/// half the body (the `…InToolArgs` faults: the body up to the same point inside the
/// call's arguments) then close/RST, malformed = a truncated JSON body, error event = the
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
    /// After `chunks` text chunks, send the first half of the next event's bytes, then
    /// close (`clean_eof` as in [`StreamFault::CutAfter`]): the client holds a partial
    /// event. On Bedrock this cuts inside an event-stream frame. With `chunks >=` the number
    /// of text chunks it cuts inside the first closing event.
    CutInEventAfter {
        /// Text chunks sent before the cut event.
        chunks: usize,
        /// End the HTTP body properly before closing.
        clean_eof: bool,
    },
    /// Send `chunks` text chunks, then close with a TCP RST.
    ResetAfter {
        /// Text chunks sent before the reset.
        chunks: usize,
    },
    /// Inside tool call `call`, after `after_chars` characters of its arguments, close
    /// (`clean_eof` as in [`StreamFault::CutAfter`]).
    CutInToolArgs {
        /// Which tool call (0-based).
        call: usize,
        /// Characters of its arguments JSON sent before the cut.
        after_chars: usize,
        /// End the HTTP body properly before closing.
        clean_eof: bool,
    },
    /// Inside tool call `call`, after `after_chars` characters of its arguments, close
    /// with a TCP RST.
    ResetInToolArgs {
        /// Which tool call (0-based).
        call: usize,
        /// Characters of its arguments JSON sent before the reset.
        after_chars: usize,
    },
    /// Inside tool call `call`, after `after_chars` characters of its arguments, stall
    /// until the client leaves.
    StallInToolArgs {
        /// Which tool call (0-based).
        call: usize,
        /// Characters of its arguments JSON sent before the stall.
        after_chars: usize,
    },
    /// Inside tool call `call`, after `after_chars` characters of its arguments, send
    /// the provider's mid-stream error (as [`StreamFault::ErrorEventAfter`]), then end
    /// the body and close.
    ErrorInToolArgs {
        /// Which tool call (0-based).
        call: usize,
        /// Characters of its arguments JSON sent before the error.
        after_chars: usize,
        /// Which error.
        kind: ErrorKind,
    },
}

/// Where a [`StreamFault`] fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultPoint {
    /// After this many text chunks.
    AfterText(usize),
    /// Inside the event that follows this many text chunks.
    InEventAfterText(usize),
    /// Inside a tool call's arguments.
    InToolArgs { call: usize, after_chars: usize },
}

/// What a [`StreamFault`] does when it fires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultAction {
    Stall,
    Cut { clean_eof: bool },
    Malformed,
    Error(ErrorKind),
    Reset,
}

impl StreamFault {
    /// The number of text chunks sent before an `…After` fault fires; `None` for the
    /// `…InToolArgs` faults, which fire by position in a tool call.
    pub fn chunks(&self) -> Option<usize> {
        match self.point() {
            FaultPoint::AfterText(n) | FaultPoint::InEventAfterText(n) => Some(n),
            FaultPoint::InToolArgs { .. } => None,
        }
    }

    pub(crate) fn point(&self) -> FaultPoint {
        match *self {
            StreamFault::StallAfter { chunks }
            | StreamFault::CutAfter { chunks, .. }
            | StreamFault::MalformedAfter { chunks }
            | StreamFault::ErrorEventAfter { chunks, .. }
            | StreamFault::ResetAfter { chunks } => FaultPoint::AfterText(chunks),
            StreamFault::CutInEventAfter { chunks, .. } => FaultPoint::InEventAfterText(chunks),
            StreamFault::CutInToolArgs {
                call, after_chars, ..
            }
            | StreamFault::ResetInToolArgs { call, after_chars }
            | StreamFault::StallInToolArgs { call, after_chars }
            | StreamFault::ErrorInToolArgs {
                call, after_chars, ..
            } => FaultPoint::InToolArgs { call, after_chars },
        }
    }

    pub(crate) fn action(&self) -> FaultAction {
        match *self {
            StreamFault::StallAfter { .. } | StreamFault::StallInToolArgs { .. } => {
                FaultAction::Stall
            }
            StreamFault::CutAfter { clean_eof, .. }
            | StreamFault::CutInEventAfter { clean_eof, .. }
            | StreamFault::CutInToolArgs { clean_eof, .. } => FaultAction::Cut { clean_eof },
            StreamFault::MalformedAfter { .. } => FaultAction::Malformed,
            StreamFault::ErrorEventAfter { kind, .. }
            | StreamFault::ErrorInToolArgs { kind, .. } => FaultAction::Error(kind),
            StreamFault::ResetAfter { .. } | StreamFault::ResetInToolArgs { .. } => {
                FaultAction::Reset
            }
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
    /// Gemini only: a `RetryInfo.retryDelay` (`"2s"`) sent without any `retry-after`
    /// header, the way the real API says when to come back.
    #[serde(default)]
    pub retry_delay: Option<String>,
    /// Extra response headers, in order (e.g. `anthropic-ratelimit-tokens-reset`,
    /// `x-ratelimit-reset-requests`).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
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
            tool_validation: ToolValidation::Provider,
            by_prompt: Vec::new(),
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
            tool_validation: ToolValidation::Provider,
            by_prompt: Vec::new(),
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
            tool_validation: ToolValidation::Provider,
            by_prompt: Vec::new(),
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
            tool_validation: ToolValidation::Provider,
            by_prompt: Vec::new(),
        }
    }

    /// Require `key` on every request for this model.
    #[must_use]
    pub fn with_key(mut self, key: &str) -> Script {
        self.require_key = Some(key.to_owned());
        self
    }

    /// Requests whose last user turn contains `contains` take `action` (see
    /// [`Script::by_prompt`]); rules are tried in the order they were added.
    #[must_use]
    pub fn when(mut self, contains: &str, action: Action) -> Script {
        self.by_prompt.push(PromptRule {
            contains: contains.to_owned(),
            action,
        });
        self
    }

    /// Accept any tool-use history ([`ToolValidation::Off`]).
    #[must_use]
    pub fn without_tool_validation(mut self) -> Script {
        self.tool_validation = ToolValidation::Off;
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

    /// End with the protocol's "cut at the output token limit" stop reason.
    #[must_use]
    pub fn max_tokens_stop(mut self) -> Self {
        self.max_tokens_stop = true;
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

    /// A reply that is one tool call (no text), with a generated id.
    pub fn tool_call(name: &str, arguments: Value) -> Reply {
        Reply::default().with_tool_call(name, arguments)
    }

    /// A reply whose text reports the tool results of the request's last user turn (see
    /// [`Reply::echo_tool_results`]).
    pub fn echo_tool_results() -> Reply {
        Reply::default().with_echo_tool_results()
    }

    /// A reply whose text reports the images of the request's last user turn (see
    /// [`Reply::echo_images`]).
    pub fn echo_images() -> Reply {
        Reply::default().with_echo_images()
    }

    /// Append a tool call with a generated id.
    #[must_use]
    pub fn with_tool_call(self, name: &str, arguments: Value) -> Self {
        self.with_call(ToolCall::new(name, arguments))
    }

    /// Append a tool call (e.g. with a fixed id: `ToolCall::new(..).id("toolu_1")`).
    #[must_use]
    pub fn with_call(mut self, call: ToolCall) -> Self {
        self.tool_calls.push(call);
        self
    }

    /// Put a thinking block before the text; `signature: None` generates one where the
    /// protocol signs thinking (see [`Thinking::signature`]).
    #[must_use]
    pub fn with_thinking(mut self, text: &str, signature: Option<&str>) -> Self {
        self.thinking = Some(Thinking {
            text: text.to_owned(),
            signature: signature.map(str::to_owned),
        });
        self
    }

    /// Put an Anthropic `redacted_thinking` block with this `data` after the thinking.
    #[must_use]
    pub fn with_redacted_thinking(mut self, data: &str) -> Self {
        self.redacted_thinking = Some(data.to_owned());
        self
    }

    /// Characters of the arguments JSON per streamed fragment (`0` = 8).
    #[must_use]
    pub fn arg_chunk_chars(mut self, n: usize) -> Self {
        self.arg_chunk_chars = n;
        self
    }

    /// OpenAI: interleave the fragments of several calls (see [`Reply::interleave`]).
    #[must_use]
    pub fn interleave(mut self, on: bool) -> Self {
        self.interleave = on;
        self
    }

    /// Also report the request's tool results (see [`Reply::echo_tool_results`]).
    #[must_use]
    pub fn with_echo_tool_results(mut self) -> Self {
        self.echo_tool_results = true;
        self
    }

    /// Also report the request's images (see [`Reply::echo_images`]).
    #[must_use]
    pub fn with_echo_images(mut self) -> Self {
        self.echo_images = true;
        self
    }
}

/// `s` split into chunks of `n` characters (8 when 0), on char boundaries.
pub(crate) fn split_chars(s: &str, n: usize) -> Vec<String> {
    let n = if n == 0 { 8 } else { n };
    let chars: Vec<char> = s.chars().collect();
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

impl ToolCall {
    /// A call of `name` with `arguments` and a generated id.
    pub fn new(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: None,
            name: name.to_owned(),
            arguments,
        }
    }

    /// Use this id instead of a generated one.
    #[must_use]
    pub fn id(mut self, id: &str) -> ToolCall {
        self.id = Some(id.to_owned());
        self
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
            retry_delay: None,
            headers: Vec::new(),
            status_override: None,
            delay_ms: 0,
        }
    }

    /// Gemini: put `RetryInfo.retryDelay: d` (e.g. `"2s"`) in the error body, with no
    /// `retry-after` header.
    #[must_use]
    pub fn retry_delay(mut self, d: &str) -> Self {
        self.retry_delay = Some(d.to_owned());
        self
    }

    /// Send the extra header `name: value`.
    #[must_use]
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
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

    /// The action for a request whose last user turn says `prompt`: a matching
    /// [`Script::by_prompt`] rule, else [`ScriptState::next_action`].
    pub(crate) fn action_for(&mut self, now: Instant, prompt: &str) -> Option<Action> {
        if let Some(rule) = self
            .script
            .by_prompt
            .iter()
            .find(|r| prompt.contains(r.contains.as_str()))
        {
            return Some(rule.action.clone());
        }
        self.next_action(now)
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
    fn prompt_rules_come_first_and_leave_the_sequence_alone() {
        let mut s = ScriptState::new(
            Script::sequence(vec![Action::reply("a"), Action::reply("b")])
                .when("weather", Action::reply("sunny"))
                .when("wea", Action::reply("never: the first rule wins")),
        );
        let now = Instant::now();
        assert_eq!(text(s.action_for(now, "the weather?")), "sunny");
        assert_eq!(text(s.action_for(now, "hello")), "a");
        assert_eq!(text(s.action_for(now, "weather again")), "sunny");
        assert_eq!(text(s.action_for(now, "hello")), "b");
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
        assert_eq!(split_chars("héllo wörld", 3), ["hél", "lo ", "wör", "ld"]);
        assert_eq!(split_chars("Hello from m.", 0), ["Hello fr", "om m."]);
        assert!(split_chars("", 4).is_empty());
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
