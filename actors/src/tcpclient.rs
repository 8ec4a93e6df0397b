//! Outgoing TCP connections: Tornado's `tornado.tcpclient.TcpClient` with its dual-stack race.
//!
//! [`TcpClient::connect`] resolves the host through a [`Resolver`], then races the answers the
//! way Tornado's `_Connector` does (a simplified "Happy Eyeballs", RFC 6555):
//!
//! 1. The addresses are split into *primary* (the family of the first answer) and *secondary*
//!    (the other family), each kept in the resolver's order.
//! 2. Primaries are tried one after another.
//! 3. The secondaries start, also one after another, after
//!    [`ConnectOptions::secondary_delay`] (default [`CONNECT_SECONDARY_DELAY`], 300 ms), or at
//!    once when any attempt fails, whichever is first.
//! 4. The first connection to succeed wins; attempts still in flight are dropped, which closes
//!    their sockets. If every attempt fails, the error names the last failure and its address.
//!
//! The whole operation, resolution included, is bounded by [`ConnectOptions::timeout`]
//! (default [`DEFAULT_CONNECT_TIMEOUT`], 20 seconds; Tornado has none by default, cyclone
//! bounds every wait).
//!
//! ```
//! use cyclone_actors::tcpclient::TcpClient;
//!
//! actix_rt::System::new().block_on(async {
//!     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
//!     let port = listener.local_addr().unwrap().port();
//!     let stream = TcpClient::new().connect("127.0.0.1", port).await;
//!     assert!(stream.is_ok());
//! });
//! ```
//!
//! # Cancel safety
//! Dropping the future returned by `connect` drops every attempt in flight and closes their
//! sockets. A DNS lookup already running on the blocking pool runs to completion there; its
//! answer is discarded.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures::future::LocalBoxFuture;
use futures::stream::{FuturesUnordered, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};

use crate::iostream::{IoStream, StreamLimits};
use crate::resolver::{DefaultResolver, Family, ResolveError, Resolver};
use crate::tls::{HandshakeError, TlsClientConfig, TlsStream};

/// How long the primary family gets before the secondary family is tried too: 300 ms, as in
/// Tornado's `_INITIAL_CONNECT_TIMEOUT`.
pub const CONNECT_SECONDARY_DELAY: Duration = Duration::from_millis(300);

/// How long a whole `connect` (resolution and every attempt) may take by default: 20 seconds.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Why [`TcpClient::connect`] produced no stream.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The host could not be resolved.
    #[error("could not connect to {host}:{port}: {source}")]
    Resolve {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
        /// The resolver's error.
        #[source]
        source: ResolveError,
    },
    /// The resolver answered with no address at all.
    #[error("could not connect to {host}:{port}: the resolver gave no addresses")]
    NoAddresses {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
    },
    /// Resolution and connection together took longer than [`ConnectOptions::timeout`].
    #[error("connecting to {host}:{port} took longer than {after:?}")]
    Timeout {
        /// The host asked for.
        host: String,
        /// The port asked for.
        port: u16,
        /// The limit that was exceeded.
        after: Duration,
    },
    /// The TCP connection was made but the TLS handshake failed (see
    /// [`TcpClient::connect_tls`]): an untrusted or mismatched certificate, an alert from the
    /// server, a connection lost mid-handshake.
    #[error("TLS with {host}:{port} failed: {source}")]
    Tls {
        /// The host asked for (also the name the certificate was checked against).
        host: String,
        /// The port asked for.
        port: u16,
        /// What went wrong.
        #[source]
        source: HandshakeError,
    },
    /// Every address failed; this is the last failure, with the address it came from.
    #[error("could not connect to {address}: {source}")]
    Io {
        /// The address whose attempt failed last.
        address: SocketAddr,
        /// The operating system's error (refused, unreachable, bind failed, ...).
        #[source]
        source: io::Error,
    },
}

/// Settings for one [`TcpClient::connect_with`] call (Tornado's keyword arguments to
/// `TCPClient.connect`).
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Lets a caller insist on IPv4 or IPv6 (Tornado's `af`).
    family: Family,
    /// Bounds the whole connect, so no caller waits forever on a black-holed address.
    timeout: Duration,
    /// Lets the primary family win when both work, without stalling on a broken one.
    secondary_delay: Duration,
    /// Picks the local address on hosts with several interfaces.
    source_ip: Option<IpAddr>,
    /// Picks the local port, for peers that filter on it.
    source_port: Option<u16>,
    /// Caps what the peer can make the resulting stream buffer; `None` keeps the stream's default.
    max_buffer_size: Option<usize>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions::new()
    }
}

impl ConnectOptions {
    /// The defaults: either family, 20 s overall, 300 ms secondary delay, any local address.
    pub fn new() -> Self {
        ConnectOptions {
            family: Family::Unspec,
            timeout: DEFAULT_CONNECT_TIMEOUT,
            secondary_delay: CONNECT_SECONDARY_DELAY,
            source_ip: None,
            source_port: None,
            max_buffer_size: None,
        }
    }

    /// Restricts resolution to one family. Default is [`Family::Unspec`] (either).
    pub fn family(mut self, family: Family) -> Self {
        self.family = family;
        self
    }

    /// Bounds the whole connect, resolution included. Default is 20 seconds
    /// ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long the primary family is tried alone before the secondary family starts. Default
    /// is 300 ms ([`CONNECT_SECONDARY_DELAY`]).
    pub fn secondary_delay(mut self, delay: Duration) -> Self {
        self.secondary_delay = delay;
        self
    }

    /// Binds the local end to `ip` before connecting. Default is none (the system chooses).
    ///
    /// When the family is [`Family::Unspec`], only addresses of `ip`'s family are tried, since
    /// a socket cannot bind to one family and connect to the other.
    pub fn source_ip(mut self, ip: IpAddr) -> Self {
        self.source_ip = Some(ip);
        self
    }

    /// Binds the local end to `port` before connecting, with `SO_REUSEADDR` so a recently
    /// closed connection's `TIME_WAIT` does not block it. Default is none (an ephemeral port).
    ///
    /// Without [`source_ip`](Self::source_ip) the unspecified address of the target's family
    /// is bound (Tornado binds loopback there, which cannot reach other hosts).
    pub fn source_port(mut self, port: u16) -> Self {
        self.source_port = Some(port);
        self
    }

    /// Sets the resulting stream's maximum read buffer (Tornado's `max_buffer_size`). Default
    /// is the [`StreamLimits`] default (100 MiB); the other stream limits keep their defaults.
    pub fn max_buffer_size(mut self, bytes: usize) -> Self {
        self.max_buffer_size = Some(bytes);
        self
    }

    /// The family that is actually resolved: the explicit one, else the source IP's.
    fn effective_family(&self) -> Family {
        match (self.family, self.source_ip) {
            (Family::Unspec, Some(ip)) => Family::of_ip(&ip),
            (family, _) => family,
        }
    }
}

/// Opens TCP connections through a resolver (Tornado's `TCPClient`). Cheap to clone.
#[derive(Clone)]
pub struct TcpClient {
    /// Shared so clones of the client (one per loop) use one resolver and its overrides.
    resolver: Arc<dyn Resolver + Send + Sync>,
}

impl fmt::Debug for TcpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpClient")
            .field("resolver", &self.resolver)
            .finish()
    }
}

impl Default for TcpClient {
    fn default() -> Self {
        TcpClient::new()
    }
}

impl TcpClient {
    /// A client using [`DefaultResolver`] (getaddrinfo on the blocking pool).
    pub fn new() -> Self {
        TcpClient::with_resolver(DefaultResolver::new())
    }

    /// A client using `resolver`, e.g. an [`OverrideResolver`](crate::resolver::OverrideResolver).
    pub fn with_resolver(resolver: impl Resolver + Send + Sync + 'static) -> Self {
        TcpClient {
            resolver: Arc::new(resolver),
        }
    }

    /// A client sharing an existing resolver.
    pub fn with_shared_resolver(resolver: Arc<dyn Resolver + Send + Sync>) -> Self {
        TcpClient { resolver }
    }

    /// Connects to `host:port` with the default [`ConnectOptions`].
    pub async fn connect(
        &self,
        host: &str,
        port: u16,
    ) -> Result<IoStream<TcpStream>, ConnectError> {
        self.connect_with(host, port, &ConnectOptions::new()).await
    }

    /// Connects to `host:port`, racing the resolved addresses as described in the
    /// [module docs](self).
    pub async fn connect_with(
        &self,
        host: &str,
        port: u16,
        options: &ConnectOptions,
    ) -> Result<IoStream<TcpStream>, ConnectError> {
        let attempt = self.connect_stream(host, port, options);
        let stream = match tokio::time::timeout(options.timeout, attempt).await {
            Ok(result) => result?,
            Err(_elapsed) => {
                return Err(ConnectError::Timeout {
                    host: host.to_owned(),
                    port,
                    after: options.timeout,
                });
            }
        };
        Ok(wrap_stream(stream, options))
    }

    /// Connects to `host:port` as [`connect_with`](Self::connect_with) does, then runs a TLS
    /// handshake (Tornado's `connect(..., ssl_options=...)`): `host` is sent as SNI and the
    /// server's certificate is checked against it as `tls` says. Resolution, connection and
    /// handshake together are bounded by [`ConnectOptions::timeout`]; a handshake failure is
    /// [`ConnectError::Tls`].
    ///
    /// ```no_run
    /// use cyclone_actors::tcpclient::{ConnectOptions, TcpClient};
    /// use cyclone_actors::tls::TlsClientConfig;
    ///
    /// # async fn fetch() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = TlsClientConfig::builder().alpn_protocols(["http/1.1"]).build()?;
    /// let mut stream = TcpClient::new()
    ///     .connect_tls("example.com", 443, &ConnectOptions::new(), &tls)
    ///     .await?;
    /// stream.write(&b"HEAD / HTTP/1.1\r\nHost: example.com\r\n\r\n"[..]).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn connect_tls(
        &self,
        host: &str,
        port: u16,
        options: &ConnectOptions,
        tls: &TlsClientConfig,
    ) -> Result<IoStream<TlsStream<TcpStream>>, ConnectError> {
        let attempt = async {
            let stream = self.connect_stream(host, port, options).await?;
            tls.handshake(host, stream)
                .await
                .map_err(|source| ConnectError::Tls {
                    host: host.to_owned(),
                    port,
                    source,
                })
        };
        let stream = match tokio::time::timeout(options.timeout, attempt).await {
            Ok(result) => result?,
            Err(_elapsed) => {
                return Err(ConnectError::Timeout {
                    host: host.to_owned(),
                    port,
                    after: options.timeout,
                });
            }
        };
        Ok(wrap_stream(stream, options))
    }

    /// Resolution and the race, without the overall timeout.
    async fn connect_stream(
        &self,
        host: &str,
        port: u16,
        options: &ConnectOptions,
    ) -> Result<TcpStream, ConnectError> {
        let addresses = self
            .resolver
            .resolve(host, port, options.effective_family())
            .await
            .map_err(|source| ConnectError::Resolve {
                host: host.to_owned(),
                port,
                source,
            })?;
        let source_ip = options.source_ip;
        let source_port = options.source_port;
        let connect = move |address| connect_one(address, source_ip, source_port);
        match race(addresses, options.secondary_delay, connect).await {
            Ok(stream) => Ok(stream),
            Err(RaceFailure::NoAddresses) => Err(ConnectError::NoAddresses {
                host: host.to_owned(),
                port,
            }),
            Err(RaceFailure::Io { address, source }) => Err(ConnectError::Io { address, source }),
        }
    }
}

/// Wraps the winning socket, applying the caller's read buffer limit.
fn wrap_stream<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    options: &ConnectOptions,
) -> IoStream<S> {
    let mut limits = StreamLimits::default();
    if let Some(max_buffer_size) = options.max_buffer_size {
        limits.max_buffer_size = max_buffer_size;
    }
    IoStream::with_limits(stream, limits)
}

/// One attempt: a fresh socket, bound if asked, connected to `address`.
async fn connect_one(
    address: SocketAddr,
    source_ip: Option<IpAddr>,
    source_port: Option<u16>,
) -> io::Result<TcpStream> {
    let socket = match address {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if source_ip.is_some() || source_port.is_some() {
        if source_port.is_some() {
            socket.set_reuseaddr(true)?;
        }
        let ip = source_ip.unwrap_or(match address {
            SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        });
        socket.bind(SocketAddr::new(ip, source_port.unwrap_or(0)))?;
    }
    socket.connect(address).await
}

/// Why [`race`] produced no connection.
#[derive(Debug)]
pub(crate) enum RaceFailure {
    /// There was nothing to try.
    NoAddresses,
    /// Every attempt failed; the last one is named.
    Io {
        /// The address whose attempt failed last.
        address: SocketAddr,
        /// Its error.
        source: io::Error,
    },
}

/// Which queue an attempt came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lane {
    /// The family of the first resolved address.
    Primary,
    /// The other family.
    Secondary,
}

/// Splits addresses into the first answer's family and the rest, keeping order
/// (Tornado's `_Connector.split`).
fn split(addresses: Vec<SocketAddr>) -> (Vec<SocketAddr>, Vec<SocketAddr>) {
    let Some(first) = addresses.first() else {
        return (Vec::new(), Vec::new());
    };
    let primary_family = Family::of(first);
    addresses
        .into_iter()
        .partition(|address| Family::of(address) == primary_family)
}

/// Tornado's `_Connector`: races `addresses` through `connect` and returns the first success.
///
/// `connect` is the seam between the race and the network: [`TcpClient`] passes a real socket
/// connect; the race itself never touches a socket.
pub(crate) async fn race<T, F, Fut>(
    addresses: Vec<SocketAddr>,
    secondary_delay: Duration,
    mut connect: F,
) -> Result<T, RaceFailure>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>> + 'static,
    T: 'static,
{
    type Attempt<T> = LocalBoxFuture<'static, (Lane, SocketAddr, io::Result<T>)>;

    let (primary, secondary) = split(addresses);
    let mut primary = primary.into_iter();
    let mut secondary = secondary.into_iter();
    let mut in_flight: FuturesUnordered<Attempt<T>> = FuturesUnordered::new();
    let mut last_error: Option<(SocketAddr, io::Error)> = None;

    // Each lane has at most one attempt in flight; the next starts when it fails.
    let mut start_next = |lane: Lane, in_flight: &mut FuturesUnordered<Attempt<T>>| {
        let next = match lane {
            Lane::Primary => primary.next(),
            Lane::Secondary => secondary.next(),
        };
        if let Some(address) = next {
            let attempt = connect(address);
            in_flight.push(Box::pin(async move { (lane, address, attempt.await) }));
        }
    };

    start_next(Lane::Primary, &mut in_flight);
    let mut secondary_started = false;
    let secondary_timer = tokio::time::sleep(secondary_delay);
    tokio::pin!(secondary_timer);

    loop {
        if in_flight.is_empty() {
            if !secondary_started {
                secondary_started = true;
                start_next(Lane::Secondary, &mut in_flight);
                continue;
            }
            return Err(match last_error {
                Some((address, source)) => RaceFailure::Io { address, source },
                None => RaceFailure::NoAddresses,
            });
        }
        tokio::select! {
            Some((lane, address, result)) = in_flight.next() => match result {
                Ok(stream) => return Ok(stream),
                Err(error) => {
                    tracing::debug!(%address, %error, "connect attempt failed");
                    last_error = Some((address, error));
                    start_next(lane, &mut in_flight);
                    // A failure is a sign the primary family is broken: don't wait out the delay.
                    if !secondary_started {
                        secondary_started = true;
                        start_next(Lane::Secondary, &mut in_flight);
                    }
                }
            },
            () = &mut secondary_timer, if !secondary_started => {
                secondary_started = true;
                start_next(Lane::Secondary, &mut in_flight);
            }
        }
    }
}
