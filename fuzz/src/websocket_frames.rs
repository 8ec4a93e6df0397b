//! The sans-IO WebSocket `Codec` without compression: frames from a peer (masked for a
//! server, unmasked for a client), fragmented messages, control frames, close payloads, UTF-8.
//! Any split decodes as the whole does; no message exceeds `max_message_size`; what one side
//! encodes, the other decodes to the same messages.

use bytes::{Bytes, BytesMut};
use cyclone_protocol::websocket::{CloseCode, CloseFrame, Codec, Message, ProtocolError, Role};

use super::input::Input;

/// A codec that gives up after this many messages on one input is stuck in a loop.
const MAX_MESSAGES: usize = 100_000;

/// What one feeding plan produced.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    /// The messages in order.
    messages: Vec<Message>,
    /// The error that ended decoding.
    error: Option<ProtocolError>,
}

/// Feeds `pieces` to a fresh codec until an error.
fn decode(pieces: &[&[u8]], role: Role, max_message_size: usize) -> Outcome {
    let mut codec = Codec::new(role, max_message_size, None);
    let mut buf = BytesMut::new();
    let mut messages = Vec::new();
    for piece in pieces {
        buf.extend_from_slice(piece);
        loop {
            assert!(messages.len() < MAX_MESSAGES, "a codec that never stops");
            match codec.decode(&mut buf) {
                Ok(Some(message)) => {
                    check_message(&message, max_message_size);
                    messages.push(message);
                }
                Ok(None) => break,
                Err(error) => {
                    let _ = error.close_code();
                    return Outcome {
                        messages,
                        error: Some(error),
                    };
                }
            }
        }
    }
    Outcome {
        messages,
        error: None,
    }
}

fn check_message(message: &Message, max_message_size: usize) {
    match message {
        Message::Text(text) => assert!(text.len() <= max_message_size),
        Message::Binary(data) => assert!(data.len() <= max_message_size),
        Message::Ping(data) | Message::Pong(data) => assert!(data.len() <= 125),
        Message::Close(Some(frame)) => {
            assert!(
                frame.code.is_sendable(),
                "a close code the peer may not send"
            );
            assert!(frame.reason.len() <= 123);
        }
        Message::Close(None) => {}
    }
}

/// The messages `input` describes, for the encode/decode round trip.
fn messages(input: &mut Input<'_>) -> Vec<Message> {
    let mut messages = Vec::new();
    for _ in 0..(input.byte() % 4) {
        let kind = input.byte();
        let length = usize::from(input.byte());
        let payload = Bytes::copy_from_slice(input.take(length));
        messages.push(match kind % 5 {
            0 => Message::text(String::from_utf8_lossy(&payload).into_owned()),
            1 => Message::Binary(payload),
            2 => Message::Ping(payload.slice(..payload.len().min(125))),
            3 => Message::Pong(payload.slice(..payload.len().min(125))),
            _ => Message::Binary(payload),
        });
    }
    messages
}

/// Decodes the input's bytes as frames from a peer, under every feeding plan; first, encodes
/// the messages a prefix of the input describes and decodes them back.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let choice = input.byte();
    let role = if choice & 1 == 0 {
        Role::Server
    } else {
        Role::Client
    };
    let max_message_size = if choice & 2 == 0 { 1024 } else { 64 * 1024 };

    if choice & 4 != 0 {
        let sent = messages(&mut input);
        let peer = if role == Role::Server {
            Role::Client
        } else {
            Role::Server
        };
        let mut encoder = Codec::new(peer, usize::MAX, None);
        let mut wire = BytesMut::new();
        for message in &sent {
            encoder.encode(message, &mut wire);
        }
        encoder.encode(
            &Message::Close(Some(CloseFrame::new(CloseCode::NORMAL, "bye"))),
            &mut wire,
        );
        let back = decode(&[&wire], role, 64 * 1024);
        assert_eq!(back.error, None, "our own frames refused");
        assert_eq!(
            &back.messages[..sent.len()],
            &sent[..],
            "round trip changed messages"
        );
    }

    let (_, plans) = super::feed::plans(&mut input);
    let whole = decode(&plans[0], role, max_message_size);
    for (index, plan) in plans.iter().enumerate().skip(1) {
        let other = decode(plan, role, max_message_size);
        assert_eq!(whole, other, "plan {index} decoded differently");
    }
}
