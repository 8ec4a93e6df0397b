//! The HTTP/2 attacks of issue #16, each from a raw client over TCP to an h2c server on
//! 127.0.0.1, each bounded in frames sent and in time, each followed by another client being
//! served: rapid reset (CVE-2023-44487), SETTINGS and PING floods from a client that never
//! reads, a flow-control window that never opens, a CONTINUATION flood (the 2024 one) and an
//! oversize header list. docs/http2.md names the defence each test proves.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use cyclone::httpserver::{
    Http2Config, HttpResponse, HttpServer, HttpServerRequest, ResponseWriter, streaming,
};
use support::raw_http2::{
    self, CONTINUATION, END_HEADERS, END_STREAM, FrameReader, GOAWAY, HEADERS, RST_STREAM, frame,
};
use support::servers::start_http;
use support::wait::WAIT;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// A server answering every request 200 "ok" (with `config` and `write_timeout`); the count
/// of requests that reached the service.
fn counting_server(
    config: Http2Config,
    write_timeout: Duration,
) -> (
    HttpServer<impl cyclone::httpserver::HttpService>,
    SocketAddr,
    Arc<AtomicU64>,
) {
    let calls = Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let service = move |_request: HttpServerRequest| {
        counter.fetch_add(1, Ordering::SeqCst);
        async { HttpResponse::ok().text("ok") }
    };
    let mut server = HttpServer::new(service)
        .http2_config(config)
        .write_timeout(write_timeout);
    let addr = start_http(&mut server, 1);
    (server, addr, calls)
}

/// Writes `frames` in batches of `per_batch` copies of `one` until the server stops taking
/// them; returns the count written before the write failed. Fails the test if all `frames`
/// were taken (the server never pushed back and closed) or if a write blocks past [`WAIT`]
/// (the server pushed back but never closed).
async fn flood_until_closed(client: &mut TcpStream, one: &[u8], frames: usize) -> usize {
    const PER_BATCH: usize = 1024;
    let batch = one.repeat(PER_BATCH);
    let mut written = 0;
    while written < frames {
        match tokio::time::timeout(WAIT, client.write_all(&batch)).await {
            Ok(Ok(())) => written += PER_BATCH,
            Ok(Err(_)) => return written,
            Err(_) => panic!("the server stopped reading after {written} frames but never closed"),
        }
    }
    panic!("the server took all {frames} frames without closing the connection");
}

#[actix_rt::test]
async fn rapid_reset_is_answered_with_goaway_enhance_your_calm() {
    const STREAMS: u32 = 10_000;
    let config = Http2Config::default();
    let limit = config.get_max_pending_accept_reset_streams();
    let (mut server, addr, calls) = counting_server(config, Duration::from_secs(5));
    let client = raw_http2::connect(addr, &[]).await;
    let (mut read, mut write) = client.into_split();
    // HEADERS then RST_STREAM(CANCEL) on each stream, as fast as the socket takes them.
    let writer = actix_rt::spawn(async move {
        let mut sent = 0;
        for batch in (0..STREAMS).collect::<Vec<_>>().chunks(500) {
            let mut out = Vec::new();
            for index in batch {
                let stream = 2 * index + 1;
                out.extend_from_slice(&raw_http2::request(stream, "/"));
                out.extend_from_slice(&frame(
                    RST_STREAM,
                    0,
                    stream,
                    &raw_http2::CANCEL.to_be_bytes(),
                ));
            }
            if write.write_all(&out).await.is_err() {
                break;
            }
            sent += batch.len() as u32;
        }
        sent
    });
    let mut frames = FrameReader::default();
    let mut received = Vec::new();
    while let Some(frame) = frames.next_or_closed(&mut read).await {
        received.push(frame);
    }
    let sent = tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
    let goaways = raw_http2::goaways(&received);
    assert_eq!(goaways.len(), 1, "{goaways:?}");
    let (last, code) = goaways[0];
    assert_eq!(code, raw_http2::ENHANCE_YOUR_CALM, "{goaways:?}");
    // Cut off just past the budget: the last stream taken is at most the one after the
    // budget (client streams are odd: the n-th is 2n − 1, so the (budget + 1)-th is
    // 2 × budget + 1).
    let budget = u32::try_from(limit).unwrap();
    assert!(
        last <= 2 * budget + 1,
        "GOAWAY after stream {last} ({sent} sent), budget {limit}"
    );
    // And no more streams than that reached the service.
    let served = calls.load(Ordering::SeqCst);
    assert!(
        served <= u64::from(budget) + 1,
        "{served} of {sent} reset streams reached the service (budget {limit})"
    );
    assert_eq!(raw_http2::get_status(addr, "/").await, 200);
    server.stop().await;
}

#[actix_rt::test]
async fn a_settings_flood_from_a_client_that_never_reads_is_closed() {
    // Each empty SETTINGS asks for a 9-byte ACK.
    a_flood_never_read_is_closed(frame(raw_http2::SETTINGS, 0, 0, &[])).await;
}

#[actix_rt::test]
async fn a_ping_flood_from_a_client_that_never_reads_is_closed() {
    // Each PING asks for a 17-byte ACK.
    a_flood_never_read_is_closed(frame(raw_http2::PING, 0, 0, b"floodpng")).await;
}

/// Floods a server with `one` (a frame that asks for an acknowledgement), never reading:
/// the server must close the connection, and go on serving another client.
async fn a_flood_never_read_is_closed(one: Vec<u8>) {
    // Keep-alive off: the write timeout alone must end it.
    let config = Http2Config::default().keep_alive_interval(None);
    let (mut server, addr, _calls) = counting_server(config, Duration::from_millis(500));
    let mut client = raw_http2::connect(addr, &[]).await;
    // 256 MiB of frames is far more than every socket buffer between the two holds.
    flood_until_closed(&mut client, &one, (256 << 20) / one.len()).await;
    assert_eq!(raw_http2::get_status(addr, "/").await, 200);
    server.stop().await;
}

#[actix_rt::test]
async fn a_window_that_never_opens_pauses_the_handler_then_closes_the_connection() {
    const PIECE: usize = 64 * 1024;
    const ATTEMPT: u64 = 100 * 1024 * 1024;
    let (ended, mut handler_end) = tokio::sync::mpsc::unbounded_channel();
    // Writes 64 KiB pieces, flushing each, until 100 MiB are out or the stream is gone; the
    // count of what it flushed is reported when its work ends or is dropped (a reset stream's
    // work is cancelled, as on HTTP/1.1 when the client leaves).
    let service = streaming(
        move |request: HttpServerRequest, mut writer: ResponseWriter| {
            let mut flushed = Flushed {
                bytes: 0,
                report: ended.clone(),
            };
            async move {
                if request.uri().path() != "/endless" {
                    let _ = writer.finish().await;
                    return;
                }
                let piece = Bytes::from(vec![b'x'; PIECE]);
                while flushed.bytes < ATTEMPT {
                    writer.write(piece.clone());
                    if writer.flush().await.is_err() {
                        break;
                    }
                    flushed.bytes += PIECE as u64;
                }
            }
        },
    );
    let mut server = HttpServer::new(service)
        .http2_config(Http2Config::default().keep_alive_interval(None))
        .write_timeout(Duration::from_millis(300))
        .idle_connection_timeout(Duration::from_millis(300));
    let addr = start_http(&mut server, 1);
    // Streams start with a window of 0 bytes, and the client never opens it.
    let mut client =
        raw_http2::connect(addr, &[(raw_http2::SETTINGS_INITIAL_WINDOW_SIZE, 0)]).await;
    client
        .write_all(&raw_http2::request(1, "/endless"))
        .await
        .unwrap();
    let received = FrameReader::default().until_closed(&mut client).await;
    // The head; no DATA; the stream reset once write_timeout passed without window; then,
    // with no stream left, the idle GOAWAY and the close.
    let kinds: Vec<(u8, u32)> = received.iter().map(|frame| (frame.0, frame.2)).collect();
    assert_eq!(
        kinds,
        vec![(HEADERS, 1), (RST_STREAM, 1), (GOAWAY, 0)],
        "{received:?}"
    );
    assert_eq!(raw_http2::reset_code(&received[1].3), raw_http2::CANCEL);
    assert_eq!(raw_http2::goaway(&received[2].3), (1, raw_http2::NO_ERROR));
    // The handler was paused, then told: what it flushed is its queue and h2's send buffer,
    // nowhere near the 100 MiB it tried.
    let flushed = tokio::time::timeout(WAIT, handler_end.recv())
        .await
        .expect("the handler ends once the stream is reset")
        .unwrap();
    assert!(
        flushed <= 4 * 1024 * 1024,
        "{flushed} bytes flushed into a window of 0"
    );
    assert_eq!(raw_http2::get_status(addr, "/").await, 200);
    server.stop().await;
}

/// What a streaming handler flushed, sent to the test when its work ends or is dropped.
struct Flushed {
    /// Bytes flushed so far.
    bytes: u64,
    /// Where the total goes.
    report: tokio::sync::mpsc::UnboundedSender<u64>,
}

impl Drop for Flushed {
    fn drop(&mut self) {
        let _ = self.report.send(self.bytes);
    }
}

#[actix_rt::test]
async fn a_continuation_flood_is_closed_past_the_header_list_limit() {
    // 64 MiB of CONTINUATION frames: far more than the socket buffers between the two hold,
    // so a server still reading them would be caught taking them all.
    const BUDGET: usize = 64 << 20;
    let (mut server, addr, calls) = counting_server(Http2Config::default(), WAIT);
    // Tiny pieces (one byte each) and the largest the server takes (16 KiB): caught by count
    // and by size alike.
    for piece in [1, 16 * 1024] {
        let client = raw_http2::connect(addr, &[]).await;
        let (mut read, mut write) = client.into_split();
        // One header whose value is announced 100 MiB long, its bytes in CONTINUATION frames
        // that never end the block.
        let writer = actix_rt::spawn(async move {
            let mut block = raw_http2::get("/");
            block.extend_from_slice(&[0x00, 0x07]);
            block.extend_from_slice(b"x-flood");
            // 100 MiB as a 7-bit-prefix integer: 127, then the rest in 7-bit groups.
            let mut rest = (100usize << 20) - 127;
            block.push(0x7f);
            while rest >= 128 {
                block.push((rest % 128 + 128) as u8);
                rest /= 128;
            }
            block.push(rest as u8);
            let mut out = frame(HEADERS, END_STREAM, 1, &block);
            let continuation = frame(CONTINUATION, 0, 1, &vec![b'a'; piece]);
            let mut sent = 0;
            while sent < BUDGET {
                while out.len() < 64 * 1024 {
                    out.extend_from_slice(&continuation);
                }
                if write.write_all(&out).await.is_err() {
                    return sent;
                }
                sent += out.len();
                out.clear();
            }
            sent
        });
        let mut frames = FrameReader::default();
        let mut received = Vec::new();
        while let Some(frame) = frames.next_or_closed(&mut read).await {
            received.push(frame);
        }
        let goaways = raw_http2::goaways(&received);
        assert_eq!(goaways.len(), 1, "piece {piece}: {received:?}");
        assert_eq!(
            goaways[0].1,
            raw_http2::ENHANCE_YOUR_CALM,
            "piece {piece}: {goaways:?}"
        );
        let sent = tokio::time::timeout(WAIT, writer).await.unwrap().unwrap();
        assert!(
            sent < BUDGET,
            "piece {piece}: the server took all {sent} bytes"
        );
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "a flooded request reached the service"
    );
    assert_eq!(raw_http2::get_status(addr, "/").await, 200);
    server.stop().await;
}

#[actix_rt::test]
async fn an_oversize_header_list_is_answered_431_and_the_connection_serves_on() {
    // A list over an 8 KiB limit in one HEADERS frame, and one over the default 64 KiB split
    // over HEADERS and CONTINUATION frames of 16 KiB (the most the server takes).
    for (config, fields) in [
        (Http2Config::default().max_header_list_size(8 * 1024), 10),
        (Http2Config::default(), 66),
    ] {
        let limit = config.get_max_header_list_size();
        let (mut server, addr, calls) = counting_server(config, Duration::from_secs(5));
        let mut client = raw_http2::connect(addr, &[]).await;
        // 1 KiB fields: each counts 1 KiB + its name + 32 bytes (RFC 9113 §6.5.2).
        let mut block = raw_http2::get("/");
        for index in 0..fields {
            block.extend_from_slice(&raw_http2::literal_field(
                &format!("x-filler-{index}"),
                &[b'f'; 1024],
            ));
        }
        assert!(block.len() > limit as usize);
        let pieces: Vec<&[u8]> = block.chunks(16 * 1024).collect();
        let mut out = Vec::new();
        for (index, piece) in pieces.iter().enumerate() {
            let (kind, flags) = match index {
                0 => (HEADERS, END_STREAM),
                _ => (CONTINUATION, 0),
            };
            let last = if index + 1 == pieces.len() {
                END_HEADERS
            } else {
                0
            };
            out.extend_from_slice(&frame(kind, flags | last, 1, piece));
        }
        client.write_all(&out).await.unwrap();
        let mut frames = FrameReader::default();
        let answer = loop {
            let received = frames.next(&mut client).await;
            if !raw_http2::answer_control(&mut client, &received).await {
                break received;
            }
        };
        let (kind, flags, stream, payload) = &answer;
        assert_eq!((*kind, *stream), (HEADERS, 1), "limit {limit}: {answer:?}");
        assert_eq!(raw_http2::status(payload), Some(431), "limit {limit}");
        assert_ne!(
            flags & END_STREAM,
            0,
            "limit {limit}: the 431 ends the stream"
        );
        assert_eq!(
            calls.load(Ordering::SeqCst),
            0,
            "limit {limit}: the oversize request reached the service"
        );
        // The same connection serves the next request.
        let next = raw_http2::request(3, "/");
        client.write_all(&next).await.unwrap();
        assert_eq!(
            raw_http2::answer_status(&mut client, &mut frames, 3).await,
            200,
            "limit {limit}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1, "limit {limit}");
        server.stop().await;
    }
}
