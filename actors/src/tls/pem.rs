//! PEM input: where it comes from (bytes or a file) and how certificates and keys are read
//! out of it.

use std::io::Read;
use std::path::PathBuf;

use rustls::RootCertStore;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::error::TlsConfigError;

/// The largest PEM file a config reads: 16 MiB, far above any certificate chain or CA bundle
/// (the whole Mozilla bundle is about 250 KiB), so a wrong path such as a log file or a device
/// fails quickly instead of filling memory.
pub const MAX_PEM_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// PEM text, given as bytes or as a file read when the config is built.
#[derive(Debug, Clone)]
pub(crate) enum PemSource {
    /// Text already in memory.
    Bytes(Vec<u8>),
    /// A file, read by `build()` so every error surfaces in one place.
    File(PathBuf),
}

impl PemSource {
    /// The PEM text, read from its file if need be (at most [`MAX_PEM_FILE_SIZE`]).
    fn text(&self, what: &'static str) -> Result<std::borrow::Cow<'_, [u8]>, TlsConfigError> {
        let path = match self {
            PemSource::Bytes(bytes) => return Ok(std::borrow::Cow::Borrowed(bytes)),
            PemSource::File(path) => path,
        };
        let read_error = |source| TlsConfigError::Read {
            what,
            path: path.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut text = Vec::new();
        // One byte past the limit tells "exactly at the limit" from "over it".
        file.take(MAX_PEM_FILE_SIZE + 1)
            .read_to_end(&mut text)
            .map_err(read_error)?;
        if text.len() as u64 > MAX_PEM_FILE_SIZE {
            return Err(TlsConfigError::TooLarge {
                what,
                path: path.clone(),
                limit: MAX_PEM_FILE_SIZE,
            });
        }
        Ok(std::borrow::Cow::Owned(text))
    }

    /// Every `CERTIFICATE` section, in order; at least one.
    pub(crate) fn certificates(
        &self,
        what: &'static str,
    ) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
        let text = self.text(what)?;
        let certificates = CertificateDer::pem_slice_iter(&text)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| TlsConfigError::BadPem { what, source })?;
        if certificates.is_empty() {
            return Err(TlsConfigError::NoCertificates { what });
        }
        Ok(certificates)
    }

    /// The first private key: PKCS#8, PKCS#1 (RSA) or SEC1 (EC).
    pub(crate) fn private_key(
        &self,
        what: &'static str,
    ) -> Result<PrivateKeyDer<'static>, TlsConfigError> {
        let text = self.text(what)?;
        PrivateKeyDer::from_pem_slice(&text).map_err(|error| match error {
            pem::Error::NoItemsFound => TlsConfigError::NoPrivateKey { what },
            source => TlsConfigError::BadPem { what, source },
        })
    }

    /// A trust store holding every certificate of this PEM text.
    pub(crate) fn root_store(&self, what: &'static str) -> Result<RootCertStore, TlsConfigError> {
        let mut roots = RootCertStore::empty();
        for certificate in self.certificates(what)? {
            roots.add(certificate).map_err(TlsConfigError::Rustls)?;
        }
        Ok(roots)
    }
}
