//! https and proxies: a TLS origin with a certificate from an rcgen CA, a plain HTTP proxy
//! that must see absolute-form targets, and a CONNECT proxy that tunnels TLS.

mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use cyclone::httpclient::{AsyncHttpClient, HttpClientError, HttpRequest};
use cyclone::tls::TlsServerConfig;
use cyclone::tls::tokio_rustls::TlsAcceptor;
use support::raw_server::{Request, echo, ok, read_request_head, serve, serve_each, tunnel};
use support::tls::Pki;
use support::wait::bounded;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// A test CA, its PEM written to a file (`ca_certs` takes a path), and the TLS config of a
/// server whose certificate it issued for `localhost` and `127.0.0.1`.
fn pki(name: &str) -> (PathBuf, TlsServerConfig) {
    let pki = Pki::generate();
    (pki.ca_file(name), pki.server().build().unwrap())
}

/// An https server answering every request on a connection with its request line.
async fn https_server(tls: TlsServerConfig) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    let acceptor = TlsAcceptor::from(tls.rustls().clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buf = Vec::new();
                while let Some(request) = read_request_head(&mut tls, &mut buf).await {
                    let answer = ok(format!("secure: {}", request.line).as_bytes());
                    if tls.write_all(&answer).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, accepted)
}

#[actix_rt::test]
async fn https_with_a_trusted_ca_works_and_keeps_the_connection() {
    let (ca, tls) = pki("trusted");
    let (port, accepted) = https_server(tls).await;
    let client = AsyncHttpClient::new();
    for host in ["localhost", "localhost", "127.0.0.1"] {
        let request = HttpRequest::new(format!("https://{host}:{port}/secret?x=1")).ca_certs(&ca);
        let response = bounded(client.fetch(request)).await.unwrap();
        assert_eq!(&response.body[..], b"secure: GET /secret?x=1 HTTP/1.1");
    }
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "one connection per host name, reused"
    );
}

#[actix_rt::test]
async fn an_untrusted_certificate_fails_unless_validation_is_off() {
    let (_ca, tls) = pki("untrusted");
    let (port, _) = https_server(tls).await;
    let client = AsyncHttpClient::new();
    let url = format!("https://localhost:{port}/");
    let error = bounded(client.fetch(url.as_str())).await.unwrap_err();
    assert!(matches!(error, HttpClientError::Tls(_)), "{error:?}");
    let response = bounded(client.fetch(HttpRequest::new(url).validate_cert(false)))
        .await
        .unwrap();
    assert_eq!(response.code, 200);

    let error = bounded(client.fetch(
        HttpRequest::new(format!("https://localhost:{port}/")).ca_certs("/nonexistent/ca.pem"),
    ))
    .await
    .unwrap_err();
    assert!(matches!(error, HttpClientError::TlsConfig(_)), "{error:?}");
}

#[actix_rt::test]
async fn a_plain_proxy_gets_absolute_form_and_proxy_credentials() {
    let proxy = serve_each(echo).await;
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new("http://user:pw@origin.test:8080/path?q=1")
        .proxy("127.0.0.1", proxy.addr.port())
        .proxy_auth("proxyuser", "proxypass");
    let response = bounded(client.fetch(request)).await.unwrap();
    let text = String::from_utf8_lossy(&response.body).into_owned();
    assert!(
        text.starts_with("GET http://origin.test:8080/path?q=1 HTTP/1.1\n"),
        "{text}"
    );
    assert!(text.contains("host: origin.test:8080\n"), "{text}");
    assert!(
        text.contains("proxy-authorization: Basic cHJveHl1c2VyOnByb3h5cGFzcw==\n"),
        "{text}"
    );
    assert!(
        text.contains("authorization: Basic dXNlcjpwdw==\n"),
        "{text}"
    );
}

#[actix_rt::test]
async fn https_through_a_proxy_uses_a_connect_tunnel() {
    let (ca, tls) = pki("tunnel");
    let (origin_port, _) = https_server(tls).await;
    let seen = Arc::new(Mutex::new(Vec::<Request>::new()));
    let proxy = {
        let seen = Arc::clone(&seen);
        serve(move |mut stream: TcpStream| {
            let seen = Arc::clone(&seen);
            async move {
                let mut buf = Vec::new();
                let Some(request) = read_request_head(&mut stream, &mut buf).await else {
                    return;
                };
                let target = request.target().to_owned();
                seen.lock().unwrap().push(request);
                if target.starts_with("refused") {
                    let _ = stream
                        .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
                tunnel(&mut stream, &target).await;
            }
        })
        .await
    };
    let client = AsyncHttpClient::new();
    let request = HttpRequest::new(format!("https://localhost:{origin_port}/tunnelled"))
        .ca_certs(&ca)
        .proxy("127.0.0.1", proxy.addr.port())
        .proxy_auth("u", "p");
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(&response.body[..], b"secure: GET /tunnelled HTTP/1.1");
    {
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen[0].line,
            format!("CONNECT localhost:{origin_port} HTTP/1.1")
        );
        assert_eq!(seen[0].header("proxy-authorization"), Some("Basic dTpw"));
    }

    let request = HttpRequest::new("https://refused.test/").proxy("127.0.0.1", proxy.addr.port());
    let error = bounded(client.fetch(request)).await.unwrap_err();
    assert!(
        matches!(error, HttpClientError::ProxyRefused(403)),
        "{error:?}"
    );
}
