//! The TLS transport for https: a rustls handshake over an established connection (direct,
//! or a proxy tunnel), with `validate_cert`, `ca_certs` and `client_cert` applied.
//!
//! Building a TLS configuration reads PEM files and copies the root store, so each distinct
//! set of options is built once per client and kept.

use std::cell::RefCell;
use std::collections::HashMap;

use cyclone_actors::tls::TlsClientConfig;

use super::connection::{Connection, PoolKey};
use super::error::HttpClientError;
use super::request::TlsOptions;

/// The ALPN protocols offered when HTTP/2 is on: `h2` first, so a server that speaks both
/// picks it (RFC 7301 lets the server choose; servers take their own first match).
const ALPN_HTTP2: [&str; 2] = ["h2", "http/1.1"];
/// The ALPN protocols offered when HTTP/2 is off.
const ALPN_HTTP1: [&str; 1] = ["http/1.1"];

/// The TLS configurations a client has built, by the request options they came from and
/// whether `h2` is offered.
#[derive(Debug, Default)]
pub(crate) struct TlsConfigs {
    /// Built configurations; a handful at most (one per distinct set of TLS options).
    built: RefCell<HashMap<(TlsOptions, bool), TlsClientConfig>>,
}

impl TlsConfigs {
    /// The configuration for `options`, built on first use.
    fn get(
        &self,
        options: &TlsOptions,
        offer_http2: bool,
    ) -> Result<TlsClientConfig, HttpClientError> {
        let key = (options.clone(), offer_http2);
        if let Some(config) = self.built.borrow().get(&key) {
            return Ok(config.clone());
        }
        let alpn: &[&str] = if offer_http2 {
            &ALPN_HTTP2
        } else {
            &ALPN_HTTP1
        };
        let mut builder = TlsClientConfig::builder()
            .validate_cert(options.validate_cert)
            .alpn_protocols(alpn);
        if let Some(path) = &options.ca_certs {
            builder = builder.ca_certs_file(path);
        }
        if let (Some(cert), Some(key)) = (&options.client_cert, &options.client_key) {
            builder = builder.client_cert_files(cert, key);
        }
        let config = builder.build()?;
        self.built.borrow_mut().insert(key, config.clone());
        Ok(config)
    }

    /// Runs the TLS handshake to `key.host` over `connection`, which must not hold unread
    /// bytes (nothing may precede the server's first TLS record). With `offer_http2`, ALPN
    /// offers `h2` too, and the connection records whether the server picked it.
    pub(crate) async fn handshake(
        &self,
        connection: Connection,
        key: &PoolKey,
        offer_http2: bool,
    ) -> Result<Connection, HttpClientError> {
        let options = key.tls.clone().unwrap_or_default();
        let config = self.get(&options, offer_http2)?;
        let transport = connection.into_transport();
        let stream = config.handshake(&key.host, transport).await?;
        let http2 = stream.alpn_protocol() == Some(b"h2".as_slice());
        let mut connection = Connection::new(Box::new(stream), key.clone());
        connection.http2 = http2;
        Ok(connection)
    }
}
