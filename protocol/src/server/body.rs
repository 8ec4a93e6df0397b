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

use super::error::RequestBodyError;

/// One item of a streamed body.
pub(crate) type BodyItem = Result<Bytes, RequestBodyError>;

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
}

impl RequestBody {
    /// A body stream and the connection's sending end, holding at most `capacity` chunks.
    pub(crate) fn channel(capacity: usize) -> (mpsc::Sender<BodyItem>, RequestBody) {
        // A futures channel holds `buffer + senders` items; there is exactly one sender.
        let (sender, chunks) = mpsc::channel(capacity.max(1) - 1);
        (sender, RequestBody { chunks })
    }

    /// The next chunk; `None` after the last.
    pub async fn chunk(&mut self) -> Option<Result<Bytes, RequestBodyError>> {
        futures::StreamExt::next(&mut self.chunks).await
    }

    /// Reads the whole rest of the body into one buffer, refusing more than `limit` bytes
    /// (`Err(Invalid { 413 })`).
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
        Pin::new(&mut self.chunks).poll_next(cx)
    }
}
