//! The WebSocket connection actor and client over real sockets (127.0.0.1, port 0): our client
//! against our actor, both against tokio-tungstenite, compression, close codes, a peer that
//! stops reading, a service that pauses reading, a dead peer, and the reconnecting client.
//!
//! Until the HTTP server's upgrade hook exists, the server side here is a raw listener that
//! runs the handshake with `ServerHandshake` and starts the actor on the stream.

mod support;

use std::cell::Cell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;

use cyclone::websocket::{
    CloseCode, CloseFrame, ConnectRequest, DeflateConfig, Message, ReconnectPolicy,
    ReconnectingClient, Session, WebSocketConfig, WebSocketError, WebSocketService,
    websocket_connect,
};
use futures::stream::FuturesUnordered;
use futures::{FutureExt, SinkExt, StreamExt};
use support::wait::{WAIT, bounded};
use support::ws::{
    BIG_ANSWER, Pause, assert_echoed, assert_reading_is_paced, masked, next_message, raw_handshake,
    read_exactly, read_to_end, server_frames, upgrade_and_start,
};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Echoes every message; "close" makes it close with 4000; reports on_close.
struct Echo {
    closed: mpsc::UnboundedSender<Option<CloseFrame>>,
}

impl WebSocketService for Echo {
    fn on_message(&mut self, message: Message, session: &mut Session<'_>) -> Pause {
        if message == Message::text("close") {
            session.close(CloseCode(4000), "asked to");
        } else {
            session.send(message);
        }
        None
    }

    fn on_close(&mut self, close: Option<&CloseFrame>) {
        let _ = self.closed.send(close.cloned());
    }
}

/// A raw listener that upgrades every connection (choosing the first subprotocol offered) and
/// starts a connection actor running `make()`. Returns its address.
async fn serve<S: WebSocketService>(
    config: WebSocketConfig,
    make: impl Fn() -> S + 'static,
) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    actix_rt::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            upgrade_and_start(stream, config.clone(), make(), None).await;
        }
    });
    address
}

fn echo_server_parts() -> (
    impl Fn() -> Echo + 'static,
    mpsc::UnboundedReceiver<Option<CloseFrame>>,
) {
    let (sender, receiver) = mpsc::unbounded_channel();
    (
        move || Echo {
            closed: sender.clone(),
        },
        receiver,
    )
}

#[actix_rt::test]
async fn our_client_and_actor_echo_with_and_without_compression() {
    for compression in [
        None,
        Some(DeflateConfig::new()),
        Some(
            DeflateConfig::new()
                .server_no_context_takeover(true)
                .client_max_window_bits(10),
        ),
    ] {
        let config = WebSocketConfig::new().compression(compression.clone());
        let (make, mut closed) = echo_server_parts();
        let address = serve(config.clone(), make).await;
        let request = ConnectRequest::new(format!("ws://127.0.0.1:{}/echo?x=1", address.port()))
            .subprotocols(["chat.v2", "chat.v1"])
            .header("Origin", "http://127.0.0.1")
            .config(config);
        let mut client = timeout(WAIT, websocket_connect(request))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(client.subprotocol(), Some("chat.v2"));
        assert_eq!(client.is_compressed(), compression.is_some());
        let big = "x".repeat(200_000);
        for message in [
            Message::text("hello"),
            Message::binary(vec![0u8, 1, 2]),
            Message::text(big.clone()),
            Message::text(""),
        ] {
            client.write_message(message.clone()).await.unwrap();
            assert_eq!(next_message(&mut client).await, Some(message));
        }
        // The server closes with 4000 on request; the client sees the frame and the end.
        client.write_message(Message::text("close")).await.unwrap();
        assert_eq!(next_message(&mut client).await, None);
        assert_eq!(
            client.close_frame(),
            Some(Some(CloseFrame::new(CloseCode(4000), "asked to")))
        );
        // The server's on_close saw the client's echo of the code.
        let seen = timeout(WAIT, closed.recv()).await.unwrap().unwrap();
        assert_eq!(seen.map(|frame| frame.code), Some(CloseCode(4000)));
        assert!(matches!(
            client.write_message(Message::text("late")).await,
            Err(WebSocketError::Closed)
        ));
    }
}

#[actix_rt::test]
async fn client_close_reaches_the_server_with_its_code() {
    let (make, mut closed) = echo_server_parts();
    let address = serve(WebSocketConfig::new(), make).await;
    let mut client = websocket_connect(format!("ws://127.0.0.1:{}/", address.port()))
        .await
        .unwrap();
    client.close(CloseCode::NORMAL, "done");
    let seen = timeout(WAIT, closed.recv()).await.unwrap().unwrap();
    assert_eq!(seen, Some(CloseFrame::new(CloseCode::NORMAL, "done")));
    assert_eq!(next_message(&mut client).await, None);
    assert_eq!(
        client.close_frame(),
        Some(Some(CloseFrame::new(CloseCode::NORMAL, "")))
    );
}

#[actix_rt::test]
async fn dropping_a_client_connection_closes_it() {
    let (make, mut closed) = echo_server_parts();
    let address = serve(WebSocketConfig::new(), make).await;
    let client = websocket_connect(format!("ws://127.0.0.1:{}/", address.port()))
        .await
        .unwrap();
    drop(client);
    let seen = timeout(WAIT, closed.recv()).await.unwrap().unwrap();
    assert_eq!(seen.map(|frame| frame.code), Some(CloseCode::NORMAL));
}

#[actix_rt::test]
async fn tungstenite_client_against_our_actor() {
    use tokio_tungstenite::tungstenite::Message as TMessage;
    let (make, _closed) = echo_server_parts();
    let address = serve(WebSocketConfig::new(), make).await;
    let (mut socket, _) = timeout(
        WAIT,
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/", address.port())),
    )
    .await
    .unwrap()
    .unwrap();
    for message in [
        TMessage::text("hi there"),
        TMessage::binary(vec![7u8; 70_000]),
    ] {
        socket.send(message.clone()).await.unwrap();
        assert_eq!(
            timeout(WAIT, socket.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap(),
            message
        );
    }
    socket
        .send(TMessage::Ping(vec![1, 2, 3].into()))
        .await
        .unwrap();
    assert_eq!(
        timeout(WAIT, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap(),
        TMessage::Pong(vec![1, 2, 3].into())
    );
    socket.close(None).await.unwrap();
    while let Some(Ok(_)) = timeout(WAIT, socket.next()).await.unwrap() {}
}

#[actix_rt::test]
async fn our_client_against_a_tungstenite_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut socket = tokio_tungstenite::accept_async(stream).await.unwrap();
        while let Some(Ok(message)) = socket.next().await {
            if message.is_text() || message.is_binary() {
                socket.send(message).await.unwrap();
            }
        }
    });
    let mut client = websocket_connect(
        ConnectRequest::new(format!("ws://127.0.0.1:{port}/"))
            .config(WebSocketConfig::new().compression(Some(DeflateConfig::new()))),
    )
    .await
    .unwrap();
    assert!(
        !client.is_compressed(),
        "tungstenite declines permessage-deflate"
    );
    for message in [
        Message::text("ünïcode"),
        Message::binary(vec![3u8; 100_000]),
    ] {
        client.write_message(message.clone()).await.unwrap();
        assert_eq!(next_message(&mut client).await, Some(message));
    }
    client.close(CloseCode::NORMAL, "");
    assert_eq!(next_message(&mut client).await, None);
    timeout(WAIT, server).await.unwrap().unwrap();
}

#[actix_rt::test]
async fn connections_on_one_loop_keep_their_half_frames_apart() {
    // The connections of a loop share one spare read buffer; one holding half a frame must
    // keep its bytes while another reads, a large frame, and several frames in one read.
    let (make, _closed) = echo_server_parts();
    let address = serve(WebSocketConfig::new(), make).await;
    let mut first = TcpStream::connect(address).await.unwrap();
    let first_rest = raw_handshake(&mut first).await;
    let mut second = TcpStream::connect(address).await.unwrap();
    let second_rest = raw_handshake(&mut second).await;

    // Half a frame, sent with a whole one: the echo of the whole one shows the server read
    // both, and holds the half.
    let half = masked(0x1, b"hello from the first");
    let mut packet = masked(0x1, b"sync");
    packet.extend_from_slice(&half[..9]);
    first.write_all(&packet).await.unwrap();
    let first_rest = read_exactly(&mut first, first_rest, 6).await;
    assert_eq!(&first_rest[..6], b"\x81\x04sync");
    let first_rest = first_rest[6..].to_vec();

    let large: Vec<u8> = (0..10_000u32).map(|index| (index % 251) as u8).collect();
    let mut burst = masked(0x1, b"a");
    burst.extend(masked(0x2, &large));
    burst.extend(masked(0x1, b"b"));
    second.write_all(&burst).await.unwrap();
    let mut expected = vec![0x81, 1, b'a', 0x82, 126];
    expected.extend_from_slice(&10_000u16.to_be_bytes());
    expected.extend_from_slice(&large);
    expected.extend_from_slice(&[0x81, 1, b'b']);
    let echoed = read_exactly(&mut second, second_rest, expected.len()).await;
    assert_eq!(echoed, expected);

    first.write_all(&half[9..]).await.unwrap();
    let mut expected = vec![0x81, 20];
    expected.extend_from_slice(b"hello from the first");
    let echoed = read_exactly(&mut first, first_rest, expected.len()).await;
    assert_eq!(echoed, expected);
}

#[actix_rt::test]
async fn wrong_version_gets_426_and_bad_close_codes_get_1002() {
    let (make, _closed) = echo_server_parts();
    let address = serve(WebSocketConfig::new(), make).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_end(&mut stream, Vec::new()).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{answer}"
    );
    assert!(answer.contains("Sec-WebSocket-Version: 13\r\n"));

    for (frame, code) in [
        (masked(8, &1005u16.to_be_bytes()), 1002u16),
        (masked(8, &2999u16.to_be_bytes()), 1002),
        (masked(1, b"\xff\xfe"), 1007),
        (masked(3, b""), 1002),
    ] {
        let mut stream = TcpStream::connect(address).await.unwrap();
        let rest = raw_handshake(&mut stream).await;
        stream.write_all(&frame).await.unwrap();
        let answer = read_to_end(&mut stream, rest).await;
        assert_eq!(
            &answer[..2],
            &[0x88, 2 + answer[1] - 2],
            "a close frame: {answer:?}"
        );
        assert_eq!(
            u16::from_be_bytes([answer[2], answer[3]]),
            code,
            "{answer:?}"
        );
    }
}

#[actix_rt::test]
async fn oversize_messages_get_1009() {
    let (make, _closed) = echo_server_parts();
    let address = serve(WebSocketConfig::new().max_message_size(1000), make).await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let rest = raw_handshake(&mut stream).await;
    let mut frame = vec![0x82, 0x80 | 126];
    frame.extend_from_slice(&2000u16.to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    stream.write_all(&frame).await.unwrap();
    let answer = read_to_end(&mut stream, rest).await;
    assert_eq!(answer[0], 0x88);
    assert_eq!(u16::from_be_bytes([answer[2], answer[3]]), 1009);
}

/// On open, writes 64 KiB messages to the peer for as long as the connection takes them;
/// reports the first write the connection refuses, which it does once its write queue
/// reached the cap (or it ended).
struct Flood {
    /// Hears `on_close`.
    closed: mpsc::UnboundedSender<Option<CloseFrame>>,
    /// Hears the first refused write.
    refused: mpsc::UnboundedSender<()>,
}

impl WebSocketService for Flood {
    fn on_open(&mut self, session: &mut Session<'_>) {
        let handle = session.handle();
        let refused = self.refused.clone();
        actix_rt::spawn(async move {
            let chunk = bytes::Bytes::from(vec![b'f'; 64 * 1024]);
            // Each write resolves once written, or at once with an error when refused: many
            // stay in flight, since the peer may not be reading.
            let mut writes = FuturesUnordered::new();
            for _ in 0..100_000 {
                writes.push(handle.write_message(Message::Binary(chunk.clone())));
                while let Some(Some(written)) = writes.next().now_or_never() {
                    if written.is_err() {
                        let _ = refused.send(());
                        return;
                    }
                }
                actix_rt::task::yield_now().await;
            }
        });
    }

    fn on_message(&mut self, _: Message, _: &mut Session<'_>) -> Pause {
        None
    }

    fn on_close(&mut self, close: Option<&CloseFrame>) {
        let _ = self.closed.send(close.cloned());
    }
}

#[actix_rt::test]
async fn a_peer_that_stops_reading_is_dropped_at_the_write_queue_cap() {
    let (sender, mut closed) = mpsc::unbounded_channel();
    let (refused, _refusals) = mpsc::unbounded_channel();
    let config = WebSocketConfig::new()
        .max_write_queue(256 * 1024)
        .close_timeout(Duration::from_millis(500));
    let address = serve(config, move || Flood {
        closed: sender.clone(),
        refused: refused.clone(),
    })
    .await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let _ = raw_handshake(&mut stream).await;
    // Never read again: kernel buffers fill, then the queue reaches its cap; the close frame
    // cannot get through, so the close timeout ends it.
    let seen = timeout(Duration::from_secs(20), closed.recv())
        .await
        .expect("dropped at the cap");
    assert_eq!(
        seen,
        Some(None),
        "no close handshake with a peer that does not read"
    );
}

#[actix_rt::test]
async fn a_peer_that_reads_again_after_the_cap_gets_a_1008_close() {
    let (sender, mut closed) = mpsc::unbounded_channel();
    let (refused, mut refusals) = mpsc::unbounded_channel();
    let config = WebSocketConfig::new()
        .max_write_queue(256 * 1024)
        .close_timeout(Duration::from_secs(5));
    let address = serve(config, move || Flood {
        closed: sender.clone(),
        refused: refused.clone(),
    })
    .await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let rest = raw_handshake(&mut stream).await;
    // Read nothing until the flood reaches the cap (the server refuses a write), then drain
    // everything.
    bounded(refusals.recv()).await;
    let bytes = read_to_end(&mut stream, rest).await;
    let frames = server_frames(&bytes);
    let (opcode, payload) = frames.last().expect("frames arrived");
    assert_eq!(*opcode, 0x8, "the stream ends with a close frame");
    assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), 1008);
    assert_eq!(&payload[2..], b"write queue full");
    assert!(frames[..frames.len() - 1].iter().all(|(op, _)| *op == 0x2));
    // The raw peer never answers the close: the close timeout drops it.
    let seen = timeout(Duration::from_secs(20), closed.recv())
        .await
        .unwrap();
    assert_eq!(seen, Some(None));
}

#[actix_rt::test]
async fn ping_timeout_drops_a_silent_peer_and_pings_keep_a_live_one() {
    let (make, mut closed) = echo_server_parts();
    let config = WebSocketConfig::new()
        .ping_interval(Some(Duration::from_millis(100)))
        .ping_timeout(Duration::from_millis(400));
    let address = serve(config, make).await;
    // A live client (ours answers pings by itself) survives several timeouts.
    let mut client = websocket_connect(format!("ws://127.0.0.1:{}/", address.port()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_echoed(&mut client, Message::text("still here")).await;
    // A raw peer that never answers is dropped.
    let mut stream = TcpStream::connect(address).await.unwrap();
    let rest = raw_handshake(&mut stream).await;
    let seen = timeout(WAIT, closed.recv())
        .await
        .expect("dead peer dropped");
    assert_eq!(seen, Some(None));
    let pings = read_to_end(&mut stream, rest).await;
    assert_eq!(pings[0], 0x89, "the server pinged first");
}

#[actix_rt::test]
async fn reconnecting_client_comes_back_and_resubscribes() {
    let (make, _closed) = echo_server_parts();
    let address = serve(WebSocketConfig::new(), make).await;
    let resubscribed = Rc::new(Cell::new(0));
    let counter = resubscribed.clone();
    let (sender, mut received) = mpsc::unbounded_channel();
    let client = ReconnectingClient::start(
        format!("ws://127.0.0.1:{}/", address.port()),
        ReconnectPolicy {
            initial_backoff: Duration::from_millis(20),
            ..ReconnectPolicy::default()
        },
        move || Forwarder {
            sender: sender.clone(),
        },
        move |ws: &cyclone::websocket::WebSocket| {
            counter.set(counter.get() + 1);
            ws.try_write(Message::text("subscribe")).unwrap();
        },
    );
    assert_eq!(
        timeout(WAIT, received.recv()).await.unwrap(),
        Some(Message::text("subscribe"))
    );
    // The server closes the connection ("close" makes the echo service close it).
    client
        .current()
        .unwrap()
        .try_write(Message::text("close"))
        .unwrap();
    assert_eq!(
        timeout(WAIT, received.recv()).await.unwrap(),
        Some(Message::text("subscribe"))
    );
    assert_eq!(resubscribed.get(), 2);
    assert_eq!(client.connects(), 2);
    client.stop();
}

/// Passes messages to a channel.
struct Forwarder {
    sender: mpsc::UnboundedSender<Message>,
}

impl WebSocketService for Forwarder {
    fn on_message(&mut self, message: Message, _: &mut Session<'_>) -> Pause {
        let _ = self.sender.send(message);
        None
    }
}

/// Reports every message; answers "big" with [`BIG_ANSWER`] bytes and reads nothing more
/// until they are written (`Session::pause_until`); answers "hold" by waiting for the test to
/// fire a oneshot (a returned future).
struct Paced {
    seen: mpsc::UnboundedSender<Message>,
    holds: mpsc::UnboundedSender<tokio::sync::oneshot::Sender<()>>,
}

impl WebSocketService for Paced {
    fn on_message(&mut self, message: Message, session: &mut Session<'_>) -> Pause {
        let _ = self.seen.send(message.clone());
        if message == Message::text("big") {
            let flushed = session.write_message(Message::Binary(vec![b'b'; BIG_ANSWER].into()));
            session.pause_until(flushed);
        } else if message == Message::text("hold") {
            let (fire, fired) = tokio::sync::oneshot::channel();
            let _ = self.holds.send(fire);
            return Some(Box::pin(async move {
                let _ = fired.await;
            }));
        }
        None
    }
}

#[actix_rt::test]
async fn reading_waits_for_the_answer_to_be_written_and_for_returned_futures() {
    let (seen_sender, mut seen) = mpsc::unbounded_channel();
    let (holds_sender, mut holds) = mpsc::unbounded_channel();
    // A write queue cap above the answer: only the pause keeps the server from reading on.
    let config = WebSocketConfig::new().max_write_queue(4 * BIG_ANSWER);
    let address = serve(config, move || Paced {
        seen: seen_sender.clone(),
        holds: holds_sender.clone(),
    })
    .await;
    let mut stream = TcpStream::connect(address).await.unwrap();
    let read = raw_handshake(&mut stream).await;

    assert_reading_is_paced(&mut stream, read, &mut seen, &mut holds).await;
}
