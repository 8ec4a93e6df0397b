//! A raw-socket HTTP/1.1 client for the server tests: it sends exact bytes and parses exact
//! answers, so every test sees what a client on the wire sees.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wait::{WAIT, bounded};

/// How long [`Client::closed_soon`] gives a server to close: keep-alive connections stay open
/// far longer, closing ones close at once.
const CLOSE_SOON: Duration = Duration::from_secs(1);

/// Port `port` on 127.0.0.1, where the test servers listen.
pub fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
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
    /// The answer a head announces, with no body yet.
    fn from_head(head: &str) -> Answer {
        let mut lines = head.trim_end_matches("\r\n").split("\r\n");
        let status_line = lines.next().unwrap_or_default().to_string();
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or(0);
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.trim().to_string()))
            .collect();
        Answer {
            status_line,
            status,
            headers,
            body: Vec::new(),
            chunked: false,
        }
    }

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
    /// The socket.
    pub stream: TcpStream,
    /// Bytes read but not consumed yet.
    pub buf: Vec<u8>,
    /// Whether the server closed (or reset) the connection.
    pub eof: bool,
}

impl Client {
    /// Connects to `addr` (bounded by [`WAIT`]), with Nagle off so small sends leave at once.
    pub async fn connect(addr: SocketAddr) -> Client {
        let stream = bounded(TcpStream::connect(addr)).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Client::from_stream(stream)
    }

    /// A client on a connection the test already holds.
    pub fn from_stream(stream: TcpStream) -> Client {
        Client {
            stream,
            buf: Vec::new(),
            eof: false,
        }
    }

    /// Writes `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.expect("send");
    }

    /// Closes the sending half: the server reads end of file, and may still answer.
    pub async fn finish_sending(&mut self) {
        self.stream.shutdown().await.expect("shutdown");
    }

    /// Reads once, waiting at most `limit`: `Some(true)` if bytes came (they are added to
    /// `buf`), `Some(false)` at end of stream (or reset), `None` if nothing came in time.
    async fn read_within(&mut self, limit: Duration) -> Option<bool> {
        let mut chunk = [0u8; 16 * 1024];
        match tokio::time::timeout(limit, self.stream.read(&mut chunk)).await {
            Err(_) => None,
            Ok(Ok(0)) | Ok(Err(_)) => {
                self.eof = true;
                Some(false)
            }
            Ok(Ok(read)) => {
                self.buf.extend_from_slice(&chunk[..read]);
                Some(true)
            }
        }
    }

    /// Reads more bytes; false at end of stream (or reset). Fails after [`WAIT`] of silence.
    async fn fill(&mut self) -> bool {
        match self.read_within(WAIT).await {
            Some(more) => more,
            None => panic!("no bytes from the server within {WAIT:?}"),
        }
    }

    /// Reads up to `needle`; returns where it starts in `buf`, or `None` if the server closed
    /// first.
    async fn fill_until(&mut self, needle: &[u8]) -> Option<usize> {
        loop {
            if let Some(at) = find(&self.buf, needle) {
                return Some(at);
            }
            if !self.fill().await {
                return None;
            }
        }
    }

    /// Reads one head and returns it as sent (ending in its blank line), or `None` if the
    /// server closed first.
    pub async fn raw_head(&mut self) -> Option<String> {
        let head_end = self.fill_until(b"\r\n\r\n").await? + 4;
        let head = String::from_utf8_lossy(&self.buf[..head_end]).into_owned();
        self.buf.drain(..head_end);
        Some(head)
    }

    /// Reads one answer (interim ones included); `None` if the server closed first.
    pub async fn answer(&mut self) -> Option<Answer> {
        let mut answer = Answer::from_head(&self.raw_head().await?);
        let status = answer.status;
        if (100..200).contains(&status) || status == 204 || status == 304 {
            return Some(answer);
        }
        if answer.header("transfer-encoding") == Some("chunked") {
            answer.chunked = true;
            loop {
                let line_end = self
                    .fill_until(b"\r\n")
                    .await
                    .expect("closed inside a chunked body");
                let size_text = String::from_utf8_lossy(&self.buf[..line_end]).into_owned();
                let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size");
                self.buf.drain(..line_end + 2);
                self.read_at_least(size + 2, "closed inside a chunk").await;
                answer.body.extend_from_slice(&self.buf[..size]);
                self.buf.drain(..size + 2);
                if size == 0 {
                    break;
                }
            }
        } else if let Some(length) = answer.header("content-length") {
            let length: usize = length.parse().expect("content-length");
            self.read_at_least(length, "closed inside a body").await;
            answer.body = self.buf.drain(..length).collect();
        } else {
            answer.body = self.read_to_close().await;
        }
        Some(answer)
    }

    /// An answer to a HEAD request (or a protocol switch): the head only, whatever its framing
    /// says.
    pub async fn head_answer(&mut self) -> Answer {
        Answer::from_head(&self.raw_head().await.expect("closed before a head"))
    }

    /// Reads until `count` unconsumed bytes are in hand; fails with `closed` at end of stream.
    async fn read_at_least(&mut self, count: usize, closed: &str) {
        while self.buf.len() < count {
            assert!(self.fill().await, "{closed}");
        }
    }

    /// Reads until the unconsumed bytes satisfy `done` (for answers still being written);
    /// fails if the server closes first.
    pub async fn read_until(&mut self, done: impl Fn(&[u8]) -> bool) {
        while !done(&self.buf) {
            assert!(
                self.fill().await,
                "closed early: {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
    }

    /// Reads exactly `expected.len()` bytes and compares them.
    pub async fn expect_bytes(&mut self, expected: &[u8]) {
        while self.buf.len() < expected.len() {
            assert!(
                self.fill().await,
                "closed after {:?}",
                String::from_utf8_lossy(&self.buf)
            );
        }
        let got: Vec<u8> = self.buf.drain(..expected.len()).collect();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(expected)
        );
    }

    /// Everything the server sends until it closes (bounded by [`WAIT`] per read).
    pub async fn read_to_close(&mut self) -> Vec<u8> {
        self.closed().await;
        std::mem::take(&mut self.buf)
    }

    /// Whether the server closes within [`WAIT`]; what it sends meanwhile stays in `buf`.
    pub async fn closed(&mut self) -> bool {
        while !self.eof && self.fill().await {}
        true
    }

    /// Whether nothing arrives within `wait` (false: bytes came, or the server closed).
    pub async fn quiet_for(&mut self, wait: Duration) -> bool {
        self.read_within(wait).await.is_none()
    }

    /// Whether the server closes within a second (keep-alive connections stay open).
    pub async fn closed_soon(&mut self) -> bool {
        if self.eof {
            return true;
        }
        let quiet = self.quiet_for(CLOSE_SOON).await;
        !quiet && self.eof
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

/// Sends `request` on a new connection and returns the head of the answer as sent (ending in
/// its blank line).
pub async fn head_of_answer(addr: SocketAddr, request: &[u8]) -> String {
    let mut client = Client::connect(addr).await;
    client.send(request).await;
    client
        .raw_head()
        .await
        .expect("the server closed before the head ended")
}

/// Sends a plain `GET /` on a new connection to the TLS port `port` (127.0.0.1) and returns
/// what came back before the server closed: at most a TLS alert. Fails unless the server
/// closes within 5 s, well before any handshake timeout: plaintext is refused at once. The TLS
/// tests' check that plaintext on their port is dropped.
pub async fn plaintext_to_tls(port: u16) -> Vec<u8> {
    let mut plain = TcpStream::connect(loopback(port)).await.unwrap();
    plain
        .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut reply = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut reply))
        .await
        .expect("never closed");
    reply
}

/// Where `needle` first starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
