//! The two halves of a split [`IoStream`](super::IoStream), for reading and writing at once.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use regex::bytes::Regex;
use tokio::io::{AsyncRead, AsyncWrite};

use super::close::{CloseReason, CloseState};
use super::error::StreamError;
use super::read_buffer::ReadBuffer;
use super::transport::Shared;
use super::write_buffer::WriteBuffer;

/// The reading half of a split [`IoStream`](super::IoStream); see
/// [`IoStream::split`](super::IoStream::split). Dropping it closes the whole stream.
pub struct ReadHalf<S: AsyncRead + AsyncWrite + Unpin> {
    /// The transport, shared with the write half; released by whichever half closes first.
    pub(crate) transport: Shared<S>,
    /// The read buffer and limits carried over from the stream.
    pub(crate) reader: ReadBuffer,
    /// The stream's close state, shared with the write half and close waiters.
    pub(crate) close: Arc<CloseState>,
}

/// The writing half of a split [`IoStream`](super::IoStream); see
/// [`IoStream::split`](super::IoStream::split). Dropping it closes the whole stream.
pub struct WriteHalf<S: AsyncRead + AsyncWrite + Unpin> {
    /// The transport, shared with the read half; released by whichever half closes first.
    pub(crate) transport: Shared<S>,
    /// The write queue and limit carried over from the stream.
    pub(crate) writer: WriteBuffer,
    /// The stream's close state, shared with the read half and close waiters.
    pub(crate) close: Arc<CloseState>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> ReadHalf<S> {
    /// As [`IoStream::read_until`](super::IoStream::read_until).
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

    /// As [`IoStream::read_until_regex`](super::IoStream::read_until_regex).
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

    /// As [`IoStream::read_bytes`](super::IoStream::read_bytes).
    pub async fn read_bytes(&mut self, count: usize, partial: bool) -> Result<Bytes, StreamError> {
        let (transport, reader, close) = self.read_parts();
        reader.read_bytes(transport, close, count, partial).await
    }

    /// As [`IoStream::read_into`](super::IoStream::read_into).
    pub async fn read_into(
        &mut self,
        buffer: &mut [u8],
        partial: bool,
    ) -> Result<usize, StreamError> {
        let (transport, reader, close) = self.read_parts();
        reader.read_into(transport, close, buffer, partial).await
    }

    /// As [`IoStream::read_until_close`](super::IoStream::read_until_close).
    pub async fn read_until_close(&mut self) -> Result<Bytes, StreamError> {
        let (transport, reader, close) = self.read_parts();
        reader.read_until_close(transport, close).await
    }

    /// The transport, read buffer and close state borrowed apart: a read fills the buffer from
    /// the transport and closes the stream on failure, so it needs all three at once.
    fn read_parts(&mut self) -> (&mut Shared<S>, &mut ReadBuffer, &CloseState) {
        (&mut self.transport, &mut self.reader, &self.close)
    }

    /// As [`IoStream::read_buffer_len`](super::IoStream::read_buffer_len).
    pub fn read_buffer_len(&self) -> usize {
        self.reader.len()
    }

    /// Closes the whole stream; a pending write on the other half fails.
    pub fn close(&mut self) {
        self.close
            .close_and_release(CloseReason::ClosedLocally, &mut self.transport);
    }

    /// Whether the stream is closed.
    pub fn closed(&self) -> bool {
        self.close.is_closed()
    }

    /// As [`IoStream::close_reason`](super::IoStream::close_reason).
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close.reason()
    }

    /// As [`IoStream::set_close_callback`](super::IoStream::set_close_callback); one callback
    /// per stream, whichever half sets it.
    pub fn set_close_callback(&mut self, callback: impl FnOnce() + Send + 'static) {
        self.close.set_callback(Box::new(callback));
    }

    /// As [`IoStream::wait_for_close`](super::IoStream::wait_for_close).
    pub fn wait_for_close(&self) -> impl Future<Output = CloseReason> + Send + 'static {
        self.close.wait()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WriteHalf<S> {
    /// As [`IoStream::write`](super::IoStream::write).
    pub async fn write(&mut self, data: impl Into<Bytes>) -> Result<(), StreamError> {
        self.queue_write(data)?;
        self.flush().await
    }

    /// As [`IoStream::queue_write`](super::IoStream::queue_write).
    pub fn queue_write(&mut self, data: impl Into<Bytes>) -> Result<(), StreamError> {
        let (transport, writer, close) = self.write_parts();
        writer.queue(transport, close, data.into())
    }

    /// As [`IoStream::flush`](super::IoStream::flush).
    pub async fn flush(&mut self) -> Result<(), StreamError> {
        let (transport, writer, close) = self.write_parts();
        writer.flush(transport, close).await
    }

    /// The transport, write queue and close state borrowed apart: a write drains the queue into
    /// the transport and closes the stream on failure, so it needs all three at once.
    fn write_parts(&mut self) -> (&mut Shared<S>, &mut WriteBuffer, &CloseState) {
        (&mut self.transport, &mut self.writer, &self.close)
    }

    /// As [`IoStream::write_buffer_len`](super::IoStream::write_buffer_len).
    pub fn write_buffer_len(&self) -> usize {
        self.writer.len()
    }

    /// As [`IoStream::writing`](super::IoStream::writing).
    pub fn writing(&self) -> bool {
        self.writer.len() > 0
    }

    /// Closes the whole stream, discarding queued writes; a pending read on the other half
    /// fails.
    pub fn close(&mut self) {
        self.writer.clear();
        self.close
            .close_and_release(CloseReason::ClosedLocally, &mut self.transport);
    }

    /// Whether the stream is closed.
    pub fn closed(&self) -> bool {
        self.close.is_closed()
    }

    /// As [`IoStream::close_reason`](super::IoStream::close_reason).
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.close.reason()
    }

    /// As [`IoStream::set_close_callback`](super::IoStream::set_close_callback); one callback
    /// per stream, whichever half sets it.
    pub fn set_close_callback(&mut self, callback: impl FnOnce() + Send + 'static) {
        self.close.set_callback(Box::new(callback));
    }

    /// As [`IoStream::wait_for_close`](super::IoStream::wait_for_close).
    pub fn wait_for_close(&self) -> impl Future<Output = CloseReason> + Send + 'static {
        self.close.wait()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Drop for ReadHalf<S> {
    fn drop(&mut self) {
        self.close
            .close_and_release(CloseReason::Dropped, &mut self.transport);
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Drop for WriteHalf<S> {
    fn drop(&mut self) {
        self.close
            .close_and_release(CloseReason::Dropped, &mut self.transport);
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReadHalf")
            .field("transport", &self.transport)
            .field("reader", &self.reader)
            .field("close", &self.close)
            .finish()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteHalf")
            .field("transport", &self.transport)
            .field("writer", &self.writer)
            .field("close", &self.close)
            .finish()
    }
}
