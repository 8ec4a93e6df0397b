//! The fan-out example end to end: 50 real WebSocket clients over two workers each learn the
//! server's pid first, one `broadcast:` reaches every one of them (the sender included) as one
//! binary message, and a member that leaves is no longer counted by the rooms.

#[path = "../examples/ws_fanout.rs"]
#[allow(dead_code)] // the example's `main` is not run here
mod fanout;

mod support;

use std::time::Duration;

use cyclone::websocket::{ClientConnection, Message, websocket_connect};
use fanout::{Rooms, fanout_server};
use support::servers::start_http;
use support::wait::{self, bounded};
use support::ws::next_message;

/// Clients in the test: enough to land on both workers.
const CLIENTS: usize = 50;

/// The next message, which must come.
async fn next(client: &mut ClientConnection) -> Message {
    next_message(client).await.expect("the connection is open")
}

/// Waits until the rooms count `expected` members (joins and leaves go through mailboxes).
async fn wait_for_members(rooms: &Rooms, expected: usize) {
    wait::until_async(&format!("the rooms hold {expected} members"), || async {
        rooms.members().await == expected
    })
    .await;
}

#[actix_rt::test]
async fn one_broadcast_reaches_every_member_on_every_worker() {
    let rooms = Rooms::new(false);
    let mut server = fanout_server(rooms.clone(), 1000);
    let url = format!("ws://{}/ws", start_http(&mut server, 2));

    let mut clients = Vec::with_capacity(CLIENTS);
    for _ in 0..CLIENTS {
        let mut client = bounded(websocket_connect(url.as_str())).await.unwrap();
        assert_eq!(
            next(&mut client).await,
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
        assert_eq!(next(client).await, Message::binary(&b"hello everyone"[..]));
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
        assert_eq!(next(client).await, Message::binary(&b"second"[..]));
    }

    clients.truncate(CLIENTS - 10);
    wait_for_members(&rooms, CLIENTS - 10).await;
    server.shutdown(Duration::from_secs(1)).await;
}

#[actix_rt::test]
async fn text_mode_sends_the_payload_as_text() {
    let rooms = Rooms::new(true);
    let mut server = fanout_server(rooms.clone(), 100);
    let url = format!("ws://{}/ws", start_http(&mut server, 1));

    let mut client = bounded(websocket_connect(url.as_str())).await.unwrap();
    next(&mut client).await;
    wait_for_members(&rooms, 1).await;
    client
        .write_message(Message::text("broadcast:as text"))
        .await
        .unwrap();
    assert_eq!(next(&mut client).await, Message::text("as text"));
    server.shutdown(Duration::from_secs(1)).await;
}

#[actix_rt::test]
async fn with_a_library_room_a_broadcast_is_posted_to_it_and_reaches_everyone_as_json() {
    let library = cyclone::rooms::Rooms::local(cyclone::rooms::RoomOptions::default());
    let rooms = Rooms::new(false).with_library_room(library.room("fanout").unwrap());
    let mut server = fanout_server(rooms.clone(), 100);
    let url = format!("ws://{}/ws", start_http(&mut server, 2));

    let mut clients = Vec::new();
    for _ in 0..10 {
        let mut client = bounded(websocket_connect(url.as_str())).await.unwrap();
        assert_eq!(
            next(&mut client).await,
            Message::text(format!("pid:{}", std::process::id()))
        );
        clients.push(client);
    }
    wait_for_members(&rooms, 10).await;
    clients[3]
        .write_message(Message::text("broadcast:12345 padding"))
        .await
        .unwrap();
    for client in &mut clients {
        // The room's frames: its (empty) history on joining, presence, then the message.
        let message = loop {
            let Message::Text(text) = next(client).await else {
                panic!("the room sends text");
            };
            let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
            if frame["type"] == "message" {
                break frame;
            }
        };
        assert_eq!(message["body"], "12345 padding");
    }
    server.shutdown(Duration::from_secs(1)).await;
}
