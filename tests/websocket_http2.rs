//! WebSocket over HTTP/2 (RFC 8441, extended CONNECT) over real sockets: the same
//! `WebSocketHandler` an HTTP/1.1 upgrade reaches, opened as a CONNECT stream with
//! `:protocol websocket` by `h2`'s client (hyper's HTTP/2), in cleartext with prior knowledge
//! and over TLS with ALPN: text, binary, ping, the close handshake both ways (END_STREAM after
//! it), 1009 for a message over the limit, 1007 for invalid UTF-8, permessage-deflate, the
//! origin check, two WebSockets and a GET multiplexed on one connection, bad requests (400,
//! 501), a client resetting its stream, one opening no window (RST_STREAM(CANCEL)), the
//! setting switched off, and a graceful shutdown
//! closing the WebSocket with 1001.
//! Then headless Chromium opens `wss://` from a page it loaded over HTTP/2, and the handler
//! sees the WebSocket arrive over HTTP/2 on the page's own connection; from a server that does
//! not announce the setting, Chromium falls back to an HTTP/1.1 upgrade on a new connection.
//!
//! The client side frames the WebSocket itself with cyclone's sans-IO [`Codec`]
//! (`Role::Client`, so its frames are masked) over the stream's DATA frames. Last, cyclone's
//! own client opens its WebSocket the same way (`ConnectRequest::http2`), over h2c and over
//! TLS with permessage-deflate, and is refused, with a typed error, by a server without the
//! setting and by one that does not choose `h2`.

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use cyclone::httpserver::{Http2Config, HttpServer, HttpServerRequest};
use cyclone::tls::TlsClientConfig;
use cyclone::web::{
    Application, HttpError, PathArgs, RequestContext, RequestHandler, Settings, handler, url,
};
use cyclone::websocket::{
    CloseCode, CloseFrame, Codec, ConnectRequest, DeflateConfig, HandshakeError, Message, Role,
    WebSocketConfig, WebSocketContext, WebSocketError, WebSocketHandler, accept_answer,
    websocket_connect, websocket_with,
};
use fantoccini::Client;
use h2::client::SendRequest;
use h2::{RecvStream, SendStream};
use http::{Method, Request, Response, StatusCode, Version};
use support::browser::{Browsers, finish};
use support::servers::start_http;
use support::tls::Pki;
use support::wait::{WAIT, bounded, until};
use tokio::net::TcpStream;

/// The routes' message size limit: a message above it is answered 1009. Above the client's
/// window (64 KiB, `h2`'s default), so an echo of a large message waits for window.
const MAX_MESSAGE: usize = 1 << 20;

/// What the handlers saw, shared with the test.
#[derive(Default)]
struct Seen {
    /// The version of each request `open` got, in order.
    versions: Mutex<Vec<Version>>,
    /// The client's port for each request `open` got: which TCP connection carried it.
    ports: Mutex<Vec<u16>>,
    /// The close code `on_close` got for each connection.
    closes: Mutex<Vec<Option<u16>>>,
}

/// Says which HTTP version carried its request, then echoes; `close` closes with 4001.
struct Echo {
    /// Shared with the test.
    seen: Arc<Seen>,
    /// Offer permessage-deflate.
    compress: bool,
}

impl WebSocketHandler for Echo {
    fn get_compression_options(&self) -> Option<DeflateConfig> {
        self.compress.then(DeflateConfig::new)
    }

    fn select_subprotocol(&mut self, subprotocols: &[String]) -> Option<String> {
        subprotocols.iter().find(|name| *name == "chat").cloned()
    }

    fn open(&mut self, cx: &mut WebSocketContext<'_>, _: &PathArgs, request: &HttpServerRequest) {
        self.seen.versions.lock().unwrap().push(request.version());
        self.seen.ports.lock().unwrap().push(request.peer().port());
        let subprotocol = cx.selected_subprotocol().unwrap_or("none").to_owned();
        cx.write_message(Message::text(format!(
            "open {:?} subprotocol {subprotocol} compressed {}",
            request.version(),
            cx.is_compressed()
        )));
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        match &message {
            Message::Text(text) if text.as_str() == "close" => {
                cx.close(CloseCode(4001), "server says bye");
            }
            _ => {
                cx.write_message(message);
            }
        }
    }

    fn on_close(&mut self, close_code: Option<CloseCode>, _: Option<&str>) {
        self.seen
            .closes
            .lock()
            .unwrap()
            .push(close_code.map(|code| code.0));
    }
}

/// A plain page, to share the connection with the WebSockets: says which version and which
/// client port (which connection) carried it.
#[derive(Default)]
struct Page;

impl RequestHandler for Page {
    async fn get(&mut self, cx: &mut RequestContext) -> Result<(), HttpError> {
        let version = format!("{:?}", cx.request().version());
        let port = cx.request().peer().port();
        cx.write(format!(
            "<!doctype html><title>ws over h2</title><p id=version>{version}</p>\
             <p id=port>{port}</p>"
        ));
        Ok(())
    }
}

/// The application: `/ws` (plain), `/deflate` (compression offered), `/` (a page).
fn application(seen: &Arc<Seen>) -> Application {
    application_with(
        seen,
        Settings::default().websocket_max_message_size(MAX_MESSAGE),
    )
}

/// [`application`] with `settings`.
fn application_with(seen: &Arc<Seen>, settings: Settings) -> Application {
    let plain = seen.clone();
    let compressed = seen.clone();
    Application::with_settings(
        [
            url("/", handler::<Page>()),
            url(
                "/ws",
                websocket_with(move || Echo {
                    seen: plain.clone(),
                    compress: false,
                }),
            ),
            url(
                "/deflate",
                websocket_with(move || Echo {
                    seen: compressed.clone(),
                    compress: true,
                }),
            ),
        ],
        settings,
    )
    .unwrap()
}

/// A cleartext HTTP/2 server (h2c with prior knowledge) for `seen`, and its address.
fn h2c_server(seen: &Arc<Seen>, config: Http2Config) -> (HttpServer<Application>, SocketAddr) {
    let mut server = HttpServer::new(application(seen)).http2_config(config);
    let addr = start_http(&mut server, 1);
    (server, addr)
}

/// A TLS server for `seen` with `pki`'s certificate, offering `h2` by ALPN when `http2`,
/// and its address.
fn tls_server(seen: &Arc<Seen>, pki: &Pki, http2: bool) -> (HttpServer<Application>, SocketAddr) {
    let mut server = HttpServer::new(application(seen))
        .ssl_options(pki.server().build().unwrap())
        .http2(http2);
    let addr = start_http(&mut server, 1);
    (server, addr)
}

/// A client TLS configuration trusting `pki`'s CA.
fn trusting(pki: &Pki) -> TlsClientConfig {
    TlsClientConfig::builder()
        .ca_certs_pem(pki.ca.as_bytes())
        .build()
        .unwrap()
}

/// An HTTP/2 client connection over `io`, its connection driven on the test's loop, once the
/// server's SETTINGS are in (they say whether extended CONNECT is allowed): after a GET of `/`.
async fn h2_client<T>(io: T) -> SendRequest<Bytes>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + 'static,
{
    let (client, connection) = h2::client::handshake(io).await.unwrap();
    actix_rt::spawn(async move {
        let _ = connection.await;
    });
    // The server's SETTINGS come before any answer: one GET round trip and they are known.
    let mut client = bounded(client.ready()).await.unwrap();
    let request = Request::get("http://localhost/").body(()).unwrap();
    let (answer, _) = client.send_request(request, true).unwrap();
    assert_eq!(bounded(answer).await.unwrap().status(), StatusCode::OK);
    client
}

/// A cleartext HTTP/2 connection to `addr`.
async fn connect_h2c(addr: SocketAddr) -> SendRequest<Bytes> {
    h2_client(TcpStream::connect(addr).await.unwrap()).await
}

/// [`h2c_server`] with the default settings and a client connected to it: most tests' start.
async fn h2c(seen: &Arc<Seen>) -> (HttpServer<Application>, SocketAddr, SendRequest<Bytes>) {
    let (server, addr) = h2c_server(seen, Http2Config::default());
    let client = connect_h2c(addr).await;
    (server, addr, client)
}

/// An extended CONNECT for `path` with `:protocol` `protocol` and `fields`.
fn extended_connect(
    scheme: &str,
    addr: SocketAddr,
    path: &str,
    protocol: &'static str,
    fields: &[(&str, &str)],
) -> Request<()> {
    let mut request = Request::builder()
        .method(Method::CONNECT)
        .uri(format!("{scheme}://localhost:{}{path}", addr.port()))
        .extension(h2::ext::Protocol::from_static(protocol));
    for (name, value) in fields {
        request = request.header(*name, *value);
    }
    request.body(()).unwrap()
}

/// Sends `request` (its stream left open) and waits for the answer's head.
async fn open_stream(
    client: &mut SendRequest<Bytes>,
    request: Request<()>,
) -> (Response<RecvStream>, SendStream<Bytes>) {
    let ready = bounded(client.clone().ready()).await.unwrap();
    *client = ready;
    let (answer, send) = client.send_request(request, false).unwrap();
    (bounded(answer).await.unwrap(), send)
}

/// One WebSocket over an HTTP/2 stream, client side.
struct H2WebSocket {
    /// Our DATA frames.
    send: SendStream<Bytes>,
    /// The server's DATA frames.
    recv: RecvStream,
    /// Client-side framing (masked), with compression when negotiated.
    codec: Codec,
    /// Bytes received and not decoded yet.
    read: BytesMut,
    /// Bytes of DATA received in all.
    received: usize,
    /// Whether the last frame decoded had RSV1 (compressed).
    last_compressed: bool,
}

impl H2WebSocket {
    /// Opens `path` on `client` with `fields`; panics unless the answer is 200.
    async fn open(
        client: &mut SendRequest<Bytes>,
        scheme: &str,
        addr: SocketAddr,
        path: &str,
        fields: &[(&str, &str)],
    ) -> (H2WebSocket, http::HeaderMap) {
        let mut all = vec![("sec-websocket-version", "13")];
        all.extend_from_slice(fields);
        let request = extended_connect(scheme, addr, path, "websocket", &all);
        let (answer, send) = open_stream(client, request).await;
        assert_eq!(answer.status(), StatusCode::OK, "{answer:?}");
        let (head, recv) = answer.into_parts();
        for name in ["sec-websocket-accept", "upgrade", "connection"] {
            assert!(!head.headers.contains_key(name), "{name} in {head:?}");
        }
        let deflate = head
            .headers
            .get("sec-websocket-extensions")
            .map(|value| accept_answer(value.to_str().unwrap(), &DeflateConfig::new()).unwrap())
            .map(|params| (params, 6));
        let socket = H2WebSocket {
            send,
            recv,
            codec: Codec::new(Role::Client, 1 << 20, deflate),
            read: BytesMut::new(),
            received: 0,
            last_compressed: false,
        };
        (socket, head.headers)
    }

    /// Opens `/ws` with no more fields and reads its `open` message: how most tests start a
    /// WebSocket whose greeting they do not check.
    async fn opened(
        client: &mut SendRequest<Bytes>,
        scheme: &str,
        addr: SocketAddr,
    ) -> H2WebSocket {
        let (mut socket, _) = H2WebSocket::open(client, scheme, addr, "/ws", &[]).await;
        socket.text().await;
        socket
    }

    /// Sends `message`.
    fn send(&mut self, message: &Message) {
        let mut out = BytesMut::new();
        self.codec.encode(message, &mut out);
        self.send_raw(out.freeze());
    }

    /// Sends bytes as they are (a frame no codec would make).
    fn send_raw(&mut self, bytes: Bytes) {
        self.send.send_data(bytes, false).unwrap();
    }

    /// The next message, or `None` once the server ended the stream.
    async fn next(&mut self) -> Option<Message> {
        loop {
            let first = self.read.first().copied();
            if let Some(message) = self.codec.decode(&mut self.read).unwrap() {
                self.last_compressed = first.is_some_and(|byte| byte & 0x40 != 0);
                return Some(message);
            }
            let data = bounded(self.recv.data()).await?.unwrap();
            self.received += data.len();
            self.recv
                .flow_control()
                .release_capacity(data.len())
                .unwrap();
            self.read.extend_from_slice(&data);
        }
    }

    /// The next message, which must be text.
    async fn text(&mut self) -> String {
        match self.next().await {
            Some(Message::Text(text)) => text.as_str().to_owned(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    /// The server's close frame, which must come next: its code (the caller answers it).
    async fn server_close(&mut self) -> Option<u16> {
        match self.next().await {
            Some(Message::Close(frame)) => frame.map(|frame| frame.code.0),
            other => panic!("expected the server's close, got {other:?}"),
        }
    }

    /// Reads to the server's close frame and then the end of the stream; returns the code.
    async fn closed(&mut self) -> Option<u16> {
        let code = loop {
            match self.next().await {
                Some(Message::Close(frame)) => break frame.map(|frame| frame.code.0),
                Some(_) => continue,
                None => panic!("the stream ended without a close frame"),
            }
        };
        assert!(self.next().await.is_none(), "data after the close frame");
        code
    }
}

/// Text, binary, ping and the close handshake (both ways), on `client`.
async fn echo_scenario(client: &mut SendRequest<Bytes>, scheme: &str, addr: SocketAddr) {
    let (mut socket, headers) = H2WebSocket::open(
        client,
        scheme,
        addr,
        "/ws",
        &[("sec-websocket-protocol", "other, chat")],
    )
    .await;
    assert_eq!(headers["sec-websocket-protocol"], "chat");
    assert_eq!(
        socket.text().await,
        "open HTTP/2.0 subprotocol chat compressed false"
    );
    socket.send(&Message::text("hello over h2"));
    assert_eq!(socket.text().await, "hello over h2");
    socket.send(&Message::binary(Bytes::from_static(&[0, 1, 2, 255])));
    assert_eq!(
        socket.next().await,
        Some(Message::binary(Bytes::from_static(&[0, 1, 2, 255])))
    );
    // Five times the client's window: the server's writes wait for window as the client reads.
    let large: Bytes = (0..320_000u32).map(|index| (index % 251) as u8).collect();
    socket.send(&Message::binary(large.clone()));
    assert_eq!(socket.next().await, Some(Message::binary(large)));
    socket.send(&Message::Ping(Bytes::from_static(b"are you there")));
    assert_eq!(
        socket.next().await,
        Some(Message::Pong(Bytes::from_static(b"are you there")))
    );
    // The client closes: the server echoes the code, then ends the stream.
    socket.send(&Message::Close(Some(CloseFrame::new(
        CloseCode(4000),
        "bye",
    ))));
    assert_eq!(socket.closed().await, Some(4000));

    // The server closes: its code, then the end of the stream once the client answered.
    let mut socket = H2WebSocket::opened(client, scheme, addr).await;
    socket.send(&Message::text("close"));
    let code = socket.server_close().await;
    assert_eq!(code, Some(4001));
    socket.send(&Message::Close(Some(CloseFrame::new(CloseCode(4001), ""))));
    assert!(socket.next().await.is_none(), "the stream ends");
}

#[actix_rt::test]
async fn echo_over_cleartext_http2_with_prior_knowledge() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr, mut client) = h2c(&seen).await;
    assert!(client.is_extended_connect_protocol_enabled());
    echo_scenario(&mut client, "http", addr).await;
    until("both on_close calls", || {
        seen.closes.lock().unwrap().len() == 2
    })
    .await;
    assert_eq!(*seen.closes.lock().unwrap(), [Some(4000), Some(4001)]);
    assert_eq!(
        *seen.versions.lock().unwrap(),
        [Version::HTTP_2, Version::HTTP_2]
    );
    server.stop().await;
}

#[actix_rt::test]
async fn echo_over_tls_with_alpn_h2() {
    let seen = Arc::new(Seen::default());
    let pki = Pki::generate();
    let (mut server, addr) = tls_server(&seen, &pki, true);
    let tls = TlsClientConfig::builder()
        .ca_certs_pem(pki.ca.as_bytes())
        .alpn_protocols(["h2"])
        .build()
        .unwrap();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let stream = bounded(tls.handshake("localhost", tcp)).await.unwrap();
    let mut client = h2_client(stream).await;
    assert!(client.is_extended_connect_protocol_enabled());
    echo_scenario(&mut client, "https", addr).await;
    assert_eq!(
        *seen.versions.lock().unwrap(),
        [Version::HTTP_2, Version::HTTP_2]
    );
    server.stop().await;
}

#[actix_rt::test]
async fn limits_close_with_1009_and_1007_as_on_http1() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr, mut client) = h2c(&seen).await;

    let mut socket = H2WebSocket::opened(&mut client, "http", addr).await;
    socket.send(&Message::binary(vec![7u8; MAX_MESSAGE + 1]));
    assert_eq!(socket.closed().await, Some(CloseCode::MESSAGE_TOO_BIG.0));

    let mut socket = H2WebSocket::opened(&mut client, "http", addr).await;
    // A masked text frame (mask 0: the payload as it is) that is not UTF-8.
    socket.send_raw(Bytes::from_static(&[0x81, 0x82, 0, 0, 0, 0, 0xff, 0xfe]));
    assert_eq!(socket.closed().await, Some(CloseCode::INVALID_PAYLOAD.0));

    // The connection served both and goes on.
    let mut socket = H2WebSocket::opened(&mut client, "http", addr).await;
    socket.send(&Message::text("still here"));
    assert_eq!(socket.text().await, "still here");
    server.stop().await;
}

#[actix_rt::test]
async fn permessage_deflate_is_negotiated_and_compresses() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr, mut client) = h2c(&seen).await;
    let offer = DeflateConfig::new().client_offer();
    let (mut socket, headers) = H2WebSocket::open(
        &mut client,
        "http",
        addr,
        "/deflate",
        &[("sec-websocket-extensions", offer.as_str())],
    )
    .await;
    let answer = headers["sec-websocket-extensions"].to_str().unwrap();
    assert!(answer.starts_with("permessage-deflate"), "{answer}");
    assert_eq!(
        socket.text().await,
        "open HTTP/2.0 subprotocol none compressed true"
    );
    let text = "compress me, ".repeat(300);
    let before = socket.received;
    socket.send(&Message::text(text.clone()));
    assert_eq!(socket.text().await, text);
    assert!(socket.last_compressed, "the echo has RSV1 set");
    assert!(
        socket.received - before < text.len() / 4,
        "{} bytes on the wire for {}",
        socket.received - before,
        text.len()
    );
    socket.send(&Message::Close(Some(CloseFrame::new(
        CloseCode::NORMAL,
        "",
    ))));
    assert_eq!(socket.closed().await, Some(1000));
    server.stop().await;
}

#[actix_rt::test]
async fn two_websockets_and_a_get_share_one_connection() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr, mut client) = h2c(&seen).await;
    let (mut first, _) = H2WebSocket::open(&mut client, "http", addr, "/ws", &[]).await;
    let (mut second, _) = H2WebSocket::open(&mut client, "http", addr, "/deflate", &[]).await;
    first.text().await;
    second.text().await;
    first.send(&Message::text("one"));
    second.send(&Message::text("two"));

    // A plain GET on the same connection while both are open.
    let request = Request::get(format!("http://localhost:{}/", addr.port()))
        .body(())
        .unwrap();
    client = bounded(client.ready()).await.unwrap();
    let (answer, _) = client.send_request(request, true).unwrap();
    let answer = bounded(answer).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let mut body = answer.into_body();
    let mut page = Vec::new();
    while let Some(data) = bounded(body.data()).await {
        page.extend_from_slice(&data.unwrap());
    }
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("<p id=version>HTTP/2.0</p>"), "{page}");

    assert_eq!(second.text().await, "two");
    assert_eq!(first.text().await, "one");
    second.send(&Message::text("two again"));
    assert_eq!(second.text().await, "two again");
    first.send(&Message::Close(None));
    assert_eq!(first.closed().await, None);
    second.send(&Message::text("after the first closed"));
    assert_eq!(second.text().await, "after the first closed");
    assert_eq!(
        server.registry().unwrap().len(),
        2,
        "the connection and one WebSocket"
    );
    server.stop().await;
}

#[actix_rt::test]
async fn bad_extended_connects_are_refused() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr, mut client) = h2c(&seen).await;

    // A version other than 13: 400 naming 13 (426 needs an Upgrade field, forbidden in HTTP/2).
    let request = extended_connect(
        "http",
        addr,
        "/ws",
        "websocket",
        &[("sec-websocket-version", "8")],
    );
    let (answer, _) = open_stream(&mut client, request).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);
    assert_eq!(answer.headers()["sec-websocket-version"], "13");

    // No version at all.
    let request = extended_connect("http", addr, "/ws", "websocket", &[]);
    let (answer, _) = open_stream(&mut client, request).await;
    assert_eq!(answer.status(), StatusCode::BAD_REQUEST);

    // A protocol nobody here speaks.
    let request = extended_connect(
        "http",
        addr,
        "/ws",
        "webtransport",
        &[("sec-websocket-version", "13")],
    );
    let (answer, _) = open_stream(&mut client, request).await;
    assert_eq!(answer.status(), StatusCode::NOT_IMPLEMENTED);

    // A GET to the WebSocket route over HTTP/2 is not a WebSocket request.
    let request = Request::get(format!("http://localhost:{}/ws", addr.port()))
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    client = bounded(client.ready()).await.unwrap();
    let (answer, _) = client.send_request(request, true).unwrap();
    assert_eq!(
        bounded(answer).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    // A foreign origin: refused by the same check as on HTTP/1.1.
    let request = extended_connect(
        "http",
        addr,
        "/ws",
        "websocket",
        &[
            ("sec-websocket-version", "13"),
            ("origin", "https://elsewhere.example"),
        ],
    );
    let (answer, _) = open_stream(&mut client, request).await;
    assert_eq!(answer.status(), StatusCode::FORBIDDEN);

    // The connection is fine after all that.
    let (mut socket, _) = H2WebSocket::open(&mut client, "http", addr, "/ws", &[]).await;
    assert_eq!(
        socket.text().await,
        "open HTTP/2.0 subprotocol none compressed false"
    );
    assert!(seen.versions.lock().unwrap().len() == 1, "only one opened");
    server.stop().await;
}

#[actix_rt::test]
async fn a_client_resetting_its_websocket_stream_closes_only_that_websocket() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr, mut client) = h2c(&seen).await;
    let mut kept = H2WebSocket::opened(&mut client, "http", addr).await;
    let mut reset = H2WebSocket::opened(&mut client, "http", addr).await;
    // Half a frame, then RST_STREAM: the WebSocket actor sees a reset transport.
    reset.send_raw(Bytes::from_static(&[0x81, 0x85, 0, 0]));
    reset.send.send_reset(h2::Reason::CANCEL);
    until("on_close for the reset stream", || {
        seen.closes.lock().unwrap().len() == 1
    })
    .await;
    assert_eq!(*seen.closes.lock().unwrap(), [None], "no close frame came");
    until("its registry entry gone", || {
        server.registry().unwrap().len() == 2
    })
    .await;
    kept.send(&Message::text("unaffected"));
    assert_eq!(kept.text().await, "unaffected");
    server.stop().await;
}

#[actix_rt::test]
async fn a_client_that_opens_no_window_gets_the_stream_reset_with_cancel() {
    let seen = Arc::new(Seen::default());
    let settings = Settings::default()
        .websocket_config(WebSocketConfig::default().write_timeout(Duration::from_millis(200)))
        .websocket_max_message_size(MAX_MESSAGE);
    let mut server = HttpServer::new(application_with(&seen, settings)).http2(true);
    let addr = start_http(&mut server, 1);
    let mut client = connect_h2c(addr).await;
    let mut socket = H2WebSocket::opened(&mut client, "http", addr).await;
    // An echo five times the client's window, which the client never gives back: the
    // WebSocket actor's write waits, its write_timeout passes, and it gives up on the peer.
    socket.send(&Message::binary(vec![1u8; 320_000]));
    let mut received = 0;
    let error = loop {
        match bounded(socket.recv.data()).await {
            Some(Ok(data)) => received += data.len(),
            Some(Err(error)) => break error,
            None => panic!("the stream ended in order after {received} bytes"),
        }
    };
    assert_eq!(error.reason(), Some(h2::Reason::CANCEL), "{error}");
    assert!(received <= 65_535, "{received} bytes beyond the window");
    until("on_close", || seen.closes.lock().unwrap().len() == 1).await;
    server.stop().await;
}

#[actix_rt::test]
async fn without_the_setting_no_extended_connect_is_allowed() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr) =
        h2c_server(&seen, Http2Config::default().enable_connect_protocol(false));
    let client = connect_h2c(addr).await;
    assert!(!client.is_extended_connect_protocol_enabled());
    server.stop().await;
}

#[actix_rt::test]
async fn graceful_shutdown_closes_the_websocket_with_1001() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr, mut client) = h2c(&seen).await;
    let mut socket = H2WebSocket::opened(&mut client, "http", addr).await;
    let started = std::time::Instant::now();
    let shutdown = async {
        let report = server.shutdown(WAIT).await;
        (report, started.elapsed())
    };
    let client_side = async {
        // The client answers the server's close, as a browser does.
        let code = socket.server_close().await;
        socket.send(&Message::Close(Some(CloseFrame::new(CloseCode(1001), ""))));
        assert!(socket.next().await.is_none(), "the stream ends");
        code
    };
    let ((report, took), code) = futures::join!(shutdown, client_side);
    assert_eq!(code, Some(CloseCode::GOING_AWAY.0));
    assert_eq!(report.forced, 0, "{report:?}");
    assert!(took < WAIT / 2, "the shutdown waited {took:?}");
}

/// The most the browser part may take, start to finish.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The most chromedriver may take to start a session.
const START_TIMEOUT: Duration = Duration::from_secs(60);

#[actix_rt::test]
async fn chromium_opens_a_websocket_over_http2() {
    let Some(binaries) = support::browser::require_browser() else {
        return;
    };
    let seen = Arc::new(Seen::default());
    let pki = Pki::generate();
    let (mut server, addr) = tls_server(&seen, &pki, true);
    // The control: the same server without the setting, where Chromium must fall back to an
    // HTTP/1.1 upgrade on a connection of its own (so the first server's result is RFC 8441's
    // doing, not something Chromium does anyway).
    let unannounced = Arc::new(Seen::default());
    let mut control = HttpServer::new(application(&unannounced))
        .ssl_options(pki.server().build().unwrap())
        .http2_config(Http2Config::default().enable_connect_protocol(false));
    let control_addr = start_http(&mut control, 1);

    let browsers =
        Browsers::trusting(&binaries, "ws-h2-browser", &pki.server_key, START_TIMEOUT).await;
    let origin = format!("https://localhost:{}", addr.port());
    let control_origin = format!("https://localhost:{}", control_addr.port());
    let outcome = browsers
        .run(TEST_TIMEOUT, async |browsers| {
            let browser = &browsers[0];
            let page_port = browser_scenario(browser, &origin, "HTTP/2.0").await;
            let control_port = browser_scenario(browser, &control_origin, "HTTP/1.1").await;
            (page_port, control_port)
        })
        .await;
    let ports = match &outcome {
        Ok(Ok(ports)) => Some(*ports),
        _ => None,
    };
    server.stop().await;
    control.stop().await;
    finish(outcome.map(|run| run.map(drop)), TEST_TIMEOUT);
    // The handler saw the WebSocket's request arrive over HTTP/2 (an extended CONNECT on the
    // page's own connection), not as an HTTP/1.1 upgrade on a second connection: Chromium
    // uses RFC 8441 once the server announced SETTINGS_ENABLE_CONNECT_PROTOCOL.
    assert_eq!(*seen.versions.lock().unwrap(), [Version::HTTP_2]);
    let (page_port, control_page_port) = ports.unwrap();
    assert_eq!(
        *seen.ports.lock().unwrap(),
        [page_port],
        "the page's connection"
    );
    // Without the setting: an HTTP/1.1 upgrade, on another connection than the page's.
    assert_eq!(*unannounced.versions.lock().unwrap(), [Version::HTTP_11]);
    assert_ne!(unannounced.ports.lock().unwrap()[0], control_page_port);
}

/// Loads the page over HTTP/2, opens a WebSocket from it and checks the echo, its `open`
/// message naming `websocket_version`; returns the client port the page came over.
async fn browser_scenario(browser: &Client, origin: &str, websocket_version: &str) -> u16 {
    browser.goto(&format!("{origin}/")).await.unwrap();
    let seen = browser
        .execute(
            "return [document.getElementById('version').textContent, \
                     performance.getEntriesByType('navigation')[0].nextHopProtocol, \
                     document.getElementById('port').textContent];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        (seen[0].as_str(), seen[1].as_str()),
        (Some("HTTP/2.0"), Some("h2")),
        "the page"
    );
    let port = seen[2].as_str().unwrap().parse().unwrap();
    let echoed = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const socket = new WebSocket('wss://' + location.host + '/deflate');
             const got = [];
             socket.onmessage = (event) => {
                 got.push(event.data);
                 if (got.length === 1) { socket.send('from the browser'); }
                 else { socket.close(1000); }
             };
             socket.onclose = (event) => done([got, event.code, socket.extensions]);
             socket.onerror = () => got.push('error');",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        (&echoed[0], &echoed[1]),
        (
            &serde_json::json!([
                format!("open {websocket_version} subprotocol none compressed true"),
                "from the browser"
            ]),
            &serde_json::json!(1000)
        ),
        "the WebSocket"
    );
    let extensions = echoed[2].as_str().unwrap();
    assert!(extensions.starts_with("permessage-deflate"), "{extensions}");
    port
}

/// `websocket_connect` over HTTP/2 with `request`: the handler's greeting, an echo (one
/// large enough to wait for window both ways), and the server's close (4001).
async fn connect_scenario(request: ConnectRequest, greeting: &str) {
    let mut connection = bounded(websocket_connect(request)).await.unwrap();
    assert_eq!(
        bounded(connection.read_message()).await,
        Some(Message::text(greeting))
    );
    bounded(connection.write_message(Message::text("hello from cyclone's client")))
        .await
        .unwrap();
    assert_eq!(
        bounded(connection.read_message()).await,
        Some(Message::text("hello from cyclone's client"))
    );
    let large: Bytes = (0..320_000u32).map(|index| (index % 251) as u8).collect();
    bounded(connection.write_message(Message::binary(large.clone())))
        .await
        .unwrap();
    assert_eq!(
        bounded(connection.read_message()).await,
        Some(Message::binary(large))
    );
    bounded(connection.write_message(Message::text("close")))
        .await
        .unwrap();
    assert_eq!(bounded(connection.read_message()).await, None);
    let close = connection
        .close_frame()
        .flatten()
        .expect("the server's close frame");
    assert_eq!(close.code, CloseCode(4001));
}

#[actix_rt::test]
async fn cyclones_client_opens_its_websocket_over_cleartext_http2() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr) = h2c_server(&seen, Http2Config::default());
    let request = ConnectRequest::new(format!("ws://{addr}/ws"))
        .http2(true)
        .subprotocols(["other", "chat"]);
    connect_scenario(request, "open HTTP/2.0 subprotocol chat compressed false").await;
    assert_eq!(*seen.versions.lock().unwrap(), [Version::HTTP_2]);
    until("on_close", || !seen.closes.lock().unwrap().is_empty()).await;
    assert_eq!(*seen.closes.lock().unwrap(), [Some(4001)]);
    server.stop().await;
}

#[actix_rt::test]
async fn cyclones_client_opens_its_websocket_over_tls_h2_compressed() {
    let seen = Arc::new(Seen::default());
    let pki = Pki::generate();
    let (mut server, addr) = tls_server(&seen, &pki, true);
    let request = ConnectRequest::new(format!("wss://localhost:{}/deflate", addr.port()))
        .http2(true)
        .tls(trusting(&pki))
        .config(WebSocketConfig::default().compression(Some(DeflateConfig::new())));
    connect_scenario(request, "open HTTP/2.0 subprotocol none compressed true").await;
    assert_eq!(*seen.versions.lock().unwrap(), [Version::HTTP_2]);
    server.stop().await;
}

#[actix_rt::test]
async fn cyclones_client_is_refused_without_the_setting_or_without_h2() {
    let seen = Arc::new(Seen::default());
    let (mut server, addr) =
        h2c_server(&seen, Http2Config::default().enable_connect_protocol(false));
    let refused = bounded(websocket_connect(
        ConnectRequest::new(format!("ws://{addr}/ws")).http2(true),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(
            refused,
            WebSocketError::Handshake(HandshakeError::ExtendedConnectNotEnabled)
        ),
        "{refused:?}"
    );
    server.stop().await;

    // A TLS server that speaks HTTP/1.1 only: no `h2` by ALPN, so nothing is sent.
    let pki = Pki::generate();
    let (mut server, addr) = tls_server(&seen, &pki, false);
    let tls = trusting(&pki);
    let request = ConnectRequest::new(format!("wss://localhost:{}/ws", addr.port()));
    let refused = bounded(websocket_connect(
        request.clone().tls(tls.clone()).http2(true),
    ))
    .await
    .unwrap_err();
    assert!(
        matches!(refused, WebSocketError::Handshake(HandshakeError::NoHttp2)),
        "{refused:?}"
    );
    // The same request over HTTP/1.1 opens.
    let mut connection = bounded(websocket_connect(request.tls(tls))).await.unwrap();
    assert_eq!(
        bounded(connection.read_message()).await,
        Some(Message::text(
            "open HTTP/1.1 subprotocol none compressed false"
        ))
    );
    assert_eq!(
        seen.versions.lock().unwrap().last(),
        Some(&Version::HTTP_11)
    );
    server.stop().await;
}
