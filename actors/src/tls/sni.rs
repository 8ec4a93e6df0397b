//! Several certificates on one listener, chosen by the host name the client asks for in its
//! `ClientHello` (Server Name Indication, RFC 6066 §3): Tornado gets this from an
//! `ssl.SSLContext` with an `sni_callback`; here it is [`TlsServerBuilder::sni_cert_pem`]
//! and [`TlsServerBuilder::sni_cert_files`].
//!
//! [`TlsServerBuilder::sni_cert_pem`]: super::TlsServerBuilder::sni_cert_pem
//! [`TlsServerBuilder::sni_cert_files`]: super::TlsServerBuilder::sni_cert_files

use std::collections::HashMap;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::error::TlsConfigError;
use super::pem::PemSource;

/// One host's certificate, as configured (read by `build`).
#[derive(Debug, Clone)]
pub(crate) struct SniEntry {
    /// `example.com`, or `*.example.com` for any one label before `example.com`.
    pub(crate) name: String,
    /// Its certificate chain.
    pub(crate) chain: PemSource,
    /// Its private key.
    pub(crate) key: PemSource,
}

/// A chain and key, read, parsed and checked to belong together.
pub(crate) fn certified_key(
    chain: &PemSource,
    key: &PemSource,
    provider: &CryptoProvider,
) -> Result<Arc<CertifiedKey>, TlsConfigError> {
    let chain = chain.certificates("certificate chain")?;
    let key = key.private_key("private key")?;
    CertifiedKey::from_der(chain, key, provider)
        .map(Arc::new)
        .map_err(|error| match error {
            rustls::Error::InconsistentKeys(_) => TlsConfigError::KeyMismatch(error),
            error => TlsConfigError::Rustls(error),
        })
}

/// Picks the certificate for the name in the client's hello: an exact name first, then a
/// `*.` pattern covering it, then the default (also for clients that send no name, as those
/// connecting to an IP address do). With no default, an unknown name fails the handshake.
#[derive(Debug)]
pub(crate) struct SniResolver {
    /// Exact names, lower-cased.
    exact: HashMap<String, Arc<CertifiedKey>>,
    /// `*.example.com` patterns, kept as `example.com` (lower-cased).
    wildcards: HashMap<String, Arc<CertifiedKey>>,
    /// The certificate for every other client.
    default: Option<Arc<CertifiedKey>>,
}

impl SniResolver {
    /// Reads every entry's certificate and key.
    pub(crate) fn new(
        entries: &[SniEntry],
        default: Option<Arc<CertifiedKey>>,
        provider: &CryptoProvider,
    ) -> Result<SniResolver, TlsConfigError> {
        let mut resolver = SniResolver {
            exact: HashMap::new(),
            wildcards: HashMap::new(),
            default,
        };
        for entry in entries {
            let name = entry.name.trim_end_matches('.').to_ascii_lowercase();
            let (table, key) = match name.strip_prefix("*.") {
                Some(suffix) => (&mut resolver.wildcards, suffix.to_owned()),
                None => (&mut resolver.exact, name.clone()),
            };
            let plain = !key.is_empty()
                && key.split('.').all(|label| {
                    !label.is_empty()
                        && label
                            .bytes()
                            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
                });
            if !plain {
                return Err(TlsConfigError::BadSniName(entry.name.clone()));
            }
            table.insert(key, certified_key(&entry.chain, &entry.key, provider)?);
        }
        Ok(resolver)
    }

    /// The certificate for `name` (as the client sent it), or the default.
    fn pick(&self, name: Option<&str>) -> Option<Arc<CertifiedKey>> {
        let Some(name) = name else {
            return self.default.clone();
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(key) = self.exact.get(&name) {
            return Some(key.clone());
        }
        name.split_once('.')
            .and_then(|(first, rest)| {
                (!first.is_empty())
                    .then(|| self.wildcards.get(rest))
                    .flatten()
            })
            .or(self.default.as_ref())
            .cloned()
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.pick(client_hello.server_name())
    }
}
