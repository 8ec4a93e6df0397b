//! `TcpServer`: Tornado's `tornado.tcpserver.TCPServer`, with workers on actix Arbiters.
//!
//! Every accepted connection becomes an actor that owns its socket, started on the worker that
//! accepted it. With [`TcpServer::new`] that actor runs your `handle_stream` future, Tornado's
//! `handle_stream(stream, address)`:
//!
//! ```no_run
//! use cyclone_actors::connection::ConnectionInfo;
//! use cyclone_actors::iostream::IoStream;
//! use cyclone_actors::tcpserver::TcpServer;
//! use tokio::net::TcpStream;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! actix_rt::System::new().block_on(async {
//!     let mut server = TcpServer::new(|stream: IoStream<TcpStream>, info: ConnectionInfo| async move {
//!         println!("{} connected", info.peer());
//!         drop(stream); // the connection closes when the future ends
//!     });
//!     server.bind(8888, Some("127.0.0.1"))?;
//!     server.start(2)?; // two worker threads
//!     server.serve_until_signal(std::time::Duration::from_secs(5)).await?;
//!     Ok(())
//! })
//! # }
//! ```
//!
//! # Serving on this loop or on workers
//!
//! - [`listen`](TcpServer::listen) / [`add_sockets`](TcpServer::add_sockets) serve on the
//!   loop (Arbiter) they are called from, like Tornado's single-process mode.
//! - [`bind`](TcpServer::bind) then [`start(n)`](TcpServer::start) serve on `n` new Arbiter
//!   threads, like Tornado's `bind` + `start(n)` but with threads instead of forked processes.
//!
//! # How connections reach workers
//!
//! Each worker gets its own listening socket on the same port, bound with `SO_REUSEPORT`, and
//! the kernel spreads incoming connections over the sockets by a hash of the client's address.
//! We chose this over one acceptor thread handing sockets round-robin to workers because the
//! hand-off costs a cross-thread message per connection and makes one thread the accept
//! bottleneck, while `SO_REUSEPORT` needs no coordination at all, and the same mechanism serves
//! several processes later. Its price: a busy worker's queue is not drained by idle ones, and
//! sockets handed in by [`add_sockets`](TcpServer::add_sockets) without `SO_REUSEPORT` are
//! instead shared (each worker accepts from a duplicate of the descriptor, and whichever worker
//! wakes first takes the connection). Set [`reuse_port(false)`](TcpServer::reuse_port) to get
//! the shared-queue behaviour for bound sockets too. Measured against the shared socket, the
//! throughput and spread are the same on two cores; `docs/accept-strategy.md` has the numbers
//! and the trade-offs.
//!
//! # Limits and defaults
//!
//! | Setting | Default | Meaning |
//! |---|---|---|
//! | [`max_connections`](TcpServer::max_connections) | 10 000 | live connections over all workers; at the limit the server stops accepting and new clients wait in the kernel's backlog until a connection closes (each accept loop may hold one accepted client unserved) |
//! | [`backlog`](TcpServer::backlog) | 1024 ([`DEFAULT_BACKLOG`]) | kernel queue of connections not yet accepted, per socket |
//! | [`accept_error_backoff`](TcpServer::accept_error_backoff) | 100 ms | pause after an accept error such as `EMFILE` |
//! | [`reuse_port`](TcpServer::reuse_port) | on | one socket per worker (see above) |
//! | [`FORCE_CLOSE_GRACE`] | 1 s | how long [`shutdown`](TcpServer::shutdown) waits for force-closed connections to go |
//!
//! Each connection needs a file descriptor; keep `max_connections` under the process's
//! `ulimit -n`. If the limit is hit anyway, accept fails with `EMFILE`: the error is logged and
//! the worker pauses for `accept_error_backoff` before trying again, without spinning.
//!
//! # Panics
//!
//! A panic in a connection's future is caught, logged with the connection's id and peer, and
//! stops that connection only; the worker goes on serving the others.
//!
//! # Reusing the accept loop: [`ServeConnection`]
//!
//! The HTTP server and other protocols keep the accept loop, the limits, the registry and the
//! shutdown of this module and bring their own connection actor, by implementing
//! [`ServeConnection`] and calling [`TcpServer::with_factory`].

mod accept;
mod unix;

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_rt::Arbiter;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, watch};

use crate::connection::{ConnectionInfo, HandleStream, StreamFactory};
use crate::iostream::IoStream;
use crate::netutil::{DEFAULT_BACKLOG, Family, bind_socket, bind_sockets};
use crate::registry::{ConnectionControl, ConnectionRegistry, ConnectionSlot};
use accept::{Shared, accept_loop};

/// Live connections one server allows unless told otherwise (see
/// [`TcpServer::max_connections`]). Default is 10 000.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Pause after an accept error that is not about one connection (`EMFILE`, `ENFILE`,
/// `ENOBUFS`). Default is 100 ms.
pub const DEFAULT_ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(100);

/// After a shutdown's timeout, how long [`TcpServer::shutdown`] waits for the connections it
/// told to close to be gone. A connection actor stops as soon as its loop runs it, so this only
/// matters when a worker loop is blocked. 1 second.
pub const FORCE_CLOSE_GRACE: Duration = Duration::from_secs(1);

/// Starts the actor that will own an accepted connection: the hook under [`TcpServer`].
///
/// [`TcpServer`] calls [`serve`](Self::serve) on the worker thread that accepted the
/// connection, inside that worker's Arbiter, so the implementation can start an actor there
/// (`Actor::create`, `Context::new().run(..)`). The contract:
///
/// - the actor owns `stream`; nothing else keeps it;
/// - the actor keeps `slot` in a field, so the slot drops (deregistering the connection and
///   freeing its `max_connections` permit) when the actor stops;
/// - the actor calls [`ConnectionSlot::register`] with its own `Recipient<ConnectionControl>`
///   when it starts, and handles [`ConnectionControl`]: `Close` stops it, `Shutdown` asks it to
///   finish the exchange in flight and stop, `Notify` is application data;
/// - like any actor holding a stream, it stops itself (`ctx.stop()`) when the peer is gone.
///
/// `serve` must not block: it runs on the worker's loop between accepts.
///
/// ```
/// use std::net::SocketAddr;
/// use actix::prelude::*;
/// use cyclone_actors::registry::{ConnectionControl, ConnectionSlot};
/// use cyclone_actors::tcpserver::{ServeConnection, TcpServer};
/// use tokio::net::TcpStream;
///
/// /// Says hello and hangs up.
/// struct Hello {
///     stream: Option<TcpStream>,
///     slot: ConnectionSlot,
/// }
///
/// impl Actor for Hello {
///     type Context = Context<Self>;
///     fn started(&mut self, ctx: &mut Context<Self>) {
///         self.slot.register(ctx.address().recipient());
///         let stream = self.stream.take();
///         ctx.spawn(
///             async move {
///                 if let Some(stream) = stream {
///                     let _ = stream.writable().await;
///                     let _ = stream.try_write(b"hello\n");
///                 }
///             }
///             .into_actor(self)
///             .map(|(), _, ctx| ctx.stop()),
///         );
///     }
/// }
///
/// impl Handler<ConnectionControl> for Hello {
///     type Result = ();
///     fn handle(&mut self, control: ConnectionControl, ctx: &mut Context<Self>) {
///         if !matches!(control, ConnectionControl::Notify(_)) {
///             ctx.stop();
///         }
///     }
/// }
///
/// struct HelloFactory;
///
/// impl ServeConnection for HelloFactory {
///     fn serve(&self, stream: TcpStream, _peer: SocketAddr, slot: ConnectionSlot) {
///         Hello { stream: Some(stream), slot }.start();
///     }
/// }
///
/// let server = TcpServer::with_factory(HelloFactory).max_connections(100);
/// # drop(server);
/// ```
///
/// # Other transports
///
/// `S` is what the hook is handed: the accepted [`TcpStream`] by default, which is what
/// [`TcpServer`] needs. A hook generic over `S: AsyncRead + AsyncWrite + Unpin + 'static` can
/// also be put behind [`TlsFactory`](crate::tls::TlsFactory), which does the TLS handshake and
/// then calls it with a [`TlsStream`](crate::tls::TlsStream).
pub trait ServeConnection<S = TcpStream>: Send + Sync + 'static {
    /// Starts the actor owning `stream`, accepted from `peer`, on the current Arbiter.
    fn serve(&self, stream: S, peer: SocketAddr, slot: ConnectionSlot);
}

/// Why a [`TcpServer`] could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum TcpServerError {
    /// Binding or preparing a listening socket failed.
    #[error("cannot bind: {0}")]
    Bind(#[source] io::Error),
    /// A worker Arbiter thread could not be started.
    #[error("cannot start a worker: {0}")]
    Worker(#[source] io::Error),
    /// The call needs a running actix System or Arbiter on this thread (inside `cyclone::run`,
    /// `System::block_on` or an actix test).
    #[error("no actix loop runs on this thread")]
    NoLoop,
    /// [`TcpServer::start`] was called with nothing bound.
    #[error("nothing to serve: bind a port first")]
    NothingBound,
    /// [`TcpServer::start`] was called twice.
    #[error("the server's workers are already started")]
    AlreadyStarted,
    /// The SIGINT/SIGTERM handlers could not be installed.
    #[error("cannot watch for signals: {0}")]
    Signal(#[source] io::Error),
    /// The server has been stopped; it does not serve again.
    #[error("the server is stopped")]
    Stopped,
}

/// How a [`TcpServer::shutdown`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShutdownReport {
    /// Connections that finished on their own within the timeout.
    pub finished: usize,
    /// Connections still open at the timeout, closed by the server.
    pub forced: usize,
    /// Connections still listed after [`FORCE_CLOSE_GRACE`] (a blocked worker loop); their
    /// worker is stopped, which drops them.
    pub remaining: usize,
}

/// A TCP server: accepts connections and gives each one to an actor (Tornado's `TCPServer`).
///
/// See the [module documentation](self) for the serving modes, the accept strategy and the
/// limits. Dropping the server stops accepting and stops its worker Arbiters (which closes their
/// connections); call [`shutdown`](Self::shutdown) first to let connections finish.
#[derive(Debug)]
pub struct TcpServer<F> {
    /// Starts the actor for each accepted connection; shared by every worker.
    factory: Arc<F>,
    /// See [`max_connections`](Self::max_connections).
    max_connections: usize,
    /// See [`backlog`](Self::backlog).
    backlog: i32,
    /// See [`reuse_port`](Self::reuse_port).
    reuse_port: bool,
    /// See [`accept_error_backoff`](Self::accept_error_backoff).
    accept_error_backoff: Duration,
    /// Every live connection of this server, over all workers.
    registry: ConnectionRegistry,
    /// State shared by every accept loop; made when the first one starts, so the settings
    /// above can be changed until then.
    shared: Option<Arc<Shared<F>>>,
    /// Sockets bound by [`bind`](Self::bind) and waiting for [`start`](Self::start).
    bound: Vec<std::net::TcpListener>,
    /// Where the server listens, for [`local_addrs`](Self::local_addrs).
    local_addrs: Vec<SocketAddr>,
    /// Set to `true` to make every accept loop return (and close its socket).
    stop: watch::Sender<bool>,
    /// Cloned into each accept loop; dropped at stop so the receiver below sees them all end.
    acceptors_alive: Option<mpsc::Sender<()>>,
    /// Yields `None` once every accept loop has returned, that is every socket is closed.
    acceptors_done: mpsc::Receiver<()>,
    /// The worker threads started by [`start`](Self::start); stopped when the server is.
    workers: Vec<Arbiter>,
}

impl<H, Fut> TcpServer<StreamFactory<H>>
where
    H: Fn(IoStream<TcpStream>, ConnectionInfo) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    /// A server that runs `handler(stream, info)` for each connection (Tornado's
    /// `handle_stream`), inside an actor that owns the stream; the connection closes when the
    /// future ends. The future runs on one worker's loop, so it need not be `Send`.
    pub fn new(handler: H) -> Self {
        Self::with_handler(handler)
    }
}

impl<H: HandleStream> TcpServer<StreamFactory<H>> {
    /// Like [`new`](TcpServer::new), for a handler type implementing [`HandleStream`].
    pub fn with_handler(handler: H) -> Self {
        TcpServer::with_factory(StreamFactory::new(handler))
    }
}

impl<F: ServeConnection> TcpServer<F> {
    /// A server whose connections are started by `factory` (see [`ServeConnection`]).
    pub fn with_factory(factory: F) -> Self {
        let (stop, _) = watch::channel(false);
        let (acceptors_alive, acceptors_done) = mpsc::channel(1);
        TcpServer {
            factory: Arc::new(factory),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            backlog: DEFAULT_BACKLOG,
            reuse_port: true,
            accept_error_backoff: DEFAULT_ACCEPT_ERROR_BACKOFF,
            registry: ConnectionRegistry::new(),
            shared: None,
            bound: Vec::new(),
            local_addrs: Vec::new(),
            stop,
            acceptors_alive: Some(acceptors_alive),
            acceptors_done,
            workers: Vec::new(),
        }
    }

    /// Most live connections over all workers. At the limit the server stops accepting: each
    /// accept loop holds at most one accepted connection unserved, and later clients wait in
    /// the kernel's backlog (their connect succeeds, nothing is read) until a connection closes;
    /// once the backlog is full too the kernel refuses them. Values below 1 mean 1. Takes
    /// effect if set before serving starts. Default is 10 000 ([`DEFAULT_MAX_CONNECTIONS`]).
    pub fn max_connections(mut self, max_connections: usize) -> Self {
        self.max_connections = max_connections.clamp(1, Semaphore::MAX_PERMITS);
        self
    }

    /// The listen backlog of sockets this server binds (not of sockets handed in). Default is
    /// 1024 ([`DEFAULT_BACKLOG`]); the kernel caps it at `net.core.somaxconn`.
    pub fn backlog(mut self, backlog: i32) -> Self {
        self.backlog = backlog.max(1);
        self
    }

    /// Whether sockets this server binds get `SO_REUSEPORT`, giving each worker its own socket
    /// and queue; when off, workers share one socket (see the module docs). Default is on.
    pub fn reuse_port(mut self, reuse_port: bool) -> Self {
        self.reuse_port = reuse_port;
        self
    }

    /// How long a worker pauses accepting after an error such as `EMFILE` (out of file
    /// descriptors). Takes effect if set before serving starts. Default is 100 ms
    /// ([`DEFAULT_ACCEPT_ERROR_BACKOFF`]).
    pub fn accept_error_backoff(mut self, backoff: Duration) -> Self {
        self.accept_error_backoff = backoff;
        self
    }

    /// Binds `port` on `address` (`None`: every interface, IPv4 and IPv6) and serves it on the
    /// current loop at once (Tornado's `listen`). Port 0 picks a free port; see
    /// [`local_addrs`](Self::local_addrs).
    pub fn listen(&mut self, port: u16, address: Option<&str>) -> Result<(), TcpServerError> {
        self.ensure_loop()?;
        let listeners = bind_sockets(port, address, Family::Unspec, self.backlog, false)
            .map_err(TcpServerError::Bind)?;
        self.add_sockets(listeners)
    }

    /// Serves already-bound listening sockets on the current loop (Tornado's `add_sockets`),
    /// for example from [`bind_sockets`].
    pub fn add_sockets(
        &mut self,
        listeners: Vec<std::net::TcpListener>,
    ) -> Result<(), TcpServerError> {
        self.ensure_loop()?;
        let shared = self.shared();
        for listener in listeners {
            listener
                .set_nonblocking(true)
                .map_err(TcpServerError::Bind)?;
            self.local_addrs
                .push(listener.local_addr().map_err(TcpServerError::Bind)?);
            let stop = self.stop.subscribe();
            let alive = self.alive_token()?;
            actix_rt::spawn(accept_loop(listener, shared.clone(), stop, alive));
        }
        Ok(())
    }

    /// Serves a listening Unix domain socket on the current loop (Tornado's `add_socket` of a
    /// [`bind_unix_socket`](crate::netutil::bind_unix_socket)), under the same
    /// `max_connections`, registry and shutdown as the TCP sockets; its connections report the
    /// peer `0.0.0.0:0`.
    pub fn add_unix_socket(
        &mut self,
        listener: std::os::unix::net::UnixListener,
    ) -> Result<(), TcpServerError>
    where
        F: ServeConnection<tokio::net::UnixStream>,
    {
        self.ensure_loop()?;
        listener
            .set_nonblocking(true)
            .map_err(TcpServerError::Bind)?;
        let shared = self.shared();
        let stop = self.stop.subscribe();
        let alive = self.alive_token()?;
        actix_rt::spawn(unix::unix_accept_loop(listener, shared, stop, alive));
        Ok(())
    }

    /// Binds `port` on `address` for [`start`](Self::start) (Tornado's `bind`), with
    /// `SO_REUSEPORT` unless [`reuse_port(false)`](Self::reuse_port). Nothing is accepted
    /// until `start`; clients connecting before then wait in the backlog.
    pub fn bind(&mut self, port: u16, address: Option<&str>) -> Result<(), TcpServerError> {
        let listeners = bind_sockets(port, address, Family::Unspec, self.backlog, self.reuse_port)
            .map_err(TcpServerError::Bind)?;
        for listener in listeners {
            self.local_addrs
                .push(listener.local_addr().map_err(TcpServerError::Bind)?);
            self.bound.push(listener);
        }
        Ok(())
    }

    /// Starts `workers` Arbiter threads serving the sockets from [`bind`](Self::bind) (0: one
    /// per CPU). Must run inside an actix System.
    pub fn start(&mut self, workers: usize) -> Result<(), TcpServerError> {
        if actix_rt::System::try_current().is_none() {
            return Err(TcpServerError::NoLoop);
        }
        if !self.workers.is_empty() {
            return Err(TcpServerError::AlreadyStarted);
        }
        if self.bound.is_empty() {
            return Err(TcpServerError::NothingBound);
        }
        let workers = match workers {
            0 => std::thread::available_parallelism().map_or(1, |cpus| cpus.get()),
            workers => workers,
        };
        // Every worker's sockets are made before any thread starts, so a failure leaves
        // nothing half-running.
        let mut per_worker: Vec<Vec<std::net::TcpListener>> = Vec::with_capacity(workers);
        for index in 0..workers {
            let mut listeners = Vec::with_capacity(self.bound.len());
            for original in &self.bound {
                listeners.push(
                    self.worker_socket(original, index)
                        .map_err(TcpServerError::Bind)?,
                );
            }
            per_worker.push(listeners);
        }
        self.bound.clear();
        let shared = self.shared();
        for listeners in per_worker {
            let arbiter = Arbiter::try_new().map_err(TcpServerError::Worker)?;
            let mut loops = Vec::with_capacity(listeners.len());
            for listener in listeners {
                loops.push((listener, self.stop.subscribe(), self.alive_token()?));
            }
            let shared = shared.clone();
            arbiter.spawn_fn(move || {
                for (listener, stop, alive) in loops {
                    actix_rt::spawn(accept_loop(listener, shared.clone(), stop, alive));
                }
            });
            self.workers.push(arbiter);
        }
        Ok(())
    }

    /// The addresses this server listens on (with the real port when bound to port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Every live connection of this server.
    pub fn registry(&self) -> &ConnectionRegistry {
        &self.registry
    }

    /// Stops accepting: resolves once every listening socket is closed, so new connects are
    /// refused from then on. Live connections go on (Tornado's `stop`).
    pub async fn stop(&mut self) {
        self.stop.send_replace(true);
        self.bound.clear();
        self.acceptors_alive = None;
        while self.acceptors_done.recv().await.is_some() {}
    }

    /// Graceful shutdown: stops accepting, asks every connection to finish
    /// ([`ConnectionControl::Shutdown`]), waits up to `timeout` for them to close, then closes
    /// the rest and stops the worker threads.
    pub async fn shutdown(&mut self, timeout: Duration) -> ShutdownReport {
        self.stop().await;
        let open = self.registry.len();
        self.registry.broadcast(ConnectionControl::Shutdown);
        self.registry.wait_empty(timeout).await;
        let at_timeout = self.registry.len();
        if at_timeout > 0 {
            tracing::info!(
                connections = at_timeout,
                "shutdown timeout: closing connections"
            );
            self.registry.close_all();
            self.registry.wait_empty(FORCE_CLOSE_GRACE).await;
        }
        let remaining = self.registry.len();
        self.stop_workers();
        ShutdownReport {
            finished: open.saturating_sub(at_timeout),
            forced: at_timeout.saturating_sub(remaining),
            remaining,
        }
    }

    /// Serves until the process gets SIGINT (Ctrl-C) or SIGTERM, then runs
    /// [`shutdown(timeout)`](Self::shutdown).
    pub async fn serve_until_signal(
        mut self,
        timeout: Duration,
    ) -> Result<ShutdownReport, TcpServerError> {
        wait_for_signal().await.map_err(TcpServerError::Signal)?;
        tracing::info!("signal received: shutting down");
        Ok(self.shutdown(timeout).await)
    }

    /// The shared accept state, made on first use.
    fn shared(&mut self) -> Arc<Shared<F>> {
        self.shared
            .get_or_insert_with(|| {
                Arc::new(Shared {
                    factory: self.factory.clone(),
                    registry: self.registry.clone(),
                    permits: Arc::new(Semaphore::new(self.max_connections)),
                    accept_error_backoff: self.accept_error_backoff,
                })
            })
            .clone()
    }

    /// A token each accept loop holds so [`stop`](Self::stop) can wait for them all.
    fn alive_token(&self) -> Result<mpsc::Sender<()>, TcpServerError> {
        self.acceptors_alive.clone().ok_or(TcpServerError::Stopped)
    }

    /// Errors unless an actix loop runs on this thread (accept loops are spawned on it).
    fn ensure_loop(&self) -> Result<(), TcpServerError> {
        if self.acceptors_alive.is_none() {
            return Err(TcpServerError::Stopped);
        }
        Arbiter::try_current()
            .map(drop)
            .ok_or(TcpServerError::NoLoop)
    }

    /// Worker `index`'s socket for `original`: the original for the first worker; for the
    /// others a new socket on the same address when `original` has `SO_REUSEPORT` (the kernel
    /// spreads connections), else a duplicate descriptor of the same socket (a shared queue).
    fn worker_socket(
        &self,
        original: &std::net::TcpListener,
        index: usize,
    ) -> io::Result<std::net::TcpListener> {
        let listener = if index == 0 {
            original.try_clone()?
        } else if socket2::SockRef::from(original).reuse_port()? {
            bind_socket(original.local_addr()?, self.backlog, true)?
        } else {
            original.try_clone()?
        };
        listener.set_nonblocking(true)?;
        Ok(listener)
    }

    /// Stops the worker Arbiters; connections still on them are dropped with their loops.
    fn stop_workers(&mut self) {
        for worker in self.workers.drain(..) {
            worker.stop();
        }
    }
}

impl<F> Drop for TcpServer<F> {
    fn drop(&mut self) {
        self.stop.send_replace(true);
        for worker in self.workers.drain(..) {
            worker.stop();
        }
    }
}

/// Resolves on SIGINT or SIGTERM.
async fn wait_for_signal() -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
    Ok(())
}
