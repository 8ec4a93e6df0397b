//! What can go wrong in a fetch: one typed variant per failure, never a hang.

use std::io;
use std::time::Duration;

use cyclone_actors::tcpclient::ConnectError;
use cyclone_actors::tls::{HandshakeError, TlsConfigError};

use super::response::HttpResponse;
use crate::h1::ParseError;

/// Which wait ran out; Tornado's `HTTPTimeoutError` messages name the first three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutPhase {
    /// Waiting for one of the client's `max_clients` slots ("Timeout in request queue").
    Queue,
    /// Resolving and connecting, TLS and proxy tunnel included ("Timeout while connecting").
    Connect,
    /// Anything after the connection was made, up to the end of the body
    /// ("Timeout during request").
    Request,
    /// An HTTP/2 keep-alive PING went unanswered for `http2_keep_alive_timeout`: the server
    /// is gone, and the connection with it (see
    /// [`ClientOptions::http2_keep_alive_interval`](super::ClientOptions::http2_keep_alive_interval)).
    KeepAlive,
}

impl std::fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Queue => "in request queue",
            TimeoutPhase::Connect => "while connecting",
            TimeoutPhase::Request => "during request",
            TimeoutPhase::KeepAlive => "waiting for a keep-alive PING's answer",
        })
    }
}

/// Why a fetch failed (Tornado's `HTTPClientError` and its 599 cases, split into types).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpClientError {
    /// The server answered with a status outside 2xx and `raise_error` is on. The whole response
    /// (headers, body, effective URL) is kept for inspection.
    #[error("HTTP {code}: {}", .response.reason)]
    Http {
        /// The status code, also in `response.code`.
        code: u16,
        /// The response that carried it.
        response: Box<HttpResponse>,
    },
    /// More than `max_redirects` redirects in a row (a redirect loop ends here).
    #[error("stopped after {max_redirects} redirects at {}", .response.effective_url)]
    TooManyRedirects {
        /// The limit that was reached.
        max_redirects: usize,
        /// The last redirect response, not followed.
        response: Box<HttpResponse>,
    },
    /// A wait ran out; `after` is the configured limit.
    #[error("timeout {phase} after {after:?}")]
    Timeout {
        /// Which wait it was.
        phase: TimeoutPhase,
        /// The configured limit that was reached.
        after: Duration,
    },
    /// Resolution or the TCP connect failed.
    #[error(transparent)]
    Connect(#[from] ConnectError),
    /// The server closed the connection before a complete response head arrived (Tornado's
    /// `HTTPStreamClosedError`).
    #[error("connection closed before a response arrived")]
    ConnectionClosed,
    /// The response broke HTTP/1.1 or a limit: an oversize head (`max_header_size`), an invalid
    /// chunk size, a body cut short (`BodyError::Incomplete`), a body above `max_body_size`.
    #[error("invalid response: {0}")]
    InvalidResponse(#[from] ParseError),
    /// A socket read or write failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The URL could not be parsed, or has no host.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A scheme other than `http` and `https`.
    #[error("unsupported URL scheme {0:?}")]
    UnsupportedScheme(String),
    /// The request itself is inconsistent, e.g. a POST without a body or a GET with one while
    /// `allow_nonstandard_methods` is off (Tornado's `ValueError`).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The streaming body producer failed; the request was abandoned mid-body.
    #[error("body producer failed: {0}")]
    BodyProducer(io::Error),
    /// The response body could not be decompressed (`decompress_response`).
    #[error("cannot decompress response body: {0}")]
    Decompress(io::Error),
    /// The proxy refused the CONNECT tunnel with this status.
    #[error("proxy refused the tunnel with HTTP {0}")]
    ProxyRefused(u16),
    /// The TLS handshake failed: the certificate was not accepted (untrusted, wrong name,
    /// expired), the server sent an alert, or it does not speak TLS.
    #[error(transparent)]
    Tls(#[from] HandshakeError),
    /// The TLS settings could not be used: an unreadable `ca_certs` or `client_cert` file,
    /// a key that does not match its certificate.
    #[error(transparent)]
    TlsConfig(#[from] TlsConfigError),
    /// More requests are waiting for a slot than `max_queue_size` allows.
    #[error("request queue is full ({0} waiting)")]
    QueueFull(usize),
    /// The HTTP/2 server reset the request's stream (`RST_STREAM`) before the response was
    /// complete: `REFUSED_STREAM` (not processed, safe to send again), `CANCEL`,
    /// `PROTOCOL_ERROR`, and so on.
    #[error("HTTP/2 stream reset by the server: {reason}")]
    Http2StreamReset {
        /// The error code the server gave.
        reason: h2::Reason,
    },
    /// The HTTP/2 server ended the connection (`GOAWAY`) before the response was complete.
    /// `NO_ERROR` is a graceful close (shutdown, idle); anything else names what it objected to.
    #[error("HTTP/2 connection closed by the server (GOAWAY {reason})")]
    Http2GoAway {
        /// The error code the server gave.
        reason: h2::Reason,
    },
    /// The HTTP/2 exchange broke the protocol as this client sees it (a malformed frame or
    /// header block, a body longer or shorter than its `Content-Length`, a flow-control
    /// violation), or a request `h2` refuses to encode. The client reset the stream or
    /// closed the connection.
    #[error("HTTP/2 error: {0}")]
    Http2(h2::Error),
}

impl HttpClientError {
    /// Sorts an error of the `h2` crate into one variant: what the server said (a stream
    /// reset, a GOAWAY), the socket failing, or the protocol broken on our side.
    pub(crate) fn from_h2(error: h2::Error) -> HttpClientError {
        if error.is_io() {
            return match error.into_io() {
                Some(error) => HttpClientError::Io(error),
                None => HttpClientError::ConnectionClosed,
            };
        }
        match error.reason() {
            Some(reason) if error.is_remote() && error.is_reset() => {
                HttpClientError::Http2StreamReset { reason }
            }
            Some(reason) if error.is_remote() && error.is_go_away() => {
                HttpClientError::Http2GoAway { reason }
            }
            _ => HttpClientError::Http2(error),
        }
    }

    /// The response carried by [`Http`](Self::Http) and
    /// [`TooManyRedirects`](Self::TooManyRedirects), if any.
    pub fn response(&self) -> Option<&HttpResponse> {
        match self {
            HttpClientError::Http { response, .. }
            | HttpClientError::TooManyRedirects { response, .. } => Some(response),
            _ => None,
        }
    }

    /// Tornado's `code`: the HTTP status for a response error, 599 for everything else
    /// (timeouts, closed connections, invalid responses).
    pub fn code(&self) -> u16 {
        match self {
            HttpClientError::Http { code, .. } => *code,
            HttpClientError::TooManyRedirects { response, .. } => response.code,
            _ => 599,
        }
    }
}
