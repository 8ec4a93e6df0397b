//! Driving cyclone's HTTP/1.1 decoders over a feeding plan, recording what they produced so
//! that plans can be compared.

use std::fmt::Debug;

use bytes::BytesMut;
use cyclone_protocol::h1::{Event, Limits, ParseError};
use http::HeaderMap;

/// A decoder that gives up after this many events on one input is stuck in a loop.
const MAX_EVENTS: usize = 100_000;

/// One message step, with body pieces joined so that outcomes compare across plans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<H> {
    /// A head.
    Head(H),
    /// Body bytes (consecutive pieces joined).
    Body(Vec<u8>),
    /// The end of a message.
    End(Option<HeaderMap>),
}

/// What one plan produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<H> {
    /// The events.
    pub steps: Vec<Step<H>>,
    /// The error that ended decoding, if one did.
    pub error: Option<ParseError>,
    /// Bytes left undecoded (compared only without an error).
    pub leftover: Vec<u8>,
}

/// A decode function: a decoder's `decode` (or `decode_eof`) over a buffer.
pub type Decode<'a, H> = dyn FnMut(&mut BytesMut) -> Result<Option<Event<H>>, ParseError> + 'a;

/// Drains events from `buf` until the decoder needs more bytes; an error is returned and
/// must repeat on the next call (errors are final).
fn drain<H>(
    buf: &mut BytesMut,
    decode: &mut Decode<'_, H>,
    steps: &mut Vec<Step<H>>,
    inspect: &mut dyn FnMut(&H),
) -> Result<(), ParseError> {
    loop {
        assert!(steps.len() < MAX_EVENTS, "a decoder that never stops");
        match decode(buf) {
            Ok(Some(Event::Head(head))) => {
                inspect(&head);
                steps.push(Step::Head(head));
            }
            Ok(Some(Event::Data(data))) => {
                assert!(!data.is_empty(), "an empty Data event");
                match steps.last_mut() {
                    Some(Step::Body(body)) => body.extend_from_slice(&data),
                    _ => steps.push(Step::Body(data.to_vec())),
                }
            }
            Ok(Some(Event::End { trailers })) => steps.push(Step::End(trailers)),
            Ok(None) => return Ok(()),
            Err(error) => {
                let again = decode(buf).err();
                assert_eq!(again.as_ref(), Some(&error), "an error that is not final");
                let _ = error.response();
                return Err(error);
            }
        }
    }
}

/// Feeds `pieces` in order through `decode`, then (if given) `at_end` once for the peer's
/// close; `inspect` sees every head as it is decoded.
pub fn run<H>(
    pieces: &[&[u8]],
    decode: &mut Decode<'_, H>,
    at_end: Option<&mut Decode<'_, H>>,
    inspect: &mut dyn FnMut(&H),
) -> Outcome<H> {
    let mut buf = BytesMut::new();
    let mut steps = Vec::new();
    let mut result = Ok(());
    for piece in pieces {
        buf.extend_from_slice(piece);
        result = drain(&mut buf, decode, &mut steps, inspect);
        if result.is_err() {
            break;
        }
    }
    if let (Ok(()), Some(at_end)) = (&result, at_end) {
        result = drain(&mut buf, at_end, &mut steps, inspect);
    }
    Outcome {
        steps,
        error: result.err(),
        leftover: buf.to_vec(),
    }
}

/// Asserts that `other` (another plan) decoded as `whole` did.
#[track_caller]
pub fn assert_same<H: Debug + PartialEq>(whole: &Outcome<H>, other: &Outcome<H>, plan: usize) {
    assert_eq!(whole.error, other.error, "error differs in plan {plan}");
    assert_eq!(whole.steps, other.steps, "events differ in plan {plan}");
    if whole.error.is_none() {
        assert_eq!(
            whole.leftover, other.leftover,
            "leftover differs in plan {plan}"
        );
    }
}

/// The limits a fuzz input asks for with `choice`: the defaults, or small ones so that every
/// limit is reachable with short inputs.
pub fn limits(choice: u8) -> Limits {
    let mut limits = Limits::default();
    if choice & 1 == 1 {
        limits.max_head_size = 256;
        limits.max_headers = 6;
        limits.max_request_line_size = 64;
        limits.max_body_size = 128;
        limits.max_chunk_extensions_size = 16;
        limits.max_trailer_size = 64;
    }
    limits
}

/// The largest body of one message in the outcome, in bytes.
pub fn largest_body<H>(outcome: &Outcome<H>) -> u64 {
    let (mut largest, mut current) = (0, 0);
    for step in &outcome.steps {
        match step {
            Step::Body(body) => current += body.len() as u64,
            Step::Head(_) | Step::End(_) => current = 0,
        }
        largest = largest.max(current);
    }
    largest
}
