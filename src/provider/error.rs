//! The provider error taxonomy: every way a call to one model can fail, classified so the
//! router can act on it (fail over, retry, wait, mark the model down or not).
//!
//! Classification happens in each provider file from status, error body and headers; this file
//! holds the types, the policy questions asked of them (`marks_unhealthy`, `retry_may_help`),
//! and the parsers of what providers say about when to try again (`retry-after`, rate-limit
//! reset headers, protobuf durations).

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What kind of failure happened. Serialized in snake_case in `--json` output, the journal and
/// the health state file, so names are part of aiw's public interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Bad or missing API key (Anthropic/OpenAI 401, Gemini 400 `API_KEY_INVALID`).
    Auth,
    /// The key may not use this model or resource (403), including billing problems (402).
    Permission,
    /// Unknown model or path (404).
    NotFound,
    /// The request itself was rejected (400, 413, 422).
    InvalidRequest,
    /// The prompt does not fit the model's context window.
    ContextTooLong,
    /// A transient rate limit (429 with a retry hint or a rate-limit code).
    RateLimited,
    /// A permanent 429: spend cap, no credit, quota exhausted. Retrying never helps.
    QuotaExhausted,
    /// The provider is overloaded (Anthropic 529, OpenAI/Gemini 503 overloaded).
    Overloaded,
    /// A 5xx server error, or an HTML error page from a proxy in front of the API.
    ServerError,
    /// No TCP/TLS connection within the connect timeout.
    ConnectTimeout,
    /// Connected, but no first token within the first-token timeout.
    FirstTokenTimeout,
    /// The stream went silent between chunks for longer than the stall timeout.
    StallTimeout,
    /// The whole request exceeded the total timeout.
    TotalTimeout,
    /// Connection refused, reset, DNS failure or other transport error.
    Connection,
    /// The stream ended without the provider's terminal event.
    Truncated,
    /// The stream carried something that is not the provider's protocol.
    MalformedStream,
    /// The model cannot be used here at all (local model missing, feature not built, no key).
    Unavailable,
    /// The caller cancelled the request.
    Cancelled,
    /// The user skipped the model while it waited for its first token (the chat's skip
    /// key): the request moved on; says nothing about the model's health.
    Skipped,
}

impl ErrorClass {
    /// The snake_case name used in JSON and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Permission => "permission",
            Self::NotFound => "not_found",
            Self::InvalidRequest => "invalid_request",
            Self::ContextTooLong => "context_too_long",
            Self::RateLimited => "rate_limited",
            Self::QuotaExhausted => "quota_exhausted",
            Self::Overloaded => "overloaded",
            Self::ServerError => "server_error",
            Self::ConnectTimeout => "connect_timeout",
            Self::FirstTokenTimeout => "first_token_timeout",
            Self::StallTimeout => "stall_timeout",
            Self::TotalTimeout => "total_timeout",
            Self::Connection => "connection",
            Self::Truncated => "truncated",
            Self::MalformedStream => "malformed_stream",
            Self::Unavailable => "unavailable",
            Self::Cancelled => "cancelled",
            Self::Skipped => "skipped",
        }
    }

    /// Whether this failure says something about the model's health (and so counts towards
    /// opening its circuit breaker). Configuration problems (auth, permission, bad request,
    /// unknown model) and context overflows do not: the model is fine, the call was wrong.
    pub fn marks_unhealthy(self) -> bool {
        matches!(
            self,
            Self::Overloaded
                | Self::ServerError
                | Self::ConnectTimeout
                | Self::FirstTokenTimeout
                | Self::StallTimeout
                | Self::TotalTimeout
                | Self::Connection
                | Self::Truncated
                | Self::MalformedStream
        )
    }

    /// A problem the user has to fix in their configuration; surfaced loudly, never hidden by
    /// a successful fallback.
    pub fn is_config_problem(self) -> bool {
        matches!(
            self,
            Self::Auth
                | Self::Permission
                | Self::NotFound
                | Self::InvalidRequest
                | Self::QuotaExhausted
        )
    }

    /// Whether an immediate second try on the same model has a real chance of succeeding.
    /// Silent models (timeouts) are never retried within a request.
    pub fn retry_may_help(self) -> bool {
        matches!(
            self,
            Self::Overloaded | Self::ServerError | Self::Connection | Self::RateLimited
        )
    }

    /// Failures of the network path rather than of the model: when every remote provider
    /// fails this way at once, the machine is probably offline.
    pub fn is_network(self) -> bool {
        matches!(self, Self::Connection | Self::ConnectTimeout)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One failed call to one model. The message is the provider's own words (never containing
/// the API key: clients must not echo request headers into it).
#[derive(Clone, Debug, thiserror::Error)]
pub struct ProviderError {
    /// What kind of failure this is; the router acts on it.
    pub class: ErrorClass,
    /// Human-readable detail: the provider's error message or what the client saw.
    pub message: String,
    /// HTTP status, when the failure came with one.
    pub status: Option<u16>,
    /// Server hint for when to try again (`retry-after-ms`, `retry-after`, Gemini `RetryInfo`,
    /// or on a 429 the rate-limit reset headers).
    pub retry_after: Option<Duration>,
    /// The `x-should-retry` header, when present: the provider's own word on retrying.
    pub should_retry: Option<bool>,
    /// Provider request id (`request-id`, `x-request-id`), for support tickets.
    pub request_id: Option<String>,
}

impl ProviderError {
    /// An error of the given class with a message and nothing else known.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self {
            class,
            message: message.into(),
            status: None,
            retry_after: None,
            should_retry: None,
            request_id: None,
        }
    }

    /// Sets the HTTP status.
    #[must_use]
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets the server's retry hint.
    #[must_use]
    pub fn with_retry_after(mut self, after: Option<Duration>) -> Self {
        self.retry_after = after;
        self
    }

    /// Whether one quick retry on the same model is worth it: the class allows it and the
    /// provider did not say `x-should-retry: false`.
    pub fn is_retryable(&self) -> bool {
        match self.should_retry {
            Some(false) => false,
            Some(true) => !matches!(
                self.class,
                ErrorClass::FirstTokenTimeout | ErrorClass::StallTimeout | ErrorClass::TotalTimeout
            ),
            None => self.class.retry_may_help(),
        }
    }
}

impl ProviderError {
    /// Why, in a few words for a status line: the HTTP status when there is one, then the
    /// class (`529 overloaded`, `connection`).
    pub fn brief(&self) -> String {
        match self.status {
            Some(s) => format!("{s} {}", self.class),
            None => self.class.to_string(),
        }
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.status {
            Some(s) => write!(f, "{} (HTTP {s}): {}", self.class, self.message)?,
            None => write!(f, "{}: {}", self.class, self.message)?,
        }
        if let Some(id) = &self.request_id {
            write!(f, " [request {id}]")?;
        }
        Ok(())
    }
}

/// Parses the retry hint headers the Stainless SDKs honour: `retry-after-ms` (float ms), then
/// `retry-after` as float seconds or an HTTP-date. Negative, zero, NaN or unparsable values
/// give `None`.
pub fn parse_retry_after(
    retry_after_ms: Option<&str>,
    retry_after: Option<&str>,
) -> Option<Duration> {
    if let Some(ms) = retry_after_ms.and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms > 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let raw = retry_after?.trim();
    if let Ok(secs) = raw.parse::<f64>() {
        return (secs.is_finite() && secs > 0.0 && secs < 1e9)
            .then(|| Duration::from_secs_f64(secs));
    }
    let when = humantime::parse_rfc3339_weak(raw)
        .ok()
        .or_else(|| httpdate_to_system_time(raw))?;
    when.duration_since(std::time::SystemTime::now())
        .ok()
        .filter(|d| !d.is_zero())
}

/// Parses an IMF-fixdate (`Fri, 29 Sep 2023 16:26:57 GMT`), the only HTTP-date form servers
/// send today.
fn httpdate_to_system_time(s: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = s.split_whitespace().collect();
    if parts.len() != 6 || parts[5] != "GMT" {
        return None;
    }
    let day: u64 = parts[1].parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| *m == parts[2])? as u64
        + 1;
    let year: u64 = parts[3].parse().ok()?;
    let hms: Vec<u64> = parts[4].split(':').filter_map(|p| p.parse().ok()).collect();
    if hms.len() != 3 {
        return None;
    }
    let rfc = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        hms[0], hms[1], hms[2]
    );
    humantime::parse_rfc3339(&rfc).ok()
}

/// The rate-limit families whose reset headers say when a 429 ends, as
/// `(reset header, remaining header)`. Anthropic sends RFC 3339 times
/// (`anthropic-ratelimit-requests-reset: 2026-06-02T14:02:10Z`); OpenAI sends Go-style
/// durations (`x-ratelimit-reset-tokens: 6m0s`, `1.5s`, `20ms`).
/// See: <https://docs.anthropic.com/en/api/rate-limits#response-headers>,
/// <https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers>
const RESET_HEADERS: [(&str, &str); 6] = [
    (
        "anthropic-ratelimit-requests-reset",
        "anthropic-ratelimit-requests-remaining",
    ),
    (
        "anthropic-ratelimit-tokens-reset",
        "anthropic-ratelimit-tokens-remaining",
    ),
    (
        "anthropic-ratelimit-input-tokens-reset",
        "anthropic-ratelimit-input-tokens-remaining",
    ),
    (
        "anthropic-ratelimit-output-tokens-reset",
        "anthropic-ratelimit-output-tokens-remaining",
    ),
    (
        "x-ratelimit-reset-requests",
        "x-ratelimit-remaining-requests",
    ),
    ("x-ratelimit-reset-tokens", "x-ratelimit-remaining-tokens"),
];

/// How long until the rate limit behind a 429 resets, from the providers' reset headers
/// (`header` looks one up by lower-case name): the latest reset among the limits whose
/// `remaining` is 0, or when no limit says it is spent, the earliest reset (nothing can change
/// before it). `None` without usable reset headers, or when every reset is already past.
pub fn parse_ratelimit_reset<'a>(
    header: impl Fn(&str) -> Option<&'a str>,
    now: std::time::SystemTime,
) -> Option<Duration> {
    let mut spent: Option<Duration> = None;
    let mut earliest: Option<Duration> = None;
    for (reset, remaining) in RESET_HEADERS {
        let Some(raw) = header(reset).map(str::trim) else {
            continue;
        };
        let wait = if reset.starts_with("anthropic-") {
            humantime::parse_rfc3339_weak(raw)
                .ok()
                .and_then(|t| t.duration_since(now).ok())
        } else {
            parse_go_duration(raw)
        };
        let Some(wait) = wait.filter(|d| !d.is_zero()) else {
            continue;
        };
        if header(remaining).map(str::trim) == Some("0") {
            spent = Some(spent.map_or(wait, |s| s.max(wait)));
        }
        earliest = Some(earliest.map_or(wait, |e| e.min(wait)));
    }
    spent.or(earliest)
}

/// Parses a Go `time.Duration` string as OpenAI writes it (`6m0s`, `1h2m3.5s`, `1.5s`,
/// `20ms`): numbers with the units `h`, `m`, `s`, `ms`, `us`/`µs`, `ns`.
pub fn parse_go_duration(s: &str) -> Option<Duration> {
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    let mut secs = 0.0f64;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let value: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        rest = &rest[unit_len..];
        secs += value * scale;
    }
    Duration::try_from_secs_f64(secs).ok()
}

/// Parses a protobuf Duration string as Gemini sends it in `RetryInfo.retryDelay` (`"30s"`,
/// `"22.23s"`).
pub fn parse_proto_duration(s: &str) -> Option<Duration> {
    let secs: f64 = s.trim().strip_suffix('s')?.parse().ok()?;
    (secs.is_finite() && secs > 0.0).then(|| Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_prefers_ms_then_seconds() {
        assert_eq!(
            parse_retry_after(Some("1500"), Some("20")),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(
            parse_retry_after(None, Some("20")),
            Some(Duration::from_secs(20))
        );
        assert_eq!(parse_retry_after(None, Some("0")), None);
        assert_eq!(parse_retry_after(None, Some("-10")), None);
        assert_eq!(parse_retry_after(None, Some("nan")), None);
        assert_eq!(parse_retry_after(None, Some("")), None);
        assert_eq!(parse_retry_after(None, Some("garbage")), None);
    }

    #[test]
    fn retry_after_http_date_in_the_past_is_none() {
        assert_eq!(
            parse_retry_after(None, Some("Fri, 29 Sep 2023 16:26:57 GMT")),
            None
        );
        let future = std::time::SystemTime::now() + Duration::from_secs(3600);
        let s = humantime::format_rfc3339_seconds(future).to_string();
        // Build the IMF-fixdate by hand from the RFC 3339 form.
        let (date, time) = s.trim_end_matches('Z').split_once('T').unwrap();
        let ymd: Vec<&str> = date.split('-').collect();
        let months = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let m = months[ymd[1].parse::<usize>().unwrap() - 1];
        let imf = format!("Mon, {} {m} {} {time} GMT", ymd[2], ymd[0]);
        let d = parse_retry_after(None, Some(&imf)).unwrap();
        assert!(
            d > Duration::from_secs(3590) && d <= Duration::from_secs(3600),
            "{d:?}"
        );
    }

    #[test]
    fn go_durations_as_openai_sends_them() {
        assert_eq!(parse_go_duration("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_go_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_go_duration("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(
            parse_go_duration("1h2m3.5s"),
            Some(Duration::from_millis(3_723_500))
        );
        assert_eq!(parse_go_duration("250us"), Some(Duration::from_micros(250)));
        for bad in ["", "5", "5x", "s", "1..2s", "-1s"] {
            assert_eq!(parse_go_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn reset_headers_give_the_wait_of_the_spent_limit() {
        let now = humantime::parse_rfc3339("2026-06-02T14:00:00Z").unwrap();
        let look = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| *v)
        };
        // Anthropic: the tokens limit is spent; the requests limit is not.
        let h = look(&[
            ("anthropic-ratelimit-requests-remaining", "12"),
            ("anthropic-ratelimit-requests-reset", "2026-06-02T14:00:01Z"),
            ("anthropic-ratelimit-tokens-remaining", "0"),
            ("anthropic-ratelimit-tokens-reset", "2026-06-02T14:02:10Z"),
        ]);
        assert_eq!(
            parse_ratelimit_reset(h, now),
            Some(Duration::from_secs(130))
        );
        // OpenAI: both spent: the later one.
        let h = look(&[
            ("x-ratelimit-remaining-requests", "0"),
            ("x-ratelimit-reset-requests", "1.5s"),
            ("x-ratelimit-remaining-tokens", "0"),
            ("x-ratelimit-reset-tokens", "6m0s"),
        ]);
        assert_eq!(
            parse_ratelimit_reset(h, now),
            Some(Duration::from_secs(360))
        );
        // Nothing says spent: the earliest reset.
        let h = look(&[
            ("x-ratelimit-reset-requests", "20ms"),
            ("x-ratelimit-reset-tokens", "2s"),
        ]);
        assert_eq!(
            parse_ratelimit_reset(h, now),
            Some(Duration::from_millis(20))
        );
        // Past or garbage resets give nothing.
        let h = look(&[
            ("anthropic-ratelimit-requests-reset", "2026-06-02T13:00:00Z"),
            ("x-ratelimit-reset-tokens", "soon"),
        ]);
        assert_eq!(parse_ratelimit_reset(h, now), None);
        assert_eq!(parse_ratelimit_reset(|_| None, now), None);
    }

    #[test]
    fn proto_duration() {
        assert_eq!(parse_proto_duration("30s"), Some(Duration::from_secs(30)));
        assert_eq!(
            parse_proto_duration("22.5s"),
            Some(Duration::from_millis(22_500))
        );
        assert_eq!(parse_proto_duration("30"), None);
    }

    #[test]
    fn should_retry_header_overrides_class() {
        let mut e = ProviderError::new(ErrorClass::ServerError, "boom");
        assert!(e.is_retryable());
        e.should_retry = Some(false);
        assert!(!e.is_retryable());
        let mut e = ProviderError::new(ErrorClass::InvalidRequest, "x");
        assert!(!e.is_retryable());
        e.should_retry = Some(true);
        assert!(e.is_retryable());
        let mut e = ProviderError::new(ErrorClass::StallTimeout, "x");
        e.should_retry = Some(true);
        assert!(!e.is_retryable(), "silent models are never retried");
    }

    #[test]
    fn config_problems_do_not_mark_health() {
        for c in [
            ErrorClass::Auth,
            ErrorClass::Permission,
            ErrorClass::NotFound,
            ErrorClass::InvalidRequest,
        ] {
            assert!(c.is_config_problem());
            assert!(!c.marks_unhealthy());
        }
        assert!(ErrorClass::Overloaded.marks_unhealthy());
        assert!(ErrorClass::Truncated.marks_unhealthy());
    }
}
