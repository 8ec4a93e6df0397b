//! Clients that pipeline large echo requests and never read the answers, against the real
//! server with its default settings. Each answer is as large as its request, so a server that
//! kept reading would queue answers without end. The server stops taking requests once its
//! write buffer is over `max_write_buffer_size` (1 MiB) or `max_pipelined_requests` (16)
//! wait: the clients' writes stall after a bounded number of bytes, its memory stays bounded,
//! a normal client is still answered, and once the flooders leave every connection is let go.

mod support;

use std::time::Duration;

use bytes::Bytes;
use support::hostile::{Floods, MIB, resident_bytes, start_target};
use support::raw_http::Client;
use support::wait::bounded;
use tokio::net::TcpStream;

/// Clients flooding at once.
const FLOODERS: usize = 8;

/// Each pipelined request's body: 256 KiB.
const BODY: usize = 256 * 1024;

/// What one flooder would send if nothing stopped it: 256 MiB.
const FLOOD_LIMIT: u64 = 256 * MIB;

/// How long a flood must make no progress to count as stalled.
const STALL_WINDOW: Duration = Duration::from_millis(500);

/// The most one flooder may hand over before it stalls: what the server holds for it (16
/// pipelined requests of 256 KiB read ahead, answers up to its 1 MiB write buffer plus the one
/// being written, about 6 MiB) plus the kernel's socket buffers on both ends (loopback
/// autotuning allows tens of MiB). Far below the 256 MiB it tries.
const BYTES_BOUND: u64 = 64 * MIB;

/// What the server may hold in memory for all the flooders together (about 6 MiB each, with
/// room for allocator slack): resident memory of the whole process, so a coarse bound.
const MEMORY_BOUND: u64 = 96 * MIB;

#[actix_rt::test]
async fn pipelined_echoes_never_read_stall_the_client_not_the_server() {
    let target = start_target();
    let memory_before = resident_bytes();

    // One chunk of pipelined requests, written again and again from one shared buffer.
    let mut chunk =
        format!("POST /echo HTTP/1.1\r\nHost: target\r\nContent-Length: {BODY}\r\n\r\n")
            .into_bytes();
    chunk.resize(chunk.len() + BODY, b'x');
    let chunk = Bytes::from(chunk);

    let mut streams = Vec::new();
    for _ in 0..FLOODERS {
        streams.push(bounded(TcpStream::connect(target.addr)).await.unwrap());
    }
    let floods = Floods::start(streams, &chunk, FLOOD_LIMIT);
    let totals = floods
        .until_stalled_within(STALL_WINDOW, memory_before, BYTES_BOUND, MEMORY_BOUND)
        .await;
    for (index, total) in totals.iter().enumerate() {
        assert!(*total > 0, "flooder {index} sent nothing");
    }
    assert_eq!(
        target.held(),
        FLOODERS,
        "every flooder is held, none dropped or leaked"
    );
    // Each connection's own counters: at most the write buffer's cap plus the one answer that
    // crossed it, a bounded read buffer, no more requests in flight than the pipelining cap.
    let stats = target.stats().await;
    assert_eq!(stats.len(), FLOODERS, "{stats:?}");
    for one in &stats {
        assert_eq!(one.protocol, "http");
        let queued = one
            .write_queued
            .expect("an HTTP connection counts its bytes");
        let buffered = one
            .read_buffered
            .expect("an HTTP connection counts its bytes");
        assert!(queued <= MIB as usize + 2 * BODY, "{one:?}");
        assert!(buffered <= 2 * BODY, "{one:?}");
        assert!(one.in_flight <= 16, "{one:?}");
    }
    eprintln!("per connection: {stats:?}");

    // A normal client is answered while the flooders wait.
    let mut normal = Client::connect(target.addr).await;
    normal
        .send(b"POST /echo HTTP/1.1\r\nHost: target\r\nContent-Length: 5\r\n\r\nhello")
        .await;
    let answer = normal
        .answer()
        .await
        .expect("the normal client is answered");
    assert_eq!((answer.status, &answer.body[..]), (200, &b"hello"[..]));
    drop(normal);

    // The flooders leave without reading: the server lets every connection go.
    drop(floods);
    target
        .until_held_at_most(0, "the flooders' connections are released")
        .await;
}
