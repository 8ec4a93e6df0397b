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
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status line's code.
    status: StatusCode,
    /// Header fields in the order they are written; boxed (and recycled with its box) so that
    /// the response, which moves several times on its way to the write buffer, stays small.
    /// `None` until a field is added: an answer whose fields all travel beside the map (the
    /// application's defaults, the ETag) takes no map from the pool and gives none back.
    headers: Option<Box<HeaderMap>>,
    /// The body; shared, not copied, when written.
    body: Bytes,
    /// A reason phrase of the application's in place of the standard one (Tornado's
    /// `set_status(code, reason)`); checked when set.
    reason: Option<Box<str>>,
}

impl HttpResponse {
    /// An empty response with `status`.
    pub fn new(status: StatusCode) -> Self {
        HttpResponse {
            status,
            headers: None,
            body: Bytes::new(),
            reason: None,
        }
    }

    /// An empty response with `status` and the fields in `headers` (see
    /// [`into_boxed_parts`](Self::into_boxed_parts)). The connection recycles the map once the
    /// response is written.
    pub fn with_headers(status: StatusCode, headers: Box<HeaderMap>) -> Self {
        HttpResponse {
            status,
            headers: Some(headers),
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
        self.headers_mut().append(name, value);
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Sets a `text/plain; charset=utf-8` body.
    pub fn text(mut self, text: impl Into<Bytes>) -> Self {
        self.headers_mut().insert(
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
        match &self.headers {
            Some(headers) => headers,
            None => empty_header_map(),
        }
    }

    /// The header fields, to change.
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.headers.get_or_insert_with(recycled_header_map)
    }

    /// The body.
    pub fn body_bytes(&self) -> &Bytes {
        &self.body
    }

    /// Splits into status, headers and body.
    pub fn into_parts(self) -> (StatusCode, HeaderMap, Bytes) {
        (
            self.status,
            self.headers.map(|headers| *headers).unwrap_or_default(),
            self.body,
        )
    }

    /// [`into_parts`](Self::into_parts) keeping the map in its box, which
    /// [`with_headers`](Self::with_headers) takes back: code that keeps a response's fields
    /// apart from the response (a handler's context) moves the box instead of the map, and the
    /// map, recycled per thread once a response is written, keeps its capacity.
    pub fn into_boxed_parts(self) -> (StatusCode, Box<HeaderMap>, Bytes) {
        (
            self.status,
            self.headers.unwrap_or_else(recycled_header_map),
            self.body,
        )
    }

    /// [`into_boxed_parts`](Self::into_boxed_parts) without making a map for a response that
    /// never had a field (the encoder writes such a head from an empty map, and has nothing to
    /// give back to the pool).
    pub(crate) fn into_parts_if_any(self) -> (StatusCode, Option<Box<HeaderMap>>, Bytes) {
        (self.status, self.headers, self.body)
    }
}

/// Equal when status, fields, body and reason are: a response that never had a field equals one
/// whose map is empty.
impl PartialEq for HttpResponse {
    fn eq(&self, other: &Self) -> bool {
        self.status == other.status
            && self.headers() == other.headers()
            && self.body == other.body
            && self.reason == other.reason
    }
}

impl Eq for HttpResponse {}

/// The fields of a response that has none.
pub(crate) fn empty_header_map() -> &'static HeaderMap {
    static EMPTY: std::sync::LazyLock<HeaderMap> = std::sync::LazyLock::new(HeaderMap::new);
    &EMPTY
}

/// An empty header map from this thread's pool, boxed as responses hold theirs, for
/// [`HttpResponse::with_headers`]: maps recycled from earlier responses keep their capacity, so
/// filling one allocates nothing.
pub(crate) fn recycled_header_map() -> Box<HeaderMap> {
    crate::h1::boxed_header_map()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_map_is_made_only_for_a_field() {
        let bare = HttpResponse::ok().body("hi");
        assert!(bare.headers().is_empty());
        let (_, headers, _) = bare.clone().into_parts_if_any();
        assert!(headers.is_none(), "no field, no map from the pool");
        // Equal to the same response holding an empty map.
        assert_eq!(
            bare,
            HttpResponse::with_headers(StatusCode::OK, Box::default()).body("hi")
        );
        let typed = bare.text("hi");
        assert_eq!(typed.headers()[CONTENT_TYPE], "text/plain; charset=utf-8");
        let (_, headers, _) = typed.into_parts_if_any();
        assert_eq!(headers.map(|headers| headers.len()), Some(1));
        // `into_boxed_parts` always hands over a map, empty if need be.
        let (_, headers, _) = HttpResponse::ok().into_boxed_parts();
        assert!(headers.is_empty());
    }
}
