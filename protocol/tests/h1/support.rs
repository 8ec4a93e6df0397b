//! Feeding helpers: every input is decoded whole, split in two at every offset, and byte by
//! byte, and the outcomes must agree.

use std::fmt::Debug;

use bytes::BytesMut;
use cyclone_protocol::h1::{
    Event, Limits, ParseError, RequestDecoder, RequestHead, ResponseDecoder, ResponseHead,
};
use http::{HeaderMap, Method};

/// A decoded message step, with body pieces joined so that outcomes compare across splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step<H> {
    Head(H),
    Body(Vec<u8>),
    End(Option<HeaderMap>),
}

/// Everything one run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome<H> {
    pub steps: Vec<Step<H>>,
    pub error: Option<ParseError>,
    /// Bytes the decoder left in the buffer (only compared when there was no error).
    pub leftover: Vec<u8>,
}

impl<H: Debug> Outcome<H> {
    pub fn heads(&self) -> Vec<&H> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                Step::Head(head) => Some(head),
                _ => None,
            })
            .collect()
    }

    /// The joined body of message `index`.
    pub fn body(&self, index: usize) -> Vec<u8> {
        let mut message = 0;
        let mut body = Vec::new();
        for step in &self.steps {
            match step {
                Step::Head(_) => {}
                Step::Body(data) if message == index => body.extend_from_slice(data),
                Step::Body(_) => {}
                Step::End(_) => message += 1,
            }
        }
        body
    }

    pub fn trailers(&self, index: usize) -> Option<HeaderMap> {
        self.steps
            .iter()
            .filter_map(|step| match step {
                Step::End(trailers) => Some(trailers.clone()),
                _ => None,
            })
            .nth(index)
            .flatten()
    }

    pub fn complete_messages(&self) -> usize {
        self.steps
            .iter()
            .filter(|step| matches!(step, Step::End(_)))
            .count()
    }

    #[track_caller]
    pub fn unwrap_ok(self) -> Self {
        assert_eq!(
            self.error, None,
            "unexpected error; steps: {:?}",
            self.steps
        );
        self
    }

    #[track_caller]
    pub fn unwrap_err(&self) -> ParseError {
        self.error
            .clone()
            .unwrap_or_else(|| panic!("expected an error; steps: {:?}", self.steps))
    }
}

type Decode<'a, H> = dyn FnMut(&mut BytesMut) -> Result<Option<Event<H>>, ParseError> + 'a;

/// Drains events from `buf` into `steps` until the decoder needs more bytes.
fn drain<H>(
    buf: &mut BytesMut,
    decode: &mut Decode<'_, H>,
    steps: &mut Vec<Step<H>>,
) -> Result<(), ParseError> {
    loop {
        match decode(buf) {
            Ok(Some(Event::Head(head))) => steps.push(Step::Head(head)),
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
                // An error is final.
                assert_eq!(decode(buf).err(), Some(error.clone()));
                return Err(error);
            }
        }
    }
}

/// Feeds `parts` in order, draining events after each.
pub fn run<H>(parts: &[&[u8]], decode: &mut Decode<'_, H>) -> Outcome<H> {
    let mut buf = BytesMut::new();
    let mut steps: Vec<Step<H>> = Vec::new();
    for part in parts {
        buf.extend_from_slice(part);
        if let Err(error) = drain(&mut buf, decode, &mut steps) {
            return Outcome {
                steps,
                error: Some(error),
                leftover: Vec::new(),
            };
        }
    }
    Outcome {
        steps,
        error: None,
        leftover: buf.to_vec(),
    }
}

/// Decodes `input` whole, split at every offset, and byte by byte with fresh decoders from
/// `new_decoder`; asserts every run agrees and returns the outcome.
#[track_caller]
pub fn decode_every_split<H: Debug + PartialEq + Clone>(
    input: &[u8],
    new_decoder: &mut dyn FnMut() -> Box<Decode<'static, H>>,
) -> Outcome<H> {
    let whole = run(&[input], &mut *new_decoder());
    for offset in 1..input.len() {
        let (first, second) = input.split_at(offset);
        let split = run(&[first, second], &mut *new_decoder());
        assert_same(&whole, &split, &format!("split at {offset}"));
    }
    let bytes: Vec<&[u8]> = input.chunks(1).collect();
    let trickled = run(&bytes, &mut *new_decoder());
    assert_same(&whole, &trickled, "byte by byte");
    whole
}

#[track_caller]
fn assert_same<H: Debug + PartialEq>(whole: &Outcome<H>, other: &Outcome<H>, how: &str) {
    assert_eq!(whole.error, other.error, "error differs when fed {how}");
    assert_eq!(whole.steps, other.steps, "events differ when fed {how}");
    if whole.error.is_none() {
        assert_eq!(
            whole.leftover, other.leftover,
            "leftover differs when fed {how}"
        );
    }
}

/// [`decode_every_split`] for requests.
#[track_caller]
pub fn requests(input: &[u8], limits: Limits) -> Outcome<RequestHead> {
    decode_every_split(input, &mut || {
        let mut decoder = RequestDecoder::new(limits);
        Box::new(move |buf: &mut BytesMut| decoder.decode(buf))
    })
}

/// [`decode_every_split`] for requests with default limits.
#[track_caller]
pub fn request(input: &[u8]) -> Outcome<RequestHead> {
    requests(input, Limits::default())
}

/// The error a request decodes to (checked at every split).
#[track_caller]
pub fn request_error(input: &[u8]) -> ParseError {
    request(input).unwrap_err()
}

/// [`decode_every_split`] for responses to `method`; the input is followed by the server's close.
#[track_caller]
pub fn responses(input: &[u8], method: Method) -> Outcome<ResponseHead> {
    decode_every_split(input, &mut || {
        let mut decoder = ResponseDecoder::new(Limits::default());
        let method = method.clone();
        Box::new(move |buf: &mut BytesMut| decoder.decode(buf, &method))
    })
}

/// Runs a response decoder over all of `input`, then signals the server's close.
pub fn response_until_close(input: &[u8], method: &Method) -> Outcome<ResponseHead> {
    let mut decoder = ResponseDecoder::new(Limits::default());
    let mut buf = BytesMut::from(input);
    let mut steps = Vec::new();
    let mut result = drain(
        &mut buf,
        &mut |buf: &mut BytesMut| decoder.decode(buf, method),
        &mut steps,
    );
    if result.is_ok() {
        result = drain(
            &mut buf,
            &mut |buf: &mut BytesMut| decoder.decode_eof(buf, method),
            &mut steps,
        );
    }
    Outcome {
        steps,
        error: result.err(),
        leftover: buf.to_vec(),
    }
}

/// A tiny deterministic PRNG (xorshift64*), so that the robustness loops are reproducible.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}
