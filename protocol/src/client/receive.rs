//! Receiving the final response of one hop, whatever carried it (an HTTP/1.1 connection or an
//! HTTP/2 stream): the redirect decision, the `header_callback`, the inflater, the body sink
//! with its `max_body_size`, and the [`Outcome`] the hop returns.
//!
//! Both exchanges hand this module the same three things (a final head, body pieces, the end),
//! so the options behave the same over either protocol.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_ENCODING;
use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, Version};

use super::body::BodySink;
use super::decompress::{Coding, Decompressor};
use super::error::HttpClientError;
use super::redirect::location_to_follow;
use super::request::HttpRequest;
use crate::h1::{BodyError, ParseError};

/// What one exchange produced.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The protocol that carried the response, for `HttpResponse::version`.
    pub(crate) version: Version,
    /// The final status.
    pub(crate) status: StatusCode,
    /// The final response's fields (`Content-Encoding` renamed when inflated).
    pub(crate) headers: HeaderMap,
    /// The gathered body; empty when streamed or when the response is a redirect to follow.
    pub(crate) body: Bytes,
    /// Trailer fields, if the body had any.
    pub(crate) trailers: Option<HeaderMap>,
    /// The `Location` to follow, when this response is a redirect that will be followed.
    pub(crate) follow: Option<HeaderValue>,
    /// Whether an HTTP/1.1 connection may carry another request (always false for HTTP/2,
    /// whose connection is shared rather than handed back).
    pub(crate) reusable: bool,
    /// From the start of the hop to the final head.
    pub(crate) first_byte: Duration,
}

/// The final response of a hop while its body arrives.
pub(crate) struct Receiving {
    /// The protocol that carried it.
    version: Version,
    /// The final status.
    status: StatusCode,
    /// The final fields.
    headers: HeaderMap,
    /// Where the (inflated) bytes go.
    sink: Rc<RefCell<BodySink>>,
    /// The inflater, when the body is gzip or deflate and `decompress_response` is on.
    decompressor: Option<Decompressor>,
    /// The redirect to follow, whose body is discarded.
    follow: Option<HeaderValue>,
    /// When the head arrived.
    first_byte: Duration,
}

impl std::fmt::Debug for Receiving {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiving")
            .field("version", &self.version)
            .field("status", &self.status)
            .field("follow", &self.follow)
            .finish_non_exhaustive()
    }
}

/// The error of a body above `max_body_size`, the same whichever protocol carried it.
pub(crate) fn too_large() -> HttpClientError {
    HttpClientError::InvalidResponse(ParseError::Body(BodyError::TooLarge))
}

impl Receiving {
    /// Starts receiving a final head: decides whether it is a redirect to follow, calls the
    /// `header_callback` (not for a followed redirect), and picks the body's destination and
    /// inflater. `content_length` only sizes the buffer.
    pub(crate) fn start(
        request: &HttpRequest,
        version: Version,
        status: StatusCode,
        mut headers: HeaderMap,
        content_length: Option<u64>,
        first_byte: Duration,
    ) -> Self {
        let follow = if request.max_redirects > 0 {
            location_to_follow(request, status, &headers).cloned()
        } else {
            None
        };
        let sink = Rc::new(RefCell::new(match (&follow, &request.streaming_callback) {
            (Some(_), _) => BodySink::discard(request.max_body_size),
            (None, Some(callback)) => BodySink::stream(Rc::clone(callback), request.max_body_size),
            (None, None) => BodySink::buffer(request.max_body_size, content_length),
        }));
        let coding = headers.get(CONTENT_ENCODING).and_then(Coding::from_header);
        let decompressor = match coding {
            Some(coding) if request.decompress_response && follow.is_none() => {
                if let Some(value) = headers.remove(CONTENT_ENCODING) {
                    headers.insert(
                        HeaderName::from_static("x-consumed-content-encoding"),
                        value,
                    );
                }
                Some(Decompressor::new(coding, Rc::clone(&sink)))
            }
            _ => None,
        };
        if follow.is_none() {
            call_header_callback(request, version, status, &headers);
        }
        Receiving {
            version,
            status,
            headers,
            sink,
            decompressor,
            follow,
            first_byte,
        }
    }

    /// Whether this response is a redirect that will be followed (its body is not wanted).
    pub(crate) fn follows(&self) -> bool {
        self.follow.is_some()
    }

    /// Whether this is a 101, after which the connection carries another protocol.
    pub(crate) fn is_switching_protocols(&self) -> bool {
        self.status == StatusCode::SWITCHING_PROTOCOLS
    }

    /// Takes the next piece of the body (inflating it if need be).
    pub(crate) fn data(&mut self, data: Bytes) -> Result<(), HttpClientError> {
        match &mut self.decompressor {
            Some(decompressor) => decompressor
                .write(&data)
                .map_err(|error| self.body_error(error)),
            None => self
                .sink
                .borrow_mut()
                .deliver(data)
                .map_err(|_| too_large()),
        }
    }

    /// The end of the body: flushes the inflater and returns what the hop produced.
    pub(crate) fn finish(
        mut self,
        trailers: Option<HeaderMap>,
        reusable: bool,
    ) -> Result<Outcome, HttpClientError> {
        if let Some(decompressor) = &mut self.decompressor
            && let Err(error) = decompressor.finish()
        {
            return Err(self.body_error(error));
        }
        let body = self.sink.borrow_mut().take_body();
        Ok(Outcome {
            version: self.version,
            status: self.status,
            headers: self.headers,
            body,
            trailers,
            follow: self.follow,
            reusable,
            first_byte: self.first_byte,
        })
    }

    /// Maps a failed hand-over to the sink or inflater to one error.
    fn body_error(&self, error: std::io::Error) -> HttpClientError {
        if self.sink.borrow().too_large {
            too_large()
        } else {
            HttpClientError::Decompress(error)
        }
    }
}

/// Tornado's `header_callback` lines for a final head: the status line (`HTTP/2 200 OK` for
/// HTTP/2, as curl writes it), each field, then the blank line.
fn call_header_callback(
    request: &HttpRequest,
    version: Version,
    status: StatusCode,
    headers: &HeaderMap,
) {
    let Some(callback) = &request.header_callback else {
        return;
    };
    let mut callback = callback.borrow_mut();
    let version = match version {
        Version::HTTP_10 => "HTTP/1.0",
        Version::HTTP_2 => "HTTP/2",
        _ => "HTTP/1.1",
    };
    let reason = status.canonical_reason().unwrap_or("Unknown");
    callback(&format!("{version} {} {reason}\r\n", status.as_u16()));
    for (name, value) in headers {
        callback(&format!(
            "{}: {}\r\n",
            name,
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    callback("\r\n");
}
