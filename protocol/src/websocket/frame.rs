//! The frame layer of RFC 6455 §5.2: headers parsed from and written to byte buffers, and
//! masking.
//!
//! Our own ~100 lines rather than tungstenite's `FrameHeader`: the codec splits payloads off
//! the connection's one read buffer without copying, needs RSV1 (permessage-deflate) and a
//! typed error per rule, and checks lengths against `max_message_size` before buffering.
//! tungstenite's frame type owns a `Vec` payload per frame and reports errors in its own
//! type, so we would copy every payload and translate every error.

use bytes::{BufMut, BytesMut};

use super::error::ProtocolError;

/// A frame's opcode (RFC 6455 §5.2); reserved values are refused while parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opcode {
    /// 0x0: the next fragment of a message.
    Continuation,
    /// 0x1: the first frame of a text message.
    Text,
    /// 0x2: the first frame of a binary message.
    Binary,
    /// 0x8.
    Close,
    /// 0x9.
    Ping,
    /// 0xA.
    Pong,
}

impl Opcode {
    fn from_bits(bits: u8) -> Result<Opcode, ProtocolError> {
        Ok(match bits {
            0x0 => Opcode::Continuation,
            0x1 => Opcode::Text,
            0x2 => Opcode::Binary,
            0x8 => Opcode::Close,
            0x9 => Opcode::Ping,
            0xA => Opcode::Pong,
            other => return Err(ProtocolError::ReservedOpcode(other)),
        })
    }

    fn bits(self) -> u8 {
        match self {
            Opcode::Continuation => 0x0,
            Opcode::Text => 0x1,
            Opcode::Binary => 0x2,
            Opcode::Close => 0x8,
            Opcode::Ping => 0x9,
            Opcode::Pong => 0xA,
        }
    }

    /// Close, ping and pong: never fragmented, at most 125 bytes, allowed between fragments.
    pub(crate) fn is_control(self) -> bool {
        matches!(self, Opcode::Close | Opcode::Ping | Opcode::Pong)
    }
}

/// A parsed frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FrameHeader {
    /// Last fragment of its message.
    pub(crate) fin: bool,
    /// RSV1: "this message is compressed" under permessage-deflate.
    pub(crate) rsv1: bool,
    /// What the payload is.
    pub(crate) opcode: Opcode,
    /// The masking key; clients must mask, servers must not.
    pub(crate) mask: Option<[u8; 4]>,
    /// The payload length.
    pub(crate) length: u64,
}

/// Parses the header at the front of `buf`. `Ok(None)` means more bytes are needed; otherwise
/// the header and its length in bytes. RSV2/RSV3 and reserved opcodes are errors here; what
/// RSV1 and masking may be depends on the connection, so the codec checks those.
pub(crate) fn parse_header(buf: &[u8]) -> Result<Option<(FrameHeader, usize)>, ProtocolError> {
    let [first, second, ..] = *buf else {
        return Ok(None);
    };
    if first & 0x30 != 0 {
        return Err(ProtocolError::ReservedBits);
    }
    let opcode = Opcode::from_bits(first & 0x0F)?;
    let masked = second & 0x80 != 0;
    let (length, mut at) = match second & 0x7F {
        126 => match buf.get(2..4) {
            Some(bytes) => (u64::from(u16::from_be_bytes([bytes[0], bytes[1]])), 4),
            None => return Ok(None),
        },
        127 => match buf.get(2..10) {
            Some(bytes) => {
                let mut eight = [0u8; 8];
                eight.copy_from_slice(bytes);
                let length = u64::from_be_bytes(eight);
                if length >> 63 != 0 {
                    return Err(ProtocolError::BadLength);
                }
                (length, 10)
            }
            None => return Ok(None),
        },
        short => (u64::from(short), 2),
    };
    let mask = if masked {
        match buf.get(at..at + 4) {
            Some(key) => {
                at += 4;
                Some([key[0], key[1], key[2], key[3]])
            }
            None => return Ok(None),
        }
    } else {
        None
    };
    let header = FrameHeader {
        fin: first & 0x80 != 0,
        rsv1: first & 0x40 != 0,
        opcode,
        mask,
        length,
    };
    Ok(Some((header, at)))
}

/// Appends one frame to `out`: the header, then `payload`, masked with `mask` when given.
pub(crate) fn write_frame(
    out: &mut BytesMut,
    fin: bool,
    rsv1: bool,
    opcode: Opcode,
    mask: Option<[u8; 4]>,
    payload: &[u8],
) {
    let mut first = opcode.bits();
    if fin {
        first |= 0x80;
    }
    if rsv1 {
        first |= 0x40;
    }
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    out.reserve(14 + payload.len());
    out.put_u8(first);
    match payload.len() {
        short @ 0..=125 => out.put_u8(mask_bit | short as u8),
        medium @ 126..=0xFFFF => {
            out.put_u8(mask_bit | 126);
            out.put_u16(medium as u16);
        }
        long => {
            out.put_u8(mask_bit | 127);
            out.put_u64(long as u64);
        }
    }
    match mask {
        None => out.put_slice(payload),
        Some(key) => {
            out.put_slice(&key);
            let start = out.len();
            out.put_slice(payload);
            apply_mask(&mut out[start..], key);
        }
    }
}

/// XORs `data` with the masking key (masking and unmasking are the same operation), eight
/// bytes at a time: every payload a server reads passes through here.
pub(crate) fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    let [a, b, c, d] = key;
    let word = u64::from_ne_bytes([a, b, c, d, a, b, c, d]);
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
    }
    // Whole words came first, so the remainder starts at a key boundary.
    for (index, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[index % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_round_trip_at_every_length_form() {
        for length in [0usize, 125, 126, 65535, 65536] {
            let payload = vec![7u8; length];
            let mut out = BytesMut::new();
            write_frame(
                &mut out,
                true,
                false,
                Opcode::Binary,
                Some([1, 2, 3, 4]),
                &payload,
            );
            let (header, at) = parse_header(&out).unwrap().unwrap();
            assert_eq!(header.length, length as u64);
            assert_eq!(header.mask, Some([1, 2, 3, 4]));
            for cut in 0..at {
                assert_eq!(parse_header(&out[..cut]).unwrap(), None, "cut at {cut}");
            }
            let mut body = out[at..].to_vec();
            apply_mask(&mut body, [1, 2, 3, 4]);
            assert_eq!(body, payload);
        }
    }

    #[test]
    fn masking_matches_the_bytewise_definition_at_every_length() {
        let key = [0x12, 0x34, 0x56, 0x78];
        for length in 0..40 {
            let original: Vec<u8> = (0..length).map(|byte| byte as u8).collect();
            let mut masked = original.clone();
            apply_mask(&mut masked, key);
            let expected: Vec<u8> = original
                .iter()
                .enumerate()
                .map(|(index, byte)| byte ^ key[index % 4])
                .collect();
            assert_eq!(masked, expected, "length {length}");
        }
    }

    #[test]
    fn reserved_bits_opcodes_and_lengths_are_refused() {
        assert_eq!(parse_header(&[0xA1, 0]), Err(ProtocolError::ReservedBits));
        assert_eq!(parse_header(&[0x93, 0]), Err(ProtocolError::ReservedBits));
        assert_eq!(
            parse_header(&[0x83, 0]),
            Err(ProtocolError::ReservedOpcode(3))
        );
        assert_eq!(
            parse_header(&[0x8B, 0]),
            Err(ProtocolError::ReservedOpcode(0xB))
        );
        let mut huge = vec![0x82, 127];
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(parse_header(&huge), Err(ProtocolError::BadLength));
    }
}
