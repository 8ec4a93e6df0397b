//! The chat example end to end, on the local broker: the WebSocket page and Tornado's
//! long-polling page share one room (messages go both ways), posts need the XSRF token, a
//! long poll answers what came after its cursor and is released the moment its client
//! leaves, and a WebSocket member that reconnects with its last id gets exactly what it
//! missed.

#[path = "../examples/websocket_chat.rs"]
#[allow(dead_code)] // the example's `main` is not run here
mod chat;
#[path = "rooms_client/mod.rs"]
mod rooms_client;
mod support;

use chat::{ROOM, application};
use cyclone::rooms::{RoomOptions, Rooms};
use cyclone::testing::TestServer;
use rooms_client::{Member, PollClient};
use support::raw_http::{Client, loopback};
use support::wait;

fn start() -> (Rooms, TestServer) {
    let rooms = Rooms::local(RoomOptions::default());
    let server = TestServer::start(application(rooms.clone(), "test secret").unwrap()).unwrap();
    (rooms, server)
}

#[actix_rt::test]
async fn websocket_and_long_poll_members_share_one_room() {
    let (_rooms, server) = start();
    let addr = loopback(server.port());
    let page = server.fetch("/").await.unwrap();
    assert_eq!(page.code, 200);
    assert!(String::from_utf8_lossy(&page.body).contains("/chatsocket"));

    let poller = PollClient::open(addr).await;
    let first = poller.say("hello from the long poll").await;
    let (mut member, history) = Member::join(addr, None).await;
    assert_eq!(
        history,
        [(first.clone(), "hello from the long poll".to_owned())]
    );

    // A long poll waiting after the first message is answered by the WebSocket member's post.
    let mut waiting = poller.start_updates(Some(&first)).await;
    member.say("<b>hi</b> & welcome").await;
    let echoed = member.messages(1).await;
    assert_eq!(echoed[0].1, "<b>hi</b> & welcome");
    let answer = waiting.answer().await.unwrap();
    assert_eq!(answer.status, 200);
    let polled = rooms_client::messages(&serde_json::from_slice(&answer.body).unwrap());
    assert_eq!(
        polled, echoed,
        "the long poll sees the WebSocket post, same id"
    );

    // And the WebSocket member sees the next long-poll post.
    let third = poller.say("and back").await;
    assert_eq!(member.messages(1).await, [(third, "and back".to_owned())]);
}

#[actix_rt::test]
async fn posts_need_the_xsrf_token_and_bad_input_gets_400() {
    let (rooms, server) = start();
    let addr = loopback(server.port());
    let poller = PollClient::open(addr).await;
    let forged = PollClient {
        xsrf: "2|00000000|0123456789abcdef0123456789abcdef|1".to_owned(),
        ..poller.clone()
    };
    let mut client = Client::connect(addr).await;
    let mut request = forged.form("/a/message/new", &[("body", "forged")]);
    // The forged token in the form, the real one in the cookie: they do not match.
    let text = String::from_utf8(request.clone()).unwrap();
    request = text
        .replacen(
            &format!("Cookie: _xsrf={}", forged.xsrf),
            &format!("Cookie: _xsrf={}", poller.xsrf),
            1,
        )
        .into_bytes();
    client.send(&request).await;
    assert_eq!(client.answer().await.unwrap().status, 403);

    let too_long = "x".repeat(cyclone::rooms::DEFAULT_MAX_MESSAGE_SIZE + 1);
    assert_eq!(poller.post(&too_long).await.status, 400);
    let mut bad_cursor = Client::connect(addr).await;
    bad_cursor
        .send(&poller.form("/a/message/updates", &[("cursor", "yesterday")]))
        .await;
    assert_eq!(bad_cursor.answer().await.unwrap().status, 400);
    let room = rooms.room(ROOM).unwrap();
    assert_eq!(room.stats().await.unwrap().posted, 0, "nothing was posted");
}

#[actix_rt::test]
async fn a_long_poll_gets_what_came_after_its_cursor_and_is_released_when_its_client_leaves() {
    let (rooms, server) = start();
    let addr = loopback(server.port());
    let poller = PollClient::open(addr).await;
    let ids = [
        poller.say("one").await,
        poller.say("two").await,
        poller.say("three").await,
    ];
    let bodies = |messages: Vec<(String, String)>| -> Vec<String> {
        messages.into_iter().map(|(_, body)| body).collect()
    };
    assert_eq!(bodies(poller.updates(None).await), ["one", "two", "three"]);
    assert_eq!(
        bodies(poller.updates(Some(&ids[0])).await),
        ["two", "three"]
    );
    assert_eq!(bodies(poller.updates(Some(&ids[1])).await), ["three"]);

    // Waiting after the last one: the room holds the request until its client hangs up.
    let room = rooms.room(ROOM).unwrap();
    let waiting = poller.start_updates(Some(&ids[2])).await;
    wait::until_async("the poll waits in the room", || async {
        room.stats().await.unwrap().waiters == 1
    })
    .await;
    drop(waiting);
    wait::until_async("the room lets go of the poll", || async {
        room.stats().await.unwrap().waiters == 0
    })
    .await;
}

#[actix_rt::test]
async fn a_reconnecting_member_gets_exactly_what_it_missed() {
    let (_rooms, server) = start();
    let addr = loopback(server.port());
    let poller = PollClient::open(addr).await;
    let (mut member, history) = Member::join(addr, None).await;
    assert!(history.is_empty());
    let seen = {
        poller.say("before 1").await;
        poller.say("before 2").await;
        member.messages(2).await
    };
    let last = seen[1].0.clone();
    drop(member);
    let missed = [
        poller.say("while away 1").await,
        poller.say("while away 2").await,
    ];

    let (mut back, _) = Member::join(addr, Some(&last)).await;
    let resumed = back.messages(2).await;
    assert_eq!(
        resumed,
        [
            (missed[0].clone(), "while away 1".to_owned()),
            (missed[1].clone(), "while away 2".to_owned())
        ]
    );
    let after = poller.say("after").await;
    assert_eq!(
        back.messages(1).await,
        [(after, "after".to_owned())],
        "nothing doubled"
    );
}
