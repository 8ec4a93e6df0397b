//! Write timeouts: a peer that stops reading is dropped once its queued bytes have waited
//! `write_timeout` without the peer taking any, the handler's pending write resolves with a
//! closed error instead of waiting for ever, and the connection (with its buffers) is let go.
//! Shown for an HTTP answer streamed to a client that never reads, and for a WebSocket
//! flooder that never reads its echoes (which, with no write timeout, was held for ever: its
//! connection stops reading at `max_write_queue`, so nothing else ever happens to it).
//!
//! Every wait is bounded (`support::wait`); nothing here measures how long the drop took.

mod support;

use std::time::Duration;

use bytes::Bytes;
use cyclone::httpserver::{HttpServer, HttpServerRequest, ResponseWriter, WriterError, streaming};
use cyclone::web::{Application, Settings, url};
use cyclone::websocket::{
    Message, WebSocketConfig, WebSocketContext, WebSocketError, WebSocketHandler, websocket_with,
};
use support::hostile::{Floods, MIB};
use support::wait::{bounded, until};
use support::ws::{masked, raw_handshake_at};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// Short enough for a test, long enough that a busy machine still moves bytes within it.
const WRITE_TIMEOUT: Duration = Duration::from_millis(300);

/// Connections the server holds right now.
fn held<S: cyclone::httpserver::HttpService>(server: &HttpServer<S>) -> usize {
    server.registry().map_or(0, |registry| registry.len())
}

/// How one streamed answer ended, as its handler saw it.
#[derive(Debug)]
enum Ended {
    /// A flush failed with this error after `sent` bytes had been flushed.
    Failed(u64, WriterError),
    /// The handler's future was dropped (it ran inside the connection, which is gone).
    Dropped,
}

/// Tells the test when the future holding it is dropped.
struct DropReport(mpsc::UnboundedSender<Ended>);

impl Drop for DropReport {
    fn drop(&mut self) {
        let _ = self.0.send(Ended::Dropped);
    }
}

/// Streams 64 KiB chunks until a flush fails, then reports how far it got.
async fn stream_forever(mut writer: ResponseWriter, report: mpsc::UnboundedSender<Ended>) {
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let mut sent = 0u64;
    loop {
        writer.write(chunk.clone());
        if let Err(error) = writer.flush().await {
            let _ = report.send(Ended::Failed(sent, error));
            return;
        }
        sent += chunk.len() as u64;
    }
}

/// Sends a request on a fresh connection and never reads the answer.
async fn never_reading(addr: std::net::SocketAddr, path: &str) -> TcpStream {
    let mut client = bounded(TcpStream::connect(addr)).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
    client.write_all(request.as_bytes()).await.unwrap();
    client
}

#[actix_rt::test]
async fn an_http_answer_to_a_client_that_never_reads_is_dropped_at_the_write_timeout() {
    let (report, mut reports) = mpsc::unbounded_channel::<Ended>();
    let service = streaming(move |request: HttpServerRequest, writer: ResponseWriter| {
        let report = report.clone();
        let handed_over = request.uri().path() == "/handed-over";
        async move {
            if handed_over {
                // The writer goes to another task, as an actor elsewhere would hold it: that
                // task's pending flush must fail when the connection goes.
                actix_rt::spawn(stream_forever(writer, report));
            } else {
                // Streamed by the future the connection runs: it goes with the connection.
                let _guard = DropReport(report.clone());
                stream_forever(writer, report).await;
            }
        }
    });
    let mut server = HttpServer::new(service).write_timeout(WRITE_TIMEOUT);
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(1).unwrap();
    let addr = server.local_addrs()[0];

    // The clients read nothing: the kernel's buffers fill, then the connections'.
    let handed_over = never_reading(addr, "/handed-over").await;
    match bounded(reports.recv()).await {
        Some(Ended::Failed(sent, WriterError::Closed)) => {
            assert!(sent > 0, "nothing was flushed before the stall")
        }
        other => panic!("the handed-over writer ended with {other:?}"),
    }
    until("the stalled connection is let go", || held(&server) == 0).await;

    let inline = never_reading(addr, "/inline").await;
    match bounded(reports.recv()).await {
        Some(Ended::Dropped) => {}
        other => panic!("the inline handler ended with {other:?}"),
    }
    until("the second stalled connection is let go", || {
        held(&server) == 0
    })
    .await;

    // The server serves on: a reading client gets its answer's first bytes.
    let mut reader = never_reading(addr, "/handed-over").await;
    let mut head = [0u8; 15];
    bounded(tokio::io::AsyncReadExt::read_exact(&mut reader, &mut head))
        .await
        .unwrap();
    assert_eq!(&head, b"HTTP/1.1 200 OK");
    drop((handed_over, inline));
}

/// Echoes every message and reports how its write ended.
struct ReportingEcho(mpsc::UnboundedSender<Result<(), WebSocketError>>);

impl WebSocketHandler for ReportingEcho {
    fn on_message(&mut self, cx: &mut WebSocketContext<'_>, message: Message) {
        let flushed = cx.write_message(message);
        let report = self.0.clone();
        actix_rt::spawn(async move {
            let _ = report.send(flushed.await);
        });
    }
}

#[actix_rt::test]
async fn a_websocket_flooder_that_never_reads_is_dropped_and_its_writes_fail() {
    let (report, mut reports) = mpsc::unbounded_channel();
    let settings =
        Settings::default().websocket_config(WebSocketConfig::new().write_timeout(WRITE_TIMEOUT));
    let app = Application::with_settings(
        [url(
            "/ws",
            websocket_with(move || ReportingEcho(report.clone())),
        )],
        settings,
    )
    .unwrap();
    let mut server = HttpServer::new(app);
    server.bind(0, Some("127.0.0.1")).unwrap();
    server.start(1).unwrap();
    let addr = server.local_addrs()[0];

    let mut stream = bounded(TcpStream::connect(addr)).await.unwrap();
    let leftover = raw_handshake_at(&mut stream, "/ws").await;
    assert!(leftover.is_empty(), "the server spoke first");
    let frame = Bytes::from(masked(0x2, &vec![b'x'; 256 * 1024]));
    // Floods until the server stops taking bytes, then waits for its writes to fail.
    let flooder = Floods::start(vec![stream], &frame, 256 * MIB);

    let failed = bounded(async {
        loop {
            match reports.recv().await {
                Some(Ok(())) => continue,
                Some(Err(error)) => return error,
                None => panic!("the handler went away without a failed write"),
            }
        }
    })
    .await;
    assert!(
        matches!(failed, WebSocketError::Closed),
        "a pending write failed with {failed:?}"
    );
    until("the flooder's connection is let go", || held(&server) == 0).await;
    drop(flooder);
}
