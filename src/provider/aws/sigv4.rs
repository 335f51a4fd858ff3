//! AWS Signature Version 4 (`AWS4-HMAC-SHA256`) for header-signed requests: the canonical
//! request, the string to sign, the derived signing key and the `Authorization` header, and
//! [`sign`], which adds `x-amz-date`, `x-amz-security-token` and `authorization` to a request
//! about to be sent. Pure: the time is passed in, nothing is read or logged.
//!
//! The canonical URI is the path exactly as sent, URI-encoded once more (AWS: "each path
//! segment must be URI-encoded twice", except S3, which aiw never calls): a Bedrock model id
//! `…-v1:0` goes out as `…-v1%3A0` and is signed as `…-v1%253A0`, as the AWS SDKs do.
//!
//! Checked against AWS's published SigV4 test suite in the tests below.
//! See: <https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>

use std::fmt::Write as _;
use std::time::SystemTime;

use ring::hmac;

use crate::config::trust::sha256_hex;
use crate::config::{AwsCredentials, Secret};
use crate::provider::local::catalogue::hex;

/// The algorithm name in the string to sign and the `Authorization` header.
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Where a signature is valid: region and service.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// The AWS region, e.g. `us-east-1`.
    pub region: &'a str,
    /// The signing name of the service, e.g. `bedrock`.
    pub service: &'a str,
}

/// What SigV4 covers of one request. `headers` must hold every header that is signed, `host`
/// included, with the values that will be sent.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `GET`, `POST`.
    pub method: &'a str,
    /// The path exactly as it goes on the wire (already percent-encoded where it must be).
    pub path: &'a str,
    /// The raw query string without `?` (empty when none).
    pub query: &'a str,
    /// Header names and values (names in any case).
    pub headers: &'a [(String, String)],
    /// The request body.
    pub body: &'a [u8],
}

/// `20150830T123600Z` and `20150830` for a time (UTC).
pub fn amz_date(t: SystemTime) -> (String, String) {
    // `2015-08-30T12:36:00Z` without the separators.
    let full: String = humantime::format_rfc3339_seconds(t)
        .to_string()
        .chars()
        .filter(|c| !matches!(c, '-' | ':'))
        .collect();
    let date = full.get(..8).unwrap_or_default().to_string();
    (full, date)
}

/// Percent-encodes every byte except the unreserved characters (`A-Z a-z 0-9 - . _ ~`) and,
/// when `keep_slash`, `/`: the URI encoding SigV4 prescribes (uppercase hex).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || (keep_slash && b == b'/')
        {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Decodes `%XX` sequences (invalid ones stay as they are); used to normalise a query string
/// before it is encoded the SigV4 way.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = b
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical query string: parameters URI-encoded and sorted by name, then value.
fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// A header value as SigV4 canonicalises it: trimmed, runs of spaces collapsed to one.
fn canonical_value(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The canonical request and its signed-headers list (`host;x-amz-date`).
pub fn canonical_request(req: &Request<'_>) -> (String, String) {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (name, value) in req.headers {
        let name = name.to_ascii_lowercase();
        let value = canonical_value(value);
        match headers.iter_mut().find(|(n, _)| *n == name) {
            // Repeated headers are one, their values joined with commas in the order sent.
            Some((_, v)) => {
                v.push(',');
                v.push_str(&value);
            }
            None => headers.push((name, value)),
        }
    }
    headers.sort();
    let signed = headers
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical_headers = headers.iter().fold(String::new(), |mut s, (n, v)| {
        let _ = writeln!(s, "{n}:{v}");
        s
    });
    let path = if req.path.is_empty() { "/" } else { req.path };
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed}\n{}",
        req.method,
        uri_encode(path, true),
        canonical_query(req.query),
        sha256_hex(req.body)
    );
    (canonical, signed)
}

/// `AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{sha256(canonical request)}`.
pub fn string_to_sign(amz_date: &str, credential_scope: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{credential_scope}\n{}",
        sha256_hex(canonical.as_bytes())
    )
}

/// The signing key, derived from the secret key for one day, region and service. It is as
/// sensitive as the secret key for that scope; it lives only inside [`authorization`].
fn signing_key(secret: &Secret, date: &str, scope: Scope<'_>) -> hmac::Key {
    let step = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let k_date = step(format!("AWS4{}", secret.expose()).as_bytes(), date);
    let k_region = step(k_date.as_ref(), scope.region);
    let k_service = step(k_region.as_ref(), scope.service);
    let k_signing = step(k_service.as_ref(), "aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// The `Authorization` header value for `req` signed at `amz_date` (`20150830T123600Z`).
pub fn authorization(
    req: &Request<'_>,
    creds: &AwsCredentials,
    scope: Scope<'_>,
    amz_date: &str,
) -> String {
    let date = amz_date.get(..8).unwrap_or_default();
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let (canonical, signed) = canonical_request(req);
    let sts = string_to_sign(amz_date, &credential_scope, &canonical);
    let signature = hex(hmac::sign(
        &signing_key(&creds.secret_access_key, date, scope),
        sts.as_bytes(),
    )
    .as_ref());
    format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed}, Signature={signature}",
        creds.access_key_id
    )
}

/// Signs a request about to be sent at `now`: appends `x-amz-date`, the session token (when
/// the credentials are temporary) and `authorization` to `headers`, which must already hold
/// `host` and every other header to sign.
pub fn sign(
    method: &str,
    url: &reqwest::Url,
    headers: &mut Vec<(String, String)>,
    body: &[u8],
    creds: &AwsCredentials,
    scope: Scope<'_>,
    now: SystemTime,
) {
    let (stamp, _) = amz_date(now);
    headers.push(("x-amz-date".into(), stamp.clone()));
    if let Some(token) = &creds.session_token {
        headers.push(("x-amz-security-token".into(), token.expose().to_string()));
    }
    let auth = authorization(
        &Request {
            method,
            path: url.path(),
            query: url.query().unwrap_or(""),
            headers,
            body,
        },
        creds,
        scope,
        &stamp,
    );
    headers.push(("authorization".into(), auth));
}

/// The `host` header value for a URL: host, and the port when it is not the scheme's default
/// (what the HTTP client sends, so what must be signed).
pub fn host_header(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

#[cfg(test)]
mod tests {
    //! AWS's SigV4 test suite (`aws-sig-v4-test-suite`): credentials `AKIDEXAMPLE` /
    //! `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, region `us-east-1`, service `service`,
    //! time `20150830T123600Z`, host `example.amazonaws.com`. Each case is the suite's
    //! request and the signature the suite publishes for it.
    use super::*;

    const DATE: &str = "20150830T123600Z";

    fn creds(token: Option<&str>) -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: token.map(Secret::new),
        }
    }

    const SCOPE: Scope<'static> = Scope {
        region: "us-east-1",
        service: "service",
    };

    fn suite(method: &str, path: &str, query: &str, extra: &[(&str, &str)], body: &[u8]) -> String {
        let mut headers = vec![("Host".to_string(), "example.amazonaws.com".to_string())];
        headers.extend(
            extra
                .iter()
                .map(|(n, v)| ((*n).to_string(), (*v).to_string())),
        );
        headers.push(("X-Amz-Date".into(), DATE.into()));
        let req = Request {
            method,
            path,
            query,
            headers: &headers,
            body,
        };
        authorization(&req, &creds(None), SCOPE, DATE)
    }

    fn signature(authz: &str) -> &str {
        authz.rsplit("Signature=").next().unwrap()
    }

    #[test]
    fn get_vanilla() {
        let a = suite("GET", "/", "", &[], b"");
        assert_eq!(
            a,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        // The suite's intermediate values for the same request.
        let headers = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), DATE.to_string()),
        ];
        let (creq, signed) = canonical_request(&Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        });
        assert_eq!(
            creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\
             e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(signed, "host;x-amz-date");
        assert_eq!(
            string_to_sign(DATE, "20150830/us-east-1/service/aws4_request", &creq),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }

    #[test]
    fn get_vanilla_query_order_key_case() {
        let a = suite("GET", "/", "Param2=value2&Param1=value1", &[], b"");
        assert_eq!(
            signature(&a),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn post_vanilla() {
        let a = suite("POST", "/", "", &[], b"");
        assert_eq!(
            signature(&a),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn post_x_www_form_urlencoded_signs_the_body() {
        let ct = [("Content-Type", "application/x-www-form-urlencoded")];
        let a = suite("POST", "/", "", &ct, b"Param1=value1");
        assert!(
            a.contains("SignedHeaders=content-type;host;x-amz-date,"),
            "{a}"
        );
        assert_eq!(
            signature(&a),
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"
        );
        assert_eq!(
            sha256_hex(b"Param1=value1"),
            "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
        );
        // One byte of body more and the signature is another.
        assert_ne!(
            signature(&suite("POST", "/", "", &ct, b"Param1=value2")),
            signature(&a)
        );
    }

    #[test]
    fn post_sts_header_before_signs_the_session_token() {
        const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        // Through `sign`, as Bedrock requests are signed: the token header is added and signed.
        let url = reqwest::Url::parse("https://example.amazonaws.com/").unwrap();
        let mut headers = vec![("host".to_string(), host_header(&url))];
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        sign(
            "POST",
            &url,
            &mut headers,
            b"",
            &creds(Some(TOKEN)),
            SCOPE,
            t,
        );
        let auth = &headers
            .iter()
            .find(|(n, _)| n == "authorization")
            .unwrap()
            .1;
        assert_eq!(
            auth,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date;x-amz-security-token, \
             Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead"
        );
        assert!(headers.contains(&("x-amz-date".into(), DATE.into())));
        assert!(headers.contains(&("x-amz-security-token".into(), TOKEN.into())));
    }

    #[test]
    fn get_header_value_trim() {
        let a = suite(
            "GET",
            "/",
            "",
            &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            b"",
        );
        assert!(a.contains("SignedHeaders=host;my-header1;my-header2;x-amz-date,"));
        assert_eq!(
            signature(&a),
            "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
        );
    }

    #[test]
    fn get_utf8_and_get_space_encode_the_path() {
        assert_eq!(
            signature(&suite("GET", "/ሴ", "", &[], b"")),
            "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
        );
        assert_eq!(
            signature(&suite("GET", "/example space/", "", &[], b"")),
            "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"
        );
    }

    #[test]
    fn wrong_secret_or_scope_changes_the_signature() {
        let good = suite("GET", "/", "", &[], b"");
        let headers = vec![
            ("Host".to_string(), "example.amazonaws.com".to_string()),
            ("X-Amz-Date".to_string(), DATE.to_string()),
        ];
        let req = Request {
            method: "GET",
            path: "/",
            query: "",
            headers: &headers,
            body: b"",
        };
        let mut other = creds(None);
        other.secret_access_key = Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ");
        assert_ne!(authorization(&req, &other, SCOPE, DATE), good);
        let west = Scope {
            region: "us-west-2",
            service: "service",
        };
        assert_ne!(
            signature(&authorization(&req, &creds(None), west, DATE)),
            signature(&good)
        );
    }

    #[test]
    fn bedrock_paths_are_double_encoded() {
        // The wire path of model `anthropic.claude-x-v1:0` and the canonical URI signed for it.
        let wire = format!(
            "/model/{}/invoke-with-response-stream",
            uri_encode("anthropic.claude-x-v1:0", false)
        );
        assert_eq!(
            wire,
            "/model/anthropic.claude-x-v1%3A0/invoke-with-response-stream"
        );
        let headers = vec![("host".to_string(), "h".to_string())];
        let (creq, _) = canonical_request(&Request {
            method: "POST",
            path: &wire,
            query: "",
            headers: &headers,
            body: b"",
        });
        assert!(
            creq.contains("\n/model/anthropic.claude-x-v1%253A0/invoke-with-response-stream\n"),
            "{creq}"
        );
    }

    #[test]
    fn amz_date_formats_utc() {
        let t = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_440_938_160);
        assert_eq!(amz_date(t), ("20150830T123600Z".into(), "20150830".into()));
        assert_eq!(
            amz_date(SystemTime::UNIX_EPOCH),
            ("19700101T000000Z".into(), "19700101".into())
        );
    }

    #[test]
    fn host_header_keeps_non_default_ports() {
        let u = reqwest::Url::parse("http://127.0.0.1:4321/x").unwrap();
        assert_eq!(host_header(&u), "127.0.0.1:4321");
        let u = reqwest::Url::parse("https://bedrock-runtime.us-east-1.amazonaws.com/x").unwrap();
        assert_eq!(host_header(&u), "bedrock-runtime.us-east-1.amazonaws.com");
    }
}
