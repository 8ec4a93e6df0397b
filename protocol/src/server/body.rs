//! [`RequestBody`]: a request body streamed to the handler in chunks, with flow control
//! (Tornado's `stream_request_body`).
//!
//! The connection and the handler share a small bounded queue (the server's
//! `body_queue_chunks`). While it is full the connection stops reading the socket, so the
//! client's sending stalls in TCP and an upload of any size holds at most
//! `body_queue_chunks × chunk_size` bytes in the server.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use futures::channel::mpsc;
use http::HeaderMap;

use super::error::RequestBodyError;

/// One item of a streamed body, as the connection queues it.
pub(crate) enum BodyItem {
    /// The next piece of the body.
    Data(Bytes),
    /// The trailer fields after the last piece (a chunked body's trailer section, an HTTP/2
    /// stream's closing HEADERS); kept by the stream for [`RequestBody::trailers`].
    Trailers(Box<HeaderMap>),
    /// The body broke off; nothing follows.
    Failed(RequestBodyError),
}

/// The handler's end of a streamed request body: a [`Stream`] of chunks, ending with `None`
/// after the last one, or with one `Err` if the body broke off.
///
/// It is `Send`, so an actor on another loop may read it. Dropping it tells the connection the
/// handler wants no more: the rest of the body is read and discarded (the framing must still be
/// followed to reach the next request).
#[derive(Debug)]
pub struct RequestBody {
    /// Chunks from the connection; bounded, so that an unread queue stops the socket reads.
    chunks: mpsc::Receiver<BodyItem>,
    /// The trailer fields, once the stream has passed the last chunk and the body had some.
    trailers: Option<Box<HeaderMap>>,
}

impl RequestBody {
    /// A body stream and the connection's sending end, holding at most `capacity` chunks.
    pub(crate) fn channel(capacity: usize) -> (mpsc::Sender<BodyItem>, RequestBody) {
        // A futures channel holds `buffer + senders` items; there is exactly one sender.
        let (sender, chunks) = mpsc::channel(capacity.max(1) - 1);
        (
            sender,
            RequestBody {
                chunks,
                trailers: None,
            },
        )
    }

    /// The body's trailer fields (RFC 9110 §6.5), once the stream has yielded its last chunk
    /// (`None` before, and for a body that had none). The connection keeps the fields
    /// apart: they never merge into the request's header fields.
    pub fn trailers(&self) -> Option<&HeaderMap> {
        self.trailers.as_deref()
    }

    /// Takes the trailer fields (see [`trailers`](Self::trailers)).
    pub fn take_trailers(&mut self) -> Option<HeaderMap> {
        self.trailers.take().map(|trailers| *trailers)
    }

    /// The next chunk; `None` after the last.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, RequestBodyError>> {
        futures::StreamExt::next(self).await
    }

    /// Reads the whole rest of the body into one buffer, refusing more than `limit` bytes
    /// (`Err(Invalid { 413 })`). Its trailer fields go with the stream; to read them, collect
    /// with [`chunk`](Self::chunk) and ask [`trailers`](Self::trailers) after.
    pub async fn collect(mut self, limit: usize) -> Result<Bytes, RequestBodyError> {
        let mut whole = bytes::BytesMut::new();
        while let Some(chunk) = self.chunk().await {
            let chunk = chunk?;
            if whole.len() + chunk.len() > limit {
                return Err(RequestBodyError::Invalid {
                    status: http::StatusCode::PAYLOAD_TOO_LARGE,
                });
            }
            whole.extend_from_slice(&chunk);
        }
        Ok(whole.freeze())
    }
}

impl Stream for RequestBody {
    type Item = Result<Bytes, RequestBodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return match std::task::ready!(Pin::new(&mut self.chunks).poll_next(cx)) {
                Some(BodyItem::Data(data)) => Poll::Ready(Some(Ok(data))),
                Some(BodyItem::Failed(error)) => Poll::Ready(Some(Err(error))),
                Some(BodyItem::Trailers(trailers)) => {
                    self.trailers = Some(trailers);
                    continue;
                }
                None => Poll::Ready(None),
            };
        }
    }
}
