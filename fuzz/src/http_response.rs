//! `ResponseDecoder`: what `AsyncHttpClient` reads from a server, for GET and HEAD requests,
//! ending with the server's close. Any split decodes as the whole does.

use bytes::BytesMut;
use cyclone_protocol::h1::{ResponseDecoder, ResponseHead};
use http::Method;

use super::h1::{Outcome, assert_same, largest_body, limits, run};
use super::input::Input;

/// Decodes the input's bytes as a server's answers, under every feeding plan.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let choice = input.byte();
    let limits = limits(choice);
    let method = match (choice >> 1) % 4 {
        0 => Method::HEAD,
        1 => Method::POST,
        2 => Method::CONNECT,
        _ => Method::GET,
    };
    let (_, plans) = super::feed::plans(&mut input);
    let mut whole: Option<Outcome<ResponseHead>> = None;
    for (index, plan) in plans.iter().enumerate() {
        let decoder = std::cell::RefCell::new(ResponseDecoder::new(limits));
        let mut decode = |buf: &mut BytesMut| decoder.borrow_mut().decode(buf, &method);
        let mut at_end = |buf: &mut BytesMut| decoder.borrow_mut().decode_eof(buf, &method);
        let outcome = run(
            plan,
            &mut decode,
            Some(&mut at_end),
            &mut |head: &ResponseHead| {
                let _ = format!("{head:?}");
            },
        );
        assert!(
            largest_body(&outcome) <= limits.max_body_size,
            "a body past max_body_size"
        );
        match &whole {
            None => whole = Some(outcome),
            Some(whole) => assert_same(whole, &outcome, index),
        }
    }
}
