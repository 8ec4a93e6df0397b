//! Finding what carries a hop: a stream on the origin's shared HTTP/2 connection, an idle
//! HTTP/1.1 keep-alive connection, or a new connection, which becomes one or the other as
//! ALPN (or prior knowledge) decides.

use std::rc::Rc;

use cyclone_actors::tcpclient::TcpClient;

use super::connect::connect;
use super::connection::{Connection, PoolKey, Scheme};
use super::error::{HttpClientError, TimeoutPhase};
use super::http2::{self, Http2Pool, Http2Settings, Lookup, StreamLease};
use super::options::ClientOptions;
use super::pool::Pool;
use super::request::HttpRequest;
use super::tls::TlsConfigs;

/// Which protocols a hop may speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Wanted {
    /// HTTP/1.1 only: plain http without prior knowledge, anything through a plain proxy, or
    /// https with HTTP/2 turned off.
    Http1,
    /// https offering `h2` by ALPN: HTTP/2 if the server picks it.
    Alpn,
    /// Plain http speaking HTTP/2 from the first byte (h2c with prior knowledge).
    PriorKnowledge,
}

impl Wanted {
    /// What `request` to `key` may speak under the client's `options`.
    pub(crate) fn of(options: &ClientOptions, request: &HttpRequest, key: &PoolKey) -> Wanted {
        match key.scheme {
            Scheme::Https if options.http2 => Wanted::Alpn,
            Scheme::Http
                if key.proxy.is_none()
                    && (request.http2_prior_knowledge || options.http2_prior_knowledge) =>
            {
                Wanted::PriorKnowledge
            }
            _ => Wanted::Http1,
        }
    }
}

/// What carries one hop.
// One per hop, moved once: boxing the connection would allocate per request to save a move.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub(crate) enum Carrier {
    /// An HTTP/1.1 connection, taken from the pool (`reused`) or new.
    Http1(Connection),
    /// A stream on a shared HTTP/2 connection.
    Http2(StreamLease),
}

/// The parts of a client that make and keep connections.
#[derive(Debug)]
pub(crate) struct Dialer<'a> {
    /// Resolves and connects.
    pub(crate) tcp: &'a TcpClient,
    /// TLS configurations, built once.
    pub(crate) tls: &'a TlsConfigs,
    /// Idle HTTP/1.1 connections.
    pub(crate) pool: &'a Pool,
    /// Shared HTTP/2 connections.
    pub(crate) http2: &'a Rc<Http2Pool>,
    /// How HTTP/2 connections are kept (idle timeout, keep-alive PINGs).
    pub(crate) http2_settings: Http2Settings,
}

impl Dialer<'_> {
    /// What carries a hop of `request` to `key`. `fresh` (a retry after a reused HTTP/1.1
    /// connection failed) skips the idle pool.
    pub(crate) async fn checkout(
        &self,
        key: &PoolKey,
        request: &HttpRequest,
        wanted: Wanted,
        fresh: bool,
    ) -> Result<Carrier, HttpClientError> {
        if wanted != Wanted::Http1 {
            loop {
                match self.http2.lookup(key) {
                    Lookup::Ready(lease) => return Ok(Carrier::Http2(lease)),
                    Lookup::Connecting(notify) => notify.notified().await,
                    Lookup::Http1 => break,
                    Lookup::Vacant => {
                        if wanted == Wanted::Alpn
                            && !fresh
                            && let Some(connection) = self.pool.take(key)
                        {
                            return Ok(Carrier::Http1(reused(connection)));
                        }
                        let connecting = self.http2.connecting(key);
                        let connection = self.connect(key, request, wanted).await?;
                        if wanted == Wanted::PriorKnowledge || connection.http2 {
                            let lease = self.start_http2(connection, key, request).await?;
                            if !connecting.ready(&lease.connection) {
                                lease.connection.retire();
                            }
                            return Ok(Carrier::Http2(lease));
                        }
                        connecting.http1();
                        return Ok(Carrier::Http1(connection));
                    }
                }
            }
        }
        if !fresh && let Some(connection) = self.pool.take(key) {
            return Ok(Carrier::Http1(reused(connection)));
        }
        let connection = self.connect(key, request, wanted).await?;
        if connection.http2 {
            // An origin that answered HTTP/1.1 before picked `h2` this time.
            let lease = self.start_http2(connection, key, request).await?;
            if !self.http2.offer(key, &lease.connection) {
                // Another connection is shared already: this one carries its one stream.
                lease.connection.retire();
            }
            return Ok(Carrier::Http2(lease));
        }
        Ok(Carrier::Http1(connection))
    }

    /// A new connection, offering `h2` by ALPN when HTTP/2 is wanted.
    async fn connect(
        &self,
        key: &PoolKey,
        request: &HttpRequest,
        wanted: Wanted,
    ) -> Result<Connection, HttpClientError> {
        connect(self.tcp, self.tls, key, request, wanted == Wanted::Alpn).await
    }

    /// Turns a new connection into a shared HTTP/2 one, the handshake bounded by the
    /// request's `connect_timeout`, and leases its first stream.
    async fn start_http2(
        &self,
        connection: Connection,
        key: &PoolKey,
        request: &HttpRequest,
    ) -> Result<StreamLease, HttpClientError> {
        let timeout = request.connect_timeout;
        let handshake = http2::start(
            connection.into_transport(),
            key.clone(),
            Rc::downgrade(self.http2),
            self.http2.next_id(),
            self.http2_settings,
        );
        let shared = tokio::time::timeout(timeout, handshake)
            .await
            .unwrap_or(Err(HttpClientError::Timeout {
                phase: TimeoutPhase::Connect,
                after: timeout,
            }))?;
        shared.lease(false).ok_or(HttpClientError::ConnectionClosed)
    }
}

/// Marks a connection from the pool as reused, for the retry rule.
fn reused(mut connection: Connection) -> Connection {
    connection.reused = true;
    connection
}
