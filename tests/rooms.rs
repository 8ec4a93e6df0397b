//! The room library on the local broker, over real sockets: a member that stops reading is
//! dropped without slowing the others, a member whose mailbox stays full past
//! `slow_member_timeout` is closed, a room that panics mid-broadcast restarts with its history
//! and members, and an empty room leaves the registry after its grace period.

#[path = "rooms_client/mod.rs"]
mod rooms_client;
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cyclone::httpserver::{HttpResponse, HttpServer};
use cyclone::rooms::{RoomError, RoomHandle, RoomMessage, RoomOptions, RoomSocket, Rooms};
use cyclone::testing::TestServer;
use cyclone::web::{Application, function, url};
use cyclone::websocket::{CloseCode, Message, websocket_with};
use rooms_client::Member;
use support::raw_http::loopback;
use support::servers::start_http;
use support::wait;
use support::ws::{next_message, raw_handshake_at};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A server whose `/chatsocket` joins the room `chat` of `rooms`.
fn serve(rooms: &Rooms) -> TestServer {
    let rooms = rooms.clone();
    let app = Application::new([url(
        "/chatsocket",
        websocket_with(move || RoomSocket::new(rooms.clone(), "chat")),
    )])
    .unwrap();
    TestServer::start(app).unwrap()
}

#[actix_rt::test]
async fn a_member_that_stops_reading_is_dropped_and_the_others_get_everything() {
    const BODY: usize = 60 * 1024;
    let rooms = Rooms::local(RoomOptions::default().max_message_size(BODY + 16));
    let server = serve(&rooms);
    let addr = loopback(server.port());
    let room = rooms.room("chat").unwrap();

    let (mut fast, _) = Member::join(addr, None).await;
    // The slow member upgrades and then never reads a byte.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    raw_handshake_at(&mut slow, "/chatsocket").await;
    wait::until_async("both members are in", || async {
        room.stats().await.unwrap().members == 2
    })
    .await;

    // Far more than the slow member's socket buffers and 1 MiB write queue hold.
    for number in 0..400 {
        let body = format!("{number:04}{}", "x".repeat(BODY - 4));
        let message = room.post(body).await.unwrap();
        let got = fast.messages(1).await;
        assert_eq!(got[0].0, message.id.to_string(), "the fast member keeps up");
        if room.stats().await.unwrap().members == 1 {
            break;
        }
    }
    // The slow member is closed with 1008 (by the room when its mailbox is full, or by its
    // connection when its write queue is) and leaves once the close times out.
    wait::until_async("the slow member is dropped", || async {
        room.stats().await.unwrap().members == 1
    })
    .await;

    // The fast member goes on receiving.
    let after = room.post("after").await.unwrap();
    assert_eq!(fast.messages(1).await[0].0, after.id.to_string());
    drop(slow);
}

/// `slow_member_timeout`: a member whose mailbox stays full (its connection's loop is busy
/// elsewhere, so nothing drains it) is closed by the room once the timeout passes, even
/// though the history still holds everything it missed, so only the timeout can be why.
#[actix_rt::test]
async fn a_member_full_for_longer_than_slow_member_timeout_is_closed() {
    let rooms = Rooms::local(
        RoomOptions::default()
            .history_size(10_000)
            .slow_member_timeout(Duration::from_millis(200)),
    );
    // The room lives on this test's loop; the member's connection on the server's one worker.
    let room = rooms.room("chat").unwrap();
    let socket_rooms = rooms.clone();
    let busy = Arc::new(AtomicUsize::new(0));
    let worker_busy = busy.clone();
    let app = Application::new([
        url(
            "/chatsocket",
            websocket_with(move || RoomSocket::new(socket_rooms.clone(), "chat")),
        ),
        // Holds the worker's loop, as a handler doing blocking work there would.
        url(
            "/busy",
            function(move |_, _| {
                let busy = worker_busy.clone();
                async move {
                    busy.store(1, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(1_500));
                    HttpResponse::ok()
                }
            }),
        ),
    ])
    .unwrap();
    let mut server = HttpServer::new(app);
    let addr = start_http(&mut server, 1);
    let (mut member, _) = Member::join(addr, None).await;
    wait::until_async("the member is in", || async {
        room.stats().await.unwrap().members == 1
    })
    .await;

    let mut hog = TcpStream::connect(addr).await.unwrap();
    hog.write_all(b"GET /busy HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();
    wait::until("the worker is busy", || busy.load(Ordering::SeqCst) == 1).await;
    // More posts at once than the member's mailbox holds: it falls behind, and stays full
    // while its loop is held.
    let posts = (0..BURST).map(|number| room.post(format!("{number}")));
    futures::future::join_all(posts).await;
    wait::until_async("the room closes the member", || async {
        room.stats().await.unwrap().slow_closed == 1
    })
    .await;
    let stats = room.stats().await.unwrap();
    assert_eq!((stats.members, stats.behind), (0, 0));
    assert_eq!(stats.history, BURST, "the history kept every message");

    // Once its loop is free, the member reads what reached it and then the room's close.
    let (received, close) = messages_then_close(&mut member).await;
    assert!(received < BURST, "it got {received}");
    assert_eq!(
        close,
        (CloseCode::POLICY_VIOLATION, "too slow for the room".into())
    );
}

#[actix_rt::test]
async fn a_room_that_panics_mid_broadcast_restarts_with_its_history_and_members() {
    let delivered = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&delivered);
    let rooms = Rooms::local(RoomOptions::default().on_deliver(move |_, message| {
        assert_ne!(&*message.body, "boom", "the hook panics on boom");
        counter.fetch_add(1, Ordering::SeqCst);
    }));
    let server = serve(&rooms);
    let addr = loopback(server.port());
    let room = rooms.room("chat").unwrap();
    let (mut alice, _) = Member::join(addr, None).await;
    let (mut bob, _) = Member::join(addr, None).await;

    let before = room.post("before").await.unwrap();
    assert_eq!(alice.messages(1).await[0].1, "before");
    assert_eq!(bob.messages(1).await[0].1, "before");

    assert_eq!(room.post("boom").await, Err(RoomError::Restarted));

    let after = room.post("after").await.unwrap();
    for member in [&mut alice, &mut bob] {
        assert_eq!(
            member.messages(1).await,
            [(after.id.to_string(), "after".to_owned())],
            "members stay attached across the restart"
        );
    }
    let stats = room.stats().await.unwrap();
    assert_eq!(stats.restarts, 1);
    assert_eq!(stats.members, 2);
    let history: Vec<String> = room
        .since(None)
        .await
        .unwrap()
        .iter()
        .map(|message| message.body.to_string())
        .collect();
    assert_eq!(
        history,
        ["before", "after"],
        "the history survived; boom was never sent"
    );
    assert!(before.id < after.id);
    assert_eq!(delivered.load(Ordering::SeqCst), 2);
}

#[actix_rt::test]
async fn an_empty_room_leaves_the_registry_after_its_grace_period() {
    let rooms = Rooms::local(RoomOptions::default().empty_grace(Duration::from_millis(50)));
    let room = rooms.room("lobby").unwrap();
    room.post("anyone?").await.unwrap();
    assert_eq!(rooms.names(), ["lobby"]);
    wait::until("the empty room retires", || rooms.names().is_empty()).await;
    let again = rooms.room("lobby").unwrap();
    assert!(
        again.since(None).await.unwrap().is_empty(),
        "a new room, fresh"
    );
    assert!(matches!(rooms.room(""), Err(RoomError::InvalidName { .. })));
}

#[actix_rt::test]
async fn members_arriving_together_are_told_the_count_a_few_times_not_once_each() {
    const ARRIVALS: usize = 300;
    let rooms = Rooms::local(RoomOptions::default());
    let server = serve(&rooms);
    let addr = loopback(server.port());
    let room = rooms.room("chat").unwrap();
    let (mut first, _) = Member::join(addr, None).await;

    // Three hundred members join as fast as they can connect.
    let others = futures::future::join_all((0..ARRIVALS).map(|_| Member::join(addr, None))).await;

    // The first member is told the count until it is everyone; joins closer together than
    // the presence interval (250 ms) are told together.
    let mut told = 0;
    loop {
        let frame = first.frame().await;
        assert_eq!(frame["type"], "join", "{frame}");
        told += 1;
        if frame["members"] == ARRIVALS + 1 {
            break;
        }
    }
    assert!(
        told <= ARRIVALS / 10,
        "told the count {told} times for {ARRIVALS} arrivals"
    );
    let stats = room.stats().await.unwrap();
    assert_eq!((stats.members, stats.slow_closed), (ARRIVALS + 1, 0));
    drop(others);
}

/// Posts in one burst: many posters at once, so the room takes every post in one turn of its
/// loop, far more than a member's mailbox (64) holds before its connection writes any.
const BURST: usize = 300;

/// A room `chat` of `history` messages served over WebSocket, with one member in it, and
/// [`BURST`] posts made to it at once; the server (keep it), the room, the member and what
/// was posted.
async fn one_member_then_a_burst(
    history: usize,
) -> (TestServer, RoomHandle, Member, Vec<RoomMessage>) {
    let rooms = Rooms::local(RoomOptions::default().history_size(history));
    let server = serve(&rooms);
    let room = rooms.room("chat").unwrap();
    let (member, _) = Member::join(loopback(server.port()), None).await;
    wait::until_async("the member is in", || async {
        room.stats().await.unwrap().members == 1
    })
    .await;
    let posts = (0..BURST).map(|number| {
        let room = room.clone();
        async move { room.post(format!("{number}")).await.unwrap() }
    });
    let posted = futures::future::join_all(posts).await;
    (server, room, member, posted)
}

#[actix_rt::test]
async fn a_burst_of_posts_larger_than_a_mailbox_reaches_a_member_that_reads() {
    let (_server, room, mut member, posted) = one_member_then_a_burst(BURST).await;
    let got = member.messages(BURST).await;
    let expected: Vec<(String, String)> = posted
        .iter()
        .map(|message| (message.id.to_string(), message.body.to_string()))
        .collect();
    assert_eq!(got, expected, "every message, in the room's order, once");
    let stats = room.stats().await.unwrap();
    assert_eq!((stats.members, stats.slow_closed), (1, 0));
}

#[actix_rt::test]
async fn a_member_that_misses_more_than_the_history_keeps_is_closed_with_1008() {
    // More posts than the member's mailbox and the history hold together: what it could
    // not take fell out of the history before it had room.
    let (_server, room, mut member, _) = one_member_then_a_burst(16).await;
    let (received, close) = messages_then_close(&mut member).await;
    assert!(received < BURST, "it got {received}");
    assert_eq!(
        close,
        (
            CloseCode::POLICY_VIOLATION,
            "missed more than the room keeps".into()
        )
    );
    let stats = room.stats().await.unwrap();
    assert_eq!((stats.members, stats.slow_closed), (0, 1));
}

/// Reads `member` until its connection ends: how many chat messages it got on the way, and
/// the close frame's code and reason.
async fn messages_then_close(member: &mut Member) -> (usize, (CloseCode, String)) {
    let mut received = 0;
    while let Some(Message::Text(text)) = next_message(&mut member.client).await {
        let frame: serde_json::Value = serde_json::from_str(&text).unwrap();
        if frame["type"] == "message" {
            received += 1;
        }
    }
    let close = member
        .client
        .close_frame()
        .flatten()
        .expect("a close frame");
    (received, (close.code, close.reason.to_string()))
}
