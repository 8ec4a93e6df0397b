//! What can go wrong for the server, a response writer and a streamed request body.

use cyclone_actors::tcpserver::TcpServerError;
use http::StatusCode;

/// Why an [`HttpServer`](super::HttpServer) could not start or serve.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpServerError {
    /// The TCP layer failed: binding, starting workers, no actix loop, signals.
    #[error(transparent)]
    Tcp(#[from] TcpServerError),
}

/// Why a [`ResponseWriter`](super::ResponseWriter) could not send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriterError {
    /// The connection is gone (the client left, a timeout, or the server closed it); nothing
    /// more can be sent.
    #[error("the connection is closed")]
    Closed,
    /// [`respond`](super::ResponseWriter::respond) after streamed data filled the queue; use
    /// the async `flush`/`finish` instead.
    #[error("the response queue is full")]
    Full,
}

/// Why a streamed request body ended early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestBodyError {
    /// The client closed the connection before the end of the body.
    #[error("the connection closed before the end of the body")]
    Incomplete,
    /// The body broke its framing or a limit; the connection answers `status` and closes.
    #[error("invalid request body (answered {status})")]
    Invalid {
        /// The status the connection answers with.
        status: StatusCode,
    },
    /// No body bytes arrived within the server's `body_timeout`.
    #[error("timed out waiting for the request body")]
    Timeout,
}
