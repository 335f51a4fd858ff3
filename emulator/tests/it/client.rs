//! A tiny raw HTTP/1.1 client over `TcpStream` for the tests: it exposes the response
//! head, each chunk of a chunked body separately, and socket errors (RST, EOF) as they
//! happen, so faults are observable at the byte level.

use std::fmt::Write as _;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Default per-operation timeout in tests.
pub const T: Duration = Duration::from_secs(5);

pub struct Client {
    stream: TcpStream,
    buf: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
}

impl Head {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    pub fn chunked(&self) -> bool {
        self.header("transfer-encoding") == Some("chunked")
    }
}

#[derive(Debug)]
pub struct Resp {
    pub head: Head,
    pub chunks: Vec<Vec<u8>>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn status(&self) -> u16 {
        self.head.status
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("utf-8 body")
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    pub fn chunk_texts(&self) -> Vec<String> {
        self.chunks
            .iter()
            .map(|c| String::from_utf8(c.clone()).expect("utf-8 chunk"))
            .collect()
    }
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        Client {
            stream: TcpStream::connect(addr).await.expect("connect"),
            buf: Vec::new(),
        }
    }

    pub async fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) {
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: localhost\r\n");
        for (n, v) in headers {
            let _ = write!(req, "{n}: {v}\r\n");
        }
        let _ = write!(req, "content-length: {}\r\n\r\n{body}", body.len());
        self.stream
            .write_all(req.as_bytes())
            .await
            .expect("write request");
    }

    async fn fill(&mut self) -> io::Result<()> {
        let mut tmp = [0u8; 8192];
        let n = self.stream.read(&mut tmp).await?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof"));
        }
        self.buf.extend_from_slice(&tmp[..n]);
        Ok(())
    }

    async fn line(&mut self) -> io::Result<String> {
        loop {
            if let Some(i) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..i + 2).collect();
                return Ok(String::from_utf8_lossy(&line[..i]).into_owned());
            }
            self.fill().await?;
        }
    }

    async fn exact(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            self.fill().await?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    pub async fn read_head(&mut self) -> io::Result<Head> {
        let status_line = self.line().await?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status line");
        let mut headers = Vec::new();
        loop {
            let l = self.line().await?;
            if l.is_empty() {
                break;
            }
            let (n, v) = l.split_once(':').expect("header line");
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
        Ok(Head { status, headers })
    }

    /// The next chunk of a chunked body; `None` at the terminating 0-chunk.
    pub async fn next_chunk(&mut self) -> io::Result<Option<Vec<u8>>> {
        let size = self.line().await?;
        let n = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        let data = self.exact(n).await?;
        assert_eq!(self.exact(2).await?, b"\r\n", "chunk trailer");
        Ok((n > 0).then_some(data))
    }

    pub async fn read_body(&mut self, head: &Head) -> io::Result<(Vec<Vec<u8>>, Vec<u8>)> {
        if head.chunked() {
            let mut chunks = Vec::new();
            while let Some(c) = self.next_chunk().await? {
                chunks.push(c);
            }
            let body = chunks.concat();
            Ok((chunks, body))
        } else {
            let len: usize = head
                .header("content-length")
                .expect("content-length")
                .parse()
                .expect("numeric content-length");
            let body = self.exact(len).await?;
            Ok((Vec::new(), body))
        }
    }

    pub async fn response(&mut self) -> io::Result<Resp> {
        let head = self.read_head().await?;
        let (chunks, body) = self.read_body(&head).await?;
        Ok(Resp { head, chunks, body })
    }

    /// Everything up to the end of the connection, and how it ended (no chunk decoding:
    /// for truncated fixed-length bodies).
    pub async fn rest(&mut self) -> (Vec<u8>, End) {
        loop {
            let r = tokio::time::timeout(T, self.fill())
                .await
                .expect("data or end in time");
            match r {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    return (std::mem::take(&mut self.buf), End::Eof);
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return (std::mem::take(&mut self.buf), End::Reset);
                }
                Err(e) => panic!("unexpected read error: {e}"),
            }
        }
    }

    /// Waits for EOF (clean close); errors on data or reset.
    pub async fn eof(&mut self) -> io::Result<()> {
        match self.fill().await {
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Ok(()),
            Err(e) => Err(e),
            Ok(()) => Err(io::Error::other("unexpected data")),
        }
    }
}

/// One request on a fresh connection, whole response, 5 s timeout.
pub async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut c = Client::connect(addr).await;
    c.send(method, path, headers, body).await;
    tokio::time::timeout(T, c.response())
        .await
        .expect("response within timeout")
        .expect("complete response")
}

pub const ANTHROPIC: &[(&str, &str)] = &[
    ("x-api-key", "sk-ant-test"),
    ("anthropic-version", "2023-06-01"),
    ("content-type", "application/json"),
];
pub const OPENAI: &[(&str, &str)] = &[
    ("authorization", "Bearer sk-test"),
    ("content-type", "application/json"),
];
pub const GEMINI: &[(&str, &str)] = &[
    ("x-goog-api-key", "g-test"),
    ("content-type", "application/json"),
];

pub fn anthropic_body(model: &str, stream: bool) -> String {
    serde_json::json!({"model": model, "max_tokens": 64, "system": "Be terse.", "stream": stream,
        "messages": [{"role": "user", "content": "one two three"}]})
    .to_string()
}

pub fn openai_body(model: &str, stream: bool, include_usage: bool) -> String {
    let mut v = serde_json::json!({"model": model, "stream": stream,
        "messages": [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "one two three"}]});
    if include_usage {
        v["stream_options"] = serde_json::json!({"include_usage": true});
    }
    v.to_string()
}

pub fn gemini_body() -> String {
    serde_json::json!({"systemInstruction": {"parts": [{"text": "Be terse."}]},
        "contents": [{"role": "user", "parts": [{"text": "one two three"}]}]})
    .to_string()
}

pub fn gemini_path(model: &str, stream: bool) -> String {
    if stream {
        format!("/v1beta/models/{model}:streamGenerateContent?alt=sse")
    } else {
        format!("/v1beta/models/{model}:generateContent")
    }
}

/// Sends a streaming generation request for `protocol` and returns the client with the
/// request written (head not yet read).
pub async fn start_stream(
    addr: SocketAddr,
    protocol: aiw_emulator::Protocol,
    model: &str,
) -> Client {
    let mut c = Client::connect(addr).await;
    match protocol {
        aiw_emulator::Protocol::Anthropic => {
            c.send(
                "POST",
                "/v1/messages",
                ANTHROPIC,
                &anthropic_body(model, true),
            )
            .await;
        }
        aiw_emulator::Protocol::OpenAi => {
            c.send(
                "POST",
                "/v1/chat/completions",
                OPENAI,
                &openai_body(model, true, true),
            )
            .await;
        }
        aiw_emulator::Protocol::Gemini => {
            c.send("POST", &gemini_path(model, true), GEMINI, &gemini_body())
                .await;
        }
    }
    c
}

/// A whole generation exchange for `protocol`.
pub async fn generate(
    addr: SocketAddr,
    protocol: aiw_emulator::Protocol,
    model: &str,
    stream: bool,
) -> Resp {
    match protocol {
        aiw_emulator::Protocol::Anthropic => {
            call(
                addr,
                "POST",
                "/v1/messages",
                ANTHROPIC,
                &anthropic_body(model, stream),
            )
            .await
        }
        aiw_emulator::Protocol::OpenAi => {
            call(
                addr,
                "POST",
                "/v1/chat/completions",
                OPENAI,
                &openai_body(model, stream, true),
            )
            .await
        }
        aiw_emulator::Protocol::Gemini => {
            call(
                addr,
                "POST",
                &gemini_path(model, stream),
                GEMINI,
                &gemini_body(),
            )
            .await
        }
    }
}

/// How a streamed body ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The terminating 0-chunk arrived (then the server may close).
    Clean,
    /// EOF in the middle of the chunked body.
    Eof,
    /// TCP RST.
    Reset,
}

/// Reads the chunks of a chunked body until its end, however it ends (5 s timeout).
pub async fn read_chunks(c: &mut Client) -> (Vec<String>, End) {
    let mut chunks = Vec::new();
    loop {
        let next = tokio::time::timeout(T, c.next_chunk())
            .await
            .expect("chunk or end in time");
        match next {
            Ok(Some(data)) => chunks.push(String::from_utf8(data).expect("utf-8 chunk")),
            Ok(None) => return (chunks, End::Clean),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return (chunks, End::Eof),
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return (chunks, End::Reset),
            Err(e) => panic!("unexpected read error: {e}"),
        }
    }
}

/// The JSON of the first `data:` line of an SSE event.
pub fn data_json(chunk: &str) -> serde_json::Value {
    let line = chunk
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .expect("data line");
    serde_json::from_str(line).expect("data is JSON")
}

/// The request path and headers of a generation call for `protocol`.
pub fn endpoint(
    protocol: aiw_emulator::Protocol,
    model: &str,
    stream: bool,
) -> (String, &'static [(&'static str, &'static str)]) {
    match protocol {
        aiw_emulator::Protocol::Anthropic => ("/v1/messages".into(), ANTHROPIC),
        aiw_emulator::Protocol::OpenAi => ("/v1/chat/completions".into(), OPENAI),
        aiw_emulator::Protocol::Gemini => (gemini_path(model, stream), GEMINI),
    }
}

/// `body` with `model` and `stream` set for Anthropic/OpenAI (Gemini takes both from the
/// path), as sent by [`post`].
pub fn with_model(
    protocol: aiw_emulator::Protocol,
    model: &str,
    stream: bool,
    mut body: serde_json::Value,
) -> String {
    if protocol != aiw_emulator::Protocol::Gemini {
        body["model"] = model.into();
        body["stream"] = stream.into();
    }
    body.to_string()
}

/// A whole generation exchange for `protocol` with a custom body.
pub async fn post(
    addr: SocketAddr,
    protocol: aiw_emulator::Protocol,
    model: &str,
    stream: bool,
    body: serde_json::Value,
) -> Resp {
    let (path, headers) = endpoint(protocol, model, stream);
    call(
        addr,
        "POST",
        &path,
        headers,
        &with_model(protocol, model, stream, body),
    )
    .await
}

pub const ALL: [aiw_emulator::Protocol; 3] = [
    aiw_emulator::Protocol::Anthropic,
    aiw_emulator::Protocol::OpenAi,
    aiw_emulator::Protocol::Gemini,
];
