//! permessage-deflate's inflater, through the server's `Codec`: compressed messages of one or
//! more frames from a client, with the parameters the input chooses. A message never inflates
//! past `max_message_size`, and a bomb (a few bytes that inflate to gigabytes) costs at most
//! the memory budget below, measured by the counting allocator. What a client compresses, the
//! server inflates back.

use bytes::{BufMut, Bytes, BytesMut};
use cyclone_protocol::websocket::{Codec, DeflateParams, Message, Role};

use super::alloc::measure;
use super::input::Input;

/// The largest message the fuzzed server accepts.
const MAX_MESSAGE_SIZE: usize = 256 * 1024;

/// The most memory decoding one input may hold at once: the message being inflated (its
/// buffer may double once past the limit's half), zlib's inflate state and window, and slack
/// for the codec's own small allocations.
const MEMORY_BUDGET: usize = 2 * MAX_MESSAGE_SIZE + 256 * 1024;

/// Appends one masked client frame.
fn frame(out: &mut BytesMut, fin: bool, rsv1: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) {
    out.put_u8(u8::from(fin) << 7 | u8::from(rsv1) << 6 | opcode);
    match payload.len() {
        length @ 0..=125 => out.put_u8(0x80 | length as u8),
        length @ 126..=0xFFFF => {
            out.put_u8(0x80 | 126);
            out.put_u16(length as u16);
        }
        length => {
            out.put_u8(0x80 | 127);
            out.put_u64(length as u64);
        }
    }
    out.put_slice(&mask);
    out.extend(
        payload
            .iter()
            .enumerate()
            .map(|(index, byte)| byte ^ mask[index % 4]),
    );
}

/// The parameters the input chooses (any the negotiation could agree on).
fn params(choice: u8, bits: u8) -> DeflateParams {
    DeflateParams {
        server_max_window_bits: 9 + (bits & 0x0F) % 7,
        client_max_window_bits: 9 + (bits >> 4) % 7,
        server_no_context_takeover: choice & 1 != 0,
        client_no_context_takeover: choice & 2 != 0,
    }
}

/// Decodes the frames the input describes; asserts the size limit and the memory budget.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let choice = input.byte();
    let params = params(choice, input.byte());

    if choice & 4 != 0 {
        // Round trip: a client's compressed messages inflate to themselves.
        let mut client = Codec::new(
            Role::Client,
            usize::MAX,
            Some((params, u32::from(choice >> 4) % 10)),
        );
        let mut server = Codec::new(Role::Server, MAX_MESSAGE_SIZE, Some((params, 6)));
        let mut wire = BytesMut::new();
        let sent: Vec<Message> = (0..(input.byte() % 3) + 1)
            .map(|_| {
                let length = usize::from(input.u16()) % 2048;
                Message::Binary(Bytes::copy_from_slice(input.take(length)))
            })
            .collect();
        for message in &sent {
            client.encode(message, &mut wire);
        }
        for message in &sent {
            assert_eq!(
                server.decode(&mut wire).as_ref(),
                Ok(&Some(message.clone()))
            );
        }
    }

    // Messages of up to three frames each, compressed bytes straight from the input.
    let mut wire = BytesMut::new();
    for _ in 0..(input.byte() % 3) + 1 {
        let text = input.byte() & 1 == 1;
        let frames = (input.byte() % 3) + 1;
        for index in 0..frames {
            let length = usize::from(input.u16());
            let payload = input.take(length);
            let opcode = match (index, text) {
                (0, true) => 1,
                (0, false) => 2,
                _ => 0,
            };
            frame(
                &mut wire,
                index + 1 == frames,
                index == 0,
                opcode,
                payload,
                [0x5a, 0x17, 0xc3, 0x01],
            );
        }
    }
    let mut server = Codec::new(Role::Server, MAX_MESSAGE_SIZE, Some((params, 6)));
    let (_, peak) = measure(|| {
        while let Ok(Some(message)) = server.decode(&mut wire) {
            match message {
                Message::Text(text) => assert!(text.len() <= MAX_MESSAGE_SIZE),
                Message::Binary(data) => assert!(data.len() <= MAX_MESSAGE_SIZE),
                _ => {}
            }
        }
    });
    if let Some(peak) = peak {
        assert!(
            peak <= MEMORY_BUDGET,
            "inflating took {peak} bytes, over the {MEMORY_BUDGET} budget"
        );
    }
}
