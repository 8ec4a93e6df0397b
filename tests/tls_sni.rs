//! Several hosts on one TLS listener: the server picks the certificate for the name the
//! client sends with SNI (exact names, then `*.` patterns, then the default), with rustls on
//! both ends and every client verifying the certificate it gets against the test CA.

mod support;

use cyclone::iostream::IoStream;
use cyclone::tls::rustls::pki_types::CertificateDer;
use cyclone::tls::rustls::pki_types::pem::PemObject;
use cyclone::tls::{HandshakeError, TlsClientConfig, TlsConfigError, TlsServerConfig, TlsStream};
use support::servers::tls_reporter;
use support::tls::Pki;
use support::wait::bounded;
use tokio::net::TcpStream;

/// The DER of the first certificate in `pem`.
fn der(pem: &str) -> CertificateDer<'static> {
    CertificateDer::from_pem_slice(pem.as_bytes()).unwrap()
}

/// A TLS server on 127.0.0.1 that writes back the SNI name it saw (or `-`), then closes;
/// keep it for as long as it should serve.
fn name_server(tls: TlsServerConfig) -> (impl Sized, u16) {
    tls_reporter(tls, None, |stream| {
        stream
            .and_then(TlsStream::server_name)
            .unwrap_or("-")
            .to_owned()
    })
}

/// Connects to `port` asking for `name` (no SNI for an IP address) and returns the
/// certificate the server showed and the name it says it saw.
async fn visit(
    client: &TlsClientConfig,
    port: u16,
    name: &str,
) -> Result<(CertificateDer<'static>, String), HandshakeError> {
    let tcp = bounded(TcpStream::connect(("127.0.0.1", port)))
        .await
        .unwrap();
    let tls = bounded(client.handshake(name, tcp)).await?;
    let shown = tls.peer_certificates().unwrap()[0].clone();
    let mut stream = IoStream::new(tls);
    let line = bounded(stream.read_until(b"\n", Some(256))).await.unwrap();
    let seen = String::from_utf8(line.to_vec()).unwrap();
    Ok((shown, seen.trim_end().to_owned()))
}

#[actix_rt::test]
async fn each_host_gets_its_own_certificate_on_one_listener() {
    let pki = Pki::generate();
    let (a_cert, a_key) = pki.issue_server(&["a.test"]);
    let (b_cert, b_key) = pki.issue_server(&["b.test"]);
    let (wild_cert, wild_key) = pki.issue_server(&["*.wild.test"]);
    let tls = pki
        .server()
        .sni_cert_pem("a.test", a_cert.as_bytes(), a_key.as_bytes())
        .sni_cert_pem("B.Test", b_cert.as_bytes(), b_key.as_bytes())
        .sni_cert_pem("*.wild.test", wild_cert.as_bytes(), wild_key.as_bytes())
        .build()
        .unwrap();
    let (_server, port) = name_server(tls);
    let client = pki.client();

    for (name, expected) in [
        ("a.test", &a_cert),
        ("b.test", &b_cert),
        ("x.wild.test", &wild_cert),
        ("localhost", &pki.server_cert),
    ] {
        let (shown, seen) = visit(&client, port, name)
            .await
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(
            shown,
            der(expected),
            "{name} got another host's certificate"
        );
        assert_eq!(seen, name, "the server saw the name");
    }
    // No SNI (an IP address): the default certificate, which covers 127.0.0.1.
    let (shown, seen) = visit(&client, port, "127.0.0.1").await.unwrap();
    assert_eq!(shown, der(&pki.server_cert));
    assert_eq!(seen, "-");
    // A name nobody has a certificate for gets the default, which the client refuses: it
    // does not cover that name.
    let refused = visit(&client, port, "other.test").await.unwrap_err();
    assert!(refused.to_string().contains("certificate"), "{refused}");
    // A pattern covers one label only.
    assert!(visit(&client, port, "a.b.wild.test").await.is_err());
}

#[actix_rt::test]
async fn without_a_default_certificate_unknown_names_fail_the_handshake() {
    let pki = Pki::generate();
    let (a_cert, a_key) = pki.issue_server(&["a.test"]);
    let tls = TlsServerConfig::builder()
        .sni_cert_pem("a.test", a_cert.as_bytes(), a_key.as_bytes())
        .build()
        .unwrap();
    let (_server, port) = name_server(tls);
    let client = pki.client();
    let (shown, _) = visit(&client, port, "a.test").await.unwrap();
    assert_eq!(shown, der(&a_cert));
    assert!(visit(&client, port, "b.test").await.is_err());
    assert!(visit(&client, port, "127.0.0.1").await.is_err());
    // The server goes on after the refusals.
    assert!(visit(&client, port, "a.test").await.is_ok());
}

#[test]
fn sni_certificates_are_checked_when_built() {
    let pki = Pki::generate();
    let (a_cert, a_key) = pki.issue_server(&["a.test"]);
    let mismatched = pki
        .server()
        .sni_cert_pem("a.test", a_cert.as_bytes(), pki.server_key.as_bytes())
        .build()
        .unwrap_err();
    assert!(
        matches!(mismatched, TlsConfigError::KeyMismatch(_)),
        "{mismatched}"
    );
    for bad in ["", "*.", "a..test", "a test", "*.*.test", "a/b"] {
        let error = pki
            .server()
            .sni_cert_pem(bad, a_cert.as_bytes(), a_key.as_bytes())
            .build()
            .unwrap_err();
        assert!(
            matches!(error, TlsConfigError::BadSniName(_)),
            "{bad}: {error}"
        );
    }
    let nothing = TlsServerConfig::builder().build().unwrap_err();
    assert!(matches!(
        nothing,
        TlsConfigError::Missing("certificate chain")
    ));
}
