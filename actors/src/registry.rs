//! The connection registry: every live connection of one server, reachable from any thread.
//!
//! Each accepted connection holds a [`ConnectionSlot`]: while the slot lives, the connection is
//! listed in its server's [`ConnectionRegistry`] and holds one of the server's
//! `max_connections` permits; dropping the slot (the connection actor stopping) removes the
//! entry and frees the permit. Nothing else registers or deregisters, so the registry cannot
//! drift from the set of live actors.
//!
//! A registered connection is reached through its actor's mailbox, as a
//! `Recipient<`[`ConnectionControl`]`>`: any actor type can be registered (the TCP stream actor
//! of [`connection`](crate::connection), and the HTTP and WebSocket connection actors built on
//! the same accept loop), and no other thread ever touches its socket.
//!
//! | Operation | What it does |
//! |---|---|
//! | [`len`](ConnectionRegistry::len) / [`summaries`](ConnectionRegistry::summaries) | count or list live connections (id, peer, opened) |
//! | [`notify_all`](ConnectionRegistry::notify_all) | offer a value to every connection's mailbox; a full mailbox drops it |
//! | [`close_all`](ConnectionRegistry::close_all) | tell every connection actor to stop (its socket closes) |
//! | [`wait_empty`](ConnectionRegistry::wait_empty) | wait, with a timeout, until every connection is gone |

use std::any::Any;
use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix::{Message, Recipient};
use dashmap::DashMap;
use tokio::sync::{Notify, OwnedSemaphorePermit, mpsc};

/// A value broadcast to connections with [`ConnectionRegistry::notify_all`]; the receiver
/// downcasts it to the type it expects (`notification.downcast_ref::<String>()`).
pub type Notification = Arc<dyn Any + Send + Sync>;

/// Identifies one connection within its server's registry; never reused while the server lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(u64);

impl ConnectionId {
    /// The number behind the id, for logs.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "conn-{}", self.0)
    }
}

/// What the registry (and so the server) can tell a connection actor. Every connection actor
/// type handles it; that is what lets one registry hold TCP, HTTP and WebSocket connections.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub enum ConnectionControl {
    /// Stop now: the actor stops and its socket closes. Sent by
    /// [`ConnectionRegistry::close_all`] and when a graceful shutdown runs out of time.
    Close,
    /// The server is shutting down gracefully: finish the exchange in flight, then close. No
    /// deadline travels with it; the server sends [`ConnectionControl::Close`] when its
    /// shutdown timeout expires.
    Shutdown,
    /// An application value from [`ConnectionRegistry::notify_all`] (a chat message, a config
    /// reload). What the actor does with it is up to the actor type.
    Notify(Notification),
    /// Report what the connection holds now to [`ConnectionRegistry::stats`] (answer with
    /// [`StatsRequest::reply`]; an actor that does not answer is simply missing from the list).
    Stats(StatsRequest),
}

/// What one connection holds right now, as its actor reports it to
/// [`ConnectionRegistry::stats`]: the server's own view of how much a client costs it, which
/// is how the hostile-client tests bound buffering per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionStats {
    /// The connection's id.
    pub id: ConnectionId,
    /// What the connection speaks: `"tcp"` (a `handle_stream` function, whose stream the
    /// connection cannot see: no byte counts), `"tls-handshake"`, `"http"` or `"websocket"`.
    pub protocol: &'static str,
    /// Bytes read from the socket and not consumed yet (`None` where unknown).
    pub read_buffered: Option<usize>,
    /// Bytes queued for the peer and not written yet (`None` where unknown).
    pub write_queued: Option<usize>,
    /// Work in flight: requests read and not yet answered (HTTP), writes waiting for their
    /// bytes to leave (WebSocket).
    pub in_flight: usize,
}

impl ConnectionStats {
    /// Stats of a connection that knows nothing of its bytes.
    pub fn opaque(id: ConnectionId, protocol: &'static str) -> Self {
        ConnectionStats {
            id,
            protocol,
            read_buffered: None,
            write_queued: None,
            in_flight: 0,
        }
    }
}

/// Where a connection sends its [`ConnectionStats`] (the registry's collection of one
/// [`ConnectionRegistry::stats`] call). Cloned into every connection's message; the call ends
/// when every clone is gone.
#[derive(Debug, Clone)]
pub struct StatsRequest(mpsc::UnboundedSender<ConnectionStats>);

impl StatsRequest {
    /// Hands this connection's stats to the caller of [`ConnectionRegistry::stats`].
    pub fn reply(&self, stats: ConnectionStats) {
        let _ = self.0.send(stats);
    }
}

/// What happened to one [`ConnectionRegistry::notify_all`] broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delivery {
    /// Connections whose mailbox took the message.
    pub delivered: usize,
    /// Connections skipped because their mailbox was full (actix's bounded mailbox, 16 messages
    /// by default) or already closed. Dropping rather than waiting keeps one slow connection from
    /// stalling a broadcast to thousands.
    pub dropped: usize,
}

/// One live connection, as listed by [`ConnectionRegistry::summaries`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionSummary {
    /// The connection's id.
    pub id: ConnectionId,
    /// The remote address it was accepted from.
    pub peer: SocketAddr,
    /// When it was accepted (for idle and age reports).
    pub opened: Instant,
}

/// What the registry keeps for one connection.
#[derive(Debug)]
struct Entry {
    /// Reported by [`ConnectionRegistry::summaries`].
    peer: SocketAddr,
    /// Reported by [`ConnectionRegistry::summaries`].
    opened: Instant,
    /// The actor's mailbox; `None` between accept and the actor registering itself, when the
    /// connection already counts but cannot be messaged yet.
    control: Option<Recipient<ConnectionControl>>,
}

/// The shared state behind every clone of a registry.
#[derive(Debug, Default)]
struct Inner {
    /// Live connections; a sharded map so workers registering at once do not contend on one lock.
    connections: DashMap<ConnectionId, Entry>,
    /// Source of [`ConnectionId`]s.
    next_id: AtomicU64,
    /// Woken each time the map becomes empty; [`ConnectionRegistry::wait_empty`] waits on it.
    emptied: Notify,
    /// Notifications a connection could not queue for its user code (inbox full): counted
    /// so that loss is visible rather than silent.
    dropped_notifications: AtomicU64,
}

/// Every live connection of one server, shared by its workers. Cloning is cheap (an `Arc`).
///
/// ```
/// use cyclone_actors::registry::ConnectionRegistry;
///
/// let registry = ConnectionRegistry::new();
/// assert!(registry.is_empty());
/// assert_eq!(registry.close_all(), 0);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConnectionRegistry {
    /// Shared by the server, its workers and every slot.
    inner: Arc<Inner>,
}

impl ConnectionRegistry {
    /// An empty registry. Each [`TcpServer`](crate::tcpserver::TcpServer) makes its own.
    pub fn new() -> Self {
        Self::default()
    }

    /// Live connections, including ones accepted whose actor has not registered yet.
    pub fn len(&self) -> usize {
        self.inner.connections.len()
    }

    /// Whether no connection is live.
    pub fn is_empty(&self) -> bool {
        self.inner.connections.is_empty()
    }

    /// The ids of live connections, in no particular order (a snapshot).
    pub fn ids(&self) -> Vec<ConnectionId> {
        self.inner
            .connections
            .iter()
            .map(|entry| *entry.key())
            .collect()
    }

    /// Id, peer and opening time of every live connection (a snapshot).
    pub fn summaries(&self) -> Vec<ConnectionSummary> {
        self.inner
            .connections
            .iter()
            .map(|entry| ConnectionSummary {
                id: *entry.key(),
                peer: entry.peer,
                opened: entry.opened,
            })
            .collect()
    }

    /// Sends `control` to one connection's mailbox, waiting for no room (the message is queued
    /// even when the mailbox is full). Returns whether the connection was live and registered.
    pub fn send(&self, id: ConnectionId, control: ConnectionControl) -> bool {
        let recipient = self
            .inner
            .connections
            .get(&id)
            .and_then(|entry| entry.control.clone());
        match recipient {
            Some(recipient) => {
                recipient.do_send(control);
                true
            }
            None => false,
        }
    }

    /// Offers `notification` to every registered connection. A connection whose mailbox is
    /// full is skipped and counted in [`Delivery::dropped`]: a broadcast never waits on a slow
    /// connection.
    pub fn notify_all(&self, notification: Notification) -> Delivery {
        let mut delivery = Delivery::default();
        for recipient in self.recipients() {
            match recipient.try_send(ConnectionControl::Notify(notification.clone())) {
                Ok(()) => delivery.delivered += 1,
                Err(_) => delivery.dropped += 1,
            }
        }
        delivery
    }

    /// Asks every registered connection what it holds now (buffered bytes, queued bytes, work
    /// in flight) and collects the answers: one [`ConnectionStats`] per connection that
    /// answered, in no particular order. Each connection answers from its own loop, between
    /// two turns of its work; a connection that closes meanwhile is missing from the list.
    /// Meant for tests, monitoring pages and debugging, not for every request: it messages
    /// every connection.
    pub async fn stats(&self) -> Vec<ConnectionStats> {
        let (reply, mut answers) = mpsc::unbounded_channel();
        let request = StatsRequest(reply);
        for recipient in self.recipients() {
            recipient.do_send(ConnectionControl::Stats(request.clone()));
        }
        drop(request);
        let mut stats = Vec::new();
        // Ends when every connection's clone of the request is gone: answered, or dropped
        // with a connection that stopped.
        while let Some(one) = answers.recv().await {
            stats.push(one);
        }
        stats
    }

    /// Tells every registered connection to close now and returns how many were told. Returns
    /// before they have closed; follow with [`wait_empty`](Self::wait_empty).
    pub fn close_all(&self) -> usize {
        self.broadcast(ConnectionControl::Close)
    }

    /// Sends `control` to every registered connection, queued even into a full mailbox (used
    /// for [`ConnectionControl::Close`] and [`ConnectionControl::Shutdown`], which must arrive).
    /// Returns how many connections were sent to.
    pub fn broadcast(&self, control: ConnectionControl) -> usize {
        let recipients = self.recipients();
        for recipient in &recipients {
            recipient.do_send(control.clone());
        }
        recipients.len()
    }

    /// Waits until no connection is live, at most `timeout`. Returns whether the registry is
    /// empty.
    pub async fn wait_empty(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let emptied = self.inner.emptied.notified();
            tokio::pin!(emptied);
            // Registered before looking, so an emptying between the look and the wait is seen.
            emptied.as_mut().enable();
            if self.is_empty() {
                return true;
            }
            if tokio::time::timeout_at(deadline, emptied).await.is_err() {
                return self.is_empty();
            }
        }
    }

    /// Notifications connections dropped because their user code's inbox was full (see
    /// [`ConnectionInfo`](crate::connection::ConnectionInfo)).
    pub fn dropped_notifications(&self) -> u64 {
        self.inner.dropped_notifications.load(Ordering::Relaxed)
    }

    /// Counts one notification a connection could not queue.
    pub(crate) fn count_dropped_notification(&self) {
        self.inner
            .dropped_notifications
            .fetch_add(1, Ordering::Relaxed);
    }

    /// Lists a newly accepted connection; the returned slot removes it when dropped.
    pub(crate) fn open_slot(
        &self,
        peer: SocketAddr,
        permit: Option<OwnedSemaphorePermit>,
    ) -> ConnectionSlot {
        let id = ConnectionId(self.inner.next_id.fetch_add(1, Ordering::Relaxed));
        self.inner.connections.insert(
            id,
            Entry {
                peer,
                opened: Instant::now(),
                control: None,
            },
        );
        ConnectionSlot {
            registry: self.clone(),
            id,
            peer,
            _permit: permit,
        }
    }

    /// Mailboxes of every registered connection, copied out so no map lock is held while
    /// sending.
    fn recipients(&self) -> Vec<Recipient<ConnectionControl>> {
        self.inner
            .connections
            .iter()
            .filter_map(|entry| entry.control.clone())
            .collect()
    }
}

/// One accepted connection's place in its server: its registry entry and its
/// `max_connections` permit. Both are released when the slot drops.
///
/// A connection actor keeps its slot as a field, so the slot drops when the actor does; the
/// actor calls [`register`](Self::register) with its own mailbox when it starts (see
/// [`ServeConnection`](crate::tcpserver::ServeConnection)).
#[derive(Debug)]
pub struct ConnectionSlot {
    /// Where the entry lives; removed from here on drop.
    registry: ConnectionRegistry,
    /// The entry's key.
    id: ConnectionId,
    /// The remote address, for the actor's logs.
    peer: SocketAddr,
    /// Held, never read: dropping it lets the server accept one more connection.
    _permit: Option<OwnedSemaphorePermit>,
}

impl ConnectionSlot {
    /// The connection's id in its registry.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// The remote address the connection was accepted from.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The registry this connection is listed in (to reach the other connections).
    pub fn registry(&self) -> &ConnectionRegistry {
        &self.registry
    }

    /// A slot of its own for a stream of this connection that runs as its own actor (a
    /// WebSocket over an HTTP/2 stream, RFC 8441): listed in the same registry with the same
    /// peer, so `close_all`, a graceful shutdown and `notify_all` reach that actor as they reach
    /// a connection, and the server's shutdown waits for it. It holds no `max_connections`
    /// permit: the connection it rides on holds that, and lives at least as long (the stream
    /// ends when the connection does).
    pub fn stream_slot(&self) -> ConnectionSlot {
        self.registry.open_slot(self.peer, None)
    }

    /// Makes the connection reachable by [`ConnectionControl`] messages through `control`,
    /// normally `ctx.address().recipient()` from the actor's `started`. Registering again
    /// replaces the previous mailbox.
    pub fn register(&self, control: Recipient<ConnectionControl>) {
        if let Some(mut entry) = self.registry.inner.connections.get_mut(&self.id) {
            entry.control = Some(control);
        }
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let inner = &self.registry.inner;
        inner.connections.remove(&self.id);
        if inner.connections.is_empty() {
            inner.emptied.notify_waiters();
        }
    }
}
