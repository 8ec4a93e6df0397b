//! The client-side decoder: status lines and RFC 9112 §6.3's message-length rules.

use cyclone_protocol::h1::{BodyError, BodyFraming, ParseError};
use http::{Method, StatusCode, Version};

use crate::support::{response_until_close, responses};

#[test]
fn content_length_response() {
    let outcome = responses(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhelloHTTP/1.1 204 No Content\r\n\r\n",
        Method::GET,
    )
    .unwrap_ok();
    let heads = outcome.heads();
    assert_eq!(heads[0].status, StatusCode::OK);
    assert_eq!(heads[0].version, Version::HTTP_11);
    assert_eq!(heads[0].framing, BodyFraming::Length(5));
    assert!(heads[0].keep_alive);
    assert_eq!(outcome.body(0), b"hello");
    assert_eq!(heads[1].status, StatusCode::NO_CONTENT);
    assert_eq!(outcome.complete_messages(), 2);
}

#[test]
fn chunked_response_with_trailers() {
    let outcome = responses(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nEtag: x\r\n\r\n",
        Method::GET,
    )
    .unwrap_ok();
    assert_eq!(outcome.body(0), b"abc");
    assert_eq!(outcome.trailers(0).unwrap()["etag"], "x");
}

#[test]
fn bodiless_responses_ignore_their_length_fields() {
    let outcome = responses(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        Method::HEAD,
    )
    .unwrap_ok();
    assert_eq!(outcome.heads()[0].framing, BodyFraming::Length(0));
    assert_eq!(outcome.heads()[0].content_length, Some(5));
    assert_eq!(outcome.complete_messages(), 1);
    for status in ["204 No Content", "304 Not Modified"] {
        let input = format!("HTTP/1.1 {status}\r\nContent-Length: 5\r\n\r\n");
        let outcome = responses(input.as_bytes(), Method::GET).unwrap_ok();
        assert_eq!(outcome.complete_messages(), 1);
        assert_eq!(outcome.body(0), b"");
    }
}

#[test]
fn interim_responses_precede_the_final_one() {
    let outcome = responses(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        Method::PUT,
    )
    .unwrap_ok();
    let statuses: Vec<_> = outcome
        .heads()
        .iter()
        .map(|head| head.status.as_u16())
        .collect();
    assert_eq!(statuses, [100, 103, 201]);
    assert_eq!(outcome.body(2), b"ok");
}

#[test]
fn switching_protocols_stops_decoding() {
    let outcome = responses(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
        Method::GET,
    )
    .unwrap_ok();
    assert_eq!(outcome.complete_messages(), 1);
    assert_eq!(outcome.leftover, b"\x81\x05hello");
}

#[test]
fn close_delimited_body_ends_with_the_connection() {
    let outcome =
        response_until_close(b"HTTP/1.0 200 OK\r\n\r\nall of it", &Method::GET).unwrap_ok();
    let head = outcome.heads()[0];
    assert_eq!(head.framing, BodyFraming::CloseDelimited);
    assert!(!head.keep_alive);
    assert_eq!(outcome.body(0), b"all of it");
    assert_eq!(outcome.complete_messages(), 1);

    let gzip = response_until_close(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nraw",
        &Method::GET,
    )
    .unwrap_ok();
    assert_eq!(gzip.heads()[0].framing, BodyFraming::CloseDelimited);

    let cut = response_until_close(
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
        &Method::GET,
    );
    assert_eq!(cut.unwrap_err(), ParseError::Body(BodyError::Incomplete));
    let cut_head = response_until_close(b"HTTP/1.1 200 OK\r\nContent-Le", &Method::GET);
    assert_eq!(
        cut_head.unwrap_err(),
        ParseError::Body(BodyError::Incomplete)
    );
}

#[test]
fn malformed_status_lines() {
    let cases: [(&[u8], ParseError); 4] = [
        (b"HTTP/2.0 200 OK\r\n\r\n", ParseError::UnsupportedVersion),
        (b"HTTP/1.1 2000 OK\r\n\r\n", ParseError::InvalidStatusLine),
        (b"ICY 200 OK\r\n\r\n", ParseError::InvalidStatusLine),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            ParseError::ContentLengthWithTransferEncoding,
        ),
    ];
    for (input, expected) in cases {
        assert_eq!(
            responses(input, Method::GET).unwrap_err(),
            expected,
            "{:?}",
            String::from_utf8_lossy(input)
        );
    }
}

/// Found by the `http_response` fuzz target: a bad byte after a CR in an unfinished head was
/// 400 when it came in one read with the head, and a wait for more when it came later; now
/// both wait for the line's end (and the server's close makes the head incomplete).
#[test]
fn a_broken_partial_line_in_a_response_head_waits_for_its_line_end() {
    let outcome = responses(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\xebok",
        Method::GET,
    );
    assert_eq!(outcome.error, None);
    assert!(outcome.steps.is_empty());
    let cut = response_until_close(
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\xebok",
        &Method::GET,
    );
    assert_eq!(cut.error, Some(ParseError::Body(BodyError::Incomplete)));

    // The same in a trailer section.
    let trailer =
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nEtag: x\r\n\r\xdf";
    assert_eq!(responses(trailer, Method::GET).error, None);
    assert_eq!(
        response_until_close(trailer, &Method::GET).error,
        Some(ParseError::Body(BodyError::Incomplete))
    );
}

/// Found by the `http_response` fuzz target: a status line broken early but longer than
/// `max_head_size` was `InvalidStatusLine` or `HeadTooLarge` depending on the reads.
#[test]
fn a_broken_status_line_longer_than_the_limit_is_that_error_at_every_split() {
    let input = format!("HTTP/1.1 2000 {}\r\n\r\n", "x".repeat(70 * 1024));
    assert_eq!(
        responses(input.as_bytes(), Method::GET).error,
        Some(ParseError::InvalidStatusLine)
    );
}
