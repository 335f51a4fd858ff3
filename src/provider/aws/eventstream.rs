//! The AWS event-stream binary framing (`application/vnd.amazon.eventstream`), as Bedrock's
//! `InvokeModelWithResponseStream` sends it: an incremental, pure parser that turns byte
//! chunks into [`Message`]s, correct for any chunking, that never panics on any input and
//! never buffers more than one frame of at most [`MAX_FRAME`] bytes (plus the chunk being
//! read). No provider knowledge: Bedrock's use of the headers is in `bedrock.rs`.
//!
//! A frame: a 12-byte prelude (total length, headers length, both big-endian `u32`, then the
//! CRC32 of those 8 bytes), the headers, the payload, and the CRC32 of everything before it.
//! A header: name length (`u8`), name, value type (`u8`), value (`0`/`1` true/false, `2` i8,
//! `3` i16, `4` i32, `5` i64, `6` bytes and `7` string with a `u16` length, `8` timestamp
//! (i64 ms), `9` UUID).
//! See: <https://docs.aws.amazon.com/transcribe/latest/dg/streaming-setting-up.html>
//! ("Event stream encoding").

/// Largest frame accepted: AWS's limit of 16 MiB of payload plus 128 KiB of headers. A
/// prelude declaring more is an error at once, before anything is buffered for it.
pub const MAX_FRAME: usize = 16 * 1024 * 1024 + 128 * 1024 + PRELUDE + CRC;

const PRELUDE: usize = 12;
const CRC: usize = 4;

/// One header value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HeaderValue {
    /// Types 0 and 1.
    Bool(bool),
    /// Type 2.
    Byte(i8),
    /// Type 3.
    Int16(i16),
    /// Type 4.
    Int32(i32),
    /// Type 5.
    Int64(i64),
    /// Type 6.
    Bytes(Vec<u8>),
    /// Type 7.
    String(String),
    /// Type 8: milliseconds since the Unix epoch.
    Timestamp(i64),
    /// Type 9.
    Uuid([u8; 16]),
}

/// One decoded frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    /// Headers in frame order.
    pub headers: Vec<(String, HeaderValue)>,
    /// The payload bytes.
    pub payload: Vec<u8>,
}

impl Message {
    /// The value of the string header `name` (`:event-type`, `:message-type`, …).
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.iter().find_map(|(n, v)| match v {
            HeaderValue::String(s) if n == name => Some(s.as_str()),
            _ => None,
        })
    }
}

/// Why the byte stream is not event-stream framing. Once one is returned the stream is dead:
/// the parser returns it again for any further input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The prelude declares a frame larger than [`MAX_FRAME`].
    #[error("a frame declares {declared} bytes, over the {MAX_FRAME}-byte limit")]
    TooLarge {
        /// The declared total length.
        declared: u64,
    },
    /// The lengths in the prelude do not fit together.
    #[error("a frame's prelude is inconsistent (total {total} bytes, headers {headers} bytes)")]
    BadLengths {
        /// The declared total length.
        total: u32,
        /// The declared headers length.
        headers: u32,
    },
    /// The prelude's CRC does not match.
    #[error("a frame's prelude checksum does not match (corrupted stream)")]
    PreludeCrc,
    /// The frame's CRC does not match.
    #[error("a frame's checksum does not match (corrupted stream)")]
    MessageCrc,
    /// The headers cannot be decoded.
    #[error("a frame's headers are malformed: {0}")]
    BadHeaders(&'static str),
}

/// The incremental parser: feed it chunks with [`Parser::push`]; at the end of the body,
/// [`Parser::pending`] says how many bytes of an incomplete frame were left over.
#[derive(Debug, Default)]
pub struct Parser {
    buf: Vec<u8>,
    failed: Option<FrameError>,
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

impl Parser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds bytes; returns the frames they complete, in order, or the error that ends the
    /// stream. Frames completed before a broken one in the same chunk are still returned in
    /// `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Message>) -> Result<(), FrameError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.buf.extend_from_slice(bytes);
        let mut start = 0;
        let result = loop {
            let rest = &self.buf[start..];
            if rest.len() < PRELUDE {
                break Ok(());
            }
            let total = be_u32(rest);
            let headers_len = be_u32(&rest[4..]);
            if total as usize > MAX_FRAME {
                break Err(FrameError::TooLarge {
                    declared: u64::from(total),
                });
            }
            if (total as usize) < PRELUDE + CRC
                || headers_len as usize > total as usize - PRELUDE - CRC
            {
                break Err(FrameError::BadLengths {
                    total,
                    headers: headers_len,
                });
            }
            if crc32fast::hash(&rest[..8]) != be_u32(&rest[8..]) {
                break Err(FrameError::PreludeCrc);
            }
            let total = total as usize;
            if rest.len() < total {
                break Ok(());
            }
            let frame = &rest[..total];
            if crc32fast::hash(&frame[..total - CRC]) != be_u32(&frame[total - CRC..]) {
                break Err(FrameError::MessageCrc);
            }
            let headers_end = PRELUDE + headers_len as usize;
            match decode_headers(&frame[PRELUDE..headers_end]) {
                Ok(headers) => out.push(Message {
                    headers,
                    payload: frame[headers_end..total - CRC].to_vec(),
                }),
                Err(e) => break Err(e),
            }
            start += total;
        };
        self.buf.drain(..start);
        if let Err(e) = &result {
            self.failed = Some(e.clone());
            self.buf = Vec::new();
        }
        result
    }

    /// Bytes of an incomplete frame held (non-zero at the end of a body: the stream was cut
    /// inside a frame).
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

fn decode_headers(mut b: &[u8]) -> Result<Vec<(String, HeaderValue)>, FrameError> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], FrameError> {
        if b.len() < n {
            return Err(FrameError::BadHeaders(
                "a header runs past the headers section",
            ));
        }
        let (head, tail) = b.split_at(n);
        *b = tail;
        Ok(head)
    }
    fn fixed<const N: usize>(b: &mut &[u8]) -> Result<[u8; N], FrameError> {
        let mut a = [0u8; N];
        a.copy_from_slice(take(b, N)?);
        Ok(a)
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let name_len = take(&mut b, 1)?[0] as usize;
        let name = std::str::from_utf8(take(&mut b, name_len)?)
            .map_err(|_| FrameError::BadHeaders("a header name is not UTF-8"))?
            .to_string();
        let value = match take(&mut b, 1)?[0] {
            0 => HeaderValue::Bool(true),
            1 => HeaderValue::Bool(false),
            2 => HeaderValue::Byte(i8::from_be_bytes(fixed(&mut b)?)),
            3 => HeaderValue::Int16(i16::from_be_bytes(fixed(&mut b)?)),
            4 => HeaderValue::Int32(i32::from_be_bytes(fixed(&mut b)?)),
            5 => HeaderValue::Int64(i64::from_be_bytes(fixed(&mut b)?)),
            6 => {
                let len = u16::from_be_bytes(fixed(&mut b)?) as usize;
                HeaderValue::Bytes(take(&mut b, len)?.to_vec())
            }
            7 => {
                let len = u16::from_be_bytes(fixed(&mut b)?) as usize;
                let s = std::str::from_utf8(take(&mut b, len)?)
                    .map_err(|_| FrameError::BadHeaders("a string header is not UTF-8"))?;
                HeaderValue::String(s.to_string())
            }
            8 => HeaderValue::Timestamp(i64::from_be_bytes(fixed(&mut b)?)),
            9 => HeaderValue::Uuid(fixed(&mut b)?),
            _ => return Err(FrameError::BadHeaders("unknown header value type")),
        };
        out.push((name, value));
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Encodes one frame (test support; the emulator has its own encoder).
    pub(crate) fn encode(headers: &[(&str, HeaderValue)], payload: &[u8]) -> Vec<u8> {
        let mut h = Vec::new();
        for (name, value) in headers {
            h.push(name.len() as u8);
            h.extend_from_slice(name.as_bytes());
            match value {
                HeaderValue::Bool(true) => h.push(0),
                HeaderValue::Bool(false) => h.push(1),
                HeaderValue::Byte(v) => {
                    h.push(2);
                    h.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Int16(v) => {
                    h.push(3);
                    h.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Int32(v) => {
                    h.push(4);
                    h.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Int64(v) => {
                    h.push(5);
                    h.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Bytes(v) => {
                    h.push(6);
                    h.extend_from_slice(&(v.len() as u16).to_be_bytes());
                    h.extend_from_slice(v);
                }
                HeaderValue::String(v) => {
                    h.push(7);
                    h.extend_from_slice(&(v.len() as u16).to_be_bytes());
                    h.extend_from_slice(v.as_bytes());
                }
                HeaderValue::Timestamp(v) => {
                    h.push(8);
                    h.extend_from_slice(&v.to_be_bytes());
                }
                HeaderValue::Uuid(v) => {
                    h.push(9);
                    h.extend_from_slice(v);
                }
            }
        }
        let total = (PRELUDE + h.len() + payload.len() + CRC) as u32;
        let mut out = Vec::new();
        out.extend_from_slice(&total.to_be_bytes());
        out.extend_from_slice(&(h.len() as u32).to_be_bytes());
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out.extend_from_slice(&h);
        out.extend_from_slice(payload);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }

    fn event(payload: &str) -> Vec<u8> {
        encode(
            &[
                (":event-type", HeaderValue::String("chunk".into())),
                (
                    ":content-type",
                    HeaderValue::String("application/json".into()),
                ),
                (":message-type", HeaderValue::String("event".into())),
            ],
            payload.as_bytes(),
        )
    }

    fn parse_all(bytes: &[u8]) -> (Vec<Message>, Result<(), FrameError>) {
        let mut p = Parser::new();
        let mut out = Vec::new();
        let r = p.push(bytes, &mut out);
        (out, r)
    }

    #[test]
    fn decodes_a_bedrock_chunk() {
        let (msgs, r) = parse_all(&event(r#"{"bytes":"eyJ0eXBlIjoicGluZyJ9"}"#));
        r.unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0].header_str(":event-type"), Some("chunk"));
        assert_eq!(msgs[0].header_str(":message-type"), Some("event"));
        assert_eq!(msgs[0].payload, br#"{"bytes":"eyJ0eXBlIjoicGluZyJ9"}"#);
    }

    #[test]
    fn every_header_type_round_trips() {
        let headers = [
            ("t", HeaderValue::Bool(true)),
            ("f", HeaderValue::Bool(false)),
            ("b", HeaderValue::Byte(-3)),
            ("s", HeaderValue::Int16(-300)),
            ("i", HeaderValue::Int32(70_000)),
            ("l", HeaderValue::Int64(-5_000_000_000)),
            ("y", HeaderValue::Bytes(vec![0, 255])),
            ("z", HeaderValue::String("héllo".into())),
            ("ts", HeaderValue::Timestamp(1_700_000_000_000)),
            ("u", HeaderValue::Uuid([7; 16])),
        ];
        let (msgs, r) = parse_all(&encode(&headers, b"x"));
        r.unwrap();
        let got: Vec<(String, HeaderValue)> = msgs[0].headers.clone();
        let want: Vec<(String, HeaderValue)> = headers
            .iter()
            .map(|(n, v)| ((*n).to_string(), v.clone()))
            .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn bad_crcs_are_errors_and_the_stream_stays_dead() {
        let mut bytes = event(r#"{"a":1}"#);
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(parse_all(&bytes).1, Err(FrameError::MessageCrc));
        let mut bytes = event(r#"{"a":1}"#);
        bytes[9] ^= 0x40;
        assert_eq!(parse_all(&bytes).1, Err(FrameError::PreludeCrc));
        // A flipped payload byte is caught by the message CRC.
        let mut bytes = event(r#"{"a":1}"#);
        let mid = bytes.len() - 6;
        bytes[mid] ^= 0x20;
        let mut p = Parser::new();
        let mut out = Vec::new();
        assert_eq!(p.push(&bytes, &mut out), Err(FrameError::MessageCrc));
        assert_eq!(
            p.push(&event("{}"), &mut out),
            Err(FrameError::MessageCrc),
            "nothing after a broken frame is trusted"
        );
        assert!(out.is_empty());
    }

    #[test]
    fn frames_before_a_broken_one_are_delivered() {
        let mut bytes = event(r#"{"n":1}"#);
        let mut bad = event(r#"{"n":2}"#);
        let last = bad.len() - 1;
        bad[last] ^= 1;
        bytes.extend_from_slice(&bad);
        let (msgs, r) = parse_all(&bytes);
        assert_eq!(msgs.len(), 1);
        assert_eq!(r, Err(FrameError::MessageCrc));
    }

    #[test]
    fn huge_declared_lengths_are_refused_without_buffering() {
        let mut prelude = Vec::new();
        prelude.extend_from_slice(&u32::MAX.to_be_bytes());
        prelude.extend_from_slice(&0u32.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend_from_slice(&crc.to_be_bytes());
        let mut p = Parser::new();
        let mut out = Vec::new();
        assert!(matches!(
            p.push(&prelude, &mut out),
            Err(FrameError::TooLarge { .. })
        ));
        assert_eq!(p.pending(), 0);
    }

    #[test]
    fn a_cut_inside_a_frame_leaves_it_pending() {
        let bytes = event(r#"{"bytes":"abc"}"#);
        let mut p = Parser::new();
        let mut out = Vec::new();
        p.push(&bytes[..bytes.len() / 2], &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(p.pending(), bytes.len() / 2);
    }

    #[test]
    fn inconsistent_lengths_are_errors() {
        // Headers longer than the frame can hold.
        let mut prelude = Vec::new();
        prelude.extend_from_slice(&20u32.to_be_bytes());
        prelude.extend_from_slice(&10u32.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            parse_all(&prelude).1,
            Err(FrameError::BadLengths { .. })
        ));
        // A header whose value runs past the headers section.
        let mut bytes = encode(&[("n", HeaderValue::String("v".into()))], b"");
        // Claim a longer string value: the CRCs are fixed up so only the header is wrong.
        bytes[PRELUDE + 3] = 0;
        bytes[PRELUDE + 4] = 9;
        let body = bytes.len() - CRC;
        let crc = crc32fast::hash(&bytes[..body]);
        bytes[body..].copy_from_slice(&crc.to_be_bytes());
        assert!(matches!(
            parse_all(&bytes).1,
            Err(FrameError::BadHeaders(_))
        ));
    }

    fn header_value() -> impl Strategy<Value = HeaderValue> {
        prop_oneof![
            any::<bool>().prop_map(HeaderValue::Bool),
            any::<i8>().prop_map(HeaderValue::Byte),
            any::<i16>().prop_map(HeaderValue::Int16),
            any::<i32>().prop_map(HeaderValue::Int32),
            any::<i64>().prop_map(HeaderValue::Int64),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(HeaderValue::Bytes),
            "[a-zA-Z:\\-é]{0,16}".prop_map(HeaderValue::String),
            any::<i64>().prop_map(HeaderValue::Timestamp),
            any::<[u8; 16]>().prop_map(HeaderValue::Uuid),
        ]
    }

    fn message() -> impl Strategy<Value = (Vec<(String, HeaderValue)>, Vec<u8>)> {
        (
            proptest::collection::vec(("[a-z:\\-]{1,12}", header_value()), 0..4),
            proptest::collection::vec(any::<u8>(), 0..64),
        )
    }

    proptest! {
        #[test]
        fn every_split_gives_the_same_messages(
            msgs in proptest::collection::vec(message(), 1..5),
            split in any::<proptest::sample::Index>(),
        ) {
            let mut bytes = Vec::new();
            let mut want = Vec::new();
            for (headers, payload) in &msgs {
                let hs: Vec<(&str, HeaderValue)> = headers.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
                bytes.extend_from_slice(&encode(&hs, payload));
                want.push(Message { headers: headers.clone(), payload: payload.clone() });
            }
            // One split point anywhere, then every single-byte chunking of a prefix.
            let at = split.index(bytes.len() + 1);
            let mut p = Parser::new();
            let mut got = Vec::new();
            p.push(&bytes[..at], &mut got).unwrap();
            p.push(&bytes[at..], &mut got).unwrap();
            prop_assert_eq!(&got, &want);
            prop_assert_eq!(p.pending(), 0);
            let mut p = Parser::new();
            let mut one = Vec::new();
            for b in &bytes {
                p.push(std::slice::from_ref(b), &mut one).unwrap();
            }
            prop_assert_eq!(one, want);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(
            chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..8),
        ) {
            let mut p = Parser::new();
            let mut out = Vec::new();
            for c in &chunks {
                if p.push(c, &mut out).is_err() {
                    break;
                }
                prop_assert!(p.pending() <= MAX_FRAME + c.len());
            }
        }

        #[test]
        fn a_truncated_stream_never_yields_its_last_frame(
            msgs in proptest::collection::vec(message(), 1..4),
            cut in 1usize..1000,
        ) {
            let mut bytes = Vec::new();
            for (headers, payload) in &msgs {
                let hs: Vec<(&str, HeaderValue)> = headers.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
                bytes.extend_from_slice(&encode(&hs, payload));
            }
            let cut = cut.min(bytes.len());
            let (got, r) = parse_all(&bytes[..bytes.len() - cut]);
            prop_assert!(r.is_ok());
            prop_assert!(got.len() < msgs.len());
        }
    }
}
