//! The sans-IO WebSocket codec, fed byte slices split at every offset: masking by role,
//! fragmentation with interleaved control frames, the close codes every bad input earns, and
//! permessage-deflate with each negotiated parameter set.

use bytes::{BufMut, BytesMut};
use cyclone::websocket::{
    CloseCode, CloseFrame, Codec, DeflateConfig, Message, ProtocolError, Role, negotiate,
};

/// A raw frame as a peer would put it on the wire.
fn frame(fin: bool, rsv: u8, opcode: u8, payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = BytesMut::new();
    out.put_u8((if fin { 0x80 } else { 0 }) | (rsv << 4) | opcode);
    let mask_bit = if mask.is_some() { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.put_u8(mask_bit | n as u8),
        n if n <= 0xFFFF => {
            out.put_u8(mask_bit | 126);
            out.put_u16(n as u16);
        }
        n => {
            out.put_u8(mask_bit | 127);
            out.put_u64(n as u64);
        }
    }
    match mask {
        None => out.put_slice(payload),
        Some(key) => {
            out.put_slice(&key);
            out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
        }
    }
    out.to_vec()
}

const KEY: Option<[u8; 4]> = Some([0x37, 0xfa, 0x21, 0x3d]);

/// Decodes `wire` fed in two pieces split at `cut`, collecting messages until an error.
fn decode_split(codec: &mut Codec, wire: &[u8], cut: usize) -> Result<Vec<Message>, ProtocolError> {
    let mut buf = BytesMut::new();
    let mut messages = Vec::new();
    for piece in [&wire[..cut], &wire[cut..]] {
        buf.extend_from_slice(piece);
        while let Some(message) = codec.decode(&mut buf)? {
            messages.push(message);
        }
    }
    Ok(messages)
}

/// Asserts `wire` decodes to `expected` (server side) whatever the split.
fn assert_decodes(wire: &[u8], expected: &[Message]) {
    for cut in 0..=wire.len() {
        let mut codec = Codec::new(Role::Server, 1 << 20, None);
        assert_eq!(
            decode_split(&mut codec, wire, cut).unwrap(),
            expected,
            "cut at {cut}"
        );
    }
}

/// Asserts `wire` fails with the close code `code` whatever the split.
fn assert_fails(wire: &[u8], max: usize, code: CloseCode) {
    for cut in 0..=wire.len() {
        let mut codec = Codec::new(Role::Server, max, None);
        let error = decode_split(&mut codec, wire, cut).expect_err("must fail");
        assert_eq!(error.close_code(), code, "cut at {cut}: {error}");
    }
}

#[test]
fn masked_client_frames_decode_at_every_split() {
    let mut wire = frame(true, 0, 1, "héllo".as_bytes(), KEY);
    wire.extend(frame(true, 0, 2, &[0, 1, 2, 255], KEY));
    wire.extend(frame(true, 0, 2, &vec![9u8; 300], KEY));
    assert_decodes(
        &wire,
        &[
            Message::text("héllo"),
            Message::binary(vec![0, 1, 2, 255]),
            Message::binary(vec![9u8; 300]),
        ],
    );
}

#[test]
fn fragments_reassemble_around_interleaved_control_frames() {
    let mut wire = frame(false, 0, 1, "κό".as_bytes(), KEY);
    wire.extend(frame(true, 0, 9, b"ping", KEY));
    // "σ" split across two fragments: its first byte ends this one.
    wire.extend(frame(false, 0, 0, &"σμε".as_bytes()[..1], KEY));
    wire.extend(frame(true, 0, 10, b"pong", KEY));
    wire.extend(frame(true, 0, 0, &"σμε".as_bytes()[1..], KEY));
    assert_decodes(
        &wire,
        &[
            Message::Ping("ping".into()),
            Message::Pong("pong".into()),
            Message::text("κόσμε"),
        ],
    );
}

#[test]
fn bad_frames_close_with_1002() {
    let bad: Vec<Vec<u8>> = vec![
        frame(true, 0, 3, b"", KEY),         // reserved data opcode
        frame(true, 0, 0xB, b"", KEY),       // reserved control opcode
        frame(true, 2, 1, b"x", KEY),        // RSV2
        frame(true, 4, 1, b"x", KEY),        // RSV1 without deflate
        frame(false, 0, 9, b"", KEY),        // fragmented ping
        frame(true, 0, 9, &[0u8; 126], KEY), // ping over 125 bytes
        frame(true, 0, 0, b"x", KEY),        // continuation with nothing to continue
        frame(true, 0, 1, b"x", None),       // unmasked client frame
        [frame(false, 0, 1, b"a", KEY), frame(true, 0, 1, b"b", KEY)].concat(), // new message mid-message
        frame(true, 0, 8, &[3], KEY), // one-byte close payload
    ];
    for wire in bad {
        assert_fails(&wire, 1 << 20, CloseCode::PROTOCOL_ERROR);
    }
}

#[test]
fn invalid_close_codes_from_the_peer_close_with_1002() {
    for code in [0u16, 999, 1004, 1005, 1006, 1012, 1015, 2000, 2999, 5000] {
        assert_fails(
            &frame(true, 0, 8, &code.to_be_bytes(), KEY),
            1 << 20,
            CloseCode::PROTOCOL_ERROR,
        );
    }
    for code in [1000u16, 1001, 1003, 1007, 1011, 3000, 4999] {
        let mut payload = code.to_be_bytes().to_vec();
        payload.extend_from_slice(b"bye");
        assert_decodes(
            &frame(true, 0, 8, &payload, KEY),
            &[Message::Close(Some(CloseFrame::new(
                CloseCode(code),
                "bye",
            )))],
        );
    }
}

#[test]
fn bad_utf8_closes_with_1007_at_the_fragment_that_carries_it() {
    assert_fails(
        &frame(true, 0, 1, b"ok\xff", KEY),
        1 << 20,
        CloseCode::INVALID_PAYLOAD,
    );
    assert_fails(
        &frame(true, 0, 8, b"\x03\xe8\xce", KEY),
        1 << 20,
        CloseCode::INVALID_PAYLOAD,
    );
    // The bad byte is in the first fragment: fail before the message ends (fail fast).
    let wire = frame(false, 0, 1, b"ok\xce\x20", KEY);
    for cut in 0..=wire.len() {
        let mut codec = Codec::new(Role::Server, 1 << 20, None);
        let error = decode_split(&mut codec, &wire, cut).expect_err("fails fast");
        assert_eq!(error, ProtocolError::InvalidUtf8);
    }
    // A character cut at the end of the last fragment is bad too.
    let mut wire = frame(false, 0, 1, b"ok", KEY);
    wire.extend(frame(true, 0, 0, b"\xce", KEY));
    assert_fails(&wire, 1 << 20, CloseCode::INVALID_PAYLOAD);
}

#[test]
fn oversize_messages_close_with_1009_before_they_are_buffered() {
    assert_fails(
        &frame(true, 0, 2, &[0u8; 2000], KEY),
        1000,
        CloseCode::MESSAGE_TOO_BIG,
    );
    // Fragments that add up past the limit.
    let mut wire = frame(false, 0, 2, &[0u8; 600], KEY);
    wire.extend(frame(true, 0, 0, &[0u8; 600], KEY));
    assert_fails(&wire, 1000, CloseCode::MESSAGE_TOO_BIG);
    // The header alone is enough to refuse a huge frame: nothing is buffered for it.
    let mut codec = Codec::new(Role::Server, 1000, None);
    let mut head = BytesMut::from(&frame(true, 0, 2, &[0u8; 70_000], KEY)[..14]);
    assert_eq!(
        codec.decode(&mut head),
        Err(ProtocolError::MessageTooBig { limit: 1000 })
    );
}

#[test]
fn client_side_refuses_masked_frames_and_decodes_server_frames() {
    let mut client = Codec::new(Role::Client, 1 << 20, None);
    assert_eq!(
        client.decode(&mut BytesMut::from(&frame(true, 0, 1, b"x", KEY)[..])),
        Err(ProtocolError::BadMask)
    );
    // Our client's frames are masked and decode on our server, at every split.
    let mut client = Codec::new(Role::Client, 1 << 20, None);
    let mut wire = BytesMut::new();
    client.encode(&Message::text("masked"), &mut wire);
    client.encode(&Message::Ping("p".into()), &mut wire);
    assert_ne!(wire[1] & 0x80, 0, "client frames carry a mask");
    assert_decodes(&wire, &[Message::text("masked"), Message::Ping("p".into())]);
}

#[test]
fn deflate_round_trips_with_each_parameter_set_and_context_takeover() {
    let offers = [
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; server_max_window_bits=9; client_max_window_bits=9",
        "permessage-deflate; server_max_window_bits=12; client_no_context_takeover; client_max_window_bits=10",
    ];
    let text = "The quick brown fox jumps over the lazy dog. ".repeat(40);
    for offer in offers {
        let (params, _answer) = negotiate([offer], &DeflateConfig::new()).expect(offer);
        let mut server = Codec::new(Role::Server, 1 << 20, Some((params, 6)));
        let mut client = Codec::new(Role::Client, 1 << 20, Some((params, 6)));
        let mut sizes = Vec::new();
        for round in 0..3 {
            // Client → server, split at a handful of offsets.
            let mut wire = BytesMut::new();
            client.encode(&Message::text(text.clone()), &mut wire);
            assert_eq!(wire[0] & 0x40, 0x40, "RSV1 marks a compressed message");
            assert!(wire.len() < text.len() / 2, "{offer}: compressed");
            let mut buf = BytesMut::new();
            let mid = wire.len() / 2;
            buf.extend_from_slice(&wire[..mid]);
            assert_eq!(server.decode(&mut buf).unwrap(), None);
            buf.extend_from_slice(&wire[mid..]);
            assert_eq!(
                server.decode(&mut buf).unwrap(),
                Some(Message::text(text.clone())),
                "{offer} round {round}"
            );
            // Server → client.
            let mut wire = BytesMut::new();
            server.encode(&Message::binary(text.clone().into_bytes()), &mut wire);
            sizes.push(wire.len());
            assert_eq!(
                client.decode(&mut wire).unwrap(),
                Some(Message::binary(text.clone().into_bytes()))
            );
        }
        // An empty message right after a flush still inflates (RFC 7692 §7.2.3.6).
        let mut wire = BytesMut::new();
        client.encode(&Message::text(""), &mut wire);
        client.encode(&Message::text("after"), &mut wire);
        assert_eq!(server.decode(&mut wire).unwrap(), Some(Message::text("")));
        assert_eq!(
            server.decode(&mut wire).unwrap(),
            Some(Message::text("after"))
        );
        if params.server_no_context_takeover {
            assert_eq!(sizes[0], sizes[1], "{offer}: each message compressed alone");
        } else {
            assert!(
                sizes[1] < sizes[0],
                "{offer}: the window carries over: {sizes:?}"
            );
        }
    }
}

#[test]
fn compressed_fragments_and_bombs() {
    let (params, _) = negotiate(["permessage-deflate"], &DeflateConfig::new()).unwrap();
    // A compressed message sent in three fragments, a ping between them.
    let mut peer = Codec::new(Role::Server, 1 << 20, Some((params, 6)));
    let mut whole = BytesMut::new();
    peer.encode(
        &Message::text("fragmented and compressed ".repeat(20)),
        &mut whole,
    );
    let compressed = &whole[2..]; // server frames are unmasked, 2-byte header (< 126)
    assert!(compressed.len() < 126);
    let third = compressed.len() / 3;
    let mut wire = frame(false, 4, 1, &compressed[..third], None);
    wire.extend(frame(true, 0, 9, b"", None));
    wire.extend(frame(false, 0, 0, &compressed[third..2 * third], None));
    wire.extend(frame(true, 0, 0, &compressed[2 * third..], None));
    for cut in 0..=wire.len() {
        let mut client = Codec::new(Role::Client, 1 << 20, Some((params, 6)));
        assert_eq!(
            decode_split(&mut client, &wire, cut).unwrap(),
            vec![
                Message::Ping(Default::default()),
                Message::text("fragmented and compressed ".repeat(20))
            ]
        );
    }
    // RSV1 on a continuation is a protocol error; a bomb is 1009 while inflating.
    let mut client = Codec::new(Role::Client, 1 << 20, Some((params, 6)));
    let wire = [
        frame(false, 4, 1, &compressed[..third], None),
        frame(true, 4, 0, &compressed[third..], None),
    ]
    .concat();
    assert_eq!(
        decode_split(&mut client, &wire, 0),
        Err(ProtocolError::ReservedBits)
    );
    let mut big = BytesMut::new();
    Codec::new(Role::Server, 1 << 30, Some((params, 6)))
        .encode(&Message::binary(vec![0u8; 1 << 20]), &mut big);
    let mut client = Codec::new(Role::Client, 64 * 1024, Some((params, 6)));
    assert_eq!(
        client.decode(&mut big).unwrap_err().close_code(),
        CloseCode::MESSAGE_TOO_BIG
    );
    // Garbage with RSV1 is 1007.
    let mut client = Codec::new(Role::Client, 1 << 20, Some((params, 6)));
    let garbage = frame(true, 4, 2, &[0xff; 20], None);
    assert_eq!(
        decode_split(&mut client, &garbage, 0)
            .unwrap_err()
            .close_code(),
        CloseCode::INVALID_PAYLOAD
    );
}

#[test]
fn text_past_the_copy_limit_is_split_off_checked_and_shared() {
    // Over the 4 KiB copy limit the payload is split off the read buffer instead of copied:
    // it must still be checked as UTF-8, and stay intact after the buffer is reused.
    let text = "κόσμε ".repeat(1000);
    let mut wire = frame(true, 0, 1, text.as_bytes(), KEY);
    wire.extend(frame(true, 0, 1, b"next", KEY));
    let mut codec = Codec::new(Role::Server, 1 << 20, None);
    let mut buf = BytesMut::from(&wire[..]);
    let first = codec.decode(&mut buf).unwrap();
    let second = codec.decode(&mut buf).unwrap();
    buf.extend_from_slice(&[0u8; 16 * 1024]);
    assert_eq!(first, Some(Message::text(text.clone())));
    assert_eq!(second, Some(Message::text("next")));
    // A clone of a text message shares its bytes.
    let Some(Message::Text(decoded)) = first else {
        unreachable!()
    };
    let shared = decoded.clone();
    assert_eq!(shared.as_str().as_ptr(), decoded.as_str().as_ptr());

    let mut bad = text.into_bytes();
    bad[4500] = 0xff;
    assert_fails(
        &frame(true, 0, 1, &bad, KEY),
        1 << 20,
        CloseCode::INVALID_PAYLOAD,
    );
}
