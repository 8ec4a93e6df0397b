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

/// The TLS configurations a client has built, by the request options they came from.
#[derive(Debug, Default)]
pub(crate) struct TlsConfigs {
    /// Built configurations; a handful at most (one per distinct set of TLS options).
    built: RefCell<HashMap<TlsOptions, TlsClientConfig>>,
}

impl TlsConfigs {
    /// The configuration for `options`, built on first use.
    fn get(&self, options: &TlsOptions) -> Result<TlsClientConfig, HttpClientError> {
        if let Some(config) = self.built.borrow().get(options) {
            return Ok(config.clone());
        }
        let mut builder = TlsClientConfig::builder()
            .validate_cert(options.validate_cert)
            .alpn_protocols(["http/1.1"]);
        if let Some(path) = &options.ca_certs {
            builder = builder.ca_certs_file(path);
        }
        if let (Some(cert), Some(key)) = (&options.client_cert, &options.client_key) {
            builder = builder.client_cert_files(cert, key);
        }
        let config = builder.build()?;
        self.built
            .borrow_mut()
            .insert(options.clone(), config.clone());
        Ok(config)
    }

    /// Runs the TLS handshake to `key.host` over `connection`, which must not hold unread
    /// bytes (nothing may precede the server's first TLS record).
    pub(crate) async fn handshake(
        &self,
        connection: Connection,
        key: &PoolKey,
    ) -> Result<Connection, HttpClientError> {
        let options = key.tls.clone().unwrap_or_default();
        let config = self.get(&options)?;
        let transport = connection.into_transport();
        let stream = config.handshake(&key.host, transport).await?;
        Ok(Connection::new(Box::new(stream), key.clone()))
    }
}
