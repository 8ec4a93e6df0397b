//! Owner-driven access to an [`IoStream`]: how a connection actor runs a protocol over the
//! stream it owns with no copy between the stream and its codec.
//!
//! Tornado's reads and writes (`read_until`, `write`...) are futures that each own the stream
//! while they run. A connection actor instead polls its stream from its own loop: it decodes
//! straight from the read buffer ([`read_buffer_mut`](IoStream::read_buffer_mut), splitting
//! messages off without copying), encodes straight into the write buffer
//! ([`write_buffer_mut`](IoStream::write_buffer_mut)), hands large bodies over as they are
//! ([`push_write`](IoStream::push_write)), and moves bytes with
//! [`poll_fill`](IoStream::poll_fill) and [`poll_send`](IoStream::poll_send), deciding itself
//! what end of input and errors mean (an HTTP connection still answers a client that only
//! half-closed). The buffers are the stream's own: the same limits, the same release of idle
//! memory (a read buffer left empty goes back to the loop's spare), the same close.

use std::io;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite};

use super::stream::IoStream;

impl<S: AsyncRead + AsyncWrite + Unpin> IoStream<S> {
    /// The bytes read and not yet consumed, for a codec that decodes in place (it splits what
    /// it decodes off the front).
    pub fn read_buffer_mut(&mut self) -> &mut BytesMut {
        self.reader.buffer_mut()
    }

    /// Reads once from the transport into the read buffer, making at least `room` bytes free
    /// when less than an eighth of that is. `Ready(Ok(0))` is the peer's end of input;
    /// `Pending` registers the task. Nothing here closes the stream: end of input and errors
    /// are the owner's to act on. An empty read buffer is lent by the loop and given back when
    /// the transport has nothing, so idle streams hold no read buffer.
    pub fn poll_fill(&mut self, cx: &mut Context<'_>, room: usize) -> Poll<io::Result<usize>> {
        let IoStream {
            transport, reader, ..
        } = self;
        reader.poll_fill_driven(transport, cx, room)
    }

    /// Whether a driven read keeps its read buffer when the transport has nothing, rather than
    /// lending it back to the loop. Default: lend it back (an idle stream holds no read
    /// buffer). Keeping it saves a hand-over per read for a connection that is rarely idle
    /// for long (HTTP keep-alive answering request after request).
    pub fn keep_read_buffer(&mut self, keep: bool) {
        self.reader.keep_idle(keep);
    }

    /// Gives an empty read buffer back to the loop's spare now (an owner about to wait on
    /// something other than its transport).
    pub fn release_read_buffer(&mut self) {
        self.reader.release_if_empty();
    }

    /// The write buffer's tail, to encode into: what is appended goes out after everything
    /// queued before. The owner bounds it ([`write_buffer_len`](IoStream::write_buffer_len)):
    /// encoding directly is not checked against
    /// [`StreamLimits::max_write_buffer_size`](super::StreamLimits::max_write_buffer_size).
    pub fn write_buffer_mut(&mut self) -> &mut BytesMut {
        self.writer.tail_mut()
    }

    /// Queues `data` after what is queued, without copying it when it is large (a response
    /// body), and without the limit check of [`queue_write`](IoStream::queue_write): the
    /// owner bounds its queue itself.
    pub fn push_write(&mut self, data: Bytes) {
        self.writer.push(data);
    }

    /// Writes what the transport takes now, and flushes it once everything is written.
    /// `Ready(Ok(moved))` says whether any bytes went; `Pending` (task registered) only when
    /// none could. Errors are the transport's; nothing here closes the stream.
    pub fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<bool>> {
        let IoStream {
            transport, writer, ..
        } = self;
        writer.poll_send(transport, cx)
    }

    /// Whether everything queued is written and the transport flushed.
    pub fn is_flushed(&self) -> bool {
        self.writer.is_flushed()
    }

    /// Bytes the transport has accepted since the stream began: how far the writes have got
    /// (a write queued when this was `n` and `len` bytes long is out once it reaches `n +
    /// len`).
    pub fn bytes_written(&self) -> u64 {
        self.writer.written()
    }

    /// Shuts the transport's writing side down (TCP's FIN after what is written); reading
    /// goes on.
    pub fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(std::pin::Pin::new(&mut self.transport), cx)
    }

    /// The transport and the bytes read but not consumed, for handing the connection to
    /// another owner in another form (a protocol switch). Bytes queued for writing are
    /// dropped: write them first. `None` once the stream is closed.
    pub fn into_parts(mut self) -> Option<(S, BytesMut)> {
        let transport = self.transport.0.take()?;
        let read = std::mem::take(self.reader.buffer_mut());
        Some((transport, read))
    }

    /// A stream over `transport` that has already read `read` (the bytes that followed a
    /// protocol switch), with the default limits.
    pub fn with_read_buffer(transport: S, read: BytesMut) -> Self {
        let mut stream = IoStream::new(transport);
        *stream.reader.buffer_mut() = read;
        stream
    }
}
