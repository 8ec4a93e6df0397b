//! [`HttpResponse`]: a whole response (status, header fields, body), the common answer.

use bytes::Bytes;

use crate::server::error::InvalidReasonPhrase;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

/// A whole response: status, header fields and body. The connection adds `Date`, the framing
/// (`Content-Length`) and `Connection` when needed; for a HEAD request the body is not sent.
///
/// ```
/// use cyclone_protocol::server::HttpResponse;
/// use http::StatusCode;
///
/// let response = HttpResponse::ok().text("Hello, world");
/// assert_eq!(response.status(), StatusCode::OK);
/// assert_eq!(response.headers()["content-type"], "text/plain; charset=utf-8");
/// assert_eq!(response.body_bytes().as_ref(), b"Hello, world");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status line's code.
    status: StatusCode,
    /// Header fields in the order they are written; boxed (and recycled with its box) so that
    /// the response, which moves several times on its way to the write buffer, stays small.
    headers: Box<HeaderMap>,
    /// The body; shared, not copied, when written.
    body: Bytes,
    /// A reason phrase of the application's in place of the standard one (Tornado's
    /// `set_status(code, reason)`); checked when set.
    reason: Option<Box<str>>,
}

impl HttpResponse {
    /// An empty response with `status`.
    pub fn new(status: StatusCode) -> Self {
        Self::with_headers(status, recycled_header_map())
    }

    /// An empty response with `status` and the fields in `headers` (see
    /// [`into_boxed_parts`](Self::into_boxed_parts)). The connection recycles the map once the
    /// response is written.
    pub fn with_headers(status: StatusCode, headers: Box<HeaderMap>) -> Self {
        HttpResponse {
            status,
            headers,
            body: Bytes::new(),
            reason: None,
        }
    }

    /// An empty 200 OK.
    pub fn ok() -> Self {
        Self::new(StatusCode::OK)
    }

    /// Adds a header field (keeping earlier values of the same name).
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a `text/plain; charset=utf-8` body.
    pub fn text(mut self, text: impl Into<Bytes>) -> Self {
        self.headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        self.body = text.into();
        self
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Changes the status code.
    pub fn set_status(&mut self, status: StatusCode) {
        self.status = status;
    }

    /// Sends `reason` in the status line instead of the status's standard phrase (Tornado's
    /// `set_status(code, reason)`), as a status the `http` crate does not name needs. Refused
    /// if it holds a character a reason phrase may not (CR, LF, any other control character,
    /// or non-ASCII).
    ///
    /// ```
    /// use cyclone_protocol::server::HttpResponse;
    /// use http::StatusCode;
    ///
    /// let response = HttpResponse::new(StatusCode::from_u16(599).unwrap())
    ///     .with_reason("Network Connect Timeout")
    ///     .unwrap();
    /// assert_eq!(response.reason(), Some("Network Connect Timeout"));
    /// assert!(HttpResponse::ok().with_reason("split\r\nSet-Cookie: x=1").is_err());
    /// ```
    pub fn with_reason(mut self, reason: &str) -> Result<Self, InvalidReasonPhrase> {
        self.set_reason(Some(reason))?;
        Ok(self)
    }

    /// Sets (or with `None` clears) the custom reason phrase; see
    /// [`with_reason`](Self::with_reason).
    pub fn set_reason(&mut self, reason: Option<&str>) -> Result<(), InvalidReasonPhrase> {
        if let Some(reason) = reason {
            InvalidReasonPhrase::check(reason)?;
        }
        self.reason = reason.map(Box::from);
        Ok(())
    }

    /// The custom reason phrase, if one was set.
    pub fn reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Takes the custom reason phrase out (the connection, before it splits the response).
    pub(crate) fn take_reason(&mut self) -> Option<Box<str>> {
        self.reason.take()
    }

    /// The header fields.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The header fields, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// The body.
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }

    /// Splits into status, headers and body.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, Bytes) {
        (self.status, *self.headers, self.body)
    }

    /// [`into_parts`](Self::into_parts) keeping the map in its box, which
    /// [`with_headers`](Self::with_headers) takes back: code that keeps a response's fields
    /// apart from the response (a handler's context) moves the box instead of the map, and the
    /// map, recycled per thread once a response is written, keeps its capacity.
    pub fn into_boxed_parts(self) -> (StatusCode, Box<HeaderMap>, Bytes) {
        (self.status, self.headers, self.body)
    }
}

/// An empty header map from this thread's pool, boxed as responses hold theirs, for
/// [`HttpResponse::with_headers`]: maps recycled from earlier responses keep their capacity, so
/// filling one allocates nothing.
pub(crate) fn recycled_header_map() -> Box<HeaderMap> {
    crate::h1::boxed_header_map()
}
