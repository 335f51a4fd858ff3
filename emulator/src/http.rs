//! A small hand-written HTTP/1.1 layer over a raw `TcpStream`: request parsing
//! (request line, headers, `Content-Length` bodies, keep-alive, pipelining leftovers),
//! response/chunk byte builders, and the socket-level fault primitives (RST, waiting for
//! the client to leave).

use std::fmt::Write as _;
use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest accepted request head.
const MAX_HEAD: usize = 64 * 1024;
/// Largest accepted request body.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A parsed request.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: String,
    /// `true` for HTTP/1.0.
    pub(crate) http10: bool,
    /// Names lowercased.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Request {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the client wants the connection kept open after this response.
    pub(crate) fn keep_alive(&self) -> bool {
        let conn = self
            .header("connection")
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        if self.http10 {
            conn.contains("keep-alive")
        } else {
            !conn.contains("close")
        }
    }
}

/// Why no request could be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The client closed the connection between requests.
    Closed,
    /// Socket error or EOF in the middle of a request.
    Io,
    /// Unparseable request: answer this status and close.
    Bad(u16, &'static str),
}

/// A connection: the socket plus bytes read but not yet consumed.
pub(crate) struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    pub(crate) fn new(stream: TcpStream) -> Conn {
        Conn {
            stream,
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self) -> Result<usize, ReadError> {
        self.buf.reserve(16 * 1024);
        self.stream
            .read_buf(&mut self.buf)
            .await
            .map_err(|_| ReadError::Io)
    }

    /// Reads one request (head and `Content-Length` body).
    pub(crate) async fn read_request(&mut self) -> Result<Request, ReadError> {
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i;
            }
            if self.buf.len() > MAX_HEAD {
                return Err(ReadError::Bad(431, "request head too large"));
            }
            if self.fill().await? == 0 {
                return Err(if self.buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Io
                });
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let mut parts = request_line.split(' ');
        let (Some(method), Some(target), Some(version), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(ReadError::Bad(400, "bad request line"));
        };
        if !version.starts_with("HTTP/1.") {
            return Err(ReadError::Bad(505, "only HTTP/1.x is supported"));
        }
        let mut headers = Vec::new();
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                return Err(ReadError::Bad(400, "bad header line"));
            };
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
        let (path, query) = match target.split_once('?') {
            Some((p, q)) => (p.to_owned(), q.to_owned()),
            None => (target.to_owned(), String::new()),
        };
        let mut req = Request {
            method: method.to_owned(),
            path,
            query,
            http10: version == "HTTP/1.0",
            headers,
            body: Vec::new(),
        };
        if req
            .header("transfer-encoding")
            .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"))
        {
            return Err(ReadError::Bad(
                411,
                "chunked request bodies are not supported",
            ));
        }
        let len = match req.header("content-length") {
            None => 0,
            Some(v) => v
                .parse::<usize>()
                .map_err(|_| ReadError::Bad(400, "bad content-length"))?,
        };
        if len > MAX_BODY {
            return Err(ReadError::Bad(413, "request body too large"));
        }
        self.buf.drain(..head_end + 4);
        if len > self.buf.len()
            && req
                .header("expect")
                .is_some_and(|e| e.eq_ignore_ascii_case("100-continue"))
        {
            self.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .map_err(|_| ReadError::Io)?;
        }
        while self.buf.len() < len {
            if self.fill().await? == 0 {
                return Err(ReadError::Io);
            }
        }
        req.body = self.buf.drain(..len).collect();
        Ok(req)
    }

    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }

    /// Reads and discards until the client closes its side (or errors).
    pub(crate) async fn wait_for_client_close(&mut self) {
        let mut tmp = [0u8; 4096];
        loop {
            match self.stream.read(&mut tmp).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }

    /// Arms `SO_LINGER` 0 so that dropping the connection sends a TCP RST.
    pub(crate) fn arm_reset(&self) {
        // Best effort: if this fails the close is a FIN, which tests would notice.
        let _ = self.stream.set_zero_linger();
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The reason phrase for `status`.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        529 => "Site Overloaded",
        _ => "Unknown",
    }
}

fn head(status: u16, headers: &[(String, String)], close: bool) -> String {
    let mut s = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (n, v) in headers {
        s.push_str(n);
        s.push_str(": ");
        s.push_str(v);
        s.push_str("\r\n");
    }
    if close {
        s.push_str("connection: close\r\n");
    } else {
        s.push_str("connection: keep-alive\r\n");
    }
    s
}

/// A complete response with a `Content-Length` body.
pub(crate) fn full_response(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
    close: bool,
) -> Vec<u8> {
    let mut s = head(status, headers, close);
    let _ = write!(s, "content-length: {}\r\n\r\n", body.len());
    let mut out = s.into_bytes();
    out.extend_from_slice(body);
    out
}

/// The head of a `Transfer-Encoding: chunked` response.
pub(crate) fn chunked_head(status: u16, headers: &[(String, String)], close: bool) -> Vec<u8> {
    let mut s = head(status, headers, close);
    s.push_str("transfer-encoding: chunked\r\n\r\n");
    s.into_bytes()
}

/// One chunk of a chunked body.
pub(crate) fn chunk(data: &[u8]) -> Vec<u8> {
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}

/// The terminating chunk of a chunked body.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// Percent-decodes `s` (`+` as space).
pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                if let Ok(v) = u8::from_str_radix(hex, 16) {
                    out.push(v);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The decoded value of `name` in a raw query string.
pub(crate) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (percent_decode(k) == name).then(|| percent_decode(v))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_and_query() {
        assert_eq!(percent_decode("a%20b+c%2"), "a b c%2");
        assert_eq!(percent_decode("%41"), "A");
        assert_eq!(
            query_param("alt=sse&key=k%2Fx", "key").as_deref(),
            Some("k/x")
        );
        assert_eq!(query_param("alt=sse", "key"), None);
    }

    #[test]
    fn chunk_framing() {
        assert_eq!(chunk(b"hello world 1234"), b"10\r\nhello world 1234\r\n");
        let r = full_response(404, &[], b"x", true);
        assert_eq!(
            String::from_utf8_lossy(&r),
            "HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 1\r\n\r\nx"
        );
    }
}
