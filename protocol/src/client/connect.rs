//! Making a new connection for a pool key: resolve and connect (from `network_interface`),
//! open a proxy tunnel for https through a proxy, then run TLS; all within `connect_timeout`.

use cyclone_actors::tcpclient::{ConnectError, ConnectOptions, TcpClient};

use super::connection::{Connection, PoolKey, Scheme, Unbuffered};
use super::error::{HttpClientError, TimeoutPhase};
use super::proxy::open_tunnel;
use super::request::HttpRequest;
use super::tls::TlsConfigs;

/// Connects a fresh connection for `key`, bounded by the request's `connect_timeout`. With
/// `offer_http2`, an https connection offers `h2` by ALPN (see [`Connection::http2`]).
pub(crate) async fn connect(
    tcp: &TcpClient,
    tls: &TlsConfigs,
    key: &PoolKey,
    request: &HttpRequest,
    offer_http2: bool,
) -> Result<Connection, HttpClientError> {
    let timeout = request.connect_timeout;
    let timed_out = HttpClientError::Timeout {
        phase: TimeoutPhase::Connect,
        after: timeout,
    };
    let attempt = async {
        let (host, port) = match &key.proxy {
            Some(proxy) => (proxy.host.as_str(), proxy.port),
            None => (key.host.as_str(), key.port),
        };
        let mut options = ConnectOptions::new().timeout(timeout);
        if let Some(ip) = key.network_interface {
            options = options.source_ip(ip);
        }
        let stream = tcp
            .connect_with(host, port, &options)
            .await
            .map_err(|error| match error {
                ConnectError::Timeout { .. } => HttpClientError::Timeout {
                    phase: TimeoutPhase::Connect,
                    after: timeout,
                },
                error => HttpClientError::Connect(error),
            })?;
        // Requests are written whole; Nagle would only delay a small head behind a body.
        let _ = stream.set_nodelay(true);
        let mut connection = Connection::new(Box::new(Unbuffered(stream)), key.clone());
        if key.scheme == Scheme::Https {
            if let Some(proxy) = &key.proxy {
                open_tunnel(
                    &mut connection,
                    proxy,
                    &key.host,
                    key.port,
                    request.max_header_size,
                )
                .await?;
            }
            connection = tls.handshake(connection, key, offer_http2).await?;
        }
        Ok(connection)
    };
    tokio::time::timeout(timeout, attempt)
        .await
        .unwrap_or(Err(timed_out))
}
