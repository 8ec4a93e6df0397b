//! The server side: [`TlsServerConfig`] (Tornado's `ssl_options` for `TCPServer` and
//! `HTTPServer`), the [`TlsFactory`] that puts any connection hook behind a TLS handshake, and
//! [`TcpServer::new_tls`].

use std::future::Future;
use std::net::SocketAddr;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use rustls::ServerConfig;
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;

use super::error::{HandshakeError, TlsConfigError};
use super::pem::PemSource;
use super::sni::{SniEntry, SniResolver, certified_key};
use super::stream::TlsStream;
use crate::connection::{ConnectionInfo, StreamFactory};
use crate::iostream::IoStream;
use crate::registry::{ConnectionControl, ConnectionSlot, ConnectionStats};
use crate::tcpserver::{ServeConnection, TcpServer};

/// How long an accepted connection may take to complete its TLS handshake by default: 10
/// seconds. A client that opens TCP and never speaks TLS holds a connection slot (and a
/// `max_connections` permit) until then, and no longer.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many TLS sessions a server remembers for resumption by default: 256 (rustls's
/// default). Each is a few hundred bytes.
pub const DEFAULT_SESSION_CACHE_SIZE: usize = 256;

/// A server's TLS settings: its certificate and key, client authentication, ALPN and the
/// handshake timeout (Tornado's `ssl_options`). Built once with [`builder`](Self::builder) and
/// shared by every worker; cheap to clone.
///
/// ```
/// use std::time::Duration;
/// use cyclone_actors::tls::TlsServerConfig;
///
/// let builder = TlsServerConfig::builder()
///     .cert_chain_file("/etc/cyclone/cert.pem")
///     .private_key_file("/etc/cyclone/key.pem")
///     .alpn_protocols(["http/1.1"])
///     .handshake_timeout(Duration::from_secs(5));
/// // The files are read by `build`, so a missing file is a typed error there.
/// assert!(builder.build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct TlsServerConfig {
    /// The rustls configuration every handshake of this server uses.
    rustls: Arc<ServerConfig>,
    /// See [`TlsServerBuilder::handshake_timeout`].
    handshake_timeout: Duration,
}

impl TlsServerConfig {
    /// Starts a configuration; it needs at least a certificate chain and its private key.
    pub fn builder() -> TlsServerBuilder {
        TlsServerBuilder::default()
    }

    /// Uses a rustls configuration built by hand (for SNI resolvers, session tickets, ...),
    /// with the default handshake timeout of 10 s ([`DEFAULT_HANDSHAKE_TIMEOUT`]).
    pub fn from_rustls(config: Arc<ServerConfig>) -> Self {
        TlsServerConfig {
            rustls: config,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
        }
    }

    /// Replaces the handshake timeout (see [`TlsServerBuilder::handshake_timeout`]).
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The handshake timeout.
    pub fn handshake_timeout(&self) -> Duration {
        self.handshake_timeout
    }

    /// The rustls configuration.
    pub fn rustls(&self) -> &Arc<ServerConfig> {
        &self.rustls
    }
}

/// Builds a [`TlsServerConfig`]. Setters only record; [`build`](Self::build) reads the files,
/// parses the PEM and checks that the key matches the certificate, so every mistake is one
/// typed [`TlsConfigError`] at startup.
#[derive(Debug, Clone)]
pub struct TlsServerBuilder {
    /// The server's certificate first, then any intermediates (Tornado's `certfile`).
    cert_chain: Option<PemSource>,
    /// The key of the first certificate (Tornado's `keyfile`).
    private_key: Option<PemSource>,
    /// CA certificates that client certificates must chain to; `None`: no client auth.
    client_ca: Option<PemSource>,
    /// Whether a client without a certificate is refused (Tornado's `CERT_REQUIRED`) or let
    /// through (`CERT_OPTIONAL`) when `client_ca` is set.
    client_cert_required: bool,
    /// Protocols offered to ALPN, in preference order.
    alpn_protocols: Vec<Vec<u8>>,
    /// Bounds how long a connection may hold its slot before it has spoken TLS.
    handshake_timeout: Duration,
    /// Certificates for other host names, chosen by the client's SNI.
    sni: Vec<SniEntry>,
    /// Sessions remembered for resumption (0: none).
    session_cache_size: usize,
    /// Whether stateless session tickets are issued.
    session_tickets: bool,
}

impl Default for TlsServerBuilder {
    fn default() -> Self {
        TlsServerBuilder {
            cert_chain: None,
            private_key: None,
            client_ca: None,
            client_cert_required: true,
            alpn_protocols: Vec::new(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            sni: Vec::new(),
            session_cache_size: DEFAULT_SESSION_CACHE_SIZE,
            session_tickets: false,
        }
    }
}

impl TlsServerBuilder {
    /// The certificate chain as PEM text: the server's certificate first, then intermediates.
    /// Required, unless [`sni_cert_pem`](Self::sni_cert_pem) gives certificates by name (it is
    /// then the default: for clients that send no name or one without a certificate of its
    /// own).
    pub fn cert_chain_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.cert_chain = Some(PemSource::Bytes(pem.into()));
        self
    }

    /// The certificate chain from a PEM file (Tornado's `certfile`), read by `build`.
    pub fn cert_chain_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert_chain = Some(PemSource::File(path.into()));
        self
    }

    /// The private key as PEM text: PKCS#8 (`PRIVATE KEY`), RSA (`RSA PRIVATE KEY`) or SEC1
    /// (`EC PRIVATE KEY`); the first key found is used. Required with the certificate chain.
    pub fn private_key_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.private_key = Some(PemSource::Bytes(pem.into()));
        self
    }

    /// The private key from a PEM file (Tornado's `keyfile`), read by `build`.
    pub fn private_key_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.private_key = Some(PemSource::File(path.into()));
        self
    }

    /// Asks every client for a certificate and verifies it against these CA certificates (PEM
    /// text). Clients without one are refused unless
    /// [`client_cert_required(false)`](Self::client_cert_required). Default is no client
    /// authentication.
    pub fn client_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.client_ca = Some(PemSource::Bytes(pem.into()));
        self
    }

    /// Like [`client_ca_pem`](Self::client_ca_pem), from a PEM file (Tornado's `ca_certs` with
    /// `cert_reqs`), read by `build`.
    pub fn client_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_ca = Some(PemSource::File(path.into()));
        self
    }

    /// With a client CA set: whether a client that sends no certificate is refused (`true`,
    /// Tornado's `CERT_REQUIRED`) or served (`false`, `CERT_OPTIONAL`; a certificate that *is*
    /// sent must still verify). Default is `true`.
    pub fn client_cert_required(mut self, required: bool) -> Self {
        self.client_cert_required = required;
        self
    }

    /// Protocols to agree on with ALPN, most preferred first, such as `["http/1.1"]`. A
    /// client offering ALPN with none of them is refused, as RFC 7301 asks. Default is none
    /// (ALPN is not used).
    pub fn alpn_protocols<P: AsRef<[u8]>>(
        mut self,
        protocols: impl IntoIterator<Item = P>,
    ) -> Self {
        self.alpn_protocols = protocols
            .into_iter()
            .map(|protocol| protocol.as_ref().to_vec())
            .collect();
        self
    }

    /// Another certificate on the same listener, for clients asking for `name` in their TLS
    /// hello (SNI): several hosts served by one server (Tornado's `sni_callback`). `name` is
    /// a host name (`api.example.com`) or a pattern for any one label before a domain
    /// (`*.example.com`, which covers `a.example.com` but not `example.com` or
    /// `a.b.example.com`); exact names win over patterns. Clients asking for no name or an
    /// unknown one get the [default certificate](Self::cert_chain_pem), or, without one, a
    /// failed handshake. The certificate should cover `name`: clients verify that.
    ///
    /// ```
    /// use cyclone_actors::tls::TlsServerConfig;
    ///
    /// let builder = TlsServerConfig::builder()
    ///     .sni_cert_files("api.example.com", "api.pem", "api.key")
    ///     .sni_cert_files("*.example.com", "wildcard.pem", "wildcard.key");
    /// # drop(builder);
    /// ```
    pub fn sni_cert_pem(
        mut self,
        name: impl Into<String>,
        cert_chain: impl Into<Vec<u8>>,
        private_key: impl Into<Vec<u8>>,
    ) -> Self {
        self.sni.push(SniEntry {
            name: name.into(),
            chain: PemSource::Bytes(cert_chain.into()),
            key: PemSource::Bytes(private_key.into()),
        });
        self
    }

    /// [`sni_cert_pem`](Self::sni_cert_pem) from PEM files, read by `build`.
    pub fn sni_cert_files(
        mut self,
        name: impl Into<String>,
        cert_chain: impl Into<PathBuf>,
        private_key: impl Into<PathBuf>,
    ) -> Self {
        self.sni.push(SniEntry {
            name: name.into(),
            chain: PemSource::File(cert_chain.into()),
            key: PemSource::File(private_key.into()),
        });
        self
    }

    /// How many sessions the server remembers so that returning clients resume them (an
    /// abbreviated handshake: no certificate sent or verified, one round trip less). Shared by
    /// every worker of the server. 0 turns stateful resumption off. Default is 256
    /// ([`DEFAULT_SESSION_CACHE_SIZE`]).
    pub fn session_cache_size(mut self, sessions: usize) -> Self {
        self.session_cache_size = sessions;
        self
    }

    /// Issues stateless session tickets (RFC 5077 / TLS 1.3 tickets encrypted with a key
    /// rotated every 6 hours), so clients resume without the server remembering them. The key
    /// lives in this process: tickets do not resume on another server. Default is off (the
    /// [session cache](Self::session_cache_size) resumes).
    pub fn session_tickets(mut self, on: bool) -> Self {
        self.session_tickets = on;
        self
    }

    /// How long a connection has, from its accept, to complete the handshake. A connection
    /// that does not is closed and its slot released, so clients that connect and stay silent
    /// cannot use up `max_connections`. Default is 10 s ([`DEFAULT_HANDSHAKE_TIMEOUT`]).
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Reads and checks everything, giving the configuration to hand to a server.
    pub fn build(self) -> Result<TlsServerConfig, TlsConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsConfigError::Rustls)?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(client_ca) => {
                let roots = Arc::new(client_ca.root_store("client CA certificates")?);
                let mut verifier =
                    WebPkiClientVerifier::builder_with_provider(roots, provider.clone());
                if !self.client_cert_required {
                    verifier = verifier.allow_unauthenticated();
                }
                builder.with_client_cert_verifier(
                    verifier.build().map_err(TlsConfigError::ClientVerifier)?,
                )
            }
        };
        let default = match (&self.cert_chain, &self.private_key) {
            (Some(chain), Some(key)) => Some(certified_key(chain, key, &provider)?),
            (None, None) if !self.sni.is_empty() => None,
            (None, _) => return Err(TlsConfigError::Missing("certificate chain")),
            (Some(_), None) => return Err(TlsConfigError::Missing("private key")),
        };
        let resolver = SniResolver::new(&self.sni, default, &provider)?;
        let mut config = builder.with_cert_resolver(Arc::new(resolver));
        config.alpn_protocols = self.alpn_protocols;
        config.session_storage = if self.session_cache_size == 0 {
            Arc::new(rustls::server::NoServerSessionStorage {})
        } else {
            rustls::server::ServerSessionMemoryCache::new(self.session_cache_size)
        };
        if self.session_tickets {
            config.ticketer =
                rustls::crypto::ring::Ticketer::new().map_err(TlsConfigError::Rustls)?;
        } else if self.session_cache_size == 0 {
            // Nothing could resume: TLS 1.3 tickets would only cost bytes.
            config.send_tls13_tickets = 0;
        }
        Ok(TlsServerConfig {
            rustls: Arc::new(config),
            handshake_timeout: self.handshake_timeout,
        })
    }
}

/// Puts a connection hook behind TLS: a [`ServeConnection`] that does the handshake on the
/// worker that accepted the connection, then hands the [`TlsStream`] to `inner`.
///
/// While the handshake runs, the connection is a small actor of its own: it is listed in the
/// server's registry, holds its `max_connections` permit, and stops (closing the socket) on
/// [`ConnectionControl::Close`] or `Shutdown`, since there is no exchange in flight to finish.
/// A handshake that fails or outlasts the timeout is logged at debug level and the connection
/// dropped; the server goes on serving the others.
///
/// Any hook generic over its transport works as `inner`. For a protocol server:
///
/// ```
/// use std::net::SocketAddr;
/// use cyclone_actors::registry::ConnectionSlot;
/// use cyclone_actors::tcpserver::{ServeConnection, TcpServer};
/// use cyclone_actors::tls::{TlsFactory, TlsServerConfig};
/// use tokio::io::{AsyncRead, AsyncWrite};
///
/// struct MyProtocol;
///
/// // Generic over the transport, so the same hook serves plain TCP and TLS.
/// impl<S: AsyncRead + AsyncWrite + Unpin + 'static> ServeConnection<S> for MyProtocol {
///     fn serve(&self, stream: S, peer: SocketAddr, slot: ConnectionSlot) {
///         // start the connection actor owning `stream` and `slot` here
/// #       drop((stream, peer, slot));
///     }
/// }
///
/// fn tls_server(tls: TlsServerConfig) -> TcpServer<TlsFactory<MyProtocol>> {
///     TcpServer::with_factory(TlsFactory::new(MyProtocol, tls))
/// }
/// ```
#[derive(Debug)]
pub struct TlsFactory<F> {
    /// The hook that gets each connection once its handshake is done; shared with the
    /// handshake actors, which may outlive one `serve` call.
    inner: Arc<F>,
    /// Certificates, client auth, ALPN and the handshake timeout.
    config: TlsServerConfig,
}

impl<F> TlsFactory<F> {
    /// Serves each connection with `inner` once a TLS handshake under `config` succeeds.
    pub fn new(inner: F, config: TlsServerConfig) -> Self {
        TlsFactory {
            inner: Arc::new(inner),
            config,
        }
    }

    /// The hook behind the handshake.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    /// The TLS settings.
    pub fn config(&self) -> &TlsServerConfig {
        &self.config
    }
}

impl<S, F> ServeConnection<S> for TlsFactory<F>
where
    S: AsyncRead + AsyncWrite + Unpin + 'static,
    F: ServeConnection<TlsStream<S>>,
{
    fn serve(&self, stream: S, peer: SocketAddr, slot: ConnectionSlot) {
        TlsHandshake::start(stream, peer, slot, &self.config, self.inner.clone());
    }
}

/// The actor owning a connection during its TLS handshake; it hands the connection (stream and
/// slot) to the inner hook and stops once the handshake succeeds.
#[derive(Debug)]
struct TlsHandshake {
    /// Keeps the connection listed and its permit held during the handshake; taken (moved to
    /// the inner hook) on success, dropped with the actor otherwise.
    slot: Option<ConnectionSlot>,
}

impl TlsHandshake {
    /// Starts the handshake actor for `stream` on the current Arbiter.
    fn start<S, F>(
        stream: S,
        peer: SocketAddr,
        slot: ConnectionSlot,
        config: &TlsServerConfig,
        inner: Arc<F>,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + 'static,
        F: ServeConnection<TlsStream<S>>,
    {
        let timeout = config.handshake_timeout;
        let accept = TlsAcceptor::from(config.rustls.clone()).accept(stream);
        let handshake = async move {
            match tokio::time::timeout(timeout, accept).await {
                Ok(Ok(tls)) => Ok(TlsStream::new(tokio_rustls::TlsStream::Server(tls))),
                Ok(Err(error)) => Err(HandshakeError::from_io(error)),
                Err(_elapsed) => Err(HandshakeError::Timeout(timeout)),
            }
        };
        TlsHandshake::create(move |ctx| {
            slot.register(ctx.address().recipient());
            let id = slot.id();
            ctx.spawn(actix::fut::wrap_future::<_, TlsHandshake>(handshake).map(
                move |outcome, actor: &mut TlsHandshake, ctx| {
                    match (outcome, actor.slot.take()) {
                        (Ok(stream), Some(slot)) => {
                            // A hook that panics loses this connection, not the worker.
                            if catch_unwind(AssertUnwindSafe(|| inner.serve(stream, peer, slot)))
                                .is_err()
                            {
                                tracing::error!(%peer, %id, "the connection factory panicked after the TLS handshake; connection dropped");
                            }
                        }
                        (Ok(_), None) => {}
                        (Err(error), _) => {
                            tracing::debug!(%peer, %id, %error, "TLS handshake failed; connection closed");
                        }
                    }
                    ctx.stop();
                },
            ));
            TlsHandshake { slot: Some(slot) }
        });
    }
}

impl Actor for TlsHandshake {
    type Context = Context<Self>;
}

impl Handler<ConnectionControl> for TlsHandshake {
    type Result = ();

    fn handle(&mut self, control: ConnectionControl, ctx: &mut Context<Self>) {
        match control {
            ConnectionControl::Close | ConnectionControl::Shutdown => ctx.stop(),
            // No user code runs yet to receive it; counted so the loss is visible.
            ConnectionControl::Notify(_) => {
                if let Some(slot) = &self.slot {
                    slot.registry().count_dropped_notification();
                }
            }
            ConnectionControl::Stats(request) => {
                if let Some(slot) = &self.slot {
                    request.reply(ConnectionStats::opaque(slot.id(), "tls-handshake"));
                }
            }
        }
    }
}

impl<H, Fut> TcpServer<TlsFactory<StreamFactory<H>>>
where
    H: Fn(IoStream<TlsStream<TcpStream>>, ConnectionInfo) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + 'static,
{
    /// A TLS server (Tornado's `TCPServer(ssl_options=...)`): each connection completes a
    /// handshake under `tls`, then `handler(stream, info)` runs for it as with
    /// [`TcpServer::new`], reading and writing plaintext.
    ///
    /// ```no_run
    /// use cyclone_actors::connection::ConnectionInfo;
    /// use cyclone_actors::iostream::IoStream;
    /// use cyclone_actors::tcpserver::TcpServer;
    /// use cyclone_actors::tls::{TlsServerConfig, TlsStream};
    /// use tokio::net::TcpStream;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = TlsServerConfig::builder()
    ///     .cert_chain_file("cert.pem")
    ///     .private_key_file("key.pem")
    ///     .build()?;
    /// actix_rt::System::new().block_on(async {
    ///     let mut server = TcpServer::new_tls(
    ///         |mut stream: IoStream<TlsStream<TcpStream>>, _info: ConnectionInfo| async move {
    ///             let _ = stream.write(&b"hello over TLS\n"[..]).await;
    ///         },
    ///         tls,
    ///     );
    ///     server.listen(8443, Some("127.0.0.1"))?;
    ///     server.serve_until_signal(std::time::Duration::from_secs(5)).await?;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub fn new_tls(handler: H, tls: TlsServerConfig) -> Self {
        TcpServer::with_factory(TlsFactory::new(StreamFactory::new(handler), tls))
    }
}
