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
        // Formatted on the stack, then copied into the string once.
        let mut etag = [b'"'; 42];
        for (pair, byte) in etag[1..41].chunks_exact_mut(2).zip(digest) {
            pair[0] = HEX[usize::from(byte >> 4)];
            pair[1] = HEX[usize::from(byte & 15)];
        }
        // Hex digits and quotes: always UTF-8.
        std::str::from_utf8(&etag).ok().map(str::to_owned)
    }

    /// Whether the request's `If-None-Match` matches the response's `ETag` (weakly, as RFC 9110
    /// says for GET): the client's copy is current (Tornado's `check_etag_header`).
    pub fn check_etag_header(&self) -> bool {
        // Most requests carry no If-None-Match: look there first, without building the
        // request's header map for it.
        if !self.request().head().contains_header(&IF_NONE_MATCH) {
            return false;
        }
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
