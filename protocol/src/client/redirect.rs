//! `follow_redirects`: which responses are followed and what the next request looks like.
//!
//! - 301, 302, 303, 307 and 308 with a `Location` are followed, resolved against the URL that
//!   answered (RFC 3986 §5).
//! - 303 turns anything but HEAD into a bodiless GET; 301 and 302 turn POST into GET (what
//!   browsers and Tornado do); 307 and 308 resend the same method and body.
//! - On a move to another host or port, `auth` credentials and any `Authorization` field are
//!   dropped, so a redirect cannot leak them to a third party; a user-set `Host` is dropped on
//!   every hop.

use http::header::{AUTHORIZATION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::{HeaderMap, Method, StatusCode, header::TRANSFER_ENCODING};
use url::Url;

use super::error::HttpClientError;
use super::request::{HttpRequest, RequestBody};

/// Whether `status` is a redirect this client follows.
pub(crate) fn is_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// The `Location` of a response to follow, if `request` follows redirects and this is one.
pub(crate) fn location_to_follow<'h>(
    request: &HttpRequest,
    status: StatusCode,
    headers: &'h HeaderMap,
) -> Option<&'h http::HeaderValue> {
    if !request.follow_redirects || !is_redirect(status) {
        return None;
    }
    headers.get(http::header::LOCATION)
}

/// The request that follows a redirect from `from` with `status` to `location`.
pub(crate) fn next_request(
    request: &HttpRequest,
    from: &Url,
    status: StatusCode,
    location: &http::HeaderValue,
) -> Result<(HttpRequest, Url), HttpClientError> {
    let invalid = |reason: String| HttpClientError::InvalidUrl {
        url: String::from_utf8_lossy(location.as_bytes()).into_owned(),
        reason,
    };
    let location = location
        .to_str()
        .map_err(|_| invalid("Location is not ASCII".to_owned()))?;
    let to = from
        .join(location)
        .map_err(|error| invalid(error.to_string()))?;

    let mut next = request.clone();
    next.url = to.to_string();
    next.max_redirects = request.max_redirects.saturating_sub(1);
    next.headers.remove(HOST);

    let code = status.as_u16();
    let becomes_get = (code == 303 && request.method != Method::HEAD)
        || (matches!(code, 301 | 302) && request.method == Method::POST);
    if becomes_get {
        next.method = Method::GET;
        next.body = RequestBody::Empty;
        for name in [
            CONTENT_LENGTH,
            CONTENT_TYPE,
            CONTENT_ENCODING,
            TRANSFER_ENCODING,
        ] {
            next.headers.remove(name);
        }
    }

    let same_origin = from.host_str() == to.host_str()
        && from.port_or_known_default() == to.port_or_known_default();
    if !same_origin {
        next.auth = None;
        next.headers.remove(AUTHORIZATION);
    }
    Ok((next, to))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn follow(request: &HttpRequest, code: u16, location: &str) -> (HttpRequest, Url) {
        let from = Url::parse(&request.url).unwrap();
        next_request(
            request,
            &from,
            StatusCode::from_u16(code).unwrap(),
            &HeaderValue::from_str(location).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn relative_locations_resolve_against_the_answering_url() {
        let request = HttpRequest::new("http://a.test/x/y?q=1");
        assert_eq!(follow(&request, 302, "z").1.as_str(), "http://a.test/x/z");
        assert_eq!(follow(&request, 302, "/z").1.as_str(), "http://a.test/z");
        assert_eq!(
            follow(&request, 302, "//b.test/").1.as_str(),
            "http://b.test/"
        );
    }

    #[test]
    fn see_other_and_post_moves_become_get_without_body() {
        let post = HttpRequest::new("http://a.test/")
            .method(Method::POST)
            .body("x")
            .header(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        for code in [301, 302, 303] {
            let (next, _) = follow(&post, code, "/b");
            assert_eq!(next.method, Method::GET);
            assert!(matches!(next.body, RequestBody::Empty));
            assert!(next.headers.get(CONTENT_TYPE).is_none());
        }
        for code in [307, 308] {
            let (next, _) = follow(&post, code, "/b");
            assert_eq!(next.method, Method::POST);
            assert!(matches!(next.body, RequestBody::Bytes(_)));
        }
        let put = HttpRequest::new("http://a.test/")
            .method(Method::PUT)
            .body("x");
        assert_eq!(follow(&put, 302, "/b").0.method, Method::PUT);
        assert_eq!(follow(&put, 303, "/b").0.method, Method::GET);
        let head = HttpRequest::new("http://a.test/").method(Method::HEAD);
        assert_eq!(follow(&head, 303, "/b").0.method, Method::HEAD);
    }

    #[test]
    fn credentials_stay_on_the_same_host_only() {
        let request = HttpRequest::new("http://a.test/")
            .auth("user", "secret")
            .header(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
        let (same, _) = follow(&request, 302, "/next");
        assert!(same.auth.is_some() && same.headers.contains_key(AUTHORIZATION));
        let (other, _) = follow(&request, 302, "http://b.test/");
        assert!(other.auth.is_none() && !other.headers.contains_key(AUTHORIZATION));
        let (other_port, _) = follow(&request, 302, "http://a.test:8080/");
        assert!(other_port.auth.is_none());
        assert_eq!(other.max_redirects, request.max_redirects - 1);
    }
}
