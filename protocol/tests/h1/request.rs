//! Request heads: parsing, the RFC 9112 rules on Host, framing and persistence, and limits.

use bytes::BytesMut;
use cyclone_protocol::h1::{
    BodyFraming, Event, Expectation, Limits, ParseError, RequestDecoder, RequestHead,
};
use http::{Method, StatusCode, Version};

use crate::support::{Step, request, request_error, requests};

fn head(input: &[u8]) -> RequestHead {
    let outcome = request(input).unwrap_ok();
    assert!(
        outcome.complete_messages() >= 1,
        "no complete request in {outcome:?}"
    );
    outcome.heads()[0].clone()
}

#[test]
fn simple_get() {
    let outcome =
        request(b"GET /index.html?a=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n")
            .unwrap_ok();
    assert_eq!(
        outcome.steps.len(),
        2,
        "a head and an end: {:?}",
        outcome.steps
    );
    let Step::Head(head) = &outcome.steps[0] else {
        panic!("head first")
    };
    assert_eq!(head.method, Method::GET);
    assert_eq!(head.uri.path(), "/index.html");
    assert_eq!(head.uri.query(), Some("a=1"));
    assert_eq!(head.version, Version::HTTP_11);
    assert_eq!(head.headers()["host"], "example.com");
    assert_eq!(head.headers()["accept"], "*/*");
    assert_eq!(head.framing, BodyFraming::Length(0));
    assert_eq!(head.content_length, None);
    assert!(head.keep_alive);
    assert_eq!(head.expectation, Expectation::None);
    assert!(!head.upgrade);
    assert_eq!(head.host(), Some("example.com"));
    assert_eq!(outcome.steps[1], Step::End(None));
    assert!(outcome.leftover.is_empty());
}

#[test]
fn header_values_are_trimmed_and_keep_order() {
    let head = head(b"GET / HTTP/1.1\r\nHost: h\r\nX-A: one \t\r\nx-a:two\r\nX-Empty:\r\n\r\n");
    let values: Vec<_> = head.headers().get_all("x-a").iter().collect();
    assert_eq!(values, ["one", "two"]);
    assert_eq!(head.headers()["x-empty"], "");
}

#[test]
fn obs_text_in_values_is_kept() {
    let head = head(b"GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9\r\n\r\n");
    assert_eq!(head.headers()["x-name"].as_bytes(), b"caf\xc3\xa9");
}

#[test]
fn leading_empty_lines_and_bare_lf_are_accepted() {
    let head = head(b"\r\n\nGET / HTTP/1.1\nHost: h\n\n");
    assert_eq!(head.method, Method::GET);
}

#[test]
fn content_length_body() {
    let outcome =
        request(b"POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world")
            .unwrap_ok();
    let head = outcome.heads()[0];
    assert_eq!(head.framing, BodyFraming::Length(11));
    assert_eq!(head.content_length, Some(11));
    assert_eq!(outcome.body(0), b"hello world");
    assert_eq!(outcome.complete_messages(), 1);
}

#[test]
fn identical_content_length_repeats_are_accepted() {
    let outcome = request(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nabcde",
    )
    .unwrap_ok();
    assert_eq!(outcome.body(0), b"abcde");
}

#[test]
fn bad_content_lengths_are_400() {
    for value in [
        "5, 6",
        "+5",
        "-5",
        "5a",
        "",
        " ",
        "0x5",
        "5,",
        "1.0",
        "18446744073709551616",
    ] {
        let input = format!("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: {value}\r\n\r\n");
        let error = request_error(input.as_bytes());
        assert_eq!(
            error.response().status,
            StatusCode::BAD_REQUEST,
            "{value:?}: {error:?}"
        );
    }
    assert_eq!(
        request_error(
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"
        ),
        ParseError::ConflictingContentLength
    );
    assert_eq!(
        request_error(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -5\r\n\r\n"),
        ParseError::InvalidContentLength
    );
}

#[test]
fn content_length_with_transfer_encoding_is_400() {
    let error = request_error(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
    );
    assert_eq!(error, ParseError::ContentLengthWithTransferEncoding);
    assert_eq!(error.response().status, StatusCode::BAD_REQUEST);
    assert!(error.response().close);
}

#[test]
fn transfer_encoding_must_be_exactly_chunked() {
    let cases: [(&str, ParseError); 6] = [
        ("gzip, chunked", ParseError::UnsupportedTransferCoding),
        (
            "gzip\r\nTransfer-Encoding: chunked",
            ParseError::UnsupportedTransferCoding,
        ),
        ("chunked, gzip", ParseError::InvalidTransferEncoding),
        ("gzip", ParseError::InvalidTransferEncoding),
        ("chunked, chunked", ParseError::InvalidTransferEncoding),
        ("", ParseError::InvalidTransferEncoding),
    ];
    for (value, expected) in cases {
        let input = format!("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: {value}\r\n\r\n");
        assert_eq!(request_error(input.as_bytes()), expected, "{value:?}");
    }
    assert_eq!(
        ParseError::UnsupportedTransferCoding.response().status,
        StatusCode::NOT_IMPLEMENTED
    );
    let head = head(b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked \r\n\r\n0\r\n\r\n");
    assert_eq!(head.framing, BodyFraming::Chunked);
}

#[test]
fn transfer_encoding_in_http10_is_400() {
    assert_eq!(
        request_error(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        ParseError::TransferEncodingInHttp10
    );
}

#[test]
fn malformed_field_lines_are_400() {
    let cases: [(&[u8], ParseError); 8] = [
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n folded\r\n\r\n",
            ParseError::InvalidHeaderName,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tfolded\r\n\r\n",
            ParseError::InvalidHeaderName,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A : a\r\n\r\n",
            ParseError::InvalidHeaderName,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: a\r\n\r\n",
            ParseError::InvalidHeaderName,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nna(me: a\r\n\r\n",
            ParseError::InvalidHeaderName,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\rb\r\n\r\n",
            ParseError::InvalidHeaderValue,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n",
            ParseError::InvalidHeaderValue,
        ),
        (
            b"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01b\r\n\r\n",
            ParseError::InvalidHeaderValue,
        ),
    ];
    for (input, expected) in cases {
        let error = request_error(input);
        assert_eq!(error, expected, "{:?}", String::from_utf8_lossy(input));
        assert_eq!(error.response().status, StatusCode::BAD_REQUEST);
    }
    // A field line that starts with whitespace right after the request line is folding too.
    let error = request_error(b"GET / HTTP/1.1\r\n Host: h\r\n\r\n");
    assert_eq!(error.response().status, StatusCode::BAD_REQUEST);
}

#[test]
fn http10_keeps_alive_only_when_asked() {
    assert!(!head(b"GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(head(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    assert!(!head(b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n").keep_alive);
    assert_eq!(head(b"GET / HTTP/1.0\r\n\r\n").version, Version::HTTP_10);
}

#[test]
fn http11_keeps_alive_unless_closed() {
    assert!(head(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
    assert!(!head(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n").keep_alive);
    assert!(!head(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo,  CLOSE \r\n\r\n").keep_alive);
    assert!(
        !head(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: foo\r\nConnection: close\r\n\r\n")
            .keep_alive
    );
    assert!(head(b"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n").keep_alive);
}

#[test]
fn nothing_is_decoded_after_a_closing_request() {
    let pipelined = b"GET /a HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n";
    let outcome = request(pipelined).unwrap_ok();
    assert_eq!(outcome.complete_messages(), 1);
    assert_eq!(outcome.leftover, b"GET /b HTTP/1.1\r\nHost: h\r\n\r\n");

    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::from(&b"GET / HTTP/1.0\r\n\r\nGET / HTTP/1.0\r\n\r\n"[..]);
    assert!(matches!(decoder.decode(&mut buf), Ok(Some(Event::Head(_)))));
    assert!(!decoder.is_closed());
    assert!(matches!(
        decoder.decode(&mut buf),
        Ok(Some(Event::End { .. }))
    ));
    assert!(decoder.is_closed());
    assert_eq!(decoder.decode(&mut buf), Ok(None));
}

#[test]
fn pipelined_requests_in_one_buffer() {
    let input = b"GET /one HTTP/1.1\r\nHost: h\r\n\r\n\
POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc\
POST /three HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nxy\r\n0\r\n\r\n\
HEAD /four HTTP/1.1\r\nHost: h\r\n\r\nGET /fi";
    let outcome = request(input).unwrap_ok();
    let paths: Vec<_> = outcome.heads().iter().map(|head| head.uri.path()).collect();
    assert_eq!(paths, ["/one", "/two", "/three", "/four"]);
    assert_eq!(outcome.complete_messages(), 4);
    assert_eq!(outcome.body(0), b"");
    assert_eq!(outcome.body(1), b"abc");
    assert_eq!(outcome.body(2), b"xy");
    assert!(outcome.heads()[3].response_context().head_request);
    assert_eq!(outcome.leftover, b"GET /fi");
}

#[test]
fn expect_100_continue_is_reported() {
    let head =
        head(b"PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 2\r\n\r\nok");
    assert_eq!(head.expectation, Expectation::Continue);
    assert!(head.expects_continue());
    // Nothing to wait for without a body.
    let empty = self::head(b"PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n");
    assert!(!empty.expects_continue());
    // HTTP/1.0 clients' 100-continue must be ignored (RFC 9110 §10.1.1).
    let old = self::head(b"PUT /f HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n");
    assert_eq!(old.expectation, Expectation::None);
    let unknown = self::head(b"PUT /f HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n");
    assert_eq!(unknown.expectation, Expectation::Unsupported);
}

#[test]
fn absolute_form_takes_the_host_from_the_target() {
    let head = head(b"GET http://example.com:8080/path?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
    assert_eq!(head.host(), Some("example.com:8080"));
    assert_eq!(head.uri.path(), "/path");
    assert_eq!(head.uri.scheme_str(), Some("http"));
    // RFC 9112 §3.2: an HTTP/1.1 request needs a Host field even then.
    assert_eq!(
        request_error(b"GET http://example.com/ HTTP/1.1\r\n\r\n"),
        ParseError::MissingHost
    );
}

#[test]
fn target_forms_belong_to_their_methods() {
    let connect = head(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
    assert_eq!(connect.method, Method::CONNECT);
    assert_eq!(connect.host(), Some("example.com:443"));
    let options = head(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(options.uri, "*");
    for input in [
        &b"GET * HTTP/1.1\r\nHost: h\r\n\r\n"[..],
        b"GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n",
        b"CONNECT /path HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n",
    ] {
        let error = request_error(input);
        assert_eq!(
            error.response().status,
            StatusCode::BAD_REQUEST,
            "{error:?}"
        );
    }
}

#[test]
fn host_is_required_once_in_http11() {
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\n\r\n"),
        ParseError::MissingHost
    );
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
        ParseError::DuplicateHost
    );
    assert_eq!(
        request_error(b"GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n"),
        ParseError::DuplicateHost
    );
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n"),
        ParseError::InvalidHost
    );
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nHost: user@h\r\n\r\n"),
        ParseError::InvalidHost
    );
    assert_eq!(
        head(b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n").host(),
        Some("[::1]:80")
    );
    assert_eq!(head(b"GET / HTTP/1.1\r\nHost:\r\n\r\n").host(), Some(""));
    assert_eq!(head(b"GET / HTTP/1.0\r\n\r\n").host(), None);
}

/// Found by the `host` fuzz target, whose invariant is that every `Host` we accept Tornado
/// 6.6 accepts too: a comma is legal in an RFC 3986 reg-name, but a proxy that joins repeated
/// `Host` lines makes `a, b` of two, so Tornado refuses it and so do we.
#[test]
fn a_host_with_a_comma_is_400() {
    for host in [
        &b"a,b"[..],
        b"a, b",
        b"example.com,evil.example",
        b"[::1],x",
    ] {
        let input = [&b"GET / HTTP/1.1\r\nHost: "[..], host, b"\r\n\r\n"].concat();
        assert_eq!(request_error(&input), ParseError::InvalidHost, "{host:?}");
    }
}

#[test]
fn versions() {
    for input in [
        &b"GET / HTTP/2.0\r\nHost: h\r\n\r\n"[..],
        b"GET / HTTP/1.2\r\nHost: h\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    ] {
        let error = request_error(input);
        assert_eq!(
            error,
            ParseError::UnsupportedVersion,
            "{:?}",
            String::from_utf8_lossy(input)
        );
        assert_eq!(
            error.response().status,
            StatusCode::HTTP_VERSION_NOT_SUPPORTED
        );
    }
    for input in [
        &b"GET /\r\n\r\n"[..],
        b"GET / HTTP/1.10\r\n\r\n",
        b"GET / http/1.1\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1 extra\r\nHost: h\r\n\r\n",
        b"GET  / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"G(T / HTTP/1.1\r\nHost: h\r\n\r\n",
    ] {
        let error = request_error(input);
        assert_eq!(
            error.response().status,
            StatusCode::BAD_REQUEST,
            "{:?}: {error:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn upgrade_requests_are_flagged() {
    let head = head(
        b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    );
    assert!(head.upgrade);
    let no_upgrade_field =
        self::head(b"GET /ws HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n");
    assert!(!no_upgrade_field.upgrade);
}

#[test]
fn extension_methods_are_kept() {
    assert_eq!(
        head(b"PURGE /x HTTP/1.1\r\nHost: h\r\n\r\n")
            .method
            .as_str(),
        "PURGE"
    );
}

#[test]
fn head_limits() {
    let small = {
        let mut limits = Limits::default();
        limits.max_head_size = 64;
        limits.max_request_line_size = 32;
        limits.max_headers = 3;
        limits
    };
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(40));
    let error = requests(long_line.as_bytes(), small).unwrap_err();
    assert_eq!(error, ParseError::RequestLineTooLong);
    assert_eq!(error.response().status, StatusCode::URI_TOO_LONG);
    // A request line that never ends is 414 as soon as it passes the limit.
    let endless = format!("GET /{}", "a".repeat(40));
    assert_eq!(
        requests(endless.as_bytes(), small).unwrap_err(),
        ParseError::RequestLineTooLong
    );
    // Exactly at the limit is fine.
    let exact = format!("GET /{} HTTP/1.1\r\nHost: h\r\n\r\n", "a".repeat(32 - 14));
    requests(exact.as_bytes(), small).unwrap_ok();

    let big = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40)
    );
    let error = requests(big.as_bytes(), small).unwrap_err();
    assert_eq!(error, ParseError::HeadTooLarge);
    assert_eq!(
        error.response().status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let endless = format!("GET / HTTP/1.1\r\nHost: h\r\nX-Big: {}", "b".repeat(60));
    assert_eq!(
        requests(endless.as_bytes(), small).unwrap_err(),
        ParseError::HeadTooLarge
    );

    let many = b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    let error = requests(many, small).unwrap_err();
    assert_eq!(error, ParseError::TooManyHeaders);
    assert_eq!(
        error.response().status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    requests(b"GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", small).unwrap_ok();
}

#[test]
fn default_head_limits() {
    let limits = Limits::default();
    assert_eq!(limits.max_head_size, 64 * 1024);
    assert_eq!(limits.max_headers, 100);
    assert_eq!(limits.max_body_size, 100 * 1024 * 1024);
    let mut input = String::from("GET / HTTP/1.1\r\nHost: h\r\n");
    for index in 0..100 {
        input.push_str(&format!("X-{index}: v\r\n"));
    }
    input.push_str("\r\n");
    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::from(input.as_bytes());
    assert_eq!(decoder.decode(&mut buf), Err(ParseError::TooManyHeaders));

    // More headers than the stack array holds, when configured.
    let mut many = limits;
    many.max_headers = 300;
    let mut decoder = RequestDecoder::new(many);
    let mut buf = BytesMut::from(input.as_bytes());
    let Ok(Some(Event::Head(head))) = decoder.decode(&mut buf) else {
        panic!("200 headers parse with max_headers = 300")
    };
    assert_eq!(head.headers().len(), 101);
}

#[test]
fn content_length_over_the_body_limit_is_413_before_reading() {
    let mut limits = Limits::default();
    limits.max_body_size = 10;
    let error = requests(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n",
        limits,
    )
    .unwrap_err();
    assert_eq!(error, ParseError::ContentLengthTooLarge);
    assert_eq!(error.response().status, StatusCode::PAYLOAD_TOO_LARGE);
    requests(
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789",
        limits,
    )
    .unwrap_ok();
}

#[test]
fn decoder_reports_its_state() {
    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::from(&b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab"[..]);
    assert!(!decoder.is_reading_body());
    assert!(matches!(decoder.decode(&mut buf), Ok(Some(Event::Head(_)))));
    assert!(decoder.is_reading_body());
    assert!(matches!(decoder.decode(&mut buf), Ok(Some(Event::Data(data))) if data == "ab"));
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    buf.extend_from_slice(b"cd");
    assert!(matches!(decoder.decode(&mut buf), Ok(Some(Event::Data(data))) if data == "cd"));
    assert!(matches!(
        decoder.decode(&mut buf),
        Ok(Some(Event::End { trailers: None }))
    ));
    assert!(!decoder.is_reading_body());
    assert!(!decoder.is_closed());
}

#[test]
fn every_error_maps_to_one_answer() {
    use cyclone_protocol::h1::BodyError;
    let table = [
        (ParseError::HeadTooLarge, 431),
        (ParseError::TooManyHeaders, 431),
        (ParseError::RequestLineTooLong, 414),
        (ParseError::InvalidRequestLine, 400),
        (ParseError::UnsupportedVersion, 505),
        (ParseError::InvalidHeaderName, 400),
        (ParseError::MissingHost, 400),
        (ParseError::UnsupportedTransferCoding, 501),
        (ParseError::ContentLengthTooLarge, 413),
        (ParseError::Body(BodyError::TooLarge), 413),
        (ParseError::Body(BodyError::TrailersTooLarge), 431),
        (ParseError::Body(BodyError::InvalidChunkSize), 400),
    ];
    for (error, status) in table {
        let answer = error.response();
        assert_eq!(answer.status.as_u16(), status, "{error:?}");
        assert!(answer.close, "{error:?}");
    }
}

/// Header values, the target and body data point into the read buffer: nothing is copied.
#[test]
fn head_and_body_share_the_read_buffer() {
    let input = b"POST /zero/copy HTTP/1.1\r\nHost: example.com\r\nX-Custom: value\r\nContent-Length: 4\r\n\r\nbody";
    let mut buf = BytesMut::with_capacity(1024);
    buf.extend_from_slice(input);
    let start = buf.as_ptr() as usize;
    let within = |pointer: *const u8| {
        let address = pointer as usize;
        address >= start && address < start + input.len()
    };
    let mut decoder = RequestDecoder::default();
    let Ok(Some(Event::Head(head))) = decoder.decode(&mut buf) else {
        panic!("a head")
    };
    assert!(within(head.headers()["host"].as_bytes().as_ptr()));
    assert!(within(head.headers()["x-custom"].as_bytes().as_ptr()));
    let Ok(Some(Event::Data(data))) = decoder.decode(&mut buf) else {
        panic!("body data")
    };
    assert_eq!(data, "body");
    assert_eq!(data.as_ptr() as usize, start + input.len() - 4);
}

/// The head `before`, `byte`, `after` decodes to, if the decoder accepts it.
fn head_with(before: &[u8], byte: u8, after: &[u8]) -> Option<RequestHead> {
    let mut buf = BytesMut::from(before);
    buf.extend_from_slice(&[byte]);
    buf.extend_from_slice(after);
    match RequestDecoder::default().decode(&mut buf) {
        Ok(Some(Event::Head(head))) => Some(head),
        _ => None,
    }
}

/// The header map is built only when asked for, from bytes the decoder already accepted: every
/// byte the decoder lets through in a field name or value must also be one `http` accepts, or a
/// field would silently go missing from the map.
#[test]
fn every_field_the_decoder_accepts_is_in_the_map() {
    let mut accepted_in_value = 0;
    let mut accepted_in_name = 0;
    for byte in 0..=255u8 {
        if let Some(head) = head_with(b"GET / HTTP/1.1\r\nHost: h\r\nX-T: a", byte, b"a\r\n\r\n") {
            accepted_in_value += 1;
            assert_eq!(head.headers().len(), 2, "byte {byte:#04x} in a value");
            assert_eq!(head.headers()["x-t"].as_bytes(), [b'a', byte, b'a']);
        }

        if byte == b':' {
            continue; // ends the name: not a byte inside one
        }
        if let Some(head) = head_with(b"GET / HTTP/1.1\r\nHost: h\r\nX", byte, b"T: v\r\n\r\n") {
            accepted_in_name += 1;
            assert_eq!(head.headers().len(), 2, "byte {byte:#04x} in a name");
            let name = [b'x', byte.to_ascii_lowercase(), b't'];
            let name = std::str::from_utf8(&name).expect("token bytes are ASCII");
            assert_eq!(head.headers()[name], "v");
        }
    }
    // Tab, space, visible ASCII and obs-text in values; tchar in names.
    assert_eq!(accepted_in_value, 1 + 1 + 94 + 128);
    assert_eq!(accepted_in_name, 15 + 10 + 52);
}

#[test]
fn headers_can_be_changed_before_and_after_they_are_read() {
    let mut untouched = head(b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n");
    untouched
        .headers_mut()
        .insert("x-b", http::HeaderValue::from_static("2"));
    assert_eq!(untouched.headers()["x-a"], "1");
    assert_eq!(untouched.headers()["x-b"], "2");

    let mut read = head(b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\r\n");
    assert_eq!(read.headers().len(), 2);
    read.headers_mut().remove("x-a");
    assert_eq!(read.headers().len(), 1);
    let copy = read.clone();
    assert_eq!(copy, read);
    assert!(copy.headers().get("x-a").is_none());
}

#[test]
fn a_head_without_fields_has_an_empty_map() {
    let head = head(b"GET / HTTP/1.0\r\n\r\n");
    assert!(head.headers().is_empty());
}

/// `header` answers absent names without the map; it must agree with the map on every name.
#[test]
fn single_header_lookups_agree_with_the_map() {
    let input =
        b"GET / HTTP/1.1\r\nHost: h\r\nIF-NONE-MATCH: \"x\"\r\nx-a: 1\r\nCookie: c=1\r\n\r\n";
    let names = [
        "host",
        "if-none-match",
        "x-a",
        "cookie",
        "x-b",
        "accept-encoding",
        "if-match",
        "content-type",
        "x-real-ip",
        "h",
        "hoss",
        "cookies",
    ];
    let fresh = head(input);
    let reference = head(input);
    for name in names {
        let name = http::HeaderName::from_static(name);
        assert_eq!(
            fresh.header(&name),
            reference.headers().get(&name),
            "lookup of {name}"
        );
        assert_eq!(
            fresh.contains_header(&name),
            reference.headers().contains_key(&name)
        );
    }
    assert_eq!(fresh.header(&http::header::IF_NONE_MATCH).unwrap(), "\"x\"");

    // A field added after decoding is found too.
    let mut changed = head(input);
    changed
        .headers_mut()
        .insert("x-b", http::HeaderValue::from_static("2"));
    assert_eq!(
        changed
            .header(&http::HeaderName::from_static("x-b"))
            .unwrap(),
        "2"
    );
}

/// `header_bytes` reads one field from the head's bytes without building the map; it must
/// agree with the map's first value for every name, whatever the case, white space or
/// repetition, and see fields added after decoding.
#[test]
fn raw_header_lookups_agree_with_the_map() {
    let input = b"GET / HTTP/1.1\r\nHost: h\r\nAuthorization:  Bearer  x \r\nX-A: 1\r\nx-a: 2\r\n\
        authorization-extra: no\r\nCookie:c=1\r\nEmpty:\r\n\r\n";
    let names = [
        "host",
        "authorization",
        "x-a",
        "authorization-extra",
        "cookie",
        "empty",
        "x-b",
        "auth",
        "h",
    ];
    for name in names {
        let name = http::HeaderName::from_static(name);
        let fresh = head(input);
        let reference = head(input);
        assert_eq!(
            fresh.header_bytes(&name),
            reference
                .headers()
                .get(&name)
                .map(http::HeaderValue::as_bytes),
            "lookup of {name}"
        );
    }
    let fresh = head(input);
    assert_eq!(
        fresh.header_bytes(&http::header::AUTHORIZATION),
        Some(&b"Bearer  x"[..])
    );
    let mut changed = head(input);
    changed
        .headers_mut()
        .insert("x-b", http::HeaderValue::from_static("3"));
    assert_eq!(
        changed.header_bytes(&http::HeaderName::from_static("x-b")),
        Some(&b"3"[..])
    );
    // A bare LF ends a line as well as CRLF.
    let lf = head(b"GET / HTTP/1.1\nHost: h\nX-A: lf \n\n");
    assert_eq!(
        lf.header_bytes(&http::HeaderName::from_static("x-a")),
        Some(&b"lf"[..])
    );
}

/// Found by the `http_request` fuzz target: httparse judged the partial line after the last
/// LF too, so `\r` followed by a byte other than LF was 400 when the bytes came in one read
/// and nothing (a wait for more) when they came one by one. Now a line is judged when its LF
/// arrives, whatever the reads were (`request` decodes every split and compares).
#[test]
fn a_broken_partial_line_is_judged_when_its_line_ends() {
    let outcome = request(b"GET / HTTP/1.0\r\n\r\x0b");
    assert_eq!(outcome.error, None);
    assert!(outcome.steps.is_empty());
    assert_eq!(
        request_error(b"GET / HTTP/1.0\r\n\r\x0b\n"),
        ParseError::InvalidLineEnding
    );
    assert_eq!(
        request_error(b"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n"),
        ParseError::InvalidHeaderName
    );
}

/// Found by the `http_request` fuzz target: a long line with a bad byte early was
/// `InvalidHeaderName` when its LF came in the same read, and 431 when the buffer passed
/// `max_head_size` before the LF arrived. Past the limit exactly the first `max_head_size`
/// bytes are parsed now, so an error in them wins at every split, and a head that is fine
/// there is 431.
#[test]
fn a_bad_byte_before_the_head_limit_is_that_error_at_every_split() {
    let mut limits = Limits::default();
    limits.max_head_size = 256;
    let bad = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nBad Name{}: v\r\n\r\n",
        "x".repeat(300)
    );
    assert_eq!(
        requests(bad.as_bytes(), limits).unwrap_err(),
        ParseError::InvalidHeaderName
    );
    let long_then_bad = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX-Long: {}\r\nBad Name: v\r\n\r\n",
        "x".repeat(300)
    );
    assert_eq!(
        requests(long_then_bad.as_bytes(), limits).unwrap_err(),
        ParseError::HeadTooLarge
    );
}

/// The first head in `input`, straight from the decoder (the shared helper looks at the
/// fields, which builds the map).
fn fresh_head(input: &[u8]) -> RequestHead {
    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::from(input);
    match decoder.decode(&mut buf) {
        Ok(Some(Event::Head(head))) => head,
        other => panic!("no head: {other:?}"),
    }
}

#[test]
fn preconditions_are_noted_while_decoding() {
    for field in [
        "If-None-Match: \"a\"",
        "if-match: *",
        "IF-RANGE: \"a\"",
        "If-Modified-Since: Tue, 01 Dec 2026 00:00:00 GMT",
        "If-Unmodified-Since: Tue, 01 Dec 2026 00:00:00 GMT",
    ] {
        let input = format!("GET / HTTP/1.1\r\nHost: a\r\n{field}\r\n\r\n");
        assert!(fresh_head(input.as_bytes()).may_be_conditional(), "{field}");
    }
    // Names of the same lengths that are not preconditions.
    let plain = fresh_head(
        b"GET / HTTP/1.1\r\nHost: a\r\nIf-Thing: 1\r\nX-None-Matchy: 1\r\n\
          Transfer-Encodinx: 1\r\nX-Unmodified-Sincx: 1\r\n\r\n",
    );
    assert!(!plain.may_be_conditional());
    // Once the map is built it may be changed: it answers from then on.
    let mut changed = plain.clone();
    changed
        .headers_mut()
        .insert("if-none-match", "\"a\"".parse().unwrap());
    assert!(changed.may_be_conditional());
}
