//! Body framing: chunked bodies with extensions and trailers, their errors and limits, and
//! streaming without buffering.

use bytes::BytesMut;
use cyclone_protocol::h1::{
    BodyDecoder, BodyError, BodyEvent, BodyFraming, Event, Limits, ParseError, RequestDecoder,
};
use http::StatusCode;

use crate::support::{request, request_error, requests};

const CHUNKED: &[u8] = b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

fn chunked(body: &[u8]) -> Vec<u8> {
    [CHUNKED, body].concat()
}

#[test]
fn chunks_with_extensions_and_trailers() {
    let input = chunked(
        b"5;name=value\r\nhello\r\n1 ; a ; b=\"q;uoted\"\r\n \r\nA\r\n0123456789\r\n\
0;last\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n",
    );
    let outcome = request(&input).unwrap_ok();
    assert_eq!(outcome.body(0), b"hello 0123456789");
    let trailers = outcome.trailers(0).expect("trailers");
    assert_eq!(trailers["x-checksum"], "abc");
    assert_eq!(trailers["x-other"], "1");
    assert_eq!(outcome.complete_messages(), 1);
    assert!(outcome.leftover.is_empty());
}

#[test]
fn empty_chunked_body() {
    let outcome = request(&chunked(b"0\r\n\r\n")).unwrap_ok();
    assert_eq!(outcome.body(0), b"");
    assert_eq!(outcome.trailers(0), None);
    // Upper-case hex digits and leading zeros are fine.
    let outcome = request(&chunked(b"00A\r\n0123456789\r\n000\r\n\r\n")).unwrap_ok();
    assert_eq!(outcome.body(0).len(), 10);
    // Trailing whitespace after a size is tolerated.
    let outcome = request(&chunked(b"3 \t\r\nabc\r\n0 \r\n\r\n")).unwrap_ok();
    assert_eq!(outcome.body(0), b"abc");
}

#[test]
fn invalid_chunk_sizes_are_400() {
    let cases: [(&[u8], BodyError); 10] = [
        (b"zz\r\n", BodyError::InvalidChunkSize),
        (b"-1\r\n", BodyError::InvalidChunkSize),
        (b"+1\r\n", BodyError::InvalidChunkSize),
        (b"\r\n", BodyError::InvalidChunkSize),
        (b"5x\r\nhello\r\n0\r\n\r\n", BodyError::InvalidChunkSize),
        (b"5 x\r\nhello\r\n0\r\n\r\n", BodyError::InvalidChunkSize),
        (b"5\nhello\r\n0\r\n\r\n", BodyError::InvalidChunkSize),
        (b"10000000000000000\r\n", BodyError::ChunkSizeOverflow),
        (b"00000000000000001\r\n", BodyError::ChunkSizeOverflow),
        (
            b"5;a\rb\r\nhello\r\n0\r\n\r\n",
            BodyError::InvalidChunkExtension,
        ),
    ];
    for (body, expected) in cases {
        let error = request_error(&chunked(body));
        assert_eq!(
            error,
            ParseError::Body(expected),
            "{:?}",
            String::from_utf8_lossy(body)
        );
        assert_eq!(error.response().status, StatusCode::BAD_REQUEST);
    }
}

#[test]
fn chunk_data_must_end_with_crlf() {
    for body in [
        &b"5\r\nhelloX\r\n0\r\n\r\n"[..],
        b"5\r\nhello\n0\r\n\r\n",
        b"5\r\nhello\rX",
    ] {
        assert_eq!(
            request_error(&chunked(body)),
            ParseError::Body(BodyError::MissingChunkTerminator),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn largest_chunk_size_is_413_not_overflow() {
    let error = request_error(&chunked(b"ffffffffffffffff\r\n"));
    assert_eq!(error, ParseError::Body(BodyError::TooLarge));
    assert_eq!(error.response().status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn chunked_body_over_the_limit_is_413_once_the_sizes_add_up() {
    let mut limits = Limits::default();
    limits.max_body_size = 8;
    let outcome = requests(
        &chunked(b"5\r\nhello\r\n3\r\nabc\r\n1\r\nx\r\n0\r\n\r\n"),
        limits,
    );
    assert_eq!(outcome.unwrap_err(), ParseError::Body(BodyError::TooLarge));
    // The bytes within the limit were delivered before the refusal.
    assert_eq!(outcome.body(0), b"helloabc");
}

#[test]
fn chunk_extensions_are_limited_per_body() {
    let mut limits = Limits::default();
    limits.max_chunk_extensions_size = 10;
    let within = chunked(b"1;abcd\r\na\r\n1;efgh\r\nb\r\n0\r\n\r\n");
    requests(&within, limits).unwrap_ok();
    let over = chunked(b"1;abcd\r\na\r\n1;efgh\r\nb\r\n1;ijkl\r\nc\r\n0\r\n\r\n");
    let error = requests(&over, limits).unwrap_err();
    assert_eq!(error, ParseError::Body(BodyError::ChunkExtensionsTooLarge));
    assert_eq!(error.response().status, StatusCode::BAD_REQUEST);
    // A line that never ends fails once it passes the budget.
    let endless = chunked(format!("1;{}", "e".repeat(20)).as_bytes());
    assert_eq!(
        requests(&endless, limits).unwrap_err(),
        ParseError::Body(BodyError::ChunkExtensionsTooLarge)
    );
}

#[test]
fn trailers_are_limited() {
    let mut limits = Limits::default();
    limits.max_trailer_size = 32;
    let big = chunked(format!("0\r\nX-Big: {}\r\n\r\n", "t".repeat(40)).as_bytes());
    let error = requests(&big, limits).unwrap_err();
    assert_eq!(error, ParseError::Body(BodyError::TrailersTooLarge));
    assert_eq!(
        error.response().status,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let endless = chunked(format!("0\r\nX-Big: {}", "t".repeat(40)).as_bytes());
    assert_eq!(
        requests(&endless, limits).unwrap_err(),
        ParseError::Body(BodyError::TrailersTooLarge)
    );
    limits.max_headers = 2;
    limits.max_trailer_size = 1024;
    let many = chunked(b"0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
    assert_eq!(
        requests(&many, limits).unwrap_err(),
        ParseError::Body(BodyError::TrailersTooLarge)
    );
}

#[test]
fn malformed_trailers_are_400() {
    for trailer in [
        &b"0\r\nBad Name: x\r\n\r\n"[..],
        b"0\r\nX: a\r\n folded\r\n\r\n",
        b"0\r\nX: a\0\r\n\r\n",
    ] {
        let error = request_error(&chunked(trailer));
        assert_eq!(error, ParseError::Body(BodyError::InvalidTrailer));
        assert_eq!(error.response().status, StatusCode::BAD_REQUEST);
    }
}

/// A 4 MiB chunked upload read 16 KiB at a time: the decoder hands out each read as it comes
/// and the read buffer never holds more than one read plus a chunk-size line.
#[test]
fn big_chunked_body_streams_without_buffering() {
    const READ: usize = 16 * 1024;
    const CHUNK: usize = 1024 * 1024;
    const CHUNKS: usize = 4;
    let mut wire = CHUNKED.to_vec();
    for index in 0..CHUNKS {
        wire.extend_from_slice(format!("{CHUNK:x}\r\n").as_bytes());
        wire.extend(std::iter::repeat_n(b'a' + index as u8, CHUNK));
        wire.extend_from_slice(b"\r\n");
    }
    wire.extend_from_slice(b"0\r\n\r\n");

    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::new();
    let mut received = 0usize;
    let mut largest_data = 0usize;
    let mut ended = false;
    for read in wire.chunks(READ) {
        buf.extend_from_slice(read);
        while let Some(event) = decoder.decode(&mut buf).expect("valid body") {
            match event {
                Event::Head(_) => {}
                Event::Data(data) => {
                    assert!(
                        data.iter()
                            .all(|byte| *byte == b'a' + (received / CHUNK) as u8)
                    );
                    received += data.len();
                    largest_data = largest_data.max(data.len());
                }
                Event::End { .. } => ended = true,
            }
        }
        assert!(buf.len() < 16, "the buffer kept {} bytes", buf.len());
    }
    assert!(ended);
    assert_eq!(received, CHUNK * CHUNKS);
    assert!(largest_data <= READ);
}

#[test]
fn big_content_length_body_streams_without_buffering() {
    const READ: usize = 8 * 1024;
    const LENGTH: usize = 1024 * 1024;
    let head = format!("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: {LENGTH}\r\n\r\n");
    let mut decoder = RequestDecoder::default();
    let mut buf = BytesMut::from(head.as_bytes());
    assert!(matches!(decoder.decode(&mut buf), Ok(Some(Event::Head(_)))));
    let mut received = 0;
    let body = vec![b'z'; LENGTH];
    for read in body.chunks(READ) {
        buf.extend_from_slice(read);
        while let Some(event) = decoder.decode(&mut buf).expect("valid body") {
            match event {
                Event::Data(data) => received += data.len(),
                Event::End { .. } => assert_eq!(received, LENGTH),
                Event::Head(_) => panic!("one request"),
            }
        }
        assert!(buf.is_empty());
    }
    assert_eq!(received, LENGTH);
}

#[test]
fn body_decoder_alone() {
    let limits = Limits::default();
    let mut decoder = BodyDecoder::new(BodyFraming::Length(3), &limits);
    let mut buf = BytesMut::from(&b"abcdef"[..]);
    assert_eq!(
        decoder.decode(&mut buf),
        Ok(Some(BodyEvent::Data("abc".into())))
    );
    assert_eq!(
        decoder.decode(&mut buf),
        Ok(Some(BodyEvent::End { trailers: None }))
    );
    assert!(decoder.is_done());
    assert_eq!(decoder.decode(&mut buf), Ok(None));
    assert_eq!(&buf[..], b"def");

    let mut close = BodyDecoder::new(BodyFraming::CloseDelimited, &limits);
    let mut buf = BytesMut::from(&b"until close"[..]);
    assert_eq!(
        close.decode(&mut buf),
        Ok(Some(BodyEvent::Data("until close".into())))
    );
    assert_eq!(close.decode(&mut buf), Ok(None));
    assert_eq!(
        close.decode_eof(&mut buf),
        Ok(Some(BodyEvent::End { trailers: None }))
    );

    let mut short = BodyDecoder::new(BodyFraming::Length(5), &limits);
    let mut buf = BytesMut::from(&b"ab"[..]);
    assert_eq!(
        short.decode_eof(&mut buf),
        Ok(Some(BodyEvent::Data("ab".into())))
    );
    assert_eq!(short.decode_eof(&mut buf), Err(BodyError::Incomplete));

    let mut chunks = BodyDecoder::new(BodyFraming::Chunked, &limits);
    let mut buf = BytesMut::from(&b"2\r\nab"[..]);
    assert_eq!(
        chunks.decode_eof(&mut buf),
        Ok(Some(BodyEvent::Data("ab".into())))
    );
    assert_eq!(chunks.decode_eof(&mut buf), Err(BodyError::Incomplete));
}

/// Found by the `http_chunked` fuzz target: after a chunk size over the limit the size line
/// was already consumed, so the next call found an empty buffer and answered `Ok(None)` as if
/// the body could go on. Errors are final, as the head decoders' are.
#[test]
fn body_decoder_errors_are_final() {
    let limits = Limits::default();
    let mut decoder = BodyDecoder::new(BodyFraming::Chunked, &limits);
    let mut buf = BytesMut::from(&b"ffffffffffffffff\r\n"[..]);
    assert_eq!(decoder.decode(&mut buf), Err(BodyError::TooLarge));
    assert_eq!(decoder.decode(&mut buf), Err(BodyError::TooLarge));
    buf.extend_from_slice(b"more bytes\r\n");
    assert_eq!(decoder.decode_eof(&mut buf), Err(BodyError::TooLarge));
    assert!(!decoder.is_done());

    let mut short = BodyDecoder::new(BodyFraming::Length(5), &limits);
    let mut buf = BytesMut::from(&b""[..]);
    assert_eq!(short.decode_eof(&mut buf), Err(BodyError::Incomplete));
    assert_eq!(short.decode(&mut buf), Err(BodyError::Incomplete));
}

/// Found by the `http_chunked` fuzz target: an extension with a bare CR past the size budget
/// was `ChunkExtensionsTooLarge` while its line was arriving but `InvalidChunkExtension` when
/// it came whole. The rules are now applied left to right as bytes arrive, so the first broken
/// one by position decides, at every split.
#[test]
fn chunk_extension_errors_do_not_depend_on_the_reads() {
    let mut limits = Limits::default();
    limits.max_chunk_extensions_size = 16;
    let input = chunked(b"5;name=value\r\xc6hello\r\n0\r\n\r\n");
    assert_eq!(
        requests(&input, limits).unwrap_err(),
        ParseError::Body(BodyError::InvalidChunkExtension)
    );
    // A bare CR in the extension is that error, not the missing CR before the LF.
    let bare_cr = chunked(b"5;e=1\r&\nhello\r\n0\r\n\r\n");
    assert_eq!(
        requests(&bare_cr, limits).unwrap_err(),
        ParseError::Body(BodyError::InvalidChunkExtension)
    );
    let long = chunked(b"5;name=value-that-is-long\r\n\x01");
    assert_eq!(
        requests(&long, limits).unwrap_err(),
        ParseError::Body(BodyError::ChunkExtensionsTooLarge)
    );
}

/// Found by the `http_chunked` fuzz target: a trailer line with a bad byte, longer than
/// `max_trailer_size`, was `TrailersTooLarge` or `InvalidTrailer` depending on the reads.
#[test]
fn a_bad_trailer_byte_before_the_limit_is_that_error_at_every_split() {
    let mut limits = Limits::default();
    limits.max_trailer_size = 64;
    let input = chunked(format!("0\r\nrTi\u{ff}{}aler: x\r\n\r\n", "y".repeat(80)).as_bytes());
    assert_eq!(
        requests(&input, limits).unwrap_err(),
        ParseError::Body(BodyError::InvalidTrailer)
    );
    let long = chunked(format!("0\r\nX-Long: {}\r\n\r\n", "y".repeat(80)).as_bytes());
    assert_eq!(
        requests(&long, limits).unwrap_err(),
        ParseError::Body(BodyError::TrailersTooLarge)
    );
}

/// Found by the `http_chunked` and `http_response` fuzz targets: a close-delimited body
/// refused every byte of a read that crossed `max_body_size`, so what came before the limit
/// was delivered or not depending on the reads. Now the body up to the limit is delivered
/// and the byte past it is the error, at every split.
#[test]
fn a_close_delimited_body_is_cut_exactly_at_the_limit() {
    let mut limits = Limits::default();
    limits.max_body_size = 10;
    let whole = |pieces: &[&[u8]]| {
        let mut decoder = BodyDecoder::new(BodyFraming::CloseDelimited, &limits);
        let mut buf = BytesMut::new();
        let mut body = Vec::new();
        for piece in pieces {
            buf.extend_from_slice(piece);
            loop {
                match decoder.decode(&mut buf) {
                    Ok(Some(BodyEvent::Data(data))) => body.extend_from_slice(&data),
                    Ok(Some(BodyEvent::End { .. })) => unreachable!("no end before the close"),
                    Ok(None) => break,
                    Err(error) => return (body, Some(error)),
                }
            }
        }
        (body, None)
    };
    let input = b"0123456789abcdef";
    let expected = (b"0123456789".to_vec(), Some(BodyError::TooLarge));
    assert_eq!(whole(&[input]), expected);
    for cut in 1..input.len() {
        assert_eq!(
            whole(&[&input[..cut], &input[cut..]]),
            expected,
            "cut at {cut}"
        );
    }
    assert_eq!(whole(&[b"0123456789"]), (b"0123456789".to_vec(), None));
}
