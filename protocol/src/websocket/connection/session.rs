//! What the application sees of a connection: the [`WebSocketService`] callbacks, the
//! [`Session`] they get, and the [`Flushed`] futures that tell when a queued message is out.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use bytes::Bytes;
use cyclone_actors::registry::Notification;
use futures::future::LocalBoxFuture;
use tokio::io::{AsyncRead, AsyncWrite};

use super::super::Message;
use super::super::close::{CloseCode, CloseFrame};
use super::super::error::WebSocketError;
use super::core::Core;
use super::handle::WebSocket;

/// A transport a connection can own: a TCP stream, a TLS stream, or anything boxed as one.
pub trait WebSocketIo: AsyncRead + AsyncWrite + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + 'static> WebSocketIo for T {}

/// What the application does with a connection's events; every method runs on the
/// connection's own loop, one at a time (so `&mut self` needs no locking). Tornado's
/// `WebSocketHandler` callbacks, minus routing (the web framework adds that on top).
pub trait WebSocketService: 'static {
    /// The connection is open (Tornado's `open`). Default does nothing.
    fn on_open(&mut self, session: &mut Session<'_>) {
        let _ = session;
    }

    /// A text or binary message arrived. Return `Some(future)` to stop reading until it
    /// completes (Tornado's coroutine `on_message`: backpressure towards the peer); `None` to
    /// go on at once.
    fn on_message(
        &mut self,
        message: Message,
        session: &mut Session<'_>,
    ) -> Option<LocalBoxFuture<'static, ()>>;

    /// A ping arrived; the pong is already queued. Default does nothing.
    fn on_ping(&mut self, data: &Bytes, session: &mut Session<'_>) {
        let _ = (data, session);
    }

    /// A pong arrived. Default does nothing.
    fn on_pong(&mut self, data: &Bytes, session: &mut Session<'_>) {
        let _ = (data, session);
    }

    /// A value from `ConnectionRegistry::notify_all` reached this connection. Default does
    /// nothing.
    fn on_notify(&mut self, notification: Notification, session: &mut Session<'_>) {
        let _ = (notification, session);
    }

    /// The connection is gone (Tornado's `on_close`), called exactly once. `close` is the
    /// peer's close frame when it sent one with a code (Tornado's `close_code` /
    /// `close_reason`).
    fn on_close(&mut self, close: Option<&CloseFrame>) {
        let _ = close;
    }
}

/// How far a connection's writes have reached, shared with its [`Flushed`] futures: one per
/// connection rather than a channel per message.
#[derive(Debug, Default)]
pub(super) struct FlushProgress {
    /// Bytes written and flushed to the socket since the connection started.
    pub(super) flushed: Cell<u64>,
    /// The connection is gone: futures still waiting fail.
    pub(super) closed: Cell<bool>,
    /// Tasks polling a [`Flushed`] that is not done yet, woken when bytes leave (each task
    /// once).
    wakers: RefCell<Vec<Waker>>,
}

impl FlushProgress {
    /// Wakes the waiting tasks except `current`, the connection's own task, which polls its
    /// paused future again by itself (waking it would only poll it once more for nothing).
    /// Returns whether `current` was among them.
    pub(super) fn wake(&self, current: Option<&Waker>) -> bool {
        let mut wakers = self.wakers.borrow_mut();
        if wakers.is_empty() {
            // The usual case, on every write: nobody awaits a `Flushed`.
            return false;
        }
        let mut own = false;
        for waker in wakers.drain(..) {
            if current.is_some_and(|current| waker.will_wake(current)) {
                own = true;
            } else {
                waker.wake();
            }
        }
        own
    }
}

/// A future resolved when a queued message has been written to the socket (or failed
/// because the connection closed first). It lives on the connection's loop (it is not `Send`).
pub struct Flushed {
    /// The connection's progress and where this message ends in it; `None` when the
    /// message was refused (the connection is closing or gone).
    waiting: Option<(Rc<FlushProgress>, u64)>,
}

impl fmt::Debug for Flushed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Flushed")
            .field("end", &self.waiting.as_ref().map(|(_, end)| end))
            .finish_non_exhaustive()
    }
}

impl Future for Flushed {
    type Output = Result<(), WebSocketError>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Self::Output> {
        let Some((progress, end)) = &self.waiting else {
            return Poll::Ready(Err(WebSocketError::Closed));
        };
        if progress.flushed.get() >= *end {
            return Poll::Ready(Ok(()));
        }
        if progress.closed.get() {
            return Poll::Ready(Err(WebSocketError::Closed));
        }
        let mut wakers = progress.wakers.borrow_mut();
        if !wakers.iter().any(|waker| waker.will_wake(cx.waker())) {
            wakers.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// A service's view of its connection during a callback: write to the peer directly, close,
/// or take a [`WebSocket`] handle to keep (rooms store it).
pub struct Session<'a> {
    /// The connection's I/O state.
    pub(super) core: &'a mut Core,
    /// This connection's own handle.
    pub(super) handle: &'a WebSocket,
}

impl fmt::Debug for Session<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("phase", &self.core.phase)
            .finish_non_exhaustive()
    }
}

impl Session<'_> {
    /// Queues `message` for the peer at once (no mailbox hop); the returned future resolves
    /// when it is written and may be dropped if that does not matter.
    pub fn write_message(&mut self, message: Message) -> Flushed {
        Flushed {
            waiting: self
                .core
                .queue(&message)
                .map(|end| (self.core.progress.clone(), end)),
        }
    }

    /// Reads nothing more from the peer until `flushed` resolves: the allocation-free way
    /// for `on_message` to wait for its own answer to be written (backpressure towards the
    /// peer). Waits add up with the future `on_message` returns; reading resumes when all are
    /// done. A `Flushed` from another connection is waited for like any future.
    pub fn pause_until(&mut self, flushed: Flushed) {
        match flushed.waiting {
            // Refused (closing or gone): nothing will be written, so nothing to wait for.
            None => {}
            Some((progress, end)) if Rc::ptr_eq(&progress, &self.core.progress) => {
                self.core.paused_until = Some(self.core.paused_until.map_or(end, |at| at.max(end)));
            }
            Some(foreign) => {
                let flushed = Flushed {
                    waiting: Some(foreign),
                };
                self.core.add_pause(Box::pin(async move {
                    let _ = flushed.await;
                }));
            }
        }
    }

    /// Reads nothing more from the peer until `work` completes: what `on_message` returns,
    /// for the callbacks that return nothing (`on_open`, `on_ping`, a notification). Waits add
    /// up; reading resumes when all are done.
    pub fn pause(&mut self, work: LocalBoxFuture<'static, ()>) {
        self.core.add_pause(work);
    }

    /// Queues `message` without a completion future.
    pub fn send(&mut self, message: Message) {
        self.core.queue(&message);
    }

    /// Starts the close handshake (Tornado's `close(code, reason)`).
    pub fn close(&mut self, code: CloseCode, reason: impl Into<String>) {
        self.core
            .queue(&Message::Close(Some(CloseFrame::new(code, reason))));
    }

    /// A cloneable handle on this connection, usable from any actor and thread.
    pub fn handle(&self) -> WebSocket {
        self.handle.clone()
    }

    /// Whether permessage-deflate is on.
    pub fn is_compressed(&self) -> bool {
        self.core.codec.is_compressing()
    }

    /// zlib memory the connection holds right now; see [`WebSocketStats::compression_memory`].
    ///
    /// [`WebSocketStats::compression_memory`]: super::WebSocketStats::compression_memory
    pub fn compression_memory(&self) -> usize {
        self.core.codec.compression_memory()
    }

    /// Bytes queued for the peer and not yet written.
    pub fn write_queue_len(&self) -> usize {
        self.core.stream.write_buffer_len()
    }
}
