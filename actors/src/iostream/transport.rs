//! Who holds the socket: the whole stream alone, or both halves of a split stream.
//!
//! Either way, closing drops the transport at once, so the peer sees the close immediately
//! instead of whenever the last handle happens to be dropped.

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures::task::AtomicWaker;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A transport the read and write buffers can drive, and that closing can release.
pub(crate) trait Transport: AsyncRead + AsyncWrite + Unpin {
    /// Drops the underlying stream so the peer sees the close; later I/O fails.
    fn release(&mut self);
}

/// What I/O on a released transport reports; callers translate it into the recorded reason.
fn released() -> io::Error {
    io::Error::new(io::ErrorKind::NotConnected, "stream is closed")
}

/// The transport of an unsplit stream: owned outright, `None` once closed.
#[derive(Debug)]
pub(crate) struct Owned<S>(pub(crate) Option<S>);

impl<S: Unpin> Owned<S> {
    /// Runs `f` on the stream while it is open; I/O after the release fails as
    /// [`released`] says, for the stream's operations to report the recorded reason instead.
    fn with<T>(
        &mut self,
        f: impl FnOnce(Pin<&mut S>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        match &mut self.0 {
            Some(inner) => f(Pin::new(inner)),
            None => Poll::Ready(Err(released())),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Transport for Owned<S> {
    fn release(&mut self) {
        self.0 = None;
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Owned<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.get_mut().with(|inner| inner.poll_read(cx, buf))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Owned<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().with(|inner| inner.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .with(|inner| inner.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        self.0.as_ref().is_some_and(AsyncWrite::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.get_mut().with(|inner| inner.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.get_mut().0 {
            Some(inner) => Pin::new(inner).poll_shutdown(cx),
            // Not `with`: the released socket is closed already, which is what a shutdown wants.
            None => Poll::Ready(Ok(())),
        }
    }
}

/// The state both halves of a split stream hold.
struct SharedIo<S> {
    /// The stream; `None` once either half closed it. A mutex rather than a `RefCell` so the
    /// halves stay `Send`; on one loop it is never contended.
    io: Mutex<Option<S>>,
    /// Wakes a read pending in one half when the other half closes the stream: dropping the
    /// socket discards its wakers without waking them.
    read_waker: AtomicWaker,
    /// Wakes a write pending in one half when the other half closes the stream.
    write_waker: AtomicWaker,
}

/// One half's handle on a split stream's transport.
pub(crate) struct Shared<S>(Arc<SharedIo<S>>);

impl<S> Shared<S> {
    /// Two handles on `io`: one per half.
    pub(crate) fn pair(io: Option<S>) -> (Self, Self) {
        let shared = Arc::new(SharedIo {
            io: Mutex::new(io),
            read_waker: AtomicWaker::new(),
            write_waker: AtomicWaker::new(),
        });
        (Shared(Arc::clone(&shared)), Shared(shared))
    }

    /// The stream slot; a panic while polling cannot corrupt an `Option`, so poison is ignored.
    fn lock(&self) -> MutexGuard<'_, Option<S>> {
        self.0.io.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the stream, after registering `waker` so a close from the other half wakes
    /// this task even though the socket's own wakers are discarded.
    fn with<T>(
        &self,
        waker: &AtomicWaker,
        cx: &mut Context<'_>,
        f: impl FnOnce(Pin<&mut S>, &mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>>
    where
        S: Unpin,
    {
        waker.register(cx.waker());
        match &mut *self.lock() {
            Some(inner) => f(Pin::new(inner), cx),
            None => Poll::Ready(Err(released())),
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Transport for Shared<S> {
    fn release(&mut self) {
        let released = self.lock().take();
        drop(released);
        self.0.read_waker.wake();
        self.0.write_waker.wake();
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Shared<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.with(&this.0.read_waker, cx, |inner, cx| inner.poll_read(cx, buf))
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Shared<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.with(&this.0.write_waker, cx, |inner, cx| {
            inner.poll_write(cx, buf)
        })
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.with(&this.0.write_waker, cx, |inner, cx| {
            inner.poll_write_vectored(cx, bufs)
        })
    }

    fn is_write_vectored(&self) -> bool {
        self.lock()
            .as_ref()
            .is_some_and(AsyncWrite::is_write_vectored)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.with(&this.0.write_waker, cx, |inner, cx| inner.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.with(&this.0.write_waker, cx, |inner, cx| inner.poll_shutdown(cx))
    }
}

impl<S> fmt::Debug for Shared<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("open", &self.lock().is_some())
            .finish()
    }
}
