//! A raw-socket WebSocket peer for the connection tests: it writes exact client frames and
//! reads exactly what the server sent, and reads only when the test says so (a library client
//! reads eagerly, which would hide backpressure). Also the server side of a raw upgrade, and a
//! bounded read for library clients.

use bytes::{BufMut, BytesMut};
use cyclone::tcpserver::ConnectionSlot;
use cyclone::websocket::{
    ClientConnection, DeflateConfig, Message, Negotiated, Role, ServerHandshake, WebSocketConfig,
    WebSocketService, encode_rejection, start_connection,
};
use cyclone_protocol::h1::{Event, Limits, RequestDecoder};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Duration, timeout};

use super::wait::{WAIT, bounded};

/// What `WebSocketService::on_message` returns: a future to stop reading until, or `None` to
/// go on at once. Named so that the tests' services write the signature on one line rather
/// than repeating its six.
pub type Pause = Option<futures::future::LocalBoxFuture<'static, ()>>;

/// RFC 6455's sample `Sec-WebSocket-Key`.
pub const SAMPLE_KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// The `Sec-WebSocket-Accept` that answers [`SAMPLE_KEY`], lower-cased.
pub const SAMPLE_ACCEPT_LOWERCASE: &str = "s3pplmbitxaq9kygzzhzrbk+xoo=";

/// How long a server that must not read on is watched for reading on anyway.
const SILENCE_WINDOW: Duration = Duration::from_millis(300);

/// An upgrade request for `path` with [`SAMPLE_KEY`], plus the `extra` field lines (each
/// ending in CRLF), such as the version.
pub fn upgrade_request(path: &str, extra: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {SAMPLE_KEY}\r\n{extra}\r\n"
    )
}

/// Runs a client handshake for `GET /` on `stream`, checks the 101 and its accept key, and
/// returns the bytes read past the head.
pub async fn raw_handshake(stream: &mut TcpStream) -> Vec<u8> {
    raw_handshake_at(stream, "/").await
}

/// [`raw_handshake`] for `GET path`.
pub async fn raw_handshake_at(stream: &mut TcpStream, path: &str) -> Vec<u8> {
    stream
        .write_all(upgrade_request(path, "Sec-WebSocket-Version: 13\r\n").as_bytes())
        .await
        .unwrap();
    let mut read = Vec::new();
    while !read.windows(4).any(|four| four == b"\r\n\r\n") {
        let mut chunk = [0u8; 1024];
        let count = bounded(stream.read(&mut chunk)).await.unwrap();
        assert!(count > 0, "server hung up during the handshake");
        read.extend_from_slice(&chunk[..count]);
    }
    let end = read
        .windows(4)
        .position(|four| four == b"\r\n\r\n")
        .unwrap()
        + 4;
    assert!(read.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(
        String::from_utf8_lossy(&read[..end])
            .to_ascii_lowercase()
            .contains(&format!("sec-websocket-accept: {SAMPLE_ACCEPT_LOWERCASE}"))
    );
    read[end..].to_vec()
}

/// The server side of a raw upgrade, without the HTTP server: reads a request head from
/// `stream`, answers its handshake (choosing the first subprotocol offered, and the
/// compression of `config` if the client offers it), and starts a connection actor running
/// `service` (listed in `slot`'s registry, if given). Nothing starts if the client leaves or
/// its request is refused (the refusal is written).
pub async fn upgrade_and_start(
    mut stream: TcpStream,
    config: WebSocketConfig,
    service: impl WebSocketService,
    slot: Option<ConnectionSlot>,
) {
    let Some((read, negotiated)) = accept_upgrade(&mut stream, config.get_compression()).await
    else {
        return;
    };
    start_connection(
        stream,
        read,
        Role::Server,
        &negotiated,
        config,
        service,
        slot,
    );
}

/// Reads a request head from `stream` and answers its handshake; returns the bytes read past
/// the head and what was agreed, or `None` if the client left or was refused.
async fn accept_upgrade(
    stream: &mut TcpStream,
    compression: Option<&DeflateConfig>,
) -> Option<(BytesMut, Negotiated)> {
    let mut read = BytesMut::with_capacity(4096);
    let mut decoder = RequestDecoder::new(Limits::default());
    let head = loop {
        if let Ok(Some(Event::Head(head))) = decoder.decode(&mut read) {
            break head;
        }
        if stream.read_buf(&mut read).await.unwrap_or(0) == 0 {
            return None;
        }
    };
    let mut out = BytesMut::new();
    match ServerHandshake::from_head(&head) {
        Ok(handshake) => {
            let chosen = handshake.subprotocols().first().cloned();
            let accepted = handshake.accept(chosen.as_deref(), compression);
            accepted.encode_response(&mut out);
            stream.write_all(&out).await.ok()?;
            Some((read, accepted.negotiated))
        }
        Err(error) => {
            encode_rejection(&error, &mut out);
            let _ = stream.write_all(&out).await;
            None
        }
    }
}

/// A masked client frame with FIN set, any payload length.
pub fn masked(opcode: u8, payload: &[u8]) -> Vec<u8> {
    let key = [9u8, 8, 7, 6];
    let mut out = BytesMut::new();
    out.put_u8(0x80 | opcode);
    match payload.len() {
        short @ 0..=125 => out.put_u8(0x80 | short as u8),
        medium @ 126..=0xFFFF => {
            out.put_u8(0x80 | 126);
            out.put_u16(medium as u16);
        }
        long => {
            out.put_u8(0x80 | 127);
            out.put_u64(long as u64);
        }
    }
    out.put_slice(&key);
    out.extend(
        payload
            .iter()
            .enumerate()
            .map(|(index, byte)| byte ^ key[index % 4]),
    );
    out.to_vec()
}

/// Reads until the server closes (after `read`, bytes already in hand).
pub async fn read_to_end(stream: &mut TcpStream, mut read: Vec<u8>) -> Vec<u8> {
    let mut chunk = [0u8; 4096];
    loop {
        match timeout(WAIT, stream.read(&mut chunk))
            .await
            .expect("server closes")
        {
            Ok(0) | Err(_) => return read,
            Ok(count) => read.extend_from_slice(&chunk[..count]),
        }
    }
}

/// Reads until `count` bytes are in hand (after `read`, bytes already in hand).
pub async fn read_exactly(stream: &mut TcpStream, mut read: Vec<u8>, count: usize) -> Vec<u8> {
    let mut chunk = vec![0u8; 64 * 1024];
    while read.len() < count {
        let got = timeout(WAIT, stream.read(&mut chunk))
            .await
            .expect("bytes arrive")
            .unwrap();
        assert!(got > 0, "server hung up");
        read.extend_from_slice(&chunk[..got]);
    }
    read
}

/// The server frames in `bytes` (unmasked), as (opcode, payload); a torn last frame is left out.
pub fn server_frames(bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let opcode = bytes[at] & 0x0f;
        let (length, header) = match bytes[at + 1] & 0x7f {
            126 if at + 4 <= bytes.len() => (
                u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]) as usize,
                4,
            ),
            127 if at + 10 <= bytes.len() => {
                let mut length = [0u8; 8];
                length.copy_from_slice(&bytes[at + 2..at + 10]);
                (u64::from_be_bytes(length) as usize, 10)
            }
            short @ 0..=125 => (short as usize, 2),
            _ => break,
        };
        let Some(payload) = bytes.get(at + header..at + header + length) else {
            break;
        };
        frames.push((opcode, payload.to_vec()));
        at += header + length;
    }
    frames
}

/// The next message a library client receives (`None` once the connection ended), bounded by
/// [`WAIT`].
pub async fn next_message(client: &mut ClientConnection) -> Option<Message> {
    bounded(client.read_message()).await
}

/// Sends `message` from a library client and checks that the same comes back: how the echo
/// tests show a connection still served (after a flood, a failure next to it).
pub async fn assert_echoed(client: &mut ClientConnection, message: Message) {
    client.write_message(message.clone()).await.unwrap();
    assert_eq!(next_message(client).await, Some(message));
}

/// Watches `seen` for a while and says whether it stayed silent: the server must not have
/// read on.
pub async fn stays_silent<T>(seen: &mut mpsc::UnboundedReceiver<T>) -> bool {
    timeout(SILENCE_WINDOW, seen.recv()).await.is_err()
}

/// Size of the answer a paced server sends to "big": more than loopback's socket buffers
/// hold, so it cannot be written until the peer reads.
pub const BIG_ANSWER: usize = 16 * 1024 * 1024;

/// Drives a paced server (one that reports every message to `seen`, answers "big" with a
/// [`BIG_ANSWER`]-byte binary message and reads nothing more until it is written, and on
/// "hold" reads nothing more until the oneshot it sends to `holds` fires) through both
/// pauses, checking that the server reads on only when each is over. `read` holds the bytes
/// already read past the handshake.
pub async fn assert_reading_is_paced(
    stream: &mut TcpStream,
    read: Vec<u8>,
    seen: &mut mpsc::UnboundedReceiver<Message>,
    holds: &mut mpsc::UnboundedReceiver<oneshot::Sender<()>>,
) {
    // "big" cannot be answered while we do not read: "after" waits in the socket.
    stream.write_all(&masked(0x1, b"big")).await.unwrap();
    stream.write_all(&masked(0x1, b"after")).await.unwrap();
    assert_eq!(bounded(seen.recv()).await, Some(Message::text("big")));
    assert!(
        stays_silent(seen).await,
        "read on before the answer was written"
    );
    // The whole answer (a 10-byte header, then the payload) lets the server read on.
    let read = read_exactly(stream, read, 10 + BIG_ANSWER).await;
    assert_eq!(&read[..2], &[0x82, 127]);
    assert_eq!(bounded(seen.recv()).await, Some(Message::text("after")));

    // A future holds reading the same way until it completes.
    stream.write_all(&masked(0x1, b"hold")).await.unwrap();
    stream.write_all(&masked(0x1, b"released")).await.unwrap();
    assert_eq!(bounded(seen.recv()).await, Some(Message::text("hold")));
    let fire = bounded(holds.recv()).await.unwrap();
    assert!(
        stays_silent(seen).await,
        "read on before the future completed"
    );
    fire.send(()).unwrap();
    assert_eq!(bounded(seen.recv()).await, Some(Message::text("released")));
}
