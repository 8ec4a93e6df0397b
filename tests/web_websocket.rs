//! WebSocketHandler through real sockets: the handshake's answers (426, 400, 403), subprotocol
//! choice, echo of text and binary, pings and pongs both ways, close codes both ways, the
//! message size limit (1009), permessage-deflate, `on_close` exactly once, a write from
//! another thread through the connection's handle, `wait_for` holding reading back, and
//! `prepare` refusing an upgrade without a valid signed cookie, and a panicking handler closed
//! with 1011 while the others go on.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use bytes::Bytes;
use cyclone::httpserver::HttpServerRequest;
use cyclone::testing::TestServer;
use cyclone::web::{Application, PathArgs, Settings, url};
use cyclone::websocket::ConnectRequest;
use cyclone::websocket::{
    CloseCode, CloseFrame, DeflateConfig, Message, WebSocket, WebSocketConfig, WebSocketContext,
    WebSocketHandler, websocket, websocket_with,
};
use support::logs::AccessLog;
use support::raw_http::{Client, head_of_answer, loopback};
use support::servers::listen_http;
use support::wait::{self, WAIT};
use support::ws::{
    BIG_ANSWER, SAMPLE_ACCEPT_LOWERCASE, assert_echoed, assert_reading_is_paced, next_message,
    raw_handshake, upgrade_request,
};

/// How long `on_close` is watched for running a second time.
const SECOND_CLOSE_WINDOW: Duration = Duration::from_millis(200);

/// What the server side saw, shared with the test.
#[derive(Default)]
struct Seen {
    /// `on_close` calls.
    closes: AtomicUsize,
    /// The close code and reason `on_close` got.
    close: Mutex<Option<(Option<u16>, Option<String>)>>,
    /// Where `open` sends the connection's handle.
    handles: Mutex<Option<mpsc::Sender<WebSocket>>>,
}

/// Echoes, and answers a few commands: `ping` (pings the client), `close` (closes with 4001).
struct Probe {
    /// Shared with the test.
    seen: Arc<Seen>,
    /// Whether to offer compression.
    compress: bool,
}

impl WebSocketHandler for Probe {
    fn select_subprotocol(&mut self, subprotocols: &[String]) -> Option<String> {
        subprotocols.iter().find(|name| *name == "chat").cloned()
    }

    fn get_compression_options(&self) -> Option<DeflateConfig> {
        self.compress.then(DeflateConfig::new)
    }

    fn open(&mut self, cx: &mut WebSocketContext<'_>, args: &PathArgs, _: &HttpServerRequest) {
        if let Some(name) = args.get(0).filter(|name| !name.is_empty()) {
            cx.write_message(Message::text(format!("hello {name}")));
        }
        if let Some(sender) = self.seen.handles.lock().unwrap().as_ref() {
            sender.send(cx.handle()).unwrap();
        }
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        match &message {
            Message::Text(text) if text.as_str() == "ping" => {
                cx.ping(Bytes::from_static(b"server"))
            }
            Message::Text(text) if text.as_str() == "close" => {
                cx.close(CloseCode(4001), "server says bye");
            }
            Message::Text(text) if text.as_str() == "subprotocol?" => {
                let answer = cx.selected_subprotocol().unwrap_or("none").to_owned();
                cx.write_message(Message::text(answer));
            }
            Message::Text(text) if text.as_str() == "compressed?" => {
                let answer = cx.is_compressed().to_string();
                cx.write_message(Message::text(answer));
            }
            _ => {
                let flushed = cx.write_message(message);
                cx.wait_for(flushed);
            }
        }
    }

    fn on_ping(&mut self, cx: &mut WebSocketContext<'_>, data: &Bytes) {
        let text = format!("on_ping {}", String::from_utf8_lossy(data));
        cx.write_message(Message::text(text));
    }

    fn on_pong(&mut self, cx: &mut WebSocketContext<'_>, data: &Bytes) {
        let text = format!("on_pong {}", String::from_utf8_lossy(data));
        cx.write_message(Message::text(text));
    }

    fn on_close(&mut self, close_code: Option<CloseCode>, close_reason: Option<&str>) {
        self.seen.closes.fetch_add(1, Ordering::SeqCst);
        *self.seen.close.lock().unwrap() = Some((
            close_code.map(|code| code.0),
            close_reason.map(str::to_owned),
        ));
    }
}

/// An echo handler with all the defaults (same-origin check, no subprotocol, no compression).
#[derive(Default)]
struct Plain;

impl WebSocketHandler for Plain {
    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        cx.write_message(message);
    }
}

fn app_with(seen: &Arc<Seen>, settings: Settings) -> Application {
    let (plain, compressed) = (seen.clone(), seen.clone());
    Application::with_settings(
        [
            url(
                r"/ws/?(\w*)",
                websocket_with(move || Probe {
                    seen: plain.clone(),
                    compress: false,
                }),
            ),
            url(
                "/deflate",
                websocket_with(move || Probe {
                    seen: compressed.clone(),
                    compress: true,
                }),
            ),
            url("/plain", websocket::<Plain>()),
        ],
        settings,
    )
    .unwrap()
}

fn start() -> (TestServer, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    let server = TestServer::start(app_with(&seen, Settings::default())).unwrap();
    (server, seen)
}

#[actix_rt::test]
async fn version_13_upgrades_with_the_rfc_accept_key() {
    let (server, _) = start();
    let head = head_of_answer(
        loopback(server.port()),
        upgrade_request("/plain", "Sec-WebSocket-Version: 13\r\n").as_bytes(),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 101 "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains(&format!("sec-websocket-accept: {SAMPLE_ACCEPT_LOWERCASE}")),
        "{head}"
    );
}

#[actix_rt::test]
async fn another_version_is_answered_426_with_the_version_we_speak() {
    let (server, _) = start();
    let head = head_of_answer(
        loopback(server.port()),
        upgrade_request("/plain", "Sec-WebSocket-Version: 8\r\n").as_bytes(),
    )
    .await;
    assert!(head.starts_with("HTTP/1.1 426 "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("sec-websocket-version: 13\r\n"),
        "{head}"
    );
}

#[actix_rt::test]
async fn a_request_that_is_not_an_upgrade_is_answered_400() {
    let (server, _) = start();
    let port = server.port();
    let plain_get = "GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    assert!(
        head_of_answer(loopback(port), plain_get.as_bytes())
            .await
            .starts_with("HTTP/1.1 400 ")
    );
    let post = upgrade_request(
        "/plain",
        "Sec-WebSocket-Version: 13\r\nContent-Length: 0\r\n",
    )
    .replacen("GET", "POST", 1);
    assert!(
        head_of_answer(loopback(port), post.as_bytes())
            .await
            .starts_with("HTTP/1.1 400 ")
    );
    let no_key = "GET /plain HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n\
                  Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n";
    assert!(
        head_of_answer(loopback(port), no_key.as_bytes())
            .await
            .starts_with("HTTP/1.1 400 ")
    );
}

#[actix_rt::test]
async fn a_cross_origin_page_is_refused_403_and_the_same_origin_accepted() {
    let (server, _) = start();
    let cross = server
        .websocket_connect_request(
            ConnectRequest::new(server.ws_url("/plain")).header("Origin", "http://evil.example"),
        )
        .await;
    let error = cross.expect_err("a cross-origin upgrade must be refused");
    assert!(error.to_string().contains("403"), "{error}");

    let same = format!("http://127.0.0.1:{}", server.port());
    let mut client = server
        .websocket_connect_request(
            ConnectRequest::new(server.ws_url("/plain")).header("Origin", &same),
        )
        .await
        .unwrap();
    assert_echoed(&mut client, Message::text("hi")).await;
}

#[actix_rt::test]
async fn the_handler_selects_one_offered_subprotocol() {
    let (server, _) = start();
    let mut client = server
        .websocket_connect_request(
            ConnectRequest::new(server.ws_url("/ws")).subprotocols(["other", "chat"]),
        )
        .await
        .unwrap();
    assert_eq!(client.subprotocol(), Some("chat"));
    // The handler's callbacks see the same choice (Tornado's `selected_subprotocol`).
    client
        .write_message(Message::text("subprotocol?"))
        .await
        .unwrap();
    assert_eq!(next_message(&mut client).await, Some(Message::text("chat")));
    let mut none = server
        .websocket_connect_request(ConnectRequest::new(server.ws_url("/ws")).subprotocols(["x"]))
        .await
        .unwrap();
    assert_eq!(none.subprotocol(), None);
    none.write_message(Message::text("subprotocol?"))
        .await
        .unwrap();
    assert_eq!(next_message(&mut none).await, Some(Message::text("none")));
}

#[actix_rt::test]
async fn open_gets_the_path_arguments_and_messages_echo_as_text_and_binary() {
    let (server, _) = start();
    let mut client = server.websocket_connect("/ws/alice").await.unwrap();
    assert_eq!(
        next_message(&mut client).await,
        Some(Message::text("hello alice"))
    );
    assert_echoed(&mut client, Message::text("héllo")).await;
    assert_echoed(&mut client, Message::binary(vec![0u8, 255, 1, 254])).await;
}

#[actix_rt::test]
async fn pings_are_answered_and_reported_both_ways() {
    let (server, _) = start();
    let mut client = server.websocket_connect("/ws").await.unwrap();
    client.handle().ping(Bytes::from_static(b"client")).unwrap();
    assert_eq!(
        next_message(&mut client).await,
        Some(Message::text("on_ping client"))
    );
    // The server pings; our client's automatic pong reaches on_pong.
    client.write_message(Message::text("ping")).await.unwrap();
    assert_eq!(
        next_message(&mut client).await,
        Some(Message::text("on_pong server"))
    );
}

#[actix_rt::test]
async fn close_codes_reach_on_close_and_the_client() {
    let (server, seen) = start();
    let client = server.websocket_connect("/ws").await.unwrap();
    client.close(CloseCode(4000), "client says bye");
    wait::until("on_close runs", || seen.closes.load(Ordering::SeqCst) == 1).await;
    assert_eq!(
        *seen.close.lock().unwrap(),
        Some((Some(4000), Some("client says bye".to_owned())))
    );

    let mut client = server.websocket_connect("/ws").await.unwrap();
    client.write_message(Message::text("close")).await.unwrap();
    assert_eq!(next_message(&mut client).await, None);
    assert_eq!(
        client.close_frame(),
        Some(Some(CloseFrame::new(CloseCode(4001), "server says bye")))
    );
}

#[actix_rt::test]
async fn a_message_over_the_size_setting_is_closed_1009() {
    // The limit from Tornado's setting, from the base `websocket_config`, and from both (the
    // named setting wins over the base).
    for settings in [
        Settings::default().websocket_max_message_size(1024),
        Settings::default().websocket_config(WebSocketConfig::new().max_message_size(1024)),
        Settings::default()
            .websocket_config(WebSocketConfig::new().max_message_size(64))
            .websocket_max_message_size(1024),
    ] {
        let seen = Arc::new(Seen::default());
        assert_eq!(settings.websocket_max_message_size_or_default(), 1024);
        let server = TestServer::start(app_with(&seen, settings)).unwrap();
        let mut client = server.websocket_connect("/ws").await.unwrap();
        client
            .write_message(Message::text("a".repeat(1024)))
            .await
            .unwrap();
        assert_eq!(
            next_message(&mut client).await,
            Some(Message::text("a".repeat(1024)))
        );
        let _ = client.write_message(Message::text("a".repeat(1025))).await;
        assert_eq!(next_message(&mut client).await, None);
        let frame = client.close_frame().flatten().expect("a close frame");
        assert_eq!(frame.code, CloseCode::MESSAGE_TOO_BIG);
    }
}

#[actix_rt::test]
async fn compression_is_negotiated_when_both_sides_want_it_and_round_trips() {
    let (server, _) = start();
    let deflate = WebSocketConfig::new().compression(Some(DeflateConfig::new()));
    let mut client = server
        .websocket_connect_request(ConnectRequest::new(server.ws_url("/deflate")).config(deflate))
        .await
        .unwrap();
    assert!(client.is_compressed());
    client
        .write_message(Message::text("compressed?"))
        .await
        .unwrap();
    assert_eq!(next_message(&mut client).await, Some(Message::text("true")));
    let big = "all work and no play ".repeat(5000);
    for _ in 0..3 {
        client
            .write_message(Message::text(big.clone()))
            .await
            .unwrap();
        assert_eq!(
            next_message(&mut client).await,
            Some(Message::text(big.clone()))
        );
    }

    // A handler without compression options leaves it off even when offered.
    let deflate = WebSocketConfig::new().compression(Some(DeflateConfig::new()));
    let client = server
        .websocket_connect_request(ConnectRequest::new(server.ws_url("/ws")).config(deflate))
        .await
        .unwrap();
    assert!(!client.is_compressed());
}

#[actix_rt::test]
async fn on_close_runs_once_when_the_peer_just_disconnects() {
    let (server, seen) = start();
    let mut client = Client::connect(loopback(server.port())).await;
    let request = upgrade_request("/ws", "Sec-WebSocket-Version: 13\r\n");
    client.send(request.as_bytes()).await;
    assert_eq!(client.head_answer().await.status, 101);
    drop(client);
    wait::until("on_close runs", || seen.closes.load(Ordering::SeqCst) >= 1).await;
    wait::holds_for(SECOND_CLOSE_WINDOW, "on_close ran twice", || {
        seen.closes.load(Ordering::SeqCst) == 1
    })
    .await;
    assert_eq!(*seen.close.lock().unwrap(), Some((None, None)));
}

#[actix_rt::test]
async fn another_thread_writes_through_the_handle() {
    let (server, seen) = start();
    let (sender, handles) = mpsc::channel();
    *seen.handles.lock().unwrap() = Some(sender);
    let mut client = server.websocket_connect("/ws").await.unwrap();
    let handle = handles.recv_timeout(WAIT).unwrap();
    let writer = std::thread::spawn(move || {
        futures::executor::block_on(handle.write_message(Message::text("from afar")))
    });
    assert_eq!(
        next_message(&mut client).await,
        Some(Message::text("from afar"))
    );
    let written = tokio::task::spawn_blocking(move || writer.join().unwrap())
        .await
        .unwrap();
    assert!(written.is_ok(), "{written:?}");
}

#[actix_rt::test]
async fn the_access_log_records_the_upgrade_and_the_refusals() {
    let (settings, log) = AccessLog::record(Settings::default());
    let server = TestServer::start(app_with(&Arc::new(Seen::default()), settings)).unwrap();
    let client = server.websocket_connect("/plain").await.unwrap();
    let refused = server
        .websocket_connect_request(
            ConnectRequest::new(server.ws_url("/plain")).header("Origin", "http://evil.example"),
        )
        .await;
    assert!(refused.is_err());
    drop(client);
    // Each line without its address and time.
    let lines: Vec<String> = log
        .lines()
        .iter()
        .map(|line| line.split(" (").next().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(lines, ["101 GET /plain", "403 GET /plain"]);
}

#[actix_rt::test]
async fn the_ping_interval_setting_pings_the_client() {
    let seen = Arc::new(Seen::default());
    let settings = Settings::default().websocket_ping_interval(Duration::from_millis(50));
    let server = TestServer::start(app_with(&seen, settings)).unwrap();
    let mut client = server.websocket_connect("/ws").await.unwrap();
    // The server's own ping, answered by our client's automatic pong, reaches on_pong.
    assert_eq!(
        next_message(&mut client).await,
        Some(Message::text("on_pong "))
    );
}

/// Awaits its writes' futures in tasks of their own and reports what they resolved to:
/// `write` writes once; `close` closes, then writes (too late).
struct FlushReporter {
    /// The `Debug` form of each result, in order.
    results: Arc<Mutex<Vec<String>>>,
}

impl WebSocketHandler for FlushReporter {
    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        if message == Message::text("close") {
            cx.close(CloseCode::NORMAL, "");
        }
        let flushed = cx.write_message(Message::text("written"));
        let results = self.results.clone();
        actix_rt::spawn(async move {
            let result = flushed.await;
            results.lock().unwrap().push(format!("{result:?}"));
        });
    }
}

#[actix_rt::test]
async fn write_futures_resolve_in_other_tasks_once_written_and_fail_once_closed() {
    let results = Arc::new(Mutex::new(Vec::new()));
    let shared = results.clone();
    let app = Application::new([url(
        "/flush",
        websocket_with(move || FlushReporter {
            results: shared.clone(),
        }),
    )])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let mut client = server.websocket_connect("/flush").await.unwrap();
    client.write_message(Message::text("write")).await.unwrap();
    assert_eq!(
        next_message(&mut client).await,
        Some(Message::text("written"))
    );
    wait::until("the first write resolves", || {
        results.lock().unwrap().len() == 1
    })
    .await;
    client.write_message(Message::text("close")).await.unwrap();
    wait::until("the late write resolves", || {
        results.lock().unwrap().len() == 2
    })
    .await;
    assert_eq!(*results.lock().unwrap(), ["Ok(())", "Err(Closed)"]);
}

/// Reports every message's text; answers "big" with [`BIG_ANSWER`] bytes and
/// `wait_for`s the write; on "hold", `wait_for`s a oneshot the test fires.
struct Paced {
    seen: tokio::sync::mpsc::UnboundedSender<Message>,
    holds: tokio::sync::mpsc::UnboundedSender<tokio::sync::oneshot::Sender<()>>,
}

impl WebSocketHandler for Paced {
    fn check_origin(&self, _: &str, _: &HttpServerRequest) -> bool {
        true
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        let _ = self.seen.send(message.clone());
        let Message::Text(text) = message else { return };
        if text == "big" {
            let flushed = cx.write_message(Message::Binary(vec![b'b'; BIG_ANSWER].into()));
            cx.wait_for(flushed);
        } else if text == "hold" {
            let (fire, fired) = tokio::sync::oneshot::channel::<()>();
            let _ = self.holds.send(fire);
            cx.wait_for(fired);
        }
    }
}

#[actix_rt::test]
async fn wait_for_stops_reading_until_the_write_is_out_or_the_future_done() {
    let (seen_sender, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let (holds_sender, mut holds) = tokio::sync::mpsc::unbounded_channel();
    let server = cyclone::httpserver::HttpServer::new(move |request| {
        let handler = Paced {
            seen: seen_sender.clone(),
            holds: holds_sender.clone(),
        };
        // A write queue cap above the answer: only `wait_for` keeps the server from reading.
        let config = WebSocketConfig::new().max_write_queue(4 * BIG_ANSWER);
        async move { cyclone::websocket::upgrade(request, handler, PathArgs::default(), config) }
    });
    let (_server, addr) = listen_http(server);
    // A raw client: it reads only when the test says so.
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let read = raw_handshake(&mut stream).await;

    assert_reading_is_paced(&mut stream, read, &mut seen, &mut holds).await;
}

/// Only for visitors with a signed `user` cookie; greets them by name on open.
#[derive(Default)]
struct MembersOnly {
    user: String,
}

impl WebSocketHandler for MembersOnly {
    fn prepare(
        &mut self,
        upgrade: &cyclone::websocket::UpgradeRequest<'_>,
    ) -> Result<(), cyclone::web::HttpError> {
        let user = upgrade.get_signed_cookie("user");
        self.user = user.ok_or(cyclone::web::HttpError::new(http::StatusCode::UNAUTHORIZED))?;
        Ok(())
    }

    fn open(&mut self, cx: &mut WebSocketContext<'_>, _: &PathArgs, _: &HttpServerRequest) {
        cx.write_message(Message::text(format!("welcome {}", self.user)));
    }

    fn on_message(&mut self, _: &mut WebSocketContext<'_>, _: Message) {}
}

#[actix_rt::test]
async fn prepare_refuses_an_upgrade_without_a_valid_signed_cookie() {
    let secret = cyclone::web::CookieSecret::new("websocket test secret");
    let settings = Settings::default().cookie_secret(secret.clone());
    let app = Application::with_settings([url("/members", websocket::<MembersOnly>())], settings)
        .unwrap();
    let server = TestServer::start(app).unwrap();
    let upgrade_with = |cookie: &str| {
        upgrade_request(
            "/members",
            &format!("Sec-WebSocket-Version: 13\r\nCookie: user={cookie}\r\n"),
        )
    };
    // No cookie, and a cookie signed with another secret: 401 with the error page, no upgrade.
    let forged = cyclone::web::signed::create_signed_value(
        &cyclone::web::CookieSecret::new("another secret"),
        None,
        "user",
        b"mallory",
        std::time::SystemTime::now(),
    )
    .unwrap();
    for request in [
        upgrade_request("/members", "Sec-WebSocket-Version: 13\r\n"),
        upgrade_with(&forged),
    ] {
        let head = head_of_answer(loopback(server.port()), request.as_bytes()).await;
        assert!(head.starts_with("HTTP/1.1 401 "), "{head}");
    }
    // A cookie signed with the application's secret upgrades, and `open` knows the user.
    let signed = cyclone::web::signed::create_signed_value(
        &secret,
        None,
        "user",
        b"alice",
        std::time::SystemTime::now(),
    )
    .unwrap();
    let request = ConnectRequest::new(format!("ws://127.0.0.1:{}/members", server.port()))
        .header("Cookie", &format!("user={signed}"));
    let mut client = cyclone::websocket::websocket_connect(request)
        .await
        .unwrap();
    assert_eq!(
        next_message(&mut client).await,
        Some(Message::text("welcome alice"))
    );
}

/// Echoes; panics on "boom" (in `on_message`) and on "boom later" (in the future it waits for).
#[derive(Default)]
struct Fragile {
    closes: Arc<AtomicUsize>,
}

impl WebSocketHandler for Fragile {
    fn check_origin(&self, _: &str, _: &HttpServerRequest) -> bool {
        true
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        if message == Message::text("boom") {
            panic!("the handler broke");
        }
        if message == Message::text("boom later") {
            cx.wait_for(async { panic!("the handler's future broke") });
            return;
        }
        cx.write_message(message);
    }

    fn on_close(&mut self, _: Option<CloseCode>, _: Option<&str>) {
        self.closes.fetch_add(1, Ordering::SeqCst);
    }
}

#[actix_rt::test]
async fn a_panicking_handler_closes_its_connection_with_1011_and_the_others_go_on() {
    let closes = Arc::new(AtomicUsize::new(0));
    let counter = closes.clone();
    let app = Application::new([url(
        "/fragile",
        websocket_with(move || Fragile {
            closes: counter.clone(),
        }),
    )])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let mut bystander = server.websocket_connect("/fragile").await.unwrap();
    for trigger in ["boom", "boom later"] {
        let mut victim = server.websocket_connect("/fragile").await.unwrap();
        victim.write_message(Message::text(trigger)).await.unwrap();
        assert_eq!(
            next_message(&mut victim).await,
            None,
            "{trigger}: the connection ends"
        );
        assert_eq!(
            victim.close_frame().flatten().map(|frame| frame.code),
            Some(CloseCode::INTERNAL_ERROR),
            "{trigger}"
        );
        // The connection that shares the loop goes on.
        assert_echoed(&mut bystander, Message::text("still here")).await;
    }
    wait::until("both victims are closed", || {
        closes.load(Ordering::SeqCst) == 2
    })
    .await;
    // And new connections are accepted.
    let mut newcomer = server.websocket_connect("/fragile").await.unwrap();
    assert_echoed(&mut newcomer, Message::text("hi")).await;
}

/// `open` waits for work (Tornado's coroutine `open`): the test's gate, then a note.
struct GatedOpen {
    gate: Arc<Mutex<Option<tokio::sync::oneshot::Receiver<()>>>>,
    order: Arc<Mutex<Vec<String>>>,
}

impl WebSocketHandler for GatedOpen {
    fn open(&mut self, cx: &mut WebSocketContext<'_>, _: &PathArgs, _: &HttpServerRequest) {
        let gate = self.gate.lock().unwrap().take();
        let order = self.order.clone();
        cx.wait_for(async move {
            if let Some(gate) = gate {
                let _ = gate.await;
            }
            order.lock().unwrap().push("open done".to_owned());
        });
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        if let Message::Text(text) = &message {
            self.order.lock().unwrap().push(text.as_str().to_owned());
        }
        cx.write_message(message);
    }
}

#[actix_rt::test]
async fn work_open_waits_for_runs_before_the_first_message_is_read() {
    let (release, gate) = tokio::sync::oneshot::channel();
    let gate = Arc::new(Mutex::new(Some(gate)));
    let order = Arc::new(Mutex::new(Vec::new()));
    let (handler_gate, handler_order) = (gate.clone(), order.clone());
    let app = Application::new([url(
        "/gated",
        websocket_with(move || GatedOpen {
            gate: handler_gate.clone(),
            order: handler_order.clone(),
        }),
    )])
    .unwrap();
    let server = TestServer::start(app).unwrap();
    let mut client = server.websocket_connect("/gated").await.unwrap();
    client.write_message(Message::text("first")).await.unwrap();
    release.send(()).unwrap();
    assert_eq!(
        next_message(&mut client).await,
        Some(Message::text("first"))
    );
    assert_eq!(*order.lock().unwrap(), ["open done", "first"]);
    server.stop().await;
}
