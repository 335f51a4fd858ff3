//! A raw HTTP/1.1 server on 127.0.0.1 for the hostile cases the emulator does not script: a
//! redirect to another host, an endless SSE answer (Anthropic protocol), an endless run of SSE
//! comments, and one endless SSE line. It records every request it receives and counts the bytes it sends. Plain threads,
//! no runtime, so both `hostile_bounds.rs` and `benches/hostile.rs` (which includes this file
//! with `#[path]`) can use it.

#![allow(dead_code, reason = "the tests and the benchmark use different parts")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server does with every request.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// `307 Temporary Redirect` to `location`.
    Redirect {
        /// The `Location` header.
        location: String,
    },
    /// A 200 Anthropic event stream whose text never ends: `piece` bytes per delta, a pause
    /// of `interval` between deltas, until `max_bytes` were sent (or forever).
    EndlessAnswer {
        /// Text bytes per delta.
        piece: usize,
        /// Pause between deltas.
        interval: Duration,
        /// Stop after this many bytes of body.
        max_bytes: Option<u64>,
    },
    /// A 200 Anthropic event stream of SSE comment lines (16 KiB each) and no answer, until
    /// `max_bytes` were sent; then the connection closes without a terminal event.
    EndlessComments {
        /// Stop after this many bytes of body.
        max_bytes: Option<u64>,
    },
    /// A 200 event stream that is one `data:` line that never ends.
    GiantLine {
        /// Stop after this many bytes of body.
        max_bytes: Option<u64>,
    },
}

/// A running server; it stops with the process.
pub struct Server {
    addr: std::net::SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    sent: Arc<AtomicU64>,
}

impl Server {
    /// Starts the server on a free port of 127.0.0.1.
    pub fn start(behaviour: Behaviour) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicU64::new(0));
        let (reqs, count) = (requests.clone(), sent.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (b, reqs, count) = (behaviour.clone(), reqs.clone(), count.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, &b, &reqs, &count);
                });
            }
        });
        Server {
            addr,
            requests,
            sent,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request received (head and body, lossily decoded), in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }

    /// Bytes of response body sent so far, over all connections.
    pub fn bytes_sent(&self) -> u64 {
        self.sent.load(Ordering::SeqCst)
    }
}

/// Reads one request (head, then `content-length` bytes of body).
fn read_request(conn: &TcpStream) -> std::io::Result<String> {
    let mut r = BufReader::new(conn);
    let mut head = String::new();
    let mut len = 0usize;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().unwrap_or(0);
        }
        let end = line == "\r\n";
        head.push_str(&line);
        if end {
            break;
        }
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    head.push_str(&String::from_utf8_lossy(&body));
    Ok(head)
}

fn handle(
    mut conn: TcpStream,
    b: &Behaviour,
    reqs: &Mutex<Vec<String>>,
    sent: &AtomicU64,
) -> std::io::Result<()> {
    let req = read_request(&conn)?;
    reqs.lock().expect("lock").push(req);
    let stream_head =
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    let push = |conn: &mut TcpStream, bytes: &[u8]| -> std::io::Result<()> {
        conn.write_all(bytes)?;
        sent.fetch_add(bytes.len() as u64, Ordering::SeqCst);
        Ok(())
    };
    match b {
        Behaviour::Redirect { location } => {
            let resp = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
            conn.write_all(resp.as_bytes())
        }
        Behaviour::EndlessAnswer {
            piece,
            interval,
            max_bytes,
        } => {
            conn.write_all(stream_head.as_bytes())?;
            push(
                &mut conn,
                b"event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"endless\",\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}}\n\nevent: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            )?;
            let delta = format!(
                "event: content_block_delta\ndata: {{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{{\"type\":\"text_delta\",\"text\":\"{}\"}}}}\n\n",
                "x".repeat(*piece)
            );
            loop {
                if max_bytes.is_some_and(|m| sent.load(Ordering::SeqCst) >= m) {
                    return Ok(());
                }
                push(&mut conn, delta.as_bytes())?;
                if !interval.is_zero() {
                    std::thread::sleep(*interval);
                }
            }
        }
        Behaviour::EndlessComments { max_bytes } => {
            conn.write_all(stream_head.as_bytes())?;
            let mut line = vec![b'x'; 16 * 1024];
            line[0] = b':';
            line[16 * 1024 - 1] = b'\n';
            loop {
                if max_bytes.is_some_and(|m| sent.load(Ordering::SeqCst) >= m) {
                    return Ok(());
                }
                push(&mut conn, &line)?;
            }
        }
        Behaviour::GiantLine { max_bytes } => {
            conn.write_all(stream_head.as_bytes())?;
            push(&mut conn, b"event: content_block_delta\ndata: ")?;
            let chunk = vec![b'x'; 64 * 1024];
            loop {
                if max_bytes.is_some_and(|m| sent.load(Ordering::SeqCst) >= m) {
                    return Ok(());
                }
                push(&mut conn, &chunk)?;
            }
        }
    }
}
