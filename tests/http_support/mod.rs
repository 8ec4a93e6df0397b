//! A raw-socket HTTP/1.1 client for the server tests: it sends exact bytes and parses exact
//! answers, so every test sees what a client on the wire sees.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use cyclone::httpserver::{HttpServer, HttpService};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// Serves `server` on 127.0.0.1, port 0, on the test's loop; returns it and its address.
pub fn listen<S: HttpService>(mut server: HttpServer<S>) -> (HttpServer<S>, SocketAddr) {
    server.listen_on(0, Some("127.0.0.1")).unwrap();
    let addr = server.local_addrs()[0];
    (server, addr)
}

/// One parsed answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// `HTTP/1.1 200 OK`.
    pub status_line: String,
    /// The status code.
    pub status: u16,
    /// Header fields, names lower-cased, in order.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Whether the body was chunked.
    pub chunked: bool,
}

impl Answer {
    /// The first value of `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }
}

/// A client connection with its unread bytes.
pub struct Client {
    pub stream: TcpStream,
    pub buf: Vec<u8>,
    pub eof: bool,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = tokio::time::timeout(WAIT, TcpStream::connect(addr))
            .await
            .expect("connect timed out")
            .expect("connect");
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
            eof: false,
        }
    }

    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// Reads more bytes; false at end of stream (or reset).
    async fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 16 * 1024];
        match tokio::time::timeout(WAIT, self.stream.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.eof = true;
                false
            }
            Ok(Ok(read)) => {
                self.buf.extend_from_slice(&chunk[..read]);
                true
            }
            Err(_) => panic!("no bytes from the server within {WAIT:?}"),
        }
    }

    /// Reads one answer (interim ones included); `None` if the server closed first.
    pub async fn answer(&mut self) -> Option<Answer> {
        let head_end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end;
            }
            if !self.fill().await {
                return None;
            }
        };
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end + 4);
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_string();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let headers: Vec<(String, String)> = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        let mut answer = Answer {
            status_line,
            status,
            headers,
            body: Vec::new(),
            chunked: false,
        };
        if (100..200).contains(&status) || status == 204 || status == 304 {
            return Some(answer);
        }
        if answer.header("transfer-encoding") == Some("chunked") {
            answer.chunked = true;
            loop {
                let line_end = loop {
                    if let Some(end) = find(&self.buf, b"\r\n") {
                        break end;
                    }
                    assert!(self.fill().await, "closed inside a chunked body");
                };
                let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
                let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size");
                self.buf.drain(..line_end + 2);
                while self.buf.len() < size + 2 {
                    assert!(self.fill().await, "closed inside a chunk");
                }
                answer.body.extend_from_slice(&self.buf[..size]);
                self.buf.drain(..size + 2);
                if size == 0 {
                    break;
                }
            }
        } else if let Some(length) = answer.header("content-length") {
            let length: usize = length.parse().expect("content-length");
            while self.buf.len() < length {
                assert!(self.fill().await, "closed inside a body");
            }
            answer.body = self.buf.drain(..length).collect();
        } else {
            while self.fill().await {}
            answer.body = std::mem::take(&mut self.buf);
        }
        Some(answer)
    }

    /// An answer to a HEAD request: the head only, whatever its framing says.
    pub async fn head_answer(&mut self) -> Answer {
        let head_end = loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                break end;
            }
            assert!(self.fill().await, "closed before a head");
        };
        let mut raw = self.buf.drain(..head_end + 4).collect::<Vec<u8>>();
        raw.truncate(head_end);
        let head = String::from_utf8_lossy(&raw).into_owned();
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_string();
        Answer {
            status: status_line
                .split(' ')
                .nth(1)
                .and_then(|code| code.parse().ok())
                .unwrap_or(0),
            status_line,
            headers: lines
                .filter_map(|line| line.split_once(':'))
                .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
                .collect(),
            body: Vec::new(),
            chunked: false,
        }
    }

    /// Whether the server closes within `WAIT`, discarding what it sends meanwhile.
    pub async fn closed(&mut self) -> bool {
        while !self.eof {
            if !self.fill().await {
                return true;
            }
        }
        true
    }

    /// Whether any byte arrives within `wait` (false: nothing, connection still open).
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        let mut chunk = [0u8; 1024];
        match tokio::time::timeout(wait, self.stream.read(&mut chunk)).await {
            Err(_) => true,
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.eof = true;
                false
            }
            Ok(Ok(read)) => {
                self.buf.extend_from_slice(&chunk[..read]);
                false
            }
        }
    }
}

/// Sends `request` on a new connection and returns the first answer and whether the server
/// then closed.
pub async fn one_shot(addr: SocketAddr, request: &[u8]) -> (Answer, bool) {
    let mut client = Client::connect(addr).await;
    client.send(request).await;
    let answer = client.answer().await.expect("an answer");
    let closed = client.closed_soon().await;
    (answer, closed)
}

impl Client {
    /// Whether the server closes within a second (keep-alive connections stay open).
    pub async fn closed_soon(&mut self) -> bool {
        if self.eof {
            return true;
        }
        let mut chunk = [0u8; 1024];
        match tokio::time::timeout(Duration::from_secs(1), self.stream.read(&mut chunk)).await {
            Err(_) => false,
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.eof = true;
                true
            }
            Ok(Ok(read)) => {
                self.buf.extend_from_slice(&chunk[..read]);
                false
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
