//! `IoStream` over real sockets on 127.0.0.1: every read, the write queue and its limit, the
//! close paths and their callback, `wait_for_close`, and split halves working at once.

mod support;

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actix::prelude::*;
use cyclone::iostream::{
    BufferSide, Bytes, CloseReason, IoStream, ReadHalf, Regex, StreamBufferFullError, StreamError,
    StreamLimits, UnsatisfiableReadError, WriteHalf,
};
use support::wait::{self, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::{sleep, timeout};

/// Every test body runs under this bound, so a hang fails instead of blocking the suite.
const TEST_LIMIT: Duration = Duration::from_secs(30);
/// Long enough for the other side's read to run before the next piece arrives.
const PAUSE: Duration = Duration::from_millis(15);

/// A connected pair: (the accepted socket, the peer that connected to it).
async fn sockets() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (peer, accepted) = tokio::join!(TcpStream::connect(address), listener.accept());
    let peer = peer.unwrap();
    // Small pieces must leave at once, or Nagle would merge what the tests split.
    peer.set_nodelay(true).unwrap();
    (accepted.unwrap().0, peer)
}

async fn stream_with(limits: StreamLimits) -> (IoStream<TcpStream>, TcpStream) {
    let (ours, peer) = sockets().await;
    (IoStream::with_limits(ours, limits), peer)
}

async fn connect() -> (IoStream<TcpStream>, TcpStream) {
    let (ours, peer) = sockets().await;
    (IoStream::new(ours), peer)
}

/// Installs a close callback that counts its calls.
fn count_closes(stream: &mut IoStream<TcpStream>) -> Arc<AtomicUsize> {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    stream.set_close_callback(move || {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    count
}

/// Writes each piece separately with a pause between, then keeps the socket open.
fn trickle(mut peer: TcpStream, pieces: Vec<Vec<u8>>) -> tokio::task::JoinHandle<TcpStream> {
    tokio::spawn(async move {
        for piece in pieces {
            peer.write_all(&piece).await.unwrap();
            sleep(PAUSE).await;
        }
        peer
    })
}

/// Whether the peer sees our close: end of file, or a reset if unread bytes were discarded.
async fn peer_sees_close(peer: &mut TcpStream) -> bool {
    let mut byte = [0u8; 1];
    match timeout(Duration::from_secs(5), peer.read(&mut byte)).await {
        Ok(Ok(0)) => true,
        Ok(Err(error)) => error.kind() == io::ErrorKind::ConnectionReset,
        _ => false,
    }
}

fn closed_reason(result: Result<impl std::fmt::Debug, StreamError>) -> CloseReason {
    match result {
        Err(StreamError::Closed(closed)) => closed.reason().clone(),
        other => panic!("expected StreamClosedError, got {other:?}"),
    }
}

#[actix_rt::test]
async fn read_until_finds_a_delimiter_split_at_every_offset() {
    within(TEST_LIMIT, async {
        let (mut stream, peer) = connect().await;
        let message = b"GET / HTTP/1.1\r\n\r\n".to_vec();
        // One message per split point, each sent in two pieces with a pause between.
        let mut pieces = Vec::new();
        for split in 1..message.len() {
            pieces.push(message[..split].to_vec());
            pieces.push(message[split..].to_vec());
        }
        let writer = trickle(peer, pieces);
        for _ in 1..message.len() {
            let got = stream.read_until(b"\r\n\r\n", Some(1024)).await.unwrap();
            assert_eq!(&got[..], &message[..]);
        }
        assert_eq!(stream.read_buffer_len(), 0);
        writer.await.unwrap();
    })
    .await;
}

#[actix_rt::test]
async fn read_until_over_many_one_byte_writes() {
    within(TEST_LIMIT, async {
        let (mut stream, peer) = connect().await;
        let data = b"first\nsecond line\n\nlast\n";
        let writer = trickle(peer, data.iter().map(|byte| vec![*byte]).collect());
        let mut lines = Vec::new();
        for _ in 0..4 {
            lines.push(stream.read_until(b"\n", None).await.unwrap());
        }
        assert_eq!(
            lines,
            ["first\n", "second line\n", "\n", "last\n"].map(Bytes::from)
        );
        writer.await.unwrap();
    })
    .await;
}

#[actix_rt::test]
async fn read_until_regex_matches_across_reads() {
    within(TEST_LIMIT, async {
        let (mut stream, peer) = connect().await;
        let data = b"abc123def456\r\nrest";
        let writer = trickle(peer, data.chunks(2).map(<[u8]>::to_vec).collect());
        let digits = Regex::new(r"[0-9]+d").unwrap();
        let line_end = Regex::new(r"\r?\n").unwrap();
        let first = stream.read_until_regex(&digits, Some(100)).await.unwrap();
        assert_eq!(&first[..], b"abc123d");
        let second = stream.read_until_regex(&line_end, None).await.unwrap();
        assert_eq!(&second[..], b"ef456\r\n");
        assert_eq!(&stream.read_bytes(4, false).await.unwrap()[..], b"rest");
        writer.await.unwrap();
    })
    .await;
}

#[actix_rt::test]
async fn read_until_regex_past_max_bytes_is_unsatisfiable() {
    within(TEST_LIMIT, async {
        let (mut stream, mut peer) = connect().await;
        peer.write_all(&[b'a'; 64]).await.unwrap();
        let regex = Regex::new("b+").unwrap();
        let error = stream.read_until_regex(&regex, Some(32)).await.unwrap_err();
        assert!(
            matches!(
                &error,
                StreamError::Unsatisfiable(UnsatisfiableReadError { max_bytes: 32, .. })
            ),
            "{error:?}"
        );
        assert!(stream.closed());
    })
    .await;
}

#[actix_rt::test]
async fn read_bytes_exact_then_partial() {
    within(TEST_LIMIT, async {
        let (mut stream, peer) = connect().await;
        let data: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let writer = trickle(peer, data.chunks(777).map(<[u8]>::to_vec).collect());
        // Exact reads span many small writes.
        let first = stream.read_bytes(5_000, false).await.unwrap();
        assert_eq!(&first[..], &data[..5_000]);
        // Partial reads return as soon as anything is there, never more than asked.
        let mut rest = Vec::new();
        while rest.len() < 5_000 {
            let piece = stream.read_bytes(1_000, true).await.unwrap();
            assert!(!piece.is_empty() && piece.len() <= 1_000, "{}", piece.len());
            rest.extend_from_slice(&piece);
        }
        assert_eq!(&rest[..], &data[5_000..]);
        let mut peer = writer.await.unwrap();
        // A partial read does not wait for `count` bytes.
        peer.write_all(b"xy").await.unwrap();
        assert_eq!(&stream.read_bytes(100, true).await.unwrap()[..], b"xy");
        assert_eq!(stream.read_bytes(0, false).await.unwrap().len(), 0);
    })
    .await;
}

#[actix_rt::test]
async fn read_into_exact_then_partial() {
    within(TEST_LIMIT, async {
        let (mut stream, peer) = connect().await;
        let writer = trickle(
            peer,
            vec![b"hello ".to_vec(), b"wor".to_vec(), b"ld".to_vec()],
        );
        let mut exact = [0u8; 9];
        assert_eq!(stream.read_into(&mut exact, false).await.unwrap(), 9);
        assert_eq!(&exact, b"hello wor");
        let mut partial = [0u8; 64];
        let copied = stream.read_into(&mut partial, true).await.unwrap();
        assert_eq!(&partial[..copied], b"ld");
        writer.await.unwrap();
    })
    .await;
}

#[actix_rt::test]
async fn read_until_close_returns_everything_then_the_stream_is_closed() {
    within(TEST_LIMIT, async {
        let (mut stream, mut peer) = connect().await;
        let closes = count_closes(&mut stream);
        let data: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
        let sent = data.clone();
        tokio::spawn(async move {
            for piece in sent.chunks(50_000) {
                peer.write_all(piece).await.unwrap();
            }
            // Dropping the peer sends end of file.
        });
        let all = stream.read_until_close().await.unwrap();
        assert_eq!(all.len(), data.len());
        assert_eq!(&all[..], &data[..]);
        assert!(stream.closed());
        assert!(matches!(
            stream.close_reason(),
            Some(CloseReason::PeerClosed)
        ));
        assert_eq!(closes.load(Ordering::SeqCst), 1);
        // Tornado: a closed stream hands back what is left, here nothing.
        assert!(stream.read_until_close().await.unwrap().is_empty());
    })
    .await;
}

#[actix_rt::test]
async fn read_until_past_max_bytes_is_unsatisfiable_and_closes() {
    within(TEST_LIMIT, async {
        let (mut stream, mut peer) = connect().await;
        let closes = count_closes(&mut stream);
        peer.write_all(&[b'x'; 100]).await.unwrap();
        let error = stream.read_until(b"\n", Some(50)).await.unwrap_err();
        assert!(
            matches!(
                &error,
                StreamError::Unsatisfiable(UnsatisfiableReadError { max_bytes: 50, .. })
            ),
            "{error:?}"
        );
        assert!(stream.closed());
        assert_eq!(closes.load(Ordering::SeqCst), 1);
        assert!(peer_sees_close(&mut peer).await);
        // Later operations name the real cause.
        let reason = closed_reason(stream.read_until(b"\n", None).await);
        assert!(
            matches!(reason, CloseReason::Unsatisfiable(_)),
            "{reason:?}"
        );
        let reason = closed_reason(stream.write(&b"late"[..]).await);
        assert!(
            matches!(reason, CloseReason::Unsatisfiable(_)),
            "{reason:?}"
        );
    })
    .await;
}

#[actix_rt::test]
async fn a_delimiter_ending_past_max_bytes_is_unsatisfiable() {
    within(TEST_LIMIT, async {
        let (mut stream, mut peer) = connect().await;
        peer.write_all(b"0123456789\n").await.unwrap();
        let error = stream.read_until(b"\n", Some(10)).await.unwrap_err();
        assert!(matches!(error, StreamError::Unsatisfiable(_)), "{error:?}");
        assert!(stream.closed());
        // Exactly at the limit is fine.
        let (mut stream, mut peer) = connect().await;
        peer.write_all(b"0123456789\n").await.unwrap();
        let line = stream.read_until(b"\n", Some(11)).await.unwrap();
        assert_eq!(&line[..], b"0123456789\n");
    })
    .await;
}

#[actix_rt::test]
async fn max_buffer_size_bounds_every_read() {
    within(TEST_LIMIT, async {
        let limit = 8 * 1024;
        let limits = StreamLimits {
            max_buffer_size: limit,
            ..StreamLimits::default()
        };
        let full = |error: &StreamError| {
            matches!(
                error,
                StreamError::BufferFull(StreamBufferFullError { side: BufferSide::Read, limit: l, .. })
                    if *l == limit
            )
        };

        // read_until without max_bytes stops at the buffer limit, not at memory exhaustion.
        let (mut stream, mut peer) = stream_with(limits).await;
        let closes = count_closes(&mut stream);
        let flood = tokio::spawn(async move {
            let _ = peer.write_all(&vec![b'x'; 64 * 1024]).await;
            peer
        });
        let error = stream.read_until(b"\n", None).await.unwrap_err();
        assert!(full(&error), "{error:?}");
        assert_eq!(stream.read_buffer_len(), limit);
        assert!(stream.closed());
        assert_eq!(closes.load(Ordering::SeqCst), 1);
        let mut peer = flood.await.unwrap();
        assert!(peer_sees_close(&mut peer).await);

        // read_until_close too.
        let (mut stream, mut peer) = stream_with(limits).await;
        tokio::spawn(async move { peer.write_all(&vec![b'y'; 64 * 1024]).await });
        let error = stream.read_until_close().await.unwrap_err();
        assert!(full(&error), "{error:?}");
        assert!(stream.read_buffer_len() <= limit);

        // An exact read larger than the limit fails before reading anything.
        let (mut stream, _peer) = stream_with(limits).await;
        let error = stream.read_bytes(limit + 1, false).await.unwrap_err();
        assert!(full(&error), "{error:?}");
        assert!(stream.closed());
    })
    .await;
}

#[actix_rt::test]
async fn reads_on_a_closed_stream_report_the_cause() {
    within(TEST_LIMIT, async {
        // The peer's end of file: buffered bytes stay readable, then the cause is PeerClosed.
        let (mut stream, mut peer) = connect().await;
        peer.write_all(b"tail").await.unwrap();
        drop(peer);
        let reason = closed_reason(stream.read_bytes(10, false).await);
        assert!(matches!(reason, CloseReason::PeerClosed), "{reason:?}");
        assert_eq!(&stream.read_bytes(10, true).await.unwrap()[..], b"tail");
        let reason = closed_reason(stream.read_bytes(1, true).await);
        assert!(matches!(reason, CloseReason::PeerClosed), "{reason:?}");

        // A local close.
        let (mut stream, _peer) = connect().await;
        stream.close();
        let reason = closed_reason(stream.read_until(b"\n", None).await);
        assert!(matches!(reason, CloseReason::ClosedLocally), "{reason:?}");
        let reason = closed_reason(stream.write(&b"x"[..]).await);
        assert!(matches!(reason, CloseReason::ClosedLocally), "{reason:?}");

        // A reset: the cause carries the real I/O error.
        let (mut stream, peer) = connect().await;
        peer.set_zero_linger().unwrap();
        drop(peer);
        let error = stream.read_bytes(1, false).await.unwrap_err();
        match &error {
            StreamError::Closed(closed) => assert_eq!(
                closed.real_error().map(io::Error::kind),
                Some(io::ErrorKind::ConnectionReset),
                "{error:?}"
            ),
            other => panic!("expected StreamClosedError, got {other:?}"),
        }
    })
    .await;
}

#[actix_rt::test]
async fn write_resolves_and_the_peer_receives_exact_bytes() {
    within(TEST_LIMIT, async {
        let (mut stream, mut peer) = connect().await;
        // Larger than the socket buffers, so write must wait for the peer to read.
        let big: Vec<u8> = (0..=250u8).cycle().take(8 * 1024 * 1024).collect();
        let expected_len = big.len();
        let reader = tokio::spawn(async move {
            let mut received = vec![0u8; expected_len];
            peer.read_exact(&mut received).await.unwrap();
            (peer, received)
        });
        stream.write(big.clone()).await.unwrap();
        assert_eq!(stream.write_buffer_len(), 0);
        let (mut peer, received) = reader.await.unwrap();
        assert!(received == big, "the peer received different bytes");

        // Queued writes of every size arrive in order after one flush.
        let mut expected = Vec::new();
        for index in 0..2_000usize {
            let piece = if index % 500 == 7 {
                vec![b'B'; 5_000]
            } else {
                format!("{index},").into_bytes()
            };
            expected.extend_from_slice(&piece);
            stream.queue_write(piece).unwrap();
        }
        assert_eq!(stream.write_buffer_len(), expected.len());
        assert!(stream.writing());
        stream.flush().await.unwrap();
        assert!(!stream.writing());
        let mut received = vec![0u8; expected.len()];
        peer.read_exact(&mut received).await.unwrap();
        assert!(received == expected, "queued writes arrived out of order");
    })
    .await;
}

#[actix_rt::test]
async fn a_peer_that_never_reads_cannot_grow_the_write_buffer() {
    within(TEST_LIMIT, async {
        let limit = 256 * 1024;
        let limits = StreamLimits {
            max_write_buffer_size: limit,
            ..StreamLimits::default()
        };
        let (mut stream, _peer) = stream_with(limits).await;
        let closes = count_closes(&mut stream);
        let chunk = Bytes::from(vec![b'z'; 16 * 1024]);
        let mut most_queued = 0;
        let mut error = None;
        // Bounded: the kernel buffers hold a few MiB at most, far below this many chunks.
        for _ in 0..20_000 {
            if let Err(failure) = stream.queue_write(chunk.clone()) {
                error = Some(failure);
                break;
            }
            most_queued = most_queued.max(stream.write_buffer_len());
            assert!(stream.write_buffer_len() <= limit);
            // The peer never reads, so once the kernel is full this flush cannot finish.
            let _ = timeout(Duration::from_millis(5), stream.flush()).await;
            assert!(stream.write_buffer_len() <= limit);
        }
        let error = error.expect("the write buffer never filled");
        assert!(
            matches!(
                &error,
                StreamError::BufferFull(StreamBufferFullError { side: BufferSide::Write, limit: l, .. })
                    if *l == limit
            ),
            "{error:?}"
        );
        // The queue really held data the peer would not take, up to the limit.
        assert!(most_queued > limit - chunk.len(), "{most_queued}");
        assert!(stream.closed());
        assert_eq!(stream.write_buffer_len(), 0);
        assert_eq!(closes.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[actix_rt::test]
async fn the_close_callback_fires_exactly_once_on_every_path() {
    within(TEST_LIMIT, async {
        // Explicit close, twice, then drop.
        let (mut stream, _peer) = connect().await;
        let closes = count_closes(&mut stream);
        stream.close();
        stream.close();
        drop(stream);
        assert_eq!(closes.load(Ordering::SeqCst), 1);

        // The peer's end of file, seen by a read.
        let (mut stream, peer) = connect().await;
        let closes = count_closes(&mut stream);
        drop(peer);
        assert!(stream.read_bytes(1, false).await.is_err());
        assert_eq!(closes.load(Ordering::SeqCst), 1);
        stream.close();
        drop(stream);
        assert_eq!(closes.load(Ordering::SeqCst), 1);

        // Drop while open; the peer sees it.
        let (mut stream, mut peer) = connect().await;
        let closes = count_closes(&mut stream);
        drop(stream);
        assert_eq!(closes.load(Ordering::SeqCst), 1);
        assert!(peer_sees_close(&mut peer).await);

        // A limit error.
        let (mut stream, mut peer) = connect().await;
        let closes = count_closes(&mut stream);
        peer.write_all(b"no newline here").await.unwrap();
        assert!(stream.read_until(b"\n", Some(4)).await.is_err());
        assert_eq!(closes.load(Ordering::SeqCst), 1);
        drop(stream);
        assert_eq!(closes.load(Ordering::SeqCst), 1);

        // An I/O error on write: the peer resets, writes eventually fail.
        let (mut stream, peer) = connect().await;
        let closes = count_closes(&mut stream);
        peer.set_zero_linger().unwrap();
        drop(peer);
        let mut failure = None;
        for _ in 0..100 {
            if let Err(error) = stream.write(&b"ping"[..]).await {
                failure = Some(error);
                break;
            }
            sleep(Duration::from_millis(10)).await;
        }
        let reason = closed_reason(Err::<(), _>(
            failure.expect("writes to a reset peer kept working"),
        ));
        assert!(reason.io_error().is_some(), "{reason:?}");
        assert_eq!(closes.load(Ordering::SeqCst), 1);
        drop(stream);
        assert_eq!(closes.load(Ordering::SeqCst), 1);

        // A callback set after the close still runs, once.
        let (mut stream, _peer) = connect().await;
        stream.close();
        let closes = count_closes(&mut stream);
        drop(stream);
        assert_eq!(closes.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[actix_rt::test]
async fn wait_for_close_resolves_with_the_reason() {
    within(TEST_LIMIT, async {
        let (mut stream, _peer) = connect().await;
        // 'static and Send: it can outlive the borrow and move to another task.
        let waiter = tokio::spawn(stream.wait_for_close());
        wait::holds_for(PAUSE, "resolved while the stream was open", || {
            !waiter.is_finished()
        })
        .await;
        stream.close();
        assert!(matches!(waiter.await.unwrap(), CloseReason::ClosedLocally));
        // Already closed: resolves at once.
        assert!(matches!(
            stream.wait_for_close().await,
            CloseReason::ClosedLocally
        ));

        let (stream, _peer) = connect().await;
        let waiter = stream.wait_for_close();
        drop(stream);
        assert!(matches!(waiter.await, CloseReason::Dropped));

        let (stream, peer) = connect().await;
        let waiter = stream.wait_for_close();
        let (mut reader, _writer) = stream.split();
        drop(peer);
        assert!(reader.read_until_close().await.unwrap().is_empty());
        assert!(matches!(waiter.await, CloseReason::PeerClosed));
    })
    .await;
}

#[actix_rt::test]
async fn split_halves_read_and_write_at_once() {
    within(TEST_LIMIT, async {
        let (mut stream, mut peer) = connect().await;
        let closes = count_closes(&mut stream);
        let (mut reader, mut writer): (ReadHalf<TcpStream>, WriteHalf<TcpStream>) = stream.split();
        let (lines_in, mut lines_out) = tokio::sync::mpsc::channel::<Bytes>(8);
        let reading = tokio::spawn(async move {
            loop {
                match reader.read_until(b"\n", Some(1024)).await {
                    Ok(line) => {
                        if lines_in.send(line).await.is_err() {
                            return None;
                        }
                    }
                    Err(error) => return Some(error),
                }
            }
        });
        let writing = tokio::spawn(async move {
            // Written while the reader is parked in read_until: the peer has sent nothing yet.
            writer.write(&b"hello\n"[..]).await.unwrap();
            for _ in 0..100 {
                let line = lines_out.recv().await.unwrap();
                writer
                    .write([&b"echo "[..], &line[..]].concat())
                    .await
                    .unwrap();
            }
            // Closing the write half wakes the read half's pending read.
            writer.close();
        });

        let mut greeting = [0u8; 6];
        peer.read_exact(&mut greeting).await.unwrap();
        assert_eq!(&greeting, b"hello\n");
        let mut sent = Vec::new();
        let mut expected = Vec::new();
        for index in 0..100 {
            sent.extend_from_slice(format!("line {index}\n").as_bytes());
            expected.extend_from_slice(format!("echo line {index}\n").as_bytes());
        }
        peer.write_all(&sent).await.unwrap();
        let mut echoed = vec![0u8; expected.len()];
        peer.read_exact(&mut echoed).await.unwrap();
        assert_eq!(
            String::from_utf8(echoed).unwrap(),
            String::from_utf8(expected).unwrap()
        );

        writing.await.unwrap();
        let error = reading
            .await
            .unwrap()
            .expect("the reader ended without an error");
        assert!(
            matches!(error.close_reason(), CloseReason::ClosedLocally),
            "{error:?}"
        );
        assert!(peer_sees_close(&mut peer).await);
        assert_eq!(closes.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[actix_rt::test]
async fn tcp_options_and_addresses() {
    within(TEST_LIMIT, async {
        let (mut stream, peer) = connect().await;
        stream.set_nodelay(true).unwrap();
        assert!(stream.get_ref().unwrap().nodelay().unwrap());
        assert_eq!(stream.peer_addr().unwrap(), peer.local_addr().unwrap());
        assert_eq!(stream.local_addr().unwrap(), peer.peer_addr().unwrap());
        stream.close();
        assert_eq!(
            stream.peer_addr().unwrap_err().kind(),
            io::ErrorKind::NotConnected
        );
        assert!(stream.set_nodelay(false).is_err());
    })
    .await;
}

/// A connection actor like the TcpServer's: it is handed a stream through its mailbox and
/// serves one line from an actor future.
struct LineEcho;

impl Actor for LineEcho {
    type Context = Context<Self>;
}

/// Hands a stream to the actor; crossing a mailbox needs `IoStream<TcpStream>: Send`.
struct Adopt(IoStream<TcpStream>);

impl Message for Adopt {
    type Result = ();
}

impl Handler<Adopt> for LineEcho {
    type Result = ();

    fn handle(&mut self, Adopt(mut stream): Adopt, ctx: &mut Context<Self>) {
        let serve = async move {
            let line = stream.read_until(b"\n", Some(1024)).await?;
            stream.write(line).await
        };
        ctx.spawn(serve.into_actor(self).map(|result, _, ctx| {
            assert!(result.is_ok(), "{result:?}");
            ctx.stop();
        }));
    }
}

#[actix_rt::test]
async fn usable_inside_an_actor_future() {
    within(TEST_LIMIT, async {
        let (stream, mut peer) = connect().await;
        let actor = LineEcho.start();
        actor.send(Adopt(stream)).await.unwrap();
        peer.write_all(b"ping\n").await.unwrap();
        let mut reply = [0u8; 5];
        peer.read_exact(&mut reply).await.unwrap();
        assert_eq!(&reply, b"ping\n");
        // The actor stops and drops the stream: the peer sees the close.
        assert!(peer_sees_close(&mut peer).await);
    })
    .await;
}

#[test]
fn streams_and_halves_are_send() {
    fn send<T: Send + 'static>() {}
    send::<IoStream<TcpStream>>();
    send::<ReadHalf<TcpStream>>();
    send::<WriteHalf<TcpStream>>();
    send::<StreamError>();
}
