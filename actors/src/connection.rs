//! The per-connection actor behind [`TcpServer::new`](crate::tcpserver::TcpServer::new), and
//! the [`HandleStream`] handler it runs (Tornado's `handle_stream(stream, address)`).
//!
//! Each accepted connection gets one [`StreamConnection`] actor on the worker that accepted it.
//! The actor runs the handler's future inside its own context, so the future (and the
//! [`IoStream`] it owns) lives exactly as long as the actor:
//!
//! - the future ends → the actor stops → the socket closes and the connection leaves the
//!   registry;
//! - the server sends [`ConnectionControl::Close`] → the actor stops and drops the future, which
//!   closes the socket mid-exchange;
//! - the future panics → the panic is logged with the connection's id and peer and the actor
//!   stops; other connections on the worker are not affected.
//!
//! # Messages reaching user code
//!
//! [`ConnectionRegistry::notify_all`] values arrive in the actor's mailbox and are passed to the
//! handler through a bounded inbox read with [`ConnectionInfo::next_notification`]. The inbox
//! holds [`DEFAULT_INBOX_CAPACITY`] values (32) unless set with
//! [`StreamFactory::inbox_capacity`]; when it is full, newer values are dropped and counted in
//! [`ConnectionRegistry::dropped_notifications`] rather than queued without limit. A graceful
//! shutdown shows up as [`ConnectionInfo::is_shutting_down`] /
//! [`ConnectionInfo::shutting_down`].
//!
//! ```no_run
//! use cyclone_actors::connection::ConnectionInfo;
//! use cyclone_actors::iostream::IoStream;
//! use cyclone_actors::tcpserver::TcpServer;
//! use tokio::net::TcpStream;
//!
//! // Writes every broadcast String to the client until the server shuts down.
//! let server = TcpServer::new(|mut stream: IoStream<TcpStream>, mut info: ConnectionInfo| async move {
//!     loop {
//!         tokio::select! {
//!             () = info.shutting_down() => break,
//!             Some(note) = info.next_notification() => {
//!                 if let Some(text) = note.downcast_ref::<String>()
//!                     && stream.write(text.clone()).await.is_err()
//!                 {
//!                     break;
//!                 }
//!             }
//!         }
//!     }
//! });
//! # drop(server);
//! ```
//!
//! # Supervision
//!
//! Connection actors are not restarted: a connection that failed is gone, and its client
//! reconnects. The services connections talk to are the actors worth supervising: start them
//! with actix's `Supervisor::start` and implement `Supervised`, and a service that stops itself
//! (or is stopped) is restarted in place, behind the same `Addr`, so connections accepted later
//! are served as before.
//!
//! ```
//! use actix::prelude::*;
//!
//! /// Counts requests; a bad request makes it stop itself, and its supervisor restarts it.
//! #[derive(Default)]
//! struct Counter {
//!     count: u64,
//! }
//!
//! impl Actor for Counter {
//!     type Context = Context<Self>;
//! }
//!
//! impl Supervised for Counter {
//!     fn restarting(&mut self, _: &mut Context<Self>) {
//!         self.count = 0; // start clean after a crash
//!     }
//! }
//!
//! #[derive(Message)]
//! #[rtype(result = "Option<u64>")]
//! struct Hit {
//!     bad: bool,
//! }
//!
//! impl Handler<Hit> for Counter {
//!     type Result = Option<u64>;
//!     fn handle(&mut self, hit: Hit, ctx: &mut Context<Self>) -> Option<u64> {
//!         if hit.bad {
//!             ctx.stop(); // "crash": the supervisor restarts us
//!             return None;
//!         }
//!         self.count += 1;
//!         Some(self.count)
//!     }
//! }
//!
//! actix_rt::System::new().block_on(async {
//!     let counter = Supervisor::start(|_| Counter::default());
//!     assert_eq!(counter.send(Hit { bad: false }).await.unwrap(), Some(1));
//!     assert_eq!(counter.send(Hit { bad: true }).await.unwrap(), None);
//!     // Same address, restarted actor.
//!     assert_eq!(counter.send(Hit { bad: false }).await.unwrap(), Some(1));
//! });
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;

use actix::prelude::*;
use futures::FutureExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};

use crate::iostream::IoStream;
use crate::panics::panic_message;
use crate::registry::{
    ConnectionControl, ConnectionId, ConnectionRegistry, ConnectionSlot, ConnectionStats,
    Notification,
};
use crate::tcpserver::ServeConnection;

/// How many notifications a connection queues for its handler before dropping newer ones.
/// Default is 32.
pub const DEFAULT_INBOX_CAPACITY: usize = 32;

/// Tornado's `handle_stream`: what a [`TcpServer`](crate::tcpserver::TcpServer) does with each
/// connection. Closures `Fn(IoStream<S>, ConnectionInfo) -> impl Future<Output = ()>`
/// implement it.
///
/// `S` is the transport the handler reads and writes: a plain [`TcpStream`] by default, or a
/// [`TlsStream`](crate::tls::TlsStream) behind a TLS server
/// ([`TcpServer::new_tls`](crate::tcpserver::TcpServer::new_tls)).
///
/// The handler is shared by every worker thread (hence `Send + Sync`); each future runs on the
/// one loop that accepted its connection (hence no `Send` needed on the future).
pub trait HandleStream<S = TcpStream>: Send + Sync + 'static {
    /// The work done for one connection; the connection closes when it ends.
    type Future: Future<Output = ()> + 'static;

    /// Starts serving one connection.
    fn handle_stream(&self, stream: IoStream<S>, info: ConnectionInfo) -> Self::Future;
}

impl<F, Fut, S> HandleStream<S> for F
where
    F: Fn(IoStream<S>, ConnectionInfo) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    type Future = Fut;

    fn handle_stream(&self, stream: IoStream<S>, info: ConnectionInfo) -> Fut {
        self(stream, info)
    }
}

/// What a [`HandleStream`] future knows about its connection besides the stream: who is on the
/// other end, the server's registry, and the inbox of notifications.
#[derive(Debug)]
pub struct ConnectionInfo {
    /// For logs and for [`ConnectionRegistry::send`].
    id: ConnectionId,
    /// Tornado's `address` argument.
    peer: SocketAddr,
    /// Lets a connection reach the others (a chat broadcasts through it).
    registry: ConnectionRegistry,
    /// Notifications passed on by the connection's actor.
    inbox: mpsc::Receiver<Notification>,
    /// Becomes `true` when the server starts a graceful shutdown.
    shutdown: watch::Receiver<bool>,
}

impl ConnectionInfo {
    /// The connection's id in the server's registry.
    pub fn id(&self) -> ConnectionId {
        self.id
    }

    /// The remote address (Tornado's `address`).
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The server's registry of live connections.
    pub fn registry(&self) -> &ConnectionRegistry {
        &self.registry
    }

    /// The next notification from [`ConnectionRegistry::notify_all`], waiting for one. Returns
    /// `None` only once the connection's actor is gone. Cancel safe.
    pub async fn next_notification(&mut self) -> Option<Notification> {
        self.inbox.recv().await
    }

    /// A notification already queued, without waiting.
    pub fn try_next_notification(&mut self) -> Option<Notification> {
        self.inbox.try_recv().ok()
    }

    /// Whether the server has started a graceful shutdown (finish up and return).
    pub fn is_shutting_down(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Resolves when the server starts a graceful shutdown (at once if it has). The future
    /// does not borrow `self`, so it can be raced against reads and
    /// [`next_notification`](Self::next_notification) in one `select!`. Cancel safe.
    pub fn shutting_down(&self) -> impl Future<Output = ()> + 'static {
        let mut shutdown = self.shutdown.clone();
        async move {
            if shutdown.wait_for(|stopping| *stopping).await.is_err() {
                // The actor is gone, so this future is about to be dropped: never resolve.
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The actor that owns one connection accepted by a [`TcpServer::new`](crate::tcpserver::TcpServer::new) server and runs its
/// handler future. See the [module documentation](self).
#[derive(Debug)]
pub struct StreamConnection {
    /// Registry entry and `max_connections` permit, released when this actor drops.
    slot: ConnectionSlot,
    /// Passes notifications on to the handler; bounded so a handler that never reads them
    /// costs a fixed amount of memory.
    inbox: mpsc::Sender<Notification>,
    /// Tells the handler a graceful shutdown started.
    shutdown: watch::Sender<bool>,
}

impl StreamConnection {
    /// Starts the actor for `stream` on the current Arbiter, running `handler` for it.
    fn start<S, H>(
        handler: &H,
        stream: S,
        slot: ConnectionSlot,
        inbox_capacity: usize,
    ) -> Addr<Self>
    where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
        H: HandleStream<S>,
    {
        let (inbox, inbox_receiver) = mpsc::channel(inbox_capacity);
        let (shutdown, shutdown_receiver) = watch::channel(false);
        let info = ConnectionInfo {
            id: slot.id(),
            peer: slot.peer(),
            registry: slot.registry().clone(),
            inbox: inbox_receiver,
            shutdown: shutdown_receiver,
        };
        let work = handler.handle_stream(IoStream::new(stream), info);
        StreamConnection::create(move |ctx| {
            slot.register(ctx.address().recipient());
            let work = actix::fut::wrap_future::<_, StreamConnection>(
                AssertUnwindSafe(work).catch_unwind(),
            );
            ctx.spawn(work.map(|outcome, connection, ctx| {
                if let Err(panic) = outcome {
                    tracing::error!(
                        id = %connection.slot.id(),
                        peer = %connection.slot.peer(),
                        panic = panic_message(&*panic),
                        "handle_stream panicked; connection closed"
                    );
                }
                ctx.stop();
            }));
            StreamConnection {
                slot,
                inbox,
                shutdown,
            }
        })
    }
}

impl Actor for StreamConnection {
    type Context = Context<Self>;
}

impl Handler<ConnectionControl> for StreamConnection {
    type Result = ();

    fn handle(&mut self, control: ConnectionControl, ctx: &mut Context<Self>) {
        match control {
            ConnectionControl::Close => ctx.stop(),
            ConnectionControl::Shutdown => {
                self.shutdown.send_replace(true);
            }
            ConnectionControl::Notify(notification) => {
                if self.inbox.try_send(notification).is_err() {
                    self.slot.registry().count_dropped_notification();
                }
            }
            // The stream is the handler's: its buffers cannot be seen from here.
            ConnectionControl::Stats(request) => {
                request.reply(ConnectionStats::opaque(self.slot.id(), "tcp"));
            }
        }
    }
}

/// Serves each connection with a [`StreamConnection`] actor running a [`HandleStream`]: the
/// [`ServeConnection`] behind [`TcpServer::new`](crate::tcpserver::TcpServer::new).
#[derive(Debug)]
pub struct StreamFactory<H> {
    /// Called once per connection, on the accepting worker.
    handler: H,
    /// See [`inbox_capacity`](Self::inbox_capacity).
    inbox_capacity: usize,
}

impl<H> StreamFactory<H> {
    /// Serves connections with `handler` and the default inbox of 32 notifications.
    pub fn new(handler: H) -> Self {
        StreamFactory {
            handler,
            inbox_capacity: DEFAULT_INBOX_CAPACITY,
        }
    }

    /// How many notifications each connection queues for its handler before dropping newer
    /// ones (counted in [`ConnectionRegistry::dropped_notifications`]). Values below 1 mean 1.
    /// Default is 32 ([`DEFAULT_INBOX_CAPACITY`]).
    pub fn inbox_capacity(mut self, capacity: usize) -> Self {
        self.inbox_capacity = capacity.max(1);
        self
    }
}

impl<S, H> ServeConnection<S> for StreamFactory<H>
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
    H: HandleStream<S>,
{
    fn serve(&self, stream: S, _peer: SocketAddr, slot: ConnectionSlot) {
        StreamConnection::start(&self.handler, stream, slot, self.inbox_capacity);
    }
}
