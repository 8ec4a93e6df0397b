//! `compress_response`: gzip for whole responses of compressible types, as Tornado's
//! `GZipContentEncoding` (at least 1 KiB, `Vary: Accept-Encoding` always added).

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use http::{HeaderMap, HeaderValue};

/// Bodies shorter than this are not worth compressing (Tornado's `MIN_LENGTH`): 1 KiB.
pub const GZIP_MIN_LENGTH: usize = 1024;

/// Tornado's gzip level: 6.
const GZIP_LEVEL: u32 = 6;

/// Whether a content type is worth compressing (Tornado's `CONTENT_TYPES` and `text/*`).
pub fn compressible_type(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    media.starts_with("text/")
        || matches!(
            media.as_str(),
            "application/javascript"
                | "application/x-javascript"
                | "application/xml"
                | "application/atom+xml"
                | "application/json"
                | "application/xhtml+xml"
                | "image/svg+xml"
        )
}

/// Gzips `body` if the client accepts gzip and it is worth it; sets the header fields.
pub(crate) fn gzip_response(request: &HeaderMap, response: &mut HeaderMap, body: Bytes) -> Bytes {
    let vary = match response.get(VARY).and_then(|value| value.to_str().ok()) {
        Some(existing) => HeaderValue::from_str(&format!("{existing}, Accept-Encoding")).ok(),
        None => Some(HeaderValue::from_static("Accept-Encoding")),
    };
    if let Some(vary) = vary {
        response.insert(VARY, vary);
    }
    let accepts_gzip = request
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("gzip"));
    let content_type = response
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if !accepts_gzip
        || body.len() < GZIP_MIN_LENGTH
        || response.contains_key(CONTENT_ENCODING)
        || !compressible_type(content_type)
    {
        return body;
    }
    let mut encoder = GzEncoder::new(
        Vec::with_capacity(body.len() / 3),
        Compression::new(GZIP_LEVEL),
    );
    if encoder.write_all(&body).is_err() {
        return body;
    }
    match encoder.finish() {
        Ok(compressed) => {
            response.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            Bytes::from(compressed)
        }
        Err(_) => body,
    }
}
