//! permessage-deflate with a real browser: Debian's headless Chromium (through chromedriver and
//! fantoccini) opens a WebSocket to a server started in this process on 127.0.0.1:0, with
//! Chromium's own offer (`permessage-deflate; client_max_window_bits`). The server answers with
//! both `no_context_takeover` parameters; the browser's messages inflate, ours reach it, a
//! broadcast of one shared message reaches it next to cyclone clients with other windows, and
//! its connection holds no zlib state once idle.
//!
//! Needs the `chromium` and `chromium-driver` packages (`$CHROMIUM` / `$CHROMEDRIVER` name
//! other binaries); under CI (`CI=true`) their absence fails the test (`support::deps`).

mod support;

use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;
use support::browser::{Browsers, finish};
use support::scratch::fresh_dir;

use cyclone::httpserver::HttpServerRequest;
use cyclone::testing::TestServer;
use cyclone::web::{Application, PathArgs, url};
use cyclone::websocket::{
    ConnectRequest, DeflateConfig, Message, WebSocket, WebSocketConfig, WebSocketContext,
    WebSocketHandler, websocket_with,
};
use fantoccini::Client;
use support::ws::next_message;

/// The most the browser part may take, start to finish.
const TEST_TIMEOUT: Duration = Duration::from_secs(120);
/// The most the browser session may take to start.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Echoes; tells the test its name and handle on open.
struct Member {
    /// Where `open` sends (name, handle).
    members: Arc<Mutex<mpsc::Sender<(String, WebSocket)>>>,
}

impl WebSocketHandler for Member {
    fn get_compression_options(&self) -> Option<DeflateConfig> {
        Some(DeflateConfig::new())
    }

    fn open(&mut self, cx: &mut WebSocketContext<'_>, args: &PathArgs, _: &HttpServerRequest) {
        let name = args.get(0).unwrap_or_default().to_owned();
        let _ = self.members.lock().unwrap().send((name, cx.handle()));
    }

    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        cx.write_message(message);
    }
}

/// Opens `arguments[0]`, sends `arguments[1]` as text and a 64 KiB binary message, and calls
/// back with the negotiated extensions and what came back; the socket stays open in
/// `window.ws`, and later messages collect in `window.later`.
const OPEN_AND_ECHO: &str = r#"
const [url, text, done] = arguments;
const ws = new WebSocket(url);
ws.binaryType = "arraybuffer";
window.ws = ws;
window.later = [];
const got = [];
// onclose follows with the code.
ws.onerror = () => {};
ws.onclose = (event) => done({ error: "closed " + event.code });
ws.onopen = () => {
  ws.send(text);
  const bytes = new Uint8Array(65536);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i % 251;
  ws.send(bytes);
};
ws.onmessage = (event) => {
  if (got.length >= 2) { window.later.push(event.data); return; }
  if (typeof event.data === "string") {
    got.push(event.data);
  } else {
    const bytes = new Uint8Array(event.data);
    let ok = bytes.length === 65536;
    for (let i = 0; ok && i < bytes.length; i++) ok = bytes[i] === i % 251;
    got.push(ok ? "binary ok" : "binary wrong");
  }
  if (got.length === 2) done({ extensions: ws.extensions, echoes: got });
};
"#;

/// Calls back with the messages that arrived after the echoes, once there is one.
const LATER: &str = r#"
const done = arguments[arguments.length - 1];
const look = () => window.later.length > 0 ? done(window.later) : setTimeout(look, 20);
look();
"#;

#[actix_rt::test]
async fn chromium_talks_deflate_without_context_takeover_and_gets_a_shared_broadcast() {
    let Some(binaries) = support::browser::require_browser() else {
        return;
    };
    let (sender, members) = mpsc::channel();
    let sender = Arc::new(Mutex::new(sender));
    let app = Application::new([url(
        r"/room/(\w+)",
        websocket_with(move || Member {
            members: sender.clone(),
        }),
    )])
    .unwrap();
    let server = TestServer::start(app).unwrap();

    let browsers = Browsers::start(
        &binaries,
        fresh_dir("deflate-browser"),
        &["profile"],
        &[],
        START_TIMEOUT,
    )
    .await;
    let outcome = browsers
        .run(TEST_TIMEOUT, async |browsers| {
            scenario(&browsers[0], &server, &members).await
        })
        .await;
    finish(outcome, TEST_TIMEOUT);
}

async fn scenario(
    browser: &Client,
    server: &TestServer,
    members: &mpsc::Receiver<(String, WebSocket)>,
) {
    // Any page of the server's origin will do (this one is a 404): the script opens the socket.
    browser.goto(&server.url("/")).await.unwrap();
    let chat = format!(r#"{{"user":"ada","text":"{}"}}"#, "hello again ".repeat(80));
    let answer = browser
        .execute_async(
            OPEN_AND_ECHO,
            vec![server.ws_url("/room/browser").into(), chat.clone().into()],
        )
        .await
        .unwrap();
    assert_eq!(
        answer["extensions"],
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "{answer}"
    );
    assert_eq!(answer["echoes"][0], chat.as_str(), "{answer}");
    assert_eq!(answer["echoes"][1], "binary ok", "{answer}");
    let (name, browser_handle) = members.try_recv().expect("the browser's connection");
    assert_eq!(name, "browser");
    let stats = browser_handle.stats().await.unwrap();
    assert!(stats.compressed);
    assert_eq!(stats.compression_memory, 0, "{stats:?}");

    // A broadcast: one message, a clone per member, to the browser and two cyclone clients
    // with other windows.
    let mut clients = Vec::new();
    let mut handles = vec![browser_handle];
    for bits in [9u8, 12] {
        let config = WebSocketConfig::new()
            .compression(Some(DeflateConfig::new().server_max_window_bits(bits)));
        let name = format!("cyclone{bits}");
        clients.push(
            server
                .websocket_connect_request(
                    ConnectRequest::new(server.ws_url(&format!("/room/{name}"))).config(config),
                )
                .await
                .unwrap(),
        );
        let (got, handle) = support::wait::bounded(async {
            loop {
                if let Ok(member) = members.try_recv() {
                    return member;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert_eq!(got, name);
        handles.push(handle);
    }
    let news = Message::text(format!(
        r#"{{"news":"{}"}}"#,
        "everyone hears this ".repeat(50)
    ));
    for handle in &handles {
        handle.try_write(news.clone()).unwrap();
    }
    for client in &mut clients {
        assert_eq!(next_message(client).await, Some(news.clone()));
    }
    let later = browser.execute_async(LATER, vec![]).await.unwrap();
    let Message::Text(news) = news else {
        unreachable!()
    };
    assert_eq!(later[0], news.as_str(), "{later}");
    for handle in &handles {
        assert_eq!(handle.stats().await.unwrap().compression_memory, 0);
    }
}
