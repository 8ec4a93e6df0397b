//! Why a stream closed, and the once-only close notification shared by a stream and its halves.

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::watch;

use super::error::{StreamBufferFullError, StreamClosedError, StreamError, UnsatisfiableReadError};
use super::transport::Transport;

/// Why a stream closed: Tornado's `IOStream.error` (`real_error`), as a value.
///
/// Recorded once, by whatever closed the stream first; later operations report it inside
/// [`StreamClosedError`](super::StreamClosedError).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum CloseReason {
    /// [`close()`](super::IoStream::close) was called on this side.
    ClosedLocally,
    /// The stream (or one of its halves) was dropped while open.
    Dropped,
    /// A read saw end of file: the peer closed or shut down its side.
    PeerClosed,
    /// The transport failed; shared so every later error can carry the original.
    Io(Arc<io::Error>),
    /// A delimited read could not be satisfied within its `max_bytes`.
    Unsatisfiable(UnsatisfiableReadError),
    /// A read or write buffer reached its limit.
    BufferFull(StreamBufferFullError),
}

impl CloseReason {
    /// The I/O error that closed the stream, if one did (Tornado's `real_error`).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            CloseReason::Io(error) => Some(error),
            _ => None,
        }
    }
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloseReason::ClosedLocally => f.write_str("closed locally"),
            CloseReason::Dropped => f.write_str("dropped"),
            CloseReason::PeerClosed => f.write_str("closed by the peer"),
            CloseReason::Io(error) => write!(f, "i/o error: {error}"),
            CloseReason::Unsatisfiable(error) => error.fmt(f),
            CloseReason::BufferFull(error) => error.fmt(f),
        }
    }
}

/// A close callback; `Send` so a stream stays `Send` and can move between loops before use.
type CloseCallback = Box<dyn FnOnce() + Send + 'static>;

/// The close state one stream (or both of its halves) share.
pub(crate) struct CloseState {
    /// `None` while open; set exactly once. A watch channel so any number of `'static`
    /// waiters can learn the reason without borrowing the stream.
    reason: watch::Sender<Option<CloseReason>>,
    /// The user's callback, taken (so it runs at most once) by whoever closes first.
    callback: Mutex<Option<CloseCallback>>,
}

impl CloseState {
    /// A fresh, open state.
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(CloseState {
            reason: watch::Sender::new(None),
            callback: Mutex::new(None),
        })
    }

    /// The reason, once closed.
    pub(crate) fn reason(&self) -> Option<CloseReason> {
        self.reason.borrow().clone()
    }

    /// Whether the stream is closed.
    pub(crate) fn is_closed(&self) -> bool {
        self.reason.borrow().is_some()
    }

    /// Records `reason` if this is the first close, then runs `release` (dropping the socket),
    /// then the callback; later calls keep the first reason so errors always name the real
    /// cause. The reason is recorded before the socket goes, so the other half of a split
    /// stream, woken by the release, already finds it. Returns whether this call closed it.
    pub(crate) fn close_with(&self, reason: CloseReason, release: impl FnOnce()) -> bool {
        let mut reason = Some(reason);
        let first = self.reason.send_if_modified(|current| {
            if current.is_none() {
                *current = reason.take();
                true
            } else {
                false
            }
        });
        release();
        if first {
            // Taken under the lock, run outside it: the callback may touch this stream again.
            let callback = self.lock_callback().take();
            if let Some(callback) = callback {
                callback();
            }
        }
        first
    }

    /// [`close_with`](Self::close_with) releasing `transport`: how every holder of a
    /// [`Transport`] closes (a failed operation, a split half's close or drop), so the peer sees
    /// the close at once whichever of them comes first.
    pub(crate) fn close_and_release<T: Transport>(&self, reason: CloseReason, transport: &mut T) {
        self.close_with(reason, || transport.release());
    }

    /// Closes the stream because of `reason` and returns the error the failing operation
    /// reports: the limit error itself, or [`StreamClosedError`] with the first recorded cause.
    pub(crate) fn fail<T: Transport>(&self, transport: &mut T, reason: CloseReason) -> StreamError {
        let own_error = match &reason {
            CloseReason::Unsatisfiable(error) => Some(StreamError::Unsatisfiable(error.clone())),
            CloseReason::BufferFull(error) => Some(StreamError::BufferFull(error.clone())),
            _ => None,
        };
        self.close_and_release(reason, transport);
        own_error.unwrap_or_else(|| self.closed_error())
    }

    /// `Ok` while open, else the error every operation on a closed stream reports.
    pub(crate) fn check_open(&self) -> Result<(), StreamError> {
        if self.is_closed() {
            Err(self.closed_error())
        } else {
            Ok(())
        }
    }

    /// [`StreamClosedError`] carrying the recorded reason.
    pub(crate) fn closed_error(&self) -> StreamError {
        let reason = self.reason().unwrap_or(CloseReason::ClosedLocally);
        StreamError::Closed(StreamClosedError::new(reason))
    }

    /// Installs the callback, replacing any earlier one; runs it at once if already closed so
    /// that it still fires exactly once.
    pub(crate) fn set_callback(&self, callback: CloseCallback) {
        let mut slot = self.lock_callback();
        if self.is_closed() {
            drop(slot);
            callback();
        } else {
            *slot = Some(callback);
        }
    }

    /// A future that resolves with the reason once closed, owning what it needs.
    pub(crate) fn wait(&self) -> impl Future<Output = CloseReason> + Send + 'static {
        let mut receiver = self.reason.subscribe();
        async move {
            match receiver.wait_for(Option::is_some).await {
                Ok(reason) => reason.clone().unwrap_or(CloseReason::Dropped),
                // Unreachable in practice: every stream closes before its state is dropped.
                Err(_) => CloseReason::Dropped,
            }
        }
    }

    /// The callback slot; a callback that panicked cannot leave it inconsistent, so poison is
    /// ignored rather than spread.
    fn lock_callback(&self) -> std::sync::MutexGuard<'_, Option<CloseCallback>> {
        self.callback.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for CloseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CloseState")
            .field("reason", &*self.reason.borrow())
            .field("has_callback", &self.lock_callback().is_some())
            .finish()
    }
}
