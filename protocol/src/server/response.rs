//! Responses: [`HttpResponse`] (a whole response, the fast path) and [`ResponseWriter`] (a
//! response streamed in pieces, from the connection's loop or from any actor).

use bytes::Bytes;
use futures::SinkExt;
use futures::channel::mpsc;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use super::error::WriterError;

/// Pieces a [`ResponseWriter`] can leave unsent before `flush` waits for the connection.
/// Default is 16.
pub const RESPONSE_QUEUE_CHUNKS: usize = 16;

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
}

impl HttpResponse {
    /// An empty response with `status`.
    pub fn new(status: StatusCode) -> Self {
        Self::with_headers(status, recycled_header_map())
    }

    /// An empty response with `status` and the fields in `headers`: for code that collects
    /// the fields before it has the response (a handler's context), in a map taken from
    /// [`recycled_header_map`]. The connection recycles the map once the response is written.
    pub fn with_headers(status: StatusCode, headers: Box<HeaderMap>) -> Self {
        HttpResponse {
            status,
            headers,
            body: Bytes::new(),
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

    /// [`into_parts`](Self::into_parts) keeping the map in its box, for the connection to
    /// recycle.
    pub(crate) fn into_boxed_parts(self) -> (StatusCode, Box<HeaderMap>, Bytes) {
        (self.status, self.headers, self.body)
    }
}

/// An empty header map from this thread's pool, boxed as responses hold theirs, for
/// [`HttpResponse::with_headers`]: maps recycled from earlier responses keep their capacity, so
/// filling one allocates nothing.
pub fn recycled_header_map() -> Box<HeaderMap> {
    crate::h1::boxed_header_map()
}

/// What a [`ResponseWriter`] sends to the connection.
#[derive(Debug)]
pub(crate) enum WriterEvent {
    /// The head of a streamed response; the body follows chunked (HTTP/1.1) or close-delimited
    /// (HTTP/1.0).
    Head(StatusCode, HeaderMap),
    /// The next body bytes of a streamed response.
    Data(Bytes),
    /// The streamed response is complete.
    End,
    /// A whole response, sent with `Content-Length`.
    Full(HttpResponse),
}

/// The connection's end of a [`ResponseWriter`].
pub(crate) type ResponseEvents = mpsc::Receiver<WriterEvent>;

/// Writes one response in pieces, like Tornado's `RequestHandler.write` / `flush` / `finish`.
///
/// Set the status and headers, [`write`](Self::write) body pieces (kept here until the next
/// flush), [`flush`](Self::flush) to send what is written so far (the first flush sends the
/// head; the body is then chunked to an HTTP/1.1 client and close-delimited to an HTTP/1.0 one),
/// and [`finish`](Self::finish). If nothing was flushed before `finish`, the response goes out
/// whole with a `Content-Length`.
///
/// The writer is `Send`: an actor on any thread may hold it. `flush` waits while the
/// connection holds [`RESPONSE_QUEUE_CHUNKS`] unsent pieces (the client reads slowly, or an
/// earlier pipelined response is still being written), so a fast producer cannot fill memory.
///
/// Dropping the writer without `finish` ends the exchange abnormally: if nothing was flushed
/// the client gets 500 Internal Server Error; otherwise the connection closes, so the client
/// sees a truncated body rather than a complete-looking one.
#[derive(Debug)]
pub struct ResponseWriter {
    /// Pieces to the connection; bounded.
    events: mpsc::Sender<WriterEvent>,
    /// The status to send with the head.
    status: StatusCode,
    /// The header fields to send with the head.
    headers: HeaderMap,
    /// Body pieces written since the last flush.
    pending: Vec<Bytes>,
    /// The head went out; later flushes send only body.
    head_sent: bool,
}

impl ResponseWriter {
    /// A writer and the connection's end of it.
    pub(crate) fn channel() -> (ResponseWriter, ResponseEvents) {
        let (events, receiver) = mpsc::channel(RESPONSE_QUEUE_CHUNKS - 1);
        let writer = ResponseWriter {
            events,
            status: StatusCode::OK,
            headers: HeaderMap::new(),
            pending: Vec::new(),
            head_sent: false,
        };
        (writer, receiver)
    }

    /// Sets the status (before the first flush; ignored after). Default 200.
    pub fn set_status(&mut self, status: StatusCode) {
        self.status = status;
    }

    /// Sets a header field, replacing earlier values (before the first flush).
    pub fn set_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers.insert(name, value);
    }

    /// The header fields to send, to change (before the first flush).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        &mut self.headers
    }

    /// Whether the head has been sent.
    pub fn head_sent(&self) -> bool {
        self.head_sent
    }

    /// Queues body bytes here until the next [`flush`](Self::flush) or
    /// [`finish`](Self::finish). Empty pieces are ignored.
    pub fn write(&mut self, data: impl Into<Bytes>) {
        let data = data.into();
        if !data.is_empty() {
            self.pending.push(data);
        }
    }

    /// Sends the head (the first time) and everything written so far, waiting while the
    /// connection's queue is full.
    pub async fn flush(&mut self) -> Result<(), WriterError> {
        if !self.head_sent {
            let head = WriterEvent::Head(self.status, std::mem::take(&mut self.headers));
            self.events
                .send(head)
                .await
                .map_err(|_| WriterError::Closed)?;
            self.head_sent = true;
        }
        for data in std::mem::take(&mut self.pending) {
            self.events
                .send(WriterEvent::Data(data))
                .await
                .map_err(|_| WriterError::Closed)?;
        }
        Ok(())
    }

    /// Sends the rest and ends the response.
    pub async fn finish(mut self) -> Result<(), WriterError> {
        if self.head_sent {
            self.flush().await?;
            self.events
                .send(WriterEvent::End)
                .await
                .map_err(|_| WriterError::Closed)
        } else {
            let response = self.whole_response();
            self.events
                .send(WriterEvent::Full(response))
                .await
                .map_err(|_| WriterError::Closed)
        }
    }

    /// Sends `response` as the whole answer, without waiting: the way an actor answers from a
    /// synchronous `handle`. Fails with [`WriterError::Full`] only if this writer already
    /// flushed a full queue of pieces.
    pub fn respond(mut self, response: HttpResponse) -> Result<(), WriterError> {
        let event = if self.head_sent {
            // The head is gone: send the body as the rest of the stream.
            WriterEvent::Data(response.body)
        } else {
            WriterEvent::Full(response)
        };
        let result = self.events.try_send(event);
        if let Err(error) = result {
            return Err(if error.is_full() {
                WriterError::Full
            } else {
                WriterError::Closed
            });
        }
        if self.head_sent {
            self.events
                .try_send(WriterEvent::End)
                .map_err(|_| WriterError::Full)?;
        }
        Ok(())
    }

    /// The status, headers and written pieces as one response.
    fn whole_response(&mut self) -> HttpResponse {
        let body = match self.pending.len() {
            0 => Bytes::new(),
            1 => self.pending.pop().unwrap_or_default(),
            _ => {
                let total = self.pending.iter().map(Bytes::len).sum();
                let mut whole = bytes::BytesMut::with_capacity(total);
                for piece in self.pending.drain(..) {
                    whole.extend_from_slice(&piece);
                }
                whole.freeze()
            }
        };
        let mut response = HttpResponse::new(self.status).body(body);
        *response.headers_mut() = std::mem::take(&mut self.headers);
        response
    }
}
