//! The per-connection actor (`HttpConnection`) and the loop it runs over its `IoStream`.
//!
//! One actor per connection, on the worker that accepted it. It owns the socket through one
//! future spawned in its context (the exchange loop), so the socket lives exactly as long as
//! the actor: `ConnectionControl::Close` stops the actor and drops the socket,
//! `ConnectionControl::Shutdown` lets the exchange in flight finish, then closes.
//!
//! # Files
//!
//! - `mod.rs` (here): the actor shell, the loop's state and its turns.
//! - `intake.rs`: decoding requests and taking in their bodies (buffered or streamed).
//! - `exchange.rs`: the queue of exchanges, delivering each request to the service and
//!   polling the work it returns.
//! - `answer.rs`: moving answers, in request order, from their writers into the write buffer.
//! - `io.rs`: reading and writing the socket, end of input, lingering before the close.
//! - `timers.rs`: the one timer and what the connection waits for (head, body, idle, write,
//!   linger).
//!
//! # One turn of the loop
//!
//! 1. Decode what the read buffer holds into requests (heads, body pieces, ends), up to the
//!    pipelining cap; a buffered request is delivered when its body is complete, a streaming
//!    one when the head arrives. Each goes to the service as an
//!    [`HttpRequestMessage`](super::HttpRequestMessage) carrying its writer.
//! 2. Poll the work in flight; move every answer that is next in request order from its
//!    writer into the write buffer (so several pipelined answers leave in one write).
//! 3. Write the write buffer; read more if there is room for it (a full pipeline, a full
//!    streamed-body queue or a full write buffer stop the reads: that is the flow control).
//! 4. Arm the one timer for whatever the connection now waits on.
//!
//! Nothing here unwraps anything from the network; a panic in the service is caught around
//! every call and poll and answered with 500.
//!
//! # Switching protocols
//!
//! After an HTTP/1.1 request with `Connection: upgrade` and an `Upgrade` field, decoding (and
//! reading, once that request's body is in) pauses until its answer is known: what follows
//! may not be HTTP. An ordinary answer resumes decoding. An upgrade answer
//! ([`ResponseWriter::upgrade`](super::ResponseWriter::upgrade)) is written as
//! `101 Switching Protocols` after the answers before it; once it is flushed, the loop ends
//! and hands the transport, the unread bytes and the request head to the actor, which moves
//! its [`ConnectionSlot`] into an [`Upgraded`] for the callback and stops without closing the
//! socket.

mod answer;
mod exchange;
mod intake;
mod io;
mod timers;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use actix::prelude::*;
use bytes::BytesMut;
use cyclone_actors::iostream::IoStream;
use cyclone_actors::panics::panic_message;
use cyclone_actors::registry::{
    ConnectionControl, ConnectionId, ConnectionSlot, ConnectionStats, StatsRequest,
};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep};

use super::options::HttpServerOptions;
use super::request::HttpServerRequest;
use super::response::ResponseStream;
use super::service::HttpService;
use super::upgrade::{Switch, Upgraded, UpgradedIo};
use crate::h1::{DateCache, RequestDecoder};

use exchange::{Exchange, FutureSlot};
use intake::{Reading, UpgradeCandidate};

/// How long a closing connection keeps reading (and discarding) what the client still sends
/// after the last answer, so that the close does not turn into a reset that destroys the
/// answer in the client's receive buffer. 1 second.
pub const LINGER_TIMEOUT: Duration = Duration::from_secs(1);

/// Most bytes discarded while lingering before the socket is dropped anyway. 1 MiB.
pub const LINGER_MAX_DISCARD: usize = 1024 * 1024;

/// Loop turns in one poll before the connection yields to the others on its worker, so one
/// client that always has bytes ready cannot starve them.
const TURNS_PER_POLL: usize = 32;

/// Starts the actor for one accepted connection on the current Arbiter.
///
/// The transport is generic so that a TLS stream can be served the same way: `protocol` is
/// what requests report (`"http"` or `"https"`).
pub(crate) fn serve_connection<S, T>(
    io: T,
    peer: SocketAddr,
    slot: ConnectionSlot,
    service: Rc<S>,
    options: Arc<HttpServerOptions>,
    protocol: &'static str,
) -> Addr<HttpConnection>
where
    S: HttpService,
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let shutdown = Rc::new(ShutdownSignal::default());
    let http2 = (service.clone(), options.clone());
    let mut exchange = ExchangeLoop::new(io, peer, service, options, protocol, shutdown.clone());
    let run = async move {
        let ended = (&mut exchange).await;
        if matches!(ended, Ended::Closed) {
            return None;
        }
        Some((ended, exchange.into_transport()?))
    };
    HttpConnection::create(move |ctx| {
        slot.register(ctx.address().recipient());
        ctx.spawn(actix::fut::wrap_future::<_, HttpConnection>(run).map(
            move |ended, connection, ctx| {
                if let Some((ended, (io, read_buf))) = ended
                    && let Some(slot) = connection.slot.take()
                {
                    match ended {
                        Ended::Switched(switch) => hand_over(*switch, io, read_buf, slot, peer),
                        Ended::Http2 => {
                            let (service, options) = http2;
                            // The HTTP/2 actor owns the socket (and the slot) from here.
                            super::http2::serve_http2(
                                io, read_buf, peer, slot, service, options, protocol,
                            );
                        }
                        Ended::Closed => {}
                    }
                }
                ctx.stop();
            },
        ));
        HttpConnection {
            slot: Some(slot),
            shutdown,
        }
    })
}

/// How a connection's HTTP/1.1 loop ended.
enum Ended {
    /// The connection closed (or failed).
    Closed,
    /// An answer switched protocols; its 101 is flushed and the transport is still open.
    /// (Boxed: the other outcomes carry nothing, and a switch happens once per connection.)
    Switched(Box<Switch>),
    /// The client opened with the HTTP/2 preface (h2c with prior knowledge); the transport is
    /// still open and the preface is in the read buffer.
    Http2,
}

/// Gives a switched connection to the writer's callback; a callback that panics loses this
/// connection, not the worker.
fn hand_over(
    switch: Switch,
    io: UpgradedIo,
    read_buf: BytesMut,
    slot: ConnectionSlot,
    peer: SocketAddr,
) {
    let Switch { head, on_upgrade } = switch;
    let upgraded = Upgraded {
        io,
        read_buf,
        head,
        slot,
        peer,
    };
    if let Err(panic) = catch_unwind(AssertUnwindSafe(move || on_upgrade(upgraded))) {
        let message = panic_message(&*panic);
        tracing::error!(%peer, panic = message, "upgrade callback panicked; connection closed");
    }
}

/// The actor owning one HTTP/1.1 connection; see the [server module docs](super).
#[derive(Debug)]
pub(crate) struct HttpConnection {
    /// Keeps the connection listed in the server's registry (and its `max_connections` permit)
    /// for exactly as long as the actor lives, unless it is moved on with the socket when the
    /// connection switches protocols.
    slot: Option<ConnectionSlot>,
    /// Tells the exchange loop to finish what is in flight and close.
    shutdown: Rc<ShutdownSignal>,
}

impl Actor for HttpConnection {
    type Context = Context<Self>;
}

impl Handler<ConnectionControl> for HttpConnection {
    type Result = ();

    fn handle(&mut self, control: ConnectionControl, ctx: &mut Context<Self>) {
        match control {
            ConnectionControl::Close => {
                tracing::debug!(id = ?self.slot.as_ref().map(ConnectionSlot::id), "closing on request");
                ctx.stop();
            }
            ConnectionControl::Shutdown => self.shutdown.request(),
            // HTTP exchanges have no use for broadcast values; WebSocket connections do.
            ConnectionControl::Notify(_) => {}
            // The buffers are the exchange loop's: it answers on its next turn.
            ConnectionControl::Stats(request) => {
                if let Some(slot) = &self.slot {
                    self.shutdown.want_stats(slot.id(), request);
                }
            }
        }
    }
}

/// Requests from the actor to its exchange loop (same thread): a graceful shutdown, and
/// reports of what the connection holds.
#[derive(Debug, Default)]
struct ShutdownSignal {
    /// Set once by `ConnectionControl::Shutdown`.
    requested: Cell<bool>,
    /// Some `ConnectionControl::Stats` wait in `stats_requests`: one flag read per poll.
    stats_wanted: Cell<bool>,
    /// Who asked for the connection's stats, with its id.
    stats_requests: RefCell<Vec<(ConnectionId, StatsRequest)>>,
    /// The loop's waker, so the request is seen while it sleeps.
    waker: RefCell<Option<Waker>>,
}

impl ShutdownSignal {
    fn request(&self) {
        self.requested.set(true);
        self.wake();
    }

    /// Queues a stats request for the loop's next turn.
    fn want_stats(&self, id: ConnectionId, request: StatsRequest) {
        self.stats_requests.borrow_mut().push((id, request));
        self.stats_wanted.set(true);
        self.wake();
    }

    fn wake(&self) {
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }

    fn register(&self, waker: &Waker) {
        let mut slot = self.waker.borrow_mut();
        if !slot
            .as_ref()
            .is_some_and(|current| current.will_wake(waker))
        {
            *slot = Some(waker.clone());
        }
    }
}

/// The loop one connection runs: see the module docs. Its `impl` blocks are spread over this
/// module's files, one concern each.
struct ExchangeLoop<S: HttpService, T> {
    /// The socket (or TLS stream) with its read and write buffers; nothing else touches it.
    /// Requests are decoded straight from its read buffer, answers encoded straight into its
    /// write buffer, large bodies queued without a copy.
    stream: IoStream<T>,
    /// The client's address.
    peer: SocketAddr,
    /// The worker's service.
    service: Rc<S>,
    /// The server's settings.
    options: Arc<HttpServerOptions>,
    /// `"http"` or `"https"`, before `xheaders`.
    protocol: &'static str,
    /// Graceful shutdown requests from the actor.
    shutdown: Rc<ShutdownSignal>,
    /// The sans-IO request decoder.
    decoder: RequestDecoder,
    /// The `Date` value, formatted once a second.
    date: DateCache,
    /// `date` was refreshed during this poll.
    date_fresh: bool,
    /// Exchanges in request order; the first is the one being answered.
    queue: VecDeque<Exchange<S::Future>>,
    /// Emptied work boxes, kept for reuse.
    spare: Vec<FutureSlot<S::Future>>,
    /// Answer channels whose writers are gone, kept for reuse: one channel allocation per
    /// connection rather than one per request.
    spare_answers: Vec<ResponseStream>,
    /// The default fields of the last two maps answers came with, encoded once: an
    /// application gives its answers one map (two: a page's has its `Content-Type`).
    encoded_defaults: [Option<crate::h1::EncodedDefaults>; 2],
    /// Work still running after its answer was complete (Tornado lets a handler go on after
    /// `finish`); polled until done, dropped when the connection closes.
    background: Vec<FutureSlot<S::Future>>,
    /// The request whose body is being read.
    reading: Option<Reading>,
    /// The buffered request whose body is being read, kept here rather than in [`Reading`] so
    /// that `Reading` stays small: it is set and taken for every request.
    waiting: Option<HttpServerRequest>,
    /// Id of the next exchange.
    next_id: u64,
    /// Whether more requests are decoded: false after a request that closes, a parse error,
    /// end of input or a shutdown.
    accepting: bool,
    /// An answer asked to close: write what is buffered, then close; nothing more is answered.
    closing: bool,
    /// The client half-closed (or reset); nothing more can be read.
    read_closed: bool,
    /// A streaming handler's body queue is full: do not read until it has room.
    body_blocked: bool,
    /// Requests answered; the first request waits under the header timeout, later ones under
    /// the idle timeout.
    answered: u64,
    /// When the current incomplete head began to arrive.
    head_started: Option<Instant>,
    /// The last time bytes were read.
    last_read: Instant,
    /// The last time bytes were written, or the write buffer became empty.
    last_write: Instant,
    /// The connection's start.
    started: Instant,
    /// Lingering: the write side is shut down, reads are discarded until this instant.
    linger: Option<Instant>,
    /// Bytes discarded while lingering.
    discarded: usize,
    /// The one timer, armed for `armed` (reset lazily: only when it fires early or must fire
    /// sooner, not on every request).
    timer: Pin<Box<Sleep>>,
    /// The instant `timer` is set to.
    armed: Instant,
    /// The waker `timer` was last polled with (its registration), cleared when it is reset.
    timer_waker: Option<Waker>,
    /// The request that may switch protocols, while its answer is unknown: nothing after it is
    /// decoded (it may not be HTTP). At most one, since decoding pauses behind it.
    upgrade_candidate: Option<UpgradeCandidate>,
    /// The socket said "not ready" to a read during this poll, so its waker is registered and
    /// reading again before the next poll would only repeat the answer.
    read_blocked: bool,
    /// This poll's answers wait for the task's next poll to be written: see `poll_turns`.
    write_deferred: bool,
    /// The time, read at most once per poll: every timestamp a poll takes (read, write, head
    /// start) is within microseconds of it, and timeouts are whole seconds.
    clock: Option<Instant>,
    /// A switch whose 101 is being written; the loop ends once it is flushed.
    switch: Option<Switch>,
    /// h2c is on and nothing but a prefix of the HTTP/2 preface has arrived yet: the first
    /// bytes decide between HTTP/1.1 and HTTP/2.
    preface_check: bool,
    /// The HTTP/2 preface arrived: the loop ends and the connection goes to HTTP/2.
    http2: bool,
}

impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin> ExchangeLoop<S, T> {
    fn new(
        io: T,
        peer: SocketAddr,
        service: Rc<S>,
        options: Arc<HttpServerOptions>,
        protocol: &'static str,
        shutdown: Rc<ShutdownSignal>,
    ) -> Self {
        let now = Instant::now();
        let far = now + Duration::from_secs(86_400 * 365);
        let preface_check = options.http2.is_some() && protocol == "http";
        let mut stream = IoStream::new(io);
        // Answering request after request: the read buffer is kept between them.
        stream.keep_read_buffer(true);
        ExchangeLoop {
            stream,
            peer,
            service,
            decoder: RequestDecoder::new(options.limits),
            options,
            protocol,
            shutdown,
            date: DateCache::new(),
            date_fresh: false,
            queue: VecDeque::new(),
            spare: Vec::new(),
            spare_answers: Vec::new(),
            encoded_defaults: [None, None],
            background: Vec::new(),
            reading: None,
            waiting: None,
            next_id: 0,
            accepting: true,
            closing: false,
            read_closed: false,
            body_blocked: false,
            answered: 0,
            head_started: None,
            last_read: now,
            last_write: now,
            started: now,
            linger: None,
            discarded: 0,
            timer: Box::pin(tokio::time::sleep_until(far)),
            armed: far,
            timer_waker: None,
            read_blocked: false,
            write_deferred: false,
            clock: None,
            upgrade_candidate: None,
            switch: None,
            // Prior knowledge is for cleartext only: over TLS, ALPN says which protocol.
            preface_check,
            http2: false,
        }
    }

    /// One poll: turns of decode, answer, write, read until nothing moves.
    fn poll_turns(&mut self, cx: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        if self.shutdown.stats_wanted.get() {
            self.report_stats();
        }
        self.read_blocked = false;
        self.clock = None;
        self.date_fresh = false;
        for _ in 0..TURNS_PER_POLL {
            if self.linger.is_some() {
                return self.poll_linger(cx);
            }
            if self.shutdown.requested.get() && self.accepting {
                self.begin_shutdown();
            }
            let decoded = self.decode(cx);
            if self.http2 {
                return Poll::Ready(Ok(()));
            }
            let mut progress = decoded | self.poll_exchanges(cx);
            if decoded && !self.write_deferred && self.stream.write_buffer_len() > 0 {
                // The answers to what was just read are written on this task's next poll,
                // after the other connections on this loop have had their turn: answers to
                // many connections then leave close together, and a client reading them all
                // finds the next one already there instead of sleeping and being woken for
                // each (waking a thread on another CPU costs the writer an interprocessor
                // interrupt, dear in a VM). Once per poll, so a write is never put off twice.
                self.write_deferred = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            self.write_deferred = false;
            progress |= self.poll_write(cx)?;
            if self.switch.is_some() && self.stream.is_flushed() {
                // The 101 is out: the socket belongs to the new protocol now.
                return Poll::Ready(Ok(()));
            }
            if self.stream.is_flushed() && self.finished() {
                self.linger = Some(Instant::now() + LINGER_TIMEOUT);
                continue;
            }
            progress |= self.poll_read(cx)?;
            // Everything read was answered and written, and the socket has nothing more: a
            // further turn would only find that out again (the common keep-alive case).
            let settled = self.read_blocked
                && self.stream.read_buffer_len() == 0
                && self.stream.write_buffer_len() == 0
                && self.queue.is_empty();
            if !progress || settled {
                if self.poll_timer(cx) {
                    if self.on_timeout() {
                        return Poll::Ready(Ok(()));
                    }
                    continue;
                }
                self.shutdown.register(cx.waker());
                return Poll::Pending;
            }
        }
        // Out of turns with work left: let the worker's other connections run first.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Answers the actor's stats requests with what the loop holds now.
    fn report_stats(&mut self) {
        self.shutdown.stats_wanted.set(false);
        for (id, request) in self.shutdown.stats_requests.borrow_mut().drain(..) {
            request.reply(ConnectionStats {
                id,
                protocol: "http",
                read_buffered: Some(self.stream.read_buffer_len()),
                write_queued: Some(self.stream.write_buffer_len()),
                in_flight: self.queue.len(),
            });
        }
    }

    /// Whether the connection has nothing more to do but close.
    fn finished(&self) -> bool {
        self.closing || (!self.accepting && self.queue.is_empty() && self.reading.is_none())
    }

    /// Graceful shutdown: answer what is in flight (its answers say `Connection: close`),
    /// take nothing new.
    fn begin_shutdown(&mut self) {
        self.accepting = false;
        for exchange in &mut self.queue {
            exchange.context.keep_alive = false;
        }
        if self.reading.is_none() && !self.decoder.is_reading_body() {
            // An unfinished head or unread pipelined requests are not answered.
            self.stream.read_buffer_mut().clear();
        }
    }
}

impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin + 'static> ExchangeLoop<S, T> {
    /// After a switch: the transport and the bytes read past the switching request.
    fn into_transport(self) -> Option<(UpgradedIo, BytesMut)> {
        let (io, read_buf) = self.stream.into_parts()?;
        Some((UpgradedIo::new(io), read_buf))
    }
}

/// Ends with the switch when the connection switched protocols or turned out to be HTTP/2 (the
/// transport is then still open, in the loop), with [`Ended::Closed`] when it closed.
impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin> Future for ExchangeLoop<S, T> {
    type Output = Ended;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Ended> {
        let this = self.get_mut();
        match this.poll_turns(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) if this.http2 => Poll::Ready(Ended::Http2),
            Poll::Ready(Ok(())) => Poll::Ready(match this.switch.take() {
                Some(switch) => Ended::Switched(Box::new(switch)),
                None => Ended::Closed,
            }),
            Poll::Ready(Err(error)) => {
                tracing::debug!(peer = %this.peer, %error, "connection error");
                Poll::Ready(Ended::Closed)
            }
        }
    }
}

/// Logs a panic in the service (its call, its work, or a callback).
fn log_panic(peer: SocketAddr, panic: &(dyn std::any::Any + Send)) {
    let message = panic_message(panic);
    tracing::error!(%peer, panic = message, "HTTP handler panicked; answered 500");
}
