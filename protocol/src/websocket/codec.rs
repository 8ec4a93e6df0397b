//! The sans-IO WebSocket codec: bytes from the peer in, [`Message`]s out; messages in, bytes
//! for the peer out. It enforces RFC 6455 (masking by role, fragmentation, control frames,
//! UTF-8, close codes), RFC 7692 (RSV1 on the first frame of a compressed message) and
//! `max_message_size`. It holds no socket and no timer: the connection actor owns those.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use bytes::{Buf, Bytes, BytesMut};

use super::close::{close_payload, parse_close_payload};
use super::deflate::{DeflateContext, DeflateParams};
use super::error::ProtocolError;
use super::frame::{Opcode, apply_mask, parse_header, write_frame};
use super::utf8::Utf8Validator;
use super::{Message, Utf8Bytes};

/// Whole payloads up to this size are copied out of the read buffer; larger ones are split
/// off it without a copy. 4 KiB (the default read buffer).
const COPY_PAYLOAD_LIMIT: usize = 4 * 1024;

/// A whole data message: binary as it is, text once its bytes are checked to be UTF-8.
fn whole_message(opcode: Opcode, payload: Bytes) -> Result<Message, ProtocolError> {
    if opcode == Opcode::Text {
        Utf8Bytes::try_from(payload)
            .map(Message::Text)
            .map_err(|_| ProtocolError::InvalidUtf8)
    } else {
        Ok(Message::Binary(payload))
    }
}

/// Which end of the connection the codec is: clients mask what they send, servers must not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Accepted the connection; expects masked frames.
    Server,
    /// Opened the connection; masks every frame.
    Client,
}

/// A message being reassembled from fragments.
#[derive(Debug)]
struct Partial {
    /// Text (validated as it grows) or binary.
    text: bool,
    /// RSV1 was set on its first frame: every fragment is inflated.
    compressed: bool,
    /// The payload so far (inflated when compressed).
    data: Vec<u8>,
    /// How much of `data` is known to be UTF-8.
    utf8: Utf8Validator,
}

/// The state of one WebSocket connection's framing. See the [module docs](crate::websocket).
#[derive(Debug)]
pub struct Codec {
    /// Decides masking in both directions.
    role: Role,
    /// Largest message accepted (after inflation).
    max_message_size: usize,
    /// permessage-deflate, when negotiated.
    deflate: Option<DeflateContext>,
    /// The fragmented message in progress.
    partial: Option<Partial>,
    /// The peer's close frame arrived: later frames are ignored.
    close_received: bool,
    /// Our close frame is encoded: nothing else may follow it.
    close_sent: bool,
    /// Seeds masking keys; SipHash keyed at random per codec, so keys are unpredictable.
    mask_keys: (RandomState, u64),
}

impl Codec {
    /// A codec for `role`, accepting messages up to `max_message_size` bytes, with
    /// permessage-deflate when `deflate` holds agreed parameters (compressing at zlib `level`).
    pub fn new(role: Role, max_message_size: usize, deflate: Option<(DeflateParams, u32)>) -> Self {
        Codec {
            role,
            max_message_size,
            deflate: deflate
                .map(|(params, level)| DeflateContext::new(params, role == Role::Server, level)),
            partial: None,
            close_received: false,
            close_sent: false,
            mask_keys: (RandomState::new(), 0),
        }
    }

    /// Whether permessage-deflate is on.
    pub fn is_compressing(&self) -> bool {
        self.deflate.is_some()
    }

    /// zlib memory this connection holds right now, by the estimate in
    /// [`DeflateConfig`](super::DeflateConfig)'s docs: 0 without compression, and 0 between
    /// messages without context takeover (the loop lends contexts per message).
    pub fn compression_memory(&self) -> usize {
        self.deflate.as_ref().map_or(0, DeflateContext::held_bytes)
    }

    /// Whether the peer's close frame has been decoded.
    pub fn close_received(&self) -> bool {
        self.close_received
    }

    /// Whether our close frame has been encoded.
    pub fn close_sent(&self) -> bool {
        self.close_sent
    }

    /// Decodes the next message (or control frame) off the front of `buf`. `Ok(None)` means
    /// more bytes are needed; the bytes of incomplete frames stay in `buf`. An error is final:
    /// send a close frame with [`ProtocolError::close_code`] and drop the connection.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Message>, ProtocolError> {
        loop {
            if self.close_received {
                // RFC 6455 §5.5.1: nothing follows a close frame; whatever does is discarded.
                buf.clear();
                return Ok(None);
            }
            let Some((header, header_length)) = parse_header(buf)? else {
                return Ok(None);
            };
            match (self.role, header.mask) {
                (Role::Server, None) | (Role::Client, Some(_)) => {
                    return Err(ProtocolError::BadMask);
                }
                _ => {}
            }
            let opcode = header.opcode;
            if opcode.is_control() {
                if !header.fin || header.length > 125 {
                    return Err(ProtocolError::BadControlFrame);
                }
                if header.rsv1 {
                    return Err(ProtocolError::ReservedBits);
                }
            } else if header.rsv1 && (self.deflate.is_none() || opcode == Opcode::Continuation) {
                return Err(ProtocolError::ReservedBits);
            }
            match (opcode, &self.partial) {
                (Opcode::Continuation, None) | (Opcode::Text | Opcode::Binary, Some(_)) => {
                    return Err(ProtocolError::BadFragmentation);
                }
                _ => {}
            }
            let so_far = self
                .partial
                .as_ref()
                .map_or(0, |partial| partial.data.len());
            let limit = self.max_message_size;
            if header.length > (limit - so_far.min(limit)) as u64 {
                return Err(ProtocolError::MessageTooBig { limit });
            }
            // Checked against the limit above, so it fits in usize.
            let length = header.length as usize;
            let end = header_length + length;
            if buf.len() < end {
                return Ok(None);
            }
            if let Some(key) = header.mask {
                apply_mask(&mut buf[header_length..end], key);
            }
            // Payloads are read in place and copied out (a short copy), or split off when
            // large: splitting would make the connection's read buffer shared, so it could not
            // be reused for the next read without a new allocation.
            let decoded = match opcode {
                Opcode::Ping => Some(Message::Ping(Bytes::copy_from_slice(
                    &buf[header_length..end],
                ))),
                Opcode::Pong => Some(Message::Pong(Bytes::copy_from_slice(
                    &buf[header_length..end],
                ))),
                Opcode::Close => {
                    let frame = parse_close_payload(&buf[header_length..end])?;
                    self.close_received = true;
                    Some(Message::Close(frame))
                }
                Opcode::Text | Opcode::Binary if header.fin && !header.rsv1 => {
                    let payload = if length <= COPY_PAYLOAD_LIMIT {
                        let payload = Bytes::copy_from_slice(&buf[header_length..end]);
                        buf.advance(end);
                        payload
                    } else {
                        buf.advance(header_length);
                        buf.split_to(length).freeze()
                    };
                    return whole_message(opcode, payload).map(Some);
                }
                Opcode::Text | Opcode::Binary | Opcode::Continuation => {
                    if opcode != Opcode::Continuation {
                        self.partial = Some(Partial {
                            text: opcode == Opcode::Text,
                            compressed: header.rsv1,
                            data: Vec::new(),
                            utf8: Utf8Validator::default(),
                        });
                    }
                    let appended = self.append(&buf[header_length..end], header.fin);
                    buf.advance(end);
                    match appended? {
                        Some(message) => return Ok(Some(message)),
                        None => continue,
                    }
                }
            };
            buf.advance(end);
            return Ok(decoded);
        }
    }

    /// Adds one data frame's payload to the message in progress; returns the message when
    /// `fin` completes it.
    fn append(&mut self, payload: &[u8], fin: bool) -> Result<Option<Message>, ProtocolError> {
        let limit = self.max_message_size;
        let Some(partial) = self.partial.as_mut() else {
            return Err(ProtocolError::BadFragmentation);
        };
        if partial.compressed {
            match self.deflate.as_mut() {
                Some(deflate) => deflate.decompress(payload, fin, &mut partial.data, limit)?,
                None => return Err(ProtocolError::ReservedBits),
            }
        } else {
            partial.data.extend_from_slice(payload);
        }
        if partial.text {
            partial
                .utf8
                .feed(&partial.data, fin)
                .map_err(|()| ProtocolError::InvalidUtf8)?;
        }
        if !fin {
            return Ok(None);
        }
        let Some(partial) = self.partial.take() else {
            return Ok(None);
        };
        let opcode = if partial.text {
            Opcode::Text
        } else {
            Opcode::Binary
        };
        whole_message(opcode, Bytes::from(partial.data)).map(Some)
    }

    /// Appends `message` to `out` as one frame, compressed when permessage-deflate is on (data
    /// messages only). Ping and pong payloads longer than 125 bytes are cut to 125. After a
    /// close frame nothing more is encoded.
    pub fn encode(&mut self, message: &Message, out: &mut BytesMut) {
        if self.close_sent {
            return;
        }
        let mask = self.next_mask();
        match message {
            Message::Text(text) => {
                self.encode_data(message, Opcode::Text, text.as_bytes(), mask, out);
            }
            Message::Binary(data) => self.encode_data(message, Opcode::Binary, data, mask, out),
            Message::Ping(data) => {
                write_frame(
                    out,
                    true,
                    false,
                    Opcode::Ping,
                    mask,
                    &data[..data.len().min(125)],
                );
            }
            Message::Pong(data) => {
                write_frame(
                    out,
                    true,
                    false,
                    Opcode::Pong,
                    mask,
                    &data[..data.len().min(125)],
                );
            }
            Message::Close(frame) => {
                self.close_sent = true;
                write_frame(
                    out,
                    true,
                    false,
                    Opcode::Close,
                    mask,
                    &close_payload(frame.as_ref()),
                );
            }
        }
    }

    fn encode_data(
        &mut self,
        message: &Message,
        opcode: Opcode,
        payload: &[u8],
        mask: Option<[u8; 4]>,
        out: &mut BytesMut,
    ) {
        match self.deflate.as_mut() {
            Some(deflate) => {
                let mut compressed = Vec::new();
                deflate.compress(message, payload, &mut compressed);
                write_frame(out, true, true, opcode, mask, &compressed);
            }
            None => write_frame(out, true, false, opcode, mask, payload),
        }
    }

    /// A fresh masking key for a client, `None` for a server.
    fn next_mask(&mut self) -> Option<[u8; 4]> {
        if self.role == Role::Server {
            return None;
        }
        let (keys, counter) = &mut self.mask_keys;
        *counter = counter.wrapping_add(1);
        let mut hasher = keys.build_hasher();
        hasher.write_u64(*counter);
        let bits = hasher.finish() as u32;
        Some(bits.to_ne_bytes())
    }
}
