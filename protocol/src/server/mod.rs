//! Tornado's `HTTPServer`: an HTTP/1.1 server whose every connection is an actor driving the
//! sans-IO codec of [`h1`](crate::h1).
//!
//! # Layout
//!
//! - [`HttpServer`]: the builder with Tornado's options, over [`TcpServer`] (accepting,
//!   `max_connections`, registry, graceful shutdown).
//! - The connection actor (in `connection/`): one per socket; it reads into one buffer,
//!   decodes, hands each request to the service, and writes answers in request order, batched.
//! - [`HttpRequestMessage`]: the one message every request travels as: the
//!   [`HttpServerRequest`] (Tornado's `HTTPServerRequest`), its [`PathArgs`] and the
//!   [`ResponseWriter`] for the answer. Whoever gets it answers through the writer, on the
//!   connection's loop or from any actor on any thread; the connection reads the answer from
//!   the writer's [`ResponseStream`].
//! - [`HttpService`]: what the connection hands each message to; it returns work the
//!   connection polls. Any `Fn(HttpServerRequest) -> impl Future<Output = impl Into<Reply>>`
//!   is one; [`streaming`] makes one from a function that streams through the writer;
//!   [`actor`] sends each message to an actor.
//! - [`HttpResponse`] (a whole answer), [`RequestBody`] (a body streamed with flow control).
//! - [`ResponseWriter::upgrade`] (or [`Reply::upgrade`]) switches a connection to another
//!   protocol (WebSocket): the connection writes `101 Switching Protocols` and hands an
//!   [`Upgraded`] (the transport as an [`UpgradedIo`], the bytes read past the request, its
//!   head and its registry slot) to a callback that starts the new owner.
//! - HTTPS with [`ssl_options`](HttpServer::ssl_options): each connection completes a rustls
//!   handshake (cyclone_actors' `TlsFactory`) before its connection actor starts.
//! - HTTP/2 with [`http2`](HttpServer::http2) (on the `h2` crate): chosen by ALPN under TLS,
//!   or by the connection preface in cleartext (h2c with prior knowledge, handed over from the
//!   HTTP/1.1 connection actor like a protocol switch). Each HTTP/2 connection is an actor
//!   owning its transport; each request stream reaches the same service as the same
//!   [`HttpRequestMessage`]. Its limits are an [`Http2Config`].
//!
//! # Example
//!
//! ```no_run
//! use cyclone_protocol::server::{HttpResponse, HttpServer, HttpServerRequest};
//!
//! async fn hello(_request: HttpServerRequest) -> HttpResponse {
//!     HttpResponse::ok().text("Hello, world")
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! actix_rt::System::new().block_on(async {
//!     let mut server = HttpServer::new(hello).max_body_size(1024 * 1024);
//!     server.bind(8888, Some("127.0.0.1"))?;
//!     server.start(0)?; // one worker per core
//!     server.serve_until_signal(std::time::Duration::from_secs(5)).await?;
//!     Ok(())
//! })
//! # }
//! ```
//!
//! # Limits and defaults
//!
//! | Setting | Default | Protects against |
//! |---|---|---|
//! | [`max_header_size`](HttpServer::max_header_size) | 64 KiB | huge heads (431) |
//! | [`max_body_size`](HttpServer::max_body_size) | 100 MiB | huge bodies (413), also after gzip inflation |
//! | [`header_timeout`](HttpServer::header_timeout) | 5 s | slowloris heads (408, close) and silent new connections |
//! | [`body_timeout`](HttpServer::body_timeout) | 60 s | stalled uploads (408, close) |
//! | [`idle_connection_timeout`](HttpServer::idle_connection_timeout) | 60 s | idle keep-alive connections and clients that do not read |
//! | [`max_pipelined_requests`](HttpServer::max_pipelined_requests) | 16 | unbounded read-ahead |
//! | [`body_queue_chunks`](HttpServer::body_queue_chunks) × [`chunk_size`](HttpServer::chunk_size) | 8 × 64 KiB | streamed uploads filling memory |
//! | [`max_write_buffer_size`](HttpServer::max_write_buffer_size) | 1 MiB | clients that pipeline but never read |
//! | [`max_connections`](HttpServer::max_connections) | 10 000 | descriptor exhaustion |
//! | TLS handshake timeout (of the [`ssl_options`](HttpServer::ssl_options) config) | 10 s | clients that connect and never finish the handshake |
//! | [`http2_config`](HttpServer::http2_config) | HTTP/2 off; [`Http2Config`]'s defaults when on | streams, windows, frames, header lists and resets per HTTP/2 connection; clients gone silent (keep-alive PINGs) |
//!
//! `docs/http.md` has the full table, the request flow and the answer to each kind of bad input.
//!
//! # Panics
//!
//! A handler that panics (in `call` or while its future is polled) is answered with 500 and its
//! connection closes; the worker and its other connections go on.

mod body;
mod connection;
mod decompress;
mod error;
mod http2;
mod message;
mod options;
mod path_args;
mod request;
mod response;
mod sent;
mod service;
mod upgrade;
mod xheaders;

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use cyclone_actors::registry::{ConnectionRegistry, ConnectionSlot};
use cyclone_actors::tcpserver::{ServeConnection, ShutdownReport, TcpServer};
use cyclone_actors::tls::{TlsFactory, TlsServerConfig, TlsStream};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

pub use body::RequestBody;
use connection::serve_connection;
pub use connection::{LINGER_MAX_DISCARD, LINGER_TIMEOUT};
pub use error::{
    HttpServerError, InvalidEntityTag, InvalidReasonPhrase, RequestBodyError, WriterError,
};
pub use http2::Http2Config;
pub use message::HttpRequestMessage;
pub use options::HttpServerOptions;
pub use path_args::PathArgs;
pub use request::HttpServerRequest;
pub use response::{
    EntityTag, HttpResponse, OnUpgrade, RESPONSE_QUEUE_CHUNKS, ResponseEvent, ResponseStream,
    ResponseWriter, is_forbidden_trailer,
};
pub use service::{ActorService, Answering, HttpService, Reply, Streaming, actor, streaming};
pub use upgrade::{Upgraded, UpgradedIo};

/// Builds a worker's service; called once per worker thread.
type ServiceFactory<S> = Arc<dyn Fn() -> S + Send + Sync>;

/// An HTTP/1.1 server (Tornado's `HTTPServer`), and HTTP/2 with [`http2`](Self::http2). See
/// the [module docs](self).
///
/// Settings take effect if set before [`listen`](Self::listen) / [`bind`](Self::bind).
pub struct HttpServer<S: HttpService> {
    /// Builds each worker's service.
    factory: ServiceFactory<S>,
    /// The settings connections are held to.
    options: HttpServerOptions,
    /// See [`max_connections`](Self::max_connections).
    max_connections: usize,
    /// See [`ssl_options`](Self::ssl_options); `None` serves plain HTTP.
    tls: Option<TlsServerConfig>,
    /// The TCP layer; made at the first listen or bind, from the settings then.
    tcp: Option<TcpServer<Transport<S>>>,
}

impl<S: HttpService> std::fmt::Debug for HttpServer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpServer")
            .field("options", &self.options)
            .field("max_connections", &self.max_connections)
            .field("tls", &self.tls.is_some())
            .field("tcp", &self.tcp)
            .finish_non_exhaustive()
    }
}

impl<S: HttpService + Clone + Send + Sync> HttpServer<S> {
    /// A server answering with `service`, cloned once per worker (a function or a closure
    /// capturing `Send + Sync` values).
    pub fn new(service: S) -> Self {
        Self::with_factory(move || service.clone())
    }
}

impl<S: HttpService> HttpServer<S> {
    /// A server whose workers each build their service with `factory`, so the service need not
    /// be `Send` or `Sync` (it may hold `Rc`s, `RefCell`s, per-thread caches).
    pub fn with_factory(factory: impl Fn() -> S + Send + Sync + 'static) -> Self {
        HttpServer {
            factory: Arc::new(factory),
            options: HttpServerOptions::default(),
            max_connections: cyclone_actors::tcpserver::DEFAULT_MAX_CONNECTIONS,
            tls: None,
            tcp: None,
        }
    }

    /// Trust `X-Real-Ip`/`X-Forwarded-For` and `X-Scheme`/`X-Forwarded-Proto` for
    /// [`remote_ip`](HttpServerRequest::remote_ip) and
    /// [`protocol`](HttpServerRequest::protocol). Only behind a proxy that sets them. Default off.
    pub fn xheaders(mut self, xheaders: bool) -> Self {
        self.options.xheaders = xheaders;
        self
    }

    /// Proxy addresses skipped from the right of `X-Forwarded-For`. Default none.
    pub fn trusted_downstream(mut self, proxies: impl IntoIterator<Item = IpAddr>) -> Self {
        self.options.trusted_downstream = proxies.into_iter().collect();
        self
    }

    /// Largest request head (request line and header fields); larger is answered 431.
    /// Default is 64 KiB; values below 1 KiB mean 1 KiB.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.options.limits.max_head_size = bytes.max(1024);
        self
    }

    /// Largest request body (and inflated body with [`decompress_request`](Self::decompress_request));
    /// larger is answered 413 before any of it is read when the length is announced. Default
    /// is 100 MiB.
    pub fn max_body_size(mut self, bytes: u64) -> Self {
        self.options.limits.max_body_size = bytes;
        self
    }

    /// Longest wait for a whole request head from its first byte, and for a first request on
    /// a new connection (slowloris defence). A partial head is answered 408, then the
    /// connection closes; nothing at all is just closed. Default is 5 s.
    pub fn header_timeout(mut self, timeout: Duration) -> Self {
        self.options.header_timeout = timeout;
        self
    }

    /// Longest wait for the next bytes of a request body (408, then close). Time the
    /// connection spends waiting for a streaming handler to take chunks does not count.
    /// Default is 60 s.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.options.body_timeout = timeout;
        self
    }

    /// How long a keep-alive connection may wait for its next request (then it closes without
    /// an answer). An HTTP/2 connection with no stream open for this long is sent
    /// `GOAWAY(NO_ERROR)` and closed: the same setting, the same meaning. Default is 60 s.
    pub fn idle_connection_timeout(mut self, timeout: Duration) -> Self {
        self.options.idle_connection_timeout = timeout;
        self
    }

    /// How long answer bytes may wait for a client that takes none of them (it stopped
    /// reading): then the connection is dropped, every pending write of its handlers fails
    /// with [`WriterError::Closed`], and its buffers are freed. Each byte the client reads
    /// restarts the clock, so slow readers are served. On HTTP/2 it bounds both a write to the
    /// socket (the connection closes) and a stream's wait for window from the client (the
    /// stream is reset with `CANCEL`). Default is 60 s.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.options.write_timeout = timeout;
        self
    }

    /// Inflate `Content-Encoding: gzip` request bodies before the handler sees them; the
    /// inflated size is held to `max_body_size` (413), corrupt gzip is 400. Default off.
    pub fn decompress_request(mut self, decompress: bool) -> Self {
        self.options.decompress_request = decompress;
        self
    }

    /// Most bytes read at once while a body arrives, so the largest chunk a streaming handler
    /// gets. Default is 64 KiB; values below 1 KiB mean 1 KiB.
    pub fn chunk_size(mut self, bytes: usize) -> Self {
        self.options.chunk_size = bytes.max(1024);
        self
    }

    /// Close every connection after one answer. Default off.
    pub fn no_keep_alive(mut self, no_keep_alive: bool) -> Self {
        self.options.no_keep_alive = no_keep_alive;
        self
    }

    /// Most live connections over all workers (see `TcpServer::max_connections`). Default is
    /// 10 000.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// Most requests of one connection read ahead of their answers. Default is 16; values
    /// below 1 mean 1.
    pub fn max_pipelined_requests(mut self, requests: usize) -> Self {
        self.options.max_pipelined_requests = requests.max(1);
        self
    }

    /// Body chunks a streaming handler may leave unread before the connection stops reading.
    /// Default is 8; values below 1 mean 1.
    pub fn body_queue_chunks(mut self, chunks: usize) -> Self {
        self.options.body_queue_chunks = chunks.max(1);
        self
    }

    /// Answer bytes held for a client that does not read before the connection stops reading
    /// requests and taking streamed pieces. Default is 1 MiB.
    pub fn max_write_buffer_size(mut self, bytes: usize) -> Self {
        self.options.max_write_buffer_size = bytes.max(1);
        self
    }

    /// Serve HTTPS (Tornado's `ssl_options`): every connection completes a TLS handshake under
    /// `tls` first, on the worker that accepted it and within the config's handshake timeout
    /// (default 10 s; a client that never finishes it is closed and its `max_connections`
    /// permit freed). Requests then report [`protocol`](HttpServerRequest::protocol)
    /// `"https"` (unless `xheaders` says otherwise) and their
    /// [`full_url`](HttpServerRequest::full_url) starts with `https://`.
    ///
    /// ALPN is set to `http/1.1`, whatever `tls` asked for, or to `h2` then `http/1.1` with
    /// [`http2`](Self::http2) on: the server offers exactly what it speaks. Default: plain
    /// HTTP.
    ///
    /// ```no_run
    /// use cyclone_actors::tls::TlsServerConfig;
    /// use cyclone_protocol::server::{HttpResponse, HttpServer, HttpServerRequest};
    ///
    /// async fn hello(_request: HttpServerRequest) -> HttpResponse {
    ///     HttpResponse::ok().text("Hello, world")
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = TlsServerConfig::builder()
    ///     .cert_chain_file("cert.pem")
    ///     .private_key_file("key.pem")
    ///     .build()?;
    /// actix_rt::System::new().block_on(async {
    ///     let mut server = HttpServer::new(hello).ssl_options(tls);
    ///     server.listen_on(8443, Some("127.0.0.1"))?;
    ///     server.serve_until_signal(std::time::Duration::from_secs(5)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn ssl_options(mut self, tls: TlsServerConfig) -> Self {
        // ALPN is set when the TCP layer is made, once `http2` is known.
        self.tls = Some(tls);
        self
    }

    /// Serve HTTP/2 as well as HTTP/1.1, with the default [`Http2Config`]: under
    /// [`ssl_options`](Self::ssl_options) the server offers `h2` by ALPN (before `http/1.1`,
    /// which clients that do not speak HTTP/2 still get), and on plain listeners a client
    /// with prior knowledge (h2c: its first bytes are the HTTP/2 connection preface) is served
    /// HTTP/2 on the same port as HTTP/1.1 clients. Every request stream reaches the service
    /// as the same [`HttpRequestMessage`] an HTTP/1.1 request does. `false` turns it off
    /// again. Default off: HTTP/2 is new here, and answers over it drop what HTTP/2 has no
    /// place for (reason phrases, protocol switches), so a server opts in.
    ///
    /// ```no_run
    /// use cyclone_protocol::server::{HttpResponse, HttpServer, HttpServerRequest};
    ///
    /// async fn hello(_request: HttpServerRequest) -> HttpResponse {
    ///     HttpResponse::ok().text("Hello, world")
    /// }
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// actix_rt::System::new().block_on(async {
    ///     // `curl --http2-prior-knowledge http://127.0.0.1:8888/` and plain HTTP/1.1 both work.
    ///     let mut server = HttpServer::new(hello).http2(true);
    ///     server.listen_on(8888, Some("127.0.0.1"))?;
    ///     server.serve_until_signal(std::time::Duration::from_secs(5)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn http2(mut self, enabled: bool) -> Self {
        self.options.http2 = match (enabled, self.options.http2) {
            (false, _) => None,
            (true, config) => Some(config.unwrap_or_default()),
        };
        self
    }

    /// Serve HTTP/2 (as [`http2(true)`](Self::http2) does) with these limits.
    pub fn http2_config(mut self, config: Http2Config) -> Self {
        self.options.http2 = Some(config);
        self
    }

    /// The settings as they stand.
    pub fn options(&self) -> &HttpServerOptions {
        &self.options
    }

    /// Serves `port` on every interface on the current loop (Tornado's `listen`).
    pub fn listen(&mut self, port: u16) -> Result<(), HttpServerError> {
        self.listen_on(port, None)
    }

    /// Serves `port` on `address` (`None`: every interface) on the current loop.
    pub fn listen_on(&mut self, port: u16, address: Option<&str>) -> Result<(), HttpServerError> {
        Ok(self.tcp().listen(port, address)?)
    }

    /// Serves already-bound listening sockets on the current loop (Tornado's `add_sockets`):
    /// from `netutil::bind_sockets`, or a worker's from `process::fork_processes`.
    pub fn add_sockets(
        &mut self,
        listeners: Vec<std::net::TcpListener>,
    ) -> Result<(), HttpServerError> {
        Ok(self.tcp().add_sockets(listeners)?)
    }

    /// Serves HTTP on a listening Unix domain socket on the current loop (Tornado's
    /// `add_socket(bind_unix_socket(path))`), behind a local proxy such as nginx. Requests
    /// report `remote_ip` `0.0.0.0` (with `xheaders`, the proxy's `X-Real-Ip`).
    pub fn add_unix_socket(
        &mut self,
        listener: std::os::unix::net::UnixListener,
    ) -> Result<(), HttpServerError> {
        Ok(self.tcp().add_unix_socket(listener)?)
    }

    /// Binds `port` on `address` for [`start`](Self::start) (Tornado's `bind`).
    pub fn bind(&mut self, port: u16, address: Option<&str>) -> Result<(), HttpServerError> {
        Ok(self.tcp().bind(port, address)?)
    }

    /// Starts `workers` worker threads (0: one per core) serving what [`bind`](Self::bind)
    /// bound. Must run inside an actix System.
    pub fn start(&mut self, workers: usize) -> Result<(), HttpServerError> {
        Ok(self.tcp().start(workers)?)
    }

    /// Where the server listens (with the real port when bound to port 0).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        self.tcp.as_ref().map_or(&[], |tcp| tcp.local_addrs())
    }

    /// Every live connection, over all workers; `None` before the first listen or bind.
    pub fn registry(&self) -> Option<&ConnectionRegistry> {
        self.tcp.as_ref().map(TcpServer::registry)
    }

    /// Stops accepting; live connections go on (Tornado's `stop`).
    pub async fn stop(&mut self) {
        if let Some(tcp) = &mut self.tcp {
            tcp.stop().await;
        }
    }

    /// Graceful shutdown: stop accepting, let each connection finish the exchange in flight
    /// (answered with `Connection: close`), close idle ones at once, and after `timeout` close
    /// the rest.
    pub async fn shutdown(&mut self, timeout: Duration) -> ShutdownReport {
        match &mut self.tcp {
            Some(tcp) => tcp.shutdown(timeout).await,
            None => ShutdownReport::default(),
        }
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully within `timeout`.
    pub async fn serve_until_signal(
        mut self,
        timeout: Duration,
    ) -> Result<ShutdownReport, HttpServerError> {
        match self.tcp.take() {
            Some(tcp) => Ok(tcp.serve_until_signal(timeout).await?),
            None => Ok(ShutdownReport::default()),
        }
    }

    /// The TCP server, made on first use from the settings as they are then.
    fn tcp(&mut self) -> &mut TcpServer<Transport<S>> {
        self.tcp.get_or_insert_with(|| {
            let factory = ConnectionFactory {
                id: NEXT_SERVER_ID.fetch_add(1, Ordering::Relaxed),
                make_service: self.factory.clone(),
                options: Arc::new(self.options.clone()),
                protocol: if self.tls.is_some() { "https" } else { "http" },
                _service: PhantomData,
            };
            let transport = match &self.tls {
                None => Transport::Plain(factory),
                Some(tls) => {
                    let tls = with_alpn(tls, self.options.http2.is_some());
                    Transport::Tls(TlsFactory::new(factory, tls))
                }
            };
            TcpServer::with_factory(transport).max_connections(self.max_connections)
        })
    }
}

/// `tls` offering by ALPN what the server speaks: `h2` (with HTTP/2 on) then `http/1.1`.
fn with_alpn(tls: &TlsServerConfig, http2: bool) -> TlsServerConfig {
    let mut rustls = (**tls.rustls()).clone();
    rustls.alpn_protocols = if http2 {
        vec![b"h2".to_vec(), b"http/1.1".to_vec()]
    } else {
        vec![b"http/1.1".to_vec()]
    };
    TlsServerConfig::from_rustls(Arc::new(rustls)).with_handshake_timeout(tls.handshake_timeout())
}

/// Tells servers apart in each worker's service cache.
static NEXT_SERVER_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Each worker's services, by server id: built at the worker's first connection and shared
    /// by its connections (they run on this one thread). Entries live as long as the thread;
    /// worker threads end with their server.
    static SERVICES: RefCell<Vec<(u64, Rc<dyn Any>)>> = const { RefCell::new(Vec::new()) };
}

/// Starts a connection actor for each accepted socket, with its worker's service.
struct ConnectionFactory<S> {
    /// This server's key in the per-thread service cache.
    id: u64,
    /// Builds a worker's service.
    make_service: ServiceFactory<S>,
    /// The settings every connection shares.
    options: Arc<HttpServerOptions>,
    /// What requests report as their protocol: `"https"` behind TLS.
    protocol: &'static str,
    /// The factory holds no `S` (services stay on their thread), so it is `Send + Sync`.
    _service: PhantomData<fn() -> S>,
}

impl<S> std::fmt::Debug for ConnectionFactory<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectionFactory")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl<S: HttpService> ConnectionFactory<S> {
    /// This thread's service for this server, built on first use.
    fn service(&self) -> Rc<S> {
        SERVICES.with(|services| {
            let mut services = services.borrow_mut();
            let cached = services
                .iter()
                .find(|(id, _)| *id == self.id)
                .and_then(|(_, service)| service.clone().downcast::<S>().ok());
            if let Some(service) = cached {
                return service;
            }
            let service = Rc::new((self.make_service)());
            services.push((self.id, service.clone()));
            service
        })
    }
}

/// What a transport tells about the protocol agreed for it: a TLS stream whose client picked
/// `h2` by ALPN speaks HTTP/2 from its first byte.
trait Negotiated {
    /// Whether ALPN settled on `h2`.
    fn alpn_h2(&self) -> bool {
        false
    }
}

impl Negotiated for TcpStream {}

impl Negotiated for tokio::net::UnixStream {}

impl<S> Negotiated for TlsStream<S> {
    fn alpn_h2(&self) -> bool {
        self.alpn_protocol() == Some(b"h2")
    }
}

// Generic over the transport, so the same factory serves plain sockets and, behind
// `TlsFactory`, TLS streams.
impl<S: HttpService, T: AsyncRead + AsyncWrite + Negotiated + Unpin + 'static> ServeConnection<T>
    for ConnectionFactory<S>
{
    fn serve(&self, stream: T, peer: SocketAddr, slot: ConnectionSlot) {
        if self.options.http2.is_some() && stream.alpn_h2() {
            http2::serve_http2(
                stream,
                bytes::BytesMut::new(),
                peer,
                slot,
                self.service(),
                self.options.clone(),
                self.protocol,
            );
            return;
        }
        serve_connection(
            stream,
            peer,
            slot,
            self.service(),
            self.options.clone(),
            self.protocol,
        );
    }
}

/// What the TCP layer calls for each accepted socket: the HTTP connection at once, or after a
/// TLS handshake.
enum Transport<S> {
    /// Plain HTTP.
    Plain(ConnectionFactory<S>),
    /// HTTPS ([`HttpServer::ssl_options`]).
    Tls(TlsFactory<ConnectionFactory<S>>),
}

impl<S> std::fmt::Debug for Transport<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Plain(factory) => f.debug_tuple("Plain").field(factory).finish(),
            Transport::Tls(factory) => f.debug_tuple("Tls").field(factory.inner()).finish(),
        }
    }
}

impl<S: HttpService> ServeConnection<tokio::net::UnixStream> for Transport<S> {
    fn serve(&self, stream: tokio::net::UnixStream, peer: SocketAddr, slot: ConnectionSlot) {
        match self {
            Transport::Plain(factory) => factory.serve(stream, peer, slot),
            Transport::Tls(factory) => factory.serve(stream, peer, slot),
        }
    }
}

impl<S: HttpService> ServeConnection for Transport<S> {
    fn serve(&self, stream: TcpStream, peer: SocketAddr, slot: ConnectionSlot) {
        // Answers are written whole, in batches: waiting for more to coalesce only adds latency.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%peer, %error, "cannot set TCP_NODELAY");
        }
        match self {
            Transport::Plain(factory) => factory.serve(stream, peer, slot),
            Transport::Tls(factory) => factory.serve(stream, peer, slot),
        }
    }
}
