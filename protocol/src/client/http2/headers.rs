//! The request head of one hop as HTTP/2 sends it (RFC 9113 §8.3.1): `Host` becomes the
//! `:authority` pseudo-header, the URL gives `:scheme` and `:path`, and the fields that
//! describe an HTTP/1.1 connection rather than the message are left out (§8.2.2): a request
//! carrying them is malformed, and `h2` refuses to send it.

use http::header::HOST;
use http::uri::{Authority, Uri};
use http::{Method, Request};
use url::Url;

use crate::client::error::HttpClientError;
use crate::client::exchange::RequestHead;
use crate::http2::strip_connection_specific;

/// Builds the `h2` request for `head` (made by `request_head` for `url`).
pub(crate) fn to_request(
    method: &Method,
    url: &Url,
    head: &RequestHead,
) -> Result<Request<()>, HttpClientError> {
    let invalid = |reason: &str| HttpClientError::InvalidUrl {
        url: url.to_string(),
        reason: reason.to_owned(),
    };
    let mut headers = head.headers.clone();
    strip_connection_specific(&mut headers);
    // `request_head` always sets Host (the URL's, or the caller's own); HTTP/2 says it once,
    // as :authority.
    let host = headers.remove(HOST).ok_or_else(|| invalid("no host"))?;
    let authority =
        Authority::try_from(host.as_bytes()).map_err(|_| invalid("Host is not an authority"))?;
    let uri = Uri::builder()
        .scheme(url.scheme())
        .authority(authority)
        .path_and_query(head.target.as_str())
        .build()
        .map_err(|error| invalid(&error.to_string()))?;
    let mut request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .body(())
        .map_err(|error| invalid(&error.to_string()))?;
    *request.headers_mut() = headers;
    Ok(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::header::TE;
    use http::{HeaderMap, HeaderName, HeaderValue};

    fn head(target: &str, fields: &[(&str, &str)]) -> RequestHead {
        let mut headers = HeaderMap::new();
        for (name, value) in fields {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        RequestHead {
            target: target.to_owned(),
            headers,
        }
    }

    #[test]
    fn host_becomes_the_authority_and_the_url_gives_scheme_and_path() {
        let url = Url::parse("https://example.com:8443/a?b=1").unwrap();
        let head = head("/a?b=1", &[("host", "example.com:8443"), ("accept", "*/*")]);
        let request = to_request(&Method::GET, &url, &head).unwrap();
        assert_eq!(request.uri(), "https://example.com:8443/a?b=1");
        assert!(!request.headers().contains_key(HOST));
        assert_eq!(request.headers()["accept"], "*/*");
    }

    #[test]
    fn a_caller_set_host_is_the_authority() {
        let url = Url::parse("http://127.0.0.1:8080/").unwrap();
        let head = head("/", &[("host", "virtual.test")]);
        let request = to_request(&Method::GET, &url, &head).unwrap();
        assert_eq!(request.uri().authority().unwrap(), "virtual.test");
    }

    #[test]
    fn connection_specific_fields_are_stripped() {
        let url = Url::parse("http://a.test/").unwrap();
        let head = head(
            "/",
            &[
                ("host", "a.test"),
                ("connection", "keep-alive, x-hop"),
                ("keep-alive", "timeout=5"),
                ("proxy-connection", "keep-alive"),
                ("transfer-encoding", "chunked"),
                ("upgrade", "websocket"),
                ("x-hop", "1"),
                ("te", "gzip"),
                ("x-kept", "yes"),
            ],
        );
        let request = to_request(&Method::POST, &url, &head).unwrap();
        let names: Vec<&str> = request.headers().keys().map(HeaderName::as_str).collect();
        assert_eq!(names, vec!["x-kept"]);
    }

    #[test]
    fn te_trailers_is_kept() {
        let url = Url::parse("http://a.test/").unwrap();
        let head = head("/", &[("host", "a.test"), ("te", "trailers")]);
        let request = to_request(&Method::GET, &url, &head).unwrap();
        assert_eq!(request.headers()[TE], "trailers");
    }
}
