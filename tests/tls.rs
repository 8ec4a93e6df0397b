//! TLS over real sockets with certificates made by rcgen: a self-signed CA issues a server
//! certificate for `localhost` and 127.0.0.1 and a client certificate. Covers the echo
//! exchange, certificate checks on the client (untrusted, `validate_cert(false)`, `ca_certs`,
//! wrong name), client certificates, the handshake timeout, plaintext on the TLS port,
//! shutdown during a handshake, workers, and configuration errors.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cyclone::iostream::IoStream;
use cyclone::netutil::Family;
use cyclone::netutil::OverrideResolver;
use cyclone::tcpclient::{ConnectError, ConnectOptions, TcpClient};
use cyclone::tcpserver::{ConnectionInfo, StreamFactory, TcpServer};
use cyclone::tls::rustls::{self, CertificateError};
use cyclone::tls::{
    HandshakeError, TlsClientConfig, TlsConfigError, TlsFactory, TlsServerConfig, TlsStream,
};
use support::raw_http::plaintext_to_tls;
use support::servers::{listen_tcp, start_tcp};
use support::tls::Pki;
use support::wait::{self, WAIT};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::timeout;

/// What a test server tells the test about each connection it serves.
#[derive(Debug)]
struct Seen {
    /// SNI the client sent.
    server_name: Option<String>,
    /// ALPN agreed on.
    alpn: Option<Vec<u8>>,
    /// How many certificates the client presented.
    client_certificates: usize,
}

/// A TLS echo server on 127.0.0.1 that reports each connection on `seen`; lines are echoed
/// until the client sends `bye\n`, which is answered with `bye` and a close.
fn echo_server(
    tls: TlsServerConfig,
    seen: mpsc::UnboundedSender<Seen>,
) -> TcpServer<TlsFactory<impl cyclone::tcpserver::ServeConnection<TlsStream<TcpStream>>>> {
    let handler = move |mut stream: IoStream<TlsStream<TcpStream>>, _info: ConnectionInfo| {
        let seen = seen.clone();
        async move {
            if let Some(tls) = stream.get_ref() {
                let _ = seen.send(Seen {
                    server_name: tls.server_name().map(str::to_owned),
                    alpn: tls.alpn_protocol().map(<[u8]>::to_vec),
                    client_certificates: tls.peer_certificates().map_or(0, <[_]>::len),
                });
            }
            while let Ok(line) = stream.read_until(b"\n", Some(1024)).await {
                if &line[..] == b"bye\n" {
                    let _ = stream.write(&b"bye"[..]).await;
                    break;
                }
                if stream.write(line).await.is_err() {
                    break;
                }
            }
        }
    };
    TcpServer::with_factory(TlsFactory::new(StreamFactory::new(handler), tls))
}

/// Connect options that stay on IPv4, where the test servers listen.
fn v4() -> ConnectOptions {
    ConnectOptions::new().family(Family::V4).timeout(WAIT)
}

/// Sends a line and expects it back.
async fn round_trip(stream: &mut IoStream<TlsStream<TcpStream>>, line: &[u8]) {
    timeout(WAIT, stream.write(line.to_vec()))
        .await
        .unwrap()
        .unwrap();
    let echoed = timeout(WAIT, stream.read_until(b"\n", Some(1024)))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&echoed[..], line);
}

#[actix_rt::test]
async fn echo_over_tls_with_sni_alpn_and_a_clean_close() {
    let pki = Pki::generate();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let tls = pki.server().alpn_protocols(["http/1.1"]).build().unwrap();
    let mut server = echo_server(tls, seen_tx);
    let port = listen_tcp(&mut server).port();

    let client_tls = TlsClientConfig::builder()
        .ca_certs_pem(pki.ca.as_bytes())
        .alpn_protocols(["h2", "http/1.1"])
        .build()
        .unwrap();
    let mut stream = TcpClient::new()
        .connect_tls("localhost", port, &v4(), &client_tls)
        .await
        .unwrap();
    assert_eq!(stream.peer_addr().unwrap().port(), port);
    round_trip(&mut stream, b"hello over TLS\n").await;
    round_trip(
        &mut stream,
        &[b'x'; 1000]
            .iter()
            .chain(b"\n")
            .copied()
            .collect::<Vec<_>>(),
    )
    .await;

    let seen = timeout(WAIT, seen_rx.recv()).await.unwrap().unwrap();
    assert_eq!(seen.server_name.as_deref(), Some("localhost"));
    assert_eq!(seen.alpn.as_deref(), Some(&b"http/1.1"[..]));
    assert_eq!(seen.client_certificates, 0);
    let client_side = stream.get_ref().unwrap();
    assert_eq!(client_side.alpn_protocol(), Some(&b"http/1.1"[..]));
    assert_eq!(client_side.peer_certificates().map(<[_]>::len), Some(1));

    // The server closes after "bye": close_notify makes that a clean end of file, so
    // read_until_close hands over the last bytes instead of a truncation error.
    stream.write(&b"bye\n"[..]).await.unwrap();
    let rest = timeout(WAIT, stream.read_until_close())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&rest[..], b"bye");
    assert!(server.registry().wait_empty(WAIT).await);
}

#[actix_rt::test]
async fn client_refuses_a_certificate_from_an_unknown_ca() {
    let pki = Pki::generate();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let mut server = echo_server(pki.server().build().unwrap(), seen_tx);
    let port = listen_tcp(&mut server).port();

    // Mozilla's roots do not include our test CA.
    let public_roots = TlsClientConfig::builder().build().unwrap();
    let result = TcpClient::new()
        .connect_tls("127.0.0.1", port, &v4(), &public_roots)
        .await;
    match result {
        Err(ConnectError::Tls {
            host,
            port: refused_port,
            source:
                HandshakeError::Tls(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)),
        }) => {
            assert_eq!(host, "127.0.0.1");
            assert_eq!(refused_port, port);
        }
        other => panic!("expected an unknown-issuer error, got {other:?}"),
    }
    // The server side failed too: its slot is released and the handler never ran.
    assert!(server.registry().wait_empty(WAIT).await);
    assert!(seen_rx.try_recv().is_err());
}

#[actix_rt::test]
async fn ca_certs_trust_a_private_ca_but_names_are_still_checked() {
    let pki = Pki::generate();
    let (seen_tx, _seen_rx) = mpsc::unbounded_channel();
    let mut server = echo_server(pki.server().build().unwrap(), seen_tx);
    let port = listen_tcp(&mut server).port();

    // By IP address: the certificate's IP SAN matches.
    let mut stream = TcpClient::new()
        .connect_tls("127.0.0.1", port, &v4(), &pki.client())
        .await
        .unwrap();
    round_trip(&mut stream, b"trusted\n").await;
    drop(stream);

    // A name the certificate does not carry, resolved to the same server.
    let client =
        TcpClient::with_resolver(OverrideResolver::new().map_host("wrong.test", "127.0.0.1"));
    match client
        .connect_tls("wrong.test", port, &v4(), &pki.client())
        .await
    {
        Err(ConnectError::Tls {
            source:
                HandshakeError::Tls(rustls::Error::InvalidCertificate(
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. },
                )),
            ..
        }) => {}
        other => panic!("expected a name mismatch, got {other:?}"),
    }
    assert!(server.registry().wait_empty(WAIT).await);
}

#[actix_rt::test]
async fn validate_cert_false_accepts_any_certificate() {
    let pki = Pki::generate();
    let (seen_tx, _seen_rx) = mpsc::unbounded_channel();
    let mut server = echo_server(pki.server().build().unwrap(), seen_tx);
    let port = listen_tcp(&mut server).port();

    // Unknown issuer and a wrong name: both accepted.
    let insecure = TlsClientConfig::builder()
        .validate_cert(false)
        .build()
        .unwrap();
    let client =
        TcpClient::with_resolver(OverrideResolver::new().map_host("wrong.test", "127.0.0.1"));
    let mut stream = client
        .connect_tls("wrong.test", port, &v4(), &insecure)
        .await
        .unwrap();
    round_trip(&mut stream, b"anything goes\n").await;
}

#[actix_rt::test]
async fn required_client_certificate_on_worker_threads() {
    let pki = Pki::generate();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let tls = pki
        .server()
        .client_ca_pem(pki.ca.as_bytes())
        .build()
        .unwrap();
    let mut server = echo_server(tls, seen_tx);
    let port = start_tcp(&mut server, 2).port();

    // Without a certificate. In TLS 1.3 the client finishes its half of the handshake before
    // the server has checked anything, so the refusal (an alert) arrives on the first read.
    let anonymous = TcpClient::new()
        .connect_tls("127.0.0.1", port, &v4(), &pki.client())
        .await;
    let refused = match anonymous {
        Err(ConnectError::Tls { source, .. }) => Some(source.to_string()),
        Err(other) => panic!("unexpected error {other:?}"),
        Ok(mut stream) => {
            let _ = stream.write(&b"let me in\n"[..]).await;
            let read = timeout(WAIT, stream.read_until(b"\n", Some(1024)))
                .await
                .unwrap();
            assert!(read.is_err(), "a client without a certificate was served");
            stream.close_reason().map(|reason| reason.to_string())
        }
    };
    let refused = refused.unwrap_or_default();
    assert!(
        refused.contains("Certificate") || refused.contains("certificate"),
        "refusal should name the missing certificate: {refused}"
    );
    assert!(server.registry().wait_empty(WAIT).await);
    assert!(
        seen_rx.try_recv().is_err(),
        "the handler ran without a client certificate"
    );

    // With one.
    let mutual = TlsClientConfig::builder()
        .ca_certs_pem(pki.ca.as_bytes())
        .client_cert_pem(pki.client_cert.as_bytes(), pki.client_key.as_bytes())
        .build()
        .unwrap();
    let mut stream = TcpClient::new()
        .connect_tls("127.0.0.1", port, &v4(), &mutual)
        .await
        .unwrap();
    round_trip(&mut stream, b"mutual\n").await;
    let seen = timeout(WAIT, seen_rx.recv()).await.unwrap().unwrap();
    assert_eq!(seen.client_certificates, 1);
    drop(stream);
    let report = timeout(WAIT, server.shutdown(Duration::from_secs(2)))
        .await
        .unwrap();
    assert_eq!(report.remaining, 0);
}

#[actix_rt::test]
async fn a_silent_client_loses_its_slot_at_the_handshake_timeout() {
    let pki = Pki::generate();
    let handshake_timeout = Duration::from_millis(300);
    let (seen_tx, _seen_rx) = mpsc::unbounded_channel();
    let tls = pki
        .server()
        .handshake_timeout(handshake_timeout)
        .build()
        .unwrap();
    let mut server = echo_server(tls, seen_tx);
    let port = listen_tcp(&mut server).port();

    let started = Instant::now();
    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    wait::until("the server lists the connection", || {
        server.registry().len() == 1
    })
    .await;
    // The server hangs up on its own: the read sees end of file (or a reset).
    let mut buffer = [0u8; 64];
    let read = timeout(WAIT, silent.read(&mut buffer))
        .await
        .expect("never dropped");
    assert!(matches!(read, Ok(0) | Err(_)), "unexpected bytes: {read:?}");
    assert!(started.elapsed() >= handshake_timeout - Duration::from_millis(50));
    assert!(server.registry().wait_empty(WAIT).await);

    // The slot is free for the next client.
    let mut stream = TcpClient::new()
        .connect_tls("127.0.0.1", port, &v4(), &pki.client())
        .await
        .unwrap();
    round_trip(&mut stream, b"after the silent one\n").await;
}

#[actix_rt::test]
async fn plaintext_on_the_tls_port_is_dropped_and_the_next_client_served() {
    let pki = Pki::generate();
    let (seen_tx, mut seen_rx) = mpsc::unbounded_channel();
    let mut server = echo_server(pki.server().build().unwrap(), seen_tx);
    let port = listen_tcp(&mut server).port();

    // At most a TLS alert comes back, then the connection closes, well before the 10 s
    // handshake timeout: rustls refuses the bytes at once.
    let answer = plaintext_to_tls(port).await;
    assert!(
        answer.len() < 64,
        "more than an alert came back: {answer:?}"
    );
    assert!(server.registry().wait_empty(WAIT).await);
    assert!(seen_rx.try_recv().is_err());

    let mut stream = TcpClient::new()
        .connect_tls("127.0.0.1", port, &v4(), &pki.client())
        .await
        .unwrap();
    round_trip(&mut stream, b"still serving\n").await;
}

#[actix_rt::test]
async fn shutdown_closes_connections_still_in_their_handshake() {
    let pki = Pki::generate();
    let (seen_tx, _seen_rx) = mpsc::unbounded_channel();
    // The default 10 s timeout: shutdown must not wait for it.
    let mut server = echo_server(pki.server().build().unwrap(), seen_tx);
    let port = listen_tcp(&mut server).port();

    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    wait::until("the server lists the connection", || {
        server.registry().len() == 1
    })
    .await;
    let report = timeout(
        Duration::from_secs(5),
        server.shutdown(Duration::from_secs(3)),
    )
    .await
    .expect("shutdown waited for the handshake timeout");
    assert_eq!(
        (report.finished, report.forced, report.remaining),
        (1, 0, 0)
    );
    let mut buffer = [0u8; 64];
    let read = timeout(WAIT, silent.read(&mut buffer))
        .await
        .expect("never dropped");
    assert!(matches!(read, Ok(0) | Err(_)));
}

#[actix_rt::test]
async fn new_tls_serves_a_handle_stream_closure() {
    let pki = Pki::generate();
    let served = Arc::new(AtomicUsize::new(0));
    let counter = served.clone();
    let mut server = TcpServer::new_tls(
        move |mut stream: IoStream<TlsStream<TcpStream>>, _info: ConnectionInfo| {
            counter.fetch_add(1, Ordering::SeqCst);
            async move {
                let _ = stream.write(&b"hello\n"[..]).await;
            }
        },
        pki.server().build().unwrap(),
    );
    let port = listen_tcp(&mut server).port();
    let mut stream = TcpClient::new()
        .connect_tls("localhost", port, &v4(), &pki.client())
        .await
        .unwrap();
    let greeting = timeout(WAIT, stream.read_until_close())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&greeting[..], b"hello\n");
    assert_eq!(served.load(Ordering::SeqCst), 1);
}

#[test]
fn configuration_errors_are_typed() {
    let pki = Pki::generate();
    let other = Pki::generate();

    let mismatch = TlsServerConfig::builder()
        .cert_chain_pem(pki.server_cert.as_bytes())
        .private_key_pem(other.server_key.as_bytes())
        .build();
    assert!(
        matches!(mismatch, Err(TlsConfigError::KeyMismatch(_))),
        "{mismatch:?}"
    );

    let no_key = TlsServerConfig::builder()
        .cert_chain_pem(pki.server_cert.as_bytes())
        .private_key_pem(pki.server_cert.as_bytes())
        .build();
    assert!(
        matches!(no_key, Err(TlsConfigError::NoPrivateKey { .. })),
        "{no_key:?}"
    );

    let no_cert = TlsServerConfig::builder()
        .cert_chain_pem(&b"not PEM at all"[..])
        .private_key_pem(pki.server_key.as_bytes())
        .build();
    assert!(
        matches!(no_cert, Err(TlsConfigError::NoCertificates { .. })),
        "{no_cert:?}"
    );

    let missing = TlsServerConfig::builder()
        .cert_chain_pem(pki.server_cert.as_bytes())
        .build();
    assert!(
        matches!(missing, Err(TlsConfigError::Missing("private key"))),
        "{missing:?}"
    );

    let no_file = TlsServerConfig::builder()
        .cert_chain_file("/nonexistent/cyclone/cert.pem")
        .private_key_pem(pki.server_key.as_bytes())
        .build();
    match no_file {
        Err(TlsConfigError::Read { what, path, .. }) => {
            assert_eq!(what, "certificate chain");
            assert_eq!(path, std::path::Path::new("/nonexistent/cyclone/cert.pem"));
        }
        other => panic!("expected a read error, got {other:?}"),
    }

    let bad_ca = TlsClientConfig::builder().ca_certs_pem(&b""[..]).build();
    assert!(
        matches!(bad_ca, Err(TlsConfigError::NoCertificates { .. })),
        "{bad_ca:?}"
    );

    let client_mismatch = TlsClientConfig::builder()
        .client_cert_pem(pki.client_cert.as_bytes(), other.client_key.as_bytes())
        .build();
    assert!(
        matches!(client_mismatch, Err(TlsConfigError::KeyMismatch(_))),
        "{client_mismatch:?}"
    );
}

#[test]
fn pem_files_are_read_by_build() {
    let pki = Pki::generate();
    let dir = std::env::temp_dir().join(format!("cyclone-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    std::fs::write(&cert, &pki.server_cert).unwrap();
    std::fs::write(&key, &pki.server_key).unwrap();
    let built = TlsServerConfig::builder()
        .cert_chain_file(&cert)
        .private_key_file(&key)
        .build();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(built.is_ok(), "{built:?}");
}
