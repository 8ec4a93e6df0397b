//! [`HttpServerOptions`]: Tornado's `HTTPServer` settings, each with its default and what it
//! protects against.

use std::net::IpAddr;
use std::time::Duration;

use super::http2::Http2Config;
use crate::h1::Limits;
use crate::httputil::FormLimits;

/// Everything one [`HttpServer`](super::HttpServer) holds its connections to.
///
/// Set through the server's builder methods, which document each default; read by the
/// connection actors (one shared copy per server).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpServerOptions {
    /// Trust `X-Real-Ip` / `X-Forwarded-For` and `X-Scheme` / `X-Forwarded-Proto` for
    /// `remote_ip` and `protocol` (the server runs behind a reverse proxy). Default off.
    pub xheaders: bool,
    /// Proxies whose addresses are skipped from the right of `X-Forwarded-For`. Default empty.
    pub trusted_downstream: Vec<IpAddr>,
    /// The codec's limits: `max_head_size` is `max_header_size`, `max_body_size` is
    /// `max_body_size`.
    pub limits: Limits,
    /// Limits on parsing arguments and files out of a query or a form body.
    pub form_limits: FormLimits,
    /// Longest wait for a whole request head, from its first byte (or from the connection's
    /// start for the first request). Default 5 s.
    pub header_timeout: Duration,
    /// Longest wait for the next bytes of a request body while one is being read. Default 60 s.
    pub body_timeout: Duration,
    /// How long a keep-alive connection may sit between requests (HTTP/2: with no stream
    /// open, then GOAWAY). Default 60 s.
    pub idle_connection_timeout: Duration,
    /// How long answer bytes may wait for a client that reads none of them: past it the
    /// connection is dropped, the handlers' pending writes fail with a closed error, and the
    /// buffers are released. The clock restarts at every byte the client takes, so a slow
    /// reader is not cut off, only a stopped one. Default 60 s (Tornado has no such limit: its
    /// streams wait for ever).
    pub write_timeout: Duration,
    /// Inflate `Content-Encoding: gzip` request bodies (the inflated size is held to
    /// `max_body_size`). Default off.
    pub decompress_request: bool,
    /// Most bytes read from the socket at once while a body arrives, and so the largest body
    /// chunk a streaming handler receives. Default 64 KiB.
    pub chunk_size: usize,
    /// Close every connection after one response. Default off.
    pub no_keep_alive: bool,
    /// Most requests of one connection read ahead of their responses (pipelining). Default 16.
    pub max_pipelined_requests: usize,
    /// Body chunks a streaming handler may leave unread before the connection stops reading
    /// the socket. Default 8 (so at most 8 × `chunk_size` buffered).
    pub body_queue_chunks: usize,
    /// Response bytes the connection holds for a client that does not read before it stops
    /// taking new requests and streamed chunks. Default 1 MiB.
    pub max_write_buffer_size: usize,
    /// HTTP/2's settings when it is on: `h2` offered by ALPN under TLS, and cleartext HTTP/2
    /// with prior knowledge (h2c) recognised by its preface on plain listeners. Default
    /// `None`: HTTP/1.1 only.
    pub http2: Option<Http2Config>,
}

impl HttpServerOptions {
    /// Default of [`header_timeout`](Self::header_timeout): 5 s.
    pub const DEFAULT_HEADER_TIMEOUT: Duration = Duration::from_secs(5);
    /// Default of [`body_timeout`](Self::body_timeout): 60 s.
    pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default of [`idle_connection_timeout`](Self::idle_connection_timeout): 60 s.
    pub const DEFAULT_IDLE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default of [`write_timeout`](Self::write_timeout): 60 s.
    pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(60);
    /// Default of [`chunk_size`](Self::chunk_size): 64 KiB (Tornado's).
    pub const DEFAULT_CHUNK_SIZE: usize = 64 * 1024;
    /// Default of [`max_pipelined_requests`](Self::max_pipelined_requests): 16.
    pub const DEFAULT_MAX_PIPELINED_REQUESTS: usize = 16;
    /// Default of [`body_queue_chunks`](Self::body_queue_chunks): 8.
    pub const DEFAULT_BODY_QUEUE_CHUNKS: usize = 8;
    /// Default of [`max_write_buffer_size`](Self::max_write_buffer_size): 1 MiB.
    pub const DEFAULT_MAX_WRITE_BUFFER_SIZE: usize = 1024 * 1024;
}

impl Default for HttpServerOptions {
    fn default() -> Self {
        HttpServerOptions {
            xheaders: false,
            trusted_downstream: Vec::new(),
            limits: Limits::default(),
            form_limits: FormLimits::default(),
            header_timeout: Self::DEFAULT_HEADER_TIMEOUT,
            body_timeout: Self::DEFAULT_BODY_TIMEOUT,
            idle_connection_timeout: Self::DEFAULT_IDLE_CONNECTION_TIMEOUT,
            write_timeout: Self::DEFAULT_WRITE_TIMEOUT,
            decompress_request: false,
            chunk_size: Self::DEFAULT_CHUNK_SIZE,
            no_keep_alive: false,
            max_pipelined_requests: Self::DEFAULT_MAX_PIPELINED_REQUESTS,
            body_queue_chunks: Self::DEFAULT_BODY_QUEUE_CHUNKS,
            max_write_buffer_size: Self::DEFAULT_MAX_WRITE_BUFFER_SIZE,
            http2: None,
        }
    }
}
