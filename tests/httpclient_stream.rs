//! A large download through `streaming_callback`: the client hands the body on in pieces no
//! larger than one socket read and never holds it whole, so its memory stays flat.
//!
//! The size is 1 GiB by default (well under a second over loopback, even in a debug build);
//! `CYCLONE_HTTPCLIENT_STREAM_MIB` changes it for slower machines.

mod support;

use std::cell::Cell;
use std::rc::Rc;

use cyclone::httpclient::{AsyncHttpClient, HttpRequest};
use support::raw_server::{read_request, serve};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const PIECE: usize = 256 * 1024;

fn size_mib() -> u64 {
    std::env::var("CYCLONE_HTTPCLIENT_STREAM_MIB")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(1024)
}

/// Resident memory of this process in KiB, where /proc tells it.
fn resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[actix_rt::test]
async fn a_large_body_streams_in_small_pieces_with_flat_memory() {
    let total = size_mib() * 1024 * 1024;
    // The server writes the body from one reused buffer, so it holds no more than the client.
    let server = serve(move |mut stream: TcpStream| async move {
        let mut buf = Vec::new();
        if read_request(&mut stream, &mut buf).await.is_none() {
            return;
        }
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n");
        if stream.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let piece: Vec<u8> = (0..PIECE).map(|i| (i % 251) as u8).collect();
        let mut left = total;
        while left > 0 {
            let n = left.min(PIECE as u64) as usize;
            if stream.write_all(&piece[..n]).await.is_err() {
                return;
            }
            left -= n as u64;
        }
    })
    .await;

    let received = Rc::new(Cell::new(0u64));
    let largest = Rc::new(Cell::new(0usize));
    let pieces = Rc::new(Cell::new(0u64));
    let checksum_ok = Rc::new(Cell::new(true));
    let peak_growth = Rc::new(Cell::new(0u64));
    let baseline = resident_kib();
    let request = HttpRequest::new(server.url("/big"))
        .max_body_size(u64::MAX)
        .request_timeout(std::time::Duration::from_secs(120))
        .streaming_callback({
            let (received, largest, pieces) = (received.clone(), largest.clone(), pieces.clone());
            let (checksum_ok, peak_growth) = (checksum_ok.clone(), peak_growth.clone());
            move |chunk| {
                let offset = received.get();
                // Spot-check the content: the byte at each piece's start is its offset's pattern.
                if chunk[0] != ((offset % PIECE as u64) % 251) as u8 {
                    checksum_ok.set(false);
                }
                received.set(offset + chunk.len() as u64);
                largest.set(largest.get().max(chunk.len()));
                pieces.set(pieces.get() + 1);
                if pieces.get() % 1024 == 0
                    && let (Some(before), Some(now)) = (baseline, resident_kib())
                {
                    peak_growth.set(peak_growth.get().max(now.saturating_sub(before)));
                }
            }
        });
    let client = AsyncHttpClient::new();
    let response = tokio::time::timeout(std::time::Duration::from_secs(300), client.fetch(request))
        .await
        .expect("bounded")
        .unwrap();
    assert_eq!(response.code, 200);
    assert!(response.body.is_empty(), "a streamed body is not kept");
    assert_eq!(received.get(), total);
    assert!(checksum_ok.get());
    assert!(
        largest.get() <= 64 * 1024,
        "pieces are at most one read: {}",
        largest.get()
    );
    assert!(pieces.get() >= total / (64 * 1024));
    // Generous: the body is hundreds of MiB; buffering even a tenth of it would show.
    assert!(
        peak_growth.get() < 32 * 1024,
        "resident memory grew by {} KiB",
        peak_growth.get()
    );
}
