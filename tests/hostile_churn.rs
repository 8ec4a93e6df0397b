//! Connections opened and closed by the tens of thousands against the real server with its
//! default settings, in every way a client can leave: at once, mid-head, right after a whole
//! request without reading the answer, after reading it, with a reset or a normal close. When
//! the server has let them all go, it holds no connection and the process has exactly the
//! descriptors it had before: not one leaked.

mod support;

use futures::future::join_all;
use socket2::SockRef;
use support::hostile::{open_descriptors, require_open_files, start_target};
use support::raw_http::Client;
use support::wait::bounded;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connections in all.
const CONNECTIONS: usize = 20_000;

/// Connections open at once.
const AT_ONCE: usize = 200;

/// Descriptors the process may open or close on its own while the test runs, outside the
/// connections (the runtime's timers and wakers are made once, before the count): none.
const SLACK: usize = 0;

/// One connection that leaves in the way `index` picks.
async fn visit(addr: std::net::SocketAddr, index: usize) {
    let mut stream = bounded(TcpStream::connect(addr)).await.unwrap();
    // Three of four leave with a reset (no TIME_WAIT on the test's side, so tens of thousands
    // fit in the ephemeral ports); the others close normally.
    if index % 4 != 3 {
        SockRef::from(&stream)
            .set_linger(Some(std::time::Duration::ZERO))
            .unwrap();
    }
    match index % 4 {
        0 => {}
        1 => {
            let _ = stream.write_all(b"GET /half HT").await;
        }
        2 => {
            let _ = stream
                .write_all(b"GET / HTTP/1.1\r\nHost: churn\r\n\r\n")
                .await;
        }
        _ => {
            stream
                .write_all(b"GET / HTTP/1.1\r\nHost: churn\r\nConnection: close\r\n\r\n")
                .await
                .unwrap();
            let mut answer = Vec::new();
            bounded(stream.read_to_end(&mut answer)).await.unwrap();
            assert!(answer.starts_with(b"HTTP/1.1 200 OK\r\n"));
        }
    }
}

#[actix_rt::test]
async fn tens_of_thousands_of_connections_leave_no_descriptor_behind() {
    if require_open_files(4 * AT_ONCE as u64).is_none() {
        return;
    }
    let target = start_target();
    // One full exchange first, so that whatever the server and the runtime open once is open.
    let mut warm = Client::connect(target.addr).await;
    warm.send(b"GET / HTTP/1.1\r\nHost: churn\r\n\r\n").await;
    assert_eq!(warm.answer().await.unwrap().status, 200);
    drop(warm);
    target
        .until_held_at_most(0, "the warm-up connection is closed")
        .await;
    let before = open_descriptors();

    let mut peak_held = 0;
    for batch in (0..CONNECTIONS).collect::<Vec<_>>().chunks(AT_ONCE) {
        join_all(batch.iter().map(|&index| visit(target.addr, index))).await;
        peak_held = peak_held.max(target.held());
    }
    target
        .until_held_at_most(0, "every connection is let go")
        .await;
    let after = open_descriptors();
    eprintln!(
        "{CONNECTIONS} connections: {before} descriptors before, {after} after, at most \
         {peak_held} held between batches"
    );
    assert!(
        after <= before + SLACK,
        "{} descriptors leaked over {CONNECTIONS} connections",
        after - before
    );
    // The server still serves.
    let mut client = Client::connect(target.addr).await;
    client.send(b"GET / HTTP/1.1\r\nHost: churn\r\n\r\n").await;
    assert_eq!(client.answer().await.unwrap().status, 200);
}
