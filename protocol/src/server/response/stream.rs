//! [`ResponseStream`]: the receiving end of a [`ResponseWriter`](super::ResponseWriter), and
//! the [`ResponseEvent`]s it yields. The HTTP connection reads every answer through one; code
//! that calls a route target itself reads it with [`ResponseStream::into_response`].

use std::fmt;
use std::future::poll_fn;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http::header::ETAG;
use http::{HeaderMap, StatusCode};

use super::channel::{Channel, SentCallback, State, add_defaults};
use super::{EntityTag, HttpResponse};
use crate::server::error::WriterError;
use crate::server::upgrade::Upgraded;

/// The callback of [`ResponseWriter::upgrade`](super::ResponseWriter::upgrade).
pub type OnUpgrade = Box<dyn FnOnce(Upgraded) + Send>;

/// One step of an answer, as a [`ResponseStream`] yields it.
#[non_exhaustive]
pub enum ResponseEvent {
    /// The whole answer, sent with `Content-Length`; nothing follows.
    Whole(HttpResponse),
    /// The head of a streamed answer; its body follows in [`Data`](Self::Data) events.
    Head(StatusCode, Box<HeaderMap>),
    /// The next bytes of a streamed answer's body.
    Data(Bytes),
    /// The streamed answer is complete; nothing follows.
    End,
    /// The streamed answer is complete and ends with these trailer fields (RFC 9110 §6.5):
    /// the last chunk's trailer section over HTTP/1.1, a closing HEADERS frame over HTTP/2.
    /// Nothing follows. Sent by
    /// [`ResponseWriter::finish_with_trailers`](super::ResponseWriter::finish_with_trailers).
    Trailers(Box<HeaderMap>),
    /// Switch protocols: `101` with the response's header fields, then the callback gets the
    /// connection; nothing follows.
    Upgrade(HttpResponse, OnUpgrade),
}

impl fmt::Debug for ResponseEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseEvent::Whole(response) => f.debug_tuple("Whole").field(response).finish(),
            ResponseEvent::Head(status, headers) => {
                f.debug_tuple("Head").field(status).field(headers).finish()
            }
            ResponseEvent::Data(data) => f.debug_tuple("Data").field(&data.len()).finish(),
            ResponseEvent::End => f.write_str("End"),
            ResponseEvent::Trailers(trailers) => f.debug_tuple("Trailers").field(trailers).finish(),
            ResponseEvent::Upgrade(response, _) => {
                f.debug_tuple("Upgrade").field(response).finish()
            }
        }
    }
}

/// A whole answer as the connection's fast path takes it ([`ResponseStream::take_whole`]).
pub(crate) struct Whole {
    /// The answer.
    pub(crate) response: HttpResponse,
    /// The writer's default header fields, not yet among the answer's: the caller writes
    /// those the answer lacks.
    pub(crate) defaults: Option<Arc<HeaderMap>>,
    /// The answer's `ETag` beside its map: the caller writes it unless the map has one.
    pub(crate) etag: Option<EntityTag>,
    /// The writer's `on_sent` callback, to call once the answer is written.
    pub(crate) on_sent: Option<SentCallback>,
}

/// Reads what a [`ResponseWriter`](super::ResponseWriter) writes, event by event.
///
/// [`poll_event`](Self::poll_event) yields `None` once the writer is gone without finishing
/// (abandoned: answer 500, or cut a streamed answer short). Dropping the stream tells the
/// writer the client is gone: its pending and later sends fail with [`WriterError::Closed`].
#[derive(Debug)]
pub struct ResponseStream {
    /// Shared with the writer.
    channel: Arc<Channel>,
}

impl ResponseStream {
    /// The custom reason phrase a streamed head carries, if its writer set one (read when
    /// the head event is encoded).
    pub(crate) fn take_reason(&self) -> Option<Box<str>> {
        self.channel.lock().reason.take()
    }

    /// The stream on `channel`.
    pub(crate) fn on(channel: Arc<Channel>) -> Self {
        ResponseStream { channel }
    }

    /// The next event, or `None` once the writer is gone with nothing more queued.
    pub fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<ResponseEvent>> {
        let mut state = self.channel.lock();
        if let Some(taken) = Self::take_event(&mut state, &self.channel) {
            return Poll::Ready(taken);
        }
        // Registered under the lock: a writer sees the flag only after the waker is in place.
        self.channel.receiver.register(cx.waker());
        state.receiver_waits = true;
        Poll::Pending
    }

    /// The next event without waiting: `Some(Some(event))`, `Some(None)` once the writer is
    /// gone with nothing more, or `None` while it is still at work.
    pub fn try_event(&mut self) -> Option<Option<ResponseEvent>> {
        let mut state = self.channel.lock();
        Self::take_event(&mut state, &self.channel)
    }

    /// Takes the next event from the locked `state` (see [`try_event`](Self::try_event)).
    fn take_event(state: &mut State, channel: &Channel) -> Option<Option<ResponseEvent>> {
        if let Some(mut response) = state.whole.take() {
            if let Some(defaults) = state.default_headers.take() {
                add_defaults(response.headers_mut(), &defaults);
            }
            if let Some(tag) = state.etag.take() {
                response
                    .headers_mut()
                    .entry(ETAG)
                    .or_insert_with(|| tag.to_header_value());
            }
            return Some(Some(ResponseEvent::Whole(response)));
        }
        match state.events.pop_front() {
            Some(event) => {
                if state.writer_waits {
                    // A writer waits for the room just made.
                    state.writer_waits = false;
                    channel.writer.wake();
                }
                Some(Some(event))
            }
            None if state.writer_gone => Some(None),
            None => None,
        }
    }

    /// The next event, waiting for it.
    pub async fn next_event(&mut self) -> Option<ResponseEvent> {
        poll_fn(|cx| self.poll_event(cx)).await
    }

    /// Collects the answer into one response (a streamed one's pieces joined; trailer fields,
    /// which a whole response cannot carry, are dropped). Fails with
    /// [`WriterError::Abandoned`] if the writer was dropped unfinished, and
    /// [`WriterError::HeadSent`] for a protocol switch (there is no connection to switch).
    pub async fn into_response(mut self) -> Result<HttpResponse, WriterError> {
        let mut head = None;
        let mut body = BytesMut::new();
        loop {
            match self.next_event().await {
                None => return Err(WriterError::Abandoned),
                Some(ResponseEvent::Whole(response)) => return Ok(response),
                Some(ResponseEvent::Head(status, headers)) => head = Some((status, headers)),
                Some(ResponseEvent::Data(data)) => body.extend_from_slice(&data),
                Some(ResponseEvent::End | ResponseEvent::Trailers(_)) => {
                    let (status, headers) =
                        head.unwrap_or_else(|| (StatusCode::OK, crate::h1::boxed_header_map()));
                    let mut response =
                        HttpResponse::with_headers(status, headers).body(body.freeze());
                    // Checked when the writer took it.
                    let _ = response.set_reason(self.take_reason().as_deref());
                    return Ok(response);
                }
                Some(ResponseEvent::Upgrade(..)) => return Err(WriterError::HeadSent),
            }
        }
    }

    /// The writer's [`on_sent`](super::ResponseWriter::on_sent) callback, for the connection
    /// to call once the answer is done.
    pub(crate) fn take_on_sent(&mut self) -> Option<SentCallback> {
        self.channel.lock().on_sent.take()
    }

    /// The front event if it is a whole answer (the connection's fast path takes it without
    /// disturbing a streamed answer's events), with the writer's default header fields, which
    /// are not yet among the answer's: the caller writes those the answer lacks.
    pub(crate) fn take_whole(&mut self) -> Option<Whole> {
        // One lock for all three: each lock is two atomic instructions on every request.
        take_whole(&mut self.channel.lock())
    }

    /// [`take_whole`](Self::take_whole) when the writer has left the channel (the usual end of
    /// a whole answer): nobody else holds it, so it is read without the lock and reset for the
    /// next exchange in the same step, one atomic instruction where taking and resetting cost
    /// three. `None` when the writer is still out or no whole answer is there (nothing is
    /// taken then).
    pub(crate) fn take_whole_unshared(&mut self) -> Option<Whole> {
        let state = Arc::get_mut(&mut self.channel)?.get_mut();
        let whole = take_whole(state)?;
        state.reset();
        Some(whole)
    }

    /// Whether the writer is gone (finished or abandoned): nothing more is being computed.
    pub(crate) fn writer_gone(&self) -> bool {
        self.channel.lock().writer_gone
    }

    /// Resets the channel for another exchange if its writer is gone (nobody else holds it):
    /// the connection reuses one channel for its requests instead of allocating one each.
    pub(crate) fn reset_if_unshared(&mut self) -> bool {
        let Some(channel) = Arc::get_mut(&mut self.channel) else {
            return false;
        };
        // A waker left registered from the last exchange stays: it is only woken when the
        // flags (reset here) say someone waits.
        channel.get_mut().reset();
        true
    }

    /// A fresh writer on this (reset) stream's channel.
    pub(crate) fn writer(&self) -> super::ResponseWriter {
        super::ResponseWriter::on(Arc::clone(&self.channel))
    }
}

/// The whole answer in `state`, with the defaults and the hook that go with it.
fn take_whole(state: &mut State) -> Option<Whole> {
    let response = state.whole.take()?;
    Some(Whole {
        response,
        defaults: state.default_headers.take(),
        etag: state.etag.take(),
        on_sent: state.on_sent.take(),
    })
}

impl Drop for ResponseStream {
    fn drop(&mut self) {
        let mut state = self.channel.lock();
        if !state.writer_gone {
            state.receiver_gone = true;
            let waits = std::mem::take(&mut state.writer_waits);
            drop(state);
            self.channel.wake_writer(waits);
        }
    }
}
