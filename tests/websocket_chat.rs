//! The chat example end to end: two real WebSocket clients join the room, talk, see each
//! other's messages HTML-escaped, a latecomer gets the history, and a member that left is
//! dropped from the room.

#[path = "../examples/websocket_chat.rs"]
#[allow(dead_code)] // the example's `main` is not run here
mod chat;

mod support;

use actix::Actor;
use chat::{ChatRoom, HISTORY_SIZE, Members, application};
use cyclone::testing::TestServer;
use cyclone::websocket::{ClientConnection, Message};
use support::wait;
use support::ws::next_message;

/// The next message, which must be text.
async fn next_text(client: &mut ClientConnection) -> String {
    match next_message(client).await {
        Some(Message::Text(text)) => text.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

/// Sends `text` from `everyone[speaker]` and reads it back at every listener (the speaker
/// included).
async fn say(speaker: usize, text: &str, everyone: &mut [&mut ClientConnection]) -> Vec<String> {
    everyone[speaker]
        .write_message(Message::text(text))
        .await
        .unwrap();
    let mut seen = Vec::new();
    for client in everyone.iter_mut() {
        seen.push(next_text(client).await);
    }
    seen
}

#[actix_rt::test]
async fn two_members_exchange_escaped_messages_and_a_newcomer_gets_the_history() {
    let room = ChatRoom::default().start();
    let server = TestServer::start(application(room.clone()).unwrap()).unwrap();
    let page = server.fetch("/").await.unwrap();
    assert_eq!(page.code, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("/chatsocket"));

    // Alice's own message coming back proves she joined (her Join and Say share a sender).
    let mut alice = server.websocket_connect("/chatsocket").await.unwrap();
    let first = say(0, "hi bob", &mut [&mut alice]).await.remove(0);
    assert!(first.ends_with(">hi bob</div>\n"), "{first}");

    let mut bob = server.websocket_connect("/chatsocket").await.unwrap();
    assert_eq!(
        next_text(&mut bob).await,
        first,
        "bob gets the history first"
    );
    let second = say(
        1,
        "<script>alert('x')</script> & co",
        &mut [&mut alice, &mut bob],
    )
    .await;
    assert_eq!(second[0], second[1]);
    assert!(
        second[0].ends_with(">&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co</div>\n"),
        "{}",
        second[0]
    );
    let second = second[0].clone();

    let mut carol = server.websocket_connect("/chatsocket").await.unwrap();
    let history = next_text(&mut carol).await;
    assert_eq!(history, format!("{first}{second}"));

    assert_eq!(room.send(Members).await.unwrap(), 3);

    // Bob leaves (his client closes with 1000): the room drops him, the others go on talking.
    drop(bob);
    wait::until_async("bob leaves the room", || async {
        room.send(Members).await.unwrap() == 2
    })
    .await;
    let third = say(1, "bye bob", &mut [&mut alice, &mut carol]).await;
    assert_eq!(third[0], third[1]);
}

#[actix_rt::test]
async fn the_history_keeps_the_last_200_messages() {
    let room = ChatRoom::default().start();
    let server = TestServer::start(application(room).unwrap()).unwrap();
    let mut talker = server.websocket_connect("/chatsocket").await.unwrap();
    for number in 0..HISTORY_SIZE + 5 {
        let echoed = say(0, &format!("message {number}"), &mut [&mut talker]).await;
        assert!(echoed[0].ends_with(&format!(">message {number}</div>\n")));
    }
    let mut late = server.websocket_connect("/chatsocket").await.unwrap();
    let history = next_text(&mut late).await;
    assert_eq!(history.matches("<div").count(), HISTORY_SIZE);
    assert!(!history.contains(">message 4<"));
    assert!(history.contains(">message 5<"));
    assert!(history.ends_with(&format!(">message {}</div>\n", HISTORY_SIZE + 4)));
}
