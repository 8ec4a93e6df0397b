//! permessage-deflate for many connections, over real sockets: an idle compressed connection
//! holds no zlib state (by its own accounting, [`WebSocket::stats`]), a broadcast of one shared
//! [`Message`] through the members' handles reaches members with different windows, with and
//! without context takeover and without compression, and is compressed once per window size,
//! and clients with different offers interoperate: cyclone's own with each parameter,
//! Tornado's client, and Python's `websockets` client with both its offers (Python peers
//! started by the test). Chromium's offer is in `websocket_deflate_browser.rs`.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use cyclone::httpserver::HttpServerRequest;
use cyclone::testing::TestServer;
use cyclone::web::{Application, PathArgs, url};
use cyclone::websocket::{
    ClientConnection, ConnectRequest, DeflateConfig, Message, WebSocket, WebSocketConfig,
    WebSocketContext, WebSocketHandler, broadcast_counts, websocket_with,
};
use support::python::run_python;
use support::wait::bounded;
use support::ws::next_message;

/// Where each member's `open` sends its name (the last path segment) and handle.
type Members = Arc<Mutex<mpsc::Sender<(String, WebSocket)>>>;

/// Echoes; tells the test its handle on open.
struct Member {
    /// Shared with the test.
    members: Members,
    /// What it accepts: `None` leaves compression off.
    compression: Option<DeflateConfig>,
}

impl WebSocketHandler for Member {
    fn check_origin(&self, _origin: &str, _request: &HttpServerRequest) -> bool {
        true
    }

    fn get_compression_options(&self) -> Option<DeflateConfig> {
        self.compression.clone()
    }

    fn open(&mut self, cx: &mut WebSocketContext<'_>, args: &PathArgs, _: &HttpServerRequest) {
        let name = args.get(0).unwrap_or_default().to_owned();
        let _ = self.members.lock().unwrap().send((name, cx.handle()));
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        cx.write_message(message);
    }
}

/// `/pooled/NAME` (the default: no context takeover), `/takeover/NAME` (context takeover
/// kept), `/plain/NAME` (no compression).
fn app() -> (Application, mpsc::Receiver<(String, WebSocket)>) {
    let (sender, receiver) = mpsc::channel();
    let members: Members = Arc::new(Mutex::new(sender));
    let route = |pattern: &str, compression: Option<DeflateConfig>| {
        let members = members.clone();
        url(
            pattern,
            websocket_with(move || Member {
                members: members.clone(),
                compression: compression.clone(),
            }),
        )
    };
    let app = Application::new([
        route(r"/pooled/(\w+)", Some(DeflateConfig::new())),
        route(
            r"/takeover/(\w+)",
            Some(DeflateConfig::new().context_takeover(true)),
        ),
        route(r"/plain/(\w+)", None),
    ])
    .unwrap();
    (app, receiver)
}

/// Connects to `path` offering `offer` (`None`: no compression).
async fn connect(
    server: &TestServer,
    path: &str,
    offer: Option<DeflateConfig>,
) -> ClientConnection {
    let config = WebSocketConfig::new().compression(offer);
    server
        .websocket_connect_request(ConnectRequest::new(server.ws_url(path)).config(config))
        .await
        .unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// The server-side handle of the member that just connected as `name`.
async fn handle_of(members: &mpsc::Receiver<(String, WebSocket)>, name: &str) -> WebSocket {
    let (got, handle) = bounded(async {
        loop {
            if let Ok(member) = members.try_recv() {
                return member;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(got, name);
    handle
}

/// A chat-sized JSON message of about `size` bytes.
fn chat_json(size: usize) -> String {
    let mut text = String::from(r#"{"room":"lobby","user":"ada","text":""#);
    while text.len() + 2 < size {
        text.push_str("hello again ");
    }
    text.push_str(r#""}"#);
    text
}

#[actix_rt::test]
async fn an_idle_compressed_connection_holds_no_zlib_state() {
    let (app, members) = app();
    let server = TestServer::start(app).unwrap();
    let message = Message::text(chat_json(1024));

    let mut pooled = connect(&server, "/pooled/idle", Some(DeflateConfig::new())).await;
    let pooled_handle = handle_of(&members, "idle").await;
    let mut kept = connect(&server, "/takeover/kept", Some(DeflateConfig::new())).await;
    let kept_handle = handle_of(&members, "kept").await;
    for client in [&mut pooled, &mut kept] {
        assert!(client.is_compressed());
        client.write_message(message.clone()).await.unwrap();
        assert_eq!(next_message(client).await, Some(message.clone()));
    }

    // Both directions ran through zlib, and the echo is written: the connection is idle.
    let stats = pooled_handle.stats().await.unwrap();
    assert!(stats.compressed);
    assert_eq!(stats.compression_memory, 0, "{stats:?}");
    assert_eq!(stats.write_queue, 0);
    // With context takeover the same exchange leaves both contexts in place (the accounting
    // does see zlib state when there is some).
    let stats = kept_handle.stats().await.unwrap();
    assert!(stats.compressed);
    assert!(stats.compression_memory > 128 * 1024, "{stats:?}");
}

#[actix_rt::test]
async fn a_broadcast_reaches_members_with_different_windows_compressed_once_per_window() {
    let (app, members) = app();
    let server = TestServer::start(app).unwrap();
    // Five window sizes on the pooled route (15 three times), a member keeping its context,
    // and one without compression.
    let windows = [15u8, 9, 15, 12, 10, 15];
    let mut clients = Vec::new();
    let mut handles = Vec::new();
    for (index, bits) in windows.iter().enumerate() {
        let name = format!("w{bits}n{index}");
        let offer = DeflateConfig::new().server_max_window_bits(*bits);
        clients.push(connect(&server, &format!("/pooled/{name}"), Some(offer)).await);
        handles.push(handle_of(&members, &name).await);
    }
    clients.push(connect(&server, "/takeover/kept", Some(DeflateConfig::new())).await);
    handles.push(handle_of(&members, "kept").await);
    clients.push(connect(&server, "/plain/plain", None).await);
    handles.push(handle_of(&members, "plain").await);
    assert!(
        clients[..clients.len() - 1]
            .iter()
            .all(|c| c.is_compressed())
    );
    assert!(!clients[clients.len() - 1].is_compressed());

    // Twice, so the second broadcast finds the loop's compressors in place.
    for round in 0..2 {
        let text = format!("{}{round}", chat_json(4096));
        // What a room does: one message, one clone per member's handle.
        let message = Message::text(text);
        // The server runs on this test's loop, so this is the count of the loop the members
        // are on.
        let before = broadcast_counts();
        for handle in &handles {
            handle.try_write(message.clone()).unwrap();
        }
        for client in &mut clients {
            assert_eq!(next_message(client).await, Some(message.clone()));
        }
        let after = broadcast_counts();
        // Four window sizes among the pooled members: four compressions, the other two
        // 15-bit members reuse the first's bytes. The member with context takeover compresses
        // its own copy, outside the loop's contexts.
        assert_eq!(after.compressed - before.compressed, 4, "round {round}");
        assert_eq!(after.reused - before.reused, 2, "round {round}");
    }
    // Afterwards the pooled members hold no zlib state; the one with context takeover does.
    for handle in &handles[..windows.len()] {
        assert_eq!(handle.stats().await.unwrap().compression_memory, 0);
    }
    assert!(
        handles[windows.len()]
            .stats()
            .await
            .unwrap()
            .compression_memory
            > 0
    );
}

#[actix_rt::test]
async fn cyclone_clients_with_every_offer_interoperate() {
    let (app, members) = app();
    let server = TestServer::start(app).unwrap();
    let offers = [
        ("default", DeflateConfig::new()),
        (
            "asknoserver",
            DeflateConfig::new().server_no_context_takeover(true),
        ),
        (
            "asknoclient",
            DeflateConfig::new().client_no_context_takeover(true),
        ),
        (
            "clientbits9",
            DeflateConfig::new().client_max_window_bits(9),
        ),
        (
            "serverbits9",
            DeflateConfig::new().server_max_window_bits(9),
        ),
        ("level0", DeflateConfig::new().level(0)),
    ];
    let big = "all work and no play makes a long message ".repeat(2000);
    for (name, offer) in offers {
        for route in ["pooled", "takeover"] {
            let mut client =
                connect(&server, &format!("/{route}/{name}"), Some(offer.clone())).await;
            let handle = handle_of(&members, name).await;
            assert!(client.is_compressed(), "{route} {name}");
            for text in [String::new(), chat_json(200), big.clone(), chat_json(200)] {
                let message = Message::text(text);
                client.write_message(message.clone()).await.unwrap();
                assert_eq!(
                    next_message(&mut client).await,
                    Some(message),
                    "{route} {name}"
                );
            }
            let binary = Message::binary((0..=255u8).cycle().take(70_000).collect::<Vec<_>>());
            client.write_message(binary.clone()).await.unwrap();
            assert_eq!(
                next_message(&mut client).await,
                Some(binary),
                "{route} {name}"
            );
            let stats = handle.stats().await.unwrap();
            if route == "pooled" {
                assert_eq!(stats.compression_memory, 0, "{name}");
            }
        }
    }
}

/// Tornado's client offers `permessage-deflate; client_max_window_bits`, like a browser. Its
/// answer parser drops parameters without a value (Tornado 6.6), so it cannot hear
/// `client_no_context_takeover`: the server leaves it its context takeover (it sends
/// `User-Agent: Tornado/...`) and still compresses its own messages alone.
const TORNADO_CLIENT: &str = r#"
import asyncio, sys
from tornado.websocket import websocket_connect

async def main(url):
    conn = await websocket_connect(url, compression_options={})
    print(conn.headers.get("Sec-WebSocket-Extensions"), flush=True)
    messages = ['{"user":"ada","text":"' + "hello " * n + '"}' for n in (1, 40, 3000, 40)]
    for message in messages:
        await conn.write_message(message)
        echo = await conn.read_message()
        assert echo == message, (len(echo or ""), len(message), conn.close_code, conn.close_reason)
    await conn.write_message(bytes(range(256)) * 100, binary=True)
    assert await conn.read_message() == bytes(range(256)) * 100
    print("echoed", len(messages) + 1, flush=True)
    conn.close()

asyncio.run(asyncio.wait_for(main(sys.argv[1]), 30))
"#;

#[actix_rt::test]
async fn tornados_client_interoperates_with_both_modes() {
    let Some(python) = support::deps::require_python_tornado() else {
        return;
    };
    let (app, members) = app();
    let server = TestServer::start(app).unwrap();
    for route in ["pooled", "takeover"] {
        let url = server.ws_url(&format!("/{route}/tornado"));
        let stdout = run_python(&python, TORNADO_CLIENT, &[&url], route).await;
        let mut lines = stdout.lines();
        let answer = lines.next().unwrap_or_default();
        if route == "pooled" {
            assert_eq!(answer, "permessage-deflate; server_no_context_takeover");
        } else {
            assert_eq!(answer, "permessage-deflate");
        }
        assert_eq!(lines.next(), Some("echoed 5"));
        let _ = handle_of(&members, "tornado").await;
    }
}

/// Python's `websockets` client, with its default offer (`permessage-deflate;
/// client_max_window_bits`, as a browser's) or, given `small`, the memory-saving one its docs
/// recommend (`server_max_window_bits=12; client_max_window_bits=12`, memLevel 5). It prints
/// its offer and the server's answer, then echoes chat-sized, large and binary messages.
const WEBSOCKETS_CLIENT: &str = r#"
import asyncio, sys
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

async def main(url, offer):
    extensions = None
    if offer == "small":
        extensions = [ClientPerMessageDeflateFactory(
            server_max_window_bits=12, client_max_window_bits=12,
            compress_settings={"memLevel": 5})]
    async with connect(url, max_size=None, extensions=extensions) as ws:
        print(ws.request.headers.get("Sec-WebSocket-Extensions"), flush=True)
        print(ws.response.headers.get("Sec-WebSocket-Extensions"), flush=True)
        messages = ['{"user":"ada","text":"' + "hello " * n + '"}' for n in (1, 40, 3000, 40)]
        messages.append(bytes(range(256)) * 100)
        for message in messages:
            await ws.send(message)
            echo = await ws.recv()
            assert echo == message, (len(echo), len(message))
        print("echoed", len(messages), flush=True)

asyncio.run(asyncio.wait_for(main(sys.argv[1], sys.argv[2]), 30))
"#;

#[actix_rt::test]
async fn python_websockets_client_interoperates_with_both_offers_and_modes() {
    let Some(python) = support::deps::require_python_websockets() else {
        return;
    };
    let (app, members) = app();
    let server = TestServer::start(app).unwrap();
    const DEFAULT: &str = "permessage-deflate; client_max_window_bits";
    const SMALL: &str = "permessage-deflate; server_max_window_bits=12; client_max_window_bits=12";
    for (offer, offered, route, answer) in [
        (
            "default",
            DEFAULT,
            "pooled",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ),
        ("default", DEFAULT, "takeover", "permessage-deflate"),
        (
            "small",
            SMALL,
            "pooled",
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=12; client_max_window_bits=12",
        ),
        ("small", SMALL, "takeover", SMALL),
    ] {
        let url = server.ws_url(&format!("/{route}/websockets"));
        let what = format!("{offer} offer, {route}");
        let stdout = run_python(&python, WEBSOCKETS_CLIENT, &[&url, offer], &what).await;
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines.first().copied(),
            Some(offered),
            "{offer} offer changed"
        );
        assert_eq!(
            lines.get(1).copied(),
            Some(answer),
            "{offer} offer, {route}"
        );
        assert_eq!(
            lines.get(2).copied(),
            Some("echoed 5"),
            "{offer} offer, {route}"
        );
        let _ = handle_of(&members, "websockets").await;
    }
}
