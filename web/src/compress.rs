//! `compress_response`: gzip for responses of compressible types, as Tornado's
//! `GZipContentEncoding` (`Vary: Accept-Encoding` always added). A whole response is gzipped
//! from 1 KiB; a streamed (flushed) one always, as one gzip stream with a sync flush at each
//! `flush`, so the client can inflate every piece as it arrives.

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use http::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY};
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

/// Adds `Accept-Encoding` to the response's `Vary` (the answer depends on it either way).
fn add_vary(response: &mut HeaderMap) {
    let vary = match response.get(VARY).and_then(|value| value.to_str().ok()) {
        Some(existing) => HeaderValue::from_str(&format!("{existing}, Accept-Encoding")).ok(),
        None => Some(HeaderValue::from_static("Accept-Encoding")),
    };
    if let Some(vary) = vary {
        response.insert(VARY, vary);
    }
}

/// Whether the client accepts gzip and the response is of a type worth compressing and not
/// encoded already.
fn worth_gzipping(request: &HeaderMap, response: &HeaderMap) -> bool {
    let accepts_gzip = request
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("gzip"));
    let content_type = response
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    accepts_gzip && !response.contains_key(CONTENT_ENCODING) && compressible_type(content_type)
}

/// Gzips `body` if the client accepts gzip and it is worth it; sets the header fields.
pub(crate) fn gzip_response(request: &HeaderMap, response: &mut HeaderMap, body: Bytes) -> Bytes {
    add_vary(response);
    if body.len() < GZIP_MIN_LENGTH || !worth_gzipping(request, response) {
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

/// One streamed response's gzip stream: what was written since the last flush goes in, and a
/// sync flush makes everything so far decodable by the client.
pub(crate) struct GzipStream {
    /// The encoder; its output is taken after every flush, so it holds one flush's bytes.
    encoder: GzEncoder<Vec<u8>>,
}

impl GzipStream {
    /// Called with the head of a streamed response: adds `Vary`, and if the stream is worth
    /// gzipping sets `Content-Encoding: gzip` (dropping any `Content-Length`, which would
    /// count the uncompressed bytes) and returns the stream to send the body through.
    pub(crate) fn start(request: &HeaderMap, response: &mut HeaderMap) -> Option<GzipStream> {
        add_vary(response);
        if !worth_gzipping(request, response) {
            return None;
        }
        response.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        response.remove(CONTENT_LENGTH);
        Some(GzipStream {
            encoder: GzEncoder::new(Vec::new(), Compression::new(GZIP_LEVEL)),
        })
    }

    /// Compresses `pieces` and sync-flushes: the bytes to send now.
    pub(crate) fn flush(
        &mut self,
        pieces: impl Iterator<Item = Bytes>,
    ) -> Result<Bytes, std::io::Error> {
        for piece in pieces {
            self.encoder.write_all(&piece)?;
        }
        self.encoder.flush()?;
        Ok(Bytes::from(std::mem::take(self.encoder.get_mut())))
    }

    /// Compresses `pieces` and ends the stream (the gzip trailer): the last bytes to send.
    pub(crate) fn finish(
        mut self,
        pieces: impl Iterator<Item = Bytes>,
    ) -> Result<Bytes, std::io::Error> {
        for piece in pieces {
            self.encoder.write_all(&piece)?;
        }
        self.encoder.finish().map(Bytes::from)
    }
}
