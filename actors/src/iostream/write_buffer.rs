//! The write side: bytes queued for the transport, bounded by `max_write_buffer_size`.
//!
//! Writes are kept as the caller's own `Bytes` (no copy) and sent with vectored writes. Small
//! writes queued behind others are copied into one tail buffer instead, so a burst of tiny
//! writes costs bytes, not one queue entry each. A codec encodes straight into the tail
//! ([`IoStream::write_buffer_mut`](super::IoStream::write_buffer_mut)).

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
/// The most slices handed to one vectored write (Linux's `UIO_MAXIOV` is 1024; more than a
/// few large chunks at once gains nothing, and the slice array is filled on every write).
const MAX_SLICES: usize = 16;
/// A tail this large or smaller keeps its allocation once everything is written, so a
/// connection answering request after request encodes into the same memory; a larger one (a
/// big answer) is freed, so idle streams hold little. 16 KiB.
const KEEP_TAIL_CAPACITY: usize = 16 * 1024;

/// Bytes accepted from the caller and not yet accepted by the transport.
pub(crate) struct WriteBuffer {
    /// Queued writes, oldest first, all before `tail`.
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    chunks_len: usize,
    /// Small writes and encoded bytes queued behind `chunks`; always the newest bytes.
    tail: BytesMut,
    /// See [`StreamLimits::max_write_buffer_size`].
    max_write_buffer_size: usize,
    /// Bytes the transport accepted since the stream began: how far a write has got.
    written: u64,
    /// Bytes went to the transport since its last flush (TLS holds them until flushed).
    needs_flush: bool,
}

impl WriteBuffer {
    /// An empty buffer with `limits`.
    pub(crate) fn new(limits: &StreamLimits) -> Self {
        WriteBuffer {
            chunks: VecDeque::new(),
            chunks_len: 0,
            tail: BytesMut::new(),
            max_write_buffer_size: limits.max_write_buffer_size,
            written: 0,
            needs_flush: false,
        }
    }

    /// Applies new limits; bytes already queued are kept even if above the new maximum.
    pub(crate) fn set_limits(&mut self, limits: &StreamLimits) {
        self.max_write_buffer_size = limits.max_write_buffer_size;
    }

    /// How many bytes are queued.
    pub(crate) fn len(&self) -> usize {
        self.chunks_len + self.tail.len()
    }

    /// Bytes the transport accepted since the stream began.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// Whether everything queued is written and flushed.
    pub(crate) fn is_flushed(&self) -> bool {
        self.len() == 0 && !self.needs_flush
    }

    /// The tail, to encode into: what is appended is queued after everything else.
    pub(crate) fn tail_mut(&mut self) -> &mut BytesMut {
        &mut self.tail
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
        let needed = self.len().saturating_add(data.len());
        if needed > self.max_write_buffer_size {
            let error = StreamBufferFullError {
                side: BufferSide::Write,
                limit: self.max_write_buffer_size,
                needed,
            };
            self.clear();
            return Err(close.fail(transport, CloseReason::BufferFull(error)));
        }
        self.push(data);
        Ok(())
    }

    /// Queues `data` without a limit check: the owner of a driven stream bounds its queue
    /// itself. Large pieces are queued as they are (no copy), small ones copied into the tail.
    pub(crate) fn push(&mut self, data: Bytes) {
        if data.is_empty() {
            // Nothing to queue; an empty chunk would only make a vectored write return 0.
            return;
        }
        if data.len() < COALESCE_BELOW {
            self.tail.extend_from_slice(&data);
            return;
        }
        if !self.tail.is_empty() {
            // The tail holds older bytes: it goes first, as a chunk of its own.
            let tail = self.tail.split().freeze();
            self.chunks_len += tail.len();
            self.chunks.push_back(tail);
        }
        self.chunks_len += data.len();
        self.chunks.push_back(data);
    }

    /// Writes everything queued and flushes the transport. Cancel safe: bytes the transport
    /// took are gone from the queue, the rest stay for the next flush.
    pub(crate) async fn flush<T: Transport>(
        &mut self,
        transport: &mut T,
        close: &CloseState,
    ) -> Result<(), StreamError> {
        close.check_open()?;
        let result = poll_fn(|cx| {
            ready!(self.poll_send(transport, cx))?;
            if self.is_flushed() {
                Poll::Ready(Ok(()))
            } else {
                Poll::Pending
            }
        })
        .await;
        match result {
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
        self.chunks_len = 0;
        self.tail = BytesMut::new();
    }

    /// Writes what the transport takes now, then flushes it once the queue is empty. Ready
    /// with whether any bytes moved; `Pending` only when nothing moved and the transport is
    /// not ready (its waker is registered). Errors are the transport's.
    pub(crate) fn poll_send<T: AsyncWrite + Unpin>(
        &mut self,
        transport: &mut T,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<bool>> {
        let mut moved = false;
        while self.len() > 0 {
            let result = if self.chunks.is_empty() {
                // The common case: everything is in the tail (encoded answers, small writes).
                Pin::new(&mut *transport).poll_write(cx, &self.tail)
            } else {
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
                if count == 1 {
                    Pin::new(&mut *transport).poll_write(cx, slices[0].as_ref())
                } else {
                    Pin::new(&mut *transport).poll_write_vectored(cx, &slices[..count])
                }
            };
            match result {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(written)) => {
                    self.advance(written);
                    self.needs_flush = true;
                    moved = true;
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending if moved => return Poll::Ready(Ok(true)),
                Poll::Pending => return Poll::Pending,
            }
        }
        if self.needs_flush {
            match Pin::new(transport).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.needs_flush = false,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending if moved => return Poll::Ready(Ok(true)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(moved))
    }

    /// Forgets the first `written` bytes. Once the queue is empty, a small tail keeps its
    /// allocation for the next bytes and a large one is freed, so idle streams hold little.
    fn advance(&mut self, written: usize) {
        if self.chunks.is_empty() && written >= self.tail.len() {
            // The common case: the whole tail went in one write.
            self.written += self.tail.len() as u64;
            self.drained();
            return;
        }
        // A transport claiming more than it was offered must not make us panic.
        let mut written = written.min(self.len());
        self.written += written as u64;
        while written > 0 {
            match self.chunks.front_mut() {
                Some(chunk) if chunk.len() <= written => {
                    written -= chunk.len();
                    self.chunks_len -= chunk.len();
                    self.chunks.pop_front();
                }
                Some(chunk) => {
                    chunk.advance(written);
                    self.chunks_len -= written;
                    written = 0;
                }
                None => {
                    self.tail.advance(written);
                    written = 0;
                }
            }
        }
        if self.len() == 0 {
            self.drained();
        }
    }

    /// Everything is written: a small tail keeps its allocation for the next bytes, a large
    /// one is freed, so idle streams hold little.
    fn drained(&mut self) {
        if self.tail.capacity() > KEEP_TAIL_CAPACITY {
            self.tail = BytesMut::new();
        } else {
            self.tail.clear();
        }
    }
}

impl fmt::Debug for WriteBuffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WriteBuffer")
            .field("len", &self.len())
            .field("max_write_buffer_size", &self.max_write_buffer_size)
            .field("written", &self.written)
            .finish()
    }
}
