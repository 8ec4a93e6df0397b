//! [`WebSocketConnection`]: the actor that owns one WebSocket connection after the upgrade,
//! on either side. It reads into one small buffer, decodes with the [`Codec`], calls the
//! application's [`WebSocketService`] on its own loop, and writes what is queued for the peer.
//!
//! Other actors (a chat room, a feed) reach it through the cloneable [`WebSocket`] handle,
//! from any thread; the handle goes through the actor's bounded mailbox, so a slow connection
//! makes [`WebSocket::write_message`] wait and [`WebSocket::try_write`] fail, and never grows
//! a queue without bound. Encoded bytes waiting for the peer are capped by
//! `max_write_queue`: once that much is queued, the next message closes the connection with
//! 1008 (policy violation: a peer that stops reading). Nothing more is queued but the close
//! frame itself; a peer that starts reading again gets what was queued, then the 1008; one that
//! never does is dropped after `close_timeout` (it sees 1006, and `on_close` gets `None`).
//!
//! The actor registers with its server's [`ConnectionSlot`] when it has one, so
//! `ConnectionRegistry::close_all` (drop now), `Shutdown` (close handshake with 1001) and
//! `notify_all` ([`WebSocketService::on_notify`]) reach it.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use actix::fut::ActorFuture;
use actix::prelude::*;
use bytes::{Buf, Bytes, BytesMut};
use cyclone_actors::panics::panic_message;
use cyclone_actors::registry::{ConnectionControl, ConnectionSlot, Notification};
use futures::future::LocalBoxFuture;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use super::Message;
use super::close::{CloseCode, CloseFrame};
use super::codec::{Codec, Role};
use super::error::WebSocketError;
use super::handshake::Negotiated;
use super::limits::WebSocketConfig;

/// Loop turns per poll before the connection yields to the others on its loop.
const TURNS_PER_POLL: usize = 32;
/// Times the timer may fire in one poll; past it the driver looks again on its next turn.
const TIMER_ROUNDS: usize = 4;
/// A write buffer that grew past this is freed once empty rather than kept.
const KEEP_WRITE_CAPACITY: usize = 64 * 1024;

thread_local! {
    /// The loop's spare read buffer. A connection borrows it to read, and gives it back once
    /// every byte in it is decoded: the thousands of idle connections on a loop hold no read
    /// buffer, and a busy one does not allocate one per message. Only connections on this
    /// loop's thread touch it, one at a time.
    static SPARE_READ_BUFFER: Cell<BytesMut> = Cell::new(BytesMut::new());
}

/// The loop's spare read buffer (empty, without capacity, when another connection has it).
fn take_spare_read_buffer() -> BytesMut {
    SPARE_READ_BUFFER.with(Cell::take)
}

/// Gives an emptied read buffer back for the loop's next read.
fn give_back_read_buffer(buffer: BytesMut) {
    SPARE_READ_BUFFER.with(|spare| spare.set(buffer));
}

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
struct FlushProgress {
    /// Bytes written and flushed to the socket since the connection started.
    flushed: Cell<u64>,
    /// The connection is gone: futures still waiting fail.
    closed: Cell<bool>,
    /// Tasks polling a [`Flushed`] that is not done yet, woken when bytes leave (each task
    /// once).
    wakers: RefCell<Vec<Waker>>,
}

impl FlushProgress {
    /// Wakes the waiting tasks except `current`, the connection's own task, which polls its
    /// paused future again by itself (waking it would only poll it once more for nothing).
    /// Returns whether `current` was among them.
    fn wake(&self, current: Option<&Waker>) -> bool {
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

/// A message for the peer, from a [`WebSocket`] handle.
#[derive(Message)]
#[rtype(result = "()")]
struct Outgoing {
    /// What to send.
    message: Message,
    /// Told when it is written.
    flushed: Option<oneshot::Sender<Result<(), WebSocketError>>>,
}

/// A cloneable, `Send` handle on a connection: any actor on any thread writes to the peer
/// through it (rooms keep one per member).
#[derive(Clone)]
pub struct WebSocket {
    /// The connection actor's mailbox (bounded by `mailbox_capacity`).
    addr: Addr<WebSocketConnection>,
}

impl fmt::Debug for WebSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocket")
            .field("connected", &self.addr.connected())
            .finish()
    }
}

impl WebSocket {
    /// Queues `message` (waiting while the mailbox is full) and resolves once it has been
    /// written to the socket: await it for backpressure (Tornado's `write_message` future).
    pub async fn write_message(&self, message: Message) -> Result<(), WebSocketError> {
        let (sender, receiver) = oneshot::channel();
        self.addr
            .send(Outgoing {
                message,
                flushed: Some(sender),
            })
            .await
            .map_err(|_| WebSocketError::Closed)?;
        receiver.await.unwrap_or(Err(WebSocketError::Closed))
    }

    /// Queues `message` without waiting: fails with [`WebSocketError::Full`] when the
    /// connection's mailbox is full (a broadcast skips a slow member) and
    /// [`WebSocketError::Closed`] when it is gone.
    pub fn try_write(&self, message: Message) -> Result<(), WebSocketError> {
        self.addr
            .try_send(Outgoing {
                message,
                flushed: None,
            })
            .map_err(|error| match error {
                SendError::Full(_) => WebSocketError::Full,
                SendError::Closed(_) => WebSocketError::Closed,
            })
    }

    /// Sends a ping (payload cut to 125 bytes) without waiting.
    pub fn ping(&self, data: impl Into<Bytes>) -> Result<(), WebSocketError> {
        self.try_write(Message::Ping(data.into()))
    }

    /// Starts the close handshake with `code` and `reason` (Tornado's `close`); the
    /// connection ends once the peer answers or `close_timeout` passes. Delivered even into a
    /// full mailbox.
    pub fn close(&self, code: CloseCode, reason: impl Into<String>) {
        self.addr.do_send(Outgoing {
            message: Message::Close(Some(CloseFrame::new(code, reason))),
            flushed: None,
        });
    }

    /// Whether the connection actor is still alive.
    pub fn is_connected(&self) -> bool {
        self.addr.connected()
    }

    /// Drops the connection at once, without a close handshake.
    pub fn abort(&self) {
        self.addr.do_send(ConnectionControl::Close);
    }
}

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Messages flow both ways.
    Open,
    /// A close frame was sent or received: finish the handshake by `deadline`.
    Closing {
        /// Past it the socket is dropped.
        deadline: Instant,
    },
    /// A protocol error or limit: write the close frame, then drop the socket.
    Failing,
    /// Nothing more to do: the actor stops.
    Done,
}

/// The connection's I/O state, apart from the service so both can be borrowed at once.
struct Core {
    /// The socket (or TLS stream); nothing else touches it.
    io: Box<dyn WebSocketIo>,
    /// Framing, masking, compression.
    codec: Codec,
    /// Limits and timeouts.
    config: WebSocketConfig,
    /// Server or client.
    role: Role,
    /// Bytes read and not yet decoded; given back to the loop's spare once empty, so an
    /// idle connection holds none.
    read_buf: BytesMut,
    /// More than `read_buffer_size` bytes waited in `read_buf` since it was taken: it may
    /// have grown for a large frame, so it is freed rather than kept as the loop's spare.
    read_buf_grew: bool,
    /// Encoded frames not yet written; capped by `max_write_queue`.
    write_buf: BytesMut,
    /// Bytes written since the start, to tell which [`Flushed`] futures are done.
    written: u64,
    /// Writers on other tasks waiting for their bytes to leave: (end offset in `written`
    /// terms, reply).
    waiters: VecDeque<(u64, oneshot::Sender<Result<(), WebSocketError>>)>,
    /// How far writes have reached, for the [`Flushed`] futures of [`Session::write_message`].
    progress: Rc<FlushProgress>,
    /// An `on_message` future still running: reading waits for it.
    paused: Option<LocalBoxFuture<'static, ()>>,
    /// Reading also waits until the bytes up to here are written ([`Session::pause_until`]):
    /// the common "read the next once my answer is out" needs no future and no allocation.
    paused_until: Option<u64>,
    /// Where in its life the connection is.
    phase: Phase,
    /// The peer's close frame.
    peer_close: Option<CloseFrame>,
    /// The socket needs a flush (TLS buffers writes).
    needs_flush: bool,
    /// Something was read since the last ping was sent: proof of life for the ping timeout
    /// (a flag, not a clock read per read).
    heard: bool,
    /// When the next ping is due.
    next_ping: Option<Instant>,
    /// When the ping still unanswered was sent.
    ping_outstanding: Option<Instant>,
    /// The one timer, armed for `armed`; allocated only once a deadline exists.
    timer: Option<Pin<Box<Sleep>>>,
    /// The instant `timer` is set to.
    armed: Instant,
    /// Wakes the driver when a mailbox message queued bytes.
    waker: Option<Waker>,
    /// The driver is running: bytes queued now are written in its next turn without waking
    /// the task (a wake from inside would only poll it once more for nothing).
    driving: bool,
}

impl Core {
    /// Encodes `message` for the peer. Returns where it ends in `written` terms, or `None`
    /// when it was refused (the connection is closing, or gone).
    fn queue(&mut self, message: &Message) -> Option<u64> {
        let allowed = !self.codec.close_sent()
            && (self.phase == Phase::Open
                || (matches!(message, Message::Close(_))
                    && matches!(self.phase, Phase::Closing { .. })));
        if !allowed {
            return None;
        }
        if self.write_buf.len() >= self.config.max_write_queue {
            tracing::debug!(
                queued = self.write_buf.len(),
                "websocket peer is not reading; closing it with 1008"
            );
            // Checked before queueing, so one message larger than the cap still goes out. The
            // close frame is the one thing queued past the cap (a few bytes): the peer learns
            // why if it reads again, and the close timeout bounds the wait if it never does.
            if self.phase == Phase::Open {
                let close = Message::Close(Some(CloseFrame::new(
                    CloseCode::POLICY_VIOLATION,
                    "write queue full",
                )));
                self.codec.encode(&close, &mut self.write_buf);
                self.phase = Phase::Closing {
                    deadline: Instant::now() + self.config.close_timeout,
                };
            }
            self.wake();
            return None;
        }
        self.codec.encode(message, &mut self.write_buf);
        if let Message::Close(_) = message
            && self.phase == Phase::Open
        {
            self.phase = Phase::Closing {
                deadline: Instant::now() + self.config.close_timeout,
            };
        }
        self.wake();
        Some(self.written + self.write_buf.len() as u64)
    }

    /// Queues `message` for a writer on another task, which hears when it is written.
    fn queue_for(
        &mut self,
        message: &Message,
        flushed: Option<oneshot::Sender<Result<(), WebSocketError>>>,
    ) {
        match (self.queue(message), flushed) {
            (Some(end), Some(flushed)) => self.waiters.push_back((end, flushed)),
            (None, Some(flushed)) => {
                let _ = flushed.send(Err(WebSocketError::Closed));
            }
            (_, None) => {}
        }
    }

    /// Makes reading wait for `work` too.
    fn add_pause(&mut self, work: LocalBoxFuture<'static, ()>) {
        self.paused = Some(match self.paused.take() {
            None => work,
            Some(earlier) => Box::pin(async move {
                earlier.await;
                work.await;
            }),
        });
    }

    /// Gets the driver to run when something changed outside it.
    fn wake(&self) {
        if !self.driving
            && let Some(waker) = &self.waker
        {
            waker.wake_by_ref();
        }
    }

    /// A service callback, or a future it handed over, panicked: log it, and fail the
    /// connection with 1011 (internal error), as an HTTP handler's panic is answered 500.
    fn service_panicked(&mut self, panic: &(dyn Any + Send)) {
        tracing::error!(
            panic = panic_message(panic),
            "websocket service panicked; closing with 1011"
        );
        self.fail(CloseCode::INTERNAL_ERROR, "internal error".to_owned());
    }

    /// Answers a protocol error: a close frame with its code, then the socket is dropped.
    fn fail(&mut self, code: CloseCode, reason: String) {
        tracing::debug!(code = code.0, reason, "websocket protocol error");
        if !self.codec.close_sent() {
            self.codec.encode(
                &Message::Close(Some(CloseFrame::new(code, reason))),
                &mut self.write_buf,
            );
        }
        self.phase = Phase::Failing;
    }

    /// Writes what is queued. Returns whether anything moved.
    fn poll_write(&mut self, cx: &mut TaskContext<'_>) -> io::Result<bool> {
        let mut progress = false;
        while !self.write_buf.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &self.write_buf) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(written)) => {
                    self.write_buf.advance(written);
                    self.written += written as u64;
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(error)) => return Err(error),
                Poll::Pending => break,
            }
        }
        if self.write_buf.is_empty() {
            if self.write_buf.capacity() > KEEP_WRITE_CAPACITY {
                self.write_buf = BytesMut::new();
            }
            if self.needs_flush {
                match Pin::new(&mut self.io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.needs_flush = false,
                    Poll::Ready(Err(error)) => return Err(error),
                    Poll::Pending => {}
                }
            }
        }
        if self.needs_flush || self.progress.flushed.get() == self.written {
            return Ok(progress);
        }
        self.progress.flushed.set(self.written);
        // A paused `on_message` waiting for this write is polled again in the driver's next
        // turn: count that as progress.
        progress |= self.paused_until.is_some();
        progress |= self.progress.wake(Some(cx.waker()));
        while let Some((end, _)) = self.waiters.front() {
            if *end > self.written {
                break;
            }
            if let Some((_, waiter)) = self.waiters.pop_front() {
                let _ = waiter.send(Ok(()));
            }
        }
        Ok(progress)
    }

    /// Whether reading now makes sense.
    fn may_read(&self) -> bool {
        matches!(self.phase, Phase::Open | Phase::Closing { .. })
            && !self.codec.close_received()
            && !self.is_paused()
            && self.write_buf.len() < self.config.max_write_queue
    }

    /// Whether reading waits for the service: an `on_message` future, or its own writes.
    fn is_paused(&self) -> bool {
        self.paused.is_some() || self.paused_until.is_some()
    }

    /// Clears what the service waited for once it is done: its writes are out (or the
    /// connection is gone), its future is ready.
    fn poll_pause(&mut self, task: &mut TaskContext<'_>) {
        if let Some(end) = self.paused_until
            && (self.progress.flushed.get() >= end || self.progress.closed.get())
        {
            self.paused_until = None;
        }
        if let Some(paused) = self.paused.as_mut() {
            match catch_unwind(AssertUnwindSafe(|| paused.as_mut().poll(task))) {
                Ok(Poll::Pending) => {}
                Ok(Poll::Ready(())) => self.paused = None,
                Err(panic) => {
                    // The service's own future: a panic in it is the service's panic.
                    self.paused = None;
                    self.service_panicked(&*panic);
                }
            }
        }
    }

    /// Reads once. `Ok(true)`: bytes arrived; `Err`: the peer is gone.
    fn poll_read(&mut self, cx: &mut TaskContext<'_>) -> io::Result<bool> {
        if self.read_buf.capacity() == 0 {
            self.read_buf = take_spare_read_buffer();
            self.read_buf_grew = false;
        }
        if self.read_buf.capacity() - self.read_buf.len() < 1024 {
            self.read_buf.reserve(self.config.read_buffer_size);
        }
        match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf) {
            Poll::Pending => {
                if self.read_buf.is_empty() {
                    // An idle connection keeps no read buffer: most of 10 000 sockets wait.
                    let buffer = std::mem::take(&mut self.read_buf);
                    if !self.read_buf_grew {
                        give_back_read_buffer(buffer);
                    }
                }
                Ok(false)
            }
            Poll::Ready(Ok(0)) => Err(io::ErrorKind::UnexpectedEof.into()),
            Poll::Ready(Ok(_)) => {
                self.heard = true;
                self.read_buf_grew |= self.read_buf.len() > self.config.read_buffer_size;
                Ok(true)
            }
            Poll::Ready(Err(error)) => Err(error),
        }
    }

    /// The earliest deadline the connection has (close handshake, ping timeout, next ping),
    /// if any.
    fn next_deadline(&self) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        let mut consider = |at: Instant| next = Some(next.map_or(at, |next| next.min(at)));
        if let Phase::Closing { deadline } = self.phase {
            consider(deadline);
        }
        if let Some(sent) = self.ping_outstanding {
            consider(sent + self.config.ping_timeout);
        }
        if let Some(due) = self.next_ping {
            consider(due);
        }
        next
    }

    /// Runs due timers (ping, ping timeout, close timeout) and arms the next. Returns whether
    /// something was done. The clock is read only when the timer fires: a connection
    /// without deadlines (no pings configured) never touches the clock or the timer wheel.
    fn poll_timers(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let mut acted = false;
        for _ in 0..TIMER_ROUNDS {
            let Some(next) = self.next_deadline() else {
                return acted;
            };
            let timer = self
                .timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(next)));
            if next != self.armed {
                self.armed = next;
                timer.as_mut().reset(next);
            }
            if timer.as_mut().poll(cx).is_pending() {
                return acted;
            }
            if self.run_due_timers(Instant::now()) {
                return true;
            }
            acted = true;
        }
        // The timer keeps firing before its deadline: look again on the next turn.
        cx.waker().wake_by_ref();
        acted
    }

    /// Acts on the deadlines that passed by `now`. Returns whether the connection is done.
    fn run_due_timers(&mut self, now: Instant) -> bool {
        if let Phase::Closing { deadline } = self.phase
            && now >= deadline
        {
            self.phase = Phase::Done;
            return true;
        }
        if let Some(sent) = self.ping_outstanding {
            if self.heard {
                self.ping_outstanding = None;
            } else if now >= sent + self.config.ping_timeout {
                tracing::debug!("websocket peer missed its ping timeout; dropping it");
                self.phase = Phase::Done;
                return true;
            }
        }
        if let (Some(due), Some(interval)) = (self.next_ping, self.config.ping_interval)
            && now >= due
        {
            if self.phase == Phase::Open {
                self.queue(&Message::Ping(Bytes::new()));
                if self.ping_outstanding.is_none() {
                    self.ping_outstanding = Some(now);
                    self.heard = false;
                }
            }
            self.next_ping = Some(now + interval);
        }
        // A deadline that fired early (the peer was heard) has moved on: the timer re-arms.
        false
    }
}

/// A service's view of its connection during a callback: write to the peer directly, close,
/// or take a [`WebSocket`] handle to keep (rooms store it).
pub struct Session<'a> {
    /// The connection's I/O state.
    core: &'a mut Core,
    /// This connection's own handle.
    handle: &'a WebSocket,
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

    /// Bytes queued for the peer and not yet written.
    pub fn write_queue_len(&self) -> usize {
        self.core.write_buf.len()
    }
}

/// The actor owning one WebSocket connection; see the [module docs](crate::websocket).
pub struct WebSocketConnection {
    /// I/O state.
    core: Core,
    /// The application's callbacks.
    service: Box<dyn WebSocketService>,
    /// This connection's own handle, lent to callbacks.
    handle: Option<WebSocket>,
    /// The server registry entry (and `max_connections` permit), held for the actor's life.
    slot: Option<ConnectionSlot>,
    /// `on_close` was called.
    closed: bool,
}

impl fmt::Debug for WebSocketConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketConnection")
            .field("role", &self.core.role)
            .field("phase", &self.core.phase)
            .field("slot", &self.slot)
            .finish_non_exhaustive()
    }
}

/// Starts the actor for an upgraded connection on the current Arbiter and returns its handle.
///
/// - `io`: the transport, after the handshake;
/// - `read`: bytes already read past the handshake (the first frames may be there);
/// - `role`: [`Role::Server`] after accepting an upgrade, [`Role::Client`] after connecting;
/// - `negotiated`: what the handshake agreed (compression);
/// - `slot`: the server's registry entry, moved from the HTTP connection actor, so the
///   registry reaches the WebSocket actor (`None` for clients).
pub fn start_connection<S: WebSocketIo>(
    io: S,
    read: BytesMut,
    role: Role,
    negotiated: &Negotiated,
    config: WebSocketConfig,
    service: impl WebSocketService,
    slot: Option<ConnectionSlot>,
) -> WebSocket {
    let level = config
        .compression
        .as_ref()
        .map_or(6, |compression| compression.zlib_level());
    let codec = Codec::new(
        role,
        config.max_message_size,
        negotiated.deflate.map(|params| (params, level)),
    );
    let now = Instant::now();
    let core = Core {
        io: Box::new(io),
        codec,
        next_ping: config.ping_interval.map(|interval| now + interval),
        role,
        read_buf: read,
        read_buf_grew: true,
        write_buf: BytesMut::new(),
        written: 0,
        waiters: VecDeque::new(),
        progress: Rc::new(FlushProgress::default()),
        paused: None,
        paused_until: None,
        phase: Phase::Open,
        peer_close: None,
        needs_flush: false,
        heard: false,
        ping_outstanding: None,
        timer: None,
        armed: now,
        waker: None,
        driving: false,
        config,
    };
    let mailbox = core.config.mailbox_capacity;
    let addr = WebSocketConnection::create(move |ctx| {
        ctx.set_mailbox_capacity(mailbox);
        WebSocketConnection {
            core,
            service: Box::new(service),
            handle: Some(WebSocket {
                addr: ctx.address(),
            }),
            slot,
            closed: false,
        }
    });
    WebSocket { addr }
}

/// Runs one of the service's callbacks. A panic does not unwind through the loop (taking the
/// other connections' task with it): the connection fails with 1011
/// ([`Core::service_panicked`]), later data messages are not delivered, and `on_close` still
/// runs.
fn guarded<T>(core: &mut Core, callback: impl FnOnce(&mut Core) -> T) -> Option<T> {
    match catch_unwind(AssertUnwindSafe(|| callback(&mut *core))) {
        Ok(value) => Some(value),
        Err(panic) => {
            core.service_panicked(&*panic);
            None
        }
    }
}

/// Hands one decoded frame to the service (answering pings and closes first).
fn dispatch(
    core: &mut Core,
    service: &mut dyn WebSocketService,
    handle: &WebSocket,
    message: Message,
) {
    match message {
        Message::Ping(data) => {
            core.queue(&Message::Pong(data.clone()));
            guarded(core, |core| {
                service.on_ping(&data, &mut Session { core, handle });
            });
        }
        Message::Pong(data) => {
            core.ping_outstanding = None;
            guarded(core, |core| {
                service.on_pong(&data, &mut Session { core, handle });
            });
        }
        Message::Close(frame) => {
            if !core.codec.close_sent() {
                let echo = frame.as_ref().map(|frame| CloseFrame::new(frame.code, ""));
                core.queue(&Message::Close(echo));
            }
            core.peer_close = frame;
        }
        data => {
            if core.phase == Phase::Open
                && let Some(Some(work)) = guarded(core, |core| {
                    service.on_message(data, &mut Session { core, handle })
                })
            {
                core.add_pause(work);
            }
        }
    }
}

impl WebSocketConnection {
    /// The connection's whole I/O loop, one poll at a time.
    fn drive(&mut self, task: &mut TaskContext<'_>) -> Poll<()> {
        if !self
            .core
            .waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(task.waker()))
        {
            self.core.waker = Some(task.waker().clone());
        }
        self.core.driving = true;
        let poll = self.drive_turns(task);
        self.core.driving = false;
        poll
    }

    /// [`drive`](Self::drive)'s turns: decode, dispatch, write, read, until nothing moves.
    fn drive_turns(&mut self, task: &mut TaskContext<'_>) -> Poll<()> {
        let Some(handle) = self.handle.as_ref() else {
            return Poll::Ready(());
        };
        let core = &mut self.core;
        for _ in 0..TURNS_PER_POLL {
            let mut progress = false;
            // What follows in this turn is what a finished pause unblocks: no extra turn.
            core.poll_pause(task);
            // Read before decoding: a message that arrives is decoded, answered and written in
            // the same turn, and the next turn's read, finding nothing, ends the poll.
            let client_waits_for_fin = core.role == Role::Client
                && core.codec.close_received()
                && matches!(core.phase, Phase::Closing { .. });
            if client_waits_for_fin {
                let mut scratch = BytesMut::with_capacity(256);
                match tokio_util::io::poll_read_buf(Pin::new(&mut core.io), task, &mut scratch) {
                    Poll::Ready(Ok(0) | Err(_)) => return Poll::Ready(()),
                    Poll::Ready(Ok(_)) => progress = true,
                    Poll::Pending => {}
                }
            } else if core.may_read() {
                match core.poll_read(task) {
                    Ok(read) => progress |= read,
                    Err(_) => return Poll::Ready(()),
                }
            }
            while !core.is_paused() && matches!(core.phase, Phase::Open | Phase::Closing { .. }) {
                match core.codec.decode(&mut core.read_buf) {
                    Ok(None) => break,
                    Ok(Some(message)) => {
                        progress = true;
                        dispatch(core, &mut *self.service, handle, message);
                    }
                    Err(error) => {
                        core.fail(error.close_code(), error.to_string());
                        break;
                    }
                }
            }
            match core.poll_write(task) {
                Ok(moved) => progress |= moved,
                Err(_) => return Poll::Ready(()),
            }
            if core.write_buf.is_empty() && !core.needs_flush {
                let handshake_done = core.codec.close_sent() && core.codec.close_received();
                match core.phase {
                    Phase::Failing => core.phase = Phase::Done,
                    // RFC 6455 §7.1.1: the server closes TCP first; a client waits for it
                    // (bounded by the close deadline) before giving up.
                    Phase::Closing { .. } if handshake_done && core.role == Role::Server => {
                        let _ = Pin::new(&mut core.io).poll_shutdown(task);
                        core.phase = Phase::Done;
                    }
                    _ => {}
                }
            }
            if core.phase == Phase::Done {
                return Poll::Ready(());
            }
            progress |= core.poll_timers(task);
            if core.phase == Phase::Done {
                return Poll::Ready(());
            }
            if !progress {
                return Poll::Pending;
            }
        }
        // Out of turns with work left: let the loop's other connections run first.
        task.waker().wake_by_ref();
        Poll::Pending
    }

    /// Calls `on_close` once and fails the writers still waiting.
    fn finish(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        for (_, waiter) in self.core.waiters.drain(..) {
            let _ = waiter.send(Err(WebSocketError::Closed));
        }
        self.core.progress.closed.set(true);
        self.core.progress.wake(None);
        self.core.phase = Phase::Done;
        let (service, close) = (&mut self.service, self.core.peer_close.as_ref());
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| service.on_close(close))) {
            tracing::error!(
                panic = panic_message(&*panic),
                "websocket on_close panicked"
            );
        }
    }
}

/// Polls [`WebSocketConnection::drive`] as a future inside the actor's context.
struct Driver;

impl ActorFuture<WebSocketConnection> for Driver {
    type Output = ();

    fn poll(
        self: Pin<&mut Self>,
        connection: &mut WebSocketConnection,
        _ctx: &mut Context<WebSocketConnection>,
        task: &mut TaskContext<'_>,
    ) -> Poll<()> {
        connection.drive(task)
    }
}

impl Actor for WebSocketConnection {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        if let Some(slot) = &self.slot {
            slot.register(ctx.address().recipient());
        }
        if let Some(handle) = self.handle.clone() {
            let service = &mut self.service;
            guarded(&mut self.core, |core| {
                service.on_open(&mut Session {
                    core,
                    handle: &handle,
                });
            });
        }
        ctx.spawn(Driver.map(|(), connection: &mut WebSocketConnection, ctx| {
            connection.finish();
            ctx.stop();
        }));
    }

    fn stopped(&mut self, _ctx: &mut Context<Self>) {
        self.finish();
        // Our own handle would otherwise keep the mailbox open after the actor is gone.
        self.handle = None;
    }
}

impl Handler<Outgoing> for WebSocketConnection {
    type Result = ();

    fn handle(&mut self, outgoing: Outgoing, _ctx: &mut Context<Self>) {
        self.core.queue_for(&outgoing.message, outgoing.flushed);
    }
}

impl Handler<ConnectionControl> for WebSocketConnection {
    type Result = ();

    fn handle(&mut self, control: ConnectionControl, ctx: &mut Context<Self>) {
        match control {
            ConnectionControl::Close => {
                self.finish();
                ctx.stop();
            }
            ConnectionControl::Shutdown => {
                self.core.queue(&Message::Close(Some(CloseFrame::new(
                    CloseCode::GOING_AWAY,
                    "server shutdown",
                ))));
            }
            ConnectionControl::Notify(notification) => {
                if let Some(handle) = self.handle.clone() {
                    let service = &mut self.service;
                    let notified = guarded(&mut self.core, |core| {
                        service.on_notify(
                            notification,
                            &mut Session {
                                core,
                                handle: &handle,
                            },
                        );
                    });
                    if notified.is_none() {
                        // The panic failed the connection: the driver writes the 1011 and ends.
                        self.core.wake();
                    }
                }
            }
        }
    }
}
