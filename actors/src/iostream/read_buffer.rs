//! The read side: a growable buffer filled from the transport, and Tornado's read operations.
//!
//! Every operation leaves unconsumed bytes in the buffer, so each is cancel safe: dropping its
//! future loses nothing and the next read starts from the same bytes.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{BufMut, Bytes, BytesMut};
use regex::bytes::Regex;
use tokio::io::{AsyncRead, AsyncReadExt};

use super::close::{CloseReason, CloseState};
use super::error::{BufferSide, StreamBufferFullError, StreamError, UnsatisfiableReadError};
use super::limits::StreamLimits;
use super::transport::Transport;

/// The first read into an empty buffer: small, because an idle connection parks a read here.
const INITIAL_READ_SIZE: usize = 4 * 1024;

/// Bytes read from the transport and not yet handed to the caller.
pub(crate) struct ReadBuffer {
    /// The unconsumed bytes; released whenever emptied so idle streams hold no allocation.
    buffer: BytesMut,
    /// The most bytes `buffer` may hold; see [`StreamLimits::max_buffer_size`].
    max_buffer_size: usize,
    /// The largest single read; see [`StreamLimits::read_chunk_size`].
    read_chunk_size: usize,
    /// The size of the next read while data keeps arriving: doubles each time a read comes back
    /// full, up to `read_chunk_size`, so bulk transfers use few system calls.
    next_read_size: usize,
    /// A driven read keeps its buffer when the transport has nothing (a connection answering
    /// request after request), instead of lending it back to the loop (a WebSocket mostly
    /// idle among thousands).
    keep_idle: bool,
}

impl ReadBuffer {
    /// An empty buffer with `limits`.
    pub(crate) fn new(limits: &StreamLimits) -> Self {
        let mut buffer = ReadBuffer {
            buffer: BytesMut::new(),
            max_buffer_size: 0,
            read_chunk_size: 1,
            next_read_size: 1,
            keep_idle: false,
        };
        buffer.set_limits(limits);
        buffer
    }

    /// Applies new limits; bytes already buffered are kept even if above the new maximum.
    pub(crate) fn set_limits(&mut self, limits: &StreamLimits) {
        self.max_buffer_size = limits.max_buffer_size;
        self.read_chunk_size = limits.read_chunk_size.max(1);
        self.next_read_size = INITIAL_READ_SIZE.min(self.read_chunk_size);
    }

    /// How many bytes are buffered.
    pub(crate) fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Tornado's `read_until`: through the first `delimiter`. Searches only bytes not searched
    /// before (less the delimiter's length, so a delimiter split across reads is found).
    pub(crate) async fn read_until<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
        delimiter: &[u8],
        max_bytes: Option<usize>,
    ) -> Result<Bytes, StreamError> {
        let finder = memchr::memmem::Finder::new(delimiter);
        let mut searched = 0;
        loop {
            if let Some(found) = finder.find(&self.buffer[searched..]) {
                let end = searched + found + delimiter.len();
                return self.take_match(transport, close, end, max_bytes, || {
                    describe_delimiter(delimiter)
                });
            }
            self.check_max_bytes(transport, close, max_bytes, || {
                describe_delimiter(delimiter)
            })?;
            // A match starting before this point would have been found already.
            searched = self
                .buffer
                .len()
                .saturating_sub(delimiter.len().saturating_sub(1));
            self.fill(transport, close).await?;
        }
    }

    /// Tornado's `read_until_regex`: through the end of the first match. A regex cannot resume a
    /// search, so each new read rescans the buffer; `max_bytes` bounds that work.
    pub(crate) async fn read_until_regex<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
        regex: &Regex,
        max_bytes: Option<usize>,
    ) -> Result<Bytes, StreamError> {
        loop {
            if let Some(found) = regex.find(&self.buffer) {
                return self.take_match(transport, close, found.end(), max_bytes, || {
                    format!("regex {:?}", regex.as_str())
                });
            }
            self.check_max_bytes(transport, close, max_bytes, || {
                format!("regex {:?}", regex.as_str())
            })?;
            self.fill(transport, close).await?;
        }
    }

    /// Tornado's `read_bytes`: exactly `count` bytes, or with `partial` as soon as at least one
    /// is available (at most `count`).
    pub(crate) async fn read_bytes<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
        count: usize,
        partial: bool,
    ) -> Result<Bytes, StreamError> {
        let ready = self.wait_for(transport, close, count, partial).await?;
        Ok(self.consume(ready))
    }

    /// Tornado's `read_into`: fills `destination` (or with `partial`, part of it) and returns how
    /// many bytes were copied. Goes through the buffer so a cancelled call loses nothing.
    pub(crate) async fn read_into<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
        destination: &mut [u8],
        partial: bool,
    ) -> Result<usize, StreamError> {
        let ready = self
            .wait_for(transport, close, destination.len(), partial)
            .await?;
        destination[..ready].copy_from_slice(&self.buffer[..ready]);
        drop(self.consume(ready));
        Ok(ready)
    }

    /// Tornado's `read_until_close`: every byte up to the close. Fails only when an I/O error or
    /// the read limit ended the stream, since then the bytes may be truncated; any other close
    /// (the peer's end of file, a local close, a closed stream) hands back what is buffered.
    pub(crate) async fn read_until_close<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
    ) -> Result<Bytes, StreamError> {
        loop {
            if let Some(reason) = close.reason() {
                return match reason {
                    CloseReason::Io(_)
                    | CloseReason::BufferFull(StreamBufferFullError {
                        side: BufferSide::Read,
                        ..
                    }) => Err(close.closed_error()),
                    _ => Ok(self.consume(self.buffer.len())),
                };
            }
            // Every other failure closed the stream; the check above sorts it out.
            if let Err(full @ StreamError::BufferFull(_)) = self.fill(transport, close).await {
                return Err(full);
            }
        }
    }

    /// Reads until `count` bytes (or with `partial`, any) are buffered; returns how many of
    /// them the caller may take.
    async fn wait_for<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
        count: usize,
        partial: bool,
    ) -> Result<usize, StreamError> {
        if count == 0 {
            return Ok(0);
        }
        if !partial && count > self.max_buffer_size {
            return Err(close.fail(transport, self.full(count)));
        }
        loop {
            let buffered = self.buffer.len();
            if buffered >= count || (partial && buffered > 0) {
                return Ok(buffered.min(count));
            }
            self.fill(transport, close).await?;
        }
    }

    /// Hands out a delimited match ending at `end`, unless it ends past `max_bytes`.
    fn take_match<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
        end: usize,
        max_bytes: Option<usize>,
        describe: impl FnOnce() -> String,
    ) -> Result<Bytes, StreamError> {
        match max_bytes {
            Some(max_bytes) if end > max_bytes => {
                Err(close.fail(transport, unsatisfiable(describe(), max_bytes)))
            }
            _ => Ok(self.consume(end)),
        }
    }

    /// Fails once `max_bytes` are buffered without a match: any match now ends past the limit.
    fn check_max_bytes<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
        max_bytes: Option<usize>,
        describe: impl FnOnce() -> String,
    ) -> Result<(), StreamError> {
        match max_bytes {
            Some(max_bytes) if self.buffer.len() >= max_bytes => {
                Err(close.fail(transport, unsatisfiable(describe(), max_bytes)))
            }
            _ => Ok(()),
        }
    }

    /// Reads once from the transport, within `max_buffer_size`. End of file and I/O errors
    /// close the stream.
    async fn fill<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
    ) -> Result<(), StreamError> {
        close.check_open()?;
        let buffered = self.buffer.len();
        let room = self.max_buffer_size.saturating_sub(buffered);
        if room == 0 {
            return Err(close.fail(transport, self.full(buffered.saturating_add(1))));
        }
        // An empty buffer is usually an idle connection waiting for its next message: keep the
        // parked allocation small, and grow only while data keeps coming.
        let wanted = if buffered == 0 {
            INITIAL_READ_SIZE.min(self.read_chunk_size)
        } else {
            self.next_read_size
        }
        .min(room);
        self.buffer.reserve(wanted);
        let result = transport
            .read_buf(&mut (&mut self.buffer).limit(wanted))
            .await;
        match result {
            Ok(0) => Err(close.fail(transport, CloseReason::PeerClosed)),
            Ok(read) => {
                if read == wanted && wanted >= self.next_read_size {
                    self.next_read_size = (self.next_read_size * 2).min(self.read_chunk_size);
                }
                Ok(())
            }
            Err(error) => Err(close.fail(transport, CloseReason::Io(Arc::new(error)))),
        }
    }

    /// The buffered bytes, for an owner that decodes in place (splitting messages off).
    pub(crate) fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buffer
    }

    /// Reads once into the buffer for an owner that drives the stream: end of input is
    /// `Ok(0)` and errors are returned as they are, the owner deciding what they mean (an HTTP
    /// connection still answers a client that only half-closed). At least `room` free bytes
    /// are made when less than an eighth of that is free. A buffer with no capacity borrows
    /// the loop's spare, and one left empty when the transport has nothing gives it back, so
    /// an idle stream holds no read buffer.
    pub(crate) fn poll_fill_driven<T: AsyncRead + Unpin>(
        &mut self,
        transport: &mut T,
        cx: &mut Context<'_>,
        room: usize,
    ) -> Poll<io::Result<usize>> {
        if self.buffer.capacity() == 0 {
            self.buffer = super::spare::take();
        }
        let room = room.max(1);
        if self.buffer.capacity() - self.buffer.len() < room.div_ceil(8) {
            self.buffer.reserve(room);
        }
        let polled = tokio_util::io::poll_read_buf(Pin::new(transport), cx, &mut self.buffer);
        if polled.is_pending() && !self.keep_idle {
            self.release_if_empty();
        }
        polled
    }

    /// See [`IoStream::keep_read_buffer`](super::IoStream::keep_read_buffer).
    pub(crate) fn keep_idle(&mut self, keep: bool) {
        self.keep_idle = keep;
    }

    /// Gives the buffer back to the loop's spare if nothing is in it.
    pub(crate) fn release_if_empty(&mut self) {
        if self.buffer.is_empty() && self.buffer.capacity() > 0 {
            super::spare::give_back(std::mem::take(&mut self.buffer));
        }
    }

    /// Takes the first `count` bytes, releasing the allocation once nothing is left.
    fn consume(&mut self, count: usize) -> Bytes {
        let taken = self.buffer.split_to(count).freeze();
        if self.buffer.is_empty() {
            self.buffer = BytesMut::new();
        }
        taken
    }

    /// The read-side limit error for an operation needing `needed` buffered bytes.
    fn full(&self, needed: usize) -> CloseReason {
        CloseReason::BufferFull(StreamBufferFullError {
            side: BufferSide::Read,
            limit: self.max_buffer_size,
            needed,
        })
    }
}

impl fmt::Debug for ReadBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadBuffer")
            .field("len", &self.buffer.len())
            .field("max_buffer_size", &self.max_buffer_size)
            .field("read_chunk_size", &self.read_chunk_size)
            .finish()
    }
}

/// The error for a delimiter not found within `max_bytes`.
fn unsatisfiable(delimiter: String, max_bytes: usize) -> CloseReason {
    CloseReason::Unsatisfiable(UnsatisfiableReadError {
        delimiter,
        max_bytes,
    })
}

/// A delimiter as Rust would write it (`b"\r\n"`), for error messages.
fn describe_delimiter(delimiter: &[u8]) -> String {
    format!("delimiter {:?}", Bytes::copy_from_slice(delimiter))
}
