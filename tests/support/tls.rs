//! Test certificates made by rcgen: one CA, a server certificate it issued for `localhost` and
//! 127.0.0.1, and a client certificate for mutual TLS.

use std::path::PathBuf;

use cyclone::tls::{TlsClientConfig, TlsServerBuilder, TlsServerConfig};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// A test PKI: one CA, and a server and a client certificate it issued.
pub struct Pki {
    /// The CA certificate (PEM), to trust on either side.
    pub ca: String,
    /// Server certificate for `localhost` and 127.0.0.1 (PEM).
    pub server_cert: String,
    /// Its key (PKCS#8 PEM).
    pub server_key: String,
    /// Client certificate for mutual TLS (PEM).
    pub client_cert: String,
    /// Its key.
    pub client_key: String,
    /// The CA, to issue more certificates with: its certificate and its key.
    issuer: (Certificate, KeyPair),
}

impl Pki {
    /// A fresh PKI; every call makes new keys, so two are strangers to each other.
    pub fn generate() -> Pki {
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "cyclone test CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_key = KeyPair::generate().unwrap();
        let ca = (ca_params.self_signed(&ca_key).unwrap(), ca_key);

        let issue = |names: Vec<String>, usage: ExtendedKeyUsagePurpose| issue(&ca, names, usage);
        let (server_cert, server_key) = issue(
            vec!["localhost".into(), "127.0.0.1".into()],
            ExtendedKeyUsagePurpose::ServerAuth,
        );
        let (client_cert, client_key) = issue(
            vec!["client.test".into()],
            ExtendedKeyUsagePurpose::ClientAuth,
        );
        Pki {
            ca: ca.0.pem(),
            server_cert,
            server_key,
            client_cert,
            client_key,
            issuer: ca,
        }
    }

    /// A server certificate (PEM) and key for `names` (host names, `*.` patterns or IP
    /// addresses), issued by this PKI's CA.
    pub fn issue_server(&self, names: &[&str]) -> (String, String) {
        issue(
            &self.issuer,
            names.iter().map(|name| (*name).to_owned()).collect(),
            ExtendedKeyUsagePurpose::ServerAuth,
        )
    }

    /// A server config with this PKI's certificate, left open for more settings.
    pub fn server(&self) -> TlsServerBuilder {
        TlsServerConfig::builder()
            .cert_chain_pem(self.server_cert.as_bytes())
            .private_key_pem(self.server_key.as_bytes())
    }

    /// A client that trusts this PKI's CA.
    pub fn client(&self) -> TlsClientConfig {
        TlsClientConfig::builder()
            .ca_certs_pem(self.ca.as_bytes())
            .build()
            .unwrap()
    }

    /// The CA written to a file of its own (named after `name` and this process), for APIs
    /// that take a path.
    pub fn ca_file(&self, name: &str) -> PathBuf {
        let path =
            std::env::temp_dir().join(format!("cyclone-test-ca-{name}-{}.pem", std::process::id()));
        std::fs::write(&path, &self.ca).unwrap();
        path
    }
}

/// A certificate for `names` with `usage`, signed by `ca`: its PEM and its key's.
fn issue(
    (ca, ca_key): &(Certificate, KeyPair),
    names: Vec<String>,
    usage: ExtendedKeyUsagePurpose,
) -> (String, String) {
    let mut params = CertificateParams::new(names).unwrap();
    params.extended_key_usages = vec![usage];
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, ca, ca_key).unwrap();
    (cert.pem(), key.serialize_pem())
}
