//! WebSocket connection actors join their server's connection registry: `notify_all` reaches
//! them, a graceful shutdown closes them with 1001, `close_all` drops them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use cyclone::tcpserver::{ConnectionSlot, Notification, ServeConnection, TcpServer};
use cyclone::websocket::{
    ClientConnection, CloseCode, Message, Role, ServerHandshake, Session, WebSocketConfig,
    WebSocketService, start_connection, websocket_connect,
};
use cyclone_protocol::h1::{Event, Limits, RequestDecoder};
use futures::future::LocalBoxFuture;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(10);

/// Writes every `String` broadcast to the peer.
struct News;

impl WebSocketService for News {
    fn on_message(
        &mut self,
        _: Message,
        _: &mut Session<'_>,
    ) -> Option<LocalBoxFuture<'static, ()>> {
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
    fn serve(&self, mut stream: TcpStream, _peer: SocketAddr, slot: ConnectionSlot) {
        actix_rt::spawn(async move {
            let mut read = BytesMut::with_capacity(4096);
            let mut decoder = RequestDecoder::new(Limits::default());
            let head = loop {
                if let Ok(Some(Event::Head(head))) = decoder.decode(&mut read) {
                    break head;
                }
                if stream.read_buf(&mut read).await.unwrap_or(0) == 0 {
                    return;
                }
            };
            let Ok(handshake) = ServerHandshake::from_head(&head) else {
                return;
            };
            let accepted = handshake.accept(None, None);
            let mut out = BytesMut::new();
            accepted.encode_response(&mut out);
            if stream.write_all(&out).await.is_ok() {
                start_connection(
                    stream,
                    read,
                    Role::Server,
                    &accepted.negotiated,
                    WebSocketConfig::new(),
                    News,
                    Some(slot),
                );
            }
        });
    }
}

async fn start() -> (TcpServer<Upgrader>, Vec<ClientConnection>) {
    let mut server = TcpServer::with_factory(Upgrader);
    server.listen(0, Some("127.0.0.1")).unwrap();
    let port = server.local_addrs()[0].port();
    let mut clients = Vec::new();
    for _ in 0..3 {
        clients.push(
            timeout(WAIT, websocket_connect(format!("ws://127.0.0.1:{port}/")))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    (server, clients)
}

#[actix_rt::test]
async fn notify_all_reaches_websocket_actors_and_shutdown_closes_them_with_1001() {
    let (mut server, mut clients) = start().await;
    assert_eq!(server.registry().len(), 3);
    // Registered once started: retry until every actor took its slot.
    let mut delivered = 0;
    for _ in 0..100 {
        delivered = server
            .registry()
            .notify_all(Arc::new(String::from("news")))
            .delivered;
        if delivered == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(delivered, 3);
    for client in &mut clients {
        // Earlier partial broadcasts may have reached some clients: read until the news.
        assert_eq!(
            timeout(WAIT, client.read_message()).await.unwrap(),
            Some(Message::text("news"))
        );
    }
    let report = timeout(WAIT, server.shutdown(Duration::from_secs(5)))
        .await
        .unwrap();
    assert_eq!(report.finished, 3, "{report:?}");
    for client in &mut clients {
        while let Some(message) = timeout(WAIT, client.read_message()).await.unwrap() {
            assert_eq!(message, Message::text("news"));
        }
        let close = client.close_frame().unwrap().unwrap();
        assert_eq!(close.code, CloseCode::GOING_AWAY);
    }
}

#[actix_rt::test]
async fn close_all_drops_websocket_actors() {
    let (server, mut clients) = start().await;
    for _ in 0..100 {
        if server.registry().notify_all(Arc::new(0u8)).delivered == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(server.registry().close_all(), 3);
    assert!(server.registry().wait_empty(WAIT).await);
    for client in &mut clients {
        assert_eq!(timeout(WAIT, client.read_message()).await.unwrap(), None);
        assert_eq!(
            client.close_frame(),
            Some(None),
            "dropped without a close frame"
        );
    }
}
