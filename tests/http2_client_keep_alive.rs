//! The HTTP client's HTTP/2 keep-alive PINGs (`ClientOptions::http2_keep_alive_interval`),
//! against a raw frame server that answers PINGs or goes silent after the handshake: a server
//! gone without a word fails the fetch waiting on it when its PING goes unanswered (a typed
//! `KeepAlive` timeout, long before the request timeout) and its connection leaves the pool;
//! a server that answers keeps a slow answer coming; an idle connection is pinged only when
//! `http2_keep_alive_while_idle` asks.

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use cyclone::httpclient::{
    AsyncHttpClient, ClientOptions, HttpClientError, HttpRequest, TimeoutPhase,
};
use support::raw_http2::{self, FrameReader, frame};
use support::wait::{bounded, until};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// How the raw server treats PINGs and requests.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Gone without a word once the handshake is done: no PING answered, no request either.
    Silent,
    /// Answers every PING, and each request with `200 ok` once it has answered this many
    /// PINGs since the request came.
    AnswerAfterPings(usize),
}

/// What the raw server saw, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// A request's HEADERS.
    Request,
    /// A PING (not an acknowledgement).
    Ping,
    /// The client closed the connection.
    Closed,
}

/// A raw HTTP/2 server on a loopback port.
struct PingServer {
    addr: SocketAddr,
    /// Connections accepted.
    accepted: Arc<AtomicUsize>,
    /// What its connections saw.
    seen: mpsc::UnboundedReceiver<Seen>,
}

impl PingServer {
    async fn start(mode: Mode) -> PingServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        let (report, seen) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve(stream, mode, report.clone()));
            }
        });
        PingServer {
            addr,
            accepted,
            seen,
        }
    }

    /// The next thing the server sees; fails the test if nothing comes in time.
    async fn next(&mut self) -> Seen {
        bounded(self.seen.recv())
            .await
            .expect("the server is running")
    }

    /// Everything the server sees within `window`.
    async fn during(&mut self, window: Duration) -> Vec<Seen> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + window;
        while let Ok(Some(event)) = tokio::time::timeout_at(deadline, self.seen.recv()).await {
            seen.push(event);
        }
        seen
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// One connection of the raw server.
async fn serve(mut stream: TcpStream, mode: Mode, report: mpsc::UnboundedSender<Seen>) {
    let mut preface = [0u8; 24];
    if stream.read_exact(&mut preface).await.is_err() || preface != raw_http2::PREFACE {
        return;
    }
    let _ = stream.write_all(&raw_http2::settings(&[])).await;
    let mut frames = FrameReader::default();
    // The request waiting for its answer: its stream and the PINGs answered since it came.
    let mut waiting: Option<(u32, usize)> = None;
    while let Some((kind, flags, id, payload)) = frames.next_or_closed(&mut stream).await {
        let mut out = Vec::new();
        match (kind, mode) {
            (raw_http2::SETTINGS, _) if flags & raw_http2::ACK == 0 => {
                out = frame(raw_http2::SETTINGS, raw_http2::ACK, 0, &[]);
            }
            (raw_http2::PING, _) if flags & raw_http2::ACK == 0 => {
                let _ = report.send(Seen::Ping);
                if let Mode::AnswerAfterPings(needed) = mode {
                    out = frame(raw_http2::PING, raw_http2::ACK, 0, &payload);
                    if let Some((request, answered)) = waiting.as_mut() {
                        *answered += 1;
                        if *answered >= needed {
                            out.extend_from_slice(&ok(*request));
                            waiting = None;
                        }
                    }
                }
            }
            (raw_http2::HEADERS, _) => {
                let _ = report.send(Seen::Request);
                match mode {
                    Mode::AnswerAfterPings(0) => out = ok(id),
                    Mode::AnswerAfterPings(_) => waiting = Some((id, 0)),
                    Mode::Silent => {}
                }
            }
            _ => {}
        }
        if !out.is_empty() && stream.write_all(&out).await.is_err() {
            break;
        }
    }
    let _ = report.send(Seen::Closed);
}

/// `200` with the body `ok` on stream `id`.
fn ok(id: u32) -> Vec<u8> {
    // 0x88: `:status: 200`, entry 8 of HPACK's static table.
    let mut out = frame(raw_http2::HEADERS, raw_http2::END_HEADERS, id, &[0x88]);
    out.extend_from_slice(&frame(raw_http2::DATA, raw_http2::END_STREAM, id, b"ok"));
    out
}

/// A fetch over h2c with prior knowledge, with a request timeout far beyond the keep-alive's.
fn h2c(addr: SocketAddr) -> HttpRequest {
    HttpRequest::new(format!("http://{addr}/"))
        .http2_prior_knowledge(true)
        .request_timeout(Duration::from_secs(60))
}

/// A client pinging after `interval` of silence, waiting `timeout` for the answer.
fn pinging(interval: Duration, timeout: Duration) -> ClientOptions {
    ClientOptions::new()
        .http2_keep_alive_interval(Some(interval))
        .http2_keep_alive_timeout(timeout)
}

#[actix_rt::test]
async fn an_unanswered_ping_fails_the_waiting_fetch_and_the_connection_leaves_the_pool() {
    let mut server = PingServer::start(Mode::Silent).await;
    let timeout = Duration::from_millis(300);
    let client = AsyncHttpClient::with_options(pinging(Duration::from_millis(100), timeout));

    let error = bounded(client.fetch(h2c(server.addr))).await.unwrap_err();
    match error {
        HttpClientError::Timeout { phase, after } => {
            assert_eq!(phase, TimeoutPhase::KeepAlive, "{error}");
            assert_eq!(after, timeout);
        }
        other => panic!("expected the keep-alive timeout, got {other:?}"),
    }
    assert_eq!(error.code(), 599);
    assert_eq!(server.next().await, Seen::Request);
    assert_eq!(
        server.next().await,
        Seen::Ping,
        "the silence was broken by a PING"
    );
    assert_eq!(
        server.next().await,
        Seen::Closed,
        "the client closed the socket"
    );
    until("the pool has forgotten the connection", || {
        client.http2_connections() == 0
    })
    .await;

    // The next fetch does not pick the dead connection: it opens another.
    let again = bounded(client.fetch(h2c(server.addr))).await.unwrap_err();
    assert!(
        matches!(
            again,
            HttpClientError::Timeout {
                phase: TimeoutPhase::KeepAlive,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(server.accepted(), 2);
}

#[actix_rt::test]
async fn answered_pings_keep_a_slow_answer_coming_and_an_idle_connection_is_left_alone() {
    // The answer comes only after three PINGs: the fetch must outlive three intervals.
    let mut server = PingServer::start(Mode::AnswerAfterPings(3)).await;
    let client =
        AsyncHttpClient::with_options(pinging(Duration::from_millis(50), Duration::from_secs(5)));
    let response = bounded(client.fetch(h2c(server.addr))).await.unwrap();
    assert_eq!((response.code, &response.body[..]), (200, &b"ok"[..]));
    let seen = server.during(Duration::from_millis(50)).await;
    assert_eq!(seen.first(), Some(&Seen::Request), "{seen:?}");
    assert!(
        seen.iter().filter(|seen| **seen == Seen::Ping).count() >= 3,
        "{seen:?}"
    );

    // Idle now: ten intervals without a PING, and the connection stays.
    let idle = server.during(Duration::from_millis(500)).await;
    assert!(!idle.contains(&Seen::Ping), "pinged while idle: {idle:?}");
    assert_eq!(client.http2_connections(), 1);
    let again = bounded(client.fetch(h2c(server.addr))).await.unwrap();
    assert_eq!(again.code, 200);
    assert_eq!(server.accepted(), 1, "both fetches on one connection");
}

#[actix_rt::test]
async fn an_idle_connection_is_pinged_when_asked() {
    let mut server = PingServer::start(Mode::AnswerAfterPings(0)).await;
    let client = AsyncHttpClient::with_options(
        pinging(Duration::from_millis(50), Duration::from_secs(5))
            .http2_keep_alive_while_idle(true),
    );
    let response = bounded(client.fetch(h2c(server.addr))).await.unwrap();
    assert_eq!(response.code, 200);
    assert_eq!(server.next().await, Seen::Request);
    // Nothing in flight, and still PINGs, each answered: the connection stays in the pool.
    assert_eq!(server.next().await, Seen::Ping);
    assert_eq!(server.next().await, Seen::Ping);
    assert_eq!(client.http2_connections(), 1);
}
