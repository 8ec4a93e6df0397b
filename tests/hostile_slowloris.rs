//! Slowloris against the real server with its default settings: a thousand connections
//! start a request head and trickle a header line a second, as slowly as a server without a
//! header timeout would tolerate forever. A normal client keeps getting answers meanwhile;
//! the header timeout (5 s from a head's first byte, however it trickles) answers each slow
//! head 408 and closes it; the server holds no more than the connections it was given, and
//! its memory stays within a bound.

mod support;

use std::time::Duration;

use futures::future::join_all;
use support::hostile::{MIB, require_open_files, resident_bytes, start_target};
use support::raw_http::Client;
use support::wait::bounded;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How many slow heads.
const SLOW_CLIENTS: usize = 1000;

/// Lines each slow head trickles, one a second: fewer seconds than the header timeout, so
/// the timeout (not the test) ends them.
const TRICKLED_LINES: usize = 3;

/// What a thousand idle half-heads may cost the server in memory (and the test its client
/// sockets): about 32 KiB each. A server that let each grow to its 64 KiB head limit, or
/// kept a thread per connection, would pass it.
const MEMORY_BOUND: u64 = 32 * MIB;

#[actix_rt::test]
async fn a_thousand_trickled_heads_neither_starve_a_client_nor_stay() {
    if require_open_files(4 * SLOW_CLIENTS as u64).is_none() {
        return;
    }
    let target = start_target();
    let mut normal = Client::connect(target.addr).await;
    normal.send(b"GET / HTTP/1.1\r\nHost: target\r\n\r\n").await;
    assert_eq!(normal.answer().await.unwrap().status, 200);
    let memory_before = resident_bytes();

    // A thousand heads, each started and left unfinished.
    let mut slow = Vec::with_capacity(SLOW_CLIENTS);
    for index in 0..SLOW_CLIENTS {
        let mut stream = bounded(TcpStream::connect(target.addr)).await.unwrap();
        let start = format!("GET /slow/{index} HTTP/1.1\r\nHost: target\r\n");
        stream.write_all(start.as_bytes()).await.unwrap();
        slow.push(stream);
    }
    // All held at once (accepting a thousand takes far less than the 5 s header timeout).
    support::wait::until("every slow head is held", || {
        target.held() == SLOW_CLIENTS + 1
    })
    .await;

    // A line a second to every head; the normal client is answered every second.
    let mut pace = tokio::time::interval(Duration::from_secs(1));
    for line in 0..TRICKLED_LINES {
        pace.tick().await;
        for stream in &mut slow {
            // A head already answered 408 may refuse more; that is the server's right.
            let _ = stream
                .write_all(format!("X-Trickle-{line}: still here\r\n").as_bytes())
                .await;
        }
        normal.send(b"GET / HTTP/1.1\r\nHost: target\r\n\r\n").await;
        let answer = normal
            .answer()
            .await
            .expect("the normal client is answered");
        assert_eq!(answer.status, 200, "round {line}");
        assert_eq!(answer.body, b"hello");
    }
    let memory_during = resident_bytes();
    eprintln!(
        "{SLOW_CLIENTS} slow heads: {} KiB resident more",
        memory_during.saturating_sub(memory_before) / 1024
    );
    assert!(
        memory_during.saturating_sub(memory_before) < MEMORY_BOUND,
        "{SLOW_CLIENTS} slow heads took {} MiB",
        (memory_during - memory_before) / MIB
    );

    // The header timeout answers each slow head 408 and closes it.
    let endings = join_all(slow.into_iter().map(|mut stream| async move {
        let mut answer = Vec::new();
        let _ = bounded(stream.read_to_end(&mut answer)).await;
        answer
    }))
    .await;
    for (index, answer) in endings.iter().enumerate() {
        assert!(
            answer.starts_with(b"HTTP/1.1 408 "),
            "slow head {index} got {:?}",
            String::from_utf8_lossy(answer)
        );
    }
    target
        .until_held_at_most(1, "the slow heads are closed")
        .await;
    // And the normal client is still served.
    normal.send(b"GET / HTTP/1.1\r\nHost: target\r\n\r\n").await;
    assert_eq!(normal.answer().await.unwrap().status, 200);
}
