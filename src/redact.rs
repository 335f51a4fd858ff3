//! Secret redaction: one [`Redactor`] built from every secret value aiw knows (each configured
//! provider key, and the values of secret-looking environment variables such as
//! `GITHUB_TOKEN` or `AWS_SECRET_ACCESS_KEY`) that replaces them with [`REDACTED`] wherever
//! text leaves aiw: request bodies and review prompts, findings and every CI output, log
//! lines, terminal output. [`StreamRedactor`] does the same for text that arrives in pieces.
//!
//! The process-wide redactor is installed once the settings are loaded ([`install`]); until
//! then [`global`] redacts nothing. Values shorter than [`MIN_SECRET_LEN`] are ignored: they
//! would match ordinary words (`true`, `1`), and are not keys.

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::config::Settings;

/// What a secret is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Shorter values are not treated as secrets.
pub const MIN_SECRET_LEN: usize = 8;

/// Words that make an environment variable's value a secret when its name contains one.
const SECRET_NAME_PARTS: &[&str] = &[
    "KEY",
    "TOKEN",
    "SECRET",
    "PASSWORD",
    "PASSWD",
    "CREDENTIAL",
    "JWT",
    "PRIVATE",
];

/// Secret variables whose names contain none of [`SECRET_NAME_PARTS`].
const KNOWN_SECRET_VARS: &[&str] = &["DOCKER_AUTH_CONFIG", "NETRC", "CI_REGISTRY_PASSWORD"];

/// Whether an environment variable with this name holds a secret.
pub fn is_secret_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_NAME_PARTS.iter().any(|p| upper.contains(p)) || KNOWN_SECRET_VARS.contains(&&*upper)
}

/// Replaces known secret values in text. Cheap to share; build it once per process.
#[derive(Clone, Default)]
pub struct Redactor {
    /// The values searched for (each secret, and its JSON-escaped form when that differs).
    needles: Vec<String>,
    /// What each needle is replaced with (keeps line breaks, so line numbers stay valid).
    replacements: Vec<String>,
    matcher: Option<AhoCorasick>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} patterns)", self.needles.len())
    }
}

impl Redactor {
    /// A redactor for these secret values (short and empty ones are skipped).
    pub fn new<I, S>(secrets: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut needles: Vec<String> = Vec::new();
        for s in secrets {
            let s = s.as_ref().trim();
            if s.chars().count() < MIN_SECRET_LEN {
                continue;
            }
            let escaped = serde_json::to_string(s).unwrap_or_default();
            let escaped = escaped
                .strip_prefix('"')
                .and_then(|e| e.strip_suffix('"'))
                .unwrap_or(s);
            for n in [s, escaped] {
                if !needles.iter().any(|x| x == n) {
                    needles.push(n.to_string());
                }
            }
        }
        // Longest first, so a key that contains another key is replaced whole.
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        let replacements = needles
            .iter()
            .map(|n| {
                let mut r = REDACTED.to_string();
                r.extend(std::iter::repeat_n('\n', n.matches('\n').count()));
                r
            })
            .collect();
        let matcher = if needles.is_empty() {
            None
        } else {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&needles)
                .ok()
        };
        Self {
            needles,
            replacements,
            matcher,
        }
    }

    /// The redactor for a run of aiw: every configured provider key plus the values of the
    /// secret-looking variables of `env` (see [`is_secret_var`]).
    pub fn for_settings(
        settings: &Settings,
        env: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Self {
        let mut values: Vec<String> = settings
            .secrets()
            .iter()
            .map(|s| s.expose().to_string())
            .collect();
        for (name, value) in env {
            let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else {
                continue;
            };
            if is_secret_var(name) {
                values.push(value.to_string());
            }
        }
        Self::new(values)
    }

    /// Whether there is nothing to redact.
    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.matcher {
            Some(m) if m.is_match(text) => Cow::Owned(m.replace_all(text, &self.replacements)),
            _ => Cow::Borrowed(text),
        }
    }

    /// Like [`scrub`](Self::scrub), for bytes that need not be UTF-8 (a diff).
    pub fn scrub_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        match &self.matcher {
            Some(m) if m.is_match(bytes) => {
                Cow::Owned(m.replace_all_bytes(bytes, &self.replacements))
            }
            _ => Cow::Borrowed(bytes),
        }
    }

    /// How many secrets `text` contains.
    pub fn count(&self, text: &[u8]) -> usize {
        self.matcher
            .as_ref()
            .map_or(0, |m| m.find_iter(text).count())
    }

    /// Scrubs every string in a JSON value in place; returns whether anything changed.
    pub fn scrub_json(&self, value: &mut serde_json::Value) -> bool {
        use serde_json::Value;
        if self.is_empty() {
            return false;
        }
        match value {
            Value::String(s) => match self.scrub(s) {
                Cow::Owned(clean) => {
                    *s = clean;
                    true
                }
                Cow::Borrowed(_) => false,
            },
            Value::Array(items) => items
                .iter_mut()
                .fold(false, |acc, v| self.scrub_json(v) | acc),
            Value::Object(map) => map
                .values_mut()
                .fold(false, |acc, v| self.scrub_json(v) | acc),
            _ => false,
        }
    }

    /// The length of the longest tail of `text` that could be the start of a secret: text that
    /// must be held back until the next piece shows whether the secret follows.
    fn open_tail(&self, text: &str) -> usize {
        let bytes = text.as_bytes();
        let mut best = 0;
        for n in &self.needles {
            let n = n.as_bytes();
            let longest = (n.len() - 1).min(bytes.len());
            for k in (best + 1..=longest).rev() {
                if bytes[bytes.len() - k..] == n[..k] {
                    best = k;
                    break;
                }
            }
        }
        best
    }
}

/// Redacts text that arrives in pieces (a streamed answer): a secret split across two pieces
/// is still caught, at the price of holding back a tail that could be the start of one.
#[derive(Debug)]
pub struct StreamRedactor<'r> {
    redactor: &'r Redactor,
    pending: String,
}

impl<'r> StreamRedactor<'r> {
    /// A stream redactor over `redactor`.
    pub fn new(redactor: &'r Redactor) -> Self {
        Self {
            redactor,
            pending: String::new(),
        }
    }

    /// Takes the next piece; returns the text that is safe to show now.
    pub fn push(&mut self, piece: &str) -> String {
        if self.redactor.is_empty() {
            return piece.to_string();
        }
        self.pending.push_str(piece);
        let clean = self.redactor.scrub(&self.pending).into_owned();
        // A needle starts with a whole UTF-8 character, so the tail starts on a boundary.
        let cut = clean.len() - self.redactor.open_tail(&clean);
        self.pending = clean[cut..].to_string();
        let mut shown = clean;
        shown.truncate(cut);
        shown
    }

    /// The end of the stream: whatever was held back.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
    }
}

static GLOBAL: OnceLock<Redactor> = OnceLock::new();
static EMPTY: OnceLock<Redactor> = OnceLock::new();

/// Installs the process-wide redactor (the first call wins; later ones are ignored).
pub fn install(redactor: Redactor) {
    let _ = GLOBAL.set(redactor);
}

/// The process-wide redactor; redacts nothing before [`install`].
pub fn global() -> &'static Redactor {
    GLOBAL
        .get()
        .unwrap_or_else(|| EMPTY.get_or_init(Redactor::default))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &str = "sk-ant-canary-0123456789";

    #[test]
    fn secrets_are_replaced_and_short_values_ignored() {
        let r = Redactor::new([KEY, "short", "", "ghp_abcdefghijklmnop"]);
        assert_eq!(
            r.scrub(&format!(
                "key={KEY}; token ghp_abcdefghijklmnop; short stays"
            )),
            "key=[REDACTED]; token [REDACTED]; short stays"
        );
        assert!(matches!(r.scrub("nothing here"), Cow::Borrowed(_)));
        assert_eq!(r.count(format!("{KEY} {KEY}").as_bytes()), 2);
        assert!(Redactor::new(["tiny"]).is_empty());
    }

    #[test]
    fn a_longer_secret_containing_a_shorter_one_goes_whole() {
        let r = Redactor::new(["abcdefgh", "abcdefgh-and-more"]);
        assert_eq!(r.scrub("x abcdefgh-and-more y"), "x [REDACTED] y");
    }

    #[test]
    fn bytes_json_and_escaped_forms() {
        let r = Redactor::new([KEY, "pass\"word\\123"]);
        let bytes = [b"\xff\xfe ".as_slice(), KEY.as_bytes(), b" \x00"].concat();
        assert_eq!(&*r.scrub_bytes(&bytes), b"\xff\xfe [REDACTED] \x00");
        let mut v = serde_json::json!({"a": [format!("x{KEY}"), 1, {"b": "pass\"word\\123"}]});
        assert!(r.scrub_json(&mut v));
        assert_eq!(
            v,
            serde_json::json!({"a": ["x[REDACTED]", 1, {"b": "[REDACTED]"}]})
        );
        // The JSON text of a body (as a debug log shows it) is caught too.
        let text = serde_json::json!({"p": "pass\"word\\123"}).to_string();
        assert!(!r.scrub(&text).contains("word"), "{}", r.scrub(&text));
    }

    #[test]
    fn multi_line_secrets_keep_the_line_count() {
        let pem = "-----BEGIN KEY-----\nabc\ndef\n-----END KEY-----";
        let r = Redactor::new([pem]);
        let text = format!("line1\n{pem}\nline5");
        let clean = r.scrub(&text);
        assert_eq!(clean.lines().count(), text.lines().count());
        assert!(!clean.contains("abc"));
    }

    #[test]
    fn secret_looking_variables() {
        for n in [
            "GITHUB_TOKEN",
            "CI_JOB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "MY_API_KEY",
            "db_password",
            "CI_JOB_JWT",
            "DOCKER_AUTH_CONFIG",
        ] {
            assert!(is_secret_var(n), "{n}");
        }
        for n in ["PATH", "HOME", "GIT_AUTHOR_NAME", "CI", "RUST_LOG"] {
            assert!(!is_secret_var(n), "{n}");
        }
    }

    #[test]
    fn stream_redactor_catches_a_secret_split_across_pieces() {
        let r = Redactor::new([KEY]);
        let text = format!("before {KEY} after, and sk- that is not a key");
        for cut in 1..text.len() {
            if !text.is_char_boundary(cut) {
                continue;
            }
            let mut s = StreamRedactor::new(&r);
            let mut out = s.push(&text[..cut]);
            out.push_str(&s.push(&text[cut..]));
            out.push_str(&s.finish());
            assert_eq!(out, "before [REDACTED] after, and sk- that is not a key");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]
        #[test]
        fn stream_pieces_never_show_a_secret(
            pieces in proptest::collection::vec("[a-z0-9 -]{0,12}", 0..12),
            at in any::<prop::sample::Index>(),
        ) {
            let r = Redactor::new([KEY]);
            let mut all: Vec<String> = pieces;
            let i = at.index(all.len() + 1);
            // Plant the key split over two pieces.
            all.insert(i, KEY[..7].to_string());
            all.insert(i + 1, KEY[7..].to_string());
            let mut s = StreamRedactor::new(&r);
            let mut out = String::new();
            for p in &all {
                out.push_str(&s.push(p));
            }
            out.push_str(&s.finish());
            prop_assert!(!out.contains(KEY));
            prop_assert!(out.contains(REDACTED));
        }
    }
}
