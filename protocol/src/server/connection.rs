//! The per-connection actor ([`HttpConnection`]) and the loop it runs over its socket.
//!
//! One actor per connection, on the worker that accepted it. It owns the socket through one
//! future spawned in its context (the exchange loop below), so the socket lives exactly as
//! long as the actor: `ConnectionControl::Close` stops the actor and drops the socket,
//! `ConnectionControl::Shutdown` lets the exchange in flight finish, then closes.
//!
//! # One turn of the loop
//!
//! 1. Decode what the read buffer holds into requests (heads, body pieces, ends), up to the
//!    pipelining cap; a buffered handler is called when its body is complete, a streaming one
//!    when the head arrives.
//! 2. Poll the handlers in flight; put every answer that is next in request order into the
//!    write buffer (so several pipelined answers leave in one write).
//! 3. Write the write buffer; read more if there is room for it (a full pipeline, a full
//!    streamed-body queue or a full write buffer stop the reads: that is the flow control).
//! 4. Arm the one timer for whatever the connection now waits on (header, body, idle, write,
//!    linger).
//!
//! Nothing here unwraps anything from the network; a handler's panic is caught around every
//! call and poll and answered with 500.
//!
//! # Switching protocols
//!
//! After an HTTP/1.1 request with `Connection: upgrade` and an `Upgrade` field, decoding (and
//! reading, once that request's body is in) pauses until its answer is known: what follows
//! may not be HTTP. An ordinary answer resumes decoding. A [`Reply::upgrade`] answer is
//! written as `101 Switching Protocols` after the answers before it; once it is flushed, the
//! loop ends and hands the transport, the unread bytes and the request head to the actor,
//! which moves its [`ConnectionSlot`] into an [`Upgraded`] for the service's callback and stops
//! without closing the socket.
//!
//! [`Reply::upgrade`]: super::Reply::upgrade

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};
use std::time::Duration;

use actix::prelude::*;
use bytes::{Buf, Bytes, BytesMut};
use cyclone_actors::panics::panic_message;
use cyclone_actors::registry::{ConnectionControl, ConnectionSlot};
use futures::channel::mpsc;
use futures::future::LocalBoxFuture;
use futures::{Sink, StreamExt};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, HeaderValue};
use http::{StatusCode, Version};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{Instant, Sleep};

use super::body::{BodyItem, RequestBody};
use super::decompress::{DecompressError, Decompressor};
use super::error::RequestBodyError;
use super::options::HttpServerOptions;
use super::request::HttpServerRequest;
use super::response::{HttpResponse, ResponseEvents, WriterEvent};
use super::sent::SentHook;
use super::service::{HttpService, ReplyKind};
use super::upgrade::{OnUpgrade, Switch, Upgraded, UpgradedIo};
use super::xheaders;
use crate::h1::{
    BodyEncoder, BodyFraming, BodyLength, CONTINUE_100, DateCache, Event, Expectation, ParseError,
    RequestDecoder, RequestHead, ResponseContext, encode_response_head_cached,
};

/// How long a closing connection keeps reading (and discarding) what the client still sends
/// after the last answer, so that the close does not turn into a reset that destroys the
/// answer in the client's receive buffer. 1 second.
pub const LINGER_TIMEOUT: Duration = Duration::from_secs(1);

/// Most bytes discarded while lingering before the socket is dropped anyway. 1 MiB.
pub const LINGER_MAX_DISCARD: usize = 1024 * 1024;

/// Read buffer capacity reserved while waiting for heads; bodies get the server's
/// `chunk_size`. 8 KiB.
const HEAD_READ_CAPACITY: usize = 8 * 1024;

/// Loop turns in one poll before the connection yields to the others on its worker, so one
/// client that always has bytes ready cannot starve them.
const TURNS_PER_POLL: usize = 32;

/// Starts the actor for one accepted connection on the current Arbiter.
///
/// The transport is generic so that a TLS stream can be served the same way: `protocol` is
/// what requests report (`"http"` or `"https"`).
pub fn serve_connection<S, T>(
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
    let mut exchange = ExchangeLoop::new(io, peer, service, options, protocol, shutdown.clone());
    let run = async move {
        let switch = (&mut exchange).await?;
        Some((switch, exchange.into_transport()))
    };
    HttpConnection::create(move |ctx| {
        slot.register(ctx.address().recipient());
        ctx.spawn(actix::fut::wrap_future::<_, HttpConnection>(run).map(
            move |switched, connection, ctx| {
                if let Some((switch, (io, read_buf))) = switched
                    && let Some(slot) = connection.slot.take()
                {
                    hand_over(switch, io, read_buf, slot, peer);
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

/// Gives a switched connection to the service's callback; a callback that panics loses this
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
pub struct HttpConnection {
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
        }
    }
}

/// A graceful-shutdown request from the actor to its exchange loop (same thread).
#[derive(Debug, Default)]
struct ShutdownSignal {
    /// Set once by `ConnectionControl::Shutdown`.
    requested: Cell<bool>,
    /// The loop's waker, so the request is seen while it sleeps.
    waker: RefCell<Option<Waker>>,
}

impl ShutdownSignal {
    fn request(&self) {
        self.requested.set(true);
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

/// A handler future in a box that is reused for later requests, so that a pending handler
/// costs an allocation only the first time a connection has one.
type FutureSlot<F> = Pin<Box<Option<F>>>;

/// What calling a handler and polling it once gave.
enum Called<F> {
    /// Still computing; the future sits in its box.
    Pending(FutureSlot<F>),
    /// Answered at once.
    Ready(super::service::Reply),
    /// The call or the first poll panicked (logged).
    Panicked,
}

/// One request from its head to the end of its answer, in the queue of answers.
struct Exchange<F> {
    /// Matches the exchange whose body is being read.
    id: u64,
    /// Version, HEAD and keep-alive facts for the encoder.
    context: ResponseContext,
    /// Send `100 Continue` once this exchange is first in line and its body is still unread.
    continue_pending: bool,
    /// Close the connection after this answer (a panic, a body error after the answer began).
    close_after: bool,
    /// The reply's [`on_sent`](super::Reply::on_sent) callback; fires when the exchange is
    /// dropped, with the status of the head sent (if one was).
    sent: Option<SentHook>,
    /// Where its answer stands.
    state: State<F>,
}

enum State<F> {
    /// The body is still being collected; the handler is not called yet.
    Collecting,
    /// The handler is computing the answer.
    Calling(FutureSlot<F>),
    /// A whole answer waiting for its turn.
    Whole(HttpResponse),
    /// A switch to another protocol, waiting for its turn and for the request's body to end.
    Upgrade {
        /// The 101's header fields.
        response: HttpResponse,
        /// Takes the connection over.
        on_upgrade: OnUpgrade,
    },
    /// An answer streamed through a `ResponseWriter`.
    Streamed {
        /// The writer's pieces.
        events: ResponseEvents,
        /// The handler producing them; `None` once it has returned.
        driver: Option<LocalBoxFuture<'static, ()>>,
        /// Frames the body once the head is written.
        encoder: Option<BodyEncoder>,
    },
}

/// The request whose body is being read.
struct Reading {
    /// Its exchange's id.
    id: u64,
    /// Where the body goes.
    sink: BodySink,
    /// Inflates a gzip body when `decompress_request` is on. Boxed: the inflater is large, rare, and `Reading` is set and taken for every request.
    decompressor: Option<Box<Decompressor>>,
    /// Whether another request may follow this one.
    keep_alive: bool,
    /// A second sender to a streaming handler's queue: each sender of the channel owns one
    /// guaranteed slot, so the final error (or the inflater's tail) gets through even when the
    /// queue is full, and a broken body is never mistaken for a complete one.
    last_word: Option<mpsc::Sender<BodyItem>>,
}

enum BodySink {
    /// A buffered handler: the body is collected, then the handler is called with it (the
    /// request waits in [`ExchangeLoop::waiting`]).
    Buffer(BodyBuffer),
    /// A streaming handler: pieces go to its queue; `None` once it dropped the stream.
    Stream(Option<mpsc::Sender<BodyItem>>),
}

/// A body collected without a copy when it arrives in one piece.
#[derive(Default)]
struct BodyBuffer {
    /// The only piece so far.
    first: Option<Bytes>,
    /// All pieces, once there is more than one.
    joined: BytesMut,
}

impl BodyBuffer {
    fn push(&mut self, data: Bytes) {
        if self.joined.is_empty() {
            match self.first.take() {
                None => self.first = Some(data),
                Some(first) => {
                    self.joined.reserve(first.len() + data.len());
                    self.joined.extend_from_slice(&first);
                    self.joined.extend_from_slice(&data);
                }
            }
        } else {
            self.joined.extend_from_slice(&data);
        }
    }

    fn finish(self) -> Bytes {
        match self.first {
            Some(first) => first,
            None => self.joined.freeze(),
        }
    }
}

/// What the connection is waiting for when its timer fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// The client to read what we wrote.
    Write,
    /// More body bytes.
    Body,
    /// The rest of a request head.
    Head,
    /// A first request, or the next one on a kept-alive connection.
    Idle,
    /// The client to close after our last answer.
    Linger,
}

/// The loop one connection runs: see the module docs.
struct ExchangeLoop<S: HttpService, T> {
    /// The socket (or TLS stream); nothing else touches it.
    io: T,
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
    /// Bytes read and not yet decoded; request heads and bodies are split off it.
    read_buf: BytesMut,
    /// Answers encoded and not yet written; one write sends them all.
    write_buf: BytesMut,
    /// The sans-IO request decoder.
    decoder: RequestDecoder,
    /// The `Date` value, formatted once a second.
    date: DateCache,
    /// `date` was refreshed during this poll.
    date_fresh: bool,
    /// Exchanges in request order; the first is the one being answered.
    queue: VecDeque<Exchange<S::Future>>,
    /// Emptied handler-future boxes, kept for reuse.
    spare: Vec<FutureSlot<S::Future>>,
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
    /// The socket needs a flush (TLS buffers writes).
    needs_flush: bool,
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
    /// The time, read at most once per poll: every timestamp a poll takes (read, write, head
    /// start) is within microseconds of it, and timeouts are whole seconds.
    clock: Option<Instant>,
    /// A switch whose 101 is being written; the loop ends once it is flushed.
    switch: Option<Switch>,
}

/// A request that asked to switch protocols.
struct UpgradeCandidate {
    /// Its exchange's id.
    id: u64,
    /// Its head, for the new protocol's handshake (the service owns the request itself).
    head: RequestHead,
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
        ExchangeLoop {
            io,
            peer,
            service,
            decoder: RequestDecoder::new(options.limits),
            options,
            protocol,
            shutdown,
            read_buf: BytesMut::new(),
            write_buf: BytesMut::new(),
            date: DateCache::new(),
            date_fresh: false,
            queue: VecDeque::new(),
            spare: Vec::new(),
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
            needs_flush: false,
            linger: None,
            discarded: 0,
            timer: Box::pin(tokio::time::sleep_until(far)),
            armed: far,
            timer_waker: None,
            read_blocked: false,
            clock: None,
            upgrade_candidate: None,
            switch: None,
        }
    }

    /// One poll: turns of decode, answer, write, read until nothing moves.
    fn poll_turns(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
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
            let mut progress = self.decode(cx);
            progress |= self.poll_exchanges(cx);
            progress |= self.poll_write(cx)?;
            if self.switch.is_some() && self.write_buf.is_empty() && !self.needs_flush {
                // The 101 is out: the socket belongs to the new protocol now.
                return Poll::Ready(Ok(()));
            }
            if self.write_buf.is_empty() && !self.needs_flush && self.finished() {
                self.linger = Some(Instant::now() + LINGER_TIMEOUT);
                continue;
            }
            progress |= self.poll_read(cx)?;
            // Everything read was answered and written, and the socket has nothing more: a
            // further turn would only find that out again (the common keep-alive case).
            let settled = self.read_blocked
                && self.read_buf.is_empty()
                && self.write_buf.is_empty()
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
            self.read_buf.clear();
        }
    }

    // ---------------------------------------------------------------- decoding requests

    /// Decodes what the read buffer holds, as far as the pipeline cap and the body queue
    /// allow. Returns whether anything happened.
    fn decode(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let mut progress = false;
        self.body_blocked = false;
        loop {
            if self.decoder.is_reading_body() {
                if self.reading.is_none() && !self.accepting {
                    // A body nobody will use, on a connection about to close.
                    break;
                }
                if let Some(Reading {
                    sink: BodySink::Stream(Some(sender)),
                    ..
                }) = &mut self.reading
                {
                    match Pin::new(sender).poll_ready(cx) {
                        Poll::Ready(Ok(())) => {}
                        Poll::Ready(Err(_)) => {
                            // The handler dropped the stream: read on, discarding.
                            if let Some(reading) = &mut self.reading {
                                reading.sink = BodySink::Stream(None);
                            }
                        }
                        Poll::Pending => {
                            self.body_blocked = true;
                            break;
                        }
                    }
                }
            } else if !self.accepting
                || self.closing
                || self.upgrade_candidate.is_some()
                || self.read_buf.is_empty()
                || self.queue.len() >= self.options.max_pipelined_requests.max(1)
                || self.write_buf.len() >= self.options.max_write_buffer_size
            {
                break;
            }
            match self.decoder.decode(&mut self.read_buf) {
                Ok(None) => break,
                Ok(Some(Event::Head(head))) => self.on_head(head, cx),
                Ok(Some(Event::Data(data))) => self.on_data(data),
                Ok(Some(Event::End { .. })) => self.on_end(cx),
                Err(error) => {
                    self.on_parse_error(&error);
                    progress = true;
                    break;
                }
            }
            progress = true;
        }
        self.update_head_clock();
        progress
    }

    /// Starts the header timeout when the first byte of a head is waiting, stops it otherwise.
    fn update_head_clock(&mut self) {
        let partial_head = !self.decoder.is_reading_body() && !self.read_buf.is_empty();
        match (partial_head, self.head_started) {
            (true, None) => self.head_started = Some(self.now()),
            (false, Some(_)) => self.head_started = None,
            _ => {}
        }
    }

    fn on_head(&mut self, mut head: RequestHead, cx: &mut TaskContext<'_>) {
        let id = self.next_id;
        self.next_id += 1;
        let mut context = head.response_context();
        if self.options.no_keep_alive || !self.accepting {
            context.keep_alive = false;
        }
        let keep_alive = context.keep_alive;
        if head.expectation == Expectation::Unsupported {
            // 417, then close: the client may send its body anyway, and it is not framed for us.
            self.push_error(StatusCode::EXPECTATION_FAILED, Some(context.version));
            self.accepting = false;
            self.closing_after_queue();
            return;
        }
        let expects_continue = head.expects_continue();
        // RFC 9110 §7.8: an Upgrade in an HTTP/1.0 request is ignored.
        if head.upgrade && head.version == Version::HTTP_11 {
            self.upgrade_candidate = Some(UpgradeCandidate {
                id,
                head: head.clone(),
            });
        }
        let decompressor = self.decompressor_for(&mut head);
        // Most requests (every GET) have no body: call the handler now rather than park the
        // request until the body's end, which would move it twice more.
        let bodyless = head.framing == BodyFraming::Length(0) && decompressor.is_none();
        let remote_ip;
        let protocol;
        if self.options.xheaders {
            remote_ip = xheaders::remote_ip(
                head.headers(),
                self.peer.ip(),
                &self.options.trusted_downstream,
            );
            protocol = xheaders::protocol(head.headers(), self.protocol);
        } else {
            remote_ip = self.peer.ip();
            protocol = self.protocol;
        }
        // The read that completed the head: its clock read serves every request it carried.
        let mut request = HttpServerRequest::new(
            head,
            self.last_read.into_std(),
            self.peer,
            remote_ip,
            protocol,
            self.options.form_limits,
        );
        let stream_body = self.call_guarded(|service| service.stream_request_body(&request));
        let mut last_word = None;
        let (state, sent, sink, close_after) = match stream_body {
            Some(true) => {
                let (sender, body) = RequestBody::channel(self.options.body_queue_chunks);
                last_word = Some(sender.clone());
                request.set_body_stream(body);
                let (state, sent, panicked) = self.call_service(request, cx);
                (state, sent, BodySink::Stream(Some(sender)), panicked)
            }
            Some(false) if bodyless => {
                let nothing_ahead = self.queue.is_empty()
                    && self.upgrade_candidate.is_none()
                    && self.write_buf.len() < self.options.max_write_buffer_size;
                let queued = if nothing_ahead {
                    self.call_and_answer(request, &context, cx)
                } else {
                    Some(self.call_service(request, cx))
                };
                let Some((state, sent, panicked)) = queued else {
                    // Answered, nothing to queue; only the (empty) body's end is left to decode.
                    // (An early return: folding this into the queueing below costs the common
                    // case an extra move of the exchange's parts.)
                    self.reading = Some(Reading {
                        id,
                        sink: BodySink::Stream(None),
                        decompressor: None,
                        keep_alive,
                        last_word: None,
                    });
                    return;
                };
                (state, sent, BodySink::Stream(None), panicked)
            }
            Some(false) => {
                self.waiting = Some(request);
                (
                    State::Collecting,
                    None,
                    BodySink::Buffer(BodyBuffer::default()),
                    false,
                )
            }
            None => (internal_error(), None, BodySink::Stream(None), true),
        };
        self.queue.push_back(Exchange {
            id,
            context,
            continue_pending: expects_continue,
            close_after,
            sent,
            state,
        });
        self.reading = Some(Reading {
            id,
            sink,
            decompressor,
            keep_alive,
            last_word,
        });
    }

    /// A gzip inflater for this body if `decompress_request` is on and the body is gzip; the
    /// head is changed as Tornado does (no `Content-Encoding`, `X-Consumed-Content-Encoding`).
    fn decompressor_for(&self, head: &mut RequestHead) -> Option<Box<Decompressor>> {
        if !self.options.decompress_request {
            return None;
        }
        let gzip = head
            .headers()
            .get(CONTENT_ENCODING)
            .is_some_and(|coding| coding.as_bytes().eq_ignore_ascii_case(b"gzip"));
        if !gzip {
            return None;
        }
        head.headers_mut().remove(CONTENT_ENCODING);
        head.headers_mut().insert(
            "x-consumed-content-encoding",
            HeaderValue::from_static("gzip"),
        );
        Some(Box::new(Decompressor::new(
            self.options.limits.max_body_size,
        )))
    }

    fn on_data(&mut self, data: Bytes) {
        self.last_read = self.now();
        let Some(reading) = &mut self.reading else {
            return;
        };
        let data = match &mut reading.decompressor {
            None => data,
            Some(inflater) => match inflater.feed(&data) {
                Ok(data) => data,
                Err(error) => return self.fail_body(Some(decompress_status(error))),
            },
        };
        if data.is_empty() {
            return;
        }
        match &mut reading.sink {
            BodySink::Buffer(body) => body.push(data),
            BodySink::Stream(sender) => {
                if let Some(channel) = sender
                    && channel.start_send(Ok(data)).is_err()
                {
                    *sender = None;
                }
            }
        }
    }

    fn on_end(&mut self, cx: &mut TaskContext<'_>) {
        let Some(mut reading) = self.reading.take() else {
            return;
        };
        if let Some(inflater) = &mut reading.decompressor {
            match inflater.finish() {
                Ok(rest) if !rest.is_empty() => match &mut reading.sink {
                    BodySink::Buffer(body) => body.push(rest),
                    BodySink::Stream(Some(_)) => {
                        if let Some(last_word) = &mut reading.last_word {
                            let _ = last_word.try_send(Ok(rest));
                        }
                    }
                    BodySink::Stream(None) => {}
                },
                Ok(_) => {}
                Err(error) => {
                    self.reading = Some(reading);
                    return self.fail_body(Some(decompress_status(error)));
                }
            }
        }
        if !reading.keep_alive {
            self.accepting = false;
        }
        match reading.sink {
            BodySink::Stream(_) => {} // dropping the sender ends the handler's stream
            BodySink::Buffer(body) => {
                let Some(mut request) = self.waiting.take() else {
                    return;
                };
                let body = body.finish();
                if reading.decompressor.is_some() {
                    request
                        .head_mut()
                        .headers_mut()
                        .insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
                }
                request.set_body(body);
                let (state, sent, panicked) = self.call_service(request, cx);
                if let Some(exchange) = self.queue.iter_mut().rev().find(|e| e.id == reading.id) {
                    exchange.state = state;
                    exchange.sent = sent;
                    exchange.close_after |= panicked;
                }
            }
        }
    }

    /// A head the decoder refused: answer its status (after the answers before it) and close.
    fn on_parse_error(&mut self, error: &ParseError) {
        let answer = error.response();
        tracing::debug!(peer = %self.peer, %error, status = %answer.status, "bad request");
        if self.reading.is_some() {
            self.fail_body(Some(answer.status));
        } else {
            self.push_error(answer.status, None);
        }
        self.accepting = false;
        self.read_buf.clear();
    }

    /// The body being read broke off: tell a streaming handler, answer `status` if the answer
    /// has not begun (none when the client is gone), and close after.
    fn fail_body(&mut self, status: Option<StatusCode>) {
        self.accepting = false;
        let Some(reading) = self.reading.take() else {
            return;
        };
        self.waiting = None;
        if let (BodySink::Stream(Some(_)), Some(mut sender)) = (reading.sink, reading.last_word) {
            let error = match status {
                Some(StatusCode::REQUEST_TIMEOUT) => RequestBodyError::Timeout,
                Some(status) => RequestBodyError::Invalid { status },
                None => RequestBodyError::Incomplete,
            };
            let _ = sender.try_send(Err(error));
        }
        let Some(position) = self.queue.iter().position(|e| e.id == reading.id) else {
            return;
        };
        let exchange = &mut self.queue[position];
        exchange.close_after = true;
        exchange.continue_pending = false;
        let started = matches!(
            exchange.state,
            State::Streamed {
                encoder: Some(_),
                ..
            }
        );
        match status {
            Some(status) if !started => {
                exchange.state = State::Whole(HttpResponse::new(status));
                exchange.context.keep_alive = false;
            }
            // The answer has begun: it ends when the handler ends it, then the connection closes.
            Some(_) => {}
            None if !matches!(exchange.state, State::Collecting) => {
                // Nobody to answer, but a streaming handler runs on to see the error.
            }
            None => {
                // Nobody to answer and no handler yet: forget the exchange.
                self.queue.remove(position);
            }
        }
    }

    /// Queues an error answer (empty body, `Connection: close`).
    fn push_error(&mut self, status: StatusCode, version: Option<Version>) {
        let id = self.next_id;
        self.next_id += 1;
        self.queue.push_back(Exchange {
            id,
            context: ResponseContext {
                version: version.unwrap_or(Version::HTTP_11),
                head_request: false,
                keep_alive: false,
            },
            continue_pending: false,
            close_after: true,
            sent: None,
            state: State::Whole(HttpResponse::new(status)),
        });
    }

    /// After the queued answers, close (no more decoding).
    fn closing_after_queue(&mut self) {
        self.accepting = false;
        self.read_buf.clear();
    }

    // ---------------------------------------------------------------- handlers

    /// Runs `call` on the service, catching a panic (`None`).
    fn call_guarded<R>(&self, call: impl FnOnce(&S) -> R) -> Option<R> {
        let service = &*self.service;
        match catch_unwind(AssertUnwindSafe(|| call(service))) {
            Ok(result) => Some(result),
            Err(panic) => {
                log_panic(self.peer, &*panic);
                None
            }
        }
    }

    /// Calls the handler and polls it once: most handlers answer at once, and then their box
    /// goes back to the spares. Returns the state and whether the handler panicked.
    fn call_service(
        &mut self,
        request: HttpServerRequest,
        cx: &mut TaskContext<'_>,
    ) -> (State<S::Future>, Option<SentHook>, bool) {
        match self.call(request, cx) {
            Called::Pending(slot) => (State::Calling(slot), None, false),
            Called::Ready(reply) => {
                let (state, sent) = state_of(reply);
                (state, sent, false)
            }
            Called::Panicked => (internal_error(), None, true),
        }
    }

    /// Calls the handler and polls it once.
    fn call(&mut self, request: HttpServerRequest, cx: &mut TaskContext<'_>) -> Called<S::Future> {
        let mut slot = self.spare.pop().unwrap_or_else(|| Box::pin(None));
        // The future is built straight into its box: it holds the request, and moving it
        // there afterwards would copy both.
        let called = self.call_guarded(|service| slot.as_mut().set(Some(service.call(request))));
        if called.is_none() {
            self.spare.push(slot);
            return Called::Panicked;
        }
        match poll_slot(&mut slot, cx, self.peer) {
            Poll::Pending => Called::Pending(slot),
            Poll::Ready(outcome) => {
                slot.as_mut().set(None);
                self.spare.push(slot);
                match outcome {
                    Some(reply) => Called::Ready(reply),
                    None => Called::Panicked,
                }
            }
        }
    }

    /// The common case, answered without queueing: a bodyless request with no answer ahead of
    /// it, whose handler returns a whole response at once. The answer goes straight into the
    /// write buffer; anything else becomes an exchange as usual.
    fn call_and_answer(
        &mut self,
        request: HttpServerRequest,
        context: &ResponseContext,
        cx: &mut TaskContext<'_>,
    ) -> Option<(State<S::Future>, Option<SentHook>, bool)> {
        match self.call(request, cx) {
            Called::Pending(slot) => Some((State::Calling(slot), None, false)),
            Called::Panicked => Some((internal_error(), None, true)),
            Called::Ready(reply) => {
                let (kind, on_sent) = reply.into_parts();
                let ReplyKind::Whole(response) = kind else {
                    let (state, sent) = state_of_parts(kind, on_sent);
                    return Some((state, sent, false));
                };
                let mut sent = on_sent.map(SentHook::new);
                note_head(&mut sent, response.status());
                self.refresh_date();
                let close = encode_whole(context, response, None, &self.date, &mut self.write_buf);
                // Dropping the hook reports the status sent.
                drop(sent);
                self.answered += 1;
                if close {
                    self.closing = true;
                    self.accepting = false;
                }
                None
            }
        }
    }

    /// Brings the cached `Date` up to date, once per poll: every answer a poll encodes shares
    /// one clock read.
    fn refresh_date(&mut self) {
        if !self.date_fresh {
            self.date.refresh();
            self.date_fresh = true;
        }
    }

    /// Polls every handler in flight, then moves answers that are next in line into the
    /// write buffer. Returns whether anything happened.
    fn poll_exchanges(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let mut progress = false;
        let peer = self.peer;
        for exchange in &mut self.queue {
            match &mut exchange.state {
                State::Calling(slot) => match poll_slot(slot, cx, peer) {
                    Poll::Pending => {}
                    Poll::Ready(outcome) => {
                        progress = true;
                        let state = match outcome {
                            Some(reply) => {
                                let (state, sent) = state_of(reply);
                                exchange.sent = sent;
                                state
                            }
                            None => {
                                exchange.close_after = true;
                                internal_error()
                            }
                        };
                        if let State::Calling(mut slot) =
                            std::mem::replace(&mut exchange.state, state)
                        {
                            slot.as_mut().set(None);
                            self.spare.push(slot);
                        }
                    }
                },
                State::Streamed {
                    driver: driver @ Some(_),
                    ..
                } => {
                    let finished = match driver {
                        Some(work) => {
                            match catch_unwind(AssertUnwindSafe(|| work.as_mut().poll(cx))) {
                                Ok(Poll::Pending) => false,
                                Ok(Poll::Ready(())) => true,
                                Err(panic) => {
                                    log_panic(peer, &*panic);
                                    exchange.close_after = true;
                                    true
                                }
                            }
                        }
                        None => false,
                    };
                    if finished {
                        // Dropping the work drops its writer, if it still held it.
                        *driver = None;
                        progress = true;
                    }
                }
                _ => {}
            }
        }
        progress | self.write_answers(cx)
    }

    /// Encodes the answers that are next in line, in order, into the write buffer.
    fn write_answers(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let mut progress = false;
        if !self.queue.is_empty() {
            self.refresh_date();
        }
        while let Some(exchange) = self.queue.front_mut() {
            if self.write_buf.len() >= self.options.max_write_buffer_size {
                break;
            }
            if exchange.continue_pending {
                exchange.continue_pending = false;
                let body_unread = self.reading.as_ref().is_some_and(|r| r.id == exchange.id);
                if body_unread {
                    self.write_buf.extend_from_slice(CONTINUE_100);
                    progress = true;
                }
            }
            let done = match &mut exchange.state {
                State::Collecting | State::Calling(_) => break,
                State::Whole(_) => {
                    if self.reading.as_ref().is_some_and(|r| r.id == exchange.id)
                        && exchange.context.version == Version::HTTP_11
                        && !self.decoder.is_closed()
                    {
                        // Answered before its body was read: the client may or may not send
                        // it now, so the next request's start is unknown. Close after.
                        exchange.close_after = true;
                    }
                    let State::Whole(response) =
                        std::mem::replace(&mut exchange.state, State::Collecting)
                    else {
                        break;
                    };
                    note_head(&mut exchange.sent, response.status());
                    let close = encode_whole(
                        &exchange.context,
                        response,
                        None,
                        &self.date,
                        &mut self.write_buf,
                    );
                    Some(close)
                }
                State::Upgrade { .. } => {
                    if self.reading.as_ref().is_some_and(|r| r.id == exchange.id) {
                        // The client speaks the new protocol only after the whole request.
                        break;
                    }
                    let State::Upgrade {
                        mut response,
                        on_upgrade,
                    } = std::mem::replace(&mut exchange.state, State::Collecting)
                    else {
                        break;
                    };
                    let candidate = self
                        .upgrade_candidate
                        .take_if(|candidate| candidate.id == exchange.id);
                    let head = match candidate {
                        Some(candidate)
                            if !exchange.close_after && !self.shutdown.requested.get() =>
                        {
                            candidate.head
                        }
                        candidate => {
                            // Not asked for (or HTTP/1.0), a broken exchange, or too late.
                            let status = if candidate.is_some() && !exchange.close_after {
                                StatusCode::SERVICE_UNAVAILABLE
                            } else {
                                StatusCode::INTERNAL_SERVER_ERROR
                            };
                            tracing::warn!(peer = %self.peer, %status, "protocol switch refused");
                            exchange.close_after = true;
                            exchange.state = State::Whole(HttpResponse::new(status));
                            continue;
                        }
                    };
                    let headers = response.headers_mut();
                    if !headers.contains_key(http::header::CONNECTION) {
                        headers.insert(
                            http::header::CONNECTION,
                            HeaderValue::from_static("upgrade"),
                        );
                    }
                    note_head(&mut exchange.sent, StatusCode::SWITCHING_PROTOCOLS);
                    encode_response_head_cached(
                        &exchange.context,
                        StatusCode::SWITCHING_PROTOCOLS,
                        response.headers(),
                        BodyLength::Known(0),
                        &self.date,
                        &mut self.write_buf,
                    );
                    self.switch = Some(Switch { head, on_upgrade });
                    self.accepting = false;
                    self.queue.clear();
                    self.answered += 1;
                    return true;
                }
                State::Streamed {
                    events, encoder, ..
                } => {
                    let mut outcome = None;
                    while self.write_buf.len() < self.options.max_write_buffer_size {
                        match events.poll_next_unpin(cx) {
                            Poll::Pending => break,
                            Poll::Ready(Some(WriterEvent::Head(status, headers))) => {
                                if encoder.is_none() {
                                    note_head(&mut exchange.sent, status);
                                    *encoder = Some(encode_response_head_cached(
                                        &exchange.context,
                                        status,
                                        &headers,
                                        BodyLength::Streaming,
                                        &self.date,
                                        &mut self.write_buf,
                                    ));
                                }
                            }
                            Poll::Ready(Some(WriterEvent::Data(data))) => {
                                note_head(&mut exchange.sent, StatusCode::OK);
                                let encoder = encoder.get_or_insert_with(|| {
                                    encode_response_head_cached(
                                        &exchange.context,
                                        StatusCode::OK,
                                        &http::HeaderMap::new(),
                                        BodyLength::Streaming,
                                        &self.date,
                                        &mut self.write_buf,
                                    )
                                });
                                if encoder.encode_data(&data, &mut self.write_buf).is_err() {
                                    outcome = Some(true);
                                    break;
                                }
                            }
                            Poll::Ready(Some(WriterEvent::End)) => {
                                note_head(&mut exchange.sent, StatusCode::OK);
                                let close = match encoder {
                                    Some(encoder) => {
                                        encoder.encode_end(None, &mut self.write_buf).is_err()
                                            || encoder.must_close()
                                    }
                                    None => encode_whole(
                                        &exchange.context,
                                        HttpResponse::ok(),
                                        None,
                                        &self.date,
                                        &mut self.write_buf,
                                    ),
                                };
                                outcome = Some(close);
                                break;
                            }
                            Poll::Ready(Some(WriterEvent::Full(response))) => {
                                note_head(&mut exchange.sent, response.status());
                                let close = encode_whole(
                                    &exchange.context,
                                    response,
                                    encoder.as_mut(),
                                    &self.date,
                                    &mut self.write_buf,
                                );
                                outcome = Some(close);
                                break;
                            }
                            Poll::Ready(None) => {
                                // The writer was dropped unfinished.
                                let close = match encoder {
                                    Some(_) => true,
                                    None => {
                                        note_head(
                                            &mut exchange.sent,
                                            StatusCode::INTERNAL_SERVER_ERROR,
                                        );
                                        encode_whole(
                                            &exchange.context,
                                            HttpResponse::new(StatusCode::INTERNAL_SERVER_ERROR),
                                            None,
                                            &self.date,
                                            &mut self.write_buf,
                                        );
                                        true
                                    }
                                };
                                outcome = Some(close);
                                break;
                            }
                        }
                        progress = true;
                    }
                    match outcome {
                        Some(close) => Some(close),
                        None => break,
                    }
                }
            };
            let Some(close) = done else { break };
            progress = true;
            let close = close || exchange.close_after;
            if self
                .upgrade_candidate
                .as_ref()
                .is_some_and(|candidate| candidate.id == exchange.id)
            {
                // Answered without a switch: what follows is HTTP after all, and its header
                // clock starts now, not when it arrived behind the paused request.
                self.upgrade_candidate = None;
                self.head_started = None;
            }
            self.queue.pop_front();
            self.answered += 1;
            if close {
                self.closing = true;
                self.accepting = false;
                self.queue.clear();
                self.reading = None;
                self.waiting = None;
                break;
            }
        }
        progress
    }

    // ---------------------------------------------------------------- socket

    /// Writes the write buffer. Returns whether bytes moved; errors end the connection.
    fn poll_write(&mut self, cx: &mut TaskContext<'_>) -> io::Result<bool> {
        let mut progress = false;
        while !self.write_buf.is_empty() {
            match Pin::new(&mut self.io).poll_write(cx, &self.write_buf) {
                Poll::Ready(Ok(0)) => return Err(io::ErrorKind::WriteZero.into()),
                Poll::Ready(Ok(written)) => {
                    self.write_buf.advance(written);
                    self.needs_flush = true;
                    progress = true;
                }
                Poll::Ready(Err(error)) => return Err(error),
                Poll::Pending => break,
            }
        }
        if progress {
            self.last_write = self.now();
        }
        if self.write_buf.is_empty() {
            self.write_buf.clear();
            if self.needs_flush {
                match Pin::new(&mut self.io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => self.needs_flush = false,
                    Poll::Ready(Err(error)) => return Err(error),
                    Poll::Pending => {}
                }
            }
        }
        Ok(progress)
    }

    /// The time as of this poll (one clock read per poll).
    fn now(&mut self) -> Instant {
        *self.clock.get_or_insert_with(Instant::now)
    }

    /// Reads if there is room for what is read. Returns whether anything happened.
    fn poll_read(&mut self, cx: &mut TaskContext<'_>) -> io::Result<bool> {
        let reading_body = self.decoder.is_reading_body();
        let room = !self.read_closed
            && !self.closing
            && (self.accepting || self.reading.is_some())
            && !self.body_blocked
            && self.write_buf.len() < self.options.max_write_buffer_size
            && (reading_body
                || (self.upgrade_candidate.is_none()
                    && self.queue.len() < self.options.max_pipelined_requests.max(1)));
        if !room || self.read_blocked {
            return Ok(false);
        }
        let want = if reading_body {
            self.options.chunk_size.max(1024)
        } else {
            HEAD_READ_CAPACITY
        };
        if self.read_buf.capacity() - self.read_buf.len() < want / 8 {
            self.read_buf.reserve(want);
        }
        match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf) {
            Poll::Pending => {
                self.read_blocked = true;
                Ok(false)
            }
            Poll::Ready(Ok(0)) => {
                self.on_eof();
                Ok(true)
            }
            Poll::Ready(Ok(_)) => {
                self.last_read = self.now();
                Ok(true)
            }
            Poll::Ready(Err(error)) => Err(error),
        }
    }

    /// The client closed its sending side: answer what is complete, drop what is not.
    ///
    /// As in Tornado, a client that closed is gone: answers already computed are still written
    /// (a client that only half-closed gets them), but handlers still computing theirs (a long
    /// poll, say) are cancelled now rather than when they first write, so that the web layer's
    /// `on_connection_close` runs at once. Answers queued behind a cancelled one cannot be sent
    /// in order and go too. A handler still reading the request body is not cancelled: its
    /// body stream ends with an error, which tells it.
    fn on_eof(&mut self) {
        self.read_closed = true;
        self.accepting = false;
        let body_failed = self.reading.as_ref().map(|reading| reading.id);
        if self.reading.is_some() {
            self.fail_body(None);
        }
        self.read_buf.clear();
        let computing = self.queue.iter().position(|exchange| {
            Some(exchange.id) != body_failed
                && matches!(
                    exchange.state,
                    State::Calling(_) | State::Streamed { .. } | State::Collecting
                )
        });
        if let Some(first) = computing {
            if self.upgrade_candidate.as_ref().is_some_and(|candidate| {
                self.queue.iter().skip(first).any(|e| e.id == candidate.id)
            }) {
                self.upgrade_candidate = None;
            }
            // Dropping the exchanges drops the handlers' futures (and streamed writers).
            self.queue.truncate(first);
            self.reading = None;
            self.waiting = None;
            tracing::debug!(peer = %self.peer, "client closed; unfinished handlers cancelled");
        }
    }

    /// Closing: shut the write side, then discard reads until the client closes or the linger
    /// time or byte budget runs out.
    fn poll_linger(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        if Pin::new(&mut self.io).poll_shutdown(cx).is_pending() {
            return self.linger_wait(cx);
        }
        while !self.read_closed && self.discarded < LINGER_MAX_DISCARD {
            self.read_buf.clear();
            if self.read_buf.capacity() < HEAD_READ_CAPACITY {
                self.read_buf.reserve(HEAD_READ_CAPACITY);
            }
            match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.read_buf) {
                Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => self.read_closed = true,
                Poll::Ready(Ok(read)) => self.discarded += read,
                Poll::Pending => return self.linger_wait(cx),
            }
        }
        Poll::Ready(Ok(()))
    }

    fn linger_wait(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        if self.poll_timer(cx) {
            return Poll::Ready(Ok(()));
        }
        Poll::Pending
    }

    // ---------------------------------------------------------------- timeouts

    /// What the connection waits for now, and until when.
    fn waiting_for(&self) -> Option<(Wait, Instant)> {
        let options = &self.options;
        if let Some(until) = self.linger {
            return Some((Wait::Linger, until));
        }
        if !self.write_buf.is_empty() {
            return Some((
                Wait::Write,
                self.last_write + options.idle_connection_timeout,
            ));
        }
        if self.reading.is_some() {
            if self.body_blocked || !self.decoder.is_reading_body() {
                return None;
            }
            return Some((Wait::Body, self.last_read + options.body_timeout));
        }
        if !self.queue.is_empty() || !self.accepting {
            return None;
        }
        if let Some(started) = self.head_started {
            return Some((Wait::Head, started + options.header_timeout));
        }
        if self.answered == 0 {
            return Some((Wait::Idle, self.started + options.header_timeout));
        }
        Some((
            Wait::Idle,
            self.last_read.max(self.last_write) + options.idle_connection_timeout,
        ))
    }

    /// Whether the deadline of the current wait has passed; otherwise the timer is armed for it.
    fn poll_timer(&mut self, cx: &mut TaskContext<'_>) -> bool {
        let Some((_, deadline)) = self.waiting_for() else {
            return false;
        };
        if deadline <= self.now() {
            return true;
        }
        if deadline < self.armed || self.timer.is_elapsed() {
            self.timer.as_mut().reset(deadline);
            self.armed = deadline;
            self.timer_waker = None;
        } else if self
            .timer_waker
            .as_ref()
            .is_some_and(|waker| waker.will_wake(cx.waker()))
        {
            // Armed for no later than the deadline and already holding this task's waker:
            // polling it again (every time the connection goes idle) would change nothing.
            return false;
        }
        loop {
            match self.timer.as_mut().poll(cx) {
                Poll::Pending => {
                    self.timer_waker = Some(cx.waker().clone());
                    return false;
                }
                Poll::Ready(()) => {
                    // Fired for an older, earlier deadline: re-arm for the current one.
                    if deadline <= Instant::now() {
                        return true;
                    }
                    self.timer.as_mut().reset(deadline);
                    self.armed = deadline;
                }
            }
        }
    }

    /// Acts on an expired wait. Returns whether the connection ends now.
    fn on_timeout(&mut self) -> bool {
        let Some((wait, _)) = self.waiting_for() else {
            return false;
        };
        tracing::debug!(peer = %self.peer, ?wait, "connection timeout");
        match wait {
            Wait::Write | Wait::Idle | Wait::Linger => true,
            Wait::Body => {
                self.fail_body(Some(StatusCode::REQUEST_TIMEOUT));
                false
            }
            Wait::Head => {
                self.push_error(StatusCode::REQUEST_TIMEOUT, None);
                self.closing_after_queue();
                self.head_started = None;
                false
            }
        }
    }
}

impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin + 'static> ExchangeLoop<S, T> {
    /// After a switch: the transport and the bytes read past the switching request.
    fn into_transport(self) -> (UpgradedIo, BytesMut) {
        (UpgradedIo::new(self.io), self.read_buf)
    }
}

/// Ends with the switch when the connection switched protocols (the transport is then still
/// open, in the loop), with `None` when it closed.
impl<S: HttpService, T: AsyncRead + AsyncWrite + Unpin> Future for ExchangeLoop<S, T> {
    type Output = Option<Switch>;

    fn poll(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<Option<Switch>> {
        let this = self.get_mut();
        match this.poll_turns(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(())) => Poll::Ready(this.switch.take()),
            Poll::Ready(Err(error)) => {
                tracing::debug!(peer = %this.peer, %error, "connection error");
                Poll::Ready(None)
            }
        }
    }
}

/// Polls a handler future, catching a panic (`None`).
fn poll_slot<F: Future<Output = super::service::Reply>>(
    slot: &mut FutureSlot<F>,
    cx: &mut TaskContext<'_>,
    peer: SocketAddr,
) -> Poll<Option<super::service::Reply>> {
    let Some(future) = slot.as_mut().as_pin_mut() else {
        return Poll::Ready(None);
    };
    match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
        Ok(Poll::Pending) => Poll::Pending,
        Ok(Poll::Ready(reply)) => Poll::Ready(Some(reply)),
        Err(panic) => {
            log_panic(peer, &*panic);
            Poll::Ready(None)
        }
    }
}

/// Records the status of the head an exchange's answer went out with (the first one counts:
/// a head already sent is not replaced by what follows it).
fn note_head(sent: &mut Option<SentHook>, status: StatusCode) {
    if let Some(hook) = sent {
        hook.head_sent(status);
    }
}

/// The state a reply puts its exchange in, and its `on_sent` hook.
fn state_of<F>(reply: super::service::Reply) -> (State<F>, Option<SentHook>) {
    let (kind, on_sent) = reply.into_parts();
    state_of_parts(kind, on_sent)
}

/// [`state_of`] for a reply already taken apart.
fn state_of_parts<F>(
    kind: ReplyKind,
    on_sent: Option<super::sent::SentCallback>,
) -> (State<F>, Option<SentHook>) {
    let state = match kind {
        ReplyKind::Whole(response) => State::Whole(response),
        ReplyKind::Streamed { events, driver } => State::Streamed {
            events,
            driver,
            encoder: None,
        },
        ReplyKind::Upgrade {
            response,
            on_upgrade,
        } => State::Upgrade {
            response,
            on_upgrade,
        },
    };
    (state, on_sent.map(SentHook::new))
}

fn internal_error<F>() -> State<F> {
    State::Whole(HttpResponse::new(StatusCode::INTERNAL_SERVER_ERROR))
}

fn decompress_status(error: DecompressError) -> StatusCode {
    match error {
        DecompressError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        DecompressError::Invalid => StatusCode::BAD_REQUEST,
    }
}

/// Encodes a whole answer (or, after a streamed head, its body and end). Returns whether the
/// connection must close after it.
fn encode_whole(
    context: &ResponseContext,
    response: HttpResponse,
    started: Option<&mut BodyEncoder>,
    date: &DateCache,
    dst: &mut BytesMut,
) -> bool {
    let (status, headers, body) = response.into_boxed_parts();
    let mut fresh;
    let encoder = match started {
        Some(encoder) => encoder,
        None => {
            fresh = encode_response_head_cached(
                context,
                status,
                &headers,
                BodyLength::Known(body.len() as u64),
                date,
                dst,
            );
            &mut fresh
        }
    };
    crate::h1::recycle_boxed(headers);
    let failed = encoder.encode_data(&body, dst).is_err() || encoder.encode_end(None, dst).is_err();
    failed || encoder.must_close()
}

fn log_panic(peer: SocketAddr, panic: &(dyn std::any::Any + Send)) {
    let message = panic_message(panic);
    tracing::error!(%peer, panic = message, "HTTP handler panicked; answered 500");
}
