//! Response serialization: status lines, the framing and connection headers the encoder owns,
//! body framing, and answers for errors and expectations.

use bytes::BytesMut;
use cyclone_protocol::h1::{
    BodyLength, CONTINUE_100, DateCache, EncodeError, ErrorResponse, Event, Limits, ParseError,
    RequestDecoder, ResponseContext, encode_response_head,
};
use http::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, DATE, TRANSFER_ENCODING, UPGRADE};
use http::{HeaderMap, HeaderValue, StatusCode, Version};

/// The written bytes with the generated date line checked and removed, so tests can compare
/// exact bytes.
fn without_date(bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec()).expect("ascii");
    let Some(start) = text.find("date: ") else {
        return text;
    };
    let end = start + text[start..].find("\r\n").expect("date line end") + 2;
    assert_eq!(end - start, "date: ".len() + 29 + 2, "an IMF-fixdate");
    assert!(text[start..end].ends_with(" GMT\r\n"));
    format!("{}{}", &text[..start], &text[end..])
}

fn context(version: Version, keep_alive: bool) -> ResponseContext {
    ResponseContext {
        version,
        head_request: false,
        keep_alive,
    }
}

fn text_plain() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    headers
}

#[test]
fn known_length_response() {
    let mut out = BytesMut::new();
    let mut date = DateCache::new();
    let mut body = encode_response_head(
        &ResponseContext::default(),
        StatusCode::OK,
        &text_plain(),
        BodyLength::Known(5),
        &mut date,
        &mut out,
    );
    body.encode_data(b"hel", &mut out).unwrap();
    body.encode_data(b"lo", &mut out).unwrap();
    body.encode_end(None, &mut out).unwrap();
    assert!(body.is_finished());
    assert!(!body.must_close());
    assert_eq!(
        without_date(&out),
        "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello"
    );
    assert!(out.starts_with(b"HTTP/1.1 200 OK\r\ndate: "));
}

#[test]
fn content_length_is_enforced() {
    let mut out = BytesMut::new();
    let mut date = DateCache::new();
    let mut body = encode_response_head(
        &ResponseContext::default(),
        StatusCode::OK,
        &HeaderMap::new(),
        BodyLength::Known(3),
        &mut date,
        &mut out,
    );
    assert_eq!(
        body.encode_data(b"toolong", &mut out),
        Err(EncodeError::BodyTooLong { announced: 3 })
    );
    body.encode_data(b"ab", &mut out).unwrap();
    assert_eq!(
        body.encode_end(None, &mut out),
        Err(EncodeError::BodyTooShort { missing: 1 })
    );
    assert!(body.must_close());
    assert_eq!(
        body.encode_data(b"c", &mut out),
        Err(EncodeError::BodyFinished)
    );
}

#[test]
fn streaming_to_http11_is_chunked_with_trailers() {
    let mut out = BytesMut::new();
    let mut date = DateCache::new();
    let mut body = encode_response_head(
        &ResponseContext::default(),
        StatusCode::OK,
        &HeaderMap::new(),
        BodyLength::Streaming,
        &mut date,
        &mut out,
    );
    body.encode_data(b"hello", &mut out).unwrap();
    body.encode_data(b"", &mut out).unwrap();
    body.encode_data(&[b'x'; 26], &mut out).unwrap();
    let mut trailers = HeaderMap::new();
    trailers.insert("x-checksum", HeaderValue::from_static("abc"));
    body.encode_end(Some(&trailers), &mut out).unwrap();
    assert!(!body.must_close());
    assert_eq!(
        without_date(&out),
        format!(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n1a\r\n{}\r\n0\r\nx-checksum: abc\r\n\r\n",
            "x".repeat(26)
        )
    );
}

#[test]
fn streaming_to_http10_is_close_delimited() {
    let mut out = BytesMut::new();
    let mut date = DateCache::new();
    let mut body = encode_response_head(
        &context(Version::HTTP_10, true),
        StatusCode::OK,
        &HeaderMap::new(),
        BodyLength::Streaming,
        &mut date,
        &mut out,
    );
    body.encode_data(b"abc", &mut out).unwrap();
    body.encode_end(None, &mut out).unwrap();
    assert!(body.must_close());
    assert_eq!(without_date(&out), "HTTP/1.0 200 OK\r\n\r\nabc");
}

#[test]
fn connection_header_follows_the_version_default() {
    let mut date = DateCache::new();
    let cases = [
        (
            Version::HTTP_11,
            true,
            "HTTP/1.1 204 No Content\r\n\r\n",
            false,
        ),
        (
            Version::HTTP_11,
            false,
            "HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n",
            true,
        ),
        (
            Version::HTTP_10,
            true,
            "HTTP/1.0 204 No Content\r\nconnection: keep-alive\r\n\r\n",
            false,
        ),
        (
            Version::HTTP_10,
            false,
            "HTTP/1.0 204 No Content\r\n\r\n",
            true,
        ),
    ];
    for (version, keep_alive, expected, must_close) in cases {
        let mut out = BytesMut::new();
        let body = encode_response_head(
            &context(version, keep_alive),
            StatusCode::NO_CONTENT,
            &HeaderMap::new(),
            BodyLength::Known(0),
            &mut date,
            &mut out,
        );
        assert_eq!(without_date(&out), expected);
        assert_eq!(body.must_close(), must_close, "{expected:?}");
    }
}

#[test]
fn callers_connection_close_is_honoured_once() {
    let mut headers = HeaderMap::new();
    headers.insert(CONNECTION, HeaderValue::from_static("close"));
    let mut out = BytesMut::new();
    let body = encode_response_head(
        &ResponseContext::default(),
        StatusCode::OK,
        &headers,
        BodyLength::Known(0),
        &mut DateCache::new(),
        &mut out,
    );
    assert!(body.must_close());
    assert_eq!(
        without_date(&out),
        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"
    );
}

#[test]
fn framing_fields_from_the_caller_are_replaced() {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("999"));
    headers.insert(TRANSFER_ENCODING, HeaderValue::from_static("gzip"));
    headers.insert(
        DATE,
        HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
    );
    let mut out = BytesMut::new();
    encode_response_head(
        &ResponseContext::default(),
        StatusCode::OK,
        &headers,
        BodyLength::Known(2),
        &mut DateCache::new(),
        &mut out,
    );
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "HTTP/1.1 200 OK\r\ndate: Sun, 06 Nov 1994 08:49:37 GMT\r\ncontent-length: 2\r\n\r\n"
    );
}

#[test]
fn head_responses_carry_the_length_but_no_body() {
    let head_context = ResponseContext {
        head_request: true,
        ..ResponseContext::default()
    };
    let mut out = BytesMut::new();
    let mut body = encode_response_head(
        &head_context,
        StatusCode::OK,
        &HeaderMap::new(),
        BodyLength::Known(5),
        &mut DateCache::new(),
        &mut out,
    );
    body.encode_data(b"hello", &mut out).unwrap();
    body.encode_end(None, &mut out).unwrap();
    assert_eq!(
        without_date(&out),
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n"
    );

    // Streaming: the caller's Content-Length (if any) describes the body not sent.
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("42"));
    let mut out = BytesMut::new();
    encode_response_head(
        &head_context,
        StatusCode::OK,
        &headers,
        BodyLength::Streaming,
        &mut DateCache::new(),
        &mut out,
    );
    assert_eq!(
        without_date(&out),
        "HTTP/1.1 200 OK\r\ncontent-length: 42\r\n\r\n"
    );
}

#[test]
fn bodiless_statuses() {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("42"));
    let mut out = BytesMut::new();
    let mut body = encode_response_head(
        &ResponseContext::default(),
        StatusCode::NO_CONTENT,
        &headers,
        BodyLength::Streaming,
        &mut DateCache::new(),
        &mut out,
    );
    body.encode_data(b"dropped", &mut out).unwrap();
    body.encode_end(None, &mut out).unwrap();
    assert_eq!(without_date(&out), "HTTP/1.1 204 No Content\r\n\r\n");

    let mut out = BytesMut::new();
    encode_response_head(
        &ResponseContext::default(),
        StatusCode::NOT_MODIFIED,
        &headers,
        BodyLength::Known(0),
        &mut DateCache::new(),
        &mut out,
    );
    assert_eq!(
        without_date(&out),
        "HTTP/1.1 304 Not Modified\r\ncontent-length: 42\r\n\r\n"
    );

    let mut switching = HeaderMap::new();
    switching.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    switching.insert(UPGRADE, HeaderValue::from_static("websocket"));
    let mut out = BytesMut::new();
    encode_response_head(
        &ResponseContext::default(),
        StatusCode::SWITCHING_PROTOCOLS,
        &switching,
        BodyLength::Known(0),
        &mut DateCache::new(),
        &mut out,
    );
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n"
    );
}

#[test]
fn unknown_status_has_an_empty_reason() {
    let mut out = BytesMut::new();
    encode_response_head(
        &ResponseContext::default(),
        StatusCode::from_u16(599).unwrap(),
        &HeaderMap::new(),
        BodyLength::Known(0),
        &mut DateCache::new(),
        &mut out,
    );
    assert!(out.starts_with(b"HTTP/1.1 599 \r\n"));
}

#[test]
fn pipelined_responses_share_one_write_buffer() {
    let mut decoder = RequestDecoder::new(Limits::default());
    let mut read = BytesMut::from(
        &b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nHEAD /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"[..],
    );
    let mut write = BytesMut::new();
    let mut date = DateCache::new();
    let mut closes = Vec::new();
    while let Some(event) = decoder.decode(&mut read).unwrap() {
        if let Event::Head(head) = event {
            let path = head.uri.path().as_bytes().to_vec();
            let mut body = encode_response_head(
                &head.response_context(),
                StatusCode::OK,
                &HeaderMap::new(),
                BodyLength::Known(path.len() as u64),
                &mut date,
                &mut write,
            );
            body.encode_data(&path, &mut write).unwrap();
            body.encode_end(None, &mut write).unwrap();
            closes.push(body.must_close());
        }
    }
    assert_eq!(closes, [false, false, true]);
    assert_eq!(
        without_date(without_date(without_date(&write).as_bytes()).as_bytes()),
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n/a\
HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n\
HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n/c"
    );
}

#[test]
fn error_and_expectation_answers() {
    assert_eq!(CONTINUE_100, b"HTTP/1.1 100 Continue\r\n\r\n");
    let mut out = BytesMut::new();
    let mut date = DateCache::new();
    ParseError::HeadTooLarge
        .response()
        .encode(&mut date, &mut out);
    assert_eq!(
        without_date(&out),
        "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
    let mut out = BytesMut::new();
    ErrorResponse::EXPECTATION_FAILED.encode(&mut date, &mut out);
    assert_eq!(
        without_date(&out),
        "HTTP/1.1 417 Expectation Failed\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    );
}

#[test]
fn streaming_with_the_callers_content_length_is_not_chunked() {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_LENGTH, HeaderValue::from_static("8"));
    let mut out = BytesMut::new();
    let mut body = encode_response_head(
        &ResponseContext::default(),
        StatusCode::OK,
        &headers,
        BodyLength::Streaming,
        &mut DateCache::new(),
        &mut out,
    );
    body.encode_data(b"abcd", &mut out).unwrap();
    body.encode_data(b"efgh", &mut out).unwrap();
    assert_eq!(
        body.encode_data(b"i", &mut out),
        Err(EncodeError::BodyTooLong { announced: 8 })
    );
    body.encode_end(None, &mut out).unwrap();
    assert!(!body.must_close());
    assert_eq!(
        without_date(&out),
        "HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nabcdefgh"
    );

    // A short body cannot be fixed: the connection closes.
    let mut out = BytesMut::new();
    let mut body = encode_response_head(
        &ResponseContext::default(),
        StatusCode::OK,
        &headers,
        BodyLength::Streaming,
        &mut DateCache::new(),
        &mut out,
    );
    body.encode_data(b"abc", &mut out).unwrap();
    assert_eq!(
        body.encode_end(None, &mut out),
        Err(EncodeError::BodyTooShort { missing: 5 })
    );
    assert!(body.must_close());

    // A value that is not one number is ignored: chunked, and the field dropped.
    for bad in ["", "8, 8", "-1", "eight"] {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static(bad));
        let mut out = BytesMut::new();
        encode_response_head(
            &ResponseContext::default(),
            StatusCode::OK,
            &headers,
            BodyLength::Streaming,
            &mut DateCache::new(),
            &mut out,
        );
        assert_eq!(
            without_date(&out),
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            "{bad:?}"
        );
    }
}
