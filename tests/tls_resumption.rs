//! TLS session resumption with rustls on both ends: a client that comes back resumes its
//! session (no certificate exchange) by the server's session cache, across the server's
//! workers, in TLS 1.3 and 1.2, or by stateless tickets; and neither side resumes when told
//! not to.

mod support;

use std::sync::Arc;

use cyclone::iostream::IoStream;
use cyclone::tls::rustls::pki_types::CertificateDer;
use cyclone::tls::rustls::pki_types::pem::PemObject;
use cyclone::tls::rustls::{self, ClientConfig, RootCertStore};
use cyclone::tls::{TlsClientConfig, TlsServerConfig, TlsStream};
use support::servers::tls_reporter;
use support::tls::Pki;
use support::wait::bounded;
use tokio::net::TcpStream;

/// A TLS server on two workers that answers each connection with `resumed` or `full` (what
/// its side of the handshake was), then closes; keep it while it should serve.
fn server(tls: TlsServerConfig) -> (impl Sized, u16) {
    tls_reporter(tls, Some(2), |stream| {
        let resumed = stream.is_some_and(TlsStream::session_reused);
        if resumed { "resumed" } else { "full" }.to_owned()
    })
}

/// One connection with `client`: whether the client resumed, and what the server saw. The
/// answer is read to the end, so that TLS 1.3's session tickets (sent after the handshake)
/// reach the client before it leaves.
async fn visit(client: &TlsClientConfig, port: u16) -> (bool, String) {
    let tcp = bounded(TcpStream::connect(("127.0.0.1", port)))
        .await
        .unwrap();
    let tls = bounded(client.handshake("localhost", tcp)).await.unwrap();
    let resumed = tls.session_reused();
    let mut stream = IoStream::new(tls);
    let answer = bounded(stream.read_until_close()).await.unwrap();
    let answer = String::from_utf8(answer.to_vec()).unwrap();
    (resumed, answer.trim_end().to_owned())
}

#[actix_rt::test]
async fn a_returning_client_resumes_by_default_on_any_worker() {
    let pki = Pki::generate();
    let (_server, port) = server(pki.server().build().unwrap());
    let client = pki.client();
    assert_eq!(visit(&client, port).await, (false, "full".to_owned()));
    // Several visits: with two workers, accepts land on both, and they share the cache.
    for _ in 0..4 {
        assert_eq!(visit(&client, port).await, (true, "resumed".to_owned()));
    }
    // Another client configuration has no session to resume.
    assert_eq!(visit(&pki.client(), port).await, (false, "full".to_owned()));
}

#[actix_rt::test]
async fn tls_1_2_sessions_resume_too() {
    let pki = Pki::generate();
    let (_server, port) = server(pki.server().build().unwrap());
    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(pki.ca.as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls12 = ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = TlsClientConfig::from_rustls(Arc::new(tls12));
    assert_eq!(visit(&client, port).await, (false, "full".to_owned()));
    assert_eq!(visit(&client, port).await, (true, "resumed".to_owned()));
}

#[actix_rt::test]
async fn stateless_tickets_resume_without_a_server_cache() {
    let pki = Pki::generate();
    let tls = pki
        .server()
        .session_cache_size(0)
        .session_tickets(true)
        .build()
        .unwrap();
    let (_server, port) = server(tls);
    let client = pki.client();
    assert_eq!(visit(&client, port).await, (false, "full".to_owned()));
    assert_eq!(visit(&client, port).await, (true, "resumed".to_owned()));
}

#[actix_rt::test]
async fn resumption_turned_off_on_either_side_means_full_handshakes() {
    let pki = Pki::generate();
    let (_server, port) = server(pki.server().session_cache_size(0).build().unwrap());
    let client = pki.client();
    for _ in 0..3 {
        assert_eq!(visit(&client, port).await, (false, "full".to_owned()));
    }

    let (_server, port) = server(pki.server().build().unwrap());
    let forgetful = TlsClientConfig::builder()
        .ca_certs_pem(pki.ca.as_bytes())
        .session_cache_size(0)
        .build()
        .unwrap();
    for _ in 0..3 {
        assert_eq!(visit(&forgetful, port).await, (false, "full".to_owned()));
    }
}
