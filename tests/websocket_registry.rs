//! WebSocket connection actors join their server's connection registry: `notify_all` reaches
//! them, a graceful shutdown closes them with 1001, `close_all` drops them.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use cyclone::tcpserver::{ConnectionSlot, Notification, ServeConnection, TcpServer};
use cyclone::websocket::{
    ClientConnection, CloseCode, Message, Session, WebSocketConfig, WebSocketService,
    websocket_connect,
};
use support::servers::listen_tcp;
use support::wait::{self, WAIT, bounded};
use support::ws::{Pause, next_message, upgrade_and_start};
use tokio::net::TcpStream;

/// Writes every `String` broadcast to the peer.
struct News;

impl WebSocketService for News {
    fn on_message(&mut self, _: Message, _: &mut Session<'_>) -> Pause {
        None
    }

    fn on_notify(&mut self, notification: Notification, session: &mut Session<'_>) {
        if let Some(text) = notification.downcast_ref::<String>() {
            session.send(Message::text(text.clone()));
        }
    }
}

/// Upgrades each accepted connection and hands its registry slot to the WebSocket actor,
/// as the HTTP server's upgrade hook will.
struct Upgrader;

impl ServeConnection for Upgrader {
    fn serve(&self, stream: TcpStream, _peer: SocketAddr, slot: ConnectionSlot) {
        actix_rt::spawn(upgrade_and_start(
            stream,
            WebSocketConfig::new(),
            News,
            Some(slot),
        ));
    }
}

async fn start() -> (TcpServer<Upgrader>, Vec<ClientConnection>) {
    let mut server = TcpServer::with_factory(Upgrader);
    let port = listen_tcp(&mut server).port();
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(
            bounded(websocket_connect(format!("ws://127.0.0.1:{port}/")))
                .await
                .unwrap(),
        );
    }
    (server, clients)
}

#[actix_rt::test]
async fn notify_all_reaches_websocket_actors_and_shutdown_closes_them_with_1001() {
    let (mut server, mut clients) = start().await;
    assert_eq!(server.registry().len(), 3);
    // Registered once started: broadcast again until every actor took its slot.
    wait::until("the news reaches every actor", || {
        let news = Arc::new(String::from("news"));
        server.registry().notify_all(news).delivered == 3
    })
    .await;
    for client in &mut clients {
        // Earlier partial broadcasts may have reached some clients: read until the news.
        assert_eq!(next_message(client).await, Some(Message::text("news")));
    }
    let report = bounded(server.shutdown(Duration::from_secs(5))).await;
    assert_eq!(report.finished, 3, "{report:?}");
    for client in &mut clients {
        while let Some(message) = next_message(client).await {
            assert_eq!(message, Message::text("news"));
        }
        let close = client.close_frame().unwrap().unwrap();
        assert_eq!(close.code, CloseCode::GOING_AWAY);
    }
}

#[actix_rt::test]
async fn close_all_drops_websocket_actors() {
    let (server, mut clients) = start().await;
    wait::until("every actor took its slot", || {
        server.registry().notify_all(Arc::new(0u8)).delivered == 3
    })
    .await;
    assert_eq!(server.registry().close_all(), 3);
    assert!(server.registry().wait_empty(WAIT).await);
    for client in &mut clients {
        assert_eq!(next_message(client).await, None);
        assert_eq!(
            client.close_frame(),
            Some(None),
            "dropped without a close frame"
        );
    }
}
