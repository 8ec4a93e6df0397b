//! `BodyDecoder` on its own, for the framings a head chooses: chunked bodies (sizes,
//! extensions, trailers), Content-Length and close-delimited bodies. Any split decodes as the
//! whole does, and no body grows past `max_body_size`.

use bytes::BytesMut;
use cyclone_protocol::h1::{BodyDecoder, BodyEvent, BodyFraming, Event, ParseError};

use super::h1::{Outcome, assert_same, largest_body, limits, run};
use super::input::Input;

/// A body event as a message event (a body has no head: `()`).
fn event(
    result: Result<Option<BodyEvent>, impl Into<ParseError>>,
) -> Result<Option<Event<()>>, ParseError> {
    match result {
        Ok(Some(BodyEvent::Data(data))) => Ok(Some(Event::Data(data))),
        Ok(Some(BodyEvent::End { trailers })) => Ok(Some(Event::End { trailers })),
        Ok(None) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Decodes the input's bytes as one body, mostly chunked, under every feeding plan.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let limits = limits(input.byte());
    let framing = match input.byte() % 8 {
        0 => BodyFraming::Length(u64::from(input.u16())),
        1 => BodyFraming::CloseDelimited,
        _ => BodyFraming::Chunked,
    };
    let (_, plans) = super::feed::plans(&mut input);
    let mut whole: Option<Outcome<()>> = None;
    for (index, plan) in plans.iter().enumerate() {
        let decoder = std::cell::RefCell::new(BodyDecoder::new(framing, &limits));
        let mut decode = |buf: &mut BytesMut| event(decoder.borrow_mut().decode(buf));
        let mut at_end = |buf: &mut BytesMut| event(decoder.borrow_mut().decode_eof(buf));
        let outcome = run(plan, &mut decode, Some(&mut at_end), &mut |_| {});
        if let BodyFraming::Chunked | BodyFraming::CloseDelimited = framing {
            assert!(
                largest_body(&outcome) <= limits.max_body_size,
                "a body past max_body_size"
            );
        }
        if outcome.error.is_none() {
            assert!(
                decoder.borrow().is_done(),
                "the peer closed and the body did not end"
            );
        }
        match &whole {
            None => whole = Some(outcome),
            Some(whole) => assert_same(whole, &outcome, index),
        }
    }
}
