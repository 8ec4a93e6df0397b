//! [`Watched`]: a connection's stream as `h2` sees it, watched for the two things `h2` does
//! not time itself: when the peer last sent anything (the keep-alive PINGs go to silent
//! connections only), and a peer that takes none of the bytes written to it (the write
//! timeout, the server's). (The bytes a server read before the hand-over, an h2c preface, are
//! in the `IoStream`'s read buffer, which `h2` reads first.)
//!
//! `h2` reads a frame only once the answer to the previous one (a SETTINGS or PING
//! acknowledgement) is queued, and queues only what its bounded buffer holds; so a client that
//! floods frames and never reads stalls the server's writes, and then its reads. The stall
//! timer here turns that into a closed connection after `write_timeout`, as the HTTP/1.1
//! connection does, instead of a connection held for ever. (The client has no write timeout:
//! a server that stops reading stops answering its keep-alive PINGs as well.)

use std::cell::Cell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// `inner`, recording reads and failing writes that make no progress for `write_timeout`.
#[derive(Debug)]
pub(crate) struct Watched<T> {
    /// The transport.
    inner: T,
    /// When the peer last sent bytes; shared with the keep-alive, which pings only after
    /// `keep_alive_interval` of silence.
    last_read: Rc<Cell<Instant>>,
    /// How long a write may wait for the peer to take bytes (the server's `write_timeout`),
    /// and the timer that fires that long after a write first found the transport full
    /// (reset by any progress; allocated once per connection). `None` without a write
    /// timeout: a write waits as long as it takes.
    stall: Option<(Duration, Pin<Box<Sleep>>)>,
    /// Whether `stall` is counting (a write is waiting).
    stalled: bool,
}

impl<T> Watched<T> {
    /// Watches `inner`; `last_read` is set now and at every read that brings bytes. A write
    /// that waits longer than `write_timeout` for the peer fails; `None` lets it wait.
    pub(crate) fn new(
        inner: T,
        last_read: Rc<Cell<Instant>>,
        write_timeout: Option<Duration>,
    ) -> Self {
        last_read.set(Instant::now());
        Watched {
            inner,
            last_read,
            stall: write_timeout.map(|timeout| (timeout, Box::pin(tokio::time::sleep(timeout)))),
            stalled: false,
        }
    }

    /// What a write that got `poll` from the transport reports: progress stops the stall
    /// clock; waiting starts it, and past `write_timeout` fails with `TimedOut`.
    fn watch<R>(&mut self, cx: &mut Context<'_>, poll: Poll<io::Result<R>>) -> Poll<io::Result<R>> {
        if poll.is_ready() {
            self.stalled = false;
            return poll;
        }
        let Some((write_timeout, stall)) = self.stall.as_mut() else {
            return poll;
        };
        if !self.stalled {
            self.stalled = true;
            stall.as_mut().reset(Instant::now() + *write_timeout);
        }
        ready!(stall.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the HTTP/2 peer took no bytes within write_timeout",
        )))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let poll = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.last_read.set(Instant::now());
        }
        poll
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch(cx, poll)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch(cx, poll)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, poll)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.inner).poll_shutdown(cx);
        this.watch(cx, poll)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_write_the_peer_takes_nothing_of_fails_after_write_timeout() {
        // The peer never reads: 16 bytes fit, then the write waits.
        let (ours, _peer) = tokio::io::duplex(16);
        let timeout = Duration::from_millis(50);
        let mut watched = Watched::new(ours, Rc::new(Cell::new(Instant::now())), Some(timeout));
        let started = Instant::now();
        let error = tokio::time::timeout(Duration::from_secs(10), watched.write_all(&[0; 64]))
            .await
            .expect("the stall timer ends the write")
            .unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() >= timeout);
    }

    #[tokio::test]
    async fn without_a_write_timeout_a_stalled_write_waits() {
        let (ours, _peer) = tokio::io::duplex(16);
        let mut watched = Watched::new(ours, Rc::new(Cell::new(Instant::now())), None);
        let waited =
            tokio::time::timeout(Duration::from_millis(100), watched.write_all(&[0; 64])).await;
        assert!(waited.is_err(), "the write still waits for the peer");
    }

    #[tokio::test]
    async fn reads_that_bring_bytes_move_the_last_read_clock() {
        let (ours, mut peer) = tokio::io::duplex(64);
        let last_read = Rc::new(Cell::new(Instant::now()));
        let mut watched = Watched::new(ours, last_read.clone(), Some(Duration::from_secs(1)));
        // Turns the clock back, so that a read moving it is seen even within one clock tick.
        let earlier = last_read
            .get()
            .checked_sub(Duration::from_millis(1))
            .expect("the monotonic clock is past its first millisecond");
        last_read.set(earlier);
        peer.write_all(b"ping").await.unwrap();
        let mut buffer = [0u8; 4];
        watched.read_exact(&mut buffer).await.unwrap();
        assert_eq!(&buffer, b"ping");
        assert!(last_read.get() > earlier);
    }
}
