//! One shared HTTP/2 connection: the `h2` handshake over a connected transport, the task on
//! the client's loop that drives the connection (reads frames, writes what streams queued,
//! answers PINGs and SETTINGS), and the leases fetches open their streams with.
//!
//! The connection closes itself, with a GOAWAY, once no stream has been open for the idle
//! timeout or when the client's `close()` finds it idle; it also ends when the server closes
//! it or breaks the protocol, and, with keep-alive PINGs on, when a PING goes unanswered.
//! Either way the pool entry goes with it.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::pin::pin;
use std::rc::{Rc, Weak};
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::sync::Notify;

use super::pool::Http2Pool;
use crate::client::connection::{PoolKey, Transport};
use crate::client::error::{HttpClientError, TimeoutPhase};
use crate::client::options::ClientOptions;
use crate::http2::{KeepAlive, Watched};

/// How long a closing connection may take to send its GOAWAY before the socket is dropped
/// anyway: a server that stopped reading must not keep the task alive.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

/// How the client keeps its HTTP/2 connections (from its [`ClientOptions`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Http2Settings {
    /// A connection without a stream for this long is closed.
    pub(crate) idle_timeout: Duration,
    /// Silence from the server before a keep-alive PING; `None`: no PINGs.
    pub(crate) keep_alive_interval: Option<Duration>,
    /// Longest wait for a PING's answer before the connection is closed.
    pub(crate) keep_alive_timeout: Duration,
    /// Whether PINGs go on while no stream is open.
    pub(crate) keep_alive_while_idle: bool,
}

impl Http2Settings {
    /// The settings `options` asks for.
    pub(crate) fn of(options: &ClientOptions) -> Self {
        Http2Settings {
            idle_timeout: options.idle_timeout,
            keep_alive_interval: options.http2_keep_alive_interval,
            keep_alive_timeout: options.http2_keep_alive_timeout,
            keep_alive_while_idle: options.http2_keep_alive_while_idle,
        }
    }
}

/// What the driver task and the fetches using one connection share.
#[derive(Debug)]
pub(crate) struct SharedConnection {
    /// Tells connections to one origin apart, so a driver that ends removes its own pool
    /// entry and never a newer connection's.
    pub(crate) id: u64,
    /// The handle streams are opened from; `None` once the connection takes no new streams
    /// (closing, or ended). Fetches hold clones while their stream is open; when the last
    /// handle and stream are gone, `h2` sends GOAWAY and ends the connection.
    send: RefCell<Option<SendRequest<Bytes>>>,
    /// Streams open now, for the idle timeout and `close()`.
    in_flight: Cell<usize>,
    /// When the last stream ended (or the connection started), for the idle timeout.
    idle_since: Cell<Instant>,
    /// The client's `close()` asked for the connection to close while idle.
    close_requested: Cell<bool>,
    /// Wakes the driver when the last stream ends (its idle clock starts) or `close()` asks;
    /// while streams are open the driver arms no timer at all.
    wake: Notify,
    /// Set (to the timeout that ran out) when the driver closed the connection because a
    /// keep-alive PING went unanswered: what the fetches on it then fail with.
    keep_alive_expired: Cell<Option<Duration>>,
}

impl SharedConnection {
    /// Whether new streams may still be opened on it.
    pub(crate) fn is_open(&self) -> bool {
        self.send.borrow().is_some()
    }

    /// Whether no stream is open on it.
    pub(crate) fn is_idle(&self) -> bool {
        self.in_flight.get() == 0
    }

    /// A lease to open one stream, or `None` once the connection takes no new streams.
    pub(crate) fn lease(self: &Rc<Self>, reused: bool) -> Option<StreamLease> {
        let send = self.send.borrow().clone()?;
        self.in_flight.set(self.in_flight.get() + 1);
        Some(StreamLease {
            send,
            connection: Rc::clone(self),
            reused,
            answered: false,
        })
    }

    /// Takes no new streams; the connection ends once the streams in flight are done.
    pub(crate) fn retire(&self) {
        self.send.borrow_mut().take();
    }

    /// What a fetch on this connection failed with: the keep-alive's timeout when an
    /// unanswered PING closed the connection (its streams end with a broken pipe), else
    /// `error` itself.
    pub(crate) fn explain(&self, error: HttpClientError) -> HttpClientError {
        match self.keep_alive_expired.get() {
            Some(after) => HttpClientError::Timeout {
                phase: TimeoutPhase::KeepAlive,
                after,
            },
            None => error,
        }
    }

    /// Asks the driver to close the connection now if it is idle (the client's `close()`).
    pub(crate) fn close_if_idle(&self) {
        self.close_requested.set(true);
        self.wake.notify_one();
    }

    /// Whether the driver should close the connection now: no stream open, and `close()`
    /// asked or the idle timeout passed.
    fn should_close(&self, idle_timeout: Duration) -> bool {
        self.is_idle()
            && (self.close_requested.get() || self.idle_since.get().elapsed() >= idle_timeout)
    }
}

/// The right to open one stream on a shared connection; counted as in flight until dropped.
#[derive(Debug)]
pub(crate) struct StreamLease {
    /// This fetch's handle (a clone), so the connection lives until the stream is done.
    pub(crate) send: SendRequest<Bytes>,
    /// The connection it belongs to.
    pub(crate) connection: Rc<SharedConnection>,
    /// Whether the connection carried streams before this one: a failure before the response
    /// head on such a connection (it was closing) is retried once on a fresh one.
    pub(crate) reused: bool,
    /// Whether the response head arrived (after which nothing is retried).
    pub(crate) answered: bool,
}

impl Drop for StreamLease {
    fn drop(&mut self) {
        let connection = &self.connection;
        connection
            .in_flight
            .set(connection.in_flight.get().saturating_sub(1));
        if connection.is_idle() {
            connection.idle_since.set(Instant::now());
            connection.wake.notify_one();
        }
    }
}

/// How much of one response the server may send before the client reads it (SETTINGS_
/// INITIAL_WINDOW_SIZE). HTTP/2's default, 64 KiB, allows one window per round trip: 1.3 MB/s
/// at 50 ms, whatever the link. 2 MiB is hyper's client default; the body is handed back to
/// the server piece by piece as it is consumed, so this bounds what a slow reader buffers.
const STREAM_WINDOW: u32 = 2 * 1024 * 1024;

/// The same for all the connection's responses together (its WINDOW_UPDATE on stream 0):
/// 5 MiB, hyper's client default, so a few large downloads at once are not held to one
/// stream's window between them.
const CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;

/// Runs the HTTP/2 handshake over `transport` and starts the task driving the connection on
/// the current loop. The connection registers nowhere: the caller offers it to `pool`, which
/// the task clears its entry from when the connection ends.
pub(crate) async fn start(
    transport: Box<dyn Transport>,
    key: PoolKey,
    pool: Weak<Http2Pool>,
    id: u64,
    settings: Http2Settings,
) -> Result<Rc<SharedConnection>, HttpClientError> {
    // Timed as the server's connections are, for the keep-alive: when the server last sent
    // a byte. No write timeout: a server that stops reading stops answering PINGs too.
    let last_read = Rc::new(Cell::new(tokio::time::Instant::now()));
    let transport = Watched::new(transport, Rc::clone(&last_read), None);
    let (send, mut connection) = h2::client::Builder::new()
        // Server push is deprecated (RFC 9113 §8.4) and nothing here would use a pushed
        // response: refuse it in SETTINGS rather than receive and drop it.
        .enable_push(false)
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .handshake::<_, Bytes>(transport)
        .await
        .map_err(HttpClientError::from_h2)?;
    let keep_alive = match (settings.keep_alive_interval, connection.ping_pong()) {
        (Some(interval), Some(pings)) => Some(KeepAlive::new(
            pings,
            interval,
            settings.keep_alive_timeout,
            last_read,
        )),
        _ => None,
    };
    let shared = Rc::new(SharedConnection {
        id,
        send: RefCell::new(Some(send)),
        in_flight: Cell::new(0),
        idle_since: Cell::new(Instant::now()),
        close_requested: Cell::new(false),
        wake: Notify::new(),
        keep_alive_expired: Cell::new(None),
    });
    actix_rt::spawn(drive(
        connection,
        keep_alive,
        Rc::clone(&shared),
        pool,
        key,
        settings,
    ));
    Ok(shared)
}

/// The connection's task: polls `h2`'s connection until it ends, closing it once idle for
/// `idle_timeout`, idle when `close()` asks, or at once when a keep-alive PING goes
/// unanswered.
async fn drive(
    connection: h2::client::Connection<Watched<Box<dyn Transport>>, Bytes>,
    mut keep_alive: Option<KeepAlive>,
    shared: Rc<SharedConnection>,
    pool: Weak<Http2Pool>,
    key: PoolKey,
    settings: Http2Settings,
) {
    let idle_timeout = settings.idle_timeout;
    let mut connection = pin!(connection);
    loop {
        let idle_deadline = shared
            .is_idle()
            .then(|| shared.idle_since.get() + idle_timeout);
        let idle_expired = async {
            match idle_deadline {
                Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            ended = connection.as_mut() => {
                if let Err(error) = ended {
                    tracing::debug!(host = %key.host, port = key.port, %error, "HTTP/2 connection ended");
                }
                break;
            }
            () = idle_expired => {}
            () = shared.wake.notified() => {}
            () = poll_fn(|cx| match keep_alive.as_mut() {
                // Checked again on every wake-up of this task: a stream's first frames wake
                // the connection, so an idle connection that gets a fetch starts its PINGs.
                Some(keep_alive) if settings.keep_alive_while_idle || !shared.is_idle() => {
                    keep_alive.poll_expired(cx)
                }
                _ => Poll::Pending,
            }) => {
                tracing::debug!(host = %key.host, port = key.port, "HTTP/2 keep-alive PING unanswered: closing");
                shared.keep_alive_expired.set(Some(settings.keep_alive_timeout));
                // Dropping the connection closes the socket; its streams end at once.
                break;
            }
        }
        if shared.should_close(idle_timeout) {
            // Without a handle or a stream left, `h2` sends GOAWAY(NO_ERROR) and ends.
            shared.retire();
            let _ = tokio::time::timeout(CLOSE_GRACE, connection.as_mut()).await;
            break;
        }
    }
    shared.retire();
    if let Some(pool) = pool.upgrade() {
        pool.forget(&key, shared.id);
    }
}
