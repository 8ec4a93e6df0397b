//! The fan-out example end to end: 50 real WebSocket clients over two workers each learn the
//! server's pid first, one `broadcast:` reaches every one of them (the sender included) as one
//! binary message, and a member that leaves is no longer counted by the rooms.

#[path = "../examples/ws_fanout.rs"]
#[allow(dead_code)] // the example's `main` is not run here
mod fanout;

use std::time::Duration;

use cyclone::websocket::{ClientConnection, Message, websocket_connect};
use fanout::{Rooms, fanout_server};
use tokio::time::timeout;

/// Bounds every wait: tests must not hang.
const WAIT: Duration = Duration::from_secs(10);
/// Clients in the test: enough to land on both workers.
const CLIENTS: usize = 50;

async fn next_message(client: &mut ClientConnection) -> Message {
    timeout(WAIT, client.read_message())
        .await
        .expect("a message in time")
        .expect("the connection is open")
}

/// Polls the rooms until they count `expected` members (joins and leaves go through mailboxes).
async fn wait_for_members(rooms: &Rooms, expected: usize) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let members = rooms.members().await;
        if members == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rooms hold {members} members, expected {expected}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn one_broadcast_reaches_every_member_on_every_worker() {
    let rooms = Rooms::new(false);
    let mut server = fanout_server(rooms.clone(), 1000);
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(2).unwrap();
    let url = format!("ws://{}/ws", server.local_addrs()[0]);

    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let mut client = timeout(WAIT, websocket_connect(url.as_str()))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            next_message(&mut client).await,
            Message::text(format!("pid:{}", std::process::id())),
            "the first message names the server's process"
        );
        clients.push(client);
    }
    wait_for_members(&rooms, CLIENTS).await;

    clients[7]
        .write_message(Message::text("broadcast:hello everyone"))
        .await
        .unwrap();
    for client in &mut clients {
        assert_eq!(
            next_message(client).await,
            Message::binary(&b"hello everyone"[..])
        );
    }

    // Other text is not a broadcast: nobody hears it, and the next broadcast comes first.
    clients[0]
        .write_message(Message::text("hello?"))
        .await
        .unwrap();
    clients[0]
        .write_message(Message::text("broadcast:second"))
        .await
        .unwrap();
    for client in &mut clients {
        assert_eq!(next_message(client).await, Message::binary(&b"second"[..]));
    }

    clients.truncate(CLIENTS - 10);
    wait_for_members(&rooms, CLIENTS - 10).await;
    server.shutdown(Duration::from_secs(1)).await;
}

#[actix_rt::test]
async fn text_mode_sends_the_payload_as_text() {
    let rooms = Rooms::new(true);
    let mut server = fanout_server(rooms.clone(), 100);
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(1).unwrap();
    let url = format!("ws://{}/ws", server.local_addrs()[0]);

    let mut client = timeout(WAIT, websocket_connect(url.as_str()))
        .await
        .unwrap()
        .unwrap();
    next_message(&mut client).await;
    wait_for_members(&rooms, 1).await;
    client
        .write_message(Message::text("broadcast:as text"))
        .await
        .unwrap();
    assert_eq!(next_message(&mut client).await, Message::text("as text"));
    server.shutdown(Duration::from_secs(1)).await;
}
