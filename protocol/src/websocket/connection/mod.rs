//! [`WebSocketConnection`]: the actor that owns one WebSocket connection after the upgrade,
//! on either side. It owns the connection's `IoStream`, decodes frames straight from its read
//! buffer with the [`Codec`](super::Codec), calls the application's [`WebSocketService`] on its
//! own loop, and encodes what is queued for the peer straight into its write buffer.
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
//!
//! # Files
//!
//! - `mod.rs` (here): the actor, its driver (one turn: read, decode, dispatch, write, timers)
//!   and its mailbox handlers; [`start_connection`].
//! - `handle.rs`: [`WebSocket`], the cloneable handle other actors write through.
//! - `session.rs`: [`WebSocketService`], [`Session`] and [`Flushed`]: what the application
//!   sees.
//! - `core.rs`: the connection's I/O state (stream, codec, write accounting, pauses, phase,
//!   timers).

mod core;
mod handle;
mod session;

use std::collections::VecDeque;
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context as TaskContext, Poll};

use actix::fut::ActorFuture;
use actix::prelude::*;
use bytes::BytesMut;
use cyclone_actors::iostream::IoStream;
use cyclone_actors::panics::panic_message;
use cyclone_actors::registry::{ConnectionControl, ConnectionSlot, ConnectionStats};
use tokio::time::Instant;

use super::Message;
use super::close::{CloseCode, CloseFrame};
use super::codec::{Codec, Role};
use super::error::WebSocketError;
use super::handshake::Negotiated;
use super::limits::WebSocketConfig;

use self::core::{Core, Phase};
use handle::{Outgoing, Stats};
pub use handle::{WebSocket, WebSocketStats};
use session::FlushProgress;
pub use session::{Flushed, Session, WebSocketIo, WebSocketService};

/// Loop turns per poll before the connection yields to the others on its loop.
const TURNS_PER_POLL: usize = 32;

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
    let io: Box<dyn WebSocketIo> = Box::new(io);
    let core = Core {
        stream: IoStream::with_read_buffer(io, read),
        codec,
        next_ping: config.ping_interval.map(|interval| now + interval),
        role,
        waiters: VecDeque::new(),
        progress: Rc::new(FlushProgress::default()),
        paused: None,
        paused_until: None,
        phase: Phase::Open,
        peer_close: None,
        heard: false,
        ping_outstanding: None,
        timer: None,
        armed: now,
        write_stall: None,
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
                // What a client reads after the close handshake is discarded.
                core.stream.read_buffer_mut().clear();
                match core.stream.poll_fill(task, 256) {
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
                match core.codec.decode(core.stream.read_buffer_mut()) {
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
            if core.stream.is_flushed() {
                let handshake_done = core.codec.close_sent() && core.codec.close_received();
                match core.phase {
                    Phase::Failing => core.phase = Phase::Done,
                    // RFC 6455 §7.1.1: the server closes TCP first; a client waits for it
                    // (bounded by the close deadline) before giving up.
                    Phase::Closing { .. } if handshake_done && core.role == Role::Server => {
                        let _ = core.stream.poll_shutdown(task);
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

impl Handler<Stats> for WebSocketConnection {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, _: Stats, _ctx: &mut Context<Self>) -> Self::Result {
        MessageResult(WebSocketStats {
            compressed: self.core.codec.is_compressing(),
            compression_memory: self.core.codec.compression_memory(),
            write_queue: self.core.stream.write_buffer_len(),
        })
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
            ConnectionControl::Stats(request) => {
                if let Some(slot) = &self.slot {
                    request.reply(ConnectionStats {
                        id: slot.id(),
                        protocol: "websocket",
                        read_buffered: Some(self.core.stream.read_buffer_len()),
                        write_queued: Some(self.core.stream.write_buffer_len()),
                        in_flight: self.core.waiters.len(),
                    });
                }
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
