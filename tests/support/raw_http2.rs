//! A raw HTTP/2 client over TCP, frame by frame, for the tests that must send what no real
//! client would (frames in bulk, resets, floods) or check exactly what the server sends
//! (GOAWAY, RST_STREAM, PING). HPACK only as far as those tests need: requests built from the
//! static table and literals, and the `:status` of an answer.

use std::net::SocketAddr;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::wait::WAIT;

/// The connection preface a client with prior knowledge starts with (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Frame types (RFC 9113 §6).
pub const DATA: u8 = 0x0;
/// HEADERS.
pub const HEADERS: u8 = 0x1;
/// RST_STREAM.
pub const RST_STREAM: u8 = 0x3;
/// SETTINGS.
pub const SETTINGS: u8 = 0x4;
/// PING.
pub const PING: u8 = 0x6;
/// GOAWAY.
pub const GOAWAY: u8 = 0x7;
/// WINDOW_UPDATE.
pub const WINDOW_UPDATE: u8 = 0x8;
/// CONTINUATION.
pub const CONTINUATION: u8 = 0x9;

/// Flag: the last frame of the stream (DATA, HEADERS).
pub const END_STREAM: u8 = 0x1;
/// Flag: an acknowledgement (SETTINGS, PING).
pub const ACK: u8 = 0x1;
/// Flag: the header block ends in this frame (HEADERS, CONTINUATION).
pub const END_HEADERS: u8 = 0x4;

/// Error codes (RFC 9113 §7).
pub const NO_ERROR: u32 = 0x0;
/// PROTOCOL_ERROR.
pub const PROTOCOL_ERROR: u32 = 0x1;
/// REFUSED_STREAM.
pub const REFUSED_STREAM: u32 = 0x7;
/// CANCEL.
pub const CANCEL: u32 = 0x8;
/// ENHANCE_YOUR_CALM.
pub const ENHANCE_YOUR_CALM: u32 = 0xb;

/// SETTINGS_INITIAL_WINDOW_SIZE's identifier.
pub const SETTINGS_INITIAL_WINDOW_SIZE: u16 = 0x4;

/// An HTTP/2 frame.
pub fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut frame = length[1..].to_vec();
    frame.extend_from_slice(&[kind, flags]);
    frame.extend_from_slice(&stream.to_be_bytes());
    frame.extend_from_slice(payload);
    frame
}

/// A SETTINGS frame carrying `settings` (identifier, value).
pub fn settings(settings: &[(u16, u32)]) -> Vec<u8> {
    let mut payload = Vec::new();
    for (id, value) in settings {
        payload.extend_from_slice(&id.to_be_bytes());
        payload.extend_from_slice(&value.to_be_bytes());
    }
    frame(SETTINGS, 0, 0, &payload)
}

/// HPACK for `GET http://127.0.0.1{path}`, from the static table and literals (no Huffman).
pub fn get(path: &str) -> Vec<u8> {
    let mut block = vec![0x82, 0x86]; // :method GET, :scheme http
    block.push(0x04); // :path, literal without indexing
    block.push(u8::try_from(path.len()).expect("a path under 128 bytes"));
    block.extend_from_slice(path.as_bytes());
    block.extend_from_slice(&[0x01, 9]); // :authority, literal without indexing
    block.extend_from_slice(b"127.0.0.1");
    block
}

/// A whole `GET {path}` on stream `id`: one HEADERS frame ending the headers and the stream.
pub fn request(id: u32, path: &str) -> Vec<u8> {
    frame(HEADERS, END_STREAM | END_HEADERS, id, &get(path))
}

/// HPACK for one header field `name: value`, a literal without indexing (no Huffman), for a
/// value of any length.
pub fn literal_field(name: &str, value: &[u8]) -> Vec<u8> {
    let mut block = vec![0x00];
    hpack_string(&mut block, name.as_bytes());
    hpack_string(&mut block, value);
    block
}

/// An HPACK string literal (RFC 7541 §5.2), not Huffman-coded.
fn hpack_string(block: &mut Vec<u8>, value: &[u8]) {
    // The length, as a 7-bit-prefix integer (§5.1).
    let mut length = value.len();
    if length < 127 {
        block.push(length as u8);
    } else {
        block.push(127);
        length -= 127;
        while length >= 128 {
            block.push((length % 128 + 128) as u8);
            length /= 128;
        }
        block.push(length as u8);
    }
    block.extend_from_slice(value);
}

/// The `:status` of an answer's header block, from the first field the server encodes: an
/// entry of the static table (200, 204, 206, 304, 400, 404, 500) or a literal value with the
/// `:status` name, Huffman-coded (as `h2` always codes it) or not. `None` for anything else.
pub fn status(block: &[u8]) -> Option<u16> {
    let first = *block.first()?;
    const STATIC: [u16; 7] = [200, 204, 206, 304, 400, 404, 500];
    if first & 0x80 != 0 {
        let index = usize::from(first & 0x7f);
        return STATIC.get(index.checked_sub(8)?).copied();
    }
    // A literal whose name is static entry 8..=14 (`:status`), with or without indexing.
    let name = if first & 0x40 != 0 {
        first & 0x3f
    } else {
        first & 0x0f
    };
    if !(8..=14).contains(&name) {
        return None;
    }
    let head = *block.get(1)?;
    let length = usize::from(head & 0x7f);
    let value = block.get(2..2 + length)?;
    let digits = if head & 0x80 == 0 {
        value.to_vec()
    } else {
        huffman_digits(value)?
    };
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

/// Decodes a Huffman-coded string of digits (RFC 7541 Appendix B: '0'..'2' are 5-bit codes
/// 0..2, '3'..'9' 6-bit codes 0x19..0x1f); `None` for anything else.
fn huffman_digits(coded: &[u8]) -> Option<Vec<u8>> {
    let bits: Vec<u8> = coded
        .iter()
        .flat_map(|byte| (0..8).rev().map(move |shift| (byte >> shift) & 1))
        .collect();
    let read = |at: usize, count: usize| -> Option<u8> {
        let slice = bits.get(at..at + count)?;
        Some(slice.iter().fold(0, |value, bit| value << 1 | bit))
    };
    let mut digits = Vec::new();
    let mut at = 0;
    while bits.len() - at >= 5 {
        // Padding: the rest are ones (a prefix of the end-of-string code).
        if bits[at..].iter().all(|bit| *bit == 1) {
            break;
        }
        let five = read(at, 5)?;
        if five <= 2 {
            digits.push(b'0' + five);
            at += 5;
            continue;
        }
        let six = read(at, 6)?;
        if !(0x19..=0x1f).contains(&six) {
            return None;
        }
        digits.push(b'3' + (six - 0x19));
        at += 6;
    }
    Some(digits)
}

/// A GOAWAY's last stream id and error code.
pub fn goaway(payload: &[u8]) -> (u32, u32) {
    let last = u32::from_be_bytes(payload[..4].try_into().unwrap()) & 0x7fff_ffff;
    let code = u32::from_be_bytes(payload[4..8].try_into().unwrap());
    (last, code)
}

/// The GOAWAYs among `frames`: (last stream id, error code) of each.
pub fn goaways(frames: &[RawFrame]) -> Vec<(u32, u32)> {
    frames
        .iter()
        .filter(|frame| frame.0 == GOAWAY)
        .map(|frame| goaway(&frame.3))
        .collect()
}

/// An RST_STREAM's error code.
pub fn reset_code(payload: &[u8]) -> u32 {
    u32::from_be_bytes(payload[..4].try_into().unwrap())
}

/// Reads whole frames off a connection.
#[derive(Default)]
pub struct FrameReader {
    /// Bytes read past the last whole frame.
    buffer: Vec<u8>,
}

/// A frame as read: type, flags, stream id, payload.
pub type RawFrame = (u8, u8, u32, Vec<u8>);

impl FrameReader {
    /// The next frame; fails the test if the connection closes first, or after [`WAIT`].
    pub async fn next(&mut self, stream: &mut (impl AsyncRead + Unpin)) -> RawFrame {
        self.next_or_closed(stream)
            .await
            .expect("the server closed the connection")
    }

    /// The next frame, or `None` once the server has closed the connection (end of stream,
    /// or reset because it closed with bytes of ours unread); fails the test after [`WAIT`].
    pub async fn next_or_closed(
        &mut self,
        stream: &mut (impl AsyncRead + Unpin),
    ) -> Option<RawFrame> {
        loop {
            if self.buffer.len() >= 9 {
                let length = u32::from_be_bytes([0, self.buffer[0], self.buffer[1], self.buffer[2]])
                    as usize;
                if self.buffer.len() >= 9 + length {
                    let kind = self.buffer[3];
                    let flags = self.buffer[4];
                    let id =
                        u32::from_be_bytes(self.buffer[5..9].try_into().unwrap()) & 0x7fff_ffff;
                    let payload = self.buffer[9..9 + length].to_vec();
                    self.buffer.drain(..9 + length);
                    return Some((kind, flags, id, payload));
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            let read = tokio::time::timeout(WAIT, stream.read(&mut chunk))
                .await
                .expect("the server sends the frames in time");
            match read {
                Ok(0) | Err(_) => return None,
                Ok(read) => self.buffer.extend_from_slice(&chunk[..read]),
            }
        }
    }

    /// Reads frames until the server closes the connection, answering its SETTINGS and PINGs
    /// as a client must; returns every frame but those.
    pub async fn until_closed(&mut self, stream: &mut TcpStream) -> Vec<RawFrame> {
        let mut frames = Vec::new();
        while let Some(frame) = self.next_or_closed(stream).await {
            if answer_control(stream, &frame).await {
                continue;
            }
            frames.push(frame);
        }
        frames
    }
}

/// Answers `frame` if it is connection control a client must answer (SETTINGS, PING);
/// returns whether it is connection control at all (those, their acknowledgements, and
/// WINDOW_UPDATE on stream 0), which the tests pass over.
pub async fn answer_control(stream: &mut TcpStream, frame: &RawFrame) -> bool {
    let (kind, flags, id, payload) = frame;
    match *kind {
        SETTINGS | PING if flags & ACK != 0 => true,
        // The connection may be closing already: a failed write is not the test's concern.
        SETTINGS => {
            let _ = stream.write_all(&self::frame(SETTINGS, ACK, 0, &[])).await;
            true
        }
        PING => {
            let _ = stream.write_all(&self::frame(PING, ACK, 0, payload)).await;
            true
        }
        WINDOW_UPDATE => *id == 0,
        _ => false,
    }
}

/// Opens an h2c connection: the preface and a SETTINGS frame with `settings`.
pub async fn connect(addr: SocketAddr, client_settings: &[(u16, u32)]) -> TcpStream {
    let mut client = TcpStream::connect(addr).await.unwrap();
    let mut out = PREFACE.to_vec();
    out.extend_from_slice(&settings(client_settings));
    client.write_all(&out).await.unwrap();
    client
}

/// Reads frames (answering SETTINGS and PINGs) until the head of stream `id`'s answer;
/// returns its `:status`.
pub async fn answer_status(client: &mut TcpStream, frames: &mut FrameReader, id: u32) -> u16 {
    loop {
        let frame = frames.next(client).await;
        if answer_control(client, &frame).await {
            continue;
        }
        let (kind, _, stream, payload) = frame;
        assert_ne!(
            kind,
            GOAWAY,
            "GOAWAY {:?} before the answer",
            goaway(&payload)
        );
        if kind == RST_STREAM && stream == id {
            panic!("stream {id} reset with {:#x}", reset_code(&payload));
        }
        if kind == HEADERS && stream == id {
            return status(&payload).expect("a :status the test can read");
        }
    }
}

/// `GET {path}` on a new h2c connection; the answer's `:status`. What the attack tests use to
/// show the server still serves another client.
pub async fn get_status(addr: SocketAddr, path: &str) -> u16 {
    let mut client = connect(addr, &[]).await;
    client.write_all(&request(1, path)).await.unwrap();
    answer_status(&mut client, &mut FrameReader::default(), 1).await
}
