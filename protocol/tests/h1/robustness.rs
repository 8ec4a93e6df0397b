//! Garbage and mutated messages, fed in random pieces, never panic and always end in events or
//! an error. Deterministic and bounded: a fixed seed and a fixed number of inputs.

use bytes::BytesMut;
use cyclone_protocol::h1::{Event, Limits, RequestDecoder, ResponseDecoder};
use http::Method;

use crate::support::Rng;

const SEEDS: [&[u8]; 6] = [
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"POST /p?q=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello",
    b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: v\r\n\r\n",
    b"GET http://a:1/x HTTP/1.0\r\nConnection: keep-alive\r\nExpect: 100-continue\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabc",
];

/// Bytes that matter to the parsers, so that random inputs reach deep states.
const ALPHABET: &[u8] = b"\r\n\r\n :;,\t\0\x7f\x80\xffGETPOSTHTTP/1.01.1chunkedContent-LengthTransfer-Encoding0123456789abcdefABCDEF-+\"";

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(4) {
        let position = rng.below(bytes.len() + 1);
        let byte = ALPHABET[rng.below(ALPHABET.len())];
        match rng.below(3) {
            0 if position < bytes.len() => bytes[position] = byte,
            1 if position < bytes.len() => {
                bytes.remove(position);
            }
            _ => bytes.insert(position, byte),
        }
    }
    bytes
}

fn garbage(rng: &mut Rng) -> Vec<u8> {
    let length = rng.below(200);
    (0..length)
        .map(|_| {
            if rng.below(4) == 0 {
                rng.next() as u8
            } else {
                ALPHABET[rng.below(ALPHABET.len())]
            }
        })
        .collect()
}

/// Feeds `input` in random pieces to a request and a response decoder; returns whether the
/// request decoder produced an error.
fn feed(rng: &mut Rng, input: &[u8], limits: Limits) -> bool {
    let mut requests = RequestDecoder::new(limits);
    let mut responses = ResponseDecoder::new(limits);
    let mut request_buf = BytesMut::new();
    let mut response_buf = BytesMut::new();
    let mut request_failed = false;
    let mut response_failed = false;
    let mut events = 0;
    let mut rest = input;
    while !rest.is_empty() {
        let take = 1 + rng.below(rest.len());
        let (piece, remaining) = rest.split_at(take);
        rest = remaining;
        request_buf.extend_from_slice(piece);
        response_buf.extend_from_slice(piece);
        while !request_failed {
            match requests.decode(&mut request_buf) {
                Ok(Some(Event::Data(data))) => assert!(!data.is_empty()),
                Ok(Some(_)) => events += 1,
                Ok(None) => break,
                Err(error) => {
                    let _ = error.response();
                    request_failed = true;
                }
            }
            assert!(events < 10_000, "a decoder that never stops");
        }
        while !response_failed {
            match responses.decode(&mut response_buf, &Method::GET) {
                Ok(Some(_)) => events += 1,
                Ok(None) => break,
                Err(_) => response_failed = true,
            }
            assert!(events < 10_000, "a decoder that never stops");
        }
    }
    while !response_failed {
        match responses.decode_eof(&mut response_buf, &Method::GET) {
            Ok(Some(_)) => events += 1,
            Ok(None) => break,
            Err(_) => response_failed = true,
        }
        assert!(events < 10_000, "a decoder that never stops at the end");
    }
    request_failed
}

#[test]
fn random_and_mutated_inputs_never_panic() {
    let mut rng = Rng::new(0x5eed_cafe);
    let mut small = Limits::default();
    small.max_head_size = 96;
    small.max_headers = 4;
    small.max_request_line_size = 40;
    small.max_body_size = 64;
    small.max_chunk_extensions_size = 8;
    small.max_trailer_size = 32;
    let mut errors = 0;
    for round in 0..4000 {
        let limits = if round % 2 == 0 {
            Limits::default()
        } else {
            small
        };
        let input = if round % 3 == 0 {
            garbage(&mut rng)
        } else {
            let seed = SEEDS[rng.below(SEEDS.len())];
            mutate(&mut rng, seed)
        };
        errors += usize::from(feed(&mut rng, &input, limits));
    }
    // The inputs are mostly broken: a run without errors would mean they were not exercised.
    assert!(errors > 1000, "only {errors} inputs were rejected");
}
