//! [`ResponseWriter`]: the one way every route target answers, whole or in pieces, from the
//! connection's loop or from any actor on any thread.

use std::future::poll_fn;
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};

use super::channel::{Channel, add_defaults};
use super::whole::empty_header_map;
use super::{EntityTag, HttpResponse, ResponseEvent, ResponseStream};
use crate::server::error::{InvalidReasonPhrase, WriterError};
use crate::server::upgrade::Upgraded;

/// Writes one response, like Tornado's `RequestHandler.write` / `flush` / `finish`: every
/// [`HttpRequestMessage`](crate::server::HttpRequestMessage) carries one, whoever it is
/// delivered to.
///
/// Answer whole with [`respond`](Self::respond) (no waiting, the common case), or in pieces:
/// set the status and header fields, [`write`](Self::write) body pieces (kept here until the
/// next flush), [`flush`](Self::flush) to send what is written so far (the first flush sends
/// the head; the body is then chunked to an HTTP/1.1 client and close-delimited to an HTTP/1.0
/// one), and [`finish`](Self::finish). If nothing was flushed before `finish`, the response
/// goes out whole with a `Content-Length`. [`upgrade`](Self::upgrade) switches protocols.
///
/// The writer is `Send`: an actor on any thread may hold it. `flush` waits while the
/// connection holds [`RESPONSE_QUEUE_CHUNKS`](super::RESPONSE_QUEUE_CHUNKS) unsent pieces (the
/// client reads slowly, or an earlier pipelined answer is still being written), so a fast
/// producer cannot fill memory.
///
/// Dropping the writer without answering ends the exchange abnormally: if nothing was flushed
/// the client gets 500 Internal Server Error; otherwise the connection closes, so the client
/// sees a truncated body rather than a complete-looking one.
///
/// Writers are made in pairs with the [`ResponseStream`] that reads them
/// ([`ResponseWriter::channel`]): the server makes one per request, and code that calls a
/// route target itself (a test, another protocol) makes its own.
///
/// ```
/// use cyclone_protocol::server::{HttpResponse, ResponseWriter};
/// use http::StatusCode;
///
/// # futures::executor::block_on(async {
/// let (writer, answer) = ResponseWriter::channel();
/// writer.respond(HttpResponse::new(StatusCode::CREATED).text("made"))?;
/// let response = answer.into_response().await?;
/// assert_eq!(response.status(), StatusCode::CREATED);
/// assert_eq!(response.body_bytes().as_ref(), b"made");
/// # Ok::<(), cyclone_protocol::server::WriterError>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct ResponseWriter {
    /// Shared with the receiving end.
    channel: Arc<Channel>,
    /// Status, header fields and pieces for an answer built in the writer; made on first use,
    /// since most answers arrive whole ([`respond`](Self::respond)) and the writer travels in
    /// every request message: it stays two words.
    building: Option<Box<Building>>,
    /// The answer's last event is queued (or the writer gave up); dropping says nothing more.
    done: bool,
    /// Header fields the answer carries unless it sets them
    /// ([`set_default_headers`](Self::set_default_headers)). Kept here, not in the channel,
    /// until the answer goes: setting them then costs no lock, and the answer's own lock
    /// carries them over (an uncontended lock is still two atomic instructions, a few dozen
    /// cycles, on every request).
    defaults: Option<Arc<HeaderMap>>,
}

/// An answer being built in the writer.
#[derive(Debug)]
struct Building {
    /// The status to send with the head.
    status: StatusCode,
    /// The header fields to send with the head; a pooled map, taken on first use.
    headers: Option<Box<HeaderMap>>,
    /// Body pieces written since the last flush.
    pending: Vec<Bytes>,
    /// The head went out; later flushes send only body.
    head_sent: bool,
    /// A custom reason phrase for the head.
    reason: Option<Box<str>>,
}

impl Default for Building {
    fn default() -> Self {
        Building {
            status: StatusCode::OK,
            headers: None,
            pending: Vec::new(),
            head_sent: false,
            reason: None,
        }
    }
}

impl ResponseWriter {
    /// A writer and the stream that reads what it writes.
    pub fn channel() -> (ResponseWriter, ResponseStream) {
        let channel = Arc::new(Channel::default());
        (Self::on(Arc::clone(&channel)), ResponseStream::on(channel))
    }

    /// A fresh writer on `channel` (a new one, or one recycled by its stream).
    pub(crate) fn on(channel: Arc<Channel>) -> Self {
        ResponseWriter {
            channel,
            building: None,
            done: false,
            defaults: None,
        }
    }

    /// The answer being built, made on first use.
    fn building(&mut self) -> &mut Building {
        self.building.get_or_insert_with(Box::default)
    }

    /// Sets the status (before the first flush; ignored after). Default 200.
    pub fn set_status(&mut self, status: StatusCode) {
        self.building().status = status;
    }

    /// Sends `reason` in a streamed answer's status line instead of the status's standard
    /// phrase (before the first flush; a whole answer carries its own, see
    /// [`HttpResponse::with_reason`]). Refused if it holds CR, LF, another control character
    /// or non-ASCII.
    pub fn set_reason(&mut self, reason: &str) -> Result<(), InvalidReasonPhrase> {
        InvalidReasonPhrase::check(reason)?;
        self.building().reason = Some(Box::from(reason));
        Ok(())
    }

    /// The status that is (or will be) sent.
    pub fn status(&self) -> StatusCode {
        self.building
            .as_ref()
            .map_or(StatusCode::OK, |building| building.status)
    }

    /// Sets a header field, replacing earlier values (before the first flush).
    pub fn set_header(&mut self, name: HeaderName, value: HeaderValue) {
        self.headers_mut().insert(name, value);
    }

    /// The header fields to send (empty before any is set).
    pub fn headers(&self) -> &HeaderMap {
        match self
            .building
            .as_ref()
            .and_then(|building| building.headers.as_ref())
        {
            Some(headers) => headers,
            // A writer that has none yet.
            None => empty_header_map(),
        }
    }

    /// The header fields to send, to change (before the first flush).
    pub fn headers_mut(&mut self) -> &mut HeaderMap {
        self.building()
            .headers
            .get_or_insert_with(crate::h1::boxed_header_map)
    }

    /// Whether the head has been sent.
    pub fn head_sent(&self) -> bool {
        self.building
            .as_ref()
            .is_some_and(|building| building.head_sent)
    }

    /// Whether the receiving end is gone (the client left, the connection closed): nothing
    /// more will reach the client.
    pub fn is_closed(&self) -> bool {
        self.channel.lock().receiver_gone
    }

    /// Queues body bytes here until the next [`flush`](Self::flush) or
    /// [`finish`](Self::finish). Empty pieces are ignored.
    pub fn write(&mut self, data: impl Into<Bytes>) {
        let data = data.into();
        if !data.is_empty() {
            self.building().pending.push(data);
        }
    }

    /// Calls `callback` with the status the client got once this answer is done: written
    /// whole, streamed to its end, or cut after its head went out (a handler that panics
    /// mid-stream, a client that leaves). It is not called when no head was sent (the client
    /// left first). A layer that forwards requests to code it does not write itself (the web
    /// framework's access log for actors and mounted services) learns the outcome this way.
    /// Set it before answering; several callbacks run in the order they were added, on the
    /// connection's loop; a panic in one is caught and logged.
    ///
    /// ```
    /// use cyclone_protocol::server::{HttpResponse, ResponseWriter};
    ///
    /// let (mut writer, _answer) = ResponseWriter::channel();
    /// writer.on_sent(|status| tracing::info!(%status, "answered"));
    /// let _ = writer.respond(HttpResponse::ok());
    /// ```
    pub fn on_sent(&mut self, callback: impl FnOnce(StatusCode) + Send + 'static) {
        let mut state = self.channel.lock();
        state.on_sent = Some(match state.on_sent.take() {
            None => Box::new(callback),
            Some(earlier) => Box::new(move |status| {
                earlier(status);
                callback(status);
            }),
        });
    }

    /// Header fields the answer carries unless it sets them itself: added, where missing, to a
    /// whole answer's fields, to a streamed answer's head and to a `101` switch. The web
    /// framework's `Server` field and `Settings::default_headers` (Tornado's
    /// `set_default_headers`) travel this way. Set before answering; replaces earlier defaults.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use cyclone_protocol::server::{HttpResponse, ResponseWriter};
    /// use http::{HeaderMap, HeaderValue, header::SERVER};
    ///
    /// # futures::executor::block_on(async {
    /// let mut defaults = HeaderMap::new();
    /// defaults.insert(SERVER, HeaderValue::from_static("cyclone/0.1"));
    /// let (mut writer, answer) = ResponseWriter::channel();
    /// writer.set_default_headers(Arc::new(defaults));
    /// writer.respond(HttpResponse::ok()).unwrap();
    /// let response = answer.into_response().await.unwrap();
    /// assert_eq!(response.headers()[SERVER], "cyclone/0.1");
    /// # });
    /// ```
    pub fn set_default_headers(&mut self, headers: Arc<HeaderMap>) {
        self.defaults = Some(headers);
    }

    /// Sends the head (the first time) and everything written so far, waiting while the
    /// connection's queue is full. Fails with [`WriterError::Closed`] once the client is gone.
    pub async fn flush(&mut self) -> Result<(), WriterError> {
        // Needed before the head goes out only.
        let defaults = if self.head_sent() {
            None
        } else {
            let reason = self
                .building
                .as_mut()
                .and_then(|building| building.reason.take());
            if reason.is_some() {
                self.channel.lock().reason = reason;
            }
            self.defaults.take()
        };
        let building = self.building();
        let head = if building.head_sent {
            None
        } else {
            building.head_sent = true;
            let mut headers = building
                .headers
                .take()
                .unwrap_or_else(crate::h1::boxed_header_map);
            if let Some(defaults) = &defaults {
                add_defaults(&mut headers, defaults);
            }
            Some(ResponseEvent::Head(building.status, headers))
        };
        let pending = std::mem::take(&mut building.pending);
        if let Some(head) = head {
            self.send(head).await?;
        }
        for data in pending {
            self.send(ResponseEvent::Data(data)).await?;
        }
        Ok(())
    }

    /// Sends the rest and ends the response: whole with a `Content-Length` if nothing was
    /// flushed, else the last pieces and the end of the stream.
    pub async fn finish(mut self) -> Result<(), WriterError> {
        if self.head_sent() {
            self.flush().await?;
            self.send(ResponseEvent::End).await?;
            self.done = true;
            Ok(())
        } else {
            let response = self.whole_response();
            self.respond(response)
        }
    }

    /// Ends the answer with trailer fields after its body (RFC 9110 §6.5): the body goes out
    /// streamed (chunked over HTTP/1.1, so the last chunk can carry the trailer section; a
    /// closing HEADERS frame over HTTP/2), even if nothing was flushed yet. Announce the names
    /// in a `Trailer` header field if the client needs to know them in advance.
    ///
    /// An HTTP/1.0 client, or an answer without a body (`HEAD`, 204, 304), gets no trailers:
    /// its framing has no place for them. Fails with [`WriterError::ForbiddenTrailer`] before
    /// sending anything if a field may not be a trailer (`Content-Length`,
    /// `Transfer-Encoding`, `Content-Type`, `Content-Encoding`, `Content-Range`, `Trailer`,
    /// `Host`, connection fields...; see [`is_forbidden_trailer`]); dropping the writer then
    /// answers 500 as for any unfinished answer.
    pub async fn finish_with_trailers(mut self, trailers: HeaderMap) -> Result<(), WriterError> {
        if let Some(name) = trailers.keys().find(|name| is_forbidden_trailer(name)) {
            return Err(WriterError::ForbiddenTrailer(name.clone()));
        }
        self.flush().await?;
        self.send(ResponseEvent::Trailers(Box::new(trailers)))
            .await?;
        self.done = true;
        Ok(())
    }

    /// Ends the answer with what was set and written, without waiting: whole with a
    /// `Content-Length` if nothing was flushed, else the written pieces, joined, and the end
    /// of the stream. Fails with [`WriterError::Closed`] when the client is gone.
    pub fn finish_now(mut self) -> Result<(), WriterError> {
        if self.head_sent() {
            let body = self.joined_pending();
            return self.respond(HttpResponse::new(StatusCode::OK).body(body));
        }
        let response = self.whole_response();
        self.respond(response)
    }

    /// Sends `response` as the whole answer without waiting: the way an actor answers from a
    /// synchronous `handle`, and what a handler's `finish` does. After a flush, the head is
    /// gone: `response`'s body ends the stream (the queue may then hold two events more than
    /// its bound, once: this writer is used up). Fails with [`WriterError::Closed`] when the
    /// client is gone.
    pub fn respond(self, response: HttpResponse) -> Result<(), WriterError> {
        self.answer_whole(response, None)
    }

    /// [`respond`](Self::respond) with `etag` as the answer's `ETag` field unless its map holds
    /// one. The tag travels beside the map, as the default fields do: the HTTP/1.1
    /// connection writes it straight into the head, every other reader of the answer finds it
    /// in the map. A web framework's default ETag costs no allocation and no map entry this
    /// way.
    ///
    /// ```
    /// use cyclone_protocol::server::{EntityTag, HttpResponse, ResponseEvent, ResponseWriter};
    ///
    /// let (writer, mut stream) = ResponseWriter::channel();
    /// let tag = EntityTag::from_hash(7);
    /// writer.respond_with_etag(HttpResponse::ok().text("hi"), Some(tag)).unwrap();
    /// let Some(Some(ResponseEvent::Whole(answer))) = stream.try_event() else { panic!() };
    /// assert_eq!(answer.headers()["etag"], "\"0000000000000007\"");
    /// ```
    #[inline]
    pub fn respond_with_etag(
        self,
        response: HttpResponse,
        etag: Option<EntityTag>,
    ) -> Result<(), WriterError> {
        self.answer_whole(response, etag)
    }

    /// [`respond_with_etag`](Self::respond_with_etag)'s work, inlined into both callers so that
    /// a plain [`respond`](Self::respond) (the bare server's path) carries no tag at all.
    #[inline(always)]
    fn answer_whole(
        mut self,
        response: HttpResponse,
        etag: Option<EntityTag>,
    ) -> Result<(), WriterError> {
        self.done = true;
        let head_sent = self.head_sent();
        let mut state = self.channel.lock();
        if state.receiver_gone {
            return Err(WriterError::Closed);
        }
        // A whole answer's defaults stay in the channel: the HTTP/1.1 connection writes those
        // it lacks straight into the head (no map insert); every other reader gets them added
        // when it takes the answer.
        if !head_sent {
            state.default_headers = self.defaults.take();
            if etag.is_some() {
                state.etag = etag;
            }
        }
        if head_sent {
            let (_, headers, body) = response.into_parts_if_any();
            if let Some(headers) = headers {
                crate::h1::recycle_boxed(headers);
            }
            if !body.is_empty() {
                state.events.push_back(ResponseEvent::Data(body));
            }
            state.events.push_back(ResponseEvent::End);
        } else {
            state.whole = Some(response);
        }
        state.writer_gone = true;
        let waits = std::mem::take(&mut state.receiver_waits);
        drop(state);
        self.channel.wake_receiver(waits);
        Ok(())
    }
    /// Switches the connection to another protocol (RFC 9110 §7.8): the connection answers
    /// `101 Switching Protocols` with `response`'s header fields, flushes it, and calls
    /// `on_upgrade` with the connection (see [`Upgraded`]) on the connection's own loop; the
    /// HTTP actor then stops without closing the socket.
    ///
    /// - `response`'s status is replaced by 101 and its body is not sent. Set the `Upgrade`
    ///   field (and the new protocol's fields, such as `Sec-WebSocket-Accept`);
    ///   `Connection: upgrade` is added when missing.
    /// - Only a request that asked for it can be switched: an HTTP/1.1 request with
    ///   `Connection: upgrade` and an `Upgrade` field
    ///   ([`RequestHead::upgrade`](crate::h1::RequestHead::upgrade)). The connection decodes
    ///   nothing after such a request until its answer is known, so the bytes after it are
    ///   the new protocol's ([`Upgraded::read_buf`]). Any other request answered this way
    ///   gets `500` and the connection closes; so does an upgrade answered during a graceful
    ///   shutdown (`503`).
    /// - Over HTTP/2, only an extended CONNECT (RFC 8441, `:protocol websocket`, see
    ///   [`RequestHead::connect_protocol`](crate::h1::RequestHead::connect_protocol)) can be
    ///   switched: the answer is `200` instead of 101 (without `Sec-WebSocket-Accept`,
    ///   `Upgrade`, `Connection`), and `on_upgrade` gets the stream (see [`Upgraded`]); the
    ///   connection serves its other streams on. Any other HTTP/2 request answered this way
    ///   gets `500`; one answered during a graceful shutdown `503`.
    /// - A request with a body is switched only once its body has been read in full (the
    ///   client sends the whole request before it speaks the new protocol); with
    ///   `Expect: 100-continue` the `100` goes before the `101`.
    /// - Answering such a request with an ordinary response ignores the `Upgrade` (as RFC 9110
    ///   §7.8 allows) and the connection goes on serving HTTP.
    ///
    /// Fails with [`WriterError::Closed`] when the client is gone, and with
    /// [`WriterError::HeadSent`] after a flush (too late to switch).
    pub fn upgrade(
        mut self,
        mut response: HttpResponse,
        on_upgrade: impl FnOnce(Upgraded) + Send + 'static,
    ) -> Result<(), WriterError> {
        if self.head_sent() {
            return Err(WriterError::HeadSent);
        }
        self.done = true;
        let mut state = self.channel.lock();
        if state.receiver_gone {
            return Err(WriterError::Closed);
        }
        if let Some(defaults) = &self.defaults {
            add_defaults(response.headers_mut(), defaults);
        }
        state
            .events
            .push_back(ResponseEvent::Upgrade(response, Box::new(on_upgrade)));
        state.writer_gone = true;
        let waits = std::mem::take(&mut state.receiver_waits);
        drop(state);
        self.channel.wake_receiver(waits);
        Ok(())
    }

    /// Queues `event`, waiting for room.
    async fn send(&mut self, event: ResponseEvent) -> Result<(), WriterError> {
        let mut event = Some(event);
        poll_fn(|cx| {
            let mut state = self.channel.lock();
            if state.receiver_gone {
                return Poll::Ready(Err(WriterError::Closed));
            }
            if !state.has_room() {
                // Registered under the lock: the receiver, which takes it to make room,
                // sees the flag only after the waker is in place.
                self.channel.writer.register(cx.waker());
                state.writer_waits = true;
                return Poll::Pending;
            }
            if let Some(event) = event.take() {
                state.events.push_back(event);
            }
            let waits = std::mem::take(&mut state.receiver_waits);
            drop(state);
            self.channel.wake_receiver(waits);
            Poll::Ready(Ok(()))
        })
        .await
    }

    /// The status, headers and written pieces as one response.
    fn whole_response(&mut self) -> HttpResponse {
        let body = self.joined_pending();
        let building = self.building();
        let headers = building
            .headers
            .take()
            .unwrap_or_else(crate::h1::boxed_header_map);
        HttpResponse::with_headers(building.status, headers).body(body)
    }

    /// The pieces written since the last flush, as one (copied together only if several).
    fn joined_pending(&mut self) -> Bytes {
        let Some(building) = self.building.as_mut() else {
            return Bytes::new();
        };
        let pending = &mut building.pending;
        match pending.len() {
            0 => Bytes::new(),
            1 => pending.pop().unwrap_or_default(),
            _ => {
                let total = pending.iter().map(Bytes::len).sum();
                let mut whole = bytes::BytesMut::with_capacity(total);
                for piece in pending.drain(..) {
                    whole.extend_from_slice(&piece);
                }
                whole.freeze()
            }
        }
    }
}

impl Drop for ResponseWriter {
    fn drop(&mut self) {
        if let Some(headers) = self
            .building
            .as_mut()
            .and_then(|building| building.headers.take())
        {
            crate::h1::recycle_boxed(headers);
        }
        if !self.done {
            // Abandoned: the receiver answers 500, or cuts a streamed answer short.
            let mut state = self.channel.lock();
            state.writer_gone = true;
            let waits = std::mem::take(&mut state.receiver_waits);
            drop(state);
            self.channel.wake_receiver(waits);
        }
    }
}

/// Whether `name` may not be sent as a trailer field: RFC 9110 §6.5.1 forbids fields needed
/// to frame the message, route it, or process its content before the body (and HTTP/2, RFC
/// 9113 §8.2.2, connection-specific fields anywhere).
pub fn is_forbidden_trailer(name: &HeaderName) -> bool {
    use http::header;
    const FORBIDDEN: [HeaderName; 22] = [
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::TRAILER,
        header::TE,
        header::HOST,
        header::CONTENT_TYPE,
        header::CONTENT_ENCODING,
        header::CONTENT_RANGE,
        header::CACHE_CONTROL,
        header::EXPIRES,
        header::AGE,
        header::DATE,
        header::LOCATION,
        header::RETRY_AFTER,
        header::VARY,
        header::SET_COOKIE,
        header::AUTHORIZATION,
        header::WWW_AUTHENTICATE,
        header::CONNECTION,
        header::UPGRADE,
        HeaderName::from_static("keep-alive"),
        HeaderName::from_static("proxy-connection"),
    ];
    FORBIDDEN.contains(name)
}
