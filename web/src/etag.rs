//! ETags: Tornado's default `compute_etag` (the SHA-1 of the body) and `check_etag_header`
//! (`If-None-Match`, weak comparison), which turn a repeated GET into 304 Not Modified.

use http::header::{ETAG, IF_NONE_MATCH};
use sha1::{Digest, Sha1};

use crate::handler::RequestContext;

impl RequestContext {
    /// Tornado's default ETag: `"` + the hex SHA-1 of the body written so far + `"`.
    pub fn default_etag(&self) -> Option<String> {
        let mut hasher = Sha1::new();
        for piece in self.written() {
            hasher.update(piece);
        }
        let digest = hasher.finalize();
        let mut etag = Vec::with_capacity(42);
        etag.push(b'"');
        for byte in digest {
            etag.push(HEX[usize::from(byte >> 4)]);
            etag.push(HEX[usize::from(byte & 15)]);
        }
        etag.push(b'"');
        // Hex digits and quotes: always UTF-8.
        let etag = String::from_utf8(etag).ok()?;
        Some(etag)
    }

    /// Whether the request's `If-None-Match` matches the response's `ETag` (weakly, as RFC 9110
    /// says for GET): the client's copy is current (Tornado's `check_etag_header`).
    pub fn check_etag_header(&self) -> bool {
        // Most requests carry no If-None-Match: look there first.
        let mut candidates = self
            .request()
            .headers()
            .get_all(IF_NONE_MATCH)
            .iter()
            .peekable();
        if candidates.peek().is_none() {
            return false;
        }
        let Some(etag) = self
            .headers()
            .get(ETAG)
            .and_then(|value| value.to_str().ok())
        else {
            return false;
        };
        let etag = strip_weak(etag);
        candidates
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .any(|candidate| candidate == "*" || strip_weak(candidate) == etag)
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn strip_weak(etag: &str) -> &str {
    etag.strip_prefix("W/").unwrap_or(etag)
}
