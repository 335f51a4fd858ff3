//! Amazon Bedrock Runtime as the emulator speaks it: the `InvokeModelWithResponseStream`
//! and `InvokeModel` routes, SigV4 verification of every request against the test keys
//! below (so a signing bug in a client fails its test), the Anthropic body checks Bedrock
//! makes, the event-stream framing of the answer (each Anthropic event as a `chunk` frame
//! `{"bytes": base64}`), exception frames for mid-stream errors, a frame with a bad CRC for
//! the malformed fault, and Bedrock's error responses (`x-amzn-ErrorType`, `{"message"}`).
//!
//! This file has its own SigV4 and event-stream code on purpose: it must not share a bug
//! with the client it tests.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::{digest, hmac};
use serde_json::Value;

use super::{Ctx, Event, HttpError, q};
use crate::http::Request;
use crate::script::ErrorKind;

/// Access key id of the emulator's long-term test key.
pub const ACCESS_KEY_ID: &str = "AKIDEMULATOREXAMPLE1";
/// Secret access key of [`ACCESS_KEY_ID`].
pub const SECRET_ACCESS_KEY: &str = "emulatorSecretKey/K7MDENG+bPxRfiCYEXAMPLE";
/// Access key id of the emulator's temporary test key (needs [`SESSION_TOKEN`]).
pub const TEMP_ACCESS_KEY_ID: &str = "ASIAEMULATOREXAMPLE2";
/// Secret access key of [`TEMP_ACCESS_KEY_ID`].
pub const TEMP_SECRET_ACCESS_KEY: &str = "emulatorTempSecret/bPxRfiCYEXAMPLEKEY";
/// Session token of [`TEMP_ACCESS_KEY_ID`], sent as `x-amz-security-token`.
pub const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEMULATOR//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==";

/// How far `x-amz-date` may be from the emulator's clock (AWS allows 5 minutes; the emulator
/// is lenient with loaded test machines but still rejects a stale or fabricated time).
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);

/// `/model/{id}/invoke-with-response-stream` → `(id, true)`, `/model/{id}/invoke` →
/// `(id, false)`; the id percent-decoded.
pub(crate) fn call(path: &str) -> Option<(String, bool)> {
    let rest = path.strip_prefix("/model/")?;
    let (id, method) = rest.rsplit_once('/')?;
    let stream = match method {
        "invoke-with-response-stream" => true,
        "invoke" => false,
        _ => return None,
    };
    let id = crate::http::percent_decode(id);
    (!id.is_empty()).then_some((id, stream))
}

/// A Bedrock error answer: status, `x-amzn-ErrorType`, `{"message": …}`.
pub(crate) fn error_body(status: u16, kind: &str, message: &str, ctx: &Ctx) -> HttpError {
    let mut e = HttpError::json(status, format!("{{\"message\":{}}}", q(message)));
    e.headers.push((
        "x-amzn-ErrorType".into(),
        format!("{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
    ));
    e.headers
        .push(("x-amzn-RequestId".into(), ctx.request_id.clone()));
    e
}

/// Status, error type, message of `kind` as Bedrock answers it.
fn kind_parts(kind: ErrorKind) -> (u16, &'static str, &'static str) {
    match kind {
        ErrorKind::Overloaded | ErrorKind::Unavailable => (
            503,
            "ServiceUnavailableException",
            "Bedrock is unable to process your request.",
        ),
        ErrorKind::RateLimited => (
            429,
            "ThrottlingException",
            "Too many requests, please wait before trying again.",
        ),
        ErrorKind::QuotaExhausted => (
            400,
            "ServiceQuotaExceededException",
            "Your request exceeds the service quota for your account. You can view your quotas at https://docs.aws.amazon.com/servicequotas/latest/userguide/gs-request-quota.html.",
        ),
        ErrorKind::Server | ErrorKind::CloudflareHtml => (
            500,
            "InternalServerException",
            "The server encountered an internal error while processing the request.",
        ),
        ErrorKind::GatewayTimeout => (
            408,
            "ModelTimeoutException",
            "Model has timed out in processing the request. Try your request again.",
        ),
        ErrorKind::Auth => (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        ErrorKind::Permission => (
            403,
            "AccessDeniedException",
            "You don't have access to the model with the specified model ID.",
        ),
        ErrorKind::NotFound => (
            404,
            "ResourceNotFoundException",
            "Could not resolve the foundation model from the provided model identifier.",
        ),
        ErrorKind::BadRequest => (
            400,
            "ValidationException",
            "Malformed input request, please reformat your input and try again.",
        ),
        ErrorKind::ContextTooLong => (
            400,
            "ValidationException",
            "Input is too long for requested model.",
        ),
    }
}

pub(crate) fn error(kind: ErrorKind, ctx: &Ctx) -> HttpError {
    let (status, t, m) = kind_parts(kind);
    error_body(status, t, m, ctx)
}

/// A 400 `ValidationException`.
pub(crate) fn validation(message: &str, ctx: &Ctx) -> HttpError {
    error_body(400, "ValidationException", message, ctx)
}

/// Bedrock's wrapping of an Anthropic 400 (a tool-history error): a `ValidationException`
/// with the model's message.
pub(crate) fn wrap_anthropic(e: &HttpError, ctx: &Ctx) -> HttpError {
    let message = serde_json::from_slice::<Value>(&e.body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "Malformed input request".to_owned());
    validation(&message, ctx)
}

/// The body checks Bedrock makes on an Anthropic request.
pub(crate) fn check_body(json: &Value, ctx: &Ctx) -> Option<HttpError> {
    for key in ["model", "stream"] {
        if json.get(key).is_some() {
            return Some(validation(
                &format!(
                    "Malformed input request: #: extraneous key [{key}] is not permitted, please reformat your input and try again."
                ),
                ctx,
            ));
        }
    }
    match json.get("anthropic_version").and_then(Value::as_str) {
        Some("bedrock-2023-05-31") => None,
        Some(v) => Some(validation(
            &format!(
                "Malformed input request: #/anthropic_version: {v} is not a valid enum value, please reformat your input and try again."
            ),
            ctx,
        )),
        None => Some(validation(
            "Malformed input request: #: required key [anthropic_version] not found, please reformat your input and try again.",
            ctx,
        )),
    }
}

// ---------------------------------------------------------------------- SigV4

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn sha256_hex(data: &[u8]) -> String {
    hex(digest::digest(&digest::SHA256, data).as_ref())
}

fn encode(s: &str, keep_slash: bool) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || (keep_slash && b == b'/') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                encode(&crate::http::percent_decode(k), false),
                encode(&crate::http::percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    let joined: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    joined.join("&")
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization {
    access_key: String,
    date: String,
    region: String,
    service: String,
    signed_headers: Vec<String>,
    signature: String,
}

fn parse_authorization(v: &str) -> Option<Authorization> {
    let rest = v.strip_prefix("AWS4-HMAC-SHA256 ")?;
    let mut credential = None;
    let mut signed = None;
    let mut signature = None;
    for part in rest.split(',') {
        let (k, val) = part.trim().split_once('=')?;
        match k {
            "Credential" => credential = Some(val),
            "SignedHeaders" => signed = Some(val),
            "Signature" => signature = Some(val),
            _ => return None,
        }
    }
    let scope: Vec<&str> = credential?.split('/').collect();
    let [access_key, date, region, service, "aws4_request"] = scope[..] else {
        return None;
    };
    Some(Authorization {
        access_key: access_key.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers: signed?.split(';').map(str::to_owned).collect(),
        signature: signature?.to_owned(),
    })
}

/// `20150830T123600Z` as a time.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    if s.len() != 16 || s.as_bytes()[8] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (year, month, day) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hour, minute, second) = (n(9..11)?, n(11..13)?, n(13..15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let yoe = year - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second;
    Some(UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// The signature the request should carry with `secret` (the canonical request rebuilt
/// from what arrived: the path as received, the signed headers' values, the body).
fn expected_signature(req: &Request, a: &Authorization, amz_date: &str, secret: &str) -> String {
    // AWS canonicalises the signed-header list itself (lowercase, sorted): a client that
    // signs them in another order computes another signature.
    let mut names: Vec<String> = a
        .signed_headers
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    names.sort();
    names.dedup();
    let mut headers = String::new();
    for name in &names {
        let values: Vec<String> = req
            .headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        let _ = writeln!(headers, "{name}:{}", values.join(","));
    }
    let path = if req.path.is_empty() { "/" } else { &req.path };
    let canonical = format!(
        "{}\n{}\n{}\n{headers}\n{}\n{}",
        req.method,
        encode(path, true),
        canonical_query(&req.query),
        names.join(";"),
        sha256_hex(&req.body)
    );
    let scope = format!("{}/{}/{}/aws4_request", a.date, a.region, a.service);
    let sts = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical.as_bytes())
    );
    let mut key = format!("AWS4{secret}").into_bytes();
    for part in [
        a.date.as_str(),
        a.region.as_str(),
        a.service.as_str(),
        "aws4_request",
    ] {
        key = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), part.as_bytes())
            .as_ref()
            .to_vec();
    }
    hex(hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &key), sts.as_bytes()).as_ref())
}

/// Checks the request's SigV4 signature against the emulator's test keys the way AWS does;
/// `Err` is the answer AWS would give.
pub(crate) fn verify(req: &Request, ctx: &Ctx) -> Result<(), HttpError> {
    let forbidden = |kind: &str, message: &str| error_body(403, kind, message, ctx);
    let Some(auth) = req.header("authorization") else {
        return Err(forbidden(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    let Some(a) = parse_authorization(auth) else {
        return Err(error_body(
            400,
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters.",
            ctx,
        ));
    };
    let token = req.header("x-amz-security-token");
    let secret = match a.access_key.as_str() {
        ACCESS_KEY_ID if token.is_none() => SECRET_ACCESS_KEY,
        TEMP_ACCESS_KEY_ID if token == Some(SESSION_TOKEN) => TEMP_SECRET_ACCESS_KEY,
        _ => {
            return Err(forbidden(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        }
    };
    let must_sign: &[&str] = if token.is_some() {
        &["host", "x-amz-date", "x-amz-security-token"]
    } else {
        &["host", "x-amz-date"]
    };
    if let Some(missing) = must_sign
        .iter()
        .find(|h| !a.signed_headers.iter().any(|s| s == *h))
    {
        return Err(forbidden(
            "InvalidSignatureException",
            &format!("'{missing}' must be a 'SignedHeader' in the AWS Authorization."),
        ));
    }
    let amz_date = req.header("x-amz-date").unwrap_or_default();
    let Some(at) = parse_amz_date(amz_date) else {
        return Err(forbidden(
            "IncompleteSignatureException",
            "Date must be in ISO-8601 'basic format'.",
        ));
    };
    let now = SystemTime::now();
    let skew = now
        .duration_since(at)
        .or_else(|_| at.duration_since(now))
        .unwrap_or_default();
    if skew > MAX_SKEW {
        return Err(forbidden(
            "InvalidSignatureException",
            &format!(
                "Signature expired: {amz_date} is now earlier or later than the allowed window."
            ),
        ));
    }
    if a.service != "bedrock" || !amz_date.starts_with(&a.date) {
        return Err(forbidden(
            "InvalidSignatureException",
            "Credential should be scoped to a valid region and to the correct service ('bedrock') and date.",
        ));
    }
    if expected_signature(req, &a, amz_date, secret) != a.signature {
        return Err(forbidden(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------- event stream

/// One event-stream frame with string headers.
pub(crate) fn frame(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let total = (12 + h.len() + payload.len() + 4) as u32;
    let mut out = Vec::with_capacity(total as usize);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

/// A `chunk` event carrying one Anthropic event, padded the way Bedrock pads them.
pub(crate) fn chunk(event_json: &str) -> Vec<u8> {
    let pad = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";
    let payload = format!(
        "{{\"bytes\":{},\"p\":{}}}",
        q(&STANDARD.encode(event_json)),
        q(&pad[..event_json.len() % pad.len()])
    );
    frame(
        &[
            (":event-type", "chunk"),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        payload.as_bytes(),
    )
}

/// The data of one Anthropic SSE event (`event: NAME\ndata: DATA\n\n`) and its name.
fn sse_parts(bytes: &[u8]) -> Option<(String, String)> {
    let s = std::str::from_utf8(bytes).ok()?;
    let rest = s.strip_prefix("event: ")?;
    let (name, data) = rest.split_once("\ndata: ")?;
    Some((name.to_owned(), data.trim_end_matches('\n').to_owned()))
}

/// The Anthropic events as Bedrock streams them: each in a `chunk` frame, without `ping`s,
/// and `message_stop` with Bedrock's invocation metrics.
pub(crate) fn frames(events: Vec<Event>, input_tokens: u64, output_tokens: u64) -> Vec<Event> {
    events
        .into_iter()
        .filter_map(|ev| {
            let (name, data) = sse_parts(&ev.bytes)?;
            if name == "ping" {
                return None;
            }
            let data = if name == "message_stop" {
                format!(
                    "{{\"type\":\"message_stop\",\"amazon-bedrock-invocationMetrics\":{{\"inputTokenCount\":{input_tokens},\"outputTokenCount\":{output_tokens},\"invocationLatency\":412,\"firstByteLatency\":187}}}}"
                )
            } else {
                data
            };
            Some(Event {
                kind: ev.kind,
                bytes: chunk(&data),
                arg_offsets: Vec::new(),
            })
        })
        .collect()
}

/// The exception frame Bedrock sends when `kind` happens mid-stream: the error type in
/// lowerCamelCase (`throttlingException`); an overloaded model is a
/// `modelStreamErrorException` carrying the model's own status and error.
pub(crate) fn exception(kind: ErrorKind) -> Vec<u8> {
    let (name, payload) = if kind == ErrorKind::Overloaded {
        (
            "modelStreamErrorException".to_owned(),
            format!(
                "{{\"message\":\"The model returned an error while streaming.\",\"originalStatusCode\":529,\"originalMessage\":{}}}",
                q(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
            ),
        )
    } else {
        let (_, t, m) = kind_parts(kind);
        let mut name = t.to_owned();
        if let Some(first) = name.get_mut(..1) {
            first.make_ascii_lowercase();
        }
        (name, format!("{{\"message\":{}}}", q(m)))
    };
    frame(
        &[
            (":exception-type", &name),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        payload.as_bytes(),
    )
}

/// A `chunk` frame whose message CRC is wrong (the bytes of a text delta, one bit flipped in
/// the checksum).
pub(crate) fn corrupt_chunk() -> Vec<u8> {
    let mut f = chunk(
        r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"corrupt"}}"#,
    );
    if let Some(last) = f.last_mut() {
        *last ^= 0x01;
    }
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(
        method: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Request {
        Request {
            method: method.into(),
            path: path.into(),
            query: query.into(),
            http10: false,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.to_vec(),
        }
    }

    /// AWS's SigV4 suite, `get-vanilla`, checked with the suite's key.
    #[test]
    fn recomputes_the_suites_get_vanilla_signature() {
        let r = req(
            "GET",
            "/",
            "",
            &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            b"",
        );
        let a = parse_authorization("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31").unwrap();
        assert_eq!(
            expected_signature(
                &r,
                &a,
                "20150830T123600Z",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
            ),
            a.signature
        );
        let r = req(
            "GET",
            "/",
            "Param2=value2&Param1=value1",
            &[
                ("host", "example.amazonaws.com"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            b"",
        );
        assert_eq!(
            expected_signature(
                &r,
                &a,
                "20150830T123600Z",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
            ),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn amz_dates_parse() {
        assert_eq!(
            parse_amz_date("20150830T123600Z"),
            Some(UNIX_EPOCH + Duration::from_secs(1_440_938_160))
        );
        assert_eq!(parse_amz_date("19700101T000000Z"), Some(UNIX_EPOCH));
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
    }

    #[test]
    fn routes_and_frames() {
        assert_eq!(
            call("/model/anthropic.claude-x-v1%3A0/invoke-with-response-stream"),
            Some(("anthropic.claude-x-v1:0".to_owned(), true))
        );
        assert_eq!(call("/model/m/invoke"), Some(("m".to_owned(), false)));
        assert_eq!(call("/model/m/converse"), None);
        let f = chunk("{}");
        let total = u32::from_be_bytes([f[0], f[1], f[2], f[3]]) as usize;
        assert_eq!(total, f.len());
        assert_eq!(
            u32::from_be_bytes([f[8], f[9], f[10], f[11]]),
            crc32fast::hash(&f[..8])
        );
        let c = corrupt_chunk();
        let n = c.len();
        assert_ne!(
            u32::from_be_bytes([c[n - 4], c[n - 3], c[n - 2], c[n - 1]]),
            crc32fast::hash(&c[..n - 4])
        );
    }
}
