//! `RequestDecoder`: request heads and bodies (every framing) as a server reads them. Any
//! split decodes as the whole does; no body exceeds `max_body_size`; a head's lazily built
//! header map agrees with the cheap one-field reads made before it was built.

use bytes::BytesMut;
use cyclone_protocol::h1::{RequestDecoder, RequestHead};
use http::HeaderName;

use super::h1::{Outcome, assert_same, largest_body, limits, run};
use super::input::Input;

/// Fields whose one-field read is compared with the map.
const PROBED: [&str; 6] = [
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "content-type",
    "cookie",
];

/// What a handler may ask of a head must not panic, and must agree with itself.
fn inspect(head: &RequestHead) {
    // The one-field reads, before the map is built (a clone keeps the map unbuilt).
    let fresh = head.clone();
    let mut names: Vec<HeaderName> = PROBED
        .iter()
        .map(|name| HeaderName::from_static(name))
        .collect();
    names.extend(head.headers().keys().cloned());
    for name in &names {
        let scanned = fresh.clone().header_bytes(name).map(<[u8]>::to_vec);
        let mapped = head
            .headers()
            .get(name)
            .map(|value| value.as_bytes().to_vec());
        assert_eq!(
            scanned, mapped,
            "header_bytes({name}) disagrees with the map"
        );
        assert_eq!(
            fresh.clone().contains_header(name),
            head.headers().contains_key(name),
            "contains_header({name}) disagrees with the map"
        );
    }
    let _ = head.host();
    let _ = head.expects_continue();
    let _ = head.response_context();
}

/// Decodes the input's bytes as a client's stream of requests, under every feeding plan.
pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let limits = limits(input.byte());
    let (_, plans) = super::feed::plans(&mut input);
    let mut whole: Option<Outcome<RequestHead>> = None;
    for (index, plan) in plans.iter().enumerate() {
        let mut decoder = RequestDecoder::new(limits);
        let mut decode = |buf: &mut BytesMut| decoder.decode(buf);
        let outcome = run(plan, &mut decode, None, &mut inspect);
        for step in &outcome.steps {
            if let super::h1::Step::Head(head) = step {
                assert!(head.headers().len() <= limits.max_headers);
            }
        }
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
