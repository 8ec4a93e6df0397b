//! Where a response body goes: the `streaming_callback`, a buffer, or nowhere (the body of a
//! redirect being followed), with the `max_body_size` count kept in one place.

use bytes::{Bytes, BytesMut};

use super::request::StreamingCallback;

/// The destination of the body bytes of one response.
#[derive(Debug)]
enum Destination {
    /// Gathered for `HttpResponse::body`.
    Buffer(BytesMut),
    /// Handed on piece by piece; nothing is kept.
    Stream,
    /// Counted and dropped: the body of a redirect that is followed.
    Discard,
}

/// Receives the (inflated) body bytes of one response.
pub(crate) struct BodySink {
    /// Where bytes go.
    destination: Destination,
    /// The `streaming_callback`, when the destination is `Stream`.
    callback: Option<StreamingCallback>,
    /// Bytes delivered so far, held to `limit`.
    delivered: u64,
    /// `max_body_size`: checked here because inflated bodies can outgrow what the codec counted.
    limit: u64,
    /// Set when `limit` was passed, so that an inflater's I/O error can be told apart.
    pub(crate) too_large: bool,
}

impl std::fmt::Debug for BodySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodySink")
            .field("destination", &self.destination)
            .field("delivered", &self.delivered)
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// Delivering passed `max_body_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TooLarge;

impl std::fmt::Display for TooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("body is larger than max_body_size")
    }
}

impl BodySink {
    /// A sink that gathers the body, with room reserved for a known length (at most 1 MiB up
    /// front, so a lying `Content-Length` cannot make the client allocate).
    pub(crate) fn buffer(limit: u64, expected: Option<u64>) -> Self {
        let capacity = expected.unwrap_or(0).min(1024 * 1024) as usize;
        Self::with(
            Destination::Buffer(BytesMut::with_capacity(capacity)),
            None,
            limit,
        )
    }

    /// A sink that hands every piece to `callback`.
    pub(crate) fn stream(callback: StreamingCallback, limit: u64) -> Self {
        Self::with(Destination::Stream, Some(callback), limit)
    }

    /// A sink that only counts.
    pub(crate) fn discard(limit: u64) -> Self {
        Self::with(Destination::Discard, None, limit)
    }

    fn with(destination: Destination, callback: Option<StreamingCallback>, limit: u64) -> Self {
        BodySink {
            destination,
            callback,
            delivered: 0,
            limit,
            too_large: false,
        }
    }

    /// Takes the next piece of the body.
    pub(crate) fn deliver(&mut self, data: Bytes) -> Result<(), TooLarge> {
        self.delivered += data.len() as u64;
        if self.delivered > self.limit {
            self.too_large = true;
            return Err(TooLarge);
        }
        match &mut self.destination {
            Destination::Buffer(buffer) => buffer.extend_from_slice(&data),
            Destination::Stream => {
                if let Some(callback) = &self.callback {
                    (callback.borrow_mut())(data);
                }
            }
            Destination::Discard => {}
        }
        Ok(())
    }

    /// The gathered body (empty for a streamed or discarded one).
    pub(crate) fn take_body(&mut self) -> Bytes {
        match &mut self.destination {
            Destination::Buffer(buffer) => std::mem::take(buffer).freeze(),
            _ => Bytes::new(),
        }
    }
}
