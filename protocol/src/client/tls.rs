//! The TLS transport for https: a handshake over an established connection (direct, or a
//! proxy tunnel), with `validate_cert`, `ca_certs` and `client_cert` applied.
//!
//! The runtime's TLS layer (rustls) is not in the tree yet; until it is, https fails with a
//! typed error instead of sending plaintext.

use super::connection::{Connection, PoolKey};
use super::error::HttpClientError;

/// Runs the TLS handshake to `key.host` over `connection`.
pub(crate) async fn handshake(
    connection: Connection,
    key: &PoolKey,
) -> Result<Connection, HttpClientError> {
    drop(connection);
    Err(HttpClientError::Tls(format!(
        "https to {} is not supported by this build (no TLS layer)",
        key.host
    )))
}
