//! Rooms across processes through a real Redis: the chat example runs three times with
//! `--redis`, and every member, WebSocket or long-poll, in every process sees every message
//! in one order; a member that reconnects to another process gets exactly what it missed; and
//! Redis killed mid-stream makes posts fail clearly (503, a WebSocket error frame) while the
//! processes keep serving, then resumes with nothing lost or doubled once it is back.

#[path = "rooms_client/mod.rs"]
mod rooms_client;
mod support;

use rooms_client::{Chat, Member, PollClient};
use support::raw_http::Client;
use support::redis::RedisServer;
use support::wait;

#[actix_rt::test]
async fn three_processes_see_every_message_in_one_order() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let chats: Vec<Chat> = (0..3).map(|_| Chat::start(&redis.url())).collect();
    let mut members = Vec::new();
    let mut pollers = Vec::new();
    for chat in &chats {
        members.push(Member::join(chat.addr, None).await.0);
        pollers.push(PollClient::open(chat.addr).await);
    }
    // Ten posts from each process, all at once.
    let posts = pollers.iter().enumerate().flat_map(|(process, poller)| {
        (0..10).map(move |number| async move {
            poller
                .say(&format!("process {process} message {number}"))
                .await
        })
    });
    let mut posted = futures::future::join_all(posts).await;
    posted.sort_by_key(|id| {
        id.split_once('-')
            .map(|(ms, seq)| (ms.parse::<u64>().unwrap(), seq.parse::<u64>().unwrap()))
    });

    let mut seen = Vec::new();
    for member in &mut members {
        seen.push(member.messages(30).await);
    }
    let ids: Vec<String> = seen[0].iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids, posted, "every message, in stream order");
    assert_eq!(
        seen[0], seen[1],
        "process 2 saw the same order as process 1"
    );
    assert_eq!(
        seen[0], seen[2],
        "process 3 saw the same order as process 1"
    );
    for process in 0..3 {
        for number in 0..10 {
            let body = format!("process {process} message {number}");
            assert_eq!(
                seen[0].iter().filter(|(_, said)| *said == body).count(),
                1,
                "{body} once"
            );
        }
    }
    // A long poll in the third process after the tenth message gets the twenty after it.
    let mut after = Vec::new();
    let mut cursor = ids[9].clone();
    while after.len() < 20 {
        let got = pollers[2].updates(Some(&cursor)).await;
        cursor = got.last().unwrap().0.clone();
        after.extend(got);
    }
    assert_eq!(after, seen[0][10..]);
}

#[actix_rt::test]
async fn a_member_reconnecting_to_another_process_gets_exactly_what_it_missed() {
    let Some(redis) = RedisServer::start() else {
        return;
    };
    let (a, b, c) = (
        Chat::start(&redis.url()),
        Chat::start(&redis.url()),
        Chat::start(&redis.url()),
    );
    let poster = PollClient::open(c.addr).await;
    let (mut member, _) = Member::join(a.addr, None).await;
    poster.say("one").await;
    poster.say("two").await;
    let seen = member.messages(2).await;
    drop(member);
    let missed = [poster.say("three").await, poster.say("four").await];

    let (mut back, _) = Member::join(b.addr, Some(&seen[1].0)).await;
    assert_eq!(
        back.messages(2).await,
        [
            (missed[0].clone(), "three".to_owned()),
            (missed[1].clone(), "four".to_owned())
        ],
        "exactly the missed ones, from another process"
    );
    let five = poster.say("five").await;
    assert_eq!(
        back.messages(1).await,
        [(five, "five".to_owned())],
        "nothing doubled"
    );
    // And a long-poll client asking process A since "two" gets the same.
    let bodies: Vec<String> = PollClient::open(a.addr)
        .await
        .updates(Some(&seen[1].0))
        .await
        .into_iter()
        .map(|(_, body)| body)
        .collect();
    assert_eq!(bodies, ["three", "four", "five"]);
}

#[actix_rt::test]
async fn redis_killed_and_restarted_mid_stream() {
    let Some(mut redis) = RedisServer::start() else {
        return;
    };
    let (a, b) = (Chat::start(&redis.url()), Chat::start(&redis.url()));
    let (poll_a, poll_b) = (
        PollClient::open(a.addr).await,
        PollClient::open(b.addr).await,
    );
    let (mut member_a, _) = Member::join(a.addr, None).await;
    let (mut member_b, _) = Member::join(b.addr, None).await;
    let first = poll_a.say("before").await;
    assert_eq!(member_a.messages(1).await[0].0, first);
    assert_eq!(member_b.messages(1).await[0].0, first);

    redis.kill();
    assert_eq!(
        poll_b.post("while down").await.status,
        503,
        "a clear refusal"
    );
    member_a.say("while down over the socket").await;
    let frame = member_a.frame().await;
    assert_eq!(frame["type"], "error", "{frame}");
    // The processes keep serving meanwhile.
    let mut page = Client::connect(a.addr).await;
    page.send(b"GET / HTTP/1.1\r\nHost: chat.test\r\n\r\n")
        .await;
    assert_eq!(page.answer().await.unwrap().status, 200);

    redis.restart();
    let second: String = wait::until_some("posts work again", || {
        let poll_b = poll_b.clone();
        async move {
            let answer = poll_b.post("after").await;
            (answer.status == 200).then(|| {
                let message: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
                message["id"].as_str().unwrap().to_owned()
            })
        }
    })
    .await;
    let third = poll_a.say("and again").await;
    for member in [&mut member_a, &mut member_b] {
        assert_eq!(
            member.messages(2).await,
            [
                (second.clone(), "after".to_owned()),
                (third.clone(), "and again".to_owned())
            ],
            "resumed after the last delivered id: nothing lost, nothing twice"
        );
    }
}
