//! WebSocket clients that send large messages and never read the echoes, against the real
//! server with its default settings (an echo handler that does not wait for its writes). The
//! echoes pile up in each connection's write queue; once `max_write_queue` (1 MiB) is queued
//! the connection stops reading, so the flood stalls in the kernel's buffers: each flooder
//! hands over a bounded number of bytes, the server holds only the connections it was given
//! and a bounded amount of memory, a well-behaved WebSocket client is served throughout, and
//! the connections are let go when the flooders leave. (A flooder that stays is dropped by the
//! write timeout, 60 s by default: `tests/write_timeout.rs`.)

mod support;

use std::time::Duration;

use bytes::Bytes;
use cyclone::websocket::{ConnectRequest, Message, websocket_connect};
use support::hostile::{Floods, MIB, resident_bytes, start_target};
use support::wait::bounded;
use support::ws::{assert_echoed, masked, raw_handshake_at};
use tokio::net::TcpStream;

/// Clients flooding at once.
const FLOODERS: usize = 8;

/// Each message: 256 KiB of binary.
const MESSAGE: usize = 256 * 1024;

/// How long a flood must make no progress to count as stalled.
const STALL_WINDOW: Duration = Duration::from_millis(500);

/// What one flooder would send if nothing stopped it.
const FLOOD_LIMIT: u64 = 256 * MIB;

/// The most one flooder hands over before its writes stall: its 1 MiB write queue of echoes,
/// the message being read, and the kernel's socket buffers on both ends.
const BYTES_BOUND: u64 = 64 * MIB;

/// What the server may hold for all the flooders (about 2 MiB each, with allocator slack).
const MEMORY_BOUND: u64 = 64 * MIB;

#[actix_rt::test]
async fn flooders_that_never_read_stall_and_a_polite_client_is_served() {
    let target = start_target();
    let url = format!("ws://{}/ws", target.addr);
    let mut polite = bounded(websocket_connect(ConnectRequest::new(url.clone())))
        .await
        .unwrap();
    let memory_before = resident_bytes();

    let frame = Bytes::from(masked(0x2, &vec![b'x'; MESSAGE]));
    let mut streams = Vec::new();
    for _ in 0..FLOODERS {
        let mut stream = bounded(TcpStream::connect(target.addr)).await.unwrap();
        let leftover = raw_handshake_at(&mut stream, "/ws").await;
        assert!(leftover.is_empty(), "the server spoke first");
        streams.push(stream);
    }
    let floods = Floods::start(streams, &frame, FLOOD_LIMIT);
    let totals = floods
        .until_stalled_within(STALL_WINDOW, memory_before, BYTES_BOUND, MEMORY_BOUND)
        .await;
    for (index, total) in totals.iter().enumerate() {
        assert!(
            *total >= MIB,
            "flooder {index} stalled before filling its queue"
        );
    }
    assert_eq!(
        target.held(),
        FLOODERS + 1,
        "the flooders and the polite client, no more"
    );
    // Each connection's own counters: the write queue's cap plus the one echo that crossed
    // it, a read buffer of at most about one message.
    let stats = target.stats().await;
    assert_eq!(stats.len(), FLOODERS + 1, "{stats:?}");
    for one in &stats {
        assert_eq!(one.protocol, "websocket");
        let queued = one.write_queued.expect("a WebSocket counts its bytes");
        let buffered = one.read_buffered.expect("a WebSocket counts its bytes");
        assert!(queued <= MIB as usize + 2 * MESSAGE, "{one:?}");
        assert!(buffered <= 2 * MESSAGE, "{one:?}");
    }
    let stalled = stats
        .iter()
        .filter(|one| one.write_queued >= Some(MIB as usize))
        .count();
    assert_eq!(stalled, FLOODERS, "each flooder's queue is full: {stats:?}");

    // The polite client, connected all along, is still echoed.
    assert_echoed(&mut polite, Message::text("still here")).await;

    // The flooders leave without reading: their connections are let go.
    drop(floods);
    target
        .until_held_at_most(1, "the flooders' connections are released")
        .await;
}
