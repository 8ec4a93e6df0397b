//! ETags: the default `compute_etag` (a 64-bit hash of the body) and
//! `check_etag_header` (`If-None-Match`, weak comparison), which turn a repeated GET into 304
//! Not Modified.

use http::header::{ETAG, IF_NONE_MATCH};
use xxhash_rust::xxh3::{Xxh3Default, xxh3_64};

use crate::EntityTag;
use crate::handler::RequestContext;

impl RequestContext {
    /// The default ETag: `"` + the hex XXH3-64 of the body written so far + `"`.
    ///
    /// Tornado hashes the body with SHA-1; an ETag only has to change when the body does
    /// (RFC 9110 §8.8.3), and a 64-bit hash does that for a few dozen instructions where SHA-1
    /// takes about 1 400 for a small body on a CPU without SHA extensions: two versions of one
    /// resource share an ETag with odds of 1 in 2^64. A handler that needs Tornado's exact
    /// values (a cache shared with a Tornado deployment) overrides `compute_etag`.
    pub fn default_etag(&self) -> EntityTag {
        let digest = match self.written() {
            [] => xxh3_64(b""),
            [piece] => xxh3_64(piece),
            pieces => {
                let mut hasher = Xxh3Default::new();
                for piece in pieces {
                    hasher.update(piece);
                }
                hasher.digest()
            }
        };
        EntityTag::from_hash(digest)
    }

    /// Whether the request's `If-None-Match` matches the response's `ETag` field (weakly, as
    /// RFC 9110 says for GET): the client's copy is current (Tornado's `check_etag_header`).
    pub fn check_etag_header(&self) -> bool {
        self.headers()
            .get(ETAG)
            .and_then(|value| EntityTag::new(value.to_str().ok()?).ok())
            .is_some_and(|etag| self.none_match(&etag))
    }

    /// Whether the request's `If-None-Match` matches `etag` (see
    /// [`check_etag_header`](Self::check_etag_header)).
    #[inline]
    pub(crate) fn none_match(&self, etag: &EntityTag) -> bool {
        // Most requests carry no precondition: the decoder already said so.
        self.request().head().may_be_conditional() && self.listed_in_if_none_match(etag)
    }

    /// Whether one of the request's `If-None-Match` fields lists `etag`.
    fn listed_in_if_none_match(&self, etag: &EntityTag) -> bool {
        self.request()
            .headers()
            .get_all(IF_NONE_MATCH)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .any(|value| etag.matches_none_match(value))
    }
}
