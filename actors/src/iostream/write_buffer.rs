//! The write side: bytes queued for the transport, bounded by `max_write_buffer_size`.
//!
//! Writes are kept as the caller's own `Bytes` (no copy) and sent with vectored writes. Small
//! writes queued behind others are copied into one tail buffer instead, so a burst of tiny
//! writes costs bytes, not one queue entry each.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::AsyncWrite;

use super::close::{CloseReason, CloseState};
use super::error::{BufferSide, StreamBufferFullError, StreamError};
use super::limits::StreamLimits;
use super::transport::Transport;

/// Writes shorter than this, queued behind others, are copied into the tail buffer.
const COALESCE_BELOW: usize = 1024;
/// The most slices handed to one vectored write (Linux's `UIO_MAXIOV` is 1024).
const MAX_SLICES: usize = 64;

/// Bytes accepted from the caller and not yet accepted by the transport.
pub(crate) struct WriteBuffer {
    /// Queued writes, oldest first, all before `tail`.
    chunks: VecDeque<Bytes>,
    /// Small writes queued behind `chunks`, coalesced; always the newest bytes.
    tail: BytesMut,
    /// Total bytes in `chunks` and `tail`, checked against the limit on every write.
    len: usize,
    /// See [`StreamLimits::max_write_buffer_size`].
    max_write_buffer_size: usize,
}

impl WriteBuffer {
    /// An empty buffer with `limits`.
    pub(crate) fn new(limits: &StreamLimits) -> Self {
        WriteBuffer {
            chunks: VecDeque::new(),
            tail: BytesMut::new(),
            len: 0,
            max_write_buffer_size: limits.max_write_buffer_size,
        }
    }

    /// Applies new limits; bytes already queued are kept even if above the new maximum.
    pub(crate) fn set_limits(&mut self, limits: &StreamLimits) {
        self.max_write_buffer_size = limits.max_write_buffer_size;
    }

    /// How many bytes are queued.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Queues `data`. Past the limit the stream is closed and `data` dropped, so a peer that
    /// never reads cannot make us hold more than the limit.
    pub(crate) fn queue<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
        data: Bytes,
    ) -> Result<(), StreamError> {
        close.check_open()?;
        let needed = self.len.saturating_add(data.len());
        if needed > self.max_write_buffer_size {
            let error = StreamBufferFullError {
                side: BufferSide::Write,
                limit: self.max_write_buffer_size,
                needed,
            };
            self.clear();
            return Err(close.fail(transport, CloseReason::BufferFull(error)));
        }
        self.len = needed;
        if data.is_empty() {
            // Nothing to queue; an empty chunk would only make a vectored write return 0.
        } else if self.chunks.is_empty() && self.tail.is_empty() {
            self.chunks.push_back(data);
        } else if data.len() < COALESCE_BELOW {
            self.tail.extend_from_slice(&data);
        } else {
            if !self.tail.is_empty() {
                self.chunks.push_back(self.tail.split().freeze());
            }
            self.chunks.push_back(data);
        }
        Ok(())
    }

    /// Writes everything queued and flushes the transport. Cancel safe: bytes the transport
    /// took are gone from the queue, the rest stay for the next flush.
    pub(crate) async fn flush<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
    ) -> Result<(), StreamError> {
        close.check_open()?;
        match poll_fn(|cx| self.poll_flush(transport, cx)).await {
            Ok(()) => Ok(()),
            Err(error) => {
                self.clear();
                Err(close.fail(transport, CloseReason::Io(Arc::new(error))))
            }
        }
    }

    /// Drops everything queued: a closed stream will never send it.
    pub(crate) fn clear(&mut self) {
        self.chunks = VecDeque::new();
        self.tail = BytesMut::new();
        self.len = 0;
    }

    /// Drives queued bytes into the transport, then flushes it.
    fn poll_flush<T: AsyncWrite + Unpin>(
        &mut self,
        transport: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        while self.len > 0 {
            let written = {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                let mut count = 0;
                for chunk in self.chunks.iter().take(MAX_SLICES) {
                    slices[count] = IoSlice::new(chunk);
                    count += 1;
                }
                if count < MAX_SLICES && !self.tail.is_empty() {
                    slices[count] = IoSlice::new(&self.tail);
                    count += 1;
                }
                ready!(Pin::new(&mut *transport).poll_write_vectored(cx, &slices[..count]))?
            };
            if written == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.advance(written);
        }
        Pin::new(transport).poll_flush(cx)
    }

    /// Forgets the first `written` bytes, releasing memory once the queue is empty so idle
    /// streams hold nothing.
    fn advance(&mut self, written: usize) {
        // A transport claiming more than it was offered must not make us panic.
        let mut written = written.min(self.len);
        self.len -= written;
        while written > 0 {
            match self.chunks.front_mut() {
                Some(chunk) if chunk.len() <= written => {
                    written -= chunk.len();
                    self.chunks.pop_front();
                }
                Some(chunk) => {
                    chunk.advance(written);
                    written = 0;
                }
                None => {
                    self.tail.advance(written);
                    written = 0;
                }
            }
        }
        if self.len == 0 {
            self.clear();
        }
    }
}

impl fmt::Debug for WriteBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteBuffer")
            .field("len", &self.len)
            .field("max_write_buffer_size", &self.max_write_buffer_size)
            .finish()
    }
}
