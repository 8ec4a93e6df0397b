//! The client half of the encoder: request heads and chunked body framing, appended to one
//! write buffer. The codec's `h1` module encodes responses only.

use base64::Engine;
use bytes::{BufMut, BytesMut};
use http::{HeaderMap, HeaderValue, Method};

/// Appends `METHOD target HTTP/1.1`, the fields and the blank line to `buf`.
///
/// `target` is the origin form (`/path?query`), the absolute form for a plain proxy, or the
/// authority form for CONNECT; the URL parser has already percent-encoded it, and `http`'s
/// types guarantee the method token and field bytes are valid, so nothing here can inject a
/// line break.
pub(crate) fn encode_request_head(
    method: &Method,
    target: &str,
    headers: &HeaderMap,
    buf: &mut BytesMut,
) {
    let fields: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    buf.reserve(method.as_str().len() + target.len() + 13 + fields);
    buf.put_slice(method.as_str().as_bytes());
    buf.put_u8(b' ');
    buf.put_slice(target.as_bytes());
    buf.put_slice(b" HTTP/1.1\r\n");
    for (name, value) in headers {
        buf.put_slice(name.as_str().as_bytes());
        buf.put_slice(b": ");
        buf.put_slice(value.as_bytes());
        buf.put_slice(b"\r\n");
    }
    buf.put_slice(b"\r\n");
}

/// Appends one chunk of a chunked body; an empty `data` appends nothing (it would read as the
/// last chunk).
pub(crate) fn encode_chunk(data: &[u8], buf: &mut BytesMut) {
    if data.is_empty() {
        return;
    }
    buf.reserve(data.len() + 20);
    buf.put_slice(format!("{:x}\r\n", data.len()).as_bytes());
    buf.put_slice(data);
    buf.put_slice(b"\r\n");
}

/// Appends the last chunk with no trailers.
pub(crate) fn encode_last_chunk(buf: &mut BytesMut) {
    buf.put_slice(b"0\r\n\r\n");
}

/// The value of a basic `Authorization` or `Proxy-Authorization` field (RFC 7617), or `None`
/// when the credentials hold bytes no field value may carry.
pub(crate) fn basic_credentials(username: &str, password: &str) -> Option<HeaderValue> {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    let mut value = HeaderValue::from_str(&format!("Basic {token}")).ok()?;
    value.set_sensitive(true);
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use http::header::HOST;

    #[test]
    fn head_is_request_line_fields_blank_line() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("example.com"));
        let mut buf = BytesMut::new();
        encode_request_head(&Method::GET, "/a?b=1", &headers, &mut buf);
        assert_eq!(
            &buf[..],
            b"GET /a?b=1 HTTP/1.1\r\nhost: example.com\r\n\r\n"
        );
    }

    #[test]
    fn basic_credentials_are_base64_of_user_colon_password() {
        let value = basic_credentials("Aladdin", "open sesame").unwrap();
        assert_eq!(value, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    }

    #[test]
    fn chunks_are_hex_sized_and_empty_data_is_skipped() {
        let mut buf = BytesMut::new();
        encode_chunk(&[b'x'; 26], &mut buf);
        encode_chunk(b"", &mut buf);
        encode_last_chunk(&mut buf);
        let mut expected = b"1a\r\n".to_vec();
        expected.extend_from_slice(&[b'x'; 26]);
        expected.extend_from_slice(b"\r\n0\r\n\r\n");
        assert_eq!(&buf[..], &expected[..]);
    }
}
