//! Small raw HTTP servers for the client tests: each accepts on 127.0.0.1:0, counts accepted
//! connections, and hands every connection to the test's own async handler, so a test can
//! misbehave in exactly the way it needs. The request readers work on any stream, TLS too.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running raw server.
pub struct RawServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Connections accepted so far.
    pub accepted: Arc<AtomicUsize>,
}

impl RawServer {
    /// `http://127.0.0.1:port` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// Serves every accepted connection with `handler` on its own task.
pub async fn serve<F, Fut>(handler: F) -> RawServer
where
    F: Fn(TcpStream) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(handler.clone()(stream));
        }
    });
    RawServer { addr, accepted }
}

/// Opens the tunnel a proxy's CONNECT request for `target` (`host:port`) asks for: to that
/// port on 127.0.0.1, answering `200 Connection established` and copying both ways until
/// either side closes; nothing is answered if the port refuses. The CONNECT proxies of the
/// client tests do this after their own checks.
pub async fn tunnel(stream: &mut TcpStream, target: &str) {
    let port = target.rsplit(':').next().unwrap_or("0");
    let Ok(mut upstream) = TcpStream::connect(format!("127.0.0.1:{port}")).await else {
        return;
    };
    let _ = stream
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await;
    let _ = tokio::io::copy_bidirectional(stream, &mut upstream).await;
}

/// A request as the server read it.
#[derive(Debug, Default, Clone)]
pub struct Request {
    /// The request line, e.g. `GET / HTTP/1.1`.
    pub line: String,
    /// Field lines as (lowercased name, value).
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl Request {
    /// The first value of a field.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// The request target.
    pub fn target(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or("")
    }

    /// The method.
    pub fn method(&self) -> &str {
        self.line.split(' ').next().unwrap_or("")
    }
}

/// Reads once more into `buf`; `None` at end of stream (or on an error).
async fn read_more<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    match stream.read(&mut chunk).await {
        Ok(0) | Err(_) => None,
        Ok(read) => {
            buf.extend_from_slice(&chunk[..read]);
            Some(())
        }
    }
}

/// Reads until `buf` holds `want` bytes; `None` if the stream ends first.
async fn fill<S: AsyncRead + Unpin>(stream: &mut S, buf: &mut Vec<u8>, want: usize) -> Option<()> {
    while buf.len() < want {
        read_more(stream, buf).await?;
    }
    Some(())
}

/// Reads until `buf` holds `needle`; returns where it starts, or `None` at end of stream.
async fn fill_until<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    needle: &[u8],
) -> Option<usize> {
    loop {
        if let Some(at) = buf
            .windows(needle.len())
            .position(|window| window == needle)
        {
            return Some(at);
        }
        read_more(stream, buf).await?;
    }
}

/// Reads one request head only (no body), keeping extra bytes in `buf`.
pub async fn read_request_head<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<Request> {
    let length = fill_until(stream, buf, b"\r\n\r\n").await? + 4;
    let head = String::from_utf8_lossy(&buf[..length]).into_owned();
    buf.drain(..length);
    let mut lines = head.split("\r\n");
    let line = lines.next()?.to_owned();
    let headers = lines
        .filter(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(Request {
        line,
        headers,
        body: Vec::new(),
    })
}

/// Reads the body of `request` (Content-Length or chunked) from `buf` and the stream.
pub async fn read_request_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
    request: &mut Request,
) -> Option<()> {
    if let Some(length) = request.header("content-length") {
        let length: usize = length.parse().ok()?;
        fill(stream, buf, length).await?;
        request.body = buf.drain(..length).collect();
    } else if request.header("transfer-encoding") == Some("chunked") {
        loop {
            let line_end = fill_until(stream, buf, b"\r\n").await?;
            let size_text = String::from_utf8_lossy(&buf[..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
            buf.drain(..line_end + 2);
            if size == 0 {
                fill(stream, buf, 2).await?;
                buf.drain(..2);
                break;
            }
            fill(stream, buf, size + 2).await?;
            request.body.extend(buf.drain(..size));
            buf.drain(..2);
        }
    }
    Some(())
}

/// Reads one whole request.
pub async fn read_request<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut Vec<u8>,
) -> Option<Request> {
    let mut request = read_request_head(stream, buf).await?;
    read_request_body(stream, buf, &mut request).await?;
    Some(request)
}

/// A complete `200 OK` with a Content-Length body.
pub fn ok(body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

/// Answers every request on every connection with `respond(request)`, keeping connections
/// alive until the client closes them.
pub async fn serve_each<R>(respond: R) -> RawServer
where
    R: Fn(&Request) -> Vec<u8> + Clone + Send + Sync + 'static,
{
    serve(move |mut stream: TcpStream| {
        let respond = respond.clone();
        async move {
            let mut buf = Vec::new();
            while let Some(request) = read_request(&mut stream, &mut buf).await {
                if stream.write_all(&respond(&request)).await.is_err() {
                    return;
                }
            }
        }
    })
    .await
}

/// An echo of the request as the response body: the request line, fields and body.
pub fn echo(request: &Request) -> Vec<u8> {
    let mut text = format!("{}\n", request.line);
    for (name, value) in &request.headers {
        text.push_str(&format!("{name}: {value}\n"));
    }
    text.push('\n');
    let mut body = text.into_bytes();
    body.extend_from_slice(&request.body);
    ok(&body)
}
