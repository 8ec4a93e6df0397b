//! The fields that describe an HTTP/1.1 connection rather than a message, which no HTTP/2
//! message may carry (RFC 9113 §8.2.2): a request holding them is malformed, and `h2` refuses
//! to send it. The client's requests and its WebSocket's extended CONNECT leave them out.

use http::HeaderMap;
use http::HeaderName;
use http::header::{CONNECTION, TE};

/// Connection-specific fields no HTTP/2 message may carry (RFC 9113 §8.2.2), besides `TE`
/// other than `trailers` and whatever `Connection` itself names.
const CONNECTION_SPECIFIC: [&str; 5] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
];

/// Removes the fields RFC 9113 §8.2.2 forbids: the connection-specific ones, those the
/// `Connection` field names, and `TE` unless it is exactly `trailers`.
pub(crate) fn strip_connection_specific(headers: &mut HeaderMap) {
    let nominated: Vec<HeaderName> = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|token| HeaderName::from_bytes(token.trim().as_bytes()).ok())
        .collect();
    for name in nominated {
        headers.remove(name);
    }
    for name in CONNECTION_SPECIFIC {
        headers.remove(name);
    }
    let te_is_trailers = headers
        .get_all(TE)
        .iter()
        .all(|value| value.as_bytes().eq_ignore_ascii_case(b"trailers"));
    if !te_is_trailers {
        headers.remove(TE);
    }
}
