//! [`IoStream`]: one transport with its read buffer, write buffer and close state.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use regex::bytes::Regex;
use tokio::io::{AsyncRead, AsyncWrite};

use super::close::{CloseReason, CloseState};
use super::error::StreamError;
use super::limits::StreamLimits;
use super::read_buffer::ReadBuffer;
use super::split::{ReadHalf, WriteHalf};
use super::transport::{Owned, Shared};
use super::write_buffer::WriteBuffer;

/// A buffered, limit-checked stream (Tornado's `IOStream`) over any
/// `AsyncRead + AsyncWrite + Unpin` transport.
///
/// Reads go through a read buffer bounded by [`StreamLimits::max_buffer_size`]; writes through a
/// write queue bounded by [`StreamLimits::max_write_buffer_size`]. Any failure closes the
/// stream, and the first cause is kept: every later operation fails with
/// [`StreamClosedError`](super::StreamClosedError) naming it.
///
/// Operations take `&mut self`: one reader or writer at a time, like a Tornado stream on its
/// loop. To read and write at once, [`split`](Self::split) it.
pub struct IoStream<S> {
    /// The socket (or other transport); released the moment the stream closes.
    pub(crate) transport: Owned<S>,
    /// Bytes read but not yet consumed, and the read limits.
    pub(crate) reader: ReadBuffer,
    /// Bytes queued but not yet written, and the write limit.
    pub(crate) writer: WriteBuffer,
    /// Why and whether the stream closed; shared with close waiters and with split halves.
    pub(crate) close: Arc<CloseState>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> IoStream<S> {
    /// Wraps a transport with the default [`StreamLimits`].
    pub fn new(inner: S) -> Self {
        Self::with_limits(inner, StreamLimits::default())
    }

    /// Wraps a transport with the given limits.
    pub fn with_limits(inner: S, limits: StreamLimits) -> Self {
        IoStream {
            transport: Owned(Some(inner)),
            reader: ReadBuffer::new(&limits),
            writer: WriteBuffer::new(&limits),
            close: CloseState::new(),
        }
    }

    /// Replaces the limits; bytes already buffered are kept even if above the new ones.
    pub fn set_limits(&mut self, limits: StreamLimits) {
        self.reader.set_limits(&limits);
        self.writer.set_limits(&limits);
    }

    /// The transport, while the stream is open.
    pub fn get_ref(&self) -> Option<&S> {
        self.transport.0.as_ref()
    }

    /// The transport, mutably, while the stream is open. Reading or writing it directly
    /// bypasses the buffers.
    pub fn get_mut(&mut self) -> Option<&mut S> {
        self.transport.0.as_mut()
    }

    /// Reads through the first `delimiter` and returns the bytes including it.
    ///
    /// With `max_bytes`, if the delimiter does not end within that many bytes this fails with
    /// [`UnsatisfiableReadError`](super::UnsatisfiableReadError) and closes the stream. Either
    /// way, filling [`StreamLimits::max_buffer_size`] without a match fails with
    /// [`StreamBufferFullError`](super::StreamBufferFullError) and closes it. Cancel safe.
    pub async fn read_until(
        &mut self,
        delimiter: &[u8],
        max_bytes: Option<usize>,
    ) -> Result<Bytes, StreamError> {
        let (transport, reader, close) = self.read_parts();
        reader
            .read_until(transport, close, delimiter, max_bytes)
            .await
    }

    /// Reads through the end of the first match of `regex`, with the limits of
    /// [`read_until`](Self::read_until). The buffer is rescanned after each read from the
    /// transport, so give `max_bytes` when the peer is untrusted. Cancel safe.
    pub async fn read_until_regex(
        &mut self,
        regex: &Regex,
        max_bytes: Option<usize>,
    ) -> Result<Bytes, StreamError> {
        let (transport, reader, close) = self.read_parts();
        reader
            .read_until_regex(transport, close, regex, max_bytes)
            .await
    }

    /// Reads exactly `count` bytes; with `partial`, returns as soon as 1 to `count` bytes are
    /// available. Without `partial`, a `count` above [`StreamLimits::max_buffer_size`] fails
    /// with [`StreamBufferFullError`](super::StreamBufferFullError). Cancel safe.
    pub async fn read_bytes(&mut self, count: usize, partial: bool) -> Result<Bytes, StreamError> {
        let (transport, reader, close) = self.read_parts();
        reader.read_bytes(transport, close, count, partial).await
    }

    /// Fills `buffer` (with `partial`, 1 byte or more of it) and returns how many bytes were
    /// copied. Limits as for [`read_bytes`](Self::read_bytes). Cancel safe.
    pub async fn read_into(
        &mut self,
        buffer: &mut [u8],
        partial: bool,
    ) -> Result<usize, StreamError> {
        let (transport, reader, close) = self.read_parts();
        reader.read_into(transport, close, buffer, partial).await
    }

    /// Reads until the peer closes and returns everything (bounded by
    /// [`StreamLimits::max_buffer_size`]). On a stream closed for another reason than an I/O
    /// error or the read limit, returns what is still buffered, possibly nothing. Cancel safe.
    pub async fn read_until_close(&mut self) -> Result<Bytes, StreamError> {
        let (transport, reader, close) = self.read_parts();
        reader.read_until_close(transport, close).await
    }

    /// The transport, read buffer and close state borrowed apart: a read fills the buffer from
    /// the transport and closes the stream on failure, so it needs all three at once.
    fn read_parts(&mut self) -> (&mut Owned<S>, &mut ReadBuffer, &CloseState) {
        (&mut self.transport, &mut self.reader, &self.close)
    }

    /// How many bytes are buffered for reading. Never above [`StreamLimits::max_buffer_size`].
    pub fn read_buffer_len(&self) -> usize {
        self.reader.len()
    }

    /// Queues `data` and resolves once everything queued reached the transport and was
    /// flushed (for TCP: the kernel took it). Past [`StreamLimits::max_write_buffer_size`] this
    /// fails with [`StreamBufferFullError`](super::StreamBufferFullError) and closes the
    /// stream. If cancelled, the bytes stay queued for the next [`flush`](Self::flush).
    pub async fn write(&mut self, data: impl Into<Bytes>) -> Result<(), StreamError> {
        self.queue_write(data)?;
        self.flush().await
    }

    /// Queues `data` without waiting; [`flush`](Self::flush) or the next
    /// [`write`](Self::write) sends it. Past [`StreamLimits::max_write_buffer_size`] this fails
    /// and closes the stream, so a peer that never reads cannot grow our memory.
    pub fn queue_write(&mut self, data: impl Into<Bytes>) -> Result<(), StreamError> {
        let (transport, writer, close) = self.write_parts();
        writer.queue(transport, close, data.into())
    }

    /// Writes everything queued and flushes the transport. Cancel safe.
    pub async fn flush(&mut self) -> Result<(), StreamError> {
        let (transport, writer, close) = self.write_parts();
        writer.flush(transport, close).await
    }

    /// The transport, write queue and close state borrowed apart: a write drains the queue into
    /// the transport and closes the stream on failure, so it needs all three at once.
    fn write_parts(&mut self) -> (&mut Owned<S>, &mut WriteBuffer, &CloseState) {
        (&mut self.transport, &mut self.writer, &self.close)
    }

    /// How many bytes are queued for writing. Never above
    /// [`StreamLimits::max_write_buffer_size`].
    pub fn write_buffer_len(&self) -> usize {
        self.writer.len()
    }

    /// Whether bytes are queued for writing (Tornado's `writing()`).
    pub fn writing(&self) -> bool {
        self.writer.len() > 0
    }

    /// Splits the stream so one task can read while another writes (WebSocket style).
    ///
    /// Each half keeps its side's buffer and limits; both share the close state, so the close
    /// callback still fires once and [`wait_for_close`](Self::wait_for_close) futures taken
    /// before the split still resolve. Closing *or dropping* either half closes the whole
    /// stream, as in Tornado where a stream is one object; the other half's pending operation
    /// is woken and fails with [`StreamClosedError`](super::StreamClosedError).
    pub fn split(mut self) -> (ReadHalf<S>, WriteHalf<S>) {
        // Taking the transport also tells `Drop` the halves own the stream now.
        let (read_transport, write_transport) = Shared::pair(self.transport.0.take());
        let limits = StreamLimits::default();
        let reader = std::mem::replace(&mut self.reader, ReadBuffer::new(&limits));
        let writer = std::mem::replace(&mut self.writer, WriteBuffer::new(&limits));
        (
            ReadHalf {
                transport: read_transport,
                reader,
                close: Arc::clone(&self.close),
            },
            WriteHalf {
                transport: write_transport,
                writer,
                close: Arc::clone(&self.close),
            },
        )
    }
}

impl<S> IoStream<S> {
    /// Closes the stream now (Tornado's `close()`): drops the transport, discards queued
    /// writes, fires the close callback if this is the first close. Bytes already buffered
    /// for reading stay readable. Closing again does nothing.
    pub fn close(&mut self) {
        self.writer.clear();
        let transport = self.transport.0.take();
        self.close
            .close_with(CloseReason::ClosedLocally, move || drop(transport));
    }

    /// Whether the stream is closed.
    pub fn closed(&self) -> bool {
        self.close.is_closed()
    }

    /// Why the stream closed, once it has (Tornado's `error` attribute, as a value).
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close.reason()
    }

    /// Sets the function called once when the stream closes, whatever closes it: the peer's
    /// end of file seen by a read, an I/O error, a limit, [`close`](Self::close), or drop. It
    /// replaces an earlier one, and runs at once if the stream is already closed. It runs
    /// inside the operation that closed the stream, so it must not block.
    pub fn set_close_callback(&mut self, callback: impl FnOnce() + Send + 'static) {
        self.close.set_callback(Box::new(callback));
    }

    /// A future, independent of the stream's lifetime, that resolves with the reason once the
    /// stream closes (immediately if it already has).
    pub fn wait_for_close(&self) -> impl Future<Output = CloseReason> + Send + 'static {
        self.close.wait()
    }
}

impl<S> Drop for IoStream<S> {
    fn drop(&mut self) {
        // No transport means closed already or split: the halves close on their own drop.
        if let Some(transport) = self.transport.0.take() {
            self.close
                .close_with(CloseReason::Dropped, move || drop(transport));
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for IoStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoStream")
            .field("transport", &self.transport.0)
            .field("reader", &self.reader)
            .field("writer", &self.writer)
            .field("close", &self.close)
            .finish()
    }
}
