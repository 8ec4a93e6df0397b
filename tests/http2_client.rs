//! The HTTP client over HTTP/2, against hyper's HTTP/2 server (an independent implementation)
//! over h2c with prior knowledge and over TLS with ALPN, and against cyclone's own: one
//! connection shared by concurrent fetches, redirects, gzip, a body larger than the 64 KiB
//! window streamed to the callback, request bodies larger than the window (whole and
//! streamed), trailers, connection-specific fields stripped, a request timeout on a server
//! that never answers, and the fallback to HTTP/1.1 when a TLS server offers only that.
//! A raw frame server (`support::raw_http2`) resets streams and sends GOAWAY on cue (the
//! errors are typed, and a reused connection the server gave up on is retried once) and
//! checks that an `expect_100_continue` body waits for the `100`.

mod support;

use std::convert::Infallible;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cyclone::httpclient::{
    AsyncHttpClient, ClientOptions, HeaderValue, Http2Reason, HttpClientError, HttpRequest, Method,
    TimeoutPhase, Version, header,
};
use cyclone::httpserver::{HttpResponse as ServerResponse, HttpServer, HttpServerRequest};
use cyclone::tls::TlsServerConfig;
use cyclone::tls::tokio_rustls::TlsAcceptor;
use futures::future::join_all;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use support::client_errors::timeout_phase;
use support::raw_http2::{self, FrameReader, frame};
use support::raw_server::{echo, read_request_head, serve, serve_each, tunnel};
use support::servers::start_http;
use support::tls::Pki;
use support::wait::bounded;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The body type of the test application's answers.
type Body = BoxBody<Bytes, Infallible>;

/// A body of `bytes`.
fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed()
}

/// A body of `size` bytes, each its offset modulo 251 (a prime, so a piece delivered twice or
/// out of order shows).
fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|offset| (offset % 251) as u8).collect()
}

/// The test application hyper serves:
///
/// - `/echo`: the version, method, URI and every field it received, one per line, then the
///   request body's length.
/// - `/redirect/{n}`: a 302 to `/redirect/{n-1}`, and `done` at 0.
/// - `/gzip`: a gzip body with `Content-Encoding: gzip`.
/// - `/large/{n}`: `n` bytes of [`pattern`].
/// - `/trailers`: a body and a trailer field.
/// - `/gather/{n}`: `gathered` once `n` requests to it are in flight at once on this server
///   (never, unless they are concurrent).
/// - `/never`: no answer at all.
async fn application(
    request: Request<Incoming>,
    gathered: Arc<tokio::sync::watch::Sender<usize>>,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path().to_owned();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let response = match segments.as_slice() {
        ["echo"] => {
            let mut text = format!(
                "{:?} {} {}\n",
                request.version(),
                request.method(),
                request.uri()
            );
            for (name, value) in request.headers() {
                text.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("?")));
            }
            let body = request.into_body().collect().await.unwrap().to_bytes();
            text.push_str(&format!("body {}", body.len()));
            assert_eq!(&body[..], &pattern(body.len())[..], "the request body");
            Response::new(full(text))
        }
        ["redirect", count] => {
            let count: u32 = count.parse().unwrap();
            if count == 0 {
                Response::new(full("done"))
            } else {
                Response::builder()
                    .status(StatusCode::FOUND)
                    .header("location", format!("/redirect/{}", count - 1))
                    .body(full("moved"))
                    .unwrap()
            }
        }
        ["gzip"] => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            encoder.write_all(&b"hello gzip ".repeat(1000)).unwrap();
            Response::builder()
                .header("content-encoding", "gzip")
                .body(full(encoder.finish().unwrap()))
                .unwrap()
        }
        ["large", size] => Response::new(full(pattern(size.parse().unwrap()))),
        ["trailers"] => {
            let mut trailers = http::HeaderMap::new();
            trailers.insert("x-checksum", HeaderValue::from_static("abc123"));
            let frames = futures::stream::iter([
                Ok::<_, Infallible>(Frame::data(Bytes::from_static(b"with trailers"))),
                Ok(Frame::trailers(trailers)),
            ]);
            Response::new(StreamBody::new(frames).boxed())
        }
        ["gather", count] => {
            let count: usize = count.parse().unwrap();
            gathered.send_modify(|arrived| *arrived += 1);
            let _ = gathered
                .subscribe()
                .wait_for(|arrived| *arrived >= count)
                .await;
            Response::new(full("gathered"))
        }
        ["never"] => futures::future::pending().await,
        _ => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body(full("not found"))
            .unwrap(),
    };
    Ok(response)
}

/// A hyper server on 127.0.0.1 and how many TCP connections it accepted.
struct Hyper {
    /// Where it listens.
    addr: SocketAddr,
    /// Connections accepted so far.
    accepted: Arc<AtomicUsize>,
}

impl Hyper {
    /// Connections accepted so far.
    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// [`application`] with the `/gather` count of one server.
fn service(
    gathered: Arc<tokio::sync::watch::Sender<usize>>,
) -> impl hyper::service::Service<
    Request<Incoming>,
    Response = Response<Body>,
    Error = Infallible,
    Future = impl Future<Output = Result<Response<Body>, Infallible>> + Send,
> + Clone {
    service_fn(move |request| application(request, Arc::clone(&gathered)))
}

/// Serves [`application`] over cleartext HTTP/2 only (h2c with prior knowledge).
async fn hyper_h2c() -> Hyper {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    let gathered = Arc::new(tokio::sync::watch::Sender::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(
                hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service(Arc::clone(&gathered))),
            );
        }
    });
    Hyper { addr, accepted }
}

/// Serves [`application`] over TLS offering `alpn`: HTTP/2 when the client picks `h2`,
/// HTTP/1.1 otherwise. Returns the server and the CA file that trusts it.
async fn hyper_tls(alpn: &[&str], name: &str) -> (Hyper, PathBuf) {
    let pki = Pki::generate();
    let config = pki.server().alpn_protocols(alpn).build().unwrap();
    (hyper_tls_with(config).await, pki.ca_file(name))
}

/// Serves [`application`] over TLS with `config`.
async fn hyper_tls_with(config: TlsServerConfig) -> Hyper {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    let acceptor = TlsAcceptor::from(config.rustls().clone());
    let gathered = Arc::new(tokio::sync::watch::Sender::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            let service = service(Arc::clone(&gathered));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
                let io = TokioIo::new(tls);
                let _ = if h2 {
                    hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service)
                        .await
                } else {
                    hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service)
                        .await
                };
            });
        }
    });
    Hyper { addr, accepted }
}

/// A fetch over h2c with prior knowledge.
fn h2c(addr: SocketAddr, path: &str) -> HttpRequest {
    HttpRequest::new(format!("http://{addr}{path}")).http2_prior_knowledge(true)
}

#[actix_rt::test]
async fn h2c_with_prior_knowledge_against_hyper() {
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(h2c(server.addr, "/echo?x=1")))
        .await
        .unwrap();
    assert_eq!(response.version, Version::HTTP_2);
    assert_eq!(response.code, 200);
    let text = response.text().unwrap();
    assert!(
        text.starts_with(&format!("HTTP/2.0 GET http://{}/echo?x=1\n", server.addr)),
        "{text}"
    );
    assert!(text.contains("user-agent: cyclone/"), "{text}");
    assert!(
        !text.contains("\nhost:"),
        "Host travels as :authority: {text}"
    );

    let missing = bounded(client.fetch(h2c(server.addr, "/nowhere").raise_error(false)))
        .await
        .unwrap();
    assert_eq!((missing.code, &missing.body[..]), (404, &b"not found"[..]));
    assert_eq!(server.accepted(), 1, "both fetches on one connection");
}

#[actix_rt::test]
async fn the_client_offers_flow_control_windows_for_fast_downloads() {
    // What the client announces before its first request: SETTINGS_INITIAL_WINDOW_SIZE (0x4)
    // for each response, and a WINDOW_UPDATE on stream 0 for the connection. With HTTP/2's
    // default 64 KiB a download moves one window per round trip.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let fetch = actix_rt::spawn(async move {
        let client = AsyncHttpClient::new();
        let _ = client
            .fetch(h2c(addr, "/").request_timeout(Duration::from_secs(5)))
            .await;
    });
    let (mut stream, _) = bounded(listener.accept()).await.unwrap();
    let mut preface = [0u8; 24];
    bounded(stream.read_exact(&mut preface)).await.unwrap();
    assert_eq!(&preface[..], raw_http2::PREFACE);
    stream.write_all(&raw_http2::settings(&[])).await.unwrap();
    let mut frames = FrameReader::default();
    let (mut stream_window, mut connection_increment) = (None, None);
    while stream_window.is_none() || connection_increment.is_none() {
        let (kind, flags, id, payload) = frames.next(&mut stream).await;
        if kind == raw_http2::SETTINGS && flags & raw_http2::ACK == 0 {
            let announced = payload
                .chunks_exact(6)
                .filter(|entry| u16::from_be_bytes([entry[0], entry[1]]) == 0x4)
                .map(|entry| u32::from_be_bytes([entry[2], entry[3], entry[4], entry[5]]))
                .next_back();
            stream_window = Some(announced.unwrap_or(65_535));
        } else if kind == raw_http2::WINDOW_UPDATE && id == 0 {
            let increment = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
            connection_increment = Some(increment & 0x7fff_ffff);
        }
    }
    fetch.abort();
    assert_eq!(stream_window, Some(2 * 1024 * 1024), "per response");
    assert_eq!(
        connection_increment.map(|increment| increment + 65_535),
        Some(5 * 1024 * 1024),
        "per connection"
    );
}

#[actix_rt::test]
async fn the_client_option_turns_h2c_on_for_every_http_fetch() {
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::with_options(ClientOptions::new().http2_prior_knowledge(true));
    let response = bounded(client.fetch(format!("http://{}/echo", server.addr)))
        .await
        .unwrap();
    assert_eq!(response.version, Version::HTTP_2);
    assert_eq!(client.http2_connections(), 1);
}

#[actix_rt::test]
async fn tls_alpn_picks_h2_and_falls_back_to_http1() {
    // A server offering both: the client's default offers h2 first and gets it.
    let (both, ca) = hyper_tls(&["h2", "http/1.1"], "h2client-both").await;
    let url = format!("https://localhost:{}/echo", both.addr.port());
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(HttpRequest::new(&url).ca_certs(&ca)))
        .await
        .unwrap();
    assert_eq!(response.version, Version::HTTP_2);
    assert!(
        response
            .text()
            .unwrap()
            .starts_with("HTTP/2.0 GET https://localhost:")
    );

    // A client with HTTP/2 off offers http/1.1 only.
    let http1_client = AsyncHttpClient::with_options(ClientOptions::new().http2(false));
    let response = bounded(http1_client.fetch(HttpRequest::new(&url).ca_certs(&ca)))
        .await
        .unwrap();
    assert_eq!(response.version, Version::HTTP_11);
    assert!(response.text().unwrap().starts_with("HTTP/1.1 GET /echo"));

    // A server offering http/1.1 only: the same default client falls back, and keeps its
    // HTTP/1.1 connection alive for the next fetch.
    let (http1, ca) = hyper_tls(&["http/1.1"], "h2client-http1").await;
    let url = format!("https://localhost:{}/echo", http1.addr.port());
    for _ in 0..2 {
        let response = bounded(client.fetch(HttpRequest::new(&url).ca_certs(&ca)))
            .await
            .unwrap();
        assert_eq!(response.version, Version::HTTP_11);
        assert!(response.text().unwrap().starts_with("HTTP/1.1 GET /echo"));
    }
    assert_eq!(http1.accepted(), 1);
    assert_eq!(client.idle_connections(), 1);
}

#[actix_rt::test]
async fn twenty_concurrent_fetches_share_one_connection() {
    let h2c_server = hyper_h2c().await;
    let (tls_server, ca) = hyper_tls(&["h2", "http/1.1"], "h2client-multiplex").await;
    let client = AsyncHttpClient::with_options(ClientOptions::new().max_clients(20));
    let tls_url = format!("https://localhost:{}/gather/20", tls_server.addr.port());
    for (server, request) in [
        (&h2c_server, h2c(h2c_server.addr, "/gather/20")),
        (&tls_server, HttpRequest::new(tls_url).ca_certs(&ca)),
    ] {
        // Each is answered only once all twenty are in flight together.
        let fetches = (0..20).map(|_| client.fetch(request.clone()));
        for response in bounded(join_all(fetches)).await {
            let response = response.unwrap();
            assert_eq!(response.version, Version::HTTP_2);
            assert_eq!(&response.body[..], b"gathered");
        }
        assert_eq!(server.accepted(), 1, "twenty streams on one TCP connection");
    }
    assert_eq!(client.http2_connections(), 2);
}

#[actix_rt::test]
async fn redirects_are_followed_on_the_same_connection() {
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(h2c(server.addr, "/redirect/3")))
        .await
        .unwrap();
    assert_eq!(&response.body[..], b"done");
    assert_eq!(response.time_info.redirects, 3);
    assert_eq!(
        response.effective_url,
        format!("http://{}/redirect/0", server.addr)
    );
    assert_eq!(server.accepted(), 1);

    let error = bounded(client.fetch(h2c(server.addr, "/redirect/3").max_redirects(2)))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, HttpClientError::TooManyRedirects { response, .. } if response.code == 302),
        "{error:?}"
    );
    let unfollowed = bounded(
        client.fetch(
            h2c(server.addr, "/redirect/1")
                .follow_redirects(false)
                .raise_error(false),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        (unfollowed.code, &unfollowed.body[..]),
        (302, &b"moved"[..])
    );
}

#[actix_rt::test]
async fn gzip_bodies_are_inflated() {
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(h2c(server.addr, "/gzip")))
        .await
        .unwrap();
    assert_eq!(&response.body[..], &b"hello gzip ".repeat(1000)[..]);
    assert_eq!(response.headers["x-consumed-content-encoding"], "gzip");
    assert!(!response.headers.contains_key(header::CONTENT_ENCODING));

    let raw = bounded(client.fetch(h2c(server.addr, "/gzip").decompress_response(false)))
        .await
        .unwrap();
    assert_eq!(raw.headers[header::CONTENT_ENCODING], "gzip");
    assert_eq!(&raw.body[..2], &[0x1f, 0x8b], "the gzip magic");
}

#[actix_rt::test]
async fn a_body_larger_than_the_window_streams_to_the_callback() {
    // 1 MiB is sixteen 64 KiB windows: the server can send it only if the client hands each
    // window back as the callback consumes it.
    const SIZE: usize = 1024 * 1024;
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::new();
    let received = Arc::new(std::sync::Mutex::new(Vec::new()));
    let pieces = Arc::new(AtomicUsize::new(0));
    let (sink, count) = (Arc::clone(&received), Arc::clone(&pieces));
    let request = h2c(server.addr, &format!("/large/{SIZE}"))
        .request_timeout(Duration::from_secs(10))
        .streaming_callback(move |piece| {
            count.fetch_add(1, Ordering::SeqCst);
            sink.lock().unwrap().extend_from_slice(&piece);
        });
    let response = bounded(client.fetch(request)).await.unwrap();
    assert!(response.body.is_empty(), "streamed, not kept");
    assert_eq!(*received.lock().unwrap(), pattern(SIZE));
    assert!(
        pieces.load(Ordering::SeqCst) >= 16,
        "in pieces as frames arrive"
    );

    // Kept whole, and held to max_body_size.
    let kept = bounded(client.fetch(h2c(server.addr, &format!("/large/{SIZE}"))))
        .await
        .unwrap();
    assert_eq!(&kept.body[..], &pattern(SIZE)[..]);
    let error =
        bounded(client.fetch(h2c(server.addr, &format!("/large/{SIZE}")).max_body_size(100_000)))
            .await
            .unwrap_err();
    assert!(
        matches!(error, HttpClientError::InvalidResponse(_)),
        "{error:?}"
    );
    // The connection survives a stream given up on.
    let after = bounded(client.fetch(h2c(server.addr, "/large/10")))
        .await
        .unwrap();
    assert_eq!(after.body.len(), 10);
    assert_eq!(server.accepted(), 1);
}

#[actix_rt::test]
async fn request_bodies_larger_than_the_window_are_sent_whole_and_streamed() {
    const SIZE: usize = 300 * 1000;
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::new();
    let whole = h2c(server.addr, "/echo")
        .method(Method::POST)
        .body(pattern(SIZE));
    let response = bounded(client.fetch(whole)).await.unwrap();
    let text = response.text().unwrap();
    assert!(text.ends_with(&format!("\nbody {SIZE}")), "{text}");
    assert!(
        text.contains(&format!("content-length: {SIZE}\n")),
        "{text}"
    );

    // Streamed in 10 000-byte pieces, no Content-Length: HTTP/2 frames it, so the
    // `Transfer-Encoding: chunked` HTTP/1.1 would send is not.
    let streamed = h2c(server.addr, "/echo")
        .method(Method::PUT)
        .body_producer(|| {
            let body = pattern(SIZE);
            let pieces: Vec<std::io::Result<Bytes>> = body
                .chunks(10_000)
                .map(|piece| Ok(Bytes::copy_from_slice(piece)))
                .collect();
            futures::stream::iter(pieces)
        });
    let response = bounded(client.fetch(streamed)).await.unwrap();
    let text = response.text().unwrap();
    assert!(text.ends_with(&format!("\nbody {SIZE}")), "{text}");
    assert!(!text.contains("transfer-encoding"), "{text}");
}

#[actix_rt::test]
async fn connection_specific_fields_are_not_sent() {
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::new();
    let request = h2c(server.addr, "/echo")
        .header(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, x-hop"),
        )
        .header(
            header::HeaderName::from_static("keep-alive"),
            HeaderValue::from_static("timeout=5"),
        )
        .header(header::UPGRADE, HeaderValue::from_static("websocket"))
        .header(
            header::HeaderName::from_static("x-hop"),
            HeaderValue::from_static("1"),
        )
        .header(
            header::HeaderName::from_static("x-kept"),
            HeaderValue::from_static("yes"),
        )
        .header(header::HOST, HeaderValue::from_static("virtual.test"));
    let response = bounded(client.fetch(request)).await.unwrap();
    let text = response.text().unwrap();
    assert!(
        text.starts_with("HTTP/2.0 GET http://virtual.test/echo\n"),
        "{text}"
    );
    assert!(text.contains("x-kept: yes\n"), "{text}");
    for name in ["connection", "keep-alive", "upgrade", "x-hop", "host"] {
        assert!(!text.contains(&format!("\n{name}:")), "{name} sent: {text}");
    }
}

#[actix_rt::test]
async fn trailers_and_the_header_callback() {
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::new();
    let lines = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = Arc::clone(&lines);
    let request = h2c(server.addr, "/trailers")
        .header_callback(move |line| seen.lock().unwrap().push(line.to_owned()));
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(&response.body[..], b"with trailers");
    let trailers = response.trailers.expect("trailers");
    assert_eq!(trailers["x-checksum"], "abc123");
    let lines = lines.lock().unwrap();
    assert_eq!(lines.first().map(String::as_str), Some("HTTP/2 200 OK\r\n"));
    assert_eq!(lines.last().map(String::as_str), Some("\r\n"));
}

#[actix_rt::test]
async fn a_server_that_never_answers_times_out_and_the_connection_stays() {
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::new();
    let error = bounded(
        client.fetch(h2c(server.addr, "/never").request_timeout(Duration::from_millis(300))),
    )
    .await
    .unwrap_err();
    assert_eq!(timeout_phase(&error), TimeoutPhase::Request);
    // The abandoned stream was reset; the connection carries the next fetch.
    let response = bounded(client.fetch(h2c(server.addr, "/echo")))
        .await
        .unwrap();
    assert_eq!(response.version, Version::HTTP_2);
    assert_eq!(server.accepted(), 1);
}

#[actix_rt::test]
async fn idle_connections_close_after_the_idle_timeout_and_on_close() {
    let server = hyper_h2c().await;
    let client = AsyncHttpClient::with_options(
        ClientOptions::new().idle_timeout(Duration::from_millis(200)),
    );
    bounded(client.fetch(h2c(server.addr, "/echo")))
        .await
        .unwrap();
    assert_eq!(client.http2_connections(), 1);
    support::wait::until("the idle connection is closed", || {
        client.http2_connections() == 0
    })
    .await;
    bounded(client.fetch(h2c(server.addr, "/echo")))
        .await
        .unwrap();
    assert_eq!(
        server.accepted(),
        2,
        "a new connection after the idle one closed"
    );

    client.close();
    assert_eq!(client.http2_connections(), 0);
    bounded(client.fetch(h2c(server.addr, "/echo")))
        .await
        .unwrap();
    assert_eq!(server.accepted(), 3);

    // No idle time at all: each connection closes as its last stream ends.
    let eager = AsyncHttpClient::with_options(ClientOptions::new().idle_timeout(Duration::ZERO));
    for _ in 0..3 {
        let response = bounded(eager.fetch(h2c(server.addr, "/echo")))
            .await
            .unwrap();
        assert_eq!(response.version, Version::HTTP_2);
    }
    support::wait::until("the last connection is closed", || {
        eager.http2_connections() == 0
    })
    .await;
}

#[actix_rt::test]
async fn h2_runs_inside_a_connect_tunnel_and_h2c_never_through_a_proxy() {
    let (origin, ca) = hyper_tls(&["h2", "http/1.1"], "h2client-tunnel").await;
    let tunnels = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&tunnels);
    let proxy = serve(move |mut stream: TcpStream| {
        let counter = Arc::clone(&counter);
        async move {
            let mut buf = Vec::new();
            let Some(request) = read_request_head(&mut stream, &mut buf).await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            tunnel(&mut stream, request.target()).await;
        }
    })
    .await;
    let client = AsyncHttpClient::with_options(ClientOptions::new().max_clients(4));
    let request = HttpRequest::new(format!("https://localhost:{}/echo", origin.addr.port()))
        .ca_certs(&ca)
        .proxy("127.0.0.1", proxy.addr.port());
    let fetches = (0..4).map(|_| client.fetch(request.clone()));
    for response in bounded(join_all(fetches)).await {
        assert_eq!(response.unwrap().version, Version::HTTP_2);
    }
    assert_eq!(
        tunnels.load(Ordering::SeqCst),
        1,
        "one tunnel, four streams"
    );

    // A plain proxy gets HTTP/1.1 in absolute form, prior knowledge or not.
    let plain = serve_each(echo).await;
    let request = HttpRequest::new("http://origin.test/path")
        .http2_prior_knowledge(true)
        .proxy("127.0.0.1", plain.addr.port());
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(response.version, Version::HTTP_11);
    assert!(
        response
            .text()
            .unwrap()
            .starts_with("GET http://origin.test/path HTTP/1.1\n"),
        "{:?}",
        response.text()
    );
}

/// The blocking client runs its loop only inside `fetch`, so the connection's task pauses
/// between fetches; the shared connection still carries the next one.
#[test]
fn the_blocking_client_shares_its_http2_connection_across_fetches() {
    let (addr_sender, addr_receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let server = hyper_h2c().await;
            addr_sender.send((server.addr, server.accepted)).unwrap();
            futures::future::pending::<()>().await;
        });
    });
    let (addr, accepted) = addr_receiver.recv().unwrap();
    let client = cyclone::httpclient::HttpClient::with_options(
        ClientOptions::new().http2_prior_knowledge(true),
    );
    for _ in 0..3 {
        let response = client
            .fetch(
                HttpRequest::new(format!("http://{addr}/echo"))
                    .request_timeout(Duration::from_secs(10)),
            )
            .unwrap();
        assert_eq!(response.version, Version::HTTP_2);
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[actix_rt::test]
async fn cyclones_own_http2_server_over_h2c_and_tls() {
    let service = |request: HttpServerRequest| async move {
        ServerResponse::ok().text(format!("{:?} {}", request.version(), request.uri()))
    };
    let mut plain = HttpServer::new(service).http2(true);
    let plain_addr = start_http(&mut plain, 1);
    let pki = Pki::generate();
    let mut secure = HttpServer::new(service)
        .ssl_options(pki.server().build().unwrap())
        .http2(true);
    let secure_addr = start_http(&mut secure, 1);
    let ca = pki.ca_file("h2client-cyclone");

    let client = AsyncHttpClient::new();
    let response = bounded(client.fetch(h2c(plain_addr, "/a?b=1")))
        .await
        .unwrap();
    assert_eq!(response.version, Version::HTTP_2);
    assert_eq!(response.text().unwrap(), "HTTP/2.0 /a?b=1");

    let url = format!("https://localhost:{}/secure", secure_addr.port());
    let response = bounded(client.fetch(HttpRequest::new(url).ca_certs(&ca)))
        .await
        .unwrap();
    assert_eq!(response.version, Version::HTTP_2);
    assert_eq!(response.text().unwrap(), "HTTP/2.0 /secure");

    // Without prior knowledge the same h2c server answers HTTP/1.1.
    let response = bounded(client.fetch(format!("http://{plain_addr}/old")))
        .await
        .unwrap();
    assert_eq!(response.version, Version::HTTP_11);
    assert_eq!(response.text().unwrap(), "HTTP/1.1 /old");
    plain.stop().await;
    secure.stop().await;
}

/// How the raw server answers one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// `200` with the body `ok`.
    Ok,
    /// `RST_STREAM` with this code.
    Reset(u32),
    /// `GOAWAY` naming the last stream answered, with this code.
    GoAway(u32),
    /// `100 Continue` after 200 ms in which no DATA may arrive, then `200` with the length of
    /// the body received (`RST_STREAM` with `PROTOCOL_ERROR` if DATA came too early).
    Continue,
}

/// A raw HTTP/2 server answering the requests it receives, counted across its connections,
/// as `answers` says (`Ok` past the end).
async fn raw_server(answers: Vec<Answer>) -> Hyper {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    let answered = Arc::new(AtomicUsize::new(0));
    let answers = Arc::new(answers);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let (answers, answered) = (Arc::clone(&answers), Arc::clone(&answered));
            tokio::spawn(raw_connection(stream, answers, answered));
        }
    });
    Hyper { addr, accepted }
}

/// One connection of [`raw_server`].
async fn raw_connection(
    mut stream: TcpStream,
    answers: Arc<Vec<Answer>>,
    answered: Arc<AtomicUsize>,
) {
    let mut preface = [0u8; 24];
    if stream.read_exact(&mut preface).await.is_err() || preface != raw_http2::PREFACE {
        return;
    }
    let _ = stream.write_all(&raw_http2::settings(&[])).await;
    let mut frames = FrameReader::default();
    let mut last_answered = 0u32;
    while let Some(received) = frames.next_or_closed(&mut stream).await {
        if raw_http2::answer_control(&mut stream, &received).await {
            continue;
        }
        let (kind, _flags, id, _payload) = received;
        if kind != raw_http2::HEADERS {
            continue;
        }
        let answer = answers
            .get(answered.fetch_add(1, Ordering::SeqCst))
            .copied()
            .unwrap_or(Answer::Ok);
        let out = match answer {
            Answer::Ok => {
                last_answered = id;
                // 0x88: `:status: 200`, entry 8 of HPACK's static table.
                let mut out = frame(raw_http2::HEADERS, raw_http2::END_HEADERS, id, &[0x88]);
                out.extend_from_slice(&frame(raw_http2::DATA, raw_http2::END_STREAM, id, b"ok"));
                out
            }
            Answer::Reset(code) => frame(raw_http2::RST_STREAM, 0, id, &code.to_be_bytes()),
            Answer::GoAway(code) => {
                let mut payload = last_answered.to_be_bytes().to_vec();
                payload.extend_from_slice(&code.to_be_bytes());
                frame(raw_http2::GOAWAY, 0, 0, &payload)
            }
            Answer::Continue => {
                last_answered = id;
                continue_then_count(&mut stream, &mut frames, id).await
            }
        };
        if stream.write_all(&out).await.is_err() {
            return;
        }
    }
}

/// [`Answer::Continue`] for stream `id`: the frames to write last.
async fn continue_then_count(stream: &mut TcpStream, frames: &mut FrameReader, id: u32) -> Vec<u8> {
    let early = tokio::time::timeout(Duration::from_millis(200), async {
        loop {
            let Some(received) = frames.next_or_closed(stream).await else {
                return false;
            };
            if !raw_http2::answer_control(stream, &received).await && received.0 == raw_http2::DATA
            {
                return true;
            }
        }
    });
    if early.await.unwrap_or(false) {
        return frame(
            raw_http2::RST_STREAM,
            0,
            id,
            &raw_http2::PROTOCOL_ERROR.to_be_bytes(),
        );
    }
    // `:status: 100` as a literal field with the indexed name `:status` (HPACK entry 8).
    let interim = frame(
        raw_http2::HEADERS,
        raw_http2::END_HEADERS,
        id,
        &[0x08, 3, b'1', b'0', b'0'],
    );
    if stream.write_all(&interim).await.is_err() {
        return Vec::new();
    }
    let mut length = 0;
    while let Some(received) = frames.next_or_closed(stream).await {
        let (kind, flags, _, payload) = &received;
        if raw_http2::answer_control(stream, &received).await || *kind != raw_http2::DATA {
            continue;
        }
        length += payload.len();
        if flags & raw_http2::END_STREAM != 0 {
            break;
        }
    }
    let mut out = frame(raw_http2::HEADERS, raw_http2::END_HEADERS, id, &[0x88]);
    let body = format!("continued {length}");
    out.extend_from_slice(&frame(
        raw_http2::DATA,
        raw_http2::END_STREAM,
        id,
        body.as_bytes(),
    ));
    out
}

#[actix_rt::test]
async fn expect_100_continue_holds_the_body_until_the_interim_answer() {
    let server = raw_server(vec![Answer::Continue]).await;
    let client = AsyncHttpClient::new();
    let request = h2c(server.addr, "/")
        .method(Method::POST)
        // Within the raw server's window, which it never widens.
        .body(pattern(10_000))
        .expect_100_continue(true);
    let response = bounded(client.fetch(request)).await.unwrap();
    assert_eq!(response.text().unwrap(), "continued 10000");
}

/// The HTTP/2 error code `error` carries, and whether a stream reset (`"reset"`) or a GOAWAY
/// (`"goaway"`) brought it; fails the test on any other error. One line a typed-error check.
fn h2_error(error: &HttpClientError) -> (&'static str, Http2Reason) {
    match error {
        HttpClientError::Http2StreamReset { reason } => ("reset", *reason),
        HttpClientError::Http2GoAway { reason } => ("goaway", *reason),
        other => panic!("expected an HTTP/2 error, got {other:?}"),
    }
}

#[actix_rt::test]
async fn stream_resets_and_goaway_are_typed_errors() {
    let server = raw_server(vec![
        Answer::Reset(raw_http2::ENHANCE_YOUR_CALM),
        Answer::GoAway(raw_http2::PROTOCOL_ERROR),
        Answer::GoAway(raw_http2::PROTOCOL_ERROR),
    ])
    .await;
    let client = AsyncHttpClient::new();
    let error = bounded(client.fetch(h2c(server.addr, "/")))
        .await
        .unwrap_err();
    assert_eq!(h2_error(&error), ("reset", Http2Reason::ENHANCE_YOUR_CALM));
    assert_eq!(error.code(), 599);
    // On the reused connection the GOAWAY is retried once on a new one, which says the same.
    let error = bounded(client.fetch(h2c(server.addr, "/")))
        .await
        .unwrap_err();
    assert_eq!(h2_error(&error), ("goaway", Http2Reason::PROTOCOL_ERROR));
    assert_eq!(server.accepted(), 2);
}

#[actix_rt::test]
async fn a_refused_or_abandoned_stream_on_a_reused_connection_is_retried_once() {
    let server = raw_server(vec![
        Answer::Ok,
        Answer::Reset(raw_http2::REFUSED_STREAM),
        Answer::Ok,
        Answer::GoAway(raw_http2::NO_ERROR),
        Answer::Ok,
    ])
    .await;
    let client = AsyncHttpClient::new();
    for _ in 0..3 {
        let response = bounded(client.fetch(h2c(server.addr, "/"))).await.unwrap();
        assert_eq!(&response.body[..], b"ok");
    }
    // REFUSED_STREAM: retried on the same connection; GOAWAY: on a new one.
    assert_eq!(server.accepted(), 2);
}
