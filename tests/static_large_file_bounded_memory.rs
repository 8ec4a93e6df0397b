//! A 1 GiB static file to a client that stops reading: the server reads from disk only what the
//! connection's queue, its write buffer and the kernel's socket buffers can hold, never the
//! file. Asserted with the server's own counter of bytes read (`static_files::stats`) against
//! those limits, not with timing. Alone in its binary: the counter is process-wide.

use std::net::SocketAddr;
use std::time::Duration;

use cyclone::httpserver::{HttpServerOptions, RESPONSE_QUEUE_CHUNKS};
use cyclone::testing::TestServer;
use cyclone::web::static_files::{DEFAULT_STATIC_CHUNK_SIZE, stats};
use cyclone::web::{Application, Settings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// The file: far larger than anything the server may hold for one client.
const FILE_SIZE: u64 = 1024 * 1024 * 1024;

/// The client's receive buffer (the kernel may double it; the bound uses what it reports).
const CLIENT_RECEIVE_BUFFER: u32 = 64 * 1024;

/// The kernel may let a socket's queue pass its buffer size by a batch of segments.
const KERNEL_SLACK: u64 = 512 * 1024;

/// How long the read counter must stand still to count as stalled.
const STILL_FOR: Duration = Duration::from_millis(500);

/// The most any wait here may take.
const WAIT: Duration = Duration::from_secs(30);

/// The kernel's largest TCP send buffer (the server's socket may grow to it), from
/// `/proc/sys/net/ipv4/tcp_wmem`; 4 MiB (Linux's default) when unreadable.
fn kernel_send_buffer_max() -> u64 {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|text| text.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 * 1024 * 1024)
}

/// Waits until the server's read counter has not moved for [`STILL_FOR`]; returns it.
async fn read_counter_at_rest() -> u64 {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut last = stats().bytes_read;
    let mut still_since = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(25)).await;
        let now = stats().bytes_read;
        if now != last {
            last = now;
            still_since = tokio::time::Instant::now();
        } else if still_since.elapsed() >= STILL_FOR {
            return now;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never stopped reading"
        );
    }
}

/// Reads exactly `count` body bytes (after the head, already consumed).
async fn read_bytes(stream: &mut TcpStream, count: usize) {
    let mut buffer = vec![0; 64 * 1024];
    let mut left = count;
    while left > 0 {
        let want = left.min(buffer.len());
        let read = tokio::time::timeout(WAIT, stream.read(&mut buffer[..want]))
            .await
            .expect("bytes within the wait")
            .expect("read");
        assert!(read > 0, "the server closed early");
        left -= read;
    }
}

#[actix_rt::test]
async fn a_stalled_client_holds_a_bounded_part_of_a_huge_file() {
    let dir = std::env::temp_dir().join(format!("cyclone-static-huge-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // Sparse: a gigabyte of zeros that takes no disk space.
    let file = std::fs::File::create(dir.join("huge.bin")).unwrap();
    file.set_len(FILE_SIZE).unwrap();
    drop(file);

    let app = Application::with_settings([], Settings::default().static_path(&dir)).unwrap();
    let server = TestServer::start(app).unwrap();
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(CLIENT_RECEIVE_BUFFER).unwrap();
    let receive_buffer = u64::from(socket.recv_buffer_size().unwrap());
    let mut stream = socket
        .connect(SocketAddr::from(([127, 0, 0, 1], server.port())))
        .await
        .unwrap();
    let started_at = stats().bytes_read;
    stream
        .write_all(b"GET /static/huge.bin HTTP/1.1\r\nHost: t\r\n\r\n")
        .await
        .unwrap();

    // The head, with the file's length (streamed, not chunked).
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8];
        tokio::time::timeout(WAIT, stream.read_exact(&mut byte))
            .await
            .expect("a head")
            .unwrap();
        head.push(byte[0]);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains(&format!("content-length: {FILE_SIZE}\r\n")),
        "{head}"
    );

    // What the server may hold for a client that reads nothing: the handler's chunk, the
    // connection's queue of chunks, its write buffer (filled up to its limit, plus the
    // chunk that crossed it), and the two kernel socket buffers.
    let chunk = DEFAULT_STATIC_CHUNK_SIZE as u64;
    let bound = chunk
        + (RESPONSE_QUEUE_CHUNKS as u64 + 1) * chunk
        + HttpServerOptions::DEFAULT_MAX_WRITE_BUFFER_SIZE as u64
        + chunk
        + kernel_send_buffer_max()
        + receive_buffer
        + KERNEL_SLACK;

    let stalled = read_counter_at_rest().await - started_at;
    assert!(
        stalled <= bound,
        "read {stalled} bytes for a client that reads nothing; the bound is {bound}"
    );
    assert!(stalled < FILE_SIZE / 16);

    // The client reads 32 MiB: the server reads on, still only that far ahead of it.
    let consumed = 32 * 1024 * 1024;
    read_bytes(&mut stream, consumed).await;
    let resumed = read_counter_at_rest().await - started_at;
    assert!(resumed > stalled, "reading did not resume");
    assert!(
        resumed - consumed as u64 <= bound,
        "read {resumed} bytes for a client that took {consumed}; the bound is {bound}"
    );

    // The client leaves: the server stops reading the file.
    drop(stream);
    let at_close = read_counter_at_rest().await - started_at;
    assert!(
        at_close < FILE_SIZE / 8,
        "kept reading after the client left: {at_close}"
    );
    server.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
