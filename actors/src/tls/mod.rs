//! TLS for servers and clients (Tornado's `ssl_options`), with rustls.
//!
//! # Layout
//!
//! - [`TlsServerConfig`] (`server.rs`): certificate chain and key, more certificates chosen by
//!   the client's SNI (`sni.rs`, several hosts on one listener), session resumption, client
//!   authentication, ALPN, handshake timeout. [`TlsFactory`] puts any [`ServeConnection`] hook behind a
//!   handshake; [`TcpServer::new_tls`] is the `handle_stream` sugar on top. While a
//!   connection handshakes it is a small actor of its own (listed in the registry, holding its
//!   `max_connections` permit, closed by `Close`/`Shutdown`).
//! - [`TlsClientConfig`] (`client.rs`): roots (Mozilla's by default), `validate_cert`,
//!   `ca_certs`, the client certificate, ALPN. [`TcpClient::connect_tls`] connects and
//!   handshakes.
//! - [`TlsStream`] (`stream.rs`): the encrypted transport of either side, read and written
//!   through an [`IoStream`](crate::iostream::IoStream) like a socket.
//! - [`TlsConfigError`] and [`HandshakeError`] (`error.rs`); PEM loading (`pem.rs`).
//!
//! # Example: an echo server and a client over TLS
//!
//! ```no_run
//! use cyclone_actors::connection::ConnectionInfo;
//! use cyclone_actors::iostream::IoStream;
//! use cyclone_actors::tcpclient::{ConnectOptions, TcpClient};
//! use cyclone_actors::tcpserver::TcpServer;
//! use cyclone_actors::tls::{TlsClientConfig, TlsServerConfig, TlsStream};
//! use tokio::net::TcpStream;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server_tls = TlsServerConfig::builder()
//!     .cert_chain_file("server.pem")
//!     .private_key_file("server.key")
//!     .build()?;
//! let client_tls = TlsClientConfig::builder().ca_certs_file("ca.pem").build()?;
//!
//! actix_rt::System::new().block_on(async move {
//!     let mut server = TcpServer::new_tls(
//!         |mut stream: IoStream<TlsStream<TcpStream>>, _: ConnectionInfo| async move {
//!             while let Ok(line) = stream.read_until(b"\n", Some(1024)).await {
//!                 if stream.write(line).await.is_err() {
//!                     break;
//!                 }
//!             }
//!         },
//!         server_tls,
//!     );
//!     server.listen(8443, Some("127.0.0.1"))?;
//!
//!     let mut stream = TcpClient::new()
//!         .connect_tls("localhost", 8443, &ConnectOptions::new(), &client_tls)
//!         .await?;
//!     stream.write(&b"ping\n"[..]).await?;
//!     assert_eq!(&stream.read_until(b"\n", None).await?[..], b"ping\n");
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! # }
//! ```
//!
//! # Limits and defaults
//!
//! | Setting | Default | Meaning |
//! |---|---|---|
//! | [`TlsServerBuilder::handshake_timeout`] | 10 s ([`DEFAULT_HANDSHAKE_TIMEOUT`]) | an accepted connection that has not completed its handshake by then is closed and its slot released |
//! | client handshake | the connect timeout ([`ConnectOptions::timeout`], 20 s) | resolution, connection and handshake share one deadline |
//! | [`TlsServerBuilder::client_cert_required`] | `true` once a client CA is set | Tornado's `CERT_REQUIRED` |
//! | [`TlsServerBuilder::sni_cert_pem`] | none | more certificates, chosen by the name the client asks for; the main one is the default |
//! | [`TlsServerBuilder::session_cache_size`] | 256 sessions ([`DEFAULT_SESSION_CACHE_SIZE`]) | returning clients resume (no certificate exchange); 0 turns it off |
//! | [`TlsServerBuilder::session_tickets`] | off | stateless tickets, key rotated every 6 h |
//! | [`TlsClientBuilder::session_cache_size`] | 256 sessions | resumption of the client's earlier sessions; 0 turns it off |
//! | [`TlsClientBuilder::validate_cert`] | `true`, against Mozilla's roots | `false` accepts any certificate (see its docs) |
//! | ALPN | none | set with `alpn_protocols`, e.g. `["http/1.1"]` |
//! | [`MAX_PEM_FILE_SIZE`] | 16 MiB | larger PEM files are refused |
//! | protocol versions | TLS 1.2 and 1.3 | rustls's safe defaults, with the `ring` crypto provider |
//!
//! rustls bounds its own buffers (handshake messages, and at most 16 KiB of decrypted data
//! waiting to be read, after which it stops reading the socket until the application reads),
//! so a peer cannot make a TLS connection hold more memory than the
//! [`IoStream`](crate::iostream::IoStream) limits allow plus those few records.
//!
//! # Closing
//!
//! Closing or dropping a TLS stream sends `close_notify` when the socket has room (see
//! [`TlsStream`]), so a peer reading to the end sees a clean end of file.
//!
//! [`ServeConnection`]: crate::tcpserver::ServeConnection
//! [`TcpServer::new_tls`]: crate::tcpserver::TcpServer::new_tls
//! [`TcpClient::connect_tls`]: crate::tcpclient::TcpClient::connect_tls
//! [`ConnectOptions::timeout`]: crate::tcpclient::ConnectOptions::timeout

mod client;
mod error;
mod pem;
mod server;
mod sni;
mod stream;

pub use client::{TlsClientBuilder, TlsClientConfig};
pub use error::{HandshakeError, TlsConfigError};
pub use pem::MAX_PEM_FILE_SIZE;
pub use server::{
    DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_SESSION_CACHE_SIZE, TlsFactory, TlsServerBuilder,
    TlsServerConfig,
};
pub use stream::TlsStream;

/// The rustls crate, re-exported so callers can match on [`rustls::Error`] inside a
/// [`HandshakeError`] and build configurations by hand without matching our version.
pub use rustls;
/// The tokio-rustls crate, re-exported for [`TlsStream::into_inner`].
pub use tokio_rustls;
