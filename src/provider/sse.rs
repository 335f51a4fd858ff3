//! Server-sent events framing: a pure, incremental parser that turns arbitrary byte chunks into
//! events, correct for any chunking. No I/O and no provider knowledge live here; the clients map
//! events to [`ChatEvent`](super::ChatEvent)s.
//!
//! Rules (WHATWG `text/event-stream`, as the official Anthropic/OpenAI SDK decoders implement
//! them):
//! - lines end at LF, CRLF or a lone CR; a CR that ends one chunk and an LF that starts the next
//!   are one line break;
//! - `field: value` with one leading space stripped; fields `event`, `data` (repeated lines
//!   joined with `\n`), `id`, `retry`; unknown fields are ignored; lines starting with `:` are
//!   comments;
//! - an empty line dispatches the event if it has `data` or `event`; an event that is not
//!   terminated by an empty line before EOF is **not** dispatched;
//! - the parser works on bytes, so a UTF-8 character split across chunks is reassembled.
//!
//! Memory is bounded: the line being read, the event being assembled and a bare JSON document
//! together hold at most the parser's limit ([`MAX_EVENT_BYTES`] by default). Past it the
//! parser stops, drops the input, and [`SseParser::too_large`] says so; the caller ends the
//! stream with a clear error (a 2 GB line is no model's answer).
//!
//! [`Mode::WithBareJson`] adds Gemini's quirk: a mid-stream error arrives as a bare,
//! pretty-printed JSON object without `data:`. Lines starting with `{` are brace-balanced into
//! one document, dispatched as [`EventKind::BareJson`] (python-genai `_api_client.py` does the
//! same).

/// The default limit on one event (its current line, its `data`, or one bare JSON document):
/// 4 MiB, far above any real event (a text delta is bytes to kilobytes).
pub const MAX_EVENT_BYTES: usize = 4 * 1024 * 1024;

/// How to treat lines that are not SSE fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Plain SSE: a line without a colon is a field name with an empty value (and ignored).
    #[default]
    Standard,
    /// Plain SSE, plus bare JSON documents (Gemini's mid-stream errors).
    WithBareJson,
}

/// What kind of frame an [`SseEvent`] came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A normal SSE event terminated by an empty line.
    Sse,
    /// A bare JSON document outside SSE framing (only in [`Mode::WithBareJson`]).
    BareJson,
}

/// One dispatched event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SseEvent {
    /// Where it came from.
    pub kind: EventKind,
    /// The `event:` field, if any.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n` (or the whole bare JSON document).
    pub data: String,
    /// The `id:` field of this event, if any.
    pub id: Option<String>,
    /// The `retry:` field of this event, if any (milliseconds).
    pub retry: Option<u64>,
}

/// Brace-balancing state of a bare JSON document being collected.
#[derive(Debug, Default)]
struct BareJson {
    text: String,
    depth: i64,
    in_string: bool,
    escaped: bool,
}

impl BareJson {
    /// Adds one line; returns true when the document is complete.
    fn push_line(&mut self, line: &str) -> bool {
        for c in line.chars() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                } else if c == '\\' {
                    self.escaped = true;
                } else if c == '"' {
                    self.in_string = false;
                }
                continue;
            }
            match c {
                '"' => self.in_string = true,
                '{' | '[' => self.depth += 1,
                '}' | ']' => self.depth -= 1,
                _ => {}
            }
        }
        if !self.text.is_empty() {
            self.text.push('\n');
        }
        self.text.push_str(line);
        self.depth <= 0
    }
}

/// The incremental parser. Feed it chunks with [`push`](Self::push), then call
/// [`finish`](Self::finish) at EOF.
#[derive(Debug)]
pub struct SseParser {
    mode: Mode,
    /// Most bytes the line, event and bare document in progress may hold together.
    limit: usize,
    /// Set once the limit was passed: everything after is dropped.
    overflowed: bool,
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The previous byte was a CR: an LF right after it belongs to the same line break.
    after_cr: bool,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
    retry: Option<u64>,
    bare: Option<BareJson>,
}

impl Default for SseParser {
    fn default() -> Self {
        Self::with_limit(Mode::Standard, MAX_EVENT_BYTES)
    }
}

impl SseParser {
    /// A parser for plain SSE.
    pub fn new() -> Self {
        Self::default()
    }

    /// A parser with the given [`Mode`] and the default limit.
    pub fn with_mode(mode: Mode) -> Self {
        Self::with_limit(mode, MAX_EVENT_BYTES)
    }

    /// A parser with the given [`Mode`] whose line, event and bare JSON document in
    /// progress hold at most `limit` bytes together.
    pub fn with_limit(mode: Mode, limit: usize) -> Self {
        Self {
            mode,
            limit: limit.max(1),
            overflowed: false,
            line: Vec::new(),
            after_cr: false,
            event: None,
            data: None,
            id: None,
            retry: None,
            bare: None,
        }
    }

    /// `Some(limit)` once the input passed the limit (a line, event or bare JSON document
    /// larger than `limit` bytes); the parser then ignores everything after.
    pub fn too_large(&self) -> Option<usize> {
        self.overflowed.then_some(self.limit)
    }

    /// Bytes held for the line, event and bare document in progress.
    fn held(&self) -> usize {
        self.line.len()
            + self.data.as_ref().map_or(0, String::len)
            + self.event.as_ref().map_or(0, String::len)
            + self.id.as_ref().map_or(0, String::len)
            + self.bare.as_ref().map_or(0, |b| b.text.len())
    }

    /// Stops the parser and frees what it held.
    fn overflow(&mut self) {
        self.overflowed = true;
        self.line = Vec::new();
        self.bare = None;
        self.reset_event();
    }

    /// Feeds a chunk; returns the events it completed, in order. After the limit was
    /// passed it returns nothing (see [`too_large`](Self::too_large)).
    pub fn push(&mut self, bytes: &[u8]) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.overflowed {
            return out;
        }
        let mut start = 0;
        for (i, &b) in bytes.iter().enumerate() {
            match b {
                b'\n' if self.after_cr => {
                    self.after_cr = false;
                    start = i + 1;
                }
                b'\n' | b'\r' => {
                    if self.held() + (i - start) > self.limit {
                        self.overflow();
                        return out;
                    }
                    self.line.extend_from_slice(&bytes[start..i]);
                    self.after_cr = b == b'\r';
                    start = i + 1;
                    let line = std::mem::take(&mut self.line);
                    self.process_line(&String::from_utf8_lossy(&line), &mut out);
                    if self.held() > self.limit {
                        self.overflow();
                        return out;
                    }
                }
                _ => self.after_cr = false,
            }
        }
        if self.held() + (bytes.len() - start) > self.limit {
            self.overflow();
            return out;
        }
        self.line.extend_from_slice(&bytes[start..]);
        out
    }

    /// Ends the input. An SSE event without its terminating empty line is dropped (WHATWG);
    /// an unfinished bare JSON document is returned as is, so the caller reports it as
    /// malformed rather than silently losing it.
    pub fn finish(&mut self) -> Vec<SseEvent> {
        let mut out = Vec::new();
        if self.overflowed {
            return out;
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            let text = String::from_utf8_lossy(&line).into_owned();
            if let Some(mut bare) = self.bare.take() {
                bare.push_line(&text);
                out.push(bare_event(bare.text));
            } else if self.starts_bare_json(&text) {
                out.push(bare_event(text));
            }
        } else if let Some(bare) = self.bare.take() {
            out.push(bare_event(bare.text));
        }
        self.reset_event();
        out
    }

    fn starts_bare_json(&self, line: &str) -> bool {
        self.mode == Mode::WithBareJson && line.trim_start().starts_with('{')
    }

    fn process_line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if let Some(bare) = self.bare.as_mut() {
            if bare.push_line(line) {
                let done = self.bare.take().map(|b| b.text).unwrap_or_default();
                out.push(bare_event(done));
            }
            return;
        }
        if self.starts_bare_json(line) {
            let mut bare = BareJson::default();
            if bare.push_line(line) {
                out.push(bare_event(bare.text));
            } else {
                self.bare = Some(bare);
            }
            return;
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match self.data.as_mut() {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            "retry" => {
                if let Ok(ms) = value.parse::<u64>() {
                    self.retry = Some(ms);
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.data.is_some() || self.event.is_some() {
            out.push(SseEvent {
                kind: EventKind::Sse,
                event: self.event.take(),
                data: self.data.take().unwrap_or_default(),
                id: self.id.take(),
                retry: self.retry.take(),
            });
        }
        self.reset_event();
    }

    fn reset_event(&mut self) {
        self.event = None;
        self.data = None;
        self.id = None;
        self.retry = None;
    }
}

fn bare_event(data: String) -> SseEvent {
    SseEvent {
        kind: EventKind::BareJson,
        event: None,
        data,
        id: None,
        retry: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse_whole(mode: Mode, input: &[u8]) -> Vec<SseEvent> {
        let mut p = SseParser::with_mode(mode);
        let mut out = p.push(input);
        out.extend(p.finish());
        out
    }

    fn parse_split(mode: Mode, input: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
        let mut p = SseParser::with_mode(mode);
        let mut out = Vec::new();
        let mut last = 0;
        for &c in cuts {
            out.extend(p.push(&input[last..c]));
            last = c;
        }
        out.extend(p.push(&input[last..]));
        out.extend(p.finish());
        out
    }

    fn sse(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            kind: EventKind::Sse,
            event: event.map(str::to_string),
            data: data.to_string(),
            id: None,
            retry: None,
        }
    }

    #[test]
    fn named_events_and_padding() {
        let input = b"event: message_start\ndata: {\"type\":\"message_start\"}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n";
        assert_eq!(
            parse_whole(Mode::Standard, input),
            vec![
                sse(Some("message_start"), "{\"type\":\"message_start\"}"),
                sse(Some("ping"), "{\"type\": \"ping\"}"),
            ]
        );
    }

    #[test]
    fn line_endings_lf_crlf_and_lone_cr() {
        for input in [
            &b"data: a\n\ndata: b\n\n"[..],
            b"data: a\r\n\r\ndata: b\r\n\r\n",
            b"data: a\r\rdata: b\r\r",
            b"data: a\r\n\ndata: b\n\r\n",
        ] {
            assert_eq!(
                parse_whole(Mode::Standard, input),
                vec![sse(None, "a"), sse(None, "b")],
                "{:?}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn cr_and_lf_split_across_chunks_is_one_break() {
        let mut p = SseParser::new();
        assert!(p.push(b"data: a\r").is_empty());
        // The LF completes the CRLF; only the next CRLF is the empty line.
        assert!(p.push(b"\n").is_empty());
        assert_eq!(p.push(b"\r\n"), vec![sse(None, "a")]);
    }

    #[test]
    fn multi_line_data_comments_and_fields() {
        let input = b": OPENROUTER PROCESSING\n\ndata: line1\ndata:line2\ndata\nid: 7\nretry: 1500\nretry: x\nfoo: bar\n\n";
        let ev = parse_whole(Mode::Standard, input);
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].data, "line1\nline2\n");
        assert_eq!(ev[0].id.as_deref(), Some("7"));
        assert_eq!(ev[0].retry, Some(1500));
    }

    #[test]
    fn only_one_leading_space_is_stripped() {
        assert_eq!(
            parse_whole(Mode::Standard, b"data:  two\n\n"),
            vec![sse(None, " two")]
        );
    }

    #[test]
    fn unterminated_event_at_eof_is_not_dispatched() {
        assert_eq!(
            parse_whole(Mode::Standard, b"data: one\n\ndata: two\n"),
            vec![sse(None, "one")]
        );
        assert_eq!(
            parse_whole(Mode::Standard, b"data: one\n\ndata: two"),
            vec![sse(None, "one")]
        );
    }

    #[test]
    fn empty_event_is_dropped() {
        assert!(parse_whole(Mode::Standard, b"\n\nid: 3\n\n").is_empty());
    }

    #[test]
    fn utf8_split_across_chunks() {
        let input = "data: héllo → 世界\n\n".as_bytes();
        for cut in 0..=input.len() {
            assert_eq!(
                parse_split(Mode::Standard, input, &[cut]),
                vec![sse(None, "héllo → 世界")]
            );
        }
    }

    #[test]
    fn unicode_line_separators_are_data() {
        let input = "data: a\u{2028}b\u{2029}c\n\n".as_bytes();
        assert_eq!(
            parse_whole(Mode::Standard, input),
            vec![sse(None, "a\u{2028}b\u{2029}c")]
        );
    }

    #[test]
    fn gemini_bare_json_error_is_collected() {
        let input = b"data: {\"a\":1}\r\n\r\n{\r\n  \"error\": {\r\n    \"code\": 499,\r\n    \"message\": \"brace } in \\\" string {\",\r\n    \"status\": \"CANCELLED\"\r\n  }\r\n}\r\n";
        let ev = parse_whole(Mode::WithBareJson, input);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0], sse(None, "{\"a\":1}"));
        assert_eq!(ev[1].kind, EventKind::BareJson);
        let v: serde_json::Value = serde_json::from_str(&ev[1].data).unwrap();
        assert_eq!(v["error"]["code"], 499);
        // Standard mode ignores such lines (field names without a colon or unknown fields).
        assert_eq!(parse_whole(Mode::Standard, input).len(), 1);
    }

    #[test]
    fn unfinished_bare_json_is_returned_at_eof() {
        let ev = parse_whole(Mode::WithBareJson, b"{\"error\": {\n");
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].kind, EventKind::BareJson);
        assert!(serde_json::from_str::<serde_json::Value>(&ev[0].data).is_err());
    }

    fn sample_inputs() -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = vec![
            b"event: message_start\ndata: {\"type\":\"message_start\"}\n\n: comment\nevent: content_block_delta\ndata: {\"t\":\"h\xc3\xa9\"}\n\ndata: a\ndata: b\n\n".to_vec(),
            b"data: {\"x\":1}\r\n\r\ndata: [DONE]\r\n\r\n".to_vec(),
            b"data: a\r\rdata: b\r\n\ndata: c\n\r\n".to_vec(),
            b"data: {\"a\":1}\r\n\r\n{\r\n  \"error\": {\"code\": 499}\r\n}\r\ndata: tail\r\n\r\n".to_vec(),
            "data: 世界\u{2028}\n\ndata: partial".as_bytes().to_vec(),
        ];
        for dir in ["anthropic", "openai", "gemini"] {
            let path = format!("{}/tests/fixtures/sse/{dir}", env!("CARGO_MANIFEST_DIR"));
            if let Ok(entries) = std::fs::read_dir(path) {
                for e in entries.flatten() {
                    if let Ok(bytes) = std::fs::read(e.path()) {
                        v.push(bytes);
                    }
                }
            }
        }
        v
    }

    #[test]
    fn every_single_split_point_gives_the_same_events() {
        for mode in [Mode::Standard, Mode::WithBareJson] {
            for input in sample_inputs() {
                let whole = parse_whole(mode, &input);
                for cut in 0..=input.len() {
                    assert_eq!(
                        parse_split(mode, &input, &[cut]),
                        whole,
                        "cut at {cut} of {:?}",
                        String::from_utf8_lossy(&input)
                    );
                }
            }
        }
    }

    /// Byte soup biased towards SSE syntax, so the property exercises every parser path.
    fn sse_bytes() -> impl Strategy<Value = Vec<u8>> {
        let token = prop_oneof![
            Just(b"data: ".to_vec()),
            Just(b"data:".to_vec()),
            Just(b"event: x".to_vec()),
            Just(b"id: 1".to_vec()),
            Just(b"retry: 20".to_vec()),
            Just(b": c".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"{".to_vec()),
            Just(b"}".to_vec()),
            Just(b"\"".to_vec()),
            Just(b"\\".to_vec()),
            Just("é世".as_bytes().to_vec()),
            proptest::collection::vec(any::<u8>(), 0..4),
        ];
        proptest::collection::vec(token, 0..40).prop_map(|v| v.concat())
    }

    #[test]
    fn a_giant_line_stops_the_parser_with_bounded_memory() {
        let limit = 64 * 1024;
        let mut p = SseParser::with_limit(Mode::Standard, limit);
        assert!(p.push(b"data: {\"ok\":1}\n\n").len() == 1);
        let chunk = vec![b'x'; 16 * 1024];
        assert!(p.push(b"data: ").is_empty());
        for _ in 0..64 {
            assert!(p.push(&chunk).is_empty());
            assert!(p.held() <= limit, "{}", p.held());
        }
        assert_eq!(p.too_large(), Some(limit));
        assert!(
            p.push(b"\n\ndata: late\n\n").is_empty(),
            "input after the limit is dropped"
        );
        assert!(p.finish().is_empty());
    }

    #[test]
    fn an_event_of_many_small_data_lines_is_bounded_too() {
        let limit = 4096;
        for mode in [Mode::Standard, Mode::WithBareJson] {
            let mut p = SseParser::with_limit(mode, limit);
            for _ in 0..1000 {
                let _ = p.push(b"data: 0123456789\n");
                assert!(p.held() <= limit);
            }
            assert_eq!(p.too_large(), Some(limit), "{mode:?}");
        }
        // An endless bare JSON document (Gemini mode).
        let mut p = SseParser::with_limit(Mode::WithBareJson, limit);
        let _ = p.push(b"{\n");
        for _ in 0..1000 {
            let _ = p.push(b"  \"k\": [1, 2, 3],\n");
            assert!(p.held() <= limit);
        }
        assert_eq!(p.too_large(), Some(limit));
    }

    #[test]
    fn events_under_the_limit_are_untouched() {
        let mut p = SseParser::with_limit(Mode::Standard, 20);
        assert_eq!(
            p.push(b"data: 0123456789\n\n"),
            vec![sse(None, "0123456789")]
        );
        assert_eq!(p.too_large(), None);
        assert_eq!(SseParser::new().limit, MAX_EVENT_BYTES);
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]
        /// The fuzz target for the parser: arbitrary bytes, any limit, any chunking: no panic,
        /// memory within the limit, and the same events as an unlimited parser while under it.
        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(
            input in proptest::collection::vec(any::<u8>(), 0..2048),
            raw_cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
            limit in 1usize..512,
            bare in any::<bool>(),
        ) {
            let mode = if bare { Mode::WithBareJson } else { Mode::Standard };
            let mut cuts: Vec<usize> = raw_cuts.iter().map(|i| i.index(input.len() + 1)).collect();
            cuts.sort_unstable();
            let mut p = SseParser::with_limit(mode, limit);
            let mut out = Vec::new();
            let mut last = 0;
            for &c in cuts.iter().chain(std::iter::once(&input.len())) {
                out.extend(p.push(&input[last..c]));
                prop_assert!(p.held() <= limit);
                last = c;
            }
            out.extend(p.finish());
            if p.too_large().is_none() {
                prop_assert_eq!(out, parse_whole(mode, &input));
            }
            // Without a limit in the way, the same bytes give the same events.
            let mut big = SseParser::with_limit(mode, 3 * input.len() + 16);
            let mut all = big.push(&input);
            all.extend(big.finish());
            prop_assert_eq!(all, parse_whole(mode, &input));
        }
    }

    proptest! {
        #[test]
        fn random_multi_splits_give_the_same_events(
            input in sse_bytes(),
            raw_cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..8),
            bare in any::<bool>(),
        ) {
            let mode = if bare { Mode::WithBareJson } else { Mode::Standard };
            let mut cuts: Vec<usize> = raw_cuts.iter().map(|i| i.index(input.len() + 1)).collect();
            cuts.sort_unstable();
            prop_assert_eq!(parse_split(mode, &input, &cuts), parse_whole(mode, &input));
        }

        #[test]
        fn byte_by_byte_equals_whole(input in sse_bytes(), bare in any::<bool>()) {
            let mode = if bare { Mode::WithBareJson } else { Mode::Standard };
            let cuts: Vec<usize> = (1..input.len()).collect();
            prop_assert_eq!(parse_split(mode, &input, &cuts), parse_whole(mode, &input));
        }
    }
}
