//! Why a TLS configuration could not be built, and why a handshake failed.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why a [`TlsServerConfig`](super::TlsServerConfig) or
/// [`TlsClientConfig`](super::TlsClientConfig) could not be built. Every case is a mistake in
/// the configuration, found once at startup rather than at each connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsConfigError {
    /// A PEM file could not be read.
    #[error("cannot read the {what} file {path}: {source}")]
    Read {
        /// Which item: "certificate chain", "private key", "CA certificates", ...
        what: &'static str,
        /// The file asked for.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// A PEM file is larger than [`MAX_PEM_FILE_SIZE`](super::MAX_PEM_FILE_SIZE).
    #[error("the {what} file {path} is larger than {limit} bytes")]
    TooLarge {
        /// Which item.
        what: &'static str,
        /// The file asked for.
        path: PathBuf,
        /// The limit.
        limit: u64,
    },
    /// The text is not well-formed PEM.
    #[error("the {what} is not valid PEM: {source}")]
    BadPem {
        /// Which item.
        what: &'static str,
        /// The parser's error.
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    /// The PEM text holds no `CERTIFICATE` section.
    #[error("no certificate found in the {what}")]
    NoCertificates {
        /// Which item.
        what: &'static str,
    },
    /// The PEM text holds no private key (PKCS#8 `PRIVATE KEY`, `RSA PRIVATE KEY` or SEC1
    /// `EC PRIVATE KEY`).
    #[error("no private key (PKCS#8, RSA or SEC1) found in the {what}")]
    NoPrivateKey {
        /// Which item.
        what: &'static str,
    },
    /// A server config was built without a certificate chain or key.
    #[error("a TLS server needs a {0}")]
    Missing(&'static str),
    /// An [SNI](super::TlsServerBuilder::sni_cert_pem) name that is not a host name or a
    /// `*.` pattern over one.
    #[error("{0:?} is not a host name or a *.domain pattern")]
    BadSniName(String),
    /// The private key is not the one of the certificate.
    #[error("the private key does not match the certificate: {0}")]
    KeyMismatch(#[source] rustls::Error),
    /// The client-certificate verifier could not be built (for example, no usable CA).
    #[error("cannot verify client certificates: {0}")]
    ClientVerifier(#[source] rustls::server::VerifierBuilderError),
    /// rustls refused the configuration (an unsupported key type, a certificate it cannot
    /// parse, ...).
    #[error("TLS configuration refused: {0}")]
    Rustls(#[source] rustls::Error),
}

/// Why a TLS handshake did not complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The host to connect to is neither a DNS name nor an IP address, so it cannot be sent as
    /// SNI nor checked against the certificate.
    #[error("{0:?} is not a valid TLS server name")]
    InvalidServerName(String),
    /// The TLS protocol failed: a certificate was refused (untrusted, expired, wrong name), the
    /// peer sent an alert, or it spoke something other than TLS. Match on the rustls error for
    /// the detail, e.g. `rustls::Error::InvalidCertificate(_)`.
    #[error("TLS handshake failed: {0}")]
    Tls(#[source] rustls::Error),
    /// The connection failed or closed during the handshake.
    #[error("connection lost during the TLS handshake: {0}")]
    Io(#[source] io::Error),
    /// The peer did not finish the handshake in time (see
    /// [`TlsServerBuilder::handshake_timeout`](super::TlsServerBuilder::handshake_timeout)).
    #[error("the TLS handshake took longer than {0:?}")]
    Timeout(Duration),
}

impl HandshakeError {
    /// Sorts out the `io::Error` tokio-rustls reports: rustls's own error travels inside it.
    pub(crate) fn from_io(error: io::Error) -> Self {
        let is_tls = error
            .get_ref()
            .is_some_and(|inner| inner.is::<rustls::Error>());
        if !is_tls {
            return HandshakeError::Io(error);
        }
        match error
            .into_inner()
            .map(|inner| inner.downcast::<rustls::Error>())
        {
            Some(Ok(tls)) => HandshakeError::Tls(*tls),
            // Unreachable after the check above; kept as an I/O error rather than a panic.
            Some(Err(other)) => HandshakeError::Io(io::Error::other(other)),
            None => HandshakeError::Io(io::Error::other("TLS handshake failed")),
        }
    }
}
