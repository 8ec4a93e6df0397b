//! What both peers share: the port, the worker count and the TLS configuration, from the
//! environment `bench/h2load.sh` sets (`PORT`, `WORKERS`, and `CERTFILE`/`KEYFILE` for TLS).

use std::sync::Arc;

/// `$PORT`, default 8888.
pub fn port() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|port| port.parse().ok())
        .unwrap_or(8888)
}

/// `$WORKERS`, default 1.
pub fn workers() -> usize {
    std::env::var("WORKERS")
        .ok()
        .and_then(|workers| workers.parse().ok())
        .unwrap_or(1)
}

/// A rustls server config from `$CERTFILE` and `$KEYFILE` offering h2 then http/1.1 by ALPN,
/// or `None` (h2c) when `$CERTFILE` is not set.
pub fn tls_config() -> Option<rustls::ServerConfig> {
    let cert = std::env::var("CERTFILE")
        .ok()
        .filter(|path| !path.is_empty())?;
    let key = std::env::var("KEYFILE").expect("KEYFILE with CERTFILE");
    let certs = rustls_pemfile::certs(&mut std::io::BufReader::new(
        std::fs::File::open(cert).expect("CERTFILE"),
    ))
    .collect::<Result<Vec<_>, _>>()
    .expect("certificates in CERTFILE");
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(
        std::fs::File::open(key).expect("KEYFILE"),
    ))
    .expect("KEYFILE readable")
    .expect("a key in KEYFILE");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("a usable certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Some(config)
}
