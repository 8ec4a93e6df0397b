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

/// A reason phrase that cannot go in a status line: it holds CR, LF, another control
/// character or a non-ASCII one (RFC 9112 §4). Returned by
/// [`HttpResponse::with_reason`](super::HttpResponse::with_reason) and
/// [`ResponseWriter::set_reason`](super::ResponseWriter::set_reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a reason phrase may hold only visible ASCII, spaces and tabs")]
pub struct InvalidReasonPhrase;

impl InvalidReasonPhrase {
    /// `Ok` if `reason` may go in a status line, the one rule every setter of a reason uses.
    pub fn check(reason: &str) -> Result<(), InvalidReasonPhrase> {
        if crate::h1::is_reason_phrase(reason) {
            Ok(())
        } else {
            Err(InvalidReasonPhrase)
        }
    }
}

/// An [`EntityTag`](super::EntityTag) holding a character no header field may carry (CR, LF,
/// another control character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an entity tag may hold only visible characters, spaces and tabs")]
pub struct InvalidEntityTag;

/// Why a [`ResponseWriter`](super::ResponseWriter) could not send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriterError {
    /// The connection is gone (the client left, a timeout, or the server closed it); nothing
    /// more can be sent.
    #[error("the connection is closed")]
    Closed,
    /// [`upgrade`](super::ResponseWriter::upgrade) after a flush: the head is gone, too late
    /// to switch protocols.
    #[error("the response head was already sent")]
    HeadSent,
    /// The writer was dropped before it finished the answer (the connection answers 500, or
    /// cuts a streamed answer short).
    #[error("the response writer was dropped unfinished")]
    Abandoned,
    /// [`finish_with_trailers`](super::ResponseWriter::finish_with_trailers) with a field that
    /// must not be a trailer (RFC 9110 §6.5.1: framing, routing, content metadata, connection
    /// fields); nothing was sent.
    #[error("the field {0} may not be sent as a trailer")]
    ForbiddenTrailer(http::HeaderName),
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
