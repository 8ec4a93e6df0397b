//! Line-oriented TCP for the server tests: Tornado's echo handler, and a client that sends
//! bytes and reads answers a line at a time.

use std::net::SocketAddr;

use cyclone::iostream::IoStream;
use cyclone::tcpserver::ConnectionInfo;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::wait::bounded;

/// Tornado's echo handler: each line back to the sender.
pub async fn echo(mut stream: IoStream<TcpStream>, _info: ConnectionInfo) {
    while let Ok(line) = stream.read_until(b"\n", None).await {
        if stream.write(line).await.is_err() {
            break;
        }
    }
}

/// A line-oriented test client.
pub struct LineClient {
    /// Buffered so `line` can read up to a newline.
    pub stream: BufReader<TcpStream>,
}

impl LineClient {
    /// Connects to `addr` (bounded).
    pub async fn connect(addr: SocketAddr) -> LineClient {
        let stream = bounded(TcpStream::connect(addr)).await.unwrap();
        LineClient {
            stream: BufReader::new(stream),
        }
    }

    /// Writes `bytes`.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.stream.get_mut().write_all(bytes).await.unwrap();
    }

    /// The next line, or an empty string at end of stream (bounded).
    pub async fn line(&mut self) -> String {
        let mut line = String::new();
        bounded(self.stream.read_line(&mut line)).await.unwrap();
        line
    }

    /// Sends `line` and reads the answering line.
    pub async fn exchange(&mut self, line: &str) -> String {
        self.send(line.as_bytes()).await;
        self.line().await
    }

    /// Whether the server closes the connection (end of stream or reset), sending nothing
    /// first (bounded).
    pub async fn sees_close(&mut self) -> bool {
        let mut rest = Vec::new();
        // A reset ends the stream too: either way the server closed.
        let _ = bounded(self.stream.read_to_end(&mut rest)).await;
        rest.is_empty()
    }
}
