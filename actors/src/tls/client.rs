//! The client side: [`TlsClientConfig`] (Tornado's `ssl_options` for `TCPClient.connect` and
//! the HTTP client: `validate_cert`, `ca_certs`, `client_cert`, `client_key`) and the
//! handshake behind [`TcpClient::connect_tls`](crate::tcpclient::TcpClient::connect_tls).

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::Resumption;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;

use super::error::{HandshakeError, TlsConfigError};
use super::pem::PemSource;
use super::server::DEFAULT_SESSION_CACHE_SIZE;
use super::stream::TlsStream;

/// How a client checks servers and which certificate it presents. Built once with
/// [`builder`](Self::builder) and shared by every connection; cheap to clone.
///
/// ```
/// use cyclone_actors::tls::TlsClientConfig;
///
/// // Mozilla's roots, certificates checked: what `https://` needs.
/// let public = TlsClientConfig::builder().build().unwrap();
/// // Tornado's `validate_cert=False`: for tests and lab hosts only.
/// let insecure = TlsClientConfig::builder().validate_cert(false).build().unwrap();
/// # drop((public, insecure));
/// ```
#[derive(Debug, Clone)]
pub struct TlsClientConfig {
    /// The rustls configuration every connection made with this config uses.
    rustls: Arc<ClientConfig>,
}

impl TlsClientConfig {
    /// Starts a configuration: by default servers are checked against Mozilla's root
    /// certificates (compiled in, from the `webpki-roots` crate) and no client certificate is
    /// sent.
    pub fn builder() -> TlsClientBuilder {
        TlsClientBuilder::default()
    }

    /// Uses a rustls configuration built by hand.
    pub fn from_rustls(config: Arc<ClientConfig>) -> Self {
        TlsClientConfig { rustls: config }
    }

    /// The rustls configuration.
    pub fn rustls(&self) -> &Arc<ClientConfig> {
        &self.rustls
    }

    /// Runs the client handshake over `stream`, sending `host` as SNI and checking the server's
    /// certificate against it (a DNS name, or an IP address, which is checked but not sent).
    /// Not bounded in time: [`TcpClient::connect_tls`](crate::tcpclient::TcpClient::connect_tls)
    /// bounds it with the connect timeout.
    pub async fn handshake<S>(&self, host: &str, stream: S) -> Result<TlsStream<S>, HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| HandshakeError::InvalidServerName(host.to_owned()))?;
        let tls = TlsConnector::from(self.rustls.clone())
            .connect(name, stream)
            .await
            .map_err(HandshakeError::from_io)?;
        Ok(TlsStream::new(tokio_rustls::TlsStream::Client(tls)))
    }
}

/// Builds a [`TlsClientConfig`]. Setters only record; [`build`](Self::build) reads the files
/// and parses the PEM, so every mistake is one typed [`TlsConfigError`].
#[derive(Debug, Clone)]
pub struct TlsClientBuilder {
    /// Whether the server's certificate is checked at all (Tornado's `validate_cert`).
    validate_cert: bool,
    /// CA certificates to trust instead of Mozilla's (Tornado's `ca_certs`).
    ca_certs: Option<PemSource>,
    /// Our certificate chain and its key, for servers that ask (Tornado's `client_cert` and
    /// `client_key`).
    client_cert: Option<(PemSource, PemSource)>,
    /// Protocols offered to ALPN, in preference order.
    alpn_protocols: Vec<Vec<u8>>,
    /// Sessions remembered to resume later connections (0: none).
    session_cache_size: usize,
}

impl Default for TlsClientBuilder {
    fn default() -> Self {
        TlsClientBuilder {
            validate_cert: true,
            ca_certs: None,
            client_cert: None,
            alpn_protocols: Vec::new(),
            session_cache_size: DEFAULT_SESSION_CACHE_SIZE,
        }
    }
}

impl TlsClientBuilder {
    /// Whether to check the server's certificate (Tornado's `validate_cert`). Default is
    /// `true`.
    ///
    /// # Danger
    ///
    /// With `false` any certificate is accepted, whoever issued it and whatever name it
    /// carries: the connection is encrypted but anyone on the path can pose as the server.
    /// Use it for tests and hosts you control, never for the public internet. The server must
    /// still prove it holds the key of the certificate it shows.
    pub fn validate_cert(mut self, validate: bool) -> Self {
        self.validate_cert = validate;
        self
    }

    /// Trusts these CA certificates (PEM text) instead of Mozilla's roots (Tornado's
    /// `ca_certs`): for a private CA or a self-signed server. Default is Mozilla's roots.
    pub fn ca_certs_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.ca_certs = Some(PemSource::Bytes(pem.into()));
        self
    }

    /// Like [`ca_certs_pem`](Self::ca_certs_pem), from a PEM file, read by `build`.
    pub fn ca_certs_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_certs = Some(PemSource::File(path.into()));
        self
    }

    /// Presents this certificate chain and key (PEM text; PKCS#8, RSA or SEC1 key) to servers
    /// that ask for one (Tornado's `client_cert` and `client_key`). Default is none.
    pub fn client_cert_pem(
        mut self,
        cert_chain: impl Into<Vec<u8>>,
        private_key: impl Into<Vec<u8>>,
    ) -> Self {
        self.client_cert = Some((
            PemSource::Bytes(cert_chain.into()),
            PemSource::Bytes(private_key.into()),
        ));
        self
    }

    /// Like [`client_cert_pem`](Self::client_cert_pem), from PEM files, read by `build`.
    pub fn client_cert_files(
        mut self,
        cert_chain: impl Into<PathBuf>,
        private_key: impl Into<PathBuf>,
    ) -> Self {
        self.client_cert = Some((
            PemSource::File(cert_chain.into()),
            PemSource::File(private_key.into()),
        ));
        self
    }

    /// Protocols to offer with ALPN, most preferred first, such as `["http/1.1"]`. Default is
    /// none (ALPN is not used).
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

    /// How many sessions (per server name) this configuration remembers, so that a later
    /// connection to the same server resumes instead of repeating the full handshake. Every
    /// connection made with clones of one built configuration shares them. 0 turns resumption
    /// off. Default is 256.
    pub fn session_cache_size(mut self, sessions: usize) -> Self {
        self.session_cache_size = sessions;
        self
    }

    /// Reads and checks everything, giving the configuration to connect with.
    pub fn build(self) -> Result<TlsClientConfig, TlsConfigError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsConfigError::Rustls)?;
        let builder = if !self.validate_cert {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AcceptAnyServerCert { provider }))
        } else {
            let roots = match &self.ca_certs {
                Some(ca_certs) => ca_certs.root_store("CA certificates")?,
                None => RootCertStore {
                    roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
                },
            };
            builder.with_root_certificates(roots)
        };
        let mut config = match &self.client_cert {
            None => builder.with_no_client_auth(),
            Some((cert_chain, private_key)) => {
                let chain = cert_chain.certificates("client certificate chain")?;
                let key = private_key.private_key("client private key")?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|error| match error {
                        rustls::Error::InconsistentKeys(_) => TlsConfigError::KeyMismatch(error),
                        error => TlsConfigError::Rustls(error),
                    })?
            }
        };
        config.alpn_protocols = self.alpn_protocols;
        config.resumption = if self.session_cache_size == 0 {
            Resumption::disabled()
        } else {
            Resumption::in_memory_sessions(self.session_cache_size)
        };
        Ok(TlsClientConfig {
            rustls: Arc::new(config),
        })
    }
}

/// Tornado's `validate_cert=False`: accepts every server certificate without looking at who
/// issued it or which names it carries. Handshake signatures are still verified, so the server
/// must hold the key of the certificate it shows; that proves nothing about who it is.
#[derive(Debug)]
struct AcceptAnyServerCert {
    /// Supplies the signature algorithms the handshake signatures are checked with.
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for AcceptAnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
