//! Random bytes against the real server with its default settings: on the HTTP port in place
//! of a request, and on a WebSocket in place of frames (after a proper handshake). Each
//! connection is answered with an error or closed (a 4xx and a close on HTTP, a close frame or
//! a drop on the WebSocket), never served; the server goes on serving a normal client, holds
//! no connection once the garbage ends, and keeps its descriptors. The garbage is the same on
//! every run (a fixed seed).

mod support;

use futures::future::join_all;
use support::hostile::{Garbage, open_descriptors, start_target};
use support::raw_http::Client;
use support::wait::bounded;
use support::ws::raw_handshake_at;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Connections sending garbage on each protocol.
const CONNECTIONS: usize = 200;

/// Bytes of garbage each sends.
const GARBAGE: usize = 8 * 1024;

/// Sends `garbage`, then says it has nothing more (the write side is shut, as a client that
/// leaves would), and returns what the server answered before it closed.
async fn throw(mut stream: TcpStream, garbage: Vec<u8>) -> Vec<u8> {
    // The server may close before taking it all; that is its answer.
    let _ = stream.write_all(&garbage).await;
    let _ = stream.shutdown().await;
    let mut answer = Vec::new();
    let _ = bounded(stream.read_to_end(&mut answer)).await;
    answer
}

#[actix_rt::test]
async fn garbage_on_the_http_and_websocket_ports_is_refused_and_the_server_goes_on() {
    let target = start_target();
    let mut normal = Client::connect(target.addr).await;
    normal.send(b"GET / HTTP/1.1\r\nHost: target\r\n\r\n").await;
    assert_eq!(normal.answer().await.unwrap().status, 200);
    let descriptors_before = open_descriptors();
    let mut garbage = Garbage::new(0x5eed_c7c1);

    // HTTP: garbage where a request should be.
    let mut throws = Vec::new();
    for _ in 0..CONNECTIONS {
        let stream = bounded(TcpStream::connect(target.addr)).await.unwrap();
        throws.push(throw(stream, garbage.bytes(GARBAGE)));
    }
    let answers = join_all(throws).await;
    let mut refused = 0;
    for answer in &answers {
        if !answer.is_empty() {
            assert!(
                answer.starts_with(b"HTTP/1.1 4"),
                "garbage got {:?}",
                String::from_utf8_lossy(&answer[..answer.len().min(80)])
            );
            refused += 1;
        }
    }
    // Random bytes almost never form a request line: nearly every one is answered 400.
    assert!(refused > CONNECTIONS / 2, "only {refused} were answered");

    // WebSocket: a proper upgrade, then garbage where frames should be.
    let mut throws = Vec::new();
    for _ in 0..CONNECTIONS {
        let mut stream = bounded(TcpStream::connect(target.addr)).await.unwrap();
        let leftover = raw_handshake_at(&mut stream, "/ws").await;
        assert!(leftover.is_empty());
        throws.push(throw(stream, garbage.bytes(GARBAGE)));
    }
    let answers = join_all(throws).await;
    let closed_with_a_frame = answers
        .iter()
        .filter(|answer| answer.first() == Some(&0x88))
        .count();
    for answer in &answers {
        // A close frame (0x88), or an echo or pong of a frame the garbage happened to form.
        if let Some(&first) = answer.first() {
            assert!(
                matches!(first, 0x81 | 0x82 | 0x88 | 0x8A) || first & 0x70 == 0,
                "the server wrote {first:#x} first"
            );
        }
    }
    assert!(
        closed_with_a_frame > CONNECTIONS / 2,
        "only {closed_with_a_frame} close frames"
    );

    target
        .until_held_at_most(1, "every garbage connection is closed")
        .await;
    normal.send(b"GET / HTTP/1.1\r\nHost: target\r\n\r\n").await;
    assert_eq!(
        normal.answer().await.unwrap().status,
        200,
        "the server goes on"
    );
    assert_eq!(open_descriptors(), descriptors_before, "descriptors leaked");
}
