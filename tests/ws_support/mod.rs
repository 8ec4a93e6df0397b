//! A raw-socket WebSocket peer for the connection tests: it writes exact client frames and
//! reads exactly what the server sent, and reads only when the test says so (a library client
//! reads eagerly, which would hide backpressure).

#![allow(dead_code)]

use std::time::Duration;

use bytes::{BufMut, BytesMut};
use cyclone::websocket::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

/// The longest any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(10);

/// Runs a client handshake (RFC 6455's sample key) for `GET /` on `stream`, checks the 101 and
/// its accept key, and returns the bytes read past the head.
pub async fn raw_handshake(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        .await
        .unwrap();
    let mut read = Vec::new();
    while !read.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut chunk = [0u8; 1024];
        let count = timeout(WAIT, stream.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(count > 0, "server hung up during the handshake");
        read.extend_from_slice(&chunk[..count]);
    }
    let end = read.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert!(read.starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(
        String::from_utf8_lossy(&read[..end])
            .to_ascii_lowercase()
            .contains("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo=")
    );
    read[end..].to_vec()
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
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
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

/// Waits a while and says whether `seen` stayed silent: the server must not have read on.
pub async fn stays_silent<T>(seen: &mut mpsc::UnboundedReceiver<T>) -> bool {
    timeout(Duration::from_millis(300), seen.recv())
        .await
        .is_err()
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
    assert_eq!(
        timeout(WAIT, seen.recv()).await.unwrap(),
        Some(Message::text("big"))
    );
    assert!(
        stays_silent(seen).await,
        "read on before the answer was written"
    );
    // The whole answer (a 10-byte header, then the payload) lets the server read on.
    let read = read_exactly(stream, read, 10 + BIG_ANSWER).await;
    assert_eq!(&read[..2], &[0x82, 127]);
    assert_eq!(
        timeout(WAIT, seen.recv()).await.unwrap(),
        Some(Message::text("after"))
    );

    // A future holds reading the same way until it completes.
    stream.write_all(&masked(0x1, b"hold")).await.unwrap();
    stream.write_all(&masked(0x1, b"released")).await.unwrap();
    assert_eq!(
        timeout(WAIT, seen.recv()).await.unwrap(),
        Some(Message::text("hold"))
    );
    let fire = timeout(WAIT, holds.recv()).await.unwrap().unwrap();
    assert!(
        stays_silent(seen).await,
        "read on before the future completed"
    );
    fire.send(()).unwrap();
    assert_eq!(
        timeout(WAIT, seen.recv()).await.unwrap(),
        Some(Message::text("released"))
    );
}
