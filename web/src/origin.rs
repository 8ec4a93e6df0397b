//! Tornado 6.6's cross-origin protection: whether a request that changes state (or opens a
//! WebSocket) comes from a page of this site, judged from the `Sec-Fetch-Site` header browsers
//! send, or from `Origin` where they do not.
//!
//! The rule (Tornado's `_check_cross_origin`), one place for both users:
//!
//! | `Sec-Fetch-Site` | `Origin` | Allowed |
//! |---|---|---|
//! | `same-origin` or `none` (the user typed the URL) | any | yes |
//! | absent (old browser, plain HTTP, or not a browser) | absent | yes: not a browser |
//! | absent | its host and port equal `Host` | yes |
//! | absent | another | only if `check(origin)` says so |
//! | `same-site`, `cross-site` (or anything else) | present | only if `check(origin)` says so |
//! | `same-site`, `cross-site` (or anything else) | absent | no |
//!
//! `check` is [`RequestHandler::check_trusted_origin`](crate::RequestHandler::check_trusted_origin)
//! for ordinary requests (with the `cross_origin_protection` setting) and
//! [`WebSocketHandler::check_origin`](crate::WebSocketHandler::check_origin) for WebSocket
//! upgrades (always: browsers do not apply the same-origin policy to WebSockets); both accept
//! the `trusted_origins` setting's origins by default.

use cyclone_protocol::server::HttpServerRequest;
use http::HeaderName;
use http::header::{HOST, ORIGIN};

use crate::settings::Settings;
use crate::urljoin::scheme_and_netloc;

/// The `Sec-Fetch-Site` request header (Fetch Metadata).
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Why `request` is refused as cross-origin, or `None` if it is allowed (see the module
/// docs); `check` is asked about an `Origin` that does not match the request's host.
pub(crate) fn cross_origin_error(
    request: &HttpServerRequest,
    check: impl FnOnce(&str) -> bool,
) -> Option<String> {
    let origin = header_text(request, &ORIGIN);
    match header_text(request, &SEC_FETCH_SITE).as_deref() {
        Some("same-origin" | "none") => None,
        None => {
            let origin = origin?;
            if origin_matches_host(&origin, request) || check(&origin) {
                None
            } else {
                Some(format!("Origin {origin:?} not allowed"))
            }
        }
        Some(site) => match origin {
            Some(origin) if !origin.is_empty() && check(&origin) => None,
            origin => Some(format!(
                "Sec-Fetch-Site {site} & origin {origin:?} not allowed"
            )),
        },
    }
}

/// Whether `origin` is listed in the `trusted_origins` setting (exactly, as Tornado compares).
pub(crate) fn is_trusted(settings: &Settings, origin: &str) -> bool {
    settings
        .trusted_origins
        .iter()
        .any(|trusted| trusted == origin)
}

/// A header's value as text (repeated fields joined with `,`, as Tornado's `headers.get`
/// joins them; bytes that are not UTF-8 replaced), or `None` when absent.
fn header_text(request: &HttpServerRequest, name: &HeaderName) -> Option<String> {
    let mut values = request.headers().get_all(name).iter();
    let first = values.next()?;
    let mut text = String::from_utf8_lossy(first.as_bytes()).into_owned();
    for value in values {
        text.push(',');
        text.push_str(&String::from_utf8_lossy(value.as_bytes()));
    }
    Some(text)
}

/// Whether the `Origin`'s host and port equal the request's `Host` (case-insensitive). The
/// scheme is not compared, as in Tornado: behind a TLS-terminating proxy the request's own
/// scheme is not known, and browsers that reach this rule (no `Sec-Fetch-Site`) are mostly
/// on plain HTTP. An empty host never matches (Tornado would match an `Origin: null` to a
/// request without `Host`).
fn origin_matches_host(origin: &str, request: &HttpServerRequest) -> bool {
    let Some((_, netloc)) = scheme_and_netloc(origin) else {
        return false;
    };
    let host = request
        .headers()
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .unwrap_or("")
        .trim();
    !netloc.is_empty() && netloc.eq_ignore_ascii_case(host)
}
