//! WebSocket `write_json` (Tornado's `write_message(dict)`) over a real socket, and Tornado
//! 6.5's `websocket_ping_timeout` default and its setter.

use std::time::Duration;

use cyclone::testing::TestServer;
use cyclone::web::{Application, Settings, url};
use cyclone::websocket::{Message, WebSocketContext, WebSocketHandler, websocket};

/// Answers each text message with a JSON object describing it.
#[derive(Default)]
struct Describe;

impl WebSocketHandler for Describe {
    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        if let Message::Text(text) = message {
            let reply = serde_json::json!({ "text": text.as_str(), "length": text.len() });
            cx.write_json(&reply).expect("a JSON value");
        }
    }
}

#[cyclone::test]
async fn write_json_sends_a_json_text_message() {
    let app = Application::new([url("/socket", websocket::<Describe>())]).unwrap();
    let server = TestServer::start(app).unwrap();
    let mut socket = server.websocket_connect("/socket").await.unwrap();
    socket
        .write_message(Message::text("héllo \"you\""))
        .await
        .unwrap();
    let Some(Message::Text(reply)) = socket.read_message().await else {
        panic!("a text reply");
    };
    assert_eq!(reply.as_str(), r#"{"length":12,"text":"héllo \"you\""}"#);
    server.stop().await;
}

#[test]
fn ping_timeout_defaults_to_the_interval_as_tornado_6_5() {
    let second = Duration::from_secs(1);
    let pinging = Settings::default().websocket_ping_interval(10 * second);
    assert_eq!(
        pinging.websocket_ping_timeout_or_default(),
        Some(10 * second)
    );
    assert_eq!(
        pinging
            .clone()
            .websocket_ping_timeout(3 * second)
            .websocket_ping_timeout_or_default(),
        Some(3 * second)
    );
    // Longer than the interval is cut to it.
    assert_eq!(
        pinging
            .clone()
            .websocket_ping_timeout(60 * second)
            .websocket_ping_timeout_or_default(),
        Some(10 * second)
    );
    // Zero turns it off.
    assert_eq!(
        pinging
            .websocket_ping_timeout(Duration::ZERO)
            .websocket_ping_timeout_or_default(),
        None
    );
    assert_eq!(
        Settings::default().websocket_ping_timeout_or_default(),
        None
    );
}
