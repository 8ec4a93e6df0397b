//! The HTTP/2 server: one actor per connection (`Http2Connection`), driving the `h2` crate's
//! server over the connection's transport, each request stream handed to the same service as
//! the same [`HttpRequestMessage`](super::HttpRequestMessage) an HTTP/1.1 request is.
//!
//! # How a connection gets here
//!
//! - Over TLS, when the client picked `h2` by ALPN (the server offers `h2` before `http/1.1`
//!   once [`HttpServer::http2`](super::HttpServer::http2) is on): the TLS handshake actor hands
//!   the stream straight to this one.
//! - In cleartext with prior knowledge (h2c): the HTTP/1.1 connection actor recognises the
//!   connection preface (`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) as the first bytes of a connection
//!   and hands its transport, the bytes it read and its registry slot over, as it does for a
//!   protocol switch; `h2` then reads the preface again from those bytes (the `IoStream`'s
//!   read buffer, read first).
//!
//! # Files
//!
//! - `mod.rs` (here): the actor, and the loop accepting streams and polling their work.
//! - `stream.rs`: one request stream: its request, its body, its answer.
//! - `config.rs`: [`Http2Config`], the limits.
//! - The keep-alive PINGs to a silent client and the timed transport (when the client last
//!   sent bytes, how long a write has waited for it to read) are what the client's HTTP/2
//!   uses too: `crate::http2`.
//! - `tunnel.rs`: a WebSocket over HTTP/2 (RFC 8441): the extended CONNECT stream handed to
//!   the upgrade callback as a byte stream, which the WebSocket connection actor then owns as
//!   it owns a socket after an HTTP/1.1 upgrade (see `docs/http2.md`).
//!
//! # How a connection ends
//!
//! - The client closes it, or breaks the protocol (`h2` sends GOAWAY with the reason).
//! - No stream open for `idle_connection_timeout` (the HTTP/1.1 keep-alive limit): GOAWAY
//!   (`NO_ERROR`, naming the last stream served), then close.
//! - Graceful shutdown ([`ConnectionControl::Shutdown`]): with no stream open, as when idle
//!   (an open WebSocket is an open stream: its own actor, reached through its own registry
//!   slot, closes it with 1001, and the connection waits for that);
//!   otherwise `h2`'s two-step GOAWAY (first 2³¹−1, then after a PING round trip the last
//!   stream taken; streams the client opens after it are not served), and the close once the
//!   last stream is answered. The server sends [`ConnectionControl::Close`] at its deadline.
//! - A keep-alive PING unanswered within `keep_alive_timeout`, or a write the client takes no
//!   byte of within `write_timeout`: closed without a word (the client is gone or not
//!   reading, so nothing would reach it).
//!
//! Everything a connection runs (the `h2` connection, each stream's handler work and answer)
//! lives in one future spawned in the actor's context, so it all goes when the actor stops.

mod config;
mod stream;
mod tunnel;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};

use actix::prelude::*;
use bytes::{Bytes, BytesMut};
use cyclone_actors::iostream::IoStream;
use cyclone_actors::registry::{
    ConnectionControl, ConnectionId, ConnectionSlot, ConnectionStats, StatsRequest,
};
use futures::StreamExt;
use futures::stream::FuturesUnordered;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;

use super::options::HttpServerOptions;
use super::service::HttpService;
use crate::h1::DateCache;
use crate::http2::{KeepAlive, Watched};

pub use config::Http2Config;
use stream::StreamContext;

/// The HTTP/2 connection preface a client with prior knowledge starts with (RFC 9113 §3.4).
pub(crate) const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Starts the actor for one HTTP/2 connection on the current Arbiter. `read` holds bytes
/// already read from `io` (the preface, for h2c), given to `h2` first.
pub(crate) fn serve_http2<S, T>(
    io: T,
    read: BytesMut,
    peer: SocketAddr,
    slot: ConnectionSlot,
    service: Rc<S>,
    options: Arc<HttpServerOptions>,
    protocol: &'static str,
) -> Addr<Http2Connection>
where
    S: HttpService,
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let signal = Rc::new(Signal::default());
    let slot = Rc::new(slot);
    let context = Rc::new(StreamContext {
        service,
        peer,
        protocol,
        date: RefCell::new(DateCache::new()),
        date_value: RefCell::new(None),
        options,
        slot: slot.clone(),
        signal: signal.clone(),
    });
    let run = drive(io, read, context, signal.clone());
    Http2Connection::create(move |ctx| {
        slot.register(ctx.address().recipient());
        ctx.spawn(
            actix::fut::wrap_future::<_, Http2Connection>(run)
                .map(|(), _connection, ctx| ctx.stop()),
        );
        Http2Connection { slot, signal }
    })
}

/// The actor owning one HTTP/2 connection; see the [module docs](self).
#[derive(Debug)]
pub(crate) struct Http2Connection {
    /// Keeps the connection listed in the server's registry (and its `max_connections`
    /// permit) for as long as the actor lives. Shared with the connection's loop (which lives
    /// inside the actor), where a WebSocket stream opens its own slot from it.
    slot: Rc<ConnectionSlot>,
    /// Tells the connection's loop about a graceful shutdown and stats requests.
    signal: Rc<Signal>,
}

impl Actor for Http2Connection {
    type Context = Context<Self>;
}

impl Handler<ConnectionControl> for Http2Connection {
    type Result = ();

    fn handle(&mut self, control: ConnectionControl, ctx: &mut Context<Self>) {
        match control {
            ConnectionControl::Close => {
                tracing::debug!(id = ?self.slot.id(), "closing HTTP/2 connection on request");
                ctx.stop();
            }
            ConnectionControl::Shutdown => {
                self.signal.shutdown.set(true);
                self.signal.wake();
            }
            // HTTP exchanges have no use for broadcast values.
            ConnectionControl::Notify(_) => {}
            ConnectionControl::Stats(request) => {
                self.signal
                    .stats
                    .borrow_mut()
                    .push((self.slot.id(), request));
                self.signal.wake();
            }
        }
    }
}

/// From the actor to its loop (same thread).
#[derive(Debug, Default)]
pub(crate) struct Signal {
    /// A graceful shutdown was asked for: GOAWAY, finish the streams in flight, close (and
    /// accept no WebSocket meanwhile).
    pub(crate) shutdown: Cell<bool>,
    /// Stats requests waiting for the loop's next turn.
    stats: RefCell<Vec<(ConnectionId, StatsRequest)>>,
    /// The loop's waker.
    waker: RefCell<Option<Waker>>,
}

impl Signal {
    fn wake(&self) {
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// How a connection's loop ended.
enum Ended {
    /// Closed by either side, after GOAWAY.
    Closed,
    /// `h2` reports the connection broken (by the client, or its transport).
    Error(h2::Error),
    /// A keep-alive PING went unanswered.
    KeepAliveTimeout,
}

/// The connection's loop: the handshake, then accepting streams and polling each stream's
/// work until the connection ends (see the [module docs](self) for how it does).
async fn drive<S, T>(io: T, read: BytesMut, context: Rc<StreamContext<S>>, signal: Rc<Signal>)
where
    S: HttpService,
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    let options = context.options.clone();
    let Some(config) = options.http2 else {
        return;
    };
    let peer = context.peer;
    let last_read = Rc::new(Cell::new(Instant::now()));
    // The connection's stream, as every connection actor owns one: the bytes read before the
    // hand-over (an h2c preface) come first, and an idle connection lends its read buffer
    // back to the loop. `h2` reads and writes it as a byte stream.
    let io = IoStream::with_read_buffer(io, read);
    let io = Watched::new(io, last_read.clone(), Some(options.write_timeout));
    // The client's preface and SETTINGS are its "request head": held to the header timeout.
    let handshake = config.builder().handshake::<_, Bytes>(io);
    let mut connection = match tokio::time::timeout(options.header_timeout, handshake).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => {
            tracing::debug!(%peer, %error, "HTTP/2 handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "HTTP/2 handshake timed out");
            return;
        }
    };
    let mut keep_alive = match (config.get_keep_alive_interval(), connection.ping_pong()) {
        (Some(interval), Some(pings)) => Some(KeepAlive::new(
            pings,
            interval,
            config.get_keep_alive_timeout(),
            last_read,
        )),
        _ => None,
    };
    let mut streams = FuturesUnordered::new();
    // GOAWAY sent (or on its way): no idle clock any more.
    let mut going_away = false;
    // The final GOAWAY is asked for: `h2` closes the connection once it is written.
    let mut closing = false;
    let mut last_active = Instant::now();
    let idle = tokio::time::sleep(options.idle_connection_timeout);
    let mut idle = pin!(idle);
    let ended = poll_fn(|cx| {
        *signal.waker.borrow_mut() = Some(cx.waker().clone());
        if !signal.stats.borrow().is_empty() {
            for (id, request) in signal.stats.borrow_mut().drain(..) {
                request.reply(ConnectionStats {
                    id,
                    protocol: "h2",
                    read_buffered: None,
                    write_queued: None,
                    in_flight: streams.len(),
                });
            }
        }
        // Streams first: what they send is written when the connection is polled below.
        while let Poll::Ready(Some(())) = streams.poll_next_unpin(cx) {}
        if signal.shutdown.get() && !going_away {
            going_away = true;
            if !streams.is_empty() || connection.has_streams() {
                // Streams in flight: tell the client, let them finish. With none, the final
                // GOAWAY goes below at once.
                connection.graceful_shutdown();
            }
        }
        if let Some(keep_alive) = &mut keep_alive
            && keep_alive.poll_expired(cx).is_ready()
        {
            return Poll::Ready(Ended::KeepAliveTimeout);
        }
        // Every stream `h2` has decoded is accepted before any is answered, and the answers
        // queued by one turn go out with the next turn's `poll_accept`, which writes and
        // flushes what is queued before it reads: the sixteen answers to a client's sixteen
        // requests leave in one write, not one write (and one TLS record) each.
        let mut accepted = false;
        loop {
            match connection.poll_accept(cx) {
                Poll::Ready(Some(Ok((request, respond)))) => {
                    let work = stream::serve_stream(context.clone(), request, respond);
                    streams.push(Box::pin(work));
                    accepted = true;
                }
                Poll::Ready(Some(Err(error))) => return Poll::Ready(Ended::Error(error)),
                Poll::Ready(None) => return Poll::Ready(Ended::Closed),
                Poll::Pending => break,
            }
        }
        if accepted {
            // Most answers are ready at once: queued now, written by the next turn's accept,
            // after the other connections on this loop have had theirs: the answers to many
            // connections then leave close together, and a client reading them all finds the
            // next one already there instead of going to sleep and being woken for each
            // (h2load -c64 -m16: 64 500 -> 3 200 context switches in the client over 4 s,
            // 271 k -> 301 k requests/s; waking a thread on another CPU costs the writer an
            // interprocessor interrupt, dear in a VM).
            while let Poll::Ready(Some(())) = streams.poll_next_unpin(cx) {}
            cx.waker().wake_by_ref();
            last_active = Instant::now();
            return Poll::Pending;
        }
        if !streams.is_empty() || connection.has_streams() {
            last_active = Instant::now();
            return Poll::Pending;
        }
        if !going_away {
            // Idle: no stream open for `idle_connection_timeout` (the HTTP/1.1 keep-alive
            // limit).
            let deadline = last_active + options.idle_connection_timeout;
            if idle.deadline() != deadline {
                idle.as_mut().reset(deadline);
            }
            if idle.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            tracing::debug!(%peer, "idle HTTP/2 connection: GOAWAY");
            going_away = true;
        }
        if !closing {
            // Idle, or shutting down with nothing left to answer: the final GOAWAY names the
            // last stream served (so the client may retry a request it sent meanwhile), and
            // `h2` closes the connection once it is written, without waiting for the PING
            // answer of a two-step GOAWAY that a dead client never sends.
            closing = true;
            connection.abrupt_shutdown(h2::Reason::NO_ERROR);
            // Polled again, `h2` writes the GOAWAY and ends the connection.
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    })
    .await;
    match ended {
        Ended::Closed => {}
        Ended::Error(error) => tracing::debug!(%peer, %error, "HTTP/2 connection error"),
        Ended::KeepAliveTimeout => {
            tracing::debug!(%peer, "HTTP/2 keep-alive PING unanswered: closing");
        }
    }
}
