//! An [`IoStream`] as a tokio byte stream (`AsyncRead + AsyncWrite`), for a protocol library
//! that keeps its own framing buffers (the `h2` crate): the connection actor still owns the
//! stream, its read buffer (what was read before the hand-over comes first), its write queue,
//! and the loop's lending of idle read buffers.
//!
//! Bytes are copied once more each way than through the owner-driven calls in `driven.rs`
//! (from the read buffer into the library's, from the library's into the write buffer): a few
//! dozen bytes per HTTP/2 request, against the library's own framing work.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Buf;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::stream::IoStream;

/// Bytes a writer may leave queued before a write waits for the transport to take some: the
/// library above bounds what it writes per flush itself; this bounds the copy.
const WRITE_HIGH_WATER: usize = 64 * 1024;

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for IoStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read_buffer_len() == 0 {
            // End of input is a read of nothing, as tokio's readers report it.
            ready!(this.poll_fill(cx, buf.remaining()))?;
        }
        let buffer = this.read_buffer_mut();
        let take = buffer.len().min(buf.remaining());
        buf.put_slice(&buffer[..take]);
        buffer.advance(take);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for IoStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_room(cx))?;
        this.write_buffer_mut().extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_room(cx))?;
        let tail = this.write_buffer_mut();
        let mut written = 0;
        for slice in bufs {
            tail.extend_from_slice(slice);
            written += slice.len();
        }
        Poll::Ready(Ok(written))
    }

    fn is_write_vectored(&self) -> bool {
        // Copied into one buffer either way: taking every slice at once saves calls.
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while !this.is_flushed() {
            // `Ready` means bytes moved (go on) or all is out; `Pending` registered the task.
            ready!(this.poll_send(cx))?;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(Pin::new(&mut *this).poll_flush(cx))?;
        IoStream::poll_shutdown(this, cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> IoStream<S> {
    /// Waits, writing, while more than [`WRITE_HIGH_WATER`] bytes are queued.
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.write_buffer_len() >= WRITE_HIGH_WATER {
            ready!(self.poll_send(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn bytes_read_before_come_first_then_the_transport_and_writes_reach_the_peer() {
        let (ours, mut peer) = tokio::io::duplex(1024);
        let mut stream = IoStream::with_read_buffer(ours, BytesMut::from(&b"before "[..]));
        peer.write_all(b"after").await.unwrap();
        drop(peer.shutdown().await);
        let mut read = Vec::new();
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                stream.write_all(b"answer").await.unwrap();
                stream.flush().await.unwrap();
                let mut chunk = [0u8; 64];
                loop {
                    let count = stream.read(&mut chunk).await.unwrap();
                    if count == 0 || read.len() >= 12 {
                        read.extend_from_slice(&chunk[..count]);
                        break;
                    }
                    read.extend_from_slice(&chunk[..count]);
                }
            })
            .await;
        assert_eq!(read, b"before after");
        let mut answer = [0u8; 6];
        peer.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"answer");
    }
}
