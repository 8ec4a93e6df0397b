//! The HTTP server behind TLS (`HttpServer::ssl_options`) over real sockets, with a certificate
//! made by rcgen for `localhost`: requests report `https`, ALPN agrees on `http/1.1`,
//! keep-alive and pipelining work through TLS, plaintext on the TLS port and silent clients
//! are dropped without harm, a protocol switch hands over the TLS stream, and our WebSocket
//! client speaks `wss://` to it, with and without permessage-deflate; several hosts on one
//! listener each get their own certificate by SNI, through `AsyncHttpClient`.

mod support;

use std::time::Duration;

use cyclone::httpserver::{
    HttpResponse, HttpServer, HttpServerRequest, HttpService, Reply, Upgraded,
};
use cyclone::iostream::IoStream;
use cyclone::netutil::Family;
use cyclone::tcpclient::{ConnectOptions, TcpClient};
use cyclone::tls::{TlsClientConfig, TlsServerConfig, TlsStream};
use http::header::{HeaderValue, UPGRADE};
use support::raw_http::plaintext_to_tls;
use support::servers::listen_http;
use support::tls::Pki;
use support::wait::WAIT;
use support::ws::next_message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// A test PKI's server certificate (for `localhost`), and a client config trusting its CA and
/// offering ALPN `h2` and `http/1.1`.
fn certificates() -> (cyclone::tls::TlsServerBuilder, TlsClientConfig) {
    let pki = Pki::generate();
    let client = TlsClientConfig::builder()
        .ca_certs_pem(pki.ca.as_bytes())
        .alpn_protocols(["h2", "http/1.1"])
        .build()
        .unwrap();
    (pki.server(), client)
}

/// Answers with what the request knows of its scheme; `/echo` switches to echoing bytes.
async fn service(request: HttpServerRequest) -> Reply {
    if request.path() == "/echo" && request.head().upgrade {
        let switch = HttpResponse::ok().header(UPGRADE, HeaderValue::from_static("echo"));
        return Reply::upgrade(switch, echo);
    }
    HttpResponse::ok()
        .text(format!("{} {}", request.protocol(), request.full_url()))
        .into()
}

/// Echoes every byte of an upgraded connection (holding its slot until the client leaves).
fn echo(upgraded: Upgraded) {
    actix_rt::spawn(async move {
        let Upgraded {
            mut io,
            read_buf,
            slot,
            ..
        } = upgraded;
        let mut buf = read_buf.to_vec();
        while io.write_all(&buf).await.is_ok() && io.flush().await.is_ok() {
            buf.resize(4096, 0);
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(read) => buf.truncate(read),
            }
        }
        drop(slot);
    });
}

/// An HTTPS server on 127.0.0.1 with `tls`, on this loop; returns it and its port.
fn https_server(
    tls: TlsServerConfig,
    max_connections: usize,
) -> (HttpServer<impl HttpService>, u16) {
    let (server, addr) = listen_http(
        HttpServer::new(service)
            .ssl_options(tls)
            .max_connections(max_connections),
    );
    (server, addr.port())
}

/// Connects with TLS to `localhost:port` (IPv4).
async fn connect(port: u16, client: &TlsClientConfig) -> IoStream<TlsStream<TcpStream>> {
    let options = ConnectOptions::new().family(Family::V4).timeout(WAIT);
    TcpClient::new()
        .connect_tls("localhost", port, &options, client)
        .await
        .unwrap()
}

/// Reads one answer with a `Content-Length` body: (head, body).
async fn answer(stream: &mut IoStream<TlsStream<TcpStream>>) -> (String, String) {
    let head = timeout(WAIT, stream.read_until(b"\r\n\r\n", Some(64 * 1024)))
        .await
        .expect("no answer in time")
        .expect("an answer head");
    let head = String::from_utf8_lossy(&head).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .map_or(0, |length| length.trim().parse().unwrap());
    let body = timeout(WAIT, stream.read_bytes(length, false))
        .await
        .unwrap()
        .unwrap();
    (head, String::from_utf8_lossy(&body).into_owned())
}

#[actix_rt::test]
async fn get_over_tls_reports_https_and_agrees_on_http11() {
    let (server_tls, client_tls) = certificates();
    let (_server, port) = https_server(server_tls.build().unwrap(), 4);
    let mut stream = connect(port, &client_tls).await;
    let alpn = stream.get_ref().and_then(|tls| tls.alpn_protocol());
    assert_eq!(alpn, Some(&b"http/1.1"[..]), "h2 is never agreed on");

    stream
        .write(&b"GET /path?x=1 HTTP/1.1\r\nHost: localhost\r\n\r\n"[..])
        .await
        .unwrap();
    let (head, body) = answer(&mut stream).await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert_eq!(body, "https https://localhost/path?x=1");
}

#[actix_rt::test]
async fn keep_alive_and_pipelining_through_tls() {
    let (server_tls, client_tls) = certificates();
    let (server, port) = https_server(server_tls.build().unwrap(), 4);
    let mut stream = connect(port, &client_tls).await;
    for round in 0..3 {
        let request = format!("GET /{round} HTTP/1.1\r\nHost: localhost\r\n\r\n");
        stream.write(request.into_bytes()).await.unwrap();
        let (_, body) = answer(&mut stream).await;
        assert_eq!(body, format!("https https://localhost/{round}"));
    }
    stream
        .write(&b"GET /a HTTP/1.1\r\nHost: localhost\r\n\r\nGET /b HTTP/1.1\r\nHost: localhost\r\n\r\n"[..])
        .await
        .unwrap();
    assert_eq!(answer(&mut stream).await.1, "https https://localhost/a");
    assert_eq!(answer(&mut stream).await.1, "https https://localhost/b");
    assert_eq!(
        server.registry().unwrap().len(),
        1,
        "one connection throughout"
    );
}

#[actix_rt::test]
async fn plain_http_on_the_tls_port_is_closed_and_the_server_goes_on() {
    let (server_tls, client_tls) = certificates();
    let (server, port) = https_server(server_tls.build().unwrap(), 4);
    // At most a TLS alert, then a close; well before the handshake timeout.
    let reply = plaintext_to_tls(port).await;
    assert!(!reply.starts_with(b"HTTP/"), "no plaintext answer");
    assert!(server.registry().unwrap().wait_empty(WAIT).await);

    let mut stream = connect(port, &client_tls).await;
    stream
        .write(&b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"[..])
        .await
        .unwrap();
    assert_eq!(answer(&mut stream).await.1, "https https://localhost/");
}

#[actix_rt::test]
async fn a_silent_client_loses_its_slot_at_the_handshake_timeout() {
    let (server_tls, client_tls) = certificates();
    let tls = server_tls
        .handshake_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let (server, port) = https_server(tls, 1);

    let mut silent = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let mut buffer = [0u8; 64];
    let read = timeout(WAIT, silent.read(&mut buffer))
        .await
        .expect("never dropped");
    assert!(matches!(read, Ok(0) | Err(_)), "unexpected bytes: {read:?}");
    assert!(server.registry().unwrap().wait_empty(WAIT).await);

    // The only permit is free again.
    let mut stream = connect(port, &client_tls).await;
    stream
        .write(&b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"[..])
        .await
        .unwrap();
    assert_eq!(answer(&mut stream).await.1, "https https://localhost/");
}

#[actix_rt::test]
async fn a_protocol_switch_hands_over_the_tls_stream() {
    let (server_tls, client_tls) = certificates();
    let (server, port) = https_server(server_tls.build().unwrap(), 4);
    let mut stream = connect(port, &client_tls).await;
    stream
        .write(
            &b"GET /echo HTTP/1.1\r\nHost: localhost\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nearly"[..],
        )
        .await
        .unwrap();
    let head = timeout(WAIT, stream.read_until(b"\r\n\r\n", Some(4096)))
        .await
        .unwrap()
        .unwrap();
    assert!(head.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    let early = timeout(WAIT, stream.read_bytes(5, false))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&early[..], b"early");
    stream.write(&b"later"[..]).await.unwrap();
    let later = timeout(WAIT, stream.read_bytes(5, false))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&later[..], b"later");
    assert_eq!(server.registry().unwrap().len(), 1);
}

/// Echoes every WebSocket message; offers permessage-deflate.
struct WsEcho;

impl cyclone::websocket::WebSocketHandler for WsEcho {
    fn get_compression_options(&self) -> Option<cyclone::websocket::DeflateConfig> {
        Some(cyclone::websocket::DeflateConfig::new())
    }

    fn on_message(
        &mut self,
        cx: &mut cyclone::websocket::WebSocketContext<'_>,
        message: cyclone::websocket::Message,
    ) {
        let flushed = cx.write_message(message);
        cx.wait_for(flushed);
    }
}

#[actix_rt::test]
async fn wss_our_client_echoes_through_tls_with_and_without_compression() {
    use cyclone::websocket::{
        CloseCode, ConnectRequest, DeflateConfig, Message, WebSocketConfig, websocket_connect,
    };
    let (server_tls, client_tls) = certificates();
    let server = HttpServer::new(|request: HttpServerRequest| async move {
        let args = cyclone::web::PathArgs::default();
        cyclone::websocket::upgrade(request, WsEcho, args, WebSocketConfig::new())
    })
    .ssl_options(server_tls.build().unwrap());
    let (_server, addr) = listen_http(server);
    let port = addr.port();
    for compression in [None, Some(DeflateConfig::new())] {
        let compressed = compression.is_some();
        let request = ConnectRequest::new(format!("wss://localhost:{port}/ws"))
            .tls(client_tls.clone())
            .config(WebSocketConfig::new().compression(compression));
        let mut client = timeout(WAIT, websocket_connect(request))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client.is_compressed(), compressed);
        // Large enough to take several TLS records each way.
        let big = "wss ".repeat(64 * 1024);
        for message in [
            Message::text("hello"),
            Message::text(big),
            Message::binary(vec![7u8; 3]),
        ] {
            client.write_message(message.clone()).await.unwrap();
            let echoed = next_message(&mut client).await;
            assert_eq!(echoed, Some(message), "compressed: {compressed}");
        }
        client.close(CloseCode::NORMAL, "done");
        assert_eq!(next_message(&mut client).await, None);
        assert_eq!(
            client.close_frame().flatten().map(|frame| frame.code),
            Some(CloseCode::NORMAL)
        );
    }
}

/// Several hosts on one `HttpServer` listener, end to end: the server picks each host's
/// certificate by SNI (`TlsServerBuilder::sni_cert_pem` through `ssl_options`), and the HTTP
/// client, verifying against the test CA, accepts only the certificate of the host it asked
/// for (so a wrong pick fails the fetch).
#[actix_rt::test]
async fn an_https_server_answers_each_host_with_its_own_certificate() {
    use cyclone::httpclient::{AsyncHttpClient, ClientOptions, HttpRequest};
    use cyclone::netutil::OverrideResolver;

    let pki = Pki::generate();
    let (a_cert, a_key) = pki.issue_server(&["a.test"]);
    let (b_cert, b_key) = pki.issue_server(&["b.test"]);
    let tls = pki
        .server()
        .sni_cert_pem("a.test", a_cert.as_bytes(), a_key.as_bytes())
        .sni_cert_pem("b.test", b_cert.as_bytes(), b_key.as_bytes())
        .build()
        .unwrap();
    let (_server, port) = https_server(tls, 16);
    let ca = pki.ca_file("http-sni");
    let resolver = ["a.test", "b.test", "other.test"]
        .into_iter()
        .fold(OverrideResolver::new(), |resolver, host| {
            resolver.map_host(host, "127.0.0.1")
        });
    let client = AsyncHttpClient::with_options(
        ClientOptions::new().tcp_client(TcpClient::with_resolver(resolver)),
    );

    for host in ["a.test", "b.test"] {
        let url = format!("https://{host}:{port}/which");
        let response = support::wait::bounded(client.fetch(HttpRequest::new(&url).ca_certs(&ca)))
            .await
            .unwrap_or_else(|error| panic!("{host}: {error}"));
        assert_eq!(response.code, 200);
        assert_eq!(response.text().unwrap(), format!("https {url}"));
    }
    // A host with no certificate of its own gets the default one (for localhost), which the
    // client refuses for that name.
    let other = HttpRequest::new(format!("https://other.test:{port}/")).ca_certs(&ca);
    let refused = support::wait::bounded(client.fetch(other))
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("certificate"), "{refused}");
    let _ = std::fs::remove_file(ca);
}
