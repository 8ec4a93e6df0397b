//! The connection's I/O state ([`Core`]): its stream, codec, write accounting, pauses,
//! phase and timers, apart from the service so both can be borrowed at once.

use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll, Waker};

use bytes::Bytes;
use cyclone_actors::iostream::IoStream;
use cyclone_actors::panics::panic_message;
use futures::future::LocalBoxFuture;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use super::super::Message;
use super::super::close::{CloseCode, CloseFrame};
use super::super::codec::{Codec, Role};
use super::super::error::WebSocketError;
use super::super::limits::WebSocketConfig;
use super::WebSocketIo;
use super::session::FlushProgress;

/// Times the timer may fire in one poll; past it the driver looks again on its next turn.
const TIMER_ROUNDS: usize = 4;

/// Where the connection is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
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
pub(super) struct Core {
    /// The socket (or TLS stream) with its buffers; nothing else touches it. Frames are
    /// decoded straight from its read buffer (lent by the loop while there is something to
    /// read, so an idle connection holds none) and encoded straight into its write buffer,
    /// which `max_write_queue` caps.
    pub(super) stream: IoStream<Box<dyn WebSocketIo>>,
    /// Framing, masking, compression.
    pub(super) codec: Codec,
    /// Limits and timeouts.
    pub(super) config: WebSocketConfig,
    /// Server or client.
    pub(super) role: Role,
    /// Writers on other tasks waiting for their bytes to leave: (end offset in `written`
    /// terms, reply).
    pub(super) waiters: VecDeque<(u64, oneshot::Sender<Result<(), WebSocketError>>)>,
    /// How far writes have reached, for the [`Flushed`] futures of [`Session::write_message`].
    pub(super) progress: Rc<FlushProgress>,
    /// An `on_message` future still running: reading waits for it.
    pub(super) paused: Option<LocalBoxFuture<'static, ()>>,
    /// Reading also waits until the bytes up to here are written ([`Session::pause_until`]):
    /// the common "read the next once my answer is out" needs no future and no allocation.
    pub(super) paused_until: Option<u64>,
    /// Where in its life the connection is.
    pub(super) phase: Phase,
    /// The peer's close frame.
    pub(super) peer_close: Option<CloseFrame>,
    /// Something was read since the last ping was sent: proof of life for the ping timeout
    /// (a flag, not a clock read per read).
    pub(super) heard: bool,
    /// When the next ping is due.
    pub(super) next_ping: Option<Instant>,
    /// When the ping still unanswered was sent.
    pub(super) ping_outstanding: Option<Instant>,
    /// The one timer, armed for `armed`; allocated only once a deadline exists.
    pub(super) timer: Option<Pin<Box<Sleep>>>,
    /// The instant `timer` is set to.
    pub(super) armed: Instant,
    /// Bytes are queued and the socket took none at the last write: since when, and how far
    /// writes had reached then. Checked when the write timeout comes due (the clock is read
    /// when a stall starts and at each check, never per write).
    pub(super) write_stall: Option<(Instant, u64)>,
    /// Wakes the driver when a mailbox message queued bytes.
    pub(super) waker: Option<Waker>,
    /// The driver is running: bytes queued now are written in its next turn without waking
    /// the task (a wake from inside would only poll it once more for nothing).
    pub(super) driving: bool,
}

impl Core {
    /// Encodes `message` for the peer. Returns where it ends in `written` terms, or `None`
    /// when it was refused (the connection is closing, or gone).
    pub(super) fn queue(&mut self, message: &Message) -> Option<u64> {
        let allowed = !self.codec.close_sent()
            && (self.phase == Phase::Open
                || (matches!(message, Message::Close(_))
                    && matches!(self.phase, Phase::Closing { .. })));
        if !allowed {
            return None;
        }
        if self.stream.write_buffer_len() >= self.config.max_write_queue {
            tracing::debug!(
                queued = self.stream.write_buffer_len(),
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
                self.codec.encode(&close, self.stream.write_buffer_mut());
                self.phase = Phase::Closing {
                    deadline: Instant::now() + self.config.close_timeout,
                };
            }
            self.wake();
            return None;
        }
        self.codec.encode(message, self.stream.write_buffer_mut());
        if let Message::Close(_) = message
            && self.phase == Phase::Open
        {
            self.phase = Phase::Closing {
                deadline: Instant::now() + self.config.close_timeout,
            };
        }
        self.wake();
        Some(self.stream.bytes_written() + self.stream.write_buffer_len() as u64)
    }

    /// Queues `message` for a writer on another task, which hears when it is written.
    pub(super) fn queue_for(
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
    pub(super) fn add_pause(&mut self, work: LocalBoxFuture<'static, ()>) {
        self.paused = Some(match self.paused.take() {
            None => work,
            Some(earlier) => Box::pin(async move {
                earlier.await;
                work.await;
            }),
        });
    }

    /// Gets the driver to run when something changed outside it.
    pub(super) fn wake(&self) {
        if !self.driving
            && let Some(waker) = &self.waker
        {
            waker.wake_by_ref();
        }
    }

    /// A service callback, or a future it handed over, panicked: log it, and fail the
    /// connection with 1011 (internal error), as an HTTP handler's panic is answered 500.
    pub(super) fn service_panicked(&mut self, panic: &(dyn Any + Send)) {
        tracing::error!(
            panic = panic_message(panic),
            "websocket service panicked; closing with 1011"
        );
        self.fail(CloseCode::INTERNAL_ERROR, "internal error".to_owned());
    }

    /// Answers a protocol error: a close frame with its code, then the socket is dropped.
    pub(super) fn fail(&mut self, code: CloseCode, reason: String) {
        tracing::debug!(code = code.0, reason, "websocket protocol error");
        if !self.codec.close_sent() {
            self.codec.encode(
                &Message::Close(Some(CloseFrame::new(code, reason))),
                self.stream.write_buffer_mut(),
            );
        }
        self.phase = Phase::Failing;
    }

    /// Writes what is queued. Returns whether anything moved.
    pub(super) fn poll_write(&mut self, cx: &mut TaskContext<'_>) -> io::Result<bool> {
        let mut progress = match self.stream.poll_send(cx) {
            Poll::Ready(Ok(moved)) => moved,
            Poll::Ready(Err(error)) => return Err(error),
            Poll::Pending => false,
        };
        let written = self.stream.bytes_written();
        if !self.stream.is_flushed() {
            if self.write_stall.is_none() {
                self.write_stall = Some((Instant::now(), written));
            }
            return Ok(progress);
        }
        self.write_stall = None;
        if self.progress.flushed.get() == written {
            return Ok(progress);
        }
        self.progress.flushed.set(written);
        // A paused `on_message` waiting for this write is polled again in the driver's next
        // turn: count that as progress.
        progress |= self.paused_until.is_some();
        progress |= self.progress.wake(Some(cx.waker()));
        while let Some((end, _)) = self.waiters.front() {
            if *end > written {
                break;
            }
            if let Some((_, waiter)) = self.waiters.pop_front() {
                let _ = waiter.send(Ok(()));
            }
        }
        Ok(progress)
    }

    /// Whether reading now makes sense.
    pub(super) fn may_read(&self) -> bool {
        matches!(self.phase, Phase::Open | Phase::Closing { .. })
            && !self.codec.close_received()
            && !self.is_paused()
            && self.stream.write_buffer_len() < self.config.max_write_queue
    }

    /// Whether reading waits for the service: an `on_message` future, or its own writes.
    pub(super) fn is_paused(&self) -> bool {
        self.paused.is_some() || self.paused_until.is_some()
    }

    /// Clears what the service waited for once it is done: its writes are out (or the
    /// connection is gone), its future is ready.
    pub(super) fn poll_pause(&mut self, task: &mut TaskContext<'_>) {
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

    /// Reads once. `Ok(true)`: bytes arrived; `Err`: the peer is gone. The read buffer is
    /// the loop's spare while there is something in it (see `IoStream::poll_fill`).
    pub(super) fn poll_read(&mut self, cx: &mut TaskContext<'_>) -> io::Result<bool> {
        match self.stream.poll_fill(cx, self.config.read_buffer_size) {
            Poll::Pending => Ok(false),
            Poll::Ready(Ok(0)) => Err(io::ErrorKind::UnexpectedEof.into()),
            Poll::Ready(Ok(_)) => {
                self.heard = true;
                Ok(true)
            }
            Poll::Ready(Err(error)) => Err(error),
        }
    }

    /// The earliest deadline the connection has (close handshake, ping timeout, next ping,
    /// write timeout), if any.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
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
        if let Some((since, _)) = self.write_stall {
            consider(since + self.config.write_timeout);
        }
        next
    }

    /// Runs due timers (ping, ping timeout, close timeout) and arms the next. Returns whether
    /// something was done. The clock is read only when the timer fires: a connection
    /// without deadlines (no pings configured) never touches the clock or the timer wheel.
    pub(super) fn poll_timers(&mut self, cx: &mut TaskContext<'_>) -> bool {
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
    pub(super) fn run_due_timers(&mut self, now: Instant) -> bool {
        if let Some((since, mark)) = self.write_stall
            && now >= since + self.config.write_timeout
        {
            let written = self.stream.bytes_written();
            if written == mark && !self.stream.is_flushed() {
                tracing::debug!(
                    queued = self.stream.write_buffer_len(),
                    "websocket peer read nothing for its write timeout; dropping it"
                );
                self.phase = Phase::Done;
                return true;
            }
            // Bytes moved since the stall began: still stalled now, so the next check is one
            // period from here.
            self.write_stall = (!self.stream.is_flushed()).then_some((now, written));
        }
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
