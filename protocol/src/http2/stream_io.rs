//! [`StreamIo`]: one HTTP/2 stream as a byte stream (`AsyncRead + AsyncWrite`), the transport
//! a WebSocket over HTTP/2 (RFC 8441) runs on once its extended CONNECT is answered 200, on
//! the server (the stream a client opened) and on the client (the stream it opened) alike.
//!
//! The WebSocket connection actor reads and writes it as it would a TCP socket, so its codec,
//! limits, pings and close handshake apply unchanged. DATA frames carry the WebSocket frames
//! both ways; the `h2` connection (driven by the HTTP/2 connection actor on the server, by a
//! task on the client's loop) does the framing.
//!
//! # Flow control
//!
//! - Reading gives the peer its window back as bytes are read out, not as they arrive: a
//!   WebSocket actor that stops reading (a paused handler) stops the peer after one window.
//! - Writing waits for window capacity from `h2` before it takes any byte, and takes at most
//!   what was granted: nothing waits in `h2`'s buffers that the peer's window does not
//!   already allow, so what is written leaves with the connection's next write. Each write
//!   takes at most [`MAX_WRITE_PIECE`] bytes.
//!
//! # Ending
//!
//! Dropping the adapter (the WebSocket actor stopped) or shutting it down ends the stream the
//! way closing a TCP socket ends a connection (RFC 8441 §5): END_STREAM after what was
//! written, so a close frame still queued goes out first (if the peer has not ended its side
//! by then, `h2` follows with RST_STREAM(NO_ERROR), RFC 9113 §8.1). Dropped while a write
//! waits for window the peer never gave (the actor gave up on a peer that does not read),
//! the stream is reset with CANCEL instead, the abnormal close of RFC 8441 §5.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Most bytes one write hands to `h2`: one 16 KiB DATA frame at the default frame size, so a
/// large message is framed as the peer's window opens instead of reserved all at once.
pub(crate) const MAX_WRITE_PIECE: usize = 16 * 1024;

/// An HTTP/2 stream read and written as a byte stream; see the [module docs](self).
pub(crate) struct StreamIo {
    /// The peer's DATA frames.
    recv: RecvStream,
    /// Our DATA frames.
    send: SendStream<Bytes>,
    /// The rest of the last DATA frame received, not read out yet (its window is still held).
    pending: Bytes,
    /// END_STREAM is sent: nothing more may be written, and the drop has nothing left to do.
    ended: bool,
    /// The last write waits for window: dropped now, the stream is reset rather than ended.
    stalled: bool,
}

impl StreamIo {
    /// The stream of an extended CONNECT, once its 200 is sent (server) or received (client).
    pub(crate) fn new(recv: RecvStream, send: SendStream<Bytes>) -> Self {
        StreamIo {
            recv,
            send,
            pending: Bytes::new(),
            ended: false,
            stalled: false,
        }
    }
}

impl fmt::Debug for StreamIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamIo")
            .field("pending", &self.pending.len())
            .field("ended", &self.ended)
            .field("stalled", &self.stalled)
            .finish_non_exhaustive()
    }
}

/// The I/O error a failed stream is to the WebSocket actor: a reset or a broken connection
/// reads as a reset TCP connection (the actor reports 1006, as on HTTP/1.1).
fn stream_error(error: h2::Error) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionReset, error)
}

impl AsyncRead for StreamIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if buf.remaining() == 0 {
            return Poll::Ready(Ok(()));
        }
        while this.pending.is_empty() {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => this.pending = data,
                Some(Err(error)) => return Poll::Ready(Err(stream_error(error))),
                // END_STREAM: the peer closed its side, as a FIN would.
                None => return Poll::Ready(Ok(())),
            }
        }
        let count = buf.remaining().min(this.pending.len());
        buf.put_slice(&this.pending.split_to(count));
        // Fails only once the stream is gone, when there is no window left to give.
        let _ = this.recv.flow_control().release_capacity(count);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for StreamIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let wanted = buf.len().min(MAX_WRITE_PIECE);
        let mut capacity = this.send.capacity();
        if capacity == 0 {
            this.send.reserve_capacity(wanted);
            // `h2` reports each change of capacity once; a report of none waits for the next.
            while capacity == 0 {
                this.stalled = true;
                capacity = match ready!(this.send.poll_capacity(cx)) {
                    Some(Ok(capacity)) => capacity,
                    Some(Err(error)) => return Poll::Ready(Err(stream_error(error))),
                    None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
                };
            }
        }
        this.stalled = false;
        let count = wanted.min(capacity);
        this.send
            .send_data(Bytes::copy_from_slice(&buf[..count]), false)
            .map_err(stream_error)?;
        Poll::Ready(Ok(count))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // What `send_data` took is within the peer's window: the connection writes it on
        // its next turn (and flushes it; a stalled transport is the connection's business:
        // the server's `write_timeout`, the client's keep-alive).
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().end();
        Poll::Ready(Ok(()))
    }
}

impl StreamIo {
    /// Sends END_STREAM once.
    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            // Fails only if the peer reset the stream already: nothing left to end.
            let _ = self.send.send_data(Bytes::new(), true);
        }
    }
}

impl Drop for StreamIo {
    fn drop(&mut self) {
        if self.stalled && !self.ended {
            self.send.send_reset(Reason::CANCEL);
        } else {
            self.end();
        }
    }
}
